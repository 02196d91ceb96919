/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Reading the stats regions of a pod's processes (hostlane_stats.h) for
 * `hostlanectl conns`. The pod writes that memory: every field is copied
 * out before use and only ever reported.
 */
#include "mon_private.h"

#include <stdatomic.h>
#include <string.h>

#include "hl_codec.h"

/* Copies what one record says, if it is a published one with addresses
 * that make sense (the pod writes it: nothing in it is trusted). */
static bool stats_conn_read(const struct hl_stats_conn *r, struct hl_mon_conn_info *out)
{
	struct hl_stats_conn c;

	memcpy(&c, (const void *)r, sizeof(c));
	if (atomic_load_explicit(&c.state, memory_order_relaxed) != 1)
		return false;
	memset(out, 0, sizeof(*out));
	out->fd = c.fd;
	out->side = c.side;
	if (hl_proto_addr_valid(&c.local))
		hl_proto_addr_format(&c.local, out->local, sizeof(out->local));
	if (hl_proto_addr_valid(&c.peer))
		hl_proto_addr_format(&c.peer, out->peer, sizeof(out->peer));
	out->local_port = c.local_port;
	out->peer_port = c.peer_port;
	out->tx_bytes = atomic_load_explicit(&c.tx_bytes, memory_order_relaxed);
	out->rx_bytes = atomic_load_explicit(&c.rx_bytes, memory_order_relaxed);
	out->tx_calls = atomic_load_explicit(&c.tx_calls, memory_order_relaxed);
	out->rx_calls = atomic_load_explicit(&c.rx_calls, memory_order_relaxed);
	out->wakeups = atomic_load_explicit(&c.wakeups, memory_order_relaxed);
	return true;
}

void mon_stats_read(const struct hl_stats_hdr *h, pid_t pid, hl_mon_proc_cb pcb,
		    hl_mon_conn_cb ccb, void *arg)
{
	const struct hl_stats_conn *recs;
	struct hl_mon_proc_info p = { .pid = pid };
	struct hl_stats_proc s;

	/* Sizes are ours (the pod could rewrite the header). */
	memcpy(&s, (const void *)&h->proc, sizeof(s));
	p.conns = atomic_load_explicit(&s.conns, memory_order_relaxed);
	p.fallbacks = atomic_load_explicit(&s.fallbacks, memory_order_relaxed);
	p.tx_bytes = atomic_load_explicit(&s.tx_bytes, memory_order_relaxed);
	p.rx_bytes = atomic_load_explicit(&s.rx_bytes, memory_order_relaxed);
	p.tx_calls = atomic_load_explicit(&s.tx_calls, memory_order_relaxed);
	p.rx_calls = atomic_load_explicit(&s.rx_calls, memory_order_relaxed);
	p.wakeups = atomic_load_explicit(&s.wakeups, memory_order_relaxed);
	p.ctl_calls = atomic_load_explicit(&s.ctl_calls, memory_order_relaxed);
	p.direct = atomic_load_explicit(&s.direct, memory_order_relaxed);
	recs = (const struct hl_stats_conn *)((const char *)h + HL_STATS_HDR);
	for (unsigned i = 0; i < HL_STATS_RECS; i++)
		p.open += atomic_load_explicit(&recs[i].state, memory_order_relaxed) == 1;
	pcb(arg, &p);
	for (unsigned i = 0; i < HL_STATS_RECS && ccb; i++) {
		struct hl_mon_conn_info ci;

		if (stats_conn_read(&recs[i], &ci))
			ccb(arg, &ci);
	}
}

void hl_mon_pod_walk_stats(const struct hl_mon_pod *ep, hl_mon_proc_cb pcb, hl_mon_conn_cb ccb,
			   void *arg)
{
	for (const struct mon_client *c = ep->clients; c; c = c->next)
		if (c->stats)
			mon_stats_read(c->stats, c->pid, pcb, ccb, arg);
}
