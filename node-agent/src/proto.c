/* SPDX-License-Identifier: Apache-2.0 */
/* Parsing and validation of untrusted plugin/ctl requests (fuzzed). */
#include "agent.h"

#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_VALID 4096

static const char *const op_names[HL_AGENT_OP_COUNT] = {
	"ADD", "DEL", "CHECK", "STATUS", "GC", "LIST", "GET", "METRICS", "VERSION", "CONNS",
};

const char *hl_agent_op_name(enum hl_agent_op op)
{
	return (unsigned)op < HL_AGENT_OP_COUNT ? op_names[op] : "?";
}

/* CNI's rule for container ids and network names: [A-Za-z0-9][A-Za-z0-9_.-]*. */
static bool valid_cni_name(const char *s)
{
	if (!isalnum((unsigned char)*s))
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("_.-", *s))
			return false;
	return true;
}

/* Kernel rule for interface names, as the CNI spec repeats it. */
static bool valid_ifname(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= HL_IFNAME_MAX || !strcmp(s, ".") || !strcmp(s, ".."))
		return false;
	for (; *s; s++)
		if (*s == '/' || *s == ':' || isspace((unsigned char)*s) || !isprint((unsigned char)*s))
			return false;
	return true;
}

static bool valid_path(const char *s)
{
	if (*s != '/')
		return false;
	for (; *s; s++)
		if (!isprint((unsigned char)*s))
			return false;
	return true;
}

/* Kubernetes object names and namespaces, and uids: printable, no '/'. */
static bool valid_k8s_name(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("_.-", *s))
			return false;
	return true;
}

static bool valid_ip(const char *s)
{
	char addr[HL_IP_MAX];
	unsigned char bin[16];
	const char *slash = strchr(s, '/');
	size_t n = slash ? (size_t)(slash - s) : strlen(s);
	int fam, max;
	char *end;
	long pfx;

	if (n >= sizeof(addr))
		return false;
	memcpy(addr, s, n);
	addr[n] = '\0';
	fam = strchr(addr, ':') ? AF_INET6 : AF_INET;
	if (inet_pton(fam, addr, bin) != 1)
		return false;
	if (!slash)
		return true;
	max = fam == AF_INET ? 32 : 128;
	if (!isdigit((unsigned char)slash[1]))
		return false;
	pfx = strtol(slash + 1, &end, 10);
	return *end == '\0' && pfx >= 0 && pfx <= max;
}

typedef bool (*validator)(const char *);

/*
 * Copies string field @key of @o into @dst. A missing field is fine unless
 * @required; a present one must be a string that fits and passes @check.
 */
static int get_str(const cJSON *o, const char *key, char *dst, size_t len, bool required,
		   validator check, char *err, size_t errlen)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	dst[0] = '\0';
	if (!v || cJSON_IsNull(v)) {
		if (!required)
			return 0;
		snprintf(err, errlen, "missing field \"%s\"", key);
		return -EINVAL;
	}
	if (!cJSON_IsString(v)) {
		snprintf(err, errlen, "field \"%s\" must be a string", key);
		return -EINVAL;
	}
	if (strlen(v->valuestring) >= len) {
		snprintf(err, errlen, "field \"%s\" is too long (max %zu bytes)", key, len - 1);
		return -EINVAL;
	}
	if (check && !check(v->valuestring)) {
		snprintf(err, errlen, "field \"%s\" has an invalid value", key);
		return -EINVAL;
	}
	memcpy(dst, v->valuestring, strlen(v->valuestring) + 1);
	return 0;
}

static int parse_pod(const cJSON *root, struct hl_request *r, char *err, size_t errlen)
{
	const cJSON *pod = cJSON_GetObjectItemCaseSensitive(root, "pod");

	if (!pod || cJSON_IsNull(pod))
		return 0;
	if (!cJSON_IsObject(pod)) {
		snprintf(err, errlen, "field \"pod\" must be an object");
		return -EINVAL;
	}
	if (get_str(pod, "namespace", r->pod_ns, sizeof(r->pod_ns), false, valid_k8s_name, err, errlen) ||
	    get_str(pod, "name", r->pod_name, sizeof(r->pod_name), false, valid_k8s_name, err, errlen) ||
	    get_str(pod, "uid", r->pod_uid, sizeof(r->pod_uid), false, valid_k8s_name, err, errlen))
		return -EINVAL;
	if (!r->pod_ns[0] != !r->pod_name[0]) {
		snprintf(err, errlen, "field \"pod\" needs both namespace and name");
		return -EINVAL;
	}
	return 0;
}

