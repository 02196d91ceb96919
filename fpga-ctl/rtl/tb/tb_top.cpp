// SPDX-License-Identifier: Apache-2.0
//
// The device top (hlf_top) through its BAR0 register port, the way a
// driver sees it: the ID and geometry registers against fpgactl_abi.h,
// the hash secret, the table window against the reference engine's pods
// table (same secret: the same buckets, ways, FULL refusals and values),
// queue set-up, doorbells (batched, dropped past the engine), a turn
// through the request pipeline's DMA port, counters,
// CTL.RESET. Prints TAP.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>

#include "Vhlf_top.h"
#include "verilated.h"

extern "C" {
#include "engine.h"
}

static Vhlf_top *top;
static int n_test, failed;

static void tick()
{
	top->clk = 0;
	top->eval();
	top->clk = 1;
	top->eval();
}

static void wr(uint32_t a, uint32_t v)
{
	top->bar_wvalid = 1;
	top->bar_waddr = a;
	top->bar_wdata = v;
	tick();
	top->bar_wvalid = 0;
}

static uint32_t rd(uint32_t a)
{
	top->bar_rvalid = 1;
	top->bar_raddr = a;
	tick();
	top->bar_rvalid = 0;
	return top->bar_rdata;
}

static void tap(bool ok, const char *what)
{
	printf("%s %d - %s\n", ok ? "ok" : "not ok", ++n_test, what);
	failed += !ok;
}

/* A table command through the window; returns TBL_STATUS when not busy. */
static uint32_t tcmd(unsigned sel, unsigned cmd, const uint8_t *key, unsigned klen, uint32_t val)
{
	uint32_t w[5] = { 0 }, st;

	memcpy(w, key, klen);
	wr(FPGACTL_REG_TBL_SEL, sel);
	for (unsigned i = 0; i < 5; i++)
		wr(FPGACTL_REG_TBL_KEY + 4 * i, w[i]);
	wr(FPGACTL_REG_TBL_VAL, val);
	wr(FPGACTL_REG_TBL_CMD, cmd);
	for (unsigned i = 0; i < 1000 && ((st = rd(FPGACTL_REG_TBL_STATUS)) & FPGACTL_TST_BUSY); i++)
		;
	return st;
}

