/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The CNI operations the plugin asks for: ADD (choose the fast path,
 * allocate, persist, reply), DEL, CHECK and GC. Order for every change:
 * allocate -> persist -> reply; release -> unpersist -> reply. The process
 * can die anywhere in between (HOSTLANE_CRASH_AT proves it): what is not on
 * disk never happened, what is on disk is reconciled on the next start.
 */
#include "server.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hl_util.h"
#include "hlk8s.h"

/* Reads one annotation; on an API failure falls back (returns "") and warns. */
static void annotation(struct agent *a, const struct hl_request *q, const char *key, char *buf,
		       size_t len)
{
	buf[0] = '\0';
	int rc;

	if (!a->k8s || !q->pod_ns[0])
		return;
	rc = hlk8s_pod_annotation(a->k8s, q->pod_ns, q->pod_name, key, buf, len);
	if (rc == 0 || rc == -ENOENT) {
		if (rc)
			buf[0] = '\0';
		return;
	}
	buf[0] = '\0';
	hl_metrics_error(&a->m, HL_ERR_K8S);
	hl_log(HL_LOG_WARN, "pod %s/%s: cannot read annotation %s (%s); falling back to CNI_ARGS/config",
	       q->pod_ns, q->pod_name, key, strerror(-rc));
}

/* The netns the request names must be one (nsfs), opened without blocking,
 * before any fast path goes near it. */
static int netns_check(struct agent *a, const struct hl_pod *p, struct hl_reply *r)
{
	int fd = hl_netns_open(p->netns);

	if (fd >= 0) {
		close(fd);
		return 0;
	}
	hl_metrics_error(&a->m, HL_ERR_PROTOCOL);
	hl_reply_fail(r, fd == -ENOENT ? HLAGENT_CNI_INTERNAL : HLAGENT_CNI_INVALID_CONFIG, strerror(-fd),
		      "netns %s is not a network namespace", p->netns);
	return fd;
}

static int choose(struct agent *a, const struct hl_request *q, struct hl_pod *p, struct hl_reply *r)
{
	char ann_fp[64], ann_quota[64], bad[64];
	enum hl_fastpath def;
	uint64_t quota, max;

	annotation(a, q, "hostlane.io/fastpath", ann_fp, sizeof(ann_fp));
	pthread_mutex_lock(&a->cfg_lock);
	def = a->cfg.fastpath;
	quota = hl_config_default_quota(&a->cfg, q->pod_ns);
	max = a->cfg.max_quota;
	pthread_mutex_unlock(&a->cfg_lock);
	if (hl_fastpath_select(ann_fp, q->fp_args, q->fp_config, def, &p->fastpath, &p->source,
			       bad, sizeof(bad)) < 0) {
		hl_reply_fail(r, HLAGENT_CNI_INVALID_CONFIG, "valid values: none, shm, vhost-user, vf",
		     "unknown fast path \"%s\" (from %s)", bad, hl_fp_source_name(p->source));
		return -EINVAL;
	}
	if (p->fastpath != HL_FP_SHM)
		return 0;
	annotation(a, q, "hostlane.io/hugepages", ann_quota, sizeof(ann_quota));
	if (ann_quota[0] && hl_quantity_parse(ann_quota, &quota) < 0) {
		hl_reply_fail(r, HLAGENT_CNI_INVALID_CONFIG, "e.g. 64Mi, 1Gi, 2097152",
		     "invalid hostlane.io/hugepages annotation \"%s\"", ann_quota);
		return -EINVAL;
	}
	/* A pod's annotation is the pod's wish: one pod must not take the
	 * node's pool (or its shm capacity: the next shm pod's ADD would fail). */
	if (quota > max) {
		snprintf(bad, sizeof(bad), "%llu bytes", (unsigned long long)max);
		hl_reply_fail(r, HLAGENT_CNI_INVALID_CONFIG, bad,
			      "hostlane.io/hugepages \"%s\" is above this node's per-pod maximum "
			      "(hugepages.maxQuota)", ann_quota);
		return -EINVAL;
	}
	p->quota_bytes = quota;
	return 0;
}

