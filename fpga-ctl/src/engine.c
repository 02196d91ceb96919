/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The requests: what the engine decides for each entry, in the order the
 * RTL decides it (rtl/hlf_engine.sv follows this file step for step; the
 * differential test holds them to it). A CONNECT resolves the destination
 * as the monitor does (a Service's ClusterIP:port to one of its ready
 * endpoints, kube-proxy-like; the endpoint's or the address's pod; the
 * listener reached at that address), applies the pods' netfilter flags
 * and the admission table, picks one queue of the listener, and takes a
 * free slot of the pair's region; what it cannot decide (no region yet,
 * every slot taken) goes to software as a MISS. Regions, memfds and fds
 * stay in software: the engine only knows region ids and free-slot bits.
 * Request entries come from pod processes: every field is checked.
 */
#include "engine.h"

#include <errno.h>
#include <string.h>

static bool zero(const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		if (b[i])
			return false;
	return true;
}

static void put16(uint8_t *k, uint16_t v)
{
	k[0] = (uint8_t)v;
	k[1] = (uint8_t)(v >> 8);
}

static const uint8_t V4ANY[16] = { [10] = 0xff, [11] = 0xff };

static bool is_v4(const uint8_t *a)
{
	return !memcmp(a, V4ANY, 12);
}

/* Whether a listener bound to @bound (with @flags) is reached at @dst, as
 * the kernel would: its own address, or a wildcard of the family (a v6
 * wildcard v4 too unless V6ONLY). */
static bool reaches(const uint8_t *bound, unsigned flags, const uint8_t *dst)
{
	if (zero(bound, 16))
		return !is_v4(dst) || !(flags & FPGACTL_LSN_V6ONLY);
	if (!memcmp(bound, V4ANY, 16))
		return is_v4(dst);
	return !memcmp(bound, dst, 16);
}

static struct eng_pod *pod_of(struct eng *e, const uint8_t *addr)
{
	return eng_tbl_find(&e->pods, addr);
}

static void lsn_key(uint8_t *k, unsigned pod, unsigned port)
{
	put16(k, (uint16_t)pod);
	put16(k + 2, (uint16_t)port);
}

/* ---- process ops ---- */

static void listen_op(struct eng *e, unsigned t, unsigned pod, const struct fpgactl_req *r)
{
	uint8_t k[4];
	struct eng_lsn *l;

	lsn_key(k, pod, r->port);
	l = eng_tbl_slot(&e->lsns, k);
	if (!l) {
		eng_cpl(e, t, r, -ENOSPC, FPGACTL_R_TABLE_FULL);
		return;
	}
	if (l->valid) {
		bool share = (r->flags & (FPGACTL_LSN_SHARED | FPGACTL_LSN_REUSEPORT)) != 0;

		if (!share || l->flags != r->flags || memcmp(l->addr, r->addr, 16)) {
			eng_cpl(e, t, r, -EADDRINUSE, FPGACTL_R_IN_USE);
			return;
		}
		for (unsigned i = 0; i < l->n; i++)
			if (l->q[i] == t) {
				eng_cpl(e, t, r, -EADDRINUSE, FPGACTL_R_IN_USE);
				return;
			}
		if (l->n >= FPGACTL_LSN_MEMBERS) {
			eng_cpl(e, t, r, -ENOBUFS, FPGACTL_R_GROUP_FULL);
			return;
		}
		l->q[l->n++] = (uint16_t)t;
		eng_cpl(e, t, r, 0, 0);
		return;
	}
	memset(l, 0, sizeof(*l));
	l->valid = 1;
	memcpy(l->key, k, sizeof(k));
	l->flags = r->flags;
	l->n = 1;
	l->q[0] = (uint16_t)t;
	memcpy(l->addr, r->addr, 16);
	eng_cpl(e, t, r, 0, 0);
}

static void unlisten_op(struct eng *e, unsigned t, unsigned pod, const struct fpgactl_req *r)
{
	uint8_t k[4];
	struct eng_lsn *l;
	unsigned i;

	lsn_key(k, pod, r->port);
	l = eng_tbl_find(&e->lsns, k);
	for (i = 0; l && i < l->n && l->q[i] != t; i++)
		;
	if (!l || i == l->n) {
		eng_cpl(e, t, r, -ENOENT, FPGACTL_R_NO_ENTRY);
		return;
	}
	for (; i + 1 < l->n; i++)
		l->q[i] = l->q[i + 1];
	l->q[--l->n] = 0;
	if (!l->n)
		memset(l, 0, sizeof(*l));
	else if (l->rr >= l->n)
		l->rr = 0;
	eng_cpl(e, t, r, 0, 0);
}

