/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests: Pod / PodList / WatchEvent / Status parsing and the pod cache. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hlk8s.h"
#include "hlk8s_private.h"
#include "hl_check.h"

/* A Pod as the API server sends it (trimmed managedFields, real layout). */
static const char POD[] =
	"{\"kind\":\"Pod\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"web-7d4b9\","
	"\"generateName\":\"web-\",\"namespace\":\"shop\","
	"\"uid\":\"0c5a7a43-8f2e-4a7e-9a53-2f4f1c0e9d11\",\"resourceVersion\":\"48213\","
	"\"creationTimestamp\":\"2024-05-01T10:00:00Z\",\"labels\":{\"app\":\"web\"},"
	"\"annotations\":{\"hostlane.io/fastpath\":\"shm\",\"hostlane.io/hugepages\":\"64Mi\","
	"\"kubectl.kubernetes.io/restartedAt\":\"2024-05-01T09:59:00Z\","
	"\"hostlane.io/n\":7},"
	"\"ownerReferences\":[{\"apiVersion\":\"apps/v1\",\"kind\":\"ReplicaSet\",\"name\":\"web\","
	"\"uid\":\"1\",\"controller\":true}]},"
	"\"spec\":{\"nodeName\":\"node-a\",\"containers\":[{\"name\":\"web\",\"image\":\"nginx\"}]},"
	"\"status\":{\"phase\":\"Running\",\"podIP\":\"10.244.1.5\"}}";

START_TEST(pod_fields)
{
	cJSON *o = cJSON_Parse(POD);
	struct hlk8s__pod p;

	ck_assert_ptr_nonnull(o);
	ck_assert_int_eq(hlk8s__pod_from_json(o, &p), 0);
	ck_assert_str_eq(p.ns, "shop");
	ck_assert_str_eq(p.name, "web-7d4b9");
	ck_assert_str_eq(p.uid, "0c5a7a43-8f2e-4a7e-9a53-2f4f1c0e9d11");
	ck_assert_str_eq(p.rv, "48213");
	ck_assert_str_eq(p.node, "node-a");
	/* Only string-valued hostlane.io/ annotations are kept. */
	ck_assert_uint_eq(p.n_anns, 2);
	ck_assert_str_eq(hlk8s__pod_ann(&p, HLK8S_ANN_FASTPATH), "shm");
	ck_assert_str_eq(hlk8s__pod_ann(&p, HLK8S_ANN_HUGEPAGES), "64Mi");
	ck_assert_ptr_null(hlk8s__pod_ann(&p, "kubectl.kubernetes.io/restartedAt"));
	ck_assert_ptr_null(hlk8s__pod_ann(&p, "hostlane.io/n"));
	/* The raw-JSON lookup (GET path) sees every key. */
	ck_assert_str_eq(hlk8s__json_pod_ann(o, "kubectl.kubernetes.io/restartedAt"),
			 "2024-05-01T09:59:00Z");
	ck_assert_ptr_null(hlk8s__json_pod_ann(o, "nope"));
	hlk8s__pod_clear(&p);
	cJSON_Delete(o);
}
END_TEST

/* Table: objects that are not usable Pods. */
static const char *const bad_pods[] = {
	"{}",
	"[]",
	"{\"metadata\":{\"name\":\"a\"}}",                        /* no namespace */
	"{\"metadata\":{\"namespace\":\"a\"}}",                   /* no name */
	"{\"metadata\":{\"name\":1,\"namespace\":\"a\"}}",        /* wrong type */
	"{\"kind\":\"Service\",\"metadata\":{\"name\":\"a\",\"namespace\":\"b\"}}",
	"{\"metadata\":\"x\"}",
};

START_TEST(pod_bad)
{
	cJSON *o = cJSON_Parse(bad_pods[_i]);
	struct hlk8s__pod p;

	ck_assert_msg(hlk8s__pod_from_json(o, &p) == -EINVAL, "accepted %s", bad_pods[_i]);
	ck_assert_ptr_null(p.ns);
	cJSON_Delete(o);
}
END_TEST

