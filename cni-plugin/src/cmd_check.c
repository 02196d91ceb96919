/* SPDX-License-Identifier: Apache-2.0 */
/* CHECK (is the attachment still as ADD made it?) and STATUS (can ADD be
 * served?). */
#include "cni.h"
#include "hlnl.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_ADDRS 64

#define check_failed(e, ...) cni_err_set(e, CNI_ERR_CHECK, "CHECK failed", __VA_ARGS__)

/* Every prevResult address meant for the pod interface is on it. */
static int check_addrs(const struct cni_ctx *x, struct hlnl *pod, int index, struct cni_err *e)
{
	const struct cni_result *p = &x->conf.prev;
	struct hlnl_addr have[MAX_ADDRS];
	int n = hlnl_addr_list(pod, index, AF_UNSPEC, have, MAX_ADDRS);

	if (n < 0)
		return cni_nl_err(e, "list addresses of", x->env.ifname, n);
	if (n > MAX_ADDRS)
		n = MAX_ADDRS;
	for (int i = 0; i < p->n_ips; i++) {
		const struct cni_ip *ip = &p->ips[i];
		char want[INET6_ADDRSTRLEN];
		bool found = false;

		if (ip->iface >= 0 && strcmp(p->ifaces[ip->iface].name, x->env.ifname) != 0)
			continue;
		for (int j = 0; j < n && !found; j++)
			found = have[j].family == ip->family && have[j].prefix == ip->prefix &&
				memcmp(have[j].addr, ip->addr, ip->family == AF_INET ? 4 : 16) == 0;
		if (!found) {
			inet_ntop(ip->family, ip->addr, want, sizeof(want));
			return check_failed(e, "address %s is missing on %s", want, x->env.ifname);
		}
	}
	return 0;
}

static int check_host_side(const struct cni_ctx *x, struct hlnl *host, const struct hlnl_link *pv,
			   struct cni_err *e)
{
	struct hlnl_link hv, br;
	char veth[IF_NAMESIZE];

	cni_host_veth_name(x->conf.name, x->env.containerid, x->env.ifname, veth);
	if (strcmp(pv->kind, "veth") != 0)
		return check_failed(e, "%s is not a veth (kind '%s')", x->env.ifname, pv->kind);
	if (hlnl_link_get(host, veth, 0, &hv) < 0 ||
	    !cni_link_is_ours(&hv, x->conf.name, x->env.containerid, x->env.ifname))
		return check_failed(e, "host veth %s of %s is missing", veth, x->env.ifname);
	if (hlnl_link_get(host, x->conf.bridge, 0, &br) < 0 || strcmp(br.kind, "bridge") != 0)
		return check_failed(e, "bridge %s is missing%s", x->conf.bridge, "");
	if (hv.master != br.index)
		return check_failed(e, "host veth %s is not attached to bridge %s", veth,
				    x->conf.bridge);
	if (!(hv.flags & IFF_UP) || !(pv->flags & IFF_UP))
		return check_failed(e, "host veth %s or %s is down", veth, x->env.ifname);
	return 0;
}

static int check_ipam(struct cni_ctx *x, struct cni_err *e)
{
	struct cni_ipam ip;

	if (cni_ipam_prepare(&x->conf, &x->env, false, &ip, e) < 0)
		return -1;
	if (ip.version < CNI_V040)
		return 0;
	return cni_ipam_run(&x->conf, &ip, "CHECK", NULL, NULL, e);
}

int cni_cmd_check(struct cni_ctx *x, struct cni_err *e)
{
	struct cni_cache_entry ce;
	struct hlnl *pod = NULL, *host = NULL;
	struct hlnl_link pv;
	bool chained = false, vf = false;
	int nsfd = -1, rc = -1;

	if (!x->conf.has_prev)
		return cni_err_set(e, CNI_ERR_CONFIG, "invalid network configuration",
				   "prevResult: is required for CHECK");
	if (cni_cache_read(x->cache_root, x->conf.name, x->env.containerid, x->env.ifname,
			   &ce) == 0) {
		chained = ce.chained;
		vf = !ce.chained && !ce.host_veth[0];
		cni_cache_entry_free(&ce);
	} else {
		/* Standalone results name our host veth; chained ones do not. */
		chained = !x->conf.ipam_type;
	}
	if (cni_open_pod(x->env.netns, &nsfd, &pod, e) < 0)
		goto out;
	if (hlnl_link_get(pod, x->env.ifname, 0, &pv) < 0) {
		check_failed(e, "interface %s is missing in %s", x->env.ifname, x->env.netns);
		goto out;
	}
	if (check_addrs(x, pod, pv.index, e) < 0 || cni_agent_check(x, e) < 0)
		goto out;
	if (vf && x->conf.ipam_type && check_ipam(x, e) < 0)
		goto out;
	if (!chained && !vf && (cni_open_host(&host, e) < 0 || check_host_side(x, host, &pv, e) < 0 ||
				check_ipam(x, e) < 0))
		goto out;
	rc = 0;
out:
	hlnl_close(pod);
	hlnl_close(host);
	if (nsfd >= 0)
		close(nsfd);
	return rc;
}

/* ---- STATUS ---- */

#define not_available(e, ...) \
	cni_err_set(e, CNI_ERR_NOT_AVAILABLE, "plugin not available", __VA_ARGS__)

static int status_bridge(const struct cni_ctx *x, struct cni_err *e)
{
	struct hlnl_link br;
	struct hlnl *nl;
	int rc;

	nl = hlnl_open();
	if (!nl)
		return not_available(e, "cannot open netlink: %s%s", strerror(errno), "");
	rc = hlnl_link_get(nl, x->conf.bridge, 0, &br);
	hlnl_close(nl);
	if (rc == 0 && strcmp(br.kind, "bridge") != 0)
		return not_available(e, "%s exists and is not a bridge (kind '%s')", x->conf.bridge,
				     br.kind);
	if (rc < 0 && rc != -ENODEV)
		return not_available(e, "cannot look up bridge %s: %s", x->conf.bridge, strerror(-rc));
	return 0;
}

int cni_cmd_status(struct cni_ctx *x, struct cni_err *e)
{
	struct cni_ipam ip;
	struct cni_err pe;

	if (cni_agent_status(x, e) < 0)
		return -1;
	if (x->conf.ipam_type) {
		if (cni_ipam_prepare(&x->conf, &x->env, true, &ip, &pe) < 0)
			return not_available(e, "IPAM: %s%s", pe.details, "");
		/* A 1.1.0 delegate answers for itself; its 50/51 are ours. */
		if (ip.supports_110 && cni_ipam_run(&x->conf, &ip, "STATUS", NULL, NULL, e) < 0)
			return -1;
	}
	return status_bridge(x, e);
}
