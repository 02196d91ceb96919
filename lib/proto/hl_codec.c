/* SPDX-License-Identifier: Apache-2.0 */
#include "hl_codec.h"

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#define RING_MIN   4096u
#define RING_MAX   (1u << 30)
#define MAX_PAIRS  64u
#define MAX_REGION (UINT64_C(1) << 40)

void hl_proto_fds_reset(int fds[HL_PROTO_MAX_FDS])
{
	for (unsigned i = 0; i < HL_PROTO_MAX_FDS; i++)
		fds[i] = -1;
}

void hl_proto_init(struct hl_proto_msg *m, uint16_t op, uint32_t seq)
{
	memset(m, 0, sizeof(*m));
	m->hdr.magic = HL_PROTO_MAGIC;
	m->hdr.version = HL_PROTO_VERSION;
	m->hdr.op = op;
	m->hdr.seq = seq;
}

const char *hl_proto_op_name(uint16_t op)
{
	switch (op) {
	case HL_POD_OP_HELLO: return "HELLO";
	case HL_POD_OP_REGION_ALLOC: return "REGION_ALLOC";
	case HL_POD_OP_REGION_FREE: return "REGION_FREE";
	case HL_POD_OP_LISTEN: return "LISTEN";
	case HL_POD_OP_UNLISTEN: return "UNLISTEN";
	case HL_POD_OP_CONNECT: return "CONNECT";
	case HL_POD_OP_CONN_CLOSE: return "CONN_CLOSE";
	case HL_POD_OP_DIRECT_OFF: return "DIRECT_OFF";
	case HL_POD_OP_EXEC: return "EXEC";
	case HL_POD_OP_EV_ACCEPT: return "EV_ACCEPT";
	}
	return "?";
}

unsigned hl_proto_reply_fds(const struct hl_proto_msg *m)
{
	if (m->hdr.status)
		return 0;
	switch (m->hdr.op) {
	case HL_POD_OP_HELLO:
		return (m->u.hello_rep.flags & HL_HELLO_F_STATS ? 1 : 0) +
		       (m->u.hello_rep.flags & HL_HELLO_F_BELL ? 1 : 0) +
		       (m->u.hello_rep.flags & HL_HELLO_F_LIFE ? 1 : 0);
	case HL_POD_OP_REGION_ALLOC: return 1;
	case HL_POD_OP_CONNECT:
	case HL_POD_OP_EV_ACCEPT:
		if (m->hdr.op == HL_POD_OP_CONNECT && (m->u.conn.flags & HL_CONN_F_REDIRECT))
			return 0;
		if (!(m->u.conn.flags & HL_CONN_F_SLOT))
			return 4;
		/* The region's fds come once, with its first connection; the
		 * connector of a direct region also gets the listener's
		 * doorbell. */
		if (!(m->u.conn.flags & HL_CONN_F_REGION))
			return 0;
		return 2 + 2 * m->u.conn.slots +
		       (m->hdr.op == HL_POD_OP_CONNECT && (m->u.conn.flags & HL_CONN_F_DIRECT) ? 1 : 0) +
		       (m->u.conn.flags & HL_CONN_F_GRANT ? 1 : 0);
	}
	return 0;
}

static bool all_zero(const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		if (b[i])
			return false;
	return true;
}

/* The candidate list of a redirect: bounded, every entry an address and a
 * port, nothing set that is not defined. */
static bool redirect_ok(const struct hl_proto_redirect *r)
{
	if (r->ttl_ms > HL_PROTO_REDIRECT_TTL_MAX || r->n_eps > HL_PROTO_REDIRECT_EPS ||
	    (!r->ttl_ms && r->n_eps) || r->kernel > 1)
		return false;
	for (uint32_t i = 0; i < r->n_eps; i++) {
		const struct hl_proto_svc_ep *e = &r->eps[i];

		if (!hl_proto_addr_valid(&e->addr) || !e->port || e->hostlane > 1 || e->reserved)
			return false;
	}
	return true;
}

static bool is_pow2(uint32_t v)
{
	return v && !(v & (v - 1));
}

static bool ring_cap_ok(uint32_t cap)
{
	return is_pow2(cap) && cap >= RING_MIN && cap <= RING_MAX;
}

bool hl_proto_addr_valid(const struct hl_proto_addr *a)
{
	if (!all_zero(a->pad, sizeof(a->pad)))
		return false;
	if (a->family == 4)
		return all_zero(a->addr + 4, 12);
	return a->family == 6;
}

bool hl_proto_addr_eq(const struct hl_proto_addr *a, const struct hl_proto_addr *b)
{
	return a->family == b->family && !memcmp(a->addr, b->addr, sizeof(a->addr));
}

int hl_proto_addr_parse(const char *s, struct hl_proto_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, s, a->addr) == 1) {
		a->family = 4;
		return 0;
	}
	if (inet_pton(AF_INET6, s, a->addr) == 1) {
		a->family = 6;
		return 0;
	}
	return -EINVAL;
}

