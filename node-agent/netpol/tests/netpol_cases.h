/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The NetworkPolicy truth table: a world of 3 namespaces (x, y, z) of 3
 * pods (a, b, c) each serving TCP 80 and 81, and scenarios of policies
 * with, per port, the expected verdict of every (source, destination)
 * pair: row = source, column = destination, both in the order xa xb xc
 * ya yb yc za zb zc; '1' admitted, '.' denied.
 */
#ifndef HOSTLANE_NETPOL_CASES_H
#define HOSTLANE_NETPOL_CASES_H

#include <stddef.h>

#define NP_PODS 9

struct np_case {
	const char *name;
	const char *policies;        /* a JSON list of NetworkPolicy objects ('' for ") */
	const char *relabel;         /* "x/c pod=b": that pod's label pod set so, or NULL */
	const char *deny_all_ns;     /* a namespace given the undecodable stand-in, or NULL */
	const char *p80[NP_PODS];
	const char *p81[NP_PODS];    /* p81[0] NULL: as p80 */
};

extern const struct np_case np_cases[];
extern const size_t np_n_cases;

#endif
