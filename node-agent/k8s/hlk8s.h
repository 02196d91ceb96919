/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hlk8s — the node agent's Kubernetes client.
 *
 * Informers: one list + watch loop per kind of object (resumed from the
 * last resourceVersion, relisted on 410 Gone), each with a cache of typed
 * objects and a callback per change. The client has one built in, the pods
 * of this node, which answers "what is annotation K of pod ns/name" from
 * its cache, falling back to a bounded GET on a miss; more kinds (Services,
 * EndpointSlices) get informers of their own (hlk8s_informer_new()). The
 * library owns no thread: the caller runs each informer's loop in a thread
 * of its own and calls the lookups from any thread.
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

#include <stdbool.h>
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
 * (e.g. hostlane.io/shm = its hugepage pool x overcommit, bytes), so that the
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

/* Counters for metrics and tests; monotonic except cached_pods. The
 * client's are the sums over its informers (cached_pods: its pod cache). */
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

/* ---- objects ------------------------------------------------------------ */

/*
 * The typed objects informers hand out: what the agent needs of each kind,
 * parsed and checked (every address is a valid IPv4/IPv6 literal, every
 * number in range); the rest of the object is not kept. Strings are
 * NUL-terminated and owned by the informer's cache.
 */

/* A label or annotation. */
struct hlk8s_kv {
	char *key, *value;
};

/* What every object has (the first member of each typed object). */
struct hlk8s_meta {
	char *ns;                 /* namespace; NULL for cluster-scoped kinds */
	char *name, *uid, *rv;    /* uid and rv may be NULL */
	struct hlk8s_kv *labels;
	size_t n_labels;
	bool deleting;            /* metadata.deletionTimestamp is set */
};

#define HLK8S_IP_MAX 46          /* an IPv6 literal with its NUL */
#define HLK8S_POD_IPS 8          /* addresses of a pod kept (dual stack uses 2) */

/* A Pod. */
struct hlk8s_pod {
	struct hlk8s_meta meta;
	char *node;                        /* spec.nodeName, or NULL */
	struct hlk8s_kv *anns;             /* only "hostlane.io/" keys */
	size_t n_anns;
	char ips[HLK8S_POD_IPS][HLK8S_IP_MAX]; /* status.podIPs[].ip, else status.podIP */
	size_t n_ips;
	bool host_network;                 /* spec.hostNetwork */
	bool ready;                        /* status condition Ready is "True" */
	char phase[16];                    /* status.phase, "" when absent */
	struct hlk8s_pod_port *ports;      /* named ports of spec.containers */
	size_t n_ports;
};

/* A named container port (NetworkPolicy resolves port names with them). */
struct hlk8s_pod_port {
	char name[16];                     /* IANA_SVC_NAME: at most 15 characters */
	char protocol[8];                  /* "TCP" (default), "UDP", "SCTP" */
	uint16_t port;
};

/* An object kept as the API server sent it (NetworkPolicy, Namespace):
 * its user decodes what it needs (node-agent/netpol). */
struct cJSON;
struct hlk8s_raw {
	struct hlk8s_meta meta;
	struct cJSON *json;                /* the whole object */
};

/* One port of a Service (spec.ports[]). */
struct hlk8s_service_port {
	char name[64];            /* "" for a Service's single unnamed port */
	char protocol[8];         /* "TCP" (default), "UDP", "SCTP" */
	uint16_t port;
	uint16_t target_port;     /* 0 when the target is named */
	char target_name[64];     /* named targetPort ("" when numeric) */
};

#define HLK8S_SVC_PORTS 64       /* ports of a Service kept */

/* A Service. */
struct hlk8s_service {
	struct hlk8s_meta meta;
	char type[16];                      /* "ClusterIP", "NodePort", ... */
	char cluster_ips[2][HLK8S_IP_MAX];  /* spec.clusterIPs (else clusterIP) */
	size_t n_cluster_ips;               /* 0: headless or ExternalName */
	bool headless;                      /* clusterIP "None" */
	bool has_selector;                  /* spec.selector is not empty */
	struct hlk8s_service_port *ports;
	size_t n_ports;
	bool affinity;                      /* sessionAffinity "ClientIP" */
	uint32_t affinity_timeout;          /* seconds (default 10800) */
	bool itp_local;                     /* internalTrafficPolicy "Local" */
	char traffic_distribution[24];      /* "PreferClose", ... or "" */
};

