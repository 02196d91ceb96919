/* SPDX-License-Identifier: Apache-2.0 */
/* The node object: its spec.podCIDR, for the standalone install. */
#include "client_private.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NODE_BODY_MAX (4u << 20) /* a Node is far smaller than this */

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
