/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hlnl's bytes, no kernel needed: the VF settings request (no SR-IOV PF
 * exists here, so it is decoded with libmnl attribute by attribute, and
 * unrequested attributes must be absent), and the reply side on crafted
 * datagrams: the checks of hlnl_reply_run() (lengths, seq, portid, error
 * codes, interrupted dumps) and the decoders of links, addresses and the
 * PF's IFLA_VFINFO_LIST (good, truncated, malformed).
 */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <limits.h>
#include <linux/if_ether.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <string.h>

#include "hlnl_private.h"
#include "hl_check.h"

#define BUF 4096

/* ---- the VF settings request ---- */

/* What a built SETLINK request carries inside IFLA_VFINFO_LIST/IFLA_VF_INFO. */
struct seen {
	int count[IFLA_VF_MAX + 1];
	const struct nlattr *a[IFLA_VF_MAX + 1];
	int nvlan_info;
	struct ifla_vf_vlan_info vlan_info;
};

static void walk_setlink(const void *buf, int len, int ifindex, struct seen *s)
{
	const struct nlmsghdr *nlh = buf;
	const struct ifinfomsg *ifm;
	const struct nlattr *top, *list = NULL, *info = NULL, *a;
	int ntop = 0, ninfo = 0;

	memset(s, 0, sizeof(*s));
	ck_assert(mnl_nlmsg_ok(nlh, len));
	ck_assert_int_eq((int)nlh->nlmsg_len, len);
	ck_assert_uint_eq(nlh->nlmsg_type, RTM_SETLINK);
	ck_assert_uint_eq(nlh->nlmsg_flags, NLM_F_REQUEST | NLM_F_ACK);
	ck_assert_uint_eq(nlh->nlmsg_seq, 77);
	ifm = mnl_nlmsg_get_payload(nlh);
	ck_assert_int_eq(ifm->ifi_index, ifindex);
	ck_assert_int_eq(ifm->ifi_family, AF_UNSPEC);
	mnl_attr_for_each(top, nlh, sizeof(*ifm)) {
		ntop++;
		ck_assert_uint_eq(mnl_attr_get_type(top), IFLA_VFINFO_LIST);
		list = top;
	}
	ck_assert_int_eq(ntop, 1);
	mnl_attr_for_each_nested(a, list) {
		ninfo++;
		ck_assert_uint_eq(mnl_attr_get_type(a), IFLA_VF_INFO);
		info = a;
	}
	ck_assert_int_eq(ninfo, 1);
	mnl_attr_for_each_nested(a, info) {
		uint16_t t = mnl_attr_get_type(a);

		ck_assert_uint_le(t, IFLA_VF_MAX);
		s->count[t]++;
		s->a[t] = a;
		if (t == IFLA_VF_VLAN_LIST) {
			const struct nlattr *v;

			mnl_attr_for_each_nested(v, a) {
				ck_assert_uint_eq(mnl_attr_get_type(v), IFLA_VF_VLAN_INFO);
				ck_assert_uint_eq(mnl_attr_get_payload_len(v), sizeof(s->vlan_info));
				memcpy(&s->vlan_info, mnl_attr_get_payload(v), sizeof(s->vlan_info));
				s->nvlan_info++;
			}
		}
	}
}

/* The one attribute of @type, with exactly the kernel struct's size. */
static const void *one(const struct seen *s, int type, size_t size)
{
	ck_assert_msg(s->count[type] == 1, "attribute %d: %d times", type, s->count[type]);
	ck_assert_uint_eq(mnl_attr_get_payload_len(s->a[type]), size);
	return mnl_attr_get_payload(s->a[type]);
}

static void only(const struct seen *s, const int *types, size_t n)
{
	for (int t = 0; t <= IFLA_VF_MAX; t++) {
		bool want = false;

		for (size_t i = 0; i < n; i++)
			want |= types[i] == t;
		ck_assert_msg(want || s->count[t] == 0, "unrequested attribute %d present", t);
	}
}

static void build(const struct hlnl_vf *v, struct seen *s, char *buf)
{
	int len = hlnl_vf_set_msg(buf, BUF, 77, 12, v);

	ck_assert_int_gt(len, 0);
	walk_setlink(buf, len, 12, s);
}

