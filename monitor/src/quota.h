/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Quota arithmetic of the monitor: a limit and a running charge, with
 * overflow-safe checks, and the human-readable sizes used in error replies
 * ("quota 64Mi exceeded: used 60Mi, asked 8Mi"). Pure; thread-compatible.
 */
#ifndef HOSTLANE_MON_QUOTA_H
#define HOSTLANE_MON_QUOTA_H

#include <stddef.h>
#include <stdint.h>

#define HL_MON_PAGE (UINT64_C(2) << 20)  /* regions are charged in 2 MiB pages */

struct hl_quota {
	uint64_t limit;
	uint64_t used;
};

/* Rounds @bytes up to a multiple of @unit (a power of two). 0 on overflow or
 * when @bytes is 0. */
uint64_t hl_quota_round(uint64_t bytes, uint64_t unit);

/* Charges @bytes. 0, or -ENOSPC if used + bytes would pass the limit (or
 * overflow); nothing is charged then. */
int hl_quota_charge(struct hl_quota *q, uint64_t bytes);

/* Returns @bytes; never goes below zero (a mismatch is a bug: -EINVAL). */
int hl_quota_release(struct hl_quota *q, uint64_t bytes);

/* "64Mi", "1Gi", "512Ki", "1536Ki", "100" — the largest binary unit that
 * divides @bytes exactly. Writes at most @len bytes; returns @buf. */
char *hl_size_format(uint64_t bytes, char *buf, size_t len);

/* Parses "64Mi", "2Gi", "4096", "1M"/"1G"/"1K" (decimal), "2Ki". 0 or
 * -EINVAL / -ERANGE. */
int hl_size_parse(const char *s, uint64_t *out);

/* The reason for a refused charge: "<what> <limit> exceeded: used <used>,
 * asked <asked>". Returns @buf. */
char *hl_quota_reason(const char *what, const struct hl_quota *q, uint64_t asked,
		      char *buf, size_t len);

#endif
