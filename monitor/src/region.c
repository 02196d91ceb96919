/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Regions: hugepage memfds charged to one pod's quota and to the node pool,
 * held by one or two clients. Slot regions (one per process pair, 2 MiB of
 * ring-pair slots) and direct regions (slot regions whose connector sets up
 * the later connections itself, docs/monitor.md) are regions too; this file
 * knows which of their slots are in use and when a region can go.
 */
#include "mon_private.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdatomic.h>
#include <string.h>
#include <syslog.h>

void mon_region_release(struct hl_monitor *n, struct mon_region *g)
{
	if (g->charged) {
		hl_quota_release(&g->charged->quota, g->bytes);
		g->charged->n_regions--;
		g->charged->n_fds--;
	}
	hl_quota_release(&n->pool, g->bytes);
	LIST_DEL(n->regions, g);
	/* Our mapping goes; when the agent goes (a restart), the grant stays
	 * as the last table had it, with the region and its connections:
	 * emptied now, a connection announced in the meantime would be
	 * reset under a running program. */
	mon_grant_free(g);
	/* Its charge ends here, so must its memory, from every mapping: a
	 * client that freed it but kept it mapped (or a child it gave it to)
	 * would hold pages nobody pays for. One that touches it afterwards
	 * faults fresh pages in, charged to its own cgroup by the kernel.
	 * Not when the agent itself goes (SIGTERM: a rolling update): the
	 * connections in it go on across the restart, as after a SIGKILL. */
	if (!n->stopping)
		shmq_region_discard(g->r);
	shmq_region_close(g->r);
	free(g);
}

/* Whether side @s of @g is held: by a client, or by a process that exec'd. */
static bool held(const struct mon_region *g, unsigned s)
{
	return g->holder[s] || g->linger[s];
}

/* The pod of the holder of side @s of @g, or NULL. */
static struct hl_mon_pod *holder_pod(const struct mon_region *g, unsigned s)
{
	return g->holder[s] ? g->holder[s]->ep : g->linger[s] ? g->linger[s]->ep : NULL;
}

/*
 * The slots of slot region @g still in use. A side gives a slot back by
 * closing its ring endpoint (the ring records it), so closing a connection
 * costs no message to the monitor; CONN_CLOSE is for connections a process
 * never set up.
 */
static uint64_t slots_busy(struct mon_region *g)
{
	if (g->direct) {
		uint64_t busy = 0;

		/* A slot is in use while a side whose process is still
		 * here has not closed it (a corrupt header: in use). */
		for (uint32_t i = 0; i < g->n_slots; i++) {
			int m = shmq_pair_closed(g->r, i);

			for (unsigned s = 0; s < 2; s++)
				if (held(g, s) && (m < 0 || !(m & (1 << s))))
					busy |= UINT64_C(1) << i;
		}
		return busy;
	}
	for (uint64_t b = g->used[0] | g->used[1]; b; b &= b - 1) {
		uint32_t i = (uint32_t)__builtin_ctzll(b);
		int m = shmq_pair_closed(g->r, i);

		if (m < 0)
			continue;  /* a corrupt header: the slot stays out of use */
		if (m & 1)
			g->used[0] &= ~(UINT64_C(1) << i);
		if (m & 2)
			g->used[1] &= ~(UINT64_C(1) << i);
	}
	return g->used[0] | g->used[1];
}

/*
 * The charge of @g follows the holder left: a pod pays for a region while a
 * process of it holds it. The connecting pod pays first; if its process
 * went and the listener's holds on (connections it has not closed), the
 * listener's pod pays from then on, so no pod's behaviour can keep another
 * pod's quota taken. If the listener's pod cannot take it (quota or
 * limits), the region ends now: its memory is punched and whatever the
 * listener still had in it (connections to a process that is gone) breaks.
 * Return: false if @g was released.
 */
static bool charge_follows(struct hl_monitor *n, struct mon_region *g)
{
	struct hl_mon_pod *to = holder_pod(g, 0) ? holder_pod(g, 0) : holder_pod(g, 1);
	struct hl_mon_pod *from = g->charged;

	if (from == to || !to)
		return true;
	if (to->n_regions >= n->o.limits.regions || to->n_fds >= n->o.limits.fds ||
	    hl_quota_charge(&to->quota, g->bytes)) {
		mon_log(n, LOG_INFO, "endpoint %s: region %u ends: its connector is gone and the pod "
			"cannot take its charge", to->key, g->id);
		mon_region_release(n, g);
		return false;
	}
	if (from) {
		hl_quota_release(&from->quota, g->bytes);
		from->n_regions--;
		from->n_fds--;
	}
	g->charged = to;
	to->n_regions++;
	to->n_fds++;
	return true;
}

/* Drops the hold on side @side of @g (-1: none), with the slots it held
 * (@self: the other side is the same holder, a self-connection). A slot
 * region goes as soon as the remaining holder has no slot in it left;
 * otherwise its charge follows the remaining holder. */
