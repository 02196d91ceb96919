/* SPDX-License-Identifier: MIT */
/* Helpers of the growable-ring tests (shmq_testgrow.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "shmq_testgrow.h"
#include "shmq_testlib.h"

/* The byte at stream position @i: never periodic in a ring's size. */
uint8_t pat(uint64_t i)
{
	return (uint8_t)((i * 2654435761u) >> 13 ^ i >> 7);
}

void gp_open(struct gp *g, unsigned flags)
{
	memset(g, 0, sizeof(*g));
	g->r = shmq_region_create(2u << 20, flags, NULL, NULL);
	ck_assert_msg(g->r, "region_create: %s", strerror(errno));
	ck_assert_int_eq(shmq_region_layout_pool(g->r, NPAIR, INL, CHUNK, GMAX), 0);
	ck_assert_int_eq(shmq_pair_init(g->r, 0, SHMQ_MODE_STREAM), 0);
	g->a = shmq_ep_attach(g->r, 0, 0);
	g->b = shmq_ep_attach(g->r, 0, 1);
	ck_assert(g->a && g->b);
	g->full = shmq_region_pool_free(g->r, 0);
	ck_assert_int_gt(g->full, 64);
	ck_assert_int_eq(shmq_region_pool_free(g->r, 1), g->full);
}

void gp_close(struct gp *g)
{
	shmq_ep_close(g->a);
	shmq_ep_close(g->b);
	shmq_region_close(g->r);
}

/* Writes up to @len pattern bytes from a; returns how many went. */
size_t put(struct gp *g, size_t len)
{
	uint8_t buf[GMAX];
	ssize_t n;

	for (size_t i = 0; i < len; i++)
		buf[i] = pat(g->wr + i);
	n = shmq_write(g->a, buf, len);
	if (n == -EAGAIN)
		return 0;
	VERIFY(g->a, n >= 0, "write %zu: %zd", len, n);
	g->wr += (uint64_t)n;
	return (size_t)n;
}

/* Reads up to @len bytes at b by @how (0 read, 1 peek+release, 2 PEEK
 * then read) and checks each against the pattern. Returns the count. */
size_t get(struct gp *g, size_t len, int how)
{
	uint8_t buf[GMAX];
	const void *p = NULL;
	ssize_t n;

	if (how == 1) {
		n = shmq_peek(g->b, &p);
		if (n > (ssize_t)len)
			n = (ssize_t)len;
		if (n > 0)
			memcpy(buf, p, (size_t)n);
	} else {
		if (how == 2) {
			n = shmq_read(g->b, buf, len, SHMQ_PEEK);
			VERIFY(g->b, n == -EAGAIN || n >= 0, "peek read %zd", n);
		}
		n = shmq_read(g->b, buf, len, 0);
	}
	if (n == -EAGAIN)
		return 0;
	VERIFY(g->b, n >= 0, "read: %zd", n);
	for (ssize_t i = 0; i < n; i++)
		VERIFY(g->b, buf[i] == pat(g->rd + (uint64_t)i), "byte %llu: %u, not %u",
		       (unsigned long long)(g->rd + (uint64_t)i), buf[i], pat(g->rd + (uint64_t)i));
	if (how == 1 && n > 0)
		ck_assert_int_eq(shmq_release(g->b, (size_t)n), 0);
	g->rd += (uint64_t)n;
	return (size_t)n;
}

void drain(struct gp *g)
{
	while (g->rd < g->wr)
		ck_assert_uint_gt(get(g, GMAX, 0), 0);
	ck_assert_int_eq(shmq_read(g->b, &(uint8_t){ 0 }, 1, 0), -EAGAIN);
}
