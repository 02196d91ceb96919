/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mon-harness's connection scenarios (mon_harness.c has the usage): slot
 * regions (protocol v2), direct regions (v4) and EXEC, each as two or three
 * clients of @hostlane in this netns speaking the protocol by hand.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
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
#include "hostlane_stats.h"
#include "shmq.h"
#include "mon_harness.h"

/* ---- slots ---------------------------------------------------------------- */

struct sclient {
	int fd;
	uint32_t seq;
	int bell;   /* v4: the doorbell from HELLO, or -1 */
	int life;   /* v4: the write end of its liveness pipe, or -1 */
	const struct hl_stats_hdr *stats;  /* v2: its stats region, or NULL */
};

static struct sclient sdial(uint16_t version)
{
	struct sclient c = { .fd = mh_dial(), .bell = -1, .life = -1 };
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
	if (fds[0] >= 0) {  /* the stats region: the accept events counted there */
		void *p = mmap(NULL, HL_STATS_SIZE, PROT_READ, MAP_SHARED, fds[0], 0);

		c.stats = p == MAP_FAILED ? NULL : p;
		close(fds[0]);
	}
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

int mh_slots(const char *ip)
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
	mh_check(n == 0 && r.hdr.status == 0, "LISTEN 5000", n < 0 ? n : r.hdr.status);

