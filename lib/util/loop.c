/* SPDX-License-Identifier: Apache-2.0 */
#include "hl_loop.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#define MAX_EVENTS 64

struct watch {
	int fd;
	uint32_t events;
	hl_loop_cb cb;
	void *arg;
};

struct timer {
	int64_t id;
	uint64_t due_ms;
	hl_timer_cb cb;
	void *arg;
};

struct hl_loop {
	int epfd;
	int wakefd;
	bool stop;
	/* Watches indexed by fd: fds are small and dense. */
	struct watch **by_fd;
	size_t nfd;
	/* Timers: an unsorted array; the agent has a handful at most. */
	struct timer *timers;
	size_t ntimers, cap_timers;
	int64_t next_timer_id;
	/* The batch being dispatched, so del can drop pending events of an fd. */
	struct epoll_event *batch;
	int batch_n;
	int64_t busy_poll_ns;
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void drain_wake(struct hl_loop *loop, int fd, uint32_t events, void *arg)
{
	uint64_t v;

	(void)loop; (void)events; (void)arg;
	while (read(fd, &v, sizeof(v)) == sizeof(v))
		;
}

struct hl_loop *hl_loop_new(void)
{
	struct hl_loop *loop = calloc(1, sizeof(*loop));

	if (!loop)
		return NULL;
	loop->epfd = epoll_create1(EPOLL_CLOEXEC);
	loop->wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (loop->epfd < 0 || loop->wakefd < 0 ||
	    hl_loop_add(loop, loop->wakefd, EPOLLIN, drain_wake, NULL) < 0) {
		int err = errno;

		hl_loop_free(loop);
		errno = err;
		return NULL;
	}
	return loop;
}

void hl_loop_free(struct hl_loop *loop)
{
	if (!loop)
		return;
	for (size_t i = 0; i < loop->nfd; i++)
		free(loop->by_fd[i]);
	free(loop->by_fd);
	free(loop->timers);
	if (loop->wakefd >= 0)
		close(loop->wakefd);
	if (loop->epfd >= 0)
		close(loop->epfd);
	free(loop);
}

static int grow_fds(struct hl_loop *loop, int fd)
{
	size_t n = loop->nfd ? loop->nfd : 64;
	struct watch **p;

	while (n <= (size_t)fd)
		n *= 2;
	if (n == loop->nfd)
		return 0;
	p = realloc(loop->by_fd, n * sizeof(*p));
	if (!p)
		return -ENOMEM;
	memset(p + loop->nfd, 0, (n - loop->nfd) * sizeof(*p));
	loop->by_fd = p;
	loop->nfd = n;
	return 0;
}

int hl_loop_add(struct hl_loop *loop, int fd, uint32_t events, hl_loop_cb cb, void *arg)
{
	struct epoll_event ev = { .events = events, .data.fd = fd };
	struct watch *w;
	int err;

	if (fd < 0 || !cb)
		return -EINVAL;
	if ((size_t)fd >= loop->nfd && (err = grow_fds(loop, fd)) < 0)
		return err;
	if (loop->by_fd[fd])
		return -EEXIST;
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	*w = (struct watch){ .fd = fd, .events = events, .cb = cb, .arg = arg };
	if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		err = -errno;
		free(w);
		return err;
	}
	loop->by_fd[fd] = w;
	return 0;
}

int hl_loop_mod(struct hl_loop *loop, int fd, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.fd = fd };

	if (fd < 0 || (size_t)fd >= loop->nfd || !loop->by_fd[fd])
		return -ENOENT;
	if (epoll_ctl(loop->epfd, EPOLL_CTL_MOD, fd, &ev) < 0)
		return -errno;
	loop->by_fd[fd]->events = events;
	return 0;
}

int hl_loop_del(struct hl_loop *loop, int fd)
{
	if (fd < 0 || (size_t)fd >= loop->nfd || !loop->by_fd[fd])
		return -ENOENT;
	/* The fd may already be closed by its owner; epoll forgot it then. */
	epoll_ctl(loop->epfd, EPOLL_CTL_DEL, fd, NULL);
	for (int i = 0; i < loop->batch_n; i++)
		if (loop->batch[i].data.fd == fd)
			loop->batch[i].data.fd = -1;
	free(loop->by_fd[fd]);
	loop->by_fd[fd] = NULL;
	return 0;
}

