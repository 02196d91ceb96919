/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What every kind shares as the API server sends it: metadata, lists
 * (PodList, ServiceList, ...), WatchEvents and Status objects. Everything
 * here parses untrusted input: every field is type-checked, and anything
 * unexpected is skipped or rejected, never trusted. The kinds' own fields
 * are in pod.c, service.c and endpointslice.c.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hlk8s_private.h"

#define LABELS_MAX 256 /* labels of an object kept; more are not needed */

const char *hlk8s__json_str(const cJSON *obj, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

const cJSON *hlk8s__json_array(const cJSON *v)
{
	return cJSON_IsArray(v) ? v : NULL;
}

int hlk8s__dup_opt(const char *s, char **out)
{
	*out = NULL;
	if (!s)
		return 0;
	*out = strdup(s);
	return *out ? 0 : -ENOMEM;
}

int hlk8s__copy_str(char *dst, size_t size, const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n >= size)
		return -EINVAL;
	memcpy(dst, s ? s : "", n + 1);
	return 0;
}

bool hlk8s__json_int(const cJSON *obj, const char *key, long min, long max, long *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	/* Only whole numbers in range: no conversion of an arbitrary double. */
	if (!cJSON_IsNumber(v) || !(v->valuedouble >= (double)min) ||
	    !(v->valuedouble <= (double)max) || (double)(long)v->valuedouble != v->valuedouble)
		return false;
	*out = (long)v->valuedouble;
	return true;
}

int hlk8s__ip_family(const char *s)
{
	unsigned char b[16];

	if (!s || strlen(s) >= HLK8S_IP_MAX)
		return 0;
	if (inet_pton(AF_INET, s, b) == 1)
		return 4;
	return inet_pton(AF_INET6, s, b) == 1 ? 6 : 0;
}

const char *hlk8s_label(const struct hlk8s_meta *m, const char *key)
{
	for (size_t i = 0; m && i < m->n_labels; i++)
		if (!strcmp(m->labels[i].key, key))
			return m->labels[i].value;
	return NULL;
}

static int copy_labels(const cJSON *labels, struct hlk8s_meta *m)
{
	const cJSON *l;
	size_t n = 0;

	cJSON_ArrayForEach(l, labels)
		if (cJSON_IsString(l) && l->string)
			n++;
	if (!n)
		return 0;
	if (n > LABELS_MAX)
		n = LABELS_MAX;
	m->labels = calloc(n, sizeof(*m->labels));
	if (!m->labels)
		return -ENOMEM;
	cJSON_ArrayForEach(l, labels) {
		struct hlk8s_kv *d = &m->labels[m->n_labels];

		if (!cJSON_IsString(l) || !l->string)
			continue;
		if (m->n_labels == n)
			break;
		d->key = strdup(l->string);
		d->value = strdup(l->valuestring);
		if (!d->key || !d->value) {
			free(d->key);
			free(d->value);
			return -ENOMEM;
		}
		m->n_labels++;
	}
	return 0;
}

void hlk8s__meta_clear(struct hlk8s_meta *m)
{
	for (size_t i = 0; i < m->n_labels; i++) {
		free(m->labels[i].key);
		free(m->labels[i].value);
	}
	free(m->labels);
	free(m->ns);
	free(m->name);
	free(m->uid);
	free(m->rv);
	memset(m, 0, sizeof(*m));
}

static int meta_parse(const struct hlk8s__kind *k, const cJSON *json, struct hlk8s_meta *m)
{
	const cJSON *md = cJSON_GetObjectItemCaseSensitive(json, "metadata");
	const char *kind = hlk8s__json_str(json, "kind");
	const char *ns;
	int r;

	if (!cJSON_IsObject(md) || (kind && strcmp(kind, k->kind)))
		return -EINVAL;
	ns = hlk8s__json_str(md, "namespace");
	if (!hlk8s__json_str(md, "name") || !*hlk8s__json_str(md, "name") ||
	    (k->namespaced && (!ns || !*ns)))
		return -EINVAL;
	r = hlk8s__dup_opt(k->namespaced ? ns : NULL, &m->ns);
	if (!r)
		r = hlk8s__dup_opt(hlk8s__json_str(md, "name"), &m->name);
	if (!r)
		r = hlk8s__dup_opt(hlk8s__json_str(md, "uid"), &m->uid);
	if (!r)
		r = hlk8s__dup_opt(hlk8s__json_str(md, "resourceVersion"), &m->rv);
	if (!r && cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(md, "labels")))
		r = copy_labels(cJSON_GetObjectItemCaseSensitive(md, "labels"), m);
	m->deleting = hlk8s__json_str(md, "deletionTimestamp") != NULL;
	return r;
}

void *hlk8s__obj_parse(const struct hlk8s__kind *k, const cJSON *json, int *err)
{
	void *obj = calloc(1, k->size);
	int r;

	if (!obj) {
		*err = -ENOMEM;
		return NULL;
	}
	r = meta_parse(k, json, obj);
	if (!r)
		r = k->parse(json, obj);
	if (r) {
		hlk8s__obj_free(k, obj);
		*err = r;
		return NULL;
	}
	*err = 0;
	return obj;
}

void hlk8s__obj_free(const struct hlk8s__kind *k, void *obj)
{
	if (!obj)
		return;
	k->clear(obj);
	hlk8s__meta_clear(obj);
	free(obj);
}

/* ---- Status ---- */

static void copy_field(char *dst, size_t size, const char *src)
{
	if (!src)
		src = "";
	strncpy(dst, src, size - 1);
	dst[size - 1] = '\0';
}

