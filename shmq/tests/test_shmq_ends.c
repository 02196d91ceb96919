/* SPDX-License-Identifier: MIT */
/* How a side ends a pair and what the other sees (shmq_peer_flags():
 * shutdown, close, reset), and urgent data in byte-stream mode, including
 * a peer that writes nonsense in the urgent mark. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shmq_abi.h"
#include "shmq_testlib.h"
#include "hl_check.h"

START_TEST(test_peer_flags)
{
	struct t_pair p;
	uint8_t out[16];

	t_pair_open(&p, 4096, SHMQ_MODE_STREAM, SHMQ_REGION_NO_HUGETLB);
	VERIFY(p.b, shmq_peer_flags(p.b) == 0, "open");
	VERIFY(p.a, shmq_write(p.a, "ab", 2) == 2, "write");
	shmq_shutdown(p.a);
	VERIFY(p.b, shmq_peer_flags(p.b) == SHMQ_PF_SHUT, "shut down: no more data");
	VERIFY(p.a, shmq_peer_flags(p.a) == 0, "the reader is still there");
	/* A reset after a shutdown replaces it, and a close after it does not
	 * lower it again (two endpoints of a side: a forked process). */
	shmq_ep_abort(p.a);
	p.a = shmq_ep_attach(p.r, 0, 0);
	ck_assert_ptr_nonnull(p.a);
	VERIFY(p.b, shmq_peer_flags(p.b) == (SHMQ_PF_SHUT | SHMQ_PF_RESET | SHMQ_PF_GONE),
	       "reset");
	shmq_ep_close(p.a);
	p.a = NULL;
	VERIFY(p.b, shmq_peer_flags(p.b) & SHMQ_PF_RESET, "a close does not undo a reset");
	/* The data queued before the reset stays readable. */
	VERIFY(p.b, shmq_read(p.b, out, sizeof(out), 0) == 2 && !memcmp(out, "ab", 2), "data");
	p.a = shmq_ep_attach(p.r, 0, 0);
	t_pair_close(&p);

	t_pair_open(&p, 4096, SHMQ_MODE_STREAM, SHMQ_REGION_NO_HUGETLB);
	shmq_ep_close(p.b);
	p.b = NULL;
	VERIFY(p.a, shmq_peer_flags(p.a) == (SHMQ_PF_SHUT | SHMQ_PF_GONE), "closed, not reset");
	p.b = shmq_ep_attach(p.r, 0, 1);
	t_pair_close(&p);
}
END_TEST

START_TEST(test_urgent)
{
	struct t_pair p;
	struct shmq_urgent u;
	uint8_t out[16];

	t_pair_open(&p, 4096, SHMQ_MODE_STREAM, SHMQ_REGION_NO_HUGETLB);
	VERIFY(p.a, shmq_urgent_mark(p.a) == -EINVAL, "nothing written yet");
	VERIFY(p.b, shmq_urgent(p.b, &u) == 0, "no mark");
	VERIFY(p.a, shmq_write(p.a, "abcX", 4) == 4, "write");
	VERIFY(p.a, shmq_urgent_mark(p.a) == 0, "mark");
	VERIFY(p.b, shmq_urgent(p.b, &u) == 1 && u.pos == 3 && u.head == 0 && u.byte == 'X' &&
	       !u.taken, "the last byte written");
	shmq_urgent_take(p.b, u.pos);
	VERIFY(p.b, shmq_urgent(p.b, &u) == 1 && u.taken, "taken");
	VERIFY(p.b, shmq_read(p.b, out, 3, 0) == 3, "up to the mark");
	VERIFY(p.b, shmq_urgent(p.b, &u) == 1 && u.head == 3, "at the mark");
	VERIFY(p.b, shmq_read(p.b, out, 1, 0) == 1, "past it");
	VERIFY(p.b, shmq_urgent(p.b, &u) == 0, "read: gone");
	/* A later mark replaces the earlier one. */
	VERIFY(p.a, shmq_write(p.a, "12", 2) == 2 && shmq_urgent_mark(p.a) == 0, "mark 2");
	VERIFY(p.a, shmq_write(p.a, "3", 1) == 1 && shmq_urgent_mark(p.a) == 0, "mark 3");
	VERIFY(p.b, shmq_urgent(p.b, &u) == 1 && u.pos == 6 && u.byte == '3', "latest");
	VERIFY(p.b, shmq_read(p.b, out, sizeof(out), 0) == 3, "the data is intact");
	/* Message mode has none. */
	t_pair_close(&p);
	t_pair_open(&p, 4096, SHMQ_MODE_MSG, SHMQ_REGION_NO_HUGETLB);
	VERIFY(p.a, shmq_send(p.a, "m", 1) == 0 && shmq_urgent_mark(p.a) == -EINVAL, "msg");
	VERIFY(p.b, shmq_urgent(p.b, &u) == 0, "msg");
	t_pair_close(&p);
}
END_TEST

/* A peer that writes nonsense in its urgent mark: ignored, the endpoint
 * stays usable. */
START_TEST(test_urgent_hostile)
{
	size_t len = shmq_pair_bytes(4096);
	uint8_t *mem = aligned_alloc(128, len), out[8];
	struct shmq_abi_ring *r0 = (struct shmq_abi_ring *)mem;
	struct shmq_urgent u;
	struct shmq_ep *a, *b;

	ck_assert_ptr_nonnull(mem);
	ck_assert_int_eq(shmq_pair_format(mem, len, 4096, SHMQ_MODE_STREAM), 0);
	a = shmq_ep_open(mem, len, 0);
	b = shmq_ep_open(mem, len, 1);
	ck_assert(a && b);
	VERIFY(a, shmq_write(a, "abc", 3) == 3, "write");
	atomic_store(&r0->urg_ptr, UINT64_C(1) << 40);
	VERIFY(b, shmq_urgent(b, &u) == -EPROTO, "past the data");
	atomic_store(&r0->urg_ptr, 4);
	VERIFY(b, shmq_urgent(b, &u) == -EPROTO, "one past the data");
	VERIFY(b, !shmq_ep_broken(b), "ignored, not broken");
	VERIFY(b, shmq_read(b, out, 2, 0) == 2, "read");
	atomic_store(&r0->urg_ptr, 1);
	VERIFY(b, shmq_urgent(b, &u) == 0, "already read: none");
	atomic_store(&r0->urg_ptr, 3);
	VERIFY(b, shmq_urgent(b, &u) == 1 && u.byte == 'c', "a real one");
	atomic_store(&r0->prod_closed, 77);
	VERIFY(b, shmq_peer_flags(b) == SHMQ_PF_SHUT, "an unknown value is a plain close");
	shmq_ep_detach(a);
	shmq_ep_detach(b);
	free(mem);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("shmq_ends");
	TCase *tc = tcase_create("ends");

	tcase_add_test(tc, test_peer_flags);
	tcase_add_test(tc, test_urgent);
	tcase_add_test(tc, test_urgent_hostile);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return hl_check_run(suite());
}
