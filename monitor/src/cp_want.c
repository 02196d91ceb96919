/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The engine's tables as the monitor's own view says they must be, as
 * table writes (fpgactl_tw_*): cp.c compares them with what it wrote and
 * sends the difference. The view is the reference: what the engine decides
 * from these tables is what the monitor decides from its own.
 */
#include "mon_private.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fpgactl.h"
#include "svcmap.h"

int mon_cp_set_add(struct mon_cp_set *s, const struct fpgactl_req *w)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 64;
		struct fpgactl_req *nw = realloc(s->w, cap * sizeof(*nw));

		if (!nw)
			return -ENOMEM;
		s->w = nw;
		s->cap = cap;
	}
	s->w[s->n++] = *w;
	return 0;
}

/* An address as the engine keys it: IPv6, or IPv4 as ::ffff:a.b.c.d. */
static void eng_addr(uint8_t out[16], const struct hl_proto_addr *a)
{
	uint32_t be;

	if (a->family == 4) {
		memcpy(&be, a->addr, 4);
		fpgactl_addr_v4(out, be);
	} else {
		memcpy(out, a->addr, 16);
	}
}

/* The pod's flags: its netfilter hooks (an error reading them: both, as
 * the monitor treats it) and, while NetworkPolicy is enforced, isolation
 * both ways (the admission table then decides every pair, as mon_admit()
 * is asked for every connection). */
unsigned mon_cp_pod_flags(struct hl_monitor *n, struct hl_mon_pod *ep)
{
	unsigned hooks = 0, f = 0;

	if (mon_nf_hooks(ep->nf, &hooks))
		hooks = MON_NF_IN | MON_NF_OUT;
	if (hooks & MON_NF_IN)
		f |= FPGACTL_POD_NF_IN;
	if (hooks & MON_NF_OUT)
		f |= FPGACTL_POD_NF_OUT;
	if (n->pol_enforce)
		f |= FPGACTL_POD_POL_IN | FPGACTL_POD_POL_OUT;
	return f;
}

static int cmp_svc(const void *x, const void *y)
{
	const struct mon_svc *a = *(const struct mon_svc *const *)x, *b = *(const struct mon_svc *const *)y;
	int c = memcmp(a->vip.addr, b->vip.addr, sizeof(a->vip.addr));

	return c ? c : (int)a->port - (int)b->port;
}

/* The Service map, in (ClusterIP, port) order so that endpoint ranges stay
 * where they were while the map does not change: each Service port's
 * candidates (mon_svc_candidates(), at most FPGACTL_SVC_MAX_EPS) as a
 * range of endpoint entries. */
static int want_services(struct hl_monitor *n, unsigned n_eps, struct mon_cp_set *out, uint64_t *over)
{
	const struct hl_mon_svcmap *m = n->svcs;
	const struct mon_svc **v;
	size_t k = 0, *idx = NULL, max = 0;
	unsigned base = 0;
	int rc = 0;

	if (!m || !m->n)
		return 0;
	v = malloc(m->n * sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < m->n_slots; i++)
		if (m->slots[i] && k < m->n) {
			v[k++] = m->slots[i];
			if (m->slots[i]->n_eps > max)
				max = m->slots[i]->n_eps;
		}
	qsort(v, k, sizeof(*v), cmp_svc);
	idx = malloc((max ? max : 1) * sizeof(*idx));
	for (size_t i = 0; idx && !rc && i < k; i++) {
		const struct mon_svc *s = v[i];
		size_t c = mon_svc_candidates(s, idx);
		struct fpgactl_req w;
		uint8_t a[16];

		if (c > FPGACTL_SVC_MAX_EPS) {
			*over += c - FPGACTL_SVC_MAX_EPS;
			c = FPGACTL_SVC_MAX_EPS;
		}
		if (base + c > n_eps) {
			*over += 1 + c;
			continue;
		}
		for (size_t j = 0; !rc && j < c; j++) {
			const struct mon_svc_ep *e = &s->eps[idx[j]];

			eng_addr(a, &e->addr);
			fpgactl_tw_ep(&w, 0, base + (unsigned)j, a, e->port, mon_pod_by_addr(n, &e->addr) != NULL);
			rc = mon_cp_set_add(out, &w);
		}
		eng_addr(a, &s->vip);
		fpgactl_tw_svc(&w, 0, a, s->port, base, (unsigned)c, s->affinity, false);
		rc = rc ? rc : mon_cp_set_add(out, &w);
		base += (unsigned)c;
	}
	if (!idx)
		rc = -ENOMEM;
	free(idx);
	free(v);
	return rc;
}

