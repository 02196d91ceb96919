/* SPDX-License-Identifier: Apache-2.0 */
/* The pod-protocol codec: a table of valid and invalid requests and replies. */
#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hl_check.h"
#include "hl_codec.h"

typedef void (*mutate_fn)(struct hl_proto_msg *m);

static void m_hello(struct hl_proto_msg *m)
{
	hl_proto_init(m, HL_POD_OP_HELLO, 1);
	m->u.hello_req.min_version = 1;
	m->u.hello_req.max_version = 1;
}
static void m_hello_range(struct hl_proto_msg *m) { m_hello(m); m->u.hello_req.max_version = 7; }
static void m_hello_newer(struct hl_proto_msg *m) { m_hello_range(m); m->hdr.version = 3; }
static void m_hello_inverted(struct hl_proto_msg *m) { m_hello(m); m->u.hello_req.min_version = 3; }
static void m_hello_zero(struct hl_proto_msg *m) { m_hello(m); m->u.hello_req.min_version = 0; }
static void m_magic(struct hl_proto_msg *m) { m_hello(m); m->hdr.magic = 0x12345678; }
static void m_unknown_op(struct hl_proto_msg *m) { hl_proto_init(m, 77, 1); }
static void m_event_op(struct hl_proto_msg *m) { hl_proto_init(m, HL_POD_OP_EV_ACCEPT, 1); }
static void m_op_zero(struct hl_proto_msg *m) { hl_proto_init(m, 0, 1); }
static void m_status(struct hl_proto_msg *m) { m_hello(m); m->hdr.status = -1; }
static void m_flags(struct hl_proto_msg *m) { m_hello(m); m->hdr.flags = HL_PROTO_F_REPLY; }
static void m_nfds(struct hl_proto_msg *m) { m_hello(m); m->hdr.nfds = 1; }
static void m_hdr_reserved(struct hl_proto_msg *m) { m_hello(m); m->hdr.reserved[1] = 1; }
static void m_trailing(struct hl_proto_msg *m) { m_hello(m); m->u.raw[sizeof(m->u.raw) - 1] = 1; }
static void m_listen_newer(struct hl_proto_msg *m)
{
	hl_proto_init(m, HL_POD_OP_LISTEN, 1);
	m->u.listen.port = 80;
	m->hdr.version = HL_PROTO_VERSION + 1;
}
static void m_listen_v1(struct hl_proto_msg *m) { m_listen_newer(m); m->hdr.version = 1; }
static void m_alloc(struct hl_proto_msg *m)
{
	hl_proto_init(m, HL_POD_OP_REGION_ALLOC, 2);
	m->u.region_req.size = 8 << 20;
}
static void m_alloc_zero(struct hl_proto_msg *m) { m_alloc(m); m->u.region_req.size = 0; }
static void m_alloc_huge(struct hl_proto_msg *m) { m_alloc(m); m->u.region_req.size = UINT64_MAX; }
static void m_alloc_cap_no_pairs(struct hl_proto_msg *m) { m_alloc(m); m->u.region_req.capacity = 4096; }
static void m_alloc_pairs(struct hl_proto_msg *m)
{
	m_alloc(m);
	m->u.region_req.size = 0;
	m->u.region_req.n_pairs = 2;
	m->u.region_req.capacity = 1 << 16;
	m->u.region_req.mode = 1;
}
static void m_alloc_pairs_npot(struct hl_proto_msg *m) { m_alloc_pairs(m); m->u.region_req.capacity = 5000; }
static void m_alloc_pairs_small(struct hl_proto_msg *m) { m_alloc_pairs(m); m->u.region_req.capacity = 2048; }
static void m_alloc_pairs_mode(struct hl_proto_msg *m) { m_alloc_pairs(m); m->u.region_req.mode = 3; }
static void m_alloc_pairs_many(struct hl_proto_msg *m) { m_alloc_pairs(m); m->u.region_req.n_pairs = 65; }
static void m_alloc_reserved(struct hl_proto_msg *m) { m_alloc(m); m->u.region_req.reserved = 1; }
static void m_free(struct hl_proto_msg *m)
{
	hl_proto_init(m, HL_POD_OP_REGION_FREE, 3);
	m->u.region_free.region_id = 9;
}
static void m_free_zero(struct hl_proto_msg *m) { m_free(m); m->u.region_free.region_id = 0; }
static void m_listen(struct hl_proto_msg *m)
{
	hl_proto_init(m, HL_POD_OP_LISTEN, 4);
	m->u.listen.port = 6379;
}
static void m_listen_zero(struct hl_proto_msg *m) { m_listen(m); m->u.listen.port = 0; }
static void m_listen_addr(struct hl_proto_msg *m)
{
	m_listen(m);
	hl_proto_addr_parse("10.1.2.3", &m->u.listen.addr);
}
static void m_listen_any6(struct hl_proto_msg *m)
{
	m_listen(m);
	m->u.listen.addr.family = 6;
	m->u.listen.flags = HL_LISTEN_F_V6ONLY;
}
static void m_listen_badfam(struct hl_proto_msg *m) { m_listen_addr(m); m->u.listen.addr.family = 5; }
static void m_listen_flag_noaddr(struct hl_proto_msg *m) { m_listen(m); m->u.listen.flags = HL_LISTEN_F_V6ONLY; }
static void m_listen_badflag(struct hl_proto_msg *m) { m_listen_addr(m); m->u.listen.flags = 2; }
static void m_listen_v4junk(struct hl_proto_msg *m) { m_listen_addr(m); m->u.listen.addr.addr[9] = 1; }
static void m_unlisten_resv(struct hl_proto_msg *m)
{
	m_listen(m);
	m->hdr.op = HL_POD_OP_UNLISTEN;
	m->u.listen.reserved = 1;
}
static void m_connect(struct hl_proto_msg *m)
{
	hl_proto_init(m, HL_POD_OP_CONNECT, 5);
	hl_proto_addr_parse("10.1.2.3", &m->u.connect.addr);
	m->u.connect.port = 80;
}
static void m_connect6(struct hl_proto_msg *m)
{
	m_connect(m);
	hl_proto_addr_parse("fd00::1:2", &m->u.connect.addr);
	m->u.connect.capacity = 1 << 20;
}
static void m_connect_fam(struct hl_proto_msg *m) { m_connect(m); m->u.connect.addr.family = 5; }
static void m_connect_v4junk(struct hl_proto_msg *m) { m_connect(m); m->u.connect.addr.addr[9] = 1; }
static void m_connect_pad(struct hl_proto_msg *m) { m_connect(m); m->u.connect.addr.pad[0] = 1; }
static void m_connect_port0(struct hl_proto_msg *m) { m_connect(m); m->u.connect.port = 0; }
static void m_connect_cap(struct hl_proto_msg *m) { m_connect(m); m->u.connect.capacity = 3000; }
static void m_connect_cap_big(struct hl_proto_msg *m) { m_connect(m); m->u.connect.capacity = 1u << 31; }
static void m_connect_slot(struct hl_proto_msg *m) { m_connect(m); m->u.connect.flags = HL_CONNECT_F_SLOT; }
static void m_connect_slot_cap(struct hl_proto_msg *m) { m_connect_slot(m); m->u.connect.capacity = 1 << 20; }
static void m_connect_flag4(struct hl_proto_msg *m) { m_connect(m); m->u.connect.flags = 4; }
static void m_connect_redirect(struct hl_proto_msg *m) { m_connect_slot(m); m->u.connect.flags |= HL_CONNECT_F_REDIRECT; }
static void m_cclose(struct hl_proto_msg *m)
{
	hl_proto_init(m, HL_POD_OP_CONN_CLOSE, 6);
	m->u.conn_close.region_id = 4;
	m->u.conn_close.pair = 6;
	m->u.conn_close.side = 1;
}
static void m_cclose_id0(struct hl_proto_msg *m) { m_cclose(m); m->u.conn_close.region_id = 0; }
static void m_cclose_side(struct hl_proto_msg *m) { m_cclose(m); m->u.conn_close.side = 2; }
static void m_cclose_pair(struct hl_proto_msg *m) { m_cclose(m); m->u.conn_close.pair = 64; }
static void m_cclose_resv(struct hl_proto_msg *m) { m_cclose(m); m->u.conn_close.reserved = 1; }
static void m_doff(struct hl_proto_msg *m) { hl_proto_init(m, HL_POD_OP_DIRECT_OFF, 7); }
static void m_doff_resv(struct hl_proto_msg *m) { m_doff(m); m->u.direct_off.reserved[1] = 1; }
static void m_exec(struct hl_proto_msg *m) { hl_proto_init(m, HL_POD_OP_EXEC, 8); }
static void m_exec_resv(struct hl_proto_msg *m) { m_exec(m); m->u.exec.reserved[0] = 1; }

