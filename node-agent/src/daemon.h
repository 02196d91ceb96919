/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The running agent: one epoll loop thread (signals, metrics HTTP, pod
 * endpoints, tasks handed over by workers) and a fixed pool of worker
 * threads that accept plugin connections and do the blocking work (state
 * fsync, Kubernetes lookups). Private to hostlaned.
 */
#ifndef HOSTLANE_DAEMON_H
#define HOSTLANE_DAEMON_H

#include "agent.h"
#include "hl_loop.h"

#include <sys/types.h>
#include <time.h>

#define HL_HIST_N 12   /* latency buckets, +Inf implied */

enum hl_err_kind { HL_ERR_PROTOCOL, HL_ERR_STATE, HL_ERR_ENDPOINT, HL_ERR_K8S, HL_ERR_POOL,
		   HL_ERR_IO, HL_ERR_COUNT };

struct hl_metrics {
	_Atomic uint64_t req[HL_AGENT_OP_COUNT][2];            /* [op][0 ok, 1 error] */
	_Atomic uint64_t hist[HL_AGENT_OP_COUNT][HL_HIST_N + 1];
	_Atomic uint64_t sum_us[HL_AGENT_OP_COUNT];
	_Atomic uint64_t errors[HL_ERR_COUNT];
	_Atomic uint64_t reloads, reload_errors, reconciled_released, reconciled_restored;
};

struct hl_task;
struct hl_monitor;
struct hlk8s_client;
struct hl_metrics_srv;
struct hl_noderes;

struct agent {
	struct hl_config cfg;          /* reloadable fields under cfg_lock */
	pthread_mutex_t cfg_lock;
	int argc;
	char **argv;
	const char *crash_at;

	struct hl_loop *loop;
	pthread_t loop_tid;
	int listen_fd, stop_fd, task_fd, sig_fd;

	pthread_t *workers;
	unsigned n_workers, n_busy;
	pthread_t sweeper;
	bool has_sweeper;
	_Atomic unsigned workers_alive;

	/* Pod table, busy keys (per-pod locks) and pool accounting: under lock. */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct hl_pod **pods;
	size_t n_pods, cap_pods;
	char (*busy)[sizeof(((struct hl_pod *)0)->key)];
	uint64_t pool_bytes;           /* the pool: cap on all regions together */
	uint64_t quota_bytes;          /* the quotas of the shm pods, added up */

	/* Work handed to the loop thread (endpoint API is loop-thread only). */
	pthread_mutex_t task_lock;
	pthread_cond_t task_cond;
	struct hl_task *tasks;

	struct hl_monitor *ep_node;
	struct hlk8s_client *k8s;
	pthread_t k8s_tid;
	int k8s_stop_fd;
	bool k8s_running;
	char k8s_error[256];          /* why the client could not be made ("" if it was) */
	struct hl_noderes *noderes;   /* publishes the node's shm capacity (noderes.c) */
	struct hl_netpol *netpol;     /* NetworkPolicy admission (netpol.c), or NULL */
	struct hl_kube *kube;         /* Services and pod addresses into the monitor, or NULL */

	/* vhost-user: the supervised switch (handle used under vsw_lock). */
	struct hl_vsw_sup *vsw;
	pthread_mutex_t vsw_lock;
	int vsw_fd;                    /* its pidfd in the loop, -1 none */
	/* vhost-user, backend "external" (vsw_external.c; under vsw_lock). */
	ino_t vsw_ext_ino;             /* the switch's control socket we registered with, 0 none */
	dev_t vsw_ext_dev;
	struct timespec vsw_ext_ctime;
	int64_t vsw_ext_timer;         /* its watch timer in the loop */
	unsigned vsw_ext_resyncs;      /* switches (re)found and given every port */
	/* vf: the VF pool (thread safe on its own). */
	struct hl_vf_pool *vf_pool;

	struct hl_metrics_srv *msrv;
	struct hl_metrics m;
	_Atomic bool ready;
	int64_t started;
};

/* noderes.c: the node's shm capacity as an extended resource (a thread). */
int hl_noderes_start(struct agent *a);              /* 0 also without Kubernetes */
void hl_noderes_kick(struct agent *a);              /* publish again now (SIGHUP) */
void hl_noderes_stop(struct agent *a);
struct cJSON;
void hl_noderes_status(struct agent *a, struct cJSON *o);   /* STATUS "nodeResource" */

/* server.c */
int hl_server_start(struct agent *a);               /* socket + workers */
void hl_server_stop(struct agent *a);               /* joins workers, serving loop tasks */
int hl_reconcile(struct agent *a);                  /* load state, release/restore */
void hl_release_all_runtime(struct agent *a);       /* shutdown: endpoints go, records stay */
void hl_run_on_loop(struct agent *a, void (*fn)(struct agent *, void *), void *arg);
/* ctlplane.c: opens the engine "controlPlane" names and gives it to the
 * monitor (loop thread, at start). 0 or -errno (logged). */
int hl_cp_start(struct agent *a);
/* ctlplane.c: STATUS's "controlPlane" object into @o. */
void hl_cp_status(struct agent *a, struct cJSON *o);
/* The loop callback of task_fd. */
void hl_on_tasks(struct hl_loop *loop, int fd, uint32_t events, void *arg);
size_t hl_count_pods(struct agent *a, size_t by_fp[HL_FP_COUNT]);

