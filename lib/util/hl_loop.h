/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The agent's event loop (hostlaned and the monitor it hosts): one epoll
 * instance, typed callbacks per fd, and coarse timers. Everything the agent
 * serves (the plugin socket, every pod endpoint and its clients, the
 * metrics listener, signals through a signalfd) is an fd registered here
 * with a callback.
 *
 * Not thread-safe: add/mod/del only from the loop's thread, except
 * hl_loop_wake(), which any thread may call.
 */
#ifndef HOSTLANE_LOOP_H
#define HOSTLANE_LOOP_H

#include <stdbool.h>
#include <stdint.h>

struct hl_loop;

/* Called with the epoll events (EPOLLIN, EPOLLOUT, EPOLLHUP, ...) of @fd. */
typedef void (*hl_loop_cb)(struct hl_loop *loop, int fd, uint32_t events, void *arg);
/* Called once when a timer expires; timers are one-shot. */
typedef void (*hl_timer_cb)(struct hl_loop *loop, void *arg);

/* Returns a loop or NULL with errno set (EMFILE, ENOMEM). */
struct hl_loop *hl_loop_new(void);

/* Frees the loop. Registered fds are not closed: their owners close them. */
void hl_loop_free(struct hl_loop *loop);

/*
 * Watches @fd for @events and calls @cb(loop, fd, events, arg) when ready.
 * Returns 0, -EEXIST (fd already registered), -ENOMEM, or the -errno of
 * epoll_ctl.
 */
int hl_loop_add(struct hl_loop *loop, int fd, uint32_t events, hl_loop_cb cb, void *arg);

/* Changes the events of a registered fd. 0, -ENOENT, or -errno of epoll_ctl. */
int hl_loop_mod(struct hl_loop *loop, int fd, uint32_t events);

/*
 * Stops watching @fd. Safe to call from inside any callback, including @fd's
 * own: a pending event for a removed fd is not delivered. 0 or -ENOENT.
 */
int hl_loop_del(struct hl_loop *loop, int fd);

/*
 * Arms a one-shot timer @ms milliseconds from now. Returns a timer id > 0 or
 * -ENOMEM. hl_timer_cancel() with that id before it fires cancels it.
 */
int64_t hl_timer_add(struct hl_loop *loop, uint64_t ms, hl_timer_cb cb, void *arg);
void hl_timer_cancel(struct hl_loop *loop, int64_t id);

/*
 * Waits up to @timeout_ms (-1: until something happens) and dispatches what
 * is ready and what timers are due. Returns the number of callbacks run, or
 * -errno of epoll_wait other than EINTR (EINTR returns 0).
 */
int hl_loop_run_once(struct hl_loop *loop, int timeout_ms);

/*
 * After a round that ran callbacks, hl_loop_run() keeps polling (epoll_wait
 * with timeout 0) for @ns before it sleeps again: requests that come in
 * bursts (the monitor's connection set-ups) then find the loop awake and
 * cost their senders no wake-up. It spends CPU only while work keeps
 * coming. 0 (the default) turns it off.
 */
void hl_loop_set_busy_poll(struct hl_loop *loop, int64_t ns);

/* Runs until hl_loop_stop(). Returns 0, or a negative errno from run_once. */
int hl_loop_run(struct hl_loop *loop);

/* Makes hl_loop_run() return after the current iteration. Loop thread only. */
void hl_loop_stop(struct hl_loop *loop);

/* Wakes a loop blocked in epoll_wait; thread-safe and async-signal-safe. */
void hl_loop_wake(struct hl_loop *loop);

#endif
