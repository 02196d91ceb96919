/* SPDX-License-Identifier: MIT */
/* Internals shared by the shmq sources. Not installed. */
#ifndef SHMQ_PRIVATE_H
#define SHMQ_PRIVATE_H

#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>

#include "shmq.h"
#include "shmq_abi.h"

/*
 * One direction as this side sees it. Everything here is private: taken
 * from the shared header once, at attach time, after validation, and never
 * re-read. `head` is this side's own index (prod for tx, cons for rx) and is
 * the truth; the shared copy is only ever written from it.
 */
struct shmq_half {
	struct shmq_abi_ring *hdr;  /* shared: only indices and flags are touched */
	uint8_t *data;              /* shared data area, `cap` bytes: the area
				     * of the indices from `at` on */
	uint64_t cap;
	uint64_t mask;
	uint64_t max_rec;           /* MSG: largest payload */
	uint64_t head;              /* own index */
	uint64_t published;         /* last value of `head` stored to shared */
	uint64_t peer;              /* last validated peer index */
	uint64_t resv;              /* zero copy: bytes reserved / peeked */
	uint64_t resv_rec;          /* MSG peek: ring bytes of that record */

	/* Growable stream rings (layout 2.0, ring_grow.c). For any other
	 * ring `at` stays the consumer index of attach time (behind every
	 * index after it) and prev_w == cur_w, so none of this matters. */
	int grow;                   /* this ring moves (its producer's word) */
	unsigned owner;             /* side producing into it: its pool half */
	uint8_t *inl;               /* the inline area in the slot */
	uint64_t inl_cap;
	uint64_t at;                /* first index in the current area */
	uint8_t *pdata;             /* area of the indices below `at` */
	uint64_t pcap;
	uint64_t cur_w, prev_w;     /* their area words; equal: none pending */
	uint32_t seq;               /* moves seen (rx) or made (tx) */
	uint32_t full_hits;         /* tx: writes that found it full */
	uint64_t win;               /* tx: bytes written since the last look */
};

/* A pool region's chunk pool as this process sees it: validated against
 * our own mapping when an endpoint attaches, never re-read. */
struct shmq_pool {
	uint8_t *base;              /* chunk 0; NULL: no pool */
	_Atomic uint64_t *map[2];   /* each side's chunk map (shared) */
	uint64_t chunk;             /* bytes per chunk */
	uint32_t n_side;            /* chunks per side */
	uint64_t grow_max;          /* largest area */
};

struct shmq_ep {
	struct shmq_half tx;
	struct shmq_half rx;
	uint32_t mode;
	int broken;
	int shut;         /* tx shut down by us */
	int self_efd;
	int peer_efd;
	int live_fd;
	int live_kind;
	uint64_t spin_ns;
	struct shmq_pool pool;
};

/* ring_poll.c: readiness mask restricted to what a waiter for @events cares about. */
int shmq__ready(struct shmq_ep *ep, int events);
/* ring_poll.c: set/clear this side's waiting flags (relaxed; caller fences). */
void shmq__set_waiting(struct shmq_ep *ep, int events, uint32_t v);
/* notify.c: wake the peer if it announced it sleeps (after a publication). */
void shmq__kick(struct shmq_ep *ep, _Atomic uint32_t *peer_waiting);
/* notify.c: unconditional wake (close/shutdown). */
void shmq__wake(struct shmq_ep *ep);

/* ring_grow.c: growable rings. */
/* The consumer saw mv_seq @s: take the move (validated). 0 or -EPROTO. */
int shmq__rx_follow(struct shmq_ep *ep, uint32_t s);
/* The producer: free the previous area (the consumer is past `at`). */
void shmq__tx_reclaim(struct shmq_ep *ep);
/* The producer found tx without room for @want bytes: maybe grow. */
void shmq__tx_full(struct shmq_ep *ep, uint64_t want);
/* The producer wrote a window's worth since the last look: maybe shrink. */
void shmq__tx_look(struct shmq_ep *ep);
/* Take the areas of @h from its move descriptor, given its consumer
 * index @lo and producer index @hi (attach, resync; @tx: ours, so
 * `at` may not be past @hi). 0 or -EPROTO. */
int shmq__half_load(const struct shmq_ep *ep, struct shmq_half *h, uint64_t lo, uint64_t hi,
		    int tx);