/* hugepages.c: the node's 2 MiB hugepages and the agent's pool on them. */
struct hl_hp_info {
	uint64_t total;                /* 2 MiB pages on the node, bytes */
	uint64_t free;                 /* of them free and promised to no mapping */
	bool cg;                       /* the agent's hugetlb cgroup limits them */
	uint64_t cg_max, cg_cur;       /* its limit (UINT64_MAX: none) and usage */
};
/* Reads sysfs and the agent's cgroup. 0 or -errno (no 2 MiB hugepages). */
int hl_hp_read(struct hl_hp_info *h);
/* Bytes of 2 MiB hugepages a new region of the agent could get now. */
uint64_t hl_hp_available(const struct hl_hp_info *h);
/* The pool: @c's hugepages.pool, else what is available now plus @held
 * (what the agent's regions hold already). */
uint64_t hl_pool_size(const struct hl_config *c, uint64_t held);
/* Admits a shm pod's quota against pool x overcommit: 0, or -ENOSPC
 * (unless @force: a restored pod keeps what it was given). */
int hl_quota_admit(struct agent *a, uint64_t bytes, bool force);
void hl_quota_return(struct agent *a, uint64_t bytes);
#define HL_POOL_REFUSED_N 4            /* = HL_MON_REFUSED_COUNT (monitor.h) */
struct hl_pool_numbers {
	uint64_t pool;                 /* the cap on all regions */
	uint64_t used;                 /* held by regions now */
	uint64_t free;                 /* the node's free 2 MiB pages the agent may take */
	uint64_t quota;                /* the shm pods' quotas added up (caps, not reserved) */
	uint64_t capacity;             /* pool x overcommit: what quotas may add up to */
	unsigned overcommit;
	uint64_t refused[HL_POOL_REFUSED_N];   /* regions refused by reason, node-wide */
};
/* Any thread (the monitor's part is read on the loop). */
void hl_pool_numbers(struct agent *a, struct hl_pool_numbers *n);

/* devices.c: the vhost-user and vf fast paths. Errors fill @why. */
struct hl_vsw_sup;
struct hl_vf_pool;
int hl_dev_start(struct agent *a);                  /* switch + VF pool, as configured */
/* @orderly: stop the switch too; else leave it running for the next agent. */
void hl_dev_stop(struct agent *a, bool orderly);
/* ADD: make @p's device; returns 0 or -errno; @code gets the CNI code. */
int hl_dev_add(struct agent *a, struct hl_pod *p, const struct hl_request *q, int *code,
	       char *why, size_t n);
/* DEL / release: idempotent; 0 or -errno (the record must then stay). */
int hl_dev_release(struct agent *a, struct hl_pod *p, char *why, size_t n);
/* Start-up: re-register a persisted vhost-user port with the switch. */
void hl_dev_restore(struct agent *a, struct hl_pod *p);
/* Start-up, after every record's hl_dev_restore(): the switch keeps exactly
 * the pods' ports (an adopted switch may have ports no pod owns any more). */
void hl_dev_restored(struct agent *a);
/* The reply's device part (vhostUser/vf/deviceInfo) into @o. */
void hl_dev_reply(const struct hl_pod *p, struct cJSON *o);
/* STATUS: the switch's pid and restarts. */
void hl_dev_status(struct agent *a, struct cJSON *o);
/* The built-in switch for STATUS and /metrics. */
struct hl_vsw_numbers {
	bool enabled;                  /* vhostUser with the built-in switch */
	bool adopted;                  /* running switch started by an earlier agent */
	pid_t pid;                     /* 0: not running */
	unsigned restarts;             /* restart attempts since this agent started */
};
void hl_dev_vsw_numbers(struct agent *a, struct hl_vsw_numbers *n);

/* kube.c: the Service map and the pods' addresses from the API server. */
struct hl_kube;
/* Starts the Service and EndpointSlice informers (threads) and hooks the
 * pod informer; before the pod watch runs. 0 or -errno. */
int hl_kube_start(struct agent *a);
/* After k8s_stop_fd fired: joins the informer threads, frees them. */
void hl_kube_stop(struct agent *a);
/* A pod of the node changed: for whoever holds the pod informer's handler
 * after hl_kube_start() (NetworkPolicy admission, netpol.c) to pass on. */
void hl_kube_pod_changed(struct agent *a);
/* Loop thread: gives @p's endpoint every address of the pod (its record's
 * and status.podIPs). */
void hl_kube_pod_ips(struct agent *a, struct hl_pod *p);
/* How many times the Service map was rebuilt. */
void hl_kube_counts(struct agent *a, uint64_t *rebuilds);

/* metrics.c */
void hl_metrics_observe(struct hl_metrics *m, enum hl_agent_op op, bool ok, uint64_t us);
void hl_metrics_error(struct hl_metrics *m, enum hl_err_kind kind);
/* Prometheus text exposition; malloc'd, NULL on ENOMEM. */
char *hl_metrics_text(struct agent *a);
/* metrics_http.c: HTTP /metrics /healthz /readyz on the loop. 0 or -errno. */
int hl_metrics_listen(struct agent *a, const char *addr);
void hl_metrics_close(struct agent *a);

#endif
