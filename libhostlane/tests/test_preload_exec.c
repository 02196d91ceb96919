/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the exec handover state parser (pl_exec_state.c): a
 * well-formed state is accepted as written, and each rule the new image
 * relies on rejects a state that breaks it. The end-to-end exec is in
 * sockcase 'exec' (test/integration/preload-semantics.sh).
 */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "hl_check.h"
#include "pl_private.h"

#define PID 777
#define MAXR 8

static union {
	uint64_t align;
	uint8_t b[sizeof(struct pl_exec_hdr) + MAXR * sizeof(struct pl_exec_rec)];
} st;

static struct pl_exec_hdr *hdr(void) { return (struct pl_exec_hdr *)st.b; }
static struct pl_exec_rec *rec(unsigned i) { return (struct pl_exec_rec *)(hdr() + 1) + i; }
static size_t len(void) { return sizeof(struct pl_exec_hdr) + hdr()->n_recs * sizeof(struct pl_exec_rec); }

/* listener fd 3 (fds 10 11), connection fd 5 (fds 12..15), pending fd 6,
 * a connection queued on the listener (16..19), a closed one (20..23). */
static void make_state(void)
{
	int next = 10;

	memset(&st, 0, sizeof(st));
	*hdr() = (struct pl_exec_hdr){ .magic = PL_EXEC_MAGIC, .version = PL_EXEC_VERSION,
				       .rec_size = sizeof(struct pl_exec_rec), .n_recs = 5,
				       .pid = PID, .shref_fd = 9 };
	uint32_t kinds[5] = { PL_X_LISTEN, PL_X_CONN, PL_X_PENDING, PL_X_QUEUED, PL_X_CLOSED };
	int fds[5] = { 3, 5, 6, 3, -1 };
	for (unsigned i = 0; i < 5; i++) {
		struct pl_exec_rec *r = rec(i);
		unsigned want = kinds[i] == PL_X_LISTEN ? 2 : kinds[i] == PL_X_PENDING ? 0 : 4;

		r->kind = kinds[i];
		r->fd = fds[i];
		r->family = AF_INET;
		r->shref = -1;
		for (unsigned k = 0; k < 4; k++)
			r->fds[k] = k < want ? next++ : -1;
		r->port = kinds[i] == PL_X_LISTEN || kinds[i] == PL_X_QUEUED ? 7300 : 0;
		r->peer_port = kinds[i] == PL_X_QUEUED ? 41000 : 0;
		r->qpeer.family = 4;
	}
	rec(1)->local_len = sizeof(struct sockaddr_in);
	((struct sockaddr_in *)(void *)rec(1)->local)->sin_family = AF_INET;
	rec(1)->rcvtimeo_us = 124000;
	rec(1)->sndtimeo_us = PL_TIMEO_NOW;
}

static int check_state(void)
{
	const struct pl_exec_rec *r = NULL;
	int shref = -2;
	int n = pl_exec_state_check(st.b, len(), PID, &r, &shref);

	if (n >= 0) {
		ck_assert_ptr_eq(r, rec(0));
		ck_assert_int_eq(shref, hdr()->shref_fd);
	}
	return n;
}

START_TEST(accepts_well_formed)
{
	make_state();
	ck_assert_int_eq(check_state(), 5);
	hdr()->n_recs = 0;
	ck_assert_int_eq(check_state(), 0);
}
END_TEST

START_TEST(rejects_header)
{
	const struct pl_exec_rec *r;
	int shref;

	make_state();
	ck_assert_int_eq(pl_exec_state_check(st.b, len(), PID + 1, &r, &shref), -ESRCH);
	ck_assert_int_eq(pl_exec_state_check(st.b, len() - 1, PID, &r, &shref), -EPROTO);
	ck_assert_int_eq(pl_exec_state_check(st.b, 4, PID, &r, &shref), -EPROTO);
	ck_assert_int_eq(pl_exec_state_check(st.b + 1, len() - 1, PID, &r, &shref), -EPROTO);
	hdr()->magic ^= 1;
	ck_assert_int_eq(check_state(), -EPROTO);
	make_state();
	hdr()->version++;
	ck_assert_int_eq(check_state(), -EPROTO);
	make_state();
	hdr()->rec_size--;
	ck_assert_int_eq(check_state(), -EPROTO);
	make_state();
	hdr()->n_recs = PL_EXEC_MAX_RECS + 1;
	ck_assert_int_eq(pl_exec_state_check(st.b, len(), PID, &r, &shref), -EPROTO);
	make_state();
	hdr()->shref_fd = PL_FD_MAX;
	ck_assert_int_eq(check_state(), -EPROTO);
}
END_TEST

