/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The switch's forwarding loop: dequeue a burst from each port with a peer,
 * learn and look up MACs, queue per destination, enqueue each destination's
 * frames in one burst; between bursts the mailbox (vswitch.c). It runs on
 * the EAL main lcore and is the only writer of the switch state.
 */
#include <time.h>

#include <rte_cycles.h>
#include <rte_ether.h>
#include <rte_vhost.h>

#include "vsw_sw.h"

/* ---- the forwarding loop ------------------------------------------------ */

static inline void txq_add(struct sw *sw, int d, struct rte_mbuf *m,
			   int *dirty, int *ndirty)
{
	struct port *p = &sw->ports[d];

	if (p->txn == 0)
		dirty[(*ndirty)++] = d;
	p->txq[p->txn++] = m;
}

static void flush(struct sw *sw, const int *dirty, int ndirty)
{
	for (int k = 0; k < ndirty; k++) {
		struct port *p = &sw->ports[dirty[k]];
		/* The vhost library copies into the pod's buffers; the mbufs
		 * stay ours, so a flooded frame needs no clone or refcount. */
		uint16_t sent = rte_vhost_enqueue_burst(p->vid, GUEST_RXQ,
							p->txq, p->txn);

		for (uint16_t i = 0; i < sent; i++)
			p->st.tx_bytes += rte_pktmbuf_pkt_len(p->txq[i]);
		p->st.tx_packets += sent;
		p->st.tx_drops += p->txn - sent;
		p->txn = 0;
	}
}

static void switch_one(struct sw *sw, int s, struct rte_mbuf *m, uint64_t now,
		       int *dirty, int *ndirty)
{
	struct port *src = &sw->ports[s];
	const struct rte_ether_hdr *eth;
	int d;

	src->st.rx_bytes += rte_pktmbuf_pkt_len(m);
	if (rte_pktmbuf_data_len(m) < sizeof(*eth)) {
		src->st.rx_drops++;
		return;
	}
	eth = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	vsw_mac_learn(sw->macs, eth->src_addr.addr_bytes, s, now);
	d = vsw_mac_lookup(sw->macs, eth->dst_addr.addr_bytes, now);
	if (d == s) {
		src->st.rx_drops++; /* its owner sits behind the same port */
		return;
	}
	if (d >= 0 && sw->ports[d].vid >= 0) {
		txq_add(sw, d, m, dirty, ndirty);
		return;
	}
	for (int k = 0; k < sw->nup; k++) {
		if (sw->up[k] != s)
			txq_add(sw, sw->up[k], m, dirty, ndirty);
	}
}

static uint16_t poll_port(struct sw *sw, int s, uint64_t now)
{
	struct rte_mbuf *pkts[BURST];
	int dirty[MAX_PORTS], ndirty = 0;
	uint16_t n = rte_vhost_dequeue_burst(sw->ports[s].vid, GUEST_TXQ,
					     sw->pool, pkts, BURST);

	if (!n)
		return 0;
	sw->ports[s].st.rx_packets += n;
	for (uint16_t i = 0; i < n; i++)
		switch_one(sw, s, pkts[i], now, dirty, &ndirty);
	flush(sw, dirty, ndirty);
	rte_pktmbuf_free_bulk(pkts, n);
	return n;
}

static void idle_sleep(unsigned us)
{
	struct timespec ts = { 0, (long)us * 1000 };

	nanosleep(&ts, NULL);
}

int vsw_fwd_loop(struct sw *sw, const atomic_int *quit)
{
	unsigned idle = 0, sleep_us = 0;

	while (!atomic_load_explicit(quit, memory_order_relaxed)) {
		uint64_t now = rte_rdtsc();
		unsigned total = 0;

		vsw_poll_mailbox(sw);
		for (int k = 0; k < sw->nup; k++)
			total += poll_port(sw, sw->up[k], now);
		if (total) {
			idle = 0;
			sleep_us = 0;
		} else if (++idle > IDLE_SPINS && sw->idle_max_us) {
			/* Rizzo: poll while busy, back off to sleeping when
			 * idle; the first frame brings back full polling. */
			sleep_us = sleep_us ? sleep_us * 2 : 1;
			if (sleep_us > sw->idle_max_us)
				sleep_us = sw->idle_max_us;
			idle_sleep(sleep_us);
		}
	}
	return 0;
}
