/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hlk8s internals shared between the library's files, its unit tests and
 * its fuzz harnesses. Not installed; not part of the API.
 */
#ifndef HLK8S_PRIVATE_H
#define HLK8S_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "hlk8s.h"

/* Only annotations with this prefix are cached. */
#define HLK8S_ANN_PREFIX "hostlane.io/"

/* ---- kubeconfig / in-cluster configuration (kubeconfig.c) ---- */

/* A blob decoded from a "*-data" field (PEM text). */
struct hlk8s__blob {
	unsigned char *data;
	size_t len;
};

struct hlk8s__config {
	char *server;          /* https://host:port, no trailing slash */
	char *ca_file;         /* certificate-authority (absolute) */
	struct hlk8s__blob ca; /* certificate-authority-data */
	char *cert_file;       /* client-certificate */
	struct hlk8s__blob cert;
	char *key_file;        /* client-key */
	struct hlk8s__blob key;
	char *token;           /* static token */
	char *token_file;      /* tokenFile (absolute), re-read on change */
	char *tls_server_name; /* tls-server-name */
	bool insecure;         /* insecure-skip-tls-verify */
};

/*
 * Parses a kubeconfig held in memory. Relative file paths are resolved
 * against @basedir (the kubeconfig's directory; NULL = leave as is). On error
 * @err (size @errlen) says why. Returns 0, -EINVAL (bad or unsupported
 * config), -ENOMEM. On success @cfg must be released with hlk8s__config_clear.
 */
int hlk8s__kubeconfig_parse(const char *buf, size_t len, const char *basedir,
			    struct hlk8s__config *cfg, char *err, size_t errlen);
/* Reads and parses the kubeconfig at @path: also -ENOENT, -EIO. */
int hlk8s__kubeconfig_load(const char *path, struct hlk8s__config *cfg,
			   char *err, size_t errlen);
/*
 * In-cluster config from $KUBERNETES_SERVICE_HOST/_PORT and @sa_dir (token,
 * ca.crt). -ENOENT when the environment or the token file is missing.
 */
int hlk8s__incluster_load(const char *sa_dir, struct hlk8s__config *cfg,
			  char *err, size_t errlen);
void hlk8s__config_clear(struct hlk8s__config *cfg);

/*
 * Reads a whole file of at most @max bytes into a NUL-terminated malloc'd
 * buffer. -errno from open/read, -EFBIG (larger than @max), -ENOMEM.
 */
int hlk8s__slurp(const char *path, size_t max, char **out, size_t *outlen);

/* Base64 (standard alphabet, padding optional, whitespace ignored). -EINVAL. */
int hlk8s__b64_decode(const char *in, size_t inlen, struct hlk8s__blob *out);

/* ---- objects (object.c: metadata, lists, events, Status; pod.c, service.c,
 * endpointslice.c: the kinds) ---- */

/* What the generic code knows of a kind (kinds.c). */
struct hlk8s__kind {
	enum hlk8s_kind id;
	const char *name;         /* "pods": logs and messages */
	const char *path;         /* "/api/v1/pods": list and watch */
	const char *kind;         /* "Pod" */
	const char *list_kind;    /* "PodList" */
	bool namespaced;
	size_t size;              /* sizeof the typed object; struct hlk8s_meta first */
	/* Fills @obj (zeroed, @size bytes) from a JSON object whose metadata
	 * was checked already. -EINVAL (not usable), -ENOMEM; on error the
	 * caller clears @obj. */
	int (*parse)(const cJSON *json, void *obj);
	/* Frees what parse() allocated (not the metadata, not @obj itself). */
	void (*clear)(void *obj);
};

const struct hlk8s__kind *hlk8s__kind_of(enum hlk8s_kind k);

/* JSON helpers for the parsers. */
const char *hlk8s__json_str(const cJSON *obj, const char *key);
/* @v if it is an array, else NULL (for cJSON_ArrayForEach). */
const cJSON *hlk8s__json_array(const cJSON *v);
/* strdup of an optional string: NULL in, NULL out; -ENOMEM on failure. */
int hlk8s__dup_opt(const char *s, char **out);
/* Copies @s (may be NULL: "") into @dst of @size bytes; -EINVAL if too long. */
int hlk8s__copy_str(char *dst, size_t size, const char *s);
/* An integer in [@min, @max] at @key; false if absent or not one. */
bool hlk8s__json_int(const cJSON *obj, const char *key, long min, long max, long *out);
/* A valid IPv4/IPv6 literal; 4 or 6, 0 if not one. */
int hlk8s__ip_family(const char *s);

/*
 * A typed object of kind @k from JSON: malloc'd, metadata and the kind's
 * fields filled. NULL with *@err -EINVAL (wrong kind, no name, namespace
 * missing for a namespaced kind) or -ENOMEM.
 */
