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
	for (unsigned i = 0; i < FPGACTL_SEED_WORDS; i++)
		e->seed[i] = seed[i];
	for (unsigned byte = 0; byte < 18; byte++)
		for (unsigned v = 0; v < 256; v++) {
			uint16_t h = 0;

			for (unsigned b = 0; b < 8; b++)
				if (v & (1u << b))
					h ^= window(seed, byte * 8 + b);
			e->hash[byte][v] = h;
		}
}

uint16_t eng_hash(const struct eng *e, const uint8_t *key, unsigned len)
{
	uint16_t h = 0;

	for (unsigned i = 0; i < len && i < 18; i++)
		h ^= e->hash[i][key[i]];
	return h;
}
