/*
 * sockcase: the cases about the end of a connection as the other side
 * sees it: sends after the peer closed (the first goes out, the peer's
 * reset makes the next ones fail with EPIPE and SIGPIPE unless
 * MSG_NOSIGNAL), an abortive close (SO_LINGER {1, 0}) before and after
 * accept, and a listener closed with a connection nobody wrote to (the
 * driver is sockcase.c).
 */
#include "sockcase.h"

static volatile sig_atomic_t sigpipes;
static void on_sigpipe(int sig)
{
	(void)sig;
	sigpipes++;
}

/* Waits (bounded) until the peer's reset arrived: POLLERR or POLLHUP. */
static void wait_reset(const char *what, int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN | POLLOUT | POLLRDHUP };

	for (int i = 0; i < 100; i++) {
		p.revents = 0;
		if (poll(&p, 1, 100) < 0)
			die("poll");
		if (p.revents & (POLLERR | POLLHUP))
			break;
		usleep(10000);  /* level-triggered: poll would spin */
	}
	rec_mask(what, (unsigned)p.revents);
}

static void rec_peer(const char *what, int fd)
{
	struct sockaddr_in p;
	socklen_t pl = sizeof(p);

	rec_rc(what, getpeername(fd, (struct sockaddr *)&p, &pl));
}

static void rec_so_error(int fd)
{
	int err = -1;
	socklen_t el = sizeof(err);

	rec_rc("SO_ERROR", getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el));
	rec("SO_ERROR value = %s", err > 0 ? ename(err) : err == 0 ? "0" : "?");
}

/* The server reads the request and closes (everything read: a FIN). */
static void s_peer_closed(void)
{
	int l = srv_listen(), c = srv_accept(l);

	rec_recv("recv request", c, 3, MSG_WAITALL);
	rec_rc("close", close(c));
	close(l);
}

/* @nosig: sends with MSG_NOSIGNAL; @nb: the client never reads the
 * end-of-stream and works non-blocking. */
static void c_peer_closed(int nosig, int nb)
{
	int fd = cli_connect(), fl = nosig ? MSG_NOSIGNAL : 0;
	struct sigaction sa = { .sa_handler = on_sigpipe };
	struct pollfd p = { .fd = fd, .events = POLLIN | POLLRDHUP };

	sigaction(SIGPIPE, &sa, NULL);
	rec_send("send request", fd, "req", 0);
	if (nb) {
		set_nonblock(fd, 1);
		rec_rc("poll for the peer's close", poll(&p, 1, -1));
		rec_mask("poll revents", (unsigned)p.revents);
	} else {
		rec_recv("recv eof", fd, 10, 0);
	}
	rec_peer("getpeername after the peer's close", fd);
	rec_rc("first send after the peer's close", send(fd, "more", 4, fl));
	wait_reset("poll after the peer's reset", fd);
	rec_peer("getpeername after the reset", fd);
	rec_rc("second send", send(fd, "more", 4, fl));
	rec("SIGPIPE = %d", (int)sigpipes);
	rec_rc("third send", send(fd, "more", 4, fl));
	rec_rc("write", write(fd, "w", 1));
	rec("SIGPIPE = %d", (int)sigpipes);
	wait_reset("poll after the error was reported", fd);
	rec_so_error(fd);
	rec_recv("recv", fd, 10, 0);
	close(fd);
}

void s_peer_closed_nosig(void) { s_peer_closed(); }
void c_peer_closed_nosig(void) { c_peer_closed(1, 0); }
void s_peer_closed_sigpipe(void) { s_peer_closed(); }
void c_peer_closed_sigpipe(void) { c_peer_closed(0, 0); }
void s_peer_closed_nb(void) { s_peer_closed(); }
void c_peer_closed_nb(void) { c_peer_closed(1, 1); }

/* SO_LINGER {1, 0}: close() resets the connection. The client is blocked
 * in recv when the reset comes, or (@nb) looks with poll. */
