/* SPDX-License-Identifier: MIT */
/*
 * shmq.h — lockless single-producer/single-consumer rings in shared
 * (huge)pages between two mutually distrusting processes.
 *
 * Objects:
 *   struct shmq_region  a memfd (hugetlb when available) mapped in this
 *                       process, holding N ring pairs.
 *   struct shmq_ep      one side of a ring pair: it produces into one ring
 *                       (tx) and consumes from the other (rx).
 *
 * Conventions: int functions return 0 (or a count) on success and -errno on
 * failure; constructors return NULL and set errno. Nothing read from shared
 * memory is trusted: a peer that corrupts it makes calls fail with -EPROTO
 * (the endpoint is then "broken" for good), never crash or hang this side.
 *
 * Thread safety: the region and endpoint constructors may be called from any
 * thread. An endpoint is used by one thread at a time (the library has no
 * locks); "(tx)" and "(rx)" below say which direction a call drives.
 */
#ifndef SHMQ_H
#define SHMQ_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(SHMQ_BUILDING)
#define SHMQ_API __attribute__((visibility("default")))
#else
#define SHMQ_API
#endif

/* ---- Regions ----------------------------------------------------------- */

struct shmq_region;

/* shmq_region_create() flags. */
#define SHMQ_REGION_REQUIRE_HUGETLB 0x1u  /* fail instead of falling back */
#define SHMQ_REGION_NO_HUGETLB      0x2u  /* use a normal memfd */

/* Log levels passed to a shmq_log_fn. */
#define SHMQ_LOG_WARN 1
#define SHMQ_LOG_INFO 2

/* Optional log sink: the library never prints. */
typedef void (*shmq_log_fn)(void *arg, int level, const char *msg);

/**
 * shmq_region_create() - create a region on a new memfd and map it.
 * @size:    bytes wanted; rounded up to 2 MiB (hugetlb) or the page size.
 * @flags:   SHMQ_REGION_* flags.
 * @log:     optional log callback (NULL: silent); told about the fallback.
 * @log_arg: passed to @log.
 *
 * Tries memfd_create(MFD_HUGETLB) with 2 MiB pages first; when no hugepages
 * are available falls back to a normal memfd (see shmq_region_is_hugetlb()).
 * The size is sealed (F_SEAL_SHRINK|F_SEAL_GROW) where the filesystem allows,
 * so a peer cannot truncate the memfd under the other side's mapping.
 * Return: the region, or NULL with errno EINVAL (size 0 or too large),
 * ENOMEM (no hugepages with REQUIRE_HUGETLB, or no memory), or an errno of
 * memfd_create/ftruncate/mmap.
 * Thread safety: safe.
 */
SHMQ_API struct shmq_region *shmq_region_create(size_t size, unsigned flags,
						shmq_log_fn log, void *log_arg);

/**
 * shmq_region_map() - map a region received from another process.
 * @fd: the region memfd; it is duplicated, the caller keeps @fd.
 *
 * The size comes from fstat(); the header must carry the right magic and
 * major version and describe a layout that fits in the mapping.
 * Return: the region or NULL with errno EBADF, EPROTO (bad header or
 * layout), ENOMEM, or an errno of fstat/mmap.
 * Thread safety: safe.
 */
SHMQ_API struct shmq_region *shmq_region_map(int fd);

/**
 * shmq_region_close() - unmap the region and close its fd.
 * @r: region or NULL. Endpoints attached to it must be closed first.
 * Thread safety: not with concurrent use of @r.
 */
SHMQ_API void shmq_region_close(struct shmq_region *r);

