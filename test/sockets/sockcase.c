/* sockcase: the socket-semantics suite. One table of cases (below; the cases
 * themselves are in sockcase_*.c, by theme); each case has a server part and
 * a client part that run in two pods:
 *
 *   sockcase server CASE SERVER_IP PORT     (prints "S ready" once listening)
 *   sockcase client CASE SERVER_IP PORT
 *   sockcase list
 *
 * The client part connects to SERVER_IP:PORT and PORT+1; it may be given
 * other ones that lead there (a Service ClusterIP and port, DNATed to the
 * server's address and port by the kernel path).
 *
 * Each part prints what a program can observe (return values, errno names,
 * bytes, event masks) as lines on stdout: its transcript. The driver
 * (test/lib/sockcase.sh, for integration/preload-semantics and
 * preload-semantics-svc) runs every case over plain kernel TCP and again
 * under the LD_PRELOAD layer and compares the transcripts.
 * Nothing nondeterministic is printed: no fd numbers, ports or timings; where
 * the kernel itself varies (partial write sizes, which of EPIPE/ECONNRESET a
 * dying peer causes) the invariant is printed instead.
 *
 * The two parts synchronise only through their connection (a byte that says
 * "go"), never by sleeping, so that the transcript does not depend on timing.
 */
#include "sockcase.h"

char side = '?';
struct sockaddr_in srv_addr;

void rec(const char *fmt, ...)
{
	va_list ap;

	printf("%c ", side);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

const char *ename(int e)
{
	const char *n = strerrorname_np(e);

	return n ? n : "E?";
}

/* rec_rc: "what = N" or "what = -1 ENAME". Returns r. */
long rec_rc(const char *what, long r)
{
	if (r < 0)
		rec("%s = -1 %s", what, ename(errno));
	else
		rec("%s = %ld", what, r);
	return r;
}

/* rec_fd: fds are numbered differently per mode; print only ok/error. */
int rec_fd(const char *what, int fd)
{
	if (fd < 0)
		rec("%s = -1 %s", what, ename(errno));
	else
		rec("%s = fd", what);
	return fd;
}

void die(const char *what)
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
void rec_mask(const char *what, unsigned m)
{
	char b[64];

	mask_str(m, b, sizeof(b));
	rec("%s = %s", what, b);
}

/* rec_read: read up to n bytes, print the count and the bytes. */
long rec_recv(const char *what, int fd, size_t n, int flags)
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

long rec_send(const char *what, int fd, const char *s, int flags)
{
	return rec_rc(what, send(fd, s, strlen(s), flags | MSG_NOSIGNAL));
}

/* Blocking helpers for protocol steps the transcript need not show. */
void xsend(int fd, const void *p, size_t n)
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

void xrecv(int fd, void *p, size_t n)
{
	ssize_t r = recv(fd, p, n, MSG_WAITALL);

	if (r != (ssize_t)n)
		die("recv");
}

void go_send(int fd) { xsend(fd, "g", 1); }
void go_wait(int fd)
{
	char c;

	xrecv(fd, &c, 1);
}

void set_nonblock(int fd, int on)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, on ? fl | O_NONBLOCK : fl & ~O_NONBLOCK) < 0)
		die("fcntl");
}

int tcp_socket(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0)
		die("socket");
	return fd;
}

/* srv_listen: listen on SERVER_IP:PORT and print "ready" (the driver starts
 * the client on it). */
int srv_listen_nr(void)
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

void srv_ready(void) { rec("ready"); }

int srv_listen(void)
{
	int fd = srv_listen_nr();

	srv_ready();
	return fd;
}

int srv_accept(int lfd)
{
	int c = accept(lfd, NULL, NULL);

	if (c < 0)
		die("accept");
	return c;
}

int cli_connect(void)
{
	int fd = tcp_socket();

	if (connect(fd, (struct sockaddr *)&srv_addr, sizeof(srv_addr)) < 0)
		die("connect");
	return fd;
}

void rec_timeo(const char *what, int fd, int name)
{
	struct timeval tv = { -1, -1 };
	socklen_t l = sizeof(tv);

	if (getsockopt(fd, SOL_SOCKET, name, &tv, &l) < 0)
		rec("%s = -1 %s", what, ename(errno));
	else
		rec("%s = %ld.%06ld len %u", what, (long)tv.tv_sec, (long)tv.tv_usec, l);
}

int set_timeo(const char *what, int fd, int name, long sec, long usec)
{
	struct timeval tv = { sec, usec };

	return (int)rec_rc(what, setsockopt(fd, SOL_SOCKET, name, &tv, sizeof(tv)));
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
	{ "fork-listener", s_fork_listener, c_fork_listener },
	{ "fork-conn", s_fork_conn, c_fork_conn },
	{ "fork-wakeup", s_fork_wakeup, c_fork_wakeup },
	{ "spawn", s_spawn, c_spawn },
	{ "accept-race", s_accept_race, c_accept_race },
	{ "signal-intr", s_signal_intr, c_signal_intr },
	{ "signal-restart", s_signal_restart, c_signal_restart },
	{ "signal-wait", s_signal_wait, c_signal_wait },
	{ "signal-wait-restart", s_signal_wait_restart, c_signal_wait_restart },
	{ "peer-closed", s_peer_closed_nosig, c_peer_closed_nosig },
	{ "peer-closed-sigpipe", s_peer_closed_sigpipe, c_peer_closed_sigpipe },
	{ "peer-closed-nb", s_peer_closed_nb, c_peer_closed_nb },
	{ "linger-abort", s_linger_abort, c_linger_abort },
	{ "linger-abort-nb", s_linger_abort_nb, c_linger_abort_nb },
	{ "abort-queued", s_abort_queued, c_abort_queued },
	{ "close-queued-idle", s_close_queued_idle, c_close_queued_idle },
	{ "oob", s_oob_plain, c_oob_plain },
	{ "oob-inline", s_oob_inline, c_oob_inline },
	{ "oob-nb", s_oob_nb, c_oob_nb },
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
