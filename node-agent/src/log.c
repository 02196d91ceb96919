/* SPDX-License-Identifier: Apache-2.0 */
#include "agent.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static _Atomic int log_fmt = HL_LOG_TEXT;
static _Atomic int log_level = HL_LOG_INFO;

static const char *const level_names[] = { "error", "warn", "info", "debug" };

void hl_log_setup(enum hl_log_format fmt, enum hl_log_level level)
{
	atomic_store(&log_fmt, (int)fmt);
	atomic_store(&log_level, (int)level);
}

int hl_log_parse_level(const char *s, enum hl_log_level *out)
{
	for (int i = 0; i <= HL_LOG_DEBUG; i++) {
		if (strcmp(s, level_names[i]) == 0) {
			*out = (enum hl_log_level)i;
			return 0;
		}
	}
	return -EINVAL;
}

/* JSON string escaping for the message of a JSON log line. */
static void put_json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

void hl_log(enum hl_log_level level, const char *fmt, ...)
{
	char msg[1024], ts[96];
	struct timespec now;
	struct tm tm;
	va_list ap;

	if ((int)level > atomic_load(&log_level))
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	snprintf(ts, sizeof(ts), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(now.tv_nsec / 1000000));
	pthread_mutex_lock(&log_lock);
	if (atomic_load(&log_fmt) == HL_LOG_JSON) {
		fprintf(stderr, "{\"ts\":\"%s\",\"level\":\"%s\",\"msg\":", ts, level_names[level]);
		put_json_str(stderr, msg);
		fputs("}\n", stderr);
	} else {
		fprintf(stderr, "%s %-5s %s\n", ts, level_names[level], msg);
	}
	fflush(stderr);
	pthread_mutex_unlock(&log_lock);
}

void hl_log_cb(void *arg, int level, const char *msg)
{
	(void)arg;
	hl_log(level <= 0 ? HL_LOG_ERROR : level == 1 ? HL_LOG_WARN : HL_LOG_INFO, "%s", msg);
}

void hl_log_syslog_cb(void *arg, int level, const char *msg)
{
	(void)arg;
	hl_log(level <= 3 ? HL_LOG_ERROR : level == 4 ? HL_LOG_WARN : level <= 6 ? HL_LOG_INFO : HL_LOG_DEBUG,
	       "%s", msg);
}
