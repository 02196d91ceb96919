/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Socket options and names: setsockopt/getsockopt (SO_RCVTIMEO and
 * SO_SNDTIMEO as the kernel rounds them; the rest remembered for a
 * connection, passed to the kernel socket while there is one),
 * getsockname and getpeername.
 */
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "pl_private.h"
#include "shmq.h"

/* ---- SO_RCVTIMEO / SO_SNDTIMEO ------------------------------------------------ */

static bool is_timeo(int level, int name)
{
	return level == SOL_SOCKET && (name == SO_RCVTIMEO_OLD || name == SO_SNDTIMEO_OLD ||
				       name == SO_RCVTIMEO_NEW || name == SO_SNDTIMEO_NEW);
}

static bool is_rcvtimeo(int name)
{
	return name == SO_RCVTIMEO_OLD || name == SO_RCVTIMEO_NEW;
}

/* tv_sec < 0 in what the application set (the kernel then times out at
 * once but reports {0, 0}, as it does for "no timeout"). */
static bool timeo_negative(int name, const void *val, socklen_t len)
{
	int64_t sec;

	if (name == SO_RCVTIMEO_NEW || name == SO_SNDTIMEO_NEW) {
		if (len < (socklen_t)(2 * sizeof(int64_t)))
			return false;
		memcpy(&sec, val, sizeof(sec));
	} else {
		struct timeval tv;

		if (len < (socklen_t)sizeof(tv))
			return false;
		memcpy(&tv, val, sizeof(tv));
		sec = tv.tv_sec;
	}
	return sec < 0;
}

/*
 * The kernel validates a timeout and rounds it to its tick; getsockopt must
 * give back exactly what the kernel would. So the value is set on a kernel
 * socket -- the socket's own (PENDING, LISTEN) or a scratch one (CONN) --
 * and what the kernel reports is kept.
 */
static int timeo_set(struct pl_sock *s, int fd, int name, const void *val, socklen_t len)
{
	int k = s->kind == PL_PENDING ? fd : s->kind == PL_LISTEN ? s->kfd :
		pl_real.socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct timeval tv = { 0, 0 };
	socklen_t tl = sizeof(tv);
	int rc, err;

	if (k < 0)
		return -1;
	rc = pl_real.setsockopt(k, SOL_SOCKET, name, val, len);
	err = errno;
	if (rc == 0 && pl_real.getsockopt(k, SOL_SOCKET, is_rcvtimeo(name) ? SO_RCVTIMEO : SO_SNDTIMEO,
					  &tv, &tl) == 0) {
		int64_t us = (int64_t)tv.tv_sec * 1000000 + tv.tv_usec;

		if (!us && timeo_negative(name, val, len))
			us = PL_TIMEO_NOW;
		atomic_store(is_rcvtimeo(name) ? &s->rcvtimeo_us : &s->sndtimeo_us, us);
	}
	if (s->kind == PL_CONN)
		pl_real.close(k);
	errno = err;
	return rc;
}

static int timeo_get(struct pl_sock *s, int name, void *val, socklen_t *len)
{
	int64_t us = atomic_load(is_rcvtimeo(name) ? &s->rcvtimeo_us : &s->sndtimeo_us);
	int64_t sec = us > 0 ? us / 1000000 : 0, usec = us > 0 ? us % 1000000 : 0;
	union {
		int64_t n[2];       /* SO_*TIMEO_NEW */
		struct timeval tv;  /* SO_*TIMEO_OLD */
	} v;
	socklen_t vl;

	if (!len)
		return pl_fail(EFAULT);
	if ((int)*len < 0)
		return pl_fail(EINVAL);
	if (name == SO_RCVTIMEO_NEW || name == SO_SNDTIMEO_NEW) {
		v.n[0] = sec;
		v.n[1] = usec;
		vl = sizeof(v.n);
	} else {
		v.tv = (struct timeval){ .tv_sec = (time_t)sec, .tv_usec = (suseconds_t)usec };
		vl = sizeof(v.tv);
	}
	/* The kernel copies what fits of a shorter buffer. */
	if (*len < vl)
		vl = *len;
	if (vl && !val)
		return pl_fail(EFAULT);
	memcpy(val, &v, vl);
	*len = vl;
	return 0;
}

/*
 * How long a blocking call with timeout @us may still sleep, in ms for
 * shmq_wait()/poll(): -1 no limit, 0 the time is up. *@end_ns is the call's
 * deadline (CLOCK_MONOTONIC), set at its first wait (0 before). One budget
 * per call, as the kernel's timeo.
 */
int pl_timeo_ms(int64_t us, int64_t *end_ns)
{
	int64_t now, left;

	if (us == 0)
		return -1;
	if (us == PL_TIMEO_NOW)
		return 0;
	now = pl_now_ns();
	if (!*end_ns)
		*end_ns = now + us * 1000;
	left = *end_ns - now;
	if (left <= 0)
		return 0;
	left = (left + 999999) / 1000000;
	return left > INT_MAX ? INT_MAX : (int)left;
}
/* ---- options and names ------------------------------------------------------------ */

static int *opt_slot(struct pl_sock *s, int level, int name)
{
	if (level == IPPROTO_TCP && name == TCP_NODELAY)
		return &s->opt_nodelay;
	if (level != SOL_SOCKET)
		return NULL;
	switch (name) {
	case SO_REUSEADDR: return &s->opt_reuseaddr;
	case SO_REUSEPORT: return &s->opt_reuseport;
	case SO_KEEPALIVE: return &s->opt_keepalive;
	case SO_RCVBUF: return &s->opt_rcvbuf;
	case SO_SNDBUF: return &s->opt_sndbuf;
	case SO_OOBINLINE: return &s->oobinline;
	default: return NULL;
	}
}

