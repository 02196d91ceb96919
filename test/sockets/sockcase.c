/* sockcase: the socket-semantics suite. One table of cases; each case has a
 * server part and a client part that run in two pods:
 *
 *   sockcase server CASE SERVER_IP PORT     (prints "S ready" once listening)
 *   sockcase client CASE SERVER_IP PORT
 *   sockcase list
 *
 * Each part prints what a program can observe (return values, errno names,
 * bytes, event masks) as lines on stdout: its transcript. The driver
 * (test/integration/preload-semantics.sh) runs every case over plain kernel
 * TCP and again under the LD_PRELOAD layer and compares the transcripts.
 * Nothing nondeterministic is printed: no fd numbers, ports or timings; where
 * the kernel itself varies (partial write sizes, which of EPIPE/ECONNRESET a
 * dying peer causes) the invariant is printed instead.
 *
 * The two parts synchronise only through their connection (a byte that says
 * "go"), never by sleeping, so that the transcript does not depend on timing.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* A hang (a lost wake-up in the layer under test) must fail the case, not
 * stall the suite: both parts die after this many seconds. */
#define CASE_ALARM_S 60
#define MANY_CONNS 1000

static char side = '?';
static struct sockaddr_in srv_addr;

__attribute__((format(printf, 1, 2))) static void rec(const char *fmt, ...)
{
	va_list ap;

	printf("%c ", side);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

static const char *ename(int e)
{
	const char *n = strerrorname_np(e);

	return n ? n : "E?";
}

/* rec_rc: "what = N" or "what = -1 ENAME". Returns r. */
static long rec_rc(const char *what, long r)
{
	if (r < 0)
		rec("%s = -1 %s", what, ename(errno));
	else
		rec("%s = %ld", what, r);
	return r;
}

/* rec_fd: fds are numbered differently per mode; print only ok/error. */
static int rec_fd(const char *what, int fd)
{
	if (fd < 0)
		rec("%s = -1 %s", what, ename(errno));
	else
		rec("%s = fd", what);
	return fd;
}

static void die(const char *what)
{
	rec("FATAL %s: %s", what, ename(errno));
	exit(2);
}

static void mask_str(unsigned m, char *buf, size_t len)
{
	static const struct { unsigned bit; const char *name; } names[] = {
		{ EPOLLIN, "IN" }, { EPOLLPRI, "PRI" }, { EPOLLOUT, "OUT" },
		{ EPOLLERR, "ERR" }, { EPOLLHUP, "HUP" }, { EPOLLRDHUP, "RDHUP" },
	};
	size_t i;

	buf[0] = '\0';
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!(m & names[i].bit))
			continue;
		if (buf[0])
			strncat(buf, "|", len - strlen(buf) - 1);
		strncat(buf, names[i].name, len - strlen(buf) - 1);
	}
	if (!buf[0])
		snprintf(buf, len, "0");
}

/* EPOLL* and POLL* share values for the bits used here. */
static void rec_mask(const char *what, unsigned m)
{
	char b[64];

	mask_str(m, b, sizeof(b));
	rec("%s = %s", what, b);
}

/* rec_read: read up to n bytes, print the count and the bytes. */
static long rec_recv(const char *what, int fd, size_t n, int flags)
{
	char buf[256];
	long r;

	if (n > sizeof(buf) - 1)
		n = sizeof(buf) - 1;
	r = recv(fd, buf, n, flags);
	if (r < 0)
		rec("%s = -1 %s", what, ename(errno));
	else
		rec("%s = %ld \"%.*s\"", what, r, (int)r, buf);
	return r;
}

static long rec_send(const char *what, int fd, const char *s, int flags)
{
	return rec_rc(what, send(fd, s, strlen(s), flags | MSG_NOSIGNAL));
}

/* Blocking helpers for protocol steps the transcript need not show. */
static void xsend(int fd, const void *p, size_t n)
{
	const char *c = p;

	while (n) {
		ssize_t r = send(fd, c, n, MSG_NOSIGNAL);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			die("send");
		c += r;
		n -= (size_t)r;
	}
}

static void xrecv(int fd, void *p, size_t n)
{
	ssize_t r = recv(fd, p, n, MSG_WAITALL);

	if (r != (ssize_t)n)
		die("recv");
}

static void go_send(int fd) { xsend(fd, "g", 1); }
static void go_wait(int fd)
{
	char c;

	xrecv(fd, &c, 1);
}

static void set_nonblock(int fd, int on)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, on ? fl | O_NONBLOCK : fl & ~O_NONBLOCK) < 0)
		die("fcntl");
}

static int tcp_socket(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0)
		die("socket");
	return fd;
}

/* srv_listen: listen on SERVER_IP:PORT and print "ready" (the driver starts
 * the client on it). */
static int srv_listen_nr(void)
{
	int fd = tcp_socket(), one = 1;

	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0)
		die("SO_REUSEADDR");
	if (bind(fd, (struct sockaddr *)&srv_addr, sizeof(srv_addr)) < 0)
		die("bind");
	if (listen(fd, 4096) < 0)
		die("listen");
	return fd;
}

static void srv_ready(void) { rec("ready"); }

static int srv_listen(void)
{
	int fd = srv_listen_nr();

	srv_ready();
	return fd;
}

static int srv_accept(int lfd)
{
	int c = accept(lfd, NULL, NULL);

	if (c < 0)
		die("accept");
	return c;
}

static int cli_connect(void)
{
	int fd = tcp_socket();

	if (connect(fd, (struct sockaddr *)&srv_addr, sizeof(srv_addr)) < 0)
		die("connect");
	return fd;
}

/* ---- cases ---------------------------------------------------------- */

/* Blocking connect/accept, addresses, one echo. */
static void s_connect_block(void)
{
	int l = srv_listen(), c;
	struct sockaddr_in a, b;
	socklen_t al = sizeof(a), bl = sizeof(b);

	c = rec_fd("accept", accept(l, (struct sockaddr *)&a, &al));
	rec("accept addrlen = %u family_inet = %d", al, a.sin_family == AF_INET);
	rec_rc("getsockname", getsockname(c, (struct sockaddr *)&b, &bl));
	rec("local is listen addr = %d", b.sin_addr.s_addr == srv_addr.sin_addr.s_addr &&
	    b.sin_port == srv_addr.sin_port);
	rec_recv("recv", c, 5, MSG_WAITALL);
	rec_send("send", c, "world", 0);
	rec_recv("recv after peer close", c, 10, 0);
	rec_rc("close", close(c));
	rec_rc("close listener", close(l));
}

static void c_connect_block(void)
{
	int fd = tcp_socket();
	struct sockaddr_in p;
	socklen_t pl = sizeof(p);

	rec_rc("getpeername before connect", getpeername(fd, (struct sockaddr *)&p, &pl));
	rec_rc("connect", connect(fd, (struct sockaddr *)&srv_addr, sizeof(srv_addr)));
	pl = sizeof(p);
	rec_rc("getpeername", getpeername(fd, (struct sockaddr *)&p, &pl));
	rec("peer is server = %d", p.sin_addr.s_addr == srv_addr.sin_addr.s_addr &&
	    p.sin_port == srv_addr.sin_port);
	rec_rc("connect again", connect(fd, (struct sockaddr *)&srv_addr, sizeof(srv_addr)));
	rec_send("send", fd, "hello", 0);
	rec_recv("recv", fd, 5, MSG_WAITALL);
	rec_rc("close", close(fd));
}

