/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hlnl internals: shared by the library's .c files, its unit tests and its
 * fuzz harnesses, nobody else. The reply side is split from the socket so a
 * harness can run received bytes through exactly the code a reply takes:
 * hlnl_reply_run() with the callback of the request that expects it.
 */
#ifndef HLNL_PRIVATE_H
#define HLNL_PRIVATE_H

#include <libmnl/libmnl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "hlnl.h"

#define HLNL_BUF 65536              /* above the 32 KiB skbs dumps come in */
#define HLNL_REPLY_MAX (1u << 20)   /* a PF's VF list with stats fits */

struct hlnl {
	struct mnl_socket *sock;
	unsigned int portid;
	unsigned int seq;
	char *big;       /* for a reply above HLNL_BUF, grown on demand */
	size_t bigsz;
	bool dirty;      /* an exchange ended early: drain before the next */
	_Alignas(8) char buf[HLNL_BUF]; /* messages are read in place */
};

/* core (hlnl.c) */

/* Starts a request of @type in nl->buf with a fresh sequence number. */
struct nlmsghdr *hlnl_msg_start(struct hlnl *nl, uint16_t type, uint16_t flags);

/* Sends the request and runs replies through @cb (NULL: the ack alone).
 * Return: 0, -EINTR when a dump was interrupted, or -errno. After an error
 * the rest of the reply is drained before the next request. */
int hlnl_transact(struct hlnl *nl, struct nlmsghdr *nlh, mnl_cb_t cb, void *arg);

/* hlnl_transact() with NLM_F_ACK set: for requests that only get an ack. */
int hlnl_ack(struct hlnl *nl, struct nlmsghdr *nlh);

/* A dump restarted while the kernel reports it interrupted; @build makes
 * the request anew each time (the reply overwrote it), @reset (if set)
 * forgets what the interrupted pass collected. */
int hlnl_dump(struct hlnl *nl, struct nlmsghdr *(*build)(struct hlnl *, const void *),
	      const void *barg, mnl_cb_t cb, void *arg, void (*reset)(void *));

/**
 * hlnl_reply_run() - run one received datagram through @cb.
 * Checks that every message ends (aligned) inside the datagram before any is
 * read, since libmnl walks attributes to a message's aligned end; then
 * libmnl checks @seq and @portid per message, turns NLMSG_ERROR into an
 * errno and a message marked NLM_F_DUMP_INTR into EINTR.
 * Return: 1 when more datagrams belong to the reply, 0 when it ended (ack,
 * NLMSG_DONE or a callback's MNL_CB_STOP), or -errno (-EBADMSG malformed or
 * empty,
 * -EPROTO wrong seq, -ESRCH wrong portid, -EINTR an interrupted dump, the
 * kernel's error, or the callback's).
 */
int hlnl_reply_run(const void *buf, size_t n, uint32_t seq, uint32_t portid,
		   mnl_cb_t cb, void *arg);

/* Whether the attributes from @start fill exactly @len bytes: libmnl's
 * iterators stop quietly at a malformed attribute, hlnl refuses it. */
bool hlnl_attrs_fill(const void *start, size_t len);

/* Whether the attributes of @nlh after a family header of @hdrlen fill it. */
bool hlnl_msg_attrs_ok(const struct nlmsghdr *nlh, size_t hdrlen);

/* Whether the payload of nest @a is well-formed attributes. */
bool hlnl_nest_ok(const struct nlattr *a);

/* Address length of AF_INET/AF_INET6, 0 for another family. */
static inline size_t hlnl_family_len(int family)
{
	return family == AF_INET ? 4 : family == AF_INET6 ? 16 : 0;
}

/* Copies a NUL_STRING attribute into @dst (@n bytes), truncating. */
void hlnl_copy_str(char *dst, size_t n, const struct nlattr *a);

/* links (link.c) */

/* Decodes an RTM_NEWLINK message. Return: 0 or -EBADMSG. */
int hlnl_link_parse(const struct nlmsghdr *nlh, struct hlnl_link *out);

/* The reply callback of hlnl_link_get(): @data is a struct hlnl_link. */
int hlnl_link_get_reply_cb(const struct nlmsghdr *nlh, void *data);

struct hlnl_link_list_arg {
	hlnl_link_list_cb cb;
	void *arg;
	int ret;
};

/* The reply callback of hlnl_link_list(). */
int hlnl_link_list_reply_cb(const struct nlmsghdr *nlh, void *data);

/* addresses (addr.c) */

struct hlnl_addr_list_arg {
	int index;
	struct hlnl_addr *out;
	size_t max;
	int n;
};

/* The reply callback of hlnl_addr_list(). */
int hlnl_addr_list_reply_cb(const struct nlmsghdr *nlh, void *data);

/* VFs (vf.c) */

/**
 * hlnl_vf_set_msg() - build in @buf (@len bytes) the RTM_SETLINK request
 * (with NLM_F_ACK, sequence @seq) that applies @v to VF v->vf of the PF
 * @pf_index. Return: the message length, -EINVAL (see hlnl_vf_set()),
 * -ENOSPC when @len is too small.
 */
int hlnl_vf_set_msg(void *buf, size_t len, uint32_t seq, int pf_index,
		    const struct hlnl_vf *v);

/**
 * hlnl_vf_parse() - find VF @vf in the IFLA_VFINFO_LIST of an RTM_NEWLINK
 * message (checked by hlnl_reply_run()) and decode it.
 * Return: 0, -ENOENT when the message has no such VF, -EBADMSG.
 */
int hlnl_vf_parse(const struct nlmsghdr *nlh, uint32_t vf, struct hlnl_vf *out);

struct hlnl_vf_get_arg {
	uint32_t vf;
	struct hlnl_vf *out;
	int rc;          /* -ENOENT until the VF was found */
};

/* The reply callback of hlnl_vf_get(). */
int hlnl_vf_get_reply_cb(const struct nlmsghdr *nlh, void *data);

#endif
