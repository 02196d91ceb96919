/* waitsrv: a server that waits for its connections in one call, for
 * test/integration/preload-agent-restart.sh.
 *
 *   waitsrv select|pselect|ppoll|poll IP PORT
 *
 * Listens on IP:PORT, prints "ready", then forever: waits without a timeout
 * in the named call until the listener is readable, accepts, writes "ok\n"
 * and closes. A server like it only waits: under the LD_PRELOAD layer, what
 * brings its listener back to a restarted agent is that wait coming back
 * to look.
 *
 * A plain POSIX program: it never links libhostlane.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <unistd.h>

static int wait_readable(const char *how, int l)
{
	fd_set r;
	struct pollfd p = { .fd = l, .events = POLLIN };

	FD_ZERO(&r);
	FD_SET(l, &r);
	if (strcmp(how, "select") == 0)
		return select(l + 1, &r, NULL, NULL, NULL);
	if (strcmp(how, "pselect") == 0)
		return pselect(l + 1, &r, NULL, NULL, NULL, NULL);
	if (strcmp(how, "poll") == 0)
		return poll(&p, 1, -1);
	return ppoll(&p, 1, NULL, NULL);
}

int main(int argc, char **argv)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	int l, one = 1;

	if (argc != 4 || (strcmp(argv[1], "select") && strcmp(argv[1], "pselect") &&
			  strcmp(argv[1], "ppoll") && strcmp(argv[1], "poll"))) {
		fprintf(stderr, "usage: waitsrv select|pselect|ppoll|poll IP PORT\n");
		return 2;
	}
	a.sin_port = htons((uint16_t)atoi(argv[3]));
	if (inet_pton(AF_INET, argv[2], &a.sin_addr) != 1)
		return 2;
	signal(SIGPIPE, SIG_IGN);
	l = socket(AF_INET, SOCK_STREAM, 0);
	if (l < 0 || setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(l, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(l, 128) < 0) {
		perror("waitsrv: listen");
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	for (;;) {
		int c;

		if (wait_readable(argv[1], l) < 0) {
			if (errno == EINTR)
				continue;
			perror("waitsrv: wait");
			return 1;
		}
		c = accept(l, NULL, NULL);
		if (c < 0)
			continue;
		if (write(c, "ok\n", 3) != 3)
			perror("waitsrv: write");
		close(c);
	}
}
