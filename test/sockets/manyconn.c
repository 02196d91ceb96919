/* manyconn: N concurrent connections doing 64-byte request/response, for
 * hack/bench.d/58-conns.sh.
 *
 *   manyconn server IP PORT            echo each 64-byte message back, on
 *                                      every connection, until SIGTERM
 *   manyconn burst IP PORT N SECONDS   the same, the N connects started at
 *                                      once (non-blocking), then awaited
 *   manyconn client IP PORT N SECONDS  open N connections (all of them
 *                                      before the first request), then on
 *                                      each one request, wait for the whole
 *                                      answer, check it, request again, for
 *                                      SECONDS; prints "connected N" when
 *                                      the N are open, then at the end:
 *     conns N reqs R secs S rate X p50 A p99 B p999 C min M max M
 *     fds_per_conn F bad E
 *   (latencies in us; min/max: requests completed by the least and most
 *   served connection; fds_per_conn: the process's fds per connection;
 *   bad: answers that were not the request sent back).
 *
 * One epoll set, level-triggered, one outstanding request per connection,
 * so a 64-byte write always finds room. A plain POSIX program: the
 * benchmark runs it over the kernel path and under LD_PRELOAD.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MSG 64
#define HBUCKETS 14000 /* latency histogram: 1 us buckets up to 4 ms, then 1 ms up to 10 s */

struct conn {
	int fd;
	unsigned got;        /* bytes of the current answer (client) / request (server) */
	uint64_t sent_ns;
	uint64_t done;
	uint32_t seq;
	unsigned char buf[MSG];
};

static volatile sig_atomic_t stop;

static void on_term(int sig)
{
	(void)sig;
	stop = 1;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void raise_nofile(void)
{
	struct rlimit r;

	if (getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur < r.rlim_max) {
		r.rlim_cur = r.rlim_max;
		setrlimit(RLIMIT_NOFILE, &r);
	}
}

static long count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	long n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1; /* the DIR's own fd */
}

static int write_all(int fd, const void *p, size_t n)
{
	const unsigned char *c = p;

	while (n) {
		ssize_t w = write(fd, c, n);

		if (w < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue; /* one outstanding message: room comes at once */
			return -1;
		}
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

static int serve(const struct sockaddr_in *a)
{
	int l = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), one = 1, ep;
	struct sigaction sa = { .sa_handler = on_term };
	struct epoll_event ev, evs[256];

	raise_nofile();
	if (l < 0 || setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(l, (const struct sockaddr *)a, sizeof(*a)) < 0 || listen(l, 4096) < 0) {
		perror("manyconn: listen");
		return 1;
	}
	ep = epoll_create1(0);
	ev.events = EPOLLIN;
	ev.data.ptr = NULL;
	if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, l, &ev) < 0) {
		perror("manyconn: epoll");
		return 1;
	}
	sigaction(SIGTERM, &sa, NULL);
	printf("ready\n");
	fflush(stdout);
	while (!stop) {
		int n = epoll_wait(ep, evs, 256, -1);

		for (int i = 0; i < n; i++) {
			struct conn *c = evs[i].data.ptr;
			ssize_t r;

			if (!c) {
				int fd = accept4(l, NULL, NULL, SOCK_NONBLOCK);

				if (fd < 0)
					continue;
				setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
				c = calloc(1, sizeof(*c));
				if (!c) {
					close(fd);
					continue;
				}
				c->fd = fd;
				ev.events = EPOLLIN;
				ev.data.ptr = c;
				if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
					close(fd);
					free(c);
				}
				continue;
			}
			r = read(c->fd, c->buf + c->got, MSG - c->got);
			if (r < 0 && (errno == EAGAIN || errno == EINTR))
				continue;
			if (r <= 0 || (c->got += (unsigned)r) == MSG) {
				if (r > 0) {
					c->got = 0;
					if (write_all(c->fd, c->buf, MSG) == 0)
						continue;
				}
				epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
				close(c->fd);
				free(c);
			}
		}
	}
	return 0;
}

