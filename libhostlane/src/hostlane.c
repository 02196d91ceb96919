/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libhostlane native API: the control connection to the pod's endpoint
 * (struct hl_ctx) and shared-memory connections (struct hl_conn), no global
 * state. It speaks pod protocol version 1 (whole regions per connection);
 * the LD_PRELOAD layer (pl_*.c) has its own control channel (pl_ctl.c) and
 * the later versions' slot and direct regions.
 */
#include "hostlane.h"

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "hl_codec.h"
#include "shmq.h"

/* An EV_ACCEPT received while waiting for a reply, kept for hl_accept(). */
struct pending {
	struct pending *next;
	struct hl_proto_msg m;
	int fds[HL_PROTO_MAX_FDS];
};

struct hl_ctx {
	int fd;
	uint32_t seq;
	bool broken;                 /* protocol violated or socket gone */
	struct hl_proto_hello_rep id;
	struct pending *head, *tail;
	struct hl_conn *conns;
	char err[HL_PROTO_REASON_MAX];
};

struct hl_conn {
	struct hl_conn *next, *prev;
	struct hl_ctx *ctx;          /* NULL once the context is closed */
	uint32_t region_id;
	struct shmq_region *r;
	struct shmq_ep *ep;
	int self_efd, peer_efd, live_fd;
	struct hl_proto_addr peer;
	uint16_t peer_port;
};

static void close_fds(int *fds, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

/* ---- the control socket --------------------------------------------------- */

static int ctx_send(struct hl_ctx *ctx, struct hl_proto_msg *m)
{
	ssize_t w;

	if (ctx->broken)
		return -ECONNRESET;
	do
		w = send(ctx->fd, m, sizeof(*m), MSG_NOSIGNAL);
	while (w < 0 && errno == EINTR);
	if (w == (ssize_t)sizeof(*m))
		return 0;
	ctx->broken = true;
	return w < 0 && errno != EPIPE ? -errno : -ECONNRESET;
}

/*
 * Receives one message and its fds (close-on-exec). Everything the endpoint
 * sends is validated; a violation breaks the context for good.
 */
static int ctx_recv(struct hl_ctx *ctx, struct hl_proto_msg *m, int *fds)
{
	int rc;

	if (ctx->broken)
		return -ECONNRESET;
	rc = hl_proto_recv_reply(ctx->fd, 0, recvmsg, close, m, fds);
	if (rc < 0)
		ctx->broken = true;
	return rc;
}

static int queue_event(struct hl_ctx *ctx, const struct hl_proto_msg *m, const int *fds)
{
	struct pending *p = calloc(1, sizeof(*p));

	if (!p)
		return -ENOMEM;
	p->m = *m;
	memcpy(p->fds, fds, sizeof(p->fds));
	if (ctx->tail)
		ctx->tail->next = p;
	else
		ctx->head = p;
	ctx->tail = p;
	return 0;
}

/*
 * Sends @req and waits for its reply; events that arrive first are queued.
 * Return: the reply's status (0 or -errno; the reason is in ctx->err) with
 * *@rep and @fds filled, or -ECONNRESET/-EPROTO/-ENOMEM.
 */
static int ctx_call(struct hl_ctx *ctx, struct hl_proto_msg *req, struct hl_proto_msg *rep,
		    int *fds)
{
	int rc, n;

	req->hdr.seq = ++ctx->seq ? ctx->seq : ++ctx->seq;
	rc = ctx_send(ctx, req);
	if (rc)
		return rc;
	for (;;) {
		int tmp[HL_PROTO_MAX_FDS];

		hl_proto_fds_reset(tmp);
		n = ctx_recv(ctx, rep, tmp);
		if (n < 0)
			return n;
		if (rep->hdr.op == HL_POD_OP_EV_ACCEPT) {
			rc = queue_event(ctx, rep, tmp);
			if (rc) {
				close_fds(tmp, (unsigned)n);
				return rc;
			}
			continue;
		}
		if (rep->hdr.seq != req->hdr.seq || rep->hdr.op != req->hdr.op) {
			close_fds(tmp, (unsigned)n);
			ctx->broken = true;
			return -EPROTO;
		}
		memcpy(fds, tmp, sizeof(tmp));
		if (rep->hdr.status)
			snprintf(ctx->err, sizeof(ctx->err), "%s", rep->u.error.reason);
		else
			ctx->err[0] = '\0';
		return rep->hdr.status;
	}
}

static int connect_endpoint(const char *name)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t n = strlen(name);
	socklen_t len;
	int fd, err;

	if (!n || n >= sizeof(sa.sun_path))
		return -EINVAL;
	memcpy(sa.sun_path, name, n);
	if (name[0] == '@')
		sa.sun_path[0] = '\0';  /* abstract: no trailing NUL in the name */
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + (name[0] != '@'));
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, len) < 0) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

