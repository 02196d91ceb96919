/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The mutation of one pod (hlinject.h). Each change is made in the tree and
 * recorded as a JSONPatch operation at the same moment, so the two never
 * disagree: paths are taken from the tree as it is after the operations
 * before (an init container put first shifts the others' indices, and the
 * recorded paths follow).
 */
#include "inject_private.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void inj_warn(struct hl_inject_report *rep, const char *fmt, ...)
{
	va_list ap;

	if (rep->n_warnings >= sizeof(rep->warnings) / sizeof(rep->warnings[0]))
		return;
	va_start(ap, fmt);
	vsnprintf(rep->warnings[rep->n_warnings++], HL_INJECT_MSG, fmt, ap);
	va_end(ap);
}

/* Appends "/" and @key, escaped as RFC 6901 says (~ -> ~0, / -> ~1). */
int inj_ptr(char *buf, size_t len, const char *base, const char *key)
{
	size_t n = (size_t)snprintf(buf, len, "%s/", base);

	for (const char *k = key; n < len && *k; k++) {
		if (*k == '~' || *k == '/') {
			if (n + 2 >= len)
				return -ENAMETOOLONG;
			buf[n++] = '~';
			buf[n++] = *k == '~' ? '0' : '1';
		} else {
			buf[n++] = *k;
		}
	}
	if (n >= len)
		return -ENAMETOOLONG;
	buf[n] = '\0';
	return 0;
}

