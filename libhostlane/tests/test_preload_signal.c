/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the layer's signal handling (pl_signal.c), linked into this
 * program so that its sigaction(), signal() ... are the layer's (as
 * LD_PRELOAD makes them): what a program is told of its actions is what
 * libc and the kernel tell it without the layer (each call made once
 * through libc's own function, dlsym(RTLD_NEXT), and once through the
 * layer's, on the same signal); the kernel holds the layer's handler; the
 * program's handler runs with its arguments, counted per thread, with and
 * without SA_RESTART (pl_spin_intr()); SA_RESETHAND; SIGBUS held for
 * containment while the program's action is passed on.
 */
#include <check.h>
#include <dlfcn.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>

#include "hl_check.h"
#include "pl_private.h"

/* sigset() and siginterrupt() are what is tested, deprecated or not. */
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

sighandler_t bsd_signal(int sig, sighandler_t h);

/* pl_fork.c's vfork mark, which the whole layer would bring along: this
 * program never vforks. */
__thread int pl_vforked __attribute__((tls_model("initial-exec")));
bool pl_vfork_child_slow(void)
{
	return false;
}

typedef int (*sa_fn)(int, const struct sigaction *, struct sigaction *);
typedef sighandler_t (*sig_fn)(int, sighandler_t);

static sa_fn libc_sigaction(void)
{
	return (sa_fn)dlsym(RTLD_NEXT, "sigaction");
}

static sig_fn libc_fn(const char *name)
{
	return (sig_fn)dlsym(RTLD_NEXT, name);
}

static void dfl(int sig)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	ck_assert_int_eq(libc_sigaction()(sig, &sa, NULL), 0);
}

/* The same action: handler, flags, mask. */
static void same(const struct sigaction *a, const struct sigaction *b, const char *what)
{
	ck_assert_msg(a->sa_sigaction == b->sa_sigaction, "%s: handler", what);
	ck_assert_msg(a->sa_flags == b->sa_flags, "%s: flags %#x, libc %#x", what,
		      (unsigned)a->sa_flags, (unsigned)b->sa_flags);
	for (int s = 1; s < NSIG; s++)
		ck_assert_msg(sigismember(&a->sa_mask, s) == sigismember(&b->sa_mask, s),
			      "%s: mask, signal %d", what, s);
}

static volatile sig_atomic_t runs, last_sig, last_code;

static void on_plain(int sig)
{
	runs++;
	last_sig = sig;
}

static void on_info(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	runs++;
	last_sig = sig;
	last_code = si ? si->si_code : 12345;
}

static const int flag_sets[] = {
	0, SA_RESTART, SA_SIGINFO, SA_SIGINFO | SA_RESTART, SA_RESETHAND | SA_NODEFER,
	SA_ONSTACK | SA_RESTART, SA_NODEFER,
};

START_TEST(sigaction_reports_as_libc)
{
	int f = flag_sets[_i];
	struct sigaction act, want, got, old_want, old_got;

	memset(&act, 0, sizeof(act));
	if (f & SA_SIGINFO)
		act.sa_sigaction = on_info;
	else
		act.sa_handler = on_plain;
	act.sa_flags = f;
	sigemptyset(&act.sa_mask);
	sigaddset(&act.sa_mask, SIGTERM);
	sigaddset(&act.sa_mask, SIGKILL);  /* the kernel drops it */

	/* libc alone */
	ck_assert_int_eq(libc_sigaction()(SIGUSR1, &act, NULL), 0);
	ck_assert_int_eq(libc_sigaction()(SIGUSR1, NULL, &want), 0);
	dfl(SIGUSR1);
	ck_assert_int_eq(libc_sigaction()(SIGUSR1, &act, NULL), 0);
	ck_assert_int_eq(libc_sigaction()(SIGUSR1, &want, &old_want), 0);
	dfl(SIGUSR1);
	/* the layer */
	ck_assert_int_eq(sigaction(SIGUSR1, &act, NULL), 0);
	ck_assert_int_eq(sigaction(SIGUSR1, NULL, &got), 0);
	same(&got, &want, "query");
	ck_assert_int_eq(sigaction(SIGUSR1, &act, &old_got), 0);
	same(&old_got, &old_want, "old action");
	/* The kernel holds the layer's handler, not the program's. */
	ck_assert_int_eq(libc_sigaction()(SIGUSR1, NULL, &got), 0);
	ck_assert(got.sa_flags & SA_SIGINFO);
	ck_assert(got.sa_sigaction != act.sa_sigaction);
	/* SIG_IGN and SIG_DFL go to the kernel as they are. */
	act.sa_handler = SIG_IGN;
	act.sa_flags = 0;
	ck_assert_int_eq(sigaction(SIGUSR1, &act, &old_got), 0);
	ck_assert_int_eq(libc_sigaction()(SIGUSR1, NULL, &got), 0);
	ck_assert(got.sa_handler == SIG_IGN);
	ck_assert(old_got.sa_sigaction == want.sa_sigaction);
	dfl(SIGUSR1);
}
END_TEST

