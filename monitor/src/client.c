/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The monitor's clients: one per pod process connected to its pod's
 * `@hostlane` socket. Accepting them (with a pidfd to learn of their
 * death), reading their requests in batches, dispatching each to its
 * handler, replying, and freeing everything a client held when it goes.
 */
#include "mon_private.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>
#include <stdarg.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <linux/sockios.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <syslog.h>

#include "hl_codec.h"
#include "hl_loop.h"

#ifndef SO_PEERPIDFD
#define SO_PEERPIDFD 77  /* Linux 6.5 */
#endif

#define BATCH 32  /* requests served per wake-up */

/* Sends @m with @nfds fds. Never blocks: a client that does not read its
 * replies gets -EAGAIN here and is dropped by the caller. */
int mon_send(int fd, struct hl_proto_msg *m, const int *fds, unsigned nfds)
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int) * HL_PROTO_MAX_FDS)];
	} cb;
	struct iovec iov = { m, sizeof(*m) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t w;

	m->hdr.flags |= HL_PROTO_F_REPLY;
	m->hdr.nfds = nfds;
	if (nfds) {
		memset(&cb, 0, sizeof(cb));
		mh.msg_control = cb.buf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
	}
	w = sendmsg(fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
	if (w < 0)
		return -errno;
	return w == (ssize_t)sizeof(*m) ? 0 : -EIO;
}

__attribute__((format(printf, 3, 4)))
void mon_set_error(struct hl_proto_msg *rep, int err, const char *fmt, ...)
{
	va_list ap;

	rep->hdr.status = err;
	memset(&rep->u, 0, sizeof(rep->u));
	va_start(ap, fmt);
	vsnprintf(rep->u.error.reason, sizeof(rep->u.error.reason), fmt, ap);
	va_end(ap);
}

unsigned mon_msg_cost(void)
{
	struct hl_proto_msg m;
	int sv[2], q = 0;

	memset(&m, 0, sizeof(m));
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return 2048;
	if (send(sv[0], &m, sizeof(m), MSG_DONTWAIT) != (ssize_t)sizeof(m) ||
	    ioctl(sv[0], SIOCOUTQ, &q) < 0 || q < (int)sizeof(m))
		q = 2048;
	close(sv[0]);
	close(sv[1]);
	return (unsigned)q;
}

bool mon_event_room(const struct mon_client *c)
{
	int q = 0;

	if (ioctl(c->fd, SIOCOUTQ, &q) < 0)
		return true;
	return (unsigned)q + c->ep->node->msg_cost <= c->ev_budget;
}

/* The event budget of a new client: limits.events messages, at most half
 * its socket buffer. */
static unsigned ev_budget(const struct hl_mon_pod *ep, int fd)
{
	const struct hl_monitor *n = ep->node;
	int sb = 0;
	socklen_t l = sizeof(sb);
	unsigned b = n->o.limits.events * n->msg_cost;

	if (getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sb, &l) == 0 && sb > 0 && (unsigned)sb / 2 < b)
		b = (unsigned)sb / 2;
	return b;
}

static void linger_cb(struct hl_loop *loop, int fd, uint32_t events, void *arg)
{
	struct mon_linger *lg = arg, **pp;
	struct hl_monitor *n = lg->ep->node;

	(void)fd; (void)events;
	for (pp = &lg->ep->lingers; *pp && *pp != lg; pp = &(*pp)->next)
		;
	if (*pp)
		*pp = lg->next;
	/* The process is gone: so are the holds its exec kept. */
	for (struct mon_region *g = n->regions, *nx; g; g = nx) {
		int holds = (g->linger[0] == lg) + (g->linger[1] == lg);

		nx = g->next;
		while (holds--)
			mon_region_unlinger(n, g, lg);  /* may free g on the last hold */
	}
	mon_slot_gc(n);
	hl_loop_del(loop, lg->pidfd);
	close(lg->pidfd);
	if (lg->wr >= 0) {
		close(lg->wr);
		lg->ep->n_fds--;
	}
	lg->ep->n_lingers--;
	lg->ep->n_fds--;
	free(lg);
}