static void unhold_side(struct hl_monitor *n, struct mon_region *g, int side, bool self)
{
	if (side >= 0) {
		g->holder[side] = NULL;
		g->linger[side] = NULL;
		g->used[side] = 0;
	}
	if ((!held(g, 0) && !held(g, 1)) || (side >= 0 && g->n_slots && !self && !slots_busy(g)))
		mon_region_release(n, g);
	else if (side >= 0)
		charge_follows(n, g);
}

/* Drops @c's hold on @g (one hold; a self-connection holds twice). */
void mon_region_unhold(struct hl_monitor *n, struct mon_region *g, struct mon_client *c)
{
	int side = g->holder[0] == c ? 0 : g->holder[1] == c ? 1 : -1;

	unhold_side(n, g, side, side >= 0 && g->holder[!side] == c);
}

/*
 * @c's channel closed with its exec and the process lives on: its image
 * after the exec maps @g from the fds the old one handed over and goes on
 * with the connections in it (docs/preload.md, "exec"), so the hold stays,
 * slots and charge with it, until the process exits (@lg). Released now,
 * the region's memory would be punched under those connections as soon as
 * the peer closed its side.
 */
void mon_region_linger(struct mon_region *g, struct mon_client *c, struct mon_linger *lg)
{
	for (unsigned s = 0; s < 2; s++)
		if (g->holder[s] == c) {
			g->holder[s] = NULL;
			g->linger[s] = lg;
		}
}

/* The process of @lg exited: one of its holds on @g goes. */
void mon_region_unlinger(struct hl_monitor *n, struct mon_region *g, struct mon_linger *lg)
{
	int side = g->linger[0] == lg ? 0 : g->linger[1] == lg ? 1 : -1;

	unhold_side(n, g, side, side >= 0 && g->linger[!side] == lg);
}

/* Releases slot regions that lost a holder and whose other holder closed
 * all its connections in them since. */
void mon_slot_gc(struct hl_monitor *n)
{
	for (struct mon_region *g = n->regions, *nx; g; g = nx) {
		nx = g->next;
		if (g->n_slots && (!held(g, 0) || !held(g, 1)) && !slots_busy(g))
			mon_region_release(n, g);
	}
}

uint32_t mon_slots_per_region(void)
{
	static uint32_t n;

	if (!n) {
		uint32_t k = HL_PROTO_MAX_SLOTS;

		/* with room for a direct region's control block */
		while (k > 1 && shmq_region_bytes(k, SLOT_CAPACITY) + HL_DIRECT_BLK > HL_MON_PAGE)
			k--;
		n = k;
	}
	return n;
}

/* A slot region of process pair (@c connects to @l) with a free slot, at
 * *@slot; NULL when there is none. */
struct mon_region *mon_slot_find(struct hl_monitor *n, const struct mon_client *c,
				   const struct mon_client *l, uint32_t *slot)
{
	for (struct mon_region *g = n->regions; g; g = g->next) {
		uint64_t all = (UINT64_C(1) << g->n_slots) - 1, busy;

		if (!g->n_slots || g->direct || g->holder[0] != c || g->holder[1] != l ||
		    shmq_region_faulted(g->r))
			continue;
		busy = slots_busy(g);
		if (busy != all) {
			*slot = (uint32_t)__builtin_ctzll(~busy);
			return g;
		}
	}
	return NULL;
}

struct mon_region *mon_region_find(struct hl_monitor *n, uint32_t id)
{
	for (struct mon_region *g = n->regions; g; g = g->next)
		if (g->id == id)
			return g;
	return NULL;
}

/* Counts a region refused to @ep (its connection goes to the kernel). */
static void refused(struct hl_mon_pod *ep, enum hl_mon_refusal why)
{
	ep->regions_refused[why]++;
	ep->node->regions_refused[why]++;
}

/*
 * Charges @bytes to @ep and the node pool and creates the region, on 2 MiB
 * hugepages only: a region the kernel has no hugepages for is refused
 * (counted), never made from normal memory behind the pool's back.
 * On failure fills @reason and returns -errno.
 */
