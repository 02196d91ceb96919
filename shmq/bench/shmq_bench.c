/* SPDX-License-Identifier: MIT */
/*
 * shmq-bench: shmq against a bare ring (the floor of this machine) and the
 * kernel transports, in one run, on the same two cores.
 *
 *   shmq-bench [--mode stream|pingpong] [--msg-size N] [--count N | --seconds S]
 *              [--transport LIST] [--cpus A,B] [--batch N] [--json]
 *
 * stream:   one-way messages/s, producer and consumer in two processes.
 * pingpong: round-trip time percentiles over many round trips.
 * Transports: shmq, raw, pipe, unix, tcp-loopback, tcp-veth.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "shmq.h"

enum mode { STREAM, PINGPONG };
enum tp { T_SHMQ, T_RAW, T_PIPE, T_UNIX, T_TCP, T_VETH, T_N };
static const char *const tp_name[T_N] = { "shmq", "raw", "pipe", "unix", "tcp-loopback",
					  "tcp-veth" };

struct opts {
	enum mode mode;
	size_t msg;
	uint64_t count;     /* 0: run for `seconds` */
	double seconds;
	int tp[T_N];
	int cpu[2];
	unsigned batch;
	int json;
};

struct result {
	int ok;
	uint64_t msgs;
	uint64_t ns;
	double p50, p99;   /* ns, pingpong only */
	char err[96];
};

static struct opts o = { STREAM, 64, 0, 1.0, { 1, 1, 1, 1, 1, 1 }, { 0, 1 }, 32, 0 };

/* ---- utilities ---------------------------------------------------------- */

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Busy-wait step of the bench's own loops (raw, and shmq before it falls
 * back to shmq_wait). Deliberately no PAUSE: in a VM, tight PAUSE loops
 * trigger pause-loop exits, which would measure the hypervisor. */
static inline void relax(void)
{
	__asm__ __volatile__("" ::: "memory");
}

static void pin(int cpu)
{
	cpu_set_t s;

	CPU_ZERO(&s);
	CPU_SET(cpu, &s);
	if (sched_setaffinity(0, sizeof(s), &s) < 0)
		fprintf(stderr, "shmq-bench: cannot pin to cpu %d: %s\n", cpu, strerror(errno));
}

__attribute__((noreturn, format(printf, 1, 2)))
static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "shmq-bench: ");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	_exit(2);
}

