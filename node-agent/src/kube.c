/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the agent feeds the monitor from the API server: the Service map
 * (Services + EndpointSlices, resolved to ClusterIP:port -> endpoint
 * address:port) and every address of each local shm pod (its record's,
 * from ADD and the chained prevResult, plus status.podIPs from the pod
 * watch, which has the primary network's address when hostlane is a
 * secondary network).
 *
 * The informers run in threads of their own and only say "changed"
 * (an eventfd); the loop then rebuilds the map from the informers' caches
 * and swaps it into the monitor whole. A burst of events costs one rebuild.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>

#include "daemon.h"
#include "hlk8s.h"
#include "monitor.h"

#define LABEL_SERVICE "kubernetes.io/service-name"

struct kube_thread {
	struct hl_kube *k;
	struct hlk8s_informer *inf;
	pthread_t tid;
	bool running;
};

struct hl_kube {
	struct agent *a;
	int fd;                              /* eventfd: something changed */
	atomic_bool svcs_dirty, pods_dirty;
	struct kube_thread svc, slices;
	uint64_t rebuilds;
};

/* ---- from the informer threads ---- */

static void poke(struct hl_kube *k)
{
	uint64_t one = 1;

	if (write(k->fd, &one, sizeof(one)) < 0) {
		/* the counter is non-zero already: the loop will look */
	}
}

static void on_svc_change(void *arg, enum hlk8s_change ch, const void *obj)
{
	struct hl_kube *k = arg;

	(void)ch; (void)obj;
	atomic_store(&k->svcs_dirty, true);
	poke(k);
}

static void on_pod_change(void *arg, enum hlk8s_change ch, const void *obj)
{
	struct hl_kube *k = arg;

	(void)ch; (void)obj;
	atomic_store(&k->pods_dirty, true);
	poke(k);
}

void hl_kube_pod_changed(struct agent *a)
{
	if (a->kube)
		on_pod_change(a->kube, HLK8S_UPSERT, NULL);
}

static void *informer_main(void *arg)
{
	struct kube_thread *t = arg;
	int rc = hlk8s_informer_run(t->inf, t->k->a->k8s_stop_fd);

	if (rc < 0)
		hl_log(HL_LOG_WARN, "kubernetes watch ended: %s", strerror(-rc));
	return NULL;
}

/* ---- the Service map (loop thread) ---- */

/* One endpoint copied out of a slice, with its port for one port name. */
struct kep {
	char addr[HLK8S_IP_MAX];
	bool ready, serving, terminating, local;
};

struct kslice {
	char svc[HL_NAME_MAX * 2];           /* "ns/service" */
	int family;
	struct kep *eps;
	size_t n_eps;
	struct hlk8s_slice_port *ports;
	size_t n_ports;
};

struct slices {
	struct kslice *v;
	size_t n, cap;
	const char *node;
	bool oom;
};

static void slice_copy(void *arg, const void *obj)
{
	const struct hlk8s_endpointslice *sl = obj;
	struct slices *ss = arg;
	struct kslice *k;

	if (!sl->service || !sl->family || ss->oom)
		return;
	if (ss->n == ss->cap) {
		size_t cap = ss->cap ? ss->cap * 2 : 64;
		struct kslice *v = realloc(ss->v, cap * sizeof(*v));

		if (!v) {
			ss->oom = true;
			return;
		}
		ss->v = v;
		ss->cap = cap;
	}
	k = &ss->v[ss->n];
	memset(k, 0, sizeof(*k));
	snprintf(k->svc, sizeof(k->svc), "%s/%s", sl->meta.ns, sl->service);
	k->family = sl->family;
	k->eps = calloc(sl->n_eps ? sl->n_eps : 1, sizeof(*k->eps));
	k->ports = calloc(sl->n_ports ? sl->n_ports : 1, sizeof(*k->ports));
	if (!k->eps || !k->ports) {
		free(k->eps);
		free(k->ports);
		ss->oom = true;
		return;
	}
	for (size_t i = 0; i < sl->n_eps; i++) {
		const struct hlk8s_endpoint *e = &sl->eps[i];

		memcpy(k->eps[i].addr, e->addr, sizeof(k->eps[i].addr));
		k->eps[i].ready = e->ready;
		k->eps[i].serving = e->serving;
		k->eps[i].terminating = e->terminating;
		k->eps[i].local = e->node && ss->node && !strcmp(e->node, ss->node);
	}
	k->n_eps = sl->n_eps;
	memcpy(k->ports, sl->ports, sl->n_ports * sizeof(*k->ports));
	k->n_ports = sl->n_ports;
	ss->n++;
}

static int kslice_cmp(const void *x, const void *y)
{
	return strcmp(((const struct kslice *)x)->svc, ((const struct kslice *)y)->svc);
}

static void slices_free(struct slices *ss)
{
	for (size_t i = 0; i < ss->n; i++) {
		free(ss->v[i].eps);
		free(ss->v[i].ports);
	}
	free(ss->v);
}

