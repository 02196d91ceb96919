/* SPDX-License-Identifier: Apache-2.0 */
/*
 * monitor.h — the monitor: hostlane's software control plane (libhlmonitor.a,
 * hosted by hostlaned on its loop). For every pod with fast path "shm" it
 * serves the pod's endpoint, an abstract unix socket `@hostlane`
 * (SOCK_SEQPACKET) bound inside the pod's network namespace. Pod processes
 * connect to it and speak the pod protocol (docs/pod-protocol.md,
 * lib/proto/hostlane_proto.h) to get hugepage regions (memfds over
 * SCM_RIGHTS) within the pod's quota, to listen, and to get connected shmq
 * ring pairs to listeners in other hostlane pods (docs/monitor.md).
 *
 * Accounting: every region is charged, rounded up to 2 MiB, to one pod's
 * quota (a cap, nothing is reserved for the pod) and to the node pool,
 * when it is made; a region that would pass either, or that the kernel
 * has no hugepages for, is refused and counted (hl_mon_refusal). REGION_ALLOC charges the asking pod; a
 * CONNECT charges the connecting pod (the listener never pays for
 * connections it did not ask for). The charge is returned when every
 * client holding the region has freed it or gone away (closed its socket,
 * or its process died: the monitor watches a pidfd of each client).
 *
 * Threading: everything runs on the loop's thread; no locks. hl_mon_pod_add()
 * switches the calling thread into the pod's netns for the bind and always
 * switches it back (it aborts the process if it cannot, rather than go on
 * serving from the wrong namespace).
 *
 * Log levels passed to the log callback are syslog priorities
 * (LOG_ERR 3, LOG_WARNING 4, LOG_INFO 6, LOG_DEBUG 7).
 */
#ifndef HOSTLANE_MONITOR_H
#define HOSTLANE_MONITOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct hl_loop;

/* The monitor of a node: its pods, the hugepage pool, pod IP -> pod. */
struct hl_monitor;
/* One per pod with fastpath shm. */
struct hl_mon_pod;

/*
 * What one pod can make the monitor hold (0: the default named). Each is a
 * cap per pod; a pod at one gets refusals (its new clients closed at once,
 * its requests -EMFILE/-ENOSPC), other pods are not affected.
 */
struct hl_mon_limits {
	unsigned clients;   /* processes connected to @hostlane (256) */
	unsigned fds;       /* fds the monitor keeps for the pod: its clients'
			     * sockets, pidfds, doorbells, liveness pipes and the
			     * regions charged to it (1024) */
	unsigned regions;   /* regions charged to it (256; the quota bounds them too) */
	unsigned events;    /* accept events queued unread per client (64) */
};

struct hl_mon_opts {
	struct hl_loop *loop;   /* endpoint fds are served from this loop */
	uint64_t pool_bytes;    /* node hugepage pool for fast-path regions */
	struct hl_mon_limits limits;
	void (*log)(void *arg, int level, const char *msg);  /* may be NULL */
	void *log_arg;
};

/*
 * Creates the monitor. @o is copied.
 * Return: the monitor, or NULL with errno EINVAL (no loop) or ENOMEM.
 */
struct hl_monitor *hl_mon_new(const struct hl_mon_opts *o);

/* Destroys every endpoint (as hl_mon_pod_del()) and the node. NULL is a no-op. */
void hl_mon_free(struct hl_monitor *n);

/*
 * The agent goes (SIGTERM): from now on a region released with its
 * endpoint keeps its memory, so that connections in it go on across the
 * restart (as they do after a SIGKILL); its charge ends with the agent.
 * Call before removing the endpoints. NULL is a no-op.
 */
void hl_mon_stop(struct hl_monitor *n);

/*
 * Binds `@hostlane` inside network namespace @netns_fd and serves it.
 * @pod_key:    "<namespace>/<name>" (or the container id); < 256 bytes.
 * @ips:        the pod's addresses without prefix ("10.1.2.3", "fd00::5"),
 *              at most 8; the registry maps them to this endpoint.
 * @quota_bytes: the pod's hugepage quota.
 * @netns_fd:  an fd of the pod's network namespace (hl_netns_open(): the
 *              caller opens it off the loop and keeps it; it is only used
 *              for the bind).
 * Return: the endpoint, or NULL with errno EEXIST (the pod already has one,
 * or one of @ips belongs to another endpoint), EADDRINUSE (something in
 * that netns already holds @hostlane), EINVAL (bad argument, @netns_fd is
 * not a netns, or it is the agent's own netns: a host-network pod cannot
 * get a private endpoint), ENOMEM, EMFILE, or the errno of
 * setns/socket/bind.
 */