/* Nonblocking connect and accept: EINPROGRESS/EAGAIN, poll, SO_ERROR. */
static void s_connect_nonblock(void)
{
	int l = srv_listen_nr(), c;
	struct pollfd p;

	set_nonblock(l, 1);
	rec_fd("accept before any client", accept(l, NULL, NULL));
	srv_ready();
	p = (struct pollfd){ .fd = l, .events = POLLIN };
	rec_rc("poll listener", poll(&p, 1, -1));
	rec_mask("poll listener revents", (unsigned)p.revents);
	c = rec_fd("accept4 nonblock", accept4(l, NULL, NULL, SOCK_NONBLOCK));
	rec("accepted O_NONBLOCK = %d", !!(fcntl(c, F_GETFL) & O_NONBLOCK));
	rec_recv("recv before data", c, 10, 0);
	go_send(c);
	p = (struct pollfd){ .fd = c, .events = POLLIN };
	rec_rc("poll conn", poll(&p, 1, -1));
	rec_mask("poll conn revents", (unsigned)p.revents);
	rec_recv("recv", c, 4, MSG_WAITALL);
	close(c);
	close(l);
}

static void c_connect_nonblock(void)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), err = -1;
	socklen_t el = sizeof(err);
	struct pollfd p = { .fd = fd, .events = POLLOUT };
	char ch;

	rec("socket O_NONBLOCK = %d", !!(fcntl(fd, F_GETFL) & O_NONBLOCK));
	rec_rc("connect", connect(fd, (struct sockaddr *)&srv_addr, sizeof(srv_addr)));
	rec_rc("poll out", poll(&p, 1, -1));
	rec_mask("poll out revents", (unsigned)p.revents);
	rec_rc("SO_ERROR", getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el));
	rec("SO_ERROR value = %d", err);
	rec_rc("connect after completion", connect(fd, (struct sockaddr *)&srv_addr,
						  sizeof(srv_addr)));
	set_nonblock(fd, 0);
	rec_rc("recv go", recv(fd, &ch, 1, 0));
	rec_send("send", fd, "data", 0);
	rec_recv("recv eof", fd, 4, 0);
	close(fd);
}

/* Partial I/O: a nonblocking writer fills the pipe (partial write, then
 * EAGAIN); the reader reads in bounded chunks; totals agree. */
#define BIG (32u << 20)
static void s_partial_io(void)
{
	int l = srv_listen(), ctl = srv_accept(l), c = srv_accept(l);
	static char buf[65536];
	uint64_t total = 0;
	long r;
	int bounded = 1, reads = 0;

	go_wait(ctl); /* the writer has hit EAGAIN on the data connection */
	while ((r = read(c, buf, sizeof(buf))) > 0) {
		total += (uint64_t)r;
		reads++;
		if (r > (long)sizeof(buf))
			bounded = 0;
	}
	rec_rc("read at end", r);
	rec("each read > 0 and <= 65536 = %d, more than one read = %d", bounded, reads > 1);
	xsend(ctl, &total, sizeof(total));
	close(c);
	close(ctl);
	close(l);
}

/* The control connection (opened first, accepted first) carries the "go"
 * and the count, so that the data stream holds nothing else. */
static void c_partial_io(void)
{
	int ctl = cli_connect(), fd = cli_connect();
	char *big = calloc(1, BIG);
	uint64_t sent = 0, got = 0;
	ssize_t r;
	struct iovec iov[3];

	if (!big)
		die("calloc");
	iov[0] = (struct iovec){ big, 10 };
	iov[1] = (struct iovec){ big + 10, 20 };
	iov[2] = (struct iovec){ big + 30, 30 };
	rec_rc("writev 10+20+30", writev(fd, iov, 3));
	sent = 60;
	set_nonblock(fd, 1);
	r = send(fd, big, BIG, MSG_NOSIGNAL);
	rec("first big send partial (0 < n < len) = %d", r > 0 && (size_t)r < BIG);
	if (r > 0)
		sent += (uint64_t)r;
	while ((r = send(fd, big, BIG, MSG_NOSIGNAL)) > 0)
		sent += (uint64_t)r;
	rec_rc("send until full", r);
	rec_rc("write when full", write(fd, big, 100));
	set_nonblock(fd, 0);
	rec_rc("shutdown SHUT_WR", shutdown(fd, SHUT_WR));
	go_send(ctl);
	xrecv(ctl, &got, sizeof(got));
	rec("server counted every byte = %d", got == sent);
	free(big);
	close(fd);
	close(ctl);
}

/* MSG_PEEK, FIONREAD, MSG_DONTWAIT. */
static void s_peek(void)
{
	int l = srv_listen(), c = srv_accept(l), n = -1;
	struct pollfd p = { .fd = c, .events = POLLIN };

	rec_recv("recv DONTWAIT empty", c, 4, MSG_DONTWAIT);
	go_send(c);
	poll(&p, 1, -1);
	rec_rc("FIONREAD", ioctl(c, FIONREAD, &n));
	rec("FIONREAD value = %d", n);
	rec_recv("peek 3", c, 3, MSG_PEEK);
	rec_recv("peek 3 again", c, 3, MSG_PEEK);
	rec_recv("recv 2", c, 2, 0);
	rec_recv("peek 10", c, 10, MSG_PEEK);
	rec_recv("recv 10", c, 10, 0);
	rec_rc("FIONREAD empty", ioctl(c, FIONREAD, &n));
	rec("FIONREAD value = %d", n);
	go_send(c);
	close(c);
	close(l);
}

static void c_peek(void)
{
	int fd = cli_connect();

	go_wait(fd);
	rec_send("send abcdef", fd, "abcdef", 0);
	go_wait(fd);
	close(fd);
}

/* MSG_WAITALL across several writes, and its early return at EOF. */
static void s_waitall(void)
{
	int l = srv_listen(), c = srv_accept(l);
	static char buf[2048];
	long r;
	int same = 1, i;

	r = rec_rc("recv WAITALL 1000", recv(c, buf, 1000, MSG_WAITALL));
	for (i = 0; i < 1000 && r == 1000; i++)
		if (buf[i] != (char)('a' + i / 100))
			same = 0;
	rec("bytes in order = %d", same);
	go_send(c);
	rec_recv("recv WAITALL 100 hits EOF", c, 100, MSG_WAITALL);
	rec_recv("recv after EOF", c, 100, MSG_WAITALL);
	close(c);
	close(l);
}

static void c_waitall(void)
{
	int fd = cli_connect(), i;
	char chunk[100];
	long total = 0;

	for (i = 0; i < 10; i++) {
		memset(chunk, 'a' + i, sizeof(chunk));
		total += send(fd, chunk, sizeof(chunk), MSG_NOSIGNAL);
	}
	rec("sent in 10 writes = %ld", total);
	go_wait(fd);
	rec_send("send tail", fd, "0123456789", 0);
	rec_rc("shutdown SHUT_WR", shutdown(fd, SHUT_WR));
	rec_recv("recv eof", fd, 10, 0);
	close(fd);
}

/* Half-close: shutdown(SHUT_WR) lets the peer read EOF and still answer. */
static void s_half_close(void)
{
	int l = srv_listen(), c = srv_accept(l);
	struct pollfd p = { .fd = c, .events = POLLIN | POLLRDHUP };

	rec_recv("recv request", c, 3, MSG_WAITALL);
	rec_rc("poll", poll(&p, 1, -1));
	rec_mask("poll revents after peer SHUT_WR", (unsigned)p.revents);
	rec_recv("recv eof", c, 10, 0);
	rec_recv("recv eof again", c, 10, 0);
	rec_send("send response after peer SHUT_WR", c, "resp", 0);
	rec_rc("shutdown SHUT_RDWR", shutdown(c, SHUT_RDWR));
	rec_rc("send after own shutdown", send(c, "x", 1, MSG_NOSIGNAL));
	rec_rc("close", close(c));
	close(l);
}

static void c_half_close(void)
{
	int fd = cli_connect();

	rec_send("send req", fd, "req", 0);
	rec_rc("shutdown SHUT_WR", shutdown(fd, SHUT_WR));
	rec_rc("send after SHUT_WR", send(fd, "x", 1, MSG_NOSIGNAL));
	rec_recv("recv response", fd, 4, MSG_WAITALL);
	rec_recv("recv eof", fd, 10, 0);
	rec_rc("shutdown SHUT_RD", shutdown(fd, SHUT_RD));
	rec_recv("recv after SHUT_RD", fd, 10, 0);
	close(fd);
}