int main(int argc, char **argv)
{
	static struct eng e;
	struct eng_tbl pods;
	std::mt19937_64 rng(0x70b);
	uint32_t seed[FPGACTL_SEED_WORDS] = { 0 };
	uint8_t addrs[40][16];
	unsigned bad = 0, full = 0;
	bool ok;

	Verilated::commandArgs(argc, argv);
	top = new Vhlf_top;
	top->rst = 1;
	tick();
	top->rst = 0;
	for (unsigned i = 0; i < 16; i++)  // the tables clear themselves after reset
		tick();

	tap(rd(FPGACTL_REG_ID) == FPGACTL_ID_MAGIC &&
	    rd(FPGACTL_REG_VERSION) == (FPGACTL_ABI_MAJOR << 16 | FPGACTL_ABI_MINOR),
	    "ID and VERSION are fpgactl_abi.h's");
	tap(rd(FPGACTL_REG_NQ) == 8 && rd(FPGACTL_REG_POD_LOG2) == 3 && rd(FPGACTL_REG_N_PODS) == 4096,
	    "geometry registers report the parameters");

	for (unsigned i = 0; i < FPGACTL_SEED_WORDS; i++) {
		seed[i] = (uint32_t)rng();
		wr(FPGACTL_REG_SEED + 4 * i, seed[i]);
	}
	ok = true;
	for (unsigned i = 0; i < FPGACTL_SEED_WORDS; i++)
		ok = ok && rd(FPGACTL_REG_SEED + 4 * i) == seed[i];
	wr(FPGACTL_REG_CTL, FPGACTL_CTL_RUN);
	wr(FPGACTL_REG_SEED, ~seed[0]);  // refused while running
	ok = ok && rd(FPGACTL_REG_SEED) == seed[0];
	wr(FPGACTL_REG_CTL, 0);
	tap(ok, "the hash secret is written while stopped, read back, kept while running");

	// the pods table through the window, against eng_tbl with the same secret
	eng_hash_seed(&e, seed);
	eng_tbl_init(&pods, 3, sizeof(struct eng_pod), 16, &e);
	for (auto &a : addrs)
		for (auto &b : a)
			b = (uint8_t)rng();
	for (unsigned n = 0; n < 400; n++) {
		unsigned i = (unsigned)(rng() % 40), cmd = (unsigned)(rng() % 3);
		uint16_t pod = (uint16_t)(rng() % 4096);
		uint32_t st = tcmd(FPGACTL_TBL_PODS, cmd, addrs[i], 16, pod);
		struct eng_pod *p, *base;
		unsigned cst, way = 0;
		uint16_t cval = 0;

		base = (struct eng_pod *)(void *)(pods.ent +
			(size_t)(eng_hash(&e, addrs[i], 16) & 7) * 2 * pods.size);
		if (cmd == FPGACTL_TCMD_INSERT) {
			p = (struct eng_pod *)eng_tbl_slot(&pods, addrs[i]);
			if (p) {
				p->valid = 1;
				memcpy(p->key, addrs[i], 16);
				p->pod = pod;
			}
			cst = p ? 0 : 2;
		} else {
			p = (struct eng_pod *)eng_tbl_find(&pods, addrs[i]);
			cst = p ? 0 : 1;
			if (p)
				cval = p->pod;
			if (p && cmd == FPGACTL_TCMD_DELETE)
				memset(p, 0, sizeof(*p));
		}
		if (p)
			way = (unsigned)(p - base);
		full += cst == 2;
		if ((st & FPGACTL_TST_RESULT) != cst || (cst == 0 && !!(st & FPGACTL_TST_WAY) != way) ||
		    (cst == 0 && cmd == FPGACTL_TCMD_LOOKUP && rd(FPGACTL_REG_TBL_VAL) != cval)) {
			if (bad++ < 5)
				printf("# op %u cmd %u: rtl status %#x, c %u way %u val %u\n", n, cmd, st, cst,
				       way, cval);
		}
	}
	{
		char msg[128];

		snprintf(msg, sizeof(msg), "table window == the engine's pods table (400 ops, %u full; %u differ)",
			 full, bad);
		tap(bad == 0 && full > 0, msg);
	}
	tap((tcmd(7, FPGACTL_TCMD_LOOKUP, addrs[0], 16, 0) & FPGACTL_TST_RESULT) == 3 &&
	    (tcmd(0, 9, addrs[0], 16, 0) & FPGACTL_TST_RESULT) == 3,
	    "a table or command that does not exist is refused");

	// queue 2: set up, doorbells, a turn
	wr(FPGACTL_REG_QSEL, 2);
	wr(FPGACTL_REG_Q_RQ_LO, 0x40001000);
	wr(FPGACTL_REG_Q_RQ_HI, 0x1);
	wr(FPGACTL_REG_Q_EQ_LO, 0x40003000);
	wr(FPGACTL_REG_Q_EQ_HI, 0);
	wr(FPGACTL_REG_Q_SIZES, 6 | 5 << 8);
	wr(FPGACTL_REG_Q_POD, 77);
	wr(FPGACTL_REG_Q_CMD, FPGACTL_QCMD_ENABLE);
	wr(FPGACTL_REG_DB + 8 * 2, 3);
	wr(FPGACTL_REG_DB + 8 * 2, 9);  // batched: one turn covers both
	wr(FPGACTL_REG_Q_CMD, FPGACTL_QCMD_READ);
	tap(rd(FPGACTL_REG_Q_RD_TAIL) == 9 && rd(FPGACTL_REG_Q_RD_HEAD) == 0 &&
	    rd(FPGACTL_REG_Q_RD_STATE) == FPGACTL_QS_ENABLED, "Q_CMD READ: the doorbell's tail");
	tap(!(rd(FPGACTL_REG_STATUS) & FPGACTL_ST_IDLE), "stopped: doorbells wait");
	{
		// running: the pipeline takes the turn and reads the 9 entries
		// through the DMA port (each a NOP: a zero line), writes 9
		// completions, then the RQ consumer line and the EQ producer line
		unsigned reads = 0, writes = 0, t;
		uint64_t first_rd = 0, first_wr = 0, last_wr[2] = { 0, 0 };
		uint32_t last_val[2] = { 0, 0 };
		bool pending = false;

		wr(FPGACTL_REG_CTL, FPGACTL_CTL_RUN);
		for (t = 0; t < 20000; t++) {
			top->clk = 0;
			top->dma_req_ready = 1;
			top->dma_rsp_valid = pending;
			top->dma_rsp_err = 0;
			for (unsigned i = 0; i < 16; i++)
				top->dma_rsp_data[i] = 0;
			pending = false;
			top->eval();
			if (top->dma_req_valid && !top->dma_req_we) {
				first_rd = reads++ ? first_rd : top->dma_req_addr;
				pending = true;
			} else if (top->dma_req_valid) {
				first_wr = writes++ ? first_wr : top->dma_req_addr;
				last_wr[0] = last_wr[1];
				last_val[0] = last_val[1];
				last_wr[1] = top->dma_req_addr;
				last_val[1] = top->dma_req_data[0];
			}
			top->clk = 1;
			top->eval();
			top->dma_rsp_valid = 0;
			if (writes == 11)
				break;
		}
		ok = reads == 9 && first_rd == 0x140001000ull + FPGACTL_RING_HDR &&
		     first_wr == 0x40003000ull + FPGACTL_RING_HDR && last_wr[0] == 0x140001000ull + 128 &&
		     last_val[0] == 9 && last_wr[1] == 0x40003000ull + 64 && last_val[1] == 9;
		if (!ok)
			printf("# %u reads (first %#llx), %u writes (first %#llx, last %#llx = %u, %#llx = %u)\n",
			       reads, (unsigned long long)first_rd, writes, (unsigned long long)first_wr,
			       (unsigned long long)last_wr[0], last_val[0], (unsigned long long)last_wr[1],
			       last_val[1]);
		tap(ok, "running: one turn for two doorbells: 9 entries read and completed through the DMA port, "
			"then one consumer and one producer line");
	}
	tick();  // the turn's end reaches the queue manager
	wr(FPGACTL_REG_Q_CMD, FPGACTL_QCMD_READ);
	tap((rd(FPGACTL_REG_STATUS) & FPGACTL_ST_IDLE) && rd(FPGACTL_REG_Q_RD_HEAD) == 9 &&
	    rd(FPGACTL_REG_Q_RD_PROD) == 9 && rd(FPGACTL_REG_CNT + 8 * FPGACTL_CNT_REQS) == 9 &&
	    rd(FPGACTL_REG_CNT + 8 * FPGACTL_CNT_EVENTS) == 9 &&
	    rd(FPGACTL_REG_CNT + 8 * FPGACTL_CNT_DMA_WR) == 11,
	    "the turn's end: idle, head and EQ producer read back, counters");

	wr(FPGACTL_REG_DB + 8 * 100, 1);  // queue 100 of 8
	tap((rd(FPGACTL_REG_STATUS) & FPGACTL_ST_DB_DROP) && rd(FPGACTL_REG_CNT + 8 * FPGACTL_CNT_DROPS) == 1,
	    "a doorbell past the engine: dropped, sticky status, counted");
	{
		uint32_t c0 = rd(FPGACTL_REG_CNT), c1 = rd(FPGACTL_REG_CNT);

		tap(c1 > c0, "the cycle counter runs");
	}

	// CTL.RESET: tables and queues cleared, the secret kept
	tcmd(FPGACTL_TBL_PODS, FPGACTL_TCMD_INSERT, addrs[1], 16, 5);
	wr(FPGACTL_REG_CTL, FPGACTL_CTL_RESET);
	ok = (rd(FPGACTL_REG_STATUS) & FPGACTL_ST_CFG_BUSY) != 0;  // clearing
	ok = ok && (tcmd(FPGACTL_TBL_PODS, FPGACTL_TCMD_LOOKUP, addrs[1], 16, 0) & FPGACTL_TST_RESULT) == 1;
	wr(FPGACTL_REG_Q_CMD, FPGACTL_QCMD_READ);
	ok = ok && rd(FPGACTL_REG_Q_RD_STATE) == 0 && !(rd(FPGACTL_REG_STATUS) & FPGACTL_ST_DB_DROP) &&
	     rd(FPGACTL_REG_SEED) == seed[0];
	tap(ok, "CTL.RESET clears tables, queues and status; keeps the secret");

	eng_tbl_free(&pods);
	top->final();
	delete top;
	printf("1..%d\n", n_test);
	return failed ? 1 : 0;
}
