/* SPDX-License-Identifier: Apache-2.0 */
/*
 * VF settings through the PF (sriov-cni keys): their validation, their
 * netlink form (libhlnl's hlnl_vf_get()/hlnl_vf_set() do the talking and
 * the decoding), and what to put back when a VF is released.
 */
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_link.h>
#include <string.h>

#include "vf_private.h"

bool hl_vfi_pf_any(const struct hl_vf_pf_settings *s)
{
	return s->has_vlan || s->has_qos || s->has_proto || s->has_mac || s->has_spoofchk ||
	       s->has_trust || s->has_link_state || s->has_min_tx_rate || s->has_max_tx_rate;
}

int hl_vfi_pf_validate(const struct hl_vf_pf_settings *s)
{
	if ((s->has_qos || s->has_proto) && !s->has_vlan)
		return -EINVAL;
	if (s->has_vlan && (s->vlan < 0 || s->vlan > 4095))
		return -EINVAL;
	if (s->has_qos && (s->qos < 0 || s->qos > 7))
		return -EINVAL;
	if (s->has_proto && s->proto != ETH_P_8021Q && s->proto != ETH_P_8021AD)
		return -EINVAL;
	if (s->has_link_state && (s->link_state < IFLA_VF_LINK_STATE_AUTO ||
				  s->link_state > IFLA_VF_LINK_STATE_DISABLE))
		return -EINVAL;
	if (s->has_min_tx_rate && s->has_max_tx_rate && s->max_tx_rate &&
	    s->min_tx_rate > s->max_tx_rate)
		return -EINVAL;
	return 0;
}

void hl_vfi_pf_to_nl(const struct hl_vf_pf_settings *s, uint32_t vf, struct hlnl_vf *o)
{
	memset(o, 0, sizeof(*o));
	o->vf = vf;
	if (s->has_mac) {
		o->has |= HLNL_VF_MAC;
		memcpy(o->mac, s->mac, 6);
	}
	if (s->has_vlan) {
		o->has |= HLNL_VF_VLAN;
		o->vlan = (uint32_t)s->vlan;
		o->qos = s->has_qos ? (uint32_t)s->qos : 0;
		o->proto = s->has_proto ? s->proto : ETH_P_8021Q;
	}
	if (s->has_min_tx_rate || s->has_max_tx_rate) {
		o->has |= HLNL_VF_RATE;
		o->min_tx_rate = s->has_min_tx_rate ? s->min_tx_rate : 0;
		o->max_tx_rate = s->has_max_tx_rate ? s->max_tx_rate : 0;
	}
	if (s->has_spoofchk) {
		o->has |= HLNL_VF_SPOOFCHK;
		o->spoofchk = s->spoofchk;
	}
	if (s->has_trust) {
		o->has |= HLNL_VF_TRUST;
		o->trust = s->trust;
	}
	if (s->has_link_state) {
		o->has |= HLNL_VF_LINK_STATE;
		o->link_state = (uint32_t)s->link_state;
	}
}

void hl_vfi_pf_from_nl(const struct hlnl_vf *v, struct hl_vf_pf_state *o)
{
	memset(o, 0, sizeof(*o));
	o->vf = v->vf;
	if ((o->has_mac = v->has & HLNL_VF_MAC))
		memcpy(o->mac, v->mac, 6);
	if ((o->has_vlan = v->has & HLNL_VF_VLAN)) {
		o->vlan = v->vlan;
		o->qos = v->qos;
		o->proto = v->proto;
	}
	if ((o->has_spoofchk = v->has & HLNL_VF_SPOOFCHK))
		o->spoofchk = v->spoofchk;
	if ((o->has_trust = v->has & HLNL_VF_TRUST))
		o->trust = v->trust;
	if ((o->has_link_state = v->has & HLNL_VF_LINK_STATE))
		o->link_state = v->link_state;
	if ((o->has_rate = v->has & HLNL_VF_RATE)) {
		o->min_tx_rate = v->min_tx_rate;
		o->max_tx_rate = v->max_tx_rate;
	}
}

/* ---- talking to the real PF, in the netns the pool was opened in ---- */

