/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzzes the monitor's reader of a process's stats region: memory the pod
 * writes and the agent reads for `hostlanectl conns`. Any content must be
 * read without a fault and reported with well-formed strings.
 */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mon_private.h"

static void proc_cb(void *arg, const struct hl_mon_proc_info *p)
{
	(void)arg;
	assert(p->open <= HL_STATS_RECS);
}

static void conn_cb(void *arg, const struct hl_mon_conn_info *c)
{
	(void)arg;
	assert(memchr(c->local, 0, sizeof(c->local)) && memchr(c->peer, 0, sizeof(c->peer)));
	assert(c->side <= UINT32_MAX);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hl_stats_hdr *h = aligned_alloc(64, HL_STATS_SIZE);

	assert(h);
	/* The input fills the region from the start, repeated: records far
	 * from the header get fuzzed bytes too. */
	memset(h, 0, HL_STATS_SIZE);
	for (size_t off = 0; size && off < HL_STATS_SIZE; off += size)
		memcpy((char *)h + off, data, size < HL_STATS_SIZE - off ? size : HL_STATS_SIZE - off);
	mon_stats_read(h, 1, proc_cb, conn_cb, NULL);
	free(h);
	return 0;
}
