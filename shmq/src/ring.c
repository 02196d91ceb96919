/* SPDX-License-Identifier: MIT */
/*
 * Ring pairs: attach, message mode, byte-stream mode, zero copy.
 *
 * Safety rule for everything below: a value read from shared memory is read
 * once into a local, checked, and only the local is used. The only shared
 * values ever read after attach are the peer's index, the peer's flags and
 * (MSG mode) record headers; the only shared values ever written are our own
 * index and our own flags (and the data we produce).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "shmq_private.h"

#define ALIGN8(x) (((x) + 7u) & ~(uint64_t)7u)

static int fail(struct shmq_ep *ep)
{
	ep->broken = 1;
	return -EPROTO;
}

/* ---- Publication --------------------------------------------------------- */

static void tx_publish(struct shmq_ep *ep)
{
	struct shmq_half *h = &ep->tx;

	/* Release: pairs with the acquire load of `prod` in rx_refresh() of the
	 * peer, so the records and data written before are visible to it. */
	atomic_store_explicit(&h->hdr->prod, h->head, memory_order_release);
	h->published = h->head;
	if (ep->peer_efd >= 0)
		shmq__kick(ep, &h->hdr->cons_waiting);
}

static void rx_publish(struct shmq_ep *ep)
{
	struct shmq_half *h = &ep->rx;

	/* Release: pairs with the acquire load of `cons` in tx_refresh() of the
	 * peer: our reads of the data happen before it may overwrite it. */
	atomic_store_explicit(&h->hdr->cons, h->head, memory_order_release);
	h->published = h->head;
	if (ep->peer_efd >= 0)
		shmq__kick(ep, &h->hdr->prod_waiting);
}

/* ---- Peer index refresh and validation ----------------------------------- */

/* Re-read the consumer's index of our tx ring. It may only move forward and
 * never past what we published. */
static int tx_refresh(struct shmq_ep *ep)
{
	struct shmq_half *h = &ep->tx;
	/* Acquire: pairs with the release store of `cons` in rx_publish() of the
	 * peer: its reads of the freed space are done. */
	uint64_t c = atomic_load_explicit(&h->hdr->cons, memory_order_acquire);

	if (c - h->peer > h->published - h->peer)
		return fail(ep);
	h->peer = c;
	return 0;
}

/* Re-read the producer's index of our rx ring. It may only move forward and
 * never more than `cap` ahead of what we consumed. */
static int rx_refresh(struct shmq_ep *ep)
{
	struct shmq_half *h = &ep->rx;
	/* Acquire: pairs with the release store of `prod` in tx_publish() of the
	 * peer: the data up to `p` is written. */
	uint64_t p = atomic_load_explicit(&h->hdr->prod, memory_order_acquire);

	if (p - h->peer > h->cap - (h->peer - h->head))
		return fail(ep);
	if (ep->mode == SHMQ_ABI_MODE_MSG && (p & (SHMQ_REC_ALIGN - 1)))
		return fail(ep);
	h->peer = p;
	return 0;
}

/* Nothing to read: end-of-stream if the producer shut down, else -EAGAIN. */
static int rx_empty(struct shmq_ep *ep)
{
	struct shmq_half *h = &ep->rx;

	/* Acquire: pairs with the release store of `prod_closed` in
	 * shmq_shutdown()/shmq_ep_close() of the peer, which come after its last
	 * `prod` store; so re-reading `prod` afterwards sees all the data. */
	if (!atomic_load_explicit(&h->hdr->prod_closed, memory_order_acquire))
		return -EAGAIN;
	if (rx_refresh(ep))
		return -EPROTO;
	return h->peer == h->head ? -EPIPE : -EAGAIN;
}

/* Free bytes in tx, refreshing the peer index only if @need is not there. */
static int tx_space(struct shmq_ep *ep, uint64_t need, uint64_t *free)
{
	struct shmq_half *h = &ep->tx;

	if (ep->broken)
		return -EPROTO;
	if (ep->shut)
		return -EPIPE;
	*free = h->cap - (h->head - h->peer);
	if (*free >= need)
		return 0;
	if (tx_refresh(ep))
		return -EPROTO;
	if (atomic_load_explicit(&h->hdr->cons_closed, memory_order_relaxed))
		return -EPIPE;
	*free = h->cap - (h->head - h->peer);
	return 0;
}