/* Close with unread data: the peer is reset. */
static void s_close_unread(void)
{
	int l = srv_listen(), c = srv_accept(l), n = 0;
	struct pollfd p = { .fd = c, .events = POLLIN };

	/* Wait until all 100 bytes are here, then close without reading. */
	while (n < 100) {
		poll(&p, 1, -1);
		if (ioctl(c, FIONREAD, &n) < 0)
			die("FIONREAD");
		if (n < 100) {
			p.revents = 0;
			usleep(1000); /* level-triggered: poll would spin */
		}
	}
	rec("unread bytes at close = %d", n);
	rec_rc("close with unread data", close(c));
	close(l);
}

static void c_close_unread(void)
{
	int fd = cli_connect();
	char buf[100];

	memset(buf, 'u', sizeof(buf));
	rec_rc("send 100", send(fd, buf, sizeof(buf), MSG_NOSIGNAL));
	rec_rc("recv blocks until reset", recv(fd, buf, sizeof(buf), 0));
	rec_rc("recv after reset", recv(fd, buf, sizeof(buf), 0));
	rec_rc("send after reset", send(fd, buf, 1, MSG_NOSIGNAL));
	close(fd);
}

/* epoll level-triggered with EPOLLRDHUP, listener in the set too. */
static void s_epoll_lt(void)
{
	int l = srv_listen(), ep = epoll_create1(EPOLL_CLOEXEC), c;
	struct epoll_event ev = { .events = EPOLLIN }, out[4];
	int n;

	rec_fd("epoll_create1", ep);
	ev.data.u64 = 1;
	rec_rc("epoll_ctl ADD listener", epoll_ctl(ep, EPOLL_CTL_ADD, l, &ev));
	n = (int)rec_rc("epoll_wait listener", epoll_wait(ep, out, 4, -1));
	if (n > 0)
		rec("event data = %llu", (unsigned long long)out[0].data.u64), rec_mask("events", out[0].events);
	c = srv_accept(l);
	rec_rc("epoll_ctl DEL listener", epoll_ctl(ep, EPOLL_CTL_DEL, l, NULL));
	ev = (struct epoll_event){ .events = EPOLLIN | EPOLLRDHUP, .data.u64 = 2 };
	rec_rc("epoll_ctl ADD conn", epoll_ctl(ep, EPOLL_CTL_ADD, c, &ev));
	rec_rc("epoll_ctl ADD conn twice", epoll_ctl(ep, EPOLL_CTL_ADD, c, &ev));
	rec_rc("epoll_wait nothing yet", epoll_wait(ep, out, 4, 0));
	go_send(c);
	n = (int)rec_rc("epoll_wait data", epoll_wait(ep, out, 4, -1));
	if (n > 0)
		rec("event data = %llu", (unsigned long long)out[0].data.u64), rec_mask("events", out[0].events);
	rec_recv("recv 4 of 10", c, 4, 0);
	n = (int)rec_rc("epoll_wait level: still readable", epoll_wait(ep, out, 4, 0));
	if (n > 0)
		rec_mask("events", out[0].events);
	rec_recv("recv rest", c, 10, 0);
	rec_rc("epoll_wait drained", epoll_wait(ep, out, 4, 0));
	ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP;
	rec_rc("epoll_ctl MOD +OUT", epoll_ctl(ep, EPOLL_CTL_MOD, c, &ev));
	n = (int)rec_rc("epoll_wait writable", epoll_wait(ep, out, 4, -1));
	if (n > 0)
		rec_mask("events", out[0].events);
	ev.events = EPOLLIN | EPOLLRDHUP;
	epoll_ctl(ep, EPOLL_CTL_MOD, c, &ev);
	go_send(c);
	n = (int)rec_rc("epoll_wait peer SHUT_WR", epoll_wait(ep, out, 4, -1));
	if (n > 0)
		rec_mask("events", out[0].events);
	rec_recv("recv eof", c, 10, 0);
	n = (int)rec_rc("epoll_wait level: EOF stays", epoll_wait(ep, out, 4, 0));
	if (n > 0)
		rec_mask("events", out[0].events);
	close(c);
	close(ep);
	close(l);
}

static void c_epoll_lt(void)
{
	int fd = cli_connect();

	go_wait(fd);
	rec_send("send 10", fd, "0123456789", 0);
	go_wait(fd);
	rec_rc("shutdown SHUT_WR", shutdown(fd, SHUT_WR));
	rec_recv("recv eof", fd, 10, 0);
	close(fd);
}

/* epoll DEL and ADD again around traffic, as event loops (redis's ae) do
 * around each write: a deleted fd reports nothing, MOD/DEL of it fail, a
 * re-added one reports what is ready with its new data. */
static void s_epoll_readd(void)
{
	int l = srv_listen(), ep = epoll_create1(EPOLL_CLOEXEC), c = srv_accept(l), n;
	struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP, .data.u64 = 3 }, out[4];

	rec_rc("epoll_ctl ADD", epoll_ctl(ep, EPOLL_CTL_ADD, c, &ev));
	go_send(c);
	n = (int)rec_rc("epoll_wait data", epoll_wait(ep, out, 4, -1));
	if (n > 0)
		rec("event data = %llu", (unsigned long long)out[0].data.u64), rec_mask("events", out[0].events);
	rec_rc("epoll_ctl DEL", epoll_ctl(ep, EPOLL_CTL_DEL, c, NULL));
	rec_rc("epoll_ctl DEL again", epoll_ctl(ep, EPOLL_CTL_DEL, c, NULL));
	rec_rc("epoll_ctl MOD of a deleted fd", epoll_ctl(ep, EPOLL_CTL_MOD, c, &ev));
	rec_rc("epoll_wait after DEL, data unread", epoll_wait(ep, out, 4, 100));
	ev.data.u64 = 4;
	rec_rc("epoll_ctl ADD again", epoll_ctl(ep, EPOLL_CTL_ADD, c, &ev));
	rec_rc("epoll_ctl ADD again twice", epoll_ctl(ep, EPOLL_CTL_ADD, c, &ev));
	n = (int)rec_rc("epoll_wait re-added", epoll_wait(ep, out, 4, -1));
	if (n > 0)
		rec("event data = %llu", (unsigned long long)out[0].data.u64), rec_mask("events", out[0].events);
	rec_recv("recv", c, 10, 0);
	rec_rc("epoll_ctl DEL", epoll_ctl(ep, EPOLL_CTL_DEL, c, NULL));
	go_send(c);
	rec_rc("epoll_wait after DEL, peer closing", epoll_wait(ep, out, 4, 100));
	rec_recv("recv eof", c, 10, 0);
	ev.data.u64 = 5;
	rec_rc("epoll_ctl ADD after EOF", epoll_ctl(ep, EPOLL_CTL_ADD, c, &ev));
	n = (int)rec_rc("epoll_wait EOF", epoll_wait(ep, out, 4, -1));
	if (n > 0)
		rec("event data = %llu", (unsigned long long)out[0].data.u64), rec_mask("events", out[0].events);
	close(c);
	close(ep);
	close(l);
}

static void c_epoll_readd(void)
{
	int fd = cli_connect();

	go_wait(fd);
	rec_send("send 3", fd, "abc", 0);
	go_wait(fd);
	close(fd);
}

