/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The adaptive spin (pl_spin.h): the decision functions, and the clock and
 * per-thread histories the layer's waits use them with.
 */
#include <stdatomic.h>
#include <time.h>

#include "pl_spin.h"

uint64_t pl_spin_policy_budget(struct pl_spin_hist *h, uint64_t max_ns)
{
	if (!max_ns)
		return 0;
	if (h->skip) {
		h->skip--;
		return 0;
	}
	return max_ns;
}

void pl_spin_policy_note(struct pl_spin_hist *h, enum pl_spin_outcome o)
{
	if (o == PL_SPIN_WON) {
		h->run = 0;
		h->skip = 0;
		return;
	}
	/* A failed probe after a back-off doubles the next one. */
	h->run = !h->run ? 1 : h->run >= PL_SPIN_SKIP_MAX / 2 ? PL_SPIN_SKIP_MAX : h->run * 2;
	h->skip = h->run;
}

bool pl_spin_policy_gap(int64_t first_turn_ns, int64_t gap_ns)
{
	if (first_turn_ns < 0)
		first_turn_ns = 0;
	return gap_ns > PL_SPIN_GAP_NS + 4 * first_turn_ns;
}

static __thread struct pl_spin_hist hist[PL_SPIN_SITES];

_Thread_local _Atomic unsigned pl_sig_runs __attribute__((tls_model("initial-exec")));
_Thread_local _Atomic unsigned pl_sig_intr_runs __attribute__((tls_model("initial-exec")));

void pl_sig_note(bool restart)
{
	atomic_fetch_add_explicit(&pl_sig_runs, 1, memory_order_relaxed);
	if (!restart)
		atomic_fetch_add_explicit(&pl_sig_intr_runs, 1, memory_order_relaxed);
}

bool pl_spin_intr(const struct pl_spin *sp, bool restart)
{
	/* The handler ran on this thread, before this load in program order:
	 * a compiler barrier is all it takes (what signal fences are for). */
	atomic_signal_fence(memory_order_acquire);
	if (restart)
		return atomic_load_explicit(&pl_sig_intr_runs, memory_order_relaxed) != sp->sig_intr;
	return atomic_load_explicit(&pl_sig_runs, memory_order_relaxed) != sp->sig_runs;
}

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void pl_spin_begin(struct pl_spin *sp, enum pl_spin_site site, uint64_t max_ns)
{
	uint64_t budget;

	sp->sig_runs = atomic_load_explicit(&pl_sig_runs, memory_order_relaxed);
	sp->sig_intr = atomic_load_explicit(&pl_sig_intr_runs, memory_order_relaxed);
	sp->h = &hist[site < PL_SPIN_SITES ? site : PL_SPIN_CTL];
	budget = pl_spin_policy_budget(sp->h, max_ns);
	sp->on = budget != 0;
	sp->spun = sp->cut = false;
	sp->ended = !sp->on;
	sp->first_turn = -1;
	sp->start = sp->last = sp->on ? now_ns() : 0;
	sp->end = sp->start + (int64_t)(budget > INT64_MAX / 2 ? INT64_MAX / 2 : budget);
}

bool pl_spin_more(struct pl_spin *sp)
{
	int64_t now;

	if (!sp->on)
		return false;
	now = now_ns();
	if (sp->first_turn < 0)
		sp->first_turn = now - sp->start;
	else if (pl_spin_policy_gap(sp->first_turn, now - sp->last))
		sp->cut = true;
	sp->last = now;
	sp->spun = true;
	if (!sp->cut && now < sp->end)
		return true;
	sp->on = false;
	sp->ended = true;
	pl_spin_policy_note(sp->h, sp->cut ? PL_SPIN_CUT : PL_SPIN_LOST);
	return false;
}

void pl_spin_end(struct pl_spin *sp)
{
	int64_t now;

	if (sp->ended)
		return;
	sp->ended = true;
	sp->on = false;
	if (!sp->spun)
		return;  /* ready at the first look: nothing learned */
	now = now_ns();
	if (sp->first_turn >= 0 && pl_spin_policy_gap(sp->first_turn, now - sp->last))
		sp->cut = true;
	pl_spin_policy_note(sp->h, sp->cut ? PL_SPIN_CUT : PL_SPIN_WON);
}
