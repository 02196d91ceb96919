/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Service map and kube-proxy's choice of an endpoint. What kube-proxy
 * (iptables and nftables modes) does for a ClusterIP connection:
 *   - the endpoints it may use are the ready ones; when none is ready, the
 *     serving ones that are terminating (so a rolling update does not drop
 *     traffic); not-serving ones never;
 *   - internalTrafficPolicy Local keeps only this node's (none: dropped);
 *     topology-aware routing (here: trafficDistribution PreferClose) keeps
 *     the near ones when there are any;
 *   - one of them uniformly at random;
 *   - sessionAffinity ClientIP: a client that connected within the timeout
 *     goes to the same endpoint, if it is still usable.
 * The map is built whole by the agent and swapped in; lookups are by
 * ClusterIP and port in an open-addressing table.
 */
#include "svcmap.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "hl_codec.h"

static uint64_t key_hash(const struct hl_proto_addr *a, uint16_t port)
{
	uint64_t h = 1469598103934665603ull;  /* FNV-1a */

	for (size_t i = 0; i < sizeof(a->addr); i++)
		h = (h ^ a->addr[i]) * 1099511628211ull;
	h = (h ^ a->family) * 1099511628211ull;
	h = (h ^ (port & 0xff)) * 1099511628211ull;
	return (h ^ (port >> 8)) * 1099511628211ull;
}

static uint64_t next_rnd(struct hl_mon_svcmap *m)
{
	/* xorshift64: the spread needs uniformity, not secrecy. */
	m->rnd ^= m->rnd << 13;
	m->rnd ^= m->rnd >> 7;
	m->rnd ^= m->rnd << 17;
	return m->rnd;
}

void mon_svc_seed(struct hl_mon_svcmap *m, uint64_t seed)
{
	m->rnd = seed ? seed : 0x9e3779b97f4a7c15ull;
}

struct hl_mon_svcmap *hl_mon_svcmap_new(void)
{
	struct hl_mon_svcmap *m = calloc(1, sizeof(*m));
	uint64_t seed = 0;

	if (!m) {
		errno = ENOMEM;
		return NULL;
	}
	if (getrandom(&seed, sizeof(seed), GRND_NONBLOCK) != sizeof(seed))
		seed = (uint64_t)(uintptr_t)m;
	mon_svc_seed(m, seed);
	return m;
}

static void svc_free(struct mon_svc *s)
{
	if (!s)
		return;
	free(s->eps);
	free(s->aff);
	free(s);
}

void hl_mon_svcmap_free(struct hl_mon_svcmap *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->n_slots; i++)
		svc_free(m->slots[i]);
	free(m->slots);
	free(m);
}

size_t hl_mon_svcmap_count(const struct hl_mon_svcmap *m)
{
	return m ? m->n : 0;
}

static struct mon_svc **slot_of(const struct hl_mon_svcmap *m, const struct hl_proto_addr *vip,
				uint16_t port)
{
	size_t mask = m->n_slots - 1, i;

	if (!m->n_slots)
		return NULL;
	for (i = (size_t)key_hash(vip, port) & mask;; i = (i + 1) & mask) {
		struct mon_svc *s = m->slots[i];

		if (!s || (s->port == port && hl_proto_addr_eq(&s->vip, vip)))
			return &m->slots[i];
	}
}

/* Keeps the table at most half full (there is always an empty slot). */
static int grow(struct hl_mon_svcmap *m)
{
	struct hl_mon_svcmap bigger = { .n_slots = m->n_slots ? m->n_slots * 2 : 64 };

	if ((m->n + 1) * 2 <= m->n_slots)
		return 0;
	bigger.slots = calloc(bigger.n_slots, sizeof(*bigger.slots));
	if (!bigger.slots)
		return -ENOMEM;
	for (size_t i = 0; i < m->n_slots; i++)
		if (m->slots[i])
			*slot_of(&bigger, &m->slots[i]->vip, m->slots[i]->port) = m->slots[i];
	free(m->slots);
	m->slots = bigger.slots;
	m->n_slots = bigger.n_slots;
	return 0;
}

static size_t eps_copy(struct mon_svc *s, const struct hl_mon_svc_endpoint *eps, size_t n)
{
	size_t k = 0;

	for (size_t i = 0; i < n && k < HL_MON_SVC_EPS_MAX; i++) {
		struct mon_svc_ep *e = &s->eps[k];

		if (!eps[i].addr || !eps[i].port || hl_proto_addr_parse(eps[i].addr, &e->addr) ||
		    e->addr.family != s->vip.family)
			continue;
		e->port = eps[i].port;
		e->ready = eps[i].ready;
		e->serving = eps[i].serving;
		e->terminating = eps[i].terminating;
		e->local = eps[i].local;
		k++;
	}
	return k;
}

int hl_mon_svcmap_add(struct hl_mon_svcmap *m, const struct hl_mon_svc *in)
{
	struct mon_svc *s, **slot;
	struct hl_proto_addr vip;
	size_t n = in && in->n_eps < HL_MON_SVC_EPS_MAX ? in->n_eps : HL_MON_SVC_EPS_MAX;

	if (!m || !in || !in->name || !in->vip || !in->port || (in->n_eps && !in->eps) ||
	    hl_proto_addr_parse(in->vip, &vip))
		return -EINVAL;
	slot = slot_of(m, &vip, in->port);
	if (slot && *slot)
		return -EEXIST;
	if (grow(m))
		return -ENOMEM;
	s = calloc(1, sizeof(*s));
	if (!s || (n && !(s->eps = calloc(n, sizeof(*s->eps))))) {
		svc_free(s);
		return -ENOMEM;
	}
	s->vip = vip;
	s->port = in->port;
	strncpy(s->name, in->name, sizeof(s->name) - 1);
	s->topology = in->topology;
	s->affinity = in->affinity;
	s->affinity_timeout_s = in->affinity_timeout_s ? in->affinity_timeout_s : 10800;
	s->n_eps = eps_copy(s, in->eps, n);
	*slot_of(m, &vip, in->port) = s;
	m->n++;
	return 0;
}

