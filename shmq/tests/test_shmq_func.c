/* SPDX-License-Identifier: MIT */
/* Single-process correctness: sizes 1 B .. 64 KiB at every wrap position,
 * both modes, copy / burst / zero-copy APIs; edge cases; regions. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "shmq_abi.h"
#include "shmq_testlib.h"
#include "hl_check.h"

enum api { API_COPY, API_BURST, API_ZC, API_N };
static const char *const api_name[API_N] = { "copy", "burst", "zerocopy" };
static const enum shmq_mode modes[2] = { SHMQ_MODE_MSG, SHMQ_MODE_STREAM };

static const size_t sizes[] = { 1, 2, 7, 8, 9, 15, 63, 64, 65, 127, 255, 256, 1000, 1024,
				1500, 2040, 4095, 4096, 8191, 16384, 32768, 65535, 65536 };

static void fill(uint8_t *b, size_t n, uint64_t seed)
{
	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)t_rand(&seed);
}

/* Move both indices forward by @d bytes (MSG: a multiple of 8). */
static void advance(struct t_pair *p, enum shmq_mode mode, size_t d, uint8_t *scratch)
{
	while (d) {
		if (mode == SHMQ_MODE_MSG) {
			size_t step = d > shmq_ep_max_msg(p->a) ? shmq_ep_max_msg(p->a) + 8 : d;

			if (d - step && d - step < 8)
				step -= 8;
			VERIFY(p->a, shmq_send(p->a, scratch, step - 8) == 0, "pad send");
			VERIFY(p->b, shmq_recv(p->b, scratch, step, 0) == (ssize_t)(step - 8), "pad recv");
			d -= step;
		} else {
			size_t step = d > shmq_ep_capacity(p->a) ? shmq_ep_capacity(p->a) : d;

			VERIFY(p->a, shmq_write(p->a, scratch, step) == (ssize_t)step, "adv write");
			VERIFY(p->b, shmq_read(p->b, scratch, step, 0) == (ssize_t)step, "adv read");
			d -= step;
		}
	}
}

/* Stream: move @len bytes from a to b with the given API (partial I/O). */
static void stream_xfer(struct t_pair *p, enum api api, const uint8_t *src, uint8_t *dst,
			size_t len)
{
	size_t w = 0, r = 0;
	int rounds = 0;

	while (r < len) {
		VERIFY(p->a, ++rounds < 100000, "no progress");
		if (w < len) {
			if (api == API_ZC) {
				void *ptr;
				ssize_t n = shmq_reserve(p->a, len - w, &ptr);

				if (n > 0) {
					memcpy(ptr, src + w, (size_t)n);
					VERIFY(p->a, shmq_commit(p->a, (size_t)n) == 0, "commit");
					w += (size_t)n;
				} else {
					VERIFY(p->a, n == -EAGAIN, "reserve %zd", n);
				}
			} else {
				/* burst: odd chunk sizes to exercise partial writes */
				size_t want = api == API_BURST ? (len - w + 2) / 3 + 1 : len - w;
				ssize_t n = shmq_write(p->a, src + w, want < len - w ? want : len - w);

				VERIFY(p->a, n > 0 || n == -EAGAIN, "write %zd", n);
				if (n > 0)
					w += (size_t)n;
			}
		}
		if (api == API_ZC) {
			const void *ptr;
			ssize_t n = shmq_peek(p->b, &ptr);

			if (n > 0) {
				size_t take = (size_t)n > len - r ? len - r : (size_t)n;

				memcpy(dst + r, ptr, take);
				VERIFY(p->b, shmq_release(p->b, take) == 0, "release");
				r += take;
			} else {
				VERIFY(p->b, n == -EAGAIN, "peek %zd", n);
			}
		} else {
			size_t want = api == API_BURST ? 97 : len - r;
			ssize_t n = shmq_read(p->b, dst + r, want < len - r ? want : len - r, 0);

			VERIFY(p->b, n > 0 || n == -EAGAIN, "read %zd", n);
			if (n > 0)
				r += (size_t)n;
		}
	}
}

