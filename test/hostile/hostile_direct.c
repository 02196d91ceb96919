/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Direct connections against NetworkPolicy: a connector that keeps
 * announcing on its direct region after a policy change denied it, and
 * does everything the control block lets it (docs/security.md).
 */
#include "hostile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "hostlane_direct.h"
#include "shmq.h"

/* Whether anything lets this process write grant fd @fd. */
static bool grant_writable(int fd)
{
	char c = 0;
	void *p = mmap(NULL, HL_GRANT_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

	if (p != MAP_FAILED) {
		munmap(p, HL_GRANT_BYTES);
		return true;
	}
	p = mmap(NULL, HL_GRANT_BYTES, PROT_READ, MAP_SHARED, fd, 0);
	if (p != MAP_FAILED) {
		bool w = mprotect(p, HL_GRANT_BYTES, PROT_READ | PROT_WRITE) == 0;

		munmap(p, HL_GRANT_BYTES);
		if (w)
			return true;
	}
	return pwrite(fd, &c, 1, 8) >= 0 || ftruncate(fd, 0) == 0 ||
	       fcntl(fd, F_ADD_SEALS, 0) == 0;
}

/* The block as a listener that publishes @ports and a monitor that never
 * said `off` would have it. */
static void forge(struct hl_direct_blk *b, const uint16_t *ports, unsigned n)
{
	atomic_store(&b->off, 0);
	atomic_store(&b->wake, 0);
	for (unsigned i = 0; i < n; i++)
		atomic_store(&b->ports[i], ports[i]);
	atomic_store(&b->n_ports, n);
}

/*
 * dsteal IP PORT WAIT_MS MS PORT...: a first (direct) connection to
 * IP:PORT; then waits up to WAIT_MS for the monitor to rewrite its grant (a
 * policy change), and for MS announces connections to the PORTs on every
 * other slot, again and again: `off` cleared, the ports put in the table,
 * announcement words rewritten whatever their state, the doorbell rung.
 * Prints what the grant fd allowed and how many announcements the listener
 * took (the server's counters say whether any became a connection).
 */
int cmd_dsteal(int argc, char **argv)
{
	struct hs_ep e;
	struct hs_reply r;
	struct shmq_region *g;
	struct hl_direct_blk *b;
	const struct hl_direct_grant *gr;
	uint16_t ports[16], cport = 42000;
	uint64_t end, gen, offers = 0, taken = 0;
	unsigned np = 0;
	int bell, gfd;

	if (argc < 5)
		return -1;
	for (int i = 4; i < argc && np < 16; i++)
		ports[np++] = (uint16_t)atoi(argv[i]);
	hs_open_or_die(&e);
	hs_connect_or_die(&e, argv[0], argv[1], &r);
	if (!(r.m.u.conn.flags & HL_CONN_F_DIRECT) || !(r.m.u.conn.flags & HL_CONN_F_GRANT)) {
		printf("direct no\n");
		return 0;
	}
	bell = r.fds[2 + 2 * r.m.u.conn.slots];
	gfd = r.fds[r.nfds - 1];
	g = shmq_region_map(r.fds[0]);
	b = g ? shmq_region_tail(g, HL_DIRECT_BLK) : NULL;
	gr = mmap(NULL, HL_GRANT_BYTES, PROT_READ, MAP_SHARED, gfd, 0);
	if (!b || gr == MAP_FAILED) {
		printf("direct unmappable\n");
		return 0;
	}
	printf("direct yes\ngrant_writable %s\n", grant_writable(gfd) ? "yes" : "no");
	fflush(stdout);
	gen = atomic_load(&gr->generation);
	end = hs_now_ms() + (unsigned)atoi(argv[2]);
	while (atomic_load(&gr->generation) == gen && hs_now_ms() < end)
		hs_hold(5);
	printf("grant_changed %s\n", atomic_load(&gr->generation) != gen ? "yes" : "no");
	printf("off %u\n", atomic_load(&b->off));
	fflush(stdout);
	end = hs_now_ms() + (unsigned)atoi(argv[3]);
	while (hs_now_ms() < end) {
		forge(b, ports, np);
		for (uint32_t k = 0; k < r.m.u.conn.slots; k++) {
			uint64_t v = atomic_load(&b->ann[k]);

			if (k == r.m.u.conn.pair)
				continue;
			taken += HL_ANN_STATE(v) == HL_ANN_TAKEN;
			shmq_pair_init(g, k, SHMQ_MODE_STREAM);
			atomic_store(&b->ann[k], HL_ANN(HL_ANN_OFFERED, cport++, ports[offers % np]));
			offers++;
		}
		hs_poke(bell);
		hs_hold(2);
	}
	printf("offers %llu\ntaken %llu\n", (unsigned long long)offers, (unsigned long long)taken);
	return 0;
}
