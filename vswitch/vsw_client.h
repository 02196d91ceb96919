/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hl_vsw — the node agent's side of hostlane-vswitch, the DPDK L2 switch that
 * serves vhost-user ports of `fastpath: vhost-user` pods. No DPDK here: the
 * agent links libhlvsw.a (+ -lcjson) and talks to the switch process over its
 * control socket (a unix stream socket, line protocol, docs/vhost-user.md).
 *
 * Four parts:
 *   - control client: hl_vsw_client_open() + one call per request;
 *   - naming helpers: the pod's socket path (always < 108 bytes), the switch
 *     port name, the device-info JSON (network-plumbing-wg spec 1.1.0);
 *   - OVS-DPDK backend: the ovs-vsctl argv for a dpdkvhostuserclient port;
 *   - supervisor: adopts the running switch of its pid file or spawns one,
 *     notices its exit through a pidfd, restarts it with a back-off and
 *     re-creates the ports the agent registered.
 *
 * Role words: a port's mode names the SWITCH's role on the vhost-user socket.
 * HL_VSW_SWITCH_CLIENT (the default and the one that survives a switch
 * restart) means the pod's virtio-user creates the socket
 * (`--vdev net_virtio_user0,path=SOCK,server=1`) and the switch connects and
 * reconnects to it; the device-info file then says mode "server".
 *
 * Thread safety: a client or supervisor handle is used by one thread at a
 * time; the pure helpers are thread-safe.
 */
#ifndef HL_VSW_CLIENT_H
#define HL_VSW_CLIENT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

#define HL_VSW_NAME_MAX 32   /* port name buffer, incl. NUL */
#define HL_VSW_PATH_MAX 108  /* sizeof(sun_path), incl. NUL */
#define HL_VSW_DEFAULT_POD_DIR "/run/hostlane/pods"
#define HL_VSW_DEFAULT_CTL "/run/hostlane/vswitch.sock"

/* Which side of the vhost-user socket the switch is. */
enum hl_vsw_mode {
	HL_VSW_SWITCH_CLIENT = 0, /* pod's virtio-user listens (server=1) */
	HL_VSW_SWITCH_SERVER = 1, /* switch listens, pod connects */
};

/* One port as the switch reports it (`list`). */
struct hl_vsw_port_stats {
	char name[HL_VSW_NAME_MAX];
	char path[HL_VSW_PATH_MAX];
	enum hl_vsw_mode mode;
	int up;                 /* 1 when a virtio-user peer is connected */
	uint64_t rx_packets, rx_bytes;   /* received from the pod */
	uint64_t tx_packets, tx_bytes;   /* delivered to the pod */
	uint64_t rx_drops;      /* from the pod, not forwarded (runt, to self) */
	uint64_t tx_drops;      /* to the pod, its ring was full */
};

/* One learned MAC (`macs`). */
struct hl_vsw_mac {
	uint8_t addr[6];
	char port[HL_VSW_NAME_MAX];
	uint64_t age_ms;        /* since the last frame from it */
};

/* What the switch says about itself (`info`), plus what the kernel says. */
struct hl_vsw_info {
	pid_t pid;                  /* the switch's own pid */
	uint64_t start_time;        /* its start time: /proc/PID/stat field 22 */
	char ctl[HL_VSW_PATH_MAX];  /* the control socket it was started with */
	pid_t peer_pid;             /* the socket owner's pid (SO_PEERCRED) */
};

/* ---- control client ---------------------------------------------------- */

struct hl_vsw_client;

/**
 * hl_vsw_client_open() - connect to the switch's control socket.
 * @ctl_path: control socket path (hostlane-vswitch --ctl).
 * @timeout_ms: per-request send/receive timeout (0: 5000).
 * Return: a handle, or NULL with errno set: ENOENT/ECONNREFUSED (no switch),
 * ENAMETOOLONG, ENOMEM.
 */
struct hl_vsw_client *hl_vsw_client_open(const char *ctl_path, int timeout_ms);

/** hl_vsw_client_close() - close the connection and free @c (NULL is fine). */
void hl_vsw_client_close(struct hl_vsw_client *c);

/**
 * hl_vsw_ping() - check the switch answers.
 * Return: 0, or -errno: -EPIPE/-ECONNRESET (switch gone), -ETIMEDOUT,
 * -EPROTO (garbled reply).
 */
