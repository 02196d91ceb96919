/* SPDX-License-Identifier: MIT */
/*
 * Readiness of a ring pair: what poll reports (SHMQ_POLLIN, OUT, HUP, ERR),
 * the waiting flags a sleeper sets for its peer (notify.c sleeps and
 * wakes), and shutting our send side down.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "shmq_private.h"

int shmq_poll(struct shmq_ep *ep)
{
	int m = 0;
	uint64_t free;

	if (ep->broken)
		return SHMQ_POLLERR;
	if (ep->mode == SHMQ_ABI_MODE_MSG) {
		const uint8_t *p;
		uint64_t l;
		int64_t rb = shmq__msg_next(ep, &l, &p);

		if (rb >= 0)
			m |= SHMQ_POLLIN;
		else if (rb == -EPIPE)
			m |= SHMQ_POLLIN | SHMQ_POLLHUP;
	} else {
		int64_t a = shmq__stream_avail(ep, 1);

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
		uint64_t need = ep->mode == SHMQ_ABI_MODE_MSG ? shmq__rec_bytes(0) : 1;
		int rc = shmq__tx_space(ep, need, &free);

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
	a = shmq__stream_avail(ep, UINT64_MAX);
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
		uint32_t was = SHMQ_ABI_CLOSED_NONE;

		ep->shut = 1;
		/* Release: pairs with the acquire load in shmq__rx_empty() of the peer;
		 * it orders our last `prod` store before the flag. (A reset
		 * another endpoint of this side wrote stays.) */
		atomic_compare_exchange_strong_explicit(&ep->tx.hdr->prod_closed, &was,
							SHMQ_ABI_CLOSED_SHUT, memory_order_release,
							memory_order_relaxed);
		shmq__wake(ep);
	}
	return 0;
}
