/* SPDX-License-Identifier: Apache-2.0 */
/*
 * listen() and accept(). A listener listens in the kernel and registers
 * its port with the endpoint; its fd number becomes an epoll fd holding the
 * kernel listener, the control channel, the accept-queue eventfd and the
 * doorbell of direct connections, so the application's poll/epoll on it
 * fires for either kind of incoming connection. Hostlane connections wait
 * in the listener's accept queue until accept() takes them.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/eventfd.h>

#include "hl_codec.h"
#include "pl_private.h"
#include "shmq.h"

#define MAX_ACCEPT_QUEUE 4096u

static bool v6only(int fd)
{
	int on = 0;
	socklen_t l = sizeof(on);

	return pl_real.getsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, &l) == 0 && on;
}

void pl_listen_addr(struct hl_proto_msg *req, int kfd)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	uint16_t port;

	if (kfd < 0 || pl_real.getsockname(kfd, (struct sockaddr *)&ss, &sl) < 0 ||
	    pl_addr_from_sa((struct sockaddr *)&ss, sl, &req->u.listen.addr, &port)) {
		memset(&req->u.listen.addr, 0, sizeof(req->u.listen.addr));
		return;
	}
	if (req->u.listen.addr.family == 6 && v6only(kfd))
		req->u.listen.flags = HL_LISTEN_F_V6ONLY;
}

/* Turns the fd number into an epoll fd holding the kernel listener (moved
 * to a private fd), the control channel and the accept-queue eventfd. */
