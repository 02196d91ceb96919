/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The node's shm capacity as an extended resource (config "nodeResource",
 * default hostlane.io/shm), so that the scheduler places no more shm pods
 * on a node than it serves: the admission webhook and hostlanectl inject
 * make every shm pod request its quota of it, and the node advertises
 * pool x hugepages.overcommit, the sum of quotas its ADD admits (a quota
 * is a cap: pods use a few MiB of it, the pool is charged as they do;
 * docs/agent.md, Hugepages). Published
 * with a PATCH of the node's status (the documented way for a resource no
 * device plugin manages), from a thread of its own (the API server may be
 * slow; the loop never waits for it): once the pod watch is in step with
 * the API server, again after a SIGHUP
 * (hl_noderes_kick), every 10 minutes (a re-registered node starts without
 * it), and with a back-off of 1 s doubling to 60 s while it fails.
 */
#include "daemon.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "hlk8s.h"

#define REFRESH_MS (10 * 60 * 1000)
#define BACKOFF_MAX_MS 60000

struct hl_noderes {
	pthread_t tid;
	int fd;                        /* eventfd: a kick, or the stop */
	_Atomic bool stop;
	pthread_mutex_t lock;          /* what STATUS reads */
	char name[128];
	unsigned long long value;      /* published, 0 none yet */
	char error[200];
};

static bool synced(struct agent *a)
{
	struct hlk8s_health h;

	hlk8s_get_health(a->k8s, &h);
	return h.state == HLK8S_STATE_SYNCED;
}

static void *noderes_main(void *arg)
{
	struct agent *a = arg;
	struct hl_noderes *r = a->noderes;
	long backoff = 1000, wait_ms;

	while (!atomic_load(&r->stop)) {
		char name[128];
		unsigned long long value;      /* pool x overcommit */
		unsigned oc;
		struct pollfd p = { .fd = r->fd, .events = POLLIN };
		uint64_t v;
		int rc = 0;

		pthread_mutex_lock(&a->cfg_lock);
		snprintf(name, sizeof(name), "%s", a->cfg.node_resource);
		oc = a->cfg.overcommit ? a->cfg.overcommit : 1;
		pthread_mutex_unlock(&a->cfg_lock);
		pthread_mutex_lock(&a->lock);
		value = a->pool_bytes;
		pthread_mutex_unlock(&a->lock);
		/* 2^63 at most: a quantity the API server takes. */
		value = value > (UINT64_C(1) << 63) / oc ? UINT64_C(1) << 63 : value * oc;
		wait_ms = -1;
		/* Not before the watch is in step with the API server: while it
		 * cannot even LIST (down, unauthorized) a PATCH would fail the
		 * same way, and its error would hide the LIST's in the health. */
		if (name[0] && !synced(a)) {
			wait_ms = 500;
		} else if (name[0]) {
			rc = hlk8s_node_set_resource(a->k8s, a->cfg.node_name, name, value);
			pthread_mutex_lock(&r->lock);
			if (rc == 0 && (r->value != value || strcmp(r->name, name)))
				hl_log(HL_LOG_INFO, "node %s: %s = %llu published", a->cfg.node_name, name, value);
			if (rc < 0 && !r->error[0])
				hl_log(HL_LOG_WARN, "node %s: cannot publish %s (%s); retrying", a->cfg.node_name,
				       name, strerror(-rc));
			snprintf(r->name, sizeof(r->name), "%s", name);
			if (rc == 0)
				r->value = value;
			snprintf(r->error, sizeof(r->error), "%s", rc < 0 ? strerror(-rc) : "");
			pthread_mutex_unlock(&r->lock);
			if (rc < 0)
				hl_metrics_error(&a->m, HL_ERR_K8S);
			wait_ms = rc == 0 ? REFRESH_MS : backoff;
			backoff = rc == 0 ? 1000 : backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff * 2;
		}
		if (poll(&p, 1, (int)wait_ms) > 0 && read(r->fd, &v, sizeof(v)) < 0)
			break;
	}
	return NULL;
}

int hl_noderes_start(struct agent *a)
{
	struct hl_noderes *r;

	if (!a->k8s)
		return 0;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	pthread_mutex_init(&r->lock, NULL);
	r->fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	a->noderes = r;
	if (r->fd < 0 || pthread_create(&r->tid, NULL, noderes_main, a) != 0) {
		if (r->fd >= 0)
			close(r->fd);
		pthread_mutex_destroy(&r->lock);
		free(r);
		a->noderes = NULL;
		return -ENOMEM;
	}
	return 0;
}

void hl_noderes_kick(struct agent *a)
{
	uint64_t one = 1;

	if (a->noderes && write(a->noderes->fd, &one, sizeof(one)) < 0)
		hl_log(HL_LOG_WARN, "node resource: %s", strerror(errno));
}

void hl_noderes_stop(struct agent *a)
{
	struct hl_noderes *r = a->noderes;

	if (!r)
		return;
	atomic_store(&r->stop, true);
	hl_noderes_kick(a);
	pthread_join(r->tid, NULL);
	close(r->fd);
	pthread_mutex_destroy(&r->lock);
	free(r);
	a->noderes = NULL;
}

void hl_noderes_status(struct agent *a, struct cJSON *o)
{
	struct hl_noderes *r = a->noderes;
	cJSON *n;

	if (!r || !(n = cJSON_AddObjectToObject(o, "nodeResource")))
		return;
	pthread_mutex_lock(&r->lock);
	cJSON_AddStringToObject(n, "name", r->name);
	cJSON_AddNumberToObject(n, "published", (double)r->value);
	cJSON_AddStringToObject(n, "lastError", r->error);
	pthread_mutex_unlock(&r->lock);
}
