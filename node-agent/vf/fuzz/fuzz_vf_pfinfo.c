/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer: the PF's IFLA_VFINFO_LIST decoder on arbitrary RTM_NEWLINK bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hlvf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hl_vf_pf_state st;
	/* a copy of exactly @size bytes, aligned like a recv buffer, so ASan
	 * catches any read past the end */
	uint8_t *buf = malloc(size ? size : 1);

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	for (uint32_t vf = 0; vf < 3; vf++)
		hl_vf_pf_decode(buf, size, vf, &st);
	free(buf);
	return 0;
}
