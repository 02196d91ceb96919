/* SPDX-License-Identifier: Apache-2.0 */
/* Kubernetes-style quantities of bytes (the agent's config and the
 * hostlane.io/hugepages annotation, the admission webhook). */
#include "hl_util.h"

#include <ctype.h>
#include <errno.h>
#include <string.h>

int hl_quantity_parse(const char *s, uint64_t *out)
{
	static const struct { const char *suffix; uint64_t mult; } units[] = {
		{ "", 1 }, { "Ki", 1ull << 10 }, { "Mi", 1ull << 20 }, { "Gi", 1ull << 30 },
		{ "Ti", 1ull << 40 }, { "k", 1000ull }, { "M", 1000000ull },
		{ "G", 1000000000ull }, { "T", 1000000000000ull },
	};
	uint64_t v = 0;
	const char *p = s;

	if (!s || !isdigit((unsigned char)*s))
		return -EINVAL;
	for (; isdigit((unsigned char)*p); p++) {
		if (v > (UINT64_MAX - 9) / 10)
			return -ERANGE;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(p, units[i].suffix) != 0)
			continue;
		if (v && units[i].mult > UINT64_MAX / v)
			return -ERANGE;
		*out = v * units[i].mult;
		return 0;
	}
	return -EINVAL;
}
