/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Finding the switch an earlier supervisor left running (its agent crashed)
 * and deciding whether to adopt it, and stopping a switch that is not our
 * child. A process is only ever signalled when it is named by (pid, start
 * time) and the start time still matches, so a recycled pid is never hit.
 */
#include "vsw_sup.h"
#include "vsw_pidfile.h"

#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define ASK_STEP_MS 20

static int pidfd_open_(pid_t pid)
{
	return (int)syscall(SYS_pidfd_open, pid, 0);
}

/* 1 once the process is gone, waiting up to @ms. */
static int wait_gone(int pidfd, pid_t pid, uint64_t start, int ms)
{
	struct pollfd p = { .fd = pidfd, .events = POLLIN };

	if (pidfd >= 0) {
		int n;

		do
			n = poll(&p, 1, ms);
		while (n < 0 && errno == EINTR);
		return n != 0;
	}
	for (int waited = 0; waited < ms; waited += 10) {
		if (!vsw_proc_is(pid, start))
			return 1;
		vsw_sleep_ms(10);
	}
	return !vsw_proc_is(pid, start);
}

static void signal_it(int pidfd, pid_t pid, uint64_t start, int sig)
{
	/* A pidfd names one process for good: no pid-reuse race at all. */
	if (pidfd >= 0 && syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0) == 0)
		return;
	if (vsw_proc_is(pid, start))
		kill(pid, sig);
}

void vsw_sup_stop_pid(const struct hl_vsw_sup *s, pid_t pid, uint64_t start,
		      int pidfd)
{
	int fd = pidfd;

	if (fd < 0)
		fd = pidfd_open_(pid);
	/* The fd may name a newer process with the same pid: check after. */
	if (vsw_proc_is(pid, start)) {
		signal_it(fd, pid, start, SIGTERM);
		if (!wait_gone(fd, pid, start, VSW_STOP_GRACE_MS)) {
			vsw_sup_log(s, 1, "vswitch (pid %d) ignored SIGTERM: SIGKILL", (int)pid);
			signal_it(fd, pid, start, SIGKILL);
			wait_gone(fd, pid, start, 60000);
		}
	}
	if (fd >= 0 && fd != pidfd)
		close(fd);
}

/* Asks whoever serves our control socket who it is. While the pid-file
 * process (@pid, @start) lives it may still be starting: wait for it up to
 * @timeout_ms; without one (pid 0) ask once. 0 with @in filled, -ESRCH
 * (that process ended), or the last transport error. */
static int ask(const struct hl_vsw_sup *s, pid_t pid, uint64_t start, int timeout_ms,
	       struct hl_vsw_info *in)
{
	for (int waited = 0;; waited += ASK_STEP_MS) {
		struct hl_vsw_client *c = hl_vsw_client_open(s->ctl, 1000);
		int rc = c ? hl_vsw_get_info(c, in) : -errno;

		hl_vsw_client_close(c);
		if (rc == 0 || !pid)
			return rc;
		if (!vsw_proc_is(pid, start))
			return -ESRCH;
		if (waited >= timeout_ms)
			return rc;
		vsw_sleep_ms(ASK_STEP_MS);
	}
}

/* The answer is self-consistent and names our control socket: the kernel's
 * peer pid is the pid it claims, alive with the start time it claims. */
static bool claims_our_ctl(const struct hl_vsw_sup *s, const struct hl_vsw_info *in)
{
	return in->pid == in->peer_pid && !strcmp(in->ctl, s->ctl) &&
	       vsw_proc_is(in->pid, in->start_time);
}

static int take(struct hl_vsw_sup *s, pid_t pid, uint64_t start)
{
	int fd = pidfd_open_(pid);

	if (fd < 0 && errno != ENOSYS)
		return -errno;
	if (!vsw_proc_is(pid, start)) {
		if (fd >= 0)
			close(fd);
		return -ESRCH;
	}
	s->pid = pid;
	s->pid_start = start;
	s->pidfd = fd;
	s->child = false;
	s->adopted = true;
	return 0;
}

int vsw_sup_adopt(struct hl_vsw_sup *s, int timeout_ms)
{
	struct hl_vsw_info in = { 0 };
	pid_t pid = 0;
	uint64_t start = 0;
	bool answered;
	int rc;

	if (!s->pidfile[0])
		return -ESRCH;
	rc = vsw_pidfile_read(s->pidfile, &pid, &start);
	if (rc < 0 && rc != -ENOENT)
		vsw_sup_log(s, 1, "vswitch pid file %s: %s (ignored)", s->pidfile, strerror(-rc));
	if (rc < 0 || !vsw_proc_is(pid, start))
		pid = 0;  /* none, or its process is gone (its pid may be reused) */
	answered = ask(s, pid, start, timeout_ms, &in) == 0 && claims_our_ctl(s, &in);
	if (pid && answered && in.pid == pid && in.start_time == start) {
		rc = vsw_proc_cmdline_is(pid, s->argv);
		if (rc == 1 && take(s, pid, start) == 0)
			return 0;
		if (rc == 0)
			vsw_sup_log(s, 1, "vswitch (pid %d) runs with another command line: replacing it",
				    (int)pid);
	} else if (pid) {
		vsw_sup_log(s, 1, "vswitch (pid %d) of %s does not answer on %s: stopping it",
			    (int)pid, s->pidfile, s->ctl);
	}
	if (pid)
		vsw_sup_stop_pid(s, pid, start, -1);
	/* A switch on our socket that our pid file does not name (started
	 * without it, or the file was removed) would go on polling forever. */
	if (answered && in.pid != pid) {
		vsw_sup_log(s, 1, "vswitch (pid %d) serves %s without our pid file: stopping it",
			    (int)in.pid, s->ctl);
		vsw_sup_stop_pid(s, in.pid, in.start_time, -1);
	}
	return -ESRCH;
}
