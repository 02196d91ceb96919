/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Service map (monitor/src/svcmap.c): lookups, and the choice of an
 * endpoint as kube-proxy makes it: uniform over the ready endpoints,
 * terminating ones only when none is ready, the topology policies, and
 * ClientIP session affinity with its timeout. Choices are seeded, so the
 * spread checks are deterministic.
 */
#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hl_check.h"
#include "hl_codec.h"
#include "svcmap.h"

#define EP(a, p, r, l) { .addr = (a), .port = (p), .ready = (r), .serving = (r), .local = (l) }

static struct hl_proto_addr A(const char *s)
{
	struct hl_proto_addr a;

	ck_assert_int_eq(hl_proto_addr_parse(s, &a), 0);
	return a;
}

static struct hl_mon_svcmap *map1(const struct hl_mon_svc_endpoint *eps, size_t n,
				  enum hl_mon_svc_topology topo, bool aff)
{
	struct hl_mon_svcmap *m = hl_mon_svcmap_new();
	struct hl_mon_svc s = { .name = "default/web:http", .vip = "10.96.0.10", .port = 80,
				.topology = topo, .affinity = aff, .affinity_timeout_s = 10,
				.eps = eps, .n_eps = n };

	ck_assert_ptr_nonnull(m);
	ck_assert_int_eq(hl_mon_svcmap_add(m, &s), 0);
	mon_svc_seed(m, 42);
	return m;
}

/* Picks @rounds times from distinct clients; counts per endpoint index. */
static void spread(struct hl_mon_svcmap *m, const struct hl_mon_svc_endpoint *eps, size_t n,
		   unsigned rounds, unsigned *count)
{
	struct hl_proto_addr vip = A("10.96.0.10"), ep, cl = A("10.1.0.1");
	const struct mon_svc *s;
	uint16_t port;

	memset(count, 0, n * sizeof(*count));
	for (unsigned r = 0; r < rounds; r++) {
		cl.addr[2] = (uint8_t)(r >> 8);
		cl.addr[3] = (uint8_t)r;
		ck_assert_int_eq(mon_svc_pick(m, &vip, 80, &cl, r, &ep, &port, &s), MON_SVC_PICKED);
		for (size_t i = 0; i < n; i++) {
			struct hl_proto_addr e = A(eps[i].addr);

			if (hl_proto_addr_eq(&e, &ep) && port == eps[i].port)
				count[i]++;
		}
	}
}

START_TEST(test_add_find)
{
	static const struct hl_mon_svc_endpoint eps[] = { EP("10.1.1.1", 8080, true, true),
							   EP("fd00::1", 8080, true, true),
							   EP("nonsense", 8080, true, true),
							   EP("10.1.1.2", 0, true, true) };
	struct hl_mon_svcmap *m = hl_mon_svcmap_new();
	struct hl_mon_svc s = { .name = "ns/a:http", .vip = "10.96.0.1", .port = 80,
				.eps = eps, .n_eps = 4 };
	struct hl_proto_addr vip = A("10.96.0.1");
	char name[32];

	ck_assert_int_eq(hl_mon_svcmap_add(m, &s), 0);
	ck_assert_int_eq(hl_mon_svcmap_add(m, &s), -EEXIST);
	s.vip = "None";
	ck_assert_int_eq(hl_mon_svcmap_add(m, &s), -EINVAL);
	s.vip = "10.96.0.1";
	s.port = 0;
	ck_assert_int_eq(hl_mon_svcmap_add(m, &s), -EINVAL);
	/* Another port of the same ClusterIP, and many more (the table grows). */
	for (unsigned i = 0; i < 300; i++) {
		snprintf(name, sizeof(name), "ns/s%u", i);
		s.name = name;
		s.port = (uint16_t)(1000 + i);
		ck_assert_int_eq(hl_mon_svcmap_add(m, &s), 0);
	}
	ck_assert_uint_eq(hl_mon_svcmap_count(m), 301);
	ck_assert_ptr_nonnull(mon_svc_find(m, &vip, 80));
	ck_assert_str_eq(mon_svc_find(m, &vip, 80)->name, "ns/a:http");
	ck_assert_str_eq(mon_svc_find(m, &vip, 1299)->name, "ns/s299");
	ck_assert_ptr_null(mon_svc_find(m, &vip, 81));
	/* Only the IPv4 endpoint with a port is kept for an IPv4 ClusterIP. */
	ck_assert_uint_eq(mon_svc_find(m, &vip, 80)->n_eps, 1);
	hl_mon_svcmap_free(m);
}
END_TEST

START_TEST(test_uniform)
{
	static const struct hl_mon_svc_endpoint eps[] = { EP("10.1.1.1", 8080, true, true),
							   EP("10.1.1.2", 8080, true, true),
							   EP("10.2.0.9", 8080, true, false) };
	struct hl_mon_svcmap *m = map1(eps, 3, HL_MON_SVC_ANY, false);
	unsigned c[3];

	spread(m, eps, 3, 30000, c);
	/* 10000 each expected; 3 % is over 5 standard deviations (~82). */
	for (int i = 0; i < 3; i++)
		ck_assert_msg(c[i] > 9700 && c[i] < 10300, "endpoint %d got %u of 30000", i, c[i]);
	hl_mon_svcmap_free(m);
}
END_TEST

