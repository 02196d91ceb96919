/* SPDX-License-Identifier: Apache-2.0 */
/*
 * NetworkPolicy admission: the truth table of netpol_cases.c through the
 * decoder (hlnp) and the monitor's evaluator (hl_policy.h), every cell of
 * every scenario on both ports; and the decoder's refusals.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hl_check.h"
#include "hl_policy.h"
#include "hlnp.h"
#include "netpol_cases.h"

static const char *const nss[3] = { "x", "y", "z" };
static const char *const pods[3] = { "a", "b", "c" };

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

static cJSON *parse(const char *s)
{
	char *d = dq(s);
	cJSON *j = cJSON_Parse(d);

	ck_assert_msg(j, "test JSON does not parse: %s", d);
	free(d);
	return j;
}

static void add_ns(struct hl_pol_table *t, int i)
{
	char buf[256];
	char *name;
	struct hl_pol_label *l;
	size_t n;
	cJSON *j;

	snprintf(buf, sizeof(buf),
		 "{'apiVersion':'v1','kind':'Namespace','metadata':{'name':'%s',"
		 "'labels':{'ns':'%s'%s}}}", nss[i], nss[i],
		 i == 0 ? ",'team':'blue'" : i == 2 ? ",'team':'red'" : "");
	j = parse(buf);
	ck_assert_int_eq(hlnp_ns_decode(j, &name, &l, &n), 0);
	ck_assert_int_eq(hl_pol_table_add_ns(t, name, l, n), 0);
	cJSON_Delete(j);
}

static void add_pod(struct hl_pol_table *t, int ns, int pod, const char *relabel)
{
	char buf[1024], label[8];
	struct hl_pol_pod p;
	cJSON *j;

	snprintf(label, sizeof(label), "%s", pods[pod]);
	/* "x/c pod=b" */
	if (relabel && relabel[0] == nss[ns][0] && relabel[2] == pods[pod][0])
		snprintf(label, sizeof(label), "%s", relabel + 8);
	snprintf(buf, sizeof(buf),
		 "{'apiVersion':'v1','kind':'Pod','metadata':{'namespace':'%s','name':'%s',"
		 "'labels':{'pod':'%s'}},'spec':{'containers':[{'name':'c80','ports':["
		 "{'name':'serve-80-tcp','containerPort':80,'protocol':'TCP'},"
		 "{'name':'serve-81-udp','containerPort':81,'protocol':'UDP'}]},"
		 "{'name':'c81','ports':[{'name':'serve-81-tcp','containerPort':81},"
		 "{'containerPort':82}]}]},"
		 "'status':{'podIP':'10.0.%d.%d','podIPs':[{'ip':'10.0.%d.%d'},{'ip':'fd00::%d:%d'}]}}",
		 nss[ns], pods[pod], label, ns + 1, pod + 1, ns + 1, pod + 1, ns + 1, pod + 1);
	j = parse(buf);
	ck_assert_int_eq(hlnp_pod_decode(j, &p), 0);
	ck_assert_uint_eq(p.n_ips, 2);
	ck_assert_uint_eq(p.n_ports, 3);
	ck_assert_int_eq(hl_pol_table_add_pod(t, &p), 0);
	cJSON_Delete(j);
}

static struct hl_pol_table *world(const struct np_case *c)
{
	struct hl_pol_table *t = hl_pol_table_new();
	cJSON *list, *v;
	char why[256];

	ck_assert_ptr_nonnull(t);
	for (int i = 0; i < 3; i++)
		add_ns(t, i);
	for (int i = 0; i < 3; i++)
		for (int k = 0; k < 3; k++)
			add_pod(t, i, k, c->relabel);
	list = parse(c->policies);
	cJSON_ArrayForEach(v, list) {
		struct hl_pol_policy *p = hlnp_policy_decode(v, why, sizeof(why));

		ck_assert_msg(p, "%s: policy refused: %s", c->name, why);
		ck_assert_int_eq(hl_pol_table_add_policy(t, p), 0);
	}
	cJSON_Delete(list);
	if (c->deny_all_ns)
		ck_assert_int_eq(hl_pol_table_add_policy(t, hlnp_policy_deny_all(c->deny_all_ns, "bad")), 0);
	ck_assert_int_eq(hl_pol_table_compile(t), 0);
	return t;
}

