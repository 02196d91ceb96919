/*
 * sockcase: the cases about moving data: partial I/O, MSG_PEEK, MSG_WAITALL,
 * half close, closing with unread data, a peer killed mid-stream (the
 * driver is sockcase.c).
 */
#include "sockcase.h"

/* Partial I/O: a nonblocking writer fills the pipe (partial write, then
 * EAGAIN); the reader reads in bounded chunks; totals agree. */
#define BIG (32u << 20)
void s_partial_io(void)
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
void c_partial_io(void)
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
void s_peek(void)
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

void c_peek(void)
{
	int fd = cli_connect();

	go_wait(fd);
	rec_send("send abcdef", fd, "abcdef", 0);
	go_wait(fd);
	close(fd);
}

/* MSG_WAITALL across several writes, and its early return at EOF. */
void s_waitall(void)
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

void c_waitall(void)
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
void s_half_close(void)
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

void c_half_close(void)
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
void s_close_unread(void)
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

void c_close_unread(void)
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

/* Peer killed mid-stream: the writer gets EPIPE or ECONNRESET (which one
 * depends on whether the reset or the FIN is seen first: printed as the
 * invariant), never SIGPIPE with MSG_NOSIGNAL; a reader sees EOF. */
static volatile sig_atomic_t sigpipes;
static void on_sigpipe(int sig) { (void)sig; sigpipes++; }

void s_killed(void)
{
	int l = srv_listen(), c = srv_accept(l), c2;
	char buf[4096];

	xrecv(c, buf, sizeof(buf)); /* the stream is flowing */
	c2 = srv_accept(l);
	/* SIGKILL: no cleanup in this process may help the layer. */
	raise(SIGKILL);
	close(c2);
}

void c_killed(void)
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
