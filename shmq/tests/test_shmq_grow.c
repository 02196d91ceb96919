/* SPDX-License-Identifier: MIT */
/*
 * Growable stream rings of a pool region (layout 2.0): growth under load,
 * shrinking when idle or lightly used, no byte lost or reordered across
 * moves (one process with every copy / zero-copy call; two processes with
 * a hash), the pool's chunks all back afterwards. A hostile peer: in
 * test_shmq_grow_hostile.
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hl_check.h"
#include "shmq_abi.h"
#include "shmq_private.h"
#include "shmq_testgrow.h"
#include "shmq_testlib.h"

START_TEST(test_grow_under_load)
{
	struct gp g;

	gp_open(&g, t_region_flags[_i]);
	ck_assert_uint_eq(shmq_ep_capacity(g.a), INL);
	/* One write fills the slot's area; the next finds it full again
	 * and moves to an area for what it asked (the pool's largest). */
	ck_assert_uint_eq(put(&g, 64 << 10), INL);
	ck_assert_uint_eq(shmq_ep_capacity(g.a), INL);
	ck_assert_uint_eq(put(&g, 64 << 10), 64 << 10);
	ck_assert_uint_eq(shmq_ep_capacity(g.a), GMAX);
	ck_assert_int_eq(shmq_region_pool_free(g.r, 0), g.full - (int)(GMAX / CHUNK));
	ck_assert_int_eq(shmq_region_pool_free(g.r, 1), g.full);  /* side 1's memory: not touched */
	/* The pool takes the rest of the region, but for less than two
	 * chunks: a tail block there, not one byte more. */
	{
		const struct shmq_pool *pl = &g.a->pool;
		size_t end = (size_t)(pl->base - (uint8_t *)g.a->tx.hdr) + 2 * pl->n_side * pl->chunk;
		size_t left = shmq_region_size(g.r) - SHMQ_REGION_HDR_SIZE - end;

		ck_assert_uint_lt(left, 2 * CHUNK);
		if (left)
			ck_assert_ptr_nonnull(shmq_region_tail(g.r, left));
		ck_assert_ptr_null(shmq_region_tail(g.r, left + 1));
		ck_assert_int_eq(errno, ENOSPC);
	}
	/* The reader drains the slot's area first, then follows. */
	ck_assert_uint_eq(get(&g, 100, 0), 100);
	ck_assert_uint_eq(shmq_ep_rx_capacity(g.b), GMAX);
	drain(&g);
	ck_assert_uint_eq(put(&g, 100000), 100000);
	drain(&g);
	ck_assert_uint_eq(g.wr, INL + (64 << 10) + 100000);
	gp_close(&g);
}
END_TEST

START_TEST(test_trim_when_idle)
{
	struct gp g;

	gp_open(&g, t_region_flags[_i]);
	put(&g, 64 << 10);
	put(&g, 64 << 10);
	ck_assert_uint_eq(shmq_ep_capacity(g.a), GMAX);
	/* The move to it is pending (the reader is still in the slot's
	 * area): one move at a time, so no trim yet. */
	ck_assert_int_eq(shmq_ep_trim(g.a), -EAGAIN);
	ck_assert_uint_eq(shmq_ep_capacity(g.a), GMAX);
	ck_assert_uint_eq(get(&g, INL + 1, 0), INL + 1);
	/* Unread data keeps the pool area until the reader is done. */
	ck_assert_int_eq(shmq_ep_trim(g.a), -EAGAIN);
	ck_assert_uint_eq(shmq_ep_capacity(g.a), INL);
	ck_assert_uint_eq(put(&g, 1000), 1000);  /* goes on in the slot */
	ck_assert_int_lt(shmq_region_pool_free(g.r, 0), g.full);
	drain(&g);
	ck_assert_int_eq(shmq_ep_trim(g.a), 0);
	ck_assert_int_eq(shmq_region_pool_free(g.r, 0), g.full);
	ck_assert_uint_eq(shmq_ep_rx_capacity(g.b), INL);
	/* A drained ring trims at once, and grows again. */
	put(&g, 64 << 10);
	put(&g, 64 << 10);
	drain(&g);
	ck_assert_uint_eq(shmq_ep_capacity(g.a), GMAX);
	ck_assert_int_eq(shmq_ep_trim(g.a), 0);
	ck_assert_int_eq(shmq_region_pool_free(g.r, 0), g.full);
	ck_assert_int_eq(shmq_ep_trim(g.a), 0);  /* nothing held: still 0 */
	gp_close(&g);
}
END_TEST

