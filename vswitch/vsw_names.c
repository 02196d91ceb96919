/* SPDX-License-Identifier: Apache-2.0 */
/* Naming helpers: pod socket directory/path, port names, device-info JSON,
 * and the OVS-DPDK commands. */
#include "vsw_client.h"
#include "vsw_proto.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <inttypes.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#define EXPORT __attribute__((visibility("default")))
#define IFNAME_MAX 15
#define HASH_HEX 12

extern char **environ;

static uint64_t fnv1a(uint64_t h, const char *s)
{
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ULL;
	}
	return h;
}

static uint64_t fnv1a_sep(uint64_t h, const char *s)
{
	h = fnv1a(h, s);
	h ^= '/';
	return h * 0x100000001b3ULL;
}

static int component_ok(const char *s)
{
	return s && *s && !strchr(s, '/') && strcmp(s, ".") && strcmp(s, "..");
}

EXPORT int hl_vsw_pod_dir(char *out, size_t outlen, const char *base,
			  const char *ns, const char *name)
{
	/* Room the socket file needs after the directory: "/" ifname ".sock". */
	const size_t tail = 1 + IFNAME_MAX + 5;
	size_t blen, full, room;
	int n;

	if (!base)
		base = HL_VSW_DEFAULT_POD_DIR;
	if (!out || !component_ok(ns) || !component_ok(name) || base[0] != '/')
		return -EINVAL;
	blen = strlen(base);
	full = blen + 1 + strlen(ns) + 1 + strlen(name);
	if (full + tail < HL_VSW_PATH_MAX) {
		n = snprintf(out, outlen, "%s/%s_%s", base, ns, name);
		return n < 0 || (size_t)n >= outlen ? -ENAMETOOLONG : 0;
	}
	/* Too long: keep as much of "<ns>_<name>" as fits, then "-<hash>", so
	 * distinct pods never share a directory and the name stays readable. */
	if (blen + 1 + 1 + 1 + HASH_HEX + tail >= HL_VSW_PATH_MAX)
		return -ENAMETOOLONG;
	room = HL_VSW_PATH_MAX - 1 - tail - blen - 1 - 1 - HASH_HEX;
	{
		char comp[HL_VSW_PATH_MAX * 4];
		uint64_t h = fnv1a(fnv1a_sep(0xcbf29ce484222325ULL, ns), name);

		n = snprintf(comp, sizeof(comp), "%s_%s", ns, name);
		if (n < 0)
			return -EINVAL;
		if ((size_t)n > room)
			comp[room] = '\0';
		n = snprintf(out, outlen, "%s/%s-%012" PRIx64, base, comp,
			     (uint64_t)(h & 0xffffffffffffULL));
	}
	return n < 0 || (size_t)n >= outlen ? -ENAMETOOLONG : 0;
}

EXPORT int hl_vsw_sock_path(char *out, size_t outlen, const char *base,
			    const char *ns, const char *name, const char *ifname)
{
	char dir[HL_VSW_PATH_MAX];
	int rc, n;

	if (!component_ok(ifname) || strlen(ifname) > IFNAME_MAX)
		return -EINVAL;
	rc = hl_vsw_pod_dir(dir, sizeof(dir), base, ns, name);
	if (rc < 0)
		return rc;
	n = snprintf(out, outlen, "%s/%s.sock", dir, ifname);
	if (n < 0 || (size_t)n >= outlen || n >= HL_VSW_PATH_MAX)
		return -ENAMETOOLONG;
	return 0;
}

EXPORT int hl_vsw_port_name(char *out, size_t outlen, const char *ns,
			    const char *name, const char *ifname)
{
	uint64_t h;
	int n;

	if (!out || !ns || !name || !ifname)
		return -EINVAL;
	h = fnv1a(fnv1a_sep(fnv1a_sep(0xcbf29ce484222325ULL, ns), name), ifname);
	n = snprintf(out, outlen, "p%016" PRIx64, h);
	return n < 0 || (size_t)n >= outlen ? -ENAMETOOLONG : 0;
}

