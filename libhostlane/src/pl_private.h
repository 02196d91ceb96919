/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pl_private.h — internals of the LD_PRELOAD socket layer (docs/preload.md).
 * Nothing here is exported from libhostlane.so.
 *
 * Objects:
 *   struct pl_sock   one socket the layer manages: a kernel TCP socket that
 *                    may still become a hostlane one (PENDING), a listener
 *                    (LISTEN: kernel listener + hostlane accept queue), or a
 *                    hostlane connection (CONN: a shmq ring pair).
 *   fd table         fd number -> struct pl_sock *, lock-free lookups.
 *   struct pl_ctl    the control channel of one process to `@hostlane`.
 *   struct pl_epset  per application epoll fd: its hostlane members.
 */
#ifndef HL_PL_PRIVATE_H
#define HL_PL_PRIVATE_H

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "hostlane_direct.h"
#include "hostlane_proto.h"
#include "hostlane_stats.h"
#include "pl_exec_state.h"
#include "shmq.h"

/* What the layer interposes is exported; everything else is hidden. */
#define PL_EXPORT __attribute__((visibility("default")))

/* ---- the real libc functions (pl_libc.c) ---------------------------------- */

struct pl_libc {
	int (*socket)(int, int, int);
	int (*bind)(int, const struct sockaddr *, socklen_t);
	int (*listen)(int, int);
	int (*accept)(int, struct sockaddr *, socklen_t *);
	int (*accept4)(int, struct sockaddr *, socklen_t *, int);
	int (*connect)(int, const struct sockaddr *, socklen_t);
	ssize_t (*read)(int, void *, size_t);
	ssize_t (*write)(int, const void *, size_t);
	ssize_t (*readv)(int, const struct iovec *, int);
	ssize_t (*writev)(int, const struct iovec *, int);
	ssize_t (*send)(int, const void *, size_t, int);
	ssize_t (*recv)(int, void *, size_t, int);
	ssize_t (*sendto)(int, const void *, size_t, int, const struct sockaddr *, socklen_t);
	ssize_t (*recvfrom)(int, void *, size_t, int, struct sockaddr *, socklen_t *);
	ssize_t (*sendmsg)(int, const struct msghdr *, int);
	ssize_t (*recvmsg)(int, struct msghdr *, int);
	ssize_t (*sendfile)(int, int, off_t *, size_t);
	int (*close)(int);
	int (*shutdown)(int, int);
	int (*dup)(int);
	int (*dup2)(int, int);
	int (*dup3)(int, int, int);
	int (*fcntl)(int, int, ...);
	int (*ioctl)(int, unsigned long, ...);
	int (*getsockopt)(int, int, int, void *, socklen_t *);
	int (*setsockopt)(int, int, int, const void *, socklen_t);
	int (*getsockname)(int, struct sockaddr *, socklen_t *);
	int (*getpeername)(int, struct sockaddr *, socklen_t *);
	int (*poll)(struct pollfd *, nfds_t, int);
	int (*ppoll)(struct pollfd *, nfds_t, const struct timespec *, const sigset_t *);
	int (*select)(int, fd_set *, fd_set *, fd_set *, struct timeval *);
	int (*pselect)(int, fd_set *, fd_set *, fd_set *, const struct timespec *,
		       const sigset_t *);
	int (*epoll_create)(int);
	int (*epoll_create1)(int);
	int (*epoll_ctl)(int, int, int, struct epoll_event *);
	int (*epoll_wait)(int, struct epoll_event *, int, int);
	int (*epoll_pwait)(int, struct epoll_event *, int, int, const sigset_t *);
};

extern struct pl_libc pl_real;
/* 1 once the layer decided to pass everything through (HOSTLANE_DISABLE=1,
 * no endpoint in this pod, or a failed init). */
extern atomic_int pl_off;
void pl_libc_init(void);
/* Busy-poll budget before a wait sleeps (HOSTLANE_SPIN_NS, default 50 us). */
uint64_t pl_spin_ns(void);
/* getpid(), remembered (reset in a forked child). */
pid_t pl_pid(void);
/* CLOCK_MONOTONIC in ns. */
int64_t pl_now_ns(void);
/* The layer's own fds live high (at least half RLIMIT_NOFILE, at most
 * 4096), out of the range programs size their tables for. pl_fd_hide()
 * moves @fd there (closing it; close-on-exec) and returns the new number,
 * or @fd when it cannot; pl_fd_dup_hidden() makes a high close-on-exec
 * copy (-1 on error). */
