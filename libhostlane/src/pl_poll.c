/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Readiness for hostlane sockets in poll, ppoll, select, pselect and epoll.
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
 * tells the connectors to ring the doorbell meanwhile (kwait_begin()), also
 * when the fds it waits on are not ours (an epoll fd inside another one).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pl_private.h"

#define PL_EXPORT __attribute__((visibility("default")))

/* Around a real wait of @ms (0: a look): see the file comment. Return: true
 * if kwait_end() must follow. */
static bool kwait_begin(int ms)
{
	if (!pl_fd_count())
		return false;  /* no listener of ours in this process */
	if (!ms) {
		pl_direct_serve();
		return false;
	}
	pl_direct_wait_begin();
	return true;
}

static void kwait_end(bool began)
{
	if (began)
		pl_direct_wait_end();
}

/* Milliseconds left until @deadline (ns; -1: forever). */
static int left_ms(int64_t deadline)
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

	if (atomic_load_explicit(&pl_off, memory_order_relaxed) || !pl_fd_count())
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
	bool began = kwait_begin(ms);
	int rc;

	if (ms >= 0) {
		ts.tv_sec = ms / 1000;
		ts.tv_nsec = (long)(ms % 1000) * 1000000;
		tp = &ts;
	}
	rc = mask ? pl_real.ppoll(fds, n, tp, mask) : pl_real.poll(fds, n, ms);
	kwait_end(began);
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
		      const sigset_t *mask)
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

static int do_poll(struct pollfd *fds, nfds_t n, int timeout, const sigset_t *mask)
{
	struct pl_sock *small[64], **ss;
	int64_t deadline, spin_end;
	bool any = false;
	int ready, rc;

	if (atomic_load_explicit(&pl_off, memory_order_relaxed) || !pl_fd_count())
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
	spin_end = pl_now_ns() + (int64_t)pl_spin_ns();
	for (;;) {
		for (nfds_t i = 0; i < n; i++)
			fds[i].revents = 0;
		ready = scan_poll(fds, n, ss);
		if (ready || timeout == 0) {
			ready = merge_kernel(fds, n, ss, ready, mask);
			break;
		}
		if (pl_now_ns() < spin_end)
			continue;  /* bounded busy poll, no syscall */
		for (nfds_t i = 0; i < n; i++)
			if (ss[i] && pl_sock_arm(ss[i], poll_to_epoll(fds[i].events), false))
				any = false;
		if (!any) {  /* something became ready while arming */
			any = true;
			continue;
		}
		rc = block_poll(fds, n, ss, left_ms(deadline), mask);
		if (rc < 0) {
			ready = -1;
			break;
		}
		ready = scan_poll(fds, n, ss);
		for (nfds_t i = 0; i < n; i++)
			if (!ss[i])
				ready += fds[i].revents != 0;
		if (ready || left_ms(deadline) == 0)
			break;
	}
	if (ss != small)
		free(ss);
	return ready;
}

