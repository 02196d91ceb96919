/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mon-harness: drives the shm endpoint for test/integration/agent-endpoint.sh.
 *
 *   mon-harness serve POOL     an hl_ep_node on a loop; commands on stdin:
 *       create KEY NETNS_PATH QUOTA IP...   -> "ok" | "err ERRNO text"
 *       destroy KEY                         -> "ok" | "err ..."
 *       usage KEY                           -> "quota=Q used=U clients=C regions=R"
 *       node                                -> "pool=P used=U"
 *       quit
 *   mon-harness hostile        a hostile client of @hostlane in this netns:
 *       sends malformed requests, checks each gets the right error reply and
 *       that the endpoint keeps serving; prints one line per check, exits 1
 *       if any failed.
 *   mon-harness direct IP      direct regions (protocol v3): the control block,
 *       slots pre-closed, the doorbell, no slot of a direct region handed
 *       out again, CONN_CLOSE, v3 connectors, DIRECT_OFF
 *   mon-harness exec IP        EXEC: a client's holds outlive its channel (closed
 *       by an exec) while its process lives; without it the region goes
 *       when the peer leaves
 *   mon-harness slots IP       slot connections (protocol v2) between two
 *       clients of @hostlane in this netns, IP being the pod's address: one
 *       region per process pair, fds only with the first connection, slots
 *       recycled once both ring endpoints closed, a second region when the
 *       first is full; same output and exit status as hostile.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "hl_util.h"
#include "monitor.h"
#include "quota.h"
#include "hl_loop.h"
#include "hl_codec.h"
#include "hostlane_direct.h"
#include "shmq.h"
#include "mon_harness.h"

/* ---- serve ---------------------------------------------------------------- */

struct harness {
	struct hl_loop *loop;
	struct hl_monitor *node;
	char buf[4096];
	size_t len;
};

static void reply_err(int err)
{
	printf("err %d %s\n", err, strerror(err));
}

static void cmd(struct harness *h, char *line)
{
	char *argv[16], *save = NULL;
	int argc = 0;
	struct hl_mon_pod *ep;

	for (char *t = strtok_r(line, " \t", &save); t && argc < 16; t = strtok_r(NULL, " \t", &save))
		argv[argc++] = t;
	if (!argc)
		return;
	if (!strcmp(argv[0], "create") && argc >= 4) {
		uint64_t quota;

		if (hl_size_parse(argv[3], &quota)) {
			reply_err(EINVAL);
		} else {
			int nsfd = hl_netns_open(argv[2]);

			ep = nsfd < 0 ? NULL : hl_mon_pod_add(h->node, argv[1], nsfd,
							    (const char *const *)argv + 4,
							    (size_t)argc - 4, quota);
			if (nsfd < 0)
				errno = -nsfd;
			ep ? (void)printf("ok\n") : reply_err(errno);
			if (nsfd >= 0)
				close(nsfd);
		}
	} else if (!strcmp(argv[0], "destroy") && argc == 2) {
		ep = hl_mon_pod_find(h->node, argv[1]);
		if (ep) {
			hl_mon_pod_del(ep);
			printf("ok\n");
		} else {
			reply_err(ENOENT);
		}
	} else if (!strcmp(argv[0], "usage") && argc == 2) {
		struct hl_mon_pod_usage u;

		ep = hl_mon_pod_find(h->node, argv[1]);
		if (ep) {
			hl_mon_pod_get_usage(ep, &u);
			printf("quota=%" PRIu64 " used=%" PRIu64 " clients=%u regions=%u\n",
			       u.quota_bytes, u.used_bytes, u.clients, u.regions);
		} else {
			reply_err(ENOENT);
		}
	} else if (!strcmp(argv[0], "node")) {
		uint64_t pool, used;

		hl_mon_get_usage(h->node, &pool, &used);
		printf("pool=%" PRIu64 " used=%" PRIu64 "\n", pool, used);
	} else if (!strcmp(argv[0], "quit")) {
		hl_loop_stop(h->loop);
		printf("ok\n");
	} else {
		reply_err(EINVAL);
	}
	fflush(stdout);
}