START_TEST(handler_runs_counted)
{
	int f = flag_sets[_i];
	struct sigaction act;
	struct pl_spin sp;
	unsigned all = pl_sig_runs, intr = pl_sig_intr_runs;

	memset(&act, 0, sizeof(act));
	if (f & SA_SIGINFO)
		act.sa_sigaction = on_info;
	else
		act.sa_handler = on_plain;
	act.sa_flags = f;
	sigemptyset(&act.sa_mask);
	ck_assert_int_eq(sigaction(SIGUSR2, &act, NULL), 0);
	pl_spin_begin(&sp, PL_SPIN_POLL, 0);
	ck_assert(!pl_spin_intr(&sp, false));
	runs = 0;
	last_code = 0;
	ck_assert_int_eq(raise(SIGUSR2), 0);
	ck_assert_int_eq(runs, 1);
	ck_assert_int_eq(last_sig, SIGUSR2);
	if (f & SA_SIGINFO)
		ck_assert_int_eq(last_code, SI_TKILL);  /* the kernel's siginfo, passed on */
	ck_assert_uint_eq(pl_sig_runs, all + 1);
	ck_assert_uint_eq(pl_sig_intr_runs, intr + !(f & SA_RESTART));
	/* poll, select, epoll_wait: any handler; recv, accept: one without
	 * SA_RESTART. */
	ck_assert(pl_spin_intr(&sp, false));
	ck_assert(pl_spin_intr(&sp, true) == !(f & SA_RESTART));
	if (f & SA_RESETHAND) {
		struct sigaction now;

		/* The kernel reset it at delivery: the program is told SIG_DFL. */
		ck_assert_int_eq(sigaction(SIGUSR2, NULL, &now), 0);
		ck_assert(now.sa_handler == SIG_DFL);
	}
	dfl(SIGUSR2);
}
END_TEST

static void *other_thread(void *arg)
{
	(void)arg;
	raise(SIGUSR2);
	return (void *)(uintptr_t)pl_sig_runs;
}

START_TEST(counts_are_per_thread)
{
	struct sigaction act;
	struct pl_spin sp;
	pthread_t t;
	void *theirs;

	memset(&act, 0, sizeof(act));
	act.sa_handler = on_plain;
	sigemptyset(&act.sa_mask);
	ck_assert_int_eq(sigaction(SIGUSR2, &act, NULL), 0);
	pl_spin_begin(&sp, PL_SPIN_EPOLL, 0);
	ck_assert_int_eq(pthread_create(&t, NULL, other_thread, NULL), 0);
	ck_assert_int_eq(pthread_join(t, &theirs), 0);
	ck_assert_uint_eq((uintptr_t)theirs, 1);
	/* The handler ran on the other thread: this one's wait goes on. */
	ck_assert(!pl_spin_intr(&sp, false));
	dfl(SIGUSR2);
}
END_TEST

static void h1(int s) { (void)s; }
static void h2(int s) { (void)s; }

/* signal() and relatives through libc and through the layer: the same
 * return values, the same actions reported. */
static void family_as_libc(const char *name, sig_fn ours)
{
	sig_fn theirs = libc_fn(name);
	struct sigaction want, got;
	sighandler_t r1, r2;

	ck_assert_msg(theirs != NULL, "%s: not in libc", name);
	dfl(SIGUSR1);
	r1 = theirs(SIGUSR1, h1);
	r2 = theirs(SIGUSR1, h2);
	ck_assert_int_eq(libc_sigaction()(SIGUSR1, NULL, &want), 0);
	dfl(SIGUSR1);
	ck_assert_msg(ours(SIGUSR1, h1) == r1, "%s: first return", name);
	ck_assert_msg(ours(SIGUSR1, h2) == r2, "%s: second return", name);
	ck_assert_int_eq(sigaction(SIGUSR1, NULL, &got), 0);
	same(&got, &want, name);
	ck_assert(ours(SIGUSR1, SIG_ERR) == SIG_ERR);
	ck_assert(ours(0, h1) == SIG_ERR);
	dfl(SIGUSR1);
}

START_TEST(signal_family_as_libc)
{
	family_as_libc("signal", signal);
	family_as_libc("bsd_signal", bsd_signal);
	family_as_libc("__sysv_signal", __sysv_signal);
#ifdef __GLIBC__
	family_as_libc("sysv_signal", sysv_signal);
	family_as_libc("ssignal", ssignal);
#endif
	family_as_libc("sigset", sigset);
}
END_TEST

