/* SPDX-License-Identifier: MIT */
/* A hostile peer: table-driven corruptions of every shared field, and a
 * second process scribbling random values over headers, indices and records
 * while this one produces and consumes (under ASan in make SAN=1 test). */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "hl_check.h"
#include "shmq_abi.h"
#include "shmq_testlib.h"

#define CAP 4096u

enum when { AT_ATTACH, AT_CONSUME, AT_PRODUCE };

struct hcase {
	const char *name;
	enum shmq_mode mode;
	enum when when;
	int prep;  /* queue one valid 100-byte message a->b first */
};

static const struct hcase cases[] = {
	{ "bad magic", SHMQ_MODE_MSG, AT_ATTACH, 0 },
	{ "bad major", SHMQ_MODE_MSG, AT_ATTACH, 0 },
	{ "capacity not a power of two", SHMQ_MODE_STREAM, AT_ATTACH, 0 },
	{ "capacity beyond the mapping", SHMQ_MODE_STREAM, AT_ATTACH, 0 },
	{ "bad data offset", SHMQ_MODE_MSG, AT_ATTACH, 0 },
	{ "modes differ", SHMQ_MODE_MSG, AT_ATTACH, 0 },
	{ "max record too big", SHMQ_MODE_MSG, AT_ATTACH, 0 },
	{ "indices too far apart", SHMQ_MODE_STREAM, AT_ATTACH, 0 },
	{ "unaligned index (msg)", SHMQ_MODE_MSG, AT_ATTACH, 0 },
	{ "prod beyond capacity", SHMQ_MODE_STREAM, AT_CONSUME, 0 },
	{ "prod backwards", SHMQ_MODE_STREAM, AT_CONSUME, 1 },
	{ "prod huge", SHMQ_MODE_MSG, AT_CONSUME, 0 },
	{ "prod unaligned (msg)", SHMQ_MODE_MSG, AT_CONSUME, 1 },
	{ "record len > max", SHMQ_MODE_MSG, AT_CONSUME, 1 },
	{ "record len > published", SHMQ_MODE_MSG, AT_CONSUME, 1 },
	{ "record kind unknown", SHMQ_MODE_MSG, AT_CONSUME, 1 },
	{ "pad at position 0", SHMQ_MODE_MSG, AT_CONSUME, 1 },
	{ "pad beyond published", SHMQ_MODE_MSG, AT_CONSUME, 2 },
	{ "prod ends inside a record", SHMQ_MODE_MSG, AT_CONSUME, 2 },
	{ "cons beyond prod", SHMQ_MODE_STREAM, AT_PRODUCE, 1 },
	{ "cons backwards", SHMQ_MODE_MSG, AT_PRODUCE, 1 },
	{ "cons huge", SHMQ_MODE_MSG, AT_PRODUCE, 0 },
};

static void corrupt(int id, struct shmq_abi_ring *r0, struct shmq_abi_ring *r1, uint8_t *d0)
{
	struct shmq_abi_rec *rec0 = (struct shmq_abi_rec *)d0;

	switch (id) {
	case 0: r0->magic ^= 1; break;
	case 1: r1->major++; break;
	case 2: r0->capacity = CAP + 8; break;
	case 3: r1->capacity = CAP * 2; break;
	case 4: r0->data_off = 64; break;
	case 5: r1->mode = SHMQ_ABI_MODE_STREAM; break;
	case 6: r0->max_record = CAP; break;
	case 7: atomic_store(&r0->prod, CAP + 1); break;
	case 8: atomic_store(&r1->cons, 4); atomic_store(&r1->prod, 4); break;
	case 9: atomic_store(&r0->prod, CAP + 1); break;
	case 10: atomic_store(&r0->prod, 50); break; /* after 100 were readable */
	case 11: atomic_store(&r0->prod, UINT64_MAX - 7); break;
	case 12: atomic_store(&r0->prod, atomic_load(&r0->prod) + 4); break;
	case 13: atomic_store(&rec0->len, CAP); break;
	case 14: atomic_store(&rec0->len, 200); break;
	case 15: atomic_store(&rec0->kind, 7); break;
	case 16: atomic_store(&rec0->kind, SHMQ_REC_PAD); break;
	case 17: { /* message 2 sits at 112; make it a PAD that claims to the end */
		struct shmq_abi_rec *r2 = (struct shmq_abi_rec *)(d0 + 112);

		atomic_store(&r2->kind, SHMQ_REC_PAD);
		break;
	}
	case 18: atomic_store(&r0->prod, 112 + 8); break; /* header of message 2 only */
	case 19: atomic_store(&r0->cons, atomic_load(&r0->prod) + CAP); break;
	case 20: atomic_store(&r0->cons, 0); break; /* after consuming 112 */
	case 21: atomic_store(&r0->cons, UINT64_MAX - 7); break;
	}
}

