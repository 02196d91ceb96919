/* SPDX-License-Identifier: Apache-2.0 */
/* hlk8s internals shared by client.c (requests, GET), informer.c (list +
 * watch), get.c and health.c. */
#ifndef HLK8S_CLIENT_PRIVATE_H
#define HLK8S_CLIENT_PRIVATE_H

#include <pthread.h>
#include <stdbool.h>
#include <sys/types.h>
#include <time.h>

#include <curl/curl.h>

#include "hl_util.h"
#include "hlk8s.h"
#include "hlk8s_private.h"

/* Identity of the token file as last read: a change means "re-read". */
struct tok_id {
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtim;
};

struct hlk8s_client {
	struct hlk8s__config cfg;
	char *node;
	long get_timeout_ms;
	void (*log)(void *arg, int level, const char *msg);
	void *log_arg;

	pthread_mutex_t lock; /* informers' caches, counters and health; the list */
	struct hlk8s_informer *informers;
	struct hlk8s_informer *pods;  /* the pods of this node (node set), or NULL */
	struct hlk8s_stats st;        /* GETs; the informers count the rest */
	struct hlk8s_health health;   /* last error; the informers have the state */
	bool in_cluster;      /* a missing token file is waited for, not an error */

	pthread_mutex_t tok_lock; /* token, tok_id */
	char *token;
	struct tok_id tok_id;
};

/* One kind followed by list + watch (informer.c). */
struct hlk8s_informer {
	struct hlk8s_client *c;
	struct hlk8s_informer *next;      /* in c->informers, under c->lock */
	const struct hlk8s__kind *k;
	char *field_selector;             /* unescaped, or NULL */
	const char *node;                 /* pods of this node only (c->node), or NULL */
	hlk8s_handler fn;
	void (*synced)(void *arg);
	void *arg;
	bool running;
	/* Under c->lock: */
	struct hlk8s__cache *cache;
	struct hlk8s_stats st;
	enum hlk8s_state state;
	int64_t last_sync;
};

/* What a transfer ended with, beyond its CURLcode. */
#define HLK8S__STOPPED 1 /* stop_fd became readable */

__attribute__((format(printf, 3, 4)))
void hlk8s__log(struct hlk8s_client *c, int level, const char *fmt, ...);

/* Records a failed request as the last error (text and time); the state is
 * the informers' to set (hlk8s__note_sync). */
__attribute__((format(printf, 2, 3)))
void hlk8s__note_error(struct hlk8s_client *c, const char *fmt, ...);
/* An informer's verdict: @err 0 = in step (SYNCED, last_sync now), else
 * UNAUTHORIZED for -EACCES, RETRYING otherwise. */
void hlk8s__note_sync(struct hlk8s_informer *inf, int err);

/* Re-reads the token file if it changed (or always, with @force). Returns 1
 * if a new token was loaded, 0 if not, -errno if it could not be read. */
int hlk8s__token_refresh(struct hlk8s_client *c, bool force);

/*
 * A configured easy handle for @url (TLS, credentials, timeouts in ms; 0 =
 * none) that appends the body to @body. *@hdrs must be freed with
 * curl_slist_free_all after the transfer. NULL on ENOMEM.
 */
CURL *hlk8s__easy(struct hlk8s_client *c, const char *url, long connect_ms, long total_ms,
		  struct hl_buf *body, struct curl_slist **hdrs);
/* Runs @e; with @stop_fd >= 0 also returns HLK8S__STOPPED when it becomes readable.
 * Returns 0 (transfer done; check the HTTP code), HLK8S__STOPPED, or -errno. */
int hlk8s__perform(struct hlk8s_client *c, CURL *e, int stop_fd, const char *what);
/* curl write callback appending to a struct hl_buf (lib/util; a full one
 * fails the transfer). */
size_t hlk8s__buf_write(char *ptr, size_t size, size_t n, void *ud);
/* Logs the Status (or HTTP code) of a failed answer and maps it to -errno. */
int hlk8s__http_error(struct hlk8s_client *c, long code, const struct hl_buf *body,
		      const char *what);
/*
 * GETs @path (e.g. "/api/v1/nodes/x") within the client's GET bound,
 * re-reading the token and retrying once on 401. The body is in @body.
 * Returns 0 (HTTP 200) or the -errno hlk8s__http_error() maps the answer to
 * (-ENOENT for 404, -EACCES for 401/403, ...), -ETIMEDOUT, -ECONNREFUSED.
 */
int hlk8s__get(struct hlk8s_client *c, const char *path, struct hl_buf *body,
	       const char *what);
/* An informer of @c; @node: keep only pods of that node (the client's own
 * pod informer). NULL with errno EINVAL or ENOMEM. */
struct hlk8s_informer *hlk8s__informer_make(struct hlk8s_client *c,
					    const struct hlk8s_informer_opts *o, const char *node);
/* "base/api/..." with @node URL-escaped in; NULL on ENOMEM. */
char *hlk8s__escape(const char *s);


/* ---- informer.c / informer_watch.c ---- */

/* How a WATCH ended. */
enum hlk8s__wres {
	W_STOPPED,   /* stop_fd readable */
	W_GONE,      /* 410: relist */
	W_EOF,       /* server closed the stream normally */
	W_ERROR,     /* anything else: back off, resume */
};

/* "&fieldSelector=<escaped>" or "" (malloc'd), NULL on ENOMEM. */
char *hlk8s__selector_arg(const struct hlk8s_informer *inf);
/*
 * One WATCH of @inf from *@rv (moved forward by every event), ended by the
 * server after @timeout_s: each event to the cache and the handler.
 * *@events: how many were applied; *@err: why it failed (W_ERROR).
 */
enum hlk8s__wres hlk8s__watch(struct hlk8s_informer *inf, int stop_fd, char **rv, int timeout_s,
			      unsigned *events, int *err);

#endif /* HLK8S_CLIENT_PRIVATE_H */