void mon_lingers_free(struct hl_mon_pod *ep)
{
	while (ep->lingers)
		linger_cb(ep->node->o.loop, ep->lingers->pidfd, 0, ep->lingers);
}

static bool process_gone(int pidfd)
{
	struct pollfd p = { .fd = pidfd, .events = POLLIN };

	return poll(&p, 1, 0) != 0;
}

static bool holds_region(const struct mon_client *c)
{
	for (const struct mon_region *g = c->ep->node->regions; g; g = g->next)
		if (g->holder[0] == c || g->holder[1] == c)
			return true;
	return false;
}

/*
 * The client's channel closed. If its process lives on (it exec'd: its
 * connections live on in the new image), what its peers need stays until
 * the process exits: the write end of its liveness pipe if we hold it
 * (else its peers would see it die), and, if it said it execs (EXEC), its
 * holds on regions (mon_region_linger()). Return: the linger that took
 * @c's pidfd (and the write end, counted still), or NULL.
 */
static struct mon_linger *linger_new(struct mon_client *c)
{
	struct hl_mon_pod *ep = c->ep;
	struct mon_linger *lg;

	if ((c->life_wr < 0 && !(c->exec_hold && holds_region(c))) || c->pidfd < 0 ||
	    ep->n_lingers >= ep->node->o.limits.clients || process_gone(c->pidfd) ||
	    !(lg = calloc(1, sizeof(*lg))))
		return NULL;
	hl_loop_del(ep->node->o.loop, c->pidfd);
	lg->ep = ep;
	lg->pidfd = c->pidfd;
	lg->wr = c->life_wr;
	if (hl_loop_add(ep->node->o.loop, lg->pidfd, EPOLLIN, linger_cb, lg) < 0) {
		free(lg);
		return NULL;
	}
	c->life_wr = -1;
	lg->next = ep->lingers;
	ep->lingers = lg;
	ep->n_lingers++;
	return lg;
}

void mon_client_free(struct mon_client *c)
{
	struct hl_mon_pod *ep = c->ep;
	struct hl_monitor *n = ep->node;
	struct mon_listener **pl = &ep->listeners;
	struct mon_linger *lg = linger_new(c);

	mon_cp_client_gone(c);
	while (*pl) {
		struct mon_listener *l = *pl;

		if (l->c == c) {
			*pl = l->next;
			ep->n_listeners--;
			free(l);
		} else {
			pl = &l->next;
		}
	}
	for (struct mon_region *g = n->regions, *nx; g; g = nx) {
		int holds = (g->holder[0] == c) + (g->holder[1] == c);

		nx = g->next;
		if (holds && lg && c->exec_hold)
			mon_region_linger(g, c, lg);
		else
			while (holds--)
				mon_region_unhold(n, g, c);  /* may free g on the last hold */
	}
	mon_slot_gc(n);
	if (c->stats)
		munmap(c->stats, HL_STATS_SIZE);
	if (c->bell >= 0) {
		close(c->bell);
		ep->n_fds--;
	}
	hl_loop_del(n->o.loop, c->fd);
	close(c->fd);
	if (c->life_rd >= 0) {
		close(c->life_rd);
		ep->n_fds--;
	}
	if (c->life_wr >= 0) {
		close(c->life_wr);
		ep->n_fds--;
	}
	if (lg) {
		ep->n_fds--;  /* the socket; the pidfd went to the linger */
	} else {
		if (c->pidfd >= 0) {
			hl_loop_del(n->o.loop, c->pidfd);
			close(c->pidfd);
		}
		ep->n_fds -= 2;
	}
	LIST_DEL(ep->clients, c);
	ep->n_clients--;
	mon_log(n, LOG_DEBUG, "endpoint %s: client pid %d gone", ep->key, (int)c->pid);
	free(c);
}

