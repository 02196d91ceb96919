/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The fd table of the preload layer and the cross-fork reference counts.
 *
 * The table is two-level: PL_FD_MAX / CHUNK chunk pointers, chunks allocated
 * on first use and never freed, so a lookup is two acquire loads and never
 * sees memory move under it (no lock on the data path).
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pl_private.h"

#define CHUNK_BITS 10
#define CHUNK (1u << CHUNK_BITS)
#define NCHUNKS (PL_FD_MAX / CHUNK)

struct chunk {
	_Atomic(void *) s[CHUNK];
};

static _Atomic(struct chunk *) chunks[NCHUNKS];
static _Atomic(struct chunk *) ep_chunks[NCHUNKS];
static pthread_mutex_t grow_lock = PTHREAD_MUTEX_INITIALIZER;
static atomic_uint n_fds;

static void *tab_get(_Atomic(struct chunk *) *tab, int fd)
{
	struct chunk *c;

	if (fd < 0 || fd >= PL_FD_MAX)
		return NULL;
	/* Acquire: pairs with the release store in tab_set() that published
	 * the chunk. */
	c = atomic_load_explicit(&tab[(unsigned)fd >> CHUNK_BITS], memory_order_acquire);
	if (!c)
		return NULL;
	/* Acquire: pairs with the exchange of the entry in tab_set(), so the
	 * object's fields are visible. */
	return atomic_load_explicit(&c->s[(unsigned)fd & (CHUNK - 1)], memory_order_acquire);
}

/* Return: 1 if an entry was added, -1 removed, 0 same count; or -errno. */
static int tab_set(_Atomic(struct chunk *) *tab, int fd, void *s)
{
	unsigned hi = (unsigned)fd >> CHUNK_BITS;
	struct chunk *c;
	void *old;

	if (fd < 0 || fd >= PL_FD_MAX)
		return -EBADF;
	c = atomic_load_explicit(&tab[hi], memory_order_acquire);
	if (!c) {
		if (!s)
			return 0;
		pthread_mutex_lock(&grow_lock);
		c = atomic_load_explicit(&tab[hi], memory_order_acquire);
		if (!c) {
			c = calloc(1, sizeof(*c));
			if (c)  /* Release: pairs with the acquire in tab_get(). */
				atomic_store_explicit(&tab[hi], c, memory_order_release);
		}
		pthread_mutex_unlock(&grow_lock);
		if (!c)
			return -ENOMEM;
	}
	/* Acq_rel: the release half pairs with the acquire load in tab_get(). */
	old = atomic_exchange_explicit(&c->s[(unsigned)fd & (CHUNK - 1)], s, memory_order_acq_rel);
	return old && !s ? -1 : !old && s ? 1 : 0;
}

struct pl_sock *pl_fd_get(int fd)
{
	return tab_get(chunks, fd);
}

int pl_fd_set(int fd, struct pl_sock *s)
{
	int rc = tab_set(chunks, fd, s);

	if (rc == 1)
		atomic_fetch_add_explicit(&n_fds, 1, memory_order_relaxed);
	else if (rc == -1)
		atomic_fetch_sub_explicit(&n_fds, 1, memory_order_relaxed);
	return rc < -1 ? rc : 0;
}

bool pl_fd_clear(int fd, struct pl_sock *s)
{
	struct chunk *c;
	void *old = s;

	if (fd < 0 || fd >= PL_FD_MAX || !s)
		return false;
	c = atomic_load_explicit(&chunks[(unsigned)fd >> CHUNK_BITS], memory_order_acquire);
	/* Acq_rel: as the exchange in tab_set(). */
	if (!c || !atomic_compare_exchange_strong_explicit(&c->s[(unsigned)fd & (CHUNK - 1)], &old,
							   NULL, memory_order_acq_rel,
							   memory_order_acquire))
		return false;
	atomic_fetch_sub_explicit(&n_fds, 1, memory_order_relaxed);
	return true;
}

struct pl_epset *pl_ep_get(int epfd)
{
	return tab_get(ep_chunks, epfd);
}

int pl_ep_set(int epfd, struct pl_epset *e)
{
	int rc = tab_set(ep_chunks, epfd, e);

	return rc < -1 ? rc : 0;
}

int pl_fd_next(int from, struct pl_sock **s)
{
	for (int fd = from < 0 ? 0 : from; fd < PL_FD_MAX;) {
		struct chunk *c = atomic_load_explicit(&chunks[(unsigned)fd >> CHUNK_BITS],
						       memory_order_acquire);

		if (!c) {  /* skip the whole chunk */
			fd = (int)(((unsigned)fd >> CHUNK_BITS) + 1) << CHUNK_BITS;
			continue;
		}
		*s = atomic_load_explicit(&c->s[(unsigned)fd & (CHUNK - 1)], memory_order_acquire);
		if (*s)
			return fd;
		fd++;
	}
	return -1;
}