int hl_proto_addr_format(const struct hl_proto_addr *a, char *buf, size_t len)
{
	int af = a->family == 4 ? AF_INET : a->family == 6 ? AF_INET6 : -1;

	if (af < 0 || !inet_ntop(af, a->addr, buf, (socklen_t)len))
		return -EINVAL;
	return 0;
}

/* Size of the body an op's request uses; the rest must be zero. */
static size_t request_body(uint16_t op)
{
	switch (op) {
	case HL_POD_OP_HELLO: return sizeof(struct hl_proto_hello_req);
	case HL_POD_OP_REGION_ALLOC: return sizeof(struct hl_proto_region_req);
	case HL_POD_OP_REGION_FREE: return sizeof(struct hl_proto_region_free_req);
	case HL_POD_OP_LISTEN:
	case HL_POD_OP_UNLISTEN: return sizeof(struct hl_proto_listen_req);
	case HL_POD_OP_CONNECT: return sizeof(struct hl_proto_connect_req);
	case HL_POD_OP_CONN_CLOSE: return sizeof(struct hl_proto_conn_close_req);
	case HL_POD_OP_DIRECT_OFF: return sizeof(struct hl_proto_direct_off_req);
	case HL_POD_OP_EXEC: return sizeof(struct hl_proto_exec_req);
	}
	return 0;
}

static int check_region_req(const struct hl_proto_region_req *r)
{
	if (r->reserved || r->size > MAX_REGION)
		return -EINVAL;
	if (r->n_pairs == 0)
		return r->size && !r->capacity && !r->mode ? 0 : -EINVAL;
	if (r->n_pairs > MAX_PAIRS || !ring_cap_ok(r->capacity))
		return -EINVAL;
	return r->mode == 1 || r->mode == 2 ? 0 : -EINVAL;
}

static int check_request_body(const struct hl_proto_msg *m)
{
	switch (m->hdr.op) {
	case HL_POD_OP_HELLO: {
		const struct hl_proto_hello_req *h = &m->u.hello_req;

		return h->min_version >= 1 && h->min_version <= h->max_version &&
		       !h->reserved ? 0 : -EINVAL;
	}
	case HL_POD_OP_REGION_ALLOC:
		return check_region_req(&m->u.region_req);
	case HL_POD_OP_REGION_FREE:
		return m->u.region_free.region_id && !m->u.region_free.reserved ? 0 : -EINVAL;
	case HL_POD_OP_LISTEN:
	case HL_POD_OP_UNLISTEN:
		if (!m->u.listen.port || m->u.listen.reserved || (m->u.listen.flags & ~HL_LISTEN_F_V6ONLY))
			return -EINVAL;
		/* family 0 (older clients): all zero; else a well-formed one */
		if (m->u.listen.addr.family == 0)
			return all_zero(&m->u.listen.addr, sizeof(m->u.listen.addr)) &&
			       !m->u.listen.flags ? 0 : -EINVAL;
		return hl_proto_addr_valid(&m->u.listen.addr) ? 0 : -EINVAL;
	case HL_POD_OP_CONNECT: {
		const struct hl_proto_connect_req *c = &m->u.connect;

		if (!hl_proto_addr_valid(&c->addr) || !c->port || (c->flags & ~(HL_CONNECT_F_SLOT | HL_CONNECT_F_REDIRECT)))
			return -EINVAL;
		if (c->flags & HL_CONNECT_F_SLOT)
			return c->capacity ? -EINVAL : 0;
		return !c->capacity || ring_cap_ok(c->capacity) ? 0 : -EINVAL;
	}
	case HL_POD_OP_CONN_CLOSE: {
		const struct hl_proto_conn_close_req *c = &m->u.conn_close;

		return c->region_id && c->pair < HL_PROTO_MAX_SLOTS && c->side <= 1 && !c->reserved ?
		       0 : -EINVAL;
	}
	case HL_POD_OP_DIRECT_OFF:
		return all_zero(&m->u.direct_off, sizeof(m->u.direct_off)) ? 0 : -EINVAL;
	case HL_POD_OP_EXEC:
		return all_zero(&m->u.exec, sizeof(m->u.exec)) ? 0 : -EINVAL;
	}
	return -EOPNOTSUPP;
}

int hl_proto_parse_request(const void *buf, size_t len, struct hl_proto_msg *out)
{
	const struct hl_proto_hdr *h;
	size_t body;

	if (len != HL_PROTO_MSG_SIZE)
		return -EBADMSG;
	memcpy(out, buf, sizeof(*out));
	h = &out->hdr;
	if (h->magic != HL_PROTO_MAGIC)
		return -EBADMSG;
	/* A HELLO may come from a newer client: its range decides. */
	if ((h->version < HL_PROTO_VERSION_MIN || h->version > HL_PROTO_VERSION) &&
	    h->op != HL_POD_OP_HELLO)
		return -EPROTONOSUPPORT;
	body = request_body(h->op);
	if (!body)
		return -EOPNOTSUPP;
	if (h->status || h->flags || h->nfds || h->reserved[0] || h->reserved[1])
		return -EINVAL;
	if (!all_zero(out->u.raw + body, sizeof(out->u.raw) - body))
		return -EINVAL;
	return check_request_body(out);
}