static void request(struct conn *c)
{
	memset(c->buf, (int)(c->seq & 0xff), MSG);
	memcpy(c->buf, &c->seq, sizeof(c->seq));
	c->got = 0;
	c->sent_ns = now_ns();
}

static unsigned bucket(uint64_t ns)
{
	uint64_t us = ns / 1000;

	if (us < 4000)
		return (unsigned)us;
	us /= 1000; /* ms from here */
	return us + 4000 < HBUCKETS - 1 ? (unsigned)(us + 4000) : HBUCKETS - 1;
}

static double bucket_us(unsigned b)
{
	return b < 4000 ? b : (double)(b - 4000) * 1000.0;
}

static double pct(const uint64_t *h, uint64_t total, double p)
{
	uint64_t want = (uint64_t)((double)total * p), seen = 0;

	for (unsigned b = 0; b < HBUCKETS; b++) {
		seen += h[b];
		if (seen > want)
			return bucket_us(b);
	}
	return bucket_us(HBUCKETS - 1);
}

/* Starts N non-blocking connects at once and waits for all of them (a
 * connect burst); 0, or -1 with the reason printed. */
static int connect_burst(struct conn *cs, int n, const struct sockaddr_in *a, int ep)
{
	struct epoll_event ev, evs[256];
	int left = n;

	for (int i = 0; i < n; i++) {
		cs[i].fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
		if (cs[i].fd < 0 || (connect(cs[i].fd, (const struct sockaddr *)a, sizeof(*a)) < 0 &&
				     errno != EINPROGRESS)) {
			fprintf(stderr, "manyconn: connection %d: %s\n", i, strerror(errno));
			return -1;
		}
		ev.events = EPOLLOUT;
		ev.data.ptr = &cs[i];
		if (epoll_ctl(ep, EPOLL_CTL_ADD, cs[i].fd, &ev) < 0) {
			perror("manyconn: epoll_ctl");
			return -1;
		}
	}
	while (left > 0) {
		int k = epoll_wait(ep, evs, 256, 10000);

		if (k <= 0) {
			fprintf(stderr, "manyconn: %d connects not done after 10 s\n", left);
			return -1;
		}
		for (int i = 0; i < k; i++) {
			struct conn *c = evs[i].data.ptr;
			int err = 0;
			socklen_t len = sizeof(err);

			if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err) {
				fprintf(stderr, "manyconn: connection %ld: %s\n", (long)(c - cs),
					strerror(err ? err : errno));
				return -1;
			}
			ev.events = EPOLLIN;
			ev.data.ptr = c;
			epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
			left--;
		}
	}
	return 0;
}