#define HLK8S_HINTS 8            /* zone or node hints of an endpoint kept */

/* One endpoint of an EndpointSlice (its first address, as kube-proxy uses). */
struct hlk8s_endpoint {
	char addr[HLK8S_IP_MAX];
	bool ready, serving, terminating;   /* conditions, absent = API defaults */
	char *node;                         /* nodeName, or NULL */
	char *zone;                         /* zone, or NULL */
	char *for_zones[HLK8S_HINTS];       /* hints.forZones[].name */
	size_t n_for_zones;
	char *for_nodes[HLK8S_HINTS];       /* hints.forNodes[].name */
	size_t n_for_nodes;
	char *pod;                          /* targetRef name when it is a Pod */
};

/* One port of an EndpointSlice. */
struct hlk8s_slice_port {
	char name[64];
	char protocol[8];
	int32_t port;             /* -1 when absent */
};

/* A discovery.k8s.io/v1 EndpointSlice. */
struct hlk8s_endpointslice {
	struct hlk8s_meta meta;
	char *service;            /* label kubernetes.io/service-name, or NULL */
	int family;               /* 4 (IPv4), 6 (IPv6), 0 (FQDN: not used) */
	struct hlk8s_endpoint *eps;
	size_t n_eps;
	struct hlk8s_slice_port *ports;
	size_t n_ports;
};

/* Label of an object, or NULL. */
const char *hlk8s_label(const struct hlk8s_meta *m, const char *key);

/* ---- informers ---------------------------------------------------------- */

/* The kinds an informer can follow. */
enum hlk8s_kind {
	HLK8S_PODS,               /* struct hlk8s_pod */
	HLK8S_SERVICES,           /* struct hlk8s_service */
	HLK8S_ENDPOINTSLICES,     /* struct hlk8s_endpointslice */
	HLK8S_NETWORKPOLICIES,    /* struct hlk8s_raw (networking.k8s.io/v1) */
	HLK8S_NAMESPACES,         /* struct hlk8s_raw (cluster-scoped) */
	HLK8S_KIND_COUNT
};

/* "pods", "services", "endpointslices", "networkpolicies", "namespaces". */
const char *hlk8s_kind_name(enum hlk8s_kind k);

enum hlk8s_change {
	HLK8S_UPSERT,             /* added or modified: @obj is the new state */
	HLK8S_DELETE,             /* deleted (or gone from a relist): its last state */
};

/*
 * A change of a followed object. @obj is the typed object of the informer's
 * kind (cast it), valid during the call only. Called from the thread that
 * runs the informer, one change at a time, never with a lock of the client
 * held: it may call the client's lookups.
 */
typedef void (*hlk8s_handler)(void *arg, enum hlk8s_change ch, const void *obj);

struct hlk8s_informer;

struct hlk8s_informer_opts {
	enum hlk8s_kind kind;
	const char *field_selector;  /* e.g. "spec.nodeName=n1"; NULL = none */
	hlk8s_handler fn;            /* may be NULL: the cache only */
	void (*synced)(void *arg);   /* after each complete LIST was applied; may be NULL */
	void *arg;
};

/**
 * hlk8s_informer_new() - an informer of @c for one kind of object.
 * @c: the client; it must outlive the informer.
 * @o: what to follow and whom to tell; copied.
 *
 * Does not contact the API server (hlk8s_informer_run() does). The client's
 * health and counters include the informer's from now on.
 * Return: the informer, or NULL with errno EINVAL (bad kind) or ENOMEM.
 * Thread safety: thread-safe.
 */
struct hlk8s_informer *hlk8s_informer_new(struct hlk8s_client *c,
					  const struct hlk8s_informer_opts *o);

/**
 * hlk8s_informer_free() - frees an informer and its cache. NULL is a no-op.
 * @inf: informer whose hlk8s_informer_run() has returned (or never ran).
 */
