/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Attaching a VF to a pod and putting it back.
 *
 * Order matters for crash safety: the record says ATTACHING (with the target
 * netns, the pod ifname, the PF originals and which PF settings will change)
 * before the first change, so a restarted agent's release knows where to
 * look and what to undo, whichever step the crash interrupted.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_link.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "vf_private.h"

static bool ifname_ok(const char *s)
{
	if (!s || !s[0] || strlen(s) >= IF_NAMESIZE || !strcmp(s, ".") || !strcmp(s, ".."))
		return false;
	for (; *s; s++)
		if (*s == '/' || *s == ':' || *s <= ' ')
			return false;
	return true;
}

static int conf_validate(const struct hl_vf_conf *c)
{
	static const uint8_t zero[6];

	if (c->mtu && (c->mtu < 68 || c->mtu > 65535))
		return -EINVAL;
	if (c->has_mac && ((c->mac[0] & 1) || !memcmp(c->mac, zero, 6)))
		return -EINVAL; /* multicast or all-zero */
	return hl_vfi_pf_validate(&c->pf);
}

/* A rate half that was not asked for keeps its current value. */
static void merge_rate(struct hl_vf_pf_settings *s, const struct vf_rec *r)
{
	if (!r->has_pf_orig || !r->pf_orig.has_rate)
		return;
	if (s->has_min_tx_rate && !s->has_max_tx_rate) {
		s->has_max_tx_rate = true;
		s->max_tx_rate = r->pf_orig.max_tx_rate;
	} else if (s->has_max_tx_rate && !s->has_min_tx_rate) {
		s->has_min_tx_rate = true;
		s->min_tx_rate = r->pf_orig.min_tx_rate;
	}
}

/* Deterministic spare name for a VF whose original name is taken. */
static void spare_name(const struct vf_dev *d, char *out)
{
	uint32_t h = 2166136261u;

	for (const char *s = d->pci; *s; s++)
		h = (h ^ (uint8_t)*s) * 16777619u;
	snprintf(out, IF_NAMESIZE, "hlvf%08x", h);
}

static int find_link(struct hlnl *nl, const char *const *names, size_t n,
		     struct hlnl_link *l)
{
	int rc = -ENODEV;

	for (size_t i = 0; i < n && rc == -ENODEV; i++)
		if (names[i] && names[i][0])
			rc = hlnl_link_get(nl, names[i], 0, l);
	return rc;
}

/* A change to the name alone (NULL: none) and the up flag. */
static struct hlnl_link_mod mod_name(const char *name, int up)
{
	struct hlnl_link_mod m = HLNL_LINK_MOD_INIT;

	m.name = name;
	m.up = up;
	return m;
}

/* A move into the netns of @nsfd and nothing else. */
static struct hlnl_link_mod mod_move(int nsfd)
{
	struct hlnl_link_mod m = HLNL_LINK_MOD_INIT;

	m.nsfd = nsfd;
	return m;
}

/* Move the VF netdev out of the pod netns (@pod's), under its original name
 * if free there and in the host, else the spare name. 0 also when it is not
 * there. */
static int pod_return(struct hl_vf_pool *p, const struct vf_dev *d, const struct vf_rec *r,
		      struct hlnl *pod)
{
	char spare[IF_NAMESIZE];
	const char *names[3] = { r->ifname, r->orig_name, spare };
	struct hlnl_link l;
	struct hlnl_link_mod m;
	int rc;

	spare_name(d, spare);
	rc = find_link(pod, names, 3, &l);
	if (rc)
		return rc == -ENODEV ? 0 : rc;
	m = mod_name(strcmp(l.name, r->orig_name) ? r->orig_name : NULL, 0);
	rc = hlnl_link_modify(pod, l.index, &m);
	if (rc == -EEXIST) {
		m = mod_name(spare, 0);
		rc = hlnl_link_modify(pod, l.index, &m);
	}
	if (rc)
		return rc;
	m = mod_move(p->host_nsfd);
	rc = hlnl_link_modify(pod, l.index, &m);
	if (rc == -EEXIST) { /* its name is taken in the host: come back as spare */
		m = mod_name(spare, -1);
		rc = hlnl_link_modify(pod, l.index, &m);
		m = mod_move(p->host_nsfd);
		if (!rc)
			rc = hlnl_link_modify(pod, l.index, &m);
	}
	return rc;
}