int hl_vsw_ping(struct hl_vsw_client *c);

/**
 * hl_vsw_get_info() - who answers: the switch's pid, start time and control
 * socket path, and the pid the kernel reports for the listening socket's
 * owner. A switch is the one it claims to be when pid == peer_pid and the
 * start time matches /proc/PID/stat.
 * Return: 0, -EPROTO (garbled reply), or a transport error as for
 * hl_vsw_ping().
 */
int hl_vsw_get_info(struct hl_vsw_client *c, struct hl_vsw_info *out);

/**
 * hl_vsw_add_port() - create port @name on vhost-user socket @path.
 * Forwarding starts when the pod's virtio-user is connected; in
 * HL_VSW_SWITCH_CLIENT mode the switch keeps reconnecting until it is.
 * Return: 0, or -errno: -EINVAL (bad name/path), -EEXIST (name or path in
 * use), -ENOSPC (port table full), the switch's error from the vhost library
 * (e.g. -EIO), or a transport error as for hl_vsw_ping().
 */
int hl_vsw_add_port(struct hl_vsw_client *c, const char *name, const char *path,
		    enum hl_vsw_mode mode);

/**
 * hl_vsw_del_port() - remove port @name: the switch stops forwarding to and
 * from it, forgets its MACs, and closes the vhost-user connection (in server
 * mode it also removes the socket file).
 * Return: 0, -ENOENT (no such port), -EINVAL, or a transport error.
 */
int hl_vsw_del_port(struct hl_vsw_client *c, const char *name);

/**
 * hl_vsw_list_ports() - per-port state and counters.
 * @out/@cap: caller's array; @n: set to the number of ports (may exceed
 * @cap: then only @cap were stored and -ENOBUFS is returned).
 * Return: 0, -ENOBUFS, -EPROTO, or a transport error.
 */
int hl_vsw_list_ports(struct hl_vsw_client *c, struct hl_vsw_port_stats *out,
		      size_t cap, size_t *n);

/**
 * hl_vsw_list_macs() - the learned MAC table (aged entries left out).
 * Same contract as hl_vsw_list_ports().
 */
int hl_vsw_list_macs(struct hl_vsw_client *c, struct hl_vsw_mac *out,
		     size_t cap, size_t *n);

/* ---- naming helpers (pure, thread-safe) --------------------------------- */

/**
 * hl_vsw_pod_dir() - the pod's socket directory "<base>/<ns>_<name>".
 * The "<ns>_<name>" part is shortened deterministically (prefix + "-" + 12
 * hex digits of a 64-bit FNV-1a hash of "<ns>/<name>") when the socket path
 * built by hl_vsw_sock_path() with a 15-char interface name would not fit in
 * 108 bytes, so every interface of the pod shares one directory.
 * @base: NULL for HL_VSW_DEFAULT_POD_DIR.
 * Return: 0, -EINVAL (empty ns/name, '/' in them, "." or ".."),
 * -ENAMETOOLONG (@base itself too long, or @out too small).
 */
int hl_vsw_pod_dir(char *out, size_t outlen, const char *base, const char *ns,
		   const char *name);

/**
 * hl_vsw_sock_path() - the vhost-user socket "<pod dir>/<ifname>.sock".
 * @ifname: the pod's interface name (1..15 chars, no '/').
 * Return: 0; the path fits in HL_VSW_PATH_MAX. Errors as hl_vsw_pod_dir().
 */
int hl_vsw_sock_path(char *out, size_t outlen, const char *base, const char *ns,
		     const char *name, const char *ifname);

/**
 * hl_vsw_port_name() - a switch port name unique to (ns, name, ifname):
 * "p" + 16 hex digits of a hash, plus NUL (fits HL_VSW_NAME_MAX).
 * Return: 0, -EINVAL (NULL argument), -ENAMETOOLONG (@outlen < 18).
 */
int hl_vsw_port_name(char *out, size_t outlen, const char *ns, const char *name,
		     const char *ifname);

/**
 * hl_vsw_devinfo_json() - a device-info document of type "vhost-user"
 * (network-plumbing-wg device-info spec 1.1.0). The spec's mode is the
 * pod's view: "server" when the pod creates the socket
 * (HL_VSW_SWITCH_CLIENT), "client" otherwise.
 * Return: a malloc'ed JSON string, or NULL with errno EINVAL/ENOMEM.
 */