void hlk8s__status_from_json(const cJSON *obj, struct hlk8s__status *st)
{
	long code;

	memset(st, 0, sizeof(*st));
	/* Reject absurd codes instead of converting an arbitrary double. */
	if (hlk8s__json_int(obj, "code", 0, 999, &code))
		st->code = (int)code;
	copy_field(st->reason, sizeof(st->reason), hlk8s__json_str(obj, "reason"));
	copy_field(st->message, sizeof(st->message), hlk8s__json_str(obj, "message"));
}

int hlk8s__status_parse(const char *buf, size_t len, struct hlk8s__status *st)
{
	cJSON *root = cJSON_ParseWithLength(buf, len);
	const char *kind;
	int r = -EINVAL;

	memset(st, 0, sizeof(*st));
	kind = root ? hlk8s__json_str(root, "kind") : NULL;
	if (kind && !strcmp(kind, "Status")) {
		hlk8s__status_from_json(root, st);
		r = 0;
	}
	cJSON_Delete(root);
	return r;
}

/* ---- watch events ---- */

static const struct {
	const char *name;
	enum hlk8s__ev_type type;
} ev_types[] = {
	{ "ADDED", HLK8S_EV_ADDED },       { "MODIFIED", HLK8S_EV_MODIFIED },
	{ "DELETED", HLK8S_EV_DELETED },   { "BOOKMARK", HLK8S_EV_BOOKMARK },
	{ "ERROR", HLK8S_EV_ERROR },
};

static int ev_type_of(const char *s, enum hlk8s__ev_type *t)
{
	for (size_t i = 0; s && i < sizeof(ev_types) / sizeof(ev_types[0]); i++) {
		if (!strcmp(s, ev_types[i].name)) {
			*t = ev_types[i].type;
			return 0;
		}
	}
	return -EINVAL;
}

static int event_fill(const struct hlk8s__kind *k, const cJSON *root, struct hlk8s__event *ev)
{
	const cJSON *obj = cJSON_GetObjectItemCaseSensitive(root, "object");
	const cJSON *md;
	int r;

	if (ev_type_of(hlk8s__json_str(root, "type"), &ev->type) || !cJSON_IsObject(obj))
		return -EINVAL;
	switch (ev->type) {
	case HLK8S_EV_ERROR:
		hlk8s__status_from_json(obj, &ev->status);
		return 0;
	case HLK8S_EV_BOOKMARK:
		/* A bookmark carries only metadata.resourceVersion. */
		md = cJSON_GetObjectItemCaseSensitive(obj, "metadata");
		if (!hlk8s__json_str(md, "resourceVersion"))
			return -EINVAL;
		return hlk8s__dup_opt(hlk8s__json_str(md, "resourceVersion"), &ev->rv);
	default:
		ev->obj = hlk8s__obj_parse(k, obj, &r);
		if (!r)
			r = hlk8s__dup_opt(((struct hlk8s_meta *)ev->obj)->rv, &ev->rv);
		return r;
	}
}

int hlk8s__event_parse(const struct hlk8s__kind *k, const char *line, size_t len,
		       struct hlk8s__event *ev)
{
	cJSON *root;
	int r;

	memset(ev, 0, sizeof(*ev));
	root = cJSON_ParseWithLength(line, len);
	if (!root)
		return -EINVAL;
	r = event_fill(k, root, ev);
	cJSON_Delete(root);
	if (r)
		hlk8s__event_clear(k, ev);
	return r;
}

void hlk8s__event_clear(const struct hlk8s__kind *k, struct hlk8s__event *ev)
{
	hlk8s__obj_free(k, ev->obj);
	free(ev->rv);
	memset(ev, 0, sizeof(*ev));
}

/* ---- lists ---- */

static int list_items(const struct hlk8s__kind *k, const cJSON *items,
		      int (*fn)(void *, void *), void *arg)
{
	const cJSON *it;

	cJSON_ArrayForEach(it, items) {
		int r;
		void *obj = hlk8s__obj_parse(k, it, &r);

		if (r == -ENOMEM)
			return r;
		if (r)
			continue;
		r = fn(arg, obj);
		if (r < 0)
			return r;
	}
	return 0;
}

int hlk8s__list_parse(const struct hlk8s__kind *k, const char *buf, size_t len,
		      int (*fn)(void *arg, void *obj), void *arg, char **rv, char **cont)
{
	cJSON *root = cJSON_ParseWithLength(buf, len);
	const cJSON *md, *items;
	const char *kind;
	int r = -EINVAL;

	*rv = *cont = NULL;
	if (!root)
		return -EINVAL;
	kind = hlk8s__json_str(root, "kind");
	md = cJSON_GetObjectItemCaseSensitive(root, "metadata");
	items = cJSON_GetObjectItemCaseSensitive(root, "items");
	/* "items": null is how an empty list is sent by some servers. */
	if ((kind && strcmp(kind, k->list_kind)) || !cJSON_IsObject(md) ||
	    !(cJSON_IsArray(items) || cJSON_IsNull(items) || !items))
		goto out;
	r = list_items(k, items, fn, arg);
	if (!r)
		r = hlk8s__dup_opt(hlk8s__json_str(md, "resourceVersion"), rv);
	if (!r && hlk8s__json_str(md, "continue") && *hlk8s__json_str(md, "continue"))
		r = hlk8s__dup_opt(hlk8s__json_str(md, "continue"), cont);
	if (r) {
		free(*rv);
		free(*cont);
		*rv = *cont = NULL;
	}
out:
	cJSON_Delete(root);
	return r;
}
