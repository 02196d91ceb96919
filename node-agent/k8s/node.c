/* SPDX-License-Identifier: Apache-2.0 */
/* The node object: its spec.podCIDR, for the standalone install. */
#include "client_private.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NODE_BODY_MAX (4u << 20) /* a Node is far smaller than this */

int hlk8s__node_pod_cidr(const char *buf, size_t len, char *out, size_t outlen)
{
	cJSON *root = cJSON_ParseWithLength(buf, len);
	const cJSON *spec = cJSON_GetObjectItemCaseSensitive(root, "spec");
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(spec, "podCIDR");
	const cJSON *list = cJSON_GetObjectItemCaseSensitive(spec, "podCIDRs");
	int rc = -ENOENT;

	if (!cJSON_IsObject(root)) {
		cJSON_Delete(root);
		return -EINVAL;
	}
	/* podCIDRs[0] is podCIDR when both are set (API reference). */
	if (!cJSON_IsString(v) && cJSON_IsArray(list))
		v = cJSON_GetArrayItem(list, 0);
	if (cJSON_IsString(v) && v->valuestring[0])
		rc = (size_t)snprintf(out, outlen, "%s", v->valuestring) >= outlen ? -ENOSPC : 0;
	cJSON_Delete(root);
	return rc;
}

int hlk8s_node_pod_cidr(struct hlk8s_client *c, const char *node, char *buf, size_t len)
{
	struct hlk8s__buf body = { .max = NODE_BODY_MAX };
	char path[320];
	int r;

	if (!c || !node || !*node || strlen(node) > 253 || strpbrk(node, "/?#%") || !buf || !len)
		return -EINVAL;
	snprintf(path, sizeof(path), "/api/v1/nodes/%s", node);
	r = hlk8s__get(c, path, &body, "GET node");
	if (r == 0) {
		r = hlk8s__node_pod_cidr(body.p, body.len, buf, len);
		if (r == -EINVAL)
			hlk8s__log(c, HLK8S_LOG_WARN, "k8s: GET node %s: malformed answer", node);
	}
	free(body.p);
	return r;
}
