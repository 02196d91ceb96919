/* SPDX-License-Identifier: Apache-2.0 */
/*
 * exec of a process holding hostlane sockets (docs/preload.md, "exec").
 *
 * A hostlane connection fd without FD_CLOEXEC survives execve() as an
 * eventfd that the new image knows nothing about, and the fds behind it
 * (region memfd, the peer's eventfd, its pidfd) are close-on-exec. So the
 * exec wrappers write the state of every inherited hostlane socket into a
 * sealed memfd, dup every fd that state needs without close-on-exec, put
 * the memfd's number in HOSTLANE_EXEC_STATE, and exec. The constructor of
 * the new image (pl_exec_restore(), pl_exec_restore.c) validates the state,
 * maps the regions, re-tracks the fds and makes its private fds
 * close-on-exec again. If the
 * exec fails, the dups and the memfd are closed and the listeners
 * registered again: the old image is as before.
 *
 * A listener is handed over when this process alone holds it: it is
 * unregistered (UNLISTEN) before the exec -- so no accept event can be lost
 * on the old control channel, which exec closes -- and registered again by
 * the new image on its own channel, with the connections that were queued
 * and not yet accepted. A listener shared with another process (fork)
 * becomes a plain kernel listener in the new image.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hl_codec.h"
#include "pl_private.h"
#include "shmq.h"

static int (*real_execve)(const char *, char *const[], char *const[]);
static int (*real_execvpe)(const char *, char *const[], char *const[]);
static int (*real_fexecve)(int, char *const[], char *const[]);
static pthread_once_t real_once = PTHREAD_ONCE_INIT;

static void resolve(void)
{
	*(void **)&real_execve = dlsym(RTLD_NEXT, "execve");
	*(void **)&real_execvpe = dlsym(RTLD_NEXT, "execvpe");
	*(void **)&real_fexecve = dlsym(RTLD_NEXT, "fexecve");
}

/* ---- before the exec (old image) ------------------------------------------------ */

struct prep {
	struct pl_exec_rec *own, *queued;
	unsigned n_own, cap_own, n_queued, cap_queued;
	struct pl_sock **relisten;     /* listeners unregistered for the exec */
	unsigned n_relisten, cap_relisten;
	struct pl_sock **handed;       /* sockets named by a record */
	unsigned n_handed, cap_handed;
	int memfd, shref_fd;
	char **envp;
};

/* Whether the new image will load the layer and use the state. */
static bool env_wants_state(char *const envp[])
{
	bool preload = false;

	for (; envp && *envp; envp++) {
		const char *e = *envp;

		if (!strncmp(e, "LD_PRELOAD=", 11) && strstr(e + 11, "libhostlane"))
			preload = true;
		if (!strncmp(e, "HOSTLANE_DISABLE=", 17) && e[17] && strcmp(e + 17, "0"))
			return false;
	}
	return preload;
}

static void *grow(void *arr, unsigned *cap, unsigned n, size_t size)
{
	unsigned c;
	void *p;

	if (n < *cap)
		return arr;
	c = *cap ? *cap * 2 : 16;
	p = realloc(arr, (size_t)c * size);
	if (p)
		*cap = c;
	return p;
}

static struct pl_exec_rec *rec_push(struct pl_exec_rec **arr, unsigned *n, unsigned *cap)
{
	struct pl_exec_rec *a = grow(*arr, cap, *n, sizeof(**arr)), *r;

	if (!a)
		return NULL;
	*arr = a;
	r = &a[(*n)++];
	memset(r, 0, sizeof(*r));
	for (unsigned i = 0; i < 4; i++)
		r->fds[i] = -1;
	r->shref = -1;
	return r;
}

/* Whether a record of @p names a connection's region. */
static bool holds_regions(const struct prep *p)
{
	for (unsigned i = 0; i < p->n_own; i++)
		if (p->own[i].kind == PL_X_CONN)
			return true;
	return p->n_queued > 0;  /* queued and closed connections */
}

