/* SPDX-License-Identifier: Apache-2.0 */
/* Results: parse any supported version's shape, emit the requested one. */
#include "cni.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

int cni_ip_parse(const char *s, int *family, uint8_t addr[16])
{
	memset(addr, 0, 16);
	if (!s)
		return -EINVAL;
	if (inet_pton(AF_INET, s, addr) == 1) {
		*family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, s, addr) == 1) {
		*family = AF_INET6;
		return 0;
	}
	return -EINVAL;
}

int cni_cidr_parse(const char *s, int *family, uint8_t addr[16], int *prefix)
{
	const char *slash = s ? strchr(s, '/') : NULL;
	char ip[64], *end;
	long p;

	if (!slash || (size_t)(slash - s) >= sizeof(ip) || !slash[1])
		return -EINVAL;
	memcpy(ip, s, (size_t)(slash - s));
	ip[slash - s] = '\0';
	if (cni_ip_parse(ip, family, addr) < 0)
		return -EINVAL;
	errno = 0;
	p = strtol(slash + 1, &end, 10);
	if (errno || *end || slash[1] < '0' || slash[1] > '9' || p < 0 ||
	    p > (*family == AF_INET ? 32 : 128))
		return -EINVAL;
	*prefix = (int)p;
	return 0;
}

static int bad(struct cni_err *e, const char *what, const char *field, const char *why)
{
	return cni_err_set(e, CNI_ERR_DECODE, "failed to decode result", "%s: %s %s", what,
			   field, why);
}

/* Optional string member: NULL when absent; *ok false when of the wrong type. */
static const char *opt_str(const cJSON *o, const char *key, bool *ok)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	if (!v || cJSON_IsNull(v))
		return NULL;
	if (!cJSON_IsString(v)) {
		*ok = false;
		return NULL;
	}
	return v->valuestring;
}

/* Optional non-negative integer member (-1 when absent), *ok false if bad. */
static int opt_int(const cJSON *o, const char *key, bool *ok)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	if (!v || cJSON_IsNull(v))
		return -1;
	if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > 2147483647.0 ||
	    v->valuedouble != (double)(int)v->valuedouble) {
		*ok = false;
		return -1;
	}
	return v->valueint;
}

static int copy_field(char *dst, size_t n, const char *src)
{
	if (!src) {
		dst[0] = '\0';
		return 0;
	}
	if (strlen(src) >= n)
		return -1;
	memcpy(dst, src, strlen(src) + 1);
	return 0;
}

static int parse_iface(const cJSON *o, struct cni_iface *f, const char *what, struct cni_err *e)
{
	bool ok = true;
	const char *name = opt_str(o, "name", &ok);
	int mtu = opt_int(o, "mtu", &ok);

	if (!cJSON_IsObject(o))
		return bad(e, what, "interfaces[]", "is not an object");
	if (!ok || !name || !*name)
		return bad(e, what, "interfaces[].name", "is missing or not a string");
	if (copy_field(f->name, sizeof(f->name), name) < 0 ||
	    copy_field(f->mac, sizeof(f->mac), opt_str(o, "mac", &ok)) < 0 ||
	    copy_field(f->sandbox, sizeof(f->sandbox), opt_str(o, "sandbox", &ok)) < 0 ||
	    copy_field(f->socket_path, sizeof(f->socket_path), opt_str(o, "socketPath", &ok)) < 0 ||
	    copy_field(f->pci_id, sizeof(f->pci_id), opt_str(o, "pciID", &ok)) < 0)
		return bad(e, what, "interfaces[]", "has a field that is too long");
	if (!ok)
		return bad(e, what, "interfaces[]", "has a field of the wrong type");
	f->mtu = mtu > 0 ? mtu : 0;
	return 0;
}

static int parse_ip(const cJSON *o, struct cni_ip *ip, int n_ifaces, const char *what,
		    struct cni_err *e)
{
	bool ok = true;
	const char *addr = opt_str(o, "address", &ok);
	const char *gw = opt_str(o, "gateway", &ok);
	const char *ver = opt_str(o, "version", &ok);
	int idx = opt_int(o, "interface", &ok);
	int gwfam;

