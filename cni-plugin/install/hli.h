/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hostlane-install: puts the plugin (and, by mode, a network config) on a
 * node and takes it off again. Internal interfaces (prefix hli_), shared by
 * the installer's files, its unit test and its fuzz harness. Not a library.
 *
 * Modes:
 *   secondary   the binary only; pods attach through Multus
 *               NetworkAttachmentDefinitions.
 *   chain       the binary, and {"type": "hostlane", ...} appended to the
 *               node's primary conflist (the first config file, as the
 *               runtime picks it); kept there when the primary CNI rewrites
 *               its file (watch mode).
 *   standalone  the binary and a conflist of its own: a bridge network whose
 *               subnet is the node's spec.podCIDR.
 *   uninstall   removes what any mode put in, the standalone bridge when no
 *               pod is left on it, and the agent's run and state dirs.
 *
 * Every file is replaced atomically (temporary file in the same directory,
 * fsync, rename): a runtime reading a config, or executing the plugin, sees
 * the old file or the whole new one, never a part.
 */
#ifndef HOSTLANE_INSTALL_H
#define HOSTLANE_INSTALL_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

enum hli_mode { HLI_SECONDARY, HLI_CHAIN, HLI_STANDALONE, HLI_UNINSTALL };

/** hli_mode_parse() - "secondary|chain|standalone|uninstall"; -1 if unknown. */
int hli_mode_parse(const char *s);
/** hli_mode_name() - the mode's name. */
const char *hli_mode_name(enum hli_mode m);

/* Where things are, as the installer's container sees the node. */
struct hli_paths {
	const char *bin_dir;   /* the node's CNI bin dir (e.g. /host/opt/cni/bin) */
	const char *conf_dir;  /* the node's CNI config dir (e.g. /host/etc/cni/net.d) */
	const char *plugin;    /* the plugin binary to install */
	const char *run_dir;   /* the agent's run dir on the node (uninstall) */
	const char *state_dir; /* the agent's state dir on the node (uninstall) */
	const char *cache_dir; /* the plugin's attachment cache on the node */
	const char *ipam_dir;  /* host-local's data dir on the node (uninstall) */
};

/* The install config (install.json from the ConfigMap). */
struct hli_config {
	enum hli_mode mode;
	cJSON *chain_entry;     /* chain: the plugin entry appended ({"type": "hostlane", ...}) */
	cJSON *standalone;      /* standalone: the plugin entry of the own conflist */
	char net_name[129];     /* standalone: network name */
	char file_name[256];    /* standalone: conflist file name in conf_dir */
	char cni_version[16];   /* standalone: the conflist's cniVersion */
	char bridge[16];        /* standalone: bridge name (uninstall removes it when empty) */
	char pod_cidr[64];      /* standalone: the node's spec.podCIDR */
};

/**
 * hli_config_parse() - parse install.json.
 * @buf, @len: the file's bytes.
 * @c: filled in; release with hli_config_free() (also after a failure).
 * @err, @errlen: why it was refused.
 *
 * Keys: "mode", "chainEntry" (object with "type"), "standalone" ({"name",
 * "fileName", "cniVersion", "plugin": {...}}). Unknown keys are refused, so
 * a typo does not silently fall back to a default.
 * Return: 0 or -EINVAL, -ENOMEM.
 */
int hli_config_parse(const char *buf, size_t len, struct hli_config *c, char *err, size_t errlen);
/** hli_config_free() - release what hli_config_parse() allocated. */
void hli_config_free(struct hli_config *c);

/* ---- files (files.c) ---- */

/**
 * hli_read_file() - read a whole regular file of at most @max bytes.
 * @out: malloc'd, NUL-terminated; @outlen its length (without the NUL).
 * Return: 0, -EFBIG (over @max), -ENOMEM, or the -errno of open/read.
 */
int hli_read_file(const char *path, size_t max, char **out, size_t *outlen);

/**
 * hli_write_atomic() - replace @path with @buf: lib/util's hl_write_atomic()
 * (a dot-named temporary file in the same directory, fsync, rename over
 * @path, fsync of the directory).
 * Return: 0 or -errno (the temporary file is removed on failure).
 */
