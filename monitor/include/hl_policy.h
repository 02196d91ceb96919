/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hl_policy.h — the monitor's admission table: Kubernetes NetworkPolicies
 * (networking.k8s.io/v1) compiled for the node's fast-path pods, and the
 * verdict for a TCP connection between two of them (prefix hl_pol_).
 *
 * The model follows the API object closely, with its defaults applied by
 * whoever fills it in (node-agent/netpol decodes the JSON):
 *   - a policy selects the pods of its namespace its podSelector matches
 *     (an empty selector: all of them) and isolates them for ingress and/or
 *     egress (policyTypes);
 *   - a rule admits a peer if it matches one of its peers (none: any peer)
 *     on one of its ports (none: any port);
 *   - a peer is a pod selector (pods of the policy's namespace), a
 *     namespace selector (every pod of those namespaces), both (those pods
 *     of those namespaces), or an IP block minus its exceptions;
 *   - a pod no policy isolates in a direction is open in it; an isolated
 *     pod admits what the union of the rules of the policies isolating it
 *     admits.
 * A connection is admitted when the source's egress and the destination's
 * ingress both admit it (docs/monitor.md, "NetworkPolicy").
 *
 * Ownership: the table owns what is added to it. Build a table, call
 * hl_pol_table_compile(), then only read it (hl_pol_admit() is const and
 * may run in any thread while nothing modifies the table).
 */
#ifndef HOSTLANE_HL_POLICY_H
#define HOSTLANE_HL_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One requirement of a label selector. matchLabels k: v is k In (v). */
enum hl_pol_op {
	HL_POL_OP_IN,
	HL_POL_OP_NOT_IN,
	HL_POL_OP_EXISTS,
	HL_POL_OP_NOT_EXISTS,
};

struct hl_pol_req {
	char *key;
	enum hl_pol_op op;
	char **vals;              /* In, NotIn: at least one */
	size_t n_vals;
};

/* A label selector: its requirements ANDed; none matches everything. */
struct hl_pol_sel {
	struct hl_pol_req *req;
	size_t n_req;
};

/* An address: family 4 (first 4 bytes of a) or 6. */
struct hl_pol_addr {
	uint8_t family;
	uint8_t a[16];
};

struct hl_pol_cidr {
	struct hl_pol_addr net;
	uint8_t prefix;           /* <= 32 (v4) or 128 (v6) */
};

/* What a peer names (bits; IP excludes the other two). */
#define HL_POL_PEER_PODS 0x1u
#define HL_POL_PEER_NS   0x2u
#define HL_POL_PEER_IP   0x4u

struct hl_pol_peer {
	unsigned what;            /* HL_POL_PEER_* */
	struct hl_pol_sel pods;   /* with HL_POL_PEER_PODS */
	struct hl_pol_sel ns;     /* with HL_POL_PEER_NS */
	struct hl_pol_cidr cidr;  /* with HL_POL_PEER_IP */
	struct hl_pol_cidr *except;
	size_t n_except;
};

/* IANA protocol numbers the API's protocol names stand for. */
#define HL_POL_TCP  6
#define HL_POL_UDP  17
#define HL_POL_SCTP 132

/* A port of a rule: @name set (a container port's name, resolved against
 * the destination pod), or @port..@end_port (end_port 0: just @port), or
 * neither (every port of @proto). */
struct hl_pol_port {
	uint8_t proto;
	uint16_t port, end_port;
	char *name;
};

struct hl_pol_rule {
	struct hl_pol_peer *peers;   /* none: every peer */
	size_t n_peers;
	struct hl_pol_port *ports;   /* none: every port */
	size_t n_ports;
};

struct hl_pol_policy {
	char *ns, *name;
	struct hl_pol_sel pods;          /* spec.podSelector */
	bool ingress, egress;            /* spec.policyTypes (defaults applied) */
	struct hl_pol_rule *in, *out;    /* spec.ingress, spec.egress */
	size_t n_in, n_out;
};

/* A label: key and value. */
struct hl_pol_label {
	char *key, *val;
};

/* A named container port of a pod. */
struct hl_pol_named_port {
	char *name;
	uint8_t proto;
	uint16_t port;
};

#define HL_POL_MAX_IPS 8

/* A pod as the policies see it: its namespace, labels, IPs, named ports. */
struct hl_pol_pod {
	char *ns, *name;
	struct hl_pol_label *labels;
	size_t n_labels;
	struct hl_pol_addr ips[HL_POL_MAX_IPS];
	size_t n_ips;
	struct hl_pol_named_port *ports;
	size_t n_ports;
};

struct hl_pol_table;

/* Verdicts of hl_pol_admit(). */
enum hl_pol_verdict {
	HL_POL_ADMIT = 0,
	HL_POL_DENY_EGRESS,      /* the source's egress does not admit it */
	HL_POL_DENY_INGRESS,     /* the destination's ingress does not admit it */
	HL_POL_UNKNOWN,          /* a pod the table does not know: never admitted */
};

/**
 * hl_pol_table_new() - an empty table (no policy: everything admitted
 * between pods it knows).
 * Return: the table, or NULL with errno ENOMEM.
 */
struct hl_pol_table *hl_pol_table_new(void);

/** hl_pol_table_free() - frees @t and everything it owns. NULL is a no-op. */
void hl_pol_table_free(struct hl_pol_table *t);

/**
 * hl_pol_table_add_policy() - adds @p, which the table then owns (also on
 * failure: it is freed then).
 * Return: 0, -EINVAL (@p NULL or without namespace), -ENOMEM.
 */
int hl_pol_table_add_policy(struct hl_pol_table *t, struct hl_pol_policy *p);

/**
 * hl_pol_table_add_ns() - adds namespace @name with labels @labels, which
 * the table then owns (also on failure). The label
 * kubernetes.io/metadata.name the API server sets is implied.
 * Return: 0, -EINVAL, -EEXIST (named twice), -ENOMEM.
 */
int hl_pol_table_add_ns(struct hl_pol_table *t, char *name, struct hl_pol_label *labels,
			size_t n_labels);

/**
 * hl_pol_table_add_pod() - adds @p (its fields then owned by the table,
 * also on failure; @p itself is copied).
 * Return: 0, -EINVAL (no namespace or name), -EEXIST (the pod twice),
 * -ENOMEM.
 */
int hl_pol_table_add_pod(struct hl_pol_table *t, struct hl_pol_pod *p);

/**
 * hl_pol_table_compile() - works out, for every pod, the policies that
 * isolate it in each direction. Call after the last add and before
 * hl_pol_admit(); adds after it need another compile.
 * Return: 0 or -ENOMEM.
 */
int hl_pol_table_compile(struct hl_pol_table *t);

/**
 * hl_pol_admit() - the verdict for a TCP connection from pod @src_ns/@src
 * (at address @src_ip) to pod @dst_ns/@dst at @dst_ip, port @port (for a
 * Service: the endpoint pod chosen, its address and target port, as the
 * kernel path sees them after DNAT).
 * Return: HL_POL_ADMIT or why not.
 * Thread safety: reads @t only.
 */
enum hl_pol_verdict hl_pol_admit(const struct hl_pol_table *t, const char *src_ns,
				 const char *src, const struct hl_pol_addr *src_ip,
				 const char *dst_ns, const char *dst,
				 const struct hl_pol_addr *dst_ip, uint16_t port);

/* Words of a port bitmap: bit p (word p / 64, bit p % 64) for TCP port p. */
#define HL_POL_PORT_WORDS 1024u

/**
 * hl_pol_admit_ports() - the verdicts of hl_pol_admit() for every port at
 * once: sets bit p of @bits (HL_POL_PORT_WORDS words, overwritten) iff a
 * connection from @src_ns/@src at @src_ip to @dst_ns/@dst at @dst_ip,
 * port p, is admitted. Bit 0 is never set.
 * Return: 0, or -ENOENT (a pod the table does not know, no table compiled:
 * no bit set).
 * Thread safety: reads @t only.
 */
int hl_pol_admit_ports(const struct hl_pol_table *t, const char *src_ns, const char *src,
		       const struct hl_pol_addr *src_ip, const char *dst_ns, const char *dst,
		       const struct hl_pol_addr *dst_ip, uint64_t *bits);

/**
 * hl_pol_isolated() - whether policies isolate pod @ns/@name: bit 1
 * ingress, bit 2 egress; both bits for a pod the table does not know.
 */
unsigned hl_pol_isolated(const struct hl_pol_table *t, const char *ns, const char *name);

/** hl_pol_table_policies() - the number of policies in @t. */
size_t hl_pol_table_policies(const struct hl_pol_table *t);

/* Freeing helpers for whoever builds a model (they free the members and
 * the arrays, not the object itself, except hl_pol_policy_free()). */
void hl_pol_sel_clear(struct hl_pol_sel *s);
void hl_pol_rule_clear(struct hl_pol_rule *r);
void hl_pol_labels_free(struct hl_pol_label *l, size_t n);
void hl_pol_pod_clear(struct hl_pol_pod *p);
/** hl_pol_policy_free() - frees @p and all it holds. NULL is a no-op. */
void hl_pol_policy_free(struct hl_pol_policy *p);

/* What a verdict is called in logs ("admitted", "denied by egress", ...). */
const char *hl_pol_verdict_name(enum hl_pol_verdict v);

#endif
