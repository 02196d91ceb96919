/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests: Pod / PodList / WatchEvent / Status parsing and the object
 * cache (the Service and EndpointSlice parsers: test_hlk8s_objects.c). */
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
	"\"status\":{\"phase\":\"Running\",\"podIP\":\"10.244.1.5\","
	"\"podIPs\":[{\"ip\":\"10.244.1.5\"},{\"ip\":\"fd00:10:244:1::5\"},{\"ip\":\"bogus\"}],"
	"\"conditions\":[{\"type\":\"Initialized\",\"status\":\"True\"},"
	"{\"type\":\"Ready\",\"status\":\"True\"}]}}";

static const struct hlk8s__kind *K_POD(void)
{
	return hlk8s__kind_of(HLK8S_PODS);
}

/* A Pod from JSON text, or NULL (and *err). */
static struct hlk8s_pod *pod_of(const char *json, int *err)
{
	cJSON *o = cJSON_Parse(json);
	struct hlk8s_pod *p = hlk8s__obj_parse(K_POD(), o, err);

	cJSON_Delete(o);
	return p;
}

START_TEST(pod_fields)
{
	cJSON *o = cJSON_Parse(POD);
	struct hlk8s_pod *p;
	int err;

	ck_assert_ptr_nonnull(o);
	p = hlk8s__obj_parse(K_POD(), o, &err);
	ck_assert_ptr_nonnull(p);
	ck_assert_str_eq(p->meta.ns, "shop");
	ck_assert_str_eq(p->meta.name, "web-7d4b9");
	ck_assert_str_eq(p->meta.uid, "0c5a7a43-8f2e-4a7e-9a53-2f4f1c0e9d11");
	ck_assert_str_eq(p->meta.rv, "48213");
	ck_assert_str_eq(hlk8s_label(&p->meta, "app"), "web");
	ck_assert(!p->meta.deleting);
	ck_assert_str_eq(p->node, "node-a");
	/* Only string-valued hostlane.io/ annotations are kept. */
	ck_assert_uint_eq(p->n_anns, 2);
	ck_assert_str_eq(hlk8s__pod_ann(p, HLK8S_ANN_FASTPATH), "shm");
	ck_assert_str_eq(hlk8s__pod_ann(p, HLK8S_ANN_HUGEPAGES), "64Mi");
	ck_assert_ptr_null(hlk8s__pod_ann(p, "kubectl.kubernetes.io/restartedAt"));
	ck_assert_ptr_null(hlk8s__pod_ann(p, "hostlane.io/n"));
	/* status.podIPs (both families; not an address: dropped), Ready. */
	ck_assert_uint_eq(p->n_ips, 2);
	ck_assert_str_eq(p->ips[0], "10.244.1.5");
	ck_assert_str_eq(p->ips[1], "fd00:10:244:1::5");
	ck_assert(p->ready);
	ck_assert_str_eq(p->phase, "Running");
	/* The raw-JSON lookup (GET path) sees every key. */
	ck_assert_str_eq(hlk8s__json_pod_ann(o, "kubectl.kubernetes.io/restartedAt"),
			 "2024-05-01T09:59:00Z");
	ck_assert_ptr_null(hlk8s__json_pod_ann(o, "nope"));
	hlk8s__obj_free(K_POD(), p);
	cJSON_Delete(o);
}
END_TEST

/* Table: where a pod's addresses and readiness come from. */
static const struct {
	const char *status;
	const char *ips;     /* joined with ',' */
	bool ready;
} pod_status[] = {
	{ "{\"podIP\":\"10.1.0.9\"}", "10.1.0.9", false },
	{ "{\"podIPs\":[{\"ip\":\"fd00::9\"}],\"podIP\":\"10.1.0.9\"}", "fd00::9", false },
	{ "{\"podIPs\":[{\"ip\":\"10.1.0.9\"},{\"ip\":\"10.1.0.9\"}]}", "10.1.0.9", false },
	{ "{\"podIPs\":[{\"ip\":7},{\"ip\":\"300.1.1.1\"}],\"podIP\":\"10.1.0.2\"}", "10.1.0.2", false },
	{ "{\"podIPs\":{\"ip\":\"10.1.0.9\"}}", "", false },
	{ "{\"conditions\":[{\"type\":\"Ready\",\"status\":\"False\"}]}", "", false },
	{ "{\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\"}]}", "", true },
	{ "{\"conditions\":{\"type\":\"Ready\",\"status\":\"True\"}}", "", false },
	{ "\"Running\"", "", false },
};