/* ---- Message mode ------------------------------------------------------- */

static uint64_t rec_bytes(uint64_t len)
{
	return SHMQ_REC_HDR_SIZE + ALIGN8(len);
}

/* Make room for a record of @len payload bytes at `head` (writing a PAD
 * record to the end of the area if it would not fit contiguously). On
 * success, returns the record header; `head` points at it. */
static int msg_reserve(struct shmq_ep *ep, uint64_t len, struct shmq_abi_rec **rec)
{
	struct shmq_half *h = &ep->tx;
	uint64_t pos, tail, need, free;
	int rc;

	if (len > h->max_rec)
		return -EMSGSIZE;
	pos = h->head & h->mask;
	tail = h->cap - pos;
	need = rec_bytes(len) <= tail ? rec_bytes(len) : tail + rec_bytes(len);
	rc = tx_space(ep, need, &free);
	if (rc)
		return rc;
	if (free < need)
		return -EAGAIN;
	if (rec_bytes(len) > tail) {
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

static void msg_finish(struct shmq_ep *ep, struct shmq_abi_rec *rec, uint64_t len)
{
	atomic_store_explicit(&rec->len, (uint32_t)len, memory_order_relaxed);
	atomic_store_explicit(&rec->kind, SHMQ_REC_DATA, memory_order_relaxed);
	ep->tx.head += rec_bytes(len);
}

/* Find the next DATA record at rx `head`, skipping (and releasing) a PAD.
 * Returns its ring size and sets *len / *payload; every field is checked
 * against what the producer published and against our private bounds. */
static int64_t msg_next(struct shmq_ep *ep, uint64_t *len, const uint8_t **payload)
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
			if (rx_refresh(ep))
				return -EPROTO;
			avail = h->peer - h->head;
			if (avail == 0)
				return rx_empty(ep);
			if (avail < SHMQ_REC_HDR_SIZE)
				return fail(ep);
		}
		rec = (const struct shmq_abi_rec *)(h->data + pos);
		kind = atomic_load_explicit(&rec->kind, memory_order_relaxed);
		l = atomic_load_explicit(&rec->len, memory_order_relaxed);
		if (kind == SHMQ_REC_PAD) {
			if (pos == 0 || h->cap - pos > avail)
				return fail(ep);
			h->head += h->cap - pos;
			rx_publish(ep);
			continue;
		}
		if (kind != SHMQ_REC_DATA || l > h->max_rec ||
		    rec_bytes(l) > avail || pos + rec_bytes(l) > h->cap)
			return fail(ep);
		*len = l;
		*payload = h->data + pos + SHMQ_REC_HDR_SIZE;
		return (int64_t)rec_bytes(l);
	}
	return fail(ep);
}

int shmq_send(struct shmq_ep *ep, const void *buf, size_t len)
{
	struct shmq_abi_rec *rec;
	int rc;

	ep->tx.resv_rec = 0; /* any other call ends a zero-copy window */

	if (ep->mode != SHMQ_ABI_MODE_MSG)
		return -EINVAL;
	rc = msg_reserve(ep, len, &rec);
	if (rc)
		return rc;
	memcpy(rec + 1, buf, len);
	msg_finish(ep, rec, len);
	tx_publish(ep);
	return 0;
}

/* The burst calls are the fast path: same checks as msg_reserve() and
 * msg_next(), with the running index and free/available counts kept in
 * locals and one publication per burst. */
