/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Start-up reconciliation (the persisted pods: restore what still exists,
 * release what does not) and the shutdown's release of runtime state.
 */
#include "server.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int restore(struct agent *a, struct hl_pod *p)
{
	int rc;

	if (access(p->netns, F_OK) < 0) {
		char why[ERRLEN];

		hl_log(HL_LOG_INFO, "reconcile: %s: netns %s is gone, releasing", p->key, p->netns);
		if (hl_dev_release(a, p, why, sizeof(why)) < 0) {
			hl_log(HL_LOG_ERROR, "reconcile: %s: %s (kept; DEL retries)", p->key, why);
		} else {
			atomic_fetch_add(&a->m.reconciled_released, 1);
			return hl_state_remove(a->cfg.state_dir, p->key);
		}
	}
	hl_dev_restore(a, p);
	if (p->fastpath == HL_FP_SHM) {
		/* Already granted: keep it even if the pool shrank meanwhile. */
		hl_quota_admit(a, p->quota_bytes, true);
		rc = hl_pod_ep_create(a, p);
		if (rc < 0) {
			hl_metrics_error(&a->m, HL_ERR_ENDPOINT);
			hl_log(HL_LOG_ERROR, "reconcile: %s: cannot re-create endpoint: %s (CHECK will fail; DEL releases)",
			       p->key, strerror(-rc));
		}
	}
	pthread_mutex_lock(&a->lock);
	rc = hl_pods_insert_locked(a, p);
	pthread_mutex_unlock(&a->lock);
	if (rc == 0)
		atomic_fetch_add(&a->m.reconciled_restored, 1);
	return rc < 0 ? rc : 1;
}

int hl_reconcile(struct agent *a)
{
	struct hl_pod *recs;
	size_t n;
	int rc = hl_state_load(a->cfg.state_dir, &recs, &n);

	if (rc < 0)
		return rc;
	for (size_t i = 0; i < n && rc >= 0; i++) {
		struct hl_pod *p = malloc(sizeof(*p));

		if (!p) {
			rc = -ENOMEM;
			break;
		}
		*p = recs[i];
		rc = restore(a, p);
		if (rc <= 0)
			free(p);
	}
	free(recs);
	if (rc >= 0)
		hl_log(HL_LOG_INFO, "reconciled state: %zu pods restored, %llu released", a->n_pods,
		       (unsigned long long)atomic_load(&a->m.reconciled_released));
	return rc < 0 ? rc : 0;
}

void hl_release_all_runtime(struct agent *a)
{
	/* Endpoints die with the process anyway; records stay for the next start. */
	for (size_t i = 0; i < a->n_pods; i++) {
		hl_pod_ep_destroy_task(a, a->pods[i]);
		free(a->pods[i]);
	}
	free(a->pods);
	a->pods = NULL;
	a->n_pods = a->cap_pods = 0;
}