/*
 * What a HELLO reply carries: the stats region (v2); v4: the process's
 * doorbell, its end of a datagram socketpair whose other end we keep and
 * hand to its direct connectors (each may write it, none can read it or
 * change its flags), and the write end of its liveness pipe, which it
 * keeps from then on (ours is closed: its liveness no longer depends on
 * the agent). Returns the number of fds put in @fds; @cl gets the ones to
 * close once the reply is sent.
 */
static unsigned hello_fds(struct mon_client *c, struct hl_proto_msg *rep, int *fds, int *cl)
{
	struct hl_mon_pod *ep = c->ep;
	unsigned n = 0;
	int sv[2];

	if (c->version >= 2 && !c->stats && (fds[n] = cl[n] = mon_stats_new(c)) >= 0) {
		rep->u.hello_rep.flags |= HL_HELLO_F_STATS;
		n++;
	}
	if (c->version >= 4 && c->bell < 0 && ep->n_fds < ep->node->o.limits.fds &&
	    socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) == 0) {
		rep->u.hello_rep.flags |= HL_HELLO_F_BELL;
		fds[n] = cl[n] = sv[0];
		n++;
		c->bell = sv[1];
		c->direct = true;
		ep->n_fds++;
	}
	if (c->version >= 4 && c->life_wr >= 0) {
		rep->u.hello_rep.flags |= HL_HELLO_F_LIFE;
		fds[n] = cl[n] = c->life_wr;
		n++;
		c->life_wr = -1;
		ep->n_fds--;
	}
	return n;
}

/* Serves one valid request. Returns false if the client must be dropped. */
static bool serve(struct mon_client *c, const struct hl_proto_msg *req)
{
	struct hl_proto_msg rep;
	int fds[HL_PROTO_MAX_FDS], efd_close[MON_CLOSE_FDS], rc;
	unsigned nfds = 0;

	for (unsigned i = 0; i < MON_CLOSE_FDS; i++)
		efd_close[i] = -1;

	hl_proto_init(&rep, req->hdr.op, req->hdr.seq);
	if (!c->hello && req->hdr.op != HL_POD_OP_HELLO) {
		mon_set_error(&rep, -EPROTO, "HELLO must come first");
	} else {
		switch (req->hdr.op) {
		case HL_POD_OP_HELLO:
			mon_hello(c, req, &rep);
			if (!rep.hdr.status)
				nfds = hello_fds(c, &rep, fds, efd_close);
			break;
		case HL_POD_OP_REGION_ALLOC:
			fds[0] = mon_region_alloc(c, req, &rep);
			nfds = fds[0] >= 0;
			break;
		case HL_POD_OP_REGION_FREE: mon_region_free(c, req, &rep); break;
		case HL_POD_OP_LISTEN:
			mon_listen(c, req, &rep);
			mon_cp_check_listen(c, req, rep.hdr.status);
			break;
		case HL_POD_OP_UNLISTEN:
			mon_unlisten(c, req, &rep);
			mon_cp_check_unlisten(c, req->u.listen.port, rep.hdr.status);
			break;
		case HL_POD_OP_CONNECT:
			nfds = mon_connect(c, req, &rep, fds, efd_close);
			break;
		case HL_POD_OP_CONN_CLOSE: mon_conn_close(c, req, &rep); break;
		case HL_POD_OP_DIRECT_OFF:
			/* Its listeners are shared with children now: a
			 * connection announced to it might be taken by
			 * neither. Later regions to it are plain slot ones. */
			c->direct = false;
			break;
		case HL_POD_OP_EXEC:
			/* Its connections go on in its next image: what it
			 * holds stays held until the process exits, not
			 * until this channel closes (mon_client_free()). */
			c->exec_hold = true;
			break;
		}
	}
	if (c->version)
		rep.hdr.version = c->version;
	rc = mon_send(c->fd, &rep, fds, nfds);
	mon_close_fds(efd_close, MON_CLOSE_FDS);
	if (rc) {
		mon_log(c->ep->node, LOG_WARNING, "endpoint %s: dropping client pid %d: reply: %s",
		      c->ep->key, (int)c->pid, strerror(-rc));
		return false;
	}
	return true;
}

