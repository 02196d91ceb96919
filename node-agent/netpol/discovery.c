/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Policy APIs the agent does not enforce (hlnp.h, "Unknown policy
 * kinds"): which of them the API server serves, from its discovery
 * answers (APIGroupList, APIResourceList), and which namespaces hold
 * objects of one, from a list of it. Only names and namespaces are read:
 * the objects themselves are never decoded.
 */
#include "np_private.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Kinds whose objects decide what a pod may connect to, by API group and
 * resource name (any version). Left out on purpose: Calico's staged
 * policies (reported, not enforced), sets and tiers (used only through a
 * policy), Antrea's controlplane.antrea.io (derived from the others,
 * standard NetworkPolicies included), and egress firewalls (OVN-Kubernetes
 * EgressFirewall, OpenShift EgressNetworkPolicy: traffic leaving the
 * cluster only, never a pod-to-pod connection). */
static const struct {
	const char *group, *resource;
} kinds[] = {
	{ "crd.projectcalico.org", "networkpolicies" },
	{ "crd.projectcalico.org", "globalnetworkpolicies" },
	{ "projectcalico.org", "networkpolicies" },
	{ "projectcalico.org", "globalnetworkpolicies" },
	{ "cilium.io", "ciliumnetworkpolicies" },
	{ "cilium.io", "ciliumclusterwidenetworkpolicies" },
	{ "policy.networking.k8s.io", "adminnetworkpolicies" },
	{ "policy.networking.k8s.io", "baselineadminnetworkpolicies" },
	{ "policy.networking.k8s.io", "clusternetworkpolicies" },
	{ "crd.antrea.io", "networkpolicies" },
	{ "crd.antrea.io", "clusternetworkpolicies" },
};

#define N_KINDS (sizeof(kinds) / sizeof(kinds[0]))
#define MAX_GV 64          /* groupVersions taken from one answer */
#define MAX_NS 4096        /* distinct namespaces taken from one list */

static bool group_known(const char *g)
{
	for (size_t i = 0; i < N_KINDS; i++)
		if (!strcmp(kinds[i].group, g))
			return true;
	return false;
}

bool hlnp_disc_kind_known(const char *group, const char *resource)
{
	if (!group || !resource)
		return false;
	for (size_t i = 0; i < N_KINDS; i++)
		if (!strcmp(kinds[i].group, group) && !strcmp(kinds[i].resource, resource))
			return true;
	return false;
}

/* A name that can go into a request path as it is. */
static bool path_safe(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (!n || n > max || s[0] == '.' || s[0] == '/')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '.' ||
		      s[i] == '-' || s[i] == '/'))
			return false;
	return !strstr(s, "..") && !strstr(s, "//");
}

void hlnp_strv_free(char **v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		free(v[i]);
	free(v);
}

int np_strv_add(char ***v, size_t *n, const char *s)
{
	char **a, *d;

	for (size_t i = 0; i < *n; i++)
		if (!strcmp((*v)[i], s))
			return 0;
	d = strdup(s);
	a = d ? realloc(*v, (*n + 1) * sizeof(*a)) : NULL;
	if (!a) {
		free(d);
		return -ENOMEM;
	}
	a[(*n)++] = d;
	*v = a;
	return 0;
}

static cJSON *parse_kind(const char *buf, size_t n, const char *kind)
{
	cJSON *j = buf ? cJSON_ParseWithLength(buf, n) : NULL;
	const cJSON *k = cJSON_GetObjectItemCaseSensitive(j, "kind");

	/* "kind" is optional in a list answer; when present it must fit. */
	if (!cJSON_IsObject(j) || (k && (!cJSON_IsString(k) || (kind && strcmp(k->valuestring, kind))))) {
		cJSON_Delete(j);
		return NULL;
	}
	return j;
}

int hlnp_disc_groups(const char *buf, size_t n, char ***gvs, size_t *n_gv)
{
	cJSON *j = parse_kind(buf, n, "APIGroupList");
	const cJSON *groups = cJSON_GetObjectItemCaseSensitive(j, "groups"), *g, *v;
	int rc = 0;

	*gvs = NULL;
	*n_gv = 0;
	if (!j || !cJSON_IsArray(groups)) {
		cJSON_Delete(j);
		return -EINVAL;
	}
	cJSON_ArrayForEach(g, groups) {
		const cJSON *name = cJSON_GetObjectItemCaseSensitive(g, "name");
		const cJSON *vers = cJSON_GetObjectItemCaseSensitive(g, "versions");

		if (!cJSON_IsObject(g) || !cJSON_IsString(name) || !cJSON_IsArray(vers)) {
			rc = -EINVAL;
			break;
		}
		if (!group_known(name->valuestring))
			continue;
		/* Every version served: a kind may be in one version only. */
		cJSON_ArrayForEach(v, vers) {
			const cJSON *gv = cJSON_GetObjectItemCaseSensitive(v, "groupVersion");
			size_t gl = strlen(name->valuestring);

			if (!cJSON_IsString(gv) || strncmp(gv->valuestring, name->valuestring, gl) ||
			    gv->valuestring[gl] != '/' || strchr(gv->valuestring + gl + 1, '/') ||
			    !path_safe(gv->valuestring, 253 + 64)) {
				rc = -EINVAL;
				break;
			}
			if (*n_gv >= MAX_GV) {
				rc = -E2BIG;
				break;
			}
			if ((rc = np_strv_add(gvs, n_gv, gv->valuestring)))
				break;
		}
		if (rc)
			break;
	}
	cJSON_Delete(j);
	if (rc) {
		hlnp_strv_free(*gvs, *n_gv);
		*gvs = NULL;
		*n_gv = 0;
	}
	return rc;
}

