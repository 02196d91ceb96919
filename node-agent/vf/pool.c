/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The VF slot pool: open (discovery), allocation, release.
 *
 * Every function that looks at a slot takes that VF's flock first and then
 * re-reads the record, so the decision "free -> owner" is made under the
 * lock by exactly one thread or process; nothing about slot state is cached
 * in memory. Only one VF lock is held at a time: no lock ordering issues.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hl_util.h"
#include "vf_private.h"

void hl_vfi_log(const struct hl_vf_pool *p, int level, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (!p->log)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	p->log(p->log_arg, level, msg);
}

static bool pf_name_ok(const char *s)
{
	return s[0] && strlen(s) < IF_NAMESIZE && !strchr(s, '/') && strcmp(s, ".") &&
	       strcmp(s, "..");
}

static int pool_init(struct hl_vf_pool *p, const struct hl_vf_pool_opts *o)
{
	int rc;

	p->host_nsfd = -1;
	p->log = o->log;
	p->log_arg = o->log_arg;
	p->sysfs_root = strdup(o->sysfs_root ? o->sysfs_root : "/sys");
	p->state_dir = strdup(o->state_dir);
	if (!p->sysfs_root || !p->state_dir)
		return -ENOMEM;
	rc = hl_mkdir_p(p->state_dir, 0700);
	if (rc)
		return rc;
	/* VFs come back to this netns on release, also from another thread */
	p->host_nsfd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (p->host_nsfd < 0)
		return -errno;
	return hl_vfi_discover(p, o->pfs);
}

struct hl_vf_pool *hl_vf_pool_open(const struct hl_vf_pool_opts *o)
{
	struct hl_vf_pool *p;
	int rc;

	if (!o || !o->state_dir || !o->state_dir[0] || !o->pfs[0]) {
		errno = EINVAL;
		return NULL;
	}
	for (size_t i = 0; i < HL_VF_MAX_PFS && o->pfs[i]; i++) {
		if (!pf_name_ok(o->pfs[i])) {
			errno = EINVAL;
			return NULL;
		}
	}
	p = calloc(1, sizeof(*p));
	if (!p) {
		errno = ENOMEM;
		return NULL;
	}
	rc = pool_init(p, o);
	if (rc) {
		hl_vf_pool_close(p);
		errno = -rc;
		return NULL;
	}
	for (size_t i = 0; i < p->n; i++) {
		struct hl_vf_info in;

		if (!hl_vf_get(p, i, &in) && in.state != HL_VF_FREE)
			hl_vfi_log(p, HL_VF_LOG_INFO, "vf %s: kept owner %s (gen %llu, state %d)",
				   in.pci, in.owner, (unsigned long long)in.gen, (int)in.state);
	}
	return p;
}

void hl_vf_pool_close(struct hl_vf_pool *p)
{
	if (!p)
		return;
	if (p->host_nsfd >= 0)
		close(p->host_nsfd);
	free(p->vfs);
	free(p->sysfs_root);
	free(p->state_dir);
	free(p);
}

size_t hl_vf_count(const struct hl_vf_pool *p)
{
	return p ? p->n : 0;
}

static void info_fill(const struct vf_dev *d, const struct vf_rec *r, struct hl_vf_info *out)
{
	if (!out)
		return;
	memset(out, 0, sizeof(*out));
	memcpy(out->pci, d->pci, sizeof(out->pci));
	memcpy(out->pf, d->pf, sizeof(out->pf));
	memcpy(out->pf_pci, d->pf_pci, sizeof(out->pf_pci));
	memcpy(out->driver, d->driver, sizeof(out->driver));
	out->vf = d->vf;
	out->dpdk = d->dpdk;
	memcpy(out->netdev, r->has_orig ? r->orig_name : d->netdev, sizeof(out->netdev));
	out->state = r->state;
	memcpy(out->owner, r->owner, sizeof(out->owner));
	out->gen = r->gen;
}

int hl_vf_get(struct hl_vf_pool *p, size_t i, struct hl_vf_info *out)
{
	struct vf_rec r;
	int fd, rc;

	if (!p || i >= p->n)
		return -ERANGE;
	fd = hl_vfi_lock(p, p->vfs[i].pci);
	if (fd < 0)
		return fd;
	rc = hl_vfi_rec_load(p, p->vfs[i].pci, &r);
	hl_vfi_unlock(fd);
	if (!rc)
		info_fill(&p->vfs[i], &r, out);
	return rc;
}

static int owner_check(const char *owner)
{
	return (!owner || !owner[0] || strlen(owner) >= HL_VF_OWNER_MAX) ? -EINVAL : 0;
}

static bool wanted(const struct vf_dev *d, enum hl_vf_want want)
{
	return want == HL_VF_WANT_ANY || (want == HL_VF_WANT_DPDK) == d->dpdk;
}

/* Take VF @d (locked by the caller, record @r is free) for @owner: record
 * the netdev's current state before anything can change it. */
static int take(struct hl_vf_pool *p, const struct vf_dev *d, struct vf_rec *r,
		const char *owner)
{
	struct vf_rec n = { 0 };

	if (!d->dpdk) {
		struct hlnl_link l;
		struct hlnl *nl;
		int rc = hl_vfi_sysfs_netdev(p, d->pci, n.orig_name);

		if (rc)
			return rc == -ENOENT ? -ENODEV : rc;
		nl = hl_vfi_nl_open(p->host_nsfd);
		if (!nl)
			return -errno;
		rc = hlnl_link_get(nl, n.orig_name, 0, &l);
		hlnl_close(nl);
		if (rc)
			return rc;
		n.has_orig = true;
		memcpy(n.orig_mac, l.mac, 6);
		n.orig_mtu = l.mtu;
		n.orig_up = (l.flags & IFF_UP) != 0;
	}
	n.state = HL_VF_ALLOCATED;
	n.gen = r->gen + 1;
	snprintf(n.owner, sizeof(n.owner), "%s", owner);
	*r = n;
	return hl_vfi_rec_save(p, d->pci, r);
}

