/* SPDX-License-Identifier: Apache-2.0 */
/*
 * exec, in the new image: pl_exec_restore(), run by the constructor, takes
 * the state the old image handed over in HOSTLANE_EXEC_STATE (pl_exec.c
 * writes it; docs/preload.md, "exec"). It trusts none of it: the state is
 * read only from a sealed memfd, checked whole by pl_exec_state_check()
 * (pl_exec_state.c) before anything is done, and a record whose fds are
 * not open is dropped. Each socket is then tracked again: kernel sockets
 * as PENDING, connections with their regions mapped, listeners registered
 * on this image's own control channel with their queued connections.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hl_codec.h"
#include "pl_private.h"
#include "shmq.h"

/* The largest state the new image reads. */
#define STATE_MAX (sizeof(struct pl_exec_hdr) + PL_EXEC_MAX_RECS * sizeof(struct pl_exec_rec))

/* The new image mapped the old image's fork holder slots. */
static bool shref_adopted;

static bool fd_open(int fd)
{
	return pl_real.fcntl(fd, F_GETFD) >= 0;
}

static void set_cloexec(int fd)
{
	pl_real.fcntl(fd, F_SETFD, FD_CLOEXEC);
}

static void close_fds(const struct pl_exec_rec *r)
{
	for (unsigned i = 0; i < 4; i++)
		pl_close_quiet(r->fds[i]);
}

static bool fds_open(const struct pl_exec_rec *r)
{
	for (unsigned i = 0; i < 4; i++)
		if (r->fds[i] >= 0 && !fd_open(r->fds[i]))
			return false;
	return fd_open(r->fd);
}

static void sock_fill(struct pl_sock *s, const struct pl_exec_rec *r)
{
	atomic_store(&s->nonblock, !!(r->flags & PL_XF_NONBLOCK));
	s->oobinline = !!(r->flags & PL_XF_OOBINLINE);
	s->linger_on = !!(r->flags & PL_XF_LINGER);
	s->linger_s = r->linger_s;
	s->opt_nodelay = r->opt[0];
	s->opt_reuseaddr = r->opt[1];
	s->opt_reuseport = r->opt[2];
	s->opt_keepalive = r->opt[3];
	s->opt_rcvbuf = r->opt[4];
	s->opt_sndbuf = r->opt[5];
	atomic_store(&s->rcvtimeo_us, r->rcvtimeo_us);
	atomic_store(&s->sndtimeo_us, r->sndtimeo_us);
	memcpy(&s->local, r->local, r->local_len);
	memcpy(&s->peer, r->peer, r->peer_len);
	s->local_len = r->local_len;
	s->peer_len = r->peer_len;
}

static void restore_pending(const struct pl_exec_rec *r)
{
	struct pl_sock *s;
	int type = 0;
	socklen_t tl = sizeof(type);

	/* Still a TCP socket (the number is the application's own kernel fd). */
	if (pl_real.getsockopt(r->fd, SOL_SOCKET, SO_TYPE, &type, &tl) < 0 || type != SOCK_STREAM)
		return;
	s = pl_sock_new(PL_PENDING, r->family);
	if (!s)
		return;
	sock_fill(s, r);
	/* Steered to a Service endpoint (pl_exec.c): the endpoint and the
	 * ClusterIP, as connect() left them. */
	if (r->local_len && r->peer_len) {
		memcpy(&s->steer, r->local, r->local_len);
		memcpy(&s->vpeer, r->peer, r->peer_len);
		s->steer_len = r->local_len;
		s->vpeer_len = r->peer_len;
	}
	s->local_len = s->peer_len = 0;
	pl_sock_track(r->fd, s);
}

