/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer harness: the JSON an API server (or anything pretending to be
 * one) sends the agent, for every kind an informer follows: watch-event
 * lines, lists, the objects themselves (Pods, Services, EndpointSlices),
 * the caches fed from them, Status objects, and Nodes (spec.podCIDR,
 * labels).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hlk8s_private.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int put(void *arg, void *obj)
{
	return hlk8s__cache_put(arg, obj, NULL);
}

static void touch(void *arg, const void *obj)
{
	const struct hlk8s_meta *m = obj;

	/* Read what a handler reads: every string must be a string. */
	*(size_t *)arg += strlen(m->name) + (m->ns ? strlen(m->ns) : 0) +
			  (hlk8s_label(m, "app") ? 1 : 0);
}

static void events(const struct hlk8s__kind *k, const char *buf, size_t size,
		   struct hlk8s__cache *cache)
{
	/* Split into lines as the watch stream does. */
	for (size_t off = 0; off < size;) {
		const char *nl = memchr(buf + off, '\n', size - off);
		size_t len = nl ? (size_t)(nl - (buf + off)) : size - off;
		struct hlk8s__event ev;

		if (!hlk8s__event_parse(k, buf + off, len, &ev)) {
			const struct hlk8s_meta *m = ev.obj;

			if (ev.type == HLK8S_EV_DELETED)
				hlk8s__cache_del(cache, m->ns, m->name);
			else if (ev.type == HLK8S_EV_ADDED || ev.type == HLK8S_EV_MODIFIED) {
				hlk8s__cache_put(cache, ev.obj, NULL);
				ev.obj = NULL;
			}
			hlk8s__event_clear(k, &ev);
		}
		off += len + 1;
	}
}

static void one_kind(const struct hlk8s__kind *k, const char *buf, size_t size, cJSON *root)
{
	struct hlk8s__cache *cache = hlk8s__cache_new(k);
	char *rv, *cont;
	size_t n = 0;

	if (!cache)
		return;
	events(k, buf, size, cache);
	if (!hlk8s__list_parse(k, buf, size, put, cache, &rv, &cont)) {
		free(rv);
		free(cont);
	}
	if (root) {
		int err;
		void *obj = hlk8s__obj_parse(k, root, &err);

		if (obj && k->id == HLK8S_PODS)
			(void)hlk8s__pod_ann(obj, "hostlane.io/fastpath");
		hlk8s__obj_free(k, obj);
	}
	hlk8s__cache_each(cache, touch, &n);
	hlk8s__cache_free(cache);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	struct hlk8s__status st;
	cJSON *root = cJSON_ParseWithLength(buf, size);
	char out[64], tiny[4];

	for (int k = 0; k < HLK8S_KIND_COUNT; k++)
		one_kind(hlk8s__kind_of((enum hlk8s_kind)k), buf, size, root);
	hlk8s__status_parse(buf, size, &st);
	/* A Node (the standalone install's spec.podCIDR, the zone); small buffers too. */
	(void)hlk8s__node_pod_cidr(buf, size, out, sizeof(out));
	(void)hlk8s__node_pod_cidr(buf, size, tiny, sizeof(tiny));
	(void)hlk8s__node_label(buf, size, "topology.kubernetes.io/zone", out, sizeof(out));
	(void)hlk8s__node_label(buf, size, "topology.kubernetes.io/zone", tiny, sizeof(tiny));
	if (root)
		(void)hlk8s__json_pod_ann(root, "hostlane.io/fastpath");
	cJSON_Delete(root);
	return 0;
}