static const struct {
	const char *name;
	mutate_fn make;
	size_t len;   /* 0: the full message */
	int rc;
} requests[] = {
	{ "hello", m_hello, 0, 0 },
	{ "hello with a range", m_hello_range, 0, 0 },
	{ "hello from a newer client", m_hello_newer, 0, 0 },
	{ "hello min > max", m_hello_inverted, 0, -EINVAL },
	{ "hello min 0", m_hello_zero, 0, -EINVAL },
	{ "empty", m_hello, 1, -EBADMSG },
	{ "short", m_hello, HL_PROTO_MSG_SIZE - 1, -EBADMSG },
	{ "header only", m_hello, 32, -EBADMSG },
	{ "bad magic", m_magic, 0, -EBADMSG },
	{ "unknown op", m_unknown_op, 0, -EOPNOTSUPP },
	{ "event op as request", m_event_op, 0, -EOPNOTSUPP },
	{ "op 0", m_op_zero, 0, -EOPNOTSUPP },
	{ "status set", m_status, 0, -EINVAL },
	{ "reply flag set", m_flags, 0, -EINVAL },
	{ "claims fds", m_nfds, 0, -EINVAL },
	{ "header reserved", m_hdr_reserved, 0, -EINVAL },
	{ "trailing byte", m_trailing, 0, -EINVAL },
	{ "non-hello in a newer version", m_listen_newer, 0, -EPROTONOSUPPORT },
	{ "non-hello in version 1", m_listen_v1, 0, 0 },
	{ "alloc", m_alloc, 0, 0 },
	{ "alloc 0 bytes", m_alloc_zero, 0, -EINVAL },
	{ "alloc 2^64-1 bytes", m_alloc_huge, 0, -EINVAL },
	{ "alloc capacity without pairs", m_alloc_cap_no_pairs, 0, -EINVAL },
	{ "alloc 2 pairs", m_alloc_pairs, 0, 0 },
	{ "alloc capacity not a power of 2", m_alloc_pairs_npot, 0, -EINVAL },
	{ "alloc capacity < 4 KiB", m_alloc_pairs_small, 0, -EINVAL },
	{ "alloc bad mode", m_alloc_pairs_mode, 0, -EINVAL },
	{ "alloc 65 pairs", m_alloc_pairs_many, 0, -EINVAL },
	{ "alloc reserved", m_alloc_reserved, 0, -EINVAL },
	{ "free", m_free, 0, 0 },
	{ "free id 0", m_free_zero, 0, -EINVAL },
	{ "listen", m_listen, 0, 0 },
	{ "listen port 0", m_listen_zero, 0, -EINVAL },
	{ "unlisten reserved", m_unlisten_resv, 0, -EINVAL },
	{ "listen on an address (v4)", m_listen_addr, 0, 0 },
	{ "listen on the v6 wildcard, v6 only", m_listen_any6, 0, 0 },
	{ "listen address of family 5", m_listen_badfam, 0, -EINVAL },
	{ "listen flags without an address", m_listen_flag_noaddr, 0, -EINVAL },
	{ "listen unknown flag", m_listen_badflag, 0, -EINVAL },
	{ "listen v4 address with bytes past it", m_listen_v4junk, 0, -EINVAL },
	{ "connect v4", m_connect, 0, 0 },
	{ "connect v6 with capacity", m_connect6, 0, 0 },
	{ "connect family 5", m_connect_fam, 0, -EINVAL },
	{ "connect v4 with junk", m_connect_v4junk, 0, -EINVAL },
	{ "connect pad", m_connect_pad, 0, -EINVAL },
	{ "connect port 0", m_connect_port0, 0, -EINVAL },
	{ "connect capacity 3000", m_connect_cap, 0, -EINVAL },
	{ "connect capacity 2 GiB", m_connect_cap_big, 0, -EINVAL },
	{ "connect to a slot", m_connect_slot, 0, 0 },
	{ "connect to a slot with a capacity", m_connect_slot_cap, 0, -EINVAL },
	{ "connect unknown flag", m_connect_flag4, 0, -EINVAL },
	{ "connect to a slot, taking a redirect", m_connect_redirect, 0, 0 },
	{ "conn close", m_cclose, 0, 0 },
	{ "conn close region 0", m_cclose_id0, 0, -EINVAL },
	{ "conn close side 2", m_cclose_side, 0, -EINVAL },
	{ "conn close slot 64", m_cclose_pair, 0, -EINVAL },
	{ "conn close reserved", m_cclose_resv, 0, -EINVAL },
	{ "direct off", m_doff, 0, 0 },
	{ "direct off reserved", m_doff_resv, 0, -EINVAL },
	{ "exec", m_exec, 0, 0 },
	{ "exec reserved", m_exec_resv, 0, -EINVAL },
};

