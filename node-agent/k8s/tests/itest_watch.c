/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hlk8s-itest scenarios about reading and watching: GET, the watch stream
 * (a big event too), a 410 Gone, resuming after a gap (the driver is
 * hlk8s_itest.c).
 */
#include "hlk8s_itest.h"

int sc_get(void)
{
	struct hlk8s_client *c;
	struct hlk8s_stats s;
	char small[2];

	CHECK(!set_tokens("tok-get-0001\n"), "tokens");
	CHECK(!pod("ns1", "web", node, "shm"), "add pod");
	CHECK(!pod("ns1", "plain", node, NULL), "add pod");
	c = kc_client(kubeconfig("kc-get.yaml", api_port, token_user()), 0, 2000);
	CHECK(c, "client");
	CHECK(!strcmp(ann(c, "ns1", "web", HLK8S_ANN_FASTPATH), "shm"), "got %s",
	      ann(c, "ns1", "web", HLK8S_ANN_FASTPATH));
	CHECK(!strcmp(ann(c, "ns1", "web", HLK8S_ANN_HUGEPAGES), "64Mi"), "got %s",
	      ann(c, "ns1", "web", HLK8S_ANN_HUGEPAGES));
	CHECK(!strcmp(ann(c, "ns1", "web", "example.com/team"), "net"), "any key via GET");
	CHECK(hlk8s_pod_annotation(c, "ns1", "plain", HLK8S_ANN_FASTPATH, small, 2) == -ENOENT,
	      "no annotation");
	CHECK(hlk8s_pod_annotation(c, "ns1", "ghost", HLK8S_ANN_FASTPATH, small, 2) == -ENOENT,
	      "404");
	CHECK(hlk8s_pod_annotation(c, "ns1", "web", HLK8S_ANN_FASTPATH, small, 2) == -ENOSPC,
	      "small buffer");
	CHECK(hlk8s_pod_annotation(c, "ns1", "../x", HLK8S_ANN_FASTPATH, small, 2) == -EINVAL,
	      "bad name");
	s = stats(c);
	/* No node name: nothing is cached, every lookup is a GET. */
	CHECK(s.gets == 6 && s.get_errors == 0 && s.cached_pods == 0,
	      "gets %lu errors %lu cached %lu", (unsigned long)s.gets,
	      (unsigned long)s.get_errors, (unsigned long)s.cached_pods);
	CHECK(log_num("gets") == 6, "server saw %ld GETs", log_num("gets"));
	hlk8s_client_free(c);
	return 0;
}

/* A 256 KiB annotation: its event reaches the parser in many curl writes. */
static int big_event(struct hlk8s_client *c)
{
	size_t n = 256 * 1024;
	char *val = malloc(n + 1), *body = malloc(n + 512), *got = malloc(n + 1);
	uint64_t ev = stats(c).events;
	int r = -1;

	if (!val || !body || !got)
		goto out;
	for (size_t i = 0; i < n; i++)
		val[i] = (char)('a' + i % 26);
	val[n] = '\0';
	snprintf(body, n + 512, "{\"namespace\":\"ns1\",\"name\":\"big\",\"node\":\"%s\","
		 "\"annotations\":{\"hostlane.io/blob\":\"%s\"}}", node, val);
	if (ctl_ok("/pods", body) || !WAIT_FOR(c, st.events > ev))
		goto out;
	r = hlk8s_pod_annotation(c, "ns1", "big", "hostlane.io/blob", got, n + 1);
	if (!r && strcmp(got, val))
		r = -1;
	if (!r && hlk8s_pod_annotation(c, "ns1", "big", "hostlane.io/blob", got, n) != -ENOSPC)
		r = -1;
	if (!r && stats(c).gets != 2)
		r = -1; /* from the cache, not by GET */
	if (r)
		fprintf(stderr, "big annotation: %d, gets %lu\n", r, (unsigned long)stats(c).gets);
out:
	free(val);
	free(body);
	free(got);
	return r;
}

