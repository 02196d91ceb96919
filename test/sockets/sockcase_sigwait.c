/*
 * sockcase: a signal that comes while a call waits, sent by another thread
 * of the waiting process or by the peer process, for epoll_wait, poll,
 * select, ppoll and recv (the client waits) and accept (the server waits).
 * The kernel's wait returns EINTR after a handler ran: poll, select and
 * epoll_wait always (they are never restarted), recv and accept after one
 * installed without SA_RESTART (or, for recv, with SO_RCVTIMEO set), and
 * otherwise carry on (signal(7)).
 *
 * The signal is sent once the waiter is in its wait as a program can tell:
 * the thread sleeps in a system call that waits, or it has run for 1 ms of
 * CPU since the round began (a busy-polling wait: the kernel's calls never
 * spin that long, a layer that polls in user space does; the driver gives
 * these cases a long spin budget, HOSTLANE_SPIN_NS, so that the signal
 * comes while it spins). The handler tells the peer, over a second
 * connection, that it ran; for a call that carries on, the peer then makes
 * it ready. A call that does not return within 3 s after the handler ran is
 * made ready by the peer too (a wait that missed its EINTR shows as the
 * ready result instead of a hang).
 */
#include "sockcase.h"

#include <sys/syscall.h>

static volatile sig_atomic_t handled;
static int note_fd = -1;  /* where the handler says it ran */

static void on_usr1(int sig)
{
	int e = errno;

	(void)sig;
	handled++;
	if (note_fd >= 0 && send(note_fd, "!", 1, MSG_NOSIGNAL) != 1)
		handled += 100;
	errno = e;
}

static void usr1_install(int restart)
{
	struct sigaction sa = { .sa_handler = on_usr1, .sa_flags = restart ? SA_RESTART : 0 };

	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGUSR1, &sa, NULL) < 0)
		die("sigaction");
}

/* What the waiter tells the peer before it waits. */
struct sw_round {
	int32_t pid, tid;
	int32_t from_peer;  /* the peer sends the signal (else a thread here) */
	int32_t carry;      /* the call carries on: the peer makes it ready */
};

static int32_t my_tid(void)
{
	return (int32_t)syscall(SYS_gettid);
}

/* Thread @tid of @pid sleeps in a system call that waits. */
static int in_wait_call(int pid, int tid)
{
	static const long waits[] = {
#ifdef SYS_poll
		SYS_poll,
#endif
#ifdef SYS_select
		SYS_select,
#endif
#ifdef SYS_epoll_wait
		SYS_epoll_wait,
#endif
#ifdef SYS_accept
		SYS_accept,
#endif
		SYS_ppoll, SYS_pselect6, SYS_epoll_pwait, SYS_recvfrom, SYS_accept4,
	};
	char path[96], buf[64];
	long nr;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/syscall", pid, tid);
	if (!(f = fopen(path, "r")))
		die("open /proc/PID/task/TID/syscall");
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = '\0';
	fclose(f);
	if (sscanf(buf, "%ld", &nr) != 1)  /* "running" */
		return 0;
	for (size_t i = 0; i < sizeof(waits) / sizeof(waits[0]); i++)
		if (nr == waits[i])
			return 1;
	return 0;
}

/* CPU time of thread @tid of @pid, ns. */
static unsigned long long cpu_ns(int pid, int tid)
{
	char path[96];
	unsigned long long ns = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/schedstat", pid, tid);
	if (!(f = fopen(path, "r")))
		die("open /proc/PID/task/TID/schedstat");
	if (fscanf(f, "%llu", &ns) != 1)
		ns = 0;
	fclose(f);
	return ns;
}

/* Returns once the thread waits (see the file comment). */
static void watch(int pid, int tid)
{
	unsigned long long t0 = cpu_ns(pid, tid);

	for (;;) {
		if (in_wait_call(pid, tid) || cpu_ns(pid, tid) - t0 >= 1000000)
			return;
		usleep(50);
	}
}

struct sw_thread {
	pthread_t th;
	int32_t tid;
};

static void *signaller(void *arg)
{
	struct sw_thread *t = arg;

	watch(getpid(), t->tid);
	pthread_kill(t->th, SIGUSR1);
	return NULL;
}

/* What one kind of wait does on the waiter's side. */
struct sw_call {
	const char *name;
	long (*wait)(int fd);   /* the call (errno on -1) */
	void (*drain)(int fd);  /* takes what the peer made ready, when the call did not */
	int consumes;           /* a successful call took it */
};

/* One round, waiter's side: @c waits on @fd while SIGUSR1 comes from a
 * thread of this process (@from_peer 0) or from the peer (1); @carry: the
 * call carries on after the handler. */
static void wait_round(const struct sw_call *c, int fd, int b, int from_peer, int carry)
{
	struct sw_round m = { getpid(), my_tid(), from_peer, carry };
	struct sw_thread t = { pthread_self(), m.tid };
	pthread_t sth;
	char what[96], late;
	long r;
	int e;

	handled = 0;
	note_fd = b;
	xsend(b, &m, sizeof(m));
	if (!from_peer && pthread_create(&sth, NULL, signaller, &t) != 0)
		die("pthread_create");
	errno = 0;
	r = c->wait(fd);
	e = errno;
	note_fd = -1;
	if (!from_peer)
		pthread_join(sth, NULL);
	snprintf(what, sizeof(what), "%s, SIGUSR1 from %s", c->name,
		 from_peer ? "the peer process" : "a thread");
	errno = e;
	rec_rc(what, r);
	xsend(b, "r", 1);
	xrecv(b, &late, 1);
	if (late == 'L' && !(c->consumes && r > 0))
		c->drain(fd);
	xsend(b, "d", 1);
	rec("handler ran = %d", (int)handled);
}

