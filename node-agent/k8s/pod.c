/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Pod fields (node, hostlane.io/ annotations, addresses, readiness) and
 * Node fields (pod CIDR, labels) as the API server sends them. Untrusted
 * input: every field is type-checked; an address that is not an IP
 * literal is dropped.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hlk8s_private.h"

static int copy_anns(const cJSON *anns, struct hlk8s_pod *pod)
{
	const size_t plen = strlen(HLK8S_ANN_PREFIX);
	const cJSON *a;
	size_t n = 0;

	cJSON_ArrayForEach(a, anns) {
		if (cJSON_IsString(a) && a->string && !strncmp(a->string, HLK8S_ANN_PREFIX, plen))
			n++;
	}
	if (!n)
		return 0;
	pod->anns = calloc(n, sizeof(*pod->anns));
	if (!pod->anns)
		return -ENOMEM;
	cJSON_ArrayForEach(a, anns) {
		struct hlk8s_kv *d;

		if (!cJSON_IsString(a) || !a->string || strncmp(a->string, HLK8S_ANN_PREFIX, plen))
			continue;
		d = &pod->anns[pod->n_anns];
		d->key = strdup(a->string);
		d->value = strdup(a->valuestring);
		if (!d->key || !d->value) {
			free(d->key);
			free(d->value);
			return -ENOMEM;
		}
		pod->n_anns++;
	}
	return 0;
}

static void add_ip(struct hlk8s_pod *pod, const char *ip)
{
	if (pod->n_ips == HLK8S_POD_IPS || !hlk8s__ip_family(ip))
		return;
	for (size_t i = 0; i < pod->n_ips; i++)
		if (!strcmp(pod->ips[i], ip))
			return;
	hlk8s__copy_str(pod->ips[pod->n_ips++], HLK8S_IP_MAX, ip);
}

/* status.podIPs (dual stack: one per family), else the older status.podIP. */
static void pod_ips(const cJSON *status, struct hlk8s_pod *pod)
{
	const cJSON *list = cJSON_GetObjectItemCaseSensitive(status, "podIPs"), *it;

	cJSON_ArrayForEach(it, hlk8s__json_array(list)) {
		add_ip(pod, hlk8s__json_str(it, "ip"));
	}
	if (!pod->n_ips)
		add_ip(pod, hlk8s__json_str(status, "podIP"));
}

static bool pod_ready(const cJSON *status)
{
	const cJSON *conds = cJSON_GetObjectItemCaseSensitive(status, "conditions"), *c;

	cJSON_ArrayForEach(c, hlk8s__json_array(conds)) {
		const char *t = hlk8s__json_str(c, "type"), *s = hlk8s__json_str(c, "status");

		if (t && s && !strcmp(t, "Ready"))
			return !strcmp(s, "True");
	}
	return false;
}

/* The named ports of spec.containers[].ports[]; entries that are not
 * well-formed are left out (a port name no policy can then name). */
static int named_ports(const cJSON *spec, struct hlk8s_pod *pod)
{
	const cJSON *c, *p;

	cJSON_ArrayForEach(c, hlk8s__json_array(cJSON_GetObjectItemCaseSensitive(spec, "containers"))) {
		cJSON_ArrayForEach(p, hlk8s__json_array(cJSON_GetObjectItemCaseSensitive(c, "ports"))) {
			struct hlk8s_pod_port pp = { .protocol = "TCP" }, *a;
			const char *proto = hlk8s__json_str(p, "protocol");
			long num;

			if (!hlk8s__json_int(p, "containerPort", 1, 65535, &num) ||
			    hlk8s__copy_str(pp.name, sizeof(pp.name), hlk8s__json_str(p, "name")) ||
			    !pp.name[0] || (proto && hlk8s__copy_str(pp.protocol, sizeof(pp.protocol), proto)))
				continue;
			if (pod->n_ports >= 1024)
				return 0;
			pp.port = (uint16_t)num;
			a = realloc(pod->ports, (pod->n_ports + 1) * sizeof(*a));
			if (!a)
				return -ENOMEM;
			pod->ports = a;
			a[pod->n_ports++] = pp;
		}
	}
	return 0;
}