/* epoll edge-triggered: one event per arrival, not per readable state. */
static void s_epoll_et(void)
{
	int l = srv_listen(), ep = epoll_create(8), c = srv_accept(l), n;
	struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP | EPOLLET, .data.u64 = 7 }, out[4];
	char buf[64];
	long r, total = 0;

	rec_fd("epoll_create", ep);
	set_nonblock(c, 1);
	rec_rc("epoll_ctl ADD ET", epoll_ctl(ep, EPOLL_CTL_ADD, c, &ev));
	go_send(c);
	n = (int)rec_rc("epoll_wait first arrival", epoll_wait(ep, out, 4, -1));
	if (n > 0)
		rec_mask("events", out[0].events);
	rec_recv("recv 4 of 10", c, 4, 0);
	rec_rc("epoll_wait no new edge", epoll_wait(ep, out, 4, 0));
	go_send(c);
	n = (int)rec_rc("epoll_wait second arrival", epoll_wait(ep, out, 4, -1));
	if (n > 0)
		rec_mask("events", out[0].events);
	while ((r = recv(c, buf, 3, 0)) > 0)
		total += r;
	rec("drained total = %ld then errno = %s", total, ename(errno));
	go_send(c);
	n = (int)rec_rc("epoll_wait peer SHUT_WR", epoll_wait(ep, out, 4, -1));
	if (n > 0)
		rec_mask("events", out[0].events);
	rec_recv("recv eof", c, 10, 0);
	close(c);
	close(ep);
	close(l);
}

static void c_epoll_et(void)
{
	int fd = cli_connect();

	go_wait(fd);
	rec_send("send 10", fd, "0123456789", 0);
	go_wait(fd);
	rec_send("send 5", fd, "abcde", 0);
	go_wait(fd);
	rec_rc("shutdown SHUT_WR", shutdown(fd, SHUT_WR));
	close(fd);
}

/* One fd in two epoll sets: both fire, each with its own cookie; closing
 * one set leaves the other working. */
static void s_epoll_two(void)
{
	int l = srv_listen(), c = srv_accept(l), e1 = epoll_create1(0), e2 = epoll_create1(0), n;
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = 11 }, out[2];

	rec_rc("ADD to set 1", epoll_ctl(e1, EPOLL_CTL_ADD, c, &ev));
	ev.data.u64 = 22;
	ev.events = EPOLLIN | EPOLLET;
	rec_rc("ADD to set 2 (ET)", epoll_ctl(e2, EPOLL_CTL_ADD, c, &ev));
	go_send(c);
	n = (int)rec_rc("set 1 wait", epoll_wait(e1, out, 2, -1));
	if (n > 0)
		rec("set 1 cookie = %llu", (unsigned long long)out[0].data.u64);
	n = (int)rec_rc("set 2 wait", epoll_wait(e2, out, 2, -1));
	if (n > 0)
		rec("set 2 cookie = %llu", (unsigned long long)out[0].data.u64);
	rec_recv("recv", c, 5, MSG_WAITALL);
	rec_rc("close set 1", close(e1));
	go_send(c);
	n = (int)rec_rc("set 2 wait after set 1 closed", epoll_wait(e2, out, 2, -1));
	if (n > 0)
		rec("set 2 cookie = %llu", (unsigned long long)out[0].data.u64);
	rec_recv("recv", c, 5, MSG_WAITALL);
	close(e2);
	close(c);
	close(l);
}

static void c_epoll_two(void)
{
	int fd = cli_connect();

	go_wait(fd);
	rec_send("send", fd, "one..", 0);
	go_wait(fd);
	rec_send("send", fd, "two..", 0);
	close(fd);
}

/* poll, ppoll, select, pselect. */
static void s_poll_select(void)
{
	int l = srv_listen(), c = srv_accept(l);
	struct pollfd p = { .fd = c, .events = POLLIN | POLLOUT | POLLRDHUP };
	struct timespec zero = { 0, 0 };
	struct timeval tv0 = { 0, 0 };
	fd_set r, w;
	sigset_t none;

	sigemptyset(&none);
	rec_rc("poll", poll(&p, 1, 0));
	rec_mask("poll revents (writable only)", (unsigned)p.revents);
	p.events = POLLIN;
	rec_rc("poll IN nothing", poll(&p, 1, 0));
	FD_ZERO(&r);
	FD_SET(c, &r);
	rec_rc("select read nothing", select(c + 1, &r, NULL, NULL, &tv0));
	go_send(c);
	rec_rc("ppoll IN", ppoll(&p, 1, NULL, &none));
	rec_mask("ppoll revents", (unsigned)p.revents);
	FD_ZERO(&r);
	FD_ZERO(&w);
	FD_SET(c, &r);
	FD_SET(c, &w);
	rec_rc("select read+write", select(c + 1, &r, &w, NULL, NULL));
	rec("select readable = %d writable = %d", FD_ISSET(c, &r), FD_ISSET(c, &w));
	rec_recv("recv", c, 3, MSG_WAITALL);
	FD_ZERO(&r);
	FD_SET(c, &r);
	rec_rc("pselect read drained", pselect(c + 1, &r, NULL, NULL, &zero, &none));
	go_send(c);
	FD_ZERO(&r);
	FD_SET(c, &r);
	rec_rc("select read after peer close", select(c + 1, &r, NULL, NULL, NULL));
	p.events = POLLIN | POLLRDHUP;
	rec_rc("poll after peer close", poll(&p, 1, -1));
	rec_mask("poll revents", (unsigned)p.revents);
	rec_recv("recv eof", c, 3, 0);
	close(c);
	close(l);
}

static void c_poll_select(void)
{
	int fd = cli_connect();

	go_wait(fd);
	rec_send("send", fd, "abc", 0);
	go_wait(fd);
	rec_rc("close", close(fd));
}

/* dup, dup2 and F_DUPFD over sockets: the connection lives while any
 * descriptor does; dup2 over a socket closes the socket it replaces. */
static void s_dup2(void)
{
	int l = srv_listen(), c1 = srv_accept(l), c2 = srv_accept(l);

	rec_recv("conn 1 recv", c1, 1, MSG_WAITALL);
	rec_recv("conn 2 recv", c2, 1, MSG_WAITALL);
	rec_recv("conn 2 closed by dup2 over it", c2, 10, 0);
	rec_recv("conn 1 recv via dup2", c1, 4, MSG_WAITALL);
	rec_recv("conn 1 recv via F_DUPFD", c1, 4, MSG_WAITALL);
	rec_recv("conn 1 eof when last fd closed", c1, 10, 0);
	close(c1);
	close(c2);
	close(l);
}

static void c_dup2(void)
{
	int a = cli_connect(), b = cli_connect(), d, devnull;

	rec_send("send on a", a, "1", 0);
	rec_send("send on b", b, "2", 0);
	rec("dup2 returns target = %d", dup2(a, b) == b);
	rec_send("send via b (now a)", b, "dup2", 0);
	d = fcntl(a, F_DUPFD_CLOEXEC, 100);
	rec("F_DUPFD_CLOEXEC >= 100 = %d, cloexec = %d", d >= 100,
	    d >= 0 && (fcntl(d, F_GETFD) & FD_CLOEXEC));
	rec_rc("close a", close(a));
	rec_send("send via dup", d, "dupf", 0);
	rec_rc("close dup", close(d));
	rec_rc("recv on a closed fd", recv(a, &d, 1, 0));
	devnull = open("/dev/null", O_WRONLY);
	rec("dup2 /dev/null over last socket fd = %d", dup2(devnull, b) == b);
	rec_rc("write now goes to /dev/null", write(b, "zz", 2));
	close(devnull);
	close(b);
}

/* A socket used by the child after fork (both directions), server side
 * handing the accepted socket to a child too. */
