/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The pod mutation, its JSONPatch (applied here by a small RFC 6902
 * applier for add/replace, and in test/integration/inject-webhook by a
 * real implementation) and the AdmissionReview answer.
 */
#include "hl_check.h"
#include "inject_private.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* test_manifest.c, test_libdir.c */
void manifest_tcases(Suite *s);
void libdir_tcases(Suite *s);

static const struct hl_inject_opts opts = {
	.image = "localhost/hostlane:0.4.0", .pull_policy = "IfNotPresent",
	.default_quota = 64ull << 20, .max_quota = 256ull << 20,
};

#define PRELOAD "/opt/hostlane/$LIB/libhostlane.so"

static cJSON *parse(const char *s)
{
	cJSON *o = cJSON_Parse(s);

	ck_assert_msg(o, "test JSON does not parse: %s", s);
	return o;
}

static const char *env_value(const cJSON *c, const char *name)
{
	const cJSON *e;

	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(c, "env"))
		if (!strcmp(inj_str(e, "name"), name))
			return inj_str(e, "value");
	return NULL;
}

static cJSON *pod_item(cJSON *pod, const char *list, int i)
{
	return cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(pod, "spec"), list), i);
}

/* ---- a small RFC 6902 applier (add, replace) to check the recorded patch ---- */
static void unescape(char *p)   /* RFC 6901: ~1 -> /, ~0 -> ~ */
{
	char *w = p;

	for (; *p; p++, w++) {
		*w = *p;
		if (p[0] == '~' && (p[1] == '0' || p[1] == '1'))
			*w = *++p == '1' ? '/' : '~';
	}
	*w = '\0';
}

static cJSON *walk(cJSON *doc, char *path, char **last)
{
	char *p = path + 1, *slash;

	while ((slash = strchr(p, '/'))) {
		*slash = '\0';
		unescape(p);
		doc = cJSON_IsArray(doc) ? cJSON_GetArrayItem(doc, atoi(p))
					 : cJSON_GetObjectItemCaseSensitive(doc, p);
		ck_assert_msg(doc, "patch path component %s missing", p);
		p = slash + 1;
	}
	unescape(p);
	*last = p;
	return doc;
}

static void apply(cJSON *doc, const cJSON *patch)
{
	const cJSON *op;

	cJSON_ArrayForEach(op, patch) {
		char path[512], *last;
		cJSON *v = cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(op, "value"), 1);
		cJSON *parent;

		snprintf(path, sizeof(path), "%s", inj_str(op, "path"));
		parent = walk(doc, path, &last);
		if (cJSON_IsArray(parent) && !strcmp(last, "-"))
			cJSON_AddItemToArray(parent, v);
		else if (cJSON_IsArray(parent))
			cJSON_InsertItemInArray(parent, atoi(last), v);
		else if (!strcmp(inj_str(op, "op"), "replace"))
			cJSON_ReplaceItemInObjectCaseSensitive(parent, last, v);
		else {
			ck_assert(!cJSON_GetObjectItemCaseSensitive(parent, last));
			cJSON_AddItemToObject(parent, last, v);
		}
	}
}

/* Injects a copy of @pod both ways; the patch applied to the original must
 * give the mutated tree. Returns the mutated pod, the patch in *patch_out. */
static cJSON *inject(const char *pod_json, int expect_rc, struct hl_inject_report *rep, cJSON **patch_out)
{
	cJSON *pod = parse(pod_json), *orig = cJSON_Duplicate(pod, 1), *patch = cJSON_CreateArray();
	int rc = hl_inject_pod(cJSON_GetObjectItemCaseSensitive(pod, "metadata"),
			       cJSON_GetObjectItemCaseSensitive(pod, "spec"), "/spec", &opts, patch, rep);

	ck_assert_int_eq(rc, expect_rc);
	if (rc == 0) {
		apply(orig, patch);
		ck_assert_msg(cJSON_Compare(orig, pod, 1), "the patch does not give the mutated pod");
		ck_assert_int_eq(cJSON_GetArraySize(patch), (int)rep->changed);
	}
	cJSON_Delete(orig);
	if (patch_out)
		*patch_out = patch;
	else
		cJSON_Delete(patch);
	return pod;
}

