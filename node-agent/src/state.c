/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Pod records on disk: one JSON file per attachment under <state-dir>/pods/,
 * written atomically (temp, fsync, rename, fsync dir) so that a crash at any
 * point leaves either the old record, the new one, or a temp file that the
 * next start deletes.
 */
#include "hl_util.h"
#include "agent.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define STATE_VERSION 1
#define RECORD_MAX (64 * 1024)

void hl_pod_from_request(struct hl_pod *p, const struct hl_request *r)
{
	memset(p, 0, sizeof(*p));
	hl_request_key(r, p->key, sizeof(p->key));
	memcpy(p->network, r->network, sizeof(p->network));
	memcpy(p->container_id, r->container_id, sizeof(p->container_id));
	memcpy(p->ifname, r->ifname, sizeof(p->ifname));
	memcpy(p->netns, r->netns, sizeof(p->netns));
	memcpy(p->pod_ns, r->pod_ns, sizeof(p->pod_ns));
	memcpy(p->pod_name, r->pod_name, sizeof(p->pod_name));
	memcpy(p->pod_uid, r->pod_uid, sizeof(p->pod_uid));
	memcpy(p->ips, r->ips, sizeof(p->ips));
	p->n_ips = r->n_ips;
	p->created = (int64_t)time(NULL);
}

void hl_pod_key_name(const struct hl_pod *p, char *buf, size_t len)
{
	if (p->pod_ns[0])
		snprintf(buf, len, "%s/%s", p->pod_ns, p->pod_name);
	else
		snprintf(buf, len, "%s", p->container_id);
}

/* What a vhost-user or vf pod holds: needed to release it after a restart. */
static bool add_device(cJSON *o, const struct hl_pod *p)
{
	cJSON *d;

	if (p->fastpath == HL_FP_VHOST_USER) {
		d = cJSON_AddObjectToObject(o, "vhostUser");
		return d && cJSON_AddStringToObject(d, "socketPath", p->sock_path) &&
		       cJSON_AddStringToObject(d, "port", p->port);
	}
	if (p->fastpath != HL_FP_VF)
		return true;
	d = cJSON_AddObjectToObject(o, "vf");
	return d && cJSON_AddStringToObject(d, "pciID", p->vf_pci) &&
	       cJSON_AddStringToObject(d, "pfPciID", p->vf_pf_pci) &&
	       cJSON_AddStringToObject(d, "mac", p->vf_mac) &&
	       cJSON_AddNumberToObject(d, "mtu", p->vf_mtu) &&
	       cJSON_AddBoolToObject(d, "dpdk", p->vf_dpdk);
}

cJSON *hl_pod_to_cjson(const struct hl_pod *p)
{
	cJSON *o = cJSON_CreateObject(), *ips;
	bool ok = o != NULL;

	ok = ok && cJSON_AddNumberToObject(o, "version", STATE_VERSION);
	ok = ok && cJSON_AddStringToObject(o, "network", p->network);
	ok = ok && cJSON_AddStringToObject(o, "containerID", p->container_id);
	ok = ok && cJSON_AddStringToObject(o, "ifname", p->ifname);
	ok = ok && cJSON_AddStringToObject(o, "netns", p->netns);
	ok = ok && cJSON_AddStringToObject(o, "namespace", p->pod_ns);
	ok = ok && cJSON_AddStringToObject(o, "name", p->pod_name);
	ok = ok && cJSON_AddStringToObject(o, "uid", p->pod_uid);
	ok = ok && (ips = cJSON_AddArrayToObject(o, "ips"));
	for (size_t i = 0; ok && i < p->n_ips; i++) {
		cJSON *s = cJSON_CreateString(p->ips[i]);

		ok = s && cJSON_AddItemToArray(ips, s);
	}
	ok = ok && cJSON_AddStringToObject(o, "fastpath", hl_fastpath_name(p->fastpath));
	ok = ok && cJSON_AddStringToObject(o, "fastpathSource", hl_fp_source_name(p->source));
	ok = ok && cJSON_AddNumberToObject(o, "quotaBytes", (double)p->quota_bytes);
	ok = ok && cJSON_AddNumberToObject(o, "created", (double)p->created);
	ok = ok && add_device(o, p);
	if (!ok) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

char *hl_pod_to_json(const struct hl_pod *p, bool pretty)
{
	cJSON *o = hl_pod_to_cjson(p);
	char *s = NULL;

	if (o)
		s = pretty ? cJSON_Print(o) : cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return s;
}

static int copy_field(const cJSON *o, const char *k, char *dst, size_t len, bool required)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	dst[0] = '\0';
	if (!v)
		return required ? -EINVAL : 0;
	if (!cJSON_IsString(v) || strlen(v->valuestring) >= len)
		return -EINVAL;
	memcpy(dst, v->valuestring, strlen(v->valuestring) + 1);
	return 0;
}

