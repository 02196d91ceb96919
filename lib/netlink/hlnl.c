/* SPDX-License-Identifier: Apache-2.0 */
/* hlnl: rtnetlink requests over libmnl. See hlnl.h. */
#include "hlnl.h"

#include <errno.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define HLNL_BUF 65536 /* above the 32 KiB skbs the kernel sends dumps in */
#define HLNL_DUMP_RETRIES 5

struct hlnl {
	struct mnl_socket *sock;
	unsigned int portid;
	unsigned int seq;
	char buf[HLNL_BUF];
};

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

static struct nlmsghdr *msg_start(struct hlnl *nl, uint16_t type, uint16_t flags)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(nl->buf);

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	nlh->nlmsg_seq = ++nl->seq;
	return nlh;
}

/* Sends the request in nl->buf and runs replies through cb until the ack or
 * the end of the dump. Returns the callback/ack result as 0 or -errno, or
 * -EINTR when a dump was interrupted and must be restarted. */
static int transact(struct hlnl *nl, struct nlmsghdr *nlh, mnl_cb_t cb, void *arg)
{
	unsigned int seq = nlh->nlmsg_seq;
	bool intr = false;
	int rc;

	if (mnl_socket_sendto(nl->sock, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	for (;;) {
		ssize_t n = mnl_socket_recvfrom(nl->sock, nl->buf, sizeof(nl->buf));
		const struct nlmsghdr *h = (const struct nlmsghdr *)nl->buf;

		if (n < 0)
			return -errno;
		if (mnl_nlmsg_ok(h, (int)n) && (h->nlmsg_flags & NLM_F_DUMP_INTR))
			intr = true;
		errno = 0;
		rc = mnl_cb_run(nl->buf, (size_t)n, seq, nl->portid, cb, arg);
		if (rc == MNL_CB_ERROR)
			return errno ? -errno : -EIO;
		if (rc == MNL_CB_STOP)
			break;
	}
	return intr ? -EINTR : 0;
}

/* A dump restarted while the kernel reports it was interrupted. The request
 * is rebuilt by @build each time since the reply overwrote the buffer. */
static int dump(struct hlnl *nl, struct nlmsghdr *(*build)(struct hlnl *, const void *),
		const void *barg, mnl_cb_t cb, void *arg, void (*reset)(void *))
{
	for (int i = 0; i < HLNL_DUMP_RETRIES; i++) {
		int rc = transact(nl, build(nl, barg), cb, arg);

		if (rc != -EINTR)
			return rc;
		if (reset)
			reset(arg);
	}
	return -EAGAIN;
}

/* ---- links ---- */

struct link_parse {
	struct hlnl_link *out;
	const struct nlattr *tb[IFLA_MAX + 1];
};

static int link_attr_cb(const struct nlattr *a, void *data)
{
	const struct nlattr **tb = data;
	int type = mnl_attr_get_type(a);
	int ok = 0;

	if (mnl_attr_type_valid(a, IFLA_MAX) < 0)
		return MNL_CB_OK;
	switch (type) {
	case IFLA_IFNAME:
	case IFLA_IFALIAS:
		ok = mnl_attr_validate(a, MNL_TYPE_NUL_STRING);
		break;
	case IFLA_MTU:
	case IFLA_MASTER:
		ok = mnl_attr_validate(a, MNL_TYPE_U32);
		break;
	case IFLA_ADDRESS:
		ok = mnl_attr_validate(a, MNL_TYPE_BINARY);
		break;
	case IFLA_LINKINFO:
		ok = mnl_attr_validate(a, MNL_TYPE_NESTED);
		break;
	default:
		return MNL_CB_OK;
	}
	if (ok < 0)
		return MNL_CB_OK; /* a malformed optional attribute is ignored */
	tb[type] = a;
	return MNL_CB_OK;
}

static int linkinfo_attr_cb(const struct nlattr *a, void *data)
{
	const struct nlattr **tb = data;

	if (mnl_attr_get_type(a) == IFLA_INFO_KIND &&
	    mnl_attr_validate(a, MNL_TYPE_NUL_STRING) >= 0)
		tb[IFLA_INFO_KIND] = a;
	return MNL_CB_OK;
}

static void copy_str(char *dst, size_t n, const struct nlattr *a)
{
	size_t len = strnlen(mnl_attr_get_str(a), mnl_attr_get_payload_len(a));

	if (len >= n)
		len = n - 1;
	memcpy(dst, mnl_attr_get_str(a), len);
	dst[len] = '\0';
}

static int link_from_msg(const struct nlmsghdr *nlh, struct hlnl_link *l)
{
	const struct nlattr *tb[IFLA_MAX + 1] = {0};
	const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);

	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*ifi)))
		return -EBADMSG;
	memset(l, 0, sizeof(*l));
	if (mnl_attr_parse(nlh, sizeof(*ifi), link_attr_cb, tb) < 0)
		return -EBADMSG;
	l->index = ifi->ifi_index;
	l->flags = ifi->ifi_flags;
	if (tb[IFLA_IFNAME])
		copy_str(l->name, sizeof(l->name), tb[IFLA_IFNAME]);
	if (tb[IFLA_IFALIAS])
		copy_str(l->alias, sizeof(l->alias), tb[IFLA_IFALIAS]);
	if (tb[IFLA_MTU])
		l->mtu = mnl_attr_get_u32(tb[IFLA_MTU]);
	if (tb[IFLA_MASTER])
		l->master = (int)mnl_attr_get_u32(tb[IFLA_MASTER]);
	if (tb[IFLA_ADDRESS] && mnl_attr_get_payload_len(tb[IFLA_ADDRESS]) == 6)
		memcpy(l->mac, mnl_attr_get_payload(tb[IFLA_ADDRESS]), 6);
	if (tb[IFLA_LINKINFO]) {
		const struct nlattr *li[IFLA_INFO_MAX + 1] = {0};

		if (mnl_attr_parse_nested(tb[IFLA_LINKINFO], linkinfo_attr_cb, li) >= 0 &&
		    li[IFLA_INFO_KIND])
			copy_str(l->kind, sizeof(l->kind), li[IFLA_INFO_KIND]);
	}
	return 0;
}

