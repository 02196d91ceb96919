/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fpgactl_abi.h — the connection-setup engine's ABI: what a process, the
 * agent and the engine (software, or the FPGA of fpga-ctl/rtl) exchange in
 * host memory, and the device's register map. docs/fpga.md has the
 * prose; this header is the reference.
 *
 * Every queue is a ring in host memory: a 256-byte header (a read-only
 * line with magic/version/size, the producer's line, the consumer's line)
 * and 2^n entries of 64 bytes. Indices are free-running 32-bit counters,
 * masked by the size. A queue pair per process: a request queue (RQ: the
 * process produces, the engine consumes) and an event queue (EQ: the engine
 * produces completions and events, the process consumes). Queue 0 is the
 * admin queue pair: the agent's, the only one whose requests may write
 * tables, and where the engine sends what software must do (misses,
 * forwarded requests, errors).
 *
 * Fixed width, host byte order (device and host share the machine's
 * order: a big-endian host would swap in the driver). Addresses are 16
 * bytes: IPv6, or IPv4 as ::ffff:a.b.c.d. Changing a layout bumps
 * FPGACTL_ABI_MAJOR.
 */
#ifndef FPGACTL_ABI_H
#define FPGACTL_ABI_H

#include <stddef.h>
#include <stdint.h>

#define FPGACTL_ABI_MAJOR 2u
#define FPGACTL_ABI_MINOR 0u

/* ---- rings ---------------------------------------------------------------- */

#define FPGACTL_RING_MAGIC 0x51464c48u  /* "HLFQ" */
#define FPGACTL_ENTRY      64u          /* bytes per entry */
#define FPGACTL_RING_HDR   256u         /* entries start here */
#define FPGACTL_RING_MIN_LOG2 1u
#define FPGACTL_RING_MAX_LOG2 15u

/*
 * The ring header. Line 0 is written once by whoever sets the ring up (the
 * agent) and never by the engine; line 1 belongs to the producer, line 2 to
 * the consumer, so the two never write one cache line. The engine learns
 * an RQ's producer index from a doorbell, never from memory; it writes the
 * RQ's consumer index and the EQ's producer index back (whole lines, by
 * DMA), and reads an EQ's consumer index when its cached copy says full.
 */
struct fpgactl_ring_hdr {
	uint32_t magic;        /* FPGACTL_RING_MAGIC */
	uint16_t major, minor; /* FPGACTL_ABI_* */
	uint32_t log2_size;    /* entries = 1 << log2_size */
	uint32_t entry_size;   /* FPGACTL_ENTRY */
	uint8_t pad0[48];
	uint32_t prod;         /* line 1: entries produced (free-running) */
	uint8_t pad1[60];
	uint32_t cons;         /* line 2: entries consumed (free-running) */
	uint8_t pad2[60];
	uint8_t pad3[64];      /* line 3: reserved */
};

/* ---- requests (RQ entries) ---------------------------------------------- */

/*
 * Request ops. 1..0x3f are process ops (any queue; from the admin queue
 * with FPGACTL_REQ_F_AS they act for queue `qid`); 0x40.. are table writes
 * and admin ops, refused (-EPERM) on any queue but the admin queue.
 */
enum fpgactl_op {
	FPGACTL_OP_NOP = 0,        /* completes with status 0 (a fence) */
	FPGACTL_OP_LISTEN = 1,     /* port, addr = bound address, flags LSN_* */
	FPGACTL_OP_UNLISTEN = 2,   /* port */
	FPGACTL_OP_CONNECT = 3,    /* addr:port = destination, src = own address, lport */
	FPGACTL_OP_CLOSE = 4,      /* val = region, aux = slot, flags = side: a slot side never
				    * set up; forwarded to software (FWD event), which completes it */
	FPGACTL_OP_POD_SET = 0x41,   /* addr -> pod (flags DEL: remove) */
	FPGACTL_OP_POD_FLAGS = 0x42, /* pod -> val2 (FPGACTL_POD_*) */
	FPGACTL_OP_PAIR_SET = 0x43,  /* (qid, aux) -> region val, free slots val2 (DEL) */
	FPGACTL_OP_SLOT_FREE = 0x44, /* (qid, aux), region val: slot lport free again */
	FPGACTL_OP_SVC_SET = 0x45,   /* addr:port -> endpoints aux.. aux+val-1 (DEL, AFFINITY) */
	FPGACTL_OP_EP_SET = 0x46,    /* endpoint aux = addr:port (flags LOCAL) */
	FPGACTL_OP_POL_SET = 0x47,   /* (pod, aux, port) -> val2 verdict (DEL); port 0: any */
	FPGACTL_OP_POST = 0x48,      /* a completion to queue qid: tag, status val, reason aux,
				      * op lport (what software serves for the engine) */
};

