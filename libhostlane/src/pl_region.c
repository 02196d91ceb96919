/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Slot regions of the preload layer: the region a process shares with one
 * peer process, holding many connections' ring pairs (docs/monitor.md). It
 * arrives once, with the first connection between the two processes, and
 * stays mapped for the next ones, so a later connection costs no memfd, no
 * mmap and no page zeroing. A region whose peer process is gone and that
 * holds no connection of ours any more is unmapped when the next new region
 * arrives (the monitor already dropped it from the accounting when the peer
 * went away); checking at every close would cost a system call each. The
 * region also brings an eventfd per slot and side: a connection's fd number
 * is a dup of its slot's eventfd, and nothing is created or passed per
 * connection.
 *
 * A region can also be direct: connections are then set up in it with no
 * message to the monitor (pl_direct.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "hl_codec.h"
#include "pl_private.h"
#include "shmq.h"

pthread_mutex_t pl_regions_lock = PTHREAD_MUTEX_INITIALIZER;
struct pl_region *pl_regions;

bool pl_region_peer_gone(const struct pl_region *g)
{
	struct pollfd p = { .fd = g->pidfd, .events = POLLIN };

	return pl_real.poll(&p, 1, 0) > 0;
}

const struct hl_direct_grant *pl_grant_map(int fd)
{
	struct hl_direct_grant *gr;
	struct stat st;

	/* The monitor's: sealed at its size, so it never shrinks under us. */
	if (fstat(fd, &st) < 0 || st.st_size != HL_GRANT_BYTES)
		return NULL;
	gr = mmap(NULL, HL_GRANT_BYTES, PROT_READ, MAP_SHARED, fd, 0);
	if (gr == MAP_FAILED)
		return NULL;
	if (gr->magic != HL_GRANT_MAGIC || gr->version != HL_GRANT_VERSION) {
		munmap(gr, HL_GRANT_BYTES);
		return NULL;
	}
	return gr;
}

void pl_grant_unmap(const struct hl_direct_grant *gr)
{
	munmap((void *)(uintptr_t)gr, HL_GRANT_BYTES);
}

static void region_drop(struct pl_region *g)
{
	pl_direct_detach(g);
	if (g->bell >= 0)
		pl_real.close(g->bell);
	if (g->grant)
		pl_grant_unmap(g->grant);
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

	for (struct pl_region **pp = &pl_regions; *pp;) {
		struct pl_region *g = *pp;

		if (g->conns == 0 && pl_region_peer_gone(g)) {
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

struct pl_region *pl_region_new(struct pl_ctl *c, const struct hl_proto_conn *m, int *fds,
				int n)
{
	unsigned slots = m->slots;
	struct pl_region *g = calloc(1, sizeof(*g)), *dead;
	int k;

	if (g)
		g->bell = -1;
	if (g && slots && slots <= HL_PROTO_MAX_SLOTS) {
		for (int i = 0; i < n; i++)
			fds[i] = pl_fd_hide(fds[i]);
		g->r = pl_region_map(fds[0]);
		if (g->r && shmq_region_pairs(g->r) != (int)slots) {
			shmq_region_close(g->r);
			g->r = NULL;
		}
	}
	if (!g || !g->r) {
		free(g);
		for (int i = 0; i < n && i < (int)HL_PROTO_MAX_FDS; i++)
			pl_real.close(fds[i]);
		return NULL;
	}
	k = 2 + 2 * slots;
	if ((m->flags & HL_CONN_F_DIRECT) && m->side == 0 && n > k)
		g->bell = fds[k++];  /* the listener's doorbell */
	if ((m->flags & HL_CONN_F_GRANT) && n > k) {
		g->grant = pl_grant_map(fds[k]);  /* v5: what the monitor admits */
		pl_real.close(fds[k]);
	}
	pl_real.close(fds[0]);
	g->id = m->region_id;
	g->pidfd = fds[1];
	g->slots = slots;
	memcpy(g->efd, fds + 2, sizeof(int) * 2 * slots);
	g->conns = 1;
	pthread_mutex_lock(&pl_regions_lock);
	pl_direct_attach(g, c, m);
	/* A new peer: a good moment to let go of the regions of dead ones. */
	dead = sweep_locked();
	g->next = pl_regions;
	pl_regions = g;
	pthread_mutex_unlock(&pl_regions_lock);
	drop_all(dead);
	return g;
}

struct pl_region *pl_region_get(uint32_t id, uint32_t side)
{
	struct pl_region *g;

	/* A process connected to itself mapped the region twice, once per
	 * side: each side's eventfds are its own. */
	pthread_mutex_lock(&pl_regions_lock);
	for (g = pl_regions; g; g = g->next)
		if (g->id == id && g->side == (side ? 1u : 0u)) {
			g->conns++;
			break;
		}
	pthread_mutex_unlock(&pl_regions_lock);
	return g;
}

void pl_region_put(struct pl_region *g)
{
	if (!g)
		return;
	pthread_mutex_lock(&pl_regions_lock);
	g->conns--;
	pthread_mutex_unlock(&pl_regions_lock);
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

/* Closes side @side of slot @slot of @g (@reset: by a reset): the slot is
 * free again once both sides are closed. Closing our side (g->side) wakes
 * the peer if it sleeps on the ring, so a connector waiting in a read sees
 * the end of a connection nobody accepted. */
void pl_region_slot_close(struct pl_region *g, uint32_t slot, unsigned side, bool reset)
{
	struct shmq_ep *e = shmq_ep_attach(g->r, slot, side);

	if (!e)
		return;
	if (side == g->side && slot < g->slots)
		shmq_ep_set_fds(e, g->efd[2 * slot], g->efd[2 * slot + 1], -1, SHMQ_PEER_NONE);
	if (reset)
		shmq_ep_abort(e);
	else
		shmq_ep_close(e);
}

void pl_region_atfork_child(void)
{
	pthread_mutex_init(&pl_regions_lock, NULL);
	pl_direct_atfork_child();
}
