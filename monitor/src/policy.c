/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The admission table (hl_policy.h): policies, namespaces and pods added
 * by the agent, compiled into the list of policies isolating each pod in
 * each direction, so that a verdict only looks at the policies that select
 * the two pods of the connection, however many the cluster has.
 */
#include "policy.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define NS_NAME_LABEL "kubernetes.io/metadata.name"

struct hl_pol_table *hl_pol_table_new(void)
{
	struct hl_pol_table *t = calloc(1, sizeof(*t));

	if (!t)
		errno = ENOMEM;
	return t;
}

static void pod_uncompile(struct pol_pod *p)
{
	free(p->in);
	free(p->out);
	p->in = p->out = NULL;
	p->n_in = p->n_out = 0;
	p->ns = NULL;
}

void hl_pol_table_free(struct hl_pol_table *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n_pol; i++)
		hl_pol_policy_free(t->pol[i]);
	free(t->pol);
	for (size_t i = 0; i < t->n_ns; i++) {
		free(t->ns[i].name);
		hl_pol_labels_free(t->ns[i].labels, t->ns[i].n_labels);
	}
	free(t->ns);
	for (size_t i = 0; i < t->n_pods; i++) {
		hl_pol_pod_clear(&t->pods[i].p);
		pod_uncompile(&t->pods[i]);
	}
	free(t->pods);
	free(t);
}

/* Grows array @arr of @n elements of @size by one; NULL when out of memory. */
static void *grow(void *arr, size_t n, size_t size)
{
	if (n + 1 > SIZE_MAX / size)
		return NULL;
	return realloc(arr, (n + 1) * size);
}

int hl_pol_table_add_policy(struct hl_pol_table *t, struct hl_pol_policy *p)
{
	struct hl_pol_policy **a;

	if (!t || !p || !p->ns) {
		hl_pol_policy_free(p);
		return -EINVAL;
	}
	a = grow(t->pol, t->n_pol, sizeof(*a));
	if (!a) {
		hl_pol_policy_free(p);
		return -ENOMEM;
	}
	t->pol = a;
	t->pol[t->n_pol++] = p;
	t->compiled = false;
	return 0;
}

static struct pol_ns *ns_find(const struct hl_pol_table *t, const char *name)
{
	for (size_t i = 0; i < t->n_ns; i++)
		if (!strcmp(t->ns[i].name, name))
			return &t->ns[i];
	return NULL;
}

int hl_pol_table_add_ns(struct hl_pol_table *t, char *name, struct hl_pol_label *labels,
			size_t n_labels)
{
	struct hl_pol_label *l = NULL;
	struct pol_ns *a;
	bool has_name = false;
	int err = -ENOMEM;

	if (!t || !name || (n_labels && !labels)) {
		err = -EINVAL;
		goto fail;
	}
	if (ns_find(t, name)) {
		err = -EEXIST;
		goto fail;
	}
	for (size_t i = 0; i < n_labels; i++)
		has_name |= !strcmp(labels[i].key, NS_NAME_LABEL);
	/* The API server sets this label on every namespace (1.21 on); a
	 * selector on it must work even if an object shows it without. */
	if (!has_name) {
		l = grow(labels, n_labels, sizeof(*l));
		if (!l)
			goto fail;
		labels = l;
		labels[n_labels].key = strdup(NS_NAME_LABEL);
		labels[n_labels].val = strdup(name);
		n_labels++;
		if (!labels[n_labels - 1].key || !labels[n_labels - 1].val)
			goto fail;
	}
	a = grow(t->ns, t->n_ns, sizeof(*a));
	if (!a)
		goto fail;
	t->ns = a;
	t->ns[t->n_ns++] = (struct pol_ns){ .name = name, .labels = labels, .n_labels = n_labels };
	t->compiled = false;
	return 0;
fail:
	free(name);
	hl_pol_labels_free(labels, n_labels);
	return err;
}

static struct pol_pod *pod_find(const struct hl_pol_table *t, const char *ns, const char *name)
{
	for (size_t i = 0; i < t->n_pods; i++)
		if (!strcmp(t->pods[i].p.name, name) && !strcmp(t->pods[i].p.ns, ns))
			return &t->pods[i];
	return NULL;
}