START_TEST(t_set_vlan_8021q)
{
	struct hlnl_vf v = { .vf = 3, .has = HLNL_VF_VLAN, .vlan = 100, .qos = 5,
			     .proto = ETH_P_8021Q };
	static const int types[] = { IFLA_VF_VLAN };
	struct ifla_vf_vlan vl;
	struct seen s;
	_Alignas(8) char buf[BUF];

	build(&v, &s, buf);
	only(&s, types, 1);
	memcpy(&vl, one(&s, IFLA_VF_VLAN, sizeof(vl)), sizeof(vl));
	ck_assert_uint_eq(vl.vf, 3);
	ck_assert_uint_eq(vl.vlan, 100);
	ck_assert_uint_eq(vl.qos, 5);
	v.proto = 0; /* 0 means 802.1Q too */
	build(&v, &s, buf);
	only(&s, types, 1);
}
END_TEST

START_TEST(t_set_vlan_8021ad)
{
	struct hlnl_vf v = { .vf = 7, .has = HLNL_VF_VLAN, .vlan = 200, .qos = 1,
			     .proto = ETH_P_8021AD };
	static const int types[] = { IFLA_VF_VLAN_LIST };
	struct seen s;
	_Alignas(8) char buf[BUF];

	build(&v, &s, buf);
	only(&s, types, 1);
	ck_assert_int_eq(s.count[IFLA_VF_VLAN_LIST], 1);
	ck_assert_int_eq(s.nvlan_info, 1);
	ck_assert_uint_eq(s.vlan_info.vf, 7);
	ck_assert_uint_eq(s.vlan_info.vlan, 200);
	ck_assert_uint_eq(s.vlan_info.qos, 1);
	ck_assert_uint_eq(s.vlan_info.vlan_proto, htons(ETH_P_8021AD));
}
END_TEST

START_TEST(t_set_all)
{
	struct hlnl_vf v = {
		.vf = 0, .has = HLNL_VF_ALL, .vlan = 4095, .proto = ETH_P_8021Q,
		.mac = { 0x02, 1, 2, 3, 4, 5 }, .spoofchk = false, .trust = true,
		.link_state = IFLA_VF_LINK_STATE_ENABLE, .min_tx_rate = 10, .max_tx_rate = 10000,
	};
	static const int types[] = { IFLA_VF_VLAN, IFLA_VF_MAC, IFLA_VF_SPOOFCHK, IFLA_VF_TRUST,
				     IFLA_VF_LINK_STATE, IFLA_VF_RATE };
	struct ifla_vf_mac m;
	struct ifla_vf_spoofchk sc;
	struct ifla_vf_trust tr;
	struct ifla_vf_link_state ls;
	struct ifla_vf_rate r;
	struct ifla_vf_vlan vl;
	struct seen s;
	_Alignas(8) char buf[BUF];

	build(&v, &s, buf);
	only(&s, types, 6);
	memcpy(&m, one(&s, IFLA_VF_MAC, sizeof(m)), sizeof(m));
	ck_assert_uint_eq(m.vf, 0);
	ck_assert_mem_eq(m.mac, v.mac, 6);
	memcpy(&vl, one(&s, IFLA_VF_VLAN, sizeof(vl)), sizeof(vl));
	ck_assert_uint_eq(vl.vlan, 4095);
	ck_assert_uint_eq(vl.qos, 0);
	memcpy(&sc, one(&s, IFLA_VF_SPOOFCHK, sizeof(sc)), sizeof(sc));
	ck_assert_uint_eq(sc.setting, 0);
	memcpy(&tr, one(&s, IFLA_VF_TRUST, sizeof(tr)), sizeof(tr));
	ck_assert_uint_eq(tr.setting, 1);
	memcpy(&ls, one(&s, IFLA_VF_LINK_STATE, sizeof(ls)), sizeof(ls));
	ck_assert_uint_eq(ls.link_state, IFLA_VF_LINK_STATE_ENABLE);
	memcpy(&r, one(&s, IFLA_VF_RATE, sizeof(r)), sizeof(r));
	ck_assert_uint_eq(r.min_tx_rate, 10);
	ck_assert_uint_eq(r.max_tx_rate, 10000);
}
END_TEST

