/* SPDX-License-Identifier: Apache-2.0 */
/* The node's CNI config files: which one the runtime uses, hostlane chained
 * into it or taken out of it, and the standalone conflist. The files are
 * written by whatever else runs on the node, so nothing in them is trusted. */
#include "hli.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool has_ext(const char *name, const char *ext)
{
	size_t n = strlen(name), e = strlen(ext);

	return n > e && strcmp(name + n - e, ext) == 0;
}

static bool conf_name(const char *name)
{
	return has_ext(name, ".conf") || has_ext(name, ".conflist") || has_ext(name, ".json");
}

int hli_primary_conf(const char *conf_dir, const char *skip, char *out, size_t outlen)
{
	DIR *d = opendir(conf_dir);
	struct dirent *de;
	char best[256] = "";

	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		if (de->d_type != DT_REG && de->d_type != DT_LNK && de->d_type != DT_UNKNOWN)
			continue;
		if (!conf_name(de->d_name) || (skip && strcmp(de->d_name, skip) == 0))
			continue;
		/* Byte order, as Go's sort of file names (libcni ConfFiles). */
		if (strlen(de->d_name) < sizeof(best) && (!best[0] || strcmp(de->d_name, best) < 0))
			snprintf(best, sizeof(best), "%s", de->d_name);
	}
	closedir(d);
	if (!best[0])
		return -ENOENT;
	if (strlen(best) >= outlen)
		return -ENAMETOOLONG;
	snprintf(out, outlen, "%s", best);
	return 0;
}

static const char *type_of(const cJSON *plugin)
{
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(plugin, "type");

	return cJSON_IsString(t) ? t->valuestring : NULL;
}

/* Parses @text as a conflist, turning a single-plugin .conf into one. */
static cJSON *as_conflist(const char *text, size_t len, bool *converted)
{
	cJSON *root = cJSON_ParseWithLength(text, len), *list, *plugins;
	const cJSON *v;

	*converted = false;
	if (!cJSON_IsObject(root)) {
		cJSON_Delete(root);
		return NULL;
	}
	plugins = cJSON_GetObjectItemCaseSensitive(root, "plugins");
	if (plugins) {
		if (!cJSON_IsArray(plugins)) {
			cJSON_Delete(root);
			return NULL;
		}
		return root;
	}
	if (!type_of(root)) {
		cJSON_Delete(root);
		return NULL;
	}
	/* libcni ConfListFromConf: the list takes the conf's name and version
	 * and the conf itself is its one plugin. */
	list = cJSON_CreateObject();
	plugins = cJSON_CreateArray();
	if (!list || !plugins) {
		cJSON_Delete(list);
		cJSON_Delete(plugins);
		cJSON_Delete(root);
		return NULL;
	}
	v = cJSON_GetObjectItemCaseSensitive(root, "cniVersion");
	if (v)
		cJSON_AddItemToObject(list, "cniVersion", cJSON_Duplicate(v, 1));
	v = cJSON_GetObjectItemCaseSensitive(root, "name");
	if (v)
		cJSON_AddItemToObject(list, "name", cJSON_Duplicate(v, 1));
	cJSON_AddItemToObject(list, "plugins", plugins);
	cJSON_AddItemToArray(plugins, root);
	*converted = true;
	return list;
}

/* Removes the plugins of @type from @plugins; returns how many. */
static int drop_type(cJSON *plugins, const char *type)
{
	int n = 0;

	for (int i = cJSON_GetArraySize(plugins) - 1; i >= 0; i--) {
		const char *t = type_of(cJSON_GetArrayItem(plugins, i));

		if (t && strcmp(t, type) == 0) {
			cJSON_DeleteItemFromArray(plugins, i);
			n++;
		}
	}
	return n;
}

static int print_to(const cJSON *root, char **out)
{
	char *s = cJSON_Print(root);
	size_t n;

	if (!s)
		return -ENOMEM;
	n = strlen(s);
	/* A trailing newline, as editors and the other installers write. */
	*out = realloc(s, n + 2);
	if (!*out) {
		free(s);
		return -ENOMEM;
	}
	(*out)[n] = '\n';
	(*out)[n + 1] = '\0';
	return 0;
}

/* The versions the plugin speaks: a chain of another version would make
 * every ADD on the node fail in our entry. */
static bool version_ok(const cJSON *root)
{
	static const char *const ours[] = { "0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0" };
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, "cniVersion");

	for (size_t i = 0; cJSON_IsString(v) && i < sizeof(ours) / sizeof(ours[0]); i++)
		if (strcmp(v->valuestring, ours[i]) == 0)
			return true;
	return false;
}

