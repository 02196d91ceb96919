/* SPDX-License-Identifier: Apache-2.0 */
/*
 * connect(), and the set-up of a hostlane connection's ring that connect()
 * and accept() share. A connect() to a hostlane listener is set up with the
 * listener's process alone when a direct region to it publishes the port
 * (docs/monitor.md), else through the monitor; anything else goes to the
 * kernel on the same fd.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <string.h>

#include "hl_codec.h"
#include "pl_private.h"
#include "shmq.h"

/* ---- connections ----------------------------------------------------------------- */

/*
 * Maps what a CONNECT reply / ACCEPT event handed over into @s (kind CONN)
 * and puts the eventfd at @fd (or a new number when @fd < 0). Takes @fds
 * (pl_pending order) and @g (the slot region, or NULL: fds[0] is the
 * connection's own region). Return: the fd number or -errno.
 */
int pl_sock_conn_setup(struct pl_sock *s, struct pl_ctl *ctl, const struct hl_proto_conn *m,
		       int *fds, struct pl_region *g, int fd, bool cloexec)
{
	int rc = -EPROTO, own = fds[1], peer = fds[2];

	if (g) {
		/* The slot's eventfds and the peer's pidfd stay with the
		 * region. */
		s->slot_region = g;
		s->r = pl_region_shmq(g);
		own = pl_region_efd(g, m->pair, 0);
		peer = pl_region_efd(g, m->pair, 1);
		if (own < 0 || peer < 0)
			goto fail;
		/* A count the slot's previous connection left in the eventfd
		 * costs at most one spurious wake-up, which drains it. */
	} else {
		for (unsigned i = 0; i < 4; i++)
			fds[i] = pl_fd_hide(fds[i]);
		own = fds[1];
		peer = fds[2];
		s->r = pl_region_map(fds[0]);
	}
	if (!s->r)
		goto fail;
	s->ep = shmq_ep_attach(s->r, m->pair, m->side);
	if (!s->ep)
		goto fail;
	if (fd >= 0)
		rc = pl_real.dup3(own, fd, cloexec ? O_CLOEXEC : 0);
	else
		rc = pl_real.fcntl(own, cloexec ? F_DUPFD_CLOEXEC : F_DUPFD, 0);
	if (rc < 0) {
		rc = -errno;
		goto fail;
	}
	pl_close_quiet(fds[0]);
	s->efd = own;
	s->peer_efd = peer;
	s->live_fd = g ? pl_region_pidfd(g) : fds[3];
	shmq_ep_set_fds(s->ep, s->efd, s->peer_efd, s->live_fd, SHMQ_PEER_PIDFD);
	pl_sock_ep_spin(s->ep);
	s->pair = m->pair;
	s->side = m->side;
	s->ctl = ctl;
	s->region_id = m->region_id;
	s->shref = pl_shref_alloc();
	s->kind = PL_CONN;
	s->st = pl_stats_conn_new(&s->st_own);
	s->st->fd = rc;
	s->st->side = m->side;
	atomic_fetch_add_explicit(&pl_stats->conns, 1, memory_order_relaxed);
	return rc;
fail:
	if (s->ep)
		shmq_ep_close(s->ep);
	if (g)
		pl_region_put(g);
	else
		shmq_region_close(s->r);
	s->ep = NULL;
	s->r = NULL;
	s->slot_region = NULL;
	for (unsigned i = 0; i < HL_PROTO_MAX_FDS; i++)
		pl_close_quiet(fds[i]);
	pl_ctl_give_back(ctl, m);
	return rc < 0 ? rc : -EPROTO;
}

/* Puts the addresses of connection @s in its counters' record, which makes
 * it visible in `hostlanectl conns`. */
void pl_sock_stats_describe(struct pl_sock *s)
{
	struct hl_stats_conn *r = s->st;

	if (pl_addr_from_sa((struct sockaddr *)&s->local, s->local_len, &r->local, &r->local_port))
		memset(&r->local, 0, sizeof(r->local));
	if (pl_addr_from_sa((struct sockaddr *)&s->peer, s->peer_len, &r->peer, &r->peer_port))
		memset(&r->peer, 0, sizeof(r->peer));
	pl_stats_conn_publish(r);
}

/* Gives a PENDING socket a local port, as the kernel's connect would: the
 * layer picks one (pl_port.c) unless the application bound the socket. */
