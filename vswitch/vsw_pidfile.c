/* SPDX-License-Identifier: Apache-2.0 */
/* The switch's pid file and the /proc facts about a process (vsw_pidfile.h). */
#include "vsw_pidfile.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define CMDLINE_MAX 8192
#define STAT_START_FIELD 19  /* field 22 counted from field 3, the state */

/* Reads a small file whole; returns its length or -errno. */
static ssize_t read_small(const char *path, char *buf, size_t cap)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t have = 0;
	ssize_t n;

	if (fd < 0)
		return -errno;
	while (have < cap) {
		n = read(fd, buf + have, cap - have);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			n = -errno;
			close(fd);
			return n;
		}
		if (n == 0)
			break;
		have += (size_t)n;
	}
	close(fd);
	return (ssize_t)have;
}

static int parse_u64(const char *p, const char *end, uint64_t *v)
{
	uint64_t x = 0;

	if (p == end)
		return -EINVAL;
	for (; p < end; p++) {
		if (*p < '0' || *p > '9' || x > (UINT64_MAX - 9) / 10)
			return -EINVAL;
		x = x * 10 + (uint64_t)(*p - '0');
	}
	*v = x;
	return 0;
}

int vsw_stat_parse(const char *buf, size_t len, char *state, uint64_t *start)
{
	const char *p = NULL, *end = buf + len;
	int field = 0;

	for (size_t i = len; i > 0; i--) {
		if (buf[i - 1] == ')') {
			p = buf + i;
			break;
		}
	}
	if (!p)
		return -EINVAL;
	while (p < end) {
		const char *t;

		while (p < end && *p == ' ')
			p++;
		t = p;
		while (p < end && *p != ' ' && *p != '\n')
			p++;
		if (t == p)
			break;
		if (field == 0) {
			if (p - t != 1)
				return -EINVAL;
			*state = *t;
		} else if (field == STAT_START_FIELD) {
			return parse_u64(t, p, start);
		}
		field++;
		if (p < end && *p == '\n')
			break;
	}
	return -EINVAL;
}

int vsw_proc_start(pid_t pid, uint64_t *start)
{
	char path[64], buf[1024], state = 0;
	ssize_t n;

	if (pid <= 0)
		return -ESRCH;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	n = read_small(path, buf, sizeof(buf));
	if (n == -ENOENT || n == -ESRCH)
		return -ESRCH;
	if (n < 0 || vsw_stat_parse(buf, (size_t)n, &state, start) < 0)
		return -EIO;
	/* A zombie (or a dying task) no longer runs anything: gone for us. */
	return state == 'Z' || state == 'X' || state == 'x' ? -ESRCH : 0;
}

int vsw_proc_is(pid_t pid, uint64_t start)
{
	uint64_t now;

	return vsw_proc_start(pid, &now) == 0 && now == start;
}

int vsw_proc_cmdline_is(pid_t pid, char *const argv[])
{
	char path[64];
	char *buf = malloc(CMDLINE_MAX);
	size_t off = 0;
	ssize_t n;
	int same = 1;

	if (!buf)
		return -ENOMEM;
	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	n = read_small(path, buf, CMDLINE_MAX);
	if (n < 0) {
		free(buf);
		return n == -ENOENT ? -ESRCH : (int)n;
	}
	for (size_t i = 0; argv[i] && same; i++) {
		size_t l = strlen(argv[i]) + 1;  /* with its NUL */
		same = off + l <= (size_t)n && memcmp(buf + off, argv[i], l) == 0;
		off += l;
	}
	free(buf);
	return same && off == (size_t)n;
}

int vsw_pidfile_parse(const char *buf, size_t len, pid_t *pid, uint64_t *start)
{
	const char *end = buf + len, *sp = memchr(buf, ' ', len), *nl;
	uint64_t p;

	if (!sp)
		return -EINVAL;
	nl = memchr(sp, '\n', (size_t)(end - sp));
	if (!nl || nl + 1 != end)
		return -EINVAL;
	if (parse_u64(buf, sp, &p) < 0 || p == 0 || p > INT32_MAX ||
	    parse_u64(sp + 1, nl, start) < 0)
		return -EINVAL;
	*pid = (pid_t)p;
	return 0;
}

int vsw_pidfile_read(const char *path, pid_t *pid, uint64_t *start)
{
	char buf[64];
	ssize_t n = read_small(path, buf, sizeof(buf));

	if (n < 0)
		return (int)n;
	return vsw_pidfile_parse(buf, (size_t)n, pid, start);
}

static int write_self(int fd)
{
	char buf[64];
	uint64_t start;
	int n, rc = vsw_proc_start(getpid(), &start);

	if (rc < 0)
		return rc;
	n = snprintf(buf, sizeof(buf), "%d %" PRIu64 "\n", (int)getpid(), start);
	if (ftruncate(fd, 0) < 0 || pwrite(fd, buf, (size_t)n, 0) != n)
		return -errno;
	return 0;
}

int vsw_pidfile_claim(const char *path)
{
	for (int tries = 0; tries < 10; tries++) {
		int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
		struct stat a, b;
		int rc;

		if (fd < 0)
			return -errno;
		if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
			rc = errno == EWOULDBLOCK ? -EBUSY : -errno;
			close(fd);
			return rc;
		}
		/* The last holder may have removed the file between our open
		 * and our lock: a lock on a file nobody can find guards
		 * nothing, so open the path again. */
		if (fstat(fd, &a) == 0 && stat(path, &b) == 0 && a.st_dev == b.st_dev &&
		    a.st_ino == b.st_ino) {
			rc = write_self(fd);
			if (rc == 0)
				return fd;
			vsw_pidfile_release(path, fd);
			return rc;
		}
		close(fd);
	}
	return -EAGAIN;
}

void vsw_pidfile_release(const char *path, int fd)
{
	if (fd < 0)
		return;
	unlink(path);  /* under the lock: the next switch finds no stale file */
	close(fd);
}