struct hl_mon_pod *hl_mon_pod_add(struct hl_monitor *n, const char *pod_key, int netns_fd,
				  const char *const *ips, size_t n_ips, uint64_t quota_bytes);

/* Closes the socket and every client, releases the pod's regions and quota.
 * Regions still held by clients of other pods (connections) stay charged
 * to the node pool until those free them. NULL is a no-op. */
void hl_mon_pod_del(struct hl_mon_pod *ep);

/*
 * Why a region was refused to a pod (REGION_ALLOC, or the region of a
 * CONNECT: that connection then goes to the kernel). Counted per pod and
 * per node; never silent.
 *   QUOTA      the pod's quota (its cap) would be passed
 *   POOL       the node pool (the agent's cap on all regions) would be passed
 *   HUGEPAGES  the kernel had no 2 MiB hugepage for it (another process,
 *              e.g. DPDK, took them; or a hugetlb cgroup limit): a region
 *              is never made from normal memory instead
 *   LIMITS     the pod holds as many regions or fds as its limits allow
 */
enum hl_mon_refusal {
	HL_MON_REFUSED_QUOTA,
	HL_MON_REFUSED_POOL,
	HL_MON_REFUSED_HUGEPAGES,
	HL_MON_REFUSED_LIMITS,
	HL_MON_REFUSED_COUNT
};

/* "quota", "pool", "hugepages", "limits"; "?" for anything else. */
const char *hl_mon_refusal_name(enum hl_mon_refusal r);

struct hl_mon_pod_usage {
	uint64_t quota_bytes, used_bytes;
	unsigned clients, regions;     /* regions: charged to this pod */
	uint64_t refused[HL_MON_REFUSED_COUNT];   /* regions refused, by reason */
};
void hl_mon_pod_get_usage(const struct hl_mon_pod *ep, struct hl_mon_pod_usage *u);
void hl_mon_get_usage(const struct hl_monitor *n, uint64_t *pool_bytes,
			  uint64_t *used_bytes);

/* Regions refused on the node since it was made, by reason (pods gone
 * included). @out has HL_MON_REFUSED_COUNT entries. */
void hl_mon_get_refused(const struct hl_monitor *n, uint64_t *out);

/*
 * Changes the node pool (the cap on the bytes of all regions together),
 * e.g. after the agent re-read the hugepages free. Regions already made
 * stay; only new ones see it. Return: 0.
 */
int hl_mon_set_pool(struct hl_monitor *n, uint64_t pool_bytes);

/* What a client process's stats region says (hostlanectl conns). The pod
 * writes it: the numbers are reported, never acted on. */
struct hl_mon_proc_info {
	pid_t pid;
	unsigned open;                 /* connections listed in its region */
	uint64_t conns, fallbacks, tx_bytes, rx_bytes, tx_calls, rx_calls, wakeups, ctl_calls;
	uint64_t direct;
};
struct hl_mon_conn_info {
	int fd;
	unsigned side;                 /* 0 connected, 1 accepted */
	char local[64], peer[64];      /* addresses ("" when unknown) */
	uint16_t local_port, peer_port;
	uint64_t tx_bytes, rx_bytes, tx_calls, rx_calls, wakeups;
};
typedef void (*hl_mon_proc_cb)(void *arg, const struct hl_mon_proc_info *p);
typedef void (*hl_mon_conn_cb)(void *arg, const struct hl_mon_conn_info *c);

/*
 * Calls @pcb for each client process of @ep that has a stats region, then
 * @ccb (may be NULL) for each of its open connections. Loop thread only.
 */
void hl_mon_pod_walk_stats(const struct hl_mon_pod *ep, hl_mon_proc_cb pcb, hl_mon_conn_cb ccb,
		      void *arg);

/* The endpoint of @pod_key, or NULL. */
struct hl_mon_pod *hl_mon_pod_find(const struct hl_monitor *n, const char *pod_key);

/* The pod key the endpoint was created with. */
const char *hl_mon_pod_key(const struct hl_mon_pod *ep);

/*
 * Changes the quota of a live endpoint (e.g. the annotation changed). Only
 * future charges see it; a pod already above the new quota keeps what it
 * holds. Return: 0.
 */
int hl_mon_pod_set_quota(struct hl_mon_pod *ep, uint64_t quota_bytes);

