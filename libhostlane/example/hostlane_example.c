/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hostlane-example: moves data between two pods through the queues the pod
 * endpoint hands out, and checks it arrived intact.
 *
 *   hostlane-example listen PORT [COUNT]     serve COUNT connections (1)
 *   hostlane-example connect IP PORT [BYTES] send BYTES (64Mi), verify
 *   hostlane-example info                    print the pod's identity
 *   hostlane-example alloc SIZE [hold]       get a region (hold: until stdin EOF)
 *
 * Stream format: 8-byte length, the data; the listener answers with the
 * 8-byte FNV-1a checksum of what it read, which the connector compares.
 * Exit status: 0 ok, 1 failure, 2 usage.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hostlane.h"

#define CHUNK (256u << 10)

static uint64_t fnv(uint64_t h, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * UINT64_C(0x100000001b3);
	return h;
}

static void fill(uint8_t *p, size_t n, uint64_t *state)
{
	for (size_t i = 0; i < n; i++) {
		*state ^= *state << 13;
		*state ^= *state >> 7;
		*state ^= *state << 17;
		p[i] = (uint8_t)*state;
	}
}

static int parse_size(const char *s, uint64_t *v)
{
	char *end;
	unsigned long long n;

	errno = 0;
	n = strtoull(s, &end, 10);
	if (errno || end == s)
		return -1;
	if (!strcmp(end, "Ki"))
		n <<= 10;
	else if (!strcmp(end, "Mi"))
		n <<= 20;
	else if (!strcmp(end, "Gi"))
		n <<= 30;
	else if (*end)
		return -1;
	*v = n;
	return 0;
}

static int fail(struct hl_ctx *ctx, const char *what, int err)
{
	const char *why = ctx ? hl_last_error(ctx) : "";

	fprintf(stderr, "hostlane-example: %s: %s%s%s%s\n", what, strerror(-err),
		*why ? " (" : "", why, *why ? ")" : "");
	return 1;
}

static struct hl_ctx *open_ctx(void)
{
	struct hl_ctx *ctx = hl_open(NULL);