static int parse_ips(const cJSON *root, struct hl_request *r, char *err, size_t errlen)
{
	const cJSON *ips = cJSON_GetObjectItemCaseSensitive(root, "ips"), *v;

	if (!ips || cJSON_IsNull(ips))
		return 0;
	if (!cJSON_IsArray(ips)) {
		snprintf(err, errlen, "field \"ips\" must be an array of strings");
		return -EINVAL;
	}
	cJSON_ArrayForEach(v, ips) {
		if (r->n_ips == HLAGENT_MAX_IPS) {
			snprintf(err, errlen, "field \"ips\" has more than %d entries", HLAGENT_MAX_IPS);
			return -EINVAL;
		}
		if (!cJSON_IsString(v) || !valid_ip(v->valuestring)) {
			snprintf(err, errlen, "field \"ips\": entry %zu is not an IP address", r->n_ips);
			return -EINVAL;
		}
		snprintf(r->ips[r->n_ips++], HL_IP_MAX, "%s", v->valuestring);
	}
	return 0;
}

static bool printable(const char *s)
{
	for (; *s; s++)
		if (!isprint((unsigned char)*s))
			return false;
	return true;
}

static int parse_fastpath(const cJSON *root, struct hl_request *r, char *err, size_t errlen)
{
	const cJSON *fp = cJSON_GetObjectItemCaseSensitive(root, "fastpath");

	if (!fp || cJSON_IsNull(fp))
		return 0;
	if (!cJSON_IsObject(fp)) {
		snprintf(err, errlen, "field \"fastpath\" must be an object {\"cniArgs\", \"config\"}");
		return -EINVAL;
	}
	/* Values are checked by selection, which names the unknown one. */
	if (get_str(fp, "cniArgs", r->fp_args, sizeof(r->fp_args), false, printable, err, errlen) ||
	    get_str(fp, "config", r->fp_config, sizeof(r->fp_config), false, printable, err, errlen))
		return -EINVAL;
	return 0;
}

static int parse_valid(const cJSON *root, struct hl_request *r, char *err, size_t errlen)
{
	const cJSON *arr = cJSON_GetObjectItemCaseSensitive(root, "valid"), *v;
	int n;

	if (!cJSON_IsArray(arr)) {
		snprintf(err, errlen, "GC needs field \"valid\" (an array of attachments)");
		return -EINVAL;
	}
	n = cJSON_GetArraySize(arr);
	if (n > MAX_VALID) {
		snprintf(err, errlen, "field \"valid\" has more than %d entries", MAX_VALID);
		return -EINVAL;
	}
	r->valid = calloc((size_t)n + 1, sizeof(*r->valid));
	if (!r->valid)
		return -ENOMEM;
	cJSON_ArrayForEach(v, arr) {
		struct hl_valid *e = &r->valid[r->n_valid];

		if (!cJSON_IsObject(v) ||
		    get_str(v, "containerID", e->container_id, sizeof(e->container_id), true,
			    valid_cni_name, err, errlen) ||
		    get_str(v, "ifname", e->ifname, sizeof(e->ifname), true, valid_ifname, err, errlen)) {
			if (!cJSON_IsObject(v))
				snprintf(err, errlen, "field \"valid\": entry %zu is not an object", r->n_valid);
			return -EINVAL;
		}
		r->n_valid++;
	}
	return 0;
}

static bool valid_pci(const char *s)
{
	unsigned d, b, dev, f;
	char end;

	return sscanf(s, "%4x:%2x:%2x.%1x%c", &d, &b, &dev, &f, &end) == 4;
}

/* ADD's fast-path inputs: the "vf" object (checked by hl_vf_conf_parse when
 * used), the network's "mtu", a device plugin's "deviceID". */
static int parse_device_keys(const cJSON *root, struct hl_request *r, char *err, size_t errlen)
{
	const cJSON *vf = cJSON_GetObjectItemCaseSensitive(root, "vf");
	const cJSON *mtu = cJSON_GetObjectItemCaseSensitive(root, "mtu");

	if (vf && !cJSON_IsNull(vf)) {
		if (!cJSON_IsObject(vf)) {
			snprintf(err, errlen, "field \"vf\" must be an object");
			return -EINVAL;
		}
		r->vf_json = cJSON_PrintUnformatted(vf);
		if (!r->vf_json) {
			snprintf(err, errlen, "out of memory");
			return -EINVAL;
		}
	}
	if (mtu && !cJSON_IsNull(mtu)) {
		if (!cJSON_IsNumber(mtu) || mtu->valuedouble < 68 || mtu->valuedouble > 65535 ||
		    mtu->valuedouble != (double)(int)mtu->valuedouble) {
			snprintf(err, errlen, "field \"mtu\" must be an integer from 68 to 65535");
			return -EINVAL;
		}
		r->mtu = (unsigned)mtu->valuedouble;
	}
	return get_str(root, "deviceID", r->device_id, sizeof(r->device_id), false, valid_pci,
		       err, errlen);
}