static void refuse(struct eng *e, unsigned t, const struct fpgactl_req *r, int err, unsigned why)
{
	eng_cpl(e, t, r, err, why);
}

static void connect_op(struct eng *e, unsigned t, unsigned pod, const struct fpgactl_req *r)
{
	const uint8_t *dst = r->addr;
	uint16_t port = r->port;
	struct eng_pod *sp = pod_of(e, r->src), *dp;
	struct eng_svc *svc;
	struct eng_lsn *l;
	struct eng_pair *pr;
	uint8_t k[18];
	unsigned dpod, L, slot, nf, pf;

	if (!sp || sp->pod != pod) {
		refuse(e, t, r, -EADDRNOTAVAIL, FPGACTL_R_BAD_SRC);
		return;
	}
	memcpy(k, r->addr, 16);
	put16(k + 16, r->port);
	svc = eng_tbl_find(&e->svcs, k);
	if (svc) {
		const struct eng_ep *ep;
		unsigned i;

		if (!svc->n) {
			refuse(e, t, r, -ECONNREFUSED, FPGACTL_R_SVC_EMPTY);
			return;
		}
		i = (svc->flags & FPGACTL_SVC_AFFINITY) ? eng_range(eng_hash(e, r->src, 16), svc->n)
							 : svc->rr;
		ep = &e->eps[(svc->base + i) % e->g.n_eps];
		if (!(ep->flags & FPGACTL_EP_LOCAL)) {
			refuse(e, t, r, -EHOSTUNREACH, FPGACTL_R_SVC_REMOTE);
			return;
		}
		dst = ep->addr;
		port = ep->port;
	}
	dp = pod_of(e, dst);
	if (!dp) {
		refuse(e, t, r, -EHOSTUNREACH, FPGACTL_R_NO_POD);
		return;
	}
	dpod = dp->pod;
	lsn_key(k, dpod, port);
	l = eng_tbl_find(&e->lsns, k);
	if (!l || !reaches(l->addr, l->flags, dst)) {
		refuse(e, t, r, -ECONNREFUSED, FPGACTL_R_NO_LISTENER);
		return;
	}
	nf = e->pod_flags[dpod % e->g.n_pods];
	pf = e->pod_flags[pod % e->g.n_pods];
	if ((nf & FPGACTL_POD_NF_IN) || (pf & FPGACTL_POD_NF_OUT)) {
		refuse(e, t, r, -EHOSTUNREACH, FPGACTL_R_NETFILTER);
		return;
	}
	if ((nf & FPGACTL_POD_POL_IN) || (pf & FPGACTL_POD_POL_OUT)) {
		struct eng_pol *p;

		put16(k, (uint16_t)pod);
		put16(k + 2, (uint16_t)dpod);
		put16(k + 4, port);
		p = eng_tbl_find(&e->pols, k);
		if (!p) {
			put16(k + 4, 0);
			p = eng_tbl_find(&e->pols, k);
		}
		if (!p || p->verdict != FPGACTL_POL_ALLOW) {
			refuse(e, t, r, -EHOSTUNREACH, FPGACTL_R_POLICY);
			return;
		}
	}
	if (l->flags & FPGACTL_LSN_REUSEPORT) {
		memcpy(k, r->src, 16);
		put16(k + 16, r->lport);
		L = l->q[eng_range(eng_hash(e, k, 18), l->n)];
	} else {
		L = l->q[l->rr];
	}
	if (L >= e->g.nq || !(e->q[L].state & FPGACTL_QS_ENABLED)) {
		refuse(e, t, r, -ECONNREFUSED, FPGACTL_R_NO_LISTENER);
		return;
	}
	put16(k, (uint16_t)t);
	put16(k + 2, (uint16_t)L);
	pr = eng_tbl_find(&e->pairs, k);
	if (!pr || !pr->free) {
		struct fpgactl_evt ev = {
			.type = FPGACTL_EVT_MISS, .op = r->op, .tag = r->tag,
			.reason = pr ? FPGACTL_R_REGION_FULL : FPGACTL_R_NO_REGION,
			.queue = (uint16_t)t, .aux = (uint16_t)L, .port = r->port, .lport = r->lport,
		};

		if (eng_eq_room(e, 0, 2) < 2) {
			refuse(e, t, r, -EAGAIN, FPGACTL_R_SW_BUSY);
			return;
		}
		memcpy(ev.addr, r->addr, 16);
		memcpy(ev.peer, r->src, 16);
		eng_emit(e, 0, &ev);
		return;
	}
	if (eng_eq_room(e, L, 2) < 2) {
		refuse(e, t, r, -EAGAIN, FPGACTL_R_BUSY);
		return;
	}
	slot = (unsigned)__builtin_ctz(pr->free);
	pr->free &= ~(1u << slot);
	if (!(l->flags & FPGACTL_LSN_REUSEPORT))
		l->rr = (uint8_t)(l->rr + 1 >= l->n ? 0 : l->rr + 1);
	if (svc && !(svc->flags & FPGACTL_SVC_AFFINITY))
		svc->rr = (uint8_t)(svc->rr + 1 >= svc->n ? 0 : svc->rr + 1);
	{
		struct fpgactl_evt a = {
			.type = FPGACTL_EVT_ACCEPT, .queue = (uint16_t)t, .region = pr->region,
			.slot = (uint16_t)slot, .port = port, .lport = r->lport,
		}, c = {
			.type = FPGACTL_EVT_CPL, .op = r->op, .tag = r->tag, .queue = (uint16_t)L,
			.region = pr->region, .slot = (uint16_t)slot,
		};

		memcpy(a.addr, dst, 16);
		memcpy(a.peer, r->src, 16);
		eng_emit(e, L, &a);
		memcpy(c.addr, r->addr, 16);
		memcpy(c.peer, dst, 16);
		eng_emit(e, t, &c);
	}
}