/* SO_LINGER as the kernel takes it (a connection remembers it, and its
 * {1, 0} makes close() a reset; accepted sockets inherit it). */
static int linger_set(struct pl_sock *s, int fd, const void *val, socklen_t len)
{
	struct linger lg;
	int rc = 0;

	if (s->kind == PL_CONN) {
		if (len < (socklen_t)sizeof(lg))
			return pl_fail(EINVAL);
		if (!val)
			return pl_fail(EFAULT);
	} else {
		if (s->kind == PL_PENDING)
			pl_sock_pending_touch(s, fd);
		rc = pl_real.setsockopt(s->kind == PL_LISTEN ? s->kfd : fd, SOL_SOCKET, SO_LINGER,
					val, len);
		if (rc < 0)
			return rc;
	}
	memcpy(&lg, val, sizeof(lg));
	s->linger_on = lg.l_onoff != 0;
	s->linger_s = lg.l_linger;
	return rc;
}

static int linger_get(struct pl_sock *s, void *val, socklen_t *len)
{
	struct linger lg = { s->linger_on, s->linger_s };
	socklen_t l;

	if (!len)
		return pl_fail(EFAULT);
	if ((int)*len < 0)
		return pl_fail(EINVAL);
	l = *len < (socklen_t)sizeof(lg) ? *len : (socklen_t)sizeof(lg);
	if (l && !val)
		return pl_fail(EFAULT);
	memcpy(val, &lg, l);
	*len = l;
	return 0;
}

PL_EXPORT int setsockopt(int fd, int level, int name, const void *val, socklen_t len)
{
	struct pl_sock *s = pl_sock_lookup(fd);
	int *slot;

	if (!s)
		return pl_real.setsockopt(fd, level, name, val, len);
	if (is_timeo(level, name))
		return timeo_set(s, fd, name, val, len);
	if (level == SOL_SOCKET && name == SO_LINGER)
		return linger_set(s, fd, val, len);
	slot = opt_slot(s, level, name);
	if (slot && val && len >= (socklen_t)sizeof(int))
		*slot = *(const int *)val;
	if (s->kind == PL_PENDING) {
		pl_sock_pending_touch(s, fd);
		return pl_real.setsockopt(fd, level, name, val, len);
	}
	if (s->kind == PL_LISTEN)
		return pl_real.setsockopt(s->kfd, level, name, val, len);
	if (!val && len)
		return pl_fail(EFAULT);
	return 0;  /* remembered; the ring has no use for it */
}

PL_EXPORT int getsockopt(int fd, int level, int name, void *val, socklen_t *len)
{
	struct pl_sock *s = pl_sock_lookup(fd);
	int v, *slot;

	if (!s || s->kind == PL_PENDING)
		return pl_real.getsockopt(fd, level, name, val, len);
	if (s->kind == PL_LISTEN)
		return pl_real.getsockopt(s->kfd, level, name, val, len);
	if (is_timeo(level, name))
		return timeo_get(s, name, val, len);
	if (level == SOL_SOCKET && name == SO_LINGER)
		return linger_get(s, val, len);
	if (!val || !len || *len < (socklen_t)sizeof(int))
		return pl_fail(EINVAL);
	slot = opt_slot(s, level, name);
	if (slot) {
		v = *slot;
	} else if (level == SOL_SOCKET && name == SO_ERROR) {
		struct shmq_ep *ep = pl_sock_ep_get(s);

		pl_sock_peer_gone(s, ep);  /* a reset nothing looked at yet */
		pl_sock_ep_put(s, ep);
		v = s->so_error ? s->so_error : -pl_sock_take_error(s, 0);
		s->so_error = 0;
	} else if (level == SOL_SOCKET && name == SO_TYPE) {
		v = SOCK_STREAM;
	} else if (level == SOL_SOCKET && name == SO_DOMAIN) {
		v = s->family;
	} else if (level == SOL_SOCKET && name == SO_PROTOCOL) {
		v = IPPROTO_TCP;
	} else if (level == SOL_SOCKET && name == SO_ACCEPTCONN) {
		v = 0;
	} else {
		return pl_fail(ENOPROTOOPT);
	}
	memcpy(val, &v, sizeof(v));
	*len = sizeof(v);
	return 0;
}

PL_EXPORT int getsockname(int fd, struct sockaddr *addr, socklen_t *len)
{
	struct pl_sock *s = pl_sock_lookup(fd);

	if (!s || s->kind == PL_PENDING)
		return pl_real.getsockname(fd, addr, len);
	if (s->kind == PL_LISTEN)
		return pl_real.getsockname(s->kfd, addr, len);
	if (!addr || !len)
		return pl_fail(EFAULT);
	pl_addr_copy_out(&s->local, s->local_len, addr, len);
	return 0;
}

PL_EXPORT int getpeername(int fd, struct sockaddr *addr, socklen_t *len)
{
	struct pl_sock *s = pl_sock_lookup(fd);

	if (!s || s->kind == PL_PENDING)
		return pl_real.getpeername(fd, addr, len);
	if (s->kind == PL_LISTEN || pl_sock_conn_closed(s))
		return pl_fail(ENOTCONN);  /* the kernel's socket is in CLOSE */
	if (!addr || !len)
		return pl_fail(EFAULT);
	pl_addr_copy_out(&s->peer, s->peer_len, addr, len);
	return 0;
}
