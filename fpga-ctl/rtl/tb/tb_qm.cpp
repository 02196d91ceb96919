// SPDX-License-Identifier: Apache-2.0
//
// Differential test of the queue manager (hlf_qm) against the reference
// engine's scheduler (fpga-ctl/src/sched.c, running for real over memory
// whose request entries are all NOPs): a random stream of doorbells (good,
// past the ring, for queues never enabled or past the engine), turns,
// event queues consumed or left full (parking), queues re-enabled and
// disabled. At every step both hold the same per-queue head, tail and
// state; every turn takes the same queue with the same verdict; both drop
// the same doorbells. The RTL's turn ends carry the head the C engine
// reached (the engine's pipeline is not the queue manager's part).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>

#include "Vhlf_qm.h"
#include "verilated.h"

extern "C" {
#include "engine.h"
}

#define NQ 8u
#define SPAN 4096u
#define BASE 0x100000ull

static Vhlf_qm *top;
alignas(256) static uint8_t mem[NQ * 2 * SPAN];
static uint8_t *rq(unsigned q) { return mem + (size_t)q * 2 * SPAN; }
static uint8_t *eq(unsigned q) { return rq(q) + SPAN; }

static int mread(void *, uint64_t iova, void *line)
{
	if (iova < BASE || iova - BASE > sizeof(mem) - 64) {
		memset(line, 0xff, 64);
		return -EFAULT;
	}
	memcpy(line, mem + (iova - BASE), 64);
	return 0;
}

static int mwrite(void *, uint64_t iova, const void *line)
{
	if (iova < BASE || iova - BASE > sizeof(mem) - 64)
		return -EFAULT;
	memcpy(mem + (iova - BASE), line, 64);
	return 0;
}

static void tick()
{
	top->clk = 0;
	top->eval();
	top->clk = 1;
	top->eval();
}

static uint32_t *eq_cons(unsigned q) { return (uint32_t *)(void *)(eq(q) + 128); }
static uint32_t *eq_prod(unsigned q) { return (uint32_t *)(void *)(eq(q) + 64); }

static void enable(struct eng *e, unsigned q, unsigned rq_log, unsigned eq_log)
{
	memset(eq(q), 0, 256);
	eng_queue_enable(e, q, BASE + (uint64_t)(rq(q) - mem), BASE + (uint64_t)(eq(q) - mem), rq_log,
			 eq_log, q);
	top->cfg_valid = 1;
	top->cfg_enable = 1;
	top->cfg_q = q;
	top->cfg_log2 = rq_log;
	tick();
	top->cfg_valid = 0;
}

