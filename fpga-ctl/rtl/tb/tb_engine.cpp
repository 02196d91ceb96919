// SPDX-License-Identifier: Apache-2.0
//
// The request pipeline against the reference engine over whole request
// streams: hlf_top (register file, queue manager, pipeline, tables) driven
// through its BAR port with its DMA port served from one memory image, and
// the software engine (engine.c, sched.c, table.c, hash.c, linked in) over
// another. Both get the same set-up, the same request entries in their
// RQs and the same doorbells; after every round (both run until idle) the
// two images must be identical byte for byte (events, completions, RQ
// consumer and EQ producer lines), and at the end the counters and every
// queue's head, tail, EQ producer and state. The stream mixes admin table
// writes, LISTEN/UNLISTEN/CONNECT/CLOSE, REQ_F_AS resubmissions, POSTs,
// hostile entries (random bytes, used reserved fields, table writes from
// pod queues), doorbells past the ring or past the engine, queues
// disabled and re-enabled, event queues left full or given a lying
// consumer index, RQ memory nobody mapped, and CTL.RESET every 400 rounds
// (then a new set-up).
//
// Usage: tb [requests [fmax_mhz]] (default 20000). Prints TAP, and the
// pipeline's cycles per request (the BUSY counter over REQS), with the
// requests/s they project to at fmax_mhz when given (a projection from
// synthesis figures, not a measurement).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <vector>

#include "Vhlf_top.h"
#include "verilated.h"

extern "C" {
#include "engine.h"
}

enum { NQ = 8, N_EPS = 64, N_PODS = 4096 };
static const uint64_t MEM_BASE = 0x10000, MEM_SIZE = 0x40000;
static const uint64_t BAD_RQ = 0x900000;  // nobody mapped it

static Vhlf_top *top;
static int n_test, failed;
static std::mt19937_64 rng(0xe4e);
static uint64_t cycles;

// ---- the two memory images ----
struct image {
	std::vector<uint8_t> m = std::vector<uint8_t>(MEM_SIZE);
	uint8_t *at(uint64_t iova) { return iova >= MEM_BASE && iova + 64 <= MEM_BASE + MEM_SIZE ? &m[iova - MEM_BASE] : nullptr; }
};
static image hw, sw;

static int sw_read(void *, uint64_t iova, void *line)
{
	uint8_t *p = sw.at(iova);

	if (!p) {
		memset(line, 0xff, 64);
		return -EFAULT;
	}
	memcpy(line, p, 64);
	return 0;
}

static int sw_write(void *, uint64_t iova, const void *line)
{
	uint8_t *p = sw.at(iova);

	if (!p)
		return -EFAULT;
	memcpy(p, line, 64);
	return 0;
}

// ---- the device: a clock edge with its DMA port served ----
static unsigned rd_wait;      // cycles until the pending read answers (0: none)
static uint64_t rd_addr;

