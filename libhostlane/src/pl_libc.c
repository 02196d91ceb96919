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

#include "pl_private.h"

struct pl_libc pl_real;
atomic_int pl_off;
struct pl_stats pl_proc_stats;

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

static void atfork_child(void)
{
	pl_ctl_atfork_child();
	pl_sock_atfork_child();
}

static void atfork_parent(void)
{
	pl_sock_atfork_parent();
}

static pthread_once_t once = PTHREAD_ONCE_INIT;

static void init_once(void)
{
	const char *d = getenv("HOSTLANE_DISABLE");

	resolve();
	if (!pl_real.socket || !pl_real.close || !pl_real.epoll_wait || !pl_real.fcntl)
		atomic_store(&pl_off, 1);
	if (d && *d && strcmp(d, "0"))
		atomic_store(&pl_off, 1);
	pthread_atfork(NULL, atfork_parent, atfork_child);
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

/* HOSTLANE_STATS=FILE: the process counters, appended as one line at exit
 * ("pid=... conns=... tx_bytes=..."); the tests read it to tell which path
 * a run took. */
void pl_stats_dump(void)
{
	const char *path = getenv("HOSTLANE_STATS");
	struct pl_stats *s = &pl_proc_stats;
	char line[512];
	int fd, n;

	if (!path || !*path || !pl_real.write)
		return;
	n = snprintf(line, sizeof(line),
		     "pid=%d conns=%" PRIuFAST64 " fallbacks=%" PRIuFAST64
		     " tx_bytes=%" PRIuFAST64 " rx_bytes=%" PRIuFAST64 " tx_calls=%" PRIuFAST64
		     " rx_calls=%" PRIuFAST64 " wakeups=%" PRIuFAST64 " ctl_calls=%" PRIuFAST64
		     " off=%d\n",
		     (int)getpid(), atomic_load(&s->conns), atomic_load(&s->fallbacks),
		     atomic_load(&s->tx_bytes), atomic_load(&s->rx_bytes),
		     atomic_load(&s->tx_calls), atomic_load(&s->rx_calls),
		     atomic_load(&s->wakeups), atomic_load(&s->ctl_calls), atomic_load(&pl_off));
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return;
	if (pl_real.write(fd, line, (size_t)n) < 0) {
		/* nothing to do: the counters are best effort */
	}
	pl_real.close(fd);
}
