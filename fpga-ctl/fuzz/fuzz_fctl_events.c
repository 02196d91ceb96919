/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer: an event queue as a device (or a hostile writer of the shared
 * memory) could leave it, read by a process: the ring header checked,
 * then events popped until none are left. Whatever the bytes, the reader
 * must stay in the ring, stop, and hand out only entries that
 * fpgactl_evt_parse() accepts. The input is the ring image; its length is
 * the memory the reader was given.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fpgactl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static _Alignas(256) uint8_t ring[FPGACTL_RING_HDR + (FPGACTL_ENTRY << 4)];
	struct fpgactl_evt ev[5], chk;
	size_t bytes;
	int log2, n;

	memset(ring, 0, sizeof(ring));
	memcpy(ring, data, size < sizeof(ring) ? size : sizeof(ring));
	bytes = size < sizeof(ring) ? size : sizeof(ring);
	log2 = fpgactl_ring_check(ring, bytes);
	if (log2 < 0)
		return 0;
	for (unsigned round = 0; round < 64; round++) {
		n = fpgactl_eq_pop(ring, (unsigned)log2, ev, 5);
		if (n == 0 || n == -EPROTO)
			break;
		for (int k = 0; k < n; k++)
			if (fpgactl_evt_parse(&ev[k], &chk))
				abort();
	}
	return 0;
}
