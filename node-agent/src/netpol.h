/* SPDX-License-Identifier: Apache-2.0 */
/*
 * NetworkPolicy admission in the agent (netpol.c): informers of the
 * cluster's NetworkPolicies and Namespaces and the node's pods feed a
 * store (node-agent/netpol); every change builds a new admission table,
 * which the loop thread hands to the monitor. Private to hostlaned.
 */
#ifndef HOSTLANE_AGENT_NETPOL_H
#define HOSTLANE_AGENT_NETPOL_H

#include <stdint.h>

struct agent;
struct cJSON;
struct hl_netpol;

/* Sets up enforcement for client a->k8s (before its pod watch runs, after
 * hl_kube_start(): the pod informer's handler becomes ours, which passes
 * changes on to hl_kube_pod_changed()): the monitor admits nothing until
 * the first table. 0 or -errno. With the config's networkPolicy "off":
 * nothing, 0. Main thread, loop not running. */
int hl_netpol_start(struct agent *a);
/* Starts the informer and builder threads (after hl_netpol_start()). */
int hl_netpol_run(struct agent *a);
/* Stops the threads (a->k8s_stop_fd already signalled) and frees. */
void hl_netpol_stop(struct agent *a);

/* "networkPolicy" of hostlanectl status --json. Any thread but the loop's. */
void hl_netpol_status(struct agent *a, struct cJSON *o);

/* What /metrics shows; loop thread. */
struct hl_netpol_numbers {
	const char *state;             /* "off", "syncing", "synced" */
	uint64_t policies, refused, builds, admitted, denied, direct_off;
};
void hl_netpol_numbers(struct agent *a, struct hl_netpol_numbers *n);
/* The /metrics lines about policy kinds not enforced (free()), or NULL
 * (admission off, or ENOMEM). Any thread. */
char *hl_netpol_unknown_metrics(struct agent *a);

#endif
