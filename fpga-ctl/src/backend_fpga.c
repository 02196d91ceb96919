/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The device driver: the engine of fpga-ctl/rtl through its BAR0 register
 * map (fpgactl_abi.h), over a mapping layer (vfio for a board, the model's
 * socket for hostlane-fpga-model). The device serves its queues by itself;
 * the driver sets them up, rings doorbells, and reads state and counters.
 */
#include "fctl_private.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct fpga {
	struct fctl_dev d;
};

#define DEV(f) (&((struct fpga *)(f)->be)->d)

static uint32_t rd(struct fpgactl *f, uint32_t off)
{
	return DEV(f)->map->rd(DEV(f), off);
}

static void wr(struct fpgactl *f, uint32_t off, uint32_t val)
{
	DEV(f)->map->wr(DEV(f), off, val);
}

static int64_t now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* Until STATUS has @mask as @want, at most @ms milliseconds. */
static int wait_status(struct fpgactl *f, uint32_t mask, uint32_t want, int ms)
{
	int64_t end = now_ms() + ms;

	do {
		uint32_t st = rd(f, FPGACTL_REG_STATUS);

		if (st == 0xffffffffu)
			return -EIO;  /* the device is gone (a read of all ones) */
		if ((st & mask) == want)
			return 0;
	} while (now_ms() < end);
	return -ETIMEDOUT;
}

static void fpga_close(struct fpgactl *f)
{
	struct fpga *s = f->be;

	if (!s)
		return;
	wr(f, FPGACTL_REG_CTL, 0);
	s->d.map->close(&s->d);
	free(s);
}

int fctl_fpga_open(struct fpgactl *f, const struct fctl_map_ops *m, const char *spec,
		   const uint32_t *seed)
{
	struct fpga *s = calloc(1, sizeof(*s));
	uint32_t sd[FPGACTL_SEED_WORDS], v;
	int rc;

	if (!s)
		return -ENOMEM;
	s->d.map = m;
	s->d.container = s->d.group = s->d.device = s->d.sock = -1;
	rc = m->open(&s->d, spec);
	if (rc) {
		free(s);
		return rc;
	}
	f->be = s;
	f->ops = &fctl_fpga_ops;
	if (rd(f, FPGACTL_REG_ID) != FPGACTL_ID_MAGIC) {
		rc = -ENODEV;
		goto fail;
	}
	v = rd(f, FPGACTL_REG_VERSION);
	if (v >> 16 != FPGACTL_ABI_MAJOR) {
		rc = -EPROTO;
		goto fail;
	}
	f->caps = (struct fpgactl_caps){
		.version = v, .nq = rd(f, FPGACTL_REG_NQ), .n_pods = rd(f, FPGACTL_REG_N_PODS),
		.n_eps = rd(f, FPGACTL_REG_N_EPS), .pod_log2 = rd(f, FPGACTL_REG_POD_LOG2),
		.lsn_log2 = rd(f, FPGACTL_REG_LSN_LOG2), .pair_log2 = rd(f, FPGACTL_REG_PAIR_LOG2),
		.svc_log2 = rd(f, FPGACTL_REG_SVC_LOG2), .pol_log2 = rd(f, FPGACTL_REG_POL_LOG2),
	};
	if (!f->caps.nq || f->caps.nq > FPGACTL_MAX_QUEUES) {
		rc = -ENODEV;
		goto fail;
	}
	/* stopped, cleared, then the secret (written only while stopped) */
	wr(f, FPGACTL_REG_CTL, 0);
	wr(f, FPGACTL_REG_CTL, FPGACTL_CTL_RESET);
	rc = wait_status(f, FPGACTL_ST_CFG_BUSY, 0, 1000);
	if (rc)
		goto fail;
	fctl_seed(sd, seed);
	for (unsigned i = 0; i < FPGACTL_SEED_WORDS; i++)
		wr(f, FPGACTL_REG_SEED + 4 * i, sd[i]);
	return 0;
fail:
	m->close(&s->d);
	free(s);
	f->be = NULL;
	return rc;
}

static int fpga_mem_map(struct fpgactl *f, const struct fctl_map_ent *m)
{
	return DEV(f)->map->dma_map(DEV(f), m);
}