/*
 * NetworkPolicy admission (hl_policy.h, docs/monitor.md). With enforcement
 * on, every CONNECT is checked against the table: a connection the
 * cluster's policies deny gets an error reply, and the layer takes it to
 * the kernel, where the cluster's policy engine acts on it. Until a table
 * is set nothing is admitted (fail closed). Direct regions are only made
 * between pods no policy isolates (connector's egress, listener's ingress),
 * and a new table turns them off where that no longer holds.
 */
struct hl_pol_table;

/* Turns enforcement on or off (off, the default: everything admitted, for
 * an agent without a Kubernetes API). */
void hl_mon_policy_enforce(struct hl_monitor *n, bool on);

/* Replaces the table with @t (compiled; the monitor owns it from now on;
 * NULL: none, nothing admitted while enforcing). New connections see it at
 * once. */
void hl_mon_policy_set(struct hl_monitor *n, struct hl_pol_table *t);

struct hl_mon_policy_stats {
	bool enforce, synced;          /* synced: a table is set */
	size_t policies;
	uint64_t generation;           /* tables set */
	uint64_t admitted, denied;     /* CONNECTs to a hostlane listener */
	uint64_t direct_off;           /* direct regions turned off by a table */
};
void hl_mon_policy_get_stats(const struct hl_monitor *n, struct hl_mon_policy_stats *s);

/*
 * Sets the addresses of a live endpoint: every IP the pod has (its
 * hostlane interface's, the chained prevResult's, the primary network's
 * from the pod's status.podIPs), IPv4 and IPv6. A connect() to any of them
 * from a hostlane pod reaches the pod's listeners.
 * @ips: IP literals without prefix, at most 8.
 * Return: 0; -EINVAL (a bad address, too many); -EEXIST (an address
 * belongs to another endpoint: nothing is changed).
 */
int hl_mon_pod_set_ips(struct hl_mon_pod *ep, const char *const *ips, size_t n_ips);

/* ---- Services ----------------------------------------------------------- */

/* Which endpoints a Service port's connections may use (kube-proxy's
 * internalTrafficPolicy and trafficDistribution). */
enum hl_mon_svc_topology {
	HL_MON_SVC_ANY,           /* all of them (Cluster) */
	HL_MON_SVC_PREFER_LOCAL,  /* this node's first, if it has any (PreferClose) */
	HL_MON_SVC_LOCAL,         /* this node's only; none: no endpoint (Local) */
};

/* One endpoint of a Service port, resolved by the agent from the
 * EndpointSlices (a named targetPort is resolved there). */
struct hl_mon_svc_endpoint {
	const char *addr;         /* IP literal */
	uint16_t port;            /* the port on the endpoint */
	bool ready, serving, terminating;
	bool local;               /* on this node */
};

#define HL_MON_SVC_NAME_MAX 128   /* "namespace/name:port" */
#define HL_MON_SVC_EPS_MAX 1024u  /* endpoints kept per Service port */

/* One ClusterIP:port of a Service (TCP). */
struct hl_mon_svc {
	const char *name;         /* "namespace/name:port", for logs and conns */
	const char *vip;          /* the ClusterIP */
	uint16_t port;            /* the Service port */
	enum hl_mon_svc_topology topology;
	bool affinity;            /* sessionAffinity ClientIP */
	uint32_t affinity_timeout_s;
	const struct hl_mon_svc_endpoint *eps;
	size_t n_eps;             /* more than HL_MON_SVC_EPS_MAX: the rest dropped */
};

/* A Service map the agent builds, then hands to the monitor whole. */
struct hl_mon_svcmap;

/* An empty map. Return: the map, or NULL with errno ENOMEM. */
struct hl_mon_svcmap *hl_mon_svcmap_new(void);

/*
 * Adds Service port @s (copied). Endpoints whose address is not an IP
 * literal of the ClusterIP's family, or whose port is 0, are skipped.
 * Return: 0; -EINVAL (bad vip, port 0, no name); -EEXIST (that vip:port is
 * in the map); -ENOMEM.
 */
int hl_mon_svcmap_add(struct hl_mon_svcmap *m, const struct hl_mon_svc *s);

/* How many Service ports @m holds. */
size_t hl_mon_svcmap_count(const struct hl_mon_svcmap *m);

/* Frees a map not handed to the monitor. NULL is a no-op. */
void hl_mon_svcmap_free(struct hl_mon_svcmap *m);

/*
 * Replaces the monitor's Service map with @m (taken, NULL = empty). From now
 * on a CONNECT to one of its ClusterIP:ports chooses an endpoint as
 * kube-proxy would; one that is a hostlane pod's listener gets a hostlane
 * connection; another is connected to by the layer's kernel socket (a
 * connector that takes redirects) or the kernel socket connects to the
 * ClusterIP. ClientIP sessions of Service ports still in the map are kept.
 */
