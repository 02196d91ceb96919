/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The plugin's calls to the node agent (hostlaned) over libhlagent: ADD
 * records every pod (fast path or not) and extends the result with the
 * fast-path endpoint; DEL, CHECK, STATUS and GC follow. When the agent is
 * unreachable: ADD fails with 11 (try again later) whatever CNI_ARGS and
 * the config select, since the pod's annotation (which only the agent
 * reads) may ask for a fast path: a pod created while the agent is down
 * is retried by the runtime and gets its fast path once the agent is back,
 * never silently none; DEL fails with 11 unless the fast path selected by
 * CNI_ARGS/config is none; STATUS reports 50, so that the runtime holds
 * ADDs back until the agent is there; GC goes on with a warning (the agent
 * releases what it holds for a vanished netns when it starts again).
 * A network with "agentSocket": "" does not use the agent at all.
 */
#include "hl_util.h"
#include "cni.h"
#include "hlagent.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define AGENT_TIMEOUT_MS 30000

/* Value of KEY in CNI_ARGS ("K=V;K=V") into @buf; "" when absent. */
static const char *cni_arg(const char *args, const char *key, char *buf, size_t len)
{
	size_t kl = strlen(key);

	buf[0] = '\0';
	for (const char *p = args; p && *p;) {
		const char *end = strchr(p, ';');
		size_t n = end ? (size_t)(end - p) : strlen(p);

		if (n > kl && strncmp(p, key, kl) == 0 && p[kl] == '=') {
			snprintf(buf, len, "%.*s", (int)(n - kl - 1), p + kl + 1);
			break;
		}
		p = end ? end + 1 : NULL;
	}
	return buf;
}

/* "agentSocket": "" — the network runs without the agent. */
static bool agent_disabled(const struct cni_ctx *x)
{
	return x->conf.agent_socket[0] == '\0';
}

struct agent_req {
	char ns[256], name[256], uid[128];
	char ips[CNI_MAX_IPS][INET6_ADDRSTRLEN + 5];
	const char *ip_ptrs[HLAGENT_MAX_IPS];
	struct hlagent_attachment a;
};

static void build(struct cni_ctx *x, const struct cni_result *r, struct agent_req *q)
{
	memset(q, 0, sizeof(*q));
	q->a.network = x->conf.name;
	q->a.container_id = x->env.containerid;
	q->a.ifname = x->env.ifname;
	q->a.netns = x->env.netns;
	q->a.k8s_namespace = cni_arg(x->env.args, "K8S_POD_NAMESPACE", q->ns, sizeof(q->ns));
	q->a.k8s_name = cni_arg(x->env.args, "K8S_POD_NAME", q->name, sizeof(q->name));
	q->a.k8s_uid = cni_arg(x->env.args, "K8S_POD_UID", q->uid, sizeof(q->uid));
	/* A pod has both; podman passes K8S_POD_NAME alone (the container's
	 * name): no Kubernetes pod, no annotations to read. */
	if (!q->ns[0] || !q->name[0])
		q->ns[0] = q->name[0] = q->uid[0] = '\0';
	if (x->env.fastpath != CNI_FP_UNSET)
		q->a.fastpath_args = cni_fastpath_str(x->env.fastpath);
	if (x->conf.fastpath != CNI_FP_UNSET)
		q->a.fastpath_config = cni_fastpath_str(x->conf.fastpath);
	for (int i = 0; r && i < r->n_ips && q->a.n_ips < HLAGENT_MAX_IPS; i++) {
		char a[INET6_ADDRSTRLEN];

		if (!inet_ntop(r->ips[i].family, r->ips[i].addr, a, sizeof(a)))
			continue;
		snprintf(q->ips[q->a.n_ips], sizeof(q->ips[0]), "%s/%d", a, r->ips[i].prefix);
		q->ip_ptrs[q->a.n_ips] = q->ips[q->a.n_ips];
		q->a.n_ips++;
	}
	q->a.ips = q->ip_ptrs;
}

static int unreachable(struct cni_ctx *x, const char *op, int rc, struct cni_err *e)
{
	char msg[256];

	hlagent_strerror(rc, x->conf.agent_socket, msg, sizeof(msg));
	return cni_err_set(e, hlagent_cni_code(rc, op),
			   strcmp(op, "STATUS") ? "hostlane agent unavailable, try again later"
						: "hostlane agent unavailable",
			   "%s %s: %s", op, x->env.containerid ? x->env.containerid : "", msg);
}

static int refused(const struct hlagent_reply *rep, const char *op, struct cni_err *e)
{
	return cni_err_set(e, rep->code, rep->msg, "agent %s: %s", op, rep->details);
}

