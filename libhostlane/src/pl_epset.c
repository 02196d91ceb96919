/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Epoll bookkeeping of the preload layer: per application epoll fd, the
 * hostlane sockets it holds with the events and data the application gave,
 * and the edge-triggered / one-shot state. Pure logic, no syscalls.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pl_private.h"

struct pl_epset *pl_epset_new(void)
{
	struct pl_epset *e = calloc(1, sizeof(*e));

	if (!e) {
		errno = ENOMEM;
		return NULL;
	}
	pthread_mutex_init(&e->lock, NULL);
	e->gen = pl_fork_gen();
	return e;
}

void pl_epset_free(struct pl_epset *e)
{
	if (!e)
		return;
	pthread_mutex_destroy(&e->lock);
	free(e->m);
	free(e->live);
	free(e);
}

struct pl_epmember *pl_epset_find(struct pl_epset *e, int fd)
{
	for (unsigned i = 0; i < e->n; i++)
		if (e->m[i].fd == fd)
			return &e->m[i];
	return NULL;
}

int pl_epset_add(struct pl_epset *e, int fd, struct pl_sock *s, const struct epoll_event *ev)
{
	if (pl_epset_find(e, fd))
		return -EEXIST;
	if (e->n == e->cap) {
		unsigned cap = e->cap ? e->cap * 2 : 8;
		struct pl_epmember *m = realloc(e->m, sizeof(*m) * cap);

		if (!m)
			return -ENOMEM;
		e->m = m;
		e->cap = cap;
	}
	memset(&e->m[e->n], 0, sizeof(e->m[0]));
	e->m[e->n].fd = fd;
	e->m[e->n].s = s;
	e->m[e->n].events = ev->events;
	e->m[e->n].data = ev->data;
	e->m[e->n].live = -1;
	e->n++;
	return 0;
}

int pl_epset_mod(struct pl_epset *e, int fd, const struct epoll_event *ev)
{
	struct pl_epmember *m = pl_epset_find(e, fd);

	if (!m)
		return -ENOENT;
	m->events = ev->events;
	m->data = ev->data;
	m->disabled = false;
	m->last = 0;       /* a MOD re-reports what is ready, as the kernel does */
	m->last_bytes = 0;
	return 0;
}

int pl_epset_del(struct pl_epset *e, int fd)
{
	struct pl_epmember *m = pl_epset_find(e, fd);

	if (!m)
		return -ENOENT;
	*m = e->m[--e->n];
	return 0;
}

int pl_epset_live_ref(struct pl_epset *e, int fd)
{
	for (unsigned i = 0; i < e->n_live; i++)
		if (e->live[i].fd == fd) {
			e->live[i].refs++;
			return 0;
		}
	if (e->n_live == e->cap_live) {
		unsigned cap = e->cap_live ? e->cap_live * 2 : 4;
		struct pl_eplive *l = realloc(e->live, sizeof(*l) * cap);

		if (!l)
			return -ENOMEM;
		e->live = l;
		e->cap_live = cap;
	}
	e->live[e->n_live].fd = fd;
	e->live[e->n_live++].refs = 1;
	return 1;
}

int pl_epset_live_unref(struct pl_epset *e, int fd)
{
	for (unsigned i = 0; i < e->n_live; i++)
		if (e->live[i].fd == fd) {
			if (--e->live[i].refs)
				return 0;
			e->live[i] = e->live[--e->n_live];
			return 1;
		}
	return -ENOENT;
}

void pl_epset_write_blocked(struct pl_epmember *m, uint32_t full)
{
	if (full != m->last_full) {
		m->last &= ~(uint32_t)EPOLLOUT;
		m->last_full = full;
	}
}

uint32_t pl_epset_report(struct pl_epmember *m, uint32_t ready, int64_t bytes)
{
	uint32_t want = (m->events & ~(uint32_t)(EPOLLET | EPOLLONESHOT | EPOLLEXCLUSIVE |
						 EPOLLWAKEUP)) | EPOLLERR | EPOLLHUP;
	uint32_t now = ready & want, out = now;

	if (m->disabled)
		return 0;
	if (m->events & EPOLLET) {
		out = now & ~m->last;
		if ((now & EPOLLIN) && bytes > m->last_bytes)
			out |= EPOLLIN;
		if (out)
			out = now;  /* an edge reports the whole current state */
		m->last = now;
		m->last_bytes = bytes;
	}
	if (out && (m->events & EPOLLONESHOT))
		m->disabled = true;
	return out;
}
