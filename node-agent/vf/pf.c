/* SPDX-License-Identifier: Apache-2.0 */
/*
 * VF settings through the PF: RTM_SETLINK with IFLA_VFINFO_LIST, and the
 * decoder of the PF's IFLA_VFINFO_LIST (RTM_GETLINK reply, untrusted input:
 * every attribute is checked for type and length before use).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stddef.h>
#include <libmnl/libmnl.h>
#include <linux/if_ether.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <stdlib.h>
#include <string.h>

#include "vf_private.h"

#define PF_REPLY_MAX (256 * 1024) /* VFINFO of 128+ VFs with stats */

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

static bool put(struct nlmsghdr *nlh, size_t len, uint16_t type, size_t plen, const void *data)
{
	return mnl_attr_put_check(nlh, len, type, plen, data);
}

static bool put_vlan(struct nlmsghdr *nlh, size_t len, uint32_t vf,
		     const struct hl_vf_pf_settings *s)
{
	uint16_t proto = s->has_proto ? s->proto : ETH_P_8021Q;
	uint32_t qos = s->has_qos ? (uint32_t)s->qos : 0;

	if (proto == ETH_P_8021Q) {
		struct ifla_vf_vlan v = { .vf = vf, .vlan = (uint32_t)s->vlan, .qos = qos };

		return put(nlh, len, IFLA_VF_VLAN, sizeof(v), &v);
	}
	/* 802.1ad needs the list form: IFLA_VF_VLAN has no protocol field */
	struct ifla_vf_vlan_info vi = {
		.vf = vf, .vlan = (uint32_t)s->vlan, .qos = qos, .vlan_proto = htons(proto),
	};
	struct nlattr *list = mnl_attr_nest_start_check(nlh, len, IFLA_VF_VLAN_LIST);

	if (!list || !put(nlh, len, IFLA_VF_VLAN_INFO, sizeof(vi), &vi))
		return false;
	mnl_attr_nest_end(nlh, list);
	return true;
}

static bool put_settings(struct nlmsghdr *nlh, size_t len, uint32_t vf,
			 const struct hl_vf_pf_settings *s)
{
	bool ok = true;

	if (s->has_mac) {
		struct ifla_vf_mac m = { .vf = vf };

		memcpy(m.mac, s->mac, 6);
		ok = put(nlh, len, IFLA_VF_MAC, sizeof(m), &m);
	}
	if (ok && s->has_vlan)
		ok = put_vlan(nlh, len, vf, s);
	if (ok && (s->has_min_tx_rate || s->has_max_tx_rate)) {
		struct ifla_vf_rate r = {
			.vf = vf,
			.min_tx_rate = s->has_min_tx_rate ? s->min_tx_rate : 0,
			.max_tx_rate = s->has_max_tx_rate ? s->max_tx_rate : 0,
		};

		ok = put(nlh, len, IFLA_VF_RATE, sizeof(r), &r);
	}
	if (ok && s->has_spoofchk) {
		struct ifla_vf_spoofchk c = { .vf = vf, .setting = s->spoofchk };

		ok = put(nlh, len, IFLA_VF_SPOOFCHK, sizeof(c), &c);
	}
	if (ok && s->has_trust) {
		struct ifla_vf_trust t = { .vf = vf, .setting = s->trust };

		ok = put(nlh, len, IFLA_VF_TRUST, sizeof(t), &t);
	}
	if (ok && s->has_link_state) {
		struct ifla_vf_link_state l = { .vf = vf, .link_state = (uint32_t)s->link_state };

		ok = put(nlh, len, IFLA_VF_LINK_STATE, sizeof(l), &l);
	}
	return ok;
}

static struct nlmsghdr *msg_start(void *buf, size_t len, uint16_t type, uint32_t seq,
				  int ifindex)
{
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifm;

	if (len < MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof(*ifm)))
		return NULL;
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = seq;
	ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
	ifm->ifi_family = AF_UNSPEC;
	ifm->ifi_index = ifindex;
	return nlh;
}