int64_t hl_timer_add(struct hl_loop *loop, uint64_t ms, hl_timer_cb cb, void *arg)
{
	if (loop->ntimers == loop->cap_timers) {
		size_t n = loop->cap_timers ? loop->cap_timers * 2 : 8;
		struct timer *t = realloc(loop->timers, n * sizeof(*t));

		if (!t)
			return -ENOMEM;
		loop->timers = t;
		loop->cap_timers = n;
	}
	loop->timers[loop->ntimers++] = (struct timer){
		.id = ++loop->next_timer_id, .due_ms = now_ms() + ms, .cb = cb, .arg = arg,
	};
	return loop->next_timer_id;
}

void hl_timer_cancel(struct hl_loop *loop, int64_t id)
{
	for (size_t i = 0; i < loop->ntimers; i++) {
		if (loop->timers[i].id == id) {
			loop->timers[i] = loop->timers[--loop->ntimers];
			return;
		}
	}
}

static int next_timeout(const struct hl_loop *loop, int timeout_ms)
{
	uint64_t now = now_ms();

	for (size_t i = 0; i < loop->ntimers; i++) {
		uint64_t due = loop->timers[i].due_ms;
		int left = due <= now ? 0 : (int)(due - now > 3600000 ? 3600000 : due - now);

		if (timeout_ms < 0 || left < timeout_ms)
			timeout_ms = left;
	}
	return timeout_ms;
}

static int run_timers(struct hl_loop *loop)
{
	uint64_t now = now_ms();
	int n = 0;

	/* A callback may add or cancel timers: rescan from the start each time. */
	for (size_t i = 0; i < loop->ntimers;) {
		if (loop->timers[i].due_ms > now) {
			i++;
			continue;
		}
		struct timer t = loop->timers[i];

		loop->timers[i] = loop->timers[--loop->ntimers];
		t.cb(loop, t.arg);
		n++;
		i = 0;
	}
	return n;
}

int hl_loop_run_once(struct hl_loop *loop, int timeout_ms)
{
	struct epoll_event evs[MAX_EVENTS];
	int n, ran = 0;

	n = epoll_wait(loop->epfd, evs, MAX_EVENTS, next_timeout(loop, timeout_ms));
	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	/*
	 * A callback may delete any fd, including one with an event still
	 * pending in this batch: hl_loop_del() marks those events dead (-1), so
	 * a closed-and-reused fd number never gets its predecessor's event.
	 */
	loop->batch = evs;
	loop->batch_n = n;
	for (int i = 0; i < n; i++) {
		int fd = evs[i].data.fd;

		if (fd < 0 || (size_t)fd >= loop->nfd || !loop->by_fd[fd])
			continue;
		loop->by_fd[fd]->cb(loop, fd, evs[i].events, loop->by_fd[fd]->arg);
		ran++;
	}
	loop->batch = NULL;
	loop->batch_n = 0;
	return ran + run_timers(loop);
}

void hl_loop_set_busy_poll(struct hl_loop *loop, int64_t ns)
{
	loop->busy_poll_ns = ns > 0 ? ns : 0;
}

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int hl_loop_run(struct hl_loop *loop)
{
	int64_t poll_until = 0;

	loop->stop = false;
	while (!loop->stop) {
		bool polling = loop->busy_poll_ns && poll_until && now_ns() < poll_until;
		int r = hl_loop_run_once(loop, polling ? 0 : -1);

		if (r < 0)
			return r;
		if (r > 0 && loop->busy_poll_ns)
			poll_until = now_ns() + loop->busy_poll_ns;
	}
	return 0;
}

void hl_loop_stop(struct hl_loop *loop)
{
	loop->stop = true;
}

void hl_loop_wake(struct hl_loop *loop)
{
	uint64_t one = 1;
	ssize_t r = write(loop->wakefd, &one, sizeof(one));

	(void)r;
}