START_TEST(pod_minimal)
{
	/* No uid, rv, node or annotations: still a pod, fields NULL. */
	cJSON *o = cJSON_Parse("{\"metadata\":{\"name\":\"a\",\"namespace\":\"b\","
			       "\"annotations\":null},\"spec\":{}}");
	struct hlk8s__pod p;

	ck_assert_int_eq(hlk8s__pod_from_json(o, &p), 0);
	ck_assert_ptr_null(p.uid);
	ck_assert_ptr_null(p.node);
	ck_assert_uint_eq(p.n_anns, 0);
	hlk8s__pod_clear(&p);
	cJSON_Delete(o);
}
END_TEST

static struct {
	const char *line;
	int ret;
	enum hlk8s__ev_type type;
	const char *rv;
} events[] = {
	{ "{\"type\":\"ADDED\",\"object\":{\"kind\":\"Pod\",\"metadata\":{\"name\":\"a\","
	  "\"namespace\":\"n\",\"resourceVersion\":\"11\"},\"spec\":{\"nodeName\":\"x\"}}}",
	  0, HLK8S_EV_ADDED, "11" },
	{ "{\"type\":\"MODIFIED\",\"object\":{\"metadata\":{\"name\":\"a\",\"namespace\":\"n\","
	  "\"resourceVersion\":\"12\"}}}", 0, HLK8S_EV_MODIFIED, "12" },
	{ "{\"type\":\"DELETED\",\"object\":{\"metadata\":{\"name\":\"a\",\"namespace\":\"n\","
	  "\"resourceVersion\":\"13\"}}}\r", 0, HLK8S_EV_DELETED, "13" },
	{ "{\"type\":\"BOOKMARK\",\"object\":{\"kind\":\"Pod\",\"apiVersion\":\"v1\","
	  "\"metadata\":{\"resourceVersion\":\"14\",\"annotations\":"
	  "{\"k8s.io/initial-events-end\":\"true\"}}}}", 0, HLK8S_EV_BOOKMARK, "14" },
	{ "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"apiVersion\":\"v1\","
	  "\"metadata\":{},\"status\":\"Failure\",\"message\":\"too old resource version: "
	  "5 (10)\",\"reason\":\"Expired\",\"code\":410}}", 0, HLK8S_EV_ERROR, NULL },
	{ "{\"type\":\"BOOKMARK\",\"object\":{\"metadata\":{}}}", -EINVAL, 0, NULL },
	{ "{\"type\":\"SYNC\",\"object\":{}}", -EINVAL, 0, NULL },
	{ "{\"type\":\"ADDED\"}", -EINVAL, 0, NULL },
	{ "{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":\"a\"}}}", -EINVAL, 0, NULL },
	{ "{\"type\":\"ADDED\",\"object\":{", -EINVAL, 0, NULL },
	{ "", -EINVAL, 0, NULL },
};

START_TEST(event_table)
{
	struct hlk8s__event ev;
	int r = hlk8s__event_parse(events[_i].line, strlen(events[_i].line), &ev);

	ck_assert_msg(r == events[_i].ret, "%s: %d", events[_i].line, r);
	if (!r) {
		ck_assert_int_eq(ev.type, events[_i].type);
		if (events[_i].rv)
			ck_assert_str_eq(ev.rv, events[_i].rv);
		else
			ck_assert_ptr_null(ev.rv);
	}
	hlk8s__event_clear(&ev);
}
END_TEST

START_TEST(event_error_status)
{
	const char *l = events[4].line;
	struct hlk8s__event ev;

	ck_assert_int_eq(hlk8s__event_parse(l, strlen(l), &ev), 0);
	ck_assert_int_eq(ev.status.code, 410);
	ck_assert_str_eq(ev.status.reason, "Expired");
	ck_assert_str_eq(ev.status.message, "too old resource version: 5 (10)");
	hlk8s__event_clear(&ev);
}
END_TEST

START_TEST(event_not_nul_terminated)
{
	/* The watch hands over a line inside a bigger buffer: honour the length. */
	const char *l = events[1].line;
	char *buf = malloc(strlen(l) + 10);
	struct hlk8s__event ev;

	memcpy(buf, l, strlen(l));
	memcpy(buf + strlen(l), "\n{\"type\"", 9);
	ck_assert_int_eq(hlk8s__event_parse(buf, strlen(l), &ev), 0);
	ck_assert_str_eq(ev.pod.name, "a");
	hlk8s__event_clear(&ev);
	free(buf);
}
END_TEST

