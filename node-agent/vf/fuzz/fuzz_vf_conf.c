/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer: the "vf" configuration parser (sriov-cni keys). */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "hlvf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hl_vf_conf c;
	char err[128];
	int rc = hl_vf_conf_parse((const char *)data, size, &c, err, sizeof(err));

	/* what the parser accepts must be something the PF message builder accepts */
	if (rc == 0 && (c.pf.has_vlan || c.pf.has_mac || c.pf.has_spoofchk || c.pf.has_trust ||
			c.pf.has_link_state || c.pf.has_min_tx_rate || c.pf.has_max_tx_rate)) {
		char buf[1024];

		if (hl_vf_pf_settings_msg(buf, sizeof(buf), 1, 1, 0, &c.pf) <= 0)
			abort();
	}
	if (rc != 0 && rc != -EINVAL)
		abort();
	return 0;
}
