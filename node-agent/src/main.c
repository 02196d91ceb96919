/* SPDX-License-Identifier: Apache-2.0 */
/* hostlaned: the node agent. Runs in the foreground until SIGTERM/SIGINT. */
#include "daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "monitor.h"
#include "shmq.h"
#include "hlk8s.h"
#include "netpol.h"

static void reload(struct agent *a)
{
	struct hl_config nc;
	char err[512];
	uint64_t held = 0, pool;
	int rc = hl_config_build(&nc, a->argc, a->argv, err, sizeof(err));

	if (rc != 0) {
		atomic_fetch_add(&a->m.reload_errors, 1);
		hl_log(HL_LOG_ERROR, "SIGHUP: config not reloaded, keeping the running one: %s", err);
		return;
	}
	if (strcmp(nc.socket, a->cfg.socket) || strcmp(nc.state_dir, a->cfg.state_dir) ||
	    strcmp(nc.run_dir, a->cfg.run_dir) || strcmp(nc.metrics_addr, a->cfg.metrics_addr) ||
	    strcmp(nc.kubeconfig, a->cfg.kubeconfig) || nc.workers != a->cfg.workers)
		hl_log(HL_LOG_WARN, "SIGHUP: socket, stateDir, runDir, metricsAddr, kubeconfig and workers "
		       "change only on restart");
	if (memcmp(&nc.vhost, &a->cfg.vhost, sizeof(nc.vhost)) || nc.vf.enabled != a->cfg.vf.enabled ||
	    nc.vf.n_pfs != a->cfg.vf.n_pfs || strcmp(nc.vf.sysfs_root, a->cfg.vf.sysfs_root))
		hl_log(HL_LOG_WARN, "SIGHUP: the vhostUser and vf sections change only on restart");
	pthread_mutex_lock(&a->cfg_lock);
	a->cfg.fastpath = nc.fastpath;
	a->cfg.default_quota = nc.default_quota;
	memcpy(a->cfg.ns_quota, nc.ns_quota, sizeof(nc.ns_quota));
	a->cfg.n_ns_quota = nc.n_ns_quota;
	memcpy(a->cfg.node_resource, nc.node_resource, sizeof(nc.node_resource));
	a->cfg.max_quota = nc.max_quota;
	a->cfg.k8s_timeout_ms = nc.k8s_timeout_ms;
	a->cfg.log_format = nc.log_format;
	a->cfg.log_level = nc.log_level;
	a->cfg.pool_bytes = nc.pool_bytes;
	a->cfg.overcommit = nc.overcommit;
	pthread_mutex_unlock(&a->cfg_lock);
	/* On the loop thread: the monitor's pool goes with it. What the
	 * regions hold is not free any more but is still the pool's. */
	if (a->ep_node)
		hl_mon_get_usage(a->ep_node, NULL, &held);
	pool = hl_pool_size(&nc, held);
	if (a->ep_node)
		hl_mon_set_pool(a->ep_node, pool);
	pthread_mutex_lock(&a->lock);
	a->pool_bytes = pool;
	pthread_mutex_unlock(&a->lock);
	hl_log_setup(nc.log_format, nc.log_level);
	hl_noderes_kick(a);
	atomic_fetch_add(&a->m.reloads, 1);
	hl_log(HL_LOG_INFO, "SIGHUP: config reloaded (fastpath %s, default quota %llu, pool %llu, "
	       "overcommit %u)", hl_fastpath_name(nc.fastpath), (unsigned long long)nc.default_quota,
	       (unsigned long long)pool, nc.overcommit);
}

static void on_signal(struct hl_loop *loop, int fd, uint32_t events, void *arg)
{
	struct signalfd_siginfo si;
	struct agent *a = arg;

	(void)events;
	while (read(fd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGHUP) {
			reload(a);
		} else {
			hl_log(HL_LOG_INFO, "signal %u: stopping (pod state is kept)", si.ssi_signo);
			atomic_store(&a->ready, false);
			hl_loop_stop(loop);
		}
	}
}

