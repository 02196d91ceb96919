/* SPDX-License-Identifier: Apache-2.0 */
/* Environment validation: a table of CNI_* settings and the expected outcome. */
#include "../src/cni.h"
#include "hl_check.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#define VERIFY(cond, ...) ck_assert_msg(cond, __VA_ARGS__)

/* A fake environment: "K=V" strings. */
static const char *const *cur_env;

static const char *fake_get(const char *k)
{
	size_t n = strlen(k);

	for (const char *const *p = cur_env; p && *p; p++)
		if (strncmp(*p, k, n) == 0 && (*p)[n] == '=')
			return *p + n + 1;
	return NULL;
}

struct env_case {
	const char *what;
	const char *env[8];
	int code;            /* 0: accepted */
	const char *names;   /* substring the error details must contain */
};

#define ALL(cmd) "CNI_COMMAND=" cmd, "CNI_CONTAINERID=abc", "CNI_NETNS=/run/netns/x", \
		 "CNI_IFNAME=eth0", "CNI_PATH=/usr/lib/cni"

static const struct env_case cases[] = {
	{ "ADD with everything", { ALL("ADD") }, 0, NULL },
	{ "CHECK with everything", { ALL("CHECK") }, 0, NULL },
	{ "DEL with everything", { ALL("DEL") }, 0, NULL },
	{ "no CNI_COMMAND", { "CNI_PATH=/x" }, CNI_ERR_ENV, "CNI_COMMAND" },
	{ "unknown command", { "CNI_COMMAND=FOO" }, CNI_ERR_ENV, "CNI_COMMAND" },
	{ "VERSION needs nothing else", { "CNI_COMMAND=VERSION" }, 0, NULL },
	{ "STATUS needs CNI_PATH", { "CNI_COMMAND=STATUS" }, CNI_ERR_ENV, "CNI_PATH" },
	{ "STATUS with CNI_PATH", { "CNI_COMMAND=STATUS", "CNI_PATH=/x" }, 0, NULL },
	{ "GC needs CNI_PATH", { "CNI_COMMAND=GC" }, CNI_ERR_ENV, "CNI_PATH" },
	{ "ADD without container id",
	  { "CNI_COMMAND=ADD", "CNI_NETNS=/n", "CNI_IFNAME=eth0", "CNI_PATH=/x" }, CNI_ERR_ENV,
	  "CNI_CONTAINERID" },
	{ "ADD without netns",
	  { "CNI_COMMAND=ADD", "CNI_CONTAINERID=a", "CNI_IFNAME=eth0", "CNI_PATH=/x" }, CNI_ERR_ENV,
	  "CNI_NETNS" },
	{ "DEL without netns is fine",
	  { "CNI_COMMAND=DEL", "CNI_CONTAINERID=a", "CNI_IFNAME=eth0", "CNI_PATH=/x" }, 0, NULL },
	{ "ADD without ifname",
	  { "CNI_COMMAND=ADD", "CNI_CONTAINERID=a", "CNI_NETNS=/n", "CNI_PATH=/x" }, CNI_ERR_ENV,
	  "CNI_IFNAME" },
	{ "ADD without path",
	  { "CNI_COMMAND=ADD", "CNI_CONTAINERID=a", "CNI_NETNS=/n", "CNI_IFNAME=e" }, CNI_ERR_ENV,
	  "CNI_PATH" },
	{ "container id with a slash",
	  { "CNI_COMMAND=ADD", "CNI_CONTAINERID=a/b", "CNI_NETNS=/n", "CNI_IFNAME=e", "CNI_PATH=/x" },
	  CNI_ERR_ENV, "CNI_CONTAINERID" },
	{ "container id starting with a dash",
	  { "CNI_COMMAND=CHECK", "CNI_CONTAINERID=-a", "CNI_NETNS=/n", "CNI_IFNAME=e", "CNI_PATH=/x" },
	  CNI_ERR_ENV, "CNI_CONTAINERID" },
	{ "ifname of 16 characters",
	  { "CNI_COMMAND=ADD", "CNI_CONTAINERID=a", "CNI_NETNS=/n", "CNI_IFNAME=abcdefghijklmnop",
	    "CNI_PATH=/x" }, CNI_ERR_ENV, "CNI_IFNAME" },
	{ "ifname with a colon",
	  { "CNI_COMMAND=ADD", "CNI_CONTAINERID=a", "CNI_NETNS=/n", "CNI_IFNAME=eth0:1", "CNI_PATH=/x" },
	  CNI_ERR_ENV, "CNI_IFNAME" },
	{ "ifname ..",
	  { "CNI_COMMAND=DEL", "CNI_CONTAINERID=a", "CNI_IFNAME=..", "CNI_PATH=/x" }, CNI_ERR_ENV,
	  "CNI_IFNAME" },
	{ "ifname with a space",
	  { "CNI_COMMAND=ADD", "CNI_CONTAINERID=a", "CNI_NETNS=/n", "CNI_IFNAME=e 0", "CNI_PATH=/x" },
	  CNI_ERR_ENV, "CNI_IFNAME" },
	{ "CNI_ARGS fast path",
	  { ALL("ADD"), "CNI_ARGS=IgnoreUnknown=1;HOSTLANE_FASTPATH=shm;K8S_POD_NAME=p" }, 0, NULL },
	{ "CNI_ARGS unknown fast path",
	  { ALL("ADD"), "CNI_ARGS=HOSTLANE_FASTPATH=turbo" }, CNI_ERR_CONFIG, "turbo" },
	{ "CNI_ARGS malformed",
	  { ALL("ADD"), "CNI_ARGS=novalue" }, CNI_ERR_ENV, "CNI_ARGS" },
};

