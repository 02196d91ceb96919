/* SPDX-License-Identifier: Apache-2.0 */
/* The switch's control server: a thread serving the line protocol of
 * vsw_proto.h on a unix stream socket. Private to vswitch/. */
#ifndef VSW_CTL_H
#define VSW_CTL_H

#include "vsw_proto.h"

struct vsw_out; /* reply being built */

/* Appends one data line (with '\n') to the reply. 0 or -ENOMEM. */
int vsw_out_line(struct vsw_out *o, const char *line);

/* Serves one parsed request: emit data lines, return 0 or -errno (sent as
 * "err ERRNO"). Called on the control thread. */
typedef int (*vsw_ctl_handler)(void *arg, const struct vsw_req *req,
			       struct vsw_out *out);

struct vsw_ctl;

/* Binds @path (replacing a stale socket) and starts the thread.
 * NULL + errno on failure. */
struct vsw_ctl *vsw_ctl_start(const char *path, vsw_ctl_handler h, void *arg);
/* Stops the thread, closes clients, unlinks the socket. */
void vsw_ctl_stop(struct vsw_ctl *c);

#endif
