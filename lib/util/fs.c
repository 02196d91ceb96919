/* SPDX-License-Identifier: Apache-2.0 */
/* File-system helpers (hl_util.h). */
#include "hl_util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/statfs.h>
#include <sys/stat.h>
#include <unistd.h>

static int mkdir_one(const char *path, mode_t mode)
{
	if (mkdir(path, mode) == 0)
		return 0;
	if (errno != EEXIST)
		return -errno;
	/* Something is there: it must be a directory. */
	struct stat st;

	if (stat(path, &st) < 0)
		return -errno;
	return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
}

int hl_mkdir_p(const char *path, mode_t mode)
{
	char buf[PATH_MAX];
	size_t len = strlen(path);
	int rc;

	if (!len)
		return -EINVAL;
	if (len >= sizeof(buf))
		return -ENAMETOOLONG;
	memcpy(buf, path, len + 1);
	while (len > 1 && buf[len - 1] == '/')
		buf[--len] = '\0';
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		rc = mkdir_one(buf, 0755);
		*p = '/';
		if (rc)
			return rc;
	}
	return mkdir_one(buf, mode);
}

int hl_mkdir_parent(const char *path)
{
	char dir[PATH_MAX];
	char *slash;

	if (snprintf(dir, sizeof(dir), "%s", path) >= (int)sizeof(dir))
		return -ENAMETOOLONG;
	slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return 0;
	*slash = '\0';
	return hl_mkdir_p(dir, 0755);
}

int hl_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t w = write(fd, p, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

int hl_fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc = 0;

	if (fd < 0)
		return -errno;
	if (fsync(fd) < 0)
		rc = -errno;
	close(fd);
	return rc;
}

int hl_write_atomic(const char *path, const void *buf, size_t len, mode_t mode,
		    void (*before_rename)(void))
{
	char tmp[PATH_MAX], dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	int fd, rc;

	/* A hidden name in the same directory: rename() must not cross file
	 * systems, and directory scanners (the runtime's conflist loader)
	 * skip dot files. The thread id keeps concurrent writers apart. */
	if (slash)
		rc = snprintf(tmp, sizeof(tmp), "%.*s/.%s.%d.tmp", (int)(slash - path), path,
			      slash + 1, (int)gettid());
	else
		rc = snprintf(tmp, sizeof(tmp), ".%s.%d.tmp", path, (int)gettid());
	if (rc < 0 || (size_t)rc >= sizeof(tmp))
		return -ENAMETOOLONG;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
	if (fd < 0)
		return -errno;
	rc = hl_write_all(fd, buf, len);
	if (!rc && fchmod(fd, mode) < 0)  /* the umask does not apply */
		rc = -errno;
	if (!rc && fsync(fd) < 0)
		rc = -errno;
	if (close(fd) < 0 && !rc)
		rc = -errno;
	if (!rc && before_rename)
		before_rename();
	if (!rc && rename(tmp, path) < 0)
		rc = -errno;
	if (rc) {
		unlink(tmp);
		return rc;
	}
	if (!slash)
		return hl_fsync_dir(".");
	snprintf(dir, sizeof(dir), "%.*s", slash == path ? 1 : (int)(slash - path), path);
	return hl_fsync_dir(dir);
}

int hl_lock_fd(int fd)
{
	while (flock(fd, LOCK_EX) < 0)
		if (errno != EINTR)
			return -errno;
	return 0;
}

int hl_lock_path(const char *path)
{
	struct stat st;
	int fd, rc;

	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
		fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	else
		fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -errno;
	rc = hl_lock_fd(fd);
	if (rc) {
		close(fd);
		return rc;
	}
	return fd;
}

#ifndef NSFS_MAGIC
#define NSFS_MAGIC 0x6e736673
#endif

int hl_netns_open(const char *path)
{
	struct stat st, fst;
	struct statfs sf;
	int fd, type;

	if (!path || !*path)
		return -EINVAL;
	if (strlen(path) >= PATH_MAX)
		return -ENAMETOOLONG;
	if (stat(path, &st) < 0)
		return -errno;
	/* Devices can act on open; FIFOs wait in it. nsfs files are plain. */
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &fst) < 0 || fstatfs(fd, &sf) < 0 || fst.st_dev != st.st_dev ||
	    fst.st_ino != st.st_ino || (unsigned long)sf.f_type != NSFS_MAGIC) {
		close(fd);
		return -EINVAL;
	}
	/* And a network namespace, not another kind. */
	type = ioctl(fd, NS_GET_NSTYPE);
	if (type >= 0 && type != CLONE_NEWNET) {
		close(fd);
		return -EINVAL;
	}
	return fd;
}
