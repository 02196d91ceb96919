/* SPDX-License-Identifier: Apache-2.0 */
/* The stdin network configuration. Unknown keys are allowed (spec); known
 * keys are checked for type and value. */
#include "cni.h"

#include <stdlib.h>
#include <string.h>

#define DEFAULT_BRIDGE "hostlane0"
#define DEFAULT_AGENT_SOCKET "/run/hostlane/agent.sock"

static int bad_key(struct cni_err *e, const char *key, const char *why)
{
	return cni_err_set(e, CNI_ERR_CONFIG, "invalid network configuration", "%s: %s", key, why);
}

static const cJSON *get(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsNull(v) ? NULL : v;
}

/* Optional string key; -1 with @e if present but not a string. */
static int str_key(const cJSON *o, const char *key, const char **out, struct cni_err *e)
{
	const cJSON *v = get(o, key);

	if (!v)
		return 0;
	if (!cJSON_IsString(v))
		return bad_key(e, key, "must be a string");
	*out = v->valuestring;
	return 0;
}

static int bool_key(const cJSON *o, const char *key, bool *out, struct cni_err *e)
{
	const cJSON *v = get(o, key);

	if (!v)
		return 0;
	if (!cJSON_IsBool(v))
		return bad_key(e, key, "must be a boolean");
	*out = cJSON_IsTrue(v);
	return 0;
}

static int parse_version(const cJSON *root, struct cni_conf *c, struct cni_err *e)
{
	const cJSON *v = get(root, "cniVersion");

	if (!cJSON_IsString(v))
		return cni_err_set(e, CNI_ERR_INCOMPAT, "incompatible CNI versions",
				   "config has no cniVersion string; plugin supports 0.3.0, 0.3.1, 0.4.0, 1.0.0, 1.1.0");
	c->version = cni_version_parse(v->valuestring);
	if (!cni_version_supported(c->version)) {
		c->version = -1;
		return cni_err_set(e, CNI_ERR_INCOMPAT, "incompatible CNI versions",
				   "config is \"%.32s\", plugin supports 0.3.0, 0.3.1, 0.4.0, 1.0.0, 1.1.0",
				   v->valuestring);
	}
	c->version_str = v->valuestring;
	return 0;
}

static int check_cmd_version(const struct cni_conf *c, enum cni_cmd cmd, struct cni_err *e)
{
	if (cmd == CNI_CMD_CHECK && c->version < CNI_V040)
		return cni_err_set(e, CNI_ERR_INCOMPAT, "incompatible CNI versions",
				   "config version %s does not allow CHECK (needs 0.4.0 or later)",
				   c->version_str);
	if ((cmd == CNI_CMD_STATUS || cmd == CNI_CMD_GC) && c->version < CNI_V110)
		return cni_err_set(e, CNI_ERR_INCOMPAT, "incompatible CNI versions",
				   "config version %s does not allow %s (needs 1.1.0)", c->version_str,
				   cmd == CNI_CMD_GC ? "GC" : "STATUS");
	return 0;
}

static int parse_identity(const cJSON *root, struct cni_conf *c, struct cni_err *e)
{
	if (str_key(root, "name", &c->name, e) < 0 || str_key(root, "type", &c->type, e) < 0)
		return -1;
	if (!c->name)
		return bad_key(e, "name", "is required");
	if (!cni_valid_netname(c->name) || strlen(c->name) > 128)
		return bad_key(e, "name", "must match ^[a-zA-Z0-9][a-zA-Z0-9_.\\-]*$ (at most 128 characters)");
	if (!c->type || !*c->type)
		return bad_key(e, "type", "is required");
	return 0;
}

