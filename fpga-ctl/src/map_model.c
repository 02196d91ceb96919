/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The mapping layer of hostlane-fpga-model: register accesses and DMA
 * mappings as messages on its unix socket (model_proto.h). A socket error
 * leaves the device "gone": reads return all ones, as a surprise-removed
 * PCIe device does, and the driver's status waits fail with -EIO.
 */
#include "fctl_private.h"
#include "model_proto.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static int model_open(struct fctl_dev *d, const char *path)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };

	if (strlen(path) >= sizeof(a.sun_path))
		return -EINVAL;
	strcpy(a.sun_path, path);
	d->sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (d->sock < 0)
		return -errno;
	if (connect(d->sock, (struct sockaddr *)&a, sizeof(a))) {
		int rc = errno == ENOENT || errno == ECONNREFUSED ? -ENODEV : -errno;

		close(d->sock);
		d->sock = -1;
		return rc;
	}
	return 0;
}

static void model_close(struct fctl_dev *d)
{
	if (d->sock >= 0)
		close(d->sock);
	d->sock = -1;
}

/* Sends @m (with @fd when >= 0); with @rsp, waits for the answer. */
static int xfer(struct fctl_dev *d, const struct fctl_model_msg *m, int fd, struct fctl_model_rsp *rsp)
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} c;
	struct iovec iov = { .iov_base = (void *)m, .iov_len = sizeof(*m) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	size_t got = 0;

	if (d->err)
		return d->err;
	if (fd >= 0) {
		memset(&c, 0, sizeof(c));
		mh.msg_control = c.buf;
		mh.msg_controllen = sizeof(c.buf);
		c.h.cmsg_level = SOL_SOCKET;
		c.h.cmsg_type = SCM_RIGHTS;
		c.h.cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(&c.h), &fd, sizeof(int));
	}
	while (sendmsg(d->sock, &mh, MSG_NOSIGNAL) != (ssize_t)sizeof(*m)) {
		if (errno != EINTR)
			return d->err = -EIO;
	}
	while (rsp && got < sizeof(*rsp)) {
		ssize_t n = read(d->sock, (char *)rsp + got, sizeof(*rsp) - got);

		if (n <= 0 && !(n < 0 && errno == EINTR))
			return d->err = -EIO;
		got += n > 0 ? (size_t)n : 0;
	}
	return 0;
}

static uint32_t model_rd(struct fctl_dev *d, uint32_t off)
{
	struct fctl_model_msg m = { .op = FCTL_M_RD, .off = off };
	struct fctl_model_rsp r;

	return xfer(d, &m, -1, &r) ? 0xffffffffu : r.val;
}

static void model_wr(struct fctl_dev *d, uint32_t off, uint32_t val)
{
	struct fctl_model_msg m = { .op = FCTL_M_WR, .off = off, .val = val };

	xfer(d, &m, -1, NULL);
}

static int model_dma_map(struct fctl_dev *d, const struct fctl_map_ent *m)
{
	struct fctl_model_msg msg = { .op = FCTL_M_MAP, .iova = m->iova, .size = m->size };
	struct fctl_model_rsp r;
	int rc;

	if (m->fd < 0)
		return -EINVAL;  /* the model maps the memfd itself */
	rc = xfer(d, &msg, m->fd, &r);
	return rc ? rc : r.status;
}

static int model_dma_unmap(struct fctl_dev *d, const struct fctl_map_ent *m)
{
	struct fctl_model_msg msg = { .op = FCTL_M_UNMAP, .iova = m->iova };
	struct fctl_model_rsp r;
	int rc = xfer(d, &msg, -1, &r);

	return rc ? rc : r.status;
}

static int model_irq(struct fctl_dev *d, unsigned vec, int efd)
{
	struct fctl_model_msg m = { .op = FCTL_M_IRQ, .off = vec, .val = efd >= 0 };
	struct fctl_model_rsp r;
	int rc = xfer(d, &m, efd, &r);

	return rc ? rc : r.status;
}

const struct fctl_map_ops fctl_map_model = {
	.name = "model",
	.open = model_open,
	.close = model_close,
	.rd = model_rd,
	.wr = model_wr,
	.dma_map = model_dma_map,
	.dma_unmap = model_dma_unmap,
	.irq = model_irq,
};
