/* SPDX-License-Identifier: Apache-2.0 */
/* hlnl routes: add (its reply is the ack alone). See hlnl.h. */
#include "hlnl_private.h"

#include <errno.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

int hlnl_route_add(struct hlnl *nl, const struct hlnl_route *rt)
{
	struct nlmsghdr *nlh = hlnl_msg_start(nl, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL);
	struct rtmsg *rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	size_t alen = hlnl_family_len(rt->family);

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
	return hlnl_ack(nl, nlh);
}
