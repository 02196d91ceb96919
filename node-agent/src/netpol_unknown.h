/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Policy kinds the agent does not enforce (netpol_unknown.c): Calico,
 * Cilium, AdminNetworkPolicy, Antrea objects. A thread asks the API
 * server's discovery which of them it serves, lists them, and tells the
 * NetworkPolicy store which pods they may cover (all pods for a
 * cluster-wide kind with objects, else the namespaces holding objects),
 * again every unknownPoliciesCheckSeconds. With unknownPolicies "kernel"
 * (the default) those pods get no fast-path connection; with "ignore" they
 * are only reported. Private to hostlaned (netpol.c owns one).
 */
#ifndef HOSTLANE_AGENT_NETPOL_UNKNOWN_H
#define HOSTLANE_AGENT_NETPOL_UNKNOWN_H

#include <stdbool.h>
#include <stdint.h>

struct cJSON;
struct hlk8s_client;
struct hlnp_store;
struct np_unknown;

/**
 * np_unknown_new() - a checker for client @c feeding store @s.
 * @ignore: unknownPolicies "ignore": report only, never tell the store.
 * @period_s: seconds between checks once one succeeded.
 * @notify: called (checker thread) after the first answered check and
 *          after every one whose finding changed; @arg is its argument.
 * Return: the checker, or NULL with errno ENOMEM.
 */
struct np_unknown *np_unknown_new(struct hlk8s_client *c, struct hlnp_store *s, bool ignore,
				  long period_s, void (*notify)(void *arg), void *arg);

/**
 * np_unknown_start() - starts the thread; it ends when @stop_fd becomes
 * readable. Return: 0 or -ENOMEM.
 */
int np_unknown_start(struct np_unknown *u, int stop_fd);

/** np_unknown_free() - joins the thread (@stop_fd signalled) and frees. NULL: no-op. */
void np_unknown_free(struct np_unknown *u);

/** np_unknown_answered() - whether a check has completed (any thread). */
bool np_unknown_answered(struct np_unknown *u);

/** np_unknown_status() - "unknownPolicies" of the status JSON into @o (any thread). */
void np_unknown_status(struct np_unknown *u, struct cJSON *o);

/**
 * np_unknown_metrics() - its /metrics lines (any thread).
 * Return: the text (free()), or NULL (ENOMEM).
 */
char *np_unknown_metrics(struct np_unknown *u);

#endif