START_TEST(status_parse)
{
	static const char s404[] =
		"{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\","
		"\"message\":\"pods \\\"x\\\" not found\",\"reason\":\"NotFound\","
		"\"details\":{\"name\":\"x\",\"kind\":\"pods\"},\"code\":404}";
	static const char huge[] = "{\"kind\":\"Status\",\"code\":1e300}";
	struct hlk8s__status st;

	ck_assert_int_eq(hlk8s__status_parse(s404, sizeof(s404) - 1, &st), 0);
	ck_assert_int_eq(st.code, 404);
	ck_assert_str_eq(st.reason, "NotFound");
	ck_assert_str_eq(st.message, "pods \"x\" not found");
	ck_assert_int_eq(hlk8s__status_parse(POD, sizeof(POD) - 1, &st), -EINVAL);
	ck_assert_int_eq(hlk8s__status_parse("<html>", 6, &st), -EINVAL);
	/* An absurd code is dropped, not converted. */
	ck_assert_int_eq(hlk8s__status_parse(huge, strlen(huge), &st), 0);
	ck_assert_int_eq(st.code, 0);
}
END_TEST

struct collect {
	int n;
	char names[8][32];
};

static int collect(void *arg, struct hlk8s__pod *pod)
{
	struct collect *c = arg;

	if (c->n < 8)
		strncpy(c->names[c->n], pod->name, 31);
	c->n++;
	return 0;
}

START_TEST(podlist)
{
	static const char l[] =
		"{\"kind\":\"PodList\",\"apiVersion\":\"v1\",\"metadata\":{\"resourceVersion\":"
		"\"900\",\"continue\":\"eyJ2IjoibWV0YS5rOHMuaW8vdjEifQ\"},\"items\":["
		"{\"metadata\":{\"name\":\"a\",\"namespace\":\"n\"}},"
		"{\"metadata\":{\"name\":\"broken\"}},"
		"{\"metadata\":{\"name\":\"b\",\"namespace\":\"n\"}}]}";
	struct collect c = { 0 };
	char *rv, *cont;

	ck_assert_int_eq(hlk8s__podlist_parse(l, sizeof(l) - 1, collect, &c, &rv, &cont), 0);
	ck_assert_int_eq(c.n, 2); /* the broken item is skipped */
	ck_assert_str_eq(c.names[0], "a");
	ck_assert_str_eq(c.names[1], "b");
	ck_assert_str_eq(rv, "900");
	ck_assert_str_eq(cont, "eyJ2IjoibWV0YS5rOHMuaW8vdjEifQ");
	free(rv);
	free(cont);
}
END_TEST

START_TEST(podlist_empty_and_bad)
{
	static const char empty[] =
		"{\"kind\":\"PodList\",\"metadata\":{\"resourceVersion\":\"5\",\"continue\":\"\"},"
		"\"items\":null}";
	static const char obj_items[] = "{\"kind\":\"PodList\",\"metadata\":{},\"items\":{}}";
	struct collect c = { 0 };
	char *rv, *cont;

	ck_assert_int_eq(hlk8s__podlist_parse(empty, sizeof(empty) - 1, collect, &c, &rv, &cont), 0);
	ck_assert_int_eq(c.n, 0);
	ck_assert_str_eq(rv, "5");
	ck_assert_ptr_null(cont);
	free(rv);
	ck_assert_int_eq(hlk8s__podlist_parse(POD, sizeof(POD) - 1, collect, &c, &rv, &cont),
			 -EINVAL);
	ck_assert_int_eq(hlk8s__podlist_parse(obj_items, strlen(obj_items), collect, &c, &rv,
					      &cont), -EINVAL);
	ck_assert_ptr_null(rv);
}
END_TEST

static struct hlk8s__pod mkpod(const char *ns, const char *name, const char *fp)
{
	struct hlk8s__pod p = { .ns = strdup(ns), .name = strdup(name) };

	if (fp) {
		p.anns = calloc(1, sizeof(*p.anns));
		p.anns[0].key = strdup(HLK8S_ANN_FASTPATH);
		p.anns[0].value = strdup(fp);
		p.n_anns = 1;
	}
	return p;
}

