/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer: a datagram as the reply to a link look-up and to a link dump,
 * through hlnl_reply_run() and the callbacks hlnl_link_get() and
 * hlnl_link_list() use. */
#include <stdlib.h>
#include <string.h>

#include "hlnl_private.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const struct hlnl_link *l)
{
	/* strings come out terminated whatever the attribute held */
	if (strnlen(l->name, sizeof(l->name)) == sizeof(l->name) ||
	    strnlen(l->kind, sizeof(l->kind)) == sizeof(l->kind) ||
	    strnlen(l->alias, sizeof(l->alias)) == sizeof(l->alias))
		abort();
}

static int each(const struct hlnl_link *l, void *arg)
{
	check(l);
	return ++*(int *)arg == 3 ? 7 : 0; /* stop after three, as a caller may */
}

static void rc_ok(int rc)
{
	if (rc > 1 || rc < -4095)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* an exact-size copy, so ASan sees any read past the datagram */
	uint8_t *buf = malloc(size ? size : 1);
	struct hlnl_link l;
	int n = 0;
	struct hlnl_link_list_arg la = { each, &n, 0 };

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	/* with the seq/portid checks a real request has, then without (0 turns
	 * them off in libmnl) so the decoders are reached from any bytes */
	for (uint32_t id = 0; id < 2; id++) {
		memset(&l, 0, sizeof(l));
		rc_ok(hlnl_reply_run(buf, size, id, id, hlnl_link_get_reply_cb, &l));
		check(&l);
		rc_ok(hlnl_reply_run(buf, size, id, id, hlnl_link_list_reply_cb, &la));
	}
	free(buf);
	return 0;
}
