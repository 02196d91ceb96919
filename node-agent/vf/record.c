/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Persisted slot records and per-VF locks.
 *
 * Each VF has <state_dir>/<pci>.lock (flock'ed for every operation on the VF,
 * by threads and processes alike: flock locks belong to the open file
 * description, and every operation opens its own) and <state_dir>/<pci>.json
 * (the record, replaced atomically). A missing record is a free VF of
 * generation 0.
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hl_util.h"
#include "vf_private.h"

#define REC_VERSION 1

static int rec_path(const struct hl_vf_pool *p, const char *pci, const char *ext,
		    char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s/%s.%s", p->state_dir, pci, ext);

	return (n < 0 || (size_t)n >= len) ? -ENAMETOOLONG : 0;
}

int hl_vfi_lock(const struct hl_vf_pool *p, const char *pci)
{
	char path[PATH_MAX];
	int rc = rec_path(p, pci, "lock", path, sizeof(path));

	return rc ? rc : hl_lock_path(path);
}

void hl_vfi_unlock(int fd)
{
	if (fd >= 0)
		close(fd); /* closing the last fd of the description drops the flock */
}

static const char *state_names[] = {
	[HL_VF_FREE] = "free", [HL_VF_ALLOCATED] = "allocated",
	[HL_VF_ATTACHING] = "attaching", [HL_VF_ATTACHED] = "attached",
};

static void mac_str(const uint8_t *m, char *buf)
{
	snprintf(buf, 18, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
}

static int mac_parse(const char *s, uint8_t *m)
{
	unsigned int b[6];
	char end;

	if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5],
		   &end) != 6 || strlen(s) != 17)
		return -EINVAL;
	for (int i = 0; i < 6; i++)
		m[i] = (uint8_t)b[i];
	return 0;
}

static bool add_ok(cJSON *o, const char *k, cJSON *v)
{
	return v && cJSON_AddItemToObject(o, k, v);
}

static bool add_num(cJSON *o, const char *k, double v)
{
	return add_ok(o, k, cJSON_CreateNumber(v));
}

static bool add_str(cJSON *o, const char *k, const char *v)
{
	return add_ok(o, k, cJSON_CreateString(v));
}

static bool add_bool(cJSON *o, const char *k, bool v)
{
	return add_ok(o, k, cJSON_CreateBool(v));
}

static cJSON *pf_state_json(const struct hl_vf_pf_state *s)
{
	cJSON *o = cJSON_CreateObject();
	char mac[18];
	bool ok = o != NULL;

	if (ok && s->has_mac) {
		mac_str(s->mac, mac);
		ok = add_str(o, "mac", mac);
	}
	if (ok && s->has_vlan)
		ok = add_num(o, "vlan", s->vlan) && add_num(o, "qos", s->qos) &&
		     add_num(o, "proto", s->proto);
	if (ok && s->has_spoofchk)
		ok = add_bool(o, "spoofchk", s->spoofchk);
	if (ok && s->has_trust)
		ok = add_bool(o, "trust", s->trust);
	if (ok && s->has_link_state)
		ok = add_num(o, "link_state", s->link_state);
	if (ok && s->has_rate)
		ok = add_num(o, "min_tx_rate", s->min_tx_rate) &&
		     add_num(o, "max_tx_rate", s->max_tx_rate);
	if (!ok) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

static cJSON *pf_applied_json(const struct hl_vf_pf_settings *s)
{
	cJSON *a = cJSON_CreateArray();
	const struct { bool on; const char *k; } keys[] = {
		{ s->has_vlan, "vlan" }, { s->has_qos, "vlanQoS" }, { s->has_proto, "vlanProto" },
		{ s->has_mac, "mac" }, { s->has_spoofchk, "spoofchk" }, { s->has_trust, "trust" },
		{ s->has_link_state, "link_state" }, { s->has_min_tx_rate, "min_tx_rate" },
		{ s->has_max_tx_rate, "max_tx_rate" },
	};

	for (size_t i = 0; a && i < sizeof(keys) / sizeof(keys[0]); i++) {
		cJSON *v;

		if (!keys[i].on)
			continue;
		v = cJSON_CreateString(keys[i].k);
		if (!v || !cJSON_AddItemToArray(a, v)) {
			cJSON_Delete(v);
			cJSON_Delete(a);
			return NULL;
		}
	}
	return a;
}

char *hl_vfi_rec_encode(const char *pci, const struct vf_rec *r)
{
	cJSON *o = cJSON_CreateObject();
	char gen[24], mac[18];
	char *out = NULL;
	bool ok = o != NULL;

	snprintf(gen, sizeof(gen), "%" PRIu64, r->gen);
	ok = ok && add_num(o, "version", REC_VERSION) && add_str(o, "pci", pci) &&
	     add_str(o, "state", state_names[r->state]) && add_str(o, "owner", r->owner) &&
	     add_str(o, "gen", gen); /* string: a double loses bits past 2^53 */
	if (ok && r->has_orig) {
		cJSON *orig = cJSON_CreateObject();

		mac_str(r->orig_mac, mac);
		ok = add_ok(o, "orig", orig) && add_str(orig, "name", r->orig_name) &&
		     add_str(orig, "mac", mac) && add_num(orig, "mtu", r->orig_mtu) &&
		     add_bool(orig, "up", r->orig_up);
	}
	if (ok && r->has_pf_orig)
		ok = add_ok(o, "pf_orig", pf_state_json(&r->pf_orig));
	if (ok)
		ok = add_ok(o, "pf_applied", pf_applied_json(&r->pf_applied));
	if (ok && r->netns[0])
		ok = add_str(o, "netns", r->netns) && add_str(o, "ifname", r->ifname);
	if (ok)
		out = cJSON_Print(o);
	cJSON_Delete(o);
	return out;
}

/* Typed getters: absent is fine (returns false), wrong type is an error. */
static int get_str(const cJSON *o, const char *k, char *dst, size_t len, bool *found)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	*found = false;
	if (!v)
		return 0;
	if (!cJSON_IsString(v) || strlen(v->valuestring) >= len)
		return -EBADMSG;
	strcpy(dst, v->valuestring);
	*found = true;
	return 0;
}

