/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hostlane_proto.h — the pod protocol: fixed-size binary messages over the
 * per-pod endpoint `@hostlane` (an abstract SOCK_SEQPACKET unix socket bound
 * in the pod's network namespace). See docs/pod-protocol.md.
 *
 * Every message, in both directions, is exactly HL_PROTO_MSG_SIZE bytes: a
 * header and an op-specific body, unused bytes zero. Fixed size and fixed
 * offsets make validation of untrusted input a handful of comparisons.
 * Fields are in host byte order (both ends are on the same machine);
 * strings are NUL-terminated within their field.
 *
 * Changing a layout bumps HL_PROTO_VERSION.
 */
#ifndef HOSTLANE_PROTO_H
#define HOSTLANE_PROTO_H

#include <stddef.h>
#include <stdint.h>

#define HL_PROTO_MAGIC    UINT32_C(0x314e4c48)  /* "HLN1" little-endian */
#define HL_PROTO_VERSION  5u  /* newest; endpoints also speak the older ones */
#define HL_PROTO_VERSION_MIN 1u
#define HL_PROTO_MSG_SIZE 512u
#define HL_PROTO_ENDPOINT "hostlane"            /* abstract name, no leading NUL */

#define HL_PROTO_KEY_MAX    256u  /* pod key field, NUL included */
#define HL_PROTO_REASON_MAX 192u  /* error reason field, NUL included */
#define HL_PROTO_MAX_IPS    8u
#define HL_PROTO_MAX_SLOTS  8u  /* ring pairs of a slot region (v2) */
#define HL_PROTO_MAX_FDS    (4u + 2u * HL_PROTO_MAX_SLOTS)

/* Operations. Requests go client -> endpoint and get exactly one reply with
 * the same op and seq; events go endpoint -> client unsolicited, seq 0. */
enum hl_pod_op {
	HL_POD_OP_HELLO = 1,         /* version negotiation; reply: identity */
	HL_POD_OP_REGION_ALLOC = 2,  /* reply + 1 fd: the region memfd */
	HL_POD_OP_REGION_FREE = 3,   /* drop this client's hold on a region */
	HL_POD_OP_LISTEN = 4,        /* accept connections to port in this pod */
	HL_POD_OP_UNLISTEN = 5,
	HL_POD_OP_CONNECT = 6,       /* reply + 4 (or 2) fds: see struct hl_proto_conn */
	HL_POD_OP_CONN_CLOSE = 7,    /* v2: this side of a slot connection is closed */
	HL_POD_OP_DIRECT_OFF = 8,    /* v3: take no more direct connections */
	HL_POD_OP_EXEC = 9,          /* holds outlive the channel (an exec) */
	HL_POD_OP_EV_ACCEPT = 0x101, /* event + 4 fds: a connection to a listen port */
};

/* hl_proto_hdr.flags */
#define HL_PROTO_F_REPLY 0x1u  /* set on replies and events */

struct hl_proto_hdr {
	uint32_t magic;     /* HL_PROTO_MAGIC */
	uint16_t version;   /* HL_PROTO_VERSION (HELLO may carry a range) */
	uint16_t op;        /* enum hl_pod_op */
	uint32_t seq;       /* request id chosen by the client, echoed */
	int32_t status;     /* replies: 0 or -errno; requests: 0 */
	uint32_t flags;     /* HL_PROTO_F_* */
	uint32_t nfds;      /* fds attached with SCM_RIGHTS (replies/events) */
	uint32_t reserved[2];
};

/* An address: family 4 or 6, bytes in network order, rest zero. */
struct hl_proto_addr {
	uint8_t family;
	uint8_t pad[3];
	uint8_t addr[16];
};

struct hl_proto_hello_req {
	uint16_t min_version, max_version;
	uint32_t reserved;
};

/* hl_proto_hello_rep.flags */
#define HL_HELLO_F_STATS 0x1u  /* v2: the reply carries the stats memfd */
#define HL_HELLO_F_BELL  0x2u  /* v3: and then the process's doorbell (v4: its
				* end of a datagram socketpair) */
#define HL_HELLO_F_LIFE  0x4u  /* v4: and then the write end of the process's
				* liveness pipe: keep it open (not close-on-exec)
				* for as long as the process lives; peers see it
				* gone when it closes */

struct hl_proto_hello_rep {
	uint16_t version;          /* chosen */
	uint16_t n_ips;
	uint32_t flags;            /* HL_HELLO_F_* (v1: zero) */
	uint64_t quota_bytes, used_bytes;
	char pod_key[HL_PROTO_KEY_MAX];
	struct hl_proto_addr ips[HL_PROTO_MAX_IPS];
};