START_TEST(test_shrink_light_load)
{
	struct gp g;
	int steps = 0;

	gp_open(&g, t_region_flags[_i]);
	put(&g, 64 << 10);
	put(&g, 64 << 10);
	drain(&g);
	ck_assert_uint_eq(shmq_ep_capacity(g.a), GMAX);
	/* Request/response sized writes, each read at once: the ring never
	 * fills, so it halves after every eight capacities written. */
	for (size_t last = GMAX; shmq_ep_capacity(g.a) > INL; steps++) {
		ck_assert_int_lt(steps, 100000);
		ck_assert_uint_eq(put(&g, 64), 64);
		ck_assert_uint_eq(get(&g, 64, steps % 3), 64);
		ck_assert_uint_le(shmq_ep_capacity(g.a), last);
		last = shmq_ep_capacity(g.a);
	}
	fprintf(stderr, "# back in the slot after %d writes of 64 bytes\n", steps);
	ck_assert_uint_eq(put(&g, 64), 64);
	ck_assert_uint_eq(get(&g, 64, 0), 64);
	ck_assert_int_eq(shmq_region_pool_free(g.r, 0), g.full);
	ck_assert_uint_eq(shmq_ep_rx_capacity(g.b), INL);
	gp_close(&g);
}
END_TEST

/* Random writes (copy and zero copy), reads (copy, peek, PEEK), trims:
 * the stream arrives whole and in order through many moves. */
START_TEST(test_random_moves)
{
	struct gp g;
	uint64_t s = 0x9e3779b97f4a7c15ull ^ (uint64_t)_i;
	uint32_t moves;

	gp_open(&g, t_region_flags[_i]);
	for (int it = 0; it < 60000; it++) {
		uint64_t x = t_rand(&s);
		size_t len = 1 + (x >> 8) % (x & 1 ? 40000 : 300);

		switch ((x >> 4) % 8) {
		case 0: case 1: case 2:
			put(&g, len);
			break;
		case 3: {
			void *w;
			ssize_t n = shmq_reserve(g.a, len, &w);

			if (n > 0) {
				for (ssize_t i = 0; i < n; i++)
					((uint8_t *)w)[i] = pat(g.wr + (uint64_t)i);
				ck_assert_int_eq(shmq_commit(g.a, (size_t)n), 0);
				g.wr += (uint64_t)n;
			}
			break;
		}
		case 4: case 5: case 6:
			get(&g, len, (int)((x >> 40) % 3));
			break;
		default:
			if ((x >> 32) % 16 == 0)
				ck_assert_int_ge(shmq_ep_trim(g.a), -EAGAIN);
			break;
		}
		ck_assert_uint_le(g.wr - g.rd, GMAX + INL + GMAX);
	}
	drain(&g);
	moves = g.a->tx.seq;
	fprintf(stderr, "# %llu bytes through %u moves\n", (unsigned long long)g.wr, moves);
	ck_assert_uint_gt(moves, 20);
	ck_assert_int_eq(shmq_ep_trim(g.a), 0);
	ck_assert_int_eq(shmq_region_pool_free(g.r, 0), g.full);
	gp_close(&g);
}
END_TEST

/* A closed ring's areas: freed at close when read, else when the slot is
 * initialised again. */
START_TEST(test_close_reclaim)
{
	struct gp g;

	gp_open(&g, SHMQ_REGION_NO_HUGETLB);
	put(&g, 64 << 10);
	put(&g, 64 << 10);
	shmq_ep_close(g.a);  /* unread data: the area stays for the reader */
	g.a = NULL;
	ck_assert_int_lt(shmq_region_pool_free(g.r, 0), g.full);
	ck_assert_uint_eq(get(&g, 10, 0), 10);
	shmq_ep_close(g.b);
	g.b = NULL;
	ck_assert_int_eq(shmq_pair_init(g.r, 0, SHMQ_MODE_STREAM), 0);
	ck_assert_int_eq(shmq_region_pool_free(g.r, 0), g.full);
	/* Read to the end before the close: freed by the close. */
	g.a = shmq_ep_attach(g.r, 0, 0);
	g.b = shmq_ep_attach(g.r, 0, 1);
	g.wr = g.rd = 0;
	put(&g, 64 << 10);
	put(&g, 64 << 10);
	drain(&g);
	shmq_ep_close(g.a);
	g.a = NULL;
	ck_assert_int_eq(shmq_region_pool_free(g.r, 0), g.full);
	ck_assert_int_eq(shmq_read(g.b, &(uint8_t){ 0 }, 1, 0), 0);  /* end of stream */
	ck_assert_int_eq(shmq_pair_init(g.r, 0, SHMQ_MODE_STREAM), 0);
	ck_assert_int_eq(shmq_region_pool_free(g.r, 0), g.full);  /* nothing twice */
	gp_close(&g);
}
END_TEST

