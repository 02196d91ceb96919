/* SPDX-License-Identifier: Apache-2.0 */
/*
 * NetworkPolicy admission (netpol.h, docs/kubernetes.md "NetworkPolicy").
 * Threads: one informer each for NetworkPolicies and Namespaces (the pod
 * watch is the client's own, which calls our handler too), and a builder
 * that turns every batch of changes into a table and posts it to the loop
 * through an eventfd: the monitor is the loop thread's alone, and the
 * builder never waits for the loop (which may be shutting down).
 */
#include "netpol.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>

#include <cjson/cJSON.h>

#include "daemon.h"
#include "hlk8s.h"
#include "hlnp.h"
#include "monitor.h"
#include "netpol_unknown.h"

/* What a first table waits for: the three lists, and an answer about
 * policy kinds the agent does not enforce (netpol_unknown.c). */
enum { SRC_POLICIES, SRC_NAMESPACES, SRC_PODS, SRC_UNKNOWN, SRC_COUNT };

struct hl_netpol {
	struct agent *a;
	struct hlnp_store *store;
	struct np_unknown *unknown;
	struct hlk8s_informer *inf[2];        /* SRC_POLICIES, SRC_NAMESPACES */
	pthread_t tid[2], builder;
	bool running[2], has_builder;
	int efd;                              /* builder -> loop: a table is pending */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool dirty, stop, synced[SRC_COUNT];
	struct hl_pol_table *pending;         /* under lock */
	uint64_t builds;
	struct hlnp_build_stats bs;           /* of the last build, under lock */
	/* The newest resourceVersion among the changes seen, the one of the
	 * pending table and the one of the table the monitor has (a number
	 * for display and tests: Kubernetes only promises an opaque string,
	 * so an unparsable one counts as 0). */
	uint64_t seen_rv, pending_rv, applied_rv;
	/* Build number of the pending table and of the monitor's (a table
	 * superseded before the loop took it is never applied). */
	uint64_t pending_build, applied_build;
	int64_t last_build;
};

static void changed(struct hl_netpol *np, const struct hlk8s_meta *m)
{
	uint64_t rv = m && m->rv ? strtoull(m->rv, NULL, 10) : 0;

	pthread_mutex_lock(&np->lock);
	if (rv > np->seen_rv)
		np->seen_rv = rv;
	np->dirty = true;
	pthread_cond_signal(&np->cond);
	pthread_mutex_unlock(&np->lock);
}

static void synced(struct hl_netpol *np, int src)
{
	pthread_mutex_lock(&np->lock);
	if (!np->synced[src])
		hl_log(HL_LOG_INFO, "networkpolicy: %s synced",
		       src == SRC_POLICIES ? "networkpolicies" : src == SRC_NAMESPACES ? "namespaces" :
		       src == SRC_PODS ? "pods" : "policy kinds not enforced");
	np->synced[src] = true;
	np->dirty = true;
	pthread_cond_signal(&np->cond);
	pthread_mutex_unlock(&np->lock);
}

static void raw_handler(struct hl_netpol *np, enum hlnp_kind k, enum hlk8s_change ch, const void *obj)
{
	const struct hlk8s_raw *r = obj;
	int rc = ch == HLK8S_DELETE ? hlnp_store_del(np->store, k, r->meta.ns, r->meta.name)
				    : hlnp_store_put(np->store, k, r->json);

	if (rc && rc != -ENOENT)
		hl_log(HL_LOG_WARN, "networkpolicy: %s %s%s%s: %s", ch == HLK8S_DELETE ? "delete" : "store",
		       r->meta.ns ? r->meta.ns : "", r->meta.ns ? "/" : "", r->meta.name, strerror(-rc));
	changed(np, &r->meta);
}

static void policy_cb(void *arg, enum hlk8s_change ch, const void *obj)
{
	raw_handler(arg, HLNP_POLICY, ch, obj);
}

static void ns_cb(void *arg, enum hlk8s_change ch, const void *obj)
{
	raw_handler(arg, HLNP_NAMESPACE, ch, obj);
}

/* The pod as the store reads it: metadata (labels), containers' named
 * ports and the phase. Built from the typed pod the client keeps. */
