/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Queues and turns. A doorbell records an RQ's new tail and puts the queue
 * at the back of the run FIFO (once). A turn takes the queue at the front
 * and serves up to FPGACTL_BUDGET of its requests, then writes the RQ's
 * consumer index and the EQ producer indices it moved, once each (event
 * coalescing), and puts the queue back if work is left: one doorbell
 * covers any number of entries, and a queue with a flood of requests gets
 * its turn like the others. A queue whose EQ is full is parked: served
 * again at its next doorbell. Queue state is what the RTL keeps in its
 * queue RAM; every memory access is a 64-byte line through eng_mem, as the
 * device's DMA port.
 */
#include "engine.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define ENT(base, idx, log) (((base) & ~(uint64_t)0xff) + FPGACTL_RING_HDR + \
			     (uint64_t)((idx) & ((1u << (log)) - 1)) * FPGACTL_ENTRY)
#define PROD_LINE(base) (((base) & ~(uint64_t)0xff) + 64)
#define CONS_LINE(base) (((base) & ~(uint64_t)0xff) + 128)

int eng_init(struct eng *e, const struct eng_geom *g, const struct eng_mem *m)
{
	static const uint32_t zero[FPGACTL_SEED_WORDS];
	int rc;

	memset(e, 0, sizeof(*e));
	if (!g->nq || g->nq > FPGACTL_MAX_QUEUES || !g->n_pods || g->n_pods > FPGACTL_MAX_PODS ||
	    !g->n_eps || g->n_eps > 65536)
		return -EINVAL;
	e->g = *g;
	e->mem = *m;
	eng_hash_seed(e, zero);
	rc = eng_tbl_init(&e->pods, g->pod_log2, sizeof(struct eng_pod), 16, e);
	if (!rc)
		rc = eng_tbl_init(&e->lsns, g->lsn_log2, sizeof(struct eng_lsn), 4, e);
	if (!rc)
		rc = eng_tbl_init(&e->pairs, g->pair_log2, sizeof(struct eng_pair), 4, e);
	if (!rc)
		rc = eng_tbl_init(&e->svcs, g->svc_log2, sizeof(struct eng_svc), 18, e);
	if (!rc)
		rc = eng_tbl_init(&e->pols, g->pol_log2, sizeof(struct eng_pol), 6, e);
	e->pod_flags = calloc(g->n_pods, 1);
	e->eps = calloc(g->n_eps, sizeof(*e->eps));
	e->q = calloc(g->nq, sizeof(*e->q));
	e->fifo = calloc(g->nq, sizeof(*e->fifo));
	e->armed = calloc(g->nq, 1);
	if (!rc && (!e->pod_flags || !e->eps || !e->q || !e->fifo || !e->armed))
		rc = -ENOMEM;
	if (rc)
		eng_fini(e);
	e->other = -1;
	return rc;
}

void eng_fini(struct eng *e)
{
	eng_tbl_free(&e->pods);
	eng_tbl_free(&e->lsns);
	eng_tbl_free(&e->pairs);
	eng_tbl_free(&e->svcs);
	eng_tbl_free(&e->pols);
	free(e->pod_flags);
	free(e->eps);
	free(e->q);
	free(e->fifo);
	free(e->armed);
	e->pod_flags = NULL;
	e->eps = NULL;
	e->q = NULL;
	e->fifo = NULL;
	e->armed = NULL;
}

void eng_reset(struct eng *e)
{
	eng_tbl_clear(&e->pods);
	eng_tbl_clear(&e->lsns);
	eng_tbl_clear(&e->pairs);
	eng_tbl_clear(&e->svcs);
	eng_tbl_clear(&e->pols);
	memset(e->pod_flags, 0, e->g.n_pods);
	memset(e->eps, 0, e->g.n_eps * sizeof(*e->eps));
	memset(e->q, 0, e->g.nq * sizeof(*e->q));
	memset(e->armed, 0, e->g.nq);
	memset(e->cnt, 0, sizeof(e->cnt));
	e->fifo_head = e->fifo_tail = 0;
	e->db_drop = false;
}

void eng_queue_enable(struct eng *e, unsigned q, uint64_t rq, uint64_t eq, unsigned rq_log,
		      unsigned eq_log, unsigned pod)
{
	struct eng_queue *s;

	if (q >= e->g.nq)
		return;
	s = &e->q[q];
	s->rq = rq & ~(uint64_t)0xff;
	s->eq = eq & ~(uint64_t)0xff;
	s->rq_log = (uint8_t)(rq_log & 15);
	s->eq_log = (uint8_t)(eq_log & 15);
	s->pod = (uint16_t)(pod & (FPGACTL_MAX_PODS - 1));
	s->head = s->tail = s->prod = s->cons = 0;
	s->state = FPGACTL_QS_ENABLED | (q == 0 ? FPGACTL_QS_ADMIN : 0);
	e->armed[q] = 0;
}

void eng_queue_disable(struct eng *e, unsigned q)
{
	if (q < e->g.nq)
		e->q[q].state = 0;
}

static void push(struct eng *e, unsigned q)
{
	e->fifo[e->fifo_tail++ % e->g.nq] = (uint16_t)q;
	e->q[q].sched = true;
}

void eng_doorbell(struct eng *e, unsigned q, uint32_t tail)
{
	if (q >= e->g.nq) {
		e->db_drop = true;
		e->cnt[FPGACTL_CNT_DROPS]++;
		return;
	}
	e->q[q].tail = tail;
	if (!e->q[q].sched)
		push(e, q);
}

