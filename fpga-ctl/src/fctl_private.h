/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fpga-ctl's internals: the instance and its backend operations.
 *   api.c          open/close, host memory mappings, dispatch
 *   ring.c         rings, event parsing, table-write entries
 *   backend_sw.c   the software backend (the reference engine)
 */
#ifndef FPGACTL_PRIVATE_H
#define FPGACTL_PRIVATE_H

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
};

struct fpgactl {
	const struct fctl_ops *ops;
	struct fpgactl_caps caps;
	struct fctl_map_ent maps[FCTL_MAX_MAPS];
	unsigned n_maps;
	uint64_t next_iova;
	void *be;                 /* the backend's state */
};

extern const struct fctl_ops fctl_sw_ops;

int fctl_sw_open(struct fpgactl *f, const struct fpgactl_opts *o);
/* The host pointer of @len bytes at @iova, or NULL (not mapped). */
void *fctl_iova_ptr(const struct fpgactl *f, uint64_t iova, size_t len);
/* Whether a queue config's rings lie in mapped memory and are in range. */
int fctl_queue_cfg_check(const struct fpgactl *f, unsigned q, const struct fpgactl_queue_cfg *c);
/* A random hash secret when @seed is all zero. */
void fctl_seed(uint32_t *out, const uint32_t *seed);

#endif
