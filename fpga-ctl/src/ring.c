/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Rings as their users see them: a process producing requests and
 * consuming events, the agent producing table writes. The engine's side is
 * sched.c (or the RTL). Indices are free-running; each side writes only
 * its own line of the header.
 */
#include "fpgactl.h"

#include <errno.h>
#include <stdatomic.h>
#include <string.h>

#define HDR(p) ((struct fpgactl_ring_hdr *)(p))
#define ENTRY(p, i, log2) ((uint8_t *)(p) + FPGACTL_RING_HDR + \
			   (size_t)((i) & ((1u << (log2)) - 1)) * FPGACTL_ENTRY)

size_t fpgactl_ring_bytes(unsigned log2)
{
	if (log2 < FPGACTL_RING_MIN_LOG2 || log2 > FPGACTL_RING_MAX_LOG2)
		return 0;
	return FPGACTL_RING_HDR + ((size_t)FPGACTL_ENTRY << log2);
}

int fpgactl_ring_init(void *mem, unsigned log2)
{
	struct fpgactl_ring_hdr *h = mem;

	if (!mem || ((uintptr_t)mem & 0xff) || !fpgactl_ring_bytes(log2))
		return -EINVAL;
	memset(mem, 0, fpgactl_ring_bytes(log2));
	h->major = FPGACTL_ABI_MAJOR;
	h->minor = FPGACTL_ABI_MINOR;
	h->log2_size = log2;
	h->entry_size = FPGACTL_ENTRY;
	/* pairs with the acquire load in fpgactl_ring_check() */
	atomic_store_explicit((_Atomic uint32_t *)&h->magic, FPGACTL_RING_MAGIC, memory_order_release);
	return 0;
}

int fpgactl_ring_check(const void *mem, size_t bytes)
{
	const struct fpgactl_ring_hdr *h = mem;
	uint32_t log2;

	if (!mem || bytes < FPGACTL_RING_HDR ||
	    atomic_load_explicit((_Atomic const uint32_t *)&h->magic, memory_order_acquire) !=
		    FPGACTL_RING_MAGIC ||
	    h->major != FPGACTL_ABI_MAJOR || h->entry_size != FPGACTL_ENTRY)
		return -EPROTO;
	log2 = h->log2_size;
	if (!fpgactl_ring_bytes(log2) || fpgactl_ring_bytes(log2) > bytes)
		return -EPROTO;
	return (int)log2;
}

unsigned fpgactl_rq_push(void *ring, unsigned log2, const struct fpgactl_req *r, unsigned n)
{
	struct fpgactl_ring_hdr *h = HDR(ring);
	/* pairs with the engine's write of the consumer line (a DMA write,
	 * or sched.c's store: the ring's memory is all the engine shares) */
	uint32_t cons = atomic_load_explicit((_Atomic uint32_t *)&h->cons, memory_order_acquire);
	uint32_t prod = atomic_load_explicit((_Atomic uint32_t *)&h->prod, memory_order_relaxed);
	uint32_t room = (1u << log2) - (prod - cons), i;

	if (prod - cons > (1u << log2))
		return 0;
	for (i = 0; i < n && i < room; i++)
		memcpy(ENTRY(ring, prod + i, log2), &r[i], FPGACTL_ENTRY);
	/* pairs with the acquire load in fpgactl_rq_tail() (whoever rings
	 * the doorbell reads the entries' tail there) */
	atomic_store_explicit((_Atomic uint32_t *)&h->prod, prod + i, memory_order_release);
	return i;
}

uint32_t fpgactl_rq_tail(const void *ring)
{
	return atomic_load_explicit((_Atomic const uint32_t *)&HDR(ring)->prod, memory_order_acquire);
}

int fpgactl_evt_parse(const void *raw, struct fpgactl_evt *ev)
{
	memcpy(ev, raw, sizeof(*ev));
	if (ev->type < FPGACTL_EVT_CPL || ev->type > FPGACTL_EVT_ERROR || ev->rsvd0 || ev->rsvd1 ||
	    ev->reason > FPGACTL_R_MAX || ev->status > 0 || ev->status < -4095 ||
	    ev->queue >= FPGACTL_MAX_QUEUES || ev->aux >= FPGACTL_MAX_QUEUES ||
	    ev->slot >= FPGACTL_MAX_SLOTS || ev->flags > 1)
		return -EBADMSG;
	/* an error carries its reason; a success none */
	if ((ev->status == 0) != (ev->reason == FPGACTL_R_OK || ev->type == FPGACTL_EVT_MISS))
		return -EBADMSG;
	if (ev->type == FPGACTL_EVT_MISS && ev->reason != FPGACTL_R_NO_REGION &&
	    ev->reason != FPGACTL_R_REGION_FULL)
		return -EBADMSG;
	if (ev->type == FPGACTL_EVT_ERROR && ev->status == 0)
		return -EBADMSG;
	return 0;
}