int pl_fd_hide(int fd);
int pl_fd_dup_hidden(int fd);

/* ---- counters -------------------------------------------------------------- */

/* This process's counters (struct hl_stats_proc, hostlane_proto.h): in
 * its stats region once the endpoint gave one (HELLO), private before. */
extern struct hl_stats_proc *pl_stats;
void pl_stats_dump(void);
/* Takes the stats region memfd @fd of this process's control channel (the
 * fd is closed): maps it and moves the counters there. 0 or -errno. */
int pl_stats_attach(int fd, pid_t owner);
/* A record for a new connection in this process's stats region, or
 * @fallback (zeroed) when there is none. */
struct hl_stats_conn *pl_stats_conn_new(struct hl_stats_conn *fallback);
/* Makes a filled-in record visible to the agent. */
void pl_stats_conn_publish(struct hl_stats_conn *r);
/* Gives a record from pl_stats_conn_new() back. */
void pl_stats_conn_free(struct hl_stats_conn *r);

/* ---- sockets --------------------------------------------------------------- */

enum pl_kind { PL_PENDING = 1, PL_LISTEN = 2, PL_CONN = 3 };

struct pl_ctl;

struct pl_region;

/* An accepted hostlane connection not yet taken by accept(). fds in the
 * CONNECT reply's order (region memfd, own eventfd, peer's, peer pidfd); a
 * slot connection has only the eventfds (others -1) and its region in g. */
struct pl_pending {
	struct pl_pending *next;
	struct pl_ctl *ctl;
	struct hl_proto_conn c;
	int fds[HL_PROTO_MAX_FDS];
	struct pl_region *g;
};

#define PL_MAX_EPSETS 8

struct pl_sock {
	enum pl_kind kind;
	int family;
	atomic_int nonblock;          /* O_NONBLOCK as the application set it */
	pthread_mutex_t lock;         /* state, options, queue */
	pthread_mutex_t rx_lock, tx_lock;
	int local_refs;               /* fds of this process naming it */
	int shref;                    /* slot of the cross-fork refcount, or -1 */
	struct sockaddr_storage local, peer;
	socklen_t local_len, peer_len;
	/* remembered options (applied to the kernel socket while one exists) */
	int opt_nodelay, opt_reuseaddr, opt_reuseport, opt_keepalive;
	int opt_rcvbuf, opt_sndbuf;
	int linger_on, linger_s;      /* SO_LINGER; {1, 0}: close resets */
	int oobinline;                /* SO_OOBINLINE */
	/* CONN, under lock: urgent data (pl_urgent.c). The latest urgent
	 * mark this process saw (position + 1), and a byte to drop (the
	 * older urgent byte the reader stood at when a newer came; + 1). */
	uint64_t urg_seen, urg_skip;
	int so_error;                 /* SO_ERROR, read once */
	/* SO_RCVTIMEO / SO_SNDTIMEO as the kernel rounded them (to its tick):
	 * 0 wait forever, > 0 microseconds, PL_TIMEO_NOW give up at once
	 * (the kernel's answer to a negative tv_sec). */
	_Atomic int64_t rcvtimeo_us, sndtimeo_us;
	/* CONN */
	struct shmq_region *r;
	struct pl_region *slot_region;  /* r, efd, peer_efd belong to it */
	struct shmq_ep *ep;
	int efd, peer_efd, live_fd;   /* private fds: own eventfd, peer's, pidfd */
	int live_epfd;                /* live_fd's dup for epoll sets, or -1 */
	uint32_t region_id;
	struct pl_ctl *ctl;           /* where REGION_FREE goes */
	atomic_int peer_dead;
	atomic_int connecting;        /* nonblocking connect not yet confirmed */
	atomic_int forked;            /* another process may hold the ring too */
	atomic_int reset;             /* the peer reset the connection */
	atomic_int pending_err;       /* reported once by the next call (SO_ERROR) */
	atomic_int eof_seen;          /* a read returned end-of-stream */
	atomic_uint tx_full;          /* writes that found the ring full (EPOLLET) */
	uint32_t pair, side;          /* where the ring pair is in r */
	bool shut_rd, shut_wr;
	bool bound;                   /* PENDING: the application bound it */
	int fdflags;                  /* PENDING: F_GETFD of its one fd, -1: ask */
	bool pooled;                  /* PENDING: its kernel socket is the spare
				       * (pl_spare.c, "spare sockets") */
	bool kdirty;                  /* PENDING: its kernel socket is not as new */
	bool knonblock;               /* PENDING, not pooled: O_NONBLOCK is set on it */
	uint16_t own_port;            /* CONN we connected: the local port we
				       * picked (pl_port_put() at the end) */
	/* LISTEN */
	int kfd;                      /* the kernel listener (private fd) */
	/* what the listener's own epoll set reports, in data.u32 */
#define LISTEN_EV_KERNEL 1u
#define LISTEN_EV_QUEUE  2u
#define LISTEN_EV_CTL    3u
#define LISTEN_EV_PEER   4u  /* the process's doorbell: direct connections */
	int lep;                      /* private copy of the listener's epoll fd */
	int lefd;                     /* eventfd: the accept queue is not empty */
	atomic_int lwoken;            /* the listener's fd fired since the last
				       * look found nothing: look again */
	uint16_t port;
	struct pl_pending *q_head, *q_tail;
	unsigned q_len;
	bool lefd_set;                /* lefd's counter is non-zero */
	bool published;               /* its port is in direct regions' tables */
	struct hl_proto_addr pub_addr;/* ... as bound to this address */
	bool pub_v6only;
	int backlog;
	struct pl_sock *next_listener;
	/* epoll sets holding this socket (application epoll fds) */
	int epsets[PL_MAX_EPSETS];
	unsigned n_epsets;
	/* counters: st is the record in the stats region (hostlanectl conns)
	 * or st_own */
	struct hl_stats_conn *st, st_own;
	uint64_t id;
	struct pl_sock *all_next, *all_prev;
};

