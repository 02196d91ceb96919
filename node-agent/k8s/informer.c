/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Informers: list + watch of one kind of object (the informer pattern,
 * reduced; the WATCH request is in informer_watch.c). LIST into a fresh cache and swap it in, telling the handler
 * what the list added, changed and no longer has; WATCH from the list's
 * resourceVersion, each event to the cache and then the handler; on a
 * drop, resume from the last resourceVersion seen; on 410 Gone (the
 * resourceVersion was compacted away), LIST again. Errors back off
 * exponentially, with jitter so that a fleet of agents does not stampede a
 * recovering API server.
 */
#include <errno.h>
#include <stdint.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client_private.h"

#define LIST_TIMEOUT_MS   60000L
#define CONNECT_TIMEOUT_MS 10000L
#define LIST_BODY_MAX     (256u << 20)
#define LIST_PAGE         500
#define BACKOFF_MIN_MS    200L
#define BACKOFF_MAX_MS    30000L
#define HEALTHY_WATCH_MS  5000L /* a watch that lived this long was not an error */
/* The server ends each watch after timeoutSeconds (we pick it at random in
 * this range) so that a silently dead connection cannot hang us forever. */
#define WATCH_TIMEOUT_MIN_S 300
#define WATCH_TIMEOUT_SPREAD_S 300


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

static int list_put(void *arg, void *obj)
{
	return hlk8s__cache_put(arg, obj, NULL);
}

char *hlk8s__selector_arg(const struct hlk8s_informer *inf)
{
	char *e, *out = NULL;

	if (!inf->field_selector)
		return strdup("");
	e = hlk8s__escape(inf->field_selector);
	if (e && asprintf(&out, "&fieldSelector=%s", e) < 0)
		out = NULL;
	free(e);
	return out;
}

static char *list_url(struct hlk8s_informer *inf, const char *cont)
{
	char *sel = hlk8s__selector_arg(inf), *ec = cont ? hlk8s__escape(cont) : NULL;
	char *url = NULL;
	int n = -1;

	if (sel && (ec || !cont))
		n = asprintf(&url, "%s%s?limit=%d%s%s%s", inf->c->cfg.server, inf->k->path,
			     LIST_PAGE, sel, ec ? "&continue=" : "", ec ? ec : "");
	free(sel);
	free(ec);
	return n < 0 ? NULL : url;
}

/* One page into @cache. 0 (and *@rv, *@cont), HLK8S__STOPPED, or -errno. */
static int list_page(struct hlk8s_informer *inf, int stop_fd, struct hlk8s__cache *cache,
		     char **rv, char **cont)
{
	struct hlk8s_client *c = inf->c;
	struct hl_buf body = { .max = LIST_BODY_MAX };
	struct curl_slist *hdrs;
	char *url = list_url(inf, *cont), what[64];
	CURL *e = NULL;
	long code = 0;
	int r = -ENOMEM;

	snprintf(what, sizeof(what), "LIST %s", inf->k->name);
	if (url)
		e = hlk8s__easy(c, url, CONNECT_TIMEOUT_MS, LIST_TIMEOUT_MS, &body, &hdrs);
	if (!e)
		goto out;
	r = hlk8s__perform(c, e, stop_fd, what);
	if (!r)
		curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_cleanup(e);
	curl_slist_free_all(hdrs);
	if (!r && code != 200)
		r = hlk8s__http_error(c, code, &body, what);
	if (r == -EACCES)
		hlk8s__token_refresh(c, true);
	free(*rv);
	free(*cont);
	*rv = *cont = NULL;
	if (!r && hlk8s__list_parse(inf->k, body.p, body.len, list_put, cache, rv, cont)) {
		hlk8s__log(c, HLK8S_LOG_WARN, "k8s: %s: malformed %s", what, inf->k->list_kind);
		r = -EIO;
	}
out:
	free(url);
	free(body.p);
	return r;
}

/* What a relist changed, for the handler: collected under the lock, told
 * after it (the objects stay valid: only this thread frees them). */
struct diff {
	const struct hlk8s__cache *other;
	enum hlk8s_change ch;
	const void **objs;
	size_t n, cap;
	bool oom;
};

static void diff_one(void *arg, const void *obj)
{
	struct diff *d = arg;
	const struct hlk8s_meta *m = obj;
	const struct hlk8s_meta *o = hlk8s__cache_get(d->other, m->ns, m->name);

	/* Gone (DELETE), or new or changed (UPSERT). */
	if (d->ch == HLK8S_DELETE ? o != NULL :
	    o && m->rv && o->rv && !strcmp(m->rv, o->rv))
		return;
	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 64;
		const void **p = realloc(d->objs, cap * sizeof(*p));

		if (!p) {
			d->oom = true;
			return;
		}
		d->objs = p;
		d->cap = cap;
	}
	d->objs[d->n++] = obj;
}

static void tell(struct hlk8s_informer *inf, const struct diff *d)
{
	for (size_t i = 0; inf->fn && i < d->n; i++)
		inf->fn(inf->arg, d->ch, d->objs[i]);
}

