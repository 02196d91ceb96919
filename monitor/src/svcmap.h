/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Service map: ClusterIP:port -> the endpoints of that Service port,
 * and the choice of one for a new connection the way kube-proxy makes it
 * (svcmap.c). Independent of the rest of the monitor, so the unit tests
 * drive it alone; the monitor owns one (hl_mon_set_services()).
 */
#ifndef HOSTLANE_MON_SVCMAP_H
#define HOSTLANE_MON_SVCMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hostlane_proto.h"
#include "monitor.h"

/* Sessions kept per Service port for sessionAffinity ClientIP; the least
 * recently used one goes when it is full (kube-proxy's "recent" table is
 * bounded too). */
#define MON_SVC_AFFINITY_MAX 1024u

struct mon_svc_ep {
	struct hl_proto_addr addr;
	uint16_t port;
	bool ready, serving, terminating, local;
};

struct mon_affinity {
	struct hl_proto_addr client;
	struct hl_proto_addr ep;
	uint16_t ep_port;
	uint64_t last_ms;
};

struct mon_svc {
	struct hl_proto_addr vip;
	uint16_t port;
	char name[HL_MON_SVC_NAME_MAX];
	enum hl_mon_svc_topology topology;
	bool affinity;
	uint32_t affinity_timeout_s;
	struct mon_svc_ep *eps;
	size_t n_eps;
	struct mon_affinity *aff;     /* MON_SVC_AFFINITY_MAX, or NULL */
	size_t n_aff;
};

struct hl_mon_svcmap {
	struct mon_svc **slots;       /* open addressing on (vip, port) */
	size_t n_slots, n;
	uint64_t rnd;                 /* xorshift64 state */
};

/* The outcome of mon_svc_pick(). */
enum mon_svc_res {
	MON_SVC_NONE,     /* not a Service address: the destination as it is */
	MON_SVC_PICKED,   /* *@ep, *@port: the endpoint chosen */
	MON_SVC_EMPTY,    /* a Service, but no endpoint it may use now */
};

/*
 * Chooses the endpoint of Service @vip:@port for a connection from
 * @client at @now_ms, as kube-proxy does: the ready endpoints (none ready:
 * the serving terminating ones); with topology LOCAL only this node's, with
 * PREFER_LOCAL this node's when it has any; uniformly at random; a client
 * with a live ClientIP session keeps its endpoint. *@svc gets the Service
 * (NULL with MON_SVC_NONE).
 */
enum mon_svc_res mon_svc_pick(struct hl_mon_svcmap *m, const struct hl_proto_addr *vip,
			      uint16_t port, const struct hl_proto_addr *client, uint64_t now_ms,
			      struct hl_proto_addr *ep, uint16_t *ep_port, const struct mon_svc **svc);

/* The Service at @vip:@port, or NULL. */
const struct mon_svc *mon_svc_find(const struct hl_mon_svcmap *m, const struct hl_proto_addr *vip,
				   uint16_t port);

/* Moves the ClientIP sessions of @old's Services into the same Services
 * (same vip and port) of @m, so a new map does not re-balance clients. */
void mon_svc_carry_affinity(struct hl_mon_svcmap *m, struct hl_mon_svcmap *old);

/* Seeds the map's random choices (tests: a fixed seed). */
void mon_svc_seed(struct hl_mon_svcmap *m, uint64_t seed);

#endif
