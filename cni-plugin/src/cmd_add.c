/* SPDX-License-Identifier: Apache-2.0 */
/* ADD: standalone (veth + bridge + IPAM) or chained (prevResult through). */
#include "cni.h"
#include "hlnl.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Everything ADD made, so a failure can undo it in reverse. */
struct add_state {
	struct cni_ctx *x;
	struct hlnl *host, *pod;
	int nsfd;
	struct cni_ipam ipam;
	bool ipam_done;
	bool agent_done;          /* vf: the agent holds a VF for us */
	bool veth_made;
	bool cached;
	char veth[IF_NAMESIZE];
	struct hlnl_link br, hv, pv;
	struct cni_result ipr;    /* from IPAM */
	struct cni_result res;    /* what we print */
};

static int bridge_ensure(struct add_state *s, struct cni_err *e)
{
	const struct cni_conf *c = &s->x->conf;
	int rc = hlnl_link_get(s->host, c->bridge, 0, &s->br), lk;

	if (rc == -ENODEV) {
		/* Serialise creation so the MTU/up of a fresh bridge is set once;
		 * NLM_F_EXCL makes a lost race show up as EEXIST, which is fine. */
		lk = cni_lock(s->x->cache_root);
		rc = hlnl_bridge_create(s->host, c->bridge, c->mtu);
		if (rc == 0)
			cni_info("created bridge %s", c->bridge);
		if (rc == 0 || rc == -EEXIST)
			rc = hlnl_link_get(s->host, c->bridge, 0, &s->br);
		cni_unlock(lk);
	}
	if (rc < 0)
		return cni_nl_err(e, "create bridge", c->bridge, rc);
	if (strcmp(s->br.kind, "bridge") != 0)
		return cni_err_set(e, CNI_ERR_CONFIG, "invalid network configuration",
				   "bridge: %s exists and is not a bridge (kind '%s')", c->bridge,
				   s->br.kind);
	if (!(s->br.flags & IFF_UP)) {
		rc = hlnl_link_set(s->host, s->br.index, 0, 1, 0, NULL);
		if (rc < 0)
			return cni_nl_err(e, "bring up bridge", c->bridge, rc);
	}
	return 0;
}

static int veth_create(struct add_state *s, struct cni_err *e)
{
	struct cni_ctx *x = s->x;
	struct hlnl_link stale;
	int rc;

	cni_host_veth_name(x->conf.name, x->env.containerid, x->env.ifname, s->veth);
	rc = hlnl_veth_create(s->host, s->veth, x->env.ifname, s->nsfd, x->conf.mtu);
	if (rc == -EEXIST && hlnl_link_get(s->host, s->veth, 0, &stale) == 0 &&
	    cni_link_is_ours(&stale, x->conf.name, x->env.containerid, x->env.ifname)) {
		/* A previous ADD of this very attachment never got its DEL. */
		cni_warn("removing stale host veth %s", s->veth);
		hlnl_link_del(s->host, stale.index);
		rc = hlnl_veth_create(s->host, s->veth, x->env.ifname, s->nsfd, x->conf.mtu);
	}
	if (rc == -EEXIST)
		return cni_err_set(e, CNI_ERR_IFACE_EXISTS, "interface already exists",
				   "%s or host veth %s already exists", x->env.ifname, s->veth);
	if (rc < 0)
		return cni_nl_err(e, "create veth", s->veth, rc);
	s->veth_made = true;
	return 0;
}

static int veth_setup(struct add_state *s, struct cni_err *e)
{
	struct cni_ctx *x = s->x;
	char alias[HLNL_ALIAS_MAX];
	int rc;

	if (cni_alias(x->conf.name, x->env.containerid, x->env.ifname, alias, sizeof(alias)) < 0)
		return cni_err_set(e, CNI_ERR_CONFIG, "invalid network configuration",
				   "name + CNI_CONTAINERID + CNI_IFNAME too long for the link alias");
	rc = hlnl_link_get(s->host, s->veth, 0, &s->hv);
	if (rc == 0)
		rc = hlnl_link_set(s->host, s->hv.index, s->br.index, 1, 0, alias);
	if (rc < 0)
		return cni_nl_err(e, "set up host veth", s->veth, rc);
	rc = hlnl_link_get(s->pod, x->env.ifname, 0, &s->pv);
	if (rc == 0)
		rc = hlnl_link_set(s->pod, s->pv.index, 0, 1, 0, NULL);
	if (rc < 0)
		return cni_nl_err(e, "set up pod interface", x->env.ifname, rc);
	return 0;
}

