/* SPDX-License-Identifier: Apache-2.0 */
/* hostlane-install: the DaemonSet's init container (one pass), its keeper
 * container (--watch: the pass again whenever the CNI dirs change, e.g. the
 * primary CNI rewrote its conflist without our entry), and the uninstall. */
#include "hli.h"
#include "hlk8s.h"

#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

struct opts {
	const char *config, *mode, *node, *kubeconfig, *pod_cidr;
	struct hli_paths p;
	const char *copy_src, *copy_dst;
	bool watch, wait, force, check;
	int interval_s;
};

static void usage(FILE *f)
{
	fputs("usage: hostlane-install [options]\n"
	      "  --mode M            secondary | chain | standalone | uninstall\n"
	      "                      (default: install.json's mode, else secondary)\n"
	      "  --config FILE       install.json (mode, chainEntry, standalone)\n"
	      "  --cni-bin-dir DIR   the node's CNI bin dir (/host/opt/cni/bin)\n"
	      "  --cni-conf-dir DIR  the node's CNI config dir (/host/etc/cni/net.d)\n"
	      "  --plugin FILE       the plugin to install (/usr/lib/cni/hostlane)\n"
	      "  --pod-cidr CIDR     standalone: the node's pod CIDR (default: the\n"
	      "                      node's spec.podCIDR from the API server)\n"
	      "  --node-name NAME    the node (default $NODE_NAME)\n"
	      "  --kubeconfig FILE   API credentials (default: in-cluster)\n"
	      "  --run-dir DIR       uninstall: the agent's run dir (/host/run/hostlane)\n"
	      "  --state-dir DIR     uninstall: the agent's state dir (/host/var/lib/hostlane)\n"
	      "  --cache-dir DIR     the plugin's attachment cache (/host/var/lib/cni/hostlane)\n"
	      "  --ipam-dir DIR      uninstall: host-local's data dir (/host/var/lib/cni/networks)\n"
	      "  --force             uninstall: remove the binary even with pods attached\n"
	      "  --watch             after the pass, redo it whenever the CNI dirs change\n"
	      "                      and every --interval seconds (10), until SIGTERM\n"
	      "  --wait              after the pass, wait for SIGTERM\n"
	      "  --check             parse the config, say what is wrong, exit\n"
	      "  --copy SRC DST      only copy file SRC to DST atomically (e.g.\n"
	      "                      libhostlane.so into a pod's emptyDir)\n", f);
}