/* Close: give the pool back what the consumer will not read again. */
void shmq__tx_release(struct shmq_ep *ep);
/* Re-initialising a slot: free the pool areas @ring (produced by side
 * @owner) names, as far as they are valid areas of that side. */
void shmq__ring_reclaim(const struct shmq_pool *pl, unsigned owner, struct shmq_abi_ring *ring);
/* region.c: the chunk pool of @r (pl->base NULL: not a pool region).
 * 0 or -EPROTO. */
int shmq__pool_get(struct shmq_region *r, struct shmq_pool *pl);
/* ring.c: shmq_pair_format(), in layout 2.0 when @pool. */
int shmq__pair_format(void *mem, size_t len, uint32_t capacity, enum shmq_mode mode, int pool);
/* ring.c: shmq_ep_open() with the chunk pool of the region (or NULL). */
struct shmq_ep *shmq__ep_open(void *mem, size_t len, unsigned side, const struct shmq_pool *pl);


/*
 * The core every mode of a ring pair uses (ring_msg.c, ring_stream.c,
 * ring_poll.c): publishing our own index, and re-reading and validating the
 * peer's. Inline: it is the fast path of every send and receive.
 *
 * Safety rule for everything here and in the ring files: a value read from
 * shared memory is read once into a local, checked, and only the local is
 * used. The only shared values ever read after attach are the peer's index,
 * the peer's flags and (MSG mode) record headers; the only shared values
 * ever written are our own index and our own flags (and the data we
 * produce).
 */

#define SHMQ_ALIGN8(x) (((x) + 7u) & ~(uint64_t)7u)

/* The peer broke the rules: this endpoint is broken for good. */
static inline int shmq__fail(struct shmq_ep *ep)
{
	ep->broken = 1;
	return -EPROTO;
}

static inline void shmq__tx_publish(struct shmq_ep *ep)
{
	struct shmq_half *h = &ep->tx;

	/* Release: pairs with the acquire load of `prod` in shmq__rx_refresh() of the
	 * peer, so the records and data written before are visible to it. */
	atomic_store_explicit(&h->hdr->prod, h->head, memory_order_release);
	h->published = h->head;
	if (ep->peer_efd >= 0)
		shmq__kick(ep, &h->hdr->cons_waiting);
}

static inline void shmq__rx_publish(struct shmq_ep *ep)
{
	struct shmq_half *h = &ep->rx;

	/* Release: pairs with the acquire load of `cons` in shmq__tx_refresh() of the
	 * peer: our reads of the data happen before it may overwrite it. */
	atomic_store_explicit(&h->hdr->cons, h->head, memory_order_release);
	h->published = h->head;
	if (ep->peer_efd >= 0)
		shmq__kick(ep, &h->hdr->prod_waiting);
}

/* Re-read the consumer's index of our tx ring. It may only move forward and
 * never past what we published. */
static inline int shmq__tx_refresh(struct shmq_ep *ep)
{
	struct shmq_half *h = &ep->tx;
	/* Acquire: pairs with the release store of `cons` in shmq__rx_publish() of the
	 * peer: its reads of the freed space are done. */
	uint64_t c = atomic_load_explicit(&h->hdr->cons, memory_order_acquire);

	if (c - h->peer > h->published - h->peer)
		return shmq__fail(ep);
	h->peer = c;
	/* The consumer has left the previous area of a moved ring. */
	if (h->prev_w != h->cur_w && (int64_t)(c - h->at) >= 0)
		shmq__tx_reclaim(ep);
	return 0;
}

/* Re-read the producer's index of our rx ring. It may only move forward and
 * never more than the areas hold ahead of what we consumed: `cap`, plus
 * for a moved ring the unread indices below `at` (in the previous area,
 * checked against its size when the move was taken). */
