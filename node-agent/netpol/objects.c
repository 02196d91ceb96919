/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Namespace and Pod objects as NetworkPolicy sees them (hlnp.h): names,
 * labels, a pod's IPs and its containers' named ports.
 */
#include "np_private.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LABELS 1024
#define MAX_PORTS 1024

int hlnp_addr_parse(const char *s, struct hl_pol_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (!s)
		return -EINVAL;
	if (inet_pton(AF_INET, s, a->a) == 1) {
		a->family = 4;
		return 0;
	}
	if (inet_pton(AF_INET6, s, a->a) == 1) {
		a->family = 6;
		return 0;
	}
	return -EINVAL;
}

int np_meta(const cJSON *obj, char **ns, char **name)
{
	const cJSON *md = cJSON_GetObjectItemCaseSensitive(obj, "metadata");
	const cJSON *nsj = cJSON_GetObjectItemCaseSensitive(md, "namespace");
	const cJSON *nj = cJSON_GetObjectItemCaseSensitive(md, "name");

	if (!cJSON_IsObject(md) || !cJSON_IsString(nj) || !*nj->valuestring ||
	    (ns && (!cJSON_IsString(nsj) || !*nsj->valuestring)))
		return -EINVAL;
	*name = strdup(nj->valuestring);
	if (ns)
		*ns = strdup(nsj->valuestring);
	if (!*name || (ns && !*ns)) {
		free(*name);
		*name = NULL;
		if (ns) {
			free(*ns);
			*ns = NULL;
		}
		return -ENOMEM;
	}
	return 0;
}

int hlnp_labels_decode(const cJSON *obj, struct hl_pol_label **out, size_t *n)
{
	const cJSON *md = cJSON_GetObjectItemCaseSensitive(obj, "metadata");
	const cJSON *lj = cJSON_GetObjectItemCaseSensitive(md, "labels"), *v;
	struct hl_pol_label *l;
	int k, i = 0;

	*out = NULL;
	*n = 0;
	if (!lj || cJSON_IsNull(lj))
		return 0;
	if (!cJSON_IsObject(lj))
		return -EINVAL;
	k = cJSON_GetArraySize(lj);
	if (k <= 0)
		return 0;
	if (k > MAX_LABELS)
		return -EINVAL;
	l = calloc((size_t)k, sizeof(*l));
	if (!l)
		return -ENOMEM;
	cJSON_ArrayForEach(v, lj) {
		if (!cJSON_IsString(v) || !v->string || !*v->string) {
			hl_pol_labels_free(l, (size_t)i);
			return -EINVAL;
		}
		l[i].key = strdup(v->string);
		l[i].val = strdup(v->valuestring);
		i++;
		if (!l[i - 1].key || !l[i - 1].val) {
			hl_pol_labels_free(l, (size_t)i);
			return -ENOMEM;
		}
	}
	*out = l;
	*n = (size_t)i;
	return 0;
}

int hlnp_ns_decode(const cJSON *obj, char **name, struct hl_pol_label **labels, size_t *n)
{
	int rc = np_meta(obj, NULL, name);

	*labels = NULL;
	*n = 0;
	if (rc)
		return rc;
	rc = hlnp_labels_decode(obj, labels, n);
	if (rc) {
		free(*name);
		*name = NULL;
	}
	return rc;
}

static int pod_ips(const cJSON *status, struct hl_pol_pod *p)
{
	const cJSON *ips = cJSON_GetObjectItemCaseSensitive(status, "podIPs");
	const cJSON *one = cJSON_GetObjectItemCaseSensitive(status, "podIP"), *v;

	if (ips && !cJSON_IsNull(ips)) {
		if (!cJSON_IsArray(ips))
			return -EINVAL;
		cJSON_ArrayForEach(v, ips) {
			const cJSON *ip = cJSON_GetObjectItemCaseSensitive(v, "ip");

			if (p->n_ips == HL_POL_MAX_IPS ||
			    hlnp_addr_parse(cJSON_IsString(ip) ? ip->valuestring : NULL,
					    &p->ips[p->n_ips]))
				return -EINVAL;
			p->n_ips++;
		}
	}
	if (!p->n_ips && cJSON_IsString(one) && *one->valuestring) {
		if (hlnp_addr_parse(one->valuestring, &p->ips[0]))
			return -EINVAL;
		p->n_ips = 1;
	}
	return 0;
}

