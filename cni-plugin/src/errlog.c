/* SPDX-License-Identifier: Apache-2.0 */
/* Versions, the spec's error object, and logging. */
#include "cni.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const int supported[] = { CNI_V030, CNI_V031, CNI_V040, CNI_V100, CNI_V110 };
#define N_SUPPORTED (sizeof(supported) / sizeof(supported[0]))

int cni_version_parse(const char *s)
{
	int part[3] = { 0, 0, 0 }, n = 0;

	if (!s || !*s)
		return -1;
	for (;;) {
		int v = 0, digits = 0;

		while (*s >= '0' && *s <= '9') {
			v = v * 10 + (*s++ - '0');
			if (++digits > 3)
				return -1;
		}
		if (!digits || v > 255)
			return -1;
		part[n++] = v;
		if (*s == '\0')
			break;
		if (*s != '.' || n == 3)
			return -1;
		s++;
	}
	if (n < 2)
		return -1;
	return CNI_V(part[0], part[1], part[2]);
}

const char *cni_version_str(int v, char *buf, size_t n)
{
	snprintf(buf, n, "%d.%d.%d", (v >> 16) & 0xff, (v >> 8) & 0xff, v & 0xff);
	return buf;
}

bool cni_version_supported(int v)
{
	for (size_t i = 0; i < N_SUPPORTED; i++)
		if (supported[i] == v)
			return true;
	return false;
}

int cni_version_negotiate(int want, const cJSON *theirs)
{
	const cJSON *it;
	int best = -1;

	if (!cJSON_IsArray(theirs))
		return -1;
	cJSON_ArrayForEach(it, theirs) {
		int v = cJSON_IsString(it) ? cni_version_parse(it->valuestring) : -1;

		if (v > best && v <= want && cni_version_supported(v))
			best = v;
	}
	return best;
}

char *cni_version_json(void)
{
	cJSON *o = cJSON_CreateObject(), *a;
	char buf[16], *s;

	cJSON_AddStringToObject(o, "cniVersion", CNI_VERSION_LATEST);
	a = cJSON_AddArrayToObject(o, "supportedVersions");
	for (size_t i = 0; i < N_SUPPORTED; i++)
		cJSON_AddItemToArray(a, cJSON_CreateString(cni_version_str(supported[i], buf, sizeof(buf))));
	s = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return s;
}

int cni_err_set(struct cni_err *e, int code, const char *msg, const char *fmt, ...)
{
	va_list ap;

	e->code = code;
	snprintf(e->msg, sizeof(e->msg), "%s", msg);
	e->details[0] = '\0';
	if (fmt) {
		va_start(ap, fmt);
		vsnprintf(e->details, sizeof(e->details), fmt, ap);
		va_end(ap);
	}
	return -1;
}

char *cni_err_json(const struct cni_err *e, const char *version)
{
	cJSON *o = cJSON_CreateObject();
	char *s;

	cJSON_AddStringToObject(o, "cniVersion", version ? version : CNI_VERSION_LATEST);
	cJSON_AddNumberToObject(o, "code", e->code);
	cJSON_AddStringToObject(o, "msg", e->msg);
	if (e->details[0])
		cJSON_AddStringToObject(o, "details", e->details);
	s = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return s;
}

/* ---- logging ---- */

static FILE *log_fp;
static int log_level = CNI_LOG_WARN;
static const char *const level_names[] = { "error", "warn", "info", "debug" };

int cni_log_level_parse(const char *s)
{
	for (int i = 0; i < 4; i++)
		if (s && strcmp(s, level_names[i]) == 0)
			return i;
	return -1;
}

/*
 * The network config names logFile, and whoever writes network configs
 * (a NetworkAttachmentDefinition, say) need not be trusted with a root
 * process that creates files: the file must be in the log directory the
 * runtime's environment names (HOSTLANE_CNI_LOG_DIR, default
 * CNI_LOG_DIR_DEFAULT), given as a bare name or as a path in that very
 * directory. It is opened under the directory with O_NOFOLLOW and must be
 * a regular file with one link. Returns the fd or -errno.
 */
static int log_open(const char *file)
{
	const char *dir = getenv("HOSTLANE_CNI_LOG_DIR"), *name = file, *slash;
	struct stat st;
	int dfd, fd;

	if (!dir || !*dir)
		dir = CNI_LOG_DIR_DEFAULT;
	slash = strrchr(file, '/');
	if (slash) {
		size_t dl = strlen(dir);

		while (dl > 1 && dir[dl - 1] == '/')
			dl--;
		if ((size_t)(slash - file) != dl || strncmp(file, dir, dl))
			return -EPERM;
		name = slash + 1;
	}
	if (!*name || !strcmp(name, ".") || !strcmp(name, ".."))
		return -EINVAL;
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return -errno;
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0)
		return -errno;
	/* O_NONBLOCK: a FIFO put there must not hang the plugin. */
	fd = openat(dfd, name, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY |
		    O_CLOEXEC, 0640);
	close(dfd);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_nlink != 1) {
		close(fd);
		return -EPERM;
	}
	return fd;
}

void cni_log_setup(const char *file, int level)
{
	int fd;

	cni_log_close();
	log_level = level;
	if (!file || !*file)
		return;
	fd = log_open(file);
	if (fd >= 0 && !(log_fp = fdopen(fd, "a"))) {
		int e = errno;

		close(fd);
		fd = -e;
	}
	if (!log_fp)
		fprintf(stderr, "hostlane: logFile %s not used (%s; it must be in %s), logging to stderr\n",
			file, strerror(fd < 0 ? -fd : EIO),
			getenv("HOSTLANE_CNI_LOG_DIR") && *getenv("HOSTLANE_CNI_LOG_DIR") ?
			getenv("HOSTLANE_CNI_LOG_DIR") : CNI_LOG_DIR_DEFAULT);
}

void cni_log_close(void)
{
	if (log_fp)
		fclose(log_fp);
	log_fp = NULL;
}

void cni_log(int level, const char *fmt, ...)
{
	FILE *f = log_fp ? log_fp : stderr;
	struct timespec ts;
	struct tm tm;
	char when[32];
	va_list ap;

	if (level > log_level)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	fprintf(f, "%s.%03ldZ hostlane[%d] %s: ", when, ts.tv_nsec / 1000000, (int)getpid(),
		level_names[level]);
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fputc('\n', f);
	fflush(f);
}
