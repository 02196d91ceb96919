/* SPDX-License-Identifier: Apache-2.0 */
/* Results across versions (golden JSON compared structurally), error JSON,
 * and the VERSION answer. */
#include "../src/cni.h"
#include "hl_check.h"

#include <check.h>
#include <errno.h>
#include <sys/socket.h>
#include <stdlib.h>
#include <string.h>

#define VERIFY(cond, ...) ck_assert_msg(cond, __VA_ARGS__)

/* A 0.4.0-shaped IPAM/prevResult with the 1.1.0 route extras. */
static const char *const input =
	"{\"cniVersion\":\"0.4.0\","
	"\"interfaces\":[{\"name\":\"eth0\",\"mac\":\"0a:00:00:00:00:01\",\"sandbox\":\"/run/netns/p\","
	"\"mtu\":1400,\"socketPath\":\"/run/x.sock\"}],"
	"\"ips\":[{\"version\":\"4\",\"interface\":0,\"address\":\"10.1.0.5/24\",\"gateway\":\"10.1.0.1\"},"
	"{\"version\":\"6\",\"address\":\"fd00::0005/64\"}],"
	"\"routes\":[{\"dst\":\"0.0.0.0/0\",\"gw\":\"10.1.0.1\",\"mtu\":1300,\"table\":100,\"scope\":0},"
	"{\"dst\":\"10.9.0.0/16\"}],"
	"\"dns\":{\"nameservers\":[\"10.1.0.1\"],\"search\":[\"svc\"]}}";

static const struct golden {
	int version;
	const char *json;
} goldens[] = {
	{ CNI_V031,
	  "{\"cniVersion\":\"0.3.1\",\"interfaces\":[{\"name\":\"eth0\",\"mac\":\"0a:00:00:00:00:01\","
	  "\"sandbox\":\"/run/netns/p\"}],"
	  "\"ips\":[{\"version\":\"4\",\"interface\":0,\"address\":\"10.1.0.5/24\",\"gateway\":\"10.1.0.1\"},"
	  "{\"version\":\"6\",\"address\":\"fd00::5/64\"}],"
	  "\"routes\":[{\"dst\":\"0.0.0.0/0\",\"gw\":\"10.1.0.1\"},{\"dst\":\"10.9.0.0/16\"}],"
	  "\"dns\":{\"nameservers\":[\"10.1.0.1\"],\"search\":[\"svc\"]}}" },
	{ CNI_V040,
	  "{\"cniVersion\":\"0.4.0\",\"interfaces\":[{\"name\":\"eth0\",\"mac\":\"0a:00:00:00:00:01\","
	  "\"sandbox\":\"/run/netns/p\"}],"
	  "\"ips\":[{\"version\":\"4\",\"interface\":0,\"address\":\"10.1.0.5/24\",\"gateway\":\"10.1.0.1\"},"
	  "{\"version\":\"6\",\"address\":\"fd00::5/64\"}],"
	  "\"routes\":[{\"dst\":\"0.0.0.0/0\",\"gw\":\"10.1.0.1\"},{\"dst\":\"10.9.0.0/16\"}],"
	  "\"dns\":{\"nameservers\":[\"10.1.0.1\"],\"search\":[\"svc\"]}}" },
	{ CNI_V100,
	  "{\"cniVersion\":\"1.0.0\",\"interfaces\":[{\"name\":\"eth0\",\"mac\":\"0a:00:00:00:00:01\","
	  "\"sandbox\":\"/run/netns/p\"}],"
	  "\"ips\":[{\"interface\":0,\"address\":\"10.1.0.5/24\",\"gateway\":\"10.1.0.1\"},"
	  "{\"address\":\"fd00::5/64\"}],"
	  "\"routes\":[{\"dst\":\"0.0.0.0/0\",\"gw\":\"10.1.0.1\"},{\"dst\":\"10.9.0.0/16\"}],"
	  "\"dns\":{\"nameservers\":[\"10.1.0.1\"],\"search\":[\"svc\"]}}" },
	{ CNI_V110,
	  "{\"cniVersion\":\"1.1.0\",\"interfaces\":[{\"name\":\"eth0\",\"mac\":\"0a:00:00:00:00:01\","
	  "\"sandbox\":\"/run/netns/p\",\"mtu\":1400,\"socketPath\":\"/run/x.sock\"}],"
	  "\"ips\":[{\"interface\":0,\"address\":\"10.1.0.5/24\",\"gateway\":\"10.1.0.1\"},"
	  "{\"address\":\"fd00::5/64\"}],"
	  "\"routes\":[{\"dst\":\"0.0.0.0/0\",\"gw\":\"10.1.0.1\",\"mtu\":1300,\"table\":100,\"scope\":0},"
	  "{\"dst\":\"10.9.0.0/16\"}],"
	  "\"dns\":{\"nameservers\":[\"10.1.0.1\"],\"search\":[\"svc\"]}}" },
};

