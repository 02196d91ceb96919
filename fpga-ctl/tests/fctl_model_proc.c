/* SPDX-License-Identifier: Apache-2.0 */
#include "fctl_model_proc.h"

#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fpgactl.h"

void fctl_model_start(struct fctl_model_proc *m, const char *tag)
{
	const char *build = getenv("BUILD") ? getenv("BUILD") : "build";
	char bin[256];
	struct fpgactl_opts o = { .device = m->dev };

	snprintf(bin, sizeof(bin), "%s/bin/hostlane-fpga-model", build);
	snprintf(m->sock, sizeof(m->sock), "/tmp/hl-%s-%d.sock", tag, (int)getpid());
	snprintf(m->dev, sizeof(m->dev), "model:%s", m->sock);
	m->pid = fork();
	ck_assert_int_ge(m->pid, 0);
	if (m->pid == 0) {
		execl(bin, bin, m->sock, (char *)NULL);
		_exit(127);
	}
	/* until it listens (a driver that connects is served at once) */
	for (int i = 0; i < 500; i++) {
		struct fpgactl *f = fpgactl_open(&o);

		if (f) {
			fpgactl_close(f);
			return;
		}
		usleep(10000);
	}
	ck_abort_msg("%s did not come up", bin);
}

int fctl_model_stop(struct fctl_model_proc *m)
{
	int st = -1;

	if (m->pid > 0) {
		kill(m->pid, SIGTERM);
		waitpid(m->pid, &st, 0);
	}
	m->pid = -1;
	unlink(m->sock);
	return st;
}