#define ANN "\"metadata\": {\"name\": \"p\", \"annotations\": {\"hostlane.io/fastpath\": \"shm\"}}"

START_TEST(not_annotated)
{
	struct hl_inject_report rep;
	cJSON *patch;
	cJSON *p = inject("{\"metadata\": {\"annotations\": {\"hostlane.io/fastpath\": \"none\"}},"
			  "\"spec\": {\"containers\": [{\"name\": \"a\"}]}}", 0, &rep, &patch);

	ck_assert(!rep.selected);
	ck_assert_int_eq(rep.changed, 0);
	ck_assert_int_eq(cJSON_GetArraySize(patch), 0);
	cJSON_Delete(p);
	cJSON_Delete(patch);
	p = inject("{\"spec\": {\"containers\": [{\"name\": \"a\"}]}}", 0, &rep, NULL);
	ck_assert(!rep.selected);
	cJSON_Delete(p);
}
END_TEST

START_TEST(plain_pod)
{
	struct hl_inject_report rep;
	cJSON *p = inject("{" ANN ", \"spec\": {\"containers\": [{\"name\": \"redis\", \"image\": \"redis:7\"}]}}",
			  0, &rep, NULL);
	cJSON *init = pod_item(p, "initContainers", 0), *c = pod_item(p, "containers", 0), *res;

	ck_assert(rep.selected);
	ck_assert_int_eq(rep.changed, 4);   /* volumes, initContainers, volumeMounts, env */
	ck_assert_int_eq(rep.containers, 1);
	ck_assert_str_eq(inj_str(pod_item(p, "volumes", 0), "name"), HL_INJECT_VOLUME);
	ck_assert(cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(pod_item(p, "volumes", 0), "emptyDir")));
	ck_assert_str_eq(inj_str(init, "name"), HL_INJECT_INIT);
	ck_assert_str_eq(inj_str(init, "image"), opts.image);
	ck_assert_str_eq(inj_str(init, "imagePullPolicy"), "IfNotPresent");
	ck_assert_str_eq(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(init, "command"), 1)->valuestring,
			 "install-lib");
	res = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(init, "resources"), "limits");
	ck_assert_str_eq(inj_str(res, HL_INJECT_RESOURCE), "64Mi");
	ck_assert_str_eq(env_value(c, "LD_PRELOAD"), PRELOAD);
	ck_assert_str_eq(inj_str(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(c, "volumeMounts"), 0),
				 "mountPath"), "/opt/hostlane");
	ck_assert(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(
		cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(c, "volumeMounts"), 0), "readOnly")));
	cJSON_Delete(p);
}
END_TEST

START_TEST(appends_preload)
{
	struct hl_inject_report rep;
	cJSON *patch, *op;
	cJSON *p = inject("{" ANN ", \"spec\": {\"containers\": [{\"name\": \"a\", \"env\": ["
			  "{\"name\": \"X\", \"value\": \"1\"},"
			  "{\"name\": \"LD_PRELOAD\", \"value\": \"/usr/lib/libjemalloc.so\"}]},"
			  "{\"name\": \"b\", \"env\": [{\"name\": \"LD_PRELOAD\"}]}]}}", 0, &rep, &patch);

	ck_assert_str_eq(env_value(pod_item(p, "containers", 0), "LD_PRELOAD"),
			 "/usr/lib/libjemalloc.so:" PRELOAD);
	ck_assert_str_eq(env_value(pod_item(p, "containers", 1), "LD_PRELOAD"), PRELOAD);
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(pod_item(p, "containers", 0), "env")), 2);
	op = cJSON_GetArrayItem(patch, 3);
	ck_assert_str_eq(inj_str(op, "op"), "replace");
	ck_assert_str_eq(inj_str(op, "path"), "/spec/containers/0/env/1/value");
	cJSON_Delete(patch);
	cJSON_Delete(p);
}
END_TEST

