// SPDX-License-Identifier: Apache-2.0
//
// tb_engine's request streams: the world (pod and Service addresses,
// ports), the admin set-up, random rounds of requests from pod queues and
// the admin queue (well-formed and hostile), doorbells, queue faults, and
// the processes consuming (or not) their event queues. Included once by
// tb_engine.cpp.

static uint8_t podaddr[8][16], svcaddr[3][16];
static const uint16_t ports[] = { 80, 81, 443, 8080 };
static uint64_t n_type[8], n_reason[32];

static void v4(uint8_t *a, uint8_t x, uint8_t y)
{
	memset(a, 0, 16);
	a[10] = a[11] = 0xff;
	a[12] = 10;
	a[13] = x;
	a[15] = y;
}

static unsigned rnd(unsigned n) { return (unsigned)(rng() % n); }
static bool pct(unsigned p) { return rnd(100) < p; }
static uint16_t pick_port() { return pct(95) ? ports[rnd(4)] : (uint16_t)rng(); }

static void rand_addr(uint8_t *a)
{
	for (unsigned i = 0; i < 16; i++)
		a[i] = (uint8_t)rng();
}

static void pick_dst(uint8_t *a)
{
	unsigned c = rnd(100);

	if (c < 70)
		memcpy(a, podaddr[rnd(7)], 16);
	else if (c < 90)
		memcpy(a, svcaddr[rnd(3)], 16);
	else if (c < 95)
		rand_addr(a);
	else
		memset(a, 0, 16);
}

// a request a process would send (or a hostile one) from queue q
static void gen_proc(fpgactl_req &r, unsigned q)
{
	unsigned c = rnd(100), pod = q ? q - 1 : 7;

	memset(&r, 0, sizeof(r));
	r.tag = (uint32_t)rng();
	if (c < 45) {
		r.op = FPGACTL_OP_CONNECT;
		pick_dst(r.addr);
		r.port = pct(80) ? ports[rnd(2)] : pick_port();
		memcpy(r.src, podaddr[pct(95) ? pod % 8 : rnd(8)], 16);
		r.lport = (uint16_t)rng();
	} else if (c < 62) {
		static const uint8_t fl[] = { 0, 0, 0, FPGACTL_LSN_SHARED, FPGACTL_LSN_REUSEPORT,
					      FPGACTL_LSN_V6ONLY, FPGACTL_LSN_V6ONLY | FPGACTL_LSN_SHARED };
		unsigned a = rnd(4);

		r.op = FPGACTL_OP_LISTEN;
		r.port = pct(70) ? ports[rnd(2)] : pick_port();
		r.flags = pct(95) ? fl[rnd(sizeof(fl))] : (uint8_t)rnd(256);
		if (a == 1)
			v4(r.addr, 0, 0);
		else if (a == 2)
			memcpy(r.addr, podaddr[pod % 8], 16);
		else if (a == 3)
			memcpy(r.addr, podaddr[rnd(8)], 16);
	} else if (c < 66) {
		r.op = FPGACTL_OP_UNLISTEN;
		r.port = pick_port();
	} else if (c < 74) {
		r.op = FPGACTL_OP_CLOSE;
		r.flags = (uint8_t)rnd(3);
		r.val = rnd(8);
		r.aux = (uint16_t)rnd(36);
	} else if (c < 78) {
		r.op = FPGACTL_OP_NOP;
	} else if (c < 84) {
		r.op = (uint8_t)(0x41 + rnd(8));  // a table write from a pod queue
		r.pod = (uint16_t)rnd(8);
		memcpy(r.addr, podaddr[rnd(8)], 16);
	} else if (c < 88) {
		r.op = (uint8_t)(pct(50) ? 5 + rnd(0x3b) : 0x49 + rnd(0xb7));  // unknown
	} else if (c < 92) {
		gen_proc(r, q);
		r.flags |= FPGACTL_REQ_F_AS;
		r.qid = (uint16_t)rnd(NQ);
	} else {
		// a well-formed request with one byte changed
		gen_proc(r, q);
		((uint8_t *)&r)[rnd(64)] = (uint8_t)rng();
	}
}

static uint32_t regions[NQ][NQ];

