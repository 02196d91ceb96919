/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer: growable stream rings of a pool region (layout 2.0) between
 * two endpoints driven by the input, and a hostile peer's move descriptors,
 * indices and chunk maps. Input: byte 0 bit 0 set = the peer may scribble;
 * then operations, one byte each (low 4 bits: what, high 4: how much or
 * which side), a scribble followed by [u16 offset][u8 len][len bytes]
 * into the region header and the pair.
 *
 * Whatever the input: every area an endpoint uses lies inside the pool
 * half of the ring's producer or in the ring's own slot (checked after each
 * step), nothing loops, and -- without scribbles -- each side reads exactly
 * the bytes the other wrote, in order, whatever moves happened between.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "shmq.h"
#include "shmq_private.h"

#define RSIZE (256u << 10)
#define INL   4096u
#define CHUNK 4096u
#define GMAX  (32u << 10)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct shmq_region *reg;
static uint8_t *base;  /* the mapping, found from the endpoints */

/* The stream byte at position @i of side @s's direction. */
static uint8_t pat(unsigned s, uint64_t i)
{
	return (uint8_t)((i * 2654435761u) >> 11 ^ i >> 9 ^ s * 0x5a);
}

static void in_area(const struct shmq_ep *ep, const struct shmq_half *h, const uint8_t *d,
		    uint64_t cap)
{
	const struct shmq_pool *pl = &ep->pool;
	const uint8_t *half = pl->base + (uint64_t)h->owner * pl->n_side * pl->chunk;

	if (d == h->inl && cap == h->inl_cap)
		return;
	if (d < half || cap > (uint64_t)(half + pl->n_side * pl->chunk - d))
		abort();
	if (d < base || d + cap > base + RSIZE)
		abort();
}

static void check(const struct shmq_ep *ep)
{
	const struct shmq_half *hs[2] = { &ep->tx, &ep->rx };

	for (int i = 0; i < 2; i++) {
		in_area(ep, hs[i], hs[i]->data, hs[i]->cap);
		in_area(ep, hs[i], hs[i]->pdata, hs[i]->pcap);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t buf[GMAX + INL];
	uint64_t wr[2] = { 0, 0 }, rd[2] = { 0, 0 };
	struct shmq_ep *ep[2];
	int hostile, steps = 0;
	size_t off = 1;

	if (size < 1)
		return 0;
	/* A fresh region each time: an input's result depends on it alone. */
	reg = shmq_region_create(RSIZE, SHMQ_REGION_NO_HUGETLB, NULL, NULL);
	if (!reg)
		abort();
	if (shmq_region_layout_pool(reg, 1, INL, CHUNK, GMAX) ||
	    shmq_pair_init(reg, 0, SHMQ_MODE_STREAM))
		abort();
	hostile = data[0] & 1;
	ep[0] = shmq_ep_attach(reg, 0, 0);
	ep[1] = shmq_ep_attach(reg, 0, 1);
	if (!ep[0] || !ep[1])
		abort();
	base = ep[0]->tx.inl - SHMQ_RING_HDR_SIZE - SHMQ_REGION_HDR_SIZE;
	while (off < size && steps++ < 400) {
		uint8_t op = data[off++];
		unsigned s = (op >> 4) & 1;
		size_t len = ((size_t)(op >> 5) + 1) * ((op >> 4) & 1 ? 97 : 1531);
		struct shmq_ep *e = ep[s];
		ssize_t n = 0;
		const void *p;
		void *w;

		switch (op & 15) {
		case 0: case 1: case 2:
			for (size_t i = 0; i < len; i++)
				buf[i] = pat(s, wr[s] + i);
			n = shmq_write(e, buf, len);
			if (n > 0)
				wr[s] += (uint64_t)n;
			break;
		case 3:
			n = shmq_reserve(e, len, &w);
			if (n > 0) {
				for (ssize_t i = 0; i < n; i++)
					((uint8_t *)w)[i] = pat(s, wr[s] + (uint64_t)i);
				if (shmq_commit(e, (size_t)n) == 0)
					wr[s] += (uint64_t)n;
			}
			break;
		case 4: case 5: case 6:
			n = shmq_read(e, buf, len, op & 1 ? SHMQ_PEEK : 0);
			if (n > 0 && !(op & 1)) {
				for (ssize_t i = 0; i < n; i++)
					if (!hostile && buf[i] != pat(!s, rd[s] + (uint64_t)i))
						abort();  /* lost or reordered */
				rd[s] += (uint64_t)n;
			}
			break;
		case 7:
			n = shmq_peek(e, &p);
			if (n > 0) {
				for (ssize_t i = 0; i < n; i++)
					if (!hostile && ((const uint8_t *)p)[i] != pat(!s, rd[s] + (uint64_t)i))
						abort();
				if (shmq_release(e, (size_t)n) == 0)
					rd[s] += (uint64_t)n;
			}
			break;
		case 8:
			n = shmq_ep_trim(e);
			if (!hostile && n != 0 && n != -EAGAIN)
				abort();
			break;
		case 9:
			n = shmq_readable(e) + shmq_writable(e) + shmq_poll(e);
			break;
		case 10:
			n = shmq_ep_resync(e);
			break;
		case 11: {
			struct shmq_urgent u;

			if (shmq_urgent(e, &u) == 1)
				buf[0] = u.byte;
			n = shmq_urgent_mark(e);
			break;
		}
		default:
			/* The peer's scribble: into the region header or the pair. */
			if (hostile && off + 3 <= size) {
				size_t at = (size_t)(data[off] | data[off + 1] << 8) %
					    (SHMQ_REGION_HDR_SIZE + 2 * (SHMQ_RING_HDR_SIZE + INL));
				size_t l = data[off + 2] % 32;

				off += 3;
				if (l > size - off)
					l = size - off;
				memcpy(base + at, data + off, l);
				off += l;
			}
			break;
		}
		(void)n;
		check(ep[0]);
		check(ep[1]);
		if (!hostile && (shmq_ep_broken(ep[0]) || shmq_ep_broken(ep[1])))
			abort();  /* an honest peer never breaks a ring */
	}
	shmq_ep_close(ep[0]);
	shmq_ep_close(ep[1]);
	shmq_region_close(reg);
	return 0;
}