PL_EXPORT int poll(struct pollfd *fds, nfds_t n, int timeout)
{
	if (__builtin_expect(!pl_real.poll, 0))
		pl_libc_init();
	return do_poll(fds, n, timeout, NULL);
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
	if (!pl_fd_count())
		return pl_real.ppoll(fds, n, ts, mask);
	return do_poll(fds, n, ts_to_ms(ts), mask);
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
	rc = do_poll(p, (nfds_t)n, ms, mask);
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

static bool sets_have_conn(int nfds, fd_set *r, fd_set *w)
{
	if (atomic_load_explicit(&pl_off, memory_order_relaxed) || !pl_fd_count())
		return false;
	for (int fd = 0; fd < nfds && fd < FD_SETSIZE; fd++)
		if (((r && FD_ISSET(fd, r)) || (w && FD_ISSET(fd, w))) && conn_of(fd))
			return true;
	return false;
}

PL_EXPORT int select(int nfds, fd_set *r, fd_set *w, fd_set *x, struct timeval *tv)
{
	int ms = -1, rc;
	int64_t t0;

	if (__builtin_expect(!pl_real.select, 0))
		pl_libc_init();
	if (!sets_have_conn(nfds, r, w)) {
		bool began = kwait_begin(tv && !tv->tv_sec && !tv->tv_usec ? 0 : -1);

		rc = pl_real.select(nfds, r, w, x, tv);
		kwait_end(began);
		return rc;
	}
	if (tv)
		ms = (int)(tv->tv_sec * 1000 + (tv->tv_usec + 999) / 1000);
	t0 = pl_now_ns();
	rc = do_select(nfds, r, w, x, ms, NULL);
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
	if (__builtin_expect(!pl_real.pselect, 0))
		pl_libc_init();
	if (!sets_have_conn(nfds, r, w)) {
		bool began = kwait_begin(ts && !ts->tv_sec && !ts->tv_nsec ? 0 : -1);
		int rc = pl_real.pselect(nfds, r, w, x, ts, mask);

		kwait_end(began);
		return rc;
	}
	return do_select(nfds, r, w, x, ts_to_ms(ts), mask);
}

/* ---- epoll ---------------------------------------------------------------------- */

static int reg(int epfd, int op, int fd, uint32_t events, unsigned kind, int tagfd)
{
	struct epoll_event ev = { .events = events, .data.u64 = pl_tag(kind, tagfd) };

	return pl_real.epoll_ctl(epfd, op, fd, &ev);
}

/*
 * Registers @s's wake fds in the kernel epoll @epfd. A connection's eventfd
 * is drained at each wake-up (level-triggered is right); a listener's epoll
 * fd stays readable while a kernel connection waits to be accepted, so it is
 * edge-triggered: each new event (connection, accept event, reply) wakes us,
 * and collect() says what is really ready.
 */
static int reg_sock(int epfd, int fd, struct pl_sock *s)
{
	uint32_t ev = s->kind == PL_LISTEN ? EPOLLIN | EPOLLET : EPOLLIN;

	if (reg(epfd, EPOLL_CTL_ADD, fd, ev, PL_TAG_WAKE, fd) < 0)
		return -1;
	if (s->kind == PL_CONN && pl_sock_live_epfd(s) >= 0 &&
	    reg(epfd, EPOLL_CTL_ADD, pl_sock_live_epfd(s), EPOLLIN, PL_TAG_LIVE, fd) < 0 &&
	    errno != EEXIST) {
		pl_real.epoll_ctl(epfd, EPOLL_CTL_DEL, fd, NULL);
		return -1;
	}
	return 0;
}

static void sock_note_epset(struct pl_sock *s, int epfd)
{
	pthread_mutex_lock(&s->lock);
	for (unsigned i = 0; i < s->n_epsets; i++)
		if (s->epsets[i] == epfd)
			goto out;
	if (s->n_epsets < PL_MAX_EPSETS)
		s->epsets[s->n_epsets++] = epfd;
out:
	pthread_mutex_unlock(&s->lock);
}

void pl_poll_conn_upgraded(struct pl_sock *s, int fd)
{
	unsigned n;
	int sets[PL_MAX_EPSETS];

	pthread_mutex_lock(&s->lock);
	n = s->n_epsets;
	memcpy(sets, s->epsets, sizeof(sets));
	pthread_mutex_unlock(&s->lock);
	for (unsigned i = 0; i < n; i++) {
		struct pl_epset *e = pl_ep_get(sets[i]);

		if (e) {
			pthread_mutex_lock(&e->lock);
			if (pl_epset_find(e, fd))
				reg_sock(sets[i], fd, s);
			pthread_mutex_unlock(&e->lock);
		}
	}
}

static struct pl_epset *epset_of(int epfd, bool create)
{
	static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	struct pl_epset *e = pl_ep_get(epfd);

	if (e || !create)
		return e;
	pthread_mutex_lock(&lock);
	e = pl_ep_get(epfd);
	if (!e) {
		e = pl_epset_new();
		if (e)
			e->epfd = epfd;
		if (e && pl_ep_set(epfd, e)) {
			pl_epset_free(e);
			e = NULL;
		}
	}
	pthread_mutex_unlock(&lock);
	return e;
}

PL_EXPORT int epoll_create(int size)
{
	if (__builtin_expect(!pl_real.epoll_create, 0))
		pl_libc_init();
	return pl_real.epoll_create(size);
}

PL_EXPORT int epoll_create1(int flags)
{
	if (__builtin_expect(!pl_real.epoll_create1, 0))
		pl_libc_init();
	return pl_real.epoll_create1(flags);
}

/* An epoll fd is closed or replaced: forget its set (called by close()). */
void pl_poll_epfd_closed(int epfd)
{
	struct pl_epset *e = pl_ep_get(epfd);

	if (!e)
		return;
	pl_ep_set(epfd, NULL);
	for (unsigned i = 0; i < e->n; i++)
		pl_sock_forget_epset(e->m[i].s, epfd);
	pl_epset_free(e);
}

PL_EXPORT int epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev)
{
	struct pl_epmember *m;
	struct pl_sock *s;
	struct pl_epset *e;
	bool ghosted = false;
	int rc = 0;

	if (__builtin_expect(!pl_real.epoll_ctl, 0))
		pl_libc_init();
	s = atomic_load_explicit(&pl_off, memory_order_relaxed) || !pl_fd_count() ? NULL :
	    pl_fd_get(fd);
	if (!s)
		return pl_real.epoll_ctl(epfd, op, fd, ev);
	if (s->kind == PL_PENDING) {
		/* A kernel socket for now; remember the set in case connect()
		 * turns it into a hostlane connection. Its own socket: a
		 * registration outlives the fd number while the socket does. */
		pl_sock_pending_touch(s, fd);
		rc = pl_real.epoll_ctl(epfd, op, fd, ev);
		if (rc == 0 && (e = epset_of(epfd, op == EPOLL_CTL_ADD))) {
			pthread_mutex_lock(&e->lock);
			if (op == EPOLL_CTL_ADD)
				pl_epset_add(e, fd, s, ev);
			else if (op == EPOLL_CTL_MOD)
				pl_epset_mod(e, fd, ev);
			else
				pl_epset_del(e, fd);
			pthread_mutex_unlock(&e->lock);
			if (op == EPOLL_CTL_ADD)
				sock_note_epset(s, epfd);
		}
		return rc;
	}
	if (op != EPOLL_CTL_DEL && !ev) {
		errno = EFAULT;
		return -1;
	}
	e = epset_of(epfd, op == EPOLL_CTL_ADD);
	if (!e) {
		errno = op == EPOLL_CTL_ADD ? ENOMEM : ENOENT;
		return -1;
	}
	pthread_mutex_lock(&e->lock);
	switch (op) {
	case EPOLL_CTL_ADD:
		m = pl_epset_find(e, fd);
		if (m && m->ghost && m->s == s) {
			/* Back after a DEL: its kernel registrations are there. */
			m->ghost = false;
			rc = pl_epset_mod(e, fd, ev);
			break;
		}
		rc = m ? -EEXIST : 0;
		if (!rc && reg_sock(epfd, fd, s) < 0)
			rc = -errno;
		if (!rc)
			rc = pl_epset_add(e, fd, s, ev);
		break;
	case EPOLL_CTL_MOD:
		m = pl_epset_find(e, fd);
		rc = m && !m->ghost ? pl_epset_mod(e, fd, ev) : -ENOENT;
		break;
	case EPOLL_CTL_DEL:
		m = pl_epset_find(e, fd);
		if (!m || m->ghost) {
			rc = -ENOENT;
		} else if (s->kind == PL_CONN) {
			/* Event loops drop and re-add a connection around each
			 * write (redis, ae): keep the kernel registrations, two
			 * system calls each way, until the fd is closed. */
			m->ghost = true;
			ghosted = true;
		} else {
			rc = pl_epset_del(e, fd);
			pl_real.epoll_ctl(epfd, EPOLL_CTL_DEL, fd, NULL);
		}
		break;
	default:
		rc = -EINVAL;
	}
	pthread_mutex_unlock(&e->lock);
	if (rc) {
		errno = -rc;
		return -1;
	}
	if (op == EPOLL_CTL_ADD)
		sock_note_epset(s, epfd);
	else if (op == EPOLL_CTL_DEL && !ghosted)
		pl_sock_forget_epset(s, epfd);
	return 0;
}

