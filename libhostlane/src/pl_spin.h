/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The adaptive spin of the layer's blocking calls (docs/preload.md,
 * "Spinning"). A wait busy-polls shared memory before it sleeps, because an
 * answer that finds the waiter awake costs no wake-up (two or three system
 * calls on each side). That pays only while the peer runs on another CPU:
 * when the peer needs the waiter's CPU, every nanosecond of the spin delays
 * the answer it waits for. So each thread learns, per kind of wait, whether
 * its spins paid off, and stops spinning when they do not:
 *
 *  - a spin that saw what it waited for, and held its CPU all along, is
 *    *won*: the next wait spins again, for the whole budget;
 *  - a spin that ran out (the call went to sleep) is *lost*;
 *  - a spin during which the thread was off its CPU (two clock reads of
 *    the loop much further apart than a turn takes: the scheduler ran
 *    something else there, or the hypervisor took the vCPU) is *cut* at
 *    once: the CPU is contended, and the peer is likely what waits for it.
 *
 * After a lost or cut spin the next waits skip the spin, 1, 2, 4 ... up to
 * PL_SPIN_SKIP_MAX of them, each failed probe doubling the run; one won
 * spin ends the back-off. HOSTLANE_SPIN_NS is the budget of a spin (0: never
 * spin). The decision functions are pure (unit-tested); the clock and the
 * thread's state are in pl_spin.c.
 *
 * A wait is also where a signal shows: the kernel's wait returns EINTR for a
 * signal whose handler runs meanwhile, and a spin is a wait the kernel does
 * not see. The layer runs the program's handlers through its own
 * (pl_signal.c), which counts them per thread; pl_spin_begin() notes the
 * counts, and pl_spin_intr() tells the wait whether a handler ran since
 * that would have made the kernel's call return EINTR.
 */
#ifndef PL_SPIN_H
#define PL_SPIN_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

/* Waits that skip the spin after a run of failed ones, at most. */
#define PL_SPIN_SKIP_MAX 64
/* A gap between two turns of a spin loop longer than this plus four times
 * the first turn means the thread was not running in between. */
#define PL_SPIN_GAP_NS 20000

/* Looks at the ring per turn of a recv's or send's spin (a clock read per
 * turn would be most of a turn: the answer is seen later). */
#define PL_SPIN_BATCH 16

/* A turn of a busy-poll loop: let the sibling hyperthread run. */
static inline void pl_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield");
#endif
}

/* The kinds of wait, each with its own history per thread: a thread's
 * epoll_wait can wait for slow clients while its connect() waits for a
 * quick monitor. */
enum pl_spin_site {
	PL_SPIN_EPOLL,   /* epoll_wait / epoll_pwait */
	PL_SPIN_POLL,    /* poll / ppoll / select */
	PL_SPIN_ACCEPT,  /* blocking accept */
	PL_SPIN_CTL,     /* the monitor's reply to a request */
	PL_SPIN_RECV,    /* a blocking read on a connection */
	PL_SPIN_SEND,    /* a blocking write into a full ring */
	PL_SPIN_SITES
};

enum pl_spin_outcome {
	PL_SPIN_WON,   /* ready while spinning, never off the CPU */
	PL_SPIN_LOST,  /* the budget ran out */
	PL_SPIN_CUT,   /* the thread lost its CPU while spinning */
};

/* What a thread learned of one kind of wait. Zeroed: spin. */
struct pl_spin_hist {
	uint16_t skip;  /* waits left to go without a spin */
	uint16_t run;   /* the length of the last back-off */
};

/* Handlers of the program this thread ran (pl_signal.c counts them before
 * calling the program's): all of them, and those installed without
 * SA_RESTART. Only this thread writes them, from its signal handlers:
 * atomics, which C11 makes safe to use there. */
extern _Thread_local _Atomic unsigned pl_sig_runs __attribute__((tls_model("initial-exec")));
extern _Thread_local _Atomic unsigned pl_sig_intr_runs __attribute__((tls_model("initial-exec")));

/**
 * pl_sig_note() - count a handler run of this thread (from its handler).
 * @restart: the handler was installed with SA_RESTART.
 */
void pl_sig_note(bool restart);

/* One wait's spin, from pl_spin_begin() to pl_spin_end(). */
struct pl_spin {
	struct pl_spin_hist *h;
	int64_t start, last, end, first_turn;
	unsigned sig_runs, sig_intr;  /* the counts at pl_spin_begin() */
	bool on;     /* spinning allowed (budget not spent, not cut) */
	bool spun;   /* at least one turn of the loop went by */
	bool cut;
	bool ended;
};

/**
 * pl_spin_policy_budget() - the spin budget of the next wait.
 * @h: the history of this kind of wait (a skip is consumed).
 * @max_ns: HOSTLANE_SPIN_NS.
 *
 * Return: @max_ns, or 0 when the wait skips its spin.
 */
uint64_t pl_spin_policy_budget(struct pl_spin_hist *h, uint64_t max_ns);

/**
 * pl_spin_policy_note() - learn from how a spin ended.
 * @h: the history of this kind of wait.
 * @o: the outcome.
 */
void pl_spin_policy_note(struct pl_spin_hist *h, enum pl_spin_outcome o);

/**
 * pl_spin_policy_gap() - whether the thread was off its CPU between two
 * turns of a spin loop.
 * @first_turn_ns: how long the loop's first turn took (what a turn costs).
 * @gap_ns: the time between the last two clock reads.
 *
 * Return: true when @gap_ns is beyond what a turn takes.
 */
bool pl_spin_policy_gap(int64_t first_turn_ns, int64_t gap_ns);

/**
 * pl_spin_begin() - start a wait's spin (and note this thread's handler
 * counts, also when the wait does not spin).
 * @sp: the wait's spin state (caller's).
 * @site: the kind of wait.
 * @max_ns: the budget (HOSTLANE_SPIN_NS).
 */
void pl_spin_begin(struct pl_spin *sp, enum pl_spin_site site, uint64_t max_ns);

/**
 * pl_spin_more() - at each turn of the wait's loop, after a look that found
 * nothing: whether to look again (spin) rather than sleep. The first false
 * records the spin as lost or cut.
 * @sp: the wait's spin state.
 *
 * Return: true to spin on.
 */
bool pl_spin_more(struct pl_spin *sp);

/**
 * pl_spin_end() - the wait found what it waited for (call on success, before
 * returning; a no-op once the spin ended). Records a won spin, or a cut one
 * when the thread lost its CPU on the way.
 * @sp: the wait's spin state.
 */
void pl_spin_end(struct pl_spin *sp);

/**
 * pl_spin_intr() - whether a handler of the program ran in this thread since
 * pl_spin_begin() that makes the kernel's call return EINTR: any handler
 * for a call the kernel never restarts (@restart false: poll, select,
 * epoll_wait, a socket call with a timeout), one installed without
 * SA_RESTART for a call it restarts (@restart true: recv, send, accept).
 * A wait that sees it returns EINTR, as if the signal had come while the
 * kernel's call slept. The spin's outcome is not recorded (nothing learned).
 * @sp: the wait's spin state.
 * @restart: the call is restarted after an SA_RESTART handler.
 *
 * Return: true when the call must return EINTR.
 */
bool pl_spin_intr(const struct pl_spin *sp, bool restart);

#endif
