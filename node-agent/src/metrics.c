/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The agent's Prometheus text metrics (served by metrics_http.c and the
 * METRICS request): requests, errors, the hugepage pool, Kubernetes,
 * Services, NetworkPolicy, the switch, and per shm pod its processes,
 * hugepages and fallbacks.
 */
#include "daemon.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hlk8s.h"
#include "monitor.h"
#include "netpol.h"


static const double bucket_s[HL_HIST_N] = {
	0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 2.5,
};
static const char *const err_names[HL_ERR_COUNT] = {
	"protocol", "state", "endpoint", "kubernetes", "pool", "io",
};

void hl_metrics_observe(struct hl_metrics *m, enum hl_agent_op op, bool ok, uint64_t us)
{
	int b = 0;

	while (b < HL_HIST_N && (double)us / 1e6 > bucket_s[b])
		b++;
	atomic_fetch_add(&m->req[op][ok ? 0 : 1], 1);
	atomic_fetch_add(&m->hist[op][b], 1);
	atomic_fetch_add(&m->sum_us[op], us);
}

void hl_metrics_error(struct hl_metrics *m, enum hl_err_kind kind)
{
	atomic_fetch_add(&m->errors[kind], 1);
}

/* A growing text buffer; on ENOMEM it stops growing and the result is NULL. */
struct buf {
	char *s;
	size_t len, cap;
	bool oom;
};

static void put(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		if (b->oom)
			return;
		va_start(ap, fmt);
		n = vsnprintf(b->s ? b->s + b->len : NULL, b->s ? b->cap - b->len : 0, fmt, ap);
		va_end(ap);
		if (n >= 0 && b->s && b->len + (size_t)n < b->cap) {
			b->len += (size_t)n;
			return;
		}
		size_t c = (b->cap ? b->cap * 2 : 8192) + (size_t)(n > 0 ? n : 0);
		char *ns = realloc(b->s, c);

		if (!ns) {
			b->oom = true;
			return;
		}
		b->s = ns;
		b->cap = c;
	}
}

static void put_requests(struct buf *b, struct hl_metrics *m)
{
	put(b, "# HELP hostlane_agent_requests_total Agent requests by op and result.\n"
	       "# TYPE hostlane_agent_requests_total counter\n");
	for (int op = 0; op < HL_AGENT_OP_COUNT; op++)
		for (int r = 0; r < 2; r++)
			put(b, "hostlane_agent_requests_total{op=\"%s\",result=\"%s\"} %llu\n",
			    hl_agent_op_name((enum hl_agent_op)op), r ? "error" : "ok",
			    (unsigned long long)atomic_load(&m->req[op][r]));
	put(b, "# HELP hostlane_agent_request_duration_seconds Time to serve a request.\n"
	       "# TYPE hostlane_agent_request_duration_seconds histogram\n");
	for (int op = 0; op < HL_AGENT_OP_COUNT; op++) {
		const char *name = hl_agent_op_name((enum hl_agent_op)op);
		uint64_t cum = 0;

		for (int i = 0; i <= HL_HIST_N; i++) {
			cum += atomic_load(&m->hist[op][i]);
			if (i < HL_HIST_N)
				put(b, "hostlane_agent_request_duration_seconds_bucket{op=\"%s\",le=\"%g\"} %llu\n",
				    name, bucket_s[i], (unsigned long long)cum);
			else
				put(b, "hostlane_agent_request_duration_seconds_bucket{op=\"%s\",le=\"+Inf\"} %llu\n",
				    name, (unsigned long long)cum);
		}
		put(b, "hostlane_agent_request_duration_seconds_sum{op=\"%s\"} %.6f\n", name,
		    (double)atomic_load(&m->sum_us[op]) / 1e6);
		put(b, "hostlane_agent_request_duration_seconds_count{op=\"%s\"} %llu\n", name,
		    (unsigned long long)cum);
	}
}

/* The API connection: one gauge per state (1 for the current one), when
 * the cache was last known in step, when a request last failed. */
