/* SPDX-License-Identifier: Apache-2.0 */
/* The manifest reader and writer: YAML 1.1 scalars as Kubernetes reads
 * them, anchors and merge keys, bounds, errors with a position, round trips. */
#include "hl_check.h"
#include "inject_private.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void manifest_tcases(Suite *s);

static cJSON *rd(const char *text, int expect_rc, enum hl_manifest_format *fmt, char *err, size_t errlen)
{
	enum hl_manifest_format f;
	cJSON *docs = NULL;
	int rc = hl_manifest_read(text, strlen(text), &docs, fmt ? fmt : &f, err, errlen);

	ck_assert_msg(rc == expect_rc, "read rc %d (want %d): %s", rc, expect_rc, err);
	return docs;
}

static cJSON *rd_ok(const char *text)
{
	char err[256];

	return rd(text, 0, NULL, err, sizeof(err));
}

START_TEST(scalars)
{
	cJSON *d = rd_ok("a: yes\nb: 'yes'\nc: Off\nd: 0x1f\ne: 010\nf: 1_000\ng: 1.5\nh: ~\ni:\n"
			 "j: 12345678901234567890\nk: 8080\nl: \"8080\"\nm: 1e3\nn: .5\no: 0o17\np: !!str 12\n"
			 "q: hello world\nr: 0b101\ns: -42\nt: 1.2.3\n"), *o = cJSON_GetArrayItem(d, 0);

	ck_assert_int_eq(cJSON_GetArraySize(d), 1);
	ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(o, "a")));
	ck_assert_str_eq(cJSON_GetObjectItem(o, "b")->valuestring, "yes");
	ck_assert(cJSON_IsFalse(cJSON_GetObjectItem(o, "c")));
	ck_assert_double_eq(cJSON_GetObjectItem(o, "d")->valuedouble, 31);
	ck_assert_double_eq(cJSON_GetObjectItem(o, "e")->valuedouble, 8);
	ck_assert_double_eq(cJSON_GetObjectItem(o, "f")->valuedouble, 1000);
	ck_assert_double_eq(cJSON_GetObjectItem(o, "g")->valuedouble, 1.5);
	ck_assert(cJSON_IsNull(cJSON_GetObjectItem(o, "h")));
	ck_assert(cJSON_IsNull(cJSON_GetObjectItem(o, "i")));
	ck_assert(cJSON_IsRaw(cJSON_GetObjectItem(o, "j")));
	ck_assert_double_eq(cJSON_GetObjectItem(o, "k")->valuedouble, 8080);
	ck_assert_str_eq(cJSON_GetObjectItem(o, "l")->valuestring, "8080");
	ck_assert_double_eq(cJSON_GetObjectItem(o, "m")->valuedouble, 1000);
	ck_assert_double_eq(cJSON_GetObjectItem(o, "n")->valuedouble, 0.5);
	ck_assert_double_eq(cJSON_GetObjectItem(o, "o")->valuedouble, 15);
	ck_assert_str_eq(cJSON_GetObjectItem(o, "p")->valuestring, "12");
	ck_assert_str_eq(cJSON_GetObjectItem(o, "q")->valuestring, "hello world");
	ck_assert_double_eq(cJSON_GetObjectItem(o, "r")->valuedouble, 5);
	ck_assert_double_eq(cJSON_GetObjectItem(o, "s")->valuedouble, -42);
	ck_assert_str_eq(cJSON_GetObjectItem(o, "t")->valuestring, "1.2.3");
	cJSON_Delete(d);
}
END_TEST

START_TEST(documents)
{
	enum hl_manifest_format f;
	char err[256];
	cJSON *d = rd("---\na: 1\n---\n---\n# only a comment\n---\nb: [x, {c: d}]\n...\n", 0, &f, err, sizeof(err));

	ck_assert_int_eq(f, HL_MANIFEST_YAML);
	ck_assert_int_eq(cJSON_GetArraySize(d), 2);   /* empty documents are dropped */
	cJSON_Delete(d);
	d = rd("  {\"kind\": \"Pod\"}\n{\"kind\": \"Service\"}[1]", 0, &f, err, sizeof(err));
	ck_assert_int_eq(f, HL_MANIFEST_JSON);
	ck_assert_int_eq(cJSON_GetArraySize(d), 3);
	cJSON_Delete(d);
	d = rd("", 0, &f, err, sizeof(err));
	ck_assert_int_eq(cJSON_GetArraySize(d), 0);
	cJSON_Delete(d);
}
END_TEST

START_TEST(anchors)
{
	cJSON *d = rd_ok("base: &b {image: redis, ports: [1, 2]}\n"
			 "x:\n  <<: *b\n  image: mine\n"
			 "y:\n  <<: [*b, {extra: 1}]\n"
			 "z: *b\n"), *o = cJSON_GetArrayItem(d, 0), *x = cJSON_GetObjectItem(o, "x");

	ck_assert_str_eq(cJSON_GetObjectItem(x, "image")->valuestring, "mine");   /* own key wins */
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(x, "ports")), 2);
	ck_assert_ptr_nonnull(cJSON_GetObjectItem(cJSON_GetObjectItem(o, "y"), "extra"));
	ck_assert(cJSON_Compare(cJSON_GetObjectItem(o, "z"), cJSON_GetObjectItem(o, "base"), 1));
	cJSON_Delete(d);
}
END_TEST

