/*
 * sockcase: the cases about child processes: a forked child closing its
 * copy of an epoll server's listener, fork-per-connection servers,
 * connections made inside a process that forked, children started by
 * vfork+exec, posix_spawn, system and popen, and accept racing with close,
 * fork and sendfile in other threads (the driver is sockcase.c).
 */
#include <spawn.h>

#include "sockcase.h"

extern char **environ;

/* An epoll server forks a child that closes its copies of the listener and
 * of a connection in the epoll set and exits (redis's snapshot child does
 * that): the parent's epoll set still reports both, as the kernel keeps a
 * registration while any process holds the file. */
void s_fork_listener(void)
{
	int l = srv_listen_nr(), ep = epoll_create1(EPOLL_CLOEXEC), c0, n, st = -1;
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = 1 }, out[4];
	pid_t pid;

	rec_rc("epoll_ctl ADD listener", epoll_ctl(ep, EPOLL_CTL_ADD, l, &ev));
	srv_ready();
	c0 = srv_accept(l);
	ev.data.u64 = 2;
	rec_rc("epoll_ctl ADD connection", epoll_ctl(ep, EPOLL_CTL_ADD, c0, &ev));
	pid = fork();
	if (pid == 0) {
		close(l);
		close(c0);
		_exit(0);
	}
	waitpid(pid, &st, 0);
	rec("child closed listener and connection, exit = %d", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	go_send(c0);
	for (int i = 0; i < 3; i++) {
		int c;

		/* A bound on the wait, not a timing check: the kernel reports
		 * the connection at once. */
		n = epoll_wait(ep, out, 4, 5000);
		rec("epoll_wait = %d data = %llu", n, n > 0 ? (unsigned long long)out[0].data.u64 : 0);
		c = rec_fd("accept", accept(l, NULL, NULL));
		if (c < 0)
			continue;
		rec_recv("recv", c, 1, MSG_WAITALL);
		rec_send("send", c, "y", 0);
		close(c);
	}
	n = epoll_wait(ep, out, 4, 5000);
	rec("epoll_wait = %d data = %llu", n, n > 0 ? (unsigned long long)out[0].data.u64 : 0);
	rec_recv("recv on the connection", c0, 1, MSG_WAITALL);
	close(c0);
	close(ep);
	close(l);
}

void c_fork_listener(void)
{
	int c0 = cli_connect();

	go_wait(c0);
	for (int i = 0; i < 3; i++) {
		int fd = cli_connect();

		rec_send("send", fd, "x", 0);
		rec_recv("recv", fd, 1, MSG_WAITALL);
		close(fd);
	}
	rec_send("send on the connection", c0, "z", 0);
	close(c0);
}

/* A fork-per-connection server (inetd, Python's ForkingTCPServer): the
 * child serves the connection, the parent closes its copy right after the
 * fork. Every connection is answered, none is reset or ended early. */
#define FORK_CONNS 100

static int reap(int flags)
{
	int st, ok = 0;

	while (waitpid(-1, &st, flags) > 0)
		ok += WIFEXITED(st) && WEXITSTATUS(st) == 0;
	return ok;
}

void s_fork_conn(void)
{
	int l = srv_listen(), served = 0;

	for (int i = 0; i < FORK_CONNS; i++) {
		int c = srv_accept(l);
		pid_t pid = fork();

		if (pid == 0) {
			char buf[8];

			close(l);
			if (recv(c, buf, 4, MSG_WAITALL) != 4)
				_exit(3);
			xsend(c, buf, 4);
			close(c);
			_exit(0);
		}
		if (pid < 0)
			die("fork");
		close(c);
		served += reap(WNOHANG);
	}
	served += reap(0);
	rec("children that served = %d", served);
	close(l);
}

void c_fork_conn(void)
{
	int right = 0, resets = 0, eofs = 0, other = 0;

	for (int i = 0; i < FORK_CONNS; i++) {
		int fd = cli_connect();
		char q[16], a[8];
		long r;

		snprintf(q, sizeof(q), "%04d", i);
		xsend(fd, q, 4);
		r = recv(fd, a, 4, MSG_WAITALL);
		if (r == 4 && memcmp(a, q, 4) == 0 && recv(fd, a, 1, 0) == 0)
			right++;
		else if (r < 0 && errno == ECONNRESET)
			resets++;
		else if (r >= 0 && r < 4)
			eofs++;
		else
			other++;
		close(fd);
	}
	rec("answered = %d resets = %d early EOFs = %d other = %d", right, resets, eofs, other);
}

