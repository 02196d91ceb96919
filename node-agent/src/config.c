/* SPDX-License-Identifier: Apache-2.0 */
#include "agent.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CONFIG_MAX (1 << 20)

void hl_config_defaults(struct hl_config *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->socket, sizeof(c->socket), "%s", HLAGENT_DEFAULT_SOCKET);
	snprintf(c->state_dir, sizeof(c->state_dir), "/var/lib/hostlane");
	snprintf(c->run_dir, sizeof(c->run_dir), "/run/hostlane");
	snprintf(c->sa_dir, sizeof(c->sa_dir), "/var/run/secrets/kubernetes.io/serviceaccount");
	if (gethostname(c->node_name, sizeof(c->node_name) - 1) < 0)
		c->node_name[0] = '\0';
	snprintf(c->cp_backend, sizeof(c->cp_backend), "software");
	c->log_format = HL_LOG_TEXT;
	c->log_level = HL_LOG_INFO;
	c->fastpath = HL_FP_NONE;
	c->default_quota = 64ull << 20;
	c->overcommit = HL_OVERCOMMIT_DEFAULT;
	snprintf(c->node_resource, sizeof(c->node_resource), "%s", "hostlane.io/shm");
	c->max_quota = 256ull << 20;
	c->workers = 8;
	c->k8s_timeout_ms = 2000;
	c->request_timeout_ms = 10000;
	c->sweep_ms = 10000;
	c->unknown_policies_check_s = 30;
	c->busy_poll_us = 0;
	snprintf(c->vhost.socket_dir, sizeof(c->vhost.socket_dir), "/run/hostlane/pods");
	snprintf(c->vhost.ovs_bridge, sizeof(c->vhost.ovs_bridge), "br0");
	c->vhost.lcore = -1;
	snprintf(c->vf.sysfs_root, sizeof(c->vf.sysfs_root), "/sys");
	c->vf.pf_settings = true;
}

static int set_str(char *dst, size_t len, const char *v, const char *what, char *err, size_t errlen)
{
	if (strlen(v) >= len) {
		snprintf(err, errlen, "%s is too long (max %zu bytes)", what, len - 1);
		return -EINVAL;
	}
	memcpy(dst, v, strlen(v) + 1);
	return 0;
}

static int set_quantity(uint64_t *dst, const char *v, const char *what, char *err, size_t errlen)
{
	if (hl_quantity_parse(v, dst) < 0) {
		snprintf(err, errlen, "%s: invalid quantity \"%s\" (e.g. 64Mi, 1Gi, 2097152)", what, v);
		return -EINVAL;
	}
	return 0;
}

static int set_format(enum hl_log_format *dst, const char *v, char *err, size_t errlen)
{
	if (strcmp(v, "text") == 0)
		*dst = HL_LOG_TEXT;
	else if (strcmp(v, "json") == 0)
		*dst = HL_LOG_JSON;
	else {
		snprintf(err, errlen, "logFormat: \"%s\" is not text or json", v);
		return -EINVAL;
	}
	return 0;
}

static int set_level(enum hl_log_level *dst, const char *v, char *err, size_t errlen)
{
	if (hl_log_parse_level(v, dst) < 0) {
		snprintf(err, errlen, "logLevel: \"%s\" is not error, warn, info or debug", v);
		return -EINVAL;
	}
	return 0;
}

static int set_fastpath(enum hl_fastpath *dst, const char *v, char *err, size_t errlen)
{
	if (hl_fastpath_parse(v, dst) < 0) {
		snprintf(err, errlen, "fastpath: unknown fast path \"%s\" (none, shm, vhost-user, vf)", v);
		return -EINVAL;
	}
	return 0;
}

/* Numbers in the config: whole, within [lo, hi]. */
static int set_long(long *dst, const cJSON *v, long lo, long hi, const char *what, char *err, size_t errlen)
{
	if (!cJSON_IsNumber(v) || v->valuedouble != (double)(long)v->valuedouble ||
	    v->valuedouble < lo || v->valuedouble > hi) {
		snprintf(err, errlen, "%s must be a whole number in [%ld, %ld]", what, lo, hi);
		return -EINVAL;
	}
	*dst = (long)v->valuedouble;
	return 0;
}

