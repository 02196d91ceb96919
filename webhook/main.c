/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hostlane-webhook: the mutating admission webhook that puts the LD_PRELOAD
 * layer into pods annotated hostlane.io/fastpath: shm (docs/kubernetes.md).
 * Flags, the settings in use (swapped under a lock when the agent's config
 * file changes), and the main loop: signals, and every 2 s a look whether
 * the certificate or the config changed (a Secret or ConfigMap volume is
 * updated by swapping a symlink: a new inode).
 */
#include "webhook.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "hl_util.h"

static pthread_rwlock_t settings_lock = PTHREAD_RWLOCK_INITIALIZER;
static struct wh_settings *current;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

const struct wh_settings *wh_settings_get(void)
{
	pthread_rwlock_rdlock(&settings_lock);
	return current;
}

void wh_settings_put(void)
{
	pthread_rwlock_unlock(&settings_lock);
}

void wh_log(const char *level, const char *fmt, ...)
{
	struct timespec ts;
	struct tm tm;
	char when[32];
	va_list ap;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	pthread_mutex_lock(&log_lock);
	fprintf(stderr, "%s.%03ldZ %-5s ", when, ts.tv_nsec / 1000000, level);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	pthread_mutex_unlock(&log_lock);
}

struct args {
	const char *listen, *cert, *key, *agent_config;
	const char *image, *pull_policy, *mount, *resource, *network;
	const char *default_quota, *max_quota;
};

static void usage(FILE *f)
{
	fputs("usage: hostlane-webhook --image REF --tls-cert FILE --tls-key FILE [options]\n"
	      "  --listen HOST:PORT    address to serve HTTPS on (default 0.0.0.0:8443;\n"
	      "                        [::]:8443 for IPv6; port 0 picks one, printed at start)\n"
	      "  --tls-cert FILE       PEM certificate (chain) of the Service name\n"
	      "  --tls-key FILE        its PEM key (both re-read when they change)\n"
	      "  --image REF           the hostlane image the init container runs\n"
	      "  --pull-policy P       its imagePullPolicy (default: none set)\n"
	      "  --mount PATH          where containers see the library (/opt/hostlane)\n"
	      "  --resource NAME       node resource the pod's quota is requested as\n"
	      "                        (hostlane.io/shm; \"\" for none)\n"
	      "  --network [NS/]NAME   also name this NetworkAttachmentDefinition in the pod's\n"
	      "                        k8s.v1.cni.cncf.io/networks (install mode secondary)\n"
	      "  --agent-config FILE   the agent's config: hugepages.defaultQuota, maxQuota,\n"
	      "                        namespaceQuota (re-read when it changes)\n"
	      "  --default-quota Q     without --agent-config (64Mi)\n"
	      "  --max-quota Q         without --agent-config (256Mi; 0: no bound)\n"
	      "  --version\n", f);
}

static int parse_args(int argc, char **argv, struct args *a)
{
	static const struct option lo[] = {
		{ "listen", required_argument, NULL, 'l' }, { "tls-cert", required_argument, NULL, 'c' },
		{ "tls-key", required_argument, NULL, 'k' }, { "image", required_argument, NULL, 'i' },
		{ "pull-policy", required_argument, NULL, 'p' }, { "mount", required_argument, NULL, 'm' },
		{ "resource", required_argument, NULL, 'r' }, { "agent-config", required_argument, NULL, 'a' },
		{ "network", required_argument, NULL, 'n' },
		{ "default-quota", required_argument, NULL, 'd' }, { "max-quota", required_argument, NULL, 'x' },
		{ "version", no_argument, NULL, 'V' }, { "help", no_argument, NULL, 'h' }, { 0 },
	};
	int ch;

	*a = (struct args){ .listen = "0.0.0.0:8443", .default_quota = "64Mi", .max_quota = "256Mi" };
	while ((ch = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (ch) {
		case 'l': a->listen = optarg; break;
		case 'c': a->cert = optarg; break;
		case 'k': a->key = optarg; break;
		case 'i': a->image = optarg; break;
		case 'p': a->pull_policy = optarg; break;
		case 'm': a->mount = optarg; break;
		case 'r': a->resource = optarg; break;
		case 'a': a->agent_config = optarg; break;
		case 'n': a->network = optarg; break;
		case 'd': a->default_quota = optarg; break;
		case 'x': a->max_quota = optarg; break;
		case 'V': printf("hostlane-webhook %s\n", WH_VERSION); exit(0);
		case 'h': usage(stdout); exit(0);
		default: return -EINVAL;
		}
	}
	if (optind != argc || !a->cert || !a->key || !a->image || !*a->image)
		return -EINVAL;
	return 0;
}

static int parse_listen(const char *s, struct sockaddr_storage *ss)
{
	struct sockaddr_in *v4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)ss;
	const char *colon = strrchr(s, ':');
	char host[64];
	long port;
	char *end;

	if (!colon || (size_t)(colon - s) >= sizeof(host))
		return -EINVAL;
	port = strtol(colon + 1, &end, 10);
	if (*end || colon[1] == '\0' || port < 0 || port > 65535)
		return -EINVAL;
	snprintf(host, sizeof(host), "%.*s", (int)(colon - s), s);
	memset(ss, 0, sizeof(*ss));
	if (host[0] == '[' && host[strlen(host) - 1] == ']') {
		host[strlen(host) - 1] = '\0';
		v6->sin6_family = AF_INET6;
		v6->sin6_port = htons((uint16_t)port);
		return inet_pton(AF_INET6, host + 1, &v6->sin6_addr) == 1 ? 0 : -EINVAL;
	}
	v4->sin_family = AF_INET;
	v4->sin_port = htons((uint16_t)port);
	return inet_pton(AF_INET, host, &v4->sin_addr) == 1 ? 0 : -EINVAL;
}

