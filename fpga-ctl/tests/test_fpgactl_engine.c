/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fpga-ctl: the reference engine (software backend) end to end through
 * its rings: tables, the connection set-up pipeline, the miss path,
 * doorbell batching and event coalescing, and hostile queue input.
 */
#include <check.h>
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "fctl_rig.h"
#include "hl_check.h"

static struct rig R;

static void setup(void)
{
	rig_open(&R, NULL);
	for (unsigned q = 1; q < 5; q++) {
		rig_queue(&R, q, q, RIG_LOG2);
		rig_pod(&R, q);
	}
}

static void teardown(void)
{
	rig_close(&R);
}

static void pair(unsigned qc, unsigned ql, uint32_t region, uint32_t free_slots)
{
	struct fpgactl_req q;

	fpgactl_tw_pair(&q, ++R.tag, qc, ql, region, free_slots, false);
	ck_assert_int_eq(rig_admin(&R, &q), 0);
}

/* One request from @q; its one completion's status (and the event). */
static int one(unsigned q, struct fpgactl_req req, struct fpgactl_evt *out)
{
	struct fpgactl_evt ev[4];

	rig_submit(&R, q, &req, 1);
	ck_assert_int_eq(rig_pop(&R, q, ev, 4), 1);
	ck_assert_uint_eq(ev[0].type, FPGACTL_EVT_CPL);
	ck_assert_uint_eq(ev[0].tag, req.tag);
	if (out)
		*out = ev[0];
	return ev[0].status;
}

/* Drops @q's pending events (the ACCEPTs a listener did not look at). */
static void drain(unsigned q)
{
	struct fpgactl_evt ev[64];

	while (rig_pop(&R, q, ev, 64) > 0)
		;
}

static unsigned reason(unsigned q, struct fpgactl_req req)
{
	struct fpgactl_evt ev;

	ck_assert_int_lt(one(q, req, &ev), 0);
	return ev.reason;
}

START_TEST(connect_accept)
{
	struct fpgactl_evt ev[4], c;
	uint8_t a[16];

	ck_assert_int_eq(one(1, rig_listen(80, 1, 0), NULL), 0);
	pair(2, 1, 7, 0x3);
	ck_assert_int_eq(one(2, rig_connect(1, 80, 2, 5555), &c), 0);
	ck_assert_uint_eq(c.queue, 1);
	ck_assert_uint_eq(c.region, 7);
	ck_assert_uint_eq(c.slot, 0);
	rig_ip(a, 1);
	ck_assert_mem_eq(c.peer, a, 16);
	ck_assert_int_eq(rig_pop(&R, 1, ev, 4), 1);
	ck_assert_uint_eq(ev[0].type, FPGACTL_EVT_ACCEPT);
	ck_assert_uint_eq(ev[0].queue, 2);
	ck_assert_uint_eq(ev[0].region, 7);
	ck_assert_uint_eq(ev[0].slot, 0);
	ck_assert_uint_eq(ev[0].port, 80);
	ck_assert_uint_eq(ev[0].lport, 5555);
	rig_ip(a, 2);
	ck_assert_mem_eq(ev[0].peer, a, 16);
	/* the second connection takes the next slot; the third finds none */
	ck_assert_int_eq(one(2, rig_connect(1, 80, 2, 5556), &c), 0);
	ck_assert_uint_eq(c.slot, 1);
	ck_assert_int_eq(rig_pop(&R, 1, ev, 4), 1);
	{
		struct fpgactl_req r = rig_connect(1, 80, 2, 5557);
		struct fpgactl_req fr;

		rig_submit(&R, 2, &r, 1);
		ck_assert_int_eq(rig_pop(&R, 2, ev, 4), 0);  /* nothing yet: software decides */
		ck_assert_int_eq(rig_pop(&R, 0, ev, 4), 1);
		ck_assert_uint_eq(ev[0].type, FPGACTL_EVT_MISS);
		ck_assert_uint_eq(ev[0].reason, FPGACTL_R_REGION_FULL);
		ck_assert_uint_eq(ev[0].queue, 2);
		ck_assert_uint_eq(ev[0].aux, 1);
		ck_assert_uint_eq(ev[0].lport, 5557);
		/* software frees slot 0 and resubmits for queue 2 */
		fpgactl_tw_slot_free(&fr, ++R.tag, 2, 1, 7, 0);
		ck_assert_int_eq(rig_admin(&R, &fr), 0);
		r.flags = FPGACTL_REQ_F_AS;
		r.qid = 2;
		rig_submit(&R, 0, &r, 1);
		ck_assert_int_eq(rig_pop(&R, 0, ev, 4), 0);  /* the completion goes to queue 2 */
		ck_assert_int_eq(rig_pop(&R, 2, ev, 4), 1);
		ck_assert_int_eq(ev[0].status, 0);
		ck_assert_uint_eq(ev[0].slot, 0);
		ck_assert_int_eq(rig_pop(&R, 1, ev, 4), 1);
		ck_assert_uint_eq(ev[0].lport, 5557);
	}
}
END_TEST