static int parse_link_keys(const cJSON *root, struct cni_conf *c, struct cni_err *e)
{
	const char *br = DEFAULT_BRIDGE;
	const cJSON *mtu = get(root, "mtu");

	if (str_key(root, "bridge", &br, e) < 0)
		return -1;
	if (!cni_valid_ifname(br))
		return bad_key(e, "bridge", "must be a valid interface name (1-15 characters)");
	strcpy(c->bridge, br);
	if (mtu) {
		if (!cJSON_IsNumber(mtu) || mtu->valuedouble < 68 || mtu->valuedouble > 65535 ||
		    mtu->valuedouble != (double)mtu->valueint)
			return bad_key(e, "mtu", "must be an integer from 68 to 65535");
		c->mtu = (unsigned int)mtu->valueint;
	}
	if (bool_key(root, "isGateway", &c->is_gateway, e) < 0 ||
	    bool_key(root, "ipMasq", &c->ip_masq, e) < 0)
		return -1;
	if (c->ip_masq)
		return cni_err_set(e, CNI_ERR_UNSUPPORTED_FIELD, "unsupported field",
				   "ipMasq: true is not supported by hostlane (chain the portmap/firewall plugins or masquerade on the node)");
	return 0;
}

/* The device fast paths' keys: "vf" (sriov-cni keys, checked by the agent),
 * "deviceID" (Multus: the device plugin's VF), and runtimeConfig's
 * CNIDeviceInfoFile (where the runtime wants the device-info file). */
static int parse_device_keys(const cJSON *root, struct cni_conf *c, struct cni_err *e)
{
	const cJSON *rc = get(root, "runtimeConfig");

	c->vf = get(root, "vf");
	if (c->vf && !cJSON_IsObject(c->vf))
		return bad_key(e, "vf", "must be an object (sriov-cni keys: vlan, mac, spoofchk, ...)");
	if (str_key(root, "deviceID", &c->device_id, e) < 0)
		return -1;
	if (cJSON_IsObject(rc) && str_key(rc, "CNIDeviceInfoFile", &c->devinfo_file, e) < 0)
		return -1;
	if (c->devinfo_file && c->devinfo_file[0] != '/')
		return bad_key(e, "runtimeConfig.CNIDeviceInfoFile", "must be an absolute path");
	return 0;
}

static int parse_misc(const cJSON *root, struct cni_conf *c, struct cni_err *e)
{
	const char *fp = NULL, *lvl = NULL;

	c->agent_socket = DEFAULT_AGENT_SOCKET;
	if (str_key(root, "agentSocket", &c->agent_socket, e) < 0 ||
	    str_key(root, "fastpath", &fp, e) < 0 || str_key(root, "logFile", &c->log_file, e) < 0 ||
	    str_key(root, "logLevel", &lvl, e) < 0)
		return -1;
	c->fastpath = CNI_FP_UNSET;
	if (fp && (c->fastpath = cni_fastpath_parse(fp)) == CNI_FP_UNSET)
		return cni_err_set(e, CNI_ERR_CONFIG, "invalid network configuration",
				   "fastpath: unknown value '%.32s' (none|shm|vhost-user|vf)", fp);
	/* agentSocket "" opts the network out of the agent: plain bridge
	 * networking, no fast path, STATUS independent of any agent. */
	if (c->agent_socket[0] == '\0' && c->fastpath != CNI_FP_UNSET && c->fastpath != CNI_FP_NONE)
		return cni_err_set(e, CNI_ERR_CONFIG, "invalid network configuration",
				   "fastpath: '%s' needs the hostlane agent, but agentSocket is empty",
				   cni_fastpath_str(c->fastpath));
	c->log_level = CNI_LOG_WARN;
	if (lvl && (c->log_level = cni_log_level_parse(lvl)) < 0)
		return bad_key(e, "logLevel", "must be error, warn, info or debug");
	return parse_device_keys(root, c, e);
}

static int parse_ipam(const cJSON *root, struct cni_conf *c, struct cni_err *e)
{
	const cJSON *ipam = get(root, "ipam");
	const cJSON *t;

	if (!ipam)
		return 0;
	if (!cJSON_IsObject(ipam))
		return bad_key(e, "ipam", "must be an object");
	t = get(ipam, "type");
	if (!t)
		return 0; /* "ipam": {} is what some chained configs carry */
	if (!cJSON_IsString(t) || !*t->valuestring || strchr(t->valuestring, '/') ||
	    strcmp(t->valuestring, ".") == 0 || strcmp(t->valuestring, "..") == 0)
		return bad_key(e, "ipam.type", "must be a plugin name (no '/')");
	c->ipam = ipam;
	c->ipam_type = t->valuestring;
	return 0;
}

