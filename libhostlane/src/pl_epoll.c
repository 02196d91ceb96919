/* SPDX-License-Identifier: Apache-2.0 */
/*
 * epoll for hostlane sockets. The layer keeps, per application epoll fd, the
 * set of its hostlane members (struct pl_epset, pl_epset.c) next to the
 * kernel's: a member's readiness comes from its ring, and what the kernel
 * set holds for it is its wake fds (the connection's eventfd, the peer's
 * pidfd, a listener's epoll fd), tagged so epoll_wait() tells them from
 * the application's own events. epoll_wait() looks at the members first
 * (no system call), spins, then arms them and sleeps in the kernel, as
 * poll() does (pl_poll.c). Level-triggered, edge-triggered and one-shot
 * members are reported as the kernel would (pl_epset_report()).
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include "pl_private.h"

static int reg(int epfd, int op, int fd, uint32_t events, unsigned kind, int tagfd)
{
	struct epoll_event ev = { .events = events, .data.u64 = pl_tag(kind, tagfd) };

	return pl_real.epoll_ctl(epfd, op, fd, &ev);
}

/*
 * Registers @s's wake fd in the kernel epoll @epfd. A connection's eventfd
 * is drained at each wake-up (level-triggered is right); a listener's epoll
 * fd stays readable while a kernel connection waits to be accepted, so it is
 * edge-triggered: each new event (connection, accept event, reply) wakes us,
 * and collect() says what is really ready. The peer's liveness fd is
 * registered once per set and region (live_hold()).
 */
static int reg_sock(int epfd, int fd, struct pl_sock *s)
{
	uint32_t ev = s->kind == PL_LISTEN ? EPOLLIN | EPOLLET : EPOLLIN;

	return reg(epfd, EPOLL_CTL_ADD, fd, ev, PL_TAG_WAKE, fd);
}

/*
 * Member @m, a connection, watches its peer process's liveness fd in @e
 * (e->lock held): the fd is in the kernel set once, with a count of the
 * members that watch it, so a connection costs no dup, registration and
 * close of its own (the connections of a region, up to 7 to one peer
 * process, share the region's liveness fd). Return: 0, or -1 with errno.
 */
static int live_hold(struct pl_epset *e, struct pl_epmember *m)
{
	int lf = m->s->kind == PL_CONN ? m->s->live_fd : -1, r;

	if (lf < 0 || m->live >= 0)
		return 0;
	r = pl_epset_live_ref(e, lf);
	if (r < 0) {
		errno = -r;
		return -1;
	}
	/* EEXIST: a set shared across fork() that the other process's
	 * members put it in. */
	if (r == 1 && reg(e->epfd, EPOLL_CTL_ADD, lf, EPOLLIN, PL_TAG_LIVE, lf) < 0 &&
	    errno != EEXIST) {
		pl_epset_live_unref(e, lf);
		return -1;
	}
	m->live = lf;
	return 0;
}