/* MSG: send @len-byte messages (3 for burst) from a to b and check them. */
static void msg_xfer(struct t_pair *p, enum api api, const uint8_t *src, uint8_t *dst,
		     size_t len)
{
	if (api == API_COPY) {
		VERIFY(p->a, shmq_send(p->a, src, len) == 0, "send %zu", len);
		VERIFY(p->b, shmq_readable(p->b) == (ssize_t)len, "readable");
		VERIFY(p->b, shmq_recv(p->b, dst, len, 0) == (ssize_t)len, "recv");
		VERIFY(p->b, memcmp(src, dst, len) == 0, "data");
	} else if (api == API_BURST) {
		struct iovec in[3], out[3];
		unsigned n = 3;

		/* up to 3 messages, as many as fit in the ring */
		while (n > 1 && n * (len + 16) > shmq_ep_capacity(p->a) / 2)
			n--;
		for (unsigned i = 0; i < n; i++) {
			in[i] = (struct iovec){ (void *)(src + i), len - i * (len > 2) };
			out[i] = (struct iovec){ dst + i * len, len };
		}
		VERIFY(p->a, shmq_send_burst(p->a, in, n) == (int)n, "send_burst");
		VERIFY(p->b, shmq_recv_burst(p->b, out, n) == (int)n, "recv_burst");
		for (unsigned i = 0; i < n; i++) {
			VERIFY(p->b, out[i].iov_len == in[i].iov_len, "burst len %u", i);
			VERIFY(p->b, memcmp(out[i].iov_base, in[i].iov_base, in[i].iov_len) == 0,
			       "burst data %u", i);
		}
	} else {
		void *w;
		const void *r;

		VERIFY(p->a, shmq_reserve(p->a, len, &w) == (ssize_t)len, "reserve");
		memcpy(w, src, len);
		VERIFY(p->a, shmq_commit(p->a, len) == 0, "commit");
		VERIFY(p->b, shmq_peek(p->b, &r) == (ssize_t)len, "peek");
		VERIFY(p->b, memcmp(r, src, len) == 0, "zc data");
		VERIFY(p->b, shmq_release(p->b, 0) == 0, "release");
	}
	VERIFY(p->b, shmq_readable(p->b) == -EAGAIN, "drained");
}

/* Every wrap position for every size, for mode _i / 3 and api _i % 3. */
START_TEST(test_wrap_positions)
{
	enum shmq_mode mode = modes[_i / API_N];
	enum api api = (enum api)(_i % API_N);
	uint8_t *src = malloc(3 * 65536 + 8), *dst = malloc(3 * 65536 + 8);
	uint8_t *scratch = malloc(1 << 20);
	struct t_pair small, big;
	unsigned long cases = 0;

	t_pair_open(&small, 4096, mode, SHMQ_REGION_NO_HUGETLB);
	t_pair_open(&big, 256 << 10, mode, 0);
	memset(scratch, 0x5a, 1 << 20);
	for (size_t si = 0; si < sizeof(sizes) / sizeof(sizes[0]); si++) {
		size_t len = sizes[si];
		struct t_pair *p = len <= 2040 || (mode == SHMQ_MODE_STREAM && len <= 4096) ? &small : &big;
		size_t cap = shmq_ep_capacity(p->a);
		size_t rec = mode == SHMQ_MODE_MSG ? 8 + ((len + 7) & ~(size_t)7) : len;
		/* Start positions: every one where the transfer meets the end of
		 * the ring (3 records for burst), plus the start of the ring; for
		 * large sizes a prime stride keeps the case count sane while still
		 * hitting split points of every alignment. */
		size_t step = mode == SHMQ_MODE_MSG ? 8 : 1;
		size_t span = (api == API_BURST && mode == SHMQ_MODE_MSG ? 3 : 1) * rec + 16;

		if (len > 2048)
			step *= 37;
		size_t from = span < cap ? cap - span : 0;

		fill(src, 3 * len + 8, len);
		for (size_t pos = from; pos <= cap; pos += step) {
			t_pair_reset(p, mode);
			advance(p, mode, pos == cap ? 0 : pos, scratch);
			if (mode == SHMQ_MODE_MSG)
				msg_xfer(p, api, src, dst, len);
			else {
				stream_xfer(p, api, src, dst, len);
				VERIFY(p->b, memcmp(src, dst, len) == 0, "stream data len %zu pos %zu", len, pos);
			}
			cases++;
		}
	}
	ck_assert_uint_gt(cases, 1000);
	t_pair_close(&small);
	t_pair_close(&big);
	free(src);
	free(dst);
	free(scratch);
	fprintf(stderr, "# %s/%s: %lu cases\n", mode == SHMQ_MODE_MSG ? "msg" : "stream",
		api_name[api], cases);
}
END_TEST

