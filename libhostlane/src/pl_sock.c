/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The LD_PRELOAD socket layer: socket/bind/listen/accept/connect/close,
 * dup, fcntl, options, names and the data path. See docs/preload.md.
 *
 * Every AF_INET/AF_INET6 SOCK_STREAM socket() first makes a real kernel
 * socket (PENDING): anything that does not reach a hostlane peer just keeps
 * using it. A connect() that reaches a hostlane listener keeps the fd number
 * and puts the connection's eventfd in place of the kernel socket (dup3), so
 * numbers stay unique and close/dup2/exec semantics hold. listen() listens
 * in the kernel and registers the port with the endpoint; the fd number then
 * becomes an epoll fd holding the kernel listener, the control channel and
 * an accept-queue eventfd, so the application's own poll/epoll on it fires
 * for either kind of incoming connection.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/sendfile.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "hl_codec.h"
#include "pl_private.h"
#include "shmq.h"

#define PL_EXPORT __attribute__((visibility("default")))
#define MAX_ACCEPT_QUEUE 4096u

static pthread_mutex_t socks_lock = PTHREAD_MUTEX_INITIALIZER;
static struct pl_sock *socks;         /* every live socket (counters, fork) */
static struct pl_sock *listeners;
static uint64_t next_id;

static inline bool active(void)
{
	if (__builtin_expect(!pl_real.read, 0))
		pl_libc_init();
	return !atomic_load_explicit(&pl_off, memory_order_relaxed) &&
	       pl_fd_count() != 0;
}

static inline struct pl_sock *lookup(int fd)
{
	return active() ? pl_fd_get(fd) : NULL;
}

static int fail(int err)
{
	errno = err;
	return -1;
}

/* ---- socket objects --------------------------------------------------------- */

static struct pl_sock *sock_new(enum pl_kind kind, int family)
{
	struct pl_sock *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->kind = kind;
	s->family = family;
	s->shref = -1;
	s->efd = s->peer_efd = s->live_fd = s->live_epfd = s->kfd = s->lefd = s->lep = -1;
	s->fdflags = -1;
	s->opt_rcvbuf = s->opt_sndbuf = 512 << 10;
	s->st = &s->st_own;
	pthread_mutex_init(&s->lock, NULL);
	pthread_mutex_init(&s->rx_lock, NULL);
	pthread_mutex_init(&s->tx_lock, NULL);
	pthread_mutex_lock(&socks_lock);
	s->id = ++next_id;
	s->all_next = socks;
	if (socks)
		socks->all_prev = s;
	socks = s;
	pthread_mutex_unlock(&socks_lock);
	return s;
}

static void close_quiet(int fd)
{
	if (fd >= 0)
		pl_real.close(fd);
}

static void pending_free(struct pl_pending *p)
{
	if (p->g)  /* before the monitor hears of it: it cannot wake the peer */
		pl_region_slot_close(p->g, p->c.pair, p->c.side);
	pl_ctl_give_back(p->ctl, &p->c);
	for (unsigned i = 0; i < HL_PROTO_MAX_FDS; i++)
		close_quiet(p->fds[i]);
	pl_region_put(p->g);
	free(p);
}

static void listener_unlink(struct pl_sock *s)
{
	pthread_mutex_lock(&socks_lock);
	for (struct pl_sock **pp = &listeners; *pp; pp = &(*pp)->next_listener)
		if (*pp == s) {
			*pp = s->next_listener;
			break;
		}
	pthread_mutex_unlock(&socks_lock);
}

static void spare_back(struct pl_sock *s, int keep);
static void pending_touch(struct pl_sock *s, int fd);

/* The last fd of @s in this process is gone: release what this process has. */
static void sock_free(struct pl_sock *s)
{
	if (s->kind == PL_PENDING)
		spare_back(s, -1);
	pthread_mutex_lock(&socks_lock);
	if (s->all_prev)
		s->all_prev->all_next = s->all_next;
	else
		socks = s->all_next;
	if (s->all_next)
		s->all_next->all_prev = s->all_prev;
	pthread_mutex_unlock(&socks_lock);
	if (s->kind == PL_CONN) {
		bool last = pl_shref_leave(s->shref) == 0;

		pl_stats_conn_free(s->st);
		if (last) {
			pl_port_put(s->own_port);
			/* The peer reads the rest, then EOF. For a slot this is
			 * also what gives it back: the monitor reads the ring. */
			shmq_ep_close(s->ep);
			pl_shref_free(s->shref);
			if (!s->slot_region) {
				struct hl_proto_conn m = { .region_id = s->region_id };

				pl_ctl_give_back(s->ctl, &m);
			}
		} else {
			/* Another process still holds the connection. */
			shmq_ep_detach(s->ep);
		}
		if (s->slot_region) {
			pl_region_put(s->slot_region);  /* its eventfds, too */
		} else {
			shmq_region_close(s->r);
			close_quiet(s->efd);
			close_quiet(s->peer_efd);
			close_quiet(s->live_fd);
		}
		close_quiet(s->live_epfd);
	} else if (s->kind == PL_LISTEN) {
		struct hl_proto_msg req, rep;
		int fds[HL_PROTO_MAX_FDS];

		listener_unlink(s);
		if (s->published)
			pl_direct_publish(s->port, false);
		if (pl_shref_leave(s->shref) == 0) {
			hl_proto_init(&req, HL_POD_OP_UNLISTEN, 0);
			req.u.listen.port = s->port;
			if (s->ctl && pl_ctl_get() == s->ctl)
				pl_ctl_call(s->ctl, &req, &rep, fds);
			pl_shref_free(s->shref);
		}
		while (s->q_head) {
			struct pl_pending *p = s->q_head;

			s->q_head = p->next;
			pending_free(p);
		}
		close_quiet(s->kfd);
		close_quiet(s->lefd);
		close_quiet(s->lep);
		/* Connections announced to the port before it went: reset. */
		if (s->published)
			pl_direct_serve();
	}
	pthread_mutex_destroy(&s->lock);
	pthread_mutex_destroy(&s->rx_lock);
	pthread_mutex_destroy(&s->tx_lock);
	free(s);
}

static void epsets_forget_fd(struct pl_sock *s, int fd);

/* @fd no longer names @s (closed, or replaced by dup2). */
static void fd_gone(int fd, struct pl_sock *s)
{
	bool last;

	epsets_forget_fd(s, fd);
	pl_fd_set(fd, NULL);
	pthread_mutex_lock(&s->lock);
	last = --s->local_refs == 0;
	pthread_mutex_unlock(&s->lock);
	if (last)
		sock_free(s);
}

/* A PENDING socket becomes a plain kernel fd the layer no longer tracks. */
static void untrack(int fd, struct pl_sock *s)
{
	if (s->kind == PL_PENDING)
		pending_touch(s, fd);
	fd_gone(fd, s);
}

static void fd_add(int fd, struct pl_sock *s)
{
	pthread_mutex_lock(&s->lock);
	s->local_refs++;
	pthread_mutex_unlock(&s->lock);
	if (pl_fd_set(fd, s))
		fd_gone(fd, s);
}

/* ---- epoll membership (the epoll side is in pl_poll.c) ---------------------- */

int pl_sock_live_epfd(struct pl_sock *s)
{
	if (!s->slot_region)
		return s->live_fd;
	pthread_mutex_lock(&s->lock);
	if (s->live_epfd < 0 && s->live_fd >= 0)
		s->live_epfd = pl_fd_dup_hidden(s->live_fd);
	pthread_mutex_unlock(&s->lock);
	return s->live_epfd;
}

int pl_sock_live_epfd_peek(struct pl_sock *s)
{
	return s->slot_region ? s->live_epfd : s->live_fd;
}

void pl_sock_forget_epset(struct pl_sock *s, int epfd)
{
	pthread_mutex_lock(&s->lock);
	for (unsigned i = 0; i < s->n_epsets; i++)
		if (s->epsets[i] == epfd) {
			s->epsets[i] = s->epsets[--s->n_epsets];
			break;
		}
	pthread_mutex_unlock(&s->lock);
}

