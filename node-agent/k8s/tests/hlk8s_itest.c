/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Integration driver for hlk8s against test/tools/fake-apiserver: one
 * scenario per run (argv[1]); exit 0 = pass. test/integration/agent-k8s.sh
 * makes the certificates, starts the server and runs every scenario.
 *
 * Environment: IT_DIR (scratch dir), IT_API_PORT, IT_CTL_PORT, IT_CA (CA
 * PEM), IT_SERVER_TOKEN (the token file the server accepts), IT_NODE.
 *
 * Waits poll the client's counters with a generous deadline that only turns
 * a hang into a failure; nothing here asserts how fast anything is.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>

#include "hlk8s.h"

#define WAIT_MS 15000 /* deadline of a wait: only a hang hits it */

#define CHECK(cond, ...)                                                        \
	do {                                                                    \
		if (!(cond)) {                                                  \
			fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__,  \
				__LINE__, #cond);                               \
			fprintf(stderr, __VA_ARGS__);                           \
			fputc('\n', stderr);                                    \
			return 1;                                               \
		}                                                               \
	} while (0)

static const char *dir, *ca, *server_token, *node;
static int api_port, ctl_port;

static void logfn(void *arg, int level, const char *msg)
{
	(void)arg;
	fprintf(stderr, "[hlk8s %d] %s\n", level, msg);
}

static long now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static void sleep_ms(long ms)
{
	struct timespec t = { ms / 1000, (ms % 1000) * 1000000 };

	nanosleep(&t, NULL);
}

static char *path_of(const char *name)
{
	static char buf[8][512];
	static int i;
	char *p = buf[i++ % 8];

	snprintf(p, 512, "%s/%s", dir, name);
	return p;
}

static int write_file(const char *path, const char *content)
{
	char tmp[600];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (!f)
		return -1;
	fputs(content, f);
	if (fclose(f))
		return -1;
	return rename(tmp, path);
}

/* ---- the control endpoint ---- */

static size_t sink(char *p, size_t s, size_t n, void *ud)
{
	FILE *f = ud;

	return fwrite(p, s, n, f);
}

/* POST (json != NULL) or GET to the control port; the answer is parsed JSON. */
static cJSON *ctl(const char *ep, const char *json)
{
	char url[128], *out = NULL;
	size_t outlen = 0;
	FILE *f = open_memstream(&out, &outlen);
	CURL *e = curl_easy_init();
	struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
	long code = 0;
	cJSON *r = NULL;

	snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", ctl_port, ep);
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, sink);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, f);
	curl_easy_setopt(e, CURLOPT_TIMEOUT, 20L);
	if (json)
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, json);
	if (curl_easy_perform(e) == CURLE_OK)
		curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &code);
	fclose(f);
	if (code == 200)
		r = cJSON_Parse(out);
	else
		fprintf(stderr, "control %s failed: HTTP %ld %s\n", ep, code, out ? out : "");
	free(out);
	curl_slist_free_all(h);
	curl_easy_cleanup(e);
	return r;
}

static int ctl_ok(const char *ep, const char *json)
{
	cJSON *r = ctl(ep, json);

	cJSON_Delete(r);
	return r ? 0 : -1;
}

static int pod(const char *ns, const char *name, const char *on, const char *fastpath)
{
	char body[512];

	if (fastpath)
		snprintf(body, sizeof(body),
			 "{\"namespace\":\"%s\",\"name\":\"%s\",\"node\":\"%s\",\"annotations\":"
			 "{\"" HLK8S_ANN_FASTPATH "\":\"%s\",\"" HLK8S_ANN_HUGEPAGES "\":\"64Mi\","
			 "\"example.com/team\":\"net\"}}", ns, name, on, fastpath);
	else
		snprintf(body, sizeof(body),
			 "{\"namespace\":\"%s\",\"name\":\"%s\",\"node\":\"%s\"}", ns, name, on);
	return ctl_ok("/pods", body);
}

/* An integer field of the server's /log. */
static long log_num(const char *field)
{
	cJSON *l = ctl("/log", NULL);
	const cJSON *v = cJSON_GetObjectItem(l, field);
	long n = cJSON_IsNumber(v) ? (long)v->valuedouble : -1;

	cJSON_Delete(l);
	return n;
}

/* ---- clients and the watch thread ---- */

static struct hlk8s_client *kc_client(const char *kubeconfig, int with_node, long timeout_ms)
{
	struct hlk8s_opts o = {
		.kubeconfig = kubeconfig, .node_name = with_node ? node : NULL,
		.get_timeout_ms = timeout_ms, .log = logfn,
	};
	struct hlk8s_client *c = hlk8s_client_new(&o);