int shmq_send_burst(struct shmq_ep *ep, const struct iovec *msgs, unsigned n)
{
	struct shmq_half *h = &ep->tx;
	uint64_t head = h->head, free;
	unsigned i;
	int rc = 0;

	if (ep->mode != SHMQ_ABI_MODE_MSG)
		return -EINVAL;
	h->resv_rec = 0; /* any other call ends a zero-copy window */
	rc = tx_space(ep, 0, &free);
	if (rc)
		return rc;
	for (i = 0; i < n; i++) {
		uint64_t len = msgs[i].iov_len, rb = rec_bytes(len);
		uint64_t pos = head & h->mask, tail = h->cap - pos;
		uint64_t need = rb <= tail ? rb : tail + rb;
		struct shmq_abi_rec *rec;

		if (len > h->max_rec) {
			rc = -EMSGSIZE;
			break;
		}
		if (need > free) {
			h->head = head;
			rc = tx_space(ep, need, &free);
			if (rc)
				break;
			if (need > free) {
				rc = -EAGAIN;
				break;
			}
		}
		if (rb > tail) {
			rec = (struct shmq_abi_rec *)(h->data + pos);
			atomic_store_explicit(&rec->len, (uint32_t)(tail - SHMQ_REC_HDR_SIZE),
					      memory_order_relaxed);
			atomic_store_explicit(&rec->kind, SHMQ_REC_PAD, memory_order_relaxed);
			head += tail;
			free -= tail;
			pos = 0;
		}
		rec = (struct shmq_abi_rec *)(h->data + pos);
		memcpy(rec + 1, msgs[i].iov_base, len);
		atomic_store_explicit(&rec->len, (uint32_t)len, memory_order_relaxed);
		atomic_store_explicit(&rec->kind, SHMQ_REC_DATA, memory_order_relaxed);
		head += rb;
		free -= rb;
	}
	h->head = head;
	if (i == 0)
		return n == 0 ? 0 : rc;
	tx_publish(ep);
	return (int)i;
}

ssize_t shmq_recv(struct shmq_ep *ep, void *buf, size_t len, unsigned flags)
{
	const uint8_t *p;
	uint64_t l;
	int64_t rb;

	ep->rx.resv_rec = 0; /* any other call ends a zero-copy window */

	if (ep->mode != SHMQ_ABI_MODE_MSG)
		return -EINVAL;
	rb = msg_next(ep, &l, &p);
	if (rb < 0)
		return rb;
	if (l > len)
		l = len;
	memcpy(buf, p, l);
	if (!(flags & SHMQ_PEEK)) {
		ep->rx.head += (uint64_t)rb;
		rx_publish(ep);
	}
	return (ssize_t)l;
}

int shmq_recv_burst(struct shmq_ep *ep, struct iovec *msgs, unsigned n)
{
	struct shmq_half *h = &ep->rx;
	uint64_t head = h->head, avail = h->peer - head;
	unsigned i = 0, pads = 0;
	int rc = 0;

	if (ep->mode != SHMQ_ABI_MODE_MSG)
		return -EINVAL;
	h->resv_rec = 0; /* any other call ends a zero-copy window */
	if (ep->broken)
		return -EPROTO;
	while (i < n) {
		uint64_t pos = head & h->mask, l, rb;
		const struct shmq_abi_rec *rec;
		uint32_t kind;

		if (avail < SHMQ_REC_HDR_SIZE) {
			h->head = head;
			if (rx_refresh(ep)) {
				rc = -EPROTO;
				break;
			}
			avail = h->peer - head;
			if (avail == 0) {
				rc = rx_empty(ep);
				break;
			}
			if (avail < SHMQ_REC_HDR_SIZE) {
				rc = fail(ep);
				break;
			}
		}
		rec = (const struct shmq_abi_rec *)(h->data + pos);
		kind = atomic_load_explicit(&rec->kind, memory_order_relaxed);
		l = atomic_load_explicit(&rec->len, memory_order_relaxed);
		if (kind == SHMQ_REC_PAD) {
			/* A PAD only ever follows a record (or the start), and
			 * moves to position 0, where another PAD is invalid. */
			if (pos == 0 || h->cap - pos > avail || ++pads > i + 1) {
				rc = fail(ep);
				break;
			}
			head += h->cap - pos;
			avail -= h->cap - pos;
			continue;
		}
		rb = rec_bytes(l);
		if (kind != SHMQ_REC_DATA || l > h->max_rec || rb > avail || pos + rb > h->cap) {
			rc = fail(ep);
			break;
		}
		if (l > msgs[i].iov_len)
			l = msgs[i].iov_len;
		memcpy(msgs[i].iov_base, rec + 1, l);
		msgs[i].iov_len = l;
		head += rb;
		avail -= rb;
		i++;
	}
	h->head = head;
	if (head != h->published && !ep->broken)
		rx_publish(ep);
	if (i == 0)
		return n == 0 ? 0 : rc;
	return (int)i;
}

