/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Direct connections (protocol v4, docs/monitor.md): after the first
 * connection between two processes the connector sets up the next ones in
 * their slot region itself, with no message to the monitor: it takes a slot
 * both sides closed, announces it in the region's control block (struct
 * hl_direct_blk, read through pl_direct_blk.c) and rings the listener
 * process's doorbell when a thread there sleeps; the listener side takes
 * announcements to the ports it published there (pl_direct_serve()). Only
 * the process whose own control channel brought a region uses it that way:
 * a forked child has channels and regions of its own.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "hl_codec.h"
#include "pl_private.h"
#include "shmq.h"

/* This process as a listener side of direct regions: its doorbell (from its
 * HELLO), whether it takes direct connections, and the ports it publishes
 * (same index in every region's table; a count per port for listeners
 * sharing one). Under pl_regions_lock. */
static int bell = -1;
static bool serving;
static bool quiet;                 /* exec under way: tables emptied */
static bool bell_seen;             /* a HELLO brought one (the first counts) */
static uint16_t pub_port[HL_DIRECT_PORTS];
static unsigned pub_refs[HL_DIRECT_PORTS];
static struct hl_proto_addr pub_addr[HL_DIRECT_PORTS];  /* where it is bound */
static bool pub_v6only[HL_DIRECT_PORTS];
static atomic_int n_served;        /* direct regions of side 1: worth a scan */
static atomic_uint sleepers;       /* threads between pl_direct_wait_begin/end */

static bool addr_any(const struct hl_proto_addr *a)
{
	for (size_t i = 0; i < sizeof(a->addr); i++)
		if (a->addr[i])
			return false;
	return true;
}

/* Whether published entry @i is reached at @local, the address the
 * region's connector asked for (as the kernel would reach the listener:
 * a wildcard of its family, a v6 one for v4 too unless V6ONLY, else that
 * very address). An older endpoint says nothing (family 0): wildcards
 * only then. */
static bool reaches(unsigned i, const struct hl_proto_addr *local)
{
	const struct hl_proto_addr *a = &pub_addr[i];

	if (addr_any(a))
		return local->family == 0 || a->family == local->family ||
		       (a->family == 6 && local->family == 4 && !pub_v6only[i]);
	return local->family != 0 && hl_proto_addr_eq(a, local);
}

/* Writes this process's published ports into region @g's table: those
 * reached at the address the region was made for (pl_regions_lock held). */
static void table_write(struct pl_region *g)
{
	struct hl_direct_blk *b = g->blk;
	bool on = serving && !quiet;
	unsigned used = 0;

	for (unsigned i = 0; i < HL_DIRECT_PORTS; i++) {
		bool pub = on && pub_refs[i] && reaches(i, &g->local);

		atomic_store_explicit(&b->ports[i], pub ? pub_port[i] : 0, memory_order_relaxed);
		if (pub)
			used = i + 1;
	}
	atomic_store_explicit(&b->n_ports, used, memory_order_relaxed);
	/* Pairs with the connector's fence between announcing and looking
	 * at the table again (pl_direct_announce()). */
	atomic_thread_fence(memory_order_seq_cst);
}

/* Tells the connectors of @b whether one of our threads sleeps
 * (pl_regions_lock held): a connector rings the doorbell only then. */
static void wake_write(struct hl_direct_blk *b)
{
	atomic_store_explicit(&b->wake, atomic_load(&sleepers) ? HL_WAKE_SLEEPS : HL_WAKE_AWAKE,
			      memory_order_relaxed);
}

/* Our direct regions as a listener side (pl_regions_lock held). */
static bool served(const struct pl_region *g)
{
	return g->blk && g->side == 1 && pl_ctl_mine(g->ctl);
}

/* Sets up the direct side of new region @g from connection message @m
 * (pl_regions_lock held). */
void pl_direct_attach(struct pl_region *g, struct pl_ctl *c, const struct hl_proto_conn *m)
{
	struct hl_direct_blk *b;

	g->ctl = c;
	g->side = m->side ? 1 : 0;
	g->addr = m->peer;
	g->local = m->local;
	if (!(m->flags & HL_CONN_F_DIRECT) || (g->side == 0 && g->bell < 0))
		return;
	b = shmq_region_tail(g->r, HL_DIRECT_BLK);
	/* The monitor wrote it before handing the region out. */
	if (!b || b->magic != HL_DIRECT_MAGIC || b->version != HL_DIRECT_VERSION ||
	    b->n_slots != g->slots)
		return;
	/* A grant announced but not mapped: no direct connections here (the
	 * listener side would take what the monitor may not admit). */
	if ((m->flags & HL_CONN_F_GRANT) && !g->grant)
		return;
	g->blk = b;
	if (g->side == 1 && pl_ctl_mine(c)) {
		g->counted = true;
		/* Counted first, then `wake` from the sleepers: a thread
		 * about to sleep counts itself, then looks at n_served, so
		 * one of the two sees the other (pl_direct_wait_begin()). */
		atomic_fetch_add(&n_served, 1);
		wake_write(b);
		table_write(g);
	}
}

