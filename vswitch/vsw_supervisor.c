/* SPDX-License-Identifier: Apache-2.0 */
/* Supervisor of the switch process: spawn, pidfd, restart, port replay.
 * Owns no thread and no loop: the agent polls hl_vsw_sup_fd(). */
#include "vsw_client.h"
#include "vsw_proto.h"

#include <errno.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define EXPORT __attribute__((visibility("default")))
#define STOP_GRACE_MS 5000

extern char **environ;

struct sup_port {
	char name[HL_VSW_NAME_MAX];
	char path[HL_VSW_PATH_MAX];
	enum hl_vsw_mode mode;
};

struct hl_vsw_sup {
	char **argv;
	char ctl[HL_VSW_PATH_MAX];
	pid_t pid;
	int pidfd;
	unsigned restarts;
	unsigned starts;
	struct sup_port *ports;
	size_t nports, cap;
};

static void free_argv(char **argv)
{
	if (!argv)
		return;
	for (char **a = argv; *a; a++)
		free(*a);
	free(argv);
}

EXPORT struct hl_vsw_sup *hl_vsw_sup_new(char *const argv[],
					 const char *ctl_path)
{
	struct hl_vsw_sup *s;
	size_t n = 0;

	if (!argv || !argv[0] || !ctl_path ||
	    strlen(ctl_path) >= HL_VSW_PATH_MAX) {
		errno = EINVAL;
		return NULL;
	}
	while (argv[n])
		n++;
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->pidfd = -1;
	s->argv = calloc(n + 1, sizeof(char *));
	if (!s->argv)
		goto nomem;
	for (size_t i = 0; i < n; i++) {
		s->argv[i] = strdup(argv[i]);
		if (!s->argv[i])
			goto nomem;
	}
	memcpy(s->ctl, ctl_path, strlen(ctl_path) + 1);
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

EXPORT unsigned hl_vsw_sup_restarts(const struct hl_vsw_sup *s)
{
	return s ? s->restarts : 0;
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* Reaps the child if it has exited; returns 1 if it has. */
static int reap(struct hl_vsw_sup *s, int block)
{
	int st;
	pid_t r;

	if (!s->pid)
		return 1;
	do
		r = waitpid(s->pid, &st, block ? 0 : WNOHANG);
	while (r < 0 && errno == EINTR);
	if (r == 0)
		return 0;
	s->pid = 0;
	if (s->pidfd >= 0)
		close(s->pidfd);
	s->pidfd = -1;
	return 1;
}

static void kill_child(struct hl_vsw_sup *s)
{
	if (!s->pid)
		return;
	kill(s->pid, SIGTERM);
	for (int waited = 0; waited < STOP_GRACE_MS; waited += 10) {
		if (reap(s, 0))
			return;
		sleep_ms(10);
	}
	kill(s->pid, SIGKILL);
	reap(s, 1);
}

static int replay_ports(struct hl_vsw_sup *s, struct hl_vsw_client *c)
{
	int first = 0;

	for (size_t i = 0; i < s->nports; i++) {
		int rc = hl_vsw_add_port(c, s->ports[i].name, s->ports[i].path,
					 s->ports[i].mode);
		if (rc < 0 && rc != -EEXIST && !first)
			first = rc;
	}
	return first;
}

EXPORT int hl_vsw_sup_start(struct hl_vsw_sup *s, int timeout_ms)
{
	struct hl_vsw_client *c = NULL;
	int rc, waited = 0;

	if (!s)
		return -EINVAL;
	if (s->pid)
		return -EALREADY;
	rc = posix_spawn(&s->pid, s->argv[0], NULL, NULL, s->argv, environ);
	if (rc) {
		s->pid = 0;
		return -rc;
	}
	s->pidfd = (int)syscall(SYS_pidfd_open, s->pid, 0);
	/* Kernels before 5.3 (and valgrind) lack pidfd_open: then the agent
	 * has no fd to poll and calls hl_vsw_sup_handle_event() on a timer. */
	if (s->pidfd < 0 && errno != ENOSYS) {
		rc = -errno;
		kill_child(s);
		return rc;
	}
	if (s->starts++)
		s->restarts++;
	for (;;) {
		c = hl_vsw_client_open(s->ctl, 1000);
		if (c && hl_vsw_ping(c) == 0)
			break;
		hl_vsw_client_close(c);
		c = NULL;
		if (reap(s, 0))
			return -ECHILD;
		if (waited >= timeout_ms) {
			kill_child(s);
			return -ETIMEDOUT;
		}
		sleep_ms(20);
		waited += 20;
	}
	rc = replay_ports(s, c);
	hl_vsw_client_close(c);
	return rc;
}

EXPORT int hl_vsw_sup_handle_event(struct hl_vsw_sup *s, int timeout_ms)
{
	if (!s)
		return -EINVAL;
	if (!s->pid || !reap(s, 0))
		return 0;
	return hl_vsw_sup_start(s, timeout_ms);
}

static ssize_t find_port(const struct hl_vsw_sup *s, const char *name)
{
	for (size_t i = 0; i < s->nports; i++) {
		if (!strcmp(s->ports[i].name, name))
			return (ssize_t)i;
	}
	return -1;
}

static int with_client(struct hl_vsw_sup *s, const struct sup_port *p, int add)
{
	struct hl_vsw_client *c = hl_vsw_client_open(s->ctl, 0);
	int rc;

	if (!c)
		return -errno;
	rc = add ? hl_vsw_add_port(c, p->name, p->path, p->mode)
		 : hl_vsw_del_port(c, p->name);
	hl_vsw_client_close(c);
	return rc;
}

/* Errors that say "the switch is not there right now", not "no". */
static int transport_error(int rc)
{
	return rc == -ENOENT || rc == -ECONNREFUSED || rc == -ECONNRESET ||
	       rc == -EPIPE || rc == -ETIMEDOUT;
}

EXPORT int hl_vsw_sup_add_port(struct hl_vsw_sup *s, const char *name,
			       const char *path, enum hl_vsw_mode mode)
{
	struct sup_port p = { .mode = mode };
	int rc;

	if (!s || !name || !path || !vsw_name_ok(name) || !vsw_path_ok(path))
		return -EINVAL;
	if (find_port(s, name) >= 0)
		return -EEXIST;
	memcpy(p.name, name, strlen(name) + 1);
	memcpy(p.path, path, strlen(path) + 1);
	rc = with_client(s, &p, 1);
	if (rc < 0 && !transport_error(rc))
		return rc;
	if (s->nports == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 16;
		struct sup_port *np = realloc(s->ports, cap * sizeof(*np));
		if (!np)
			return -ENOMEM;
		s->ports = np;
		s->cap = cap;
	}
	s->ports[s->nports++] = p;
	return 0;
}

EXPORT int hl_vsw_sup_del_port(struct hl_vsw_sup *s, const char *name)
{
	ssize_t i;
	int rc;

	if (!s || !name)
		return -EINVAL;
	i = find_port(s, name);
	if (i < 0)
		return -ENOENT;
	rc = with_client(s, &s->ports[i], 0);
	s->ports[i] = s->ports[--s->nports];
	/* Gone from the switch or the switch is gone: either way forgotten. */
	return rc == -ENOENT || transport_error(rc) ? 0 : rc;
}

EXPORT void hl_vsw_sup_free(struct hl_vsw_sup *s)
{
	if (!s)
		return;
	kill_child(s);
	free_argv(s->argv);
	free(s->ports);
	free(s);
}