/* Replies to a request that failed validation; the client stays. */
static bool reject(struct mon_client *c, const uint8_t *buf, size_t len, int err)
{
	struct hl_proto_msg rep;
	struct hl_proto_hdr h = { 0 };

	memcpy(&h, buf, len < sizeof(h) ? len : sizeof(h));
	hl_proto_init(&rep, h.op, h.seq);
	mon_set_error(&rep, err, "invalid %s request (%zu bytes): %s", hl_proto_op_name(h.op),
		  len, strerror(-err));
	return mon_send(c->fd, &rep, NULL, 0) == 0;
}

/* Reads and serves up to BATCH requests. Returns false to drop the client. */
static bool client_read(struct mon_client *c)
{
	static uint8_t buf[BATCH][HL_PROTO_MSG_SIZE];  /* loop thread only */
	struct iovec iov[BATCH];
	struct mmsghdr mm[BATCH];
	struct hl_proto_msg req;
	int n;

	for (int i = 0; i < BATCH; i++) {
		iov[i] = (struct iovec){ buf[i], sizeof(buf[i]) };
		/* No control buffer: fds a client sends are closed by the
		 * kernel and flagged with MSG_CTRUNC. */
		mm[i] = (struct mmsghdr){ .msg_hdr = { .msg_iov = &iov[i], .msg_iovlen = 1 } };
	}
	/* One system call for the whole batch: most wake-ups carry one
	 * request, and a second recvmsg only to hear EAGAIN doubles the cost. */
	n = recvmmsg(c->fd, mm, BATCH, MSG_DONTWAIT, NULL);
	if (n < 0)
		return errno == EAGAIN || errno == EINTR;
	for (int i = 0; i < n; i++) {
		const struct msghdr *mh = &mm[i].msg_hdr;
		size_t r = mm[i].msg_len;
		int rc;

		if (r == 0)
			return false;  /* end of stream */
		if (mh->msg_flags & (MSG_TRUNC | MSG_CTRUNC))
			rc = mh->msg_flags & MSG_CTRUNC ? -EINVAL : -EBADMSG;
		else
			rc = hl_proto_parse_request(buf[i], r, &req);
		if (rc ? !reject(c, buf[i], r, rc) : !serve(c, &req))
			return false;
	}
	return true;
}

static void client_cb(struct hl_loop *loop, int fd, uint32_t events, void *arg)
{
	struct mon_client *c = arg;

	(void)loop; (void)fd;
	if (!client_read(c) || (events & (EPOLLHUP | EPOLLERR)))
		mon_client_free(c);
}

static void client_pid_cb(struct hl_loop *loop, int fd, uint32_t events, void *arg)
{
	(void)loop; (void)fd; (void)events;
	mon_client_free(arg);  /* the process exited: its mappings are gone */
}

static int peer_pidfd(int fd, pid_t pid)
{
	int pfd = -1;
	socklen_t l = sizeof(pfd);

	/* SO_PEERPIDFD names the very process that connected; pidfd_open on
	 * the SO_PEERCRED pid could race with pid reuse. */
	if (getsockopt(fd, SOL_SOCKET, SO_PEERPIDFD, &pfd, &l) == 0 && pfd >= 0)
		return pfd;
	pfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pfd >= 0)
		fcntl(pfd, F_SETFD, FD_CLOEXEC);
	return pfd;
}

/* Fds a new client costs the pod: its socket and pidfd, its liveness
 * pipe, a doorbell. */
#define CLIENT_FDS 5u

