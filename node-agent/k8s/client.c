/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hlk8s client: configuration, credentials, HTTP plumbing, and the
 * cache-then-GET annotation lookup. The list + watch loops are in
 * informer.c.
 */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "client_private.h"

#define GET_TIMEOUT_DEFAULT_MS 2000
#define TOKEN_MAX (64u << 10)
#define GET_BODY_MAX (8u << 20) /* a Pod is at most ~1.5 MiB in etcd */
#define USER_AGENT "hostlane-agent/1 (hlk8s)"

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;

static void curl_init(void)
{
	/* Never cleaned up: other users of libcurl in the process may need it. */
	curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

void hlk8s__log(struct hlk8s_client *c, int level, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (!c->log)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	c->log(c->log_arg, level, msg);
}

/* ---- bearer token ---- */

static bool tok_same(const struct tok_id *a, const struct stat *st)
{
	return a->dev == st->st_dev && a->ino == st->st_ino && a->size == st->st_size &&
	       a->mtim.tv_sec == st->st_mtim.tv_sec && a->mtim.tv_nsec == st->st_mtim.tv_nsec;
}

static char *read_token(const char *path, int *err)
{
	char *buf;
	size_t len;

	*err = hlk8s__slurp(path, TOKEN_MAX, &buf, &len);
	if (*err)
		return NULL;
	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r' ||
			   buf[len - 1] == ' ' || buf[len - 1] == '\t'))
		buf[--len] = '\0';
	/* A token goes into an HTTP header: refuse anything that could split it. */
	if (!len || strcspn(buf, "\r\n") != len) {
		free(buf);
		*err = -EINVAL;
		return NULL;
	}
	return buf;
}

/* Called with tok_lock held. */
static int token_reload_locked(struct hlk8s_client *c, bool force)
{
	const char *path = c->cfg.token_file;
	struct stat st;
	char *tok;
	int r;

	/* stat follows the projected volume's ..data symlink to the current file. */
	if (stat(path, &st) < 0)
		return -errno;
	if (c->token && !force && tok_same(&c->tok_id, &st))
		return 0;
	tok = read_token(path, &r);
	if (!tok)
		return r;
	c->tok_id = (struct tok_id){ st.st_dev, st.st_ino, st.st_size, st.st_mtim };
	if (c->token && !strcmp(c->token, tok)) {
		free(tok);
		return 0;
	}
	if (c->token) {
		pthread_mutex_lock(&c->lock);
		c->st.token_reloads++;
		pthread_mutex_unlock(&c->lock);
	}
	free(c->token);
	c->token = tok;
	return 1;
}

int hlk8s__token_refresh(struct hlk8s_client *c, bool force)
{
	int r;

	if (!c->cfg.token_file)
		return 0;
	pthread_mutex_lock(&c->tok_lock);
	r = token_reload_locked(c, force);
	pthread_mutex_unlock(&c->tok_lock);
	if (r < 0 && !c->token) {
		hlk8s__log(c, HLK8S_LOG_WARN, "k8s: no token: %s: %s; retrying before every request",
			   c->cfg.token_file, strerror(-r));
		hlk8s__note_error(c, "no token: %s: %s", c->cfg.token_file, strerror(-r));
	} else if (r < 0) {
		hlk8s__log(c, HLK8S_LOG_WARN, "k8s: cannot read token %s: %s; keeping the old one",
			   c->cfg.token_file, strerror(-r));
	}
	else if (r > 0)
		hlk8s__log(c, HLK8S_LOG_INFO, "k8s: reloaded rotated token from %s",
			   c->cfg.token_file);
	return r;
}

/* "Authorization: Bearer ..." for the current token, or NULL if there is none. */
static char *auth_header(struct hlk8s_client *c, bool *oom)
{
	const char *tok;
	char *h = NULL;

	*oom = false;
	pthread_mutex_lock(&c->tok_lock);
	tok = c->token ? c->token : c->cfg.token;
	if (tok && asprintf(&h, "Authorization: Bearer %s", tok) < 0) {
		h = NULL;
		*oom = true;
	}
	pthread_mutex_unlock(&c->tok_lock);
	return h;
}