int mon_cp_want(struct hl_monitor *n, unsigned n_eps, int (*alloc)(struct hl_monitor *, struct hl_mon_pod *),
		struct mon_cp_set *out, uint64_t *over)
{
	struct fpgactl_req w;
	int rc = 0;

	out->n = 0;
	for (struct hl_mon_pod *ep = n->eps; ep && !rc; ep = ep->next) {
		unsigned f;

		if (!ep->cp_id && alloc(n, ep)) {
			*over += 1 + ep->n_ips;
			continue;
		}
		for (size_t i = 0; !rc && i < ep->n_ips; i++) {
			uint8_t a[16];

			eng_addr(a, &ep->ips[i]);
			fpgactl_tw_pod(&w, 0, a, ep->cp_id, false);
			rc = mon_cp_set_add(out, &w);
		}
		f = mon_cp_pod_flags(n, ep);
		if (!rc && f) {  /* 0 is what an unwritten entry holds */
			fpgactl_tw_pod_flags(&w, 0, ep->cp_id, f);
			rc = mon_cp_set_add(out, &w);
		}
	}
	return rc ? rc : want_services(n, n_eps, out, over);
}

static unsigned popcount_ports(const uint64_t *bits)
{
	unsigned c = 0;

	for (size_t i = 0; i < HL_GRANT_WORDS; i++)
		c += (unsigned)__builtin_popcountll(bits[i]);
	return c;
}

static bool port_set(const uint64_t *bits, unsigned p)
{
	return (bits[p / 64] >> (p % 64)) & 1;
}

/* One ordered pair's admission as entries: the ports admitted, or, when
 * fewer are denied, "any port" admitted with the denied ports as
 * exceptions (the engine looks the port up before the any-port entry). */
static int want_pair(const struct hl_mon_pod *s, const struct hl_mon_pod *d, const uint64_t *bits,
		     struct mon_cp_set *out, uint64_t *over)
{
	unsigned allowed = popcount_ports(bits), denied = 65535 - allowed, verdict;
	struct fpgactl_req w;
	int rc = 0;

	if (!allowed)
		return 0;  /* no entry: denied */
	if ((allowed < denied ? allowed : denied) > MON_CP_POL_PAIR_MAX) {
		*over += allowed < denied ? allowed : denied;
		return 0;
	}
	if (allowed > denied) {
		fpgactl_tw_pol(&w, 0, s->cp_id, d->cp_id, 0, FPGACTL_POL_ALLOW, false);
		rc = mon_cp_set_add(out, &w);
	}
	verdict = allowed > denied ? FPGACTL_POL_DENY : FPGACTL_POL_ALLOW;
	for (unsigned p = 1; !rc && p < 65536; p++)
		if (port_set(bits, p) == (verdict == FPGACTL_POL_ALLOW)) {
			fpgactl_tw_pol(&w, 0, s->cp_id, d->cp_id, (uint16_t)p, verdict, false);
			rc = mon_cp_set_add(out, &w);
		}
	return rc;
}

int mon_cp_want_policy(struct hl_monitor *n, struct mon_cp_set *out, uint64_t *over)
{
	uint64_t bits[HL_GRANT_WORDS];
	int rc = 0;

	out->n = 0;
	if (!n->pol_enforce)
		return 0;  /* no pod isolated: no entry consulted */
	for (struct hl_mon_pod *s = n->eps; s && !rc; s = s->next)
		for (struct hl_mon_pod *d = n->eps; d && !rc && s->cp_id; d = d->next) {
			if (!d->cp_id)
				continue;
			mon_admit_ports(n, s, d, bits);
			rc = want_pair(s, d, bits, out, over);
		}
	return rc;
}
