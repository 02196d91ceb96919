/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The store of admission objects (hlnp.h): per kind, namespace/name -> the
 * object as received (a cJSON copy), and the build of a table from them.
 * Tables are built whole on every change: a node holds a few hundred
 * objects at most and a build takes well under a millisecond per hundred
 * policies, which keeps the table a plain immutable snapshot the monitor
 * swaps in at once.
 */
#include "np_private.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

struct np_obj {
	char *ns, *name;            /* ns NULL: cluster-scoped */
	cJSON *json;
};

struct hlnp_store {
	pthread_mutex_t lock;
	struct np_obj *o[HLNP_KINDS];
	size_t n[HLNP_KINDS];
	bool unknown_all;            /* hlnp_store_set_unknown() */
	char **unknown_ns;
	size_t n_unknown_ns;
};

struct hlnp_store *hlnp_store_new(void)
{
	struct hlnp_store *s = calloc(1, sizeof(*s));

	if (!s) {
		errno = ENOMEM;
		return NULL;
	}
	pthread_mutex_init(&s->lock, NULL);
	return s;
}

static void obj_clear(struct np_obj *o)
{
	free(o->ns);
	free(o->name);
	cJSON_Delete(o->json);
}

static void clear_kind(struct hlnp_store *s, enum hlnp_kind k)
{
	for (size_t i = 0; i < s->n[k]; i++)
		obj_clear(&s->o[k][i]);
	free(s->o[k]);
	s->o[k] = NULL;
	s->n[k] = 0;
}

