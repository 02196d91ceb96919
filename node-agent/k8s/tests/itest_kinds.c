/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hlk8s-itest scenarios about informers of several kinds: Services and
 * EndpointSlices (cluster-wide) and the pods of the node with their
 * addresses and readiness, each told to a handler: the first LIST, watch
 * events, and a relist after 410 Gone told as the differences (the driver
 * is hlk8s_itest.c).
 */
#include "hlk8s_itest.h"

/* What the handlers were told, as lines "U|D kind ns/name detail". */
struct told {
	pthread_mutex_t mu;
	char lines[256][160];
	int n, synced[HLK8S_KIND_COUNT];
};

static struct told told = { .mu = PTHREAD_MUTEX_INITIALIZER };

static void detail(enum hlk8s_kind k, const void *obj, char *out, size_t len)
{
	const struct hlk8s_service *s = obj;
	const struct hlk8s_endpointslice *sl = obj;
	const struct hlk8s_pod *p = obj;

	out[0] = '\0';
	if (k == HLK8S_SERVICES && s->n_ports)
		snprintf(out, len, "%s:%u->%u", s->n_cluster_ips ? s->cluster_ips[0] : "None",
			 s->ports[0].port, s->ports[0].target_port);
	else if (k == HLK8S_ENDPOINTSLICES)
		for (size_t i = 0; i < sl->n_eps; i++)
			snprintf(out + strlen(out), len - strlen(out), "%s%s%s", i ? "," : "",
				 sl->eps[i].addr, sl->eps[i].ready ? "" : "(not ready)");
	else if (k == HLK8S_PODS)
		snprintf(out, len, "%s%s%s%s", p->n_ips ? p->ips[0] : "-", p->n_ips > 1 ? "," : "",
			 p->n_ips > 1 ? p->ips[1] : "", p->ready ? " ready" : "");
}

static void on_change(void *arg, enum hlk8s_change ch, const void *obj)
{
	enum hlk8s_kind k = (enum hlk8s_kind)(intptr_t)arg;
	const struct hlk8s_meta *m = obj;
	char d[128];

	detail(k, obj, d, sizeof(d));
	pthread_mutex_lock(&told.mu);
	if (told.n < 256)
		snprintf(told.lines[told.n++], sizeof(told.lines[0]), "%c %s %s/%s %s",
			 ch == HLK8S_UPSERT ? 'U' : 'D', hlk8s_kind_name(k), m->ns, m->name, d);
	pthread_mutex_unlock(&told.mu);
}

static void on_synced(void *arg)
{
	pthread_mutex_lock(&told.mu);
	told.synced[(intptr_t)arg]++;
	pthread_mutex_unlock(&told.mu);
}

/* Waits until a line equal to @want was told (after line @from). */
static int wait_told(int from, const char *want)
{
	long dl = now_ms() + WAIT_MS;

	for (;;) {
		pthread_mutex_lock(&told.mu);
		for (int i = from; i < told.n; i++) {
			if (!strcmp(told.lines[i], want)) {
				pthread_mutex_unlock(&told.mu);
				return 0;
			}
		}
		pthread_mutex_unlock(&told.mu);
		if (now_ms() > dl)
			break;
		sleep_ms(20);
	}
	fprintf(stderr, "never told: %s; told:\n", want);
	for (int i = 0; i < told.n; i++)
		fprintf(stderr, "  %s\n", told.lines[i]);
	return -1;
}

static int synced(enum hlk8s_kind k)
{
	int n;

	pthread_mutex_lock(&told.mu);
	n = told.synced[k];
	pthread_mutex_unlock(&told.mu);
	return n;
}

static int told_n(void)
{
	int n;

	pthread_mutex_lock(&told.mu);
	n = told.n;
	pthread_mutex_unlock(&told.mu);
	return n;
}

/* An informer of @k in a thread. */
struct runner {
	struct hlk8s_informer *inf;
	pthread_t t;
	int efd;
};

static void *run_thread(void *arg)
{
	struct runner *r = arg;

	hlk8s_informer_run(r->inf, r->efd);
	return NULL;
}

static int run_start(struct runner *r, struct hlk8s_client *c, enum hlk8s_kind k)
{
	struct hlk8s_informer_opts o = { .kind = k, .fn = on_change, .synced = on_synced,
					 .arg = (void *)(intptr_t)k };

	r->inf = hlk8s_informer_new(c, &o);
	r->efd = eventfd(0, EFD_CLOEXEC);
	if (!r->inf || r->efd < 0 || pthread_create(&r->t, NULL, run_thread, r))
		return -1;
	return 0;
}

