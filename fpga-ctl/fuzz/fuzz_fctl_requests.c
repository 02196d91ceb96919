/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer: the reference engine serving what hostile pods write. Three
 * pod queues (and the admin queue, with a few tables loaded) over memory
 * the harness owns; the input is a list of actions:
 *   [0][q][64 bytes]   a raw request entry pushed to queue q's RQ
 *   [1][q][le32 tail]  a doorbell, any queue number, any tail
 *   [2][q][le32 cons]  queue q's EQ consumer index overwritten (a lie)
 *   [3][q]             queue q's events consumed
 * the engine running a few turns after each. Every memory write the
 * engine makes is checked: an EQ entry must parse (fpgactl_evt_parse()),
 * index lines only where indices live, nothing into a ring header's
 * first line or a request queue's entries, nothing outside the rings.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "fpgactl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NQ 4u
#define LOG2 3u
#define SPAN 4096u              /* per ring */
#define BASE 0x100000ull        /* the IOVA of mem[0] */

static _Alignas(256) uint8_t mem[NQ * 2 * SPAN];

static uint8_t *rq(unsigned q) { return mem + (size_t)q * 2 * SPAN; }
static uint8_t *eq(unsigned q) { return rq(q) + SPAN; }

static int mread(void *arg, uint64_t iova, void *line)
{
	(void)arg;
	if (iova < BASE || iova - BASE > sizeof(mem) - 64) {
		memset(line, 0xff, 64);
		return -EFAULT;
	}
	memcpy(line, mem + (iova - BASE), 64);
	return 0;
}

static int mwrite(void *arg, uint64_t iova, const void *line)
{
	uint64_t off = iova - BASE, in;
	struct fpgactl_evt ev;

	(void)arg;
	if (iova < BASE || off > sizeof(mem) - 64 || (off & 63))
		abort();  /* outside the rings, or not a line */
	in = off % SPAN;
	if ((off / SPAN) % 2 == 0) {
		if (in != 128)
			abort();  /* an RQ: only its consumer line */
	} else if (in == 0 || in == 128 || in == 192) {
		abort();      /* an EQ: never its set-up, consumer or reserved line */
	} else if (in >= FPGACTL_RING_HDR && fpgactl_evt_parse(line, &ev)) {
		abort();      /* an event the process would refuse */
	}
	memcpy(mem + off, line, 64);
	return 0;
}

static void ip(uint8_t a[16], unsigned host)
{
	memset(a, 0, 16);
	a[10] = a[11] = 0xff;
	a[12] = 10;
	a[15] = (uint8_t)host;
}

static void admin(struct eng *e, struct fpgactl_req *r, unsigned n)
{
	struct fpgactl_ring_hdr *h = (void *)rq(0);

	fpgactl_rq_push(rq(0), LOG2, r, n);
	eng_doorbell(e, 0, h->prod);
	while (eng_turn(e) >= 0)
		;
	((struct fpgactl_ring_hdr *)eq(0))->cons = ((struct fpgactl_ring_hdr *)eq(0))->prod;
}

static void setup(struct eng *e)
{
	static const uint32_t seed[FPGACTL_SEED_WORDS] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	struct fpgactl_req r[8];
	uint8_t a[16];

	for (unsigned q = 0; q < NQ; q++) {
		fpgactl_ring_init(rq(q), LOG2);
		fpgactl_ring_init(eq(q), LOG2);
		eng_queue_enable(e, q, BASE + (uint64_t)(rq(q) - mem), BASE + (uint64_t)(eq(q) - mem),
				 LOG2, LOG2, q);
	}
	e->run = true;
	eng_hash_seed(e, seed);
	for (unsigned p = 1; p < NQ; p++) {
		ip(a, p);
		fpgactl_tw_pod(&r[p - 1], p, a, p, false);
	}
	fpgactl_tw_pair(&r[3], 4, 2, 1, 21, 0xf, false);
	fpgactl_tw_pair(&r[4], 5, 3, 1, 31, 0x1, false);
	ip(a, 1);
	fpgactl_tw_ep(&r[5], 6, 0, a, 80, true);
	ip(a, 200);
	a[0] = 0xfd;
	fpgactl_tw_svc(&r[6], 7, a, 80, 0, 1, false, false);
	fpgactl_tw_pol(&r[7], 8, 3, 1, 0, FPGACTL_POL_ALLOW, false);
	admin(e, r, 8);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct eng_geom g = { .nq = NQ, .n_pods = 8, .n_eps = 4, .pod_log2 = 2,
					   .lsn_log2 = 2, .pair_log2 = 2, .svc_log2 = 1, .pol_log2 = 2 };
	static const struct eng_mem m = { .read = mread, .write = mwrite };
	static struct eng e;
	static bool ready;
	size_t i = 0;

	/* one engine for the whole run, reset (as CTL.RESET does) per input */
	if (!ready && eng_init(&e, &g, &m))
		return 0;
	ready = true;
	eng_reset(&e);
	memset(mem, 0, sizeof(mem));
	setup(&e);
	while (i + 2 <= size) {
		unsigned act = data[i] % 4, q = data[i + 1];
		struct fpgactl_ring_hdr *h;
		uint32_t v = 0;

		i += 2;
		if (act == 0) {
			struct fpgactl_req r;

			if (size - i < sizeof(r))
				break;
			memcpy(&r, data + i, sizeof(r));
			i += sizeof(r);
			q = 1 + q % (NQ - 1);
			h = (void *)rq(q);
			fpgactl_rq_push(rq(q), LOG2, &r, 1);
			eng_doorbell(&e, q, h->prod);
		} else if (act == 1 || act == 2) {
			if (size - i < 4)
				break;
			memcpy(&v, data + i, 4);
			i += 4;
			if (act == 1)
				eng_doorbell(&e, q % (NQ + 2), v);
			else
				((struct fpgactl_ring_hdr *)eq(q % NQ))->cons = v;
		} else {
			struct fpgactl_evt ev[8];

			fpgactl_eq_pop(eq(q % NQ), LOG2, ev, 8);
		}
		for (unsigned t = 0; t < 4 && eng_turn(&e) >= 0; t++)
			;
	}
	while (eng_turn(&e) >= 0)
		;
	return 0;
}
