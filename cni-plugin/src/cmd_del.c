/* SPDX-License-Identifier: Apache-2.0 */
/* DEL and GC: release what ADD made, idempotently, with or without cached
 * state, prevResult or a live netns. */
#include "cni.h"
#include "hlnl.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Deletes the host veth of an attachment if it is ours (ifalias); deleting
 * one end of a veth removes the pod end too, wherever it is. */
static int veth_remove(struct hlnl *nl, const char *net, const char *cid, const char *ifname,
		       const char *name, struct cni_err *e)
{
	struct hlnl_link l;
	int rc = hlnl_link_get(nl, name, 0, &l);

	if (rc == -ENODEV)
		return 0;
	if (rc < 0)
		return cni_nl_err(e, "look up host veth", name, rc);
	if (!cni_link_is_ours(&l, net, cid, ifname)) {
		cni_warn("%s is not tagged as %s/%s/%s (alias '%s'); left alone", name, net, cid,
			 ifname, l.alias);
		return 0;
	}
	rc = hlnl_link_del(nl, l.index);
	if (rc < 0 && rc != -ENODEV)
		return cni_nl_err(e, "delete host veth", name, rc);
	cni_info("deleted host veth %s", name);
	return 0;
}

/* Starts IPAM DEL in the background; *started says whether to wait. */
static int ipam_del_start(struct cni_ctx *x, bool must, struct cni_proc *p, bool *started,
			  struct cni_err *e)
{
	struct cni_ipam ip;
	struct cni_err pe;

	*started = false;
	if (cni_ipam_prepare(&x->conf, &x->env, false, &ip, &pe) < 0) {
		/* Without the plugin nothing can have been allocated by it, unless
		 * it vanished since ADD, which the cached entry tells us. */
		if (!must) {
			cni_warn("DEL: skipping IPAM: %s", pe.details);
			return 0;
		}
		*e = pe;
		return -1;
	}
	if (cni_ipam_start(&x->conf, &ip, "DEL", NULL, p, e) < 0)
		return -1;
	*started = true;
	return 0;
}

int cni_cmd_del(struct cni_ctx *x, struct cni_err *e)
{
	struct cni_cache_entry ce;
	const char *cid = x->env.containerid, *ifn = x->env.ifname;
	char veth[IF_NAMESIZE];
	struct hlnl *nl = NULL;
	struct cni_proc ipam;
	struct cni_err ie;
	bool cached = cni_cache_read(x->cache_root, x->conf.name, cid, ifn, &ce) == 0;
	bool ipam_started = false;
	int rc = -1;

	if (cni_agent_release(x, e) < 0)
		goto out;
	/* IPAM DEL runs while the kernel tears the veth down: deleting a
	 * netdev waits for RCU grace periods, which dominates DEL. */
	if (x->conf.ipam_type && !(cached && ce.chained) &&
	    ipam_del_start(x, cached && ce.ipam_conf, &ipam, &ipam_started, e) < 0)
		goto out;
	if (cached && !ce.chained && !ce.host_veth[0]) {
		rc = 0;  /* a vf attachment: the agent gave the VF back */
	} else if (cni_open_host(&nl, e) == 0) {
		cni_host_veth_name(x->conf.name, cid, ifn, veth);
		rc = veth_remove(nl, x->conf.name, cid, ifn, cached ? ce.host_veth : veth, e);
		hlnl_close(nl);
	}
	if (ipam_started && cni_ipam_wait(&ipam, NULL, &ie) < 0 && rc == 0) {
		*e = ie;
		rc = -1;
	}
	if (rc == 0 && cni_cache_remove(x->cache_root, x->conf.name, cid, ifn) < 0)
		cni_warn("DEL: cannot remove cached state of %s/%s", cid, ifn);
out:
	if (cached)
		cni_cache_entry_free(&ce);
	return rc;
}

/* ---- GC ---- */

static const char *cached_ipam_type(cJSON *conf)
{
	const cJSON *ipam = cJSON_GetObjectItemCaseSensitive(conf, "ipam");
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(ipam, "type");

	return cJSON_IsString(t) ? t->valuestring : NULL;
}

/* IPAM DEL with the config this attachment was added with: host-local has
 * no GC of its own before CNI 1.1.0. */
static int gc_ipam_release(struct cni_ctx *x, const struct cni_cache_entry *ce, struct cni_err *e)
{
	cJSON *conf = cJSON_Parse(ce->ipam_conf);
	const char *type = cached_ipam_type(conf);
	char path[PATH_MAX], cidv[512], ifv[64];
	const char *envset[] = { cidv, ifv, "CNI_NETNS=", NULL };
	char *out = NULL;
	int rc;

	if (!type || cni_find_plugin(x->env.path, type, path, sizeof(path)) < 0) {
		cJSON_Delete(conf);
		return cni_err_set(e, CNI_ERR_CONFIG, "cannot release addresses",
				   "IPAM plugin of cached attachment %s/%s not found",
				   ce->containerid, ce->ifname);
	}
	cJSON_Delete(conf);
	snprintf(cidv, sizeof(cidv), "CNI_CONTAINERID=%s", ce->containerid);
	snprintf(ifv, sizeof(ifv), "CNI_IFNAME=%s", ce->ifname);
	rc = cni_exec(path, "DEL", envset, ce->ipam_conf, &out, e);
	free(out);
	return rc;
}