static int restore_conn(const struct pl_exec_rec *r)
{
	struct pl_sock *s = pl_sock_new(PL_PENDING, r->family);

	if (!s)
		return -ENOMEM;
	s->r = pl_region_map(r->fds[0]);  /* checks the region's header */
	if (s->r)
		s->ep = shmq_ep_attach(s->r, r->pair, r->side);
	if (!s->ep) {
		shmq_region_close(s->r);
		s->r = NULL;
		pl_sock_discard(s);
		return -EPROTO;
	}
	pl_real.close(r->fds[0]);
	s->efd = pl_fd_hide(r->fds[1]);  /* close-on-exec again, and out of the way */
	s->peer_efd = pl_fd_hide(r->fds[2]);
	s->live_fd = pl_fd_hide(r->fds[3]);
	shmq_ep_set_fds(s->ep, s->efd, s->peer_efd, s->live_fd, SHMQ_PEER_PIDFD);
	pl_sock_ep_spin(s->ep);
	sock_fill(s, r);
	s->pair = r->pair;
	s->side = r->side;
	s->shref = shref_adopted ? r->shref : -1;
	s->so_error = r->so_error;
	atomic_store(&s->pending_err, r->pending_err);
	atomic_store(&s->forked, !!(r->flags & PL_XF_FORKED));
	atomic_store(&s->peer_dead, !!(r->flags & PL_XF_PEER_DEAD));
	atomic_store(&s->reset, !!(r->flags & PL_XF_RESET));
	atomic_store(&s->eof_seen, !!(r->flags & PL_XF_EOF_SEEN));
	atomic_store(&s->connecting, !!(r->flags & PL_XF_CONNECTING));
	s->shut_rd = r->flags & PL_XF_SHUT_RD;
	s->shut_wr = r->flags & PL_XF_SHUT_WR;
	if (s->shut_wr)
		shmq_shutdown(s->ep);  /* the shared flag is set; this is our side's */
	/* The old image's channel is gone with the exec, and the agent with
	 * it dropped that channel's hold on the region: nothing to free. */
	s->ctl = NULL;
	s->region_id = 0;
	s->kind = PL_CONN;
	pl_sock_track(r->fd, s);
	return 0;
}

/* The fd number becomes the kernel listener itself. */
static void listen_kernel_only(const struct pl_exec_rec *r)
{
	int fl = pl_real.fcntl(r->fd, F_GETFD);

	if (fl >= 0 && pl_real.dup3(r->fds[0], r->fd, (fl & FD_CLOEXEC) ? O_CLOEXEC : 0) >= 0) {
		int st = pl_real.fcntl(r->fd, F_GETFL);

		if (st >= 0)  /* the private copy was non-blocking */
			pl_real.fcntl(r->fd, F_SETFL, (r->flags & PL_XF_NONBLOCK) ? st | O_NONBLOCK
									  : st & ~O_NONBLOCK);
	}
	close_fds(r);
}

static void restore_listen(const struct pl_exec_rec *r)
{
	struct epoll_event ev = { .events = EPOLLIN };
	struct pl_ctl *ctl = NULL;
	struct pl_sock *s;

	if (!(r->flags & PL_XF_KERNEL_ONLY))
		ctl = pl_ctl_get();
	if (!ctl || pl_exec_ctl_port(ctl, HL_POD_OP_LISTEN, r->port, r->fds[0])) {
		listen_kernel_only(r);
		return;
	}
	/* The fd is the old image's epoll fd; the kernel listener and the
	 * accept eventfd are still in it (their files live on in our dups),
	 * the old channel went with the exec. */
	ev.data.u32 = LISTEN_EV_CTL;
	if (pl_real.epoll_ctl(r->fd, EPOLL_CTL_ADD, pl_ctl_fd(ctl), &ev) < 0 ||
	    !(s = pl_sock_new(PL_PENDING, r->family))) {
		pl_exec_ctl_port(ctl, HL_POD_OP_UNLISTEN, r->port, -1);
		listen_kernel_only(r);
		return;
	}
	sock_fill(s, r);
	s->kfd = pl_fd_hide(r->fds[0]);
	s->lefd = pl_fd_hide(r->fds[1]);
	s->lep = pl_fd_dup_hidden(r->fd);
	s->ctl = ctl;
	s->port = r->port;
	s->backlog = r->backlog;
	s->shref = shref_adopted ? r->shref : -1;
	s->kind = PL_LISTEN;
	pl_sock_add_listener(s);
	pl_sock_track(r->fd, s);
}

/* Ends the connection for the peer: a queued one nobody will accept is
 * reset (@reset), as the kernel resets what a closed listener held; a
 * closed one ends as a close does (a reset with data left unread). */
