/* connrate: connect/accept/close rate loop for hack/bench.d/50-sockets.sh.
 *
 *   connrate server IP PORT          accept, close, until SIGTERM (then it
 *                                    exits normally: atexit handlers run);
 *                                    prints "accepted N" at the end
 *   connrate server-fork IP PORT     the same, after forking a child that
 *                                    shares the listener and only sleeps
 *                                    (like a server's snapshot child)
 *   connrate server-prefork IP PORT  the same, but the forked child accepts
 *                                    and the parent only waits (a pre-fork
 *                                    server: nginx's master and a worker)
 *   connrate client IP PORT SECONDS  connect, wait for the server's close
 *                                    (so every counted connection was
 *                                    accepted), close; prints
 *                                    "conns N secs S rate R"
 *
 * A plain POSIX program: the benchmark runs it over the kernel path and
 * under LD_PRELOAD.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static volatile sig_atomic_t stop;

static void on_term(int sig)
{
	(void)sig;
	stop = 1;
}

static void pass_term(int sig)
{
	(void)sig;
	stop = 1;
}

/* server-prefork: the parent waits; SIGTERM goes on to the worker. */
static int prefork_parent(pid_t child)
{
	struct sigaction sa = { .sa_handler = pass_term };
	int st = 1;

	sigaction(SIGTERM, &sa, NULL);
	while (!stop && waitpid(child, &st, 0) < 0 && errno == EINTR)
		;
	if (stop) {
		kill(child, SIGTERM);
		waitpid(child, &st, 0);
	}
	return WIFEXITED(st) ? WEXITSTATUS(st) : 1;
}

static int serve(const struct sockaddr_in *a, bool fork_child, bool prefork)
{
	int l = socket(AF_INET, SOCK_STREAM, 0), one = 1;
	struct sigaction sa = { .sa_handler = on_term };  /* no SA_RESTART */
	pid_t child = -1;
	long n = 0;

	if (l < 0 || setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(l, (const struct sockaddr *)a, sizeof(*a)) < 0 || listen(l, 4096) < 0) {
		perror("connrate: listen");
		return 1;
	}
	if (prefork) {
		child = fork();
		if (child < 0) {
			perror("connrate: fork");
			return 1;
		}
		if (child > 0) {
			printf("ready\n");
			fflush(stdout);
			return prefork_parent(child);
		}
		child = -1;  /* the worker: accepts below */
	}
	if (fork_child) {
		child = fork();
		if (child == 0) {
			pause();
			_exit(0);
		}
		if (child < 0) {
			perror("connrate: fork");
			return 1;
		}
	}
	sigaction(SIGTERM, &sa, NULL);
	if (!prefork) {
		printf("ready\n");
		fflush(stdout);
	}
	while (!stop) {
		int c = accept(l, NULL, NULL);

		if (c < 0) {
			if (errno == EINTR || errno == ECONNABORTED || errno == EMFILE)
				continue;
			perror("connrate: accept");
			return 1;
		}
		n++;
		close(c);
	}
	if (child > 0) {
		kill(child, SIGKILL);
		waitpid(child, NULL, 0);
	}
	printf("accepted %ld\n", n);
	return 0;
}

static int client(const struct sockaddr_in *a, double secs)
{
	double t0 = now_s(), t = t0;
	long n = 0, failed = 0;

	while (t - t0 < secs) {
		int fd = socket(AF_INET, SOCK_STREAM, 0);
		char c;

		if (fd < 0) {
			perror("connrate: socket");
			return 1;
		}
		if (connect(fd, (const struct sockaddr *)a, sizeof(*a)) == 0 && read(fd, &c, 1) == 0)
			n++;
		else
			failed++;
		close(fd);
		/* The clock is read every 64 connections: cheap and still fine-grained. */
		if ((n + failed) % 64 == 0)
			t = now_s();
	}
	t = now_s();
	printf("conns %ld failed %ld secs %.3f rate %.0f\n", n, failed, t - t0, (double)n / (t - t0));
	return failed > n / 100 ? 1 : 0;
}

int main(int argc, char **argv)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	long port;

	if (argc < 4 || (strcmp(argv[1], "client") == 0 && argc != 5)) {
		fprintf(stderr, "usage: connrate server|server-fork|server-prefork IP PORT | "
			"connrate client IP PORT SECONDS\n");
		return 2;
	}
	port = strtol(argv[3], NULL, 10);
	a.sin_port = htons((unsigned short)port);
	if (port <= 0 || port > 65535 || inet_pton(AF_INET, argv[2], &a.sin_addr) != 1) {
		fprintf(stderr, "connrate: bad address %s:%s\n", argv[2], argv[3]);
		return 2;
	}
	if (strcmp(argv[1], "server") == 0 || strcmp(argv[1], "server-fork") == 0 ||
	    strcmp(argv[1], "server-prefork") == 0)
		return serve(&a, strcmp(argv[1], "server-fork") == 0,
			     strcmp(argv[1], "server-prefork") == 0);
	return client(&a, strtod(argv[4], NULL));
}