START_TEST(idempotent)
{
	struct hl_inject_report rep;
	cJSON *p = inject("{" ANN ", \"spec\": {\"initContainers\": [{\"name\": \"setup\"}],"
			  "\"containers\": [{\"name\": \"a\"}, {\"name\": \"b\"}]}}", 0, &rep, NULL);
	char *once = cJSON_PrintUnformatted(p);
	cJSON *again;

	ck_assert_int_eq(rep.containers, 3);
	/* Ours first; the pod's own init container gets the layer too. */
	ck_assert_str_eq(inj_str(pod_item(p, "initContainers", 0), "name"), HL_INJECT_INIT);
	ck_assert_str_eq(env_value(pod_item(p, "initContainers", 1), "LD_PRELOAD"), PRELOAD);
	again = inject(once, 0, &rep, NULL);
	ck_assert(rep.selected);
	ck_assert_int_eq(rep.changed, 0);
	ck_assert_int_eq(rep.containers, 3);
	ck_assert(cJSON_Compare(p, again, 1));
	/* A container added since (another webhook, reinvocation) gets its part only. */
	cJSON_AddItemToArray(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(again, "spec"),
							      "containers"), parse("{\"name\": \"late\"}"));
	free(once);
	once = cJSON_PrintUnformatted(again);
	cJSON_Delete(again);
	again = inject(once, 0, &rep, NULL);
	ck_assert_int_eq(rep.changed, 2);
	ck_assert_str_eq(env_value(pod_item(again, "containers", 2), "LD_PRELOAD"), PRELOAD);
	free(once);
	cJSON_Delete(again);
	cJSON_Delete(p);
}
END_TEST

START_TEST(left_out)
{
	struct hl_inject_report rep;
	cJSON *p = inject("{\"metadata\": {\"annotations\": {\"hostlane.io/fastpath\": \"shm\","
			  "\"hostlane.io/inject-exclude\": \"sidecar, other\"}},"
			  "\"spec\": {\"containers\": [{\"name\": \"app\"}, {\"name\": \"sidecar\"},"
			  "{\"name\": \"cm\", \"env\": [{\"name\": \"LD_PRELOAD\", \"valueFrom\": {}}]},"
			  "{\"name\": \"clash\", \"volumeMounts\": [{\"name\": \"x\", \"mountPath\": \"/opt/hostlane\"}]},"
			  "{\"name\": \"manual\", \"env\": [{\"name\": \"LD_PRELOAD\", \"value\": \"/x/libhostlane.so\"}],"
			  " \"volumeMounts\": [{\"name\": \"hostlane-lib\", \"mountPath\": \"/x\"}]}]}}",
			  0, &rep, NULL);

	ck_assert_ptr_nonnull(env_value(pod_item(p, "containers", 0), "LD_PRELOAD"));
	ck_assert_ptr_null(cJSON_GetObjectItemCaseSensitive(pod_item(p, "containers", 1), "env"));
	ck_assert_ptr_null(cJSON_GetObjectItemCaseSensitive(pod_item(p, "containers", 2), "volumeMounts"));
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(pod_item(p, "containers", 3),
									   "volumeMounts")), 1);
	ck_assert_str_eq(env_value(pod_item(p, "containers", 4), "LD_PRELOAD"), "/x/libhostlane.so");
	ck_assert_int_eq(rep.containers, 2);   /* app, manual */
	ck_assert_int_eq(rep.n_warnings, 2);
	ck_assert(strstr(rep.warnings[0], "valueFrom"));
	ck_assert(strstr(rep.warnings[1], "mounts something else"));
	cJSON_Delete(p);
}
END_TEST

