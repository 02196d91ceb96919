/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Internal interfaces of the hostlane CNI plugin (prefix cni_). Not a
 * library: these are shared between the plugin's translation units, the
 * unit tests and the fuzz harness. The process is single threaded.
 *
 * Error convention: functions that can fail with a CNI error fill a
 * struct cni_err (code + msg + details) and return -1; they return 0 on
 * success. Functions that only fail on system calls return 0 or -errno.
 */
#ifndef HOSTLANE_CNI_H
#define HOSTLANE_CNI_H

#include <cjson/cJSON.h>
#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hlagent.h"

/* ---- versions ---- */

/* CNI versions as 0xMMmmpp. */
#define CNI_V(M, m, p) (((M) << 16) | ((m) << 8) | (p))
#define CNI_V030 CNI_V(0, 3, 0)
#define CNI_V031 CNI_V(0, 3, 1)
#define CNI_V040 CNI_V(0, 4, 0)
#define CNI_V100 CNI_V(1, 0, 0)
#define CNI_V110 CNI_V(1, 1, 0)
#define CNI_VERSION_LATEST "1.1.0"

/** cni_version_parse() - "X.Y.Z" (or "X.Y") to CNI_V(); -1 if malformed. */
int cni_version_parse(const char *s);
/** cni_version_str() - CNI_V() to "X.Y.Z" in @buf (>= 16 bytes). */
const char *cni_version_str(int v, char *buf, size_t n);
/** cni_version_supported() - true for the versions this plugin speaks. */
bool cni_version_supported(int v);
/**
 * cni_version_negotiate() - the highest version in @theirs (an array of
 * version strings, e.g. a VERSION answer's supportedVersions) that is also
 * ours and <= @want. Return: the version, or -1 when there is none.
 */
int cni_version_negotiate(int want, const cJSON *theirs);
/** cni_version_json() - the VERSION answer (caller frees). */
char *cni_version_json(void);

/* ---- errors and logging ---- */

enum cni_code {
	CNI_ERR_INCOMPAT = 1,
	CNI_ERR_UNSUPPORTED_FIELD = 2,
	CNI_ERR_UNKNOWN_CONTAINER = 3,
	CNI_ERR_ENV = 4,
	CNI_ERR_IO = 5,
	CNI_ERR_DECODE = 6,
	CNI_ERR_CONFIG = 7,
	CNI_ERR_TRY_AGAIN = 11,
	CNI_ERR_NOT_AVAILABLE = 50,
	CNI_ERR_LIMITED = 51,
	/* Plugin-specific (>= 100 per spec): one set with the agent's (hlagent.h). */
	CNI_ERR_IFACE_EXISTS = HLAGENT_CNI_IFACE_EXISTS,
	CNI_ERR_CHECK = HLAGENT_CNI_CHECK_MISMATCH,
	CNI_ERR_INTERNAL = HLAGENT_CNI_PLUGIN_INTERNAL,
};

struct cni_err {
	int code;
	char msg[256];
	char details[768];
};