static int write_full(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int read_full(int fd, void *buf, size_t len)
{
	uint8_t *p = buf;

	while (len) {
		ssize_t n = read(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Stop condition shared by all producers/clients. */
struct clock_stop {
	uint64_t deadline;
	uint64_t count;
};

static int stop_now(const struct clock_stop *c, uint64_t done)
{
	if (c->count)
		return done >= c->count;
	return (done & 255) == 0 && now_ns() >= c->deadline;
}

/* ---- netns plumbing for tcp-veth ---------------------------------------- */

static char ns_name[3][32];
static int ns_up;

static int run_cmd(const char *fmt, ...)
{
	char cmd[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return system(cmd) == 0 ? 0 : -1;
}

/* Async-signal-safe: fork+exec `ip netns del` for each namespace. */
static void ns_cleanup(void)
{
	if (!ns_up)
		return;
	ns_up = 0;
	for (int i = 0; i < 3; i++) {
		pid_t p = fork();

		if (p == 0) {
			int fd = open("/dev/null", O_WRONLY);

			if (fd >= 0) {
				dup2(fd, 1);
				dup2(fd, 2);
			}
			execlp("ip", "ip", "netns", "del", ns_name[i], (char *)NULL);
			_exit(127);
		}
		if (p > 0)
			waitpid(p, NULL, 0);
	}
}

static int ns_setup(void)
{
	static const char *const sfx[3] = { "br", "srv", "cli" };

	for (int i = 0; i < 3; i++)
		snprintf(ns_name[i], sizeof(ns_name[i]), "shmqb-%d-%s", (int)getpid(), sfx[i]);
	ns_up = 1;
	if (run_cmd("ip netns add %s && ip netns add %s && ip netns add %s", ns_name[0],
		    ns_name[1], ns_name[2]) ||
	    run_cmd("ip -n %s link add br0 type bridge && ip -n %s link set br0 up", ns_name[0],
		    ns_name[0]) ||
	    run_cmd("ip -n %s link add vs type veth peer name eth0 netns %s", ns_name[0],
		    ns_name[1]) ||
	    run_cmd("ip -n %s link add vc type veth peer name eth0 netns %s", ns_name[0],
		    ns_name[2]) ||
	    run_cmd("ip -n %s link set vs master br0 up && ip -n %s link set vc master br0 up",
		    ns_name[0], ns_name[0]) ||
	    run_cmd("ip -n %s addr add 10.211.0.1/24 dev eth0 && ip -n %s link set eth0 up && "
		    "ip -n %s link set lo up", ns_name[1], ns_name[1], ns_name[1]) ||
	    run_cmd("ip -n %s addr add 10.211.0.2/24 dev eth0 && ip -n %s link set eth0 up && "
		    "ip -n %s link set lo up", ns_name[2], ns_name[2], ns_name[2])) {
		ns_cleanup();
		return -1;
	}
	return 0;
}

static void ns_enter(int which)
{
	char path[96];
	int fd;

	snprintf(path, sizeof(path), "/run/netns/%s", ns_name[which]);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || setns(fd, CLONE_NEWNET) < 0)
		die("setns %s: %s", path, strerror(errno));
	close(fd);
}

/* ---- the transports ------------------------------------------------------ */

/*
 * Every run forks two workers: side 0 (producer / ping-pong client) and
 * side 1 (consumer / echo server). Both wait on `go` so they start
 * together; the measuring side writes a struct result to `res`.
 */
struct run {
	enum tp tp;
	/* shmq */
	struct shmq_region *region;
	int efd[2];
	/* raw */
	uint8_t *raw;
	size_t raw_len;
	/* fd transports: fd[side][0] to read, fd[side][1] to write */
	int fd[2][2];
	/* tcp */
	struct sockaddr_in addr;
	int lfd;
};

/* Raw ring: bare SPSC ring of fixed slots, no checks at all. */
struct raw_ring {
	_Alignas(128) _Atomic uint64_t prod;
	_Alignas(128) _Atomic uint64_t cons;
	_Alignas(128) _Atomic uint32_t done;
	_Alignas(128) uint8_t data[];
};

static size_t ring_bytes(void)
{
	return o.msg <= 4096 ? (size_t)256 << 10 : (size_t)1 << 20;
}

/* Raw ring geometry, computed once so the raw loops stay minimal. */
static size_t g_raw_slot;
static uint64_t g_raw_nslots;

static void raw_geometry(void)
{
	uint64_t n;

	g_raw_slot = (o.msg + 63) & ~(size_t)63;
	n = ring_bytes() / g_raw_slot;
	while (n & (n - 1))
		n &= n - 1;
	g_raw_nslots = n < 2 ? 2 : n;
}

static inline size_t raw_slot(void)
{
	return g_raw_slot;
}

static inline uint64_t raw_nslots(void)
{
	return g_raw_nslots;
}

static struct raw_ring *raw_dir(struct run *r, int dir)
{
	return (struct raw_ring *)(r->raw + (size_t)dir * (r->raw_len / 2));
}

static int run_prepare(struct run *r, enum tp tp)
{
	memset(r, 0, sizeof(*r));
	r->tp = tp;
	r->lfd = -1;
	for (int i = 0; i < 2; i++)
		r->fd[i][0] = r->fd[i][1] = -1;
	switch (r->tp) {
	case T_SHMQ: {
		uint32_t cap = (uint32_t)(o.msg + 64 > ring_bytes() / 4 ? 4 * (o.msg + 64) : ring_bytes());

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

static void run_release(struct run *r)
{
	if (r->region)
		shmq_region_close(r->region);
	if (r->tp == T_SHMQ) {
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

/* In a worker: turn the prepared run into this side's endpoint. */
struct side {
	int s;
	struct shmq_region *region;
	struct shmq_ep *ep;
	struct raw_ring *tx, *rx;
	int rfd, wfd;
};

static void side_open(struct run *r, int s, struct side *sd)
{
	memset(sd, 0, sizeof(*sd));
	sd->s = s;
	sd->rfd = sd->wfd = -1;
	switch (r->tp) {
	case T_SHMQ:
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
		if (o.mode == PINGPONG)
			setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		sd->rfd = sd->wfd = fd;
		break;
	}
	default:
		break;
	}
}

static void side_close(struct side *sd, enum tp tp)
{
	if (tp == T_SHMQ) {
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

/* -- raw ring ops -- */

static uint64_t raw_cached_cons, raw_cached_prod;

static unsigned raw_send(struct raw_ring *q, const uint8_t *msg, unsigned n)
{
	uint64_t slots = raw_nslots(), p = atomic_load_explicit(&q->prod, memory_order_relaxed);
	unsigned i;

	if (p + n - raw_cached_cons > slots)
		raw_cached_cons = atomic_load_explicit(&q->cons, memory_order_acquire);
	if (p + n - raw_cached_cons > slots)
		n = (unsigned)(slots - (p - raw_cached_cons));
	for (i = 0; i < n; i++) {
		memcpy(q->data + ((p + i) & (slots - 1)) * raw_slot(), msg, o.msg);
		/* keep the compiler from merging or dropping copies */
		__asm__ __volatile__("" ::: "memory");
	}
	if (n)
		atomic_store_explicit(&q->prod, p + n, memory_order_release);
	return n;
}

/* Returns messages received, 0 if none, -1 at end. */
static int raw_recv(struct raw_ring *q, uint8_t *msg, unsigned n)
{
	uint64_t slots = raw_nslots(), c = atomic_load_explicit(&q->cons, memory_order_relaxed);
	unsigned i;

	if (raw_cached_prod - c < n)
		raw_cached_prod = atomic_load_explicit(&q->prod, memory_order_acquire);
	if (raw_cached_prod - c < n)
		n = (unsigned)(raw_cached_prod - c);
	if (n == 0) {
		if (atomic_load_explicit(&q->done, memory_order_acquire) &&
		    atomic_load_explicit(&q->prod, memory_order_acquire) == c)
			return -1;
		return 0;
	}
	for (i = 0; i < n; i++) {
		memcpy(msg, q->data + ((c + i) & (slots - 1)) * raw_slot(), o.msg);
		__asm__ __volatile__("" ::: "memory");
	}
	atomic_store_explicit(&q->cons, c + n, memory_order_release);
	return (int)n;
}

/* -- generic message send / receive (one message) -- */

static void send_msg(struct side *sd, enum tp tp, uint8_t *buf)
{
	switch (tp) {
	case T_SHMQ: {
		int rc;

		while ((rc = shmq_send(sd->ep, buf, o.msg)) == -EAGAIN)
			shmq_wait(sd->ep, SHMQ_POLLOUT, -1);
		if (rc)
			die("shmq_send: %s", strerror(-rc));
		break;
	}
	case T_RAW:
		while (raw_send(sd->tx, buf, 1) == 0)
			relax();
		break;
	default:
		if (write_full(sd->wfd, buf, o.msg))
			die("write: %s", strerror(errno));
	}
}

/* 0, or -1 at end of stream. */
static int recv_msg(struct side *sd, enum tp tp, uint8_t *buf)
{
	switch (tp) {
	case T_SHMQ:
		for (;;) {
			ssize_t n = shmq_recv(sd->ep, buf, o.msg, 0);
			int spins;

			if (n >= 0)
				return 0;
			if (n != -EAGAIN)
				return -1;
			/* Spin on recv itself a little; shmq_wait then spins and sleeps. */
			for (spins = 0; spins < 2000; spins++) {
				n = shmq_recv(sd->ep, buf, o.msg, 0);
				if (n >= 0)
					return 0;
				if (n != -EAGAIN)
					return -1;
				relax();
			}
			if (shmq_wait(sd->ep, SHMQ_POLLIN, -1) < 0)
				return -1;
		}
	case T_RAW:
		for (;;) {
			int n = raw_recv(sd->rx, buf, 1);

			if (n)
				return n < 0 ? -1 : 0;
			relax();
		}
	default:
		return read_full(sd->rfd, buf, o.msg);
	}
}

/* ---- stream ---------------------------------------------------------- */

static void stream_producer(struct side *sd, enum tp tp, const struct clock_stop *cs)
{
	uint8_t *buf = malloc(o.msg);
	struct iovec *iov = calloc(o.batch, sizeof(*iov));
	uint64_t sent = 0;

	if (!buf || !iov)
		die("malloc");
	memset(buf, 0xa5, o.msg);
	for (unsigned i = 0; i < o.batch; i++)
		iov[i] = (struct iovec){ buf, o.msg };
	while (!stop_now(cs, sent)) {
		uint64_t want = cs->count && cs->count - sent < o.batch ? cs->count - sent : o.batch;

		if (tp == T_SHMQ) {
			int k = shmq_send_burst(sd->ep, iov, (unsigned)want);

			if (k == -EAGAIN) {
				shmq_wait(sd->ep, SHMQ_POLLOUT, -1);
				continue;
			}
			if (k < 0)
				die("send_burst: %s", strerror(-k));
			sent += (uint64_t)k;
		} else if (tp == T_RAW) {
			unsigned k = raw_send(sd->tx, buf, (unsigned)want);

			if (!k)
				relax();
			sent += k;
		} else {
			send_msg(sd, tp, buf);
			sent++;
		}
	}
	free(iov);
	free(buf);
}

static void stream_consumer(struct side *sd, enum tp tp, struct result *res)
{
	size_t blen = tp >= T_PIPE ? (o.msg > 65536 ? o.msg : 65536) : o.msg;
	uint8_t *buf = malloc(blen);
	struct iovec *iov = calloc(o.batch, sizeof(*iov));
	uint64_t msgs = 0, bytes = 0, t0 = now_ns();

	if (!buf || !iov)
		die("malloc");
	for (unsigned i = 0; i < o.batch; i++)
		iov[i] = (struct iovec){ buf, o.msg };
	for (;;) {
		if (tp == T_SHMQ) {
			int k;

			for (unsigned i = 0; i < o.batch; i++)
				iov[i].iov_len = o.msg;
			k = shmq_recv_burst(sd->ep, iov, o.batch);
			if (k > 0) {
				msgs += (uint64_t)k;
				continue;
			}
			if (k == -EPIPE)
				break;
			if (k != -EAGAIN || shmq_wait(sd->ep, SHMQ_POLLIN, -1) < 0)
				die("recv_burst: %s", strerror(-k));
		} else if (tp == T_RAW) {
			int k = raw_recv(sd->rx, buf, o.batch);

			if (k < 0)
				break;
			if (k == 0)
				relax();
			msgs += (uint64_t)k;
		} else {
			ssize_t n = read(sd->rfd, buf, blen);

			if (n == 0)
				break;
			if (n < 0) {
				if (errno == EINTR)
					continue;
				die("read: %s", strerror(errno));
			}
			bytes += (uint64_t)n;
		}
	}
	res->ns = now_ns() - t0;
	res->msgs = tp >= T_PIPE ? bytes / o.msg : msgs;
	res->ok = 1;
	free(iov);
	free(buf);
}

/* ---- ping-pong ------------------------------------------------------- */

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void pp_client(struct side *sd, enum tp tp, const struct clock_stop *cs,
		      struct result *res)
{
	uint64_t cap = cs->count ? cs->count : 4000000, n = 0, t0;
	uint64_t *lat = malloc(cap * sizeof(*lat));
	uint8_t *buf = malloc(o.msg);

	if (!lat || !buf)
		die("malloc");
	memset(buf, 0x5a, o.msg);
	/* warm-up round trips, not measured */
	for (int i = 0; i < 1000; i++) {
		send_msg(sd, tp, buf);
		if (recv_msg(sd, tp, buf))
			die("echo ended early");
	}
	t0 = now_ns();
	while (n < cap && !stop_now(cs, n)) {
		uint64_t a = now_ns();

		send_msg(sd, tp, buf);
		if (recv_msg(sd, tp, buf))
			die("echo ended early");
		lat[n++] = now_ns() - a;
	}
	res->ns = now_ns() - t0;
	res->msgs = n;
	qsort(lat, n, sizeof(*lat), cmp_u64);
	res->p50 = n ? (double)lat[n / 2] : 0;
	res->p99 = n ? (double)lat[n * 99 / 100] : 0;
	res->ok = n > 0;
	free(lat);
	free(buf);
}

static void pp_server(struct side *sd, enum tp tp)
{
	uint8_t *buf = malloc(o.msg);

	if (!buf)
		die("malloc");
	while (recv_msg(sd, tp, buf) == 0)
		send_msg(sd, tp, buf);
	free(buf);
}

/* ---- one measurement ------------------------------------------------- */

static pid_t workers[2];

static void on_signal(int sig)
{
	for (int i = 0; i < 2; i++)
		if (workers[i] > 0)
			kill(workers[i], SIGKILL);
	ns_cleanup();
	signal(sig, SIG_DFL);
	raise(sig);
}

static void worker(struct run *r, int s, int go_fd, int res_fd)
{
	struct result res;
	struct clock_stop cs = { 0, o.count };
	struct side sd;
	char c;

	memset(&res, 0, sizeof(res));
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	pin(o.cpu[s]);
	side_open(r, s, &sd);
	if (read_full(go_fd, &c, 1))
		die("go");
	if (!o.count)
		cs.deadline = now_ns() + (uint64_t)(o.seconds * 1e9);
	if (o.mode == STREAM) {
		if (s == 0)
			stream_producer(&sd, r->tp, &cs);
		else
			stream_consumer(&sd, r->tp, &res);
	} else {
		if (s == 0)
			pp_client(&sd, r->tp, &cs, &res);
		else
			pp_server(&sd, r->tp);
	}
	side_close(&sd, r->tp);
	if ((o.mode == STREAM) == (s == 1) && write_full(res_fd, &res, sizeof(res)))
		die("result");
	_exit(0);
}

static struct result measure(enum tp tp)
{
	struct result res;
	struct run r;
	int go[2], rp[2], st;

	memset(&res, 0, sizeof(res));
	if (run_prepare(&r, tp)) {
		snprintf(res.err, sizeof(res.err), "setup failed: %s%s", strerror(errno),
			 tp == T_VETH ? " (needs root and ip netns)" : "");
		run_release(&r);
		return res;
	}
	if (pipe(go) || pipe(rp))
		die("pipe");
	for (int s = 0; s < 2; s++) {
		workers[s] = fork();
		if (workers[s] < 0)
			die("fork");
		if (workers[s] == 0) {
			close(go[1]);
			close(rp[0]);
			worker(&r, s, go[0], rp[1]);
		}
	}
	close(go[0]);
	close(rp[1]);
	/* Only the workers may hold the transport fds (pipe EOF needs it). */
	for (int i = 0; i < 2; i++) {
		if (r.fd[i][1] >= 0 && r.fd[i][1] != r.fd[i][0])
			close(r.fd[i][1]);
		if (r.fd[i][0] >= 0)
			close(r.fd[i][0]);
		r.fd[i][0] = r.fd[i][1] = -1;
	}
	if (write_full(go[1], "gg", 2))
		die("go");
	close(go[1]);
	if (read_full(rp[0], &res, sizeof(res)))
		snprintf(res.err, sizeof(res.err), "worker failed");
	close(rp[0]);
	for (int s = 0; s < 2; s++) {
		while (waitpid(workers[s], &st, 0) < 0 && errno == EINTR)
			;
		if (!WIFEXITED(st) || WEXITSTATUS(st)) {
			res.ok = 0;
			snprintf(res.err, sizeof(res.err), "worker %d failed", s);
		}
		workers[s] = 0;
	}
	run_release(&r);
	return res;
}

/* ---- output ---------------------------------------------------------- */

static void print_json(enum tp tp, const struct result *r)
{
	double mps = r->ok && r->ns ? (double)r->msgs * 1e9 / (double)r->ns : 0;

	printf("{\"transport\":\"%s\",\"mode\":\"%s\",\"msg_size\":%zu,", tp_name[tp],
	       o.mode == STREAM ? "stream" : "pingpong", o.msg);
	if (!r->ok) {
		printf("\"msgs_per_sec\":null,\"gbit_per_sec\":null,\"rtt_p50_ns\":null,"
		       "\"rtt_p99_ns\":null,\"error\":\"%s\"}\n", r->err);
		return;
	}
	printf("\"msgs_per_sec\":%.0f,", mps);
	if (o.mode == STREAM)
		printf("\"gbit_per_sec\":%.3f,\"rtt_p50_ns\":null,\"rtt_p99_ns\":null}\n",
		       mps * (double)o.msg * 8 / 1e9);
	else
		printf("\"gbit_per_sec\":null,\"rtt_p50_ns\":%.0f,\"rtt_p99_ns\":%.0f}\n", r->p50,
		       r->p99);
	fflush(stdout);
}

static void print_table(const struct result *res)
{
	const struct result *s = &res[T_SHMQ];

	printf("%-8s %8s  %-13s %12s %9s %11s %11s  %s\n", "mode", "msg_size", "transport",
	       "msgs/s", "Gbit/s", "RTT p50 ns", "RTT p99 ns",
	       o.mode == STREAM ? "shmq msgs/s ratio" : "this p50 / shmq p50");
	for (int t = 0; t < T_N; t++) {
		const struct result *r = &res[t];
		double mps, smps;
		char ratio[32] = "-";

		if (!o.tp[t])
			continue;
		if (!r->ok) {
			printf("%-8s %8zu  %-13s  not measured: %s\n",
			       o.mode == STREAM ? "stream" : "pingpong", o.msg, tp_name[t], r->err);
			continue;
		}
		mps = (double)r->msgs * 1e9 / (double)r->ns;
		smps = s->ok ? (double)s->msgs * 1e9 / (double)s->ns : 0;
		if (s->ok && o.mode == STREAM)
			snprintf(ratio, sizeof(ratio), "%.2fx", smps / mps);
		else if (s->ok && s->p50 > 0)
			snprintf(ratio, sizeof(ratio), "%.2fx", r->p50 / s->p50);
		if (o.mode == STREAM)
			printf("%-8s %8zu  %-13s %12.0f %9.2f %11s %11s  %s\n", "stream", o.msg,
			       tp_name[t], mps, mps * (double)o.msg * 8 / 1e9, "-", "-", ratio);
		else
			printf("%-8s %8zu  %-13s %12.0f %9s %11.0f %11.0f  %s\n", "pingpong", o.msg,
			       tp_name[t], mps, "-", r->p50, r->p99, ratio);
	}
}

static void usage(int rc)
{
	fprintf(rc ? stderr : stdout,
		"usage: shmq-bench [--mode stream|pingpong] [--msg-size N] [--count N | --seconds S]\n"
		"                  [--transport LIST] [--cpus A,B] [--batch N] [--json]\n"
		"  transports: shmq,raw,pipe,unix,tcp-loopback,tcp-veth (default: all)\n");
	exit(rc);
}

static void parse_transports(char *list)
{
	memset(o.tp, 0, sizeof(o.tp));
	for (char *t = strtok(list, ","); t; t = strtok(NULL, ",")) {
		int found = 0;

		for (int i = 0; i < T_N; i++)
			if (!strcmp(t, tp_name[i]))
				o.tp[i] = found = 1;
		if (!found) {
			fprintf(stderr, "shmq-bench: unknown transport %s\n", t);
			usage(2);
		}
	}
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "mode", required_argument, NULL, 'm' },
		{ "msg-size", required_argument, NULL, 's' },
		{ "count", required_argument, NULL, 'n' },
		{ "seconds", required_argument, NULL, 't' },
		{ "transport", required_argument, NULL, 'T' },
		{ "cpus", required_argument, NULL, 'c' },
		{ "batch", required_argument, NULL, 'b' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct result res[T_N];
	int c;

	while ((c = getopt_long(argc, argv, "m:s:n:t:T:c:b:jh", lo, NULL)) != -1) {
		switch (c) {
		case 'm':
			if (!strcmp(optarg, "stream"))
				o.mode = STREAM;
			else if (!strcmp(optarg, "pingpong"))
				o.mode = PINGPONG;
			else
				usage(2);
			break;
		case 's': o.msg = strtoul(optarg, NULL, 0); break;
		case 'n': o.count = strtoull(optarg, NULL, 0); break;
		case 't': o.seconds = strtod(optarg, NULL); o.count = 0; break;
		case 'T': parse_transports(optarg); break;
		case 'c':
			if (sscanf(optarg, "%d,%d", &o.cpu[0], &o.cpu[1]) != 2)
				usage(2);
			break;
		case 'b': o.batch = (unsigned)strtoul(optarg, NULL, 0); break;
		case 'j': o.json = 1; break;
		case 'h': usage(0); break;
		default: usage(2);
		}
	}
	if (o.msg < 1 || o.msg > (16u << 20) || o.batch < 1 || o.batch > 4096 ||
	    (!o.count && !(o.seconds > 0)))
		usage(2);
	raw_geometry();
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGPIPE, SIG_IGN);
	memset(res, 0, sizeof(res));
	for (int t = 0; t < T_N; t++) {
		if (!o.tp[t])
			continue;
		res[t] = measure((enum tp)t);
		if (o.json)
			print_json((enum tp)t, &res[t]);
	}
	if (!o.json)
		print_table(res);
	return 0;
}
