/* SPDX-License-Identifier: Apache-2.0 */
/*
 * CONNECT and CONN_CLOSE: resolving the destination to a pod and a
 * listener, choosing or making the ring pair (a whole region, or a slot of
 * the region the two processes share), telling the listener (EV_ACCEPT)
 * before the connector, and giving back a slot a client never set up.
 */
#include "mon_private.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <syslog.h>

#include "hl_codec.h"

#define DEFAULT_CAPACITY (512u << 10)  /* a connection's ring pair fits 2 MiB */

struct hl_mon_pod *mon_pod_by_addr(struct hl_monitor *n, const struct hl_proto_addr *a)
{
	for (struct hl_mon_pod *ep = n->eps; ep; ep = ep->next)
		for (size_t i = 0; i < ep->n_ips; i++)
			if (hl_proto_addr_eq(&ep->ips[i], a))
				return ep;
	return NULL;
}

/* Leading bits @a and @b have in common (same family). */
static unsigned common_bits(const struct hl_proto_addr *a, const struct hl_proto_addr *b)
{
	size_t len = a->family == 6 ? 16 : 4;
	unsigned n = 0;

	for (size_t i = 0; i < len; i++) {
		uint8_t x = a->addr[i] ^ b->addr[i];

		if (x) {
			while (!(x & 0x80)) {
				x <<= 1;
				n++;
			}
			return n;
		}
		n += 8;
	}
	return n;
}

/* The address the listener sees as its peer, and the connector as its own:
 * the kernel's choice of source for @dst. Of the connector pod's addresses
 * of @dst's family, the one sharing the longest prefix with @dst (the
 * address on the interface whose subnet holds @dst: eth0's for a Multus
 * pod connecting to another's eth0 address, net1's for its net1 address;
 * RFC 6724 rule 8), the first on a tie; else its first, else 0.0.0.0. */
struct hl_proto_addr mon_peer_addr(const struct hl_mon_pod *ep, const struct hl_proto_addr *dst)
{
	struct hl_proto_addr a = { .family = 4 };
	unsigned best = 0;
	bool found = false;

	for (size_t i = 0; i < ep->n_ips; i++) {
		unsigned b;

		if (ep->ips[i].family != dst->family)
			continue;
		b = common_bits(&ep->ips[i], dst);
		if (!found || b > best) {
			a = ep->ips[i];
			best = b;
			found = true;
		}
	}
	if (!found && ep->n_ips)
		a = ep->ips[0];
	return a;
}

void mon_close_fds(int *fds, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (fds[i] >= 0) {
			close(fds[i]);
			fds[i] = -1;
		}
}

/*
 * The wake fds of @n ring pairs into @efd ([2 * pair + side]): per pair a
 * SOCK_DGRAM socketpair, one end to each side. A side sleeps on its end and
 * wakes the other by sending on it. Nothing is shared between the two
 * processes: each end is one open file description held by one side, so
 * neither can change the other's flags (O_NONBLOCK), and a datagram socket
 * does not hang up when its peer closes. Return: 0, or -errno with none
 * left open.
 */
static int make_wakes(int *efd, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, efd + 2 * i) < 0) {
			int err = -errno;

			mon_close_fds(efd, 2 * i);
			return err;
		}
	}
	return 0;
}

/*
 * The fds a side gets with a connection (see struct hl_proto_conn): @efd
 * holds a wake socket per side and ring pair ([2 * pair + side]). Where the
 * protocol has "this side's eventfd" and "the peer's", a side gets its own
 * wake socket twice: it reads it to sleep, and what it writes to it wakes
 * the peer. Where it has the peer's pidfd, it gets @peer_life, the read end
 * of a pipe whose only writer is the peer process: it hangs up when the
 * peer is gone, and reaches into nothing.
 */
static unsigned conn_fds(int *fds, const struct mon_region *g, bool slot, bool fresh,
			 unsigned side, int peer_life, const int *efd)
{
	unsigned n = 0;

	if (slot && !fresh)
		return 0;
	fds[n++] = shmq_region_fd(g->r);
	if (!slot) {
		fds[n++] = efd[side];
		fds[n++] = efd[side];
		fds[n++] = peer_life;
		return n;
	}
	fds[n++] = peer_life;
	for (uint32_t i = 0; i < g->n_slots; i++) {
		fds[n++] = efd[2 * i + side];
		fds[n++] = efd[2 * i + side];
	}
	if (g->direct && side == 0)
		fds[n++] = g->holder[1]->bell;  /* where to announce */
	if (g->grant_fd >= 0)
		fds[n++] = g->grant_fd;         /* v5: what the listener admits */
	return n;
}