struct str_key {
	const char *name;
	size_t off, len;
};

#define SK(n, f) { n, offsetof(struct hl_config, f), sizeof(((struct hl_config *)0)->f) }
static const struct str_key str_keys[] = {
	SK("nodeName", node_name), SK("socket", socket), SK("stateDir", state_dir),
	SK("runDir", run_dir), SK("kubeconfig", kubeconfig), SK("serviceAccountDir", sa_dir),
	SK("metricsAddr", metrics_addr), SK("nodeResource", node_resource),
};

static int apply_string(struct hl_config *c, const char *k, const char *s, char *err, size_t errlen)
{
	for (size_t i = 0; i < sizeof(str_keys) / sizeof(str_keys[0]); i++)
		if (strcmp(k, str_keys[i].name) == 0)
			return set_str((char *)c + str_keys[i].off, str_keys[i].len, s, k, err, errlen);
	if (strcmp(k, "logFormat") == 0)
		return set_format(&c->log_format, s, err, errlen);
	if (strcmp(k, "logLevel") == 0)
		return set_level(&c->log_level, s, err, errlen);
	if (strcmp(k, "fastpath") == 0)
		return set_fastpath(&c->fastpath, s, err, errlen);
	if (strcmp(k, "networkPolicy") == 0) {
		if (strcmp(s, "enforce") && strcmp(s, "off")) {
			snprintf(err, errlen, "networkPolicy: \"%s\" is not \"enforce\" or \"off\"", s);
			return -EINVAL;
		}
		c->netpol_off = !strcmp(s, "off");
		return 0;
	}
	if (strcmp(k, "unknownPolicies") == 0) {
		if (strcmp(s, "kernel") && strcmp(s, "ignore")) {
			snprintf(err, errlen, "unknownPolicies: \"%s\" is not \"kernel\" or \"ignore\"", s);
			return -EINVAL;
		}
		c->unknown_policies_ignore = !strcmp(s, "ignore");
		return 0;
	}
	return 1;
}

/* hugepages.namespaceQuota: {"namespace": quantity}, a namespace's default
 * over defaultQuota (a pod's hostlane.io/hugepages still wins). */
static int apply_ns_quota(struct hl_config *c, const cJSON *o, char *err, size_t errlen)
{
	const cJSON *it;

	if (!cJSON_IsObject(o)) {
		snprintf(err, errlen, "hugepages.namespaceQuota must be an object {\"namespace\": \"64Mi\"}");
		return -EINVAL;
	}
	c->n_ns_quota = 0;
	cJSON_ArrayForEach(it, o) {
		struct hl_ns_quota *q = &c->ns_quota[c->n_ns_quota];
		char what[128];

		snprintf(what, sizeof(what), "hugepages.namespaceQuota.%.64s", it->string);
		if (c->n_ns_quota == HL_NS_QUOTA_MAX || !it->string[0] || strlen(it->string) >= sizeof(q->ns)) {
			snprintf(err, errlen, "%s: at most %d namespaces, names of 1 to %zu bytes", what,
				 HL_NS_QUOTA_MAX, sizeof(q->ns) - 1);
			return -EINVAL;
		}
		if (set_quantity(&q->bytes, cJSON_IsString(it) ? it->valuestring : "?", what, err, errlen) < 0)
			return -EINVAL;
		snprintf(q->ns, sizeof(q->ns), "%s", it->string);
		c->n_ns_quota++;
	}
	return 0;
}

uint64_t hl_config_default_quota(const struct hl_config *c, const char *ns)
{
	for (size_t i = 0; ns && i < c->n_ns_quota; i++)
		if (strcmp(c->ns_quota[i].ns, ns) == 0)
			return c->ns_quota[i].bytes;
	return c->default_quota;
}