	if (!cJSON_IsObject(o) || !ok)
		return bad(e, what, "ips[]", "is not an object of strings and numbers");
	if (cni_cidr_parse(addr, &ip->family, ip->addr, &ip->prefix) < 0)
		return bad(e, what, "ips[].address", "is not an address with prefix");
	if (ver && strcmp(ver, ip->family == AF_INET ? "4" : "6") != 0)
		return bad(e, what, "ips[].version", "does not match the address");
	ip->has_gw = gw != NULL;
	if (gw && (cni_ip_parse(gw, &gwfam, ip->gw) < 0 || gwfam != ip->family))
		return bad(e, what, "ips[].gateway", "is not an address of the same family");
	if (idx >= n_ifaces)
		return bad(e, what, "ips[].interface", "is out of range");
	ip->iface = idx;
	return 0;
}

static int parse_route(const cJSON *o, struct cni_route *rt, const char *what, struct cni_err *e)
{
	bool ok = true;
	const char *dst = opt_str(o, "dst", &ok);
	const char *gw = opt_str(o, "gw", &ok);
	int gwfam;

	if (!cJSON_IsObject(o) || !ok)
		return bad(e, what, "routes[]", "is not an object");
	if (cni_cidr_parse(dst, &rt->family, rt->dst, &rt->prefix) < 0)
		return bad(e, what, "routes[].dst", "is not an address with prefix");
	rt->has_gw = gw != NULL;
	if (gw && (cni_ip_parse(gw, &gwfam, rt->gw) < 0 || gwfam != rt->family))
		return bad(e, what, "routes[].gw", "is not an address of the same family");
	rt->mtu = opt_int(o, "mtu", &ok);
	rt->advmss = opt_int(o, "advmss", &ok);
	rt->priority = opt_int(o, "priority", &ok);
	rt->table = opt_int(o, "table", &ok);
	rt->scope = opt_int(o, "scope", &ok);
	if (!ok || rt->scope > 255)
		return bad(e, what, "routes[]", "has a number field that is not a valid integer");
	return 0;
}

static const cJSON *opt_array(const cJSON *o, const char *key, bool *ok)
{
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(o, key);

	if (!a || cJSON_IsNull(a))
		return NULL;
	if (!cJSON_IsArray(a))
		*ok = false;
	return a;
}

int cni_result_parse(const cJSON *obj, struct cni_result *r, const char *what, struct cni_err *e)
{
	const cJSON *ifs, *ips, *rts, *dns, *it;
	bool ok = true;

	memset(r, 0, sizeof(*r));
	if (!cJSON_IsObject(obj))
		return bad(e, what, "result", "is not an object");
	ifs = opt_array(obj, "interfaces", &ok);
	ips = opt_array(obj, "ips", &ok);
	rts = opt_array(obj, "routes", &ok);
	if (!ok)
		return bad(e, what, "interfaces/ips/routes", "must be arrays");
	if (cJSON_GetArraySize(ifs) > CNI_MAX_IFACES || cJSON_GetArraySize(ips) > CNI_MAX_IPS ||
	    cJSON_GetArraySize(rts) > CNI_MAX_ROUTES)
		return bad(e, what, "result", "has too many interfaces, ips or routes");
	cJSON_ArrayForEach(it, ifs)
		if (parse_iface(it, &r->ifaces[r->n_ifaces++], what, e) < 0)
			return -1;
	cJSON_ArrayForEach(it, ips)
		if (parse_ip(it, &r->ips[r->n_ips++], r->n_ifaces, what, e) < 0)
			return -1;
	cJSON_ArrayForEach(it, rts)
		if (parse_route(it, &r->routes[r->n_routes++], what, e) < 0)
			return -1;
	dns = cJSON_GetObjectItemCaseSensitive(obj, "dns");
	if (dns && !cJSON_IsNull(dns)) {
		if (!cJSON_IsObject(dns))
			return bad(e, what, "dns", "is not an object");
		r->dns = cJSON_Duplicate(dns, 1);
	}
	return 0;
}