static int number_field(const cJSON *o, const char *k, double *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	if (!cJSON_IsNumber(v) || v->valuedouble < 0)
		return -EINVAL;
	*out = v->valuedouble;
	return 0;
}

static int parse_device(const cJSON *o, struct hl_pod *p)
{
	const cJSON *d;
	double mtu = 0;

	if (p->fastpath == HL_FP_VHOST_USER) {
		d = cJSON_GetObjectItemCaseSensitive(o, "vhostUser");
		if (!cJSON_IsObject(d) ||
		    copy_field(d, "socketPath", p->sock_path, sizeof(p->sock_path), true) ||
		    copy_field(d, "port", p->port, sizeof(p->port), true))
			return -EINVAL;
	} else if (p->fastpath == HL_FP_VF) {
		d = cJSON_GetObjectItemCaseSensitive(o, "vf");
		if (!cJSON_IsObject(d) || copy_field(d, "pciID", p->vf_pci, sizeof(p->vf_pci), true) ||
		    copy_field(d, "pfPciID", p->vf_pf_pci, sizeof(p->vf_pf_pci), false) ||
		    copy_field(d, "mac", p->vf_mac, sizeof(p->vf_mac), false) ||
		    number_field(d, "mtu", &mtu) || mtu > 65535)
			return -EINVAL;
		p->vf_mtu = (unsigned)mtu;
		p->vf_dpdk = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(d, "dpdk"));
	}
	return 0;
}

static int parse_record(struct hl_pod *p, const cJSON *o)
{
	char fp[32], src[32];
	const cJSON *ips, *v;
	double ver, quota, created;

	if (number_field(o, "version", &ver) || ver != STATE_VERSION ||
	    copy_field(o, "network", p->network, sizeof(p->network), true) ||
	    copy_field(o, "containerID", p->container_id, sizeof(p->container_id), true) ||
	    copy_field(o, "ifname", p->ifname, sizeof(p->ifname), true) ||
	    copy_field(o, "netns", p->netns, sizeof(p->netns), false) ||
	    copy_field(o, "namespace", p->pod_ns, sizeof(p->pod_ns), false) ||
	    copy_field(o, "name", p->pod_name, sizeof(p->pod_name), false) ||
	    copy_field(o, "uid", p->pod_uid, sizeof(p->pod_uid), false) ||
	    copy_field(o, "fastpath", fp, sizeof(fp), true) ||
	    copy_field(o, "fastpathSource", src, sizeof(src), false) ||
	    hl_fastpath_parse(fp, &p->fastpath) ||
	    number_field(o, "quotaBytes", &quota) || number_field(o, "created", &created))
		return -EINVAL;
	p->quota_bytes = (uint64_t)quota;
	p->created = (int64_t)created;
	p->source = HL_SRC_DEFAULT;
	for (int s = HL_SRC_ANNOTATION; s <= HL_SRC_DEFAULT; s++)
		if (strcmp(src, hl_fp_source_name((enum hl_fp_source)s)) == 0)
			p->source = (enum hl_fp_source)s;
	ips = cJSON_GetObjectItemCaseSensitive(o, "ips");
	cJSON_ArrayForEach(v, ips) {
		if (p->n_ips == HLAGENT_MAX_IPS || !cJSON_IsString(v) || strlen(v->valuestring) >= HL_IP_MAX)
			return -EINVAL;
		snprintf(p->ips[p->n_ips++], HL_IP_MAX, "%s", v->valuestring);
	}
	snprintf(p->key, sizeof(p->key), "%s/%s/%s", p->network, p->container_id, p->ifname);
	return parse_device(o, p);
}

int hl_pod_from_json(struct hl_pod *p, const char *text, size_t len)
{
	cJSON *o = cJSON_ParseWithLength(text, len);
	int rc;

	memset(p, 0, sizeof(*p));
	if (!cJSON_IsObject(o)) {
		cJSON_Delete(o);
		return -EINVAL;
	}
	rc = parse_record(p, o);
	cJSON_Delete(o);
	return rc;
}

