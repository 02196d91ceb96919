/*
 * sockcase: the cases about signals arriving while a call blocks on a
 * connection: a blocked recv, send and accept return EINTR after a handler
 * installed without SA_RESTART ran, and carry on after one installed with
 * it (except recv with SO_RCVTIMEO set, which the kernel never restarts).
 * The handler itself tells the peer, over a second connection, that it
 * ran, so the peer's next step always comes after the signal (the driver
 * is sockcase.c).
 */
#include "sockcase.h"

static volatile sig_atomic_t handled;
static int sig_fd = -1;  /* where the handler says it ran */

static void on_alarm(int sig)
{
	(void)sig;
	handled++;
	if (sig_fd >= 0 && send(sig_fd, "!", 1, MSG_NOSIGNAL) != 1)
		handled += 100;
}

static void sig_install(int restart)
{
	struct sigaction sa = { .sa_handler = on_alarm, .sa_flags = restart ? SA_RESTART : 0 };

	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGALRM, &sa, NULL) < 0)
		die("sigaction");
}

/* SIGALRM in @ms milliseconds. */
static void sig_arm(int ms)
{
	struct itimerval it = { .it_value = { ms / 1000, (ms % 1000) * 1000 } };

	if (setitimer(ITIMER_REAL, &it, NULL) < 0)
		die("setitimer");
}

/* Connections A (data) and B (the handler's), told apart by a first byte:
 * the order of accept() is not what the case is about. */
static void sig_accept2(int l, int *a, int *b)
{
	int x = srv_accept(l), y = srv_accept(l);
	char id = 0;

	xrecv(x, &id, 1);
	xrecv(y, &id, 1);  /* read both ids; x's first byte decides */
	*a = x;
	*b = y;
	if (id == 'A') {
		*a = y;
		*b = x;
	}
}

/* The server: data for the interrupted recv after the handler ran, a
 * drain of A after the handler ran during the send, then a connection for
 * the interrupted accept after its handler ran. */
static void s_signal(int restart)
{
	int l = srv_listen(), a, b, c;
	static char buf[65536];
	uint64_t got = 0;
	long r;

	sig_accept2(l, &a, &b);
	go_wait(b);  /* the client's handler ran during its recv */
	xsend(a, "hello", 5);
	go_wait(b);  /* the same during its send */
	while ((r = recv(a, buf, sizeof(buf), 0)) > 0)
		got += (uint64_t)r;
	xsend(b, &got, sizeof(got));
	go_wait(b);  /* the same during its recv with SO_RCVTIMEO */
	xsend(a, "late", 4);
	/* Now this side blocks in accept; the client connects after our
	 * handler told it so. */
	sig_install(restart);
	sig_fd = b;
	sig_arm(200);
	c = rec_fd("accept interrupted by a signal", accept(l, NULL, NULL));
	if (c < 0)
		c = rec_fd("accept again", accept(l, NULL, NULL));
	rec("handler ran = %d", (int)handled);
	if (c >= 0) {
		rec_recv("recv on the accepted connection", c, 4, MSG_WAITALL);
		close(c);
	}
	close(a);
	close(b);
	close(l);
}

/* Fills A until a send would block, and stays so: the peer does not read,
 * and a round that could not send anything after a pause means no space
 * is coming (the kernel frees send space as acknowledgements arrive). */
static uint64_t sig_fill(int a)
{
	static char buf[65536];
	uint64_t sent = 0;
	int rounds = 0;

	set_nonblock(a, 1);
	for (;;) {
		long r, n = 0;

		while ((r = send(a, buf, sizeof(buf), MSG_NOSIGNAL)) > 0)
			n += r;
		if (r < 0 && errno != EAGAIN)
			die("send");
		sent += (uint64_t)n;
		if (!n && rounds)
			break;
		rounds++;
		usleep(300000);
	}
	set_nonblock(a, 0);
	return sent;
}

static void c_signal(int restart)
{
	int a = cli_connect(), b = cli_connect(), c;
	static char buf[1000];
	uint64_t sent, got = 0;
	struct timeval tv = { 10, 0 };
	long r;

	xsend(a, "A", 1);
	xsend(b, "B", 1);
	sig_install(restart);
	sig_fd = b;

	sig_arm(200);
	r = rec_recv("recv interrupted by a signal", a, 5, 0);
	if (r < 0)
		rec_recv("recv again", a, 5, 0);
	rec("handler ran = %d", (int)handled);

	sent = sig_fill(a);
	sig_arm(200);
	r = rec_rc("send interrupted by a signal", send(a, buf, sizeof(buf), MSG_NOSIGNAL));
	if (r < 0)
		r = rec_rc("send again", send(a, buf, sizeof(buf), MSG_NOSIGNAL));
	rec("handler ran = %d", (int)handled);
	if (r > 0)
		sent += (uint64_t)r;
	shutdown(a, SHUT_WR);
	xrecv(b, &got, sizeof(got));
	rec("server got every byte sent = %d", got == sent);

	/* SO_RCVTIMEO set: never restarted (the kernel's sock_intr_errno). */
	rec_rc("SO_RCVTIMEO 10 s", setsockopt(a, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)));
	sig_arm(200);
	r = rec_recv("recv with SO_RCVTIMEO interrupted", a, 4, 0);
	if (r < 0)
		rec_recv("recv again", a, 4, 0);
	rec("handler ran = %d", (int)handled);

	/* The server's accept: connect once its handler ran. */
	sig_fd = -1;
	go_wait(b);
	c = cli_connect();
	rec_send("send", c, "conn", 0);
	close(c);
	close(a);
	close(b);
}

void s_signal_intr(void) { s_signal(0); }
void c_signal_intr(void) { c_signal(0); }
void s_signal_restart(void) { s_signal(1); }
void c_signal_restart(void) { c_signal(1); }
