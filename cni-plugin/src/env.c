/* SPDX-License-Identifier: Apache-2.0 */
/* CNI_* environment: which variables each command needs, and their rules. */
#include "cni.h"

#include <ctype.h>
#include <string.h>

static const struct {
	const char *name;
	enum cni_cmd cmd;
} commands[] = {
	{ "ADD", CNI_CMD_ADD }, { "DEL", CNI_CMD_DEL }, { "CHECK", CNI_CMD_CHECK },
	{ "STATUS", CNI_CMD_STATUS }, { "GC", CNI_CMD_GC }, { "VERSION", CNI_CMD_VERSION },
};

enum cni_cmd cni_cmd_parse(const char *s)
{
	for (size_t i = 0; s && i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(s, commands[i].name) == 0)
			return commands[i].cmd;
	return CNI_CMD_NONE;
}

/* ^[a-zA-Z0-9][a-zA-Z0-9_.\-]*$ : the spec's container ID and network name. */
static bool valid_ident(const char *s)
{
	if (!s || !isalnum((unsigned char)s[0]))
		return false;
	for (s++; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_' && *s != '.' && *s != '-')
			return false;
	return true;
}

bool cni_valid_containerid(const char *s)
{
	return valid_ident(s);
}

bool cni_valid_netname(const char *s)
{
	return valid_ident(s);
}

bool cni_valid_ifname(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n == 0 || n >= IF_NAMESIZE || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
		return false;
	for (; *s; s++)
		if (*s == '/' || *s == ':' || isspace((unsigned char)*s))
			return false;
	return true;
}

static const char *const fastpaths[] = { "none", "shm", "vhost-user", "vf" };

enum cni_fastpath cni_fastpath_parse(const char *s)
{
	for (int i = 0; s && i < 4; i++)
		if (strcmp(s, fastpaths[i]) == 0)
			return (enum cni_fastpath)i;
	return CNI_FP_UNSET;
}

const char *cni_fastpath_str(enum cni_fastpath fp)
{
	return fp >= CNI_FP_NONE && fp <= CNI_FP_VF ? fastpaths[fp] : "unset";
}

/* CNI_ARGS is "K=V;K=V". Only HOSTLANE_FASTPATH is ours; others are ignored
 * as runtimes pass K8S_POD_* and IgnoreUnknown freely. */
static int parse_args(struct cni_env *env, struct cni_err *e)
{
	const char *p = env->args;
	static const char key[] = "HOSTLANE_FASTPATH=";

	env->fastpath = CNI_FP_UNSET;
	while (p && *p) {
		const char *end = strchr(p, ';');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		const char *eq = memchr(p, '=', len);

		if (!eq || eq == p)
			return cni_err_set(e, CNI_ERR_ENV, "invalid CNI_ARGS",
					   "CNI_ARGS: pair '%.*s' is not KEY=VALUE", (int)len, p);
		if (len >= sizeof(key) - 1 && strncmp(p, key, sizeof(key) - 1) == 0) {
			char v[32];
			size_t vl = len - (sizeof(key) - 1);

			if (vl >= sizeof(v))
				vl = sizeof(v) - 1;
			memcpy(v, p + sizeof(key) - 1, vl);
			v[vl] = '\0';
			env->fastpath = cni_fastpath_parse(v);
			if (env->fastpath == CNI_FP_UNSET)
				return cni_err_set(e, CNI_ERR_CONFIG, "invalid fast path",
						   "CNI_ARGS HOSTLANE_FASTPATH: unknown value '%s' (none|shm|vhost-user|vf)",
						   v);
		}
		p = end ? end + 1 : NULL;
	}
	return 0;
}

static int missing(struct cni_err *e, const char *var)
{
	return cni_err_set(e, CNI_ERR_ENV, "missing environment variable",
			   "%s is required for this command", var);
}

int cni_env_load(struct cni_env *env, const char *(*get)(const char *), struct cni_err *e)
{
	bool need_ctr, need_ns;

	memset(env, 0, sizeof(*env));
	env->fastpath = CNI_FP_UNSET;
	env->command = get("CNI_COMMAND");
	if (!env->command || !*env->command)
		return missing(e, "CNI_COMMAND");
	env->cmd = cni_cmd_parse(env->command);
	if (env->cmd == CNI_CMD_NONE)
		return cni_err_set(e, CNI_ERR_ENV, "invalid environment variable",
				   "CNI_COMMAND: unknown command '%.64s'", env->command);
	if (env->cmd == CNI_CMD_VERSION)
		return 0;
	env->containerid = get("CNI_CONTAINERID");
	env->netns = get("CNI_NETNS");
	env->ifname = get("CNI_IFNAME");
	env->path = get("CNI_PATH");
	env->args = get("CNI_ARGS");
	if (env->netns && !*env->netns)
		env->netns = NULL;
	need_ctr = env->cmd == CNI_CMD_ADD || env->cmd == CNI_CMD_DEL || env->cmd == CNI_CMD_CHECK;
	need_ns = env->cmd == CNI_CMD_ADD || env->cmd == CNI_CMD_CHECK;
	if (need_ctr) {
		if (!env->containerid || !*env->containerid)
			return missing(e, "CNI_CONTAINERID");
		/* DEL must clean up whatever the runtime once added, so it only
		 * refuses what cannot be a file or link name component. */
		if ((env->cmd != CNI_CMD_DEL && !cni_valid_containerid(env->containerid)) ||
		    strchr(env->containerid, '/') || strchr(env->containerid, ':'))
			return cni_err_set(e, CNI_ERR_ENV, "invalid environment variable",
					   "CNI_CONTAINERID: '%.128s' must match ^[a-zA-Z0-9][a-zA-Z0-9_.\\-]*$",
					   env->containerid);
		if (!env->ifname || !*env->ifname)
			return missing(e, "CNI_IFNAME");
		if (!cni_valid_ifname(env->ifname))
			return cni_err_set(e, CNI_ERR_ENV, "invalid environment variable",
					   "CNI_IFNAME: '%.64s' must be 1-15 characters without '/', ':' or whitespace and not '.' or '..'",
					   env->ifname);
	}
	if (need_ns && !env->netns)
		return missing(e, "CNI_NETNS");
	if (!env->path || !*env->path)
		return missing(e, "CNI_PATH");
	return parse_args(env, e);
}
