/* SPDX-License-Identifier: MIT */
/* Peer death: the producer is killed mid-stream; the consumer reads what was
 * queued and then gets -ECONNRESET from shmq_wait(timeout -1) instead of
 * waiting forever. Liveness through a pidfd or through the unix socket the
 * fds came over. Also the orderly close (end-of-stream). */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hl_check.h"
#include "shmq_private.h"
#include "shmq_testlib.h"

enum how { DIE_AWAKE, DIE_WHILE_PEER_SLEEPS, CLOSE_ORDERLY };

/*
 * In the producer: waits until the consumer sleeps for data, as the shared
 * ring says: it consumed everything we published (its index is ours) and
 * its waiting flag is set. shmq_wait() sets the flag, then looks once more
 * and sleeps; the flag is cleared after a wake-up, before the next read,
 * so with nothing left to read a set flag means the consumer is in (or
 * committed to) its last sleep. The deadline only turns a consumer that
 * never sleeps into a failure instead of a spinning orphan.
 */
static void wait_consumer_sleeps(struct shmq_ep *ep)
{
	struct shmq_half *h = &ep->tx;
	struct timespec t0, now;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		/* Acquire: pairs with the consumer's release store of `cons`. */
		uint64_t cons = atomic_load_explicit(&h->hdr->cons, memory_order_acquire);

		atomic_thread_fence(memory_order_seq_cst);
		if (cons == h->head &&
		    atomic_load_explicit(&h->hdr->cons_waiting, memory_order_relaxed))
			return;
		clock_gettime(CLOCK_MONOTONIC, &now);
		CHILD_CHECK(now.tv_sec - t0.tv_sec < 50, "the consumer never went to sleep");
		sched_yield();
	}
}

/* Child: write a random amount, report it on the socket, then die or close. */
static int producer(struct shmq_ep *ep, int sock, void *arg)
{
	enum how how = *(enum how *)arg;
	uint8_t buf[1000];
	uint64_t s = (uint64_t)getpid(), total = 0, n = 1000 + t_rand(&s) % 200000;

	memset(buf, 0x42, sizeof(buf));
	while (total < n) {
		size_t l = 1 + (size_t)(t_rand(&s) % sizeof(buf));

		t_write_all(ep, buf, l < n - total ? l : (size_t)(n - total));
		total += l < n - total ? l : n - total;
	}
	CHILD_CHECK(write(sock, &total, sizeof(total)) == sizeof(total), "report");
	if (how == CLOSE_ORDERLY)
		return 0;  /* child_main closes the endpoint: end-of-stream */
	if (how == DIE_WHILE_PEER_SLEEPS)
		wait_consumer_sleeps(ep);
	raise(SIGKILL);
	return 1;
}

static void run(enum how how, int live_kind)
{
	struct t_remote rm;
	uint8_t buf[4096];
	uint64_t got = 0, sent;
	int end;

	t_spawn(&rm, 16384, SHMQ_MODE_STREAM, producer, &how, live_kind);
	shmq_ep_set_spin(rm.ep, 0);
	for (;;) {
		ssize_t n = shmq_read(rm.ep, buf, sizeof(buf), 0);

		if (n > 0) {
			got += (uint64_t)n;
			continue;
		}
		if (n == 0) {
			end = 0;
			break;
		}
		VERIFY(rm.ep, n == -EAGAIN, "read %zd", n);
		end = shmq_wait(rm.ep, SHMQ_POLLIN, -1);
		if (end == -ECONNRESET)
			break;
		VERIFY(rm.ep, end > 0, "wait %d", end);
	}
	ck_assert_int_eq(read(rm.sock, &sent, sizeof(sent)), sizeof(sent));
	ck_assert_uint_eq(got, sent);
	if (how == CLOSE_ORDERLY) {
		ck_assert_int_eq(end, 0);
		ck_assert_int_eq(t_reap(&rm), 0);
	} else {
		ck_assert_int_eq(end, -ECONNRESET);
		ck_assert_int_eq(t_reap(&rm), 128 + SIGKILL);
	}
	t_remote_close(&rm);
}

START_TEST(test_killed_pidfd)
{
	run(DIE_AWAKE, SHMQ_PEER_PIDFD);
}
END_TEST

START_TEST(test_killed_socket)
{
	run(DIE_AWAKE, SHMQ_PEER_SOCKET);
}
END_TEST

START_TEST(test_killed_while_sleeping)
{
	run(DIE_WHILE_PEER_SLEEPS, _i ? SHMQ_PEER_SOCKET : SHMQ_PEER_PIDFD);
}
END_TEST

START_TEST(test_orderly_close)
{
	run(CLOSE_ORDERLY, SHMQ_PEER_PIDFD);
}
END_TEST

/* A dead producer in message mode: -ECONNRESET too. */
static int msg_then_die(struct shmq_ep *ep, int sock, void *arg)
{
	(void)sock;
	(void)arg;
	CHILD_CHECK(shmq_send(ep, "last words", 10) == 0, "send");
	raise(SIGKILL);
	return 1;
}

START_TEST(test_killed_msg)
{
	struct t_remote rm;
	char buf[64];
	ssize_t n;
	int m;

	t_spawn(&rm, 4096, SHMQ_MODE_MSG, msg_then_die, NULL, SHMQ_PEER_PIDFD);
	while ((n = shmq_recv(rm.ep, buf, sizeof(buf), 0)) == -EAGAIN)
		VERIFY(rm.ep, shmq_wait(rm.ep, SHMQ_POLLIN, -1) > 0, "first message");
	VERIFY(rm.ep, n == 10 && memcmp(buf, "last words", 10) == 0, "recv %zd", n);
	m = shmq_wait(rm.ep, SHMQ_POLLIN, -1);
	VERIFY(rm.ep, m == -ECONNRESET, "wait %d", m);
	ck_assert_int_eq(t_reap(&rm), 128 + SIGKILL);
	t_remote_close(&rm);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("shmq_death");
	TCase *tc = tcase_create("death");

	/* The Check timeout is the bound: a missed death would hang here. */
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_killed_pidfd);
	tcase_add_test(tc, test_killed_socket);
	tcase_add_loop_test(tc, test_killed_while_sleeping, 0, 2);
	tcase_add_test(tc, test_orderly_close);
	tcase_add_test(tc, test_killed_msg);
	suite_add_tcase(s, tc);
	return hl_check_run(s);
}
