/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The engine in the monitor's request path. Each process gets an engine
 * queue (its rings in one memfd of the monitor's) at its first LISTEN or
 * CONNECT, submitted for it through the admin queue (REQ_F_AS).
 *   CONNECT to a pod's address: the engine decides (listener, reached at
 *     that address, netfilter flags, admission); its MISS names the
 *     listener's queue, whose process the monitor then connects (regions
 *     stay the monitor's). Loopback and Services are resolved by the
 *     monitor (the engine has no loopback, and picks a Service's
 *     endpoints in turn where the monitor picks at random).
 *   LISTEN, UNLISTEN: served by the monitor and by the engine, the two
 *     verdicts compared and counted (a disagreement logged): the engine's
 *     listeners are what its CONNECT decisions read.
 */
#include "mon_private.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <syslog.h>
#include <unistd.h>

#include "fpgactl.h"
#include "hl_codec.h"
#include "svcmap.h"

#define QB 2048u            /* bytes per process queue pair */
#define RQ_LOG2 1u          /* the monitor submits for it: 2 entries */
#define EQ_LOG2 3u          /* 8 events (each request's is read at once) */
#define EQ_OFF 512u

struct mon_cpq {
	int memfd;
	uint8_t *mem;
	size_t bytes;
	uint64_t iova;
	uint8_t *used;      /* queues in use (0: the admin queue) */
	struct mon_client **owner;  /* each queue's process */
};

/* An address as the engine keys it. */
static void eaddr(uint8_t out[16], const struct hl_proto_addr *a)
{
	uint32_t be;

	memset(out, 0, 16);
	if (a->family == 4) {
		memcpy(&be, a->addr, 4);
		fpgactl_addr_v4(out, be);
	} else if (a->family == 6) {
		memcpy(out, a->addr, 16);
	}
}

static int queues_init(struct mon_cp *cp, struct mon_cpq *qs, unsigned nq)
{
	qs->bytes = ((size_t)nq * QB + 4095) & ~(size_t)4095;
	qs->memfd = memfd_create("hostlane-process-queues", MFD_CLOEXEC);
	if (qs->memfd < 0 || ftruncate(qs->memfd, (off_t)qs->bytes))
		return -errno;
	qs->mem = mmap(NULL, qs->bytes, PROT_READ | PROT_WRITE, MAP_SHARED, qs->memfd, 0);
	if (qs->mem == MAP_FAILED) {
		qs->mem = NULL;
		return -errno;
	}
	qs->used = calloc(nq, 1);
	qs->owner = calloc(nq, sizeof(*qs->owner));
	if (!qs->used || !qs->owner)
		return -ENOMEM;
	qs->used[0] = 1;
	return fpgactl_mem_map(mon_cp_engine(cp), qs->memfd, qs->mem, qs->bytes, &qs->iova);
}

void mon_cpq_free(struct mon_cpq *qs)
{
	if (!qs)
		return;
	if (qs->mem)
		munmap(qs->mem, qs->bytes);
	if (qs->memfd >= 0)
		close(qs->memfd);
	free(qs->used);
	free(qs->owner);
	free(qs);
}

/* @c's engine queue, set up at its first use: 0 when it has none (no
 * engine that serves queues, no pod id yet, none free). */
static unsigned client_queue(struct hl_monitor *n, struct mon_client *c)
{
	struct mon_cp *cp = n->cp;
	struct mon_cpq **pqs = mon_cp_queues(cp), *qs;
	const struct fpgactl_caps *caps = mon_cp_caps(cp);
	unsigned q;

	if (c->cp_q || !caps->serves || !c->ep->cp_id)
		return c->cp_q;
	if (!*pqs) {
		qs = calloc(1, sizeof(*qs));
		if (!qs)
			return 0;
		qs->memfd = -1;
		if (queues_init(cp, qs, caps->nq)) {
			mon_cpq_free(qs);
			return 0;
		}
		*pqs = qs;
	}
	qs = *pqs;
	for (q = 1; q < caps->nq && qs->used[q]; q++)
		;
	if (q >= caps->nq)
		return 0;
	fpgactl_ring_init(qs->mem + (size_t)q * QB, RQ_LOG2);
	fpgactl_ring_init(qs->mem + (size_t)q * QB + EQ_OFF, EQ_LOG2);
	if (fpgactl_queue_enable(mon_cp_engine(cp), q, &(struct fpgactl_queue_cfg){
			.rq_iova = qs->iova + (uint64_t)q * QB, .eq_iova = qs->iova + (uint64_t)q * QB + EQ_OFF,
			.rq_log2 = RQ_LOG2, .eq_log2 = EQ_LOG2, .pod = c->ep->cp_id }))
		return 0;
	qs->used[q] = 1;
	qs->owner[q] = c;
	c->cp_q = (uint16_t)q;
	return q;
}

