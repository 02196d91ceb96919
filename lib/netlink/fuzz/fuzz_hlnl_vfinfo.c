/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer: a datagram as the PF's reply to hlnl_vf_get() (RTM_NEWLINK
 * with IFLA_VFINFO_LIST), through hlnl_reply_run() and its callback. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hlnl_private.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *buf = malloc(size ? size : 1);

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	for (uint32_t id = 0; id < 2; id++) {
		for (uint32_t vf = 0; vf < 3; vf++) {
			struct hlnl_vf v;
			struct hlnl_vf_get_arg g = { .vf = vf, .out = &v, .rc = -ENOENT };
			int rc;

			memset(&v, 0, sizeof(v));
			rc = hlnl_reply_run(buf, size, id, id, hlnl_vf_get_reply_cb, &g);
			if (rc > 1 || rc < -4095 || (g.rc && g.rc != -ENOENT))
				abort();
			/* a VF found is the one asked for, with known groups only */
			if (!g.rc && (v.vf != vf || (v.has & ~HLNL_VF_ALL)))
				abort();
		}
	}
	free(buf);
	return 0;
}
