/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pl_sockops.h — internals of the LD_PRELOAD layer (part of pl_private.h,
 * which includes it): the exec handover, the socket operations (pl_sock.c and
 * the files it names: listen, connect, data, fd operations, options, fork,
 * waits and signals, urgent data), poll, select and epoll.
 */
#ifndef HL_PL_SOCKOPS_H
#define HL_PL_SOCKOPS_H

#ifndef HL_PL_PRIVATE_H
#error "included by pl_private.h only"
#endif

/* ---- exec handover (pl_exec.c, pl_exec_restore.c; format: pl_exec_state.h) -- */

/* In the constructor: re-attaches what the old image handed over, if any
 * (pl_exec_restore.c). */
void pl_exec_restore(void);
/* Which exec call pl_exec_do() makes: execve, execvpe (PATH search) or
 * fexecve (@fd). */
enum pl_exec_how { PL_EXEC_VE, PL_EXEC_VPE, PL_EXEC_FVE };
/* exec with the handover of the process's hostlane sockets (pl_exec.c);
 * returns only on failure: -1, errno set, the sockets as before. */
int pl_exec_do(enum pl_exec_how how, int fd, const char *path, char *const argv[],
	       char *const envp[]);
/* Sends LISTEN or UNLISTEN (@op) of @port on @c; the reply's status. */
int pl_exec_ctl_port(struct pl_ctl *c, uint16_t op, uint16_t port, int kfd);
/* Fills LISTEN request @req's address and flags from where kernel
 * listener @kfd is bound (nothing if it cannot tell: a wildcard then). */
void pl_listen_addr(struct hl_proto_msg *req, int kfd);
/* A listener @s this process inherited across fork() and accepts on: takes
 * its registration over from the process that listened (pl_share.c), at
 * most every 100 ms; nothing if that process is this one. */
void pl_listen_claim(struct pl_sock *s);

/* ---- sockets (pl_sock.c and the files it names) ------------------------------ */

/* fork and vfork (pl_fork.c). pl_vforked: this thread called vfork() (the
 * child runs on the parent thread's memory); pl_vfork_child(): true in a
 * vfork child, where every call goes straight to libc (it clears the mark
 * once back in the parent). */
extern __thread int pl_vforked __attribute__((tls_model("initial-exec")));
bool pl_vfork_child_slow(void);
static inline bool pl_vfork_child(void)
{
	return __builtin_expect(pl_vforked, 0) && pl_vfork_child_slow();
}
/* Resolves the real fork and vfork (pl_libc_init()). */
void pl_fork_resolve(void);

/* Where every socket call starts: true while the layer manages sockets
 * (not turned off, some fd tracked, not in a vfork child). */
static inline bool pl_active(void)
{
	if (__builtin_expect(!pl_real.read, 0))
		pl_libc_init();
	return !atomic_load_explicit(&pl_off, memory_order_relaxed) &&
	       pl_fd_count() != 0 && !pl_vfork_child();
}

/* The socket @fd names, or NULL (also while the layer is not active). */
static inline struct pl_sock *pl_sock_lookup(int fd)
{
	return pl_active() ? pl_fd_get(fd) : NULL;
}

/* errno = @err; return -1, as a failing libc call. */
static inline int pl_fail(int err)
{
	errno = err;
	return -1;
}

/* Closes one of the layer's own fds if it is one (>= 0). */
static inline void pl_close_quiet(int fd)
{
	if (fd >= 0)
		pl_real.close(fd);
}

/* Socket objects and the fds that name them (pl_sock.c). pl_sock_new: a new
 * socket object (kind @kind, nothing else set; NULL: no memory). Track:
 * makes @fd name @s. fd_gone: @fd no longer names @s (closed, or replaced
 * by dup2); the last one frees it. untrack: a PENDING socket becomes a
 * plain kernel fd the layer no longer tracks. free: the last fd of @s in
 * this process is gone, release what this process has. */