static void gen_admin(fpgactl_req &r)
{
	unsigned c = rnd(100);

	memset(&r, 0, sizeof(r));
	r.tag = (uint32_t)rng();
	if (c < 14) {
		unsigned i = rnd(8);

		r.op = FPGACTL_OP_POD_SET;
		if (pct(90))
			memcpy(r.addr, podaddr[i], 16);
		else
			rand_addr(r.addr);
		r.pod = (uint16_t)(pct(97) ? i : rnd(5000));
		r.flags = pct(3) ? FPGACTL_TBL_DEL : 0;
	} else if (c < 20) {
		r.op = FPGACTL_OP_POD_FLAGS;
		r.pod = (uint16_t)rnd(8);
		r.val2 = pct(75) ? 0 : pct(95) ? rnd(16) : (uint32_t)rng();
	} else if (c < 34) {
		r.op = FPGACTL_OP_PAIR_SET;
		r.qid = (uint16_t)rnd(NQ + 1);
		r.aux = (uint16_t)rnd(NQ);
		r.val = (uint32_t)rng();
		r.val2 = pct(70) ? 0xffffffffu : pct(50) ? 0 : (uint32_t)rng();
		r.flags = pct(5) ? FPGACTL_TBL_DEL : 0;
		if (r.qid < NQ && !r.flags)
			regions[r.qid][r.aux] = r.val;
	} else if (c < 44) {
		r.op = FPGACTL_OP_SLOT_FREE;
		r.qid = (uint16_t)rnd(NQ);
		r.aux = (uint16_t)rnd(NQ);
		r.val = pct(90) ? regions[r.qid][r.aux] : (uint32_t)rng();
		r.lport = (uint16_t)rnd(34);
	} else if (c < 52) {
		r.op = FPGACTL_OP_SVC_SET;
		memcpy(r.addr, svcaddr[rnd(3)], 16);
		r.port = pick_port();
		r.aux = (uint16_t)rnd(N_EPS);
		r.val = rnd(18);
		r.flags = (uint8_t)(pct(85) ? (pct(30) ? FPGACTL_SVC_AFFINITY : 0) |
						 (pct(10) ? FPGACTL_TBL_DEL : 0) : rnd(256));
	} else if (c < 62) {
		r.op = FPGACTL_OP_EP_SET;
		r.aux = (uint16_t)rnd(N_EPS + 2);
		if (pct(85))
			memcpy(r.addr, podaddr[rnd(8)], 16);
		else
			rand_addr(r.addr);
		r.port = pick_port();
		r.flags = (uint8_t)(pct(80) ? FPGACTL_EP_LOCAL : pct(80) ? 0 : rnd(256));
	} else if (c < 70) {
		r.op = FPGACTL_OP_POL_SET;
		r.pod = (uint16_t)rnd(8);
		r.aux = (uint16_t)rnd(8);
		r.port = pct(50) ? 0 : pick_port();
		r.val2 = pct(97) ? rnd(2) : 2;
		r.flags = pct(10) ? FPGACTL_TBL_DEL : 0;
	} else if (c < 76) {
		static const int errs[] = { 0, 0, -ECONNREFUSED, -EHOSTUNREACH, -EAGAIN };
		int s = errs[rnd(5)];

		r.op = FPGACTL_OP_POST;
		r.qid = (uint16_t)rnd(NQ + 1);
		r.val = (uint32_t)s;
		r.aux = (uint16_t)(s ? 1 + rnd(FPGACTL_R_MAX) : 0);
		r.lport = (uint16_t)(pct(95) ? FPGACTL_OP_CONNECT : rnd(300));
	} else if (c < 94) {
		// software resubmits a request for a pod queue
		unsigned q = 1 + rnd(NQ - 1);

		gen_proc(r, q);
		r.flags |= FPGACTL_REQ_F_AS;
		r.qid = (uint16_t)(pct(95) ? q : rnd(20));
	} else {
		gen_proc(r, 0);
		((uint8_t *)&r)[rnd(64)] = (uint8_t)rng();
	}
}

static uint64_t ent_of(uint64_t base, uint32_t idx, unsigned lg)
{
	return base + FPGACTL_RING_HDR + (uint64_t)(idx & ((1u << lg) - 1)) * FPGACTL_ENTRY;
}

// writes r at q's next RQ slot in both images
static void push(unsigned q, const fpgactl_req &r)
{
	qinfo &s = qs[q];
	uint64_t a = ent_of(rq_of(q), s.tail++, s.rq_log);

	memcpy(hw.at(a), &r, 64);
	memcpy(sw.at(a), &r, 64);
}

static unsigned rq_free(unsigned q)
{
	qinfo &s = qs[q];
	uint32_t used = s.tail - get32(sw, rq_of(q) + 128);

	return used > (1u << s.rq_log) ? 0 : (1u << s.rq_log) - used;
}

static void consume();

