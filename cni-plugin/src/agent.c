/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The plugin's calls to the node agent (hostlaned) over libhlagent: ADD
 * records every pod (fast path or not) and extends the result with the
 * fast-path endpoint; DEL, CHECK, STATUS and GC follow. When the agent is
 * unreachable: ADD and DEL fail with 11 (try again later) unless the fast
 * path selected by CNI_ARGS/config is none; STATUS reports 50, so that the
 * runtime holds ADDs back until the agent is there to read the pod's
 * annotation and record the pod; GC goes on with a warning (the agent
 * releases what it holds for a vanished netns when it starts again).
 * A network with "agentSocket": "" does not use the agent at all.
 */
#include "cni.h"
#include "hlagent.h"

#include <arpa/inet.h>
#include <errno.h>
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

/* Describe the pod's shm endpoint in the result (CNI 1.1.0 socketPath). */
static void add_endpoint(struct cni_ctx *x, struct cni_result *r, const char *json)
{
	struct cni_iface *f;

	if (!strstr(json, "\"endpoint\":{\"type\":\"shm\"") || r->n_ifaces >= CNI_MAX_IFACES)
		return;
	f = &r->ifaces[r->n_ifaces++];
	memset(f, 0, sizeof(*f));
	snprintf(f->name, sizeof(f->name), "hostlane-shm");
	snprintf(f->sandbox, sizeof(f->sandbox), "%s", x->env.netns);
	snprintf(f->socket_path, sizeof(f->socket_path), "@hostlane");
}

int cni_agent_notify(struct cni_ctx *x, enum cni_fastpath fp, struct cni_result *r,
		     struct cni_err *e)
{
	struct hlagent_reply rep;
	struct agent_req *q = malloc(sizeof(*q));
	int rc;

	if (agent_disabled(x)) {
		free(q);
		return fp == CNI_FP_NONE ? 0 :
		       cni_err_set(e, CNI_ERR_CONFIG, "invalid network configuration",
				   "HOSTLANE_FASTPATH=%s needs the hostlane agent, but agentSocket is empty",
				   cni_fastpath_str(fp));
	}
	if (!q)
		return cni_err_set(e, CNI_ERR_INTERNAL, "out of memory", NULL);
	build(x, r, q);
	rc = hlagent_request(x->conf.agent_socket, "ADD", &q->a, NULL, 0, AGENT_TIMEOUT_MS, &rep);
	free(q);
	if (rc < 0 && fp == CNI_FP_NONE) {
		char msg[256];

		cni_warn("ADD without the agent (fast path none): %s",
			 hlagent_strerror(rc, x->conf.agent_socket, msg, sizeof(msg)));
		return 0;
	}
	if (rc < 0)
		return unreachable(x, "ADD", rc, e);
	rc = rep.ok ? 0 : refused(&rep, "ADD", e);
	if (rc == 0)
		add_endpoint(x, r, rep.json);
	hlagent_reply_free(&rep);
	return rc;
}

int cni_agent_release(struct cni_ctx *x, struct cni_err *e)
{
	struct hlagent_reply rep;
	struct agent_req *q = malloc(sizeof(*q));
	int rc;

	if (agent_disabled(x)) {
		free(q);
		return 0;
	}
	if (!q)
		return cni_err_set(e, CNI_ERR_INTERNAL, "out of memory", NULL);
	build(x, NULL, q);
	rc = hlagent_request(x->conf.agent_socket, "DEL", &q->a, NULL, 0, AGENT_TIMEOUT_MS, &rep);
	free(q);
	/* With a fast path the agent holds resources: the runtime must retry. */
	if (rc < 0 && cni_fastpath_select(x) != CNI_FP_NONE)
		return unreachable(x, "DEL", rc, e);
	if (rc < 0) {
		char msg[256];

		cni_warn("DEL: %s; the agent releases it when it finds the netns gone",
			 hlagent_strerror(rc, x->conf.agent_socket, msg, sizeof(msg)));
		return 0;
	}
	rc = rep.ok ? 0 : refused(&rep, "DEL", e);
	hlagent_reply_free(&rep);
	return rc;
}

int cni_agent_check(struct cni_ctx *x, struct cni_err *e)
{
	enum cni_fastpath fp = cni_fastpath_select(x);
	struct hlagent_reply rep;
	struct agent_req *q = malloc(sizeof(*q));
	int rc;

	if (agent_disabled(x)) {
		free(q);
		return 0;
	}
	if (!q)
		return cni_err_set(e, CNI_ERR_INTERNAL, "out of memory", NULL);
	build(x, NULL, q);
	rc = hlagent_request(x->conf.agent_socket, "CHECK", &q->a, NULL, 0, AGENT_TIMEOUT_MS, &rep);
	free(q);
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