/* Every cell of case @_i on both ports, over IPv4 and IPv6 addresses (an
 * IP block of v4 addresses never admits a v6 one: the v6 verdict is only
 * checked where the case has no IP block). */
START_TEST(test_truth_table)
{
	const struct np_case *c = &np_cases[_i];
	struct hl_pol_table *t = world(c);
	unsigned wrong = 0;
	bool v6 = !strstr(c->policies, "ipBlock");
	static uint64_t bits[HL_POL_PORT_WORDS];
	static const uint16_t probe[] = { 0, 1, 79, 82, 89, 90, 91, 443, 8080, 65535 };

	for (int port = 80; port <= 81; port++) {
		const char *const *g = port == 81 && c->p81[0] ? c->p81 : c->p80;

		for (int s = 0; s < NP_PODS; s++)
			for (int d = 0; d < NP_PODS; d++) {
				struct hl_pol_addr sa, da;
				char ss[32], ds[32];
				enum hl_pol_verdict v;
				bool want = g[s][d] == '1';

				for (int fam = 4; fam <= (v6 ? 6 : 4); fam += 2) {
					if (fam == 4) {
						snprintf(ss, sizeof(ss), "10.0.%d.%d", s / 3 + 1, s % 3 + 1);
						snprintf(ds, sizeof(ds), "10.0.%d.%d", d / 3 + 1, d % 3 + 1);
					} else {
						snprintf(ss, sizeof(ss), "fd00::%d:%d", s / 3 + 1, s % 3 + 1);
						snprintf(ds, sizeof(ds), "fd00::%d:%d", d / 3 + 1, d % 3 + 1);
					}
					ck_assert_int_eq(hlnp_addr_parse(ss, &sa), 0);
					ck_assert_int_eq(hlnp_addr_parse(ds, &da), 0);
					v = hl_pol_admit(t, nss[s / 3], pods[s % 3], &sa, nss[d / 3],
							 pods[d % 3], &da, (uint16_t)port);
					/* The bitmap of every port agrees with the
					 * verdicts, at this port and at ports no
					 * case names and the ends of a range. */
					ck_assert_int_eq(hl_pol_admit_ports(t, nss[s / 3], pods[s % 3], &sa,
									 nss[d / 3], pods[d % 3], &da,
									 bits), 0);
					for (size_t q = 0; q < sizeof(probe) / sizeof(probe[0]); q++) {
						uint16_t pq = probe[q] ? probe[q] : (uint16_t)port;
						bool bit = (bits[pq / 64] >> (pq % 64)) & 1;

						if (bit != (hl_pol_admit(t, nss[s / 3], pods[s % 3], &sa,
									 nss[d / 3], pods[d % 3], &da, pq) ==
							    HL_POL_ADMIT)) {
							fprintf(stderr, "%s: port bitmap disagrees at %u\n",
								c->name, pq);
							wrong++;
						}
					}
					ck_assert(!(bits[0] & 1));
					if ((v == HL_POL_ADMIT) != want) {
						fprintf(stderr, "%s: %s%s -> %s%s:%d (v%d): %s, want %s\n",
							c->name, nss[s / 3], pods[s % 3], nss[d / 3],
							pods[d % 3], port, fam, hl_pol_verdict_name(v),
							want ? "admitted" : "denied");
						wrong++;
					}
				}
			}
	}
	hl_pol_table_free(t);
	ck_assert_msg(!wrong, "%s: %u cells disagree", c->name, wrong);
}
END_TEST

/* A pod the table does not know is never admitted, either way. */
START_TEST(test_unknown_pod)
{
	struct np_case c = { .name = "unknown", .policies = "[]" };
	struct hl_pol_table *t = world(&c);
	struct hl_pol_addr a, b;

	hlnp_addr_parse("10.0.1.1", &a);
	hlnp_addr_parse("10.9.9.9", &b);
	ck_assert_int_eq(hl_pol_admit(t, "x", "a", &a, "x", "zz", &b, 80), HL_POL_UNKNOWN);
	ck_assert_int_eq(hl_pol_admit(t, "q", "a", &b, "x", "a", &a, 80), HL_POL_UNKNOWN);
	ck_assert_int_eq(hl_pol_admit(NULL, "x", "a", &a, "x", "b", &a, 80), HL_POL_UNKNOWN);
	ck_assert_uint_eq(hl_pol_isolated(t, "x", "zz"), 3);
	ck_assert_uint_eq(hl_pol_isolated(t, "x", "a"), 0);
	hl_pol_table_free(t);
	/* Not compiled yet: nothing admitted. */
	t = hl_pol_table_new();
	ck_assert_int_eq(hl_pol_admit(t, "x", "a", &a, "x", "b", &a, 80), HL_POL_UNKNOWN);
	hl_pol_table_free(t);
}
END_TEST

