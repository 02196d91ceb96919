/* SPDX-License-Identifier: Apache-2.0 */
/* hlnl links: look-up, dump, veth and bridge creation, changes (master, up,
 * MTU, alias, name, MAC, netns), deletion. See hlnl.h. */
#include "hlnl_private.h"

#include <errno.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <string.h>

/* ---- decoding RTM_NEWLINK ---- */

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

int hlnl_link_parse(const struct nlmsghdr *nlh, struct hlnl_link *l)
{
	const struct nlattr *tb[IFLA_MAX + 1] = {0};
	const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);

	if (nlh->nlmsg_type != RTM_NEWLINK ||
	    mnl_nlmsg_get_payload_len(nlh) < sizeof(*ifi) ||
	    !hlnl_msg_attrs_ok(nlh, sizeof(*ifi)))
		return -EBADMSG;
	memset(l, 0, sizeof(*l));
	if (mnl_attr_parse(nlh, sizeof(*ifi), link_attr_cb, tb) < 0)
		return -EBADMSG;
	l->index = ifi->ifi_index;
	l->flags = ifi->ifi_flags;
	if (tb[IFLA_IFNAME])
		hlnl_copy_str(l->name, sizeof(l->name), tb[IFLA_IFNAME]);
	if (tb[IFLA_IFALIAS])
		hlnl_copy_str(l->alias, sizeof(l->alias), tb[IFLA_IFALIAS]);
	if (tb[IFLA_MTU])
		l->mtu = mnl_attr_get_u32(tb[IFLA_MTU]);
	if (tb[IFLA_MASTER])
		l->master = (int)mnl_attr_get_u32(tb[IFLA_MASTER]);
	if (tb[IFLA_ADDRESS] && mnl_attr_get_payload_len(tb[IFLA_ADDRESS]) == 6)
		memcpy(l->mac, mnl_attr_get_payload(tb[IFLA_ADDRESS]), 6);
	if (tb[IFLA_LINKINFO] && hlnl_nest_ok(tb[IFLA_LINKINFO])) {
		const struct nlattr *li[IFLA_INFO_MAX + 1] = {0};

		if (mnl_attr_parse_nested(tb[IFLA_LINKINFO], linkinfo_attr_cb, li) >= 0 &&
		    li[IFLA_INFO_KIND])
			hlnl_copy_str(l->kind, sizeof(l->kind), li[IFLA_INFO_KIND]);
	}
	return 0;
}

/* ---- reading ---- */

int hlnl_link_get_reply_cb(const struct nlmsghdr *nlh, void *data)
{
	if (nlh->nlmsg_type != RTM_NEWLINK)
		return MNL_CB_OK;
	if (hlnl_link_parse(nlh, data) < 0) {
		errno = EBADMSG;
		return MNL_CB_ERROR;
	}
	return MNL_CB_OK;
}

int hlnl_link_get(struct hlnl *nl, const char *name, int index, struct hlnl_link *out)
{
	struct nlmsghdr *nlh = hlnl_msg_start(nl, RTM_GETLINK, NLM_F_ACK); /* reply, then ack */
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
	rc = hlnl_transact(nl, nlh, hlnl_link_get_reply_cb, out);
	if (rc == -EBADMSG)
		return rc;
	if (rc < 0)
		return rc == -ENOENT ? -ENODEV : rc;
	return out->index > 0 ? 0 : -ENODEV;
}

int hlnl_link_list_reply_cb(const struct nlmsghdr *nlh, void *data)
{
	struct hlnl_link_list_arg *la = data;
	struct hlnl_link l;

	/* After the caller said stop, the rest of the dump is read and dropped
	 * so that the next request on the handle starts clean. */
	if (la->ret || nlh->nlmsg_type != RTM_NEWLINK || hlnl_link_parse(nlh, &l) < 0)
		return MNL_CB_OK;
	la->ret = la->cb(&l, la->arg);
	return MNL_CB_OK;
}

static struct nlmsghdr *link_dump_req(struct hlnl *nl, const void *unused)
{
	struct nlmsghdr *nlh = hlnl_msg_start(nl, RTM_GETLINK, NLM_F_DUMP);
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));

	(void)unused;
	ifi->ifi_family = AF_UNSPEC;
	return nlh;
}

int hlnl_link_list(struct hlnl *nl, hlnl_link_list_cb cb, void *arg)
{
	struct hlnl_link_list_arg la = { cb, arg, 0 };
	int rc = hlnl_dump(nl, link_dump_req, NULL, hlnl_link_list_reply_cb, &la, NULL);

	if (la.ret)
		return la.ret;
	return rc;
}

/* ---- creating ---- */

int hlnl_veth_create(struct hlnl *nl, const char *name, const char *peer,
		     int peer_nsfd, unsigned int mtu)
{
	struct nlmsghdr *nlh = hlnl_msg_start(nl, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
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
	return hlnl_ack(nl, nlh);
}

int hlnl_bridge_create(struct hlnl *nl, const char *name, unsigned int mtu)
{
	struct nlmsghdr *nlh = hlnl_msg_start(nl, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
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
	return hlnl_ack(nl, nlh);
}

/* ---- changing, deleting ---- */

static bool str_ok(const char *s, size_t max)
{
	return !s || (s[0] && strlen(s) < max);
}

int hlnl_link_modify(struct hlnl *nl, int index, const struct hlnl_link_mod *m)
{
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifi;

	if (index <= 0 || !str_ok(m->name, IF_NAMESIZE) ||
	    (m->alias && strlen(m->alias) >= HLNL_ALIAS_MAX))
		return -EINVAL;
	nlh = hlnl_msg_start(nl, RTM_NEWLINK, 0);
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = index;
	if (m->up >= 0) {
		ifi->ifi_change = IFF_UP;
		ifi->ifi_flags = m->up ? IFF_UP : 0;
	}
	if (m->nsfd >= 0)
		mnl_attr_put_u32(nlh, IFLA_NET_NS_FD, (uint32_t)m->nsfd);
	if (m->name)
		mnl_attr_put_strz(nlh, IFLA_IFNAME, m->name);
	if (m->mac)
		mnl_attr_put(nlh, IFLA_ADDRESS, 6, m->mac);
	if (m->master > 0)
		mnl_attr_put_u32(nlh, IFLA_MASTER, (uint32_t)m->master);
	else if (m->master < 0)
		mnl_attr_put_u32(nlh, IFLA_MASTER, 0);
	if (m->mtu)
		mnl_attr_put_u32(nlh, IFLA_MTU, m->mtu);
	if (m->alias)
		mnl_attr_put_strz(nlh, IFLA_IFALIAS, m->alias);
	return hlnl_ack(nl, nlh);
}

int hlnl_link_set(struct hlnl *nl, int index, int master, int up,
		  unsigned int mtu, const char *alias)
{
	struct hlnl_link_mod m = HLNL_LINK_MOD_INIT;

	m.master = master;
	m.up = up;
	m.mtu = mtu;
	m.alias = alias;
	return hlnl_link_modify(nl, index, &m);
}

int hlnl_link_del(struct hlnl *nl, int index)
{
	struct nlmsghdr *nlh = hlnl_msg_start(nl, RTM_DELLINK, 0);
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	int rc;

	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = index;
	rc = hlnl_ack(nl, nlh);
	return rc == -ENOENT ? -ENODEV : rc;
}
