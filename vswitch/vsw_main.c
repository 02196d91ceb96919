/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hostlane-vswitch start-up and end: options, signals, the pid file, EAL.
 *
 *   hostlane-vswitch [EAL options] -- --ctl PATH [--pidfile PATH]
 *       [--mbufs N] [--idle-max-us N] [--mac-age-s N]
 *
 * Exit status: 0 after SIGTERM/SIGINT (ports detached, memory and control
 * socket released, pid file removed), 1 start-up failure, 2 usage, 3 another
 * live switch holds the pid file.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>

#include "vsw_main.h"
#include "vsw_pidfile.h"

static void usage(void)
{
	fprintf(stderr,
		"usage: hostlane-vswitch [EAL options] -- --ctl PATH [--pidfile PATH]\n"
		"         [--mbufs N (8191)] [--idle-max-us N (1000; 0: never sleep)]\n"
		"         [--mac-age-s N (300)]\n");
}

static int parse_uint(const char *s, unsigned *v)
{
	char *end;
	unsigned long x;

	errno = 0;
	x = strtoul(s, &end, 10);
	if (errno || *end || !*s || *s == '-' || x > 100000000UL)
		return -1;
	*v = (unsigned)x;
	return 0;
}

/* One option: "--key value" or "--key=value"; returns args used or -1. */
static int parse_one(int argc, char **argv, struct vsw_opts *o)
{
	const char *a = argv[0], *eq = strchr(a, '='), *val;
	size_t klen = eq ? (size_t)(eq - a) : strlen(a);
	int used = eq ? 1 : 2;

	if (!eq && argc < 2)
		return -1;
	val = eq ? eq + 1 : argv[1];
#define KEY(k) (klen == strlen(k) && !strncmp(a, k, klen))
	if (KEY("--ctl"))
		o->ctl = val;
	else if (KEY("--pidfile"))
		o->pidfile = val;
	else if (KEY("--mbufs"))
		return parse_uint(val, &o->mbufs) || o->mbufs < 512 ? -1 : used;
	else if (KEY("--idle-max-us"))
		return parse_uint(val, &o->idle_max_us) || o->idle_max_us > 100000 ? -1 : used;
	else if (KEY("--mac-age-s"))
		return parse_uint(val, &o->mac_age_s) || !o->mac_age_s ? -1 : used;
	else
		return -1;
#undef KEY
	return *val ? used : -1;
}

/* Our options follow the first "--". Read by hand, not with getopt: EAL
 * runs getopt on the same argv afterwards and its state is global. */
static int parse_opts(int argc, char **argv, struct vsw_opts *o)
{
	int k = 1;

	*o = (struct vsw_opts){ .mbufs = 8191, .idle_max_us = 1000, .mac_age_s = 300 };
	while (k < argc && strcmp(argv[k], "--"))
		k++;
	for (k++; k < argc;) {
		int used = parse_one(argc - k, argv + k, o);
		if (used < 0)
			return -1;
		k += used;
	}
	return o->ctl ? 0 : -1;
}

static void on_signal(int sig)
{
	(void)sig;
	vsw_stop();
}

/* Whoever started us may have blocked or ignored these (a blocked mask
 * survives exec): a switch that cannot be stopped by SIGTERM leaks its
 * memory to the SIGKILL that follows. EAL's threads inherit this mask. */
static void setup_signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal };
	sigset_t set;

	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = SIG_IGN;  /* a peer gone mid-write is an error, not death */
	sigaction(SIGPIPE, &sa, NULL);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
}

static int claim(const char *pidfile)
{
	pid_t pid = 0;
	uint64_t start;
	int fd = vsw_pidfile_claim(pidfile);

	if (fd == -EBUSY) {
		vsw_pidfile_read(pidfile, &pid, &start);
		fprintf(stderr, "vswitch: %s is held by a running switch (pid %d)\n", pidfile,
			(int)pid);
	} else if (fd < 0) {
		fprintf(stderr, "vswitch: pid file %s: %s\n", pidfile, strerror(-fd));
	}
	return fd;
}

/* With --in-memory, EAL's runtime directory holds only the telemetry socket
 * (unlinked at exit, after we return) and nothing else: remove both, so no
 * directory per switch start piles up. Other modes keep files there: then
 * the directory is not empty and stays. */
static void remove_rundir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	struct stat st;

	if (!d)
		return;
	while ((e = readdir(d))) {
		if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISSOCK(st.st_mode))
			unlinkat(dirfd(d), e->d_name, 0);
	}
	closedir(d);
	if (rmdir(dir) < 0 && errno != ENOENT && errno != ENOTEMPTY)
		fprintf(stderr, "vswitch: %s: %s\n", dir, strerror(errno));
}

int main(int argc, char **argv)
{
	char rundir[PATH_MAX] = "";
	struct vsw_opts o;
	int pidfd = -1, rc;

	/* Before EAL: a usage error or a second switch for one pid file
	 * must not take hugepages first. */
	if (parse_opts(argc, argv, &o) < 0) {
		usage();
		return 2;
	}
	setup_signals();
	if (vsw_proc_start(getpid(), &o.start_time) < 0) {
		fprintf(stderr, "vswitch: cannot read /proc/self/stat\n");
		return 1;
	}
	if (o.pidfile && (pidfd = claim(o.pidfile)) < 0)
		return pidfd == -EBUSY ? 3 : 1;
	if (rte_eal_init(argc, argv) < 0) {
		fprintf(stderr, "vswitch: EAL init failed: %s\n", rte_strerror(rte_errno));
		vsw_pidfile_release(o.pidfile, pidfd);
		return 1;
	}
	snprintf(rundir, sizeof(rundir), "%s", rte_eal_get_runtime_dir());
	rc = vsw_run(&o);
	rte_eal_cleanup();
	if (rundir[0])
		remove_rundir(rundir);
	vsw_pidfile_release(o.pidfile, pidfd);
	if (rc == 0)
		fprintf(stderr, "vswitch: pid %d stopped\n", (int)getpid());
	return rc;
}