/* Request flags (per op). */
#define FPGACTL_REQ_F_AS        0x80u  /* admin queue: act for queue qid */
#define FPGACTL_LSN_V6ONLY      0x01u  /* LISTEN: IPV6_V6ONLY */
#define FPGACTL_LSN_SHARED      0x02u  /* LISTEN: an accept queue several processes share (fork) */
#define FPGACTL_LSN_REUSEPORT   0x04u  /* LISTEN: an SO_REUSEPORT group */
#define FPGACTL_LSN_FLAGS       0x07u
#define FPGACTL_TBL_DEL         0x01u  /* table writes: remove the key */
#define FPGACTL_SVC_AFFINITY    0x02u  /* SVC_SET: sessionAffinity ClientIP */
#define FPGACTL_EP_LOCAL        0x02u  /* EP_SET: the endpoint is a pod of this node */

/* Pod flags (POD_FLAGS). */
#define FPGACTL_POD_NF_IN   0x01u  /* input hooks filter: connections to it go to the kernel */
#define FPGACTL_POD_NF_OUT  0x02u  /* output hooks filter: connections from it go to the kernel */
#define FPGACTL_POD_POL_IN  0x04u  /* ingress-isolated: the admission table decides */
#define FPGACTL_POD_POL_OUT 0x08u  /* egress-isolated: the admission table decides */
#define FPGACTL_POD_FLAGS   0x0fu

/* Admission verdicts (POL_SET val2). */
#define FPGACTL_POL_DENY  0u
#define FPGACTL_POL_ALLOW 1u

/*
 * One request: 64 bytes. Fields an op does not use must be zero (else
 * -EINVAL). Process ops use op, flags, port, tag, lport, addr, src (and
 * CLOSE val/aux); the admin fields qid, pod, aux, val, val2 carry table
 * writes.
 */
struct fpgactl_req {
	uint8_t op;         /* enum fpgactl_op */
	uint8_t flags;
	uint16_t port;
	uint32_t tag;       /* echoed in the completion */
	uint16_t lport;
	uint16_t qid;
	uint16_t pod;
	uint16_t aux;
	uint32_t val;
	uint32_t val2;
	uint64_t rsvd;      /* zero */
	uint8_t addr[16];
	uint8_t src[16];
};

/* ---- events (EQ entries) -------------------------------------------------- */

enum fpgactl_evt_type {
	FPGACTL_EVT_CPL = 1,     /* a request's completion, to the requesting queue */
	FPGACTL_EVT_ACCEPT = 2,  /* a connection for a listener, to its queue */
	FPGACTL_EVT_MISS = 3,    /* admin: software must act, then resubmit (FPGACTL_REQ_F_AS) */
	FPGACTL_EVT_FWD = 4,     /* admin: a request software serves (CLOSE), then POSTs */
	FPGACTL_EVT_ERROR = 5,   /* admin: a queue failed (bad doorbell, DMA fault, ...) */
};

