/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fpga-ctl's device driver against hostlane-fpga-model (the RTL under
 * Verilator, behind its socket): the same driver code a board gets over
 * vfio. Register map and geometry, DMA mappings of a hugepage memfd,
 * queue set-up and read-back, doorbells (and those the device drops),
 * counters, reset; a connection set up by the RTL's request pipeline
 * (completion, ACCEPT, MISS); a model that is not there; a PCI device that is not
 * there (the vfio path up to where this machine stops).
 */
#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fctl_model_proc.h"
#include "fctl_rig.h"
#include "hl_check.h"

static struct fctl_model_proc mp = { .pid = -1 };

static void start_model(void)
{
	fctl_model_start(&mp, "fpga-model");
}

static void stop_model(void)
{
	int st = fctl_model_stop(&mp);

	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

START_TEST(model_registers)
{
	struct fpgactl_opts o = { .device = mp.dev };
	struct fpgactl *f = fpgactl_open(&o);
	struct fpgactl_caps c;

	ck_assert_ptr_nonnull(f);
	ck_assert_str_eq(fpgactl_name(f), "model");
	ck_assert_int_eq(fpgactl_caps(f, &c), 0);
	ck_assert_uint_eq(c.version, FPGACTL_ABI_MAJOR << 16 | FPGACTL_ABI_MINOR);
	ck_assert_uint_eq(c.nq, 64);
	ck_assert_uint_eq(c.pod_log2, 8);
	ck_assert_uint_eq(c.svc_log2, 6);
	ck_assert_uint_eq(c.n_pods, 4096);
	ck_assert_int_eq(fpgactl_wait_idle(f, 1000), 0);
	fpgactl_close(f);
}
END_TEST

START_TEST(model_queues)
{
	struct rig r;
	struct fpgactl_req q[5];
	struct fpgactl_qstate st;
	uint64_t cnt[FPGACTL_CNT_N];

	rig_open(&r, mp.dev);  /* maps the memfd for DMA, enables queue 0, runs */
	rig_queue(&r, 1, 1, RIG_LOG2);
	memset(q, 0, sizeof(q));
	ck_assert_uint_eq(fpgactl_rq_push(rig_rq(&r, 1), RIG_LOG2, q, 5), 5);
	ck_assert_int_eq(fpgactl_run(r.f, false), 0);
	ck_assert_int_eq(fpgactl_doorbell(r.f, 1, 2), 0);
	ck_assert_int_eq(fpgactl_doorbell(r.f, 1, fpgactl_rq_tail(rig_rq(&r, 1))), 0);
	ck_assert_int_eq(fpgactl_queue_read(r.f, 1, &st), 0);
	ck_assert_uint_eq(st.tail, 5);
	ck_assert_uint_eq(st.head, 0);
	ck_assert_uint_eq(st.state, FPGACTL_QS_ENABLED);
	ck_assert_int_eq(fpgactl_queue_read(r.f, 0, &st), 0);
	ck_assert_uint_eq(st.state, FPGACTL_QS_ENABLED | FPGACTL_QS_ADMIN);
	/* stopped with work queued: not idle */
	ck_assert_int_eq(fpgactl_wait_idle(r.f, 50), -ETIMEDOUT);
	/* a doorbell past the engine: refused, dropped and counted by the device */
	ck_assert_int_eq(fpgactl_doorbell(r.f, 100, 1), -EINVAL);
	ck_assert_int_eq(fpgactl_counters(r.f, cnt), 0);
	ck_assert_uint_eq(cnt[FPGACTL_CNT_DROPS], 1);
	ck_assert_uint_gt(cnt[FPGACTL_CNT_CYCLES], 0);
	ck_assert_int_eq(fpgactl_queue_disable(r.f, 1), 0);
	ck_assert_int_eq(fpgactl_queue_read(r.f, 1, &st), 0);
	ck_assert_uint_eq(st.state, 0);
	ck_assert_int_eq(fpgactl_reset(r.f), 0);
	ck_assert_int_eq(fpgactl_queue_read(r.f, 0, &st), 0);
	ck_assert_uint_eq(st.state, 0);
	ck_assert_int_eq(fpgactl_counters(r.f, cnt), 0);
	ck_assert_uint_eq(cnt[FPGACTL_CNT_DROPS], 0);
	ck_assert_int_eq(fpgactl_wait_idle(r.f, 1000), 0);
	/* memory the device may reach: mapped, unmapped, unknown */
	ck_assert_int_eq(fpgactl_mem_unmap(r.f, r.iova), 0);
	ck_assert_int_eq(fpgactl_mem_unmap(r.f, r.iova), -ENOENT);
	ck_assert_int_eq(fpgactl_mem_map(r.f, r.fd, r.mem, RIG_MEM, &r.iova), 0);
	rig_close(&r);
}
END_TEST

/* A connection set up by the device: pods, a listener, a pair's region
 * written through the admin queue, a CONNECT from another pod's queue,
 * the completion and the ACCEPT event written by the RTL's request
 * pipeline through its DMA port into the driver's memfd; then the miss
 * path (no free slot: a MISS to the admin queue). The device's counters
 * show the requests went through it. */
START_TEST(model_connect_accept)
{
	struct rig r;
	struct fpgactl_req q;
	struct fpgactl_evt ev[4];
	uint64_t cnt[FPGACTL_CNT_N];
	uint8_t a[16];

	rig_open(&r, mp.dev);
	for (unsigned i = 1; i <= 2; i++) {
		rig_queue(&r, i, i, RIG_LOG2);
		rig_pod(&r, i);
	}
	q = rig_listen(80, 1, 0);
	rig_submit(&r, 1, &q, 1);
	ck_assert_int_eq(rig_pop(&r, 1, ev, 4), 1);
	ck_assert_int_eq(ev[0].status, 0);
	fpgactl_tw_pair(&q, ++r.tag, 2, 1, 7, 0x1, false);
	ck_assert_int_eq(rig_admin(&r, &q), 0);

	q = rig_connect(1, 80, 2, 5555);
	rig_submit(&r, 2, &q, 1);
	ck_assert_int_eq(rig_pop(&r, 2, ev, 4), 1);
	ck_assert_uint_eq(ev[0].type, FPGACTL_EVT_CPL);
	ck_assert_int_eq(ev[0].status, 0);
	ck_assert_uint_eq(ev[0].tag, 5555);
	ck_assert_uint_eq(ev[0].queue, 1);
	ck_assert_uint_eq(ev[0].region, 7);
	ck_assert_uint_eq(ev[0].slot, 0);
	rig_ip(a, 1);
	ck_assert_mem_eq(ev[0].peer, a, 16);
	ck_assert_int_eq(rig_pop(&r, 1, ev, 4), 1);
	ck_assert_uint_eq(ev[0].type, FPGACTL_EVT_ACCEPT);
	ck_assert_uint_eq(ev[0].queue, 2);
	ck_assert_uint_eq(ev[0].region, 7);
	ck_assert_uint_eq(ev[0].port, 80);
	ck_assert_uint_eq(ev[0].lport, 5555);
	rig_ip(a, 2);
	ck_assert_mem_eq(ev[0].peer, a, 16);

	/* the region's one slot is taken: software decides (MISS) */
	q = rig_connect(1, 80, 2, 5556);
	rig_submit(&r, 2, &q, 1);
	ck_assert_int_eq(rig_pop(&r, 2, ev, 4), 0);
	ck_assert_int_eq(rig_pop(&r, 0, ev, 4), 1);
	ck_assert_uint_eq(ev[0].type, FPGACTL_EVT_MISS);
	ck_assert_uint_eq(ev[0].reason, FPGACTL_R_REGION_FULL);
	ck_assert_uint_eq(ev[0].lport, 5556);
	ck_assert_int_eq(fpgactl_counters(r.f, cnt), 0);
	ck_assert_uint_eq(cnt[FPGACTL_CNT_REQS], 6);  /* 2 pods, listen, pair, 2 connects */
	ck_assert_uint_eq(cnt[FPGACTL_CNT_MISSES], 1);
	rig_close(&r);
}
END_TEST

START_TEST(no_device)
{
	struct fpgactl_opts o = { .device = "model:/nonexistent/hl-fpga.sock" };

	ck_assert_ptr_null(fpgactl_open(&o));
	ck_assert_int_eq(errno, ENODEV);
	/* vfio: a PCI address with no device (or no IOMMU group) behind it */
	o.device = "0000:ff:1f.7";
	ck_assert_ptr_null(fpgactl_open(&o));
	ck_assert_int_eq(errno, ENODEV);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("fctl_model");
	TCase *tc = tcase_create("model");

	tcase_add_checked_fixture(tc, start_model, stop_model);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, model_registers);
	tcase_add_test(tc, model_queues);
	tcase_add_test(tc, model_connect_accept);
	suite_add_tcase(s, tc);
	tc = tcase_create("absent");
	tcase_add_test(tc, no_device);
	suite_add_tcase(s, tc);
	return hl_check_run(s);
}