/* ---- HTTP plumbing ---- */

size_t hlk8s__buf_write(char *ptr, size_t size, size_t n, void *ud)
{
	/* Returning less than size*n makes curl fail the transfer (too big / OOM). */
	return hl_buf_append(ud, ptr, size * n) ? 0 : size * n;
}

static void set_blob(CURL *e, CURLoption opt, const struct hlk8s__blob *b)
{
	struct curl_blob blob = { .data = b->data, .len = b->len, .flags = CURL_BLOB_NOCOPY };

	curl_easy_setopt(e, opt, &blob);
}

static void set_tls(struct hlk8s_client *c, CURL *e)
{
	const struct hlk8s__config *cfg = &c->cfg;

	if (cfg->insecure) {
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	if (cfg->ca.data)
		set_blob(e, CURLOPT_CAINFO_BLOB, &cfg->ca);
	else if (cfg->ca_file)
		curl_easy_setopt(e, CURLOPT_CAINFO, cfg->ca_file);
	if (cfg->cert.data)
		set_blob(e, CURLOPT_SSLCERT_BLOB, &cfg->cert);
	else if (cfg->cert_file)
		curl_easy_setopt(e, CURLOPT_SSLCERT, cfg->cert_file);
	if (cfg->key.data)
		set_blob(e, CURLOPT_SSLKEY_BLOB, &cfg->key);
	else if (cfg->key_file)
		curl_easy_setopt(e, CURLOPT_SSLKEY, cfg->key_file);
}

CURL *hlk8s__easy(struct hlk8s_client *c, const char *url, long connect_ms, long total_ms,
		  struct hl_buf *body, struct curl_slist **hdrs)
{
	struct curl_slist *h = NULL, *t;
	CURL *e = curl_easy_init();
	bool oom;
	char *auth;

	*hdrs = NULL;
	if (!e)
		return NULL;
	auth = auth_header(c, &oom);
	h = curl_slist_append(NULL, "Accept: application/json");
	t = h && auth ? curl_slist_append(h, auth) : h;
	free(auth);
	if (!t || oom) {
		curl_slist_free_all(h);
		curl_easy_cleanup(e);
		return NULL;
	}
	*hdrs = h = t;
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(e, CURLOPT_USERAGENT, USER_AGENT);
	/* Several threads use curl: signals (alarm-based DNS timeouts) are unsafe. */
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "https,http");
	curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
	if (connect_ms)
		curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, connect_ms);
	if (total_ms)
		curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, total_ms);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, hlk8s__buf_write);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, body);
	set_tls(c, e);
	return e;
}

static int curl_errno(CURLcode rc)
{
	switch (rc) {
	case CURLE_OK:
		return 0;
	case CURLE_OPERATION_TIMEDOUT:
		return -ETIMEDOUT;
	case CURLE_COULDNT_CONNECT:
		return -ECONNREFUSED;
	case CURLE_OUT_OF_MEMORY:
		return -ENOMEM;
	default:
		return -EIO;
	}
}

/* Runs @e in a private multi handle so that @stop_fd is polled with curl's sockets. */
static int perform_stoppable(CURL *e, int stop_fd, CURLcode *rc)
{
	CURLM *m = curl_multi_init();
	int r = 0;

	if (!m)
		return -ENOMEM;
	if (curl_multi_add_handle(m, e) != CURLM_OK) {
		curl_multi_cleanup(m);
		return -ENOMEM;
	}
	for (;;) {
		struct curl_waitfd w = { .fd = stop_fd, .events = CURL_WAIT_POLLIN };
		int running = 0, left;
		CURLMsg *msg;

		if (curl_multi_perform(m, &running) != CURLM_OK) {
			r = -EIO;
			break;
		}
		if (!running) {
			msg = curl_multi_info_read(m, &left);
			*rc = msg && msg->msg == CURLMSG_DONE ? msg->data.result : CURLE_RECV_ERROR;
			break;
		}
		if (curl_multi_poll(m, &w, 1, 1000, NULL) != CURLM_OK) {
			r = -EIO;
			break;
		}
		if (w.revents) {
			r = HLK8S__STOPPED;
			break;
		}
	}
	curl_multi_remove_handle(m, e);
	curl_multi_cleanup(m);
	return r;
}

