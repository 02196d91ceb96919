/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the fd calls do to hostlane sockets: close, shutdown, dup, dup2,
 * dup3, fcntl and ioctl. A PENDING socket reaching its kernel socket through
 * one of them makes that socket its own (pl_sock_pending_touch()).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "pl_private.h"
#include "shmq.h"

/* ---- close, shutdown, dup ------------------------------------------------------------- */

PL_EXPORT int close(int fd)
{
	struct pl_sock *s = pl_sock_lookup(fd);
	int rc;

	if (!s) {
		if (pl_active() && pl_ep_get(fd))
			pl_poll_epfd_closed(fd);
		return pl_real.close(fd);
	}
	pl_sock_epsets_forget_fd(s, fd);
	rc = pl_real.close(fd);
	pl_sock_fd_gone(fd, s);
	return rc;
}

PL_EXPORT int shutdown(int fd, int how)
{
	struct pl_sock *s = pl_sock_lookup(fd);

	if (s && s->kind == PL_PENDING)
		pl_sock_pending_touch(s, fd);  /* it marks even an unconnected socket */
	if (!s || s->kind == PL_PENDING)
		return pl_real.shutdown(fd, how);
	if (s->kind == PL_LISTEN)
		return pl_real.shutdown(s->kfd, how);
	if (how != SHUT_RD && how != SHUT_WR && how != SHUT_RDWR)
		return pl_fail(EINVAL);
	if (pl_sock_conn_closed(s))
		return pl_fail(ENOTCONN);
	if (how != SHUT_WR)
		s->shut_rd = true;
	if (how != SHUT_RD) {
		pthread_mutex_lock(&s->tx_lock);
		s->shut_wr = true;
		shmq_shutdown(s->ep);
		pthread_mutex_unlock(&s->tx_lock);
	}
	return 0;
}

/* @nfd now names what @ofd names (after a successful real dup). */
static int dup_done(int nfd, struct pl_sock *s, struct pl_sock *old_at_nfd)
{
	if (nfd < 0)
		return nfd;
	if (old_at_nfd)
		pl_sock_fd_gone(nfd, old_at_nfd);
	if (s)
		pl_sock_track(nfd, s);
	return nfd;
}

/* dup of a PENDING socket: it stays a kernel socket (two numbers cannot
 * both be switched to a hostlane connection). */
static struct pl_sock *dup_source(int fd)
{
	struct pl_sock *s = pl_sock_lookup(fd);

	if (s && s->kind == PL_PENDING) {
		pl_sock_untrack(fd, s);
		return NULL;
	}
	return s;
}

PL_EXPORT int dup(int fd)
{
	struct pl_sock *s = dup_source(fd);

	return dup_done(pl_real.dup(fd), s, NULL);
}

PL_EXPORT int dup3(int ofd, int nfd, int flags)
{
	struct pl_sock *s, *t;

	if (ofd == nfd)
		return pl_real.dup3(ofd, nfd, flags);
	s = dup_source(ofd);
	t = pl_sock_lookup(nfd);
	if (t)
		pl_sock_epsets_forget_fd(t, nfd);
	return dup_done(pl_real.dup3(ofd, nfd, flags), s, t);
}

PL_EXPORT int dup2(int ofd, int nfd)
{
	struct pl_sock *s, *t;

	if (ofd == nfd)
		return pl_real.dup2(ofd, nfd);
	s = dup_source(ofd);
	t = pl_sock_lookup(nfd);
	if (t)
		pl_sock_epsets_forget_fd(t, nfd);
	return dup_done(pl_real.dup2(ofd, nfd), s, t);
}

static int do_fcntl(int fd, int cmd, long arg)
{
	struct pl_sock *s = pl_sock_lookup(fd);

	if (!s)
		return pl_real.fcntl(fd, cmd, arg);
	switch (cmd) {
	case F_DUPFD:
	case F_DUPFD_CLOEXEC:
		s = dup_source(fd);
		return dup_done(pl_real.fcntl(fd, cmd, arg), s, NULL);
	case F_GETFL:
		if (s->kind == PL_PENDING && !s->pooled)
			break;
		return O_RDWR | (atomic_load(&s->nonblock) ? O_NONBLOCK : 0);
	case F_SETFL:
		atomic_store(&s->nonblock, !!(arg & O_NONBLOCK));
		if (s->kind == PL_PENDING && !s->pooled) {
			s->knonblock = !!(arg & O_NONBLOCK);
			break;
		}
		return 0;  /* pooled: applied if the kernel socket is ever used */
	case F_SETFD:
		s->fdflags = -1;  /* asked again if it matters */
		break;
	case F_GETFD:
		break;
	default:
		if (s->kind == PL_PENDING)
			pl_sock_pending_touch(s, fd);  /* owner, signal, lease: the file's */
		break;
	}
	return pl_real.fcntl(fd, cmd, arg);
}

PL_EXPORT int fcntl(int fd, int cmd, ...)
{
	va_list ap;
	long arg;

	va_start(ap, cmd);
	arg = va_arg(ap, long);  /* every command's argument fits a long */
	va_end(ap);
	return do_fcntl(fd, cmd, arg);
}

PL_EXPORT int fcntl64(int fd, int cmd, ...)
{
	va_list ap;
	long arg;

	va_start(ap, cmd);
	arg = va_arg(ap, long);
	va_end(ap);
	return do_fcntl(fd, cmd, arg);
}

PL_EXPORT int ioctl(int fd, unsigned long req, ...)
{
	struct pl_sock *s;
	va_list ap;
	void *arg;

	va_start(ap, req);
	arg = va_arg(ap, void *);
	va_end(ap);
	s = pl_sock_lookup(fd);
	if (s && (req == FIOCLEX || req == FIONCLEX))
		s->fdflags = -1;
	if (s && s->kind == PL_PENDING && req == FIONBIO && s->pooled) {
		atomic_store(&s->nonblock, !!*(int *)arg);
		return 0;  /* applied if the kernel socket is ever used */
	}
	if (s && s->kind == PL_PENDING && req != FIOCLEX && req != FIONCLEX) {
		if (req == FIONBIO)
			s->knonblock = !!*(int *)arg;
		else
			pl_sock_pending_touch(s, fd);
	}
	if (s && s->kind != PL_PENDING) {
		if (req == FIONBIO) {
			atomic_store(&s->nonblock, !!*(int *)arg);
			return 0;
		}
		if (req == FIONREAD && s->kind == PL_CONN) {
			struct shmq_ep *ep = pl_sock_ep_get(s);
			ssize_t n = shmq_readable(ep);
			uint64_t nr = n > 0 ? (uint64_t)n : 0;

			pl_urg_ready(s, ep, 0, &nr);  /* up to an urgent mark */
			pl_sock_ep_put(s, ep);
			*(int *)arg = (int)nr;
			return 0;
		}
		if (req == SIOCATMARK && s->kind == PL_CONN) {
			*(int *)arg = pl_urg_atmark(s);
			return 0;
		}
		if (s->kind == PL_LISTEN)
			return pl_real.ioctl(s->kfd, req, arg);
		return pl_fail(ENOTTY);
	}
	if (s && req == FIONBIO)
		atomic_store(&s->nonblock, !!*(int *)arg);
	return pl_real.ioctl(fd, req, arg);
}
