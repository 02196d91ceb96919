/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Readiness for hostlane sockets in poll, ppoll, select and pselect (epoll,
 * which works the same way, is in pl_epoll.c).
 *
 * A hostlane connection is ready when its rings say so, which the layer
 * reads in user space. Before blocking, a call checks its hostlane fds
 * (no syscall) and returns at once if one is ready, merging a zero-timeout
 * call for the kernel fds. Otherwise it spins for a bounded time, then arms
 * every hostlane fd (the peer writes our eventfd on its next send or close)
 * and blocks in the real call on the eventfds, the peers' pidfds and the
 * kernel fds; after waking it drains the eventfds and looks again.
 *
 * Listeners need nothing special: their fd number is an epoll fd that the
 * kernel reports readable for either kind of incoming connection. Direct
 * connections announced in shared memory make it readable when they are
 * taken: every real wait here takes them first, and a wait that may sleep
 * tells the connectors to ring the doorbell meanwhile (pl_kwait_begin()), also
 * when the fds it waits on are not ours (an epoll fd inside another one).
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pl_private.h"

/* Around a real wait of @ms (0: a look): see the file comment. Return: true
 * if pl_kwait_end() must follow. */
bool pl_kwait_begin(int ms)
{
	if (!pl_active())
		return false;  /* no listener of ours in this process */
	if (!ms) {
		pl_direct_serve();
		return false;
	}
	pl_direct_wait_begin();
	return true;
}

void pl_kwait_end(bool began)
{
	if (began)
		pl_direct_wait_end();
}

/* Milliseconds left until @deadline (ns; -1: forever). */
int pl_left_ms(int64_t deadline)
{
	int64_t l;

	if (deadline < 0)
		return -1;
	l = deadline - pl_now_ns();
	return l <= 0 ? 0 : (int)((l + 999999) / 1000000);
}

/* A hostlane connection or listener: its readiness is the layer's to say.
 * A listener's fd (an epoll fd) also turns readable for replies on the
 * control channel that nobody waits for; reporting that would send the
 * application into an accept() with nothing to take. */
static inline struct pl_sock *conn_of(int fd)
{
	struct pl_sock *s;

	if (!pl_active())
		return NULL;
	s = pl_fd_get(fd);
	return s && (s->kind == PL_CONN || s->kind == PL_LISTEN) ? s : NULL;
}

static short epoll_to_poll(uint32_t r, short events)
{
	short m = 0;

	if (r & EPOLLIN)
		m |= POLLIN | POLLRDNORM;
	if (r & EPOLLOUT)
		m |= POLLOUT | POLLWRNORM;
	if (r & EPOLLRDHUP)
		m |= POLLRDHUP;
	if (r & EPOLLPRI)
		m |= POLLPRI;
	m &= events;
	if (r & EPOLLERR)
		m |= POLLERR;
	if (r & EPOLLHUP)
		m |= POLLHUP;
	return m;
}

static uint32_t poll_to_epoll(short ev)
{
	uint32_t e = 0;

	if (ev & (POLLIN | POLLRDNORM))
		e |= EPOLLIN;
	if (ev & (POLLOUT | POLLWRNORM))
		e |= EPOLLOUT;
	if (ev & POLLRDHUP)
		e |= EPOLLRDHUP;
	if (ev & POLLPRI)
		e |= EPOLLPRI;
	return e;
}

/* ---- poll ------------------------------------------------------------------ */

/* Fills revents of the hostlane entries; returns how many are ready. */
static int scan_poll(struct pollfd *fds, nfds_t n, struct pl_sock **ss)
{
	int ready = 0;

	for (nfds_t i = 0; i < n; i++) {
		if (!ss[i])
			continue;
		/* poll has no edge-triggered wake fd to tell it a listener
		 * changed: always look at the kernel listener. */
		if (ss[i]->kind == PL_LISTEN)
			atomic_store(&ss[i]->lwoken, 1);
		fds[i].revents = epoll_to_poll(pl_sock_ready(ss[i], NULL), fds[i].events);
		ready += fds[i].revents != 0;
	}
	return ready;
}

static int real_poll(struct pollfd *fds, nfds_t n, int ms, const sigset_t *mask)
{
	struct timespec ts, *tp = NULL;
	bool began = pl_kwait_begin(ms);
	int rc;

	if (ms >= 0) {
		ts.tv_sec = ms / 1000;
		ts.tv_nsec = (long)(ms % 1000) * 1000000;
		tp = &ts;
	}
	rc = mask ? pl_real.ppoll(fds, n, tp, mask) : pl_real.poll(fds, n, ms);
	pl_kwait_end(began);
	return rc;
}