START_TEST(errors)
{
	static const struct { const char *text; int rc; const char *says; } bad[] = {
		{ "a: 1\na: 2\n", -EINVAL, "line 2 column 1: duplicate key" },
		{ "a: *nope\n", -EINVAL, "unknown anchor" },
		{ "a: !foo x\n", -EINVAL, "unknown tag" },
		{ "a: !!int abc\n", -EINVAL, "does not match its tag" },
		{ "? [a]\n: b\n", -EINVAL, "must be a scalar" },
		{ "a: [1, 2\n", -EINVAL, "line" },
		{ "{\"a\": 1", -EINVAL, "JSON document 1" },
		{ "{\"a\": {\"b\": 1, \"c\": 2, \"b\": 3}}", -EINVAL, "a key twice" },
		{ "a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
		  "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
		  "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
		  "g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]\n", -E2BIG, "too many nodes" },
	};
	char err[256];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cJSON *d = rd(bad[i].text, bad[i].rc, NULL, err, sizeof(err));

		ck_assert_ptr_null(d);
		ck_assert_msg(strstr(err, bad[i].says), "case %zu: '%s' says '%s'", i, err, bad[i].says);
	}
	/* Deep nesting and an alias chain that nests past the bound. */
	char *deep = malloc(4096), *p = deep;

	p += sprintf(p, "a: ");
	for (int i = 0; i < 300; i++)
		*p++ = '[';
	*p = '\0';
	ck_assert_ptr_null(rd(deep, -E2BIG, NULL, err, sizeof(err)));
	ck_assert(strstr(err, "nested too deep"));
	p = deep;
	p += sprintf(p, "a0: &a0 [x]\n");
	for (int i = 1; i < 200; i++)
		p += sprintf(p, "a%d: &a%d [*a%d]\n", i, i, i - 1);
	ck_assert_ptr_null(rd(deep, -E2BIG, NULL, err, sizeof(err)));
	free(deep);
	ck_assert_int_eq(hl_manifest_read("a\0b", 3, &(cJSON *){ NULL }, &(enum hl_manifest_format){ 0 },
					  err, sizeof(err)), -EINVAL);
}
END_TEST

static void round_trip(const char *text, enum hl_manifest_format fmt)
{
	enum hl_manifest_format f;
	char err[256], *out;
	cJSON *a = rd(text, 0, &f, err, sizeof(err)), *b;

	ck_assert_int_eq(hl_manifest_write(a, fmt, &out), 0);
	b = rd(out, 0, &f, err, sizeof(err));
	ck_assert_int_eq(f, fmt);
	ck_assert_msg(cJSON_Compare(a, b, 1), "round trip changed the objects:\n%s", out);
	free(out);
	cJSON_Delete(a);
	cJSON_Delete(b);
}

START_TEST(round_trips)
{
	static const char *const texts[] = {
		"apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  annotations:\n    a: \"true\"\n"
		"    b: \"8080\"\n    c: \"\"\n    d: \"null\"\n    e: 'yes'\n    f: \"0x10\"\n"
		"spec:\n  containers:\n  - name: a\n    args: [\"--x=1\", \"1.5\", \"~\", \"-\", \"#no\"]\n"
		"    env: []\n    resources: {}\n    command:\n    - sh\n    - -c\n"
		"    - |\n      echo one\n      echo two\n  terminationGracePeriodSeconds: 30\n"
		"  hostNetwork: false\n  f: 0.1\n  u: \"h\\u00e9llo\"\n"
		"  trailing: \"a \\nb\"\n---\nkind: Service\n",
		"{\"kind\": \"List\", \"items\": [{\"a\": [1, 2.5, true, null, \"x\\ny\"]}]}\n{\"b\": {}}",
	};

	round_trip(texts[0], HL_MANIFEST_YAML);
	round_trip(texts[0], HL_MANIFEST_JSON);
	round_trip(texts[1], HL_MANIFEST_YAML);
	round_trip(texts[1], HL_MANIFEST_JSON);
	/* An integer a double cannot hold stays as its digits in YAML (JSON
	 * input goes through cJSON's doubles: hlinject.h). */
	round_trip("big: 12345678901234567890\n", HL_MANIFEST_YAML);
}
END_TEST

START_TEST(written_form)
{
	char err[256], *out;
	cJSON *d = rd("a: \"true\"\nb: [x]\nc: \"l1\\nl2\\n\"\n", 0, NULL, err, sizeof(err));

	ck_assert_int_eq(hl_manifest_write(d, HL_MANIFEST_YAML, &out), 0);
	ck_assert_msg(strstr(out, "a: \"true\"\n"), "a string that reads as a bool is quoted: %s", out);
	ck_assert_msg(strstr(out, "c: |\n  l1\n  l2\n"), "multi-line strings are literal blocks: %s", out);
	free(out);
	cJSON_Delete(d);
}
END_TEST

void manifest_tcases(Suite *s)
{
	TCase *t = tcase_create("manifest");

	tcase_add_test(t, scalars);
	tcase_add_test(t, documents);
	tcase_add_test(t, anchors);
	tcase_add_test(t, errors);
	tcase_add_test(t, round_trips);
	tcase_add_test(t, written_form);
	suite_add_tcase(s, t);
}
