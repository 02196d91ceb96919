/* SPDX-License-Identifier: Apache-2.0 */
/* install.json: the install mode and the entries the installer writes. */
#include "hli.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static const char *const mode_names[] = {
	[HLI_SECONDARY] = "secondary", [HLI_CHAIN] = "chain",
	[HLI_STANDALONE] = "standalone", [HLI_UNINSTALL] = "uninstall",
};

int hli_mode_parse(const char *s)
{
	for (size_t i = 0; i < sizeof(mode_names) / sizeof(mode_names[0]); i++)
		if (strcmp(s, mode_names[i]) == 0)
			return (int)i;
	return -1;
}

const char *hli_mode_name(enum hli_mode m)
{
	return mode_names[m];
}

/* The defaults: what manifests/01-configmap.yaml ships. */
static const char DEFAULT_CHAIN[] =
	"{\"type\": \"hostlane\", \"agentSocket\": \"/run/hostlane/agent.sock\"}";
static const char DEFAULT_PLUGIN[] =
	"{\"type\": \"hostlane\", \"bridge\": \"hostlane0\", \"isGateway\": true,"
	" \"agentSocket\": \"/run/hostlane/agent.sock\", \"ipam\": {\"type\": \"host-local\"}}";

static int fail(char *err, size_t errlen, const char *what)
{
	snprintf(err, errlen, "%s", what);
	return -EINVAL;
}

static int copy_str(const cJSON *o, const char *key, char *dst, size_t n, char *err, size_t errlen)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	if (!v)
		return 0;
	if (!cJSON_IsString(v) || !v->valuestring[0] || strlen(v->valuestring) >= n) {
		snprintf(err, errlen, "standalone.%s must be a non-empty string shorter than %zu", key, n);
		return -EINVAL;
	}
	snprintf(dst, n, "%s", v->valuestring);
	return 0;
}

static int plugin_entry(const cJSON *v, cJSON **dst, const char *what, char *err, size_t errlen)
{
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(v, "type");

	if (!cJSON_IsObject(v) || !cJSON_IsString(t) || !t->valuestring[0]) {
		snprintf(err, errlen, "%s must be a plugin object with a \"type\"", what);
		return -EINVAL;
	}
	cJSON_Delete(*dst);
	*dst = cJSON_Duplicate(v, 1);
	return *dst ? 0 : -ENOMEM;
}

static int parse_standalone(const cJSON *s, struct hli_config *c, char *err, size_t errlen)
{
	const cJSON *it;
	int rc;

	if (!cJSON_IsObject(s))
		return fail(err, errlen, "standalone must be an object");
	cJSON_ArrayForEach(it, s) {
		if (strcmp(it->string, "name") && strcmp(it->string, "fileName") &&
		    strcmp(it->string, "cniVersion") && strcmp(it->string, "plugin")) {
			snprintf(err, errlen, "standalone.%.64s: unknown key", it->string);
			return -EINVAL;
		}
	}
	if ((rc = copy_str(s, "name", c->net_name, sizeof(c->net_name), err, errlen)) < 0 ||
	    (rc = copy_str(s, "fileName", c->file_name, sizeof(c->file_name), err, errlen)) < 0 ||
	    (rc = copy_str(s, "cniVersion", c->cni_version, sizeof(c->cni_version), err, errlen)) < 0)
		return rc;
	if (strchr(c->file_name, '/') || c->file_name[0] == '.' ||
	    !(strstr(c->file_name, ".conflist") &&
	      strcmp(c->file_name + strlen(c->file_name) - 9, ".conflist") == 0))
		return fail(err, errlen, "standalone.fileName must be a plain name ending in .conflist");
	it = cJSON_GetObjectItemCaseSensitive(s, "plugin");
	return it ? plugin_entry(it, &c->standalone, "standalone.plugin", err, errlen) : 0;
}

int hli_config_parse(const char *buf, size_t len, struct hli_config *c, char *err, size_t errlen)
{
	cJSON *root;
	const cJSON *it, *br;
	int rc = 0;

	memset(c, 0, sizeof(*c));
	c->mode = HLI_SECONDARY;
	snprintf(c->net_name, sizeof(c->net_name), "hostlane");
	snprintf(c->file_name, sizeof(c->file_name), "10-hostlane.conflist");
	snprintf(c->cni_version, sizeof(c->cni_version), "1.0.0");
	c->chain_entry = cJSON_Parse(DEFAULT_CHAIN);
	c->standalone = cJSON_Parse(DEFAULT_PLUGIN);
	if (!c->chain_entry || !c->standalone)
		return -ENOMEM;
	root = buf ? cJSON_ParseWithLength(buf, len) : NULL;
	if (buf && !cJSON_IsObject(root)) {
		cJSON_Delete(root);
		return fail(err, errlen, "install config: not a JSON object");
	}
	cJSON_ArrayForEach(it, root) {
		if (strcmp(it->string, "mode") == 0) {
			int m = cJSON_IsString(it) ? hli_mode_parse(it->valuestring) : -1;

			if (m < 0 || m == HLI_UNINSTALL)
				rc = fail(err, errlen, "mode must be \"secondary\", \"chain\" or \"standalone\"");
			else
				c->mode = (enum hli_mode)m;
		} else if (strcmp(it->string, "chainEntry") == 0) {
			rc = plugin_entry(it, &c->chain_entry, "chainEntry", err, errlen);
		} else if (strcmp(it->string, "standalone") == 0) {
			rc = parse_standalone(it, c, err, errlen);
		} else {
			snprintf(err, errlen, "%.64s: unknown key (mode, chainEntry, standalone)", it->string);
			rc = -EINVAL;
		}
		if (rc < 0)
			break;
	}
	cJSON_Delete(root);
	if (rc < 0)
		return rc;
	br = cJSON_GetObjectItemCaseSensitive(c->standalone, "bridge");
	if (br && (!cJSON_IsString(br) || !br->valuestring[0] ||
		   strlen(br->valuestring) >= sizeof(c->bridge)))
		return fail(err, errlen, "standalone.plugin.bridge must be an interface name");
	/* The plugin's own default bridge when none is named. */
	snprintf(c->bridge, sizeof(c->bridge), "%s", br ? br->valuestring : "hostlane0");
	return 0;
}

void hli_config_free(struct hli_config *c)
{
	cJSON_Delete(c->chain_entry);
	cJSON_Delete(c->standalone);
	c->chain_entry = c->standalone = NULL;
}