/* What the engine made of one request: a completion (status, reason), or
 * a miss to software (the listener's queue in @aux). */
struct outcome {
	bool miss;
	int status;
	unsigned reason, aux;
};

/* Submits @r for queue @q through the admin queue and reads its outcome.
 * Return: 0, or -EIO (no outcome). */
static int submit(struct hl_monitor *n, unsigned q, struct fpgactl_req *r, struct outcome *o)
{
	struct mon_cp *cp = n->cp;
	struct mon_cpq *qs = *mon_cp_queues(cp);
	void *eq = qs->mem + (size_t)q * QB + EQ_OFF;
	struct fpgactl_evt ev;

	r->flags |= FPGACTL_REQ_F_AS;
	r->qid = (uint16_t)q;
	r->tag = mon_cp_tag(cp);
	if (mon_cp_admin(cp, r))
		return -EIO;
	while (fpgactl_eq_pop(eq, EQ_LOG2, &ev, 1) == 1)
		if (ev.type == FPGACTL_EVT_CPL && ev.tag == r->tag) {
			*o = (struct outcome){ .status = ev.status, .reason = ev.reason };
			return 0;
		}
	if (mon_cp_admin_event(cp, r->tag, &ev))
		return -EIO;
	*o = (struct outcome){ .miss = ev.type == FPGACTL_EVT_MISS, .status = ev.status,
			       .reason = ev.reason, .aux = ev.aux };
	return ev.type == FPGACTL_EVT_MISS || ev.type == FPGACTL_EVT_CPL ? 0 : -EIO;
}

static void verdict(struct hl_monitor *n, struct mon_client *c, bool agree, const char *what,
		    int mon_status, const struct outcome *o)
{
	struct hl_mon_cp_stats *st = mon_cp_stats(n->cp);

	st->checked++;
	if (agree)
		return;
	st->disagreed++;
	mon_log(n, LOG_WARNING, "engine check: %s of %s: monitor %d, engine %s %d (reason %u, queue %u)",
		what, c->ep->key, mon_status, o->miss ? "miss" : "status", o->status, o->reason, o->aux);
}

static void lsn_req(struct fpgactl_req *r, uint8_t op, const struct mon_listener *l, uint16_t port)
{
	memset(r, 0, sizeof(*r));
	r->op = op;
	r->port = port;
	if (op != FPGACTL_OP_LISTEN)
		return;
	if (l->addr.family)
		eaddr(r->addr, &l->addr);  /* 0.0.0.0: ::ffff:0.0.0.0, the v4 wildcard */
	if (l->addr.family == 6 && (l->flags & HL_LISTEN_F_V6ONLY))
		r->flags = FPGACTL_LSN_V6ONLY;
}

void mon_cp_check_listen(struct mon_client *c, const struct hl_proto_msg *req, int mon_status)
{
	struct hl_monitor *n = c->ep->node;
	struct mon_listener *l = mon_listener_find(c->ep, req->u.listen.port), tmp = { 0 };
	struct fpgactl_req r;
	struct outcome o;
	unsigned q = n->cp ? client_queue(n, c) : 0;

	if (!q)
		return;
	if (mon_status || !l || l->c != c) {
		/* refused by the monitor: the engine must refuse it too (it
		 * checks the same table of ports) */
		tmp.addr = req->u.listen.addr;
		tmp.flags = req->u.listen.flags;
		l = &tmp;
	}
	lsn_req(&r, FPGACTL_OP_LISTEN, l, req->u.listen.port);
	if (submit(n, q, &r, &o)) {
		o = (struct outcome){ .status = -EIO };
		verdict(n, c, false, "LISTEN", mon_status, &o);
		return;
	}
	verdict(n, c, (mon_status == 0) == (o.status == 0), "LISTEN", mon_status, &o);
	if (mon_status && !o.status) {  /* the engine's extra listener goes */
		lsn_req(&r, FPGACTL_OP_UNLISTEN, NULL, req->u.listen.port);
		submit(n, q, &r, &o);
	}
}

