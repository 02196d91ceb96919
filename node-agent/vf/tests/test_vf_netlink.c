/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The PF netlink messages: no real PF exists here, so the RTM_SETLINK
 * requests hlvf builds are decoded with libmnl and compared attribute by
 * attribute (and unrequested ones must be absent); the IFLA_VFINFO_LIST
 * decoder runs on crafted replies (good, truncated, malformed) and on a real
 * kernel reply for "lo".
 */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/if_ether.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hlvf.h"
#include "hl_check.h"

#define BUF 4096

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

static int build(const struct hl_vf_pf_settings *st, uint32_t vf, struct seen *s, char *buf)
{
	int len = hl_vf_pf_settings_msg(buf, BUF, 77, 12, vf, st);

	ck_assert_int_gt(len, 0);
	walk_setlink(buf, len, 12, s);
	return len;
}

START_TEST(t_msg_vlan_8021q)
{
	struct hl_vf_pf_settings st = { .has_vlan = true, .vlan = 100, .has_qos = true, .qos = 5 };
	static const int types[] = { IFLA_VF_VLAN };
	struct ifla_vf_vlan v;
	struct seen s;
	char buf[BUF];

	build(&st, 3, &s, buf);
	only(&s, types, 1);
	memcpy(&v, one(&s, IFLA_VF_VLAN, sizeof(v)), sizeof(v));
	ck_assert_uint_eq(v.vf, 3);
	ck_assert_uint_eq(v.vlan, 100);
	ck_assert_uint_eq(v.qos, 5);
}
END_TEST

START_TEST(t_msg_vlan_8021ad)
{
	struct hl_vf_pf_settings st = { .has_vlan = true, .vlan = 200, .has_qos = true, .qos = 1,
					.has_proto = true, .proto = ETH_P_8021AD };
	static const int types[] = { IFLA_VF_VLAN_LIST };
	struct seen s;
	char buf[BUF];

	build(&st, 7, &s, buf);
	only(&s, types, 1);
	ck_assert_int_eq(s.count[IFLA_VF_VLAN_LIST], 1);
	ck_assert_int_eq(s.nvlan_info, 1);
	ck_assert_uint_eq(s.vlan_info.vf, 7);
	ck_assert_uint_eq(s.vlan_info.vlan, 200);
	ck_assert_uint_eq(s.vlan_info.qos, 1);
	ck_assert_uint_eq(s.vlan_info.vlan_proto, htons(ETH_P_8021AD));
}
END_TEST