static void close_op(struct eng *e, unsigned t, const struct fpgactl_req *r)
{
	struct fpgactl_evt ev = {
		.type = FPGACTL_EVT_FWD, .op = r->op, .flags = r->flags, .tag = r->tag,
		.queue = (uint16_t)t, .region = r->val, .slot = r->aux,
	};

	if (eng_eq_room(e, 0, 2) < 2) {
		refuse(e, t, r, -EAGAIN, FPGACTL_R_SW_BUSY);
		return;
	}
	eng_emit(e, 0, &ev);
}

/* Fields of @r an op may use: bits of this mask. */
#define U_FLAGS 0x001u
#define U_PORT  0x002u
#define U_LPORT 0x004u
#define U_QID   0x008u
#define U_POD   0x010u
#define U_AUX   0x020u
#define U_VAL   0x040u
#define U_VAL2  0x080u
#define U_ADDR  0x100u
#define U_SRC   0x200u

static bool unused_zero(const struct fpgactl_req *r, unsigned use)
{
	return (use & U_FLAGS || !r->flags) && (use & U_PORT || !r->port) &&
	       (use & U_LPORT || !r->lport) && (use & U_QID || !r->qid) &&
	       (use & U_POD || !r->pod) && (use & U_AUX || !r->aux) &&
	       (use & U_VAL || !r->val) && (use & U_VAL2 || !r->val2) && !r->rsvd &&
	       (use & U_ADDR || zero(r->addr, 16)) && (use & U_SRC || zero(r->src, 16));
}

/* Process ops: 0 served, -EINVAL malformed, -EOPNOTSUPP unknown. */
static int process_op(struct eng *e, unsigned t, unsigned pod, const struct fpgactl_req *r)
{
	switch (r->op) {
	case FPGACTL_OP_NOP:
		if (!unused_zero(r, 0))
			return -EINVAL;
		eng_cpl(e, t, r, 0, 0);
		return 0;
	case FPGACTL_OP_LISTEN:
		if (!unused_zero(r, U_FLAGS | U_PORT | U_ADDR) || !r->port ||
		    (r->flags & ~FPGACTL_LSN_FLAGS) ||
		    (r->flags & FPGACTL_LSN_SHARED && r->flags & FPGACTL_LSN_REUSEPORT))
			return -EINVAL;
		listen_op(e, t, pod, r);
		return 0;
	case FPGACTL_OP_UNLISTEN:
		if (!unused_zero(r, U_PORT) || !r->port)
			return -EINVAL;
		unlisten_op(e, t, pod, r);
		return 0;
	case FPGACTL_OP_CONNECT:
		if (!unused_zero(r, U_PORT | U_LPORT | U_ADDR | U_SRC) || !r->port)
			return -EINVAL;
		connect_op(e, t, pod, r);
		return 0;
	case FPGACTL_OP_CLOSE:
		if (!unused_zero(r, U_FLAGS | U_VAL | U_AUX) || r->flags > 1 ||
		    r->aux >= FPGACTL_MAX_SLOTS)
			return -EINVAL;
		close_op(e, t, r);
		return 0;
	default:
		return -EOPNOTSUPP;
	}
}

