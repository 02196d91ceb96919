/* SPDX-License-Identifier: MIT */
#include "shmq_testlib.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/pidfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "shmq_private.h"

const unsigned t_region_flags[2] = { 0, SHMQ_REGION_NO_HUGETLB };

void t_state(const struct shmq_ep *ep, char *buf, size_t len)
{
	if (!ep) {
		snprintf(buf, len, "no endpoint");
		return;
	}
	snprintf(buf, len,
		 "mode=%u broken=%d shut=%d tx{cap=%llu head=%llu pub=%llu peer=%llu "
		 "shared prod=%llu cons=%llu} rx{head=%llu pub=%llu peer=%llu shared "
		 "prod=%llu cons=%llu}",
		 ep->mode, ep->broken, ep->shut, (unsigned long long)ep->tx.cap,
		 (unsigned long long)ep->tx.head, (unsigned long long)ep->tx.published,
		 (unsigned long long)ep->tx.peer,
		 (unsigned long long)atomic_load(&ep->tx.hdr->prod),
		 (unsigned long long)atomic_load(&ep->tx.hdr->cons),
		 (unsigned long long)ep->rx.head, (unsigned long long)ep->rx.published,
		 (unsigned long long)ep->rx.peer,
		 (unsigned long long)atomic_load(&ep->rx.hdr->prod),
		 (unsigned long long)atomic_load(&ep->rx.hdr->cons));
}

static void attach(struct t_pair *p)
{
	p->a = shmq_ep_attach(p->r, 0, 0);
	ck_assert_msg(p->a, "attach side 0: %s", strerror(errno));
	p->b = shmq_ep_attach(p->r, 0, 1);
	ck_assert_msg(p->b, "attach side 1: %s", strerror(errno));
	ck_assert_int_eq(shmq_ep_set_fds(p->a, p->efd_a, p->efd_b, -1, SHMQ_PEER_NONE), 0);
	ck_assert_int_eq(shmq_ep_set_fds(p->b, p->efd_b, p->efd_a, -1, SHMQ_PEER_NONE), 0);
}

void t_pair_open(struct t_pair *p, uint32_t cap, enum shmq_mode mode, unsigned region_flags)
{
	size_t sz = shmq_region_bytes(1, cap);

	ck_assert(sz > 0);
	p->r = shmq_region_create(sz, region_flags, NULL, NULL);
	ck_assert_msg(p->r, "region_create: %s", strerror(errno));
	ck_assert_int_eq(shmq_region_layout(p->r, 1, cap), 0);
	ck_assert_int_eq(shmq_pair_init(p->r, 0, mode), 0);
	p->efd_a = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	p->efd_b = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	ck_assert(p->efd_a >= 0 && p->efd_b >= 0);
	attach(p);
}

void t_pair_reset(struct t_pair *p, enum shmq_mode mode)
{
	shmq_ep_close(p->a);
	shmq_ep_close(p->b);
	ck_assert_int_eq(shmq_pair_init(p->r, 0, mode), 0);
	attach(p);
}

void t_pair_close(struct t_pair *p)
{
	shmq_ep_close(p->a);
	shmq_ep_close(p->b);
	shmq_region_close(p->r);
	close(p->efd_a);
	close(p->efd_b);
	memset(p, 0, sizeof(*p));
}

int t_send_fds(int sock, const int *fds, int n, uint32_t tag)
{
	char cbuf[CMSG_SPACE(sizeof(int) * 8)];
	struct iovec iov = { .iov_base = &tag, .iov_len = sizeof(tag) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *c;

	if (n > 8)
		return -EINVAL;
	memset(cbuf, 0, sizeof(cbuf));
	if (n > 0) {
		mh.msg_control = cbuf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)n);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)n);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * (size_t)n);
	}
	return sendmsg(sock, &mh, MSG_NOSIGNAL) == (ssize_t)sizeof(tag) ? 0 : -errno;
}

int t_recv_fds(int sock, int *fds, int n, uint32_t *tag)
{
	char cbuf[CMSG_SPACE(sizeof(int) * 8)];
	struct iovec iov = { .iov_base = tag, .iov_len = sizeof(*tag) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *c;
	ssize_t r;

	if (n > 8)
		return -EINVAL;
	r = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
	if (r != (ssize_t)sizeof(*tag))
		return r < 0 ? -errno : -EPROTO;
	if (n == 0)
		return 0;
	c = CMSG_FIRSTHDR(&mh);
	if (!c || c->cmsg_type != SCM_RIGHTS || c->cmsg_len != CMSG_LEN(sizeof(int) * (size_t)n))
		return -EPROTO;
	memcpy(fds, CMSG_DATA(c), sizeof(int) * (size_t)n);
	return 0;
}

uint64_t t_hash(uint64_t h, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= UINT64_C(0x100000001b3);
	}
	return h;
}

long t_hugepages_free(void)
{
	FILE *f = fopen("/proc/meminfo", "r");
	char line[128];
	long v = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "HugePages_Free: %ld", &v) == 1)
			break;
	fclose(f);
	return v;
}