static int apply_hugepages(struct hl_config *c, const cJSON *o, char *err, size_t errlen)
{
	const cJSON *it;

	if (!cJSON_IsObject(o)) {
		snprintf(err, errlen, "hugepages must be an object {\"pool\": ..., \"defaultQuota\": ..., "
			 "\"maxQuota\": ..., \"overcommit\": N, \"namespaceQuota\": {...}}");
		return -EINVAL;
	}
	cJSON_ArrayForEach(it, o) {
		uint64_t *dst = strcmp(it->string, "pool") == 0 ? &c->pool_bytes :
				strcmp(it->string, "defaultQuota") == 0 ? &c->default_quota :
				strcmp(it->string, "maxQuota") == 0 ? &c->max_quota : NULL;
		char num[32];
		const char *v = num;

		if (strcmp(it->string, "overcommit") == 0) {
			/* A whole factor: pool x overcommit bytes of quotas. */
			if (!cJSON_IsNumber(it) || it->valuedouble < 1 || it->valuedouble > 1024 ||
			    it->valuedouble != (double)(unsigned)it->valuedouble) {
				snprintf(err, errlen, "hugepages.overcommit must be a whole number from 1 to 1024");
				return -EINVAL;
			}
			c->overcommit = (unsigned)it->valuedouble;
			continue;
		}
		if (strcmp(it->string, "namespaceQuota") == 0) {
			if (apply_ns_quota(c, it, err, errlen) < 0)
				return -EINVAL;
			continue;
		}
		if (!dst) {
			snprintf(err, errlen, "hugepages.%s: unknown key", it->string);
			return -EINVAL;
		}
		/* Quantities as strings ("64Mi") or plain byte counts. */
		if (cJSON_IsString(it))
			v = it->valuestring;
		else if (cJSON_IsNumber(it) && it->valuedouble >= 0 && it->valuedouble < 9e15)
			snprintf(num, sizeof(num), "%.0f", it->valuedouble);
		else
			v = "?";
		if (set_quantity(dst, v, it->string, err, errlen) < 0)
			return -EINVAL;
	}
	if (c->default_quota > c->max_quota) {
		snprintf(err, errlen, "hugepages.defaultQuota is above hugepages.maxQuota");
		return -EINVAL;
	}
	for (size_t i = 0; i < c->n_ns_quota; i++) {
		if (c->ns_quota[i].bytes > c->max_quota) {
			snprintf(err, errlen, "hugepages.namespaceQuota.%s is above hugepages.maxQuota",
				 c->ns_quota[i].ns);
			return -EINVAL;
		}
	}
	return 0;
}

/* A string member of a section object into @dst. */
static int sect_str(const cJSON *it, const char *sect, char *dst, size_t len, char *err, size_t errlen)
{
	char what[64];

	snprintf(what, sizeof(what), "%s.%s", sect, it->string);
	if (!cJSON_IsString(it) || !it->valuestring[0]) {
		snprintf(err, errlen, "%s must be a non-empty string", what);
		return -EINVAL;
	}
	return set_str(dst, len, it->valuestring, what, err, errlen);
}

/* A string array member (switchArgs, pfs) into fixed slots. */
static int sect_strs(const cJSON *it, const char *sect, char *dst, size_t slot, size_t max,
		     size_t *n, char *err, size_t errlen)
{
	const cJSON *v;

	*n = 0;
	if (!cJSON_IsArray(it)) {
		snprintf(err, errlen, "%s.%s must be an array of strings", sect, it->string);
		return -EINVAL;
	}
	cJSON_ArrayForEach(v, it) {
		if (*n == max) {
			snprintf(err, errlen, "%s.%s: at most %zu entries", sect, it->string, max);
			return -EINVAL;
		}
		if (sect_str(v, sect, dst + *n * slot, slot, err, errlen) < 0) {
			snprintf(err, errlen, "%s.%s: entry %zu must be a string of at most %zu bytes",
				 sect, it->string, *n, slot - 1);
			return -EINVAL;
		}
		(*n)++;
	}
	return 0;
}

