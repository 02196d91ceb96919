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

#include <stdbool.h>
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
 * Unknown policy kinds (discovery.c): policy APIs other than
 * networking.k8s.io/v1 NetworkPolicy that the cluster's engine may enforce
 * (Calico, Cilium, AdminNetworkPolicy, Antrea). The agent does not decode
 * them; it finds which the API server serves and where they have objects,
 * and keeps the pods they may cover off the fast path.
 */

/** hlnp_disc_kind_known() - whether @group's @resource is such a kind. */
bool hlnp_disc_kind_known(const char *group, const char *resource);

/**
 * hlnp_disc_groups() - from the API server's APIGroupList (GET /apis,
 * @buf, @n bytes), every groupVersion ("cilium.io/v2") served of a group
 * that has such kinds.
 * @gvs, @n_gv: the groupVersions (free with hlnp_strv_free()); none:
 * NULL, 0.
 * Return: 0; -EINVAL (not an APIGroupList, a field of the wrong type, a
 * groupVersion not of its group or with characters a path cannot carry);
 * -E2BIG (more than 64); -ENOMEM. Nothing allocated on failure.
 */
int hlnp_disc_groups(const char *buf, size_t n, char ***gvs, size_t *n_gv);

/* A kind found served: its groupVersion, resource name, scope. */
struct hlnp_disc_res {
	char group_version[320];
	char resource[64];
	bool namespaced;
};

/**
 * hlnp_disc_resources() - from the APIResourceList of groupVersion @gv
 * (GET /apis/@gv), the resources that are such kinds and can be listed
 * (subresources left out; "namespaced" absent counts as cluster-wide).
 * @out, @n_out: them (free()); none: NULL, 0.
 * Return: 0; -EINVAL (not an APIResourceList of @gv, a field of the wrong
 * type); -ENOMEM. Nothing allocated on failure.
 */
int hlnp_disc_resources(const char *buf, size_t n, const char *gv, struct hlnp_disc_res **out,
			size_t *n_out);

/**
 * hlnp_disc_list() - one page of a list of such a kind: adds its number
 * of items to *@items and, for a @namespaced kind, the namespaces of its
 * objects to @ns/@n_ns (each once; the caller owns and frees them with
 * hlnp_strv_free(), also after a failure).
 * @cont, @cont_len: metadata.continue (the next page), "" at the end.
 * Return: 0; -EINVAL (not a list, an object of a namespaced kind without a
 * namespace, a continue token a query cannot carry as it is); -E2BIG
 * (more than 4096 namespaces); -ENOMEM.
 */
int hlnp_disc_list(const char *buf, size_t n, bool namespaced, char ***ns, size_t *n_ns,
		   size_t *items, char *cont, size_t cont_len);

/** hlnp_strv_free() - frees @n strings of @v and @v. NULL is a no-op. */
void hlnp_strv_free(char **v, size_t n);

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
	size_t unknown_ns;      /* namespaces isolated for unknown policy kinds */
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
 * hlnp_store_set_unknown() - the pods unknown policy kinds may cover: all
 * of them (@all), or those of namespaces @ns (@n of them, copied). Every
 * build from then on isolates each such namespace both ways and admits
 * nothing there, as a policy it could not decode (with @all: every
 * namespace the store has a Namespace or a Pod of). Nothing: false, NULL, 0.
 * Return: 0 or -ENOMEM (the setting unchanged).
 */
int hlnp_store_set_unknown(struct hlnp_store *s, bool all, char *const *ns, size_t n);

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