START_TEST(miss_no_region)
{
	struct fpgactl_evt ev[4];
	struct fpgactl_req r = rig_connect(1, 80, 2, 4000);

	ck_assert_int_eq(one(1, rig_listen(80, 0, 0), NULL), 0);  /* the v6 wildcard: v4 too */
	rig_submit(&R, 2, &r, 1);
	ck_assert_int_eq(rig_pop(&R, 0, ev, 4), 1);
	ck_assert_uint_eq(ev[0].type, FPGACTL_EVT_MISS);
	ck_assert_uint_eq(ev[0].reason, FPGACTL_R_NO_REGION);
	ck_assert_mem_eq(ev[0].addr, r.addr, 16);
	ck_assert_mem_eq(ev[0].peer, r.src, 16);
	pair(2, 1, 9, 1u << 4);
	r.flags = FPGACTL_REQ_F_AS;
	r.qid = 2;
	rig_submit(&R, 0, &r, 1);
	ck_assert_int_eq(rig_pop(&R, 2, ev, 4), 1);
	ck_assert_int_eq(ev[0].status, 0);
	ck_assert_uint_eq(ev[0].region, 9);
	ck_assert_uint_eq(ev[0].slot, 4);
	/* the admin queue cannot act for a queue that is not there */
	r.qid = 7;
	rig_submit(&R, 0, &r, 1);
	ck_assert_int_eq(rig_pop(&R, 0, ev, 4), 1);
	ck_assert_int_eq(ev[0].status, -EINVAL);
	ck_assert_uint_eq(ev[0].reason, FPGACTL_R_BAD_QUEUE);
}
END_TEST

START_TEST(refusals_and_policy)
{
	struct fpgactl_req q;

	ck_assert_int_eq(one(1, rig_listen(80, 1, 0), NULL), 0);
	pair(2, 1, 1, ~0u);
	pair(3, 1, 2, ~0u);
	ck_assert_uint_eq(reason(2, rig_connect(9, 80, 2, 1)), FPGACTL_R_NO_POD);
	ck_assert_uint_eq(reason(2, rig_connect(1, 81, 2, 1)), FPGACTL_R_NO_LISTENER);
	ck_assert_uint_eq(reason(2, rig_connect(1, 80, 3, 1)), FPGACTL_R_BAD_SRC);  /* spoofed */
	/* netfilter rules on the destination pod send it to the kernel */
	fpgactl_tw_pod_flags(&q, ++R.tag, 1, FPGACTL_POD_NF_IN);
	ck_assert_int_eq(rig_admin(&R, &q), 0);
	ck_assert_uint_eq(reason(2, rig_connect(1, 80, 2, 1)), FPGACTL_R_NETFILTER);
	/* ingress-isolated: only what the admission table allows */
	fpgactl_tw_pod_flags(&q, ++R.tag, 1, FPGACTL_POD_POL_IN);
	ck_assert_int_eq(rig_admin(&R, &q), 0);
	ck_assert_uint_eq(reason(2, rig_connect(1, 80, 2, 1)), FPGACTL_R_POLICY);
	fpgactl_tw_pol(&q, ++R.tag, 2, 1, 80, FPGACTL_POL_ALLOW, false);
	ck_assert_int_eq(rig_admin(&R, &q), 0);
	ck_assert_int_eq(one(2, rig_connect(1, 80, 2, 1), NULL), 0);
	ck_assert_uint_eq(reason(3, rig_connect(1, 80, 3, 1)), FPGACTL_R_POLICY);
	fpgactl_tw_pol(&q, ++R.tag, 3, 1, 0, FPGACTL_POL_ALLOW, false);  /* any port */
	ck_assert_int_eq(rig_admin(&R, &q), 0);
	ck_assert_int_eq(one(3, rig_connect(1, 80, 3, 1), NULL), 0);
	/* an explicit deny for a port wins over the any-port allow */
	fpgactl_tw_pol(&q, ++R.tag, 3, 1, 80, FPGACTL_POL_DENY, false);
	ck_assert_int_eq(rig_admin(&R, &q), 0);
	ck_assert_uint_eq(reason(3, rig_connect(1, 80, 3, 2)), FPGACTL_R_POLICY);
	fpgactl_tw_pol(&q, ++R.tag, 2, 1, 80, 0, true);
	ck_assert_int_eq(rig_admin(&R, &q), 0);
	ck_assert_uint_eq(reason(2, rig_connect(1, 80, 2, 2)), FPGACTL_R_POLICY);
	ck_assert_int_eq(rig_admin(&R, &q), -ENOENT);  /* deleted already */
	/* UNLISTEN: refused afterwards; only the listening queue may */
	q = (struct fpgactl_req){ .op = FPGACTL_OP_UNLISTEN, .port = 80, .tag = 5 };
	ck_assert_uint_eq(reason(2, q), FPGACTL_R_NO_ENTRY);
	drain(1);
	ck_assert_int_eq(one(1, q, NULL), 0);
	fpgactl_tw_pod_flags(&q, ++R.tag, 1, 0);
	ck_assert_int_eq(rig_admin(&R, &q), 0);
	ck_assert_uint_eq(reason(2, rig_connect(1, 80, 2, 3)), FPGACTL_R_NO_LISTENER);
}
END_TEST