/* Fill to -EAGAIN, drain, repeat: the ring holds what it says and no more. */
START_TEST(test_full_and_drain)
{
	enum shmq_mode mode = modes[_i];
	struct t_pair p;
	uint8_t buf[256];
	size_t cap;

	t_pair_open(&p, 4096, mode, t_region_flags[_i]);
	cap = shmq_ep_capacity(p.a);
	for (int round = 0; round < 5; round++) {
		size_t total = 0;
		int n = 0;

		for (;;) {
			ssize_t r;

			memset(buf, n & 0xff, sizeof(buf));
			r = mode == SHMQ_MODE_MSG ? shmq_send(p.a, buf, 56) : shmq_write(p.a, buf, 100);
			if (r == -EAGAIN)
				break;
			VERIFY(p.a, r >= 0, "fill %zd", r);
			total += mode == SHMQ_MODE_MSG ? 64 : (size_t)r;
			n++;
		}
		VERIFY(p.a, total <= cap && total > cap - 128, "filled %zu of %zu", total, cap);
		VERIFY(p.a, !(shmq_poll(p.a) & SHMQ_POLLOUT), "POLLOUT when full");
		VERIFY(p.b, shmq_poll(p.b) & SHMQ_POLLIN, "POLLIN when full");
		if (mode == SHMQ_MODE_MSG) {
			for (int i = 0; i < n; i++) {
				VERIFY(p.b, shmq_recv(p.b, buf, sizeof(buf), 0) == 56, "recv %d", i);
				VERIFY(p.b, buf[0] == (uint8_t)i && buf[55] == (uint8_t)i, "content %d", i);
			}
		} else {
			size_t got = 0;
			ssize_t r;

			while ((r = shmq_read(p.b, buf, sizeof(buf), 0)) > 0)
				got += (size_t)r;
			VERIFY(p.b, got == total && r == -EAGAIN, "drained %zu of %zu (%zd)", got, total, r);
		}
		VERIFY(p.b, !(shmq_poll(p.b) & SHMQ_POLLIN), "no POLLIN when empty");
		VERIFY(p.a, shmq_writable(p.a) > 0, "writable when empty");
	}
	t_pair_close(&p);
}
END_TEST

