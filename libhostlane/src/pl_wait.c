/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Sleeping in a blocking socket call as the kernel does with signals
 * (docs/preload.md, "Signals").
 *
 * A blocked recv, send or accept that a signal interrupts returns EINTR
 * once the handler ran if the handler was installed without SA_RESTART (or
 * the socket has a timeout, SO_RCVTIMEO / SO_SNDTIMEO: the kernel never
 * restarts those), and carries on otherwise; a signal without a handler
 * changes nothing. The layer sleeps in poll(), which returns EINTR for any
 * handler and cannot say which signal it was. So it sleeps with every
 * signal the thread takes blocked and a signalfd of exactly those in the
 * poll set: when one arrives it looks at what is pending and at each one's
 * handler, then unblocks (the handlers run there, before the call
 * returns), and returns EINTR only if one of them would have made the
 * kernel's call return it. The signalfd is the thread's own (made at its
 * first sleep, closed when the thread exits).
 *
 * Before it sleeps the call spins (pl_spin.h: the adaptive spin, its own
 * history for recv and send). A handler that runs meanwhile counts as a
 * signal that came while the kernel's call slept: the layer runs the
 * program's handlers through its own (pl_signal.c), which counts them per
 * thread, and the spin looks at the counts (pl_spin_intr()); so does the
 * sleep, once the signals are held back, for one that ran in between.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/signalfd.h>

#include "pl_private.h"
#include "shmq.h"

static __thread int sigfd = -1;
static __thread sigset_t sigfd_mask;
static pthread_key_t sigfd_key;
static pthread_once_t sigfd_once = PTHREAD_ONCE_INIT;
static bool sigfd_key_ok;

static void sigfd_close(void *p)
{
	(void)p;
	if (sigfd >= 0)
		pl_real.close(sigfd);
	sigfd = -1;
}

static void sigfd_key_make(void)
{
	sigfd_key_ok = pthread_key_create(&sigfd_key, sigfd_close) == 0;
}

/* Signals never blocked here: the synchronous ones (a fault with them
 * blocked kills the process), and those nobody can block. */
static bool sig_kept(int sig)
{
	return sig == SIGKILL || sig == SIGSTOP || sig == SIGSEGV || sig == SIGBUS ||
	       sig == SIGILL || sig == SIGFPE || sig == SIGTRAP || sig == SIGSYS;
}

/* This thread's signalfd for @want, or -1. */
static int sigfd_for(const sigset_t *want)
{
	int fd;

	if (sigfd >= 0 && memcmp(want, &sigfd_mask, sizeof(*want)) == 0)
		return sigfd;
	fd = signalfd(sigfd, want, SFD_NONBLOCK | SFD_CLOEXEC);
	if (fd < 0)
		return sigfd >= 0 && memcmp(want, &sigfd_mask, sizeof(*want)) == 0 ? sigfd : -1;
	if (sigfd < 0) {
		pthread_once(&sigfd_once, sigfd_key_make);
		sigfd = pl_fd_hide(fd);
		if (sigfd_key_ok)
			pthread_setspecific(sigfd_key, &sigfd);  /* non-NULL: the destructor runs */
	}
	sigfd_mask = *want;
	return sigfd;
}

/* Whether the pending signals of @pend that this thread takes (@want)
 * would make the kernel's call return EINTR: a handler without SA_RESTART,
 * or any handler when the call has a timeout (@timeo). */
static bool pending_interrupts(const sigset_t *pend, const sigset_t *want, bool timeo)
{
	for (int sig = 1; sig < NSIG; sig++) {
		struct sigaction sa;

		if (!sigismember(pend, sig) || !sigismember(want, sig) ||
		    sigaction(sig, NULL, &sa) < 0)
			continue;
		if (sa.sa_handler == SIG_DFL || sa.sa_handler == SIG_IGN)
			continue;  /* no handler: the kernel restarts (or the process ends) */
		if (timeo || !(sa.sa_flags & SA_RESTART))
			return true;
	}
	return false;
}