static int port_add(struct hl_pol_pod *p, const cJSON *cp)
{
	const cJSON *name = cJSON_GetObjectItemCaseSensitive(cp, "name");
	const cJSON *num = cJSON_GetObjectItemCaseSensitive(cp, "containerPort");
	const cJSON *proto = cJSON_GetObjectItemCaseSensitive(cp, "protocol");
	struct hl_pol_named_port *a;
	uint8_t pr = HL_POL_TCP;

	if (!cJSON_IsObject(cp) || !cJSON_IsNumber(num) || !(num->valuedouble >= 1) ||
	    num->valuedouble > 65535 || num->valuedouble != (double)(int)num->valuedouble)
		return -EINVAL;
	if (!name || cJSON_IsNull(name))
		return 0;  /* an unnamed port: nothing refers to it by name */
	if (!cJSON_IsString(name) || !*name->valuestring)
		return -EINVAL;
	if (cJSON_IsString(proto))
		pr = !strcmp(proto->valuestring, "UDP") ? HL_POL_UDP :
		     !strcmp(proto->valuestring, "SCTP") ? HL_POL_SCTP :
		     !strcmp(proto->valuestring, "TCP") ? HL_POL_TCP : 0;
	else if (proto && !cJSON_IsNull(proto))
		return -EINVAL;
	if (!pr)
		return -EINVAL;
	if (p->n_ports == MAX_PORTS)
		return -EINVAL;
	a = realloc(p->ports, (p->n_ports + 1) * sizeof(*a));
	if (!a)
		return -ENOMEM;
	p->ports = a;
	a[p->n_ports].name = strdup(name->valuestring);
	a[p->n_ports].proto = pr;
	a[p->n_ports].port = (uint16_t)num->valuedouble;
	if (!a[p->n_ports].name)
		return -ENOMEM;
	p->n_ports++;
	return 0;
}

static int pod_ports(const cJSON *spec, struct hl_pol_pod *p)
{
	const cJSON *cs = cJSON_GetObjectItemCaseSensitive(spec, "containers"), *c, *cp;

	if (!cs || cJSON_IsNull(cs))
		return 0;
	if (!cJSON_IsArray(cs))
		return -EINVAL;
	cJSON_ArrayForEach(c, cs) {
		const cJSON *ports = cJSON_GetObjectItemCaseSensitive(c, "ports");

		if (!cJSON_IsObject(c) || (ports && !cJSON_IsNull(ports) && !cJSON_IsArray(ports)))
			return -EINVAL;
		cJSON_ArrayForEach(cp, (cJSON_IsArray(ports) ? ports : NULL)) {
			int rc = port_add(p, cp);

			if (rc)
				return rc;
		}
	}
	return 0;
}

int hlnp_pod_decode(const cJSON *obj, struct hl_pol_pod *out)
{
	const cJSON *spec = cJSON_GetObjectItemCaseSensitive(obj, "spec");
	const cJSON *status = cJSON_GetObjectItemCaseSensitive(obj, "status");
	int rc;

	memset(out, 0, sizeof(*out));
	rc = np_meta(obj, &out->ns, &out->name);
	if (!rc)
		rc = hlnp_labels_decode(obj, &out->labels, &out->n_labels);
	if (!rc && status && !cJSON_IsNull(status))
		rc = cJSON_IsObject(status) ? pod_ips(status, out) : -EINVAL;
	if (!rc && spec && !cJSON_IsNull(spec))
		rc = cJSON_IsObject(spec) ? pod_ports(spec, out) : -EINVAL;
	if (rc)
		hl_pol_pod_clear(out);
	return rc;
}