static int vhost_key(struct hl_vhost_cfg *v, const cJSON *it, char *err, size_t errlen)
{
	const char *k = it->string;
	long n;

	if (strcmp(k, "backend") == 0) {
		if (!cJSON_IsString(it) || (strcmp(it->valuestring, "builtin") &&
					    strcmp(it->valuestring, "ovs-dpdk") &&
					    strcmp(it->valuestring, "external"))) {
			snprintf(err, errlen, "vhostUser.backend must be \"builtin\", \"external\" or \"ovs-dpdk\"");
			return -EINVAL;
		}
		v->ovs = strcmp(it->valuestring, "ovs-dpdk") == 0;
		v->external = strcmp(it->valuestring, "external") == 0;
		return 0;
	}
	if (strcmp(k, "socketDir") == 0) {
		if (!cJSON_IsString(it) || it->valuestring[0] != '/') {
			snprintf(err, errlen, "vhostUser.socketDir must be an absolute path");
			return -EINVAL;
		}
		return sect_str(it, "vhostUser", v->socket_dir, sizeof(v->socket_dir), err, errlen);
	}
	if (strcmp(k, "lcore") == 0) {
		if (set_long(&n, it, 0, 1023, "vhostUser.lcore", err, errlen) < 0)
			return -EINVAL;
		v->lcore = (int)n;
		return 0;
	}
	if (strcmp(k, "switchArgs") == 0)
		return sect_strs(it, "vhostUser", &v->args[0][0], sizeof(v->args[0]), HL_VSW_EXTRA_MAX,
				 &v->n_args, err, errlen);
	if (strcmp(k, "ovsBridge") == 0)
		return sect_str(it, "vhostUser", v->ovs_bridge, sizeof(v->ovs_bridge), err, errlen);
	if (strcmp(k, "switchBinary") == 0)
		return sect_str(it, "vhostUser", v->binary, sizeof(v->binary), err, errlen);
	if (strcmp(k, "switchSocket") == 0) {
		if (!cJSON_IsString(it) || it->valuestring[0] != '/') {
			snprintf(err, errlen, "vhostUser.switchSocket must be an absolute path");
			return -EINVAL;
		}
		return sect_str(it, "vhostUser", v->switch_socket, sizeof(v->switch_socket), err, errlen);
	}
	snprintf(err, errlen, "vhostUser.%s: unknown key", k);
	return -EINVAL;
}

static int vf_key(struct hl_vf_cfg *v, const cJSON *it, char *err, size_t errlen)
{
	const char *k = it->string;

	if (strcmp(k, "sysfsRoot") == 0)
		return sect_str(it, "vf", v->sysfs_root, sizeof(v->sysfs_root), err, errlen);
	if (strcmp(k, "stateDir") == 0)
		return sect_str(it, "vf", v->state_dir, sizeof(v->state_dir), err, errlen);
	if (strcmp(k, "pfs") == 0)
		return sect_strs(it, "vf", &v->pfs[0][0], sizeof(v->pfs[0]), HL_VF_PFS_MAX, &v->n_pfs,
				 err, errlen);
	if (strcmp(k, "pfSettings") == 0 && cJSON_IsBool(it)) {
		v->pf_settings = cJSON_IsTrue(it);
		return 0;
	}
	snprintf(err, errlen, "vf.%s: unknown key, or not of the right type", k);
	return -EINVAL;
}

/* Presence of the section turns the fast path on; its keys refine it. */
static int apply_section(struct hl_config *c, const cJSON *o, char *err, size_t errlen)
{
	bool vhost = strcmp(o->string, "vhostUser") == 0;
	const cJSON *it;
	int rc = 0;

	if (cJSON_IsNull(o))
		return 0;
	if (!cJSON_IsObject(o)) {
		snprintf(err, errlen, "%s must be an object", o->string);
		return -EINVAL;
	}
	cJSON_ArrayForEach(it, o) {
		rc = vhost ? vhost_key(&c->vhost, it, err, errlen) : vf_key(&c->vf, it, err, errlen);
		if (rc < 0)
			return rc;
	}
	if (vhost) {
		c->vhost.enabled = true;
		return 0;
	}
	if (c->vf.n_pfs == 0) {
		snprintf(err, errlen, "vf.pfs must name at least one PF");
		return -EINVAL;
	}
	c->vf.enabled = true;
	return 0;
}

