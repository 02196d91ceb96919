/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hlnl VFs: a PF's per-VF settings. Setting is one RTM_SETLINK with
 * IFLA_VFINFO_LIST/IFLA_VF_INFO; reading decodes the IFLA_VFINFO_LIST of
 * the PF's RTM_NEWLINK, untrusted input like every reply: each attribute is
 * checked for type and length before use. See hlnl.h.
 */
#include "hlnl_private.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <string.h>

/* ---- building ---- */

static int vf_valid(const struct hlnl_vf *v)
{
	if (!v->has || (v->has & ~HLNL_VF_ALL))
		return -EINVAL;
	if ((v->has & HLNL_VF_VLAN) &&
	    (v->vlan > 4095 || v->qos > 7 ||
	     (v->proto && v->proto != ETH_P_8021Q && v->proto != ETH_P_8021AD)))
		return -EINVAL;
	if ((v->has & HLNL_VF_LINK_STATE) && v->link_state > IFLA_VF_LINK_STATE_DISABLE)
		return -EINVAL;
	if ((v->has & HLNL_VF_RATE) && v->max_tx_rate && v->min_tx_rate > v->max_tx_rate)
		return -EINVAL;
	return 0;
}

static bool put(struct nlmsghdr *nlh, size_t len, uint16_t type, size_t plen, const void *data)
{
	return mnl_attr_put_check(nlh, len, type, plen, data);
}

static bool put_vlan(struct nlmsghdr *nlh, size_t len, const struct hlnl_vf *v)
{
	struct ifla_vf_vlan_info vi = {
		.vf = v->vf, .vlan = v->vlan, .qos = v->qos, .vlan_proto = htons(ETH_P_8021AD),
	};
	struct nlattr *list;

	if (v->proto != ETH_P_8021AD) {
		struct ifla_vf_vlan vl = { .vf = v->vf, .vlan = v->vlan, .qos = v->qos };

		return put(nlh, len, IFLA_VF_VLAN, sizeof(vl), &vl);
	}
	/* 802.1ad needs the list form: IFLA_VF_VLAN has no protocol field */
	list = mnl_attr_nest_start_check(nlh, len, IFLA_VF_VLAN_LIST);
	if (!list || !put(nlh, len, IFLA_VF_VLAN_INFO, sizeof(vi), &vi))
		return false;
	mnl_attr_nest_end(nlh, list);
	return true;
}

static bool put_settings(struct nlmsghdr *nlh, size_t len, const struct hlnl_vf *v)
{
	bool ok = true;

	if (v->has & HLNL_VF_MAC) {
		struct ifla_vf_mac m = { .vf = v->vf };

		memcpy(m.mac, v->mac, 6);
		ok = put(nlh, len, IFLA_VF_MAC, sizeof(m), &m);
	}
	if (ok && (v->has & HLNL_VF_VLAN))
		ok = put_vlan(nlh, len, v);
	if (ok && (v->has & HLNL_VF_RATE)) {
		struct ifla_vf_rate r = {
			.vf = v->vf, .min_tx_rate = v->min_tx_rate, .max_tx_rate = v->max_tx_rate,
		};

		ok = put(nlh, len, IFLA_VF_RATE, sizeof(r), &r);
	}
	if (ok && (v->has & HLNL_VF_SPOOFCHK)) {
		struct ifla_vf_spoofchk c = { .vf = v->vf, .setting = v->spoofchk };

		ok = put(nlh, len, IFLA_VF_SPOOFCHK, sizeof(c), &c);
	}
	if (ok && (v->has & HLNL_VF_TRUST)) {
		struct ifla_vf_trust t = { .vf = v->vf, .setting = v->trust };

		ok = put(nlh, len, IFLA_VF_TRUST, sizeof(t), &t);
	}
	if (ok && (v->has & HLNL_VF_LINK_STATE)) {
		struct ifla_vf_link_state l = { .vf = v->vf, .link_state = v->link_state };

		ok = put(nlh, len, IFLA_VF_LINK_STATE, sizeof(l), &l);
	}
	return ok;
}