static int gateway_setup(struct add_state *s, struct cni_err *e)
{
	for (int i = 0; i < s->ipr.n_ips; i++) {
		const struct cni_ip *ip = &s->ipr.ips[i];
		int rc;

		if (!ip->has_gw)
			continue;
		rc = hlnl_addr_add(s->host, s->br.index, ip->family, ip->gw, ip->prefix);
		if (rc < 0 && rc != -EEXIST)
			return cni_nl_err(e, "add gateway address to", s->x->conf.bridge, rc);
	}
	return 0;
}

static bool has_default(const struct cni_result *r, int family)
{
	for (int i = 0; i < r->n_routes; i++)
		if (r->routes[i].family == family && r->routes[i].prefix == 0)
			return true;
	return false;
}

/* isGateway: a default route via the gateway unless IPAM gave one. */
static void add_default_routes(struct cni_result *r)
{
	int n = r->n_ips;

	for (int i = 0; i < n && r->n_routes < CNI_MAX_ROUTES; i++) {
		const struct cni_ip *ip = &r->ips[i];
		struct cni_route *rt;

		if (!ip->has_gw || has_default(r, ip->family))
			continue;
		rt = &r->routes[r->n_routes++];
		memset(rt, 0, sizeof(*rt));
		rt->family = ip->family;
		rt->has_gw = true;
		memcpy(rt->gw, ip->gw, 16);
		rt->mtu = rt->advmss = rt->priority = rt->table = rt->scope = -1;
	}
}

static int addrs_routes_apply(struct add_state *s, struct cni_err *e)
{
	const struct cni_result *r = &s->res;
	int rc;

	for (int i = 0; i < r->n_ips; i++) {
		rc = hlnl_addr_add(s->pod, s->pv.index, r->ips[i].family, r->ips[i].addr,
				   r->ips[i].prefix);
		if (rc < 0 && rc != -EEXIST)
			return cni_nl_err(e, "add address to", s->x->env.ifname, rc);
	}
	for (int i = 0; i < r->n_routes; i++) {
		const struct cni_route *rt = &r->routes[i];
		struct hlnl_route nr = {
			.family = rt->family, .prefix = rt->prefix, .has_gw = rt->has_gw,
			.oif = s->pv.index, .mtu = rt->mtu, .advmss = rt->advmss,
			.priority = rt->priority, .table = rt->table, .scope = rt->scope,
		};

		memcpy(nr.dst, rt->dst, 16);
		memcpy(nr.gw, rt->gw, 16);
		/* Like the reference plugins: a route without gw goes via the
		 * gateway of its family when there is one. */
		for (int j = 0; !nr.has_gw && j < r->n_ips; j++) {
			if (r->ips[j].family == rt->family && r->ips[j].has_gw) {
				nr.has_gw = true;
				memcpy(nr.gw, r->ips[j].gw, 16);
			}
		}
		rc = hlnl_route_add(s->pod, &nr);
		if (rc < 0 && rc != -EEXIST)
			return cni_nl_err(e, "add route in", s->x->env.netns, rc);
	}
	return 0;
}

static void set_iface(struct cni_iface *f, const struct hlnl_link *l, const char *sandbox)
{
	memset(f, 0, sizeof(*f));
	snprintf(f->name, sizeof(f->name), "%s", l->name);
	cni_mac_str(l->mac, f->mac);
	f->mtu = (int)l->mtu;
	if (sandbox)
		snprintf(f->sandbox, sizeof(f->sandbox), "%s", sandbox);
}

/* Result layout as the reference bridge plugin: bridge, host veth, pod. */
static void build_result(struct add_state *s)
{
	struct cni_result *r = &s->res;

	*r = s->ipr;
	r->dns = s->ipr.dns ? cJSON_Duplicate(s->ipr.dns, 1) : NULL;
	r->n_ifaces = 3;
	set_iface(&r->ifaces[0], &s->br, NULL);
	set_iface(&r->ifaces[1], &s->hv, NULL);
	set_iface(&r->ifaces[2], &s->pv, s->x->env.netns);
	for (int i = 0; i < r->n_ips; i++)
		r->ips[i].iface = 2;
	if (s->x->conf.is_gateway)
		add_default_routes(r);
}