int fpgactl_eq_pop(void *ring, unsigned log2, struct fpgactl_evt *ev, unsigned max)
{
	struct fpgactl_ring_hdr *h = HDR(ring);
	/* pairs with the engine's producer line write, which follows the
	 * entries it covers (DMA writes are ordered; sched.c writes in order) */
	uint32_t prod = atomic_load_explicit((_Atomic uint32_t *)&h->prod, memory_order_acquire);
	uint32_t cons = atomic_load_explicit((_Atomic uint32_t *)&h->cons, memory_order_relaxed);
	unsigned n = 0;
	int bad = 0;

	if (prod - cons > (1u << log2))
		return -EPROTO;
	while (cons != prod && n < max) {
		if (fpgactl_evt_parse(ENTRY(ring, cons, log2), &ev[n])) {
			/* a bad entry is reported on its own: consumed when it
			 * comes first, else left for the next call */
			if (!n) {
				bad = -EBADMSG;
				cons++;
			}
			break;
		}
		n++;
		cons++;
	}
	/* pairs with the engine's read of the consumer line */
	atomic_store_explicit((_Atomic uint32_t *)&h->cons, cons, memory_order_release);
	return bad ? bad : (int)n;
}

/* ---- table writes ---- */

static void req0(struct fpgactl_req *r, unsigned op, uint32_t tag)
{
	memset(r, 0, sizeof(*r));
	r->op = (uint8_t)op;
	r->tag = tag;
}

void fpgactl_addr_v4(uint8_t a[16], uint32_t be)
{
	memset(a, 0, 10);
	a[10] = a[11] = 0xff;
	memcpy(a + 12, &be, 4);
}

void fpgactl_tw_pod(struct fpgactl_req *r, uint32_t tag, const uint8_t addr[16], unsigned pod, bool del)
{
	req0(r, FPGACTL_OP_POD_SET, tag);
	memcpy(r->addr, addr, 16);
	r->pod = (uint16_t)(del ? 0 : pod);
	r->flags = del ? FPGACTL_TBL_DEL : 0;
}

void fpgactl_tw_pod_flags(struct fpgactl_req *r, uint32_t tag, unsigned pod, unsigned flags)
{
	req0(r, FPGACTL_OP_POD_FLAGS, tag);
	r->pod = (uint16_t)pod;
	r->val2 = flags;
}

void fpgactl_tw_pair(struct fpgactl_req *r, uint32_t tag, unsigned qc, unsigned ql, uint32_t region,
		     uint32_t free_slots, bool del)
{
	req0(r, FPGACTL_OP_PAIR_SET, tag);
	r->qid = (uint16_t)qc;
	r->aux = (uint16_t)ql;
	r->flags = del ? FPGACTL_TBL_DEL : 0;
	r->val = del ? 0 : region;
	r->val2 = del ? 0 : free_slots;
}

void fpgactl_tw_slot_free(struct fpgactl_req *r, uint32_t tag, unsigned qc, unsigned ql,
			  uint32_t region, unsigned slot)
{
	req0(r, FPGACTL_OP_SLOT_FREE, tag);
	r->qid = (uint16_t)qc;
	r->aux = (uint16_t)ql;
	r->val = region;
	r->lport = (uint16_t)slot;
}

void fpgactl_tw_svc(struct fpgactl_req *r, uint32_t tag, const uint8_t vip[16], uint16_t port,
		    unsigned ep_base, unsigned n_ready, bool affinity, bool del)
{
	req0(r, FPGACTL_OP_SVC_SET, tag);
	memcpy(r->addr, vip, 16);
	r->port = port;
	r->flags = (uint8_t)((del ? FPGACTL_TBL_DEL : 0) | (affinity ? FPGACTL_SVC_AFFINITY : 0));
	r->aux = (uint16_t)ep_base;
	r->val = n_ready;
}

void fpgactl_tw_ep(struct fpgactl_req *r, uint32_t tag, unsigned idx, const uint8_t addr[16],
		   uint16_t port, bool local)
{
	req0(r, FPGACTL_OP_EP_SET, tag);
	r->aux = (uint16_t)idx;
	memcpy(r->addr, addr, 16);
	r->port = port;
	r->flags = local ? FPGACTL_EP_LOCAL : 0;
}

void fpgactl_tw_pol(struct fpgactl_req *r, uint32_t tag, unsigned src_pod, unsigned dst_pod,
		    uint16_t port, unsigned verdict, bool del)
{
	req0(r, FPGACTL_OP_POL_SET, tag);
	r->pod = (uint16_t)src_pod;
	r->aux = (uint16_t)dst_pod;
	r->port = port;
	r->val2 = del ? 0 : verdict;
	r->flags = del ? FPGACTL_TBL_DEL : 0;
}

void fpgactl_tw_post(struct fpgactl_req *r, uint32_t tag, unsigned q, unsigned op, int status,
		     unsigned reason)
{
	req0(r, FPGACTL_OP_POST, tag);
	r->qid = (uint16_t)q;
	r->lport = (uint16_t)op;
	r->val = (uint32_t)status;
	r->aux = (uint16_t)reason;
}
