/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hlnp — decoding the Kubernetes objects NetworkPolicy admission needs
 * (networking.k8s.io/v1 NetworkPolicy, v1 Namespace labels, v1 Pod labels,
 * IPs and named container ports) from the API server's JSON into the
 * monitor's model (monitor/include/hl_policy.h), and building an admission
 * table from them (libhlnetpol.a, prefix hlnp_).
 *
 * The JSON is untrusted input (fuzzed: fuzz_netpol): every field is checked
 * for type and range, and an object the decoder cannot take whole is
 * refused (-EINVAL with the reason), never half-read. The caller fails
 * closed with a refused policy: hlnp_policy_deny_all() stands in for it.
 *
 * Thread safety: no state; the functions may run in any thread.
 */
#ifndef HOSTLANE_HLNP_H
#define HOSTLANE_HLNP_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "hl_policy.h"

/**
 * hlnp_policy_decode() - a NetworkPolicy object to the model, with the
 * API's defaults applied (policyTypes: Ingress, and Egress when the policy
 * has egress rules; protocol TCP).
 * @obj: the object (metadata.namespace and metadata.name required).
 * @why, @len: the reason of a refusal (may be NULL).
 * Return: the policy (free with hl_pol_policy_free()), or NULL with errno
 * EINVAL (not a valid NetworkPolicy: a wrong type, an unknown operator,
 * protocol or policy type, a bad CIDR, port or endPort, an ipBlock with a
 * selector) or ENOMEM.
 */
struct hl_pol_policy *hlnp_policy_decode(const cJSON *obj, char *why, size_t len);

/**
 * hlnp_policy_parse() - hlnp_policy_decode() of JSON text @buf (@n bytes).
 * Return: as hlnp_policy_decode().
 */
struct hl_pol_policy *hlnp_policy_parse(const char *buf, size_t n, char *why, size_t len);

/**
 * hlnp_policy_deny_all() - what stands in for a policy of namespace @ns
 * that could not be decoded: it isolates every pod of @ns both ways and
 * admits nothing, so those pods get no fast-path connection and the kernel
 * path (where the cluster's engine enforces the real policy) carries them.
 * Return: the policy, or NULL with errno ENOMEM or EINVAL (@ns NULL).
 */
struct hl_pol_policy *hlnp_policy_deny_all(const char *ns, const char *name);

/**
 * hlnp_labels_decode() - metadata.labels of @obj (any object).
 * @out, @n: the labels (free with hl_pol_labels_free()); none: NULL, 0.
 * Return: 0, -EINVAL (labels not an object of strings), -ENOMEM.
 */
int hlnp_labels_decode(const cJSON *obj, struct hl_pol_label **out, size_t *n);

/**
 * hlnp_pod_decode() - a Pod object as the policies see it: namespace,
 * name, labels, status.podIPs (else status.podIP), and the named ports of
 * spec.containers.
 * @out: filled in (clear with hl_pol_pod_clear(); cleared on failure).
 * Return: 0, -EINVAL (no namespace or name, a field of the wrong type, a
 * bad IP), -ENOMEM.
 */
int hlnp_pod_decode(const cJSON *obj, struct hl_pol_pod *out);

/**
 * hlnp_ns_decode() - a Namespace object: its name and labels.
 * @name: the name (free()); @labels, @n: as hlnp_labels_decode().
 * Return: 0, -EINVAL, -ENOMEM.
 */
int hlnp_ns_decode(const cJSON *obj, char **name, struct hl_pol_label **labels, size_t *n);

/**
 * hlnp_addr_parse() - "10.1.2.3" or "fd00::5" to @a.
 * Return: 0 or -EINVAL.
 */
int hlnp_addr_parse(const char *s, struct hl_pol_addr *a);

/*
 * The store: the latest state of every object that decides admission on
 * this node (NetworkPolicies and Namespaces of the cluster, the node's
 * Pods), kept as the API server sent it, and built into a fresh admission
 * table on demand. A policy the decoder refuses is kept and stands in as
 * hlnp_policy_deny_all() for its namespace: never ignored. Thread-safe
 * (one mutex): informer threads put, another thread builds.
 */
enum hlnp_kind {
	HLNP_POLICY,
	HLNP_NAMESPACE,
	HLNP_POD,
	HLNP_KINDS
};

struct hlnp_store;

/* Counts of the last build (hlnp_store_build()). */
struct hlnp_build_stats {
	size_t policies;        /* in the table */
	size_t refused;         /* of those, stand-ins for refused policies */
	size_t namespaces, pods;
	size_t pods_skipped;    /* not usable (ended, or a bad object) */
	char last_refused[256]; /* "ns/name: why" of one refused policy, or "" */
};

/** hlnp_store_new() - an empty store. Return: it, or NULL (ENOMEM). */
struct hlnp_store *hlnp_store_new(void);
/** hlnp_store_free() - NULL is a no-op. */
void hlnp_store_free(struct hlnp_store *s);

/**
 * hlnp_store_put() - records object @obj of @kind (added or modified),
 * replacing the one of the same namespace and name.
 * Return: 0; -EINVAL (no metadata.name, or no namespace for a namespaced
 * kind); -ENOMEM.
 */
int hlnp_store_put(struct hlnp_store *s, enum hlnp_kind kind, const cJSON *obj);

/**
 * hlnp_store_del() - forgets object @ns/@name of @kind (@ns NULL for a
 * Namespace). Return: 0, or -ENOENT (not there).
 */
int hlnp_store_del(struct hlnp_store *s, enum hlnp_kind kind, const char *ns, const char *name);

/**
 * hlnp_store_clear() - forgets every object of @kind (before a relist
 * puts them again).
 */
void hlnp_store_clear(struct hlnp_store *s, enum hlnp_kind kind);

/**
 * hlnp_store_build() - a compiled admission table of what the store holds.
 * @st: the build's counts (may be NULL).
 * Return: the table (hl_mon_policy_set() takes it), or NULL with errno
 * ENOMEM.
 */
struct hl_pol_table *hlnp_store_build(struct hlnp_store *s, struct hlnp_build_stats *st);

/** hlnp_store_count() - objects of @kind held. */
size_t hlnp_store_count(struct hlnp_store *s, enum hlnp_kind kind);

#endif
