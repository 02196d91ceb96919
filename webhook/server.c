/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The HTTPS side of hostlane-webhook, on libmicrohttpd (GnuTLS): POST
 * /mutate answers an AdmissionReview (lib/inject does the work), GET
 * /healthz says it runs, GET /metrics counts answers. Bodies are bounded
 * (413 beyond WH_MAX_BODY), connections are bounded in number and time
 * (the port is reachable by any pod, not only by the API server).
 *
 * A new certificate (the Secret was rotated) is served without a gap: the
 * old daemon is quiesced, which hands back its listening socket, and a new
 * daemon with the new key takes it over; the old one finishes the
 * connections it has and is stopped.
 */
#include "webhook.h"

#include "hl_util.h"

#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct wh_server {
	struct MHD_Daemon *d;
	char *cert, *key;           /* PEM, alive as long as the daemon */
	struct wh_stats *stats;
	unsigned port;
};

struct req {
	struct hl_buf body;            /* max WH_MAX_BODY */
	bool too_big;
};

static char *read_pem(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	char *b = NULL;
	ssize_t n = 0;

	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) == 0 && st.st_size > 0 && st.st_size < (1 << 20) && (b = malloc((size_t)st.st_size + 1))) {
		n = read(fd, b, (size_t)st.st_size);
		if (n != st.st_size) {
			free(b);
			b = NULL;
		} else {
			b[n] = '\0';
		}
	}
	close(fd);
	if (!b)
		errno = EINVAL;
	return b;
}

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, const char *type, const char *body)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
	enum MHD_Result rc;

	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	rc = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return rc;
}

static enum MHD_Result metrics(struct wh_server *s, struct MHD_Connection *c)
{
	char b[1024];

	snprintf(b, sizeof(b),
		 "# HELP hostlane_webhook_reviews_total AdmissionReviews answered, by result.\n"
		 "# TYPE hostlane_webhook_reviews_total counter\n"
		 "hostlane_webhook_reviews_total{result=\"injected\"} %lu\n"
		 "hostlane_webhook_reviews_total{result=\"unchanged\"} %lu\n"
		 "hostlane_webhook_reviews_total{result=\"denied\"} %lu\n"
		 "hostlane_webhook_reviews_total{result=\"bad_request\"} %lu\n"
		 "hostlane_webhook_reviews_total{result=\"error\"} %lu\n",
		 atomic_load(&s->stats->injected), atomic_load(&s->stats->unchanged),
		 atomic_load(&s->stats->denied), atomic_load(&s->stats->bad_request),
		 atomic_load(&s->stats->errors));
	return reply(c, MHD_HTTP_OK, "text/plain; version=0.0.4", b);
}

/* Logs and counts one answer. */
static void account(struct wh_server *s, int rc, int status, const char *out)
{
	if (rc == -ENOMEM) {
		atomic_fetch_add(&s->stats->errors, 1);
		wh_log("error", "out of memory answering a review");
	} else if (status == 400) {
		atomic_fetch_add(&s->stats->bad_request, 1);
		wh_log("warn", "bad request: %.200s", out);
	} else if (strstr(out, "\"allowed\":false")) {
		atomic_fetch_add(&s->stats->denied, 1);
		wh_log("info", "denied: %.400s", out);
	} else if (strstr(out, "\"patch\":")) {
		atomic_fetch_add(&s->stats->injected, 1);
		wh_log("info", "injected%s", strstr(out, "\"warnings\":") ? " (with warnings)" : "");
	} else {
		atomic_fetch_add(&s->stats->unchanged, 1);
	}
}

static enum MHD_Result mutate(struct wh_server *s, struct MHD_Connection *c, struct req *q)
{
	char *out = NULL;
	int status = 500, rc;
	enum MHD_Result r;

	if (q->too_big) {
		atomic_fetch_add(&s->stats->bad_request, 1);
		return reply(c, MHD_HTTP_CONTENT_TOO_LARGE, "application/json",
			     "{\"error\":\"the body is larger than 4 MiB\"}");
	}
	rc = hl_inject_review(q->body.p ? q->body.p : "", q->body.len, &wh_settings_get()->o, &out, &status);
	wh_settings_put();
	account(s, rc, status, out ? out : "");
	if (!out)
		return reply(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "application/json", "{\"error\":\"out of memory\"}");
	r = reply(c, (unsigned)status, "application/json", out);
	free(out);
	return r;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url, const char *method,
			      const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
	struct wh_server *s = cls;
	struct req *q = *con_cls;

