/* SPDX-License-Identifier: Apache-2.0 */
/* A growing byte buffer with a ceiling: HTTP bodies (the Kubernetes client,
 * the admission webhook) and written manifests. */
#include "hl_util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int hl_buf_append(struct hl_buf *b, const void *p, size_t n)
{
	if (b->max && (b->len > b->max || n > b->max - b->len))
		return -EFBIG;
	if (n >= SIZE_MAX / 2 - b->len)
		return -ENOMEM;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		char *q;

		while (cap < b->len + n + 1)
			cap *= 2;
		q = realloc(b->p, cap);
		if (!q)
			return -ENOMEM;
		b->p = q;
		b->cap = cap;
	}
	if (n)
		memcpy(b->p + b->len, p, n);
	b->len += n;
	b->p[b->len] = '\0';
	return 0;
}

void hl_buf_free(struct hl_buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}