/* Each group alone produces exactly its attribute, for the right VF. */
static const struct { unsigned int has; int type; } singles[] = {
	{ HLNL_VF_MAC, IFLA_VF_MAC },
	{ HLNL_VF_VLAN, IFLA_VF_VLAN },
	{ HLNL_VF_SPOOFCHK, IFLA_VF_SPOOFCHK },
	{ HLNL_VF_TRUST, IFLA_VF_TRUST },
	{ HLNL_VF_LINK_STATE, IFLA_VF_LINK_STATE },
	{ HLNL_VF_RATE, IFLA_VF_RATE },
};

START_TEST(t_set_single)
{
	struct hlnl_vf v = { .vf = 1, .has = singles[_i].has, .max_tx_rate = 500 };
	struct seen s;
	_Alignas(8) char buf[BUF];
	uint32_t vf;

	build(&v, &s, buf);
	only(&s, &singles[_i].type, 1);
	ck_assert_int_eq(s.count[singles[_i].type], 1);
	memcpy(&vf, mnl_attr_get_payload(s.a[singles[_i].type]), sizeof(vf));
	ck_assert_uint_eq(vf, 1);
}
END_TEST

START_TEST(t_set_errors)
{
	struct hlnl_vf ok = { .has = HLNL_VF_VLAN, .vlan = 5 };
	struct hlnl_vf bad[] = {
		{ .has = 0 },
		{ .has = 1u << 6 },
		{ .has = HLNL_VF_VLAN, .vlan = 4096 },
		{ .has = HLNL_VF_VLAN, .vlan = 1, .qos = 8 },
		{ .has = HLNL_VF_VLAN, .vlan = 1, .proto = 0x0800 },
		{ .has = HLNL_VF_LINK_STATE, .link_state = 3 },
		{ .has = HLNL_VF_RATE, .min_tx_rate = 9, .max_tx_rate = 8 },
	};
	_Alignas(8) char buf[BUF];

	ck_assert_int_eq(hlnl_vf_set_msg(buf, BUF, 1, 0, &ok), -EINVAL);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(hlnl_vf_set_msg(buf, BUF, 1, 12, &bad[i]) == -EINVAL,
			      "bad[%zu] accepted", i);
	ck_assert_int_eq(hlnl_vf_set_msg(buf, 8, 1, 12, &ok), -ENOSPC);
	ck_assert_int_eq(hlnl_vf_set_msg(buf, 40, 1, 12, &ok), -ENOSPC);
	/* the rate with only min set and max 0 (no limit) is fine */
	ok = (struct hlnl_vf){ .has = HLNL_VF_RATE, .min_tx_rate = 9 };
	ck_assert_int_gt(hlnl_vf_set_msg(buf, BUF, 1, 12, &ok), 0);
}
END_TEST

/* ---- crafted replies ---- */

#define SEQ 41
#define PORT 4242

static struct nlmsghdr *reply_start(char *buf)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifinfomsg *ifm;

	nlh->nlmsg_type = RTM_NEWLINK;
	nlh->nlmsg_seq = SEQ;
	nlh->nlmsg_pid = PORT;
	ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
	ifm->ifi_index = 12;
	ifm->ifi_flags = IFF_UP;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, "pf0");
	mnl_attr_put_u32(nlh, IFLA_MTU, 1500);
	return nlh;
}

