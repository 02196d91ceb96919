/* SPDX-License-Identifier: Apache-2.0 */
/* Restart back-off arithmetic (see vsw_backoff.h). */
#include "vsw_backoff.h"

void vsw_backoff_init(struct vsw_backoff *b, uint32_t base_ms, uint32_t cap_ms,
		      uint32_t healthy_ms)
{
	b->base_ms = base_ms ? base_ms : VSW_BACKOFF_BASE_MS;
	b->cap_ms = cap_ms ? cap_ms : VSW_BACKOFF_CAP_MS;
	if (b->cap_ms < b->base_ms)
		b->cap_ms = b->base_ms;
	b->healthy_ms = healthy_ms ? healthy_ms : VSW_BACKOFF_HEALTHY_MS;
	b->cur_ms = 0;
}

uint32_t vsw_backoff_next(struct vsw_backoff *b, uint64_t ran_ms)
{
	if (ran_ms >= b->healthy_ms)
		b->cur_ms = 0;
	if (!b->cur_ms)
		b->cur_ms = b->base_ms;
	else if (b->cur_ms > b->cap_ms / 2)  /* doubling would pass the cap */
		b->cur_ms = b->cap_ms;
	else
		b->cur_ms *= 2;
	return b->cur_ms;
}