static int allocate(struct agent *a, const struct hl_request *q, struct hl_pod *p, struct hl_reply *r)
{
	char d[ERRLEN];
	int rc, code = 0;

	if (p->fastpath == HL_FP_NONE)
		return 0;
	if (p->fastpath != HL_FP_SHM) {
		rc = hl_dev_add(a, p, q, &code, d, sizeof(d));
		if (rc == -EOPNOTSUPP)
			hl_reply_fail(r, code, d, "fast path %s is not available on this node",
			     hl_fastpath_name(p->fastpath));
		else if (rc < 0 && code == HLAGENT_CNI_TRY_AGAIN && p->fastpath == HL_FP_VF)
			hl_reply_fail(r, code, d, "%s", d);  /* the pool's own words (exhausted) */
		else if (rc < 0)
			hl_reply_fail(r, code, d, "cannot set up the %s fast path", hl_fastpath_name(p->fastpath));
		return rc;
	}
	/* The quota is a cap on the pod's regions, charged as they are made;
	 * all that is checked here is that the quotas of the node's shm pods
	 * stay within what the node advertises (pool x overcommit). */
	if (hl_quota_admit(a, p->quota_bytes, false) < 0) {
		struct hl_pool_numbers n;

		hl_pool_numbers(a, &n);
		snprintf(d, sizeof(d), "pool %llu bytes x overcommit %u = %llu; the quotas of this node's "
			 "shm pods add up to %llu, asked %llu", (unsigned long long)n.pool, n.overcommit,
			 (unsigned long long)n.capacity, (unsigned long long)n.quota,
			 (unsigned long long)p->quota_bytes);
		hl_metrics_error(&a->m, HL_ERR_POOL);
		hl_reply_fail(r, HLAGENT_CNI_NO_RESOURCES, d, "the node's shm capacity is taken");
		return -ENOSPC;
	}
	rc = hl_pod_ep_create(a, p);
	if (rc < 0) {
		hl_quota_return(a, p->quota_bytes);
		hl_metrics_error(&a->m, HL_ERR_ENDPOINT);
		hl_reply_fail(r, rc == -EOPNOTSUPP ? HLAGENT_CNI_UNAVAILABLE : HLAGENT_CNI_INTERNAL, strerror(-rc),
		     rc == -EOPNOTSUPP ? "shm endpoints are not built into this agent"
				       : "cannot create the shm endpoint in %s", p->netns);
		return rc;
	}
	return 0;
}

static int release(struct agent *a, struct hl_pod *p, struct hl_reply *r)
{
	char why[ERRLEN] = "";
	int rc;

	hl_pod_ep_destroy(a, p);
	if (p->fastpath == HL_FP_SHM)
		hl_quota_return(a, p->quota_bytes);
	rc = hl_dev_release(a, p, why, sizeof(why));
	if (rc < 0 && r)
		hl_reply_fail(r, HLAGENT_CNI_INTERNAL, why, "cannot release the %s fast path of %s",
		     hl_fastpath_name(p->fastpath), p->key);
	return rc;
}

static cJSON *ok_reply(const struct hl_pod *p)
{
	cJSON *o = cJSON_CreateObject(), *ep;

	if (!o)
		return NULL;
	cJSON_AddStringToObject(o, "fastpath", hl_fastpath_name(p->fastpath));
	cJSON_AddStringToObject(o, "fastpathSource", hl_fp_source_name(p->source));
	if (p->fastpath == HL_FP_SHM && (ep = cJSON_AddObjectToObject(o, "endpoint"))) {
		cJSON_AddStringToObject(ep, "type", "shm");
		cJSON_AddStringToObject(ep, "socket", "@hostlane");
		cJSON_AddNumberToObject(ep, "quotaBytes", (double)p->quota_bytes);
	}
	hl_dev_reply(p, o);
	cJSON_AddItemToObject(o, "pod", hl_pod_to_cjson(p));
	return o;
}

void hl_cni_add(struct agent *a, const struct hl_request *q, struct hl_reply *r)
{
	struct hl_pod *p, *old;
	int rc;

	p = calloc(1, sizeof(*p));
	if (!p) {
		hl_reply_fail(r, HLAGENT_CNI_TRY_AGAIN, NULL, "out of memory");
		return;
	}
	hl_pod_from_request(p, q);
	old = hl_pods_lookup(a, p->key);
	if (old && strcmp(old->netns, p->netns) == 0) {
		/* A repeated ADD (runtime retry): answer what is already there. */
		r->obj = ok_reply(old);
		free(p);
		return;
	}
	if (old && hl_cni_del_key(a, p->key, r) < 0)
		goto out;
	if (netns_check(a, p, r) < 0 || choose(a, q, p, r) < 0 || allocate(a, q, p, r) < 0)
		goto out;
	hl_crash_point("add-after-alloc");
	rc = hl_state_save(a->cfg.state_dir, p, hl_crash_mid_persist);
	if (rc < 0) {
		release(a, p, NULL);
		hl_metrics_error(&a->m, HL_ERR_STATE);
		hl_reply_fail(r, HLAGENT_CNI_INTERNAL, strerror(-rc), "cannot persist pod state in %s", a->cfg.state_dir);
		goto out;
	}
	pthread_mutex_lock(&a->lock);
	rc = hl_pods_insert_locked(a, p);
	pthread_mutex_unlock(&a->lock);
	if (rc < 0) {
		release(a, p, NULL);
		hl_state_remove(a->cfg.state_dir, p->key);
		hl_reply_fail(r, HLAGENT_CNI_TRY_AGAIN, NULL, "out of memory");
		goto out;
	}
	hl_crash_point("add-after-persist");
	r->obj = ok_reply(p);
	hl_log(HL_LOG_INFO, "ADD %s (%s%s%s) fastpath %s from %s", p->key, p->pod_ns, p->pod_ns[0] ? "/" : "",
	       p->pod_name, hl_fastpath_name(p->fastpath), hl_fp_source_name(p->source));
	return;
out:
	free(p);
}