START_TEST(pod_status_table)
{
	char json[512], got[256] = "";
	struct hlk8s_pod *p;
	int err;

	snprintf(json, sizeof(json), "{\"metadata\":{\"name\":\"a\",\"namespace\":\"b\"},"
		 "\"status\":%s}", pod_status[_i].status);
	p = pod_of(json, &err);
	ck_assert_msg(p, "%s: %d", json, err);
	for (size_t i = 0; i < p->n_ips; i++)
		snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s%s", i ? "," : "",
			 p->ips[i]);
	ck_assert_str_eq(got, pod_status[_i].ips);
	ck_assert_int_eq(p->ready, pod_status[_i].ready);
	hlk8s__obj_free(K_POD(), p);
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
	int err = 0;

	ck_assert_ptr_null(pod_of(bad_pods[_i], &err));
	ck_assert_msg(err == -EINVAL, "%s: %d", bad_pods[_i], err);
}
END_TEST

START_TEST(pod_minimal)
{
	/* No uid, rv, node, annotations or status: still a pod, fields empty. */
	int err;
	struct hlk8s_pod *p = pod_of("{\"metadata\":{\"name\":\"a\",\"namespace\":\"b\","
				     "\"annotations\":null,\"deletionTimestamp\":\"2024-05-01T10:00:00Z\"},"
				     "\"spec\":{}}", &err);

	ck_assert_ptr_nonnull(p);
	ck_assert_ptr_null(p->meta.uid);
	ck_assert_ptr_null(p->node);
	ck_assert_uint_eq(p->n_anns, 0);
	ck_assert_uint_eq(p->n_ips, 0);
	ck_assert(!p->ready);
	ck_assert(p->meta.deleting);
	hlk8s__obj_free(K_POD(), p);
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
	int r = hlk8s__event_parse(K_POD(), events[_i].line, strlen(events[_i].line), &ev);

	ck_assert_msg(r == events[_i].ret, "%s: %d", events[_i].line, r);
	if (!r) {
		ck_assert_int_eq(ev.type, events[_i].type);
		if (events[_i].rv)
			ck_assert_str_eq(ev.rv, events[_i].rv);
		else
			ck_assert_ptr_null(ev.rv);
	}
	hlk8s__event_clear(K_POD(), &ev);
}
END_TEST