START_TEST(service_map)
{
	struct fpgactl_req q;
	struct fpgactl_evt c;
	uint8_t vip[16], a[16];
	unsigned first;

	ck_assert_int_eq(one(1, rig_listen(80, 1, 0), NULL), 0);
	ck_assert_int_eq(one(3, rig_listen(80, 3, 0), NULL), 0);
	pair(2, 1, 1, ~0u);
	pair(2, 3, 3, ~0u);
	fpgactl_addr_v4(vip, __builtin_bswap32(0x0a600001));  /* 10.96.0.1 */
	rig_ip(a, 1);
	fpgactl_tw_ep(&q, ++R.tag, 4, a, 80, true);
	ck_assert_int_eq(rig_admin(&R, &q), 0);
	rig_ip(a, 3);
	fpgactl_tw_ep(&q, ++R.tag, 5, a, 80, true);
	ck_assert_int_eq(rig_admin(&R, &q), 0);
	rig_ip(a, 200);
	fpgactl_tw_ep(&q, ++R.tag, 6, a, 80, false);  /* on another node */
	ck_assert_int_eq(rig_admin(&R, &q), 0);
	fpgactl_tw_svc(&q, ++R.tag, vip, 8080, 4, 2, false, false);
	ck_assert_int_eq(rig_admin(&R, &q), 0);
	/* round robin over the ready endpoints */
	q = rig_connect(0, 8080, 2, 1);
	memcpy(q.addr, vip, 16);
	for (unsigned i = 0; i < 4; i++) {
		q.lport = (uint16_t)(10 + i);
		q.tag = i;
		ck_assert_int_eq(one(2, q, &c), 0);
		ck_assert_uint_eq(c.queue, i % 2 ? 3 : 1);
		ck_assert_mem_eq(c.addr, vip, 16);  /* what was asked */
		rig_ip(a, i % 2 ? 3 : 1);
		ck_assert_mem_eq(c.peer, a, 16);    /* where it went */
	}
	/* ClientIP affinity: one client, one endpoint */
	fpgactl_tw_svc(&q, ++R.tag, vip, 8080, 4, 2, true, false);
	ck_assert_int_eq(rig_admin(&R, &q), 0);
	q = rig_connect(0, 8080, 2, 20);
	memcpy(q.addr, vip, 16);
	ck_assert_int_eq(one(2, q, &c), 0);
	first = c.queue;
	for (unsigned i = 0; i < 3; i++) {
		q.lport = (uint16_t)(21 + i);
		ck_assert_int_eq(one(2, q, &c), 0);
		ck_assert_uint_eq(c.queue, first);
	}
	{
		struct fpgactl_req t;

		fpgactl_tw_svc(&t, ++R.tag, vip, 8080, 6, 1, false, false);
		ck_assert_int_eq(rig_admin(&R, &t), 0);
		ck_assert_uint_eq(reason(2, q), FPGACTL_R_SVC_REMOTE);
		fpgactl_tw_svc(&t, ++R.tag, vip, 8080, 6, 0, false, false);
		ck_assert_int_eq(rig_admin(&R, &t), 0);
		ck_assert_uint_eq(reason(2, q), FPGACTL_R_SVC_EMPTY);
		fpgactl_tw_svc(&t, ++R.tag, vip, 8080, 15, 2, false, false);  /* past the table */
		ck_assert_int_eq(rig_admin(&R, &t), -EINVAL);
	}
}
END_TEST

