/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A test rig for fpga-ctl: an engine with a small geometry, one hugepage
 * memfd (a plain memfd where hugepages are not reserved) holding every
 * queue's rings, queue 0 the admin queue of pod 0 and queue i the queue of
 * pod i at 10.0.0.i unless a test says otherwise.
 */
#ifndef FCTL_RIG_H
#define FCTL_RIG_H

#include <stdbool.h>
#include <stdint.h>

#include "fpgactl.h"

#define RIG_NQ 8u
#define RIG_LOG2 6u           /* 64 entries per ring */
#define RIG_SPAN 16384u       /* bytes per queue pair in the memfd */
#define RIG_MEM (2u << 20)

struct rig {
	struct fpgactl *f;
	int fd;
	uint8_t *mem;
	uint64_t iova;
	bool huge;
	uint32_t tag;
};

/* Opens @device (NULL: software) with the rig's geometry and seed, maps
 * the memfd and enables queue 0. Aborts the test on failure. */
void rig_open(struct rig *r, const char *device);
void rig_close(struct rig *r);
/* Enables queue @q for @pod with an event queue of 2^@eq_log2 entries. */
void rig_queue(struct rig *r, unsigned q, unsigned pod, unsigned eq_log2);
void *rig_rq(struct rig *r, unsigned q);
void *rig_eq(struct rig *r, unsigned q);
/* Pushes @n requests to @q's RQ, rings one doorbell, lets the engine run
 * until idle. */
void rig_submit(struct rig *r, unsigned q, const struct fpgactl_req *req, unsigned n);
/* Takes @q's events (at most @max). */
int rig_pop(struct rig *r, unsigned q, struct fpgactl_evt *ev, unsigned max);
/* One admin request; returns its completion's status (the test fails if
 * there is not exactly one completion). */
int rig_admin(struct rig *r, const struct fpgactl_req *req);
/* 10.0.0.@host as ::ffff:10.0.0.@host */
void rig_ip(uint8_t a[16], unsigned host);
/* Pod @pod at 10.0.0.@pod (admin write). */
void rig_pod(struct rig *r, unsigned pod);
/* The request builders of a process. */
struct fpgactl_req rig_listen(uint16_t port, unsigned host, unsigned flags);
struct fpgactl_req rig_connect(unsigned dst_host, uint16_t port, unsigned src_host, uint16_t lport);

#endif
