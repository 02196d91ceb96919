/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fpga-ctl's vfio mapping layer under the driver, against a fake system
 * call layer (this machine has no IOMMU and no board): every open, ioctl
 * and mmap is checked for its fd, request and arguments, in order; BAR0 is
 * a buffer holding a device's ID registers, so the whole driver (open,
 * secret, queue set-up, doorbells, DMA mapping, interrupts, close) runs
 * over it. Failure paths close what they opened.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <linux/vfio.h>

#include "fctl_private.h"
#include "hl_check.h"

#define BDF "0000:3b:00.0"
enum { FD_CONT = 100, FD_GROUP = 101, FD_DEV = 102 };

static _Alignas(4096) uint32_t bar[FPGACTL_BAR_SIZE / 4];
static char calls[2048];
static int fail_at;        /* make the call with this name fail */
static const char *fail_name;
static bool not_viable, no_mmap;
static struct vfio_iommu_type1_dma_map last_map;
static uint32_t last_irq[4];
static int32_t last_irq_fd;

static void log_call(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void log_call(const char *fmt, ...)
{
	va_list ap;
	size_t n = strlen(calls);

	va_start(ap, fmt);
	vsnprintf(calls + n, sizeof(calls) - n, fmt, ap);
	va_end(ap);
	strncat(calls, " ", sizeof(calls) - strlen(calls) - 1);
}

static bool failing(const char *name)
{
	return fail_name && !strcmp(fail_name, name) && (errno = fail_at, true);
}

static ssize_t f_readlink(const char *path, char *buf, size_t len)
{
	static const char link[] = "../../../kernel/iommu_groups/42";

	log_call("readlink");
	ck_assert_str_eq(path, "/sys/bus/pci/devices/" BDF "/iommu_group");
	if (failing("readlink"))
		return -1;
	ck_assert_uint_gt(len, sizeof(link));
	memcpy(buf, link, sizeof(link) - 1);
	return (ssize_t)sizeof(link) - 1;
}

static int f_open(const char *path, int flags)
{
	log_call("open:%s", path);
	ck_assert_int_eq(flags, O_RDWR | O_CLOEXEC);
	if (failing(path))
		return -1;
	if (!strcmp(path, "/dev/vfio/vfio"))
		return FD_CONT;
	ck_assert_str_eq(path, "/dev/vfio/42");
	return FD_GROUP;
}

static int f_close(int fd)
{
	log_call("close:%d", fd);
	return 0;
}

static int f_ioctl(int fd, unsigned long req, void *arg)
{
	switch (req) {
	case VFIO_GET_API_VERSION:
		log_call("API");
		ck_assert_int_eq(fd, FD_CONT);
		return VFIO_API_VERSION;
	case VFIO_CHECK_EXTENSION:
		log_call("EXT");
		ck_assert_int_eq(fd, FD_CONT);
		ck_assert_uint_eq((unsigned long)arg, VFIO_TYPE1v2_IOMMU);
		return 1;
	case VFIO_GROUP_GET_STATUS: {
		struct vfio_group_status *s = arg;

		log_call("STATUS");
		ck_assert_int_eq(fd, FD_GROUP);
		ck_assert_uint_eq(s->argsz, sizeof(*s));
		s->flags = not_viable ? 0 : VFIO_GROUP_FLAGS_VIABLE;
		return 0;
	}
	case VFIO_GROUP_SET_CONTAINER:
		log_call("SETCONT");
		ck_assert_int_eq(fd, FD_GROUP);
		ck_assert_int_eq(*(int *)arg, FD_CONT);
		return 0;
	case VFIO_SET_IOMMU:
		log_call("IOMMU");
		ck_assert_int_eq(fd, FD_CONT);
		ck_assert_uint_eq((unsigned long)arg, VFIO_TYPE1v2_IOMMU);
		return 0;
	case VFIO_GROUP_GET_DEVICE_FD:
		log_call("DEVFD");
		ck_assert_int_eq(fd, FD_GROUP);
		ck_assert_str_eq(arg, BDF);
		return FD_DEV;
	case VFIO_DEVICE_GET_REGION_INFO: {
		struct vfio_region_info *ri = arg;

		log_call("REGION");
		ck_assert_int_eq(fd, FD_DEV);
		ck_assert_uint_eq(ri->argsz, sizeof(*ri));
		ck_assert_uint_eq(ri->index, VFIO_PCI_BAR0_REGION_INDEX);
		ri->size = 0x10000;
		ri->offset = 0x7000000000ull;
		ri->flags = VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE |
			    (no_mmap ? 0 : VFIO_REGION_INFO_FLAG_MMAP);
		return 0;
	}
	case VFIO_IOMMU_MAP_DMA:
		log_call("MAP_DMA");
		ck_assert_int_eq(fd, FD_CONT);
		last_map = *(struct vfio_iommu_type1_dma_map *)arg;
		return 0;
	case VFIO_IOMMU_UNMAP_DMA: {
		struct vfio_iommu_type1_dma_unmap *u = arg;

		log_call("UNMAP_DMA");
		ck_assert_int_eq(fd, FD_CONT);
		ck_assert_uint_eq(u->argsz, sizeof(*u));
		ck_assert_uint_eq(u->iova, last_map.iova);
		ck_assert_uint_eq(u->size, last_map.size);
		return 0;
	}
	case VFIO_DEVICE_SET_IRQS: {
		struct vfio_irq_set *s = arg;

		log_call("IRQS");
		ck_assert_int_eq(fd, FD_DEV);
		ck_assert_uint_eq(s->argsz, sizeof(*s) + sizeof(int32_t));
		last_irq[0] = s->index;
		last_irq[1] = s->start;
		last_irq[2] = s->count;
		last_irq[3] = s->flags;
		memcpy(&last_irq_fd, s->data, sizeof(last_irq_fd));
		return 0;
	}
	default:
		ck_abort_msg("unexpected ioctl %#lx on fd %d", req, fd);
		return -1;
	}
}

static void *f_mmap(size_t len, int fd, off_t off)
{
	log_call("mmap");
	ck_assert_int_eq(fd, FD_DEV);
	ck_assert_uint_eq(len, FPGACTL_BAR_SIZE);
	ck_assert_uint_eq((uint64_t)off, 0x7000000000ull);
	return bar;
}

static int f_munmap(void *va, size_t len)
{
	log_call("munmap");
	ck_assert_ptr_eq(va, bar);
	ck_assert_uint_eq(len, FPGACTL_BAR_SIZE);
	return 0;
}

static const struct fctl_vfio_sys fake = {
	.readlink = f_readlink, .open = f_open, .close = f_close, .ioctl = f_ioctl,
	.mmap = f_mmap, .munmap = f_munmap,
};

static void setup(void)
{
	memset(bar, 0, sizeof(bar));
	bar[FPGACTL_REG_ID / 4] = FPGACTL_ID_MAGIC;
	bar[FPGACTL_REG_VERSION / 4] = FPGACTL_ABI_MAJOR << 16 | FPGACTL_ABI_MINOR;
	bar[FPGACTL_REG_NQ / 4] = 16;
	bar[FPGACTL_REG_N_PODS / 4] = 4096;
	bar[FPGACTL_REG_N_EPS / 4] = 4096;
	bar[FPGACTL_REG_POD_LOG2 / 4] = 8;
	bar[FPGACTL_REG_STATUS / 4] = FPGACTL_ST_IDLE;
	calls[0] = 0;
	fail_name = NULL;
	not_viable = no_mmap = false;
	fctl_vfio_sys = &fake;
}

#define OPEN_SEQ "readlink open:/dev/vfio/vfio API EXT open:/dev/vfio/42 STATUS SETCONT IOMMU " \
		 "DEVFD REGION mmap "

START_TEST(vfio_driver)
{
	struct fpgactl_opts o = { .device = BDF, .seed = { 1, 2, 3, 4, 5, 6, 7, 8 } };
	struct fpgactl_queue_cfg c = { .rq_log2 = 4, .eq_log2 = 5, .pod = 9 };
	static _Alignas(4096) uint8_t mem[8192];
	struct fpgactl_caps caps;
	struct fpgactl *f = fpgactl_open(&o);

	ck_assert_msg(f, "open: %s (calls: %s)", strerror(errno), calls);
	ck_assert_str_eq(calls, OPEN_SEQ);
	ck_assert_str_eq(fpgactl_name(f), "vfio");
	ck_assert_int_eq(fpgactl_caps(f, &caps), 0);
	ck_assert_uint_eq(caps.nq, 16);
	ck_assert_uint_eq(caps.pod_log2, 8);
	for (unsigned i = 0; i < FPGACTL_SEED_WORDS; i++)
		ck_assert_uint_eq(bar[FPGACTL_REG_SEED / 4 + i], i + 1);
	/* DMA: the memory, at the IOVA the driver hands out, read and write */
	calls[0] = 0;
	ck_assert_int_eq(fpgactl_mem_map(f, -1, mem, sizeof(mem), &c.rq_iova), 0);
	ck_assert_str_eq(calls, "MAP_DMA ");
	ck_assert_uint_eq(last_map.argsz, sizeof(last_map));
	ck_assert_uint_eq(last_map.vaddr, (uintptr_t)mem);
	ck_assert_uint_eq(last_map.iova, c.rq_iova);
	ck_assert_uint_eq(last_map.size, sizeof(mem));
	ck_assert_uint_eq(last_map.flags, VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE);
	/* a queue: the staging registers, then the command */
	c.eq_iova = c.rq_iova + 4096;
	ck_assert_int_eq(fpgactl_queue_enable(f, 3, &c), 0);
	ck_assert_uint_eq(bar[FPGACTL_REG_QSEL / 4], 3);
	ck_assert_uint_eq(bar[FPGACTL_REG_Q_RQ_LO / 4], (uint32_t)c.rq_iova);
	ck_assert_uint_eq(bar[FPGACTL_REG_Q_EQ_LO / 4], (uint32_t)c.eq_iova);
	ck_assert_uint_eq(bar[FPGACTL_REG_Q_SIZES / 4], 4 | 5 << 8);
	ck_assert_uint_eq(bar[FPGACTL_REG_Q_POD / 4], 9);
	ck_assert_uint_eq(bar[FPGACTL_REG_Q_CMD / 4], FPGACTL_QCMD_ENABLE);
	ck_assert_int_eq(fpgactl_doorbell(f, 3, 77), 0);
	ck_assert_uint_eq(bar[(FPGACTL_REG_DB + 8 * 3) / 4], 77);
	ck_assert_int_eq(fpgactl_run(f, true), 0);
	ck_assert_uint_eq(bar[FPGACTL_REG_CTL / 4], FPGACTL_CTL_RUN);
	/* interrupts: MSI-X vector q to the eventfd */
	calls[0] = 0;
	ck_assert_int_eq(fpgactl_irq_set(f, 3, 77), 0);
	ck_assert_str_eq(calls, "IRQS ");
	ck_assert_uint_eq(last_irq[0], VFIO_PCI_MSIX_IRQ_INDEX);
	ck_assert_uint_eq(last_irq[1], 3);
	ck_assert_uint_eq(last_irq[2], 1);
	ck_assert_uint_eq(last_irq[3], VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER);
	ck_assert_int_eq(last_irq_fd, 77);
	calls[0] = 0;
	ck_assert_int_eq(fpgactl_mem_unmap(f, c.rq_iova), 0);
	ck_assert_str_eq(calls, "UNMAP_DMA ");
	calls[0] = 0;
	fpgactl_close(f);
	ck_assert_str_eq(calls, "munmap close:102 close:101 close:100 ");
	ck_assert_uint_eq(bar[FPGACTL_REG_CTL / 4], 0);  /* stopped on close */
}
END_TEST

START_TEST(vfio_failures)
{
	struct fpgactl_opts o = { .device = BDF };

	fail_name = "readlink";
	fail_at = ENOENT;
	ck_assert_ptr_null(fpgactl_open(&o));
	ck_assert_int_eq(errno, ENODEV);  /* no device, or no IOMMU group */
	ck_assert_str_eq(calls, "readlink ");

	calls[0] = 0;
	fail_name = "/dev/vfio/42";  /* not bound to vfio-pci */
	ck_assert_ptr_null(fpgactl_open(&o));
	ck_assert_int_eq(errno, ENODEV);
	ck_assert_str_eq(calls, "readlink open:/dev/vfio/vfio API EXT open:/dev/vfio/42 close:100 ");

	calls[0] = 0;
	fail_name = NULL;
	not_viable = true;
	ck_assert_ptr_null(fpgactl_open(&o));
	ck_assert_int_eq(errno, EBUSY);
	ck_assert_str_eq(calls, "readlink open:/dev/vfio/vfio API EXT open:/dev/vfio/42 STATUS "
				"close:101 close:100 ");

	calls[0] = 0;
	not_viable = false;
	no_mmap = true;
	ck_assert_ptr_null(fpgactl_open(&o));
	ck_assert_int_eq(errno, ENODEV);
	ck_assert_str_eq(calls, "readlink open:/dev/vfio/vfio API EXT open:/dev/vfio/42 STATUS SETCONT "
				"IOMMU DEVFD REGION close:102 close:101 close:100 ");

	/* a BAR that is not this engine's */
	calls[0] = 0;
	no_mmap = false;
	bar[FPGACTL_REG_ID / 4] = 0x12345678;
	ck_assert_ptr_null(fpgactl_open(&o));
	ck_assert_int_eq(errno, ENODEV);
	ck_assert_str_eq(calls, OPEN_SEQ "munmap close:102 close:101 close:100 ");
	bar[FPGACTL_REG_ID / 4] = FPGACTL_ID_MAGIC;
	bar[FPGACTL_REG_VERSION / 4] = (FPGACTL_ABI_MAJOR + 1) << 16;
	ck_assert_ptr_null(fpgactl_open(&o));
	ck_assert_int_eq(errno, EPROTO);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("fctl_vfio");
	TCase *tc = tcase_create("vfio");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, vfio_driver);
	tcase_add_test(tc, vfio_failures);
	suite_add_tcase(s, tc);
	return hl_check_run(s);
}
