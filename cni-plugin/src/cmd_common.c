/* SPDX-License-Identifier: Apache-2.0 */
/* Helpers shared by the commands, and the agent hook. */
#include "cni.h"
#include "hlnl.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int cni_open_pod(const char *netns, int *nsfd, struct hlnl **nl, struct cni_err *e)
{
	int fd = hlnl_ns_open(netns);

	*nl = NULL;
	*nsfd = -1;
	if (fd < 0)
		return cni_err_set(e, CNI_ERR_UNKNOWN_CONTAINER, "container unknown or does not exist",
				   "CNI_NETNS %s: %s", netns, strerror(-fd));
	*nl = hlnl_open_ns(fd);
	if (!*nl) {
		int err = errno;

		close(fd);
		return cni_err_set(e, err == EINVAL ? CNI_ERR_UNKNOWN_CONTAINER : CNI_ERR_INTERNAL,
				   "cannot enter the container's network namespace",
				   "CNI_NETNS %s: %s", netns, strerror(err));
	}
	*nsfd = fd;
	return 0;
}

int cni_open_host(struct hlnl **nl, struct cni_err *e)
{
	*nl = hlnl_open();
	if (!*nl)
		return cni_err_set(e, CNI_ERR_INTERNAL, "cannot open a netlink socket", "%s",
				   strerror(errno));
	return 0;
}

void cni_mac_str(const uint8_t m[6], char *out)
{
	snprintf(out, 18, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
}

bool cni_link_is_ours(const struct hlnl_link *l, const char *net, const char *cid,
		      const char *ifname)
{
	char alias[HLNL_ALIAS_MAX];

	return cni_alias(net, cid, ifname, alias, sizeof(alias)) == 0 &&
	       strcmp(l->alias, alias) == 0;
}

int cni_nl_err(struct cni_err *e, const char *step, const char *obj, int rc)
{
	return cni_err_set(e, CNI_ERR_INTERNAL, "netlink operation failed", "%s %s: %s", step,
			   obj, strerror(rc < 0 ? -rc : rc));
}

enum cni_fastpath cni_fastpath_select(const struct cni_ctx *x)
{
	/* The pod annotation outranks both; the agent reads it, not us. */
	if (x->env.fastpath != CNI_FP_UNSET)
		return x->env.fastpath;
	if (x->conf.fastpath != CNI_FP_UNSET)
		return x->conf.fastpath;
	return CNI_FP_NONE;
}

/* cni_agent_notify() and the other agent calls: agent.c. */