static inline int shmq__rx_refresh(struct shmq_ep *ep)
{
	struct shmq_half *h = &ep->rx;
	/* Acquire: pairs with the release store of `prod` in shmq__tx_publish() of the
	 * peer: the data up to `p` is written. */
	uint64_t p = atomic_load_explicit(&h->hdr->prod, memory_order_acquire);
	uint64_t lim;

	if (h->grow) {
		/* Acquire: pairs with the release store of `mv_seq` in
		 * ring_grow.c's move(); loaded after `prod`, so a `p` past a
		 * move's `mv_at` comes with that move seen. */
		uint32_t s = atomic_load_explicit(&h->hdr->mv_seq, memory_order_acquire);

		if (s != h->seq && shmq__rx_follow(ep, s))
			return -EPROTO;
	}
	lim = h->cap + ((int64_t)(h->at - h->head) > 0 ? h->at - h->head : 0);
	if (p - h->head < h->peer - h->head || p - h->head > lim)
		return shmq__fail(ep);
	if (ep->mode == SHMQ_ABI_MODE_MSG && (p & (SHMQ_REC_ALIGN - 1)))
		return shmq__fail(ep);
	h->peer = p;
	return 0;
}

/* Nothing to read: end-of-stream if the producer shut down, else -EAGAIN. */
static inline int shmq__rx_empty(struct shmq_ep *ep)
{
	struct shmq_half *h = &ep->rx;

	/* Acquire: pairs with the release store of `prod_closed` in
	 * shmq_shutdown()/shmq_ep_close() of the peer, which come after its last
	 * `prod` store; so re-reading `prod` afterwards sees all the data. */
	if (!atomic_load_explicit(&h->hdr->prod_closed, memory_order_acquire))
		return -EAGAIN;
	if (shmq__rx_refresh(ep))
		return -EPROTO;
	return h->peer == h->head ? -EPIPE : -EAGAIN;
}

/* Free bytes in the current area of tx (as far as we know): the unread
 * indices below `at` are in the previous area. Distances from `head`, so
 * that free-running indices anywhere in their range compare right. */
static inline uint64_t shmq__tx_free(const struct shmq_half *h)
{
	uint64_t dp = h->head - h->peer, da = h->head - h->at;

	return h->cap - (dp < da ? dp : da);
}

/* Free bytes in tx, refreshing the peer index only if @need is not there. */
static inline int shmq__tx_space(struct shmq_ep *ep, uint64_t need, uint64_t *free)
{
	struct shmq_half *h = &ep->tx;

	if (ep->broken)
		return -EPROTO;
	if (ep->shut)
		return -EPIPE;
	*free = shmq__tx_free(h);
	if (*free >= need)
		return 0;
	if (shmq__tx_refresh(ep))
		return -EPROTO;
	if (atomic_load_explicit(&h->hdr->cons_closed, memory_order_relaxed))
		return -EPIPE;
	*free = shmq__tx_free(h);
	return 0;
}

/* Ring bytes of a MSG record of @len payload bytes. */
static inline uint64_t shmq__rec_bytes(uint64_t len)
{
	return SHMQ_REC_HDR_SIZE + SHMQ_ALIGN8(len);
}

/* ---- Growable rings (ring_grow.c) ---- */

/* Where index @i of rx (or tx) lies and how many bytes from there are
 * contiguous in its area (up to `at` for the previous one). */
static inline uint8_t *shmq__at(const struct shmq_half *h, uint64_t i, uint64_t *contig)
{
	if ((int64_t)(h->at - i) > 0) {
		uint64_t pos = i & (h->pcap - 1), run = h->pcap - pos;

		*contig = run < h->at - i ? run : h->at - i;
		return h->pdata + pos;
	}
	*contig = h->cap - (i & h->mask);
	return h->data + (i & h->mask);
}

/* The tx ring's producer wrote @n bytes: the window of the shrink rule,
 * and while a move is pending, a look whether the old area is free. */
static inline void shmq__tx_wrote(struct shmq_ep *ep, uint64_t n)
{
	struct shmq_half *h = &ep->tx;

	h->win += n;
	if (h->grow && (h->win >= 8 * h->cap || h->prev_w != h->cur_w))
		shmq__tx_look(ep);
}

/* ---- Message mode records (ring_msg.c; zero copy and readiness too) ---- */

/* Make room for a record of @len payload bytes at `head` (writing a PAD
 * record to the end of the area if it would not fit contiguously). On
 * success, returns the record header; `head` points at it. */