void pl_epoll_live_drop(struct pl_epset *e, struct pl_epmember *m)
{
	int lf = m->live;

	m->live = -1;
	/* A set made before a fork is the other process's too: its members
	 * may watch the fd; a stale registration is dropped when it fires
	 * (live_fired()). */
	if (lf >= 0 && pl_epset_live_unref(e, lf) == 1 && e->gen == pl_fork_gen())
		pl_real.epoll_ctl(e->epfd, EPOLL_CTL_DEL, lf, NULL);
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
			struct pl_epmember *m;

			pthread_mutex_lock(&e->lock);
			if ((m = pl_epset_find(e, fd)) && reg_sock(sets[i], fd, s) == 0)
				live_hold(e, m);
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
	s = pl_active() ? pl_fd_get(fd) : NULL;
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
		if (!rc && live_hold(e, pl_epset_find(e, fd)) < 0) {
			rc = -errno;
			pl_epset_del(e, fd);
			pl_real.epoll_ctl(epfd, EPOLL_CTL_DEL, fd, NULL);
		}
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

/*
 * Liveness fd @lf fired (e->lock held): the members watching it look at
 * their peer; deleted ones whose peer died really go (their eventfd would
 * never fire again). A peer that is gone leaves its fd readable for good:
 * out of the kernel set, or it would wake us forever (the count stays
 * until the last member goes).
 */
static void live_fired(struct pl_epset *e, int lf)
{
	struct pollfd p = { .fd = lf, .events = POLLIN };

	for (unsigned i = e->n; i-- > 0;) {
		struct pl_epmember *m = &e->m[i];

		if (m->live != lf)
			continue;
		if (m->ghost) {
			struct pl_sock *gs = m->s;
			int fd = m->fd;

			pl_epoll_live_drop(e, m);
			pl_real.epoll_ctl(e->epfd, EPOLL_CTL_DEL, fd, NULL);
			pl_epset_del(e, fd);
			pl_sock_forget_epset(gs, e->epfd);
		} else {
			pl_sock_woken(m->s, PL_TAG_LIVE);
		}
	}
	if (pl_real.poll(&p, 1, 0) > 0)
		pl_real.epoll_ctl(e->epfd, EPOLL_CTL_DEL, lf, NULL);
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
		struct pl_epmember *m;

		if (kind == PL_TAG_LIVE) {
			live_fired(e, fd);
			continue;
		}
		m = pl_epset_find(e, fd);
		if (m)  /* a ghost too: its eventfd must be drained */
			pl_sock_woken(m->s, kind);
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
	bool began = pl_kwait_begin(ms);
	int k = kernel_wait_raw(epfd, out, max, ms, mask);

	pl_kwait_end(began);
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
	struct pl_epset *e = pl_active() ? pl_ep_get(epfd) : NULL;
	struct pl_spin sp;
	int64_t deadline;
	bool began;
	int n, k, ms;

	if (!e || !e->n || max <= 0)
		return kernel_wait(epfd, out, max, timeout, mask);
	deadline = timeout < 0 ? -1 : pl_now_ns() + (int64_t)timeout * 1000000;
	pl_spin_begin(&sp, PL_SPIN_EPOLL, timeout ? pl_spin_ns() : 0);
	for (;;) {
		n = look(e, out, max, false);
		if (n) {
			pl_spin_end(&sp);
			return with_kernel(e, epfd, out, n, max, mask);
		}
		if (timeout == 0) {
			k = kernel_wait(epfd, out, max, 0, mask);
			return k < 0 ? k : harvest(e, out, k, max);
		}
		if (pl_spin_intr(&sp, false))  /* a handler ran: EINTR (pl_spin.h) */
			return pl_fail(EINTR);
		if (pl_spin_more(&sp))
			continue;  /* bounded busy poll, no syscall (pl_spin.h) */
		ms = pl_left_ms(deadline);
		began = pl_kwait_begin(ms);
		n = look(e, out, max, true);
		if (n) {
			pl_kwait_end(began);
			return with_kernel(e, epfd, out, n, max, mask);
		}
		k = pl_spin_intr(&sp, false) ? pl_fail(EINTR) : kernel_wait_raw(epfd, out, max, ms, mask);
		pl_kwait_end(began);
		if (k < 0)
			return k;
		n = harvest(e, out, k, max);
		if (n || pl_left_ms(deadline) == 0)
			return n;
	}
}

/* While this process has lost its control channel (the agent went away), a
 * wait comes back at least every retry interval to look for the endpoint
 * again, so that a server that only waits registers its listeners as soon
 * as a new agent is there; the caller sees one wait of its own timeout. */
static int lost_wait(int epfd, struct epoll_event *out, int max, int timeout, const sigset_t *mask)
{
	int64_t deadline = timeout < 0 ? -1 : pl_now_ns() + (int64_t)timeout * 1000000;

	for (;;) {
		int left = pl_left_ms(deadline), n;

		pl_ctl_retry();
		n = do_epoll_wait(epfd, out, max, pl_ctl_lost_wait_ms(left), mask);
		if (n != 0 || left == 0 || pl_left_ms(deadline) == 0 ||
		    !atomic_load_explicit(&pl_ctl_lost, memory_order_relaxed))
			return n;
	}
}

PL_EXPORT int epoll_wait(int epfd, struct epoll_event *ev, int max, int timeout)
{
	if (__builtin_expect(!pl_real.epoll_wait, 0))
		pl_libc_init();
	if (__builtin_expect(atomic_load_explicit(&pl_ctl_lost, memory_order_relaxed), 0))
		return lost_wait(epfd, ev, max, timeout, NULL);
	return do_epoll_wait(epfd, ev, max, timeout, NULL);
}

PL_EXPORT int epoll_pwait(int epfd, struct epoll_event *ev, int max, int timeout,
			  const sigset_t *mask)
{
	if (__builtin_expect(!pl_real.epoll_pwait, 0))
		pl_libc_init();
	if (__builtin_expect(atomic_load_explicit(&pl_ctl_lost, memory_order_relaxed), 0))
		return lost_wait(epfd, ev, max, timeout, mask);
	return do_epoll_wait(epfd, ev, max, timeout, mask);
}