/** shmq_region_fd() - the memfd of @r, to pass to a peer (SCM_RIGHTS). */
SHMQ_API int shmq_region_fd(const struct shmq_region *r);
/** shmq_region_size() - bytes mapped. */
SHMQ_API size_t shmq_region_size(const struct shmq_region *r);
/**
 * shmq_region_tail() - the last @len bytes of the mapping, for the caller's
 * own use (e.g. a control block next to the rings), if no ring pair of the
 * region's layout reaches into them.
 * Return: a pointer into the mapping, or NULL with errno EPROTO (bad
 * header), ENOSPC (the pairs, or a pool region's chunks, reach into them)
 * or EINVAL (@len 0 or larger
 * than the mapping). The bytes are shared with the peer: treat what is read
 * there as untrusted.
 * Thread safety: any thread.
 */
SHMQ_API void *shmq_region_tail(struct shmq_region *r, size_t len);
/**
 * shmq_region_discard() - free the region's memory for everyone who maps
 * it: punch the whole memfd. A process that touches its mapping afterwards
 * faults fresh zeroed pages in, charged to itself by the kernel (or gets
 * SIGBUS, see shmq_fault_contain()). For the creator that lets a region
 * go while a peer may still map it: no memory outlives its accounting.
 * Return: 0 or the -errno of fallocate.
 * Thread safety: any thread.
 */
SHMQ_API int shmq_region_discard(struct shmq_region *r);

/**
 * shmq_region_faulted() - 1 once a page of @r's mapping was replaced by
 * shmq_fault_contain(): the rings in it are broken for good.
 * Thread safety: any thread.
 */
SHMQ_API int shmq_region_faulted(const struct shmq_region *r);

/**
 * shmq_fault_contain() - contain a fault at @addr in a region mapping.
 * @addr: the faulting address (siginfo's si_addr of a SIGBUS).
 *
 * A peer that holds a region's memfd open for writing (both sides write
 * their rings) can punch a hole in it; this process's next access then
 * faults a page in from its own hugetlb allowance, which may be zero:
 * SIGBUS. Called from the application's SIGBUS handler, this replaces the
 * faulting page of a mapping of any shmq region of this process with
 * private memory in which every ring reads as closed and corrupt, marks the
 * region (shmq_region_faulted()) and returns 1: the handler returns, the
 * access is retried and succeeds, and only the connections in that page
 * break. Returns 0 when @addr is in no region (the handler should then do
 * what it would without shmq), -1 if the page could not be replaced.
 * Async-signal-safe; lock-free (a fixed table of the mappings).
 */
SHMQ_API int shmq_fault_contain(const void *addr);

/** shmq_region_is_hugetlb() - 1 if backed by hugepages, 0 if not. */
SHMQ_API int shmq_region_is_hugetlb(const struct shmq_region *r);
/** shmq_region_is_sealed() - 1 if the memfd size is sealed, 0 if not. */
SHMQ_API int shmq_region_is_sealed(const struct shmq_region *r);

/**
 * shmq_region_bytes() - bytes a region needs for a layout.
 * @n_pairs:  ring pairs.
 * @capacity: data bytes per direction (power of two, 4 KiB .. 1 GiB).
 * Return: the size, or 0 if the arguments are invalid or overflow.
 */
SHMQ_API size_t shmq_region_bytes(uint32_t n_pairs, uint32_t capacity);

/**
 * shmq_region_layout() - lay out @n_pairs ring pairs in a region (creator).
 * @r:        a region from shmq_region_create().
 * @n_pairs:  number of pairs (> 0).
 * @capacity: data bytes per direction (power of two, 4 KiB .. 1 GiB).
 *
 * Pairs are left uninitialised; initialise each with shmq_pair_init().
 * Return: 0, -EINVAL (bad arguments), -ENOSPC (does not fit).
 * Thread safety: not with concurrent use of @r.
 */
SHMQ_API int shmq_region_layout(struct shmq_region *r, uint32_t n_pairs, uint32_t capacity);