START_TEST(test_readiness)
{
	struct hl_mon_svc_endpoint eps[] = { EP("10.1.1.1", 8080, true, true),
					     EP("10.1.1.2", 8080, false, true),
					     EP("10.1.1.3", 8080, false, true) };
	struct hl_proto_addr vip = A("10.96.0.10"), cl = A("10.1.0.1"), ep;
	const struct mon_svc *s;
	struct hl_mon_svcmap *m;
	uint16_t port;
	unsigned c[3];

	/* Not ready, and terminating (still serving): both skipped while one is ready. */
	eps[2].serving = eps[2].terminating = true;
	m = map1(eps, 3, HL_MON_SVC_ANY, false);
	spread(m, eps, 3, 1000, c);
	ck_assert_uint_eq(c[0], 1000);
	hl_mon_svcmap_free(m);
	/* None ready: the serving terminating one (kube-proxy's fallback). */
	eps[0].ready = eps[0].serving = false;
	m = map1(eps, 3, HL_MON_SVC_ANY, false);
	spread(m, eps, 3, 1000, c);
	ck_assert_uint_eq(c[2], 1000);
	hl_mon_svcmap_free(m);
	/* None serving: no endpoint. */
	eps[2].serving = false;
	m = map1(eps, 3, HL_MON_SVC_ANY, false);
	ck_assert_int_eq(mon_svc_pick(m, &vip, 80, &cl, 0, &ep, &port, &s), MON_SVC_EMPTY);
	ck_assert_ptr_nonnull(s);
	vip = A("10.96.0.11");
	ck_assert_int_eq(mon_svc_pick(m, &vip, 80, &cl, 0, &ep, &port, &s), MON_SVC_NONE);
	ck_assert_ptr_null(s);
	hl_mon_svcmap_free(m);
}
END_TEST

START_TEST(test_topology)
{
	struct hl_mon_svc_endpoint eps[] = { EP("10.1.1.1", 8080, true, true),
					     EP("10.2.0.1", 8080, true, false),
					     EP("10.2.0.2", 8080, true, false) };
	struct hl_proto_addr vip = A("10.96.0.10"), cl = A("10.1.0.1"), ep;
	const struct mon_svc *s;
	struct hl_mon_svcmap *m;
	uint16_t port;
	unsigned c[3];

	m = map1(eps, 3, HL_MON_SVC_LOCAL, false);
	spread(m, eps, 3, 1000, c);
	ck_assert_uint_eq(c[0], 1000);
	hl_mon_svcmap_free(m);
	m = map1(eps, 3, HL_MON_SVC_PREFER_LOCAL, false);
	spread(m, eps, 3, 1000, c);
	ck_assert_uint_eq(c[0], 1000);
	hl_mon_svcmap_free(m);
	/* The local one not ready: Local has none, PreferClose uses the others. */
	eps[0].ready = eps[0].serving = false;
	m = map1(eps, 3, HL_MON_SVC_LOCAL, false);
	ck_assert_int_eq(mon_svc_pick(m, &vip, 80, &cl, 0, &ep, &port, &s), MON_SVC_EMPTY);
	hl_mon_svcmap_free(m);
	m = map1(eps, 3, HL_MON_SVC_PREFER_LOCAL, false);
	spread(m, eps, 3, 3000, c);
	ck_assert_uint_eq(c[0], 0);
	ck_assert(c[1] > 1300 && c[2] > 1300);
	hl_mon_svcmap_free(m);
}
END_TEST

START_TEST(test_affinity)
{
	struct hl_mon_svc_endpoint eps[] = { EP("10.1.1.1", 8080, true, true),
					     EP("10.1.1.2", 8080, true, true),
					     EP("10.1.1.3", 8080, true, true) };
	struct hl_proto_addr vip = A("10.96.0.10"), cl = A("10.1.0.1"), first, ep;
	const struct mon_svc *s;
	struct hl_mon_svcmap *m = map1(eps, 3, HL_MON_SVC_ANY, true), *m2;
	uint16_t port, fport;
	bool moved = false;

	ck_assert_int_eq(mon_svc_pick(m, &vip, 80, &cl, 0, &first, &fport, &s), MON_SVC_PICKED);
	/* Within the timeout (10 s since the last use): always the same one. */
	for (uint64_t t = 1000; t <= 100000; t += 1000) {
		ck_assert_int_eq(mon_svc_pick(m, &vip, 80, &cl, t, &ep, &port, &s), MON_SVC_PICKED);
		ck_assert(hl_proto_addr_eq(&ep, &first));
	}
	/* A new map with the same Service keeps the session. */
	m2 = map1(eps, 3, HL_MON_SVC_ANY, true);
	mon_svc_carry_affinity(m2, m);
	hl_mon_svcmap_free(m);
	m = m2;
	ck_assert_int_eq(mon_svc_pick(m, &vip, 80, &cl, 101000, &ep, &port, &s), MON_SVC_PICKED);
	ck_assert(hl_proto_addr_eq(&ep, &first));
	/* After the timeout the choice is free again: some pick moves. */
	for (uint64_t t = 200000; t < 200000 + 50 * 20000; t += 20000) {
		ck_assert_int_eq(mon_svc_pick(m, &vip, 80, &cl, t, &ep, &port, &s), MON_SVC_PICKED);
		moved |= !hl_proto_addr_eq(&ep, &first);
	}
	ck_assert(moved);
	hl_mon_svcmap_free(m);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("mon_svcmap");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_add_find);
	tcase_add_test(tc, test_uniform);
	tcase_add_test(tc, test_readiness);
	tcase_add_test(tc, test_topology);
	tcase_add_test(tc, test_affinity);
	suite_add_tcase(s, tc);
	return hl_check_run(s);
}
