/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fpgactl.h — the connection-setup engine (fpga-ctl, libfpgactl.a, prefix
 * fpgactl_). The engine serves per-process request queues and writes
 * completions and events to per-process event queues, all rings in host
 * memory (fpgactl_abi.h); the agent programs its tables through the admin
 * queue (queue 0). Backends:
 *   "software"          the reference engine, in the calling process;
 *   "model:PATH"        the RTL as a Verilator process (hostlane-fpga-model)
 *                       listening on the unix socket PATH;
 *   "DDDD:BB:DD.F"      a board, through vfio (/dev/vfio/<group>).
 * The last two are one driver (register accesses, DMA mappings,
 * interrupts) over two mapping layers. docs/fpga.md describes all of it.
 *
 * Conventions: int functions return 0 (or a count) or -errno;
 * constructors return NULL and set errno. An instance is used by one
 * thread at a time; the rings are shared with other processes through
 * the fpgactl_rq_* / fpgactl_eq_* helpers (C11 atomics).
 */
#ifndef FPGACTL_H
#define FPGACTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fpgactl_abi.h"

#ifdef __cplusplus
extern "C" {
#endif

struct fpgactl;

/* What an engine holds (the device's ID registers; the software engine's
 * geometry). */
struct fpgactl_caps {
	uint32_t version;     /* major << 16 | minor */
	unsigned nq;          /* queue pairs */
	unsigned n_pods;      /* pod ids (a power of two) */
	unsigned n_eps;       /* Service endpoint entries (a power of two) */
	unsigned pod_log2, lsn_log2, pair_log2, svc_log2, pol_log2;  /* buckets (2 ways each) */
	/* Whether the engine serves request queues (the admin queue's table
	 * writes included): the software engine does; the device does not
	 * until the RTL has its request pipeline, and takes table writes
	 * through its register window instead (fpgactl_tw_window()). */
	bool serves;
};

struct fpgactl_opts {
	const char *device;   /* NULL or "software", "model:PATH", or a PCI address */
	/* software: the geometry (a zero caps: the defaults of docs/fpga.md) */
	struct fpgactl_caps geom;
	/* the hash secret; all zero: random (getrandom) */
	uint32_t seed[FPGACTL_SEED_WORDS];
};

/* A queue pair's set-up: two rings in memory mapped with fpgactl_mem_map(). */
struct fpgactl_queue_cfg {
	uint64_t rq_iova, eq_iova;   /* 256-byte aligned */
	unsigned rq_log2, eq_log2;   /* FPGACTL_RING_MIN_LOG2 .. FPGACTL_RING_MAX_LOG2 */
	unsigned pod;                /* the process's pod (< caps.n_pods) */
};

/* What the engine keeps of a queue (QCMD_READ). */
struct fpgactl_qstate {
	uint32_t head, tail, prod, state;  /* state: FPGACTL_QS_* */
};

/**
 * fpgactl_open() - open an engine.
 * @o: options (copied; NULL: software with defaults).
 * Return: the instance, or NULL with errno: EINVAL (bad device string or
 * geometry), ENOMEM, ENODEV (no such device, or its ID register is not
 * the engine's), EPROTO (an ABI major the driver does not speak), or the
 * errno of the socket, vfio or eventfd call that failed.
 */
struct fpgactl *fpgactl_open(const struct fpgactl_opts *o);
/** fpgactl_close() - stop the engine (CTL.RUN 0), unmap, close. NULL ok. */
void fpgactl_close(struct fpgactl *f);
/** fpgactl_name() - "software", "model" or "vfio". */
const char *fpgactl_name(const struct fpgactl *f);
/** fpgactl_caps() - what the engine holds. Return: 0. */
int fpgactl_caps(const struct fpgactl *f, struct fpgactl_caps *c);

/**
 * fpgactl_mem_map() - let the engine reach host memory (the rings).
 * @fd: a memfd (hugetlb or not) holding the memory, or -1 (software only).
 * @va: the caller's mapping of it. @size: bytes (a multiple of 4096).
 * @iova: set to the address the engine uses for @va.
 * Return: 0, -EINVAL (alignment, size), -ENOSPC (64 mappings), or the
 * errno of the DMA mapping (VFIO_IOMMU_MAP_DMA, the model's mmap).
 */
int fpgactl_mem_map(struct fpgactl *f, int fd, void *va, uint64_t size, uint64_t *iova);
/** fpgactl_mem_unmap() - undo a mapping by its iova. 0 or -ENOENT. */
int fpgactl_mem_unmap(struct fpgactl *f, uint64_t iova);

/**
 * fpgactl_queue_enable() - set queue pair @q up (indices 0) and enable it.
 * The rings must have been initialised (fpgactl_ring_init()).
 * Return: 0, -EINVAL (q, sizes, alignment, pod out of range; rings not in
 * mapped memory), -ETIMEDOUT (the device did not apply it).
 */
int fpgactl_queue_enable(struct fpgactl *f, unsigned q, const struct fpgactl_queue_cfg *c);
/** fpgactl_queue_disable() - stop serving @q. 0, -EINVAL, -ETIMEDOUT. */
int fpgactl_queue_disable(struct fpgactl *f, unsigned q);
/** fpgactl_queue_read() - the engine's state of @q. 0, -EINVAL, -ETIMEDOUT. */
int fpgactl_queue_read(struct fpgactl *f, unsigned q, struct fpgactl_qstate *s);

/**
 * fpgactl_doorbell() - tell the engine @q's request queue now ends at
 * @tail (its producer index): one doorbell covers every entry up to it.
 * A doorbell past the ring stops the queue (an ERROR event to queue 0).
 * Return: 0, -EINVAL (q >= caps.nq: dropped and counted by a device).
 */
int fpgactl_doorbell(struct fpgactl *f, unsigned q, uint32_t tail);
/** fpgactl_arm() - interrupt (the eventfd of fpgactl_irq_set()) at @q's next
 * event queue write. 0, -EINVAL. */
int fpgactl_arm(struct fpgactl *f, unsigned q);
/** fpgactl_irq_set() - eventfd @efd (-1: none) signalled for @q's
 * interrupts. 0, -EINVAL, or the errno of VFIO_DEVICE_SET_IRQS / the model. */
int fpgactl_irq_set(struct fpgactl *f, unsigned q, int efd);

/** fpgactl_run() - serve doorbelled queues (true) or only queue doorbells up
 * (false; the state after open). 0 or -errno. */
int fpgactl_run(struct fpgactl *f, bool run);
/**
 * fpgactl_service() - software backend: serve up to @max_turns turns
 * (FPGACTL_BUDGET requests of one queue each). A device serves by itself:
 * 0. Return: requests served, or -errno.
 */
int fpgactl_service(struct fpgactl *f, unsigned max_turns);
/** fpgactl_wait_idle() - until nothing is scheduled or in flight, at most
 * @timeout_ms. 0 or -ETIMEDOUT. */
int fpgactl_wait_idle(struct fpgactl *f, int timeout_ms);
/** fpgactl_reset() - CTL.RESET: queues, tables, counters cleared; the
 * engine keeps running or not as before. 0 or -ETIMEDOUT. */
int fpgactl_reset(struct fpgactl *f);
/** fpgactl_counters() - @cnt[FPGACTL_CNT_N] (enum fpgactl_cnt). 0. */
int fpgactl_counters(struct fpgactl *f, uint64_t *cnt);

/* ---- rings (any process that maps them) ---------------------------------- */

/** fpgactl_ring_bytes() - bytes of a ring of 2^@log2 entries (0: out of range). */
size_t fpgactl_ring_bytes(unsigned log2);
/** fpgactl_ring_init() - lay a ring out in @mem (fpgactl_ring_bytes(@log2) bytes,
 * 256-byte aligned). 0 or -EINVAL. */
int fpgactl_ring_init(void *mem, unsigned log2);
/**
 * fpgactl_ring_check() - whether @mem holds a ring of this ABI (magic,
 * major, entry size) of at most @bytes bytes: its log2 size, or -EPROTO.
 * For a ring another process set up.
 */
int fpgactl_ring_check(const void *mem, size_t bytes);
/**
 * fpgactl_rq_push() - producer: append @n requests (ring of 2^@log2).
 * Return: how many fit (0: full). The new tail is fpgactl_rq_tail().
 */
unsigned fpgactl_rq_push(void *ring, unsigned log2, const struct fpgactl_req *r, unsigned n);
/** fpgactl_rq_tail() - the producer index a doorbell carries. */
uint32_t fpgactl_rq_tail(const void *ring);
/**
 * fpgactl_eq_pop() - consumer: take up to @max events, each checked with
 * fpgactl_evt_parse(). Events stop before an entry that fails; a call
 * that meets it first consumes it and returns -EBADMSG. Return: the
 * count, or -EBADMSG, or -EPROTO (the producer index is past the ring).
 */
int fpgactl_eq_pop(void *ring, unsigned log2, struct fpgactl_evt *ev, unsigned max);
/**
 * fpgactl_evt_parse() - check one event entry the engine wrote (64 bytes at
 * @raw) and copy it to @ev: type, reason, status range, reserved bytes.
 * Return: 0 or -EBADMSG.
 */
int fpgactl_evt_parse(const void *raw, struct fpgactl_evt *ev);

/* ---- table writes (entries for the admin queue) --------------------------- */

/* Each fills @r (zeroed first) with one table write; @tag is echoed. */
void fpgactl_tw_pod(struct fpgactl_req *r, uint32_t tag, const uint8_t addr[16], unsigned pod, bool del);
void fpgactl_tw_pod_flags(struct fpgactl_req *r, uint32_t tag, unsigned pod, unsigned flags);
void fpgactl_tw_pair(struct fpgactl_req *r, uint32_t tag, unsigned qc, unsigned ql, uint32_t region,
		     uint32_t free_slots, bool del);
void fpgactl_tw_slot_free(struct fpgactl_req *r, uint32_t tag, unsigned qc, unsigned ql,
			  uint32_t region, unsigned slot);
void fpgactl_tw_svc(struct fpgactl_req *r, uint32_t tag, const uint8_t vip[16], uint16_t port,
		    unsigned ep_base, unsigned n_ready, bool affinity, bool del);
void fpgactl_tw_ep(struct fpgactl_req *r, uint32_t tag, unsigned idx, const uint8_t addr[16],
		   uint16_t port, bool local);
void fpgactl_tw_pol(struct fpgactl_req *r, uint32_t tag, unsigned src_pod, unsigned dst_pod,
		    uint16_t port, unsigned verdict, bool del);
void fpgactl_tw_post(struct fpgactl_req *r, uint32_t tag, unsigned q, unsigned op, int status,
		     unsigned reason);
/**
 * fpgactl_tw_read() - read back what the engine holds for the key of table
 * write @w (POD_SET, POD_FLAGS, PAIR_SET, SVC_SET, EP_SET or POL_SET, as the
 * fpgactl_tw_* helpers make them): @out is set to the write that would
 * make that entry (tag echoed, DEL clear), so a writer compares it with
 * what it wrote. The software engine reads its tables; a device reads
 * through its table window (BAR0 TBL_*), the pods table only today.
 * Return: 0, -ENOENT (no entry with that key; never for the direct-indexed
 * pod flags and endpoints), -EINVAL (not a table write, index out of
 * range), -EOPNOTSUPP (this backend cannot read that table), -ETIMEDOUT
 * (the window stayed busy), -EIO (the device is gone).
 */
int fpgactl_tw_read(struct fpgactl *f, const struct fpgactl_req *w, struct fpgactl_req *out);
/**
 * fpgactl_tw_window() - apply table write @w through a device's register
 * window instead of the admin queue (for a device that does not serve its
 * queues: caps.serves false). POD_SET (set or DEL) only today.
 * Return: 0, -ENOENT (DEL of a key not there), -ENOSPC (the key's bucket
 * is full), -EINVAL (not a table write), -EOPNOTSUPP (another table, or
 * the software backend, which serves its admin queue), -ETIMEDOUT, -EIO.
 */
int fpgactl_tw_window(struct fpgactl *f, const struct fpgactl_req *w);
/** fpgactl_addr_v4() - @a as ::ffff:a.b.c.d (@be: the address in network order). */
void fpgactl_addr_v4(uint8_t a[16], uint32_t be);

#ifdef __cplusplus
}
#endif
#endif
