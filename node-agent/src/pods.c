/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The pod table (under the agent's lock), per-pod keys that serialize ADD
 * and DEL of one attachment, the monitor
 * calls that must run on the loop thread (tasks handed over by workers),
 * and fault injection for the crash tests.
 */
#include "server.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <signal.h>

#include "hl_util.h"
#include "monitor.h"

#define EP_MAX_IPS 8  /* addresses per pod the monitor takes */

struct ep_job {
	struct hl_pod *pod;
	int netns_fd;
	int err;
};

struct hl_task {
	void (*fn)(struct agent *, void *);
	void *arg;
	bool done;
	struct hl_task *next;
};

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

int hl_pods_insert_locked(struct agent *a, struct hl_pod *p)
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

void hl_pods_remove_locked(struct agent *a, const struct hl_pod *p)
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
void hl_pods_lock_key(struct agent *a, const char *key)
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

void hl_pods_unlock_key(struct agent *a, const char *key)
{
	pthread_mutex_lock(&a->lock);
	for (unsigned i = 0; i < a->n_busy; i++)
		if (strcmp(a->busy[i], key) == 0)
			a->busy[i][0] = '\0';
	pthread_cond_broadcast(&a->cond);
	pthread_mutex_unlock(&a->lock);
}

struct hl_pod *hl_pods_lookup(struct agent *a, const char *key)
{
	struct hl_pod *p;

	pthread_mutex_lock(&a->lock);
	p = find_locked(a, key, NULL);
	pthread_mutex_unlock(&a->lock);
	return p;
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
	j->pod->ep = hl_mon_pod_add(a->ep_node, name, j->netns_fd, ips, n_ips, j->pod->quota_bytes);
	j->err = j->pod->ep ? 0 : -errno;
	if (j->pod->ep)
		hl_kube_pod_ips(a, j->pod);  /* and the addresses the pod watch knows */
}

void hl_pod_ep_destroy_task(struct agent *a, void *arg)
{
	struct hl_pod *p = arg;

	(void)a;
	if (p->ep)
		hl_mon_pod_del(p->ep);
	p->ep = NULL;
}

int hl_pod_ep_create(struct agent *a, struct hl_pod *p)
{
	/* Opened here, on the worker: the loop never opens what a request
	 * names (a FIFO would stop it for every pod). */
	struct ep_job j = { .pod = p, .netns_fd = hl_netns_open(p->netns) };

	if (j.netns_fd < 0)
		return j.netns_fd;
	hl_run_on_loop(a, ep_create_task, &j);
	close(j.netns_fd);
	return j.err;
}

void hl_pod_ep_destroy(struct agent *a, struct hl_pod *p)
{
	if (p->ep)
		hl_run_on_loop(a, hl_pod_ep_destroy_task, p);
}

static struct agent *crash_agent;

void hl_crash_point(const char *point)
{
	if (crash_agent && crash_agent->crash_at && strcmp(crash_agent->crash_at, point) == 0) {
		hl_log(HL_LOG_WARN, "fault injection: SIGKILL at %s", point);
		raise(SIGKILL);
	}
}

void hl_crash_mid_persist(void)
{
	hl_crash_point("add-mid-persist");
}

void hl_crash_setup(struct agent *a)
{
	crash_agent = a;
}