static void s_fork(void)
{
	int l = srv_listen(), c = srv_accept(l), st = -1;
	pid_t pid = fork();

	if (pid == 0) {
		char buf[16];
		long r;

		close(l);
		r = recv(c, buf, 5, MSG_WAITALL);
		if (r == 5 && memcmp(buf, "child", 5) == 0)
			xsend(c, "CHILD", 5);
		_exit(r == 5 ? 0 : 3);
	}
	rec("fork = %s", pid > 0 ? "parent" : "failed");
	waitpid(pid, &st, 0);
	rec("server child exit = %d", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	rec_recv("parent recv", c, 6, MSG_WAITALL);
	rec_send("parent send", c, "PARENT", 0);
	rec_recv("parent recv eof", c, 6, 0);
	close(c);
	close(l);
}

static void c_fork(void)
{
	int fd = cli_connect(), st = -1;
	pid_t pid = fork();

	if (pid == 0) {
		char buf[8];
		long r;

		xsend(fd, "child", 5);
		r = recv(fd, buf, 5, MSG_WAITALL);
		_exit(r == 5 && memcmp(buf, "CHILD", 5) == 0 ? 0 : 3);
	}
	waitpid(pid, &st, 0);
	rec("client child exit = %d", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	rec_send("parent send", fd, "parent", 0);
	rec_recv("parent recv", fd, 6, MSG_WAITALL);
	rec_rc("close", close(fd));
}

/* Two threads share one socket: their writes stay whole records, each
 * thread's records in its order; a third thread blocks in recv meanwhile. */
#define THR_RECS 2000
struct thr_arg { int fd; char tag; };

static void *thr_writer(void *p)
{
	struct thr_arg *a = p;
	char rec8[16];
	unsigned i;

	for (i = 0; i < THR_RECS; i++) {
		snprintf(rec8, sizeof(rec8), "%c%07u", a->tag, i % 10000000u);
		xsend(a->fd, rec8, 8);
	}
	return NULL;
}

static void *thr_reader(void *p)
{
	struct thr_arg *a = p;
	static char got[8];

	xrecv(a->fd, got, 4);
	return got;
}

static void s_threads(void)
{
	int l = srv_listen(), c = srv_accept(l), i, na = 0, nb = 0, ok = 1;
	static char buf[2 * THR_RECS * 8];
	long r;

	r = recv(c, buf, sizeof(buf), MSG_WAITALL);
	rec("received = %ld", r);
	for (i = 0; i + 8 <= r; i += 8) {
		char exp[16];
		int *n = buf[i] == 'A' ? &na : &nb;

		snprintf(exp, sizeof(exp), "%c%07u", buf[i] == 'A' ? 'A' : 'B', (unsigned)*n % 10000000u);
		if (memcmp(buf + i, exp, 8) != 0)
			ok = 0;
		(*n)++;
	}
	rec("records whole and in per-thread order = %d, A = %d, B = %d", ok, na, nb);
	rec_send("send done", c, "done", 0);
	rec_recv("recv eof", c, 4, 0);
	close(c);
	close(l);
}

static void c_threads(void)
{
	int fd = cli_connect();
	struct thr_arg a = { fd, 'A' }, b = { fd, 'B' }, rd = { fd, 0 };
	pthread_t ta, tb, tr;
	void *got = NULL;

	pthread_create(&tr, NULL, thr_reader, &rd);
	pthread_create(&ta, NULL, thr_writer, &a);
	pthread_create(&tb, NULL, thr_writer, &b);
	pthread_join(ta, NULL);
	pthread_join(tb, NULL);
	pthread_join(tr, &got);
	rec("reader thread got \"%.4s\"", (char *)got);
	rec_rc("close", close(fd));
}

/* Many concurrent connections, served by one epoll loop. */
static void raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 4 * MANY_CONNS) {
		rl.rlim_cur = rl.rlim_max < 4 * MANY_CONNS ? rl.rlim_max : 4 * MANY_CONNS;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static void s_many(void)
{
	int l, ep = epoll_create1(0), conns = 0, served = 0;
	struct epoll_event ev = { .events = EPOLLIN }, out[64];

	raise_nofile();
	l = srv_listen();
	ev.data.fd = l;
	epoll_ctl(ep, EPOLL_CTL_ADD, l, &ev);
	while (served < MANY_CONNS) {
		int n = epoll_wait(ep, out, 64, -1), i;

		for (i = 0; i < n; i++) {
			int fd = out[i].data.fd;
			uint32_t v;

			if (fd == l) {
				int c = accept(l, NULL, NULL);

				if (c < 0)
					die("accept");
				conns++;
				ev.data.fd = c;
				epoll_ctl(ep, EPOLL_CTL_ADD, c, &ev);
				continue;
			}
			if (recv(fd, &v, 4, MSG_WAITALL) != 4)
				die("recv index");
			v++;
			xsend(fd, &v, 4);
			epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
			close(fd);
			served++;
		}
	}
	rec("accepted = %d served = %d", conns, served);
	close(ep);
	close(l);
}

static void c_many(void)
{
	static int fds[MANY_CONNS];
	int i, connected = 0, right = 0;

	raise_nofile();
	for (i = 0; i < MANY_CONNS; i++) {
		fds[i] = socket(AF_INET, SOCK_STREAM, 0);
		if (fds[i] >= 0 && connect(fds[i], (struct sockaddr *)&srv_addr, sizeof(srv_addr)) == 0)
			connected++;
	}
	rec("connected = %d", connected);
	for (i = 0; i < MANY_CONNS; i++) {
		uint32_t v = (uint32_t)i;

		xsend(fds[i], &v, 4);
	}
	for (i = 0; i < MANY_CONNS; i++) {
		uint32_t v = 0;

		if (recv(fds[i], &v, 4, MSG_WAITALL) == 4 && v == (uint32_t)i + 1)
			right++;
		close(fds[i]);
	}
	rec("answers right = %d", right);
}

/* Connect to a closed port: blocking and nonblocking, and after the
 * listener closed. */
static void s_refused(void)
{
	int l = srv_listen(), c = srv_accept(l);

	rec_rc("close listener", close(l));
	go_send(c);
	rec_recv("recv eof", c, 4, 0);
	close(c);
}

static void c_refused(void)
{
	struct sockaddr_in other = srv_addr;
	int fd = cli_connect(), s, err = 0;
	socklen_t el = sizeof(err);
	struct pollfd p;

	go_wait(fd);
	s = tcp_socket();
	rec_rc("connect after listener closed", connect(s, (struct sockaddr *)&srv_addr,
						       sizeof(srv_addr)));
	close(s);
	other.sin_port = htons((uint16_t)(ntohs(srv_addr.sin_port) + 1));
	s = tcp_socket();
	rec_rc("connect to port never listened", connect(s, (struct sockaddr *)&other,
							sizeof(other)));
	rec_rc("send on refused socket", send(s, "x", 1, MSG_NOSIGNAL));
	close(s);
	s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	rec_rc("nonblocking connect", connect(s, (struct sockaddr *)&other, sizeof(other)));
	p = (struct pollfd){ .fd = s, .events = POLLOUT };
	rec_rc("poll", poll(&p, 1, -1));
	rec_mask("poll revents", (unsigned)p.revents);
	rec_rc("SO_ERROR", getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &el));
	rec("SO_ERROR value = %s", err ? ename(err) : "0");
	close(s);
	close(fd);
}

/* New sockets after a connection (under LD_PRELOAD they are dups of the
 * spare kernel socket the layer kept from it): a real, new TCP socket to
 * every look; O_NONBLOCK and FIONBIO set before a connect that goes to the
 * kernel take effect; options, bind, and connections after them work. */
static void s_spare(void)
{
	int l = srv_listen(), ctl = srv_accept(l);

	for (int i = 0; i < 3; i++) {
		int c = srv_accept(l);
		char what[32];

		snprintf(what, sizeof(what), "recv on conn %d", i);
		rec_recv(what, c, 1, 0);
		close(c);
	}
	go_wait(ctl);
	close(ctl);
	close(l);
}

static void refused_nb(const char *what, int s, const struct sockaddr_in *to)
{
	struct pollfd p = { .fd = s, .events = POLLOUT };
	int err = 0;
	socklen_t el = sizeof(err);

	rec_rc(what, connect(s, (const struct sockaddr *)to, sizeof(*to)));
	rec_rc("poll", poll(&p, 1, -1));
	rec_rc("SO_ERROR", getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &el));
	rec("SO_ERROR value = %s", err ? ename(err) : "0");
}

