/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer harness: the JSON an API server (or anything pretending to be
 * one) sends the agent: watch-event lines, PodLists, Status objects, Pods,
 * the pod cache fed from them, and Nodes (spec.podCIDR).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hlk8s_private.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int put(void *arg, struct hlk8s__pod *pod)
{
	return hlk8s__cache_put(arg, pod);
}

static void events(const char *buf, size_t size, struct hlk8s__cache *cache)
{
	/* Split into lines as the watch stream does. */
	for (size_t off = 0; off < size;) {
		const char *nl = memchr(buf + off, '\n', size - off);
		size_t len = nl ? (size_t)(nl - (buf + off)) : size - off;
		struct hlk8s__event ev;

		if (!hlk8s__event_parse(buf + off, len, &ev)) {
			if (ev.type == HLK8S_EV_DELETED)
				hlk8s__cache_del(cache, ev.pod.ns, ev.pod.name);
			else if (ev.type == HLK8S_EV_ADDED || ev.type == HLK8S_EV_MODIFIED)
				hlk8s__cache_put(cache, &ev.pod);
			hlk8s__event_clear(&ev);
		}
		off += len + 1;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	struct hlk8s__cache *cache = hlk8s__cache_new();
	struct hlk8s__status st;
	char *rv, *cont;
	cJSON *root;

	if (!cache)
		return 0;
	events(buf, size, cache);
	if (!hlk8s__podlist_parse(buf, size, put, cache, &rv, &cont)) {
		free(rv);
		free(cont);
	}
	hlk8s__status_parse(buf, size, &st);
	{
		/* A Node (the standalone install's spec.podCIDR); small buffers too. */
		char cidr[64], tiny[4];

		(void)hlk8s__node_pod_cidr(buf, size, cidr, sizeof(cidr));
		(void)hlk8s__node_pod_cidr(buf, size, tiny, sizeof(tiny));
	}
	root = cJSON_ParseWithLength(buf, size);
	if (root) {
		struct hlk8s__pod pod;

		(void)hlk8s__json_pod_ann(root, "hostlane.io/fastpath");
		if (!hlk8s__pod_from_json(root, &pod)) {
			(void)hlk8s__pod_ann(&pod, "hostlane.io/fastpath");
			hlk8s__pod_clear(&pod);
		}
		cJSON_Delete(root);
	}
	hlk8s__cache_free(cache);
	return 0;
}