/* A dup without close-on-exec, for the new image. */
static int dup_into(struct pl_exec_rec *r, unsigned i, int fd)
{
	r->fds[i] = fd < 0 ? -1 : pl_real.fcntl(fd, F_DUPFD, 0);
	return r->fds[i] < 0 ? -EBADF : 0;
}

static void rec_common(struct pl_exec_rec *r, int fd, struct pl_sock *s, uint32_t kind)
{
	r->kind = kind;
	r->fd = fd;
	r->family = s->family;
	r->flags = (atomic_load(&s->nonblock) ? PL_XF_NONBLOCK : 0) |
		   (s->oobinline ? PL_XF_OOBINLINE : 0) | (s->linger_on ? PL_XF_LINGER : 0);
	r->linger_s = s->linger_s;
	r->opt[0] = s->opt_nodelay;
	r->opt[1] = s->opt_reuseaddr;
	r->opt[2] = s->opt_reuseport;
	r->opt[3] = s->opt_keepalive;
	r->opt[4] = s->opt_rcvbuf;
	r->opt[5] = s->opt_sndbuf;
	r->rcvtimeo_us = atomic_load(&s->rcvtimeo_us);
	r->sndtimeo_us = atomic_load(&s->sndtimeo_us);
	if (s->kind != PL_PENDING) {
		r->local_len = s->local_len <= sizeof(r->local) ? s->local_len : 0;
		r->peer_len = s->peer_len <= sizeof(r->peer) ? s->peer_len : 0;
		memcpy(r->local, &s->local, r->local_len);
		memcpy(r->peer, &s->peer, r->peer_len);
	} else if (s->vpeer_len && s->steer_len) {
		/* Connected by the kernel to a Service endpoint chosen here:
		 * the ClusterIP stays its peer in the new image. */
		r->local_len = s->steer_len <= sizeof(r->local) ? s->steer_len : 0;
		r->peer_len = s->vpeer_len <= sizeof(r->peer) ? s->vpeer_len : 0;
		memcpy(r->local, &s->steer, r->local_len);
		memcpy(r->peer, &s->vpeer, r->peer_len);
	}
}

static int rec_conn(struct prep *p, int fd, struct pl_sock *s)
{
	struct pl_exec_rec *r = rec_push(&p->own, &p->n_own, &p->cap_own);
	int src[4] = { shmq_region_fd(s->r), s->efd, s->peer_efd, s->live_fd };

	if (!r)
		return -ENOMEM;
	rec_common(r, fd, s, PL_X_CONN);
	for (unsigned i = 0; i < 4; i++)
		if (dup_into(r, i, src[i]))
			return -EBADF;
	r->pair = s->pair;
	r->side = s->side;
	r->shref = s->shref;
	r->pending_err = atomic_load(&s->pending_err);
	r->so_error = s->so_error;
	r->flags |= (atomic_load(&s->forked) ? PL_XF_FORKED : 0) |
		    (atomic_load(&s->peer_dead) ? PL_XF_PEER_DEAD : 0) |
		    (atomic_load(&s->reset) ? PL_XF_RESET : 0) |
		    (atomic_load(&s->eof_seen) ? PL_XF_EOF_SEEN : 0) |
		    (s->shut_rd ? PL_XF_SHUT_RD : 0) | (s->shut_wr ? PL_XF_SHUT_WR : 0) |
		    (atomic_load(&s->connecting) ? PL_XF_CONNECTING : 0);
	return 0;
}

int pl_exec_ctl_port(struct pl_ctl *c, uint16_t op, uint16_t port, int kfd)
{
	struct hl_proto_msg req, rep;
	int fds[HL_PROTO_MAX_FDS];

	hl_proto_init(&req, op, 0);
	req.u.listen.port = port;
	if (op == HL_POD_OP_LISTEN)
		pl_listen_addr(&req, kfd);
	return pl_ctl_call(c, &req, &rep, fds);
}