static int apply_pod_limits(struct hl_config *c, const cJSON *o, char *err, size_t errlen)
{
	static const struct { const char *name; size_t off; } keys[] = {
		{ "clients", offsetof(struct hl_config, pod_clients) },
		{ "fds", offsetof(struct hl_config, pod_fds) },
		{ "regions", offsetof(struct hl_config, pod_regions) },
		{ "events", offsetof(struct hl_config, pod_events) },
	};
	const cJSON *it;

	if (!cJSON_IsObject(o)) {
		snprintf(err, errlen, "podLimits must be an object {\"clients\", \"fds\", \"regions\", \"events\"}");
		return -EINVAL;
	}
	cJSON_ArrayForEach(it, o) {
		size_t i = 0;
		char what[64];
		long v;

		while (i < sizeof(keys) / sizeof(keys[0]) && strcmp(keys[i].name, it->string))
			i++;
		if (i == sizeof(keys) / sizeof(keys[0])) {
			snprintf(err, errlen, "podLimits.%s: unknown key", it->string);
			return -EINVAL;
		}
		snprintf(what, sizeof(what), "podLimits.%s", it->string);
		if (set_long(&v, it, 1, 1 << 20, what, err, errlen) < 0)
			return -EINVAL;
		*(unsigned *)((char *)c + keys[i].off) = (unsigned)v;
	}
	return 0;
}

static int apply_key(struct hl_config *c, const cJSON *it, char *err, size_t errlen)
{
	const char *k = it->string;
	long n;
	int rc;

	if (cJSON_IsString(it)) {
		rc = apply_string(c, k, it->valuestring, err, errlen);
		if (rc <= 0)
			return rc;
	}
	if (strcmp(k, "hugepages") == 0)
		return apply_hugepages(c, it, err, errlen);
	if (strcmp(k, "podLimits") == 0)
		return apply_pod_limits(c, it, err, errlen);
	if (strcmp(k, "controlPlane") == 0)
		return hl_config_control_plane(c, it, err, errlen);
	if (strcmp(k, "vhostUser") == 0 || strcmp(k, "vf") == 0)
		return apply_section(c, it, err, errlen);
	if (strcmp(k, "workers") == 0) {
		if (set_long(&n, it, 1, 256, k, err, errlen) < 0)
			return -EINVAL;
		c->workers = (unsigned)n;
		return 0;
	}
	if (strcmp(k, "k8sTimeoutMs") == 0)
		return set_long(&c->k8s_timeout_ms, it, 1, 600000, k, err, errlen);
	if (strcmp(k, "requestTimeoutMs") == 0)
		return set_long(&c->request_timeout_ms, it, 1, 600000, k, err, errlen);
	if (strcmp(k, "busyPollUs") == 0)
		return set_long(&c->busy_poll_us, it, 0, 1000000, k, err, errlen);
	if (strcmp(k, "sweepIntervalMs") == 0)
		return set_long(&c->sweep_ms, it, 0, 86400000, k, err, errlen);
	if (strcmp(k, "unknownPoliciesCheckSeconds") == 0)
		return set_long(&c->unknown_policies_check_s, it, 1, 86400, k, err, errlen);
	if (cJSON_IsString(it))
		snprintf(err, errlen, "unknown config key \"%s\"", k);
	else
		snprintf(err, errlen, "config key \"%s\": unknown, or not of the right type", k);
	return -EINVAL;
}

int hl_config_parse_json(struct hl_config *c, const char *text, size_t len, char *err, size_t errlen)
{
	cJSON *root = cJSON_ParseWithLength(text, len), *it;
	int rc = 0;

	if (!cJSON_IsObject(root)) {
		snprintf(err, errlen, "config is not a JSON object");
		cJSON_Delete(root);
		return -EINVAL;
	}
	cJSON_ArrayForEach(it, root) {
		rc = apply_key(c, it, err, errlen);
		if (rc < 0)
			break;
	}
	cJSON_Delete(root);
	return rc;
}

int hl_config_load_file(struct hl_config *c, const char *path, char *err, size_t errlen)
{
	char *buf = malloc(CONFIG_MAX + 1);
	ssize_t n = 0, r;
	int fd, rc;

	if (!buf)
		return -ENOMEM;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "cannot open config %s: %s", path, strerror(errno));
		free(buf);
		return rc;
	}
	while (n < CONFIG_MAX && (r = read(fd, buf + n, (size_t)(CONFIG_MAX - n))) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = -errno;
			snprintf(err, errlen, "cannot read config %s: %s", path, strerror(errno));
			goto out;
		}
		n += r;
	}
	rc = hl_config_parse_json(c, buf, (size_t)n, err, errlen);
out:
	close(fd);
	free(buf);
	return rc;
}