START_TEST(test_result_convert)
{
	const struct golden *g = &goldens[_i];
	cJSON *in = cJSON_Parse(input), *want = cJSON_Parse(g->json), *got;
	struct cni_result r;
	struct cni_err e;
	char *gs;

	ck_assert_ptr_nonnull(want);
	ck_assert_int_eq(cni_result_parse(in, &r, "test", &e), 0);
	got = cni_result_to_json(&r, g->version);
	gs = cJSON_PrintUnformatted(got);
	VERIFY(cJSON_Compare(got, want, 1), "version %x:\n got  %s\n want %s", g->version, gs, g->json);
	free(gs);
	cJSON_Delete(got);
	cJSON_Delete(want);
	cJSON_Delete(in);
	cni_result_free(&r);
}
END_TEST

/* Parsing the output of every version gives the same result again. */
START_TEST(test_result_roundtrip)
{
	cJSON *in = cJSON_Parse(input), *a, *b;
	struct cni_result r1, r2;
	struct cni_err e;

	ck_assert_int_eq(cni_result_parse(in, &r1, "test", &e), 0);
	a = cni_result_to_json(&r1, CNI_V110);
	ck_assert_int_eq(cni_result_parse(a, &r2, "test", &e), 0);
	b = cni_result_to_json(&r2, CNI_V110);
	ck_assert(cJSON_Compare(a, b, 1));
	ck_assert_int_eq(r2.n_ips, 2);
	ck_assert_int_eq(r2.ips[1].iface, -1);
	ck_assert_int_eq(r2.routes[1].mtu, -1);
	cJSON_Delete(a);
	cJSON_Delete(b);
	cJSON_Delete(in);
	cni_result_free(&r1);
	cni_result_free(&r2);
}
END_TEST

static const char *const bad_results[] = {
	"{\"ips\":[{\"version\":\"6\",\"address\":\"10.0.0.1/24\"}]}",   /* version mismatch */
	"{\"ips\":[{\"address\":\"10.0.0.1/33\"}]}",
	"{\"ips\":[{\"address\":\"10.0.0.1/24\",\"gateway\":\"fd00::1\"}]}",
	"{\"ips\":[{\"address\":\"10.0.0.1/24\",\"interface\":1}]}",      /* no such interface */
	"{\"ips\":[{\"address\":\"10.0.0.1/24\",\"interface\":-1}]}",
	"{\"ips\":[{\"address\":\"10.0.0.1/24\",\"interface\":0.5}]}",
	"{\"interfaces\":[{\"mac\":\"x\"}]}",                              /* no name */
	"{\"interfaces\":[{\"name\":\"abcdefghijklmnopqrstu\"}]}",
	"{\"routes\":[{\"gw\":\"10.0.0.1\"}]}",                             /* no dst */
	"{\"routes\":[{\"dst\":\"10.0.0.0/8\",\"scope\":999}]}",
	"{\"dns\":[]}",
	"{\"ips\":{}}",
	"[]",
};

