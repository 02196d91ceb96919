/* SPDX-License-Identifier: Apache-2.0 */
/* Supervisor of the switch process: adopt or spawn, notice the exit through a
 * pidfd, restart after a back-off, stop. Owns no thread and no loop: the
 * caller polls hl_vsw_sup_fd() and arms a timer from hl_vsw_sup_next_ms(). */
#include "vsw_sup.h"
#include "vsw_pidfile.h"

#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define EXPORT __attribute__((visibility("default")))
#define POLL_MS 1000   /* liveness polling when there is no pidfd */
#define WAIT_STEP_MS 20

extern char **environ;

void vsw_sup_log(const struct hl_vsw_sup *s, int level, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (!s->log)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	s->log(s->log_arg, level, msg);
}

uint64_t vsw_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void vsw_sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static void free_argv(char **argv)
{
	if (!argv)
		return;
	for (char **a = argv; *a; a++)
		free(*a);
	free(argv);
}

static int copy_path(char *dst, size_t cap, const char *src)
{
	if (strlen(src) >= cap)
		return -1;
	memcpy(dst, src, strlen(src) + 1);
	return 0;
}

EXPORT struct hl_vsw_sup *hl_vsw_sup_new(const struct hl_vsw_sup_opts *o)
{
	struct hl_vsw_sup *s;
	size_t n = 0;

	if (!o || !o->argv || !o->argv[0] || !o->ctl_path) {
		errno = EINVAL;
		return NULL;
	}
	while (o->argv[n])
		n++;
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->pidfd = -1;
	if (copy_path(s->ctl, sizeof(s->ctl), o->ctl_path) < 0 ||
	    (o->pidfile && copy_path(s->pidfile, sizeof(s->pidfile), o->pidfile) < 0)) {
		free(s);
		errno = EINVAL;
		return NULL;
	}
	s->log = o->log;
	s->log_arg = o->log_arg;
	vsw_backoff_init(&s->backoff, o->backoff_base_ms, o->backoff_cap_ms, o->healthy_ms);
	s->argv = calloc(n + 1, sizeof(char *));
	if (!s->argv)
		goto nomem;
	for (size_t i = 0; i < n; i++) {
		s->argv[i] = strdup(o->argv[i]);
		if (!s->argv[i])
			goto nomem;
	}
	return s;
nomem:
	free_argv(s->argv);
	free(s);
	errno = ENOMEM;
	return NULL;
}

EXPORT int hl_vsw_sup_fd(const struct hl_vsw_sup *s)
{
	return s ? s->pidfd : -1;
}

EXPORT pid_t hl_vsw_sup_pid(const struct hl_vsw_sup *s)
{
	return s ? s->pid : 0;
}

EXPORT int hl_vsw_sup_adopted(const struct hl_vsw_sup *s)
{
	return s && s->pid && s->adopted;
}

EXPORT unsigned hl_vsw_sup_restarts(const struct hl_vsw_sup *s)
{
	return s ? s->restarts : 0;
}

EXPORT int hl_vsw_sup_next_ms(const struct hl_vsw_sup *s)
{
	uint64_t now;

	if (!s)
		return -1;
	if (s->pending) {
		now = vsw_now_ms();
		if (now >= s->due_ms)
			return 0;
		return s->due_ms - now > INT_MAX ? INT_MAX : (int)(s->due_ms - now);
	}
	return s->pid && s->pidfd < 0 ? POLL_MS : -1;
}

static void forget(struct hl_vsw_sup *s)
{
	if (s->pidfd >= 0)
		close(s->pidfd);
	s->pidfd = -1;
	s->pid = 0;
	s->child = false;
	s->adopted = false;
}

static void log_status(const struct hl_vsw_sup *s, pid_t pid, int st, bool stopping)
{
	int level = stopping ? 2 : 1;

	if (WIFEXITED(st))
		vsw_sup_log(s, level, "vswitch (pid %d) exited with status %d", (int)pid,
			    WEXITSTATUS(st));
	else if (WIFSIGNALED(st))
		vsw_sup_log(s, level, "vswitch (pid %d) killed by signal %d", (int)pid,
			    WTERMSIG(st));
}