/* In the host (@host's netns): give back name, MAC, MTU and up flag. Best
 * effort. */
static void host_fix(struct hl_vf_pool *p, const struct vf_dev *d, const struct vf_rec *r,
		     struct hlnl *host)
{
	char spare[IF_NAMESIZE], cur[IF_NAMESIZE] = "";
	const char *names[3] = { r->orig_name, spare, cur };
	struct hlnl_link l;
	struct hlnl_link_mod m = HLNL_LINK_MOD_INIT;
	int rc;

	spare_name(d, spare);
	/* after a pod netns died the kernel returned it under whatever name */
	hl_vfi_sysfs_netdev(p, d->pci, cur);
	rc = find_link(host, names, 3, &l);
	if (rc) {
		hl_vfi_log(p, HL_VF_LOG_WARN, "vf %s: netdev %s not found to restore: %s",
			   d->pci, r->orig_name, strerror(-rc));
		return;
	}
	if (strcmp(l.name, r->orig_name)) {
		m = mod_name(r->orig_name, -1);
		rc = hlnl_link_modify(host, l.index, &m);
		if (rc)
			hl_vfi_log(p, HL_VF_LOG_WARN, "vf %s: rename %s -> %s: %s", d->pci,
				   l.name, r->orig_name, strerror(-rc));
	}
	m = mod_name(NULL, r->orig_up);
	m.mac = r->orig_mac;
	m.mtu = r->orig_mtu;
	rc = hlnl_link_modify(host, l.index, &m);
	if (rc)
		hl_vfi_log(p, HL_VF_LOG_WARN, "vf %s: restore MAC/MTU of %s: %s", d->pci,
			   r->orig_name, strerror(-rc));
}

/* Opens the pod netns of @r and brings the netdev back from it. 0 when the
 * netns is gone (the kernel returned the netdev to the host with it). */
static int pod_leave(struct hl_vf_pool *p, const struct vf_dev *d, const struct vf_rec *r)
{
	int podfd = open(r->netns, O_RDONLY | O_CLOEXEC), rc;
	struct hlnl *pod;

	if (podfd < 0)
		return 0;
	pod = hl_vfi_nl_open(podfd);
	rc = pod ? pod_return(p, d, r, pod) : -errno;
	hlnl_close(pod);
	close(podfd);
	return rc;
}

int hl_vfi_restore(struct hl_vf_pool *p, const struct vf_dev *d, struct vf_rec *r)
{
	bool moved = r->state == HL_VF_ATTACHING || r->state == HL_VF_ATTACHED;

	if (moved && r->has_orig) {
		int rc = pod_leave(p, d, r);
		struct hlnl *host;

		if (rc) {
			hl_vfi_log(p, HL_VF_LOG_ERR, "vf %s: cannot leave netns %s: %s",
				   d->pci, r->netns, strerror(-rc));
			return rc;
		}
		host = hl_vfi_nl_open(p->host_nsfd);
		if (host)
			host_fix(p, d, r, host);
		else
			hl_vfi_log(p, HL_VF_LOG_WARN, "vf %s: no netlink in the host netns: %s",
				   d->pci, strerror(errno));
		hlnl_close(host);
	}
	if (moved && hl_vfi_pf_any(&r->pf_applied))
		hl_vfi_pf_restore(p, d, r);
	return 0;
}

/* Record the PF originals and mark ATTACHING (persisted), then apply. */
static int pf_prepare(struct hl_vf_pool *p, const struct vf_dev *d, struct vf_rec *r,
		      struct hl_vf_pf_settings *s)
{
	int rc;

	r->has_pf_orig = false;
	if (hl_vfi_pf_any(s)) {
		rc = hl_vfi_pf_read(p, d, &r->pf_orig);
		if (rc && rc != -ENOENT)
			return rc; /* no PF to talk to: nothing changed yet */
		r->has_pf_orig = !rc;
		if (rc)
			hl_vfi_log(p, HL_VF_LOG_WARN, "vf %s: PF %s reports no VF state; "
				   "restore will use defaults", d->pci, d->pf);
		merge_rate(s, r);
	}
	r->pf_applied = *s;
	r->state = HL_VF_ATTACHING;
	return hl_vfi_rec_save(p, d->pci, r);
}

