/* SPDX-License-Identifier: Apache-2.0 */
/*
 * EndpointSlice fields as the API server sends them (discovery.k8s.io/v1):
 * the Service it belongs to, its endpoints (first address, conditions,
 * node, zone, topology hints) and ports. Conditions follow the API's
 * defaults as kube-proxy reads them: ready and serving when absent,
 * terminating only when true. Untrusted input: an endpoint whose address
 * is not an IP literal of the slice's family is dropped.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hlk8s_private.h"

#define SLICE_EPS_MAX   1000 /* the API's bound on endpoints per slice */
#define SLICE_PORTS_MAX 100  /* the API's bound on ports per slice */
#define NAME_MAX_LEN    253  /* node, zone and pod names */

static bool cond(const cJSON *conds, const char *key, bool dflt)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(conds, key);

	return cJSON_IsBool(v) ? cJSON_IsTrue(v) : dflt;
}

/* strdup of a string field of at most NAME_MAX_LEN bytes; NULL if absent or longer. */
static int dup_name(const cJSON *obj, const char *key, char **out)
{
	const char *s = hlk8s__json_str(obj, key);

	*out = NULL;
	if (!s || !*s || strlen(s) > NAME_MAX_LEN)
		return 0;
	return hlk8s__dup_opt(s, out);
}

static int hints(const cJSON *list, char **out, size_t *n)
{
	const cJSON *it;

	cJSON_ArrayForEach(it, hlk8s__json_array(list)) {
		int r;

		if (*n == HLK8S_HINTS)
			break;
		r = dup_name(it, "name", &out[*n]);
		if (r)
			return r;
		if (out[*n])
			(*n)++;
	}
	return 0;
}

static void ep_clear(struct hlk8s_endpoint *e)
{
	for (size_t i = 0; i < e->n_for_zones; i++)
		free(e->for_zones[i]);
	for (size_t i = 0; i < e->n_for_nodes; i++)
		free(e->for_nodes[i]);
	free(e->node);
	free(e->zone);
	free(e->pod);
	memset(e, 0, sizeof(*e));
}

/* One endpoints[] item into @e: 1 usable, 0 skipped, -ENOMEM. */
static int ep_parse(const cJSON *it, int family, struct hlk8s_endpoint *e)
{
	const cJSON *addrs = cJSON_GetObjectItemCaseSensitive(it, "addresses");
	const cJSON *conds = cJSON_GetObjectItemCaseSensitive(it, "conditions");
	const cJSON *h = cJSON_GetObjectItemCaseSensitive(it, "hints");
	const cJSON *ref = cJSON_GetObjectItemCaseSensitive(it, "targetRef");
	const cJSON *a0 = cJSON_IsArray(addrs) ? cJSON_GetArrayItem(addrs, 0) : NULL;
	const char *kind = hlk8s__json_str(ref, "kind");
	int r;

	memset(e, 0, sizeof(*e));
	/* The addresses of an endpoint are fungible: consumers use the first. */
	if (!cJSON_IsString(a0) || hlk8s__ip_family(a0->valuestring) != family)
		return 0;
	hlk8s__copy_str(e->addr, sizeof(e->addr), a0->valuestring);
	e->ready = cond(conds, "ready", true);
	e->serving = cond(conds, "serving", true);
	e->terminating = cond(conds, "terminating", false);
	r = dup_name(it, "nodeName", &e->node);
	if (!r)
		r = dup_name(it, "zone", &e->zone);
	if (!r)
		r = hints(cJSON_GetObjectItemCaseSensitive(h, "forZones"), e->for_zones,
			  &e->n_for_zones);
	if (!r)
		r = hints(cJSON_GetObjectItemCaseSensitive(h, "forNodes"), e->for_nodes,
			  &e->n_for_nodes);
	if (!r && kind && !strcmp(kind, "Pod"))
		r = dup_name(ref, "name", &e->pod);
	if (r) {
		ep_clear(e);
		return r;
	}
	return 1;
}

static int eps_parse(const cJSON *list, struct hlk8s_endpointslice *s)
{
	size_t n = (size_t)cJSON_GetArraySize(list);
	const cJSON *it;

	if (!n || !s->family)
		return 0;
	if (n > SLICE_EPS_MAX)
		n = SLICE_EPS_MAX;
	s->eps = calloc(n, sizeof(*s->eps));
	if (!s->eps)
		return -ENOMEM;
	cJSON_ArrayForEach(it, list) {
		int r;

		if (s->n_eps == n)
			break;
		r = ep_parse(it, s->family, &s->eps[s->n_eps]);
		if (r < 0)
			return r;
		s->n_eps += (size_t)r;
	}
	return 0;
}

static int ports_parse(const cJSON *list, struct hlk8s_endpointslice *s)
{
	size_t n = (size_t)cJSON_GetArraySize(list);
	const cJSON *it;

	if (!n)
		return 0;
	if (n > SLICE_PORTS_MAX)
		n = SLICE_PORTS_MAX;
	s->ports = calloc(n, sizeof(*s->ports));
	if (!s->ports)
		return -ENOMEM;
	cJSON_ArrayForEach(it, list) {
		struct hlk8s_slice_port *p = &s->ports[s->n_ports];
		const char *proto = hlk8s__json_str(it, "protocol");
		long v;

		if (s->n_ports == n)
			break;
		if (hlk8s__copy_str(p->name, sizeof(p->name), hlk8s__json_str(it, "name")) ||
		    hlk8s__copy_str(p->protocol, sizeof(p->protocol), proto ? proto : "TCP"))
			continue;
		/* An absent port means "not restricted": kube-proxy skips it. */
		p->port = hlk8s__json_int(it, "port", 1, 65535, &v) ? (int32_t)v : -1;
		s->n_ports++;
	}
	return 0;
}

int hlk8s__slice_parse(const cJSON *json, void *obj)
{
	struct hlk8s_endpointslice *s = obj;
	const char *at = hlk8s__json_str(json, "addressType");
	const char *svc = hlk8s_label(&s->meta, "kubernetes.io/service-name");
	const cJSON *eps = cJSON_GetObjectItemCaseSensitive(json, "endpoints");
	const cJSON *ports = cJSON_GetObjectItemCaseSensitive(json, "ports");
	int r;

	if (!at)
		return -EINVAL;
	s->family = !strcmp(at, "IPv4") ? 4 : !strcmp(at, "IPv6") ? 6 : 0;
	r = hlk8s__dup_opt(svc && *svc && strlen(svc) <= NAME_MAX_LEN ? svc : NULL, &s->service);
	if (!r && cJSON_IsArray(eps))
		r = eps_parse(eps, s);
	if (!r && cJSON_IsArray(ports))
		r = ports_parse(ports, s);
	return r;
}

void hlk8s__slice_clear(void *obj)
{
	struct hlk8s_endpointslice *s = obj;

	for (size_t i = 0; i < s->n_eps; i++)
		ep_clear(&s->eps[i]);
	free(s->eps);
	free(s->ports);
	free(s->service);
	s->eps = NULL;
	s->ports = NULL;
	s->service = NULL;
	s->n_eps = s->n_ports = 0;
}
