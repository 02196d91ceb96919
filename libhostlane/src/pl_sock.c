/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The LD_PRELOAD socket layer's socket objects: what a struct pl_sock is
 * made of and freed with, which fds name it, which application epoll sets
 * hold it, the list of listeners, and what fork and exec do to them. See
 * docs/preload.md.
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
 *
 * The socket calls are in the files next to this one:
 *   pl_spare.c    socket(), bind() and the spare kernel sockets
 *   pl_listen.c   listen(), accept(), the accept queue
 *   pl_connect.c  connect() and the set-up of a connection's ring
 *   pl_data.c     read/write/send/recv and friends
 *   pl_fdops.c    close, shutdown, dup, fcntl, ioctl
 *   pl_opt.c      socket options (timeouts too) and names
 *   pl_ready.c    a connection's ring as the calls see it, and readiness
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "hl_codec.h"
#include "pl_private.h"
#include "shmq.h"

static pthread_mutex_t socks_lock = PTHREAD_MUTEX_INITIALIZER;
static struct pl_sock *socks;         /* every live socket (counters, fork) */
static struct pl_sock *listeners;
static uint64_t next_id;

/* ---- socket objects --------------------------------------------------------- */

struct pl_sock *pl_sock_new(enum pl_kind kind, int family)
{
	struct pl_sock *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->kind = kind;
	s->family = family;
	s->shref = -1;
	s->efd = s->peer_efd = s->live_fd = s->kfd = s->lefd = s->lep = -1;
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

void pl_pending_free(struct pl_pending *p)
{
	/* Reset, as the kernel resets what a closing listener held; before
	 * the monitor hears of it (it cannot wake the peer). */
	if (p->g)
		pl_region_slot_close(p->g, p->c.pair, p->c.side, true);
	pl_ctl_give_back(p->ctl, &p->c);
	for (unsigned i = 0; i < HL_PROTO_MAX_FDS; i++)
		pl_close_quiet(p->fds[i]);
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


/* fork() holds this for writing from before the fork until the child is
 * registered as a holder of every socket (pl_sock_fork_end()); whether a
 * close is the last holder's is decided under it for reading. So a parent
 * that closes its copy right after fork() never ends a connection the
 * child holds. */
static pthread_rwlock_t fork_lock = PTHREAD_RWLOCK_INITIALIZER;
static __thread bool forking;  /* this thread holds fork_lock (fork()) */

/* This process lets go of @s: true if no other running process holds it. */
static bool sock_leave(struct pl_sock *s)
{
	bool last;

	if (!forking)
		pthread_rwlock_rdlock(&fork_lock);
	last = pl_shref_leave(s->shref) == 0;
	if (!forking)
		pthread_rwlock_unlock(&fork_lock);
	return last;
}

/* The last fd of @s in this process is gone: release what this process has. */
void pl_sock_free(struct pl_sock *s)
{
	if (s->kind == PL_PENDING)
		pl_spare_back(s, -1);
	pthread_mutex_lock(&socks_lock);
	if (s->all_prev)
		s->all_prev->all_next = s->all_next;
	else
		socks = s->all_next;
	if (s->all_next)
		s->all_next->all_prev = s->all_prev;
	pthread_mutex_unlock(&socks_lock);
	if (s->kind == PL_CONN) {
		bool last = sock_leave(s);

		pl_stats_conn_free(s->st);
		if (last) {
			pl_port_put(s->own_port);
			/* The peer reads the rest, then EOF; or a reset, as TCP's
			 * close with data left unread or SO_LINGER {1, 0}. For a
			 * slot this is also what gives it back: the monitor reads
			 * the ring. */
			if (pl_sock_close_resets(s))
				shmq_ep_abort(s->ep);
			else
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
			pl_close_quiet(s->efd);
			pl_close_quiet(s->peer_efd);
			pl_close_quiet(s->live_fd);
		}
	} else if (s->kind == PL_LISTEN) {
		struct hl_proto_msg req, rep;
		int fds[HL_PROTO_MAX_FDS];
		bool last;

		listener_unlink(s);
		if (s->published)
			pl_direct_publish(s->port, &s->pub_addr, s->pub_v6only, false);
		last = sock_leave(s);
		/* The registration goes with the last holder, or with the
		 * holder that took it over (pl_share.c): the others get kernel
		 * connections until one of them accepts and takes it. */
		if (last || s->ctl_old) {
			hl_proto_init(&req, HL_POD_OP_UNLISTEN, 0);
			req.u.listen.port = s->port;
			if (s->ctl && pl_ctl_get() == s->ctl)
				pl_ctl_call(s->ctl, &req, &rep, fds);
		}
		if (last)
			pl_shref_free(s->shref);
		/* What is queued is reset, by the last holder only: a forked
		 * child's copy of the queue is the parent's too (its rings,
		 * its channel), and goes with the child's copies of the fds. */
		while (s->q_head) {
			struct pl_pending *p = s->q_head;

			s->q_head = p->next;
			if (last) {
				pl_pending_free(p);
			} else {
				for (unsigned i = 0; i < HL_PROTO_MAX_FDS; i++)
					pl_close_quiet(p->fds[i]);
				pl_region_put(p->g);
				free(p);
			}
		}
		pl_close_quiet(s->kfd);
		pl_close_quiet(s->lefd);
		pl_close_quiet(s->lep);
		/* Connections announced to the port before it went: reset. */
		if (s->published)
			pl_direct_serve();
	}
	pthread_mutex_destroy(&s->lock);
	pthread_mutex_destroy(&s->rx_lock);
	pthread_mutex_destroy(&s->tx_lock);
	free(s);
}

/* @fd no longer names @s (closed, or replaced by dup2). */
void pl_sock_fd_gone(int fd, struct pl_sock *s)
{
	bool last;

	pl_sock_epsets_forget_fd(s, fd);
	pl_fd_clear(fd, s);
	pthread_mutex_lock(&s->lock);
	last = --s->local_refs == 0;
	pthread_mutex_unlock(&s->lock);
	if (last)
		pl_sock_free(s);
}

/* A PENDING socket becomes a plain kernel fd the layer no longer tracks. */
void pl_sock_untrack(int fd, struct pl_sock *s)
{
	if (s->kind == PL_PENDING)
		pl_sock_pending_touch(s, fd);
	pl_sock_fd_gone(fd, s);
}

void pl_sock_track(int fd, struct pl_sock *s)
{
	pthread_mutex_lock(&s->lock);
	s->local_refs++;
	pthread_mutex_unlock(&s->lock);
	if (pl_fd_set(fd, s))
		pl_sock_fd_gone(fd, s);
}

/* ---- epoll membership (the epoll side is in pl_poll.c) ---------------------- */

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

void pl_sock_epsets_forget_fd(struct pl_sock *s, int fd)
{
	int sets[PL_MAX_EPSETS];
	unsigned n;

	pthread_mutex_lock(&s->lock);
	n = s->n_epsets;
	memcpy(sets, s->epsets, sizeof(sets));
	pthread_mutex_unlock(&s->lock);
	for (unsigned i = 0; i < n; i++) {
		struct pl_epset *e = pl_ep_get(sets[i]);
		struct pl_epmember *m;
		bool gone = false, keep;

		if (!e)
			continue;
		/* A set made before a fork is the other process's too, and
		 * the kernel keeps a registration while any process holds the
		 * file: a forked child closing its copy of a listener leaves
		 * the parent's set as it was. */
		keep = e->gen != pl_fork_gen() && pl_shref_others(s->shref) > 0;
		pthread_mutex_lock(&e->lock);
		if ((m = pl_epset_find(e, fd)))
			pl_epoll_live_drop(e, m);
		if (pl_epset_del(e, fd) == 0) {
			/* A PENDING socket's registration is the application's own
			 * kernel one: it stays (or goes with the file). */
			if (s->kind != PL_PENDING && !keep)
				pl_real.epoll_ctl(sets[i], EPOLL_CTL_DEL, fd, NULL);
			gone = true;
		}
		pthread_mutex_unlock(&e->lock);
		if (gone)
			pl_sock_forget_epset(s, sets[i]);
	}
}

/* ---- the listeners ------------------------------------------------------------ */

void pl_sock_add_listener(struct pl_sock *s)
{
	pthread_mutex_lock(&socks_lock);
	s->next_listener = listeners;
	listeners = s;
	pthread_mutex_unlock(&socks_lock);
}

struct pl_sock *pl_sock_listener_lock(uint16_t port)
{
	struct pl_sock *s;

	pthread_mutex_lock(&socks_lock);
	for (s = listeners; s; s = s->next_listener)
		if (s->port == port)
			break;
	if (s)
		pthread_mutex_lock(&s->lock);
	pthread_mutex_unlock(&socks_lock);
	return s;
}

void pl_sock_ctl_broken(struct pl_ctl *c)
{
	pthread_mutex_lock(&socks_lock);
	for (struct pl_sock *s = listeners; s; s = s->next_listener)
		if (s->ctl == c && s->lep >= 0)
			pl_real.epoll_ctl(s->lep, EPOLL_CTL_DEL, pl_ctl_fd(c), NULL);
	pthread_mutex_unlock(&socks_lock);
}

void pl_sock_relisten(struct pl_ctl *c)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = LISTEN_EV_CTL };
	struct { uint16_t port; int kfd; } l[256];
	size_t n = 0;