/**
 * shmq_region_layout_pool() - lay out a pool region (layout 2.0, creator):
 * @n_pairs ring pairs whose stream rings start with @capacity bytes per
 * direction in their slot and grow into the chunk pool that fills the rest
 * of the region.
 * @r:          a region from shmq_region_create().
 * @n_pairs:    number of pairs (> 0).
 * @capacity:   the slot's own data bytes per direction (power of two,
 *              4 KiB .. 1 GiB): the smallest a ring gets.
 * @chunk_size: pool chunk bytes (power of two, 4 KiB .. 1 MiB).
 * @grow_max:   the largest a ring grows to (power of two, @chunk_size ..
 *              64 * @chunk_size).
 *
 * Side s of every pair produces into the chunks of half s of the pool (at
 * most 1024 chunks a side): a side can only ever grow its own rings, with
 * its own memory. Message-mode pairs of such a region do not grow.
 * Return: 0, -EINVAL (bad arguments), -ENOSPC (the pairs do not fit).
 * Thread safety: not with concurrent use of @r.
 */
SHMQ_API int shmq_region_layout_pool(struct shmq_region *r, uint32_t n_pairs,
				     uint32_t capacity, uint32_t chunk_size, uint32_t grow_max);

/**
 * shmq_region_pool_free() - free chunks of side @side's half of the pool.
 * Return: the count, -EINVAL (not a pool region, or @side > 1), -EPROTO
 * (inconsistent header).
 */
SHMQ_API int shmq_region_pool_free(struct shmq_region *r, unsigned side);

/**
 * shmq_region_pairs() - number of pairs laid out in @r.
 * Return: the count, or -EPROTO if the header is inconsistent.
 */
SHMQ_API int shmq_region_pairs(struct shmq_region *r);

/* Ring pair modes. */
enum shmq_mode {
	SHMQ_MODE_MSG = 1,    /* length-prefixed messages */
	SHMQ_MODE_STREAM = 2, /* byte stream: partial reads and writes */
};

/**
 * shmq_pair_init() - (re)initialise ring pair @idx of @r in @mode.
 * In a pool region the pool areas its rings still name go back first
 * (only areas valid in the half of the ring's producer).
 * Return: 0, -EINVAL (bad mode), -ENOENT (no such pair), -EPROTO.
 * Thread safety: no endpoint may be attached to the pair.
 */
SHMQ_API int shmq_pair_init(struct shmq_region *r, uint32_t idx, enum shmq_mode mode);

/**
 * shmq_pair_closed() - which sides of ring pair @idx have closed their
 * endpoint (shmq_ep_close(); shmq_ep_detach() does not count).
 * Return: a mask (1: side 0, 2: side 1), -ENOENT (no such pair), -EPROTO.
 * The flags live in shared memory: a hostile peer can fake them for the
 * pairs it shares, so use this only to recycle memory that peer shares.
 * Thread safety: any thread; lock-free reads.
 */
SHMQ_API int shmq_pair_closed(struct shmq_region *r, uint32_t idx);

/* ---- Raw pair memory (no region) ---------------------------------------- */

/** shmq_pair_bytes() - bytes of one ring pair of @capacity (0 if invalid). */
SHMQ_API size_t shmq_pair_bytes(uint32_t capacity);

/**
 * shmq_pair_format() - initialise a ring pair in caller memory.
 * @mem: at least shmq_pair_bytes(@capacity) bytes, 128-byte aligned.
 * Return: 0 or -EINVAL.
 */
SHMQ_API int shmq_pair_format(void *mem, size_t len, uint32_t capacity, enum shmq_mode mode);

/* ---- Endpoints ---------------------------------------------------------- */

struct shmq_ep;

/**
 * shmq_ep_open() - attach to one side of a ring pair in memory.
 * @mem:  the pair, @len bytes of it mapped (the bound no access crosses).
 * @side: 0 or 1; side 0 produces into ring 0 and consumes ring 1.
 *
 * Validates both ring headers and takes private copies of everything the
 * fast path needs. No notification fds are set (see shmq_ep_set_fds()).
 * Return: the endpoint, or NULL with errno EINVAL or EPROTO (bad headers).
 * Thread safety: safe.
 */
SHMQ_API struct shmq_ep *shmq_ep_open(void *mem, size_t len, unsigned side);