static uint16_t local_port(struct pl_sock *s, int fd, int family)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	struct hl_proto_addr a;
	uint16_t port = 0;

	if (s->bound && pl_real.getsockname(fd, (struct sockaddr *)&ss, &sl) == 0 &&
	    pl_addr_from_sa((struct sockaddr *)&ss, sl, &a, &port) == 0 && port)
		return port;
	if (!s->bound && (port = pl_port_get()) != 0) {
		s->own_port = port;
		return port;
	}
	memset(&ss, 0, sizeof(ss));
	ss.ss_family = (sa_family_t)family;
	sl = family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
	if (pl_real.bind(fd, (struct sockaddr *)&ss, sl) < 0)
		return 0;
	sl = sizeof(ss);
	if (pl_real.getsockname(fd, (struct sockaddr *)&ss, &sl) < 0 ||
	    pl_addr_from_sa((struct sockaddr *)&ss, sl, &a, &port))
		return 0;
	return port;
}

/*
 * Sets up connection @s to @to:@tport: directly when a direct region to
 * that address publishes the port, else with a CONNECT. A Service's
 * ClusterIP comes back as a redirect to the endpoint the monitor chose
 * (once: an endpoint is never a ClusterIP). Return: the fd number, with
 * *@me our address as the listener sees it (family 0 when the monitor did
 * not say), -1 (the kernel connects to what the application asked), -2 (the
 * kernel connects to the Service endpoint *@kto:*@kport).
 */
static int conn_open(struct pl_sock *s, int fd, struct hl_proto_addr to, uint16_t tport,
		     uint16_t lport, bool cloexec, bool redirect, struct hl_proto_addr *kto,
		     uint16_t *kport, struct hl_proto_addr *me)
{
	struct hl_proto_msg req, rep;
	int fds[HL_PROTO_MAX_FDS];
	struct pl_region *g;

	for (int hop = redirect ? 0 : 1; hop < 2; hop++) {
		if (pl_direct_connect(&to, tport, &rep.u.conn, &g) == 0) {
			/* Set up with the listener process alone (docs/monitor.md). */
			uint32_t slot = rep.u.conn.pair;

			if (pl_direct_announce(g, slot, tport, lport) == 0) {
				int rc;

				for (unsigned i = 0; i < HL_PROTO_MAX_FDS; i++)
					fds[i] = -1;
				rc = pl_sock_conn_setup(s, s->ctl, &rep.u.conn, fds, g, fd, cloexec);
				*me = rep.u.conn.local;
				if (rc >= 0)
					atomic_fetch_add_explicit(&pl_stats->direct, 1, memory_order_relaxed);
				return rc;  /* < 0: the listener reads end-of-stream */
			}
			/* The port went away meanwhile: the monitor knows the rest. */
		}
		hl_proto_init(&req, HL_POD_OP_CONNECT, 0);
		req.u.connect.addr = to;
		req.u.connect.port = tport;
		req.u.connect.local_port = lport;
		if (pl_ctl_version(s->ctl) >= 2)
			req.u.connect.flags = HL_CONNECT_F_SLOT;
		if (hop == 0)
			req.u.connect.flags |= HL_CONNECT_F_REDIRECT;
		if (pl_ctl_connect(s->ctl, &req, &rep, fds, &g))
			return -1;  /* not a hostlane listener: the kernel decides */
		if (rep.u.conn.flags & HL_CONN_F_REDIRECT) {
			pl_svc_learn(&to, tport, &rep.u.redirect);
			to = rep.u.conn.peer;
			tport = rep.u.conn.peer_port;
			if (rep.u.redirect.kernel) {
				/* An endpoint elsewhere: the kernel connects to it. */
				*kto = to;
				*kport = tport;
				return -2;
			}
			continue;
		}
		*me = rep.u.conn.local;
		return pl_sock_conn_setup(s, s->ctl, &rep.u.conn, fds, g, fd, cloexec);
	}
	return -1;
}