void mon_cp_check_unlisten(struct mon_client *c, uint16_t port, int mon_status)
{
	struct hl_monitor *n = c->ep->node;
	struct fpgactl_req r;
	struct outcome o;

	if (!n->cp || !c->cp_q)
		return;
	lsn_req(&r, FPGACTL_OP_UNLISTEN, NULL, port);
	if (submit(n, c->cp_q, &r, &o))
		o = (struct outcome){ .status = -EIO };
	if (mon_status >= 0)  /* < 0 only from the client going: not compared */
		verdict(n, c, (mon_status == 0) == (o.status == 0), "UNLISTEN", mon_status, &o);
}

/* The engine's flags of pod @ep are what its netfilter hooks say now
 * (they are read at once here, as the monitor's own check did; the tick
 * writes them too, but a second late). */
static void flags_fresh(struct hl_monitor *n, struct hl_mon_pod *ep)
{
	struct fpgactl_req w, got;

	fpgactl_tw_pod_flags(&w, 0, ep->cp_id, mon_cp_pod_flags(n, ep));
	if (fpgactl_tw_read(mon_cp_engine(n->cp), &w, &got) || got.val2 != w.val2)
		mon_cp_sync(n, false);
}

int mon_cp_connect(struct mon_client *c, const struct mon_target *t, uint16_t lport,
		   struct mon_client **lc, struct hl_proto_msg *rep)
{
	struct hl_monitor *n = c->ep->node;
	struct hl_proto_addr src;
	struct fpgactl_req r;
	struct outcome o;
	char ip[64] = "?";
	unsigned q = n->cp ? client_queue(n, c) : 0;
	struct mon_cpq *qs;

	if (!q || !t->pod || !t->pod->cp_id)
		return 1;
	flags_fresh(n, c->ep);
	if (t->pod != c->ep)
		flags_fresh(n, t->pod);
	src = mon_peer_addr(c->ep, &t->addr);
	memset(&r, 0, sizeof(r));
	r.op = FPGACTL_OP_CONNECT;
	r.port = t->port;
	r.lport = lport;
	eaddr(r.addr, &t->addr);
	eaddr(r.src, &src);
	if (submit(n, q, &r, &o))
		return 1;  /* no answer: the monitor's own checks */
	mon_cp_stats(n->cp)->decided++;
	hl_proto_addr_format(&t->addr, ip, sizeof(ip));
	qs = *mon_cp_queues(n->cp);
	if (o.miss && o.aux < mon_cp_caps(n->cp)->nq && qs->owner[o.aux]) {
		if (n->pol_enforce)
			n->pol_admitted++;
		*lc = qs->owner[o.aux];
		return 0;
	}
	switch (o.reason) {
	case FPGACTL_R_NO_LISTENER: {
		/* a listener whose process got no engine queue is the
		 * monitor's alone */
		const struct mon_listener *l = mon_listener_find(t->pod, t->port);

		if (l && !l->c->cp_q) {
			mon_cp_stats(n->cp)->decided--;
			return 1;
		}
		mon_set_error(rep, -ECONNREFUSED, "nothing listens on %s:%u over hostlane", ip, t->port);
		break;
	}
	case FPGACTL_R_POLICY:
		n->pol_denied++;
		mon_set_error(rep, -EACCES, "%s -> %s:%u: %s: the kernel carries this connection", c->ep->key,
			      ip, t->port, n->pol ? "denied by NetworkPolicy" : "NetworkPolicies not synced yet");
		break;
	case FPGACTL_R_NETFILTER:
		mon_set_error(rep, -EHOSTUNREACH, "netfilter rules: the kernel carries this connection");
		break;
	default:
		/* what the engine cannot tell (its queues full, a source
		 * address of another family than the destination's, a table
		 * a moment behind): the monitor's own checks */
		mon_cp_stats(n->cp)->decided--;
		return 1;
	}
	return -1;
}

void mon_cp_client_gone(struct mon_client *c)
{
	struct hl_monitor *n = c->ep->node;
	struct mon_cpq *qs;

	if (!n->cp || !c->cp_q)
		return;
	for (struct mon_listener *l = c->ep->listeners; l; l = l->next)
		if (l->c == c)
			mon_cp_check_unlisten(c, l->port, -1);
	qs = *mon_cp_queues(n->cp);
	fpgactl_queue_disable(mon_cp_engine(n->cp), c->cp_q);
	qs->used[c->cp_q] = 0;
	qs->owner[c->cp_q] = NULL;
	c->cp_q = 0;
}