START_TEST(test_corruptions)
{
	const struct hcase *c = &cases[_i];
	size_t len = shmq_pair_bytes(CAP);
	uint8_t *mem = aligned_alloc(128, len), buf[256];
	struct shmq_abi_ring *r0 = (struct shmq_abi_ring *)mem;
	struct shmq_abi_ring *r1 = (struct shmq_abi_ring *)(mem + len / 2);
	uint8_t *d0 = mem + SHMQ_RING_HDR_SIZE;
	struct shmq_ep *a, *b;
	ssize_t rc = 0;

	ck_assert(mem);
	ck_assert_int_eq(shmq_pair_format(mem, len, CAP, c->mode), 0);
	if (c->when == AT_ATTACH) {
		corrupt(_i, r0, r1, d0);
		a = shmq_ep_open(mem, len, 0);
		b = shmq_ep_open(mem, len, 1);
		ck_assert_msg(!a && !b && errno == EPROTO, "%s: attach accepted", c->name);
		free(mem);
		return;
	}
	a = shmq_ep_open(mem, len, 0);
	b = shmq_ep_open(mem, len, 1);
	ck_assert(a && b);
	memset(buf, 1, sizeof(buf));
	for (int i = 0; i < c->prep; i++) {
		if (c->mode == SHMQ_MODE_MSG)
			ck_assert_int_eq(shmq_send(a, buf, 100), 0);
		else
			ck_assert_int_eq(shmq_write(a, buf, 100), 100);
	}
	if (_i == 20) {
		/* a must have seen cons = 112 before it goes back: fill the ring
		 * until a refreshes its view of cons. */
		ck_assert_int_eq(shmq_recv(b, buf, sizeof(buf), 0), 100);
		while (shmq_send(a, buf, 200) == 0)
			;
	}
	if (_i == 10) /* b must have seen prod = 100 before it goes back */
		ck_assert_int_eq(shmq_read(b, buf, 1, SHMQ_PEEK), 1);
	corrupt(_i, r0, r1, d0);
	if (c->when == AT_CONSUME) {
		if (c->mode == SHMQ_MODE_MSG) {
			rc = shmq_recv(b, buf, sizeof(buf), 0);
			if ((_i == 17 || _i == 18) && rc == 100) /* message 1 is fine */
				rc = shmq_recv(b, buf, sizeof(buf), 0);
		} else {
			rc = shmq_read(b, buf, sizeof(buf), 0);
		}
		VERIFY(b, rc == -EPROTO, "%s: got %zd", c->name, rc);
		VERIFY(b, shmq_ep_broken(b), "%s: not broken", c->name);
		VERIFY(b, shmq_poll(b) == SHMQ_POLLERR, "%s: poll", c->name);
		VERIFY(b, shmq_readable(b) == -EPROTO, "%s: sticky", c->name);
		VERIFY(b, shmq_send(b, buf, 1) == -EPROTO || c->mode != SHMQ_MODE_MSG, "sticky tx");
		VERIFY(b, shmq_wait(b, SHMQ_POLLIN, 1000) == SHMQ_POLLERR, "%s: wait", c->name);
	} else {
		/* force a refresh of cons: ask for more than the cached free space */
		for (int i = 0; i < 100 && rc >= 0; i++)
			rc = c->mode == SHMQ_MODE_MSG ? shmq_send(a, buf, 200)
						       : shmq_write(a, buf, sizeof(buf));
		VERIFY(a, rc == -EPROTO, "%s: got %zd", c->name, rc);
		VERIFY(a, shmq_ep_broken(a), "%s: not broken", c->name);
		VERIFY(a, shmq_writable(a) == -EPROTO, "%s: sticky", c->name);
	}
	shmq_ep_close(a);
	shmq_ep_close(b);
	free(mem);
}
END_TEST

/* ---- Random scribbler in another process -------------------------------- */

static int scribbler(struct shmq_ep *ep, int sock, void *arg)
{
	uint64_t s = 0x1234567u ^ (uint64_t)getpid();
	size_t len = shmq_pair_bytes(CAP);
	uint8_t *pair = arg;  /* inherited mapping of the parent's pair */
	struct shmq_abi_ring *r1 = (struct shmq_abi_ring *)(pair + len / 2);
	uint8_t *d1 = pair + len / 2 + SHMQ_RING_HDR_SIZE;
	char go;

	(void)ep;
	CHILD_CHECK(write(sock, "r", 1) == 1, "ready");
	CHILD_CHECK(read(sock, &go, 1) == 1, "go");
	for (;;) { /* until the parent kills us */
		uint64_t v = t_rand(&s), w = t_rand(&s);

		switch (v & 7) {
		case 0: /* any aligned word anywhere in the pair */
			memcpy(pair + ((w % len) & ~(uint64_t)7), &v, 8);
			break;
		case 1: /* a plausible producer step on ring 1 */
			atomic_store(&r1->prod, atomic_load(&r1->cons) + (w % (2 * CAP)));
			break;
		case 2: { /* a record header at the consumer's position */
			struct shmq_abi_rec *rec = (struct shmq_abi_rec *)
				(d1 + (atomic_load(&r1->cons) & (CAP - 1) & ~(uint64_t)7));

			atomic_store(&rec->len, (uint32_t)(w % (CAP / 2)));
			atomic_store(&rec->kind, (uint32_t)(v >> 60) & 1);
			break;
		}
		case 3: /* any index or flag */
			atomic_store(&r1->cons, w);
			atomic_store((_Atomic uint64_t *)&((struct shmq_abi_ring *)pair)->cons,
				     atomic_load(&((struct shmq_abi_ring *)pair)->prod) - (w & 0xfff));
			break;
		case 4:
			atomic_store(&r1->prod_closed, (uint32_t)w);
			atomic_store(&r1->prod_waiting, (uint32_t)(w >> 32));
			break;
		case 5: /* the configuration block */
			pair[(w % 128)] = (uint8_t)v;
			break;
		default: /* a random byte */
			pair[w % len] = (uint8_t)v;
			break;
		}
	}
	return 0;
}