struct build {
	struct slices *ss;
	struct hl_mon_svcmap *m;
	struct hl_mon_svc_endpoint *eps;     /* scratch, HL_MON_SVC_EPS_MAX */
	size_t ports;
};

static enum hl_mon_svc_topology topology(const struct hlk8s_service *s)
{
	if (s->itp_local)
		return HL_MON_SVC_LOCAL;
	/* PreferClose (PreferSameZone, PreferSameNode in newer releases):
	 * this node is as close as it gets. */
	if (!strncmp(s->traffic_distribution, "Prefer", 6))
		return HL_MON_SVC_PREFER_LOCAL;
	return HL_MON_SVC_ANY;
}

/* The endpoints of Service port @p in family @family: each slice of the
 * Service, its port of the same name (a named targetPort is resolved in
 * the slice), each endpoint. */
static size_t port_eps(struct build *b, const char *key, int family,
		       const struct hlk8s_service_port *p)
{
	struct kslice probe = { .family = 0 }, *first;
	size_t n = 0;

	snprintf(probe.svc, sizeof(probe.svc), "%s", key);
	first = b->ss->n ? bsearch(&probe, b->ss->v, b->ss->n, sizeof(*first), kslice_cmp) : NULL;
	while (first && first > b->ss->v && !strcmp(first[-1].svc, key))
		first--;
	for (struct kslice *k = first; k && k < b->ss->v + b->ss->n && !strcmp(k->svc, key); k++) {
		int32_t port = -1;

		if (k->family != family)
			continue;
		for (size_t i = 0; i < k->n_ports; i++)
			if (!strcmp(k->ports[i].name, p->name) && !strcmp(k->ports[i].protocol, "TCP"))
				port = k->ports[i].port;
		if (port <= 0 || port > 65535)
			continue;
		for (size_t i = 0; i < k->n_eps && n < HL_MON_SVC_EPS_MAX; i++, n++) {
			b->eps[n] = (struct hl_mon_svc_endpoint){
				.addr = k->eps[i].addr, .port = (uint16_t)port,
				.ready = k->eps[i].ready, .serving = k->eps[i].serving,
				.terminating = k->eps[i].terminating, .local = k->eps[i].local,
			};
		}
	}
	return n;
}

static void svc_add(void *arg, const void *obj)
{
	const struct hlk8s_service *s = obj;
	struct build *b = arg;
	char key[HL_NAME_MAX * 2], name[HL_MON_SVC_NAME_MAX];

	if (!strcmp(s->type, "ExternalName"))
		return;
	snprintf(key, sizeof(key), "%s/%s", s->meta.ns, s->meta.name);
	for (size_t c = 0; c < s->n_cluster_ips; c++) {
		int family = strchr(s->cluster_ips[c], ':') ? 6 : 4;

		for (size_t i = 0; i < s->n_ports; i++) {
			const struct hlk8s_service_port *p = &s->ports[i];
			struct hl_mon_svc ms = {
				.name = name, .vip = s->cluster_ips[c], .port = p->port,
				.topology = topology(s), .affinity = s->affinity,
				.affinity_timeout_s = s->affinity_timeout, .eps = b->eps,
			};

			if (strcmp(p->protocol, "TCP"))
				continue;
			/* Long names are cut: the name is for people to read. */
			if (p->name[0])
				snprintf(name, sizeof(name), "%.100s:%.20s", key, p->name);
			else
				snprintf(name, sizeof(name), "%.100s:%u", key, p->port);
			ms.n_eps = port_eps(b, key, family, p);
			if (hl_mon_svcmap_add(b->m, &ms) == 0)
				b->ports++;
		}
	}
}

static void rebuild_services(struct hl_kube *k)
{
	struct agent *a = k->a;
	struct slices ss = { .node = a->cfg.node_name };
	struct build b = { .ss = &ss };

	hlk8s_informer_each(k->slices.inf, slice_copy, &ss);
	b.m = hl_mon_svcmap_new();
	b.eps = calloc(HL_MON_SVC_EPS_MAX, sizeof(*b.eps));
	if (ss.oom || !b.m || !b.eps) {
		/* Keep the map we have; the next change tries again. */
		hl_log(HL_LOG_ERROR, "service map: out of memory");
		atomic_store(&k->svcs_dirty, true);
		hl_mon_svcmap_free(b.m);
		goto out;
	}
	if (ss.n)  /* ss.v is NULL without slices: not for qsort() */
		qsort(ss.v, ss.n, sizeof(*ss.v), kslice_cmp);
	hlk8s_informer_each(k->svc.inf, svc_add, &b);
	hl_mon_set_services(a->ep_node, b.m);
	k->rebuilds++;
	hl_log(HL_LOG_DEBUG, "service map: %zu service ports from %zu endpoint slices", b.ports, ss.n);
out:
	free(b.eps);
	slices_free(&ss);
}

/* ---- pod addresses (loop thread) ---- */

struct pod_ips {
	char ips[HLK8S_POD_IPS][HLK8S_IP_MAX];
	size_t n;
};

