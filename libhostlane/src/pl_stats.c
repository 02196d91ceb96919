/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Counters of the preload layer. Each process keeps them in the stats region
 * its endpoint handed over at HELLO (struct hl_stats_hdr, hostlane_proto.h),
 * one record per open hostlane connection, so that the agent can show them
 * (`hostlanectl conns`) while the process runs. Before the region arrives,
 * and for connections beyond its records, they are private.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pl_private.h"

static struct hl_stats_proc own;
struct hl_stats_proc *pl_stats = &own;
static struct hl_stats_hdr *region;  /* this process's, or NULL */
static pid_t region_owner;
static _Atomic uint32_t hint;        /* where the last free record was */

static void copy_proc(struct hl_stats_proc *to, struct hl_stats_proc *from)
{
	atomic_store(&to->conns, atomic_load(&from->conns));
	atomic_store(&to->fallbacks, atomic_load(&from->fallbacks));
	atomic_store(&to->tx_bytes, atomic_load(&from->tx_bytes));
	atomic_store(&to->rx_bytes, atomic_load(&from->rx_bytes));
	atomic_store(&to->tx_calls, atomic_load(&from->tx_calls));
	atomic_store(&to->rx_calls, atomic_load(&from->rx_calls));
	atomic_store(&to->wakeups, atomic_load(&from->wakeups));
	atomic_store(&to->ctl_calls, atomic_load(&from->ctl_calls));
	atomic_store(&to->direct, atomic_load(&from->direct));
}

int pl_stats_attach(int fd, pid_t owner)
{
	struct stat st;
	void *p;

	if (fstat(fd, &st) < 0 || st.st_size != HL_STATS_SIZE) {
		pl_real.close(fd);
		return -EPROTO;
	}
	p = mmap(NULL, HL_STATS_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	pl_real.close(fd);
	if (p == MAP_FAILED)
		return -errno;
	if (((struct hl_stats_hdr *)p)->magic != HL_STATS_MAGIC ||
	    ((struct hl_stats_hdr *)p)->version != HL_STATS_VERSION) {
		munmap(p, HL_STATS_SIZE);
		return -EPROTO;
	}
	/* The counts made before the region came move with us, also from the
	 * region of a channel that broke (the agent restarted); a forked
	 * child's first region starts from zero (the rest is its parent's). */
	if (pl_stats == &own || (region && region_owner == owner))
		copy_proc(&((struct hl_stats_hdr *)p)->proc, pl_stats);
	region = p;
	region_owner = owner;
	pl_stats = &region->proc;
	return 0;
}

const _Atomic uint64_t *pl_stats_ev_sent(void)
{
	return region ? &region->ev_sent : NULL;
}

struct hl_stats_conn *pl_stats_conn_new(struct hl_stats_conn *fallback)
{
	struct hl_stats_conn *recs;
	uint32_t start = atomic_load_explicit(&hint, memory_order_relaxed);

	memset(fallback, 0, sizeof(*fallback));
	/* A child still on its parent's region must not take its records. */
	if (!region || region_owner != pl_pid())
		return fallback;
	recs = (struct hl_stats_conn *)((char *)region + HL_STATS_HDR);
	for (uint32_t k = 0; k < HL_STATS_RECS; k++) {
		uint32_t i = (start + k) % HL_STATS_RECS, zero = 0;

		if (atomic_load_explicit(&recs[i].state, memory_order_relaxed) == 0 &&
		    atomic_compare_exchange_strong(&recs[i].state, &zero, 2)) {
			/* 2 while being filled: the agent skips it. */
			memset((char *)&recs[i] + sizeof(recs[i].state), 0,
			       sizeof(recs[i]) - sizeof(recs[i].state));
			atomic_store_explicit(&hint, i + 1, memory_order_relaxed);
			return &recs[i];
		}
	}
	return fallback;
}

void pl_stats_conn_publish(struct hl_stats_conn *r)
{
	uint32_t filling = 2;

	atomic_compare_exchange_strong_explicit(&r->state, &filling, 1, memory_order_release,
						memory_order_relaxed);
}

void pl_stats_conn_free(struct hl_stats_conn *r)
{
	const char *base = (const char *)region;

	/* Only records of this process's own region (a forked child may
	 * close a connection whose record its parent still uses). */
	if (!r || !region || region_owner != pl_pid() || (const char *)r < base + HL_STATS_HDR ||
	    (const char *)r >= base + HL_STATS_SIZE)
		return;
	atomic_store_explicit(&r->state, 0, memory_order_release);
}

/* HOSTLANE_STATS=FILE: the process counters, appended as one line at exit
 * ("pid=... conns=... tx_bytes=..."); the tests read it to tell which path
 * a run took. */
void pl_stats_dump(void)
{
	const char *path = getenv("HOSTLANE_STATS");
	struct hl_stats_proc *s = pl_stats;
	char line[512];
	int fd, n;

	if (!path || !*path || !pl_real.write || pl_vfork_child())
		return;
	n = snprintf(line, sizeof(line),
		     "pid=%d conns=%" PRIu64 " fallbacks=%" PRIu64
		     " tx_bytes=%" PRIu64 " rx_bytes=%" PRIu64 " tx_calls=%" PRIu64
		     " rx_calls=%" PRIu64 " wakeups=%" PRIu64 " ctl_calls=%" PRIu64
		     " direct=%" PRIu64 " off=%d\n",
		     (int)getpid(), atomic_load(&s->conns), atomic_load(&s->fallbacks),
		     atomic_load(&s->tx_bytes), atomic_load(&s->rx_bytes),
		     atomic_load(&s->tx_calls), atomic_load(&s->rx_calls),
		     atomic_load(&s->wakeups), atomic_load(&s->ctl_calls),
		     atomic_load(&s->direct), atomic_load(&pl_off));
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return;
	if (pl_real.write(fd, line, (size_t)n) < 0) {
		/* nothing to do: the counters are best effort */
	}
	pl_real.close(fd);
}
