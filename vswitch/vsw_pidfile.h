/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Who the switch is: its pid file and the process facts the supervisor
 * checks before it adopts or stops a switch it did not start. Shared by the
 * switch (writes the pid file) and libhlvsw (reads it). Private to vswitch/.
 *
 * A process is named by (pid, start time): the start time is field 22 of
 * /proc/PID/stat (clock ticks since boot), which a recycled pid never
 * repeats. The pid file holds "PID START\n" and is locked (flock) by the
 * switch for as long as it runs, so two switches never share one.
 */
#ifndef VSW_PIDFILE_H
#define VSW_PIDFILE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/*
 * Parses the text of /proc/PID/stat: the state letter (field 3) and the
 * start time (field 22). The command name in parentheses may hold any byte
 * (a process names itself), so the fields are counted from the last ')'.
 * Return: 0 or -EINVAL.
 */
int vsw_stat_parse(const char *buf, size_t len, char *state, uint64_t *start);

/* The start time of a live process. 0, -ESRCH (no such process, or a zombie),
 * or -EIO (unreadable). */
int vsw_proc_start(pid_t pid, uint64_t *start);

/* 1 if @pid lives and started at @start, else 0. */
int vsw_proc_is(pid_t pid, uint64_t start);

/* 1 if the command line of @pid is exactly @argv (NULL-terminated), 0 if
 * not, -ESRCH if it is gone. */
int vsw_proc_cmdline_is(pid_t pid, char *const argv[]);

/* Parses "PID START\n". 0 or -EINVAL. */
int vsw_pidfile_parse(const char *buf, size_t len, pid_t *pid, uint64_t *start);

/* Reads a pid file. 0, -ENOENT (none), -EINVAL (garbled), other -errno. */
int vsw_pidfile_read(const char *path, pid_t *pid, uint64_t *start);

/*
 * Creates and locks @path and writes this process's "PID START" into it.
 * Return: the locked fd (keep it open while running), -EBUSY (another live
 * process holds it), or -errno.
 */
int vsw_pidfile_claim(const char *path);

/* Removes @path and drops the lock taken by vsw_pidfile_claim(). */
void vsw_pidfile_release(const char *path, int fd);

#endif