void cni_result_free(struct cni_result *r)
{
	cJSON_Delete(r->dns);
	r->dns = NULL;
}

static void add_addr(cJSON *o, const char *key, int family, const uint8_t *a, int prefix)
{
	char buf[INET6_ADDRSTRLEN + 8];
	size_t n;

	inet_ntop(family, a, buf, INET6_ADDRSTRLEN);
	if (prefix >= 0) {
		n = strlen(buf);
		snprintf(buf + n, sizeof(buf) - n, "/%d", prefix);
	}
	cJSON_AddStringToObject(o, key, buf);
}

static cJSON *iface_json(const struct cni_iface *f, int version)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "name", f->name);
	if (f->mac[0])
		cJSON_AddStringToObject(o, "mac", f->mac);
	if (f->mtu > 0 && version >= CNI_V110)
		cJSON_AddNumberToObject(o, "mtu", f->mtu);
	if (f->sandbox[0])
		cJSON_AddStringToObject(o, "sandbox", f->sandbox);
	if (f->socket_path[0] && version >= CNI_V110)
		cJSON_AddStringToObject(o, "socketPath", f->socket_path);
	if (f->pci_id[0] && version >= CNI_V110)
		cJSON_AddStringToObject(o, "pciID", f->pci_id);
	return o;
}

static cJSON *route_json(const struct cni_route *rt, int version)
{
	cJSON *o = cJSON_CreateObject();

	add_addr(o, "dst", rt->family, rt->dst, rt->prefix);
	if (rt->has_gw)
		add_addr(o, "gw", rt->family, rt->gw, -1);
	if (version >= CNI_V110) {
		static const char *const k[] = { "mtu", "advmss", "priority", "table", "scope" };
		const int v[] = { rt->mtu, rt->advmss, rt->priority, rt->table, rt->scope };

		for (int i = 0; i < 5; i++)
			if (v[i] >= 0)
				cJSON_AddNumberToObject(o, k[i], v[i]);
	}
	return o;
}

cJSON *cni_result_to_json(const struct cni_result *r, int version)
{
	cJSON *o = cJSON_CreateObject(), *a;
	char vbuf[16];

	cJSON_AddStringToObject(o, "cniVersion", cni_version_str(version, vbuf, sizeof(vbuf)));
	if (r->n_ifaces) {
		a = cJSON_AddArrayToObject(o, "interfaces");
		for (int i = 0; i < r->n_ifaces; i++)
			cJSON_AddItemToArray(a, iface_json(&r->ifaces[i], version));
	}
	a = cJSON_AddArrayToObject(o, "ips");
	for (int i = 0; i < r->n_ips; i++) {
		const struct cni_ip *ip = &r->ips[i];
		cJSON *x = cJSON_CreateObject();

		/* 0.3.x and 0.4.0 carry the family as "version"; 1.0.0 dropped it. */
		if (version < CNI_V100)
			cJSON_AddStringToObject(x, "version", ip->family == AF_INET ? "4" : "6");
		if (ip->iface >= 0)
			cJSON_AddNumberToObject(x, "interface", ip->iface);
		add_addr(x, "address", ip->family, ip->addr, ip->prefix);
		if (ip->has_gw)
			add_addr(x, "gateway", ip->family, ip->gw, -1);
		cJSON_AddItemToArray(a, x);
	}
	if (r->n_routes) {
		a = cJSON_AddArrayToObject(o, "routes");
		for (int i = 0; i < r->n_routes; i++)
			cJSON_AddItemToArray(a, route_json(&r->routes[i], version));
	}
	cJSON_AddItemToObject(o, "dns", r->dns ? cJSON_Duplicate(r->dns, 1) : cJSON_CreateObject());
	return o;
}