START_TEST(shared_listeners)
{
	struct fpgactl_evt c;
	unsigned got[2] = { 0, 0 }, pick;

	rig_queue(&R, 5, 1, RIG_LOG2);  /* a second process of pod 1 */
	ck_assert_int_eq(one(1, rig_listen(80, 1, FPGACTL_LSN_SHARED), NULL), 0);
	ck_assert_uint_eq(reason(5, rig_listen(80, 1, 0)), FPGACTL_R_IN_USE);
	ck_assert_int_eq(one(5, rig_listen(80, 1, FPGACTL_LSN_SHARED), NULL), 0);
	ck_assert_uint_eq(reason(5, rig_listen(80, 1, FPGACTL_LSN_SHARED)), FPGACTL_R_IN_USE);
	pair(2, 1, 1, ~0u);
	pair(2, 5, 5, ~0u);
	/* fair dispatch: turns */
	for (unsigned i = 0; i < 6; i++) {
		ck_assert_int_eq(one(2, rig_connect(1, 80, 2, (uint16_t)(100 + i)), &c), 0);
		ck_assert_uint_eq(c.queue, i % 2 ? 5 : 1);
		got[c.queue == 5]++;
	}
	ck_assert_uint_eq(got[0], 3);
	drain(1);
	drain(5);
	/* SO_REUSEPORT: the connector's address and port pick, always the same */
	ck_assert_int_eq(one(1, rig_listen(90, 1, FPGACTL_LSN_REUSEPORT), NULL), 0);
	ck_assert_int_eq(one(5, rig_listen(90, 1, FPGACTL_LSN_REUSEPORT), NULL), 0);
	ck_assert_int_eq(one(2, rig_connect(1, 90, 2, 7000), &c), 0);
	pick = c.queue;
	for (unsigned i = 0; i < 3; i++) {
		ck_assert_int_eq(one(2, rig_connect(1, 90, 2, 7000), &c), 0);
		ck_assert_uint_eq(c.queue, pick);
	}
}
END_TEST

