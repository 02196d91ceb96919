/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A hostlane socket as its ring says it is: the ring endpoint a call works
 * on (a forked connection attaches a fresh one), whether the peer ended or
 * reset the connection, and the readiness poll/select/epoll report for
 * connections and listeners (arming for a sleep, taking a wake-up).
 */
#include <errno.h>
#include <string.h>

#include "pl_private.h"
#include "shmq.h"

/* ---- the ring of a connection ---------------------------------------------- */

void pl_sock_ep_spin(struct shmq_ep *ep)
{
	shmq_ep_set_spin(ep, pl_spin_ns());
}

/*
 * After fork, parent and child share one ring pair, but each process has its
 * own shmq endpoint whose indices are private copies. The kernel has one
 * receive queue per socket, so the shared indices must be the truth: a
 * forked connection works on a fresh endpoint attached from them for the
 * length of each call (pl_sock_ep_get() in pl_private.h).
 */
struct shmq_ep *pl_sock_ep_forked(struct pl_sock *s)
{
	struct shmq_ep *ep;

	ep = shmq_ep_attach(s->r, s->pair, s->side);
	if (!ep)
		return s->ep;
	shmq_ep_set_fds(ep, s->efd, s->peer_efd, s->live_fd, SHMQ_PEER_PIDFD);
	pl_sock_ep_spin(ep);
	return ep;
}

/*
 * Whether the peer is gone, and how. TCP closes a socket with a FIN when all
 * it received was read, with a RST when data was left unread; the kernel
 * does the same for the sockets of a process that died. The ring records
 * both: a consumer that closed (or died) with our bytes still unread is a
 * reset. Return: 0 peer there, 1 end-of-stream only, 2 reset.
 */
int pl_sock_peer_gone(struct pl_sock *s, struct shmq_ep *ep)
{
	bool dead = atomic_load(&s->peer_dead);
	ssize_t w;

	if (atomic_load(&s->reset))
		return 2;
	/* The peer closed abortively (SO_LINGER {1, 0}, data left unread,
	 * a listener that never accepted it): TCP's RST. */
	if (shmq_peer_flags(ep) & SHMQ_PF_RESET) {
		atomic_store(&s->pending_err, atomic_load(&s->eof_seen) ? EPIPE : ECONNRESET);
		atomic_store(&s->reset, 1);
		return 2;
	}
	if (s->shut_wr)  /* our tx is shut: the ring cannot tell */
		return dead ? 1 : 0;
	/* shmq_writable() says EPIPE once the consumer closed, whenever it
	 * had to re-read the consumer's index; asked again, it says EPIPE
	 * only if our bytes are still unread. */
	w = shmq_writable(ep);
	if (w == -EPIPE)
		w = shmq_writable(ep);
	if (w == -EPIPE || (dead && w >= 0 && (size_t)w < shmq_ep_capacity(ep))) {
		/* After the peer's FIN the kernel is in CLOSE_WAIT, where a
		 * RST reads as EPIPE; before it, ECONNRESET. */
		atomic_store(&s->pending_err, atomic_load(&s->eof_seen) ? EPIPE : ECONNRESET);
		atomic_store(&s->reset, 1);
		return 2;
	}
	return dead ? 1 : 0;
}

/* The error a reset reports once, then @after. */
int pl_sock_take_error(struct pl_sock *s, int after)
{
	int e = atomic_exchange(&s->pending_err, 0);

	return e ? -e : after;
}

bool pl_sock_close_resets(struct pl_sock *s)
{
	struct shmq_ep *ep;
	bool unread;

	if (s->linger_on && s->linger_s == 0)
		return true;
	ep = pl_sock_ep_get(s);
	unread = shmq_readable(ep) > 0;
	pl_sock_ep_put(s, ep);
	return unread;
}

bool pl_sock_conn_closed(struct pl_sock *s)
{
	struct shmq_ep *ep = pl_sock_ep_get(s);
	bool closed = pl_sock_peer_gone(s, ep) == 2 ||
		      (s->shut_wr && ((shmq_poll(ep) & SHMQ_POLLHUP) || atomic_load(&s->peer_dead)));

	pl_sock_ep_put(s, ep);
	return closed;
}

/* ---- readiness -------------------------------------------------------------- */

static uint32_t shmq_to_epoll(int m)
{
	uint32_t r = 0;

	if (m & SHMQ_POLLIN)
		r |= EPOLLIN;
	if (m & SHMQ_POLLOUT)
		r |= EPOLLOUT;
	if (m & SHMQ_POLLHUP)
		r |= EPOLLRDHUP;
	if (m & SHMQ_POLLERR)
		r |= EPOLLERR;
	return r;
}

static bool queue_nonempty(struct pl_sock *s)
{
	bool r;

	pthread_mutex_lock(&s->lock);
	r = s->q_head != NULL;
	pthread_mutex_unlock(&s->lock);
	return r;
}

/* A listener is readable when accept() has something to take: a queued
 * hostlane connection (accept events still unread on the control channel
 * are taken first) or a kernel one. */