/* Describe the pod's shm endpoint in the result (CNI 1.1.0 socketPath).
 * Older result versions cannot say it, and an interface with neither a
 * MAC nor a socket breaks runtimes that parse every entry's MAC (podman
 * 4.3): no entry then. */
static void add_endpoint(struct cni_ctx *x, struct cni_result *r, const char *json)
{
	struct cni_iface *f;

	if (!strstr(json, "\"endpoint\":{\"type\":\"shm\"") || r->n_ifaces >= CNI_MAX_IFACES ||
	    x->conf.version < CNI_V110)
		return;
	f = &r->ifaces[r->n_ifaces++];
	memset(f, 0, sizeof(*f));
	snprintf(f->name, sizeof(f->name), "hostlane-shm");
	snprintf(f->sandbox, sizeof(f->sandbox), "%s", x->env.netns);
	snprintf(f->socket_path, sizeof(f->socket_path), "@hostlane");
}

/* ---- device-info files (k8snetworkplumbingwg device-info spec) ---- */

#define DEVINFO_DIR "/var/run/k8s.cni.cncf.io/devinfo/cni"

int cni_devinfo_path(const struct cni_ctx *x, char *out, size_t n)
{
	const char *dir = getenv("HOSTLANE_DEVINFO_DIR");
	int len;

	if (x->conf.devinfo_file)
		len = snprintf(out, n, "%s", x->conf.devinfo_file);
	else
		len = snprintf(out, n, "%s/%s-%s-%s-device-info.json", dir && *dir ? dir : DEVINFO_DIR,
			       x->conf.name, x->env.containerid, x->env.ifname);
	return len < 0 || (size_t)len >= n ? -ENAMETOOLONG : 0;
}

/* Written whole or not at all: readers (the pod's launcher) never see half. */
static int devinfo_write(const struct cni_ctx *x, const cJSON *doc, struct cni_err *e)
{
	char path[PATH_MAX];
	char *txt = cJSON_Print(doc);
	int rc = -ENOMEM;

	if (txt && (rc = cni_devinfo_path(x, path, sizeof(path))) == 0 &&
	    (rc = hl_mkdir_parent(path)) == 0)
		rc = hl_write_atomic(path, txt, strlen(txt), 0644, NULL);
	free(txt);
	if (rc < 0)
		return cni_err_set(e, CNI_ERR_IO, "cannot write the device-info file", "%s: %s",
				   path, strerror(-rc));
	return 0;
}

static void devinfo_remove(const struct cni_ctx *x)
{
	char path[PATH_MAX];

	if (cni_devinfo_path(x, path, sizeof(path)) == 0 && unlink(path) < 0 && errno != ENOENT)
		cni_warn("DEL: cannot remove %s: %s", path, strerror(errno));
}

/* ---- ADD ---- */

static int add_str(cJSON *o, const char *k, const char *v)
{
	return !v || !*v || cJSON_AddStringToObject(o, k, v) ? 0 : -ENOMEM;
}

/* The ADD request: libhlagent's attachment fields plus the device keys
 * (vf object, mtu, deviceID) the device fast paths need. */
static char *add_request(struct cni_ctx *x, const struct cni_result *r)
{
	struct agent_req *q = malloc(sizeof(*q));
	cJSON *o = cJSON_CreateObject(), *pod, *ips, *fp;
	char *txt = NULL;
	int rc = q && o ? 0 : -ENOMEM;

	if (rc == 0) {
		build(x, r, q);
		rc |= cJSON_AddNumberToObject(o, "hostlane", HLAGENT_PROTO_VERSION) ? 0 : -ENOMEM;
		rc |= add_str(o, "op", "ADD") | add_str(o, "network", q->a.network);
		rc |= add_str(o, "containerID", q->a.container_id) | add_str(o, "ifname", q->a.ifname);
		rc |= add_str(o, "netns", q->a.netns);
		if (q->ns[0]) {
			pod = cJSON_AddObjectToObject(o, "pod");
			rc |= pod ? add_str(pod, "namespace", q->ns) | add_str(pod, "name", q->name) |
				    add_str(pod, "uid", q->uid) : -ENOMEM;
		}
		ips = cJSON_AddArrayToObject(o, "ips");
		for (size_t i = 0; ips && i < q->a.n_ips; i++)
			rc |= cJSON_AddItemToArray(ips, cJSON_CreateString(q->ips[i])) ? 0 : -ENOMEM;
		fp = cJSON_AddObjectToObject(o, "fastpath");
		rc |= ips && fp ? add_str(fp, "cniArgs", q->a.fastpath_args) |
				  add_str(fp, "config", q->a.fastpath_config) : -ENOMEM;
		if (x->conf.vf)
			rc |= cJSON_AddItemToObject(o, "vf", cJSON_Duplicate(x->conf.vf, 1)) ? 0 : -ENOMEM;
		if (x->conf.mtu)
			rc |= cJSON_AddNumberToObject(o, "mtu", x->conf.mtu) ? 0 : -ENOMEM;
		rc |= add_str(o, "deviceID", x->conf.device_id);
	}
	if (rc == 0)
		txt = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	free(q);
	return txt;
}