static int rec_listen(struct prep *p, int fd, struct pl_sock *s)
{
	struct pl_exec_rec *r = rec_push(&p->own, &p->n_own, &p->cap_own);
	struct pl_sock **rl;

	if (!r)
		return -ENOMEM;
	rec_common(r, fd, s, PL_X_LISTEN);
	r->port = s->port;
	r->backlog = s->backlog;
	r->shref = s->shref;
	if (dup_into(r, 0, s->kfd) || dup_into(r, 1, s->lefd))
		return -EBADF;
	/* Shared with another process, or registered on a channel that is not
	 * this process's own: the registration stays where it is. */
	if (pl_shref_others(s->shref) > 0 || !s->ctl || s->ctl != pl_ctl_get()) {
		r->flags |= PL_XF_KERNEL_ONLY;
		return 0;
	}
	rl = grow(p->relisten, &p->cap_relisten, p->n_relisten, sizeof(*rl));
	if (!rl)
		return -ENOMEM;
	p->relisten = rl;
	/* Accept events sent before the agent saw this are read (and queued)
	 * while waiting for its reply; none come after it. */
	if (pl_exec_ctl_port(s->ctl, HL_POD_OP_UNLISTEN, s->port, -1)) {
		r->flags |= PL_XF_KERNEL_ONLY;
		return 0;
	}
	rl[p->n_relisten++] = s;
	return 0;
}

static bool handed(const struct prep *p, const struct pl_sock *s)
{
	for (unsigned i = 0; i < p->n_handed; i++)
		if (p->handed[i] == s)
			return true;
	return false;
}

/*
 * Close-on-exec connections this process alone holds: the kernel closes
 * them at the exec and the peer sees it. Here the peer watches our pidfd,
 * which the exec does not end, so the new image closes the ring for it.
 */
static int rec_closed(struct prep *p)
{
	struct pl_sock *s;

	for (int fd = pl_fd_next(0, &s); fd >= 0; fd = pl_fd_next(fd + 1, &s)) {
		int src[4], rc = 0;
		struct pl_exec_rec *r;

		if (s->kind != PL_CONN || handed(p, s) || pl_shref_others(s->shref) > 0)
			continue;
		r = rec_push(&p->queued, &p->n_queued, &p->cap_queued);
		if (!r)
			return -ENOMEM;
		r->kind = PL_X_CLOSED;
		r->fd = -1;
		r->family = s->family;
		r->pair = s->pair;
		r->side = s->side;
		r->shref = s->shref;
		src[0] = shmq_region_fd(s->r);
		src[1] = s->efd;
		src[2] = s->peer_efd;
		src[3] = s->live_fd;
		for (unsigned k = 0; k < 4 && !rc; k++)
			rc = dup_into(r, k, src[k]);
		if (rc)
			return rc;
		/* one record per connection, whatever its number of fds */
		if (!(p->handed = grow(p->handed, &p->cap_handed, p->n_handed, sizeof(s))))
			return -ENOMEM;
		p->handed[p->n_handed++] = s;
	}
	return 0;
}

/* The connections queued on handed-over listeners, after all of them were
 * unregistered (so no more can arrive). */

/* Fd @k of queued connection @q in the order of a CONN record: a slot
 * connection's live in its region. */
static int pending_fd(const struct pl_pending *q, unsigned k)
{
	if (!q->g)
		return q->fds[k];
	switch (k) {
	case 0: return shmq_region_fd(pl_region_shmq(q->g));
	case 1: return pl_region_efd(q->g, q->c.pair, 0);
	case 2: return pl_region_efd(q->g, q->c.pair, 1);
	default: return pl_region_pidfd(q->g);
	}
}