static void c_spare(void)
{
	struct sockaddr_in other = srv_addr, me;
	int ctl = cli_connect(), s, v = 0, one = 1;
	socklen_t ml = sizeof(me), vl = sizeof(v);
	struct stat st;

	other.sin_port = htons((uint16_t)(ntohs(srv_addr.sin_port) + 1));
	s = tcp_socket();
	rec("fstat socket = %d", fstat(s, &st) == 0 && S_ISSOCK(st.st_mode));
	rec_rc("SO_TYPE", getsockopt(s, SOL_SOCKET, SO_TYPE, &v, &vl));
	rec("SO_TYPE stream = %d", v == SOCK_STREAM);
	rec_rc("getsockname", getsockname(s, (struct sockaddr *)&me, &ml));
	rec("unbound: inet %d port %u", me.sin_family == AF_INET, ntohs(me.sin_port));
	rec("F_GETFL nonblock = %d", !!(fcntl(s, F_GETFL) & O_NONBLOCK));
	rec_rc("F_SETFL O_NONBLOCK", fcntl(s, F_SETFL, O_RDWR | O_NONBLOCK));
	rec("F_GETFL nonblock = %d", !!(fcntl(s, F_GETFL) & O_NONBLOCK));
	refused_nb("nonblocking connect to a closed port", s, &other);
	close(s);
	s = tcp_socket();
	rec_rc("FIONBIO", ioctl(s, FIONBIO, &one));
	refused_nb("FIONBIO connect to a closed port", s, &other);
	close(s);
	s = tcp_socket();
	rec_rc("connect", connect(s, (struct sockaddr *)&srv_addr, sizeof(srv_addr)));
	rec_send("send", s, "a", 0);
	close(s);
	s = tcp_socket();
	rec_rc("TCP_NODELAY", setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)));
	vl = sizeof(v);
	rec_rc("get TCP_NODELAY", getsockopt(s, IPPROTO_TCP, TCP_NODELAY, &v, &vl));
	rec("TCP_NODELAY = %d", v);
	rec_rc("connect", connect(s, (struct sockaddr *)&srv_addr, sizeof(srv_addr)));
	rec_send("send", s, "b", 0);
	close(s);
	s = tcp_socket();
	memset(&me, 0, sizeof(me));
	me.sin_family = AF_INET;
	rec_rc("bind port 0", bind(s, (struct sockaddr *)&me, sizeof(me)));
	ml = sizeof(me);
	rec_rc("getsockname", getsockname(s, (struct sockaddr *)&me, &ml));
	rec("bound port non-zero = %d", me.sin_port != 0);
	rec_rc("connect", connect(s, (struct sockaddr *)&srv_addr, sizeof(srv_addr)));
	rec_send("send", s, "c", 0);
	close(s);
	go_send(ctl);
	close(ctl);
}

/* A listener closed and opened again on the same port, between
 * connections the layer sets up without the monitor (all but the first):
 * refused while nothing listens, served again after. */
static void s_relisten(void)
{
	int l = srv_listen(), c, ctl;

	for (int i = 0; i < 3; i++) {
		c = srv_accept(l);
		rec_recv("recv", c, 1, MSG_WAITALL);
		rec_send("send", c, "y", 0);
		rec_recv("recv eof", c, 1, 0);
		close(c);
	}
	ctl = srv_accept(l);
	rec_rc("close listener", close(l));
	go_send(ctl);
	go_wait(ctl);
	l = srv_listen_nr();
	go_send(ctl);
	c = srv_accept(l);
	rec_recv("recv after relisten", c, 1, MSG_WAITALL);
	rec_send("send", c, "z", 0);
	rec_recv("recv eof", c, 1, 0);
	close(c);
	close(l);
	close(ctl);
}

static void c_relisten(void)
{
	int fd, ctl, s;

	for (int i = 0; i < 3; i++) {
		fd = cli_connect();
		rec_send("send", fd, "x", 0);
		rec_recv("recv", fd, 1, MSG_WAITALL);
		close(fd);
	}
	ctl = cli_connect();
	go_wait(ctl);
	s = tcp_socket();
	rec_rc("connect while nothing listens", connect(s, (struct sockaddr *)&srv_addr,
						       sizeof(srv_addr)));
	close(s);
	go_send(ctl);
	go_wait(ctl);
	fd = cli_connect();
	rec_send("send", fd, "x", 0);
	rec_recv("recv after relisten", fd, 1, MSG_WAITALL);
	close(fd);
	close(ctl);
}

/* A listener closed with a connection it never accepted: the connector,
 * which wrote to it, reads a reset. */
static void s_close_queued(void)
{
	int l = srv_listen(), ctl = srv_accept(l);

	go_wait(ctl);  /* the second connection is made and written to */
	rec_rc("close listener", close(l));
	go_send(ctl);
	go_wait(ctl);
	close(ctl);
}

static void c_close_queued(void)
{
	int ctl = cli_connect(), fd = cli_connect();

	rec_send("send to the queued connection", fd, "x", 0);
	go_send(ctl);
	go_wait(ctl);
	rec_recv("recv after the listener closed", fd, 1, 0);
	rec_recv("recv again", fd, 1, 0);
	close(fd);
	go_send(ctl);
	close(ctl);
}

/* Peer killed mid-stream: the writer gets EPIPE or ECONNRESET (which one
 * depends on whether the reset or the FIN is seen first: printed as the
 * invariant), never SIGPIPE with MSG_NOSIGNAL; a reader sees EOF. */
static volatile sig_atomic_t sigpipes;
static void on_sigpipe(int sig) { (void)sig; sigpipes++; }

static void s_killed(void)
{
	int l = srv_listen(), c = srv_accept(l), c2;
	char buf[4096];

	xrecv(c, buf, sizeof(buf)); /* the stream is flowing */
	c2 = srv_accept(l);
	/* SIGKILL: no cleanup in this process may help the layer. */
	raise(SIGKILL);
	close(c2);
}

static void c_killed(void)
{
	int fd = cli_connect(), fd2;
	char buf[4096];
	long r;
	int e = 0;
	struct sigaction sa = { .sa_handler = on_sigpipe };

	sigaction(SIGPIPE, &sa, NULL);
	memset(buf, 'k', sizeof(buf));
	fd2 = cli_connect();
	while ((r = send(fd, buf, sizeof(buf), MSG_NOSIGNAL)) > 0)
		;
	e = errno;
	rec("stream send fails = %d with EPIPE or ECONNRESET = %d", r < 0,
	    e == EPIPE || e == ECONNRESET);
	rec("SIGPIPE with MSG_NOSIGNAL = %d", (int)sigpipes);
	rec_rc("send again", send(fd, buf, 1, MSG_NOSIGNAL));
	rec_rc("write without MSG_NOSIGNAL", write(fd, buf, 1));
	rec("SIGPIPE after write = %d", (int)sigpipes);
	rec_recv("idle connection sees EOF", fd2, 10, 0);
	close(fd);
	close(fd2);
}

/* Socket options, fcntl flags and the sendmsg/recvmsg/sendto/recvfrom
 * family on a connected socket. */
