/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Prometheus text metrics and a tiny HTTP/1.1 server on the agent's loop:
 * GET /metrics, /healthz, /readyz; one request per connection, bounded
 * connections, each closed after its answer or after an idle timeout.
 * Idle clients cannot starve the probes: a request that is there when the
 * connection is accepted is answered at once, without taking a slot, and
 * a new connection that finds every slot taken closes the oldest one.
 */
#include "daemon.h"
#include "monitor.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "hlk8s.h"
#include "monitor.h"
#include "netpol.h"

#define MAX_CONNS 32
#define REQ_MAX 4096
#define IDLE_MS 2000
#define PAUSE_MS 250  /* out of fds: accept again after this */

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

/* ---- HTTP ------------------------------------------------------------- */

struct conn {
	struct hl_metrics_srv *srv;
	int fd;
	int64_t timer;
	uint64_t seq;            /* accept order: the oldest goes first */
	size_t len;
	char req[REQ_MAX];
};

struct hl_metrics_srv {
	struct agent *a;
	int fd;
	unsigned n_conns;
	uint64_t seq;
	int64_t resume;          /* timer of an accept paused for fds, or 0 */
	struct conn *conns[MAX_CONNS];
};

static void conn_close(struct conn *c)
{
	struct hl_metrics_srv *s = c->srv;

	hl_loop_del(s->a->loop, c->fd);
	if (c->timer > 0)
		hl_timer_cancel(s->a->loop, c->timer);
	close(c->fd);
	for (unsigned i = 0; i < MAX_CONNS; i++)
		if (s->conns[i] == c)
			s->conns[i] = NULL;
	s->n_conns--;
	free(c);
}

static void respond(struct conn *c, int status, const char *ctype, const char *body)
{
	char head[256];
	const char *reason = status == 200 ? "OK" : status == 404 ? "Not Found" :
			     status == 405 ? "Method Not Allowed" : status == 503 ? "Service Unavailable" :
			     "Bad Request";
	size_t blen = strlen(body);
	int hl = snprintf(head, sizeof(head),
			  "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n",
			  status, reason, ctype, blen);
	struct iovec iov[2] = { { head, (size_t)hl }, { (void *)body, blen } };
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = 2 };

	/* A fresh socket's send buffer takes the whole answer; if not, drop it. */
	if (sendmsg(c->fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
		hl_log(HL_LOG_DEBUG, "metrics: send: %s", strerror(errno));
}

static void route(struct conn *c)
{
	struct agent *a = c->srv->a;
	char method[8], path[256];
	char *text;

	if (sscanf(c->req, "%7s %255s", method, path) != 2) {
		respond(c, 400, "text/plain", "bad request\n");
		return;
	}
	path[strcspn(path, "?")] = '\0';
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
		respond(c, 405, "text/plain", "only GET\n");
	} else if (strcmp(path, "/metrics") == 0) {
		text = hl_metrics_text(a);
		respond(c, text ? 200 : 503, "text/plain; version=0.0.4; charset=utf-8", text ? text : "out of memory\n");
		free(text);
	} else if (strcmp(path, "/healthz") == 0) {
		respond(c, 200, "text/plain", "ok\n");
	} else if (strcmp(path, "/readyz") == 0) {
		bool ready = atomic_load(&a->ready);

		respond(c, ready ? 200 : 503, "text/plain", ready ? "ready\n" : "not ready\n");
	} else {
		respond(c, 404, "text/plain", "not found (try /metrics, /healthz, /readyz)\n");
	}
}

/* Reads what is there. Returns true when @c is done (answered, or gone). */
static bool conn_read(struct conn *c)
{
	ssize_t n = recv(c->fd, c->req + c->len, sizeof(c->req) - 1 - c->len, MSG_DONTWAIT);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return false;
	if (n <= 0)
		return true;
	c->len += (size_t)n;
	c->req[c->len] = '\0';
	if (strstr(c->req, "\r\n\r\n") || strstr(c->req, "\n\n"))
		route(c);
	else if (c->len < sizeof(c->req) - 1)
		return false;
	else
		respond(c, 400, "text/plain", "request too large\n");
	return true;
}

static void on_conn(struct hl_loop *loop, int fd, uint32_t events, void *arg)
{
	struct conn *c = arg;

	(void)loop; (void)fd; (void)events;
	if (conn_read(c))
		conn_close(c);
}

