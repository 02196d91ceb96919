/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hl_util.h — small file-system helpers shared by the plugin, the agent and
 * the VF code (libhlutil.a): directories, whole writes, files replaced
 * atomically, exclusive locks.
 *
 * Conventions: int functions return 0 (or an fd) or -errno; they keep no
 * state and are thread-safe. Paths longer than PATH_MAX give -ENAMETOOLONG.
 */
#ifndef HOSTLANE_UTIL_H
#define HOSTLANE_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/**
 * hl_mkdir_p() - create @path and its missing parents.
 * @path: the directory.
 * @mode: mode of @path itself if it is created; parents get 0755.
 *
 * Return: 0 (also when it exists already), -ENAMETOOLONG, -EINVAL (empty
 * path), or the -errno of mkdir (e.g. -EACCES, -ENOTDIR).
 */
int hl_mkdir_p(const char *path, mode_t mode);

/**
 * hl_mkdir_parent() - create the parent directories of file @path (0755).
 * Return: as hl_mkdir_p(); 0 when @path has no directory part.
 */
int hl_mkdir_parent(const char *path);

/**
 * hl_write_all() - write all @len bytes of @buf to @fd, retrying on EINTR
 * and short writes.
 * Return: 0 or the -errno of write (-EAGAIN on a full non-blocking fd).
 */
int hl_write_all(int fd, const void *buf, size_t len);

/**
 * hl_fsync_dir() - make the entries of directory @dir durable.
 * Return: 0 or the -errno of open/fsync.
 */
int hl_fsync_dir(const char *dir);

/**
 * hl_write_atomic() - replace file @path with @len bytes of @buf, so that a
 * reader or a crash sees either the old file or the whole new one: write a
 * temporary file in the same directory, fsync it, rename it over @path,
 * fsync the directory.
 * @mode:          mode of the new file.
 * @before_rename: called between the write and the rename (NULL: none);
 *                 the agent's fault injection stops there.
 *
 * The temporary file, `.NAME.TID.tmp` next to @path (directory scanners skip
 * dot files), is removed on failure; a crash can leave one behind, which an
 * owner sweeps by that pattern. The parent directory must exist.
 * Return: 0, -ENAMETOOLONG, or the -errno of open/write/fsync/rename.
 */
int hl_write_atomic(const char *path, const void *buf, size_t len, mode_t mode,
		    void (*before_rename)(void));

/**
 * hl_lock_fd() - take an exclusive flock on @fd, waiting for it (EINTR is
 * retried). Closing the last fd of the open file description drops it.
 * Return: 0 or the -errno of flock.
 */
int hl_lock_fd(int fd);

/**
 * hl_lock_path() - open @path (created 0600 unless it is a directory) and
 * take an exclusive flock on it.
 * Return: the fd holding the lock (close it to unlock), or -errno.
 */
int hl_lock_path(const char *path);

/**
 * hl_quantity_parse() - parse a Kubernetes-style quantity of bytes:
 * "2097152", "64Mi", "1Gi", "512Ki", "1Ti", "100M", "1G" (decimal suffixes
 * k, M, G, T). No sign, no fraction, no exponent.
 * @s:   the text (NULL is -EINVAL).
 * @out: the bytes, set only on success.
 *
 * Return: 0, -EINVAL (syntax) or -ERANGE (above UINT64_MAX).
 */
int hl_quantity_parse(const char *s, uint64_t *out);

/**
 * hl_netns_open() - open the network namespace file @path (a bind mount
 * under /var/run/netns, or /proc/PID/ns/net) without ever blocking: what a
 * CNI request names may be anything, a FIFO for one, whose open would
 * wait for a writer. @path must name a regular file (nsfs files are), is
 * opened O_RDONLY | O_NONBLOCK and must then be on nsfs.
 * Return: the fd (close-on-exec), or -EINVAL (not a network namespace
 * file), or the -errno of stat/open (-ENOENT: gone).
 */
int hl_netns_open(const char *path);

/* A growing byte buffer, kept NUL-terminated once anything was appended.
 * Zero-initialise it; @max is the most it may hold (0: no limit). */
struct hl_buf {
	char *p;       /* the bytes, NULL before the first append */
	size_t len;    /* bytes held (the NUL not counted) */
	size_t cap;    /* bytes allocated */
	size_t max;    /* ceiling on len, 0 none */
};

/**
 * hl_buf_append() - append @n bytes of @p to @b (growing it by doubling).
 * @b: the buffer.
 * @p: the bytes (may be NULL when @n is 0).
 * @n: how many.
 *
 * Return: 0; -EFBIG when @b would hold more than its max (nothing
 * appended); -ENOMEM.
 */
int hl_buf_append(struct hl_buf *b, const void *p, size_t n);

/**
 * hl_buf_free() - free @b's bytes and empty it (its max stays).
 * @b: the buffer.
 */
void hl_buf_free(struct hl_buf *b);

#endif /* HOSTLANE_UTIL_H */