void *hlk8s__obj_parse(const struct hlk8s__kind *k, const cJSON *json, int *err);
/* Frees a typed object of kind @k (NULL is a no-op). */
void hlk8s__obj_free(const struct hlk8s__kind *k, void *obj);
void hlk8s__meta_clear(struct hlk8s_meta *m);

/* Pod fields (pod.c); the annotation filter and lookups. */
int hlk8s__pod_parse(const cJSON *json, void *obj);
void hlk8s__pod_clear(void *obj);
const char *hlk8s__pod_ann(const struct hlk8s_pod *pod, const char *key);
/* Value of annotation @key in a Pod JSON object, or NULL (any key). */
const char *hlk8s__json_pod_ann(const cJSON *obj, const char *key);
int hlk8s__service_parse(const cJSON *json, void *obj);
void hlk8s__service_clear(void *obj);
int hlk8s__slice_parse(const cJSON *json, void *obj);
void hlk8s__slice_clear(void *obj);
/* Kinds kept whole (raw.c): a copy of the object. */
int hlk8s__raw_parse(const cJSON *json, void *obj);
void hlk8s__raw_clear(void *obj);

enum hlk8s__ev_type {
	HLK8S_EV_ADDED,
	HLK8S_EV_MODIFIED,
	HLK8S_EV_DELETED,
	HLK8S_EV_BOOKMARK,
	HLK8S_EV_ERROR,
};

/* A metav1.Status (error answers and ERROR watch events). */
struct hlk8s__status {
	int code;          /* HTTP code, 0 if absent */
	char reason[64];   /* e.g. "Expired", "Gone", "NotFound" */
	char message[256];
};

struct hlk8s__event {
	enum hlk8s__ev_type type;
	void *obj;                   /* ADDED/MODIFIED/DELETED: typed object */
	char *rv;                    /* BOOKMARK (and object events: its version) */
	struct hlk8s__status status; /* ERROR */
};

/* Parses one watch-event line of kind @k. -EINVAL (malformed / unknown
 * type / wrong kind), -ENOMEM. */
int hlk8s__event_parse(const struct hlk8s__kind *k, const char *line, size_t len,
		       struct hlk8s__event *ev);
void hlk8s__event_clear(const struct hlk8s__kind *k, struct hlk8s__event *ev);

/* Parses a Status object in @buf; -EINVAL if it is not one. */
int hlk8s__status_parse(const char *buf, size_t len, struct hlk8s__status *st);
void hlk8s__status_from_json(const cJSON *obj, struct hlk8s__status *st);

/*
 * Parses a list page of kind @k: calls @fn for every item that parses
 * (items that do not are skipped; @fn takes ownership of the object), sets
 * *@rv and *@cont (malloc'd, NULL if absent). -EINVAL (not such a list),
 * -ENOMEM, or what @fn returns (< 0 stops).
 */
int hlk8s__list_parse(const struct hlk8s__kind *k, const char *buf, size_t len,
		      int (*fn)(void *arg, void *obj), void *arg, char **rv, char **cont);

/* ---- Node objects (pod.c; the GET is in get.c) ---- */

/* spec.podCIDR (else podCIDRs[0]) of a Node JSON object into @out.
 * -EINVAL (not an object), -ENOENT (none set), -ENOSPC. */
int hlk8s__node_pod_cidr(const char *buf, size_t len, char *out, size_t outlen);
/* Label @key of a Node JSON object into @out: -EINVAL, -ENOENT, -ENOSPC. */
int hlk8s__node_label(const char *buf, size_t len, const char *key, char *out, size_t outlen);

/* ---- object cache (cache.c); the caller holds the client lock ---- */

struct hlk8s__cache;
struct hlk8s__cache *hlk8s__cache_new(const struct hlk8s__kind *k);
void hlk8s__cache_free(struct hlk8s__cache *cache);
/* Takes @obj (a typed object of the cache's kind); replaces an entry, whose
 * old object is freed or, with @old non-NULL, handed back there. -ENOMEM
 * (@obj is then freed). */
int hlk8s__cache_put(struct hlk8s__cache *cache, void *obj, void **old);
/* Removes ns/name and returns its object (the caller frees it), or NULL. */
void *hlk8s__cache_take(struct hlk8s__cache *cache, const char *ns, const char *name);
/* Removes ns/name; returns true if it was there. */
bool hlk8s__cache_del(struct hlk8s__cache *cache, const char *ns, const char *name);
const void *hlk8s__cache_get(const struct hlk8s__cache *cache, const char *ns,
			     const char *name);
size_t hlk8s__cache_count(const struct hlk8s__cache *cache);
/* Calls @fn for every object, in no particular order; @fn must not change
 * the cache. */
void hlk8s__cache_each(const struct hlk8s__cache *cache, void (*fn)(void *arg, const void *obj),
		       void *arg);

#endif /* HLK8S_PRIVATE_H */
