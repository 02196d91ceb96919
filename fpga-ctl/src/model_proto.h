/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The device model's socket protocol (hostlane-fpga-model <-> map_model.c):
 * what a PCIe link carries to a board, as messages on a unix stream socket.
 * Each request is one struct fctl_model_msg; RD, MAP, UNMAP and IRQ get one
 * struct fctl_model_rsp back, WR none (a posted write: the stream keeps
 * order, so a later RD sees it). MAP and IRQ carry an fd (SCM_RIGHTS): the
 * memfd the model maps to serve DMA at [iova, iova + size), the eventfd of
 * interrupt vector `off`. Host byte order: one machine.
 */
#ifndef FCTL_MODEL_PROTO_H
#define FCTL_MODEL_PROTO_H

#include <stdint.h>

enum fctl_model_op {
	FCTL_M_RD = 1,     /* off: a BAR0 register; rsp.val */
	FCTL_M_WR = 2,     /* off, val */
	FCTL_M_MAP = 3,    /* iova, size, fd; the memfd's offset 0 at iova */
	FCTL_M_UNMAP = 4,  /* iova */
	FCTL_M_IRQ = 5,    /* off = vector, fd or none (val 0) */
};

struct fctl_model_msg {
	uint32_t op;
	uint32_t off;
	uint32_t val;
	uint32_t rsvd;
	uint64_t iova;
	uint64_t size;
};

struct fctl_model_rsp {
	int32_t status;    /* 0 or -errno */
	uint32_t val;
};

#endif
