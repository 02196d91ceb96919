/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hostlaned internals shared between its .c files (not a library: no
 * exported API). Conventions as everywhere: int functions return 0 or
 * -errno, constructors NULL + errno.
 */
#ifndef HOSTLANE_AGENT_H
#define HOSTLANE_AGENT_H

#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hlagent.h"
#include "hl_util.h"

#define HL_AGENT_VERSION "0.4.0"

/* ---- logging (log.c) ---------------------------------------------------- */
enum hl_log_level { HL_LOG_ERROR, HL_LOG_WARN, HL_LOG_INFO, HL_LOG_DEBUG };
enum hl_log_format { HL_LOG_TEXT, HL_LOG_JSON };

/* Thread-safe; one line to stderr per call. */
void hl_log_setup(enum hl_log_format fmt, enum hl_log_level level);
void hl_log(enum hl_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Adapter for the libraries' log callbacks (level 0 error, 1 warn, 2+ info). */
void hl_log_cb(void *arg, int level, const char *msg);
/* Adapter for callbacks that pass syslog priorities (LOG_ERR 3 ... LOG_DEBUG 7). */
void hl_log_syslog_cb(void *arg, int level, const char *msg);
int hl_log_parse_level(const char *s, enum hl_log_level *out);

/* ---- fast paths and quantities (fastpath.c) ------------------------------ */
enum hl_fastpath { HL_FP_NONE, HL_FP_SHM, HL_FP_VHOST_USER, HL_FP_VF, HL_FP_COUNT };

const char *hl_fastpath_name(enum hl_fastpath fp);
/* 0, or -EINVAL for a value that is not none|shm|vhost-user|vf. */
int hl_fastpath_parse(const char *s, enum hl_fastpath *out);

/* Where the selected fast path came from. */
enum hl_fp_source { HL_SRC_ANNOTATION, HL_SRC_CNI_ARGS, HL_SRC_CONFIG, HL_SRC_DEFAULT };
const char *hl_fp_source_name(enum hl_fp_source s);

/*
 * Selection: @annotation > @cni_args > @net_config > @agent_default > none.
 * NULL or "" means absent. An unknown value at the winning level is an error:
 * returns -EINVAL and names it in @bad (its source in @src). Pure function.
 */
int hl_fastpath_select(const char *annotation, const char *cni_args, const char *net_config,
		       enum hl_fastpath agent_default, enum hl_fastpath *out,
		       enum hl_fp_source *src, char *bad, size_t badlen);

/* Quantities of bytes: hl_quantity_parse() in lib/util (hl_util.h). */

/* ---- configuration (config.c) ------------------------------------------- */
#define HL_VSW_EXTRA_MAX 16
#define HL_VF_PFS_MAX 8

/* "vhostUser" section; absent (enabled false): the fast path is not offered. */
struct hl_vhost_cfg {
	bool enabled;
	bool ovs;                        /* backend "ovs-dpdk" (else "builtin") */
	bool external;                   /* backend "external": a switch started elsewhere */
	char switch_socket[108];         /* external: its control socket */
	char socket_dir[64];             /* base of the pods' socket dirs (short: 108-byte paths) */
	int lcore;                       /* the switch's core; -1: last CPU of our affinity */
	char args[HL_VSW_EXTRA_MAX][128];/* extra EAL args ("switchArgs") */
	size_t n_args;
	char ovs_bridge[64];
	char binary[512];                /* "" : hostlane-vswitch next to hostlaned */
};

/* "vf" section; absent (enabled false): the fast path is not offered. */
struct hl_vf_cfg {
	bool enabled;
	bool pf_settings;                /* send the vf object's PF-side keys (default true) */
	char sysfs_root[512];
	char pfs[HL_VF_PFS_MAX][16];
	size_t n_pfs;
	char state_dir[PATH_MAX - 64];   /* "" : <stateDir>/vf */
};

/* hugepages.overcommit default: 100 pods of the default 64 MiB quota fit a
 * 1 GiB pool (a pod's regions use a few MiB of its quota; docs/agent.md). */
#define HL_OVERCOMMIT_DEFAULT 8u

/* hugepages.namespaceQuota: a namespace's default quota. */
#define HL_NS_QUOTA_MAX 64
struct hl_ns_quota {
	char ns[64];
	uint64_t bytes;
};

struct hl_config {
	char config_file[PATH_MAX];
	bool check_only;              /* --check-config: parse, report, exit */
	char node_name[256];
	char socket[108];
	char state_dir[PATH_MAX - 64];
	char run_dir[PATH_MAX - 64];
	char kubeconfig[PATH_MAX];
	char sa_dir[PATH_MAX];        /* in-cluster service account dir */
	char metrics_addr[128];       /* HOST:PORT, "" = off */
	enum hl_log_format log_format;
	enum hl_log_level log_level;
	enum hl_fastpath fastpath;    /* node default */
	uint64_t pool_bytes;          /* 0: the 2 MiB hugepages free at start */
	uint64_t default_quota;       /* per pod: a cap on its regions, not reserved */
	unsigned overcommit;          /* the quotas of shm pods add up to at most pool x this */
	struct hl_ns_quota ns_quota[HL_NS_QUOTA_MAX];   /* per namespace, over default_quota */
	size_t n_ns_quota;
	char node_resource[128];      /* extended resource advertised on the node, "" none */
	uint64_t max_quota;           /* cap of the hostlane.io/hugepages annotation */
	unsigned workers;             /* concurrent requests */
	long k8s_timeout_ms;          /* bounded annotation GET */
	long request_timeout_ms;      /* per-connection recv/send bound */
	long sweep_ms;                /* release pods whose netns vanished; 0 off */
	long busy_poll_us;            /* the loop polls this long after work; 0 off */
	bool netpol_off;              /* "networkPolicy": "off" (default "enforce") */
	bool unknown_policies_ignore; /* "unknownPolicies": "ignore" (default "kernel") */
	long unknown_policies_check_s; /* how often they are looked for again */
	/* "podLimits": what one pod can make the agent hold (0: the monitor's
	 * defaults). Start-up only. */
	unsigned pod_clients, pod_fds, pod_regions, pod_events;
	struct hl_vhost_cfg vhost;    /* start-up only (SIGHUP: restart needed) */
	struct hl_vf_cfg vf;          /* start-up only */
	/* "controlPlane" (start-up only): the engine the monitor programs */
	char cp_backend[16];          /* "software" (default) or "fpga" */
	char cp_device[128];          /* fpga: "model:PATH" or a PCI address */
};

void hl_config_defaults(struct hl_config *c);
struct cJSON;
/* "controlPlane": {"backend": "software"|"fpga", "device": ...} into @c
 * (cp_config.c). 0 or -EINVAL with @err set. */
int hl_config_control_plane(struct hl_config *c, const struct cJSON *o, char *err, size_t errlen);
/* Applies a JSON config text over @c. 0 or -EINVAL with a message in @err. */
int hl_config_parse_json(struct hl_config *c, const char *text, size_t len, char *err, size_t errlen);
/* Reads @path and applies it. 0, -errno of open/read, or -EINVAL. */
int hl_config_load_file(struct hl_config *c, const char *path, char *err, size_t errlen);
/*
 * Applies command line flags (getopt_long) over @c. Returns 0, 1 for --help
 * or --version (already printed), or -EINVAL (message in @err).
 */
int hl_config_parse_args(struct hl_config *c, int argc, char **argv, char *err, size_t errlen);
/* The quota of a pod of namespace @ns without its own annotation. */
uint64_t hl_config_default_quota(const struct hl_config *c, const char *ns);
/* Builds the effective config: defaults, then the file (--config), then the flags. */
int hl_config_build(struct hl_config *c, int argc, char **argv, char *err, size_t errlen);

/* ---- requests (proto.c) ------------------------------------------------- */
enum hl_agent_op { HL_AGENT_OP_ADD, HL_AGENT_OP_DEL, HL_AGENT_OP_CHECK, HL_AGENT_OP_STATUS, HL_AGENT_OP_GC, HL_AGENT_OP_LIST, HL_AGENT_OP_GET,
	     HL_AGENT_OP_METRICS, HL_AGENT_OP_VERSION, HL_AGENT_OP_CONNS, HL_AGENT_OP_COUNT };

#define HL_NAME_MAX   254     /* network/containerID/pod names, incl. NUL */
#define HL_IFNAME_MAX 16
#define HL_IP_MAX     64

struct hl_valid { char container_id[HL_NAME_MAX]; char ifname[HL_IFNAME_MAX]; };

struct hl_request {
	enum hl_agent_op op;
	char network[HL_NAME_MAX];
	char container_id[HL_NAME_MAX];
	char ifname[HL_IFNAME_MAX];
	char netns[PATH_MAX];
	char pod_ns[HL_NAME_MAX], pod_name[HL_NAME_MAX], pod_uid[128];
	char ips[HLAGENT_MAX_IPS][HL_IP_MAX];
	size_t n_ips;
	char fp_args[64], fp_config[64];    /* raw: named in errors if unknown */
	char *vf_json;                      /* ADD: the network's "vf" object (malloc'd) */
	unsigned mtu;                       /* ADD: the network's "mtu", 0 absent */
	char device_id[32];                 /* ADD: "deviceID" (a VF's PCI address) */
	char id[HL_NAME_MAX * 2];           /* GET */
	long offset;                        /* LIST */
	struct hl_valid *valid;             /* GC; free with hl_request_free() */
	size_t n_valid;
};

const char *hl_agent_op_name(enum hl_agent_op op);
/*
 * Parses and validates one request message. Returns 0, or -EPROTO (not
 * JSON / wrong or missing "hostlane" version), -EINVAL (a field missing or
 * invalid), -EMSGSIZE (over HLAGENT_MAX_REQUEST), -ENOMEM; @err then says
 * which field and why. @req is always safe to hl_request_free(). Pure.
 */
int hl_request_parse(const char *buf, size_t len, struct hl_request *req, char *err, size_t errlen);
void hl_request_free(struct hl_request *req);
/* "network/containerID/ifname": the pod table key. */
void hl_request_key(const struct hl_request *req, char *buf, size_t len);

/* ---- pod records and their files (state.c) ------------------------------ */
struct hl_mon_pod;

struct hl_pod {
	char key[HL_NAME_MAX * 2 + HL_IFNAME_MAX + 4];
	char network[HL_NAME_MAX], container_id[HL_NAME_MAX], ifname[HL_IFNAME_MAX];
	char netns[PATH_MAX];
	char pod_ns[HL_NAME_MAX], pod_name[HL_NAME_MAX], pod_uid[128];
	char ips[HLAGENT_MAX_IPS][HL_IP_MAX];
	size_t n_ips;
	enum hl_fastpath fastpath;
	enum hl_fp_source source;
	uint64_t quota_bytes;            /* cap on its regions (shm only) */
	/* vhost-user: the pod's socket and the switch port serving it. */
	char sock_path[108], port[32];
	/* vf: the VF handed to the pod and what it looks like there. */
	char vf_pci[16], vf_pf_pci[16], vf_mac[18];
	unsigned vf_mtu;
	bool vf_dpdk;
	int64_t created;                 /* unix seconds */
	struct hl_mon_pod *ep;          /* runtime only: shm endpoint */
};

/* Fills a record's identity from a request (ADD). */
void hl_pod_from_request(struct hl_pod *p, const struct hl_request *r);
/* "<namespace>/<name>", or the container id when there is no pod identity. */
void hl_pod_key_name(const struct hl_pod *p, char *buf, size_t len);
/* The record as JSON (state file and replies). NULL on ENOMEM. */
char *hl_pod_to_json(const struct hl_pod *p, bool pretty);
struct cJSON;
struct cJSON *hl_pod_to_cjson(const struct hl_pod *p);
/* Parses a state file's text. 0 or -EINVAL / -ENOMEM. */
int hl_pod_from_json(struct hl_pod *p, const char *text, size_t len);

/* File name (no dir) of a key's state file: "<hash>.json". */
void hl_state_name(const char *key, char *buf, size_t len);
/* Creates <dir>/pods if needed. 0 or -errno. */
int hl_state_init(const char *dir);
/*
 * Persists @p atomically: write <dir>/pods/.<name>.tmp, fsync, rename, fsync
 * the directory. 0 or -errno. @crash_mid is called between write and rename
 * (fault injection; may be NULL).
 */
int hl_state_save(const char *dir, const struct hl_pod *p, void (*crash_mid)(void));
/* Unlinks the record and fsyncs the directory. 0 or -errno (ENOENT is 0). */
int hl_state_remove(const char *dir, const char *key);
/*
 * Loads every record into a malloc'd array (*out, *n); removes leftover
 * temp files and unparsable records (logged). 0 or -errno.
 */
int hl_state_load(const char *dir, struct hl_pod **out, size_t *n);

/* ---- fault injection (main.c) ------------------------------------------- */
/* raise(SIGKILL) when HOSTLANE_CRASH_AT names @point. */
void hl_crash_point(const char *point);

#endif