#define PL_TIMEO_NOW (-1)

/* ---- the fd table (pl_fdtab.c) --------------------------------------------- */

#define PL_FD_MAX (1 << 20)

/* Socket of @fd or NULL. Lock-free. */
struct pl_sock *pl_fd_get(int fd);
/* Sets @fd -> @s (NULL clears). 0, -EBADF (fd out of range), -ENOMEM. */
int pl_fd_set(int fd, struct pl_sock *s);
/* Clears @fd if it still names @s, and only then: once the real close()
 * returned, the kernel may already have given the number to a new socket
 * that another thread tracked. Return: true if cleared. Lock-free. */
bool pl_fd_clear(int fd, struct pl_sock *s);
/* Number of fds in the table (0: a fast path for poll and friends). */
unsigned pl_fd_count(void);

/* Forks this process went through, as parent or child (bumped by both
 * after each): an object made at an older count is shared with another
 * process. */
unsigned pl_fork_gen(void);
void pl_fork_gen_bump(void);

/* Epoll sets of application epoll fds (same shape of table). */
struct pl_epset *pl_ep_get(int epfd);
int pl_ep_set(int epfd, struct pl_epset *e);

/* Cross-fork holders of a connection (MAP_SHARED anonymous memory, so a
 * parent and its children see the same slots): the connection is closed for
 * the peer only when the last running process holding it closes it. */
#define PL_SHREF_SLOTS 16384
int pl_shref_alloc(void);       /* a slot held by this process, or -1 */
void pl_shref_join(int slot);   /* this process holds it too (after fork) */
/* Process @pid holds @slot too. Idempotent; an entry of a process that
 * exited is reused when the slot is full. */
void pl_shref_join_pid(int slot, pid_t pid);
/* fork(): before the fork, @token (< 0, unique to the forking thread)
 * holds @slot for the child to come; the parent after the fork and the
 * child in its first steps each resolve it to the child's pid (or 0: the
 * fork failed), whoever comes first (a compare-and-swap): a child that
 * already closed the socket is not made a holder again. Return: true if
 * this call resolved it. */