/* The monitor's own resolution of a CONNECT past mon_resolve(): the
 * listener at @t (reached at that address), a Service redirect, policy
 * admission, netfilter. Return: 0 with *@lc the listener's client, or 1
 * with @rep set (an error, or a redirect). */
static int own_checks(struct mon_client *c, const struct hl_proto_connect_req *q,
		      const struct mon_target *tp, const char *ip, struct hl_proto_msg *rep,
		      struct mon_client **lc)
{
	struct hl_monitor *n = c->ep->node;
	struct hl_mon_pod *dst = tp->pod;
	struct mon_target t = *tp;
	struct mon_listener *l;
	unsigned in = 0, out = 0;
	int rc;

	l = dst ? mon_listener_find(dst, t.port) : NULL;
	/* Reached only at the address it is bound to, as in the kernel: a
	 * port bound to an address inside the pod (or loopback) is not at
	 * the pod's IP. */
	if (l && !mon_listener_reaches(l, &t.addr))
		l = NULL;
	/* A Service endpoint, to a connector that takes redirects: it
	 * connects to the endpoint itself — a hostlane one directly over the
	 * region its process shares with the listener's when there is one
	 * (as fast as a connect to the pod IP), else with a CONNECT to the pod
	 * IP; any other with its kernel socket, so the spread over the
	 * endpoints is the one chosen here. */
	if (t.svc && (q->flags & HL_CONNECT_F_REDIRECT)) {
		mon_svc_redirect(n, &t, l == NULL, rep);
		if (l)
			mon_count(n, &t);
		else
			n->svc_st.kernel++;
		return 1;
	}
	if (!l) {
		if (t.svc)
			n->svc_st.kernel++;
		mon_set_error(rep, dst ? -ECONNREFUSED : -EHOSTUNREACH,
			      "nothing listens on %s:%u over hostlane", ip, t.port);
		return 1;
	}
	/* NetworkPolicy: the verdict of the cluster's policies for the two
	 * pods, at the endpoint's address and port for a Service (as the
	 * kernel path sees it after DNAT), with the source as the listener
	 * would see it (mon_peer_addr()); denied, the kernel carries the
	 * connection and the policy engine acts. Loopback never leaves the
	 * pod, on the kernel path neither: no policy applies. */
	if (!t.loopback) {
		struct hl_proto_addr src = mon_peer_addr(c->ep, &t.addr);
		const char *why = NULL;

		rc = mon_admit(n, c->ep, dst, &src, &t.addr, t.port, &why);
		if (rc) {
			mon_set_error(rep, rc, "%s -> %s:%u: %s: the kernel carries this connection",
				      c->ep->key, ip, t.port, why);
			return 1;
		}
	}
	/* A pod's own netfilter rules decide over its connections: with rules
	 * on the way in (the listener's) or out (the connector's), the kernel
	 * carries the connection and applies them. */
	if (mon_nf_hooks(dst->nf, &in) || (in & MON_NF_IN) || mon_nf_hooks(c->ep->nf, &out) ||
	    (out & MON_NF_OUT)) {
		mon_set_error(rep, -EHOSTUNREACH, "%s has netfilter rules: the kernel carries this connection",
			      (in & MON_NF_IN) || !(out & MON_NF_OUT) ? dst->key : c->ep->key);
		return 1;
	}
	*lc = l->c;
	return 0;
}

/*
 * CONNECT: the region is charged to the connector's pod; the ACCEPT event
 * goes out first, so the connector only ever hears of a connection that the
 * listener was told about. A slot connection (v2, both ends) takes a free
 * slot of the region the two processes share, or makes that region (one
 * 2 MiB page of slots) on their first connection; only then do the region
 * memfd and the pidfds travel. Returns the number of fds put in @fds for
 * the reply, or 0 with @rep set to the error (0 fds is also a later slot
 * connection: check rep's status). @efd (MON_CLOSE_FDS, all -1)
 * gets the eventfds made, for the caller to close after the reply.
 */
