/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hostlane_proto.h — the pod protocol: fixed-size binary messages over the
 * per-pod endpoint `@hostlane` (an abstract SOCK_SEQPACKET unix socket bound
 * in the pod's network namespace). See docs/pod-protocol.md.
 *
 * Every message, in both directions, is exactly HL_PROTO_MSG_SIZE bytes: a
 * header and an op-specific body, unused bytes zero. Fixed size and fixed
 * offsets make validation of untrusted input a handful of comparisons; the
 * same shape is meant for the monitor's request queue (issue 5). Fields are
 * in host byte order (both ends are on the same machine); strings are
 * NUL-terminated within their field.
 *
 * Changing a layout bumps HL_PROTO_VERSION.
 */
#ifndef HOSTLANE_PROTO_H
#define HOSTLANE_PROTO_H

#include <stddef.h>
#include <stdint.h>

#define HL_PROTO_MAGIC    UINT32_C(0x314e4c48)  /* "HLN1" little-endian */
#define HL_PROTO_VERSION  3u  /* newest; endpoints also speak the older ones */
#define HL_PROTO_VERSION_MIN 1u
#define HL_PROTO_MSG_SIZE 512u
#define HL_PROTO_ENDPOINT "hostlane"            /* abstract name, no leading NUL */

#define HL_PROTO_KEY_MAX    256u  /* pod key field, NUL included */
#define HL_PROTO_REASON_MAX 192u  /* error reason field, NUL included */
#define HL_PROTO_MAX_IPS    8u
#define HL_PROTO_MAX_SLOTS  8u  /* ring pairs of a slot region (v2) */
#define HL_PROTO_MAX_FDS    (3u + 2u * HL_PROTO_MAX_SLOTS)

/* Operations. Requests go client -> endpoint and get exactly one reply with
 * the same op and seq; events go endpoint -> client unsolicited, seq 0. */
enum hl_proto_op {
	HL_OP_HELLO = 1,         /* version negotiation; reply: identity */
	HL_OP_REGION_ALLOC = 2,  /* reply + 1 fd: the region memfd */
	HL_OP_REGION_FREE = 3,   /* drop this client's hold on a region */
	HL_OP_LISTEN = 4,        /* accept connections to port in this pod */
	HL_OP_UNLISTEN = 5,
	HL_OP_CONNECT = 6,       /* reply + 4 (or 2) fds: see struct hl_proto_conn */
	HL_OP_CONN_CLOSE = 7,    /* v2: this side of a slot connection is closed */
	HL_OP_DIRECT_OFF = 8,    /* v3: take no more direct connections */
	HL_OP_EV_ACCEPT = 0x101, /* event + 4 fds: a connection to a listen port */
};

/* hl_proto_hdr.flags */
#define HL_PROTO_F_REPLY 0x1u  /* set on replies and events */

struct hl_proto_hdr {
	uint32_t magic;     /* HL_PROTO_MAGIC */
	uint16_t version;   /* HL_PROTO_VERSION (HELLO may carry a range) */
	uint16_t op;        /* enum hl_proto_op */
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
#define HL_HELLO_F_BELL  0x2u  /* v3: and then the process's doorbell eventfd */

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

struct hl_proto_listen_req {
	uint16_t port;
	uint16_t reserved[3];
};

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

/*
 * CONNECT reply and EV_ACCEPT event. Fds, in this order: the region memfd
 * (one byte-stream ring pair, index `pair`), this side's eventfd (sleep on
 * it), the peer's eventfd (write it to wake the peer), the peer process's
 * pidfd (liveness). The connector is side 0, the listener side 1.
 *
 * A slot connection (flags HL_CONN_F_SLOT) is ring pair `pair` of a region
 * shared by the two processes. The first connection of that region has
 * HL_CONN_F_REGION and `slots` (the region's ring pairs) and carries
 * 2 + 2 * slots fds: the region memfd, the peer process's pidfd, then per
 * slot this side's eventfd and the peer's. The receiver maps the region once
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
};

#define HL_CONN_F_SLOT   0x1u
#define HL_CONN_F_REGION 0x2u
#define HL_CONN_F_DIRECT 0x4u

/*
 * Direct connections (v3). A slot region between two v3 processes whose
 * listener side takes direct connections is a *direct* region (flag
 * HL_CONN_F_DIRECT with HL_CONN_F_REGION): the monitor sets up its first
 * connection only, and the connector (side 0) sets up every later one
 * itself, without a message to the monitor: it takes a slot both sides
 * closed, re-initialises its rings, announces it in the region's control
 * block and rings the listener process's doorbell (an eventfd the monitor
 * made at that process's HELLO; the connector's first reply carries it as
 * its last fd, after the slots' eventfds). The control block is the last
 * HL_DIRECT_BLK bytes of the region. A listener side publishes there the
 * ports it listens on; a connector announces only to a published port,
 * and withdraws an announcement whose port disappeared meanwhile. A listener
 * side also says in `wake` whether a thread of it sleeps (HL_WAKE_SLEEPS)
 * or none does (HL_WAKE_AWAKE: whoever waits for connections busy-polls the
 * announcements, so the connector saves the doorbell's system call and the
 * wake-up); 0, as the monitor leaves it, means ring always. All of it
 * is memory the two processes share: each treats it as untrusted, and a
 * lie harms only connections between the two.
 */
#define HL_DIRECT_MAGIC UINT32_C(0x52444c48)  /* "HLDR" */
#define HL_DIRECT_BLK   4096u
#define HL_DIRECT_PORTS 1000u

/* hl_direct_blk.ann[slot]: state << 32 | connector port << 16 | port. */
#define HL_ANN_FREE      0u  /* nothing announced */
#define HL_ANN_OFFERED   1u  /* side 0 announced a connection (side 0 writes) */
#define HL_ANN_TAKEN     2u  /* side 1 took it (compare-and-swap from OFFERED) */
#define HL_ANN_WITHDRAWN 3u  /* side 0 took it back (compare-and-swap from OFFERED) */
#define HL_ANN(state, cport, port) \
	((uint64_t)(state) << 32 | (uint64_t)(uint16_t)(cport) << 16 | (uint16_t)(port))
#define HL_ANN_STATE(v) ((uint32_t)((v) >> 32))
#define HL_ANN_CPORT(v) ((uint16_t)((v) >> 16))
#define HL_ANN_PORT(v)  ((uint16_t)(v))

/* hl_direct_blk.wake (side 1 writes): 0 or any other value: ring. */
#define HL_WAKE_SLEEPS 1u  /* a thread of the listener process sleeps: ring */
#define HL_WAKE_AWAKE  2u  /* none sleeps: the announcement is seen without */

struct hl_direct_blk {
	uint32_t magic;            /* HL_DIRECT_MAGIC (written by the monitor) */
	uint32_t n_slots;          /* the region's ring pairs (the monitor) */
	_Atomic uint32_t n_ports;  /* side 1: entries of ports[] in use at most */
	_Atomic uint32_t wake;     /* side 1: HL_WAKE_* */
	uint32_t reserved[4];
	_Atomic uint64_t ann[HL_PROTO_MAX_SLOTS];
	_Atomic uint16_t ports[HL_DIRECT_PORTS];  /* side 1 listens; 0: free entry */
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

struct hl_proto_error {
	char reason[HL_PROTO_REASON_MAX];
};

/*
 * The stats region (v2): a small memfd the endpoint makes for each client at
 * HELLO and hands over with the reply. The process keeps its counters in it
 * (per process, and one record per hostlane connection); the agent reads
 * them for `hostlanectl conns`. The agent treats everything in it as
 * untrusted (it is the pod's memory): it only ever reports it.
 */
#define HL_STATS_MAGIC   UINT32_C(0x53544c48)  /* "HLTS" */
#define HL_STATS_VERSION 1u
#define HL_STATS_SIZE    (64u << 10)
#define HL_STATS_HDR     256u
#define HL_STATS_REC     128u
#define HL_STATS_RECS    ((HL_STATS_SIZE - HL_STATS_HDR) / HL_STATS_REC)

/* Counters of one process. */
struct hl_stats_proc {
	_Atomic uint64_t conns;      /* hostlane connections made or accepted */
	_Atomic uint64_t fallbacks;  /* connects that went to the kernel */
	_Atomic uint64_t tx_bytes, rx_bytes, tx_calls, rx_calls;
	_Atomic uint64_t wakeups;    /* blocking waits that ended (spun or slept) */
	_Atomic uint64_t ctl_calls;  /* control requests with a reply */
	_Atomic uint64_t direct;     /* of conns: set up without the monitor (v3) */
};

/* One open hostlane connection (state 1; 0: free record). */
struct hl_stats_conn {
	_Atomic uint32_t state;
	int32_t fd;                  /* its fd number when it was made */
	uint16_t local_port, peer_port;
	uint32_t side;               /* 0 connected, 1 accepted */
	struct hl_proto_addr local, peer;
	_Atomic uint64_t tx_bytes, rx_bytes, tx_calls, rx_calls, wakeups;
	uint8_t pad[HL_STATS_REC - 96];
};

struct hl_stats_hdr {
	uint32_t magic;              /* HL_STATS_MAGIC */
	uint16_t version;            /* HL_STATS_VERSION */
	uint16_t hdr_size;           /* HL_STATS_HDR */
	uint32_t rec_size;           /* HL_STATS_REC */
	uint32_t n_recs;             /* HL_STATS_RECS */
	int32_t pid;                 /* the process, as the endpoint saw it */
	uint32_t reserved;
	struct hl_stats_proc proc;
	uint8_t pad[HL_STATS_HDR - 24 - sizeof(struct hl_stats_proc)];
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
		struct hl_proto_conn_close_req conn_close;
		struct hl_proto_direct_off_req direct_off;
		struct hl_proto_error error;
		uint8_t raw[HL_PROTO_MSG_SIZE - 32];
	} u;
};

_Static_assert(sizeof(struct hl_proto_hdr) == 32, "header size");
_Static_assert(sizeof(struct hl_proto_addr) == 20, "addr size");
_Static_assert(sizeof(struct hl_proto_hello_rep) <= HL_PROTO_BODY_SIZE, "hello reply fits");
_Static_assert(offsetof(struct hl_proto_hello_rep, pod_key) == 24, "hello pod_key");
_Static_assert(sizeof(struct hl_proto_region_req) == 24, "region req");
_Static_assert(sizeof(struct hl_proto_conn) == 56, "conn body");
_Static_assert(sizeof(struct hl_proto_connect_req) == 32, "connect body");
_Static_assert(offsetof(struct hl_proto_conn, peer) == 16, "conn peer");
_Static_assert(sizeof(struct hl_proto_msg) == HL_PROTO_MSG_SIZE, "message size");
_Static_assert(sizeof(struct hl_stats_conn) == HL_STATS_REC, "stats record");
_Static_assert(offsetof(struct hl_stats_conn, tx_bytes) == 56, "stats record counters");
_Static_assert(sizeof(struct hl_stats_hdr) == HL_STATS_HDR, "stats header");
_Static_assert(sizeof(struct hl_direct_blk) <= HL_DIRECT_BLK, "direct control block");
_Static_assert(offsetof(struct hl_direct_blk, ann) == 32, "direct announcements");

#endif /* HOSTLANE_PROTO_H */
