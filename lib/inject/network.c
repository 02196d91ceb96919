/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The pod's attachment to the hostlane network in the "secondary" install
 * mode (Multus): the annotation k8s.v1.cni.cncf.io/networks names the
 * NetworkAttachmentDefinition, as a comma list ("a, ns/b") or as JSON
 * ([{"name": "b", "namespace": "ns"}]). The network is added when the
 * pod does not name it yet; the pod's other networks stay.
 */
#include "inject_private.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NETWORKS "k8s.v1.cni.cncf.io/networks"

/* Splits "ns/name" (or "name"). */
static void split(const char *net, char *ns, size_t nslen, const char **name)
{
	const char *slash = strchr(net, '/');

	ns[0] = '\0';
	*name = net;
	if (slash) {
		snprintf(ns, nslen, "%.*s", (int)(slash - net), net);
		*name = slash + 1;
	}
}

/* Does the comma list name @net ("name" or "ns/name", an "@ifname" after it)? */
static bool in_list(const char *list, const char *net)
{
	size_t nl = strlen(net);

	while (*list) {
		list += strspn(list, ", \t\n");
		size_t n = strcspn(list, ", \t\n@");

		if (n == nl && strncmp(list, net, n) == 0)
			return true;
		list += strcspn(list, ",");
	}
	return false;
}

/* The new annotation value, malloc'd: @old with the network added. NULL
 * when @old names it already (*rc 0) or on an error (*rc -errno). */
static char *with_network(const char *old, const char *net, int *rc)
{
	char ns[254];
	const char *name;
	cJSON *arr, *it, *o;
	char *out = NULL;

	*rc = 0;
	split(net, ns, sizeof(ns), &name);
	if (!old || !old[strspn(old, " \t\n")])
		return strdup(net);
	if (old[strspn(old, " \t\n")] != '[') {
		size_t n = strlen(old) + strlen(net) + 3;

		if (in_list(old, net))
			return NULL;
		out = malloc(n);
		if (out)
			snprintf(out, n, "%s, %s", old, net);
		else
			*rc = -ENOMEM;
		return out;
	}
	arr = cJSON_Parse(old);
	if (!cJSON_IsArray(arr)) {
		cJSON_Delete(arr);
		*rc = -EINVAL;
		return NULL;
	}
	cJSON_ArrayForEach(it, arr) {
		const char *n = inj_str(it, "name"), *s = inj_str(it, "namespace");

		if (n && strcmp(n, name) == 0 && (!ns[0] || (s && strcmp(s, ns) == 0))) {
			cJSON_Delete(arr);
			return NULL;
		}
	}
	o = cJSON_CreateObject();
	if (o && cJSON_AddStringToObject(o, "name", name) &&
	    (!ns[0] || cJSON_AddStringToObject(o, "namespace", ns)) && cJSON_AddItemToArray(arr, o))
		out = cJSON_PrintUnformatted(arr);
	else
		cJSON_Delete(o);
	cJSON_Delete(arr);
	if (!out)
		*rc = -ENOMEM;
	return out;
}

int inj_network(struct inj *x, cJSON *meta, const char *meta_base)
{
	cJSON *ann, *v;
	char path[INJ_PATH];
	const char *old;
	char *val;
	int rc;

	if (!x->o->network || !x->o->network[0])
		return 0;
	if (!cJSON_IsObject(meta)) {
		inj_warn(x->rep, "%s: the pod has no metadata to name its network in", x->where);
		return -EINVAL;
	}
	ann = cJSON_GetObjectItemCaseSensitive(meta, "annotations");
	old = inj_str(ann, NETWORKS);
	val = with_network(old, x->o->network, &rc);
	if (!val) {
		if (rc == -EINVAL)
			inj_warn(x->rep, "%s: annotation %s is not a list of networks", x->where, NETWORKS);
		return rc;
	}
	v = cJSON_CreateString(val);
	free(val);
	if (!v)
		return -ENOMEM;
	if (!ann) {
		cJSON *a = cJSON_CreateObject();

		if (!a || !cJSON_AddItemToObject(a, NETWORKS, v) ||
		    (rc = inj_ptr(path, sizeof(path), meta_base, "annotations")) < 0 ||
		    (rc = inj_record(x, "add", path, a)) < 0 || !cJSON_AddItemToObject(meta, "annotations", a)) {
			cJSON_Delete(a ? a : v);
			return rc < 0 ? rc : -ENOMEM;
		}
	} else {
		char abase[INJ_PATH];

		if ((rc = inj_ptr(abase, sizeof(abase), meta_base, "annotations")) < 0 ||
		    (rc = inj_ptr(path, sizeof(path), abase, NETWORKS)) < 0 ||
		    (rc = inj_record(x, old ? "replace" : "add", path, v)) < 0) {
			cJSON_Delete(v);
			return rc;
		}
		if (old)
			cJSON_ReplaceItemInObjectCaseSensitive(ann, NETWORKS, v);
		else
			cJSON_AddItemToObject(ann, NETWORKS, v);
	}
	x->rep->changed++;
	return 0;
}