/* Another endpoint of the side (after fork) takes the moved ring over. */
START_TEST(test_resync_moved)
{
	struct gp g;
	struct shmq_ep *a2;

	gp_open(&g, SHMQ_REGION_NO_HUGETLB);
	put(&g, 64 << 10);
	put(&g, 64 << 10);
	a2 = shmq_ep_attach(g.r, 0, 0);
	ck_assert(a2);
	ck_assert_uint_eq(shmq_ep_capacity(a2), GMAX);
	shmq_ep_detach(g.a);
	g.a = a2;
	ck_assert_uint_eq(put(&g, 1000), 1000);
	drain(&g);
	ck_assert_int_eq(shmq_ep_trim(g.a), 0);
	ck_assert_int_eq(shmq_region_pool_free(g.r, 0), g.full);
	gp_close(&g);
}
END_TEST

/* The sizing of docs/shmq.md: 128 pairs of 4 KiB per 2 MiB region (4,096
 * connections in 32 regions, 64 MiB), each side with 31 chunks of 8 KiB
 * to grow into, every pair usable at once. */
START_TEST(test_sizing)
{
	struct shmq_region *r = shmq_region_create(2u << 20, SHMQ_REGION_NO_HUGETLB, NULL, NULL);
	struct shmq_ep *e[2 * 128];
	uint8_t b[64];

	ck_assert(r);
	ck_assert_uint_eq(shmq_region_size(r), 2u << 20);
	ck_assert_int_eq(shmq_region_layout_pool(r, 128, 4096, 8192, 128u << 10), 0);
	ck_assert_int_eq(shmq_region_pool_free(r, 0), 31);
	ck_assert_int_eq(shmq_region_pool_free(r, 1), 31);
	for (unsigned i = 0; i < 128; i++) {
		ck_assert_int_eq(shmq_pair_init(r, i, SHMQ_MODE_STREAM), 0);
		e[2 * i] = shmq_ep_attach(r, i, 0);
		e[2 * i + 1] = shmq_ep_attach(r, i, 1);
		ck_assert(e[2 * i] && e[2 * i + 1]);
		memset(b, (int)i, sizeof(b));
		ck_assert_int_eq(shmq_write(e[2 * i], b, sizeof(b)), sizeof(b));
	}
	for (unsigned i = 0; i < 128; i++) {
		ck_assert_int_eq(shmq_read(e[2 * i + 1], b, sizeof(b), 0), sizeof(b));
		ck_assert_uint_eq(b[0], (uint8_t)i);
		ck_assert_uint_eq(b[63], (uint8_t)i);
		shmq_ep_close(e[2 * i]);
		shmq_ep_close(e[2 * i + 1]);
	}
	shmq_region_close(r);
}
END_TEST

/* Indices anywhere in their 64-bit range (a peer may start them there):
 * sizes and bounds compare by distance, in fixed rings and moved ones. */
START_TEST(test_far_indices)
{
	const uint64_t far = (UINT64_C(1) << 63) + 3 * INL + 5;
	size_t len = shmq_pair_bytes(INL);
	uint8_t *mem = aligned_alloc(SHMQ_BLOCK, len), big[3 * INL];
	struct shmq_ep *a, *b;
	struct gp g;

	ck_assert(mem);
	ck_assert_int_eq(shmq_pair_format(mem, len, INL, SHMQ_MODE_STREAM), 0);
	for (unsigned r = 0; r < 2; r++) {
		struct shmq_abi_ring *h = (struct shmq_abi_ring *)(mem + r * len / 2);

		atomic_store(&h->prod, far);
		atomic_store(&h->cons, far);
	}
	a = shmq_ep_open(mem, len, 0);
	b = shmq_ep_open(mem, len, 1);
	ck_assert(a && b);
	ck_assert_int_eq(shmq_write(a, big, sizeof(big)), INL);  /* never more */
	ck_assert_int_eq(shmq_write(a, big, 1), -EAGAIN);
	ck_assert_int_eq(shmq_read(b, big, sizeof(big), 0), INL);
	ck_assert_int_eq(shmq_readable(b), -EAGAIN);
	shmq_ep_close(a);
	shmq_ep_close(b);
	free(mem);

	gp_open(&g, SHMQ_REGION_NO_HUGETLB);
	for (unsigned r = 0; r < 2; r++) {
		struct shmq_abi_ring *h = r ? g.b->tx.hdr : g.a->tx.hdr;

		atomic_store(&h->prod, far);
		atomic_store(&h->cons, far);
	}
	shmq_ep_detach(g.a);
	shmq_ep_detach(g.b);
	g.a = shmq_ep_attach(g.r, 0, 0);
	g.b = shmq_ep_attach(g.r, 0, 1);
	ck_assert(g.a && g.b);
	g.wr = g.rd = far;
	ck_assert_uint_eq(put(&g, 2 * INL), INL);
	ck_assert_uint_eq(put(&g, 64 << 10), 64 << 10);
	ck_assert_uint_eq(shmq_ep_capacity(g.a), GMAX);
	ck_assert_uint_eq(put(&g, GMAX), GMAX - (64 << 10));
	drain(&g);
	ck_assert_int_eq(shmq_ep_trim(g.a), 0);
	ck_assert_int_eq(shmq_region_pool_free(g.r, 0), g.full);
	gp_close(&g);
}
END_TEST