EXPORT char *hl_vsw_devinfo_json(const char *sock_path, enum hl_vsw_mode mode)
{
	cJSON *root, *vu;
	char *s = NULL;

	if (!sock_path || !*sock_path ||
	    (mode != HL_VSW_SWITCH_CLIENT && mode != HL_VSW_SWITCH_SERVER)) {
		errno = EINVAL;
		return NULL;
	}
	root = cJSON_CreateObject();
	if (!root)
		goto nomem;
	if (!cJSON_AddStringToObject(root, "type", "vhost-user") ||
	    !cJSON_AddStringToObject(root, "version", "1.1.0") ||
	    !(vu = cJSON_AddObjectToObject(root, "vhost-user")) ||
	    /* The spec's mode is the pod's role on the socket. */
	    !cJSON_AddStringToObject(vu, "mode", mode == HL_VSW_SWITCH_CLIENT
							 ? "server" : "client") ||
	    !cJSON_AddStringToObject(vu, "path", sock_path))
		goto nomem;
	s = cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	if (!s)
		errno = ENOMEM;
	return s;
nomem:
	cJSON_Delete(root);
	errno = ENOMEM;
	return NULL;
}

static int bridge_ok(const char *b)
{
	return b && vsw_name_ok(b) && b[0] != '-' && strlen(b) <= 15;
}

EXPORT int hl_vsw_ovs_argv(char **argv, size_t argv_cap, char *buf,
			   size_t buflen, int add, const char *bridge,
			   const char *name, const char *sock_path)
{
	size_t used = 0, i = 0;
	const char *words[12];
	char t1[64], t2[HL_VSW_PATH_MAX + 32];
	size_t nw = 0;

	if (!argv || !buf || !bridge_ok(bridge) || !name || !vsw_name_ok(name) ||
	    name[0] == '-' || (add && (!sock_path || !vsw_path_ok(sock_path))))
		return -EINVAL;
	words[nw++] = "ovs-vsctl";
	words[nw++] = "--timeout=5";
	if (add) {
		snprintf(t1, sizeof(t1), "type=dpdkvhostuserclient");
		snprintf(t2, sizeof(t2), "options:vhost-server-path=%s", sock_path);
		words[nw++] = "add-port";
		words[nw++] = bridge;
		words[nw++] = name;
		words[nw++] = "--";
		words[nw++] = "set";
		words[nw++] = "Interface";
		words[nw++] = name;
		words[nw++] = t1;
		words[nw++] = t2;
	} else {
		words[nw++] = "--if-exists";
		words[nw++] = "del-port";
		words[nw++] = bridge;
		words[nw++] = name;
	}
	if (argv_cap < nw + 1)
		return -ENOBUFS;
	for (i = 0; i < nw; i++) {
		size_t l = strlen(words[i]) + 1;
		if (used + l > buflen)
			return -ENOBUFS;
		memcpy(buf + used, words[i], l);
		argv[i] = buf + used;
		used += l;
	}
	argv[nw] = NULL;
	return 0;
}

EXPORT int hl_vsw_ovs_run(int add, const char *bridge, const char *name,
			  const char *sock_path)
{
	char *argv[16];
	char buf[512];
	pid_t pid;
	int rc, st;

	rc = hl_vsw_ovs_argv(argv, 16, buf, sizeof(buf), add, bridge, name,
			     sock_path);
	if (rc < 0)
		return rc;
	rc = posix_spawnp(&pid, argv[0], NULL, NULL, argv, environ);
	if (rc)
		return -rc;
	while (waitpid(pid, &st, 0) < 0) {
		if (errno != EINTR)
			return -errno;
	}
	if (WIFEXITED(st) && WEXITSTATUS(st) == 127)
		return -ENOENT;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -EIO;
}
