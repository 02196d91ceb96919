/* SPDX-License-Identifier: MIT */
/*
 * Notification: spin, then sleep on an eventfd after announcing it in the
 * shared waiting flag; the peer writes the eventfd only when it sees the
 * flag. The lost-wake-up argument is in docs/shmq.md ("Notification").
 */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>

#include "shmq_private.h"

static void eventfd_kick(int fd)
{
	uint64_t one = 1;

	/* EAGAIN means the counter is saturated: the peer is awake anyway. */
	if (write(fd, &one, sizeof(one)) < 0) {
		/* nothing to do */
	}
}

void shmq__kick(struct shmq_ep *ep, _Atomic uint32_t *peer_waiting)
{
	/* Full fence: orders our index store (just done) before the load of
	 * the peer's flag; pairs with the fence in shmq_arm() that orders the
	 * peer's flag store before its index load. */
	atomic_thread_fence(memory_order_seq_cst);
	if (atomic_load_explicit(peer_waiting, memory_order_relaxed))
		eventfd_kick(ep->peer_efd);
}

void shmq__wake(struct shmq_ep *ep)
{
	atomic_thread_fence(memory_order_seq_cst);
	if (ep->peer_efd >= 0)
		eventfd_kick(ep->peer_efd);
}

int shmq_ep_set_fds(struct shmq_ep *ep, int self_efd, int peer_efd, int live_fd,
		    int live_kind)
{
	if (live_kind < SHMQ_PEER_NONE || live_kind > SHMQ_PEER_SOCKET ||
	    (live_fd >= 0) != (live_kind != SHMQ_PEER_NONE))
		return -EINVAL;
	ep->self_efd = self_efd < 0 ? -1 : self_efd;
	ep->peer_efd = peer_efd < 0 ? -1 : peer_efd;
	ep->live_fd = live_fd < 0 ? -1 : live_fd;
	ep->live_kind = live_kind;
	return 0;
}

void shmq_ep_set_spin(struct shmq_ep *ep, uint64_t ns)
{
	ep->spin_ns = ns;
}

int shmq_ep_fd(const struct shmq_ep *ep)
{
	return ep->self_efd;
}

int shmq_arm(struct shmq_ep *ep, int events)
{
	int m;

	events &= SHMQ_POLLIN | SHMQ_POLLOUT;
	shmq__set_waiting(ep, events, 1);
	/* Full fence: our flag store before our re-check of the peer's index;
	 * pairs with the fence in shmq__kick() (see docs/shmq.md). */
	atomic_thread_fence(memory_order_seq_cst);
	m = shmq__ready(ep, events);
	if (m)
		shmq__set_waiting(ep, events, 0);
	return m;
}

int shmq_arm_edge(struct shmq_ep *ep, int events)
{
	events &= SHMQ_POLLIN | SHMQ_POLLOUT;
	shmq__set_waiting(ep, events, 1);
	/* Full fence: as in shmq_arm(); pairs with the fence in shmq__kick(). */
	atomic_thread_fence(memory_order_seq_cst);
	return shmq__ready(ep, events);
}

int shmq_handle_event(struct shmq_ep *ep)
{
	uint64_t v;

	if (ep->self_efd >= 0 && read(ep->self_efd, &v, sizeof(v)) < 0 &&
	    errno != EAGAIN && errno != EINTR)
		return -errno;
	shmq__set_waiting(ep, SHMQ_POLLIN | SHMQ_POLLOUT, 0);
	return shmq_poll(ep);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield");
#endif
}

static int spin(struct shmq_ep *ep, int events)
{
	uint64_t t0;

	if (ep->spin_ns == 0)
		return 0;
	t0 = now_ns();
	for (;;) {
		for (int i = 0; i < 64; i++) {
			int m = shmq__ready(ep, events);

			if (m)
				return m;
			cpu_relax();
		}
		if (now_ns() - t0 >= ep->spin_ns)
			return 0;
	}
}

/* 1 if the liveness fd says the peer is gone. */
static int peer_dead(short revents, int kind)
{
	if (kind == SHMQ_PEER_PIDFD)
		return (revents & (POLLIN | POLLHUP | POLLERR)) != 0;
	return (revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0;
}

/* One sleep: arm, poll, disarm. Returns a ready mask, 0 (nothing yet),
 * -ECONNRESET, or -errno. */
static int sleep_once(struct shmq_ep *ep, int events, int tmo)
{
	struct pollfd pfd[2];
	nfds_t n = 0;
	int live = -1, m, r;

	m = shmq_arm(ep, events);
	if (m)
		return m;
	if (ep->self_efd >= 0)
		pfd[n++] = (struct pollfd){ .fd = ep->self_efd, .events = POLLIN };
	if (ep->live_fd >= 0) {
		live = (int)n;
		pfd[n++] = (struct pollfd){
			.fd = ep->live_fd,
			.events = ep->live_kind == SHMQ_PEER_PIDFD ? POLLIN : POLLRDHUP,
		};
	}
	/* Without an eventfd nobody can wake us: sleep in short slices. */
	if (ep->self_efd < 0 && (tmo < 0 || tmo > 1))
		tmo = 1;
	r = poll(pfd, n, tmo);
	if (r < 0)
		r = -errno;
	m = shmq_handle_event(ep);
	if (m < 0)
		return m;
	m &= events | SHMQ_POLLERR | ((events & SHMQ_POLLIN) ? SHMQ_POLLHUP : 0);
	if (m)
		return m;
	if (r < 0)
		return r;
	if (live >= 0 && peer_dead(pfd[live].revents, ep->live_kind))
		return -ECONNRESET;
	return 0;
}

int shmq_wait(struct shmq_ep *ep, int events, int timeout_ms)
{
	uint64_t deadline = 0;
	int m;

	events &= SHMQ_POLLIN | SHMQ_POLLOUT;
	m = shmq__ready(ep, events);
	if (m)
		return m;
	m = spin(ep, events);
	if (m)
		return m;
	if (timeout_ms == 0)
		return -ETIMEDOUT;
	if (timeout_ms > 0)
		deadline = now_ns() + (uint64_t)timeout_ms * 1000000u;
	for (;;) {
		int tmo = -1;

		if (timeout_ms > 0) {
			uint64_t t = now_ns();

			if (t >= deadline)
				return -ETIMEDOUT;
			tmo = (int)((deadline - t + 999999u) / 1000000u);
		}
		m = sleep_once(ep, events, tmo);
		if (m)
			return m;
	}
}