/* Forks this process went through (as parent or child). */
static atomic_uint fork_gen;

unsigned pl_fork_gen(void)
{
	return atomic_load_explicit(&fork_gen, memory_order_relaxed);
}

void pl_fork_gen_bump(void)
{
	atomic_fetch_add_explicit(&fork_gen, 1, memory_order_relaxed);
}

unsigned pl_fd_count(void)
{
	return atomic_load_explicit(&n_fds, memory_order_relaxed);
}

/* ---- cross-fork holders --------------------------------------------------- */

/*
 * A hostlane connection survives fork(): parent and child both hold it, and
 * the peer must see end-of-stream only when the last holder closes it. Each
 * connection has a slot in MAP_SHARED anonymous memory (inherited by fork()
 * as the same memory) listing the pids that hold it. A process that closes
 * its last fd of the connection leaves the slot; it is the last holder when
 * no other listed pid is still running (a child that exited without closing,
 * e.g. with _exit(), does not keep the connection open).
 */
#define SHREF_SLOTS ((unsigned)PL_SHREF_SLOTS)
#define SHREF_PIDS 8u

struct shref_page {
	atomic_uint used[SHREF_SLOTS / 32];
	atomic_uint ended[SHREF_SLOTS / 32];  /* a last holder left (claimed once) */
	atomic_int pid[SHREF_SLOTS][SHREF_PIDS];
};

/* The slots live in a memfd rather than anonymous memory so that an exec'd
 * image can map the same slots again (pl_exec.c): exec keeps the pid, so
 * the pids listed stay right. */
static int pid_alive(int pid);
static struct shref_page *shp;
static int shp_fd = -1;
static int adopt_fd = -1;
static pthread_once_t shp_once = PTHREAD_ONCE_INIT;

static void shp_map(void)
{
	int fd = adopt_fd;
	struct stat st;
	void *p;

	if (fd < 0) {
		fd = memfd_create("hostlane-holders", MFD_CLOEXEC);
		if (fd >= 0 && ftruncate(fd, sizeof(*shp)) < 0) {
			pl_real.close ? pl_real.close(fd) : close(fd);
			fd = -1;
		}
	} else if (fstat(fd, &st) < 0 || st.st_size != (off_t)sizeof(*shp)) {
		return;  /* not ours: pl_shref_adopt() closes it */
	}
	/* MAP_NORESERVE: pages come on first use. */
	p = mmap(NULL, sizeof(*shp), PROT_READ | PROT_WRITE,
		 fd >= 0 ? MAP_SHARED | MAP_NORESERVE : MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE,
		 fd, 0);
	if (p == MAP_FAILED) {
		if (fd >= 0 && fd != adopt_fd)
			pl_real.close ? pl_real.close(fd) : close(fd);
		return;
	}
	shp = p;
	shp_fd = fd;
	if (fd == adopt_fd)  /* the exec'd image's own private fd from now on */
		(pl_real.fcntl ? pl_real.fcntl : fcntl)(fd, F_SETFD, FD_CLOEXEC);
}

int pl_shref_adopt(int fd)
{
	adopt_fd = fd;
	pthread_once(&shp_once, shp_map);
	adopt_fd = -1;
	if (shp_fd == fd && fd >= 0)
		return 0;
	if (fd >= 0)
		pl_real.close ? pl_real.close(fd) : close(fd);
	return -EINVAL;
}

int pl_shref_fd(void)
{
	return shp ? shp_fd : -1;
}

int pl_shref_others(int slot)
{
	int me = (int)getpid(), others = 0;

	if (slot < 0 || !shp)
		return 0;
	for (unsigned i = 0; i < SHREF_PIDS; i++) {
		int p = atomic_load(&shp->pid[slot][i]);

		if (p && p != me && pid_alive(p))
			others++;
	}
	return others;
}

int pl_shref_alloc(void)
{
	pthread_once(&shp_once, shp_map);
	if (!shp)
		return -1;
	for (unsigned w = 0; w < SHREF_SLOTS / 32; w++) {
		unsigned v = atomic_load_explicit(&shp->used[w], memory_order_relaxed);

		while (v != UINT32_MAX) {
			unsigned bit = (unsigned)__builtin_ctz(~v);

			/* Acq_rel: we own the slot before writing its pids; pairs
			 * with the release in pl_shref_free(). */
			if (atomic_compare_exchange_weak_explicit(&shp->used[w], &v, v | (1u << bit),
								  memory_order_acq_rel,
								  memory_order_relaxed)) {
				int slot = (int)(w * 32 + bit);

				for (unsigned i = 0; i < SHREF_PIDS; i++)
					atomic_store_explicit(&shp->pid[slot][i], 0,
							      memory_order_relaxed);
				atomic_fetch_and(&shp->ended[w], ~(1u << bit));
				pl_shref_join(slot);
				return slot;
			}
		}
	}
	return -1;
}