START_TEST(hostile_entries)
{
	struct fpgactl_req q;
	struct fpgactl_evt ev[4];
	uint8_t a[16];

	rig_ip(a, 2);
	fpgactl_tw_pod(&q, 1, a, 1, false);  /* pod 2 claims pod 1's address */
	ck_assert_uint_eq(reason(2, q), FPGACTL_R_NOT_ADMIN);
	q = (struct fpgactl_req){ .op = FPGACTL_OP_NOP, .tag = 2, .flags = FPGACTL_REQ_F_AS, .qid = 1 };
	ck_assert_uint_eq(reason(2, q), FPGACTL_R_NOT_ADMIN);
	q = (struct fpgactl_req){ .op = 0x30, .tag = 3 };
	ck_assert_uint_eq(reason(2, q), FPGACTL_R_BAD_OP);
	q = (struct fpgactl_req){ .op = FPGACTL_OP_NOP, .tag = 4, .rsvd = 1 };
	ck_assert_uint_eq(reason(2, q), FPGACTL_R_BAD_FIELD);
	q = rig_listen(0, 2, 0);
	ck_assert_uint_eq(reason(2, q), FPGACTL_R_BAD_FIELD);
	q = rig_listen(80, 2, FPGACTL_LSN_SHARED | FPGACTL_LSN_REUSEPORT);
	ck_assert_uint_eq(reason(2, q), FPGACTL_R_BAD_FIELD);
	q = rig_connect(1, 80, 2, 1);
	q.val = 1;
	ck_assert_uint_eq(reason(2, q), FPGACTL_R_BAD_FIELD);
	q = (struct fpgactl_req){ .op = FPGACTL_OP_CLOSE, .tag = 6, .aux = FPGACTL_MAX_SLOTS };
	ck_assert_uint_eq(reason(2, q), FPGACTL_R_BAD_FIELD);
	/* a good CLOSE is forwarded to software, which posts its completion */
	q.aux = 3;
	q.val = 77;
	rig_submit(&R, 2, &q, 1);
	ck_assert_int_eq(rig_pop(&R, 0, ev, 4), 1);
	ck_assert_uint_eq(ev[0].type, FPGACTL_EVT_FWD);
	ck_assert_uint_eq(ev[0].region, 77);
	ck_assert_uint_eq(ev[0].slot, 3);
	fpgactl_tw_post(&q, 6, 2, FPGACTL_OP_CLOSE, 0, 0);
	ck_assert_int_eq(rig_admin(&R, &q), 0);
	ck_assert_int_eq(rig_pop(&R, 2, ev, 4), 1);
	ck_assert_uint_eq(ev[0].op, FPGACTL_OP_CLOSE);
	ck_assert_uint_eq(ev[0].tag, 6);
	/* table writes the admin sends wrong */
	rig_ip(a, 5);
	fpgactl_tw_pod(&q, 7, a, 16, false);  /* pod id out of range */
	ck_assert_int_eq(rig_admin(&R, &q), -EINVAL);
	fpgactl_tw_post(&q, 8, 2, 0, 5, 0);   /* a positive status */
	ck_assert_int_eq(rig_admin(&R, &q), -EINVAL);
	fpgactl_tw_pair(&q, 9, 2, RIG_NQ, 1, 1, false);
	ck_assert_int_eq(rig_admin(&R, &q), -EINVAL);
	/* none of it touched another queue */
	ck_assert_int_eq(rig_pop(&R, 1, ev, 4), 0);
	ck_assert_int_eq(rig_pop(&R, 3, ev, 4), 0);
}
END_TEST

START_TEST(pod_table_full)
{
	struct fpgactl_req q;
	uint8_t a[16];
	unsigned full = 0, added = 0;

	/* 8 buckets x 2 ways: some bucket fills before 17 keys fit */
	for (unsigned h = 10; h < 60 && !full; h++) {
		int rc;

		rig_ip(a, h);
		fpgactl_tw_pod(&q, ++R.tag, a, h % 16, false);
		rc = rig_admin(&R, &q);
		ck_assert(rc == 0 || rc == -ENOSPC);
		full += rc == -ENOSPC;
		added += rc == 0;
	}
	ck_assert_uint_eq(full, 1);
	ck_assert_uint_le(added, 8 * FPGACTL_WAYS - 4);  /* the rig's four pods are in too */
	fpgactl_tw_pod(&q, ++R.tag, a, 0, true);
	ck_assert_int_eq(rig_admin(&R, &q), -ENOENT);  /* the refused key is not there */
}
END_TEST

START_TEST(doorbell_batching)
{
	struct fpgactl_req r[40];
	struct fpgactl_evt ev[64];
	uint64_t before[FPGACTL_CNT_N], after[FPGACTL_CNT_N];

	memset(r, 0, sizeof(r));
	for (unsigned i = 0; i < 40; i++)
		r[i].tag = 1000 + i;
	ck_assert_int_eq(fpgactl_counters(R.f, before), 0);
	rig_submit(&R, 1, r, 40);  /* one doorbell */
	ck_assert_int_eq(fpgactl_counters(R.f, after), 0);
	ck_assert_int_eq(rig_pop(&R, 1, ev, 64), 40);
	for (unsigned i = 0; i < 40; i++)
		ck_assert_uint_eq(ev[i].tag, 1000 + i);
	ck_assert_uint_eq(after[FPGACTL_CNT_REQS] - before[FPGACTL_CNT_REQS], 40);
	ck_assert_uint_eq(after[FPGACTL_CNT_EVENTS] - before[FPGACTL_CNT_EVENTS], 40);
	/* 40 events, and per turn (16 + 16 + 8) one RQ consumer line and one
	 * EQ producer line: the index writes are coalesced */
	ck_assert_uint_eq(after[FPGACTL_CNT_DMA_WR] - before[FPGACTL_CNT_DMA_WR], 40 + 3 + 3);
	ck_assert_uint_eq(after[FPGACTL_CNT_DMA_RD] - before[FPGACTL_CNT_DMA_RD], 40);
}
END_TEST