/* A process that forked (its child exited) makes connections to its own
 * listener, and two threads move data through each, the writer waiting for
 * room and the reader for data: every wait is woken. */
#define WAKE_BYTES (4u << 20)

struct wake_arg {
	int fd;
	uint64_t bytes, sum;
};

static void *wake_writer(void *p)
{
	struct wake_arg *a = p;
	static __thread char buf[65536];

	for (uint64_t off = 0; off < WAKE_BYTES; off += sizeof(buf)) {
		for (size_t i = 0; i < sizeof(buf); i++)
			buf[i] = (char)((off + i) * 7u);
		xsend(a->fd, buf, sizeof(buf));
	}
	shutdown(a->fd, SHUT_WR);
	return NULL;
}

static void *wake_reader(void *p)
{
	struct wake_arg *a = p;
	static __thread char buf[16384];
	long r;

	/* Late on purpose: the writer fills the ring and sleeps first. */
	usleep(20000);
	while ((r = recv(a->fd, buf, sizeof(buf), 0)) > 0) {
		for (long i = 0; i < r; i++)
			a->sum += (unsigned char)buf[i] == (unsigned char)((a->bytes + (uint64_t)i) * 7u);
		a->bytes += (uint64_t)r;
		if ((a->bytes & ((1u << 20) - 1)) < (uint64_t)r)
			usleep(5000);  /* and the writer waits again */
	}
	return NULL;
}

