/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The monitor's Service map (svcmap.c holds the table and the choice):
 * replaced whole by the agent, read by CONNECT (connect.c), reported in
 * counters and by name for `hostlanectl conns`.
 */
#include "mon_private.h"
#include "svcmap.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "hl_codec.h"

void hl_mon_set_services(struct hl_monitor *n, struct hl_mon_svcmap *m)
{
	struct hl_mon_svcmap *old;

	if (!n) {
		hl_mon_svcmap_free(m);
		return;
	}
	old = n->svcs;
	mon_svc_carry_affinity(m, old);
	n->svcs = m;
	hl_mon_svcmap_free(old);
	mon_log(n, LOG_DEBUG, "service map: %zu service ports", hl_mon_svcmap_count(m));
	mon_cp_sync(n, false);
}

void hl_mon_get_svc_stats(const struct hl_monitor *n, struct hl_mon_svc_stats *st)
{
	*st = n->svc_st;
	st->services = hl_mon_svcmap_count(n->svcs);
}

const char *hl_mon_svc_name(const struct hl_monitor *n, const char *vip, uint16_t port)
{
	struct hl_proto_addr a;
	const struct mon_svc *s;

	if (!n || !vip || hl_proto_addr_parse(vip, &a))
		return NULL;
	s = mon_svc_find(n->svcs, &a, port);
	return s ? s->name : NULL;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static bool loopback(const struct hl_proto_addr *a)
{
	static const uint8_t lo6[16] = { [15] = 1 };

	return (a->family == 4 && a->addr[0] == 127) ||
	       (a->family == 6 && !memcmp(a->addr, lo6, sizeof(lo6)));
}

/* The connector's address as the listener sees it: its pod's first of the
 * family (kube-proxy keeps the client's source address). */
static struct hl_proto_addr client_addr(const struct hl_mon_pod *ep, uint8_t family)
{
	for (size_t i = 0; i < ep->n_ips; i++)
		if (ep->ips[i].family == family)
			return ep->ips[i];
	return ep->n_ips ? ep->ips[0] : (struct hl_proto_addr){ .family = family };
}

int mon_resolve(struct mon_client *c, const struct hl_proto_addr *addr, uint16_t port,
		struct mon_target *t, struct hl_proto_msg *rep)
{
	struct hl_monitor *n = c->ep->node;
	struct hl_proto_addr client;
	char ip[64] = "?";

	memset(t, 0, sizeof(*t));
	t->addr = *addr;
	t->port = port;
	hl_proto_addr_format(addr, ip, sizeof(ip));
	if (loopback(addr)) {
		/* The kernel answers from 127.0.0.1 (::1) on loopback. */
		t->pod = c->ep;
		t->loopback = true;
		t->addr_from.family = addr->family;
		if (addr->family == 4) {
			t->addr_from.addr[0] = 127;
			t->addr_from.addr[3] = 1;
		} else {
			t->addr_from.addr[15] = 1;
		}
		return 0;
	}
	t->pod = mon_pod_by_addr(n, addr);
	if (t->pod)
		return 0;
	client = client_addr(c->ep, addr->family);
	switch (mon_svc_pick(n->svcs, addr, port, &client, now_ms(), &t->addr, &t->port, &t->svc)) {
	case MON_SVC_NONE:
		mon_set_error(rep, -EHOSTUNREACH, "no hostlane pod on this node has %s", ip);
		return -EHOSTUNREACH;
	case MON_SVC_EMPTY:
		n->svc_st.no_endpoint++;
		mon_set_error(rep, -EHOSTUNREACH, "service %s has no endpoint to use here", t->svc->name);
		return -EHOSTUNREACH;
	case MON_SVC_PICKED:
		break;
	}
	/* NULL: the endpoint is not a hostlane pod here (the caller decides). */
	t->pod = mon_pod_by_addr(n, &t->addr);
	return 0;
}

void mon_count(struct hl_monitor *n, const struct mon_target *t)
{
	if (t->svc)
		n->svc_st.fastpath++;
	else if (t->loopback)
		n->svc_st.loopback++;
}

/* How long a connector may choose among a Service's endpoints itself: well
 * within the second in which a not-ready endpoint must stop getting new
 * connections. */
#define LEASE_MS 250u

void mon_svc_redirect(struct hl_monitor *n, const struct mon_target *t, bool kernel,
		      struct hl_proto_msg *rep)
{
	struct hl_proto_redirect *r = &rep->u.redirect;
	const struct mon_svc *s = t->svc;
	size_t idx[HL_PROTO_REDIRECT_EPS], k;

	rep->hdr.status = 0;
	memset(&rep->u, 0, sizeof(rep->u));
	r->conn.flags = HL_CONN_F_REDIRECT;
	r->conn.peer = t->addr;
	r->conn.peer_port = t->port;
	r->kernel = kernel;
	/* Sessions need the client's history: those keep asking. */
	if (s->affinity || s->n_eps > HL_PROTO_REDIRECT_EPS)
		return;
	k = mon_svc_candidates(s, idx);
	for (size_t i = 0; i < k; i++) {
		const struct mon_svc_ep *e = &s->eps[idx[i]];
		struct hl_mon_pod *pod = mon_pod_by_addr(n, &e->addr);
		struct mon_listener *l = pod ? mon_listener_find(pod, e->port) : NULL;

		r->eps[i].addr = e->addr;
		r->eps[i].port = e->port;
		/* Only a hint: the connection to it is checked like any other. */
		r->eps[i].hostlane = l && mon_listener_reaches(l, &e->addr);
	}
	r->n_eps = (uint32_t)k;
	r->ttl_ms = k ? LEASE_MS : 0;
}
