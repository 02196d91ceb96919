/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The VF code's side of the PF netlink: sriov-cni settings to libhlnl's
 * struct hlnl_vf (unrequested groups absent, defaults filled the way the
 * kernel reads them), what the PF reports back to the recorded state, the
 * validation, and the PF calls against the real kernel: in a private netns
 * a veth stands in for the PF, so a read finds no VF list (-ENOENT) and a
 * write is parsed by the kernel down to the driver, which has no VF
 * operations (-EOPNOTSUPP; a malformed request is refused before that,
 * with -ERANGE or -EINVAL). The request bytes themselves are checked in
 * lib/netlink/tests.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_ether.h>
#include <linux/if_link.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vf_private.h"
#include "hl_check.h"

/* ---- settings -> hlnl_vf ---- */

START_TEST(t_nl_vlan_8021q)
{
	struct hl_vf_pf_settings st = { .has_vlan = true, .vlan = 100, .has_qos = true, .qos = 5 };
	struct hlnl_vf v;

	hl_vfi_pf_to_nl(&st, 3, &v);
	ck_assert_uint_eq(v.has, HLNL_VF_VLAN);
	ck_assert_uint_eq(v.vf, 3);
	ck_assert_uint_eq(v.vlan, 100);
	ck_assert_uint_eq(v.qos, 5);
	ck_assert_uint_eq(v.proto, ETH_P_8021Q);
}
END_TEST

START_TEST(t_nl_vlan_8021ad)
{
	struct hl_vf_pf_settings st = { .has_vlan = true, .vlan = 200, .has_qos = true, .qos = 1,
					.has_proto = true, .proto = ETH_P_8021AD };
	struct hlnl_vf v;

	hl_vfi_pf_to_nl(&st, 7, &v);
	ck_assert_uint_eq(v.has, HLNL_VF_VLAN);
	ck_assert_uint_eq(v.vf, 7);
	ck_assert_uint_eq(v.vlan, 200);
	ck_assert_uint_eq(v.qos, 1);
	ck_assert_uint_eq(v.proto, ETH_P_8021AD);
}
END_TEST

START_TEST(t_nl_all)
{
	struct hl_vf_pf_settings st = {
		.has_vlan = true, .vlan = 4095, .has_mac = true,
		.mac = { 0x02, 1, 2, 3, 4, 5 }, .has_spoofchk = true, .spoofchk = false,
		.has_trust = true, .trust = true, .has_link_state = true,
		.link_state = IFLA_VF_LINK_STATE_ENABLE, .has_min_tx_rate = true,
		.min_tx_rate = 10, .has_max_tx_rate = true, .max_tx_rate = 10000,
	};
	struct hlnl_vf v;

	hl_vfi_pf_to_nl(&st, 0, &v);
	ck_assert_uint_eq(v.has, HLNL_VF_ALL);
	ck_assert_mem_eq(v.mac, st.mac, 6);
	ck_assert_uint_eq(v.vlan, 4095);
	ck_assert_uint_eq(v.qos, 0); /* vlan without vlanQoS */
	ck_assert_uint_eq(v.proto, ETH_P_8021Q);
	ck_assert(!v.spoofchk);
	ck_assert(v.trust);
	ck_assert_uint_eq(v.link_state, IFLA_VF_LINK_STATE_ENABLE);
	ck_assert_uint_eq(v.min_tx_rate, 10);
	ck_assert_uint_eq(v.max_tx_rate, 10000);
}
END_TEST

/* Each key alone gives exactly its group. */
struct single {
	struct hl_vf_pf_settings st;
	unsigned int has;
};

