/* SPDX-License-Identifier: Apache-2.0 */
/* Host veth naming, the ifalias tag, and per-attachment cached state. */
#include "hl_util.h"
#include "cni.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define CACHE_MAX (1 << 20)

/* FNV-1a 64 over the three fields with separators: stable across runs and
 * machines (DEL and GC recompute it), 48 bits kept: a collision needs ~16M
 * attachments on one node. */
void cni_host_veth_name(const char *net, const char *cid, const char *ifname,
			char out[IF_NAMESIZE])
{
	const char *parts[3] = { net, cid, ifname };
	uint64_t h = 1469598103934665603ULL;

	for (int i = 0; i < 3; i++) {
		for (const char *p = parts[i]; *p; p++) {
			h ^= (unsigned char)*p;
			h *= 1099511628211ULL;
		}
		h ^= 0xff; /* separator no name can contain */
		h *= 1099511628211ULL;
	}
	snprintf(out, IF_NAMESIZE, "hl%012llx", (unsigned long long)(h & 0xffffffffffffULL));
}

int cni_alias(const char *net, const char *cid, const char *ifname, char *out, size_t n)
{
	int len = snprintf(out, n, "hostlane:%s:%s:%s", net, cid, ifname);

	return len < 0 || (size_t)len >= n ? -ENAMETOOLONG : 0;
}

bool cni_alias_split(const char *alias, const char *net, char *cid, size_t cn, char *ifname,
		     size_t in)
{
	static const char pfx[] = "hostlane:";
	size_t nl = strlen(net);
	const char *p, *colon;

	if (strncmp(alias, pfx, sizeof(pfx) - 1) != 0)
		return false;
	p = alias + sizeof(pfx) - 1;
	if (strncmp(p, net, nl) != 0 || p[nl] != ':')
		return false;
	p += nl + 1;
	colon = strchr(p, ':');
	if (!colon || colon == p || (size_t)(colon - p) >= cn || strlen(colon + 1) >= in ||
	    !colon[1])
		return false;
	memcpy(cid, p, (size_t)(colon - p));
	cid[colon - p] = '\0';
	strcpy(ifname, colon + 1);
	return true;
}

const char *cni_cache_dir(void)
{
	const char *d = getenv("HOSTLANE_CACHE_DIR");

	return d && *d ? d : "/var/lib/cni/hostlane";
}

int cni_cache_path(const char *root, const char *net, const char *cid, const char *ifname,
		   char *out, size_t n)
{
	char veth[IF_NAMESIZE];
	int len;

	cni_host_veth_name(net, cid, ifname, veth);
	len = snprintf(out, n, "%s/%s/%s.json", root, net, veth);
	return len < 0 || (size_t)len >= n ? -ENAMETOOLONG : 0;
}

static cJSON *entry_json(const struct cni_cache_entry *ce)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddNumberToObject(o, "version", 1);
	cJSON_AddStringToObject(o, "containerID", ce->containerid);
	cJSON_AddStringToObject(o, "ifname", ce->ifname);
	if (ce->netns)
		cJSON_AddStringToObject(o, "netns", ce->netns);
	cJSON_AddStringToObject(o, "hostVeth", ce->host_veth);
	cJSON_AddStringToObject(o, "bridge", ce->bridge);
	cJSON_AddBoolToObject(o, "chained", ce->chained);
	if (ce->ipam_conf)
		cJSON_AddStringToObject(o, "ipamConfig", ce->ipam_conf);
	if (ce->ipam_result)
		cJSON_AddItemToObject(o, "ipamResult", cJSON_Duplicate(ce->ipam_result, 1));
	return o;
}