static int link_get_cb(const struct nlmsghdr *nlh, void *data)
{
	if (nlh->nlmsg_type != RTM_NEWLINK)
		return MNL_CB_OK;
	if (link_from_msg(nlh, data) < 0) {
		errno = EBADMSG;
		return MNL_CB_ERROR;
	}
	return MNL_CB_OK;
}

int hlnl_link_get(struct hlnl *nl, const char *name, int index, struct hlnl_link *out)
{
	struct nlmsghdr *nlh = msg_start(nl, RTM_GETLINK, NLM_F_ACK); /* reply, then ack */
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	int rc;

	ifi->ifi_family = AF_UNSPEC;
	if (name) {
		if (strlen(name) >= IF_NAMESIZE)
			return -ENODEV;
		mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	} else {
		ifi->ifi_index = index;
	}
	memset(out, 0, sizeof(*out));
	rc = transact(nl, nlh, link_get_cb, out);
	if (rc == -EBADMSG)
		return rc;
	if (rc < 0)
		return rc == -ENOENT ? -ENODEV : rc;
	return out->index > 0 ? 0 : -ENODEV;
}

struct link_list_arg {
	hlnl_link_list_cb cb;
	void *arg;
	int ret;
};

static int link_list_cb(const struct nlmsghdr *nlh, void *data)
{
	struct link_list_arg *la = data;
	struct hlnl_link l;

	if (nlh->nlmsg_type != RTM_NEWLINK || link_from_msg(nlh, &l) < 0)
		return MNL_CB_OK;
	la->ret = la->cb(&l, la->arg);
	return la->ret ? MNL_CB_STOP : MNL_CB_OK;
}

static struct nlmsghdr *link_dump_req(struct hlnl *nl, const void *unused)
{
	struct nlmsghdr *nlh = msg_start(nl, RTM_GETLINK, NLM_F_DUMP);
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));

	(void)unused;
	ifi->ifi_family = AF_UNSPEC;
	return nlh;
}

int hlnl_link_list(struct hlnl *nl, hlnl_link_list_cb cb, void *arg)
{
	struct link_list_arg la = { cb, arg, 0 };
	int rc = dump(nl, link_dump_req, NULL, link_list_cb, &la, NULL);

	if (la.ret)
		return la.ret;
	return rc;
}

static int ack(struct hlnl *nl, struct nlmsghdr *nlh)
{
	nlh->nlmsg_flags |= NLM_F_ACK;
	return transact(nl, nlh, NULL, NULL);
}