/* Down in the host, into the pod netns, renamed with the MAC and MTU asked
 * for, up: one request each, so a failure says which step failed. */
static int netdev_move(const struct vf_rec *r, struct hlnl *host, struct hlnl *pod,
		       int podfd, const struct hl_vf_conf *conf)
{
	struct hlnl_link_mod m = mod_name(NULL, 0);
	struct hlnl_link l;
	int rc = hlnl_link_get(host, r->orig_name, 0, &l);

	if (!rc)
		rc = hlnl_link_modify(host, l.index, &m);
	m = mod_move(podfd);
	if (!rc)
		rc = hlnl_link_modify(host, l.index, &m);
	if (!rc) /* its ifindex may change in the new netns: look it up again */
		rc = hlnl_link_get(pod, r->orig_name, 0, &l);
	m = mod_name(r->ifname, -1);
	m.mac = conf->has_mac ? conf->mac : NULL;
	m.mtu = conf->mtu;
	if (!rc)
		rc = hlnl_link_modify(pod, l.index, &m);
	m = mod_name(NULL, 1);
	if (!rc)
		rc = hlnl_link_modify(pod, l.index, &m);
	return rc;
}

static int netdev_move_in(struct hl_vf_pool *p, const struct vf_rec *r, int podfd,
			  const struct hl_vf_conf *conf)
{
	struct hlnl *host = hl_vfi_nl_open(p->host_nsfd), *pod = NULL;
	int rc = host ? 0 : -errno;

	if (!rc) {
		pod = hl_vfi_nl_open(podfd);
		rc = pod ? 0 : -errno;
	}
	if (!rc)
		rc = netdev_move(r, host, pod, podfd, conf);
	hlnl_close(pod);
	hlnl_close(host);
	return rc;
}

static int result_kernel(const struct vf_dev *d, int podfd, const char *ifname,
			 struct hl_vf_result *res)
{
	struct hlnl_link l;
	struct hlnl *pod;
	int rc;

	if (!res)
		return 0;
	pod = hl_vfi_nl_open(podfd);
	if (!pod)
		return -errno;
	rc = hlnl_link_get(pod, ifname, 0, &l);
	hlnl_close(pod);
	if (rc)
		return rc;
	memset(res, 0, sizeof(*res));
	memcpy(res->pci, d->pci, sizeof(res->pci));
	memcpy(res->pf_pci, d->pf_pci, sizeof(res->pf_pci));
	memcpy(res->driver, d->driver, sizeof(res->driver));
	memcpy(res->ifname, l.name, sizeof(res->ifname));
	memcpy(res->mac, l.mac, 6);
	res->mtu = l.mtu;
	res->ifindex = l.index;
	return 0;
}

/* Undo a failed attach; the slot stays with its owner (ALLOCATED). */
static void rollback(struct hl_vf_pool *p, const struct vf_dev *d, struct vf_rec *r)
{
	if (hl_vfi_restore(p, d, r))
		return; /* still ATTACHING on disk: release retries */
	r->state = HL_VF_ALLOCATED;
	r->netns[0] = r->ifname[0] = '\0';
	memset(&r->pf_applied, 0, sizeof(r->pf_applied));
	r->has_pf_orig = false;
	hl_vfi_rec_save(p, d->pci, r);
}

static int attach_kernel_locked(struct hl_vf_pool *p, const struct vf_dev *d,
				struct vf_rec *r, const char *netns_path, const char *ifname,
				const struct hl_vf_conf *conf, struct hl_vf_result *res)
{
	struct hl_vf_pf_settings s = conf->pf;
	int podfd, rc;

	if (r->state == HL_VF_ATTACHED) {
		if (strcmp(r->netns, netns_path) || strcmp(r->ifname, ifname))
			return -EBUSY;
		podfd = open(netns_path, O_RDONLY | O_CLOEXEC);
		if (podfd < 0)
			return -errno;
		rc = result_kernel(d, podfd, ifname, res);
		close(podfd);
		return rc;
	}
	if (r->state == HL_VF_ATTACHING) /* an attach died half way: undo it first */
		rollback(p, d, r);
	if (r->state != HL_VF_ALLOCATED)
		return -EIO;
	podfd = open(netns_path, O_RDONLY | O_CLOEXEC);
	if (podfd < 0)
		return -errno;
	snprintf(r->netns, sizeof(r->netns), "%s", netns_path);
	snprintf(r->ifname, sizeof(r->ifname), "%s", ifname);
	rc = pf_prepare(p, d, r, &s);
	if (rc) {
		close(podfd);
		r->netns[0] = r->ifname[0] = '\0';
		return rc;
	}
	rc = hl_vfi_pf_apply(p, d, &s);
	if (!rc)
		rc = netdev_move_in(p, r, podfd, conf);
	if (!rc) {
		r->state = HL_VF_ATTACHED;
		rc = hl_vfi_rec_save(p, d->pci, r);
	}
	if (!rc)
		rc = result_kernel(d, podfd, ifname, res);
	close(podfd);
	if (rc) {
		hl_vfi_log(p, HL_VF_LOG_ERR, "vf %s: attach to %s as %s failed: %s", d->pci,
			   netns_path, ifname, strerror(-rc));
		rollback(p, d, r);
	}
	return rc;
}

