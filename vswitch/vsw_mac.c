/* SPDX-License-Identifier: Apache-2.0 */
#include "vsw_mac.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define MAC_MASK ((1ULL << 48) - 1)

struct vsw_mac_table {
	size_t mask;   /* buckets - 1 */
	uint64_t age;
	struct vsw_mac_entry *e; /* (mask + 1) * VSW_MAC_WAYS, 64-byte aligned */
};

struct vsw_mac_table *vsw_mac_create(size_t buckets, uint64_t age)
{
	struct vsw_mac_table *t;
	size_t n = 1;

	if (buckets == 0 || buckets > (1u << 24) || age == 0) {
		errno = EINVAL;
		return NULL;
	}
	while (n < buckets)
		n <<= 1;
	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->e = aligned_alloc(64, n * VSW_MAC_WAYS * sizeof(*t->e));
	if (!t->e) {
		free(t);
		errno = ENOMEM;
		return NULL;
	}
	memset(t->e, 0, n * VSW_MAC_WAYS * sizeof(*t->e));
	t->mask = n - 1;
	t->age = age;
	return t;
}

void vsw_mac_free(struct vsw_mac_table *t)
{
	if (!t)
		return;
	free(t->e);
	free(t);
}

uint64_t vsw_mac_u64(const uint8_t a[6])
{
	return (uint64_t)a[0] << 40 | (uint64_t)a[1] << 32 |
	       (uint64_t)a[2] << 24 | (uint64_t)a[3] << 16 |
	       (uint64_t)a[4] << 8 | a[5];
}

void vsw_mac_bytes(uint64_t m, uint8_t a[6])
{
	for (int i = 0; i < 6; i++)
		a[i] = (uint8_t)(m >> (40 - 8 * i));
}

static struct vsw_mac_entry *bucket(const struct vsw_mac_table *t, uint64_t m)
{
	/* Multiplicative hash: the low bytes of pod MACs are what differ. */
	uint64_t h = (m * 0x9E3779B97F4A7C15ULL) >> 32;

	return &t->e[(h & t->mask) * VSW_MAC_WAYS];
}

static int live(const struct vsw_mac_table *t, const struct vsw_mac_entry *e,
		uint64_t now)
{
	return e->key != 0 && now - e->seen < t->age;
}

void vsw_mac_learn(struct vsw_mac_table *t, const uint8_t mac[6], int port,
		   uint64_t now)
{
	uint64_t m = vsw_mac_u64(mac);
	uint64_t key = m | (uint64_t)(port + 1) << 48;
	struct vsw_mac_entry *b, *victim = NULL;

	if ((mac[0] & 1) || m == 0 || port < 0 || port > 32766)
		return;
	b = bucket(t, m);
	for (int i = 0; i < VSW_MAC_WAYS; i++) {
		if ((b[i].key & MAC_MASK) == m && b[i].key) {
			b[i].key = key; /* a move to another port is learned too */
			b[i].seen = now;
			return;
		}
		if (!live(t, &b[i], now)) {
			if (!victim || live(t, victim, now))
				victim = &b[i];
		} else if (!victim || (live(t, victim, now) &&
				       b[i].seen < victim->seen)) {
			victim = &b[i];
		}
	}
	victim->key = key;
	victim->seen = now;
}

int vsw_mac_lookup(const struct vsw_mac_table *t, const uint8_t mac[6],
		   uint64_t now)
{
	uint64_t m;
	const struct vsw_mac_entry *b;

	if (mac[0] & 1)
		return VSW_MAC_FLOOD;
	m = vsw_mac_u64(mac);
	b = bucket(t, m);
	for (int i = 0; i < VSW_MAC_WAYS; i++) {
		if (b[i].key && (b[i].key & MAC_MASK) == m)
			return live(t, &b[i], now) ? (int)(b[i].key >> 48) - 1
						   : VSW_MAC_FLOOD;
	}
	return VSW_MAC_FLOOD;
}

void vsw_mac_flush_port(struct vsw_mac_table *t, int port)
{
	size_t n = (t->mask + 1) * VSW_MAC_WAYS;

	for (size_t i = 0; i < n; i++) {
		if (t->e[i].key && (int)(t->e[i].key >> 48) - 1 == port)
			t->e[i].key = 0;
	}
}

void vsw_mac_walk(const struct vsw_mac_table *t, uint64_t now,
		  int (*fn)(void *arg, uint64_t mac, int port, uint64_t seen),
		  void *arg)
{
	size_t n = (t->mask + 1) * VSW_MAC_WAYS;

	for (size_t i = 0; i < n; i++) {
		const struct vsw_mac_entry *e = &t->e[i];
		if (live(t, e, now) &&
		    fn(arg, e->key & MAC_MASK, (int)(e->key >> 48) - 1, e->seen))
			return;
	}
}
