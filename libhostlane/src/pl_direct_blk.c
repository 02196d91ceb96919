/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Reading the control block of a direct region (struct hl_direct_blk,
 * hostlane_direct.h): memory the two processes of the region share, so
 * untrusted. Kept apart from pl_direct.c so the fuzzer (fuzz_pl_direct_blk)
 * drives exactly what the layer runs.
 */
#include "pl_private.h"

bool pl_blk_published(const struct hl_direct_blk *b, uint16_t port)
{
	uint32_t n = atomic_load_explicit(&b->n_ports, memory_order_relaxed);

	if (!port)
		return false;
	n = n < HL_DIRECT_PORTS ? n : HL_DIRECT_PORTS;  /* the peer wrote it */
	for (uint32_t i = 0; i < n; i++)
		if (atomic_load_explicit(&b->ports[i], memory_order_relaxed) == port)
			return true;
	return false;
}

bool pl_blk_take(struct hl_direct_blk *b, uint32_t slot, uint16_t *port, uint16_t *cport)
{
	uint64_t v;

	if (slot >= HL_DIRECT_MAX_SLOTS)
		return false;
	v = atomic_load_explicit(&b->ann[slot], memory_order_acquire);
	if (HL_ANN_STATE(v) != HL_ANN_OFFERED ||
	    !atomic_compare_exchange_strong(&b->ann[slot], &v,
					    HL_ANN(HL_ANN_TAKEN, HL_ANN_CPORT(v), HL_ANN_PORT(v))))
		return false;
	*port = HL_ANN_PORT(v);
	*cport = HL_ANN_CPORT(v);
	return true;
}

bool pl_blk_off(const struct hl_direct_blk *b)
{
	return atomic_load_explicit(&b->off, memory_order_relaxed) != 0;
}

bool pl_grant_admits(const struct hl_direct_grant *gr, uint16_t port)
{
	/* Any u16 indexes inside the bitmap (1024 words of 64 bits). */
	return (atomic_load_explicit(&gr->ports[port / 64], memory_order_relaxed) >> (port % 64)) & 1;
}

bool pl_blk_admit(const struct hl_direct_blk *b, const struct hl_direct_grant *gr, uint16_t port)
{
	return port && !pl_blk_off(b) && (!gr || pl_grant_admits(gr, port));
}

void pl_blk_unpublish(struct hl_direct_blk *b, uint16_t port)
{
	/* Every entry, whatever n_ports says (the peer may have written it):
	 * the port must be gone from the whole table. */
	for (uint32_t i = 0; port && i < HL_DIRECT_PORTS; i++)
		if (atomic_load_explicit(&b->ports[i], memory_order_relaxed) == port)
			atomic_store_explicit(&b->ports[i], 0, memory_order_relaxed);
}
