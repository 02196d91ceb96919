/* SPDX-License-Identifier: MIT */
/*
 * Ring pairs in byte-stream mode (SHMQ_MODE_STREAM): write, read, what is
 * readable and writable; and zero copy in either mode: reserve/commit on
 * the producer side, peek/release on the consumer side.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "shmq_private.h"

ssize_t shmq_write(struct shmq_ep *ep, const void *buf, size_t len)
{
	struct shmq_half *h = &ep->tx;
	uint64_t free, n, pos, first;
	int rc;

	ep->tx.resv_rec = 0; /* any other call ends a zero-copy window */

	if (ep->mode != SHMQ_ABI_MODE_STREAM)
		return -EINVAL;
	rc = shmq__tx_space(ep, len ? len : 1, &free);
	if (rc)
		return rc;
	if (len == 0)
		return 0;
	if (free < len && h->grow) {
		/* A growable ring may move to a bigger area here (the data
		 * goes on there from `head`). */
		shmq__tx_full(ep, len + (h->cap - free));
		free = shmq__tx_free(h);
	}
	n = len < free ? len : free;
	if (n == 0)
		return -EAGAIN;
	pos = h->head & h->mask;
	first = h->cap - pos < n ? h->cap - pos : n;
	memcpy(h->data + pos, buf, first);
	memcpy(h->data, (const uint8_t *)buf + first, n - first);
	h->head += n;
	shmq__tx_publish(ep);
	shmq__tx_wrote(ep, n);
	return (ssize_t)n;
}

ssize_t shmq_read(struct shmq_ep *ep, void *buf, size_t len, unsigned flags)
{
	struct shmq_half *h = &ep->rx;
	uint64_t n, done, run;
	int64_t avail;

	ep->rx.resv_rec = 0; /* any other call ends a zero-copy window */

	if (ep->mode != SHMQ_ABI_MODE_STREAM)
		return -EINVAL;
	avail = shmq__stream_avail(ep, len ? len : 1);
	if (avail <= 0)
		return avail;
	n = len < (uint64_t)avail ? len : (uint64_t)avail;
	/* At most four pieces: the end and start of the previous area of a
	 * moved ring, then of the current one; each is at least one byte. */
	for (done = 0; done < n; done += run) {
		const uint8_t *src = shmq__at(h, h->head + done, &run);

		if (run > n - done)
			run = n - done;
		memcpy((uint8_t *)buf + done, src, run);
	}
	if (!(flags & SHMQ_PEEK) && n) {
		h->head += n;
		shmq__rx_publish(ep);
	}
	return (ssize_t)n;
}

ssize_t shmq_readable(struct shmq_ep *ep)
{
	if (ep->mode == SHMQ_ABI_MODE_STREAM) {
		int64_t a = shmq__stream_avail(ep, UINT64_MAX);

		return a == 0 ? -EAGAIN : a;
	} else {
		const uint8_t *p;
		uint64_t l;
		int64_t rb = shmq__msg_next(ep, &l, &p);

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

	rc = shmq__tx_space(ep, h->cap, &free);
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

/* ---- Urgent data -------------------------------------------------------- */

int shmq_urgent_mark(struct shmq_ep *ep)
{
	struct shmq_half *h = &ep->tx;

	if (ep->mode != SHMQ_ABI_MODE_STREAM || !h->published)
		return -EINVAL;
	if (ep->broken)
		return -EPROTO;
	/* Release: pairs with the acquire load in shmq_urgent() of the peer;
	 * the byte (published before) is there when the mark is. */
	atomic_store_explicit(&h->hdr->urg_ptr, h->published, memory_order_release);
	if (ep->peer_efd >= 0)
		shmq__kick(ep, &h->hdr->cons_waiting);
	return 0;
}

int shmq_urgent(struct shmq_ep *ep, struct shmq_urgent *u)
{
	struct shmq_half *h = &ep->rx;
	uint64_t p;

	if (ep->mode != SHMQ_ABI_MODE_STREAM || ep->broken)
		return 0;
	/* Acquire: pairs with the release store in shmq_urgent_mark(). */
	p = atomic_load_explicit(&h->hdr->urg_ptr, memory_order_acquire);
	if (!p || p - 1 < h->head)
		return 0;  /* none, or read (or skipped) already */
	/* Untrusted: a byte the peer sent and we did not consume, else no
	 * mark at all. */
	if (p - 1 - h->head >= h->peer - h->head &&
	    (shmq__rx_refresh(ep) || p - 1 - h->head >= h->peer - h->head))
		return -EPROTO;
	u->pos = p - 1;
	u->head = h->head;
	{
		uint64_t run;

		u->byte = *shmq__at(h, p - 1, &run);
	}
	u->taken = atomic_load_explicit(&h->hdr->urg_done, memory_order_relaxed) == p;
	return 1;
}

void shmq_urgent_take(struct shmq_ep *ep, uint64_t pos)
{
	atomic_store_explicit(&ep->rx.hdr->urg_done, pos + 1, memory_order_relaxed);
}

/* ---- Zero copy ---------------------------------------------------------- */

ssize_t shmq_reserve(struct shmq_ep *ep, size_t len, void **ptr)
{
	struct shmq_half *h = &ep->tx;

	h->resv = 0;
	h->resv_rec = 0;
	if (ep->mode == SHMQ_ABI_MODE_MSG) {
		struct shmq_abi_rec *rec;
		int rc = shmq__msg_reserve(ep, len, &rec);

		if (rc)
			return rc;
		*ptr = rec + 1;
		h->resv = len;
		h->resv_rec = 1;
		return (ssize_t)len;
	} else {
		uint64_t free, pos, n;
		int rc = shmq__tx_space(ep, len ? len : 1, &free);

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
		shmq__msg_finish(ep, (struct shmq_abi_rec *)(h->data + (h->head & h->mask)), len);
	else
		h->head += len;
	h->resv = 0;
	h->resv_rec = 0;
	shmq__tx_publish(ep);
	if (ep->mode == SHMQ_ABI_MODE_STREAM)
		shmq__tx_wrote(ep, len);
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
		int64_t rb = shmq__msg_next(ep, &l, &p);

		if (rb < 0)
			return rb;
		*ptr = p;
		h->resv = l;
		h->resv_rec = (uint64_t)rb;
		return (ssize_t)l;
	} else {
		int64_t avail = shmq__stream_avail(ep, 1);
		uint64_t n;
		uint8_t *at;

		if (avail <= 0)
			return avail;
		at = shmq__at(h, h->head, &n);
		if ((uint64_t)avail < n)
			n = (uint64_t)avail;
		*ptr = at;
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
	shmq__rx_publish(ep);
	return 0;
}
