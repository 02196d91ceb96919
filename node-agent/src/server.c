/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The plugin socket: a fixed pool of workers, each accepting one
 * SOCK_SEQPACKET connection at a time, so at most n_workers requests are in
 * flight and a burst waits in the listen backlog (bounded memory). ADD and
 * DEL of one attachment serialize on its key; different pods proceed. Also
 * the sweeper, which releases attachments whose netns went away.
 */
#include "server.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <malloc.h>
#include <poll.h>
#include <stdarg.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>

#include "hl_util.h"

void hl_reply_fail(struct hl_reply *r, int code, const char *details, const char *fmt, ...)
{
	va_list ap;

	r->code = code;
	va_start(ap, fmt);
	vsnprintf(r->msg, sizeof(r->msg), fmt, ap);
	va_end(ap);
	snprintf(r->details, sizeof(r->details), "%s", details ? details : "");
}

static void dispatch(struct agent *a, const struct hl_request *q, struct hl_reply *r)
{
	char key[sizeof(((struct hl_pod *)0)->key)];

	switch (q->op) {
	case HL_AGENT_OP_ADD: case HL_AGENT_OP_DEL:
		hl_request_key(q, key, sizeof(key));
		hl_pods_lock_key(a, key);
		if (q->op == HL_AGENT_OP_ADD)
			hl_cni_add(a, q, r);
		else
			hl_cni_del(a, q, r);
		hl_pods_unlock_key(a, key);
		break;
	case HL_AGENT_OP_CHECK:
		hl_request_key(q, key, sizeof(key));
		hl_pods_lock_key(a, key);
		hl_cni_check(a, q, r);
		hl_pods_unlock_key(a, key);
		break;
	case HL_AGENT_OP_GC: hl_cni_gc(a, q, r); break;
	default: hl_query(a, q, r);
	}
	if (!r->obj && r->code == 0)
		hl_reply_fail(r, HLAGENT_CNI_TRY_AGAIN, NULL, "out of memory");
}

static void send_reply(int fd, struct hl_reply *r)
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
	struct hl_reply r = { 0 };
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
		hl_reply_fail(&r, HLAGENT_CNI_PROTOCOL, err, "invalid hostlane agent request");
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

/* Logs running out of fds at most once a second, for all workers. */
static void accept_failed(struct agent *a)
{
	static _Atomic uint64_t last;
	uint64_t now = now_us(), t = atomic_load(&last);

	(void)a;
	if (now - t >= 1000000 && atomic_compare_exchange_strong(&last, &t, now))
		hl_log(HL_LOG_WARN, "plugin socket: accept: %s; waiting", strerror(EMFILE));
}

/*
 * A worker's wait set: the listening socket with EPOLLEXCLUSIVE, so that a
 * connection wakes one idle worker rather than all of them (each would try
 * accept4() and all but one find nothing), and the stop eventfd, which
 * wakes every worker. -1 with errno on failure.
 */
static int worker_epoll(const struct agent *a)
{
	struct epoll_event l = { .events = EPOLLIN | EPOLLEXCLUSIVE, .data.u32 = 0 };
	struct epoll_event s = { .events = EPOLLIN, .data.u32 = 1 };
	int ep = epoll_create1(EPOLL_CLOEXEC);

	if (ep < 0)
		return -1;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, a->listen_fd, &l) < 0 ||
	    epoll_ctl(ep, EPOLL_CTL_ADD, a->stop_fd, &s) < 0) {
		int e = errno;

		close(ep);
		errno = e;
		return -1;
	}
	return ep;
}

static void *worker_main(void *arg)
{
	struct agent *a = arg;
	char *buf = malloc(HLAGENT_MAX_REQUEST + 1);
	struct hl_request *q = malloc(sizeof(*q));
	int ep = worker_epoll(a);
	bool served = false;

	if (ep < 0)
		hl_log(HL_LOG_ERROR, "worker: epoll: %s", strerror(errno));
	while (buf && q && ep >= 0) {
		struct epoll_event ev[2];
		bool stop = false, conn = false;
		int fd, n = epoll_wait(ep, ev, 2, 0);

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
			n = epoll_wait(ep, ev, 2, -1);
		if (n < 0 && errno != EINTR)
			break;
		for (int i = 0; i < n; i++) {
			stop |= ev[i].data.u32 == 1;
			conn |= ev[i].data.u32 == 0;
		}
		if (stop)
			break;
		if (!conn)
			continue;
		fd = accept4(a->listen_fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0 && (errno == EMFILE || errno == ENFILE)) {
			/* Out of fds: the pending connection stays readable;
			 * wait (or stop) rather than spin on it. */
			struct pollfd p = { .fd = a->stop_fd, .events = POLLIN };

			accept_failed(a);
			poll(&p, 1, 250);
			continue;
		}
		if (fd < 0)
			continue;  /* the peer left, or another worker took it */
		set_timeouts(fd, a->cfg.request_timeout_ms);
		serve_conn(a, fd, buf, q);
		close(fd);
		served = true;
	}
	if (!buf || !q)
		hl_log(HL_LOG_ERROR, "worker: out of memory");
	if (ep >= 0)
		close(ep);
	free(buf);
	free(q);
	atomic_fetch_sub(&a->workers_alive, 1);
	hl_loop_wake(a->loop);
	return NULL;
}

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
		struct hl_reply r = { 0 };
		struct hl_pod *p;

		hl_pods_lock_key(a, keys[i]);
		p = hl_pods_lookup(a, keys[i]);
		if (p && access(p->netns, F_OK) < 0 && errno == ENOENT) {
			hl_log(HL_LOG_INFO, "sweep: %s: netns %s is gone, releasing", p->key, p->netns);
			if (hl_cni_del_key(a, keys[i], &r) == 0)
				atomic_fetch_add(&a->m.reconciled_released, 1);
		}
		hl_pods_unlock_key(a, keys[i]);
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

	hl_crash_setup(a);
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
