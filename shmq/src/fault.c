/* SPDX-License-Identifier: MIT */
/*
 * Containing a fault in a region mapping. A peer holds the region's memfd
 * open for writing (it writes the rings too), so it can punch a hole in it
 * (fallocate, madvise MADV_REMOVE) or the kernel can fail to give back a
 * page for another reason; no seal forbids that while leaving the memfd
 * writable to both. The next access of this process then faults a fresh
 * page in: charged to this process's hugetlb cgroup, which may be 0 (a pod
 * that asked for no hugepages), or out of the pool: SIGBUS.
 *
 * Every region this process maps is registered here (address, length,
 * page size). shmq_fault_contain(), called from the application's SIGBUS
 * handler with the faulting address, replaces the page that faulted with
 * private memory filled with 0xff bytes, in which every ring header reads
 * as closed on both sides and every index as out of range, and marks the
 * region: the access is retried and succeeds, and every connection in that
 * page breaks (-EPROTO, end-of-stream) instead of the process dying. Only
 * the two processes that share the region lose anything: those
 * connections.
 *
 * The table is chunks allocated once and never freed, read without locks:
 * the handler may run on any thread while others map and unmap.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "shmq_private.h"

#define CHUNK  256u
#define CHUNKS 256u   /* 65536 regions mapped at once */

struct fault_ent {
	_Atomic uintptr_t base;     /* 0: free (published last, cleared first) */
	size_t len;
	size_t page;
	atomic_int *faulted;        /* the region's flag */
	atomic_int used;            /* claimed by a registration */
};

static _Atomic(struct fault_ent *) chunks[CHUNKS];

static struct fault_ent *chunk_get(unsigned i)
{
	struct fault_ent *c = atomic_load_explicit(&chunks[i], memory_order_acquire), *fresh;

	if (c)
		return c;
	fresh = calloc(CHUNK, sizeof(*fresh));
	if (!fresh)
		return NULL;
	if (!atomic_compare_exchange_strong(&chunks[i], &c, fresh)) {
		free(fresh);  /* another thread's won; c is it */
		return c;
	}
	return fresh;
}

int shmq__fault_register(void *base, size_t len, size_t page, atomic_int *faulted)
{
	for (unsigned i = 0; i < CHUNKS; i++) {
		struct fault_ent *c = chunk_get(i);

		if (!c)
			return -ENOMEM;
		for (unsigned k = 0; k < CHUNK; k++) {
			int z = 0;

			if (!atomic_compare_exchange_strong(&c[k].used, &z, 1))
				continue;
			c[k].len = len;
			c[k].page = page;
			c[k].faulted = faulted;
			/* Release: pairs with the handler's acquire load of
			 * base; len, page and faulted are set before. */
			atomic_store_explicit(&c[k].base, (uintptr_t)base, memory_order_release);
			return (int)(i * CHUNK + k);
		}
	}
	return -ENOSPC;
}

void shmq__fault_unregister(int slot)
{
	struct fault_ent *c;

	if (slot < 0)
		return;
	c = atomic_load_explicit(&chunks[(unsigned)slot / CHUNK], memory_order_acquire);
	atomic_store_explicit(&c[(unsigned)slot % CHUNK].base, 0, memory_order_release);
	atomic_store(&c[(unsigned)slot % CHUNK].used, 0);
}

int shmq_fault_contain(const void *addr)
{
	uintptr_t a = (uintptr_t)addr;

	for (unsigned i = 0; i < CHUNKS; i++) {
		struct fault_ent *c = atomic_load_explicit(&chunks[i], memory_order_acquire);

		if (!c)
			break;
		for (unsigned k = 0; k < CHUNK; k++) {
			uintptr_t b = atomic_load_explicit(&c[k].base, memory_order_acquire);
			uint8_t *page;

			if (!b || a < b || a - b >= c[k].len)
				continue;
			page = (uint8_t *)(b + ((a - b) & ~(uintptr_t)(c[k].page - 1)));
			/* Async-signal-safe: a system call and a fill. */
			if (mmap(page, c[k].page, PROT_READ | PROT_WRITE,
				 MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) == MAP_FAILED)
				return -1;
			memset(page, 0xff, c[k].page);
			atomic_store(c[k].faulted, 1);
			return 1;
		}
	}
	return 0;
}