START_TEST(test_msg_edges)
{
	struct t_pair p;
	uint8_t big[4096], out[4096];
	const void *ptr;
	void *w;

	t_pair_open(&p, 4096, SHMQ_MODE_MSG, SHMQ_REGION_NO_HUGETLB);
	memset(big, 7, sizeof(big));
	ck_assert_uint_eq(shmq_ep_max_msg(p.a), 2040);
	VERIFY(p.a, shmq_send(p.a, big, 2041) == -EMSGSIZE, "too big");
	VERIFY(p.a, shmq_reserve(p.a, 2041, &w) == -EMSGSIZE, "reserve too big");
	VERIFY(p.a, shmq_commit(p.a, 1) == -EINVAL, "commit without reserve");
	VERIFY(p.b, shmq_release(p.b, 0) == -EINVAL, "release without peek");
	VERIFY(p.a, shmq_write(p.a, big, 1) == -EINVAL, "write on MSG ring");
	VERIFY(p.a, shmq_send(p.a, big, 0) == 0, "empty message");
	VERIFY(p.b, shmq_recv(p.b, out, sizeof(out), 0) == 0, "empty message recv");
	VERIFY(p.a, shmq_send(p.a, "hello", 5) == 0, "send");
	VERIFY(p.b, shmq_recv(p.b, out, sizeof(out), SHMQ_PEEK) == 5, "peek flag");
	VERIFY(p.b, shmq_recv(p.b, out, 3, 0) == 3 && memcmp(out, "hel", 3) == 0, "truncate");
	VERIFY(p.b, shmq_recv(p.b, out, sizeof(out), 0) == -EAGAIN, "truncated rest dropped");
	/* reserve then commit less */
	VERIFY(p.a, shmq_reserve(p.a, 100, &w) == 100, "reserve");
	memcpy(w, "abc", 3);
	VERIFY(p.a, shmq_commit(p.a, 3) == 0, "commit less");
	VERIFY(p.b, shmq_peek(p.b, &ptr) == 3 && memcmp(ptr, "abc", 3) == 0, "peek zc");
	VERIFY(p.b, shmq_recv(p.b, out, sizeof(out), 0) == 3, "recv after peek");
	/* shutdown: drained then -EPIPE */
	VERIFY(p.a, shmq_send(p.a, "x", 1) == 0, "send before shutdown");
	VERIFY(p.a, shmq_shutdown(p.a) == 0, "shutdown");
	VERIFY(p.a, shmq_send(p.a, "y", 1) == -EPIPE, "send after shutdown");
	VERIFY(p.b, shmq_recv(p.b, out, sizeof(out), 0) == 1, "data before EOF");
	VERIFY(p.b, shmq_recv(p.b, out, sizeof(out), 0) == -EPIPE, "EOF");
	VERIFY(p.b, (shmq_poll(p.b) & (SHMQ_POLLIN | SHMQ_POLLHUP)) == (SHMQ_POLLIN | SHMQ_POLLHUP),
	       "POLLHUP");
	VERIFY(p.b, shmq_wait(p.b, SHMQ_POLLIN, 1000) & SHMQ_POLLHUP, "wait sees HUP");
	/* the other direction still works */
	VERIFY(p.b, shmq_send(p.b, "z", 1) == 0, "reverse send");
	VERIFY(p.a, shmq_recv(p.a, out, sizeof(out), 0) == 1 && out[0] == 'z', "reverse recv");
	t_pair_close(&p);
}
END_TEST

START_TEST(test_stream_edges)
{
	struct t_pair p;
	uint8_t buf[8192], out[8192];

	t_pair_open(&p, 4096, SHMQ_MODE_STREAM, SHMQ_REGION_NO_HUGETLB);
	memset(buf, 3, sizeof(buf));
	VERIFY(p.a, shmq_send(p.a, buf, 1) == -EINVAL, "send on STREAM ring");
	VERIFY(p.a, shmq_write(p.a, buf, 0) == 0, "zero write");
	VERIFY(p.a, shmq_write(p.a, buf, sizeof(buf)) == 4096, "partial write");
	VERIFY(p.a, shmq_write(p.a, buf, 1) == -EAGAIN, "full");
	VERIFY(p.a, shmq_writable(p.a) == 0, "writable 0");
	VERIFY(p.b, shmq_readable(p.b) == 4096, "FIONREAD");
	VERIFY(p.b, shmq_read(p.b, out, 10, SHMQ_PEEK) == 10, "peek");
	VERIFY(p.b, shmq_readable(p.b) == 4096, "peek keeps data");
	VERIFY(p.b, shmq_read(p.b, out, 1000, 0) == 1000, "partial read");
	VERIFY(p.a, shmq_writable(p.a) == 1000, "space back");
	VERIFY(p.a, shmq_shutdown(p.a) == 0, "shutdown");
	VERIFY(p.a, shmq_write(p.a, buf, 1) == -EPIPE, "write after shutdown");
	VERIFY(p.b, shmq_read(p.b, out, sizeof(out), 0) == 3096, "rest");
	VERIFY(p.b, shmq_read(p.b, out, sizeof(out), 0) == 0, "EOF");
	/* On a fresh pair, the peer closes: writes fail once the ring is full. */
	t_pair_reset(&p, SHMQ_MODE_STREAM);
	shmq_ep_close(p.b);
	p.b = NULL;
	{
		ssize_t r;
		int n = 0;

		while ((r = shmq_write(p.a, buf, sizeof(buf))) > 0)
			n++;
		VERIFY(p.a, r == -EPIPE, "write to closed peer: %zd after %d", r, n);
	}
	t_pair_close(&p);
}
END_TEST