void pl_shref_reserve(int slot, int token);
bool pl_shref_resolve(int slot, int token, pid_t pid);
int pl_shref_leave(int slot);   /* drop ours; return: other live holders */
void pl_shref_free(int slot);
/* Other running processes holding @slot (this one not counted). */
int pl_shref_others(int slot);
/* The memfd behind the holder slots (close-on-exec), or -1 (not mapped). */
int pl_shref_fd(void);
/* In a new image after exec: use the holder slots of the old image from
 * inherited memfd @fd (taken). 0, or -EINVAL (wrong size), -errno of mmap. */
int pl_shref_adopt(int fd);
/* The next fd >= @from that names a socket (*@s set), or -1. */
int pl_fd_next(int from, struct pl_sock **s);

/* ---- addresses (pl_addr.c) --------------------------------------------------- */

/* Converts @sa (AF_INET, AF_INET6, v4-mapped v6 becomes 4) into @a and
 * @port. 0, -EAFNOSUPPORT, -EINVAL (too short). */
int pl_addr_from_sa(const struct sockaddr *sa, socklen_t len, struct hl_proto_addr *a,
		    uint16_t *port);
/* Fills @ss for @family (AF_INET/AF_INET6, v4 mapped when @family is 6 and
 * @a is 4). Return: its length. */
socklen_t pl_addr_to_sa(const struct hl_proto_addr *a, uint16_t port, int family,
			struct sockaddr_storage *ss);
/* True for addresses the layer never routes over hostlane (loopback,
 * unspecified, multicast). */
bool pl_addr_local_only(const struct hl_proto_addr *a);
/* 127.0.0.0/8 or ::1: connected inside the pod over hostlane. */
bool pl_addr_loopback(const struct hl_proto_addr *a);
/* Copies @src (@slen) into the caller's @dst/@dlen as the kernel does
 * (truncating, *@dlen set to the full length). */
void pl_addr_copy_out(const struct sockaddr_storage *src, socklen_t slen,
		      struct sockaddr *dst, socklen_t *dlen);

/* A small file (from /proc) in @buf, NUL-terminated, read with the real libc
 * calls (pl_fdtab.c). Return: the bytes read (len - 1: maybe more), or
 * -errno. */
ssize_t pl_read_small(const char *path, char *buf, size_t len);

/* ---- local ports of our connections (pl_port.c) ------------------------------- */

#define PL_PORT_WORDS (65536 / 64)

struct pl_ports {
	uint16_t lo, hi;                     /* the ephemeral range; lo 0: none */
	atomic_uint cursor;                  /* where the next search starts */
	_Atomic uint64_t used[PL_PORT_WORDS];  /* held by a live connection */
	uint64_t reserved[PL_PORT_WORDS];    /* ip_local_reserved_ports */
};

/* "LO HI" as in ip_local_port_range. 0 or -EINVAL. */
int pl_ports_parse_range(const char *s, uint16_t *lo, uint16_t *hi);
/* "A,B-C,..." as in ip_local_reserved_ports (empty: none) into @bits
 * (PL_PORT_WORDS words). 0 or -EINVAL. */
int pl_ports_parse_reserved(const char *s, uint64_t *bits);
/* A port of the range, neither reserved nor used (now marked used); 0 if
 * there is none. Thread-safe. */
uint16_t pl_ports_take(struct pl_ports *p);
void pl_ports_release(struct pl_ports *p, uint16_t port);
/* This process's: a local port for a new connection (0: ask the kernel),
 * and back at its end. */
uint16_t pl_port_get(void);
void pl_port_put(uint16_t port);
void pl_port_atfork_child(void);

/* ---- epoll bookkeeping (pl_epset.c) ------------------------------------------ */

struct pl_epmember {
	int fd;
	struct pl_sock *s;
	uint32_t events;              /* as the application asked */
	epoll_data_t data;
	uint32_t last;                /* EPOLLET: readiness last seen */
	int64_t last_bytes;           /* EPOLLET: readable bytes last seen */
	uint32_t last_full;           /* EPOLLET: the socket's tx_full last seen */
	bool disabled;                /* EPOLLONESHOT fired */
	bool ghost;                   /* deleted by the application; its kernel
				       * registrations stay for a re-ADD */
};

