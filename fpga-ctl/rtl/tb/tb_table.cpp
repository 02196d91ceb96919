// SPDX-License-Identifier: Apache-2.0
//
// Differential test of the RTL tables against the reference engine's
// (fpga-ctl/src/table.c, hash.c): the keyed hash over random 18-byte keys,
// and a random stream of lookups, inserts, deletes and clears over a small
// key space (so buckets collide and fill) through hlf_table and eng_tbl:
// the same status, way and value for every operation. Prints TAP, and the
// cycles per operation the RTL took.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>

#include "Vtb_table_top.h"
#include "verilated.h"

extern "C" {
#include "engine.h"
}

static Vtb_table_top *top;
static uint64_t cycles;

static void tick()
{
	top->clk = 0;
	top->eval();
	top->clk = 1;
	top->eval();
	cycles++;
}

struct ent {
	uint8_t valid;
	uint8_t key[4];
	uint16_t val;
};

static int n_test;
static void tap(bool ok, const char *what)
{
	printf("%s %d - %s\n", ok ? "ok" : "not ok", ++n_test, what);
}

int main(int argc, char **argv)
{
	static struct eng e;
	struct eng_tbl t;
	std::mt19937_64 rng(argc > 1 ? strtoull(argv[1], nullptr, 0) : 0x5eedu);
	uint32_t seed[FPGACTL_SEED_WORDS];
	uint32_t keys[48];
	unsigned bad = 0, ops = 0, full = 0, hits = 0;
	uint64_t busy = 0;
	char msg[160];

	Verilated::commandArgs(argc, argv);
	top = new Vtb_table_top;
	for (auto &w : seed)
		w = (uint32_t)rng();
	eng_hash_seed(&e, seed);
	for (unsigned i = 0; i < 8; i++)
		top->seed[i] = seed[i];

	// the hash, 18-byte keys
	for (unsigned n = 0; n < 20000; n++) {
		uint8_t k[18];

		for (auto &b : k)
			b = (uint8_t)rng();
		if (n < 18)  // single bits first: each window alone
			memset(k, 0, sizeof(k)), k[n] = (uint8_t)(1u << (n % 8));
		for (unsigned i = 0; i < 5; i++)
			top->hkey[i] = 0;
		for (unsigned i = 0; i < 18; i++)
			top->hkey[i / 4] |= (uint32_t)k[i] << (8 * (i % 4));
		top->eval();
		if (top->hout != eng_hash(&e, k, 18) && bad++ < 5)
			printf("# key %u: rtl %04x c %04x\n", n, top->hout, eng_hash(&e, k, 18));
	}
	snprintf(msg, sizeof(msg), "hlf_hash == eng_hash over 20000 18-byte keys (%u differ)", bad);
	tap(bad == 0, msg);

	// the table
	if (eng_tbl_init(&t, 3, sizeof(struct ent), 4, &e)) {
		tap(false, "eng_tbl_init");
		return 1;
	}
	for (auto &k : keys)
		k = (uint32_t)rng();
	top->rst = 1;
	tick();
	top->rst = 0;
	bad = 0;
	for (unsigned n = 0; n < 200000; n++) {
		unsigned op = (unsigned)(rng() % 16);
		uint32_t key = keys[rng() % 48];
		uint16_t val = (uint16_t)rng();
		uint8_t k[4];
		unsigned st, way = 0;
		uint16_t v = 0;
		uint64_t c0;
		struct ent *x, *base;

		while (!top->req_ready)
			tick();
		if (op == 15 && rng() % 64 == 0) {  // a clear, now and then
			top->clear = 1;
			tick();
			top->clear = 0;
			eng_tbl_clear(&t);
			continue;
		}
		op = op < 7 ? 0 : op < 13 ? 1 : 2;
		memcpy(k, &key, 4);
		base = (struct ent *)(void *)(t.ent + (size_t)(eng_hash(&e, k, 4) & 7) * 2 * t.size);
		if (op == 0) {
			x = (struct ent *)eng_tbl_find(&t, k);
			st = x ? 0 : 1;
		} else if (op == 1) {
			x = (struct ent *)eng_tbl_slot(&t, k);
			st = x ? 0 : 2;
			if (x) {
				x->valid = 1;
				memcpy(x->key, k, 4);
				v = x->val;  // the old value, when the key was there
				x->val = val;
			}
		} else {
			x = (struct ent *)eng_tbl_find(&t, k);
			st = x ? 0 : 1;
			if (x) {
				v = x->val;
				memset(x, 0, sizeof(*x));
			}
		}
		if (x && op == 0)
			v = x->val;
		if (x)
			way = (unsigned)(x - base);
		top->req_valid = 1;
		top->req_op = op;
		top->req_key = key;
		top->req_val = val;
		c0 = cycles;
		tick();
		top->req_valid = 0;
		while (!top->rsp_valid)
			tick();
		busy += cycles - c0;
		ops++;
		full += st == 2;
		hits += op == 0 && st == 0;
		// an insert over an empty way has no old value to compare
		if (top->rsp_status != st || (st == 0 && top->rsp_way != way) ||
		    (st == 0 && op != 1 && top->rsp_val != v)) {
			if (bad++ < 5)
				printf("# op %u %s key %08x: rtl st %u way %u val %u, c st %u way %u val %u\n",
				       n, op == 0 ? "lookup" : op == 1 ? "insert" : "delete", key,
				       top->rsp_status, top->rsp_way, top->rsp_val, st, way, v);
		}
	}
	snprintf(msg, sizeof(msg),
		 "hlf_table == eng_tbl over %u operations (%u lookup hits, %u full buckets; %u differ)",
		 ops, hits, full, bad);
	tap(bad == 0 && full > 0 && hits > 0, msg);
	printf("# hlf_table: %.2f cycles per operation (latency = issue interval)\n",
	       (double)busy / ops);
	eng_tbl_free(&t);
	top->final();
	delete top;
	printf("1..%d\n", n_test);
	return 0;
}