/* ---- admin ops (queue 0 only) ---- */

static int table_op(struct eng *e, const struct fpgactl_req *r, unsigned *why)
{
	const struct eng_geom *g = &e->g;
	uint8_t k[18];

	*why = FPGACTL_R_BAD_FIELD;
	switch (r->op) {
	case FPGACTL_OP_POD_SET: {
		struct eng_pod *p;

		if (!unused_zero(r, U_FLAGS | U_POD | U_ADDR) || r->flags > FPGACTL_TBL_DEL ||
		    r->pod >= g->n_pods)
			return -EINVAL;
		if (r->flags & FPGACTL_TBL_DEL) {
			p = eng_tbl_find(&e->pods, r->addr);
			if (!p)
				return *why = FPGACTL_R_NO_ENTRY, -ENOENT;
			memset(p, 0, sizeof(*p));
			return 0;
		}
		p = eng_tbl_slot(&e->pods, r->addr);
		if (!p)
			return *why = FPGACTL_R_TABLE_FULL, -ENOSPC;
		p->valid = 1;
		memcpy(p->key, r->addr, 16);
		p->pod = r->pod;
		return 0;
	}
	case FPGACTL_OP_POD_FLAGS:
		if (!unused_zero(r, U_POD | U_VAL2) || r->pod >= g->n_pods ||
		    (r->val2 & ~FPGACTL_POD_FLAGS))
			return -EINVAL;
		e->pod_flags[r->pod] = (uint8_t)r->val2;
		return 0;
	case FPGACTL_OP_PAIR_SET:
	case FPGACTL_OP_SLOT_FREE: {
		bool set = r->op == FPGACTL_OP_PAIR_SET;
		struct eng_pair *p;

		if (set ? (!unused_zero(r, U_FLAGS | U_QID | U_AUX | U_VAL | U_VAL2) ||
			   r->flags > FPGACTL_TBL_DEL)
			: (!unused_zero(r, U_QID | U_AUX | U_VAL | U_LPORT) ||
			   r->lport >= FPGACTL_MAX_SLOTS))
			return -EINVAL;
		if (r->qid >= g->nq || r->aux >= g->nq)
			return -EINVAL;
		put16(k, r->qid);
		put16(k + 2, r->aux);
		if (!set || (r->flags & FPGACTL_TBL_DEL)) {
			p = eng_tbl_find(&e->pairs, k);
			if (!p || (!set && p->region != r->val))
				return *why = FPGACTL_R_NO_ENTRY, -ENOENT;
			if (set)
				memset(p, 0, sizeof(*p));
			else
				p->free |= 1u << r->lport;
			return 0;
		}
		p = eng_tbl_slot(&e->pairs, k);
		if (!p)
			return *why = FPGACTL_R_TABLE_FULL, -ENOSPC;
		p->valid = 1;
		memcpy(p->key, k, 4);
		p->region = r->val;
		p->free = r->val2;
		return 0;
	}
	case FPGACTL_OP_SVC_SET: {
		struct eng_svc *s;

		if (!unused_zero(r, U_FLAGS | U_PORT | U_AUX | U_VAL | U_ADDR) || !r->port ||
		    (r->flags & ~(FPGACTL_TBL_DEL | FPGACTL_SVC_AFFINITY)) ||
		    r->val > FPGACTL_SVC_MAX_EPS || r->aux >= g->n_eps || r->aux + r->val > g->n_eps)
			return -EINVAL;
		memcpy(k, r->addr, 16);
		put16(k + 16, r->port);
		if (r->flags & FPGACTL_TBL_DEL) {
			s = eng_tbl_find(&e->svcs, k);
			if (!s)
				return *why = FPGACTL_R_NO_ENTRY, -ENOENT;
			memset(s, 0, sizeof(*s));
			return 0;
		}
		s = eng_tbl_slot(&e->svcs, k);
		if (!s)
			return *why = FPGACTL_R_TABLE_FULL, -ENOSPC;
		s->valid = 1;
		memcpy(s->key, k, 18);
		s->flags = r->flags & FPGACTL_SVC_AFFINITY;
		s->n = (uint8_t)r->val;
		s->rr = 0;
		s->base = r->aux;
		return 0;
	}
	case FPGACTL_OP_EP_SET:
		if (!unused_zero(r, U_FLAGS | U_PORT | U_AUX | U_ADDR) ||
		    (r->flags & ~FPGACTL_EP_LOCAL) || r->aux >= g->n_eps)
			return -EINVAL;
		memcpy(e->eps[r->aux].addr, r->addr, 16);
		e->eps[r->aux].port = r->port;
		e->eps[r->aux].flags = r->flags;
		return 0;
	case FPGACTL_OP_POL_SET: {
		struct eng_pol *p;

		if (!unused_zero(r, U_FLAGS | U_POD | U_AUX | U_PORT | U_VAL2) ||
		    r->flags > FPGACTL_TBL_DEL || r->pod >= g->n_pods || r->aux >= g->n_pods ||
		    r->val2 > FPGACTL_POL_ALLOW)
			return -EINVAL;
		put16(k, r->pod);
		put16(k + 2, r->aux);
		put16(k + 4, r->port);
		if (r->flags & FPGACTL_TBL_DEL) {
			p = eng_tbl_find(&e->pols, k);
			if (!p)
				return *why = FPGACTL_R_NO_ENTRY, -ENOENT;
			memset(p, 0, sizeof(*p));
			return 0;
		}
		p = eng_tbl_slot(&e->pols, k);
		if (!p)
			return *why = FPGACTL_R_TABLE_FULL, -ENOSPC;
		p->valid = 1;
		memcpy(p->key, k, 6);
		p->verdict = (uint8_t)r->val2;
		return 0;
	}
	case FPGACTL_OP_POST: {
		struct fpgactl_evt ev = {
			.type = FPGACTL_EVT_CPL, .op = (uint8_t)r->lport, .tag = r->tag,
			.status = (int32_t)r->val, .reason = r->aux,
		};

		if (!unused_zero(r, U_QID | U_VAL | U_AUX | U_LPORT) || r->lport > 0xff ||
		    r->aux > FPGACTL_R_MAX || (int32_t)r->val > 0 || (int32_t)r->val < -4095 ||
		    (r->val == 0) != (r->aux == 0))
			return -EINVAL;
		if (r->qid >= g->nq || !(e->q[r->qid].state & FPGACTL_QS_ENABLED))
			return *why = FPGACTL_R_BAD_QUEUE, -EINVAL;
		if (eng_eq_room(e, r->qid, 2) < 2)
			return *why = FPGACTL_R_BUSY, -EAGAIN;
		eng_emit(e, r->qid, &ev);
		return 0;
	}
	default:
		return *why = FPGACTL_R_BAD_OP, -EOPNOTSUPP;
	}
}