/* Duplicates are refused: a pod twice, a namespace twice; not an address
 * two pods show (an ended pod keeps its address in the API). */
START_TEST(test_table_dups)
{
	struct hl_pol_table *t = hl_pol_table_new();
	struct hl_pol_pod p = { 0 };
	char *n1 = strdup("x"), *n2 = strdup("x");

	ck_assert_int_eq(hl_pol_table_add_ns(t, n1, NULL, 0), 0);
	ck_assert_int_eq(hl_pol_table_add_ns(t, n2, NULL, 0), -EEXIST);
	p.ns = strdup("x");
	p.name = strdup("a");
	p.n_ips = 1;
	hlnp_addr_parse("10.0.0.1", &p.ips[0]);
	ck_assert_int_eq(hl_pol_table_add_pod(t, &p), 0);
	p.ns = strdup("x");
	p.name = strdup("b");
	p.n_ips = 1;
	hlnp_addr_parse("10.0.0.1", &p.ips[0]);
	ck_assert_int_eq(hl_pol_table_add_pod(t, &p), 0);
	p.ns = strdup("x");
	p.name = strdup("a");
	p.n_ips = 0;
	ck_assert_int_eq(hl_pol_table_add_pod(t, &p), -EEXIST);
	ck_assert_int_eq(hl_pol_table_add_policy(t, NULL), -EINVAL);
	hl_pol_table_free(t);
}
END_TEST

/* What the decoder refuses (each would be a guess if taken). */
static const char *const bad[] = {
	"{}",
	"{'metadata':{'name':'p'},'spec':{}}",
	"{'metadata':{'namespace':'x','name':'p'}}",
	"{'metadata':{'namespace':'x','name':'p'},'spec':[]}",
	"{'metadata':{'namespace':'x','name':'p'},'spec':{'podSelector':[]}}",
	"{'metadata':{'namespace':'x','name':'p'},'spec':{'podSelector':{'matchLabels':{'a':1}}}}",
	"{'metadata':{'namespace':'x','name':'p'},'spec':{'podSelector':{'matchExpressions':"
	"[{'key':'a','operator':'Like','values':['b']}]}}}",
	"{'metadata':{'namespace':'x','name':'p'},'spec':{'podSelector':{'matchExpressions':"
	"[{'key':'a','operator':'In'}]}}}",
	"{'metadata':{'namespace':'x','name':'p'},'spec':{'podSelector':{'matchExpressions':"
	"[{'key':'a','operator':'Exists','values':['b']}]}}}",
	"{'metadata':{'namespace':'x','name':'p'},'spec':{'podSelector':{'matchExpressions':"
	"[{'operator':'Exists'}]}}}",
	"{'metadata':{'namespace':'x','name':'p'},'spec':{'policyTypes':['Sideways']}}",
	"{'metadata':{'namespace':'x','name':'p'},'spec':{'ingress':{}}}",
	"{'metadata':{'namespace':'x','name':'p'},'spec':{'ingress':[{'from':[{}]}]}}",
	"{'metadata':{'namespace':'x','name':'p'},'spec':{'ingress':[{'from':[{'ipBlock':"
	"{'cidr':'10.0.0.0/8'},'podSelector':{}}]}]}}",
	"{'metadata':{'namespace':'x','name':'p'},'spec':{'ingress':[{'from':[{'ipBlock':"
	"{'cidr':'10.0.0.0/33'}}]}]}}",
	"{'metadata':{'namespace':'x','name':'p'},'spec':{'ingress':[{'from':[{'ipBlock':"
	"{'cidr':'10.0.0.0'}}]}]}}",
	"{'metadata':{'namespace':'x','name':'p'},'spec':{'ingress':[{'from':[{'ipBlock':"
	"{'cidr':'10.0.0.0/8','except':['nope/8']}}]}]}}",
	"{'metadata':{'namespace':'x','name':'p'},'spec':{'ingress':[{'ports':[{'port':0}]}]}}",
	"{'metadata':{'namespace':'x','name':'p'},'spec':{'ingress':[{'ports':[{'port':65536}]}]}}",
	"{'metadata':{'namespace':'x','name':'p'},'spec':{'ingress':[{'ports':[{'port':80.5}]}]}}",
	"{'metadata':{'namespace':'x','name':'p'},'spec':{'ingress':[{'ports':[{'port':'a-name-far-too-long'}]}]}}",
	"{'metadata':{'namespace':'x','name':'p'},'spec':{'ingress':[{'ports':[{'port':90,'endPort':80}]}]}}",
	"{'metadata':{'namespace':'x','name':'p'},'spec':{'ingress':[{'ports':[{'port':'web','endPort':80}]}]}}",
	"{'metadata':{'namespace':'x','name':'p'},'spec':{'ingress':[{'ports':[{'protocol':'ICMP'}]}]}}",
	"{'metadata':{'namespace':'x','name':'p'},'spec':{'egress':[{'to':[{'namespaceSelector':7}]}]}}",
};