/**
 * shmq_ep_attach() - attach to side @side of pair @idx of region @r.
 * Return: as shmq_ep_open(), plus ENOENT if there is no such pair.
 */
SHMQ_API struct shmq_ep *shmq_ep_attach(struct shmq_region *r, uint32_t idx, unsigned side);

/**
 * shmq_ep_close() - mark both directions closed for the peer and free @ep.
 * The peer reads what is left then sees end-of-stream; its writes fail with
 * -EPIPE. Does not close the fds given to shmq_ep_set_fds().
 */
SHMQ_API void shmq_ep_close(struct shmq_ep *ep);

/**
 * shmq_ep_abort() - like shmq_ep_close(), but the peer's side is reset
 * (an abortive close, TCP's RST): shmq_peer_flags() says SHMQ_PF_RESET
 * there. The data already queued stays readable. Does not close the fds
 * given to shmq_ep_set_fds().
 */
SHMQ_API void shmq_ep_abort(struct shmq_ep *ep);

/* shmq_peer_flags() bits. */
#define SHMQ_PF_SHUT  0x1  /* the peer's direction to us ended (shut down or closed) */
#define SHMQ_PF_RESET 0x2  /* ... by a reset (shmq_ep_abort()) */
#define SHMQ_PF_GONE  0x4  /* the peer closed its endpoint: nothing it is sent is read */

/**
 * shmq_peer_flags() - how the peer ended the pair so far (SHMQ_PF_*; 0: it
 * did not). The flags are the peer's to write: a hostile peer can say
 * anything here, as with any close. Lock-free reads; no system call.
 */
SHMQ_API int shmq_peer_flags(struct shmq_ep *ep);

/**
 * shmq_ep_detach() - free @ep without telling the peer anything: the ring
 * stays open, and another endpoint of this side (in this or another
 * process, e.g. after fork) may attach to it and carry on from the shared
 * indices. NULL is ignored. Does not close the fds given to
 * shmq_ep_set_fds().
 */
SHMQ_API void shmq_ep_detach(struct shmq_ep *ep);

/**
 * shmq_ep_resync() - take @ep's own indices (and the peer's) from shared
 * memory again, as shmq_ep_open() does: for an endpoint whose side other
 * endpoints (another process after fork, attached with shmq_ep_attach())
 * moved meanwhile. The caller makes sure no other endpoint of this side
 * is in use during and after the call; a zero-copy reservation or peek
 * in progress is dropped. The endpoint's fds, spin and shutdown state stay.
 * Return: 0, or -EPROTO if the shared indices are inconsistent (@ep is
 * then broken).
 */
SHMQ_API int shmq_ep_resync(struct shmq_ep *ep);

/** shmq_ep_mode() - SHMQ_MODE_MSG or SHMQ_MODE_STREAM. */
SHMQ_API enum shmq_mode shmq_ep_mode(const struct shmq_ep *ep);
/** shmq_ep_capacity() - data bytes of the tx ring (of its current area,
 * for a ring of a pool region that grows and shrinks). */
SHMQ_API size_t shmq_ep_capacity(const struct shmq_ep *ep);
/** shmq_ep_rx_capacity() - data bytes of the rx ring's current area, as
 * far as this side has followed the peer's moves (version node SHMQ_1.4). */
SHMQ_API size_t shmq_ep_rx_capacity(const struct shmq_ep *ep);

/**
 * shmq_ep_trim() - give the tx ring's pool memory back (layout 2.0).
 * @ep: an endpoint of a pair in a pool region (else nothing to do).
 *
 * A stream ring of a pool region grows on its own when writes keep finding
 * it full and halves when it stays nearly empty while written; an idle
 * connection writes nothing, so its owner calls this when it finds the
 * connection idle: the ring moves back to its slot's own area (data not
 * yet read stays where it is until the peer has read it) and the chunks
 * go back to the pool as soon as the peer has left them.
 * Return: 0 when the ring holds no pool memory any more; -EAGAIN while the
 * peer still has to read data in a pool area (call again later); -EPROTO
 * (broken).
 * Thread safety: as any tx call of @ep.
 */