int hlnl_vf_set_msg(void *buf, size_t len, uint32_t seq, int pf_index,
		    const struct hlnl_vf *v)
{
	struct nlattr *list, *info;
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifi;
	int rc = vf_valid(v);

	if (rc)
		return rc;
	if (pf_index <= 0)
		return -EINVAL;
	if (len < MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof(*ifi)))
		return -ENOSPC;
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_SETLINK;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = seq;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = pf_index;
	list = mnl_attr_nest_start_check(nlh, len, IFLA_VFINFO_LIST);
	info = list ? mnl_attr_nest_start_check(nlh, len, IFLA_VF_INFO) : NULL;
	if (!info || !put_settings(nlh, len, v))
		return -ENOSPC;
	mnl_attr_nest_end(nlh, info);
	mnl_attr_nest_end(nlh, list);
	return (int)nlh->nlmsg_len;
}

int hlnl_vf_set(struct hlnl *nl, int pf_index, const struct hlnl_vf *v)
{
	int rc = hlnl_vf_set_msg(nl->buf, sizeof(nl->buf), ++nl->seq, pf_index, v);

	if (rc < 0)
		return rc;
	return hlnl_transact(nl, (struct nlmsghdr *)nl->buf, NULL, NULL);
}

/* ---- decoding ---- */

struct vfattrs {
	const struct nlattr *tb[IFLA_VF_MAX + 1];
};

static int vf_attr_cb(const struct nlattr *a, void *arg)
{
	struct vfattrs *v = arg;
	uint16_t type = mnl_attr_get_type(a);

	if (type <= IFLA_VF_MAX)
		v->tb[type] = a;
	return MNL_CB_OK;
}

/* The payload of @a if it holds at least @size bytes (structs may grow). */
static const void *payload(const struct nlattr *a, size_t size)
{
	if (!a || mnl_attr_get_payload_len(a) < size)
		return NULL;
	return mnl_attr_get_payload(a);
}

/* The IFLA_VF_* structs start with the __u32 VF number, except the nests
 * and IFLA_VF_BROADCAST. */
static int vf_index(const struct vfattrs *v, uint32_t *vf)
{
	for (int t = 1; t <= IFLA_VF_MAX; t++) {
		const uint32_t *p;

		if (t == IFLA_VF_VLAN_LIST || t == IFLA_VF_STATS || t == IFLA_VF_BROADCAST)
			continue;
		p = payload(v->tb[t], sizeof(uint32_t));
		if (p) {
			memcpy(vf, p, sizeof(*vf));
			return 0;
		}
	}
	return -EBADMSG;
}

static int vlan_list(const struct nlattr *list, struct hlnl_vf *o)
{
	const struct nlattr *a;

	if (!hlnl_nest_ok(list))
		return -EBADMSG;
	mnl_attr_for_each_nested(a, list) {
		struct ifla_vf_vlan_info vi;
		const void *p;

		if (mnl_attr_get_type(a) != IFLA_VF_VLAN_INFO)
			continue;
		p = payload(a, sizeof(vi));
		if (!p)
			return -EBADMSG;
		memcpy(&vi, p, sizeof(vi));
		o->has |= HLNL_VF_VLAN;
		o->vlan = vi.vlan;
		o->qos = vi.qos;
		o->proto = ntohs(vi.vlan_proto);
		return 0; /* the kernel reports one entry (MAX_VLAN_LIST_LEN 1) */
	}
	return 0;
}