static void s_options(void)
{
	int l = srv_listen(), c = srv_accept(l), v = 0;
	socklen_t vl = sizeof(v);
	char a[4], b[8];
	struct iovec iov[2] = { { a, sizeof(a) }, { b, sizeof(b) } };
	struct msghdr m = { .msg_iov = iov, .msg_iovlen = 2 };
	struct sockaddr_in from;
	socklen_t fl = sizeof(from);
	long r;

	rec_rc("getsockopt SO_ACCEPTCONN (conn)", getsockopt(c, SOL_SOCKET, SO_ACCEPTCONN, &v, &vl));
	rec("value = %d", v);
	vl = sizeof(v);
	rec_rc("getsockopt SO_ACCEPTCONN (listener)", getsockopt(l, SOL_SOCKET, SO_ACCEPTCONN, &v, &vl));
	rec("value = %d", v);
	r = rec_rc("recvmsg 12 into 4+8", recvmsg(c, &m, MSG_WAITALL));
	if (r == 12)
		rec("iov = \"%.4s\" \"%.8s\"", a, b);
	r = rec_rc("recvfrom", recvfrom(c, b, 3, MSG_WAITALL, (struct sockaddr *)&from, &fl));
	rec("recvfrom addrlen = %u", fl);
	rec_send("send", c, "ok", 0);
	rec_recv("recv eof", c, 3, 0);
	close(c);
	close(l);
}

static void c_options(void)
{
	int fd = tcp_socket(), v = 1, got = -1;
	socklen_t gl = sizeof(got);
	struct iovec iov[3] = { { "head", 4 }, { "body", 4 }, { "tail", 4 } };
	struct msghdr m = { .msg_iov = iov, .msg_iovlen = 3 };

	rec_rc("setsockopt SO_REUSEADDR", setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &v, sizeof(v)));
	rec_rc("getsockopt SO_REUSEADDR", getsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &got, &gl));
	rec("value != 0 = %d", got != 0);
	rec_rc("setsockopt SO_KEEPALIVE", setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &v, sizeof(v)));
	gl = sizeof(got);
	rec_rc("getsockopt SO_KEEPALIVE", getsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &got, &gl));
	rec("value != 0 = %d", got != 0);
	v = 65536;
	rec_rc("setsockopt SO_SNDBUF", setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &v, sizeof(v)));
	gl = sizeof(got);
	rec_rc("getsockopt SO_SNDBUF", getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &got, &gl));
	rec("value >= requested = %d", got >= 65536);
	gl = sizeof(got);
	rec_rc("getsockopt SO_TYPE", getsockopt(fd, SOL_SOCKET, SO_TYPE, &got, &gl));
	rec("value = %s", got == SOCK_STREAM ? "SOCK_STREAM" : "other");
	rec_rc("connect", connect(fd, (struct sockaddr *)&srv_addr, sizeof(srv_addr)));
	v = 1;
	rec_rc("setsockopt TCP_NODELAY", setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &v, sizeof(v)));
	gl = sizeof(got);
	rec_rc("getsockopt TCP_NODELAY", getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &got, &gl));
	rec("value != 0 = %d", got != 0);
	gl = sizeof(got);
	rec_rc("getsockopt SO_ERROR", getsockopt(fd, SOL_SOCKET, SO_ERROR, &got, &gl));
	rec("value = %d", got);
	rec_rc("fcntl F_SETFD FD_CLOEXEC", fcntl(fd, F_SETFD, FD_CLOEXEC));
	rec("F_GETFD cloexec = %d", !!(fcntl(fd, F_GETFD) & FD_CLOEXEC));
	rec_rc("sendmsg 4+4+4", sendmsg(fd, &m, MSG_NOSIGNAL));
	rec_rc("sendto (connected, no addr)", sendto(fd, "xyz", 3, MSG_NOSIGNAL, NULL, 0));
	rec_recv("recv", fd, 2, MSG_WAITALL);
	rec_rc("close", close(fd));
	rec_rc("close again", close(fd));
}

/* SO_RCVTIMEO / SO_SNDTIMEO: values as the kernel rounds them, bad values,
 * inheritance by accept(), and blocking recv/read/accept/send giving up with
 * EAGAIN. Elapsed times are printed only as "waited at least the timeout".
 * Two connections: A carries the data, B says "go". */
static int64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void rec_timeo(const char *what, int fd, int name)
{
	struct timeval tv = { -1, -1 };
	socklen_t l = sizeof(tv);

	if (getsockopt(fd, SOL_SOCKET, name, &tv, &l) < 0)
		rec("%s = -1 %s", what, ename(errno));
	else
		rec("%s = %ld.%06ld len %u", what, (long)tv.tv_sec, (long)tv.tv_usec, l);
}

static int set_timeo(const char *what, int fd, int name, long sec, long usec)
{
	struct timeval tv = { sec, usec };

	return (int)rec_rc(what, setsockopt(fd, SOL_SOCKET, name, &tv, sizeof(tv)));
}

static void s_timeouts(void)
{
	int l = srv_listen_nr(), a, b, t;
	char id = 0, id2 = 0;
	static char buf[65536];
	uint64_t got = 0;
	int64_t t0;
	long r;

	set_timeo("listener SO_SNDTIMEO 0.3", l, SO_SNDTIMEO, 0, 300000);
	srv_ready();
	a = srv_accept(l);
	xrecv(a, &id, 1);
	b = srv_accept(l);
	xrecv(b, &id2, 1);
	if (id == 'B' && id2 == 'A') {
		t = a;
		a = b;
		b = t;
	}
	rec_timeo("accepted SO_SNDTIMEO (inherited)", a, SO_SNDTIMEO);
	rec_timeo("accepted SO_RCVTIMEO", a, SO_RCVTIMEO);
	set_timeo("listener SO_RCVTIMEO 0.2", l, SO_RCVTIMEO, 0, 200000);
	t0 = now_us();
	rec_rc("accept with SO_RCVTIMEO, nobody connecting", accept(l, NULL, NULL));
	rec("waited = %d", now_us() - t0 >= 200000);
	go_wait(b);
	xsend(a, "abc", 3);
	go_wait(b);  /* the client filled A and gave up */
	while ((r = recv(a, buf, sizeof(buf), 0)) > 0)
		got += (uint64_t)r;
	rec_rc("drain A ends", r);
	xsend(b, &got, sizeof(got));
	rec_recv("recv B eof", b, 4, 0);
	close(a);
	close(b);
	close(l);
}

static void c_timeouts(void)
{
	int a = cli_connect(), b, one = 1;
	static char buf[65536];
	struct pollfd p;
	uint64_t total = 0, got = 0;
	int64_t t0;
	long r;

	xsend(a, "A", 1);
	b = cli_connect();
	xsend(b, "B", 1);
	rec_timeo("default SO_RCVTIMEO", a, SO_RCVTIMEO);
	set_timeo("SO_RCVTIMEO 0.123457", a, SO_RCVTIMEO, 0, 123457);
	rec_timeo("SO_RCVTIMEO as the kernel rounds it", a, SO_RCVTIMEO);
	set_timeo("SO_RCVTIMEO usec 1000000", a, SO_RCVTIMEO, 0, 1000000);
	rec_rc("SO_RCVTIMEO short optlen", setsockopt(a, SOL_SOCKET, SO_RCVTIMEO, &one, sizeof(one)));
	{
		struct timeval tv;
		socklen_t tl = 4;
		uint32_t head;

		memset(&tv, 0xff, sizeof(tv));
		rec_rc("getsockopt SO_RCVTIMEO short optlen",
		       getsockopt(a, SOL_SOCKET, SO_RCVTIMEO, &tv, &tl));
		memcpy(&head, &tv, sizeof(head));
		rec("optlen = %u, first 4 bytes = %u (the rest untouched = %d)", tl, head,
		    ((unsigned char *)&tv)[4] == 0xff);
	}
	rec_timeo("SO_RCVTIMEO unchanged", a, SO_RCVTIMEO);
	set_timeo("SO_RCVTIMEO 0.2", a, SO_RCVTIMEO, 0, 200000);
	t0 = now_us();
	rec_recv("recv idle", a, 10, 0);
	rec("waited = %d", now_us() - t0 >= 200000);
	t0 = now_us();
	rec_rc("read idle", read(a, buf, 10));
	rec("waited = %d", now_us() - t0 >= 200000);
	go_send(b);
	p = (struct pollfd){ .fd = a, .events = POLLIN };
	rec_rc("poll", poll(&p, 1, -1));
	rec_recv("recv 10 MSG_WAITALL, 3 queued", a, 10, MSG_WAITALL);
	set_timeo("SO_RCVTIMEO tv_sec -1", a, SO_RCVTIMEO, -1, 0);
	rec_timeo("SO_RCVTIMEO after tv_sec -1", a, SO_RCVTIMEO);
	rec_recv("recv idle (expires at once)", a, 10, 0);
	set_timeo("SO_SNDTIMEO 0.2", a, SO_SNDTIMEO, 0, 200000);
	memset(buf, 't', sizeof(buf));
	do {
		t0 = now_us();
		r = send(a, buf, sizeof(buf), MSG_NOSIGNAL);
		if (r > 0)
			total += (uint64_t)r;
	} while (r > 0);
	rec("send to a peer that does not read ends -1 EAGAIN = %d", r < 0 && errno == EAGAIN);
	rec("last send waited = %d, bytes taken before = %d", now_us() - t0 >= 200000, total > 0);
	go_send(b);
	rec_rc("shutdown A", shutdown(a, SHUT_WR));
	xrecv(b, &got, sizeof(got));
	rec("server got every byte taken = %d", got == total);
	close(a);
	close(b);
}