	/* The listeners first: the calls below must not hold socks_lock (an
	 * accept event read meanwhile is delivered under it). LISTEN names
	 * the bound address, read from the kernel listener. */
	pthread_mutex_lock(&socks_lock);
	for (struct pl_sock *s = listeners; s && n < sizeof(l) / sizeof(l[0]); s = s->next_listener)
		if (s->ctl && s->ctl != c && pl_ctl_mine(s->ctl) && !pl_ctl_own(s->ctl)) {
			l[n].port = s->port;
			l[n++].kfd = s->kfd;
		}
	pthread_mutex_unlock(&socks_lock);
	for (size_t i = 0; i < n; i++) {
		struct pl_sock *s;

		if (pl_exec_ctl_port(c, HL_POD_OP_LISTEN, l[i].port, l[i].kfd))
			continue;  /* refused: it goes on as a kernel listener */
		s = pl_sock_listener_lock(l[i].port);
		if (s && s->ctl != c && s->lep >= 0 &&
		    pl_real.epoll_ctl(s->lep, EPOLL_CTL_ADD, pl_ctl_fd(c), &ev) == 0) {
			s->ctl = c;
			pthread_mutex_unlock(&s->lock);
			continue;
		}
		if (s)
			pthread_mutex_unlock(&s->lock);
		/* Closed meanwhile, or it cannot watch the channel. */
		pl_exec_ctl_port(c, HL_POD_OP_UNLISTEN, l[i].port, -1);
	}
}

