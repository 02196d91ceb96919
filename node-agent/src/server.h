/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the files that serve the plugin socket share (private to hostlaned):
 *   server.c     the socket, the workers, one request, the sweeper
 *   pods.c       the pod table, per-pod keys, loop tasks, crash points
 *   cni_ops.c    ADD, DEL, CHECK, GC
 *   query.c      STATUS, LIST, GET, CONNS, METRICS, VERSION
 *   reconcile.c  start-up reconciliation, shutdown
 */
#ifndef HOSTLANE_SERVER_H
#define HOSTLANE_SERVER_H

#include "daemon.h"

#define ERRLEN 512

struct cJSON;

/* What a worker answers: the reply object, or an error. */
struct hl_reply {
	struct cJSON *obj;  /* ok: extra fields */
	int code;           /* error: CNI code */
	char msg[256];
	char details[ERRLEN];
};

/* Makes @r an error with CNI @code, @details (may be NULL) and a message. */
__attribute__((format(printf, 4, 5)))
void hl_reply_fail(struct hl_reply *r, int code, const char *details, const char *fmt, ...);

/* ---- pods.c ---- */

/* The pod table: callers hold a->lock. -ENOMEM from insert. */
int hl_pods_insert_locked(struct agent *a, struct hl_pod *p);
void hl_pods_remove_locked(struct agent *a, const struct hl_pod *p);
/* The record of @key, or NULL (takes a->lock for the lookup only). */
struct hl_pod *hl_pods_lookup(struct agent *a, const char *key);
/* Serialize work on one attachment: every thread holds at most one key. */
void hl_pods_lock_key(struct agent *a, const char *key);
void hl_pods_unlock_key(struct agent *a, const char *key);
/* The pod's monitor endpoint, made and removed on the loop thread. */
int hl_pod_ep_create(struct agent *a, struct hl_pod *p);
void hl_pod_ep_destroy(struct agent *a, struct hl_pod *p);
/* The same, already on the loop thread (@arg the pod). */
void hl_pod_ep_destroy_task(struct agent *a, void *arg);
/* Fault injection (HOSTLANE_CRASH_AT): SIGKILL at @point if it is named. */
void hl_crash_setup(struct agent *a);
void hl_crash_point(const char *point);
void hl_crash_mid_persist(void);

/* ---- cni_ops.c ---- */

void hl_cni_add(struct agent *a, const struct hl_request *q, struct hl_reply *r);
void hl_cni_del(struct agent *a, const struct hl_request *q, struct hl_reply *r);
void hl_cni_check(struct agent *a, const struct hl_request *q, struct hl_reply *r);
void hl_cni_gc(struct agent *a, const struct hl_request *q, struct hl_reply *r);
/* DEL of @key; the caller holds the key. 0 (also when there was nothing) or -errno. */
int hl_cni_del_key(struct agent *a, const char *key, struct hl_reply *r);

/* ---- query.c ---- */

/* STATUS, LIST, GET, CONNS, METRICS, VERSION. */
void hl_query(struct agent *a, const struct hl_request *q, struct hl_reply *r);

#endif
