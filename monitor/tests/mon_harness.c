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

static int failures;

static void check(int cond, const char *what, int got)
{
	printf("%s - %s (status %d)\n", cond ? "PASS" : "FAIL", what, got);
	failures += !cond;
}

static int dial(void)
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
	int fd = dial(), st, p[2];
	struct hl_proto_msg m;
	uint8_t big[HL_PROTO_MSG_SIZE + 100] = { 0 };

	hl_proto_init(&m, HL_POD_OP_REGION_ALLOC, 1);
	m.u.region_req.size = 1 << 20;
	st = exchange(fd, &m, sizeof(m), -1);
	check(st == -EPROTO, "request before HELLO is refused", st);

	hl_proto_init(&m, HL_POD_OP_HELLO, 2);
	m.u.hello_req.min_version = 6;
	m.u.hello_req.max_version = 9;
	st = exchange(fd, &m, sizeof(m), -1);
	check(st == -EPROTONOSUPPORT, "HELLO for versions 6..9 is refused", st);

	m.u.hello_req.min_version = 1;
	m.u.hello_req.max_version = 3;
	st = exchange(fd, &m, sizeof(m), -1);
	check(st == 0, "HELLO for versions 1..3 is accepted (negotiates 2)", st);

	st = exchange(fd, &m, 10, -1);
	check(st == -EBADMSG, "a 10-byte message is refused", st);

	memcpy(big, &m, sizeof(m));
	st = exchange(fd, big, sizeof(big), -1);
	check(st == -EBADMSG, "an oversized message is refused", st);

	m.hdr.magic ^= 1;
	st = exchange(fd, &m, sizeof(m), -1);
	check(st == -EBADMSG, "a bad magic is refused", st);

	hl_proto_init(&m, 99, 3);
	st = exchange(fd, &m, sizeof(m), -1);
	check(st == -EOPNOTSUPP, "an unknown op is refused", st);

	hl_proto_init(&m, HL_POD_OP_LISTEN, 4);
	m.u.listen.port = 7;
	m.u.raw[300] = 1;
	st = exchange(fd, &m, sizeof(m), -1);
	check(st == -EINVAL, "non-zero bytes after the body are refused", st);

	hl_proto_init(&m, HL_POD_OP_CONNECT, 5);
	m.u.connect.addr.family = 7;
	m.u.connect.port = 80;
	st = exchange(fd, &m, sizeof(m), -1);
	check(st == -EINVAL, "a bad address family is refused", st);

	hl_proto_init(&m, HL_POD_OP_REGION_FREE, 6);
	m.u.region_free.region_id = 0x7fffffff;
	st = exchange(fd, &m, sizeof(m), -1);
	check(st == -ENOENT, "freeing a region not held is refused", st);

	hl_proto_init(&m, HL_POD_OP_REGION_ALLOC, 7);
	m.u.region_req.size = UINT64_C(1) << 39;
	st = exchange(fd, &m, sizeof(m), -1);
	check(st == -ENOSPC, "a 512 GiB region is refused", st);

	if (pipe(p) == 0) {
		hl_proto_init(&m, HL_POD_OP_LISTEN, 8);
		m.u.listen.port = 9;
		st = exchange(fd, &m, sizeof(m), p[0]);
		check(st == -EINVAL, "a request carrying an fd is refused", st);
		close(p[0]);
		close(p[1]);
	}

	hl_proto_init(&m, HL_POD_OP_LISTEN, 9);
	m.u.listen.port = 4242;
	st = exchange(fd, &m, sizeof(m), -1);
	check(st == 0, "LISTEN 4242", st);
	st = exchange(fd, &m, sizeof(m), -1);
	check(st == -EADDRINUSE, "a second LISTEN 4242 is refused", st);

	hl_proto_init(&m, HL_POD_OP_HELLO, 10);
	m.u.hello_req.min_version = 1;
	m.u.hello_req.max_version = 1;
	st = exchange(fd, &m, sizeof(m), -1);
	check(st == 0, "the connection still serves after all that", st);
	close(fd);

	/* A client that never reads its replies is dropped, not buffered for. */
	fd = dial();
	int sent = 0;

	/* Blocking sends: each one is either read by the endpoint (which must
	 * then queue a reply we never read) or waits for it to read, so the
	 * endpoint's reply buffer fills and it has to drop us: send fails. */
	for (; sent < 10000000; sent++)
		if (send(fd, &m, sizeof(m), MSG_NOSIGNAL) < 0)
			break;
	check(sent < 10000000, "the endpoint hangs up on a client that never reads", sent);
	for (;;) {  /* drain: ends with EOF once the endpoint dropped us */
		ssize_t r = recv(fd, big, sizeof(big), 0);

		if (r <= 0) {
			check(r == 0 || errno == ECONNRESET, "its queued replies end in a hang-up", (int)r);
			break;
		}
	}
	close(fd);

	fd = dial();
	st = exchange(fd, &m, sizeof(m), -1);
	check(st == 0, "the endpoint serves a new client afterwards", st);
	close(fd);
	return failures ? 1 : 0;
}