static void refuse_queued(const struct pl_exec_rec *r, bool reset)
{
	struct shmq_region *g = pl_region_map(r->fds[0]);
	struct shmq_ep *ep = g ? shmq_ep_attach(g, r->pair, r->side) : NULL;

	if (ep) {
		shmq_ep_set_fds(ep, -1, r->fds[2], -1, SHMQ_PEER_NONE);
		if (reset || shmq_readable(ep) > 0)
			shmq_ep_abort(ep);
		else
			shmq_ep_close(ep);
	}
	shmq_region_close(g);
	close_fds(r);
}

static void restore_closed(const struct pl_exec_rec *r)
{
	int others = 0;

	if (shref_adopted && r->shref >= 0) {
		others = pl_shref_leave(r->shref);
		if (!others)
			pl_shref_free(r->shref);
	}
	if (others)
		close_fds(r);
	else
		refuse_queued(r, false);
}

static void restore_queued(const struct pl_exec_rec *r)
{
	struct hl_proto_conn c = {
		.side = r->side, .pair = r->pair, .local_port = r->port,
		.peer_port = r->peer_port, .peer = r->qpeer,
	};
	int fds[HL_PROTO_MAX_FDS];

	for (unsigned i = 0; i < 4; i++) {
		set_cloexec(r->fds[i]);
		fds[i] = r->fds[i];
	}
	/* A whole-region connection here (no slot: the new image has no
	 * region cache), whatever it was in the old image. */
	if (pl_sock_deliver_accept(NULL, &c, fds, NULL))
		refuse_queued(r, true);
}

static void *state_load(int fd, size_t *len)
{
	struct stat st;
	int seals = pl_real.fcntl(fd, F_GET_SEALS);
	void *buf;

	/* Only a memfd sealed against change: nobody can alter it under us. */
	if (seals < 0 || (seals & (F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW)) !=
			 (F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW))
		return NULL;
	if (fstat(fd, &st) < 0 || st.st_size <= 0 || (size_t)st.st_size > STATE_MAX)
		return NULL;
	buf = malloc((size_t)st.st_size);  /* malloc: aligned for the records */
	if (!buf)
		return NULL;
	if (pread(fd, buf, (size_t)st.st_size, 0) != st.st_size) {
		free(buf);
		return NULL;
	}
	*len = (size_t)st.st_size;
	return buf;
}

static int env_fd(const char *v)
{
	char *end;
	long n;

	if (!v || *v < '0' || *v > '9')
		return -1;
	errno = 0;
	n = strtol(v, &end, 10);
	return errno || *end || n < 0 || n >= PL_FD_MAX ? -1 : (int)n;
}

void pl_exec_restore(void)
{
	const struct pl_exec_rec *r;
	int fd = env_fd(getenv(PL_EXEC_ENV)), n, shref_fd;
	size_t len = 0;
	void *buf;

	if (!getenv(PL_EXEC_ENV))
		return;
	unsetenv(PL_EXEC_ENV);  /* our children must not read it again */
	if (fd < 0)
		return;
	buf = state_load(fd, &len);
	if (!buf)
		return;  /* not a state: the fd is not ours to close */
	pl_real.close(fd);
	n = pl_exec_state_check(buf, len, (int)getpid(), &r, &shref_fd);
	if (n < 0) {
		free(buf);
		return;
	}
	/* Without the slots the holders are unknown: this process then counts
	 * as the last holder of every connection. */
	shref_adopted = shref_fd >= 0 && fd_open(shref_fd) && pl_shref_adopt(shref_fd) == 0;
	for (int i = 0; i < n; i++) {
		if (atomic_load(&pl_off) || (r[i].kind != PL_X_CLOSED && !fds_open(&r[i]))) {
			close_fds(&r[i]);
			continue;
		}
		if (r[i].kind == PL_X_PENDING)
			restore_pending(&r[i]);
		else if (r[i].kind == PL_X_LISTEN)
			restore_listen(&r[i]);
		else if (r[i].kind == PL_X_QUEUED)
			restore_queued(&r[i]);
		else if (r[i].kind == PL_X_CLOSED)
			restore_closed(&r[i]);
		else if (restore_conn(&r[i]))
			close_fds(&r[i]);
	}
	free(buf);
}