/* shmq_poll_rx(): the receive side of shmq_poll() with the byte count, in
 * both modes. */
START_TEST(test_poll_rx)
{
	struct t_pair p;
	uint8_t buf[100] = { 0 };
	uint64_t n = 7;

	t_pair_open(&p, 4096, SHMQ_MODE_STREAM, SHMQ_REGION_NO_HUGETLB);
	VERIFY(p.b, shmq_poll_rx(p.b, &n) == 0 && n == 0, "empty: nothing, 0 bytes");
	VERIFY(p.a, shmq_write(p.a, buf, 33) == 33, "write");
	VERIFY(p.b, shmq_poll_rx(p.b, &n) == SHMQ_POLLIN && n == 33, "33 bytes: %llu",
	       (unsigned long long)n);
	VERIFY(p.b, (shmq_poll(p.b) & SHMQ_POLLIN) && shmq_readable(p.b) == 33, "agrees");
	VERIFY(p.a, shmq_shutdown(p.a) == 0, "shutdown");
	VERIFY(p.b, shmq_poll_rx(p.b, &n) == SHMQ_POLLIN && n == 33, "data before EOF");
	VERIFY(p.b, shmq_read(p.b, buf, sizeof(buf), 0) == 33, "read");
	VERIFY(p.b, shmq_poll_rx(p.b, &n) == (SHMQ_POLLIN | SHMQ_POLLHUP) && n == 0, "EOF");
	t_pair_reset(&p, SHMQ_MODE_MSG);
	VERIFY(p.a, shmq_send(p.a, buf, 5) == 0, "send");
	VERIFY(p.b, shmq_poll_rx(p.b, &n) == SHMQ_POLLIN && n == 5, "MSG: next length");
	t_pair_close(&p);
}
END_TEST

/* A detached endpoint leaves the ring open: a new endpoint of the same side
 * (after fork, in the preload layer) carries on from the shared indices. */
START_TEST(test_detach)
{
	struct t_pair p;
	uint8_t out[64];

	t_pair_open(&p, 4096, SHMQ_MODE_STREAM, SHMQ_REGION_NO_HUGETLB);
	VERIFY(p.a, shmq_write(p.a, "abcdef", 6) == 6, "write");
	VERIFY(p.b, shmq_read(p.b, out, 2, 0) == 2 && !memcmp(out, "ab", 2), "first read");
	shmq_ep_detach(p.b);
	p.b = shmq_ep_attach(p.r, 0, 1);
	ck_assert_ptr_nonnull(p.b);
	VERIFY(p.b, shmq_readable(p.b) == 4, "re-attached side sees the rest");
	VERIFY(p.b, shmq_read(p.b, out, sizeof(out), 0) == 4 && !memcmp(out, "cdef", 4),
	       "reads on from the shared index");
	VERIFY(p.a, shmq_write(p.a, "g", 1) == 1, "the peer was not told anything");
	VERIFY(p.b, shmq_read(p.b, out, sizeof(out), 0) == 1 && out[0] == 'g', "still open");
	shmq_ep_detach(NULL);
	t_pair_close(&p);
}
END_TEST

/* An endpoint that another endpoint of its side moved meanwhile (the preload
 * layer leaving its forked mode) takes all the shared indices again: it
 * neither reads again what the other consumed nor overwrites what the other
 * produced; inconsistent shared indices break it. */