static int get_u32(const cJSON *o, const char *k, uint32_t *dst, bool *found)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	*found = false;
	if (!v)
		return 0;
	if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > UINT32_MAX ||
	    v->valuedouble != (double)(uint32_t)v->valuedouble)
		return -EBADMSG;
	*dst = (uint32_t)v->valuedouble;
	*found = true;
	return 0;
}

static int get_bool(const cJSON *o, const char *k, bool *dst, bool *found)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	*found = false;
	if (!v)
		return 0;
	if (!cJSON_IsBool(v))
		return -EBADMSG;
	*dst = cJSON_IsTrue(v);
	*found = true;
	return 0;
}

static int decode_pf_state(const cJSON *o, struct hl_vf_pf_state *s)
{
	char mac[18];
	uint32_t proto = 0;
	bool f1 = false, f2 = false, f3 = false;
	int rc;

	if (!cJSON_IsObject(o))
		return -EBADMSG;
	rc = get_str(o, "mac", mac, sizeof(mac), &f1);
	if (!rc && f1)
		rc = mac_parse(mac, s->mac) ? -EBADMSG : 0;
	s->has_mac = f1;
	if (!rc)
		rc = get_u32(o, "vlan", &s->vlan, &f1);
	if (!rc)
		rc = get_u32(o, "qos", &s->qos, &f2);
	if (!rc)
		rc = get_u32(o, "proto", &proto, &f3);
	if (rc)
		return rc;
	if (f1 != f2 || f1 != f3 || proto > UINT16_MAX)
		return -EBADMSG;
	s->has_vlan = f1;
	s->proto = (uint16_t)proto;
	rc = get_bool(o, "spoofchk", &s->spoofchk, &s->has_spoofchk);
	if (!rc)
		rc = get_bool(o, "trust", &s->trust, &s->has_trust);
	if (!rc)
		rc = get_u32(o, "link_state", &s->link_state, &s->has_link_state);
	if (!rc)
		rc = get_u32(o, "min_tx_rate", &s->min_tx_rate, &f1);
	if (!rc)
		rc = get_u32(o, "max_tx_rate", &s->max_tx_rate, &f2);
	if (!rc && f1 != f2)
		rc = -EBADMSG;
	s->has_rate = f1;
	return rc;
}

static int decode_applied(const cJSON *a, struct hl_vf_pf_settings *s)
{
	const cJSON *v;

	if (!cJSON_IsArray(a))
		return -EBADMSG;
	cJSON_ArrayForEach(v, a) {
		const char *k = cJSON_IsString(v) ? v->valuestring : "";

		if (!strcmp(k, "vlan")) s->has_vlan = true;
		else if (!strcmp(k, "vlanQoS")) s->has_qos = true;
		else if (!strcmp(k, "vlanProto")) s->has_proto = true;
		else if (!strcmp(k, "mac")) s->has_mac = true;
		else if (!strcmp(k, "spoofchk")) s->has_spoofchk = true;
		else if (!strcmp(k, "trust")) s->has_trust = true;
		else if (!strcmp(k, "link_state")) s->has_link_state = true;
		else if (!strcmp(k, "min_tx_rate")) s->has_min_tx_rate = true;
		else if (!strcmp(k, "max_tx_rate")) s->has_max_tx_rate = true;
		else return -EBADMSG;
	}
	return 0;
}

