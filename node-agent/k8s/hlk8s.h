/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hlk8s — the node agent's Kubernetes client.
 *
 * Keeps a cache of the pods scheduled on this node (list + watch, resumed
 * from the last resourceVersion, relisted on 410 Gone) and answers "what is
 * annotation K of pod ns/name" from that cache, falling back to a bounded GET
 * on a miss. The library owns no thread: the caller runs hlk8s_watch_run()
 * in a thread of its own and calls hlk8s_pod_annotation() from any thread.
 *
 * Credentials come from the in-cluster service account (token re-read
 * whenever the file changes, since bound tokens expire) or a kubeconfig file
 * (token, tokenFile or client certificate/key; exec/auth-provider plugins are
 * rejected with a clear message).
 *
 * Link with: libhlk8s.a -lcurl -lcjson -lyaml -lpthread ($(HLK8S_LDLIBS)).
 */
#ifndef HLK8S_H
#define HLK8S_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Annotation keys the agent reads. */
#define HLK8S_ANN_FASTPATH  "hostlane.io/fastpath"
#define HLK8S_ANN_HUGEPAGES "hostlane.io/hugepages"

/* Log levels passed to hlk8s_opts.log. */
enum hlk8s_log_level {
	HLK8S_LOG_ERR = 0,
	HLK8S_LOG_WARN = 1,
	HLK8S_LOG_INFO = 2,
	HLK8S_LOG_DEBUG = 3,
};

struct hlk8s_client;

struct hlk8s_opts {
	const char *kubeconfig;  /* path; NULL = in-cluster config */
	const char *node_name;   /* for the watch's fieldSelector; NULL = no watch, GET only */
	const char *sa_dir;      /* in-cluster token/ca dir; NULL = /var/run/secrets/kubernetes.io/serviceaccount */
	long get_timeout_ms;     /* bound for a cache-miss GET; 0 = default 2000 */
	void (*log)(void *arg, int level, const char *msg); /* level: 0 err,1 warn,2 info,3 debug; NULL = silent */
	void *log_arg;
};

/**
 * hlk8s_client_new() - create a client from a kubeconfig or in-cluster config.
 * @opts: options; strings are copied, @opts need not outlive the call.
 *
 * With opts->kubeconfig NULL, uses $KUBERNETES_SERVICE_HOST/_PORT and the
 * token and ca.crt in opts->sa_dir; a token file that is not there (yet)
 * is not an error: requests go without one (the state is "unauthorized")
 * and the file is read again before every request until it appears. Does
 * not contact the API server. The reason for a failure is also passed to
 * opts->log at level 0.
 *
 * Return: the client, or NULL with errno ENOENT (no in-cluster environment,
 * or the kubeconfig or its tokenFile does not exist), EINVAL (bad or unsupported
 * configuration, e.g. an exec credential plugin), ENOMEM.
 * Thread safety: may be called from any thread; the first call initialises
 * libcurl globally (curl_global_init), so make it before starting threads
 * that use libcurl on their own.
 */
struct hlk8s_client *hlk8s_client_new(const struct hlk8s_opts *opts);

/**
 * hlk8s_client_free() - free a client and its pod cache.
 * @c: client, or NULL.
 *
 * Thread safety: no hlk8s_watch_run() or hlk8s_pod_annotation() call may be
 * running on @c (stop the watch thread and join it first).
 */
void hlk8s_client_free(struct hlk8s_client *c);

/**
 * hlk8s_watch_run() - list + watch the pods of this node until stopped.
 * @c: client created with opts->node_name set.
 * @stop_fd: fd that becomes readable when the loop must end (e.g. an
 *           eventfd or the read end of a pipe); it is only polled, never read.
 *
 * Blocks. Keeps the pod cache of this node up to date: lists, then watches
 * from the list's resourceVersion; resumes a dropped watch from the last
 * resourceVersion seen (events and bookmarks); relists on 410 Gone; retries
 * errors with capped exponential backoff (200 ms .. 30 s, jittered). Notices
 * @stop_fd within a poll round trip, also during a transfer or a backoff.
 *
 * Return: 0 once @stop_fd is readable; -EINVAL if @c has no node name or
 * @stop_fd < 0.
 * Thread safety: run at most one per client, in a thread the caller owns;
 * concurrent hlk8s_pod_annotation() calls are fine.
 */
int hlk8s_watch_run(struct hlk8s_client *c, int stop_fd);

/**
 * hlk8s_pod_annotation() - value of annotation @key of pod @ns/@name.
 * @c: client.
 * @ns, @name: pod namespace and name (DNS-1123 names).
 * @key: annotation key, e.g. HLK8S_ANN_FASTPATH.
 * @buf, @len: where the NUL-terminated value goes.
 *
 * Looks in the watch cache first. The cache holds only "hostlane.io/" keys,
 * so other keys, and pods not in the cache, are fetched with a GET bounded by
 * opts->get_timeout_ms (connect + transfer); a pod of this node found that way
 * is cached. A 401 re-reads the token file and retries once.
 *
 * Return: 0 found; -ENOENT the pod has no such annotation, or does not exist
 * (404); -ENOSPC @buf too small; -EINVAL bad argument (e.g. a name with
 * characters outside [a-z0-9.-]); -ETIMEDOUT, -ECONNREFUSED, -EIO, -EACCES
 * (401/403) the API server could not answer (the caller falls back and
 * warns); -ENOMEM.
 * Thread safety: thread-safe.
 */