static const struct single singles[] = {
	{ { .has_mac = true, .mac = { 2, 0, 0, 0, 0, 9 } }, HLNL_VF_MAC },
	{ { .has_vlan = true, .vlan = 0 }, HLNL_VF_VLAN },
	{ { .has_spoofchk = true, .spoofchk = true }, HLNL_VF_SPOOFCHK },
	{ { .has_trust = true, .trust = false }, HLNL_VF_TRUST },
	{ { .has_link_state = true, .link_state = IFLA_VF_LINK_STATE_AUTO }, HLNL_VF_LINK_STATE },
	{ { .has_max_tx_rate = true, .max_tx_rate = 500 }, HLNL_VF_RATE },
	{ { .has_min_tx_rate = true, .min_tx_rate = 50 }, HLNL_VF_RATE },
};

START_TEST(t_nl_single)
{
	const struct single *c = &singles[_i];
	struct hlnl_vf v;

	hl_vfi_pf_to_nl(&c->st, 1, &v);
	ck_assert_uint_eq(v.has, c->has);
	ck_assert_uint_eq(v.vf, 1);
	if (c->has == HLNL_VF_RATE) { /* the unrequested half is 0: no limit */
		ck_assert_uint_eq(v.min_tx_rate, c->st.min_tx_rate);
		ck_assert_uint_eq(v.max_tx_rate, c->st.max_tx_rate);
	}
	if (c->has == HLNL_VF_SPOOFCHK)
		ck_assert(v.spoofchk);
	if (c->has == HLNL_VF_MAC)
		ck_assert_uint_eq(v.mac[5], 9);
}
END_TEST