static int cache_save(struct add_state *s, struct cni_err *e)
{
	struct cni_ctx *x = s->x;
	struct cni_cache_entry ce = {
		.containerid = (char *)x->env.containerid, .ifname = (char *)x->env.ifname,
		.netns = (char *)x->env.netns,
	};
	int rc;

	snprintf(ce.host_veth, sizeof(ce.host_veth), "%s", s->veth);
	/* A vf attachment has neither: an empty host_veth marks it. */
	snprintf(ce.bridge, sizeof(ce.bridge), "%s", s->veth[0] ? x->conf.bridge : "");
	if (s->ipam_done) {
		ce.ipam_conf = cni_conf_ipam_stdin(&x->conf, s->ipam.version);
		ce.ipam_result = cni_result_to_json(&s->ipr, s->ipam.version);
	}
	rc = cni_cache_write(x->cache_root, x->conf.name, &ce);
	free(ce.ipam_conf);
	cJSON_Delete(ce.ipam_result);
	s->cached = rc == 0;
	if (rc < 0)
		return cni_err_set(e, CNI_ERR_IO, "cannot write cached state", "%s/%s: %s",
				   x->cache_root, x->conf.name, strerror(-rc));
	return 0;
}

static void undo(struct add_state *s)
{
	struct cni_err ignored;

	/* The VF goes back first: its release restores the netdev, addresses and all. */
	if (s->agent_done && cni_agent_release(s->x, &ignored) < 0)
		cni_err_log("undo: agent DEL failed: %s %s", ignored.msg, ignored.details);

	if (s->veth_made && s->hv.index > 0)
		hlnl_link_del(s->host, s->hv.index);
	else if (s->veth_made && hlnl_link_get(s->host, s->veth, 0, &s->hv) == 0)
		hlnl_link_del(s->host, s->hv.index);
	if (s->ipam_done && cni_ipam_run(&s->x->conf, &s->ipam, "DEL", NULL, NULL, &ignored) < 0)
		cni_err_log("undo: IPAM DEL failed: %s %s", ignored.msg, ignored.details);
	if (s->cached)
		cni_cache_remove(s->x->cache_root, s->x->conf.name, s->x->env.containerid,
				 s->x->env.ifname);
}

static int add_steps(struct add_state *s, struct cni_err *e)
{
	struct cni_ctx *x = s->x;
	struct hlnl_link old;
	struct cni_proc ipam;
	struct cni_err ie;
	int rc;

	if (cni_ipam_prepare(&x->conf, &x->env, false, &s->ipam, e) < 0 ||
	    cni_open_pod(x->env.netns, &s->nsfd, &s->pod, e) < 0 || cni_open_host(&s->host, e) < 0)
		return -1;
	if (hlnl_link_get(s->pod, x->env.ifname, 0, &old) == 0)
		return cni_err_set(e, CNI_ERR_IFACE_EXISTS, "interface already exists",
				   "%s already exists in %s", x->env.ifname, x->env.netns);
	if (bridge_ensure(s, e) < 0)
		return -1;
	/* IPAM runs while we build the veth pair; addresses need both. From
	 * here on a failure runs IPAM DEL, which is idempotent, so it is safe
	 * even when the IPAM ADD itself failed half-way. */
	if (cni_ipam_start(&x->conf, &s->ipam, "ADD", NULL, &ipam, e) < 0)
		return -1;
	s->ipam_done = true;
	rc = veth_create(s, e) < 0 || veth_setup(s, e) < 0 ? -1 : 0;
	if (cni_ipam_wait(&ipam, &s->ipr, rc < 0 ? &ie : e) < 0 || rc < 0)
		return -1;
	if (s->ipr.n_ips == 0)
		return cni_err_set(e, CNI_ERR_INTERNAL, "IPAM returned no addresses", "%s",
				   s->ipam.path);
	build_result(s);
	if (addrs_routes_apply(s, e) < 0 || (x->conf.is_gateway && gateway_setup(s, e) < 0))
		return -1;
	if (cache_save(s, e) < 0 || cni_agent_notify(x, &s->res, e) < 0)
		return -1;
	return 0;
}

/*
 * Runs the ADD @steps (standalone veth or VF) on a fresh state; on failure
 * undoes whatever they made, on success prints the result.
 */
static int add_run(struct cni_ctx *x, int (*steps)(struct add_state *, struct cni_err *),
		   struct cni_err *e)
{
	struct add_state *s = calloc(1, sizeof(*s));
	int rc;