/* Why (reason field of an event; the status has the errno). */
enum fpgactl_reason {
	FPGACTL_R_OK = 0,
	FPGACTL_R_BAD_OP = 1,        /* unknown op (-EOPNOTSUPP) */
	FPGACTL_R_BAD_FIELD = 2,     /* a field out of range or unused bytes set (-EINVAL) */
	FPGACTL_R_NOT_ADMIN = 3,     /* a table write on a process queue (-EPERM) */
	FPGACTL_R_BAD_QUEUE = 4,     /* a queue not set up (-EINVAL / ERROR event) */
	FPGACTL_R_BAD_SRC = 5,       /* src is not the queue's pod's (-EADDRNOTAVAIL) */
	FPGACTL_R_NO_POD = 6,        /* no pod has the destination (-EHOSTUNREACH) */
	FPGACTL_R_NO_LISTENER = 7,   /* nothing listens there (-ECONNREFUSED) */
	FPGACTL_R_NETFILTER = 8,     /* a pod's netfilter rules: the kernel carries it (-EHOSTUNREACH) */
	FPGACTL_R_POLICY = 9,        /* not admitted: the kernel carries it (-EHOSTUNREACH) */
	FPGACTL_R_SVC_EMPTY = 10,    /* a Service without ready endpoints (-ECONNREFUSED) */
	FPGACTL_R_SVC_REMOTE = 11,   /* the chosen endpoint is on another node (-EHOSTUNREACH) */
	FPGACTL_R_BUSY = 12,         /* the listener's event queue is full (-EAGAIN) */
	FPGACTL_R_NO_REGION = 13,    /* MISS: no region for the pair yet */
	FPGACTL_R_REGION_FULL = 14,  /* MISS: every slot of the pair's region in use */
	FPGACTL_R_SW_BUSY = 15,      /* the admin event queue is full (-EAGAIN) */
	FPGACTL_R_IN_USE = 16,       /* LISTEN: the port has a listener (-EADDRINUSE) */
	FPGACTL_R_NO_ENTRY = 17,     /* not found (-ENOENT) */
	FPGACTL_R_TABLE_FULL = 18,   /* the key's bucket is full (-ENOSPC) */
	FPGACTL_R_GROUP_FULL = 19,   /* a shared listener has FPGACTL_LSN_MEMBERS (-ENOBUFS) */
	FPGACTL_R_DOORBELL = 20,     /* ERROR: a doorbell past the ring (queue stopped) */
	FPGACTL_R_DMA = 21,          /* ERROR: a DMA fault on the queue's memory (queue stopped) */
	FPGACTL_R_MAX = 21,
};

/*
 * One event: 64 bytes.
 *   CPL     op, tag, status, reason; CONNECT: region, slot, queue = the
 *           listener's queue, port = lport = 0, addr = the destination
 *           asked, peer = the listener's address (a Service's endpoint);
 *           LISTEN/UNLISTEN/table writes: status.
 *   ACCEPT  queue = the connector's queue, region, slot, port = the
 *           listener's port, lport = the connector's port, addr = the
 *           listener's address the connection reached, peer = the
 *           connector's address.
 *   MISS    op, tag, reason, queue = the request's queue, aux = the
 *           listener's queue, port, lport, addr, peer = the request's
 *           (port, lport, addr, src): what a resubmission carries.
 *   FWD     op, tag, queue, region, slot, flags = side (CLOSE).
 *   ERROR   queue, reason, status.
 */
struct fpgactl_evt {
	uint8_t type;       /* enum fpgactl_evt_type */
	uint8_t op;
	uint8_t flags;
	uint8_t rsvd0;
	uint32_t tag;
	int32_t status;     /* 0 or -errno */
	uint16_t reason;    /* enum fpgactl_reason */
	uint16_t queue;
	uint32_t region;
	uint16_t slot;
	uint16_t aux;
	uint16_t port;
	uint16_t lport;
	uint32_t rsvd1;
	uint8_t addr[16];
	uint8_t peer[16];
};

/* ---- limits the engine keeps (software and RTL alike) -------------------- */