START_TEST(test_requests)
{
	struct hl_proto_msg m, out;
	size_t len = requests[_i].len ? requests[_i].len : sizeof(m);
	int rc;

	requests[_i].make(&m);
	rc = hl_proto_parse_request(&m, len, &out);
	ck_assert_msg(rc == requests[_i].rc, "%s: rc %d, want %d", requests[_i].name, rc,
		      requests[_i].rc);
	if (!rc)
		ck_assert(!memcmp(&m, &out, sizeof(m)));
}
END_TEST

/* Replies: a valid one per op, then mutations of them. */
static void r_hello(struct hl_proto_msg *m)
{
	hl_proto_init(m, HL_POD_OP_HELLO, 1);
	m->hdr.flags = HL_PROTO_F_REPLY;
	m->u.hello_rep.version = 1;
	m->u.hello_rep.n_ips = 1;
	strcpy(m->u.hello_rep.pod_key, "ns/pod");
	hl_proto_addr_parse("10.0.0.1", &m->u.hello_rep.ips[0]);
}
static void r_conn(struct hl_proto_msg *m)
{
	hl_proto_init(m, HL_POD_OP_CONNECT, 2);
	m->hdr.flags = HL_PROTO_F_REPLY;
	m->hdr.nfds = 4;
	m->u.conn.region_id = 3;
	m->u.conn.size = 2 << 20;
	hl_proto_addr_parse("10.0.0.2", &m->u.conn.peer);
}
static void r_event(struct hl_proto_msg *m) { r_conn(m); m->hdr.op = HL_POD_OP_EV_ACCEPT; m->hdr.seq = 0; m->u.conn.side = 1; }
static void r_error(struct hl_proto_msg *m)
{
	hl_proto_init(m, HL_POD_OP_REGION_ALLOC, 3);
	m->hdr.flags = HL_PROTO_F_REPLY;
	m->hdr.status = -ENOSPC;
	strcpy(m->u.error.reason, "quota 64Mi exceeded: used 60Mi, asked 8Mi");
}
static void r_hello_key(struct hl_proto_msg *m) { r_hello(m); memset(m->u.hello_rep.pod_key, 'x', HL_PROTO_KEY_MAX); }
static void r_hello_ips(struct hl_proto_msg *m) { r_hello(m); m->u.hello_rep.n_ips = 9; }
static void r_hello_badip(struct hl_proto_msg *m) { r_hello(m); m->u.hello_rep.ips[0].family = 0; }
static void r_noflag(struct hl_proto_msg *m) { r_hello(m); m->hdr.flags = 0; }
static void r_conn_side(struct hl_proto_msg *m) { r_conn(m); m->u.conn.side = 2; }
static void r_event_seq(struct hl_proto_msg *m) { r_event(m); m->hdr.seq = 5; }
static void r_error_reason(struct hl_proto_msg *m) { r_error(m); memset(m->u.error.reason, 'x', HL_PROTO_REASON_MAX); }
static void r_error_positive(struct hl_proto_msg *m) { r_error(m); m->hdr.status = 5; }
static void r_error_fds(struct hl_proto_msg *m) { r_error(m); m->hdr.nfds = 1; }
static void r_hello_newer(struct hl_proto_msg *m) { r_hello(m); m->u.hello_rep.version = HL_PROTO_VERSION + 1; }
static void r_hello_stats(struct hl_proto_msg *m)
{
	r_hello(m);
	m->u.hello_rep.version = 2;
	m->u.hello_rep.flags = HL_HELLO_F_STATS;
	m->hdr.nfds = 1;
}
static void r_hello_flag4(struct hl_proto_msg *m) { r_hello(m); m->u.hello_rep.flags = 8; }
static void r_hello_life(struct hl_proto_msg *m)
{
	r_hello_stats(m);
	m->u.hello_rep.version = 4;
	m->u.hello_rep.flags |= HL_HELLO_F_BELL | HL_HELLO_F_LIFE;
	m->hdr.nfds = 3;
}
static void r_hello_bell(struct hl_proto_msg *m)
{
	r_hello_stats(m);
	m->u.hello_rep.version = 3;
	m->u.hello_rep.flags |= HL_HELLO_F_BELL;
	m->hdr.nfds = 2;
}
static void r_slot_first(struct hl_proto_msg *m)
{
	r_event(m);
	m->u.conn.flags = HL_CONN_F_SLOT | HL_CONN_F_REGION;
	m->u.conn.pair = 5;
	m->u.conn.slots = 7;
	m->hdr.nfds = 16;
}
static void r_slot(struct hl_proto_msg *m)
{
	r_slot_first(m);
	m->u.conn.flags = HL_CONN_F_SLOT;
	m->u.conn.slots = 0;
	m->hdr.nfds = 0;
}
static void r_slot_first_pair(struct hl_proto_msg *m) { r_slot_first(m); m->u.conn.pair = 7; }
static void r_slot_first_many(struct hl_proto_msg *m) { r_slot_first(m); m->u.conn.slots = HL_PROTO_MAX_SLOTS + 1; }
static void r_region_no_slot(struct hl_proto_msg *m) { r_conn(m); m->u.conn.flags = HL_CONN_F_REGION; }
static void r_slot_pair(struct hl_proto_msg *m) { r_slot(m); m->u.conn.pair = 64; }
static void r_conn_slots(struct hl_proto_msg *m) { r_conn(m); m->u.conn.slots = 1; }
static void r_direct_first(struct hl_proto_msg *m)
{
	r_slot_first(m);
	m->hdr.op = HL_POD_OP_CONNECT;
	m->hdr.seq = 5;
	m->u.conn.flags |= HL_CONN_F_DIRECT;
	m->hdr.nfds = 17;
}
static void r_direct_event(struct hl_proto_msg *m) { r_slot_first(m); m->u.conn.flags |= HL_CONN_F_DIRECT; }
static void r_direct_no_slot(struct hl_proto_msg *m) { r_conn(m); m->u.conn.flags = HL_CONN_F_DIRECT; }
static void r_grant_first(struct hl_proto_msg *m)
{
	r_direct_first(m);
	m->u.conn.flags |= HL_CONN_F_GRANT;
	m->hdr.nfds = 18;
}
static void r_grant_event(struct hl_proto_msg *m)
{
	r_direct_event(m);
	m->u.conn.flags |= HL_CONN_F_GRANT;
	m->hdr.nfds = 17;
}
static void r_grant_no_direct(struct hl_proto_msg *m) { r_grant_event(m); m->u.conn.flags &= ~HL_CONN_F_DIRECT; }
static void r_grant_later(struct hl_proto_msg *m)
{
	r_direct_event(m);
	m->u.conn.flags = HL_CONN_F_SLOT | HL_CONN_F_DIRECT | HL_CONN_F_GRANT;
	m->u.conn.slots = 0;
	m->u.conn.pair = 1;
	m->hdr.nfds = 1;
}
static void r_redirect(struct hl_proto_msg *m)
{
	r_conn(m);
	memset(&m->u.conn, 0, sizeof(m->u.conn));
	m->hdr.nfds = 0;
	m->u.conn.flags = HL_CONN_F_REDIRECT;
	m->u.conn.peer_port = 8080;
	hl_proto_addr_parse("10.0.0.9", &m->u.conn.peer);
}
static void r_redirect_region(struct hl_proto_msg *m) { r_redirect(m); m->u.conn.region_id = 3; }
static void r_redirect_port0(struct hl_proto_msg *m) { r_redirect(m); m->u.conn.peer_port = 0; }
static void r_redirect_event(struct hl_proto_msg *m) { r_redirect(m); m->hdr.op = HL_POD_OP_EV_ACCEPT; m->hdr.seq = 0; }
static void r_redirect_slot(struct hl_proto_msg *m) { r_redirect(m); m->u.conn.flags |= HL_CONN_F_SLOT; }
static void r_redirect_list(struct hl_proto_msg *m)
{
	r_redirect(m);
	m->u.redirect.ttl_ms = 250;
	m->u.redirect.n_eps = HL_PROTO_REDIRECT_EPS;
	for (unsigned i = 0; i < HL_PROTO_REDIRECT_EPS; i++) {
		hl_proto_addr_parse("10.0.0.9", &m->u.redirect.eps[i].addr);
		m->u.redirect.eps[i].addr.addr[3] = (uint8_t)i;
		m->u.redirect.eps[i].port = 8080;
		m->u.redirect.eps[i].hostlane = i & 1;
	}
}
static void r_redirect_many(struct hl_proto_msg *m) { r_redirect_list(m); m->u.redirect.n_eps++; }
static void r_redirect_ttl(struct hl_proto_msg *m) { r_redirect_list(m); m->u.redirect.ttl_ms = 1001; }
static void r_redirect_nottl(struct hl_proto_msg *m) { r_redirect_list(m); m->u.redirect.ttl_ms = 0; }
static void r_redirect_ep0(struct hl_proto_msg *m) { r_redirect_list(m); m->u.redirect.eps[3].port = 0; }
static void r_redirect_hl2(struct hl_proto_msg *m) { r_redirect_list(m); m->u.redirect.eps[0].hostlane = 2; }
static void r_redirect_epfam(struct hl_proto_msg *m) { r_redirect_list(m); m->u.redirect.eps[15].addr.family = 0; }
static void r_redirect_kernel(struct hl_proto_msg *m) { r_redirect_list(m); m->u.redirect.kernel = 1; }
static void r_redirect_kernel2(struct hl_proto_msg *m) { r_redirect_list(m); m->u.redirect.kernel = 2; }