static void stdin_cb(struct hl_loop *loop, int fd, uint32_t events, void *arg)
{
	struct harness *h = arg;
	ssize_t r = read(fd, h->buf + h->len, sizeof(h->buf) - 1 - h->len);
	char *nl;

	(void)events;
	if (r <= 0) {
		hl_loop_del(loop, fd);
		hl_loop_stop(loop);
		return;
	}
	h->len += (size_t)r;
	h->buf[h->len] = '\0';
	while ((nl = strchr(h->buf, '\n'))) {
		*nl = '\0';
		cmd(h, h->buf);
		h->len -= (size_t)(nl + 1 - h->buf);
		memmove(h->buf, nl + 1, h->len + 1);
	}
	if (h->len == sizeof(h->buf) - 1)
		h->len = 0;  /* a line too long for a command: drop it */
}

static void log_cb(void *arg, int level, const char *msg)
{
	(void)arg;
	fprintf(stderr, "mon-harness: <%d> %s\n", level, msg);
}

static int serve(const char *pool)
{
	struct harness h = { 0 };
	struct hl_mon_opts o = { .log = log_cb };
	int rc;

	if (hl_size_parse(pool, &o.pool_bytes))
		return 2;
	h.loop = o.loop = hl_loop_new();
	h.node = h.loop ? hl_mon_new(&o) : NULL;
	if (!h.node || hl_loop_add(h.loop, 0, EPOLLIN, stdin_cb, &h) < 0) {
		perror("mon-harness");
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	rc = hl_loop_run(h.loop);
	hl_mon_free(h.node);
	hl_loop_free(h.loop);
	return rc ? 1 : 0;
}

/* ---- hostile -------------------------------------------------------------- */

int mh_failures;

void mh_check(int cond, const char *what, int got)
{
	printf("%s - %s (status %d)\n", cond ? "PASS" : "FAIL", what, got);
	mh_failures += !cond;
}

int mh_dial(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	socklen_t len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 +
				    strlen(HL_PROTO_ENDPOINT));
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);

	memcpy(sa.sun_path + 1, HL_PROTO_ENDPOINT, strlen(HL_PROTO_ENDPOINT));
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, len) < 0) {
		perror("mon-harness: connect @hostlane");
		exit(1);
	}
	return fd;
}

/* Sends @len bytes of @buf (with @pass_fd attached if >= 0) and returns the
 * status of the reply, or 1000 if there was no valid reply. */
static int exchange(int fd, const void *buf, size_t len, int pass_fd)
{
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(int))];
	} cb;
	struct iovec iov = { (void *)buf, len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	uint8_t rbuf[HL_PROTO_MSG_SIZE];
	struct hl_proto_hdr h;
	ssize_t r;

	if (pass_fd >= 0) {
		memset(&cb, 0, sizeof(cb));
		mh.msg_control = cb.b;
		mh.msg_controllen = sizeof(cb.b);
		struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &pass_fd, sizeof(int));
	}
	if (sendmsg(fd, &mh, MSG_NOSIGNAL) < 0)
		return 1000;
	r = recv(fd, rbuf, sizeof(rbuf), 0);
	if (r != HL_PROTO_MSG_SIZE)
		return 1000;
	memcpy(&h, rbuf, sizeof(h));
	/* A v2 HELLO reply carries the stats region (recv() drops the fd). */
	if (h.magic != HL_PROTO_MAGIC || !(h.flags & HL_PROTO_F_REPLY) ||
	    (h.nfds && h.op != HL_POD_OP_HELLO))
		return 1000;
	return h.status;
}

