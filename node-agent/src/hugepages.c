/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The node's 2 MiB hugepages as they are, not as reserved at boot: what
 * the kernel has free and not promised to a mapping yet (sysfs, per page
 * size: regions are 2 MiB memfds whatever Hugepagesize says), and what the
 * agent's own hugetlb cgroup still lets it fault in (a DaemonSet's
 * hugepages-2Mi request becomes that limit). Other processes (DPDK, the
 * vhost-user switch, pods with hugepage requests) take pages from the same
 * free count, so it is read again whenever it is reported.
 *
 * And the pool built on them: its size (hugepages.pool, else what is free
 * for the agent when it starts or re-reads its config, plus what its
 * regions hold then), the quotas of the shm pods admitted against pool x
 * hugepages.overcommit (a cap each, nothing reserved: the monitor charges
 * regions as they are made), and the numbers STATUS and /metrics show.
 */
#include "daemon.h"
#include "monitor.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HP_SYSFS "/sys/kernel/mm/hugepages/hugepages-2048kB/"
#define HP_PAGE (UINT64_C(2) << 20)

_Static_assert(HL_POOL_REFUSED_N == HL_MON_REFUSED_COUNT, "refusal reasons");

/* One unsigned number (or "max": UINT64_MAX) from @path; -errno. */
static int read_u64(const char *path, uint64_t *out)
{
	FILE *f = fopen(path, "re");
	char buf[64];
	int rc = -EINVAL;

	if (!f)
		return -errno;
	if (fgets(buf, sizeof(buf), f)) {
		char *end;
		unsigned long long v;

		buf[strcspn(buf, "\n")] = '\0';
		if (!strcmp(buf, "max")) {
			*out = UINT64_MAX;
			rc = 0;
		} else {
			errno = 0;
			v = strtoull(buf, &end, 10);
			if (!errno && end != buf && !*end) {
				*out = v;
				rc = 0;
			}
		}
	}
	fclose(f);
	return rc;
}

/* The limit and usage of the agent's hugetlb cgroup for 2 MiB pages: v2
 * (unified, also under a hybrid layout's /sys/fs/cgroup/unified) or v1.
 * Returns false when it has none (the root cgroup, no controller). */
static bool cgroup_limit(uint64_t *max, uint64_t *cur)
{
	FILE *f = fopen("/proc/self/cgroup", "re");
	char line[4096], path[4200];
	bool found = false;

	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f)) {
		char *ctl = strchr(line, ':'), *cg = ctl ? strchr(ctl + 1, ':') : NULL;

		if (!cg)
			continue;
		*cg++ = '\0';
		cg[strcspn(cg, "\n")] = '\0';
		ctl++;
		if (!*ctl) {  /* v2 */
			static const char *const roots[] = { "/sys/fs/cgroup/unified", "/sys/fs/cgroup" };

			for (size_t i = 0; !found && i < 2; i++) {
				snprintf(path, sizeof(path), "%s%s/hugetlb.2MB.max", roots[i], cg);
				if (read_u64(path, max) < 0)
					continue;
				snprintf(path, sizeof(path), "%s%s/hugetlb.2MB.current", roots[i], cg);
				found = read_u64(path, cur) == 0;
			}
		} else if (strstr(ctl, "hugetlb")) {  /* v1 */
			snprintf(path, sizeof(path), "/sys/fs/cgroup/hugetlb%s/hugetlb.2MB.limit_in_bytes", cg);
			if (read_u64(path, max) < 0)
				continue;
			snprintf(path, sizeof(path), "/sys/fs/cgroup/hugetlb%s/hugetlb.2MB.usage_in_bytes", cg);
			found = read_u64(path, cur) == 0;
		}
	}
	fclose(f);
	return found;
}

int hl_hp_read(struct hl_hp_info *h)
{
	uint64_t total, free_pages, resv;
	int rc;

	memset(h, 0, sizeof(*h));
	h->cg_max = UINT64_MAX;
	if ((rc = read_u64(HP_SYSFS "nr_hugepages", &total)) < 0 ||
	    (rc = read_u64(HP_SYSFS "free_hugepages", &free_pages)) < 0 ||
	    (rc = read_u64(HP_SYSFS "resv_hugepages", &resv)) < 0)
		return rc;
	h->total = total * HP_PAGE;
	/* Reserved pages are counted as free, but a mapping already holds
	 * the promise of them (a DPDK process that has not touched them). */
	h->free = (free_pages > resv ? free_pages - resv : 0) * HP_PAGE;
	h->cg = cgroup_limit(&h->cg_max, &h->cg_cur);
	return 0;
}

uint64_t hl_hp_available(const struct hl_hp_info *h)
{
	uint64_t cg = h->cg_max > h->cg_cur ? h->cg_max - h->cg_cur : 0;

	return h->free < cg ? h->free : cg;
}

uint64_t hl_pool_size(const struct hl_config *c, uint64_t held)
{
	struct hl_hp_info h;
	uint64_t avail;

	if (c->pool_bytes)
		return c->pool_bytes;
	if (hl_hp_read(&h) < 0)
		return held;
	avail = hl_hp_available(&h);
	return avail > UINT64_MAX - held ? UINT64_MAX : avail + held;
}

static uint64_t capacity(uint64_t pool, unsigned overcommit)
{
	return overcommit && pool > UINT64_MAX / overcommit ? UINT64_MAX : pool * overcommit;
}

int hl_quota_admit(struct agent *a, uint64_t bytes, bool force)
{
	unsigned oc;
	int rc = 0;

	pthread_mutex_lock(&a->cfg_lock);
	oc = a->cfg.overcommit;
	pthread_mutex_unlock(&a->cfg_lock);
	pthread_mutex_lock(&a->lock);
	if (!force && (bytes > capacity(a->pool_bytes, oc) ||
		       a->quota_bytes > capacity(a->pool_bytes, oc) - bytes))
		rc = -ENOSPC;
	else
		a->quota_bytes += bytes;
	pthread_mutex_unlock(&a->lock);
	return rc;
}

void hl_quota_return(struct agent *a, uint64_t bytes)
{
	pthread_mutex_lock(&a->lock);
	a->quota_bytes -= bytes < a->quota_bytes ? bytes : a->quota_bytes;
	pthread_mutex_unlock(&a->lock);
}

/* On the loop thread: the monitor is its alone. */
static void monitor_numbers(struct agent *a, void *arg)
{
	struct hl_pool_numbers *n = arg;

	if (!a->ep_node)
		return;
	hl_mon_get_usage(a->ep_node, NULL, &n->used);
	hl_mon_get_refused(a->ep_node, n->refused);
}

void hl_pool_numbers(struct agent *a, struct hl_pool_numbers *n)
{
	struct hl_hp_info h;

	memset(n, 0, sizeof(*n));
	pthread_mutex_lock(&a->cfg_lock);
	n->overcommit = a->cfg.overcommit;
	pthread_mutex_unlock(&a->cfg_lock);
	pthread_mutex_lock(&a->lock);
	n->pool = a->pool_bytes;
	n->quota = a->quota_bytes;
	pthread_mutex_unlock(&a->lock);
	n->capacity = capacity(n->pool, n->overcommit);
	if (hl_hp_read(&h) == 0)
		n->free = hl_hp_available(&h);
	hl_run_on_loop(a, monitor_numbers, n);
}