static const struct {
	const char *name;
	mutate_fn make;
	unsigned nfds;
	int rc;
} replies[] = {
	{ "hello", r_hello, 0, 0 },
	{ "connect with 4 fds", r_conn, 4, 0 },
	{ "connect header says 4, got 3", r_conn, 3, -EINVAL },
	{ "accept event", r_event, 4, 0 },
	{ "error with reason", r_error, 0, 0 },
	{ "pod key not terminated", r_hello_key, 0, -EINVAL },
	{ "9 ips", r_hello_ips, 0, -EINVAL },
	{ "ip family 0", r_hello_badip, 0, -EINVAL },
	{ "reply flag missing", r_noflag, 0, -EINVAL },
	{ "side 2", r_conn_side, 4, -EINVAL },
	{ "event with a seq", r_event_seq, 4, -EINVAL },
	{ "reason not terminated", r_error_reason, 0, -EINVAL },
	{ "positive status", r_error_positive, 0, -EINVAL },
	{ "error carrying fds", r_error_fds, 1, -EINVAL },
	{ "hello in a newer version", r_hello_newer, 0, -EINVAL },
	{ "hello with the stats region", r_hello_stats, 1, 0 },
	{ "hello says stats, no fd", r_hello_stats, 0, -EINVAL },
	{ "hello unknown flag", r_hello_flag4, 0, -EINVAL },
	{ "hello with stats and doorbell", r_hello_bell, 2, 0 },
	{ "hello says doorbell, 1 fd", r_hello_bell, 1, -EINVAL },
	{ "hello with stats, doorbell and liveness (v4)", r_hello_life, 3, 0 },
	{ "hello says liveness, 2 fds", r_hello_life, 2, -EINVAL },
	{ "first direct connect reply, 17 fds", r_direct_first, 17, 0 },
	{ "first direct connect reply, 16 fds", r_direct_first, 16, -EINVAL },
	{ "first direct accept event, 16 fds", r_direct_event, 16, 0 },
	{ "direct flag without slot", r_direct_no_slot, 4, -EINVAL },
	{ "first direct connect reply with a grant (v5), 18 fds", r_grant_first, 18, 0 },
	{ "first direct connect reply with a grant, 17 fds", r_grant_first, 17, -EINVAL },
	{ "first direct accept event with a grant, 17 fds", r_grant_event, 17, 0 },
	{ "a grant without a direct region", r_grant_no_direct, 17, -EINVAL },
	{ "a grant with a later connection", r_grant_later, 1, -EINVAL },
	{ "first slot event, 16 fds", r_slot_first, 16, 0 },
	{ "first slot event, 15 fds", r_slot_first, 15, -EINVAL },
	{ "first slot event, slot 7 of 7", r_slot_first_pair, 16, -EINVAL },
	{ "first slot event, too many slots", r_slot_first_many, 18, -EINVAL },
	{ "later slot event, no fds", r_slot, 0, 0 },
	{ "later slot event with 2 fds", r_slot, 2, -EINVAL },
	{ "region flag without slot", r_region_no_slot, 4, -EINVAL },
	{ "slot 64", r_slot_pair, 0, -EINVAL },
	{ "slots without a region", r_conn_slots, 4, -EINVAL },
	{ "redirect to an endpoint, no fds", r_redirect, 0, 0 },
	{ "redirect with fds", r_redirect, 4, -EINVAL },
	{ "redirect naming a region", r_redirect_region, 0, -EINVAL },
	{ "redirect to port 0", r_redirect_port0, 0, -EINVAL },
	{ "redirect as an accept event", r_redirect_event, 0, -EINVAL },
	{ "redirect with the slot flag", r_redirect_slot, 0, -EINVAL },
	{ "redirect with 16 candidates for 250 ms", r_redirect_list, 0, 0 },
	{ "redirect with 17 candidates", r_redirect_many, 0, -EINVAL },
	{ "redirect lease over 1 s", r_redirect_ttl, 0, -EINVAL },
	{ "redirect candidates without a lease", r_redirect_nottl, 0, -EINVAL },
	{ "redirect candidate port 0", r_redirect_ep0, 0, -EINVAL },
	{ "redirect candidate hostlane 2", r_redirect_hl2, 0, -EINVAL },
	{ "redirect candidate family 0", r_redirect_epfam, 0, -EINVAL },
	{ "redirect to an endpoint the kernel connects to", r_redirect_kernel, 0, 0 },
	{ "redirect kernel 2", r_redirect_kernel2, 0, -EINVAL },
};