void pl_shref_join(int slot)
{
	pl_shref_join_pid(slot, pl_pid());
}

/* Puts @v (a pid, or a fork's token) in @slot unless it is there. */
static void slot_add(int slot, int v)
{
	if (slot < 0 || !shp || !v)
		return;
	for (unsigned i = 0; i < SHREF_PIDS; i++)
		if (atomic_load(&shp->pid[slot][i]) == v)
			return;
	for (unsigned i = 0; i < SHREF_PIDS; i++) {
		int z = 0;

		if (atomic_compare_exchange_strong(&shp->pid[slot][i], &z, v))
			return;
	}
	/* Full: children that exited without closing (a forking server's
	 * listener is held by every child it ever had) make room. */
	for (unsigned i = 0; i < SHREF_PIDS; i++) {
		int p = atomic_load(&shp->pid[slot][i]);

		if (p && p != v && !pid_alive(p) &&
		    atomic_compare_exchange_strong(&shp->pid[slot][i], &p, v))
			return;
	}
}

void pl_shref_join_pid(int slot, pid_t pid)
{
	if (pid > 0)
		slot_add(slot, (int)pid);
}

void pl_shref_reserve(int slot, int token)
{
	if (token < 0)
		slot_add(slot, token);
}

bool pl_shref_resolve(int slot, int token, pid_t pid)
{
	if (slot < 0 || !shp || token >= 0)
		return false;
	for (unsigned i = 0; i < SHREF_PIDS; i++) {
		int t = token;

		if (atomic_compare_exchange_strong(&shp->pid[slot][i], &t, (int)pid))
			return true;
	}
	return false;
}

ssize_t pl_read_small(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	/* The real read/close: callers run inside interposed calls. */
	n = pl_real.read ? pl_real.read(fd, buf, len - 1) : read(fd, buf, len - 1);
	if (n < 0)
		n = -errno;
	if (pl_real.close)
		pl_real.close(fd);
	else
		close(fd);
	buf[n > 0 ? n : 0] = '\0';
	return n;
}

/* 1 if @pid runs (not a zombie); a fork's token (< 0) holds until the
 * fork resolves it. */
static int pid_alive(int pid)
{
	char path[64], buf[256];
	const char *p;

	if (pid < 0)
		return 1;
	if (kill(pid, 0) < 0 && errno == ESRCH)
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if (pl_read_small(path, buf, sizeof(buf)) <= 0)
		return 0;
	p = strrchr(buf, ')');
	return !(p && p[1] == ' ' && (p[2] == 'Z' || p[2] == 'X'));
}

int pl_shref_leave(int slot)
{
	/* Return: 0 for exactly one caller per slot, the last holder. */
	int me = (int)pl_pid(), others = 0;

	if (slot < 0 || !shp)
		return 0;
	/* First every entry of ours (a parent and its child may both have
	 * written the child's pid), then the count: two holders leaving at
	 * once each remove themselves before looking (sequentially consistent
	 * stores and loads), so at least one sees the other gone. Counting
	 * while removing let both see the other and neither end the ring. */
	for (unsigned i = 0; i < SHREF_PIDS; i++) {
		int p = atomic_load(&shp->pid[slot][i]);

		if (p == me)
			atomic_compare_exchange_strong(&shp->pid[slot][i], &p, 0);
	}
	for (unsigned i = 0; i < SHREF_PIDS; i++) {
		int p = atomic_load(&shp->pid[slot][i]);

		if (p && p != me && pid_alive(p))
			others++;
	}
	/* Two leaving at once may both find nobody left: one of them is the
	 * last (it ends the ring and frees the slot), the other not. */
	if (!others && (atomic_fetch_or(&shp->ended[(unsigned)slot / 32], 1u << ((unsigned)slot % 32)) &
			(1u << ((unsigned)slot % 32))))
		others = 1;
	return others;
}

void pl_shref_free(int slot)
{
	if (slot < 0 || !shp)
		return;
	/* Release: pairs with the acquire in pl_shref_alloc(). */
	atomic_fetch_and_explicit(&shp->used[(unsigned)slot / 32], ~(1u << ((unsigned)slot % 32)),
				  memory_order_release);
}

