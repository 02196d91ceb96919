/* SPDX-License-Identifier: MIT */
/*
 * Growable stream rings against a hostile peer: its move descriptors
 * refused (table-driven), its garbage in our descriptor and our chunk map
 * harmless, and a second process scribbling descriptors, indices and maps
 * while this one produces and consumes through moves (under ASan in
 * make SAN=1 test): no crash, no hang, -EPROTO seen.
 */
#include <errno.h>
#include <sched.h>
#include <signal.h>
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

/* ---- A hostile peer --------------------------------------------------- */

struct hdesc {
	const char *name;
	int moved;     /* the honest ring has moved first (pending on b) */
	uint64_t at;   /* relative to b's head; UINT64_MAX: backwards */
	uint64_t prev, cur;
};

#define INLW SHMQ_AREA(SHMQ_AREA_INLINE, INL)
static const struct hdesc hcases[] = {
	{ "chunk past the half", 0, 0, INLW, SHMQ_AREA(1000, CHUNK) },
	{ "chunk run past the half", 0, 0, INLW, SHMQ_AREA(120, 8 * CHUNK) },
	{ "unaligned run", 0, 0, INLW, SHMQ_AREA(1, 2 * CHUNK) },
	{ "size not a power of two", 0, 0, INLW, SHMQ_AREA(0, 3 * CHUNK) },
	{ "size below a chunk", 0, 0, INLW, SHMQ_AREA(0, 4096) },
	{ "size above the largest", 0, 0, INLW, SHMQ_AREA(0, 2 * GMAX) },
	{ "inline with another size", 0, 0, INLW, SHMQ_AREA(SHMQ_AREA_INLINE, 2 * INL) },
	{ "previous area bogus", 0, 0, SHMQ_AREA(7, 5), SHMQ_AREA(0, CHUNK) },
	{ "move point backwards", 0, UINT64_MAX, INLW, SHMQ_AREA(0, CHUNK) },
	{ "unread data beyond the old area", 0, INL + 1, INLW, SHMQ_AREA(0, CHUNK) },
	{ "second move while one is pending", 1, 0, INLW, SHMQ_AREA(0, CHUNK) },
};

START_TEST(test_hostile_desc)
{
	const struct hdesc *c = &hcases[_i];
	struct shmq_abi_ring *ring;
	struct gp g;
	uint8_t buf[64];

	gp_open(&g, SHMQ_REGION_NO_HUGETLB);
	ring = g.a->tx.hdr;  /* the peer b reads: a's producer block */
	ck_assert_uint_eq(put(&g, 100), 100);
	ck_assert_uint_eq(get(&g, 10, 0), 10);
	if (c->moved) {
		put(&g, 64 << 10);
		put(&g, 64 << 10);
		ck_assert_int_gt(shmq_readable(g.b), 0);  /* b takes the move */
		ck_assert_uint_eq(get(&g, 10, 0), 10);
		ck_assert_uint_gt(g.b->rx.at, g.b->rx.head);
	}
	atomic_store(&ring->mv_at, c->at == UINT64_MAX ? g.b->rx.peer - 1 : g.b->rx.head + c->at);
	atomic_store(&ring->mv_prev, c->prev);
	atomic_store(&ring->mv_cur, c->cur);
	atomic_fetch_add(&ring->mv_seq, 1);
	VERIFY(g.b, shmq_readable(g.b) == -EPROTO, "%s", c->name);
	ck_assert(shmq_ep_broken(g.b));
	ck_assert_int_eq(shmq_read(g.b, buf, sizeof(buf), 0), -EPROTO);
	ck_assert_int_eq(shmq_poll(g.b), SHMQ_POLLERR);
	/* The producer's own state took nothing from the garbage. */
	ck_assert_uint_eq(put(&g, 10), 10);
	ck_assert_int_eq(shmq_ep_trim(g.a), c->moved ? -EAGAIN : 0);
	gp_close(&g);
}
END_TEST

/* The peer cannot move a ring it does not produce into: garbage in a's
 * own descriptor and in a's chunk map change nothing a reads or frees
 * beyond a's own half, and a goes on. */
START_TEST(test_hostile_owner)
{
	struct gp g;
	struct shmq_abi_region *rh;

	gp_open(&g, SHMQ_REGION_NO_HUGETLB);
	rh = (struct shmq_abi_region *)((uint8_t *)g.a->pool.map[0] - SHMQ_BLOCK);
	/* b writes a move into the ring it reads from (a's): a ignores it. */
	atomic_store(&g.a->tx.hdr->mv_cur, SHMQ_AREA(0, GMAX));
	atomic_store(&g.a->tx.hdr->mv_seq, 99);
	ck_assert_uint_eq(put(&g, 3000), 3000);
	ck_assert_uint_eq(shmq_ep_capacity(g.a), INL);
	ck_assert_int_eq(shmq_region_pool_free(g.r, 0), g.full);
	/* b marks all of a's chunks used: a cannot grow, still works. */
	for (unsigned i = 0; i < SHMQ_POOL_MAP_WORDS; i++)
		atomic_store(&rh->map[0][i], ~UINT64_C(0));
	g.b->rx.hdr->mv_seq = 0;  /* (undo the scribble so b can read) */
	g.b->rx.seq = 0;
	for (int k = 0; k < 10; k++)
		put(&g, 10000);
	ck_assert_uint_eq(shmq_ep_capacity(g.a), INL);
	drain(&g);
	/* b clears a's map: a grows again, in its own half only. */
	for (unsigned i = 0; i < SHMQ_POOL_MAP_WORDS; i++)
		atomic_store(&rh->map[0][i], 0);
	put(&g, 64 << 10);
	put(&g, 64 << 10);
	ck_assert_uint_eq(shmq_ep_capacity(g.a), GMAX);
	drain(&g);
	ck_assert_int_eq(shmq_ep_trim(g.a), 0);
	ck_assert_int_eq(shmq_region_pool_free(g.r, 0), g.full);
	ck_assert_int_eq(shmq_region_pool_free(g.r, 1), g.full);
	gp_close(&g);
}
END_TEST

