/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The supervisor's state, shared by its three files: vsw_supervisor.c (the
 * process: spawn, exit, back-off, stop), vsw_adopt.c (finding and checking a
 * switch an earlier supervisor left running) and vsw_sup_ports.c (the port
 * registry and reconciliation). Private to vswitch/.
 */
#ifndef VSW_SUP_H
#define VSW_SUP_H

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include "vsw_backoff.h"
#include "vsw_client.h"

#define VSW_STOP_GRACE_MS 5000

struct vsw_sup_port {
	char name[HL_VSW_NAME_MAX];
	char path[HL_VSW_PATH_MAX];
	enum hl_vsw_mode mode;
};

struct hl_vsw_sup {
	char **argv;
	char ctl[HL_VSW_PATH_MAX];
	char pidfile[PATH_MAX];     /* "": never adopt */
	void (*log)(void *arg, int level, const char *msg);
	void *log_arg;

	/* The running switch; pid 0 when there is none. */
	pid_t pid;
	uint64_t pid_start;         /* its /proc start time */
	int pidfd;                  /* -1: none (not running, or no pidfd_open) */
	bool child;                 /* spawned by us: reaped with waitpid() */
	bool adopted;
	uint64_t up_ms;             /* monotonic ms when it answered */

	/* A restart waiting for its back-off. */
	bool pending;
	uint64_t due_ms;
	struct vsw_backoff backoff;
	unsigned restarts;

	struct vsw_sup_port *ports;
	size_t nports, cap;
};

/* Log through the caller's callback (level 0 error, 1 warning, 2 info). */
void vsw_sup_log(const struct hl_vsw_sup *s, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
uint64_t vsw_now_ms(void);
void vsw_sleep_ms(int ms);

/* vsw_adopt.c: takes over the switch of the pid file if it is ours (0), or
 * stops whatever switch of ours is in the way and returns -ESRCH. */
int vsw_sup_adopt(struct hl_vsw_sup *s, int timeout_ms);
/* Stops a process that is not our child, named by (pid, start): SIGTERM,
 * SIGKILL after the grace; returns once it is gone. @pidfd: one already
 * open for it, or -1. Never signals a process with another start time. */
void vsw_sup_stop_pid(const struct hl_vsw_sup *s, pid_t pid, uint64_t start,
		      int pidfd);

/* vsw_sup_ports.c: create every registered port in the switch behind @c
 * (existing identical ports are kept). Returns the first non-transport
 * error, or 0. */
int vsw_sup_replay(struct hl_vsw_sup *s, struct hl_vsw_client *c);

/* Errors that say "the switch is not there right now", not "no". */
static inline bool vsw_transport_error(int rc)
{
	return rc == -ENOENT || rc == -ECONNREFUSED || rc == -ECONNRESET ||
	       rc == -EPIPE || rc == -ETIMEDOUT;
}

#endif