static void put_vf(struct nlmsghdr *nlh, uint32_t vf, bool full)
{
	struct nlattr *info = mnl_attr_nest_start(nlh, IFLA_VF_INFO);
	struct ifla_vf_mac m = { .vf = vf, .mac = { 0x02, 0, 0, 0, 0, (uint8_t)vf } };
	struct ifla_vf_vlan v = { .vf = vf, .vlan = 10 + vf, .qos = 1 };

	mnl_attr_put(nlh, IFLA_VF_MAC, sizeof(m), &m);
	mnl_attr_put(nlh, IFLA_VF_VLAN, sizeof(v), &v);
	if (full) {
		struct ifla_vf_vlan_info vi = { .vf = vf, .vlan = 300, .qos = 2,
						.vlan_proto = htons(ETH_P_8021AD) };
		struct ifla_vf_rate r = { .vf = vf, .min_tx_rate = 5, .max_tx_rate = 50 };
		struct ifla_vf_spoofchk sc = { .vf = vf, .setting = 0 };
		struct ifla_vf_trust tr = { .vf = vf, .setting = (uint32_t)-1 };
		struct ifla_vf_link_state ls = { .vf = vf, .link_state = 2 };
		struct nlattr *list = mnl_attr_nest_start(nlh, IFLA_VF_VLAN_LIST), *stats;

		mnl_attr_put(nlh, IFLA_VF_VLAN_INFO, sizeof(vi), &vi);
		mnl_attr_nest_end(nlh, list);
		mnl_attr_put(nlh, IFLA_VF_RATE, sizeof(r), &r);
		mnl_attr_put(nlh, IFLA_VF_SPOOFCHK, sizeof(sc), &sc);
		mnl_attr_put(nlh, IFLA_VF_TRUST, sizeof(tr), &tr);
		mnl_attr_put(nlh, IFLA_VF_LINK_STATE, sizeof(ls), &ls);
		stats = mnl_attr_nest_start(nlh, IFLA_VF_STATS);
		mnl_attr_put_u64(nlh, IFLA_VF_STATS_RX_PACKETS, 1234);
		mnl_attr_nest_end(nlh, stats);
	}
	mnl_attr_nest_end(nlh, info);
}

static struct nlmsghdr *reply_three(char *buf)
{
	struct nlmsghdr *nlh = reply_start(buf);
	struct nlattr *list = mnl_attr_nest_start(nlh, IFLA_VFINFO_LIST);

	put_vf(nlh, 0, false);
	put_vf(nlh, 1, true);
	put_vf(nlh, 2, false);
	mnl_attr_nest_end(nlh, list);
	mnl_attr_put_u32(nlh, IFLA_NUM_VF, 3);
	return nlh;
}

/* An NLMSG_ERROR with @err after the message at @buf (@off bytes in). */
static size_t put_error(char *buf, size_t off, int err)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf + off);
	struct nlmsgerr *e;

	nlh->nlmsg_type = NLMSG_ERROR;
	nlh->nlmsg_seq = SEQ;
	nlh->nlmsg_pid = PORT;
	e = mnl_nlmsg_put_extra_header(nlh, sizeof(*e));
	e->error = err;
	return off + nlh->nlmsg_len;
}

/* The VF get callback over a datagram: its return, and g.rc. */
static int vf_run(const char *buf, size_t n, uint32_t vf, struct hlnl_vf *out, int *found)
{
	struct hlnl_vf_get_arg g = { .vf = vf, .out = out, .rc = -ENOENT };
	int rc = hlnl_reply_run(buf, n, SEQ, PORT, hlnl_vf_get_reply_cb, &g);

	*found = g.rc;
	return rc;
}

START_TEST(t_vf_decode_good)
{
	_Alignas(8) char buf[BUF];
	struct nlmsghdr *nlh = reply_three(buf);
	size_t n = put_error(buf, nlh->nlmsg_len, 0); /* reply, then the ack */
	struct hlnl_vf v;
	int found;

	ck_assert_int_eq(vf_run(buf, n, 2, &v, &found), 0);
	ck_assert_int_eq(found, 0);
	ck_assert_uint_eq(v.vf, 2);
	ck_assert_uint_eq(v.has, HLNL_VF_MAC | HLNL_VF_VLAN);
	ck_assert(v.mac[0] == 0x02 && v.mac[5] == 2);
	ck_assert(v.vlan == 12 && v.qos == 1 && v.proto == ETH_P_8021Q);

	ck_assert_int_eq(vf_run(buf, n, 1, &v, &found), 0);
	ck_assert_int_eq(found, 0);
	ck_assert(v.vlan == 300 && v.qos == 2 && v.proto == ETH_P_8021AD);
	ck_assert((v.has & HLNL_VF_RATE) && v.min_tx_rate == 5 && v.max_tx_rate == 50);
	ck_assert((v.has & HLNL_VF_SPOOFCHK) && !v.spoofchk);
	ck_assert(!(v.has & HLNL_VF_TRUST)); /* (u32)-1: not reported by the driver */
	ck_assert((v.has & HLNL_VF_LINK_STATE) && v.link_state == 2);

	ck_assert_int_eq(vf_run(buf, n, 3, &v, &found), 0);
	ck_assert_int_eq(found, -ENOENT);
	/* the message alone: more is to come (the ack) */
	ck_assert_int_eq(vf_run(buf, nlh->nlmsg_len, 1, &v, &found), 1);
	ck_assert_int_eq(found, 0);
}
END_TEST