static void put_k8s_health(struct buf *b, struct agent *a)
{
	static const enum hlk8s_state states[] = { HLK8S_STATE_STARTING, HLK8S_STATE_SYNCED,
						   HLK8S_STATE_RETRYING, HLK8S_STATE_UNAUTHORIZED };
	struct hlk8s_health h;

	hlk8s_get_health(a->k8s, &h);
	put(b, "# HELP hostlane_agent_k8s_state API connection: starting, synced, retrying, unauthorized.\n"
	       "# TYPE hostlane_agent_k8s_state gauge\n");
	for (size_t i = 0; i < sizeof(states) / sizeof(states[0]); i++)
		put(b, "hostlane_agent_k8s_state{state=\"%s\"} %d\n", hlk8s_state_name(states[i]),
		    h.state == states[i]);
	put(b, "# HELP hostlane_agent_k8s_last_sync_timestamp_seconds When the pod cache was last known in step (0: never).\n"
	       "# TYPE hostlane_agent_k8s_last_sync_timestamp_seconds gauge\n"
	       "hostlane_agent_k8s_last_sync_timestamp_seconds %lld\n"
	       "# HELP hostlane_agent_k8s_last_error_timestamp_seconds When an API request last failed (0: never).\n"
	       "# TYPE hostlane_agent_k8s_last_error_timestamp_seconds gauge\n"
	       "hostlane_agent_k8s_last_error_timestamp_seconds %lld\n",
	    (long long)h.last_sync, (long long)h.last_error_time);
}

/* NetworkPolicy admission (netpol.c): the sync state, the table, and the
 * monitor's verdicts on CONNECTs to hostlane listeners. */
static void put_netpol(struct buf *b, struct agent *a)
{
	static const char *const states[] = { "off", "syncing", "synced" };
	struct hl_netpol_numbers n;

	hl_netpol_numbers(a, &n);
	put(b, "# HELP hostlane_agent_netpol_state NetworkPolicy admission: off, syncing (nothing admitted yet), synced.\n"
	       "# TYPE hostlane_agent_netpol_state gauge\n");
	for (size_t i = 0; i < sizeof(states) / sizeof(states[0]); i++)
		put(b, "hostlane_agent_netpol_state{state=\"%s\"} %d\n", states[i], !strcmp(states[i], n.state));
	put(b, "# HELP hostlane_agent_netpol_policies NetworkPolicies in the admission table (refused: not understood, their namespace isolated).\n"
	       "# TYPE hostlane_agent_netpol_policies gauge\n"
	       "hostlane_agent_netpol_policies{state=\"all\"} %llu\n"
	       "hostlane_agent_netpol_policies{state=\"refused\"} %llu\n"
	       "# HELP hostlane_agent_netpol_builds_total Admission tables built.\n"
	       "# TYPE hostlane_agent_netpol_builds_total counter\n"
	       "hostlane_agent_netpol_builds_total %llu\n"
	       "# HELP hostlane_monitor_policy_connections_total Fast-path CONNECTs by NetworkPolicy verdict (denied: the kernel carried them).\n"
	       "# TYPE hostlane_monitor_policy_connections_total counter\n"
	       "hostlane_monitor_policy_connections_total{verdict=\"admitted\"} %llu\n"
	       "hostlane_monitor_policy_connections_total{verdict=\"denied\"} %llu\n"
	       "# HELP hostlane_monitor_policy_direct_off_total Direct regions turned off by a new table.\n"
	       "# TYPE hostlane_monitor_policy_direct_off_total counter\n"
	       "hostlane_monitor_policy_direct_off_total %llu\n",
	    (unsigned long long)n.policies, (unsigned long long)n.refused, (unsigned long long)n.builds,
	    (unsigned long long)n.admitted, (unsigned long long)n.denied, (unsigned long long)n.direct_off);
	char *u = hl_netpol_unknown_metrics(a);

	if (u)
		put(b, "%s", u);
	free(u);
}

