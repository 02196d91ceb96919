/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer: the "vf" configuration parser (sriov-cni keys). */
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_link.h>
#include <stdint.h>
#include <stdlib.h>

#include "vf_private.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* What hlnl_vf_set() refuses with -EINVAL (hlnl.h). */
static bool nl_refuses(const struct hlnl_vf *v)
{
	if (!v->has || (v->has & ~HLNL_VF_ALL))
		return true;
	if ((v->has & HLNL_VF_VLAN) &&
	    (v->vlan > 4095 || v->qos > 7 ||
	     (v->proto != ETH_P_8021Q && v->proto != ETH_P_8021AD)))
		return true;
	if ((v->has & HLNL_VF_LINK_STATE) && v->link_state > IFLA_VF_LINK_STATE_DISABLE)
		return true;
	return (v->has & HLNL_VF_RATE) && v->max_tx_rate && v->min_tx_rate > v->max_tx_rate;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hl_vf_conf c;
	char err[128];
	int rc = hl_vf_conf_parse((const char *)data, size, &c, err, sizeof(err));

	/* what the parser accepts must be something the PF request accepts */
	if (rc == 0 && hl_vfi_pf_any(&c.pf)) {
		struct hlnl_vf v;

		if (hl_vfi_pf_validate(&c.pf))
			abort();
		hl_vfi_pf_to_nl(&c.pf, 0, &v);
		if (nl_refuses(&v))
			abort();
	}
	if (rc != 0 && rc != -EINVAL)
		abort();
	return 0;
}
