/* SPDX-License-Identifier: Apache-2.0 */
/* hlnl core: the handle, namespaces, and one request/reply exchange with
 * its checks. The requests themselves live in link.c, addr.c, route.c and
 * vf.c. See hlnl.h. */
#include "hlnl_private.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define HLNL_DUMP_RETRIES 5

struct hlnl *hlnl_open(void)
{
	struct hlnl *nl = calloc(1, sizeof(*nl));
	int one = 1;

	if (!nl)
		return NULL;
	nl->sock = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (!nl->sock)
		goto fail;
	/* Extended acks give the kernel's reason in dmesg-free form; harmless if
	 * unsupported, and strict checking makes dumps filter server-side. */
	(void)mnl_socket_setsockopt(nl->sock, NETLINK_EXT_ACK, &one, sizeof(one));
	(void)mnl_socket_setsockopt(nl->sock, NETLINK_GET_STRICT_CHK, &one, sizeof(one));
	if (mnl_socket_bind(nl->sock, 0, MNL_SOCKET_AUTOPID) < 0)
		goto fail;
	nl->portid = mnl_socket_get_portid(nl->sock);
	nl->seq = (unsigned int)time(NULL);
	return nl;
fail: {
	int e = errno;

	if (nl->sock)
		mnl_socket_close(nl->sock);
	free(nl);
	errno = e;
	return NULL;
}
}

void hlnl_close(struct hlnl *nl)
{
	if (!nl)
		return;
	mnl_socket_close(nl->sock);
	free(nl->big);
	free(nl);
}

int hlnl_ns_open(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

int hlnl_ns_enter(int nsfd, int *saved)
{
	int cur = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);

	if (cur < 0)
		return -errno;
	if (setns(nsfd, CLONE_NEWNET) < 0) {
		int e = errno;

		close(cur);
		return -e;
	}
	*saved = cur;
	return 0;
}

int hlnl_ns_return(int saved)
{
	int rc = setns(saved, CLONE_NEWNET) < 0 ? -errno : 0;

	close(saved);
	return rc;
}

struct hlnl *hlnl_open_ns(int nsfd)
{
	struct hlnl *nl;
	int saved, rc, e;

	rc = hlnl_ns_enter(nsfd, &saved);
	if (rc < 0) {
		errno = -rc;
		return NULL;
	}
	nl = hlnl_open();
	e = errno;
	if (hlnl_ns_return(saved) < 0) {
		/* Staying in the pod's netns would corrupt everything after this;
		 * there is nothing sane left to do in this thread. */
		hlnl_close(nl);
		errno = ENOTRECOVERABLE;
		return NULL;
	}
	errno = e;
	return nl;
}

struct nlmsghdr *hlnl_msg_start(struct hlnl *nl, uint16_t type, uint16_t flags)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(nl->buf);

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	nlh->nlmsg_seq = ++nl->seq;
	return nlh;
}

/* An errno set by libmnl from a message: the kernel's, or anything a
 * forged NLMSG_ERROR says, so it is range-checked before it is negated. */
static int mnl_errno(void)
{
	int e = errno;

	return e > 0 && e < 4096 ? -e : -EIO;
}

int hlnl_reply_run(const void *buf, size_t n, uint32_t seq, uint32_t portid,
		   mnl_cb_t cb, void *arg)
{
	const char *p = buf;
	size_t left = n;
	int rc;

	if (!n)
		return -EBADMSG; /* a datagram without a message */
	while (left) {
		const struct nlmsghdr *h = (const struct nlmsghdr *)p;

		/* nlmsg_len first: aligning a length near 4 GiB wraps to 0 */
		if (left < sizeof(*h) || h->nlmsg_len < sizeof(*h) ||
		    h->nlmsg_len > left || MNL_ALIGN(h->nlmsg_len) > left)
			return -EBADMSG;
		p += MNL_ALIGN(h->nlmsg_len);
		left -= MNL_ALIGN(h->nlmsg_len);
	}
	errno = 0;
	rc = mnl_cb_run(buf, n, seq, portid, cb, arg);
	if (rc == MNL_CB_ERROR)
		return mnl_errno();
	return rc == MNL_CB_STOP ? 0 : 1;
}

/* Receives the next datagram whole: one above the handle's buffer (a PF's
 * VF list) goes to a buffer of its size, since the kernel would cut it.
 * Return: its length with *out pointing at it, or -errno. */