START_TEST(t_vf_decode_bad)
{
	_Alignas(8) char buf[BUF];
	struct nlmsghdr *nlh = reply_start(buf);
	struct hlnl_vf v;
	uint32_t full;

	/* no IFLA_VFINFO_LIST at all */
	ck_assert_int_eq(hlnl_vf_parse(nlh, 0, &v), -ENOENT);

	nlh = reply_three(buf);
	full = nlh->nlmsg_len;
	/* a datagram shorter than nlmsg_len claims is refused before decoding */
	for (uint32_t cut = 0; cut < full; cut++) {
		int found;

		ck_assert_int_eq(vf_run(buf, cut, 1, &v, &found), -EBADMSG);
		ck_assert_int_eq(found, -ENOENT);
	}
	/* a message cut anywhere (nlmsg_len too): refused, not found, or (cut at
	 * an attribute boundary after VF 1) the right values; never garbage */
	for (uint32_t cut = sizeof(struct nlmsghdr); cut < full; cut++) {
		int rc;

		nlh->nlmsg_len = cut;
		rc = hlnl_vf_parse(nlh, 1, &v);
		ck_assert_msg(rc == 0 || rc == -ENOENT || rc == -EBADMSG, "cut %u: %d", cut, rc);
		if (rc == 0)
			ck_assert(v.vlan == 300 && v.max_tx_rate == 50 && v.mac[5] == 1);
	}
	nlh->nlmsg_len = full;
	nlh->nlmsg_type = RTM_DELLINK;
	ck_assert_int_eq(hlnl_vf_parse(nlh, 1, &v), -EBADMSG);
	nlh->nlmsg_type = RTM_NEWLINK;

	/* an attribute length that overruns its nest */
	{
		struct nlmsghdr *n2 = reply_start(buf);
		struct nlattr *list = mnl_attr_nest_start(n2, IFLA_VFINFO_LIST);
		struct nlattr *info = mnl_attr_nest_start(n2, IFLA_VF_INFO);
		struct ifla_vf_mac m = { .vf = 0 };
		struct nlattr *mac = mnl_nlmsg_get_payload_tail(n2);

		mnl_attr_put(n2, IFLA_VF_MAC, sizeof(m), &m);
		mnl_attr_nest_end(n2, info);
		mnl_attr_nest_end(n2, list);
		mac->nla_len = 200;
		ck_assert_int_eq(hlnl_vf_parse(n2, 0, &v), -EBADMSG);
	}
	/* attributes shorter than their struct are ignored, not read */
	{
		struct nlmsghdr *n3 = reply_start(buf);
		struct nlattr *list = mnl_attr_nest_start(n3, IFLA_VFINFO_LIST);
		struct nlattr *info = mnl_attr_nest_start(n3, IFLA_VF_INFO);
		struct ifla_vf_rate r = { .vf = 0, .min_tx_rate = 1, .max_tx_rate = 2 };
		uint32_t vf = 0;

		mnl_attr_put(n3, IFLA_VF_MAC, sizeof(vf), &vf);
		mnl_attr_put(n3, IFLA_VF_RATE, sizeof(r), &r);
		mnl_attr_nest_end(n3, info);
		mnl_attr_nest_end(n3, list);
		ck_assert_int_eq(hlnl_vf_parse(n3, 0, &v), 0);
		ck_assert_uint_eq(v.has, HLNL_VF_RATE);
		ck_assert_uint_eq(v.max_tx_rate, 2);
	}
}
END_TEST