int sc_watch(void)
{
	struct hlk8s_client *c;
	struct watcher w;
	struct hlk8s_stats s;
	uint64_t ev;

	CHECK(!set_tokens("tok-watch-01\n"), "tokens");
	CHECK(!pod("ns1", "a", node, "shm") && !pod("ns1", "b", node, NULL) &&
	      !pod("ns2", "far", "other-node", "vf"), "pods");
	c = kc_client(kubeconfig("kc-watch.yaml", api_port, token_user()), 1, 2000);
	CHECK(c && !watch_start(&w, c), "start");
	CHECK(WAIT_FOR(c, st.cached_pods == 2 && st.watch_connects >= 1), "cached %lu",
	      (unsigned long)stats(c).cached_pods);
	CHECK(!strcmp(ann(c, "ns1", "a", HLK8S_ANN_FASTPATH), "shm"), "a");
	CHECK(!strcmp(ann(c, "ns1", "a", HLK8S_ANN_HUGEPAGES), "64Mi"), "a hugepages");
	CHECK(!strcmp(ann(c, "ns1", "b", HLK8S_ANN_FASTPATH), "<No such file or directory>"),
	      "b: %s", ann(c, "ns1", "b", HLK8S_ANN_FASTPATH));
	CHECK(stats(c).gets == 0, "lookups of cached pods need no GET");

	ev = stats(c).events;
	CHECK(!pod("ns1", "c", node, "vhost-user"), "ADDED");
	CHECK(WAIT_FOR(c, st.cached_pods == 3 && st.events > ev), "added");
	CHECK(!strcmp(ann(c, "ns1", "c", HLK8S_ANN_FASTPATH), "vhost-user"), "c");
	CHECK(!pod("ns1", "a", node, "vf"), "MODIFIED");
	CHECK(!wait_ann(c, "ns1", "a", "vf"), "a is now %s", ann(c, "ns1", "a", HLK8S_ANN_FASTPATH));
	CHECK(!ctl_ok("/delete", "{\"namespace\":\"ns1\",\"name\":\"b\"}"), "DELETED");
	CHECK(WAIT_FOR(c, st.cached_pods == 2), "deleted");
	CHECK(stats(c).gets == 0, "%lu GETs", (unsigned long)stats(c).gets);
	/* b is gone from the cache, so this is a miss: a GET that finds nothing. */
	CHECK(!strcmp(ann(c, "ns1", "b", HLK8S_ANN_FASTPATH), "<No such file or directory>"), "b");
	CHECK(stats(c).gets == 1, "miss -> GET");
	/* A pod of another node is answered by GET and not cached. */
	CHECK(!strcmp(ann(c, "ns2", "far", HLK8S_ANN_FASTPATH), "vf"), "far");
	s = stats(c);
	CHECK(s.gets == 2 && s.cached_pods == 2 && s.relists == 0, "gets %lu cached %lu",
	      (unsigned long)s.gets, (unsigned long)s.cached_pods);
	CHECK(!big_event(c), "an event larger than curl's buffer");
	CHECK(watch_stop(&w) == 0, "stop_fd stops hlk8s_watch_run");
	hlk8s_client_free(c);
	return 0;
}

int sc_gone(void)
{
	char body[512];
	struct hlk8s_client *c;
	struct watcher w;
	struct hlk8s_stats s;

	CHECK(!set_tokens("tok-gone-001\n"), "tokens");
	CHECK(!pod("ns1", "a", node, "shm") && !pod("ns1", "b", node, "shm"), "pods");
	c = kc_client(kubeconfig("kc-gone.yaml", api_port, token_user()), 1, 2000);
	CHECK(c && !watch_start(&w, c), "start");
	CHECK(WAIT_FOR(c, st.cached_pods == 2 && st.watch_connects == 1), "listed");
	/* Changes the watch never sees, then compaction: resuming gets 410. */
	snprintf(body, sizeof(body),
		 "{\"pods\":[{\"namespace\":\"ns1\",\"name\":\"a\",\"node\":\"%s\","
		 "\"annotations\":{\"hostlane.io/fastpath\":\"vf\"}},"
		 "{\"namespace\":\"ns1\",\"name\":\"d\",\"node\":\"%s\"}],"
		 "\"deletes\":[{\"namespace\":\"ns1\",\"name\":\"b\"}]}", node, node);
	CHECK(!ctl_ok("/compact", body), "compact");
	CHECK(WAIT_FOR(c, st.relists == 1 && st.watch_connects >= 3), "relisted: relists %lu",
	      (unsigned long)stats(c).relists);
	s = stats(c);
	CHECK(s.cached_pods == 2, "cached %lu", (unsigned long)s.cached_pods);
	CHECK(!strcmp(ann(c, "ns1", "a", HLK8S_ANN_FASTPATH), "vf"), "a: %s",
	      ann(c, "ns1", "a", HLK8S_ANN_FASTPATH));
	CHECK(!strcmp(ann(c, "ns1", "d", HLK8S_ANN_FASTPATH), "<No such file or directory>"), "d");
	CHECK(stats(c).gets == 0, "all from the relisted cache");
	CHECK(log_num("lists") == 2, "server lists %ld", log_num("lists"));
	CHECK(watch_stop(&w) == 0, "stop");
	hlk8s_client_free(c);
	return 0;
}

