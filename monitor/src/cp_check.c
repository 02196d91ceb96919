/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The engine decides beside the monitor: every LISTEN, UNLISTEN and
 * CONNECT the monitor serves is also submitted to the engine, as the
 * process's own request (REQ_F_AS from the admin queue for the process's
 * engine queue), and the two verdicts are compared and counted. The
 * monitor's verdict is the one the process gets: this is how the engine's
 * tables and pipeline are held to the monitor's on real traffic before the
 * monitor hands the requests over to it. Each process gets an engine queue
 * (its rings in one memfd of the monitor's) at its first such request.
 * A CONNECT to loopback or to a Service is not compared (the monitor
 * resolves those itself: the engine has no loopback, and picks Service
 * endpoints in turn where the monitor picks at random).
 */
#include "mon_private.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <syslog.h>
#include <unistd.h>

#include "fpgactl.h"
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
	if (!qs->used)
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

static bool loopback(const struct hl_proto_addr *a)
{
	static const uint8_t v6lo[16] = { [15] = 1 };

	return (a->family == 4 && a->addr[0] == 127) || (a->family == 6 && !memcmp(a->addr, v6lo, 16));
}

void mon_cp_check_connect(struct mon_client *c, const struct hl_proto_msg *req,
			  const struct hl_proto_msg *rep)
{
	const struct hl_proto_connect_req *cq = &req->u.connect;
	struct hl_monitor *n = c->ep->node;
	int ms = rep->hdr.status;
	struct hl_proto_addr src;
	struct fpgactl_req r;
	struct outcome o;
	unsigned q;
	bool agree;

	if (!n->cp || ms == -EINVAL)
		return;
	if (loopback(&cq->addr) || (n->svcs && mon_svc_find(n->svcs, &cq->addr, cq->port))) {
		mon_cp_stats(n->cp)->not_compared++;
		return;
	}
	q = client_queue(n, c);
	if (!q)
		return;
	src = mon_peer_addr(c->ep, &cq->addr);
	memset(&r, 0, sizeof(r));
	r.op = FPGACTL_OP_CONNECT;
	r.port = cq->port;
	r.lport = cq->local_port;
	eaddr(r.addr, &cq->addr);
	eaddr(r.src, &src);
	if (submit(n, q, &r, &o)) {
		o = (struct outcome){ .status = -EIO };
		verdict(n, c, false, "CONNECT", ms, &o);
		return;
	}
	if (ms == -ECONNREFUSED) {
		agree = !o.miss && o.reason == FPGACTL_R_NO_LISTENER;
	} else if (ms == -EHOSTUNREACH || ms == -EACCES) {
		/* not a pod here, or a rule (policy, netfilter) sends it to
		 * the kernel: the two check those in another order */
		agree = !o.miss && (o.reason == FPGACTL_R_NO_POD || o.reason == FPGACTL_R_POLICY ||
				    o.reason == FPGACTL_R_NETFILTER);
	} else if (ms == 0) {
		/* admitted, to the listener the monitor chose */
		const struct mon_region *g = mon_region_find(n, rep->u.conn.region_id);

		agree = o.miss && g && g->holder[1] && g->holder[1]->cp_q == o.aux;
	} else {
		/* admitted, then refused for what the engine does not decide
		 * (the listener's events, the pod's quota) */
		agree = o.miss;
	}
	verdict(n, c, agree, "CONNECT", ms, &o);
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
	c->cp_q = 0;
}