// the admin set-up: pods, pairs with free slots, a Service, its endpoints
static void gen_world()
{
	std::vector<fpgactl_req> v;
	fpgactl_req r;

	for (unsigned i = 0; i < 8; i++) {
		if (i % 2)
			v4(podaddr[i], 0, (uint8_t)(i + 1));
		else
			memcpy(podaddr[i], "\xfd\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 15), podaddr[i][15] = (uint8_t)(i + 1);
	}
	for (unsigned j = 0; j < 3; j++)
		v4(svcaddr[j], 96, (uint8_t)(j + 1));
	for (unsigned i = 0; i < 8; i++) {
		memset(&r, 0, sizeof(r));
		r.op = FPGACTL_OP_POD_SET;
		memcpy(r.addr, podaddr[i], 16);
		r.pod = (uint16_t)i;
		v.push_back(r);
	}
	for (unsigned a = 1; a < NQ; a++)
		for (unsigned b = 1; b < NQ; b++) {
			memset(&r, 0, sizeof(r));
			r.op = FPGACTL_OP_PAIR_SET;
			r.qid = (uint16_t)a;
			r.aux = (uint16_t)b;
			r.val = regions[a][b] = 100 * a + b;
			r.val2 = 0xffffffffu;
			v.push_back(r);
		}
	for (unsigned i = 0; i < 8; i++) {
		memset(&r, 0, sizeof(r));
		r.op = FPGACTL_OP_EP_SET;
		r.aux = (uint16_t)i;
		memcpy(r.addr, podaddr[i], 16);
		r.port = ports[i % 4];
		r.flags = FPGACTL_EP_LOCAL;
		v.push_back(r);
	}
	memset(&r, 0, sizeof(r));
	r.op = FPGACTL_OP_SVC_SET;
	memcpy(r.addr, svcaddr[0], 16);
	r.port = 80;
	r.val = 8;
	v.push_back(r);
	for (size_t i = 0; i < v.size();) {
		unsigned k = rq_free(0);

		for (; k && i < v.size(); k--, i++) {
			v[i].tag = (uint32_t)i;
			push(0, v[i]);
		}
		doorbell(0, qs[0].tail);
		drain();
		consume();
	}
}

static bool q_dead(unsigned q)
{
	return !(e.q[q].state & FPGACTL_QS_ENABLED) || (e.q[q].state & FPGACTL_QS_ERROR);
}

// one round: queue faults healed or made, requests and doorbells;
// returns the requests written
static unsigned gen_round(unsigned round)
{
	unsigned n = 0;

	for (unsigned q = 0; q < NQ; q++) {
		if (q_dead(q) && pct(q ? 30 : 80))
			q_enable(q, q && pct(5));
		else if (q && !q_dead(q) && pct(1))
			q_disable(q);
	}
	for (unsigned q = 0; q < NQ; q++) {
		qinfo &s = qs[q];
		unsigned k;

		if (!pct(q ? 50 : 70))
			continue;
		k = rq_free(q);
		k = k < 24 ? k : 24;
		k = rnd(k + 1);
		for (unsigned i = 0; i < k; i++) {
			fpgactl_req r;

			if (q)
				gen_proc(r, q);
			else
				gen_admin(r);
			push(q, r);
		}
		n += k;
		if (pct(q ? 1 : 0) || (round % 997 == 3 && q == 0))
			doorbell(q, s.tail + (1u << s.rq_log) + rnd(5));  // past the ring
		else
			doorbell(q, s.tail);
		if (pct(1))
			doorbell(NQ + rnd(200), (uint32_t)rng());  // past the engine
	}
	return n;
}

// the processes read their events (counted), or leave them, or lie

static void consume()
{
	for (unsigned q = 0; q < NQ; q++) {
		qinfo &s = qs[q];
		uint32_t prod = get32(sw, s.eq + 64), size = 1u << s.eq_log, c = rnd(100), v;

		if (c < (q ? 12u : 3u))
			continue;
		for (uint32_t i = s.seen; i != prod && prod - s.seen <= size; i++) {
			fpgactl_evt ev;

			memcpy(&ev, sw.at(ent_of(s.eq, i, s.eq_log)), 64);
			n_type[ev.type & 7]++;
			if (ev.type != FPGACTL_EVT_ACCEPT)
				n_reason[ev.reason & 31]++;
		}
		s.seen = prod;
		v = prod;
		if (c >= 97)
			v = pct(50) ? prod + 1 + rnd(100) : prod - size - 1 - rnd(5);  // a lie
		s.eq_cons = v;
		put32(hw, s.eq + 128, v);
		put32(sw, s.eq + 128, v);
	}
}

static bool stats_ok()
{
	unsigned reasons = 0;

	for (unsigned i = 1; i <= FPGACTL_R_MAX; i++)
		reasons += n_reason[i] != 0;
	return n_type[FPGACTL_EVT_ACCEPT] && n_type[FPGACTL_EVT_MISS] && n_type[FPGACTL_EVT_FWD] &&
	       n_type[FPGACTL_EVT_ERROR] && reasons >= 18;
}

static void print_stats()
{
	printf("# events read: %llu CPL, %llu ACCEPT, %llu MISS, %llu FWD, %llu ERROR; by reason:",
	       (unsigned long long)n_type[1], (unsigned long long)n_type[2], (unsigned long long)n_type[3],
	       (unsigned long long)n_type[4], (unsigned long long)n_type[5]);
	for (unsigned i = 0; i <= FPGACTL_R_MAX; i++)
		printf(" %u:%llu", i, (unsigned long long)n_reason[i]);
	printf("\n");
}