/* Caller holds the key. Returns 0 (also when there was nothing) or -errno. */
int hl_cni_del_key(struct agent *a, const char *key, struct hl_reply *r)
{
	struct hl_pod *p = hl_pods_lookup(a, key);
	int rc;

	if (!p)
		return 0;
	hl_crash_point("del-before-release");
	/* A device that could not be given back keeps its record: DEL retries. */
	if (release(a, p, r) < 0)
		return -EIO;
	hl_crash_point("del-mid-release");
	rc = hl_state_remove(a->cfg.state_dir, key);
	if (rc < 0) {
		/* Keep the record: the runtime retries DEL, and restart reconciles. */
		hl_metrics_error(&a->m, HL_ERR_STATE);
		hl_reply_fail(r, HLAGENT_CNI_INTERNAL, strerror(-rc), "cannot remove pod state for %s", key);
		return rc;
	}
	pthread_mutex_lock(&a->lock);
	hl_pods_remove_locked(a, p);
	pthread_mutex_unlock(&a->lock);
	hl_log(HL_LOG_INFO, "DEL %s", key);
	free(p);
	hl_crash_point("del-after-unlink");
	return 0;
}

void hl_cni_del(struct agent *a, const struct hl_request *q, struct hl_reply *r)
{
	char key[sizeof(((struct hl_pod *)0)->key)];

	hl_request_key(q, key, sizeof(key));
	if (hl_cni_del_key(a, key, r) == 0)
		r->obj = cJSON_CreateObject();
}

void hl_cni_check(struct agent *a, const struct hl_request *q, struct hl_reply *r)
{
	char key[sizeof(((struct hl_pod *)0)->key)];
	struct hl_pod *p;

	hl_request_key(q, key, sizeof(key));
	p = hl_pods_lookup(a, key);
	if (!p) {
		hl_reply_fail(r, HLAGENT_CNI_NOT_FOUND, key, "the agent has no record of this attachment");
	} else if (access(p->netns, F_OK) < 0) {
		hl_reply_fail(r, HLAGENT_CNI_INTERNAL, p->netns, "the pod's network namespace is gone");
	} else if (q->netns[0] && strcmp(q->netns, p->netns) != 0) {
		hl_reply_fail(r, HLAGENT_CNI_INTERNAL, p->netns, "netns differs from the recorded one");
	} else if (p->fastpath == HL_FP_SHM && !p->ep) {
		hl_reply_fail(r, HLAGENT_CNI_INTERNAL, p->netns, "the pod's shm endpoint is missing");
	} else {
		r->obj = ok_reply(p);
	}
}

static bool in_valid(const struct hl_request *q, const struct hl_pod *p)
{
	for (size_t i = 0; i < q->n_valid; i++)
		if (!strcmp(q->valid[i].container_id, p->container_id) && !strcmp(q->valid[i].ifname, p->ifname))
			return true;
	return false;
}

void hl_cni_gc(struct agent *a, const struct hl_request *q, struct hl_reply *r)
{
	char (*keys)[sizeof(((struct hl_pod *)0)->key)] = NULL;
	size_t n = 0, removed = 0;

	pthread_mutex_lock(&a->lock);
	if (a->n_pods)
		keys = calloc(a->n_pods, sizeof(*keys));
	for (size_t i = 0; keys && i < a->n_pods; i++)
		if (!strcmp(a->pods[i]->network, q->network) && !in_valid(q, a->pods[i]))
			snprintf(keys[n++], sizeof(keys[0]), "%s", a->pods[i]->key);
	pthread_mutex_unlock(&a->lock);
	for (size_t i = 0; i < n; i++) {
		hl_pods_lock_key(a, keys[i]);
		if (hl_cni_del_key(a, keys[i], r) == 0)
			removed++;
		hl_pods_unlock_key(a, keys[i]);
	}
	free(keys);
	if (r->code == 0 && (r->obj = cJSON_CreateObject()))
		cJSON_AddNumberToObject(r->obj, "released", (double)removed);
}