static void *k8s_main(void *arg)
{
	struct agent *a = arg;
	int rc = hlk8s_watch_run(a->k8s, a->k8s_stop_fd);

	if (rc < 0)
		hl_log(HL_LOG_WARN, "kubernetes watch ended: %s", strerror(-rc));
	return NULL;
}

static int start_k8s(struct agent *a)
{
	struct hlk8s_opts o = {
		.kubeconfig = a->cfg.kubeconfig[0] ? a->cfg.kubeconfig : NULL,
		.node_name = a->cfg.node_name, .sa_dir = a->cfg.sa_dir,
		.get_timeout_ms = a->cfg.k8s_timeout_ms, .log = hl_log_cb,
	};
	int rc;

	if (!a->cfg.kubeconfig[0] && !getenv("KUBERNETES_SERVICE_HOST")) {
		hl_log(HL_LOG_INFO, "no kubeconfig and not in a cluster: annotations are not read");
		return 0;
	}
	a->k8s = hlk8s_client_new(&o);
	if (!a->k8s) {
		rc = -errno;

		/* The reason the client gave is in the log just before. */
		snprintf(a->k8s_error, sizeof(a->k8s_error), "client not created: %s (%.180s)",
			 strerror(-rc), a->cfg.kubeconfig[0] ? a->cfg.kubeconfig : "in-cluster config");
		hl_log(HL_LOG_ERROR, "kubernetes %s", a->k8s_error);
		/* Fail closed: policies may exist that cannot be read. */
		if (!a->cfg.netpol_off)
			hl_mon_policy_enforce(a->ep_node, true);
		return rc;
	}
	a->k8s_stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (a->k8s_stop_fd < 0)
		return -ENOMEM;
	/* Before the pod watch starts: it hooks the pod informer. */
	rc = hl_kube_start(a);
	if (rc < 0)
		hl_log(HL_LOG_ERROR, "kubernetes: Services are not followed: %s", strerror(-rc));
	/* Before the pod watch runs: it calls the policy code's handler. A
	 * failure leaves enforcement on with no table: nothing is admitted. */
	rc = hl_netpol_start(a);
	if (rc < 0)
		hl_log(HL_LOG_ERROR, "networkpolicy: %s: no fast-path connection will be admitted",
		       strerror(-rc));
	if (pthread_create(&a->k8s_tid, NULL, k8s_main, a) != 0)
		return -ENOMEM;
	a->k8s_running = true;
	if (!rc && (rc = hl_netpol_run(a)) < 0)
		hl_log(HL_LOG_ERROR, "networkpolicy: %s", strerror(-rc));
	hl_log(HL_LOG_INFO, "kubernetes client: watching pods on node %s", a->cfg.node_name);
	return 0;
}

static void stop_k8s(struct agent *a)
{
	uint64_t one = 1;

	if (a->k8s_running) {
		if (write(a->k8s_stop_fd, &one, sizeof(one)) < 0)
			hl_log(HL_LOG_ERROR, "k8s stop: %s", strerror(errno));
		pthread_join(a->k8s_tid, NULL);
	}
	hl_netpol_stop(a);
	hl_kube_stop(a);
	hlk8s_client_free(a->k8s);
	a->k8s = NULL;
	if (a->k8s_stop_fd >= 0)
		close(a->k8s_stop_fd);
	a->k8s_stop_fd = -1;
}

/*
 * The monitor reads and writes memory pods share (rings, control blocks):
 * a pod that punches a hole in it makes the monitor's next access fault a
 * page in from the agent's own hugetlb allowance, which a pod can fill
 * first: SIGBUS. A fault in a region is contained (the page replaced, the
 * region marked broken: shmq_fault_contain); any other is a bug and kills
 * as before.
 */
