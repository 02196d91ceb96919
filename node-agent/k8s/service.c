/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Service fields as the API server sends them (core/v1): the ClusterIPs,
 * the ports with their targets, session affinity and the traffic policies
 * kube-proxy follows. Untrusted input: a port out of range or an address
 * that is not an IP literal is dropped, never trusted.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hlk8s_private.h"

#define AFFINITY_TIMEOUT_DEFAULT 10800u /* seconds, the API's default */
#define AFFINITY_TIMEOUT_MAX     86400  /* the API's validation bound */

static void cluster_ips(const cJSON *spec, struct hlk8s_service *s)
{
	const cJSON *list = cJSON_GetObjectItemCaseSensitive(spec, "clusterIPs"), *it;
	const char *one = hlk8s__json_str(spec, "clusterIP");

	/* clusterIPs[0] is clusterIP when both are set; "None" makes it headless. */
	if (one && !strcmp(one, "None"))
		s->headless = true;
	cJSON_ArrayForEach(it, hlk8s__json_array(list)) {
		if (cJSON_IsString(it) && !strcmp(it->valuestring, "None"))
			s->headless = true;
		else if (cJSON_IsString(it) && hlk8s__ip_family(it->valuestring) &&
			 s->n_cluster_ips < 2)
			hlk8s__copy_str(s->cluster_ips[s->n_cluster_ips++], HLK8S_IP_MAX,
					it->valuestring);
	}
	if (!s->n_cluster_ips && hlk8s__ip_family(one))
		hlk8s__copy_str(s->cluster_ips[s->n_cluster_ips++], HLK8S_IP_MAX, one);
	if (s->headless)
		s->n_cluster_ips = 0;
}

/* One spec.ports[] item; false if it is not usable. */
static bool port_parse(const cJSON *it, struct hlk8s_service_port *p)
{
	const cJSON *tp = cJSON_GetObjectItemCaseSensitive(it, "targetPort");
	long v;

	memset(p, 0, sizeof(*p));
	if (!hlk8s__json_int(it, "port", 1, 65535, &v))
		return false;
	p->port = (uint16_t)v;
	if (hlk8s__copy_str(p->name, sizeof(p->name), hlk8s__json_str(it, "name")) ||
	    hlk8s__copy_str(p->protocol, sizeof(p->protocol),
			    hlk8s__json_str(it, "protocol") ? hlk8s__json_str(it, "protocol") : "TCP"))
		return false;
	/* IntOrString: a number, or the name of a container port. */
	if (!tp) {
		p->target_port = p->port;
	} else if (cJSON_IsNumber(tp)) {
		if (!hlk8s__json_int(it, "targetPort", 1, 65535, &v))
			return false;
		p->target_port = (uint16_t)v;
	} else if (cJSON_IsString(tp) && *tp->valuestring) {
		if (hlk8s__copy_str(p->target_name, sizeof(p->target_name), tp->valuestring))
			return false;
	} else {
		return false;
	}
	return true;
}

static int ports_parse(const cJSON *ports, struct hlk8s_service *s)
{
	const cJSON *it;
	size_t n = (size_t)cJSON_GetArraySize(ports);

	if (!n)
		return 0;
	if (n > HLK8S_SVC_PORTS)
		n = HLK8S_SVC_PORTS;
	s->ports = calloc(n, sizeof(*s->ports));
	if (!s->ports)
		return -ENOMEM;
	cJSON_ArrayForEach(it, ports) {
		if (s->n_ports == n)
			break;
		if (port_parse(it, &s->ports[s->n_ports]))
			s->n_ports++;
	}
	return 0;
}

int hlk8s__service_parse(const cJSON *json, void *obj)
{
	struct hlk8s_service *s = obj;
	const cJSON *spec = cJSON_GetObjectItemCaseSensitive(json, "spec");
	const cJSON *sel = cJSON_GetObjectItemCaseSensitive(spec, "selector");
	const cJSON *cfg = cJSON_GetObjectItemCaseSensitive(spec, "sessionAffinityConfig");
	const char *v;
	long t;

	if (!cJSON_IsObject(spec))
		return -EINVAL;
	if (hlk8s__copy_str(s->type, sizeof(s->type), hlk8s__json_str(spec, "type") ?
			    hlk8s__json_str(spec, "type") : "ClusterIP"))
		return -EINVAL;
	cluster_ips(spec, s);
	s->has_selector = cJSON_IsObject(sel) && sel->child;
	v = hlk8s__json_str(spec, "sessionAffinity");
	s->affinity = v && !strcmp(v, "ClientIP");
	s->affinity_timeout = AFFINITY_TIMEOUT_DEFAULT;
	cfg = cJSON_GetObjectItemCaseSensitive(cfg, "clientIP");
	if (hlk8s__json_int(cfg, "timeoutSeconds", 1, AFFINITY_TIMEOUT_MAX, &t))
		s->affinity_timeout = (uint32_t)t;
	v = hlk8s__json_str(spec, "internalTrafficPolicy");
	s->itp_local = v && !strcmp(v, "Local");
	if (hlk8s__copy_str(s->traffic_distribution, sizeof(s->traffic_distribution),
			    hlk8s__json_str(spec, "trafficDistribution")))
		s->traffic_distribution[0] = '\0';
	return cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(spec, "ports")) ?
	       ports_parse(cJSON_GetObjectItemCaseSensitive(spec, "ports"), s) : 0;
}

void hlk8s__service_clear(void *obj)
{
	struct hlk8s_service *s = obj;

	free(s->ports);
	s->ports = NULL;
	s->n_ports = 0;
}