static ssize_t recv_whole(struct hlnl *nl, char **out)
{
	int fd = mnl_socket_get_fd(nl->sock);
	ssize_t want = recv(fd, NULL, 0, MSG_PEEK | MSG_TRUNC), n;
	char *b = nl->buf;
	size_t bsz = sizeof(nl->buf);

	if (want < 0)
		return -errno;
	if ((size_t)want > bsz) {
		if ((size_t)want > HLNL_REPLY_MAX) {
			(void)recv(fd, NULL, 0, MSG_TRUNC); /* drop it */
			return -EMSGSIZE;
		}
		if ((size_t)want > nl->bigsz) {
			char *nb = realloc(nl->big, (size_t)want);

			if (!nb)
				return -ENOMEM;
			nl->big = nb;
			nl->bigsz = (size_t)want;
		}
		b = nl->big;
		bsz = nl->bigsz;
	}
	n = mnl_socket_recvfrom(nl->sock, b, bsz);
	if (n < 0)
		return -errno;
	*out = b;
	return n;
}

/* Discards what is left of an exchange that ended early (a refused reply,
 * an error in a callback): its rest would fail the next one's seq check.
 * Receiving also lets the kernel produce the rest of a dump, so this runs
 * until the socket is empty. */
static void drain(struct hlnl *nl)
{
	int fd = mnl_socket_get_fd(nl->sock);

	while (recv(fd, NULL, 0, MSG_DONTWAIT | MSG_TRUNC) >= 0)
		;
	nl->dirty = false;
}

int hlnl_transact(struct hlnl *nl, struct nlmsghdr *nlh, mnl_cb_t cb, void *arg)
{
	unsigned int seq = nlh->nlmsg_seq;
	int rc;

	if (nl->dirty)
		drain(nl);
	if (mnl_socket_sendto(nl->sock, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	do {
		char *b = NULL;
		ssize_t n = recv_whole(nl, &b);

		rc = n < 0 ? (int)n : hlnl_reply_run(b, (size_t)n, seq, nl->portid, cb, arg);
	} while (rc > 0);
	if (rc < 0)
		nl->dirty = true; /* also after -EINTR: the rest of that dump is queued */
	return rc;
}

int hlnl_ack(struct hlnl *nl, struct nlmsghdr *nlh)
{
	nlh->nlmsg_flags |= NLM_F_ACK;
	return hlnl_transact(nl, nlh, NULL, NULL);
}

int hlnl_dump(struct hlnl *nl, struct nlmsghdr *(*build)(struct hlnl *, const void *),
	      const void *barg, mnl_cb_t cb, void *arg, void (*reset)(void *))
{
	for (int i = 0; i < HLNL_DUMP_RETRIES; i++) {
		int rc = hlnl_transact(nl, build(nl, barg), cb, arg);

		if (rc != -EINTR)
			return rc;
		if (reset)
			reset(arg);
	}
	return -EAGAIN;
}

/* ---- attribute helpers ---- */

bool hlnl_attrs_fill(const void *start, size_t len)
{
	const char *p = start, *end = p + len;

	while (end - p >= (ptrdiff_t)sizeof(struct nlattr)) {
		const struct nlattr *a = (const struct nlattr *)p;

		if (!mnl_attr_ok(a, (int)(end - p)))
			return false;
		p += MNL_ALIGN(a->nla_len);
	}
	return p >= end; /* 1..3 stray bytes are malformed too */
}

bool hlnl_msg_attrs_ok(const struct nlmsghdr *nlh, size_t hdrlen)
{
	size_t plen = mnl_nlmsg_get_payload_len(nlh);

	if (plen < MNL_ALIGN(hdrlen))
		return false;
	return hlnl_attrs_fill(mnl_nlmsg_get_payload_offset(nlh, hdrlen),
			       plen - MNL_ALIGN(hdrlen));
}

bool hlnl_nest_ok(const struct nlattr *a)
{
	return hlnl_attrs_fill(mnl_attr_get_payload(a), mnl_attr_get_payload_len(a));
}

void hlnl_copy_str(char *dst, size_t n, const struct nlattr *a)
{
	size_t len = strnlen(mnl_attr_get_str(a), mnl_attr_get_payload_len(a));

	if (len >= n)
		len = n - 1;
	memcpy(dst, mnl_attr_get_str(a), len);
	dst[len] = '\0';
}
