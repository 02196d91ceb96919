/* SPDX-License-Identifier: Apache-2.0 */
/* hostlanectl's commands, shared by its files (not a library). */
#ifndef HOSTLANE_CTL_H
#define HOSTLANE_CTL_H

#include <stdbool.h>

#define CTL_VERSION "0.4.0"
/* The image hostlanectl inject names by default (make image tags it so). */
#define HL_CTL_DEFAULT_IMAGE "localhost/hostlane:" CTL_VERSION

struct ctl {
	const char *socket;
	bool json;
	long timeout_ms;
};

/* Commands of inject.c: their arguments after the command name; argv[-1]
 * is the name. Return the exit status. */
int ctl_inject(struct ctl *c, int argc, char **argv);
int ctl_install_lib(struct ctl *c, int argc, char **argv);

#endif
