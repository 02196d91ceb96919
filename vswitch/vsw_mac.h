/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The switch's MAC learning table. Private to vswitch/. Used by
 * the forwarding lcore only, so it has no locks; time is whatever unit the
 * caller passes (the switch uses TSC cycles, the tests plain numbers).
 *
 * Layout: buckets of 4 entries (one cache line), bucket chosen by a hash of
 * the address; a lookup reads one bucket. Learning refreshes the entry,
 * takes a free or aged one, or else evicts the bucket's oldest.
 */
#ifndef VSW_MAC_H
#define VSW_MAC_H

#include <stdint.h>
#include <stddef.h>

#define VSW_MAC_FLOOD (-1)
#define VSW_MAC_WAYS 4

struct vsw_mac_entry {
	uint64_t key;   /* 48-bit address | (port + 1) << 48; 0 = empty */
	uint64_t seen;  /* time of the last frame from it */
};

struct vsw_mac_table;

/* @buckets: rounded up to a power of two; @age: entries older than this are
 * ignored and reusable. NULL + errno (EINVAL, ENOMEM) on failure. */
struct vsw_mac_table *vsw_mac_create(size_t buckets, uint64_t age);
void vsw_mac_free(struct vsw_mac_table *t);

/* Address <-> uint64 (first byte most significant). */
uint64_t vsw_mac_u64(const uint8_t a[6]);
void vsw_mac_bytes(uint64_t m, uint8_t a[6]);

/* Remember that @mac was seen on @port (0..32766) at @now. Group
 * (multicast/broadcast) and all-zero sources are not learned. */
void vsw_mac_learn(struct vsw_mac_table *t, const uint8_t mac[6], int port,
		   uint64_t now);

/* The port owning @mac, or VSW_MAC_FLOOD when it is a group address,
 * unknown, or aged out. */
int vsw_mac_lookup(const struct vsw_mac_table *t, const uint8_t mac[6],
		   uint64_t now);

/* Forget every entry of @port (port deleted or went down). */
void vsw_mac_flush_port(struct vsw_mac_table *t, int port);

/* Calls @fn for every live entry; stops early if @fn returns non-zero. */
void vsw_mac_walk(const struct vsw_mac_table *t, uint64_t now,
		  int (*fn)(void *arg, uint64_t mac, int port, uint64_t seen),
		  void *arg);

#endif
