/* SPDX-License-Identifier: Apache-2.0 */
/* fpga-ctl: rings as a process sees them, event parsing, opening engines. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fpgactl.h"
#include "hl_check.h"

static _Alignas(256) uint8_t ring[FPGACTL_RING_HDR + 8 * FPGACTL_ENTRY];

START_TEST(ring_layout)
{
	ck_assert_uint_eq(fpgactl_ring_bytes(3), sizeof(ring));
	ck_assert_uint_eq(fpgactl_ring_bytes(0), 0);
	ck_assert_uint_eq(fpgactl_ring_bytes(16), 0);
	ck_assert_int_eq(fpgactl_ring_init(ring + 64, 3), -EINVAL);  /* not 256-aligned */
	ck_assert_int_eq(fpgactl_ring_check(ring, sizeof(ring)), -EPROTO);  /* no magic yet */
	ck_assert_int_eq(fpgactl_ring_init(ring, 3), 0);
	ck_assert_int_eq(fpgactl_ring_check(ring, sizeof(ring)), 3);
	ck_assert_int_eq(fpgactl_ring_check(ring, sizeof(ring) - 1), -EPROTO);  /* too small */
	((struct fpgactl_ring_hdr *)ring)->major = FPGACTL_ABI_MAJOR + 1;
	ck_assert_int_eq(fpgactl_ring_check(ring, sizeof(ring)), -EPROTO);
}
END_TEST

START_TEST(rq_push_full)
{
	struct fpgactl_req r[10];
	struct fpgactl_ring_hdr *h = (void *)ring;

	memset(r, 0, sizeof(r));
	for (unsigned i = 0; i < 10; i++)
		r[i].tag = i;
	ck_assert_int_eq(fpgactl_ring_init(ring, 3), 0);
	ck_assert_uint_eq(fpgactl_rq_push(ring, 3, r, 10), 8);
	ck_assert_uint_eq(fpgactl_rq_tail(ring), 8);
	ck_assert_uint_eq(fpgactl_rq_push(ring, 3, r, 1), 0);
	h->cons = 3;  /* the engine took three */
	ck_assert_uint_eq(fpgactl_rq_push(ring, 3, r + 8, 2), 2);
	ck_assert_uint_eq(fpgactl_rq_tail(ring), 10);
	/* entry 9 went to slot 1 (free-running index, masked) */
	ck_assert_uint_eq(((struct fpgactl_req *)(ring + FPGACTL_RING_HDR))[1].tag, 9);
	h->cons = 100;  /* an engine that lies about its index: nothing pushed */
	ck_assert_uint_eq(fpgactl_rq_push(ring, 3, r, 1), 0);
}
END_TEST

static void put_evt(unsigned idx, const struct fpgactl_evt *e)
{
	memcpy(ring + FPGACTL_RING_HDR + (idx & 7) * FPGACTL_ENTRY, e, sizeof(*e));
}

START_TEST(eq_pop_checks)
{
	struct fpgactl_ring_hdr *h = (void *)ring;
	struct fpgactl_evt ok = { .type = FPGACTL_EVT_CPL, .tag = 1 }, bad = ok, ev[8];

	ck_assert_int_eq(fpgactl_ring_init(ring, 3), 0);
	ck_assert_int_eq(fpgactl_eq_pop(ring, 3, ev, 8), 0);
	put_evt(0, &ok);
	bad.rsvd1 = 1;
	put_evt(1, &bad);
	ok.tag = 3;
	put_evt(2, &ok);
	h->prod = 3;
	/* the good entry, then the bad one alone, then the rest */
	ck_assert_int_eq(fpgactl_eq_pop(ring, 3, ev, 8), 1);
	ck_assert_uint_eq(ev[0].tag, 1);
	ck_assert_int_eq(fpgactl_eq_pop(ring, 3, ev, 8), -EBADMSG);
	ck_assert_int_eq(fpgactl_eq_pop(ring, 3, ev, 8), 1);
	ck_assert_uint_eq(ev[0].tag, 3);
	ck_assert_uint_eq(h->cons, 3);
	h->prod = 3 + 9;  /* a producer index past the ring */
	ck_assert_int_eq(fpgactl_eq_pop(ring, 3, ev, 8), -EPROTO);
	ck_assert_uint_eq(h->cons, 3);
}
END_TEST