/* ---- Byte-stream mode --------------------------------------------------- */

ssize_t shmq_write(struct shmq_ep *ep, const void *buf, size_t len)
{
	struct shmq_half *h = &ep->tx;
	uint64_t free, n, pos, first;
	int rc;

	ep->tx.resv_rec = 0; /* any other call ends a zero-copy window */

	if (ep->mode != SHMQ_ABI_MODE_STREAM)
		return -EINVAL;
	rc = tx_space(ep, len ? len : 1, &free);
	if (rc)
		return rc;
	if (len == 0)
		return 0;
	n = len < free ? len : free;
	if (n == 0)
		return -EAGAIN;
	pos = h->head & h->mask;
	first = h->cap - pos < n ? h->cap - pos : n;
	memcpy(h->data + pos, buf, first);
	memcpy(h->data, (const uint8_t *)buf + first, n - first);
	h->head += n;
	tx_publish(ep);
	return (ssize_t)n;
}

/* Bytes readable in rx, refreshing if fewer than @want are known. */
static int64_t stream_avail(struct shmq_ep *ep, uint64_t want)
{
	struct shmq_half *h = &ep->rx;
	uint64_t avail;

	if (ep->broken)
		return -EPROTO;
	avail = h->peer - h->head;
	if (avail >= want && avail > 0)
		return (int64_t)avail;
	if (rx_refresh(ep))
		return -EPROTO;
	avail = h->peer - h->head;
	if (avail == 0) {
		int rc = rx_empty(ep);

		return rc == -EPIPE ? 0 : rc;
	}
	return (int64_t)avail;
}

ssize_t shmq_read(struct shmq_ep *ep, void *buf, size_t len, unsigned flags)
{
	struct shmq_half *h = &ep->rx;
	uint64_t n, pos, first;
	int64_t avail;

	ep->rx.resv_rec = 0; /* any other call ends a zero-copy window */

	if (ep->mode != SHMQ_ABI_MODE_STREAM)
		return -EINVAL;
	avail = stream_avail(ep, len ? len : 1);
	if (avail <= 0)
		return avail;
	n = len < (uint64_t)avail ? len : (uint64_t)avail;
	pos = h->head & h->mask;
	first = h->cap - pos < n ? h->cap - pos : n;
	memcpy(buf, h->data + pos, first);
	memcpy((uint8_t *)buf + first, h->data, n - first);
	if (!(flags & SHMQ_PEEK) && n) {
		h->head += n;
		rx_publish(ep);
	}
	return (ssize_t)n;
}

ssize_t shmq_readable(struct shmq_ep *ep)
{
	if (ep->mode == SHMQ_ABI_MODE_STREAM) {
		int64_t a = stream_avail(ep, UINT64_MAX);

		return a == 0 ? -EAGAIN : a;
	} else {
		const uint8_t *p;
		uint64_t l;
		int64_t rb = msg_next(ep, &l, &p);

		if (rb == -EPIPE)
			return -EAGAIN;
		return rb < 0 ? rb : (ssize_t)l;
	}
}

