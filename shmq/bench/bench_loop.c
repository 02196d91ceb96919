/* SPDX-License-Identifier: MIT */
/*
 * shmq-bench measuring loops: the raw ring's own send and receive, one
 * message over any transport, the stream producer and consumer, the
 * ping-pong client and echo server. Everything a measured iteration calls
 * is here or inline (bench.h), as in one unit.
 */
#include "bench.h"

/* -- raw ring ops -- */

static uint64_t raw_cached_cons, raw_cached_prod;

static unsigned raw_send(struct raw_ring *q, const uint8_t *msg, unsigned n)
{
	uint64_t slots = raw_nslots(), p = atomic_load_explicit(&q->prod, memory_order_relaxed);
	unsigned i;

	if (p + n - raw_cached_cons > slots)
		raw_cached_cons = atomic_load_explicit(&q->cons, memory_order_acquire);
	if (p + n - raw_cached_cons > slots)
		n = (unsigned)(slots - (p - raw_cached_cons));
	for (i = 0; i < n; i++) {
		memcpy(q->data + ((p + i) & (slots - 1)) * raw_slot(), msg, cfg.msg);
		/* keep the compiler from merging or dropping copies */
		__asm__ __volatile__("" ::: "memory");
	}
	if (n)
		atomic_store_explicit(&q->prod, p + n, memory_order_release);
	return n;
}

/* Returns messages received, 0 if none, -1 at end. */
static int raw_recv(struct raw_ring *q, uint8_t *msg, unsigned n)
{
	uint64_t slots = raw_nslots(), c = atomic_load_explicit(&q->cons, memory_order_relaxed);
	unsigned i;

	if (raw_cached_prod - c < n)
		raw_cached_prod = atomic_load_explicit(&q->prod, memory_order_acquire);
	if (raw_cached_prod - c < n)
		n = (unsigned)(raw_cached_prod - c);
	if (n == 0) {
		if (atomic_load_explicit(&q->done, memory_order_acquire) &&
		    atomic_load_explicit(&q->prod, memory_order_acquire) == c)
			return -1;
		return 0;
	}
	for (i = 0; i < n; i++) {
		memcpy(msg, q->data + ((c + i) & (slots - 1)) * raw_slot(), cfg.msg);
		__asm__ __volatile__("" ::: "memory");
	}
	atomic_store_explicit(&q->cons, c + n, memory_order_release);
	return (int)n;
}

/* -- shmq stream rings: all of @len bytes, waiting when full / empty -- */

static void sbytes_write(struct shmq_ep *ep, const uint8_t *buf, size_t len)
{
	while (len) {
		ssize_t n = shmq_write(ep, buf, len);

		if (n == -EAGAIN) {
			shmq_wait(ep, SHMQ_POLLOUT, -1);
			continue;
		}
		if (n < 0)
			die("shmq_write: %s", strerror((int)-n));
		buf += n;
		len -= (size_t)n;
	}
}

/* 0, or -1 at end of stream. */
static int sbytes_read(struct shmq_ep *ep, uint8_t *buf, size_t len)
{
	int spins = 0;

	while (len) {
		ssize_t n = shmq_read(ep, buf, len, 0);

		if (n > 0) {
			buf += n;
			len -= (size_t)n;
			spins = 0;
		} else if (n == -EAGAIN) {
			/* As recv_msg(): spin on the ring a little, then wait. */
			if (++spins < 2000)
				relax();
			else if (shmq_wait(ep, SHMQ_POLLIN, -1) < 0)
				return -1;
		} else {
			return -1;
		}
	}
	return 0;
}

/* -- generic message send / receive (one message) -- */

static void send_msg(struct side *sd, enum tp tp, uint8_t *buf)
{
	switch (tp) {
	case T_SHMQ: {
		int rc;

		while ((rc = shmq_send(sd->ep, buf, cfg.msg)) == -EAGAIN)
			shmq_wait(sd->ep, SHMQ_POLLOUT, -1);
		if (rc)
			die("shmq_send: %s", strerror(-rc));
		break;
	}
	case T_RAW:
		while (raw_send(sd->tx, buf, 1) == 0)
			relax();
		break;
	case T_SSTREAM:
	case T_SPOOL:
		sbytes_write(sd->ep, buf, cfg.msg);
		break;
	default:
		if (write_full(sd->wfd, buf, cfg.msg))
			die("write: %s", strerror(errno));
	}
}

/* 0, or -1 at end of stream. */
static int recv_msg(struct side *sd, enum tp tp, uint8_t *buf)
{
	switch (tp) {
	case T_SHMQ:
		for (;;) {
			ssize_t n = shmq_recv(sd->ep, buf, cfg.msg, 0);
			int spins;

			if (n >= 0)
				return 0;
			if (n != -EAGAIN)
				return -1;
			/* Spin on recv itself a little; shmq_wait then spins and sleeps. */
			for (spins = 0; spins < 2000; spins++) {
				n = shmq_recv(sd->ep, buf, cfg.msg, 0);
				if (n >= 0)
					return 0;
				if (n != -EAGAIN)
					return -1;
				relax();
			}
			if (shmq_wait(sd->ep, SHMQ_POLLIN, -1) < 0)
				return -1;
		}
	case T_RAW:
		for (;;) {
			int n = raw_recv(sd->rx, buf, 1);

			if (n)
				return n < 0 ? -1 : 0;
			relax();
		}
	case T_SSTREAM:
	case T_SPOOL:
		return sbytes_read(sd->ep, buf, cfg.msg);
	default:
		return read_full(sd->rfd, buf, cfg.msg);
	}
}