/* ---- hlnl_reply_run's own checks ---- */

START_TEST(t_reply_checks)
{
	_Alignas(8) char buf[BUF];
	struct nlmsghdr *nlh = reply_start(buf);
	size_t n = put_error(buf, nlh->nlmsg_len, 0);
	struct hlnl_link l;

	ck_assert_int_eq(hlnl_reply_run(buf, n, SEQ, PORT, hlnl_link_get_reply_cb, &l), 0);
	ck_assert_int_eq(l.index, 12);
	ck_assert_str_eq(l.name, "pf0");
	ck_assert_uint_eq(l.mtu, 1500);
	/* another request's reply, or another socket's */
	ck_assert_int_eq(hlnl_reply_run(buf, n, SEQ + 1, PORT, hlnl_link_get_reply_cb, &l),
			 -EPROTO);
	ck_assert_int_eq(hlnl_reply_run(buf, n, SEQ, PORT + 1, hlnl_link_get_reply_cb, &l),
			 -ESRCH);
	/* stray bytes after the last message */
	ck_assert_int_eq(hlnl_reply_run(buf, n + 4, SEQ, PORT, NULL, NULL), -EBADMSG);
	/* a length that wraps when aligned */
	nlh->nlmsg_len = UINT32_MAX - 1;
	ck_assert_int_eq(hlnl_reply_run(buf, n, SEQ, PORT, NULL, NULL), -EBADMSG);
	/* an interrupted dump is reported */
	nlh = reply_start(buf);
	nlh->nlmsg_flags |= NLM_F_DUMP_INTR;
	ck_assert_int_eq(hlnl_reply_run(buf, nlh->nlmsg_len, SEQ, PORT, NULL, NULL), -EINTR);
}
END_TEST

/* An NLMSG_ERROR's code is any 32-bit value: out comes -errno in range. */
static const struct { int err; int want; } errs[] = {
	{ 0, 0 }, { -EEXIST, -EEXIST }, { -ENODEV, -ENODEV }, { EPERM, -EPERM },
	{ INT_MIN, -EIO }, { -5000, -EIO }, { INT_MAX, -EIO },
};

START_TEST(t_reply_errors)
{
	_Alignas(8) char buf[BUF];
	size_t n = put_error(buf, 0, errs[_i].err);

	ck_assert_int_eq(hlnl_reply_run(buf, n, SEQ, PORT, NULL, NULL), errs[_i].want);
	/* a short error message is malformed */
	((struct nlmsghdr *)buf)->nlmsg_len = sizeof(struct nlmsghdr) + 4;
	ck_assert_int_eq(hlnl_reply_run(buf, sizeof(struct nlmsghdr) + 4, SEQ, PORT, NULL, NULL),
			 -EBADMSG);
}
END_TEST

START_TEST(t_link_decode)
{
	_Alignas(8) char buf[BUF];
	struct nlmsghdr *nlh = reply_start(buf);
	struct nlattr *li = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	uint8_t mac[6] = { 2, 1, 1, 1, 1, 1 };
	char longname[40];
	struct hlnl_link l;
	uint32_t full;

	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "veth");
	mnl_attr_nest_end(nlh, li);
	mnl_attr_put(nlh, IFLA_ADDRESS, 6, mac);
	mnl_attr_put_u32(nlh, IFLA_MASTER, 7);
	ck_assert_int_eq(hlnl_link_parse(nlh, &l), 0);
	ck_assert_str_eq(l.kind, "veth");
	ck_assert_mem_eq(l.mac, mac, 6);
	ck_assert_int_eq(l.master, 7);
	ck_assert(l.flags & IFF_UP);
	/* stray bytes inside the message are malformed */
	full = nlh->nlmsg_len;
	nlh->nlmsg_len = full + 2;
	ck_assert_int_eq(hlnl_link_parse(nlh, &l), -EBADMSG);
	nlh->nlmsg_len = full;
	/* a name without room for its NUL is cut, never read past */
	nlh = reply_start(buf);
	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	((struct nlattr *)((char *)nlh + MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof(struct ifinfomsg))))
		->nla_type = IFLA_IFALIAS + 100; /* hide the first name */
	mnl_attr_put_strz(nlh, IFLA_IFNAME, longname);
	ck_assert_int_eq(hlnl_link_parse(nlh, &l), 0);
	ck_assert_uint_eq(strlen(l.name), IF_NAMESIZE - 1);
	/* a u32 attribute of another size is ignored */
	nlh = reply_start(buf);
	mnl_attr_put_u16(nlh, IFLA_MASTER, 3);
	ck_assert_int_eq(hlnl_link_parse(nlh, &l), 0);
	ck_assert_int_eq(l.master, 0); /* the malformed attribute is ignored */
}
END_TEST

