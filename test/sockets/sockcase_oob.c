/*
 * sockcase: the cases about urgent data (MSG_OOB): where reads stop
 * (the mark), SIOCATMARK, recv(MSG_OOB), POLLPRI and select's exceptional
 * set, EPOLLPRI, SIGURG to the owner, a second urgent byte before the
 * first was read, with SO_OOBINLINE off and on, blocking and non-blocking
 * (the driver is sockcase.c). Connection A carries the data, B says "go".
 */
#include "sockcase.h"

static volatile sig_atomic_t sigurgs;
static void on_sigurg(int sig)
{
	(void)sig;
	sigurgs++;
}

static void oob_accept2(int l, int *a, int *b)
{
	int x = srv_accept(l), y = srv_accept(l);
	char id = 0;

	xrecv(x, &id, 1);
	*a = x;
	*b = y;
	if (id != 'A') {
		*a = y;
		*b = x;
	}
	xrecv(*a == x ? y : x, &id, 1);
}

static void rec_atmark(int fd)
{
	int m = -1;

	rec_rc("SIOCATMARK", ioctl(fd, SIOCATMARK, &m));
	rec("at mark = %d", m);
}

static void rec_nread(int fd)
{
	int n = -1;

	rec_rc("FIONREAD", ioctl(fd, FIONREAD, &n));
	rec("FIONREAD value = %d", n);
}

/* poll with POLLIN | POLLPRI, no waiting. */
static void rec_pri(const char *what, int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN | POLLPRI };

	rec_rc(what, poll(&p, 1, 0));
	rec_mask("revents", (unsigned)p.revents);
}

/* Waits (bounded) until urgent data is there, then prints the poll. */
static void wait_pri(const char *what, int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLPRI };

	for (int i = 0; i < 50 && !(p.revents & POLLPRI); i++)
		poll(&p, 1, 100);
	rec_pri(what, fd);
}

static void rec_oob(const char *what, int fd, int flags)
{
	char c = 0;
	long r = recv(fd, &c, 1, MSG_OOB | flags);

	if (r < 0)
		rec("%s = -1 %s", what, ename(errno));
	else
		rec("%s = %ld \"%.*s\"", what, r, (int)r, &c);
}

/* @inl: SO_OOBINLINE; @nb: the data connection is non-blocking. */
static void s_oob(int inl, int nb)
{
	int l = srv_listen(), a, b, one = 1, ep = epoll_create1(EPOLL_CLOEXEC), n;
	struct sigaction sa = { .sa_handler = on_sigurg, .sa_flags = SA_RESTART };
	struct epoll_event ev = { .events = EPOLLIN | EPOLLPRI, .data.u64 = 9 }, out[2];
	struct timeval tv0 = { 0, 0 };
	fd_set x;

	sigaction(SIGURG, &sa, NULL);
	oob_accept2(l, &a, &b);
	rec_rc("F_SETOWN", fcntl(a, F_SETOWN, getpid()));
	if (inl)
		rec_rc("SO_OOBINLINE", setsockopt(a, SOL_SOCKET, SO_OOBINLINE, &one, sizeof(one)));
	if (nb)
		set_nonblock(a, 1);
	rec_oob("recv MSG_OOB before any", a, 0);
	rec_rc("epoll_ctl ADD", epoll_ctl(ep, EPOLL_CTL_ADD, a, &ev));

	/* "abc", urgent "X" */
	go_send(b);
	go_wait(b);
	wait_pri("poll for urgent data", a);
	n = epoll_wait(ep, out, 2, 5000);
	rec("epoll_wait = %d", n);
	if (n > 0)
		rec_mask("events", out[0].events);
	FD_ZERO(&x);
	FD_SET(a, &x);
	rec_rc("select exceptional", select(a + 1, NULL, NULL, &x, &tv0));
	rec("SIGURG seen = %d", sigurgs > 0);
	rec_nread(a);
	rec_atmark(a);
	rec_recv("recv stops at the mark", a, 10, 0);
	rec_atmark(a);
	rec_pri("poll at the mark", a);
	rec_oob("recv MSG_OOB|MSG_PEEK", a, MSG_PEEK);
	rec_oob("recv MSG_OOB", a, 0);
	rec_oob("recv MSG_OOB again", a, 0);
	rec_atmark(a);
	rec_pri("poll after recv MSG_OOB", a);
	rec_nread(a);
	if (inl || nb) {
		rec_recv("recv", a, 10, MSG_DONTWAIT);
		rec_atmark(a);
	}

	/* "def" */
	go_send(b);
	go_wait(b);
	rec_recv("recv", a, 3, MSG_WAITALL);

	/* urgent "1", and once it is here urgent "2" */
	go_send(b);
	go_wait(b);
	wait_pri("poll for the first", a);
	go_send(b);
	go_wait(b);
	wait_pri("poll for the second", a);
	rec_atmark(a);
	if (inl) {
		rec_recv("recv", a, 10, 0);
		rec_atmark(a);
		rec_recv("recv", a, 10, 0);
	} else {
		rec_oob("recv MSG_OOB", a, 0);
		rec_recv("recv", a, 10, MSG_DONTWAIT);
	}

	/* "ghi", urgent "Y", "jkl": read past the mark without MSG_OOB */
	go_send(b);
	go_wait(b);
	wait_pri("poll", a);
	rec_recv("recv", a, 3, MSG_WAITALL);
	rec_atmark(a);
	rec_recv("recv past the mark", a, inl ? 4 : 3, MSG_WAITALL);
	rec_oob("recv MSG_OOB after the mark", a, 0);
	rec_atmark(a);

	set_nonblock(a, 0);
	go_send(b);
	rec_recv("recv eof", a, 10, MSG_WAITALL);
	close(ep);
	close(a);
	close(b);
	close(l);
}

static void c_oob(void)
{
	int a = cli_connect(), b = cli_connect();

	xsend(a, "A", 1);
	xsend(b, "B", 1);
	go_wait(b);
	rec_send("send", a, "abc", 0);
	rec_send("send MSG_OOB", a, "X", MSG_OOB);
	go_send(b);
	go_wait(b);
	rec_send("send", a, "def", 0);
	go_send(b);
	go_wait(b);
	rec_send("send MSG_OOB", a, "1", MSG_OOB);
	go_send(b);
	go_wait(b);
	rec_send("send MSG_OOB", a, "2", MSG_OOB);
	go_send(b);
	go_wait(b);
	rec_send("send", a, "ghi", 0);
	rec_send("send MSG_OOB", a, "Y", MSG_OOB);
	rec_send("send", a, "jkl", 0);
	go_send(b);
	go_wait(b);
	close(a);
	close(b);
}

void s_oob_plain(void) { s_oob(0, 0); }
void c_oob_plain(void) { c_oob(); }
void s_oob_inline(void) { s_oob(1, 0); }
void c_oob_inline(void) { c_oob(); }
void s_oob_nb(void) { s_oob(0, 1); }
void c_oob_nb(void) { c_oob(); }
