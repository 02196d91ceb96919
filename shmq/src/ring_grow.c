/* SPDX-License-Identifier: MIT */
/*
 * Growable stream rings (layout 2.0, docs/shmq.md "Growable rings"): a
 * ring of a pool region starts in the small data area of its slot and its
 * producer moves it to a bigger area of its own half of the region's chunk
 * pool when writes keep finding it full, and back to a smaller one (or the
 * slot) when it stays nearly empty. A move is a descriptor in the
 * producer's block: from index `mv_at` on the data is in `mv_cur`, below it
 * in `mv_prev`. The consumer drains the old area up to `mv_at` and goes on
 * in the new one; the producer frees the old area once the consumer's
 * index has passed `mv_at`. At most one move is pending at a time.
 *
 * Safety rule (shmq_private.h): everything read from shared memory is read
 * once into locals and checked; an area is only ever used after it was
 * resolved against our private copy of the pool geometry, and always inside
 * the producer's half of the pool.
 */
#include <errno.h>
#include <string.h>

#include "shmq_private.h"

/* A run of @n chunks (a power of two <= 64, aligned to @n) starting at
 * chunk @ch of a side: its bits in that side's map word ch / 64. */
static uint64_t run_bits(uint32_t ch, uint64_t n)
{
	return (n >= 64 ? ~UINT64_C(0) : (UINT64_C(1) << n) - 1) << (ch % 64);
}

/* Resolve area word @w of ring @h: its data and capacity, or -EPROTO. */
static int area(const struct shmq_pool *pl, const struct shmq_half *h, uint64_t w,
		uint8_t **data, uint64_t *cap)
{
	uint32_t ch = SHMQ_AREA_CHUNK(w);
	uint64_t c = SHMQ_AREA_CAP(w), n;

	if (ch == SHMQ_AREA_INLINE) {
		if (c != h->inl_cap)
			return -EPROTO;
		*data = h->inl;
		*cap = c;
		return 0;
	}
	if (!pl->base || c < pl->chunk || c > pl->grow_max || (c & (c - 1)))
		return -EPROTO;
	n = c / pl->chunk;
	if (ch % n || ch >= pl->n_side || n > pl->n_side - ch)
		return -EPROTO;
	*data = pl->base + ((uint64_t)h->owner * pl->n_side + ch) * pl->chunk;
	*cap = c;
	return 0;
}

/* Takes @cap bytes of side @owner's chunks: the first free aligned run.
 * Each position is tried once (a lost race moves on), so a map another
 * process keeps changing cannot make this loop. Return: 0 or -ENOSPC. */
static int pool_take(const struct shmq_pool *pl, unsigned owner, uint64_t cap, uint32_t *chunk)
{
	uint64_t n = cap / pl->chunk;

	for (uint32_t ch = 0; n && ch + n <= pl->n_side; ch += (uint32_t)n) {
		_Atomic uint64_t *w = &pl->map[owner][ch / 64];
		uint64_t m = run_bits(ch, n);
		uint64_t v = atomic_load_explicit(w, memory_order_relaxed);

		if (v & m)
			continue;
		/* Acquire: pairs with the release in pool_put() of whoever
		 * had these chunks: its consumer's reads of them are done. */
		if (atomic_compare_exchange_strong_explicit(w, &v, v | m, memory_order_acq_rel,
							    memory_order_relaxed)) {
			*chunk = ch;
			return 0;
		}
	}
	return -ENOSPC;
}

/* Gives back pool area @w of a ring of side @owner (inline: nothing). */
static void pool_put(const struct shmq_pool *pl, const struct shmq_half *h, uint64_t w)
{
	uint8_t *d;
	uint64_t c;

	if (SHMQ_AREA_CHUNK(w) == SHMQ_AREA_INLINE || area(pl, h, w, &d, &c))
		return;
	/* Release: pairs with the acquire CAS in pool_take(). */
	atomic_fetch_and_explicit(&pl->map[h->owner][SHMQ_AREA_CHUNK(w) / 64],
				  ~run_bits(SHMQ_AREA_CHUNK(w), c / pl->chunk), memory_order_release);
}

void shmq__tx_reclaim(struct shmq_ep *ep)
{
	struct shmq_half *h = &ep->tx;

	pool_put(&ep->pool, h, h->prev_w);
	h->prev_w = h->cur_w;
	h->pdata = h->data;
	h->pcap = h->cap;
	/* Read again only by another endpoint of our side (attach, resync):
	 * a consumer that takes this move later is past `at` already. */
	atomic_store_explicit(&h->hdr->mv_prev, h->cur_w, memory_order_relaxed);
}

