/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fpga-ctl's internals: the instance, its backend operations, and the
 * mapping layer under the device driver.
 *   api.c          open/close, host memory mappings, dispatch
 *   ring.c         rings, event parsing, table-write entries
 *   backend_sw.c   the software backend (the reference engine)
 *   backend_fpga.c the device driver: registers, DMA mappings, interrupts
 *   map_vfio.c     the mapping layer of a board (vfio)
 *   map_model.c    the mapping layer of hostlane-fpga-model (model_proto.h)
 */
#ifndef FPGACTL_PRIVATE_H
#define FPGACTL_PRIVATE_H

#include <sys/types.h>

#include "fpgactl.h"
#include "engine.h"

#define FCTL_MAX_MAPS 64
#define FCTL_IOVA_BASE 0x40000000ull   /* the first IOVA handed out */
#define FCTL_IOVA_ALIGN (2ull << 20)

struct fctl_map_ent {
	uint64_t iova, size;
	void *va;
	int fd;
};

struct fctl_ops {
	const char *name;
	void (*close)(struct fpgactl *f);
	int (*mem_map)(struct fpgactl *f, const struct fctl_map_ent *m);
	int (*mem_unmap)(struct fpgactl *f, const struct fctl_map_ent *m);
	int (*queue_enable)(struct fpgactl *f, unsigned q, const struct fpgactl_queue_cfg *c);
	int (*queue_disable)(struct fpgactl *f, unsigned q);
	int (*queue_read)(struct fpgactl *f, unsigned q, struct fpgactl_qstate *s);
	int (*doorbell)(struct fpgactl *f, unsigned q, uint32_t tail);
	int (*arm)(struct fpgactl *f, unsigned q);
	int (*irq_set)(struct fpgactl *f, unsigned q, int efd);
	int (*run)(struct fpgactl *f, bool run);
	int (*service)(struct fpgactl *f, unsigned max_turns);
	int (*wait_idle)(struct fpgactl *f, int timeout_ms);
	int (*reset)(struct fpgactl *f);
	int (*counters)(struct fpgactl *f, uint64_t *cnt);
	int (*tw_read)(struct fpgactl *f, const struct fpgactl_req *w, struct fpgactl_req *out);
	int (*tw_window)(struct fpgactl *f, const struct fpgactl_req *w);
};

/* The mapping layer: what differs between a board and the model. The
 * driver above it is one code path. */
struct fctl_dev;
struct fctl_map_ops {
	const char *name;
	/* Opens @spec (a PCI address, a socket path) into @d. 0 or -errno. */
	int (*open)(struct fctl_dev *d, const char *spec);
	void (*close)(struct fctl_dev *d);
	uint32_t (*rd)(struct fctl_dev *d, uint32_t off);
	void (*wr)(struct fctl_dev *d, uint32_t off, uint32_t val);
	int (*dma_map)(struct fctl_dev *d, const struct fctl_map_ent *m);
	int (*dma_unmap)(struct fctl_dev *d, const struct fctl_map_ent *m);
	/* Interrupt vector @vec signals eventfd @efd (-1: none). */
	int (*irq)(struct fctl_dev *d, unsigned vec, int efd);
};

/* What a mapping layer keeps (one struct for both, small). */
struct fctl_dev {
	const struct fctl_map_ops *map;
	volatile uint32_t *bar;   /* vfio: BAR0 mapped */
	size_t bar_len;
	int container, group, device;  /* vfio fds */
	int sock;                 /* model: the unix socket */
	int err;                  /* model: the socket failed (reads return all ones) */
};

struct fpgactl {
	const struct fctl_ops *ops;
	struct fpgactl_caps caps;
	struct fctl_map_ent maps[FCTL_MAX_MAPS];
	unsigned n_maps;
	uint64_t next_iova;
	void *be;                 /* the backend's state */
};

/* The system calls of map_vfio.c, replaceable by a unit test (the vfio
 * ioctls cannot run on a machine without an IOMMU): the real ones by
 * default. */
struct fctl_vfio_sys {
	ssize_t (*readlink)(const char *path, char *buf, size_t len);
	int (*open)(const char *path, int flags);
	int (*close)(int fd);
	int (*ioctl)(int fd, unsigned long req, void *arg);
	void *(*mmap)(size_t len, int fd, off_t off);
	int (*munmap)(void *va, size_t len);
};
extern const struct fctl_vfio_sys *fctl_vfio_sys;

extern const struct fctl_ops fctl_sw_ops;
extern const struct fctl_ops fctl_fpga_ops;
extern const struct fctl_map_ops fctl_map_vfio;
extern const struct fctl_map_ops fctl_map_model;

int fctl_sw_open(struct fpgactl *f, const struct fpgactl_opts *o);
int fctl_fpga_open(struct fpgactl *f, const struct fctl_map_ops *m, const char *spec,
		   const uint32_t *seed);
/* The host pointer of @len bytes at @iova, or NULL (not mapped). */
void *fctl_iova_ptr(const struct fpgactl *f, uint64_t iova, size_t len);
/* Whether a queue config's rings lie in mapped memory and are in range. */
int fctl_queue_cfg_check(const struct fpgactl *f, unsigned q, const struct fpgactl_queue_cfg *c);
/* A random hash secret when @seed is all zero. */
void fctl_seed(uint32_t *out, const uint32_t *seed);

#endif