START_TEST(quotas)
{
	struct hl_inject_nsquota ns[] = { { "big", 128ull << 20 } };
	struct hl_inject_opts o = opts;
	struct hl_inject_report rep;
	cJSON *p;
	struct inj x;
	char q[32];
	const char *spec = "\"spec\": {\"containers\": [{\"name\": \"a\"}]}}";
	char doc[512];

	snprintf(doc, sizeof(doc), "{\"metadata\": {\"annotations\": {\"hostlane.io/fastpath\": \"shm\","
		 "\"hostlane.io/hugepages\": \"1Gi\"}}, %s", spec);
	p = inject(doc, -EINVAL, &rep, NULL);
	ck_assert(strstr(rep.warnings[0], "above the per-pod maximum"));
	cJSON_Delete(p);
	snprintf(doc, sizeof(doc), "{\"metadata\": {\"annotations\": {\"hostlane.io/fastpath\": \"shm\","
		 "\"hostlane.io/hugepages\": \"lots\"}}, %s", spec);
	p = inject(doc, -EINVAL, &rep, NULL);
	ck_assert(strstr(rep.warnings[0], "not a quantity"));
	cJSON_Delete(p);
	/* Namespace default, then the annotation over it. */
	o.ns_quota = ns;
	o.n_ns_quota = 1;
	snprintf(doc, sizeof(doc), "{\"metadata\": {\"namespace\": \"big\", \"annotations\": "
		 "{\"hostlane.io/fastpath\": \"shm\"}}, %s", spec);
	p = parse(doc);
	ck_assert_int_eq(inj_setup(&x, &o, &rep, "/spec", NULL), 0);
	memset(&rep, 0, sizeof(rep));
	ck_assert_int_eq(inj_pod(&x, cJSON_GetObjectItemCaseSensitive(p, "metadata"),
				 cJSON_GetObjectItemCaseSensitive(p, "spec")), 0);
	snprintf(q, sizeof(q), "128Mi");
	ck_assert_str_eq(inj_str(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(
		pod_item(p, "initContainers", 0), "resources"), "requests"), HL_INJECT_RESOURCE), q);
	cJSON_Delete(p);
	/* No resource: no resources at all. */
	o.resource = "";
	p = parse("{" ANN ", \"spec\": {\"containers\": [{\"name\": \"a\"}]}}");
	ck_assert_int_eq(hl_inject_pod(cJSON_GetObjectItemCaseSensitive(p, "metadata"),
				       cJSON_GetObjectItemCaseSensitive(p, "spec"), "/spec", &o, NULL, &rep), 0);
	ck_assert_ptr_null(cJSON_GetObjectItemCaseSensitive(pod_item(p, "initContainers", 0), "resources"));
	cJSON_Delete(p);
}
END_TEST

START_TEST(bad_shapes)
{
	static const char *const bad[] = {
		"{" ANN "}",
		"{" ANN ", \"spec\": {}}",
		"{" ANN ", \"spec\": {\"containers\": {}}}",
		"{" ANN ", \"spec\": {\"containers\": [1]}}",
		"{" ANN ", \"spec\": {\"containers\": [{\"image\": \"x\"}]}}",
		"{" ANN ", \"spec\": {\"containers\": [{\"name\": \"a\"}], \"volumes\": 3}}",
		"{" ANN ", \"spec\": {\"containers\": [{\"name\": \"a\", \"env\": {}}]}}",
	};
	struct hl_inject_report rep;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cJSON *p = inject(bad[i], -EINVAL, &rep, NULL);

		ck_assert_msg(rep.n_warnings == 1, "case %zu says why", i);
		cJSON_Delete(p);
	}
}
END_TEST

