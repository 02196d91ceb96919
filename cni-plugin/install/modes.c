/* SPDX-License-Identifier: Apache-2.0 */
/* One install or uninstall pass. Each install mode converges the node to
 * its state, whatever mode was installed before: the binary in place, the
 * chained entry only in chain mode, the own conflist only in standalone. */
#include "hli.h"
#include "hlnl.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CONF_MAX (1u << 20)

void hli_log(const char *fmt, ...)
{
	va_list ap;

	fputs("hostlane-install: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static int path_in(char *out, size_t n, const char *dir, const char *name)
{
	return snprintf(out, n, "%s/%s", dir, name) >= (int)n ? -ENAMETOOLONG : 0;
}

static int install_bin(const struct hli_paths *p, struct hli_report *r)
{
	char dst[PATH_MAX];
	int rc = path_in(dst, sizeof(dst), p->bin_dir, "hostlane");

	if (rc == 0)
		rc = hli_install_file(p->plugin, dst, 0755);
	if (rc < 0) {
		hli_log("%s: %s", dst, strerror(-rc));
		return rc;
	}
	if (rc > 0) {
		r->written++;
		hli_log("installed %s", dst);
	}
	return 0;
}

/* Rewrites the primary config (never the standalone file) through @edit:
 * chain it in (@entry) or take it out (@entry NULL). */
static int edit_primary(const struct hli_config *c, const struct hli_paths *p,
			const cJSON *entry, struct hli_report *r)
{
	char name[256], path[PATH_MAX], *text = NULL, *out = NULL;
	const cJSON *type = cJSON_GetObjectItemCaseSensitive(c->chain_entry, "type");
	size_t len;
	int rc = hli_primary_conf(p->conf_dir, c->file_name, name, sizeof(name));

	if (rc == -ENOENT) {
		r->pending = entry != NULL;
		if (entry)
			hli_log("no CNI config in %s yet: waiting for the primary CNI", p->conf_dir);
		return 0;
	}
	if (rc < 0 || (rc = path_in(path, sizeof(path), p->conf_dir, name)) < 0)
		return rc;
	rc = hli_read_file(path, CONF_MAX, &text, &len);
	if (rc < 0) {
		hli_log("%s: %s", path, strerror(-rc));
		r->pending = entry != NULL;
		return rc == -ENOENT ? 0 : rc;
	}
	rc = entry ? hli_chain_insert(text, len, entry, &out)
		   : hli_chain_remove(text, len, type->valuestring, &out);
	free(text);
	if (rc == -ENOTSUP) {
		/* Our entry would fail every ADD on the node: stay out. */
		hli_log("%s: its cniVersion is not one hostlane speaks (0.3.0 - 1.1.0); not chained",
			path);
		r->pending = true;
		return 0;
	}
	if (rc == -EINVAL) {
		/* Unreadable, or half written by a primary CNI that does not
		 * write atomically: never chain into the next file instead (the
		 * runtime would not use that one); try again on the next event. */
		hli_log("%s: not a network config (yet); left as it is", path);
		r->pending = entry != NULL;
		return 0;
	}
	if (rc < 0 || !out)
		return rc;
	/* A .conf becomes a .conflist of the same name, which then sorts
	 * where the .conf did once the .conf is gone. */
	if (entry && strcmp(name + strlen(name) - 5, ".conf") == 0) {
		char list[PATH_MAX];

		rc = snprintf(list, sizeof(list), "%slist", path) >= (int)sizeof(list) ? -ENAMETOOLONG
			: hli_write_atomic(list, out, strlen(out), 0644);
		if (rc == 0 && unlink(path) < 0)
			rc = -errno;
		if (rc == 0)
			hli_log("chained into %s (converted from %s)", list, name);
	} else {
		rc = hli_write_atomic(path, out, strlen(out), 0644);
		if (rc == 0)
			hli_log("%s %s", entry ? "chained into" : "took hostlane out of", path);
	}
	free(out);
	if (rc == 0)
		r->written++;
	return rc;
}

static int remove_file(const char *dir, const char *name, struct hli_report *r)
{
	char path[PATH_MAX];
	int rc = path_in(path, sizeof(path), dir, name);

	if (rc < 0)
		return rc;
	if (unlink(path) == 0) {
		r->removed++;
		hli_log("removed %s", path);
		return 0;
	}
	return errno == ENOENT ? 0 : -errno;
}

static int write_standalone(const struct hli_config *c, const struct hli_paths *p,
			    struct hli_report *r)
{
	char path[PATH_MAX], *want, *have = NULL;
	size_t hlen;
	int rc;

	want = hli_standalone_conflist(c);
	if (!want) {
		hli_log("standalone: no valid pod CIDR (\"%s\"): the node's spec.podCIDR is needed",
			c->pod_cidr);
		return -errno;
	}
	rc = path_in(path, sizeof(path), p->conf_dir, c->file_name);
	if (rc == 0 && hli_read_file(path, CONF_MAX, &have, &hlen) == 0 && strcmp(have, want) == 0) {
		free(have);
		free(want);
		return 0;
	}
	free(have);
	if (rc == 0)
		rc = hli_write_atomic(path, want, strlen(want), 0644);
	free(want);
	if (rc == 0) {
		r->written++;
		hli_log("wrote %s (subnet %s)", path, c->pod_cidr);
	}
	return rc;
}

static int count_ports(const struct hlnl_link *l, void *arg)
{
	int *n = arg;

	if (l->master == n[0])
		n[1]++;
	return 0;
}

/* The standalone bridge goes when no pod is left on it: pods still running
 * keep their kernel networking. */
static int remove_bridge(const char *name, struct hli_report *r)
{
	struct hlnl *nl = hlnl_open();
	struct hlnl_link br;
	int rc, n[2] = { 0, 0 };

	if (!nl)
		return -errno;
	rc = hlnl_link_get(nl, name, 0, &br);
	if (rc == -ENODEV || (rc == 0 && strcmp(br.kind, "bridge") != 0)) {
		hlnl_close(nl);
		return 0;
	}
	n[0] = br.index;
	if (rc == 0)
		rc = hlnl_link_list(nl, count_ports, n);
	if (rc == 0 && n[1] > 0)
		hli_log("bridge %s kept: %d pod interface(s) still on it", name, n[1]);
	else if (rc == 0 && (rc = hlnl_link_del(nl, br.index)) == 0) {
		r->removed++;
		hli_log("removed bridge %s", name);
	}
	hlnl_close(nl);
	return rc;
}

static int remove_dir(const char *path, struct hli_report *r)
{
	int rc;

	if (!path || access(path, F_OK) < 0)
		return 0;
	rc = hli_remove_tree(path);
	if (rc == 0) {
		r->removed++;
		hli_log("removed %s", path);
	}
	return rc;
}

static int uninstall(const struct hli_config *c, const struct hli_paths *p, bool force,
		     struct hli_report *r)
{
	char ipam[PATH_MAX];
	int attached = p->cache_dir ? hli_dir_empty(p->cache_dir) == 0 : 0;
	int rc;

	if ((rc = edit_primary(c, p, NULL, r)) < 0 ||
	    (rc = remove_file(p->conf_dir, c->file_name, r)) < 0)
		return rc;
	if (attached && !force) {
		/* The runtime still has to run DEL for those pods, with the
		 * binary and the config it cached at ADD. */
		r->kept_bin = true;
		hli_log("pods are still attached (%s not empty): the binary stays; delete them "
			"and uninstall again, or --force", p->cache_dir);
	} else {
		if ((rc = remove_file(p->bin_dir, "hostlane", r)) < 0 ||
		    (rc = remove_dir(p->cache_dir, r)) < 0)
			return rc;
		if (p->ipam_dir && path_in(ipam, sizeof(ipam), p->ipam_dir, c->net_name) == 0 &&
		    (rc = remove_dir(ipam, r)) < 0)
			return rc;
		/* host-local's data dir itself, if that left it empty (other
		 * networks' leases keep it; host-local makes it again). */
		if (p->ipam_dir)
			rmdir(p->ipam_dir);
	}
	if ((rc = remove_bridge(c->bridge, r)) < 0)
		hli_log("bridge %s: %s", c->bridge, strerror(-rc));
	if ((rc = remove_dir(p->run_dir, r)) < 0 || (rc = remove_dir(p->state_dir, r)) < 0)
		return rc;
	return 0;
}

int hli_run(const struct hli_config *c, const struct hli_paths *p, bool force,
	    struct hli_report *r)
{
	int rc;

	memset(r, 0, sizeof(*r));
	if (c->mode == HLI_UNINSTALL)
		return uninstall(c, p, force, r);
	if ((rc = install_bin(p, r)) < 0)
		return rc;
	switch (c->mode) {
	case HLI_SECONDARY:
		if ((rc = edit_primary(c, p, NULL, r)) < 0)
			return rc;
		return remove_file(p->conf_dir, c->file_name, r);
	case HLI_CHAIN:
		if ((rc = remove_file(p->conf_dir, c->file_name, r)) < 0)
			return rc;
		return edit_primary(c, p, c->chain_entry, r);
	case HLI_STANDALONE:
		return write_standalone(c, p, r);
	case HLI_UNINSTALL:
		break;
	}
	return 0;
}