void t_write_all(struct shmq_ep *ep, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len) {
		ssize_t n = shmq_write(ep, p, len);

		if (n == -EAGAIN) {
			int m = shmq_wait(ep, SHMQ_POLLOUT, 10000);

			VERIFY(ep, m > 0, "wait for space: %d", m);
			continue;
		}
		VERIFY(ep, n > 0, "write: %zd", n);
		p += n;
		len -= (size_t)n;
	}
}

void t_read_all(struct shmq_ep *ep, void *buf, size_t len)
{
	uint8_t *p = buf;

	while (len) {
		ssize_t n = shmq_read(ep, p, len, 0);

		if (n == -EAGAIN) {
			int m = shmq_wait(ep, SHMQ_POLLIN, 10000);

			VERIFY(ep, m > 0, "wait for data: %d", m);
			continue;
		}
		VERIFY(ep, n > 0, "read: %zd", n);
		p += n;
		len -= (size_t)n;
	}
}


static void child_main(int sock, t_child_fn fn, void *arg)
{
	int fds[3], rc;
	uint32_t tag;
	struct shmq_region *r;
	struct shmq_ep *ep;

	CHILD_CHECK(t_recv_fds(sock, fds, 3, &tag) == 0, "recv fds");
	r = shmq_region_map(fds[0]);
	CHILD_CHECK(r != NULL, "map: %s", strerror(errno));
	close(fds[0]);
	ep = shmq_ep_attach(r, 0, 1);
	CHILD_CHECK(ep != NULL, "attach: %s", strerror(errno));
	CHILD_CHECK(shmq_ep_set_fds(ep, fds[1], fds[2], sock, SHMQ_PEER_SOCKET) == 0, "set fds");
	rc = fn(ep, sock, arg);
	shmq_ep_close(ep);
	shmq_region_close(r);
	close(fds[1]);
	close(fds[2]);
	close(sock);
	_exit(rc);
}

void t_spawn(struct t_remote *rm, uint32_t cap, enum shmq_mode mode, t_child_fn fn, void *arg,
	     int live_kind)
{
	int sv[2], fds[3];

	memset(rm, 0, sizeof(*rm));
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	rm->pid = fork();
	ck_assert_int_ge(rm->pid, 0);
	if (rm->pid == 0) {
		close(sv[0]);
		child_main(sv[1], fn, arg);
	}
	close(sv[1]);
	rm->sock = sv[0];
	rm->pidfd = pidfd_open(rm->pid, 0);
	if (rm->pidfd < 0 && errno == ENOSYS && live_kind == SHMQ_PEER_PIDFD) {
		/* valgrind does not know pidfd_open: fall back, and say so */
		fprintf(stderr, "# pidfd_open: ENOSYS, using the socket for liveness\n");
		live_kind = SHMQ_PEER_SOCKET;
	}
	ck_assert_msg(rm->pidfd >= 0 || errno == ENOSYS, "pidfd_open: %s", strerror(errno));
	rm->r = shmq_region_create(shmq_region_bytes(1, cap), 0, NULL, NULL);
	ck_assert_msg(rm->r, "region: %s", strerror(errno));
	ck_assert_int_eq(shmq_region_layout(rm->r, 1, cap), 0);
	ck_assert_int_eq(shmq_pair_init(rm->r, 0, mode), 0);
	rm->efd_self = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	rm->efd_peer = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	ck_assert(rm->efd_self >= 0 && rm->efd_peer >= 0);
	rm->ep = shmq_ep_attach(rm->r, 0, 0);
	ck_assert(rm->ep);
	ck_assert_int_eq(shmq_ep_set_fds(rm->ep, rm->efd_self, rm->efd_peer,
					 live_kind == SHMQ_PEER_PIDFD ? rm->pidfd : rm->sock,
					 live_kind), 0);
	fds[0] = shmq_region_fd(rm->r);
	fds[1] = rm->efd_peer;  /* the child sleeps on it */
	fds[2] = rm->efd_self;  /* the child wakes us through it */
	ck_assert_int_eq(t_send_fds(rm->sock, fds, 3, 1), 0);
}

int t_reap(struct t_remote *rm)
{
	int st;

	if (rm->pid <= 0)
		return -1;
	while (waitpid(rm->pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	rm->pid = 0;
	if (WIFSIGNALED(st))
		return 128 + WTERMSIG(st);
	return WEXITSTATUS(st);
}

void t_remote_close(struct t_remote *rm)
{
	if (rm->pid > 0) {
		kill(rm->pid, SIGKILL);
		t_reap(rm);
	}
	shmq_ep_close(rm->ep);
	shmq_region_close(rm->r);
	close(rm->efd_self);
	close(rm->efd_peer);
	close(rm->sock);
	if (rm->pidfd >= 0)
		close(rm->pidfd);
	memset(rm, 0, sizeof(*rm));
}