static int gc_entry(struct cni_ctx *x, struct hlnl *nl, const char *path, struct cni_err *e)
{
	struct cni_cache_entry ce;
	int rc = cni_cache_read_file(path, &ce);

	if (rc < 0) {
		cni_warn("GC: unreadable cache file %s: %s", path, strerror(-rc));
		return 0;
	}
	if (cni_attachment_valid(&x->conf, ce.containerid, ce.ifname)) {
		cni_cache_entry_free(&ce);
		return 0;
	}
	cni_info("GC: releasing stale attachment %s/%s", ce.containerid, ce.ifname);
	rc = veth_remove(nl, x->conf.name, ce.containerid, ce.ifname, ce.host_veth, e);
	if (rc == 0 && !ce.chained && ce.ipam_conf)
		rc = gc_ipam_release(x, &ce, e);
	/* The entry stays when release failed, so the next GC retries. */
	if (rc == 0 && unlink(path) < 0 && errno != ENOENT)
		cni_warn("GC: cannot remove %s", path);
	cni_cache_entry_free(&ce);
	return rc;
}

static int gc_cache(struct cni_ctx *x, struct hlnl *nl, struct cni_err *e)
{
	char dir[PATH_MAX], path[PATH_MAX + 256];
	struct dirent *d;
	DIR *dp;
	int rc = 0;

	snprintf(dir, sizeof(dir), "%s/%s", x->cache_root, x->conf.name);
	dp = opendir(dir);
	if (!dp)
		return 0; /* nothing cached for this network */
	while ((d = readdir(dp))) {
		size_t n = strlen(d->d_name);
		struct cni_err ee;

		if (n < 6 || strcmp(d->d_name + n - 5, ".json") != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, d->d_name);
		if (gc_entry(x, nl, path, &ee) < 0 && rc == 0) {
			*e = ee;
			rc = -1;
		}
	}
	closedir(dp);
	return rc;
}

#define GC_BATCH 64

struct gc_links {
	struct cni_ctx *x;
	struct {
		int index;
		char cid[256];
		char ifname[IF_NAMESIZE];
	} v[GC_BATCH];
	int n;
};

static int gc_link_cb(const struct hlnl_link *l, void *arg)
{
	struct gc_links *g = arg;

	if (g->n >= GC_BATCH || strcmp(l->kind, "veth") != 0 ||
	    !cni_alias_split(l->alias, g->x->conf.name, g->v[g->n].cid, sizeof(g->v[0].cid),
			     g->v[g->n].ifname, sizeof(g->v[0].ifname)) ||
	    cni_attachment_valid(&g->x->conf, g->v[g->n].cid, g->v[g->n].ifname))
		return 0;
	g->v[g->n++].index = l->index;
	return 0;
}

/* A veth found only by its tag lost its cached state: release its address
 * with the network's current IPAM config (host-local keys by container id
 * and ifname). */
static int gc_orphan_ipam(struct cni_ctx *x, const char *cid, const char *ifname,
			  struct cni_err *e)
{
	char cidv[300], ifv[64];
	const char *envset[] = { cidv, ifv, "CNI_NETNS=", NULL };
	struct cni_ipam ip;

	if (!x->conf.ipam_type || cni_ipam_prepare(&x->conf, &x->env, false, &ip, e) < 0)
		return x->conf.ipam_type ? -1 : 0;
	snprintf(cidv, sizeof(cidv), "CNI_CONTAINERID=%s", cid);
	snprintf(ifv, sizeof(ifv), "CNI_IFNAME=%s", ifname);
	return cni_ipam_run(&x->conf, &ip, "DEL", envset, NULL, e);
}

/* Veths tagged for this network whose attachment is not valid: those whose
 * cached state was lost (the cache pass took the others). Deleted after
 * the dump, not during it. */
static int gc_links(struct cni_ctx *x, struct hlnl *nl, struct cni_err *e)
{
	struct gc_links *g = calloc(1, sizeof(*g));
	int rc = 0;

	if (!g)
		return cni_err_set(e, CNI_ERR_INTERNAL, "out of memory", NULL);
	g->x = x;
	do {
		g->n = 0;
		rc = hlnl_link_list(nl, gc_link_cb, g);
		if (rc < 0) {
			rc = cni_nl_err(e, "list links", "", rc);
			break;
		}
		for (int i = 0; i < g->n && rc == 0; i++) {
			rc = hlnl_link_del(nl, g->v[i].index);
			if (rc < 0 && rc != -ENODEV) {
				rc = cni_nl_err(e, "delete stale veth of", g->v[i].cid, rc);
				break;
			}
			cni_info("GC: deleted stale veth of %s/%s", g->v[i].cid, g->v[i].ifname);
			rc = gc_orphan_ipam(x, g->v[i].cid, g->v[i].ifname, e);
		}
	} while (rc == 0 && g->n == GC_BATCH); /* a full batch: dump again */
	free(g);
	return rc;
}

static int gc_ipam_delegate(struct cni_ctx *x, struct cni_err *e)
{
	struct cni_ipam ip;
	struct cni_err pe;

	if (!x->conf.ipam_type)
		return 0;
	if (cni_ipam_prepare(&x->conf, &x->env, true, &ip, &pe) < 0) {
		cni_warn("GC: IPAM GC not delegated: %s", pe.details);
		return 0;
	}
	if (!ip.supports_110)
		return 0;
	return cni_ipam_run(&x->conf, &ip, "GC", NULL, NULL, e);
}

int cni_cmd_gc(struct cni_ctx *x, struct cni_err *e)
{
	struct hlnl *nl;
	int rc;

	if (cni_open_host(&nl, e) < 0)
		return -1;
	rc = gc_cache(x, nl, e);
	if (rc == 0)
		rc = gc_links(x, nl, e);
	hlnl_close(nl);
	if (rc == 0)
		rc = gc_ipam_delegate(x, e);
	if (rc == 0)
		rc = cni_agent_gc(x, e);
	return rc;
}
