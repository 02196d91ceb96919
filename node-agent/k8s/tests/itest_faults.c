/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hlk8s-itest scenarios about a misbehaving API server: down, stalled, and
 * many threads asking at once (the driver is hlk8s_itest.c).
 */
#include "hlk8s_itest.h"

#include <string.h>

/* A port that refuses connections: bound, never listening. */
static int refusing_port(int *fd)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t l = sizeof(a);

	*fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (*fd < 0 || bind(*fd, (struct sockaddr *)&a, sizeof(a)) ||
	    getsockname(*fd, (struct sockaddr *)&a, &l))
		return -1;
	return ntohs(a.sin_port);
}

int sc_down(void)
{
	struct hlk8s_client *c;
	struct watcher w;
	int fd, port = refusing_port(&fd), r;
	char buf[32];
	long t0, dt;

	CHECK(port > 0, "port");
	CHECK(!set_tokens("tok-down-001\n"), "tokens");
	c = kc_client(kubeconfig("kc-down.yaml", port, token_user()), 1, 500);
	CHECK(c, "client");
	t0 = now_ms();
	r = hlk8s_pod_annotation(c, "ns1", "a", HLK8S_ANN_FASTPATH, buf, sizeof(buf));
	dt = now_ms() - t0;
	CHECK(r == -ECONNREFUSED, "r = %d", r);
	CHECK(dt < 5000, "took %ld ms with a 500 ms bound", dt);
	CHECK(stats(c).gets == 1 && stats(c).get_errors == 1, "get_errors");
	/* The watch keeps retrying (with backoff) and still stops on request. */
	CHECK(!watch_start(&w, c), "start");
	/* Failed LISTs are errors, not relists; the health says so. */
	CHECK(WAIT_FOR(c, st.list_errors >= 2), "retried lists %lu", (unsigned long)stats(c).list_errors);
	CHECK(stats(c).relists == 0, "relists %lu", (unsigned long)stats(c).relists);
	{
		struct hlk8s_health h;

		hlk8s_get_health(c, &h);
		CHECK(h.state == HLK8S_STATE_RETRYING && h.last_sync == 0 &&
		      strstr(h.last_error, "LIST pods") && h.last_error_time > 0,
		      "health %s: %s", hlk8s_state_name(h.state), h.last_error);
	}
	CHECK(watch_stop(&w) == 0, "stop during backoff");
	CHECK(stats(c).cached_pods == 0 && stats(c).watch_connects == 0, "nothing");
	hlk8s_client_free(c);
	close(fd);
	return 0;
}

/* Waits until the server holds a request of ours. */
static bool wait_held(void)
{
	long dl = now_ms() + WAIT_MS;

	while (log_num("held") < 1 && now_ms() < dl)
		sleep_ms(20);
	return log_num("held") >= 1;
}

int sc_stall(void)
{
	struct hlk8s_client *c;
	struct watcher w;
	char buf[32];
	long t0, dt;
	int r;

	CHECK(!set_tokens("tok-stall-01\n"), "tokens");
	CHECK(!pod("ns1", "a", node, "shm"), "pod");
	c = kc_client(kubeconfig("kc-stall.yaml", api_port, token_user()), 1, 300);
	CHECK(c, "client");
	CHECK(!ctl_ok("/stall", "{\"on\":true}"), "stall");
	t0 = now_ms();
	r = hlk8s_pod_annotation(c, "ns1", "a", HLK8S_ANN_FASTPATH, buf, sizeof(buf));
	dt = now_ms() - t0;
	CHECK(r == -ETIMEDOUT, "r = %d", r);
	CHECK(dt < 3000, "took %ld ms with a 300 ms bound", dt);
	CHECK(stats(c).get_errors == 1, "get_errors");
	/* stop_fd ends the loop while it waits on a LIST the server holds. */
	CHECK(!watch_start(&w, c), "start");
	CHECK(wait_held(), "the LIST is being held");
	CHECK(watch_stop(&w) == 0, "stop during a stalled transfer");
	CHECK(stats(c).cached_pods == 0, "nothing listed");
	CHECK(!ctl_ok("/stall", "{\"on\":false}"), "unstall");
	CHECK(!strcmp(ann(c, "ns1", "a", HLK8S_ANN_FASTPATH), "shm"), "works again");
	hlk8s_client_free(c);
	return 0;
}

/* Lookups from several threads while the watch applies events and relists. */
struct looker {
	struct hlk8s_client *c;
	int bad;
};

static void *look(void *arg)
{
	struct looker *l = arg;
	char buf[64], name[16];

	for (int i = 0; i < 300; i++) {
		int r;

		snprintf(name, sizeof(name), "p%d", i % 8);
		r = hlk8s_pod_annotation(l->c, "ns1", name, HLK8S_ANN_FASTPATH, buf, sizeof(buf));
		if (r == 0 ? strcmp(buf, "shm") && strcmp(buf, "vf") : r != -ENOENT)
			l->bad++;
	}
	return NULL;
}

int sc_concurrent(void)
{
	struct looker l[4];
	pthread_t t[4];
	struct hlk8s_client *c;
	struct watcher w;
	char name[16], body[256];

	CHECK(!set_tokens("tok-conc-001\n"), "tokens");
	for (int i = 0; i < 4; i++) {
		snprintf(name, sizeof(name), "p%d", i);
		CHECK(!pod("ns1", name, node, "shm"), "pod");
	}
	c = kc_client(kubeconfig("kc-conc.yaml", api_port, token_user()), 1, 2000);
	CHECK(c && !watch_start(&w, c), "start");
	CHECK(WAIT_FOR(c, st.cached_pods == 4), "listed");
	for (int i = 0; i < 4; i++) {
		l[i] = (struct looker){ .c = c };
		CHECK(!pthread_create(&t[i], NULL, look, &l[i]), "thread");
	}
	for (int i = 0; i < 8; i++) {
		snprintf(name, sizeof(name), "p%d", i);
		CHECK(!pod("ns1", name, node, i % 2 ? "vf" : "shm"), "pod");
	}
	snprintf(body, sizeof(body), "{\"pods\":[{\"namespace\":\"ns1\",\"name\":\"p6\","
		 "\"node\":\"%s\",\"annotations\":{\"hostlane.io/fastpath\":\"vf\"}}]}", node);
	CHECK(!ctl_ok("/compact", body), "compact: relist under load");
	CHECK(!ctl_ok("/delete", "{\"namespace\":\"ns1\",\"name\":\"p0\"}"), "delete");
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		CHECK(l[i].bad == 0, "thread %d saw %d wrong answers", i, l[i].bad);
	}
	CHECK(WAIT_FOR(c, st.cached_pods == 7 && st.relists == 1), "final cache %lu",
	      (unsigned long)stats(c).cached_pods);
	CHECK(!wait_ann(c, "ns1", "p6", "vf"), "p6 (changed during the gap)");
	CHECK(watch_stop(&w) == 0, "stop");
	hlk8s_client_free(c);
	return 0;
}
