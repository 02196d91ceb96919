/* SPDX-License-Identifier: MIT */
/*
 * shmq-bench transports: making a run of one transport (shmq region,
 * raw ring, pipe, unix socket pair, TCP over loopback or over a veth pair
 * between namespaces), opening a worker's side of it, releasing it.
 */
#include "bench.h"

static size_t ring_bytes(void)
{
	return cfg.msg <= 4096 ? (size_t)256 << 10 : (size_t)1 << 20;
}

/* Raw ring geometry, computed once so the raw loops stay minimal. */
size_t g_raw_slot;
uint64_t g_raw_nslots;

void raw_geometry(void)
{
	uint64_t n;

	g_raw_slot = (cfg.msg + 63) & ~(size_t)63;
	n = ring_bytes() / g_raw_slot;
	while (n & (n - 1))
		n &= n - 1;
	g_raw_nslots = n < 2 ? 2 : n;
}

static struct raw_ring *raw_dir(struct run *r, int dir)
{
	return (struct raw_ring *)(r->raw + (size_t)dir * (r->raw_len / 2));
}

int run_prepare(struct run *r, enum tp tp)
{
	memset(r, 0, sizeof(*r));
	r->tp = tp;
	r->lfd = -1;
	for (int i = 0; i < 2; i++)
		r->fd[i][0] = r->fd[i][1] = -1;
	switch (r->tp) {
	case T_SHMQ: {
		uint32_t cap = (uint32_t)(cfg.msg + 64 > ring_bytes() / 4 ? 4 * (cfg.msg + 64) : ring_bytes());

		while (cap & (cap - 1))
			cap &= cap - 1, cap <<= 1;
		r->region = shmq_region_create(shmq_region_bytes(1, cap), 0, NULL, NULL);
		if (!r->region || shmq_region_layout(r->region, 1, cap) ||
		    shmq_pair_init(r->region, 0, SHMQ_MODE_MSG))
			return -1;
		r->efd[0] = eventfd(0, EFD_NONBLOCK);
		r->efd[1] = eventfd(0, EFD_NONBLOCK);
		return r->efd[0] < 0 || r->efd[1] < 0 ? -1 : 0;
	}
	case T_SSTREAM:
	case T_SPOOL: {
		/* The same largest size both ways: the pool ring starts in its
		 * 4 KiB slot area and grows to it. */
		uint32_t cap = (uint32_t)(cfg.msg * 4 > ring_bytes() ? ring_bytes() * 4 : ring_bytes());
		int rc;

		if (r->tp == T_SSTREAM) {
			r->region = shmq_region_create(shmq_region_bytes(1, cap), 0, NULL, NULL);
			rc = r->region ? shmq_region_layout(r->region, 1, cap) : -1;
		} else {
			r->region = shmq_region_create(shmq_region_bytes(1, 4096) + 4 * (size_t)cap,
						       0, NULL, NULL);
			rc = r->region ? shmq_region_layout_pool(r->region, 1, 4096,
								 cap / 64 < 4096 ? 4096 : cap / 64, cap)
				       : -1;
		}
		if (rc || shmq_pair_init(r->region, 0, SHMQ_MODE_STREAM))
			return -1;
		r->efd[0] = eventfd(0, EFD_NONBLOCK);
		r->efd[1] = eventfd(0, EFD_NONBLOCK);
		return r->efd[0] < 0 || r->efd[1] < 0 ? -1 : 0;
	}
	case T_RAW: {
		size_t one = sizeof(struct raw_ring) + raw_nslots() * raw_slot();

		one = (one + 4095) & ~(size_t)4095;
		r->raw_len = 2 * one;
		r->raw = mmap(NULL, r->raw_len, PROT_READ | PROT_WRITE,
			      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
		if (r->raw == MAP_FAILED) {
			r->raw = NULL;
			return -1;
		}
		return 0;
	}
	case T_PIPE: {
		int a[2], b[2];

		if (pipe(a) || pipe(b))
			return -1;
		r->fd[0][1] = a[1], r->fd[1][0] = a[0];  /* 0 -> 1 */
		r->fd[1][1] = b[1], r->fd[0][0] = b[0];  /* 1 -> 0 */
		return 0;
	}
	case T_UNIX: {
		int sv[2];

		if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv))
			return -1;
		r->fd[0][0] = r->fd[0][1] = sv[0];
		r->fd[1][0] = r->fd[1][1] = sv[1];
		return 0;
	}
	case T_TCP: {
		socklen_t sl = sizeof(r->addr);

		r->addr.sin_family = AF_INET;
		r->addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		r->lfd = socket(AF_INET, SOCK_STREAM, 0);
		if (r->lfd < 0 || bind(r->lfd, (struct sockaddr *)&r->addr, sizeof(r->addr)) ||
		    listen(r->lfd, 1) || getsockname(r->lfd, (struct sockaddr *)&r->addr, &sl))
			return -1;
		return 0;
	}
	case T_VETH:
		r->addr.sin_family = AF_INET;
		r->addr.sin_port = htons(17311);
		inet_pton(AF_INET, "10.211.0.1", &r->addr.sin_addr);
		return ns_setup();
	default:
		return -1;
	}
}

