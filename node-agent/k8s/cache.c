/* SPDX-License-Identifier: Apache-2.0 */
/*
 * An informer's cache: a chained hash table of typed objects keyed by
 * namespace/name. A node's pods are a few hundred; a cluster's Services and
 * EndpointSlices can be tens of thousands, so the table doubles when its
 * chains grow. Not locked here: the client holds its lock around calls.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hlk8s_private.h"

#define CACHE_BUCKETS_MIN 256u

struct entry {
	struct entry *next;
	uint32_t hash;
	void *obj;                /* typed; struct hlk8s_meta first */
};

struct hlk8s__cache {
	const struct hlk8s__kind *k;
	struct entry **b;
	size_t n_buckets, count;
};

static const struct hlk8s_meta *meta(const struct entry *e)
{
	return e->obj;
}

/* FNV-1a over "ns\0name" (a cluster-scoped object's ns is ""). */
static uint32_t hash_of(const char *ns, const char *name)
{
	uint32_t h = 2166136261u;

	for (const char *p = ns ? ns : ""; *p; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	h = (h ^ 0u) * 16777619u;
	for (const char *p = name; *p; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	return h;
}

static bool same(const struct hlk8s_meta *m, const char *ns, const char *name)
{
	return !strcmp(m->ns ? m->ns : "", ns ? ns : "") && !strcmp(m->name, name);
}

struct hlk8s__cache *hlk8s__cache_new(const struct hlk8s__kind *k)
{
	struct hlk8s__cache *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->k = k;
	c->n_buckets = CACHE_BUCKETS_MIN;
	c->b = calloc(c->n_buckets, sizeof(*c->b));
	if (!c->b) {
		free(c);
		return NULL;
	}
	return c;
}

void hlk8s__cache_free(struct hlk8s__cache *cache)
{
	if (!cache)
		return;
	for (size_t i = 0; i < cache->n_buckets; i++) {
		struct entry *e = cache->b[i];

		while (e) {
			struct entry *next = e->next;

			hlk8s__obj_free(cache->k, e->obj);
			free(e);
			e = next;
		}
	}
	free(cache->b);
	free(cache);
}

static struct entry **find(const struct hlk8s__cache *cache, const char *ns, const char *name,
			   uint32_t h)
{
	struct entry **pp = &cache->b[h & (cache->n_buckets - 1)];

	for (; *pp; pp = &(*pp)->next)
		if ((*pp)->hash == h && same(meta(*pp), ns, name))
			return pp;
	return pp;
}

/* Doubles the table when it holds more than two objects per bucket; a
 * failed allocation only leaves the chains longer. */
static void grow(struct hlk8s__cache *cache)
{
	size_t n = cache->n_buckets * 2;
	struct entry **b;

	if (cache->count <= 2 * cache->n_buckets || !(b = calloc(n, sizeof(*b))))
		return;
	for (size_t i = 0; i < cache->n_buckets; i++) {
		struct entry *e = cache->b[i];

		while (e) {
			struct entry *next = e->next;

			e->next = b[e->hash & (n - 1)];
			b[e->hash & (n - 1)] = e;
			e = next;
		}
	}
	free(cache->b);
	cache->b = b;
	cache->n_buckets = n;
}

int hlk8s__cache_put(struct hlk8s__cache *cache, void *obj, void **old)
{
	const struct hlk8s_meta *m = obj;
	uint32_t h = hash_of(m->ns, m->name);
	struct entry **pp = find(cache, m->ns, m->name, h);

	if (old)
		*old = NULL;
	if (*pp) {
		if (old)
			*old = (*pp)->obj;
		else
			hlk8s__obj_free(cache->k, (*pp)->obj);
	} else {
		*pp = calloc(1, sizeof(**pp));
		if (!*pp) {
			hlk8s__obj_free(cache->k, obj);
			return -ENOMEM;
		}
		(*pp)->hash = h;
		cache->count++;
	}
	(*pp)->obj = obj;
	grow(cache);
	return 0;
}

void *hlk8s__cache_take(struct hlk8s__cache *cache, const char *ns, const char *name)
{
	struct entry **pp = find(cache, ns, name, hash_of(ns, name));
	struct entry *e = *pp;
	void *obj;

	if (!e)
		return NULL;
	*pp = e->next;
	obj = e->obj;
	free(e);
	cache->count--;
	return obj;
}

bool hlk8s__cache_del(struct hlk8s__cache *cache, const char *ns, const char *name)
{
	void *obj = hlk8s__cache_take(cache, ns, name);

	hlk8s__obj_free(cache->k, obj);
	return obj != NULL;
}

const void *hlk8s__cache_get(const struct hlk8s__cache *cache, const char *ns,
			     const char *name)
{
	struct entry **pp = find(cache, ns, name, hash_of(ns, name));

	return *pp ? (*pp)->obj : NULL;
}

size_t hlk8s__cache_count(const struct hlk8s__cache *cache)
{
	return cache->count;
}

void hlk8s__cache_each(const struct hlk8s__cache *cache, void (*fn)(void *arg, const void *obj),
		       void *arg)
{
	for (size_t i = 0; i < cache->n_buckets; i++)
		for (const struct entry *e = cache->b[i]; e; e = e->next)
			fn(arg, e->obj);
}