START_TEST(test_resync)
{
	size_t len = shmq_pair_bytes(4096);
	uint8_t *mem = aligned_alloc(SHMQ_BLOCK, len), out[64];
	struct shmq_ep *a, *b, *b2;

	ck_assert(mem);
	ck_assert_int_eq(shmq_pair_format(mem, len, 4096, SHMQ_MODE_STREAM), 0);
	a = shmq_ep_open(mem, len, 0);
	b = shmq_ep_open(mem, len, 1);
	ck_assert(a && b);
	ck_assert_int_eq(shmq_write(a, "abcdef", 6), 6);
	ck_assert_int_eq(shmq_read(b, out, 1, 0), 1);
	ck_assert_int_eq(out[0], 'a');
	b2 = shmq_ep_open(mem, len, 1);
	ck_assert_ptr_nonnull(b2);
	ck_assert_int_eq(shmq_read(b2, out, 3, 0), 3);
	ck_assert(!memcmp(out, "bcd", 3));
	ck_assert_int_eq(shmq_write(b2, "xy", 2), 2);
	shmq_ep_detach(b2);
	ck_assert_int_eq(shmq_ep_resync(b), 0);
	ck_assert_int_eq(shmq_readable(b), 2);                /* only what is left */
	ck_assert_int_eq(shmq_write(b, "z", 1), 1);           /* after the other's bytes */
	ck_assert_int_eq(shmq_read(b, out, sizeof(out), 0), 2);
	ck_assert(!memcmp(out, "ef", 2));
	ck_assert_int_eq(shmq_read(a, out, sizeof(out), 0), 3);
	ck_assert(!memcmp(out, "xyz", 3));                    /* the peer reads both, in order */
	/* A producer index more than a ring ahead of the consumer's. */
	atomic_store(&((struct shmq_abi_ring *)mem)->prod, 4096 * 3);
	ck_assert_int_eq(shmq_ep_resync(b), -EPROTO);
	ck_assert_int_eq(shmq_ep_broken(b), 1);
	shmq_ep_detach(a);
	shmq_ep_detach(b);
	free(mem);
}
END_TEST

