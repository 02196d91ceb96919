/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The supervisor's port registry: the ports its caller wants, kept across
 * switch restarts, and their reconciliation with the ports a running
 * (possibly adopted) switch has. A port that is already right in the switch
 * is never deleted and re-added: that would cut its pod's traffic.
 */
#include "vsw_sup.h"
#include "vsw_proto.h"

#include <stdlib.h>
#include <string.h>

#define EXPORT __attribute__((visibility("default")))

static ssize_t find_name(const struct hl_vsw_sup *s, const char *name)
{
	for (size_t i = 0; i < s->nports; i++) {
		if (!strcmp(s->ports[i].name, name))
			return (ssize_t)i;
	}
	return -1;
}

static ssize_t find_path(const struct hl_vsw_sup *s, const char *path)
{
	for (size_t i = 0; i < s->nports; i++) {
		if (!strcmp(s->ports[i].path, path))
			return (ssize_t)i;
	}
	return -1;
}

static bool same(const struct vsw_sup_port *p, const struct hl_vsw_port_stats *q)
{
	return !strcmp(p->name, q->name) && !strcmp(p->path, q->path) && p->mode == q->mode;
}

/* A switch port is owned when a registration says exactly that port. */
static bool owned(const struct hl_vsw_sup *s, const struct hl_vsw_port_stats *q)
{
	ssize_t i = find_name(s, q->name);

	return i >= 0 && same(&s->ports[i], q);
}

/* The switch's ports (malloc'ed into *out). 0 or -errno. */
static int list_all(struct hl_vsw_client *c, struct hl_vsw_port_stats **out, size_t *n)
{
	size_t cap = 64;

	for (;;) {
		struct hl_vsw_port_stats *v = calloc(cap, sizeof(*v));
		int rc;

		if (!v)
			return -ENOMEM;
		rc = hl_vsw_list_ports(c, v, cap, n);
		if (rc == -ENOBUFS && *n > cap) {
			free(v);
			cap = *n;
			continue;
		}
		if (rc < 0) {
			free(v);
			return rc;
		}
		*out = v;
		return 0;
	}
}

/* The switch said EEXIST for @p: keep an identical port, delete an unowned
 * one in the way (same name or same path), then add. */
static int take_over(struct hl_vsw_sup *s, struct hl_vsw_client *c,
		     const struct vsw_sup_port *p)
{
	struct hl_vsw_port_stats *v = NULL;
	size_t n = 0;
	bool keep = false;
	int rc = list_all(c, &v, &n);

	for (size_t i = 0; rc == 0 && !keep && i < n; i++) {
		if (same(p, &v[i]))
			keep = true;
		else if (strcmp(p->name, v[i].name) && strcmp(p->path, v[i].path))
			continue;
		else if (owned(s, &v[i]))
			rc = -EEXIST;
		else
			rc = hl_vsw_del_port(c, v[i].name);
	}
	free(v);
	if (rc < 0 || keep)
		return rc;
	return hl_vsw_add_port(c, p->name, p->path, p->mode);
}

static int ensure(struct hl_vsw_sup *s, struct hl_vsw_client *c, const struct vsw_sup_port *p)
{
	int rc = hl_vsw_add_port(c, p->name, p->path, p->mode);

	return rc == -EEXIST ? take_over(s, c, p) : rc;
}

static int ensure_once(struct hl_vsw_sup *s, const struct vsw_sup_port *p)
{
	struct hl_vsw_client *c = hl_vsw_client_open(s->ctl, 0);
	int rc;

	if (!c)
		return -errno;
	rc = ensure(s, c, p);
	hl_vsw_client_close(c);
	return rc;
}

int vsw_sup_replay(struct hl_vsw_sup *s, struct hl_vsw_client *c)
{
	int first = 0;

	for (size_t i = 0; i < s->nports; i++) {
		int rc = ensure(s, c, &s->ports[i]);
		if (rc < 0 && !first)
			first = rc;
	}
	return first;
}

EXPORT int hl_vsw_sup_add_port(struct hl_vsw_sup *s, const char *name,
			       const char *path, enum hl_vsw_mode mode)
{
	struct vsw_sup_port p = { .mode = mode };
	ssize_t i;
	int rc;

	if (!s || !name || !path || !vsw_name_ok(name) || !vsw_path_ok(path) ||
	    (mode != HL_VSW_SWITCH_CLIENT && mode != HL_VSW_SWITCH_SERVER))
		return -EINVAL;
	memcpy(p.name, name, strlen(name) + 1);
	memcpy(p.path, path, strlen(path) + 1);
	i = find_name(s, name);
	if (i >= 0) {
		if (strcmp(s->ports[i].path, path) || s->ports[i].mode != mode)
			return -EEXIST;
		rc = ensure_once(s, &p);
		return vsw_transport_error(rc) ? 0 : rc;
	}
	if (find_path(s, path) >= 0)
		return -EEXIST;
	rc = ensure_once(s, &p);
	if (rc < 0 && !vsw_transport_error(rc))
		return rc;
	if (s->nports == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 16;
		struct vsw_sup_port *np = realloc(s->ports, cap * sizeof(*np));
		if (!np)
			return -ENOMEM;
		s->ports = np;
		s->cap = cap;
	}
	s->ports[s->nports++] = p;
	return 0;
}

EXPORT int hl_vsw_sup_del_port(struct hl_vsw_sup *s, const char *name)
{
	struct hl_vsw_client *c;
	ssize_t i;
	int rc;

	if (!s || !name)
		return -EINVAL;
	i = find_name(s, name);
	if (i < 0)
		return -ENOENT;
	c = hl_vsw_client_open(s->ctl, 0);
	rc = c ? hl_vsw_del_port(c, name) : -errno;
	hl_vsw_client_close(c);
	s->ports[i] = s->ports[--s->nports];
	/* Gone from the switch or the switch is gone: either way forgotten. */
	return rc == -ENOENT || vsw_transport_error(rc) ? 0 : rc;
}

static bool listed(const struct vsw_sup_port *p, const struct hl_vsw_port_stats *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (same(p, &v[i]))
			return true;
	}
	return false;
}

EXPORT int hl_vsw_sup_reconcile(struct hl_vsw_sup *s, size_t *added, size_t *removed)
{
	struct hl_vsw_port_stats *v = NULL;
	struct hl_vsw_client *c;
	size_t n = 0, nadd = 0, nrm = 0;
	int rc, first = 0;

	if (!s)
		return -EINVAL;
	if (!s->pid)
		return -ESRCH;
	c = hl_vsw_client_open(s->ctl, 0);
	if (!c)
		return -errno;
	rc = list_all(c, &v, &n);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		int r;

		if (owned(s, &v[i]))
			continue;
		r = hl_vsw_del_port(c, v[i].name);
		if (r == 0)
			nrm++;
		else if (!first)
			first = r;
	}
	for (size_t i = 0; rc == 0 && i < s->nports; i++) {
		int r;

		if (listed(&s->ports[i], v, n))
			continue;
		r = ensure(s, c, &s->ports[i]);
		if (r == 0)
			nadd++;
		else if (!first)
			first = r;
	}
	free(v);
	hl_vsw_client_close(c);
	if (added)
		*added = nadd;
	if (removed)
		*removed = nrm;
	return rc < 0 ? rc : first;
}
