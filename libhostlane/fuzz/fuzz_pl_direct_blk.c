/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer: a direct region's control block as a hostile peer may have
 * written it. The input is the block's bytes (zero-padded to its size);
 * its first two bytes also name a port to look up. The reader must stay in
 * bounds whatever n_ports says, find a port only inside the entries the
 * capped count covers, and take an announcement exactly when it was
 * OFFERED, leaving it TAKEN with the same ports. What a listener then does
 * with a taken port (pl_blk_admit()) follows `off` and a grant (trusted,
 * but indexed by the untrusted port: bytes after the block's fill it)
 * exactly, for any port. Unpublishing a port (a listener a forked child
 * took over) leaves it in no entry, whatever n_ports says, and the other
 * entries as they were.
 */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pl_private.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hl_direct_blk *b = aligned_alloc(64, HL_DIRECT_BLK);
	struct hl_direct_grant *gr = aligned_alloc(64, HL_GRANT_BYTES);
	uint16_t want = 0, port, cport;
	uint32_t n;
	bool found = false;

	if (!b || !gr) {
		free(b);
		free(gr);
		return 0;
	}
	memset(b, 0, HL_DIRECT_BLK);
	memset(gr, 0, HL_GRANT_BYTES);
	if (size > HL_DIRECT_BLK)
		memcpy(gr->ports, data + HL_DIRECT_BLK,
		       size - HL_DIRECT_BLK < sizeof(gr->ports) ? size - HL_DIRECT_BLK : sizeof(gr->ports));
	memcpy(b, data, size < HL_DIRECT_BLK ? size : HL_DIRECT_BLK);
	if (size >= 2)
		memcpy(&want, data, 2);
	n = atomic_load(&b->n_ports);
	n = n < HL_DIRECT_PORTS ? n : HL_DIRECT_PORTS;
	for (uint32_t i = 0; i < n; i++)
		found |= want && atomic_load(&b->ports[i]) == want;
	assert(pl_blk_published(b, want) == found);
	assert(!pl_blk_published(b, 0));
	for (uint32_t k = 0; k <= HL_PROTO_MAX_SLOTS; k++) {
		uint64_t v = k < HL_PROTO_MAX_SLOTS ? atomic_load(&b->ann[k]) : 0;
		bool took = pl_blk_take(b, k, &port, &cport);

		assert(took == (k < HL_PROTO_MAX_SLOTS && HL_ANN_STATE(v) == HL_ANN_OFFERED));
		if (took) {
			bool bit = (gr->ports[port / 64] >> (port % 64)) & 1;

			assert(port == HL_ANN_PORT(v) && cport == HL_ANN_CPORT(v));
			assert(pl_blk_admit(b, gr, port) == (port && !b->off && bit));
			assert(pl_blk_admit(b, NULL, port) == (port && !b->off));
			assert(atomic_load(&b->ann[k]) == HL_ANN(HL_ANN_TAKEN, cport, port));
			assert(!pl_blk_take(b, k, &port, &cport));  /* taken once */
		}
	}
	if (want) {
		uint16_t before[HL_DIRECT_PORTS];

		for (uint32_t i = 0; i < HL_DIRECT_PORTS; i++)
			before[i] = atomic_load(&b->ports[i]);
		atomic_store(&b->n_ports, HL_DIRECT_PORTS);
		pl_blk_unpublish(b, want);
		assert(!pl_blk_published(b, want));
		for (uint32_t i = 0; i < HL_DIRECT_PORTS; i++)
			assert(atomic_load(&b->ports[i]) == (before[i] == want ? 0 : before[i]));
	}
	free(b);
	free(gr);
	return 0;
}