struct pl_epset {
	int epfd;                     /* the application's epoll fd */
	unsigned gen;                 /* pl_fork_gen() when it was made: an
				       * older one is shared with another
				       * process (same kernel epoll set) */
	pthread_mutex_t lock;
	struct pl_epmember *m;
	unsigned n, cap;
};

struct pl_epset *pl_epset_new(void);
void pl_epset_free(struct pl_epset *e);
/* 0, -EEXIST, -ENOMEM. */
int pl_epset_add(struct pl_epset *e, int fd, struct pl_sock *s, const struct epoll_event *ev);
/* 0, -ENOENT. */
int pl_epset_mod(struct pl_epset *e, int fd, const struct epoll_event *ev);
int pl_epset_del(struct pl_epset *e, int fd);
struct pl_epmember *pl_epset_find(struct pl_epset *e, int fd);
/*
 * Decides what to report for member @m whose readiness is now @ready
 * (EPOLL* bits) with @bytes arrived in total so far (consumed + readable): level-triggered reports
 * ready & (events | ERR | HUP); edge-triggered only on a new edge (a bit that
 * was not set at the last look, or more bytes arrived in total); one-shot
 * disables the member after a report. Return: the events to report (0: none).
 */
uint32_t pl_epset_report(struct pl_epmember *m, uint32_t ready, int64_t bytes);
/*
 * Before pl_epset_report(): @full is the member's socket's count of writes
 * that found the ring full. If it moved since the last look, the
 * application saw "not writable" in between, so writable now is a new
 * edge (the kernel's edge-triggered EPOLLOUT fires whenever space frees
 * after a write found none), even if no look saw the ring full.
 */
void pl_epset_write_blocked(struct pl_epmember *m, uint32_t full);

/* Tag of epoll registrations the layer makes in an application's epoll fd:
 * data.u64 = (PL_TAG_HI | kind) << 32 | fd. Bit 31 set: no user-space
 * pointer or small integer the application stores can look like it. */
#define PL_TAG_HI   0xb7a50000u
#define PL_TAG_MASK 0xffff0000u
#define PL_TAG_WAKE 1u   /* the socket's eventfd / listener epoll fd */
#define PL_TAG_LIVE 2u   /* the peer's pidfd */
static inline uint64_t pl_tag(unsigned kind, int fd)
{
	return ((uint64_t)(PL_TAG_HI | kind) << 32) | (uint32_t)fd;
}
static inline bool pl_is_tag(uint64_t u)
{
	return ((uint32_t)(u >> 32) & PL_TAG_MASK) == PL_TAG_HI;
}

/* ---- control channel (pl_ctl.c) ------------------------------------------- */

/* The control channel of this process (opened at first use, again in a
 * forked child), or NULL: no endpoint (then pl_off is set). */
struct pl_ctl *pl_ctl_get(void);
int pl_ctl_fd(const struct pl_ctl *c);
/* Request/reply. Return: the reply's status; fds filled (-1 when none). */
int pl_ctl_call(struct pl_ctl *c, struct hl_proto_msg *req, struct hl_proto_msg *rep, int *fds);
/* CONNECT: sends @req and takes what the reply carries: puts its fds in
 * pl_pending order and, for a slot connection, maps or finds its region
 * (*@g), under the channel's lock (a region is mapped before another
 * thread's reply can name it); a redirect reply (HL_CONN_F_REDIRECT) is
 * returned as is, nothing taken. Return: the reply's status, or -errno of
 * the take (then every fd is closed and the connection given back). */
int pl_ctl_connect(struct pl_ctl *c, struct hl_proto_msg *req, struct hl_proto_msg *rep,
		   int *fds, struct pl_region **g);
/* Gives what connection @m held back without waiting for the reply: its
 * slot (CONN_CLOSE) or its whole region (REGION_FREE). */
void pl_ctl_give_back(struct pl_ctl *c, const struct hl_proto_conn *m);
/* The protocol version agreed with the endpoint. */
unsigned pl_ctl_version(const struct pl_ctl *c);
/* Reads what is queued on @c without blocking: accept events go to their
 * listener, stray replies are dropped. */