	if (!c)
		fprintf(stderr, "hlk8s_client_new(%s): %s\n", kubeconfig, strerror(errno));
	return c;
}

/* A kubeconfig for the fake server with the given user section. */
static const char *kubeconfig(const char *name, int port, const char *user)
{
	char buf[2048];
	const char *p = path_of(name);

	snprintf(buf, sizeof(buf),
		 "apiVersion: v1\nkind: Config\ncurrent-context: it\n"
		 "clusters:\n- name: fake\n  cluster:\n    server: https://127.0.0.1:%d/\n"
		 "    certificate-authority: %s\n"
		 "contexts:\n- name: it\n  context: {cluster: fake, user: u}\n"
		 "users:\n- name: u\n  user:\n%s", port, ca, user);
	return write_file(p, buf) ? NULL : p;
}

struct watcher {
	struct hlk8s_client *c;
	pthread_t t;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int efd, rc, running, done;
};

static void *watch_thread(void *arg)
{
	struct watcher *w = arg;
	int rc = hlk8s_watch_run(w->c, w->efd);

	pthread_mutex_lock(&w->mu);
	w->rc = rc;
	w->done = 1;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

static int watch_start(struct watcher *w, struct hlk8s_client *c)
{
	w->c = c;
	w->rc = -1;
	w->done = 0;
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv, NULL);
	w->efd = eventfd(0, EFD_CLOEXEC);
	if (w->efd < 0 || pthread_create(&w->t, NULL, watch_thread, w))
		return -1;
	w->running = 1;
	return 0;
}

/* Stops and joins; the result of hlk8s_watch_run, or -ETIMEDOUT if it hung. */
static int watch_stop(struct watcher *w)
{
	struct timespec dl;
	uint64_t one = 1;
	int done;

	if (!w->running)
		return 0;
	w->running = 0;
	if (write(w->efd, &one, sizeof(one)) != sizeof(one))
		return -EIO;
	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_sec += WAIT_MS / 1000;
	pthread_mutex_lock(&w->mu);
	while (!w->done && pthread_cond_timedwait(&w->cv, &w->mu, &dl) == 0)
		;
	done = w->done;
	pthread_mutex_unlock(&w->mu);
	if (!done) {
		fprintf(stderr, "hlk8s_watch_run did not return after stop_fd fired\n");
		return -ETIMEDOUT; /* leave the thread: the process exits anyway */
	}
	pthread_join(w->t, NULL);
	close(w->efd);
	return w->rc;
}

static struct hlk8s_stats stats(struct hlk8s_client *c)
{
	struct hlk8s_stats s;

	hlk8s_get_stats(c, &s);
	return s;
}

#define WAIT_FOR(c, cond)                                                      \
	({                                                                      \
		long _dl = now_ms() + WAIT_MS;                                  \
		struct hlk8s_stats st = stats(c);                               \
		while (!(cond) && now_ms() < _dl) {                             \
			sleep_ms(20);                                           \
			st = stats(c);                                          \
		}                                                               \
		(void)st;                                                       \
		(cond);                                                         \
	})

/* Annotation from the client, as a string ("<errno name>" on failure). */
static const char *ann(struct hlk8s_client *c, const char *ns, const char *name,
		       const char *key)
{
	static char buf[256];
	int r = hlk8s_pod_annotation(c, ns, name, key, buf, sizeof(buf));

	if (r)
		snprintf(buf, sizeof(buf), "<%s>", strerror(-r));
	return buf;
}

/* Polls the cached annotation until it equals @want (no GETs: pod is cached). */
static int wait_ann(struct hlk8s_client *c, const char *ns, const char *name, const char *want)
{
	long dl = now_ms() + WAIT_MS;

	while (strcmp(ann(c, ns, name, HLK8S_ANN_FASTPATH), want) && now_ms() < dl)
		sleep_ms(20);
	return strcmp(ann(c, ns, name, HLK8S_ANN_FASTPATH), want) ? -1 : 0;
}

static const char *token_user(void)
{
	static char u[700];

	snprintf(u, sizeof(u), "    tokenFile: %s\n", path_of("client-token"));
	return u;
}

/* Both sides get token @t: the server's accepted token and the client's file. */
static int set_tokens(const char *t)
{
	return write_file(server_token, t) || write_file(path_of("client-token"), t) ? -1 : 0;
}

/* ---- scenarios ---- */

static int sc_get(void)
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

static int sc_watch(void)
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

