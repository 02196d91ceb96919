/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The "vf" configuration object (sriov-cni keys; untrusted: it comes from
 * the network config or a pod) and the device-info file producer.
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_link.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "hl_util.h"
#include "vf_private.h"

#define DEVINFO_VERSION "1.1.0"

static int fail(char *err, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (err && len) {
		va_start(ap, fmt);
		vsnprintf(err, len, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

/* An integer key in [lo, hi]. 1: found, 0: absent, -EINVAL: bad. */
static int get_int(const cJSON *o, const char *k, double lo, double hi, long long *v,
		   char *err, size_t errlen)
{
	const cJSON *j = cJSON_GetObjectItemCaseSensitive(o, k);

	if (!j)
		return 0;
	if (!cJSON_IsNumber(j) || j->valuedouble < lo || j->valuedouble > hi ||
	    j->valuedouble != (double)(long long)j->valuedouble)
		return fail(err, errlen, "\"%s\" must be an integer in [%.0f, %.0f]", k, lo, hi);
	*v = (long long)j->valuedouble;
	return 1;
}

/* A string key that must be one of @words (case-insensitive) -> index. */
static int get_word(const cJSON *o, const char *k, const char *const *words, size_t n,
		    int *idx, char *err, size_t errlen)
{
	const cJSON *j = cJSON_GetObjectItemCaseSensitive(o, k);

	if (!j)
		return 0;
	if (cJSON_IsString(j)) {
		for (size_t i = 0; i < n; i++) {
			if (!strcasecmp(j->valuestring, words[i])) {
				*idx = (int)i;
				return 1;
			}
		}
	}
	return fail(err, errlen, "\"%s\" has an invalid value", k);
}

static int parse_mac(const char *s, uint8_t *m)
{
	unsigned int b[6];
	char end;

	if (strlen(s) != 17 || sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2],
				      &b[3], &b[4], &b[5], &end) != 6)
		return -EINVAL;
	for (int i = 0; i < 6; i++)
		m[i] = (uint8_t)b[i];
	return 0;
}

static int parse_vlan(const cJSON *o, struct hl_vf_pf_settings *s, char *err, size_t el)
{
	static const char *const protos[] = { "802.1q", "802.1ad" };
	long long v;
	int rc, idx = 0;

	rc = get_int(o, "vlan", 0, 4095, &v, err, el);
	if (rc < 0)
		return rc;
	s->has_vlan = rc;
	s->vlan = rc ? (int)v : 0;
	rc = get_int(o, "vlanQoS", 0, 7, &v, err, el);
	if (rc < 0)
		return rc;
	s->has_qos = rc;
	s->qos = rc ? (int)v : 0;
	rc = get_word(o, "vlanProto", protos, 2, &idx, err, el);
	if (rc < 0)
		return rc;
	s->has_proto = rc;
	s->proto = rc && idx == 1 ? ETH_P_8021AD : ETH_P_8021Q;
	/* as sriov-cni: QoS or 802.1ad mean nothing without a VLAN id */
	if ((s->qos || s->proto == ETH_P_8021AD) && (!s->has_vlan || !s->vlan))
		return fail(err, el, "\"vlanQoS\"/\"vlanProto\" need a non-zero \"vlan\"");
	return 0;
}

static int parse_onoff(const cJSON *o, const char *k, bool *has, bool *v, char *err, size_t el)
{
	static const char *const onoff[] = { "off", "on" };
	int idx = 0, rc = get_word(o, k, onoff, 2, &idx, err, el);

	if (rc < 0)
		return rc;
	*has = rc;
	*v = idx == 1;
	return 0;
}

static int parse_pf(const cJSON *o, struct hl_vf_pf_settings *s, char *err, size_t el)
{
	static const char *const states[] = { "auto", "enable", "disable" };
	long long v;
	int rc, idx = 0;

	rc = parse_vlan(o, s, err, el);
	if (!rc)
		rc = parse_onoff(o, "spoofchk", &s->has_spoofchk, &s->spoofchk, err, el);
	if (!rc)
		rc = parse_onoff(o, "trust", &s->has_trust, &s->trust, err, el);
	if (rc)
		return rc;
	rc = get_word(o, "link_state", states, 3, &idx, err, el);
	if (rc < 0)
		return rc;
	s->has_link_state = rc;
	s->link_state = rc ? IFLA_VF_LINK_STATE_AUTO + idx : 0;
	rc = get_int(o, "min_tx_rate", 0, UINT32_MAX, &v, err, el);
	if (rc < 0)
		return rc;
	s->has_min_tx_rate = rc;
	s->min_tx_rate = rc ? (uint32_t)v : 0;
	rc = get_int(o, "max_tx_rate", 0, UINT32_MAX, &v, err, el);
	if (rc < 0)
		return rc;
	s->has_max_tx_rate = rc;
	s->max_tx_rate = rc ? (uint32_t)v : 0;
	if (hl_vfi_pf_validate(s))
		return fail(err, el, "\"min_tx_rate\" is above \"max_tx_rate\"");
	return 0;
}

static int parse_obj(const cJSON *o, struct hl_vf_conf *c, char *err, size_t el)
{
	const cJSON *mac;
	long long v;
	int rc;

	if (!cJSON_IsObject(o))
		return fail(err, el, "the VF configuration must be a JSON object");
	rc = parse_pf(o, &c->pf, err, el);
	if (rc)
		return rc;
	mac = cJSON_GetObjectItemCaseSensitive(o, "mac");
	if (mac) {
		if (!cJSON_IsString(mac) || parse_mac(mac->valuestring, c->mac) ||
		    (c->mac[0] & 1))
			return fail(err, el, "\"mac\" must be a unicast aa:bb:cc:dd:ee:ff");
		c->has_mac = c->pf.has_mac = true;
		memcpy(c->pf.mac, c->mac, 6);
	}
	rc = get_int(o, "mtu", 68, 65535, &v, err, el);
	if (rc < 0)
		return rc;
	c->mtu = rc ? (unsigned int)v : 0;
	return 0;
}

int hl_vf_conf_parse(const char *json, size_t len, struct hl_vf_conf *out, char *err,
		     size_t errlen)
{
	cJSON *o;
	int rc;

	if (!out)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	if (err && errlen)
		err[0] = '\0';
	if (!json)
		return fail(err, errlen, "no VF configuration");
	o = cJSON_ParseWithLength(json, len);
	if (!o)
		return fail(err, errlen, "the VF configuration is not valid JSON");
	rc = parse_obj(o, out, err, errlen);
	cJSON_Delete(o);
	if (rc)
		memset(out, 0, sizeof(*out));
	return rc;
}

int hl_vf_devinfo_json(const char *pci, const char *pf_pci, char *buf, size_t len)
{
	int n;

	if (!pci || !hl_vfi_pci_valid(pci) || (pf_pci && pf_pci[0] && !hl_vfi_pci_valid(pf_pci)))
		return -EINVAL;
	/* PCI addresses are validated hex: nothing in them needs JSON escaping */
	if (pf_pci && pf_pci[0])
		n = snprintf(buf, len,
			     "{\n  \"type\": \"pci\",\n  \"version\": \"" DEVINFO_VERSION "\",\n"
			     "  \"pci\": {\n    \"pci-address\": \"%s\",\n"
			     "    \"pf-pci-address\": \"%s\"\n  }\n}\n", pci, pf_pci);
	else
		n = snprintf(buf, len,
			     "{\n  \"type\": \"pci\",\n  \"version\": \"" DEVINFO_VERSION "\",\n"
			     "  \"pci\": {\n    \"pci-address\": \"%s\"\n  }\n}\n", pci);
	if (n < 0 || (size_t)n >= len)
		return -ENOSPC;
	return n;
}

int hl_vf_devinfo_write(const char *path, const char *pci, const char *pf_pci)
{
	char buf[256];
	int n, rc;

	if (!path || !path[0])
		return -EINVAL;
	n = hl_vf_devinfo_json(pci, pf_pci, buf, sizeof(buf));
	if (n < 0)
		return n;
	rc = hl_mkdir_parent(path);
	if (rc)
		return rc;
	return hl_write_atomic(path, buf, (size_t)n, 0644, NULL);
}