static int hello(struct hl_ctx *ctx)
{
	struct hl_proto_msg req, rep;
	int fds[HL_PROTO_MAX_FDS], rc;

	hl_proto_init(&req, HL_POD_OP_HELLO, 0);
	/* The native API takes a region per connection (version 1); slot
	 * connections (2) are the preload layer's. */
	req.u.hello_req.min_version = HL_PROTO_VERSION_MIN;
	req.u.hello_req.max_version = HL_PROTO_VERSION_MIN;
	rc = ctx_call(ctx, &req, &rep, fds);
	if (rc == 0)
		ctx->id = rep.u.hello_rep;
	return rc;
}

struct hl_ctx *hl_open(const char *name)
{
	struct hl_ctx *ctx;
	int rc;

	if (!name)
		name = getenv("HOSTLANE_ENDPOINT");
	if (!name || !*name)
		name = "@" HL_PROTO_ENDPOINT;
	ctx = calloc(1, sizeof(*ctx));
	if (!ctx) {
		errno = ENOMEM;
		return NULL;
	}
	rc = ctx->fd = connect_endpoint(name);
	if (rc >= 0)
		rc = hello(ctx);
	if (rc < 0) {
		if (ctx->fd >= 0)
			close(ctx->fd);
		free(ctx);
		errno = -rc;
		return NULL;
	}
	return ctx;
}

void hl_close(struct hl_ctx *ctx)
{
	if (!ctx)
		return;
	for (struct hl_conn *c = ctx->conns; c; c = c->next)
		c->ctx = NULL;
	while (ctx->head) {
		struct pending *p = ctx->head;

		ctx->head = p->next;
		close_fds(p->fds, p->m.hdr.nfds);
		free(p);
	}
	close(ctx->fd);
	free(ctx);
}

int hl_ctx_fd(const struct hl_ctx *ctx)
{
	return ctx->fd;
}

const char *hl_last_error(const struct hl_ctx *ctx)
{
	return ctx->err;
}

int hl_identity(const struct hl_ctx *ctx, struct hl_identity *id)
{
	memset(id, 0, sizeof(*id));
	snprintf(id->pod_key, sizeof(id->pod_key), "%s", ctx->id.pod_key);
	id->n_ips = ctx->id.n_ips;
	for (unsigned i = 0; i < id->n_ips; i++)
		hl_proto_addr_format(&ctx->id.ips[i], id->ips[i], sizeof(id->ips[i]));
	id->quota_bytes = ctx->id.quota_bytes;
	id->used_bytes = ctx->id.used_bytes;
	id->version = ctx->id.version;
	return 0;
}

/* ---- regions -------------------------------------------------------------- */

static int simple_call(struct hl_ctx *ctx, struct hl_proto_msg *req)
{
	struct hl_proto_msg rep;
	int fds[HL_PROTO_MAX_FDS];

	return ctx_call(ctx, req, &rep, fds);
}

static int free_region_id(struct hl_ctx *ctx, uint32_t id)
{
	struct hl_proto_msg req;

	hl_proto_init(&req, HL_POD_OP_REGION_FREE, 0);
	req.u.region_free.region_id = id;
	return simple_call(ctx, &req);
}