/* One round, peer's side: sends the signal when asked to, then makes the
 * call ready with @ready (@fd) when it carries on or did not return. */
static void peer_round(int b, void (*ready)(int), void (*unready)(int), int fd)
{
	struct sw_round m;
	struct pollfd p = { .fd = b, .events = POLLIN };
	int sent = 0;
	char ch;

	xrecv(b, &m, sizeof(m));
	if (m.from_peer) {
		watch(m.pid, m.tid);
		if (kill(m.pid, SIGUSR1) < 0)
			die("kill");
	}
	xrecv(b, &ch, 1);  /* '!': the handler ran */
	if (ch != '!')
		die("handler note");
	if (m.carry) {
		ready(fd);
		sent = 1;
	} else if (poll(&p, 1, 3000) == 0) {
		ready(fd);
		sent = 1;
	}
	xrecv(b, &ch, 1);  /* 'r': the call returned */
	xsend(b, sent ? "L" : "N", 1);
	xrecv(b, &ch, 1);  /* 'd': the waiter took what it was sent */
	if (sent && unready)
		unready(fd);
}

/* ---- the client's waits, on connection A ---- */

static long w_epoll(int a)
{
	struct epoll_event ev = { .events = EPOLLIN }, out;
	int ep = epoll_create1(0);
	long r;
	int e;

	if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, a, &ev) < 0)
		die("epoll");
	r = epoll_wait(ep, &out, 1, -1);
	e = errno;
	close(ep);
	errno = e;
	return r;
}

static long w_poll(int a)
{
	struct pollfd p = { .fd = a, .events = POLLIN };

	return poll(&p, 1, -1);
}

static long w_select(int a)
{
	fd_set r;

	FD_ZERO(&r);
	FD_SET(a, &r);
	return select(a + 1, &r, NULL, NULL, NULL);
}

static long w_ppoll(int a)
{
	struct pollfd p = { .fd = a, .events = POLLIN };
	sigset_t cur;

	/* With the thread's own mask: the call's mask is used, nothing changes. */
	pthread_sigmask(SIG_SETMASK, NULL, &cur);
	return ppoll(&p, 1, NULL, &cur);
}

static char late_buf[8];

static long w_recv(int a)
{
	return recv(a, late_buf, 4, 0);
}

static void drain_a(int a)
{
	xrecv(a, late_buf, 4);
}

static const struct sw_call c_calls[] = {
	{ "epoll_wait", w_epoll, drain_a, 0 },
	{ "poll", w_poll, drain_a, 0 },
	{ "select", w_select, drain_a, 0 },
	{ "ppoll", w_ppoll, drain_a, 0 },
	{ "recv", w_recv, drain_a, 1 },
};

/* SO_RCVTIMEO set: never restarted (the kernel's sock_intr_errno). */
static const struct sw_call rcvtimeo_call = { "recv with SO_RCVTIMEO", w_recv, drain_a, 1 };

static void send_late(int a) { xsend(a, "late", 4); }

/* ---- the server's wait: accept on the listener ---- */

static long w_accept(int l)
{
	int c = accept(l, NULL, NULL);

	if (c >= 0)
		close(c);
	return c < 0 ? -1 : 1;
}

static void drain_l(int l)
{
	int c = accept(l, NULL, NULL);

	if (c < 0)
		die("accept");
	close(c);
}

static const struct sw_call s_accept_call = { "accept", w_accept, drain_l, 1 };

static int late_conn = -1;

static void connect_late(int unused)
{
	(void)unused;
	late_conn = cli_connect();
}

static void close_late(int unused)
{
	(void)unused;
	close(late_conn);
	late_conn = -1;
}

/* ---- the case ---- */

/* Connections A (data) and B (notes), told apart by a first byte. */
static void accept2(int l, int *a, int *b)
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
	xrecv(*b, &id, 1);
}

static void s_sigwait(int restart)
{
	int l = srv_listen(), a, b;
	size_t n = sizeof(c_calls) / sizeof(c_calls[0]);

	accept2(l, &a, &b);
	/* The client's waits: recv carries on after an SA_RESTART handler,
	 * the others never do. Then recv with SO_RCVTIMEO (never restarted). */
	for (int from = 0; from < 2; from++)
		for (size_t i = 0; i < n + 1; i++)
			peer_round(b, send_late, NULL, a);
	/* This side's accept: carries on after an SA_RESTART handler. */
	usr1_install(restart);
	for (int from = 0; from < 2; from++)
		wait_round(&s_accept_call, l, b, from, restart);
	close(a);
	close(b);
	close(l);
}

static void c_sigwait(int restart)
{
	int a = cli_connect(), b = cli_connect();
	size_t n = sizeof(c_calls) / sizeof(c_calls[0]);

	xsend(a, "A", 1);
	xsend(b, "B", 1);
	usr1_install(restart);
	for (int from = 0; from < 2; from++) {
		for (size_t i = 0; i < n; i++)
			wait_round(&c_calls[i], a, b, from, restart && c_calls[i].wait == w_recv);
		set_timeo("SO_RCVTIMEO 10 s", a, SO_RCVTIMEO, 10, 0);
		wait_round(&rcvtimeo_call, a, b, from, 0);
		set_timeo("SO_RCVTIMEO off", a, SO_RCVTIMEO, 0, 0);
	}
	for (int from = 0; from < 2; from++)
		peer_round(b, connect_late, close_late, 0);
	close(a);
	close(b);
}

void s_signal_wait(void) { s_sigwait(0); }
void c_signal_wait(void) { c_sigwait(0); }
void s_signal_wait_restart(void) { s_sigwait(1); }
void c_signal_wait_restart(void) { c_sigwait(1); }
