/* SPDX-License-Identifier: Apache-2.0 */
/* build/bin/hostlane: reads stdin, runs cni_run(). */
#include "cni.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define STDIN_MAX (4 << 20)

static const char *env_get(const char *k)
{
	return getenv(k);
}

static char *read_stdin(size_t *len)
{
	size_t cap = 8192, n = 0;
	char *buf = malloc(cap);

	while (buf) {
		ssize_t r;

		if (n + 1 >= cap) {
			char *nb = cap >= STDIN_MAX ? NULL : realloc(buf, cap * 2);

			if (!nb) {
				free(buf);
				return NULL;
			}
			buf = nb;
			cap *= 2;
		}
		r = read(0, buf + n, cap - n - 1);
		if (r == 0)
			break;
		if (r < 0) {
			free(buf);
			return NULL;
		}
		n += (size_t)r;
	}
	if (buf)
		buf[n] = '\0';
	*len = n;
	return buf;
}

int main(void)
{
	size_t len = 0;
	const char *cmd = getenv("CNI_COMMAND");
	/* Read stdin even for VERSION: a writer must not see EPIPE. */
	char *in = cmd ? read_stdin(&len) : NULL;
	int rc;

	rc = cni_run(in ? in : "", len, env_get);
	free(in);
	fflush(stdout);
	return rc;
}