static bool str_ok(const char *s, size_t n)
{
	return memchr(s, '\0', n) != NULL;
}

static int check_reply_body(const struct hl_proto_msg *m)
{
	if (m->hdr.status)
		return str_ok(m->u.error.reason, sizeof(m->u.error.reason)) ? 0 : -EINVAL;
	switch (m->hdr.op) {
	case HL_POD_OP_HELLO: {
		const struct hl_proto_hello_rep *r = &m->u.hello_rep;

		if (r->version < HL_PROTO_VERSION_MIN || r->version > HL_PROTO_VERSION ||
		    r->n_ips > HL_PROTO_MAX_IPS ||
		    (r->flags & ~(HL_HELLO_F_STATS | HL_HELLO_F_BELL | HL_HELLO_F_LIFE)) ||
		    !str_ok(r->pod_key, sizeof(r->pod_key)))
			return -EINVAL;
		for (unsigned i = 0; i < r->n_ips; i++)
			if (!hl_proto_addr_valid(&r->ips[i]))
				return -EINVAL;
		return 0;
	}
	case HL_POD_OP_REGION_ALLOC:
		return m->u.region_rep.region_id && m->u.region_rep.size ? 0 : -EINVAL;
	case HL_POD_OP_CONNECT:
	case HL_POD_OP_EV_ACCEPT: {
		const struct hl_proto_conn *c = &m->u.conn;

		/* A redirect names the endpoint and maybe the candidates. */
		if (m->hdr.op == HL_POD_OP_CONNECT && c->flags == HL_CONN_F_REDIRECT)
			return hl_proto_addr_valid(&c->peer) && c->peer_port && !c->region_id &&
			       !c->size && !c->slots && redirect_ok(&m->u.redirect) ? 0 : -EINVAL;
		if ((c->flags & ~(HL_CONN_F_SLOT | HL_CONN_F_REGION | HL_CONN_F_DIRECT | HL_CONN_F_GRANT)) ||
		    (c->flags && !(c->flags & HL_CONN_F_SLOT)) ||
		    ((c->flags & HL_CONN_F_GRANT) && !(c->flags & HL_CONN_F_REGION && c->flags & HL_CONN_F_DIRECT)))
			return -EINVAL;
		if (c->flags & HL_CONN_F_REGION ?
		    !c->slots || c->slots > HL_PROTO_MAX_SLOTS || c->pair >= c->slots :
		    c->slots || (c->flags && c->pair >= HL_PROTO_MAX_SLOTS))
			return -EINVAL;
		if (c->local.family ? !hl_proto_addr_valid(&c->local) :
		    !all_zero(&c->local, sizeof(c->local)))
			return -EINVAL;
		return c->region_id && c->side <= 1 && c->size &&
		       hl_proto_addr_valid(&c->peer) ? 0 : -EINVAL;
	}
	}
	return 0;
}

int hl_proto_parse_reply(const void *buf, size_t len, unsigned nfds, struct hl_proto_msg *out)
{
	const struct hl_proto_hdr *h;

	if (len != HL_PROTO_MSG_SIZE)
		return -EBADMSG;
	memcpy(out, buf, sizeof(*out));
	h = &out->hdr;
	if (h->magic != HL_PROTO_MAGIC)
		return -EBADMSG;
	if (h->version < HL_PROTO_VERSION_MIN || h->version > HL_PROTO_VERSION)
		return -EPROTONOSUPPORT;
	if (!strcmp(hl_proto_op_name(h->op), "?"))
		return -EOPNOTSUPP;
	if (!(h->flags & HL_PROTO_F_REPLY) || h->status > 0 || h->status < -4095)
		return -EINVAL;
	if (h->nfds != nfds || nfds != hl_proto_reply_fds(out))
		return -EINVAL;
	if ((h->op == HL_POD_OP_EV_ACCEPT) != (h->seq == 0))
		return -EINVAL;
	return check_reply_body(out);
}

int hl_proto_recv_reply(int sock, int flags, ssize_t (*recv_fn)(int, struct msghdr *, int),
			int (*close_fn)(int), struct hl_proto_msg *m, int fds[HL_PROTO_MAX_FDS])
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int) * HL_PROTO_MAX_FDS)];
	} cb;
	uint8_t buf[HL_PROTO_MSG_SIZE];
	struct iovec iov = { buf, sizeof(buf) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = cb.buf, .msg_controllen = sizeof(cb.buf) };
	unsigned nfds = 0;
	ssize_t r;

	do
		r = recv_fn(sock, &mh, MSG_CMSG_CLOEXEC | flags);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return -errno;
	if (r == 0)
		return -ECONNRESET;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);

		for (size_t i = 0; i < n; i++) {
			int fd;

			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			if (nfds < HL_PROTO_MAX_FDS)
				fds[nfds++] = fd;
			else
				close_fn(fd);
		}
	}
	if ((mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) || hl_proto_parse_reply(buf, (size_t)r, nfds, m)) {
		while (nfds)
			close_fn(fds[--nfds]);
		return -EPROTO;
	}
	return (int)nfds;
}
