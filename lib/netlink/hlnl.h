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
 * Users: the CNI plugin (veths, bridges, addresses, routes) and the VF code
 * (netns moves, renames, MACs, the PF's per-VF settings).
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

/*
 * Changes to a link for hlnl_link_modify(), sent as one RTM_NEWLINK. Start
 * from HLNL_LINK_MOD_INIT: every field at its "keep" value.
 */
struct hlnl_link_mod {
	const char *name;         /* new name (IFLA_IFNAME); NULL: keep */
	const uint8_t *mac;       /* new 6-byte MAC (IFLA_ADDRESS); NULL: keep */
	unsigned int mtu;         /* 0: keep */
	int up;                   /* 1 up, 0 down, -1 keep */
	int master;               /* ifindex; 0 keep, -1 detach */
	const char *alias;        /* new IFLA_IFALIAS; NULL: keep */
	int nsfd;                 /* >= 0: move into the netns of this fd; -1 stay */
};

#define HLNL_LINK_MOD_INIT { .up = -1, .nsfd = -1 }

/* Which groups of struct hlnl_vf are valid (get) or to be set (set). */
#define HLNL_VF_MAC        (1u << 0) /* mac */
#define HLNL_VF_VLAN       (1u << 1) /* vlan, qos, proto */
#define HLNL_VF_SPOOFCHK   (1u << 2) /* spoofchk */
#define HLNL_VF_TRUST      (1u << 3) /* trust */
#define HLNL_VF_LINK_STATE (1u << 4) /* link_state */
#define HLNL_VF_RATE       (1u << 5) /* min_tx_rate, max_tx_rate */
#define HLNL_VF_ALL        0x3fu

/*
 * The settings of one SR-IOV VF as its PF holds them (IFLA_VF_INFO in the
 * PF's IFLA_VFINFO_LIST). A group the driver does not report is absent from
 * @has after hlnl_vf_get(); hlnl_vf_set() sends the groups in @has only.
 */
struct hlnl_vf {
	uint32_t vf;              /* VF number on its PF */
	unsigned int has;         /* HLNL_VF_* */
	uint8_t mac[6];           /* admin MAC */
	uint32_t vlan;            /* 0..4095; 0 with qos 0: no VLAN */
	uint32_t qos;             /* 0..7 */
	uint16_t proto;           /* ETH_P_8021Q (0 too) or ETH_P_8021AD, host order */
	bool spoofchk;
	bool trust;
	uint32_t link_state;      /* IFLA_VF_LINK_STATE_{AUTO,ENABLE,DISABLE} */
	uint32_t min_tx_rate;     /* Mbps, 0: none */
	uint32_t max_tx_rate;     /* Mbps, 0: none */
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
 * hlnl_link_set() - change a link in one request (hlnl_link_modify() with
 * these fields only).
 * @master: new master ifindex, 0 to leave unchanged, -1 to detach.
 * @up: 1 up, 0 down, -1 unchanged. @mtu: 0 unchanged.
 * @alias: new IFLA_IFALIAS or NULL.
 * Return: 0 or -errno (ENODEV, EINVAL, ...).
 */
int hlnl_link_set(struct hlnl *nl, int index, int master, int up,
		  unsigned int mtu, const char *alias);

/**
 * hlnl_link_modify() - apply the changes in @m to link @index in one
 * RTM_NEWLINK request.
 * The kernel applies them in its own order (a move to m->nsfd first, so a
 * name given with it is the name in the target netns) and does not undo
 * the ones done when a later one fails: callers that need to know which
 * change failed send them one at a time. After a move the link may have
 * another ifindex in its new netns: look it up there again.
 * Return: 0, -EINVAL (@index <= 0, an empty or too long name or alias),
 * -ENODEV (no such link), -EEXIST (the name is taken, here or in the target
 * netns), -EADDRNOTAVAIL (a MAC the device refuses), -EOPNOTSUPP (the
 * device cannot change netns or MAC), or another -errno from the kernel.
 */
int hlnl_link_modify(struct hlnl *nl, int index, const struct hlnl_link_mod *m);

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

/**
 * hlnl_vf_get() - read the settings of VF @vf from its PF @pf_index
 * (RTM_GETLINK with RTEXT_FILTER_VF, statistics left out).
 * @out: filled on success; out->has says which groups the driver reported.
 * A reply larger than the handle's buffer (many VFs) is received whole.
 * Return: 0, -ENOENT (the PF reports no VF @vf: not an SR-IOV PF, or no
 * such VF), -EINVAL (@pf_index <= 0), -ENODEV (no link @pf_index),
 * -EBADMSG (a malformed reply), -EMSGSIZE (a reply above 1 MiB), or
 * another -errno.
 */
int hlnl_vf_get(struct hlnl *nl, int pf_index, uint32_t vf, struct hlnl_vf *out);

/**
 * hlnl_vf_set() - change the settings of VF v->vf through its PF @pf_index:
 * one RTM_SETLINK carrying IFLA_VFINFO_LIST/IFLA_VF_INFO with the groups in
 * v->has. VLAN with proto 802.1Q goes as IFLA_VF_VLAN, with 802.1ad as
 * IFLA_VF_VLAN_LIST (IFLA_VF_VLAN has no protocol field).
 * Return: 0, -EINVAL (@pf_index <= 0, nothing in v->has or a bit outside
 * HLNL_VF_ALL, vlan > 4095, qos > 7, another proto, a link_state outside
 * AUTO..DISABLE, min_tx_rate above a non-zero max_tx_rate), -ENODEV,
 * -EOPNOTSUPP (the PF's driver lacks that setting: any link that is not an
 * SR-IOV PF), or another -errno from the driver.
 */
int hlnl_vf_set(struct hlnl *nl, int pf_index, const struct hlnl_vf *v);

#ifdef __cplusplus
}
#endif
#endif
