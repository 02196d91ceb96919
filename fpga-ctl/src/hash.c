/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The tables' bucket hash: a Toeplitz hash under a 256-bit secret the
 * driver loads (as RSS does): bit i of the key, when set, XORs in the 16
 * secret bits i..i+15. A pod chooses some keys (its listen ports), so the
 * hash must not let it aim several keys at one bucket of a table other
 * pods share: without the secret it cannot tell which keys collide. The
 * RTL computes the same function (rtl/hlf_hash.sv); here it is one table
 * lookup per key byte.
 */
#include "engine.h"

static unsigned seed_bit(const uint32_t *s, unsigned i)
{
	return (s[(i / 32) % FPGACTL_SEED_WORDS] >> (i % 32)) & 1;
}

static uint16_t window(const uint32_t *s, unsigned i)
{
	uint16_t w = 0;

	for (unsigned b = 0; b < FPGACTL_HASH_BITS; b++)
		w |= (uint16_t)(seed_bit(s, i + b) << b);
	return w;
}

void eng_hash_seed(struct eng *e, const uint32_t seed[FPGACTL_SEED_WORDS])
{
	uint16_t w[18 * 8];

	for (unsigned i = 0; i < FPGACTL_SEED_WORDS; i++)
		e->seed[i] = seed[i];
	for (unsigned i = 0; i < 18 * 8; i++)
		w[i] = window(seed, i);
	/* a byte's value hashes to the XOR of its set bits' windows: each
	 * entry is a smaller one (its lowest set bit cleared) plus one window */
	for (unsigned byte = 0; byte < 18; byte++) {
		e->hash[byte][0] = 0;
		for (unsigned v = 1; v < 256; v++)
			e->hash[byte][v] = e->hash[byte][v & (v - 1)] ^ w[byte * 8 + __builtin_ctz(v)];
	}
}

uint16_t eng_hash(const struct eng *e, const uint8_t *key, unsigned len)
{
	uint16_t h = 0;

	for (unsigned i = 0; i < len && i < 18; i++)
		h ^= e->hash[i][key[i]];
	return h;
}