int hl_vf_pf_settings_msg(void *buf, size_t len, uint32_t seq, int pf_ifindex,
			  uint32_t vf, const struct hl_vf_pf_settings *s)
{
	struct nlattr *list, *info;
	struct nlmsghdr *nlh;
	int rc;

	if (!buf || !s || pf_ifindex <= 0)
		return -EINVAL;
	rc = hl_vfi_pf_validate(s);
	if (rc)
		return rc;
	if (!hl_vfi_pf_any(s))
		return -EINVAL;
	nlh = msg_start(buf, len, RTM_SETLINK, seq, pf_ifindex);
	if (!nlh)
		return -ENOSPC;
	list = mnl_attr_nest_start_check(nlh, len, IFLA_VFINFO_LIST);
	info = list ? mnl_attr_nest_start_check(nlh, len, IFLA_VF_INFO) : NULL;
	if (!info || !put_settings(nlh, len, vf, s))
		return -ENOSPC;
	mnl_attr_nest_end(nlh, info);
	mnl_attr_nest_end(nlh, list);
	return (int)nlh->nlmsg_len;
}

int hl_vf_pf_getlink_msg(void *buf, size_t len, uint32_t seq, int pf_ifindex)
{
	struct nlmsghdr *nlh = msg_start(buf, len, RTM_GETLINK, seq, pf_ifindex);

	if (!nlh || !mnl_attr_put_u32_check(nlh, len, IFLA_EXT_MASK, RTEXT_FILTER_VF))
		return -ENOSPC;
	return (int)nlh->nlmsg_len;
}

/* ---- decoder ---- */

/* libmnl's iterators stop quietly at a malformed attribute; a reply whose
 * attributes do not exactly fill their container is malformed. */
static bool attrs_fill(const void *start, size_t len)
{
	const char *p = start, *end = p + len;

	while (end - p >= (ptrdiff_t)sizeof(struct nlattr)) {
		const struct nlattr *a = (const struct nlattr *)p;

		if (!mnl_attr_ok(a, (int)(end - p)))
			return false;
		p += MNL_ALIGN(a->nla_len);
	}
	return p >= end; /* 1..3 stray bytes are malformed too */
}

static bool nest_ok(const struct nlattr *nest)
{
	return attrs_fill(mnl_attr_get_payload(nest), mnl_attr_get_payload_len(nest));
}

struct vfattrs {
	const struct nlattr *tb[IFLA_VF_MAX + 1];
};

static int vf_attr_cb(const struct nlattr *a, void *arg)
{
	struct vfattrs *v = arg;
	uint16_t type = mnl_attr_get_type(a);

	if (type > IFLA_VF_MAX)
		return MNL_CB_OK;
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

/* Every IFLA_VF_* struct starts with the __u32 vf index. */
static int vf_index(const struct vfattrs *v, uint32_t *vf)
{
	for (int t = 1; t <= IFLA_VF_MAX; t++) {
		const uint32_t *p;

		if (t == IFLA_VF_VLAN_LIST || t == IFLA_VF_STATS)
			continue; /* nested, no index */
		p = payload(v->tb[t], sizeof(uint32_t));
		if (p) {
			memcpy(vf, p, sizeof(*vf));
			return 0;
		}
	}
	return -EBADMSG;
}

static int vlan_list(const struct nlattr *list, struct hl_vf_pf_state *o)
{
	const struct nlattr *a;

	if (!nest_ok(list))
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
		o->has_vlan = true;
		o->vlan = vi.vlan;
		o->qos = vi.qos;
		o->proto = ntohs(vi.vlan_proto);
		return 0; /* the kernel reports one entry (MAX_VLAN_LIST_LEN 1) */
	}
	return 0;
}

static int vf_decode(const struct vfattrs *v, struct hl_vf_pf_state *o)
{
	const void *p;

	if ((p = payload(v->tb[IFLA_VF_MAC], sizeof(struct ifla_vf_mac)))) {
		o->has_mac = true;
		memcpy(o->mac, ((const struct ifla_vf_mac *)p)->mac, 6);
	}
	if ((p = payload(v->tb[IFLA_VF_VLAN], sizeof(struct ifla_vf_vlan)))) {
		struct ifla_vf_vlan vl;

		memcpy(&vl, p, sizeof(vl));
		o->has_vlan = true;
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
		o->has_spoofchk = c.setting != (uint32_t)-1;
		o->spoofchk = c.setting != 0;
	}
	if ((p = payload(v->tb[IFLA_VF_TRUST], sizeof(struct ifla_vf_trust)))) {
		struct ifla_vf_trust t;

		memcpy(&t, p, sizeof(t));
		o->has_trust = t.setting != (uint32_t)-1;
		o->trust = t.setting != 0;
	}
	if ((p = payload(v->tb[IFLA_VF_LINK_STATE], sizeof(struct ifla_vf_link_state)))) {
		struct ifla_vf_link_state l;

		memcpy(&l, p, sizeof(l));
		o->has_link_state = true;
		o->link_state = l.link_state;
	}
	if ((p = payload(v->tb[IFLA_VF_RATE], sizeof(struct ifla_vf_rate)))) {
		struct ifla_vf_rate r;

		memcpy(&r, p, sizeof(r));
		o->has_rate = true;
		o->min_tx_rate = r.min_tx_rate;
		o->max_tx_rate = r.max_tx_rate;
	}
	return 0;
}