static uint32_t listener_ready(struct pl_sock *s)
{
	struct pollfd p[2] = { { .fd = s->kfd, .events = POLLIN },
			       { .fd = s->ctl ? pl_ctl_fd(s->ctl) : -1, .events = POLLIN } };

	if (s->published)
		pl_direct_serve();  /* shared memory only: no system call */
	if (queue_nonempty(s))
		return EPOLLIN;
	/* No syscall unless the listener's fd fired since a look found
	 * nothing: every change (kernel connection, accept event) fires it,
	 * and the flag is cleared before the look, so none is missed. */
	if (!atomic_exchange(&s->lwoken, 0))
		return 0;
	if (pl_real.poll(p, 2, 0) <= 0)
		return 0;
	atomic_store(&s->lwoken, 1);  /* still something: look again next time */
	if (p[0].revents & POLLIN)
		return EPOLLIN;
	if (p[1].revents & POLLIN)
		pl_ctl_drain(s->ctl);
	return queue_nonempty(s) ? EPOLLIN : 0;
}

uint32_t pl_sock_ready(struct pl_sock *s, int64_t *bytes)
{
	return pl_sock_ready_for(s, EPOLLIN | EPOLLOUT, bytes);
}

uint32_t pl_sock_ready_for(struct pl_sock *s, uint32_t events, int64_t *bytes)
{
	struct shmq_ep *ep;
	uint64_t avail = 0;
	uint32_t r = 0;

	if (bytes)
		*bytes = 0;
	if (s->kind == PL_LISTEN)
		return listener_ready(s);
	if (s->kind != PL_CONN)
		return 0;
	ep = pl_sock_ep_get(s);
	/* Without interest in EPOLLOUT the send side is not looked at: one
	 * shared index read per connection (a server's epoll set holds many). */
	if (events & EPOLLOUT) {
		r = shmq_to_epoll(shmq_poll(ep));
		if (bytes) {
			ssize_t n = shmq_readable(ep);

			avail = n > 0 ? (uint64_t)n : 0;
		}
	} else {
		r = shmq_to_epoll(shmq_poll_rx(ep, &avail));
	}
	if ((r & EPOLLRDHUP) || atomic_load_explicit(&s->peer_dead, memory_order_relaxed) ||
	    atomic_load_explicit(&s->reset, memory_order_relaxed) ||
	    (shmq_peer_flags(ep) & SHMQ_PF_RESET)) {
		int g = pl_sock_peer_gone(s, ep);

		/* POLLERR while the error is still to be reported, as the
		 * kernel's sk_err. */
		if (g == 2)
			r |= EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLHUP |
			     (atomic_load(&s->pending_err) ? EPOLLERR : 0);
		else if (g == 1)
			r |= EPOLLIN | EPOLLRDHUP;
	}
	if ((r & EPOLLRDHUP) && s->shut_wr)
		r |= EPOLLHUP;
	r = pl_urg_ready(s, ep, r, &avail);
	if (bytes)
		*bytes = (int64_t)atomic_load_explicit(&s->st->rx_bytes, memory_order_relaxed) +
			 (int64_t)avail;
	pl_sock_ep_put(s, ep);
	return r;
}

uint32_t pl_sock_arm(struct pl_sock *s, uint32_t events, bool edge)
{
	struct shmq_ep *ep;
	uint32_t r;
	int ev = 0;

	if (s->kind != PL_CONN)
		return 0;
	if (events & (EPOLLIN | EPOLLRDHUP | EPOLLPRI))
		ev |= SHMQ_POLLIN;
	if (events & EPOLLOUT)
		ev |= SHMQ_POLLOUT;
	ep = pl_sock_ep_get(s);
	ev = ev ? ev : SHMQ_POLLIN;
	{
		struct shmq_urgent u;

		/* An urgent byte the ring counts as data may not be readable
		 * for us: stay armed whatever the ring says, and say what is
		 * ready as the application sees it. */
		if (shmq_urgent(ep, &u) == 1) {
			shmq_arm_edge(ep, ev);
			pl_sock_ep_put(s, ep);
			return pl_sock_ready_for(s, events, NULL) &
			       (events | EPOLLERR | EPOLLHUP);
		}
	}
	r = shmq_to_epoll(edge ? shmq_arm_edge(ep, ev) : shmq_arm(ep, ev));
	pl_sock_ep_put(s, ep);
	return r;
}

void pl_sock_woken(struct pl_sock *s, unsigned kind)
{
	atomic_fetch_add_explicit(&pl_stats->wakeups, 1, memory_order_relaxed);
	if (s->kind == PL_LISTEN) {
		uint64_t v;

		atomic_store(&s->lwoken, 1);
		pl_ctl_drain(s->ctl);
		if (s->ctl_old)
			pl_ctl_drain(s->ctl_old);
		if (s->published) {
			pl_direct_bell_clear();
			pl_direct_serve();
		}
		/* The accept-queue eventfd must not stay set over an empty
		 * queue: it would keep the listener's fd readable for nothing.
		 * (Deliveries and pops keep lefd_set in step under the lock;
		 * this also resets a count another process left.) */
		pthread_mutex_lock(&s->lock);
		if (!s->q_head) {
			s->lefd_set = false;
			if (pl_real.read(s->lefd, &v, sizeof(v)) < 0) {
				/* already zero */
			}
		}
		pthread_mutex_unlock(&s->lock);
		return;
	}
	if (s->kind != PL_CONN)
		return;
	atomic_fetch_add_explicit(&s->st->wakeups, 1, memory_order_relaxed);
	if (kind == PL_TAG_LIVE) {
		struct pollfd p = { .fd = s->live_fd, .events = POLLIN };

		if (pl_real.poll(&p, 1, 0) > 0)
			atomic_store(&s->peer_dead, 1);
		return;
	}
	shmq_handle_event(s->ep);
}