static void pod_ips_copy(void *arg, const void *obj)
{
	const struct hlk8s_pod *p = obj;
	struct pod_ips *out = arg;

	out->n = p->n_ips;
	memcpy(out->ips, p->ips, sizeof(out->ips));
}

static void add_ip(const char **v, char (*store)[HL_IP_MAX], size_t *n, const char *ip)
{
	char plain[HL_IP_MAX];

	snprintf(plain, sizeof(plain), "%s", ip);
	plain[strcspn(plain, "/")] = '\0';
	for (size_t i = 0; i < *n; i++)
		if (!strcmp(v[i], plain))
			return;
	if (*n == HLK8S_POD_IPS)
		return;
	memcpy(store[*n], plain, sizeof(plain));
	v[*n] = store[*n];
	(*n)++;
}

void hl_kube_pod_ips(struct agent *a, struct hl_pod *p)
{
	struct hlk8s_informer *pods = a->k8s ? hlk8s_client_pods(a->k8s) : NULL;
	struct pod_ips w = { .n = 0 };
	char store[HLK8S_POD_IPS][HL_IP_MAX];
	const char *v[HLK8S_POD_IPS];
	size_t n = 0;
	int rc;

	if (!p->ep)
		return;
	/* hostlane's own first: the address a connection's local end shows. */
	for (size_t i = 0; i < p->n_ips; i++)
		add_ip(v, store, &n, p->ips[i]);
	if (pods && p->pod_ns[0] && p->pod_name[0])
		hlk8s_informer_get(pods, p->pod_ns, p->pod_name, pod_ips_copy, &w);
	for (size_t i = 0; i < w.n; i++)
		add_ip(v, store, &n, w.ips[i]);
	rc = hl_mon_pod_set_ips(p->ep, v, n);
	if (rc)
		hl_log(HL_LOG_WARN, "pod %s/%s: addresses not updated: %s", p->pod_ns, p->pod_name,
		       strerror(-rc));
}

static void refresh_pods(struct hl_kube *k)
{
	struct agent *a = k->a;

	/* The records change under a->lock; their endpoints only on this
	 * thread, which is where we are. */
	pthread_mutex_lock(&a->lock);
	for (size_t i = 0; i < a->n_pods; i++)
		hl_kube_pod_ips(a, a->pods[i]);
	pthread_mutex_unlock(&a->lock);
}

static void on_kube(struct hl_loop *loop, int fd, uint32_t events, void *arg)
{
	struct hl_kube *k = arg;
	uint64_t v;

	(void)loop; (void)events;
	if (read(fd, &v, sizeof(v)) < 0) {
		/* EAGAIN: nothing new */
	}
	if (atomic_exchange(&k->svcs_dirty, false))
		rebuild_services(k);
	if (atomic_exchange(&k->pods_dirty, false))
		refresh_pods(k);
}

/* ---- start and stop ---- */

static int thread_start(struct hl_kube *k, struct kube_thread *t, enum hlk8s_kind kind)
{
	struct hlk8s_informer_opts o = { .kind = kind, .fn = on_svc_change, .arg = k };

	t->k = k;
	t->inf = hlk8s_informer_new(k->a->k8s, &o);
	if (!t->inf)
		return -errno;
	if (pthread_create(&t->tid, NULL, informer_main, t) != 0)
		return -EAGAIN;
	t->running = true;
	return 0;
}

int hl_kube_start(struct agent *a)
{
	struct hl_kube *k;
	int rc;

	if (!a->k8s || !hlk8s_client_pods(a->k8s))
		return 0;
	k = calloc(1, sizeof(*k));
	if (!k)
		return -ENOMEM;
	k->a = a;
	k->fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (k->fd < 0) {
		free(k);
		return -errno;
	}
	rc = hl_loop_add(a->loop, k->fd, EPOLLIN, on_kube, k);
	if (rc < 0) {
		close(k->fd);
		free(k);
		return rc;
	}
	a->kube = k;
	/* The pod watch has not started yet: its handler can still be set. */
	rc = hlk8s_informer_set_handler(hlk8s_client_pods(a->k8s), on_pod_change, NULL, k);
	if (!rc)
		rc = thread_start(k, &k->svc, HLK8S_SERVICES);
	if (!rc)
		rc = thread_start(k, &k->slices, HLK8S_ENDPOINTSLICES);
	return rc;
}

void hl_kube_stop(struct agent *a)
{
	struct hl_kube *k = a->kube;

	if (!k)
		return;
	/* k8s_stop_fd has fired: the informer threads end. */
	if (k->svc.running)
		pthread_join(k->svc.tid, NULL);
	if (k->slices.running)
		pthread_join(k->slices.tid, NULL);
	hlk8s_informer_free(k->svc.inf);
	hlk8s_informer_free(k->slices.inf);
	hl_loop_del(a->loop, k->fd);
	close(k->fd);
	free(k);
	a->kube = NULL;
}

void hl_kube_counts(struct agent *a, uint64_t *rebuilds)
{
	*rebuilds = a->kube ? a->kube->rebuilds : 0;
}