int main(int argc, char **argv)
{
	static struct eng e;
	const struct eng_geom g = { .nq = NQ, .n_pods = 8, .n_eps = 4, .pod_log2 = 1, .lsn_log2 = 1,
				    .pair_log2 = 1, .svc_log2 = 1, .pol_log2 = 1 };
	const struct eng_mem m = { .read = mread, .write = mwrite, .arg = nullptr };
	std::mt19937_64 rng(argc > 1 ? strtoull(argv[1], nullptr, 0) : 0x9e37u);
	unsigned steps = 100000, bad = 0, turns = 0, serve = 0, errs = 0, parks = 0, drops = 0;
	unsigned dbs = 0;
	int n_test = 0;

	Verilated::commandArgs(argc, argv);
	top = new Vhlf_qm;
	if (eng_init(&e, &g, &m)) {
		printf("not ok 1 - eng_init\n1..1\n");
		return 1;
	}
	e.run = true;
	top->rst = 1;
	tick();
	top->rst = 0;
	top->run = 1;
	enable(&e, 0, 1, 8);
	for (unsigned q = 1; q < 6; q++)
		enable(&e, q, 1 + (unsigned)(rng() % 4), 2);
	for (unsigned n = 0; n < steps && bad < 5; n++) {
		unsigned r = (unsigned)(rng() % 10), q;

		if (r < 4) {  // a doorbell
			uint32_t tail;

			q = (unsigned)(rng() % (NQ + 2));
			if (q < NQ) {
				uint32_t size = 1u << e.q[q].rq_log;

				tail = e.q[q].head + (uint32_t)(rng() % (size + 1));
				if (rng() % 25 == 0)
					tail = e.q[q].head + size + 1 + (uint32_t)(rng() % 5);
			} else {
				tail = (uint32_t)rng();
			}
			eng_doorbell(&e, q, tail);
			top->db_valid = 1;
			top->db_q = q;
			top->db_tail = tail;
			top->eval();
			drops += top->db_drop;
			tick();
			top->db_valid = 0;
			dbs++;
		} else if (r < 7) {  // a turn
			top->eval();
			if (!top->turn_valid) {
				if (!eng_idle(&e)) {
					printf("# step %u: rtl idle, c has queue %u scheduled\n", n,
					       e.fifo[e.fifo_head % NQ]);
					bad++;
				}
				continue;
			}
			q = e.fifo[e.fifo_head % NQ];
			if (eng_idle(&e) || q != top->turn_q) {
				printf("# step %u: rtl turn for queue %u, c for %d\n", n, top->turn_q,
				       eng_idle(&e) ? -1 : (int)q);
				bad++;
				continue;
			}
			{
				unsigned kind = top->turn_kind, c_kind = 0;
				uint32_t prod0 = *eq_prod(0);
				int served = eng_turn(&e);
				struct fpgactl_evt ev;

				if (*eq_prod(0) != prod0) {
					memcpy(&ev, eq(0) + 256 + (prod0 & 255) * 64, 64);
					if (ev.type == FPGACTL_EVT_ERROR && ev.queue == q)
						c_kind = ev.reason == FPGACTL_R_DOORBELL ? 2 : 1;
				}
				*eq_cons(0) = *eq_prod(0);
				if (kind != c_kind) {
					printf("# step %u: queue %u: rtl verdict %u, c %u (%d served)\n", n, q,
					       kind, c_kind, served);
					bad++;
				}
				top->turn_ready = 1;
				tick();
				top->turn_ready = 0;
				turns++;
				errs += kind != 0;
				if (kind == 0) {
					struct eng_queue *s = &e.q[q];
					bool park = s->head != s->tail && served < (int)FPGACTL_BUDGET &&
						    !(s->state & FPGACTL_QS_ERROR);

					serve++;
					parks += park;
					top->done_valid = 1;
					top->done_q = q;
					top->done_head = s->head;
					top->done_park = park;
					top->done_stop = 0;
					tick();
					top->done_valid = 0;
				}
			}
		} else if (r == 7) {  // a process takes its events
			q = 1 + (unsigned)(rng() % 5);
			*eq_cons(q) = *eq_prod(q);
		} else if (r == 8) {  // a queue set up again (a stopped one restarts)
			q = 1 + (unsigned)(rng() % (NQ - 1));
			if (rng() % 4 == 0)
				enable(&e, q, 1 + (unsigned)(rng() % 4), 2);
		} else if (rng() % 8 == 0) {  // a queue disabled
			q = 1 + (unsigned)(rng() % (NQ - 1));
			eng_queue_disable(&e, q);
			top->cfg_valid = 1;
			top->cfg_enable = 0;
			top->cfg_q = q;
			tick();
			top->cfg_valid = 0;
		}
		for (q = 0; q < NQ; q++) {
			unsigned st = e.q[q].state;

			top->rd_q = q;
			top->eval();
			if (top->rd_head != e.q[q].head || top->rd_tail != e.q[q].tail ||
			    top->rd_state != ((st & FPGACTL_QS_ENABLED ? 1u : 0u) |
					      (st & FPGACTL_QS_ERROR ? 2u : 0u))) {
				printf("# step %u: queue %u: rtl head %u tail %u state %u, c %u %u %#x\n", n, q,
				       top->rd_head, top->rd_tail, top->rd_state, e.q[q].head, e.q[q].tail,
				       st);
				bad++;
				break;
			}
		}
	}
	printf("%s %d - hlf_qm == sched.c over %u steps (%u doorbells, %u turns: %u served, %u parked, "
	       "%u refused)\n", bad ? "not ok" : "ok", ++n_test, steps, dbs, turns, serve, parks, errs);
	printf("%s %d - the same doorbells dropped (rtl %u, c %lu)\n",
	       drops == e.cnt[FPGACTL_CNT_DROPS] && drops > 0 ? "ok" : "not ok", ++n_test, drops,
	       (unsigned long)e.cnt[FPGACTL_CNT_DROPS]);
	printf("%s %d - every kind of turn happened\n", serve && parks && errs ? "ok" : "not ok", ++n_test);
	eng_fini(&e);
	top->final();
	delete top;
	printf("1..%d\n", n_test);
	return 0;
}
