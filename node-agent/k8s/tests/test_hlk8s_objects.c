/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests: Service and EndpointSlice parsing (lists and watch events too). */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hlk8s.h"
#include "hlk8s_private.h"
#include "hl_check.h"

/* A dual-stack Service as `kubectl get svc -o json` shows it (trimmed). */
static const char SVC[] =
	"{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{\"name\":\"redis\","
	"\"namespace\":\"shop\",\"uid\":\"9a1f\",\"resourceVersion\":\"5110\","
	"\"labels\":{\"app\":\"redis\"}},"
	"\"spec\":{\"type\":\"ClusterIP\",\"clusterIP\":\"10.96.12.7\","
	"\"clusterIPs\":[\"10.96.12.7\",\"fd00:96::c07\"],\"ipFamilies\":[\"IPv4\",\"IPv6\"],"
	"\"ipFamilyPolicy\":\"PreferDualStack\",\"selector\":{\"app\":\"redis\"},"
	"\"ports\":[{\"name\":\"redis\",\"protocol\":\"TCP\",\"port\":6379,\"targetPort\":\"redis\"},"
	"{\"name\":\"metrics\",\"protocol\":\"TCP\",\"port\":9121,\"targetPort\":9121},"
	"{\"name\":\"gossip\",\"protocol\":\"UDP\",\"port\":7000},"
	"{\"name\":\"bad\",\"port\":70000,\"targetPort\":1}],"
	"\"sessionAffinity\":\"ClientIP\",\"sessionAffinityConfig\":{\"clientIP\":"
	"{\"timeoutSeconds\":600}},\"internalTrafficPolicy\":\"Cluster\","
	"\"trafficDistribution\":\"PreferClose\"},\"status\":{\"loadBalancer\":{}}}";

static const struct hlk8s__kind *K(enum hlk8s_kind k)
{
	return hlk8s__kind_of(k);
}

static void *parse(enum hlk8s_kind k, const char *json, int *err)
{
	cJSON *o = cJSON_Parse(json);
	void *obj = hlk8s__obj_parse(K(k), o, err);

	cJSON_Delete(o);
	return obj;
}

START_TEST(service_fields)
{
	int err;
	struct hlk8s_service *s = parse(HLK8S_SERVICES, SVC, &err);

	ck_assert_ptr_nonnull(s);
	ck_assert_str_eq(s->meta.ns, "shop");
	ck_assert_str_eq(s->meta.name, "redis");
	ck_assert_str_eq(s->type, "ClusterIP");
	ck_assert_uint_eq(s->n_cluster_ips, 2);
	ck_assert_str_eq(s->cluster_ips[0], "10.96.12.7");
	ck_assert_str_eq(s->cluster_ips[1], "fd00:96::c07");
	ck_assert(!s->headless);
	ck_assert(s->has_selector);
	/* The port out of range is dropped. */
	ck_assert_uint_eq(s->n_ports, 3);
	ck_assert_str_eq(s->ports[0].name, "redis");
	ck_assert_uint_eq(s->ports[0].port, 6379);
	ck_assert_uint_eq(s->ports[0].target_port, 0);
	ck_assert_str_eq(s->ports[0].target_name, "redis");
	ck_assert_uint_eq(s->ports[1].target_port, 9121);
	ck_assert_str_eq(s->ports[1].target_name, "");
	/* No targetPort: the port itself. */
	ck_assert_str_eq(s->ports[2].protocol, "UDP");
	ck_assert_uint_eq(s->ports[2].target_port, 7000);
	ck_assert(s->affinity);
	ck_assert_uint_eq(s->affinity_timeout, 600);
	ck_assert(!s->itp_local);
	ck_assert_str_eq(s->traffic_distribution, "PreferClose");
	hlk8s__obj_free(K(HLK8S_SERVICES), s);
}
END_TEST

/* Table: spec variants and what they mean. */
static const struct {
	const char *spec;
	size_t n_ips;
	bool headless, selector, affinity, local;
	unsigned timeout;
} svc_specs[] = {
	{ "{\"clusterIP\":\"None\",\"clusterIPs\":[\"None\"],\"selector\":{\"a\":\"b\"}}",
	  0, true, true, false, false, 10800 },
	{ "{\"type\":\"ExternalName\",\"externalName\":\"db.example.com\"}",
	  0, false, false, false, false, 10800 },
	{ "{\"clusterIP\":\"10.96.0.9\",\"selector\":{},\"internalTrafficPolicy\":\"Local\"}",
	  1, false, false, false, true, 10800 },
	{ "{\"clusterIPs\":[\"fd00::9\"],\"sessionAffinity\":\"ClientIP\"}",
	  1, false, false, true, false, 10800 },
	{ "{\"clusterIP\":\"10.96.0.9\",\"sessionAffinity\":\"ClientIP\",\"sessionAffinityConfig\":"
	  "{\"clientIP\":{\"timeoutSeconds\":1e9}}}", 1, false, false, true, false, 10800 },
	{ "{\"clusterIP\":\"10.96.0.300\"}", 0, false, false, false, false, 10800 },
	{ "{\"clusterIPs\":[\"10.96.0.1\",\"10.96.0.2\",\"10.96.0.3\"]}",
	  2, false, false, false, false, 10800 },
};

