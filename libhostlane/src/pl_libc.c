/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The real libc functions behind the interposed ones, resolved once with
 * dlsym(RTLD_NEXT), and the process counters.
 */
#include <dlfcn.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/resource.h>
#include <time.h>

#include "pl_private.h"

struct pl_libc pl_real;
atomic_int pl_off;

#define RESOLVE(name) \
	(*(void **)&pl_real.name = dlsym(RTLD_NEXT, #name))

static void resolve(void)
{
	RESOLVE(socket); RESOLVE(bind); RESOLVE(listen); RESOLVE(accept);
	RESOLVE(accept4); RESOLVE(connect); RESOLVE(read); RESOLVE(write);
	RESOLVE(readv); RESOLVE(writev); RESOLVE(send); RESOLVE(recv);
	RESOLVE(sendto); RESOLVE(recvfrom); RESOLVE(sendmsg); RESOLVE(recvmsg);
	RESOLVE(sendfile); RESOLVE(close); RESOLVE(shutdown); RESOLVE(dup);
	RESOLVE(dup2); RESOLVE(dup3); RESOLVE(fcntl); RESOLVE(ioctl);
	RESOLVE(getsockopt); RESOLVE(setsockopt); RESOLVE(getsockname);
	RESOLVE(getpeername); RESOLVE(poll); RESOLVE(ppoll); RESOLVE(select);
	RESOLVE(pselect); RESOLVE(epoll_create); RESOLVE(epoll_create1);
	RESOLVE(epoll_ctl); RESOLVE(epoll_wait); RESOLVE(epoll_pwait);
}

static _Atomic pid_t cached_pid;

pid_t pl_pid(void)
{
	pid_t p = atomic_load_explicit(&cached_pid, memory_order_relaxed);

	if (!p) {
		p = getpid();  /* a system call each time since glibc 2.25 */
		atomic_store_explicit(&cached_pid, p, memory_order_relaxed);
	}
	return p;
}

static void atfork_child(void)
{
	/* Set, never left 0: a vfork child must find the parent's pid here
	 * (pl_vfork_child_slow()), and pl_pid() would cache its own. */
	atomic_store_explicit(&cached_pid, getpid(), memory_order_relaxed);
	pl_fork_gen_bump();
	pl_ctl_atfork_child();
	pl_sock_atfork_child();
	pl_port_atfork_child();
}

static void atfork_prepare(void)
{
	pl_sock_atfork_prepare();
}

static void atfork_parent(void)
{
	pl_fork_gen_bump();
	pl_sock_atfork_parent();
}

static pthread_once_t once = PTHREAD_ONCE_INIT;
static uint64_t spin_ns = 50000;

uint64_t pl_spin_ns(void)
{
	return spin_ns;
}

int64_t pl_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Where the layer keeps its private fds: well above the numbers programs
 * use, since some size tables by their own connection count (wrk) or use
 * select(); capped so that the kernel's fd table stays small. */
static int hide_base = 64;

static void hide_init(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) {
		rlim_t b = rl.rlim_cur / 2;

		hide_base = (int)(b > 4096 ? 4096 : b < 16 ? 16 : b);
	} else {
		hide_base = 4096;
	}
}

int pl_fd_dup_hidden(int fd)
{
	int h = pl_real.fcntl(fd, F_DUPFD_CLOEXEC, hide_base);

	return h >= 0 ? h : pl_real.fcntl(fd, F_DUPFD_CLOEXEC, 0);
}

int pl_fd_hide(int fd)
{
	int h;

	if (fd < 0)
		return fd;
	if (fd >= hide_base) {
		pl_real.fcntl(fd, F_SETFD, FD_CLOEXEC);
		return fd;
	}
	h = pl_real.fcntl(fd, F_DUPFD_CLOEXEC, hide_base);
	if (h < 0)
		return fd;  /* the low number is still a working fd */
	pl_real.close(fd);
	return h;
}

static void init_once(void)
{
	const char *d = getenv("HOSTLANE_DISABLE");
	const char *spin = getenv("HOSTLANE_SPIN_NS");

	resolve();
	pl_fork_resolve();
	atomic_store_explicit(&cached_pid, getpid(), memory_order_relaxed);
	hide_init();
	if (!pl_real.socket || !pl_real.close || !pl_real.epoll_wait || !pl_real.fcntl)
		atomic_store(&pl_off, 1);
	if (d && *d && strcmp(d, "0"))
		atomic_store(&pl_off, 1);
	if (spin && *spin)
		spin_ns = strtoull(spin, NULL, 10);
	pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
	if (getenv("HOSTLANE_STATS"))
		atexit(pl_stats_dump);
}

void pl_libc_init(void)
{
	pthread_once(&once, init_once);
}

__attribute__((constructor)) static void pl_ctor(void)
{
	pl_libc_init();
	/* After the once-init, not in it: re-attaching calls into the layer. */
	pl_exec_restore();
}