/* exec with live connections: the server accepts, an exec that fails
 * leaves everything working, then it execs itself ("sockcase exec-child
 * CONN LISTENER") and the new image carries on with the inherited
 * connection (its options too) and the inherited listener; a close-on-exec
 * connection is closed by the exec, the peer sees end-of-stream. */
static void s_exec(void)
{
	int l = srv_listen(), c = srv_accept(l), c2;
	char a[16], b[16];

	rec_recv("recv", c, 5, MSG_WAITALL);
	c2 = rec_fd("accept4 SOCK_CLOEXEC", accept4(l, NULL, NULL, SOCK_CLOEXEC));
	set_timeo("SO_RCVTIMEO 0.5", c, SO_RCVTIMEO, 0, 500000);
	rec("cloexec: conn %d listener %d second conn %d", !!(fcntl(c, F_GETFD) & FD_CLOEXEC),
	    !!(fcntl(l, F_GETFD) & FD_CLOEXEC), !!(fcntl(c2, F_GETFD) & FD_CLOEXEC));
	rec_rc("exec of a missing file", execl("/nonexistent/sockcase", "x", (char *)NULL));
	rec_send("send after the failed exec", c, "still", 0);
	snprintf(a, sizeof(a), "%d", c);
	snprintf(b, sizeof(b), "%d", l);
	execl("/proc/self/exe", "sockcase", "exec-child", a, b, (char *)NULL);
	die("execl");
}

static void s_exec_child(int c, int l)
{
	int c3;

	int fd, open_fds = 0;

	rec("exec-child running");
	/* What the layer needs after the exec is close-on-exec again: the new
	 * image has as many fds without FD_CLOEXEC as over the kernel. */
	for (fd = 0; fd < 4096; fd++) {
		int fl = fcntl(fd, F_GETFD);

		if (fl >= 0 && !(fl & FD_CLOEXEC))
			open_fds++;
	}
	rec("fds without FD_CLOEXEC = %d", open_fds);
	rec_timeo("SO_RCVTIMEO after exec", c, SO_RCVTIMEO);
	rec("cloexec: conn %d listener %d", !!(fcntl(c, F_GETFD) & FD_CLOEXEC),
	    !!(fcntl(l, F_GETFD) & FD_CLOEXEC));
	rec_recv("recv after exec", c, 5, MSG_WAITALL);
	rec_send("send after exec", c, "AGAIN", 0);
	c3 = rec_fd("accept on the inherited listener", accept(l, NULL, NULL));
	if (c3 >= 0) {
		rec_recv("recv third", c3, 5, MSG_WAITALL);
		rec_send("send third", c3, "THIRD", 0);
		rec_recv("third eof", c3, 4, 0);
		close(c3);
	}
	rec_recv("recv eof", c, 4, 0);
	close(c);
	close(l);
}

static void c_exec(void)
{
	int fd = cli_connect(), fd2, fd3;

	rec_send("send", fd, "hello", 0);
	fd2 = cli_connect();
	rec_recv("recv", fd, 5, MSG_WAITALL);
	rec_recv("close-on-exec connection sees EOF", fd2, 4, 0);
	rec_send("send", fd, "again", 0);
	rec_recv("recv", fd, 5, MSG_WAITALL);
	fd3 = cli_connect();
	rec_send("send third", fd3, "third", 0);
	rec_recv("recv third", fd3, 5, MSG_WAITALL);
	rec_rc("close third", close(fd3));
	rec_rc("close", close(fd));
	close(fd2);
}

/* ---- table and driver ---------------------------------------------- */

static const struct sockcase {
	const char *name;
	void (*server)(void);
	void (*client)(void);
} cases[] = {
	{ "connect-block", s_connect_block, c_connect_block },
	{ "connect-nonblock", s_connect_nonblock, c_connect_nonblock },
	{ "partial-io", s_partial_io, c_partial_io },
	{ "peek", s_peek, c_peek },
	{ "waitall", s_waitall, c_waitall },
	{ "half-close", s_half_close, c_half_close },
	{ "close-unread", s_close_unread, c_close_unread },
	{ "epoll-lt", s_epoll_lt, c_epoll_lt },
	{ "epoll-et", s_epoll_et, c_epoll_et },
	{ "epoll-two-sets", s_epoll_two, c_epoll_two },
	{ "epoll-readd", s_epoll_readd, c_epoll_readd },
	{ "poll-select", s_poll_select, c_poll_select },
	{ "dup2", s_dup2, c_dup2 },
	{ "fork", s_fork, c_fork },
	{ "threads", s_threads, c_threads },
	{ "many-conns", s_many, c_many },
	{ "refused", s_refused, c_refused },
	{ "relisten", s_relisten, c_relisten },
	{ "close-queued", s_close_queued, c_close_queued },
	{ "spare", s_spare, c_spare },
	{ "peer-killed", s_killed, c_killed },
	{ "options", s_options, c_options },
	{ "timeouts", s_timeouts, c_timeouts },
	{ "exec", s_exec, c_exec },
};

static int usage(void)
{
	fprintf(stderr, "usage: sockcase server|client CASE SERVER_IP PORT | sockcase list\n");
	return 2;
}

int main(int argc, char **argv)
{
	size_t i;
	long port;

	if (argc == 2 && strcmp(argv[1], "list") == 0) {
		for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
			printf("%s\n", cases[i].name);
		return 0;
	}
	if (argc == 4 && strcmp(argv[1], "exec-child") == 0) {
		side = 'S';
		alarm(CASE_ALARM_S);
		s_exec_child(atoi(argv[2]), atoi(argv[3]));
		rec("end");
		return 0;
	}
	if (argc != 5)
		return usage();
	port = strtol(argv[4], NULL, 10);
	srv_addr.sin_family = AF_INET;
	srv_addr.sin_port = htons((uint16_t)port);
	if (port <= 0 || port > 65534 || inet_pton(AF_INET, argv[3], &srv_addr.sin_addr) != 1)
		return usage();
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (strcmp(cases[i].name, argv[2]) != 0)
			continue;
		alarm(CASE_ALARM_S);
		if (strcmp(argv[1], "server") == 0) {
			side = 'S';
			cases[i].server();
		} else if (strcmp(argv[1], "client") == 0) {
			side = 'C';
			cases[i].client();
		} else {
			return usage();
		}
		rec("end");
		return 0;
	}
	fprintf(stderr, "sockcase: no case %s\n", argv[2]);
	return 2;
}