/* A second process (the peer, mapping the same region) writes random
 * values into both rings' move descriptors and indices and both chunk
 * maps while this one writes, reads and trims on both sides of the pair;
 * each side's calls end in -EPROTO or go on, and nothing crashes or
 * hangs. Runs for a fixed number of operations. */
START_TEST(test_scribbler)
{
	static const size_t offs[] = {
		128, 136, 144, 152, 160, 384,  /* ring: prod, mv_*, cons */
	};
	uint8_t buf[16384];
	unsigned long ops = 0, eproto = 0;
	struct gp g;
	pid_t pid;
	int st;

	gp_open(&g, SHMQ_REGION_NO_HUGETLB);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct shmq_region *r = shmq_region_map(shmq_region_fd(g.r));
		uint8_t *ring[2], *map;
		uint64_t s = 99;

		CHILD_CHECK(r, "map: %s", strerror(errno));
		/* the same layout: pair 0 at 4096, the maps at 128 */
		ring[0] = (uint8_t *)g.a->tx.hdr;
		ring[1] = (uint8_t *)g.b->tx.hdr;
		map = ring[0] - SHMQ_REGION_HDR_SIZE + SHMQ_BLOCK;
		for (;;) {
			uint64_t x = t_rand(&s), v = t_rand(&s);

			/* the child's copy of the pointers is into its own
			 * (inherited) mapping of the same memfd */
			if (x % 3 == 0)
				memcpy(map + (x >> 8) % (2 * SHMQ_BLOCK), &v, 1 + (x >> 20) % 8);
			else
				memcpy(ring[(x >> 4) & 1] + offs[(x >> 8) % 6] + (x >> 16) % 8, &v,
				       1 + (x >> 24) % 8);
			if (x % 64 == 0)
				usleep(50);
		}
	}
	/* 200 rounds, and on until the peer has broken a call (20 s at the
	 * most): on a loaded machine the scribbler may not have run yet. */
	for (int round = 0; round < 200 || (eproto == 0 && round < 4000); round++) {
		struct shmq_ep *ep[2] = { g.a, g.b };

		for (int i = 0; i < 500 && g.a && g.b; i++) {
			struct shmq_ep *e = ep[i & 1];
			ssize_t rc;

			switch ((i >> 1) % 4) {
			case 0: rc = shmq_write(e, buf, 1 + (size_t)(i * 977) % sizeof(buf)); break;
			case 1: rc = shmq_read(e, buf, sizeof(buf), 0); break;
			case 2: rc = shmq_ep_trim(e); break;
			default: rc = shmq_readable(e); break;
			}
			ops++;
			if (rc == -EPROTO) {
				eproto++;
				ck_assert(shmq_ep_broken(e));
			}
		}
		/* a fresh pair (the peer may have broken both ends) */
		shmq_ep_close(g.a);
		shmq_ep_close(g.b);
		ck_assert_int_eq(shmq_pair_init(g.r, 0, SHMQ_MODE_STREAM), 0);
		g.a = shmq_ep_attach(g.r, 0, 0);
		g.b = shmq_ep_attach(g.r, 0, 1);
		if (!g.a || !g.b) {  /* the peer got there first: next round */
			shmq_ep_detach(g.a);
			shmq_ep_detach(g.b);
			ck_assert_int_eq(shmq_pair_init(g.r, 0, SHMQ_MODE_STREAM), 0);
			g.a = shmq_ep_attach(g.r, 0, 0);
			g.b = shmq_ep_attach(g.r, 0, 1);
			if (!g.a || !g.b) {  /* again: the next round tries anew */
				shmq_ep_detach(g.a);
				shmq_ep_detach(g.b);
				g.a = g.b = NULL;
				usleep(5000);
			}
		}
	}
	kill(pid, SIGKILL);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	fprintf(stderr, "# %lu ops, %lu EPROTO\n", ops, eproto);
	ck_assert_uint_gt(eproto, 0);
	gp_close(&g);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("shmq_grow_hostile");
	TCase *tc = tcase_create("grow_hostile");

	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, test_hostile_desc, 0, (int)(sizeof(hcases) / sizeof(hcases[0])));
	tcase_add_test(tc, test_hostile_owner);
	tcase_add_test(tc, test_scribbler);
	suite_add_tcase(s, tc);
	return hl_check_run(s);
}
