/* SPDX-License-Identifier: Apache-2.0 */
/* The backend-independent part of fpga-ctl and the software backend. */
#include "fpgactl.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

struct fctl {
	const struct fctl_backend_ops *ops;
	struct fctl_opts o;
	/* software backend: a completion ring and an eventfd */
	struct fctl_cpl *cq;
	uint32_t mask, head, tail;   /* free-running; one thread only */
	int efd;
};

struct fctl *fctl_open(const struct fctl_backend_ops *ops, const struct fctl_opts *o)
{
	struct fctl *f;
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

void fctl_close(struct fctl *f)
{
	if (!f)
		return;
	f->ops->close(f);
	free(f);
}

int fctl_submit(struct fctl *f, const struct fctl_cmd *cmds, unsigned n)
{
	return f->ops->submit(f, cmds, n);
}

int fctl_poll(struct fctl *f, struct fctl_cpl *cpls, unsigned max)
{
	return f->ops->poll(f, cpls, max);
}

int fctl_fd(const struct fctl *f)
{
	return f->ops->fd(f);
}

const char *fctl_name(const struct fctl *f)
{
	return f->ops->name;
}

/* ---- software backend ------------------------------------------------------ */

static int sw_open(struct fctl *f, const struct fctl_opts *o)
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

static void sw_close(struct fctl *f)
{
	close(f->efd);
	free(f->cq);
}

/* Serves the batch at once; one doorbell (eventfd write) per batch. */
static int sw_submit(struct fctl *f, const struct fctl_cmd *cmds, unsigned n)
{
	unsigned done = 0;
	uint64_t one = 1;

	while (done < n && f->tail - f->head <= f->mask) {
		struct fctl_cpl *c = &f->cq[f->tail & f->mask];

		*c = (struct fctl_cpl){ .cookie = cmds[done].cookie };
		if (cmds[done].op > FCTL_OP_CLOSE)
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

static int sw_poll(struct fctl *f, struct fctl_cpl *cpls, unsigned max)
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

static int sw_fd(const struct fctl *f)
{
	return f->efd;
}

const struct fctl_backend_ops fctl_sw_backend = {
	.name = "software",
	.open = sw_open,
	.close = sw_close,
	.submit = sw_submit,
	.poll = sw_poll,
	.fd = sw_fd,
};
