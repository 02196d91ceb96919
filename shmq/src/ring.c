/* SPDX-License-Identifier: MIT */
/*
 * Ring pairs: formatting one in memory and attaching an endpoint to one
 * side of it (validating everything the shared header says), closing and
 * detaching. The modes are in ring_msg.c and ring_stream.c, readiness in
 * ring_poll.c, the core they share (publication, peer index refresh) in
 * shmq_private.h.
 *
 * Safety rule (shmq_private.h): a value read from shared memory is read
 * once into a local, checked, and only the local is used.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "shmq_private.h"

size_t shmq_pair_bytes(uint32_t capacity)
{
	if (capacity < SHMQ_RING_MIN || capacity > SHMQ_RING_MAX ||
	    (capacity & (capacity - 1)))
		return 0;
	return 2 * ((size_t)SHMQ_RING_HDR_SIZE + capacity);
}

static void ring_format(struct shmq_abi_ring *r, uint32_t capacity, uint32_t mode, int pool)
{
	memset(r, 0, sizeof(*r));
	r->magic = SHMQ_RING_MAGIC;
	r->major = pool ? SHMQ_ABI_POOL_MAJOR : SHMQ_ABI_MAJOR;
	r->minor = pool ? SHMQ_ABI_POOL_MINOR : SHMQ_ABI_MINOR;
	r->mode = mode;
	r->capacity = capacity;
	/* Half the ring keeps the PAD scheme live: an empty ring always takes
	 * a maximal record, wherever its index stands. */
	r->max_record = mode == SHMQ_ABI_MODE_MSG ? capacity / 2 - SHMQ_REC_HDR_SIZE : 0;
	r->data_off = SHMQ_RING_HDR_SIZE;
	atomic_store_explicit(&r->prod, 0, memory_order_relaxed);
	atomic_store_explicit(&r->cons, 0, memory_order_relaxed);
	atomic_store_explicit(&r->prod_closed, 0, memory_order_relaxed);
	atomic_store_explicit(&r->prod_waiting, 0, memory_order_relaxed);
	atomic_store_explicit(&r->cons_closed, 0, memory_order_relaxed);
	atomic_store_explicit(&r->cons_waiting, 0, memory_order_relaxed);
	atomic_store_explicit(&r->urg_ptr, 0, memory_order_relaxed);
	atomic_store_explicit(&r->urg_done, 0, memory_order_relaxed);
}

int shmq__pair_format(void *mem, size_t len, uint32_t capacity, enum shmq_mode mode, int pool)
{
	size_t need = shmq_pair_bytes(capacity);

	if (!mem || !need || len < need || ((uintptr_t)mem & (SHMQ_BLOCK - 1)) ||
	    (mode != SHMQ_MODE_MSG && mode != SHMQ_MODE_STREAM))
		return -EINVAL;
	ring_format(mem, capacity, (uint32_t)mode, pool);
	ring_format((void *)((uint8_t *)mem + need / 2), capacity, (uint32_t)mode, pool);
	/* Release: the configuration is complete before the memory is handed
	 * to the peer (the fd passing is the real synchronisation). */
	atomic_thread_fence(memory_order_release);
	return 0;
}

int shmq_pair_format(void *mem, size_t len, uint32_t capacity, enum shmq_mode mode)
{
	return shmq__pair_format(mem, len, capacity, mode, 0);
}

/* Validate the ring at @off of a @len-byte pair and fill @h (indices not yet).
 * The config block is copied first so each field is read exactly once. */