static void s_linger(void)
{
	int l = srv_listen(), c = srv_accept(l);
	struct linger lg = { 1, 0 };
	socklen_t ll = sizeof(lg);

	rec_recv("recv", c, 1, MSG_WAITALL);
	rec_rc("SO_LINGER {1, 0}", setsockopt(c, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)));
	memset(&lg, 0xff, sizeof(lg));
	rec_rc("getsockopt SO_LINGER", getsockopt(c, SOL_SOCKET, SO_LINGER, &lg, &ll));
	rec("SO_LINGER = {%d, %d} len %u", lg.l_onoff, lg.l_linger, ll);
	rec_rc("close", close(c));
	close(l);
}

static void c_linger(int nb)
{
	int fd = cli_connect();
	char buf[8];

	rec_send("send", fd, "x", 0);
	if (nb) {
		set_nonblock(fd, 1);
		wait_reset("poll after the reset", fd);
		rec_peer("getpeername after the reset", fd);
		rec_so_error(fd);
		rec_rc("recv", recv(fd, buf, sizeof(buf), 0));
	} else {
		rec_rc("recv blocked when the reset comes", recv(fd, buf, sizeof(buf), 0));
		rec_peer("getpeername after the reset", fd);
		rec_rc("recv", recv(fd, buf, sizeof(buf), 0));
	}
	rec_rc("send", send(fd, "y", 1, MSG_NOSIGNAL));
	wait_reset("poll", fd);
	close(fd);
}

void s_linger_abort(void) { s_linger(); }
void c_linger_abort(void) { c_linger(0); }
void s_linger_abort_nb(void) { s_linger(); }
void c_linger_abort_nb(void) { c_linger(1); }

/* A client that resets its connection before the server accepted it (a
 * TLS server checks for that before its handshake): accept returns it, and
 * it reads as reset. */
void s_abort_queued(void)
{
	int l = srv_listen(), ctl = srv_accept(l), c;
	char buf[8];

	go_wait(ctl);
	go_send(ctl);
	go_wait(ctl);  /* the second connection was made and reset */
	c = rec_fd("accept the reset connection", accept(l, NULL, NULL));
	if (c >= 0) {
		rec_peer("getpeername", c);
		rec_rc("recv", recv(c, buf, sizeof(buf), 0));
		rec_rc("recv again", recv(c, buf, sizeof(buf), 0));
		close(c);
	}
	go_send(ctl);
	close(ctl);
	close(l);
}

void c_abort_queued(void)
{
	int ctl = cli_connect(), fd;
	struct linger lg = { 1, 0 };
	struct pollfd p;

	go_send(ctl);
	go_wait(ctl);  /* ctl is accepted: the next connection is the second */
	fd = cli_connect();
	rec_rc("SO_LINGER {1, 0}", setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)));
	rec_rc("close", close(fd));
	/* The reset is on its way (the kernel's is synchronous here); the
	 * hostlane one is in shared memory. */
	p = (struct pollfd){ .fd = ctl, .events = POLLIN };
	poll(&p, 1, 100);
	go_send(ctl);
	go_wait(ctl);
	close(ctl);
}

/* A listener closed with a connection queued that nobody wrote to: the
 * kernel resets it (close-queued is the same with data written). */
void s_close_queued_idle(void)
{
	int l = srv_listen(), ctl = srv_accept(l);

	go_wait(ctl);  /* the second connection is made */
	rec_rc("close listener", close(l));
	go_send(ctl);
	go_wait(ctl);
	close(ctl);
}

void c_close_queued_idle(void)
{
	int ctl = cli_connect(), fd = cli_connect();

	go_send(ctl);
	go_wait(ctl);
	rec_recv("recv after the listener closed", fd, 1, 0);
	rec_recv("recv again", fd, 1, 0);
	close(fd);
	go_send(ctl);
	close(ctl);
}
