/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The program's signal handlers run through the layer's own (docs/preload.md,
 * "Signals"): sigaction, signal, bsd_signal, sysv_signal, __sysv_signal,
 * ssignal, sigset, siginterrupt and glibc's __sigaction are interposed.
 *
 * Why: a wait of the layer spins in user space before it sleeps, and a
 * signal whose handler runs during the spin must make the call return EINTR
 * as the kernel's sleeping call would (pl_spin.h, pl_spin_intr()). Nothing
 * tells a thread that a handler ran, so the layer's handler (tramp()) counts
 * it, per thread, before it calls the program's.
 *
 * The kernel holds tramp() with the program's mask and flags (SA_SIGINFO
 * added); the program's action is kept here (acts[]) and is what the
 * program is told: the old action of sigaction() and signal() is the
 * kernel's report with the handler and the flags the layer changed
 * (SA_SIGINFO, SA_NODEFER, SA_RESETHAND) as the program set them. SIG_DFL
 * and SIG_IGN go to the kernel as they are. SA_RESETHAND stays the
 * kernel's: it puts SIG_DFL in place of tramp() at delivery, and from then
 * on the kernel's action is reported as it is.
 *
 * SIGBUS is also the layer's containment of a peer's punched hole
 * (pl_fault.c, docs/security.md): once the layer maps a region, the kernel
 * holds tramp() for SIGBUS whatever the program sets (SA_NODEFER, no
 * SA_RESETHAND); a fault in a region mapping is contained, anything else
 * goes to the program's action, or to the default one.
 *
 * An action is written under its sequence number (odd while written) with
 * the writing thread's signals held back; tramp() reads it again when the
 * number moved, so it never calls half of an old action and half of a new.
 */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "pl_private.h"
#include "shmq.h"

/* The flags the kernel's copy may have other than the program set. */
#define PL_SA_CHANGED (SA_SIGINFO | SA_NODEFER | SA_RESETHAND)

static struct {
	_Atomic unsigned seq;  /* odd: being written */
	struct sigaction sa;   /* the program's action, while the kernel holds tramp() */
} acts[NSIG];

static atomic_bool bus_guard;  /* SIGBUS is held for containment */
/* glibc: the signals siginterrupt() made interrupting, for signal()
 * (bit sig - 1). */
static _Atomic uint64_t intr_set;
static pthread_once_t real_once = PTHREAD_ONCE_INIT;
static int (*real_sigaction)(int, const struct sigaction *, struct sigaction *);
static bool passthrough;  /* HOSTLANE_DISABLE: the kernel's actions, as they are */

static void real_resolve(void)
{
	const char *d = getenv("HOSTLANE_DISABLE");

	*(void **)&real_sigaction = dlsym(RTLD_NEXT, "sigaction");
	passthrough = d && *d && strcmp(d, "0") != 0;
}

/* The program's action for @sig as last written. */
static void act_read(int sig, struct sigaction *out)
{
	for (;;) {
		/* Pairs with the release store of act_unlock(). */
		unsigned s = atomic_load_explicit(&acts[sig].seq, memory_order_acquire);

		if (s & 1) {
			pl_cpu_relax();
			continue;
		}
		memcpy(out, &acts[sig].sa, sizeof(*out));
		atomic_thread_fence(memory_order_acquire);
		if (atomic_load_explicit(&acts[sig].seq, memory_order_relaxed) == s)
			return;
	}
}

/* Takes @sig's action for writing (its number odd). Return: the even
 * number it had. */
static unsigned act_lock(int sig)
{
	for (;;) {
		unsigned s = atomic_load_explicit(&acts[sig].seq, memory_order_relaxed);

		if (!(s & 1) && atomic_compare_exchange_weak_explicit(&acts[sig].seq, &s, s + 1,
								       memory_order_acquire,
								       memory_order_relaxed))
			return s;
		pl_cpu_relax();
	}
}

static void act_unlock(int sig, unsigned s)
{
	/* Pairs with the acquire load of act_read(). */
	atomic_store_explicit(&acts[sig].seq, s + 2, memory_order_release);
}

static void tramp(int sig, siginfo_t *si, void *uc);

static bool is_tramp(const struct sigaction *k)
{
	return (k->sa_flags & SA_SIGINFO) && k->sa_sigaction == tramp;
}

static bool no_handler(const struct sigaction *a)
{
	return !(a->sa_flags & SA_SIGINFO) &&
	       (a->sa_handler == SIG_DFL || a->sa_handler == SIG_IGN);
}

/* What the kernel is given for the program's action @a on @sig. */
static void kernel_action(int sig, const struct sigaction *a, struct sigaction *k)
{
	*k = *a;
	if (no_handler(a) && !(sig == SIGBUS && atomic_load(&bus_guard)))
		return;
	k->sa_sigaction = tramp;
	k->sa_flags |= SA_SIGINFO;
	if (sig == SIGBUS && atomic_load(&bus_guard)) {
		/* The fault handler stays in place, and a fault in it (or
		 * the refault after SIG_DFL) is taken at once. */
		k->sa_flags |= SA_NODEFER;
		k->sa_flags &= ~SA_RESETHAND;
	}
}