/* Kernel entries polled without waiting; hostlane entries excluded (fd -1). */
static int merge_kernel(struct pollfd *fds, nfds_t n, struct pl_sock **ss, int ready,
			const sigset_t *mask)
{
	struct pollfd small[64], *k;
	nfds_t nk = 0;
	int rc;

	for (nfds_t i = 0; i < n; i++)
		nk += !ss[i];
	/* All ours: no system call. ppoll's mask matters only when nothing is
	 * ready (with fds ready the kernel delivers no signal). */
	if (!nk && (ready || !mask))
		return ready;
	k = n <= 64 ? small : malloc(sizeof(*k) * n);
	if (!k)
		return ready;
	for (nfds_t i = 0; i < n; i++) {
		k[i] = fds[i];
		if (ss[i])
			k[i].fd = -1;
	}
	rc = real_poll(k, n, 0, mask);
	for (nfds_t i = 0; rc > 0 && i < n; i++)
		if (!ss[i]) {
			fds[i].revents = k[i].revents;
			ready += k[i].revents != 0;
		}
	if (k != small)
		free(k);
	return ready;
}

/* Blocks on kernel fds + hostlane eventfds and pidfds. Return: the real
 * call's result (< 0 on error). */
static int block_poll(struct pollfd *fds, nfds_t n, struct pl_sock **ss, int ms,
		      const sigset_t *mask, const struct pl_spin *sp)
{
	nfds_t nh = 0, m;
	struct pollfd *k;
	int rc;

	for (nfds_t i = 0; i < n; i++)
		nh += ss[i] != NULL;
	k = malloc(sizeof(*k) * (n + nh));
	if (!k)
		return -1;
	m = n;
	for (nfds_t i = 0; i < n; i++) {
		k[i] = fds[i];
		if (ss[i]) {
			k[i].events = POLLIN;
			k[m].fd = ss[i]->live_fd;
			k[m].events = POLLIN;
			k[m++].revents = 0;
		}
	}
	/* The last look for a handler that ran: from here on the kernel's
	 * poll sees the signals. */
	if (pl_spin_intr(sp, false)) {
		free(k);
		errno = EINTR;
		return -1;
	}
	rc = real_poll(k, m, ms, mask);
	m = n;
	for (nfds_t i = 0; i < n; i++) {
		if (!ss[i]) {
			fds[i].revents = rc > 0 ? k[i].revents : 0;
			continue;
		}
		if (rc > 0 && k[i].revents)
			pl_sock_woken(ss[i], PL_TAG_WAKE);
		if (rc > 0 && k[m].revents)
			pl_sock_woken(ss[i], PL_TAG_LIVE);
		m++;
	}
	free(k);
	return rc;
}

/*
 * Spin, then sleep. A handler that runs while the call spins makes it
 * return EINTR, as the kernel's poll and select do for any handler (they
 * are never restarted); so does one that ran before the sleep (pl_spin.h).
 * ppoll's and pselect's mask is the thread's for the whole call, as the
 * kernel has it: a signal it holds back runs no handler meanwhile, one it
 * lets through runs and interrupts.
 */
static int do_poll(struct pollfd *fds, nfds_t n, int timeout, const sigset_t *mask)
{
	struct pl_sock *small[64], **ss;
	sigset_t saved;
	bool masked = false, lost;
	struct pl_spin sp;
	int64_t deadline;
	bool any = false;
	int ready, rc, err;

	if (!pl_active())
		return real_poll(fds, n, timeout, mask);
	ss = n <= 64 ? small : calloc(n, sizeof(*ss));
	if (!ss)
		return real_poll(fds, n, timeout, mask);
	for (nfds_t i = 0; i < n; i++) {
		ss[i] = conn_of(fds[i].fd);
		any |= ss[i] != NULL;
	}
	if (!any) {
		if (ss != small)
			free(ss);
		return real_poll(fds, n, timeout, mask);
	}
	deadline = timeout < 0 ? -1 : pl_now_ns() + (int64_t)timeout * 1000000;
	lost = atomic_load_explicit(&pl_ctl_lost, memory_order_relaxed);
	pl_spin_begin(&sp, PL_SPIN_POLL, timeout ? pl_spin_ns() : 0);
	if (mask && timeout && pthread_sigmask(SIG_SETMASK, mask, &saved) == 0) {
		masked = true;
		mask = NULL;  /* the thread's now */
	}
	for (;;) {
		for (nfds_t i = 0; i < n; i++)
			fds[i].revents = 0;
		ready = scan_poll(fds, n, ss);
		if (ready)
			pl_spin_end(&sp);
		if (ready || timeout == 0) {
			ready = merge_kernel(fds, n, ss, ready, mask);
			break;
		}
		if (pl_spin_intr(&sp, false)) {
			errno = EINTR;
			ready = -1;
			break;
		}
		if (pl_spin_more(&sp))
			continue;  /* bounded busy poll, no syscall (pl_spin.h) */
		for (nfds_t i = 0; i < n; i++)
			if (ss[i] && pl_sock_arm(ss[i], poll_to_epoll(fds[i].events), false))
				any = false;
		if (!any) {  /* something became ready while arming */
			any = true;
			continue;
		}
		rc = block_poll(fds, n, ss, pl_left_ms(deadline), mask, &sp);
		if (rc < 0) {
			ready = -1;
			break;
		}
		ready = scan_poll(fds, n, ss);
		for (nfds_t i = 0; i < n; i++)
			if (!ss[i])
				ready += fds[i].revents != 0;
		if (ready || pl_left_ms(deadline) == 0)
			break;
		/* The channel broke while we slept (a listener's fd woke):
		 * back to wait_poll(), which looks for the agent. */
		if (!lost && atomic_load_explicit(&pl_ctl_lost, memory_order_relaxed))
			break;
	}
	err = errno;
	if (masked)
		pthread_sigmask(SIG_SETMASK, &saved, NULL);
	if (ss != small)
		free(ss);
	errno = err;
	return ready;
}

