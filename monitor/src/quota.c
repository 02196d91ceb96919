/* SPDX-License-Identifier: Apache-2.0 */
#include "quota.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

uint64_t hl_quota_round(uint64_t bytes, uint64_t unit)
{
	if (!bytes || !unit || (unit & (unit - 1)) || bytes > UINT64_MAX - (unit - 1))
		return 0;
	return (bytes + unit - 1) & ~(unit - 1);
}

int hl_quota_charge(struct hl_quota *q, uint64_t bytes)
{
	if (bytes > q->limit || q->used > q->limit - bytes)
		return -ENOSPC;
	q->used += bytes;
	return 0;
}

int hl_quota_release(struct hl_quota *q, uint64_t bytes)
{
	if (bytes > q->used) {
		q->used = 0;
		return -EINVAL;
	}
	q->used -= bytes;
	return 0;
}

char *hl_size_format(uint64_t bytes, char *buf, size_t len)
{
	static const char *const units[] = { "", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei" };
	unsigned u = 0;

	while (bytes && !(bytes & 1023) && u + 1 < sizeof(units) / sizeof(units[0])) {
		bytes >>= 10;
		u++;
	}
	snprintf(buf, len, "%" PRIu64 "%s", bytes, units[u]);
	return buf;
}

int hl_size_parse(const char *s, uint64_t *out)
{
	static const struct { const char *sfx; uint64_t mul; } sfx[] = {
		{ "", 1 }, { "Ki", UINT64_C(1) << 10 }, { "Mi", UINT64_C(1) << 20 },
		{ "Gi", UINT64_C(1) << 30 }, { "Ti", UINT64_C(1) << 40 },
		{ "K", 1000 }, { "k", 1000 }, { "M", 1000000 }, { "G", 1000000000 },
		{ "T", UINT64_C(1000000000000) },
	};
	char *end;
	unsigned long long v;

	if (!s || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -ERANGE;
	for (size_t i = 0; i < sizeof(sfx) / sizeof(sfx[0]); i++) {
		if (strcmp(end, sfx[i].sfx))
			continue;
		if (v > UINT64_MAX / sfx[i].mul)
			return -ERANGE;
		*out = v * sfx[i].mul;
		return 0;
	}
	return -EINVAL;
}

char *hl_quota_reason(const char *what, const struct hl_quota *q, uint64_t asked,
		      char *buf, size_t len)
{
	char l[32], u[32], a[32];

	snprintf(buf, len, "%s %s exceeded: used %s, asked %s", what,
		 hl_size_format(q->limit, l, sizeof(l)), hl_size_format(q->used, u, sizeof(u)),
		 hl_size_format(asked, a, sizeof(a)));
	return buf;
}