static int rec_queued(struct prep *p)
{
	for (unsigned i = 0; i < p->n_relisten; i++) {
		struct pl_sock *l = p->relisten[i];
		int fd = -1, rc = 0;

		for (unsigned k = 0; k < p->n_own; k++)
			if (p->own[k].kind == PL_X_LISTEN && !(p->own[k].flags & PL_XF_KERNEL_ONLY) &&
			    p->own[k].port == l->port)
				fd = p->own[k].fd;
		pthread_mutex_lock(&l->lock);
		for (struct pl_pending *q = l->q_head; q && !rc; q = q->next) {
			struct pl_exec_rec *r = rec_push(&p->queued, &p->n_queued, &p->cap_queued);

			if (!r) {
				rc = -ENOMEM;
				break;
			}
			r->kind = PL_X_QUEUED;
			r->fd = fd;
			r->family = l->family;
			r->pair = q->c.pair;
			r->side = q->c.side;
			r->port = l->port;
			r->peer_port = q->c.peer_port;
			r->qpeer = q->c.peer;
			for (unsigned k = 0; k < 4 && !rc; k++)
				rc = dup_into(r, k, pending_fd(q, k));
		}
		pthread_mutex_unlock(&l->lock);
		if (rc)
			return rc;
	}
	return 0;
}

static void prep_undo(struct prep *p)
{
	for (unsigned i = 0; i < p->n_own; i++)
		for (unsigned k = 0; k < 4; k++)
			pl_close_quiet(p->own[i].fds[k]);
	for (unsigned i = 0; i < p->n_queued; i++)
		for (unsigned k = 0; k < 4; k++)
			pl_close_quiet(p->queued[i].fds[k]);
	/* Registered again; should that fail, the listener keeps taking
	 * kernel connections only. */
	for (unsigned i = 0; i < p->n_relisten; i++)
		pl_exec_ctl_port(p->relisten[i]->ctl, HL_POD_OP_LISTEN, p->relisten[i]->port,
				 p->relisten[i]->kfd);
	pl_close_quiet(p->memfd);
	pl_close_quiet(p->shref_fd);
	if (p->envp)
		free(p->envp[0]);
	free(p->envp);
	free(p->own);
	free(p->queued);
	free(p->relisten);
	free(p->handed);
	memset(p, 0, sizeof(*p));
	p->memfd = p->shref_fd = -1;
}