static int pf_index(struct hlnl *nl, const struct vf_dev *d)
{
	struct hlnl_link l;
	int rc = hlnl_link_get(nl, d->pf, 0, &l);

	return rc ? rc : l.index;
}

int hl_vfi_pf_read(const struct hl_vf_pool *p, const struct vf_dev *d,
		   struct hl_vf_pf_state *st)
{
	struct hlnl *nl = hl_vfi_nl_open(p->host_nsfd);
	struct hlnl_vf v;
	int idx, rc;

	if (!nl)
		return -errno;
	idx = pf_index(nl, d);
	rc = idx < 0 ? idx : hlnl_vf_get(nl, idx, d->vf, &v);
	if (!rc)
		hl_vfi_pf_from_nl(&v, st);
	hlnl_close(nl);
	return rc;
}

int hl_vfi_pf_apply(const struct hl_vf_pool *p, const struct vf_dev *d,
		    const struct hl_vf_pf_settings *s)
{
	struct hlnl *nl;
	struct hlnl_vf v;
	int idx, rc;

	if (!hl_vfi_pf_any(s))
		return 0;
	rc = hl_vfi_pf_validate(s);
	if (rc)
		return rc;
	hl_vfi_pf_to_nl(s, d->vf, &v);
	nl = hl_vfi_nl_open(p->host_nsfd);
	if (!nl)
		return -errno;
	idx = pf_index(nl, d);
	rc = idx < 0 ? idx : hlnl_vf_set(nl, idx, &v);
	hlnl_close(nl);
	return rc;
}

/* Settings that put back what @r says was changed, from the recorded
 * original where it was readable, else the kernel defaults. */
static void restore_settings(const struct vf_rec *r, struct hl_vf_pf_settings *s)
{
	const struct hl_vf_pf_state *o = r->has_pf_orig ? &r->pf_orig : NULL;
	const struct hl_vf_pf_settings *a = &r->pf_applied;

	memset(s, 0, sizeof(*s));
	if (a->has_vlan || a->has_qos || a->has_proto) {
		s->has_vlan = true;
		s->vlan = o && o->has_vlan ? (int)o->vlan : 0;
		s->has_qos = true;
		s->qos = o && o->has_vlan ? (int)o->qos : 0;
		s->has_proto = true;
		s->proto = o && o->has_vlan && o->vlan ? o->proto : ETH_P_8021Q;
	}
	if (a->has_mac && o && o->has_mac) {
		s->has_mac = true;
		memcpy(s->mac, o->mac, 6);
	}
	if (a->has_spoofchk) {
		s->has_spoofchk = true;
		s->spoofchk = o && o->has_spoofchk ? o->spoofchk : true;
	}
	if (a->has_trust) {
		s->has_trust = true;
		s->trust = o && o->has_trust ? o->trust : false;
	}
	if (a->has_link_state) {
		s->has_link_state = true;
		s->link_state = o && o->has_link_state ? (int)o->link_state
						       : IFLA_VF_LINK_STATE_AUTO;
	}
	if (a->has_min_tx_rate || a->has_max_tx_rate) {
		s->has_min_tx_rate = s->has_max_tx_rate = true;
		s->min_tx_rate = o && o->has_rate ? o->min_tx_rate : 0;
		s->max_tx_rate = o && o->has_rate ? o->max_tx_rate : 0;
	}
}

int hl_vfi_pf_restore(const struct hl_vf_pool *p, const struct vf_dev *d,
		      const struct vf_rec *r)
{
	struct hl_vf_pf_settings s;
	int rc;

	restore_settings(r, &s);
	if (r->pf_applied.has_mac && !s.has_mac)
		hl_vfi_log(p, HL_VF_LOG_WARN, "vf %s: original admin MAC unknown, left as set",
			   d->pci);
	if (!hl_vfi_pf_any(&s))
		return 0;
	rc = hl_vfi_pf_apply(p, d, &s);
	if (rc)
		hl_vfi_log(p, HL_VF_LOG_WARN, "vf %s: restoring PF settings on %s: %s", d->pci,
			   d->pf, strerror(-rc));
	return rc;
}
