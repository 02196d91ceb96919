/* SPDX-License-Identifier: Apache-2.0 */
/*
 * List + watch of this node's pods (the informer pattern, reduced): LIST
 * into a fresh cache and swap it in; WATCH from the list's resourceVersion;
 * on a drop, resume from the last resourceVersion seen; on 410 Gone (the
 * resourceVersion was compacted away), LIST again. Errors back off
 * exponentially, with jitter so that a fleet of agents does not stampede a
 * recovering API server.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client_private.h"

#define LIST_TIMEOUT_MS   60000L
#define CONNECT_TIMEOUT_MS 10000L
#define LIST_BODY_MAX     (256u << 20)
#define EVENT_MAX         (16u << 20) /* one watch event line */
#define ERRBODY_MAX       (64u << 10)
#define LIST_PAGE         500
#define BACKOFF_MIN_MS    200L
#define BACKOFF_MAX_MS    30000L
#define HEALTHY_WATCH_MS  5000L /* a watch that lived this long was not an error */
/* The server ends each watch after timeoutSeconds (we pick it at random in
 * this range) so that a silently dead connection cannot hang us forever. */
#define WATCH_TIMEOUT_MIN_S 300
#define WATCH_TIMEOUT_SPREAD_S 300

enum wres {
	W_STOPPED,   /* stop_fd readable */
	W_GONE,      /* 410: relist */
	W_EOF,       /* server closed the stream normally */
	W_ERROR,     /* anything else: back off, resume */
};