START_TEST(objects)
{
	static const struct { const char *doc; const char *path[6]; } cases[] = {
		{ "{\"kind\": \"Deployment\", \"metadata\": {\"name\": \"d\"}, \"spec\": {\"template\": {"
		  ANN ", \"spec\": {\"containers\": [{\"name\": \"a\"}]}}}}",
		  { "spec", "template", "spec", NULL } },
		{ "{\"kind\": \"CronJob\", \"spec\": {\"jobTemplate\": {\"spec\": {\"template\": {"
		  ANN ", \"spec\": {\"containers\": [{\"name\": \"a\"}]}}}}}}",
		  { "spec", "jobTemplate", "spec", "template", "spec", NULL } },
		{ "{\"kind\": \"PodList\", \"items\": [{" ANN ", \"spec\": {\"containers\": [{\"name\": \"a\"}]}}]}",
		  { "items", "0", "spec", NULL } },
	};
	struct hl_inject_report rep;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cJSON *o = parse(cases[i].doc), *s = o;

		ck_assert_int_eq(hl_inject_object(o, &opts, &rep), 0);
		ck_assert_int_eq(rep.changed, 4);
		for (int k = 0; cases[i].path[k]; k++)
			s = cJSON_IsArray(s) ? cJSON_GetArrayItem(s, atoi(cases[i].path[k]))
					     : cJSON_GetObjectItemCaseSensitive(s, cases[i].path[k]);
		ck_assert_str_eq(env_value(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(s, "containers"), 0),
					   "LD_PRELOAD"), PRELOAD);
		cJSON_Delete(o);
	}
	/* The annotation on the Deployment itself does nothing, and says so. */
	cJSON *o = parse("{\"kind\": \"Deployment\", " ANN ", \"spec\": {\"template\": {\"spec\": "
			 "{\"containers\": [{\"name\": \"a\"}]}}}}");

	ck_assert_int_eq(hl_inject_object(o, &opts, &rep), 0);
	ck_assert_int_eq(rep.changed, 0);
	ck_assert_int_eq(rep.n_warnings, 1);
	ck_assert(strstr(rep.warnings[0], "not on its pod template"));
	cJSON_Delete(o);
	o = parse("{\"kind\": \"Service\", " ANN ", \"spec\": {}}");
	ck_assert_int_eq(hl_inject_object(o, &opts, &rep), 0);
	ck_assert(!rep.selected);
	cJSON_Delete(o);
}
END_TEST

START_TEST(networks)
{
	static const struct { const char *ann, *want; } cases[] = {
		{ NULL, "kube-system/hostlane-shm" },
		{ "\"macvlan\"", "macvlan, kube-system/hostlane-shm" },
		{ "\"a, kube-system/hostlane-shm@net1\"", NULL },
		{ "\"[{\\\"name\\\": \\\"a\\\"}]\"",
		  "[{\"name\":\"a\"},{\"name\":\"hostlane-shm\",\"namespace\":\"kube-system\"}]" },
		{ "\"[{\\\"name\\\": \\\"hostlane-shm\\\", \\\"namespace\\\": \\\"kube-system\\\"}]\"", NULL },
	};
	struct hl_inject_opts o = opts;
	struct hl_inject_report rep;
	char doc[1024];

	o.network = "kube-system/hostlane-shm";
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cJSON *p, *orig, *patch = cJSON_CreateArray();
		const char *v;

		if (cases[i].ann)
			snprintf(doc, sizeof(doc), "{\"metadata\": {\"annotations\": {\"hostlane.io/fastpath\": \"shm\","
				 "\"k8s.v1.cni.cncf.io/networks\": %s}}, \"spec\": {\"containers\": [{\"name\": \"a\"}]}}",
				 cases[i].ann);
		else
			snprintf(doc, sizeof(doc), "{\"metadata\": {\"annotations\": {\"hostlane.io/fastpath\": \"shm\"}},"
				 "\"spec\": {\"containers\": [{\"name\": \"a\"}]}}");
		p = parse(doc);
		orig = cJSON_Duplicate(p, 1);
		ck_assert_int_eq(hl_inject_pod(cJSON_GetObjectItemCaseSensitive(p, "metadata"),
					       cJSON_GetObjectItemCaseSensitive(p, "spec"), "/spec", &o, patch, &rep), 0);
		apply(orig, patch);
		ck_assert_msg(cJSON_Compare(orig, p, 1), "case %zu: the patch gives the mutated pod", i);
		v = inj_str(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(p, "metadata"),
							      "annotations"), "k8s.v1.cni.cncf.io/networks");
		if (cases[i].want)
			ck_assert_str_eq(v, cases[i].want);
		else
			ck_assert_int_eq(rep.changed, 4);   /* named already: no change to it */
		cJSON_Delete(p);
		cJSON_Delete(orig);
		cJSON_Delete(patch);
	}
}
END_TEST

