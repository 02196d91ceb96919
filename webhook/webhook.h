/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hostlane-webhook internals (not a library): the HTTPS server
 * (server.c, libmicrohttpd with GnuTLS) and the settings it serves with
 * (settings.c), swapped whole when the agent's config file changes.
 */
#ifndef HOSTLANE_WEBHOOK_H
#define HOSTLANE_WEBHOOK_H

#include <netinet/in.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hlinject.h"

#define WH_VERSION "0.4.0"
#define WH_MAX_BODY (4u << 20)     /* the API server sends at most ~3 MiB */
#define WH_NS_MAX 256

/* The mutation's options with the storage they point into. */
struct wh_settings {
	struct hl_inject_opts o;
	char image[512], pull_policy[32], mount[256], resource[128], network[320];
	struct hl_inject_nsquota ns[WH_NS_MAX];
	char ns_names[WH_NS_MAX][64];
};

/* Counters for /metrics. */
struct wh_stats {
	atomic_ulong injected, unchanged, denied, bad_request, errors;
};

struct wh_server;

/*
 * Reads the quota part of the agent's config file (hugepages.defaultQuota,
 * maxQuota, namespaceQuota) into @s; other keys are the agent's business.
 * 0, -errno of reading, or -EINVAL (message in @err).
 */
int wh_settings_load_quota(struct wh_settings *s, const char *path, char *err, size_t errlen);

/*
 * Starts serving on @addr with the PEM certificate (chain) and key in the
 * files @cert and @key. @get_settings returns the settings for a request
 * (the caller swaps them; a read lock is held while one is in use).
 * NULL + errno (EINVAL: unreadable certificate or key; EADDRINUSE, ...).
 */
struct wh_server *wh_server_start(const struct sockaddr_storage *addr, const char *cert, const char *key,
				  struct wh_stats *stats);
/*
 * Serves on with a new certificate: the listening socket moves to a new
 * TLS context; connections of the old one finish (up to 10 s). 0, or
 * -errno (the old one keeps serving).
 */
int wh_server_reload(struct wh_server *srv, const char *cert, const char *key);
void wh_server_stop(struct wh_server *srv);
/* The port served on (useful with port 0). */
unsigned wh_server_port(const struct wh_server *srv);

/* Settings in use (main.c): the server takes them for each request. */
const struct wh_settings *wh_settings_get(void);
void wh_settings_put(void);

/* One log line on stderr (text, with a timestamp). */
void wh_log(const char *level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
