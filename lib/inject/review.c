/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The admission webhook's answer (hl_inject_review()). The body comes from
 * whoever reaches the webhook's port, not only from the API server: any
 * bytes get an answer, never a crash. What the API server sends and
 * expects back: AdmissionReview of admission.k8s.io/v1 (v1beta1 has the
 * same shape), the response echoing the request's uid, a JSONPatch in
 * base64.
 */
#include "inject_private.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *inj_base64(const unsigned char *in, size_t len)
{
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char *out, *p;

	if (len > (SIZE_MAX - 1) / 4 * 3 - 3)
		return NULL;
	out = malloc((len + 2) / 3 * 4 + 1);
	if (!out)
		return NULL;
	p = out;
	for (size_t i = 0; i < len; i += 3) {
		unsigned v = (unsigned)in[i] << 16;

		if (i + 1 < len)
			v |= (unsigned)in[i + 1] << 8;
		if (i + 2 < len)
			v |= in[i + 2];
		*p++ = tab[(v >> 18) & 63];
		*p++ = tab[(v >> 12) & 63];
		*p++ = i + 1 < len ? tab[(v >> 6) & 63] : '=';
		*p++ = i + 2 < len ? tab[v & 63] : '=';
	}
	*p = '\0';
	return out;
}

/* {"error": msg} with status 400. */
static int bad_request(const char *msg, char **out, int *status)
{
	cJSON *o = cJSON_CreateObject();

	*status = 400;
	*out = o && cJSON_AddStringToObject(o, "error", msg) ? cJSON_PrintUnformatted(o) : NULL;
	cJSON_Delete(o);
	return *out ? -EINVAL : -ENOMEM;
}

/* The response part of the answer. */
static int respond(cJSON *review, const char *uid, const struct hl_inject_report *rep, int verdict,
		   cJSON *patch, char **out, int *status)
{
	cJSON *resp = cJSON_AddObjectToObject(review, "response"), *w, *st;
	char *txt = NULL, *b64 = NULL;
	bool ok = resp != NULL;

	ok = ok && cJSON_AddStringToObject(resp, "uid", uid) &&
	     cJSON_AddBoolToObject(resp, "allowed", verdict == 0);
	if (ok && verdict < 0) {
		ok = (st = cJSON_AddObjectToObject(resp, "status")) &&
		     cJSON_AddNumberToObject(st, "code", 400) &&
		     cJSON_AddStringToObject(st, "reason", "BadRequest") &&
		     cJSON_AddStringToObject(st, "message", rep->n_warnings ? rep->warnings[0]
									    : "invalid hostlane annotations");
	} else if (ok && rep->changed) {
		txt = cJSON_PrintUnformatted(patch);
		b64 = txt ? inj_base64((const unsigned char *)txt, strlen(txt)) : NULL;
		ok = b64 && cJSON_AddStringToObject(resp, "patchType", "JSONPatch") &&
		     cJSON_AddStringToObject(resp, "patch", b64);
	}
	if (ok && verdict == 0 && rep->n_warnings) {
		ok = (w = cJSON_AddArrayToObject(resp, "warnings")) != NULL;
		for (unsigned i = 0; ok && i < rep->n_warnings; i++)
			ok = cJSON_AddItemToArray(w, cJSON_CreateString(rep->warnings[i]));
	}
	free(txt);
	free(b64);
	*status = 200;
	*out = ok ? cJSON_PrintUnformatted(review) : NULL;
	return *out ? 0 : -ENOMEM;
}

int hl_inject_review(const char *body, size_t len, const struct hl_inject_opts *o, char **out,
		     int *status)
{
	cJSON *in = cJSON_ParseWithLength(body, len), *req, *ans = NULL, *patch = NULL, *obj;
	const char *ver, *uid, *kind, *op;
	struct hl_inject_report rep;
	struct inj x;
	int rc, verdict = 0;

	*out = NULL;
	memset(&rep, 0, sizeof(rep));
	if (!in || !cJSON_IsObject(in)) {
		rc = bad_request("the body is not a JSON object (an AdmissionReview)", out, status);
		goto done;
	}
	ver = inj_str(in, "apiVersion");
	if (!ver || (strcmp(ver, "admission.k8s.io/v1") && strcmp(ver, "admission.k8s.io/v1beta1")) ||
	    !inj_str(in, "kind") || strcmp(inj_str(in, "kind"), "AdmissionReview")) {
		rc = bad_request("not an AdmissionReview of admission.k8s.io/v1 or v1beta1", out, status);
		goto done;
	}
	req = cJSON_GetObjectItemCaseSensitive(in, "request");
	uid = inj_str(req, "uid");
	if (!cJSON_IsObject(req) || !uid || !*uid || strlen(uid) > 128) {
		rc = bad_request("the AdmissionReview has no request with a uid", out, status);
		goto done;
	}
	ans = cJSON_CreateObject();
	patch = cJSON_CreateArray();
	if (!ans || !patch || !cJSON_AddStringToObject(ans, "apiVersion", ver) ||
	    !cJSON_AddStringToObject(ans, "kind", "AdmissionReview")) {
		rc = -ENOMEM;
		goto done;
	}
	kind = inj_str(cJSON_GetObjectItemCaseSensitive(req, "kind"), "kind");
	op = inj_str(req, "operation");
	obj = cJSON_GetObjectItemCaseSensitive(req, "object");
	if (kind && strcmp(kind, "Pod") == 0 && (!op || strcmp(op, "CREATE") == 0) &&
	    !inj_str(req, "subResource")) {
		if (!cJSON_IsObject(obj)) {
			inj_warn(&rep, "request.object is not a Pod");
			verdict = -EINVAL;
		} else if ((rc = inj_setup(&x, o, &rep, "/spec", patch)) < 0) {
			goto done;
		} else {
			x.ns = inj_str(req, "namespace");
			x.where = "pod";
			verdict = inj_pod(&x, cJSON_GetObjectItemCaseSensitive(obj, "metadata"),
					  cJSON_GetObjectItemCaseSensitive(obj, "spec"));
			if (verdict == -ENOMEM) {
				rc = verdict;
				goto done;
			}
		}
	}
	rc = respond(ans, uid, &rep, verdict, patch, out, status);
done:
	cJSON_Delete(in);
	cJSON_Delete(ans);
	cJSON_Delete(patch);
	return rc;
}
