/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The software backend: the reference engine (engine.h) in the calling
 * process, over the memory mapped with fpgactl_mem_map() (an IOVA is
 * translated as the device's IOMMU would; a fault reads all ones and drops
 * writes). It serves when the caller calls fpgactl_service(); an armed
 * queue's interrupt writes its eventfd.
 */
#include "fctl_private.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct sw {
	struct eng e;
	int *efd;
};

static int mem_read(void *arg, uint64_t iova, void *line)
{
	const void *p = fctl_iova_ptr(arg, iova, 64);

	if (!p) {
		memset(line, 0xff, 64);
		return -EFAULT;
	}
	memcpy(line, p, 64);
	return 0;
}

static int mem_write(void *arg, uint64_t iova, const void *line)
{
	void *p = fctl_iova_ptr(arg, iova, 64);

	if (!p)
		return -EFAULT;
	/* A whole line; the EQ producer line is the one the consumer's
	 * acquire load pairs with: written after the entries it covers. */
	__atomic_thread_fence(__ATOMIC_RELEASE);
	memcpy(p, line, 64);
	return 0;
}

static void irq(void *arg, unsigned q)
{
	struct sw *s = arg;
	uint64_t one = 1;

	if (s->efd[q] >= 0 && write(s->efd[q], &one, sizeof(one)) < 0) {
		/* the counter is non-zero already: the interrupt is pending */
	}
}

static const struct fpgactl_caps dflt = {
	.nq = 1024, .n_pods = 4096, .n_eps = 4096,
	.pod_log2 = 11, .lsn_log2 = 12, .pair_log2 = 14, .svc_log2 = 10, .pol_log2 = 14,
};

int fctl_sw_open(struct fpgactl *f, const struct fpgactl_opts *o)
{
	const struct fpgactl_caps *c = o->geom.nq ? &o->geom : &dflt;
	struct eng_geom g = {
		.nq = c->nq, .n_pods = c->n_pods, .n_eps = c->n_eps, .pod_log2 = c->pod_log2,
		.lsn_log2 = c->lsn_log2, .pair_log2 = c->pair_log2, .svc_log2 = c->svc_log2,
		.pol_log2 = c->pol_log2,
	};
	struct eng_mem m = { .read = mem_read, .write = mem_write, .arg = f };
	uint32_t seed[FPGACTL_SEED_WORDS];
	struct sw *s;
	int rc;

	if ((c->n_pods & (c->n_pods - 1)) || (c->n_eps & (c->n_eps - 1)))
		return -EINVAL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	rc = eng_init(&s->e, &g, &m);
	if (rc) {
		free(s);
		return rc;
	}
	s->efd = malloc(g.nq * sizeof(*s->efd));
	if (!s->efd) {
		eng_fini(&s->e);
		free(s);
		return -ENOMEM;
	}
	for (unsigned i = 0; i < g.nq; i++)
		s->efd[i] = -1;
	fctl_seed(seed, o->seed);
	eng_hash_seed(&s->e, seed);
	s->e.irq = irq;
	s->e.irq_arg = s;
	f->caps = *c;
	f->caps.version = FPGACTL_ABI_MAJOR << 16 | FPGACTL_ABI_MINOR;
	f->caps.serves = true;
	f->be = s;
	f->ops = &fctl_sw_ops;
	return 0;
}

static void sw_close(struct fpgactl *f)
{
	struct sw *s = f->be;

	eng_fini(&s->e);
	free(s->efd);
	free(s);
}

static int sw_mem(struct fpgactl *f, const struct fctl_map_ent *m)
{
	(void)f;
	(void)m;
	return 0;
}

static int sw_enable(struct fpgactl *f, unsigned q, const struct fpgactl_queue_cfg *c)
{
	struct sw *s = f->be;

	eng_queue_enable(&s->e, q, c->rq_iova, c->eq_iova, c->rq_log2, c->eq_log2, c->pod);
	return 0;
}

static int sw_disable(struct fpgactl *f, unsigned q)
{
	eng_queue_disable(&((struct sw *)f->be)->e, q);
	return 0;
}

static int sw_read(struct fpgactl *f, unsigned q, struct fpgactl_qstate *st)
{
	const struct eng_queue *e = &((struct sw *)f->be)->e.q[q];

	*st = (struct fpgactl_qstate){ .head = e->head, .tail = e->tail, .prod = e->prod,
				       .state = e->state };
	return 0;
}

static int sw_doorbell(struct fpgactl *f, unsigned q, uint32_t tail)
{
	eng_doorbell(&((struct sw *)f->be)->e, q, tail);
	return q < f->caps.nq ? 0 : -EINVAL;
}

static int sw_arm(struct fpgactl *f, unsigned q)
{
	((struct sw *)f->be)->e.armed[q] = 1;
	return 0;
}

static int sw_irq_set(struct fpgactl *f, unsigned q, int efd)
{
	((struct sw *)f->be)->efd[q] = efd;
	return 0;
}

