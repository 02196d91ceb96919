/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The device model as a process of a test: hostlane-fpga-model of the
 * build ($BUILD, default "build") on a socket private to the test process,
 * started and awaited until a driver can open it, stopped by SIGTERM.
 */
#ifndef FCTL_MODEL_PROC_H
#define FCTL_MODEL_PROC_H

#include <sys/types.h>

struct fctl_model_proc {
	pid_t pid;          /* -1: not running */
	char sock[108];
	char dev[120];      /* "model:<sock>", for fpgactl_opts.device */
};

/* Starts the model on /tmp/hl-<tag>-<pid>.sock; aborts the check test
 * (ck_abort_msg) when it does not come up within 5 s. */
void fctl_model_start(struct fctl_model_proc *m, const char *tag);

/* SIGTERM, reaped, socket removed. Returns the model's wait status (0
 * when it exited normally with 0), or -1 when it was not running. */
int fctl_model_stop(struct fctl_model_proc *m);

#endif