const struct mon_svc *mon_svc_find(const struct hl_mon_svcmap *m, const struct hl_proto_addr *vip,
				   uint16_t port)
{
	struct mon_svc **slot = m ? slot_of(m, vip, port) : NULL;

	return slot ? *slot : NULL;
}

/* Whether endpoint @e may take a connection; @any_ready says whether
 * the candidates (after topology) have a ready one. */
static bool usable(const struct mon_svc_ep *e, bool any_ready)
{
	return any_ready ? e->ready : e->serving && e->terminating;
}

/* The candidates: the topology first, then readiness. Fills @idx (size
 * s->n_eps) and returns how many. */
static size_t candidates(const struct mon_svc *s, size_t *idx)
{
	bool locals = s->topology == HL_MON_SVC_LOCAL, any_ready = false, any_local = false;
	size_t n = 0;

	for (size_t i = 0; i < s->n_eps; i++)
		if (s->eps[i].local && (s->eps[i].ready || (s->eps[i].serving && s->eps[i].terminating)))
			any_local = true;
	if (s->topology == HL_MON_SVC_PREFER_LOCAL && any_local)
		locals = true;
	for (size_t i = 0; i < s->n_eps; i++)
		if ((!locals || s->eps[i].local) && s->eps[i].ready)
			any_ready = true;
	for (size_t i = 0; i < s->n_eps; i++)
		if ((!locals || s->eps[i].local) && usable(&s->eps[i], any_ready))
			idx[n++] = i;
	return n;
}

/* The session of @client, or NULL; an expired one is dropped. */
static struct mon_affinity *session(struct mon_svc *s, const struct hl_proto_addr *client,
				    uint64_t now)
{
	for (size_t i = 0; i < s->n_aff; i++) {
		struct mon_affinity *a = &s->aff[i];

		if (!hl_proto_addr_eq(&a->client, client))
			continue;
		if (now - a->last_ms <= (uint64_t)s->affinity_timeout_s * 1000)
			return a;
		*a = s->aff[--s->n_aff];
		return NULL;
	}
	return NULL;
}

static void remember(struct mon_svc *s, const struct hl_proto_addr *client,
		     const struct mon_svc_ep *e, uint64_t now)
{
	struct mon_affinity *a;

	if (!s->aff && !(s->aff = calloc(MON_SVC_AFFINITY_MAX, sizeof(*s->aff))))
		return;  /* no memory: no stickiness, still a valid choice */
	if (s->n_aff == MON_SVC_AFFINITY_MAX) {
		size_t lru = 0;

		for (size_t i = 1; i < s->n_aff; i++)
			if (s->aff[i].last_ms < s->aff[lru].last_ms)
				lru = i;
		a = &s->aff[lru];
	} else {
		a = &s->aff[s->n_aff++];
	}
	a->client = *client;
	a->ep = e->addr;
	a->ep_port = e->port;
	a->last_ms = now;
}

enum mon_svc_res mon_svc_pick(struct hl_mon_svcmap *m, const struct hl_proto_addr *vip,
			      uint16_t port, const struct hl_proto_addr *client, uint64_t now_ms,
			      struct hl_proto_addr *ep, uint16_t *ep_port, const struct mon_svc **out)
{
	struct mon_svc **slot = m ? slot_of(m, vip, port) : NULL, *s = slot ? *slot : NULL;
	size_t *idx, n, pick;

	*out = s;
	if (!s)
		return MON_SVC_NONE;
	if (!s->n_eps)
		return MON_SVC_EMPTY;
	idx = malloc(s->n_eps * sizeof(*idx));
	if (!idx)
		return MON_SVC_EMPTY;  /* the kernel (kube-proxy) still serves it */
	n = candidates(s, idx);
	if (!n) {
		free(idx);
		return MON_SVC_EMPTY;
	}
	pick = idx[next_rnd(m) % n];
	if (s->affinity) {
		struct mon_affinity *a = session(s, client, now_ms);

		for (size_t i = 0; a && i < n; i++) {
			const struct mon_svc_ep *e = &s->eps[idx[i]];

			if (e->port == a->ep_port && hl_proto_addr_eq(&e->addr, &a->ep)) {
				pick = idx[i];
				break;
			}
		}
		if (a && a->ep_port == s->eps[pick].port && hl_proto_addr_eq(&a->ep, &s->eps[pick].addr))
			a->last_ms = now_ms;
		else if (a)
			*a = (struct mon_affinity){ .client = *client, .ep = s->eps[pick].addr,
						    .ep_port = s->eps[pick].port, .last_ms = now_ms };
		else
			remember(s, client, &s->eps[pick], now_ms);
	}
	*ep = s->eps[pick].addr;
	*ep_port = s->eps[pick].port;
	free(idx);
	return MON_SVC_PICKED;
}

void mon_svc_carry_affinity(struct hl_mon_svcmap *m, struct hl_mon_svcmap *old)
{
	if (!m || !old)
		return;
	for (size_t i = 0; i < old->n_slots; i++) {
		struct mon_svc *o = old->slots[i], **slot;

		if (!o || !o->aff)
			continue;
		slot = slot_of(m, &o->vip, o->port);
		if (!slot || !*slot || !(*slot)->affinity || (*slot)->aff)
			continue;
		(*slot)->aff = o->aff;
		(*slot)->n_aff = o->n_aff;
		o->aff = NULL;
		o->n_aff = 0;
	}
}