START_TEST(test_replies)
{
	struct hl_proto_msg m, out;
	int rc;

	replies[_i].make(&m);
	rc = hl_proto_parse_reply(&m, sizeof(m), replies[_i].nfds, &out);
	ck_assert_msg(rc == replies[_i].rc, "%s: rc %d, want %d", replies[_i].name, rc,
		      replies[_i].rc);
}
END_TEST

START_TEST(test_addr)
{
	static const char *const good[] = { "10.1.2.3", "0.0.0.0", "::1", "fd00::5", "::ffff:1.2.3.4" };
	static const char *const bad[] = { "", "10.1.2", "10.1.2.3/24", "1.2.3.4 ", "fd00:::1", "x" };
	struct hl_proto_addr a, b;
	char buf[64];

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		ck_assert_int_eq(hl_proto_addr_parse(good[i], &a), 0);
		ck_assert(hl_proto_addr_valid(&a));
		ck_assert_int_eq(hl_proto_addr_format(&a, buf, sizeof(buf)), 0);
		ck_assert_int_eq(hl_proto_addr_parse(buf, &b), 0);
		ck_assert(hl_proto_addr_eq(&a, &b));
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(hl_proto_addr_parse(bad[i], &a) == -EINVAL, "'%s'", bad[i]);
	hl_proto_addr_parse("10.0.0.1", &a);
	hl_proto_addr_parse("10.0.0.2", &b);
	ck_assert(!hl_proto_addr_eq(&a, &b));
	a.family = 9;
	ck_assert_int_eq(hl_proto_addr_format(&a, buf, sizeof(buf)), -EINVAL);
}
END_TEST

