/* SPDX-License-Identifier: Apache-2.0 */
/* hlnl addresses: add, delete, dump. See hlnl.h. */
#include "hlnl_private.h"

#include <errno.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <string.h>
#include <sys/socket.h>

static int addr_req(struct hlnl *nl, uint16_t type, uint16_t flags, int index,
		    int family, const void *addr, int prefix)
{
	struct nlmsghdr *nlh = hlnl_msg_start(nl, type, flags);
	struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	size_t alen = hlnl_family_len(family);

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
	return hlnl_ack(nl, nlh);
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

int hlnl_addr_list_reply_cb(const struct nlmsghdr *nlh, void *data)
{
	struct hlnl_addr_list_arg *al = data;
	const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *tb[IFA_MAX + 1] = {0};
	const struct nlattr *a;
	size_t alen;

	if (nlh->nlmsg_type != RTM_NEWADDR ||
	    mnl_nlmsg_get_payload_len(nlh) < sizeof(*ifa) ||
	    !hlnl_msg_attrs_ok(nlh, sizeof(*ifa)))
		return MNL_CB_OK;
	if (al->index && (int)ifa->ifa_index != al->index)
		return MNL_CB_OK;
	alen = hlnl_family_len(ifa->ifa_family);
	if (!alen || ifa->ifa_prefixlen > alen * 8 ||
	    mnl_attr_parse(nlh, sizeof(*ifa), addr_attr_cb, tb) < 0)
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
	struct nlmsghdr *nlh = hlnl_msg_start(nl, RTM_GETADDR, NLM_F_DUMP);
	struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));

	ifa->ifa_family = (uint8_t)fi[0];
	ifa->ifa_index = (uint32_t)fi[1]; /* filtered by the kernel with strict checks */
	return nlh;
}

static void addr_reset(void *arg)
{
	((struct hlnl_addr_list_arg *)arg)->n = 0;
}

int hlnl_addr_list(struct hlnl *nl, int index, int family, struct hlnl_addr *out,
		   size_t max)
{
	struct hlnl_addr_list_arg al = { index, out, max, 0 };
	int fi[2] = { family, index };
	int rc = hlnl_dump(nl, addr_dump_req, fi, hlnl_addr_list_reply_cb, &al, addr_reset);

	return rc < 0 ? rc : al.n;
}