static void tick()
{
	top->clk = 0;
	top->dma_req_ready = (rng() & 7) != 0;  // the port stalls now and then
	top->dma_rsp_valid = rd_wait == 1;
	if (rd_wait == 1) {
		uint8_t *p = hw.at(rd_addr);

		top->dma_rsp_err = !p;
		for (unsigned i = 0; i < 16; i++) {
			uint32_t w = 0xffffffffu;

			if (p)
				memcpy(&w, p + 4 * i, 4);
			top->dma_rsp_data[i] = w;
		}
	}
	if (rd_wait)
		rd_wait--;
	top->eval();
	if (top->dma_req_valid && top->dma_req_ready) {
		if (top->dma_req_we) {
			uint8_t *p = hw.at(top->dma_req_addr);

			if (p)
				for (unsigned i = 0; i < 16; i++)
					memcpy(p + 4 * i, &top->dma_req_data[i], 4);
		} else {
			rd_addr = top->dma_req_addr;
			rd_wait = 1 + (unsigned)(rng() % 3);  // answered 1..3 cycles later
		}
	}
	top->clk = 1;
	top->eval();
	cycles++;
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

static uint64_t rd64(uint32_t a)
{
	uint64_t lo = rd(a);

	return lo | (uint64_t)rd(a + 4) << 32;
}

static void tap(bool ok, const char *what)
{
	printf("%s %d - %s\n", ok ? "ok" : "not ok", ++n_test, what);
	failed += !ok;
}

// ---- queues, as the driver and the processes see them ----
struct qinfo {
	uint64_t rq, eq;
	unsigned rq_log, eq_log, pod;
	uint32_t tail;       // entries the process wrote
	uint32_t eq_cons;    // the consumer index it wrote (or a lie)
	uint32_t seen;       // events it read
};
static qinfo qs[NQ];
static struct eng e;

static uint64_t rq_of(unsigned q) { return MEM_BASE + (uint64_t)q * 0x8000; }

static void q_enable(unsigned q, bool bad_rq)
{
	qinfo &s = qs[q];

	s.rq = bad_rq ? BAD_RQ : rq_of(q);
	s.eq = rq_of(q) + 0x4000;
	s.rq_log = 3 + (unsigned)(rng() % 3);
	s.eq_log = q == 0 ? 6 : 2 + (unsigned)(rng() % 4);
	s.pod = q == 0 ? 7 : q - 1;
	s.tail = s.eq_cons = s.seen = 0;
	for (image *im : { &hw, &sw }) {
		memset(im->at(rq_of(q)), 0, 0x8000);
	}
	wr(FPGACTL_REG_QSEL, q);
	wr(FPGACTL_REG_Q_RQ_LO, (uint32_t)s.rq);
	wr(FPGACTL_REG_Q_RQ_HI, (uint32_t)(s.rq >> 32));
	wr(FPGACTL_REG_Q_EQ_LO, (uint32_t)s.eq);
	wr(FPGACTL_REG_Q_EQ_HI, (uint32_t)(s.eq >> 32));
	wr(FPGACTL_REG_Q_SIZES, s.rq_log | s.eq_log << 8);
	wr(FPGACTL_REG_Q_POD, s.pod);
	wr(FPGACTL_REG_Q_FLAGS, q == 0);
	wr(FPGACTL_REG_Q_CMD, FPGACTL_QCMD_ENABLE);
	eng_queue_enable(&e, q, s.rq, s.eq, s.rq_log, s.eq_log, s.pod);
}

static void q_disable(unsigned q)
{
	wr(FPGACTL_REG_QSEL, q);
	wr(FPGACTL_REG_Q_CMD, FPGACTL_QCMD_DISABLE);
	eng_queue_disable(&e, q);
}

static void doorbell(unsigned q, uint32_t tail)
{
	wr(FPGACTL_REG_DB + 8 * q, tail);
	eng_doorbell(&e, q, tail);
}

static void put32(image &im, uint64_t iova, uint32_t v)
{
	uint8_t *p = im.at(iova & ~63ull);

	memset(p, 0, 64);
	memcpy(p, &v, 4);
}

static uint32_t get32(image &im, uint64_t iova)
{
	uint32_t v;

	memcpy(&v, im.at(iova), 4);
	return v;
}

// runs both until idle; false when the device does not get there
static bool drain()
{
	while (eng_turn(&e) != -EAGAIN)
		;
	for (unsigned i = 0; i < 200000; i++) {
		for (unsigned k = 0; k < 7; k++)
			tick();
		if (rd(FPGACTL_REG_STATUS) & FPGACTL_ST_IDLE)
			return true;
	}
	return false;
}

static bool same_memory(unsigned round)
{
	for (uint64_t off = 0; off < MEM_SIZE; off += 64)
		if (memcmp(&hw.m[off], &sw.m[off], 64)) {
			printf("# round %u: line %#llx differs\n#  rtl:", round,
			       (unsigned long long)(MEM_BASE + off));
			for (unsigned i = 0; i < 64; i++)
				printf(" %02x", hw.m[off + i]);
			printf("\n#  c:  ");
			for (unsigned i = 0; i < 64; i++)
				printf(" %02x", sw.m[off + i]);
			printf("\n");
			return false;
		}
	return true;
}

#include "tb_engine_gen.h"

int main(int argc, char **argv)
{
	unsigned long target = argc > 1 ? strtoul(argv[1], nullptr, 0) : 20000;
	struct eng_geom g = { NQ, N_PODS, N_EPS, 4, 4, 5, 2, 3 };  // module.mk's RTL_ENG_GEOM
	struct eng_mem m = { sw_read, sw_write, nullptr };
	uint32_t seed[FPGACTL_SEED_WORDS];
	unsigned round = 0;
	unsigned long pushed = 0;
	bool ok = true;

	Verilated::commandArgs(1, argv);
	if (eng_init(&e, &g, &m)) {
		printf("not ok 1 - eng_init\n1..1\n");
		return 1;
	}
	top = new Vhlf_top;
	top->rst = 1;
	tick();
	top->rst = 0;
	while (rd(FPGACTL_REG_STATUS) & FPGACTL_ST_CFG_BUSY)  // tables and arrays clear
		;
	for (unsigned i = 0; i < FPGACTL_SEED_WORDS; i++) {
		seed[i] = (uint32_t)rng();
		wr(FPGACTL_REG_SEED + 4 * i, seed[i]);
	}
	eng_hash_seed(&e, seed);
	for (unsigned q = 0; q < NQ; q++)
		q_enable(q, false);
	wr(FPGACTL_REG_CTL, FPGACTL_CTL_RUN);
	e.run = true;
	gen_world();
	{
		uint64_t busy = 0, reqs = 0, cyc0 = cycles, resets = 0;

		while (pushed < target && ok) {
			pushed += gen_round(round);
			if (!drain()) {
				printf("# round %u: the device is not idle\n", round);
				ok = false;
				break;
			}
			if (!same_memory(round))
				ok = false;
			consume();
			round++;
			if (round % 400 == 0 && pushed < target && ok) {
				// CTL.RESET on both (the tables fill with what the
				// stream wrote), then a new set-up
				busy += rd64(FPGACTL_REG_CNT + 8 * FPGACTL_CNT_BUSY);
				reqs += rd64(FPGACTL_REG_CNT + 8 * FPGACTL_CNT_REQS);
				wr(FPGACTL_REG_CTL, FPGACTL_CTL_RUN | FPGACTL_CTL_RESET);
				eng_reset(&e);
				while (rd(FPGACTL_REG_STATUS) & FPGACTL_ST_CFG_BUSY)
					;
				for (unsigned q = 0; q < NQ; q++)
					q_enable(q, false);
				gen_world();
				resets++;
			}
		}
		busy += rd64(FPGACTL_REG_CNT + 8 * FPGACTL_CNT_BUSY);
		reqs += rd64(FPGACTL_REG_CNT + 8 * FPGACTL_CNT_REQS);
		tap(ok, "identical memory (events, completions, index lines) after every round");
		{
			static const char *names[] = { "CYCLES", "BUSY", "REQS", "EVENTS", "DMA_RD", "DMA_WR",
						       "ERRORS", "MISSES", "DROPS" };
			bool cok = true;

			for (unsigned i = FPGACTL_CNT_REQS; i < FPGACTL_CNT_N; i++) {
				uint64_t v = rd64(FPGACTL_REG_CNT + 8 * i);

				if (v != e.cnt[i]) {
					printf("# counter %s: rtl %llu, c %llu\n", names[i], (unsigned long long)v,
					       (unsigned long long)e.cnt[i]);
					cok = false;
				}
			}
			tap(cok, "counters: requests, events, DMA reads and writes, errors, misses, drops");
		}
		{
			bool qok = true;

			for (unsigned q = 0; q < NQ; q++) {
				uint32_t st;

				wr(FPGACTL_REG_QSEL, q);
				wr(FPGACTL_REG_Q_CMD, FPGACTL_QCMD_READ);
				st = rd(FPGACTL_REG_Q_RD_STATE);
				if (rd(FPGACTL_REG_Q_RD_HEAD) != e.q[q].head || rd(FPGACTL_REG_Q_RD_TAIL) != e.q[q].tail ||
				    rd(FPGACTL_REG_Q_RD_PROD) != e.q[q].prod || st != e.q[q].state) {
					printf("# queue %u: rtl state %#x, c head %u tail %u prod %u state %#x\n", q, st,
					       e.q[q].head, e.q[q].tail, e.q[q].prod, e.q[q].state);
					qok = false;
				}
			}
			tap(qok, "every queue's head, tail, EQ producer and state");
		}
		{
			char msg[200];

			snprintf(msg, sizeof(msg), "%llu requests in %u rounds, %llu resets (%llu ACCEPT, %llu MISS, %llu FWD)",
				 (unsigned long long)reqs, round, (unsigned long long)resets,
				 (unsigned long long)n_type[FPGACTL_EVT_ACCEPT], (unsigned long long)n_type[FPGACTL_EVT_MISS],
				 (unsigned long long)n_type[FPGACTL_EVT_FWD]);
			tap(reqs >= target / 2 && stats_ok(), msg);
			print_stats();
			printf("# pipeline: %.2f busy cycles per request (%llu busy of %llu simulated cycles)\n",
			       reqs ? (double)busy / (double)reqs : 0.0, (unsigned long long)busy,
			       (unsigned long long)(cycles - cyc0));
			if (argc > 2 && reqs && busy)
				printf("# projection (not a measurement): at %s MHz, %.2f M requests/s\n", argv[2],
				       strtod(argv[2], nullptr) * (double)reqs / (double)busy);
		}
	}
	top->final();
	delete top;
	eng_fini(&e);
	printf("1..%d\n", n_test);
	return failed ? 1 : 0;
}