static int sw_run(struct fpgactl *f, bool run)
{
	((struct sw *)f->be)->e.run = run;
	return 0;
}

static int sw_service(struct fpgactl *f, unsigned max_turns)
{
	struct sw *s = f->be;
	int total = 0;

	for (unsigned i = 0; i < max_turns; i++) {
		int n = eng_turn(&s->e);

		if (n < 0)
			break;
		total += n;
	}
	return total;
}

static int sw_wait_idle(struct fpgactl *f, int timeout_ms)
{
	struct sw *s = f->be;

	(void)timeout_ms;
	while (s->e.run && eng_turn(&s->e) >= 0)
		;
	return !s->e.run && !eng_idle(&s->e) ? -ETIMEDOUT : 0;
}

static int sw_reset(struct fpgactl *f)
{
	eng_reset(&((struct sw *)f->be)->e);
	return 0;
}

static int sw_counters(struct fpgactl *f, uint64_t *cnt)
{
	memcpy(cnt, ((struct sw *)f->be)->e.cnt, sizeof(uint64_t) * FPGACTL_CNT_N);
	return 0;
}

static void key16(uint8_t *k, uint16_t a, uint16_t b, uint16_t c)
{
	const uint16_t v[3] = { a, b, c };

	for (unsigned i = 0; i < 3; i++) {
		k[2 * i] = (uint8_t)v[i];
		k[2 * i + 1] = (uint8_t)(v[i] >> 8);
	}
}

/* The engine's tables as table writes (the keys as engine.c makes them). */
static int sw_tw_read(struct fpgactl *f, const struct fpgactl_req *w, struct fpgactl_req *out)
{
	const struct eng *e = &((struct sw *)f->be)->e;
	uint8_t k[18];

	switch (w->op) {
	case FPGACTL_OP_POD_SET: {
		const struct eng_pod *p = eng_tbl_find(&e->pods, w->addr);

		if (!p)
			return -ENOENT;
		fpgactl_tw_pod(out, w->tag, w->addr, p->pod, false);
		return 0;
	}
	case FPGACTL_OP_POD_FLAGS:
		if (w->pod >= e->g.n_pods)
			return -EINVAL;
		fpgactl_tw_pod_flags(out, w->tag, w->pod, e->pod_flags[w->pod]);
		return 0;
	case FPGACTL_OP_PAIR_SET: {
		const struct eng_pair *p;

		key16(k, w->qid, w->aux, 0);
		p = eng_tbl_find(&e->pairs, k);
		if (!p)
			return -ENOENT;
		fpgactl_tw_pair(out, w->tag, w->qid, w->aux, p->region, p->free, false);
		return 0;
	}
	case FPGACTL_OP_SVC_SET: {
		const struct eng_svc *s;

		memcpy(k, w->addr, 16);
		k[16] = (uint8_t)w->port;
		k[17] = (uint8_t)(w->port >> 8);
		s = eng_tbl_find(&e->svcs, k);
		if (!s)
			return -ENOENT;
		fpgactl_tw_svc(out, w->tag, w->addr, w->port, s->base, s->n,
			       (s->flags & FPGACTL_SVC_AFFINITY) != 0, false);
		return 0;
	}
	case FPGACTL_OP_EP_SET: {
		const struct eng_ep *ep;

		if (w->aux >= e->g.n_eps)
			return -EINVAL;
		ep = &e->eps[w->aux];
		fpgactl_tw_ep(out, w->tag, w->aux, ep->addr, ep->port, (ep->flags & FPGACTL_EP_LOCAL) != 0);
		return 0;
	}
	case FPGACTL_OP_POL_SET: {
		const struct eng_pol *p;

		key16(k, w->pod, w->aux, w->port);
		p = eng_tbl_find(&e->pols, k);
		if (!p)
			return -ENOENT;
		fpgactl_tw_pol(out, w->tag, w->pod, w->aux, w->port, p->verdict, false);
		return 0;
	}
	default:
		return -EINVAL;
	}
}

static int sw_tw_window(struct fpgactl *f, const struct fpgactl_req *w)
{
	(void)f;
	(void)w;
	return -EOPNOTSUPP;  /* the admin queue is served */
}

const struct fctl_ops fctl_sw_ops = {
	.name = "software",
	.close = sw_close,
	.mem_map = sw_mem,
	.mem_unmap = sw_mem,
	.queue_enable = sw_enable,
	.queue_disable = sw_disable,
	.queue_read = sw_read,
	.doorbell = sw_doorbell,
	.arm = sw_arm,
	.irq_set = sw_irq_set,
	.run = sw_run,
	.service = sw_service,
	.wait_idle = sw_wait_idle,
	.reset = sw_reset,
	.counters = sw_counters,
	.tw_read = sw_tw_read,
	.tw_window = sw_tw_window,
};
