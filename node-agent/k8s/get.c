/* SPDX-License-Identifier: Apache-2.0 */
/* One bounded GET of an API object (the pod lookups on a cache miss, the
 * node's spec.podCIDR for the standalone install, its labels for the
 * agent's topology, discovery and lists for NetworkPolicy admission). */
#include "client_private.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NODE_BODY_MAX (4u << 20) /* a Node is far smaller than this */

static long ms_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

/* One GET attempt within @left_ms. 0 and the HTTP code, or -errno. */
static int get_once(struct hlk8s_client *c, const char *url, long left_ms,
		    struct hl_buf *body, long *code, const char *what)
{
	struct curl_slist *hdrs;
	CURL *e = hlk8s__easy(c, url, left_ms, left_ms, body, &hdrs);
	int r;

	if (!e)
		return -ENOMEM;
	r = hlk8s__perform(c, e, -1, what);
	if (!r)
		curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, code);
	curl_easy_cleanup(e);
	curl_slist_free_all(hdrs);
	return r;
}

int hlk8s__get(struct hlk8s_client *c, const char *path, struct hl_buf *body,
	       const char *what)
{
	struct timespec t0;
	long code = 0, left;
	char *url;
	int r;

	if (asprintf(&url, "%s%s", c->cfg.server, path) < 0)
		return -ENOMEM;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int attempt = 0;; attempt++) {
		hlk8s__token_refresh(c, attempt > 0);
		left = c->get_timeout_ms - ms_since(&t0);
		if (left <= 0) {
			r = -ETIMEDOUT;
			break;
		}
		body->len = 0;
		r = get_once(c, url, left, body, &code, what);
		/* A bound token may have rotated without the file looking changed. */
		if (!r && code == 401 && attempt == 0 && c->cfg.token_file)
			continue;
		if (!r && code != 200)
			r = hlk8s__http_error(c, code, body, what);
		break;
	}
	free(url);
	return r == -ESTALE ? -EIO : r;
}


int hlk8s_node_label(struct hlk8s_client *c, const char *node, const char *key,
		     char *buf, size_t len)
{
	struct hl_buf body = { .max = NODE_BODY_MAX };
	char path[320];
	int r;

	if (!c || !node || !*node || strlen(node) > 253 || strpbrk(node, "/?#%") || !key ||
	    !buf || !len)
		return -EINVAL;
	snprintf(path, sizeof(path), "/api/v1/nodes/%s", node);
	r = hlk8s__get(c, path, &body, "GET node");
	if (r == 0) {
		r = hlk8s__node_label(body.p, body.len, key, buf, len);
		if (r == -EINVAL)
			hlk8s__log(c, HLK8S_LOG_WARN, "k8s: GET node %s: malformed answer", node);
	}
	free(body.p);
	return r;
}

int hlk8s_node_pod_cidr(struct hlk8s_client *c, const char *node, char *buf, size_t len)
{
	struct hl_buf body = { .max = NODE_BODY_MAX };
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

int hlk8s_get_raw(struct hlk8s_client *c, const char *path, size_t max, char **body, size_t *len)
{
	struct hl_buf b = { .max = max };
	char what[128];
	int r;

	if (!c || !path || path[0] != '/' || strpbrk(path, " #\r\n") || !max || !body || !len)
		return -EINVAL;
	*body = NULL;
	*len = 0;
	snprintf(what, sizeof(what), "GET %.*s", (int)strcspn(path, "?"), path);
	r = hlk8s__get(c, path, &b, what);
	if (r == 0 && !b.p && hl_buf_append(&b, "", 0))
		r = -ENOMEM;
	if (r) {
		free(b.p);
		return r;
	}
	*body = b.p;
	*len = b.len;
	return 0;
}
