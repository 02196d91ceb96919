/* SPDX-License-Identifier: Apache-2.0 */
/*
 * An informer's WATCH (informer.c runs the loop around it): a chunked
 * stream of watch events, one JSON line each, applied to the cache and
 * told to the handler as they arrive; BOOKMARKs move the resume point;
 * an ERROR event with 410 (or an unreadable event) means relist.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "client_private.h"

#define CONNECT_TIMEOUT_MS 10000L
#define EVENT_MAX          (16u << 20) /* one watch event line */
#define ERRBODY_MAX        (64u << 10)

struct watch {
	struct hlk8s_informer *inf;
	CURL *e;
	char **rv;                /* resume point, updated per event */
	struct hl_buf line;   /* partial event line */
	struct hl_buf errbody;
	long code;                /* HTTP status, once headers are in */
	int err;                  /* why it failed (W_ERROR): -errno */
	unsigned events;
	bool gone, bad;
	char what[64];            /* "WATCH pods" */
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

/* Applies an object event to the cache, then tells the handler. */
static void apply(struct watch *w, struct hlk8s__event *ev)
{
	struct hlk8s_informer *inf = w->inf;
	struct hlk8s_client *c = inf->c;
	const struct hlk8s_pod *pod = ev->obj;
	const struct hlk8s_meta *m = ev->obj;
	void *old = NULL, *obj = NULL;
	bool upsert = ev->type == HLK8S_EV_ADDED || ev->type == HLK8S_EV_MODIFIED;

	/* The field selector makes every pod ours; check anyway. */
	if (upsert && inf->node && !(pod->node && !strcmp(pod->node, inf->node)))
		upsert = false;
	pthread_mutex_lock(&c->lock);
	if (ev->type == HLK8S_EV_BOOKMARK) {
		/* only the resume point moves */
	} else if (upsert) {
		obj = ev->obj;
		ev->obj = NULL;
		if (hlk8s__cache_put(inf->cache, obj, &old)) {
			obj = NULL;
			w->bad = true; /* ENOMEM: the cache would be wrong; relist later */
		}
	} else {
		old = hlk8s__cache_take(inf->cache, m->ns, m->name);
	}
	inf->st.events++;
	inf->last_sync = (int64_t)time(NULL);
	pthread_mutex_unlock(&c->lock);
	if (inf->fn && obj)
		inf->fn(inf->arg, HLK8S_UPSERT, obj);
	else if (inf->fn && old)
		inf->fn(inf->arg, HLK8S_DELETE, old);
	hlk8s__obj_free(inf->k, old);
	if (!w->bad)
		set_rv(w->rv, ev->rv);
	w->events++;
}

static void handle_line(struct watch *w, const char *line, size_t len)
{
	struct hlk8s__event ev;

	if (strspn(line, " \t\r") == len)
		return;
	if (hlk8s__event_parse(w->inf->k, line, len, &ev)) {
		/* An event we cannot read may be one we needed: start over. */
		hlk8s__log(w->inf->c, HLK8S_LOG_WARN, "k8s: %s: malformed event; relisting",
			   w->what);
		w->gone = true;
		return;
	}
	if (ev.type == HLK8S_EV_ERROR) {
		if (ev.status.code == 410)
			w->gone = true;
		else
			w->bad = true;
		hlk8s__log(w->inf->c, ev.status.code == 410 ? HLK8S_LOG_INFO : HLK8S_LOG_WARN,
			   "k8s: %s: %d %s: %s", w->what, ev.status.code, ev.status.reason,
			   ev.status.message);
		if (ev.status.code != 410)
			hlk8s__note_error(w->inf->c, "%s: ERROR event %d %s: %s", w->what,
					  ev.status.code, ev.status.reason, ev.status.message);
	} else {
		apply(w, &ev);
	}
	hlk8s__event_clear(w->inf->k, &ev);
}

static size_t watch_write(char *ptr, size_t size, size_t n, void *ud)
{
	struct watch *w = ud;
	size_t total = size * n, done = 0;

	if (w->code != 200)
		return hl_buf_append(&w->errbody, ptr, total) ? 0 : total;
	while (done < total && !w->gone && !w->bad) {
		const char *nl = memchr(ptr + done, '\n', total - done);
		size_t chunk = nl ? (size_t)(nl - (ptr + done)) : total - done;

		if (hl_buf_append(&w->line, ptr + done, chunk)) {
			hlk8s__log(w->inf->c, HLK8S_LOG_WARN, "k8s: %s: event too large", w->what);
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
			pthread_mutex_lock(&w->inf->c->lock);
			w->inf->st.watch_connects++;
			pthread_mutex_unlock(&w->inf->c->lock);
			/* Resumed from the last version seen: in step again. */
			hlk8s__note_sync(w->inf, 0);
		}
	}
	return total;
}

static char *watch_url(struct hlk8s_informer *inf, const char *rv, int timeout_s)
{
	char *sel = hlk8s__selector_arg(inf), *erv = hlk8s__escape(rv ? rv : "");
	char *url = NULL;
	int n = -1;

	if (sel && erv)
		n = asprintf(&url, "%s%s?watch=1&resourceVersion=%s%s&allowWatchBookmarks=true"
			     "&timeoutSeconds=%d", inf->c->cfg.server, inf->k->path, erv, sel,
			     timeout_s);
	free(sel);
	free(erv);
	return n < 0 ? NULL : url;
}

static enum hlk8s__wres watch_result(struct watch *w, int r)
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
		r = hlk8s__http_error(w->inf->c, w->code, &w->errbody, w->what);
		if (r == -ESTALE)
			return W_GONE;
		if (r == -EACCES)
			hlk8s__token_refresh(w->inf->c, true);
		w->err = r;
		return W_ERROR;
	}
	w->err = r;
	return r ? W_ERROR : W_EOF;
}

enum hlk8s__wres hlk8s__watch(struct hlk8s_informer *inf, int stop_fd, char **rv, int timeout_s,
			      unsigned *events, int *err)
{
	struct hlk8s_client *c = inf->c;
	struct watch w = { .inf = inf, .rv = rv, .line.max = EVENT_MAX,
			   .errbody.max = ERRBODY_MAX };
	struct curl_slist *hdrs = NULL;
	char *url;
	enum hlk8s__wres res = W_ERROR;
	int r;

	snprintf(w.what, sizeof(w.what), "WATCH %s", inf->k->name);
	hlk8s__token_refresh(c, false);
	url = watch_url(inf, *rv, timeout_s);
	w.e = url ? hlk8s__easy(c, url, CONNECT_TIMEOUT_MS, (timeout_s + 30) * 1000L, NULL,
				&hdrs) : NULL;
	if (w.e) {
		curl_easy_setopt(w.e, CURLOPT_WRITEFUNCTION, watch_write);
		curl_easy_setopt(w.e, CURLOPT_WRITEDATA, &w);
		curl_easy_setopt(w.e, CURLOPT_HEADERFUNCTION, watch_header);
		curl_easy_setopt(w.e, CURLOPT_HEADERDATA, &w);
		hlk8s__log(c, HLK8S_LOG_DEBUG, "k8s: watching %s from resourceVersion %s",
			   inf->k->name, *rv ? *rv : "(none)");
		r = hlk8s__perform(c, w.e, stop_fd, w.what);
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

