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
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

#include "hostlane_direct.h"
#include "hostlane_proto.h"
#include "hostlane_stats.h"
#include "pl_exec_state.h"
#include "pl_spin.h"
#include "shmq.h"

/* What the layer interposes is exported; everything else is hidden. */
#define PL_EXPORT __attribute__((visibility("default")))

/* glibc and musl (the two builds of the .so) differ in a few prototypes
 * and names: ioctl's request type; glibc's 64-bit-offset aliases
 * (fcntl64, sendfile64), which musl programs never call (its headers map
 * them to the plain names); the old/new layouts of the timeout options,
 * which musl's headers name only as SO_RCVTIMEO/SO_SNDTIMEO (the values
 * are the kernel's). */
#ifdef __GLIBC__
#define PL_IOCTL_REQ unsigned long
#define PL_LFS64 1
#else
#define PL_IOCTL_REQ int
#define PL_LFS64 0
#endif
/* preadv2/pwritev2 by system call: glibc has them from 2.26 only (the
 * glibc build holds to 2.17) and musl 1.2.3 not at all. 64-bit: the
 * offset is the low word, the high one is ignored. */
#ifndef RWF_NOWAIT
#define RWF_NOWAIT 0x00000008
#endif
static inline ssize_t pl_preadv2(int fd, const struct iovec *iov, int n, off_t off, int flags)
{
	return syscall(SYS_preadv2, fd, iov, n, (unsigned long)off, 0UL, flags);
}
static inline ssize_t pl_pwritev2(int fd, const struct iovec *iov, int n, off_t off, int flags)
{
	return syscall(SYS_pwritev2, fd, iov, n, (unsigned long)off, 0UL, flags);
}
#ifndef SO_RCVTIMEO_OLD
#define SO_RCVTIMEO_OLD 20
#define SO_SNDTIMEO_OLD 21
#endif
#ifndef SO_RCVTIMEO_NEW
#define SO_RCVTIMEO_NEW 66
#define SO_SNDTIMEO_NEW 67
#endif

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
	int (*ioctl)(int, PL_IOCTL_REQ, ...);
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
/* The endpoint's count of accept events sent on the channel whose stats
 * region is attached now (struct hl_stats_hdr.ev_sent), or NULL. */
const _Atomic uint64_t *pl_stats_ev_sent(void);
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
	uint32_t region_id;
	struct pl_ctl *ctl;           /* where REGION_FREE goes */
	atomic_int peer_dead;
	atomic_int connecting;        /* nonblocking connect not yet confirmed */
	atomic_int forked;            /* another process may hold the ring too */
	_Atomic uint64_t unfork_at;   /* forked: when to ask again whether it
				       * still is (pl_sock_unfork(), CLOCK_MONOTONIC ns) */
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
	/* PENDING whose kernel socket connected to a Service endpoint chosen
	 * here (steer): getpeername() shows the ClusterIP (vpeer). */
	struct sockaddr_storage vpeer, steer;
	socklen_t vpeer_len, steer_len;
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
	/* A listener inherited across fork() whose registration this process
	 * took over (pl_share.c): the channel it came with, still drained for
	 * the accept events sent there before; when it last tried. */
	struct pl_ctl *ctl_old;
	int64_t claim_ns;
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
/* pl_svc.c: Service leases. Keeps the candidates of redirect @r for
 * ClusterIP @vip:@port. */
void pl_svc_learn(const struct hl_proto_addr *vip, uint16_t port, const struct hl_proto_redirect *r);
/* Chooses an endpoint of @vip:@port from a live lease: 1 a hostlane one
 * (*@ep, *@ep_port), 0 one that is not (the kernel socket connects to
 * it), -1 no lease. */
int pl_svc_choose(const struct hl_proto_addr *vip, uint16_t port, struct hl_proto_addr *ep,
		  uint16_t *ep_port);
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
	int live;                     /* the peer's liveness fd it holds a
				       * reference to in the set, or -1 */
};

/* A peer's liveness fd registered in the kernel set: once per set, however
 * many connections to that peer process the set holds. */
struct pl_eplive {
	int fd;
	unsigned refs;
};