ssize_t shmq_writable(struct shmq_ep *ep)
{
	struct shmq_half *h = &ep->tx;
	uint64_t free, pos, tail, best;
	int rc;

	rc = tx_space(ep, h->cap, &free);
	if (rc)
		return rc;
	if (ep->mode == SHMQ_ABI_MODE_STREAM)
		return (ssize_t)free;
	pos = h->head & h->mask;
	tail = h->cap - pos;
	if (free >= tail) /* here, or after a PAD at the start */
		best = tail > free - tail ? tail : free - tail;
	else
		best = free;
	if (best < SHMQ_REC_HDR_SIZE)
		return -EAGAIN;
	best = (best - SHMQ_REC_HDR_SIZE) & ~(uint64_t)7;
	return (ssize_t)(best < h->max_rec ? best : h->max_rec);
}

/* ---- Zero copy ---------------------------------------------------------- */

ssize_t shmq_reserve(struct shmq_ep *ep, size_t len, void **ptr)
{
	struct shmq_half *h = &ep->tx;

	h->resv = 0;
	h->resv_rec = 0;
	if (ep->mode == SHMQ_ABI_MODE_MSG) {
		struct shmq_abi_rec *rec;
		int rc = msg_reserve(ep, len, &rec);

		if (rc)
			return rc;
		*ptr = rec + 1;
		h->resv = len;
		h->resv_rec = 1;
		return (ssize_t)len;
	} else {
		uint64_t free, pos, n;
		int rc = tx_space(ep, len ? len : 1, &free);

		if (rc)
			return rc;
		pos = h->head & h->mask;
		n = len < free ? len : free;
		if (n > h->cap - pos)
			n = h->cap - pos;
		if (n == 0)
			return len ? -EAGAIN : 0;
		*ptr = h->data + pos;
		h->resv = n;
		h->resv_rec = 1;
		return (ssize_t)n;
	}
}

int shmq_commit(struct shmq_ep *ep, size_t len)
{
	struct shmq_half *h = &ep->tx;

	if (ep->broken)
		return -EPROTO;
	if (!h->resv_rec || len > h->resv)
		return -EINVAL;
	if (ep->mode == SHMQ_ABI_MODE_MSG)
		msg_finish(ep, (struct shmq_abi_rec *)(h->data + (h->head & h->mask)), len);
	else
		h->head += len;
	h->resv = 0;
	h->resv_rec = 0;
	tx_publish(ep);
	return 0;
}

ssize_t shmq_peek(struct shmq_ep *ep, const void **ptr)
{
	struct shmq_half *h = &ep->rx;

	h->resv = 0;
	h->resv_rec = 0;
	if (ep->mode == SHMQ_ABI_MODE_MSG) {
		const uint8_t *p;
		uint64_t l;
		int64_t rb = msg_next(ep, &l, &p);

		if (rb < 0)
			return rb;
		*ptr = p;
		h->resv = l;
		h->resv_rec = (uint64_t)rb;
		return (ssize_t)l;
	} else {
		int64_t avail = stream_avail(ep, 1);
		uint64_t pos = h->head & h->mask, n;

		if (avail <= 0)
			return avail;
		n = (uint64_t)avail < h->cap - pos ? (uint64_t)avail : h->cap - pos;
		*ptr = h->data + pos;
		h->resv = n;
		return (ssize_t)n;
	}
}

int shmq_release(struct shmq_ep *ep, size_t len)
{
	struct shmq_half *h = &ep->rx;

	if (ep->mode == SHMQ_ABI_MODE_MSG) {
		if (h->resv_rec == 0)
			return -EINVAL;
		h->head += h->resv_rec;
	} else {
		if (len > h->resv)
			return -EINVAL;
		h->head += len;
	}
	h->resv = 0;
	h->resv_rec = 0;
	rx_publish(ep);
	return 0;
}

/* ---- Readiness ---------------------------------------------------------- */