START_TEST(cache_ops)
{
	struct hlk8s__cache *c = hlk8s__cache_new();
	struct hlk8s__pod p;
	char name[32];

	ck_assert_ptr_nonnull(c);
	/* Enough pods that buckets are shared. */
	for (int i = 0; i < 1000; i++) {
		snprintf(name, sizeof(name), "pod-%d", i);
		p = mkpod(i % 2 ? "odd" : "even", name, i % 3 ? "shm" : NULL);
		ck_assert_int_eq(hlk8s__cache_put(c, &p), 0);
		ck_assert_ptr_null(p.ns); /* ownership moved */
	}
	ck_assert_uint_eq(hlk8s__cache_count(c), 1000);
	ck_assert_str_eq(hlk8s__pod_ann(hlk8s__cache_get(c, "odd", "pod-1"), HLK8S_ANN_FASTPATH),
			 "shm");
	ck_assert_ptr_null(hlk8s__cache_get(c, "even", "pod-1"));
	/* Replace keeps the count and changes the value. */
	p = mkpod("odd", "pod-1", "vf");
	ck_assert_int_eq(hlk8s__cache_put(c, &p), 0);
	ck_assert_uint_eq(hlk8s__cache_count(c), 1000);
	ck_assert_str_eq(hlk8s__pod_ann(hlk8s__cache_get(c, "odd", "pod-1"), HLK8S_ANN_FASTPATH),
			 "vf");
	ck_assert(hlk8s__cache_del(c, "odd", "pod-1"));
	ck_assert(!hlk8s__cache_del(c, "odd", "pod-1"));
	ck_assert_ptr_null(hlk8s__cache_get(c, "odd", "pod-1"));
	ck_assert_uint_eq(hlk8s__cache_count(c), 999);
	/* "ab"/"c" and "a"/"bc" are different pods. */
	p = mkpod("ab", "c", "shm");
	ck_assert_int_eq(hlk8s__cache_put(c, &p), 0);
	ck_assert_ptr_null(hlk8s__cache_get(c, "a", "bc"));
	hlk8s__cache_free(c);
}
END_TEST

START_TEST(node_pod_cidr)
{
	char out[64], tiny[8];
	const char *both = "{\"spec\": {\"podCIDR\": \"10.244.3.0/24\", \"podCIDRs\": [\"10.244.3.0/24\", \"fd00::/64\"]}}";
	const char *list = "{\"spec\": {\"podCIDRs\": [\"fd00:1::/64\"]}}";
	const char *none = "{\"kind\": \"Node\", \"spec\": {\"unschedulable\": true}}";

	ck_assert_int_eq(hlk8s__node_pod_cidr(both, strlen(both), out, sizeof(out)), 0);
	ck_assert_str_eq(out, "10.244.3.0/24");
	ck_assert_int_eq(hlk8s__node_pod_cidr(list, strlen(list), out, sizeof(out)), 0);
	ck_assert_str_eq(out, "fd00:1::/64");
	ck_assert_int_eq(hlk8s__node_pod_cidr(none, strlen(none), out, sizeof(out)), -ENOENT);
	ck_assert_int_eq(hlk8s__node_pod_cidr("[1]", 3, out, sizeof(out)), -EINVAL);
	ck_assert_int_eq(hlk8s__node_pod_cidr(both, strlen(both), tiny, sizeof(tiny)), -ENOSPC);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("hlk8s_parse");
	TCase *t = tcase_create("pod");

	tcase_add_test(t, pod_fields);
	tcase_add_loop_test(t, pod_bad, 0, sizeof(bad_pods) / sizeof(bad_pods[0]));
	tcase_add_test(t, pod_minimal);
	suite_add_tcase(s, t);
	t = tcase_create("event");
	tcase_add_loop_test(t, event_table, 0, sizeof(events) / sizeof(events[0]));
	tcase_add_test(t, event_error_status);
	tcase_add_test(t, event_not_nul_terminated);
	tcase_add_test(t, status_parse);
	suite_add_tcase(s, t);
	t = tcase_create("list");
	tcase_add_test(t, podlist);
	tcase_add_test(t, podlist_empty_and_bad);
	suite_add_tcase(s, t);
	t = tcase_create("cache");
	tcase_add_test(t, cache_ops);
	tcase_add_test(t, node_pod_cidr);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	return hl_check_run(suite());
}