/* ---- fork -------------------------------------------------------------------------- */

/* The token of the fork this thread is in (a copy in the child), and the
 * slots it holds (under fork_lock). */
static __thread int fork_token;
static int *fork_slots;
static unsigned n_fork_slots, cap_fork_slots;

void pl_sock_fork_begin(void)
{
	pthread_rwlock_wrlock(&fork_lock);
	forking = true;
	fork_token = -(int)syscall(SYS_gettid);
	n_fork_slots = 0;
	pthread_mutex_lock(&socks_lock);
	for (struct pl_sock *s = socks; s; s = s->all_next) {
		if (s->kind == PL_PENDING || s->shref < 0)
			continue;
		if (n_fork_slots == cap_fork_slots) {
			unsigned c = cap_fork_slots ? 2 * cap_fork_slots : 64;
			int *a = realloc(fork_slots, c * sizeof(*a));

			if (!a)
				continue;  /* the child adds itself (atfork) */
			fork_slots = a;
			cap_fork_slots = c;
		}
		fork_slots[n_fork_slots++] = s->shref;
		pl_shref_reserve(s->shref, fork_token);
	}
	pthread_mutex_unlock(&socks_lock);
}

void pl_sock_fork_end(pid_t child)
{
	pthread_mutex_lock(&socks_lock);
	for (struct pl_sock *s = socks; s; s = s->all_next)
		if (s->kind != PL_PENDING)
			pl_shref_resolve(s->shref, fork_token, child > 0 ? child : 0);
	pthread_mutex_unlock(&socks_lock);
	/* A socket another thread closed meanwhile is gone from the list:
	 * its slot must not keep the token (the child, if it has it, added
	 * itself). */
	for (unsigned i = 0; i < n_fork_slots; i++)
		pl_shref_resolve(fork_slots[i], fork_token, 0);
	n_fork_slots = 0;
	fork_token = 0;
	forking = false;
	pthread_rwlock_unlock(&fork_lock);
}