START_TEST(test_region)
{
	long hp0 = t_hugepages_free();
	struct shmq_region *r, *m;
	struct shmq_ep *ep;
	uint8_t *raw;
	int fd;

	r = shmq_region_create(shmq_region_bytes(4, 65536), t_region_flags[_i], NULL, NULL);
	ck_assert_msg(r, "create: %s", strerror(errno));
	if (_i == 0 && hp0 > 8)
		ck_assert_msg(shmq_region_is_hugetlb(r), "hugepages free but not used");
	if (_i == 1)
		ck_assert(!shmq_region_is_hugetlb(r));
	ck_assert_uint_ge(shmq_region_size(r), shmq_region_bytes(4, 65536));
	/* hugetlbfs memfds take seals too (Linux >= 4.16) */
	ck_assert_int_eq(shmq_region_is_sealed(r), 1);
	ck_assert_int_eq(shmq_region_layout(r, 1000, 65536), -ENOSPC);
	ck_assert_int_eq(shmq_region_layout(r, 4, 65535), -EINVAL);
	ck_assert_int_eq(shmq_region_layout(r, 4, 65536), 0);
	ck_assert_int_eq(shmq_region_pairs(r), 4);
	ck_assert_int_eq(shmq_pair_init(r, 4, SHMQ_MODE_MSG), -ENOENT);
	for (uint32_t i = 0; i < 4; i++)
		ck_assert_int_eq(shmq_pair_init(r, i, i & 1 ? SHMQ_MODE_STREAM : SHMQ_MODE_MSG), 0);
	/* map from the fd, as a peer would */
	fd = shmq_region_fd(r);
	m = shmq_region_map(fd);
	ck_assert_msg(m, "map: %s", strerror(errno));
	ck_assert_int_eq(shmq_region_is_hugetlb(m), shmq_region_is_hugetlb(r));
	ck_assert_int_eq(shmq_region_pairs(m), 4);
	ep = shmq_ep_attach(m, 3, 1);
	ck_assert(ep);
	ck_assert_int_eq(shmq_ep_mode(ep), SHMQ_MODE_STREAM);
	ck_assert_uint_eq(shmq_ep_capacity(ep), 65536);
	ck_assert_int_eq(shmq_pair_closed(r, 3), 0);
	shmq_ep_close(ep);
	/* the creator sees which side closed (slot recycling) */
	ck_assert_int_eq(shmq_pair_closed(r, 3), 2);
	ep = shmq_ep_attach(m, 3, 0);
	ck_assert(ep);
	shmq_ep_detach(ep);
	ck_assert_int_eq(shmq_pair_closed(r, 3), 2);
	ep = shmq_ep_attach(m, 3, 0);
	shmq_ep_close(ep);
	ck_assert_int_eq(shmq_pair_closed(r, 3), 3);
	ck_assert_int_eq(shmq_pair_init(r, 3, SHMQ_MODE_STREAM), 0);
	ck_assert_int_eq(shmq_pair_closed(r, 3), 0);
	ck_assert_int_eq(shmq_pair_closed(r, 4), -ENOENT);
	ck_assert(!shmq_ep_attach(m, 4, 0) && errno == ENOENT);
	/* the tail after the pairs is the caller's; not where pairs lie */
	{
		size_t spare = shmq_region_size(r) - shmq_region_bytes(4, 65536);

		/* reaching into the last pair (the layout's padding aside) */
		ck_assert(!shmq_region_tail(m, spare + 65536) && errno == ENOSPC);
		ck_assert(!shmq_region_tail(m, 0) && errno == EINVAL);
		ck_assert(!shmq_region_tail(m, shmq_region_size(m) + 1) && errno == EINVAL);
		if (spare) {  /* a 2 MiB page leaves room; 4 KiB pages may not */
			uint8_t *t = shmq_region_tail(m, spare);

			ck_assert_ptr_nonnull(t);
			ck_assert_ptr_eq(shmq_region_tail(r, spare),
					 (uint8_t *)shmq_region_tail(r, 1) - spare + 1);
			t[0] = 0x5a;  /* shared: the creator's mapping sees it */
			ck_assert_int_eq(*(uint8_t *)shmq_region_tail(r, spare), 0x5a);
		}
	}
	/* a corrupt region header is refused */
	raw = mmap(NULL, shmq_region_size(r), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ck_assert(raw != MAP_FAILED);
	raw[0] ^= 1;
	ck_assert(!shmq_region_map(fd) && errno == EPROTO);
	raw[0] ^= 1;
	raw[24] = 0xff; /* n_pairs beyond the mapping */
	ck_assert_int_eq(shmq_region_pairs(m), -EPROTO);
	ck_assert(!shmq_ep_attach(m, 0, 0) && errno == EPROTO);
	ck_assert(!shmq_region_tail(m, 64) && errno == EPROTO);
	raw[24] = 4;
	munmap(raw, shmq_region_size(r));
	shmq_region_close(m);
	shmq_region_close(r);
	ck_assert_int_eq(t_hugepages_free(), hp0);
}
END_TEST

static void log_cb(void *arg, int level, const char *msg)
{
	(void)level;
	(void)msg;
	(*(int *)arg)++;
}

START_TEST(test_region_args)
{
	int calls = 0;
	struct shmq_region *r;

	ck_assert(!shmq_region_create(0, 0, NULL, NULL) && errno == EINVAL);
	ck_assert(!shmq_region_create(4096, SHMQ_REGION_NO_HUGETLB | SHMQ_REGION_REQUIRE_HUGETLB,
				      NULL, NULL) && errno == EINVAL);
	ck_assert(!shmq_region_map(-1) && errno == EBADF);
	r = shmq_region_create(1, SHMQ_REGION_NO_HUGETLB, log_cb, &calls);
	ck_assert(r);
	ck_assert_int_ge(calls, 1);
	ck_assert_int_eq(shmq_region_is_sealed(r), 1);
	/* sealed: the peer cannot shrink it under us */
	ck_assert_int_ne(ftruncate(shmq_region_fd(r), 0), 0);
	ck_assert_int_eq(shmq_region_pairs(r), 0);
	shmq_region_close(r);
	ck_assert_uint_eq(shmq_region_bytes(0, 4096), 0);
	ck_assert_uint_eq(shmq_pair_bytes(4097), 0);
	ck_assert(!shmq_ep_open(NULL, 0, 0) && errno == EINVAL);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("shmq_func");
	TCase *tc = tcase_create("func");

	tcase_set_timeout(tc, 300);
	tcase_add_loop_test(tc, test_wrap_positions, 0, 2 * API_N);
	tcase_add_loop_test(tc, test_full_and_drain, 0, 2);
	tcase_add_test(tc, test_msg_edges);
	tcase_add_test(tc, test_stream_edges);
	tcase_add_test(tc, test_detach);
	tcase_add_test(tc, test_resync);
	tcase_add_test(tc, test_poll_rx);
	tcase_add_loop_test(tc, test_region, 0, 2);
	tcase_add_test(tc, test_region_args);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return hl_check_run(suite());
}