static int client(const struct sockaddr_in *a, int n, double secs, int burst)
{
	struct conn *cs = calloc((size_t)n, sizeof(*cs));
	uint64_t *hist = calloc(HBUCKETS, sizeof(*hist)), total = 0, bad = 0, t0, end, lo, hi;
	struct epoll_event ev, evs[256];
	long fds0, fds1;
	int ep, one = 1, rc = 1;

	raise_nofile();
	ep = epoll_create1(0);
	if (!cs || !hist || ep < 0) {
		perror("manyconn: set-up");
		goto out;
	}
	fds0 = count_fds();
	if (burst && connect_burst(cs, n, a, ep) < 0)
		goto out;
	for (int i = 0; i < n && !burst; i++) {
		struct conn *c = &cs[i];

		c->fd = socket(AF_INET, SOCK_STREAM, 0);
		if (c->fd < 0 || connect(c->fd, (const struct sockaddr *)a, sizeof(*a)) < 0) {
			fprintf(stderr, "manyconn: connection %d: %s\n", i, strerror(errno));
			goto out;
		}
		setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		ev.events = EPOLLIN;
		ev.data.ptr = c;
		if (epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev) < 0) {
			perror("manyconn: epoll_ctl");
			goto out;
		}
	}
	fds1 = count_fds();
	printf("connected %d\n", n);
	fflush(stdout);
	t0 = now_ns();
	end = t0 + (uint64_t)(secs * 1e9);
	for (int i = 0; i < n; i++) {
		request(&cs[i]);
		if (write_all(cs[i].fd, cs[i].buf, MSG) < 0) {
			perror("manyconn: write");
			goto out;
		}
	}
	while (now_ns() < end) {
		int k = epoll_wait(ep, evs, 256, 100);

		for (int i = 0; i < k; i++) {
			struct conn *c = evs[i].data.ptr;
			unsigned char in[MSG];
			ssize_t r = read(c->fd, in, MSG - c->got);
			uint64_t t;

			if (r < 0 && (errno == EAGAIN || errno == EINTR))
				continue;
			if (r <= 0) {
				fprintf(stderr, "manyconn: connection %ld: %s\n", (long)(c - cs),
					r == 0 ? "closed by the server" : strerror(errno));
				goto out;
			}
			if (memcmp(in, c->buf + c->got, (size_t)r) != 0)
				bad++;
			c->got += (unsigned)r;
			if (c->got < MSG)
				continue;
			t = now_ns();
			hist[bucket(t - c->sent_ns)]++;
			total++;
			c->done++;
			c->seq++;
			request(c);
			if (write_all(c->fd, c->buf, MSG) < 0) {
				perror("manyconn: write");
				goto out;
			}
		}
	}
	lo = UINT64_MAX;
	hi = 0;
	for (int i = 0; i < n; i++) {
		lo = cs[i].done < lo ? cs[i].done : lo;
		hi = cs[i].done > hi ? cs[i].done : hi;
	}
	printf("conns %d reqs %llu secs %.3f rate %.0f p50 %.0f p99 %.0f p999 %.0f min %llu max %llu "
	       "fds_per_conn %.2f bad %llu\n",
	       n, (unsigned long long)total, (double)(now_ns() - t0) / 1e9,
	       (double)total / ((double)(now_ns() - t0) / 1e9), pct(hist, total, 0.5),
	       pct(hist, total, 0.99), pct(hist, total, 0.999), (unsigned long long)lo,
	       (unsigned long long)hi, (double)(fds1 - fds0) / n, (unsigned long long)bad);
	rc = bad ? 1 : 0;
out:
	for (int i = 0; cs && i < n; i++)
		if (cs[i].fd > 0)
			close(cs[i].fd);
	if (ep >= 0)
		close(ep);
	free(cs);
	free(hist);
	return rc;
}

int main(int argc, char **argv)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	long port, n = 0;

	if (argc < 4 || (strcmp(argv[1], "client") == 0 && argc != 6) ||
	    (strcmp(argv[1], "burst") == 0 && argc != 6) ||
	    (strcmp(argv[1], "server") == 0 && argc != 4)) {
		fprintf(stderr, "usage: manyconn server IP PORT | manyconn client|burst IP PORT N SECONDS\n");
		return 2;
	}
	port = strtol(argv[3], NULL, 10);
	a.sin_port = htons((unsigned short)port);
	if (port <= 0 || port > 65535 || inet_pton(AF_INET, argv[2], &a.sin_addr) != 1) {
		fprintf(stderr, "manyconn: bad address %s:%s\n", argv[2], argv[3]);
		return 2;
	}
	if (strcmp(argv[1], "server") == 0)
		return serve(&a);
	n = strtol(argv[4], NULL, 10);
	if (n < 1 || n > 65536) {
		fprintf(stderr, "manyconn: N must be 1..65536\n");
		return 2;
	}
	return client(&a, (int)n, strtod(argv[5], NULL), strcmp(argv[1], "burst") == 0);
}