int eng_serve(struct eng *e, unsigned q, const struct fpgactl_req *r)
{
	unsigned t = q, pod = e->q[q].pod, why = 0;
	struct fpgactl_req pr;
	int rc;

	if (eng_eq_room(e, q, 1) < 1)
		return ENG_PARK;
	if (r->op >= 0x40) {
		if (q != 0) {
			eng_cpl(e, q, r, -EPERM, FPGACTL_R_NOT_ADMIN);
			return 0;
		}
		rc = table_op(e, r, &why);
		eng_cpl(e, q, r, rc, rc ? why : 0);
		return 0;
	}
	pr = *r;
	if (r->flags & FPGACTL_REQ_F_AS) {
		if (q != 0) {
			eng_cpl(e, q, r, -EPERM, FPGACTL_R_NOT_ADMIN);
			return 0;
		}
		if (r->qid >= e->g.nq || !(e->q[r->qid].state & FPGACTL_QS_ENABLED)) {
			eng_cpl(e, q, r, -EINVAL, FPGACTL_R_BAD_QUEUE);
			return 0;
		}
		t = r->qid;
		pod = e->q[t].pod;
		if (t != q && eng_eq_room(e, t, 1) < 1) {
			eng_cpl(e, q, r, -EAGAIN, FPGACTL_R_BUSY);
			return 0;
		}
		pr.flags &= (uint8_t)~FPGACTL_REQ_F_AS;
		pr.qid = 0;
	}
	rc = process_op(e, t, pod, &pr);
	if (rc)
		eng_cpl(e, t, r, rc, rc == -EOPNOTSUPP ? FPGACTL_R_BAD_OP : FPGACTL_R_BAD_FIELD);
	return 0;
}