int hlk8s__perform(struct hlk8s_client *c, CURL *e, int stop_fd, const char *what)
{
	char errbuf[CURL_ERROR_SIZE] = "";
	CURLcode rc = CURLE_OK;
	int r = 0;

	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, errbuf);
	if (stop_fd >= 0)
		r = perform_stoppable(e, stop_fd, &rc);
	else
		rc = curl_easy_perform(e);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, NULL);
	if (r)
		return r;
	r = curl_errno(rc);
	/* A write error is our own callback refusing data; the caller says why. */
	if (r)
		hlk8s__log(c, rc == CURLE_WRITE_ERROR ? HLK8S_LOG_DEBUG : HLK8S_LOG_WARN,
			   "k8s: %s: %s", what, errbuf[0] ? errbuf : curl_easy_strerror(rc));
	if (r && rc != CURLE_WRITE_ERROR)
		hlk8s__note_error(c, "%s: %s", what, errbuf[0] ? errbuf : curl_easy_strerror(rc));
	return r;
}

int hlk8s__http_error(struct hlk8s_client *c, long code, const struct hl_buf *body,
		      const char *what)
{
	struct hlk8s__status st;
	bool no_token = (code == 401 || code == 403) && c->cfg.token_file && !c->cfg.token;
	char why[200] = "";

	if (body->len && !hlk8s__status_parse(body->p, body->len, &st))
		snprintf(why, sizeof(why), " %.60s: %.130s", st.reason, st.message);
	if (no_token) {
		pthread_mutex_lock(&c->tok_lock);
		no_token = !c->token;
		pthread_mutex_unlock(&c->tok_lock);
	}
	hlk8s__log(c, code == 404 ? HLK8S_LOG_DEBUG : HLK8S_LOG_WARN, "k8s: %s: HTTP %ld%s%s", what,
		   code, why, no_token ? " (no token to send)" : "");
	/* 404 is an answer, 410 the watch's normal relist: neither is a failure. */
	if (code != 404 && code != 410)
		hlk8s__note_error(c, "%s: HTTP %ld%s%s", what, code, why,
				  no_token ? " (no token to send)" : "");
	switch (code) {
	case 401:
	case 403:
		return -EACCES;
	case 404:
		return -ENOENT;
	case 410:
		return -ESTALE; /* internal: expired resourceVersion / continue token */
	default:
		return -EIO;
	}
}

char *hlk8s__escape(const char *s)
{
	/* Since 7.82 the handle argument may be NULL. */
	char *t = curl_easy_escape(NULL, s, 0);
	char *r = t ? strdup(t) : NULL;

	curl_free(t);
	return r;
}

/* ---- construction ---- */

static int load_config(const struct hlk8s_opts *o, struct hlk8s__config *cfg,
		       char *err, size_t errlen)
{
	if (o->kubeconfig)
		return hlk8s__kubeconfig_load(o->kubeconfig, cfg, err, errlen);
	return hlk8s__incluster_load(o->sa_dir, cfg, err, errlen);
}

