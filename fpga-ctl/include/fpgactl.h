/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fpgactl.h — a control-plane backend interface (fpga-ctl, libfpgactl.a,
 * prefix fpgactl_): a user submits fixed-size commands (fpgactl_abi.h) in
 * batches and takes completions when the backend's fd is readable. The
 * software backend runs each command through a handler the user supplies,
 * in process; a hardware backend would put the same entries on a device's
 * queues. Nothing in the project uses it yet (docs/monitor.md).
 *
 * Conventions: int functions return 0 (or a count) or -errno; constructors
 * return NULL and set errno. Thread safety: a backend instance is used by
 * one thread at a time (the monitor's loop).
 */
#ifndef FPGACTL_H
#define FPGACTL_H

#include "fpgactl_abi.h"

#ifdef __cplusplus
extern "C" {
#endif

struct fpgactl;

/* Serves one command (software backend): fills @cpl (cookie is set). */
typedef void (*fpgactl_handler_fn)(void *arg, const struct fpgactl_cmd *cmd, struct fpgactl_cpl *cpl);

struct fpgactl_opts {
	unsigned queue_depth;     /* completion entries (power of two; 0: 1024) */
	fpgactl_handler_fn handler;  /* software backend: required */
	void *handler_arg;
};

/* A backend: what every implementation provides. */
struct fpgactl_backend_ops {
	const char *name;
	int (*open)(struct fpgactl *f, const struct fpgactl_opts *o);
	void (*close)(struct fpgactl *f);
	/* Queues up to @n commands; returns how many were taken (> 0) or -errno
	 * (-EAGAIN: the completion queue is full, handle completions first). */
	int (*submit)(struct fpgactl *f, const struct fpgactl_cmd *cmds, unsigned n);
	/* Takes up to @max completions; returns the count (0: none). */
	int (*poll)(struct fpgactl *f, struct fpgactl_cpl *cpls, unsigned max);
	/* An fd readable while completions are pending. */
	int (*fd)(const struct fpgactl *f);
};

/* The software backend (in-process, commands served by the handler). */
extern const struct fpgactl_backend_ops fpgactl_sw_backend;

/**
 * fpgactl_open() - open a backend instance.
 * @ops: the backend (e.g. &fpgactl_sw_backend). @o: options (copied).
 * Return: the instance or NULL with errno EINVAL (no handler for the
 * software backend, bad queue depth), ENOMEM, or an errno of eventfd.
 */
struct fpgactl *fpgactl_open(const struct fpgactl_backend_ops *ops, const struct fpgactl_opts *o);
/** fpgactl_close() - close the instance; pending completions are dropped. NULL ok. */
void fpgactl_close(struct fpgactl *f);
/** fpgactl_submit() - submit a batch; see fpgactl_backend_ops.submit. */
int fpgactl_submit(struct fpgactl *f, const struct fpgactl_cmd *cmds, unsigned n);
/** fpgactl_poll() - take completions; see fpgactl_backend_ops.poll. */
int fpgactl_poll(struct fpgactl *f, struct fpgactl_cpl *cpls, unsigned max);
/** fpgactl_fd() - the fd to wait on (readable while completions are pending). */
int fpgactl_fd(const struct fpgactl *f);
/** fpgactl_name() - the backend's name ("software"). */
const char *fpgactl_name(const struct fpgactl *f);

#ifdef __cplusplus
}
#endif
#endif