void hlnp_store_free(struct hlnp_store *s)
{
	if (!s)
		return;
	for (int k = 0; k < HLNP_KINDS; k++)
		clear_kind(s, (enum hlnp_kind)k);
	hlnp_strv_free(s->unknown_ns, s->n_unknown_ns);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

static bool same(const struct np_obj *o, const char *ns, const char *name)
{
	return !strcmp(o->name, name) && (!ns ? !o->ns : o->ns && !strcmp(o->ns, ns));
}

static ssize_t find(const struct hlnp_store *s, enum hlnp_kind k, const char *ns, const char *name)
{
	for (size_t i = 0; i < s->n[k]; i++)
		if (same(&s->o[k][i], ns, name))
			return (ssize_t)i;
	return -1;
}

int hlnp_store_put(struct hlnp_store *s, enum hlnp_kind kind, const cJSON *obj)
{
	struct np_obj o = { 0 }, *a;
	ssize_t i;
	int rc;

	if (!s || (unsigned)kind >= HLNP_KINDS)
		return -EINVAL;
	rc = np_meta(obj, kind == HLNP_NAMESPACE ? NULL : &o.ns, &o.name);
	if (rc)
		return rc;
	o.json = cJSON_Duplicate(obj, 1);
	if (!o.json) {
		obj_clear(&o);
		return -ENOMEM;
	}
	pthread_mutex_lock(&s->lock);
	i = find(s, kind, o.ns, o.name);
	if (i >= 0) {
		obj_clear(&s->o[kind][i]);
		s->o[kind][i] = o;
	} else if ((a = realloc(s->o[kind], (s->n[kind] + 1) * sizeof(*a)))) {
		s->o[kind] = a;
		a[s->n[kind]++] = o;
	} else {
		obj_clear(&o);
		rc = -ENOMEM;
	}
	pthread_mutex_unlock(&s->lock);
	return rc;
}

int hlnp_store_del(struct hlnp_store *s, enum hlnp_kind kind, const char *ns, const char *name)
{
	ssize_t i;

	if (!s || (unsigned)kind >= HLNP_KINDS || !name)
		return -ENOENT;
	pthread_mutex_lock(&s->lock);
	i = find(s, kind, kind == HLNP_NAMESPACE ? NULL : ns, name);
	if (i >= 0) {
		obj_clear(&s->o[kind][i]);
		s->o[kind][i] = s->o[kind][--s->n[kind]];
	}
	pthread_mutex_unlock(&s->lock);
	return i >= 0 ? 0 : -ENOENT;
}

void hlnp_store_clear(struct hlnp_store *s, enum hlnp_kind kind)
{
	if (!s || (unsigned)kind >= HLNP_KINDS)
		return;
	pthread_mutex_lock(&s->lock);
	clear_kind(s, kind);
	pthread_mutex_unlock(&s->lock);
}

int hlnp_store_set_unknown(struct hlnp_store *s, bool all, char *const *ns, size_t n)
{
	char **v;

	if (!s || (n && !ns))
		return -EINVAL;
	v = n ? calloc(n, sizeof(*v)) : NULL;
	if (n && !v)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		if (!(v[i] = strdup(ns[i]))) {
			hlnp_strv_free(v, n);
			return -ENOMEM;
		}
	pthread_mutex_lock(&s->lock);
	hlnp_strv_free(s->unknown_ns, s->n_unknown_ns);
	s->unknown_all = all;
	s->unknown_ns = v;
	s->n_unknown_ns = n;
	pthread_mutex_unlock(&s->lock);
	return 0;
}

size_t hlnp_store_count(struct hlnp_store *s, enum hlnp_kind kind)
{
	size_t n;

	if (!s || (unsigned)kind >= HLNP_KINDS)
		return 0;
	pthread_mutex_lock(&s->lock);
	n = s->n[kind];
	pthread_mutex_unlock(&s->lock);
	return n;
}

/* A pod that has ended (Succeeded, Failed) keeps its IP in the API, and a
 * new pod may have it already: only running or starting pods count. */
static bool pod_live(const cJSON *obj)
{
	const cJSON *st = cJSON_GetObjectItemCaseSensitive(obj, "status");
	const cJSON *ph = cJSON_GetObjectItemCaseSensitive(st, "phase");

	return !cJSON_IsString(ph) ||
	       (strcmp(ph->valuestring, "Succeeded") && strcmp(ph->valuestring, "Failed"));
}

static int build_policies(struct hlnp_store *s, struct hl_pol_table *t, struct hlnp_build_stats *st)
{
	for (size_t i = 0; i < s->n[HLNP_POLICY]; i++) {
		const struct np_obj *o = &s->o[HLNP_POLICY][i];
		char why[200];
		struct hl_pol_policy *p = hlnp_policy_decode(o->json, why, sizeof(why));
		int rc;

		if (!p && errno == ENOMEM)
			return -ENOMEM;
		if (!p) {
			/* Fail closed: the whole namespace leaves the fast path. */
			st->refused++;
			snprintf(st->last_refused, sizeof(st->last_refused), "%s/%s: %s", o->ns,
				 o->name, why);
			p = hlnp_policy_deny_all(o->ns, o->name);
			if (!p)
				return -ENOMEM;
		}
		rc = hl_pol_table_add_policy(t, p);
		if (rc)
			return rc;
		st->policies++;
	}
	return 0;
}

/* Stand-ins for what unknown policy kinds may do in namespace @ns (once
 * per namespace: @seen holds the ones done). */
static int unknown_one(struct hl_pol_table *t, struct hlnp_build_stats *st, char ***seen,
		       size_t *n_seen, const char *ns)
{
	struct hl_pol_policy *p;
	size_t before = *n_seen;
	int rc;

	if (!ns)
		return 0;
	if ((rc = np_strv_add(seen, n_seen, ns)) || *n_seen == before)
		return rc;
	p = hlnp_policy_deny_all(ns, "hostlane-unknown-policy-kinds");
	if (!p)
		return -ENOMEM;
	if ((rc = hl_pol_table_add_policy(t, p)))
		return rc;
	st->unknown_ns++;
	return 0;
}

static int build_unknown(struct hlnp_store *s, struct hl_pol_table *t, struct hlnp_build_stats *st)
{
	char **seen = NULL;
	size_t n_seen = 0;
	int rc = 0;

	for (size_t i = 0; !rc && i < s->n_unknown_ns; i++)
		rc = unknown_one(t, st, &seen, &n_seen, s->unknown_ns[i]);
	for (size_t i = 0; !rc && s->unknown_all && i < s->n[HLNP_NAMESPACE]; i++)
		rc = unknown_one(t, st, &seen, &n_seen, s->o[HLNP_NAMESPACE][i].name);
	for (size_t i = 0; !rc && s->unknown_all && i < s->n[HLNP_POD]; i++)
		rc = unknown_one(t, st, &seen, &n_seen, s->o[HLNP_POD][i].ns);
	hlnp_strv_free(seen, n_seen);
	return rc;
}

static int build_rest(struct hlnp_store *s, struct hl_pol_table *t, struct hlnp_build_stats *st)
{
	for (size_t i = 0; i < s->n[HLNP_NAMESPACE]; i++) {
		char *name;
		struct hl_pol_label *l;
		size_t n;
		int rc = hlnp_ns_decode(s->o[HLNP_NAMESPACE][i].json, &name, &l, &n);

		if (rc == -ENOMEM)
			return rc;
		/* A namespace without usable labels is left out: its pods
		 * then match no namespace selector, which admits less. */
		if (!rc && hl_pol_table_add_ns(t, name, l, n) == 0)
			st->namespaces++;
	}
	for (size_t i = 0; i < s->n[HLNP_POD]; i++) {
		const cJSON *j = s->o[HLNP_POD][i].json;
		struct hl_pol_pod p;
		int rc = pod_live(j) ? hlnp_pod_decode(j, &p) : -EINVAL;

		if (rc == -ENOMEM)
			return rc;
		/* Its labels count, not its addresses (which the watch may not
		 * have yet when the pod's first connection comes). */
		if (!rc && hl_pol_table_add_pod(t, &p) == 0) {
			st->pods++;
			continue;
		}
		if (!rc)
			hl_pol_pod_clear(&p);
		st->pods_skipped++;  /* unknown to the table: never admitted */
	}
	return 0;
}

struct hl_pol_table *hlnp_store_build(struct hlnp_store *s, struct hlnp_build_stats *stp)
{
	struct hlnp_build_stats st = { 0 };
	struct hl_pol_table *t = hl_pol_table_new();
	int rc = t ? 0 : -ENOMEM;

	pthread_mutex_lock(&s->lock);
	if (!rc)
		rc = build_policies(s, t, &st);
	if (!rc)
		rc = build_unknown(s, t, &st);
	if (!rc)
		rc = build_rest(s, t, &st);
	pthread_mutex_unlock(&s->lock);
	if (!rc)
		rc = hl_pol_table_compile(t);
	if (stp)
		*stp = st;
	if (rc) {
		hl_pol_table_free(t);
		errno = -rc;
		return NULL;
	}
	return t;
}