struct pl_sock *pl_sock_new(enum pl_kind kind, int family);
void pl_sock_track(int fd, struct pl_sock *s);
void pl_sock_fd_gone(int fd, struct pl_sock *s);
void pl_sock_untrack(int fd, struct pl_sock *s);
void pl_sock_free(struct pl_sock *s);
/* A connection queued on a listener and never accepted: gives it back. */
void pl_pending_free(struct pl_pending *p);
/* @fd (naming @s) leaves every application epoll set that holds it. */
void pl_sock_epsets_forget_fd(struct pl_sock *s, int fd);
/* Registers listener @s (LISTEN) for accept events and fork. */
void pl_sock_add_listener(struct pl_sock *s);
/* The listener of @port with its lock held, or NULL. */
struct pl_sock *pl_sock_listener_lock(uint16_t port);

/* Called by pl_ctl for each EV_ACCEPT: queues it on the listener of the
 * port (pl_listen.c). Return: 0 (the fds are taken) or -1 (no such
 * listener, queue full: the caller refuses it). */
int pl_sock_deliver_accept(struct pl_ctl *c, const struct hl_proto_conn *conn, int *fds,
			   struct pl_region *g);
void pl_sock_atfork_child(void);
/* Control channel @c broke: listeners stop watching its fd. */
void pl_sock_ctl_broken(struct pl_ctl *c);
/* A new channel @c after this process lost its own: its listeners that were
 * registered on a broken channel are registered on @c (LISTEN) and watch
 * it; one the endpoint refuses stays a kernel listener. */
void pl_sock_relisten(struct pl_ctl *c);
/* Around the real fork() (pl_fork.c): begin makes closes wait and holds
 * every socket for the child to come (pl_shref_reserve()); end, in the
 * parent (@child: the new pid, or -1 when fork failed), makes the child a
 * holder (unless it was quicker), then lets closes go on. */
void pl_sock_fork_begin(void);
void pl_sock_fork_end(pid_t child);
/* In the parent after fork: its connections are shared with the child. */
void pl_sock_atfork_parent(void);
/* Before fork: a process with listeners stops taking direct connections
 * (the child shares the listeners, and an announcement must reach a
 * process that takes it). It also ends the sharing of a spare socket. */
void pl_sock_atfork_prepare(void);

/* Spare sockets (pl_spare.c). */
/* Before execve() and fork(): a spare socket an application fd names
 * becomes that fd's alone, with the state the application gave it. */
void pl_sock_spare_drop(void);
/* PENDING socket @s at @fd is about to reach its kernel socket: if it is
 * the spare, it becomes the fd's own. Then it is not as new. */
void pl_sock_pending_touch(struct pl_sock *s, int fd);
/* PENDING socket @s left its kernel socket untouched: its fd number was
 * closed, or taken by a connection over hostlane. A spare it had a dup of
 * is free again; else @keep (another reference to its kernel socket, or
 * -1) becomes the spare if there is none. */
void pl_spare_back(struct pl_sock *s, int keep);
/* True if this process has no spare of @family (an unlocked look). */
bool pl_spare_missing(int family);
void pl_spare_atfork_child(void);

/* Connection set-up (pl_connect.c), shared by connect() and accept():
 * maps what a CONNECT reply / ACCEPT event handed over into @s (kind CONN)
 * and puts the eventfd at @fd (or a new number when @fd < 0). Takes @fds
 * (pl_pending order) and @g (the slot region, or NULL: fds[0] is the
 * connection's own region). Return: the fd number or -errno. */
int pl_sock_conn_setup(struct pl_sock *s, struct pl_ctl *ctl, const struct hl_proto_conn *m,
		       int *fds, struct pl_region *g, int fd, bool cloexec);
/* Puts the addresses of connection @s in its counters' record, which makes
 * it visible in `hostlanectl conns`. */
void pl_sock_stats_describe(struct pl_sock *s);

/* The ring of a connection (pl_ready.c). A forked connection (another
 * process may hold the ring too) works on a fresh endpoint attached from
 * the shared indices for the length of each call: pl_sock_ep_get() gives
 * the endpoint to use, pl_sock_ep_put() ends its use. */