/* ---- AdmissionReview ---- */
static cJSON *review(const char *body, int expect_rc, int expect_status)
{
	char *out = NULL;
	int status = 0, rc = hl_inject_review(body, strlen(body), &opts, &out, &status);
	cJSON *o;

	ck_assert_int_eq(rc, expect_rc);
	ck_assert_int_eq(status, expect_status);
	ck_assert_ptr_nonnull(out);
	o = cJSON_Parse(out);
	ck_assert_msg(o, "the answer is JSON: %s", out);
	free(out);
	return o;
}

static int b64val(char c)
{
	const char *t = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const char *p = strchr(t, c);

	return c && p ? (int)(p - t) : -1;
}

static char *b64dec(const char *s)
{
	size_t n = strlen(s), o = 0;
	char *out = malloc(n + 1);

	for (size_t i = 0; i + 3 < n; i += 4) {
		int a = b64val(s[i]), b = b64val(s[i + 1]), c = b64val(s[i + 2]), d = b64val(s[i + 3]);

		out[o++] = (char)(a << 2 | b >> 4);
		if (c >= 0)
			out[o++] = (char)((b & 15) << 4 | c >> 2);
		if (d >= 0)
			out[o++] = (char)((c & 3) << 6 | d);
	}
	out[o] = '\0';
	return out;
}

#define REVIEW(ver, op, obj) "{\"apiVersion\": \"admission.k8s.io/" ver "\", \"kind\": \"AdmissionReview\"," \
	"\"request\": {\"uid\": \"u-1\", \"kind\": {\"group\": \"\", \"version\": \"v1\", \"kind\": \"Pod\"}," \
	"\"namespace\": \"default\", \"operation\": \"" op "\", \"object\": " obj "}}"
#define POD "{" ANN ", \"spec\": {\"containers\": [{\"name\": \"a\"}]}}"