START_TEST(test_refused)
{
	char why[256] = "";
	char *d = dq(bad[_i]);
	struct hl_pol_policy *p = hlnp_policy_parse(d, strlen(d), why, sizeof(why));

	ck_assert_msg(!p, "taken: %s", d);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_msg(*why, "no reason for %s", d);
	free(d);
}
END_TEST

/* Defaults: policyTypes from the rules, protocol TCP, null peers/ports. */
START_TEST(test_defaults)
{
	char *d = dq("{'metadata':{'namespace':'x','name':'p'},'spec':{'podSelector':null,"
		     "'ingress':[{'from':null,'ports':[{'port':80}]}],'egress':[]}}");
	struct hl_pol_policy *p = hlnp_policy_parse(d, strlen(d), NULL, 0);

	ck_assert_ptr_nonnull(p);
	ck_assert(p->ingress && !p->egress);
	ck_assert_uint_eq(p->n_in, 1);
	ck_assert_uint_eq(p->in[0].n_peers, 0);
	ck_assert_uint_eq(p->in[0].ports[0].proto, HL_POL_TCP);
	ck_assert_uint_eq(p->pods.n_req, 0);
	hl_pol_policy_free(p);
	free(d);
	d = dq("{'metadata':{'namespace':'x','name':'p'},'spec':{'podSelector':{},"
	       "'egress':[{'to':[{'ipBlock':{'cidr':'fd00::/64','except':['fd00::1/128']}}]}]}}");
	p = hlnp_policy_parse(d, strlen(d), NULL, 0);
	ck_assert_ptr_nonnull(p);
	ck_assert(p->ingress && p->egress);
	ck_assert_uint_eq(p->out[0].peers[0].cidr.prefix, 64);
	ck_assert_uint_eq(p->out[0].peers[0].n_except, 1);
	hl_pol_policy_free(p);
	free(d);
}
END_TEST

#define POLICY_FROM(team) \
	"{'metadata':{'namespace':'x','name':'p'},'spec':{'podSelector':{},'ingress':[{'from':" \
	"[{'namespaceSelector':{'matchLabels':{'team':'" team "'}}}]}]}}"
#define POLICY_BLUE POLICY_FROM("blue")
#define POLICY_RED POLICY_FROM("red")

static void put(struct hlnp_store *st, enum hlnp_kind k, const char *json)
{
	cJSON *j = parse(json);

	ck_assert_int_eq(hlnp_store_put(st, k, j), 0);
	cJSON_Delete(j);
}

/* y/b -> x/a:80 through a table the store builds. */
static enum hl_pol_verdict store_verdict(struct hlnp_store *st, struct hlnp_build_stats *bs)
{
	struct hl_pol_table *t = hlnp_store_build(st, bs);
	struct hl_pol_addr a, b;
	enum hl_pol_verdict v;