#define FPGACTL_MAX_QUEUES   1024u  /* queue ids are 10 bits */
#define FPGACTL_MAX_PODS     4096u  /* pod ids are 12 bits */
#define FPGACTL_LSN_MEMBERS  4u     /* queues sharing one listener */
#define FPGACTL_MAX_SLOTS    32u    /* slots per pair region (free-slot bitmap) */
#define FPGACTL_SVC_MAX_EPS  16u    /* ready endpoints per Service */
#define FPGACTL_WAYS         2u     /* entries per hash bucket */
#define FPGACTL_BUDGET       16u    /* requests served per queue per turn */
#define FPGACTL_HASH_BITS    16u    /* hash output width (masked per table) */
#define FPGACTL_SEED_WORDS   8u     /* hash secret: 256 bits */

/* ---- BAR0 register map (32-bit registers) --------------------------------- */

#define FPGACTL_ID_MAGIC   0x43464c48u  /* "HLFC" */

enum fpgactl_reg {
	FPGACTL_REG_ID = 0x000,         /* FPGACTL_ID_MAGIC */
	FPGACTL_REG_VERSION = 0x004,    /* major << 16 | minor */
	FPGACTL_REG_NQ = 0x008,         /* queue pairs */
	FPGACTL_REG_POD_LOG2 = 0x00c,   /* log2 buckets per table ... */
	FPGACTL_REG_LSN_LOG2 = 0x010,
	FPGACTL_REG_PAIR_LOG2 = 0x014,
	FPGACTL_REG_SVC_LOG2 = 0x018,
	FPGACTL_REG_POL_LOG2 = 0x01c,
	FPGACTL_REG_N_EPS = 0x020,      /* Service endpoint entries */
	FPGACTL_REG_N_PODS = 0x024,     /* pod ids (pod flags entries) */
	FPGACTL_REG_CTL = 0x040,        /* FPGACTL_CTL_* */
	FPGACTL_REG_STATUS = 0x044,     /* FPGACTL_ST_* */
	FPGACTL_REG_SEED = 0x060,       /* 8 words: the hash secret (while not running) */
	FPGACTL_REG_QSEL = 0x080,       /* queue config staging: which queue */
	FPGACTL_REG_Q_RQ_LO = 0x084,    /* RQ ring IOVA (256-byte aligned) */
	FPGACTL_REG_Q_RQ_HI = 0x088,
	FPGACTL_REG_Q_EQ_LO = 0x08c,    /* EQ ring IOVA */
	FPGACTL_REG_Q_EQ_HI = 0x090,
	FPGACTL_REG_Q_SIZES = 0x094,    /* rq log2 [3:0], eq log2 [11:8] */
	FPGACTL_REG_Q_POD = 0x098,      /* the queue's pod */
	FPGACTL_REG_Q_FLAGS = 0x09c,    /* FPGACTL_QF_* */
	FPGACTL_REG_Q_CMD = 0x0a0,      /* FPGACTL_QCMD_*: applied by the engine; STATUS.CFG_BUSY */
	FPGACTL_REG_Q_RD_HEAD = 0x0a4,  /* after QCMD_READ: the RQ consumer index */
	FPGACTL_REG_Q_RD_TAIL = 0x0a8,  /* ... the last doorbell */
	FPGACTL_REG_Q_RD_PROD = 0x0ac,  /* ... the EQ producer index */
	FPGACTL_REG_Q_RD_STATE = 0x0b0, /* ... FPGACTL_QS_* */
	FPGACTL_REG_CNT = 0x100,        /* counters, 64-bit lo/hi pairs (enum fpgactl_cnt) */
	FPGACTL_REG_TBL_SEL = 0x200,    /* table window: which table (enum fpgactl_tbl) */
	FPGACTL_REG_TBL_CMD = 0x204,    /* write FPGACTL_TCMD_*: runs it on KEY (and VAL) */
	FPGACTL_REG_TBL_STATUS = 0x208, /* FPGACTL_TST_*: busy, result, way */
	FPGACTL_REG_TBL_KEY = 0x210,    /* 5 words: the key, byte 0 in the low byte of word 0 */
	FPGACTL_REG_TBL_VAL = 0x240,    /* 6 words: the value (written: in; read: the result) */
	FPGACTL_REG_DB = 0x1000,        /* + 8 q: RQ doorbell (write the new tail) */
	FPGACTL_REG_ARM = 0x1004,       /* + 8 q: interrupt at the next EQ write (write 1) */
	FPGACTL_BAR_SIZE = 0x4000,
};

