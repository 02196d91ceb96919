/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The read-only requests: STATUS, LIST, GET, CONNS (the preloaded
 * processes' counters, read on the loop thread), METRICS and VERSION.
 */
#include "server.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "monitor.h"
#include "hlk8s.h"
#include "netpol.h"

#define CONNS_MAX_LISTED 256  /* connections per reply; the rest are counted */

struct conns_walk {
	struct agent *a;
	long offset;
	cJSON *out, *pods, *procs, *conns;
	size_t listed, skipped;
	long next;
};

/* The API connection as it is, not as configured: "off" (no API server
 * configured), "error" (configured, but the client could not be made),
 * else the watch loop's state with the last error and the last sync. */
static void k8s_status(struct agent *a, cJSON *o)
{
	cJSON *k = cJSON_AddObjectToObject(o, "kubernetes");
	struct hlk8s_health h;
	struct hlk8s_stats st;

	if (!k)
		return;
	if (!a->k8s) {
		cJSON_AddStringToObject(k, "state", a->k8s_error[0] ? "error" : "off");
		if (a->k8s_error[0])
			cJSON_AddStringToObject(k, "lastError", a->k8s_error);
		return;
	}
	hlk8s_get_health(a->k8s, &h);
	hlk8s_get_stats(a->k8s, &st);
	cJSON_AddStringToObject(k, "state", hlk8s_state_name(h.state));
	cJSON_AddStringToObject(k, "server", hlk8s_server(a->k8s));
	cJSON_AddNumberToObject(k, "lastSync", (double)h.last_sync);
	cJSON_AddStringToObject(k, "lastError", h.last_error);
	cJSON_AddNumberToObject(k, "lastErrorTime", (double)h.last_error_time);
	cJSON_AddNumberToObject(k, "errors", (double)(st.list_errors + st.watch_errors + st.get_errors));
	cJSON_AddNumberToObject(k, "cachedPods", (double)st.cached_pods);
}

static void do_status(struct agent *a, struct hl_reply *r)
{
	size_t by_fp[HL_FP_COUNT], n = hl_count_pods(a, by_fp);
	struct hl_pool_numbers pn;
	cJSON *o = cJSON_CreateObject(), *fp, *rf;

	if (!atomic_load(&a->ready)) {
		cJSON_Delete(o);
		hl_reply_fail(r, HLAGENT_CNI_NOT_READY, NULL, "hostlane agent is starting");
		return;
	}
	hl_pool_numbers(a, &pn);
	r->obj = o;
	if (!o)
		return;
	cJSON_AddBoolToObject(o, "ready", true);
	cJSON_AddStringToObject(o, "version", HL_AGENT_VERSION);
	cJSON_AddStringToObject(o, "node", a->cfg.node_name);
	cJSON_AddNumberToObject(o, "pods", (double)n);
	fp = cJSON_AddObjectToObject(o, "podsByFastpath");
	for (int i = 0; fp && i < HL_FP_COUNT; i++)
		cJSON_AddNumberToObject(fp, hl_fastpath_name((enum hl_fastpath)i), (double)by_fp[i]);
	cJSON_AddNumberToObject(o, "hugepagePoolBytes", (double)pn.pool);
	cJSON_AddNumberToObject(o, "hugepageUsedBytes", (double)pn.used);
	cJSON_AddNumberToObject(o, "hugepageFreeBytes", (double)pn.free);
	cJSON_AddNumberToObject(o, "hugepageQuotaBytes", (double)pn.quota);
	cJSON_AddNumberToObject(o, "shmCapacityBytes", (double)pn.capacity);
	cJSON_AddNumberToObject(o, "overcommit", pn.overcommit);
	rf = cJSON_AddObjectToObject(o, "fallbacks");
	for (int i = 0; rf && i < HL_MON_REFUSED_COUNT; i++)
		cJSON_AddNumberToObject(rf, hl_mon_refusal_name((enum hl_mon_refusal)i), (double)pn.refused[i]);
	k8s_status(a, o);
	hl_noderes_status(a, o);
	hl_netpol_status(a, o);
	hl_dev_status(a, o);
	hl_cp_status(a, o);
	cJSON_AddNumberToObject(o, "uptimeSeconds", (double)(time(NULL) - a->started));
}

/* @on_loop: the monitor may be asked (it is the loop's alone). */
static cJSON *pod_entry(const struct hl_pod *p, bool on_loop)
{
	cJSON *o = hl_pod_to_cjson(p);

	if (!o)
		return NULL;
	cJSON_AddBoolToObject(o, "endpoint", p->ep != NULL);
	/* Processes attached to the fast path (connected to @hostlane): 0
	 * while the pod's programs run without the layer (static binaries,
	 * Go's own syscalls, no LD_PRELOAD), so that it shows at once. */
	if (on_loop && p->ep) {
		struct hl_mon_pod_usage u;
		cJSON *f;

		hl_mon_pod_get_usage(p->ep, &u);
		cJSON_AddNumberToObject(o, "processes", u.clients);
		cJSON_AddNumberToObject(o, "usedBytes", (double)u.used_bytes);
		/* Regions refused to it, by reason: each such connection went
		 * to the kernel (never silently). */
		f = cJSON_AddObjectToObject(o, "fallbacks");
		for (int i = 0; f && i < HL_MON_REFUSED_COUNT; i++)
			cJSON_AddNumberToObject(f, hl_mon_refusal_name((enum hl_mon_refusal)i),
						(double)u.refused[i]);
	}
	return o;
}

static int cmp_pod(const void *x, const void *y)
{
	const struct hl_pod *a = *(struct hl_pod *const *)x, *b = *(struct hl_pod *const *)y;

	return strcmp(a->key, b->key);
}

struct list_walk {
	const struct hl_request *q;
	struct hl_reply *r;
};

/* Pages so that a reply always fits one message. On the loop thread: the
 * attached processes are the monitor's to count. */
static void list_task(struct agent *a, void *arg)
{
	const struct hl_request *q = ((struct list_walk *)arg)->q;
	struct hl_reply *r = ((struct list_walk *)arg)->r;
	cJSON *o = cJSON_CreateObject(), *arr = o ? cJSON_AddArrayToObject(o, "pods") : NULL;
	size_t budget = HLAGENT_MAX_REPLY - 1024, used = 0, i;

	if (!arr) {
		cJSON_Delete(o);
		hl_reply_fail(r, HLAGENT_CNI_TRY_AGAIN, NULL, "out of memory");
		return;
	}
	pthread_mutex_lock(&a->lock);
	if (a->n_pods > 1)
		qsort(a->pods, a->n_pods, sizeof(*a->pods), cmp_pod);
	for (i = (size_t)q->offset; i < a->n_pods; i++) {
		cJSON *e = pod_entry(a->pods[i], true);
		char *s = e ? cJSON_PrintUnformatted(e) : NULL;
		size_t l = s ? strlen(s) + 1 : budget;

		free(s);
		if (!e || used + l > budget) {
			cJSON_Delete(e);
			break;
		}
		used += l;
		cJSON_AddItemToArray(arr, e);
	}
	if (i < a->n_pods)
		cJSON_AddNumberToObject(o, "next", (double)i);
	cJSON_AddNumberToObject(o, "total", (double)a->n_pods);
	pthread_mutex_unlock(&a->lock);
	r->obj = o;
}

static bool matches(const struct hl_pod *p, const char *id)
{
	char name[HL_NAME_MAX * 2];
	size_t l = strlen(id);

	hl_pod_key_name(p, name, sizeof(name));
	return !strcmp(p->key, id) || !strcmp(name, id) || !strcmp(p->container_id, id) ||
	       (l >= 6 && !strncmp(p->container_id, id, l));
}

static void do_get(struct agent *a, const struct hl_request *q, struct hl_reply *r)
{
	cJSON *found = NULL;
	int n = 0;

	pthread_mutex_lock(&a->lock);
	for (size_t i = 0; i < a->n_pods; i++) {
		if (!matches(a->pods[i], q->id))
			continue;
		if (n++ == 0)
			found = pod_entry(a->pods[i], false);
	}
	pthread_mutex_unlock(&a->lock);
	if (n == 1 && (r->obj = cJSON_CreateObject())) {
		cJSON_AddItemToObject(r->obj, "pod", found);
		return;
	}
	cJSON_Delete(found);
	if (n == 0)
		hl_reply_fail(r, HLAGENT_CNI_NOT_FOUND, q->id, "no pod matches \"%s\"", q->id);
	else if (n > 1)
		hl_reply_fail(r, HLAGENT_CNI_NOT_FOUND, q->id, "%d pods match \"%s\"; be more specific", n, q->id);
}

static void conns_proc(void *arg, const struct hl_mon_proc_info *p)
{
	struct conns_walk *w = arg;
	cJSON *o = cJSON_CreateObject();

	if (!o || !cJSON_AddItemToArray(w->procs, o)) {
		cJSON_Delete(o);
		w->conns = NULL;
		return;
	}
	cJSON_AddNumberToObject(o, "pid", p->pid);
	cJSON_AddNumberToObject(o, "open", p->open);
	cJSON_AddNumberToObject(o, "conns", (double)p->conns);
	cJSON_AddNumberToObject(o, "fallbacks", (double)p->fallbacks);
	cJSON_AddNumberToObject(o, "tx_bytes", (double)p->tx_bytes);
	cJSON_AddNumberToObject(o, "rx_bytes", (double)p->rx_bytes);
	cJSON_AddNumberToObject(o, "tx_calls", (double)p->tx_calls);
	cJSON_AddNumberToObject(o, "rx_calls", (double)p->rx_calls);
	cJSON_AddNumberToObject(o, "wakeups", (double)p->wakeups);
	cJSON_AddNumberToObject(o, "ctl_calls", (double)p->ctl_calls);
	cJSON_AddNumberToObject(o, "direct", (double)p->direct);
	w->conns = cJSON_AddArrayToObject(o, "connections");
}

/* What the connection went to, as the application asked: "loopback"
 * (inside the pod), "service" (with its name: the peer is a ClusterIP:port
 * of the monitor's map) or "pod". The addresses are what the pod's layer
 * wrote: reported, never acted on. */
static void conn_to(struct agent *a, const struct hl_mon_conn_info *c, cJSON *o)
{
	const char *svc = NULL;
	bool lo = !strncmp(c->peer, "127.", 4) || !strcmp(c->peer, "::1");

	if (!lo && !c->side)
		svc = hl_mon_svc_name(a->ep_node, c->peer, c->peer_port);
	cJSON_AddStringToObject(o, "to", lo ? "loopback" : svc ? "service" : "pod");
	if (svc)
		cJSON_AddStringToObject(o, "service", svc);
}

static void conns_conn(void *arg, const struct hl_mon_conn_info *c)
{
	struct conns_walk *w = arg;
	char local[96], peer[96];
	cJSON *o;

	if (!w->conns || w->listed >= CONNS_MAX_LISTED) {
		w->skipped++;
		return;
	}
	o = cJSON_CreateObject();
	if (!o || !cJSON_AddItemToArray(w->conns, o)) {
		cJSON_Delete(o);
		return;
	}
	w->listed++;
	snprintf(local, sizeof(local), strchr(c->local, ':') ? "[%s]:%u" : "%s:%u", c->local,
		 c->local_port);
	snprintf(peer, sizeof(peer), strchr(c->peer, ':') ? "[%s]:%u" : "%s:%u", c->peer,
		 c->peer_port);
	cJSON_AddNumberToObject(o, "fd", c->fd);
	cJSON_AddStringToObject(o, "side", c->side ? "accepted" : "connected");
	cJSON_AddStringToObject(o, "local", local);
	cJSON_AddStringToObject(o, "peer", peer);
	cJSON_AddNumberToObject(o, "tx_bytes", (double)c->tx_bytes);
	cJSON_AddNumberToObject(o, "rx_bytes", (double)c->rx_bytes);
	cJSON_AddNumberToObject(o, "tx_calls", (double)c->tx_calls);
	cJSON_AddNumberToObject(o, "rx_calls", (double)c->rx_calls);
	cJSON_AddNumberToObject(o, "wakeups", (double)c->wakeups);
	conn_to(w->a, c, o);
}

/* Pages by pod, like LIST; a page stops after the pod that reached the
 * connection budget. */
static void conns_task(struct agent *a, void *arg)
{
	struct conns_walk *w = arg;
	size_t i;

	w->out = cJSON_CreateObject();
	w->pods = w->out ? cJSON_AddArrayToObject(w->out, "pods") : NULL;
	if (!w->pods)
		return;
	pthread_mutex_lock(&a->lock);
	if (a->n_pods > 1)
		qsort(a->pods, a->n_pods, sizeof(*a->pods), cmp_pod);
	for (i = (size_t)w->offset; i < a->n_pods && w->listed < CONNS_MAX_LISTED; i++) {
		const struct hl_pod *p = a->pods[i];
		cJSON *o;

		if (!p->ep)
			continue;
		o = cJSON_CreateObject();
		if (!o || !cJSON_AddItemToArray(w->pods, o)) {
			cJSON_Delete(o);
			break;
		}
		cJSON_AddStringToObject(o, "pod", p->key);
		w->procs = cJSON_AddArrayToObject(o, "processes");
		if (w->procs)
			hl_mon_pod_walk_stats(p->ep, conns_proc, conns_conn, w);
	}
	if (i < a->n_pods)
		cJSON_AddNumberToObject(w->out, "next", (double)i);
	pthread_mutex_unlock(&a->lock);
	if (w->skipped)
		cJSON_AddNumberToObject(w->out, "unlisted", (double)w->skipped);
}

static void metrics_task(struct agent *a, void *arg)
{
	*(char **)arg = hl_metrics_text(a);
}

void hl_query(struct agent *a, const struct hl_request *q, struct hl_reply *r)
{
	char *text = NULL;

	switch (q->op) {
	case HL_AGENT_OP_STATUS: do_status(a, r); return;
	case HL_AGENT_OP_LIST: {
		struct list_walk w = { q, r };

		hl_run_on_loop(a, list_task, &w);
		return;
	}
	case HL_AGENT_OP_GET: do_get(a, q, r); return;
	case HL_AGENT_OP_CONNS: {
		struct conns_walk w = { .a = a, .offset = q->offset };

		hl_run_on_loop(a, conns_task, &w);
		if (!w.out)
			hl_reply_fail(r, HLAGENT_CNI_TRY_AGAIN, NULL, "out of memory");
		r->obj = w.out;
		return;
	}
	case HL_AGENT_OP_METRICS:
		/* On the loop thread: endpoint usage may only be read there. */
		hl_run_on_loop(a, metrics_task, &text);
		if ((r->obj = cJSON_CreateObject()) && text)
			cJSON_AddStringToObject(r->obj, "text", text);
		free(text);
		return;
	default:
		if ((r->obj = cJSON_CreateObject())) {
			cJSON_AddStringToObject(r->obj, "version", HL_AGENT_VERSION);
			cJSON_AddNumberToObject(r->obj, "protocol", HLAGENT_PROTO_VERSION);
		}
	}
}
