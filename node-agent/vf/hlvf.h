/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hlvf — SR-IOV VF pool and VF configuration for the node agent.
 *
 * Discovers the VFs of configured PFs from sysfs (under a configurable root),
 * keeps a persisted slot table (one record file per VF in a state directory,
 * written with temp+fsync+rename) and hands VFs to pods:
 *
 *   hl_vf_pool_open()      discover VFs; persisted owners are kept
 *   hl_vf_alloc()          take a free VF for an owner   (-EAGAIN: exhausted)
 *   hl_vf_attach_kernel()  move its netdev into the pod netns, configure it
 *   hl_vf_attach_dpdk()    vfio-pci bound VF: PF settings only, report pciID
 *   hl_vf_release()        restore name/MAC/MTU/up and PF-side settings,
 *                          return the netdev to the host netns, free the slot
 *
 * Every operation on a VF holds an exclusive flock on that VF's lock file in
 * the state directory and re-reads its record, so threads and processes
 * (agent, plugin, CLI) sharing one state directory cannot hand a VF out twice.
 * Each allocation bumps the VF's generation; a release or attach by an owner
 * that no longer holds the VF (an old pod's DEL after a new pod's ADD) does
 * nothing to the new owner. The original state is written before anything
 * changes, so release also works after an agent restart.
 *
 * Link with: libhlvf.a libhlnl.a -lmnl -lcjson ($(HLVF_LDLIBS)). Netlink
 * goes through libhlnl (lib/netlink): links, netns moves, the PF's per-VF
 * settings.
 * Thread safety: all functions are safe to call concurrently on one pool,
 * except hl_vf_pool_close(). Netlink work in a pod netns is done on a
 * socket created there by the calling thread entering that netns briefly
 * (setns of the thread only).
 */
#ifndef HLVF_H
#define HLVF_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define HL_VF_PCI_LEN   16   /* "dddd:bb:dd.f" + NUL, rounded up */
#define HL_VF_OWNER_MAX 512  /* "netns|containerID|ifname" incl. NUL */
#define HL_VF_MAX_PFS   8

/* Exit/CNI error code the plugin returns for -EAGAIN (CNI: try again later). */
#define HL_VF_CNI_ERR_TRY_AGAIN 11

enum hl_vf_log_level { HL_VF_LOG_ERR, HL_VF_LOG_WARN, HL_VF_LOG_INFO, HL_VF_LOG_DEBUG };

struct hl_vf_pool;

struct hl_vf_pool_opts {
	const char *sysfs_root;           /* NULL: "/sys" */
	const char *pfs[HL_VF_MAX_PFS];   /* PF netdev names, NULL-terminated or full */
	const char *state_dir;            /* persisted slot table; created (0700) */
	/* log callback, NULL = silent; must be thread safe */
	void (*log)(void *arg, int level, const char *msg);
	void *log_arg;
};

enum hl_vf_slot_state {
	HL_VF_FREE = 0,
	HL_VF_ALLOCATED,   /* owner set, nothing changed yet */
	HL_VF_ATTACHING,   /* original state recorded; changes in progress */
	HL_VF_ATTACHED,    /* netdev in the pod / PF settings applied */
};

enum hl_vf_want { HL_VF_WANT_ANY, HL_VF_WANT_KERNEL, HL_VF_WANT_DPDK };

/* One VF as discovered plus its slot record. */
struct hl_vf_info {
	char pci[HL_VF_PCI_LEN];      /* VF PCI address (basename of virtfnN) */
	char pf[IF_NAMESIZE];         /* PF netdev name */
	char pf_pci[HL_VF_PCI_LEN];   /* PF PCI address ("" if unknown) */
	unsigned int vf;              /* N of virtfnN */
	char driver[32];              /* basename of driver link, "" if unbound */
	char netdev[IF_NAMESIZE];     /* host netdev name at discovery/alloc, "" if none */
	bool dpdk;                    /* bound to vfio-pci (or another userspace driver) */
	enum hl_vf_slot_state state;
	char owner[HL_VF_OWNER_MAX];  /* "" when free */
	uint64_t gen;                 /* bumped by every allocation of this VF */
};

