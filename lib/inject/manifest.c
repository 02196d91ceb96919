/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Reading a stream of Kubernetes objects (hl_manifest_read()): JSON with
 * cJSON, YAML with libyaml's event parser into the same cJSON trees. The
 * file is whatever a user (or a pipeline) hands `hostlanectl inject`, so
 * it is bounded: bytes, nodes after alias expansion (a "billion laughs"
 * file stops at the bound), nesting depth.
 *
 * Scalars are resolved as Kubernetes' YAML reader (YAML 1.1 rules) does,
 * so that the JSON of an object is the one the API server would get:
 * plain null/~/empty -> null, y/yes/on/true (any case variant the spec
 * lists) -> true, n/no/off/false -> false, integers in decimal, 0x hex,
 * 0o/0-prefixed octal, 0b binary with '_' separators, floats; quoted and
 * block scalars are strings. Writing is in manifest_write.c.
 */
#include "inject_private.h"
#include "manifest_private.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

struct anchor {
	char *name;
	cJSON *node;        /* owned copy, duplicated at each alias */
	size_t nodes;       /* its size, counted against the bound at each use */
	int depth;          /* its height: an alias must not nest past the bound */
};

struct reader {
	yaml_parser_t p;
	struct anchor *anchors;
	size_t n_anchors, cap_anchors;
	size_t nodes;
	char *err;
	size_t errlen;
};

static int fail(struct reader *r, const yaml_mark_t *m, int rc, const char *what)
{
	if (r->err[0] == '\0')
		snprintf(r->err, r->errlen, "line %zu column %zu: %s", m->line + 1, m->column + 1, what);
	return rc;
}

static bool is_one_of(const char *s, const char *const *list)
{
	for (; *list; list++)
		if (strcmp(s, *list) == 0)
			return true;
	return false;
}

static const char *const nulls[] = { "", "~", "null", "Null", "NULL", NULL };
static const char *const trues[] = { "y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE",
				     "on", "On", "ON", NULL };
static const char *const falses[] = { "n", "N", "no", "No", "NO", "false", "False", "FALSE",
				      "off", "Off", "OFF", NULL };

/* Integer text (sign, base prefix, '_' separators) -> value; false if not one. */
static bool parse_int(const char *s, long double *out)
{
	char digits[80];
	size_t n = 0;
	int base = 10, neg = 0;
	long double v = 0;

	if (*s == '-' || *s == '+')
		neg = *s++ == '-';
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		base = 16, s += 2;
	else if (s[0] == '0' && (s[1] == 'o' || s[1] == 'O'))
		base = 8, s += 2;
	else if (s[0] == '0' && (s[1] == 'b' || s[1] == 'B'))
		base = 2, s += 2;
	else if (s[0] == '0' && s[1])
		base = 8, s += 1;
	for (; *s; s++) {
		if (*s == '_')
			continue;
		if (n + 1 >= sizeof(digits))
			return false;
		digits[n++] = *s;
	}
	if (!n)
		return false;
	for (size_t i = 0; i < n; i++) {
		int d = digits[i] >= '0' && digits[i] <= '9' ? digits[i] - '0' :
			digits[i] >= 'a' && digits[i] <= 'f' ? digits[i] - 'a' + 10 :
			digits[i] >= 'A' && digits[i] <= 'F' ? digits[i] - 'A' + 10 : 99;

		if (d >= base)
			return false;
		v = v * base + d;
	}
	*out = neg ? -v : v;
	return true;
}

