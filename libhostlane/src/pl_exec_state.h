/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pl_exec_state.h — the exec handover state of the LD_PRELOAD layer: the
 * format the old image writes (pl_exec.c) and the new image reads
 * (pl_exec_restore.c) after checking it whole (pl_exec_state.c, fuzzed by
 * fuzz_pl_exec_state). An ABI between two images of the layer, which may
 * be different builds: it has its own magic and version. Not installed.
 */
#ifndef HL_PL_EXEC_STATE_H
#define HL_PL_EXEC_STATE_H

#include <stddef.h>
#include <stdint.h>

#include "hostlane_proto.h"

/*
 * The state of inherited hostlane sockets handed to the new image across
 * execve(): a sealed memfd (no close-on-exec) named by HOSTLANE_EXEC_STATE
 * holding a header and one record per socket, records of the application's
 * fds in increasing fd order first, then the queued (not yet accepted)
 * connections of listeners and the close-on-exec connections. Every fd a
 * record names is a dup made for the exec, without close-on-exec. The new
 * image trusts none of it.
 */
#define PL_EXEC_ENV "HOSTLANE_EXEC_STATE"
#define PL_EXEC_MAGIC 0x58454c48u   /* "HLEX" */
#define PL_EXEC_VERSION 2u   /* 2: PL_XF_OOBINLINE, PL_XF_LINGER, linger_s; 1 still read */
#define PL_EXEC_MAX_RECS 65536u

enum pl_exec_kind {
	PL_X_PENDING = 1,  /* a kernel socket that may still connect over hostlane */
	PL_X_LISTEN = 2,   /* fds: kernel listener, accept eventfd */
	PL_X_CONN = 3,     /* fds: region memfd, own eventfd, peer's eventfd, peer pidfd */
	PL_X_QUEUED = 4,   /* a connection queued on listener @fd; fds as CONN */
	PL_X_CLOSED = 5,   /* a close-on-exec connection (fd -1): the new image
			    * ends it for the peer, as the kernel closes it */
};

#define PL_XF_NONBLOCK    0x001u
#define PL_XF_FORKED      0x002u
#define PL_XF_PEER_DEAD   0x004u
#define PL_XF_RESET       0x008u
#define PL_XF_EOF_SEEN    0x010u
#define PL_XF_SHUT_RD     0x020u
#define PL_XF_SHUT_WR     0x040u
#define PL_XF_CONNECTING  0x080u
#define PL_XF_KERNEL_ONLY 0x100u   /* LISTEN: keep it a plain kernel listener */
#define PL_XF_OOBINLINE   0x200u   /* SO_OOBINLINE (version 2) */
#define PL_XF_LINGER      0x400u   /* SO_LINGER on, for linger_s seconds (version 2) */
#define PL_XF_ALL_V1      0x1ffu
#define PL_XF_ALL         0x7ffu

struct pl_exec_hdr {
	uint32_t magic, version, rec_size, n_recs;
	int32_t pid;        /* exec keeps the pid: a state of another process is refused */
	int32_t shref_fd;   /* memfd of the fork holder slots, or -1 */
	uint32_t reserved[2];
};

struct pl_exec_rec {
	uint32_t kind, flags;
	int32_t fd;          /* the application's fd (QUEUED: its listener's) */
	int32_t family;      /* AF_INET, AF_INET6 */
	int32_t fds[4];      /* see enum pl_exec_kind; unused ones -1 */
	uint32_t pair, side;
	int32_t shref;       /* fork holder slot or -1 */
	int32_t pending_err, so_error;
	int32_t backlog;
	uint16_t port, peer_port;  /* LISTEN: its port; QUEUED: local and peer port */
	int32_t opt[6];      /* nodelay reuseaddr reuseport keepalive rcvbuf sndbuf */
	int32_t linger_s;    /* SO_LINGER's l_linger (version 2; 0 in 1) */
	int64_t rcvtimeo_us, sndtimeo_us;
	uint32_t local_len, peer_len;
	uint8_t local[128], peer[128];  /* sockaddrs (CONN, LISTEN; PENDING whose
					 * kernel socket the layer connected to a
					 * Service endpoint: the endpoint and the
					 * ClusterIP, else none) */
	struct hl_proto_addr qpeer;     /* QUEUED: the connector's address */
	uint32_t pad;
};

_Static_assert(sizeof(struct pl_exec_hdr) == 32, "exec header size");
_Static_assert(sizeof(struct pl_exec_rec) == 392, "exec record size");

/*
 * Validates a handover state of @len bytes at @buf (8-byte aligned) that
 * claims to be for process @pid: header, sizes, every field of every record
 * (kinds, flags, fd ranges, no fd named twice, addresses, timeouts, queued
 * connections naming a listener of the state). Touches no fd.
 * Return: the number of records (*@recs points at them in @buf, *@shref_fd
 * set), -EPROTO (malformed), -ESRCH (another pid's state), -ENOMEM.
 * Thread safety: pure; safe.
 */
int pl_exec_state_check(const void *buf, size_t len, int pid, const struct pl_exec_rec **recs,
			int *shref_fd);

#endif
