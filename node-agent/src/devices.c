/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The device fast paths of hostlaned: vhost-user ports on the supervised
 * hostlane-vswitch (or an OVS-DPDK bridge) and SR-IOV VFs from the hlvf pool.
 * server.c calls these in its usual order (allocate -> persist -> reply;
 * release -> unpersist -> reply); everything needed to undo a device is in
 * the pod record (and, for VFs, in the pool's own state dir), so DEL works
 * after a restart.
 */
#include "daemon.h"
#include "hlvf.h"
#include "vsw_client.h"
#include "vsw_external.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <unistd.h>

#define VSW_START_MS 15000
#define VSW_RETRY_MS 1000

/* ---- the switch under supervision (loop thread for events) ------------- */

static void vsw_watch(struct agent *a);

/* The switch's pidfd turned readable, or the supervisor's timer fired. */
static void vsw_event(struct agent *a)
{
	int rc;

	pthread_mutex_lock(&a->vsw_lock);
	rc = hl_vsw_sup_handle_event(a->vsw, VSW_START_MS);
	pthread_mutex_unlock(&a->vsw_lock);
	if (rc < 0)
		hl_log(HL_LOG_ERROR, "vswitch: restart failed: %s", strerror(-rc));
	vsw_watch(a);
}

static void vsw_timer(struct hl_loop *loop, void *arg)
{
	(void)loop;
	vsw_event(arg);
}

static void on_vsw_exit(struct hl_loop *loop, int fd, uint32_t events, void *arg)
{
	struct agent *a = arg;

	(void)events;
	/* The supervisor closes this pidfd when it notices the exit: forget it first. */
	hl_loop_del(loop, fd);
	a->vsw_fd = -1;
	vsw_event(a);
}

/* Watch the running switch's pidfd; arm a timer for a restart that waits out
 * its back-off (or for polling when there is no pidfd). */
static void vsw_watch(struct agent *a)
{
	int fd, ms;

	pthread_mutex_lock(&a->vsw_lock);
	fd = hl_vsw_sup_fd(a->vsw);
	ms = hl_vsw_sup_next_ms(a->vsw);
	pthread_mutex_unlock(&a->vsw_lock);
	if (fd >= 0 && hl_loop_add(a->loop, fd, EPOLLIN, on_vsw_exit, a) == 0)
		a->vsw_fd = fd;
	else if (fd >= 0 && ms < 0)
		ms = VSW_RETRY_MS;  /* cannot watch the fd: look now and then */
	if (ms >= 0 && hl_timer_add(a->loop, ms, vsw_timer, a) < 0)
		hl_log(HL_LOG_ERROR, "vswitch: cannot schedule a restart");
}

/* hostlane-vswitch next to our own binary, unless configured. */
static void vsw_binary(const struct hl_vhost_cfg *v, char *out, size_t len)
{
	char self[PATH_MAX];
	ssize_t n;
	char *slash;

	if (v->binary[0]) {
		snprintf(out, len, "%s", v->binary);
		return;
	}
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	self[n > 0 ? n : 0] = '\0';
	slash = strrchr(self, '/');
	if (slash)
		*slash = '\0';
	if (snprintf(out, len, "%s/hostlane-vswitch", n > 0 ? self : ".") >= (int)len)
		snprintf(out, len, "hostlane-vswitch");  /* from PATH then */
}

/* A file prefix unique to this agent instance (its run dir), stable across
 * restarts so a restarted switch reclaims its predecessor's hugepage files. */
static void vsw_prefix(const char *run_dir, char *out, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (const unsigned char *s = (const unsigned char *)run_dir; *s; s++)
		h = (h ^ *s) * 0x100000001b3ull;
	snprintf(out, len, "hlvsw%012llx", (unsigned long long)(h & 0xffffffffffffull));
}

/* The switch's default core: the last CPU this process may run on. In a
 * container that is inside its cpuset (with the static CPU manager, the
 * cores given to the container), not the node's last online core, which
 * may belong to another pod or not be allowed at all. */
static int last_allowed_cpu(void)
{
	cpu_set_t set;

	if (sched_getaffinity(0, sizeof(set), &set) == 0)
		for (int cpu = CPU_SETSIZE - 1; cpu >= 0; cpu--)
			if (CPU_ISSET(cpu, &set))
				return cpu;
	return 0;
}

static int vsw_start(struct agent *a)
{
	const struct hl_vhost_cfg *v = &a->cfg.vhost;
	char bin[PATH_MAX], core[16], prefix[32], ctl[PATH_MAX], pidfile[PATH_MAX];
	char *argv[20 + HL_VSW_EXTRA_MAX];
	struct hl_vsw_sup_opts o = { .argv = argv, .ctl_path = ctl, .pidfile = pidfile,
				     .log = hl_log_cb };
	size_t n = 0;
	int rc;

	vsw_binary(v, bin, sizeof(bin));
	snprintf(core, sizeof(core), "%d", v->lcore >= 0 ? v->lcore : last_allowed_cpu());
	vsw_prefix(a->cfg.run_dir, prefix, sizeof(prefix));
	snprintf(ctl, sizeof(ctl), "%s/vswitch.sock", a->cfg.run_dir);
	snprintf(pidfile, sizeof(pidfile), "%s/vswitch.pid", a->cfg.run_dir);
	if (mkdir(a->cfg.run_dir, 0755) < 0 && errno != EEXIST)
		return -errno;
	argv[n++] = bin;
	argv[n++] = "-l";
	argv[n++] = core;
	argv[n++] = "--no-pci";
	/* Hugepage memory the kernel frees when the switch dies, however it
	 * dies: no file in a hugetlbfs mount outlives it. The pods' memory the
	 * vhost library maps comes from their own fds, not from ours. */
	argv[n++] = "--in-memory";
	argv[n++] = "--file-prefix";
	argv[n++] = prefix;
	for (size_t i = 0; i < v->n_args; i++)
		argv[n++] = (char *)v->args[i];
	argv[n++] = "--";
	argv[n++] = "--ctl";
	argv[n++] = ctl;
	argv[n++] = "--pidfile";
	argv[n++] = pidfile;
	argv[n] = NULL;
	a->vsw = hl_vsw_sup_new(&o);
	if (!a->vsw)
		return -errno;
	/* Adopts the switch a crashed agent left running, or starts one. */
	rc = hl_vsw_sup_start(a->vsw, VSW_START_MS);
	if (rc < 0) {
		hl_log(HL_LOG_ERROR, "vswitch %s: %s", bin, strerror(-rc));
		hl_vsw_sup_free(a->vsw);
		a->vsw = NULL;
		return rc;
	}
	hl_log(HL_LOG_INFO, "vswitch %s %s on core %s (pid %d, control %s)", bin,
	       hl_vsw_sup_adopted(a->vsw) ? "adopted, running" : "running", core,
	       (int)hl_vsw_sup_pid(a->vsw), ctl);
	vsw_watch(a);
	return 0;
}

static int vf_start(struct agent *a)
{
	struct hl_vf_cfg *v = &a->cfg.vf;
	struct hl_vf_pool_opts o = { .sysfs_root = v->sysfs_root, .log = hl_log_cb };

	if (!v->state_dir[0] &&
	    snprintf(v->state_dir, sizeof(v->state_dir), "%s/vf", a->cfg.state_dir) >= (int)sizeof(v->state_dir))
		return -ENAMETOOLONG;
	o.state_dir = v->state_dir;
	for (size_t i = 0; i < v->n_pfs; i++)
		o.pfs[i] = v->pfs[i];
	a->vf_pool = hl_vf_pool_open(&o);
	if (!a->vf_pool) {
		int rc = -errno;

		hl_log(HL_LOG_ERROR, "vf pool (sysfs %s, PF %s): %s", v->sysfs_root, v->pfs[0],
		       strerror(-rc));
		return rc;
	}
	hl_log(HL_LOG_INFO, "vf pool: %zu VFs on %zu PF(s), state in %s", hl_vf_count(a->vf_pool),
	       v->n_pfs, v->state_dir);
	return 0;
}

int hl_dev_start(struct agent *a)
{
	int rc = 0;

	if (a->cfg.vhost.enabled && a->cfg.vhost.external)
		rc = hl_vsw_ext_start(a);
	else if (a->cfg.vhost.enabled && !a->cfg.vhost.ovs)
		rc = vsw_start(a);
	if (rc == 0 && a->cfg.vf.enabled)
		rc = vf_start(a);
	return rc;
}

void hl_dev_stop(struct agent *a, bool orderly)
{
	if (a->vsw_fd >= 0)
		hl_loop_del(a->loop, a->vsw_fd);
	a->vsw_fd = -1;
	hl_vsw_ext_stop(a);
	/* An orderly stop (SIGTERM/SIGINT after a good start) is the agent
	 * going away (uninstall, node drain): the switch goes with it, SIGTERM
	 * and waited for, so nothing is left polling; its ports come back from
	 * the records at the next start. An agent that dies (a crash), or fails
	 * to start after it found its switch, leaves the switch forwarding for
	 * the next agent to adopt: the pods' data plane comes first. */
	if (orderly)
		hl_vsw_sup_free(a->vsw);
	else
		hl_vsw_sup_leave(a->vsw);
	a->vsw = NULL;
	hl_vf_pool_close(a->vf_pool);
	a->vf_pool = NULL;
}

/* ---- vhost-user --------------------------------------------------------- */

/* Pods without a Kubernetes identity are named by their container id. */
static void pod_names(const struct hl_pod *p, const char **ns, const char **name)
{
	*ns = p->pod_ns[0] ? p->pod_ns : "cni";
	*name = p->pod_ns[0] ? p->pod_name : p->container_id;
}

static bool transport_err(int rc)
{
	return rc == -EPIPE || rc == -ECONNRESET || rc == -ECONNREFUSED || rc == -ETIMEDOUT ||
	       rc == -ENOENT;
}

static int vsw_port(struct agent *a, int add, const struct hl_pod *p)
{
	int rc;

	if (a->cfg.vhost.ovs)
		return hl_vsw_ovs_run(add, a->cfg.vhost.ovs_bridge, p->port, p->sock_path);
	pthread_mutex_lock(&a->vsw_lock);
	if (a->cfg.vhost.external) {
		rc = hl_vsw_ext_port(a, add, p);
	} else if (!add) {
		rc = hl_vsw_sup_del_port(a->vsw, p->port);
	} else {
		rc = hl_vsw_sup_add_port(a->vsw, p->port, p->sock_path, HL_VSW_SWITCH_CLIENT);
		if (rc == -EEXIST) {
			/* Left by an ADD that died before persisting: take it over. */
			hl_vsw_sup_del_port(a->vsw, p->port);
			rc = hl_vsw_sup_add_port(a->vsw, p->port, p->sock_path, HL_VSW_SWITCH_CLIENT);
		}
	}
	pthread_mutex_unlock(&a->vsw_lock);
	return rc;
}

static int vhost_add(struct agent *a, struct hl_pod *p, int *code, char *why, size_t n)
{
	const char *ns, *name;
	char dir[HL_VSW_PATH_MAX];
	int rc;

	pod_names(p, &ns, &name);
	rc = hl_vsw_pod_dir(dir, sizeof(dir), a->cfg.vhost.socket_dir, ns, name);
	if (rc == 0)
		rc = hl_vsw_sock_path(p->sock_path, sizeof(p->sock_path), a->cfg.vhost.socket_dir, ns,
				      name, p->ifname);
	if (rc == 0)
		rc = hl_vsw_port_name(p->port, sizeof(p->port), ns, name, p->ifname);
	if (rc < 0) {
		*code = HLAGENT_CNI_INVALID_CONFIG;
		snprintf(why, n, "cannot name the vhost-user socket under %s: %s",
			 a->cfg.vhost.socket_dir, strerror(-rc));
		return rc;
	}
	if ((mkdir(a->cfg.vhost.socket_dir, 0755) < 0 && errno != EEXIST) ||
	    (mkdir(dir, 0755) < 0 && errno != EEXIST)) {
		rc = -errno;
		*code = HLAGENT_CNI_INTERNAL;
		snprintf(why, n, "cannot create %s: %s", dir, strerror(-rc));
		return rc;
	}
	rc = vsw_port(a, 1, p);
	if (rc < 0) {
		rmdir(dir);
		*code = transport_err(rc) ? HLAGENT_CNI_TRY_AGAIN : HLAGENT_CNI_INTERNAL;
		snprintf(why, n, "%s: cannot add port %s for %s: %s",
			 a->cfg.vhost.ovs ? "ovs-vsctl" : "vswitch", p->port, p->sock_path,
			 strerror(-rc));
	}
	return rc;
}

/* Removes the pod's socket and, when it was the last one, its directory. */
static void vhost_files_remove(const struct hl_pod *p)
{
	char dir[HL_VSW_PATH_MAX];
	char *slash;

	snprintf(dir, sizeof(dir), "%s", p->sock_path);
	slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return;
	*slash = '\0';
	if (unlink(p->sock_path) < 0 && errno != ENOENT)
		hl_log(HL_LOG_WARN, "cannot remove %s: %s", p->sock_path, strerror(errno));
	if (rmdir(dir) < 0 && errno != ENOENT && errno != ENOTEMPTY)
		hl_log(HL_LOG_WARN, "cannot remove %s: %s", dir, strerror(errno));
}

static int vhost_release(struct agent *a, struct hl_pod *p, char *why, size_t n)
{
	int rc = vsw_port(a, 0, p);

	/* Not there (already deleted, or never re-created) is done; a switch
	 * that is down forgot the port anyway once it is unregistered. */
	if (rc < 0 && rc != -ENOENT && !transport_err(rc)) {
		snprintf(why, n, "cannot delete port %s: %s", p->port, strerror(-rc));
		return rc;
	}
	vhost_files_remove(p);
	return 0;
}

/* ---- vf ----------------------------------------------------------------- */

/* The pool's owner key; a netns path + container id too long for it is refused. */
static int vf_owner(const struct hl_pod *p, char *out, size_t len)
{
	int n = snprintf(out, len, "%s|%s|%s", p->netns, p->container_id, p->ifname);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

static int vf_conf(struct agent *a, const struct hl_request *q, struct hl_vf_conf *conf, char *why,
		   size_t n)
{
	memset(conf, 0, sizeof(*conf));
	if (q->vf_json && hl_vf_conf_parse(q->vf_json, strlen(q->vf_json), conf, why, n) < 0)
		return -EINVAL;
	if (!conf->mtu)
		conf->mtu = q->mtu;
	if (!a->cfg.vf.pf_settings) {
		/* Netdev-only: the PF takes no VF settings (vf.pfSettings false). */
		memset(&conf->pf, 0, sizeof(conf->pf));
	}
	return 0;
}

static int vf_add(struct agent *a, struct hl_pod *p, const struct hl_request *q, int *code,
		  char *why, size_t n)
{
	char owner[HL_VF_OWNER_MAX];
	struct hl_vf_conf conf;
	struct hl_vf_info info;
	struct hl_vf_result res;
	int rc;

	if (vf_conf(a, q, &conf, why, n) < 0) {
		*code = HLAGENT_CNI_INVALID_CONFIG;
		return -EINVAL;
	}
	if (vf_owner(p, owner, sizeof(owner)) < 0) {
		*code = HLAGENT_CNI_INVALID_CONFIG;
		snprintf(why, n, "netns path and container id too long for a VF owner key");
		return -ENAMETOOLONG;
	}
	rc = q->device_id[0] ? hl_vf_alloc_pci(a->vf_pool, owner, q->device_id, &info)
			     : hl_vf_alloc(a->vf_pool, owner, HL_VF_WANT_ANY, &info);
	if (rc < 0) {
		*code = rc == -EAGAIN || rc == -EBUSY ? HLAGENT_CNI_TRY_AGAIN :
			rc == -ENODEV ? HLAGENT_CNI_INVALID_CONFIG : HLAGENT_CNI_INTERNAL;
		snprintf(why, n, "%s", hl_vf_strerror(rc));
		return rc;
	}
	memset(&res, 0, sizeof(res));
	rc = info.dpdk ? hl_vf_attach_dpdk(a->vf_pool, owner, &conf, &res)
		       : hl_vf_attach_kernel(a->vf_pool, owner, p->netns, p->ifname, &conf, &res);
	if (rc < 0) {
		*code = rc == -EINVAL ? HLAGENT_CNI_INVALID_CONFIG : HLAGENT_CNI_INTERNAL;
		snprintf(why, n, "cannot attach VF %s: %s", info.pci, hl_vf_strerror(rc));
		if (hl_vf_release(a->vf_pool, owner) < 0)
			hl_log(HL_LOG_ERROR, "VF %s: release after a failed attach failed", info.pci);
		return rc;
	}
	snprintf(p->vf_pci, sizeof(p->vf_pci), "%s", info.pci);
	snprintf(p->vf_pf_pci, sizeof(p->vf_pf_pci), "%s", info.pf_pci);
	p->vf_dpdk = info.dpdk;
	if (!info.dpdk) {
		snprintf(p->vf_mac, sizeof(p->vf_mac), "%02x:%02x:%02x:%02x:%02x:%02x", res.mac[0],
			 res.mac[1], res.mac[2], res.mac[3], res.mac[4], res.mac[5]);
		p->vf_mtu = res.mtu;
	}
	return 0;
}

static int vf_release(struct agent *a, struct hl_pod *p, char *why, size_t n)
{
	char owner[HL_VF_OWNER_MAX];
	int rc;

	if (vf_owner(p, owner, sizeof(owner)) < 0)
		return 0;  /* never allocated: ADD refuses such keys */
	rc = hl_vf_release(a->vf_pool, owner);
	if (rc < 0)
		snprintf(why, n, "cannot release VF %s: %s", p->vf_pci, hl_vf_strerror(rc));
	return rc;
}

/* ---- dispatch ------------------------------------------------------------ */

int hl_dev_add(struct agent *a, struct hl_pod *p, const struct hl_request *q, int *code,
	       char *why, size_t n)
{
	bool vhost = p->fastpath == HL_FP_VHOST_USER;

	if ((vhost && !a->cfg.vhost.enabled) || (!vhost && !a->vf_pool)) {
		*code = HLAGENT_CNI_UNAVAILABLE;
		snprintf(why, n, "this agent has no \"%s\" section in its config",
			 vhost ? "vhostUser" : "vf");
		return -EOPNOTSUPP;
	}
	return vhost ? vhost_add(a, p, code, why, n) : vf_add(a, p, q, code, why, n);
}

int hl_dev_release(struct agent *a, struct hl_pod *p, char *why, size_t n)
{
	if (p->fastpath == HL_FP_VHOST_USER && p->port[0])
		return a->cfg.vhost.enabled ? vhost_release(a, p, why, n) : 0;
	if (p->fastpath == HL_FP_VF && p->vf_pci[0]) {
		if (!a->vf_pool) {
			snprintf(why, n, "VF %s is held but this agent has no vf pool configured",
				 p->vf_pci);
			return -EOPNOTSUPP;
		}
		return vf_release(a, p, why, n);
	}
	return 0;
}

/* With the switch adopted, a port that is already right stays untouched
 * (hl_vsw_sup_add_port() keeps it): its traffic never stopped. */
void hl_dev_restore(struct agent *a, struct hl_pod *p)
{
	int rc;

	if (p->fastpath != HL_FP_VHOST_USER || !a->cfg.vhost.enabled || a->cfg.vhost.ovs)
		return;
	rc = vsw_port(a, 1, p);
	if (rc < 0)
		hl_log(HL_LOG_ERROR, "reconcile: %s: cannot re-create port %s: %s", p->key, p->port,
		       strerror(-rc));
}

void hl_dev_restored(struct agent *a)
{
	size_t added = 0, removed = 0;
	int rc;

	if (!a->vsw)
		return;
	pthread_mutex_lock(&a->vsw_lock);
	rc = hl_vsw_sup_reconcile(a->vsw, &added, &removed);
	pthread_mutex_unlock(&a->vsw_lock);
	if (rc < 0)
		hl_log(HL_LOG_ERROR, "reconcile: vswitch ports: %s", strerror(-rc));
	else if (added || removed)
		hl_log(HL_LOG_INFO, "reconcile: vswitch: %zu ports added, %zu without a pod removed",
		       added, removed);
}

void hl_dev_vsw_numbers(struct agent *a, struct hl_vsw_numbers *n)
{
	memset(n, 0, sizeof(*n));
	n->enabled = a->cfg.vhost.enabled && !a->cfg.vhost.ovs && !a->cfg.vhost.external;
	if (!n->enabled)
		return;
	pthread_mutex_lock(&a->vsw_lock);
	n->pid = hl_vsw_sup_pid(a->vsw);
	n->restarts = hl_vsw_sup_restarts(a->vsw);
	n->adopted = hl_vsw_sup_adopted(a->vsw);
	pthread_mutex_unlock(&a->vsw_lock);
}

static void add_devinfo(cJSON *o, const char *json)
{
	cJSON *d = json ? cJSON_Parse(json) : NULL;

	if (d)
		cJSON_AddItemToObject(o, "deviceInfo", d);
}

void hl_dev_reply(const struct hl_pod *p, cJSON *o)
{
	char buf[512];
	cJSON *d;

	if (p->fastpath == HL_FP_VHOST_USER && (d = cJSON_AddObjectToObject(o, "vhostUser"))) {
		char *di = hl_vsw_devinfo_json(p->sock_path, HL_VSW_SWITCH_CLIENT);

		cJSON_AddStringToObject(d, "socketPath", p->sock_path);
		cJSON_AddStringToObject(d, "mode", "server");  /* the pod's role */
		cJSON_AddStringToObject(d, "port", p->port);
		add_devinfo(o, di);
		free(di);
	} else if (p->fastpath == HL_FP_VF && (d = cJSON_AddObjectToObject(o, "vf"))) {
		cJSON_AddStringToObject(d, "pciID", p->vf_pci);
		cJSON_AddStringToObject(d, "pfPciID", p->vf_pf_pci);
		cJSON_AddBoolToObject(d, "dpdk", p->vf_dpdk);
		if (!p->vf_dpdk) {
			cJSON_AddStringToObject(d, "ifname", p->ifname);
			cJSON_AddStringToObject(d, "mac", p->vf_mac);
			cJSON_AddNumberToObject(d, "mtu", p->vf_mtu);
		} else if (hl_vf_devinfo_json(p->vf_pci, p->vf_pf_pci, buf, sizeof(buf)) > 0) {
			add_devinfo(o, buf);
		}
	}
}

void hl_dev_status(struct agent *a, cJSON *o)
{
	const struct hl_vhost_cfg *v = &a->cfg.vhost;
	cJSON *d;

	if (v->enabled && (d = cJSON_AddObjectToObject(o, "vhostUser"))) {
		cJSON_AddStringToObject(d, "backend", v->ovs ? "ovs-dpdk" : v->external ? "external"
										   : "builtin");
		if (v->external) {
			hl_vsw_ext_status(a, d);
		} else {
			struct hl_vsw_numbers n;

			hl_dev_vsw_numbers(a, &n);
			cJSON_AddNumberToObject(d, "switchPid", (double)n.pid);
			cJSON_AddNumberToObject(d, "switchRestarts", (double)n.restarts);
			cJSON_AddBoolToObject(d, "switchAdopted", n.adopted);
		}
	}
	if (a->vf_pool && (d = cJSON_AddObjectToObject(o, "vf")))
		cJSON_AddNumberToObject(d, "vfs", (double)hl_vf_count(a->vf_pool));
}