/* FNV-1a: file names must not depend on what characters a key holds. */
void hl_state_name(const char *key, char *buf, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (const unsigned char *s = (const unsigned char *)key; *s; s++)
		h = (h ^ *s) * 0x100000001b3ull;
	snprintf(buf, len, "%016llx.json", (unsigned long long)h);
}

int hl_state_init(const char *dir)
{
	char p[PATH_MAX];

	snprintf(p, sizeof(p), "%s/pods", dir);
	return hl_mkdir_p(p, 0700);
}

int hl_state_save(const char *dir, const struct hl_pod *p, void (*crash_mid)(void))
{
	char name[32], dst[PATH_MAX + 48];
	char *txt = hl_pod_to_json(p, true), *line;
	size_t len = txt ? strlen(txt) : 0;
	int rc;

	line = txt ? realloc(txt, len + 2) : NULL;
	if (!line) {
		free(txt);
		return -ENOMEM;
	}
	txt = line;
	memcpy(txt + len, "\n", 2);
	hl_state_name(p->key, name, sizeof(name));
	snprintf(dst, sizeof(dst), "%s/pods/%s", dir, name);
	rc = hl_write_atomic(dst, txt, len + 1, 0600, crash_mid);
	free(txt);
	return rc;
}

int hl_state_remove(const char *dir, const char *key)
{
	char name[32], path[PATH_MAX + 48], pods[PATH_MAX];

	hl_state_name(key, name, sizeof(name));
	snprintf(pods, sizeof(pods), "%s/pods", dir);
	snprintf(path, sizeof(path), "%s/%s", pods, name);
	if (unlink(path) < 0)
		return errno == ENOENT ? 0 : -errno;
	return hl_fsync_dir(pods);
}

static char *read_small(int dfd, const char *name, size_t *len)
{
	int fd = openat(dfd, name, O_RDONLY | O_CLOEXEC);
	char *buf;
	ssize_t n = 0, r;

	if (fd < 0)
		return NULL;
	buf = malloc(RECORD_MAX);
	while (buf && n < RECORD_MAX && (r = read(fd, buf + n, (size_t)(RECORD_MAX - n))) > 0)
		n += r;
	close(fd);
	*len = (size_t)n;
	return buf;
}

static int load_one(int dfd, const char *name, struct hl_pod **out, size_t *n, size_t *cap)
{
	char want[32];
	size_t len = 0;
	char *txt = read_small(dfd, name, &len);
	struct hl_pod p;
	int rc = txt ? hl_pod_from_json(&p, txt, len) : -EIO;

	free(txt);
	if (rc == 0) {
		hl_state_name(p.key, want, sizeof(want));
		rc = strcmp(want, name) == 0 ? 0 : -EINVAL;
	}
	if (rc < 0) {
		/* An unreadable record cannot be reconciled; keep it aside for an operator. */
		char bad[300];

		snprintf(bad, sizeof(bad), "%s.bad", name);
		hl_log(HL_LOG_ERROR, "state: record %s is corrupt, moved to %s", name, bad);
		renameat(dfd, name, dfd, bad);
		return 0;
	}
	if (*n == *cap) {
		size_t c = *cap ? *cap * 2 : 16;
		struct hl_pod *np = realloc(*out, c * sizeof(*np));

		if (!np)
			return -ENOMEM;
		*out = np;
		*cap = c;
	}
	(*out)[(*n)++] = p;
	return 0;
}

int hl_state_load(const char *dir, struct hl_pod **out, size_t *n)
{
	char pods[PATH_MAX];
	struct dirent *de;
	size_t cap = 0;
	DIR *d;
	int rc = 0;

	*out = NULL;
	*n = 0;
	snprintf(pods, sizeof(pods), "%s/pods", dir);
	d = opendir(pods);
	if (!d)
		return -errno;
	while ((de = readdir(d)) != NULL && rc == 0) {
		size_t l = strlen(de->d_name);

		if (de->d_name[0] == '.' && l > 4 && strcmp(de->d_name + l - 4, ".tmp") == 0) {
			/* A save interrupted before its rename: it never happened. */
			unlinkat(dirfd(d), de->d_name, 0);
			continue;
		}
		if (de->d_name[0] == '.' || l < 5 || strcmp(de->d_name + l - 5, ".json") != 0)
			continue;
		rc = load_one(dirfd(d), de->d_name, out, n, &cap);
	}
	closedir(d);
	if (rc < 0) {
		free(*out);
		*out = NULL;
		*n = 0;
	}
	return rc;
}