START_TEST(turns_are_fair)
{
	struct fpgactl_req r[40];
	struct fpgactl_evt ev[64];

	memset(r, 0, sizeof(r));
	ck_assert_int_eq(fpgactl_run(R.f, false), 0);
	ck_assert_uint_eq(fpgactl_rq_push(rig_rq(&R, 1), RIG_LOG2, r, 40), 40);
	ck_assert_uint_eq(fpgactl_rq_push(rig_rq(&R, 2), RIG_LOG2, r, 2), 2);
	ck_assert_int_eq(fpgactl_doorbell(R.f, 1, 40), 0);
	ck_assert_int_eq(fpgactl_doorbell(R.f, 2, 2), 0);
	ck_assert_int_eq(fpgactl_service(R.f, 1), 0);  /* stopped: doorbells only queue up */
	ck_assert_int_eq(fpgactl_run(R.f, true), 0);
	ck_assert_int_eq(fpgactl_service(R.f, 1), FPGACTL_BUDGET);  /* queue 1's first turn */
	ck_assert_int_eq(fpgactl_service(R.f, 1), 2);               /* then queue 2's */
	ck_assert_int_eq(rig_pop(&R, 2, ev, 64), 2);
	ck_assert_int_eq(fpgactl_wait_idle(R.f, 1000), 0);
	ck_assert_int_eq(rig_pop(&R, 1, ev, 64), 40);
}
END_TEST

START_TEST(bad_doorbells)
{
	struct fpgactl_req r = { .op = FPGACTL_OP_NOP, .tag = 1 };
	struct fpgactl_evt ev[4];
	struct fpgactl_qstate st;
	uint64_t cnt[FPGACTL_CNT_N];

	ck_assert_int_eq(fpgactl_doorbell(R.f, RIG_NQ, 1), -EINVAL);
	ck_assert_int_eq(fpgactl_counters(R.f, cnt), 0);
	ck_assert_uint_eq(cnt[FPGACTL_CNT_DROPS], 1);
	/* a doorbell past the ring stops the queue and tells the admin queue */
	ck_assert_int_eq(fpgactl_doorbell(R.f, 1, 1000), 0);
	ck_assert_int_eq(fpgactl_wait_idle(R.f, 1000), 0);
	ck_assert_int_eq(rig_pop(&R, 0, ev, 4), 1);
	ck_assert_uint_eq(ev[0].type, FPGACTL_EVT_ERROR);
	ck_assert_uint_eq(ev[0].reason, FPGACTL_R_DOORBELL);
	ck_assert_uint_eq(ev[0].queue, 1);
	ck_assert_int_eq(fpgactl_queue_read(R.f, 1, &st), 0);
	ck_assert_uint_eq(st.state & FPGACTL_QS_ERROR, FPGACTL_QS_ERROR);
	ck_assert_uint_eq(st.head, 0);
	/* a doorbell for a queue never enabled */
	ck_assert_int_eq(fpgactl_doorbell(R.f, 6, 1), 0);
	ck_assert_int_eq(fpgactl_wait_idle(R.f, 1000), 0);
	ck_assert_int_eq(rig_pop(&R, 0, ev, 4), 1);
	ck_assert_uint_eq(ev[0].reason, FPGACTL_R_BAD_QUEUE);
	ck_assert_uint_eq(ev[0].queue, 6);
	/* the others carry on; re-enabling restarts the stopped one */
	ck_assert_int_eq(one(2, r, NULL), 0);
	rig_queue(&R, 1, 1, RIG_LOG2);
	ck_assert_int_eq(one(1, r, NULL), 0);
}
END_TEST