/* Each line: one field made wrong; fpgactl_evt_parse() refuses all. */
START_TEST(evt_parse_refuses)
{
	static const struct fpgactl_evt bad[] = {
		{ .type = 0 },
		{ .type = FPGACTL_EVT_ERROR + 1 },
		{ .type = FPGACTL_EVT_CPL, .rsvd0 = 1 },
		{ .type = FPGACTL_EVT_CPL, .status = 1 },
		{ .type = FPGACTL_EVT_CPL, .status = -4096, .reason = 1 },
		{ .type = FPGACTL_EVT_CPL, .status = -EINVAL },  /* an error without a reason */
		{ .type = FPGACTL_EVT_CPL, .reason = FPGACTL_R_POLICY },  /* a reason without an error */
		{ .type = FPGACTL_EVT_CPL, .status = -EINVAL, .reason = FPGACTL_R_MAX + 1 },
		{ .type = FPGACTL_EVT_ACCEPT, .queue = FPGACTL_MAX_QUEUES },
		{ .type = FPGACTL_EVT_ACCEPT, .slot = FPGACTL_MAX_SLOTS },
		{ .type = FPGACTL_EVT_MISS, .reason = FPGACTL_R_POLICY },
		{ .type = FPGACTL_EVT_MISS, .reason = FPGACTL_R_NO_REGION, .aux = FPGACTL_MAX_QUEUES },
		{ .type = FPGACTL_EVT_FWD, .flags = 2 },
		{ .type = FPGACTL_EVT_ERROR, .reason = FPGACTL_R_DOORBELL },
	};
	static const struct fpgactl_evt good[] = {
		{ .type = FPGACTL_EVT_CPL },
		{ .type = FPGACTL_EVT_CPL, .status = -ECONNREFUSED, .reason = FPGACTL_R_NO_LISTENER },
		{ .type = FPGACTL_EVT_MISS, .reason = FPGACTL_R_REGION_FULL, .aux = 3 },
		{ .type = FPGACTL_EVT_FWD, .flags = 1, .slot = 31 },
		{ .type = FPGACTL_EVT_ERROR, .status = -EINVAL, .reason = FPGACTL_R_DOORBELL },
	};
	struct fpgactl_evt out;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(fpgactl_evt_parse(&bad[i], &out) == -EBADMSG, "bad[%zu] passed", i);
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		ck_assert_msg(fpgactl_evt_parse(&good[i], &out) == 0, "good[%zu] refused", i);
}
END_TEST

START_TEST(open_devices)
{
	struct fpgactl_opts o = { .device = "software" };
	struct fpgactl_caps c;
	struct fpgactl *f = fpgactl_open(&o);

	ck_assert_ptr_nonnull(f);
	ck_assert_str_eq(fpgactl_name(f), "software");
	ck_assert_int_eq(fpgactl_caps(f, &c), 0);
	ck_assert_uint_eq(c.version, FPGACTL_ABI_MAJOR << 16 | FPGACTL_ABI_MINOR);
	ck_assert_uint_eq(c.nq, FPGACTL_MAX_QUEUES);
	fpgactl_close(f);
	fpgactl_close(NULL);
	o.device = "fpga";
	ck_assert_ptr_null(fpgactl_open(&o));
	ck_assert_int_eq(errno, EINVAL);
	o.device = "software";
	o.geom = (struct fpgactl_caps){ .nq = 4, .n_pods = 3, .n_eps = 4 };  /* not a power of two */
	ck_assert_ptr_null(fpgactl_open(&o));
	ck_assert_int_eq(errno, EINVAL);
	o.geom = (struct fpgactl_caps){ .nq = 4, .n_pods = 4, .n_eps = 4, .pod_log2 = 17 };
	ck_assert_ptr_null(fpgactl_open(&o));
	ck_assert_int_eq(errno, EINVAL);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("fctl_ring");
	TCase *tc = tcase_create("ring");

	tcase_add_test(tc, ring_layout);
	tcase_add_test(tc, rq_push_full);
	tcase_add_test(tc, eq_pop_checks);
	tcase_add_test(tc, evt_parse_refuses);
	tcase_add_test(tc, open_devices);
	suite_add_tcase(s, tc);
	return hl_check_run(s);
}
