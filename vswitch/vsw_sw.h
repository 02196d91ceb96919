/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vsw_sw.h — the switch's state, private to the switch process: the port
 * table, the command mailbox and the forwarding loop's view of them
 * (vswitch.c owns the state and the mailbox, vsw_fwd.c the loop).
 */
#ifndef VSW_SW_H
#define VSW_SW_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include <rte_mbuf.h>

#include "vsw_ctl.h"
#include "vsw_mac.h"

#define MAX_PORTS 64
#define BURST 32
#define GUEST_RXQ 0        /* vring the switch enqueues into (pod's rx) */
#define GUEST_TXQ 1        /* vring the switch dequeues from (pod's tx) */
#define IDLE_SPINS 1024    /* empty polls before the first sleep */
#define MAC_BUCKETS 1024   /* x 4 ways */

struct port_stats {
	uint64_t rx_packets, rx_bytes, tx_packets, tx_bytes, rx_drops, tx_drops;
};

struct port {
	int used;
	int vid;           /* -1: no virtio-user peer connected */
	char name[HL_VSW_NAME_MAX];
	char path[HL_VSW_PATH_MAX];
	enum hl_vsw_mode mode;
	struct port_stats st;
	uint16_t txn;      /* frames queued in txq this burst */
	struct rte_mbuf *txq[BURST];
};

enum cmd_op { CMD_ADD, CMD_DEL, CMD_UP, CMD_DOWN, CMD_LIST, CMD_MACS };

struct cmd {
	enum cmd_op op;
	char name[HL_VSW_NAME_MAX];
	char path[HL_VSW_PATH_MAX];
	enum hl_vsw_mode mode;
	int vid;
	void *out;          /* CMD_LIST/CMD_MACS results */
	size_t cap, n;
	int result;
	atomic_int done;    /* release by the runner, acquire by the poster */
};

struct sw {
	struct port ports[MAX_PORTS];
	int up[MAX_PORTS];          /* slots with a peer, forwarding order */
	int nup;
	struct vsw_mac_table *macs;
	struct rte_mempool *pool;
	uint64_t hz;
	unsigned idle_max_us;

	const struct vsw_opts *opts;
	pthread_mutex_t post_lock;  /* one poster at a time */
	_Atomic(struct cmd *) pending;
	atomic_int loop_running;
};

/* Runs the command posted to the mailbox, if any (forwarding lcore only). */
void vsw_poll_mailbox(struct sw *sw);

/* The forwarding loop: polls every port with a peer and the mailbox until
 * *quit is set; backs off to sleeping (up to sw->idle_max_us) when idle.
 * Returns 0. */
int vsw_fwd_loop(struct sw *sw, const atomic_int *quit);

#endif
