/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Grants of direct regions (pod protocol v5, struct hl_direct_grant): the
 * NetworkPolicy verdict per destination port for a region's direction, in
 * a sealed memfd only the monitor can write. The listener process takes an
 * announced connection only to a port its grant admits, so a connector
 * that ignores `off` or rewrites the control block gets nothing the
 * monitor would not have admitted (docs/monitor.md, docs/security.md).
 */
#include "mon_private.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define GRANT_SEALS (F_SEAL_FUTURE_WRITE | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL)

int mon_grant_new(struct mon_region *g)
{
	int fd = memfd_create("hostlane-grant", MFD_CLOEXEC | MFD_ALLOW_SEALING), err;
	void *p = MAP_FAILED;

	if (fd < 0)
		return -errno;
	if (ftruncate(fd, HL_GRANT_BYTES) < 0)
		goto fail;
	/* Our writable mapping is made before the seal: F_SEAL_FUTURE_WRITE
	 * keeps it, and refuses every later one (and write()), ours or a
	 * pod's, so once the fd leaves only this mapping writes the grant. */
	p = mmap(NULL, HL_GRANT_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		goto fail;
	g->grant = p;
	g->grant->magic = HL_GRANT_MAGIC;
	g->grant->version = HL_GRANT_VERSION;
	if (fcntl(fd, F_ADD_SEALS, GRANT_SEALS) < 0)
		goto fail;
	g->grant_fd = fd;
	return 0;
fail:
	err = -errno;
	if (p != MAP_FAILED)
		munmap(p, HL_GRANT_BYTES);
	g->grant = NULL;
	close(fd);
	return err;
}

void mon_grant_free(struct mon_region *g)
{
	if (g->grant)
		munmap(g->grant, HL_GRANT_BYTES);
	g->grant = NULL;
	if (g->grant_fd >= 0)
		close(g->grant_fd);
	g->grant_fd = -1;
}

bool mon_grant_admits(const struct mon_region *g, uint16_t port)
{
	return g->grant && port &&
	       (atomic_load_explicit(&g->grant->ports[port / 64], memory_order_relaxed) >>
		(port % 64) & 1);
}

/* The bits of @g from the table now: nothing once its pods' netfilter
 * rules turned it off or a holder is gone, else the verdicts for its
 * connector's pod to its listener's (mon_admit_ports()). */
void mon_grant_write(struct hl_monitor *n, struct mon_region *g)
{
	static uint64_t bits[HL_GRANT_WORDS];
	const struct mon_client *c = g->holder[0], *l = g->holder[1];

	if (!g->grant)
		return;
	if (g->nf_off || !c || !l)
		memset(bits, 0, sizeof(bits));
	else
		mon_admit_ports(n, c->ep, l->ep, bits);
	/* Word by word: a listener reads one word per announcement, and a
	 * bit that stays the same is never seen changing. */
	for (unsigned i = 0; i < HL_GRANT_WORDS; i++)
		atomic_store_explicit(&g->grant->ports[i], bits[i], memory_order_relaxed);
	/* Pairs with no load: the listener reads the bits only; the
	 * generation says how many rewrites there were (tests, debugging). */
	atomic_fetch_add_explicit(&g->grant->generation, 1, memory_order_release);
}

void mon_grants_write(struct hl_monitor *n)
{
	for (struct mon_region *g = n->regions; g; g = g->next)
		if (g->grant && !shmq_region_faulted(g->r))
			mon_grant_write(n, g);
}

void mon_direct_make(struct hl_monitor *n, struct mon_region *g, struct mon_client *c,
		     struct mon_client *l, uint32_t pair, uint16_t port)
{
	if (c->version < 5 || l->version < 5) {
		/* No grant: only while no policy is enforced (admit.c). */
		if (mon_direct_allowed(n, c->ep, l->ep))
			mon_direct_setup(g, c, l, pair);
		return;
	}
	if (!l->direct || l->bell < 0 || mon_grant_new(g))
		return;
	g->holder[0] = c;  /* for the verdict; set for good once sent */
	g->holder[1] = l;
	mon_grant_write(n, g);
	g->holder[0] = NULL;
	/* A port the grant does not admit although the exact check did (an
	 * egress ipBlock some of the listener pod's addresses are not in):
	 * a plain slot region, which the monitor's later CONNECTs reuse. */
	if (mon_grant_admits(g, port))
		mon_direct_setup(g, c, l, pair);
	if (!g->direct)
		mon_grant_free(g);
}