	ck_assert_ptr_nonnull(t);
	hlnp_addr_parse("10.0.1.1", &a);
	hlnp_addr_parse("10.0.2.2", &b);
	v = hl_pol_admit(t, "y", "b", &b, "x", "a", &a, 80);
	hl_pol_table_free(t);
	return v;
}

/* Changes as the watch delivers them: add, modify, label change, delete,
 * a refused policy, an ended pod. */
START_TEST(test_store)
{
	struct hlnp_store *st = hlnp_store_new();
	struct hlnp_build_stats bs;

	put(st, HLNP_NAMESPACE, "{'metadata':{'name':'x'}}");
	put(st, HLNP_NAMESPACE, "{'metadata':{'name':'y','labels':{'team':'blue'}}}");
	put(st, HLNP_POD, "{'metadata':{'namespace':'x','name':'a','labels':{'pod':'a'}},"
	    "'status':{'podIP':'10.0.1.1'}}");
	/* Not in the store yet: unknown, never admitted. */
	ck_assert_int_eq(store_verdict(st, &bs), HL_POL_UNKNOWN);
	put(st, HLNP_POD, "{'metadata':{'namespace':'y','name':'b','labels':{'pod':'b'}},"
	    "'status':{'podIP':'10.0.2.2'}}");
	ck_assert_int_eq(store_verdict(st, &bs), HL_POL_ADMIT);
	ck_assert_uint_eq(bs.pods, 2);
	ck_assert_uint_eq(bs.namespaces, 2);
	put(st, HLNP_POLICY, POLICY_BLUE);
	ck_assert_int_eq(store_verdict(st, &bs), HL_POL_ADMIT);
	/* Modified: now only from team red. */
	put(st, HLNP_POLICY, POLICY_RED);
	ck_assert_int_eq(store_verdict(st, &bs), HL_POL_DENY_INGRESS);
	ck_assert_uint_eq(hlnp_store_count(st, HLNP_POLICY), 1);
	/* The namespace's labels change. */
	put(st, HLNP_NAMESPACE, "{'metadata':{'name':'y','labels':{'team':'red'}}}");
	ck_assert_int_eq(store_verdict(st, &bs), HL_POL_ADMIT);
	ck_assert_int_eq(hlnp_store_del(st, HLNP_POLICY, "x", "p"), 0);
	ck_assert_int_eq(hlnp_store_del(st, HLNP_POLICY, "x", "p"), -ENOENT);
	ck_assert_int_eq(store_verdict(st, &bs), HL_POL_ADMIT);
	/* A policy the decoder refuses isolates its namespace. */
	put(st, HLNP_POLICY, "{'metadata':{'namespace':'x','name':'odd'},'spec':{'podSelector':{},"
	    "'ingress':[{'ports':[{'protocol':'QUIC'}]}]}}");
	ck_assert_int_eq(store_verdict(st, &bs), HL_POL_DENY_INGRESS);
	ck_assert_uint_eq(bs.refused, 1);
	ck_assert_ptr_nonnull(strstr(bs.last_refused, "x/odd"));
	hlnp_store_clear(st, HLNP_POLICY);
	ck_assert_int_eq(store_verdict(st, &bs), HL_POL_ADMIT);
	/* An ended pod is not one: its IP may be another's already. */
	put(st, HLNP_POD, "{'metadata':{'namespace':'y','name':'b','labels':{'pod':'b'}},"
	    "'status':{'podIP':'10.0.2.2','phase':'Succeeded'}}");
	ck_assert_int_eq(store_verdict(st, &bs), HL_POL_UNKNOWN);
	ck_assert_uint_eq(bs.pods_skipped, 1);
	ck_assert_int_eq(hlnp_store_put(st, HLNP_POD, NULL), -EINVAL);
	hlnp_store_free(st);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("netpol");
	TCase *tc = tcase_create("netpol");

	tcase_add_loop_test(tc, test_truth_table, 0, (int)np_n_cases);
	tcase_add_test(tc, test_unknown_pod);
	tcase_add_test(tc, test_table_dups);
	tcase_add_loop_test(tc, test_refused, 0, (int)(sizeof(bad) / sizeof(bad[0])));
	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_store);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return hl_check_run(suite());
}
