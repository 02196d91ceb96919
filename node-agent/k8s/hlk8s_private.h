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

/* ---- Pod objects and watch events (pod.c) ---- */

struct hlk8s__ann {
	char *key;
	char *value;
};

/* The part of a Pod the agent needs. */
struct hlk8s__pod {
	char *ns, *name, *uid, *rv, *node;
	struct hlk8s__ann *anns; /* only HLK8S_ANN_PREFIX keys */
	size_t n_anns;
};

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
	struct hlk8s__pod pod;       /* ADDED/MODIFIED/DELETED */
	char *rv;                    /* BOOKMARK (and pod events: = pod.rv copy) */
	struct hlk8s__status status; /* ERROR */
};

/* Fills @pod from a Pod JSON object. -EINVAL (no metadata.name/namespace), -ENOMEM. */
int hlk8s__pod_from_json(const cJSON *obj, struct hlk8s__pod *pod);
void hlk8s__pod_clear(struct hlk8s__pod *pod);
/* Value of annotation @key in @pod, or NULL. */
const char *hlk8s__pod_ann(const struct hlk8s__pod *pod, const char *key);
/* Value of annotation @key in a Pod JSON object, or NULL (any key). */
const char *hlk8s__json_pod_ann(const cJSON *obj, const char *key);

/* Parses one watch-event line. -EINVAL (malformed / unknown type), -ENOMEM. */
int hlk8s__event_parse(const char *line, size_t len, struct hlk8s__event *ev);
void hlk8s__event_clear(struct hlk8s__event *ev);

/* Parses a Status object in @buf; -EINVAL if it is not one. */
int hlk8s__status_parse(const char *buf, size_t len, struct hlk8s__status *st);
void hlk8s__status_from_json(const cJSON *obj, struct hlk8s__status *st);

/*
 * Parses a PodList page: calls @fn for every item that parses (items that do
 * not are skipped), sets *@rv and *@cont (malloc'd, NULL if absent).
 * -EINVAL (not a PodList), -ENOMEM, or what @fn returns (< 0 stops).
 */
int hlk8s__podlist_parse(const char *buf, size_t len,
			 int (*fn)(void *arg, struct hlk8s__pod *pod), void *arg,
			 char **rv, char **cont);

/* ---- Node objects (pod.c; the GET is in get.c) ---- */

/* spec.podCIDR (else podCIDRs[0]) of a Node JSON object into @out.
 * -EINVAL (not an object), -ENOENT (none set), -ENOSPC. */
int hlk8s__node_pod_cidr(const char *buf, size_t len, char *out, size_t outlen);

/* ---- pod cache (cache.c); the caller holds the client lock ---- */

struct hlk8s__cache;
struct hlk8s__cache *hlk8s__cache_new(void);
void hlk8s__cache_free(struct hlk8s__cache *cache);
/* Takes ownership of @pod's contents (left cleared); replaces an entry. -ENOMEM. */
int hlk8s__cache_put(struct hlk8s__cache *cache, struct hlk8s__pod *pod);
/* Removes ns/name; returns true if it was there. */
bool hlk8s__cache_del(struct hlk8s__cache *cache, const char *ns, const char *name);
const struct hlk8s__pod *hlk8s__cache_get(const struct hlk8s__cache *cache,
					  const char *ns, const char *name);
size_t hlk8s__cache_count(const struct hlk8s__cache *cache);

#endif /* HLK8S_PRIVATE_H */