/* REGION_ALLOC: either a plain region (n_pairs 0, size > 0) or one laid out
 * by the endpoint with n_pairs ring pairs of capacity bytes in mode (size 0:
 * as needed). */
struct hl_proto_region_req {
	uint64_t size;
	uint32_t n_pairs;
	uint32_t capacity;
	uint32_t mode;             /* 1 message, 2 byte stream (shmq modes) */
	uint32_t reserved;
};

#define HL_PROTO_REGION_HUGETLB 0x1u
struct hl_proto_region_rep {
	uint32_t region_id;
	uint32_t flags;            /* HL_PROTO_REGION_* */
	uint64_t size;             /* bytes charged and mapped */
};

struct hl_proto_region_free_req {
	uint32_t region_id;
	uint32_t reserved;
};

/* LISTEN / UNLISTEN. v4: the address the listener is bound to; a wildcard
 * (all zeroes, family 4 or 6) is reached at every address of the pod (a v6
 * one at v4 addresses too, unless HL_LISTEN_F_V6ONLY), another only at
 * that address. v1-v3 clients send family 0 (taken as a wildcard). */
struct hl_proto_listen_req {
	uint16_t port;
	uint16_t flags;            /* v4: HL_LISTEN_F_* */
	uint32_t reserved;
	struct hl_proto_addr addr; /* v4 */
};
#define HL_LISTEN_F_V6ONLY 0x1u

struct hl_proto_connect_req {
	struct hl_proto_addr addr;
	uint16_t port;
	uint16_t local_port;       /* the connector's port (0: none), for the
				    * listener's getpeername; was reserved (0) */
	uint32_t capacity;         /* ring bytes per direction; 0: default */
	uint32_t flags;            /* v2: HL_CONNECT_F_* (v1: zero) */
};

/* v2: the connector takes a slot of the region its process shares with the
 * listener's process (made on the first connection of that pair), instead
 * of a region of its own. Needs capacity 0 (slots have the node's size). */
#define HL_CONNECT_F_SLOT 0x1u
/* The connector takes a redirect: when the address is a Service's
 * ClusterIP, the monitor chooses the endpoint and answers with
 * HL_CONN_F_REDIRECT and the endpoint in peer/peer_port (no fds); the
 * connector then connects to the endpoint (directly, or with a CONNECT of
 * its own) and keeps showing the ClusterIP as the peer. */
#define HL_CONNECT_F_REDIRECT 0x2u

/*
 * CONNECT reply and EV_ACCEPT event. Fds, in this order: the region memfd
 * (one byte-stream ring pair, index `pair`), this side's wake fd (sleep on
 * it: readable when woken), the wake fd to write to wake the peer, and the
 * peer's liveness fd (it hangs up, POLLHUP, when the peer process is gone).
 * The wake fds are this side's end of a datagram socketpair whose other end
 * only the peer holds (the same fd twice: what is written to it wakes the
 * peer); the liveness fd is the read end of a pipe only the peer process
 * writes to. Neither reaches into the peer, nor shares an open file
 * description with it (docs/security.md). The connector is side 0, the
 * listener side 1.
 *
 * A slot connection (flags HL_CONN_F_SLOT) is ring pair `pair` of a region
 * shared by the two processes. The first connection of that region has
 * HL_CONN_F_REGION and `slots` (the region's ring pairs) and carries
 * 2 + 2 * slots fds: the region memfd, the peer's liveness fd, then per
 * slot this side's two wake fds. The receiver maps the region once
 * and keeps all of them; later connections in it carry no fd at all. A side
 * gives a slot back by closing its ring endpoint (shmq_ep_close: the
 * monitor reads that in the ring) or, for a connection it never set up,
 * with CONN_CLOSE; a slot both sides gave back is re-initialised and handed
 * out again.
 */
struct hl_proto_conn {
	uint32_t region_id;
	uint32_t side;
	uint32_t pair;
	uint16_t local_port, peer_port;
	struct hl_proto_addr peer;
	uint64_t size;
	uint32_t flags;            /* HL_CONN_F_* (v1: zero) */
	uint32_t slots;            /* with HL_CONN_F_REGION: ring pairs; else 0 */
	struct hl_proto_addr local;/* v4, EV_ACCEPT: the listener's address the
				    * connector asked for; CONNECT reply: the
				    * connector's own address as the listener
				    * sees it (v1-v3: zero) */
};

#define HL_CONN_F_SLOT   0x1u
#define HL_CONN_F_REGION 0x2u
#define HL_CONN_F_DIRECT 0x4u
#define HL_CONN_F_GRANT  0x10u  /* v5, with REGION|DIRECT: the grant fd comes last */
#define HL_CONN_F_REDIRECT 0x8u  /* CONNECT reply: go to peer:peer_port (no fds) */

