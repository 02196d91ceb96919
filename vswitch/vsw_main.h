/* SPDX-License-Identifier: Apache-2.0 */
/* Between the switch's process start-up (vsw_main.c) and the switch itself
 * (vswitch.c). Private to vswitch/. */
#ifndef VSW_MAIN_H
#define VSW_MAIN_H

#include <stdint.h>

struct vsw_opts {
	const char *ctl;        /* control socket */
	const char *pidfile;    /* NULL: none */
	unsigned mbufs, idle_max_us, mac_age_s;
	uint64_t start_time;    /* ours, from /proc/self/stat (`info`) */
};

/* Runs the switch (EAL initialised) until vsw_stop(); detaches every port
 * and removes the control socket before it returns. 0, or 1 when it could
 * not start. */
int vsw_run(const struct vsw_opts *o);

/* Makes vsw_run() return; async-signal-safe. */
void vsw_stop(void);

#endif