SHMQ_API int shmq_ep_trim(struct shmq_ep *ep);
/** shmq_ep_max_msg() - largest message payload (MSG mode). */
SHMQ_API size_t shmq_ep_max_msg(const struct shmq_ep *ep);
/** shmq_ep_broken() - 1 once the peer has violated the protocol. */
SHMQ_API int shmq_ep_broken(const struct shmq_ep *ep);

/* ---- Notification and liveness ------------------------------------------ */

/* Kinds of liveness fd for shmq_ep_set_fds(). */
#define SHMQ_PEER_NONE   0
#define SHMQ_PEER_PIDFD  1  /* pidfd_open() of the peer: readable when it exits */
#define SHMQ_PEER_SOCKET 2  /* a connected socket to the peer: hang-up = dead */

/**
 * shmq_ep_set_fds() - set notification and liveness fds.
 * @self_efd: eventfd this side sleeps on (the peer writes it), or -1.
 * @peer_efd: eventfd the peer sleeps on (this side writes it), or -1.
 * @live_fd:  liveness fd of kind @live_kind, or -1.
 *
 * Eventfds must be non-blocking (EFD_NONBLOCK). The fds stay owned by the
 * caller. With @peer_efd set, every publication of an index is followed by a
 * full fence and a look at the peer's waiting flag (no syscall unless the
 * peer announced it sleeps). Without it, the peer cannot sleep on us.
 * Return: 0 or -EINVAL.
 */
SHMQ_API int shmq_ep_set_fds(struct shmq_ep *ep, int self_efd, int peer_efd,
			     int live_fd, int live_kind);

/**
 * shmq_ep_set_spin() - spin budget of shmq_wait() before it sleeps.
 * @ns: nanoseconds to busy-poll (0: sleep at once). Default 50000.
 */
SHMQ_API void shmq_ep_set_spin(struct shmq_ep *ep, uint64_t ns);

/** shmq_ep_fd() - the eventfd this side sleeps on (for epoll), or -1. */
SHMQ_API int shmq_ep_fd(const struct shmq_ep *ep);

/* Readiness bits (same values as poll(2)). */
#define SHMQ_POLLIN  0x001
#define SHMQ_POLLOUT 0x004
#define SHMQ_POLLERR 0x008
#define SHMQ_POLLHUP 0x010

/**
 * shmq_poll() - readiness without a syscall.
 * Return: SHMQ_POLLIN (data, or end-of-stream pending), SHMQ_POLLOUT (space
 * for at least one byte / one minimal message), SHMQ_POLLHUP (peer shut its
 * direction and everything is read), SHMQ_POLLERR (broken).
 */
SHMQ_API int shmq_poll(struct shmq_ep *ep);

/**
 * shmq_wait() - wait until any of @events is ready: spin, then sleep.
 * @events:     SHMQ_POLLIN and/or SHMQ_POLLOUT.
 * @timeout_ms: -1 forever, 0 no sleep (spin budget only), else milliseconds.
 *
 * Sleeps in poll(2) on the self eventfd and the liveness fd after announcing
 * it in the shared waiting flags, so no wake-up is lost (docs/shmq.md).
 * Return: the ready mask (> 0, may include POLLHUP/POLLERR), -ETIMEDOUT,
 * -ECONNRESET (the peer died and nothing is left to read), -EINTR, or the
 * errno of poll/read.
 */
SHMQ_API int shmq_wait(struct shmq_ep *ep, int events, int timeout_ms);

/**
 * shmq_arm() - announce that the caller is about to sleep in epoll.
 * Return: the ready mask if something is ready already (do not sleep), or 0:
 * armed, the peer will write the eventfd. Call shmq_handle_event() after
 * waking.
 */
SHMQ_API int shmq_arm(struct shmq_ep *ep, int events);

