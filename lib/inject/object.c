/* SPDX-License-Identifier: Apache-2.0 */
/* Where the pods of a Kubernetes object are (hl_inject_object()). */
#include "inject_private.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

/* Kinds whose pods are spec.template (apps/v1, batch/v1, core/v1). */
static const char *const templated[] = {
	"Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "Job", "ReplicationController",
};

static cJSON *obj(const cJSON *o, const char *k)
{
	cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsObject(v) ? v : NULL;
}

static void merge(struct hl_inject_report *into, const struct hl_inject_report *r)
{
	into->selected |= r->selected;
	into->changed += r->changed;
	into->containers += r->containers;
	for (unsigned i = 0; i < r->n_warnings; i++)
		inj_warn(into, "%s", r->warnings[i]);
}

/* A pod template (metadata + spec) of object @o named @what. */
static int template(const struct hl_inject_opts *o, cJSON *tpl, const cJSON *owner_meta,
		    const char *what, struct hl_inject_report *rep)
{
	struct hl_inject_report r;
	struct inj x;
	int rc;

	memset(&r, 0, sizeof(r));
	if ((rc = inj_setup(&x, o, &r, "", NULL)) < 0)
		return rc;
	x.where = what;
	/* The agent reads the pod's annotation: one on the workload alone does nothing. */
	if (!inj_wants_shm(obj(tpl, "metadata")) && inj_wants_shm(owner_meta))
		inj_warn(&r, "%s: %s is on the object, not on its pod template: not injected", what,
			 HL_INJECT_ANNOTATION);
	rc = tpl ? inj_pod(&x, obj(tpl, "metadata"), obj(tpl, "spec")) : 0;
	merge(rep, &r);
	return rc;
}

static int one(cJSON *o, const char *kind_hint, const struct hl_inject_opts *opts,
	       struct hl_inject_report *rep, int depth)
{
	const char *kind = inj_str(o, "kind"), *name;
	cJSON *meta = obj(o, "metadata"), *spec = obj(o, "spec"), *it;
	char what[320];

	if (!cJSON_IsObject(o))
		return 0;
	if (!kind)
		kind = kind_hint;
	if (!kind)
		return 0;
	name = inj_str(meta, "name");
	snprintf(what, sizeof(what), "%s %s", kind, name ? name : "(no name)");
	if (strcmp(kind, "Pod") == 0) {
		struct hl_inject_report r;
		struct inj x;
		int rc;

		memset(&r, 0, sizeof(r));
		if ((rc = inj_setup(&x, opts, &r, "", NULL)) < 0)
			return rc;
		x.where = what;
		rc = inj_pod(&x, meta, cJSON_GetObjectItemCaseSensitive(o, "spec"));
		merge(rep, &r);
		return rc;
	}
	for (size_t i = 0; i < sizeof(templated) / sizeof(templated[0]); i++)
		if (strcmp(kind, templated[i]) == 0)
			return template(opts, obj(spec, "template"), meta, what, rep);
	if (strcmp(kind, "PodTemplate") == 0)
		return template(opts, obj(o, "template"), meta, what, rep);
	if (strcmp(kind, "CronJob") == 0)
		return template(opts, obj(obj(obj(spec, "jobTemplate"), "spec"), "template"), meta, what, rep);
	/* List, and typed lists (PodList: items carry no kind). */
	size_t kl = strlen(kind);

	if (kl >= 4 && strcmp(kind + kl - 4, "List") == 0 && depth < 8) {
		char hint[64];

		snprintf(hint, sizeof(hint), "%.*s", (int)(kl - 4), kind);
		cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(o, "items")) {
			int rc = one(it, hint[0] ? hint : NULL, opts, rep, depth + 1);

			if (rc < 0)
				return rc;
		}
	}
	return 0;
}

int hl_inject_object(cJSON *obj, const struct hl_inject_opts *o, struct hl_inject_report *rep)
{
	memset(rep, 0, sizeof(*rep));
	return one(obj, NULL, o, rep, 0);
}