/* Moves tx on to area @w at its current index. Nothing may be pending. */
static void move(struct shmq_ep *ep, uint64_t w)
{
	struct shmq_half *h = &ep->tx;
	uint8_t *d;
	uint64_t c;

	if (area(&ep->pool, h, w, &d, &c))
		return;
	if (h->published != h->head)
		shmq__tx_publish(ep);
	h->prev_w = h->cur_w;
	h->pdata = h->data;
	h->pcap = h->cap;
	h->cur_w = w;
	h->data = d;
	h->cap = c;
	h->mask = c - 1;
	h->at = h->head;
	atomic_store_explicit(&h->hdr->mv_prev, h->prev_w, memory_order_relaxed);
	atomic_store_explicit(&h->hdr->mv_cur, h->cur_w, memory_order_relaxed);
	atomic_store_explicit(&h->hdr->mv_at, h->at, memory_order_relaxed);
	/* Release: pairs with the acquire load of `mv_seq` in
	 * shmq__rx_refresh() of the consumer; it comes before every `prod`
	 * store past `at`, so a consumer that sees such a `prod` sees this. */
	atomic_store_explicit(&h->hdr->mv_seq, ++h->seq, memory_order_release);
	h->full_hits = 0;
	h->win = 0;
	/* A drained ring: the consumer will not touch the old area again. */
	if (h->peer == h->at)
		shmq__tx_reclaim(ep);
}

/* Moves tx to an area of @cap bytes: the slot's own when that is as big,
 * else pool chunks. Return: 0 or -ENOSPC. */
static int move_to(struct shmq_ep *ep, uint64_t cap)
{
	struct shmq_half *h = &ep->tx;
	uint32_t ch;

	if (cap <= h->inl_cap || cap < ep->pool.chunk) {
		move(ep, SHMQ_AREA(SHMQ_AREA_INLINE, h->inl_cap));
		return 0;
	}
	if (pool_take(&ep->pool, h->owner, cap, &ch))
		return -ENOSPC;
	move(ep, SHMQ_AREA(ch, cap));
	return 0;
}

void shmq__tx_full(struct shmq_ep *ep, uint64_t want)
{
	struct shmq_half *h = &ep->tx;
	const struct shmq_pool *pl = &ep->pool;
	uint64_t target;

	if (!h->grow || !pl->base || ++h->full_hits < 2 || h->prev_w != h->cur_w)
		return;
	target = h->cap * 2 > pl->chunk ? h->cap * 2 : pl->chunk;
	while (target < want && target < pl->grow_max)
		target *= 2;
	if (target > pl->grow_max)
		target = pl->grow_max;
	/* The biggest that fits, down to twice what we have. */
	for (; target > h->cap && target >= pl->chunk; target /= 2)
		if (move_to(ep, target) == 0)
			return;
	h->full_hits = 0;  /* the pool is short: try again after two more */
}

void shmq__tx_look(struct shmq_ep *ep)
{
	struct shmq_half *h = &ep->tx;
	uint32_t hits;

	/* A move pending: the old area goes back once the consumer left it. */
	if (h->prev_w != h->cur_w && (shmq__tx_refresh(ep) || h->win < 8 * h->cap))
		return;
	hits = h->full_hits;
	h->win = 0;
	h->full_hits = 0;
	/* Never full over eight capacities' worth of writes and nearly empty
	 * now: half the size will do (full again: it grows back). */
	if (hits || SHMQ_AREA_CHUNK(h->cur_w) == SHMQ_AREA_INLINE || h->prev_w != h->cur_w ||
	    h->resv_rec || shmq__tx_refresh(ep) || h->cap - shmq__tx_free(h) > h->cap / 8)
		return;
	(void)move_to(ep, h->cap / 2);
}

int shmq_ep_trim(struct shmq_ep *ep)
{
	struct shmq_half *h = &ep->tx;

	if (ep->broken)
		return -EPROTO;
	if (!h->grow)
		return 0;
	if (shmq__tx_refresh(ep))
		return -EPROTO;
	if (SHMQ_AREA_CHUNK(h->cur_w) != SHMQ_AREA_INLINE && h->prev_w == h->cur_w &&
	    !h->resv_rec)
		move(ep, SHMQ_AREA(SHMQ_AREA_INLINE, h->inl_cap));
	return SHMQ_AREA_CHUNK(h->cur_w) == SHMQ_AREA_INLINE && h->prev_w == h->cur_w ? 0 : -EAGAIN;
}

size_t shmq_ep_rx_capacity(const struct shmq_ep *ep)
{
	return (size_t)ep->rx.cap;
}