static cJSON *pod_json(const struct hlk8s_pod *p)
{
	cJSON *o = cJSON_CreateObject(), *md, *l, *spec, *cs, *c, *ports, *st;
	bool ok;

	md = cJSON_AddObjectToObject(o, "metadata");
	ok = md && cJSON_AddStringToObject(md, "namespace", p->meta.ns ? p->meta.ns : "") &&
	     cJSON_AddStringToObject(md, "name", p->meta.name);
	l = ok ? cJSON_AddObjectToObject(md, "labels") : NULL;
	for (size_t i = 0; l && i < p->meta.n_labels; i++)
		ok = ok && cJSON_AddStringToObject(l, p->meta.labels[i].key, p->meta.labels[i].value);
	spec = cJSON_AddObjectToObject(o, "spec");
	cs = spec ? cJSON_AddArrayToObject(spec, "containers") : NULL;
	c = cJSON_CreateObject();
	if (!cs || !c || !cJSON_AddItemToArray(cs, c)) {
		cJSON_Delete(c);
		ok = false;
	}
	ports = ok ? cJSON_AddArrayToObject(c, "ports") : NULL;
	for (size_t i = 0; ports && i < p->n_ports; i++) {
		cJSON *pp = cJSON_CreateObject();

		ok = ok && pp && cJSON_AddItemToArray(ports, pp) &&
		     cJSON_AddStringToObject(pp, "name", p->ports[i].name) &&
		     cJSON_AddNumberToObject(pp, "containerPort", p->ports[i].port) &&
		     cJSON_AddStringToObject(pp, "protocol", p->ports[i].protocol);
	}
	st = cJSON_AddObjectToObject(o, "status");
	if (!ok || !l || !ports || !st || (p->phase[0] && !cJSON_AddStringToObject(st, "phase", p->phase))) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

static void pod_cb(void *arg, enum hlk8s_change ch, const void *obj)
{
	struct hl_netpol *np = arg;
	const struct hlk8s_pod *p = obj;
	cJSON *j;

	if (ch == HLK8S_DELETE) {
		hlnp_store_del(np->store, HLNP_POD, p->meta.ns, p->meta.name);
	} else if (!(j = pod_json(p)) || hlnp_store_put(np->store, HLNP_POD, j)) {
		/* Left out, the pod is unknown to the table: never admitted. */
		hl_log(HL_LOG_WARN, "networkpolicy: pod %s/%s not stored", p->meta.ns ? p->meta.ns : "",
		       p->meta.name);
		hlnp_store_del(np->store, HLNP_POD, p->meta.ns, p->meta.name);
		cJSON_Delete(j);
	} else {
		cJSON_Delete(j);
	}
	changed(np, &p->meta);
	/* This handler took the pod informer's over from the Services code
	 * (hl_kube_start() ran first): it is told too. */
	hl_kube_pod_changed(np->a);
}

static void policies_synced(void *arg) { synced(arg, SRC_POLICIES); }
static void unknown_checked(void *arg) { synced(arg, SRC_UNKNOWN); }
static void namespaces_synced(void *arg) { synced(arg, SRC_NAMESPACES); }
static void pods_synced(void *arg) { synced(arg, SRC_PODS); }

/* Loop thread: the pending table goes to the monitor. */
static void on_table(struct hl_loop *loop, int fd, uint32_t events, void *arg)
{
	struct hl_netpol *np = arg;
	struct hl_pol_table *t;
	uint64_t v, rv, build;

	(void)loop; (void)events;
	if (read(fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		hl_log(HL_LOG_ERROR, "networkpolicy eventfd: %s", strerror(errno));
	pthread_mutex_lock(&np->lock);
	t = np->pending;
	rv = np->pending_rv;
	build = np->pending_build;
	np->pending = NULL;
	pthread_mutex_unlock(&np->lock);
	if (!t)
		return;
	hl_mon_policy_set(np->a->ep_node, t);
	pthread_mutex_lock(&np->lock);
	np->applied_rv = rv;
	np->applied_build = build;
	pthread_mutex_unlock(&np->lock);
}

static bool all_synced(const struct hl_netpol *np)
{
	return np->synced[SRC_POLICIES] && np->synced[SRC_NAMESPACES] && np->synced[SRC_PODS] &&
	       np->synced[SRC_UNKNOWN];
}

/* Builds a table whenever something changed once every source synced:
 * until then the monitor has none and admits nothing (fail closed). */
static void *builder_main(void *arg)
{
	struct hl_netpol *np = arg;
	uint64_t one = 1;

	pthread_mutex_lock(&np->lock);
	for (;;) {
		struct hlnp_build_stats bs;
		struct hl_pol_table *t;
		uint64_t rv;

		while (!np->stop && !(np->dirty && all_synced(np)))
			pthread_cond_wait(&np->cond, &np->lock);
		if (np->stop)
			break;
		np->dirty = false;
		rv = np->seen_rv;
		pthread_mutex_unlock(&np->lock);
		t = hlnp_store_build(np->store, &bs);
		pthread_mutex_lock(&np->lock);
		if (!t) {
			hl_log(HL_LOG_ERROR, "networkpolicy: table not built: %s", strerror(errno));
			np->dirty = true;  /* the next change retries */
			continue;
		}
		if (bs.refused && strcmp(bs.last_refused, np->bs.last_refused))
			hl_log(HL_LOG_WARN, "networkpolicy: %zu policies not understood, their namespaces "
			       "get no fast path (%s)", bs.refused, bs.last_refused);
		hl_pol_table_free(np->pending);  /* superseded before the loop took it */
		np->pending = t;
		np->pending_rv = rv;
		np->bs = bs;
		np->builds++;
		np->pending_build = np->builds;
		np->last_build = (int64_t)time(NULL);
		if (write(np->efd, &one, sizeof(one)) < 0)
			hl_log(HL_LOG_ERROR, "networkpolicy eventfd: %s", strerror(errno));
	}
	pthread_mutex_unlock(&np->lock);
	return NULL;
}

struct inf_arg {
	struct hl_netpol *np;
	int i;
};

static void *inf_main(void *arg)
{
	struct hl_netpol *np = ((struct inf_arg *)arg)->np;
	int i = ((struct inf_arg *)arg)->i;
	int rc;

	free(arg);
	rc = hlk8s_informer_run(np->inf[i], np->a->k8s_stop_fd);
	if (rc < 0)
		hl_log(HL_LOG_WARN, "networkpolicy: informer ended: %s", strerror(-rc));
	return NULL;
}

int hl_netpol_start(struct agent *a)
{
	static const struct { enum hlk8s_kind kind; hlk8s_handler fn; void (*synced)(void *); } src[2] = {
		{ HLK8S_NETWORKPOLICIES, policy_cb, policies_synced },
		{ HLK8S_NAMESPACES, ns_cb, namespaces_synced },
	};
	struct hl_netpol *np;

	if (a->cfg.netpol_off || !a->k8s)
		return 0;
	np = calloc(1, sizeof(*np));
	if (!np)
		return -ENOMEM;
	np->a = a;
	np->efd = -1;
	pthread_mutex_init(&np->lock, NULL);
	pthread_cond_init(&np->cond, NULL);
	a->netpol = np;
	np->store = hlnp_store_new();
	if (!np->store)
		return -ENOMEM;
	/* Read once: a SIGHUP's new config reaches only the loop thread. */
	np->unknown = np_unknown_new(a->k8s, np->store, a->cfg.unknown_policies_ignore,
				     a->cfg.unknown_policies_check_s, unknown_checked, np);
	if (!np->unknown)
		return -ENOMEM;
	/* "ignore": reported, never waited for. */
	np->synced[SRC_UNKNOWN] = a->cfg.unknown_policies_ignore;
	for (int i = 0; i < 2; i++) {
		struct hlk8s_informer_opts o = { .kind = src[i].kind, .fn = src[i].fn,
						 .synced = src[i].synced, .arg = np };

		np->inf[i] = hlk8s_informer_new(a->k8s, &o);
		if (!np->inf[i])
			return -errno;
	}
	if (hlk8s_informer_set_handler(hlk8s_client_pods(a->k8s), pod_cb, pods_synced, np))
		return -EBUSY;
	np->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (np->efd < 0)
		return -errno;
	if (hl_loop_add(a->loop, np->efd, EPOLLIN, on_table, np) < 0)
		return -ENOMEM;
	/* From here on the monitor admits nothing until the first table. */
	hl_mon_policy_enforce(a->ep_node, true);
	return 0;
}

int hl_netpol_run(struct agent *a)
{
	struct hl_netpol *np = a->netpol;

	if (!np)
		return 0;
	if (pthread_create(&np->builder, NULL, builder_main, np))
		return -ENOMEM;
	np->has_builder = true;
	for (int i = 0; i < 2; i++) {
		struct inf_arg *ia = malloc(sizeof(*ia));

		if (!ia)
			return -ENOMEM;
		*ia = (struct inf_arg){ np, i };
		if (pthread_create(&np->tid[i], NULL, inf_main, ia)) {
			free(ia);
			return -ENOMEM;
		}
		np->running[i] = true;
	}
	if (np_unknown_start(np->unknown, a->k8s_stop_fd))
		return -ENOMEM;
	hl_log(HL_LOG_INFO, "networkpolicy: enforcing; watching networkpolicies and namespaces; looking for "
	       "policy kinds not enforced every %lds (%s)", a->cfg.unknown_policies_check_s,
	       a->cfg.unknown_policies_ignore ? "unknownPolicies \"ignore\": reported only"
	       : "their pods get no fast path");
	if (a->cfg.unknown_policies_ignore)
		hl_log(HL_LOG_WARN, "networkpolicy: unknownPolicies is \"ignore\": Calico, Cilium, Antrea or "
		       "AdminNetworkPolicy objects will NOT keep any connection off the fast path");
	return 0;
}

void hl_netpol_stop(struct agent *a)
{
	struct hl_netpol *np = a->netpol;

	if (!np)
		return;
	for (int i = 0; i < 2; i++)
		if (np->running[i])
			pthread_join(np->tid[i], NULL);
	np_unknown_free(np->unknown);  /* joins its thread: it notifies us */
	np->unknown = NULL;
	pthread_mutex_lock(&np->lock);
	np->stop = true;
	pthread_cond_signal(&np->cond);
	pthread_mutex_unlock(&np->lock);
	if (np->has_builder)
		pthread_join(np->builder, NULL);
	for (int i = 0; i < 2; i++)
		hlk8s_informer_free(np->inf[i]);
	if (np->efd >= 0) {
		if (a->loop)
			hl_loop_del(a->loop, np->efd);
		close(np->efd);
	}
	hl_pol_table_free(np->pending);
	hlnp_store_free(np->store);
	pthread_mutex_destroy(&np->lock);
	pthread_cond_destroy(&np->cond);
	free(np);
	a->netpol = NULL;
}

static const char *state_of(struct hl_netpol *np)
{
	return !np ? "off" : np->builds ? "synced" : "syncing";
}

struct mon_numbers {
	struct hl_mon_policy_stats st;
};

static void mon_task(struct agent *a, void *arg)
{
	hl_mon_policy_get_stats(a->ep_node, &((struct mon_numbers *)arg)->st);
}

void hl_netpol_status(struct agent *a, cJSON *o)
{
	struct hl_netpol *np = a->netpol;
	cJSON *k = cJSON_AddObjectToObject(o, "networkPolicy");
	struct mon_numbers m = { 0 };

	if (!k)
		return;
	if (!np) {
		cJSON_AddStringToObject(k, "state", "off");
		cJSON_AddStringToObject(k, "reason", a->cfg.netpol_off ? "networkPolicy is \"off\" in the config"
					: "no Kubernetes API: every fast-path connection admitted");
		return;
	}
	hl_run_on_loop(a, mon_task, &m);
	pthread_mutex_lock(&np->lock);
	cJSON_AddStringToObject(k, "state", state_of(np));
	cJSON_AddBoolToObject(k, "policiesSynced", np->synced[SRC_POLICIES]);
	cJSON_AddBoolToObject(k, "namespacesSynced", np->synced[SRC_NAMESPACES]);
	cJSON_AddBoolToObject(k, "podsSynced", np->synced[SRC_PODS]);
	cJSON_AddNumberToObject(k, "policies", (double)np->bs.policies);
	cJSON_AddNumberToObject(k, "refused", (double)np->bs.refused);
	cJSON_AddNumberToObject(k, "unknownIsolated", (double)np->bs.unknown_ns);
	cJSON_AddStringToObject(k, "lastRefused", np->bs.last_refused);
	cJSON_AddNumberToObject(k, "namespaces", (double)np->bs.namespaces);
	cJSON_AddNumberToObject(k, "pods", (double)np->bs.pods);
	cJSON_AddNumberToObject(k, "builds", (double)np->builds);
	cJSON_AddNumberToObject(k, "appliedBuild", (double)np->applied_build);
	cJSON_AddNumberToObject(k, "lastBuild", (double)np->last_build);
	cJSON_AddNumberToObject(k, "resourceVersion", (double)np->applied_rv);
	pthread_mutex_unlock(&np->lock);
	cJSON_AddNumberToObject(k, "tables", (double)m.st.generation);
	cJSON_AddNumberToObject(k, "admitted", (double)m.st.admitted);
	cJSON_AddNumberToObject(k, "denied", (double)m.st.denied);
	cJSON_AddNumberToObject(k, "directOff", (double)m.st.direct_off);
	np_unknown_status(np->unknown, k);
}

char *hl_netpol_unknown_metrics(struct agent *a)
{
	return a->netpol && a->netpol->unknown ? np_unknown_metrics(a->netpol->unknown) : NULL;
}

void hl_netpol_numbers(struct agent *a, struct hl_netpol_numbers *n)
{
	struct hl_netpol *np = a->netpol;
	struct hl_mon_policy_stats st;

	memset(n, 0, sizeof(*n));
	n->state = state_of(np);
	if (a->ep_node) {
		hl_mon_policy_get_stats(a->ep_node, &st);
		n->admitted = st.admitted;
		n->denied = st.denied;
		n->direct_off = st.direct_off;
	}
	if (!np)
		return;
	pthread_mutex_lock(&np->lock);
	n->policies = np->bs.policies;
	n->refused = np->bs.refused;
	n->builds = np->builds;
	pthread_mutex_unlock(&np->lock);
}