int hlk8s__pod_parse(const cJSON *json, void *obj)
{
	struct hlk8s_pod *pod = obj;
	const cJSON *md = cJSON_GetObjectItemCaseSensitive(json, "metadata");
	const cJSON *spec = cJSON_GetObjectItemCaseSensitive(json, "spec");
	const cJSON *status = cJSON_GetObjectItemCaseSensitive(json, "status");
	const cJSON *anns = cJSON_GetObjectItemCaseSensitive(md, "annotations");
	int r = 0;

	if (cJSON_IsObject(spec)) {
		r = hlk8s__dup_opt(hlk8s__json_str(spec, "nodeName"), &pod->node);
		pod->host_network = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(spec,
										  "hostNetwork"));
		if (!r)
			r = named_ports(spec, pod);
	}
	if (!r && cJSON_IsObject(anns))
		r = copy_anns(anns, pod);
	if (!r && cJSON_IsObject(status)) {
		pod_ips(status, pod);
		pod->ready = pod_ready(status);
		if (hlk8s__copy_str(pod->phase, sizeof(pod->phase),
				    hlk8s__json_str(status, "phase")))
			pod->phase[0] = '\0';
	}
	return r;
}

void hlk8s__pod_clear(void *obj)
{
	struct hlk8s_pod *pod = obj;

	for (size_t i = 0; i < pod->n_anns; i++) {
		free(pod->anns[i].key);
		free(pod->anns[i].value);
	}
	free(pod->anns);
	free(pod->node);
	free(pod->ports);
	pod->ports = NULL;
	pod->n_ports = 0;
	pod->anns = NULL;
	pod->n_anns = 0;
	pod->node = NULL;
}

const char *hlk8s__pod_ann(const struct hlk8s_pod *pod, const char *key)
{
	for (size_t i = 0; i < pod->n_anns; i++)
		if (!strcmp(pod->anns[i].key, key))
			return pod->anns[i].value;
	return NULL;
}

const char *hlk8s__json_pod_ann(const cJSON *obj, const char *key)
{
	const cJSON *md = cJSON_GetObjectItemCaseSensitive(obj, "metadata");
	const cJSON *anns = cJSON_GetObjectItemCaseSensitive(md, "annotations");

	return cJSON_IsObject(anns) ? hlk8s__json_str(anns, key) : NULL;
}

/* ---- Node (the standalone install reads its pod CIDR; the agent its zone) ---- */

int hlk8s__node_pod_cidr(const char *buf, size_t len, char *out, size_t outlen)
{
	cJSON *root = cJSON_ParseWithLength(buf, len);
	const cJSON *spec = cJSON_GetObjectItemCaseSensitive(root, "spec");
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(spec, "podCIDR");
	const cJSON *list = cJSON_GetObjectItemCaseSensitive(spec, "podCIDRs");
	int rc = -ENOENT;

	if (!cJSON_IsObject(root)) {
		cJSON_Delete(root);
		return -EINVAL;
	}
	/* podCIDRs[0] is podCIDR when both are set (API reference). */
	if (!cJSON_IsString(v) && cJSON_IsArray(list))
		v = cJSON_GetArrayItem(list, 0);
	if (cJSON_IsString(v) && v->valuestring[0])
		rc = (size_t)snprintf(out, outlen, "%s", v->valuestring) >= outlen ? -ENOSPC : 0;
	cJSON_Delete(root);
	return rc;
}

int hlk8s__node_label(const char *buf, size_t len, const char *key, char *out, size_t outlen)
{
	cJSON *root = cJSON_ParseWithLength(buf, len);
	const cJSON *md = cJSON_GetObjectItemCaseSensitive(root, "metadata");
	const cJSON *labels = cJSON_GetObjectItemCaseSensitive(md, "labels");
	const char *v = cJSON_IsObject(labels) ? hlk8s__json_str(labels, key) : NULL;
	int rc = -ENOENT;

	if (!cJSON_IsObject(root)) {
		cJSON_Delete(root);
		return -EINVAL;
	}
	if (v)
		rc = (size_t)snprintf(out, outlen, "%s", v) >= outlen ? -ENOSPC : 0;
	cJSON_Delete(root);
	return rc;
}