static int half_attach(struct shmq_half *h, uint8_t *mem, size_t len, size_t off,
		       uint32_t *mode, uint16_t *major)
{
	struct shmq_abi_ring *r = (struct shmq_abi_ring *)(mem + off);
	struct shmq_abi_ring cfg;

	if (len - off < SHMQ_RING_HDR_SIZE)
		return -EPROTO;
	memcpy(&cfg, r, offsetof(struct shmq_abi_ring, prod));
	if (cfg.magic != SHMQ_RING_MAGIC ||
	    (cfg.major != SHMQ_ABI_MAJOR && cfg.major != SHMQ_ABI_POOL_MAJOR) ||
	    (cfg.mode != SHMQ_ABI_MODE_MSG && cfg.mode != SHMQ_ABI_MODE_STREAM) ||
	    cfg.capacity < SHMQ_RING_MIN || cfg.capacity > SHMQ_RING_MAX ||
	    (cfg.capacity & (cfg.capacity - 1)) || cfg.data_off != SHMQ_RING_HDR_SIZE ||
	    len - off - SHMQ_RING_HDR_SIZE < cfg.capacity)
		return -EPROTO;
	if (cfg.mode == SHMQ_ABI_MODE_MSG &&
	    (cfg.max_record > cfg.capacity / 2 - SHMQ_REC_HDR_SIZE))
		return -EPROTO;
	h->hdr = r;
	h->data = mem + off + SHMQ_RING_HDR_SIZE;
	h->cap = cfg.capacity;
	h->mask = cfg.capacity - 1u;
	h->max_rec = cfg.max_record;
	/* 2.0 stream rings move; the slot's own area stays their smallest. */
	h->grow = cfg.major == SHMQ_ABI_POOL_MAJOR && cfg.mode == SHMQ_ABI_MODE_STREAM;
	h->inl = h->pdata = h->data;
	h->inl_cap = h->pcap = h->cap;
	if (h->grow)
		h->cur_w = h->prev_w = SHMQ_AREA(SHMQ_AREA_INLINE, cfg.capacity);
	*mode = cfg.mode;
	*major = cfg.major;
	return 0;
}

/* What a ring @h may hold unread from consumer index @lo: its area, and
 * for a moved ring the indices below `at` in the previous one. */
static uint64_t half_room(const struct shmq_half *h, uint64_t lo)
{
	return h->cap + ((int64_t)(h->at - lo) > 0 ? h->at - lo : 0);
}

/* Takes all four indices of @ep from shared memory: our own too, which
 * another endpoint of this side (another process after fork, an earlier
 * attach) may have moved. Read once and validated like anything else;
 * nothing is changed unless all four are consistent. Return: 0 or -EPROTO. */
static int ep_indices(struct shmq_ep *ep)
{
	uint64_t th = atomic_load_explicit(&ep->tx.hdr->prod, memory_order_acquire);
	uint64_t tp = atomic_load_explicit(&ep->tx.hdr->cons, memory_order_acquire);
	uint64_t rh = atomic_load_explicit(&ep->rx.hdr->cons, memory_order_acquire);
	uint64_t rp = atomic_load_explicit(&ep->rx.hdr->prod, memory_order_acquire);
	struct shmq_half tx = ep->tx, rx = ep->rx;

	/* `at` (the start of the current area) is compared with the indices
	 * by distance: a ring that never moves has it at its consumer index
	 * of attach time, behind everything. */
	tx.at = tp;
	rx.at = rh;
	/* The areas of a moved ring, read after the indices (rx: a `prod`
	 * past a move comes with the move, as in shmq__rx_refresh()). */
	if (shmq__half_load(ep, &tx, tp, th, 1) || shmq__half_load(ep, &rx, rh, rp, 0))
		return -EPROTO;
	if (th - tp > half_room(&tx, tp) || rp - rh > half_room(&rx, rh) ||
	    (ep->mode == SHMQ_ABI_MODE_MSG && ((th | rh | rp) & (SHMQ_REC_ALIGN - 1))))
		return -EPROTO;
	ep->tx = tx;
	ep->rx = rx;
	ep->tx.head = ep->tx.published = th;
	ep->tx.peer = tp;
	ep->rx.head = ep->rx.published = rh;
	ep->rx.peer = rp;
	ep->tx.resv = ep->tx.resv_rec = ep->rx.resv = ep->rx.resv_rec = 0;
	return 0;
}

struct shmq_ep *shmq__ep_open(void *mem, size_t len, unsigned side, const struct shmq_pool *pl)
{
	struct shmq_half r0, r1;
	uint32_t m0, m1;
	uint16_t j0, j1;
	struct shmq_ep *ep;

