/* SPDX-License-Identifier: Apache-2.0 */
/*
 * NetworkPolicy admission in the monitor: the table the agent sets, the
 * check at every CONNECT, who may have direct regions, and turning direct
 * connections off where a new table isolates a pod (docs/monitor.md).
 */
#include "mon_private.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "hl_policy.h"

/* The namespace and name of pod key "<ns>/<name>" into @ns and @name;
 * false for a key without them (a pod known by container id only). */
static bool split_key(const char *key, char *ns, size_t nslen, const char **name)
{
	const char *slash = strchr(key, '/');

	if (!slash || slash == key || !slash[1] || (size_t)(slash - key) >= nslen)
		return false;
	memcpy(ns, key, (size_t)(slash - key));
	ns[slash - key] = 0;
	*name = slash + 1;
	return true;
}

static struct hl_pol_addr pol_addr(const struct hl_proto_addr *a)
{
	struct hl_pol_addr p = { .family = a->family };

	memcpy(p.a, a->addr, sizeof(p.a));
	return p;
}

int mon_admit(struct hl_monitor *n, const struct hl_mon_pod *src, const struct hl_mon_pod *dst,
	      const struct hl_proto_addr *src_ip, const struct hl_proto_addr *dst_ip,
	      uint16_t port, const char **why)
{
	char sns[HL_PROTO_KEY_MAX], dns[HL_PROTO_KEY_MAX];
	const char *sname, *dname;
	struct hl_pol_addr sa, da;
	enum hl_pol_verdict v;

	if (!n->pol_enforce)
		return 0;
	if (!n->pol) {
		v = HL_POL_UNKNOWN;
	} else if (!split_key(src->key, sns, sizeof(sns), &sname) ||
		   !split_key(dst->key, dns, sizeof(dns), &dname)) {
		v = HL_POL_UNKNOWN;
	} else {
		sa = pol_addr(src_ip);
		da = pol_addr(dst_ip);
		v = hl_pol_admit(n->pol, sns, sname, &sa, dns, dname, &da, port);
	}
	if (v == HL_POL_ADMIT) {
		n->pol_admitted++;
		return 0;
	}
	n->pol_denied++;
	*why = !n->pol ? "NetworkPolicies not synced yet" : hl_pol_verdict_name(v);
	return -EACCES;
}

void mon_admit_ports(struct hl_monitor *n, const struct hl_mon_pod *src,
		     const struct hl_mon_pod *dst, uint64_t *bits)
{
	static uint64_t one[HL_POL_PORT_WORDS];
	char sns[HL_PROTO_KEY_MAX], dns[HL_PROTO_KEY_MAX];
	const char *sname, *dname;

	_Static_assert(HL_POL_PORT_WORDS == HL_GRANT_WORDS, "a grant is a port bitmap");
	if (!n->pol_enforce || src == dst) {
		/* No check, or inside one pod (loopback): every port. */
		memset(bits, 0xff, HL_GRANT_WORDS * sizeof(*bits));
		bits[0] &= ~UINT64_C(1);
		return;
	}
	memset(bits, 0, HL_GRANT_WORDS * sizeof(*bits));
	if (!n->pol || !split_key(src->key, sns, sizeof(sns), &sname) ||
	    !split_key(dst->key, dns, sizeof(dns), &dname))
		return;
	/* The direct path may reach the listener at any address of its pod
	 * (an egress ipBlock can tell them apart): a port is granted only if
	 * admitted at every one, the source as mon_admit() sees it. */
	for (size_t i = 0; i < dst->n_ips; i++) {
		struct hl_proto_addr s = mon_peer_addr(src, &dst->ips[i]);
		struct hl_pol_addr sa = pol_addr(&s), da = pol_addr(&dst->ips[i]);

		if (hl_pol_admit_ports(n->pol, sns, sname, &sa, dns, dname, &da, one)) {
			memset(bits, 0, HL_GRANT_WORDS * sizeof(*bits));
			return;
		}
		for (size_t w = 0; w < HL_GRANT_WORDS; w++)
			bits[w] = i ? bits[w] & one[w] : one[w];
	}
}

bool mon_direct_allowed(const struct hl_monitor *n, const struct hl_mon_pod *c,
			const struct hl_mon_pod *l)
{
	/* A direct region without a grant lets the connector reach every port
	 * the listener process listens on without asking, and its revocation
	 * (`off`) is in memory both pods write: a hostile connector speaking
	 * an older version could clear it and keep announcing after a policy
	 * isolated the listener. So: only while no policy is enforced. */
	(void)c;
	(void)l;
	return !n->pol_enforce;
}

/* After a new table: grants rewritten (their listeners refuse what it
 * denies); regions without one turned off where it no longer allows them,
 * so their connectors ask the monitor again, which checks. */
static void police(struct hl_monitor *n)
{
	mon_grants_write(n);
	for (struct mon_region *g = n->regions; g; g = g->next) {
		const struct mon_client *c = g->holder[0], *l = g->holder[1];

		if (!g->blk || g->grant || !c || !l || shmq_region_faulted(g->r) ||
		    atomic_load_explicit(&g->blk->off, memory_order_relaxed))
			continue;
		if (!mon_direct_allowed(n, c->ep, l->ep)) {
			atomic_store(&g->blk->off, 1);
			n->pol_direct_off++;
		}
	}
}

void hl_mon_policy_enforce(struct hl_monitor *n, bool on)
{
	n->pol_enforce = on;
	police(n);
	mon_cp_sync(n, true);
}

void hl_mon_policy_set(struct hl_monitor *n, struct hl_pol_table *t)
{
	hl_pol_table_free(n->pol);
	n->pol = t;
	n->pol_generation++;
	police(n);
	mon_cp_sync(n, true);
	mon_log(n, LOG_INFO, "NetworkPolicy: %s (%zu policies)", t ? "table set" : "table dropped",
		hl_pol_table_policies(t));
}

void hl_mon_policy_get_stats(const struct hl_monitor *n, struct hl_mon_policy_stats *s)
{
	memset(s, 0, sizeof(*s));
	s->enforce = n->pol_enforce;
	s->synced = n->pol != NULL;
	s->policies = hl_pol_table_policies(n->pol);
	s->generation = n->pol_generation;
	s->admitted = n->pol_admitted;
	s->denied = n->pol_denied;
	s->direct_off = n->pol_direct_off;
}

void mon_policy_free(struct hl_monitor *n)
{
	hl_pol_table_free(n->pol);
	n->pol = NULL;
}