/* Sends ADD; 1 when the agent could not be reached (*rc_out its errno). */
static int add_call(struct cni_ctx *x, const struct cni_result *r, struct hlagent_reply *rep,
		    int *rc_out, struct cni_err *e)
{
	char *req = add_request(x, r);

	*rc_out = 0;
	if (!req)
		return cni_err_set(e, CNI_ERR_INTERNAL, "out of memory", NULL);
	*rc_out = hlagent_call(x->conf.agent_socket, req, strlen(req), AGENT_TIMEOUT_MS, rep);
	free(req);
	return *rc_out < 0 ? 1 : 0;
}

static const char *jstr(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* vhost-user: an extra interface entry with the socket (CNI 1.1.0 socketPath;
 * older result versions cannot carry it), and the device-info file. */
static int add_vhost(struct cni_ctx *x, struct cni_result *r, const cJSON *reply, struct cni_err *e)
{
	const cJSON *vu = cJSON_GetObjectItemCaseSensitive(reply, "vhostUser");
	const cJSON *di = cJSON_GetObjectItemCaseSensitive(reply, "deviceInfo");
	const char *sock = jstr(vu, "socketPath");
	struct cni_iface *f;

	if (!sock)
		return 0;
	if (r->n_ifaces >= CNI_MAX_IFACES)
		return cni_err_set(e, CNI_ERR_INTERNAL, "too many interfaces in the result", NULL);
	f = &r->ifaces[r->n_ifaces++];
	memset(f, 0, sizeof(*f));
	snprintf(f->name, sizeof(f->name), "vhost-user");
	snprintf(f->sandbox, sizeof(f->sandbox), "%s", x->env.netns);
	snprintf(f->socket_path, sizeof(f->socket_path), "%s", sock);
	return cJSON_IsObject(di) ? devinfo_write(x, di, e) : 0;
}

int cni_agent_notify(struct cni_ctx *x, struct cni_result *r, struct cni_err *e)
{
	struct hlagent_reply rep;
	cJSON *o;
	int rc;

	if (agent_disabled(x))
		return 0;
	if (add_call(x, r, &rep, &rc, e) != 0)
		return rc == 0 ? -1 : unreachable(x, "ADD", rc, e);
	rc = rep.ok ? 0 : refused(&rep, "ADD", e);
	if (rc == 0) {
		add_endpoint(x, r, rep.json);
		o = cJSON_Parse(rep.json);
		rc = add_vhost(x, r, o, e);
		cJSON_Delete(o);
		if (rc < 0) {
			struct cni_err ignored;

			cni_agent_release(x, &ignored);
		}
	}
	hlagent_reply_free(&rep);
	return rc;
}

int cni_agent_vf_add(struct cni_ctx *x, struct cni_vf *vf, struct cni_err *e)
{
	struct hlagent_reply rep;
	const cJSON *v, *di;
	cJSON *o = NULL;
	int rc;

	memset(vf, 0, sizeof(*vf));
	if (add_call(x, NULL, &rep, &rc, e) != 0)
		return rc == 0 ? -1 : unreachable(x, "ADD", rc, e);
	rc = rep.ok ? 0 : refused(&rep, "ADD", e);
	if (rc == 0) {
		o = cJSON_Parse(rep.json);
		v = cJSON_GetObjectItemCaseSensitive(o, "vf");
		di = cJSON_GetObjectItemCaseSensitive(o, "deviceInfo");
		if (!jstr(v, "pciID")) {
			rc = cni_err_set(e, CNI_ERR_CONFIG, "fast path vf not granted",
					 "the agent chose fast path %s (pod annotation?)",
					 jstr(o, "fastpath") ? jstr(o, "fastpath") : "?");
		} else {
			vf->dpdk = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(v, "dpdk"));
			snprintf(vf->pci, sizeof(vf->pci), "%s", jstr(v, "pciID"));
			snprintf(vf->ifname, sizeof(vf->ifname), "%s",
				 jstr(v, "ifname") ? jstr(v, "ifname") : "");
			if (vf->dpdk && cJSON_IsObject(di))
				rc = devinfo_write(x, di, e);
		}
		if (rc < 0) {
			struct cni_err ignored;

			cni_agent_release(x, &ignored);
		}
	}
	cJSON_Delete(o);
	hlagent_reply_free(&rep);
	return rc;
}

