/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The parser of the exec handover state (pl_exec_state.h, docs/preload.md).
 * Pure: no fd is touched, so the libFuzzer harness can drive it
 * (libhostlane/fuzz/fuzz_pl_exec_state.c). The state comes from another
 * program image, and the variable naming it from anyone who can set the
 * environment: every field is checked before pl_exec_restore.c acts on it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "pl_private.h"

/* 2^53 us: far beyond any timeout the kernel accepts, and no overflow when
 * converted to ns. */
#define TIMEO_MAX (1LL << 53)

static bool fd_ok(int32_t fd)
{
	return fd >= 0 && fd < PL_FD_MAX;
}

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

static bool addr_ok(const uint8_t *sa, uint32_t len, int32_t family)
{
	sa_family_t f;

	if (len == 0)
		return true;
	if (len < sizeof(sa_family_t) || len > sizeof(struct sockaddr_storage))
		return false;
	memcpy(&f, sa, sizeof(f));
	return f == family;
}

/* The fds a record of @kind must name (the rest must be -1). */
static unsigned fds_wanted(uint32_t kind)
{
	switch (kind) {
	case PL_X_CONN:
	case PL_X_QUEUED:
	case PL_X_CLOSED:
		return 4;
	case PL_X_LISTEN:
		return 2;
	default:
		return 0;
	}
}

static int rec_check(const struct pl_exec_rec *r, uint32_t version)
{
	unsigned want = fds_wanted(r->kind);

	if (version == 1 && ((r->flags & ~PL_XF_ALL_V1) || r->linger_s))
		return -EPROTO;
	if (r->kind < PL_X_PENDING || r->kind > PL_X_CLOSED || (r->flags & ~PL_XF_ALL) ||
	    (r->kind == PL_X_CLOSED ? r->fd != -1 : !fd_ok(r->fd)) ||
	    (r->family != AF_INET && r->family != AF_INET6))
		return -EPROTO;
	for (unsigned i = 0; i < 4; i++)
		if (i < want ? !fd_ok(r->fds[i]) : r->fds[i] != -1)
			return -EPROTO;
	if (r->side > 1 || r->shref < -1 || r->shref >= PL_SHREF_SLOTS ||
	    r->pending_err < 0 || r->pending_err > 4095 || r->so_error < 0 || r->so_error > 4095 ||
	    r->rcvtimeo_us < PL_TIMEO_NOW || r->rcvtimeo_us > TIMEO_MAX ||
	    r->sndtimeo_us < PL_TIMEO_NOW || r->sndtimeo_us > TIMEO_MAX ||
	    !addr_ok(r->local, r->local_len, r->family) || !addr_ok(r->peer, r->peer_len, r->family))
		return -EPROTO;
	if (r->kind == PL_X_LISTEN && !r->port)
		return -EPROTO;
	if (r->kind == PL_X_QUEUED &&
	    ((r->qpeer.family != 4 && r->qpeer.family != 6) || !r->port || !r->peer_port))
		return -EPROTO;
	return 0;
}

/* The LISTEN record of fd @fd among the first @n (sorted by fd), or NULL. */
static const struct pl_exec_rec *find_listener(const struct pl_exec_rec *r, uint32_t n, int32_t fd)
{
	uint32_t lo = 0, hi = n;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (r[mid].fd == fd)
			return r[mid].kind == PL_X_LISTEN ? &r[mid] : NULL;
		if (r[mid].fd < fd)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* No fd is named twice anywhere in the state (a double close in the new
 * image could hit an fd it reuses). */
static int fds_distinct(const struct pl_exec_rec *r, uint32_t n, int32_t shref_fd)
{
	size_t cap = (size_t)n * 5 + 1, k = 0;
	int *all = malloc(cap * sizeof(*all));
	int rc = 0;

	if (!all)
		return -ENOMEM;
	for (uint32_t i = 0; i < n; i++) {
		if (r[i].kind != PL_X_QUEUED && r[i].kind != PL_X_CLOSED)
			all[k++] = r[i].fd;
		for (unsigned j = 0; j < fds_wanted(r[i].kind); j++)
			all[k++] = r[i].fds[j];
	}
	if (shref_fd >= 0)
		all[k++] = shref_fd;
	qsort(all, k, sizeof(*all), cmp_int);
	for (size_t i = 1; i < k; i++)
		if (all[i] == all[i - 1])
			rc = -EPROTO;
	free(all);
	return rc;
}

int pl_exec_state_check(const void *buf, size_t len, int pid, const struct pl_exec_rec **recs,
			int *shref_fd)
{
	const struct pl_exec_hdr *h = buf;
	const struct pl_exec_rec *r;
	uint32_t n, n_own = 0;
	int rc;

	if (!buf || len < sizeof(*h) || ((uintptr_t)buf & 7u))
		return -EPROTO;
	if (h->magic != PL_EXEC_MAGIC || (h->version != PL_EXEC_VERSION && h->version != 1) ||
	    h->rec_size != sizeof(*r) || h->n_recs > PL_EXEC_MAX_RECS ||
	    len != sizeof(*h) + (size_t)h->n_recs * sizeof(*r) ||
	    (h->shref_fd != -1 && !fd_ok(h->shref_fd)) || h->reserved[0] || h->reserved[1])
		return -EPROTO;
	if (h->pid != pid)
		return -ESRCH;
	n = h->n_recs;
	r = (const struct pl_exec_rec *)(h + 1);
	/* The application's fds first, strictly increasing; queued
	 * connections after them, each naming a listener of the state. */
	while (n_own < n && r[n_own].kind != PL_X_QUEUED && r[n_own].kind != PL_X_CLOSED) {
		if (rec_check(&r[n_own], h->version) || (n_own && r[n_own].fd <= r[n_own - 1].fd))
			return -EPROTO;
		n_own++;
	}
	for (uint32_t i = n_own; i < n; i++) {
		const struct pl_exec_rec *l;

		if ((r[i].kind != PL_X_QUEUED && r[i].kind != PL_X_CLOSED) || rec_check(&r[i], h->version))
			return -EPROTO;
		if (r[i].kind == PL_X_CLOSED)
			continue;
		l = find_listener(r, n_own, r[i].fd);
		if (!l || l->port != r[i].port)
			return -EPROTO;
	}
	rc = fds_distinct(r, n, h->shref_fd);
	if (rc)
		return rc == -ENOMEM ? -ENOMEM : -EPROTO;
	*recs = r;
	*shref_fd = h->shref_fd;
	return (int)n;
}
