/* SPDX-License-Identifier: Apache-2.0 */
/*
 * socket() and bind(), and the spare kernel sockets that make a socket()
 * that goes on to connect over hostlane cheap (see "Spare sockets" below).
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>

#include "pl_private.h"
#include "shmq.h"

/*
 * Spare sockets. A socket() that connects over hostlane never uses its kernel
 * socket, yet making one and destroying it (when the connection's eventfd
 * takes its fd number) costs more than the rest of the connection setup.
 * So the kernel socket of such a connection is kept, untouched, as this
 * process's spare (a private fd; one per family), and the next socket()
 * hands out a dup of it: the application's fd is a real, new TCP socket for
 * anything that looks at it. While a dup is out (`pooled`) the layer keeps
 * what would change the socket to itself (O_NONBLOCK, FIONBIO); anything
 * else that reaches the kernel socket first makes it the fd's own
 * (pl_sock_pending_touch(): the spare is let go, the kept state applied),
 * and so do a connect() that goes to the kernel, fork() and execve(). A
 * connection over hostlane gives it back as it was. A socket that was never pooled
 * becomes the spare if nothing changed it (`kdirty`).
 */
static pthread_mutex_t spare_lock = PTHREAD_MUTEX_INITIALIZER;
static atomic_int spare_fd[2] = { -1, -1 };   /* AF_INET, AF_INET6 */
static struct pl_sock *spare_user[2];         /* the socket a dup is out to */

static unsigned fam_ix(int family)
{
	return family == AF_INET6;
}

/* A dup of the spare for new socket @s, now pooled (-1: none free). */
static int spare_take(struct pl_sock *s, int type)
{
	unsigned f = fam_ix(s->family);
	int fd = -1;

	pthread_mutex_lock(&spare_lock);
	if (spare_fd[f] >= 0 && !spare_user[f]) {
		fd = pl_real.fcntl(spare_fd[f], type & SOCK_CLOEXEC ? F_DUPFD_CLOEXEC : F_DUPFD, 0);
		if (fd >= 0) {
			spare_user[f] = s;
			s->pooled = true;
		}
	}
	pthread_mutex_unlock(&spare_lock);
	return fd;
}

/* @s (PENDING, at @fd) is about to reach its kernel socket: make the
 * socket the fd's own if it is the spare. Then it is not as new. */
void pl_sock_pending_touch(struct pl_sock *s, int fd)
{
	unsigned f = fam_ix(s->family);
	int h = -1;

	s->kdirty = true;
	if (!s->pooled)
		return;
	pthread_mutex_lock(&spare_lock);
	if (spare_user[f] == s) {
		h = spare_fd[f];
		spare_fd[f] = -1;
		spare_user[f] = NULL;
	}
	s->pooled = false;
	pthread_mutex_unlock(&spare_lock);
	if (h >= 0)
		pl_real.close(h);  /* @fd keeps the socket */
	if (atomic_load(&s->nonblock) && pl_real.fcntl(fd, F_SETFL, O_NONBLOCK) == 0)
		s->knonblock = true;
}

/* PENDING socket @s left its kernel socket untouched: its fd number was
 * closed, or taken by a connection over hostlane. A spare it had a dup of
 * is free again; else @keep (another reference to its kernel socket, or
 * -1) becomes the spare if there is none. */
void pl_spare_back(struct pl_sock *s, int keep)
{
	unsigned f = fam_ix(s->family);

	pthread_mutex_lock(&spare_lock);
	if (s->pooled && spare_user[f] == s) {
		spare_user[f] = NULL;  /* the spare is as it was */
	} else if (keep >= 0 && spare_fd[f] < 0) {
		spare_fd[f] = keep;
		keep = -1;
	}
	s->pooled = false;
	pthread_mutex_unlock(&spare_lock);
	if (keep >= 0)
		pl_real.close(keep);
}

/* The socket a spare's dup is out to, or NULL. */
static struct pl_sock *spare_user_of(unsigned f)
{
	struct pl_sock *u;

	pthread_mutex_lock(&spare_lock);
	u = spare_user[f];
	pthread_mutex_unlock(&spare_lock);
	return u;
}

void pl_sock_spare_drop(void)
{
	for (unsigned f = 0; f < 2; f++) {
		struct pl_sock *u = spare_user_of(f), *x;

		if (!u)
			continue;
		for (int fd = pl_fd_next(0, &x); fd >= 0; fd = pl_fd_next(fd + 1, &x))
			if (x == u) {
				pl_sock_pending_touch(u, fd);
				break;
			}
	}
}

bool pl_spare_missing(int family)
{
	return spare_fd[fam_ix(family)] < 0;
}

/* In a forked child: the parent's spares stay the parent's. */
void pl_spare_atfork_child(void)
{
	pthread_mutex_init(&spare_lock, NULL);
	for (unsigned f = 0; f < 2; f++) {
		if (spare_fd[f] >= 0)
			pl_real.close(spare_fd[f]);
		spare_fd[f] = -1;
		spare_user[f] = NULL;
	}
}

PL_EXPORT int socket(int domain, int type, int protocol)
{
	struct pl_sock *s;
	bool mine;
	int fd;

	pl_libc_init();
	mine = !atomic_load(&pl_off) && !pl_vfork_child() &&
	       (domain == AF_INET || domain == AF_INET6) &&
	       (type & 0xf) == SOCK_STREAM && (protocol == 0 || protocol == IPPROTO_TCP);
	if (!mine || !pl_ctl_get())  /* no endpoint: the kernel it is */
		return pl_real.socket(domain, type, protocol);
	s = pl_sock_new(PL_PENDING, domain);
	fd = s ? spare_take(s, type) : -1;
	if (fd < 0) {
		fd = pl_real.socket(domain, type, protocol);
		if (fd < 0 || !s) {
			if (s) {
				s->local_refs = 1;
				pl_sock_free(s);
			}
			return fd;
		}
		s->knonblock = !!(type & SOCK_NONBLOCK);
	}
	atomic_store(&s->nonblock, !!(type & SOCK_NONBLOCK));
	/* Known without asking the kernel at connect() (a PENDING socket has
	 * one fd: a dup stops tracking it); kept by F_SETFD, FIOCLEX. */
	s->fdflags = type & SOCK_CLOEXEC ? FD_CLOEXEC : 0;
	pl_sock_track(fd, s);
	return fd;
}

PL_EXPORT int bind(int fd, const struct sockaddr *addr, socklen_t len)
{
	struct pl_sock *s = pl_sock_lookup(fd);

	int rc;

	if (s && s->kind == PL_LISTEN)
		return pl_fail(EINVAL);
	if (s && s->kind == PL_PENDING)
		pl_sock_pending_touch(s, fd);
	rc = pl_real.bind(fd, addr, len);
	if (rc == 0 && s)
		s->bound = true;
	return rc;
}
