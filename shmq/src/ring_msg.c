/* SPDX-License-Identifier: MIT */
/*
 * Ring pairs in message mode (SHMQ_MODE_MSG): records of a header and a
 * payload, a PAD record where one would not fit before the end of the
 * area. Every record header the peer wrote is checked against what it
 * published and against our own bounds before use (shmq_private.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "shmq_private.h"

int shmq_send(struct shmq_ep *ep, const void *buf, size_t len)
{
	struct shmq_abi_rec *rec;
	int rc;

	ep->tx.resv_rec = 0; /* any other call ends a zero-copy window */

	if (ep->mode != SHMQ_ABI_MODE_MSG)
		return -EINVAL;
	rc = shmq__msg_reserve(ep, len, &rec);
	if (rc)
		return rc;
	memcpy(rec + 1, buf, len);
	shmq__msg_finish(ep, rec, len);
	shmq__tx_publish(ep);
	return 0;
}

/* The burst calls are the fast path: same checks as shmq__msg_reserve() and
 * shmq__msg_next(), with the running index and free/available counts kept in
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
	rc = shmq__tx_space(ep, 0, &free);
	if (rc)
		return rc;
	for (i = 0; i < n; i++) {
		uint64_t len = msgs[i].iov_len, rb = shmq__rec_bytes(len);
		uint64_t pos = head & h->mask, tail = h->cap - pos;
		uint64_t need = rb <= tail ? rb : tail + rb;
		struct shmq_abi_rec *rec;

		if (len > h->max_rec) {
			rc = -EMSGSIZE;
			break;
		}
		if (need > free) {
			h->head = head;
			rc = shmq__tx_space(ep, need, &free);
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
	shmq__tx_publish(ep);
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
	rb = shmq__msg_next(ep, &l, &p);
	if (rb < 0)
		return rb;
	if (l > len)
		l = len;
	memcpy(buf, p, l);
	if (!(flags & SHMQ_PEEK)) {
		ep->rx.head += (uint64_t)rb;
		shmq__rx_publish(ep);
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
			if (shmq__rx_refresh(ep)) {
				rc = -EPROTO;
				break;
			}
			avail = h->peer - head;
			if (avail == 0) {
				rc = shmq__rx_empty(ep);
				break;
			}
			if (avail < SHMQ_REC_HDR_SIZE) {
				rc = shmq__fail(ep);
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
				rc = shmq__fail(ep);
				break;
			}
			head += h->cap - pos;
			avail -= h->cap - pos;
			continue;
		}
		rb = shmq__rec_bytes(l);
		if (kind != SHMQ_REC_DATA || l > h->max_rec || rb > avail || pos + rb > h->cap) {
			rc = shmq__fail(ep);
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
		shmq__rx_publish(ep);
	if (i == 0)
		return n == 0 ? 0 : rc;
	return (int)i;
}