/* In the child: this process now holds every connection too. */
void pl_sock_atfork_child(void)
{
	/* Held for writing by the thread that forked, which is this one
	 * (or none, for a fork that did not go through our fork()). */
	pthread_rwlock_init(&fork_lock, NULL);
	forking = false;
	pthread_mutex_init(&socks_lock, NULL);
	pl_spare_atfork_child();
	for (struct pl_sock *s = socks; s; s = s->all_next) {
		pthread_mutex_init(&s->lock, NULL);
		pthread_mutex_init(&s->rx_lock, NULL);
		pthread_mutex_init(&s->tx_lock, NULL);
		/* Our fork() held the slot for us; else (a fork that did not go
		 * through it) this process adds itself now. */
		if (s->kind != PL_PENDING && !pl_shref_resolve(s->shref, fork_token, pl_pid()))
			pl_shref_join(s->shref);
		if (s->kind == PL_CONN)
			atomic_store(&s->forked, 1);
	}
	fork_token = 0;
}

void pl_sock_atfork_prepare(void)
{
	/* Parent and child share what the application's fds name: a spare
	 * one of them names is nobody's spare any more. Listeners stay as
	 * they are: the parent keeps taking the connections announced to it
	 * (its doorbell, its tables); a child takes none until it accepts on
	 * a listener, which then moves to it (pl_share.c). */
	pl_sock_spare_drop();
}

void pl_sock_atfork_parent(void)
{
	pthread_mutex_lock(&socks_lock);
	for (struct pl_sock *s = socks; s; s = s->all_next)
		if (s->kind == PL_CONN)
			atomic_store(&s->forked, 1);
	pthread_mutex_unlock(&socks_lock);
}

/*
 * While forked, every call attaches a fresh endpoint from the shared indices
 * (pl_sock_ep_forked()), which costs a good part of a small request. Once
 * the holder slot lists no other running process, nobody else can move the
 * ring: our own endpoint takes the shared indices (which the other holders
 * moved meanwhile) and is used again. Under fork_lock for reading, so no
 * fork can make a new holder in between (atfork_parent sets forked again
 * under the write lock), and under rx_lock and tx_lock, so no call of ours
 * is on the ring. Only try-locks: the caller may be anywhere; a busy socket
 * is asked again later.
 */
void pl_sock_unfork(struct pl_sock *s)
{
	struct timespec ts;
	uint64_t now, at;

	if (s->kind != PL_CONN || s->shref < 0 || forking || pl_vfork_child())
		return;
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	now = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	at = atomic_load_explicit(&s->unfork_at, memory_order_relaxed);
	if (now < at || !atomic_compare_exchange_strong(&s->unfork_at, &at, now + PL_UNFORK_NS))
		return;
	if (pthread_rwlock_tryrdlock(&fork_lock))
		return;
	if (!pthread_mutex_trylock(&s->rx_lock)) {
		if (!pthread_mutex_trylock(&s->tx_lock)) {
			if (atomic_load(&s->forked) && pl_shref_others(s->shref) == 0 &&
			    shmq_ep_resync(s->ep) == 0)
				atomic_store(&s->forked, 0);
			pthread_mutex_unlock(&s->tx_lock);
		}
		pthread_mutex_unlock(&s->rx_lock);
	}
	pthread_rwlock_unlock(&fork_lock);
}

/* ---- exec handover support (pl_exec_restore.c) ------------------------------------ */

/* @s has no fd and holds nothing the caller did not release already. */
void pl_sock_discard(struct pl_sock *s)
{
	s->kind = PL_PENDING;
	pl_sock_free(s);
}