static int mk_sa_version(const char *sa, const char *ver, const char *token)
{
	char p[700], t[800];

	snprintf(p, sizeof(p), "%s/%s", sa, ver);
	if (mkdir(p, 0755) && errno != EEXIST)
		return -1;
	snprintf(t, sizeof(t), "%s/token", p);
	if (write_file(t, token))
		return -1;
	snprintf(t, sizeof(t), "%s/ca.crt", p);
	return symlink(ca, t) && errno != EEXIST ? -1 : 0;
}

/* Atomically points sa/..data at @ver, as the kubelet's atomic writer does. */
static int swap_data(const char *sa, const char *ver)
{
	char tmp[700], dst[700];

	snprintf(tmp, sizeof(tmp), "%s/..data_tmp", sa);
	snprintf(dst, sizeof(dst), "%s/..data", sa);
	unlink(tmp);
	if (symlink(ver, tmp))
		return -1;
	return rename(tmp, dst);
}

static struct hlk8s_client *incluster_client(const char *sa)
{
	char port[16];
	struct hlk8s_opts o = { .sa_dir = sa, .node_name = node, .log = logfn };
	struct hlk8s_client *c;

	snprintf(port, sizeof(port), "%d", api_port);
	setenv("KUBERNETES_SERVICE_HOST", "127.0.0.1", 1);
	setenv("KUBERNETES_SERVICE_PORT", port, 1);
	c = hlk8s_client_new(&o);
	if (!c)
		fprintf(stderr, "in-cluster client: %s\n", strerror(errno));
	return c;
}

/* Projected service-account volume: token -> ..data/token, ..data -> ..<ts>. */
static int sc_rotate(void)
{
	const char *sa = path_of("sa");
	char lnk[700];
	struct hlk8s_client *c;
	struct watcher w;
	uint64_t conns;

	CHECK(!mkdir(sa, 0755) || errno == EEXIST, "mkdir");
	CHECK(!mk_sa_version(sa, "..2024_05_01_10_00_00.1", "bound-token-old\n") &&
	      !swap_data(sa, "..2024_05_01_10_00_00.1"), "sa v1");
	snprintf(lnk, sizeof(lnk), "%s/token", sa);
	CHECK(!symlink("..data/token", lnk) || errno == EEXIST, "token link");
	snprintf(lnk, sizeof(lnk), "%s/ca.crt", sa);
	CHECK(!symlink("..data/ca.crt", lnk) || errno == EEXIST, "ca link");
	CHECK(!write_file(server_token, "bound-token-old\n"), "server token");
	CHECK(!pod("ns1", "a", node, "shm") && !pod("ns2", "far", "other-node", "vf"), "pods");

	c = incluster_client(sa);
	CHECK(c, "client");
	CHECK(!watch_start(&w, c), "start");
	CHECK(WAIT_FOR(c, st.cached_pods == 1), "listed with the old token");
	CHECK(!strcmp(ann(c, "ns2", "far", HLK8S_ANN_FASTPATH), "vf"), "GET with the old token");

	/* Rotation: the server accepts only the new token from now on. */
	CHECK(!mk_sa_version(sa, "..2024_05_01_11_00_00.2", "bound-token-new\n") &&
	      !swap_data(sa, "..2024_05_01_11_00_00.2"), "sa v2");
	CHECK(!write_file(server_token, "bound-token-new\n"), "server token");
	CHECK(!strcmp(ann(c, "ns2", "far", HLK8S_ANN_FASTPATH), "vf"), "GET after rotation: %s",
	      ann(c, "ns2", "far", HLK8S_ANN_FASTPATH));
	CHECK(stats(c).token_reloads == 1, "token_reloads %lu",
	      (unsigned long)stats(c).token_reloads);
	/* A new watch connection (after a drop) authenticates with the new token. */
	conns = stats(c).watch_connects;
	CHECK(!ctl_ok("/drop", "{}"), "drop");
	CHECK(WAIT_FOR(c, st.watch_connects > conns), "watch reconnected");
	CHECK(!pod("ns1", "late", node, "vhost-user"), "pod");
	CHECK(!wait_ann(c, "ns1", "late", "vhost-user"), "watch works with the new token");
	CHECK(log_num("unauthorized") == 0, "server refused %ld requests", log_num("unauthorized"));
	CHECK(stats(c).get_errors == 0 && stats(c).token_reloads == 1, "errors");
	CHECK(watch_stop(&w) == 0, "stop");
	hlk8s_client_free(c);
	return 0;
}

/*
 * The token changes without the file looking changed (same inode, size and
 * mtime): only the 401 tells. The client must re-read and retry.
 */