START_TEST(t_msg_all)
{
	struct hl_vf_pf_settings st = {
		.has_vlan = true, .vlan = 4095, .has_mac = true,
		.mac = { 0x02, 1, 2, 3, 4, 5 }, .has_spoofchk = true, .spoofchk = false,
		.has_trust = true, .trust = true, .has_link_state = true,
		.link_state = IFLA_VF_LINK_STATE_ENABLE, .has_min_tx_rate = true,
		.min_tx_rate = 10, .has_max_tx_rate = true, .max_tx_rate = 10000,
	};
	static const int types[] = { IFLA_VF_VLAN, IFLA_VF_MAC, IFLA_VF_SPOOFCHK, IFLA_VF_TRUST,
				     IFLA_VF_LINK_STATE, IFLA_VF_RATE };
	struct ifla_vf_mac m;
	struct ifla_vf_spoofchk sc;
	struct ifla_vf_trust tr;
	struct ifla_vf_link_state ls;
	struct ifla_vf_rate r;
	struct ifla_vf_vlan v;
	struct seen s;
	char buf[BUF];

	build(&st, 0, &s, buf);
	only(&s, types, 6);
	memcpy(&m, one(&s, IFLA_VF_MAC, sizeof(m)), sizeof(m));
	ck_assert_uint_eq(m.vf, 0);
	ck_assert_mem_eq(m.mac, st.mac, 6);
	memcpy(&v, one(&s, IFLA_VF_VLAN, sizeof(v)), sizeof(v));
	ck_assert_uint_eq(v.vlan, 4095);
	ck_assert_uint_eq(v.qos, 0);
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

/* Each key alone produces exactly its attribute. */
struct single {
	struct hl_vf_pf_settings st;
	int type;
};

static const struct single singles[] = {
	{ { .has_mac = true, .mac = { 2, 0, 0, 0, 0, 9 } }, IFLA_VF_MAC },
	{ { .has_vlan = true, .vlan = 0 }, IFLA_VF_VLAN },
	{ { .has_spoofchk = true, .spoofchk = true }, IFLA_VF_SPOOFCHK },
	{ { .has_trust = true, .trust = false }, IFLA_VF_TRUST },
	{ { .has_link_state = true, .link_state = IFLA_VF_LINK_STATE_AUTO }, IFLA_VF_LINK_STATE },
	{ { .has_max_tx_rate = true, .max_tx_rate = 500 }, IFLA_VF_RATE },
	{ { .has_min_tx_rate = true, .min_tx_rate = 50 }, IFLA_VF_RATE },
};

START_TEST(t_msg_single)
{
	const struct single *c = &singles[_i];
	struct seen s;
	char buf[BUF];

	build(&c->st, 1, &s, buf);
	only(&s, &c->type, 1);
	ck_assert_int_eq(s.count[c->type], 1);
	ck_assert_uint_eq(*(const uint32_t *)mnl_attr_get_payload(s.a[c->type]), 1);
	if (c->type == IFLA_VF_RATE) { /* the unrequested half is 0: no limit */
		struct ifla_vf_rate r;

		memcpy(&r, mnl_attr_get_payload(s.a[IFLA_VF_RATE]), sizeof(r));
		ck_assert_uint_eq(r.min_tx_rate, c->st.min_tx_rate);
		ck_assert_uint_eq(r.max_tx_rate, c->st.max_tx_rate);
	}
}
END_TEST

START_TEST(t_msg_errors)
{
	struct hl_vf_pf_settings none = { 0 }, st = { .has_vlan = true, .vlan = 5 };
	struct hl_vf_pf_settings bad[] = {
		{ .has_vlan = true, .vlan = 4096 },
		{ .has_qos = true, .qos = 1 },
		{ .has_vlan = true, .vlan = 1, .has_qos = true, .qos = 8 },
		{ .has_vlan = true, .vlan = 1, .has_proto = true, .proto = 0x0800 },
		{ .has_link_state = true, .link_state = 3 },
		{ .has_min_tx_rate = true, .min_tx_rate = 9, .has_max_tx_rate = true,
		  .max_tx_rate = 8 },
	};
	char buf[BUF];

	ck_assert_int_eq(hl_vf_pf_settings_msg(buf, BUF, 1, 12, 0, &none), -EINVAL);
	ck_assert_int_eq(hl_vf_pf_settings_msg(buf, BUF, 1, 0, 0, &st), -EINVAL);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_int_eq(hl_vf_pf_settings_msg(buf, BUF, 1, 12, 0, &bad[i]), -EINVAL);
	ck_assert_int_eq(hl_vf_pf_settings_msg(buf, 8, 1, 12, 0, &st), -ENOSPC);
	ck_assert_int_eq(hl_vf_pf_settings_msg(buf, 40, 1, 12, 0, &st), -ENOSPC);
}
END_TEST

START_TEST(t_getlink_msg)
{
	char buf[BUF];
	const struct nlmsghdr *nlh = (const struct nlmsghdr *)buf;
	const struct nlattr *a;
	int len = hl_vf_pf_getlink_msg(buf, BUF, 9, 4), n = 0;

	ck_assert_int_gt(len, 0);
	ck_assert_uint_eq(nlh->nlmsg_type, RTM_GETLINK);
	ck_assert_int_eq(((const struct ifinfomsg *)mnl_nlmsg_get_payload(nlh))->ifi_index, 4);
	mnl_attr_for_each(a, nlh, sizeof(struct ifinfomsg)) {
		ck_assert_uint_eq(mnl_attr_get_type(a), IFLA_EXT_MASK);
		ck_assert_uint_eq(mnl_attr_get_u32(a), RTEXT_FILTER_VF);
		n++;
	}
	ck_assert_int_eq(n, 1);
	ck_assert_int_eq(hl_vf_pf_getlink_msg(buf, 10, 9, 4), -ENOSPC);
}
END_TEST

/* ---- decoder on crafted replies ---- */

static struct nlmsghdr *reply_start(char *buf)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifinfomsg *ifm;

	nlh->nlmsg_type = RTM_NEWLINK;
	ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
	ifm->ifi_index = 12;
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

START_TEST(t_decode_good)
{
	char buf[BUF];
	struct nlmsghdr *nlh = reply_three(buf);
	struct hl_vf_pf_state st;

	ck_assert_int_eq(hl_vf_pf_decode(buf, nlh->nlmsg_len, 2, &st), 0);
	ck_assert_uint_eq(st.vf, 2);
	ck_assert(st.has_mac && st.mac[0] == 0x02 && st.mac[5] == 2);
	ck_assert(st.has_vlan && st.vlan == 12 && st.qos == 1 && st.proto == ETH_P_8021Q);
	ck_assert(!st.has_rate && !st.has_spoofchk && !st.has_trust && !st.has_link_state);

	ck_assert_int_eq(hl_vf_pf_decode(buf, nlh->nlmsg_len, 1, &st), 0);
	ck_assert(st.has_vlan && st.vlan == 300 && st.qos == 2 && st.proto == ETH_P_8021AD);
	ck_assert(st.has_rate && st.min_tx_rate == 5 && st.max_tx_rate == 50);
	ck_assert(st.has_spoofchk && !st.spoofchk);
	ck_assert(!st.has_trust); /* (u32)-1: not reported by the driver */
	ck_assert(st.has_link_state && st.link_state == 2);

	ck_assert_int_eq(hl_vf_pf_decode(buf, nlh->nlmsg_len, 3, &st), -ENOENT);
}
END_TEST

START_TEST(t_decode_bad)
{
	char buf[BUF];
	struct nlmsghdr *nlh = reply_start(buf);
	struct hl_vf_pf_state st;
	uint32_t full;

	/* no IFLA_VFINFO_LIST at all */
	ck_assert_int_eq(hl_vf_pf_decode(buf, nlh->nlmsg_len, 0, &st), -ENOENT);

	nlh = reply_three(buf);
	full = nlh->nlmsg_len;
	/* a buffer shorter than nlmsg_len claims is refused */
	for (uint32_t cut = 0; cut < full; cut++)
		ck_assert_int_eq(hl_vf_pf_decode(buf, cut, 1, &st), -EBADMSG);
	/* a message cut anywhere (nlmsg_len too): refused, not found, or (cut at
	 * an attribute boundary after VF 1) the right values; never garbage */
	for (uint32_t cut = 0; cut < full; cut++) {
		int rc;

		nlh->nlmsg_len = cut;
		rc = hl_vf_pf_decode(buf, cut, 1, &st);
		ck_assert_msg(rc == 0 || rc == -ENOENT || rc == -EBADMSG, "cut %u: %d", cut, rc);
		if (rc == 0)
			ck_assert(st.vlan == 300 && st.max_tx_rate == 50 && st.mac[5] == 1);
	}
	nlh->nlmsg_len = full;
	nlh->nlmsg_type = RTM_DELLINK;
	ck_assert_int_eq(hl_vf_pf_decode(buf, full, 1, &st), -EBADMSG);
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
		ck_assert_int_eq(hl_vf_pf_decode(buf, n2->nlmsg_len, 0, &st), -EBADMSG);
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
		ck_assert_int_eq(hl_vf_pf_decode(buf, n3->nlmsg_len, 0, &st), 0);
		ck_assert(!st.has_mac);
		ck_assert(st.has_rate && st.max_tx_rate == 2);
	}
	ck_assert_int_eq(hl_vf_pf_decode(NULL, 100, 0, &st), -EBADMSG);
}
END_TEST