/* Appends the hostlane members that are ready to @out. */
static int collect(struct pl_epset *e, struct epoll_event *out, int max)
{
	int n = 0;

	for (unsigned i = 0; i < e->n && n < max; i++) {
		struct pl_epmember *m = &e->m[i];
		int64_t bytes = 0;
		uint32_t ready, r;

		if (m->s->kind == PL_PENDING || m->ghost)
			continue;  /* the kernel reports it / not in the set */
		/* Two statements: the order in which a call's arguments are
		 * evaluated is unspecified, and @bytes is an output of the
		 * first one. */
		ready = pl_sock_ready_for(m->s, m->events, &bytes);
		if (m->events & EPOLLET)
			pl_epset_write_blocked(m, atomic_load_explicit(&m->s->tx_full,
								      memory_order_relaxed));
		r = pl_epset_report(m, ready, bytes);
		if (r) {
			out[n].events = r;
			out[n++].data = m->data;
		}
	}
	return n;
}

/* Handles our tagged entries in @ev[0..n) and compacts the rest. */
static int filter(struct pl_epset *e, struct epoll_event *ev, int n)
{
	int k = 0;

	for (int i = 0; i < n; i++) {
		if (!pl_is_tag(ev[i].data.u64)) {
			ev[k++] = ev[i];
			continue;
		}
		int fd = (int)(uint32_t)ev[i].data.u64;
		unsigned kind = (unsigned)(ev[i].data.u64 >> 32) & ~PL_TAG_MASK;
		struct pl_epmember *m = pl_epset_find(e, fd);

		if (m && m->ghost && kind == PL_TAG_LIVE) {
			/* The peer of a deleted member died: its pidfd would
			 * stay readable and wake us forever. Really drop it. */
			struct pl_sock *gs = m->s;

			pl_real.epoll_ctl(e->epfd, EPOLL_CTL_DEL, fd, NULL);
			if (pl_sock_live_epfd_peek(gs) >= 0)
				pl_real.epoll_ctl(e->epfd, EPOLL_CTL_DEL, pl_sock_live_epfd_peek(gs), NULL);
			pl_epset_del(e, fd);
			pl_sock_forget_epset(gs, e->epfd);
		} else if (m) {  /* a ghost too: its eventfd must be drained */
			pl_sock_woken(m->s, kind);
		}
	}
	return k;
}