static void on_sigbus(int sig, siginfo_t *si, void *ctx)
{
	(void)ctx;
	if (shmq_fault_contain(si->si_addr) > 0)
		return;
	signal(sig, SIG_DFL);  /* the access faults again, and kills */
}

static int setup_sigbus(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_sigbus;
	sa.sa_flags = SA_SIGINFO | SA_NODEFER;
	return sigaction(SIGBUS, &sa, NULL) < 0 ? -errno : 0;
}

static int setup_signals(struct agent *a)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGPIPE);
	if (setup_sigbus() < 0)
		return -errno;
	/* Blocked before any thread starts, so every thread inherits the mask. */
	if (pthread_sigmask(SIG_BLOCK, &set, NULL) != 0)
		return -EINVAL;
	sigdelset(&set, SIGPIPE);
	a->sig_fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (a->sig_fd < 0)
		return -errno;
	return hl_loop_add(a->loop, a->sig_fd, EPOLLIN, on_signal, a);
}

static int setup_loop(struct agent *a)
{
	int rc;

	a->loop = hl_loop_new();
	if (!a->loop)
		return -errno;
	a->loop_tid = pthread_self();
	a->task_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (a->task_fd < 0)
		return -errno;
	rc = hl_loop_add(a->loop, a->task_fd, EPOLLIN, hl_on_tasks, a);
	if (rc < 0)
		return rc;
	return setup_signals(a);
}

static int setup_endpoints(struct agent *a)
{
	struct hl_mon_opts o = {
		.loop = a->loop, .pool_bytes = a->pool_bytes, .log = hl_log_syslog_cb,
		.limits = { .clients = a->cfg.pod_clients, .fds = a->cfg.pod_fds,
			    .regions = a->cfg.pod_regions, .events = a->cfg.pod_events },
	};

	a->ep_node = hl_mon_new(&o);
	if (!a->ep_node)
		return -errno;
	/* a requested engine that cannot be had stops the start: never a
	 * silent fallback */
	return hl_cp_start(a);
}

/* @started: the agent ran (stopped by a signal), not a failed start. */
static void teardown(struct agent *a, bool started)
{
	if (a->loop)
		hl_server_stop(a);
	hl_noderes_stop(a);
	stop_k8s(a);
	if (a->loop)
		hl_metrics_close(a);
	/* Regions stay whole: preloaded processes keep their connections. */
	hl_mon_stop(a->ep_node);
	hl_release_all_runtime(a);
	hl_dev_stop(a, started);
	hl_mon_free(a->ep_node);
	if (a->sig_fd >= 0) {
		hl_loop_del(a->loop, a->sig_fd);
		close(a->sig_fd);
	}
	if (a->task_fd >= 0) {
		hl_loop_del(a->loop, a->task_fd);
		close(a->task_fd);
	}
	hl_loop_free(a->loop);
	pthread_mutex_destroy(&a->lock);
	pthread_cond_destroy(&a->cond);
	pthread_mutex_destroy(&a->task_lock);
	pthread_cond_destroy(&a->task_cond);
	pthread_mutex_destroy(&a->cfg_lock);
	pthread_mutex_destroy(&a->vsw_lock);
}

/* Every pod costs the agent fds (its endpoint, its processes, its regions):
 * take all the fds the hard limit allows. */
static void raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
			hl_log(HL_LOG_WARN, "cannot raise the fd limit: %s", strerror(errno));
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
		hl_log(HL_LOG_INFO, "fd limit %llu", (unsigned long long)rl.rlim_cur);
}