/* Builds settings from the flags and, when named, the agent's config. */
static struct wh_settings *settings_new(const struct args *a, char *err, size_t errlen)
{
	struct wh_settings *s = calloc(1, sizeof(*s));

	if (!s) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	snprintf(s->image, sizeof(s->image), "%s", a->image);
	snprintf(s->pull_policy, sizeof(s->pull_policy), "%s", a->pull_policy ? a->pull_policy : "");
	snprintf(s->mount, sizeof(s->mount), "%s", a->mount ? a->mount : HL_INJECT_MOUNT);
	snprintf(s->resource, sizeof(s->resource), "%s", a->resource ? a->resource : HL_INJECT_RESOURCE);
	snprintf(s->network, sizeof(s->network), "%s", a->network ? a->network : "");
	s->o.network = s->network;
	s->o.image = s->image;
	s->o.pull_policy = a->pull_policy ? s->pull_policy : NULL;
	s->o.mount = s->mount;
	s->o.resource = s->resource;
	if (hl_quantity_parse(a->default_quota, &s->o.default_quota) < 0 ||
	    hl_quantity_parse(a->max_quota, &s->o.max_quota) < 0) {
		snprintf(err, errlen, "--default-quota and --max-quota take quantities (64Mi)");
		free(s);
		return NULL;
	}
	if (s->mount[0] != '/') {
		snprintf(err, errlen, "--mount must be an absolute path");
		free(s);
		return NULL;
	}
	if (a->agent_config && wh_settings_load_quota(s, a->agent_config, err, errlen) < 0) {
		free(s);
		return NULL;
	}
	return s;
}

static void settings_swap(struct wh_settings *s)
{
	struct wh_settings *old;

	pthread_rwlock_wrlock(&settings_lock);
	old = current;
	current = s;
	pthread_rwlock_unlock(&settings_lock);
	free(old);
}

/* What identifies a file's content cheaply: a rewrite or a symlink swap changes it. */
struct stamp { dev_t dev; ino_t ino; off_t size; struct timespec mtime; };

static bool changed(const char *path, struct stamp *st)
{
	struct stamp now = { 0 };
	struct stat s;

	if (!path || stat(path, &s) < 0)
		return false;
	now = (struct stamp){ s.st_dev, s.st_ino, s.st_size, s.st_mtim };
	if (!memcmp(&now, st, sizeof(now)))
		return false;
	*st = now;
	return true;
}

static void watch(const struct args *a, struct wh_server *srv, int sfd)
{
	struct stamp cert = { 0 }, key = { 0 }, cfg = { 0 };
	struct pollfd p = { .fd = sfd, .events = POLLIN };
	char err[256];

	changed(a->cert, &cert);
	changed(a->key, &key);
	changed(a->agent_config, &cfg);
	for (;;) {
		int n = poll(&p, 1, 2000);

		if (n > 0) {
			struct signalfd_siginfo si;

			if (read(sfd, &si, sizeof(si)) == sizeof(si) && si.ssi_signo != SIGHUP)
				return;
		}
		/* Both halves of a rotation may land between two looks: read when either moved. */
		if ((changed(a->cert, &cert) | changed(a->key, &key)) || n > 0) {
			if (wh_server_reload(srv, a->cert, a->key) == 0)
				wh_log("info", "serving with the certificate in %s", a->cert);
			else
				wh_log("warn", "cannot load %s / %s; serving on with the old certificate",
				       a->cert, a->key);
		}
		if (changed(a->agent_config, &cfg) || (n > 0 && a->agent_config)) {
			struct wh_settings *s = settings_new(a, err, sizeof(err));

			if (s) {
				settings_swap(s);
				wh_log("info", "quotas from %s", a->agent_config);
			} else {
				wh_log("warn", "%s; the quotas in use stay", err);
			}
		}
	}
}

int main(int argc, char **argv)
{
	struct wh_stats stats = { 0 };
	struct sockaddr_storage addr;
	struct wh_server *srv;
	struct wh_settings *s;
	struct args a;
	char err[256];
	sigset_t set;
	int sfd;

	if (parse_args(argc, argv, &a) < 0) {
		usage(stderr);
		return 2;
	}
	if (parse_listen(a.listen, &addr) < 0) {
		fprintf(stderr, "hostlane-webhook: --listen %s: not HOST:PORT\n", a.listen);
		return 2;
	}
	s = settings_new(&a, err, sizeof(err));
	if (!s) {
		fprintf(stderr, "hostlane-webhook: %s\n", err);
		return 2;
	}
	settings_swap(s);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	/* Blocked before the server's threads start, so they inherit the mask. */
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	sfd = signalfd(-1, &set, SFD_CLOEXEC);
	srv = wh_server_start(&addr, a.cert, a.key, &stats);
	if (!srv || sfd < 0) {
		fprintf(stderr, "hostlane-webhook: cannot serve on %s: %s\n", a.listen,
			errno == EINVAL ? "unreadable certificate or key" : strerror(errno));
		return 1;
	}
	wh_log("info", "hostlane-webhook %s serving on port %u (image %s)", WH_VERSION, wh_server_port(srv),
	       a.image);
	watch(&a, srv, sfd);
	wh_log("info", "stopping");
	wh_server_stop(srv);
	close(sfd);
	settings_swap(NULL);
	return 0;
}
