/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fpgactl.h — the control-plane backend interface of the monitor.
 *
 * The monitor (hostlaned's endpoint) turns socket/bind/listen/connect/
 * accept/close requests into fixed-size commands (fpgactl_abi.h), submits
 * them to a backend in batches, and handles the completions when the
 * backend's fd is readable. The software backend runs each command through
 * a handler the monitor supplies, in process; an FPGA backend (a later
 * issue) will put the same entries on a device's queues.
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

struct fctl;

/* Serves one command (software backend): fills @cpl (cookie is set). */
typedef void (*fctl_handler_fn)(void *arg, const struct fctl_cmd *cmd, struct fctl_cpl *cpl);

struct fctl_opts {
	unsigned queue_depth;     /* completion entries (power of two; 0: 1024) */
	fctl_handler_fn handler;  /* software backend: required */
	void *handler_arg;
};

/* A backend: what every implementation provides. */
struct fctl_backend_ops {
	const char *name;
	int (*open)(struct fctl *f, const struct fctl_opts *o);
	void (*close)(struct fctl *f);
	/* Queues up to @n commands; returns how many were taken (> 0) or -errno
	 * (-EAGAIN: the completion queue is full, handle completions first). */
	int (*submit)(struct fctl *f, const struct fctl_cmd *cmds, unsigned n);
	/* Takes up to @max completions; returns the count (0: none). */
	int (*poll)(struct fctl *f, struct fctl_cpl *cpls, unsigned max);
	/* An fd readable while completions are pending. */
	int (*fd)(const struct fctl *f);
};

/* The software backend (in-process, commands served by the handler). */
extern const struct fctl_backend_ops fctl_sw_backend;

/**
 * fctl_open() - open a backend instance.
 * @ops: the backend (e.g. &fctl_sw_backend). @o: options (copied).
 * Return: the instance or NULL with errno EINVAL (no handler for the
 * software backend, bad queue depth), ENOMEM, or an errno of eventfd.
 */
struct fctl *fctl_open(const struct fctl_backend_ops *ops, const struct fctl_opts *o);
/** fctl_close() - close the instance; pending completions are dropped. NULL ok. */
void fctl_close(struct fctl *f);
/** fctl_submit() - submit a batch; see fctl_backend_ops.submit. */
int fctl_submit(struct fctl *f, const struct fctl_cmd *cmds, unsigned n);
/** fctl_poll() - take completions; see fctl_backend_ops.poll. */
int fctl_poll(struct fctl *f, struct fctl_cpl *cpls, unsigned max);
/** fctl_fd() - the fd to wait on (readable while completions are pending). */
int fctl_fd(const struct fctl *f);
/** fctl_name() - the backend's name ("software"). */
const char *fctl_name(const struct fctl *f);

#ifdef __cplusplus
}
#endif
#endif