#define FPGACTL_CTL_RUN    0x1u   /* serve doorbelled queues (0: doorbells only queue up) */
#define FPGACTL_CTL_RESET  0x2u   /* clear queues and tables (self-clearing) */
#define FPGACTL_ST_IDLE    0x1u   /* nothing scheduled, nothing in flight */
#define FPGACTL_ST_CFG_BUSY 0x2u  /* a Q_CMD or reset not yet applied */
#define FPGACTL_ST_DB_DROP 0x4u   /* a doorbell for a queue >= NQ was dropped (sticky) */
#define FPGACTL_QF_ADMIN   0x1u
#define FPGACTL_QCMD_ENABLE  1u
#define FPGACTL_QCMD_DISABLE 2u
#define FPGACTL_QCMD_READ    3u
/* The table window: tables as the engine keeps them (engine.h), for the
 * agent to read back what it wrote (docs/fpga.md has the value layouts). */
enum fpgactl_tbl { FPGACTL_TBL_PODS = 0, FPGACTL_TBL_LSNS, FPGACTL_TBL_PAIRS, FPGACTL_TBL_SVCS,
		   FPGACTL_TBL_POLS, FPGACTL_TBL_N };
#define FPGACTL_TCMD_LOOKUP 0u
#define FPGACTL_TCMD_INSERT 1u
#define FPGACTL_TCMD_DELETE 2u
#define FPGACTL_TST_BUSY    0x80000000u
#define FPGACTL_TST_RESULT  0x3u      /* 0 done, 1 not found, 2 bucket full, 3 bad table or command */
#define FPGACTL_TST_WAY     0x100u
#define FPGACTL_QS_ENABLED 0x1u
#define FPGACTL_QS_ADMIN   0x2u
#define FPGACTL_QS_ERROR   0x4u   /* stopped by an error (re-enable to restart) */

enum fpgactl_cnt {
	FPGACTL_CNT_CYCLES = 0,   /* clock cycles since reset */
	FPGACTL_CNT_BUSY,         /* cycles the engine was serving */
	FPGACTL_CNT_REQS,         /* requests served */
	FPGACTL_CNT_EVENTS,       /* EQ entries written */
	FPGACTL_CNT_DMA_RD,
	FPGACTL_CNT_DMA_WR,
	FPGACTL_CNT_ERRORS,       /* error completions and ERROR events */
	FPGACTL_CNT_MISSES,
	FPGACTL_CNT_DROPS,        /* ERROR events and doorbells dropped */
	FPGACTL_CNT_N
};

/* C and C++ (the RTL testbenches) both check the layout */
#ifdef __cplusplus
#define FPGACTL_ASSERT static_assert
#else
#define FPGACTL_ASSERT _Static_assert
#endif
FPGACTL_ASSERT(sizeof(struct fpgactl_ring_hdr) == FPGACTL_RING_HDR, "ring header");
FPGACTL_ASSERT(offsetof(struct fpgactl_ring_hdr, prod) == 64, "producer line");
FPGACTL_ASSERT(offsetof(struct fpgactl_ring_hdr, cons) == 128, "consumer line");
FPGACTL_ASSERT(sizeof(struct fpgactl_req) == FPGACTL_ENTRY, "request entry");
FPGACTL_ASSERT(offsetof(struct fpgactl_req, addr) == 32, "request addr");
FPGACTL_ASSERT(offsetof(struct fpgactl_req, src) == 48, "request src");
FPGACTL_ASSERT(sizeof(struct fpgactl_evt) == FPGACTL_ENTRY, "event entry");
FPGACTL_ASSERT(offsetof(struct fpgactl_evt, addr) == 32, "event addr");
FPGACTL_ASSERT(offsetof(struct fpgactl_evt, peer) == 48, "event peer");

#endif