static int client_init(struct hlk8s_client *c, const struct hlk8s_opts *o)
{
	char err[512] = "";
	int r;

	r = load_config(o, &c->cfg, err, sizeof(err));
	if (r) {
		hlk8s__log(c, HLK8S_LOG_ERR, "k8s: %s", err[0] ? err : strerror(-r));
		return r;
	}
	if (c->cfg.tls_server_name)
		hlk8s__log(c, HLK8S_LOG_WARN, "k8s: tls-server-name is not supported; "
			   "verifying the server's name against %s", c->cfg.server);
	if (o->node_name) {
		struct hlk8s_informer_opts po = { .kind = HLK8S_PODS };
		char *sel = NULL;

		c->node = strdup(o->node_name);
		if (!c->node || asprintf(&sel, "spec.nodeName=%s", c->node) < 0)
			return -ENOMEM;
		po.field_selector = sel;
		c->pods = hlk8s__informer_make(c, &po, c->node);
		free(sel);
		if (!c->pods)
			return -ENOMEM;
	}
	c->in_cluster = !o->kubeconfig;
	if (c->cfg.token_file) {
		/* With a kubeconfig the first read must work: a missing or empty
		 * token is a bad config. In a pod the projected token may come
		 * after the container starts: wait for it, request by request. */
		pthread_mutex_lock(&c->tok_lock);
		r = token_reload_locked(c, true);
		pthread_mutex_unlock(&c->tok_lock);
		if (r < 0 && c->in_cluster && r != -ENOMEM) {
			hlk8s__log(c, HLK8S_LOG_WARN, "k8s: no token yet: %s: %s; retrying before "
				   "every request", c->cfg.token_file,
				   r == -EINVAL ? "empty or malformed" : strerror(-r));
			hlk8s__note_error(c, "no token: %s: %s", c->cfg.token_file,
					  r == -EINVAL ? "empty or malformed" : strerror(-r));
		} else if (r < 0) {
			hlk8s__log(c, HLK8S_LOG_ERR, "k8s: token %s: %s", c->cfg.token_file,
				   r == -EINVAL ? "empty or malformed" : strerror(-r));
			return r == -ENOENT || r == -ENOMEM ? r : -EINVAL;
		}
	}
	hlk8s__log(c, HLK8S_LOG_INFO, "k8s: API server %s%s", c->cfg.server,
		   c->cfg.insecure ? " (TLS verification disabled)" : "");
	return 0;
}

struct hlk8s_client *hlk8s_client_new(const struct hlk8s_opts *opts)
{
	struct hlk8s_client *c;
	int r;

	if (!opts || opts->get_timeout_ms < 0) {
		errno = EINVAL;
		return NULL;
	}
	pthread_once(&curl_once, curl_init);
	if (curl_init_rc != CURLE_OK) {
		errno = ENOMEM;
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		errno = ENOMEM;
		return NULL;
	}
	c->log = opts->log;
	c->log_arg = opts->log_arg;
	c->get_timeout_ms = opts->get_timeout_ms ? opts->get_timeout_ms : GET_TIMEOUT_DEFAULT_MS;
	pthread_mutex_init(&c->lock, NULL);
	pthread_mutex_init(&c->tok_lock, NULL);
	r = client_init(c, opts);
	if (r) {
		hlk8s_client_free(c);
		errno = -r;
		return NULL;
	}
	return c;
}

void hlk8s_client_free(struct hlk8s_client *c)
{
	if (!c)
		return;
	while (c->informers)
		hlk8s_informer_free(c->informers);
	hlk8s__config_clear(&c->cfg);
	free(c->node);
	free(c->token);
	pthread_mutex_destroy(&c->lock);
	pthread_mutex_destroy(&c->tok_lock);
	free(c);
}

const char *hlk8s_server(const struct hlk8s_client *c)
{
	return c->cfg.server;
}

void hlk8s_get_stats(struct hlk8s_client *c, struct hlk8s_stats *out)
{
	pthread_mutex_lock(&c->lock);
	*out = c->st;
	for (const struct hlk8s_informer *i = c->informers; i; i = i->next) {
		out->watch_connects += i->st.watch_connects;
		out->relists += i->st.relists;
		out->events += i->st.events;
		out->list_errors += i->st.list_errors;
		out->watch_errors += i->st.watch_errors;
	}
	out->cached_pods = c->pods ? hlk8s__cache_count(c->pods->cache) : 0;
	pthread_mutex_unlock(&c->lock);
}

