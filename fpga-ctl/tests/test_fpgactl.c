/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of the control-plane backend interface (software backend). */
#include <check.h>
#include <errno.h>
#include <poll.h>
#include <stdlib.h>

#include "fpgactl.h"
#include "hl_check.h"

static void handler(void *arg, const struct fpgactl_cmd *cmd, struct fpgactl_cpl *cpl)
{
	unsigned *calls = arg;

	(*calls)++;
	if (cmd->op == FPGACTL_OP_CONNECT && cmd->port == 0)
		cpl->status = -EINVAL;
	else if (cmd->op == FPGACTL_OP_CONNECT)
		cpl->slot = cmd->port % 7, cpl->conn = 1000 + cmd->cookie;
}

static int readable(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, 0) == 1;
}

START_TEST(sw_batch_and_doorbell)
{
	unsigned calls = 0;
	struct fpgactl_opts o = { .queue_depth = 8, .handler = handler, .handler_arg = &calls };
	struct fpgactl *f = fpgactl_open(&fpgactl_sw_backend, &o);
	struct fpgactl_cmd cmds[3] = {
		{ .op = FPGACTL_OP_CONNECT, .port = 80, .cookie = 1 },
		{ .op = FPGACTL_OP_CONNECT, .port = 0, .cookie = 2 },
		{ .op = 99, .cookie = 3 },
	};
	struct fpgactl_cpl c[8];

	ck_assert_ptr_nonnull(f);
	ck_assert_str_eq(fpgactl_name(f), "software");
	ck_assert(!readable(fpgactl_fd(f)));
	ck_assert_int_eq(fpgactl_submit(f, cmds, 3), 3);
	ck_assert(readable(fpgactl_fd(f)));
	ck_assert_int_eq(fpgactl_poll(f, c, 8), 3);
	ck_assert(!readable(fpgactl_fd(f)));
	ck_assert_uint_eq(calls, 2);  /* the unknown op never reaches the handler */
	ck_assert_uint_eq(c[0].cookie, 1);
	ck_assert_int_eq(c[0].status, 0);
	ck_assert_uint_eq(c[0].conn, 1001);
	ck_assert_uint_eq(c[0].slot, 80 % 7);
	ck_assert_int_eq(c[1].status, -EINVAL);
	ck_assert_int_eq(c[2].status, -EOPNOTSUPP);
	ck_assert_int_eq(fpgactl_poll(f, c, 8), 0);
	fpgactl_close(f);
}
END_TEST

START_TEST(sw_queue_full)
{
	unsigned calls = 0;
	struct fpgactl_opts o = { .queue_depth = 4, .handler = handler, .handler_arg = &calls };
	struct fpgactl *f = fpgactl_open(&fpgactl_sw_backend, &o);
	struct fpgactl_cmd cmds[6];
	struct fpgactl_cpl c[6];

	for (int i = 0; i < 6; i++)
		cmds[i] = (struct fpgactl_cmd){ .op = FPGACTL_OP_NOP, .cookie = (uint64_t)i };
	ck_assert_int_eq(fpgactl_submit(f, cmds, 6), 4);
	ck_assert_int_eq(fpgactl_submit(f, cmds + 4, 2), -EAGAIN);
	ck_assert_int_eq(fpgactl_poll(f, c, 2), 2);
	ck_assert(readable(fpgactl_fd(f)));  /* two still pending */
	ck_assert_int_eq(fpgactl_submit(f, cmds + 4, 2), 2);
	ck_assert_int_eq(fpgactl_poll(f, c, 6), 4);
	ck_assert_uint_eq(c[3].cookie, 5);  /* in order */
	fpgactl_close(f);
}
END_TEST

START_TEST(open_errors)
{
	struct fpgactl_opts o = { 0 };

	ck_assert_ptr_null(fpgactl_open(&fpgactl_sw_backend, &o));
	ck_assert_int_eq(errno, EINVAL);
	o.handler = handler;
	o.queue_depth = 3;
	ck_assert_ptr_null(fpgactl_open(&fpgactl_sw_backend, &o));
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_ptr_null(fpgactl_open(NULL, &o));
	fpgactl_close(NULL);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("fctl");
	TCase *tc = tcase_create("sw");

	tcase_add_test(tc, sw_batch_and_doorbell);
	tcase_add_test(tc, sw_queue_full);
	tcase_add_test(tc, open_errors);
	suite_add_tcase(s, tc);
	return hl_check_run(s);
}