/** cni_err_set() - fill @e (printf-style details); returns -1 for chaining. */
int cni_err_set(struct cni_err *e, int code, const char *msg, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/** cni_err_json() - the spec's error object for @e in @version (caller frees). */
char *cni_err_json(const struct cni_err *e, const char *version);

enum cni_log_level { CNI_LOG_ERROR, CNI_LOG_WARN, CNI_LOG_INFO, CNI_LOG_DEBUG };
/** cni_log_level_parse() - "error|warn|info|debug" to the level, -1 if unknown. */
int cni_log_level_parse(const char *s);
/* Where logFile may be: the runtime's HOSTLANE_CNI_LOG_DIR, else this. */
#define CNI_LOG_DIR_DEFAULT "/var/log/hostlane"
/**
 * cni_log_setup() - log to @file (append; NULL: stderr) at @level. @file
 * must name a regular file in the log directory (a bare name, or a path in
 * that directory); anything else, or a symlink, is not opened (stderr then,
 * with a warning).
 */
void cni_log_setup(const char *file, int level);
/** cni_log_close() - close a log file opened by cni_log_setup(). */
void cni_log_close(void);
void cni_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define cni_err_log(...) cni_log(CNI_LOG_ERROR, __VA_ARGS__)
#define cni_warn(...) cni_log(CNI_LOG_WARN, __VA_ARGS__)
#define cni_info(...) cni_log(CNI_LOG_INFO, __VA_ARGS__)
#define cni_debug(...) cni_log(CNI_LOG_DEBUG, __VA_ARGS__)

/* ---- environment ---- */

enum cni_cmd { CNI_CMD_NONE, CNI_CMD_ADD, CNI_CMD_DEL, CNI_CMD_CHECK,
	       CNI_CMD_STATUS, CNI_CMD_GC, CNI_CMD_VERSION };

enum cni_fastpath { CNI_FP_UNSET = -1, CNI_FP_NONE, CNI_FP_SHM, CNI_FP_VHOST_USER,
		    CNI_FP_VF };

struct cni_env {
	enum cni_cmd cmd;
	const char *command;
	const char *containerid;
	const char *netns;
	const char *ifname;
	const char *path;
	const char *args;
	enum cni_fastpath fastpath; /* HOSTLANE_FASTPATH= in CNI_ARGS */
};

/** cni_cmd_parse() - CNI_COMMAND value to enum, CNI_CMD_NONE if unknown. */
enum cni_cmd cni_cmd_parse(const char *s);
/** cni_valid_containerid() / cni_valid_ifname() - the spec's rules. */
bool cni_valid_containerid(const char *s);
bool cni_valid_ifname(const char *s);
/** cni_valid_netname() - a network name as the spec allows. */
bool cni_valid_netname(const char *s);
/** cni_fastpath_parse() - none|shm|vhost-user|vf, CNI_FP_UNSET if unknown. */
enum cni_fastpath cni_fastpath_parse(const char *s);
const char *cni_fastpath_str(enum cni_fastpath fp);
/**
 * cni_env_load() - read and validate the CNI_* variables via @get (getenv in
 * the plugin) for the command they name. Return: 0 or -1 with @e (code 4
 * naming the variable).
 */
int cni_env_load(struct cni_env *env, const char *(*get)(const char *),
		 struct cni_err *e);

/* ---- results ---- */

#define CNI_MAX_IFACES 8
#define CNI_MAX_IPS 32
#define CNI_MAX_ROUTES 64

struct cni_iface {
	char name[IF_NAMESIZE];
	char mac[32];
	int mtu;           /* 0: absent */
	char sandbox[1024];
	char socket_path[512];
	char pci_id[64];
};

struct cni_ip {
	int family;
	uint8_t addr[16];
	int prefix;
	bool has_gw;
	uint8_t gw[16];
	int iface;         /* index in interfaces, -1 when absent */
};

struct cni_route {
	int family;
	uint8_t dst[16];
	int prefix;
	bool has_gw;
	uint8_t gw[16];
	int mtu, advmss, priority, table, scope; /* -1 when absent (1.1.0 keys) */
};

struct cni_result {
	int n_ifaces, n_ips, n_routes;
	struct cni_iface ifaces[CNI_MAX_IFACES];
	struct cni_ip ips[CNI_MAX_IPS];
	struct cni_route routes[CNI_MAX_ROUTES];
	cJSON *dns;        /* owned copy, or NULL */
};

/**
 * cni_result_parse() - parse a result object of any supported version
 * (0.3.x/0.4.0 `ips[].version` accepted and checked) into @r. @what names
 * the source in errors ("prevResult", "ipam result").
 * Return: 0, or -1 with @e (code 6 for a malformed result).
 */
int cni_result_parse(const cJSON *obj, struct cni_result *r, const char *what,
		     struct cni_err *e);
/** cni_result_to_json() - the result in the shape of @version (caller frees). */
cJSON *cni_result_to_json(const struct cni_result *r, int version);
/** cni_result_free() - free what a result owns (dns); the struct stays. */
void cni_result_free(struct cni_result *r);
/** cni_cidr_parse() - "a.b.c.d/n" or v6 into family/addr/prefix; 0 or -EINVAL. */
int cni_cidr_parse(const char *s, int *family, uint8_t addr[16], int *prefix);
/** cni_ip_parse() - a bare address; 0 or -EINVAL. */
int cni_ip_parse(const char *s, int *family, uint8_t addr[16]);

/* ---- network configuration ---- */

struct cni_attachment {
	char *containerid;
	char *ifname;
};

struct cni_conf {
	cJSON *root;             /* the whole parsed config; owns the strings below */
	const char *version_str;
	int version;
	const char *name;
	const char *type;
	char bridge[IF_NAMESIZE];
	unsigned int mtu;
	bool is_gateway;
	bool ip_masq;
	const char *agent_socket;
	enum cni_fastpath fastpath;
	const char *log_file;
	int log_level;
	const cJSON *vf;         /* "vf" object (sriov-cni keys) or NULL */
	const char *device_id;   /* "deviceID" (Multus) or NULL */
	const char *devinfo_file;/* runtimeConfig.CNIDeviceInfoFile or NULL */
	const cJSON *ipam;       /* the ipam object or NULL */
	const char *ipam_type;   /* NULL when no ipam */
	bool has_prev;
	struct cni_result prev;
	/* GC: cni.dev/valid-attachments (NULL when absent). */
	struct cni_attachment *valid;
	size_t n_valid;
};

/**
 * cni_conf_parse() - parse the stdin network configuration for @cmd.
 * Validates cniVersion (code 1), JSON (code 6), required keys and types
 * (code 7 naming the key), values we cannot honour (code 2 naming the key),
 * prevResult (code 6/7), valid-attachments for GC.
 * Return: 0, or -1 with @e; cni_conf_free() is safe after either.
 */
int cni_conf_parse(const char *json, size_t len, enum cni_cmd cmd,
		   struct cni_conf *c, struct cni_err *e);
void cni_conf_free(struct cni_conf *c);
/**
 * cni_conf_ipam_stdin() - the config as sent to IPAM: prevResult removed,
 * cniVersion set to @version (caller frees).
 */
char *cni_conf_ipam_stdin(const struct cni_conf *c, int version);
/** cni_attachment_valid() - is (@cid, @ifname) in valid-attachments? */
bool cni_attachment_valid(const struct cni_conf *c, const char *cid, const char *ifname);

/* ---- naming and cache ---- */

/** cni_host_veth_name() - "hl" + 12 hex of a hash of (net, cid, ifname). */
void cni_host_veth_name(const char *net, const char *cid, const char *ifname,
			char out[IF_NAMESIZE]);
/** cni_alias() - "hostlane:<net>:<cid>:<ifname>"; 0 or -ENAMETOOLONG. */
int cni_alias(const char *net, const char *cid, const char *ifname, char *out, size_t n);
/** cni_alias_split() - parse an alias of network @net; false if not ours. */
bool cni_alias_split(const char *alias, const char *net, char *cid, size_t cn,
		     char *ifname, size_t in);

/** Cached state of one attachment. Strings are owned by the entry. */
struct cni_cache_entry {
	char *containerid;
	char *ifname;
	char *netns;
	char host_veth[IF_NAMESIZE];
	char bridge[IF_NAMESIZE];
	bool chained;
	char *ipam_conf;      /* the config IPAM got on ADD (JSON), or NULL */
	cJSON *ipam_result;   /* or NULL */
};

/** cni_cache_dir() - $HOSTLANE_CACHE_DIR or /var/lib/cni/hostlane. */
const char *cni_cache_dir(void);
/** cni_cache_write() - write atomically (tmp, fsync, rename). 0 or -errno. */
int cni_cache_write(const char *root, const char *net, const struct cni_cache_entry *ce);
/** cni_cache_read() - read the entry for (net, cid, ifname): 0, -ENOENT, -errno. */
int cni_cache_read(const char *root, const char *net, const char *cid,
		   const char *ifname, struct cni_cache_entry *ce);
/** cni_cache_read_file() - read one cache file by path; 0 or -errno. */
int cni_cache_read_file(const char *path, struct cni_cache_entry *ce);
/** cni_cache_remove() - remove the entry; 0 also when absent. */
int cni_cache_remove(const char *root, const char *net, const char *cid, const char *ifname);
/** cni_cache_path() - the file of an entry into @out. */
int cni_cache_path(const char *root, const char *net, const char *cid,
		   const char *ifname, char *out, size_t n);
void cni_cache_entry_free(struct cni_cache_entry *ce);
/** cni_lock() - flock(LOCK_EX) on directory @root (created if missing); fd or -errno. */
int cni_lock(const char *root);
void cni_unlock(int fd);

/* ---- IPAM delegation ---- */

struct cni_ipam {
	char path[4096];      /* resolved binary */
	int version;          /* negotiated version to talk to it */
	bool knows_version;   /* VERSION was asked */
	bool supports_110;    /* STATUS/GC may be delegated */
};

/** cni_find_plugin() - find @type on the ':'-list @cni_path; 0 or -ENOENT. */
int cni_find_plugin(const char *cni_path, const char *type, char *out, size_t n);
/**
 * cni_exec() - run plugin @path with @cmd and env overrides (NULL-terminated
 * "K=V" list, "K=" unsets), stdin @in, stdout into *@out (caller frees),
 * with a timeout. A non-zero exit becomes @e (the plugin's own error JSON
 * passed through when it printed one). Return: 0 or -1.
 */
int cni_exec(const char *path, const char *cmd, const char *const *envset,
	     const char *in, char **out, struct cni_err *e);
/* A delegated plugin running in the background (cni_exec_start). */
struct cni_proc {
	int pid;
	int in_fd, out_fd;
	char *in;
	size_t in_len, in_off;
	char *out;
	size_t out_len, out_cap;
	long deadline;
	char path[4096];
	char cmd[16];
};

/**
 * cni_exec_start() - cni_exec() in two halves: start the plugin now (stdin
 * is fed and stdout drained by cni_exec_wait()), so that slow kernel work
 * can overlap it. Every successful start must be followed by a wait.
 */
int cni_exec_start(struct cni_proc *p, const char *path, const char *cmd,
		   const char *const *envset, const char *in, struct cni_err *e);
/** cni_exec_wait() - finish what cni_exec_start() began; as cni_exec(). */
int cni_exec_wait(struct cni_proc *p, char **out, struct cni_err *e);
/** cni_ipam_start()/cni_ipam_wait() - cni_ipam_run() in two halves. */
int cni_ipam_start(const struct cni_conf *c, const struct cni_ipam *ip, const char *cmd,
		   const char *const *envset, struct cni_proc *p, struct cni_err *e);
int cni_ipam_wait(struct cni_proc *p, struct cni_result *res, struct cni_err *e);

/**
 * cni_ipam_prepare() - find the IPAM plugin and pick the version to speak:
 * the config's if <= 1.0.0 (or @ask_version is false), else ask VERSION.
 */
int cni_ipam_prepare(const struct cni_conf *c, const struct cni_env *env,
		     bool ask_version, struct cni_ipam *ip, struct cni_err *e);
/** cni_ipam_run() - run IPAM @cmd; ADD fills @res (others may pass NULL). */
int cni_ipam_run(const struct cni_conf *c, const struct cni_ipam *ip, const char *cmd,
		 const char *const *envset, struct cni_result *res, struct cni_err *e);

/* ---- commands ---- */

struct cni_ctx {
	struct cni_env env;
	struct cni_conf conf;
	const char *cache_root;
	char *out;            /* what to print on stdout on success, or NULL */
};

int cni_cmd_add(struct cni_ctx *x, struct cni_err *e);
int cni_cmd_del(struct cni_ctx *x, struct cni_err *e);
int cni_cmd_check(struct cni_ctx *x, struct cni_err *e);
int cni_cmd_status(struct cni_ctx *x, struct cni_err *e);
int cni_cmd_gc(struct cni_ctx *x, struct cni_err *e);

/* Shared by the commands (cmd_common.c). */
struct hlnl;
struct hlnl_link;
/** cni_open_pod() - open CNI_NETNS and a netlink handle in it (code 3 if gone). */
int cni_open_pod(const char *netns, int *nsfd, struct hlnl **nl, struct cni_err *e);
/** cni_open_host() - a netlink handle in the plugin's own netns. */
int cni_open_host(struct hlnl **nl, struct cni_err *e);
/** cni_mac_str() - "aa:bb:cc:dd:ee:ff" into @out (>= 18 bytes). */
void cni_mac_str(const uint8_t mac[6], char *out);
/** cni_link_is_ours() - does @l carry the ifalias of this attachment? */
bool cni_link_is_ours(const struct hlnl_link *l, const char *net, const char *cid,
		      const char *ifname);
/** cni_nl_err() - a netlink failure as error 999 naming the step. */
int cni_nl_err(struct cni_err *e, const char *step, const char *obj, int rc);
/** cni_fastpath_select() - CNI_ARGS, else config, else none. */
enum cni_fastpath cni_fastpath_select(const struct cni_ctx *x);

/**
 * cni_agent_notify() - the one place the plugin tells the node agent about
 * a wired attachment (and may extend @r with fast-path interfaces). Today a
 * no-op that logs the selection; the agent client replaces its body.
 */
int cni_agent_notify(struct cni_ctx *x, enum cni_fastpath fp, struct cni_result *r,
		     struct cni_err *e);
/* The agent's part of DEL, CHECK, STATUS (50 when unreachable) and GC (agent.c). */
int cni_agent_release(struct cni_ctx *x, struct cni_err *e);

/* What the agent handed a `fastpath: vf` attachment (cni_agent_vf_add). */
struct cni_vf {
	bool dpdk;                 /* vfio-bound: not moved, pciID only */
	char pci[32];
	char ifname[IF_NAMESIZE];  /* kernel mode: CNI_IFNAME in the pod */
};
/**
 * cni_agent_vf_add() - ADD with fast path vf: the agent allocates a VF and
 * (kernel mode) moves it into the pod as CNI_IFNAME; writes the device-info
 * file for a DPDK VF. Return: 0 or -1 with @e (11 when the pool is empty).
 */
int cni_agent_vf_add(struct cni_ctx *x, struct cni_vf *vf, struct cni_err *e);
/**
 * cni_devinfo_path() - where this attachment's device-info file goes:
 * runtimeConfig.CNIDeviceInfoFile, else $HOSTLANE_DEVINFO_DIR (default
 * /var/run/k8s.cni.cncf.io/devinfo/cni)/<network>-<cid>-<ifname>-device-info.json.
 * Return: 0 or -ENAMETOOLONG.
 */
int cni_devinfo_path(const struct cni_ctx *x, char *out, size_t n);
int cni_agent_check(struct cni_ctx *x, struct cni_err *e);
int cni_agent_status(struct cni_ctx *x, struct cni_err *e);
int cni_agent_gc(struct cni_ctx *x, struct cni_err *e);

/** cni_run() - the whole plugin: env, stdin, dispatch, output. Exit code. */
int cni_run(const char *stdin_buf, size_t len, const char *(*get)(const char *));

#endif
