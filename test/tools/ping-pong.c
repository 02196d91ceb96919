/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ping-pong: a plain TCP program that knows nothing of hostlane, built
 * with glibc and with musl, for the tests of the layer in app images.
 * It speaks the line Redis answers ("PING\r\n" -> "+PONG\r\n"), so the
 * client works against redis-server too.
 *
 *   ping-pong server ADDR PORT N   accept N connections, answer each PING
 *   ping-pong client ADDR PORT N   N connections, one PING each; prints
 *                                  "pong N" and exits 0 when all answered
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int addr_of(const char *ip, const char *port, struct sockaddr_in *a)
{
	memset(a, 0, sizeof(*a));
	a->sin_family = AF_INET;
	a->sin_port = htons((unsigned short)atoi(port));
	return inet_pton(AF_INET, ip, &a->sin_addr) == 1 ? 0 : -1;
}

/* Reads up to the end of a line ("\n"); 0, or -1 on end or error. */
static int read_line(int fd, char *buf, size_t len)
{
	size_t n = 0;

	while (n + 1 < len) {
		ssize_t r = read(fd, buf + n, 1);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		if (buf[n++] == '\n')
			break;
	}
	buf[n] = '\0';
	return 0;
}

static int serve(const struct sockaddr_in *a, long n)
{
	int l = socket(AF_INET, SOCK_STREAM, 0), one = 1;
	char line[64];

	if (l < 0 || setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(l, (const struct sockaddr *)a, sizeof(*a)) < 0 || listen(l, 64) < 0) {
		perror("ping-pong: listen");
		return 1;
	}
	for (long i = 0; i < n; i++) {
		int c = accept(l, NULL, NULL);

		if (c < 0) {
			perror("ping-pong: accept");
			return 1;
		}
		while (read_line(c, line, sizeof(line)) == 0)
			if (strncmp(line, "PING", 4) == 0 && write(c, "+PONG\r\n", 7) != 7)
				break;
		close(c);
	}
	close(l);
	return 0;
}

static int ping(const struct sockaddr_in *a, long n)
{
	char line[64];

	for (long i = 0; i < n; i++) {
		int c = socket(AF_INET, SOCK_STREAM, 0);

		if (c < 0 || connect(c, (const struct sockaddr *)a, sizeof(*a)) < 0) {
			perror("ping-pong: connect");
			return 1;
		}
		if (write(c, "PING\r\n", 6) != 6 || read_line(c, line, sizeof(line)) < 0 ||
		    strcmp(line, "+PONG\r\n") != 0) {
			fprintf(stderr, "ping-pong: connection %ld: no +PONG\n", i);
			return 1;
		}
		close(c);
	}
	printf("pong %ld\n", n);
	return 0;
}

int main(int argc, char **argv)
{
	struct sockaddr_in a;
	long n;

	if (argc != 5 || addr_of(argv[2], argv[3], &a) < 0 || (n = atol(argv[4])) < 1) {
		fprintf(stderr, "usage: ping-pong server|client ADDR PORT N\n");
		return 2;
	}
	if (strcmp(argv[1], "server") == 0)
		return serve(&a, n);
	if (strcmp(argv[1], "client") == 0)
		return ping(&a, n);
	fprintf(stderr, "usage: ping-pong server|client ADDR PORT N\n");
	return 2;
}