/* VF settings sent to the PF (sriov-cni keys). Only has_* ones are sent. */
struct hl_vf_pf_settings {
	bool has_vlan;        int vlan;        /* 0..4095 ("vlan") */
	bool has_qos;         int qos;         /* 0..7 ("vlanQoS"), needs vlan */
	bool has_proto;       uint16_t proto;  /* ETH_P_8021Q/AD host order ("vlanProto") */
	bool has_mac;         uint8_t mac[6];  /* admin MAC ("mac") */
	bool has_spoofchk;    bool spoofchk;   /* "spoofchk": on/off */
	bool has_trust;       bool trust;      /* "trust": on/off */
	bool has_link_state;  int link_state;  /* IFLA_VF_LINK_STATE_{AUTO,ENABLE,DISABLE} */
	bool has_min_tx_rate; uint32_t min_tx_rate; /* Mbps */
	bool has_max_tx_rate; uint32_t max_tx_rate; /* Mbps */
};

/* PF-side state of one VF, decoded from IFLA_VFINFO_LIST. */
struct hl_vf_pf_state {
	uint32_t vf;
	bool has_mac;        uint8_t mac[6];
	bool has_vlan;       uint32_t vlan, qos; uint16_t proto; /* proto host order */
	bool has_spoofchk;   bool spoofchk;
	bool has_trust;      bool trust;
	bool has_link_state; uint32_t link_state;
	bool has_rate;       uint32_t min_tx_rate, max_tx_rate;
};

/* Configuration of one attachment. */
struct hl_vf_conf {
	struct hl_vf_pf_settings pf;  /* PF-side settings */
	bool has_mac;  uint8_t mac[6];/* VF netdev MAC (kernel mode) */
	unsigned int mtu;             /* VF netdev MTU, 0 = unchanged */
};

/* What an attachment produced, for the CNI result. */
struct hl_vf_result {
	bool dpdk;                    /* true: not moved; use pciID */
	char pci[HL_VF_PCI_LEN];      /* "pciID" */
	char pf_pci[HL_VF_PCI_LEN];
	char driver[32];
	char ifname[IF_NAMESIZE];     /* name in the pod (kernel mode) */
	uint8_t mac[6];               /* netdev MAC in the pod (kernel mode) */
	unsigned int mtu;
	int ifindex;                  /* in the pod netns */
};

/**
 * hl_vf_pool_open() - discover VFs and open the persisted slot table.
 * @o: options; strings are copied.
 *
 * Reads <root>/class/net/<pf>/device/virtfnN, <root>/bus/pci/devices/<vf>/
 * {net/,driver} for each configured PF. Records in @o->state_dir of VFs still
 * present keep their owners (an agent restart loses nothing).
 * Return: pool, or NULL with errno: EINVAL (no PF, no state_dir, bad name),
 * ENOENT (a PF has no device dir in sysfs), ENOMEM, mkdir/open errnos.
 */
struct hl_vf_pool *hl_vf_pool_open(const struct hl_vf_pool_opts *o);

/** hl_vf_pool_close() - free the pool (records stay on disk). NULL ok. */
void hl_vf_pool_close(struct hl_vf_pool *p);

/** hl_vf_count() - number of discovered VFs. */
size_t hl_vf_count(const struct hl_vf_pool *p);

/**
 * hl_vf_get() - discovered VF @i (0 <= i < hl_vf_count()) with its current
 * slot record (read under the VF's lock). Return: 0, -ERANGE, or -errno
 * from reading the record (-EBADMSG for a corrupt one).
 */
int hl_vf_get(struct hl_vf_pool *p, size_t i, struct hl_vf_info *out);

/**
 * hl_vf_alloc() - give a free VF to @owner.
 * @owner: unique key of the attachment, "netns|containerID|ifname".
 * @want: restrict to kernel-netdev or userspace-bound (DPDK) VFs.
 * @out: filled with the VF (may be NULL).
 *
 * Idempotent: if @owner already holds a VF, that VF is returned again.
 * For a kernel VF, its netdev's name, MAC, MTU and up flag are recorded now.
 * Return: 0; -EAGAIN when no free VF matches (map to CNI error 11);
 * -EINVAL for an empty/too long owner; -errno from the state dir or netlink.
 */
int hl_vf_alloc(struct hl_vf_pool *p, const char *owner, enum hl_vf_want want,
		struct hl_vf_info *out);

/**
 * hl_vf_alloc_pci() - like hl_vf_alloc() for the VF at PCI address @pci (a
 * device plugin's deviceID). Return: 0, -ENODEV (not in the pool), -EBUSY
 * (held by another owner), or as hl_vf_alloc().
 */
