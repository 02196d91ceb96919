/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The plugin socket: a fixed pool of workers, each accepting one
 * SOCK_SEQPACKET connection at a time, so at most n_workers requests are in
 * flight and a burst waits in the listen backlog (bounded memory). ADD and
 * DEL of one attachment serialize on its key; different pods proceed.
 * Order for every change: allocate -> persist -> reply; release -> unpersist
 * -> reply. The process can die anywhere in between (HOSTLANE_CRASH_AT
 * proves it): what is not on disk never happened, what is on disk is
 * reconciled on the next start.
 */
#include "hl_util.h"
#include "daemon.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <malloc.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "monitor.h"
#include "hlk8s.h"

#define ERRLEN 512
#define EP_MAX_IPS 8

struct hl_task {
	void (*fn)(struct agent *, void *);
	void *arg;
	bool done;
	struct hl_task *next;
};

/* What a worker answers: the reply object, or an error. */
struct reply {
	cJSON *obj;      /* ok: extra fields */
	int code;        /* error: CNI code */
	char msg[256];
	char details[ERRLEN];
};

static void fail(struct reply *r, int code, const char *details, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void fail(struct reply *r, int code, const char *details, const char *fmt, ...)
{
	va_list ap;

	r->code = code;
	va_start(ap, fmt);
	vsnprintf(r->msg, sizeof(r->msg), fmt, ap);
	va_end(ap);
	snprintf(r->details, sizeof(r->details), "%s", details ? details : "");
}

/* ---- loop tasks ------------------------------------------------------- */

void hl_run_on_loop(struct agent *a, void (*fn)(struct agent *, void *), void *arg)
{
	struct hl_task t = { .fn = fn, .arg = arg };
	uint64_t one = 1;

	if (!a->loop || pthread_equal(pthread_self(), a->loop_tid)) {
		fn(a, arg);
		return;
	}
	pthread_mutex_lock(&a->task_lock);
	t.next = a->tasks;
	/* t outlives its use: we wait below until the loop marks it done. */
	// cppcheck-suppress autoVariables
	a->tasks = &t;
	pthread_mutex_unlock(&a->task_lock);
	if (write(a->task_fd, &one, sizeof(one)) < 0)
		hl_log(HL_LOG_ERROR, "task eventfd: %s", strerror(errno));
	pthread_mutex_lock(&a->task_lock);
	while (!t.done)
		pthread_cond_wait(&a->task_cond, &a->task_lock);
	pthread_mutex_unlock(&a->task_lock);
}

void hl_on_tasks(struct hl_loop *loop, int fd, uint32_t events, void *arg)
{
	struct agent *a = arg;
	struct hl_task *t, *next;
	uint64_t v;

	(void)loop; (void)events;
	if (read(fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		hl_log(HL_LOG_ERROR, "task eventfd read: %s", strerror(errno));
	pthread_mutex_lock(&a->task_lock);
	t = a->tasks;
	a->tasks = NULL;
	pthread_mutex_unlock(&a->task_lock);
	for (; t; t = next) {
		next = t->next;  /* t lives on its worker's stack until done */
		t->fn(a, t->arg);
		pthread_mutex_lock(&a->task_lock);
		t->done = true;
		pthread_cond_broadcast(&a->task_cond);
		pthread_mutex_unlock(&a->task_lock);
	}
}

/* ---- the pod table and per-pod locks ---------------------------------- */

static struct hl_pod *find_locked(struct agent *a, const char *key, size_t *idx)
{
	for (size_t i = 0; i < a->n_pods; i++) {
		if (strcmp(a->pods[i]->key, key) == 0) {
			if (idx)
				*idx = i;
			return a->pods[i];
		}
	}
	return NULL;
}

static int insert_locked(struct agent *a, struct hl_pod *p)
{
	if (a->n_pods == a->cap_pods) {
		size_t c = a->cap_pods ? a->cap_pods * 2 : 64;
		struct hl_pod **np = realloc(a->pods, c * sizeof(*np));

		if (!np)
			return -ENOMEM;
		a->pods = np;
		a->cap_pods = c;
	}
	a->pods[a->n_pods++] = p;
	return 0;
}

static void remove_locked(struct agent *a, const struct hl_pod *p)
{
	size_t i;

	if (find_locked(a, p->key, &i))
		a->pods[i] = a->pods[--a->n_pods];
	if (a->n_pods == 0) {
		/* Give the table back after a burst. */
		free(a->pods);
		a->pods = NULL;
		a->cap_pods = 0;
	}
}

static bool busy_locked(struct agent *a, const char *key)
{
	for (unsigned i = 0; i < a->n_busy; i++)
		if (strcmp(a->busy[i], key) == 0)
			return true;
	return false;
}

/* Every thread holds at most one key, so one slot per thread suffices. */
static void lock_key(struct agent *a, const char *key)
{
	pthread_mutex_lock(&a->lock);
	while (busy_locked(a, key))
		pthread_cond_wait(&a->cond, &a->lock);
	for (unsigned i = 0; i < a->n_busy; i++) {
		if (!a->busy[i][0]) {
			snprintf(a->busy[i], sizeof(a->busy[i]), "%s", key);
			break;
		}
	}
	pthread_mutex_unlock(&a->lock);
}

static void unlock_key(struct agent *a, const char *key)
{
	pthread_mutex_lock(&a->lock);
	for (unsigned i = 0; i < a->n_busy; i++)
		if (strcmp(a->busy[i], key) == 0)
			a->busy[i][0] = '\0';
	pthread_cond_broadcast(&a->cond);
	pthread_mutex_unlock(&a->lock);
}

static struct hl_pod *lookup(struct agent *a, const char *key)
{
	struct hl_pod *p;

	pthread_mutex_lock(&a->lock);
	p = find_locked(a, key, NULL);
	pthread_mutex_unlock(&a->lock);
	return p;
}

/* ---- hugepage pool accounting ---------------------------------------- */

static int reserve(struct agent *a, uint64_t bytes, bool force)
{
	int rc = 0;

	pthread_mutex_lock(&a->lock);
	if (!force && a->reserved_bytes + bytes > a->pool_bytes)
		rc = -ENOSPC;
	else
		a->reserved_bytes += bytes;
	pthread_mutex_unlock(&a->lock);
	return rc;
}

static void unreserve(struct agent *a, uint64_t bytes)
{
	pthread_mutex_lock(&a->lock);
	a->reserved_bytes -= bytes < a->reserved_bytes ? bytes : a->reserved_bytes;
	pthread_mutex_unlock(&a->lock);
}

void hl_pool_usage(struct agent *a, uint64_t *pool, uint64_t *reserved, uint64_t *used)
{
	pthread_mutex_lock(&a->lock);
	*pool = a->pool_bytes;
	*reserved = a->reserved_bytes;
	pthread_mutex_unlock(&a->lock);
	*used = 0;
	if (a->ep_node && pthread_equal(pthread_self(), a->loop_tid)) {
		uint64_t p;

		hl_mon_get_usage(a->ep_node, &p, used);
	}
}

size_t hl_count_pods(struct agent *a, size_t by_fp[HL_FP_COUNT])
{
	size_t n;

	pthread_mutex_lock(&a->lock);
	for (int i = 0; i < HL_FP_COUNT; i++)
		by_fp[i] = 0;
	for (size_t i = 0; i < a->n_pods; i++)
		by_fp[a->pods[i]->fastpath]++;
	n = a->n_pods;
	pthread_mutex_unlock(&a->lock);
	return n;
}

/* ---- endpoints (loop thread) ------------------------------------------ */

struct ep_job {
	struct hl_pod *pod;
	int err;
};

static void ep_create_task(struct agent *a, void *arg)
{
	struct ep_job *j = arg;
	const char *ips[HLAGENT_MAX_IPS];
	char name[HL_NAME_MAX * 2], plain[HLAGENT_MAX_IPS][HL_IP_MAX];

	/* The endpoint registry takes at most EP_MAX_IPS addresses per pod. */
	size_t n_ips = j->pod->n_ips < EP_MAX_IPS ? j->pod->n_ips : EP_MAX_IPS;

	hl_pod_key_name(j->pod, name, sizeof(name));
	for (size_t i = 0; i < n_ips; i++) {
		snprintf(plain[i], sizeof(plain[i]), "%s", j->pod->ips[i]);
		plain[i][strcspn(plain[i], "/")] = '\0';
		ips[i] = plain[i];
	}
	j->pod->ep = hl_mon_pod_add(a->ep_node, name, j->pod->netns, ips, n_ips, j->pod->quota_bytes);
	j->err = j->pod->ep ? 0 : -errno;
}

static void ep_destroy_task(struct agent *a, void *arg)
{
	struct hl_pod *p = arg;

	(void)a;
	if (p->ep)
		hl_mon_pod_del(p->ep);
	p->ep = NULL;
}

static int ep_create(struct agent *a, struct hl_pod *p)
{
	struct ep_job j = { .pod = p };

	hl_run_on_loop(a, ep_create_task, &j);
	return j.err;
}

static void ep_destroy(struct agent *a, struct hl_pod *p)
{
	if (p->ep)
		hl_run_on_loop(a, ep_destroy_task, p);
}

/* ---- fault injection -------------------------------------------------- */

static struct agent *crash_agent;

void hl_crash_point(const char *point)
{
	if (crash_agent && crash_agent->crash_at && strcmp(crash_agent->crash_at, point) == 0) {
		hl_log(HL_LOG_WARN, "fault injection: SIGKILL at %s", point);
		raise(SIGKILL);
	}
}

static void crash_mid_persist(void)
{
	hl_crash_point("add-mid-persist");
}

/* ---- ADD -------------------------------------------------------------- */

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

static int choose(struct agent *a, const struct hl_request *q, struct hl_pod *p, struct reply *r)
{
	char ann_fp[64], ann_quota[64], bad[64];
	enum hl_fastpath def;
	uint64_t quota;

	annotation(a, q, "hostlane.io/fastpath", ann_fp, sizeof(ann_fp));
	pthread_mutex_lock(&a->cfg_lock);
	def = a->cfg.fastpath;
	quota = a->cfg.default_quota;
	pthread_mutex_unlock(&a->cfg_lock);
	if (hl_fastpath_select(ann_fp, q->fp_args, q->fp_config, def, &p->fastpath, &p->source,
			       bad, sizeof(bad)) < 0) {
		fail(r, HLAGENT_CNI_INVALID_CONFIG, "valid values: none, shm, vhost-user, vf",
		     "unknown fast path \"%s\" (from %s)", bad, hl_fp_source_name(p->source));
		return -EINVAL;
	}
	if (p->fastpath != HL_FP_SHM)
		return 0;
	annotation(a, q, "hostlane.io/hugepages", ann_quota, sizeof(ann_quota));
	if (ann_quota[0] && hl_quantity_parse(ann_quota, &quota) < 0) {
		fail(r, HLAGENT_CNI_INVALID_CONFIG, "e.g. 64Mi, 1Gi, 2097152",
		     "invalid hostlane.io/hugepages annotation \"%s\"", ann_quota);
		return -EINVAL;
	}
	p->quota_bytes = quota;
	return 0;
}

static int allocate(struct agent *a, const struct hl_request *q, struct hl_pod *p, struct reply *r)
{
	char d[ERRLEN];
	int rc, code = 0;

	if (p->fastpath == HL_FP_NONE)
		return 0;
	if (p->fastpath != HL_FP_SHM) {
		rc = hl_dev_add(a, p, q, &code, d, sizeof(d));
		if (rc == -EOPNOTSUPP)
			fail(r, code, d, "fast path %s is not available on this node",
			     hl_fastpath_name(p->fastpath));
		else if (rc < 0 && code == HLAGENT_CNI_TRY_AGAIN && p->fastpath == HL_FP_VF)
			fail(r, code, d, "%s", d);  /* the pool's own words (exhausted) */
		else if (rc < 0)
			fail(r, code, d, "cannot set up the %s fast path", hl_fastpath_name(p->fastpath));
		return rc;
	}
	if (reserve(a, p->quota_bytes, false) < 0) {
		uint64_t pool, res, used;

		hl_pool_usage(a, &pool, &res, &used);
		snprintf(d, sizeof(d), "pool %llu bytes, reserved %llu, asked %llu",
			 (unsigned long long)pool, (unsigned long long)res,
			 (unsigned long long)p->quota_bytes);
		hl_metrics_error(&a->m, HL_ERR_POOL);
		fail(r, HLAGENT_CNI_NO_RESOURCES, d, "hugepage pool exhausted on this node");
		return -ENOSPC;
	}
	rc = ep_create(a, p);
	if (rc < 0) {
		unreserve(a, p->quota_bytes);
		hl_metrics_error(&a->m, HL_ERR_ENDPOINT);
		fail(r, rc == -EOPNOTSUPP ? HLAGENT_CNI_UNAVAILABLE : HLAGENT_CNI_INTERNAL, strerror(-rc),
		     rc == -EOPNOTSUPP ? "shm endpoints are not built into this agent"
				       : "cannot create the shm endpoint in %s", p->netns);
		return rc;
	}
	return 0;
}

static int release(struct agent *a, struct hl_pod *p, struct reply *r)
{
	char why[ERRLEN] = "";
	int rc;

	ep_destroy(a, p);
	if (p->fastpath == HL_FP_SHM)
		unreserve(a, p->quota_bytes);
	rc = hl_dev_release(a, p, why, sizeof(why));
	if (rc < 0 && r)
		fail(r, HLAGENT_CNI_INTERNAL, why, "cannot release the %s fast path of %s",
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

static int del_locked_key(struct agent *a, const char *key, struct reply *r);

static void do_add(struct agent *a, const struct hl_request *q, struct reply *r)
{
	struct hl_pod *p, *old;
	int rc;

	p = calloc(1, sizeof(*p));
	if (!p) {
		fail(r, HLAGENT_CNI_TRY_AGAIN, NULL, "out of memory");
		return;
	}
	hl_pod_from_request(p, q);
	old = lookup(a, p->key);
	if (old && strcmp(old->netns, p->netns) == 0) {
		/* A repeated ADD (runtime retry): answer what is already there. */
		r->obj = ok_reply(old);
		free(p);
		return;
	}
	if (old && del_locked_key(a, p->key, r) < 0)
		goto out;
	if (choose(a, q, p, r) < 0 || allocate(a, q, p, r) < 0)
		goto out;
	hl_crash_point("add-after-alloc");
	rc = hl_state_save(a->cfg.state_dir, p, crash_mid_persist);
	if (rc < 0) {
		release(a, p, NULL);
		hl_metrics_error(&a->m, HL_ERR_STATE);
		fail(r, HLAGENT_CNI_INTERNAL, strerror(-rc), "cannot persist pod state in %s", a->cfg.state_dir);
		goto out;
	}
	pthread_mutex_lock(&a->lock);
	rc = insert_locked(a, p);
	pthread_mutex_unlock(&a->lock);
	if (rc < 0) {
		release(a, p, NULL);
		hl_state_remove(a->cfg.state_dir, p->key);
		fail(r, HLAGENT_CNI_TRY_AGAIN, NULL, "out of memory");
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

/* ---- DEL, CHECK, GC --------------------------------------------------- */

/* Caller holds the key. Returns 0 (also when there was nothing) or -errno. */
static int del_locked_key(struct agent *a, const char *key, struct reply *r)
{
	struct hl_pod *p = lookup(a, key);
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
		fail(r, HLAGENT_CNI_INTERNAL, strerror(-rc), "cannot remove pod state for %s", key);
		return rc;
	}
	pthread_mutex_lock(&a->lock);
	remove_locked(a, p);
	pthread_mutex_unlock(&a->lock);
	hl_log(HL_LOG_INFO, "DEL %s", key);
	free(p);
	hl_crash_point("del-after-unlink");
	return 0;
}

static void do_del(struct agent *a, const struct hl_request *q, struct reply *r)
{
	char key[sizeof(((struct hl_pod *)0)->key)];

	hl_request_key(q, key, sizeof(key));
	if (del_locked_key(a, key, r) == 0)
		r->obj = cJSON_CreateObject();
}

static void do_check(struct agent *a, const struct hl_request *q, struct reply *r)
{
	char key[sizeof(((struct hl_pod *)0)->key)];
	struct hl_pod *p;

	hl_request_key(q, key, sizeof(key));
	p = lookup(a, key);
	if (!p) {
		fail(r, HLAGENT_CNI_NOT_FOUND, key, "the agent has no record of this attachment");
	} else if (access(p->netns, F_OK) < 0) {
		fail(r, HLAGENT_CNI_INTERNAL, p->netns, "the pod's network namespace is gone");
	} else if (q->netns[0] && strcmp(q->netns, p->netns) != 0) {
		fail(r, HLAGENT_CNI_INTERNAL, p->netns, "netns differs from the recorded one");
	} else if (p->fastpath == HL_FP_SHM && !p->ep) {
		fail(r, HLAGENT_CNI_INTERNAL, p->netns, "the pod's shm endpoint is missing");
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

static void do_gc(struct agent *a, const struct hl_request *q, struct reply *r)
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
		lock_key(a, keys[i]);
		if (del_locked_key(a, keys[i], r) == 0)
			removed++;
		unlock_key(a, keys[i]);
	}
	free(keys);
	if (r->code == 0 && (r->obj = cJSON_CreateObject()))
		cJSON_AddNumberToObject(r->obj, "released", (double)removed);
}

/* ---- STATUS, LIST, GET, METRICS, VERSION ------------------------------- */

static void do_status(struct agent *a, struct reply *r)
{
	size_t by_fp[HL_FP_COUNT], n = hl_count_pods(a, by_fp);
	uint64_t pool, res, used;
	cJSON *o = cJSON_CreateObject(), *fp;

	if (!atomic_load(&a->ready)) {
		cJSON_Delete(o);
		fail(r, HLAGENT_CNI_NOT_READY, NULL, "hostlane agent is starting");
		return;
	}
	hl_pool_usage(a, &pool, &res, &used);
	r->obj = o;
	if (!o)
		return;
	cJSON_AddBoolToObject(o, "ready", true);
	cJSON_AddStringToObject(o, "version", HL_AGENT_VERSION);
	cJSON_AddStringToObject(o, "node", a->cfg.node_name);
	cJSON_AddNumberToObject(o, "pods", (double)n);
	fp = cJSON_AddObjectToObject(o, "podsByFastpath");
	for (int i = 0; fp && i < HL_FP_COUNT; i++)
		cJSON_AddNumberToObject(fp, hl_fastpath_name((enum hl_fastpath)i), (double)by_fp[i]);
	cJSON_AddNumberToObject(o, "hugepagePoolBytes", (double)pool);
	cJSON_AddNumberToObject(o, "hugepageReservedBytes", (double)res);
	cJSON_AddBoolToObject(o, "kubernetes", a->k8s != NULL);
	hl_dev_status(a, o);
	cJSON_AddNumberToObject(o, "uptimeSeconds", (double)(time(NULL) - a->started));
}

static cJSON *pod_entry(const struct hl_pod *p)
{
	cJSON *o = hl_pod_to_cjson(p);

	if (o)
		cJSON_AddBoolToObject(o, "endpoint", p->ep != NULL);
	return o;
}

static int cmp_pod(const void *x, const void *y)
{
	const struct hl_pod *a = *(struct hl_pod *const *)x, *b = *(struct hl_pod *const *)y;

	return strcmp(a->key, b->key);
}

/* Pages so that a reply always fits one message. */
static void do_list(struct agent *a, const struct hl_request *q, struct reply *r)
{
	cJSON *o = cJSON_CreateObject(), *arr = o ? cJSON_AddArrayToObject(o, "pods") : NULL;
	size_t budget = HLAGENT_MAX_REPLY - 1024, used = 0, i;

	if (!arr) {
		cJSON_Delete(o);
		fail(r, HLAGENT_CNI_TRY_AGAIN, NULL, "out of memory");
		return;
	}
	pthread_mutex_lock(&a->lock);
	if (a->n_pods > 1)
		qsort(a->pods, a->n_pods, sizeof(*a->pods), cmp_pod);
	for (i = (size_t)q->offset; i < a->n_pods; i++) {
		cJSON *e = pod_entry(a->pods[i]);
		char *s = e ? cJSON_PrintUnformatted(e) : NULL;
		size_t l = s ? strlen(s) + 1 : budget;

		free(s);
		if (!e || used + l > budget) {
			cJSON_Delete(e);
			break;
		}
		used += l;
		cJSON_AddItemToArray(arr, e);
	}
	if (i < a->n_pods)
		cJSON_AddNumberToObject(o, "next", (double)i);
	cJSON_AddNumberToObject(o, "total", (double)a->n_pods);
	pthread_mutex_unlock(&a->lock);
	r->obj = o;
}

static bool matches(const struct hl_pod *p, const char *id)
{
	char name[HL_NAME_MAX * 2];
	size_t l = strlen(id);

	hl_pod_key_name(p, name, sizeof(name));
	return !strcmp(p->key, id) || !strcmp(name, id) || !strcmp(p->container_id, id) ||
	       (l >= 6 && !strncmp(p->container_id, id, l));
}

static void do_get(struct agent *a, const struct hl_request *q, struct reply *r)
{
	cJSON *found = NULL;
	int n = 0;

	pthread_mutex_lock(&a->lock);
	for (size_t i = 0; i < a->n_pods; i++) {
		if (!matches(a->pods[i], q->id))
			continue;
		if (n++ == 0)
			found = pod_entry(a->pods[i]);
	}
	pthread_mutex_unlock(&a->lock);
	if (n == 1 && (r->obj = cJSON_CreateObject())) {
		cJSON_AddItemToObject(r->obj, "pod", found);
		return;
	}
	cJSON_Delete(found);
	if (n == 0)
		fail(r, HLAGENT_CNI_NOT_FOUND, q->id, "no pod matches \"%s\"", q->id);
	else if (n > 1)
		fail(r, HLAGENT_CNI_NOT_FOUND, q->id, "%d pods match \"%s\"; be more specific", n, q->id);
}

/* ---- CONNS: the preloaded processes' counters (loop thread) ------------ */

#define CONNS_MAX_LISTED 256  /* connections per reply; the rest are counted */

struct conns_walk {
	long offset;
	cJSON *out, *pods, *procs, *conns;
	size_t listed, skipped;
	long next;
};

static void conns_proc(void *arg, const struct hl_mon_proc_info *p)
{
	struct conns_walk *w = arg;
	cJSON *o = cJSON_CreateObject();

	if (!o || !cJSON_AddItemToArray(w->procs, o)) {
		cJSON_Delete(o);
		w->conns = NULL;
		return;
	}
	cJSON_AddNumberToObject(o, "pid", p->pid);
	cJSON_AddNumberToObject(o, "open", p->open);
	cJSON_AddNumberToObject(o, "conns", (double)p->conns);
	cJSON_AddNumberToObject(o, "fallbacks", (double)p->fallbacks);
	cJSON_AddNumberToObject(o, "tx_bytes", (double)p->tx_bytes);
	cJSON_AddNumberToObject(o, "rx_bytes", (double)p->rx_bytes);
	cJSON_AddNumberToObject(o, "tx_calls", (double)p->tx_calls);
	cJSON_AddNumberToObject(o, "rx_calls", (double)p->rx_calls);
	cJSON_AddNumberToObject(o, "wakeups", (double)p->wakeups);
	cJSON_AddNumberToObject(o, "ctl_calls", (double)p->ctl_calls);
	cJSON_AddNumberToObject(o, "direct", (double)p->direct);
	w->conns = cJSON_AddArrayToObject(o, "connections");
}

static void conns_conn(void *arg, const struct hl_mon_conn_info *c)
{
	struct conns_walk *w = arg;
	char local[96], peer[96];
	cJSON *o;

	if (!w->conns || w->listed >= CONNS_MAX_LISTED) {
		w->skipped++;
		return;
	}
	o = cJSON_CreateObject();
	if (!o || !cJSON_AddItemToArray(w->conns, o)) {
		cJSON_Delete(o);
		return;
	}
	w->listed++;
	snprintf(local, sizeof(local), strchr(c->local, ':') ? "[%s]:%u" : "%s:%u", c->local,
		 c->local_port);
	snprintf(peer, sizeof(peer), strchr(c->peer, ':') ? "[%s]:%u" : "%s:%u", c->peer,
		 c->peer_port);
	cJSON_AddNumberToObject(o, "fd", c->fd);
	cJSON_AddStringToObject(o, "side", c->side ? "accepted" : "connected");
	cJSON_AddStringToObject(o, "local", local);
	cJSON_AddStringToObject(o, "peer", peer);
	cJSON_AddNumberToObject(o, "tx_bytes", (double)c->tx_bytes);
	cJSON_AddNumberToObject(o, "rx_bytes", (double)c->rx_bytes);
	cJSON_AddNumberToObject(o, "tx_calls", (double)c->tx_calls);
	cJSON_AddNumberToObject(o, "rx_calls", (double)c->rx_calls);
	cJSON_AddNumberToObject(o, "wakeups", (double)c->wakeups);
}

/* Pages by pod, like LIST; a page stops after the pod that reached the
 * connection budget. */
static void conns_task(struct agent *a, void *arg)
{
	struct conns_walk *w = arg;
	size_t i;

	w->out = cJSON_CreateObject();
	w->pods = w->out ? cJSON_AddArrayToObject(w->out, "pods") : NULL;
	if (!w->pods)
		return;
	pthread_mutex_lock(&a->lock);
	if (a->n_pods > 1)
		qsort(a->pods, a->n_pods, sizeof(*a->pods), cmp_pod);
	for (i = (size_t)w->offset; i < a->n_pods && w->listed < CONNS_MAX_LISTED; i++) {
		const struct hl_pod *p = a->pods[i];
		cJSON *o;

		if (!p->ep)
			continue;
		o = cJSON_CreateObject();
		if (!o || !cJSON_AddItemToArray(w->pods, o)) {
			cJSON_Delete(o);
			break;
		}
		cJSON_AddStringToObject(o, "pod", p->key);
		w->procs = cJSON_AddArrayToObject(o, "processes");
		if (w->procs)
			hl_mon_pod_walk_stats(p->ep, conns_proc, conns_conn, w);
	}
	if (i < a->n_pods)
		cJSON_AddNumberToObject(w->out, "next", (double)i);
	pthread_mutex_unlock(&a->lock);
	if (w->skipped)
		cJSON_AddNumberToObject(w->out, "unlisted", (double)w->skipped);
}

static void metrics_task(struct agent *a, void *arg)
{
	*(char **)arg = hl_metrics_text(a);
}

static void do_simple(struct agent *a, const struct hl_request *q, struct reply *r)
{
	char *text = NULL;

	switch (q->op) {
	case HL_AGENT_OP_STATUS: do_status(a, r); return;
	case HL_AGENT_OP_LIST: do_list(a, q, r); return;
	case HL_AGENT_OP_GET: do_get(a, q, r); return;
	case HL_AGENT_OP_CONNS: {
		struct conns_walk w = { .offset = q->offset };

		hl_run_on_loop(a, conns_task, &w);
		if (!w.out)
			fail(r, HLAGENT_CNI_TRY_AGAIN, NULL, "out of memory");
		r->obj = w.out;
		return;
	}
	case HL_AGENT_OP_METRICS:
		/* On the loop thread: endpoint usage may only be read there. */
		hl_run_on_loop(a, metrics_task, &text);
		if ((r->obj = cJSON_CreateObject()) && text)
			cJSON_AddStringToObject(r->obj, "text", text);
		free(text);
		return;
	default:
		if ((r->obj = cJSON_CreateObject())) {
			cJSON_AddStringToObject(r->obj, "version", HL_AGENT_VERSION);
			cJSON_AddNumberToObject(r->obj, "protocol", HLAGENT_PROTO_VERSION);
		}
	}
}

/* ---- one connection --------------------------------------------------- */

static void dispatch(struct agent *a, const struct hl_request *q, struct reply *r)
{
	char key[sizeof(((struct hl_pod *)0)->key)];

	switch (q->op) {
	case HL_AGENT_OP_ADD: case HL_AGENT_OP_DEL:
		hl_request_key(q, key, sizeof(key));
		lock_key(a, key);
		if (q->op == HL_AGENT_OP_ADD)
			do_add(a, q, r);
		else
			do_del(a, q, r);
		unlock_key(a, key);
		break;
	case HL_AGENT_OP_CHECK:
		hl_request_key(q, key, sizeof(key));
		lock_key(a, key);
		do_check(a, q, r);
		unlock_key(a, key);
		break;
	case HL_AGENT_OP_GC: do_gc(a, q, r); break;
	default: do_simple(a, q, r);
	}
	if (!r->obj && r->code == 0)
		fail(r, HLAGENT_CNI_TRY_AGAIN, NULL, "out of memory");
}

static void send_reply(int fd, struct reply *r)
{
	cJSON *o = r->code ? cJSON_CreateObject() : r->obj;
	char *s;

	if (!o)
		return;
	cJSON_AddNumberToObject(o, "hostlane", HLAGENT_PROTO_VERSION);
	cJSON_AddBoolToObject(o, "ok", r->code == 0);
	if (r->code) {
		cJSON_AddNumberToObject(o, "code", r->code);
		cJSON_AddStringToObject(o, "msg", r->msg);
		if (r->details[0])
			cJSON_AddStringToObject(o, "details", r->details);
	}
	s = cJSON_PrintUnformatted(o);
	if (s && send(fd, s, strlen(s), MSG_NOSIGNAL) < 0)
		hl_log(HL_LOG_DEBUG, "reply not delivered: %s", strerror(errno));
	free(s);
	cJSON_Delete(o);
	r->obj = NULL;
}

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static void serve_conn(struct agent *a, int fd, char *buf, struct hl_request *q)
{
	struct reply r = { 0 };
	char err[ERRLEN];
	uint64_t t0;
	ssize_t n;
	int rc;

	do
		n = recv(fd, buf, HLAGENT_MAX_REQUEST + 1, MSG_TRUNC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return;  /* gone, or silent past the timeout */
	/* 0 is an empty message or the peer's EOF: answer; a gone peer won't mind. */
	t0 = now_us();
	rc = hl_request_parse(buf, (size_t)n, q, err, sizeof(err));
	if (rc < 0) {
		hl_metrics_error(&a->m, HL_ERR_PROTOCOL);
		hl_log(HL_LOG_WARN, "bad request: %s", err);
		fail(&r, HLAGENT_CNI_PROTOCOL, err, "invalid hostlane agent request");
		send_reply(fd, &r);
		hl_request_free(q);
		return;
	}
	dispatch(a, q, &r);
	hl_metrics_observe(&a->m, q->op, r.code == 0, now_us() - t0);
	if (r.code)
		hl_log(HL_LOG_WARN, "%s failed: %s (%s)", hl_agent_op_name(q->op), r.msg, r.details);
	if (q->op == HL_AGENT_OP_ADD && r.code == 0)
		hl_crash_point("add-before-reply");
	send_reply(fd, &r);
	hl_request_free(q);
}

static void set_timeouts(int fd, long ms)
{
	struct timeval tv = { .tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000 };

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

static void *worker_main(void *arg)
{
	struct agent *a = arg;
	char *buf = malloc(HLAGENT_MAX_REQUEST + 1);
	struct hl_request *q = malloc(sizeof(*q));
	struct pollfd p[2] = { { .fd = a->listen_fd, .events = POLLIN },
			       { .fd = a->stop_fd, .events = POLLIN } };

	bool served = false;

	while (buf && q) {
		int fd, n = poll(p, 2, 0);

		/*
		 * Going idle after serving: hand back to the system what a burst
		 * made glibc keep in this thread's arena, so a burst of ADDs does
		 * not leave the agent bigger. Never on the busy path.
		 */
		if (n == 0 && served) {
			malloc_trim(0);
			served = false;
		}
		if (n == 0)
			n = poll(p, 2, -1);
		if (n < 0 && errno != EINTR)
			break;
		if (p[1].revents)
			break;
		if (!(p[0].revents & POLLIN))
			continue;
		fd = accept4(a->listen_fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			continue;  /* another worker took it (EAGAIN), or the peer left */
		set_timeouts(fd, a->cfg.request_timeout_ms);
		serve_conn(a, fd, buf, q);
		close(fd);
		served = true;
	}
	if (!buf || !q)
		hl_log(HL_LOG_ERROR, "worker: out of memory");
	free(buf);
	free(q);
	atomic_fetch_sub(&a->workers_alive, 1);
	hl_loop_wake(a->loop);
	return NULL;
}

/* ---- the sweeper ------------------------------------------------------ */

/*
 * Releases attachments whose netns is gone while the agent runs: a DEL the
 * agent never saw (it was down, and the plugin went on because the fast path
 * it knew of was none) must not strand the pod's quota and endpoint.
 */
static void sweep(struct agent *a)
{
	char (*keys)[sizeof(((struct hl_pod *)0)->key)] = NULL;
	size_t n = 0;

	pthread_mutex_lock(&a->lock);
	if (a->n_pods)
		keys = calloc(a->n_pods, sizeof(*keys));
	for (size_t i = 0; keys && i < a->n_pods; i++)
		snprintf(keys[n++], sizeof(keys[0]), "%s", a->pods[i]->key);
	pthread_mutex_unlock(&a->lock);
	for (size_t i = 0; i < n; i++) {
		struct reply r = { 0 };
		struct hl_pod *p;

		lock_key(a, keys[i]);
		p = lookup(a, keys[i]);
		if (p && access(p->netns, F_OK) < 0 && errno == ENOENT) {
			hl_log(HL_LOG_INFO, "sweep: %s: netns %s is gone, releasing", p->key, p->netns);
			if (del_locked_key(a, keys[i], &r) == 0)
				atomic_fetch_add(&a->m.reconciled_released, 1);
		}
		unlock_key(a, keys[i]);
	}
	free(keys);
}

static void *sweeper_main(void *arg)
{
	struct agent *a = arg;
	struct pollfd p = { .fd = a->stop_fd, .events = POLLIN };

	while (poll(&p, 1, (int)a->cfg.sweep_ms) == 0 || (p.revents == 0 && errno == EINTR))
		sweep(a);
	atomic_fetch_sub(&a->workers_alive, 1);
	hl_loop_wake(a->loop);
	return NULL;
}

/* ---- the socket ------------------------------------------------------- */

/* A socket file left by a killed agent is removed; a live agent is not. */
static int claim_path(const struct sockaddr_un *sa)
{
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0), rc = 0;

	if (fd < 0)
		return -errno;
	if (connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) == 0)
		rc = -EADDRINUSE;
	else if (errno == ECONNREFUSED)
		unlink(sa->sun_path);
	close(fd);
	return rc;
}

static int listen_socket(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, rc;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if ((rc = hl_mkdir_parent(path)) < 0 || (rc = claim_path(&sa)) < 0)
		return rc;
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	/* Only root (the runtime that runs CNI plugins) may talk to the agent. */
	if (fchmod(fd, 0600) < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    chmod(path, 0600) < 0 || listen(fd, 256) < 0) {
		rc = -errno;
		close(fd);
		return rc;
	}
	return fd;
}

int hl_server_start(struct agent *a)
{
	int rc;

	crash_agent = a;
	a->n_workers = a->cfg.workers;
	a->n_busy = a->n_workers + 1;
	a->busy = calloc(a->n_busy, sizeof(*a->busy));
	a->workers = calloc(a->n_workers + 1, sizeof(*a->workers));
	a->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (!a->busy || !a->workers || a->stop_fd < 0)
		return -ENOMEM;
	a->listen_fd = listen_socket(a->cfg.socket);
	if (a->listen_fd < 0)
		return a->listen_fd;
	for (unsigned i = 0; i < a->n_workers; i++) {
		rc = -pthread_create(&a->workers[i], NULL, worker_main, a);
		if (rc < 0) {
			a->n_workers = i;
			return rc;
		}
		atomic_fetch_add(&a->workers_alive, 1);
	}
	if (a->cfg.sweep_ms > 0) {
		rc = -pthread_create(&a->sweeper, NULL, sweeper_main, a);
		if (rc < 0)
			return rc;
		a->has_sweeper = true;
		atomic_fetch_add(&a->workers_alive, 1);
	}
	return 0;
}

void hl_server_stop(struct agent *a)
{
	uint64_t one = 1;

	if (a->stop_fd >= 0 && write(a->stop_fd, &one, sizeof(one)) < 0)
		hl_log(HL_LOG_ERROR, "stop eventfd: %s", strerror(errno));
	/* Workers may wait for a loop task: keep serving the loop until all left. */
	while (atomic_load(&a->workers_alive) > 0)
		hl_loop_run_once(a->loop, 100);
	for (unsigned i = 0; i < a->n_workers; i++)
		pthread_join(a->workers[i], NULL);
	if (a->has_sweeper)
		pthread_join(a->sweeper, NULL);
	a->has_sweeper = false;
	if (a->listen_fd >= 0) {
		close(a->listen_fd);
		unlink(a->cfg.socket);
	}
	if (a->stop_fd >= 0)
		close(a->stop_fd);
	a->listen_fd = a->stop_fd = -1;
	free(a->workers);
	free(a->busy);
	a->workers = NULL;
	a->busy = NULL;
}

/* ---- start-up reconciliation and shutdown ----------------------------- */

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
		reserve(a, p->quota_bytes, true);
		rc = ep_create(a, p);
		if (rc < 0) {
			hl_metrics_error(&a->m, HL_ERR_ENDPOINT);
			hl_log(HL_LOG_ERROR, "reconcile: %s: cannot re-create endpoint: %s (CHECK will fail; DEL releases)",
			       p->key, strerror(-rc));
		}
	}
	pthread_mutex_lock(&a->lock);
	rc = insert_locked(a, p);
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
		ep_destroy_task(a, a->pods[i]);
		free(a->pods[i]);
	}
	free(a->pods);
	a->pods = NULL;
	a->n_pods = a->cap_pods = 0;
}