/* ---- slots ---------------------------------------------------------------- */

struct sclient {
	int fd;
	uint32_t seq;
	int bell;   /* v4: the doorbell from HELLO, or -1 */
	int life;   /* v4: the write end of its liveness pipe, or -1 */
};

static struct sclient sdial(uint16_t version)
{
	struct sclient c = { .fd = dial(), .bell = -1, .life = -1 };
	struct hl_proto_msg m, r;
	int fds[HL_PROTO_MAX_FDS];
	int want = (version >= 2) + 2 * (version >= 4);

	hl_proto_init(&m, HL_POD_OP_HELLO, ++c.seq);
	m.u.hello_req.min_version = 1;
	m.u.hello_req.max_version = version;
	hl_proto_fds_reset(fds);
	if (send(c.fd, &m, sizeof(m), MSG_NOSIGNAL) != sizeof(m) ||
	    hl_proto_recv_reply(c.fd, 0, recvmsg, close, &r, fds) != want ||
	    r.hdr.status || r.u.hello_rep.version != version ||
	    !(r.u.hello_rep.flags & HL_HELLO_F_STATS) != (version < 2) ||
	    !(r.u.hello_rep.flags & HL_HELLO_F_BELL) != (version < 4) ||
	    !(r.u.hello_rep.flags & HL_HELLO_F_LIFE) != (version < 4)) {
		fprintf(stderr, "mon-harness: HELLO v%u failed\n", version);
		exit(1);
	}
	if (fds[0] >= 0)
		close(fds[0]);  /* the stats region: not used here */
	c.bell = version >= 4 ? fds[1] : -1;
	c.life = version >= 4 ? fds[2] : -1;
	return c;
}

/* Sends @m on @c and receives one message (reply or event) into @r with
 * its fds. Return: number of fds, or -errno. */
static int srecv(struct sclient *c, struct hl_proto_msg *r, int *fds)
{
	hl_proto_fds_reset(fds);
	return hl_proto_recv_reply(c->fd, 0, recvmsg, close, r, fds);
}

static int scall(struct sclient *c, struct hl_proto_msg *m, struct hl_proto_msg *r, int *fds)
{
	m->hdr.seq = ++c->seq;
	if (send(c->fd, m, sizeof(*m), MSG_NOSIGNAL) != sizeof(*m))
		return -EIO;
	return srecv(c, r, fds);
}