static bool ctl_lost(void)
{
	return atomic_load_explicit(&pl_ctl_lost, memory_order_relaxed);
}

/* do_poll(), and while the control channel is lost (the agent went away,
 * before or during the wait), back every retry interval to look for the
 * endpoint (as epoll_wait and accept do), one wait of @timeout for the
 * caller. */
static int wait_poll(struct pollfd *fds, nfds_t n, int timeout, const sigset_t *mask)
{
	int64_t deadline = -1;
	int r;

	if (timeout > 0)
		deadline = pl_now_ns() + (int64_t)timeout * 1000000;
	if (__builtin_expect(!ctl_lost(), 1)) {
		r = do_poll(fds, n, timeout, mask);
		if (r != 0 || timeout == 0 || !ctl_lost() || pl_left_ms(deadline) == 0)
			return r;
	}
	for (;;) {
		int left = pl_left_ms(deadline);

		pl_ctl_retry();
		r = do_poll(fds, n, pl_ctl_lost_wait_ms(left), mask);
		if (r != 0 || left == 0 || pl_left_ms(deadline) == 0 || !ctl_lost())
			return r;
	}
}

PL_EXPORT int poll(struct pollfd *fds, nfds_t n, int timeout)
{
	if (__builtin_expect(!pl_real.poll, 0))
		pl_libc_init();
	return wait_poll(fds, n, timeout, NULL);
}

int __poll_chk(struct pollfd *fds, nfds_t n, int timeout, size_t fdslen);

PL_EXPORT int __poll_chk(struct pollfd *fds, nfds_t n, int timeout, size_t fdslen)
{
	if (fdslen / sizeof(*fds) < n)
		abort();
	return poll(fds, n, timeout);
}

static int ts_to_ms(const struct timespec *ts)
{
	if (!ts)
		return -1;
	if (ts->tv_sec > 2000000)
		return 2000000000;
	return (int)(ts->tv_sec * 1000 + (ts->tv_nsec + 999999) / 1000000);
}

PL_EXPORT int ppoll(struct pollfd *fds, nfds_t n, const struct timespec *ts,
		    const sigset_t *mask)
{
	if (__builtin_expect(!pl_real.poll, 0))
		pl_libc_init();
	if (!pl_active())
		return pl_real.ppoll(fds, n, ts, mask);
	return wait_poll(fds, n, ts_to_ms(ts), mask);
}

/* ppoll of a program built with _FORTIFY_SOURCE when glibc cannot prove the
 * array's size (fortified builds are the rule in distributions). */
int __ppoll_chk(struct pollfd *fds, nfds_t n, const struct timespec *ts, const sigset_t *mask,
		size_t fdslen);

PL_EXPORT int __ppoll_chk(struct pollfd *fds, nfds_t n, const struct timespec *ts,
			  const sigset_t *mask, size_t fdslen)
{
	if (fdslen / sizeof(*fds) < n)
		abort();
	return ppoll(fds, n, ts, mask);
}

/* ---- select ------------------------------------------------------------------ */

