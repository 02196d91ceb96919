/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Pod, PodList, WatchEvent and Status JSON as the API server sends them.
 * Everything here parses untrusted input: every field is type-checked, and
 * anything unexpected is skipped or rejected, never trusted.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hlk8s_private.h"

static const char *json_str(const cJSON *obj, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* strdup of an optional string: NULL in, NULL out; -ENOMEM on failure. */
static int dup_opt(const char *s, char **out)
{
	*out = NULL;
	if (!s)
		return 0;
	*out = strdup(s);
	return *out ? 0 : -ENOMEM;
}

static int copy_anns(const cJSON *anns, struct hlk8s__pod *pod)
{
	const cJSON *a;
	size_t n = 0;

	cJSON_ArrayForEach(a, anns) {
		if (cJSON_IsString(a) && a->string &&
		    !strncmp(a->string, HLK8S_ANN_PREFIX, strlen(HLK8S_ANN_PREFIX)))
			n++;
	}
	if (!n)
		return 0;
	pod->anns = calloc(n, sizeof(*pod->anns));
	if (!pod->anns)
		return -ENOMEM;
	cJSON_ArrayForEach(a, anns) {
		struct hlk8s__ann *d;

		if (!cJSON_IsString(a) || !a->string ||
		    strncmp(a->string, HLK8S_ANN_PREFIX, strlen(HLK8S_ANN_PREFIX)))
			continue;
		d = &pod->anns[pod->n_anns];
		d->key = strdup(a->string);
		d->value = strdup(a->valuestring);
		if (!d->key || !d->value) {
			free(d->key);
			free(d->value);
			return -ENOMEM;
		}
		pod->n_anns++;
	}
	return 0;
}

int hlk8s__pod_from_json(const cJSON *obj, struct hlk8s__pod *pod)
{
	const cJSON *md = cJSON_GetObjectItemCaseSensitive(obj, "metadata");
	const cJSON *spec = cJSON_GetObjectItemCaseSensitive(obj, "spec");
	const cJSON *anns;
	const char *kind = json_str(obj, "kind");
	int r;

	memset(pod, 0, sizeof(*pod));
	if (!cJSON_IsObject(md) || (kind && strcmp(kind, "Pod")))
		return -EINVAL;
	if (!json_str(md, "name") || !json_str(md, "namespace"))
		return -EINVAL;
	r = dup_opt(json_str(md, "namespace"), &pod->ns);
	if (!r)
		r = dup_opt(json_str(md, "name"), &pod->name);
	if (!r)
		r = dup_opt(json_str(md, "uid"), &pod->uid);
	if (!r)
		r = dup_opt(json_str(md, "resourceVersion"), &pod->rv);
	if (!r && cJSON_IsObject(spec))
		r = dup_opt(json_str(spec, "nodeName"), &pod->node);
	anns = cJSON_GetObjectItemCaseSensitive(md, "annotations");
	if (!r && cJSON_IsObject(anns))
		r = copy_anns(anns, pod);
	if (r)
		hlk8s__pod_clear(pod);
	return r;
}

void hlk8s__pod_clear(struct hlk8s__pod *pod)
{
	for (size_t i = 0; i < pod->n_anns; i++) {
		free(pod->anns[i].key);
		free(pod->anns[i].value);
	}
	free(pod->anns);
	free(pod->ns);
	free(pod->name);
	free(pod->uid);
	free(pod->rv);
	free(pod->node);
	memset(pod, 0, sizeof(*pod));
}

const char *hlk8s__pod_ann(const struct hlk8s__pod *pod, const char *key)
{
	for (size_t i = 0; i < pod->n_anns; i++)
		if (!strcmp(pod->anns[i].key, key))
			return pod->anns[i].value;
	return NULL;
}

const char *hlk8s__json_pod_ann(const cJSON *obj, const char *key)
{
	const cJSON *md = cJSON_GetObjectItemCaseSensitive(obj, "metadata");
	const cJSON *anns = cJSON_GetObjectItemCaseSensitive(md, "annotations");

	return cJSON_IsObject(anns) ? json_str(anns, key) : NULL;
}

static void copy_field(char *dst, size_t size, const char *src)
{
	if (!src)
		src = "";
	strncpy(dst, src, size - 1);
	dst[size - 1] = '\0';
}

void hlk8s__status_from_json(const cJSON *obj, struct hlk8s__status *st)
{
	const cJSON *code = cJSON_GetObjectItemCaseSensitive(obj, "code");

	memset(st, 0, sizeof(*st));
	/* Reject absurd codes instead of converting an arbitrary double. */
	if (cJSON_IsNumber(code) && code->valuedouble >= 0 && code->valuedouble < 1000)
		st->code = (int)code->valuedouble;
	copy_field(st->reason, sizeof(st->reason), json_str(obj, "reason"));
	copy_field(st->message, sizeof(st->message), json_str(obj, "message"));
}

int hlk8s__status_parse(const char *buf, size_t len, struct hlk8s__status *st)
{
	cJSON *root = cJSON_ParseWithLength(buf, len);
	const char *kind;
	int r = -EINVAL;

	memset(st, 0, sizeof(*st));
	kind = root ? json_str(root, "kind") : NULL;
	if (kind && !strcmp(kind, "Status")) {
		hlk8s__status_from_json(root, st);
		r = 0;
	}
	cJSON_Delete(root);
	return r;
}

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

static int event_fill(const cJSON *root, struct hlk8s__event *ev)
{
	const cJSON *obj = cJSON_GetObjectItemCaseSensitive(root, "object");
	const cJSON *md;
	int r;

	if (ev_type_of(json_str(root, "type"), &ev->type) || !cJSON_IsObject(obj))
		return -EINVAL;
	switch (ev->type) {
	case HLK8S_EV_ERROR:
		hlk8s__status_from_json(obj, &ev->status);
		return 0;
	case HLK8S_EV_BOOKMARK:
		/* A bookmark carries only metadata.resourceVersion. */
		md = cJSON_GetObjectItemCaseSensitive(obj, "metadata");
		if (!json_str(md, "resourceVersion"))
			return -EINVAL;
		return dup_opt(json_str(md, "resourceVersion"), &ev->rv);
	default:
		r = hlk8s__pod_from_json(obj, &ev->pod);
		if (!r)
			r = dup_opt(ev->pod.rv, &ev->rv);
		return r;
	}
}

int hlk8s__event_parse(const char *line, size_t len, struct hlk8s__event *ev)
{
	cJSON *root;
	int r;

	memset(ev, 0, sizeof(*ev));
	root = cJSON_ParseWithLength(line, len);
	if (!root)
		return -EINVAL;
	r = event_fill(root, ev);
	cJSON_Delete(root);
	if (r)
		hlk8s__event_clear(ev);
	return r;
}

void hlk8s__event_clear(struct hlk8s__event *ev)
{
	hlk8s__pod_clear(&ev->pod);
	free(ev->rv);
	memset(ev, 0, sizeof(*ev));
}

static int podlist_items(const cJSON *items, int (*fn)(void *, struct hlk8s__pod *), void *arg)
{
	const cJSON *it;

	cJSON_ArrayForEach(it, items) {
		struct hlk8s__pod pod;
		int r = hlk8s__pod_from_json(it, &pod);

		if (r == -ENOMEM)
			return r;
		if (r)
			continue;
		r = fn(arg, &pod);
		hlk8s__pod_clear(&pod);
		if (r < 0)
			return r;
	}
	return 0;
}

int hlk8s__podlist_parse(const char *buf, size_t len,
			 int (*fn)(void *arg, struct hlk8s__pod *pod), void *arg,
			 char **rv, char **cont)
{
	cJSON *root = cJSON_ParseWithLength(buf, len);
	const cJSON *md, *items;
	const char *kind;
	int r = -EINVAL;

	*rv = *cont = NULL;
	if (!root)
		return -EINVAL;
	kind = json_str(root, "kind");
	md = cJSON_GetObjectItemCaseSensitive(root, "metadata");
	items = cJSON_GetObjectItemCaseSensitive(root, "items");
	/* "items": null is how an empty list is sent by some servers. */
	if ((kind && strcmp(kind, "PodList")) || !cJSON_IsObject(md) ||
	    !(cJSON_IsArray(items) || cJSON_IsNull(items) || !items))
		goto out;
	r = podlist_items(items, fn, arg);
	if (!r)
		r = dup_opt(json_str(md, "resourceVersion"), rv);
	if (!r && json_str(md, "continue") && *json_str(md, "continue"))
		r = dup_opt(json_str(md, "continue"), cont);
	if (r) {
		free(*rv);
		free(*cont);
		*rv = *cont = NULL;
	}
out:
	cJSON_Delete(root);
	return r;
}

/* ---- Node (the standalone install reads its pod CIDR) ---- */

int hlk8s__node_pod_cidr(const char *buf, size_t len, char *out, size_t outlen)
{
	cJSON *root = cJSON_ParseWithLength(buf, len);
	const cJSON *spec = cJSON_GetObjectItemCaseSensitive(root, "spec");
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(spec, "podCIDR");
	const cJSON *list = cJSON_GetObjectItemCaseSensitive(spec, "podCIDRs");
	int rc = -ENOENT;

	if (!cJSON_IsObject(root)) {
		cJSON_Delete(root);
		return -EINVAL;
	}
	/* podCIDRs[0] is podCIDR when both are set (API reference). */
	if (!cJSON_IsString(v) && cJSON_IsArray(list))
		v = cJSON_GetArrayItem(list, 0);
	if (cJSON_IsString(v) && v->valuestring[0])
		rc = (size_t)snprintf(out, outlen, "%s", v->valuestring) >= outlen ? -ENOSPC : 0;
	cJSON_Delete(root);
	return rc;
}
