/* SPDX-License-Identifier: Apache-2.0 */
/*
 * NetworkPolicy JSON to the monitor's model (hlnp.h). The object comes
 * from the API server, which validated it, but the agent does not trust
 * what it reads: any deviation from the API's shape refuses the object.
 */
#include "np_private.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Bounds far above anything the API server accepts in one object, so a
 * hostile stream cannot make the agent allocate without limit. */
#define MAX_ITEMS 4096

struct np_ctx {
	char *why;
	size_t len;
};

__attribute__((format(printf, 2, 3)))
static int refuse(struct np_ctx *x, const char *fmt, ...)
{
	va_list ap;

	if (x->why && x->len) {
		va_start(ap, fmt);
		vsnprintf(x->why, x->len, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

/* @v as an array (NULL, or JSON null: an empty one): its size in @n, or
 * -EINVAL. */
static int array_of(struct np_ctx *x, const cJSON *v, const char *what, size_t *n)
{
	int k;

	*n = 0;
	if (!v || cJSON_IsNull(v))
		return 0;
	if (!cJSON_IsArray(v))
		return refuse(x, "%s is not a list", what);
	k = cJSON_GetArraySize(v);
	if (k < 0 || k > MAX_ITEMS)
		return refuse(x, "%s has too many items", what);
	*n = (size_t)k;
	return 0;
}

static bool is_object_or_absent(const cJSON *v)
{
	return !v || cJSON_IsNull(v) || cJSON_IsObject(v);
}

static int add_req(struct hl_pol_sel *s, const char *key, enum hl_pol_op op)
{
	struct hl_pol_req *r = realloc(s->req, (s->n_req + 1) * sizeof(*r));

	if (!r)
		return -ENOMEM;
	s->req = r;
	r = &s->req[s->n_req];
	memset(r, 0, sizeof(*r));
	r->op = op;
	r->key = strdup(key);
	if (!r->key)
		return -ENOMEM;
	s->n_req++;
	return 0;
}

static int add_val(struct hl_pol_req *r, const char *v)
{
	char **a = realloc(r->vals, (r->n_vals + 1) * sizeof(*a));

	if (!a)
		return -ENOMEM;
	r->vals = a;
	r->vals[r->n_vals] = strdup(v);
	if (!r->vals[r->n_vals])
		return -ENOMEM;
	r->n_vals++;
	return 0;
}

static int op_of(const char *s, enum hl_pol_op *op)
{
	static const struct { const char *name; enum hl_pol_op op; } ops[] = {
		{ "In", HL_POL_OP_IN }, { "NotIn", HL_POL_OP_NOT_IN },
		{ "Exists", HL_POL_OP_EXISTS }, { "DoesNotExist", HL_POL_OP_NOT_EXISTS },
	};

	for (size_t i = 0; s && i < sizeof(ops) / sizeof(ops[0]); i++)
		if (!strcmp(s, ops[i].name)) {
			*op = ops[i].op;
			return 0;
		}
	return -EINVAL;
}

static int expr_decode(struct np_ctx *x, const cJSON *e, struct hl_pol_sel *s, const char *what)
{
	const cJSON *key = cJSON_GetObjectItemCaseSensitive(e, "key");
	const cJSON *vals = cJSON_GetObjectItemCaseSensitive(e, "values"), *v;
	const cJSON *opj = cJSON_GetObjectItemCaseSensitive(e, "operator");
	enum hl_pol_op op;
	size_t n;
	int rc;

	if (!cJSON_IsObject(e) || !cJSON_IsString(key) || !*key->valuestring)
		return refuse(x, "%s: a matchExpression without a key", what);
	if (!cJSON_IsString(opj) || op_of(opj->valuestring, &op))
		return refuse(x, "%s: unknown operator", what);
	if (array_of(x, vals, what, &n))
		return -EINVAL;
	/* In and NotIn need values, Exists and DoesNotExist take none. */
	if ((op == HL_POL_OP_IN || op == HL_POL_OP_NOT_IN) != (n > 0))
		return refuse(x, "%s: operator %s with %zu values", what, opj->valuestring, n);
	rc = add_req(s, key->valuestring, op);
	cJSON_ArrayForEach(v, (n ? vals : NULL)) {
		if (rc)
			break;
		if (!cJSON_IsString(v))
			return refuse(x, "%s: a value is not a string", what);
		rc = add_val(&s->req[s->n_req - 1], v->valuestring);
	}
	return rc;
}

/* A LabelSelector (absent or null: matches everything). */
static int sel_decode(struct np_ctx *x, const cJSON *j, struct hl_pol_sel *s, const char *what)
{
	const cJSON *ml, *me, *v;
	size_t n;
	int rc = 0;

	if (!is_object_or_absent(j))
		return refuse(x, "%s is not an object", what);
	if (!j || cJSON_IsNull(j))
		return 0;
	ml = cJSON_GetObjectItemCaseSensitive(j, "matchLabels");
	me = cJSON_GetObjectItemCaseSensitive(j, "matchExpressions");
	if (!is_object_or_absent(ml))
		return refuse(x, "%s.matchLabels is not an object", what);
	cJSON_ArrayForEach(v, (ml && cJSON_IsObject(ml) ? ml : NULL)) {
		if (!cJSON_IsString(v) || !v->string || !*v->string)
			return refuse(x, "%s.matchLabels: a value is not a string", what);
		rc = add_req(s, v->string, HL_POL_OP_IN);
		if (!rc)
			rc = add_val(&s->req[s->n_req - 1], v->valuestring);
		if (rc)
			return rc;
	}
	if (array_of(x, me, what, &n))
		return -EINVAL;
	cJSON_ArrayForEach(v, (n ? me : NULL)) {
		rc = expr_decode(x, v, s, what);
		if (rc)
			return rc;
	}
	return 0;
}

static int cidr_decode(struct np_ctx *x, const cJSON *j, struct hl_pol_cidr *c)
{
	char buf[64], *slash, *end;
	unsigned long p;

	if (!cJSON_IsString(j) || strlen(j->valuestring) >= sizeof(buf))
		return refuse(x, "ipBlock: a CIDR is not a string");
	strcpy(buf, j->valuestring);
	slash = strchr(buf, '/');
	if (!slash)
		return refuse(x, "ipBlock: %s has no prefix length", buf);
	*slash = 0;
	if (hlnp_addr_parse(buf, &c->net))
		return refuse(x, "ipBlock: %s is not an address", buf);
	errno = 0;
	p = strtoul(slash + 1, &end, 10);
	if (errno || end == slash + 1 || *end || p > (c->net.family == 4 ? 32u : 128u))
		return refuse(x, "ipBlock: bad prefix length /%s", slash + 1);
	c->prefix = (uint8_t)p;
	return 0;
}

static int ipblock_decode(struct np_ctx *x, const cJSON *j, struct hl_pol_peer *pe)
{
	const cJSON *ex = cJSON_GetObjectItemCaseSensitive(j, "except"), *v;
	size_t n, i = 0;
	int rc;

	if (!cJSON_IsObject(j))
		return refuse(x, "ipBlock is not an object");
	rc = cidr_decode(x, cJSON_GetObjectItemCaseSensitive(j, "cidr"), &pe->cidr);
	if (rc || (rc = array_of(x, ex, "ipBlock.except", &n)) || !n)
		return rc;
	pe->except = calloc(n, sizeof(*pe->except));
	if (!pe->except)
		return -ENOMEM;
	cJSON_ArrayForEach(v, ex) {
		rc = cidr_decode(x, v, &pe->except[i]);
		if (rc)
			return rc;
		pe->n_except = ++i;
	}
	return 0;
}

static int peer_decode(struct np_ctx *x, const cJSON *j, struct hl_pol_peer *pe)
{
	const cJSON *ps = cJSON_GetObjectItemCaseSensitive(j, "podSelector");
	const cJSON *ns = cJSON_GetObjectItemCaseSensitive(j, "namespaceSelector");
	const cJSON *ip = cJSON_GetObjectItemCaseSensitive(j, "ipBlock");
	int rc;

	if (!cJSON_IsObject(j))
		return refuse(x, "a peer is not an object");
	if (ps && !cJSON_IsNull(ps))
		pe->what |= HL_POL_PEER_PODS;
	if (ns && !cJSON_IsNull(ns))
		pe->what |= HL_POL_PEER_NS;
	if (ip && !cJSON_IsNull(ip)) {
		if (pe->what)
			return refuse(x, "a peer has an ipBlock and a selector");
		pe->what = HL_POL_PEER_IP;
		return ipblock_decode(x, ip, pe);
	}
	if (!pe->what)
		return refuse(x, "a peer names nothing");
	rc = sel_decode(x, ps, &pe->pods, "podSelector");
	return rc ? rc : sel_decode(x, ns, &pe->ns, "namespaceSelector");
}

static int proto_of(const cJSON *j, uint8_t *p)
{
	if (!j || cJSON_IsNull(j)) {
		*p = HL_POL_TCP;
		return 0;
	}
	if (!cJSON_IsString(j))
		return -EINVAL;
	if (!strcmp(j->valuestring, "TCP"))
		*p = HL_POL_TCP;
	else if (!strcmp(j->valuestring, "UDP"))
		*p = HL_POL_UDP;
	else if (!strcmp(j->valuestring, "SCTP"))
		*p = HL_POL_SCTP;
	else
		return -EINVAL;
	return 0;
}

static bool port_number(const cJSON *j, uint16_t *out)
{
	double d;

	if (!cJSON_IsNumber(j))
		return false;
	d = j->valuedouble;
	if (!(d >= 1 && d <= 65535) || d != (double)(int)d)
		return false;
	*out = (uint16_t)d;
	return true;
}

static int port_decode(struct np_ctx *x, const cJSON *j, struct hl_pol_port *p)
{
	const cJSON *port = cJSON_GetObjectItemCaseSensitive(j, "port");
	const cJSON *end = cJSON_GetObjectItemCaseSensitive(j, "endPort");

	if (!cJSON_IsObject(j))
		return refuse(x, "a port is not an object");
	if (proto_of(cJSON_GetObjectItemCaseSensitive(j, "protocol"), &p->proto))
		return refuse(x, "a port has an unknown protocol");
	if (cJSON_IsString(port)) {
		size_t l = strlen(port->valuestring);

		/* IANA_SVC_NAME: 1-15 characters. */
		if (!l || l > 15)
			return refuse(x, "bad port name");
		p->name = strdup(port->valuestring);
		if (!p->name)
			return -ENOMEM;
	} else if (port && !cJSON_IsNull(port) && !port_number(port, &p->port)) {
		return refuse(x, "a port is not a number in 1-65535 or a name");
	}
	if (end && !cJSON_IsNull(end)) {
		if (!p->port || !port_number(end, &p->end_port) || p->end_port < p->port)
			return refuse(x, "endPort needs a numeric port not above it");
	}
	return 0;
}

static int rule_decode(struct np_ctx *x, const cJSON *j, bool egress, struct hl_pol_rule *r)
{
	const cJSON *peers = cJSON_GetObjectItemCaseSensitive(j, egress ? "to" : "from");
	const cJSON *ports = cJSON_GetObjectItemCaseSensitive(j, "ports"), *v;
	size_t np, nq, i = 0;
	int rc;

	if (!cJSON_IsObject(j))
		return refuse(x, "a rule is not an object");
	if (array_of(x, peers, egress ? "to" : "from", &np) || array_of(x, ports, "ports", &nq))
		return -EINVAL;
	if (np && !(r->peers = calloc(np, sizeof(*r->peers))))
		return -ENOMEM;
	cJSON_ArrayForEach(v, (np ? peers : NULL)) {
		r->n_peers = i + 1;
		rc = peer_decode(x, v, &r->peers[i++]);
		if (rc)
			return rc;
	}
	i = 0;
	if (nq && !(r->ports = calloc(nq, sizeof(*r->ports))))
		return -ENOMEM;
	cJSON_ArrayForEach(v, (nq ? ports : NULL)) {
		r->n_ports = i + 1;
		rc = port_decode(x, v, &r->ports[i++]);
		if (rc)
			return rc;
	}
	return 0;
}

static int rules_decode(struct np_ctx *x, const cJSON *j, bool egress, struct hl_pol_rule **out,
			size_t *n_out)
{
	const cJSON *v;
	size_t n, i = 0;
	int rc;

	if (array_of(x, j, egress ? "egress" : "ingress", &n))
		return -EINVAL;
	if (!n)
		return 0;
	*out = calloc(n, sizeof(**out));
	if (!*out)
		return -ENOMEM;
	cJSON_ArrayForEach(v, j) {
		*n_out = i + 1;
		rc = rule_decode(x, v, egress, &(*out)[i++]);
		if (rc)
			return rc;
	}
	return 0;
}

static int types_decode(struct np_ctx *x, const cJSON *j, struct hl_pol_policy *p)
{
	const cJSON *v;
	size_t n;

	if (array_of(x, j, "policyTypes", &n))
		return -EINVAL;
	if (!n) {
		/* The API's default: Ingress always, Egress with egress rules. */
		p->ingress = true;
		p->egress = p->n_out > 0;
		return 0;
	}
	cJSON_ArrayForEach(v, j) {
		if (cJSON_IsString(v) && !strcmp(v->valuestring, "Ingress"))
			p->ingress = true;
		else if (cJSON_IsString(v) && !strcmp(v->valuestring, "Egress"))
			p->egress = true;
		else
			return refuse(x, "unknown policyType");
	}
	return 0;
}

struct hl_pol_policy *hlnp_policy_decode(const cJSON *obj, char *why, size_t len)
{
	struct np_ctx x = { .why = why, .len = len };
	const cJSON *spec = cJSON_GetObjectItemCaseSensitive(obj, "spec");
	struct hl_pol_policy *p;
	int rc = -ENOMEM;

	if (why && len)
		*why = 0;
	p = calloc(1, sizeof(*p));
	if (!p)
		goto out;
	rc = np_meta(obj, &p->ns, &p->name);
	if (rc) {
		refuse(&x, "no metadata.namespace or metadata.name");
		goto out;
	}
	if (!cJSON_IsObject(spec)) {
		rc = refuse(&x, "no spec");
		goto out;
	}
	rc = sel_decode(&x, cJSON_GetObjectItemCaseSensitive(spec, "podSelector"), &p->pods,
			"spec.podSelector");
	if (!rc)
		rc = rules_decode(&x, cJSON_GetObjectItemCaseSensitive(spec, "ingress"), false,
				  &p->in, &p->n_in);
	if (!rc)
		rc = rules_decode(&x, cJSON_GetObjectItemCaseSensitive(spec, "egress"), true,
				  &p->out, &p->n_out);
	if (!rc)
		rc = types_decode(&x, cJSON_GetObjectItemCaseSensitive(spec, "policyTypes"), p);
out:
	if (rc) {
		if (rc == -ENOMEM && why && len)
			snprintf(why, len, "out of memory");
		hl_pol_policy_free(p);
		errno = -rc;
		return NULL;
	}
	return p;
}

struct hl_pol_policy *hlnp_policy_parse(const char *buf, size_t n, char *why, size_t len)
{
	cJSON *j = cJSON_ParseWithLength(buf, n);
	struct hl_pol_policy *p;
	int err;

	if (!j) {
		if (why && len)
			snprintf(why, len, "not JSON");
		errno = EINVAL;
		return NULL;
	}
	p = hlnp_policy_decode(j, why, len);
	err = errno;
	cJSON_Delete(j);
	errno = err;
	return p;
}

struct hl_pol_policy *hlnp_policy_deny_all(const char *ns, const char *name)
{
	struct hl_pol_policy *p;

	if (!ns) {
		errno = EINVAL;
		return NULL;
	}
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->ns = strdup(ns);
	p->name = strdup(name ? name : "");
	p->ingress = p->egress = true;
	if (!p->ns || !p->name) {
		hl_pol_policy_free(p);
		errno = ENOMEM;
		return NULL;
	}
	return p;
}
