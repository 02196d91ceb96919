/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hostlane-vswitch: an L2 switch between vhost-user ports, on DPDK's vhost
 * library. One forwarding lcore (the EAL main lcore) owns all switch state:
 * the port table, the MAC table and the counters. Everyone else (the control
 * thread, the vhost library's event thread) changes that state only by
 * posting a command to a one-slot mailbox that the forwarding loop runs
 * between bursts, so the fast path takes no locks and a port can come and go
 * without disturbing the others. Process start-up, options, signals and the
 * pid file are in vsw_main.c.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_ether.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_vhost.h>

#include "vsw_main.h"
#include "vsw_sw.h"

static struct sw g_sw;
static atomic_int g_quit;

void vsw_stop(void)
{
	atomic_store(&g_quit, 1);  /* lock-free: safe in a signal handler */
}

/* ---- commands: run on the forwarding lcore ------------------------------ */

static int find_name(const struct sw *sw, const char *name)
{
	for (int i = 0; i < MAX_PORTS; i++) {
		if (sw->ports[i].used && !strcmp(sw->ports[i].name, name))
			return i;
	}
	return -1;
}

static int find_path(const struct sw *sw, const char *path)
{
	for (int i = 0; i < MAX_PORTS; i++) {
		if (sw->ports[i].used && !strcmp(sw->ports[i].path, path))
			return i;
	}
	return -1;
}

static void rebuild_up(struct sw *sw)
{
	sw->nup = 0;
	for (int i = 0; i < MAX_PORTS; i++) {
		if (sw->ports[i].used && sw->ports[i].vid >= 0)
			sw->up[sw->nup++] = i;
	}
}

static int cmd_add(struct sw *sw, struct cmd *c)
{
	if (find_name(sw, c->name) >= 0 || find_path(sw, c->path) >= 0)
		return -EEXIST;
	for (int i = 0; i < MAX_PORTS; i++) {
		struct port *p = &sw->ports[i];
		if (p->used)
			continue;
		memset(p, 0, sizeof(*p));
		p->used = 1;
		p->vid = -1;
		p->mode = c->mode;
		memcpy(p->name, c->name, sizeof(p->name));
		memcpy(p->path, c->path, sizeof(p->path));
		return 0;
	}
	return -ENOSPC;
}

static int cmd_del(struct sw *sw, struct cmd *c)
{
	int i = find_name(sw, c->name);

	if (i < 0)
		return -ENOENT;
	memcpy(c->path, sw->ports[i].path, sizeof(c->path));
	sw->ports[i].used = 0;
	sw->ports[i].vid = -1;
	vsw_mac_flush_port(sw->macs, i);
	rebuild_up(sw);
	return 0;
}

static int cmd_up(struct sw *sw, struct cmd *c)
{
	int i = find_path(sw, c->path);

	if (i < 0)
		return -ENOENT; /* deleted meanwhile */
	sw->ports[i].vid = c->vid;
	rebuild_up(sw);
	return 0;
}

static int cmd_down(struct sw *sw, struct cmd *c)
{
	for (int i = 0; i < MAX_PORTS; i++) {
		if (sw->ports[i].used && sw->ports[i].vid == c->vid) {
			sw->ports[i].vid = -1;
			vsw_mac_flush_port(sw->macs, i);
		}
	}
	rebuild_up(sw);
	return 0;
}

static int cmd_list(struct sw *sw, struct cmd *c)
{
	struct hl_vsw_port_stats *out = c->out;

	c->n = 0;
	for (int i = 0; i < MAX_PORTS && c->n < c->cap; i++) {
		const struct port *p = &sw->ports[i];
		struct hl_vsw_port_stats *o = &out[c->n];
		if (!p->used)
			continue;
		memset(o, 0, sizeof(*o));
		memcpy(o->name, p->name, sizeof(o->name));
		memcpy(o->path, p->path, sizeof(o->path));
		o->mode = p->mode;
		o->up = p->vid >= 0;
		o->rx_packets = p->st.rx_packets;
		o->rx_bytes = p->st.rx_bytes;
		o->tx_packets = p->st.tx_packets;
		o->tx_bytes = p->st.tx_bytes;
		o->rx_drops = p->st.rx_drops;
		o->tx_drops = p->st.tx_drops;
		c->n++;
	}
	return 0;
}

struct mac_walk {
	struct sw *sw;
	struct cmd *c;
	uint64_t now;
};

static int mac_one(void *arg, uint64_t mac, int port, uint64_t seen)
{
	struct mac_walk *w = arg;
	struct hl_vsw_mac *o = (struct hl_vsw_mac *)w->c->out + w->c->n;

	if (w->c->n == w->c->cap)
		return 1;
	if (port < 0 || port >= MAX_PORTS || !w->sw->ports[port].used)
		return 0;
	memset(o, 0, sizeof(*o));
	vsw_mac_bytes(mac, o->addr);
	memcpy(o->port, w->sw->ports[port].name, sizeof(o->port));
	o->age_ms = (w->now - seen) * 1000 / w->sw->hz;
	w->c->n++;
	return 0;
}

static int cmd_macs(struct sw *sw, struct cmd *c)
{
	struct mac_walk w = { sw, c, rte_rdtsc() };

	c->n = 0;
	vsw_mac_walk(sw->macs, w.now, mac_one, &w);
	return 0;
}

static void run_cmd(struct sw *sw, struct cmd *c)
{
	static int (*const fn[])(struct sw *, struct cmd *) = {
		[CMD_ADD] = cmd_add, [CMD_DEL] = cmd_del, [CMD_UP] = cmd_up,
		[CMD_DOWN] = cmd_down, [CMD_LIST] = cmd_list,
		[CMD_MACS] = cmd_macs,
	};

	c->result = fn[c->op](sw, c);
	/* Pairs with the acquire load in post(). */
	atomic_store_explicit(&c->done, 1, memory_order_release);
}

void vsw_poll_mailbox(struct sw *sw)
{
	/* Pairs with the release store in post(). */
	struct cmd *c = atomic_load_explicit(&sw->pending, memory_order_acquire);

	if (!c)
		return;
	atomic_store_explicit(&sw->pending, NULL, memory_order_relaxed);
	run_cmd(sw, c);
}

/* Runs @c on the forwarding lcore and waits for it; when the loop is not
 * running (start-up, shutdown) runs it here, still under post_lock. */
static int post(struct sw *sw, struct cmd *c)
{
	struct timespec ts = { 0, 20000 };

	atomic_init(&c->done, 0);
	pthread_mutex_lock(&sw->post_lock);
	if (!atomic_load(&sw->loop_running)) {
		run_cmd(sw, c);
	} else {
		/* Pairs with the acquire load in vsw_poll_mailbox(). */
		atomic_store_explicit(&sw->pending, c, memory_order_release);
		while (!atomic_load_explicit(&c->done, memory_order_acquire)) {
			if (!atomic_load(&sw->loop_running) &&
			    atomic_exchange(&sw->pending, NULL) == c)
				run_cmd(sw, c); /* loop ended under us */
			else
				nanosleep(&ts, NULL);
		}
	}
	pthread_mutex_unlock(&sw->post_lock);
	return c->result;
}

/* ---- vhost library callbacks (its event thread) ------------------------- */

static int on_new_device(int vid)
{
	struct cmd c = { .op = CMD_UP, .vid = vid };
	int rc;

	if (rte_vhost_get_ifname(vid, c.path, sizeof(c.path)) < 0)
		return -1;
	/* The pod polls; kicks would only cost syscalls. */
	rte_vhost_enable_guest_notification(vid, GUEST_RXQ, 0);
	rte_vhost_enable_guest_notification(vid, GUEST_TXQ, 0);
	rc = post(&g_sw, &c);
	fprintf(stderr, "vswitch: %s connected (vid %d)%s\n", c.path, vid,
		rc ? ", but the port is gone" : "");
	return 0;
}

/* Returns only once the forwarding lcore no longer touches @vid. */
static void on_destroy_device(int vid)
{
	struct cmd c = { .op = CMD_DOWN, .vid = vid };

	post(&g_sw, &c);
	fprintf(stderr, "vswitch: vid %d disconnected\n", vid);
}

static const struct rte_vhost_device_ops vhost_ops = {
	.new_device = on_new_device,
	.destroy_device = on_destroy_device,
};

/* ---- control requests (control thread) ---------------------------------- */

static int vhost_attach(const char *path, enum hl_vsw_mode mode)
{
	uint64_t flags = mode == HL_VSW_SWITCH_CLIENT ? RTE_VHOST_USER_CLIENT : 0;

	if (rte_vhost_driver_register(path, flags) < 0)
		return -EIO;
	if (rte_vhost_driver_callback_register(path, &vhost_ops) < 0 ||
	    rte_vhost_driver_start(path) < 0) {
		rte_vhost_driver_unregister(path);
		return -EIO;
	}
	return 0;
}

static void vhost_detach(const char *path)
{
	struct timespec ts = { 0, 1000000 };

	/* -1 while a callback of this socket is running: try again. */
	for (int i = 0; i < 5000 && rte_vhost_driver_unregister(path) < 0; i++)
		nanosleep(&ts, NULL);
}

static int req_add(struct sw *sw, const struct vsw_req *r)
{
	struct cmd c = { .op = CMD_ADD, .mode = r->mode };
	int rc;

	memcpy(c.name, r->name, sizeof(c.name));
	memcpy(c.path, r->path, sizeof(c.path));
	rc = post(sw, &c);
	if (rc < 0)
		return rc;
	rc = vhost_attach(r->path, r->mode);
	if (rc < 0) {
		struct cmd d = { .op = CMD_DEL };
		memcpy(d.name, r->name, sizeof(d.name));
		post(sw, &d);
	}
	return rc;
}

static int req_del(struct sw *sw, const struct vsw_req *r)
{
	struct cmd c = { .op = CMD_DEL };
	int rc;

	memcpy(c.name, r->name, sizeof(c.name));
	rc = post(sw, &c);
	if (rc == 0)
		vhost_detach(c.path); /* the forwarding loop already let go */
	return rc;
}

static int req_list(struct sw *sw, struct vsw_out *out)
{
	struct hl_vsw_port_stats st[MAX_PORTS];
	struct cmd c = { .op = CMD_LIST, .out = st, .cap = MAX_PORTS };
	char line[VSW_LINE_MAX];
	int rc = post(sw, &c);

	for (size_t i = 0; rc == 0 && i < c.n; i++) {
		rc = vsw_proto_format_port(&st[i], line, sizeof(line));
		if (rc >= 0)
			rc = vsw_out_line(out, line);
	}
	return rc < 0 ? rc : 0;
}

static int req_macs(struct sw *sw, struct vsw_out *out)
{
	size_t cap = MAC_BUCKETS * VSW_MAC_WAYS;
	struct hl_vsw_mac *m = calloc(cap, sizeof(*m));
	struct cmd c = { .op = CMD_MACS, .out = m, .cap = cap };
	char line[VSW_LINE_MAX];
	int rc;

	if (!m)
		return -ENOMEM;
	rc = post(sw, &c);
	for (size_t i = 0; rc == 0 && i < c.n; i++) {
		rc = vsw_proto_format_mac(&m[i], line, sizeof(line));
		if (rc >= 0)
			rc = vsw_out_line(out, line);
	}
	free(m);
	return rc < 0 ? rc : 0;
}

/* Who we are, for a supervisor deciding whether to adopt us. */
static int req_info(struct sw *sw, struct vsw_out *out)
{
	struct hl_vsw_info in = { .pid = getpid(), .start_time = sw->opts->start_time };
	char line[VSW_LINE_MAX];
	int rc;

	memcpy(in.ctl, sw->opts->ctl, strlen(sw->opts->ctl) + 1);
	rc = vsw_proto_format_info(&in, line, sizeof(line));
	return rc < 0 ? rc : vsw_out_line(out, line);
}

static int handle_req(void *arg, const struct vsw_req *r, struct vsw_out *out)
{
	struct sw *sw = arg;

	switch (r->op) {
	case VSW_OP_PING: return 0;
	case VSW_OP_INFO: return req_info(sw, out);
	case VSW_OP_ADD: return req_add(sw, r);
	case VSW_OP_DEL: return req_del(sw, r);
	case VSW_OP_LIST: return req_list(sw, out);
	case VSW_OP_MACS: return req_macs(sw, out);
	}
	return -EINVAL;
}

/* ---- life --------------------------------------------------------------- */

static void detach_all(struct sw *sw)
{
	for (int i = 0; i < MAX_PORTS; i++) {
		struct cmd c = { .op = CMD_DEL };
		if (!sw->ports[i].used)
			continue;
		memcpy(c.name, sw->ports[i].name, sizeof(c.name));
		if (post(sw, &c) == 0)
			vhost_detach(c.path);
	}
}

static int run(struct sw *sw, const struct vsw_opts *o)
{
	struct vsw_ctl *ctl;

	sw->opts = o;
	sw->hz = rte_get_tsc_hz();
	sw->idle_max_us = o->idle_max_us;
	sw->macs = vsw_mac_create(MAC_BUCKETS, (uint64_t)o->mac_age_s * sw->hz);
	sw->pool = rte_pktmbuf_pool_create("vsw_mbufs", o->mbufs, 256, 0,
					   RTE_MBUF_DEFAULT_BUF_SIZE,
					   (int)rte_socket_id());
	if (!sw->macs || !sw->pool) {
		fprintf(stderr, "vswitch: cannot allocate MAC table/mbufs: %s\n",
			rte_strerror(rte_errno));
		return 1;
	}
	/* Mailbox posts may begin as soon as the control socket exists. */
	atomic_store(&sw->loop_running, 1);
	ctl = vsw_ctl_start(o->ctl, handle_req, sw);
	if (!ctl) {
		fprintf(stderr, "vswitch: control socket %s: %s\n", o->ctl,
			strerror(errno));
		atomic_store(&sw->loop_running, 0);
		return 1;
	}
	fprintf(stderr, "vswitch: pid %d, lcore %u, control %s\n", (int)getpid(),
		rte_lcore_id(), o->ctl);
	vsw_fwd_loop(sw, &g_quit);
	atomic_store(&sw->loop_running, 0);
	/* Control socket first: a supervisor that finds it gone knows we are
	 * on our way out and adopts nothing. */
	vsw_ctl_stop(ctl);
	detach_all(sw);
	return 0;
}

int vsw_run(const struct vsw_opts *o)
{
	int rc;

	pthread_mutex_init(&g_sw.post_lock, NULL);
	rc = run(&g_sw, o);
	vsw_mac_free(g_sw.macs);
	rte_mempool_free(g_sw.pool);
	pthread_mutex_destroy(&g_sw.post_lock);
	return rc;
}
