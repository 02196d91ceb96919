/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The pieces of a NetworkPolicy verdict: label selectors against a label
 * set, addresses against IP blocks, ports against a rule's ports; and
 * freeing the model (hl_policy.h).
 */
#include "policy.h"

#include <stdlib.h>
#include <string.h>

static const char *label_val(const struct hl_pol_label *l, size_t n, const char *key)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(l[i].key, key))
			return l[i].val;
	return NULL;
}

static bool in_vals(const struct hl_pol_req *r, const char *v)
{
	for (size_t i = 0; i < r->n_vals; i++)
		if (!strcmp(r->vals[i], v))
			return true;
	return false;
}

/* Kubernetes label selector semantics: every requirement holds; NotIn and
 * DoesNotExist hold for a label the set does not have. */
bool pol_sel_match(const struct hl_pol_sel *s, const struct hl_pol_label *l, size_t n)
{
	for (size_t i = 0; i < s->n_req; i++) {
		const struct hl_pol_req *r = &s->req[i];
		const char *v = label_val(l, n, r->key);
		bool ok = false;

		switch (r->op) {
		case HL_POL_OP_IN:
			ok = v && in_vals(r, v);
			break;
		case HL_POL_OP_NOT_IN:
			ok = !v || !in_vals(r, v);
			break;
		case HL_POL_OP_EXISTS:
			ok = v != NULL;
			break;
		case HL_POL_OP_NOT_EXISTS:
			ok = v == NULL;
			break;
		}
		if (!ok)
			return false;
	}
	return true;
}

/* Whether @a is in @c: same family, the first prefix bits equal. */
bool pol_cidr_has(const struct hl_pol_cidr *c, const struct hl_pol_addr *a)
{
	unsigned bits = c->prefix, full = bits / 8, rest = bits % 8;

	if (a->family != c->net.family || bits > (a->family == 4 ? 32u : 128u))
		return false;
	if (memcmp(a->a, c->net.a, full))
		return false;
	if (rest) {
		uint8_t mask = (uint8_t)(0xffu << (8 - rest));

		if ((a->a[full] & mask) != (c->net.a[full] & mask))
			return false;
	}
	return true;
}

/* A named port of @dst: by name and protocol; 0 when it has none. */
static uint16_t named_port(const struct pol_pod *dst, const char *name, uint8_t proto)
{
	for (size_t i = 0; i < dst->p.n_ports; i++)
		if (dst->p.ports[i].proto == proto && !strcmp(dst->p.ports[i].name, name))
			return dst->p.ports[i].port;
	return 0;
}

/* Whether @r's ports admit TCP port @port of @dst. A port given by name
 * is the destination's container port of that name (for ingress and
 * egress rules alike, as the API says). */
bool pol_ports_match(const struct hl_pol_rule *r, const struct pol_pod *dst, uint16_t port)
{
	if (!r->n_ports)
		return true;
	for (size_t i = 0; i < r->n_ports; i++) {
		const struct hl_pol_port *p = &r->ports[i];

		if (p->proto != HL_POL_TCP)
			continue;
		if (p->name) {
			if (named_port(dst, p->name, HL_POL_TCP) == port && port)
				return true;
		} else if (!p->port) {
			return true;
		} else if (p->end_port ? port >= p->port && port <= p->end_port : port == p->port) {
			return true;
		}
	}
	return false;
}

void pol_ports_set(const struct hl_pol_rule *r, const struct pol_pod *dst, uint64_t *bits)
{
	if (!r->n_ports) {
		memset(bits, 0xff, HL_POL_PORT_WORDS * sizeof(*bits));
		return;
	}
	for (size_t i = 0; i < r->n_ports; i++) {
		const struct hl_pol_port *p = &r->ports[i];
		uint32_t lo, hi;

		if (p->proto != HL_POL_TCP)
			continue;
		if (p->name) {
			lo = hi = named_port(dst, p->name, HL_POL_TCP);
		} else if (!p->port) {
			memset(bits, 0xff, HL_POL_PORT_WORDS * sizeof(*bits));
			return;
		} else {
			lo = p->port;
			hi = p->end_port > p->port ? p->end_port : p->port;
		}
		for (uint32_t q = lo; q && q <= hi; q++)
			bits[q / 64] |= UINT64_C(1) << (q % 64);
	}
}

/* ---- freeing ---- */

void hl_pol_sel_clear(struct hl_pol_sel *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n_req; i++) {
		free(s->req[i].key);
		for (size_t j = 0; j < s->req[i].n_vals; j++)
			free(s->req[i].vals[j]);
		free(s->req[i].vals);
	}
	free(s->req);
	s->req = NULL;
	s->n_req = 0;
}

void hl_pol_rule_clear(struct hl_pol_rule *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n_peers; i++) {
		hl_pol_sel_clear(&r->peers[i].pods);
		hl_pol_sel_clear(&r->peers[i].ns);
		free(r->peers[i].except);
	}
	free(r->peers);
	for (size_t i = 0; i < r->n_ports; i++)
		free(r->ports[i].name);
	free(r->ports);
	memset(r, 0, sizeof(*r));
}

void hl_pol_labels_free(struct hl_pol_label *l, size_t n)
{
	for (size_t i = 0; l && i < n; i++) {
		free(l[i].key);
		free(l[i].val);
	}
	free(l);
}

void hl_pol_pod_clear(struct hl_pol_pod *p)
{
	if (!p)
		return;
	free(p->ns);
	free(p->name);
	hl_pol_labels_free(p->labels, p->n_labels);
	for (size_t i = 0; i < p->n_ports; i++)
		free(p->ports[i].name);
	free(p->ports);
	memset(p, 0, sizeof(*p));
}

void hl_pol_policy_free(struct hl_pol_policy *p)
{
	if (!p)
		return;
	free(p->ns);
	free(p->name);
	hl_pol_sel_clear(&p->pods);
	for (size_t i = 0; i < p->n_in; i++)
		hl_pol_rule_clear(&p->in[i]);
	for (size_t i = 0; i < p->n_out; i++)
		hl_pol_rule_clear(&p->out[i]);
	free(p->in);
	free(p->out);
	free(p);
}

const char *hl_pol_verdict_name(enum hl_pol_verdict v)
{
	switch (v) {
	case HL_POL_ADMIT:
		return "admitted";
	case HL_POL_DENY_EGRESS:
		return "denied by the source's egress policy";
	case HL_POL_DENY_INGRESS:
		return "denied by the destination's ingress policy";
	case HL_POL_UNKNOWN:
		break;
	}
	return "a pod's policy state is unknown";
}
