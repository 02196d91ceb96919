/* SPDX-License-Identifier: Apache-2.0 */
/* What the manifest reader and writer share. */
#ifndef HOSTLANE_MANIFEST_PRIVATE_H
#define HOSTLANE_MANIFEST_PRIVATE_H

/* What a plain YAML scalar means (YAML 1.1, as Kubernetes reads it). */
enum { MF_STRING, MF_NULL, MF_TRUE, MF_FALSE, MF_NUMBER, MF_BIGINT };

/* Resolves plain scalar text @s; MF_NUMBER sets *num. */
int mf_resolve_plain(const char *s, double *num);

#endif