static uint32_t rnd(uint32_t *s)
{
	/* xorshift32: jitter only, no need for quality. */
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

static bool stopped(int fd, long ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int n;

	do
		n = poll(&p, 1, (int)ms);
	while (n < 0 && errno == EINTR);
	return n != 0;
}

/* ---- LIST ---- */

static int list_put(void *arg, struct hlk8s__pod *pod)
{
	return hlk8s__cache_put(arg, pod);
}

static char *list_url(struct hlk8s_client *c, const char *cont)
{
	char *node = hlk8s__escape(c->node), *ec = cont ? hlk8s__escape(cont) : NULL;
	char *url = NULL;
	int n = -1;

	if (node && (ec || !cont))
		n = asprintf(&url, "%s/api/v1/pods?fieldSelector=spec.nodeName%%3D%s&limit=%d%s%s",
			     c->cfg.server, node, LIST_PAGE, ec ? "&continue=" : "", ec ? ec : "");
	free(node);
	free(ec);
	return n < 0 ? NULL : url;
}

/* One page into @cache. 0 (and *@rv, *@cont), HLK8S__STOPPED, or -errno. */
static int list_page(struct hlk8s_client *c, int stop_fd, struct hlk8s__cache *cache,
		     char **rv, char **cont)
{
	struct hlk8s__buf body = { .max = LIST_BODY_MAX };
	struct curl_slist *hdrs;
	char *url = list_url(c, *cont);
	CURL *e = NULL;
	long code = 0;
	int r = -ENOMEM;

	if (url)
		e = hlk8s__easy(c, url, CONNECT_TIMEOUT_MS, LIST_TIMEOUT_MS, &body, &hdrs);
	if (!e)
		goto out;
	r = hlk8s__perform(c, e, stop_fd, "LIST pods");
	if (!r)
		curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_cleanup(e);
	curl_slist_free_all(hdrs);
	if (!r && code != 200)
		r = hlk8s__http_error(c, code, &body, "LIST pods");
	if (r == -EACCES)
		hlk8s__token_refresh(c, true);
	free(*rv);
	free(*cont);
	*rv = *cont = NULL;
	if (!r && hlk8s__podlist_parse(body.p, body.len, list_put, cache, rv, cont)) {
		hlk8s__log(c, HLK8S_LOG_WARN, "k8s: LIST pods: malformed PodList");
		r = -EIO;
	}
out:
	free(url);
	free(body.p);
	return r;
}

/* Full LIST (all pages) swapped into the client's cache; *@rv = its version. */
static int do_list(struct hlk8s_client *c, int stop_fd, char **rv)
{
	struct hlk8s__cache *cache = hlk8s__cache_new(), *old;
	char *cont = NULL;
	int r = 0;

	if (!cache)
		return -ENOMEM;
	hlk8s__token_refresh(c, false);
	do
		r = list_page(c, stop_fd, cache, rv, &cont);
	while (!r && cont);
	free(cont);
	if (r) {
		/* -ESTALE: the continue token expired mid-list; the caller relists. */
		hlk8s__cache_free(cache);
		return r;
	}
	pthread_mutex_lock(&c->lock);
	old = c->cache;
	c->cache = cache;
	pthread_mutex_unlock(&c->lock);
	hlk8s__cache_free(old);
	hlk8s__log(c, HLK8S_LOG_INFO, "k8s: listed %zu pods on node %s at resourceVersion %s",
		   hlk8s__cache_count(cache), c->node, *rv ? *rv : "(none)");
	return 0;
}

/* ---- WATCH ---- */

struct watch {
	struct hlk8s_client *c;
	CURL *e;
	char **rv;                /* resume point, updated per event */
	struct hlk8s__buf line;   /* partial event line */
	struct hlk8s__buf errbody;
	long code;                /* HTTP status, once headers are in */
	int err;                  /* why it failed (W_ERROR): -errno */
	unsigned events;
	bool gone, bad;
};

static void set_rv(char **rv, const char *v)
{
	char *d;

	if (!v || !*v)
		return;
	d = strdup(v);
	if (!d)
		return; /* keep the older version: resuming earlier only replays events */
	free(*rv);
	*rv = d;
}

static void apply(struct watch *w, struct hlk8s__event *ev)
{
	struct hlk8s_client *c = w->c;
	bool mine;

	pthread_mutex_lock(&c->lock);
	switch (ev->type) {
	case HLK8S_EV_ADDED:
	case HLK8S_EV_MODIFIED:
		/* The field selector makes every pod ours; check anyway. */
		mine = ev->pod.node && !strcmp(ev->pod.node, c->node);
		if (!mine)
			hlk8s__cache_del(c->cache, ev->pod.ns, ev->pod.name);
		else if (hlk8s__cache_put(c->cache, &ev->pod))
			w->bad = true; /* ENOMEM: the cache would be wrong; relist later */
		break;
	case HLK8S_EV_DELETED:
		hlk8s__cache_del(c->cache, ev->pod.ns, ev->pod.name);
		break;
	default:
		break;
	}
	c->st.events++;
	c->health.last_sync = (int64_t)time(NULL);
	pthread_mutex_unlock(&c->lock);
	if (!w->bad)
		set_rv(w->rv, ev->rv);
	w->events++;
}

static void handle_line(struct watch *w, const char *line, size_t len)
{
	struct hlk8s__event ev;

	if (strspn(line, " \t\r") == len)
		return;
	if (hlk8s__event_parse(line, len, &ev)) {
		/* An event we cannot read may be one we needed: start over. */
		hlk8s__log(w->c, HLK8S_LOG_WARN, "k8s: watch: malformed event; relisting");
		w->gone = true;
		return;
	}
	if (ev.type == HLK8S_EV_ERROR) {
		if (ev.status.code == 410)
			w->gone = true;
		else
			w->bad = true;
		hlk8s__log(w->c, ev.status.code == 410 ? HLK8S_LOG_INFO : HLK8S_LOG_WARN,
			   "k8s: watch: %d %s: %s", ev.status.code, ev.status.reason,
			   ev.status.message);
		if (ev.status.code != 410)
			hlk8s__note_error(w->c, "WATCH pods: ERROR event %d %s: %s", ev.status.code,
					  ev.status.reason, ev.status.message);
	} else {
		apply(w, &ev);
	}
	hlk8s__event_clear(&ev);
}

static size_t watch_write(char *ptr, size_t size, size_t n, void *ud)
{
	struct watch *w = ud;
	size_t total = size * n, done = 0;

	if (w->code != 200)
		return hlk8s__buf_append(&w->errbody, ptr, total) ? 0 : total;
	while (done < total && !w->gone && !w->bad) {
		const char *nl = memchr(ptr + done, '\n', total - done);
		size_t chunk = nl ? (size_t)(nl - (ptr + done)) : total - done;

		if (hlk8s__buf_append(&w->line, ptr + done, chunk)) {
			hlk8s__log(w->c, HLK8S_LOG_WARN, "k8s: watch: event too large");
			w->gone = true;
			break;
		}
		done += chunk;
		if (nl) {
			handle_line(w, w->line.p, w->line.len);
			w->line.len = 0;
			done++;
		}
	}
	/* Stop the transfer once we know we must relist or reconnect. */
	return w->gone || w->bad ? 0 : total;
}

static size_t watch_header(char *ptr, size_t size, size_t n, void *ud)
{
	struct watch *w = ud;
	size_t total = size * n;

	/* The empty line ends the headers: the status is final now. */
	if (total <= 2 && (ptr[0] == '\r' || ptr[0] == '\n')) {
		curl_easy_getinfo(w->e, CURLINFO_RESPONSE_CODE, &w->code);
		if (w->code == 200) {
			pthread_mutex_lock(&w->c->lock);
			w->c->st.watch_connects++;
			pthread_mutex_unlock(&w->c->lock);
			/* Resumed from the last version seen: in step again. */
			hlk8s__note_sync(w->c, 0);
		}
	}
	return total;
}

static char *watch_url(struct hlk8s_client *c, const char *rv, int timeout_s)
{
	char *node = hlk8s__escape(c->node), *erv = hlk8s__escape(rv ? rv : "");
	char *url = NULL;
	int n = -1;

	if (node && erv)
		n = asprintf(&url, "%s/api/v1/pods?watch=1&resourceVersion=%s"
			     "&fieldSelector=spec.nodeName%%3D%s&allowWatchBookmarks=true"
			     "&timeoutSeconds=%d", c->cfg.server, erv, node, timeout_s);
	free(node);
	free(erv);
	return n < 0 ? NULL : url;
}

static enum wres watch_result(struct watch *w, int r)
{
	if (r == HLK8S__STOPPED)
		return W_STOPPED;
	if (w->gone)
		return W_GONE;
	if (w->bad) {
		w->err = -EIO;
		return W_ERROR;
	}
	if (!r && w->code != 200) {
		r = hlk8s__http_error(w->c, w->code, &w->errbody, "WATCH pods");
		if (r == -ESTALE)
			return W_GONE;
		if (r == -EACCES)
			hlk8s__token_refresh(w->c, true);
		w->err = r;
		return W_ERROR;
	}
	w->err = r;
	return r ? W_ERROR : W_EOF;
}

static enum wres do_watch(struct hlk8s_client *c, int stop_fd, char **rv, uint32_t *seed,
			  unsigned *events, int *err)
{
	int timeout_s = WATCH_TIMEOUT_MIN_S + (int)(rnd(seed) % WATCH_TIMEOUT_SPREAD_S);
	struct watch w = { .c = c, .rv = rv, .line.max = EVENT_MAX, .errbody.max = ERRBODY_MAX };
	struct curl_slist *hdrs = NULL;
	char *url;
	enum wres res = W_ERROR;
	int r;

	hlk8s__token_refresh(c, false);
	url = watch_url(c, *rv, timeout_s);
	w.e = url ? hlk8s__easy(c, url, CONNECT_TIMEOUT_MS, (timeout_s + 30) * 1000L, NULL,
				&hdrs) : NULL;
	if (w.e) {
		curl_easy_setopt(w.e, CURLOPT_WRITEFUNCTION, watch_write);
		curl_easy_setopt(w.e, CURLOPT_WRITEDATA, &w);
		curl_easy_setopt(w.e, CURLOPT_HEADERFUNCTION, watch_header);
		curl_easy_setopt(w.e, CURLOPT_HEADERDATA, &w);
		hlk8s__log(c, HLK8S_LOG_DEBUG, "k8s: watching pods from resourceVersion %s",
			   *rv ? *rv : "(none)");
		r = hlk8s__perform(c, w.e, stop_fd, "WATCH pods");
		/* Our own abort (gone/bad) shows up as a write error: not worth a warning. */
		res = watch_result(&w, r);
		curl_easy_cleanup(w.e);
	}
	curl_slist_free_all(hdrs);
	free(url);
	free(w.line.p);
	free(w.errbody.p);
	*events = w.events;
	*err = w.err;
	return res;
}

/* ---- the loop ---- */

struct loop {
	char *rv;
	bool need_list, listed_once;
	long backoff_ms;
	uint32_t seed;
};

/* Sleeps the next backoff step; true if stop_fd fired meanwhile. */
static bool back_off(struct hlk8s_client *c, struct loop *l, int stop_fd)
{
	long ms;

	l->backoff_ms = l->backoff_ms ? l->backoff_ms * 2 : BACKOFF_MIN_MS;
	if (l->backoff_ms > BACKOFF_MAX_MS)
		l->backoff_ms = BACKOFF_MAX_MS;
	ms = l->backoff_ms / 2 + (long)(rnd(&l->seed) % (uint32_t)(l->backoff_ms / 2 + 1));
	hlk8s__log(c, HLK8S_LOG_DEBUG, "k8s: retrying in %ld ms", ms);
	return stopped(stop_fd, ms);
}

/* One LIST; false if the loop must end. A failed LIST is an error, not a
 * relist: relists are the LISTs that replaced a cache a LIST had filled. */
static bool list_step(struct hlk8s_client *c, struct loop *l, int stop_fd)
{
	int r = do_list(c, stop_fd, &l->rv);

	if (r == HLK8S__STOPPED)
		return false;
	pthread_mutex_lock(&c->lock);
	if (r)
		c->st.list_errors++;
	else if (l->listed_once)
		c->st.relists++;
	pthread_mutex_unlock(&c->lock);
	hlk8s__note_sync(c, r);
	if (r)
		return !back_off(c, l, stop_fd);
	l->listed_once = true;
	l->need_list = false;
	return true;
}

/* One WATCH; false if the loop must end. */
static bool watch_step(struct hlk8s_client *c, struct loop *l, int stop_fd)
{
	struct timespec t0, t1;
	unsigned events = 0;
	enum wres res;
	long ms;
	int err = 0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	res = do_watch(c, stop_fd, &l->rv, &l->seed, &events, &err);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	if (res == W_ERROR) {
		pthread_mutex_lock(&c->lock);
		c->st.watch_errors++;
		pthread_mutex_unlock(&c->lock);
		hlk8s__note_sync(c, err ? err : -EIO);
	}
	switch (res) {
	case W_STOPPED:
		return false;
	case W_GONE:
		hlk8s__log(c, HLK8S_LOG_INFO, "k8s: resourceVersion %s expired; relisting",
			   l->rv ? l->rv : "(none)");
		l->need_list = true;
		/* A 410 right after a fresh list would loop: slow that down. */
		if (!events && ms < HEALTHY_WATCH_MS)
			return !back_off(c, l, stop_fd);
		l->backoff_ms = 0;
		return true;
	case W_EOF:
		if (events || ms >= HEALTHY_WATCH_MS) {
			l->backoff_ms = 0;
			return true;
		}
		return !back_off(c, l, stop_fd);
	default:
		if (events || ms >= HEALTHY_WATCH_MS)
			l->backoff_ms = 0;
		return !back_off(c, l, stop_fd);
	}
}

int hlk8s_watch_run(struct hlk8s_client *c, int stop_fd)
{
	struct loop l = { .need_list = true };
	bool go = true;

	if (!c || !c->node || stop_fd < 0)
		return -EINVAL;
	l.seed = (uint32_t)getpid() ^ (uint32_t)(uintptr_t)&l ^ (uint32_t)time(NULL);
	if (!l.seed)
		l.seed = 1;
	while (go && !stopped(stop_fd, 0))
		go = l.need_list ? list_step(c, &l, stop_fd) : watch_step(c, &l, stop_fd);
	free(l.rv);
	hlk8s__log(c, HLK8S_LOG_INFO, "k8s: watch stopped");
	return 0;
}
