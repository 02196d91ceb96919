/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hostlane_direct.h — the control block of a direct region: a shared-memory
 * layout between two pod processes (and the monitor, which writes its
 * identity once). Its own ABI: magic HL_DIRECT_MAGIC, version
 * HL_DIRECT_VERSION; a layout change bumps the version. See
 * docs/pod-protocol.md "Direct regions".
 */
#ifndef HOSTLANE_DIRECT_H
#define HOSTLANE_DIRECT_H

#include <stddef.h>
#include <stdint.h>

/*
 * Direct connections (pod protocol v3; v5 adds the grant below). A slot region between two v3 processes whose
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
#define HL_DIRECT_MAGIC   UINT32_C(0x52444c48)  /* "HLDR" */
#define HL_DIRECT_VERSION 2u
#define HL_DIRECT_BLK   4096u
#define HL_DIRECT_PORTS 1000u
#define HL_DIRECT_MAX_SLOTS 8u  /* ring pairs a direct region can have */

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
	uint32_t version;          /* HL_DIRECT_VERSION (written by the monitor) */
	_Atomic uint32_t off;      /* v2, the monitor: non-zero once direct
				    * connections must stop (a pod's netfilter
				    * rules appeared): connectors ask the monitor */
	uint32_t reserved[2];
	_Atomic uint64_t ann[HL_DIRECT_MAX_SLOTS];
	_Atomic uint16_t ports[HL_DIRECT_PORTS];  /* side 1 listens; 0: free entry */
};


/*
 * The grant of a direct region (pod protocol v5): the NetworkPolicy verdict
 * for the region's direction (connector pod -> listener pod), per
 * destination port, in memory only the monitor writes. It is a small memfd
 * the monitor maps writable, then seals (F_SEAL_FUTURE_WRITE, F_SEAL_SHRINK,
 * F_SEAL_GROW, F_SEAL_SEAL) before the fd leaves it, so the two processes
 * can map it read-only and nobody else can ever write it. Bit p of `ports`
 * (word p / 64, bit p % 64) is set only if a connection to port p is
 * admitted at every address of the listener pod (the connector's egress
 * and the listener's ingress); anything else is left to the monitor's
 * exact check at CONNECT. The monitor rewrites the bits on every change of
 * the policy table (or clears them all for good once a pod's netfilter
 * rules appear) and bumps `generation` after each rewrite. Its own ABI:
 * magic HL_GRANT_MAGIC, version HL_GRANT_VERSION.
 */
#define HL_GRANT_MAGIC   UINT32_C(0x52474c48)  /* "HLGR" */
#define HL_GRANT_VERSION 1u
#define HL_GRANT_WORDS   1024u                  /* 65,536 port bits */
#define HL_GRANT_BYTES   12288u                 /* the memfd's size: 3 pages */

struct hl_direct_grant {
	uint32_t magic;                  /* HL_GRANT_MAGIC */
	uint32_t version;                /* HL_GRANT_VERSION */
	_Atomic uint64_t generation;     /* rewrites so far (the monitor) */
	uint64_t reserved[6];
	_Atomic uint64_t ports[HL_GRANT_WORDS];  /* admitted destination ports */
};

_Static_assert(sizeof(struct hl_direct_blk) <= HL_DIRECT_BLK, "direct control block");
_Static_assert(offsetof(struct hl_direct_grant, ports) == 64, "grant bitmap");
_Static_assert(sizeof(struct hl_direct_grant) <= HL_GRANT_BYTES, "grant size");
_Static_assert(offsetof(struct hl_direct_blk, ann) == 32, "direct announcements");
_Static_assert(offsetof(struct hl_direct_blk, version) == 16, "direct version");
_Static_assert(offsetof(struct hl_direct_blk, off) == 20, "direct off");

#endif /* HOSTLANE_DIRECT_H */