/* The kernel's report @k as the program set it. */
static void action_view(int sig, struct sigaction *k)
{
	struct sigaction a;

	if (!is_tramp(k))
		return;
	act_read(sig, &a);
	k->sa_sigaction = a.sa_sigaction;  /* the union: sa_handler too */
	k->sa_flags = (k->sa_flags & ~PL_SA_CHANGED) | (a.sa_flags & PL_SA_CHANGED);
}

/* Sets @sig's action in the kernel and here. Signals are held back
 * meanwhile: a handler of this thread never reads a half-written action. */
static int act_set(int sig, const struct sigaction *act, struct sigaction *old)
{
	struct sigaction k, prev, had;
	sigset_t all, saved;
	unsigned s;
	int rc, err;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &saved);
	s = act_lock(sig);
	had = acts[sig].sa;
	kernel_action(sig, act, &k);
	rc = real_sigaction(sig, &k, &prev);
	err = errno;
	if (rc == 0)
		acts[sig].sa = *act;
	act_unlock(sig, s);
	pthread_sigmask(SIG_SETMASK, &saved, NULL);
	if (rc < 0) {
		errno = err;
		return rc;
	}
	if (old) {
		if (is_tramp(&prev)) {
			prev.sa_sigaction = had.sa_sigaction;
			prev.sa_flags = (prev.sa_flags & ~PL_SA_CHANGED) |
					(had.sa_flags & PL_SA_CHANGED);
		}
		*old = prev;
	}
	return 0;
}

/* The default action of @sig, where the kernel held tramp() but the
 * program's action is SIG_DFL or SIG_IGN (SIGBUS held for containment, or
 * a sigaction() of another thread under way). */
static void act_default(int sig, const siginfo_t *si, const struct sigaction *a)
{
	struct sigaction dfl;
	int err = errno;
	/* A fault the kernel raised: returning takes it again. */
	bool fault = si && si->si_code > 0 && sig == SIGBUS;

	if (a->sa_handler == SIG_IGN && !fault)
		return;
	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	real_sigaction(sig, &dfl, NULL);
	if (!fault)
		raise(sig);  /* delivered once this handler returns */
	errno = err;
}

static void tramp(int sig, siginfo_t *si, void *uc)
{
	struct sigaction a;

	/* A hole a peer punched in a region we map: contained, only the
	 * connections in that page break (docs/security.md). */
	if (sig == SIGBUS && si && si->si_code > 0 && shmq_fault_contain(si->si_addr) > 0)
		return;
	act_read(sig, &a);
	if (no_handler(&a)) {
		act_default(sig, si, &a);
		return;
	}
	if (sig == SIGBUS && (a.sa_flags & SA_RESETHAND)) {
		/* The kernel keeps tramp() here: reset the program's action. */
		unsigned s = act_lock(sig);

		memset(&acts[sig].sa, 0, sizeof(acts[sig].sa));
		acts[sig].sa.sa_handler = SIG_DFL;
		acts[sig].sa.sa_flags = a.sa_flags;
		acts[sig].sa.sa_mask = a.sa_mask;
		act_unlock(sig, s);
	}
	/* Before the handler: it may leave by siglongjmp. */
	pl_sig_note(a.sa_flags & SA_RESTART);
	if (a.sa_flags & SA_SIGINFO)
		a.sa_sigaction(sig, si, uc);
	else
		a.sa_handler(sig);
}

void pl_sig_guard_bus(void)
{
	struct sigaction cur, k;
	sigset_t all, saved;
	unsigned s;

	pthread_once(&real_once, real_resolve);
	if (!real_sigaction)
		return;
	if (atomic_load(&bus_guard) && real_sigaction(SIGBUS, NULL, &cur) == 0 && is_tramp(&cur))
		return;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &saved);
	s = act_lock(SIGBUS);
	atomic_store(&bus_guard, true);
	if (real_sigaction(SIGBUS, NULL, &cur) == 0 && !is_tramp(&cur)) {
		/* What the program has (set before the layer saw it, or
		 * behind its back): kept as the program's action. */
		acts[SIGBUS].sa = cur;
		kernel_action(SIGBUS, &cur, &k);
		real_sigaction(SIGBUS, &k, NULL);
	}
	act_unlock(SIGBUS, s);
	pthread_sigmask(SIG_SETMASK, &saved, NULL);
}

void pl_sig_atfork_child(void)
{
	/* Another thread of the parent was writing an action: the child has
	 * no such thread, and the action as it stands is the kernel's. */
	for (int sig = 1; sig < NSIG; sig++) {
		unsigned s = atomic_load_explicit(&acts[sig].seq, memory_order_relaxed);

		if (s & 1)
			atomic_store_explicit(&acts[sig].seq, s + 1, memory_order_release);
	}
}

/* ---- the interposed calls ------------------------------------------------------ */