unsigned mon_connect(struct mon_client *c, const struct hl_proto_msg *req,
			   struct hl_proto_msg *rep, int *fds, int *efd)
{
	const struct hl_proto_connect_req *q = &req->u.connect;
	struct hl_monitor *n = c->ep->node;
	char reason[HL_PROTO_REASON_MAX], ip[64] = "?";
	struct mon_target t;
	struct mon_client *lc = NULL;
	struct hl_mon_pod *dst;
	bool slot = (q->flags & HL_CONNECT_F_SLOT) != 0, fresh = true;
	struct hl_proto_msg ev;
	struct mon_region *g;
	uint32_t pair = 0;
	int rc = 0, evfds[HL_PROTO_MAX_FDS];
	unsigned nfds;

	if (slot && c->version < 2) {
		mon_set_error(rep, -EINVAL, "slot connections need protocol version 2");
		return 0;
	}
	/* A pod IP, loopback inside the pod, or a Service's ClusterIP
	 * resolved to one endpoint (services.c); refused otherwise, and the
	 * layer connects the kernel socket to what the application asked. */
	if (mon_resolve(c, &q->addr, q->port, &t, rep))
		return 0;
	dst = t.pod;
	hl_proto_addr_format(&t.addr, ip, sizeof(ip));
	/* Where it goes and whether it may: the engine decides a connect to
	 * a pod's address (cp_check.c); loopback, Services and a monitor
	 * without an engine queue for @c go through the monitor's own
	 * checks. */
	rc = t.loopback || t.svc ? 1 : mon_cp_connect(c, &t, q->local_port, &lc, rep);
	if (rc > 0)
		rc = own_checks(c, q, &t, ip, rep, &lc);
	if (rc)
		return 0;
	rc = 0;
	/* Backpressure: a listener that does not read its events gets no
	 * more (the connector falls back to the kernel), so its own
	 * requests' replies always find room. */
	if (!mon_event_room(lc)) {
		mon_set_error(rep, -EAGAIN, "cannot connect to %s:%u: listener busy (%u accept events unread)",
			      ip, t.port, n->o.limits.events);
		return 0;
	}
	slot = slot && lc->version >= 2;  /* a v1 listener gets a region */
	g = slot ? mon_slot_find(n, c, lc, &pair) : NULL;
	if (g) {
		fresh = false;
		/* Re-initialised for each use: cheap, and whatever the last
		 * connection left in it (or a hostile peer wrote) is gone. */
		rc = shmq_pair_init(g->r, pair, SHMQ_MODE_STREAM);
	} else {
		uint32_t np = slot ? mon_slots_per_region() : 1;
		uint32_t cap = slot ? SLOT_CAPACITY : q->capacity ? q->capacity : DEFAULT_CAPACITY;

		if (slot)
			mon_slot_gc(n);  /* the pod's quota may be held by orphans */
		rc = mon_region_new(c->ep, shmq_region_bytes(np, cap), &g, reason, sizeof(reason));
		if (rc) {
			mon_set_error(rep, rc, "%s", reason);
			return 0;
		}
		rc = mon_region_layout(g, np, cap, SHMQ_MODE_STREAM);
		g->n_slots = slot ? np : 0;
		if (!rc)
			rc = make_wakes(efd, np);
		if (!rc && slot) {
			/* holder[1] names the doorbell in conn_fds() */
			g->holder[1] = lc;
			mon_direct_make(n, g, c, lc, pair, t.port);
		}
	}
	if (rc)
		goto fail;
	hl_proto_init(&ev, HL_POD_OP_EV_ACCEPT, 0);
	ev.hdr.version = lc->version;
	ev.u.conn.region_id = g->id;
	ev.u.conn.side = 1;
	ev.u.conn.pair = pair;
	ev.u.conn.local_port = t.port;
	ev.u.conn.peer_port = q->local_port;
	ev.u.conn.peer = t.loopback ? t.addr_from : mon_peer_addr(c->ep, &t.addr);
	if (lc->version >= 4)
		ev.u.conn.local = t.addr;
	ev.u.conn.size = g->bytes;
	ev.u.conn.flags = slot ? HL_CONN_F_SLOT | (fresh ? HL_CONN_F_REGION : 0) : 0;
	ev.u.conn.flags |= g->direct ? HL_CONN_F_DIRECT : 0;
	ev.u.conn.flags |= fresh && g->grant_fd >= 0 ? HL_CONN_F_GRANT : 0;
	ev.u.conn.slots = slot && fresh ? g->n_slots : 0;
	nfds = conn_fds(evfds, g, slot, fresh, 1, c->life_rd, efd);
	/* Counted before it is sent (release): a direct connection the
	 * connector announces after our reply comes after this count, and the
	 * listener's layer, seeing it ahead of what it read, reads the
	 * channel first and accepts in arrival order. */
	if (lc->stats)
		atomic_fetch_add_explicit(&lc->stats->ev_sent, 1, memory_order_release);
	rc = mon_send(lc->fd, &ev, evfds, nfds);
	if (rc && lc->stats)
		atomic_fetch_sub_explicit(&lc->stats->ev_sent, 1, memory_order_relaxed);
	if (rc) {
		mon_log(n, LOG_INFO, "endpoint %s: listener on port %u not reachable: %s",
		      dst->key, t.port, strerror(-rc));
		rc = rc == -EAGAIN ? -EAGAIN : -ECONNREFUSED;
		goto fail;
	}
	if (fresh) {
		g->holder[0] = c;
		g->holder[1] = lc;
	}
	if (slot) {
		g->used[0] |= UINT64_C(1) << pair;
		g->used[1] |= UINT64_C(1) << pair;
	}
	rep->u.conn = ev.u.conn;
	/* The connector's own address, the one the listener sees (v4). */
	memset(&rep->u.conn.local, 0, sizeof(rep->u.conn.local));
	if (c->version >= 4)
		rep->u.conn.local = ev.u.conn.peer;
	rep->u.conn.side = 0;
	rep->u.conn.local_port = 0;
	/* The endpoint, not a ClusterIP: a direct region made by this
	 * connection is for the endpoint's address, so later connects to the
	 * Service keep coming here to be balanced. */
	rep->u.conn.peer_port = t.port;
	rep->u.conn.peer = t.addr;
	mon_count(n, &t);
	/* The caller closes our copies of the eventfds once this is sent,
	 * and of the grant: from then on only our mapping of it writes. */
	nfds = conn_fds(fds, g, slot, fresh, 0, lc->life_rd, efd);
	efd[MON_CLOSE_GRANT] = g->grant_fd;
	g->grant_fd = -1;
	return nfds;
fail:
	if (fresh)
		mon_region_release(n, g);
	mon_close_fds(efd, MON_CLOSE_FDS);
	mon_set_error(rep, rc, "cannot connect to %s:%u: %s", ip, t.port,
		  rc == -EAGAIN ? "listener backlog full" : strerror(-rc));
	return 0;
}