struct shmq_ep *pl_sock_ep_forked(struct pl_sock *s);
static inline struct shmq_ep *pl_sock_ep_get(struct pl_sock *s)
{
	if (!atomic_load_explicit(&s->forked, memory_order_relaxed))
		return s->ep;
	return pl_sock_ep_forked(s);
}
/* A forked connection that no other running process holds any more (the
 * child exited) leaves the forked mode: its own endpoint takes the shared
 * indices again (pl_sock.c). Asked at most every PL_UNFORK_NS per
 * connection, by a call that holds none of its locks. */
#define PL_UNFORK_NS 5000000ull
void pl_sock_unfork(struct pl_sock *s);
static inline void pl_sock_unfork_check(struct pl_sock *s)
{
	if (__builtin_expect(atomic_load_explicit(&s->forked, memory_order_relaxed), 0))
		pl_sock_unfork(s);
}
static inline void pl_sock_ep_put(struct pl_sock *s, struct shmq_ep *ep)
{
	/* Not shmq_ep_close(): that would close the ring for the peer. */
	if (ep != s->ep)
		shmq_ep_detach(ep);
}
/* Applies HOSTLANE_SPIN_NS to @ep. */
void pl_sock_ep_spin(struct shmq_ep *ep);
/* Whether the peer is gone: 0 there, 1 end-of-stream only, 2 reset (the
 * error to report is then pending). */
int pl_sock_peer_gone(struct pl_sock *s, struct shmq_ep *ep);
/* The error a reset reports once (-errno), then @after. */
int pl_sock_take_error(struct pl_sock *s, int after);
/* Whether closing @s now is a reset for the peer, as TCP's close is with
 * data left unread or SO_LINGER {1, 0}. */
bool pl_sock_close_resets(struct pl_sock *s);
/* Both directions of connection @s ended (a reset, or our FIN and the
 * peer's): the kernel's socket is in CLOSE, where getpeername() and
 * shutdown() say ENOTCONN. */
bool pl_sock_conn_closed(struct pl_sock *s);

/* Urgent data (pl_urgent.c). pl_urg_look(): the peer's urgent byte not
 * read yet, if any (false: none); SIGURG to the owner at a new mark. */
struct pl_urg {
	uint64_t pos, head;  /* the urgent byte's position, and ours */
	uint8_t byte;
	bool taken;          /* recv(MSG_OOB) took it */
	bool skip;           /* the byte at our head is to be dropped */
};
bool pl_urg_look(struct pl_sock *s, struct shmq_ep *ep, struct pl_urg *v);
/* Before a read of up to *@want bytes (@done read so far in this call,
 * @flags the call's): shortens *@want to stop at the mark, skips (or
 * drops) an urgent byte at the head. Return: 0 read on, 1 the read ends
 * here (at the mark with data), 2 nothing to peek (at the mark). Under
 * rx_lock. */
int pl_urg_before_read(struct pl_sock *s, struct shmq_ep *ep, size_t done, size_t *want,
		       int flags);
/* recv(MSG_OOB): the urgent byte (1), or -1 EINVAL. */
ssize_t pl_urg_recv(struct pl_sock *s, void *buf, size_t len, int flags);
/* SIOCATMARK. */
int pl_urg_atmark(struct pl_sock *s);
/* Readiness @r with urgent data: EPOLLPRI, no EPOLLIN for a lone urgent
 * byte at the mark; *@nread set to what FIONREAD says when there is a
 * mark (else untouched). */
uint32_t pl_urg_ready(struct pl_sock *s, struct shmq_ep *ep, uint32_t r, uint64_t *nread);

/* Readiness (pl_ready.c). */
/* Readiness of a CONN or LISTEN socket now (EPOLL* bits, same values as
 * POLL* for IN/OUT/ERR/HUP), without blocking. *@bytes: readable bytes. */
