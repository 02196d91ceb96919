/* SPDX-License-Identifier: Apache-2.0 */
#include "agent.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static const char *const fp_names[HL_FP_COUNT] = { "none", "shm", "vhost-user", "vf" };
static const char *const src_names[] = { "annotation", "cniArgs", "config", "default" };

const char *hl_fastpath_name(enum hl_fastpath fp)
{
	return (unsigned)fp < HL_FP_COUNT ? fp_names[fp] : "?";
}

const char *hl_fp_source_name(enum hl_fp_source s)
{
	return (unsigned)s <= HL_SRC_DEFAULT ? src_names[s] : "?";
}

int hl_fastpath_parse(const char *s, enum hl_fastpath *out)
{
	for (int i = 0; i < HL_FP_COUNT; i++) {
		if (strcmp(s, fp_names[i]) == 0) {
			*out = (enum hl_fastpath)i;
			return 0;
		}
	}
	return -EINVAL;
}

int hl_fastpath_select(const char *annotation, const char *cni_args, const char *net_config,
		       enum hl_fastpath agent_default, enum hl_fastpath *out,
		       enum hl_fp_source *src, char *bad, size_t badlen)
{
	const char *levels[] = { annotation, cni_args, net_config };

	for (int i = 0; i < 3; i++) {
		if (!levels[i] || !*levels[i])
			continue;
		*src = (enum hl_fp_source)i;
		if (hl_fastpath_parse(levels[i], out) < 0) {
			snprintf(bad, badlen, "%s", levels[i]);
			return -EINVAL;
		}
		return 0;
	}
	*src = HL_SRC_DEFAULT;
	*out = agent_default;
	return 0;
}