int shmq__rx_follow(struct shmq_ep *ep, uint32_t s)
{
	struct shmq_half *h = &ep->rx;
	uint64_t at = atomic_load_explicit(&h->hdr->mv_at, memory_order_relaxed);
	uint64_t pw = atomic_load_explicit(&h->hdr->mv_prev, memory_order_relaxed);
	uint64_t cw = atomic_load_explicit(&h->hdr->mv_cur, memory_order_relaxed);
	uint8_t *pd, *cd;
	uint64_t pc, cc;

	/* An honest producer moves again only once we consumed up to the
	 * last `at`; the new one is at or past everything it published
	 * before (all we know of), and the old area holds what is unread
	 * below it. */
	if ((int64_t)(h->at - h->head) > 0 || (int64_t)(at - h->peer) < 0 ||
	    area(&ep->pool, h, pw, &pd, &pc) || area(&ep->pool, h, cw, &cd, &cc) ||
	    at - h->head > pc)
		return shmq__fail(ep);
	h->pdata = pd;
	h->pcap = pc;
	h->data = cd;
	h->cap = cc;
	h->mask = cc - 1;
	h->at = at;
	h->prev_w = pw;
	h->cur_w = cw;
	h->seq = s;
	return 0;
}

int shmq__half_load(const struct shmq_ep *ep, struct shmq_half *h, uint64_t lo, uint64_t hi,
		    int tx)
{
	uint32_t s;
	uint64_t at, pw, cw, pc, cc;
	uint8_t *pd, *cd;

	if (!h->grow)
		return 0;
	/* Acquire: pairs with the release store of `mv_seq` in move(). */
	s = atomic_load_explicit(&h->hdr->mv_seq, memory_order_acquire);
	at = atomic_load_explicit(&h->hdr->mv_at, memory_order_relaxed);
	pw = atomic_load_explicit(&h->hdr->mv_prev, memory_order_relaxed);
	cw = atomic_load_explicit(&h->hdr->mv_cur, memory_order_relaxed);
	if (s == 0) {  /* never moved: the slot's own area */
		at = lo;
		pw = cw = SHMQ_AREA(SHMQ_AREA_INLINE, h->inl_cap);
	}
	if (area(&ep->pool, h, pw, &pd, &pc) || area(&ep->pool, h, cw, &cd, &cc) ||
	    ((int64_t)(at - lo) > 0 && at - lo > pc) || (tx && (int64_t)(hi - at) < 0))
		return -EPROTO;
	h->pdata = pd;
	h->pcap = pc;
	h->data = cd;
	h->cap = cc;
	h->mask = cc - 1;
	h->at = at;
	h->prev_w = pw;
	h->cur_w = cw;
	h->seq = s;
	h->full_hits = 0;
	h->win = 0;
	return 0;
}

void shmq__tx_release(struct shmq_ep *ep)
{
	struct shmq_half *h = &ep->tx;

	if (!h->grow || ep->broken || shmq__tx_refresh(ep))
		return;
	/* Acquire: pairs with the release store of `cons_closed` in the
	 * consumer's close: it reads no more. Or it read everything. */
	if (h->peer != h->head &&
	    !atomic_load_explicit(&h->hdr->cons_closed, memory_order_acquire))
		return;  /* left for the slot's re-initialisation */
	if (h->prev_w != h->cur_w)
		pool_put(&ep->pool, h, h->prev_w);
	if (SHMQ_AREA_CHUNK(h->cur_w) == SHMQ_AREA_INLINE)
		return;
	pool_put(&ep->pool, h, h->cur_w);
	/* The descriptor names only what the ring still holds, so that a
	 * re-initialisation of the slot frees nothing twice. */
	h->cur_w = h->prev_w = SHMQ_AREA(SHMQ_AREA_INLINE, h->inl_cap);
	h->data = h->pdata = h->inl;
	h->cap = h->pcap = h->inl_cap;
	h->mask = h->cap - 1;
	h->at = h->head;
	atomic_store_explicit(&h->hdr->mv_prev, h->prev_w, memory_order_relaxed);
	atomic_store_explicit(&h->hdr->mv_cur, h->cur_w, memory_order_relaxed);
	atomic_store_explicit(&h->hdr->mv_at, h->at, memory_order_relaxed);
	/* Release: as in move(). */
	atomic_store_explicit(&h->hdr->mv_seq, ++h->seq, memory_order_release);
}

void shmq__ring_reclaim(const struct shmq_pool *pl, unsigned owner, struct shmq_abi_ring *ring)
{
	struct shmq_half h;
	uint64_t pw, cw;
	uint32_t cap;

	memset(&h, 0, sizeof(h));
	if (!pl->base || ring->magic != SHMQ_RING_MAGIC || ring->major != SHMQ_ABI_POOL_MAJOR ||
	    ring->mode != SHMQ_ABI_MODE_STREAM ||
	    atomic_load_explicit(&ring->mv_seq, memory_order_acquire) == 0)
		return;
	cap = ring->capacity;
	h.owner = owner;
	h.inl_cap = cap;
	pw = atomic_load_explicit(&ring->mv_prev, memory_order_relaxed);
	cw = atomic_load_explicit(&ring->mv_cur, memory_order_relaxed);
	if (pw != cw)
		pool_put(pl, &h, pw);
	pool_put(pl, &h, cw);
}
