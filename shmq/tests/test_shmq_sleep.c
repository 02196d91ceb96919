/* SPDX-License-Identifier: MIT */
/* Sleep/wake: 10^6 sleeps with no lost wake-up (spin budget 0, so every wait
 * that finds nothing arms the flag and sleeps in poll). A lost wake-up shows
 * as a 10 s timeout, reported as a failure. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hl_check.h"
#include "shmq_testlib.h"

#define HOPS 1000000u  /* messages, each one a wake-up of the other side */

static int echo(struct shmq_ep *ep, int sock, void *arg)
{
	uint64_t v;

	(void)sock;
	(void)arg;
	shmq_ep_set_spin(ep, 0);
	for (;;) {
		ssize_t n = shmq_recv(ep, &v, sizeof(v), 0);
		int rc;

		if (n == -EAGAIN) {
			int m = shmq_wait(ep, SHMQ_POLLIN, 10000);

			CHILD_CHECK(m > 0, "lost wake-up? wait = %d", m);
			continue;
		}
		if (n == -EPIPE)
			return 0;
		CHILD_CHECK(n == sizeof(v), "recv %zd", n);
		v++;
		while ((rc = shmq_send(ep, &v, sizeof(v))) == -EAGAIN)
			CHILD_CHECK(shmq_wait(ep, SHMQ_POLLOUT, 10000) > 0, "wait out");
		CHILD_CHECK(rc == 0, "send %d", rc);
	}
}

START_TEST(test_pingpong_sleep)
{
	struct t_remote rm;
	uint64_t v = 0;

	t_spawn(&rm, 4096, SHMQ_MODE_MSG, echo, NULL, SHMQ_PEER_PIDFD);
	shmq_ep_set_spin(rm.ep, 0);
	for (unsigned i = 0; i < HOPS / 2; i++) {
		uint64_t r;
		ssize_t n;

		VERIFY(rm.ep, shmq_send(rm.ep, &v, sizeof(v)) == 0, "send");
		while ((n = shmq_recv(rm.ep, &r, sizeof(r), 0)) == -EAGAIN) {
			int m = shmq_wait(rm.ep, SHMQ_POLLIN, 10000);

			VERIFY(rm.ep, m > 0, "lost wake-up at round %u? wait = %d", i, m);
		}
		VERIFY(rm.ep, n == sizeof(r) && r == v + 1, "round %u: %zd, %llu", i, n,
		       (unsigned long long)r);
		v = r + 1;
	}
	shmq_shutdown(rm.ep);
	ck_assert_int_eq(t_reap(&rm), 0);
	t_remote_close(&rm);
}
END_TEST

/* The other direction: a producer sleeping for space on a full ring. */
static int slow_reader(struct shmq_ep *ep, int sock, void *arg)
{
	uint8_t buf[4096];
	uint64_t total = 0;

	(void)arg;
	shmq_ep_set_spin(ep, 0);
	for (;;) {
		ssize_t n = shmq_read(ep, buf, sizeof(buf), 0);

		if (n == 0)
			break;
		if (n == -EAGAIN) {
			CHILD_CHECK(shmq_wait(ep, SHMQ_POLLIN, 10000) > 0, "lost wake-up (in)");
			continue;
		}
		CHILD_CHECK(n > 0, "read %zd", n);
		total += (uint64_t)n;
	}
	CHILD_CHECK(write(sock, &total, sizeof(total)) == sizeof(total), "report");
	return 0;
}

START_TEST(test_full_ring_sleep)
{
	static uint8_t buf[4096];
	struct t_remote rm;
	uint64_t total = 0, got;

	t_spawn(&rm, 4096, SHMQ_MODE_STREAM, slow_reader, NULL, SHMQ_PEER_PIDFD);
	shmq_ep_set_spin(rm.ep, 0);
	for (unsigned i = 0; i < 200000; i++) {
		ssize_t n = shmq_write(rm.ep, buf, sizeof(buf));

		if (n == -EAGAIN) {
			int m = shmq_wait(rm.ep, SHMQ_POLLOUT, 10000);

			VERIFY(rm.ep, m > 0, "lost wake-up (out) at %u? wait = %d", i, m);
			continue;
		}
		VERIFY(rm.ep, n > 0, "write %zd", n);
		total += (uint64_t)n;
	}
	shmq_shutdown(rm.ep);
	ck_assert_int_eq(read(rm.sock, &got, sizeof(got)), sizeof(got));
	ck_assert_uint_eq(got, total);
	ck_assert_int_eq(t_reap(&rm), 0);
	t_remote_close(&rm);
}
END_TEST

/* Single process: arm/handle_event as an epoll user would drive them. */
START_TEST(test_arm_protocol)
{
	struct t_pair p;
	uint64_t v;

	t_pair_open(&p, 4096, SHMQ_MODE_MSG, SHMQ_REGION_NO_HUGETLB);
	ck_assert_int_eq(shmq_ep_fd(p.b), p.efd_b);
	ck_assert_int_eq(shmq_arm(p.b, SHMQ_POLLIN), 0);  /* empty: armed */
	ck_assert_int_eq(read(p.efd_b, &v, sizeof(v)), -1); /* nothing yet */
	ck_assert_int_eq(shmq_send(p.a, "x", 1), 0);     /* must kick */
	ck_assert_int_eq(read(p.efd_b, &v, sizeof(v)), sizeof(v));
	ck_assert_int_eq(shmq_handle_event(p.b) & SHMQ_POLLIN, SHMQ_POLLIN);
	ck_assert_int_eq(shmq_send(p.a, "y", 1), 0);     /* disarmed: no kick */
	ck_assert_int_eq(read(p.efd_b, &v, sizeof(v)), -1);
	ck_assert_int_eq(shmq_arm(p.b, SHMQ_POLLIN), SHMQ_POLLIN); /* ready: do not sleep */
	ck_assert_int_eq(shmq_wait(p.b, SHMQ_POLLIN, 0), SHMQ_POLLIN);
	ck_assert_int_eq(shmq_wait(p.a, SHMQ_POLLIN, 0), -ETIMEDOUT);
	shmq_ep_set_spin(p.a, 0);
	ck_assert_int_eq(shmq_wait(p.a, SHMQ_POLLIN, 20), -ETIMEDOUT);
	t_pair_close(&p);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("shmq_sleep");
	TCase *tc = tcase_create("sleep");

	tcase_set_timeout(tc, 600);
	tcase_add_test(tc, test_arm_protocol);
	tcase_add_test(tc, test_pingpong_sleep);
	tcase_add_test(tc, test_full_ring_sleep);
	suite_add_tcase(s, tc);
	return hl_check_run(s);
}
