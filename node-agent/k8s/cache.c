/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The pod cache: a chained hash table keyed by namespace/name. A node runs a
 * few hundred pods at most, so a fixed bucket count keeps chains short
 * without resizing. Not locked here: the client holds its lock around calls.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hlk8s_private.h"

#define CACHE_BUCKETS 256u

struct entry {
	struct entry *next;
	struct hlk8s__pod pod;
};

struct hlk8s__cache {
	struct entry *b[CACHE_BUCKETS];
	size_t count;
};

/* FNV-1a over "ns\0name". */
static unsigned bucket_of(const char *ns, const char *name)
{
	uint32_t h = 2166136261u;

	for (const char *p = ns; *p; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	h = (h ^ 0u) * 16777619u;
	for (const char *p = name; *p; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	return h % CACHE_BUCKETS;
}

struct hlk8s__cache *hlk8s__cache_new(void)
{
	return calloc(1, sizeof(struct hlk8s__cache));
}

void hlk8s__cache_free(struct hlk8s__cache *cache)
{
	if (!cache)
		return;
	for (unsigned i = 0; i < CACHE_BUCKETS; i++) {
		struct entry *e = cache->b[i];

		while (e) {
			struct entry *next = e->next;

			hlk8s__pod_clear(&e->pod);
			free(e);
			e = next;
		}
	}
	free(cache);
}

static struct entry **find(struct hlk8s__cache *cache, const char *ns, const char *name)
{
	struct entry **pp = &cache->b[bucket_of(ns, name)];

	for (; *pp; pp = &(*pp)->next)
		if (!strcmp((*pp)->pod.ns, ns) && !strcmp((*pp)->pod.name, name))
			return pp;
	return pp;
}

int hlk8s__cache_put(struct hlk8s__cache *cache, struct hlk8s__pod *pod)
{
	struct entry **pp = find(cache, pod->ns, pod->name);

	if (*pp) {
		hlk8s__pod_clear(&(*pp)->pod);
	} else {
		*pp = calloc(1, sizeof(**pp));
		if (!*pp)
			return -ENOMEM;
		cache->count++;
	}
	(*pp)->pod = *pod;
	memset(pod, 0, sizeof(*pod));
	return 0;
}

bool hlk8s__cache_del(struct hlk8s__cache *cache, const char *ns, const char *name)
{
	struct entry **pp = find(cache, ns, name);
	struct entry *e = *pp;

	if (!e)
		return false;
	*pp = e->next;
	hlk8s__pod_clear(&e->pod);
	free(e);
	cache->count--;
	return true;
}

const struct hlk8s__pod *hlk8s__cache_get(const struct hlk8s__cache *cache,
					  const char *ns, const char *name)
{
	/* find() does not modify the table; the cast only shares its code. */
	struct entry **pp = find((struct hlk8s__cache *)cache, ns, name);

	return *pp ? &(*pp)->pod : NULL;
}

size_t hlk8s__cache_count(const struct hlk8s__cache *cache)
{
	return cache->count;
}