int hlk8s_pod_annotation(struct hlk8s_client *c, const char *ns, const char *name,
			 const char *key, char *buf, size_t len);

/**
 * hlk8s_node_pod_cidr() - the pod CIDR the cluster gave node @node
 * (spec.podCIDR, else the first of spec.podCIDRs).
 * @c: client.
 * @node: the node's name.
 * @buf, @len: where the NUL-terminated CIDR goes.
 *
 * One GET /api/v1/nodes/<node>, bounded like hlk8s_pod_annotation()'s GET;
 * needs RBAC "get" on nodes.
 * Return: 0; -ENOENT the node has no pod CIDR (the controller manager does
 * not allocate them: --allocate-node-cidrs) or does not exist; -ENOSPC;
 * -EINVAL bad argument; -ETIMEDOUT, -ECONNREFUSED, -EIO, -EACCES as
 * hlk8s_pod_annotation(); -ENOMEM.
 * Thread safety: thread-safe.
 */
int hlk8s_node_pod_cidr(struct hlk8s_client *c, const char *node, char *buf, size_t len);

/**
 * hlk8s_node_set_resource() - advertise an extended resource of node @node
 * (e.g. hostlane.io/shm = the bytes of its hugepage pool), so that the
 * scheduler counts pods' requests of it against the node.
 * @c: client.
 * @node: the node's name.
 * @resource: <domain>/<name>, e.g. "hostlane.io/shm".
 * @value: the node's capacity (and allocatable) of it.
 *
 * One PATCH (JSON merge patch) of /api/v1/nodes/<node>/status setting
 * status.capacity and status.allocatable; bounded like the GETs; needs RBAC
 * "patch" on nodes/status. The kubelet keeps a resource it does not manage
 * itself; call again after the value changes (and at start).
 * Return: 0; -EINVAL bad argument; -ENOENT no such node; -ETIMEDOUT,
 * -ECONNREFUSED, -EIO, -EACCES as hlk8s_pod_annotation(); -ENOMEM.
 * Thread safety: thread-safe.
 */
int hlk8s_node_set_resource(struct hlk8s_client *c, const char *node, const char *resource,
			    unsigned long long value);

/* Counters for metrics and tests; monotonic except cached_pods. */
struct hlk8s_stats {
	uint64_t watch_connects; /* watch requests answered with 200 */
	uint64_t relists;        /* LISTs after the first (410 Gone, list errors) */
	uint64_t events;         /* watch events applied (ADDED/MODIFIED/DELETED/BOOKMARK) */
	uint64_t gets;           /* cache-miss GETs attempted */
	uint64_t get_errors;     /* GETs the API server could not answer (not 404) */
	uint64_t token_reloads;  /* token file re-reads after the first read */
	uint64_t cached_pods;    /* pods in the cache now */
	uint64_t list_errors;    /* LISTs that failed (transport, HTTP error, bad answer) */
	uint64_t watch_errors;   /* WATCHes that failed (not a normal end, not 410 Gone) */
};

/**
 * hlk8s_get_stats() - snapshot of the client's counters.
 * @c: client.
 * @out: filled in.
 *
 * Thread safety: thread-safe.
 */
void hlk8s_get_stats(struct hlk8s_client *c, struct hlk8s_stats *out);

/* The API connection as the watch loop last found it. */
enum hlk8s_state {
	HLK8S_STATE_STARTING,     /* no LIST has completed and none has failed yet */
	HLK8S_STATE_SYNCED,       /* the last LIST or WATCH worked: the cache follows the server */
	HLK8S_STATE_RETRYING,     /* the last LIST or WATCH failed; retrying with backoff */
	HLK8S_STATE_UNAUTHORIZED, /* the last one got 401/403, or there is no token to send */
};

struct hlk8s_health {
	enum hlk8s_state state;
	int64_t last_sync;       /* unix time the cache was last known in step (LIST done,
				  * watch (re)established, event received); 0: never */
	int64_t last_error_time; /* unix time of the last failed request (any); 0: never */
	char last_error[256];    /* what failed and why, e.g. "LIST pods: HTTP 403 Forbidden: ..." */
};

/**
 * hlk8s_get_health() - the state of the API connection.
 * @c: client.
 * @out: filled in.
 *
 * Thread safety: thread-safe.
 */
void hlk8s_get_health(struct hlk8s_client *c, struct hlk8s_health *out);

/** hlk8s_state_name() - "starting", "synced", "retrying" or "unauthorized". */
const char *hlk8s_state_name(enum hlk8s_state s);

/**
 * hlk8s_server() - the API server URL in use (e.g. "https://10.96.0.1:443").
 * @c: client.
 *
 * Return: a string owned by @c, valid until hlk8s_client_free().
 * Thread safety: thread-safe.
 */
const char *hlk8s_server(const struct hlk8s_client *c);

#ifdef __cplusplus
}
#endif
#endif /* HLK8S_H */