/* CONN_CLOSE: @c gives its side of a slot back. A region whose other holder
 * is gone is released with the last slot of the survivor. */
void mon_conn_close(struct mon_client *c, const struct hl_proto_msg *req,
			  struct hl_proto_msg *rep)
{
	const struct hl_proto_conn_close_req *q = &req->u.conn_close;
	struct mon_region *g = mon_region_find(c->ep->node, q->region_id);
	uint64_t bit = UINT64_C(1) << q->pair;

	struct shmq_ep *e;

	if (c->version < 2 || !g || q->pair >= g->n_slots || g->holder[q->side] != c ||
	    (!g->direct && !(g->used[q->side] & bit))) {
		mon_set_error(rep, -ENOENT, "slot %u of region %u (side %u) is not held by this client",
			  q->pair, q->region_id, q->side);
		return;
	}
	/* The client never set this side up (a listener closed with the
	 * connection still queued): close its ring for it, so the other side
	 * reads end-of-stream, or a reset if its bytes are unread, instead of
	 * waiting forever; a direct region's slot is free once both sides
	 * are closed. */
	e = shmq_ep_attach(g->r, q->pair, q->side);
	if (e)
		shmq_ep_close(e);
	g->used[q->side] &= ~bit;
	if (g->direct)
		return;
	if (!g->holder[!q->side] && !g->used[q->side])
		mon_region_unhold(c->ep->node, g, c);
}
