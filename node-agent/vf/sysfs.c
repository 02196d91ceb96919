/* SPDX-License-Identifier: Apache-2.0 */
/*
 * VF discovery from sysfs. Reads only what real sysfs has:
 *   <root>/class/net/<pf>/device           -> .../<pf pci>
 *   <root>/class/net/<pf>/device/virtfnN   -> ../<vf pci>
 *   <root>/class/net/<pf>/device/sriov_{num,total}vfs (optional)
 *   <root>/bus/pci/devices/<vf>/driver     -> .../drivers/<name>
 *   <root>/bus/pci/devices/<vf>/net/<ifname> (absent for userspace drivers)
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vf_private.h"

/* Drivers that take the VF away from the kernel network stack. */
static const char *const userspace_drivers[] = { "vfio-pci", "uio_pci_generic", "igb_uio" };

bool hl_vfi_pci_valid(const char *s)
{
	/* dddd:bb:dd.f, hex digits */
	static const char shape[] = "xxxx:xx:xx.x";

	if (strlen(s) != sizeof(shape) - 1)
		return false;
	for (size_t i = 0; shape[i]; i++) {
		if (shape[i] == 'x' ? !isxdigit((unsigned char)s[i]) : s[i] != shape[i])
			return false;
	}
	return true;
}

/* basename of a symlink's target into @out; -errno (ENOENT when absent). */
static int link_base(const char *path, char *out, size_t len)
{
	char target[PATH_MAX];
	ssize_t n = readlink(path, target, sizeof(target) - 1);
	const char *base;

	if (n < 0)
		return -errno;
	target[n] = '\0';
	base = strrchr(target, '/');
	base = base ? base + 1 : target;
	if (!*base || strlen(base) >= len)
		return -EINVAL;
	strcpy(out, base);
	return 0;
}

static int read_uint(const char *path, unsigned int *v)
{
	FILE *f = fopen(path, "re");
	int rc;

	if (!f)
		return -errno;
	rc = fscanf(f, "%u", v) == 1 ? 0 : -EINVAL;
	fclose(f);
	return rc;
}

int hl_vfi_sysfs_netdev(const struct hl_vf_pool *p, const char *pci, char *name)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *d;
	int rc = -ENOENT;

	name[0] = '\0';
	if (snprintf(path, sizeof(path), "%s/bus/pci/devices/%s/net", p->sysfs_root, pci) >=
	    (int)sizeof(path))
		return -ENAMETOOLONG;
	d = opendir(path);
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.' || strlen(de->d_name) >= IF_NAMESIZE)
			continue;
		strcpy(name, de->d_name);
		rc = 0;
		break;
	}
	closedir(d);
	return rc;
}

static int vf_fill(struct hl_vf_pool *p, struct vf_dev *v)
{
	char path[PATH_MAX];
	int rc;

	snprintf(path, sizeof(path), "%s/bus/pci/devices/%s/driver", p->sysfs_root, v->pci);
	rc = link_base(path, v->driver, sizeof(v->driver));
	if (rc && rc != -ENOENT)
		return rc;
	for (size_t i = 0; i < sizeof(userspace_drivers) / sizeof(userspace_drivers[0]); i++)
		if (!strcmp(v->driver, userspace_drivers[i]))
			v->dpdk = true;
	rc = hl_vfi_sysfs_netdev(p, v->pci, v->netdev);
	if (rc && rc != -ENOENT)
		hl_vfi_log(p, HL_VF_LOG_DEBUG, "vf %s: no netdev (%s)", v->pci, strerror(-rc));
	return 0;
}

static int vf_push(struct hl_vf_pool *p, const struct vf_dev *v)
{
	struct vf_dev *n = realloc(p->vfs, (p->n + 1) * sizeof(*n));

	if (!n)
		return -ENOMEM;
	p->vfs = n;
	p->vfs[p->n++] = *v;
	return 0;
}

/* "virtfn<digits>" -> N */
static bool virtfn_index(const char *name, unsigned int *vf)
{
	char *end;
	unsigned long n;

	if (strncmp(name, "virtfn", 6) || !isdigit((unsigned char)name[6]))
		return false;
	n = strtoul(name + 6, &end, 10);
	if (*end || n > 65535)
		return false;
	*vf = (unsigned int)n;
	return true;
}

static int discover_pf(struct hl_vf_pool *p, const char *pf)
{
	char dir[PATH_MAX], path[PATH_MAX + 320], pf_pci[HL_VF_PCI_LEN] = "";
	unsigned int num = 0, total = 0;
	struct dirent *de;
	size_t before = p->n;
	DIR *d;
	int rc = 0;

	if (snprintf(dir, sizeof(dir), "%s/class/net/%s/device", p->sysfs_root, pf) >=
	    (int)sizeof(dir))
		return -ENAMETOOLONG;
	if (link_base(dir, pf_pci, sizeof(pf_pci)) || !hl_vfi_pci_valid(pf_pci))
		pf_pci[0] = '\0';
	snprintf(path, sizeof(path), "%s/sriov_numvfs", dir);
	read_uint(path, &num);
	snprintf(path, sizeof(path), "%s/sriov_totalvfs", dir);
	read_uint(path, &total);
	d = opendir(dir);
	if (!d)
		return -errno;
	while (!rc && (de = readdir(d))) {
		struct vf_dev v = { 0 };

		if (!virtfn_index(de->d_name, &v.vf))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (link_base(path, v.pci, sizeof(v.pci)) || !hl_vfi_pci_valid(v.pci)) {
			hl_vfi_log(p, HL_VF_LOG_WARN, "pf %s: %s is not a link to a PCI device",
				   pf, de->d_name);
			continue;
		}
		snprintf(v.pf, sizeof(v.pf), "%s", pf);
		memcpy(v.pf_pci, pf_pci, sizeof(pf_pci));
		rc = vf_fill(p, &v);
		if (!rc)
			rc = vf_push(p, &v);
	}
	closedir(d);
	hl_vfi_log(p, HL_VF_LOG_INFO, "pf %s (%s): %zu VFs (sriov_numvfs %u, totalvfs %u)",
		   pf, pf_pci[0] ? pf_pci : "?", p->n - before, num, total);
	return rc;
}

static int vf_cmp(const void *a, const void *b)
{
	const struct vf_dev *x = a, *y = b;
	int c = strcmp(x->pf, y->pf);

	if (c)
		return c;
	return x->vf < y->vf ? -1 : x->vf > y->vf;
}

int hl_vfi_discover(struct hl_vf_pool *p, const char *const *pfs)
{
	for (size_t i = 0; i < HL_VF_MAX_PFS && pfs[i]; i++) {
		int rc = discover_pf(p, pfs[i]);

		if (rc) {
			hl_vfi_log(p, HL_VF_LOG_ERR, "pf %s: %s", pfs[i], strerror(-rc));
			return rc;
		}
	}
	qsort(p->vfs, p->n, sizeof(p->vfs[0]), vf_cmp);
	for (size_t i = 1; i < p->n; i++) {
		for (size_t j = 0; j < i; j++)
			if (!strcmp(p->vfs[i].pci, p->vfs[j].pci))
				return -EINVAL; /* a PF listed twice */
	}
	return 0;
}