/* One request about this attachment (DEL, CHECK): identity only. */
static int attachment_call(struct cni_ctx *x, const char *op, struct hlagent_reply *rep)
{
	struct agent_req q;

	build(x, NULL, &q);
	return hlagent_request(x->conf.agent_socket, op, &q.a, NULL, 0, AGENT_TIMEOUT_MS, rep);
}

/* The agent's run dir (the socket's directory) does not exist: hostlane was
 * uninstalled (hostlane-install's uninstall removes it; while hostlane is
 * installed the DaemonSet's hostPath volume keeps it, also across agent
 * restarts), or the node rebooted and no agent has started since. No agent
 * holds anything for this pod then, and a DEL that waited for one would
 * keep the pod from ever being deleted. */
static bool agent_removed(const char *sock)
{
	char dir[PATH_MAX];
	const char *slash = sock ? strrchr(sock, '/') : NULL;
	struct stat st;

	if (!slash || slash == sock || (size_t)(slash - sock) >= sizeof(dir))
		return false;
	snprintf(dir, sizeof(dir), "%.*s", (int)(slash - sock), sock);
	return stat(dir, &st) < 0 && errno == ENOENT;
}

int cni_agent_release(struct cni_ctx *x, struct cni_err *e)
{
	struct hlagent_reply rep;
	int rc;

	if (agent_disabled(x))
		return 0;
	rc = attachment_call(x, "DEL", &rep);
	/* With a fast path the agent holds resources: the runtime must retry,
	 * unless there is no agent any more to hold them. */
	if (rc < 0 && cni_fastpath_select(x) != CNI_FP_NONE && !agent_removed(x->conf.agent_socket))
		return unreachable(x, "DEL", rc, e);
	if (rc < 0) {
		char msg[256];

		cni_warn("DEL: %s; the agent releases it when it finds the netns gone",
			 hlagent_strerror(rc, x->conf.agent_socket, msg, sizeof(msg)));
		return 0;
	}
	rc = rep.ok ? 0 : refused(&rep, "DEL", e);
	hlagent_reply_free(&rep);
	if (rc == 0)
		devinfo_remove(x);
	return rc;
}

int cni_agent_check(struct cni_ctx *x, struct cni_err *e)
{
	enum cni_fastpath fp = cni_fastpath_select(x);
	struct hlagent_reply rep;
	int rc;

	if (agent_disabled(x))
		return 0;
	rc = attachment_call(x, "CHECK", &rep);
	if (rc < 0)
		return fp == CNI_FP_NONE ? 0 : unreachable(x, "CHECK", rc, e);
	/* Added while the agent was down with fast path none: nothing to check. */
	rc = rep.ok || (rep.code == HLAGENT_CNI_NOT_FOUND && fp == CNI_FP_NONE) ? 0 : refused(&rep, "CHECK", e);
	hlagent_reply_free(&rep);
	return rc;
}

int cni_agent_status(struct cni_ctx *x, struct cni_err *e)
{
	struct hlagent_reply rep;
	int rc;

	if (agent_disabled(x))
		return 0;
	rc = hlagent_request(x->conf.agent_socket, "STATUS", NULL, NULL, 0, 5000, &rep);
	if (rc < 0)
		return unreachable(x, "STATUS", rc, e);
	rc = rep.ok ? 0 : cni_err_set(e, HLAGENT_CNI_NOT_READY, "hostlane agent not ready", "%s", rep.msg);
	hlagent_reply_free(&rep);
	return rc;
}

int cni_agent_gc(struct cni_ctx *x, struct cni_err *e)
{
	struct hlagent_valid *v = calloc(x->conf.n_valid + 1, sizeof(*v));
	struct hlagent_attachment a = { .network = x->conf.name, .container_id = "", .ifname = "" };
	struct hlagent_reply rep;
	int rc;

	if (agent_disabled(x)) {
		free(v);
		return 0;
	}
	if (!v)
		return cni_err_set(e, CNI_ERR_INTERNAL, "out of memory", NULL);
	for (size_t i = 0; i < x->conf.n_valid; i++)
		v[i] = (struct hlagent_valid){ x->conf.valid[i].containerid, x->conf.valid[i].ifname };
	rc = hlagent_request(x->conf.agent_socket, "GC", &a, v, x->conf.n_valid, AGENT_TIMEOUT_MS, &rep);
	free(v);
	if (rc < 0) {
		char msg[256];

		cni_warn("GC: %s", hlagent_strerror(rc, x->conf.agent_socket, msg, sizeof(msg)));
		return 0;
	}
	rc = rep.ok ? 0 : refused(&rep, "GC", e);
	hlagent_reply_free(&rep);
	return rc;
}