/* The i-th watch record of the server's log: its field @f. */
static char *watch_rec(int i, const char *f)
{
	static char out[4][64];
	static int k;
	cJSON *l = ctl("/log", NULL);
	const cJSON *ws = cJSON_GetObjectItem(l, "watches");
	const cJSON *w = cJSON_GetArrayItem(ws, i < 0 ? cJSON_GetArraySize(ws) + i : i);
	const cJSON *v = cJSON_GetObjectItem(w, f);
	char *o = out[k++ % 4];

	snprintf(o, 64, "%s", cJSON_IsString(v) ? v->valuestring :
		 cJSON_IsTrue(v) ? "true" : cJSON_IsFalse(v) ? "false" : "?");
	cJSON_Delete(l);
	return o;
}

int sc_resume(void)
{
	struct hlk8s_client *c;
	struct watcher w;
	uint64_t ev;
	char bookmark[64], body[512];

	CHECK(!set_tokens("tok-resume-1\n"), "tokens");
	CHECK(!pod("ns1", "a", node, "shm"), "pod");
	c = kc_client(kubeconfig("kc-resume.yaml", api_port, token_user()), 1, 2000);
	CHECK(c && !watch_start(&w, c), "start");
	CHECK(WAIT_FOR(c, st.cached_pods == 1 && st.watch_connects == 1), "listed");
	CHECK(!pod("ns1", "b", node, "shm"), "pod b");
	CHECK(WAIT_FOR(c, st.cached_pods == 2), "b via watch");
	/* A change on another node moves the version on; a BOOKMARK tells us. */
	ev = stats(c).events;
	CHECK(!pod("ns9", "x", "other-node", "vf") && !ctl_ok("/bookmark", "{}"), "bookmark");
	CHECK(WAIT_FOR(c, st.events > ev), "bookmark applied");
	snprintf(bookmark, sizeof(bookmark), "%s", watch_rec(-1, "last_sent"));
	/* Cut the stream and change a pod while no watch is open. */
	snprintf(body, sizeof(body),
		 "{\"pods\":[{\"namespace\":\"ns1\",\"name\":\"a\",\"node\":\"%s\","
		 "\"annotations\":{\"hostlane.io/fastpath\":\"vf\"}}]}", node);
	CHECK(!ctl_ok("/drop", body), "drop");
	CHECK(!wait_ann(c, "ns1", "a", "vf"), "missed event delivered by the resumed watch");
	CHECK(!strcmp(watch_rec(-2, "dropped"), "true"), "first watch was dropped");
	CHECK(!strcmp(watch_rec(-1, "rv"), bookmark), "resumed from %s, want %s",
	      watch_rec(-1, "rv"), bookmark);
	CHECK(stats(c).relists == 0 && log_num("lists") == 1, "no relist");
	CHECK(stats(c).gets == 0 && stats(c).watch_connects == 2, "connects %lu",
	      (unsigned long)stats(c).watch_connects);
	CHECK(watch_stop(&w) == 0, "stop");
	hlk8s_client_free(c);
	return 0;
}