void s_fork_wakeup(void)
{
	int l = srv_listen_nr(), c0, st = -1;
	pid_t pid = fork();

	if (pid == 0)
		_exit(0);
	waitpid(pid, &st, 0);
	rec("child exit = %d", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	srv_ready();
	c0 = srv_accept(l);
	go_wait(c0);
	for (int k = 0; k < 2; k++) {
		struct wake_arg w = { .fd = cli_connect() }, r = { .fd = srv_accept(l) };
		pthread_t tw, tr;

		pthread_create(&tr, NULL, wake_reader, &r);
		pthread_create(&tw, NULL, wake_writer, &w);
		pthread_join(tw, NULL);
		pthread_join(tr, NULL);
		rec("connection to itself %d: bytes = %llu, all right = %d", k,
		    (unsigned long long)r.bytes, r.sum == r.bytes);
		close(w.fd);
		close(r.fd);
	}
	go_send(c0);
	close(c0);
	close(l);
}

void c_fork_wakeup(void)
{
	int fd = cli_connect();

	go_send(fd);
	go_wait(fd);
	rec_recv("recv eof", fd, 1, 0);
	close(fd);
}

/* Children started between uses of a connection and a listener: vfork+exec
 * whose child closes the connection's fd before the exec (as spawners close
 * what they do not pass on), posix_spawn, system and popen. The parent's
 * connection and listener work on as before. */
static int spawn_vfork(int c)
{
	int st = -1;
	pid_t pid = vfork();

	if (pid == 0) {
		close(c);
		execl("/bin/true", "true", (char *)NULL);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &st, 0) < 0)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int spawn_posix(void)
{
	char *argv[] = { "true", NULL };
	int st = -1;
	pid_t pid;

	if (posix_spawn(&pid, "/bin/true", NULL, NULL, argv, environ) != 0 ||
	    waitpid(pid, &st, 0) < 0)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int spawn_system(void)
{
	int st = system("exit 0");

	return st >= 0 && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int spawn_popen(void)
{
	FILE *f = popen("echo popen", "r");
	char line[32] = "";
	int st;

	if (!f)
		return -1;
	if (!fgets(line, sizeof(line), f))
		line[0] = '\0';
	st = pclose(f);
	return strcmp(line, "popen\n") == 0 && st == 0 ? 0 : -1;
}

void s_spawn(void)
{
	static const char *const how[] = { "vfork+exec", "posix_spawn", "system", "popen" };
	int l = srv_listen(), c = srv_accept(l);

	for (int i = 0; i < 4; i++) {
		int rc = i == 0 ? spawn_vfork(c) : i == 1 ? spawn_posix() :
			 i == 2 ? spawn_system() : spawn_popen();
		int c2;

		rec("%s child ok = %d", how[i], rc == 0);
		go_send(c);
		rec_recv("recv on the connection", c, 2, MSG_WAITALL);
		rec_send("send on the connection", c, "ok", 0);
		c2 = rec_fd("accept", accept(l, NULL, NULL));
		if (c2 >= 0) {
			rec_recv("recv on the new connection", c2, 3, MSG_WAITALL);
			rec_send("send on the new connection", c2, "new", 0);
			close(c2);
		}
	}
	rec_recv("recv eof", c, 1, 0);
	close(c);
	close(l);
}

void c_spawn(void)
{
	int fd = cli_connect();

	for (int i = 0; i < 4; i++) {
		int n;

		go_wait(fd);
		rec_send("send", fd, "hi", 0);
		rec_recv("recv", fd, 2, MSG_WAITALL);
		n = cli_connect();
		rec_send("send on a new connection", n, "new", 0);
		rec_recv("recv on the new connection", n, 3, MSG_WAITALL);
		close(n);
	}
	close(fd);
}

/* accept() in one thread while others close connections (their numbers
 * come back at once), fork and sendfile: every accepted fd is the new
 * connection's socket. */
#define RACE_CONNS 2000
#define RACE_CLIENTS 4

struct race_q {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int fds[64];
	unsigned head, tail;
	int file;
	int bad;
};

static void race_push(struct race_q *q, int fd)
{
	pthread_mutex_lock(&q->lock);
	while (q->tail - q->head == 64)
		pthread_cond_wait(&q->cond, &q->lock);
	q->fds[q->tail++ % 64] = fd;
	pthread_cond_broadcast(&q->cond);
	pthread_mutex_unlock(&q->lock);
}

static int race_pop(struct race_q *q)
{
	int fd;

	pthread_mutex_lock(&q->lock);
	while (q->tail == q->head)
		pthread_cond_wait(&q->cond, &q->lock);
	fd = q->fds[q->head++ % 64];
	pthread_cond_broadcast(&q->cond);
	pthread_mutex_unlock(&q->lock);
	return fd;
}

static void *race_worker(void *p)
{
	struct race_q *q = p;
	int fd;

	while ((fd = race_pop(q)) >= 0) {
		char buf[4];
		off_t off = 0;

		if (recv(fd, buf, 4, MSG_WAITALL) != 4 || sendfile(fd, q->file, &off, 4) != 4) {
			pthread_mutex_lock(&q->lock);
			q->bad++;
			pthread_mutex_unlock(&q->lock);
		}
		close(fd);
	}
	return NULL;
}

void s_accept_race(void)
{
	struct race_q q = { .lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER };
	char path[] = "/tmp/sockcase-race-XXXXXX";
	int l, notsock = 0;
	pthread_t w[2];

	q.file = mkstemp(path);
	if (q.file < 0 || write(q.file, "DATA", 4) != 4)
		die("temp file");
	unlink(path);
	l = srv_listen();
	for (int i = 0; i < 2; i++)
		pthread_create(&w[i], NULL, race_worker, &q);
	for (int i = 0; i < RACE_CONNS; i++) {
		struct sockaddr_in a;
		socklen_t al = sizeof(a);
		int c = srv_accept(l);

		if (getsockname(c, (struct sockaddr *)&a, &al) < 0)
			notsock++;
		if (i % 100 == 50) {
			pid_t pid = fork();

			if (pid == 0)
				_exit(0);
			if (pid > 0)
				waitpid(pid, NULL, 0);
		}
		race_push(&q, c);
	}
	for (int i = 0; i < 2; i++)
		race_push(&q, -1);
	for (int i = 0; i < 2; i++)
		pthread_join(w[i], NULL);
	rec("accepted fds that are not the connection = %d, failed = %d", notsock, q.bad);
	close(q.file);
	close(l);
}

static void *race_client(void *p)
{
	int *right = p;

	for (int i = 0; i < RACE_CONNS / RACE_CLIENTS; i++) {
		int fd = cli_connect();
		char buf[4];

		xsend(fd, "race", 4);
		if (recv(fd, buf, 4, MSG_WAITALL) == 4 && memcmp(buf, "DATA", 4) == 0)
			(*right)++;
		close(fd);
	}
	return NULL;
}

void c_accept_race(void)
{
	pthread_t t[RACE_CLIENTS];
	int right[RACE_CLIENTS] = { 0 }, total = 0;

	for (int i = 0; i < RACE_CLIENTS; i++)
		pthread_create(&t[i], NULL, race_client, &right[i]);
	for (int i = 0; i < RACE_CLIENTS; i++) {
		pthread_join(t[i], NULL);
		total += right[i];
	}
	rec("answers right = %d", total);
}