static int parse_attachment(const cJSON *root, struct hl_request *r, char *err, size_t errlen)
{
	bool need_netns = r->op == HL_AGENT_OP_ADD || r->op == HL_AGENT_OP_CHECK;

	if (get_str(root, "network", r->network, sizeof(r->network), true, valid_cni_name, err, errlen) ||
	    get_str(root, "containerID", r->container_id, sizeof(r->container_id), true, valid_cni_name,
		    err, errlen) ||
	    get_str(root, "ifname", r->ifname, sizeof(r->ifname), true, valid_ifname, err, errlen) ||
	    get_str(root, "netns", r->netns, sizeof(r->netns), need_netns, valid_path, err, errlen))
		return -EINVAL;
	if (parse_pod(root, r, err, errlen) || parse_ips(root, r, err, errlen) ||
	    parse_fastpath(root, r, err, errlen))
		return -EINVAL;
	return r->op == HL_AGENT_OP_ADD ? parse_device_keys(root, r, err, errlen) : 0;
}

static int parse_op(const cJSON *root, struct hl_request *r, char *err, size_t errlen)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, "op");

	if (!cJSON_IsString(v)) {
		snprintf(err, errlen, "missing field \"op\"");
		return -EINVAL;
	}
	for (int i = 0; i < HL_AGENT_OP_COUNT; i++) {
		if (strcmp(v->valuestring, op_names[i]) == 0) {
			r->op = (enum hl_agent_op)i;
			return 0;
		}
	}
	snprintf(err, errlen, "unknown op \"%.32s\"", v->valuestring);
	return -EINVAL;
}

static int parse_version(const cJSON *root, char *err, size_t errlen)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, "hostlane");

	if (!cJSON_IsNumber(v)) {
		snprintf(err, errlen, "not a hostlane request: missing \"hostlane\" version field");
		return -EPROTO;
	}
	if (v->valuedouble != HLAGENT_PROTO_VERSION) {
		snprintf(err, errlen, "unsupported protocol version %g (this agent speaks %d)",
			 v->valuedouble, HLAGENT_PROTO_VERSION);
		return -EPROTO;
	}
	return 0;
}

static int parse_body(const cJSON *root, struct hl_request *r, char *err, size_t errlen)
{
	const cJSON *v;

	switch (r->op) {
	case HL_AGENT_OP_ADD: case HL_AGENT_OP_DEL: case HL_AGENT_OP_CHECK:
		return parse_attachment(root, r, err, errlen);
	case HL_AGENT_OP_GC:
		if (get_str(root, "network", r->network, sizeof(r->network), true, valid_cni_name, err, errlen))
			return -EINVAL;
		return parse_valid(root, r, err, errlen);
	case HL_AGENT_OP_GET:
		return get_str(root, "id", r->id, sizeof(r->id), true, printable, err, errlen);
	case HL_AGENT_OP_LIST: case HL_AGENT_OP_CONNS:
		v = cJSON_GetObjectItemCaseSensitive(root, "offset");
		if (v && (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > 1e9)) {
			snprintf(err, errlen, "field \"offset\" must be a number >= 0");
			return -EINVAL;
		}
		r->offset = v ? (long)v->valuedouble : 0;
		return 0;
	default:
		return 0;
	}
}

int hl_request_parse(const char *buf, size_t len, struct hl_request *r, char *err, size_t errlen)
{
	cJSON *root;
	int rc;

	memset(r, 0, sizeof(*r));
	if (len > HLAGENT_MAX_REQUEST) {
		snprintf(err, errlen, "request too large (%zu bytes, max %d)", len, HLAGENT_MAX_REQUEST);
		return -EMSGSIZE;
	}
	root = cJSON_ParseWithLength(buf, len);
	if (!cJSON_IsObject(root)) {
		snprintf(err, errlen, "request is not a JSON object");
		cJSON_Delete(root);
		return -EPROTO;
	}
	rc = parse_version(root, err, errlen);
	if (rc == 0)
		rc = parse_op(root, r, err, errlen);
	if (rc == 0)
		rc = parse_body(root, r, err, errlen);
	cJSON_Delete(root);
	return rc;
}

void hl_request_free(struct hl_request *r)
{
	free(r->vf_json);
	r->vf_json = NULL;
	free(r->valid);
	r->valid = NULL;
	r->n_valid = 0;
}

void hl_request_key(const struct hl_request *r, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s/%s", r->network, r->container_id, r->ifname);
}