START_TEST(t_addr_decode)
{
	_Alignas(8) char buf[BUF];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifaddrmsg *ifa;
	struct hlnl_addr out[2];
	struct hlnl_addr_list_arg al = { 0, out, 2, 0 };
	uint8_t ip4[4] = { 10, 77, 0, 2 }, ip6[16] = { 0xfd, 0x77 };
	size_t off;

	nlh->nlmsg_type = RTM_NEWADDR;
	nlh->nlmsg_seq = SEQ;
	nlh->nlmsg_pid = PORT;
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = AF_INET;
	ifa->ifa_prefixlen = 24;
	ifa->ifa_index = 5;
	mnl_attr_put(nlh, IFA_LOCAL, 4, ip4);
	off = nlh->nlmsg_len;
	/* a v4 family with a v6-sized address, and a prefix too long: skipped */
	nlh = mnl_nlmsg_put_header(buf + off);
	nlh->nlmsg_type = RTM_NEWADDR;
	nlh->nlmsg_seq = SEQ;
	nlh->nlmsg_pid = PORT;
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = AF_INET;
	ifa->ifa_prefixlen = 24;
	ifa->ifa_index = 5;
	mnl_attr_put(nlh, IFA_ADDRESS, 16, ip6);
	off += nlh->nlmsg_len;
	nlh = mnl_nlmsg_put_header(buf + off);
	nlh->nlmsg_type = RTM_NEWADDR;
	nlh->nlmsg_seq = SEQ;
	nlh->nlmsg_pid = PORT;
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = AF_INET6;
	ifa->ifa_prefixlen = 129;
	ifa->ifa_index = 5;
	mnl_attr_put(nlh, IFA_ADDRESS, 16, ip6);
	off += nlh->nlmsg_len;
	nlh = mnl_nlmsg_put_header(buf + off);
	nlh->nlmsg_type = NLMSG_DONE;
	nlh->nlmsg_seq = SEQ;
	nlh->nlmsg_pid = PORT;
	mnl_nlmsg_put_extra_header(nlh, sizeof(int));
	off += nlh->nlmsg_len;
	ck_assert_int_eq(hlnl_reply_run(buf, off, SEQ, PORT, hlnl_addr_list_reply_cb, &al),
			 0);
	ck_assert_int_eq(al.n, 1);
	ck_assert_int_eq(out[0].family, AF_INET);
	ck_assert_int_eq(out[0].prefix, 24);
	ck_assert_int_eq(out[0].index, 5);
	ck_assert_mem_eq(out[0].addr, ip4, 4);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("hlnl-codec");
	TCase *tc = tcase_create("codec");

	tcase_add_test(tc, t_set_vlan_8021q);
	tcase_add_test(tc, t_set_vlan_8021ad);
	tcase_add_test(tc, t_set_all);
	tcase_add_loop_test(tc, t_set_single, 0, (int)(sizeof(singles) / sizeof(singles[0])));
	tcase_add_test(tc, t_set_errors);
	tcase_add_test(tc, t_vf_decode_good);
	tcase_add_test(tc, t_vf_decode_bad);
	tcase_add_test(tc, t_reply_checks);
	tcase_add_loop_test(tc, t_reply_errors, 0, (int)(sizeof(errs) / sizeof(errs[0])));
	tcase_add_test(tc, t_link_decode);
	tcase_add_test(tc, t_addr_decode);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return hl_check_run(suite());
}