/* A version 1 state (an older image) is read, without version 2's
 * fields. */
START_TEST(reads_version_1)
{
	make_state();
	rec(0)->flags |= PL_XF_OOBINLINE | PL_XF_LINGER;
	rec(0)->linger_s = 5;
	ck_assert_int_eq(check_state(), 5);
	hdr()->version = 1;
	ck_assert_int_eq(check_state(), -EPROTO);
	make_state();
	hdr()->version = 1;
	ck_assert_int_eq(check_state(), 5);
	rec(1)->linger_s = 1;
	ck_assert_int_eq(check_state(), -EPROTO);
	make_state();
	hdr()->version = 3;
	ck_assert_int_eq(check_state(), -EPROTO);
}
END_TEST

/* Each mutation of one field of a valid state must be refused. */
START_TEST(rejects_records)
{
	struct { unsigned i; size_t off; int64_t v; size_t sz; } m[] = {
		{ 0, offsetof(struct pl_exec_rec, kind), 0, 4 },
		{ 0, offsetof(struct pl_exec_rec, kind), 6, 4 },
		{ 0, offsetof(struct pl_exec_rec, flags), 0x800, 4 },
		{ 1, offsetof(struct pl_exec_rec, fd), -1, 4 },
		{ 1, offsetof(struct pl_exec_rec, fd), PL_FD_MAX, 4 },
		{ 1, offsetof(struct pl_exec_rec, fd), 3, 4 },                 /* not increasing */
		{ 1, offsetof(struct pl_exec_rec, family), AF_UNIX, 4 },
		{ 1, offsetof(struct pl_exec_rec, fds) + 12, -1, 4 },           /* a CONN fd missing */
		{ 0, offsetof(struct pl_exec_rec, fds) + 8, 30, 4 },            /* LISTEN has 2 */
		{ 1, offsetof(struct pl_exec_rec, fds), 5, 4 },                 /* fd named twice */
		{ 1, offsetof(struct pl_exec_rec, fds), 9, 4 },                 /* = the holder memfd */
		{ 1, offsetof(struct pl_exec_rec, side), 2, 4 },
		{ 1, offsetof(struct pl_exec_rec, shref), PL_SHREF_SLOTS, 4 },
		{ 1, offsetof(struct pl_exec_rec, pending_err), 4096, 4 },
		{ 1, offsetof(struct pl_exec_rec, so_error), -1, 4 },
		{ 1, offsetof(struct pl_exec_rec, rcvtimeo_us), -2, 8 },
		{ 1, offsetof(struct pl_exec_rec, sndtimeo_us), 1LL << 60, 8 },
		{ 1, offsetof(struct pl_exec_rec, local_len), 129, 4 },
		{ 1, offsetof(struct pl_exec_rec, local), AF_INET6, 2 },        /* family mismatch */
		{ 0, offsetof(struct pl_exec_rec, port), 0, 2 },
		{ 3, offsetof(struct pl_exec_rec, fd), 5, 4 },                  /* not a listener */
		{ 3, offsetof(struct pl_exec_rec, port), 7301, 2 },             /* not its port */
		{ 3, offsetof(struct pl_exec_rec, qpeer), 5, 1 },
		{ 4, offsetof(struct pl_exec_rec, fd), 7, 4 },                  /* CLOSED names no fd */
		{ 3, offsetof(struct pl_exec_rec, kind), PL_X_CONN, 4 },        /* own after queued */
	};

	for (size_t k = 0; k < sizeof(m) / sizeof(m[0]); k++) {
		int32_t v32 = (int32_t)m[k].v;
		uint16_t v16 = (uint16_t)m[k].v;
		uint8_t v8 = (uint8_t)m[k].v;
		const void *src = m[k].sz == 8 ? (const void *)&m[k].v : m[k].sz == 4 ? (const void *)&v32
				  : m[k].sz == 2 ? (const void *)&v16 : (const void *)&v8;

		make_state();
		memcpy((uint8_t *)rec(m[k].i) + m[k].off, src, m[k].sz);
		ck_assert_msg(check_state() == -EPROTO, "mutation %zu accepted", k);
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("preload_exec");
	TCase *tc = tcase_create("state");

	tcase_add_test(tc, accepts_well_formed);
	tcase_add_test(tc, rejects_header);
	tcase_add_test(tc, rejects_records);
	tcase_add_test(tc, reads_version_1);
	suite_add_tcase(s, tc);
	return hl_check_run(s);
}
