/* SPDX-License-Identifier: MIT */
/* Helpers of the growable-ring tests (test_shmq_grow, test_shmq_grow_hostile):
 * a pool region with pair 0 attached on both sides, and a checked stream. */
#ifndef SHMQ_TESTGROW_H
#define SHMQ_TESTGROW_H

#include <stddef.h>
#include <stdint.h>

#include "shmq.h"

#define INL   4096u          /* the slot's own area */
#define CHUNK 8192u
#define GMAX  (128u << 10)
#define NPAIR 4u

struct gp {
	struct shmq_region *r;
	struct shmq_ep *a, *b;  /* sides 0 and 1 of pair 0 */
	int full;               /* free chunks per side when nothing is used */
	uint64_t wr, rd;        /* stream positions of the pattern */
};

/* The byte at stream position @i: never periodic in a ring's size. */
uint8_t pat(uint64_t i);
/* A 2 MiB pool region (@flags: SHMQ_REGION_*), pair 0 attached. */
void gp_open(struct gp *g, unsigned flags);
void gp_close(struct gp *g);
/* Writes up to @len pattern bytes from a; returns how many went. */
size_t put(struct gp *g, size_t len);
/* Reads up to @len bytes at b by @how (0 read, 1 peek+release, 2 PEEK
 * then read) and checks each against the pattern. Returns the count. */
size_t get(struct gp *g, size_t len, int how);
/* Reads everything written; the ring is empty afterwards. */
void drain(struct gp *g);

#endif
