/* SPDX-License-Identifier: Apache-2.0 */
/* The backend-independent part of fpga-ctl and the software backend. */
#include "fpgactl.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

struct fpgactl {
	const struct fpgactl_backend_ops *ops;
	struct fpgactl_opts o;
	/* software backend: a completion ring and an eventfd */
	struct fpgactl_cpl *cq;
	uint32_t mask, head, tail;   /* free-running; one thread only */
	int efd;
};

struct fpgactl *fpgactl_open(const struct fpgactl_backend_ops *ops, const struct fpgactl_opts *o)
{
	struct fpgactl *f;
	int rc;

	if (!ops || !o) {
		errno = EINVAL;
		return NULL;
	}
	f = calloc(1, sizeof(*f));
	if (!f) {
		errno = ENOMEM;
		return NULL;
	}
	f->ops = ops;
	f->o = *o;
	f->efd = -1;
	rc = ops->open(f, o);
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

int fpgactl_submit(struct fpgactl *f, const struct fpgactl_cmd *cmds, unsigned n)
{
	return f->ops->submit(f, cmds, n);
}

int fpgactl_poll(struct fpgactl *f, struct fpgactl_cpl *cpls, unsigned max)
{
	return f->ops->poll(f, cpls, max);
}

int fpgactl_fd(const struct fpgactl *f)
{
	return f->ops->fd(f);
}

const char *fpgactl_name(const struct fpgactl *f)
{
	return f->ops->name;
}

/* ---- software backend ------------------------------------------------------ */

static int sw_open(struct fpgactl *f, const struct fpgactl_opts *o)
{
	unsigned depth = o->queue_depth ? o->queue_depth : 1024;

	if (!o->handler || (depth & (depth - 1)) || depth > (1u << 20))
		return -EINVAL;
	f->cq = calloc(depth, sizeof(*f->cq));
	if (!f->cq)
		return -ENOMEM;
	f->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (f->efd < 0) {
		int err = -errno;

		free(f->cq);
		return err;
	}
	f->mask = depth - 1;
	return 0;
}

static void sw_close(struct fpgactl *f)
{
	close(f->efd);
	free(f->cq);
}

/* Serves the batch at once; one doorbell (eventfd write) per batch. */
static int sw_submit(struct fpgactl *f, const struct fpgactl_cmd *cmds, unsigned n)
{
	unsigned done = 0;
	uint64_t one = 1;

	while (done < n && f->tail - f->head <= f->mask) {
		struct fpgactl_cpl *c = &f->cq[f->tail & f->mask];

		*c = (struct fpgactl_cpl){ .cookie = cmds[done].cookie };
		if (cmds[done].op > FPGACTL_OP_CLOSE)
			c->status = -EOPNOTSUPP;
		else
			f->o.handler(f->o.handler_arg, &cmds[done], c);
		c->cookie = cmds[done].cookie;
		f->tail++;
		done++;
	}
	if (!done)
		return n ? -EAGAIN : 0;
	if (write(f->efd, &one, sizeof(one)) < 0) {
		/* the counter is non-zero already: the doorbell is rung */
	}
	return (int)done;
}

static int sw_poll(struct fpgactl *f, struct fpgactl_cpl *cpls, unsigned max)
{
	unsigned n = 0;
	uint64_t v;

	while (n < max && f->head != f->tail)
		cpls[n++] = f->cq[f->head++ & f->mask];
	if (f->head == f->tail && read(f->efd, &v, sizeof(v)) < 0) {
		/* already drained */
	}
	return (int)n;
}

static int sw_fd(const struct fpgactl *f)
{
	return f->efd;
}

const struct fpgactl_backend_ops fpgactl_sw_backend = {
	.name = "software",
	.open = sw_open,
	.close = sw_close,
	.submit = sw_submit,
	.poll = sw_poll,
	.fd = sw_fd,
};