int hlnl_veth_create(struct hlnl *nl, const char *name, const char *peer,
		     int peer_nsfd, unsigned int mtu)
{
	struct nlmsghdr *nlh = msg_start(nl, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	struct nlattr *linkinfo, *data, *peerinfo;
	struct ifinfomsg *pifi;

	if (strlen(name) >= IF_NAMESIZE || strlen(peer) >= IF_NAMESIZE)
		return -EINVAL;
	ifi->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	if (mtu)
		mnl_attr_put_u32(nlh, IFLA_MTU, mtu);
	linkinfo = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "veth");
	data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
	peerinfo = mnl_attr_nest_start(nlh, VETH_INFO_PEER);
	/* The peer's attributes follow its own ifinfomsg inside the nest. */
	pifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*pifi));
	memset(pifi, 0, sizeof(*pifi));
	mnl_attr_put_strz(nlh, IFLA_IFNAME, peer);
	if (mtu)
		mnl_attr_put_u32(nlh, IFLA_MTU, mtu);
	if (peer_nsfd >= 0)
		mnl_attr_put_u32(nlh, IFLA_NET_NS_FD, (uint32_t)peer_nsfd);
	mnl_attr_nest_end(nlh, peerinfo);
	mnl_attr_nest_end(nlh, data);
	mnl_attr_nest_end(nlh, linkinfo);
	return ack(nl, nlh);
}

int hlnl_bridge_create(struct hlnl *nl, const char *name, unsigned int mtu)
{
	struct nlmsghdr *nlh = msg_start(nl, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	struct nlattr *linkinfo;

	if (strlen(name) >= IF_NAMESIZE)
		return -EINVAL;
	ifi->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	if (mtu)
		mnl_attr_put_u32(nlh, IFLA_MTU, mtu);
	linkinfo = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "bridge");
	mnl_attr_nest_end(nlh, linkinfo);
	return ack(nl, nlh);
}

int hlnl_link_set(struct hlnl *nl, int index, int master, int up,
		  unsigned int mtu, const char *alias)
{
	struct nlmsghdr *nlh = msg_start(nl, RTM_NEWLINK, 0);
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));

	if (index <= 0 || (alias && strlen(alias) >= HLNL_ALIAS_MAX))
		return -EINVAL;
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = index;
	if (up >= 0) {
		ifi->ifi_change = IFF_UP;
		ifi->ifi_flags = up ? IFF_UP : 0;
	}
	if (master > 0)
		mnl_attr_put_u32(nlh, IFLA_MASTER, (uint32_t)master);
	else if (master < 0)
		mnl_attr_put_u32(nlh, IFLA_MASTER, 0);
	if (mtu)
		mnl_attr_put_u32(nlh, IFLA_MTU, mtu);
	if (alias)
		mnl_attr_put_strz(nlh, IFLA_IFALIAS, alias);
	return ack(nl, nlh);
}

int hlnl_link_del(struct hlnl *nl, int index)
{
	struct nlmsghdr *nlh = msg_start(nl, RTM_DELLINK, 0);
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	int rc;

	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = index;
	rc = ack(nl, nlh);
	return rc == -ENOENT ? -ENODEV : rc;
}

/* ---- addresses ---- */

static size_t family_len(int family)
{
	return family == AF_INET ? 4 : family == AF_INET6 ? 16 : 0;
}

static int addr_req(struct hlnl *nl, uint16_t type, uint16_t flags, int index,
		    int family, const void *addr, int prefix)
{
	struct nlmsghdr *nlh = msg_start(nl, type, flags);
	struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	size_t alen = family_len(family);

	if (!alen || prefix < 0 || (size_t)prefix > alen * 8 || index <= 0)
		return -EINVAL;
	ifa->ifa_family = (uint8_t)family;
	ifa->ifa_prefixlen = (uint8_t)prefix;
	ifa->ifa_index = (uint32_t)index;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	if (family == AF_INET6 && type == RTM_NEWADDR)
		ifa->ifa_flags = IFA_F_NODAD;
	mnl_attr_put(nlh, IFA_LOCAL, alen, addr);
	mnl_attr_put(nlh, IFA_ADDRESS, alen, addr);
	return ack(nl, nlh);
}

int hlnl_addr_add(struct hlnl *nl, int index, int family, const void *addr, int prefix)
{
	return addr_req(nl, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, index, family,
			addr, prefix);
}

int hlnl_addr_del(struct hlnl *nl, int index, int family, const void *addr, int prefix)
{
	return addr_req(nl, RTM_DELADDR, 0, index, family, addr, prefix);
}

struct addr_list_arg {
	int index;
	struct hlnl_addr *out;
	size_t max;
	int n;
};

static int addr_attr_cb(const struct nlattr *a, void *data)
{
	const struct nlattr **tb = data;
	int type = mnl_attr_get_type(a);

	if (mnl_attr_type_valid(a, IFA_MAX) < 0)
		return MNL_CB_OK;
	if ((type == IFA_ADDRESS || type == IFA_LOCAL) &&
	    mnl_attr_validate(a, MNL_TYPE_BINARY) >= 0)
		tb[type] = a;
	return MNL_CB_OK;
}