/* ---- stream ---------------------------------------------------------- */

void stream_producer(struct side *sd, enum tp tp, const struct clock_stop *cs)
{
	/* stream rings: a batch of messages is one write, as the burst is */
	uint8_t *buf = malloc(tp_sbytes(tp) ? cfg.msg * cfg.batch : cfg.msg);
	struct iovec *iov = calloc(cfg.batch, sizeof(*iov));
	uint64_t sent = 0;

	if (!buf || !iov)
		die("malloc");
	memset(buf, 0xa5, tp_sbytes(tp) ? cfg.msg * cfg.batch : cfg.msg);
	for (unsigned i = 0; i < cfg.batch; i++)
		iov[i] = (struct iovec){ buf, cfg.msg };
	while (!stop_now(cs, sent)) {
		uint64_t want = cs->count && cs->count - sent < cfg.batch ? cs->count - sent : cfg.batch;

		if (tp == T_SHMQ) {
			int k = shmq_send_burst(sd->ep, iov, (unsigned)want);

			if (k == -EAGAIN) {
				shmq_wait(sd->ep, SHMQ_POLLOUT, -1);
				continue;
			}
			if (k < 0)
				die("send_burst: %s", strerror(-k));
			sent += (uint64_t)k;
		} else if (tp_sbytes(tp)) {
			sbytes_write(sd->ep, buf, want * cfg.msg);
			sent += want;
		} else if (tp == T_RAW) {
			unsigned k = raw_send(sd->tx, buf, (unsigned)want);

			if (!k)
				relax();
			sent += k;
		} else {
			send_msg(sd, tp, buf);
			sent++;
		}
	}
	free(iov);
	free(buf);
}

void stream_consumer(struct side *sd, enum tp tp, struct result *res)
{
	int bytewise = tp >= T_PIPE || tp_sbytes(tp);
	size_t blen = bytewise ? (cfg.msg > 65536 ? cfg.msg : 65536) : cfg.msg;
	uint8_t *buf = malloc(blen);
	struct iovec *iov = calloc(cfg.batch, sizeof(*iov));
	uint64_t msgs = 0, bytes = 0, t0 = now_ns();

	if (!buf || !iov)
		die("malloc");
	for (unsigned i = 0; i < cfg.batch; i++)
		iov[i] = (struct iovec){ buf, cfg.msg };
	for (;;) {
		if (tp == T_SHMQ) {
			int k;

			for (unsigned i = 0; i < cfg.batch; i++)
				iov[i].iov_len = cfg.msg;
			k = shmq_recv_burst(sd->ep, iov, cfg.batch);
			if (k > 0) {
				msgs += (uint64_t)k;
				continue;
			}
			if (k == -EPIPE)
				break;
			if (k != -EAGAIN || shmq_wait(sd->ep, SHMQ_POLLIN, -1) < 0)
				die("recv_burst: %s", strerror(-k));
		} else if (tp_sbytes(tp)) {
			ssize_t n = shmq_read(sd->ep, buf, blen, 0);

			if (n == 0)
				break;
			if (n > 0)
				bytes += (uint64_t)n;
			else if (n != -EAGAIN || shmq_wait(sd->ep, SHMQ_POLLIN, -1) < 0)
				die("shmq_read: %s", strerror((int)-n));
		} else if (tp == T_RAW) {
			int k = raw_recv(sd->rx, buf, cfg.batch);

			if (k < 0)
				break;
			if (k == 0)
				relax();
			msgs += (uint64_t)k;
		} else {
			ssize_t n = read(sd->rfd, buf, blen);

			if (n == 0)
				break;
			if (n < 0) {
				if (errno == EINTR)
					continue;
				die("read: %s", strerror(errno));
			}
			bytes += (uint64_t)n;
		}
	}
	res->ns = now_ns() - t0;
	res->msgs = bytewise ? bytes / cfg.msg : msgs;
	res->ok = 1;
	free(iov);
	free(buf);
}

/* ---- ping-pong ------------------------------------------------------- */

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

void pp_client(struct side *sd, enum tp tp, const struct clock_stop *cs,
		      struct result *res)
{
	uint64_t cap = cs->count ? cs->count : 4000000, n = 0, t0;
	uint64_t *lat = malloc(cap * sizeof(*lat));
	uint8_t *buf = malloc(cfg.msg);

	if (!lat || !buf)
		die("malloc");
	memset(buf, 0x5a, cfg.msg);
	/* warm-up round trips, not measured */
	for (int i = 0; i < 1000; i++) {
		send_msg(sd, tp, buf);
		if (recv_msg(sd, tp, buf))
			die("echo ended early");
	}
	t0 = now_ns();
	while (n < cap && !stop_now(cs, n)) {
		uint64_t a = now_ns();

		send_msg(sd, tp, buf);
		if (recv_msg(sd, tp, buf))
			die("echo ended early");
		lat[n++] = now_ns() - a;
	}
	res->ns = now_ns() - t0;
	res->msgs = n;
	qsort(lat, n, sizeof(*lat), cmp_u64);
	res->p50 = n ? (double)lat[n / 2] : 0;
	res->p99 = n ? (double)lat[n * 99 / 100] : 0;
	res->ok = n > 0;
	free(lat);
	free(buf);
}

void pp_server(struct side *sd, enum tp tp)
{
	uint8_t *buf = malloc(cfg.msg);

	if (!buf)
		die("malloc");
	while (recv_msg(sd, tp, buf) == 0)
		send_msg(sd, tp, buf);
	free(buf);
}
