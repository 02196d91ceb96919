/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The data path of a hostlane connection: read, write, readv, writev, recv,
 * send, recvfrom, sendto, recvmsg, sendmsg, sendfile (and the fortified
 * variants), each a copy into or out of the connection's ring, spinning and
 * then sleeping when a blocking call finds nothing, as SO_RCVTIMEO and
 * SO_SNDTIMEO allow. Anything that is not a hostlane connection goes to the
 * kernel.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <unistd.h>

#include "pl_private.h"
#include "shmq.h"

/* ---- data path ------------------------------------------------------------------- */

/* A blocking wait of a data call that ended (spun or slept). */
static void count_wait(struct pl_sock *s)
{
	atomic_fetch_add_explicit(&s->st->wakeups, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&pl_stats->wakeups, 1, memory_order_relaxed);
}

static void count(struct pl_sock *s, bool tx, size_t n)
{
	_Atomic uint64_t *b = tx ? &s->st->tx_bytes : &s->st->rx_bytes;
	_Atomic uint64_t *c = tx ? &s->st->tx_calls : &s->st->rx_calls;

	atomic_fetch_add_explicit(b, n, memory_order_relaxed);
	atomic_fetch_add_explicit(c, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(tx ? &pl_stats->tx_bytes : &pl_stats->rx_bytes, n,
				  memory_order_relaxed);
	atomic_fetch_add_explicit(tx ? &pl_stats->tx_calls : &pl_stats->rx_calls, 1,
				  memory_order_relaxed);
}

/* Nothing more to read now (@r: end-of-stream 0, or -EAGAIN after the peer
 * died): end-of-stream, or a reset's error once. */
static ssize_t read_end(struct pl_sock *s, struct shmq_ep *ep, ssize_t r)
{
	int g = pl_sock_peer_gone(s, ep);

	if (g == 2)
		return pl_sock_take_error(s, 0);
	if (r == 0 || g == 1) {
		atomic_store(&s->eof_seen, 1);
		return 0;
	}
	return -EAGAIN;
}

/* Reads into one buffer. @wait: may block when nothing was read yet. */
static ssize_t conn_read(struct pl_sock *s, struct shmq_ep *ep, char *buf, size_t len,
			 int flags, bool wait)
{
	bool nb = !wait || (flags & MSG_DONTWAIT) || atomic_load(&s->nonblock);
	size_t done = 0;
	int64_t end = 0;

	if (s->shut_rd || !len)
		return 0;
	for (;;) {
		size_t want = len - done;
		int u = pl_urg_before_read(s, ep, done, &want, flags);

		if (u == 1)
			return (ssize_t)done;  /* a read stops at the urgent mark */
		if (u == 2)
			return -EAGAIN;
		ssize_t r = shmq_read(ep, buf + done, want, (flags & MSG_PEEK) ? SHMQ_PEEK : 0);

		if (r > 0) {
			done += (size_t)r;
			if ((flags & MSG_PEEK) || !(flags & MSG_WAITALL) || done == len)
				return (ssize_t)done;
			continue;
		}
		if (r != 0 && r != -EAGAIN)
			return done ? (ssize_t)done : -ECONNRESET;
		if (r == 0)
			return done ? (ssize_t)done : read_end(s, ep, 0);
		if (atomic_load(&s->peer_dead)) {
			if (done)
				return (ssize_t)done;
			if ((r = read_end(s, ep, -EAGAIN)) != -EAGAIN)
				return r;
		}
		int ms = nb ? 0 : pl_timeo_ms(atomic_load(&s->rcvtimeo_us), &end);

		if (!ms)  /* nonblocking, or SO_RCVTIMEO ran out */
			return done ? (ssize_t)done : -EAGAIN;
		int w = pl_sock_wait(s, ep, SHMQ_POLLIN, ms, atomic_load(&s->rcvtimeo_us) != 0);

		count_wait(s);
		if (w == -ECONNRESET)
			atomic_store(&s->peer_dead, 1);
		if (w == -EINTR)  /* a handler ran: what was read, or EINTR */
			return done ? (ssize_t)done : -EINTR;
	}
}

static ssize_t conn_recvv(struct pl_sock *s, const struct iovec *iov, size_t n, int flags)
{
	struct shmq_ep *ep;
	size_t total = 0;
	ssize_t r = 0;

	pl_sock_unfork_check(s);
	pthread_mutex_lock(&s->rx_lock);
	ep = pl_sock_ep_get(s);
	/* MSG_PEEK reads the first buffer only and consumes nothing. */
	for (size_t i = 0; i < n && !(flags & MSG_PEEK); i++) {
		if (!iov[i].iov_len)
			continue;
		r = conn_read(s, ep, iov[i].iov_base, iov[i].iov_len, flags, total == 0);
		if (r <= 0)
			break;
		total += (size_t)r;
		if ((size_t)r < iov[i].iov_len)
			break;
	}
	if ((flags & MSG_PEEK) && n)
		r = conn_read(s, ep, iov[0].iov_base, iov[0].iov_len, flags, true);
	pl_sock_ep_put(s, ep);
	pthread_mutex_unlock(&s->rx_lock);
	if (flags & MSG_PEEK)
		return r < 0 ? pl_fail((int)-r) : r;
	if (total) {
		count(s, false, total);
		return (ssize_t)total;
	}
	if (r < 0)
		return pl_fail((int)-r);
	return 0;
}

static ssize_t conn_recv(struct pl_sock *s, void *buf, size_t len, int flags)
{
	struct iovec iov = { buf, len };

	if (flags & MSG_OOB)
		return pl_urg_recv(s, buf, len, flags);
	if (!len)
		return 0;
	return conn_recvv(s, &iov, 1, flags);
}

static ssize_t send_error(struct pl_sock *s, int err, int flags)
{
	if (err == -EPIPE && !(flags & MSG_NOSIGNAL))
		raise(SIGPIPE);
	(void)s;
	return pl_fail(-err);
}

/* The peer cannot take more: a reset's error once, then EPIPE. */
static ssize_t write_end(struct pl_sock *s, struct shmq_ep *ep)
{
	pl_sock_peer_gone(s, ep);
	return pl_sock_take_error(s, -EPIPE);
}

static ssize_t conn_write(struct pl_sock *s, struct shmq_ep *ep, const char *buf, size_t len,
			  int flags)
{
	bool nb = (flags & MSG_DONTWAIT) || atomic_load(&s->nonblock);
	size_t done = 0;
	int64_t end = 0;

	int pf;

	if (s->shut_wr)
		return -EPIPE;
	/* Writing after the peer's end-of-stream, reset or death: was it a
	 * reset? */
	pf = shmq_peer_flags(ep);
	if ((pf || atomic_load(&s->eof_seen) || atomic_load(&s->peer_dead) ||
	     atomic_load(&s->reset)) && pl_sock_peer_gone(s, ep) == 2)
		return pl_sock_take_error(s, -EPIPE);
	/* The peer closed (nothing it is sent is read): as TCP, this send
	 * goes out and the peer's stack answers it with a reset, which the
	 * next call reports (EPIPE after the peer's FIN, ECONNRESET without
	 * one). */
	if ((pf & SHMQ_PF_GONE) && len) {
		atomic_store(&s->pending_err, (pf & SHMQ_PF_SHUT) ? EPIPE : ECONNRESET);
		atomic_store(&s->reset, 1);
		return (ssize_t)len;
	}
	while (done < len) {
		ssize_t w = shmq_write(ep, buf + done, len - done);

		if (w > 0) {
			done += (size_t)w;
			continue;
		}
		if (w == -EPIPE || (w == -EAGAIN && atomic_load(&s->peer_dead)))
			return done ? (ssize_t)done : write_end(s, ep);
		if (w != -EAGAIN)
			return done ? (ssize_t)done : -ECONNRESET;
		int ms = nb ? 0 : pl_timeo_ms(atomic_load(&s->sndtimeo_us), &end);

		if (!ms) {  /* nonblocking, or SO_SNDTIMEO ran out */
			/* The next writable is a new edge for EPOLLET. */
			atomic_fetch_add_explicit(&s->tx_full, 1, memory_order_relaxed);
			return done ? (ssize_t)done : -EAGAIN;
		}
		int rc = pl_sock_wait(s, ep, SHMQ_POLLOUT, ms, atomic_load(&s->sndtimeo_us) != 0);

		count_wait(s);
		if (rc == -ECONNRESET)
			atomic_store(&s->peer_dead, 1);
		if (rc == -EINTR)  /* a handler ran: what was sent, or EINTR */
			return done ? (ssize_t)done : -EINTR;
	}
	return (ssize_t)done;
}

/*
 * Small gathers go into the ring as one write, as the kernel sends them as
 * one segment: a reader never wakes to the first iovec without the rest.
 */
#define GATHER_MAX 4096

static ssize_t conn_sendv(struct pl_sock *s, const struct iovec *iov, size_t n, int flags)
{
	char gather[GATHER_MAX];
	struct iovec one;
	struct shmq_ep *ep;
	size_t total = 0, sum = 0;
	ssize_t w = 0;

	for (size_t i = 0; i < n && sum <= GATHER_MAX; i++)
		sum = iov[i].iov_len > GATHER_MAX - sum ? GATHER_MAX + 1 : sum + iov[i].iov_len;
	if (n > 1 && sum <= GATHER_MAX) {
		size_t off = 0;

		for (size_t i = 0; i < n; i++) {
			if (iov[i].iov_len)
				memcpy(gather + off, iov[i].iov_base, iov[i].iov_len);
			off += iov[i].iov_len;
		}
		one = (struct iovec){ gather, sum };
		iov = &one;
		n = 1;
	}
	pl_sock_unfork_check(s);
	pthread_mutex_lock(&s->tx_lock);
	ep = pl_sock_ep_get(s);
	for (size_t i = 0; i < n; i++) {
		if (!iov[i].iov_len)
			continue;
		w = conn_write(s, ep, iov[i].iov_base, iov[i].iov_len, flags);
		if (w <= 0)
			break;
		total += (size_t)w;
		if ((size_t)w < iov[i].iov_len)
			break;
	}
	/* MSG_OOB: the last byte sent is urgent (TCP's urgent pointer). */
	if ((flags & MSG_OOB) && total && !atomic_load(&s->reset))
		shmq_urgent_mark(ep);
	pl_sock_ep_put(s, ep);
	pthread_mutex_unlock(&s->tx_lock);
	if (total) {
		count(s, true, total);
		return (ssize_t)total;
	}
	return w < 0 ? send_error(s, (int)w, flags) : 0;
}

static ssize_t conn_send(struct pl_sock *s, const void *buf, size_t len, int flags)
{
	struct iovec iov = { (void *)buf, len };

	if (!len)
		return s->shut_wr ? send_error(s, -EPIPE, flags) : 0;
	return conn_sendv(s, &iov, 1, flags);
}

/* Fortified variants the application may call (no public prototypes). */
ssize_t __read_chk(int fd, void *buf, size_t len, size_t buflen);
ssize_t __recv_chk(int fd, void *buf, size_t len, size_t buflen, int flags);
ssize_t __recvfrom_chk(int fd, void *buf, size_t len, size_t buflen, int flags,
		       struct sockaddr *addr, socklen_t *alen);

#define CONN(fd) struct pl_sock *s = pl_sock_lookup(fd); if (s && s->kind == PL_CONN)

PL_EXPORT ssize_t read(int fd, void *buf, size_t len)
{
	CONN(fd) return conn_recv(s, buf, len, 0);
	return pl_real.read(fd, buf, len);
}

PL_EXPORT ssize_t __read_chk(int fd, void *buf, size_t len, size_t buflen)
{
	if (len > buflen)
		abort();
	return read(fd, buf, len);
}

PL_EXPORT ssize_t write(int fd, const void *buf, size_t len)
{
	CONN(fd) return conn_send(s, buf, len, 0);
	return pl_real.write(fd, buf, len);
}

PL_EXPORT ssize_t readv(int fd, const struct iovec *iov, int n)
{
	CONN(fd) return n < 0 ? pl_fail(EINVAL) : conn_recvv(s, iov, (size_t)n, 0);
	return pl_real.readv(fd, iov, n);
}

PL_EXPORT ssize_t writev(int fd, const struct iovec *iov, int n)
{
	CONN(fd) return n < 0 ? pl_fail(EINVAL) : conn_sendv(s, iov, (size_t)n, 0);
	return pl_real.writev(fd, iov, n);
}

PL_EXPORT ssize_t recv(int fd, void *buf, size_t len, int flags)
{
	CONN(fd) return conn_recv(s, buf, len, flags);
	return pl_real.recv(fd, buf, len, flags);
}

PL_EXPORT ssize_t __recv_chk(int fd, void *buf, size_t len, size_t buflen, int flags)
{
	if (len > buflen)
		abort();
	return recv(fd, buf, len, flags);
}

PL_EXPORT ssize_t send(int fd, const void *buf, size_t len, int flags)
{
	CONN(fd) return conn_send(s, buf, len, flags);
	return pl_real.send(fd, buf, len, flags);
}

PL_EXPORT ssize_t recvfrom(int fd, void *buf, size_t len, int flags, struct sockaddr *addr,
			   socklen_t *alen)
{
	CONN(fd) {
		ssize_t r = conn_recv(s, buf, len, flags);

		/* A connected TCP socket reports no source address. */
		if (r >= 0 && addr && alen)
			*alen = 0;
		return r;
	}
	return pl_real.recvfrom(fd, buf, len, flags, addr, alen);
}

PL_EXPORT ssize_t __recvfrom_chk(int fd, void *buf, size_t len, size_t buflen, int flags,
				 struct sockaddr *addr, socklen_t *alen)
{
	if (len > buflen)
		abort();
	return recvfrom(fd, buf, len, flags, addr, alen);
}

PL_EXPORT ssize_t sendto(int fd, const void *buf, size_t len, int flags,
			 const struct sockaddr *addr, socklen_t alen)
{
	CONN(fd) return conn_send(s, buf, len, flags);
	if (s && s->kind == PL_PENDING)
		pl_sock_pending_touch(s, fd);  /* MSG_FASTOPEN connects */
	return pl_real.sendto(fd, buf, len, flags, addr, alen);
}

PL_EXPORT ssize_t recvmsg(int fd, struct msghdr *m, int flags)
{
	CONN(fd) {
		ssize_t r = (flags & MSG_OOB) ?
			    pl_urg_recv(s, m->msg_iovlen ? m->msg_iov[0].iov_base : NULL,
					m->msg_iovlen ? m->msg_iov[0].iov_len : 0, flags) :
			    conn_recvv(s, m->msg_iov, m->msg_iovlen, flags);

		if (r >= 0) {
			m->msg_namelen = 0;  /* TCP: no source address */
			m->msg_controllen = 0;
			m->msg_flags = (flags & MSG_OOB) ? MSG_OOB : 0;
		}
		return r;
	}
	return pl_real.recvmsg(fd, m, flags);
}

PL_EXPORT ssize_t sendmsg(int fd, const struct msghdr *m, int flags)
{
	CONN(fd) return conn_sendv(s, m->msg_iov, m->msg_iovlen, flags);
	if (s && s->kind == PL_PENDING)
		pl_sock_pending_touch(s, fd);  /* MSG_FASTOPEN connects */
	return pl_real.sendmsg(fd, m, flags);
}

PL_EXPORT ssize_t sendfile(int out, int in, off_t *off, size_t count)
{
	struct pl_sock *s = pl_sock_lookup(out);
	char buf[64 << 10];
	size_t done = 0;

	if (!s || s->kind != PL_CONN)
		return pl_real.sendfile(out, in, off, count);
	while (done < count) {
		size_t want = count - done < sizeof(buf) ? count - done : sizeof(buf);
		ssize_t r = off ? pread(in, buf, want, *off) : pl_real.read(in, buf, want);
		ssize_t w;

		if (r <= 0) {
			if (r < 0 && !done)
				return -1;
			break;
		}
		w = conn_send(s, buf, (size_t)r, 0);
		if (w < 0) {
			if (!done)
				return -1;
			break;
		}
		if (off)
			*off += w;
		else if (w < r)
			lseek(in, w - r, SEEK_CUR);
		done += (size_t)w;
		if (w < r)
			break;
	}
	return (ssize_t)done;
}

#if PL_LFS64
PL_EXPORT ssize_t sendfile64(int out, int in, off_t *off, size_t count)
{
	return sendfile(out, in, off, count);
}
#endif
