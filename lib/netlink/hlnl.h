/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hlnl — hostlane's small rtnetlink library (libmnl underneath).
 *
 * One handle is one NETLINK_ROUTE socket bound to the network namespace the
 * calling thread was in when the handle was opened (a socket keeps its netns
 * for life). hlnl_open_ns() opens a handle for another netns by entering it
 * just long enough to create the socket, so callers never run in a pod's
 * netns. Every request is acked; replies are checked for sequence number and
 * port id, and every attribute is validated by type before use. Dumps that
 * the kernel marks interrupted (NLM_F_DUMP_INTR) are restarted.
 *
 * Thread safety: a handle is not thread safe; use one per thread. The
 * hlnl_ns_* helpers change the calling thread's netns only.
 * All int functions return 0 (or a documented count/index) or -errno.
 */
#ifndef HLNL_H
#define HLNL_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct hlnl;

#define HLNL_ALIAS_MAX 256

/* A link as reported by RTM_GETLINK. */
struct hlnl_link {
	int index;
	char name[IF_NAMESIZE];
	char kind[16];            /* IFLA_INFO_KIND, "" when none */
	char alias[HLNL_ALIAS_MAX];
	uint8_t mac[6];
	unsigned int flags;       /* IFF_* */
	unsigned int mtu;
	int master;               /* ifindex of the master, 0 when none */
};

/* An address as reported by RTM_GETADDR. */
struct hlnl_addr {
	int family;               /* AF_INET or AF_INET6 */
	uint8_t addr[16];
	int prefix;
	int index;
};

/* A route to add. dst with prefix 0 is the default route. */
struct hlnl_route {
	int family;
	uint8_t dst[16];
	int prefix;
	bool has_gw;
	uint8_t gw[16];
	int oif;                  /* 0: let the kernel pick from gw */
	int mtu;                  /* <=0: unset */
	int advmss;               /* <=0: unset */
	int priority;             /* <0: unset */
	int table;                /* <0: main */
	int scope;                /* <0: derived (link without gw, else universe) */
};

/**
 * hlnl_open() - open a handle in the calling thread's current netns.
 * Return: handle, or NULL with errno set (socket/bind errnos, ENOMEM).
 */
struct hlnl *hlnl_open(void);

/**
 * hlnl_open_ns() - open a handle bound to the netns of @nsfd.
 * @nsfd: fd of a netns file (see hlnl_ns_open()).
 * The thread enters the netns only while the socket is created and is back
 * in its original netns when this returns, also on error.
 * Return: handle, or NULL with errno set (EINVAL, EPERM, socket errnos;
 * ENOTRECOVERABLE if the thread could not return to its netns).
 */
struct hlnl *hlnl_open_ns(int nsfd);

/** hlnl_close() - close a handle; NULL is ignored. */
void hlnl_close(struct hlnl *nl);

/**
 * hlnl_ns_open() - open a netns path (e.g. /var/run/netns/x) for setns.
 * Return: fd (>= 0) or -errno (ENOENT, EACCES, EINVAL when the path is not
 * a network namespace).
 */
int hlnl_ns_open(const char *path);

/**
 * hlnl_ns_enter() - move the calling thread into the netns of @nsfd.
 * @saved: receives an fd of the original netns, for hlnl_ns_return().
 * Return: 0 or -errno; on error the thread is still in its original netns.
 */
int hlnl_ns_enter(int nsfd, int *saved);

/**
 * hlnl_ns_return() - go back to the netns saved by hlnl_ns_enter() and close
 * the saved fd. Return: 0 or -errno.
 */
int hlnl_ns_return(int saved);

/**
 * hlnl_link_get() - look a link up by name (if @name) or else by @index.
 * Return: 0, -ENODEV when absent, or another -errno.
 */
int hlnl_link_get(struct hlnl *nl, const char *name, int index,
		  struct hlnl_link *out);

/** hlnl_link_list_cb - called per link; return non-zero to stop (returned). */
typedef int (*hlnl_link_list_cb)(const struct hlnl_link *link, void *arg);

/**
 * hlnl_link_list() - dump all links of the handle's netns.
 * Return: 0, the first non-zero callback value, or -errno.
 */
int hlnl_link_list(struct hlnl *nl, hlnl_link_list_cb cb, void *arg);

/**
 * hlnl_veth_create() - create a veth pair @name <-> @peer.
 * @peer_nsfd: netns fd the peer is created in directly, or -1 for the same
 * netns. @mtu: 0 for the kernel default.
 * Return: 0, -EEXIST if either name is taken, or another -errno.
 */
int hlnl_veth_create(struct hlnl *nl, const char *name, const char *peer,
		     int peer_nsfd, unsigned int mtu);

/**
 * hlnl_bridge_create() - create bridge @name (with @mtu unless 0), down.
 * Return: 0, -EEXIST when a link of that name exists, or -errno.
 */
int hlnl_bridge_create(struct hlnl *nl, const char *name, unsigned int mtu);

/**
 * hlnl_link_set() - change a link in one request.
 * @master: new master ifindex, 0 to leave unchanged, -1 to detach.
 * @up: 1 up, 0 down, -1 unchanged. @mtu: 0 unchanged.
 * @alias: new IFLA_IFALIAS or NULL.
 * Return: 0 or -errno (ENODEV, EINVAL, ...).
 */
int hlnl_link_set(struct hlnl *nl, int index, int master, int up,
		  unsigned int mtu, const char *alias);

/** hlnl_link_del() - delete a link. Return: 0, -ENODEV, or -errno. */
int hlnl_link_del(struct hlnl *nl, int index);

/**
 * hlnl_addr_add() - add an address (IPv6 ones with IFA_F_NODAD, so they are
 * usable at once). Return: 0, -EEXIST if present, or -errno.
 */
int hlnl_addr_add(struct hlnl *nl, int index, int family, const void *addr,
		  int prefix);

/** hlnl_addr_del() - delete an address. Return: 0, -EADDRNOTAVAIL, -errno. */
int hlnl_addr_del(struct hlnl *nl, int index, int family, const void *addr,
		  int prefix);

/**
 * hlnl_addr_list() - list addresses of link @index (0: all links).
 * @family: AF_UNSPEC for both. Fills at most @max entries.
 * Return: the number of addresses found (may exceed @max) or -errno.
 */
int hlnl_addr_list(struct hlnl *nl, int index, int family,
		   struct hlnl_addr *out, size_t max);

/** hlnl_route_add() - add a route. Return: 0, -EEXIST, or -errno. */
int hlnl_route_add(struct hlnl *nl, const struct hlnl_route *rt);

#ifdef __cplusplus
}
#endif
#endif