void hlk8s_informer_free(struct hlk8s_informer *inf);

/**
 * hlk8s_informer_run() - list + watch until stopped.
 * @inf: informer.
 * @stop_fd: fd that becomes readable when the loop must end; only polled.
 *
 * Blocks, as hlk8s_watch_run() describes: LIST (paged) into a fresh cache,
 * which is swapped in, telling the handler what the list added, changed
 * and no longer has; WATCH from the list's resourceVersion, each event to
 * the cache and the handler; a dropped watch is resumed from the last
 * version seen, a 410 Gone relists; errors back off (200 ms .. 30 s,
 * jittered).
 * Return: 0 once @stop_fd is readable; -EINVAL (@stop_fd < 0).
 * Thread safety: one run per informer at a time, in a thread the caller owns.
 */
int hlk8s_informer_run(struct hlk8s_informer *inf, int stop_fd);

/**
 * hlk8s_informer_get() - calls @fn with the cached object @ns/@name.
 * @inf: informer.
 * @ns: namespace (NULL for cluster-scoped kinds); @name: name.
 * @fn: called with the typed object under the informer's lock: it must not
 *      call into the client.
 * Return: 0 (@fn was called) or -ENOENT (not in the cache).
 * Thread safety: thread-safe.
 */
int hlk8s_informer_get(struct hlk8s_informer *inf, const char *ns, const char *name,
		       void (*fn)(void *arg, const void *obj), void *arg);

/**
 * hlk8s_informer_each() - calls @fn for every cached object, under the
 * informer's lock (as hlk8s_informer_get()). Return: how many.
 */
size_t hlk8s_informer_each(struct hlk8s_informer *inf,
			   void (*fn)(void *arg, const void *obj), void *arg);

/**
 * hlk8s_informer_set_handler() - sets the handler of an informer that does
 * not run yet (e.g. the client's built-in pod informer).
 * Return: 0, -EBUSY (it runs).
 */
int hlk8s_informer_set_handler(struct hlk8s_informer *inf, hlk8s_handler fn,
			       void (*synced)(void *arg), void *arg);

/**
 * hlk8s_client_pods() - the client's own informer of the pods of its node
 * (the one hlk8s_watch_run() runs), or NULL when the client has no node name.
 */
struct hlk8s_informer *hlk8s_client_pods(struct hlk8s_client *c);

/**
 * hlk8s_informer_stats() - the counters of one informer (as hlk8s_stats;
 * cached_pods is the number of cached objects of its kind).
 */
void hlk8s_informer_stats(struct hlk8s_informer *inf, struct hlk8s_stats *out);

/**
 * hlk8s_node_label() - value of label @key of node @node (e.g.
 * "topology.kubernetes.io/zone"), by one GET bounded like
 * hlk8s_pod_annotation()'s.
 * Return: 0; -ENOENT (no such label, or no such node); -ENOSPC; -EINVAL;
 * -ETIMEDOUT, -ECONNREFUSED, -EIO, -EACCES; -ENOMEM.
 */
int hlk8s_node_label(struct hlk8s_client *c, const char *node, const char *key,
		     char *buf, size_t len);

/**
 * hlk8s_get_raw() - the body of one GET of @path (e.g. "/apis", or a list
 * "/apis/cilium.io/v2/ciliumnetworkpolicies?limit=500"), bounded like
 * hlk8s_pod_annotation()'s, for callers that decode it themselves.
 * @max: the largest body taken (bytes).
 * @body, @len: the body, NUL-terminated (free()), and its length.
 * Return: 0 (HTTP 200); -ENOENT (404); -EACCES (401/403); -EINVAL (bad
 * argument); -ETIMEDOUT, -ECONNREFUSED, -EIO (also a body larger than
 * @max); -ENOMEM.
 * Thread safety: thread-safe.
 */
int hlk8s_get_raw(struct hlk8s_client *c, const char *path, size_t max, char **body, size_t *len);

#ifdef __cplusplus
}
#endif
#endif /* HLK8S_H */