static void epsets_forget_fd(struct pl_sock *s, int fd)
{
	int sets[PL_MAX_EPSETS];
	unsigned n;

	pthread_mutex_lock(&s->lock);
	n = s->n_epsets;
	memcpy(sets, s->epsets, sizeof(sets));
	pthread_mutex_unlock(&s->lock);
	for (unsigned i = 0; i < n; i++) {
		struct pl_epset *e = pl_ep_get(sets[i]);
		bool gone = false;

		if (!e)
			continue;
		pthread_mutex_lock(&e->lock);
		if (pl_epset_del(e, fd) == 0) {
			/* A PENDING socket's registration is the application's own
			 * kernel one: it stays (or goes with the file). */
			if (s->kind != PL_PENDING)
				pl_real.epoll_ctl(sets[i], EPOLL_CTL_DEL, fd, NULL);
			if (s->kind == PL_CONN && pl_sock_live_epfd_peek(s) >= 0)
				pl_real.epoll_ctl(sets[i], EPOLL_CTL_DEL, pl_sock_live_epfd_peek(s),
						  NULL);
			gone = true;
		}
		pthread_mutex_unlock(&e->lock);
		if (gone)
			pl_sock_forget_epset(s, sets[i]);
	}
}

/* ---- the ring of a connection ---------------------------------------------- */

static void ep_apply_spin(struct shmq_ep *ep)
{
	shmq_ep_set_spin(ep, pl_spin_ns());
}

/*
 * After fork, parent and child share one ring pair, but each process has its
 * own shmq endpoint whose indices are private copies. The kernel has one
 * receive queue per socket, so the shared indices must be the truth: a
 * forked connection works on a fresh endpoint attached from them for the
 * length of each call.
 */
static struct shmq_ep *ep_get(struct pl_sock *s)
{
	struct shmq_ep *ep;

	if (!atomic_load_explicit(&s->forked, memory_order_relaxed))
		return s->ep;
	ep = shmq_ep_attach(s->r, s->pair, s->side);
	if (!ep)
		return s->ep;
	shmq_ep_set_fds(ep, s->efd, s->peer_efd, s->live_fd, SHMQ_PEER_PIDFD);
	ep_apply_spin(ep);
	return ep;
}

static void ep_put(struct pl_sock *s, struct shmq_ep *ep)
{
	/* Not shmq_ep_close(): that would close the ring for the peer. */
	if (ep != s->ep)
		shmq_ep_detach(ep);
}

/*
 * Whether the peer is gone, and how. TCP closes a socket with a FIN when all
 * it received was read, with a RST when data was left unread; the kernel
 * does the same for the sockets of a process that died. The ring records
 * both: a consumer that closed (or died) with our bytes still unread is a
 * reset. Return: 0 peer there, 1 end-of-stream only, 2 reset.
 */
