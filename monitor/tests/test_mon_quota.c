/* SPDX-License-Identifier: Apache-2.0 */
/* Quota arithmetic and size formatting of the shm endpoint. */
#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hl_check.h"
#include "quota.h"

#define MI (UINT64_C(1) << 20)

START_TEST(test_round)
{
	static const struct { uint64_t in, unit, out; } t[] = {
		{ 1, HL_MON_PAGE, HL_MON_PAGE },
		{ HL_MON_PAGE, HL_MON_PAGE, HL_MON_PAGE },
		{ HL_MON_PAGE + 1, HL_MON_PAGE, 2 * HL_MON_PAGE },
		{ 0, HL_MON_PAGE, 0 },
		{ UINT64_MAX, HL_MON_PAGE, 0 },               /* overflow */
		{ UINT64_MAX - HL_MON_PAGE, HL_MON_PAGE, UINT64_MAX - HL_MON_PAGE + 1 },
		{ UINT64_MAX - 5, HL_MON_PAGE, 0 },             /* overflow */
		{ 5, 3, 0 },                                  /* unit not a power of two */
		{ 5, 0, 0 },
		{ 4097, 4096, 8192 },
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		ck_assert_msg(hl_quota_round(t[i].in, t[i].unit) == t[i].out,
			      "case %zu: round(%llu, %llu) = %llu, want %llu", i,
			      (unsigned long long)t[i].in, (unsigned long long)t[i].unit,
			      (unsigned long long)hl_quota_round(t[i].in, t[i].unit),
			      (unsigned long long)t[i].out);
}
END_TEST

START_TEST(test_charge)
{
	struct hl_quota q = { .limit = 64 * MI };

	ck_assert_int_eq(hl_quota_charge(&q, 60 * MI), 0);
	ck_assert_int_eq(hl_quota_charge(&q, 8 * MI), -ENOSPC);
	ck_assert_uint_eq(q.used, 60 * MI);                /* nothing charged on refusal */
	ck_assert_int_eq(hl_quota_charge(&q, 4 * MI), 0);  /* exactly full */
	ck_assert_int_eq(hl_quota_charge(&q, 1), -ENOSPC);
	ck_assert_int_eq(hl_quota_release(&q, 64 * MI), 0);
	ck_assert_uint_eq(q.used, 0);
	ck_assert_int_eq(hl_quota_release(&q, 1), -EINVAL);  /* never below zero */
	ck_assert_uint_eq(q.used, 0);
	ck_assert_int_eq(hl_quota_charge(&q, UINT64_MAX), -ENOSPC);
	q.used = 1;
	ck_assert_int_eq(hl_quota_charge(&q, UINT64_MAX), -ENOSPC);  /* no wrap-around */
	q = (struct hl_quota){ .limit = 0 };
	ck_assert_int_eq(hl_quota_charge(&q, 0), 0);
	ck_assert_int_eq(hl_quota_charge(&q, 1), -ENOSPC);
}
END_TEST

START_TEST(test_format)
{
	static const struct { uint64_t v; const char *s; } t[] = {
		{ 0, "0" }, { 1, "1" }, { 1024, "1Ki" }, { 1536 * 1024, "1536Ki" },
		{ 64 * MI, "64Mi" }, { UINT64_C(1) << 30, "1Gi" }, { 1000, "1000" },
		{ UINT64_C(3) << 40, "3Ti" }, { UINT64_MAX, "18446744073709551615" },
	};
	char buf[32];

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		ck_assert_str_eq(hl_size_format(t[i].v, buf, sizeof(buf)), t[i].s);
	ck_assert_str_eq(hl_size_format(64 * MI, buf, 3), "64");  /* truncated, terminated */
}
END_TEST

START_TEST(test_parse)
{
	static const struct { const char *s; int rc; uint64_t v; } t[] = {
		{ "64Mi", 0, 64 * MI }, { "2Gi", 0, UINT64_C(2) << 30 }, { "4096", 0, 4096 },
		{ "1M", 0, 1000000 }, { "1k", 0, 1000 }, { "0", 0, 0 },
		{ "", -EINVAL, 0 }, { "Mi", -EINVAL, 0 }, { "-1", -EINVAL, 0 },
		{ "12Xi", -EINVAL, 0 }, { "1 Mi", -EINVAL, 0 },
		{ "99999999999999999999", -ERANGE, 0 }, { "20000000Ti", -ERANGE, 0 },
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		uint64_t v = 0;
		int rc = hl_size_parse(t[i].s, &v);

		ck_assert_msg(rc == t[i].rc, "'%s': rc %d, want %d", t[i].s, rc, t[i].rc);
		if (!rc)
			ck_assert_msg(v == t[i].v, "'%s': %llu", t[i].s, (unsigned long long)v);
	}
	ck_assert_int_eq(hl_size_parse(NULL, NULL), -EINVAL);
}
END_TEST

START_TEST(test_reason)
{
	struct hl_quota q = { .limit = 64 * MI, .used = 60 * MI };
	char buf[128];

	ck_assert_str_eq(hl_quota_reason("quota", &q, 8 * MI, buf, sizeof(buf)),
			 "quota 64Mi exceeded: used 60Mi, asked 8Mi");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("mon_quota");
	TCase *tc = tcase_create("quota");

	tcase_add_test(tc, test_round);
	tcase_add_test(tc, test_charge);
	tcase_add_test(tc, test_format);
	tcase_add_test(tc, test_parse);
	tcase_add_test(tc, test_reason);
	suite_add_tcase(s, tc);
	return hl_check_run(s);
}