void pl_ctl_drain(struct pl_ctl *c);
void pl_ctl_atfork_child(void);
/* The pod's first address of @family (4/6), for getsockname. 0 or -ENOENT. */
int pl_ctl_pod_addr(struct pl_ctl *c, int family, struct hl_proto_addr *a);
/* True if @c is this process's own working channel. */
bool pl_ctl_own(const struct pl_ctl *c);
/* True if @c was opened by this process (working or not: direct regions
 * it brought need no monitor). */
bool pl_ctl_mine(const struct pl_ctl *c);

/* ---- slot regions (pl_region.c) ---------------------------------------------- */

/* A region shared with one peer process, holding many connections' rings
 * (pl_region.c); a direct one also holds a control block (pl_direct.c). */
struct pl_region {
	struct pl_region *next;
	uint32_t id;
	struct shmq_region *r;
	int pidfd;   /* the peer process: readable once it exited */
	int conns;   /* connections of this process in the region */
	unsigned slots;
	int efd[2 * HL_PROTO_MAX_SLOTS];  /* per slot: ours, the peer's */
	/* direct regions */
	struct pl_ctl *ctl;          /* the channel that brought it */
	unsigned side;               /* ours: 0 connects, 1 listens */
	struct hl_direct_blk *blk;   /* its control block; NULL: not direct */
	int bell;                    /* side 0: the listener process's doorbell */
	struct hl_proto_addr addr;   /* side 0: the listener's address; 1: the connector's */
	struct hl_proto_addr local;  /* side 1, v4: our address the connector asked for */
	bool counted;                /* in n_served */
	atomic_bool gone;            /* side 0: the listener process died */
};

/* Every region this process mapped, under pl_regions_lock. */
extern pthread_mutex_t pl_regions_lock;
extern struct pl_region *pl_regions;
/* Maps the region that came with its first slot connection @m over
 * channel @c, with one connection counted. Takes the message's @n fds
 * (region memfd: closed once mapped; peer pidfd, the slots' eventfds and a
 * direct region's doorbell: kept). Return: the region, or NULL (every fd
 * closed). */
struct pl_region *pl_region_new(struct pl_ctl *c, const struct hl_proto_conn *m, int *fds,
				int n);
/* Region @id as side @side mapped it before (a process connected to
 * itself has both), with one more connection counted; or NULL. */
struct pl_region *pl_region_get(uint32_t id, uint32_t side);
/* One connection fewer (regions of exited peers are unmapped when the next
 * new region arrives). */
void pl_region_put(struct pl_region *g);
struct shmq_region *pl_region_shmq(const struct pl_region *g);
int pl_region_pidfd(const struct pl_region *g);
/* Slot @slot's eventfd of this side (@peer 0) or of the peer (1); -1. */
int pl_region_efd(const struct pl_region *g, uint32_t slot, unsigned peer);
void pl_region_atfork_child(void);
/* Closes side @side of slot @slot of @g, by a reset if @reset (what a
 * listener that closed with it queued, or that never was, does to a
 * connection, as the kernel): the slot is free again once both sides are
 * closed. Closing our side (g->side) wakes the peer if it sleeps on the
 * ring, so a connector waiting in a read sees the end of a connection
 * nobody accepted. */
void pl_region_slot_close(struct pl_region *g, uint32_t slot, unsigned side, bool reset);
/* True once the peer process of @g exited (a look at its pidfd). */
bool pl_region_peer_gone(const struct pl_region *g);

/* Direct connections (pl_direct.c; protocol v3, docs/monitor.md). */
/* Sets up the direct side of new region @g from connection message @m that
 * came over channel @c (pl_regions_lock held). */
void pl_direct_attach(struct pl_region *g, struct pl_ctl *c, const struct hl_proto_conn *m);
/* Region @g goes: it no longer counts as one this process serves. */
void pl_direct_detach(struct pl_region *g);
void pl_direct_atfork_child(void);
/* The control block (pl_direct_blk.c; untrusted shared memory): is @port
 * (non-zero) in the listener side's table; take slot @slot's announcement
 * (compare-and-swap OFFERED -> TAKEN; false: none, or @slot out of range). */
/* ---- pl_fault.c: SIGBUS in region mappings contained ---- */

/* Makes sure the layer's SIGBUS handler is in front of the application's. */
void pl_fault_guard(void);
/* shmq_region_map() behind pl_fault_guard(): every region the layer maps. */
struct shmq_region *pl_region_map(int fd);
void pl_fault_atfork_child(void);