static const struct option long_opts[] = {
	{ "config", required_argument, NULL, 'c' },
	{ "socket", required_argument, NULL, 's' },
	{ "state-dir", required_argument, NULL, 'S' },
	{ "run-dir", required_argument, NULL, 'R' },
	{ "node-name", required_argument, NULL, 'n' },
	{ "kubeconfig", required_argument, NULL, 'k' },
	{ "metrics-addr", required_argument, NULL, 'm' },
	{ "log-format", required_argument, NULL, 'f' },
	{ "log-level", required_argument, NULL, 'l' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ "check-config", no_argument, NULL, 'K' },
	{ NULL, 0, NULL, 0 },
};

static void usage(void)
{
	printf("usage: hostlaned [options]\n"
	       "  --config FILE         JSON config file (re-read on SIGHUP)\n"
	       "  --socket PATH         plugin socket (default %s)\n"
	       "  --state-dir DIR       persisted pod state (default /var/lib/hostlane)\n"
	       "  --run-dir DIR         runtime files (default /run/hostlane)\n"
	       "  --node-name NAME      this node (default: hostname)\n"
	       "  --kubeconfig FILE     Kubernetes API access (default: in-cluster if\n"
	       "                        KUBERNETES_SERVICE_HOST is set, else none)\n"
	       "  --metrics-addr H:P    serve /metrics, /healthz, /readyz\n"
	       "  --log-format text|json, --log-level error|warn|info|debug\n"
	       "  --check-config        parse the config and flags, say what is wrong, exit\n"
	       "  --version, --help\n", HLAGENT_DEFAULT_SOCKET);
}

static int apply_flag(struct hl_config *c, int opt, const char *v, char *err, size_t errlen)
{
	switch (opt) {
	case 'c': return set_str(c->config_file, sizeof(c->config_file), v, "--config", err, errlen);
	case 's': return set_str(c->socket, sizeof(c->socket), v, "--socket", err, errlen);
	case 'S': return set_str(c->state_dir, sizeof(c->state_dir), v, "--state-dir", err, errlen);
	case 'R': return set_str(c->run_dir, sizeof(c->run_dir), v, "--run-dir", err, errlen);
	case 'n': return set_str(c->node_name, sizeof(c->node_name), v, "--node-name", err, errlen);
	case 'k': return set_str(c->kubeconfig, sizeof(c->kubeconfig), v, "--kubeconfig", err, errlen);
	case 'm': return set_str(c->metrics_addr, sizeof(c->metrics_addr), v, "--metrics-addr", err, errlen);
	case 'f': return set_format(&c->log_format, v, err, errlen);
	case 'l': return set_level(&c->log_level, v, err, errlen);
	case 'K': c->check_only = true; return 0;
	}
	snprintf(err, errlen, "unknown option (see --help)");
	return -EINVAL;
}

int hl_config_parse_args(struct hl_config *c, int argc, char **argv, char *err, size_t errlen)
{
	int opt, rc;

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "", long_opts, NULL)) != -1) {
		if (opt == 'h') {
			usage();
			return 1;
		}
		if (opt == 'V') {
			printf("hostlaned %s (protocol %d)\n", HL_AGENT_VERSION, HLAGENT_PROTO_VERSION);
			return 1;
		}
		if (opt == '?' || opt == ':') {
			snprintf(err, errlen, "bad option %s (see --help)", argv[optind - 1]);
			return -EINVAL;
		}
		rc = apply_flag(c, opt, optarg, err, errlen);
		if (rc < 0)
			return rc;
	}
	if (optind < argc) {
		snprintf(err, errlen, "unexpected argument \"%s\"", argv[optind]);
		return -EINVAL;
	}
	return 0;
}

int hl_config_build(struct hl_config *c, int argc, char **argv, char *err, size_t errlen)
{
	struct hl_config flags;
	int rc;

	/* The flags are parsed twice: once to find --config, then over the file. */
	hl_config_defaults(&flags);
	rc = hl_config_parse_args(&flags, argc, argv, err, errlen);
	if (rc != 0)
		return rc;
	hl_config_defaults(c);
	if (flags.config_file[0]) {
		rc = hl_config_load_file(c, flags.config_file, err, errlen);
		if (rc < 0)
			return rc;
	}
	return hl_config_parse_args(c, argc, argv, err, errlen);
}
