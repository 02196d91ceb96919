/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The reference connection-setup engine (the software backend, and what the
 * RTL in fpga-ctl/rtl must do entry for entry): its tables, its queues and
 * its scheduler. It touches host memory only through struct eng_mem, as the
 * device does through its DMA port, so the same code runs over the memory a
 * driver registered. Files: hash.c (keyed bucket hash), table.c (buckets),
 * sched.c (queues, doorbells, turns, events), engine.c (the requests).
 * One thread; no locks.
 */
#ifndef FPGACTL_ENGINE_H
#define FPGACTL_ENGINE_H

#include <stdbool.h>
#include <stdint.h>

#include "fpgactl_abi.h"

/* Host memory as the device sees it: 64-byte lines at IOVAs. A read of
 * memory nobody mapped fills @line with 0xff and returns -EFAULT; a write
 * there is dropped (an IOMMU fault) and returns -EFAULT. */
struct eng_mem {
	int (*read)(void *arg, uint64_t iova, void *line);
	int (*write)(void *arg, uint64_t iova, const void *line);
	void *arg;
};

/* Table geometry (log2 of buckets; FPGACTL_WAYS entries each). */
struct eng_geom {
	unsigned nq;          /* queue pairs, <= FPGACTL_MAX_QUEUES */
	unsigned n_pods;      /* pod ids, <= FPGACTL_MAX_PODS */
	unsigned n_eps;       /* Service endpoint entries */
	unsigned pod_log2, lsn_log2, pair_log2, svc_log2, pol_log2;  /* <= 16 */
};

/* A set-associative table: 2^log2 buckets of FPGACTL_WAYS entries; an
 * entry is `size` bytes beginning with a valid byte and its key. */
struct eng_tbl {
	unsigned log2, klen;
	size_t size;
	uint8_t *ent;
	const uint16_t (*hash)[256];  /* the engine's Toeplitz tables */
};

struct eng_pod { uint8_t valid; uint8_t key[16]; uint16_t pod; };
struct eng_lsn {
	uint8_t valid; uint8_t key[4];  /* pod, port (le16 each) */
	uint8_t flags, n, rr;
	uint16_t q[FPGACTL_LSN_MEMBERS];
	uint8_t addr[16];
};
struct eng_pair { uint8_t valid; uint8_t key[4]; uint32_t region, free; };
struct eng_svc { uint8_t valid; uint8_t key[18]; uint8_t flags, n, rr; uint16_t base; };
struct eng_pol { uint8_t valid; uint8_t key[6]; uint8_t verdict; };
struct eng_ep { uint8_t addr[16]; uint16_t port; uint8_t flags; };

struct eng_queue {
	uint64_t rq, eq;      /* ring IOVAs (low 8 bits ignored) */
	uint8_t rq_log, eq_log, state;  /* FPGACTL_QS_* */
	uint16_t pod;
	uint32_t head, tail, prod, cons;
	bool sched;           /* in the run FIFO */
};

struct eng {
	struct eng_geom g;
	struct eng_mem mem;
	uint16_t hash[18][256];   /* Toeplitz: per key byte, per value */
	uint32_t seed[FPGACTL_SEED_WORDS];
	struct eng_tbl pods, lsns, pairs, svcs, pols;
	uint8_t *pod_flags;
	struct eng_ep *eps;
	struct eng_queue *q;
	uint16_t *fifo;           /* queues with doorbelled work, in order */
	uint32_t fifo_head, fifo_tail;
	bool run, db_drop;
	uint64_t cnt[FPGACTL_CNT_N];
	/* the turn in progress: EQ producer lines to write back (coalesced) */
	unsigned own;             /* the queue being served */
	int other;                /* the last other queue written, or -1 */
	bool own_dirty, other_dirty;
	void (*irq)(void *arg, unsigned q);  /* an armed EQ was written */
	void *irq_arg;
	uint8_t *armed;
};

/* ---- hash.c ---- */
void eng_hash_seed(struct eng *e, const uint32_t seed[FPGACTL_SEED_WORDS]);
/* The 16-bit keyed hash of @len bytes (<= 18). */
uint16_t eng_hash(const struct eng *e, const uint8_t *key, unsigned len);
/* floor(h * n / 65536): a hash reduced to 0..n-1 without a division. */
static inline unsigned eng_range(uint16_t h, unsigned n)
{
	return (unsigned)(((uint32_t)h * n) >> 16);
}

/* ---- table.c ---- */
int eng_tbl_init(struct eng_tbl *t, unsigned log2, size_t size, unsigned klen, const struct eng *e);
void eng_tbl_free(struct eng_tbl *t);
void eng_tbl_clear(struct eng_tbl *t);
/* The entry with @key, or NULL. */
void *eng_tbl_find(const struct eng_tbl *t, const uint8_t *key);
/* The entry with @key, else the first free way of its bucket (valid 0,
 * key not yet set), else NULL (bucket full). */
void *eng_tbl_slot(const struct eng_tbl *t, const uint8_t *key);

/* ---- sched.c ---- */
/* 0, -EINVAL (geometry), -ENOMEM. */
int eng_init(struct eng *e, const struct eng_geom *g, const struct eng_mem *m);
void eng_fini(struct eng *e);
/* CTL.RESET: every queue, table, counter and the run FIFO cleared. */
void eng_reset(struct eng *e);
/* Q_CMD_ENABLE with the staged config; Q_CMD_DISABLE. */
void eng_queue_enable(struct eng *e, unsigned q, uint64_t rq, uint64_t eq, unsigned rq_log,
		      unsigned eq_log, unsigned pod);
void eng_queue_disable(struct eng *e, unsigned q);
/* A doorbell (a new RQ tail); q >= nq is dropped and counted. */
void eng_doorbell(struct eng *e, unsigned q, uint32_t tail);
/* Serves one turn of the first scheduled queue (if running). Returns the
 * requests served, or -EAGAIN when nothing is scheduled. */
int eng_turn(struct eng *e);
bool eng_idle(const struct eng *e);

/* Used by engine.c: free entries of @q's EQ (re-reads its consumer
 * index when the cached one says fewer than @need). */
unsigned eng_eq_room(struct eng *e, unsigned q, unsigned need);
/* Writes @ev to @q's EQ (room checked by the caller). */
void eng_emit(struct eng *e, unsigned q, const struct fpgactl_evt *ev);
/* A completion of @r to @q. */
void eng_cpl(struct eng *e, unsigned q, const struct fpgactl_req *r, int status, unsigned reason);

/* ---- engine.c ---- */
#define ENG_PARK 1
/* Serves request @r of queue @q: 0 (done: consumed), or ENG_PARK (the
 * queue's EQ has no room for the completion: left in the RQ). */
int eng_serve(struct eng *e, unsigned q, const struct fpgactl_req *r);

#endif