/* Region @g goes: it no longer counts as one we serve (pl_regions_lock held
 * or @g unlinked). */
void pl_direct_detach(struct pl_region *g)
{
	if (g->counted)
		atomic_fetch_sub(&n_served, 1);
}

/* A slot of @g both sides closed, re-initialised for a new connection; -1. */
static int slot_take(struct pl_region *g)
{
	for (uint32_t k = 0; k < g->slots; k++)
		if (shmq_pair_closed(g->r, k) == 3 && shmq_pair_init(g->r, k, SHMQ_MODE_STREAM) == 0)
			return (int)k;
	return -1;
}

int pl_direct_connect(const struct hl_proto_addr *a, uint16_t port, struct hl_proto_conn *m,
		      struct pl_region **out)
{
	struct pl_region *g;
	int k = -1;

	pthread_mutex_lock(&pl_regions_lock);
	for (g = pl_regions; g; g = g->next) {
		if (!g->blk || g->side != 0 || !pl_ctl_mine(g->ctl) || atomic_load(&g->gone) ||
		    shmq_region_faulted(g->r) || !pl_blk_admit(g->blk, g->grant, port) ||
		    !hl_proto_addr_eq(&g->addr, a) || !pl_blk_published(g->blk, port))
			continue;
		k = slot_take(g);
		if (k >= 0)
			break;
	}
	if (g) {
		g->conns++;
		memset(m, 0, sizeof(*m));
		m->region_id = g->id;
		m->side = 0;
		m->pair = (uint32_t)k;
		m->peer = *a;
		m->peer_port = port;
		m->local = g->local;  /* side 0: our address, as the listener sees it */
		m->size = shmq_region_size(g->r);
		m->flags = HL_CONN_F_SLOT | HL_CONN_F_DIRECT;
	}
	pthread_mutex_unlock(&pl_regions_lock);
	*out = g;
	return g ? 0 : -ENOENT;
}

/* Takes announcement @v on @slot back if the listener did not take it yet:
 * the slot and the count are given back. */
static bool withdraw(struct pl_region *g, uint32_t slot, uint64_t v)
{
	if (!atomic_compare_exchange_strong(&g->blk->ann[slot], &v,
					    HL_ANN(HL_ANN_WITHDRAWN, HL_ANN_CPORT(v), HL_ANN_PORT(v))))
		return false;
	pl_region_slot_close(g, slot, 0, false);
	pl_region_slot_close(g, slot, 1, false);
	pl_region_put(g);
	return true;
}

/* Rings the listener process's doorbell: our end of its socketpair, which
 * every connector of that process holds (an eventfd from a v3 endpoint).
 * Never blocks, whatever another holder did to the shared file's flags.
 * Return: false if the doorbell cannot be rung (shut down by a peer). */
static bool ring(int fd)
{
	uint64_t one = 1;
	struct iovec iov = { &one, sizeof(one) };

	if (pl_real.send(fd, &one, sizeof(one), MSG_DONTWAIT | MSG_NOSIGNAL) >= 0 || errno == EAGAIN)
		return true;  /* EAGAIN: full, the listener is awake anyway */
	if (errno != ENOTSOCK)
		return false;
	return pl_pwritev2(fd, &iov, 1, -1, 0) >= 0 || errno == EAGAIN;
}

int pl_direct_announce(struct pl_region *g, uint32_t slot, uint16_t port, uint16_t cport)
{
	uint64_t v = HL_ANN(HL_ANN_OFFERED, cport, port);

	atomic_store(&g->blk->ann[slot], v);
	/* Announce, then look at the table once more: a listener that
	 * unpublished the port meanwhile empties its table before it looks
	 * at announcements, so one of the two sees the other. The monitor's
	 * `off` and grant are looked at the same way (the listener refuses
	 * what the grant no longer admits). */
	atomic_thread_fence(memory_order_seq_cst);
	if ((!pl_blk_published(g->blk, port) || !pl_blk_admit(g->blk, g->grant, port)) &&
	    withdraw(g, slot, v))
		return -ECONNREFUSED;
	/* The same fence orders the announcement before the look at `wake`:
	 * a listener thread about to sleep says so before its last look at
	 * the announcements (pl_direct_wait_begin()), so either it sees ours
	 * or we see it sleeps. A doorbell that cannot be rung: the monitor
	 * sets the connection up instead. */
	if (atomic_load_explicit(&g->blk->wake, memory_order_relaxed) != HL_WAKE_AWAKE &&
	    !ring(g->bell) && withdraw(g, slot, v)) {
		atomic_store(&g->gone, true);
		return -ECONNREFUSED;
	}
	/* A listener process that died cannot take it (nor say so). Asked
	 * after announcing, so the listener is at work meanwhile: if it took
	 * the connection, it was alive then, and its death is a reset later,
	 * as in TCP. */
	if (pl_region_peer_gone(g)) {
		atomic_store(&g->gone, true);  /* its table stays: never again */
		if (withdraw(g, slot, v))
			return -ECONNREFUSED;
	}
	return 0;
}