START_TEST(test_scribbler)
{
	enum shmq_mode mode = _i ? SHMQ_MODE_STREAM : SHMQ_MODE_MSG;
	size_t len = shmq_pair_bytes(CAP);
	uint8_t *pair = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	unsigned long eproto = 0, attach_fail = 0, ops = 0;
	struct t_remote rm;
	uint8_t buf[CAP];
	volatile uint64_t sink = 0;
	char ready;

	ck_assert(pair != MAP_FAILED);
	/* The scribbler uses the region machinery only for the handshake; it
	 * attacks `pair`, a shared mapping this process consumes from. */
	t_spawn(&rm, CAP, mode, scribbler, pair, SHMQ_PEER_PIDFD);
	ck_assert_int_eq(read(rm.sock, &ready, 1), 1);
	ck_assert_int_eq(write(rm.sock, "g", 1), 1);
	memset(buf, 0xab, sizeof(buf));
	/*
	 * At least 3000 rounds, then on until the scribbler has been caught at
	 * least once: on a loaded 2-core machine it may not be scheduled at all
	 * during the first rounds. Yielding now and then gives it a core; the
	 * round bound keeps a scribbler that never runs from hanging the test
	 * (the assertion below then fails, as it should).
	 */
	for (int round = 0; round < 3000 || (eproto == 0 && round < 1000000); round++) {
		struct shmq_ep *ep;

		if (round % 64 == 63)
			sched_yield();

		shmq_pair_format(pair, len, CAP, mode);
		ep = shmq_ep_open(pair, len, 0);
		if (!ep) {
			ck_assert_int_eq(errno, EPROTO);
			attach_fail++;
			continue;
		}
		shmq_ep_set_spin(ep, 1000);
		for (int i = 0; i < 200; i++) {
			ssize_t rc;
			const void *p;
			void *w;

			switch (i % 8) {
			case 0: rc = mode == SHMQ_MODE_MSG ? shmq_recv(ep, buf, sizeof(buf), 0)
							  : shmq_read(ep, buf, sizeof(buf), 0); break;
			case 1: rc = shmq_peek(ep, &p);
				if (rc > 0) { /* read all of it: ASan checks the bounds */
					sink += t_hash(0, p, (size_t)rc);
					rc = shmq_release(ep, (size_t)rc);
				}
				break;
			case 2: rc = shmq_readable(ep); break;
			case 3: rc = mode == SHMQ_MODE_MSG ? shmq_send(ep, buf, i % 300)
							  : shmq_write(ep, buf, (size_t)(i * 37) % CAP); break;
			case 4: rc = shmq_reserve(ep, 64, &w);
				if (rc > 0) {
					memset(w, 1, (size_t)rc);
					rc = shmq_commit(ep, (size_t)rc);
				}
				break;
			case 5: rc = shmq_poll(ep) & SHMQ_POLLERR ? -EPROTO : 0; break;
			case 6: rc = shmq_wait(ep, SHMQ_POLLIN | SHMQ_POLLOUT, 0); break;
			default: {
				struct iovec iov[4] = { { buf, 100 }, { buf, 200 }, { buf, 300 }, { buf, 8 } };

				rc = mode == SHMQ_MODE_MSG ? shmq_recv_burst(ep, iov, 4) : shmq_writable(ep);
				break;
			}
			}
			ops++;
			if (rc == -EPROTO) {
				eproto++;
				ck_assert(shmq_ep_broken(ep));
				break;
			}
		}
		shmq_ep_close(ep);
	}
	kill(rm.pid, SIGKILL);
	ck_assert_int_eq(t_reap(&rm), 128 + SIGKILL);
	t_remote_close(&rm);
	munmap(pair, len);
	fprintf(stderr, "# %s: %lu ops, %lu EPROTO, %lu attach refusals\n",
		mode == SHMQ_MODE_MSG ? "msg" : "stream", ops, eproto, attach_fail);
	ck_assert_uint_gt(eproto, 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("shmq_hostile");
	TCase *tc = tcase_create("hostile");

	tcase_set_timeout(tc, 300);
	tcase_add_loop_test(tc, test_corruptions, 0, (int)(sizeof(cases) / sizeof(cases[0])));
	tcase_add_loop_test(tc, test_scribbler, 0, 2);
	suite_add_tcase(s, tc);
	return hl_check_run(s);
}
