/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer: a datagram as the reply to a request answered by an ack alone
 * (route add, link/address changes, VF settings), through hlnl_reply_run():
 * an error code from NLMSG_ERROR is any 32-bit value, yet what comes out is
 * 0, 1 or -errno in range. */
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
		int rc = hlnl_reply_run(buf, size, id, id, NULL, NULL);

		if (rc > 1 || rc < -4095)
			abort();
	}
	free(buf);
	return 0;
}