static int listener_swap(int fd, struct pl_sock *s)
{
	struct epoll_event ev = { .events = EPOLLIN }, eq = ev, ec = ev, eb = ev;
	int l = -1, fdflags = pl_real.fcntl(fd, F_GETFD), bell = pl_direct_bell_fd();

	s->kfd = pl_fd_dup_hidden(fd);
	s->lefd = pl_fd_hide(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
	l = pl_real.epoll_create1(EPOLL_CLOEXEC);
	if (s->kfd < 0 || s->lefd < 0 || l < 0)
		goto fail;
	/* The kernel listener is only ever used non-blocking from here on. */
	pl_real.fcntl(s->kfd, F_SETFL, pl_real.fcntl(s->kfd, F_GETFL) | O_NONBLOCK);
	ev.data.u32 = LISTEN_EV_KERNEL;
	eq.data.u32 = LISTEN_EV_QUEUE;
	ec.data.u32 = LISTEN_EV_CTL;
	if (pl_real.epoll_ctl(l, EPOLL_CTL_ADD, s->kfd, &ev) ||
	    pl_real.epoll_ctl(l, EPOLL_CTL_ADD, s->lefd, &eq) ||
	    pl_real.epoll_ctl(l, EPOLL_CTL_ADD, pl_ctl_fd(s->ctl), &ec))
		goto fail;
	/* Direct connections ring the doorbell of the process that owns
	 * the control channel (not of a child sharing it). */
	eb.data.u32 = LISTEN_EV_PEER;
	s->published = bell >= 0 && pl_ctl_own(s->ctl) &&
		       pl_real.epoll_ctl(l, EPOLL_CTL_ADD, bell, &eb) == 0;
	if (pl_real.dup3(l, fd, fdflags & FD_CLOEXEC ? O_CLOEXEC : 0) < 0)
		goto fail;
	s->lep = pl_fd_hide(l);  /* the set itself, whatever the app does with fd */
	return 0;
fail:
	pl_close_quiet(l);
	pl_close_quiet(s->kfd);
	pl_close_quiet(s->lefd);
	s->kfd = s->lefd = -1;
	return -1;
}

PL_EXPORT int listen(int fd, int backlog)
{
	struct pl_sock *s = pl_sock_lookup(fd);
	struct hl_proto_msg req, rep;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	struct hl_proto_addr a;
	int fds[HL_PROTO_MAX_FDS];
	uint16_t port;

	if (!s || s->kind == PL_CONN)
		return pl_real.listen(fd, backlog);
	if (s->kind == PL_LISTEN) {
		s->backlog = backlog;
		return pl_real.listen(s->kfd, backlog);
	}
	pl_sock_pending_touch(s, fd);
	if (pl_real.listen(fd, backlog) < 0)
		return -1;
	/* Listening on loopback too: the monitor sends it only connections
	 * from processes of this pod to a loopback address (the sidecar hop). */
	if (pl_real.getsockname(fd, (struct sockaddr *)&ss, &sl) < 0 ||
	    pl_addr_from_sa((struct sockaddr *)&ss, sl, &a, &port)) {
		pl_sock_untrack(fd, s);
		return 0;
	}
	s->ctl = pl_ctl_get();
	hl_proto_init(&req, HL_POD_OP_LISTEN, 0);
	req.u.listen.port = port;
	/* Where it is bound: the monitor sends it only connections to that
	 * address (a wildcard: any of the pod's), as the kernel would. */
	pl_listen_addr(&req, fd);
	if (!s->ctl || pl_ctl_call(s->ctl, &req, &rep, fds) || listener_swap(fd, s)) {
		pl_sock_untrack(fd, s);  /* a kernel-only listener then */
		return 0;
	}
	s->port = port;
	s->backlog = backlog;
	s->shref = pl_shref_alloc();
	/* Published, or the doorbell goes (nobody here would reset it). In
	 * each direct region only if reached at the address that region was
	 * made for (pl_direct.c). */
	s->pub_addr = req.u.listen.addr;
	s->pub_v6only = req.u.listen.flags & HL_LISTEN_F_V6ONLY;
	if (s->published && !(s->published = pl_direct_publish(port, &s->pub_addr, s->pub_v6only, true)))
		pl_real.epoll_ctl(s->lep, EPOLL_CTL_DEL, pl_direct_bell_fd(), NULL);
	s->local = ss;
	s->local_len = sl;
	atomic_store(&s->lwoken, 1);
	s->kind = PL_LISTEN;
	pl_sock_add_listener(s);
	return 0;
}

/* The listener whose accept() is draining the control channel. */
static __thread struct pl_sock *accepting;

int pl_sock_deliver_accept(struct pl_ctl *c, const struct hl_proto_conn *conn, int *fds,
			   struct pl_region *g)
{
	struct pl_pending *p;
	struct pl_sock *s;
	uint64_t one = 1;

	s = pl_sock_listener_lock(conn->local_port);
	if (!s)
		return -1;
	/* Bounded by the listener's backlog, as the kernel's queue is: a
	 * peer that offers connection after connection finds it full. */
	if (s->q_len >= MAX_ACCEPT_QUEUE || s->q_len > (unsigned)(s->backlog > 0 ? s->backlog : 0) ||
	    !(p = calloc(1, sizeof(*p)))) {
		pthread_mutex_unlock(&s->lock);
		return -1;
	}
	p->ctl = c;
	p->c = *conn;
	p->g = g;
	memcpy(p->fds, fds, sizeof(p->fds));
	if (s->q_tail)
		s->q_tail->next = p;
	else
		s->q_head = p;
	s->q_tail = p;
	s->q_len++;
	/* The thread draining inside accept() on this listener pops it at
	 * once: no need to make the listener fd readable for that. */
	if (!s->lefd_set && accepting != s) {
		s->lefd_set = true;
		if (pl_real.write(s->lefd, &one, sizeof(one)) < 0) {
			/* the counter is already non-zero: nothing lost */
		}
	}
	pthread_mutex_unlock(&s->lock);
	return 0;
}

static struct pl_pending *queue_pop(struct pl_sock *s)
{
	struct pl_pending *p;
	uint64_t v, one = 1;

	pthread_mutex_lock(&s->lock);
	p = s->q_head;
	if (p) {
		s->q_head = p->next;
		if (!s->q_head)
			s->q_tail = NULL;
		s->q_len--;
	}
	/* The listener fd is readable (lefd non-zero) exactly while the
	 * queue is not empty. */
	if (!s->q_head && s->lefd_set) {
		s->lefd_set = false;
		if (pl_real.read(s->lefd, &v, sizeof(v)) < 0) {
			/* already zero */
		}
	} else if (s->q_head && !s->lefd_set) {
		s->lefd_set = true;
		if (pl_real.write(s->lefd, &one, sizeof(one)) < 0) {
			/* already non-zero */
		}
	}
	pthread_mutex_unlock(&s->lock);
	return p;
}

static int accept_hostlane(struct pl_sock *l, struct pl_pending *p, struct sockaddr *addr,
			   socklen_t *alen, int flags)
{
	struct pl_sock *s = pl_sock_new(PL_PENDING, l->family);
	struct hl_proto_conn c = p->c;
	struct hl_proto_addr me;
	int fd;

	if (!s) {
		pl_pending_free(p);
		return pl_fail(ENOMEM);
	}
	fd = pl_sock_conn_setup(s, p->ctl, &p->c, p->fds, p->g, -1, flags & SOCK_CLOEXEC);
	free(p);
	if (fd < 0) {
		s->local_refs = 1;
		pl_sock_free(s);
		return pl_fail(-fd);
	}
	atomic_store(&s->nonblock, !!(flags & SOCK_NONBLOCK));
	/* An accepted socket inherits the listener's options, timeouts too. */
	atomic_store(&s->rcvtimeo_us, atomic_load(&l->rcvtimeo_us));
	atomic_store(&s->sndtimeo_us, atomic_load(&l->sndtimeo_us));
	s->linger_on = l->linger_on;
	s->linger_s = l->linger_s;
	s->oobinline = l->oobinline;
	s->peer_len = pl_addr_to_sa(&c.peer, c.peer_port, l->family, &s->peer);
	/* The address the connector asked for (v4), as the kernel's accepted
	 * socket has it; else the pod's. */
	me = c.local;
	if (me.family != c.peer.family && pl_ctl_pod_addr(l->ctl, c.peer.family, &me))
		me = c.peer;
	s->local_len = pl_addr_to_sa(&me, l->port, l->family, &s->local);
	pl_sock_stats_describe(s);
	pl_sock_track(fd, s);
	pl_addr_copy_out(&s->peer, s->peer_len, addr, alen);
	return fd;
}

/* Takes what was announced to our ports: this thread pops it from the
 * queue itself, so the listener fd need not turn readable for it. */
static void accept_serve(struct pl_sock *s)
{
	if (!s->published)
		return;
	accepting = s;
	pl_direct_serve();  /* shared memory only: no system call */
	accepting = NULL;
}

/* While accept() spins, the kernel listener and the control channel are
 * looked at this often (a system call each); announcements of direct
 * connections, in shared memory, at every turn. */
#define ACCEPT_KERNEL_LOOK_NS 10000

PL_EXPORT int accept4(int fd, struct sockaddr *addr, socklen_t *alen, int flags)
{
	struct pl_sock *s = pl_sock_lookup(fd);
	int64_t end = 0, look = 0;
	bool first = true, spin_began = false;
	struct pl_spin sp;

	if (!s || s->kind != PL_LISTEN)
		return pl_real.accept4(fd, addr, alen, flags);
	/* Inherited across fork() and accepted on here: the hostlane
	 * connections come to this process from now on (pl_share.c). */
	if (__builtin_expect(s->ctl && !pl_ctl_mine(s->ctl), 0))
		pl_listen_claim(s);
	for (;;) {
		struct pl_pending *p;
		struct epoll_event ev[4];
		bool kernel = false, ctl = false, peer = false;
		int n, timeout = 0;

		/* The agent went away: a new one is looked for from here too
		 * (the listener is registered again on the new channel). */
		if (atomic_load_explicit(&pl_ctl_lost, memory_order_relaxed))
			pl_ctl_retry();
		accept_serve(s);
		p = queue_pop(s);
		if (p) {
			if (spin_began)
				pl_spin_end(&sp);
			return accept_hostlane(s, p, addr, alen, flags);
		}
		/* The fd is the epoll set of the kernel listener, the accept
		 * queue and the control channel: ask it what is ready rather
		 * than try them (a failing kernel accept allocates a socket). */
		if (!atomic_load(&s->nonblock)) {
			int64_t now = pl_now_ns();
			bool spinning;

			/* Spin first (pl_spin.h): an accept event that finds
			 * us polling costs the monitor no wake-up. */
			if (!spin_began) {
				pl_spin_begin(&sp, PL_SPIN_ACCEPT, pl_spin_ns());
				spin_began = true;
				look = now + ACCEPT_KERNEL_LOOK_NS;
			}
			spinning = pl_spin_more(&sp);
			/* A handler ran: EINTR where the kernel's accept would. */
			if (pl_spin_intr(&sp, !atomic_load(&s->rcvtimeo_us)))
				return pl_fail(EINTR);
			if (spinning && now < look)
				continue;
			look = now + ACCEPT_KERNEL_LOOK_NS;
			if (!first) {
				int ms = pl_timeo_ms(atomic_load(&s->rcvtimeo_us), &end);

				if (!ms)
					return pl_fail(EAGAIN);  /* SO_RCVTIMEO ran out */
				timeout = spinning ? 0 : ms;
			}
		}
		if (timeout) {
			/* Connectors ring the doorbell from here on; what they
			 * announced before is taken now. */
			pl_direct_wait_begin();
			if ((p = queue_pop(s))) {
				pl_direct_wait_end();
				return accept_hostlane(s, p, addr, alen, flags);
			}
		}
		if (timeout) {
			/* Signals as the kernel's accept takes them: EINTR after a
			 * handler without SA_RESTART (or with SO_RCVTIMEO). A
			 * process that lost its agent comes back every so often
			 * to look for a new one. */
			struct pollfd pf = { .fd = fd, .events = POLLIN };
			int r = pl_sleep(&pf, 1, pl_ctl_lost_wait_ms(timeout),
					 atomic_load(&s->rcvtimeo_us) != 0, &sp);

			pl_direct_wait_end();
			if (r < 0)
				return pl_fail(-r);
		}
		n = pl_real.epoll_wait(fd, ev, 4, 0);
		if (n < 0)
			return -1;
		for (int i = 0; i < n; i++) {
			kernel |= ev[i].data.u32 == LISTEN_EV_KERNEL;
			ctl |= ev[i].data.u32 == LISTEN_EV_CTL;
			peer |= ev[i].data.u32 == LISTEN_EV_PEER;
		}
		first = false;
		if (peer) {
			/* Reset first, then look: an announcement after the
			 * look rings again. */
			pl_direct_bell_clear();
			accept_serve(s);
			if (s->q_head)
				continue;
		}
		if (ctl) {
			accepting = s;
			pl_ctl_drain(s->ctl);
			if (s->ctl_old)
				pl_ctl_drain(s->ctl_old);
			accepting = NULL;
			if (s->q_head)
				continue;
		}
		if (kernel) {
			int k = pl_real.accept4(s->kfd, addr, alen, flags);

			if (k >= 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
				return k;
		}
		/* Non-blocking, nothing taken: what fired may be another
		 * holder's (a listener shared across fork() holds the channel
		 * and doorbell of the holder that took it, pl_share.c). */
		if (timeout == 0 && atomic_load(&s->nonblock))
			return pl_fail(EAGAIN);
	}
}

PL_EXPORT int accept(int fd, struct sockaddr *addr, socklen_t *alen)
{
	return accept4(fd, addr, alen, 0);
}
