/* SPDX-License-Identifier: MIT */
/* Two processes over a memfd passed with SCM_RIGHTS: 10^8 bytes in
 * random-sized messages / writes, checked by length sequence and hash. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hl_check.h"
#include "shmq_testlib.h"

#define TOTAL  100000000ull
#define SEED   0x9e3779b97f4a7c15ull
#define MAXLEN 4096

/* The byte stream both sides agree on: chunk lengths and contents. */
struct gen {
	uint64_t s;
};

static size_t gen_len(struct gen *g)
{
	return 1 + (size_t)(t_rand(&g->s) % MAXLEN);
}

static void gen_fill(struct gen *g, uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i += 8) {
		uint64_t v = t_rand(&g->s);

		memcpy(b + i, &v, n - i < 8 ? n - i : 8);
	}
}

static int wait_or_die(struct shmq_ep *ep, int ev)
{
	int m = shmq_wait(ep, ev, 10000);

	CHILD_CHECK(m > 0, "wait %d: %d", ev, m);
	return m;
}

/* Child: consume everything, checking message lengths (MSG) and the hash. */
static int consumer(struct shmq_ep *ep, int sock, void *arg)
{
	struct gen lens = { SEED };
	uint8_t *buf = malloc(8 * MAXLEN);
	uint64_t h = T_HASH_INIT, total = 0, msgs = 0;
	int burst = 0;

	(void)arg;
	CHILD_CHECK(buf, "malloc");
	for (;;) {
		ssize_t n;

		if (shmq_ep_mode(ep) == SHMQ_MODE_MSG) {
			if (burst++ & 1) {
				struct iovec iov[8];
				int k;

				for (int i = 0; i < 8; i++)
					iov[i] = (struct iovec){ buf + i * MAXLEN, MAXLEN };
				k = shmq_recv_burst(ep, iov, 8);
				if (k == -EAGAIN) {
					wait_or_die(ep, SHMQ_POLLIN);
					continue;
				}
				if (k == -EPIPE)
					break;
				CHILD_CHECK(k > 0, "recv_burst %d", k);
				for (int i = 0; i < k; i++) {
					size_t want = gen_len(&lens);

					CHILD_CHECK(iov[i].iov_len == want, "len %zu != %zu at msg %llu",
						    iov[i].iov_len, want, (unsigned long long)msgs);
					h = t_hash(h, iov[i].iov_base, iov[i].iov_len);
					total += iov[i].iov_len;
					msgs++;
				}
				continue;
			}
			n = shmq_recv(ep, buf, MAXLEN, 0);
			if (n == -EPIPE)
				break;
			if (n >= 0) {
				size_t want = gen_len(&lens);

				CHILD_CHECK((size_t)n == want, "len %zd != %zu", n, want);
				msgs++;
			}
		} else if (burst++ % 3 == 0) {
			const void *p;

			n = shmq_peek(ep, &p);
			if (n > 0) {
				h = t_hash(h, p, (size_t)n);
				CHILD_CHECK(shmq_release(ep, (size_t)n) == 0, "release");
				total += (uint64_t)n;
				continue;
			}
			if (n == 0)
				break;
		} else {
			n = shmq_read(ep, buf, 1 + (size_t)(t_rand(&lens.s) % (8 * MAXLEN)), 0);
			if (n == 0)
				break;
		}
		if (n == -EAGAIN) {
			wait_or_die(ep, SHMQ_POLLIN);
			continue;
		}
		CHILD_CHECK(n >= 0, "recv/read %zd", n);
		h = t_hash(h, buf, (size_t)n);
		total += (uint64_t)n;
	}
	CHILD_CHECK(write(sock, &total, sizeof(total)) == sizeof(total), "report");
	CHILD_CHECK(write(sock, &h, sizeof(h)) == sizeof(h), "report");
	free(buf);
	return 0;
}

START_TEST(test_bulk)
{
	enum shmq_mode mode = _i ? SHMQ_MODE_STREAM : SHMQ_MODE_MSG;
	struct gen lens = { SEED }, data = { 42 };
	uint8_t *buf = malloc(8 * MAXLEN);
	uint64_t h = T_HASH_INIT, total = 0, ctotal, ch;
	struct t_remote rm;
	int burst = 0;

	t_spawn(&rm, 65536, mode, consumer, NULL, SHMQ_PEER_PIDFD);
	while (total < TOTAL) {
		if (mode == SHMQ_MODE_MSG && (burst++ & 1)) {
			struct iovec iov[8];
			int k, n = 0;
			struct gen save = lens;

			for (int i = 0; i < 8; i++) {
				size_t l = gen_len(&lens);

				gen_fill(&data, buf + i * MAXLEN, l);
				iov[i] = (struct iovec){ buf + i * MAXLEN, l };
			}
			while (n < 8) {
				k = shmq_send_burst(rm.ep, iov + n, 8u - (unsigned)n);
				if (k == -EAGAIN) {
					VERIFY(rm.ep, shmq_wait(rm.ep, SHMQ_POLLOUT, 10000) > 0, "wait");
					continue;
				}
				VERIFY(rm.ep, k > 0, "send_burst %d", k);
				n += k;
			}
			for (int i = 0; i < 8; i++) {
				h = t_hash(h, iov[i].iov_base, iov[i].iov_len);
				total += iov[i].iov_len;
			}
			(void)save;
			continue;
		}
		{
			size_t l = gen_len(&lens);

			gen_fill(&data, buf, l);
			if (mode == SHMQ_MODE_MSG) {
				int rc;

				while ((rc = shmq_send(rm.ep, buf, l)) == -EAGAIN)
					VERIFY(rm.ep, shmq_wait(rm.ep, SHMQ_POLLOUT, 10000) > 0, "wait");
				VERIFY(rm.ep, rc == 0, "send %d", rc);
			} else {
				t_write_all(rm.ep, buf, l);
			}
			h = t_hash(h, buf, l);
			total += l;
		}
	}
	VERIFY(rm.ep, shmq_shutdown(rm.ep) == 0, "shutdown");
	ck_assert_int_eq(read(rm.sock, &ctotal, sizeof(ctotal)), sizeof(ctotal));
	ck_assert_int_eq(read(rm.sock, &ch, sizeof(ch)), sizeof(ch));
	ck_assert_uint_eq(ctotal, total);
	ck_assert_msg(ch == h, "hash mismatch: child %llx parent %llx",
		      (unsigned long long)ch, (unsigned long long)h);
	ck_assert_int_eq(t_reap(&rm), 0);
	t_remote_close(&rm);
	free(buf);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("shmq_twoproc");
	TCase *tc = tcase_create("twoproc");

	tcase_set_timeout(tc, 300);
	tcase_add_loop_test(tc, test_bulk, 0, 2);
	suite_add_tcase(s, tc);
	return hl_check_run(s);
}