static void client_new(struct hl_mon_pod *ep, int fd)
{
	struct hl_monitor *n = ep->node;
	struct ucred cr;
	socklen_t l = sizeof(cr);
	struct mon_client *c;
	int life[2] = { -1, -1 };

	if (ep->n_clients >= n->o.limits.clients || ep->n_fds + CLIENT_FDS > n->o.limits.fds) {
		/* The process sees its connection closed: it goes on with the
		 * kernel's sockets. */
		mon_log_limited(ep, ep->n_clients >= n->o.limits.clients ?
				"client limit reached, refusing" : "fd limit reached, refusing a client");
		close(fd);
		return;
	}
	c = calloc(1, sizeof(*c));
	if (!c || getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &l) < 0) {
		free(c);
		close(fd);
		return;
	}
	c->ep = ep;
	c->fd = fd;
	c->bell = -1;
	c->life_rd = c->life_wr = -1;
	c->ev_budget = ev_budget(ep, fd);
	c->pid = cr.pid;
	c->uid = cr.uid;
	c->pidfd = peer_pidfd(fd, cr.pid);
	if (c->pidfd < 0 || pipe2(life, O_CLOEXEC | O_NONBLOCK) < 0 ||
	    hl_loop_add(n->o.loop, fd, EPOLLIN, client_cb, c) < 0) {
		mon_log_limited(ep, "cannot serve a client (out of fds or memory)");
		goto fail;
	}
	if (hl_loop_add(n->o.loop, c->pidfd, EPOLLIN, client_pid_cb, c) < 0) {
		hl_loop_del(n->o.loop, fd);
		goto fail;
	}
	c->life_rd = life[0];
	c->life_wr = life[1];
	LIST_ADD(ep->clients, c);
	ep->n_clients++;
	ep->n_fds += 4;
	mon_log(n, LOG_DEBUG, "endpoint %s: client pid %d uid %u", ep->key, (int)cr.pid,
	      (unsigned)cr.uid);
	return;
fail:
	if (life[0] >= 0) {
		close(life[0]);
		close(life[1]);
	}
	if (c->pidfd >= 0)
		close(c->pidfd);
	close(fd);
	free(c);
}

#define PAUSE_MS 250  /* out of fds: accept again after this */

static void accept_resume(struct hl_loop *loop, void *arg)
{
	struct hl_mon_pod *ep = arg;

	ep->resume = 0;
	hl_loop_mod(loop, ep->fd, EPOLLIN);
}

/*
 * Out of fds: a connection that cannot be accepted keeps the socket
 * readable, and the loop would spin on it. The reserve fd is given up to
 * accept it and close it at once (the process sees its connection closed
 * and goes on with kernel sockets, instead of waiting); if even that fails
 * (another thread took the fd), accepting pauses for PAUSE_MS.
 * Return: true when the caller may accept again.
 */
static bool accept_refuse(struct hl_loop *loop, struct hl_mon_pod *ep, int fd)
{
	struct hl_monitor *n = ep->node;
	int cfd = -1;

	if (n->reserve >= 0) {
		close(n->reserve);
		n->reserve = -1;
		cfd = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (cfd >= 0)
			close(cfd);
		n->reserve = open("/dev/null", O_RDONLY | O_CLOEXEC);
	}
	mon_log_limited(ep, "the agent is out of fds: refusing clients");
	if (cfd >= 0 && n->reserve >= 0)
		return true;
	if (!ep->resume && hl_loop_mod(loop, fd, 0) == 0)
		ep->resume = hl_timer_add(loop, PAUSE_MS, accept_resume, ep);
	return false;
}

void mon_accept_cb(struct hl_loop *loop, int fd, uint32_t events, void *arg)
{
	struct hl_mon_pod *ep = arg;

	(void)events;
	for (int i = 0; i < BATCH; i++) {
		int cfd = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

		if (cfd >= 0) {
			client_new(ep, cfd);
			continue;
		}
		if ((errno == EMFILE || errno == ENFILE) && accept_refuse(loop, ep, fd))
			continue;
		if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED &&
		    errno != EMFILE && errno != ENFILE)
			mon_log_limited(ep, "accept failed");
		return;
	}
}