int shmq_poll(struct shmq_ep *ep)
{
	int m = 0;
	uint64_t free;

	if (ep->broken)
		return SHMQ_POLLERR;
	if (ep->mode == SHMQ_ABI_MODE_MSG) {
		const uint8_t *p;
		uint64_t l;
		int64_t rb = msg_next(ep, &l, &p);

		if (rb >= 0)
			m |= SHMQ_POLLIN;
		else if (rb == -EPIPE)
			m |= SHMQ_POLLIN | SHMQ_POLLHUP;
	} else {
		int64_t a = stream_avail(ep, 1);

		if (a > 0)
			m |= SHMQ_POLLIN;
		else if (a == 0)
			m |= SHMQ_POLLIN | SHMQ_POLLHUP;
	}
	if (ep->broken)
		return SHMQ_POLLERR;
	if (!ep->shut) {
		/* MSG: the tail is never shorter than a record header, so an
		 * empty message needs exactly one header. */
		uint64_t need = ep->mode == SHMQ_ABI_MODE_MSG ? rec_bytes(0) : 1;
		int rc = tx_space(ep, need, &free);

		if (rc == -EPROTO)
			return SHMQ_POLLERR;
		if (rc == -EPIPE || free >= need)
			m |= SHMQ_POLLOUT;
	}
	return m;
}

int shmq_poll_rx(struct shmq_ep *ep, uint64_t *avail)
{
	int64_t a;

	*avail = 0;
	if (ep->broken)
		return SHMQ_POLLERR;
	if (ep->mode != SHMQ_ABI_MODE_STREAM) {
		ssize_t n = shmq_readable(ep);

		if (n > 0)
			*avail = (uint64_t)n;
		return shmq_poll(ep) & (SHMQ_POLLIN | SHMQ_POLLHUP | SHMQ_POLLERR);
	}
	/* UINT64_MAX: always re-read the producer's index, so that the count
	 * is current (an edge-triggered caller compares counts). */
	a = stream_avail(ep, UINT64_MAX);
	if (a > 0) {
		*avail = (uint64_t)a;
		return SHMQ_POLLIN;
	}
	if (a == 0)
		return SHMQ_POLLIN | SHMQ_POLLHUP;
	return a == -EAGAIN ? 0 : SHMQ_POLLERR;
}

int shmq__ready(struct shmq_ep *ep, int events)
{
	int m = shmq_poll(ep);
	int want = events | SHMQ_POLLERR;

	if (events & SHMQ_POLLIN)
		want |= SHMQ_POLLHUP;
	return m & want;
}

void shmq__set_waiting(struct shmq_ep *ep, int events, uint32_t v)
{
	if (events & SHMQ_POLLIN)
		atomic_store_explicit(&ep->rx.hdr->cons_waiting, v, memory_order_relaxed);
	if (events & SHMQ_POLLOUT)
		atomic_store_explicit(&ep->tx.hdr->prod_waiting, v, memory_order_relaxed);
}

int shmq_shutdown(struct shmq_ep *ep)
{
	if (!ep->shut) {
		ep->shut = 1;
		/* Release: pairs with the acquire load in rx_empty() of the peer;
		 * it orders our last `prod` store before the flag. */
		atomic_store_explicit(&ep->tx.hdr->prod_closed, 1, memory_order_release);
		shmq__wake(ep);
	}
	return 0;
}

/* ---- Attach ------------------------------------------------------------- */

size_t shmq_pair_bytes(uint32_t capacity)
{
	if (capacity < SHMQ_RING_MIN || capacity > SHMQ_RING_MAX ||
	    (capacity & (capacity - 1)))
		return 0;
	return 2 * ((size_t)SHMQ_RING_HDR_SIZE + capacity);
}

static void ring_format(struct shmq_abi_ring *r, uint32_t capacity, uint32_t mode)
{
	memset(r, 0, sizeof(*r));
	r->magic = SHMQ_RING_MAGIC;
	r->major = SHMQ_ABI_MAJOR;
	r->minor = SHMQ_ABI_MINOR;
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
}

int shmq_pair_format(void *mem, size_t len, uint32_t capacity, enum shmq_mode mode)
{
	size_t need = shmq_pair_bytes(capacity);

	if (!mem || !need || len < need || ((uintptr_t)mem & (SHMQ_BLOCK - 1)) ||
	    (mode != SHMQ_MODE_MSG && mode != SHMQ_MODE_STREAM))
		return -EINVAL;
	ring_format(mem, capacity, (uint32_t)mode);
	ring_format((void *)((uint8_t *)mem + need / 2), capacity, (uint32_t)mode);
	/* Release: the configuration is complete before the memory is handed
	 * to the peer (the fd passing is the real synchronisation). */
	atomic_thread_fence(memory_order_release);
	return 0;
}