int hl_pol_table_add_pod(struct hl_pol_table *t, struct hl_pol_pod *p)
{
	struct pol_pod *a;
	int err = -EINVAL;

	if (!t || !p || !p->ns || !p->name || p->n_ips > HL_POL_MAX_IPS)
		goto fail;
	/* Its addresses are not checked against other pods': verdicts go by
	 * the addresses of the connection, and an ended pod may still show
	 * the address a new one has. */
	err = -EEXIST;
	if (pod_find(t, p->ns, p->name))
		goto fail;
	err = -ENOMEM;
	a = grow(t->pods, t->n_pods, sizeof(*a));
	if (!a)
		goto fail;
	t->pods = a;
	memset(&t->pods[t->n_pods], 0, sizeof(t->pods[0]));
	t->pods[t->n_pods++].p = *p;
	memset(p, 0, sizeof(*p));
	t->compiled = false;
	return 0;
fail:
	if (p)
		hl_pol_pod_clear(p);
	return err;
}

static int pod_compile(struct hl_pol_table *t, struct pol_pod *pod)
{
	pod_uncompile(pod);
	pod->ns = ns_find(t, pod->p.ns);
	for (size_t i = 0; i < t->n_pol; i++) {
		const struct hl_pol_policy *p = t->pol[i];
		const struct hl_pol_policy **a;

		if (strcmp(p->ns, pod->p.ns) || !pol_sel_match(&p->pods, pod->p.labels, pod->p.n_labels))
			continue;
		if (p->ingress) {
			a = grow(pod->in, pod->n_in, sizeof(*a));
			if (!a)
				return -ENOMEM;
			pod->in = a;
			pod->in[pod->n_in++] = p;
		}
		if (p->egress) {
			a = grow(pod->out, pod->n_out, sizeof(*a));
			if (!a)
				return -ENOMEM;
			pod->out = a;
			pod->out[pod->n_out++] = p;
		}
	}
	return 0;
}

int hl_pol_table_compile(struct hl_pol_table *t)
{
	for (size_t i = 0; i < t->n_pods; i++) {
		int rc = pod_compile(t, &t->pods[i]);

		if (rc)
			return rc;
	}
	t->compiled = true;
	return 0;
}

/* Whether @pe names pod @o (at @ip) for a rule of a policy of namespace
 * @pns: an IP block by address; selectors by labels, a pod selector alone
 * within @pns, a namespace selector across namespaces. */
static bool peer_match(const struct hl_pol_peer *pe, const char *pns, const struct pol_pod *o,
		       const struct hl_pol_addr *ip)
{
	if (pe->what & HL_POL_PEER_IP) {
		if (!pol_cidr_has(&pe->cidr, ip))
			return false;
		for (size_t i = 0; i < pe->n_except; i++)
			if (pol_cidr_has(&pe->except[i], ip))
				return false;
		return true;
	}
	if (!(pe->what & (HL_POL_PEER_PODS | HL_POL_PEER_NS)))
		return false;
	if (pe->what & HL_POL_PEER_NS) {
		if (!o->ns || !pol_sel_match(&pe->ns, o->ns->labels, o->ns->n_labels))
			return false;
	} else if (strcmp(o->p.ns, pns)) {
		return false;
	}
	return !(pe->what & HL_POL_PEER_PODS) || pol_sel_match(&pe->pods, o->p.labels, o->p.n_labels);
}

/* Whether one rule of the policies @pols (directions' rules chosen by
 * @egress) admits peer @o at @ip to port @port of @dst. */
static bool rules_admit(const struct hl_pol_policy *const *pols, size_t n, bool egress,
			const struct pol_pod *o, const struct hl_pol_addr *ip,
			const struct pol_pod *dst, uint16_t port)
{
	for (size_t i = 0; i < n; i++) {
		const struct hl_pol_rule *r = egress ? pols[i]->out : pols[i]->in;
		size_t nr = egress ? pols[i]->n_out : pols[i]->n_in;

		for (size_t j = 0; j < nr; j++) {
			bool peer = !r[j].n_peers;

			for (size_t k = 0; !peer && k < r[j].n_peers; k++)
				peer = peer_match(&r[j].peers[k], pols[i]->ns, o, ip);
			if (peer && pol_ports_match(&r[j], dst, port))
				return true;
		}
	}
	return false;
}

