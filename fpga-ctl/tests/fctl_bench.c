/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fctl-bench: the capacity of the software engine on one core, as the
 * monitor would drive it (hack/bench.d/60-engine.sh). N client queues
 * (one per client process), each with a server queue of its own (a pod
 * listening on a port of its own) and a pair region programmed
 * (PAIR_SET, 32 slots); each client's request ring is pre-filled with
 * CONNECT/CLOSE pairs. Timed: the engine serving every queue in turns,
 * and the software side of the same core doing what the monitor does for
 * it: reading the events (the completions, the accepts, the forwarded
 * CLOSEs) and, for each CLOSE, a SLOT_FREE and a POST through the admin
 * queue. Prints client requests/s (CONNECT + CLOSE) and engine
 * requests/s (those and the admin queue's) per wall-clock second, and
 * client requests per second of this thread's CPU time (what one core
 * gives when the machine's other work leaves it alone), the median of
 * ROUNDS runs.
 *
 *   fctl-bench N [PAIRS [ROUNDS]]
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "fpgactl.h"

#define CQ_LOG2 14u     /* a client's request and event rings: 16384 entries */
#define AQ_LOG2 15u     /* the admin queue */

struct q {
	void *rq, *eq;
	unsigned log2;
	uint32_t used;      /* client: slots its completions named, not yet freed */
	uint32_t sent, end; /* client: doorbelled up to, filled up to */
};

/* A client rings its doorbell for PACE more requests once the engine has
 * taken the last ones: a process that submits as it goes, so that its
 * pair's 32 slots are freed (by the admin queue's SLOT_FREEs) as fast as
 * its CONNECTs take them. */
#define PACE 8u

static struct fpgactl *f;
static uint8_t *mem;
static size_t mem_used, mem_size;
static uint64_t iova0;

static void *take(size_t bytes)
{
	void *p = mem + mem_used;

	mem_used += (bytes + 4095) & ~(size_t)4095;
	if (mem_used > mem_size) {
		fprintf(stderr, "fctl-bench: out of ring memory\n");
		exit(1);
	}
	return p;
}

static void qinit(struct q *q, unsigned id, unsigned log2, unsigned pod)
{
	q->log2 = log2;
	q->rq = take(fpgactl_ring_bytes(log2));
	q->eq = take(fpgactl_ring_bytes(log2));
	fpgactl_ring_init(q->rq, log2);
	fpgactl_ring_init(q->eq, log2);
	if (fpgactl_queue_enable(f, id, &(struct fpgactl_queue_cfg){
			.rq_iova = iova0 + (uint64_t)((uint8_t *)q->rq - mem),
			.eq_iova = iova0 + (uint64_t)((uint8_t *)q->eq - mem),
			.rq_log2 = log2, .eq_log2 = log2, .pod = pod })) {
		fprintf(stderr, "fctl-bench: queue %u\n", id);
		exit(1);
	}
}

static struct q admin;

static void admin_push(const struct fpgactl_req *r, unsigned n)
{
	if (fpgactl_rq_push(admin.rq, AQ_LOG2, r, n) != n) {
		fprintf(stderr, "fctl-bench: admin queue full\n");
		exit(1);
	}
}

static void admin_sync(void)
{
	struct fpgactl_evt ev[64];
	int k;

	fpgactl_doorbell(f, 0, fpgactl_rq_tail(admin.rq));
	fpgactl_wait_idle(f, 1000);
	while ((k = fpgactl_eq_pop(admin.eq, AQ_LOG2, ev, 64)) > 0)
		for (int i = 0; i < k; i++)
			if (ev[i].type == FPGACTL_EVT_CPL && ev[i].status) {
				fprintf(stderr, "fctl-bench: set-up write %u: %d\n", ev[i].op, ev[i].status);
				exit(1);
			}
}

static double now(clockid_t clk)
{
	struct timespec t;

	clock_gettime(clk, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	unsigned n = argc > 1 ? (unsigned)atoi(argv[1]) : 1;
	unsigned pairs = argc > 2 ? (unsigned)atoi(argv[2]) : 4096;
	unsigned rounds = argc > 3 ? (unsigned)atoi(argv[3]) : 5;
	struct q *cl, *sv;
	uint8_t caddr[16], saddr[16];
	double *rate, *erate, *crate;
	int fd;

	if (!n || n > 256 || !pairs || pairs > (1u << CQ_LOG2) / 2 || !rounds || rounds > 101) {
		fprintf(stderr, "usage: fctl-bench N(1-256) [PAIRS(1-%u) [ROUNDS]]\n", (1u << CQ_LOG2) / 2);
		return 2;
	}
	f = fpgactl_open(NULL);
	if (!f) {
		perror("fctl-bench: fpgactl_open");
		return 1;
	}
	mem_size = (size_t)(4 * n + 2) * (fpgactl_ring_bytes(CQ_LOG2) + 4096) + 4 * fpgactl_ring_bytes(AQ_LOG2);
	mem_size = (mem_size + (2u << 20) - 1) & ~(size_t)((2u << 20) - 1);
	fd = memfd_create("fctl-bench", MFD_CLOEXEC);
	if (fd < 0 || ftruncate(fd, (off_t)mem_size) ||
	    (mem = mmap(NULL, mem_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, 0)) == MAP_FAILED ||
	    fpgactl_mem_map(f, fd, mem, mem_size, &iova0)) {
		perror("fctl-bench: ring memory");
		return 1;
	}
	cl = calloc(n, sizeof(*cl));
	sv = calloc(n, sizeof(*sv));
	rate = calloc(rounds, sizeof(*rate));
	erate = calloc(rounds, sizeof(*erate));
	crate = calloc(rounds, sizeof(*crate));
	if (!cl || !sv || !rate || !erate || !crate)
		return 1;
	qinit(&admin, 0, AQ_LOG2, 0);
	fpgactl_run(f, true);
	/* pods: the clients' (pod 1, 10.0.0.1) and the servers' (pod 2, 10.0.0.2) */
	fpgactl_addr_v4(caddr, htobe32(0x0a000001));
	fpgactl_addr_v4(saddr, htobe32(0x0a000002));
	{
		struct fpgactl_req w[2];

		fpgactl_tw_pod(&w[0], 1, caddr, 1, false);
		fpgactl_tw_pod(&w[1], 2, saddr, 2, false);
		admin_push(w, 2);
		admin_sync();
	}
	for (unsigned i = 0; i < n; i++) {
		struct fpgactl_req r = { .op = FPGACTL_OP_LISTEN, .port = (uint16_t)(1000 + i) }, w;

		qinit(&cl[i], 1 + i, CQ_LOG2, 1);
		qinit(&sv[i], 1 + n + i, CQ_LOG2, 2);
		fpgactl_rq_push(sv[i].rq, CQ_LOG2, &r, 1);
		fpgactl_doorbell(f, 1 + n + i, fpgactl_rq_tail(sv[i].rq));
		fpgactl_tw_pair(&w, 3, 1 + i, 1 + n + i, 100 + i, 0xffffffffu, false);
		admin_push(&w, 1);
		admin_sync();
		{
			struct fpgactl_evt ev;

			if (fpgactl_eq_pop(sv[i].eq, CQ_LOG2, &ev, 1) != 1 || ev.status) {
				fprintf(stderr, "fctl-bench: LISTEN %u\n", i);
				return 1;
			}
		}
	}
	for (unsigned rd = 0; rd < rounds; rd++) {
		uint64_t c0[FPGACTL_CNT_N], c1[FPGACTL_CNT_N], done = 0, total = (uint64_t)n * pairs * 2;
		double t0, t1, u0, u1;

		/* the clients' rings, filled before the clock starts */
		for (unsigned i = 0; i < n; i++) {
			struct fpgactl_req r[2] = {
				{ .op = FPGACTL_OP_CONNECT, .port = (uint16_t)(1000 + i), .lport = 40000 },
				{ .op = FPGACTL_OP_CLOSE, .val = 100 + i },
			};

			memcpy(r[0].addr, saddr, 16);
			memcpy(r[0].src, caddr, 16);
			for (unsigned p = 0; p < pairs; p++) {
				r[0].tag = 2 * p;
				r[1].tag = 2 * p + 1;
				fpgactl_rq_push(cl[i].rq, CQ_LOG2, r, 2);
			}
		}
		for (unsigned i = 0; i < n; i++) {
			cl[i].end = fpgactl_rq_tail(cl[i].rq);
			cl[i].sent = cl[i].end - 2 * pairs;
		}
		fpgactl_counters(f, c0);
		u0 = now(CLOCK_THREAD_CPUTIME_ID);
		t0 = now(CLOCK_MONOTONIC);
		while (done < total) {
			struct fpgactl_evt ev[64];
			bool adm = false;
			int k;

			for (unsigned i = 0; i < n; i++) {
				const struct fpgactl_ring_hdr *h = cl[i].rq;
				uint32_t cons = __atomic_load_n(&h->cons, __ATOMIC_ACQUIRE);

				if (cons == cl[i].sent && cl[i].sent != cl[i].end) {
					cl[i].sent += cl[i].end - cl[i].sent < PACE ? cl[i].end - cl[i].sent : PACE;
					fpgactl_doorbell(f, 1 + i, cl[i].sent);
				}
			}
			/* a turn each for the clients, the rest for the admin queue */
			if (fpgactl_service(f, 2 * n + 4) < 0)
				return 1;
			for (unsigned i = 0; i < n; i++) {
				while ((k = fpgactl_eq_pop(cl[i].eq, CQ_LOG2, ev, 64)) > 0)
					for (int j = 0; j < k; j++) {
						if (ev[j].status) {
							fprintf(stderr, "fctl-bench: op %u: %d reason %u\n", ev[j].op,
								ev[j].status, ev[j].reason);
							return 1;
						}
						if (ev[j].op == FPGACTL_OP_CONNECT)
							cl[i].used |= 1u << ev[j].slot;
						done++;
					}
				while (fpgactl_eq_pop(sv[i].eq, CQ_LOG2, ev, 64) > 0)
					;  /* the accepts: read as a server's process would */
			}
			/* the forwarded CLOSEs: a slot of that pair free again
			 * and the completion posted, as the monitor does */
			while ((k = fpgactl_eq_pop(admin.eq, AQ_LOG2, ev, 64)) > 0)
				for (int j = 0; j < k; j++) {
					struct fpgactl_req w[2];
					unsigned c = ev[j].queue - 1, slot;

					if (ev[j].type != FPGACTL_EVT_FWD)
						continue;
					if (c >= n || !cl[c].used) {
						fprintf(stderr, "fctl-bench: CLOSE without a slot\n");
						return 1;
					}
					slot = (unsigned)__builtin_ctz(cl[c].used);
					cl[c].used &= ~(1u << slot);
					fpgactl_tw_slot_free(&w[0], 0, 1 + c, 1 + n + c, 100 + c, slot);
					fpgactl_tw_post(&w[1], ev[j].tag, 1 + c, FPGACTL_OP_CLOSE, 0, 0);
					admin_push(w, 2);
					adm = true;
				}
			if (adm)
				fpgactl_doorbell(f, 0, fpgactl_rq_tail(admin.rq));
		}
		t1 = now(CLOCK_MONOTONIC);
		u1 = now(CLOCK_THREAD_CPUTIME_ID);
		fpgactl_counters(f, c1);
		rate[rd] = (double)total / (t1 - t0);
		crate[rd] = (double)total / (u1 - u0);
		erate[rd] = (double)(c1[FPGACTL_CNT_REQS] - c0[FPGACTL_CNT_REQS]) / (t1 - t0);
	}
	qsort(rate, rounds, sizeof(*rate), cmp_d);
	qsort(erate, rounds, sizeof(*erate), cmp_d);
	qsort(crate, rounds, sizeof(*crate), cmp_d);
	printf("clients %u pairs %u rounds %u client_req_per_s %.0f engine_req_per_s %.0f "
	       "client_req_per_cpu_s %.0f\n", n, pairs, rounds, rate[rounds / 2], erate[rounds / 2],
	       crate[rounds / 2]);
	fpgactl_close(f);
	munmap(mem, mem_size);
	close(fd);
	free(cl);
	free(sv);
	free(rate);
	free(erate);
	free(crate);
	return 0;
}