static int sc_rotate401(void)
{
	const char *tf = path_of("client-token");
	struct hlk8s_client *c;
	struct stat st;
	struct timespec ts[2];
	int fd;

	CHECK(!set_tokens("token-AAAA\n"), "tokens");
	CHECK(!pod("ns2", "far", "other-node", "vf"), "pod");
	c = kc_client(kubeconfig("kc-401.yaml", api_port, token_user()), 0, 2000);
	CHECK(c, "client");
	CHECK(!strcmp(ann(c, "ns2", "far", HLK8S_ANN_FASTPATH), "vf"), "before");
	CHECK(!stat(tf, &st), "stat");
	CHECK(!write_file(server_token, "token-BBBB\n"), "server");
	fd = open(tf, O_WRONLY);
	CHECK(fd >= 0 && pwrite(fd, "token-BBBB\n", 11, 0) == 11, "rewrite in place");
	ts[0] = st.st_atim;
	ts[1] = st.st_mtim;
	CHECK(!futimens(fd, ts) && !close(fd), "restore mtime");
	CHECK(!strcmp(ann(c, "ns2", "far", HLK8S_ANN_FASTPATH), "vf"), "after: %s",
	      ann(c, "ns2", "far", HLK8S_ANN_FASTPATH));
	CHECK(stats(c).token_reloads == 1 && stats(c).get_errors == 0, "reloads %lu",
	      (unsigned long)stats(c).token_reloads);
	CHECK(log_num("unauthorized") == 1, "one 401, got %ld", log_num("unauthorized"));
	hlk8s_client_free(c);
	return 0;
}

static int sc_gone(void)
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

static int sc_resume(void)
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

static int sc_down(void)
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

static int sc_stall(void)
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

/* Client certificate and key from -data blobs (kubeconfig written by the script). */
static int sc_mtls(void)
{
	struct hlk8s_client *c;
	char buf[32];

	CHECK(!set_tokens("tok-mtls-001\n"), "tokens");
	CHECK(!pod("ns1", "a", node, "shm"), "pod");
	c = kc_client(path_of("kc-mtls.yaml"), 0, 2000);
	CHECK(c, "client");
	CHECK(!strcmp(ann(c, "ns1", "a", HLK8S_ANN_FASTPATH), "shm"), "cert auth: %s",
	      ann(c, "ns1", "a", HLK8S_ANN_FASTPATH));
	hlk8s_client_free(c);
	/* No credentials at all: 401 -> -EACCES, counted as an error. */
	c = kc_client(kubeconfig("kc-anon.yaml", api_port, "    {}\n"), 0, 2000);
	CHECK(c, "anon client");
	CHECK(hlk8s_pod_annotation(c, "ns1", "a", HLK8S_ANN_FASTPATH, buf, sizeof(buf)) == -EACCES,
	      "anonymous is refused");
	CHECK(stats(c).get_errors == 1, "error counted");
	hlk8s_client_free(c);
	/* A CA that did not sign the server: TLS fails, -EIO, never a wrong answer. */
	c = kc_client(path_of("kc-badca.yaml"), 0, 2000);
	CHECK(c, "bad-ca client");
	CHECK(hlk8s_pod_annotation(c, "ns1", "a", HLK8S_ANN_FASTPATH, buf, sizeof(buf)) == -EIO,
	      "unverified server is refused");
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

static int sc_concurrent(void)
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

static const struct {
	const char *name;
	int (*fn)(void);
} scenarios[] = {
	{ "get", sc_get },         { "watch", sc_watch },   { "rotate", sc_rotate },
	{ "rotate401", sc_rotate401 }, { "gone", sc_gone },  { "resume", sc_resume },
	{ "down", sc_down },       { "stall", sc_stall },   { "mtls", sc_mtls },
	{ "concurrent", sc_concurrent },
};

static int env_int(const char *n)
{
	const char *v = getenv(n);

	return v ? atoi(v) : 0;
}

int main(int argc, char **argv)
{
	dir = getenv("IT_DIR");
	ca = getenv("IT_CA");
	server_token = getenv("IT_SERVER_TOKEN");
	node = getenv("IT_NODE");
	api_port = env_int("IT_API_PORT");
	ctl_port = env_int("IT_CTL_PORT");
	if (argc != 2 || !dir || !ca || !server_token || !node || !api_port || !ctl_port) {
		fprintf(stderr, "usage: IT_DIR=… IT_CA=… IT_SERVER_TOKEN=… IT_NODE=… "
			"IT_API_PORT=… IT_CTL_PORT=… %s SCENARIO\n", argv[0]);
		return 2;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	for (size_t i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++) {
		if (strcmp(argv[1], scenarios[i].name))
			continue;
		if (ctl_ok("/reset", "{}"))
			return 1;
		return scenarios[i].fn();
	}
	fprintf(stderr, "unknown scenario %s\n", argv[1]);
	return 2;
}
