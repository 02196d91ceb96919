/*
 * sockcase: the cases about descriptors and processes: dup/dup2/F_DUPFD,
 * fork, threads, exec with live connections (the driver is sockcase.c).
 */
#include "sockcase.h"

/* dup, dup2 and F_DUPFD over sockets: the connection lives while any
 * descriptor does; dup2 over a socket closes the socket it replaces. */
void s_dup2(void)
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

void c_dup2(void)
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
void s_fork(void)
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

void c_fork(void)
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

void s_threads(void)
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

void c_threads(void)
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

/* exec with live connections: the server accepts, an exec that fails
 * leaves everything working, then it execs itself ("sockcase exec-child
 * CONN LISTENER") and the new image carries on with the inherited
 * connection (its options too) and the inherited listener; a close-on-exec
 * connection is closed by the exec, the peer sees end-of-stream. */
void s_exec(void)
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

void s_exec_child(int c, int l)
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

void c_exec(void)
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