	(void)version;
	if (!q) {
		q = calloc(1, sizeof(*q));
		if (!q)
			return MHD_NO;
		q->body.max = WH_MAX_BODY;
		*con_cls = q;
		return MHD_YES;
	}
	if (*upload_size) {
		size_t n = *upload_size;
		int rc;

		*upload_size = 0;
		if (q->too_big)
			return MHD_YES;
		rc = hl_buf_append(&q->body, upload, n);
		if (rc == -EFBIG)
			q->too_big = true;
		return rc == -ENOMEM ? MHD_NO : MHD_YES;
	}
	if (strcmp(url, "/mutate") == 0)
		return strcmp(method, "POST") == 0 ? mutate(s, c, q)
			: reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, "application/json", "{\"error\":\"POST only\"}");
	if (strcmp(url, "/healthz") == 0)
		return reply(c, MHD_HTTP_OK, "text/plain", "ok\n");
	if (strcmp(url, "/metrics") == 0)
		return metrics(s, c);
	return reply(c, MHD_HTTP_NOT_FOUND, "application/json", "{\"error\":\"no such path\"}");
}

static void done(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode t)
{
	struct req *q = *con_cls;

	(void)cls; (void)c; (void)t;
	if (q) {
		hl_buf_free(&q->body);
		free(q);
		*con_cls = NULL;
	}
}

static void mhd_log(void *arg, const char *fmt, va_list ap)
{
	char msg[512];

	(void)arg;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	msg[strcspn(msg, "\n")] = '\0';
	wh_log("warn", "http: %s", msg);
}

static struct MHD_Daemon *daemon_start(struct wh_server *s, const struct sockaddr_storage *addr, int listen_fd)
{
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_TLS | MHD_USE_ITC |
			 MHD_USE_ERROR_LOG;

	if (addr->ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	/* The port is open to the cluster: few threads, bounded connections,
	 * a 10 s idle bound, TLS 1.2 and 1.3 only. */
	return MHD_start_daemon(flags, 0, NULL, NULL, handle, s,
				MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
				MHD_OPTION_HTTPS_MEM_CERT, s->cert, MHD_OPTION_HTTPS_MEM_KEY, s->key,
				MHD_OPTION_HTTPS_PRIORITIES, "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2",
				listen_fd >= 0 ? MHD_OPTION_LISTEN_SOCKET : MHD_OPTION_SOCK_ADDR,
				listen_fd >= 0 ? (intptr_t)listen_fd : (intptr_t)addr,
				MHD_OPTION_THREAD_POOL_SIZE, 2, MHD_OPTION_CONNECTION_LIMIT, 256,
				MHD_OPTION_CONNECTION_TIMEOUT, 10, MHD_OPTION_NOTIFY_COMPLETED, done, s,
				MHD_OPTION_END);
}

static int load(struct wh_server *s, const char *cert, const char *key)
{
	s->cert = read_pem(cert);
	s->key = read_pem(key);
	if (s->cert && s->key)
		return 0;
	free(s->cert);
	free(s->key);
	s->cert = s->key = NULL;
	return -EINVAL;
}

struct wh_server *wh_server_start(const struct sockaddr_storage *addr, const char *cert, const char *key,
				  struct wh_stats *stats)
{
	struct wh_server *s = calloc(1, sizeof(*s));
	const union MHD_DaemonInfo *di;

	if (!s)
		return NULL;
	s->stats = stats;
	if (load(s, cert, key) < 0) {
		free(s);
		errno = EINVAL;
		return NULL;
	}
	s->d = daemon_start(s, addr, -1);
	if (!s->d) {
		int e = errno ? errno : EINVAL;

		free(s->cert);
		free(s->key);
		free(s);
		errno = e;
		return NULL;
	}
	di = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
	s->port = di ? di->port : 0;
	return s;
}

int wh_server_reload(struct wh_server *s, const char *cert, const char *key)
{
	struct wh_server old = *s;
	struct sockaddr_storage none = { .ss_family = AF_INET };
	MHD_socket fd;

	if (load(s, cert, key) < 0) {
		*s = old;
		return -EINVAL;
	}
	fd = MHD_quiesce_daemon(old.d);
	if (fd == MHD_INVALID_SOCKET) {
		free(s->cert);
		free(s->key);
		*s = old;
		return -EIO;
	}
	s->d = daemon_start(s, &none, fd);
	if (!s->d) {
		/* The old daemon gave its socket away: nothing serves it now.
		 * Keep the old certificate on a new daemon rather than nothing. */
		free(s->cert);
		free(s->key);
		s->cert = old.cert;
		s->key = old.key;
		s->d = daemon_start(s, &none, fd);
		old.cert = old.key = NULL;
	}
	/* Let the old daemon's connections finish (bounded). */
	for (int i = 0; i < 100; i++) {
		const union MHD_DaemonInfo *di = MHD_get_daemon_info(old.d, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);

		if (!di || di->num_connections == 0)
			break;
		usleep(100000);
	}
	MHD_stop_daemon(old.d);
	free(old.cert);
	free(old.key);
	return s->d ? 0 : -EIO;
}

void wh_server_stop(struct wh_server *s)
{
	if (!s)
		return;
	if (s->d)
		MHD_stop_daemon(s->d);
	free(s->cert);
	free(s->key);
	free(s);
}

unsigned wh_server_port(const struct wh_server *s)
{
	return s->port;
}