/* A real kernel reply ("lo" has no VFs): parsed, no VF entry. */
START_TEST(t_decode_kernel_reply)
{
	char req[256], *reply = malloc(65536);
	struct mnl_socket *nl = mnl_socket_open(NETLINK_ROUTE);
	unsigned int seq = (unsigned int)time(NULL);
	struct hl_vf_pf_state st;
	int len;
	ssize_t n;

	ck_assert_ptr_nonnull(reply);
	ck_assert_ptr_nonnull(nl);
	ck_assert_int_eq(mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID), 0);
	len = hl_vf_pf_getlink_msg(req, sizeof(req), seq, (int)if_nametoindex("lo"));
	ck_assert_int_gt(len, 0);
	((struct nlmsghdr *)req)->nlmsg_flags = NLM_F_REQUEST;
	ck_assert_int_eq(mnl_socket_sendto(nl, req, (size_t)len), len);
	n = mnl_socket_recvfrom(nl, reply, 65536);
	ck_assert_int_gt(n, 0);
	ck_assert_uint_eq(((struct nlmsghdr *)reply)->nlmsg_type, RTM_NEWLINK);
	ck_assert_int_eq(hl_vf_pf_decode(reply, (size_t)n, 0, &st), -ENOENT);
	mnl_socket_close(nl);
	free(reply);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("hlvf-netlink");
	TCase *tc = tcase_create("msg");

	tcase_add_test(tc, t_msg_vlan_8021q);
	tcase_add_test(tc, t_msg_vlan_8021ad);
	tcase_add_test(tc, t_msg_all);
	tcase_add_loop_test(tc, t_msg_single, 0, (int)(sizeof(singles) / sizeof(singles[0])));
	tcase_add_test(tc, t_msg_errors);
	tcase_add_test(tc, t_getlink_msg);
	tcase_add_test(tc, t_decode_good);
	tcase_add_test(tc, t_decode_bad);
	tcase_add_test(tc, t_decode_kernel_reply);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return hl_check_run(suite());
}