void hl_mon_set_services(struct hl_monitor *n, struct hl_mon_svcmap *m);

/* What Service connects came to (monotonic). */
struct hl_mon_svc_stats {
	uint64_t fastpath;        /* to an endpoint that is a hostlane listener */
	uint64_t kernel;          /* endpoint elsewhere: the kernel connects to it */
	uint64_t no_endpoint;     /* no endpoint to choose: the kernel connects */
	uint64_t loopback;        /* loopback connects inside a pod over hostlane */
	size_t services;          /* Service ports in the map now */
};
void hl_mon_get_svc_stats(const struct hl_monitor *n, struct hl_mon_svc_stats *st);

/*
 * The Service port at address @vip:@port ("10.96.0.10"), for `hostlanectl
 * conns`. Return: its name (owned by the monitor, valid until the map is
 * replaced), or NULL.
 */
const char *hl_mon_svc_name(const struct hl_monitor *n, const char *vip, uint16_t port);

/* ---- the control-plane backend (fpga-ctl) ------------------------------- */

struct fpgactl;

/*
 * Gives the monitor the connection-setup engine @f (fpgactl_open()d by the
 * agent; the monitor owns it from then on and closes it in hl_mon_free()).
 * The monitor sets up the admin queue (queue 0, rings in a memfd),
 * starts the engine and from then on writes the engine's tables
 * from its own view on every change (pods and their addresses, pod
 * netfilter flags, the Service map, NetworkPolicy admission) and once a
 * second, reading every write back to verify it (docs/monitor.md).
 * @device: what the agent opened ("software", "model:PATH", a PCI
 * address), for status. Return: 0, -EEXIST (a backend is set), or the
 * -errno of the memfd, the mapping or the queue set-up (@f then closed).
 */
int hl_mon_set_backend(struct hl_monitor *n, struct fpgactl *f, const char *device);

/* The engine's tables as the monitor programs them (hl_mon_cp_get_stats()). */
enum hl_mon_cp_table { HL_MON_CP_PODS, HL_MON_CP_POD_FLAGS, HL_MON_CP_SERVICES,
		       HL_MON_CP_ENDPOINTS, HL_MON_CP_POLICY, HL_MON_CP_TABLES };
#define HL_MON_CP_COUNTERS 9u   /* the engine's counters (enum fpgactl_cnt) */

struct hl_mon_cp_stats {
	bool on;                  /* a backend is set */
	bool serves;              /* the engine serves its queues (else: table window) */
	char backend[16];         /* "software", "model", "vfio" */
	char device[128];
	uint64_t entries[HL_MON_CP_TABLES];   /* held now (written and verified) */
	uint64_t capacity[HL_MON_CP_TABLES];  /* entries the engine has room for */
	uint64_t unsupported;     /* entries of the view this backend cannot hold now */
	uint64_t syncs;           /* table syncs run */
	uint64_t writes;          /* table writes sent */
	uint64_t write_errors;    /* writes the engine refused (full bucket, ...) */
	uint64_t verified;        /* writes read back and found as written */
	uint64_t mismatches;      /* writes read back and found otherwise */
	uint64_t decided;         /* CONNECTs to a pod's address the engine decided */
	/* LISTEN/UNLISTEN served by the monitor and the engine */
	uint64_t checked;         /* compared */
	uint64_t disagreed;       /* of those, decided otherwise (logged) */
	uint64_t counters[HL_MON_CP_COUNTERS];
};
/* Fills @st (all zero but `on` false without a backend). Loop thread. */
void hl_mon_cp_get_stats(const struct hl_monitor *n, struct hl_mon_cp_stats *st);
/* The name of engine counter @i ("cycles", "requests", ...), or NULL. */
const char *hl_mon_cp_counter_name(unsigned i);
/* The name of table @t ("pods", ...), or NULL. */
const char *hl_mon_cp_table_name(unsigned t);

/* Defaults of struct hl_mon_limits, and the fixed cap on listen ports. */
#define HL_MON_MAX_CLIENTS   256u   /* connected clients per pod */
#define HL_MON_MAX_FDS       1024u  /* fds kept per pod */
#define HL_MON_MAX_REGIONS   256u   /* regions charged per pod */
#define HL_MON_MAX_EVENTS    64u    /* unread accept events per client */
#define HL_MON_MAX_LISTENERS 1024u  /* listen ports per pod */

#endif
