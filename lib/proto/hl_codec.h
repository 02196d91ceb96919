/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Codec of the pod protocol (hostlane_proto.h), shared by the endpoint in
 * hostlaned and by libhostlane. Internal: not exported from libhostlane.so.
 * Pure functions on caller buffers; thread-safe.
 */
#ifndef HOSTLANE_PROTO_CODEC_H
#define HOSTLANE_PROTO_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "hostlane_proto.h"

/* Zeroes @m and fills its header for @op and @seq. */
void hl_proto_init(struct hl_proto_msg *m, uint16_t op, uint32_t seq);

/*
 * Validates a request received from a pod (untrusted) and copies it to @out.
 * @len is what recv returned. Every header field and every body field is
 * checked, and the bytes after the op's body must be zero.
 * Return: 0, -EBADMSG (size or magic), -EPROTONOSUPPORT (version),
 * -EOPNOTSUPP (unknown op), -EINVAL (a field is out of range).
 */
int hl_proto_parse_request(const void *buf, size_t len, struct hl_proto_msg *out);

/*
 * Validates a reply or event received from the endpoint, with @nfds fds
 * attached, and copies it to @out. Return: 0, -EBADMSG, -EPROTONOSUPPORT,
 * -EOPNOTSUPP, -EINVAL (a field, or the fd count, is wrong).
 */
int hl_proto_parse_reply(const void *buf, size_t len, unsigned nfds, struct hl_proto_msg *out);

/*
 * Receives one reply or event and its fds (close-on-exec) from the endpoint
 * socket @sock and validates it (hl_proto_parse_reply). @recv_fn and
 * @close_fn are recvmsg and close (the preload layer passes libc's real
 * ones); fds beyond HL_PROTO_MAX_FDS, and all fds of an invalid message, are
 * closed. Retries on EINTR.
 * Return: the number of fds stored in @fds, -EAGAIN (MSG_DONTWAIT in
 * @flags and nothing queued), -ECONNRESET (the endpoint closed), -EPROTO (an
 * invalid or truncated message), or another -errno of recvmsg.
 */
int hl_proto_recv_reply(int sock, int flags, ssize_t (*recv_fn)(int, struct msghdr *, int),
			int (*close_fn)(int), struct hl_proto_msg *m, int fds[HL_PROTO_MAX_FDS]);

/* Sets every slot of @fds to -1. */
void hl_proto_fds_reset(int fds[HL_PROTO_MAX_FDS]);

/* Number of fds reply/event @m must carry (0 for an error reply). */
unsigned hl_proto_reply_fds(const struct hl_proto_msg *m);

/* Name of @op for logs ("HELLO", ...), "?" when unknown. */
const char *hl_proto_op_name(uint16_t op);

/* Parses an IPv4/IPv6 literal. 0 or -EINVAL. */
int hl_proto_addr_parse(const char *s, struct hl_proto_addr *a);
/* Formats @a into @buf (>= 46 bytes). 0 or -EINVAL (bad family/size). */
int hl_proto_addr_format(const struct hl_proto_addr *a, char *buf, size_t len);
/* True if @a is a well-formed address (family 4/6, unused bytes zero). */
bool hl_proto_addr_valid(const struct hl_proto_addr *a);
bool hl_proto_addr_eq(const struct hl_proto_addr *a, const struct hl_proto_addr *b);

#endif