/* Notices the switch's end; returns 1 (and forgets it) if it has ended.
 * @stopping: we asked it to end (logged as such). */
static int exited(struct hl_vsw_sup *s, int block, bool stopping)
{
	struct pollfd p = { .fd = s->pidfd, .events = POLLIN };
	pid_t pid = s->pid;
	int st;
	pid_t r;

	if (!pid)
		return 1;
	if (s->child) {
		do
			r = waitpid(pid, &st, block ? 0 : WNOHANG);
		while (r < 0 && errno == EINTR);
		if (r == 0)
			return 0;
		if (r == pid)
			log_status(s, pid, st, stopping);
	} else {
		/* Not our child: init reaps it; we only learn that it ended. */
		if (s->pidfd >= 0 ? poll(&p, 1, 0) == 0 : vsw_proc_is(pid, s->pid_start))
			return 0;
		vsw_sup_log(s, stopping ? 2 : 1, "vswitch (pid %d) ended", (int)pid);
	}
	forget(s);
	return 1;
}

/* After an exit or a failed start: the next start waits out the back-off. */
static void schedule(struct hl_vsw_sup *s, uint64_t ran_ms)
{
	uint32_t d = vsw_backoff_next(&s->backoff, ran_ms);

	s->pending = true;
	s->due_ms = vsw_now_ms() + d;
	vsw_sup_log(s, 1, "vswitch restart in %u ms (after %u restarts)", d, s->restarts);
}

static void stop_child(struct hl_vsw_sup *s)
{
	kill(s->pid, SIGTERM);
	for (int waited = 0; waited < VSW_STOP_GRACE_MS; waited += 10) {
		if (exited(s, 0, true))
			return;
		vsw_sleep_ms(10);
	}
	vsw_sup_log(s, 1, "vswitch (pid %d) ignored SIGTERM: SIGKILL", (int)s->pid);
	kill(s->pid, SIGKILL);
	exited(s, 1, true);
}

static void stop(struct hl_vsw_sup *s)
{
	if (!s->pid)
		return;
	if (s->child) {
		stop_child(s);
		return;
	}
	vsw_sup_stop_pid(s, s->pid, s->pid_start, s->pidfd);
	forget(s);
}

/* Its own session (an agent's terminal or process group is not its fate),
 * default dispositions and an empty mask (the agent blocks SIGTERM and
 * SIGINT for its signalfd, and a blocked mask survives exec), and no fd but
 * 0-2: the switch outlives its agent and must keep nothing of it open (an
 * fd some library made without O_CLOEXEC included). */
static int spawn(struct hl_vsw_sup *s)
{
	static const int sigs[] = { SIGTERM, SIGINT, SIGHUP, SIGPIPE, SIGQUIT,
				    SIGUSR1, SIGUSR2, SIGCHLD };
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t none, def;
	pid_t pid;
	int rc;

	sigemptyset(&none);
	sigemptyset(&def);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaddset(&def, sigs[i]);
	rc = posix_spawn_file_actions_init(&fa);
	if (rc)
		return -rc;
	rc = posix_spawnattr_init(&at);
	if (rc) {
		posix_spawn_file_actions_destroy(&fa);
		return -rc;
	}
	rc = posix_spawn_file_actions_addclosefrom_np(&fa, 3);
	if (!rc)
		rc = posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF |
						   POSIX_SPAWN_SETSID);
	if (!rc)
		rc = posix_spawnattr_setsigmask(&at, &none);
	if (!rc)
		rc = posix_spawnattr_setsigdefault(&at, &def);
	if (!rc)
		rc = posix_spawn(&pid, s->argv[0], &fa, &at, s->argv, environ);
	posix_spawnattr_destroy(&at);
	posix_spawn_file_actions_destroy(&fa);
	if (rc)
		return -rc;
	s->pid = pid;
	s->child = true;
	s->adopted = false;
	if (vsw_proc_start(pid, &s->pid_start) < 0)
		s->pid_start = 0;
	s->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	/* Kernels before 5.3 (and valgrind) lack pidfd_open: then the caller
	 * polls on hl_vsw_sup_next_ms()'s period instead. */
	if (s->pidfd < 0 && errno != ENOSYS) {
		rc = -errno;
		stop(s);
		return rc;
	}
	return 0;
}