static void close_fds(int *fds, int n)
{
	for (int i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

/* One CONNECT from @a to @l's port; the connection as each side sees it. */
struct sconn {
	int st;
	struct hl_proto_conn a, l;
	int na, nl;
	bool fds_ok;   /* a region's fds: a pipe, then per slot one socket twice */
};

/* Whether @fds (a slot region's, @n of them) are what a peer may hold:
 * the peer's liveness as a pipe (no pidfd), this side's own wake socket
 * twice per slot (no open file description of the peer's). */
static bool region_fds_ok(const int *fds, int n)
{
	char path[64], link[64];
	struct stat a, b;

	for (int i = 1; i < n; i++) {
		ssize_t k;

		snprintf(path, sizeof(path), "/proc/self/fd/%d", fds[i]);
		k = readlink(path, link, sizeof(link) - 1);
		if (k < 0)
			return false;
		link[k] = '\0';
		if (strncmp(link, i == 1 ? "pipe:" : "socket:", i == 1 ? 5 : 7))
			return false;
		if (i >= 2 && !(i & 1) && (fstat(fds[i], &a) || fstat(fds[i + 1], &b) ||
					  a.st_ino != b.st_ino))
			return false;
	}
	return true;
}

static struct sconn sconnect(struct sclient *a, struct sclient *l, const char *ip, uint16_t port)
{
	struct hl_proto_msg m, r, ev;
	int fds[HL_PROTO_MAX_FDS];
	struct sconn s = { 0 };

	hl_proto_init(&m, HL_POD_OP_CONNECT, 0);
	hl_proto_addr_parse(ip, &m.u.connect.addr);
	m.u.connect.port = port;
	m.u.connect.local_port = 40000;
	m.u.connect.flags = HL_CONNECT_F_SLOT;
	s.na = scall(a, &m, &r, fds);
	s.st = s.na < 0 ? s.na : r.hdr.status;
	s.fds_ok = s.na > 0 && region_fds_ok(fds, s.na);
	close_fds(fds, s.na);
	if (s.st)
		return s;
	s.a = r.u.conn;
	s.nl = srecv(l, &ev, fds);  /* the accept event came first */
	s.fds_ok = s.fds_ok && s.nl > 0 && region_fds_ok(fds, s.nl);
	close_fds(fds, s.nl);
	if (s.nl < 0 || ev.hdr.op != HL_POD_OP_EV_ACCEPT)
		s.st = -EPROTO;
	s.l = ev.u.conn;
	return s;
}

static int slots(const char *ip)
{
	struct sclient l = sdial(2), a = sdial(2), old = sdial(1);
	struct hl_proto_msg m, r;
	int fds[HL_PROTO_MAX_FDS], n, st;
	struct sconn c[HL_PROTO_MAX_SLOTS + 1];
	struct shmq_region *reg;
	struct shmq_ep *ep0, *ep1;
	unsigned ns;
	bool distinct = true;

	hl_proto_init(&m, HL_POD_OP_LISTEN, 0);
	m.u.listen.port = 5000;
	n = scall(&l, &m, &r, fds);
	check(n == 0 && r.hdr.status == 0, "LISTEN 5000", n < 0 ? n : r.hdr.status);

	/* The first connection brings the region, the peer's liveness and
	 * every slot's wake fds, to both sides. */
	c[0] = sconnect(&a, &l, ip, 5000);
	ns = c[0].a.slots;
	check(c[0].st == 0 && (c[0].a.flags & HL_CONN_F_REGION) && ns >= 2 &&
	      ns <= HL_PROTO_MAX_SLOTS && c[0].na == (int)(2 + 2 * ns) &&
	      c[0].nl == c[0].na && c[0].l.region_id == c[0].a.region_id &&
	      c[0].a.side == 0 && c[0].l.side == 1 && c[0].l.pair == c[0].a.pair,
	      "first slot connection: region, liveness and 2 wake fds per slot to both sides",
	      c[0].st ? c[0].st : c[0].na);
	check(c[0].fds_ok, "no pidfd, no fd of the peer: its liveness a pipe, each side its own "
	      "wake socket", 0);
	for (unsigned i = 1; i < ns; i++) {
		c[i] = sconnect(&a, &l, ip, 5000);
		for (unsigned j = 0; j < i; j++)
			distinct &= c[i].a.pair != c[j].a.pair;
		distinct &= c[i].st == 0 && c[i].na == 0 && c[i].nl == 0 &&
			    c[i].a.flags == HL_CONN_F_SLOT && c[i].a.region_id == c[0].a.region_id &&
			    c[i].l.pair == c[i].a.pair;
	}
	check(distinct, "later connections: same region, a free slot each, no fds", 0);
	c[ns] = sconnect(&a, &l, ip, 5000);
	check(c[ns].st == 0 && (c[ns].a.flags & HL_CONN_F_REGION) &&
	      c[ns].a.region_id != c[0].a.region_id,
	      "all slots busy: a second region", c[ns].st);

	/* Closing both ring endpoints of a slot recycles it, re-initialised;
	 * one side alone does not. The harness maps the region itself (it
	 * kept no fd: map through the endpoint's CONNECT fds instead). */
	hl_proto_init(&m, HL_POD_OP_CONNECT, 0);
	st = 0;
	{
		struct hl_proto_msg ev;
		int lf[HL_PROTO_MAX_FDS];
		struct sclient b = sdial(2);
		struct sconn d;

		/* A fresh pair (b -> l) whose region we keep to drive the rings. */
		hl_proto_addr_parse(ip, &m.u.connect.addr);
		m.u.connect.port = 5000;
		m.u.connect.flags = HL_CONNECT_F_SLOT;
		n = scall(&b, &m, &r, fds);
		st = srecv(&l, &ev, lf);
		close_fds(lf, st);
		reg = n > 0 ? shmq_region_map(fds[0]) : NULL;
		close_fds(fds, n);
		check(reg != NULL, "the slot region maps", n);
		if (!reg)
			return 1;
		ep0 = shmq_ep_attach(reg, r.u.conn.pair, 0);
		ep1 = shmq_ep_attach(reg, r.u.conn.pair, 1);
		check(ep0 && ep1 && shmq_write(ep0, "x", 1) == 1 && shmq_readable(ep1) == 1,
		      "data through the slot", 0);
		shmq_ep_close(ep0);
		d = sconnect(&b, &l, ip, 5000);
		check(d.st == 0 && d.a.pair != r.u.conn.pair,
		      "one side closed: the slot is not handed out again", (int)d.a.pair);
		shmq_ep_close(ep1);
		d = sconnect(&b, &l, ip, 5000);
		check(d.st == 0 && d.a.pair == r.u.conn.pair && d.na == 0,
		      "both sides closed: the slot is handed out again", (int)d.a.pair);
		ep0 = shmq_ep_attach(reg, d.a.pair, 0);
		ep1 = shmq_ep_attach(reg, d.a.pair, 1);
		st = ep0 && ep1 ? (int)shmq_readable(ep1) : -1;
		check(st == -EAGAIN && shmq_pair_closed(reg, d.a.pair) == 0,
		      "the recycled slot is empty and open", st);
		shmq_ep_detach(ep1);
		shmq_ep_detach(ep0);
		/* The listener gives back a connection it never set up (its
		 * listener closed first): its side of the ring is closed, so
		 * the connector is not left waiting. */
		hl_proto_init(&m, HL_POD_OP_CONN_CLOSE, 0);
		m.u.conn_close.region_id = d.a.region_id;
		m.u.conn_close.pair = d.a.pair;
		m.u.conn_close.side = 1;
		n = scall(&l, &m, &r, fds);
		check(n == 0 && r.hdr.status == 0 && shmq_pair_closed(reg, d.a.pair) == 2,
		      "CONN_CLOSE closes that side's ring for the connector to see",
		      n < 0 ? n : r.hdr.status);
		shmq_region_close(reg);
		close(b.fd);
	}

	hl_proto_init(&m, HL_POD_OP_CONN_CLOSE, 0);
	m.u.conn_close.region_id = c[0].a.region_id;
	m.u.conn_close.pair = c[0].a.pair;
	m.u.conn_close.side = 1;  /* l's side, not a's */
	n = scall(&a, &m, &r, fds);
	check(n == 0 && r.hdr.status == -ENOENT, "CONN_CLOSE of the other side's slot: ENOENT",
	      r.hdr.status);
	m.u.conn_close.side = 0;
	n = scall(&a, &m, &r, fds);
	check(n == 0 && r.hdr.status == 0, "CONN_CLOSE of its own side", r.hdr.status);
	n = scall(&a, &m, &r, fds);
	check(n == 0 && r.hdr.status == -ENOENT, "a second CONN_CLOSE: ENOENT", r.hdr.status);

	hl_proto_init(&m, HL_POD_OP_CONNECT, 0);
	hl_proto_addr_parse(ip, &m.u.connect.addr);
	m.u.connect.port = 5000;
	m.u.connect.flags = HL_CONNECT_F_SLOT;
	n = scall(&old, &m, &r, fds);
	check(n == 0 && r.hdr.status == -EINVAL, "a v1 client cannot ask for a slot", r.hdr.status);
	m.u.connect.flags = 0;
	n = scall(&old, &m, &r, fds);
	check(n == 4 && r.hdr.status == 0 && !r.u.conn.flags, "a v1 client gets a region of its own", n);
	close_fds(fds, n);
	close(old.fd);
	close(a.fd);
	close(l.fd);
	return failures ? 1 : 0;
}

/* ---- direct regions (v4) ------------------------------------------------------ */

/* CONNECT @a -> @l:5000 keeping the connector's fds in @fds (n in *@na)
 * and the listener's event in @ev (fds closed). Return: status. */
static int dconnect(struct sclient *a, struct sclient *l, const char *ip, int *fds, int *na,
		    struct hl_proto_msg *r, struct hl_proto_msg *ev, int *nl)
{
	struct hl_proto_msg m;
	int lf[HL_PROTO_MAX_FDS];

	hl_proto_init(&m, HL_POD_OP_CONNECT, 0);
	hl_proto_addr_parse(ip, &m.u.connect.addr);
	m.u.connect.port = 5000;
	m.u.connect.local_port = 40000;
	m.u.connect.flags = HL_CONNECT_F_SLOT;
	*na = scall(a, &m, r, fds);
	if (*na < 0 || r->hdr.status)
		return *na < 0 ? *na : r->hdr.status;
	*nl = srecv(l, ev, lf);
	close_fds(lf, *nl);
	return *nl < 0 || ev->hdr.op != HL_POD_OP_EV_ACCEPT ? -EPROTO : 0;
}

static int direct(const char *ip)
{
	struct sclient l = sdial(4), a = sdial(4), v3 = sdial(3);
	struct hl_proto_msg m, r, ev;
	int fds[HL_PROTO_MAX_FDS], na = 0, nl = 0, st, n;
	struct shmq_region *reg = NULL;
	const struct hl_direct_blk *b = NULL;
	uint32_t id0, ns, closed = 0;
	uint64_t v = 1;

	hl_proto_init(&m, HL_POD_OP_LISTEN, 0);
	m.u.listen.port = 5000;
	n = scall(&l, &m, &r, fds);
	check(n == 0 && r.hdr.status == 0, "LISTEN 5000", n < 0 ? n : r.hdr.status);

	st = dconnect(&a, &l, ip, fds, &na, &r, &ev, &nl);
	ns = r.u.conn.slots;
	check(st == 0 && r.u.conn.flags == (HL_CONN_F_SLOT | HL_CONN_F_REGION | HL_CONN_F_DIRECT) &&
	      ev.u.conn.flags == r.u.conn.flags && ns >= 2 && ns <= HL_PROTO_MAX_SLOTS &&
	      na == (int)(3 + 2 * ns) && nl == (int)(2 + 2 * ns),
	      "v4 pair: a direct region; the connector also gets a doorbell", st ? st : na);
	if (st || na != (int)(3 + 2 * ns))
		return 1;
	id0 = r.u.conn.region_id;
	reg = shmq_region_map(fds[0]);
	if (reg)
		b = shmq_region_tail(reg, HL_DIRECT_BLK);
	check(b && b->magic == HL_DIRECT_MAGIC && b->n_slots == ns,
	      "its control block is at the region's end", 0);
	for (uint32_t i = 0; i < ns; i++)
		closed += shmq_pair_closed(reg, i) == 3;
	check(shmq_pair_closed(reg, r.u.conn.pair) == 0 && closed == ns - 1,
	      "the first connection's slot is open, every other one closed on both sides",
	      (int)closed);
	st = write(fds[na - 1], &v, sizeof(v)) == sizeof(v) &&
	     read(l.bell, &v, sizeof(v)) == sizeof(v) && v == 1;
	check(st, "the last fd is the listener process's doorbell", 0);
	close_fds(fds, na);

	st = dconnect(&a, &l, ip, fds, &na, &r, &ev, &nl);
	check(st == 0 && (r.u.conn.flags & HL_CONN_F_REGION) && r.u.conn.region_id != id0,
	      "the monitor never hands out a slot of a direct region: a new one", st);
	close_fds(fds, na);

	hl_proto_init(&m, HL_POD_OP_CONN_CLOSE, 0);
	m.u.conn_close.region_id = id0;
	m.u.conn_close.pair = 0;
	m.u.conn_close.side = 0;
	n = scall(&a, &m, &r, fds);
	check(n == 0 && r.hdr.status == 0 && (shmq_pair_closed(reg, 0) & 1),
	      "CONN_CLOSE of a direct slot closes that side's ring", r.hdr.status);

	st = dconnect(&v3, &l, ip, fds, &na, &r, &ev, &nl);
	check(st == 0 && r.u.conn.flags == (HL_CONN_F_SLOT | HL_CONN_F_REGION) &&
	      na == (int)(2 + 2 * ns), "a v3 connector: a plain slot region", st ? st : na);
	close_fds(fds, na);

	hl_proto_init(&m, HL_POD_OP_DIRECT_OFF, 0);
	n = scall(&l, &m, &r, fds);
	check(n == 0 && r.hdr.status == 0, "DIRECT_OFF", r.hdr.status);
	st = dconnect(&a, &l, ip, fds, &na, &r, &ev, &nl);
	check(st == 0 && r.u.conn.flags == (HL_CONN_F_SLOT | HL_CONN_F_REGION),
	      "after DIRECT_OFF: a plain slot region", st);
	close_fds(fds, na);
	st = dconnect(&a, &l, ip, fds, &na, &r, &ev, &nl);
	check(st == 0 && r.u.conn.flags == HL_CONN_F_SLOT && na == 0,
	      "and the monitor hands out its slots", st);

	shmq_region_close(reg);
	close(l.bell);
	close(a.bell);
	close(l.life);
	close(a.life);
	close(v3.fd);
	close(a.fd);
	close(l.fd);
	return failures ? 1 : 0;
}

/* ---- exec (EXEC) ---------------------------------------------------------- */

/*
 * Listener client @l holds a slot of a region with @a, one byte from @a
 * unread in it. @l's channel closes, as an exec closes it (the process, this
 * one, lives on; @exec: it sent EXEC first), then @a closes its ring side
 * and its channel. Return: what @l's side of the ring reads then
 * (shmq_readable(): 1, or an error once the region's memory was punched).
 */
static ssize_t exec_after_peer_left(const char *ip, bool exec)
{
	struct sclient l = sdial(4), a = sdial(4), x;
	struct hl_proto_msg m, r, ev;
	int fds[HL_PROTO_MAX_FDS], na = 0, nl = 0, n;
	struct shmq_region *reg = NULL;
	struct shmq_ep *ep0 = NULL, *ep1 = NULL;
	ssize_t got = -EPROTO;

	hl_proto_init(&m, HL_POD_OP_LISTEN, 0);
	m.u.listen.port = 5000;
	n = scall(&l, &m, &r, fds);
	if (n == 0 && r.hdr.status == 0 && dconnect(&a, &l, ip, fds, &na, &r, &ev, &nl) == 0) {
		reg = shmq_region_map(fds[0]);
		close_fds(fds, na);
	}
	if (reg) {
		ep0 = shmq_ep_attach(reg, r.u.conn.pair, 0);
		ep1 = shmq_ep_attach(reg, r.u.conn.pair, 1);
	}
	check(ep0 && ep1 && shmq_write(ep0, "x", 1) == 1, exec ? "exec: a slot with a byte in it" :
	      "no exec: a slot with a byte in it", 0);
	if (!ep0 || !ep1)
		return -EPROTO;
	if (exec) {
		hl_proto_init(&m, HL_POD_OP_EXEC, 0);
		n = scall(&l, &m, &r, fds);
		check(n == 0 && r.hdr.status == 0, "EXEC", n < 0 ? n : r.hdr.status);
	}
	close(l.fd);
	close(l.bell);
	shmq_ep_close(ep0);
	close(a.fd);
	close(a.bell);
	close(a.life);
	/* Both closes were seen before a new client is served: after this
	 * round trip the endpoint has done what it does with them. */
	x = sdial(4);
	close(x.fd);
	close(x.bell);
	close(x.life);
	got = shmq_readable(ep1);
	if (got == 1) {
		char c = 0;

		got = shmq_read(ep1, &c, 1, 0) == 1 && c == 'x' && shmq_read(ep1, &c, 1, 0) == 0 ? 1 : -EIO;
	}
	shmq_ep_close(ep1);
	shmq_region_close(reg);
	/* The process "after the exec" keeps its liveness pipe: the region
	 * goes when this process exits (harness_pair checks it). */
	if (!exec)
		close(l.life);
	return got;
}

static int exec_hold(const char *ip)
{
	ssize_t got = exec_after_peer_left(ip, false);

	/* What the check below guards against: the region released under
	 * the connection (the harness can see it). */
	check(got < 0, "no EXEC: the region goes when the peer leaves (the byte is gone)",
	      (int)got);
	got = exec_after_peer_left(ip, true);
	check(got == 1, "after EXEC the region stays while the process lives: the byte, then "
	      "end-of-stream", (int)got);
	return failures ? 1 : 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "serve"))
		return serve(argv[2]);
	if (argc == 2 && !strcmp(argv[1], "hostile"))
		return hostile();
	if (argc == 3 && !strcmp(argv[1], "slots"))
		return slots(argv[2]);
	if (argc == 3 && !strcmp(argv[1], "direct"))
		return direct(argv[2]);
	if (argc == 3 && !strcmp(argv[1], "exec"))
		return exec_hold(argv[2]);
	fprintf(stderr, "usage: mon-harness serve POOL | hostile | slots IP | direct IP | exec IP\n");
	return 2;
}