int hli_write_atomic(const char *path, const void *buf, size_t len, mode_t mode);

/**
 * hli_install_file() - atomically place a copy of @src at @dst (mode
 * @mode) unless @dst already has the same bytes and mode.
 * Return: 1 written, 0 already there, or -errno.
 */
int hli_install_file(const char *src, const char *dst, mode_t mode);

/**
 * hli_remove_tree() - remove @path and everything under it (no symlink is
 * followed). Return: 0 (also when @path does not exist) or -errno.
 */
int hli_remove_tree(const char *path);

/**
 * hli_dir_empty() - whether directory @path has no entries below it other
 * than empty directories. A missing @path counts as empty.
 * Return: 1 empty, 0 not, -errno.
 */
int hli_dir_empty(const char *path);

/* ---- config files (conflist.c) ---- */

/**
 * hli_primary_conf() - the config file the runtime would use: the first
 * name, in byte order, ending in .conf, .conflist or .json (libcni's
 * ConfFiles order; containerd and CRI-O take the first).
 * @conf_dir: the directory.
 * @skip: a file name to pass over (the standalone file), or NULL.
 * @out, @outlen: the file name (no directory).
 * Return: 0, -ENOENT (none), -ENAMETOOLONG, or the -errno of opendir.
 */
int hli_primary_conf(const char *conf_dir, const char *skip, char *out, size_t outlen);

/**
 * hli_chain_insert() - the conflist @text with @entry chained in.
 * @text, @len: a .conflist (an object with "plugins") or a .conf (one plugin
 *              object: it becomes a conflist of that plugin, as libcni does).
 * @entry: the plugin entry; entries of the same "type" already there are
 *         replaced by it, and it goes last.
 * @out: the new text (malloc'd), or NULL when @text already is the result.
 * Return: 0, -EINVAL (not a network config), -ENOTSUP (its cniVersion is
 * not one the plugin speaks: 0.3.0, 0.3.1, 0.4.0, 1.0.0, 1.1.0), -ENOMEM.
 */
int hli_chain_insert(const char *text, size_t len, const cJSON *entry, char **out);

/**
 * hli_chain_remove() - the conflist @text without plugins of type @type.
 * @out: the new text (malloc'd), or NULL when there was none.
 * Return: 0, -EINVAL (not a conflist), -ENOMEM.
 */
int hli_chain_remove(const char *text, size_t len, const char *type, char **out);

/**
 * hli_standalone_conflist() - the standalone conflist for @c: @c's plugin
 * entry with a host-local range of @c->pod_cidr (an "ipam" with other keys
 * keeps them; "ranges" and "subnet" are replaced).
 * Return: the text (malloc'd), or NULL with errno EINVAL (no pod CIDR, bad
 * CIDR) or ENOMEM.
 */
char *hli_standalone_conflist(const struct hli_config *c);

/**
 * hli_cidr_valid() - whether @s is an IPv4 or IPv6 "address/prefix" with no
 * host bits set (what spec.podCIDR holds).
 */
bool hli_cidr_valid(const char *s);

/* ---- modes (modes.c) ---- */

/* What an install or uninstall pass did, for the log and the tests. */
struct hli_report {
	int written;    /* files written */
	int removed;    /* files or dirs removed */
	bool kept_bin;  /* uninstall: binary kept, pods are still attached */
	bool pending;   /* chain: the primary config is not there (yet), or unreadable */
};

/**
 * hli_run() - one pass of @c->mode over @p: install (idempotent: a file
 * already as wanted is not rewritten) or uninstall.
 * @force: uninstall removes the binary and the bridge even with pods
 *         still attached.
 * Return: 0 (see @r) or -errno of the first failure.
 */
int hli_run(const struct hli_config *c, const struct hli_paths *p, bool force,
	    struct hli_report *r);

/** hli_log() - a line on stderr, prefixed with the program's name. */
void hli_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif /* HOSTLANE_INSTALL_H */
