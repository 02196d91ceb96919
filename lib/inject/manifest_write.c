/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Writing objects back (hl_manifest_write()): YAML with libyaml's emitter,
 * block style, a string quoted whenever it would read back as something
 * else (the reader's own resolver decides), multi-line strings as literal
 * blocks; JSON with cJSON. Comments and the original quoting are not kept.
 */
#include "inject_private.h"
#include "manifest_private.h"

#include "hl_util.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

/* The output, and the first error of the emitter's callback (it can only
 * say "failed"). */
struct buf {
	struct hl_buf b;
	int err;
};

static int put(void *arg, unsigned char *data, size_t len)
{
	struct buf *b = arg;
	int rc = hl_buf_append(&b->b, data, len);

	if (rc && !b->err)
		b->err = rc;
	return rc == 0;
}

static int emit_scalar(yaml_emitter_t *em, const char *s, yaml_scalar_style_t style)
{
	yaml_event_t e;

	if (!yaml_scalar_event_initialize(&e, NULL, NULL, (yaml_char_t *)s, (int)strlen(s), 1, 1, style))
		return -ENOMEM;
	return yaml_emitter_emit(em, &e) ? 0 : -EIO;
}

static yaml_scalar_style_t string_style(const char *s)
{
	double num;
	size_t n = strlen(s);

	if (mf_resolve_plain(s, &num) != MF_STRING)
		return YAML_DOUBLE_QUOTED_SCALAR_STYLE;
	/* A literal block keeps lines as they are; trailing blanks on a line
	 * or a leading blank could not be told apart, libyaml quotes those. */
	if (strchr(s, '\n') && n && s[0] != ' ' && !strstr(s, " \n") && !strstr(s, "\t\n"))
		return YAML_LITERAL_SCALAR_STYLE;
	return YAML_ANY_SCALAR_STYLE;
}

static int number_text(const cJSON *v, char *out, size_t len)
{
	double d = v->valuedouble;

	if (!isfinite(d))
		return -EINVAL;
	if (d == floor(d) && fabs(d) < 9007199254740992.0)
		snprintf(out, len, "%.0f", d);
	else {
		snprintf(out, len, "%.15g", d);
		if (strtod(out, NULL) != d)
			snprintf(out, len, "%.17g", d);
		/* A large double printed as digits alone would read back as an
		 * integer (the reader keeps those beyond 2^53 as their text). */
		if (!strpbrk(out, ".eEni"))
			strncat(out, ".0", len - strlen(out) - 1);
	}
	return 0;
}

static int emit_node(yaml_emitter_t *em, const cJSON *v)
{
	yaml_event_t e;
	char num[64];
	int rc;

	if (cJSON_IsObject(v) || cJSON_IsArray(v)) {
		bool map = cJSON_IsObject(v);
		/* {} and [] are written in flow style: block style has no empty form. */
		int ok = map ? yaml_mapping_start_event_initialize(&e, NULL, NULL, 1, v->child ?
				YAML_BLOCK_MAPPING_STYLE : YAML_FLOW_MAPPING_STYLE)
			     : yaml_sequence_start_event_initialize(&e, NULL, NULL, 1, v->child ?
				YAML_BLOCK_SEQUENCE_STYLE : YAML_FLOW_SEQUENCE_STYLE);

		if (!ok || !yaml_emitter_emit(em, &e))
			return -EIO;
		for (const cJSON *it = v->child; it; it = it->next) {
			if (map && (rc = emit_scalar(em, it->string ? it->string : "",
						     string_style(it->string ? it->string : ""))) < 0)
				return rc;
			if ((rc = emit_node(em, it)) < 0)
				return rc;
		}
		ok = map ? yaml_mapping_end_event_initialize(&e) : yaml_sequence_end_event_initialize(&e);
		return ok && yaml_emitter_emit(em, &e) ? 0 : -EIO;
	}
	if (cJSON_IsString(v))
		return emit_scalar(em, v->valuestring, string_style(v->valuestring));
	if (cJSON_IsRaw(v))
		return emit_scalar(em, v->valuestring, YAML_PLAIN_SCALAR_STYLE);
	if (cJSON_IsNumber(v)) {
		if ((rc = number_text(v, num, sizeof(num))) < 0)
			return rc;
		return emit_scalar(em, num, YAML_PLAIN_SCALAR_STYLE);
	}
	if (cJSON_IsBool(v))
		return emit_scalar(em, cJSON_IsTrue(v) ? "true" : "false", YAML_PLAIN_SCALAR_STYLE);
	return emit_scalar(em, "null", YAML_PLAIN_SCALAR_STYLE);
}

static int write_yaml(const cJSON *docs, struct buf *b)
{
	yaml_emitter_t em;
	yaml_event_t e;
	int rc = 0;

	if (!yaml_emitter_initialize(&em))
		return -ENOMEM;
	yaml_emitter_set_output(&em, put, b);
	yaml_emitter_set_unicode(&em, 1);
	yaml_emitter_set_width(&em, -1);
	if (!yaml_stream_start_event_initialize(&e, YAML_UTF8_ENCODING) || !yaml_emitter_emit(&em, &e))
		rc = -EIO;
	for (const cJSON *d = docs->child; rc == 0 && d; d = d->next) {
		/* Every document starts with "---": a stream that began with an
		 * empty flow collection ("[]") would otherwise read as JSON. */
		if (!yaml_document_start_event_initialize(&e, NULL, NULL, NULL, 0) ||
		    !yaml_emitter_emit(&em, &e))
			rc = -EIO;
		if (rc == 0)
			rc = emit_node(&em, d);
		if (rc == 0 && (!yaml_document_end_event_initialize(&e, 1) || !yaml_emitter_emit(&em, &e)))
			rc = -EIO;
	}
	if (rc == 0 && (!yaml_stream_end_event_initialize(&e) || !yaml_emitter_emit(&em, &e) ||
			!yaml_emitter_flush(&em)))
		rc = -EIO;
	yaml_emitter_delete(&em);
	if (b->err)
		rc = b->err;
	return rc;
}

static int check_numbers(const cJSON *v)
{
	if (cJSON_IsNumber(v) && !isfinite(v->valuedouble))
		return -EINVAL;
	for (const cJSON *it = v->child; it; it = it->next)
		if (check_numbers(it) < 0)
			return -EINVAL;
	return 0;
}

static int write_json(const cJSON *docs, struct buf *b)
{
	for (const cJSON *d = docs->child; d; d = d->next) {
		char *t;

		if (check_numbers(d) < 0)
			return -EINVAL;
		t = cJSON_Print(d);
		if (!t || !put(b, (unsigned char *)t, strlen(t)) || !put(b, (unsigned char *)"\n", 1)) {
			free(t);
			return -ENOMEM;
		}
		free(t);
	}
	return 0;
}

int hl_manifest_write(const cJSON *docs, enum hl_manifest_format fmt, char **out)
{
	struct buf b = { 0 };
	int rc;

	*out = NULL;
	rc = fmt == HL_MANIFEST_JSON ? write_json(docs, &b) : write_yaml(docs, &b);
	/* libyaml reports its own failures (an emit error) as EIO: none is
	 * expected from a tree of plain values. */
	if (rc == 0 && !b.b.p)
		rc = put(&b, (unsigned char *)"", 0) ? 0 : -ENOMEM;
	if (rc < 0) {
		hl_buf_free(&b.b);
		return rc;
	}
	*out = b.b.p;
	return 0;
}