char *hl_vsw_devinfo_json(const char *sock_path, enum hl_vsw_mode mode);

/* ---- OVS-DPDK backend (vhostUser.backend: ovs-dpdk) ---------------------- */

/**
 * hl_vsw_ovs_argv() - argv (NULL-terminated, pointing into @buf) of the
 * ovs-vsctl command that adds (@add=1) or deletes port @name in bridge
 * @bridge: `ovs-vsctl --timeout=5 add-port BR NAME -- set Interface NAME
 * type=dpdkvhostuserclient options:vhost-server-path=SOCK` (the pod is the
 * vhost-user server, as with HL_VSW_SWITCH_CLIENT) or `ovs-vsctl --timeout=5
 * --if-exists del-port BR NAME`.
 * @argv/@argv_cap: at least 12 slots; @buf/@buflen: string storage.
 * Return: 0, -EINVAL (bad name/bridge/path), -ENOBUFS.
 */
int hl_vsw_ovs_argv(char **argv, size_t argv_cap, char *buf, size_t buflen,
		    int add, const char *bridge, const char *name,
		    const char *sock_path);

/**
 * hl_vsw_ovs_run() - run the command of hl_vsw_ovs_argv() (execvp, waits).
 * Return: 0, -ENOENT (no ovs-vsctl), -EIO (it failed), other -errno.
 * Blocks up to ovs-vsctl's own timeout. Thread-safe.
 */
int hl_vsw_ovs_run(int add, const char *bridge, const char *name,
		   const char *sock_path);

/* ---- supervisor ---------------------------------------------------------- */

/*
 * The supervisor keeps one switch running for one control socket and pid
 * file: it adopts the switch a previous supervisor left running (an agent
 * that crashed), or spawns one; it notices the switch's exit through a
 * pidfd, restarts it after a back-off (base, doubling to cap; reset once a
 * switch stayed up healthy_ms) and re-creates the registered ports. It owns
 * no thread and no loop: the caller polls hl_vsw_sup_fd() and arms a timer
 * from hl_vsw_sup_next_ms(), and calls hl_vsw_sup_handle_event() on either.
 */
struct hl_vsw_sup;

struct hl_vsw_sup_opts {
	/* The switch command line, NULL-terminated (copied), e.g.
	 * {"hostlane-vswitch", "-l", "1", "--no-pci", "--in-memory",
	 *  "--file-prefix", "hlvsw", "--", "--ctl", CTL, "--pidfile", PID, NULL}. */
	char *const *argv;
	const char *ctl_path;       /* the --ctl the command line names */
	const char *pidfile;        /* its --pidfile; NULL: never adopt */
	unsigned backoff_base_ms;   /* first restart delay; 0: 1000 */
	unsigned backoff_cap_ms;    /* largest delay; 0: 30000 */
	unsigned healthy_ms;        /* up this long resets the delay; 0: 30000 */
	/* Log callback (level 0 error, 1 warning, 2 info), NULL: silent. */
	void (*log)(void *arg, int level, const char *msg);
	void *log_arg;
};

/**
 * hl_vsw_sup_new() - prepare to run the switch; nothing is started.
 * Return: a handle, or NULL with errno EINVAL (no argv, no or too long
 * ctl_path/pidfile) or ENOMEM.
 */
struct hl_vsw_sup *hl_vsw_sup_new(const struct hl_vsw_sup_opts *o);

/**
 * hl_vsw_sup_start() - make the switch run: adopt the running switch of the
 * pid file if it is ours, else spawn one; wait until it answers (up to
 * @timeout_ms), then create every registered port in it.
 *
 * Ours means: the process the pid file names lives with the start time the
 * file records, answers on ctl_path, and its `info` (pid, start time, ctl
 * path) agrees with the kernel's peer pid, /proc and our ctl_path. An ours
 * switch started with another command line (the configuration changed), or
 * one that does not answer within @timeout_ms, is stopped (SIGTERM, SIGKILL
 * after 5 s) and replaced. A process that merely reuses the pid is never
 * signalled. The spawned switch starts in its own session with default
 * signal dispositions and an empty signal mask.
 *
 * Return: 0; -EALREADY (running); -ETIMEDOUT (never answered: killed);
 * -ECHILD (it exited during start-up); spawn errors (-ENOENT, ...); or the
 * first port error. On an error the supervisor waits for its back-off
 * before hl_vsw_sup_handle_event() tries again.
 */