/* Writes `wake` in every region we serve (pl_regions_lock held). */
static void wakes_write(void)
{
	for (struct pl_region *g = pl_regions; g; g = g->next)
		if (served(g))
			wake_write(g->blk);
}

/* After a change of `sleepers`: every such change is followed by a write of
 * every `wake` under the lock from the count as it is then, so the last
 * write says what the count says. */
static void sleepers_changed(void)
{
	if (!atomic_load(&n_served))
		return;
	pthread_mutex_lock(&pl_regions_lock);
	wakes_write();
	pthread_mutex_unlock(&pl_regions_lock);
}

void pl_direct_wait_begin(void)
{
	atomic_fetch_add(&sleepers, 1);
	sleepers_changed();
	/* Pairs with the connector's fence between announcing and looking
	 * at `wake` (pl_direct_announce()): it sees we sleep, or we see its
	 * announcement now. */
	atomic_thread_fence(memory_order_seq_cst);
	pl_direct_serve();
}

void pl_direct_wait_end(void)
{
	atomic_fetch_sub(&sleepers, 1);
	sleepers_changed();
}

bool pl_direct_bell_take(int fd)
{
	bool first;

	pthread_mutex_lock(&pl_regions_lock);
	first = !bell_seen;
	if (first) {
		bell = pl_fd_hide(fd);
		serving = true;
		bell_seen = true;
	}
	pthread_mutex_unlock(&pl_regions_lock);
	if (!first)
		pl_real.close(fd);
	return first;
}

int pl_direct_bell_fd(void)
{
	int fd;

	pthread_mutex_lock(&pl_regions_lock);
	fd = serving ? bell : -1;
	pthread_mutex_unlock(&pl_regions_lock);
	return fd;
}

void pl_direct_bell_clear(void)
{
	uint64_t v[8];
	struct iovec iov = { v, sizeof(v) };

	if (bell < 0)
		return;
	/* Every connector rings with its own datagram: take what is there,
	 * never waiting (an eventfd from a v3 endpoint: RWF_NOWAIT, whatever
	 * its shared flags say). */
	for (int i = 0; i < 64; i++)
		if (pl_real.recv(bell, v, sizeof(v), MSG_DONTWAIT) < 0)
			break;
	if (errno == ENOTSOCK && pl_preadv2(bell, &iov, 1, -1, RWF_NOWAIT) < 0) {
		/* already zero */
	}
}

/* Rewrites the table of every region we serve (pl_regions_lock held). */
static void tables_write(void)
{
	for (struct pl_region *g = pl_regions; g; g = g->next)
		if (served(g))
			table_write(g);
}

bool pl_direct_publish(uint16_t port, const struct hl_proto_addr *addr, bool v6only, bool on)
{
	unsigned i, fr = HL_DIRECT_PORTS;
	bool done = false;

	pthread_mutex_lock(&pl_regions_lock);
	for (i = 0; i < HL_DIRECT_PORTS; i++) {
		if (pub_refs[i] && pub_port[i] == port && hl_proto_addr_eq(&pub_addr[i], addr))
			break;
		if (!pub_refs[i] && fr == HL_DIRECT_PORTS)
			fr = i;
	}
	if (on && serving) {
		if (i == HL_DIRECT_PORTS && fr < HL_DIRECT_PORTS) {
			i = fr;
			pub_port[i] = port;
			pub_addr[i] = *addr;
			pub_v6only[i] = v6only;
		}
		if (i < HL_DIRECT_PORTS) {
			pub_refs[i]++;
			done = true;
		}
	} else if (!on && i < HL_DIRECT_PORTS && !--pub_refs[i]) {
		pub_port[i] = 0;
	}
	tables_write();
	pthread_mutex_unlock(&pl_regions_lock);
	return done;
}