static int parse_args(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{ "mode", required_argument, NULL, 'm' },
		{ "config", required_argument, NULL, 'c' },
		{ "cni-bin-dir", required_argument, NULL, 'b' },
		{ "cni-conf-dir", required_argument, NULL, 'C' },
		{ "plugin", required_argument, NULL, 'p' },
		{ "pod-cidr", required_argument, NULL, 'P' },
		{ "node-name", required_argument, NULL, 'n' },
		{ "kubeconfig", required_argument, NULL, 'k' },
		{ "run-dir", required_argument, NULL, 'r' },
		{ "state-dir", required_argument, NULL, 's' },
		{ "cache-dir", required_argument, NULL, 'a' },
		{ "ipam-dir", required_argument, NULL, 'i' },
		{ "interval", required_argument, NULL, 'I' },
		{ "force", no_argument, NULL, 'f' },
		{ "watch", no_argument, NULL, 'w' },
		{ "wait", no_argument, NULL, 'W' },
		{ "check", no_argument, NULL, 'K' },
		{ "copy", required_argument, NULL, 'y' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int ch;

	*o = (struct opts){
		.node = getenv("NODE_NAME"),
		.interval_s = 10,
		.p = { .bin_dir = "/host/opt/cni/bin", .conf_dir = "/host/etc/cni/net.d",
		       .plugin = "/usr/lib/cni/hostlane", .run_dir = "/host/run/hostlane",
		       .state_dir = "/host/var/lib/hostlane", .cache_dir = "/host/var/lib/cni/hostlane",
		       .ipam_dir = "/host/var/lib/cni/networks" },
	};
	while ((ch = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (ch) {
		case 'm': o->mode = optarg; break;
		case 'c': o->config = optarg; break;
		case 'b': o->p.bin_dir = optarg; break;
		case 'C': o->p.conf_dir = optarg; break;
		case 'p': o->p.plugin = optarg; break;
		case 'P': o->pod_cidr = optarg; break;
		case 'n': o->node = optarg; break;
		case 'k': o->kubeconfig = optarg; break;
		case 'r': o->p.run_dir = optarg; break;
		case 's': o->p.state_dir = optarg; break;
		case 'a': o->p.cache_dir = optarg; break;
		case 'i': o->p.ipam_dir = optarg; break;
		case 'I': o->interval_s = atoi(optarg); break;
		case 'f': o->force = true; break;
		case 'w': o->watch = true; break;
		case 'W': o->wait = true; break;
		case 'K': o->check = true; break;
		case 'y': o->copy_src = optarg; break;
		case 'h': usage(stdout); exit(0);
		default: return -EINVAL;
		}
	}
	if (o->copy_src && optind < argc)
		o->copy_dst = argv[optind++];
	if (optind != argc || o->interval_s < 1 || (o->watch && o->wait) ||
	    (o->copy_src && !o->copy_dst))
		return -EINVAL;
	return 0;
}

static int load_config(const struct opts *o, struct hli_config *c)
{
	char err[256] = "", *buf = NULL;
	size_t len = 0;
	int rc;

	if (o->config && (rc = hli_read_file(o->config, 1u << 20, &buf, &len)) < 0) {
		hli_log("%s: %s", o->config, strerror(-rc));
		return rc;
	}
	rc = hli_config_parse(buf, len, c, err, sizeof(err));
	free(buf);
	if (rc < 0) {
		hli_log("%s: %s", o->config ? o->config : "config", err[0] ? err : strerror(-rc));
		return rc;
	}
	if (o->mode) {
		int m = hli_mode_parse(o->mode);

		if (m < 0) {
			hli_log("--mode %s: unknown (secondary, chain, standalone, uninstall)", o->mode);
			return -EINVAL;
		}
		c->mode = (enum hli_mode)m;
	}
	return 0;
}

static void k8s_log(void *arg, int level, const char *msg)
{
	(void)arg;
	if (level <= HLK8S_LOG_WARN)
		hli_log("%s", msg);
}

/* Standalone: the subnet is the node's own pod CIDR, never a fixed one. */
static int pod_cidr(const struct opts *o, struct hli_config *c)
{
	struct hlk8s_opts ko = { .kubeconfig = o->kubeconfig, .log = k8s_log };
	struct hlk8s_client *k;
	int rc;

	if (o->pod_cidr) {
		snprintf(c->pod_cidr, sizeof(c->pod_cidr), "%s", o->pod_cidr);
		return 0;
	}
	if (!o->node || !*o->node) {
		hli_log("standalone: give --pod-cidr, or --node-name (or $NODE_NAME) to read spec.podCIDR");
		return -EINVAL;
	}
	k = hlk8s_client_new(&ko);
	if (!k)
		return -errno;
	rc = hlk8s_node_pod_cidr(k, o->node, c->pod_cidr, sizeof(c->pod_cidr));
	hlk8s_client_free(k);
	if (rc == -ENOENT)
		hli_log("standalone: node %s has no spec.podCIDR (is the controller manager run with "
			"--allocate-node-cidrs?)", o->node);
	else if (rc < 0)
		hli_log("standalone: GET node %s: %s", o->node, strerror(-rc));
	else
		hli_log("node %s: pod CIDR %s", o->node, c->pod_cidr);
	return rc;
}

static int pass(const struct hli_config *c, const struct opts *o)
{
	struct hli_report r;
	int rc = hli_run(c, &o->p, o->force, &r);

	if (rc < 0)
		hli_log("%s: %s", hli_mode_name(c->mode), strerror(-rc));
	else if (r.written || r.removed)
		hli_log("%s: %d written, %d removed%s", hli_mode_name(c->mode), r.written, r.removed,
			r.kept_bin ? " (binary kept: pods attached)" : "");
	return rc;
}

static int signal_fd(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return -errno;
	return signalfd(-1, &set, SFD_CLOEXEC);
}

/* Re-runs the pass on every change in the CNI dirs (coalesced over 200 ms)
 * and every interval, until SIGTERM. On SIGTERM nothing is removed: a
 * rolling update must not take the chained entry out from under the node;
 * uninstalling is its own mode. */
static int watch(const struct hli_config *c, const struct opts *o, int sfd)
{
	uint32_t mask = IN_CREATE | IN_DELETE | IN_MOVED_TO | IN_MOVED_FROM | IN_CLOSE_WRITE |
			IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF;
	int ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	char buf[4096];

	if (ifd < 0)
		return -errno;
	for (;;) {
		struct pollfd pf[2] = { { .fd = sfd, .events = POLLIN }, { .fd = ifd, .events = POLLIN } };
		int n;

		/* (Re-)arm: a dir that was deleted and recreated gets a new watch. */
		if (inotify_add_watch(ifd, o->p.conf_dir, mask) < 0 ||
		    inotify_add_watch(ifd, o->p.bin_dir, mask) < 0)
			hli_log("watch %s, %s: %s", o->p.conf_dir, o->p.bin_dir, strerror(errno));
		n = poll(pf, 2, o->interval_s * 1000);
		if (n < 0 && errno != EINTR)
			break;
		if (n > 0 && pf[0].revents)
			break;
		if (n > 0 && pf[1].revents) {
			/* Let the writer finish its burst, then look once. */
			while (poll(&pf[1], 1, 200) > 0 && read(ifd, buf, sizeof(buf)) > 0)
				;
		}
		pass(c, o);
	}
	close(ifd);
	hli_log("stopping; the installed files stay");
	return 0;
}

int main(int argc, char **argv)
{
	struct hli_config c = { 0 };
	struct opts o;
	int rc, sfd = -1;

	if (parse_args(argc, argv, &o) < 0) {
		usage(stderr);
		return 2;
	}
	if (o.copy_src) {
		rc = hli_install_file(o.copy_src, o.copy_dst, 0755);
		if (rc < 0)
			hli_log("copy %s -> %s: %s", o.copy_src, o.copy_dst, strerror(-rc));
		return rc < 0 ? 1 : 0;
	}
	rc = load_config(&o, &c);
	if (o.check) {
		if (rc == 0)
			printf("hostlane-install: %s is valid (mode %s)\n", o.config ? o.config : "config",
			       hli_mode_name(c.mode));
		hli_config_free(&c);
		return rc < 0 ? 1 : 0;
	}
	if (rc == 0 && c.mode == HLI_STANDALONE)
		rc = pod_cidr(&o, &c);
	if (rc == 0 && c.mode != HLI_UNINSTALL) {
		/* The config dir may not exist before any CNI is installed. */
		if (mkdir(o.p.conf_dir, 0755) < 0 && errno != EEXIST)
			rc = -errno;
	}
	if (rc == 0 && (o.watch || o.wait)) {
		sfd = signal_fd();
		if (sfd < 0) {
			rc = sfd;
			hli_log("signalfd: %s", strerror(-rc));
		}
	}
	if (rc >= 0)
		rc = pass(&c, &o);
	if (rc >= 0 && o.watch && c.mode != HLI_UNINSTALL)
		rc = watch(&c, &o, sfd);
	else if (rc >= 0 && (o.wait || o.watch)) {
		struct signalfd_siginfo si;

		hli_log("done; waiting for SIGTERM");
		while (read(sfd, &si, sizeof(si)) < 0 && errno == EINTR)
			;
	}
	if (sfd >= 0)
		close(sfd);
	hli_config_free(&c);
	return rc < 0 ? 1 : 0;
}