static int fpga_mem_unmap(struct fpgactl *f, const struct fctl_map_ent *m)
{
	return DEV(f)->map->dma_unmap(DEV(f), m);
}

static int fpga_enable(struct fpgactl *f, unsigned q, const struct fpgactl_queue_cfg *c)
{
	wr(f, FPGACTL_REG_QSEL, q);
	wr(f, FPGACTL_REG_Q_RQ_LO, (uint32_t)c->rq_iova);
	wr(f, FPGACTL_REG_Q_RQ_HI, (uint32_t)(c->rq_iova >> 32));
	wr(f, FPGACTL_REG_Q_EQ_LO, (uint32_t)c->eq_iova);
	wr(f, FPGACTL_REG_Q_EQ_HI, (uint32_t)(c->eq_iova >> 32));
	wr(f, FPGACTL_REG_Q_SIZES, c->rq_log2 | c->eq_log2 << 8);
	wr(f, FPGACTL_REG_Q_POD, c->pod);
	wr(f, FPGACTL_REG_Q_FLAGS, q == 0 ? FPGACTL_QF_ADMIN : 0);
	wr(f, FPGACTL_REG_Q_CMD, FPGACTL_QCMD_ENABLE);
	return wait_status(f, FPGACTL_ST_CFG_BUSY, 0, 1000);
}

static int fpga_disable(struct fpgactl *f, unsigned q)
{
	wr(f, FPGACTL_REG_QSEL, q);
	wr(f, FPGACTL_REG_Q_CMD, FPGACTL_QCMD_DISABLE);
	return wait_status(f, FPGACTL_ST_CFG_BUSY, 0, 1000);
}

static int fpga_read(struct fpgactl *f, unsigned q, struct fpgactl_qstate *s)
{
	int rc;

	wr(f, FPGACTL_REG_QSEL, q);
	wr(f, FPGACTL_REG_Q_CMD, FPGACTL_QCMD_READ);
	rc = wait_status(f, FPGACTL_ST_CFG_BUSY, 0, 1000);
	if (rc)
		return rc;
	s->head = rd(f, FPGACTL_REG_Q_RD_HEAD);
	s->tail = rd(f, FPGACTL_REG_Q_RD_TAIL);
	s->prod = rd(f, FPGACTL_REG_Q_RD_PROD);
	s->state = rd(f, FPGACTL_REG_Q_RD_STATE);
	return 0;
}

static int fpga_doorbell(struct fpgactl *f, unsigned q, uint32_t tail)
{
	/* past the engine, the device drops and counts it: written anyway,
	 * the same register a misbehaving user could reach */
	if (q < (FPGACTL_BAR_SIZE - FPGACTL_REG_DB) / 8)
		wr(f, FPGACTL_REG_DB + 8 * q, tail);
	return q < f->caps.nq ? 0 : -EINVAL;
}

static int fpga_arm(struct fpgactl *f, unsigned q)
{
	wr(f, FPGACTL_REG_ARM + 8 * q, 1);
	return 0;
}

static int fpga_irq_set(struct fpgactl *f, unsigned q, int efd)
{
	return DEV(f)->map->irq(DEV(f), q, efd);
}

static int fpga_run(struct fpgactl *f, bool run)
{
	wr(f, FPGACTL_REG_CTL, run ? FPGACTL_CTL_RUN : 0);
	return 0;
}

static int fpga_service(struct fpgactl *f, unsigned max_turns)
{
	(void)f;
	(void)max_turns;
	return 0;  /* the device serves by itself */
}

static int fpga_wait_idle(struct fpgactl *f, int timeout_ms)
{
	return wait_status(f, FPGACTL_ST_IDLE, FPGACTL_ST_IDLE, timeout_ms);
}

static int fpga_reset(struct fpgactl *f)
{
	uint32_t run = rd(f, FPGACTL_REG_CTL) & FPGACTL_CTL_RUN;

	wr(f, FPGACTL_REG_CTL, run | FPGACTL_CTL_RESET);
	return wait_status(f, FPGACTL_ST_CFG_BUSY, 0, 1000);
}