void run_release(struct run *r)
{
	if (r->region)
		shmq_region_close(r->region);
	if (tp_shmq(r->tp)) {
		close(r->efd[0]);
		close(r->efd[1]);
	}
	if (r->raw)
		munmap(r->raw, r->raw_len);
	for (int i = 0; i < 2; i++) {
		if (r->fd[i][0] >= 0)
			close(r->fd[i][0]);
		if (r->fd[i][1] >= 0 && r->fd[i][1] != r->fd[i][0])
			close(r->fd[i][1]);
	}
	if (r->lfd >= 0)
		close(r->lfd);
	if (r->tp == T_VETH)
		ns_cleanup();
}

void side_open(struct run *r, int s, struct side *sd)
{
	memset(sd, 0, sizeof(*sd));
	sd->s = s;
	sd->rfd = sd->wfd = -1;
	switch (r->tp) {
	case T_SHMQ:
	case T_SSTREAM:
	case T_SPOOL:
		/* Map the memfd anew, as a peer process would. */
		sd->region = shmq_region_map(shmq_region_fd(r->region));
		if (!sd->region)
			die("map: %s", strerror(errno));
		sd->ep = shmq_ep_attach(sd->region, 0, (unsigned)s);
		if (!sd->ep)
			die("attach: %s", strerror(errno));
		shmq_ep_set_fds(sd->ep, r->efd[s], r->efd[!s], -1, SHMQ_PEER_NONE);
		break;
	case T_RAW:
		sd->tx = raw_dir(r, s);
		sd->rx = raw_dir(r, !s);
		break;
	case T_PIPE:
	case T_UNIX:
		sd->rfd = r->fd[s][0];
		sd->wfd = r->fd[s][1];
		/* The peer's ends must not stay open here, or EOF never comes. */
		close(r->fd[!s][0]);
		if (r->fd[!s][1] != r->fd[!s][0])
			close(r->fd[!s][1]);
		break;
	case T_TCP:
	case T_VETH: {
		int one = 1, fd;

		if (r->tp == T_VETH)
			ns_enter(s ? 1 : 2);
		if (s == 1) {
			int l = r->lfd;

			if (r->tp == T_VETH) {
				l = socket(AF_INET, SOCK_STREAM, 0);
				setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
				if (l < 0 || bind(l, (struct sockaddr *)&r->addr, sizeof(r->addr)) ||
				    listen(l, 1))
					die("listen: %s", strerror(errno));
			}
			fd = accept(l, NULL, NULL);
			if (fd < 0)
				die("accept: %s", strerror(errno));
			if (l != r->lfd)
				close(l);
		} else {
			uint64_t t0 = now_ns();

			for (;;) {
				fd = socket(AF_INET, SOCK_STREAM, 0);
				if (fd < 0)
					die("socket: %s", strerror(errno));
				if (connect(fd, (struct sockaddr *)&r->addr, sizeof(r->addr)) == 0)
					break;
				close(fd);
				if (now_ns() - t0 > 5000000000u)
					die("connect: %s", strerror(errno));
				usleep(10000);
			}
		}
		if (cfg.mode == PINGPONG)
			setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		sd->rfd = sd->wfd = fd;
		break;
	}
	default:
		break;
	}
}

void side_close(struct side *sd, enum tp tp)
{
	if (tp_shmq(tp)) {
		shmq_ep_close(sd->ep);
		shmq_region_close(sd->region);
	} else if (tp == T_RAW) {
		/* Release: pairs with the acquire load of `done` in raw_recv(). */
		atomic_store_explicit(&sd->tx->done, 1, memory_order_release);
	} else if (sd->wfd >= 0) {
		shutdown(sd->wfd, SHUT_WR);
		close(sd->wfd);
		if (sd->rfd != sd->wfd)
			close(sd->rfd);
	}
}