int hl_vf_attach_kernel(struct hl_vf_pool *p, const char *owner, const char *netns_path,
			const char *ifname, const struct hl_vf_conf *conf,
			struct hl_vf_result *res)
{
	static const struct hl_vf_conf none;
	struct vf_rec r;
	int fd, i, rc;

	if (!conf)
		conf = &none;
	if (!p || !owner || !owner[0] || !netns_path || !netns_path[0] ||
	    strlen(netns_path) >= PATH_MAX || !ifname_ok(ifname) || conf_validate(conf))
		return -EINVAL;
	i = hl_vfi_find_owner(p, owner, &r, &fd);
	if (i < 0)
		return i;
	if (p->vfs[i].dpdk || !r.has_orig)
		rc = -EMEDIUMTYPE;
	else
		rc = attach_kernel_locked(p, &p->vfs[i], &r, netns_path, ifname, conf, res);
	hl_vfi_unlock(fd);
	if (!rc)
		hl_vfi_log(p, HL_VF_LOG_INFO, "vf %s: %s attached to %s as %s", p->vfs[i].pci,
			   r.orig_name, netns_path, ifname);
	return rc;
}

static void result_dpdk(const struct vf_dev *d, struct hl_vf_result *res)
{
	if (!res)
		return;
	memset(res, 0, sizeof(*res));
	res->dpdk = true;
	memcpy(res->pci, d->pci, sizeof(res->pci));
	memcpy(res->pf_pci, d->pf_pci, sizeof(res->pf_pci));
	memcpy(res->driver, d->driver, sizeof(res->driver));
}

static int attach_dpdk_locked(struct hl_vf_pool *p, const struct vf_dev *d, struct vf_rec *r,
			      const struct hl_vf_conf *conf, struct hl_vf_result *res)
{
	struct hl_vf_pf_settings s = conf->pf;
	int rc;

	if (r->state == HL_VF_ATTACHED) {
		result_dpdk(d, res);
		return 0;
	}
	if (r->state == HL_VF_ATTACHING)
		rollback(p, d, r);
	if (r->state != HL_VF_ALLOCATED)
		return -EIO;
	rc = pf_prepare(p, d, r, &s);
	if (rc)
		return rc;
	rc = hl_vfi_pf_apply(p, d, &s);
	if (!rc) {
		r->state = HL_VF_ATTACHED;
		rc = hl_vfi_rec_save(p, d->pci, r);
	}
	if (rc) {
		hl_vfi_log(p, HL_VF_LOG_ERR, "vf %s: DPDK attach failed: %s", d->pci,
			   strerror(-rc));
		rollback(p, d, r);
		return rc;
	}
	result_dpdk(d, res);
	return 0;
}

int hl_vf_attach_dpdk(struct hl_vf_pool *p, const char *owner, const struct hl_vf_conf *conf,
		      struct hl_vf_result *res)
{
	static const struct hl_vf_conf none;
	struct vf_rec r;
	int fd, i, rc;

	if (!conf)
		conf = &none;
	if (!p || !owner || !owner[0] || hl_vfi_pf_validate(&conf->pf))
		return -EINVAL;
	i = hl_vfi_find_owner(p, owner, &r, &fd);
	if (i < 0)
		return i;
	rc = p->vfs[i].dpdk ? attach_dpdk_locked(p, &p->vfs[i], &r, conf, res) : -EMEDIUMTYPE;
	hl_vfi_unlock(fd);
	return rc;
}