static int hostile(void)
{
	int fd = mh_dial(), st, p[2];
	struct hl_proto_msg m;
	uint8_t big[HL_PROTO_MSG_SIZE + 100] = { 0 };

	hl_proto_init(&m, HL_POD_OP_REGION_ALLOC, 1);
	m.u.region_req.size = 1 << 20;
	st = exchange(fd, &m, sizeof(m), -1);
	mh_check(st == -EPROTO, "request before HELLO is refused", st);

	hl_proto_init(&m, HL_POD_OP_HELLO, 2);
	m.u.hello_req.min_version = 6;
	m.u.hello_req.max_version = 9;
	st = exchange(fd, &m, sizeof(m), -1);
	mh_check(st == -EPROTONOSUPPORT, "HELLO for versions 6..9 is refused", st);

	m.u.hello_req.min_version = 1;
	m.u.hello_req.max_version = 3;
	st = exchange(fd, &m, sizeof(m), -1);
	mh_check(st == 0, "HELLO for versions 1..3 is accepted (negotiates 2)", st);

	st = exchange(fd, &m, 10, -1);
	mh_check(st == -EBADMSG, "a 10-byte message is refused", st);

	memcpy(big, &m, sizeof(m));
	st = exchange(fd, big, sizeof(big), -1);
	mh_check(st == -EBADMSG, "an oversized message is refused", st);

	m.hdr.magic ^= 1;
	st = exchange(fd, &m, sizeof(m), -1);
	mh_check(st == -EBADMSG, "a bad magic is refused", st);

	hl_proto_init(&m, 99, 3);
	st = exchange(fd, &m, sizeof(m), -1);
	mh_check(st == -EOPNOTSUPP, "an unknown op is refused", st);

	hl_proto_init(&m, HL_POD_OP_LISTEN, 4);
	m.u.listen.port = 7;
	m.u.raw[300] = 1;
	st = exchange(fd, &m, sizeof(m), -1);
	mh_check(st == -EINVAL, "non-zero bytes after the body are refused", st);

	hl_proto_init(&m, HL_POD_OP_CONNECT, 5);
	m.u.connect.addr.family = 7;
	m.u.connect.port = 80;
	st = exchange(fd, &m, sizeof(m), -1);
	mh_check(st == -EINVAL, "a bad address family is refused", st);

	hl_proto_init(&m, HL_POD_OP_REGION_FREE, 6);
	m.u.region_free.region_id = 0x7fffffff;
	st = exchange(fd, &m, sizeof(m), -1);
	mh_check(st == -ENOENT, "freeing a region not held is refused", st);

	hl_proto_init(&m, HL_POD_OP_REGION_ALLOC, 7);
	m.u.region_req.size = UINT64_C(1) << 39;
	st = exchange(fd, &m, sizeof(m), -1);
	mh_check(st == -ENOSPC, "a 512 GiB region is refused", st);

	if (pipe(p) == 0) {
		hl_proto_init(&m, HL_POD_OP_LISTEN, 8);
		m.u.listen.port = 9;
		st = exchange(fd, &m, sizeof(m), p[0]);
		mh_check(st == -EINVAL, "a request carrying an fd is refused", st);
		close(p[0]);
		close(p[1]);
	}

	hl_proto_init(&m, HL_POD_OP_LISTEN, 9);
	m.u.listen.port = 4242;
	st = exchange(fd, &m, sizeof(m), -1);
	mh_check(st == 0, "LISTEN 4242", st);
	st = exchange(fd, &m, sizeof(m), -1);
	mh_check(st == -EADDRINUSE, "a second LISTEN 4242 is refused", st);

	hl_proto_init(&m, HL_POD_OP_HELLO, 10);
	m.u.hello_req.min_version = 1;
	m.u.hello_req.max_version = 1;
	st = exchange(fd, &m, sizeof(m), -1);
	mh_check(st == 0, "the connection still serves after all that", st);
	close(fd);

	/* A client that never reads its replies is dropped, not buffered for. */
	fd = mh_dial();
	int sent = 0;

	/* Blocking sends: each one is either read by the endpoint (which must
	 * then queue a reply we never read) or waits for it to read, so the
	 * endpoint's reply buffer fills and it has to drop us: send fails. */
	for (; sent < 10000000; sent++)
		if (send(fd, &m, sizeof(m), MSG_NOSIGNAL) < 0)
			break;
	mh_check(sent < 10000000, "the endpoint hangs up on a client that never reads", sent);
	for (;;) {  /* drain: ends with EOF once the endpoint dropped us */
		ssize_t r = recv(fd, big, sizeof(big), 0);

		if (r <= 0) {
			mh_check(r == 0 || errno == ECONNRESET, "its queued replies end in a hang-up", (int)r);
			break;
		}
	}
	close(fd);

	fd = mh_dial();
	st = exchange(fd, &m, sizeof(m), -1);
	mh_check(st == 0, "the endpoint serves a new client afterwards", st);
	close(fd);
	return mh_failures ? 1 : 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "serve"))
		return serve(argv[2]);
	if (argc == 2 && !strcmp(argv[1], "hostile"))
		return hostile();
	if (argc == 3 && !strcmp(argv[1], "slots"))
		return mh_slots(argv[2]);
	if (argc == 3 && !strcmp(argv[1], "direct"))
		return mh_direct(argv[2]);
	if (argc == 3 && !strcmp(argv[1], "exec"))
		return mh_exec(argv[2]);
	fprintf(stderr, "usage: mon-harness serve POOL | hostile | slots IP | direct IP | exec IP\n");
	return 2;
}