START_TEST(full_event_queue)
{
	struct fpgactl_req r[6];
	struct fpgactl_evt ev[8];
	struct fpgactl_qstate st;
	struct fpgactl_ring_hdr *h;

	memset(r, 0, sizeof(r));
	for (unsigned i = 0; i < 6; i++)
		r[i].tag = i;
	rig_queue(&R, 6, 6, 2);  /* an EQ of 4 entries */
	rig_submit(&R, 6, r, 6);
	ck_assert_int_eq(fpgactl_queue_read(R.f, 6, &st), 0);
	ck_assert_uint_eq(st.head, 4);  /* parked with two left */
	ck_assert_uint_eq(st.tail, 6);
	ck_assert_int_eq(rig_pop(&R, 6, ev, 8), 4);
	ck_assert_int_eq(fpgactl_doorbell(R.f, 6, 6), 0);  /* the same tail again: resume */
	ck_assert_int_eq(fpgactl_wait_idle(R.f, 1000), 0);
	ck_assert_int_eq(rig_pop(&R, 6, ev, 8), 2);
	ck_assert_uint_eq(ev[1].tag, 5);
	/* a consumer index that lies (ahead of the producer): the engine
	 * uses the room it knew of (two entries, cached), then re-reads,
	 * finds no room and parks: the liar's requests wait, nothing is
	 * written past its ring, nobody else is held up */
	h = rig_eq(&R, 6);
	h->cons = h->prod + 100;
	rig_submit(&R, 6, r, 3);
	ck_assert_int_eq(fpgactl_queue_read(R.f, 6, &st), 0);
	ck_assert_uint_eq(st.head, 8);
	ck_assert_uint_eq(st.prod, 8);
	ck_assert_uint_eq(st.tail, 9);
	ck_assert_int_eq(one(2, r[0], NULL), 0);
}
END_TEST

START_TEST(interrupts)
{
	struct fpgactl_req r = { .op = FPGACTL_OP_NOP, .tag = 1 };
	struct pollfd p = { .events = POLLIN };
	uint64_t v;

	p.fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	ck_assert_int_ge(p.fd, 0);
	ck_assert_int_eq(fpgactl_irq_set(R.f, 1, p.fd), 0);
	ck_assert_int_eq(one(1, r, NULL), 0);
	ck_assert_int_eq(poll(&p, 1, 0), 0);  /* not armed: no interrupt */
	ck_assert_int_eq(fpgactl_arm(R.f, 1), 0);
	ck_assert_int_eq(one(1, r, NULL), 0);
	ck_assert_int_eq(poll(&p, 1, 0), 1);
	ck_assert_int_eq(read(p.fd, &v, sizeof(v)), sizeof(v));
	ck_assert_int_eq(one(1, r, NULL), 0);  /* one interrupt per arm */
	ck_assert_int_eq(poll(&p, 1, 0), 0);
	ck_assert_int_eq(fpgactl_irq_set(R.f, 1, -1), 0);
	close(p.fd);
}
END_TEST

START_TEST(reset_clears)
{
	struct fpgactl_qstate st;
	uint64_t cnt[FPGACTL_CNT_N];

	ck_assert_int_eq(one(1, rig_listen(80, 1, 0), NULL), 0);
	ck_assert_int_eq(fpgactl_reset(R.f), 0);
	ck_assert_int_eq(fpgactl_counters(R.f, cnt), 0);
	ck_assert_uint_eq(cnt[FPGACTL_CNT_REQS], 0);
	ck_assert_int_eq(fpgactl_queue_read(R.f, 1, &st), 0);
	ck_assert_uint_eq(st.state, 0);
	rig_queue(&R, 0, 0, RIG_LOG2);
	rig_queue(&R, 2, 2, RIG_LOG2);
	ck_assert_uint_eq(reason(2, rig_connect(1, 80, 2, 1)), FPGACTL_R_BAD_SRC);  /* no pods */
}
END_TEST

int main(void)
{
	Suite *s = suite_create("fctl_engine");
	TCase *tc = tcase_create("engine");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, connect_accept);
	tcase_add_test(tc, miss_no_region);
	tcase_add_test(tc, refusals_and_policy);
	tcase_add_test(tc, service_map);
	tcase_add_test(tc, shared_listeners);
	tcase_add_test(tc, hostile_entries);
	tcase_add_test(tc, pod_table_full);
	tcase_add_test(tc, doorbell_batching);
	tcase_add_test(tc, turns_are_fair);
	tcase_add_test(tc, bad_doorbells);
	tcase_add_test(tc, full_event_queue);
	tcase_add_test(tc, interrupts);
	tcase_add_test(tc, reset_clears);
	suite_add_tcase(s, tc);
	return hl_check_run(s);
}