/*
 * Arms every connection for the peer's next publication, whatever its state:
 * an edge-triggered member with unread data already reported must still be
 * woken by new bytes. Whether to sleep is decided by collect() afterwards.
 * Listeners need no arming: their wake fd is registered edge-triggered.
 */
static void arm_all(struct pl_epset *e)
{
	for (unsigned i = 0; i < e->n; i++) {
		struct pl_epmember *m = &e->m[i];

		if (m->s->kind == PL_CONN && !m->disabled && !m->ghost)
			pl_sock_arm(m->s, m->events, true);
	}
}

static int kernel_wait_raw(int epfd, struct epoll_event *out, int max, int ms,
			   const sigset_t *mask)
{
	return mask ? pl_real.epoll_pwait(epfd, out, max, ms, mask) :
		      pl_real.epoll_wait(epfd, out, max, ms);
}

static int kernel_wait(int epfd, struct epoll_event *out, int max, int ms, const sigset_t *mask)
{
	bool began = kwait_begin(ms);
	int k = kernel_wait_raw(epfd, out, max, ms, mask);

	kwait_end(began);
	return k;
}

/* @n hostlane events are in @out: adds the kernel's ready events. */
static int with_kernel(struct pl_epset *e, int epfd, struct epoll_event *out, int n, int max,
		       const sigset_t *mask)
{
	int k = n < max ? kernel_wait(epfd, out + n, max - n, 0, mask) : 0;

	if (k <= 0)
		return n;
	pthread_mutex_lock(&e->lock);
	k = filter(e, out + n, k);
	pthread_mutex_unlock(&e->lock);
	return n + k;
}

