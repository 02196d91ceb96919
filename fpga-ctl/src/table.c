/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Set-associative tables: the key's hash picks a bucket of FPGACTL_WAYS
 * entries, the lowest free way takes a new key, and a full bucket refuses
 * it (-ENOSPC to the writer). The RTL reads a whole bucket in one cycle
 * and compares the ways at once; the order of ways is part of the
 * contract, so both find and fill the same way.
 */
#include "engine.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int eng_tbl_init(struct eng_tbl *t, unsigned log2, size_t size, unsigned klen, const struct eng *e)
{
	if (log2 > 16)
		return -EINVAL;
	t->log2 = log2;
	t->size = size;
	t->klen = klen;
	t->hash = e->hash;
	t->ent = calloc((size_t)FPGACTL_WAYS << log2, size);
	return t->ent ? 0 : -ENOMEM;
}

void eng_tbl_free(struct eng_tbl *t)
{
	free(t->ent);
	t->ent = NULL;
}

void eng_tbl_clear(struct eng_tbl *t)
{
	memset(t->ent, 0, ((size_t)FPGACTL_WAYS << t->log2) * t->size);
}

static uint8_t *bucket(const struct eng_tbl *t, const uint8_t *key)
{
	uint16_t h = 0;

	for (unsigned i = 0; i < t->klen; i++)
		h ^= t->hash[i][key[i]];
	h &= (uint16_t)((1u << t->log2) - 1);
	return t->ent + (size_t)h * FPGACTL_WAYS * t->size;
}

void *eng_tbl_find(const struct eng_tbl *t, const uint8_t *key)
{
	uint8_t *b = bucket(t, key);

	for (unsigned w = 0; w < FPGACTL_WAYS; w++, b += t->size)
		if (b[0] && !memcmp(b + 1, key, t->klen))
			return b;
	return NULL;
}

void *eng_tbl_slot(const struct eng_tbl *t, const uint8_t *key)
{
	uint8_t *b = bucket(t, key), *e = eng_tbl_find(t, key);

	if (e)
		return e;
	for (unsigned w = 0; w < FPGACTL_WAYS; w++, b += t->size)
		if (!b[0])
			return b;
	return NULL;
}