void pl_direct_unpublish_inherited(const struct pl_ctl *old, uint16_t port)
{
	pthread_mutex_lock(&pl_regions_lock);
	for (struct pl_region *g = pl_regions; g; g = g->next) {
		if (g->blk && g->side == 1 && g->ctl == old)
			pl_blk_unpublish(g->blk, port);
	}
	/* As in table_write(): before any look at announcements. */
	atomic_thread_fence(memory_order_seq_cst);
	pthread_mutex_unlock(&pl_regions_lock);
}

void pl_direct_quiet(bool on)
{
	pthread_mutex_lock(&pl_regions_lock);
	quiet = on;
	tables_write();
	pthread_mutex_unlock(&pl_regions_lock);
	if (on)
		pl_direct_serve();  /* what was announced before goes to the queues */
}

bool pl_direct_serving(void)
{
	return serving;
}

void pl_direct_off(void)
{
	pthread_mutex_lock(&pl_regions_lock);
	serving = false;
	tables_write();
	pthread_mutex_unlock(&pl_regions_lock);
	pl_direct_serve();
}

#define SERVE_BATCH 64

void pl_direct_serve(void)
{
	struct {
		struct pl_region *g;
		struct hl_proto_conn c;
	} t[SERVE_BATCH];
	unsigned n = 0;

	if (!atomic_load_explicit(&n_served, memory_order_relaxed))
		return;
	pthread_mutex_lock(&pl_regions_lock);
	for (struct pl_region *g = pl_regions; g && n < SERVE_BATCH; g = g->next) {
		/* A region whose page was replaced (shmq_fault_contain) is
		 * left alone: nothing in it is real any more. */
		if (!served(g) || shmq_region_faulted(g->r))
			continue;
		for (uint32_t k = 0; k < g->slots && n < SERVE_BATCH; k++) {
			uint16_t port, cport;

			/* At most one connection per slot of the region: a
			 * connector that offers slots again and again (taken
			 * ones too) never gets more than that out of us. */
			if (g->conns >= (int)g->slots || !pl_blk_take(g->blk, k, &port, &cport))
				continue;
			g->conns++;
			t[n].g = g;
			memset(&t[n].c, 0, sizeof(t[n].c));
			t[n].c.region_id = g->id;
			t[n].c.side = 1;
			t[n].c.pair = k;
			/* Turned off by the monitor (a pod's netfilter
			 * rules), or a port the grant does not admit (now):
			 * reset, as to a port not listened on, so a
			 * connector that missed it is not left waiting. */
			t[n].c.local_port = pl_blk_admit(g->blk, g->grant, port) ? port : 0;
			t[n].c.peer_port = cport;
			t[n].c.peer = g->addr;
			t[n].c.local = g->local;
			t[n].c.size = shmq_region_size(g->r);
			t[n].c.flags = HL_CONN_F_SLOT | HL_CONN_F_DIRECT;
			n++;
		}
	}
	pthread_mutex_unlock(&pl_regions_lock);
	/* Accept events the monitor sent before these were announced go to
	 * the queues first: the kernel accepts in arrival order. */
	for (unsigned i = 0; i < n; i++)
		if (!i || t[i].g->ctl != t[i - 1].g->ctl)
			pl_ctl_catch_up(t[i].g->ctl);
	for (unsigned i = 0; i < n; i++) {
		int fds[HL_PROTO_MAX_FDS];

		for (unsigned j = 0; j < HL_PROTO_MAX_FDS; j++)
			fds[j] = -1;
		if (t[i].c.local_port &&
		    pl_sock_deliver_accept(t[i].g->ctl, &t[i].c, fds, t[i].g) == 0) {
			atomic_fetch_add_explicit(&pl_stats->direct, 1, memory_order_relaxed);
			continue;
		}
		/* No such listener (any more), or its queue is full: the
		 * connector reads a reset. */
		pl_region_slot_close(t[i].g, t[i].c.pair, 1, true);
		pl_region_put(t[i].g);
	}
	if (n == SERVE_BATCH)
		pl_direct_serve();
}

/* In a forked child (pl_regions_lock made anew): the parent's doorbell,
 * listeners and tables stay the parent's. */
void pl_direct_atfork_child(void)
{
	if (bell >= 0)
		pl_real.close(bell);
	bell = -1;
	serving = quiet = bell_seen = false;
	atomic_store(&sleepers, 0);  /* only the forking thread is here */
	memset(pub_port, 0, sizeof(pub_port));
	memset(pub_refs, 0, sizeof(pub_refs));
	memset(pub_addr, 0, sizeof(pub_addr));
	atomic_store(&n_served, 0);
	for (struct pl_region *g = pl_regions; g; g = g->next)
		g->counted = false;
}