static int fpga_counters(struct fpgactl *f, uint64_t *cnt)
{
	for (unsigned i = 0; i < FPGACTL_CNT_N; i++) {
		uint32_t hi, lo;

		/* hi, lo, hi again: a carry between the two halves re-reads */
		do {
			hi = rd(f, FPGACTL_REG_CNT + 8 * i + 4);
			lo = rd(f, FPGACTL_REG_CNT + 8 * i);
		} while (rd(f, FPGACTL_REG_CNT + 8 * i + 4) != hi);
		cnt[i] = (uint64_t)hi << 32 | lo;
	}
	return 0;
}

/* A table command through the window: TBL_STATUS's result (0 done, 1 not
 * found, 2 bucket full, 3 bad), or -ETIMEDOUT / -EIO. */
static int tbl_cmd(struct fpgactl *f, unsigned tbl, unsigned cmd, const uint8_t *key, unsigned klen,
		   uint32_t val)
{
	uint32_t w[5] = { 0 }, st;
	int64_t end = now_ms() + 1000;

	memcpy(w, key, klen);
	wr(f, FPGACTL_REG_TBL_SEL, tbl);
	for (unsigned i = 0; i < 5; i++)
		wr(f, FPGACTL_REG_TBL_KEY + 4 * i, w[i]);
	wr(f, FPGACTL_REG_TBL_VAL, val);
	wr(f, FPGACTL_REG_TBL_CMD, cmd);
	do {
		st = rd(f, FPGACTL_REG_TBL_STATUS);
		if (st == 0xffffffffu)
			return -EIO;
		if (!(st & FPGACTL_TST_BUSY))
			return (int)(st & FPGACTL_TST_RESULT);
	} while (now_ms() < end);
	return -ETIMEDOUT;
}

/* The pods table's value is the pod id in the low 12 bits of TBL_VAL[0]
 * (the layout the RTL fixes today; the other tables' follow the request
 * pipeline). */
static int fpga_tw_read(struct fpgactl *f, const struct fpgactl_req *w, struct fpgactl_req *out)
{
	int rc;

	if (w->op != FPGACTL_OP_POD_SET)
		return w->op >= FPGACTL_OP_POD_SET && w->op <= FPGACTL_OP_POL_SET &&
		       w->op != FPGACTL_OP_SLOT_FREE ? -EOPNOTSUPP : -EINVAL;
	rc = tbl_cmd(f, FPGACTL_TBL_PODS, FPGACTL_TCMD_LOOKUP, w->addr, 16, 0);
	if (rc < 0)
		return rc;
	if (rc)
		return rc == 1 ? -ENOENT : -EIO;
	fpgactl_tw_pod(out, w->tag, w->addr, rd(f, FPGACTL_REG_TBL_VAL) & 0xfff, false);
	return 0;
}

static int fpga_tw_window(struct fpgactl *f, const struct fpgactl_req *w)
{
	bool del = w->flags & FPGACTL_TBL_DEL;
	int rc;

	if (w->op != FPGACTL_OP_POD_SET)
		return w->op >= FPGACTL_OP_POD_SET && w->op <= FPGACTL_OP_POL_SET ? -EOPNOTSUPP : -EINVAL;
	if (w->flags & ~FPGACTL_TBL_DEL || w->pod >= f->caps.n_pods)
		return -EINVAL;
	rc = tbl_cmd(f, FPGACTL_TBL_PODS, del ? FPGACTL_TCMD_DELETE : FPGACTL_TCMD_INSERT, w->addr, 16,
		     w->pod);
	if (rc <= 0)
		return rc;
	return rc == 1 ? -ENOENT : rc == 2 ? -ENOSPC : -EIO;
}

const struct fctl_ops fctl_fpga_ops = {
	.name = "fpga",
	.close = fpga_close,
	.mem_map = fpga_mem_map,
	.mem_unmap = fpga_mem_unmap,
	.queue_enable = fpga_enable,
	.queue_disable = fpga_disable,
	.queue_read = fpga_read,
	.doorbell = fpga_doorbell,
	.arm = fpga_arm,
	.irq_set = fpga_irq_set,
	.run = fpga_run,
	.service = fpga_service,
	.wait_idle = fpga_wait_idle,
	.reset = fpga_reset,
	.counters = fpga_counters,
	.tw_read = fpga_tw_read,
	.tw_window = fpga_tw_window,
};