static void on_idle(struct hl_loop *loop, void *arg)
{
	struct conn *c = arg;

	(void)loop;
	c->timer = 0;
	conn_close(c);
}

/* A free slot, made by closing the oldest connection if need be. */
static unsigned slot_take(struct hl_metrics_srv *s)
{
	unsigned slot = 0, old = 0;

	while (slot < MAX_CONNS && s->conns[slot])
		slot++;
	if (slot < MAX_CONNS)
		return slot;
	for (unsigned i = 1; i < MAX_CONNS; i++)
		if (s->conns[i]->seq < s->conns[old]->seq)
			old = i;
	conn_close(s->conns[old]);
	return old;
}

static void on_resume(struct hl_loop *loop, void *arg)
{
	struct hl_metrics_srv *s = arg;

	s->resume = 0;
	hl_loop_mod(loop, s->fd, EPOLLIN);
}

static void on_accept(struct hl_loop *loop, int fd, uint32_t events, void *arg)
{
	struct hl_metrics_srv *s = arg;
	struct conn *c;
	int cfd;

	(void)events;
	while ((cfd = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK)) >= 0) {
		unsigned slot;

		c = calloc(1, sizeof(*c));
		if (!c) {
			close(cfd);
			continue;
		}
		c->srv = s;
		c->fd = cfd;
		c->seq = ++s->seq;
		/* A probe's request is usually here already. */
		if (conn_read(c)) {
			close(cfd);
			free(c);
			continue;
		}
		slot = slot_take(s);
		if (hl_loop_add(loop, cfd, EPOLLIN, on_conn, c) < 0) {
			free(c);
			close(cfd);
			continue;
		}
		s->conns[slot] = c;
		s->n_conns++;
		c->timer = hl_timer_add(loop, IDLE_MS, on_idle, c);
	}
	if (errno == EMFILE || errno == ENFILE) {
		/* Out of fds: level-triggered, the backlog would wake us
		 * at once again. Pause, look again later. */
		hl_log(HL_LOG_WARN, "metrics: accept: %s; pausing %d ms", strerror(errno), PAUSE_MS);
		if (!s->resume && hl_loop_mod(loop, fd, 0) == 0)
			s->resume = hl_timer_add(loop, PAUSE_MS, on_resume, s);
	}
}

static int parse_addr(const char *addr, struct addrinfo **res)
{
	char host[128];
	const char *colon = strrchr(addr, ':');
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE | AI_NUMERICSERV };
	size_t hl;

	if (!colon || !colon[1])
		return -EINVAL;
	hl = (size_t)(colon - addr);
	if (hl >= sizeof(host))
		return -EINVAL;
	memcpy(host, addr, hl);
	host[hl] = '\0';
	if (host[0] == '[' && hl > 1 && host[hl - 1] == ']') {
		memmove(host, host + 1, hl - 2);
		host[hl - 2] = '\0';
	}
	return getaddrinfo(host[0] ? host : NULL, colon + 1, &hints, res) == 0 ? 0 : -EINVAL;
}

int hl_metrics_listen(struct agent *a, const char *addr)
{
	struct hl_metrics_srv *s;
	struct addrinfo *ai;
	int fd, rc, one = 1;

	rc = parse_addr(addr, &ai);
	if (rc < 0)
		return rc;
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 64) < 0) {
		rc = -errno;
		if (fd >= 0)
			close(fd);
		freeaddrinfo(ai);
		return rc;
	}
	freeaddrinfo(ai);
	s = calloc(1, sizeof(*s));
	if (!s || (rc = hl_loop_add(a->loop, fd, EPOLLIN, on_accept, s)) < 0) {
		free(s);
		close(fd);
		return s ? rc : -ENOMEM;
	}
	s->a = a;
	s->fd = fd;
	a->msrv = s;
	return 0;
}

void hl_metrics_close(struct agent *a)
{
	struct hl_metrics_srv *s = a->msrv;

	if (!s)
		return;
	for (unsigned i = 0; i < MAX_CONNS; i++)
		if (s->conns[i])
			conn_close(s->conns[i]);
	if (s->resume > 0)
		hl_timer_cancel(a->loop, s->resume);
	hl_loop_del(a->loop, s->fd);
	close(s->fd);
	free(s);
	a->msrv = NULL;
}