static inline int shmq__msg_reserve(struct shmq_ep *ep, uint64_t len, struct shmq_abi_rec **rec)
{
	struct shmq_half *h = &ep->tx;
	uint64_t pos, tail, need, free;
	int rc;

	if (len > h->max_rec)
		return -EMSGSIZE;
	pos = h->head & h->mask;
	tail = h->cap - pos;
	need = shmq__rec_bytes(len) <= tail ? shmq__rec_bytes(len) : tail + shmq__rec_bytes(len);
	rc = shmq__tx_space(ep, need, &free);
	if (rc)
		return rc;
	if (free < need)
		return -EAGAIN;
	if (shmq__rec_bytes(len) > tail) {
		struct shmq_abi_rec *pad = (struct shmq_abi_rec *)(h->data + pos);

		atomic_store_explicit(&pad->len, (uint32_t)(tail - SHMQ_REC_HDR_SIZE),
				      memory_order_relaxed);
		atomic_store_explicit(&pad->kind, SHMQ_REC_PAD, memory_order_relaxed);
		h->head += tail;
		pos = 0;
	}
	*rec = (struct shmq_abi_rec *)(h->data + pos);
	return 0;
}

static inline void shmq__msg_finish(struct shmq_ep *ep, struct shmq_abi_rec *rec, uint64_t len)
{
	atomic_store_explicit(&rec->len, (uint32_t)len, memory_order_relaxed);
	atomic_store_explicit(&rec->kind, SHMQ_REC_DATA, memory_order_relaxed);
	ep->tx.head += shmq__rec_bytes(len);
}

/* Find the next DATA record at rx `head`, skipping (and releasing) a PAD.
 * Returns its ring size and sets *len / *payload; every field is checked
 * against what the producer published and against our private bounds. */
static inline int64_t shmq__msg_next(struct shmq_ep *ep, uint64_t *len, const uint8_t **payload)
{
	struct shmq_half *h = &ep->rx;

	if (ep->broken)
		return -EPROTO;
	/* At most: refresh, PAD, refresh, DATA. A second PAD is invalid. */
	for (int pads = 0; pads < 2; pads++) {
		uint64_t avail = h->peer - h->head;
		uint64_t pos = h->head & h->mask;
		const struct shmq_abi_rec *rec;
		uint32_t kind, l;

		if (avail < SHMQ_REC_HDR_SIZE) {
			if (shmq__rx_refresh(ep))
				return -EPROTO;
			avail = h->peer - h->head;
			if (avail == 0)
				return shmq__rx_empty(ep);
			if (avail < SHMQ_REC_HDR_SIZE)
				return shmq__fail(ep);
		}
		rec = (const struct shmq_abi_rec *)(h->data + pos);
		kind = atomic_load_explicit(&rec->kind, memory_order_relaxed);
		l = atomic_load_explicit(&rec->len, memory_order_relaxed);
		if (kind == SHMQ_REC_PAD) {
			if (pos == 0 || h->cap - pos > avail)
				return shmq__fail(ep);
			h->head += h->cap - pos;
			shmq__rx_publish(ep);
			continue;
		}
		if (kind != SHMQ_REC_DATA || l > h->max_rec ||
		    shmq__rec_bytes(l) > avail || pos + shmq__rec_bytes(l) > h->cap)
			return shmq__fail(ep);
		*len = l;
		*payload = h->data + pos + SHMQ_REC_HDR_SIZE;
		return (int64_t)shmq__rec_bytes(l);
	}
	return shmq__fail(ep);
}

/* ---- Byte-stream availability (ring_stream.c; readiness too) ---- */

/* Bytes readable in rx, refreshing if fewer than @want are known. */
static inline int64_t shmq__stream_avail(struct shmq_ep *ep, uint64_t want)
{
	struct shmq_half *h = &ep->rx;
	uint64_t avail;

	if (ep->broken)
		return -EPROTO;
	avail = h->peer - h->head;
	if (avail >= want && avail > 0)
		return (int64_t)avail;
	if (shmq__rx_refresh(ep))
		return -EPROTO;
	avail = h->peer - h->head;
	if (avail == 0) {
		int rc = shmq__rx_empty(ep);

		return rc == -EPIPE ? 0 : rc;
	}
	return (int64_t)avail;
}

/* fault.c: registers mapping @base (@len bytes, pages of @page) for
 * shmq_fault_contain(), which sets *@faulted. Return: a slot >= 0, or
 * -ENOMEM / -ENOSPC. */
int shmq__fault_register(void *base, size_t len, size_t page, atomic_int *faulted);
/* fault.c: forgets @slot (before the mapping goes); -1 is ignored. */
void shmq__fault_unregister(int slot);

#endif /* SHMQ_PRIVATE_H */