enum hl_pol_verdict hl_pol_admit(const struct hl_pol_table *t, const char *src_ns,
				 const char *src, const struct hl_pol_addr *src_ip,
				 const char *dst_ns, const char *dst,
				 const struct hl_pol_addr *dst_ip, uint16_t port)
{
	const struct pol_pod *s, *d;

	if (!t || !t->compiled || !src_ns || !src || !dst_ns || !dst || !src_ip || !dst_ip)
		return HL_POL_UNKNOWN;
	s = pod_find(t, src_ns, src);
	d = pod_find(t, dst_ns, dst);
	if (!s || !d)
		return HL_POL_UNKNOWN;
	/* A pod's connection to itself never leaves its netns on the kernel
	 * path (no veth, no policy engine): as admitted here. */
	if (s == d)
		return HL_POL_ADMIT;
	if (s->n_out && !rules_admit(s->out, s->n_out, true, d, dst_ip, d, port))
		return HL_POL_DENY_EGRESS;
	if (d->n_in && !rules_admit(d->in, d->n_in, false, s, src_ip, d, port))
		return HL_POL_DENY_INGRESS;
	return HL_POL_ADMIT;
}

/* ORs into @bits the ports the rules of @pols (by @egress) admit peer @o at
 * @ip to, on @dst. */
static void rules_ports(const struct hl_pol_policy *const *pols, size_t n, bool egress,
			const struct pol_pod *o, const struct hl_pol_addr *ip,
			const struct pol_pod *dst, uint64_t *bits)
{
	for (size_t i = 0; i < n; i++) {
		const struct hl_pol_rule *r = egress ? pols[i]->out : pols[i]->in;
		size_t nr = egress ? pols[i]->n_out : pols[i]->n_in;

		for (size_t j = 0; j < nr; j++) {
			bool peer = !r[j].n_peers;

			for (size_t k = 0; !peer && k < r[j].n_peers; k++)
				peer = peer_match(&r[j].peers[k], pols[i]->ns, o, ip);
			if (peer)
				pol_ports_set(&r[j], dst, bits);
		}
	}
}

int hl_pol_admit_ports(const struct hl_pol_table *t, const char *src_ns, const char *src,
		       const struct hl_pol_addr *src_ip, const char *dst_ns, const char *dst,
		       const struct hl_pol_addr *dst_ip, uint64_t *bits)
{
	const struct pol_pod *s = NULL, *d = NULL;
	uint64_t in[HL_POL_PORT_WORDS];

	memset(bits, 0, HL_POL_PORT_WORDS * sizeof(*bits));
	if (t && t->compiled && src_ns && src && dst_ns && dst && src_ip && dst_ip) {
		s = pod_find(t, src_ns, src);
		d = pod_find(t, dst_ns, dst);
	}
	if (!s || !d)
		return -ENOENT;
	/* As hl_pol_admit(): the source's egress, then the destination's
	 * ingress; a pod to itself is admitted. */
	if (s == d || !s->n_out)
		memset(bits, 0xff, HL_POL_PORT_WORDS * sizeof(*bits));
	else
		rules_ports(s->out, s->n_out, true, d, dst_ip, d, bits);
	if (s != d && d->n_in) {
		memset(in, 0, sizeof(in));
		rules_ports(d->in, d->n_in, false, s, src_ip, d, in);
		for (size_t i = 0; i < HL_POL_PORT_WORDS; i++)
			bits[i] &= in[i];
	}
	bits[0] &= ~UINT64_C(1);
	return 0;
}

unsigned hl_pol_isolated(const struct hl_pol_table *t, const char *ns, const char *name)
{
	const struct pol_pod *p = t && t->compiled && ns && name ? pod_find(t, ns, name) : NULL;

	if (!p)
		return 3;
	return (p->n_in ? 1u : 0u) | (p->n_out ? 2u : 0u);
}

size_t hl_pol_table_policies(const struct hl_pol_table *t)
{
	return t ? t->n_pol : 0;
}