static void run_stop(struct runner *r)
{
	uint64_t one = 1;

	if (write(r->efd, &one, sizeof(one)) == sizeof(one))
		pthread_join(r->t, NULL);
	close(r->efd);
	hlk8s_informer_free(r->inf);
}

static const char SVC_A[] =
	"{\"metadata\":{\"name\":\"a\",\"namespace\":\"shop\"},\"spec\":{\"type\":\"ClusterIP\","
	"\"clusterIP\":\"10.96.0.10\",\"clusterIPs\":[\"10.96.0.10\"],\"selector\":{\"app\":\"a\"},"
	"\"ports\":[{\"name\":\"http\",\"protocol\":\"TCP\",\"port\":80,\"targetPort\":8080}]}}";

/* An EndpointSlice of Service "a" with @eps ("addr:ready" items). */
static const char *slice(const char *name, const char *e1, bool r1, const char *e2, bool r2)
{
	static char b[1024];

	snprintf(b, sizeof(b),
		 "{\"metadata\":{\"name\":\"%s\",\"namespace\":\"shop\",\"labels\":"
		 "{\"kubernetes.io/service-name\":\"a\",\"endpointslice.kubernetes.io/managed-by\":"
		 "\"endpointslice-controller.k8s.io\"}},\"addressType\":\"IPv4\",\"endpoints\":["
		 "{\"addresses\":[\"%s\"],\"conditions\":{\"ready\":%s,\"serving\":true,"
		 "\"terminating\":false},\"nodeName\":\"%s\"},"
		 "{\"addresses\":[\"%s\"],\"conditions\":{\"ready\":%s}}],"
		 "\"ports\":[{\"name\":\"http\",\"protocol\":\"TCP\",\"port\":8080}]}",
		 name, e1, r1 ? "true" : "false", node, e2, r2 ? "true" : "false");
	return b;
}

int sc_kinds(void)
{
	struct hlk8s_client *c;
	struct runner rs, re;
	struct hlk8s_health h;
	char body[2048];
	int from;

	CHECK(!set_tokens("tok-kinds-01\n"), "tokens");
	CHECK(!ctl_ok("/services", SVC_A), "service a");
	CHECK(!ctl_ok("/endpointslices", slice("a-1", "10.244.0.5", true, "10.244.1.6", true)),
	      "slice a-1");
	c = kc_client(kubeconfig("kc-kinds.yaml", api_port, token_user()), 0, 2000);
	CHECK(c, "client");
	CHECK(!run_start(&rs, c, HLK8S_SERVICES) && !run_start(&re, c, HLK8S_ENDPOINTSLICES),
	      "informers");
	/* The first LIST: every object, then synced. */
	CHECK(!wait_told(0, "U services shop/a 10.96.0.10:80->8080"), "listed service");
	CHECK(!wait_told(0, "U endpointslices shop/a-1 10.244.0.5,10.244.1.6"), "listed slice");
	CHECK(synced(HLK8S_SERVICES) == 1 && synced(HLK8S_ENDPOINTSLICES) == 1, "synced");
	{
		long dl = now_ms() + WAIT_MS;

		do
			hlk8s_get_health(c, &h);
		while (h.state != HLK8S_STATE_SYNCED && now_ms() < dl && (sleep_ms(20), 1));
		CHECK(h.state == HLK8S_STATE_SYNCED, "health %s", hlk8s_state_name(h.state));
	}
	/* Watch events: a not-ready endpoint, a deleted Service. */
	from = told_n();
	CHECK(!ctl_ok("/endpointslices", slice("a-1", "10.244.0.5", false, "10.244.1.6", true)),
	      "slice a-1 modified");
	CHECK(!wait_told(from, "U endpointslices shop/a-1 10.244.0.5(not ready),10.244.1.6"),
	      "modified slice");
	CHECK(!ctl_ok("/delete", "{\"kind\":\"services\",\"namespace\":\"shop\",\"name\":\"a\"}"),
	      "delete a");
	CHECK(!wait_told(from, "D services shop/a 10.96.0.10:80->8080"), "deleted service");
	/* A gap the watch never sees, then 410: the relist tells the difference. */
	from = told_n();
	snprintf(body, sizeof(body), "{\"services\":[%s],\"deletes\":[{\"kind\":"
		 "\"endpointslices\",\"namespace\":\"shop\",\"name\":\"a-1\"}]}", SVC_A);
	CHECK(!ctl_ok("/compact", body), "compact");
	CHECK(!wait_told(from, "D endpointslices shop/a-1 10.244.0.5(not ready),10.244.1.6"),
	      "relist: slice gone");
	CHECK(!wait_told(from, "U services shop/a 10.96.0.10:80->8080"), "relist: service back");
	CHECK(WAIT_FOR(c, st.relists == 2), "relists %lu", (unsigned long)stats(c).relists);
	CHECK(synced(HLK8S_SERVICES) == 2 && synced(HLK8S_ENDPOINTSLICES) == 2, "synced again");
	{
		struct hlk8s_stats s;

		hlk8s_informer_stats(re.inf, &s);
		CHECK(s.cached_pods == 0 && s.relists == 1, "slices cached %lu",
		      (unsigned long)s.cached_pods);
		hlk8s_informer_stats(rs.inf, &s);
		CHECK(s.cached_pods == 1, "services cached %lu", (unsigned long)s.cached_pods);
	}
	CHECK(hlk8s_informer_get(re.inf, "shop", "a-1", (void (*)(void *, const void *))abort,
				 NULL) == -ENOENT, "slice gone from the cache");
	run_stop(&rs);
	run_stop(&re);
	hlk8s_client_free(c);
	return 0;
}