int hl_vsw_sup_start(struct hl_vsw_sup *s, int timeout_ms);

/**
 * hl_vsw_sup_fd() - a pidfd that turns readable when the switch exits; put
 * it in the caller's epoll set. -1 when not running, or when the kernel has
 * no pidfd_open (< 5.3): then hl_vsw_sup_next_ms() asks for polling.
 */
int hl_vsw_sup_fd(const struct hl_vsw_sup *s);

/**
 * hl_vsw_sup_next_ms() - when to call hl_vsw_sup_handle_event() without an
 * event: ms until the pending restart is due (0: now), a polling period
 * when the running switch has no pidfd, or -1 (nothing to wait for).
 */
int hl_vsw_sup_next_ms(const struct hl_vsw_sup *s);

/**
 * hl_vsw_sup_handle_event() - call when hl_vsw_sup_fd() is readable or the
 * hl_vsw_sup_next_ms() timer fired: notices (and reaps) an exited switch and
 * schedules its restart after the back-off; starts it when the restart is
 * due (hl_vsw_sup_start()). Re-read hl_vsw_sup_fd() and
 * hl_vsw_sup_next_ms() afterwards.
 * Return: 0 (nothing to do, waiting, or restarted), or the start error.
 */
int hl_vsw_sup_handle_event(struct hl_vsw_sup *s, int timeout_ms);

/** hl_vsw_sup_pid() - the switch's pid, or 0 when not running. */
pid_t hl_vsw_sup_pid(const struct hl_vsw_sup *s);

/** hl_vsw_sup_adopted() - 1 when the running switch was adopted (started
 * by an earlier supervisor), 0 when spawned by this one or not running. */
int hl_vsw_sup_adopted(const struct hl_vsw_sup *s);

/** hl_vsw_sup_restarts() - how many times the switch was started again
 * after it had exited (attempts, successful or not). */
unsigned hl_vsw_sup_restarts(const struct hl_vsw_sup *s);

/**
 * hl_vsw_sup_add_port() - register a port (kept across restarts) and create
 * it in the running switch. Registering again with the same path and mode,
 * or finding the same port (name, path, mode) already in the switch (an
 * adopted switch), is success and leaves the port untouched; a switch port
 * in the way that no registration owns (same name or path) is deleted first.
 * Return: 0, -EINVAL, -EEXIST (@name registered with another path or mode,
 * or @path registered under another name), -ENOMEM, or the switch's error.
 * A port that fails with a transport error stays registered (the next start
 * creates it); one the switch rejects is not kept.
 */
int hl_vsw_sup_add_port(struct hl_vsw_sup *s, const char *name,
			const char *path, enum hl_vsw_mode mode);

/** hl_vsw_sup_del_port() - forget a port and delete it in the switch.
 * Return: 0, -ENOENT (not registered), or the switch's error. */
int hl_vsw_sup_del_port(struct hl_vsw_sup *s, const char *name);

/**
 * hl_vsw_sup_reconcile() - make the running switch's ports exactly the
 * registered ones: delete every port no registration owns (or whose path or
 * mode differ), create every registered port it lacks. Ports that match are
 * not touched, so their traffic goes on.
 * @added/@removed: counts (may be NULL).
 * Return: 0, or the first error (-ESRCH when no switch runs).
 */
int hl_vsw_sup_reconcile(struct hl_vsw_sup *s, size_t *added, size_t *removed);

/**
 * hl_vsw_sup_free() - stop the switch (SIGTERM; SIGKILL after 5 s; waits
 * until it is gone, also when adopted) and free @s (NULL is fine).
 */
void hl_vsw_sup_free(struct hl_vsw_sup *s);

/**
 * hl_vsw_sup_leave() - free @s but leave the switch running, for the next
 * supervisor of the same pid file to adopt (NULL is fine). A switch this
 * supervisor spawned is not reaped: when the caller exits it is re-parented.
 */
void hl_vsw_sup_leave(struct hl_vsw_sup *s);

#ifdef __cplusplus
}
#endif
#endif /* HL_VSW_CLIENT_H */