PL_EXPORT int sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
	int rc;

	pthread_once(&real_once, real_resolve);
	if (!real_sigaction) {
		errno = ENOSYS;
		return -1;
	}
	/* A vfork child runs on the parent's memory: nothing of ours is
	 * written there. */
	if (passthrough || sig <= 0 || sig >= NSIG || pl_vfork_child()) {
		rc = real_sigaction(sig, act, old);
		if (rc == 0 && old && sig > 0 && sig < NSIG)
			action_view(sig, old);
		return rc;
	}
	if (!act) {
		rc = real_sigaction(sig, NULL, old);
		if (rc == 0 && old)
			action_view(sig, old);
		return rc;
	}
	return act_set(sig, act, old);
}

/* glibc's alias (the musl build has it too: both export one list). */
int __sigaction(int sig, const struct sigaction *act, struct sigaction *old);

PL_EXPORT int __sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
	return sigaction(sig, act, old);
}

/* signal() and its relatives: @h on @sig with @flags and a mask of @sig
 * alone (@self) or nothing. Return: the old handler, or SIG_ERR. */
static sighandler_t set_handler(int sig, sighandler_t h, int flags, bool self)
{
	struct sigaction sa, old;

	if (h == SIG_ERR || sig <= 0 || sig >= NSIG) {
		errno = EINVAL;
		return SIG_ERR;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = h;
	sigemptyset(&sa.sa_mask);
	if (self)
		sigaddset(&sa.sa_mask, sig);
	sa.sa_flags = flags;
	if (sigaction(sig, &sa, &old) < 0)
		return SIG_ERR;
	return old.sa_handler;
}

#ifdef __GLIBC__
/* glibc: BSD semantics (SA_RESTART unless siginterrupt() said otherwise,
 * the signal held back in its handler); sysv_signal: one-shot, not held
 * back, not restarting (SA_INTERRUPT, no-op bit glibc sets). */
#ifndef SA_INTERRUPT
#define SA_INTERRUPT 0x20000000
#endif
static sighandler_t bsd(int sig, sighandler_t h)
{
	bool intr = sig > 0 && sig <= 64 &&
		    (atomic_load(&intr_set) & ((uint64_t)1 << (sig - 1)));

	return set_handler(sig, h, intr ? 0 : SA_RESTART, true);
}

static sighandler_t sysv(int sig, sighandler_t h)
{
	return set_handler(sig, h, SA_RESETHAND | SA_NODEFER | SA_INTERRUPT, false);
}
#else
/* musl: signal() and all its aliases restart, with an empty mask. */
static sighandler_t bsd(int sig, sighandler_t h)
{
	return set_handler(sig, h, SA_RESTART, false);
}

static sighandler_t sysv(int sig, sighandler_t h)
{
	return bsd(sig, h);
}
#endif

PL_EXPORT sighandler_t signal(int sig, sighandler_t h)
{
	return bsd(sig, h);
}

sighandler_t bsd_signal(int sig, sighandler_t h);
PL_EXPORT sighandler_t bsd_signal(int sig, sighandler_t h)
{
	return bsd(sig, h);
}

sighandler_t __sysv_signal(int sig, sighandler_t h);
PL_EXPORT sighandler_t __sysv_signal(int sig, sighandler_t h)
{
	return sysv(sig, h);
}

/* glibc's names (the musl build has them too, as signal()). */
sighandler_t sysv_signal(int sig, sighandler_t h);
PL_EXPORT sighandler_t sysv_signal(int sig, sighandler_t h)
{
	return sysv(sig, h);
}

sighandler_t ssignal(int sig, sighandler_t h);
PL_EXPORT sighandler_t ssignal(int sig, sighandler_t h)
{
	return bsd(sig, h);
}

PL_EXPORT sighandler_t sigset(int sig, sighandler_t h)
{
	struct sigaction old;
	sigset_t one, was;

	if (h == SIG_ERR || sig <= 0 || sig >= NSIG) {
		errno = EINVAL;
		return SIG_ERR;
	}
	sigemptyset(&one);
	sigaddset(&one, sig);
	if (h == SIG_HOLD) {
		/* Held back; the handler stays. */
		if (sigaction(sig, NULL, &old) < 0 || pthread_sigmask(SIG_BLOCK, &one, &was) != 0)
			return SIG_ERR;
	} else {
		struct sigaction sa;

		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = h;
		sigemptyset(&sa.sa_mask);
		if (sigaction(sig, &sa, &old) < 0 || pthread_sigmask(SIG_UNBLOCK, &one, &was) != 0)
			return SIG_ERR;
	}
	return sigismember(&was, sig) ? SIG_HOLD : old.sa_handler;
}

PL_EXPORT int siginterrupt(int sig, int flag)
{
	struct sigaction sa;

	if (sig <= 0 || sig >= NSIG) {
		errno = EINVAL;
		return -1;
	}
	if (sigaction(sig, NULL, &sa) < 0)
		return -1;
	if (sig <= 64) {
		uint64_t bit = (uint64_t)1 << (sig - 1);

		if (flag)
			atomic_fetch_or(&intr_set, bit);
		else
			atomic_fetch_and(&intr_set, ~bit);
	}
	if (flag)
		sa.sa_flags &= ~SA_RESTART;
	else
		sa.sa_flags |= SA_RESTART;
	return sigaction(sig, &sa, NULL);
}
