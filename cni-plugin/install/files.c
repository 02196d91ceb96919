/* SPDX-License-Identifier: Apache-2.0 */
/* File helpers of the installer: whole reads, atomic replacement, trees. */
#include "hli.h"
#include "hl_util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int hli_read_file(const char *path, size_t max, char **out, size_t *outlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t len = 0, cap = 4096;
	char *buf;

	if (fd < 0)
		return -errno;
	buf = malloc(cap + 1);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	for (;;) {
		ssize_t n;

		if (len == cap) {
			char *nb;

			if (cap > max) {
				free(buf);
				close(fd);
				return -EFBIG;
			}
			cap *= 2;
			nb = realloc(buf, cap + 1);
			if (!nb) {
				free(buf);
				close(fd);
				return -ENOMEM;
			}
			buf = nb;
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int rc = -errno;

			free(buf);
			close(fd);
			return rc;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	if (len > max) {
		free(buf);
		return -EFBIG;
	}
	buf[len] = '\0';
	*out = buf;
	*outlen = len;
	return 0;
}

int hli_write_atomic(const char *path, const void *buf, size_t len, mode_t mode)
{
	/* lib/util's temporary file is ".<name>.<tid>.tmp" in the same
	 * directory: libcni's ConfFiles and the runtimes' inotify filters look
	 * for .conf/.conflist/.json names, so it is never picked up as a config. */
	return hl_write_atomic(path, buf, len, mode, NULL);
}

/* Binaries are a few MB; anything far larger is not our plugin. */
#define BIN_MAX (256u << 20)

int hli_install_file(const char *src, const char *dst, mode_t mode)
{
	char *want = NULL, *have = NULL;
	size_t wlen, hlen;
	struct stat st;
	int rc = hli_read_file(src, BIN_MAX, &want, &wlen);

	if (rc < 0)
		return rc;
	if (lstat(dst, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 07777) == mode &&
	    (size_t)st.st_size == wlen && hli_read_file(dst, BIN_MAX, &have, &hlen) == 0 &&
	    hlen == wlen && memcmp(have, want, wlen) == 0) {
		free(have);
		free(want);
		return 0;
	}
	free(have);
	rc = hli_write_atomic(dst, want, wlen, mode);
	free(want);
	return rc < 0 ? rc : 1;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	/* EBUSY: a mount point (a volume) stays, emptied. */
	if ((flag == FTW_DP ? rmdir(path) : unlink(path)) < 0 && errno != ENOENT &&
	    !(flag == FTW_DP && errno == EBUSY))
		return -errno;
	return 0;
}

int hli_remove_tree(const char *path)
{
	struct stat st;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISDIR(st.st_mode))
		return unlink(path) < 0 && errno != ENOENT ? -errno : 0;
	return nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

int hli_dir_empty(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *de;
	int rc = 1;

	if (!d)
		return errno == ENOENT ? 1 : -errno;
	while (rc == 1 && (de = readdir(d))) {
		char sub[PATH_MAX];

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (de->d_type != DT_DIR) {
			rc = 0;
			break;
		}
		if (snprintf(sub, sizeof(sub), "%s/%s", path, de->d_name) >= (int)sizeof(sub))
			rc = -ENAMETOOLONG;
		else
			rc = hli_dir_empty(sub);
	}
	closedir(d);
	return rc;
}