/**
 * shmq_arm_edge() - like shmq_arm(), but the waiting flags stay set even
 * when something is ready already: the peer writes the eventfd on its next
 * publication whatever the state now. For edge-triggered waiters that sleep
 * while data they already reported is still unread, and must wake when more
 * arrives: arm, then re-check (the caller's edge test), then sleep.
 * Return: the ready mask now (0: nothing ready). Call shmq_handle_event()
 * after waking (it clears the flags).
 */
SHMQ_API int shmq_arm_edge(struct shmq_ep *ep, int events);

/**
 * shmq_handle_event() - drain the self eventfd and clear the waiting flags.
 * Return: the ready mask (>= 0) or -errno of read().
 */
SHMQ_API int shmq_handle_event(struct shmq_ep *ep);

/**
 * shmq_shutdown() - no more data from this side (like shutdown(SHUT_WR)).
 * The peer drains what is queued, then sees end-of-stream. Later writes
 * fail with -EPIPE. Return: 0.
 */
SHMQ_API int shmq_shutdown(struct shmq_ep *ep);

/* ---- Message mode ------------------------------------------------------- */

/* Flags for shmq_recv() / shmq_read(). */
#define SHMQ_PEEK 0x1u  /* return data but leave it queued (MSG_PEEK) */

/**
 * shmq_send() - queue one message. (tx)
 * Return: 0, -EAGAIN (no room now), -EMSGSIZE (> shmq_ep_max_msg()),
 * -EPIPE (shut down or the peer closed), -EPROTO (broken), -EINVAL (mode).
 */
SHMQ_API int shmq_send(struct shmq_ep *ep, const void *buf, size_t len);

/**
 * shmq_recv() - dequeue one message into @buf. (rx)
 * @flags: 0 or SHMQ_PEEK.
 * Return: its length (a longer message is truncated to @len and the rest
 * dropped, like a datagram socket), -EAGAIN (nothing queued), -EPIPE (peer
 * shut down and all read), -EPROTO, -EINVAL.
 */
SHMQ_API ssize_t shmq_recv(struct shmq_ep *ep, void *buf, size_t len, unsigned flags);

/**
 * shmq_send_burst() - queue up to @n messages, publish once. (tx)
 * Return: messages queued (> 0), or the error shmq_send() would give for
 * the first one.
 */
SHMQ_API int shmq_send_burst(struct shmq_ep *ep, const struct iovec *msgs, unsigned n);

/**
 * shmq_recv_burst() - dequeue up to @n messages, publish once. (rx)
 * Each msgs[i].iov_len is set to the received length (truncated as in
 * shmq_recv()).
 * Return: messages dequeued (> 0), or the error shmq_recv() would give.
 */
SHMQ_API int shmq_recv_burst(struct shmq_ep *ep, struct iovec *msgs, unsigned n);

/* ---- Byte-stream mode --------------------------------------------------- */

/**
 * shmq_write() - write up to @len bytes (partial writes). (tx)
 * Return: bytes written (> 0, or 0 if @len is 0), -EAGAIN, -EPIPE, -EPROTO,
 * -EINVAL.
 */
SHMQ_API ssize_t shmq_write(struct shmq_ep *ep, const void *buf, size_t len);

/**
 * shmq_read() - read up to @len bytes. (rx)
 * @flags: 0 or SHMQ_PEEK.
 * Return: bytes read (> 0), 0 at end-of-stream (peer shut down, all read),
 * -EAGAIN, -EPROTO, -EINVAL.
 */
SHMQ_API ssize_t shmq_read(struct shmq_ep *ep, void *buf, size_t len, unsigned flags);

/** shmq_readable() - bytes (STREAM) or next message length (MSG) readable
 *  now (FIONREAD), or -EAGAIN (none), -EPROTO. (rx) */
SHMQ_API ssize_t shmq_readable(struct shmq_ep *ep);

