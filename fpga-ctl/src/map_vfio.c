/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The mapping layer of a board: vfio (type-1 IOMMU). The device's IOMMU
 * group from sysfs, a container, the group in it, the device fd, BAR0
 * mapped (region info says where), host memory mapped for DMA at the
 * IOVAs the API hands out, MSI-X vectors to eventfds. Needs the device
 * bound to vfio-pci and an IOMMU; without either the open fails with
 * ENODEV and says nothing else. Every system call goes through
 * fctl_vfio_sys, so a unit test can check each one's arguments.
 */
#include "fctl_private.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/vfio.h>

static ssize_t sys_readlink(const char *path, char *buf, size_t len)
{
	return readlink(path, buf, len);
}

static int sys_open(const char *path, int flags)
{
	return open(path, flags);
}

static int sys_ioctl(int fd, unsigned long req, void *arg)
{
	return ioctl(fd, req, arg);
}

static void *sys_mmap(size_t len, int fd, off_t off)
{
	return mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, off);
}

static const struct fctl_vfio_sys real = {
	.readlink = sys_readlink, .open = sys_open, .close = close, .ioctl = sys_ioctl,
	.mmap = sys_mmap, .munmap = munmap,
};
const struct fctl_vfio_sys *fctl_vfio_sys = &real;
#define SYS fctl_vfio_sys

/* ioctl with a plain argument (what the kernel takes as unsigned long) */
static int ioctl_arg(int fd, unsigned long req, unsigned long arg)
{
	return SYS->ioctl(fd, req, (void *)arg);
}

static int err(void)
{
	return errno ? -errno : -EIO;
}

/* The IOMMU group number of PCI device @bdf, or -ENODEV. */
static int iommu_group(const char *bdf)
{
	char path[PATH_MAX], link[PATH_MAX];
	const char *slash;
	ssize_t n;
	int g;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/iommu_group", bdf);
	n = SYS->readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return -ENODEV;  /* no such device, or no IOMMU */
	link[n] = 0;
	slash = strrchr(link, '/');
	if (!slash || sscanf(slash + 1, "%d", &g) != 1 || g < 0)
		return -ENODEV;
	return g;
}

static void vfio_close(struct fctl_dev *d)
{
	if (d->bar && d->bar != MAP_FAILED)
		SYS->munmap((void *)d->bar, d->bar_len);
	d->bar = NULL;
	if (d->device >= 0)
		SYS->close(d->device);
	if (d->group >= 0)
		SYS->close(d->group);
	if (d->container >= 0)
		SYS->close(d->container);
	d->device = d->group = d->container = -1;
}

static int vfio_open(struct fctl_dev *d, const char *bdf)
{
	struct vfio_group_status gs = { .argsz = sizeof(gs) };
	struct vfio_region_info ri = { .argsz = sizeof(ri), .index = VFIO_PCI_BAR0_REGION_INDEX };
	char path[64];
	int g = iommu_group(bdf), rc;

	if (g < 0)
		return g;
	d->container = SYS->open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
	if (d->container < 0)
		return errno == ENOENT ? -ENODEV : err();
	if (ioctl_arg(d->container, VFIO_GET_API_VERSION, 0) != VFIO_API_VERSION ||
	    ioctl_arg(d->container, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU) != 1) {
		rc = -ENODEV;
		goto fail;
	}
	snprintf(path, sizeof(path), "/dev/vfio/%d", g);
	d->group = SYS->open(path, O_RDWR | O_CLOEXEC);
	if (d->group < 0) {
		rc = errno == ENOENT ? -ENODEV : err();  /* not bound to vfio-pci */
		goto fail;
	}
	if (SYS->ioctl(d->group, VFIO_GROUP_GET_STATUS, &gs) || !(gs.flags & VFIO_GROUP_FLAGS_VIABLE)) {
		rc = -EBUSY;  /* another device of the group is bound to a host driver */
		goto fail;
	}
	if (SYS->ioctl(d->group, VFIO_GROUP_SET_CONTAINER, &d->container) ||
	    ioctl_arg(d->container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU)) {
		rc = err();
		goto fail;
	}
	d->device = SYS->ioctl(d->group, VFIO_GROUP_GET_DEVICE_FD, (void *)bdf);
	if (d->device < 0) {
		rc = err();
		goto fail;
	}
	if (SYS->ioctl(d->device, VFIO_DEVICE_GET_REGION_INFO, &ri)) {
		rc = err();
		goto fail;
	}
	if (!(ri.flags & VFIO_REGION_INFO_FLAG_MMAP) || ri.size < FPGACTL_BAR_SIZE) {
		rc = -ENODEV;  /* not this engine's BAR */
		goto fail;
	}
	d->bar_len = FPGACTL_BAR_SIZE;
	d->bar = SYS->mmap(d->bar_len, d->device, (off_t)ri.offset);
	if (d->bar == MAP_FAILED) {
		rc = err();
		goto fail;
	}
	return 0;
fail:
	vfio_close(d);
	return rc;
}

static uint32_t vfio_rd(struct fctl_dev *d, uint32_t off)
{
	return d->bar[off / 4];
}

static void vfio_wr(struct fctl_dev *d, uint32_t off, uint32_t val)
{
	d->bar[off / 4] = val;
}

static int vfio_dma_map(struct fctl_dev *d, const struct fctl_map_ent *m)
{
	struct vfio_iommu_type1_dma_map dm = {
		.argsz = sizeof(dm),
		.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
		.vaddr = (uintptr_t)m->va, .iova = m->iova, .size = m->size,
	};

	return SYS->ioctl(d->container, VFIO_IOMMU_MAP_DMA, &dm) ? err() : 0;
}

static int vfio_dma_unmap(struct fctl_dev *d, const struct fctl_map_ent *m)
{
	struct vfio_iommu_type1_dma_unmap du = { .argsz = sizeof(du), .iova = m->iova, .size = m->size };

	return SYS->ioctl(d->container, VFIO_IOMMU_UNMAP_DMA, &du) ? err() : 0;
}

static int vfio_irq(struct fctl_dev *d, unsigned vec, int efd)
{
	/* a vfio_irq_set and its one eventfd (its data) */
	_Alignas(struct vfio_irq_set) uint8_t buf[sizeof(struct vfio_irq_set) + sizeof(int32_t)];
	struct vfio_irq_set *set = (struct vfio_irq_set *)buf;
	int32_t fd = efd;

	*set = (struct vfio_irq_set){
		.argsz = sizeof(buf), .index = VFIO_PCI_MSIX_IRQ_INDEX, .start = vec, .count = 1,
		.flags = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER,
	};
	memcpy(buf + sizeof(*set), &fd, sizeof(fd));
	return SYS->ioctl(d->device, VFIO_DEVICE_SET_IRQS, set) ? err() : 0;
}

const struct fctl_map_ops fctl_map_vfio = {
	.name = "vfio",
	.open = vfio_open,
	.close = vfio_close,
	.rd = vfio_rd,
	.wr = vfio_wr,
	.dma_map = vfio_dma_map,
	.dma_unmap = vfio_dma_unmap,
	.irq = vfio_irq,
};