static bool has_list_verb(const cJSON *verbs)
{
	const cJSON *v;

	/* Older servers may leave verbs out: then the list is tried. */
	if (!verbs)
		return true;
	cJSON_ArrayForEach(v, verbs) {
		if (cJSON_IsString(v) && !strcmp(v->valuestring, "list"))
			return true;
	}
	return false;
}

int hlnp_disc_resources(const char *buf, size_t n, const char *gv, struct hlnp_disc_res **out,
			size_t *n_out)
{
	cJSON *j = parse_kind(buf, n, "APIResourceList");
	const cJSON *gvj = cJSON_GetObjectItemCaseSensitive(j, "groupVersion");
	const cJSON *res = cJSON_GetObjectItemCaseSensitive(j, "resources"), *r;
	char group[256];
	const char *slash = gv ? strchr(gv, '/') : NULL;
	int rc = 0;

	*out = NULL;
	*n_out = 0;
	if (!j || !slash || (size_t)(slash - gv) >= sizeof(group) || !cJSON_IsArray(res) ||
	    (gvj && (!cJSON_IsString(gvj) || strcmp(gvj->valuestring, gv)))) {
		cJSON_Delete(j);
		return -EINVAL;
	}
	memcpy(group, gv, (size_t)(slash - gv));
	group[slash - gv] = 0;
	cJSON_ArrayForEach(r, res) {
		const cJSON *name = cJSON_GetObjectItemCaseSensitive(r, "name");
		const cJSON *nsd = cJSON_GetObjectItemCaseSensitive(r, "namespaced");
		const cJSON *verbs = cJSON_GetObjectItemCaseSensitive(r, "verbs");
		struct hlnp_disc_res *a;

		if (!cJSON_IsObject(r) || !cJSON_IsString(name) || (nsd && !cJSON_IsBool(nsd)) ||
		    (verbs && !cJSON_IsArray(verbs))) {
			rc = -EINVAL;
			break;
		}
		/* Subresources ("x/status") are not kinds. */
		if (!hlnp_disc_kind_known(group, name->valuestring) || !has_list_verb(verbs))
			continue;
		a = realloc(*out, (*n_out + 1) * sizeof(*a));
		if (!a) {
			rc = -ENOMEM;
			break;
		}
		*out = a;
		a += (*n_out)++;
		memset(a, 0, sizeof(*a));
		snprintf(a->group_version, sizeof(a->group_version), "%s", gv);
		snprintf(a->resource, sizeof(a->resource), "%s", name->valuestring);
		/* An answer that does not say is taken as cluster-wide: the
		 * wider coverage. */
		a->namespaced = cJSON_IsTrue(nsd);
	}
	cJSON_Delete(j);
	if (rc) {
		free(*out);
		*out = NULL;
		*n_out = 0;
	}
	return rc;
}

int hlnp_disc_list(const char *buf, size_t n, bool namespaced, char ***ns, size_t *n_ns,
		   size_t *items, char *cont, size_t cont_len)
{
	cJSON *j = parse_kind(buf, n, NULL);
	const cJSON *md = cJSON_GetObjectItemCaseSensitive(j, "metadata");
	const cJSON *c = cJSON_GetObjectItemCaseSensitive(md, "continue");
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(j, "items"), *o;
	int rc = 0;

	if (cont_len)
		cont[0] = 0;
	if (!j || !cJSON_IsArray(it) || (c && !cJSON_IsString(c))) {
		cJSON_Delete(j);
		return -EINVAL;
	}
	if (c && *c->valuestring) {
		/* The token goes back in a query: only what needs no escaping. */
		size_t cl = strlen(c->valuestring);

		if (cl >= cont_len || strspn(c->valuestring, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
					     "0123456789-_.=") != cl) {
			cJSON_Delete(j);
			return -EINVAL;
		}
		memcpy(cont, c->valuestring, cl + 1);
	}
	cJSON_ArrayForEach(o, it) {
		const cJSON *omd = cJSON_GetObjectItemCaseSensitive(o, "metadata");
		const cJSON *ons = cJSON_GetObjectItemCaseSensitive(omd, "namespace");

		(*items)++;
		if (!namespaced)
			continue;
		/* A namespaced object without its namespace: which pods it
		 * covers is not known, so the caller takes all of them. */
		if (!cJSON_IsString(ons) || !*ons->valuestring) {
			rc = -EINVAL;
			break;
		}
		if (*n_ns >= MAX_NS) {
			rc = -E2BIG;
			break;
		}
		if ((rc = np_strv_add(ns, n_ns, ons->valuestring)))
			break;
	}
	cJSON_Delete(j);
	return rc;
}
