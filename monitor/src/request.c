/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Requests that concern one client alone: HELLO (with the stats region and
 * the doorbell it hands out), REGION_ALLOC/REGION_FREE, LISTEN/UNLISTEN.
 */
#include "mon_private.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>
#include <sys/mman.h>

#include "hl_codec.h"

/* The client's stats region: a small sealed memfd it keeps its counters in
 * (struct hl_stats_hdr); we keep a mapping to read them. Return: the fd
 * for the reply, or -1 (the client then has no stats: not an error). */
int mon_stats_new(struct mon_client *c)
{
	int fd = memfd_create("hostlane-stats", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	struct hl_stats_hdr *h;

	if (fd < 0)
		return -1;
	if (ftruncate(fd, HL_STATS_SIZE) < 0 ||
	    fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0) {
		close(fd);
		return -1;
	}
	h = mmap(NULL, HL_STATS_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (h == MAP_FAILED) {
		close(fd);
		return -1;
	}
	h->magic = HL_STATS_MAGIC;
	h->version = HL_STATS_VERSION;
	h->hdr_size = HL_STATS_HDR;
	h->rec_size = HL_STATS_REC;
	h->n_recs = HL_STATS_RECS;
	h->pid = (int32_t)c->pid;
	c->stats = h;
	return fd;
}

void mon_hello(struct mon_client *c, const struct hl_proto_msg *req, struct hl_proto_msg *rep)
{
	const struct hl_proto_hello_req *h = &req->u.hello_req;
	struct hl_proto_hello_rep *r = &rep->u.hello_rep;
	struct hl_mon_pod *ep = c->ep;

	if (h->min_version > HL_PROTO_VERSION || h->max_version < HL_PROTO_VERSION_MIN) {
		mon_set_error(rep, -EPROTONOSUPPORT, "versions %u..%u not supported (this endpoint: %u..%u)",
			  h->min_version, h->max_version, HL_PROTO_VERSION_MIN, HL_PROTO_VERSION);
		return;
	}
	c->hello = true;
	c->version = h->max_version < HL_PROTO_VERSION ? h->max_version : HL_PROTO_VERSION;
	r->version = c->version;
	r->n_ips = (uint16_t)ep->n_ips;
	r->quota_bytes = ep->quota.limit;
	r->used_bytes = ep->quota.used;
	memcpy(r->pod_key, ep->key, sizeof(r->pod_key));
	memcpy(r->ips, ep->ips, sizeof(ep->ips[0]) * ep->n_ips);
}

/* Returns the fd to attach to the reply, or -1. */
int mon_region_alloc(struct mon_client *c, const struct hl_proto_msg *req,
			   struct hl_proto_msg *rep)
{
	const struct hl_proto_region_req *q = &req->u.region_req;
	char reason[HL_PROTO_REASON_MAX];
	struct mon_region *g;
	uint64_t size = q->size;
	int rc;

	if (q->n_pairs) {
		uint64_t need = shmq_region_bytes(q->n_pairs, q->capacity);

		if (!need || (size && size < need)) {
			mon_set_error(rep, -EINVAL, "%u pairs of %u bytes do not fit in %llu bytes",
				  q->n_pairs, q->capacity, (unsigned long long)size);
			return -1;
		}
		size = size > need ? size : need;
	}
	rc = mon_region_new(c->ep, size, &g, reason, sizeof(reason));
	if (rc) {
		mon_set_error(rep, rc, "%s", reason);
		return -1;
	}
	if (q->n_pairs) {
		rc = mon_region_layout(g, q->n_pairs, q->capacity, (enum shmq_mode)q->mode);
		if (rc) {
			mon_region_release(c->ep->node, g);
			mon_set_error(rep, rc, "cannot lay out the region: %s", strerror(-rc));
			return -1;
		}
	}
	g->holder[0] = c;
	rep->u.region_rep.region_id = g->id;
	rep->u.region_rep.size = g->bytes;
	rep->u.region_rep.flags = shmq_region_is_hugetlb(g->r) ? HL_PROTO_REGION_HUGETLB : 0;
	return shmq_region_fd(g->r);
}

void mon_region_free(struct mon_client *c, const struct hl_proto_msg *req,
			   struct hl_proto_msg *rep)
{
	struct mon_region *g = mon_region_find(c->ep->node, req->u.region_free.region_id);

	if (!g || (g->holder[0] != c && g->holder[1] != c)) {
		mon_set_error(rep, -ENOENT, "region %u is not held by this client",
			  req->u.region_free.region_id);
		return;
	}
	mon_region_unhold(c->ep->node, g, c);
}

struct mon_listener *mon_listener_find(struct hl_mon_pod *ep, uint16_t port)
{
	for (struct mon_listener *l = ep->listeners; l; l = l->next)
		if (l->port == port)
			return l;
	return NULL;
}

static bool addr_any(const struct hl_proto_addr *a)
{
	for (size_t i = 0; i < sizeof(a->addr); i++)
		if (a->addr[i])
			return false;
	return true;
}

bool mon_listener_reaches(const struct mon_listener *l, const struct hl_proto_addr *dst)
{
	if (l->addr.family == 0)
		return true;  /* a v1-v3 client: its address is not known */
	if (!addr_any(&l->addr))
		return hl_proto_addr_eq(&l->addr, dst);
	/* A wildcard: its family, and v4 too for a v6 one without V6ONLY. */
	return l->addr.family == dst->family ||
	       (l->addr.family == 6 && dst->family == 4 && !(l->flags & HL_LISTEN_F_V6ONLY));
}

void mon_listen(struct mon_client *c, const struct hl_proto_msg *req,
		      struct hl_proto_msg *rep)
{
	struct hl_mon_pod *ep = c->ep;
	uint16_t port = req->u.listen.port;
	struct mon_listener *l = mon_listener_find(ep, port);

	if (l) {
		mon_set_error(rep, -EADDRINUSE, "port %u already has a listener in this pod", port);
		return;
	}
	if (ep->n_listeners >= HL_MON_MAX_LISTENERS) {
		mon_set_error(rep, -ENOBUFS, "too many listen ports (%u)", HL_MON_MAX_LISTENERS);
		return;
	}
	l = calloc(1, sizeof(*l));
	if (!l) {
		mon_set_error(rep, -ENOMEM, "out of memory");
		return;
	}
	l->port = port;
	l->flags = req->u.listen.flags;
	l->addr = req->u.listen.addr;
	l->c = c;
	l->next = ep->listeners;
	ep->listeners = l;
	ep->n_listeners++;
}

void mon_unlisten(struct mon_client *c, const struct hl_proto_msg *req,
			struct hl_proto_msg *rep)
{
	struct hl_mon_pod *ep = c->ep;

	for (struct mon_listener **pl = &ep->listeners; *pl; pl = &(*pl)->next) {
		struct mon_listener *l = *pl;

		if (l->port == req->u.listen.port && l->c == c) {
			*pl = l->next;
			ep->n_listeners--;
			free(l);
			return;
		}
	}
	mon_set_error(rep, -ENOENT, "this client does not listen on port %u", req->u.listen.port);
}
