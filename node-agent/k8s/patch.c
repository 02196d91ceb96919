/* SPDX-License-Identifier: Apache-2.0 */
/* A node's extended resource in its status (hlk8s_node_set_resource()):
 * the documented way to advertise one without a device plugin, a PATCH of
 * the node's status subresource. */
#include "client_private.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PATCH_BODY_MAX (4u << 20)

/* An extended resource name: <domain>/<name>, [A-Za-z0-9._-] each side. */
static bool resource_ok(const char *r)
{
	const char *slash = strchr(r, '/');

	if (!slash || slash == r || !slash[1] || strchr(slash + 1, '/') || strlen(r) > 253)
		return false;
	for (const char *p = r; *p; p++)
		if (p != slash && !(*p >= 'a' && *p <= 'z') && !(*p >= 'A' && *p <= 'Z') &&
		    !(*p >= '0' && *p <= '9') && *p != '.' && *p != '-' && *p != '_')
			return false;
	return true;
}

int hlk8s_node_set_resource(struct hlk8s_client *c, const char *node, const char *resource,
			    unsigned long long value)
{
	struct hl_buf body = { .max = PATCH_BODY_MAX };
	struct curl_slist *hdrs, *h;
	char *url = NULL, patch[768];
	long code = 0;
	CURL *e;
	int r;

	if (!c || !node || !*node || strlen(node) > 253 || strpbrk(node, "/?#%") || !resource ||
	    !resource_ok(resource))
		return -EINVAL;
	/* capacity and allocatable both: the scheduler reads allocatable, and
	 * the kubelet copies capacity of resources it does not manage itself
	 * into allocatable only at its next status update. */
	snprintf(patch, sizeof(patch),
		 "{\"status\":{\"capacity\":{\"%s\":\"%llu\"},\"allocatable\":{\"%s\":\"%llu\"}}}",
		 resource, value, resource, value);
	if (asprintf(&url, "%s/api/v1/nodes/%s/status", c->cfg.server, node) < 0)
		return -ENOMEM;
	for (int attempt = 0;; attempt++) {
		hlk8s__token_refresh(c, attempt > 0);
		body.len = 0;
		e = hlk8s__easy(c, url, c->get_timeout_ms, c->get_timeout_ms, &body, &hdrs);
		h = e ? curl_slist_append(hdrs, "Content-Type: application/merge-patch+json") : NULL;
		if (!h) {
			if (e)
				curl_easy_cleanup(e);
			curl_slist_free_all(hdrs);
			r = -ENOMEM;
			break;
		}
		curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
		curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, "PATCH");
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, patch);
		r = hlk8s__perform(c, e, -1, "PATCH node status");
		if (!r)
			curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &code);
		curl_easy_cleanup(e);
		curl_slist_free_all(h);
		/* A bound token may have rotated without the file looking changed. */
		if (!r && code == 401 && attempt == 0 && c->cfg.token_file)
			continue;
		if (!r && code != 200)
			r = hlk8s__http_error(c, code, &body, "PATCH node status");
		break;
	}
	free(url);
	free(body.p);
	return r == -ESTALE ? -EIO : r;
}