static int start(struct agent *a)
{
	int rc;

	raise_nofile();
	if ((rc = hl_state_init(a->cfg.state_dir)) < 0) {
		hl_log(HL_LOG_ERROR, "state dir %s: %s", a->cfg.state_dir, strerror(-rc));
		return rc;
	}
	a->pool_bytes = hl_pool_size(&a->cfg, 0);
	if ((rc = setup_loop(a)) < 0 || (rc = setup_endpoints(a)) < 0) {
		hl_log(HL_LOG_ERROR, "setup: %s", strerror(-rc));
		return rc;
	}
	/* Devices before reconcile: persisted vhost-user ports go to the switch. */
	if ((rc = hl_dev_start(a)) < 0) {
		hl_log(HL_LOG_ERROR, "fast path devices: %s", strerror(-rc));
		return rc;
	}
	/* Again now that a switch of ours (same cgroup) holds its pages. */
	a->pool_bytes = hl_pool_size(&a->cfg, 0);
	hl_mon_set_pool(a->ep_node, a->pool_bytes);
	if ((rc = hl_reconcile(a)) < 0) {
		hl_log(HL_LOG_ERROR, "reconcile %s: %s", a->cfg.state_dir, strerror(-rc));
		return rc;
	}
	hl_dev_restored(a);
	if (a->cfg.metrics_addr[0] && (rc = hl_metrics_listen(a, a->cfg.metrics_addr)) < 0) {
		hl_log(HL_LOG_ERROR, "metrics on %s: %s", a->cfg.metrics_addr, strerror(-rc));
		return rc;
	}
	start_k8s(a);   /* no API server is not fatal: ADD falls back */
	if (hl_noderes_start(a) < 0)
		hl_log(HL_LOG_WARN, "the node's shm capacity is not published: out of memory");
	atomic_store(&a->ready, true);
	if ((rc = hl_server_start(a)) < 0) {
		atomic_store(&a->ready, false);
		hl_log(HL_LOG_ERROR, "socket %s: %s", a->cfg.socket, strerror(-rc));
		return rc;
	}
	hl_log(HL_LOG_INFO, "hostlaned %s ready on %s (node %s, %u workers, pool %llu bytes%s, "
	       "overcommit %u, %zu pods)", HL_AGENT_VERSION, a->cfg.socket, a->cfg.node_name,
	       a->n_workers, (unsigned long long)a->pool_bytes,
	       a->cfg.pool_bytes ? "" : " (the 2 MiB hugepages free)", a->cfg.overcommit, a->n_pods);
	return 0;
}

int main(int argc, char **argv)
{
	static struct agent ag;
	struct agent *a = &ag;
	char err[512];
	int rc;

	a->argc = argc;
	a->argv = argv;
	a->listen_fd = a->stop_fd = a->task_fd = a->sig_fd = a->k8s_stop_fd = -1;
	a->started = (int64_t)time(NULL);
	pthread_mutex_init(&a->lock, NULL);
	pthread_cond_init(&a->cond, NULL);
	pthread_mutex_init(&a->task_lock, NULL);
	pthread_cond_init(&a->task_cond, NULL);
	pthread_mutex_init(&a->cfg_lock, NULL);
	pthread_mutex_init(&a->vsw_lock, NULL);
	a->vsw_fd = -1;
	rc = hl_config_build(&a->cfg, argc, argv, err, sizeof(err));
	if (rc != 0) {
		if (rc < 0)
			fprintf(stderr, "hostlaned: %s\n", err);
		return rc < 0 ? 2 : 0;
	}
	if (a->cfg.check_only) {
		printf("hostlaned: config %s is valid\n", a->cfg.config_file[0] ? a->cfg.config_file : "(none)");
		return 0;
	}
	hl_log_setup(a->cfg.log_format, a->cfg.log_level);
	a->crash_at = getenv("HOSTLANE_CRASH_AT");
	if (a->crash_at && *a->crash_at)
		hl_log(HL_LOG_WARN, "fault injection armed: HOSTLANE_CRASH_AT=%s", a->crash_at);
	rc = start(a);
	hl_loop_set_busy_poll(a->loop, a->cfg.busy_poll_us * 1000);
	if (rc == 0)
		rc = hl_loop_run(a->loop);
	teardown(a, rc == 0);
	hl_log(HL_LOG_INFO, "hostlaned stopped");
	return rc < 0 ? 1 : 0;
}