/*
 * A redirect (CONNECT reply with HL_CONN_F_REDIRECT) may also carry the
 * Service's candidate endpoints for this client (kube-proxy's set: ready,
 * topology applied), each marked whether a hostlane listener serves it:
 * for `ttl_ms` the connector may choose among them itself, uniformly, for
 * later connects to the same ClusterIP:port (a hostlane one: connect to it;
 * another: the kernel socket connects to that endpoint, as kube-proxy's
 * DNAT would, the ClusterIP still shown as the peer) without asking. None is
 * sent for a Service with session affinity or with more candidates than
 * fit; `ttl_ms` 0 and `n_eps` 0 then.
 */
#define HL_PROTO_REDIRECT_EPS 16u
#define HL_PROTO_REDIRECT_TTL_MAX 1000u  /* ms */

struct hl_proto_svc_ep {
	struct hl_proto_addr addr;
	uint16_t port;
	uint8_t hostlane;          /* 1: a hostlane listener; 0: not here */
	uint8_t reserved;
};

struct hl_proto_redirect {
	struct hl_proto_conn conn; /* flags HL_CONN_F_REDIRECT, peer, peer_port */
	uint32_t ttl_ms;
	uint32_t n_eps;
	uint32_t kernel;           /* 1: peer is no hostlane listener: the
				    * kernel socket connects to it */
	struct hl_proto_svc_ep eps[HL_PROTO_REDIRECT_EPS];
};

/* CONN_CLOSE (v2): side `side` of slot `pair` of region `region_id`. */
struct hl_proto_conn_close_req {
	uint32_t region_id;
	uint32_t pair;
	uint32_t side;
	uint32_t reserved;
};

/* DIRECT_OFF (v3): the process takes no more direct connections (it forked
 * while it listened: its children share the listeners). */
struct hl_proto_direct_off_req {
	uint32_t reserved[2];
};

/* EXEC: the process is about to exec and hands its connections over
 * to its next image, which maps their regions from fds the exec keeps:
 * once this channel closes (with the exec), what it held stays held until
 * the process exits. An older endpoint answers -EOPNOTSUPP. */
struct hl_proto_exec_req {
	uint32_t reserved[2];
};

struct hl_proto_error {
	char reason[HL_PROTO_REASON_MAX];
};

#define HL_PROTO_BODY_SIZE (HL_PROTO_MSG_SIZE - sizeof(struct hl_proto_hdr))

struct hl_proto_msg {
	struct hl_proto_hdr hdr;
	union {
		struct hl_proto_hello_req hello_req;
		struct hl_proto_hello_rep hello_rep;
		struct hl_proto_region_req region_req;
		struct hl_proto_region_rep region_rep;
		struct hl_proto_region_free_req region_free;
		struct hl_proto_listen_req listen;
		struct hl_proto_connect_req connect;
		struct hl_proto_conn conn;
		struct hl_proto_redirect redirect;
		struct hl_proto_conn_close_req conn_close;
		struct hl_proto_direct_off_req direct_off;
		struct hl_proto_exec_req exec;
		struct hl_proto_error error;
		uint8_t raw[HL_PROTO_MSG_SIZE - 32];
	} u;
};

_Static_assert(sizeof(struct hl_proto_hdr) == 32, "header size");
_Static_assert(sizeof(struct hl_proto_addr) == 20, "addr size");
_Static_assert(sizeof(struct hl_proto_hello_rep) <= HL_PROTO_BODY_SIZE, "hello reply fits");
_Static_assert(offsetof(struct hl_proto_hello_rep, pod_key) == 24, "hello pod_key");
_Static_assert(sizeof(struct hl_proto_region_req) == 24, "region req");
_Static_assert(sizeof(struct hl_proto_listen_req) == 28, "listen req");
_Static_assert(offsetof(struct hl_proto_listen_req, addr) == 8, "listen addr");
_Static_assert(sizeof(struct hl_proto_conn) == 80, "conn body");
_Static_assert(offsetof(struct hl_proto_conn, local) == 56, "conn local");
_Static_assert(sizeof(struct hl_proto_connect_req) == 32, "connect body");
_Static_assert(offsetof(struct hl_proto_conn, peer) == 16, "conn peer");
_Static_assert(sizeof(struct hl_proto_msg) == HL_PROTO_MSG_SIZE, "message size");
_Static_assert(sizeof(struct hl_proto_svc_ep) == 24, "service endpoint size");
_Static_assert(sizeof(struct hl_proto_redirect) <= HL_PROTO_BODY_SIZE, "redirect fits");
_Static_assert(offsetof(struct hl_proto_redirect, ttl_ms) == 80, "redirect ttl");

#endif /* HOSTLANE_PROTO_H */