/* The kernel returned @k events in @out: handles our wake-ups, then looks
 * at every member (a wake-up may have made one ready). */
static int harvest(struct pl_epset *e, struct epoll_event *out, int k, int max)
{
	int n;

	pthread_mutex_lock(&e->lock);
	k = filter(e, out, k);
	n = collect(e, out + k, max - k);
	pthread_mutex_unlock(&e->lock);
	return k + n;
}

static int look(struct pl_epset *e, struct epoll_event *out, int max, bool arm)
{
	int n;

	pthread_mutex_lock(&e->lock);
	if (arm)
		arm_all(e);
	n = collect(e, out, max);
	pthread_mutex_unlock(&e->lock);
	return n;
}

/*
 * Look at the members (no syscall for connections) while spinning; then arm
 * every connection, look once more (anything that arrived before the arm is
 * seen here, anything after it writes a wake fd) and sleep in the kernel on
 * the wake fds and the application's kernel fds. Sleeping with reported but
 * unread data is what edge-triggered members need: only new bytes count.
 */
static int do_epoll_wait(int epfd, struct epoll_event *out, int max, int timeout,
			 const sigset_t *mask)
{
	struct pl_epset *e = pl_ep_get(epfd);
	int64_t deadline, spin_end;
	bool began;
	int n, k, ms;

	if (!e || !e->n || max <= 0)
		return kernel_wait(epfd, out, max, timeout, mask);
	deadline = timeout < 0 ? -1 : pl_now_ns() + (int64_t)timeout * 1000000;
	spin_end = pl_now_ns() + (int64_t)pl_spin_ns();
	for (;;) {
		n = look(e, out, max, false);
		if (n)
			return with_kernel(e, epfd, out, n, max, mask);
		if (timeout == 0) {
			k = kernel_wait(epfd, out, max, 0, mask);
			return k < 0 ? k : harvest(e, out, k, max);
		}
		if (pl_now_ns() < spin_end)
			continue;  /* bounded busy poll, no syscall */
		ms = left_ms(deadline);
		began = kwait_begin(ms);
		n = look(e, out, max, true);
		if (n) {
			kwait_end(began);
			return with_kernel(e, epfd, out, n, max, mask);
		}
		k = kernel_wait_raw(epfd, out, max, ms, mask);
		kwait_end(began);
		if (k < 0)
			return k;
		n = harvest(e, out, k, max);
		if (n || left_ms(deadline) == 0)
			return n;
	}
}

PL_EXPORT int epoll_wait(int epfd, struct epoll_event *ev, int max, int timeout)
{
	if (__builtin_expect(!pl_real.epoll_wait, 0))
		pl_libc_init();
	return do_epoll_wait(epfd, ev, max, timeout, NULL);
}

PL_EXPORT int epoll_pwait(int epfd, struct epoll_event *ev, int max, int timeout,
			  const sigset_t *mask)
{
	if (__builtin_expect(!pl_real.epoll_pwait, 0))
		pl_libc_init();
	return do_epoll_wait(epfd, ev, max, timeout, mask);
}