static int addr_list_cb(const struct nlmsghdr *nlh, void *data)
{
	struct addr_list_arg *al = data;
	const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *tb[IFA_MAX + 1] = {0};
	const struct nlattr *a;
	size_t alen;

	if (nlh->nlmsg_type != RTM_NEWADDR ||
	    nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*ifa)))
		return MNL_CB_OK;
	if (al->index && (int)ifa->ifa_index != al->index)
		return MNL_CB_OK;
	alen = family_len(ifa->ifa_family);
	if (!alen || mnl_attr_parse(nlh, sizeof(*ifa), addr_attr_cb, tb) < 0)
		return MNL_CB_OK;
	/* IFA_LOCAL is the interface's own address on point-to-point links. */
	a = tb[IFA_LOCAL] ? tb[IFA_LOCAL] : tb[IFA_ADDRESS];
	if (!a || mnl_attr_get_payload_len(a) != alen)
		return MNL_CB_OK;
	if ((size_t)al->n < al->max) {
		struct hlnl_addr *o = &al->out[al->n];

		memset(o, 0, sizeof(*o));
		o->family = ifa->ifa_family;
		o->prefix = ifa->ifa_prefixlen;
		o->index = (int)ifa->ifa_index;
		memcpy(o->addr, mnl_attr_get_payload(a), alen);
	}
	al->n++;
	return MNL_CB_OK;
}

static struct nlmsghdr *addr_dump_req(struct hlnl *nl, const void *arg)
{
	const int *fi = arg;
	struct nlmsghdr *nlh = msg_start(nl, RTM_GETADDR, NLM_F_DUMP);
	struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));

	ifa->ifa_family = (uint8_t)fi[0];
	ifa->ifa_index = (uint32_t)fi[1]; /* filtered by the kernel with strict checks */
	return nlh;
}

static void addr_reset(void *arg)
{
	((struct addr_list_arg *)arg)->n = 0;
}

int hlnl_addr_list(struct hlnl *nl, int index, int family, struct hlnl_addr *out,
		   size_t max)
{
	struct addr_list_arg al = { index, out, max, 0 };
	int fi[2] = { family, index };
	int rc = dump(nl, addr_dump_req, fi, addr_list_cb, &al, addr_reset);

	return rc < 0 ? rc : al.n;
}

/* ---- routes ---- */

int hlnl_route_add(struct hlnl *nl, const struct hlnl_route *rt)
{
	struct nlmsghdr *nlh = msg_start(nl, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL);
	struct rtmsg *rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	size_t alen = family_len(rt->family);

	if (!alen || rt->prefix < 0 || (size_t)rt->prefix > alen * 8)
		return -EINVAL;
	rtm->rtm_family = (uint8_t)rt->family;
	rtm->rtm_dst_len = (uint8_t)rt->prefix;
	rtm->rtm_protocol = RTPROT_BOOT;
	rtm->rtm_type = RTN_UNICAST;
	if (rt->scope >= 0)
		rtm->rtm_scope = (uint8_t)rt->scope;
	else
		rtm->rtm_scope = rt->has_gw ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK;
	if (rt->table >= 0 && rt->table < 256) {
		rtm->rtm_table = (uint8_t)rt->table;
	} else {
		rtm->rtm_table = rt->table >= 256 ? RT_TABLE_UNSPEC : RT_TABLE_MAIN;
		if (rt->table >= 256)
			mnl_attr_put_u32(nlh, RTA_TABLE, (uint32_t)rt->table);
	}
	if (rt->prefix)
		mnl_attr_put(nlh, RTA_DST, alen, rt->dst);
	if (rt->has_gw)
		mnl_attr_put(nlh, RTA_GATEWAY, alen, rt->gw);
	if (rt->oif > 0)
		mnl_attr_put_u32(nlh, RTA_OIF, (uint32_t)rt->oif);
	if (rt->priority >= 0)
		mnl_attr_put_u32(nlh, RTA_PRIORITY, (uint32_t)rt->priority);
	if (rt->mtu > 0 || rt->advmss > 0) {
		struct nlattr *m = mnl_attr_nest_start(nlh, RTA_METRICS);

		if (rt->mtu > 0)
			mnl_attr_put_u32(nlh, RTAX_MTU, (uint32_t)rt->mtu);
		if (rt->advmss > 0)
			mnl_attr_put_u32(nlh, RTAX_ADVMSS, (uint32_t)rt->advmss);
		mnl_attr_nest_end(nlh, m);
	}
	return ack(nl, nlh);
}