START_TEST(event_error_status)
{
	const char *l = events[4].line;
	struct hlk8s__event ev;

	ck_assert_int_eq(hlk8s__event_parse(K_POD(), l, strlen(l), &ev), 0);
	ck_assert_int_eq(ev.status.code, 410);
	ck_assert_str_eq(ev.status.reason, "Expired");
	ck_assert_str_eq(ev.status.message, "too old resource version: 5 (10)");
	hlk8s__event_clear(K_POD(), &ev);
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
	ck_assert_int_eq(hlk8s__event_parse(K_POD(), buf, strlen(l), &ev), 0);
	ck_assert_str_eq(((struct hlk8s_meta *)ev.obj)->name, "a");
	hlk8s__event_clear(K_POD(), &ev);
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

static int collect(void *arg, void *obj)
{
	struct collect *c = arg;
	struct hlk8s_pod *pod = obj;

	if (c->n < 8)
		strncpy(c->names[c->n], pod->meta.name, 31);
	c->n++;
	hlk8s__obj_free(K_POD(), pod);
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

	ck_assert_int_eq(hlk8s__list_parse(K_POD(), l, sizeof(l) - 1, collect, &c, &rv, &cont), 0);
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

	ck_assert_int_eq(hlk8s__list_parse(K_POD(), empty, sizeof(empty) - 1, collect, &c, &rv, &cont), 0);
	ck_assert_int_eq(c.n, 0);
	ck_assert_str_eq(rv, "5");
	ck_assert_ptr_null(cont);
	free(rv);
	ck_assert_int_eq(hlk8s__list_parse(K_POD(), POD, sizeof(POD) - 1, collect, &c, &rv, &cont),
			 -EINVAL);
	ck_assert_int_eq(hlk8s__list_parse(K_POD(), obj_items, strlen(obj_items), collect, &c, &rv,
					      &cont), -EINVAL);
	ck_assert_ptr_null(rv);
}
END_TEST

static struct hlk8s_pod *mkpod(const char *ns, const char *name, const char *fp)
{
	struct hlk8s_pod *p = calloc(1, sizeof(*p));

	p->meta.ns = strdup(ns);
	p->meta.name = strdup(name);
	if (fp) {
		p->anns = calloc(1, sizeof(*p->anns));
		p->anns[0].key = strdup(HLK8S_ANN_FASTPATH);
		p->anns[0].value = strdup(fp);
		p->n_anns = 1;
	}
	return p;
}

static const char *fp_of(const void *obj)
{
	return obj ? hlk8s__pod_ann(obj, HLK8S_ANN_FASTPATH) : NULL;
}

static void count_each(void *arg, const void *obj)
{
	(void)obj;
	(*(size_t *)arg)++;
}

START_TEST(cache_ops)
{
	struct hlk8s__cache *c = hlk8s__cache_new(K_POD());
	void *old;
	char name[32];
	size_t n = 0;

	ck_assert_ptr_nonnull(c);
	/* Enough pods that the table grows a few times. */
	for (int i = 0; i < 5000; i++) {
		snprintf(name, sizeof(name), "pod-%d", i);
		ck_assert_int_eq(hlk8s__cache_put(c, mkpod(i % 2 ? "odd" : "even", name,
							   i % 3 ? "shm" : NULL), NULL), 0);
	}
	ck_assert_uint_eq(hlk8s__cache_count(c), 5000);
	hlk8s__cache_each(c, count_each, &n);
	ck_assert_uint_eq(n, 5000);
	ck_assert_str_eq(fp_of(hlk8s__cache_get(c, "odd", "pod-1")), "shm");
	ck_assert_str_eq(fp_of(hlk8s__cache_get(c, "odd", "pod-4999")), "shm");
	ck_assert_ptr_null(hlk8s__cache_get(c, "even", "pod-1"));
	/* Replace keeps the count, changes the value and hands the old one back. */
	ck_assert_int_eq(hlk8s__cache_put(c, mkpod("odd", "pod-1", "vf"), &old), 0);
	ck_assert_str_eq(fp_of(old), "shm");
	hlk8s__obj_free(K_POD(), old);
	ck_assert_uint_eq(hlk8s__cache_count(c), 5000);
	ck_assert_str_eq(fp_of(hlk8s__cache_get(c, "odd", "pod-1")), "vf");
	ck_assert(hlk8s__cache_del(c, "odd", "pod-1"));
	ck_assert(!hlk8s__cache_del(c, "odd", "pod-1"));
	ck_assert_ptr_null(hlk8s__cache_get(c, "odd", "pod-1"));
	ck_assert_uint_eq(hlk8s__cache_count(c), 4999);
	old = hlk8s__cache_take(c, "even", "pod-2");
	ck_assert_ptr_nonnull(old);
	ck_assert_str_eq(((struct hlk8s_meta *)old)->name, "pod-2");
	hlk8s__obj_free(K_POD(), old);
	ck_assert_uint_eq(hlk8s__cache_count(c), 4998);
	/* "ab"/"c" and "a"/"bc" are different pods. */
	ck_assert_int_eq(hlk8s__cache_put(c, mkpod("ab", "c", "shm"), NULL), 0);
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

START_TEST(node_label)
{
	const char *n = "{\"kind\":\"Node\",\"metadata\":{\"name\":\"a\",\"labels\":"
			"{\"topology.kubernetes.io/zone\":\"zone-a\",\"n\":1}}}";
	char out[64], tiny[4];

	ck_assert_int_eq(hlk8s__node_label(n, strlen(n), "topology.kubernetes.io/zone", out,
					   sizeof(out)), 0);
	ck_assert_str_eq(out, "zone-a");
	ck_assert_int_eq(hlk8s__node_label(n, strlen(n), "n", out, sizeof(out)), -ENOENT);
	ck_assert_int_eq(hlk8s__node_label(n, strlen(n), "x", out, sizeof(out)), -ENOENT);
	ck_assert_int_eq(hlk8s__node_label(n, strlen(n), "topology.kubernetes.io/zone", tiny,
					   sizeof(tiny)), -ENOSPC);
	ck_assert_int_eq(hlk8s__node_label("7", 1, "x", out, sizeof(out)), -EINVAL);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("hlk8s_parse");
	TCase *t = tcase_create("pod");

	tcase_add_test(t, pod_fields);
	tcase_add_loop_test(t, pod_bad, 0, sizeof(bad_pods) / sizeof(bad_pods[0]));
	tcase_add_test(t, pod_minimal);
	tcase_add_loop_test(t, pod_status_table, 0, sizeof(pod_status) / sizeof(pod_status[0]));
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
	tcase_add_test(t, node_label);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	return hl_check_run(suite());
}