static int ptr_idx(char *buf, size_t len, const char *base, const char *key, int idx)
{
	int n = snprintf(buf, len, "%s/%s/%d", base, key, idx);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* Records one operation (a copy of @value) when there is a patch. */
static int record(struct cJSON *patch, const char *op, const char *path, const cJSON *value)
{
	cJSON *o;

	if (!patch)
		return 0;
	o = cJSON_CreateObject();
	if (!o || !cJSON_AddStringToObject(o, "op", op) || !cJSON_AddStringToObject(o, "path", path) ||
	    !cJSON_AddItemToObject(o, "value", cJSON_Duplicate(value, 1)) ||
	    !cJSON_AddItemToArray(patch, o)) {
		cJSON_Delete(o);
		return -ENOMEM;
	}
	return 0;
}

/* Adds @item (owned) under @key of @parent, or to the end of the array
 * there, creating the array when absent. */
static int add_to_list(struct inj *x, cJSON *parent, const char *base, const char *key, cJSON *item)
{
	cJSON *arr = cJSON_GetObjectItemCaseSensitive(parent, key);
	char path[INJ_PATH];
	int rc;

	if (!item)
		return -ENOMEM;
	if (!arr) {
		cJSON *a = cJSON_CreateArray();

		if (!a || !cJSON_AddItemToArray(a, item)) {
			cJSON_Delete(a);
			cJSON_Delete(item);
			return -ENOMEM;
		}
		if ((rc = inj_ptr(path, sizeof(path), base, key)) < 0 || (rc = record(x->patch, "add", path, a)) < 0 ||
		    !cJSON_AddItemToObject(parent, key, a)) {
			cJSON_Delete(a);
			return rc < 0 ? rc : -ENOMEM;
		}
	} else {
		if ((rc = inj_ptr(path, sizeof(path), base, key)) < 0 ||
		    strlen(path) + 3 > sizeof(path) || (strcat(path, "/-"), (rc = record(x->patch, "add", path, item)) < 0) ||
		    !cJSON_AddItemToArray(arr, item)) {
			cJSON_Delete(item);
			return rc < 0 ? rc : -ENOMEM;
		}
	}
	x->rep->changed++;
	return 0;
}

int inj_record(struct inj *x, const char *op, const char *path, const cJSON *value)
{
	return record(x->patch, op, path, value);
}

const char *inj_str(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* The item of array @arr whose "name" is @name. */
static cJSON *by_name(const cJSON *arr, const char *name)
{
	cJSON *it;

	cJSON_ArrayForEach(it, arr) {
		const char *n = inj_str(it, "name");

		if (n && strcmp(n, name) == 0)
			return it;
	}
	return NULL;
}

/* An optional list must be absent or an array of objects, each with a name
 * (when @named). */
static int check_list(struct inj *x, const cJSON *spec, const char *key, bool named, bool required)
{
	const cJSON *arr = cJSON_GetObjectItemCaseSensitive(spec, key), *it;

	if (!arr && !required)
		return 0;
	if (!cJSON_IsArray(arr) || (required && !arr->child)) {
		inj_warn(x->rep, "%s: %s must be %s", x->where, key,
			 required ? "a non-empty list of containers" : "a list");
		return -EINVAL;
	}
	cJSON_ArrayForEach(it, arr) {
		if (!cJSON_IsObject(it) || (named && !inj_str(it, "name"))) {
			inj_warn(x->rep, "%s: every item of %s must be an object%s", x->where, key,
				 named ? " with a name" : "");
			return -EINVAL;
		}
	}
	return 0;
}

/* Does the LD_PRELOAD value name a libhostlane already (by file name)? */
static bool has_layer(const char *v)
{
	while (v && *v) {
		size_t n = strcspn(v, ": ");
		const char *slash = NULL;

		for (const char *p = v; p < v + n; p++)
			if (*p == '/')
				slash = p;
		const char *base = slash ? slash + 1 : v;

		if ((size_t)(v + n - base) >= 11 && strncmp(base, "libhostlane", 11) == 0)
			return true;
		v += n;
		v += strspn(v, ": ");
	}
	return false;
}

/* Is @name listed in hostlane.io/inject-exclude ("a,b, c")? */
static bool excluded(const char *list, const char *name)
{
	size_t nl = strlen(name);

	while (list && *list) {
		list += strspn(list, ", \t");
		size_t n = strcspn(list, ", \t");

		if (n == nl && n && strncmp(list, name, n) == 0)
			return true;
		list += n;
	}
	return false;
}

/* The last LD_PRELOAD entry of the env list (the one the kubelet uses). */
static cJSON *preload_entry(const cJSON *env, int *idx)
{
	cJSON *it, *found = NULL;
	int i = 0;

	cJSON_ArrayForEach(it, env) {
		const char *n = inj_str(it, "name");

		if (n && strcmp(n, "LD_PRELOAD") == 0) {
			found = it;
			*idx = i;
		}
		i++;
	}
	return found;
}

/* Mount and LD_PRELOAD for one container at @base (its JSON pointer). */
static int container(struct inj *x, cJSON *c, const char *base)
{
	const char *name = inj_str(c, "name");
	cJSON *env = cJSON_GetObjectItemCaseSensitive(c, "env");
	cJSON *mounts = cJSON_GetObjectItemCaseSensitive(c, "volumeMounts");
	cJSON *pre, *m;
	char path[INJ_PATH];
	int idx = 0, rc;

	if ((env && !cJSON_IsArray(env)) || (mounts && !cJSON_IsArray(mounts))) {
		inj_warn(x->rep, "%s: container %s: env and volumeMounts must be lists", x->where, name);
		return -EINVAL;
	}
	pre = preload_entry(env, &idx);
	if (pre && cJSON_GetObjectItemCaseSensitive(pre, "valueFrom")) {
		inj_warn(x->rep, "%s: container %s: LD_PRELOAD comes from valueFrom, which cannot be "
			 "appended to: not injected", x->where, name);
		return 0;
	}
	if (pre && has_layer(inj_str(pre, "value")) && by_name(mounts, HL_INJECT_VOLUME)) {
		x->rep->containers++;
		return 0;
	}
	if (!by_name(mounts, HL_INJECT_VOLUME)) {
		cJSON_ArrayForEach(m, mounts) {
			const char *mp = inj_str(m, "mountPath");

			if (mp && strcmp(mp, x->mount) == 0) {
				inj_warn(x->rep, "%s: container %s mounts something else at %s: not injected",
					 x->where, name, x->mount);
				return 0;
			}
		}
		m = cJSON_CreateObject();
		if (m && (!cJSON_AddStringToObject(m, "name", HL_INJECT_VOLUME) ||
			  !cJSON_AddStringToObject(m, "mountPath", x->mount) ||
			  !cJSON_AddTrueToObject(m, "readOnly"))) {
			cJSON_Delete(m);
			return -ENOMEM;
		}
		if ((rc = add_to_list(x, c, base, "volumeMounts", m)) < 0)
			return rc;
	}
	if (!pre) {
		cJSON *e = cJSON_CreateObject();

		if (e && (!cJSON_AddStringToObject(e, "name", "LD_PRELOAD") ||
			  !cJSON_AddStringToObject(e, "value", x->preload))) {
			cJSON_Delete(e);
			return -ENOMEM;
		}
		if ((rc = add_to_list(x, c, base, "env", e)) < 0)
			return rc;
	} else if (!has_layer(inj_str(pre, "value"))) {
		/* Appended: a library the pod preloads already keeps its place. */
		const char *old = inj_str(pre, "value");
		size_t n = (old ? strlen(old) : 0) + strlen(x->preload) + 2;
		char *v = malloc(n);
		cJSON *nv;
		bool had = cJSON_GetObjectItemCaseSensitive(pre, "value") != NULL;

		if (!v)
			return -ENOMEM;
		snprintf(v, n, "%s%s%s", old && *old ? old : "", old && *old ? ":" : "", x->preload);
		nv = cJSON_CreateString(v);
		free(v);
		if (!nv)
			return -ENOMEM;
		if ((rc = ptr_idx(path, sizeof(path), base, "env", idx)) < 0 ||
		    strlen(path) + 7 > sizeof(path)) {
			cJSON_Delete(nv);
			return rc < 0 ? rc : -ENAMETOOLONG;
		}
		strcat(path, "/value");
		if ((rc = record(x->patch, had ? "replace" : "add", path, nv)) < 0) {
			cJSON_Delete(nv);
			return rc;
		}
		if (had)
			cJSON_ReplaceItemInObjectCaseSensitive(pre, "value", nv);
		else
			cJSON_AddItemToObject(pre, "value", nv);
		x->rep->changed++;
	}
	x->rep->containers++;
	return 0;
}

/* A quantity as people write it: "64Mi" rather than 67108864. */
static void quantity_text(uint64_t q, char *buf, size_t len)
{
	static const struct { const char *unit; uint64_t mult; } u[] = {
		{ "Ti", 1ull << 40 }, { "Gi", 1ull << 30 }, { "Mi", 1ull << 20 }, { "Ki", 1ull << 10 },
	};

	for (size_t i = 0; i < sizeof(u) / sizeof(u[0]); i++) {
		if (q % u[i].mult == 0) {
			snprintf(buf, len, "%llu%s", (unsigned long long)(q / u[i].mult), u[i].unit);
			return;
		}
	}
	snprintf(buf, len, "%llu", (unsigned long long)q);
}

static cJSON *init_container(const struct inj *x)
{
	cJSON *c = cJSON_CreateObject(), *cmd, *res, *req, *lim, *vm, *m, *sc, *caps, *drop, *sp;
	char q[32];
	bool ok;

	if (!c)
		return NULL;
	ok = cJSON_AddStringToObject(c, "name", HL_INJECT_INIT) &&
	     cJSON_AddStringToObject(c, "image", x->o->image) &&
	     (!x->o->pull_policy || cJSON_AddStringToObject(c, "imagePullPolicy", x->o->pull_policy)) &&
	     (cmd = cJSON_AddArrayToObject(c, "command")) &&
	     cJSON_AddItemToArray(cmd, cJSON_CreateString(HL_INJECT_CTL)) &&
	     cJSON_AddItemToArray(cmd, cJSON_CreateString("install-lib")) &&
	     cJSON_AddItemToArray(cmd, cJSON_CreateString(x->mount));
	if (ok && x->resource[0] && x->quota) {
		quantity_text(x->quota, q, sizeof(q));
		ok = (res = cJSON_AddObjectToObject(c, "resources")) &&
		     (req = cJSON_AddObjectToObject(res, "requests")) &&
		     cJSON_AddStringToObject(req, x->resource, q) &&
		     (lim = cJSON_AddObjectToObject(res, "limits")) &&
		     cJSON_AddStringToObject(lim, x->resource, q);
	}
	/* It only copies files: it passes PodSecurity "restricted" as it is. */
	ok = ok && (sc = cJSON_AddObjectToObject(c, "securityContext")) &&
	     cJSON_AddFalseToObject(sc, "allowPrivilegeEscalation") &&
	     (caps = cJSON_AddObjectToObject(sc, "capabilities")) &&
	     (drop = cJSON_AddArrayToObject(caps, "drop")) &&
	     cJSON_AddItemToArray(drop, cJSON_CreateString("ALL")) &&
	     cJSON_AddTrueToObject(sc, "runAsNonRoot") &&
	     cJSON_AddNumberToObject(sc, "runAsUser", 65534) &&
	     (sp = cJSON_AddObjectToObject(sc, "seccompProfile")) &&
	     cJSON_AddStringToObject(sp, "type", "RuntimeDefault");
	ok = ok && (vm = cJSON_AddArrayToObject(c, "volumeMounts")) && (m = cJSON_CreateObject()) &&
	     cJSON_AddItemToArray(vm, m) && cJSON_AddStringToObject(m, "name", HL_INJECT_VOLUME) &&
	     cJSON_AddStringToObject(m, "mountPath", x->mount);
	if (!ok) {
		cJSON_Delete(c);
		return NULL;
	}
	return c;
}

static int volume_and_init(struct inj *x, cJSON *spec)
{
	cJSON *inits = cJSON_GetObjectItemCaseSensitive(spec, "initContainers");
	char path[INJ_PATH];
	int rc;

	if (!by_name(cJSON_GetObjectItemCaseSensitive(spec, "volumes"), HL_INJECT_VOLUME)) {
		cJSON *v = cJSON_CreateObject();

		if (v && (!cJSON_AddStringToObject(v, "name", HL_INJECT_VOLUME) ||
			  !cJSON_AddObjectToObject(v, "emptyDir"))) {
			cJSON_Delete(v);
			return -ENOMEM;
		}
		if ((rc = add_to_list(x, spec, x->base, "volumes", v)) < 0)
			return rc;
	}
	if (by_name(inits, HL_INJECT_INIT))
		return 0;
	if (!inits)
		return add_to_list(x, spec, x->base, "initContainers", init_container(x));
	/* First: the pod's own init containers get the layer too. */
	cJSON *c = init_container(x);

	if (!c)
		return -ENOMEM;
	if ((rc = ptr_idx(path, sizeof(path), x->base, "initContainers", 0)) < 0 ||
	    (rc = record(x->patch, "add", path, c)) < 0 || !cJSON_InsertItemInArray(inits, 0, c)) {
		cJSON_Delete(c);
		return rc < 0 ? rc : -ENOMEM;
	}
	x->rep->changed++;
	return 0;
}

static int containers(struct inj *x, cJSON *spec, const char *key, const char *exclude)
{
	cJSON *arr = cJSON_GetObjectItemCaseSensitive(spec, key), *c;
	char path[INJ_PATH];
	int i = 0, rc;

	cJSON_ArrayForEach(c, arr) {
		const char *name = inj_str(c, "name");

		if (strcmp(name, HL_INJECT_INIT) && !excluded(exclude, name)) {
			if ((rc = ptr_idx(path, sizeof(path), x->base, key, i)) < 0 ||
			    (rc = container(x, c, path)) < 0)
				return rc;
		}
		i++;
	}
	return 0;
}

/* The pod's quota: its annotation, else its namespace's default, else the default. */
static int quota(struct inj *x, const cJSON *ann, const char *ns)
{
	const char *q = inj_str(ann, HL_INJECT_QUOTA_ANNOTATION);

	x->quota = x->o->default_quota;
	for (size_t i = 0; ns && i < x->o->n_ns_quota; i++)
		if (strcmp(x->o->ns_quota[i].ns, ns) == 0)
			x->quota = x->o->ns_quota[i].bytes;
	if (!q)
		return 0;
	if (hl_quantity_parse(q, &x->quota) < 0) {
		inj_warn(x->rep, "%s: annotation %s \"%.64s\" is not a quantity of bytes (e.g. 64Mi)",
			 x->where, HL_INJECT_QUOTA_ANNOTATION, q);
		return -EINVAL;
	}
	if (x->o->max_quota && x->quota > x->o->max_quota) {
		inj_warn(x->rep, "%s: annotation %s \"%.64s\" is above the per-pod maximum of %llu bytes",
			 x->where, HL_INJECT_QUOTA_ANNOTATION, q, (unsigned long long)x->o->max_quota);
		return -EINVAL;
	}
	return 0;
}

bool inj_wants_shm(const cJSON *meta)
{
	const char *fp = inj_str(cJSON_GetObjectItemCaseSensitive(meta, "annotations"), HL_INJECT_ANNOTATION);

	return fp && strcmp(fp, "shm") == 0;
}

/* The JSON pointer of the metadata next to the spec at @base ("/spec" ->
 * "/metadata", "/spec/template/spec" -> "/spec/template/metadata"). */
static const char *meta_base(const char *base, char *buf, size_t len)
{
	size_t n = strlen(base);

	if (n >= 5 && strcmp(base + n - 5, "/spec") == 0)
		snprintf(buf, len, "%.*s/metadata", (int)(n - 5), base);
	else
		snprintf(buf, len, "%s", base);
	return buf;
}

int inj_pod(struct inj *x, cJSON *meta, cJSON *spec)
{
	const cJSON *ann = cJSON_GetObjectItemCaseSensitive(meta, "annotations");
	char mbase[INJ_PATH];
	int rc;

	if (!inj_wants_shm(meta))
		return 0;
	x->rep->selected = true;
	if (!cJSON_IsObject(spec)) {
		inj_warn(x->rep, "%s: the pod has no spec", x->where);
		return -EINVAL;
	}
	if ((rc = check_list(x, spec, "containers", true, true)) < 0 ||
	    (rc = check_list(x, spec, "initContainers", true, false)) < 0 ||
	    (rc = check_list(x, spec, "volumes", false, false)) < 0 ||
	    (rc = quota(x, ann, x->ns ? x->ns : inj_str(meta, "namespace"))) < 0)
		return rc;
	if ((rc = volume_and_init(x, spec)) < 0 || (rc = containers(x, spec, "initContainers",
		inj_str(ann, HL_INJECT_EXCLUDE_ANNOTATION))) < 0 ||
	    (rc = containers(x, spec, "containers", inj_str(ann, HL_INJECT_EXCLUDE_ANNOTATION))) < 0)
		return rc;
	return inj_network(x, meta, meta_base(x->base, mbase, sizeof(mbase)));
}

int inj_setup(struct inj *x, const struct hl_inject_opts *o, struct hl_inject_report *rep,
	      const char *base, cJSON *patch)
{
	int n;

	memset(x, 0, sizeof(*x));
	x->o = o;
	x->rep = rep;
	x->base = base;
	x->patch = patch;
	x->mount = o->mount && *o->mount ? o->mount : HL_INJECT_MOUNT;
	x->resource = o->resource ? o->resource : HL_INJECT_RESOURCE;
	x->where = "pod";
	if (!o->image || !*o->image || x->mount[0] != '/')
		return -EINVAL;
	n = snprintf(x->preload, sizeof(x->preload), "%s/%s/%s", x->mount, HL_INJECT_MUSL_DIR,
		     HL_INJECT_LIBNAME);
	return n < 0 || (size_t)n >= sizeof(x->preload) ? -ENAMETOOLONG : 0;
}

int hl_inject_pod(cJSON *meta, cJSON *spec, const char *base, const struct hl_inject_opts *o,
		  cJSON *patch, struct hl_inject_report *rep)
{
	struct inj x;
	int rc;

	memset(rep, 0, sizeof(*rep));
	if ((rc = inj_setup(&x, o, rep, base, patch)) < 0)
		return rc;
	return inj_pod(&x, meta, spec);
}