/* YAML 1.1 float: [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)? */
static bool is_float(const char *s)
{
	const char *p = s;
	size_t a = 0, b = 0;

	if (*p == '-' || *p == '+')
		p++;
	while (*p >= '0' && *p <= '9')
		p++, a++;
	if (*p == '.') {
		p++;
		while (*p >= '0' && *p <= '9')
			p++, b++;
		if (!a && !b)
			return false;
	} else if (!a) {
		return false;
	}
	if (*p == 'e' || *p == 'E') {
		p++;
		if (*p == '-' || *p == '+')
			p++;
		if (!(*p >= '0' && *p <= '9'))
			return false;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	return *p == '\0';
}

int mf_resolve_plain(const char *s, double *num)
{
	long double v;

	if (is_one_of(s, nulls))
		return MF_NULL;
	if (is_one_of(s, trues))
		return MF_TRUE;
	if (is_one_of(s, falses))
		return MF_FALSE;
	if (parse_int(s, &v)) {
		*num = (double)v;
		/* Beyond 2^53 a double is not the integer: kept as its text. */
		return fabsl(v) <= 9007199254740992.0L ? MF_NUMBER : MF_BIGINT;
	}
	if (is_float(s)) {
		*num = strtod(s, NULL);
		return isfinite(*num) ? MF_NUMBER : MF_STRING;
	}
	return MF_STRING;
}

static cJSON *scalar(struct reader *r, const yaml_event_t *e)
{
	const char *s = (const char *)e->data.scalar.value;
	const char *tag = (const char *)e->data.scalar.tag;
	bool plain = e->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
	double num = 0;
	int kind = MF_STRING;

	if (tag && strcmp(tag, "!") != 0) {
		if (strcmp(tag, YAML_STR_TAG) == 0 || strcmp(tag, "tag:yaml.org,2002:binary") == 0)
			kind = MF_STRING;
		else if (strcmp(tag, YAML_INT_TAG) == 0 || strcmp(tag, YAML_FLOAT_TAG) == 0 ||
			 strcmp(tag, YAML_BOOL_TAG) == 0 || strcmp(tag, YAML_NULL_TAG) == 0) {
			kind = mf_resolve_plain(s, &num);
			if (kind == MF_STRING) {
				fail(r, &e->start_mark, -EINVAL, "the value does not match its tag");
				return NULL;
			}
		} else {
			fail(r, &e->start_mark, -EINVAL, "unknown tag");
			return NULL;
		}
	} else if (plain && !tag) {
		kind = mf_resolve_plain(s, &num);
	}
	switch (kind) {
	case MF_NULL: return cJSON_CreateNull();
	case MF_TRUE: return cJSON_CreateTrue();
	case MF_FALSE: return cJSON_CreateFalse();
	case MF_NUMBER: return cJSON_CreateNumber(num);
	case MF_BIGINT: return cJSON_CreateRaw(s);
	default: return cJSON_CreateString(s);
	}
}

/* Nodes of a tree and its height (both bounded: it was read under the bounds). */
static size_t count(const cJSON *n, int *height)
{
	size_t c = 1;
	int h = 0;

	for (const cJSON *it = n->child; it; it = it->next) {
		int ch = 0;

		c += count(it, &ch);
		if (ch > h)
			h = ch;
	}
	*height = h + 1;
	return c;
}

static int remember(struct reader *r, const yaml_char_t *name, const cJSON *node)
{
	struct anchor *a;

	if (r->n_anchors == r->cap_anchors) {
		size_t cap = r->cap_anchors ? r->cap_anchors * 2 : 8;

		a = realloc(r->anchors, cap * sizeof(*a));
		if (!a)
			return -ENOMEM;
		r->anchors = a;
		r->cap_anchors = cap;
	}
	a = &r->anchors[r->n_anchors];
	a->name = strdup((const char *)name);
	a->node = cJSON_Duplicate(node, 1);
	a->nodes = count(node, &a->depth);
	if (!a->name || !a->node) {
		free(a->name);
		cJSON_Delete(a->node);
		return -ENOMEM;
	}
	r->n_anchors++;
	return 0;
}

static cJSON *alias(struct reader *r, const yaml_event_t *e, int depth, int *rc)
{
	/* The latest definition of a name wins (YAML allows redefining). */
	for (size_t i = r->n_anchors; i-- > 0;) {
		if (strcmp(r->anchors[i].name, (const char *)e->data.alias.anchor))
			continue;
		if (depth + r->anchors[i].depth > HL_MANIFEST_MAX_DEPTH) {
			*rc = fail(r, &e->start_mark, -E2BIG, "nested too deep once aliases are expanded");
			return NULL;
		}
		if (r->nodes + r->anchors[i].nodes > HL_MANIFEST_MAX_NODES) {
			*rc = fail(r, &e->start_mark, -E2BIG, "too many nodes once aliases are expanded");
			return NULL;
		}
		r->nodes += r->anchors[i].nodes;
		cJSON *d = cJSON_Duplicate(r->anchors[i].node, 1);

		if (!d)
			*rc = -ENOMEM;
		return d;
	}
	*rc = fail(r, &e->start_mark, -EINVAL, "alias to an unknown anchor");
	return NULL;
}

static int node(struct reader *r, yaml_event_t *e, int depth, cJSON **out);

/* Merge key "<<": the keys of a mapping (or of each in a list) that @m
 * does not have yet. */
static int merge_into(struct reader *r, cJSON *m, cJSON *src, const yaml_mark_t *mark)
{
	cJSON *it;

	if (cJSON_IsArray(src)) {
		cJSON_ArrayForEach(it, src) {
			int rc = merge_into(r, m, it, mark);

			if (rc < 0)
				return rc;
		}
		return 0;
	}
	if (!cJSON_IsObject(src))
		return fail(r, mark, -EINVAL, "a merge key (<<) needs a mapping or a list of them");
	while (src->child) {
		it = cJSON_DetachItemViaPointer(src, src->child);
		if (cJSON_GetObjectItemCaseSensitive(m, it->string))
			cJSON_Delete(it);
		else
			cJSON_AddItemToObject(m, it->string, it);
	}
	return 0;
}

static int mapping(struct reader *r, yaml_event_t *start, int depth, cJSON **out)
{
	cJSON *m = cJSON_CreateObject(), *merges = cJSON_CreateArray();
	yaml_event_t k;
	int rc = m && merges ? 0 : -ENOMEM;

	while (rc == 0) {
		if (!yaml_parser_parse(&r->p, &k)) {
			rc = fail(r, &r->p.problem_mark, -EINVAL, r->p.problem ? r->p.problem : "syntax error");
			break;
		}
		if (k.type == YAML_MAPPING_END_EVENT) {
			yaml_event_delete(&k);
			break;
		}
		if (k.type != YAML_SCALAR_EVENT) {
			rc = fail(r, &k.start_mark, -EINVAL, "a mapping key must be a scalar");
			yaml_event_delete(&k);
			break;
		}
		char *key = strdup((const char *)k.data.scalar.value);
		bool is_merge = k.data.scalar.style == YAML_PLAIN_SCALAR_STYLE && key && strcmp(key, "<<") == 0;
		yaml_mark_t km = k.start_mark;
		cJSON *v = NULL;

		yaml_event_delete(&k);
		if (!key) {
			rc = -ENOMEM;
			break;
		}
		rc = node(r, NULL, depth + 1, &v);
		if (rc == 0 && is_merge) {
			cJSON_AddItemToArray(merges, v);
		} else if (rc == 0 && cJSON_GetObjectItemCaseSensitive(m, key)) {
			cJSON_Delete(v);
			rc = fail(r, &km, -EINVAL, "duplicate key in a mapping");
		} else if (rc == 0) {
			cJSON_AddItemToObject(m, key, v);
		}
		free(key);
	}
	for (cJSON *it = merges ? merges->child : NULL; rc == 0 && it; it = it->next)
		rc = merge_into(r, m, it, &start->start_mark);
	cJSON_Delete(merges);
	if (rc < 0) {
		cJSON_Delete(m);
		return rc;
	}
	*out = m;
	return 0;
}

static int sequence(struct reader *r, int depth, cJSON **out)
{
	cJSON *a = cJSON_CreateArray();
	yaml_event_t e;
	int rc = a ? 0 : -ENOMEM;

	while (rc == 0) {
		cJSON *v = NULL;

		if (!yaml_parser_parse(&r->p, &e)) {
			rc = fail(r, &r->p.problem_mark, -EINVAL, r->p.problem ? r->p.problem : "syntax error");
			break;
		}
		if (e.type == YAML_SEQUENCE_END_EVENT) {
			yaml_event_delete(&e);
			break;
		}
		rc = node(r, &e, depth + 1, &v);
		if (rc == 0)
			cJSON_AddItemToArray(a, v);
	}
	if (rc < 0) {
		cJSON_Delete(a);
		return rc;
	}
	*out = a;
	return 0;
}

/* One node; @e is its first event (NULL: read it here). Frees the event. */
static int node(struct reader *r, yaml_event_t *given, int depth, cJSON **out)
{
	yaml_event_t own = { 0 }, *e = given ? given : &own;
	const yaml_char_t *anchor = NULL;
	int rc = 0;

	*out = NULL;
	if (!given && !yaml_parser_parse(&r->p, &own))
		return fail(r, &r->p.problem_mark, -EINVAL, r->p.problem ? r->p.problem : "syntax error");
	if (depth > HL_MANIFEST_MAX_DEPTH) {
		rc = fail(r, &e->start_mark, -E2BIG, "nested too deep");
		goto out;
	}
	if (++r->nodes > HL_MANIFEST_MAX_NODES) {
		rc = fail(r, &e->start_mark, -E2BIG, "too many nodes");
		goto out;
	}
	switch (e->type) {
	case YAML_SCALAR_EVENT:
		anchor = e->data.scalar.anchor;
		*out = scalar(r, e);
		rc = *out ? 0 : r->err[0] ? -EINVAL : -ENOMEM;
		break;
	case YAML_ALIAS_EVENT:
		*out = alias(r, e, depth, &rc);
		break;
	case YAML_MAPPING_START_EVENT:
		anchor = e->data.mapping_start.anchor;
		rc = mapping(r, e, depth, out);
		break;
	case YAML_SEQUENCE_START_EVENT:
		anchor = e->data.sequence_start.anchor;
		rc = sequence(r, depth, out);
		break;
	default:
		rc = fail(r, &e->start_mark, -EINVAL, "unexpected YAML event");
	}
	if (rc == 0 && anchor && (rc = remember(r, anchor, *out)) < 0) {
		cJSON_Delete(*out);
		*out = NULL;
	}
out:
	yaml_event_delete(e);
	return rc;
}

static int read_yaml(const char *text, size_t len, cJSON *docs, char *err, size_t errlen)
{
	struct reader r = { .err = err, .errlen = errlen };
	yaml_event_t e;
	int rc = 0;
	bool done = false;

	if (!yaml_parser_initialize(&r.p))
		return -ENOMEM;
	yaml_parser_set_input_string(&r.p, (const unsigned char *)text, len);
	while (rc == 0 && !done) {
		if (!yaml_parser_parse(&r.p, &e)) {
			rc = fail(&r, &r.p.problem_mark, -EINVAL, r.p.problem ? r.p.problem : "syntax error");
			break;
		}
		switch (e.type) {
		case YAML_STREAM_END_EVENT:
			done = true;
			/* fall through */
		case YAML_STREAM_START_EVENT:
		case YAML_DOCUMENT_END_EVENT:
			yaml_event_delete(&e);
			break;
		case YAML_DOCUMENT_START_EVENT: {
			cJSON *root = NULL;

			yaml_event_delete(&e);
			/* Anchors do not cross documents. */
			for (size_t i = 0; i < r.n_anchors; i++) {
				free(r.anchors[i].name);
				cJSON_Delete(r.anchors[i].node);
			}
			r.n_anchors = 0;
			rc = node(&r, NULL, 0, &root);
			if (rc == 0 && cJSON_IsNull(root))
				cJSON_Delete(root);       /* an empty document */
			else if (rc == 0)
				cJSON_AddItemToArray(docs, root);
			break;
		}
		default:
			rc = fail(&r, &e.start_mark, -EINVAL, "unexpected YAML event");
			yaml_event_delete(&e);
		}
	}
	for (size_t i = 0; i < r.n_anchors; i++) {
		free(r.anchors[i].name);
		cJSON_Delete(r.anchors[i].node);
	}
	free(r.anchors);
	yaml_parser_delete(&r.p);
	return rc;
}

static uint64_t fnv(const char *s)
{
	uint64_t h = 1469598103934665603ull;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

/* A key twice in one object: cJSON keeps both, YAML and the API server do
 * not; refused like the YAML reader refuses it. 0, 1 found, -ENOMEM.
 * (An open-addressing set per object: a hostile object of many keys
 * costs linear time, not quadratic.) */
static int dup_key(const cJSON *o, int depth)
{
	const cJSON **set = NULL;
	size_t n = 0, cap;
	int rc = 0;

	if (depth > HL_MANIFEST_MAX_DEPTH)
		return 0;  /* cJSON's own nesting bound stops it before */
	for (const cJSON *it = o->child; it; it = it->next)
		n++;
	if (cJSON_IsObject(o) && n > 1) {
		cap = 2;
		while (cap < 2 * n)
			cap *= 2;
		set = calloc(cap, sizeof(*set));
		if (!set)
			return -ENOMEM;
		for (const cJSON *it = o->child; it && !rc; it = it->next) {
			size_t i = fnv(it->string) & (cap - 1);

			for (; set[i]; i = (i + 1) & (cap - 1))
				if (strcmp(set[i]->string, it->string) == 0) {
					rc = 1;
					break;
				}
			set[i] = it;
		}
		free(set);
	}
	for (const cJSON *it = o->child; it && !rc; it = it->next)
		rc = dup_key(it, depth + 1);
	return rc;
}

static int read_json(const char *text, size_t len, cJSON *docs, char *err, size_t errlen)
{
	size_t off = 0;
	int n = 0;

	for (;;) {
		const char *end = NULL;
		cJSON *d;

		while (off < len && (text[off] == ' ' || text[off] == '\t' || text[off] == '\n' ||
				     text[off] == '\r'))
			off++;
		if (off == len)
			return 0;
		d = cJSON_ParseWithLengthOpts(text + off, len - off, &end, false);
		n++;
		if (!d || !end || end <= text + off) {
			cJSON_Delete(d);
			snprintf(err, errlen, "JSON document %d (at byte %zu) does not parse", n, off);
			return -EINVAL;
		}
		if (dup_key(d, 0)) {
			cJSON_Delete(d);
			snprintf(err, errlen, "JSON document %d: a key twice in one object (or out of memory)", n);
			return -EINVAL;
		}
		if (cJSON_IsNull(d))
			cJSON_Delete(d);     /* as an empty YAML document: nothing */
		else
			cJSON_AddItemToArray(docs, d);
		off = (size_t)(end - text);
	}
}

int hl_manifest_read(const char *text, size_t len, cJSON **docs, enum hl_manifest_format *fmt,
		     char *err, size_t errlen)
{
	size_t i = 0;
	int rc;

	*docs = NULL;
	err[0] = '\0';
	if (len > HL_MANIFEST_MAX_BYTES) {
		snprintf(err, errlen, "more than %u bytes", HL_MANIFEST_MAX_BYTES);
		return -E2BIG;
	}
	if (memchr(text, '\0', len)) {
		snprintf(err, errlen, "a NUL byte: not a text file");
		return -EINVAL;
	}
	*docs = cJSON_CreateArray();
	if (!*docs)
		return -ENOMEM;
	while (i < len && (text[i] == ' ' || text[i] == '\t' || text[i] == '\n' || text[i] == '\r'))
		i++;
	*fmt = i < len && (text[i] == '{' || text[i] == '[') ? HL_MANIFEST_JSON : HL_MANIFEST_YAML;
	rc = *fmt == HL_MANIFEST_JSON ? read_json(text, len, *docs, err, errlen)
				      : read_yaml(text, len, *docs, err, errlen);
	if (rc < 0) {
		cJSON_Delete(*docs);
		*docs = NULL;
		if (rc == -ENOMEM && !err[0])
			snprintf(err, errlen, "out of memory");
	}
	return rc;
}