struct pl_epset {
	int epfd;                     /* the application's epoll fd */
	unsigned gen;                 /* pl_fork_gen() when it was made: an
				       * older one is shared with another
				       * process (same kernel epoll set) */
	pthread_mutex_t lock;
	struct pl_epmember *m;
	unsigned n, cap;
	struct pl_eplive *live;
	unsigned n_live, cap_live;
};

struct pl_epset *pl_epset_new(void);
void pl_epset_free(struct pl_epset *e);
/* 0, -EEXIST, -ENOMEM. */
int pl_epset_add(struct pl_epset *e, int fd, struct pl_sock *s, const struct epoll_event *ev);
/* 0, -ENOENT. */
int pl_epset_mod(struct pl_epset *e, int fd, const struct epoll_event *ev);
int pl_epset_del(struct pl_epset *e, int fd);
/* One more member of @e watches liveness fd @fd. Return: 1 if it is the
 * first (the caller registers @fd in the kernel set), 0, or -ENOMEM. */
int pl_epset_live_ref(struct pl_epset *e, int fd);
/* One member fewer watches @fd. Return: 1 if it was the last (the caller
 * removes @fd from the kernel set), 0, or -ENOENT. */
int pl_epset_live_unref(struct pl_epset *e, int fd);
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
 * thread's reply can name it). Return: the reply's status, or -errno of
 * the take (then every fd is closed and the connection given back). A
 * redirect (HL_CONN_F_REDIRECT) is returned as it is: 0, *@g NULL. */
int pl_ctl_connect(struct pl_ctl *c, struct hl_proto_msg *req, struct hl_proto_msg *rep,
		   int *fds, struct pl_region **g);
/* Gives what connection @m held back without waiting for the reply: its
 * slot (CONN_CLOSE) or its whole region (REGION_FREE). */
void pl_ctl_give_back(struct pl_ctl *c, const struct hl_proto_conn *m);
/* Sends @req on @c without waiting for its reply (dropped by whichever
 * process reads it: the channel may be shared with a parent or children). */
void pl_ctl_post(struct pl_ctl *c, struct hl_proto_msg *req);
/* The protocol version agreed with the endpoint. */
unsigned pl_ctl_version(const struct pl_ctl *c);
/* Reads what is queued on @c without blocking: accept events go to their
 * listener, stray replies are dropped. */
void pl_ctl_drain(struct pl_ctl *c);
/* Before direct connections are queued on @c's listeners: reads the accept
 * events the endpoint sent before (its count ahead of the ones read), so
 * that connections are accepted in the order they were made. A memory
 * load when none is pending. */
void pl_ctl_catch_up(struct pl_ctl *c);
/* Before an exec that hands connections over: tells the endpoint over this
 * process's working channel, if it has one (none is opened for it), that
 * what the channel holds stays held until the process exits (EXEC). An
 * endpoint without EXEC answers an error, which changes nothing. */
void pl_ctl_exec_hold(void);
void pl_ctl_atfork_child(void);
/* The pod's first address of @family (4/6), for getsockname. 0 or -ENOENT. */
int pl_ctl_pod_addr(struct pl_ctl *c, int family, struct hl_proto_addr *a);
/* True if @c is this process's own working channel. */
bool pl_ctl_own(const struct pl_ctl *c);
/* True if @c was opened by this process (working or not: direct regions
 * it brought need no monitor). */
bool pl_ctl_mine(const struct pl_ctl *c);
/* Set while this process has lost its channel (the agent went away) and
 * has not opened a new one: its waits then come back to pl_ctl_retry(). */
extern atomic_int pl_ctl_lost;
/* Opens a new channel if the back-off allows (and registers the listeners
 * again). Cheap to call; do it only while pl_ctl_lost is set. */
void pl_ctl_retry(void);
/* @ms as a wait's timeout, capped at the retry interval while the channel
 * is lost (-1: forever becomes the cap). */
int pl_ctl_lost_wait_ms(int ms);

/* The rest, by concern: slot regions, direct connections and SIGBUS
 * containment; socket operations, fork, signals, urgent data, waits, poll
 * and epoll, the exec handover. */
#include "pl_region.h"
#include "pl_sockops.h"

#endif
