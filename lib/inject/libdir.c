/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The library directory a pod's init container lays out
 * (hl_inject_libdir()). One LD_PRELOAD value serves every container of the
 * pod whatever its libc: "<dir>/$LIB/libhostlane.so". glibc's loader
 * replaces $LIB with the directory name it was built with ("lib64" on
 * Fedora/RHEL/SUSE, "lib/x86_64-linux-gnu" on Debian/Ubuntu, "lib" on Arch),
 * so each of those names holds a link to the glibc variant; musl's loader
 * does not expand it, so a directory really named "$LIB" holds the musl
 * variant. A glibc whose name is not in the list prints the loader's
 * "cannot be preloaded" warning and the program runs over the kernel.
 */
#include "inject_private.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The names glibc's loaders use for $LIB on the distributions we know. */
static const char *const glibc_lib_dirs[] = {
	"lib", "lib64", "lib/x86_64-linux-gnu", "lib/aarch64-linux-gnu", "lib/i386-linux-gnu",
	"lib32", "libx32",
};

/* The whole of @path, malloc'd, at most 64 MiB. */
static int slurp(const char *path, char **out, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc = 0;
	struct stat st;
	char *b = NULL;
	size_t n = 0;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > (64 << 20)) {
		rc = S_ISREG(st.st_mode) ? -EFBIG : -EINVAL;
		goto out;
	}
	b = malloc((size_t)st.st_size + 1);
	if (!b) {
		rc = -ENOMEM;
		goto out;
	}
	while (n < (size_t)st.st_size) {
		ssize_t r = read(fd, b + n, (size_t)st.st_size - n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			rc = r < 0 ? -errno : -EIO;
			goto out;
		}
		n += (size_t)r;
	}
out:
	close(fd);
	if (rc < 0) {
		free(b);
		return rc;
	}
	*out = b;
	*len = n;
	return 0;
}

static int copy(const char *src, const char *dir)
{
	char dst[PATH_MAX], *b = NULL;
	size_t n = 0;
	int rc;

	if (snprintf(dst, sizeof(dst), "%s/%s", dir, HL_INJECT_LIBNAME) >= (int)sizeof(dst))
		return -ENAMETOOLONG;
	if ((rc = hl_mkdir_p(dir, 0755)) < 0 || (rc = slurp(src, &b, &n)) < 0)
		return rc;
	rc = hl_write_atomic(dst, b, n, 0755, NULL);
	free(b);
	return rc;
}

/* <dir>/<sub>/libhostlane.so -> the glibc copy, relative (the pod may mount
 * the directory elsewhere than this process sees it), replaced atomically. */
static int link_glibc(const char *dir, const char *sub)
{
	char d[PATH_MAX], l[PATH_MAX], tmp[PATH_MAX], target[64] = "";
	int rc;

	for (const char *p = sub; *p; p++)
		if (*p == '/')
			strcat(target, "../");
	strcat(target, "../glibc/" HL_INJECT_LIBNAME);
	if (snprintf(d, sizeof(d), "%s/%s", dir, sub) >= (int)sizeof(d) ||
	    snprintf(l, sizeof(l), "%s/" HL_INJECT_LIBNAME, d) >= (int)sizeof(l) ||
	    snprintf(tmp, sizeof(tmp), "%s/.%s.%d.tmp", d, HL_INJECT_LIBNAME, (int)getpid()) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	if ((rc = hl_mkdir_p(d, 0755)) < 0)
		return rc;
	unlink(tmp);
	if (symlink(target, tmp) < 0)
		return -errno;
	if (rename(tmp, l) < 0) {
		rc = -errno;
		unlink(tmp);
		return rc;
	}
	return 0;
}

int hl_inject_libdir(const char *dir, const char *glibc, const char *musl)
{
	char sub[PATH_MAX];
	int rc;

	if (snprintf(sub, sizeof(sub), "%s/glibc", dir) >= (int)sizeof(sub))
		return -ENAMETOOLONG;
	if ((rc = copy(glibc, sub)) < 0)
		return rc;
	for (size_t i = 0; i < sizeof(glibc_lib_dirs) / sizeof(glibc_lib_dirs[0]); i++)
		if ((rc = link_glibc(dir, glibc_lib_dirs[i])) < 0)
			return rc;
	if (!musl)
		return 0;
	if (snprintf(sub, sizeof(sub), "%s/%s", dir, HL_INJECT_MUSL_DIR) >= (int)sizeof(sub))
		return -ENAMETOOLONG;
	return copy(musl, sub);
}