/* Validate the ring at @off of a @len-byte pair and fill @h (indices not yet).
 * The config block is copied first so each field is read exactly once. */
static int half_attach(struct shmq_half *h, uint8_t *mem, size_t len, size_t off,
		       uint32_t *mode)
{
	struct shmq_abi_ring *r = (struct shmq_abi_ring *)(mem + off);
	struct shmq_abi_ring cfg;

	if (len - off < SHMQ_RING_HDR_SIZE)
		return -EPROTO;
	memcpy(&cfg, r, offsetof(struct shmq_abi_ring, prod));
	if (cfg.magic != SHMQ_RING_MAGIC || cfg.major != SHMQ_ABI_MAJOR ||
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
	*mode = cfg.mode;
	return 0;
}

struct shmq_ep *shmq_ep_open(void *mem, size_t len, unsigned side)
{
	struct shmq_half r0, r1;
	uint32_t m0, m1;
	struct shmq_ep *ep;

	if (!mem || side > 1 || ((uintptr_t)mem & 7u) || len < SHMQ_RING_HDR_SIZE) {
		errno = EINVAL;
		return NULL;
	}
	memset(&r0, 0, sizeof(r0));
	memset(&r1, 0, sizeof(r1));
	if (half_attach(&r0, mem, len, 0, &m0) ||
	    half_attach(&r1, mem, len, SHMQ_RING_HDR_SIZE + r0.cap, &m1) || m0 != m1) {
		errno = EPROTO;
		return NULL;
	}
	ep = calloc(1, sizeof(*ep));
	if (!ep)
		return NULL;
	ep->tx = side == 0 ? r0 : r1;
	ep->rx = side == 0 ? r1 : r0;
	ep->mode = m0;
	ep->self_efd = ep->peer_efd = ep->live_fd = -1;
	ep->spin_ns = 50000;
	/* Our own indices come from shared memory too (we may re-attach), so
	 * they are validated like anything else. */
	ep->tx.head = atomic_load_explicit(&ep->tx.hdr->prod, memory_order_acquire);
	ep->tx.peer = atomic_load_explicit(&ep->tx.hdr->cons, memory_order_acquire);
	ep->rx.head = atomic_load_explicit(&ep->rx.hdr->cons, memory_order_acquire);
	ep->rx.peer = atomic_load_explicit(&ep->rx.hdr->prod, memory_order_acquire);
	ep->tx.published = ep->tx.head;
	ep->rx.published = ep->rx.head;
	if (ep->tx.head - ep->tx.peer > ep->tx.cap || ep->rx.peer - ep->rx.head > ep->rx.cap ||
	    (m0 == SHMQ_ABI_MODE_MSG &&
	     ((ep->tx.head | ep->rx.head | ep->rx.peer) & (SHMQ_REC_ALIGN - 1)))) {
		free(ep);
		errno = EPROTO;
		return NULL;
	}
	return ep;
}

void shmq_ep_close(struct shmq_ep *ep)
{
	if (!ep)
		return;
	/* Release: pairs with the acquire load in rx_empty() of the peer. */
	atomic_store_explicit(&ep->tx.hdr->prod_closed, 1, memory_order_release);
	atomic_store_explicit(&ep->rx.hdr->cons_closed, 1, memory_order_release);
	/* Wake the peer only if it sleeps on either ring (it sets its flag
	 * before its last look, and the fence in shmq__kick orders our
	 * stores before our look at the flags): a close is then no system
	 * call when the peer is busy or gone. */
	if (ep->peer_efd >= 0) {
		shmq__kick(ep, &ep->tx.hdr->cons_waiting);
		shmq__kick(ep, &ep->rx.hdr->prod_waiting);
	}
	free(ep);
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