START_TEST(siginterrupt_as_libc)
{
	int (*theirs)(int, int) = (int (*)(int, int))dlsym(RTLD_NEXT, "siginterrupt");
	struct sigaction want, got, want2, got2;

	/* libc: its set, then signal() */
	dfl(SIGUSR1);
	ck_assert_int_eq(theirs(SIGUSR1, 1), 0);
	libc_fn("signal")(SIGUSR1, h1);
	ck_assert_int_eq(libc_sigaction()(SIGUSR1, NULL, &want), 0);
	ck_assert_int_eq(theirs(SIGUSR1, 0), 0);
	ck_assert_int_eq(libc_sigaction()(SIGUSR1, NULL, &want2), 0);
	dfl(SIGUSR1);
	/* the layer */
	ck_assert_int_eq(siginterrupt(SIGUSR1, 1), 0);
	signal(SIGUSR1, h1);
	ck_assert_int_eq(sigaction(SIGUSR1, NULL, &got), 0);
	ck_assert_int_eq(siginterrupt(SIGUSR1, 0), 0);
	ck_assert_int_eq(sigaction(SIGUSR1, NULL, &got2), 0);
	same(&got, &want, "siginterrupt 1 then signal");
	same(&got2, &want2, "siginterrupt 0");
	ck_assert_int_eq(siginterrupt(NSIG, 1), -1);
	dfl(SIGUSR1);
}
END_TEST

START_TEST(sigset_hold_as_libc)
{
	sig_fn theirs = libc_fn("sigset");
	sigset_t m;
	sighandler_t a, b;

	dfl(SIGUSR1);
	theirs(SIGUSR1, h1);
	a = theirs(SIGUSR1, SIG_HOLD);       /* the handler; now held */
	b = theirs(SIGUSR1, SIG_HOLD);       /* held already */
	ck_assert(a == h1 && b == SIG_HOLD);
	ck_assert(theirs(SIGUSR1, h2) == SIG_HOLD);  /* released */
	dfl(SIGUSR1);
	sigset(SIGUSR1, h1);
	ck_assert(sigset(SIGUSR1, SIG_HOLD) == h1);
	pthread_sigmask(SIG_SETMASK, NULL, &m);
	ck_assert(sigismember(&m, SIGUSR1));
	ck_assert(sigset(SIGUSR1, SIG_HOLD) == SIG_HOLD);
	ck_assert(sigset(SIGUSR1, h2) == SIG_HOLD);
	pthread_sigmask(SIG_SETMASK, NULL, &m);
	ck_assert(!sigismember(&m, SIGUSR1));
	dfl(SIGUSR1);
}
END_TEST

START_TEST(sigbus_held_program_action_passed_on)
{
	struct sigaction act, k, got;

	/* The program's handler, set before and after the layer holds SIGBUS. */
	memset(&act, 0, sizeof(act));
	act.sa_sigaction = on_info;
	act.sa_flags = SA_SIGINFO | (_i ? SA_RESETHAND : 0);
	sigemptyset(&act.sa_mask);
	if (_i)
		pl_sig_guard_bus();
	ck_assert_int_eq(sigaction(SIGBUS, &act, NULL), 0);
	pl_sig_guard_bus();
	ck_assert_int_eq(libc_sigaction()(SIGBUS, NULL, &k), 0);
	ck_assert(k.sa_sigaction != on_info);          /* the layer's */
	ck_assert(!(k.sa_flags & SA_RESETHAND));        /* stays in place */
	ck_assert_int_eq(sigaction(SIGBUS, NULL, &got), 0);
	ck_assert(got.sa_sigaction == on_info);
	ck_assert_uint_eq((unsigned)got.sa_flags & (SA_SIGINFO | SA_RESETHAND | SA_NODEFER),
			  (unsigned)act.sa_flags);
	/* Not a fault in a region: the program's handler. */
	runs = 0;
	raise(SIGBUS);
	ck_assert_int_eq(runs, 1);
	ck_assert_int_eq(last_sig, SIGBUS);
	ck_assert_int_eq(libc_sigaction()(SIGBUS, NULL, &k), 0);
	ck_assert(k.sa_sigaction != on_info);  /* still held */
	ck_assert_int_eq(sigaction(SIGBUS, NULL, &got), 0);
	if (_i)  /* one-shot: the program is told SIG_DFL */
		ck_assert(got.sa_handler == SIG_DFL);
	else
		ck_assert(got.sa_sigaction == on_info);
	/* SIG_IGN from the program: a SIGBUS sent by kill() is ignored. */
	act.sa_handler = SIG_IGN;
	act.sa_flags = 0;
	ck_assert_int_eq(sigaction(SIGBUS, &act, NULL), 0);
	runs = 0;
	raise(SIGBUS);
	ck_assert_int_eq(runs, 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("preload_signal");
	TCase *tc = tcase_create("signal");
	int nf = (int)(sizeof(flag_sets) / sizeof(flag_sets[0]));

	tcase_add_loop_test(tc, sigaction_reports_as_libc, 0, nf);
	tcase_add_loop_test(tc, handler_runs_counted, 0, nf);
	tcase_add_test(tc, counts_are_per_thread);
	tcase_add_test(tc, signal_family_as_libc);
	tcase_add_test(tc, siginterrupt_as_libc);
	tcase_add_test(tc, sigset_hold_as_libc);
	tcase_add_loop_test(tc, sigbus_held_program_action_passed_on, 0, 2);
	suite_add_tcase(s, tc);
	return hl_check_run(s);
}
