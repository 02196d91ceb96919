/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Service leases: the candidate endpoints of a Service ClusterIP:port the
 * monitor sent with a redirect (pod-protocol.md), kept for their short
 * lifetime so that later connects to the ClusterIP choose an endpoint here,
 * uniformly as kube-proxy does, without a round trip to the monitor. A
 * hostlane endpoint is connected to like its pod IP (checked there as any
 * connection is); any other choice is connected to by the kernel socket.
 * What the monitor sent is bounded by the codec; nothing here outlives the
 * lease.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "hl_codec.h"
#include "pl_private.h"

#define LEASES 32u

struct lease {
	struct hl_proto_addr vip;
	uint16_t port;
	int64_t until_ns;
	uint32_t n;
	struct hl_proto_svc_ep eps[HL_PROTO_REDIRECT_EPS];
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct lease leases[LEASES];
static atomic_uint n_live;     /* leases ever taken: 0 keeps connect() cheap */
static uint64_t rnd = 0x9e3779b97f4a7c15ull;

static struct lease *find(const struct hl_proto_addr *vip, uint16_t port)
{
	for (unsigned i = 0; i < LEASES; i++)
		if (leases[i].port == port && hl_proto_addr_eq(&leases[i].vip, vip))
			return &leases[i];
	return NULL;
}

void pl_svc_learn(const struct hl_proto_addr *vip, uint16_t port, const struct hl_proto_redirect *r)
{
	int64_t now = pl_now_ns();
	struct lease *l;

	if (!r->ttl_ms || !r->n_eps || r->n_eps > HL_PROTO_REDIRECT_EPS)
		return;
	pthread_mutex_lock(&lock);
	l = find(vip, port);
	/* Else the slot that expired first (a free one has until_ns 0). */
	for (unsigned i = 0; !l && i < LEASES; i++)
		if (leases[i].until_ns <= now)
			l = &leases[i];
	if (l) {
		l->vip = *vip;
		l->port = port;
		l->n = r->n_eps;
		memcpy(l->eps, r->eps, r->n_eps * sizeof(l->eps[0]));
		l->until_ns = now + (int64_t)r->ttl_ms * 1000000;
		atomic_store_explicit(&n_live, 1, memory_order_relaxed);
	}
	pthread_mutex_unlock(&lock);
}

int pl_svc_choose(const struct hl_proto_addr *vip, uint16_t port, struct hl_proto_addr *ep,
		  uint16_t *ep_port)
{
	struct lease *l;
	int rc = -1;

	if (!atomic_load_explicit(&n_live, memory_order_relaxed))
		return -1;
	pthread_mutex_lock(&lock);
	l = find(vip, port);
	if (l && l->until_ns > pl_now_ns()) {
		const struct hl_proto_svc_ep *e;

		/* xorshift64: the spread needs uniformity, not secrecy. */
		rnd ^= rnd << 13;
		rnd ^= rnd >> 7;
		rnd ^= rnd << 17;
		e = &l->eps[rnd % l->n];
		rc = e->hostlane;
		*ep = e->addr;
		*ep_port = e->port;
	}
	pthread_mutex_unlock(&lock);
	return rc;
}