START_TEST(review_answers)
{
	cJSON *o = review(REVIEW("v1", "CREATE", POD), 0, 200), *r = cJSON_GetObjectItemCaseSensitive(o, "response");
	cJSON *patch, *pod = parse(POD);
	char *txt;

	ck_assert_str_eq(inj_str(o, "apiVersion"), "admission.k8s.io/v1");
	ck_assert_str_eq(inj_str(o, "kind"), "AdmissionReview");
	ck_assert_str_eq(inj_str(r, "uid"), "u-1");
	ck_assert(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r, "allowed")));
	ck_assert_str_eq(inj_str(r, "patchType"), "JSONPatch");
	txt = b64dec(inj_str(r, "patch"));
	patch = parse(txt);
	ck_assert_int_eq(cJSON_GetArraySize(patch), 4);
	apply(pod, patch);
	ck_assert_str_eq(env_value(pod_item(pod, "containers", 0), "LD_PRELOAD"), PRELOAD);
	free(txt);
	cJSON_Delete(patch);
	cJSON_Delete(pod);
	cJSON_Delete(o);

	/* Not annotated, an UPDATE, v1beta1: allowed, no patch. */
	o = review(REVIEW("v1beta1", "CREATE", "{\"spec\": {\"containers\": [{\"name\": \"a\"}]}}"), 0, 200);
	ck_assert_str_eq(inj_str(o, "apiVersion"), "admission.k8s.io/v1beta1");
	r = cJSON_GetObjectItemCaseSensitive(o, "response");
	ck_assert(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r, "allowed")));
	ck_assert_ptr_null(cJSON_GetObjectItemCaseSensitive(r, "patch"));
	cJSON_Delete(o);
	o = review(REVIEW("v1", "UPDATE", POD), 0, 200);
	ck_assert_ptr_null(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(o, "response"), "patch"));
	cJSON_Delete(o);

	/* Invalid quota: denied with the reason. */
	o = review(REVIEW("v1", "CREATE", "{\"metadata\": {\"annotations\": {\"hostlane.io/fastpath\": \"shm\","
		   "\"hostlane.io/hugepages\": \"-1\"}}, \"spec\": {\"containers\": [{\"name\": \"a\"}]}}"), 0, 200);
	r = cJSON_GetObjectItemCaseSensitive(o, "response");
	ck_assert(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(r, "allowed")));
	ck_assert(strstr(inj_str(cJSON_GetObjectItemCaseSensitive(r, "status"), "message"), "not a quantity"));
	cJSON_Delete(o);
	/* A Pod CREATE without an object. */
	o = review("{\"apiVersion\": \"admission.k8s.io/v1\", \"kind\": \"AdmissionReview\", \"request\": "
		   "{\"uid\": \"x\", \"kind\": {\"kind\": \"Pod\"}, \"operation\": \"CREATE\"}}", 0, 200);
	ck_assert(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(o, "response"),
								"allowed")));
	cJSON_Delete(o);
}
END_TEST

START_TEST(review_bad_bodies)
{
	static const char *const bad[] = {
		"", "not json", "[]", "{}", "{\"apiVersion\": \"v1\", \"kind\": \"Pod\"}",
		"{\"apiVersion\": \"admission.k8s.io/v1\", \"kind\": \"AdmissionReview\"}",
		"{\"apiVersion\": \"admission.k8s.io/v1\", \"kind\": \"AdmissionReview\", \"request\": {}}",
		"{\"apiVersion\": \"admission.k8s.io/v1\", \"kind\": \"AdmissionReview\", \"request\": {\"uid\": 7}}",
		"{\"apiVersion\": \"admission.k8s.io/v2\", \"kind\": \"AdmissionReview\", \"request\": {\"uid\": \"a\"}}",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cJSON *o = review(bad[i], -EINVAL, 400);

		ck_assert_msg(inj_str(o, "error") && *inj_str(o, "error"), "case %zu names the error", i);
		cJSON_Delete(o);
	}
}
END_TEST

START_TEST(base64)
{
	static const struct { const char *in, *out; } v[] = {
		{ "", "" }, { "f", "Zg==" }, { "fo", "Zm8=" }, { "foo", "Zm9v" }, { "foob", "Zm9vYg==" },
		{ "fooba", "Zm9vYmE=" }, { "foobar", "Zm9vYmFy" },
	};

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		char *o = inj_base64((const unsigned char *)v[i].in, strlen(v[i].in));

		ck_assert_str_eq(o, v[i].out);
		free(o);
	}
}
END_TEST

static Suite *inject_suite(void)
{
	Suite *s = suite_create("inject");
	TCase *t = tcase_create("mutation");

	tcase_add_test(t, not_annotated);
	tcase_add_test(t, plain_pod);
	tcase_add_test(t, appends_preload);
	tcase_add_test(t, idempotent);
	tcase_add_test(t, left_out);
	tcase_add_test(t, quotas);
	tcase_add_test(t, bad_shapes);
	tcase_add_test(t, objects);
	tcase_add_test(t, networks);
	suite_add_tcase(s, t);
	t = tcase_create("review");
	tcase_add_test(t, review_answers);
	tcase_add_test(t, review_bad_bodies);
	tcase_add_test(t, base64);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	Suite *s = inject_suite();

	manifest_tcases(s);
	libdir_tcases(s);
	return hl_check_run(s);
}
