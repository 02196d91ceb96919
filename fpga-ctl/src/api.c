/* SPDX-License-Identifier: Apache-2.0 */
/* Opening a backend, host memory mappings, and the calls every backend has. */
#include "fctl_private.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

/* A PCI address: DDDD:BB:DD.F */
static bool is_bdf(const char *s)
{
	static const char pat[] = "xxxx:xx:xx.x";

	if (strlen(s) != sizeof(pat) - 1)
		return false;
	for (size_t i = 0; pat[i]; i++)
		if (pat[i] == 'x' ? !strchr("0123456789abcdefABCDEF", s[i]) || !s[i] : s[i] != pat[i])
			return false;
	return true;
}

void fctl_seed(uint32_t *out, const uint32_t *seed)
{
	bool zero = true;

	for (unsigned i = 0; i < FPGACTL_SEED_WORDS; i++)
		zero = zero && !seed[i];
	if (!zero || getrandom(out, FPGACTL_SEED_WORDS * sizeof(*out), 0) !=
		     (ssize_t)(FPGACTL_SEED_WORDS * sizeof(*out)))
		memcpy(out, seed, FPGACTL_SEED_WORDS * sizeof(*out));
}

struct fpgactl *fpgactl_open(const struct fpgactl_opts *o)
{
	static const struct fpgactl_opts dflt;
	struct fpgactl *f;
	const char *dev;
	int rc;

	o = o ? o : &dflt;
	dev = o->device ? o->device : "software";
	f = calloc(1, sizeof(*f));
	if (!f) {
		errno = ENOMEM;
		return NULL;
	}
	f->next_iova = FCTL_IOVA_BASE;
	if (!strcmp(dev, "software"))
		rc = fctl_sw_open(f, o);
	else if (!strncmp(dev, "model:", 6) && dev[6])
		rc = fctl_fpga_open(f, &fctl_map_model, dev + 6, o->seed);
	else if (is_bdf(dev))
		rc = fctl_fpga_open(f, &fctl_map_vfio, dev, o->seed);
	else
		rc = -EINVAL;
	if (rc) {
		free(f);
		errno = -rc;
		return NULL;
	}
	return f;
}

void fpgactl_close(struct fpgactl *f)
{
	if (!f)
		return;
	f->ops->close(f);
	free(f);
}

const char *fpgactl_name(const struct fpgactl *f)
{
	/* a device: its mapping layer's name (the driver's state begins
	 * with its struct fctl_dev) */
	if (f->ops == &fctl_fpga_ops)
		return ((const struct fctl_dev *)f->be)->map->name;
	return f->ops->name;
}

int fpgactl_caps(const struct fpgactl *f, struct fpgactl_caps *c)
{
	*c = f->caps;
	return 0;
}

int fpgactl_mem_map(struct fpgactl *f, int fd, void *va, uint64_t size, uint64_t *iova)
{
	struct fctl_map_ent *m;
	int rc;

	if (!va || !size || (size & 4095) || ((uintptr_t)va & 4095))
		return -EINVAL;
	if (f->n_maps >= FCTL_MAX_MAPS)
		return -ENOSPC;
	m = &f->maps[f->n_maps];
	*m = (struct fctl_map_ent){ .iova = f->next_iova, .size = size, .va = va, .fd = fd };
	rc = f->ops->mem_map(f, m);
	if (rc)
		return rc;
	f->n_maps++;
	f->next_iova += (size + FCTL_IOVA_ALIGN - 1) & ~(FCTL_IOVA_ALIGN - 1);
	*iova = m->iova;
	return 0;
}

int fpgactl_mem_unmap(struct fpgactl *f, uint64_t iova)
{
	for (unsigned i = 0; i < f->n_maps; i++)
		if (f->maps[i].iova == iova) {
			int rc = f->ops->mem_unmap(f, &f->maps[i]);

			f->maps[i] = f->maps[--f->n_maps];
			return rc;
		}
	return -ENOENT;
}

void *fctl_iova_ptr(const struct fpgactl *f, uint64_t iova, size_t len)
{
	for (unsigned i = 0; i < f->n_maps; i++) {
		const struct fctl_map_ent *m = &f->maps[i];

		if (iova >= m->iova && iova - m->iova <= m->size && len <= m->size - (iova - m->iova))
			return (uint8_t *)m->va + (iova - m->iova);
	}
	return NULL;
}

int fctl_queue_cfg_check(const struct fpgactl *f, unsigned q, const struct fpgactl_queue_cfg *c)
{
	if (q >= f->caps.nq || c->pod >= f->caps.n_pods || (c->rq_iova & 0xff) || (c->eq_iova & 0xff) ||
	    !fpgactl_ring_bytes(c->rq_log2) || !fpgactl_ring_bytes(c->eq_log2) ||
	    !fctl_iova_ptr(f, c->rq_iova, fpgactl_ring_bytes(c->rq_log2)) ||
	    !fctl_iova_ptr(f, c->eq_iova, fpgactl_ring_bytes(c->eq_log2)))
		return -EINVAL;
	return 0;
}

int fpgactl_queue_enable(struct fpgactl *f, unsigned q, const struct fpgactl_queue_cfg *c)
{
	int rc = fctl_queue_cfg_check(f, q, c);

	return rc ? rc : f->ops->queue_enable(f, q, c);
}

int fpgactl_queue_disable(struct fpgactl *f, unsigned q)
{
	return q < f->caps.nq ? f->ops->queue_disable(f, q) : -EINVAL;
}

int fpgactl_queue_read(struct fpgactl *f, unsigned q, struct fpgactl_qstate *s)
{
	return q < f->caps.nq ? f->ops->queue_read(f, q, s) : -EINVAL;
}

int fpgactl_doorbell(struct fpgactl *f, unsigned q, uint32_t tail)
{
	return f->ops->doorbell(f, q, tail);
}

int fpgactl_arm(struct fpgactl *f, unsigned q)
{
	return q < f->caps.nq ? f->ops->arm(f, q) : -EINVAL;
}

int fpgactl_irq_set(struct fpgactl *f, unsigned q, int efd)
{
	return q < f->caps.nq ? f->ops->irq_set(f, q, efd) : -EINVAL;
}

int fpgactl_run(struct fpgactl *f, bool run)
{
	return f->ops->run(f, run);
}

int fpgactl_service(struct fpgactl *f, unsigned max_turns)
{
	return f->ops->service(f, max_turns);
}

int fpgactl_wait_idle(struct fpgactl *f, int timeout_ms)
{
	return f->ops->wait_idle(f, timeout_ms);
}

int fpgactl_reset(struct fpgactl *f)
{
	return f->ops->reset(f);
}

int fpgactl_counters(struct fpgactl *f, uint64_t *cnt)
{
	return f->ops->counters(f, cnt);
}

int fpgactl_tw_read(struct fpgactl *f, const struct fpgactl_req *w, struct fpgactl_req *out)
{
	return f->ops->tw_read(f, w, out);
}

int fpgactl_tw_window(struct fpgactl *f, const struct fpgactl_req *w)
{
	return f->ops->tw_window(f, w);
}