PL_EXPORT int connect(int fd, const struct sockaddr *addr, socklen_t len)
{
	struct pl_sock *s = pl_sock_lookup(fd);
	struct hl_proto_addr a, me = { .family = 0 }, ep;
	int fdflags, keep = -1, rc;
	uint16_t port, lport, ep_port;
	bool steer = false;

	if (!s)
		return pl_real.connect(fd, addr, len);
	/* Connected to a Service endpoint by the kernel already: asking again
	 * (a nonblocking connect's progress) asks that connect. */
	if (s->kind == PL_PENDING && s->steer_len)
		return pl_real.connect(fd, (struct sockaddr *)&s->steer, s->steer_len);
	if (s->kind == PL_CONN) {
		/* The kernel reports a completed nonblocking connect once with 0. */
		if (atomic_exchange(&s->connecting, 0))
			return 0;
		return pl_fail(EISCONN);
	}
	if (s->kind == PL_LISTEN)
		return pl_fail(EINVAL);
	/* Loopback asks too: the monitor connects it inside this pod. */
	if (pl_addr_from_sa(addr, len, &a, &port) || !port ||
	    (pl_addr_local_only(&a) && !pl_addr_loopback(&a)))
		goto kernel;
	s->ctl = pl_ctl_get();
	lport = local_port(s, fd, s->family);
	if (!s->ctl || !lport)
		goto kernel;
	fdflags = s->fdflags >= 0 ? s->fdflags : pl_real.fcntl(fd, F_GETFD);
	/* A kernel socket as new, and no spare yet: it becomes the spare if
	 * the connection goes over hostlane. */
	if (!s->pooled && !s->kdirty && pl_spare_missing(s->family))
		keep = pl_fd_dup_hidden(fd);
	/* A Service with a live lease: its endpoint is chosen here. */
	switch (pl_svc_choose(&a, port, &ep, &ep_port)) {
	case 0:
		rc = -2;
		break;
	case 1:
		rc = conn_open(s, fd, ep, ep_port, lport, fdflags >= 0 && (fdflags & FD_CLOEXEC), false,
			       &ep, &ep_port, &me);
		break;
	default:
		rc = conn_open(s, fd, a, port, lport, fdflags >= 0 && (fdflags & FD_CLOEXEC), true,
			       &ep, &ep_port, &me);
	}
	if (rc == -2) {
		steer = true;
		goto kernel;
	}
	if (rc < 0)
		goto kernel;
	if (keep >= 0 && s->knonblock)
		pl_real.fcntl(keep, F_SETFL, 0);  /* as socket() makes them */
	pl_spare_back(s, keep);
	/* The address asked for (a ClusterIP stays the peer, as with
	 * kube-proxy's DNAT). */
	s->peer_len = pl_addr_to_sa(&a, port, s->family, &s->peer);
	if (pl_addr_loopback(&a)) {
		/* The kernel's source on lo: 127.0.0.1 (::1). */
		memset(&me, 0, sizeof(me));
		me.family = a.family;
		if (a.family == 4) {
			me.addr[0] = 127;
			me.addr[3] = 1;
		} else {
			me.addr[15] = 1;
		}
	} else if (me.family != a.family && pl_ctl_pod_addr(s->ctl, a.family, &me)) {
		/* The monitor did not say which of the pod's addresses. */
		me = a;
	}
	s->local_len = pl_addr_to_sa(&me, lport, s->family, &s->local);
	pl_sock_stats_describe(s);
	/* The epoll sets that hold the fd lost the kernel socket with it. */
	pl_poll_conn_upgraded(s, fd);
	if (atomic_load(&s->nonblock)) {
		atomic_store(&s->connecting, 1);
		return pl_fail(EINPROGRESS);  /* as the kernel; writable at once */
	}
	return 0;
kernel:
	atomic_fetch_add_explicit(&pl_stats->fallbacks, 1, memory_order_relaxed);
	if (keep >= 0)
		pl_real.close(keep);
	pl_port_put(s->own_port);  /* the kernel picks its own */
	s->own_port = 0;
	if (steer && s->kind == PL_PENDING) {
		/* To the endpoint chosen here, as kube-proxy's DNAT would; the
		 * socket stays tracked so that getpeername() shows the
		 * ClusterIP (pl_opt.c). Everything else is the kernel's. */
		pl_sock_pending_touch(s, fd);
		s->vpeer_len = pl_addr_to_sa(&a, port, s->family, &s->vpeer);
		s->steer_len = pl_addr_to_sa(&ep, ep_port, s->family, &s->steer);
		return pl_real.connect(fd, (struct sockaddr *)&s->steer, s->steer_len);
	}
	if (s->kind == PL_PENDING)
		pl_sock_untrack(fd, s);
	return pl_real.connect(fd, addr, len);
}
