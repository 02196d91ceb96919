/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fpgactl_abi.h — the control-plane command and completion entries the
 * monitor exchanges with its backend (software now, an FPGA later: the
 * same fixed-size entries are what a device would read from a submission
 * queue and write to a completion queue). Host byte order, fixed width;
 * changing a layout bumps FPGACTL_ABI_VERSION.
 */
#ifndef FPGACTL_ABI_H
#define FPGACTL_ABI_H

#include <stddef.h>
#include <stdint.h>

#define FPGACTL_ABI_VERSION 1u

enum fpgactl_op {
	FPGACTL_OP_NOP = 0,
	FPGACTL_OP_LISTEN = 1,   /* port -> listener registered */
	FPGACTL_OP_UNLISTEN = 2,
	FPGACTL_OP_CONNECT = 3,  /* addr:port -> a ring-pair slot */
	FPGACTL_OP_CLOSE = 4,    /* conn id -> slot freed when both sides closed */
};

/* One command: 64 bytes, one cache line. */
struct fpgactl_cmd {
	uint16_t op;          /* enum fpgactl_op */
	uint16_t port;
	uint32_t proc;        /* the requesting process (monitor-assigned id) */
	uint64_t cookie;      /* echoed in the completion */
	uint64_t conn;        /* CLOSE: the connection */
	uint8_t family;       /* CONNECT: 4 or 6 */
	uint8_t pad[7];
	uint8_t addr[16];
	uint8_t reserved[16];
};

/* One completion: 32 bytes. */
struct fpgactl_cpl {
	uint64_t cookie;
	int32_t status;       /* 0 or -errno */
	uint32_t slot;        /* CONNECT: ring-pair slot in the process pair's region */
	uint64_t conn;        /* CONNECT: the new connection's id */
	uint64_t reserved;
};

_Static_assert(sizeof(struct fpgactl_cmd) == 64, "command entry is one cache line");
_Static_assert(offsetof(struct fpgactl_cmd, addr) == 32, "command addr offset");
_Static_assert(sizeof(struct fpgactl_cpl) == 32, "completion entry size");

#endif
