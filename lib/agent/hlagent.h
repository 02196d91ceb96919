/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hlagent.h — client side of the hostlane plugin <-> agent protocol.
 *
 * One request, one reply per connection on a SOCK_SEQPACKET unix socket
 * (default HLAGENT_DEFAULT_SOCKET), both JSON objects carrying
 * "hostlane": HLAGENT_PROTO_VERSION. The wire format is documented in
 * docs/agent-protocol.md. Used by the CNI plugin and by hostlanectl.
 *
 * Conventions: int functions return 0 or -errno; nothing here keeps global
 * state, so every function is thread-safe on distinct objects.
 */
#ifndef HLAGENT_H
#define HLAGENT_H

#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define HLAGENT_PROTO_VERSION   1
#define HLAGENT_DEFAULT_SOCKET  "/run/hostlane/agent.sock"
/* Largest request the agent accepts, and largest reply it sends. */
#define HLAGENT_MAX_REQUEST     65536
#define HLAGENT_MAX_REPLY       131072
#define HLAGENT_MAX_IPS         16

/*
 * CNI error codes: the spec's (below 100) and hostlane's own (100 and up),
 * one set for the plugin and the agent, so a runtime can tell every
 * failure apart (the plugin passes the agent's codes through unchanged).
 * Documented in docs/cni-plugin.md.
 */
#define HLAGENT_CNI_INVALID_CONFIG   7   /* bad value, e.g. unknown fast path */
#define HLAGENT_CNI_TRY_AGAIN       11   /* agent down or busy */
#define HLAGENT_CNI_NOT_READY       50   /* STATUS: agent unreachable/not ready */
#define HLAGENT_CNI_IFACE_EXISTS   100   /* plugin: CNI_IFNAME exists in the netns */
#define HLAGENT_CNI_CHECK_MISMATCH 101   /* plugin: CHECK found the attachment changed */
#define HLAGENT_CNI_PROTOCOL       102   /* malformed agent request or reply */
#define HLAGENT_CNI_NO_RESOURCES   103   /* hugepage pool exhausted */
#define HLAGENT_CNI_UNAVAILABLE    104   /* fast path not provided on this node */
#define HLAGENT_CNI_INTERNAL       105   /* agent-side failure (I/O, netns) */
#define HLAGENT_CNI_NOT_FOUND      106   /* CHECK/GET: no such attachment */
#define HLAGENT_CNI_PLUGIN_INTERNAL 999  /* plugin: a system call or netlink failure */

/* The pod attachment a plugin request describes. NULL/"" = absent. */
struct hlagent_attachment {
	const char *network;        /* CNI network name (required) */
	const char *container_id;   /* CNI_CONTAINERID (required) */
	const char *ifname;         /* CNI_IFNAME (required) */
	const char *netns;          /* CNI_NETNS (ADD/CHECK; optional for DEL) */
	const char *k8s_namespace;  /* CNI_ARGS K8S_POD_NAMESPACE */
	const char *k8s_name;       /* CNI_ARGS K8S_POD_NAME */
	const char *k8s_uid;        /* CNI_ARGS K8S_POD_UID */
	const char *const *ips;     /* "10.1.2.3/24" or "10.1.2.3" */
	size_t n_ips;
	const char *fastpath_args;  /* CNI_ARGS HOSTLANE_FASTPATH= */
	const char *fastpath_config;/* network config "fastpath" */
};

/* A GC request's valid attachment (network comes from the attachment). */
struct hlagent_valid {
	const char *container_id;
	const char *ifname;
};

/* What came back. */
struct hlagent_reply {
	bool ok;                    /* the agent did it */
	int code;                   /* CNI error code when !ok */
	char msg[256];              /* error message when !ok */
	char details[512];          /* error details when !ok (may be "") */
	char *json;                 /* the whole reply (malloc'd; NUL-terminated) */
};

/**
 * hlagent_call() - send one raw request, receive one reply.
 * @socket_path: the agent's socket (NULL: HLAGENT_DEFAULT_SOCKET).
 * @req:         request bytes (sent as one message; not necessarily JSON).
 * @len:         their length.
 * @timeout_ms:  bound for connect + send + receive (<= 0: 30000).
 * @out:         filled on success; free with hlagent_reply_free().
 *
 * Return: 0 when a reply arrived (check out->ok), or -errno: -ENOENT or
 * -ECONNREFUSED (no agent listening), -ETIMEDOUT, -EMSGSIZE (request too
 * big to send), -EPROTO (reply not a valid hostlane reply), -ENOMEM, other
 * -errno of socket calls. Thread-safe.
 */
int hlagent_call(const char *socket_path, const void *req, size_t len, long timeout_ms,
		 struct hlagent_reply *out);

/**
 * hlagent_request() - build and send a plugin request.
 * @socket_path: see hlagent_call().
 * @op:          "ADD", "DEL", "CHECK", "STATUS" or "GC".
 * @a:           the attachment (NULL for STATUS).
 * @valid:       GC only: the attachments to keep (may be NULL with n 0).
 * @n_valid:     their count.
 * @timeout_ms:  see hlagent_call().
 * @out:         see hlagent_call().
 *
 * Return: as hlagent_call(), plus -EINVAL (bad op or missing field).
 * Thread-safe.
 */
int hlagent_request(const char *socket_path, const char *op, const struct hlagent_attachment *a,
		    const struct hlagent_valid *valid, size_t n_valid, long timeout_ms,
		    struct hlagent_reply *out);

/**
 * hlagent_simple() - send a request that has only an op and optional
 * string fields (hostlanectl: "LIST", "GET" with "id", "METRICS", ...).
 * @socket_path, @timeout_ms, @out: see hlagent_call().
 * @op:    the operation.
 * @key:   optional field name (NULL: none), @value its string value.
 * @offset: added as "offset" when >= 0.
 *
 * Return: as hlagent_call(). Thread-safe.
 */
int hlagent_simple(const char *socket_path, const char *op, const char *key, const char *value,
		   long offset, long timeout_ms, struct hlagent_reply *out);

/* Frees what hlagent_call() put in @r (not @r itself). NULL-safe. */
void hlagent_reply_free(struct hlagent_reply *r);

/**
 * hlagent_cni_code() - the CNI error code for a failed call.
 * @err:      the negative errno hlagent_call()/hlagent_request() returned.
 * @op:       the operation ("STATUS" maps "unreachable" to 50, others 11).
 *
 * Return: HLAGENT_CNI_NOT_READY for STATUS, HLAGENT_CNI_TRY_AGAIN when the
 * agent is down, busy or timed out, HLAGENT_CNI_PROTOCOL for -EPROTO and
 * -EMSGSIZE. Thread-safe.
 */
int hlagent_cni_code(int err, const char *op);

/**
 * hlagent_strerror() - a one-line human explanation of a failed call,
 * naming the socket, into @buf (always NUL-terminated). Returns @buf.
 */
const char *hlagent_strerror(int err, const char *socket_path, char *buf, size_t len);

#ifdef __cplusplus
}
#endif
#endif