static int write_all(int fd, const void *buf, size_t len)
{
	const char *c = buf;

	while (len) {
		ssize_t w = pl_real.write(fd, c, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -EIO;
		c += w;
		len -= (size_t)w;
	}
	return 0;
}

/* The sealed memfd holding the header and the records. */
static int state_write(struct prep *p)
{
	struct pl_exec_hdr h = {
		.magic = PL_EXEC_MAGIC, .version = PL_EXEC_VERSION,
		.rec_size = sizeof(struct pl_exec_rec), .n_recs = p->n_own + p->n_queued,
		.pid = (int32_t)getpid(), .shref_fd = p->shref_fd,
	};

	if (h.n_recs > PL_EXEC_MAX_RECS)
		return -E2BIG;
	p->memfd = memfd_create("hostlane-exec", MFD_ALLOW_SEALING);
	if (p->memfd < 0)
		return -errno;
	if (write_all(p->memfd, &h, sizeof(h)) ||
	    write_all(p->memfd, p->own, (size_t)p->n_own * sizeof(*p->own)) ||
	    write_all(p->memfd, p->queued, (size_t)p->n_queued * sizeof(*p->queued)))
		return -EIO;
	if (pl_real.fcntl(p->memfd, F_ADD_SEALS,
			  F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) < 0)
		return -errno;
	return 0;
}

/* @envp without any HOSTLANE_EXEC_STATE, plus ours. */
static int env_build(struct prep *p, char *const envp[])
{
	size_t n = 0, k = 0;
	char *var = malloc(64);

	while (envp && envp[n])
		n++;
	p->envp = calloc(n + 2, sizeof(char *));
	if (!var || !p->envp) {
		free(var);
		return -ENOMEM;
	}
	snprintf(var, 64, PL_EXEC_ENV "=%d", p->memfd);
	p->envp[k++] = var;  /* first: prep_undo() frees it */
	for (size_t i = 0; i < n; i++)
		if (strncmp(envp[i], PL_EXEC_ENV "=", sizeof(PL_EXEC_ENV)))
			p->envp[k++] = envp[i];
	return 0;
}

/*
 * Prepares the handover for an exec with environment @envp. Return: true
 * with p->envp to exec with, or false: exec as asked (nothing to hand over,
 * the new image will not load the layer, or the preparation failed -- then
 * the sockets are left as they were).
 */
static bool prep_exec(struct prep *p, char *const envp[])
{
	struct pl_sock *s;
	int fd, rc = 0;

	memset(p, 0, sizeof(*p));
	p->memfd = p->shref_fd = -1;
	if (!pl_real.fcntl || atomic_load(&pl_off) || !pl_fd_count() || !env_wants_state(envp))
		return false;
	for (fd = pl_fd_next(0, &s); fd >= 0 && !rc; fd = pl_fd_next(fd + 1, &s)) {
		int fl = pl_real.fcntl(fd, F_GETFD);
		struct pl_exec_rec *r;

		if (fl < 0 || (fl & FD_CLOEXEC))
			continue;  /* gone at the exec anyway */
		if (s->kind != PL_PENDING && !handed(p, s)) {
			p->handed = grow(p->handed, &p->cap_handed, p->n_handed, sizeof(s));
			if (!p->handed) {
				rc = -ENOMEM;
				break;
			}
			p->handed[p->n_handed++] = s;
		}
		if (s->kind == PL_CONN) {
			rc = rec_conn(p, fd, s);
		} else if (s->kind == PL_LISTEN) {
			rc = rec_listen(p, fd, s);
		} else {
			r = rec_push(&p->own, &p->n_own, &p->cap_own);
			if (r)
				rec_common(r, fd, s, PL_X_PENDING);
			rc = r ? 0 : -ENOMEM;
		}
	}
	if (!rc)
		rc = rec_queued(p);
	if (!rc)
		rc = rec_closed(p);
	if (!rc && !p->n_own && !p->n_queued) {
		prep_undo(p);
		return false;
	}
	if (!rc && pl_shref_fd() >= 0) {
		p->shref_fd = pl_real.fcntl(pl_shref_fd(), F_DUPFD, 0);
		rc = p->shref_fd < 0 ? -errno : 0;
	}
	if (!rc)
		rc = state_write(p);
	if (!rc)
		rc = env_build(p, envp);
	if (rc) {
		prep_undo(p);
		return false;
	}
	/* The regions of the connections handed over are held by our
	 * channel, which the exec closes; the new image maps them from the
	 * fds in the state. Without this, the agent would drop the hold at
	 * that close and release a region once the peer closed its side,
	 * punching its memory under a connection the new image still reads
	 * (its rings read as zeros: a reset). A failed exec leaves the
	 * channel open: nothing to undo. */
	if (holds_regions(p))
		pl_ctl_exec_hold();
	return true;
}

int pl_exec_do(enum pl_exec_how how, int fd, const char *path, char *const argv[], char *const envp[])
{
	struct prep p;
	bool handover;
	int rc, err;

	pl_libc_init();
	pthread_once(&real_once, resolve);
	if ((how == PL_EXEC_VE && !real_execve) || (how == PL_EXEC_VPE && !real_execvpe) ||
	    (how == PL_EXEC_FVE && !real_fexecve)) {
		errno = ENOSYS;
		return -1;
	}
	/* A vfork child runs on the parent's memory: it hands nothing over
	 * and touches nothing (what it inherits is as after posix_spawn). */
	if (pl_vfork_child()) {
		if (how == PL_EXEC_VE)
			return real_execve(path, argv, envp);
		if (how == PL_EXEC_VPE)
			return real_execvpe(path, argv, envp);
		return real_fexecve(fd, argv, envp);
	}
	/* The new image takes no direct connections until its own HELLO:
	 * announced ones are queued now and handed over with the listeners. */
	pl_direct_quiet(true);
	pl_sock_spare_drop();
	handover = prep_exec(&p, envp);
	if (handover)
		envp = p.envp;
	if (how == PL_EXEC_VE)
		rc = real_execve(path, argv, envp);
	else if (how == PL_EXEC_VPE)
		rc = real_execvpe(path, argv, envp);
	else
		rc = real_fexecve(fd, argv, envp);
	err = errno;
	if (handover)
		prep_undo(&p);
	pl_direct_quiet(false);
	errno = err;
	return rc;
}
