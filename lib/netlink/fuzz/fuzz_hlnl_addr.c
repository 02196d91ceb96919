/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer: a datagram as the reply to an address dump, through
 * hlnl_reply_run() and the callback hlnl_addr_list() uses. */
#include <stdlib.h>
#include <string.h>

#include "hlnl_private.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *buf = malloc(size ? size : 1);
	struct hlnl_addr out[4] = { { 0 } };

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	for (uint32_t id = 0; id < 2; id++) {
		for (int index = 0; index < 2; index++) {
			struct hlnl_addr_list_arg al = { index, out, 4, 0 };
			int rc = hlnl_reply_run(buf, size, id, id, hlnl_addr_list_reply_cb, &al);

			if (rc > 1 || rc < -4095)
				abort();
			/* what is kept is an address of its family and prefix */
			for (int i = 0; i < al.n && i < 4; i++) {
				size_t alen = hlnl_family_len(out[i].family);

				if (!alen || out[i].prefix < 0 || (size_t)out[i].prefix > alen * 8 ||
				    (index && out[i].index != index))
					abort();
			}
		}
	}
	free(buf);
	return 0;
}