int mon_region_new(struct hl_mon_pod *ep, uint64_t bytes, struct mon_region **out,
		      char *reason, size_t rlen)
{
	struct hl_monitor *n = ep->node;
	uint64_t charge = hl_quota_round(bytes, HL_MON_PAGE);
	struct mon_region *g;
	int err;

	if (!charge || charge > SIZE_MAX) {
		snprintf(reason, rlen, "region size out of range");
		return -EINVAL;
	}
	if (ep->n_regions >= n->o.limits.regions || ep->n_fds >= n->o.limits.fds) {
		snprintf(reason, rlen, "this pod holds %u regions and %u fds of the agent (limits %u, %u)",
			 ep->n_regions, ep->n_fds, n->o.limits.regions, n->o.limits.fds);
		refused(ep, HL_MON_REFUSED_LIMITS);
		return -EMFILE;
	}
	if (hl_quota_charge(&ep->quota, charge)) {
		hl_quota_reason("quota", &ep->quota, charge, reason, rlen);
		refused(ep, HL_MON_REFUSED_QUOTA);
		return -ENOSPC;
	}
	if (hl_quota_charge(&n->pool, charge)) {
		hl_quota_reason("node hugepage pool", &n->pool, charge, reason, rlen);
		hl_quota_release(&ep->quota, charge);
		refused(ep, HL_MON_REFUSED_POOL);
		return -ENOSPC;
	}
	g = calloc(1, sizeof(*g));
	if (g)
		g->r = shmq_region_create((size_t)charge, SHMQ_REGION_REQUIRE_HUGETLB, mon_shmq_log, n);
	/* Every hugepage now, by the agent: a page is charged to the hugetlb
	 * cgroup of the process that first faults it, and a pod that asked
	 * kubelet for no hugepages has a limit of 0 there (SIGBUS on its
	 * first touch of a ring). Allocated here, the pages are the agent's
	 * (its DaemonSet requests the pool); a pool without free pages is an
	 * error now rather than a signal in a pod later. */
	if (g && g->r && shmq_region_is_hugetlb(g->r) &&
	    fallocate(shmq_region_fd(g->r), 0, 0, (off_t)shmq_region_size(g->r)) < 0) {
		err = errno;
		shmq_region_close(g->r);
		g->r = NULL;
		errno = err == ENOSPC ? ENOMEM : err;
	}
	if (!g || !g->r) {
		err = errno ? errno : ENOMEM;
		free(g);
		hl_quota_release(&ep->quota, charge);
		hl_quota_release(&n->pool, charge);
		snprintf(reason, rlen, "cannot create region: %s%s", strerror(err),
			 err == ENOMEM ? " (no free 2 MiB hugepages on the node)" : "");
		refused(ep, HL_MON_REFUSED_HUGEPAGES);
		return -err;
	}
	g->bytes = charge;
	g->charged = ep;
	g->grant_fd = -1;
	do
		g->id = ++n->next_id;
	while (!g->id || mon_region_find(n, g->id));
	ep->n_regions++;
	ep->n_fds++;  /* the memfd */
	LIST_ADD(n->regions, g);
	*out = g;
	return 0;
}

int mon_region_layout(struct mon_region *g, uint32_t n_pairs, uint32_t cap,
			 enum shmq_mode mode)
{
	int rc = shmq_region_layout(g->r, n_pairs, cap);

	for (uint32_t i = 0; !rc && i < n_pairs; i++)
		rc = shmq_pair_init(g->r, i, mode);
	return rc;
}

/*
 * Makes fresh slot region @g a direct one if both processes speak v4 and
 * the listener's takes direct connections: the control block goes at the
 * region's end, and every slot but @pair (the first connection's) starts
 * closed on both sides, free for the connector to take.
 */
void mon_direct_setup(struct mon_region *g, const struct mon_client *c,
			 const struct mon_client *l, uint32_t pair)
{
	struct hl_direct_blk *b;

	if (c->version < 4 || l->version < 4 || !l->direct || l->bell < 0 ||
	    !(b = shmq_region_tail(g->r, HL_DIRECT_BLK)))
		return;
	memset(b, 0, sizeof(*b));
	for (uint32_t i = 0; i < g->n_slots; i++) {
		struct shmq_ep *e[2] = { NULL, NULL };

		if (i == pair)
			continue;
		e[0] = shmq_ep_attach(g->r, i, 0);
		e[1] = shmq_ep_attach(g->r, i, 1);
		if (!e[0] || !e[1]) {
			shmq_ep_detach(e[0]);
			shmq_ep_detach(e[1]);
			return;  /* a plain slot region then */
		}
		shmq_ep_close(e[0]);
		shmq_ep_close(e[1]);
	}
	b->n_slots = g->n_slots;
	b->version = HL_DIRECT_VERSION;
	b->magic = HL_DIRECT_MAGIC;
	g->direct = true;
	g->blk = b;
}

/* Whether pod @ep filters on @hooks now (an error counts as filtering);
 * read once per tick per pod. */
static bool filters(struct hl_monitor *n, struct hl_mon_pod *ep, unsigned hooks)
{
	if (!ep)
		return false;
	if (ep->police_tick != n->ticks) {
		ep->police_tick = n->ticks;
		if (mon_nf_hooks(ep->nf, &ep->police_hooks))
			ep->police_hooks = MON_NF_IN | MON_NF_OUT;
	}
	return (ep->police_hooks & hooks) != 0;
}

void mon_direct_police(struct hl_monitor *n)
{
	n->ticks++;
	for (struct mon_region *g = n->regions; g; g = g->next) {
		const struct mon_client *c = g->holder[0], *l = g->holder[1];

		if (!g->blk || g->nf_off || shmq_region_faulted(g->r))
			continue;
		if ((l && filters(n, l->ep, MON_NF_IN)) || (c && filters(n, c->ep, MON_NF_OUT))) {
			/* `off` for honest connectors, the grant emptied for
			 * the listener to refuse the others */
			g->nf_off = true;
			atomic_store(&g->blk->off, 1);
			mon_grant_write(n, g);
		}
	}
}