static void copy_ips(void *arg, const void *obj)
{
	const struct hlk8s_pod *p = obj;

	snprintf(arg, 128, "%s %zu", p->ips[0], p->n_ips);
}

int sc_podips(void)
{
	struct hlk8s_client *c;
	struct watcher w;
	char body[512], got[128] = "";
	int from;

	CHECK(!set_tokens("tok-podips-1\n"), "tokens");
	snprintf(body, sizeof(body), "{\"namespace\":\"ns1\",\"name\":\"p\",\"node\":\"%s\","
		 "\"ips\":[\"10.244.0.9\",\"fd00:244::9\"],\"ready\":true}", node);
	CHECK(!ctl_ok("/pods", body), "pod p");
	c = kc_client(kubeconfig("kc-podips.yaml", api_port, token_user()), 1, 2000);
	CHECK(c, "client");
	CHECK(!hlk8s_informer_set_handler(hlk8s_client_pods(c), on_change, on_synced,
					  (void *)(intptr_t)HLK8S_PODS), "handler");
	CHECK(!watch_start(&w, c), "start");
	CHECK(!wait_told(0, "U pods ns1/p 10.244.0.9,fd00:244::9 ready"), "both addresses, ready");
	CHECK(hlk8s_informer_set_handler(hlk8s_client_pods(c), NULL, NULL, NULL) == -EBUSY,
	      "no new handler while it runs");
	from = told_n();
	snprintf(body, sizeof(body), "{\"namespace\":\"ns1\",\"name\":\"p\",\"node\":\"%s\","
		 "\"ips\":[\"10.244.0.9\",\"fd00:244::9\"],\"ready\":false}", node);
	CHECK(!ctl_ok("/pods", body), "p not ready");
	CHECK(!wait_told(from, "U pods ns1/p 10.244.0.9,fd00:244::9"), "not ready");
	CHECK(!hlk8s_informer_get(hlk8s_client_pods(c), "ns1", "p", copy_ips, got) &&
	      !strcmp(got, "10.244.0.9 2"), "cached: %s", got);
	/* A pod with no address yet (pending), then one. */
	snprintf(body, sizeof(body), "{\"namespace\":\"ns1\",\"name\":\"q\",\"node\":\"%s\","
		 "\"ips\":[],\"phase\":\"Pending\",\"ready\":false}", node);
	CHECK(!ctl_ok("/pods", body), "q pending");
	CHECK(!wait_told(from, "U pods ns1/q -"), "no address");
	snprintf(body, sizeof(body), "{\"namespace\":\"ns1\",\"name\":\"q\",\"node\":\"%s\","
		 "\"ips\":[\"10.244.0.10\"]}", node);
	CHECK(!ctl_ok("/pods", body), "q running");
	CHECK(!wait_told(from, "U pods ns1/q 10.244.0.10 ready"), "address");
	CHECK(!ctl_ok("/delete", "{\"namespace\":\"ns1\",\"name\":\"q\"}"), "delete q");
	CHECK(!wait_told(from, "D pods ns1/q 10.244.0.10 ready"), "deleted");
	CHECK(watch_stop(&w) == 0, "stop");
	hlk8s_client_free(c);
	return 0;
}