static void put_k8s(struct buf *b, struct agent *a)
{
	struct hlk8s_stats s;

	if (!a->k8s)
		return;
	hlk8s_get_stats(a->k8s, &s);
	put(b, "# HELP hostlane_agent_k8s_events_total Kubernetes client activity.\n"
	       "# TYPE hostlane_agent_k8s_events_total counter\n"
	       "hostlane_agent_k8s_events_total{kind=\"watch_connect\"} %llu\n"
	       "hostlane_agent_k8s_events_total{kind=\"relist\"} %llu\n"
	       "hostlane_agent_k8s_events_total{kind=\"event\"} %llu\n"
	       "hostlane_agent_k8s_events_total{kind=\"get\"} %llu\n"
	       "hostlane_agent_k8s_events_total{kind=\"get_error\"} %llu\n"
	       "hostlane_agent_k8s_events_total{kind=\"list_error\"} %llu\n"
	       "hostlane_agent_k8s_events_total{kind=\"watch_error\"} %llu\n"
	       "hostlane_agent_k8s_events_total{kind=\"token_reload\"} %llu\n"
	       "# HELP hostlane_agent_k8s_cached_pods Pods in the watch cache.\n"
	       "# TYPE hostlane_agent_k8s_cached_pods gauge\n"
	       "hostlane_agent_k8s_cached_pods %llu\n",
	    (unsigned long long)s.watch_connects, (unsigned long long)s.relists,
	    (unsigned long long)s.events, (unsigned long long)s.gets,
	    (unsigned long long)s.get_errors, (unsigned long long)s.list_errors,
	    (unsigned long long)s.watch_errors, (unsigned long long)s.token_reloads,
	    (unsigned long long)s.cached_pods);
	put_k8s_health(b, a);
}

/* The monitor's Service map and where Service and loopback connects went
 * (loop thread: the monitor is read there). */
static void put_services(struct buf *b, struct agent *a)
{
	struct hl_mon_svc_stats st;
	uint64_t rebuilds;

	if (!a->ep_node)
		return;
	hl_mon_get_svc_stats(a->ep_node, &st);
	hl_kube_counts(a, &rebuilds);
	put(b, "# HELP hostlane_monitor_service_ports Service ClusterIP:ports in the monitor's map.\n"
	       "# TYPE hostlane_monitor_service_ports gauge\n"
	       "hostlane_monitor_service_ports %zu\n"
	       "# HELP hostlane_monitor_service_map_builds_total Service map rebuilds from the API server's objects.\n"
	       "# TYPE hostlane_monitor_service_map_builds_total counter\n"
	       "hostlane_monitor_service_map_builds_total %llu\n"
	       "# HELP hostlane_monitor_connects_total Service and loopback connects by outcome.\n"
	       "# TYPE hostlane_monitor_connects_total counter\n"
	       "hostlane_monitor_connects_total{to=\"service\",path=\"hostlane\"} %llu\n"
	       "hostlane_monitor_connects_total{to=\"service\",path=\"kernel\"} %llu\n"
	       "hostlane_monitor_connects_total{to=\"service\",path=\"no_endpoint\"} %llu\n"
	       "hostlane_monitor_connects_total{to=\"loopback\",path=\"hostlane\"} %llu\n",
	    st.services, (unsigned long long)rebuilds, (unsigned long long)st.fastpath,
	    (unsigned long long)st.kernel, (unsigned long long)st.no_endpoint,
	    (unsigned long long)st.loopback);
}

static void put_vswitch(struct buf *b, struct agent *a)
{
	struct hl_vsw_numbers n;

	hl_dev_vsw_numbers(a, &n);
	if (!n.enabled)
		return;
	put(b, "# HELP hostlane_agent_vswitch_restarts_total Restarts of the vhost-user switch after it exited.\n"
	       "# TYPE hostlane_agent_vswitch_restarts_total counter\n"
	       "hostlane_agent_vswitch_restarts_total %u\n"
	       "# HELP hostlane_agent_vswitch_up 1 when the vhost-user switch runs.\n"
	       "# TYPE hostlane_agent_vswitch_up gauge\n"
	       "hostlane_agent_vswitch_up %d\n"
	       "# HELP hostlane_agent_vswitch_adopted 1 when the running switch was started by an earlier agent.\n"
	       "# TYPE hostlane_agent_vswitch_adopted gauge\n"
	       "hostlane_agent_vswitch_adopted %d\n",
	    n.restarts, n.pid ? 1 : 0, n.adopted ? 1 : 0);
}