int hl_region_alloc(struct hl_ctx *ctx, size_t size, struct hl_region *r)
{
	struct hl_proto_msg req, rep;
	int fds[HL_PROTO_MAX_FDS], rc;
	void *map;

	if (!size)
		return -EINVAL;
	hl_proto_init(&req, HL_POD_OP_REGION_ALLOC, 0);
	req.u.region_req.size = size;
	rc = ctx_call(ctx, &req, &rep, fds);
	if (rc)
		return rc;
	if (rep.u.region_rep.size > SIZE_MAX) {
		rc = -EPROTO;
	} else {
		map = mmap(NULL, (size_t)rep.u.region_rep.size, PROT_READ | PROT_WRITE,
			   MAP_SHARED, fds[0], 0);
		rc = map == MAP_FAILED ? -errno : 0;
	}
	if (rc) {
		close(fds[0]);
		free_region_id(ctx, rep.u.region_rep.region_id);
		return rc;
	}
	r->id = rep.u.region_rep.region_id;
	r->fd = fds[0];
	r->map = map;
	r->size = (size_t)rep.u.region_rep.size;
	r->hugetlb = !!(rep.u.region_rep.flags & HL_PROTO_REGION_HUGETLB);
	return 0;
}

int hl_region_free(struct hl_ctx *ctx, struct hl_region *r)
{
	if (r->map && r->map != MAP_FAILED)
		munmap(r->map, r->size);
	if (r->fd >= 0)
		close(r->fd);
	r->map = NULL;
	r->fd = -1;
	return free_region_id(ctx, r->id);
}

/* ---- listen / accept / connect -------------------------------------------- */

static int port_call(struct hl_ctx *ctx, uint16_t op, uint16_t port)
{
	struct hl_proto_msg req;

	if (!port)
		return -EINVAL;
	hl_proto_init(&req, op, 0);
	req.u.listen.port = port;
	return simple_call(ctx, &req);
}

int hl_listen(struct hl_ctx *ctx, uint16_t port)
{
	return port_call(ctx, HL_POD_OP_LISTEN, port);
}

int hl_unlisten(struct hl_ctx *ctx, uint16_t port)
{
	return port_call(ctx, HL_POD_OP_UNLISTEN, port);
}

/* Maps what a CONNECT reply / ACCEPT event handed over. Takes the fds. */
static int conn_new(struct hl_ctx *ctx, const struct hl_proto_conn *m, int *fds,
		    struct hl_conn **out)
{
	struct hl_conn *c = calloc(1, sizeof(*c));
	int rc = -ENOMEM;

	if (!c)
		goto fail;
	c->r = shmq_region_map(fds[0]);
	if (!c->r) {
		rc = errno == EPROTO || !errno ? -EPROTO : -errno;
		goto fail;
	}
	close(fds[0]);
	fds[0] = -1;
	c->ep = shmq_ep_attach(c->r, m->pair, m->side);
	if (!c->ep) {
		rc = -EPROTO;
		goto fail;
	}
	c->self_efd = fds[1];
	c->peer_efd = fds[2];
	c->live_fd = fds[3];
	shmq_ep_set_fds(c->ep, c->self_efd, c->peer_efd, c->live_fd, SHMQ_PEER_PIDFD);
	c->ctx = ctx;
	c->region_id = m->region_id;
	c->peer = m->peer;
	c->peer_port = m->peer_port;
	c->next = ctx->conns;
	if (ctx->conns)
		ctx->conns->prev = c;
	ctx->conns = c;
	*out = c;
	return 0;
fail:
	if (c) {
		if (c->ep)
			shmq_ep_close(c->ep);
		shmq_region_close(c->r);
	}
	free(c);
	close_fds(fds, HL_PROTO_MAX_FDS);
	free_region_id(ctx, m->region_id);
	return rc;
}

