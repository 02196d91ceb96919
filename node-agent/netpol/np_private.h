/* SPDX-License-Identifier: Apache-2.0 */
/* Shared by the decoders of node-agent/netpol. */
#ifndef HOSTLANE_NP_PRIVATE_H
#define HOSTLANE_NP_PRIVATE_H

#include "hlnp.h"

/* metadata.namespace (NULL for a cluster-scoped object when @ns is NULL)
 * and metadata.name of @obj, copied. 0, -EINVAL (missing, not strings,
 * empty), -ENOMEM; nothing allocated on failure. */
int np_meta(const cJSON *obj, char **ns, char **name);

/* Adds a copy of @s to @v (@n strings) unless it is there. 0 or -ENOMEM. */
int np_strv_add(char ***v, size_t *n, const char *s);

#endif
