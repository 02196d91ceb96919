/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer harness: the agent's request parser (untrusted socket input). */
#include "agent.h"

#include <stdio.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct hl_request r;
	char err[512], key[1024];

	if (hl_request_parse((const char *)data, size, &r, err, sizeof(err)) == 0) {
		enum hl_fastpath fp;
		enum hl_fp_source src;
		char bad[64];

		hl_request_key(&r, key, sizeof(key));
		hl_fastpath_select(NULL, r.fp_args, r.fp_config, HL_FP_NONE, &fp, &src, bad, sizeof(bad));
		if (strlen(r.network) >= sizeof(r.network) || r.n_ips > HLAGENT_MAX_IPS)
			__builtin_trap();
	}
	hl_request_free(&r);
	return 0;
}