int pl_sleep(struct pollfd *p, nfds_t n, int ms, bool timeo, const struct pl_spin *sp)
{
	struct pollfd q[PL_SLEEP_MAX_FDS + 1];
	sigset_t block, old, want, pend;
	bool intr = false, woke;
	int rc, err, fd;

	if (n > PL_SLEEP_MAX_FDS)
		return -EINVAL;
	sigfillset(&block);
	for (int sig = 1; sig < NSIG; sig++)
		if (sig_kept(sig))
			sigdelset(&block, sig);
	if (pthread_sigmask(SIG_BLOCK, &block, &old) != 0)
		return pl_real.poll(p, n, ms) < 0 ? -errno : 0;
	sigemptyset(&want);
	for (int sig = 1; sig < NSIG; sig++)
		if (sigismember(&block, sig) && !sigismember(&old, sig))
			sigaddset(&want, sig);
	/* A handler that ran after the call's last look and before the
	 * signals were held back: as if it had come during the sleep. */
	if (sp && pl_spin_intr(sp, !timeo)) {
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		return -EINTR;
	}
	fd = sigfd_for(&want);
	memcpy(q, p, n * sizeof(*p));
	q[n] = (struct pollfd){ .fd = fd, .events = POLLIN };
	rc = pl_real.poll(q, n + 1, ms);
	err = errno;
	woke = rc > 0 && q[n].revents;
	if (woke) {
		rc--;
		if (sigpending(&pend) == 0)
			intr = pending_interrupts(&pend, &want, timeo);
	}
	/* The handlers of what is pending run here, before we return. */
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (woke && sp && pl_spin_intr(sp, !timeo))
		intr = true;  /* the counts are exact where pending_interrupts() guessed */
	for (nfds_t i = 0; i < n; i++)
		p[i].revents = q[i].revents;
	if (rc < 0)
		return -err;
	if (!rc && intr)
		return -EINTR;
	return rc;
}

int pl_sock_wait(struct pl_sock *s, struct shmq_ep *ep, int events, int ms, bool timeo)
{
	int want, m;
	struct pl_spin sp;
	int64_t deadline = 0;

	events &= SHMQ_POLLIN | SHMQ_POLLOUT;
	want = events | SHMQ_POLLERR | ((events & SHMQ_POLLIN) ? SHMQ_POLLHUP : 0);
	pl_spin_begin(&sp, (events & SHMQ_POLLIN) ? PL_SPIN_RECV : PL_SPIN_SEND,
		      ms ? pl_spin_ns() : 0);
	for (;;) {
		for (int i = 0, k = sp.on ? PL_SPIN_BATCH : 1; i < k; i++) {
			m = shmq_poll(ep) & want;
			if (m) {
				pl_spin_end(&sp);
				return m;
			}
			if (k > 1)
				pl_cpu_relax();
		}
		/* A handler ran while we spun: EINTR where the kernel's
		 * sleeping call would have returned it. */
		if (pl_spin_intr(&sp, !timeo))
			return -EINTR;
		if (!pl_spin_more(&sp))
			break;  /* bounded busy poll, no syscall (pl_spin.h) */
	}
	if (!ms)
		return -ETIMEDOUT;
	if (ms > 0)
		deadline = pl_now_ns() + (int64_t)ms * 1000000;
	for (;;) {
		struct pollfd p[2] = { { .fd = s->efd, .events = POLLIN },
				       { .fd = s->live_fd, .events = POLLIN } };
		int r, tmo = ms > 0 ? pl_left_ms(deadline) : -1;

		if (ms > 0 && !tmo)
			return -ETIMEDOUT;
		/* The peer writes our eventfd once it sees the flag this sets
		 * (shmq_arm(): no wake-up is lost). */
		m = shmq_arm(ep, events);
		if (m)
			return m;
		r = pl_sleep(p, s->live_fd >= 0 ? 2 : 1, tmo, timeo, &sp);
		m = shmq_handle_event(ep);
		/* The kernel decides at the signal: what the handler made
		 * happen (the peer's answer, say) comes after the EINTR. */
		if (r == -EINTR)
			return r;
		if (m < 0)
			return m;
		m &= want;
		if (m)
			return m;
		if (r < 0)
			return r;
		if (s->live_fd >= 0 && (p[1].revents & (POLLIN | POLLHUP | POLLERR)))
			return -ECONNRESET;
	}
}