/* Waits until our child answers as itself: a switch of someone else on the
 * same socket (it could not take the pid file, and exits) does not count. */
static int wait_up(struct hl_vsw_sup *s, int timeout_ms, struct hl_vsw_client **out)
{
	struct hl_vsw_info in = { 0 };

	for (int waited = 0;; waited += WAIT_STEP_MS) {
		struct hl_vsw_client *c = hl_vsw_client_open(s->ctl, 1000);

		if (c && hl_vsw_get_info(c, &in) == 0 && in.pid == s->pid &&
		    in.peer_pid == s->pid) {
			*out = c;
			return 0;
		}
		hl_vsw_client_close(c);
		if (exited(s, 0, false))
			return -ECHILD;
		if (waited >= timeout_ms) {
			stop(s);
			return -ETIMEDOUT;
		}
		vsw_sleep_ms(WAIT_STEP_MS);
	}
}

static int spawn_and_wait(struct hl_vsw_sup *s, int timeout_ms)
{
	struct hl_vsw_client *c = NULL;
	int rc = spawn(s);

	if (rc == 0)
		rc = wait_up(s, timeout_ms, &c);
	if (rc < 0)
		return rc;
	s->up_ms = vsw_now_ms();
	rc = vsw_sup_replay(s, c);
	hl_vsw_client_close(c);
	return rc;
}

EXPORT int hl_vsw_sup_start(struct hl_vsw_sup *s, int timeout_ms)
{
	struct hl_vsw_client *c;
	int rc;

	if (!s)
		return -EINVAL;
	if (s->pid)
		return -EALREADY;
	s->pending = false;
	if (vsw_sup_adopt(s, timeout_ms) == 0) {
		s->up_ms = vsw_now_ms();
		c = hl_vsw_client_open(s->ctl, 0);
		rc = c ? vsw_sup_replay(s, c) : -errno;
		hl_vsw_client_close(c);
		return rc;
	}
	rc = spawn_and_wait(s, timeout_ms);
	if (rc < 0 && !s->pid) {
		vsw_sup_log(s, 0, "vswitch %s: start failed: %s", s->argv[0], strerror(-rc));
		schedule(s, 0);
	}
	return rc;
}

EXPORT int hl_vsw_sup_handle_event(struct hl_vsw_sup *s, int timeout_ms)
{
	int rc;

	if (!s)
		return -EINVAL;
	if (s->pid) {
		uint64_t up = s->up_ms;

		if (!exited(s, 0, false))
			return 0;
		schedule(s, up ? vsw_now_ms() - up : 0);
	}
	if (!s->pending || vsw_now_ms() < s->due_ms)
		return 0;
	s->restarts++;
	rc = hl_vsw_sup_start(s, timeout_ms);
	if (rc == 0)
		vsw_sup_log(s, 1, "vswitch restarted (pid %d, restart %u), %zu ports re-created",
			    (int)s->pid, s->restarts, s->nports);
	return rc;
}

static void release(struct hl_vsw_sup *s)
{
	if (s->pidfd >= 0)
		close(s->pidfd);
	free_argv(s->argv);
	free(s->ports);
	free(s);
}

EXPORT void hl_vsw_sup_free(struct hl_vsw_sup *s)
{
	if (!s)
		return;
	stop(s);
	release(s);
}

EXPORT void hl_vsw_sup_leave(struct hl_vsw_sup *s)
{
	if (!s)
		return;
	if (s->pid)
		vsw_sup_log(s, 2, "vswitch (pid %d) left running", (int)s->pid);
	release(s);
}