int hl_vf_alloc_pci(struct hl_vf_pool *p, const char *owner, const char *pci,
		    struct hl_vf_info *out);

/**
 * hl_vf_attach_kernel() - hand @owner's VF netdev to a pod.
 * @netns_path: the pod's netns (e.g. /var/run/netns/x or /proc/PID/ns/net).
 * @ifname: name in the pod (CNI_IFNAME).
 * @conf: PF settings, netdev MAC and MTU (may be NULL: none).
 * @res: filled on success (may be NULL).
 *
 * Records the PF-side state and the target netns before changing anything,
 * applies the PF settings, moves the netdev in, renames it, sets MAC/MTU and
 * brings it up. On failure what was changed is rolled back. IPAM is left to
 * the caller (use @res->ifindex/@res->ifname in the pod netns).
 * Idempotent for an already attached owner with the same netns/ifname.
 * Return: 0; -ENOENT (@owner holds no VF); -EMEDIUMTYPE (VF has no netdev,
 * e.g. bound to vfio-pci); -EINVAL (bad conf or names); -errno from netlink
 * (e.g. -EOPNOTSUPP when the PF rejects a VF setting, -EEXIST if @ifname is
 * taken in the pod).
 */
int hl_vf_attach_kernel(struct hl_vf_pool *p, const char *owner,
			const char *netns_path, const char *ifname,
			const struct hl_vf_conf *conf, struct hl_vf_result *res);

/**
 * hl_vf_attach_dpdk() - hand @owner's userspace-bound VF to a pod: the VF is
 * not moved; PF settings of @conf are applied (originals recorded first).
 * Return: 0; -ENOENT (@owner holds no VF); -EMEDIUMTYPE (VF is a kernel
 * netdev); -EINVAL; -errno from netlink.
 */
int hl_vf_attach_dpdk(struct hl_vf_pool *p, const char *owner,
		      const struct hl_vf_conf *conf, struct hl_vf_result *res);

/**
 * hl_vf_release() - give @owner's VF back: restore PF-side settings that were
 * changed, bring the netdev back from the pod netns (also if the pod netns is
 * gone and the kernel returned the VF to the host), restore its name, MAC,
 * MTU and up flag, free the slot.
 *
 * Idempotent: 0 when @owner holds nothing — which is also what an old
 * owner's late DEL gets after the VF went to a new owner (untouched).
 * Steps that cannot be done (netdev vanished) are logged; the slot is freed.
 * Return: 0 or -errno (-EINVAL bad owner; state dir errors; a netlink error
 * that leaves the netdev in the pod: the slot then stays allocated so the
 * release can be retried).
 */
int hl_vf_release(struct hl_vf_pool *p, const char *owner);

/**
 * hl_vf_conf_parse() - parse the sriov-cni style keys of a JSON object
 * ("vlan", "vlanQoS", "vlanProto", "mac", "spoofchk", "trust", "link_state",
 * "min_tx_rate", "max_tx_rate", "mtu"). "mac" sets both the PF admin MAC and
 * the netdev MAC, as sriov-cni does. Unknown keys are ignored.
 * @err: optional buffer for a readable reason.
 * Return: 0 or -EINVAL (malformed JSON, wrong type, out of range).
 */
int hl_vf_conf_parse(const char *json, size_t len, struct hl_vf_conf *out,
		     char *err, size_t errlen);

/**
 * hl_vf_devinfo_json() - the device-info (k8snetworkplumbingwg device-info
 * spec 1.1.0) JSON of type "pci" for VF @pci (and PF @pf_pci unless NULL/"").
 * Return: string length written, -EINVAL (bad PCI address), -ENOSPC.
 */
int hl_vf_devinfo_json(const char *pci, const char *pf_pci, char *buf, size_t len);

/**
 * hl_vf_devinfo_write() - write that JSON to @path atomically (parent dir
 * created 0755), e.g. the CNIDeviceInfoFile runtimeConfig path.
 * Return: 0 or -errno.
 */
int hl_vf_devinfo_write(const char *path, const char *pci, const char *pf_pci);

/** hl_vf_strerror() - message for an hl_vf_* error (e.g. -EAGAIN). */
const char *hl_vf_strerror(int err);

#ifdef __cplusplus
}
#endif
#endif
