/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Policy kinds the agent does not enforce: the discovery decoders
 * (APIGroupList, APIResourceList, a list's namespaces) on answers shaped
 * as the API server sends them, their refusals, and the store's stand-ins
 * that keep the pods those kinds may cover off the fast path.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hl_check.h"
#include "hl_policy.h"
#include "hlnp.h"

/* @s with ' turned into ". */
static char *dq(const char *s)
{
	char *d = strdup(s);

	ck_assert_ptr_nonnull(d);
	for (char *p = d; *p; p++)
		if (*p == '\'')
			*p = '"';
	return d;
}

#define GROUPS "{'kind':'APIGroupList','apiVersion':'v1','groups':[" \
	"{'name':'networking.k8s.io','versions':[{'groupVersion':'networking.k8s.io/v1','version':'v1'}]," \
	"'preferredVersion':{'groupVersion':'networking.k8s.io/v1','version':'v1'}}," \
	"{'name':'cilium.io','versions':[{'groupVersion':'cilium.io/v2','version':'v2'}," \
	"{'groupVersion':'cilium.io/v2alpha1','version':'v2alpha1'}]," \
	"'preferredVersion':{'groupVersion':'cilium.io/v2','version':'v2'}}," \
	"{'name':'crd.projectcalico.org','versions':[{'groupVersion':'crd.projectcalico.org/v1','version':'v1'}]}]}"

START_TEST(test_groups)
{
	char *s = dq(GROUPS), **gv;
	size_t n;

	ck_assert_int_eq(hlnp_disc_groups(s, strlen(s), &gv, &n), 0);
	/* networking.k8s.io is enforced: not listed; every version of the others. */
	ck_assert_uint_eq(n, 3);
	ck_assert_str_eq(gv[0], "cilium.io/v2");
	ck_assert_str_eq(gv[1], "cilium.io/v2alpha1");
	ck_assert_str_eq(gv[2], "crd.projectcalico.org/v1");
	hlnp_strv_free(gv, n);
	free(s);
}
END_TEST

/* Answers refused whole: nothing half-read, nothing allocated. */
static const char *const bad_groups[] = {
	"",
	"[]",
	"{'kind':'APIResourceList','groups':[]}",
	"{'kind':'APIGroupList'}",
	"{'kind':'APIGroupList','groups':[{'name':7,'versions':[]}]}",
	"{'kind':'APIGroupList','groups':[{'name':'cilium.io','versions':[{'groupVersion':'other.io/v2'}]}]}",
	"{'kind':'APIGroupList','groups':[{'name':'cilium.io','versions':[{'groupVersion':'cilium.io/../v2'}]}]}",
	"{'kind':'APIGroupList','groups':[{'name':'cilium.io','versions':[{'groupVersion':'cilium.io/v2?x=1'}]}]}",
	"{'kind':'APIGroupList','groups':[{'name':'cilium.io','versions':[{'groupVersion':'cilium.io/v/2'}]}]}",
};

START_TEST(test_groups_bad)
{
	char *s = dq(bad_groups[_i]), **gv = (char **)1;
	size_t n = 1;

	ck_assert_int_eq(hlnp_disc_groups(s, strlen(s), &gv, &n), -EINVAL);
	ck_assert_ptr_null(gv);
	ck_assert_uint_eq(n, 0);
	free(s);
}
END_TEST

START_TEST(test_resources)
{
	char *s = dq("{'kind':'APIResourceList','apiVersion':'v1','groupVersion':'crd.projectcalico.org/v1',"
		     "'resources':[{'name':'globalnetworkpolicies','singularName':'globalnetworkpolicy',"
		     "'namespaced':false,'kind':'GlobalNetworkPolicy','verbs':['get','list','watch']},"
		     "{'name':'networkpolicies','namespaced':true,'kind':'NetworkPolicy','verbs':['list']},"
		     "{'name':'networkpolicies/status','namespaced':true,'kind':'NetworkPolicy','verbs':['get']},"
		     "{'name':'ippools','namespaced':false,'kind':'IPPool','verbs':['list']},"
		     "{'name':'stagednetworkpolicies','namespaced':true,'verbs':['list']}]}");
	struct hlnp_disc_res *r;
	size_t n;

	ck_assert_int_eq(hlnp_disc_resources(s, strlen(s), "crd.projectcalico.org/v1", &r, &n), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(r[0].resource, "globalnetworkpolicies");
	ck_assert(!r[0].namespaced);
	ck_assert_str_eq(r[1].resource, "networkpolicies");
	ck_assert(r[1].namespaced);
	ck_assert_str_eq(r[1].group_version, "crd.projectcalico.org/v1");
	free(r);
	/* The answer of another groupVersion is not this one's. */
	ck_assert_int_eq(hlnp_disc_resources(s, strlen(s), "cilium.io/v2", &r, &n), -EINVAL);
	ck_assert_ptr_null(r);
	free(s);
	/* A policy kind that does not say its scope counts as cluster-wide. */
	s = dq("{'groupVersion':'cilium.io/v2','resources':[{'name':'ciliumnetworkpolicies'}]}");
	ck_assert_int_eq(hlnp_disc_resources(s, strlen(s), "cilium.io/v2", &r, &n), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert(!r[0].namespaced);
	free(r);
	free(s);
	s = dq("{'groupVersion':'cilium.io/v2','resources':[{'name':'ciliumnetworkpolicies','namespaced':'yes'}]}");
	ck_assert_int_eq(hlnp_disc_resources(s, strlen(s), "cilium.io/v2", &r, &n), -EINVAL);
	free(s);
}
END_TEST

START_TEST(test_list)
{
	char *s = dq("{'kind':'NetworkPolicyList','metadata':{'resourceVersion':'5','continue':'abc=='},"
		     "'items':[{'metadata':{'name':'a','namespace':'shop'}},{'metadata':{'name':'b',"
		     "'namespace':'db'}},{'metadata':{'name':'c','namespace':'shop'}}]}");
	char **ns = NULL, cont[64];
	size_t n = 0, items = 0;

	ck_assert_int_eq(hlnp_disc_list(s, strlen(s), true, &ns, &n, &items, cont, sizeof(cont)), 0);
	ck_assert_uint_eq(items, 3);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(ns[0], "shop");
	ck_assert_str_eq(ns[1], "db");
	ck_assert_str_eq(cont, "abc==");
	/* A second page adds to the first. */
	ck_assert_int_eq(hlnp_disc_list(s, strlen(s), true, &ns, &n, &items, cont, sizeof(cont)), 0);
	ck_assert_uint_eq(items, 6);
	ck_assert_uint_eq(n, 2);
	/* Cluster-wide: counted, no namespaces. */
	ck_assert_int_eq(hlnp_disc_list(s, strlen(s), false, &ns, &n, &items, cont, sizeof(cont)), 0);
	ck_assert_uint_eq(items, 9);
	ck_assert_uint_eq(n, 2);
	free(s);
	/* A namespaced object without its namespace; a token a query cannot carry. */
	s = dq("{'items':[{'metadata':{'name':'a'}}]}");
	ck_assert_int_eq(hlnp_disc_list(s, strlen(s), true, &ns, &n, &items, cont, sizeof(cont)), -EINVAL);
	free(s);
	s = dq("{'metadata':{'continue':'a&b'},'items':[]}");
	ck_assert_int_eq(hlnp_disc_list(s, strlen(s), true, &ns, &n, &items, cont, sizeof(cont)), -EINVAL);
	free(s);
	s = dq("{'kind':'NetworkPolicyList','items':{}}");
	ck_assert_int_eq(hlnp_disc_list(s, strlen(s), true, &ns, &n, &items, cont, sizeof(cont)), -EINVAL);
	free(s);
	hlnp_strv_free(ns, n);
}
END_TEST

static void put(struct hlnp_store *st, enum hlnp_kind k, const char *json)
{
	char *d = dq(json);
	cJSON *j = cJSON_Parse(d);

	ck_assert_ptr_nonnull(j);
	ck_assert_int_eq(hlnp_store_put(st, k, j), 0);
	cJSON_Delete(j);
	free(d);
}

/* Isolation bits of x/a, y/b, z/c as digits "330". */
static void isolation(struct hlnp_store *st, const char *want, size_t want_ns)
{
	struct hlnp_build_stats bs;
	struct hl_pol_table *t = hlnp_store_build(st, &bs);
	char got[4];

	ck_assert_ptr_nonnull(t);
	snprintf(got, sizeof(got), "%u%u%u", hl_pol_isolated(t, "x", "a"), hl_pol_isolated(t, "y", "b"),
		 hl_pol_isolated(t, "z", "c"));
	ck_assert_str_eq(got, want);
	ck_assert_uint_eq(bs.unknown_ns, want_ns);
	ck_assert_uint_eq(bs.policies, 0);  /* stand-ins are not counted as policies */
	hl_pol_table_free(t);
}

START_TEST(test_store_unknown)
{
	struct hlnp_store *st = hlnp_store_new();
	char *y[] = { "y", "nopods" };

	put(st, HLNP_NAMESPACE, "{'metadata':{'name':'x'}}");
	put(st, HLNP_NAMESPACE, "{'metadata':{'name':'y'}}");
	put(st, HLNP_POD, "{'metadata':{'namespace':'x','name':'a'},'status':{'podIP':'10.0.1.1'}}");
	put(st, HLNP_POD, "{'metadata':{'namespace':'y','name':'b'},'status':{'podIP':'10.0.2.2'}}");
	/* z has a pod but no Namespace object (yet). */
	put(st, HLNP_POD, "{'metadata':{'namespace':'z','name':'c'},'status':{'podIP':'10.0.3.3'}}");
	isolation(st, "000", 0);
	ck_assert_int_eq(hlnp_store_set_unknown(st, false, y, 2), 0);
	isolation(st, "030", 2);
	/* Cluster-wide: every namespace, those known by their pods too. */
	ck_assert_int_eq(hlnp_store_set_unknown(st, true, NULL, 0), 0);
	isolation(st, "333", 3);
	ck_assert_int_eq(hlnp_store_set_unknown(st, false, NULL, 0), 0);
	isolation(st, "000", 0);
	ck_assert_int_eq(hlnp_store_set_unknown(st, false, NULL, 1), -EINVAL);
	hlnp_store_free(st);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("netpol_discovery");
	TCase *tc = tcase_create("discovery");

	tcase_add_test(tc, test_groups);
	tcase_add_loop_test(tc, test_groups_bad, 0, (int)(sizeof(bad_groups) / sizeof(bad_groups[0])));
	tcase_add_test(tc, test_resources);
	tcase_add_test(tc, test_list);
	tcase_add_test(tc, test_store_unknown);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return hl_check_run(suite());
}