START_TEST(t_validate)
{
	struct hl_vf_pf_settings ok = { .has_vlan = true, .vlan = 5 };
	struct hl_vf_pf_settings bad[] = {
		{ .has_vlan = true, .vlan = 4096 },
		{ .has_vlan = true, .vlan = -1 },
		{ .has_qos = true, .qos = 1 },
		{ .has_vlan = true, .vlan = 1, .has_qos = true, .qos = 8 },
		{ .has_vlan = true, .vlan = 1, .has_proto = true, .proto = 0x0800 },
		{ .has_link_state = true, .link_state = 3 },
		{ .has_min_tx_rate = true, .min_tx_rate = 9, .has_max_tx_rate = true,
		  .max_tx_rate = 8 },
	};

	ck_assert_int_eq(hl_vfi_pf_validate(&ok), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(hl_vfi_pf_validate(&bad[i]) == -EINVAL, "bad[%zu] accepted", i);
}
END_TEST

/* ---- hlnl_vf -> recorded state ---- */

START_TEST(t_state_from_nl)
{
	struct hlnl_vf v = {
		.vf = 4, .has = HLNL_VF_MAC | HLNL_VF_VLAN | HLNL_VF_RATE | HLNL_VF_SPOOFCHK,
		.mac = { 2, 9, 9, 9, 9, 4 }, .vlan = 300, .qos = 2, .proto = ETH_P_8021AD,
		.min_tx_rate = 5, .max_tx_rate = 50, .spoofchk = false, .trust = true,
		.link_state = 2,
	};
	struct hl_vf_pf_state st;

	memset(&st, 0xff, sizeof(st)); /* every field is written */
	hl_vfi_pf_from_nl(&v, &st);
	ck_assert_uint_eq(st.vf, 4);
	ck_assert(st.has_mac && st.mac[5] == 4);
	ck_assert(st.has_vlan && st.vlan == 300 && st.qos == 2 && st.proto == ETH_P_8021AD);
	ck_assert(st.has_rate && st.min_tx_rate == 5 && st.max_tx_rate == 50);
	ck_assert(st.has_spoofchk && !st.spoofchk);
	/* groups the driver did not report stay unreported, whatever the values */
	ck_assert(!st.has_trust && !st.trust);
	ck_assert(!st.has_link_state && st.link_state == 0);
}
END_TEST

/* ---- the PF calls against the kernel, a veth as the PF ---- */

struct fake_pf {
	struct hl_vf_pool pool;
	struct vf_dev dev;
};

static void fake_pf(struct fake_pf *f)
{
	char cmd[128];

	ck_assert_msg(unshare(CLONE_NEWNET) == 0, "unshare: %s", strerror(errno));
	memset(f, 0, sizeof(*f));
	f->pool.host_nsfd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	ck_assert_int_ge(f->pool.host_nsfd, 0);
	snprintf(cmd, sizeof(cmd), "ip link add tpf0 type veth peer name tpf0p");
	ck_assert_int_eq(system(cmd), 0);
	snprintf(f->dev.pf, sizeof(f->dev.pf), "tpf0");
	snprintf(f->dev.pci, sizeof(f->dev.pci), "0000:3b:02.1");
	f->dev.vf = 1;
}

START_TEST(t_pf_read_no_vfs)
{
	struct fake_pf f;
	struct hl_vf_pf_state st;

	fake_pf(&f);
	ck_assert_int_eq(hl_vfi_pf_read(&f.pool, &f.dev, &st), -ENOENT);
	snprintf(f.dev.pf, sizeof(f.dev.pf), "tnopf0");
	ck_assert_int_eq(hl_vfi_pf_read(&f.pool, &f.dev, &st), -ENODEV);
	close(f.pool.host_nsfd);
}
END_TEST

START_TEST(t_pf_apply_reaches_driver)
{
	const struct single *c = &singles[_i];
	struct fake_pf f;

	fake_pf(&f);
	ck_assert_int_eq(hl_vfi_pf_apply(&f.pool, &f.dev, &c->st), -EOPNOTSUPP);
	close(f.pool.host_nsfd);
}
END_TEST

START_TEST(t_pf_apply_errors)
{
	struct hl_vf_pf_settings none = { 0 }, bad = { .has_vlan = true, .vlan = 4096 };
	struct hl_vf_pf_settings ad = { .has_vlan = true, .vlan = 10, .has_proto = true,
					.proto = ETH_P_8021AD };
	struct fake_pf f;

	fake_pf(&f);
	ck_assert_int_eq(hl_vfi_pf_apply(&f.pool, &f.dev, &none), 0); /* nothing to send */
	ck_assert_int_eq(hl_vfi_pf_apply(&f.pool, &f.dev, &bad), -EINVAL);
	ck_assert_int_eq(hl_vfi_pf_apply(&f.pool, &f.dev, &ad), -EOPNOTSUPP);
	snprintf(f.dev.pf, sizeof(f.dev.pf), "tnopf0");
	ck_assert_int_eq(hl_vfi_pf_apply(&f.pool, &f.dev, &ad), -ENODEV);
	close(f.pool.host_nsfd);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("hlvf-netlink");
	TCase *tc = tcase_create("map");
	int nsingles = (int)(sizeof(singles) / sizeof(singles[0]));

	tcase_add_test(tc, t_nl_vlan_8021q);
	tcase_add_test(tc, t_nl_vlan_8021ad);
	tcase_add_test(tc, t_nl_all);
	tcase_add_loop_test(tc, t_nl_single, 0, nsingles);
	tcase_add_test(tc, t_validate);
	tcase_add_test(tc, t_state_from_nl);
	suite_add_tcase(s, tc);
	if (geteuid() == 0) {
		tc = tcase_create("kernel");
		tcase_add_test(tc, t_pf_read_no_vfs);
		tcase_add_loop_test(tc, t_pf_apply_reaches_driver, 0, nsingles);
		tcase_add_test(tc, t_pf_apply_errors);
		suite_add_tcase(s, tc);
	}
	return s;
}

int main(void)
{
	int rc = hl_check_run(suite());

	if (geteuid() != 0) {
		const char *tap = getenv("CK_TAP_LOG_FILE_NAME");
		FILE *f = tap ? fopen(tap, "a") : NULL;
		const char *line = "ok - test_vf_netlink kernel # SKIP needs root (network namespaces)\n";

		fputs(line, stdout);
		if (f) {
			fputs(line, f);
			fclose(f);
		}
	}
	return rc;
}
