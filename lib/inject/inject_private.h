/* SPDX-License-Identifier: Apache-2.0 */
/* libhlinject internals shared by its files, the unit test and the fuzzers. */
#ifndef HOSTLANE_INJECT_PRIVATE_H
#define HOSTLANE_INJECT_PRIVATE_H

#include "hlinject.h"
#include "hl_util.h"

#include <stdbool.h>

struct cJSON;

/* The init container's command: the CLI that lays the library out. */
#define HL_INJECT_CTL "/usr/bin/hostlanectl"
#define INJ_PATH 512   /* JSON pointers we make (names are <= 253 bytes) */

/* One mutation in progress. */
struct inj {
	const struct hl_inject_opts *o;
	struct hl_inject_report *rep;
	struct cJSON *patch;       /* NULL: not recorded */
	const char *base;          /* JSON pointer of the pod spec */
	const char *mount, *resource;
	const char *ns;            /* the request's namespace (webhook), else metadata's */
	const char *where;         /* for messages: "Deployment web", "pod" */
	char preload[256];         /* <mount>/$LIB/libhostlane.so */
	uint64_t quota;
};

/* Zeroes @x and sets it up; -EINVAL without an image or with a relative mount. */
int inj_setup(struct inj *x, const struct hl_inject_opts *o, struct hl_inject_report *rep,
	      const char *base, struct cJSON *patch);
/* The mutation of one pod (hl_inject_pod() without the set-up). */
int inj_pod(struct inj *x, struct cJSON *meta, struct cJSON *spec);
/* Records one JSONPatch operation (a copy of @value) if a patch is kept. */
int inj_record(struct inj *x, const char *op, const char *path, const struct cJSON *value);
/* Names the network (opts.network) in the pod's Multus annotation
 * (network.c); @meta_base: the metadata's JSON pointer. */
int inj_network(struct inj *x, struct cJSON *meta, const char *meta_base);
/* The pod's metadata asks for shm. */
bool inj_wants_shm(const struct cJSON *meta);
/* The string value of @key in object @o, or NULL. */
const char *inj_str(const struct cJSON *o, const char *key);
/* Appends a warning to the report (dropped when it is full). */
void inj_warn(struct hl_inject_report *rep, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* @base + "/" + @key escaped (RFC 6901) into @buf; -ENAMETOOLONG. */
int inj_ptr(char *buf, size_t len, const char *base, const char *key);

/* base64 (RFC 4648, padded) of @len bytes: malloc'd, NUL-terminated, or NULL. */
char *inj_base64(const unsigned char *in, size_t len);

#endif