/* A label value as the exposition format wants it (\\, \", \n escaped). */
static void label(char *out, size_t len, const char *v)
{
	size_t n = 0;

	for (; *v && n + 3 < len; v++) {
		if (*v == '\\' || *v == '"' || *v == '\n')
			out[n++] = '\\';
		out[n++] = *v == '\n' ? 'n' : *v;
	}
	out[n] = '\0';
}

/* Per shm pod: the processes attached to the fast path (0 while its
 * programs run without the layer: static binaries, Go, no LD_PRELOAD),
 * its quota and what its regions use, and the regions refused to it by
 * reason (each such connection went to the kernel). */
static void put_pods(struct buf *b, struct agent *a)
{
	static const char *const heads[] = {
		"# HELP hostlane_agent_pod_processes Processes of a shm pod attached to the fast path "
		"(connected to its @hostlane).\n# TYPE hostlane_agent_pod_processes gauge\n",
		"# HELP hostlane_agent_pod_hugepages_bytes A shm pod's quota (a cap) and what its regions use.\n"
		"# TYPE hostlane_agent_pod_hugepages_bytes gauge\n",
		"# HELP hostlane_agent_pod_fallbacks_total Regions refused to a shm pod by reason "
		"(quota, pool, hugepages, limits): that connection went to the kernel.\n"
		"# TYPE hostlane_agent_pod_fallbacks_total counter\n",
	};

	for (size_t k = 0; k < sizeof(heads) / sizeof(heads[0]); k++) {
		put(b, "%s", heads[k]);
		pthread_mutex_lock(&a->lock);
		for (size_t i = 0; i < a->n_pods; i++) {
			const struct hl_pod *p = a->pods[i];
			char ns[2 * HL_NAME_MAX], name[2 * HL_NAME_MAX];
			struct hl_mon_pod_usage u;

			if (!p->ep)
				continue;
			hl_mon_pod_get_usage(p->ep, &u);
			label(ns, sizeof(ns), p->pod_ns);
			label(name, sizeof(name), p->pod_name[0] ? p->pod_name : p->container_id);
			if (k == 0)
				put(b, "hostlane_agent_pod_processes{namespace=\"%s\",pod=\"%s\"} %u\n", ns, name,
				    u.clients);
			else if (k == 1)
				put(b, "hostlane_agent_pod_hugepages_bytes{namespace=\"%s\",pod=\"%s\",state=\"quota\"} %llu\n"
				       "hostlane_agent_pod_hugepages_bytes{namespace=\"%s\",pod=\"%s\",state=\"used\"} %llu\n",
				    ns, name, (unsigned long long)u.quota_bytes, ns, name,
				    (unsigned long long)u.used_bytes);
			else
				for (int r = 0; r < HL_MON_REFUSED_COUNT; r++)
					put(b, "hostlane_agent_pod_fallbacks_total{namespace=\"%s\",pod=\"%s\",reason=\"%s\"} %llu\n",
					    ns, name, hl_mon_refusal_name((enum hl_mon_refusal)r),
					    (unsigned long long)u.refused[r]);
		}
		pthread_mutex_unlock(&a->lock);
	}
}

/* The pool: its cap, what regions use, what the kernel has free for the
 * agent, the quotas (caps, nothing reserved) against the capacity the
 * node advertises, and regions refused node-wide. */