static int parse_prev(const cJSON *root, enum cni_cmd cmd, struct cni_conf *c, struct cni_err *e)
{
	const cJSON *prev = get(root, "prevResult");
	struct cni_err ignored;

	if (!prev)
		return 0;
	if (cni_result_parse(prev, &c->prev, "prevResult", cmd == CNI_CMD_DEL ? &ignored : e) < 0) {
		cni_result_free(&c->prev);
		memset(&c->prev, 0, sizeof(c->prev));
		/* DEL must clean up even after a runtime stored garbage. */
		if (cmd == CNI_CMD_DEL) {
			cni_warn("DEL: ignoring unparsable prevResult: %s", ignored.details);
			return 0;
		}
		return -1;
	}
	c->has_prev = true;
	return 0;
}

static int parse_valid(const cJSON *root, enum cni_cmd cmd, struct cni_conf *c, struct cni_err *e)
{
	const cJSON *va = get(root, "cni.dev/valid-attachments"), *it;
	static const char key[] = "cni.dev/valid-attachments";

	if (cmd != CNI_CMD_GC)
		return 0;
	if (!va)
		return bad_key(e, key, "is required for GC");
	if (!cJSON_IsArray(va))
		return bad_key(e, key, "must be an array");
	c->valid = calloc((size_t)cJSON_GetArraySize(va) + 1, sizeof(*c->valid));
	if (!c->valid)
		return cni_err_set(e, CNI_ERR_INTERNAL, "out of memory", NULL);
	cJSON_ArrayForEach(it, va) {
		const cJSON *cid = get(it, "containerID"), *ifn = get(it, "ifname");

		if (!cJSON_IsString(cid) || !cJSON_IsString(ifn))
			return bad_key(e, key, "entries need string containerID and ifname");
		c->valid[c->n_valid].containerid = cid->valuestring;
		c->valid[c->n_valid].ifname = ifn->valuestring;
		c->n_valid++;
	}
	return 0;
}

int cni_conf_parse(const char *json, size_t len, enum cni_cmd cmd, struct cni_conf *c,
		   struct cni_err *e)
{
	memset(c, 0, sizeof(*c));
	c->version = -1;
	c->fastpath = CNI_FP_UNSET;
	c->root = cJSON_ParseWithLength(json, len);
	if (!c->root || !cJSON_IsObject(c->root))
		return cni_err_set(e, CNI_ERR_DECODE, "failed to decode network configuration",
				   "stdin is not a JSON object");
	if (parse_version(c->root, c, e) < 0 || check_cmd_version(c, cmd, e) < 0 ||
	    parse_identity(c->root, c, e) < 0 || parse_link_keys(c->root, c, e) < 0 ||
	    parse_misc(c->root, c, e) < 0 || parse_ipam(c->root, c, e) < 0 ||
	    parse_prev(c->root, cmd, c, e) < 0 || parse_valid(c->root, cmd, c, e) < 0)
		return -1;
	return 0;
}

void cni_conf_free(struct cni_conf *c)
{
	cni_result_free(&c->prev);
	free(c->valid);
	cJSON_Delete(c->root);
	memset(c, 0, sizeof(*c));
}

char *cni_conf_ipam_stdin(const struct cni_conf *c, int version)
{
	cJSON *copy = cJSON_Duplicate(c->root, 1);
	char vbuf[16], *s;

	if (!copy)
		return NULL;
	cJSON_DeleteItemFromObjectCaseSensitive(copy, "prevResult");
	cJSON_DeleteItemFromObjectCaseSensitive(copy, "cniVersion");
	cJSON_AddStringToObject(copy, "cniVersion", cni_version_str(version, vbuf, sizeof(vbuf)));
	s = cJSON_PrintUnformatted(copy);
	cJSON_Delete(copy);
	return s;
}

bool cni_attachment_valid(const struct cni_conf *c, const char *cid, const char *ifname)
{
	for (size_t i = 0; i < c->n_valid; i++)
		if (strcmp(c->valid[i].containerid, cid) == 0 &&
		    strcmp(c->valid[i].ifname, ifname) == 0)
			return true;
	return false;
}