uint32_t pl_sock_ready(struct pl_sock *s, int64_t *bytes);
/* The same for a caller that only wants @events (EPOLL*): without EPOLLOUT
 * the send side is not looked at (cheaper). */
uint32_t pl_sock_ready_for(struct pl_sock *s, uint32_t events, int64_t *bytes);
/* Prepares @s for a sleep on its wake fd: 0 armed, else ready bits. With
 * @edge the peer's next publication wakes the fd even when something is
 * ready now (the caller re-checks its own edge condition after arming). */
uint32_t pl_sock_arm(struct pl_sock *s, uint32_t events, bool edge);
/* After a wake-up of the socket's wake fd (kind PL_TAG_WAKE) or its
 * liveness fd (PL_TAG_LIVE). */
void pl_sock_woken(struct pl_sock *s, unsigned kind);

/* Member @m of @e no longer watches its peer's liveness fd (e->lock
 * held; pl_epoll.c): the kernel registration goes with the last one. */
void pl_epoll_live_drop(struct pl_epset *e, struct pl_epmember *m);
/* @s is no longer in application epoll fd @epfd. */
void pl_sock_forget_epset(struct pl_sock *s, int epfd);

/* ---- poll, select (pl_poll.c) and epoll (pl_epoll.c) ----------------------------- */

/* A PENDING socket in epoll sets became a connection: register its wake
 * fds in those sets (pl_epoll.c). */
void pl_poll_conn_upgraded(struct pl_sock *s, int fd);
/* Application epoll fd @epfd is being closed: drop its bookkeeping. */
void pl_poll_epfd_closed(int epfd);
/* Around a real wait of @ms (0: a look) that may be waiting for one of
 * our listeners: takes the direct connections announced so far and, for a
 * wait that may sleep, makes connectors ring the doorbell meanwhile.
 * Return: true if pl_kwait_end() must follow. */
bool pl_kwait_begin(int ms);
void pl_kwait_end(bool began);
/* Milliseconds left until @deadline (ns, CLOCK_MONOTONIC; -1: forever). */
int pl_left_ms(int64_t deadline);

/* Sleeping as the kernel's socket calls do with signals (pl_wait.c).
 * pl_sleep(): poll() on @p (at most PL_SLEEP_MAX_FDS) for @ms, with the
 * signals this thread takes held back and looked at: return the count of
 * ready fds (0: timeout), -EINTR when a signal arrived whose handler makes
 * the kernel's call return EINTR (no SA_RESTART, or any handler with
 * @timeo: the socket has SO_RCVTIMEO/SO_SNDTIMEO), after the handlers ran;
 * or -errno of poll. A signal without such a handler: 0 (look again).
 * @sp (may be NULL): the call's spin, begun when the call began: a handler
 * that ran since (pl_spin_intr()) makes it -EINTR before it sleeps.
 * pl_sock_wait(): for connection @s, @events ready on @ep: the adaptive
 * spin (PL_SPIN_RECV / PL_SPIN_SEND), then pl_sleep() (@ms: -1 forever;
 * not 0): the ready mask, -ETIMEDOUT, -ECONNRESET (the peer died), -EINTR. */
#define PL_SLEEP_MAX_FDS 4
struct pl_spin;
int pl_sleep(struct pollfd *p, nfds_t n, int ms, bool timeo, const struct pl_spin *sp);
int pl_sock_wait(struct pl_sock *s, struct shmq_ep *ep, int events, int ms, bool timeo);

/* SO_RCVTIMEO / SO_SNDTIMEO (pl_opt.c): how long a blocking call with
 * timeout @us may still sleep, in ms for shmq_wait()/poll(): -1 no limit,
 * 0 the time is up. *@end_ns is the call's deadline (CLOCK_MONOTONIC), set
 * at its first wait (0 before). */
int pl_timeo_ms(int64_t us, int64_t *end_ns);

/* For the exec handover (pl_exec_restore.c): drops a socket object no fd names
 * yet. */
void pl_sock_discard(struct pl_sock *s);

#endif