START_TEST(service_table)
{
	char json[512];
	int err;
	struct hlk8s_service *s;

	snprintf(json, sizeof(json), "{\"metadata\":{\"name\":\"s\",\"namespace\":\"n\"},"
		 "\"spec\":%s}", svc_specs[_i].spec);
	s = parse(HLK8S_SERVICES, json, &err);
	ck_assert_msg(s, "%s: %d", json, err);
	ck_assert_uint_eq(s->n_cluster_ips, svc_specs[_i].n_ips);
	ck_assert_int_eq(s->headless, svc_specs[_i].headless);
	ck_assert_int_eq(s->has_selector, svc_specs[_i].selector);
	ck_assert_int_eq(s->affinity, svc_specs[_i].affinity);
	ck_assert_int_eq(s->itp_local, svc_specs[_i].local);
	ck_assert_uint_eq(s->affinity_timeout, svc_specs[_i].timeout);
	hlk8s__obj_free(K(HLK8S_SERVICES), s);
}
END_TEST

START_TEST(service_bad)
{
	static const char *const bad[] = {
		"{\"kind\":\"Pod\",\"metadata\":{\"name\":\"a\",\"namespace\":\"b\"},\"spec\":{}}",
		"{\"metadata\":{\"name\":\"a\",\"namespace\":\"b\"}}",   /* no spec */
		"{\"metadata\":{\"name\":\"a\"},\"spec\":{}}",           /* no namespace */
		"{\"metadata\":{\"name\":\"\",\"namespace\":\"b\"},\"spec\":{}}",
	};
	int err;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_ptr_null(parse(HLK8S_SERVICES, bad[i], &err));
		ck_assert_int_eq(err, -EINVAL);
	}
}
END_TEST

/* An EndpointSlice as the EndpointSlice controller writes it (trimmed). */
static const char SLICE[] =
	"{\"kind\":\"EndpointSlice\",\"apiVersion\":\"discovery.k8s.io/v1\",\"metadata\":"
	"{\"name\":\"redis-x7k2p\",\"generateName\":\"redis-\",\"namespace\":\"shop\","
	"\"resourceVersion\":\"5120\",\"labels\":{\"endpointslice.kubernetes.io/managed-by\":"
	"\"endpointslice-controller.k8s.io\",\"kubernetes.io/service-name\":\"redis\"},"
	"\"ownerReferences\":[{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"name\":\"redis\"}]},"
	"\"addressType\":\"IPv4\",\"endpoints\":["
	"{\"addresses\":[\"10.244.1.5\"],\"conditions\":{\"ready\":true,\"serving\":true,"
	"\"terminating\":false},\"hints\":{\"forZones\":[{\"name\":\"zone-a\"}]},"
	"\"nodeName\":\"node-a\",\"targetRef\":{\"kind\":\"Pod\",\"namespace\":\"shop\","
	"\"name\":\"redis-0\",\"uid\":\"1\"},\"zone\":\"zone-a\"},"
	"{\"addresses\":[\"10.244.2.9\"],\"conditions\":{\"ready\":false,\"serving\":true,"
	"\"terminating\":true},\"nodeName\":\"node-b\"},"
	"{\"addresses\":[\"10.244.3.1\"],\"conditions\":{}},"
	"{\"addresses\":[\"fd00::1\"]},"
	"{\"addresses\":[]},"
	"{\"addresses\":[\"10.244.4.4\"],\"hints\":{\"forNodes\":[{\"name\":\"node-c\"}],"
	"\"forZones\":[{\"name\":7}]}}],"
	"\"ports\":[{\"name\":\"redis\",\"protocol\":\"TCP\",\"port\":6380},"
	"{\"name\":\"metrics\",\"port\":9121},{\"name\":\"any\",\"port\":null}]}";