/* Whether the monitor turned direct connections off in @b. */
bool pl_blk_off(const struct hl_direct_blk *b);
bool pl_blk_published(const struct hl_direct_blk *b, uint16_t port);
bool pl_blk_take(struct hl_direct_blk *b, uint32_t slot, uint16_t *port, uint16_t *cport);
/* Connector side: takes a free slot of a direct region to @a whose listener
 * publishes @port, its rings re-initialised; fills @m as a connection
 * message (side 0) and *@g (one connection counted). 0, or -ENOENT: none
 * (ask the monitor). */
int pl_direct_connect(const struct hl_proto_addr *a, uint16_t port, struct hl_proto_conn *m,
		      struct pl_region **g);
/* Announces the connection on @slot (to @port, from @cport) and rings the
 * listener's doorbell. 0, or -ECONNREFUSED: the port went away meanwhile
 * (the slot and the count were given back). */
int pl_direct_announce(struct pl_region *g, uint32_t slot, uint16_t port, uint16_t cport);
/* Listener side: this process's doorbell from its HELLO (@fd taken).
 * Return: false if one came before (a channel opened again after the agent
 * restarted): the listeners' epoll sets hold the first one, so the caller
 * turns direct connections off on the new channel (DIRECT_OFF). */
bool pl_direct_bell_take(int fd);
/* The doorbell while this process takes direct connections, else -1. */
int pl_direct_bell_fd(void);
/* Resets the doorbell (before pl_direct_serve()). */
void pl_direct_bell_clear(void);
/* Publishes (@on) or withdraws one listener of @port in the tables of the
 * regions we serve. Return (@on): true if it is published. */
bool pl_direct_publish(uint16_t port, const struct hl_proto_addr *addr, bool v6only, bool on);
/* Takes the connections announced to us and queues them on their
 * listeners (pl_sock_deliver_accept()); those of no listener are reset. */
void pl_direct_serve(void);
/* Exec under way (@on): tables empty, announcements taken; off again when
 * the exec failed. */
void pl_direct_quiet(bool on);
/* True while this process takes direct connections. */
bool pl_direct_serving(void);
/* For good (a fork shares the listeners): tables empty, announcements taken. */
void pl_direct_off(void);
/* A thread is about to sleep in the kernel (on a listener or anything else):
 * from here to pl_direct_wait_end() connectors ring the doorbell. Takes
 * what was announced before (a listener fd then turns readable), so the
 * caller sleeps only if nothing came. Every blocking wait of the layer that
 * can be waiting for a listener is wrapped in the two. */
void pl_direct_wait_begin(void);
void pl_direct_wait_end(void);

/* ---- exec handover (pl_exec.c, pl_exec_restore.c; format: pl_exec_state.h) -- */

/* In the constructor: re-attaches what the old image handed over, if any
 * (pl_exec_restore.c). */
void pl_exec_restore(void);
/* Sends LISTEN or UNLISTEN (@op) of @port on @c; the reply's status. */
int pl_exec_ctl_port(struct pl_ctl *c, uint16_t op, uint16_t port, int kfd);
/* Fills LISTEN request @req's address and flags from where kernel
 * listener @kfd is bound (nothing if it cannot tell: a wildcard then). */
void pl_listen_addr(struct hl_proto_msg *req, int kfd);

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

/* Epoll membership (pl_sock.c). The peer's pidfd as this socket registers
 * it in epoll sets: a slot connection shares its region's pidfd, and one
 * epoll set cannot hold one fd twice, so it gets a private dup on first
 * use. pl_sock_live_epfd() makes it, pl_sock_live_epfd_peek() only returns
 * it (-1: none). */
int pl_sock_live_epfd(struct pl_sock *s);
int pl_sock_live_epfd_peek(struct pl_sock *s);
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
 * pl_sock_wait(): shmq_wait() for connection @s through pl_sleep(): the
 * ready mask, -ETIMEDOUT, -ECONNRESET (the peer died), -EINTR. */
#define PL_SLEEP_MAX_FDS 4
int pl_sleep(struct pollfd *p, nfds_t n, int ms, bool timeo);
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