struct find {
	const struct nlattr *list;
};

static int top_cb(const struct nlattr *a, void *arg)
{
	struct find *f = arg;

	if (mnl_attr_get_type(a) == IFLA_VFINFO_LIST)
		f->list = a;
	return MNL_CB_OK;
}

int hl_vf_pf_decode(const void *buf, size_t len, uint32_t vf, struct hl_vf_pf_state *out)
{
	const struct nlmsghdr *nlh = buf;
	struct find f = { 0 };
	const struct nlattr *info;

	memset(out, 0, sizeof(*out));
	if (!buf || len < sizeof(*nlh) || !mnl_nlmsg_ok(nlh, (int)(len > INT32_MAX ? INT32_MAX : len)))
		return -EBADMSG;
	/* libmnl walks attributes up to the aligned end of the message */
	if (MNL_ALIGN(nlh->nlmsg_len) > len || nlh->nlmsg_type != RTM_NEWLINK ||
	    mnl_nlmsg_get_payload_len(nlh) < sizeof(struct ifinfomsg))
		return -EBADMSG;
	if (!attrs_fill(mnl_nlmsg_get_payload_offset(nlh, sizeof(struct ifinfomsg)),
			mnl_nlmsg_get_payload_len(nlh) - MNL_ALIGN(sizeof(struct ifinfomsg))))
		return -EBADMSG;
	if (mnl_attr_parse(nlh, sizeof(struct ifinfomsg), top_cb, &f) < 0)
		return -EBADMSG;
	if (!f.list)
		return -ENOENT;
	if (!nest_ok(f.list))
		return -EBADMSG;
	mnl_attr_for_each_nested(info, f.list) {
		struct vfattrs v = { { 0 } };
		uint32_t idx;

		if (mnl_attr_get_type(info) != IFLA_VF_INFO)
			continue;
		if (!nest_ok(info) || mnl_attr_parse_nested(info, vf_attr_cb, &v) < 0)
			return -EBADMSG;
		if (vf_index(&v, &idx) || idx != vf)
			continue;
		out->vf = vf;
		return vf_decode(&v, out);
	}
	return -ENOENT;
}

/* ---- talking to the real PF ---- */

static int pf_index(const struct hl_vf_pool *p, const struct vf_dev *d)
{
	struct vf_link l;
	int rc = hl_vfi_link_get(p->host_nsfd, d->pf, &l);

	return rc ? rc : l.index;
}

int hl_vfi_pf_read(const struct hl_vf_pool *p, const struct vf_dev *d,
		   struct hl_vf_pf_state *st)
{
	char req[256];
	char *reply;
	int idx = pf_index(p, d), rc;

	if (idx < 0)
		return idx;
	rc = hl_vf_pf_getlink_msg(req, sizeof(req), 0, idx);
	if (rc < 0)
		return rc;
	reply = malloc(PF_REPLY_MAX);
	if (!reply)
		return -ENOMEM;
	rc = hl_vfi_nl_request(p->host_nsfd, req, reply, PF_REPLY_MAX);
	if (!rc)
		rc = hl_vf_pf_decode(reply, PF_REPLY_MAX, d->vf, st);
	free(reply);
	return rc;
}

int hl_vfi_pf_apply(const struct hl_vf_pool *p, const struct vf_dev *d,
		    const struct hl_vf_pf_settings *s)
{
	char req[1024];
	int idx, rc;

	if (!hl_vfi_pf_any(s))
		return 0;
	idx = pf_index(p, d);
	if (idx < 0)
		return idx;
	rc = hl_vf_pf_settings_msg(req, sizeof(req), 0, idx, d->vf, s);
	if (rc < 0)
		return rc;
	return hl_vfi_nl_request(p->host_nsfd, req, NULL, 0);
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