	if (!s)
		return cni_err_set(e, CNI_ERR_INTERNAL, "out of memory", NULL);
	s->x = x;
	s->nsfd = -1;
	rc = steps(s, e);
	if (rc < 0) {
		undo(s);
	} else {
		cJSON *o = cni_result_to_json(&s->res, x->conf.version);

		x->out = cJSON_PrintUnformatted(o);
		cJSON_Delete(o);
	}
	cni_result_free(&s->ipr);
	cni_result_free(&s->res);
	hlnl_close(s->host);
	hlnl_close(s->pod);
	if (s->nsfd >= 0)
		close(s->nsfd);
	free(s);
	return rc;
}

/* Chained: the primary plugin wired the pod; pass its result through. */
static int add_chained(struct cni_ctx *x, struct cni_err *e)
{
	struct cni_result *r = malloc(sizeof(*r));
	cJSON *o;
	int rc;

	if (!r)
		return cni_err_set(e, CNI_ERR_INTERNAL, "out of memory", NULL);
	*r = x->conf.prev;
	r->dns = x->conf.prev.dns ? cJSON_Duplicate(x->conf.prev.dns, 1) : NULL;
	rc = cni_agent_notify(x, r, e);
	if (rc == 0) {
		o = cni_result_to_json(r, x->conf.version);
		x->out = cJSON_PrintUnformatted(o);
		cJSON_Delete(o);
	}
	cni_result_free(r);
	free(r);
	return rc;
}

/* ---- fast path vf: the VF is the pod interface (no veth, no bridge) ---- */

static int vf_result(struct add_state *s, const struct cni_vf *vf, struct cni_err *e)
{
	struct cni_result *r = &s->res;
	int rc;

	*r = s->ipr;
	r->dns = s->ipr.dns ? cJSON_Duplicate(s->ipr.dns, 1) : NULL;
	r->n_ifaces = 1;
	if (vf->dpdk) {
		memset(&r->ifaces[0], 0, sizeof(r->ifaces[0]));
		snprintf(r->ifaces[0].name, sizeof(r->ifaces[0].name), "%s", s->x->env.ifname);
		snprintf(r->ifaces[0].sandbox, sizeof(r->ifaces[0].sandbox), "%s", s->x->env.netns);
	} else {
		rc = hlnl_link_get(s->pod, s->x->env.ifname, 0, &s->pv);
		if (rc < 0)
			return cni_nl_err(e, "look up VF", s->x->env.ifname, rc);
		set_iface(&r->ifaces[0], &s->pv, s->x->env.netns);
	}
	snprintf(r->ifaces[0].pci_id, sizeof(r->ifaces[0].pci_id), "%s", vf->pci);
	for (int i = 0; i < r->n_ips; i++)
		r->ips[i].iface = 0;
	return 0;
}

/* A DPDK (vfio) VF has no netdev to put addresses on: IPAM is not run. */
static int vf_steps(struct add_state *s, struct cni_err *e)
{
	struct cni_ctx *x = s->x;
	struct hlnl_link old;
	struct cni_vf vf;

	if ((x->conf.ipam_type && cni_ipam_prepare(&x->conf, &x->env, false, &s->ipam, e) < 0) ||
	    cni_open_pod(x->env.netns, &s->nsfd, &s->pod, e) < 0)
		return -1;
	if (hlnl_link_get(s->pod, x->env.ifname, 0, &old) == 0)
		return cni_err_set(e, CNI_ERR_IFACE_EXISTS, "interface already exists",
				   "%s already exists in %s", x->env.ifname, x->env.netns);
	if (cni_agent_vf_add(x, &vf, e) < 0)
		return -1;
	s->agent_done = true;
	if (x->conf.ipam_type && !vf.dpdk) {
		s->ipam_done = true;
		if (cni_ipam_run(&x->conf, &s->ipam, "ADD", NULL, &s->ipr, e) < 0)
			return -1;
	}
	if (vf_result(s, &vf, e) < 0 || (!vf.dpdk && addrs_routes_apply(s, e) < 0))
		return -1;
	return cache_save(s, e);
}

int cni_cmd_add(struct cni_ctx *x, struct cni_err *e)
{
	bool vf = cni_fastpath_select(x) == CNI_FP_VF;

	/* The VF would replace the primary plugin's interface: not in a chain. */
	if (vf && x->conf.has_prev)
		return cni_err_set(e, CNI_ERR_CONFIG, "invalid network configuration",
				   "fastpath vf is a standalone-mode fast path (the VF becomes %s); "
				   "it cannot be chained after another plugin", x->env.ifname);
	if (x->conf.has_prev)
		return add_chained(x, e);
	return add_run(x, vf ? vf_steps : add_steps, e);
}