static int peer_gone(struct pl_sock *s, struct shmq_ep *ep)
{
	bool dead = atomic_load(&s->peer_dead);
	ssize_t w;

	if (atomic_load(&s->reset))
		return 2;
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
static int take_error(struct pl_sock *s, int after)
{
	int e = atomic_exchange(&s->pending_err, 0);

	return e ? -e : after;
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
	ep = ep_get(s);
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
	if ((r & EPOLLRDHUP) || atomic_load_explicit(&s->peer_dead, memory_order_relaxed)) {
		int g = peer_gone(s, ep);

		if (g == 2)
			r |= EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLHUP | EPOLLERR;
		else if (g == 1)
			r |= EPOLLIN | EPOLLRDHUP;
	}
	if ((r & EPOLLRDHUP) && s->shut_wr)
		r |= EPOLLHUP;
	if (bytes)
		*bytes = (int64_t)atomic_load_explicit(&s->st->rx_bytes, memory_order_relaxed) +
			 (int64_t)avail;
	ep_put(s, ep);
	return r;
}

uint32_t pl_sock_arm(struct pl_sock *s, uint32_t events, bool edge)
{
	struct shmq_ep *ep;
	uint32_t r;
	int ev = 0;

	if (s->kind != PL_CONN)
		return 0;
	if (events & (EPOLLIN | EPOLLRDHUP))
		ev |= SHMQ_POLLIN;
	if (events & EPOLLOUT)
		ev |= SHMQ_POLLOUT;
	ep = ep_get(s);
	ev = ev ? ev : SHMQ_POLLIN;
	r = shmq_to_epoll(edge ? shmq_arm_edge(ep, ev) : shmq_arm(ep, ev));
	ep_put(s, ep);
	return r;
}

void pl_sock_woken(struct pl_sock *s, unsigned kind)
{
	atomic_fetch_add_explicit(&pl_stats->wakeups, 1, memory_order_relaxed);
	if (s->kind == PL_LISTEN) {
		uint64_t v;

		atomic_store(&s->lwoken, 1);
		pl_ctl_drain(s->ctl);
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

/* ---- SO_RCVTIMEO / SO_SNDTIMEO ------------------------------------------------ */

static bool is_timeo(int level, int name)
{
	return level == SOL_SOCKET && (name == SO_RCVTIMEO_OLD || name == SO_SNDTIMEO_OLD ||
				       name == SO_RCVTIMEO_NEW || name == SO_SNDTIMEO_NEW);
}

static bool is_rcvtimeo(int name)
{
	return name == SO_RCVTIMEO_OLD || name == SO_RCVTIMEO_NEW;
}

/* tv_sec < 0 in what the application set (the kernel then times out at
 * once but reports {0, 0}, as it does for "no timeout"). */
static bool timeo_negative(int name, const void *val, socklen_t len)
{
	int64_t sec;

	if (name == SO_RCVTIMEO_NEW || name == SO_SNDTIMEO_NEW) {
		if (len < (socklen_t)(2 * sizeof(int64_t)))
			return false;
		memcpy(&sec, val, sizeof(sec));
	} else {
		struct timeval tv;

		if (len < (socklen_t)sizeof(tv))
			return false;
		memcpy(&tv, val, sizeof(tv));
		sec = tv.tv_sec;
	}
	return sec < 0;
}

/*
 * The kernel validates a timeout and rounds it to its tick; getsockopt must
 * give back exactly what the kernel would. So the value is set on a kernel
 * socket -- the socket's own (PENDING, LISTEN) or a scratch one (CONN) --
 * and what the kernel reports is kept.
 */
static int timeo_set(struct pl_sock *s, int fd, int name, const void *val, socklen_t len)
{
	int k = s->kind == PL_PENDING ? fd : s->kind == PL_LISTEN ? s->kfd :
		pl_real.socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct timeval tv = { 0, 0 };
	socklen_t tl = sizeof(tv);
	int rc, err;

	if (k < 0)
		return -1;
	rc = pl_real.setsockopt(k, SOL_SOCKET, name, val, len);
	err = errno;
	if (rc == 0 && pl_real.getsockopt(k, SOL_SOCKET, is_rcvtimeo(name) ? SO_RCVTIMEO : SO_SNDTIMEO,
					  &tv, &tl) == 0) {
		int64_t us = (int64_t)tv.tv_sec * 1000000 + tv.tv_usec;

		if (!us && timeo_negative(name, val, len))
			us = PL_TIMEO_NOW;
		atomic_store(is_rcvtimeo(name) ? &s->rcvtimeo_us : &s->sndtimeo_us, us);
	}
	if (s->kind == PL_CONN)
		pl_real.close(k);
	errno = err;
	return rc;
}

static int timeo_get(struct pl_sock *s, int name, void *val, socklen_t *len)
{
	int64_t us = atomic_load(is_rcvtimeo(name) ? &s->rcvtimeo_us : &s->sndtimeo_us);
	int64_t sec = us > 0 ? us / 1000000 : 0, usec = us > 0 ? us % 1000000 : 0;
	union {
		int64_t n[2];       /* SO_*TIMEO_NEW */
		struct timeval tv;  /* SO_*TIMEO_OLD */
	} v;
	socklen_t vl;

	if (!len)
		return fail(EFAULT);
	if ((int)*len < 0)
		return fail(EINVAL);
	if (name == SO_RCVTIMEO_NEW || name == SO_SNDTIMEO_NEW) {
		v.n[0] = sec;
		v.n[1] = usec;
		vl = sizeof(v.n);
	} else {
		v.tv = (struct timeval){ .tv_sec = (time_t)sec, .tv_usec = (suseconds_t)usec };
		vl = sizeof(v.tv);
	}
	/* The kernel copies what fits of a shorter buffer. */
	if (*len < vl)
		vl = *len;
	if (vl && !val)
		return fail(EFAULT);
	memcpy(val, &v, vl);
	*len = vl;
	return 0;
}

/*
 * How long a blocking call with timeout @us may still sleep, in ms for
 * shmq_wait()/poll(): -1 no limit, 0 the time is up. *@end_ns is the call's
 * deadline (CLOCK_MONOTONIC), set at its first wait (0 before). One budget
 * per call, as the kernel's timeo.
 */
static int timeo_ms(int64_t us, int64_t *end_ns)
{
	int64_t now, left;

	if (us == 0)
		return -1;
	if (us == PL_TIMEO_NOW)
		return 0;
	now = pl_now_ns();
	if (!*end_ns)
		*end_ns = now + us * 1000;
	left = *end_ns - now;
	if (left <= 0)
		return 0;
	left = (left + 999999) / 1000000;
	return left > INT_MAX ? INT_MAX : (int)left;
}

/* ---- socket, bind, listen ----------------------------------------------------- */

/*
 * Spare sockets. A socket() that connects over hostlane never uses its kernel
 * socket, yet making one and destroying it (when the connection's eventfd
 * takes its fd number) costs more than the rest of the connection setup.
 * So the kernel socket of such a connection is kept, untouched, as this
 * process's spare (a private fd; one per family), and the next socket()
 * hands out a dup of it: the application's fd is a real, new TCP socket for
 * anything that looks at it. While a dup is out (`pooled`) the layer keeps
 * what would change the socket to itself (O_NONBLOCK, FIONBIO); anything
 * else that reaches the kernel socket first makes it the fd's own
 * (pending_touch(): the spare is let go, the kept state applied), and so do
 * a connect() that goes to the kernel, fork() and execve(). A connection
 * over hostlane gives it back as it was. A socket that was never pooled
 * becomes the spare if nothing changed it (`kdirty`).
 */
static pthread_mutex_t spare_lock = PTHREAD_MUTEX_INITIALIZER;
static atomic_int spare_fd[2] = { -1, -1 };   /* AF_INET, AF_INET6 */
static struct pl_sock *spare_user[2];         /* the socket a dup is out to */

static unsigned fam_ix(int family)
{
	return family == AF_INET6;
}

/* A dup of the spare for new socket @s, now pooled (-1: none free). */
static int spare_take(struct pl_sock *s, int type)
{
	unsigned f = fam_ix(s->family);
	int fd = -1;

	pthread_mutex_lock(&spare_lock);
	if (spare_fd[f] >= 0 && !spare_user[f]) {
		fd = pl_real.fcntl(spare_fd[f], type & SOCK_CLOEXEC ? F_DUPFD_CLOEXEC : F_DUPFD, 0);
		if (fd >= 0) {
			spare_user[f] = s;
			s->pooled = true;
		}
	}
	pthread_mutex_unlock(&spare_lock);
	return fd;
}

/* @s (PENDING, at @fd) is about to reach its kernel socket: make the
 * socket the fd's own if it is the spare. Then it is not as new. */
static void pending_touch(struct pl_sock *s, int fd)
{
	unsigned f = fam_ix(s->family);
	int h = -1;

	s->kdirty = true;
	if (!s->pooled)
		return;
	pthread_mutex_lock(&spare_lock);
	if (spare_user[f] == s) {
		h = spare_fd[f];
		spare_fd[f] = -1;
		spare_user[f] = NULL;
	}
	s->pooled = false;
	pthread_mutex_unlock(&spare_lock);
	if (h >= 0)
		pl_real.close(h);  /* @fd keeps the socket */
	if (atomic_load(&s->nonblock) && pl_real.fcntl(fd, F_SETFL, O_NONBLOCK) == 0)
		s->knonblock = true;
}

/* PENDING socket @s left its kernel socket untouched: its fd number was
 * closed, or taken by a connection over hostlane. A spare it had a dup of
 * is free again; else @keep (another reference to its kernel socket, or
 * -1) becomes the spare if there is none. */
static void spare_back(struct pl_sock *s, int keep)
{
	unsigned f = fam_ix(s->family);

	pthread_mutex_lock(&spare_lock);
	if (s->pooled && spare_user[f] == s) {
		spare_user[f] = NULL;  /* the spare is as it was */
	} else if (keep >= 0 && spare_fd[f] < 0) {
		spare_fd[f] = keep;
		keep = -1;
	}
	s->pooled = false;
	pthread_mutex_unlock(&spare_lock);
	if (keep >= 0)
		pl_real.close(keep);
}

/* The socket a spare's dup is out to, or NULL. */
static struct pl_sock *spare_user_of(unsigned f)
{
	struct pl_sock *u;

	pthread_mutex_lock(&spare_lock);
	u = spare_user[f];
	pthread_mutex_unlock(&spare_lock);
	return u;
}

void pl_sock_spare_drop(void)
{
	for (unsigned f = 0; f < 2; f++) {
		struct pl_sock *u = spare_user_of(f), *x;

		if (!u)
			continue;
		for (int fd = pl_fd_next(0, &x); fd >= 0; fd = pl_fd_next(fd + 1, &x))
			if (x == u) {
				pending_touch(u, fd);
				break;
			}
	}
}

void pl_sock_pending_touch(struct pl_sock *s, int fd)
{
	pending_touch(s, fd);
}

PL_EXPORT int socket(int domain, int type, int protocol)
{
	struct pl_sock *s;
	bool mine;
	int fd;

	pl_libc_init();
	mine = !atomic_load(&pl_off) && (domain == AF_INET || domain == AF_INET6) &&
	       (type & 0xf) == SOCK_STREAM && (protocol == 0 || protocol == IPPROTO_TCP);
	if (!mine || !pl_ctl_get())  /* no endpoint: the kernel it is */
		return pl_real.socket(domain, type, protocol);
	s = sock_new(PL_PENDING, domain);
	fd = s ? spare_take(s, type) : -1;
	if (fd < 0) {
		fd = pl_real.socket(domain, type, protocol);
		if (fd < 0 || !s) {
			if (s) {
				s->local_refs = 1;
				sock_free(s);
			}
			return fd;
		}
		s->knonblock = !!(type & SOCK_NONBLOCK);
	}
	atomic_store(&s->nonblock, !!(type & SOCK_NONBLOCK));
	/* Known without asking the kernel at connect() (a PENDING socket has
	 * one fd: a dup stops tracking it); kept by F_SETFD, FIOCLEX. */
	s->fdflags = type & SOCK_CLOEXEC ? FD_CLOEXEC : 0;
	fd_add(fd, s);
	return fd;
}

PL_EXPORT int bind(int fd, const struct sockaddr *addr, socklen_t len)
{
	struct pl_sock *s = lookup(fd);

	int rc;

	if (s && s->kind == PL_LISTEN)
		return fail(EINVAL);
	if (s && s->kind == PL_PENDING)
		pending_touch(s, fd);
	rc = pl_real.bind(fd, addr, len);
	if (rc == 0 && s)
		s->bound = true;
	return rc;
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
	close_quiet(l);
	close_quiet(s->kfd);
	close_quiet(s->lefd);
	s->kfd = s->lefd = -1;
	return -1;
}

PL_EXPORT int listen(int fd, int backlog)
{
	struct pl_sock *s = lookup(fd);
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
	pending_touch(s, fd);
	if (pl_real.listen(fd, backlog) < 0)
		return -1;
	/* Listening on loopback only: not reachable from other pods. */
	if (pl_real.getsockname(fd, (struct sockaddr *)&ss, &sl) < 0 ||
	    pl_addr_from_sa((struct sockaddr *)&ss, sl, &a, &port) ||
	    (a.family == 4 && a.addr[0] == 127) ||
	    (a.family == 6 && pl_addr_local_only(&a) && a.addr[15] == 1)) {
		untrack(fd, s);
		return 0;
	}
	s->ctl = pl_ctl_get();
	hl_proto_init(&req, HL_POD_OP_LISTEN, 0);
	req.u.listen.port = port;
	if (!s->ctl || pl_ctl_call(s->ctl, &req, &rep, fds) || listener_swap(fd, s)) {
		untrack(fd, s);  /* a kernel-only listener then */
		return 0;
	}
	s->port = port;
	s->backlog = backlog;
	s->shref = pl_shref_alloc();
	/* Published, or the doorbell goes (nobody here would reset it). */
	if (s->published && !(s->published = pl_direct_publish(port, true)))
		pl_real.epoll_ctl(s->lep, EPOLL_CTL_DEL, pl_direct_bell_fd(), NULL);
	s->local = ss;
	s->local_len = sl;
	atomic_store(&s->lwoken, 1);
	s->kind = PL_LISTEN;
	pthread_mutex_lock(&socks_lock);
	s->next_listener = listeners;
	listeners = s;
	pthread_mutex_unlock(&socks_lock);
	return 0;
}

/* ---- connections ----------------------------------------------------------------- */

/*
 * Maps what a CONNECT reply / ACCEPT event handed over into @s (kind CONN)
 * and puts the eventfd at @fd (or a new number when @fd < 0). Takes @fds
 * (pl_pending order) and @g (the slot region, or NULL: fds[0] is the
 * connection's own region). Return: the fd number or -errno.
 */
static int conn_setup(struct pl_sock *s, struct pl_ctl *ctl, const struct hl_proto_conn *m,
		      int *fds, struct pl_region *g, int fd, bool cloexec)
{
	int rc = -EPROTO, own = fds[1], peer = fds[2];

	if (g) {
		/* The slot's eventfds and the peer's pidfd stay with the
		 * region. */
		s->slot_region = g;
		s->r = pl_region_shmq(g);
		own = pl_region_efd(g, m->pair, 0);
		peer = pl_region_efd(g, m->pair, 1);
		if (own < 0 || peer < 0)
			goto fail;
		/* A count the slot's previous connection left in the eventfd
		 * costs at most one spurious wake-up, which drains it. */
	} else {
		for (unsigned i = 0; i < 4; i++)
			fds[i] = pl_fd_hide(fds[i]);
		own = fds[1];
		peer = fds[2];
		s->r = shmq_region_map(fds[0]);
	}
	if (!s->r)
		goto fail;
	s->ep = shmq_ep_attach(s->r, m->pair, m->side);
	if (!s->ep)
		goto fail;
	if (fd >= 0)
		rc = pl_real.dup3(own, fd, cloexec ? O_CLOEXEC : 0);
	else
		rc = pl_real.fcntl(own, cloexec ? F_DUPFD_CLOEXEC : F_DUPFD, 0);
	if (rc < 0) {
		rc = -errno;
		goto fail;
	}
	close_quiet(fds[0]);
	s->efd = own;
	s->peer_efd = peer;
	s->live_fd = g ? pl_region_pidfd(g) : fds[3];
	shmq_ep_set_fds(s->ep, s->efd, s->peer_efd, s->live_fd, SHMQ_PEER_PIDFD);
	ep_apply_spin(s->ep);
	s->pair = m->pair;
	s->side = m->side;
	s->ctl = ctl;
	s->region_id = m->region_id;
	s->shref = pl_shref_alloc();
	s->kind = PL_CONN;
	s->st = pl_stats_conn_new(&s->st_own);
	s->st->fd = rc;
	s->st->side = m->side;
	atomic_fetch_add_explicit(&pl_stats->conns, 1, memory_order_relaxed);
	return rc;
fail:
	if (s->ep)
		shmq_ep_close(s->ep);
	if (g)
		pl_region_put(g);
	else
		shmq_region_close(s->r);
	s->ep = NULL;
	s->r = NULL;
	s->slot_region = NULL;
	for (unsigned i = 0; i < HL_PROTO_MAX_FDS; i++)
		close_quiet(fds[i]);
	pl_ctl_give_back(ctl, m);
	return rc < 0 ? rc : -EPROTO;
}

/* Puts the addresses of connection @s in its counters' record, which makes
 * it visible in `hostlanectl conns`. */
static void stats_describe(struct pl_sock *s)
{
	struct hl_stats_conn *r = s->st;

	if (pl_addr_from_sa((struct sockaddr *)&s->local, s->local_len, &r->local, &r->local_port))
		memset(&r->local, 0, sizeof(r->local));
	if (pl_addr_from_sa((struct sockaddr *)&s->peer, s->peer_len, &r->peer, &r->peer_port))
		memset(&r->peer, 0, sizeof(r->peer));
	pl_stats_conn_publish(r);
}

/* Gives a PENDING socket a local port, as the kernel's connect would: the
 * layer picks one (pl_port.c) unless the application bound the socket. */
static uint16_t local_port(struct pl_sock *s, int fd, int family)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	struct hl_proto_addr a;
	uint16_t port = 0;

	if (s->bound && pl_real.getsockname(fd, (struct sockaddr *)&ss, &sl) == 0 &&
	    pl_addr_from_sa((struct sockaddr *)&ss, sl, &a, &port) == 0 && port)
		return port;
	if (!s->bound && (port = pl_port_get()) != 0) {
		s->own_port = port;
		return port;
	}
	memset(&ss, 0, sizeof(ss));
	ss.ss_family = (sa_family_t)family;
	sl = family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
	if (pl_real.bind(fd, (struct sockaddr *)&ss, sl) < 0)
		return 0;
	sl = sizeof(ss);
	if (pl_real.getsockname(fd, (struct sockaddr *)&ss, &sl) < 0 ||
	    pl_addr_from_sa((struct sockaddr *)&ss, sl, &a, &port))
		return 0;
	return port;
}

PL_EXPORT int connect(int fd, const struct sockaddr *addr, socklen_t len)
{
	struct pl_sock *s = lookup(fd);
	struct hl_proto_msg req, rep;
	struct hl_proto_addr a, me;
	int fds[HL_PROTO_MAX_FDS], rc, fdflags, keep = -1;
	struct pl_region *g;
	uint16_t port, lport;

	if (!s)
		return pl_real.connect(fd, addr, len);
	if (s->kind == PL_CONN) {
		/* The kernel reports a completed nonblocking connect once with 0. */
		if (atomic_exchange(&s->connecting, 0))
			return 0;
		return fail(EISCONN);
	}
	if (s->kind == PL_LISTEN)
		return fail(EINVAL);
	if (pl_addr_from_sa(addr, len, &a, &port) || pl_addr_local_only(&a) || !port)
		goto kernel;
	s->ctl = pl_ctl_get();
	lport = local_port(s, fd, s->family);
	if (!s->ctl || !lport)
		goto kernel;
	fdflags = s->fdflags >= 0 ? s->fdflags : pl_real.fcntl(fd, F_GETFD);
	/* A kernel socket as new, and no spare yet: it becomes the spare if
	 * the connection goes over hostlane. */
	if (!s->pooled && !s->kdirty && spare_fd[fam_ix(s->family)] < 0)
		keep = pl_fd_dup_hidden(fd);
	if (pl_direct_connect(&a, port, &rep.u.conn, &g) == 0) {
		/* Set up with the listener process alone (docs/monitor.md). */
		uint32_t slot = rep.u.conn.pair;

		if (pl_direct_announce(g, slot, port, lport) == 0) {
			for (unsigned i = 0; i < HL_PROTO_MAX_FDS; i++)
				fds[i] = -1;
			rc = conn_setup(s, s->ctl, &rep.u.conn, fds, g, fd,
					fdflags >= 0 && (fdflags & FD_CLOEXEC));
			if (rc < 0)
				goto kernel;  /* the listener reads end-of-stream */
			atomic_fetch_add_explicit(&pl_stats->direct, 1, memory_order_relaxed);
			goto connected;
		}
		/* The port went away meanwhile: the monitor knows the rest. */
	}
	hl_proto_init(&req, HL_POD_OP_CONNECT, 0);
	req.u.connect.addr = a;
	req.u.connect.port = port;
	req.u.connect.local_port = lport;
	if (pl_ctl_version(s->ctl) >= 2)
		req.u.connect.flags = HL_CONNECT_F_SLOT;
	if (pl_ctl_call(s->ctl, &req, &rep, fds))
		goto kernel;  /* not a hostlane listener: the kernel decides */
	if (pl_ctl_take_conn(s->ctl, &rep.u.conn, fds, (int)rep.hdr.nfds, &g))
		goto kernel;
	rc = conn_setup(s, s->ctl, &rep.u.conn, fds, g, fd, fdflags >= 0 && (fdflags & FD_CLOEXEC));
	if (rc < 0)
		goto kernel;
connected:
	if (keep >= 0 && s->knonblock)
		pl_real.fcntl(keep, F_SETFL, 0);  /* as socket() makes them */
	spare_back(s, keep);
	s->peer_len = pl_addr_to_sa(&a, port, s->family, &s->peer);
	if (pl_ctl_pod_addr(s->ctl, a.family, &me))
		me = a;
	s->local_len = pl_addr_to_sa(&me, lport, s->family, &s->local);
	stats_describe(s);
	/* The epoll sets that hold the fd lost the kernel socket with it. */
	pl_poll_conn_upgraded(s, fd);
	if (atomic_load(&s->nonblock)) {
		atomic_store(&s->connecting, 1);
		return fail(EINPROGRESS);  /* as the kernel; writable at once */
	}
	return 0;
kernel:
	atomic_fetch_add_explicit(&pl_stats->fallbacks, 1, memory_order_relaxed);
	if (keep >= 0)
		pl_real.close(keep);
	pl_port_put(s->own_port);  /* the kernel picks its own */
	s->own_port = 0;
	if (s->kind == PL_PENDING)
		untrack(fd, s);
	return pl_real.connect(fd, addr, len);
}

/* The listener whose accept() is draining the control channel. */
static __thread struct pl_sock *accepting;

void pl_sock_ctl_broken(struct pl_ctl *c)
{
	pthread_mutex_lock(&socks_lock);
	for (struct pl_sock *s = listeners; s; s = s->next_listener)
		if (s->ctl == c && s->lep >= 0)
			pl_real.epoll_ctl(s->lep, EPOLL_CTL_DEL, pl_ctl_fd(c), NULL);
	pthread_mutex_unlock(&socks_lock);
}

int pl_sock_deliver_accept(struct pl_ctl *c, const struct hl_proto_conn *conn, int *fds,
			   struct pl_region *g)
{
	struct pl_pending *p;
	struct pl_sock *s;
	uint64_t one = 1;

	pthread_mutex_lock(&socks_lock);
	for (s = listeners; s; s = s->next_listener)
		if (s->port == conn->local_port)
			break;
	if (s)
		pthread_mutex_lock(&s->lock);
	pthread_mutex_unlock(&socks_lock);
	if (!s)
		return -1;
	if (s->q_len >= MAX_ACCEPT_QUEUE || !(p = calloc(1, sizeof(*p)))) {
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
	struct pl_sock *s = sock_new(PL_PENDING, l->family);
	struct hl_proto_conn c = p->c;
	struct hl_proto_addr me;
	int fd;

	if (!s) {
		pending_free(p);
		return fail(ENOMEM);
	}
	fd = conn_setup(s, p->ctl, &p->c, p->fds, p->g, -1, flags & SOCK_CLOEXEC);
	free(p);
	if (fd < 0) {
		s->local_refs = 1;
		sock_free(s);
		return fail(-fd);
	}
	atomic_store(&s->nonblock, !!(flags & SOCK_NONBLOCK));
	/* An accepted socket inherits the listener's options, timeouts too. */
	atomic_store(&s->rcvtimeo_us, atomic_load(&l->rcvtimeo_us));
	atomic_store(&s->sndtimeo_us, atomic_load(&l->sndtimeo_us));
	s->peer_len = pl_addr_to_sa(&c.peer, c.peer_port, l->family, &s->peer);
	if (pl_ctl_pod_addr(l->ctl, c.peer.family, &me))
		me = c.peer;
	s->local_len = pl_addr_to_sa(&me, l->port, l->family, &s->local);
	stats_describe(s);
	fd_add(fd, s);
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
	struct pl_sock *s = lookup(fd);
	int64_t spin_end = 0, end = 0, look = 0;
	bool first = true;

	if (!s || s->kind != PL_LISTEN)
		return pl_real.accept4(fd, addr, alen, flags);
	for (;;) {
		struct pl_pending *p;
		struct epoll_event ev[4];
		bool kernel = false, ctl = false, peer = false;
		int n, timeout = 0;

		accept_serve(s);
		p = queue_pop(s);
		if (p)
			return accept_hostlane(s, p, addr, alen, flags);
		/* The fd is the epoll set of the kernel listener, the accept
		 * queue and the control channel: ask it what is ready rather
		 * than try them (a failing kernel accept allocates a socket). */
		if (!atomic_load(&s->nonblock)) {
			int64_t now = pl_now_ns();

			/* Spin first: an accept event that finds us polling
			 * costs the monitor no wake-up. */
			if (!spin_end) {
				spin_end = now + (int64_t)pl_spin_ns();
				look = now + ACCEPT_KERNEL_LOOK_NS;
			}
			if (now < spin_end && now < look)
				continue;
			look = now + ACCEPT_KERNEL_LOOK_NS;
			if (!first) {
				int ms = timeo_ms(atomic_load(&s->rcvtimeo_us), &end);

				if (!ms)
					return fail(EAGAIN);  /* SO_RCVTIMEO ran out */
				timeout = now < spin_end ? 0 : ms;
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
		n = pl_real.epoll_wait(fd, ev, 4, timeout);
		if (timeout)
			pl_direct_wait_end();
		/* A signal handler ran: the kernel's accept returns EINTR too
		 * (it restarts only with SA_RESTART, which we cannot see;
		 * callers loop on EINTR). */
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
			accepting = NULL;
			if (s->q_head)
				continue;
		}
		if (kernel) {
			int k = pl_real.accept4(s->kfd, addr, alen, flags);

			if (k >= 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
				return k;
		}
		if (n <= 0 && timeout == 0 && atomic_load(&s->nonblock))
			return fail(EAGAIN);
	}
}

PL_EXPORT int accept(int fd, struct sockaddr *addr, socklen_t *alen)
{
	return accept4(fd, addr, alen, 0);
}

/* ---- data path ------------------------------------------------------------------- */

/* A blocking wait of a data call that ended (spun or slept). */
static void count_wait(struct pl_sock *s)
{
	atomic_fetch_add_explicit(&s->st->wakeups, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&pl_stats->wakeups, 1, memory_order_relaxed);
}

static void count(struct pl_sock *s, bool tx, size_t n)
{
	_Atomic uint64_t *b = tx ? &s->st->tx_bytes : &s->st->rx_bytes;
	_Atomic uint64_t *c = tx ? &s->st->tx_calls : &s->st->rx_calls;

	atomic_fetch_add_explicit(b, n, memory_order_relaxed);
	atomic_fetch_add_explicit(c, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(tx ? &pl_stats->tx_bytes : &pl_stats->rx_bytes, n,
				  memory_order_relaxed);
	atomic_fetch_add_explicit(tx ? &pl_stats->tx_calls : &pl_stats->rx_calls, 1,
				  memory_order_relaxed);
}

/* Nothing more to read now (@r: end-of-stream 0, or -EAGAIN after the peer
 * died): end-of-stream, or a reset's error once. */
static ssize_t read_end(struct pl_sock *s, struct shmq_ep *ep, ssize_t r)
{
	int g = peer_gone(s, ep);

	if (g == 2)
		return take_error(s, 0);
	if (r == 0 || g == 1) {
		atomic_store(&s->eof_seen, 1);
		return 0;
	}
	return -EAGAIN;
}

/* Reads into one buffer. @wait: may block when nothing was read yet. */
static ssize_t conn_read(struct pl_sock *s, struct shmq_ep *ep, char *buf, size_t len,
			 int flags, bool wait)
{
	bool nb = !wait || (flags & MSG_DONTWAIT) || atomic_load(&s->nonblock);
	size_t done = 0;
	int64_t end = 0;

	if (s->shut_rd || !len)
		return 0;
	for (;;) {
		ssize_t r = shmq_read(ep, buf + done, len - done,
				      (flags & MSG_PEEK) ? SHMQ_PEEK : 0);

		if (r > 0) {
			done += (size_t)r;
			if ((flags & MSG_PEEK) || !(flags & MSG_WAITALL) || done == len)
				return (ssize_t)done;
			continue;
		}
		if (r != 0 && r != -EAGAIN)
			return done ? (ssize_t)done : -ECONNRESET;
		if (r == 0)
			return done ? (ssize_t)done : read_end(s, ep, 0);
		if (atomic_load(&s->peer_dead)) {
			if (done)
				return (ssize_t)done;
			if ((r = read_end(s, ep, -EAGAIN)) != -EAGAIN)
				return r;
		}
		int ms = nb ? 0 : timeo_ms(atomic_load(&s->rcvtimeo_us), &end);

		if (!ms)  /* nonblocking, or SO_RCVTIMEO ran out */
			return done ? (ssize_t)done : -EAGAIN;
		int w = shmq_wait(ep, SHMQ_POLLIN, ms);

		count_wait(s);
		if (w == -ECONNRESET)
			atomic_store(&s->peer_dead, 1);
	}
}

static ssize_t conn_recvv(struct pl_sock *s, const struct iovec *iov, size_t n, int flags)
{
	struct shmq_ep *ep;
	size_t total = 0;
	ssize_t r = 0;

	pthread_mutex_lock(&s->rx_lock);
	ep = ep_get(s);
	/* MSG_PEEK reads the first buffer only and consumes nothing. */
	for (size_t i = 0; i < n && !(flags & MSG_PEEK); i++) {
		if (!iov[i].iov_len)
			continue;
		r = conn_read(s, ep, iov[i].iov_base, iov[i].iov_len, flags, total == 0);
		if (r <= 0)
			break;
		total += (size_t)r;
		if ((size_t)r < iov[i].iov_len)
			break;
	}
	if ((flags & MSG_PEEK) && n)
		r = conn_read(s, ep, iov[0].iov_base, iov[0].iov_len, flags, true);
	ep_put(s, ep);
	pthread_mutex_unlock(&s->rx_lock);
	if (flags & MSG_PEEK)
		return r < 0 ? fail((int)-r) : r;
	if (total) {
		count(s, false, total);
		return (ssize_t)total;
	}
	if (r < 0)
		return fail((int)-r);
	return 0;
}

static ssize_t conn_recv(struct pl_sock *s, void *buf, size_t len, int flags)
{
	struct iovec iov = { buf, len };

	if (!len)
		return 0;
	return conn_recvv(s, &iov, 1, flags);
}

static ssize_t send_error(struct pl_sock *s, int err, int flags)
{
	if (err == -EPIPE && !(flags & MSG_NOSIGNAL))
		raise(SIGPIPE);
	(void)s;
	return fail(-err);
}

/* The peer cannot take more: a reset's error once, then EPIPE. */
static ssize_t write_end(struct pl_sock *s, struct shmq_ep *ep)
{
	peer_gone(s, ep);
	return take_error(s, -EPIPE);
}

static ssize_t conn_write(struct pl_sock *s, struct shmq_ep *ep, const char *buf, size_t len,
			  int flags)
{
	bool nb = (flags & MSG_DONTWAIT) || atomic_load(&s->nonblock);
	size_t done = 0;
	int64_t end = 0;

	if (s->shut_wr)
		return -EPIPE;
	/* Writing after the peer's end-of-stream or death: was it a reset? */
	if ((atomic_load(&s->eof_seen) || atomic_load(&s->peer_dead) || atomic_load(&s->reset)) &&
	    peer_gone(s, ep) == 2)
		return take_error(s, -EPIPE);
	while (done < len) {
		ssize_t w = shmq_write(ep, buf + done, len - done);

		if (w > 0) {
			done += (size_t)w;
			continue;
		}
		if (w == -EPIPE || (w == -EAGAIN && atomic_load(&s->peer_dead)))
			return done ? (ssize_t)done : write_end(s, ep);
		if (w != -EAGAIN)
			return done ? (ssize_t)done : -ECONNRESET;
		int ms = nb ? 0 : timeo_ms(atomic_load(&s->sndtimeo_us), &end);

		if (!ms) {  /* nonblocking, or SO_SNDTIMEO ran out */
			/* The next writable is a new edge for EPOLLET. */
			atomic_fetch_add_explicit(&s->tx_full, 1, memory_order_relaxed);
			return done ? (ssize_t)done : -EAGAIN;
		}
		int rc = shmq_wait(ep, SHMQ_POLLOUT, ms);

		count_wait(s);
		if (rc == -ECONNRESET)
			atomic_store(&s->peer_dead, 1);
	}
	return (ssize_t)done;
}

/*
 * Small gathers go into the ring as one write, as the kernel sends them as
 * one segment: a reader never wakes to the first iovec without the rest.
 */
#define GATHER_MAX 4096

static ssize_t conn_sendv(struct pl_sock *s, const struct iovec *iov, size_t n, int flags)
{
	char gather[GATHER_MAX];
	struct iovec one;
	struct shmq_ep *ep;
	size_t total = 0, sum = 0;
	ssize_t w = 0;

	for (size_t i = 0; i < n && sum <= GATHER_MAX; i++)
		sum = iov[i].iov_len > GATHER_MAX - sum ? GATHER_MAX + 1 : sum + iov[i].iov_len;
	if (n > 1 && sum <= GATHER_MAX) {
		size_t off = 0;

		for (size_t i = 0; i < n; i++) {
			if (iov[i].iov_len)
				memcpy(gather + off, iov[i].iov_base, iov[i].iov_len);
			off += iov[i].iov_len;
		}
		one = (struct iovec){ gather, sum };
		iov = &one;
		n = 1;
	}
	pthread_mutex_lock(&s->tx_lock);
	ep = ep_get(s);
	for (size_t i = 0; i < n; i++) {
		if (!iov[i].iov_len)
			continue;
		w = conn_write(s, ep, iov[i].iov_base, iov[i].iov_len, flags);
		if (w <= 0)
			break;
		total += (size_t)w;
		if ((size_t)w < iov[i].iov_len)
			break;
	}
	ep_put(s, ep);
	pthread_mutex_unlock(&s->tx_lock);
	if (total) {
		count(s, true, total);
		return (ssize_t)total;
	}
	return w < 0 ? send_error(s, (int)w, flags) : 0;
}

static ssize_t conn_send(struct pl_sock *s, const void *buf, size_t len, int flags)
{
	struct iovec iov = { (void *)buf, len };

	if (!len)
		return s->shut_wr ? send_error(s, -EPIPE, flags) : 0;
	return conn_sendv(s, &iov, 1, flags);
}

/* Fortified variants the application may call (no public prototypes). */
ssize_t __read_chk(int fd, void *buf, size_t len, size_t buflen);
ssize_t __recv_chk(int fd, void *buf, size_t len, size_t buflen, int flags);
ssize_t __recvfrom_chk(int fd, void *buf, size_t len, size_t buflen, int flags,
		       struct sockaddr *addr, socklen_t *alen);

#define CONN(fd) struct pl_sock *s = lookup(fd); if (s && s->kind == PL_CONN)

PL_EXPORT ssize_t read(int fd, void *buf, size_t len)
{
	CONN(fd) return conn_recv(s, buf, len, 0);
	return pl_real.read(fd, buf, len);
}

PL_EXPORT ssize_t __read_chk(int fd, void *buf, size_t len, size_t buflen)
{
	if (len > buflen)
		abort();
	return read(fd, buf, len);
}

PL_EXPORT ssize_t write(int fd, const void *buf, size_t len)
{
	CONN(fd) return conn_send(s, buf, len, 0);
	return pl_real.write(fd, buf, len);
}

PL_EXPORT ssize_t readv(int fd, const struct iovec *iov, int n)
{
	CONN(fd) return n < 0 ? fail(EINVAL) : conn_recvv(s, iov, (size_t)n, 0);
	return pl_real.readv(fd, iov, n);
}

PL_EXPORT ssize_t writev(int fd, const struct iovec *iov, int n)
{
	CONN(fd) return n < 0 ? fail(EINVAL) : conn_sendv(s, iov, (size_t)n, 0);
	return pl_real.writev(fd, iov, n);
}

PL_EXPORT ssize_t recv(int fd, void *buf, size_t len, int flags)
{
	CONN(fd) return conn_recv(s, buf, len, flags);
	return pl_real.recv(fd, buf, len, flags);
}

PL_EXPORT ssize_t __recv_chk(int fd, void *buf, size_t len, size_t buflen, int flags)
{
	if (len > buflen)
		abort();
	return recv(fd, buf, len, flags);
}

PL_EXPORT ssize_t send(int fd, const void *buf, size_t len, int flags)
{
	CONN(fd) return conn_send(s, buf, len, flags);
	return pl_real.send(fd, buf, len, flags);
}

PL_EXPORT ssize_t recvfrom(int fd, void *buf, size_t len, int flags, struct sockaddr *addr,
			   socklen_t *alen)
{
	CONN(fd) {
		ssize_t r = conn_recv(s, buf, len, flags);

		/* A connected TCP socket reports no source address. */
		if (r >= 0 && addr && alen)
			*alen = 0;
		return r;
	}
	return pl_real.recvfrom(fd, buf, len, flags, addr, alen);
}

PL_EXPORT ssize_t __recvfrom_chk(int fd, void *buf, size_t len, size_t buflen, int flags,
				 struct sockaddr *addr, socklen_t *alen)
{
	if (len > buflen)
		abort();
	return recvfrom(fd, buf, len, flags, addr, alen);
}

PL_EXPORT ssize_t sendto(int fd, const void *buf, size_t len, int flags,
			 const struct sockaddr *addr, socklen_t alen)
{
	CONN(fd) return conn_send(s, buf, len, flags);
	if (s && s->kind == PL_PENDING)
		pending_touch(s, fd);  /* MSG_FASTOPEN connects */
	return pl_real.sendto(fd, buf, len, flags, addr, alen);
}

PL_EXPORT ssize_t recvmsg(int fd, struct msghdr *m, int flags)
{
	CONN(fd) {
		ssize_t r = conn_recvv(s, m->msg_iov, m->msg_iovlen, flags);

		if (r >= 0) {
			m->msg_namelen = 0;  /* TCP: no source address */
			m->msg_controllen = 0;
			m->msg_flags = 0;
		}
		return r;
	}
	return pl_real.recvmsg(fd, m, flags);
}

PL_EXPORT ssize_t sendmsg(int fd, const struct msghdr *m, int flags)
{
	CONN(fd) return conn_sendv(s, m->msg_iov, m->msg_iovlen, flags);
	if (s && s->kind == PL_PENDING)
		pending_touch(s, fd);  /* MSG_FASTOPEN connects */
	return pl_real.sendmsg(fd, m, flags);
}

PL_EXPORT ssize_t sendfile(int out, int in, off_t *off, size_t count)
{
	struct pl_sock *s = lookup(out);
	char buf[64 << 10];
	size_t done = 0;

	if (!s || s->kind != PL_CONN)
		return pl_real.sendfile(out, in, off, count);
	while (done < count) {
		size_t want = count - done < sizeof(buf) ? count - done : sizeof(buf);
		ssize_t r = off ? pread(in, buf, want, *off) : pl_real.read(in, buf, want);
		ssize_t w;

		if (r <= 0) {
			if (r < 0 && !done)
				return -1;
			break;
		}
		w = conn_send(s, buf, (size_t)r, 0);
		if (w < 0) {
			if (!done)
				return -1;
			break;
		}
		if (off)
			*off += w;
		else if (w < r)
			lseek(in, w - r, SEEK_CUR);
		done += (size_t)w;
		if (w < r)
			break;
	}
	return (ssize_t)done;
}

PL_EXPORT ssize_t sendfile64(int out, int in, off_t *off, size_t count)
{
	return sendfile(out, in, off, count);
}

/* ---- close, shutdown, dup ------------------------------------------------------------- */

PL_EXPORT int close(int fd)
{
	struct pl_sock *s = lookup(fd);
	int rc;

	if (!s) {
		if (pl_fd_count() && pl_ep_get(fd))
			pl_poll_epfd_closed(fd);
		return pl_real.close(fd);
	}
	epsets_forget_fd(s, fd);
	rc = pl_real.close(fd);
	fd_gone(fd, s);
	return rc;
}

static bool conn_closed(struct pl_sock *s);

PL_EXPORT int shutdown(int fd, int how)
{
	struct pl_sock *s = lookup(fd);

	if (s && s->kind == PL_PENDING)
		pending_touch(s, fd);  /* it marks even an unconnected socket */
	if (!s || s->kind == PL_PENDING)
		return pl_real.shutdown(fd, how);
	if (s->kind == PL_LISTEN)
		return pl_real.shutdown(s->kfd, how);
	if (how != SHUT_RD && how != SHUT_WR && how != SHUT_RDWR)
		return fail(EINVAL);
	if (conn_closed(s))
		return fail(ENOTCONN);
	if (how != SHUT_WR)
		s->shut_rd = true;
	if (how != SHUT_RD) {
		pthread_mutex_lock(&s->tx_lock);
		s->shut_wr = true;
		shmq_shutdown(s->ep);
		pthread_mutex_unlock(&s->tx_lock);
	}
	return 0;
}

/* Both directions ended (our FIN and the peer's, or a reset): the kernel's
 * socket is in CLOSE then, where shutdown() says ENOTCONN. */
static bool conn_closed(struct pl_sock *s)
{
	struct shmq_ep *ep;
	bool closed;

	if (atomic_load(&s->reset))
		return true;
	if (!s->shut_wr)
		return false;
	ep = ep_get(s);
	closed = (shmq_poll(ep) & SHMQ_POLLHUP) || atomic_load(&s->peer_dead);
	ep_put(s, ep);
	return closed;
}

/* @nfd now names what @ofd names (after a successful real dup). */
static int dup_done(int nfd, struct pl_sock *s, struct pl_sock *old_at_nfd)
{
	if (nfd < 0)
		return nfd;
	if (old_at_nfd)
		fd_gone(nfd, old_at_nfd);
	if (s)
		fd_add(nfd, s);
	return nfd;
}

/* dup of a PENDING socket: it stays a kernel socket (two numbers cannot
 * both be switched to a hostlane connection). */
static struct pl_sock *dup_source(int fd)
{
	struct pl_sock *s = lookup(fd);

	if (s && s->kind == PL_PENDING) {
		untrack(fd, s);
		return NULL;
	}
	return s;
}

PL_EXPORT int dup(int fd)
{
	struct pl_sock *s = dup_source(fd);

	return dup_done(pl_real.dup(fd), s, NULL);
}

PL_EXPORT int dup3(int ofd, int nfd, int flags)
{
	struct pl_sock *s, *t;

	if (ofd == nfd)
		return pl_real.dup3(ofd, nfd, flags);
	s = dup_source(ofd);
	t = lookup(nfd);
	if (t)
		epsets_forget_fd(t, nfd);
	return dup_done(pl_real.dup3(ofd, nfd, flags), s, t);
}

PL_EXPORT int dup2(int ofd, int nfd)
{
	struct pl_sock *s, *t;

	if (ofd == nfd)
		return pl_real.dup2(ofd, nfd);
	s = dup_source(ofd);
	t = lookup(nfd);
	if (t)
		epsets_forget_fd(t, nfd);
	return dup_done(pl_real.dup2(ofd, nfd), s, t);
}

static int do_fcntl(int fd, int cmd, long arg)
{
	struct pl_sock *s = lookup(fd);

	if (!s)
		return pl_real.fcntl(fd, cmd, arg);
	switch (cmd) {
	case F_DUPFD:
	case F_DUPFD_CLOEXEC:
		s = dup_source(fd);
		return dup_done(pl_real.fcntl(fd, cmd, arg), s, NULL);
	case F_GETFL:
		if (s->kind == PL_PENDING && !s->pooled)
			break;
		return O_RDWR | (atomic_load(&s->nonblock) ? O_NONBLOCK : 0);
	case F_SETFL:
		atomic_store(&s->nonblock, !!(arg & O_NONBLOCK));
		if (s->kind == PL_PENDING && !s->pooled) {
			s->knonblock = !!(arg & O_NONBLOCK);
			break;
		}
		return 0;  /* pooled: applied if the kernel socket is ever used */
	case F_SETFD:
		s->fdflags = -1;  /* asked again if it matters */
		break;
	case F_GETFD:
		break;
	default:
		if (s->kind == PL_PENDING)
			pending_touch(s, fd);  /* owner, signal, lease: the file's */
		break;
	}
	return pl_real.fcntl(fd, cmd, arg);
}

PL_EXPORT int fcntl(int fd, int cmd, ...)
{
	va_list ap;
	long arg;

	va_start(ap, cmd);
	arg = va_arg(ap, long);  /* every command's argument fits a long */
	va_end(ap);
	return do_fcntl(fd, cmd, arg);
}

PL_EXPORT int fcntl64(int fd, int cmd, ...)
{
	va_list ap;
	long arg;

	va_start(ap, cmd);
	arg = va_arg(ap, long);
	va_end(ap);
	return do_fcntl(fd, cmd, arg);
}

PL_EXPORT int ioctl(int fd, unsigned long req, ...)
{
	struct pl_sock *s;
	va_list ap;
	void *arg;

	va_start(ap, req);
	arg = va_arg(ap, void *);
	va_end(ap);
	s = lookup(fd);
	if (s && (req == FIOCLEX || req == FIONCLEX))
		s->fdflags = -1;
	if (s && s->kind == PL_PENDING && req == FIONBIO && s->pooled) {
		atomic_store(&s->nonblock, !!*(int *)arg);
		return 0;  /* applied if the kernel socket is ever used */
	}
	if (s && s->kind == PL_PENDING && req != FIOCLEX && req != FIONCLEX) {
		if (req == FIONBIO)
			s->knonblock = !!*(int *)arg;
		else
			pending_touch(s, fd);
	}
	if (s && s->kind != PL_PENDING) {
		if (req == FIONBIO) {
			atomic_store(&s->nonblock, !!*(int *)arg);
			return 0;
		}
		if (req == FIONREAD && s->kind == PL_CONN) {
			struct shmq_ep *ep = ep_get(s);
			ssize_t n = shmq_readable(ep);

			ep_put(s, ep);
			*(int *)arg = n > 0 ? (int)n : 0;
			return 0;
		}
		if (s->kind == PL_LISTEN)
			return pl_real.ioctl(s->kfd, req, arg);
		return fail(ENOTTY);
	}
	if (s && req == FIONBIO)
		atomic_store(&s->nonblock, !!*(int *)arg);
	return pl_real.ioctl(fd, req, arg);
}

/* ---- options and names ------------------------------------------------------------ */

static int *opt_slot(struct pl_sock *s, int level, int name)
{
	if (level == IPPROTO_TCP && name == TCP_NODELAY)
		return &s->opt_nodelay;
	if (level != SOL_SOCKET)
		return NULL;
	switch (name) {
	case SO_REUSEADDR: return &s->opt_reuseaddr;
	case SO_REUSEPORT: return &s->opt_reuseport;
	case SO_KEEPALIVE: return &s->opt_keepalive;
	case SO_RCVBUF: return &s->opt_rcvbuf;
	case SO_SNDBUF: return &s->opt_sndbuf;
	default: return NULL;
	}
}

PL_EXPORT int setsockopt(int fd, int level, int name, const void *val, socklen_t len)
{
	struct pl_sock *s = lookup(fd);
	int *slot;

	if (!s)
		return pl_real.setsockopt(fd, level, name, val, len);
	if (is_timeo(level, name))
		return timeo_set(s, fd, name, val, len);
	slot = opt_slot(s, level, name);
	if (slot && val && len >= (socklen_t)sizeof(int))
		*slot = *(const int *)val;
	if (s->kind == PL_PENDING) {
		pending_touch(s, fd);
		return pl_real.setsockopt(fd, level, name, val, len);
	}
	if (s->kind == PL_LISTEN)
		return pl_real.setsockopt(s->kfd, level, name, val, len);
	if (!val && len)
		return fail(EFAULT);
	return 0;  /* remembered; the ring has no use for it */
}

PL_EXPORT int getsockopt(int fd, int level, int name, void *val, socklen_t *len)
{
	struct pl_sock *s = lookup(fd);
	int v, *slot;

	if (!s || s->kind == PL_PENDING)
		return pl_real.getsockopt(fd, level, name, val, len);
	if (s->kind == PL_LISTEN)
		return pl_real.getsockopt(s->kfd, level, name, val, len);
	if (is_timeo(level, name))
		return timeo_get(s, name, val, len);
	if (!val || !len || *len < (socklen_t)sizeof(int))
		return fail(EINVAL);
	slot = opt_slot(s, level, name);
	if (slot) {
		v = *slot;
	} else if (level == SOL_SOCKET && name == SO_ERROR) {
		v = s->so_error ? s->so_error : -take_error(s, 0);
		s->so_error = 0;
	} else if (level == SOL_SOCKET && name == SO_TYPE) {
		v = SOCK_STREAM;
	} else if (level == SOL_SOCKET && name == SO_DOMAIN) {
		v = s->family;
	} else if (level == SOL_SOCKET && name == SO_PROTOCOL) {
		v = IPPROTO_TCP;
	} else if (level == SOL_SOCKET && name == SO_ACCEPTCONN) {
		v = 0;
	} else {
		return fail(ENOPROTOOPT);
	}
	memcpy(val, &v, sizeof(v));
	*len = sizeof(v);
	return 0;
}

PL_EXPORT int getsockname(int fd, struct sockaddr *addr, socklen_t *len)
{
	struct pl_sock *s = lookup(fd);

	if (!s || s->kind == PL_PENDING)
		return pl_real.getsockname(fd, addr, len);
	if (s->kind == PL_LISTEN)
		return pl_real.getsockname(s->kfd, addr, len);
	if (!addr || !len)
		return fail(EFAULT);
	pl_addr_copy_out(&s->local, s->local_len, addr, len);
	return 0;
}

PL_EXPORT int getpeername(int fd, struct sockaddr *addr, socklen_t *len)
{
	struct pl_sock *s = lookup(fd);

	if (!s || s->kind == PL_PENDING)
		return pl_real.getpeername(fd, addr, len);
	if (s->kind == PL_LISTEN)
		return fail(ENOTCONN);
	if (!addr || !len)
		return fail(EFAULT);
	pl_addr_copy_out(&s->peer, s->peer_len, addr, len);
	return 0;
}

/* ---- fork -------------------------------------------------------------------------- */

/* In the child: this process now holds every connection too. */
void pl_sock_atfork_child(void)
{
	pthread_mutex_init(&socks_lock, NULL);
	/* The parent's spares stay the parent's. */
	pthread_mutex_init(&spare_lock, NULL);
	for (unsigned f = 0; f < 2; f++) {
		if (spare_fd[f] >= 0)
			pl_real.close(spare_fd[f]);
		spare_fd[f] = -1;
		spare_user[f] = NULL;
	}
	for (struct pl_sock *s = socks; s; s = s->all_next) {
		pthread_mutex_init(&s->lock, NULL);
		pthread_mutex_init(&s->rx_lock, NULL);
		pthread_mutex_init(&s->tx_lock, NULL);
		if (s->kind != PL_PENDING)
			pl_shref_join(s->shref);
		if (s->kind == PL_CONN)
			atomic_store(&s->forked, 1);
	}
}

void pl_sock_atfork_prepare(void)
{
	int bell = pl_direct_bell_fd();
	struct pl_ctl *c = NULL;
	bool any = false;

	/* Parent and child share what the application's fds name: a spare
	 * one of them names is nobody's spare any more. */
	pl_sock_spare_drop();
	if (bell < 0)
		return;
	pthread_mutex_lock(&socks_lock);
	for (struct pl_sock *s = listeners; s; s = s->next_listener)
		if (s->published) {
			any = true;
			c = s->ctl;
			s->published = false;
			pl_real.epoll_ctl(s->lep, EPOLL_CTL_DEL, bell, NULL);
		}
	pthread_mutex_unlock(&socks_lock);
	if (!any)
		return;
	/* The child shares the listeners: from now on connections to them go
	 * through the monitor, which hands them to whichever process reads
	 * the channel first. */
	pl_direct_off();
	if (pl_ctl_own(c)) {
		struct hl_proto_msg req, rep;
		int fds[HL_PROTO_MAX_FDS];

		hl_proto_init(&req, HL_POD_OP_DIRECT_OFF, 0);
		pl_ctl_call(c, &req, &rep, fds);
	}
}

void pl_sock_atfork_parent(void)
{
	pthread_mutex_lock(&socks_lock);
	for (struct pl_sock *s = socks; s; s = s->all_next)
		if (s->kind == PL_CONN)
			atomic_store(&s->forked, 1);
	pthread_mutex_unlock(&socks_lock);
}

/* ---- exec handover support (pl_exec.c) ------------------------------------------- */

struct pl_sock *pl_sock_new(enum pl_kind kind, int family)
{
	return sock_new(kind, family);
}

void pl_sock_track(int fd, struct pl_sock *s)
{
	fd_add(fd, s);
}

void pl_sock_add_listener(struct pl_sock *s)
{
	pthread_mutex_lock(&socks_lock);
	s->next_listener = listeners;
	listeners = s;
	pthread_mutex_unlock(&socks_lock);
}

void pl_sock_ep_spin(struct shmq_ep *ep)
{
	ep_apply_spin(ep);
}

/* @s has no fd and holds nothing the caller did not release already. */
void pl_sock_discard(struct pl_sock *s)
{
	s->kind = PL_PENDING;
	sock_free(s);
}