static int do_select(int nfds, fd_set *r, fd_set *w, fd_set *x, int ms, const sigset_t *mask)
{
	struct pollfd *p;
	int n = 0, rc, total = 0;

	if (nfds < 0 || nfds > FD_SETSIZE) {
		errno = EINVAL;
		return -1;
	}
	p = calloc((size_t)nfds + 1, sizeof(*p));
	if (!p)
		return -1;
	for (int fd = 0; fd < nfds; fd++) {
		short ev = 0;

		if (r && FD_ISSET(fd, r))
			ev |= POLLIN;
		if (w && FD_ISSET(fd, w))
			ev |= POLLOUT;
		if (x && FD_ISSET(fd, x))
			ev |= POLLPRI;
		if (ev) {
			p[n].fd = fd;
			p[n++].events = ev;
		}
	}
	rc = wait_poll(p, (nfds_t)n, ms, mask);
	if (rc >= 0) {
		if (r)
			FD_ZERO(r);
		if (w)
			FD_ZERO(w);
		if (x)
			FD_ZERO(x);
		for (int i = 0; i < n; i++) {
			short re = p[i].revents;

			if (re & POLLNVAL) {
				free(p);
				errno = EBADF;
				return -1;
			}
			if (r && (p[i].events & POLLIN) && (re & (POLLIN | POLLHUP | POLLERR))) {
				FD_SET(p[i].fd, r);
				total++;
			}
			if (w && (p[i].events & POLLOUT) && (re & (POLLOUT | POLLERR))) {
				FD_SET(p[i].fd, w);
				total++;
			}
			if (x && (p[i].events & POLLPRI) && (re & POLLPRI)) {
				FD_SET(p[i].fd, x);
				total++;
			}
		}
	}
	free(p);
	return rc < 0 ? rc : total;
}

static bool sets_have_conn(int nfds, fd_set *r, fd_set *w, fd_set *x)
{
	if (!pl_active())
		return false;
	for (int fd = 0; fd < nfds && fd < FD_SETSIZE; fd++)
		if (((r && FD_ISSET(fd, r)) || (w && FD_ISSET(fd, w)) || (x && FD_ISSET(fd, x))) &&
		    conn_of(fd))
			return true;
	return false;
}

/* select()/pselect() with no fd of ours in the sets while the control
 * channel is lost: the kernel's, in slices of the retry interval (the sets
 * as the caller gave them each time), as wait_poll(). @ms -1: forever. */
static int lost_select(int nfds, fd_set *r, fd_set *w, fd_set *x, int ms, const sigset_t *mask)
{
	int64_t deadline = ms < 0 ? -1 : pl_now_ns() + (int64_t)ms * 1000000;
	fd_set r0, w0, x0;

	if (r)
		r0 = *r;
	if (w)
		w0 = *w;
	if (x)
		x0 = *x;
	for (;;) {
		int left = pl_left_ms(deadline), slice, rc;
		struct timespec t;
		bool began;

		pl_ctl_retry();
		slice = ctl_lost() ? pl_ctl_lost_wait_ms(left) : left;
		t.tv_sec = slice / 1000;
		t.tv_nsec = (long)(slice % 1000) * 1000000;
		began = pl_kwait_begin(slice);
		rc = pl_real.pselect(nfds, r, w, x, slice < 0 ? NULL : &t, mask);
		pl_kwait_end(began);
		if (rc != 0 || left == 0 || pl_left_ms(deadline) == 0 || !ctl_lost())
			return rc;
		if (r)
			*r = r0;
		if (w)
			*w = w0;
		if (x)
			*x = x0;
	}
}

PL_EXPORT int select(int nfds, fd_set *r, fd_set *w, fd_set *x, struct timeval *tv)
{
	int ms = -1, rc;
	bool conn;
	int64_t t0;

	if (__builtin_expect(!pl_real.select, 0))
		pl_libc_init();
	conn = sets_have_conn(nfds, r, w, x);
	if (!conn && !ctl_lost()) {
		bool began = pl_kwait_begin(tv && !tv->tv_sec && !tv->tv_usec ? 0 : -1);

		rc = pl_real.select(nfds, r, w, x, tv);
		pl_kwait_end(began);
		return rc;
	}
	if (tv)
		ms = (int)(tv->tv_sec * 1000 + (tv->tv_usec + 999) / 1000);
	t0 = pl_now_ns();
	rc = conn ? do_select(nfds, r, w, x, ms, NULL) : lost_select(nfds, r, w, x, ms, NULL);
	if (tv) {  /* Linux updates the timeout with the time left */
		int64_t left = (int64_t)ms * 1000 - (pl_now_ns() - t0) / 1000;

		if (left < 0)
			left = 0;
		tv->tv_sec = left / 1000000;
		tv->tv_usec = left % 1000000;
	}
	return rc;
}

PL_EXPORT int pselect(int nfds, fd_set *r, fd_set *w, fd_set *x, const struct timespec *ts,
		      const sigset_t *mask)
{
	bool conn;

	if (__builtin_expect(!pl_real.pselect, 0))
		pl_libc_init();
	conn = sets_have_conn(nfds, r, w, x);
	if (!conn && !ctl_lost()) {
		bool began = pl_kwait_begin(ts && !ts->tv_sec && !ts->tv_nsec ? 0 : -1);
		int rc = pl_real.pselect(nfds, r, w, x, ts, mask);

		pl_kwait_end(began);
		return rc;
	}
	if (!conn)
		return lost_select(nfds, r, w, x, ts_to_ms(ts), mask);
	return do_select(nfds, r, w, x, ts_to_ms(ts), mask);
}