/* Full LIST (all pages) swapped into the informer's cache; *@rv = its version. */
static int do_list(struct hlk8s_informer *inf, int stop_fd, char **rv)
{
	struct hlk8s_client *c = inf->c;
	struct hlk8s__cache *cache = hlk8s__cache_new(inf->k), *old;
	struct diff gone = { .ch = HLK8S_DELETE }, fresh = { .ch = HLK8S_UPSERT };
	char *cont = NULL;
	int r = 0;

	if (!cache)
		return -ENOMEM;
	hlk8s__token_refresh(c, false);
	do
		r = list_page(inf, stop_fd, cache, rv, &cont);
	while (!r && cont);
	free(cont);
	if (r) {
		/* -ESTALE: the continue token expired mid-list; the caller relists. */
		hlk8s__cache_free(cache);
		return r;
	}
	pthread_mutex_lock(&c->lock);
	old = inf->cache;
	gone.other = cache;
	fresh.other = old;
	hlk8s__cache_each(old, diff_one, &gone);
	hlk8s__cache_each(cache, diff_one, &fresh);
	inf->cache = cache;
	pthread_mutex_unlock(&c->lock);
	if (gone.oom || fresh.oom)
		hlk8s__log(c, HLK8S_LOG_ERR, "k8s: %s: out of memory telling changes", inf->k->name);
	tell(inf, &gone);
	tell(inf, &fresh);
	hlk8s__cache_free(old);
	free(gone.objs);
	free(fresh.objs);
	if (inf->synced)
		inf->synced(inf->arg);
	hlk8s__log(c, HLK8S_LOG_INFO, "k8s: listed %zu %s%s%s at resourceVersion %s",
		   hlk8s__cache_count(cache), inf->k->name, inf->node ? " on node " : "",
		   inf->node ? inf->node : "", *rv ? *rv : "(none)");
	return 0;
}

/* ---- the loop ---- */

struct loop {
	char *rv;
	bool need_list, listed_once;
	long backoff_ms;
	uint32_t seed;
};

/* Sleeps the next backoff step; true if stop_fd fired meanwhile. */
static bool back_off(struct hlk8s_informer *inf, struct loop *l, int stop_fd)
{
	long ms;

	l->backoff_ms = l->backoff_ms ? l->backoff_ms * 2 : BACKOFF_MIN_MS;
	if (l->backoff_ms > BACKOFF_MAX_MS)
		l->backoff_ms = BACKOFF_MAX_MS;
	ms = l->backoff_ms / 2 + (long)(rnd(&l->seed) % (uint32_t)(l->backoff_ms / 2 + 1));
	hlk8s__log(inf->c, HLK8S_LOG_DEBUG, "k8s: %s: retrying in %ld ms", inf->k->name, ms);
	return stopped(stop_fd, ms);
}

/* One LIST; false if the loop must end. A failed LIST is an error, not a
 * relist: relists are the LISTs that replaced a cache a LIST had filled. */
static bool list_step(struct hlk8s_informer *inf, struct loop *l, int stop_fd)
{
	int r = do_list(inf, stop_fd, &l->rv);

	if (r == HLK8S__STOPPED)
		return false;
	pthread_mutex_lock(&inf->c->lock);
	if (r)
		inf->st.list_errors++;
	else if (l->listed_once)
		inf->st.relists++;
	pthread_mutex_unlock(&inf->c->lock);
	hlk8s__note_sync(inf, r);
	if (r)
		return !back_off(inf, l, stop_fd);
	l->listed_once = true;
	l->need_list = false;
	return true;
}

/* One WATCH; false if the loop must end. */
static bool watch_step(struct hlk8s_informer *inf, struct loop *l, int stop_fd)
{
	struct timespec t0, t1;
	unsigned events = 0;
	enum hlk8s__wres res;
	long ms;
	int err = 0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	res = hlk8s__watch(inf, stop_fd, &l->rv,
			   WATCH_TIMEOUT_MIN_S + (int)(rnd(&l->seed) % WATCH_TIMEOUT_SPREAD_S),
			   &events, &err);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	if (res == W_ERROR) {
		pthread_mutex_lock(&inf->c->lock);
		inf->st.watch_errors++;
		pthread_mutex_unlock(&inf->c->lock);
		hlk8s__note_sync(inf, err ? err : -EIO);
	}
	switch (res) {
	case W_STOPPED:
		return false;
	case W_GONE:
		hlk8s__log(inf->c, HLK8S_LOG_INFO, "k8s: %s: resourceVersion %s expired; relisting",
			   inf->k->name, l->rv ? l->rv : "(none)");
		l->need_list = true;
		/* A 410 right after a fresh list would loop: slow that down. */
		if (!events && ms < HEALTHY_WATCH_MS)
			return !back_off(inf, l, stop_fd);
		l->backoff_ms = 0;
		return true;
	case W_EOF:
		if (events || ms >= HEALTHY_WATCH_MS) {
			l->backoff_ms = 0;
			return true;
		}
		return !back_off(inf, l, stop_fd);
	default:
		if (events || ms >= HEALTHY_WATCH_MS)
			l->backoff_ms = 0;
		return !back_off(inf, l, stop_fd);
	}
}