	if (!mem || side > 1 || ((uintptr_t)mem & 7u) || len < SHMQ_RING_HDR_SIZE) {
		errno = EINVAL;
		return NULL;
	}
	memset(&r0, 0, sizeof(r0));
	memset(&r1, 0, sizeof(r1));
	if (half_attach(&r0, mem, len, 0, &m0, &j0) ||
	    half_attach(&r1, mem, len, SHMQ_RING_HDR_SIZE + r0.cap, &m1, &j1) || m0 != m1 ||
	    j0 != j1) {
		errno = EPROTO;
		return NULL;
	}
	r1.owner = 1;
	ep = calloc(1, sizeof(*ep));
	if (!ep)
		return NULL;
	if (pl)
		ep->pool = *pl;
	ep->tx = side == 0 ? r0 : r1;
	ep->rx = side == 0 ? r1 : r0;
	ep->mode = m0;
	ep->self_efd = ep->peer_efd = ep->live_fd = -1;
	ep->spin_ns = 50000;
	if (ep_indices(ep)) {
		free(ep);
		errno = EPROTO;
		return NULL;
	}
	return ep;
}

struct shmq_ep *shmq_ep_open(void *mem, size_t len, unsigned side)
{
	return shmq__ep_open(mem, len, side, NULL);
}

int shmq_ep_resync(struct shmq_ep *ep)
{
	if (ep_indices(ep)) {
		ep->broken = 1;
		return -EPROTO;
	}
	return 0;
}

/* Ends both directions for the peer: @how (SHMQ_ABI_CLOSED_*) our
 * producer flag, which a normal close never lowers from a reset. */
static void ep_end(struct shmq_ep *ep, uint32_t how)
{
	uint32_t was = SHMQ_ABI_CLOSED_NONE;

	/* Release (both): pairs with the acquire load in shmq__rx_empty() of
	 * the peer. A shutdown's SHUT may be there already: a reset still
	 * replaces it. */
	if (how == SHMQ_ABI_CLOSED_RESET)
		atomic_store_explicit(&ep->tx.hdr->prod_closed, how, memory_order_release);
	else
		atomic_compare_exchange_strong_explicit(&ep->tx.hdr->prod_closed, &was, how,
							memory_order_release, memory_order_relaxed);
	atomic_store_explicit(&ep->rx.hdr->cons_closed, 1, memory_order_release);
	/* Wake the peer only if it sleeps on either ring (it sets its flag
	 * before its last look, and the fence in shmq__kick orders our
	 * stores before our look at the flags): a close is then no system
	 * call when the peer is busy or gone. */
	if (ep->peer_efd >= 0) {
		shmq__kick(ep, &ep->tx.hdr->cons_waiting);
		shmq__kick(ep, &ep->rx.hdr->prod_waiting);
	}
}

void shmq_ep_close(struct shmq_ep *ep)
{
	if (!ep)
		return;
	shmq__tx_release(ep);
	ep_end(ep, SHMQ_ABI_CLOSED_SHUT);
	free(ep);
}

void shmq_ep_abort(struct shmq_ep *ep)
{
	if (!ep)
		return;
	shmq__tx_release(ep);
	ep_end(ep, SHMQ_ABI_CLOSED_RESET);
	free(ep);
}

int shmq_peer_flags(struct shmq_ep *ep)
{
	/* Acquire: pairs with the release stores in ep_end()/shmq_shutdown()
	 * of the peer. Untrusted: any value but RESET reads as a plain close. */
	uint32_t pc = atomic_load_explicit(&ep->rx.hdr->prod_closed, memory_order_acquire);
	int f = 0;

	if (pc != SHMQ_ABI_CLOSED_NONE)
		f |= SHMQ_PF_SHUT;
	if (pc == SHMQ_ABI_CLOSED_RESET)
		f |= SHMQ_PF_RESET;
	if (atomic_load_explicit(&ep->tx.hdr->cons_closed, memory_order_acquire))
		f |= SHMQ_PF_GONE;
	return f;
}

void shmq_ep_detach(struct shmq_ep *ep)
{
	free(ep);
}

enum shmq_mode shmq_ep_mode(const struct shmq_ep *ep)
{
	return (enum shmq_mode)ep->mode;
}

size_t shmq_ep_capacity(const struct shmq_ep *ep)
{
	return (size_t)ep->tx.cap;
}

size_t shmq_ep_max_msg(const struct shmq_ep *ep)
{
	return (size_t)ep->tx.max_rec;
}

int shmq_ep_broken(const struct shmq_ep *ep)
{
	return ep->broken;
}