bool eng_idle(const struct eng *e)
{
	return e->fifo_head == e->fifo_tail;
}

static void line_write(struct eng *e, uint64_t iova, const void *line)
{
	e->cnt[FPGACTL_CNT_DMA_WR]++;
	e->mem.write(e->mem.arg, iova, line);
}

static int line_read(struct eng *e, uint64_t iova, void *line)
{
	e->cnt[FPGACTL_CNT_DMA_RD]++;
	return e->mem.read(e->mem.arg, iova, line);
}

/* An index line: the index in its first 4 bytes, the rest zero. */
static void index_write(struct eng *e, uint64_t iova, uint32_t v)
{
	uint8_t line[64] = { 0 };

	memcpy(line, &v, sizeof(v));
	line_write(e, iova, line);
}

unsigned eng_eq_room(struct eng *e, unsigned q, unsigned need)
{
	struct eng_queue *s = &e->q[q];
	uint32_t size = 1u << s->eq_log, used = s->prod - s->cons;

	if (used <= size && size - used >= need)
		return size - used;
	{
		uint8_t line[64];

		line_read(e, CONS_LINE(s->eq), line);
		memcpy(&s->cons, line, sizeof(s->cons));
	}
	used = s->prod - s->cons;
	/* A consumer index that lies (ahead of the producer, or further back
	 * than the ring) leaves no room: the liar loses its own events. */
	return used <= size ? size - used : 0;
}

/* Writes @q's EQ producer line, and interrupts if it was armed. */
static void prod_flush(struct eng *e, unsigned q)
{
	index_write(e, PROD_LINE(e->q[q].eq), e->q[q].prod);
	if (e->armed[q]) {
		e->armed[q] = 0;
		if (e->irq)
			e->irq(e->irq_arg, q);
	}
}

void eng_emit(struct eng *e, unsigned q, const struct fpgactl_evt *ev)
{
	struct eng_queue *s = &e->q[q];

	line_write(e, ENT(s->eq, s->prod, s->eq_log), ev);
	s->prod++;
	e->cnt[FPGACTL_CNT_EVENTS]++;
	if (ev->type == FPGACTL_EVT_MISS)
		e->cnt[FPGACTL_CNT_MISSES]++;
	if (ev->status < 0 || ev->type == FPGACTL_EVT_ERROR)
		e->cnt[FPGACTL_CNT_ERRORS]++;
	/* Coalescing: the served queue's producer line once per turn; another
	 * queue's when the next event goes elsewhere, or at the turn's end. */
	if (q == e->own) {
		e->own_dirty = true;
		return;
	}
	if (e->other >= 0 && e->other != (int)q && e->other_dirty)
		prod_flush(e, (unsigned)e->other);
	e->other = (int)q;
	e->other_dirty = true;
}

void eng_cpl(struct eng *e, unsigned q, const struct fpgactl_req *r, int status, unsigned reason)
{
	struct fpgactl_evt ev = {
		.type = FPGACTL_EVT_CPL, .op = r->op, .tag = r->tag,
		.status = status, .reason = (uint16_t)reason,
	};

	eng_emit(e, q, &ev);
}

/* An ERROR event about queue @q to the admin queue (dropped and counted
 * when the admin queue is not there or full). */
static void error_event(struct eng *e, unsigned q, int status, unsigned reason)
{
	struct fpgactl_evt ev = {
		.type = FPGACTL_EVT_ERROR, .status = status, .reason = (uint16_t)reason,
		.queue = (uint16_t)q,
	};

	if (!(e->q[0].state & FPGACTL_QS_ENABLED) || eng_eq_room(e, 0, 2) < 2) {
		e->cnt[FPGACTL_CNT_DROPS]++;
		return;
	}
	eng_emit(e, 0, &ev);
}

int eng_turn(struct eng *e)
{
	unsigned q, n = 0;
	struct eng_queue *s;
	bool parked = false;

	if (!e->run || e->fifo_head == e->fifo_tail)
		return -EAGAIN;
	q = e->fifo[e->fifo_head++ % e->g.nq];
	s = &e->q[q];
	s->sched = false;
	e->own = q;
	e->own_dirty = false;
	e->other = -1;
	e->other_dirty = false;
	if (!(s->state & FPGACTL_QS_ENABLED) || (s->state & FPGACTL_QS_ERROR)) {
		error_event(e, q, -EINVAL, FPGACTL_R_BAD_QUEUE);
		goto flush;
	}
	if (s->tail - s->head > (1u << s->rq_log)) {
		s->state |= FPGACTL_QS_ERROR;
		error_event(e, q, -EINVAL, FPGACTL_R_DOORBELL);
		goto flush;
	}
	while (s->head != s->tail && n < FPGACTL_BUDGET) {
		struct fpgactl_req r;

		if (line_read(e, ENT(s->rq, s->head, s->rq_log), &r)) {
			s->state |= FPGACTL_QS_ERROR;
			error_event(e, q, -EFAULT, FPGACTL_R_DMA);
			break;
		}
		if (eng_serve(e, q, &r) == ENG_PARK) {
			parked = true;
			break;
		}
		s->head++;
		n++;
		e->cnt[FPGACTL_CNT_REQS]++;
	}
	if (n)
		index_write(e, CONS_LINE(s->rq), s->head);
	if (!parked && !(s->state & FPGACTL_QS_ERROR) && s->head != s->tail && !s->sched)
		push(e, q);
flush:
	if (e->own_dirty)
		prod_flush(e, q);
	if (e->other >= 0 && e->other_dirty)
		prod_flush(e, (unsigned)e->other);
	return (int)n;
}