START_TEST(test_names)
{
	ck_assert_str_eq(hl_proto_op_name(HL_POD_OP_CONNECT), "CONNECT");
	ck_assert_str_eq(hl_proto_op_name(999), "?");
	struct hl_proto_msg m;

	ck_assert_str_eq(hl_proto_op_name(HL_POD_OP_CONN_CLOSE), "CONN_CLOSE");
	ck_assert_str_eq(hl_proto_op_name(HL_POD_OP_DIRECT_OFF), "DIRECT_OFF");
	ck_assert_str_eq(hl_proto_op_name(HL_POD_OP_EXEC), "EXEC");
	hl_proto_init(&m, HL_POD_OP_REGION_ALLOC, 1);
	ck_assert_uint_eq(hl_proto_reply_fds(&m), 1);
	m.hdr.status = -ENOSPC;
	ck_assert_uint_eq(hl_proto_reply_fds(&m), 0);
	hl_proto_init(&m, HL_POD_OP_EV_ACCEPT, 0);
	ck_assert_uint_eq(hl_proto_reply_fds(&m), 4);
	m.u.conn.flags = HL_CONN_F_SLOT;
	ck_assert_uint_eq(hl_proto_reply_fds(&m), 0);
	m.u.conn.flags |= HL_CONN_F_REGION;
	m.u.conn.slots = 3;
	ck_assert_uint_eq(hl_proto_reply_fds(&m), 8);
	hl_proto_init(&m, HL_POD_OP_HELLO, 1);
	ck_assert_uint_eq(hl_proto_reply_fds(&m), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("ep_proto");
	TCase *tc = tcase_create("codec");

	tcase_add_loop_test(tc, test_requests, 0, sizeof(requests) / sizeof(requests[0]));
	tcase_add_loop_test(tc, test_replies, 0, sizeof(replies) / sizeof(replies[0]));
	tcase_add_test(tc, test_addr);
	tcase_add_test(tc, test_names);
	suite_add_tcase(s, tc);
	return hl_check_run(s);
}
