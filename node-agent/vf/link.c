/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The few rtnetlink link operations hlvf needs, with libmnl: get a link by
 * name, and one RTM_NEWLINK that moves/renames/sets MAC, MTU, up.
 *
 * hlnl (cni-plugin/netlink) has no netns move, rename or MAC set yet and no
 * build rule of its own when this was written; these belong in hlnl later.
 *
 * A request for another netns runs on a socket created inside it: the
 * calling thread enters the netns only while creating the socket.
 */
#include <errno.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "vf_private.h"

/* MNL_SOCKET_BUFFER_SIZE is not a constant expression; link replies fit 8K */
#define NL_BUF 8192

static struct mnl_socket *nl_open_here(void)
{
	struct mnl_socket *nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);

	if (!nl)
		return NULL;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		int e = errno;

		mnl_socket_close(nl);
		errno = e;
		return NULL;
	}
	return nl;
}

/* A NETLINK_ROUTE socket in netns @nsfd (-1: current). NULL + errno. */
static struct mnl_socket *nl_open(int nsfd)
{
	struct mnl_socket *nl;
	int self, e;

	if (nsfd < 0)
		return nl_open_here();
	self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (self < 0)
		return NULL;
	if (setns(nsfd, CLONE_NEWNET) < 0) {
		e = errno;
		close(self);
		errno = e;
		return NULL;
	}
	nl = nl_open_here();
	e = errno;
	if (setns(self, CLONE_NEWNET) < 0) {
		/* the thread is stuck in a foreign netns: nothing is safe now */
		abort();
	}
	close(self);
	errno = e;
	return nl;
}

struct talk {
	void *reply;
	size_t replen;
	size_t got;
};

/* Keeps a copy of the first data message (an RTM_NEWLINK reply). */
static int keep_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct talk *t = arg;

	if (t->reply && !t->got && nlh->nlmsg_len <= t->replen) {
		memcpy(t->reply, nlh, nlh->nlmsg_len);
		t->got = nlh->nlmsg_len;
	}
	return MNL_CB_OK;
}

int hl_vfi_nl_request(int nsfd, void *req, void *reply, size_t replen)
{
	struct nlmsghdr *nlh = req;
	struct talk t = { .reply = reply, .replen = replen };
	struct mnl_socket *nl = nl_open(nsfd);
	size_t buflen = replen > NL_BUF ? replen : NL_BUF;
	unsigned int portid;
	char *buf;
	int rc;

	if (!nl)
		return -errno;
	buf = malloc(buflen);
	if (!buf) {
		mnl_socket_close(nl);
		return -ENOMEM;
	}
	portid = mnl_socket_get_portid(nl);
	nlh->nlmsg_flags |= NLM_F_ACK;
	if (!nlh->nlmsg_seq)
		nlh->nlmsg_seq = (uint32_t)time(NULL);
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		rc = -errno;
		goto out;
	}
	do {
		ssize_t n = mnl_socket_recvfrom(nl, buf, buflen);

		if (n < 0) {
			rc = -errno;
			break;
		}
		/* mnl_cb_run checks seq and portid, turns NLMSG_ERROR into errno */
		rc = mnl_cb_run(buf, (size_t)n, nlh->nlmsg_seq, portid, keep_cb, &t);
		if (rc < 0)
			rc = -errno;
	} while (rc > 0);
out:
	free(buf);
	mnl_socket_close(nl);
	if (!rc && reply && !t.got)
		rc = -EBADMSG;
	return rc;
}

static int link_attr_cb(const struct nlattr *a, void *arg)
{
	const struct nlattr **tb = arg;
	int type = mnl_attr_get_type(a);

	if (mnl_attr_type_valid(a, IFLA_MAX) < 0)
		return MNL_CB_OK;
	switch (type) {
	case IFLA_IFNAME:
		if (mnl_attr_validate(a, MNL_TYPE_NUL_STRING) < 0)
			return MNL_CB_ERROR;
		break;
	case IFLA_MTU:
		if (mnl_attr_validate(a, MNL_TYPE_U32) < 0)
			return MNL_CB_ERROR;
		break;
	case IFLA_ADDRESS:
		if (mnl_attr_get_payload_len(a) != 6)
			return MNL_CB_OK; /* not Ethernet: ignore */
		break;
	default:
		return MNL_CB_OK;
	}
	tb[type] = a;
	return MNL_CB_OK;
}

static int link_decode(const struct nlmsghdr *nlh, struct vf_link *out)
{
	const struct nlattr *tb[IFLA_MAX + 1] = { 0 };
	const struct ifinfomsg *ifm;

	if (nlh->nlmsg_type != RTM_NEWLINK ||
	    mnl_nlmsg_get_payload_len(nlh) < sizeof(*ifm))
		return -EBADMSG;
	ifm = mnl_nlmsg_get_payload(nlh);
	if (mnl_attr_parse(nlh, sizeof(*ifm), link_attr_cb, tb) < 0 || !tb[IFLA_IFNAME])
		return -EBADMSG;
	memset(out, 0, sizeof(*out));
	out->index = ifm->ifi_index;
	out->flags = ifm->ifi_flags;
	if (strlen(mnl_attr_get_str(tb[IFLA_IFNAME])) >= IF_NAMESIZE)
		return -EBADMSG;
	strcpy(out->name, mnl_attr_get_str(tb[IFLA_IFNAME]));
	if (tb[IFLA_MTU])
		out->mtu = mnl_attr_get_u32(tb[IFLA_MTU]);
	if (tb[IFLA_ADDRESS])
		memcpy(out->mac, mnl_attr_get_payload(tb[IFLA_ADDRESS]), 6);
	return 0;
}

int hl_vfi_link_get(int nsfd, const char *name, struct vf_link *out)
{
	char req[512], reply[NL_BUF];
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifm;
	int rc;

	if (!name || !name[0] || strlen(name) >= IF_NAMESIZE)
		return -EINVAL;
	memset(req, 0, sizeof(req));
	nlh = mnl_nlmsg_put_header(req);
	nlh->nlmsg_type = RTM_GETLINK;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
	ifm->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	rc = hl_vfi_nl_request(nsfd, nlh, reply, sizeof(reply));
	if (rc)
		return rc;
	return link_decode((const struct nlmsghdr *)reply, out);
}

int hl_vfi_link_set(int nsfd, int index, const struct vf_link_change *c)
{
	char req[512];
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifm;

	if (c->name && (!c->name[0] || strlen(c->name) >= IF_NAMESIZE))
		return -EINVAL;
	memset(req, 0, sizeof(req));
	nlh = mnl_nlmsg_put_header(req);
	nlh->nlmsg_type = RTM_NEWLINK;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
	ifm->ifi_family = AF_UNSPEC;
	ifm->ifi_index = index;
	if (c->up >= 0) {
		ifm->ifi_change = IFF_UP;
		ifm->ifi_flags = c->up ? IFF_UP : 0;
	}
	if (c->target_nsfd >= 0)
		mnl_attr_put_u32(nlh, IFLA_NET_NS_FD, (uint32_t)c->target_nsfd);
	if (c->name)
		mnl_attr_put_strz(nlh, IFLA_IFNAME, c->name);
	if (c->mac)
		mnl_attr_put(nlh, IFLA_ADDRESS, 6, c->mac);
	if (c->mtu)
		mnl_attr_put_u32(nlh, IFLA_MTU, c->mtu);
	return hl_vfi_nl_request(nsfd, nlh, NULL, 0);
}