/* ---- annotation lookup ---- */

/* DNS-1123 subdomain characters only: the names go into a URL path. */
static bool valid_name(const char *s, size_t max)
{
	size_t n = s ? strlen(s) : 0;

	return n > 0 && n <= max && strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789.-") == n;
}

static int copy_value(const char *v, char *buf, size_t len)
{
	size_t n;

	if (!v)
		return -ENOENT;
	n = strlen(v);
	if (n + 1 > len)
		return -ENOSPC;
	memcpy(buf, v, n + 1);
	return 0;
}

/* GETs a pod, re-reading the token and retrying once on 401. Body in @body. */
static int get_pod(struct hlk8s_client *c, const char *ns, const char *name,
		   struct hl_buf *body)
{
	char path[384];

	snprintf(path, sizeof(path), "/api/v1/namespaces/%s/pods/%s", ns, name);
	return hlk8s__get(c, path, body, "GET pod");
}

/* Caches a GET result for a pod of this node, unless the watch already has
 * it (the handler hears of it from the watch). */
static void cache_from_get(struct hlk8s_client *c, const cJSON *obj)
{
	const struct hlk8s__kind *k = hlk8s__kind_of(HLK8S_PODS);
	struct hlk8s_pod *pod;
	int r;

	if (!c->pods || !(pod = hlk8s__obj_parse(k, obj, &r)))
		return;
	pthread_mutex_lock(&c->lock);
	if (pod->node && !strcmp(pod->node, c->node) &&
	    !hlk8s__cache_get(c->pods->cache, pod->meta.ns, pod->meta.name)) {
		hlk8s__cache_put(c->pods->cache, pod, NULL);
		pod = NULL;
	}
	pthread_mutex_unlock(&c->lock);
	hlk8s__obj_free(k, pod);
}

static int lookup_get(struct hlk8s_client *c, const char *ns, const char *name,
		      const char *key, char *buf, size_t len)
{
	struct hl_buf body = { .max = GET_BODY_MAX };
	cJSON *root;
	int r;

	r = get_pod(c, ns, name, &body);
	pthread_mutex_lock(&c->lock);
	c->st.gets++;
	if (r && r != -ENOENT)
		c->st.get_errors++;
	pthread_mutex_unlock(&c->lock);
	if (r) {
		free(body.p);
		return r;
	}
	root = cJSON_ParseWithLength(body.p, body.len);
	free(body.p);
	if (!root) {
		hlk8s__log(c, HLK8S_LOG_WARN, "k8s: GET pod %s/%s: malformed answer", ns, name);
		return -EIO;
	}
	r = copy_value(hlk8s__json_pod_ann(root, key), buf, len);
	cache_from_get(c, root);
	cJSON_Delete(root);
	return r;
}

int hlk8s_pod_annotation(struct hlk8s_client *c, const char *ns, const char *name,
			 const char *key, char *buf, size_t len)
{
	const struct hlk8s_pod *p;
	int r = 1;

	if (!c || !valid_name(ns, 63) || !valid_name(name, 253) || !key || !*key || !buf || !len)
		return -EINVAL;
	if (c->pods && !strncmp(key, HLK8S_ANN_PREFIX, strlen(HLK8S_ANN_PREFIX))) {
		pthread_mutex_lock(&c->lock);
		p = hlk8s__cache_get(c->pods->cache, ns, name);
		if (p)
			r = copy_value(hlk8s__pod_ann(p, key), buf, len);
		pthread_mutex_unlock(&c->lock);
	}
	return r <= 0 ? r : lookup_get(c, ns, name, key, buf, len);
}
