/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hostlane_stats.h — the stats region: a shared-memory layout between a pod
 * process (which writes its counters there) and the monitor (which reports
 * them). Its own ABI: magic HL_STATS_MAGIC, version HL_STATS_VERSION; a
 * layout change bumps the version. Addresses use the pod protocol's
 * struct hl_proto_addr.
 */
#ifndef HOSTLANE_STATS_H
#define HOSTLANE_STATS_H

#include <stddef.h>
#include <stdint.h>

#include "hostlane_proto.h"

/*
 * The stats region (pod protocol v2 and later): a small memfd the monitor makes for each client at
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
	/* Accept events (EV_ACCEPT) the endpoint sent on this process's
	 * channel, counted before each is sent; the only word the endpoint
	 * writes here (0 from an endpoint that does not count). The process
	 * compares it with the events it read, so that it takes the accept
	 * events sent before a direct connection was announced ahead of it
	 * without a system call to find out (docs/pod-protocol.md). */
	_Atomic uint64_t ev_sent;
	uint8_t pad[HL_STATS_HDR - 32 - sizeof(struct hl_stats_proc)];
};


_Static_assert(sizeof(struct hl_stats_conn) == HL_STATS_REC, "stats record");
_Static_assert(offsetof(struct hl_stats_conn, tx_bytes) == 56, "stats record counters");
_Static_assert(sizeof(struct hl_stats_hdr) == HL_STATS_HDR, "stats header");
_Static_assert(offsetof(struct hl_stats_hdr, ev_sent) == 24 + sizeof(struct hl_stats_proc),
	       "ev_sent after the process's counters");

#endif /* HOSTLANE_STATS_H */