	/* The first connection brings the region, the peer's liveness and
	 * every slot's wake fds, to both sides. */
	c[0] = sconnect(&a, &l, ip, 5000);
	ns = c[0].a.slots;
	mh_check(c[0].st == 0 && (c[0].a.flags & HL_CONN_F_REGION) && ns >= 2 &&
	      ns <= HL_PROTO_MAX_SLOTS && c[0].na == (int)(2 + 2 * ns) &&
	      c[0].nl == c[0].na && c[0].l.region_id == c[0].a.region_id &&
	      c[0].a.side == 0 && c[0].l.side == 1 && c[0].l.pair == c[0].a.pair,
	      "first slot connection: region, liveness and 2 wake fds per slot to both sides",
	      c[0].st ? c[0].st : c[0].na);
	mh_check(c[0].fds_ok, "no pidfd, no fd of the peer: its liveness a pipe, each side its own "
	      "wake socket", 0);
	for (unsigned i = 1; i < ns; i++) {
		c[i] = sconnect(&a, &l, ip, 5000);
		for (unsigned j = 0; j < i; j++)
			distinct &= c[i].a.pair != c[j].a.pair;
		distinct &= c[i].st == 0 && c[i].na == 0 && c[i].nl == 0 &&
			    c[i].a.flags == HL_CONN_F_SLOT && c[i].a.region_id == c[0].a.region_id &&
			    c[i].l.pair == c[i].a.pair;
	}
	mh_check(distinct, "later connections: same region, a free slot each, no fds", 0);
	c[ns] = sconnect(&a, &l, ip, 5000);
	mh_check(c[ns].st == 0 && (c[ns].a.flags & HL_CONN_F_REGION) &&
	      c[ns].a.region_id != c[0].a.region_id,
	      "all slots busy: a second region", c[ns].st);
	/* The listener's stats region counts the accept events sent to it
	 * (its layer reads the channel before taking direct announcements
	 * while the count is ahead: accept order). */
	mh_check(l.stats && atomic_load(&l.stats->ev_sent) == ns + 1,
	      "the listener's stats region counts the accept events sent (ev_sent)",
	      l.stats ? (int)atomic_load(&l.stats->ev_sent) : -1);

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
		mh_check(reg != NULL, "the slot region maps", n);
		if (!reg)
			return 1;
		ep0 = shmq_ep_attach(reg, r.u.conn.pair, 0);
		ep1 = shmq_ep_attach(reg, r.u.conn.pair, 1);
		mh_check(ep0 && ep1 && shmq_write(ep0, "x", 1) == 1 && shmq_readable(ep1) == 1,
		      "data through the slot", 0);
		shmq_ep_close(ep0);
		d = sconnect(&b, &l, ip, 5000);
		mh_check(d.st == 0 && d.a.pair != r.u.conn.pair,
		      "one side closed: the slot is not handed out again", (int)d.a.pair);
		shmq_ep_close(ep1);
		d = sconnect(&b, &l, ip, 5000);
		mh_check(d.st == 0 && d.a.pair == r.u.conn.pair && d.na == 0,
		      "both sides closed: the slot is handed out again", (int)d.a.pair);
		ep0 = shmq_ep_attach(reg, d.a.pair, 0);
		ep1 = shmq_ep_attach(reg, d.a.pair, 1);
		st = ep0 && ep1 ? (int)shmq_readable(ep1) : -1;
		mh_check(st == -EAGAIN && shmq_pair_closed(reg, d.a.pair) == 0,
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
		mh_check(n == 0 && r.hdr.status == 0 && shmq_pair_closed(reg, d.a.pair) == 2,
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
	mh_check(n == 0 && r.hdr.status == -ENOENT, "CONN_CLOSE of the other side's slot: ENOENT",
	      r.hdr.status);
	m.u.conn_close.side = 0;
	n = scall(&a, &m, &r, fds);
	mh_check(n == 0 && r.hdr.status == 0, "CONN_CLOSE of its own side", r.hdr.status);
	n = scall(&a, &m, &r, fds);
	mh_check(n == 0 && r.hdr.status == -ENOENT, "a second CONN_CLOSE: ENOENT", r.hdr.status);

	hl_proto_init(&m, HL_POD_OP_CONNECT, 0);
	hl_proto_addr_parse(ip, &m.u.connect.addr);
	m.u.connect.port = 5000;
	m.u.connect.flags = HL_CONNECT_F_SLOT;
	n = scall(&old, &m, &r, fds);
	mh_check(n == 0 && r.hdr.status == -EINVAL, "a v1 client cannot ask for a slot", r.hdr.status);
	m.u.connect.flags = 0;
	n = scall(&old, &m, &r, fds);
	mh_check(n == 4 && r.hdr.status == 0 && !r.u.conn.flags, "a v1 client gets a region of its own", n);
	close_fds(fds, n);
	close(old.fd);
	close(a.fd);
	close(l.fd);
	return mh_failures ? 1 : 0;
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

int mh_direct(const char *ip)
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
	mh_check(n == 0 && r.hdr.status == 0, "LISTEN 5000", n < 0 ? n : r.hdr.status);

	st = dconnect(&a, &l, ip, fds, &na, &r, &ev, &nl);
	ns = r.u.conn.slots;
	mh_check(st == 0 && r.u.conn.flags == (HL_CONN_F_SLOT | HL_CONN_F_REGION | HL_CONN_F_DIRECT) &&
	      ev.u.conn.flags == r.u.conn.flags && ns >= 2 && ns <= HL_PROTO_MAX_SLOTS &&
	      na == (int)(3 + 2 * ns) && nl == (int)(2 + 2 * ns),
	      "v4 pair: a direct region; the connector also gets a doorbell", st ? st : na);
	if (st || na != (int)(3 + 2 * ns))
		return 1;
	id0 = r.u.conn.region_id;
	reg = shmq_region_map(fds[0]);
	if (reg)
		b = shmq_region_tail(reg, HL_DIRECT_BLK);
	mh_check(b && b->magic == HL_DIRECT_MAGIC && b->n_slots == ns,
	      "its control block is at the region's end", 0);
	for (uint32_t i = 0; i < ns; i++)
		closed += shmq_pair_closed(reg, i) == 3;
	mh_check(shmq_pair_closed(reg, r.u.conn.pair) == 0 && closed == ns - 1,
	      "the first connection's slot is open, every other one closed on both sides",
	      (int)closed);
	st = write(fds[na - 1], &v, sizeof(v)) == sizeof(v) &&
	     read(l.bell, &v, sizeof(v)) == sizeof(v) && v == 1;
	mh_check(st, "the last fd is the listener process's doorbell", 0);
	close_fds(fds, na);

	st = dconnect(&a, &l, ip, fds, &na, &r, &ev, &nl);
	mh_check(st == 0 && (r.u.conn.flags & HL_CONN_F_REGION) && r.u.conn.region_id != id0,
	      "the monitor never hands out a slot of a direct region: a new one", st);
	close_fds(fds, na);

	hl_proto_init(&m, HL_POD_OP_CONN_CLOSE, 0);
	m.u.conn_close.region_id = id0;
	m.u.conn_close.pair = 0;
	m.u.conn_close.side = 0;
	n = scall(&a, &m, &r, fds);
	mh_check(n == 0 && r.hdr.status == 0 && (shmq_pair_closed(reg, 0) & 1),
	      "CONN_CLOSE of a direct slot closes that side's ring", r.hdr.status);

	st = dconnect(&v3, &l, ip, fds, &na, &r, &ev, &nl);
	mh_check(st == 0 && r.u.conn.flags == (HL_CONN_F_SLOT | HL_CONN_F_REGION) &&
	      na == (int)(2 + 2 * ns), "a v3 connector: a plain slot region", st ? st : na);
	close_fds(fds, na);

	hl_proto_init(&m, HL_POD_OP_DIRECT_OFF, 0);
	n = scall(&l, &m, &r, fds);
	mh_check(n == 0 && r.hdr.status == 0, "DIRECT_OFF", r.hdr.status);
	st = dconnect(&a, &l, ip, fds, &na, &r, &ev, &nl);
	mh_check(st == 0 && r.u.conn.flags == (HL_CONN_F_SLOT | HL_CONN_F_REGION),
	      "after DIRECT_OFF: a plain slot region", st);
	close_fds(fds, na);
	st = dconnect(&a, &l, ip, fds, &na, &r, &ev, &nl);
	mh_check(st == 0 && r.u.conn.flags == HL_CONN_F_SLOT && na == 0,
	      "and the monitor hands out its slots", st);

	shmq_region_close(reg);
	close(l.bell);
	close(a.bell);
	close(l.life);
	close(a.life);
	close(v3.fd);
	close(a.fd);
	close(l.fd);
	return mh_failures ? 1 : 0;
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
	mh_check(ep0 && ep1 && shmq_write(ep0, "x", 1) == 1, exec ? "exec: a slot with a byte in it" :
	      "no exec: a slot with a byte in it", 0);
	if (!ep0 || !ep1)
		return -EPROTO;
	if (exec) {
		hl_proto_init(&m, HL_POD_OP_EXEC, 0);
		n = scall(&l, &m, &r, fds);
		mh_check(n == 0 && r.hdr.status == 0, "EXEC", n < 0 ? n : r.hdr.status);
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

int mh_exec(const char *ip)
{
	ssize_t got = exec_after_peer_left(ip, false);

	/* What the check below guards against: the region released under
	 * the connection (the harness can see it). */
	mh_check(got < 0, "no EXEC: the region goes when the peer leaves (the byte is gone)",
	      (int)got);
	got = exec_after_peer_left(ip, true);
	mh_check(got == 1, "after EXEC the region stays while the process lives: the byte, then "
	      "end-of-stream", (int)got);
	return mh_failures ? 1 : 0;
}