START_TEST(test_result_bad)
{
	cJSON *o = cJSON_Parse(bad_results[_i]);
	struct cni_result r;
	struct cni_err e = { 0 };

	ck_assert_ptr_nonnull(o);
	VERIFY(cni_result_parse(o, &r, "prevResult", &e) < 0, "accepted %s", bad_results[_i]);
	ck_assert_int_eq(e.code, CNI_ERR_DECODE);
	VERIFY(strstr(e.details, "prevResult"), "details '%s' do not name the source", e.details);
	cni_result_free(&r);
	cJSON_Delete(o);
}
END_TEST

START_TEST(test_error_json)
{
	struct cni_err e;
	char *s;
	cJSON *o, *want;

	cni_err_set(&e, CNI_ERR_ENV, "missing environment variable", "%s is required", "CNI_IFNAME");
	s = cni_err_json(&e, "0.4.0");
	o = cJSON_Parse(s);
	want = cJSON_Parse("{\"cniVersion\":\"0.4.0\",\"code\":4,\"msg\":\"missing environment variable\","
			   "\"details\":\"CNI_IFNAME is required\"}");
	ck_assert(cJSON_Compare(o, want, 1));
	free(s);
	cJSON_Delete(o);
	cJSON_Delete(want);
	cni_err_set(&e, CNI_ERR_NOT_AVAILABLE, "plugin not available", NULL);
	s = cni_err_json(&e, NULL);
	o = cJSON_Parse(s);
	want = cJSON_Parse("{\"cniVersion\":\"1.1.0\",\"code\":50,\"msg\":\"plugin not available\"}");
	ck_assert(cJSON_Compare(o, want, 1));
	free(s);
	cJSON_Delete(o);
	cJSON_Delete(want);
}
END_TEST

START_TEST(test_version_json)
{
	char *s = cni_version_json();
	cJSON *o = cJSON_Parse(s);
	cJSON *want = cJSON_Parse("{\"cniVersion\":\"1.1.0\",\"supportedVersions\":"
				  "[\"0.3.0\",\"0.3.1\",\"0.4.0\",\"1.0.0\",\"1.1.0\"]}");

	ck_assert(cJSON_Compare(o, want, 1));
	free(s);
	cJSON_Delete(o);
	cJSON_Delete(want);
}
END_TEST

START_TEST(test_cidr)
{
	int fam, pfx;
	uint8_t a[16];

	ck_assert_int_eq(cni_cidr_parse("10.0.0.1/8", &fam, a, &pfx), 0);
	ck_assert_int_eq(fam, AF_INET);
	ck_assert_int_eq(pfx, 8);
	ck_assert_int_eq(a[0], 10);
	ck_assert_int_eq(cni_cidr_parse("fd00::1/128", &fam, a, &pfx), 0);
	ck_assert_int_eq(fam, AF_INET6);
	ck_assert_int_eq(cni_cidr_parse("fd00::1/129", &fam, a, &pfx), -EINVAL);
	ck_assert_int_eq(cni_cidr_parse("10.0.0.1/", &fam, a, &pfx), -EINVAL);
	ck_assert_int_eq(cni_cidr_parse("10.0.0.1/-1", &fam, a, &pfx), -EINVAL);
	ck_assert_int_eq(cni_cidr_parse("10.0.0.1/ 8", &fam, a, &pfx), -EINVAL);
	ck_assert_int_eq(cni_cidr_parse("10.0.0.1", &fam, a, &pfx), -EINVAL);
	ck_assert_int_eq(cni_cidr_parse("host/8", &fam, a, &pfx), -EINVAL);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("cni_result");
	TCase *tc = tcase_create("result");

	tcase_add_loop_test(tc, test_result_convert, 0, (int)(sizeof(goldens) / sizeof(goldens[0])));
	tcase_add_test(tc, test_result_roundtrip);
	tcase_add_loop_test(tc, test_result_bad, 0, (int)(sizeof(bad_results) / sizeof(bad_results[0])));
	tcase_add_test(tc, test_error_json);
	tcase_add_test(tc, test_version_json);
	tcase_add_test(tc, test_cidr);
	suite_add_tcase(s, tc);
	return hl_check_run(s);
}