/* Locks VF @i and loads its record; returns the lock fd or -errno. */
static int lock_load(struct hl_vf_pool *p, size_t i, struct vf_rec *r)
{
	int fd = hl_vfi_lock(p, p->vfs[i].pci), rc;

	if (fd < 0)
		return fd;
	rc = hl_vfi_rec_load(p, p->vfs[i].pci, r);
	if (rc) {
		hl_vfi_unlock(fd);
		return rc;
	}
	return fd;
}

/* Index of the VF @owner holds, its lock fd in *fd and record in @r;
 * -ENOENT when it holds none. */
int hl_vfi_find_owner(struct hl_vf_pool *p, const char *owner, struct vf_rec *r, int *fd)
{
	for (size_t i = 0; i < p->n; i++) {
		int lfd = lock_load(p, i, r);

		if (lfd == -EBADMSG)
			continue; /* a corrupt record has no owner we can match */
		if (lfd < 0)
			return lfd;
		if (r->state != HL_VF_FREE && !strcmp(r->owner, owner)) {
			*fd = lfd;
			return (int)i;
		}
		hl_vfi_unlock(lfd);
	}
	return -ENOENT;
}

static int alloc_one(struct hl_vf_pool *p, size_t i, const char *owner, struct hl_vf_info *out)
{
	struct vf_rec r;
	int fd = lock_load(p, i, &r), rc;

	if (fd < 0)
		return fd;
	if (r.state != HL_VF_FREE) {
		hl_vfi_unlock(fd);
		return -EBUSY;
	}
	rc = take(p, &p->vfs[i], &r, owner);
	hl_vfi_unlock(fd);
	if (rc) {
		hl_vfi_log(p, HL_VF_LOG_WARN, "vf %s: cannot allocate: %s", p->vfs[i].pci,
			   strerror(-rc));
		return rc;
	}
	info_fill(&p->vfs[i], &r, out);
	hl_vfi_log(p, HL_VF_LOG_INFO, "vf %s: allocated to %s (gen %llu)", p->vfs[i].pci,
		   owner, (unsigned long long)r.gen);
	return 0;
}

static int find_existing(struct hl_vf_pool *p, const char *owner, struct hl_vf_info *out)
{
	struct vf_rec r;
	int fd, i = hl_vfi_find_owner(p, owner, &r, &fd);

	if (i < 0)
		return i;
	hl_vfi_unlock(fd);
	info_fill(&p->vfs[i], &r, out);
	return 0;
}

int hl_vf_alloc(struct hl_vf_pool *p, const char *owner, enum hl_vf_want want,
		struct hl_vf_info *out)
{
	int rc;

	if (!p || owner_check(owner))
		return -EINVAL;
	rc = find_existing(p, owner, out);
	if (rc != -ENOENT)
		return rc;
	for (size_t i = 0; i < p->n; i++) {
		if (!wanted(&p->vfs[i], want))
			continue;
		rc = alloc_one(p, i, owner, out);
		if (rc == 0)
			return 0;
		if (rc != -EBUSY && rc != -ENODEV && rc != -EBADMSG)
			return rc;
	}
	hl_vfi_log(p, HL_VF_LOG_WARN, "no free VF for %s", owner);
	return -EAGAIN;
}

int hl_vf_alloc_pci(struct hl_vf_pool *p, const char *owner, const char *pci,
		    struct hl_vf_info *out)
{
	int rc;

	if (!p || owner_check(owner) || !pci)
		return -EINVAL;
	rc = find_existing(p, owner, out);
	if (rc == 0)
		return strcmp(out->pci, pci) ? -EBUSY : 0;
	if (rc != -ENOENT)
		return rc;
	for (size_t i = 0; i < p->n; i++)
		if (!strcmp(p->vfs[i].pci, pci))
			return alloc_one(p, i, owner, out);
	return -ENODEV;
}

int hl_vf_release(struct hl_vf_pool *p, const char *owner)
{
	struct vf_rec r;
	uint64_t gen;
	int fd, i, rc;

	if (!p || owner_check(owner))
		return -EINVAL;
	i = hl_vfi_find_owner(p, owner, &r, &fd);
	if (i == -ENOENT) {
		hl_vfi_log(p, HL_VF_LOG_DEBUG, "release %s: holds no VF", owner);
		return 0;
	}
	if (i < 0)
		return i;
	rc = hl_vfi_restore(p, &p->vfs[i], &r);
	if (!rc) {
		gen = r.gen;
		memset(&r, 0, sizeof(r));
		r.gen = gen;
		rc = hl_vfi_rec_save(p, p->vfs[i].pci, &r);
	}
	hl_vfi_unlock(fd);
	hl_vfi_log(p, rc ? HL_VF_LOG_ERR : HL_VF_LOG_INFO, "vf %s: release by %s: %s",
		   p->vfs[i].pci, owner, rc ? strerror(-rc) : "freed");
	return rc;
}

const char *hl_vf_strerror(int err)
{
	switch (err) {
	case -EAGAIN:
		return "no free SR-IOV VF in the pool (try again later)";
	case -ENOENT:
		return "the owner holds no VF";
	case -EMEDIUMTYPE:
		return "the VF is in the other mode (kernel netdev vs. userspace driver)";
	case -EBUSY:
		return "the VF is held by another owner";
	case -ENODEV:
		return "no such VF or netdev";
	default:
		return strerror(err < 0 ? -err : err);
	}
}
