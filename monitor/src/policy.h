/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The admission table's internals (hl_policy.h), shared by policy.c (the
 * table, compiling, the verdict) and policy_match.c (selectors, IP blocks,
 * ports, freeing).
 */
#ifndef HOSTLANE_MON_POLICY_H
#define HOSTLANE_MON_POLICY_H

#include <stdbool.h>
#include <stddef.h>

#include "hl_policy.h"

struct pol_ns {
	char *name;
	struct hl_pol_label *labels;   /* with kubernetes.io/metadata.name */
	size_t n_labels;
};

/* A pod and, once compiled, the policies that isolate it. */
struct pol_pod {
	struct hl_pol_pod p;
	const struct pol_ns *ns;       /* NULL: namespace unknown */
	const struct hl_pol_policy **in, **out;
	size_t n_in, n_out;
};

struct hl_pol_table {
	struct hl_pol_policy **pol;
	size_t n_pol;
	struct pol_ns *ns;
	size_t n_ns;
	struct pol_pod *pods;
	size_t n_pods;
	bool compiled;
};

bool pol_sel_match(const struct hl_pol_sel *s, const struct hl_pol_label *l, size_t n);
bool pol_cidr_has(const struct hl_pol_cidr *c, const struct hl_pol_addr *a);
bool pol_ports_match(const struct hl_pol_rule *r, const struct pol_pod *dst, uint16_t port);
/* Sets in @bits (HL_POL_PORT_WORDS words) every TCP port rule @r admits to
 * @dst: what pol_ports_match() says, for all ports at once. */
void pol_ports_set(const struct hl_pol_rule *r, const struct pol_pod *dst, uint64_t *bits);

#endif
