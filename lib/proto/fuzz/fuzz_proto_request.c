/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer harness for the endpoint's request parser (untrusted input from
 * a pod) and, with the same bytes, the client's reply parser. Accepted
 * requests must satisfy the invariants the endpoint relies on.
 */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "hl_codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hl_proto_msg m;
	char buf[64];

	if (hl_proto_parse_request(data, size, &m) == 0) {
		assert(size == HL_PROTO_MSG_SIZE && m.hdr.magic == HL_PROTO_MAGIC);
		assert(!m.hdr.status && !m.hdr.nfds && !m.hdr.flags);
		switch (m.hdr.op) {
		case HL_POD_OP_CONNECT:
			assert(m.u.connect.port && hl_proto_addr_valid(&m.u.connect.addr));
			assert(hl_proto_addr_format(&m.u.connect.addr, buf, sizeof(buf)) == 0);
			assert(!(m.u.connect.flags & ~(HL_CONNECT_F_SLOT | HL_CONNECT_F_REDIRECT)));
			assert(!(m.u.connect.flags & HL_CONNECT_F_SLOT) || !m.u.connect.capacity);
			break;
		case HL_POD_OP_CONN_CLOSE:
			assert(m.u.conn_close.region_id && m.u.conn_close.side <= 1 &&
			       m.u.conn_close.pair < HL_PROTO_MAX_SLOTS);
			break;
		case HL_POD_OP_LISTEN:
		case HL_POD_OP_UNLISTEN:
			assert(m.u.listen.port);
			break;
		case HL_POD_OP_HELLO:
			assert(m.u.hello_req.min_version <= m.u.hello_req.max_version);
			break;
		case HL_POD_OP_REGION_ALLOC:
			assert(m.u.region_req.size || m.u.region_req.n_pairs);
			break;
		case HL_POD_OP_REGION_FREE:
			assert(m.u.region_free.region_id);
			break;
		case HL_POD_OP_DIRECT_OFF:
			assert(!m.u.direct_off.reserved[0] && !m.u.direct_off.reserved[1]);
			break;
		case HL_POD_OP_EXEC:
			assert(!m.u.exec.reserved[0] && !m.u.exec.reserved[1]);
			break;
		default:
			assert(0 && "accepted an unknown op");
		}
	}
	for (unsigned nfds = 0; nfds <= HL_PROTO_MAX_FDS; nfds++)
		if (hl_proto_parse_reply(data, size, nfds, &m) == 0) {
			assert(m.hdr.nfds == nfds && nfds == hl_proto_reply_fds(&m));
			/* A redirect: an endpoint, no fds, a bounded candidate list. */
			if (!m.hdr.status && m.hdr.op == HL_POD_OP_CONNECT &&
			    (m.u.conn.flags & HL_CONN_F_REDIRECT)) {
				assert(m.u.conn.flags == HL_CONN_F_REDIRECT && !nfds && m.u.conn.peer_port);
				assert(m.u.redirect.n_eps <= HL_PROTO_REDIRECT_EPS &&
				       m.u.redirect.ttl_ms <= HL_PROTO_REDIRECT_TTL_MAX &&
				       m.u.redirect.kernel <= 1);
				for (uint32_t i = 0; i < m.u.redirect.n_eps; i++)
					assert(m.u.redirect.eps[i].port &&
					       hl_proto_addr_valid(&m.u.redirect.eps[i].addr));
			}
			if (!m.hdr.status && (m.hdr.op == HL_POD_OP_CONNECT || m.hdr.op == HL_POD_OP_EV_ACCEPT) &&
			    (m.u.conn.flags & HL_CONN_F_REGION))
				assert(m.u.conn.slots && m.u.conn.pair < m.u.conn.slots);
			if (!m.hdr.status && (m.hdr.op == HL_POD_OP_CONNECT || m.hdr.op == HL_POD_OP_EV_ACCEPT) &&
			    (m.u.conn.flags & HL_CONN_F_DIRECT))
				assert(m.u.conn.flags & HL_CONN_F_SLOT);
			/* A grant (v5) only with a direct region's first
			 * connection, and its fd counted. */
			if (!m.hdr.status && (m.hdr.op == HL_POD_OP_CONNECT || m.hdr.op == HL_POD_OP_EV_ACCEPT) &&
			    (m.u.conn.flags & HL_CONN_F_GRANT))
				assert((m.u.conn.flags & HL_CONN_F_REGION) && (m.u.conn.flags & HL_CONN_F_DIRECT) &&
				       nfds == 3 + 2 * m.u.conn.slots + (m.hdr.op == HL_POD_OP_CONNECT));
			if (m.hdr.status)
				assert(memchr(m.u.error.reason, 0, sizeof(m.u.error.reason)));
			if (!m.hdr.status && m.hdr.op == HL_POD_OP_HELLO)
				assert(m.u.hello_rep.n_ips <= HL_PROTO_MAX_IPS);
		}
	return 0;
}