/* ---- Two processes ---------------------------------------------------- */

#define TWO_BYTES (40u << 20)

/* The child: map the region from the fd, read TWO_BYTES in random sizes
 * with random pauses, exit 0 if the hash matches @want. */
static int child_read(int fd, uint64_t want)
{
	struct shmq_region *r = shmq_region_map(fd);
	struct shmq_ep *b = r ? shmq_ep_attach(r, 0, 1) : NULL;
	uint64_t h = T_HASH_INIT, got = 0, s = 77;
	static uint8_t buf[GMAX];

	CHILD_CHECK(b, "attach: %s", strerror(errno));
	while (got < TWO_BYTES) {
		uint64_t x = t_rand(&s);
		ssize_t n = shmq_read(b, buf, 1 + x % sizeof(buf), 0);

		if (n == -EAGAIN) {
			sched_yield();
			continue;
		}
		CHILD_CHECK(n > 0, "read %zd at %llu", n, (unsigned long long)got);
		h = t_hash(h, buf, (size_t)n);
		got += (uint64_t)n;
		if (x % 64 == 0)
			for (int k = 0; k < 200; k++)
				sched_yield();
	}
	CHILD_CHECK(h == want, "hash differs after %llu bytes", (unsigned long long)got);
	shmq_ep_close(b);
	shmq_region_close(r);
	return 0;
}

START_TEST(test_two_processes)
{
	static uint8_t buf[GMAX];
	uint64_t h = T_HASH_INIT, s = 5, sent = 0, w = 0;
	struct gp g;
	pid_t pid;
	int st;

	gp_open(&g, t_region_flags[_i]);
	for (uint64_t i = 0; i < TWO_BYTES; i += sizeof(buf)) {
		for (size_t k = 0; k < sizeof(buf); k++)
			buf[k] = pat(i + k);
		h = t_hash(h, buf, sizeof(buf));
	}
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		_exit(child_read(shmq_region_fd(g.r), h));
	while (sent < TWO_BYTES) {
		uint64_t x = t_rand(&s);
		size_t len = 1 + x % (x & 1 ? sizeof(buf) : 256);
		ssize_t n;

		if (len > TWO_BYTES - sent)
			len = TWO_BYTES - sent;
		for (size_t k = 0; k < len; k++)
			buf[k] = pat(sent + k);
		n = shmq_write(g.a, buf, len);
		if (n == -EAGAIN) {
			sched_yield();
			continue;
		}
		VERIFY(g.a, n > 0, "write %zd", n);
		sent += (uint64_t)n;
		if (x % 64 == 0)
			w += shmq_ep_trim(g.a) == 0;
	}
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child status %d", st);
	fprintf(stderr, "# %u moves, %llu trims to the slot\n", g.a->tx.seq,
		(unsigned long long)w);
	ck_assert_uint_gt(g.a->tx.seq, 2);
	ck_assert_int_eq(shmq_ep_trim(g.a), 0);
	ck_assert_int_eq(shmq_region_pool_free(g.r, 0), g.full);
	gp_close(&g);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("shmq_grow");
	TCase *tc = tcase_create("grow");

	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, test_grow_under_load, 0, 2);
	tcase_add_loop_test(tc, test_trim_when_idle, 0, 2);
	tcase_add_loop_test(tc, test_shrink_light_load, 0, 2);
	tcase_add_loop_test(tc, test_random_moves, 0, 2);
	tcase_add_test(tc, test_close_reclaim);
	tcase_add_test(tc, test_resync_moved);
	tcase_add_test(tc, test_far_indices);
	tcase_add_test(tc, test_sizing);
	tcase_add_loop_test(tc, test_two_processes, 0, 2);
	suite_add_tcase(s, tc);
	return hl_check_run(s);
}
