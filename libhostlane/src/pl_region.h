/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pl_region.h — internals of the LD_PRELOAD layer (part of pl_private.h,
 * which includes it): slot regions and their rings (pl_region.c), direct
 * connections (pl_direct.c, pl_direct_blk.c), SIGBUS containment in region
 * mappings (pl_fault.c).
 */
#ifndef HL_PL_REGION_H
#define HL_PL_REGION_H

#ifndef HL_PL_PRIVATE_H
#error "included by pl_private.h only"
#endif

/* ---- slot regions (pl_region.c) ---------------------------------------------- */

/* A region shared with one peer process, holding many connections' rings
 * (pl_region.c); a direct one also holds a control block (pl_direct.c). */
struct pl_region {
	struct pl_region *next;
	uint32_t id;
	struct shmq_region *r;
	int pidfd;   /* the peer process: readable once it exited */
	int conns;   /* connections of this process in the region */
	unsigned slots;
	int efd[2 * HL_PROTO_MAX_SLOTS];  /* per slot: ours, the peer's */
	/* direct regions */
	struct pl_ctl *ctl;          /* the channel that brought it */
	unsigned side;               /* ours: 0 connects, 1 listens */
	struct hl_direct_blk *blk;   /* its control block; NULL: not direct */
	/* v5: the monitor's grant (read-only, sealed; trusted): the ports
	 * this region's direction is admitted to; NULL: none came */
	const struct hl_direct_grant *grant;
	int bell;                    /* side 0: the listener process's doorbell */
	struct hl_proto_addr addr;   /* side 0: the listener's address; 1: the connector's */
	struct hl_proto_addr local;  /* v4, side 1: our address the connector asked for;
				      * side 0: ours as the listener sees it */
	bool counted;                /* in n_served */
	atomic_bool gone;            /* side 0: the listener process died */
};

/* Every region this process mapped, under pl_regions_lock. */
extern pthread_mutex_t pl_regions_lock;
extern struct pl_region *pl_regions;
/* Maps the region that came with its first slot connection @m over
 * channel @c, with one connection counted. Takes the message's @n fds
 * (region memfd: closed once mapped; peer pidfd, the slots' eventfds and a
 * direct region's doorbell: kept). Return: the region, or NULL (every fd
 * closed). */
struct pl_region *pl_region_new(struct pl_ctl *c, const struct hl_proto_conn *m, int *fds,
				int n);
/* Region @id as side @side mapped it before (a process connected to
 * itself has both), with one more connection counted; or NULL. */
struct pl_region *pl_region_get(uint32_t id, uint32_t side);
/* One connection fewer (regions of exited peers are unmapped when the next
 * new region arrives). */
void pl_region_put(struct pl_region *g);
struct shmq_region *pl_region_shmq(const struct pl_region *g);
int pl_region_pidfd(const struct pl_region *g);
/* Slot @slot's eventfd of this side (@peer 0) or of the peer (1); -1. */
int pl_region_efd(const struct pl_region *g, uint32_t slot, unsigned peer);
void pl_region_atfork_child(void);
/* Closes side @side of slot @slot of @g, by a reset if @reset (what a
 * listener that closed with it queued, or that never was, does to a
 * connection, as the kernel): the slot is free again once both sides are
 * closed. Closing our side (g->side) wakes the peer if it sleeps on the
 * ring, so a connector waiting in a read sees the end of a connection
 * nobody accepted. */
void pl_region_slot_close(struct pl_region *g, uint32_t slot, unsigned side, bool reset);
/* True once the peer process of @g exited (a look at its pidfd). */
bool pl_region_peer_gone(const struct pl_region *g);

/* Direct connections (pl_direct.c; protocol v3, docs/monitor.md). */
/* Sets up the direct side of new region @g from connection message @m that
 * came over channel @c (pl_regions_lock held). */
void pl_direct_attach(struct pl_region *g, struct pl_ctl *c, const struct hl_proto_conn *m);
/* Region @g goes: it no longer counts as one this process serves. */
void pl_direct_detach(struct pl_region *g);
void pl_direct_atfork_child(void);
/* The control block (pl_direct_blk.c; untrusted shared memory): is @port
 * (non-zero) in the listener side's table; take slot @slot's announcement
 * (compare-and-swap OFFERED -> TAKEN; false: none, or @slot out of range). */
