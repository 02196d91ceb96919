/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hostlane.h — the pod-side native API of hostlane.
 *
 * A process in a pod with fastpath "shm" opens its pod's endpoint (the
 * abstract unix socket `@hostlane` that the node agent bound in the pod's
 * network namespace), learns its identity, gets hugepage regions within
 * the pod's quota, and opens byte-stream connections to listeners in other
 * hostlane pods on the same node. Data moves through shared-memory rings
 * (shmq) between the two processes; the agent only sets them up.
 *
 * Conventions: int functions return 0 (or a count) or -errno; constructors
 * return NULL and set errno. When the agent refuses a request,
 * hl_last_error() has its reason (e.g. "quota 64Mi exceeded: used 60Mi,
 * asked 8Mi").
 *
 * Thread safety: the library has no threads and no locks. A context and
 * the connections opened through it are used by one thread at a time.
 */
#ifndef HOSTLANE_H
#define HOSTLANE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(HL_BUILDING)
#define HL_API __attribute__((visibility("default")))
#else
#define HL_API
#endif

struct hl_ctx;   /* a connection to the pod's endpoint */
struct hl_conn;  /* a shared-memory byte stream to a process in another pod */

/**
 * hl_open() - connect to the pod's endpoint and say HELLO.
 * @name: "@name" for an abstract socket, else a filesystem path; NULL uses
 *        $HOSTLANE_ENDPOINT, else "@hostlane".
 * Return: the context, or NULL with errno ECONNREFUSED/ENOENT (no endpoint
 * here: the pod has no shm fast path), EPROTONOSUPPORT (version mismatch),
 * EPROTO (the endpoint broke the protocol), ENOMEM, EINVAL (bad name), or
 * an errno of socket/connect.
 */
HL_API struct hl_ctx *hl_open(const char *name);

/**
 * hl_close() - close the context. Connections opened through it must be
 * closed first (hl_conn_close()). Regions the agent handed out and that
 * were not freed are released by the agent when the socket closes. NULL ok.
 */
HL_API void hl_close(struct hl_ctx *ctx);

/** hl_ctx_fd() - the control socket: readable when an ACCEPT is pending. */
HL_API int hl_ctx_fd(const struct hl_ctx *ctx);

/** hl_last_error() - reason of the agent's last refusal ("" if none). */
HL_API const char *hl_last_error(const struct hl_ctx *ctx);

#define HL_MAX_IPS 8
struct hl_identity {
	char pod_key[256];          /* "<namespace>/<name>" or a container id */
	unsigned n_ips;
	char ips[HL_MAX_IPS][46];   /* the pod's addresses, text */
	uint64_t quota_bytes;       /* hugepage quota of the pod */
	uint64_t used_bytes;        /* charged to the pod at HELLO time */
	unsigned version;           /* negotiated protocol version */
};

/** hl_identity() - what the endpoint said at HELLO. Return: 0. */
HL_API int hl_identity(const struct hl_ctx *ctx, struct hl_identity *id);

struct hl_region {
	uint32_t id;
	int fd;          /* the memfd (close-on-exec); owned by the region */
	void *map;       /* MAP_SHARED, read/write, @size bytes */
	size_t size;     /* charged to the pod's quota (rounded to 2 MiB) */
	int hugetlb;     /* 1 if backed by hugepages */
};

/**
 * hl_region_alloc() - get a new zeroed shared-memory region of at least
 * @size bytes, charged to the pod's quota, and map it.
 * Return: 0 and *@r filled, -ENOSPC (over the pod's quota or the node pool:
 * see hl_last_error()), -EINVAL, -ENOMEM, -EPROTO, -ECONNRESET (endpoint
 * gone), or an errno of mmap.
 */
HL_API int hl_region_alloc(struct hl_ctx *ctx, size_t size, struct hl_region *r);

/**
 * hl_region_free() - unmap, close and return the region to the quota.
 * Return: 0, -ENOENT (not a region of this context), -ECONNRESET, -EPROTO.
 * The mapping and fd are released even on error.
 */
HL_API int hl_region_free(struct hl_ctx *ctx, struct hl_region *r);

/**
 * hl_listen() - accept hostlane connections to @port of this pod's
 * addresses. Return: 0, -EADDRINUSE (another process of the pod listens
 * there), -ENOBUFS, -EINVAL (port 0), -ECONNRESET, -EPROTO.
 */
HL_API int hl_listen(struct hl_ctx *ctx, uint16_t port);

/** hl_unlisten() - stop accepting on @port. 0, -ENOENT, -ECONNRESET. */
HL_API int hl_unlisten(struct hl_ctx *ctx, uint16_t port);

/**
 * hl_accept() - take the next incoming connection.
 * @timeout_ms: -1 wait forever, 0 do not wait.
 * Return: 0 and *@conn set, -ETIMEDOUT (0: -EAGAIN), -ECONNRESET (endpoint
 * gone), -EPROTO, -ENOMEM, or the error of mapping what was handed over.
 */
HL_API int hl_accept(struct hl_ctx *ctx, struct hl_conn **conn, int timeout_ms);

/**
 * hl_connect() - connect to a hostlane listener at @ip:@port in a pod on
 * this node. The ring pair's region is charged to this pod's quota.
 * Return: 0 and *@conn set, -EHOSTUNREACH (no hostlane pod has @ip: use the
 * kernel), -ECONNREFUSED (nothing listens there), -ENOSPC (quota),
 * -EAGAIN (the listener's backlog is full), -EINVAL (bad @ip),
 * -ECONNRESET, -EPROTO, -ENOMEM.
 */
HL_API int hl_connect(struct hl_ctx *ctx, const char *ip, uint16_t port, struct hl_conn **conn);

/* Flags of hl_conn_send()/hl_conn_recv(). */
#define HL_NONBLOCK 0x1  /* do not wait: -EAGAIN instead */
#define HL_WAITALL  0x2  /* recv: wait for @len bytes (or end of stream) */

/**
 * hl_conn_send() - write @len bytes. Blocking mode writes everything,
 * spinning briefly then sleeping on an eventfd while the ring is full.
 * Return: bytes written (> 0; with HL_NONBLOCK maybe fewer than @len),
 * -EAGAIN (HL_NONBLOCK, ring full), -EPIPE (peer closed or shut down),
 * -ECONNRESET (peer process died), -EPROTO (peer corrupted the ring).
 */
HL_API ssize_t hl_conn_send(struct hl_conn *conn, const void *buf, size_t len, int flags);

/**
 * hl_conn_recv() - read up to @len bytes.
 * Return: bytes read (> 0), 0 at end of stream (peer shut down or closed
 * and everything is read), -EAGAIN (HL_NONBLOCK, nothing queued),
 * -ECONNRESET (peer died with nothing left to read), -EPROTO.
 */
HL_API ssize_t hl_conn_recv(struct hl_conn *conn, void *buf, size_t len, int flags);

/** hl_conn_shutdown() - no more data from this side; the peer reads the
 *  rest, then end of stream. Return: 0. */
HL_API int hl_conn_shutdown(struct hl_conn *conn);

/**
 * hl_conn_fd() - an fd for poll/epoll (readable when the peer woke us).
 * Protocol: hl_conn_arm(); if it returns 0, sleep on the fd, then call
 * hl_conn_handle_event().
 */
HL_API int hl_conn_fd(const struct hl_conn *conn);

/* Readiness bits (poll(2) values). */
#define HL_POLLIN  0x001
#define HL_POLLOUT 0x004
#define HL_POLLERR 0x008
#define HL_POLLHUP 0x010

/** hl_conn_poll() - readiness now, without a syscall (HL_POLL* bits). */
HL_API int hl_conn_poll(struct hl_conn *conn);

/** hl_conn_arm() - announce a sleep for @events (HL_POLLIN/HL_POLLOUT).
 *  Return: the ready mask if ready already (do not sleep), or 0. */
HL_API int hl_conn_arm(struct hl_conn *conn, int events);

/** hl_conn_handle_event() - after waking on hl_conn_fd(): drain it.
 *  Return: the ready mask (>= 0) or -errno. */
HL_API int hl_conn_handle_event(struct hl_conn *conn);

/** hl_conn_peer() - the peer's address (text) and port (0 if unknown). */
HL_API int hl_conn_peer(const struct hl_conn *conn, char *ip, size_t len, uint16_t *port);

/**
 * hl_conn_close() - close the connection: the peer reads what is queued,
 * then end of stream; the region goes back to the quota once both sides
 * closed. NULL ok.
 */
HL_API void hl_conn_close(struct hl_conn *conn);

#ifdef __cplusplus
}
#endif
#endif /* HOSTLANE_H */
