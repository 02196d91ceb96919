/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The monitor and its pods: creating the node state, binding each shm pod's
 * `@hostlane` in the pod's network namespace, the pod table (key and
 * addresses), usage, and tearing a pod down.
 */
#include "mon_private.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>
#include <sched.h>
#include <stdarg.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <syslog.h>
#include <time.h>

#include "hl_codec.h"
#include "hl_loop.h"

__attribute__((format(printf, 3, 4)))
void mon_log(const struct hl_monitor *n, int level, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	if (!n->o.log)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	n->o.log(n->o.log_arg, level, buf);
}

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void mon_log_limited(struct hl_mon_pod *ep, const char *what)
{
	uint64_t now = mono_ms();

	ep->refused++;
	if (now - ep->logged_ms < 1000)
		return;
	mon_log(ep->node, LOG_WARNING, "endpoint %s: %s (%u times since the last such line)", ep->key,
		what, ep->refused);
	ep->refused = 0;
	ep->logged_ms = now;
}

void mon_shmq_log(void *arg, int level, const char *msg)
{
	mon_log(arg, level == SHMQ_LOG_WARN ? LOG_WARNING : LOG_INFO, "shmq: %s", msg);
}

static int same_ns(int a, int b)
{
	struct stat sa, sb;

	if (fstat(a, &sa) < 0 || fstat(b, &sb) < 0)
		return -errno;
	return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

static int bind_here(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	socklen_t len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 +
				    strlen(HL_PROTO_ENDPOINT));
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	int err;

	if (fd < 0)
		return -errno;
	memcpy(sa.sun_path + 1, HL_PROTO_ENDPOINT, strlen(HL_PROTO_ENDPOINT));
	if (bind(fd, (struct sockaddr *)&sa, len) < 0 || listen(fd, 128) < 0) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

/* Returns the listening socket bound in netns @target, or -errno; *@nf
 * gets a netfilter socket of that netns (NULL if it has none). */
static int bind_in_netns(int target, struct mon_nf **nf)
{
	int self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	int fd, same;

	if (self < 0)
		return -errno;
	same = same_ns(self, target);
	if (same) {
		fd = same > 0 ? -EINVAL : same;
		goto out;
	}
	if (setns(target, CLONE_NEWNET) < 0) {
		fd = -errno;
		goto out;
	}
	fd = bind_here();
	*nf = fd >= 0 ? mon_nf_open() : NULL;
	if (setns(self, CLONE_NEWNET) < 0)
		abort();  /* never serve on from a pod's netns */
out:
	close(self);
	return fd;
}

static int parse_ips(struct hl_mon_pod *ep, const char *const *ips, size_t n_ips)
{
	if (n_ips > HL_PROTO_MAX_IPS || (n_ips && !ips))
		return -EINVAL;
	for (size_t i = 0; i < n_ips; i++)
		if (!ips[i] || hl_proto_addr_parse(ips[i], &ep->ips[i]))
			return -EINVAL;
	ep->n_ips = n_ips;
	return 0;
}

struct hl_mon_pod *hl_mon_pod_add(struct hl_monitor *n, const char *pod_key, int netns_fd,
				  const char *const *ips, size_t n_ips, uint64_t quota_bytes)
{
	struct hl_mon_pod *ep;
	int rc;

	if (!n || !pod_key || !*pod_key || strlen(pod_key) >= HL_PROTO_KEY_MAX || netns_fd < 0) {
		errno = EINVAL;
		return NULL;
	}
	if (hl_mon_pod_find(n, pod_key)) {
		errno = EEXIST;
		return NULL;
	}
	ep = calloc(1, sizeof(*ep));
	if (!ep) {
		errno = ENOMEM;
		return NULL;
	}
	ep->node = n;
	ep->fd = -1;
	ep->quota.limit = quota_bytes;
	strcpy(ep->key, pod_key);
	rc = parse_ips(ep, ips, n_ips);
	for (size_t i = 0; !rc && i < ep->n_ips; i++)
		if (mon_pod_by_addr(n, &ep->ips[i]))
			rc = -EEXIST;
	if (!rc)
		rc = ep->fd = bind_in_netns(netns_fd, &ep->nf);
	if (rc >= 0)
		rc = hl_loop_add(n->o.loop, ep->fd, EPOLLIN, mon_accept_cb, ep);
	if (rc < 0) {
		if (ep->fd >= 0)
			close(ep->fd);
		mon_nf_close(ep->nf);
		free(ep);
		errno = -rc;
		return NULL;
	}
	LIST_ADD(n->eps, ep);
	mon_log(n, LOG_INFO, "endpoint %s: @%s bound in its netns, quota %llu bytes", pod_key,
	      HL_PROTO_ENDPOINT, (unsigned long long)quota_bytes);
	mon_cp_sync(n, true);
	return ep;
}

int hl_mon_pod_set_ips(struct hl_mon_pod *ep, const char *const *ips, size_t n_ips)
{
	struct hl_mon_pod tmp = { .n_ips = 0 };
	int rc = ep ? parse_ips(&tmp, ips, n_ips) : -EINVAL;

	for (size_t i = 0; !rc && i < tmp.n_ips; i++) {
		struct hl_mon_pod *o = mon_pod_by_addr(ep->node, &tmp.ips[i]);

		if (o && o != ep)
			rc = -EEXIST;
	}
	if (rc)
		return rc;
	/* Clients that said HELLO keep the addresses they were told; new
	 * connections are matched against these at once. */
	memcpy(ep->ips, tmp.ips, sizeof(ep->ips));
	ep->n_ips = tmp.n_ips;
	mon_cp_sync(ep->node, true);
	return 0;
}

void hl_mon_pod_del(struct hl_mon_pod *ep)
{
	struct hl_monitor *n;

	if (!ep)
		return;
	n = ep->node;
	while (ep->clients)
		mon_client_free(ep->clients);
	mon_lingers_free(ep);
	/* Connections this pod opened to listeners elsewhere: the other side
	 * may still use them, so they stay on the node pool only. */
	for (struct mon_region *g = n->regions; g; g = g->next)
		if (g->charged == ep) {
			hl_quota_release(&ep->quota, g->bytes);
			g->charged = NULL;
		}
	if (ep->resume > 0)
		hl_timer_cancel(n->o.loop, ep->resume);
	hl_loop_del(n->o.loop, ep->fd);
	close(ep->fd);
	mon_nf_close(ep->nf);
	LIST_DEL(n->eps, ep);
	mon_cp_pod_gone(n, ep);
	mon_log(n, LOG_INFO, "endpoint %s: destroyed", ep->key);
	free(ep);
	mon_cp_sync(n, true);
}

#define TICK_MS 1000

static void tick(struct hl_loop *loop, void *arg)
{
	struct hl_monitor *n = arg;

	mon_direct_police(n);
	mon_cp_sync(n, false);  /* pod netfilter flags */
	n->tick = hl_timer_add(loop, TICK_MS, tick, n);
}

struct hl_monitor *hl_mon_new(const struct hl_mon_opts *o)
{
	struct hl_monitor *n;

	if (!o || !o->loop) {
		errno = EINVAL;
		return NULL;
	}
	n = calloc(1, sizeof(*n));
	if (!n) {
		errno = ENOMEM;
		return NULL;
	}
	n->o = *o;
	n->pool.limit = o->pool_bytes;
	n->reserve = open("/dev/null", O_RDONLY | O_CLOEXEC);
	n->msg_cost = mon_msg_cost();
	n->tick = hl_timer_add(n->o.loop, TICK_MS, tick, n);
	if (!n->o.limits.clients)
		n->o.limits.clients = HL_MON_MAX_CLIENTS;
	if (!n->o.limits.fds)
		n->o.limits.fds = HL_MON_MAX_FDS;
	if (!n->o.limits.regions)
		n->o.limits.regions = HL_MON_MAX_REGIONS;
	if (!n->o.limits.events)
		n->o.limits.events = HL_MON_MAX_EVENTS;
	return n;
}

void hl_mon_stop(struct hl_monitor *n)
{
	if (n)
		n->stopping = true;
}

void hl_mon_free(struct hl_monitor *n)
{
	if (!n)
		return;
	n->stopping = true;
	while (n->eps)
		hl_mon_pod_del(n->eps);
	while (n->regions) {  /* none can be held any more; defensive */
		n->regions->charged = NULL;
		mon_region_release(n, n->regions);
	}
	if (n->reserve >= 0)
		close(n->reserve);
	if (n->tick > 0)
		hl_timer_cancel(n->o.loop, n->tick);
	mon_policy_free(n);
	hl_mon_svcmap_free(n->svcs);
	mon_cp_free(n);
	free(n);
}

void hl_mon_pod_get_usage(const struct hl_mon_pod *ep, struct hl_mon_pod_usage *u)
{
	u->quota_bytes = ep->quota.limit;
	u->used_bytes = ep->quota.used;
	u->clients = ep->n_clients;
	u->regions = ep->n_regions;
	memcpy(u->refused, ep->regions_refused, sizeof(u->refused));
}

const char *hl_mon_refusal_name(enum hl_mon_refusal r)
{
	static const char *const names[HL_MON_REFUSED_COUNT] = {
		"quota", "pool", "hugepages", "limits",
	};

	return (unsigned)r < HL_MON_REFUSED_COUNT ? names[r] : "?";
}

void hl_mon_get_refused(const struct hl_monitor *n, uint64_t *out)
{
	memcpy(out, n->regions_refused, sizeof(n->regions_refused));
}

int hl_mon_set_pool(struct hl_monitor *n, uint64_t pool_bytes)
{
	n->pool.limit = pool_bytes;
	return 0;
}

void hl_mon_get_usage(const struct hl_monitor *n, uint64_t *pool_bytes, uint64_t *used_bytes)
{
	if (pool_bytes)
		*pool_bytes = n->pool.limit;
	if (used_bytes)
		*used_bytes = n->pool.used;
}

struct hl_mon_pod *hl_mon_pod_find(const struct hl_monitor *n, const char *pod_key)
{
	for (struct hl_mon_pod *ep = n->eps; ep; ep = ep->next)
		if (!strcmp(ep->key, pod_key))
			return ep;
	return NULL;
}

const char *hl_mon_pod_key(const struct hl_mon_pod *ep)
{
	return ep->key;
}

int hl_mon_pod_set_quota(struct hl_mon_pod *ep, uint64_t quota_bytes)
{
	ep->quota.limit = quota_bytes;
	return 0;
}