static int vf_decode(const struct vfattrs *v, struct hlnl_vf *o)
{
	const void *p;

	if ((p = payload(v->tb[IFLA_VF_MAC], sizeof(struct ifla_vf_mac)))) {
		o->has |= HLNL_VF_MAC;
		memcpy(o->mac, ((const struct ifla_vf_mac *)p)->mac, 6);
	}
	if ((p = payload(v->tb[IFLA_VF_VLAN], sizeof(struct ifla_vf_vlan)))) {
		struct ifla_vf_vlan vl;

		memcpy(&vl, p, sizeof(vl));
		o->has |= HLNL_VF_VLAN;
		o->vlan = vl.vlan;
		o->qos = vl.qos;
		o->proto = ETH_P_8021Q;
	}
	/* the list carries the protocol: it wins over IFLA_VF_VLAN */
	if (v->tb[IFLA_VF_VLAN_LIST] && vlan_list(v->tb[IFLA_VF_VLAN_LIST], o))
		return -EBADMSG;
	if ((p = payload(v->tb[IFLA_VF_SPOOFCHK], sizeof(struct ifla_vf_spoofchk)))) {
		struct ifla_vf_spoofchk c;

		memcpy(&c, p, sizeof(c));
		/* (u32)-1: the driver cannot report it */
		if (c.setting != (uint32_t)-1)
			o->has |= HLNL_VF_SPOOFCHK;
		o->spoofchk = c.setting != 0 && c.setting != (uint32_t)-1;
	}
	if ((p = payload(v->tb[IFLA_VF_TRUST], sizeof(struct ifla_vf_trust)))) {
		struct ifla_vf_trust t;

		memcpy(&t, p, sizeof(t));
		if (t.setting != (uint32_t)-1)
			o->has |= HLNL_VF_TRUST;
		o->trust = t.setting != 0 && t.setting != (uint32_t)-1;
	}
	if ((p = payload(v->tb[IFLA_VF_LINK_STATE], sizeof(struct ifla_vf_link_state)))) {
		struct ifla_vf_link_state l;

		memcpy(&l, p, sizeof(l));
		o->has |= HLNL_VF_LINK_STATE;
		o->link_state = l.link_state;
	}
	if ((p = payload(v->tb[IFLA_VF_RATE], sizeof(struct ifla_vf_rate)))) {
		struct ifla_vf_rate r;

		memcpy(&r, p, sizeof(r));
		o->has |= HLNL_VF_RATE;
		o->min_tx_rate = r.min_tx_rate;
		o->max_tx_rate = r.max_tx_rate;
	}
	return 0;
}

static int top_cb(const struct nlattr *a, void *arg)
{
	const struct nlattr **list = arg;

	if (mnl_attr_get_type(a) == IFLA_VFINFO_LIST)
		*list = a;
	return MNL_CB_OK;
}

int hlnl_vf_parse(const struct nlmsghdr *nlh, uint32_t vf, struct hlnl_vf *out)
{
	const struct nlattr *list = NULL, *info;

	memset(out, 0, sizeof(*out));
	if (nlh->nlmsg_type != RTM_NEWLINK ||
	    mnl_nlmsg_get_payload_len(nlh) < sizeof(struct ifinfomsg) ||
	    !hlnl_msg_attrs_ok(nlh, sizeof(struct ifinfomsg)))
		return -EBADMSG;
	if (mnl_attr_parse(nlh, sizeof(struct ifinfomsg), top_cb, &list) < 0)
		return -EBADMSG;
	if (!list)
		return -ENOENT;
	if (!hlnl_nest_ok(list))
		return -EBADMSG;
	mnl_attr_for_each_nested(info, list) {
		struct vfattrs v = { { 0 } };
		uint32_t idx;

		if (mnl_attr_get_type(info) != IFLA_VF_INFO)
			continue;
		if (!hlnl_nest_ok(info) || mnl_attr_parse_nested(info, vf_attr_cb, &v) < 0)
			return -EBADMSG;
		if (vf_index(&v, &idx) || idx != vf)
			continue;
		out->vf = vf;
		return vf_decode(&v, out);
	}
	return -ENOENT;
}

/* ---- reading ---- */

int hlnl_vf_get_reply_cb(const struct nlmsghdr *nlh, void *data)
{
	struct hlnl_vf_get_arg *g = data;
	struct hlnl_vf v;
	int rc;

	if (nlh->nlmsg_type != RTM_NEWLINK)
		return MNL_CB_OK;
	rc = hlnl_vf_parse(nlh, g->vf, &v);
	if (rc == -EBADMSG) {
		errno = EBADMSG;
		return MNL_CB_ERROR;
	}
	if (!rc) {
		*g->out = v;
		g->rc = 0;
	}
	return MNL_CB_OK;
}

int hlnl_vf_get(struct hlnl *nl, int pf_index, uint32_t vf, struct hlnl_vf *out)
{
	struct hlnl_vf_get_arg g = { .vf = vf, .out = out, .rc = -ENOENT };
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifi;
	int rc;

	if (pf_index <= 0)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	nlh = hlnl_msg_start(nl, RTM_GETLINK, NLM_F_ACK);
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = pf_index;
	/* VF statistics are not needed and would make the reply much larger */
	mnl_attr_put_u32(nlh, IFLA_EXT_MASK, RTEXT_FILTER_VF | RTEXT_FILTER_SKIP_STATS);
	rc = hlnl_transact(nl, nlh, hlnl_vf_get_reply_cb, &g);
	return rc < 0 ? rc : g.rc;
}
