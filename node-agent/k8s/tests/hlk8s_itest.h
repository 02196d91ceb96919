/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the files of hlk8s-itest (the driver of test/integration/agent-k8s.sh)
 * share: the environment the script sets, checks, waits, the fake API
 * server's control endpoint, clients and the watch thread. The helpers are
 * in hlk8s_itest.c with main(); the scenarios in itest_watch.c,
 * itest_auth.c and itest_faults.c.
 */
#ifndef HLK8S_ITEST_H
#define HLK8S_ITEST_H

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

/* In a scenario (int fn(void)): fails it with file, line and a message. */
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

/* IT_DIR, IT_CA, IT_SERVER_TOKEN, IT_NODE, IT_API_PORT, IT_CTL_PORT. */
extern const char *dir, *ca, *server_token, *node;
extern int api_port, ctl_port;

/* ---- small helpers ---- */

void logfn(void *arg, int level, const char *msg);
long now_ms(void);
void sleep_ms(long ms);
/* IT_DIR/@name (one of 8 rotating buffers). */
char *path_of(const char *name);
/* Writes @content to @path atomically (a temporary file renamed). */
int write_file(const char *path, const char *content);

/* ---- the control endpoint of the fake API server ---- */

/* POST (json != NULL) or GET to the control port; the answer is parsed JSON. */
cJSON *ctl(const char *ep, const char *json);
int ctl_ok(const char *ep, const char *json);
/* Adds pod @ns/@name on node @on, annotated with @fastpath if not NULL. */
int pod(const char *ns, const char *name, const char *on, const char *fastpath);
/* An integer field of the server's /log. */
long log_num(const char *field);

/* ---- clients and the watch thread ---- */

struct hlk8s_client *kc_client(const char *kubeconfig, int with_node, long timeout_ms);
/* A kubeconfig for the fake server with the given user section. */
const char *kubeconfig(const char *name, int port, const char *user);

struct watcher {
	struct hlk8s_client *c;
	pthread_t t;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int efd, rc, running, done;
};

/* Runs hlk8s_watch_run() of @c in a thread. */
int watch_start(struct watcher *w, struct hlk8s_client *c);
/* Stops and joins; the result of hlk8s_watch_run, or -ETIMEDOUT if it hung. */
int watch_stop(struct watcher *w);
struct hlk8s_stats stats(struct hlk8s_client *c);

/* Polls the client's counters (as `st`) until @cond holds or WAIT_MS
 * passed; the value of @cond. */
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
const char *ann(struct hlk8s_client *c, const char *ns, const char *name, const char *key);
/* Polls the cached annotation until it equals @want (no GETs: pod is cached). */
int wait_ann(struct hlk8s_client *c, const char *ns, const char *name, const char *want);
/* The user section of a kubeconfig reading IT_DIR/client-token. */
const char *token_user(void);
/* Both sides get token @t: the server's accepted token and the client's file. */
int set_tokens(const char *t);

/* ---- the scenarios (0: pass) ---- */

int sc_get(void);        /* itest_watch.c */
int sc_watch(void);
int sc_gone(void);
int sc_resume(void);
int sc_rotate(void);     /* itest_auth.c */
int sc_rotate401(void);
int sc_mtls(void);
int sc_down(void);       /* itest_faults.c */
int sc_stall(void);
int sc_concurrent(void);
int sc_kinds(void);      /* itest_kinds.c */
int sc_podips(void);

#endif