/* ---- pl_fault.c: SIGBUS in region mappings contained ---- */

/* Makes sure the layer's SIGBUS handler is in front of the application's. */
void pl_fault_guard(void);
/* shmq_region_map() behind pl_fault_guard(): every region the layer maps. */
struct shmq_region *pl_region_map(int fd);
void pl_fault_atfork_child(void);
/* pl_signal.c: the kernel holds the layer's handler for SIGBUS from now on
 * (the program's action is passed on); a forked child's action records. */
void pl_sig_guard_bus(void);
void pl_sig_atfork_child(void);

/* Whether the monitor turned direct connections off in @b. */
bool pl_blk_off(const struct hl_direct_blk *b);
/* Whether an announcement to @port (read from @b, untrusted) may be taken:
 * @port non-zero, `off` clear, and grant @gr (NULL: an endpoint older than
 * v5, no grant) admits it. */
bool pl_blk_admit(const struct hl_direct_blk *b, const struct hl_direct_grant *gr, uint16_t port);
/* Whether grant @gr admits @port (@gr non-NULL). */
bool pl_grant_admits(const struct hl_direct_grant *gr, uint16_t port);
/* Maps grant fd @fd read-only (the fd stays open); NULL if it is not one. */
const struct hl_direct_grant *pl_grant_map(int fd);
void pl_grant_unmap(const struct hl_direct_grant *gr);
bool pl_blk_published(const struct hl_direct_blk *b, uint16_t port);
/* Removes every entry of @port (non-zero) from @b's table (a listener
 * another process took over, pl_share.c). */
void pl_blk_unpublish(struct hl_direct_blk *b, uint16_t port);
bool pl_blk_take(struct hl_direct_blk *b, uint32_t slot, uint16_t *port, uint16_t *cport);
/* Connector side: takes a free slot of a direct region to @a whose listener
 * publishes @port, its rings re-initialised; fills @m as a connection
 * message (side 0) and *@g (one connection counted). 0, or -ENOENT: none
 * (ask the monitor). */
int pl_direct_connect(const struct hl_proto_addr *a, uint16_t port, struct hl_proto_conn *m,
		      struct pl_region **g);
/* Announces the connection on @slot (to @port, from @cport) and rings the
 * listener's doorbell. 0, or -ECONNREFUSED: the port went away meanwhile
 * (the slot and the count were given back). */
int pl_direct_announce(struct pl_region *g, uint32_t slot, uint16_t port, uint16_t cport);
/* Listener side: this process's doorbell from its HELLO (@fd taken).
 * Return: false if one came before (a channel opened again after the agent
 * restarted): the listeners' epoll sets hold the first one, so the caller
 * turns direct connections off on the new channel (DIRECT_OFF). */
bool pl_direct_bell_take(int fd);
/* The doorbell while this process takes direct connections, else -1. */
int pl_direct_bell_fd(void);
/* Resets the doorbell (before pl_direct_serve()). */
void pl_direct_bell_clear(void);
/* Publishes (@on) or withdraws one listener of @port in the tables of the
 * regions we serve. Return (@on): true if it is published. */
bool pl_direct_publish(uint16_t port, const struct hl_proto_addr *addr, bool v6only, bool on);
/* Takes the connections announced to us and queues them on their
 * listeners (pl_sock_deliver_accept()); those of no listener are reset. */
void pl_direct_serve(void);
/* A forked child took over the registration of listener @port from channel
 * @old (pl_share.c): the entries for @port in the tables of the regions
 * it inherited from the process that owns @old are emptied. */
void pl_direct_unpublish_inherited(const struct pl_ctl *old, uint16_t port);
/* Exec under way (@on): tables empty, announcements taken; off again when
 * the exec failed. */
void pl_direct_quiet(bool on);
/* True while this process takes direct connections. */
bool pl_direct_serving(void);
/* For good (a fork shares the listeners): tables empty, announcements taken. */
void pl_direct_off(void);
/* A thread is about to sleep in the kernel (on a listener or anything else):
 * from here to pl_direct_wait_end() connectors ring the doorbell. Takes
 * what was announced before (a listener fd then turns readable), so the
 * caller sleeps only if nothing came. Every blocking wait of the layer that
 * can be waiting for a listener is wrapped in the two. */
void pl_direct_wait_begin(void);
void pl_direct_wait_end(void);

#endif