static int decode_orig(const cJSON *o, struct vf_rec *r)
{
	char mac[18];
	bool f1 = false, f2 = false, f3 = false, f4 = false;
	int rc;

	if (!cJSON_IsObject(o))
		return -EBADMSG;
	rc = get_str(o, "name", r->orig_name, sizeof(r->orig_name), &f1);
	if (!rc)
		rc = get_str(o, "mac", mac, sizeof(mac), &f2);
	if (!rc)
		rc = get_u32(o, "mtu", &r->orig_mtu, &f3);
	if (!rc)
		rc = get_bool(o, "up", &r->orig_up, &f4);
	if (rc || !f1 || !f2 || !f3 || !f4 || !r->orig_name[0] || mac_parse(mac, r->orig_mac))
		return -EBADMSG;
	r->has_orig = true;
	return 0;
}

static int decode_state(const cJSON *o, struct vf_rec *r)
{
	char st[16], gen[24], *end;
	bool found;
	int rc = get_str(o, "state", st, sizeof(st), &found);

	if (rc || !found)
		return -EBADMSG;
	for (size_t i = 0; i < sizeof(state_names) / sizeof(state_names[0]); i++)
		if (!strcmp(st, state_names[i]))
			r->state = (enum hl_vf_slot_state)i;
	if (strcmp(st, state_names[r->state]))
		return -EBADMSG;
	rc = get_str(o, "owner", r->owner, sizeof(r->owner), &found);
	if (rc || !found || (r->state != HL_VF_FREE) != (r->owner[0] != '\0'))
		return -EBADMSG;
	rc = get_str(o, "gen", gen, sizeof(gen), &found);
	if (rc || !found || gen[0] < '0' || gen[0] > '9')
		return -EBADMSG;
	errno = 0;
	r->gen = strtoull(gen, &end, 10);
	return (errno || *end) ? -EBADMSG : 0;
}

int hl_vfi_rec_decode(const char *json, size_t len, struct vf_rec *r)
{
	cJSON *o = cJSON_ParseWithLength(json, len);
	const cJSON *v;
	uint32_t ver;
	bool found;
	int rc;

	memset(r, 0, sizeof(*r));
	if (!o)
		return -EBADMSG;
	rc = cJSON_IsObject(o) ? get_u32(o, "version", &ver, &found) : -EBADMSG;
	if (!rc && (!found || ver != REC_VERSION))
		rc = -EBADMSG;
	if (!rc)
		rc = decode_state(o, r);
	if (!rc && (v = cJSON_GetObjectItemCaseSensitive(o, "orig")))
		rc = decode_orig(v, r);
	if (!rc && (v = cJSON_GetObjectItemCaseSensitive(o, "pf_orig"))) {
		rc = decode_pf_state(v, &r->pf_orig);
		r->has_pf_orig = !rc;
	}
	if (!rc && (v = cJSON_GetObjectItemCaseSensitive(o, "pf_applied")))
		rc = decode_applied(v, &r->pf_applied);
	if (!rc)
		rc = get_str(o, "netns", r->netns, sizeof(r->netns), &found);
	if (!rc)
		rc = get_str(o, "ifname", r->ifname, sizeof(r->ifname), &found);
	if (!rc && (r->state == HL_VF_ATTACHING || r->state == HL_VF_ATTACHED) && r->has_orig &&
	    (!r->netns[0] || !r->ifname[0]))
		rc = -EBADMSG;
	cJSON_Delete(o);
	if (rc)
		memset(r, 0, sizeof(*r));
	return rc;
}

int hl_vfi_rec_load(const struct hl_vf_pool *p, const char *pci, struct vf_rec *r)
{
	char path[PATH_MAX], buf[16384];
	ssize_t n;
	int fd, rc = rec_path(p, pci, "json", path, sizeof(path));

	memset(r, 0, sizeof(*r));
	if (rc)
		return rc;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	do
		n = read(fd, buf, sizeof(buf));
	while (n < 0 && errno == EINTR);
	rc = n < 0 ? -errno : 0;
	close(fd);
	if (rc)
		return rc;
	if ((size_t)n == sizeof(buf))
		return -EBADMSG;
	rc = hl_vfi_rec_decode(buf, (size_t)n, r);
	if (rc)
		hl_vfi_log(p, HL_VF_LOG_ERR, "vf %s: corrupt record %s", pci, path);
	return rc;
}

int hl_vfi_rec_save(const struct hl_vf_pool *p, const char *pci, const struct vf_rec *r)
{
	char path[PATH_MAX];
	char *json;
	int rc = rec_path(p, pci, "json", path, sizeof(path));

	if (rc)
		return rc;
	json = hl_vfi_rec_encode(pci, r);
	if (!json)
		return -ENOMEM;
	rc = hl_write_atomic(path, json, strlen(json), 0600, NULL);
	free(json);
	return rc;
}