	if (!ctx)
		fail(NULL, "open endpoint", -errno);
	return ctx;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int cmd_info(int argc, char **argv)
{
	struct hl_ctx *ctx = open_ctx();
	struct hl_identity id;

	(void)argc; (void)argv;
	if (!ctx)
		return 1;
	hl_identity(ctx, &id);
	printf("pod_key=%s ips=", id.pod_key);
	for (unsigned i = 0; i < id.n_ips; i++)
		printf("%s%s", i ? "," : "", id.ips[i]);
	printf(" quota=%" PRIu64 " used=%" PRIu64 " version=%u\n", id.quota_bytes,
	       id.used_bytes, id.version);
	hl_close(ctx);
	return 0;
}

static int cmd_alloc(int argc, char **argv)
{
	struct hl_ctx *ctx;
	struct hl_region r;
	uint64_t size;
	int rc;

	if (argc < 1 || parse_size(argv[0], &size))
		return 2;
	ctx = open_ctx();
	if (!ctx)
		return 1;
	rc = hl_region_alloc(ctx, (size_t)size, &r);
	if (rc) {
		fail(ctx, "alloc", rc);
		hl_close(ctx);
		return 1;
	}
	memset(r.map, 0xa5, r.size);  /* touch every page: they are really ours */
	printf("region id=%u size=%zu hugetlb=%d\n", r.id, r.size, r.hugetlb);
	fflush(stdout);
	if (argc > 1 && !strcmp(argv[1], "hold")) {
		char buf[64];

		while (read(0, buf, sizeof(buf)) > 0)
			;
	}
	rc = hl_region_free(ctx, &r);
	hl_close(ctx);
	return rc ? fail(NULL, "free", rc) : 0;
}

static int recv_all(struct hl_conn *c, void *buf, size_t len)
{
	ssize_t r = hl_conn_recv(c, buf, len, HL_WAITALL);

	return r == (ssize_t)len ? 0 : r < 0 ? (int)r : -EPIPE;
}

static int serve_one(struct hl_conn *c)
{
	static uint8_t buf[CHUNK];
	uint64_t len, got = 0, sum = UINT64_C(0xcbf29ce484222325);
	char ip[64] = "?";
	int rc = recv_all(c, &len, sizeof(len));

	while (!rc && got < len) {
		size_t want = len - got < CHUNK ? (size_t)(len - got) : CHUNK;
		ssize_t r = hl_conn_recv(c, buf, want, 0);

		if (r <= 0) {
			rc = r ? (int)r : -EPIPE;
			break;
		}
		sum = fnv(sum, buf, (size_t)r);
		got += (uint64_t)r;
	}
	if (rc)
		return rc;
	if (hl_conn_send(c, &sum, sizeof(sum), 0) != (ssize_t)sizeof(sum))
		return -EPIPE;
	hl_conn_peer(c, ip, sizeof(ip), NULL);
	printf("received %" PRIu64 " bytes checksum %016" PRIx64 " from %s\n", got, sum, ip);
	fflush(stdout);
	return 0;
}

static int cmd_listen(int argc, char **argv)
{
	struct hl_ctx *ctx;
	int port, count = argc > 1 ? atoi(argv[1]) : 1, rc;

	if (argc < 1 || (port = atoi(argv[0])) <= 0 || port > 65535 || count < 1)
		return 2;
	ctx = open_ctx();
	if (!ctx)
		return 1;
	rc = hl_listen(ctx, (uint16_t)port);
	if (rc) {
		fail(ctx, "listen", rc);
		hl_close(ctx);
		return 1;
	}
	printf("listening on %d\n", port);
	fflush(stdout);
	for (int i = 0; i < count && !rc; i++) {
		struct hl_conn *c;

		rc = hl_accept(ctx, &c, -1);
		if (rc) {
			fail(ctx, "accept", rc);
			break;
		}
		rc = serve_one(c);
		if (rc)
			fail(ctx, "receive", rc);
		hl_conn_close(c);
	}
	hl_close(ctx);
	return rc ? 1 : 0;
}

static int send_data(struct hl_conn *c, uint64_t bytes, uint64_t *sum)
{
	static uint8_t buf[CHUNK];
	uint64_t state = UINT64_C(0x9e3779b97f4a7c15), sent = 0;

	*sum = UINT64_C(0xcbf29ce484222325);
	if (hl_conn_send(c, &bytes, sizeof(bytes), 0) != (ssize_t)sizeof(bytes))
		return -EPIPE;
	while (sent < bytes) {
		size_t n = bytes - sent < CHUNK ? (size_t)(bytes - sent) : CHUNK;
		ssize_t w;

		fill(buf, n, &state);
		*sum = fnv(*sum, buf, n);
		w = hl_conn_send(c, buf, n, 0);
		if (w != (ssize_t)n)
			return w < 0 ? (int)w : -EPIPE;
		sent += n;
	}
	return 0;
}

static int cmd_connect(int argc, char **argv)
{
	uint64_t bytes = UINT64_C(64) << 20, sum, theirs;
	struct hl_ctx *ctx;
	struct hl_conn *c;
	int port, rc;
	double t0;

	if (argc < 2 || (port = atoi(argv[1])) <= 0 || port > 65535 ||
	    (argc > 2 && parse_size(argv[2], &bytes)))
		return 2;
	ctx = open_ctx();
	if (!ctx)
		return 1;
	rc = hl_connect(ctx, argv[0], (uint16_t)port, &c);
	if (rc) {
		fail(ctx, "connect", rc);
		hl_close(ctx);
		return 1;
	}
	t0 = now_s();
	rc = send_data(c, bytes, &sum);
	if (!rc)
		rc = recv_all(c, &theirs, sizeof(theirs));
	if (rc) {
		fail(ctx, "transfer", rc);
	} else if (theirs != sum) {
		fprintf(stderr, "hostlane-example: checksum mismatch: sent %016" PRIx64
			", peer got %016" PRIx64 "\n", sum, theirs);
		rc = -EIO;
	} else {
		double dt = now_s() - t0;

		printf("sent %" PRIu64 " bytes checksum %016" PRIx64 " verified (%.0f MB/s)\n",
		       bytes, sum, dt > 0 ? (double)bytes / dt / 1e6 : 0.0);
	}
	hl_conn_close(c);
	hl_close(ctx);
	return rc ? 1 : 0;
}

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *help;
} cmds[] = {
	{ "listen", cmd_listen, "PORT [COUNT]      serve COUNT connections, print checksums" },
	{ "connect", cmd_connect, "IP PORT [BYTES]  send BYTES (default 64Mi), verify checksum" },
	{ "info", cmd_info, "                    print the pod identity from the endpoint" },
	{ "alloc", cmd_alloc, "SIZE [hold]        allocate a region (hold: until stdin EOF)" },
};

static int usage(void)
{
	fprintf(stderr, "usage: hostlane-example COMMAND [ARGS]\n");
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		fprintf(stderr, "  %s %s\n", cmds[i].name, cmds[i].help);
	return 2;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return usage();
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		if (strcmp(argv[1], cmds[i].name))
			continue;
		int rc = cmds[i].fn(argc - 2, argv + 2);

		return rc == 2 ? usage() : rc;
	}
	return usage();
}
