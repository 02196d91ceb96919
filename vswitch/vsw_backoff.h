/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The supervisor's restart back-off, as pure arithmetic (no clock, no
 * process): the caller says how long the switch ran, the back-off says how
 * long to wait before the next start. Private to vswitch/.
 *
 * Delays double from base to cap over consecutive failures; a switch that
 * ran for at least healthy_ms before it exited counts as healthy and brings
 * the delay back to base. A start that never got the switch up counts as a
 * run of 0 ms.
 */
#ifndef VSW_BACKOFF_H
#define VSW_BACKOFF_H

#include <stdint.h>

#define VSW_BACKOFF_BASE_MS 1000u
#define VSW_BACKOFF_CAP_MS 30000u
#define VSW_BACKOFF_HEALTHY_MS 30000u

struct vsw_backoff {
	uint32_t base_ms;     /* first delay (> 0) */
	uint32_t cap_ms;      /* largest delay (>= base_ms) */
	uint32_t healthy_ms;  /* a run this long resets the delay */
	uint32_t cur_ms;      /* the last delay given, 0 before the first */
};

/* Sets the parameters (0: the default of each) and clears the state. */
void vsw_backoff_init(struct vsw_backoff *b, uint32_t base_ms, uint32_t cap_ms,
		      uint32_t healthy_ms);

/* The delay before the next start, after a run of @ran_ms. */
uint32_t vsw_backoff_next(struct vsw_backoff *b, uint64_t ran_ms);

#endif