int hli_chain_insert(const char *text, size_t len, const cJSON *entry, char **out)
{
	bool converted;
	cJSON *root = as_conflist(text, len, &converted), *plugins, *last, *dup;
	const char *type = type_of(entry);
	int n, rc;

	*out = NULL;
	if (!root || !type) {
		cJSON_Delete(root);
		return -EINVAL;
	}
	if (!version_ok(root)) {
		cJSON_Delete(root);
		return -ENOTSUP;
	}
	plugins = cJSON_GetObjectItemCaseSensitive(root, "plugins");
	n = cJSON_GetArraySize(plugins);
	last = n > 0 ? cJSON_GetArrayItem(plugins, n - 1) : NULL;
	/* Already as wanted: the entry is the last plugin and the only one of
	 * its type. Then nothing is written (idempotence, and no inotify
	 * event for the runtime or for our own watch). */
	if (!converted && last && cJSON_Compare(last, entry, 1)) {
		int same = 0;

		for (int i = 0; i < n; i++) {
			const char *t = type_of(cJSON_GetArrayItem(plugins, i));

			same += t && strcmp(t, type) == 0;
		}
		if (same == 1) {
			cJSON_Delete(root);
			return 0;
		}
	}
	drop_type(plugins, type);
	dup = cJSON_Duplicate(entry, 1);
	if (!dup || !cJSON_AddItemToArray(plugins, dup)) {
		cJSON_Delete(dup);
		cJSON_Delete(root);
		return -ENOMEM;
	}
	rc = print_to(root, out);
	cJSON_Delete(root);
	return rc;
}

int hli_chain_remove(const char *text, size_t len, const char *type, char **out)
{
	cJSON *root = cJSON_ParseWithLength(text, len), *plugins;
	int rc = 0;

	*out = NULL;
	plugins = cJSON_IsObject(root) ? cJSON_GetObjectItemCaseSensitive(root, "plugins") : NULL;
	if (!cJSON_IsArray(plugins)) {
		cJSON_Delete(root);
		return -EINVAL;
	}
	if (drop_type(plugins, type) > 0)
		rc = print_to(root, out);
	cJSON_Delete(root);
	return rc;
}

bool hli_cidr_valid(const char *s)
{
	unsigned char a[16];
	char ip[INET6_ADDRSTRLEN];
	const char *slash = strchr(s, '/');
	char *end;
	long plen, max;
	int fam;

	if (!slash || (size_t)(slash - s) >= sizeof(ip) || !slash[1])
		return false;
	memcpy(ip, s, (size_t)(slash - s));
	ip[slash - s] = '\0';
	fam = strchr(ip, ':') ? AF_INET6 : AF_INET;
	if (inet_pton(fam, ip, a) != 1)
		return false;
	plen = strtol(slash + 1, &end, 10);
	max = fam == AF_INET ? 32 : 128;
	if (*end || slash[1] < '0' || slash[1] > '9' || plen < 1 || plen > max)
		return false;
	for (long bit = plen; bit < max; bit++)
		if (a[bit / 8] & (0x80 >> (bit % 8)))
			return false;
	return true;
}

char *hli_standalone_conflist(const struct hli_config *c)
{
	cJSON *root, *plugins, *plugin, *ipam, *ranges, *set, *range;
	char *out = NULL;

	if (!c->standalone || !hli_cidr_valid(c->pod_cidr)) {
		errno = EINVAL;
		return NULL;
	}
	root = cJSON_CreateObject();
	plugins = cJSON_CreateArray();
	plugin = cJSON_Duplicate(c->standalone, 1);
	ranges = cJSON_CreateArray();
	set = cJSON_CreateArray();
	range = cJSON_CreateObject();
	if (!root || !plugins || !plugin || !ranges || !set || !range) {
		cJSON_Delete(root);
		cJSON_Delete(plugins);
		cJSON_Delete(plugin);
		cJSON_Delete(ranges);
		cJSON_Delete(set);
		cJSON_Delete(range);
		errno = ENOMEM;
		return NULL;
	}
	cJSON_AddStringToObject(root, "cniVersion", c->cni_version);
	cJSON_AddStringToObject(root, "name", c->net_name);
	cJSON_AddItemToObject(root, "plugins", plugins);
	cJSON_AddItemToArray(plugins, plugin);
	ipam = cJSON_GetObjectItemCaseSensitive(plugin, "ipam");
	if (!cJSON_IsObject(ipam)) {
		cJSON_DeleteItemFromObjectCaseSensitive(plugin, "ipam");
		ipam = cJSON_AddObjectToObject(plugin, "ipam");
		if (ipam)
			cJSON_AddStringToObject(ipam, "type", "host-local");
	}
	if (ipam) {
		/* The node's own range: never a subnet fixed for the cluster. */
		cJSON_DeleteItemFromObjectCaseSensitive(ipam, "subnet");
		cJSON_DeleteItemFromObjectCaseSensitive(ipam, "ranges");
		cJSON_AddStringToObject(range, "subnet", c->pod_cidr);
		cJSON_AddItemToArray(set, range);
		cJSON_AddItemToArray(ranges, set);
		cJSON_AddItemToObject(ipam, "ranges", ranges);
		if (print_to(root, &out) < 0)
			errno = ENOMEM;
	} else {
		cJSON_Delete(ranges);
		cJSON_Delete(set);
		cJSON_Delete(range);
		errno = ENOMEM;
	}
	cJSON_Delete(root);
	return out;
}