START_TEST(slice_fields)
{
	int err;
	struct hlk8s_endpointslice *s = parse(HLK8S_ENDPOINTSLICES, SLICE, &err);

	ck_assert_ptr_nonnull(s);
	ck_assert_str_eq(s->service, "redis");
	ck_assert_int_eq(s->family, 4);
	/* The IPv6 address in an IPv4 slice and the empty one are dropped. */
	ck_assert_uint_eq(s->n_eps, 4);
	ck_assert_str_eq(s->eps[0].addr, "10.244.1.5");
	ck_assert(s->eps[0].ready && s->eps[0].serving && !s->eps[0].terminating);
	ck_assert_str_eq(s->eps[0].node, "node-a");
	ck_assert_str_eq(s->eps[0].zone, "zone-a");
	ck_assert_uint_eq(s->eps[0].n_for_zones, 1);
	ck_assert_str_eq(s->eps[0].for_zones[0], "zone-a");
	ck_assert_str_eq(s->eps[0].pod, "redis-0");
	ck_assert(!s->eps[1].ready && s->eps[1].serving && s->eps[1].terminating);
	/* Absent conditions: ready and serving, not terminating. */
	ck_assert(s->eps[2].ready && s->eps[2].serving && !s->eps[2].terminating);
	ck_assert_ptr_null(s->eps[2].node);
	ck_assert_uint_eq(s->eps[3].n_for_nodes, 1);
	ck_assert_str_eq(s->eps[3].for_nodes[0], "node-c");
	ck_assert_uint_eq(s->eps[3].n_for_zones, 0);
	ck_assert_uint_eq(s->n_ports, 3);
	ck_assert_str_eq(s->ports[0].name, "redis");
	ck_assert_int_eq(s->ports[0].port, 6380);
	ck_assert_str_eq(s->ports[1].protocol, "TCP");
	ck_assert_int_eq(s->ports[2].port, -1);
	hlk8s__obj_free(K(HLK8S_ENDPOINTSLICES), s);
}
END_TEST

START_TEST(slice_other)
{
	int err;
	struct hlk8s_endpointslice *s;

	/* FQDN slices parse, with no endpoints the agent could use. */
	s = parse(HLK8S_ENDPOINTSLICES, "{\"metadata\":{\"name\":\"a\",\"namespace\":\"b\"},"
		  "\"addressType\":\"FQDN\",\"endpoints\":[{\"addresses\":[\"db.example.com\"]}]}",
		  &err);
	ck_assert_ptr_nonnull(s);
	ck_assert_int_eq(s->family, 0);
	ck_assert_uint_eq(s->n_eps, 0);
	ck_assert_ptr_null(s->service);
	hlk8s__obj_free(K(HLK8S_ENDPOINTSLICES), s);
	/* A slice without addressType is not one. */
	ck_assert_ptr_null(parse(HLK8S_ENDPOINTSLICES, "{\"metadata\":{\"name\":\"a\","
				 "\"namespace\":\"b\"}}", &err));
	ck_assert_int_eq(err, -EINVAL);
}
END_TEST

static int count_items(void *arg, void *obj)
{
	(*(int *)arg)++;
	hlk8s__obj_free(K(HLK8S_ENDPOINTSLICES), obj);
	return 0;
}

START_TEST(lists_and_events)
{
	char list[sizeof(SLICE) + 256], line[sizeof(SVC) + 64];
	struct hlk8s__event ev;
	char *rv, *cont;
	int n = 0;

	snprintf(list, sizeof(list), "{\"kind\":\"EndpointSliceList\",\"apiVersion\":"
		 "\"discovery.k8s.io/v1\",\"metadata\":{\"resourceVersion\":\"77\"},\"items\":[%s]}",
		 SLICE);
	ck_assert_int_eq(hlk8s__list_parse(K(HLK8S_ENDPOINTSLICES), list, strlen(list),
					   count_items, &n, &rv, &cont), 0);
	ck_assert_int_eq(n, 1);
	ck_assert_str_eq(rv, "77");
	ck_assert_ptr_null(cont);
	free(rv);
	/* A list of another kind is not this one. */
	ck_assert_int_eq(hlk8s__list_parse(K(HLK8S_SERVICES), list, strlen(list), count_items,
					   &n, &rv, &cont), -EINVAL);
	snprintf(line, sizeof(line), "{\"type\":\"MODIFIED\",\"object\":%s}", SVC);
	ck_assert_int_eq(hlk8s__event_parse(K(HLK8S_SERVICES), line, strlen(line), &ev), 0);
	ck_assert_int_eq(ev.type, HLK8S_EV_MODIFIED);
	ck_assert_str_eq(ev.rv, "5110");
	ck_assert_uint_eq(((struct hlk8s_service *)ev.obj)->n_ports, 3);
	hlk8s__event_clear(K(HLK8S_SERVICES), &ev);
	/* A Service event on the EndpointSlice watch is refused. */
	ck_assert_int_eq(hlk8s__event_parse(K(HLK8S_ENDPOINTSLICES), line, strlen(line), &ev),
			 -EINVAL);
	ck_assert_str_eq(hlk8s_kind_name(HLK8S_ENDPOINTSLICES), "endpointslices");
	ck_assert_str_eq(hlk8s_kind_name(HLK8S_KIND_COUNT), "unknown");
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("hlk8s_objects");
	TCase *t = tcase_create("service");

	tcase_add_test(t, service_fields);
	tcase_add_loop_test(t, service_table, 0, sizeof(svc_specs) / sizeof(svc_specs[0]));
	tcase_add_test(t, service_bad);
	suite_add_tcase(s, t);
	t = tcase_create("endpointslice");
	tcase_add_test(t, slice_fields);
	tcase_add_test(t, slice_other);
	tcase_add_test(t, lists_and_events);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	return hl_check_run(suite());
}
