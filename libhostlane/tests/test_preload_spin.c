/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the adaptive spin's decisions (pl_spin.c): when a wait
 * spins, how failed spins back off and a won one ends the back-off, what
 * counts as the thread having lost its CPU. No timing: the decision
 * functions are fed outcomes and gaps; the end-to-end effect is a bench
 * figure (docs/preload.md, "Spinning").
 */
#include <check.h>
#include <stdint.h>

#include "hl_check.h"
#include "pl_spin.h"

#define MAX 50000u

/* How many of the next @n waits of @h spin. */
static unsigned spins_in(struct pl_spin_hist *h, unsigned n)
{
	unsigned k = 0;

	for (unsigned i = 0; i < n; i++)
		k += pl_spin_policy_budget(h, MAX) == MAX;
	return k;
}

START_TEST(fresh_spins_full_budget)
{
	struct pl_spin_hist h = { 0 };

	ck_assert_uint_eq(pl_spin_policy_budget(&h, MAX), MAX);
	ck_assert_uint_eq(pl_spin_policy_budget(&h, MAX), MAX);
	ck_assert_uint_eq(pl_spin_policy_budget(&h, 0), 0);  /* HOSTLANE_SPIN_NS=0 */
	ck_assert_uint_eq(h.skip, 0);
}
END_TEST

START_TEST(lost_spins_back_off_doubling)
{
	struct pl_spin_hist h = { 0 };
	unsigned want = 1;

	/* Each probe that fails doubles the run of waits without a spin. */
	for (int round = 0; round < 10; round++) {
		pl_spin_policy_note(&h, round % 2 ? PL_SPIN_CUT : PL_SPIN_LOST);
		ck_assert_uint_eq(h.skip, want);
		for (unsigned i = 0; i < want; i++)
			ck_assert_uint_eq(pl_spin_policy_budget(&h, MAX), 0);
		/* The probe: this wait spins again. */
		ck_assert_uint_eq(pl_spin_policy_budget(&h, MAX), MAX);
		want = want * 2 > PL_SPIN_SKIP_MAX ? PL_SPIN_SKIP_MAX : want * 2;
	}
	ck_assert_uint_eq(h.run, PL_SPIN_SKIP_MAX);
}
END_TEST

START_TEST(won_spin_ends_back_off)
{
	struct pl_spin_hist h = { 0 };

	for (int i = 0; i < 8; i++)
		pl_spin_policy_note(&h, PL_SPIN_LOST);
	ck_assert_uint_eq(spins_in(&h, PL_SPIN_SKIP_MAX), 0);
	ck_assert_uint_eq(pl_spin_policy_budget(&h, MAX), MAX);  /* the probe */
	pl_spin_policy_note(&h, PL_SPIN_WON);
	ck_assert_uint_eq(spins_in(&h, 5), 5);
	/* A single loss after that costs one wait's spin, not a long run. */
	pl_spin_policy_note(&h, PL_SPIN_LOST);
	ck_assert_uint_eq(spins_in(&h, 3), 2);
}
END_TEST

START_TEST(skip_zero_budget_leaves_no_debt)
{
	struct pl_spin_hist h = { 0 };

	pl_spin_policy_note(&h, PL_SPIN_LOST);
	pl_spin_policy_note(&h, PL_SPIN_LOST);  /* skip 2 */
	/* With the spin off, waits consume nothing: the skips stay for when
	 * HOSTLANE_SPIN_NS is set again (a process has one value; no debt). */
	ck_assert_uint_eq(pl_spin_policy_budget(&h, 0), 0);
	ck_assert_uint_eq(h.skip, 2);
}
END_TEST

START_TEST(gap_means_off_cpu)
{
	/* A turn that costs 1 us: a 20 us gap is still a turn (with slack),
	 * beyond 24 us the thread was not running. */
	ck_assert(!pl_spin_policy_gap(1000, 1000));
	ck_assert(!pl_spin_policy_gap(1000, PL_SPIN_GAP_NS + 4000));
	ck_assert(pl_spin_policy_gap(1000, PL_SPIN_GAP_NS + 4001));
	/* A slow look (a large epoll set) moves the line with it. */
	ck_assert(!pl_spin_policy_gap(100000, 300000));
	ck_assert(pl_spin_policy_gap(100000, 500000));
	/* An unknown first turn counts as free. */
	ck_assert(pl_spin_policy_gap(-1, PL_SPIN_GAP_NS + 1));
}
END_TEST

START_TEST(wait_without_spin_learns_nothing)
{
	struct pl_spin sp;

	/* HOSTLANE_SPIN_NS=0: never spins, records nothing. */
	pl_spin_begin(&sp, PL_SPIN_EPOLL, 0);
	ck_assert(!pl_spin_more(&sp));
	pl_spin_end(&sp);
	/* Ready at the first look: no spin went by, so no outcome either;
	 * the next wait still spins (a lost spin would have made it skip). */
	pl_spin_begin(&sp, PL_SPIN_EPOLL, MAX);
	pl_spin_end(&sp);
	pl_spin_begin(&sp, PL_SPIN_EPOLL, MAX);
	ck_assert(sp.on);
	pl_spin_end(&sp);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("preload_spin");
	TCase *tc = tcase_create("policy");

	tcase_add_test(tc, fresh_spins_full_budget);
	tcase_add_test(tc, lost_spins_back_off_doubling);
	tcase_add_test(tc, won_spin_ends_back_off);
	tcase_add_test(tc, skip_zero_budget_leaves_no_debt);
	tcase_add_test(tc, gap_means_off_cpu);
	tcase_add_test(tc, wait_without_spin_learns_nothing);
	suite_add_tcase(s, tc);
	return hl_check_run(s);
}