START_TEST(test_env_table)
{
	const struct env_case *c = &cases[_i];
	struct cni_env env;
	struct cni_err e = { 0 };
	int rc;

	cur_env = c->env;
	rc = cni_env_load(&env, fake_get, &e);
	if (c->code == 0) {
		VERIFY(rc == 0, "%s: rejected: %d %s", c->what, e.code, e.details);
	} else {
		VERIFY(rc < 0, "%s: accepted", c->what);
		VERIFY(e.code == c->code, "%s: code %d, want %d", c->what, e.code, c->code);
		VERIFY(strstr(e.details, c->names), "%s: details '%s' do not name %s", c->what,
		       e.details, c->names);
	}
}
END_TEST

START_TEST(test_env_fastpath_value)
{
	static const char *const env[] = { ALL("ADD"), "CNI_ARGS=HOSTLANE_FASTPATH=vhost-user", NULL };
	struct cni_env e;
	struct cni_err err;

	cur_env = env;
	ck_assert_int_eq(cni_env_load(&e, fake_get, &err), 0);
	ck_assert_int_eq(e.fastpath, CNI_FP_VHOST_USER);
	ck_assert_str_eq(e.ifname, "eth0");
	ck_assert_int_eq(e.cmd, CNI_CMD_ADD);
}
END_TEST

START_TEST(test_ifname_rules)
{
	ck_assert(cni_valid_ifname("eth0"));
	ck_assert(cni_valid_ifname("abcdefghijklmno")); /* 15 */
	ck_assert(!cni_valid_ifname("abcdefghijklmnop"));
	ck_assert(!cni_valid_ifname(""));
	ck_assert(!cni_valid_ifname("."));
	ck_assert(cni_valid_ifname("..."));
	ck_assert(!cni_valid_ifname("a/b"));
	ck_assert(!cni_valid_ifname("a\tb"));
	ck_assert(cni_valid_containerid("a.b_c-D9"));
	ck_assert(!cni_valid_containerid("_a"));
	ck_assert(!cni_valid_containerid("a b"));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("cni_env");
	TCase *tc = tcase_create("env");

	tcase_add_loop_test(tc, test_env_table, 0, (int)(sizeof(cases) / sizeof(cases[0])));
	tcase_add_test(tc, test_env_fastpath_value);
	tcase_add_test(tc, test_ifname_rules);
	suite_add_tcase(s, tc);
	return hl_check_run(s);
}