static void put_pool(struct buf *b, struct agent *a)
{
	struct hl_pool_numbers n;

	hl_pool_numbers(a, &n);
	put(b, "# HELP hostlane_agent_hugepages_bytes Hugepage pool: its cap (pool), held by regions (used), "
	       "2 MiB hugepages the kernel has free for the agent (free), the shm pods' quotas added up (quota).\n"
	       "# TYPE hostlane_agent_hugepages_bytes gauge\n"
	       "hostlane_agent_hugepages_bytes{state=\"pool\"} %llu\n"
	       "hostlane_agent_hugepages_bytes{state=\"used\"} %llu\n"
	       "hostlane_agent_hugepages_bytes{state=\"free\"} %llu\n"
	       "hostlane_agent_hugepages_bytes{state=\"quota\"} %llu\n"
	       "# HELP hostlane_agent_shm_capacity_bytes What the shm pods' quotas may add up to: pool x overcommit "
	       "(the node's hostlane.io/shm).\n"
	       "# TYPE hostlane_agent_shm_capacity_bytes gauge\n"
	       "hostlane_agent_shm_capacity_bytes %llu\n"
	       "# HELP hostlane_agent_fallbacks_total Regions refused by reason, every pod of the node "
	       "(gone ones too): those connections went to the kernel.\n"
	       "# TYPE hostlane_agent_fallbacks_total counter\n",
	    (unsigned long long)n.pool, (unsigned long long)n.used, (unsigned long long)n.free,
	    (unsigned long long)n.quota, (unsigned long long)n.capacity);
	for (int r = 0; r < HL_MON_REFUSED_COUNT; r++)
		put(b, "hostlane_agent_fallbacks_total{reason=\"%s\"} %llu\n",
		    hl_mon_refusal_name((enum hl_mon_refusal)r), (unsigned long long)n.refused[r]);
}

char *hl_metrics_text(struct agent *a)
{
	struct buf b = { 0 };
	size_t by_fp[HL_FP_COUNT];

	hl_count_pods(a, by_fp);
	put(&b, "# HELP hostlane_agent_pods Pods the agent knows, by fast path.\n"
		"# TYPE hostlane_agent_pods gauge\n");
	for (int i = 0; i < HL_FP_COUNT; i++)
		put(&b, "hostlane_agent_pods{fastpath=\"%s\"} %zu\n", hl_fastpath_name((enum hl_fastpath)i), by_fp[i]);
	put_pool(&b, a);
	put_requests(&b, &a->m);
	put(&b, "# HELP hostlane_agent_errors_total Errors by kind.\n"
		"# TYPE hostlane_agent_errors_total counter\n");
	for (int i = 0; i < HL_ERR_COUNT; i++) {
		unsigned long long n = atomic_load(&a->m.errors[i]);

		/* The agent counts the annotation lookups that failed; the
		 * client counts its LISTs and WATCHes that failed. */
		if (i == HL_ERR_K8S && a->k8s) {
			struct hlk8s_stats st;

			hlk8s_get_stats(a->k8s, &st);
			n += st.list_errors + st.watch_errors;
		}
		put(&b, "hostlane_agent_errors_total{kind=\"%s\"} %llu\n", err_names[i], n);
	}
	put(&b, "# HELP hostlane_agent_reloads_total Config reloads (SIGHUP) by result.\n"
		"# TYPE hostlane_agent_reloads_total counter\n"
		"hostlane_agent_reloads_total{result=\"ok\"} %llu\n"
		"hostlane_agent_reloads_total{result=\"error\"} %llu\n"
		"# HELP hostlane_agent_reconciled_total Records handled at start-up.\n"
		"# TYPE hostlane_agent_reconciled_total counter\n"
		"hostlane_agent_reconciled_total{action=\"restored\"} %llu\n"
		"hostlane_agent_reconciled_total{action=\"released\"} %llu\n"
		"# HELP hostlane_agent_ready 1 when serving.\n"
		"# TYPE hostlane_agent_ready gauge\n"
		"hostlane_agent_ready %d\n",
	    (unsigned long long)atomic_load(&a->m.reloads), (unsigned long long)atomic_load(&a->m.reload_errors),
	    (unsigned long long)atomic_load(&a->m.reconciled_restored),
	    (unsigned long long)atomic_load(&a->m.reconciled_released), atomic_load(&a->ready) ? 1 : 0);
	put_k8s(&b, a);
	put_services(&b, a);
	put_netpol(&b, a);
	put_vswitch(&b, a);
	put_pods(&b, a);
	if (b.oom) {
		free(b.s);
		return NULL;
	}
	return b.s;
}