int hl_connect(struct hl_ctx *ctx, const char *ip, uint16_t port, struct hl_conn **conn)
{
	struct hl_proto_msg req, rep;
	int fds[HL_PROTO_MAX_FDS], rc;

	hl_proto_init(&req, HL_POD_OP_CONNECT, 0);
	if (!ip || !port || hl_proto_addr_parse(ip, &req.u.connect.addr))
		return -EINVAL;
	req.u.connect.port = port;
	rc = ctx_call(ctx, &req, &rep, fds);
	if (rc)
		return rc;
	return conn_new(ctx, &rep.u.conn, fds, conn);
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits for the control socket to be readable. 0, -ETIMEDOUT/-EAGAIN. */
static int wait_ctl(struct hl_ctx *ctx, int timeout_ms, int64_t deadline)
{
	struct pollfd p = { .fd = ctx->fd, .events = POLLIN };

	for (;;) {
		int left = timeout_ms < 0 ? -1 : (int)(deadline - now_ms());
		int rc;

		if (timeout_ms >= 0 && left < 0)
			left = 0;
		rc = poll(&p, 1, left);
		if (rc > 0)
			return 0;
		if (rc == 0)
			return timeout_ms == 0 ? -EAGAIN : -ETIMEDOUT;
		if (errno != EINTR)
			return -errno;
	}
}

int hl_accept(struct hl_ctx *ctx, struct hl_conn **conn, int timeout_ms)
{
	int64_t deadline = now_ms() + (timeout_ms > 0 ? timeout_ms : 0);
	struct hl_proto_msg m;
	int fds[HL_PROTO_MAX_FDS], rc, n;

	if (ctx->head) {
		struct pending *p = ctx->head;

		ctx->head = p->next;
		if (!ctx->head)
			ctx->tail = NULL;
		rc = conn_new(ctx, &p->m.u.conn, p->fds, conn);
		free(p);
		return rc;
	}
	rc = wait_ctl(ctx, timeout_ms, deadline);
	if (rc)
		return rc;
	n = ctx_recv(ctx, &m, fds);
	if (n < 0)
		return n;
	if (m.hdr.op != HL_POD_OP_EV_ACCEPT) {  /* a reply nobody asked for */
		close_fds(fds, (unsigned)n);
		ctx->broken = true;
		return -EPROTO;
	}
	return conn_new(ctx, &m.u.conn, fds, conn);
}

/* ---- data ----------------------------------------------------------------- */

ssize_t hl_conn_send(struct hl_conn *conn, const void *buf, size_t len, int flags)
{
	const char *p = buf;
	size_t done = 0;

	while (done < len) {
		ssize_t w = shmq_write(conn->ep, p + done, len - done);

		if (w > 0) {
			done += (size_t)w;
			continue;
		}
		if (w != -EAGAIN || (flags & HL_NONBLOCK))
			return done ? (ssize_t)done : w;
		int rc = shmq_wait(conn->ep, SHMQ_POLLOUT, -1);

		if (rc < 0 && rc != -EINTR)
			return done ? (ssize_t)done : rc;
	}
	return (ssize_t)done;
}

ssize_t hl_conn_recv(struct hl_conn *conn, void *buf, size_t len, int flags)
{
	char *p = buf;
	size_t done = 0;

	if (!len)
		return 0;
	for (;;) {
		ssize_t r = shmq_read(conn->ep, p + done, len - done, 0);

		if (r > 0) {
			done += (size_t)r;
			if (done == len || !(flags & HL_WAITALL))
				return (ssize_t)done;
			continue;
		}
		if (r == 0 || r != -EAGAIN || (flags & HL_NONBLOCK))
			return done ? (ssize_t)done : r;
		int rc = shmq_wait(conn->ep, SHMQ_POLLIN, -1);

		if (rc < 0 && rc != -EINTR)
			return done ? (ssize_t)done : rc;
	}
}

int hl_conn_shutdown(struct hl_conn *conn)
{
	return shmq_shutdown(conn->ep);
}

int hl_conn_fd(const struct hl_conn *conn)
{
	return conn->self_efd;
}

int hl_conn_poll(struct hl_conn *conn)
{
	return shmq_poll(conn->ep);
}

int hl_conn_arm(struct hl_conn *conn, int events)
{
	return shmq_arm(conn->ep, events);
}

int hl_conn_handle_event(struct hl_conn *conn)
{
	return shmq_handle_event(conn->ep);
}

int hl_conn_peer(const struct hl_conn *conn, char *ip, size_t len, uint16_t *port)
{
	if (port)
		*port = conn->peer_port;
	return ip ? hl_proto_addr_format(&conn->peer, ip, len) : 0;
}

void hl_conn_close(struct hl_conn *conn)
{
	if (!conn)
		return;
	shmq_ep_close(conn->ep);
	shmq_region_close(conn->r);
	close(conn->self_efd);
	close(conn->peer_efd);
	close(conn->live_fd);
	if (conn->ctx) {
		struct hl_ctx *ctx = conn->ctx;

		if (conn->prev)
			conn->prev->next = conn->next;
		else
			ctx->conns = conn->next;
		if (conn->next)
			conn->next->prev = conn->prev;
		free_region_id(ctx, conn->region_id);
	}
	free(conn);
}
