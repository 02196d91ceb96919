/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Integration driver for hlk8s against test/tools/fake-apiserver: one
 * scenario per run (argv[1]); exit 0 = pass. test/integration/agent-k8s.sh
 * makes the certificates, starts the server and runs every scenario.
 *
 * Environment: IT_DIR (scratch dir), IT_API_PORT, IT_CTL_PORT, IT_CA (CA
 * PEM), IT_SERVER_TOKEN (the token file the server accepts), IT_NODE.
 *
 * The scenarios are in itest_*.c (see hlk8s_itest.h); this file has the
 * helpers they share and main().
 *
 * Waits poll the client's counters with a generous deadline that only turns
 * a hang into a failure; nothing here asserts how fast anything is.
 */
#include "hlk8s_itest.h"

const char *dir, *ca, *server_token, *node;
int api_port, ctl_port;

void logfn(void *arg, int level, const char *msg)
{
	(void)arg;
	fprintf(stderr, "[hlk8s %d] %s\n", level, msg);
}

long now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

void sleep_ms(long ms)
{
	struct timespec t = { ms / 1000, (ms % 1000) * 1000000 };

	nanosleep(&t, NULL);
}

char *path_of(const char *name)
{
	static char buf[8][512];
	static int i;
	char *p = buf[i++ % 8];

	snprintf(p, 512, "%s/%s", dir, name);
	return p;
}

int write_file(const char *path, const char *content)
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
cJSON *ctl(const char *ep, const char *json)
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

int ctl_ok(const char *ep, const char *json)
{
	cJSON *r = ctl(ep, json);

	cJSON_Delete(r);
	return r ? 0 : -1;
}

int pod(const char *ns, const char *name, const char *on, const char *fastpath)
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
long log_num(const char *field)
{
	cJSON *l = ctl("/log", NULL);
	const cJSON *v = cJSON_GetObjectItem(l, field);
	long n = cJSON_IsNumber(v) ? (long)v->valuedouble : -1;

	cJSON_Delete(l);
	return n;
}

/* ---- clients and the watch thread ---- */

struct hlk8s_client *kc_client(const char *kubeconfig, int with_node, long timeout_ms)
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
const char *kubeconfig(const char *name, int port, const char *user)
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

int watch_start(struct watcher *w, struct hlk8s_client *c)
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
int watch_stop(struct watcher *w)
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

struct hlk8s_stats stats(struct hlk8s_client *c)
{
	struct hlk8s_stats s;

	hlk8s_get_stats(c, &s);
	return s;
}

/* Annotation from the client, as a string ("<errno name>" on failure). */
const char *ann(struct hlk8s_client *c, const char *ns, const char *name,
		       const char *key)
{
	static char buf[256];
	int r = hlk8s_pod_annotation(c, ns, name, key, buf, sizeof(buf));

	if (r)
		snprintf(buf, sizeof(buf), "<%s>", strerror(-r));
	return buf;
}

/* Polls the cached annotation until it equals @want (no GETs: pod is cached). */
int wait_ann(struct hlk8s_client *c, const char *ns, const char *name, const char *want)
{
	long dl = now_ms() + WAIT_MS;

	while (strcmp(ann(c, ns, name, HLK8S_ANN_FASTPATH), want) && now_ms() < dl)
		sleep_ms(20);
	return strcmp(ann(c, ns, name, HLK8S_ANN_FASTPATH), want) ? -1 : 0;
}

const char *token_user(void)
{
	static char u[700];

	snprintf(u, sizeof(u), "    tokenFile: %s\n", path_of("client-token"));
	return u;
}

/* Both sides get token @t: the server's accepted token and the client's file. */
int set_tokens(const char *t)
{
	return write_file(server_token, t) || write_file(path_of("client-token"), t) ? -1 : 0;
}

static const struct {
	const char *name;
	int (*fn)(void);
} scenarios[] = {
	{ "get", sc_get },         { "watch", sc_watch },   { "rotate", sc_rotate },
	{ "rotate401", sc_rotate401 }, { "gone", sc_gone },  { "resume", sc_resume },
	{ "down", sc_down },       { "stall", sc_stall },   { "mtls", sc_mtls },
	{ "concurrent", sc_concurrent }, { "kinds", sc_kinds }, { "podips", sc_podips },
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
