/* SPDX-License-Identifier: Apache-2.0 */
/* The hostile tool's session with its pod's endpoint: HELLO, calls, events. */
#include "hostile.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "hl_codec.h"

static ssize_t recv_fn(int fd, struct msghdr *mh, int flags)
{
	return recvmsg(fd, mh, flags);
}

int hs_open(struct hs_ep *e, unsigned minv, unsigned maxv)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	socklen_t len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 +
				    strlen(HL_PROTO_ENDPOINT));
	struct hl_proto_msg req;
	struct hs_reply r;
	int rc;

	memset(e, 0, sizeof(*e));
	hl_proto_fds_reset(e->hello_fds);
	memcpy(sa.sun_path + 1, HL_PROTO_ENDPOINT, strlen(HL_PROTO_ENDPOINT));
	e->fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (e->fd < 0)
		return -errno;
	if (connect(e->fd, (struct sockaddr *)&sa, len) < 0) {
		rc = -errno;
		close(e->fd);
		e->fd = -1;
		return rc;
	}
	hl_proto_init(&req, HL_POD_OP_HELLO, 0);
	req.hdr.version = (uint16_t)maxv;
	req.u.hello_req.min_version = (uint16_t)minv;
	req.u.hello_req.max_version = (uint16_t)maxv;
	rc = hs_call(e, &req, &r);
	if (rc)
		return rc;
	if (r.m.hdr.status)
		return r.m.hdr.status;
	e->version = r.m.u.hello_rep.version;
	e->hello_flags = r.m.u.hello_rep.flags;
	memcpy(e->hello_fds, r.fds, sizeof(r.fds));
	e->n_hello_fds = (unsigned)r.nfds;
	return 0;
}

void hs_close(struct hs_ep *e)
{
	for (unsigned i = 0; i < e->n_hello_fds; i++)
		close(e->hello_fds[i]);
	if (e->fd >= 0)
		close(e->fd);
	e->fd = -1;
}

int hs_send(struct hs_ep *e, struct hl_proto_msg *req)
{
	req->hdr.seq = ++e->seq;
	if (req->hdr.op != HL_POD_OP_HELLO && e->version)
		req->hdr.version = e->version;
	return send(e->fd, req, sizeof(*req), MSG_NOSIGNAL) == (ssize_t)sizeof(*req) ? 0 : -errno;
}

int hs_recv(struct hs_ep *e, struct hs_reply *r, int wait_ms)
{
	struct pollfd p = { .fd = e->fd, .events = POLLIN };
	int n;

	if (wait_ms >= 0) {
		n = poll(&p, 1, wait_ms);
		if (n <= 0)
			return n < 0 ? -errno : 0;
	}
	hl_proto_fds_reset(r->fds);
	n = hl_proto_recv_reply(e->fd, 0, recv_fn, close, &r->m, r->fds);
	if (n < 0)
		return n;
	r->nfds = n;
	return 1;
}

int hs_call(struct hs_ep *e, struct hl_proto_msg *req, struct hs_reply *r)
{
	uint32_t seq;
	int rc = hs_send(e, req);

	if (rc)
		return rc;
	seq = req->hdr.seq;
	for (;;) {
		rc = hs_recv(e, r, -1);
		if (rc < 0)
			return rc;
		if (r->m.hdr.op == HL_POD_OP_EV_ACCEPT) {
			e->events++;  /* its fds stay open: never given back */
			continue;
		}
		if (r->m.hdr.seq == seq)
			return 0;
		for (int i = 0; i < r->nfds; i++)
			close(r->fds[i]);
	}
}

int hs_connect(struct hs_ep *e, const char *ip, uint16_t port, struct hs_reply *r)
{
	struct hl_proto_msg req;

	hl_proto_init(&req, HL_POD_OP_CONNECT, 0);
	if (hl_proto_addr_parse(ip, &req.u.connect.addr))
		return -EINVAL;
	req.u.connect.port = port;
	req.u.connect.local_port = 40000;
	if (e->version >= 2)
		req.u.connect.flags = HL_CONNECT_F_SLOT;
	return hs_call(e, &req, r);
}

const char *hs_fd_kind(int fd)
{
	static char kind[64];
	char path[64], link[128];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return "?";
	link[n] = '\0';
	if (strstr(link, "pidfd"))
		return "pidfd";
	if (strstr(link, "[eventfd]"))
		return "eventfd";
	if (!strncmp(link, "/memfd:", 7))
		return "memfd";
	if (!strncmp(link, "socket:", 7))
		return "socket";
	if (!strncmp(link, "pipe:", 5))
		return "pipe";
	snprintf(kind, sizeof(kind), "%.60s", link);
	return kind;
}

void hs_poke(int fd)
{
	uint64_t one = 1;

	if (send(fd, &one, sizeof(one), MSG_DONTWAIT | MSG_NOSIGNAL) < 0 && errno == ENOTSOCK) {
		int fl = fcntl(fd, F_GETFL);

		fcntl(fd, F_SETFL, fl | O_NONBLOCK);
		if (write(fd, &one, sizeof(one)) < 0) {
			/* full, or not writable: nothing to do */
		}
		fcntl(fd, F_SETFL, fl);
	}
}

/* ---- the commands' common steps ------------------------------------------ */

unsigned hs_vmin = 1, hs_vmax = HL_PROTO_VERSION;

uint64_t hs_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void hs_hold(unsigned ms)
{
	uint64_t end = hs_now_ms() + ms;

	while (hs_now_ms() < end)
		poll(NULL, 0, (int)(end - hs_now_ms()));
}

int hs_open_or_die(struct hs_ep *e)
{
	int rc = hs_open(e, hs_vmin, hs_vmax);

	if (rc) {
		printf("hello %s\n", strerror(-rc));
		exit(2);
	}
	return 0;
}

void hs_connect_or_die(struct hs_ep *e, const char *ip, const char *port, struct hs_reply *r)
{
	int rc = hs_connect(e, ip, (uint16_t)atoi(port), r);

	if (rc || r->m.hdr.status) {
		printf("connect %s (%s)\n", strerror(rc ? -rc : -r->m.hdr.status),
		       rc ? "" : r->m.u.error.reason);
		exit(2);
	}
}
