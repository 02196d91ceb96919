/* SPDX-License-Identifier: Apache-2.0 */
/* hlvf internals: shared between the .c files of the library only. */
#ifndef HLVF_PRIVATE_H
#define HLVF_PRIVATE_H

#include <limits.h>
#include <stdarg.h>
#include "hlnl.h"
#include "hlvf.h"

/* One discovered VF (read-only after hl_vf_pool_open()). */
struct vf_dev {
	char pci[HL_VF_PCI_LEN];
	char pf[IF_NAMESIZE];
	char pf_pci[HL_VF_PCI_LEN];
	unsigned int vf;
	char driver[32];
	char netdev[IF_NAMESIZE];
	bool dpdk;
};

struct hl_vf_pool {
	char *sysfs_root;
	char *state_dir;
	int host_nsfd;           /* netns the pool was opened in: VFs live here */
	struct vf_dev *vfs;
	size_t n;
	void (*log)(void *arg, int level, const char *msg);
	void *log_arg;
};

/* The persisted slot record of one VF (<state_dir>/<pci>.json). */
struct vf_rec {
	enum hl_vf_slot_state state;
	char owner[HL_VF_OWNER_MAX];
	uint64_t gen;
	/* host netdev before anything changed (kernel VFs) */
	bool has_orig;
	char orig_name[IF_NAMESIZE];
	uint8_t orig_mac[6];
	unsigned int orig_mtu;
	bool orig_up;
	/* PF-side state before anything changed, when it could be read */
	bool has_pf_orig;
	struct hl_vf_pf_state pf_orig;
	/* which PF settings were (or are being) changed: only has_* matter */
	struct hl_vf_pf_settings pf_applied;
	/* where the netdev went */
	char netns[PATH_MAX];
	char ifname[IF_NAMESIZE];
};

void hl_vfi_log(const struct hl_vf_pool *p, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* pool.c / attach.c */
int hl_vfi_find_owner(struct hl_vf_pool *p, const char *owner, struct vf_rec *r, int *fd);
int hl_vfi_restore(struct hl_vf_pool *p, const struct vf_dev *d, struct vf_rec *r);

/* record.c */
int hl_vfi_lock(const struct hl_vf_pool *p, const char *pci);
void hl_vfi_unlock(int fd);
int hl_vfi_rec_load(const struct hl_vf_pool *p, const char *pci, struct vf_rec *r);
int hl_vfi_rec_save(const struct hl_vf_pool *p, const char *pci, const struct vf_rec *r);
int hl_vfi_rec_decode(const char *json, size_t len, struct vf_rec *r);
char *hl_vfi_rec_encode(const char *pci, const struct vf_rec *r);

/* sysfs.c */
int hl_vfi_discover(struct hl_vf_pool *p, const char *const *pfs);
int hl_vfi_sysfs_netdev(const struct hl_vf_pool *p, const char *pci, char *name);
bool hl_vfi_pci_valid(const char *s);

/* nl.c: an hlnl handle in the netns of @nsfd (NULL + errno). Aborts when
 * the thread could not come back to its own netns. */
struct hlnl *hl_vfi_nl_open(int nsfd);

/* pf.c */
int hl_vfi_pf_read(const struct hl_vf_pool *p, const struct vf_dev *d,
		   struct hl_vf_pf_state *st);
int hl_vfi_pf_apply(const struct hl_vf_pool *p, const struct vf_dev *d,
		    const struct hl_vf_pf_settings *s);
int hl_vfi_pf_restore(const struct hl_vf_pool *p, const struct vf_dev *d,
		      const struct vf_rec *r);
bool hl_vfi_pf_any(const struct hl_vf_pf_settings *s);
int hl_vfi_pf_validate(const struct hl_vf_pf_settings *s);
/* The netlink form of @s for VF @vf: a VLAN without qos/proto gets 0 and
 * 802.1Q, a rate with one half set gets 0 (no limit) for the other. */
void hl_vfi_pf_to_nl(const struct hl_vf_pf_settings *s, uint32_t vf, struct hlnl_vf *o);
/* The recorded form of what the PF reported. */
void hl_vfi_pf_from_nl(const struct hlnl_vf *v, struct hl_vf_pf_state *o);

#endif