/**
 * shmq_poll_rx() - the receive side of shmq_poll() alone (SHMQ_POLLIN,
 * SHMQ_POLLHUP at end-of-stream, SHMQ_POLLERR), with the bytes (STREAM) or
 * next message length (MSG) readable in *@avail (0: none). STREAM reads the
 * peer's index once and the send side not at all: the cheap check for a
 * reader polling many endpoints. (rx)
 */
SHMQ_API int shmq_poll_rx(struct shmq_ep *ep, uint64_t *avail);

/** shmq_writable() - bytes (STREAM) or largest message (MSG) that can be
 *  written now without blocking, or -EPROTO. (tx) */
SHMQ_API ssize_t shmq_writable(struct shmq_ep *ep);

/* ---- Urgent data (STREAM) ------------------------------------------------ */

/**
 * shmq_urgent_mark() - the last byte written is urgent (TCP's MSG_OOB):
 * the peer's shmq_urgent() reports it from now on, until a later mark
 * replaces it. Wakes the peer if it sleeps for data. (tx)
 * Return: 0, -EINVAL (not STREAM, or nothing written yet), -EPROTO.
 */
SHMQ_API int shmq_urgent_mark(struct shmq_ep *ep);

/* What shmq_urgent() reports. Stream positions count bytes ever sent. */
struct shmq_urgent {
	uint64_t pos;    /* the urgent byte's position */
	uint64_t head;   /* ours: the next byte to read */
	uint8_t byte;    /* its value */
	int taken;       /* shmq_urgent_take() was called for it */
};

/**
 * shmq_urgent() - the latest urgent byte the peer marked, if it is not
 * read yet (its position is at or after ours). (rx)
 * Return: 1 (@u filled), 0 (none), -EPROTO (the peer's mark is not a
 * position it sent: ignore it; the endpoint stays usable).
 */
SHMQ_API int shmq_urgent(struct shmq_ep *ep, struct shmq_urgent *u);

/**
 * shmq_urgent_take() - record that the urgent byte at @pos was taken out of
 * band (shared with other endpoints of this side, e.g. after fork). (rx)
 */
SHMQ_API void shmq_urgent_take(struct shmq_ep *ep, uint64_t pos);

/* ---- Zero copy (both modes) --------------------------------------------- */

/**
 * shmq_reserve() - get ring memory to write into. (tx)
 * @len: MSG: the message length (reserved whole); STREAM: bytes wanted.
 * @ptr: set to the writable memory.
 * Return: bytes reserved (MSG: @len; STREAM: 1..@len, contiguous), -EAGAIN,
 * -EMSGSIZE, -EPIPE, -EPROTO. Nothing is visible to the peer until
 * shmq_commit().
 */
SHMQ_API ssize_t shmq_reserve(struct shmq_ep *ep, size_t len, void **ptr);

/**
 * shmq_commit() - publish @len bytes of the last reservation. (tx)
 * MSG: commits one message of @len bytes (<= reserved). STREAM: @len bytes.
 * Return: 0, -EINVAL (no reservation or @len too big), -EPROTO.
 */
SHMQ_API int shmq_commit(struct shmq_ep *ep, size_t len);

/**
 * shmq_peek() - read in place. (rx)
 * @ptr: set to the data in the ring. It is shared memory: the peer can
 *       still change it; copy before you validate what you will act on.
 * Return: MSG: the length of the next message; STREAM: contiguous bytes
 * readable; -EAGAIN, -EPIPE (MSG) / 0 (STREAM) at end-of-stream, -EPROTO.
 */
SHMQ_API ssize_t shmq_peek(struct shmq_ep *ep, const void **ptr);

/**
 * shmq_release() - consume what shmq_peek() returned. (rx)
 * MSG: releases the message (@len ignored). STREAM: @len bytes (<= peeked).
 * Return: 0, -EINVAL (nothing peeked or @len too big).
 */
SHMQ_API int shmq_release(struct shmq_ep *ep, size_t len);

#ifdef __cplusplus
}
#endif
#endif /* SHMQ_H */
