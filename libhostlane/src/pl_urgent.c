/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Urgent data (MSG_OOB) on hostlane connections, as Linux TCP has it
 * (docs/preload.md, "Urgent data"). send(MSG_OOB) marks the last byte sent
 * urgent in the ring (shmq_urgent_mark()); the reader side does what the
 * kernel does with it:
 *
 *  - reads stop before the mark (a read that has data never crosses it);
 *    at the mark, without SO_OOBINLINE the urgent byte is skipped, with it
 *    the byte is read as data;
 *  - recv(MSG_OOB) returns the byte once (EINVAL with SO_OOBINLINE, when
 *    there is none, once it was taken, and once a read passed the mark);
 *  - SIOCATMARK, FIONREAD (bytes up to the mark without SO_OOBINLINE),
 *    POLLPRI / EPOLLPRI / select's exceptional set while the byte can be
 *    taken, and no POLLIN for a lone urgent byte at the mark;
 *  - a newer mark replaces the older one, whose byte becomes data, except
 *    when the reader stood right at it: that byte is dropped;
 *  - SIGURG to the F_SETOWN owner for every new mark.
 *
 * Where the kernel acts when the segment arrives, the layer acts when it
 * first looks at the socket after the peer marked the byte (any call on
 * it, or a poll/epoll wake-up: the mark wakes a sleeper): SIGURG comes
 * then, and an older byte is dropped only if a look saw its mark before
 * the newer one came.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "pl_private.h"
#include "shmq.h"

/* SIGURG to the owner the application gave the connection (F_SETOWN:
 * it is on the open file its fd shares with our eventfd). */
static void send_sigurg(struct pl_sock *s)
{
	struct f_owner_ex o = { 0, 0 };

	if (pl_real.fcntl(s->efd, F_GETOWN_EX, &o) < 0 || o.pid <= 0)
		return;
	if (o.type == F_OWNER_TID)
		syscall(SYS_tgkill, getpid(), o.pid, SIGURG);
	else
		kill(o.type == F_OWNER_PGRP ? -o.pid : o.pid, SIGURG);
}

bool pl_urg_look(struct pl_sock *s, struct shmq_ep *ep, struct pl_urg *v)
{
	struct shmq_urgent u;
	bool fresh = false;

	if (shmq_urgent(ep, &u) != 1)
		return false;
	v->pos = u.pos;
	v->head = u.head;
	v->byte = u.byte;
	v->taken = u.taken != 0;
	pthread_mutex_lock(&s->lock);
	if (u.pos + 1 != s->urg_seen) {
		/* A newer mark. The reader stood at the older, unread one: the
		 * kernel drops that byte (tcp_check_urg()). */
		uint64_t old = s->urg_seen;

		if (old && old - 1 == u.head && old - 1 < u.pos && !s->oobinline)
			s->urg_skip = old;  /* position + 1 */
		s->urg_seen = u.pos + 1;
		fresh = true;
	}
	v->skip = s->urg_skip && s->urg_skip - 1 == u.head;
	pthread_mutex_unlock(&s->lock);
	if (fresh)
		send_sigurg(s);
	return true;
}

/* Consumes the byte at the head (an urgent byte skipped or dropped). */
static void skip_byte(struct pl_sock *s, struct shmq_ep *ep)
{
	char c;

	if (shmq_read(ep, &c, 1, 0) == 1) {
		pthread_mutex_lock(&s->lock);
		s->urg_skip = 0;
		pthread_mutex_unlock(&s->lock);
	}
}

int pl_urg_before_read(struct pl_sock *s, struct shmq_ep *ep, size_t done, size_t *want,
		       int flags)
{
	struct pl_urg v;

	for (int i = 0; i < 2 && pl_urg_look(s, ep, &v); i++) {
		if (v.skip && !(flags & MSG_PEEK)) {
			skip_byte(s, ep);  /* dropped: the newer mark is next */
			continue;
		}
		if (v.head < v.pos) {  /* stop before the mark */
			if (*want > v.pos - v.head)
				*want = (size_t)(v.pos - v.head);
			return 0;
		}
		if (done)
			return 1;  /* at the mark with data: the read ends here */
		if (s->oobinline)
			return 0;  /* the urgent byte is data */
		if (flags & MSG_PEEK)
			return 2;  /* nothing to peek before or at it */
		skip_byte(s, ep);  /* not inline: past it, the mark is gone */
		return 0;
	}
	return 0;
}

ssize_t pl_urg_recv(struct pl_sock *s, void *buf, size_t len, int flags)
{
	struct shmq_ep *ep;
	struct pl_urg v;
	ssize_t r = -EINVAL;

	if (s->oobinline)
		return pl_fail(EINVAL);
	pthread_mutex_lock(&s->rx_lock);
	ep = pl_sock_ep_get(s);
	if (pl_urg_look(s, ep, &v) && !v.taken) {
		if (len) {
			*(char *)buf = (char)v.byte;
			r = 1;
		} else {
			r = 0;
		}
		if (!(flags & MSG_PEEK))
			shmq_urgent_take(ep, v.pos);
	}
	pl_sock_ep_put(s, ep);
	pthread_mutex_unlock(&s->rx_lock);
	return r < 0 ? pl_fail((int)-r) : r;
}

int pl_urg_atmark(struct pl_sock *s)
{
	struct shmq_ep *ep = pl_sock_ep_get(s);
	struct pl_urg v;
	int at = 0;

	if (pl_urg_look(s, ep, &v))
		at = v.skip ? v.head + 1 == v.pos : v.head == v.pos;
	pl_sock_ep_put(s, ep);
	return at;
}

uint32_t pl_urg_ready(struct pl_sock *s, struct shmq_ep *ep, uint32_t r, uint64_t *nread)
{
	struct pl_urg v;
	uint64_t head, total;
	ssize_t n;
	bool at;

	if (!pl_urg_look(s, ep, &v))
		return r;
	n = shmq_readable(ep);
	total = n > 0 ? (uint64_t)n : 0;
	head = v.head;
	if (v.skip && total) {  /* a dropped byte is not data */
		head++;
		total--;
	}
	if (!v.taken && head <= v.pos)
		r |= EPOLLPRI;
	if (s->oobinline) {
		*nread = total;
		return r;
	}
	/* Without SO_OOBINLINE the urgent byte is not data: FIONREAD counts up
	 * to the mark, and a lone urgent byte at the mark is not readable
	 * (unless the peer's end-of-stream is). */
	at = head == v.pos;
	*nread = at ? 0 : total > v.pos - head ? v.pos - head : total;
	if (total <= (at ? 1u : 0u) && !(shmq_peer_flags(ep) & SHMQ_PF_SHUT))
		r &= ~(uint32_t)EPOLLIN;
	return r;
}
