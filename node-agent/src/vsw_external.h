/* SPDX-License-Identifier: Apache-2.0 */
/* vhostUser.backend "external": the switch runs elsewhere (its own
 * container); the agent adds and deletes ports over its control socket and
 * puts them back when the switch restarts (vsw_external.c). */
#ifndef HOSTLANE_VSW_EXTERNAL_H
#define HOSTLANE_VSW_EXTERNAL_H

#include <cjson/cJSON.h>

struct agent;
struct hl_pod;

/* Starts watching the switch (loop timer; first look at once). 0 or -errno. */
int hl_vsw_ext_start(struct agent *a);
/* Cancels the watch. Loop thread (or before/after the loop runs). */
void hl_vsw_ext_stop(struct agent *a);
/* Adds (@add 1) or deletes @p's port; the caller holds vsw_lock.
 * 0, or -errno (-ECONNREFUSED/-ENOENT: no switch; -EEXIST, -ENOENT). */
int hl_vsw_ext_port(struct agent *a, int add, const struct hl_pod *p);
/* switchSocket, switchUp, switchResyncs into the status object @d. */
void hl_vsw_ext_status(struct agent *a, cJSON *d);

#endif