int hlk8s_informer_run(struct hlk8s_informer *inf, int stop_fd)
{
	struct loop l = { .need_list = true };
	bool go = true;

	if (!inf || stop_fd < 0)
		return -EINVAL;
	pthread_mutex_lock(&inf->c->lock);
	inf->running = true;
	pthread_mutex_unlock(&inf->c->lock);
	l.seed = (uint32_t)getpid() ^ (uint32_t)(uintptr_t)&l ^ (uint32_t)time(NULL);
	if (!l.seed)
		l.seed = 1;
	while (go && !stopped(stop_fd, 0))
		go = l.need_list ? list_step(inf, &l, stop_fd) : watch_step(inf, &l, stop_fd);
	free(l.rv);
	pthread_mutex_lock(&inf->c->lock);
	inf->running = false;
	pthread_mutex_unlock(&inf->c->lock);
	hlk8s__log(inf->c, HLK8S_LOG_INFO, "k8s: %s: watch stopped", inf->k->name);
	return 0;
}

int hlk8s_watch_run(struct hlk8s_client *c, int stop_fd)
{
	if (!c || !c->pods || stop_fd < 0)
		return -EINVAL;
	return hlk8s_informer_run(c->pods, stop_fd);
}

/* ---- making, reading and freeing informers ---- */

struct hlk8s_informer *hlk8s__informer_make(struct hlk8s_client *c,
					    const struct hlk8s_informer_opts *o, const char *node)
{
	const struct hlk8s__kind *k = o ? hlk8s__kind_of(o->kind) : NULL;
	struct hlk8s_informer *inf;

	if (!c || !k) {
		errno = EINVAL;
		return NULL;
	}
	inf = calloc(1, sizeof(*inf));
	if (!inf || (o->field_selector && !(inf->field_selector = strdup(o->field_selector))) ||
	    !(inf->cache = hlk8s__cache_new(k))) {
		if (inf)
			free(inf->field_selector);
		free(inf);
		errno = ENOMEM;
		return NULL;
	}
	inf->c = c;
	inf->k = k;
	inf->node = node;
	inf->fn = o->fn;
	inf->synced = o->synced;
	inf->arg = o->arg;
	inf->state = HLK8S_STATE_STARTING;
	pthread_mutex_lock(&c->lock);
	inf->next = c->informers;
	c->informers = inf;
	pthread_mutex_unlock(&c->lock);
	return inf;
}

struct hlk8s_informer *hlk8s_informer_new(struct hlk8s_client *c,
					  const struct hlk8s_informer_opts *o)
{
	return hlk8s__informer_make(c, o, NULL);
}

void hlk8s_informer_free(struct hlk8s_informer *inf)
{
	struct hlk8s_client *c;

	if (!inf)
		return;
	c = inf->c;
	pthread_mutex_lock(&c->lock);
	for (struct hlk8s_informer **pp = &c->informers; *pp; pp = &(*pp)->next) {
		if (*pp == inf) {
			*pp = inf->next;
			break;
		}
	}
	if (c->pods == inf)
		c->pods = NULL;
	pthread_mutex_unlock(&c->lock);
	hlk8s__cache_free(inf->cache);
	free(inf->field_selector);
	free(inf);
}

int hlk8s_informer_set_handler(struct hlk8s_informer *inf, hlk8s_handler fn,
			       void (*synced)(void *arg), void *arg)
{
	int r = 0;

	pthread_mutex_lock(&inf->c->lock);
	if (inf->running) {
		r = -EBUSY;
	} else {
		inf->fn = fn;
		inf->synced = synced;
		inf->arg = arg;
	}
	pthread_mutex_unlock(&inf->c->lock);
	return r;
}

struct hlk8s_informer *hlk8s_client_pods(struct hlk8s_client *c)
{
	return c ? c->pods : NULL;
}

int hlk8s_informer_get(struct hlk8s_informer *inf, const char *ns, const char *name,
		       void (*fn)(void *arg, const void *obj), void *arg)
{
	const void *obj;

	if (!inf || !name || !fn)
		return -EINVAL;
	pthread_mutex_lock(&inf->c->lock);
	obj = hlk8s__cache_get(inf->cache, ns, name);
	if (obj)
		fn(arg, obj);
	pthread_mutex_unlock(&inf->c->lock);
	return obj ? 0 : -ENOENT;
}

size_t hlk8s_informer_each(struct hlk8s_informer *inf,
			   void (*fn)(void *arg, const void *obj), void *arg)
{
	size_t n;

	pthread_mutex_lock(&inf->c->lock);
	hlk8s__cache_each(inf->cache, fn, arg);
	n = hlk8s__cache_count(inf->cache);
	pthread_mutex_unlock(&inf->c->lock);
	return n;
}

void hlk8s_informer_stats(struct hlk8s_informer *inf, struct hlk8s_stats *out)
{
	pthread_mutex_lock(&inf->c->lock);
	*out = inf->st;
	out->cached_pods = hlk8s__cache_count(inf->cache);
	pthread_mutex_unlock(&inf->c->lock);
}