int cni_cache_write(const char *root, const char *net, const struct cni_cache_entry *ce)
{
	char path[PATH_MAX], dir[PATH_MAX];
	cJSON *o;
	char *s;
	int rc;

	if (snprintf(dir, sizeof(dir), "%s/%s", root, net) >= (int)sizeof(dir) ||
	    cni_cache_path(root, net, ce->containerid, ce->ifname, path, sizeof(path)) < 0)
		return -ENAMETOOLONG;
	rc = hl_mkdir_p(dir, 0700);
	if (rc < 0)
		return rc;
	o = entry_json(ce);
	s = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	if (!s)
		return -ENOMEM;
	rc = hl_write_atomic(path, s, strlen(s), 0600, NULL);
	free(s);
	return rc;
}

static char *read_file(const char *path, int *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	char *buf;
	ssize_t n;

	if (fd < 0) {
		*err = -errno;
		return NULL;
	}
	errno = 0;
	if (fstat(fd, &st) < 0) {
		*err = -errno;
		close(fd);
		return NULL;
	}
	if (st.st_size > CACHE_MAX) {
		*err = -EFBIG;
		close(fd);
		return NULL;
	}
	buf = malloc((size_t)st.st_size + 1);
	n = buf ? read(fd, buf, (size_t)st.st_size) : -1;
	close(fd);
	if (n < 0) {
		*err = buf ? -EIO : -ENOMEM;
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	return buf;
}

static char *dup_str(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(v) ? strdup(v->valuestring) : NULL;
}

static bool copy_name(char dst[IF_NAMESIZE], const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	if (!cJSON_IsString(v) || strlen(v->valuestring) >= IF_NAMESIZE)
		return false;
	strcpy(dst, v->valuestring);
	return true;
}

int cni_cache_read_file(const char *path, struct cni_cache_entry *ce)
{
	int rc = 0;
	char *buf = read_file(path, &rc);
	cJSON *o;

	memset(ce, 0, sizeof(*ce));
	if (!buf)
		return rc;
	o = cJSON_Parse(buf);
	free(buf);
	if (!cJSON_IsObject(o)) {
		cJSON_Delete(o);
		return -EBADMSG;
	}
	ce->containerid = dup_str(o, "containerID");
	ce->ifname = dup_str(o, "ifname");
	ce->netns = dup_str(o, "netns");
	ce->ipam_conf = dup_str(o, "ipamConfig");
	ce->chained = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "chained"));
	if (cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(o, "ipamResult")))
		ce->ipam_result = cJSON_DetachItemFromObjectCaseSensitive(o, "ipamResult");
	if (!ce->containerid || !ce->ifname || !copy_name(ce->host_veth, o, "hostVeth") ||
	    !copy_name(ce->bridge, o, "bridge"))
		rc = -EBADMSG;
	cJSON_Delete(o);
	if (rc < 0)
		cni_cache_entry_free(ce);
	return rc;
}

int cni_cache_read(const char *root, const char *net, const char *cid, const char *ifname,
		   struct cni_cache_entry *ce)
{
	char path[PATH_MAX];

	memset(ce, 0, sizeof(*ce));
	if (cni_cache_path(root, net, cid, ifname, path, sizeof(path)) < 0)
		return -ENAMETOOLONG;
	return cni_cache_read_file(path, ce);
}

int cni_cache_remove(const char *root, const char *net, const char *cid, const char *ifname)
{
	char path[PATH_MAX];

	if (cni_cache_path(root, net, cid, ifname, path, sizeof(path)) < 0)
		return -ENAMETOOLONG;
	if (unlink(path) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}

void cni_cache_entry_free(struct cni_cache_entry *ce)
{
	free(ce->containerid);
	free(ce->ifname);
	free(ce->netns);
	free(ce->ipam_conf);
	cJSON_Delete(ce->ipam_result);
	memset(ce, 0, sizeof(*ce));
}

int cni_lock(const char *root)
{
	int rc = hl_mkdir_p(root, 0700);

	/* The directory itself is the lock: no lock file is left behind for
	 * runtimes (and tests) that expect an empty cache after DEL. */
	return rc < 0 ? rc : hl_lock_path(root);
}

void cni_unlock(int fd)
{
	if (fd >= 0)
		close(fd); /* closing drops the flock */
}
