/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Slot regions of the preload layer: the region a process shares with one
 * peer process, holding many connections' ring pairs (docs/monitor.md). It
 * arrives once, with the first connection between the two processes, and
 * stays mapped for the next ones, so a later connection costs no memfd, no
 * mmap and no page zeroing. A region whose peer process is gone and that
 * holds no connection of ours any more is unmapped when the next new region
 * arrives (the monitor already dropped it from the accounting when the peer
 * went away); checking at every close would cost a system call each. The region
 * also brings an eventfd per slot and side: a connection's fd number is a
 * dup of its slot's eventfd, and nothing is created or passed per
 * connection.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include "pl_private.h"
#include "shmq.h"

struct pl_region {
	struct pl_region *next;
	uint32_t id;
	struct shmq_region *r;
	int pidfd;   /* the peer process: readable once it exited */
	int conns;   /* connections of this process in the region */
	unsigned slots;
	int efd[2 * HL_PROTO_MAX_SLOTS];  /* per slot: ours, the peer's */
};

static pthread_mutex_t regions_lock = PTHREAD_MUTEX_INITIALIZER;
static struct pl_region *regions;

static bool peer_gone(const struct pl_region *g)
{
	struct pollfd p = { .fd = g->pidfd, .events = POLLIN };

	return pl_real.poll(&p, 1, 0) > 0;
}

static void region_drop(struct pl_region *g)
{
	shmq_region_close(g->r);
	pl_real.close(g->pidfd);
	for (unsigned i = 0; i < 2 * g->slots; i++)
		pl_real.close(g->efd[i]);
	free(g);
}

/* Unlinks the unused regions of dead peers; called with the lock held.
 * Return: the list of them, to be dropped without the lock. */
static struct pl_region *sweep_locked(void)
{
	struct pl_region *dead = NULL;

	for (struct pl_region **pp = &regions; *pp;) {
		struct pl_region *g = *pp;

		if (g->conns == 0 && peer_gone(g)) {
			*pp = g->next;
			g->next = dead;
			dead = g;
		} else {
			pp = &g->next;
		}
	}
	return dead;
}

static void drop_all(struct pl_region *dead)
{
	while (dead) {
		struct pl_region *nx = dead->next;

		region_drop(dead);
		dead = nx;
	}
}

struct pl_region *pl_region_new(uint32_t id, int *fds, unsigned slots)
{
	struct pl_region *g = calloc(1, sizeof(*g)), *dead;

	if (g && slots && slots <= HL_PROTO_MAX_SLOTS) {
		for (unsigned i = 0; i < 2 + 2 * slots; i++)
			fds[i] = pl_fd_hide(fds[i]);
		g->r = shmq_region_map(fds[0]);
		if (g->r && shmq_region_pairs(g->r) != (int)slots) {
			shmq_region_close(g->r);
			g->r = NULL;
		}
	}
	if (!g || !g->r) {
		free(g);
		for (unsigned i = 0; i < 2 + 2 * slots && i < HL_PROTO_MAX_FDS; i++)
			pl_real.close(fds[i]);
		return NULL;
	}
	pl_real.close(fds[0]);
	g->id = id;
	g->pidfd = fds[1];
	g->slots = slots;
	memcpy(g->efd, fds + 2, sizeof(int) * 2 * slots);
	g->conns = 1;
	pthread_mutex_lock(&regions_lock);
	/* A new peer: a good moment to let go of the regions of dead ones. */
	dead = sweep_locked();
	g->next = regions;
	regions = g;
	pthread_mutex_unlock(&regions_lock);
	drop_all(dead);
	return g;
}

struct pl_region *pl_region_get(uint32_t id)
{
	struct pl_region *g;

	pthread_mutex_lock(&regions_lock);
	for (g = regions; g; g = g->next)
		if (g->id == id) {
			g->conns++;
			break;
		}
	pthread_mutex_unlock(&regions_lock);
	return g;
}

void pl_region_put(struct pl_region *g)
{
	if (!g)
		return;
	pthread_mutex_lock(&regions_lock);
	g->conns--;
	pthread_mutex_unlock(&regions_lock);
}

struct shmq_region *pl_region_shmq(const struct pl_region *g)
{
	return g->r;
}

int pl_region_pidfd(const struct pl_region *g)
{
	return g->pidfd;
}

int pl_region_efd(const struct pl_region *g, uint32_t slot, unsigned peer)
{
	return slot < g->slots ? g->efd[2 * slot + (peer ? 1 : 0)] : -1;
}

void pl_region_atfork_child(void)
{
	pthread_mutex_init(&regions_lock, NULL);
}
