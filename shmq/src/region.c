/* SPDX-License-Identifier: MIT */
/* Regions: a memfd (hugetlb when possible) holding ring pairs. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <linux/falloc.h>
#include <linux/magic.h>
#include <stdatomic.h>
#include <unistd.h>

#include "shmq_private.h"

#ifndef MFD_HUGE_2MB
#define MFD_HUGE_2MB (21u << 26)
#endif

#define HUGE_2M ((size_t)2 << 20)

struct shmq_region {
	int fd;
	uint8_t *base;
	size_t size;
	int hugetlb;
	int sealed;
	int fault_slot;        /* its entry in fault.c's table, or -1 */
	atomic_int faulted;    /* a page was replaced (shmq_fault_contain) */
};

static void say(shmq_log_fn log, void *arg, int level, const char *msg)
{
	if (log)
		log(arg, level, msg);
}

static size_t round_up(size_t v, size_t a)
{
	return (v + a - 1) / a * a;
}

/* memfd of @size bytes, hugetlb or not; -errno on failure. */
static int make_memfd(size_t size, int huge)
{
	unsigned fl = MFD_CLOEXEC | MFD_ALLOW_SEALING;
	int fd;

	if (huge)
		fl |= MFD_HUGETLB | MFD_HUGE_2MB;
	fd = memfd_create("shmq", fl);
	if (fd < 0)
		return -errno;
	if (ftruncate(fd, (off_t)size) < 0) {
		int e = errno;

		close(fd);
		return -e;
	}
	return fd;
}

/* Map @fd and, for hugetlb, touch nothing: hugetlb pages are reserved at
 * mmap time, so a missing page shows here as ENOMEM rather than SIGBUS. */
static uint8_t *map_fd(int fd, size_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

	return p == MAP_FAILED ? NULL : p;
}

/* The page size of @fd's mapping: a hugetlbfs file's, else the system's. */
static size_t page_of(int fd)
{
	struct statfs sf;
	struct stat st;

	if (fstatfs(fd, &sf) == 0 && (unsigned long)sf.f_type == HUGETLBFS_MAGIC &&
	    fstat(fd, &st) == 0 && st.st_blksize > 0)
		return (size_t)st.st_blksize;
	return (size_t)sysconf(_SC_PAGESIZE);
}

/* A region for mapping @base of @fd, registered for fault containment
 * before anything in it is read or written. */
static struct shmq_region *region_new(int fd, uint8_t *base, size_t size, int huge)
{
	struct shmq_region *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->fd = fd;
	r->base = base;
	r->size = size;
	r->hugetlb = huge;
	r->fault_slot = shmq__fault_register(base, size, page_of(fd), &r->faulted);
	if (r->fault_slot < 0) {
		free(r);
		return NULL;
	}
	return r;
}

static void header_init(struct shmq_abi_region *h, size_t size, int huge)
{
	memset(h, 0, sizeof(*h));
	h->magic = SHMQ_REGION_MAGIC;
	h->major = SHMQ_ABI_MAJOR;
	h->minor = SHMQ_ABI_MINOR;
	h->flags = huge ? SHMQ_REGION_F_HUGETLB : 0;
	h->size = size;
}

struct shmq_region *shmq_region_create(size_t size, unsigned flags, shmq_log_fn log,
				       void *log_arg)
{
	struct shmq_region *r;
	int huge = !(flags & SHMQ_REGION_NO_HUGETLB);
	size_t sz;
	uint8_t *base = NULL;
	int fd = -1;

	if (size == 0 || size > ((size_t)1 << 40) ||
	    (flags & ~(SHMQ_REGION_REQUIRE_HUGETLB | SHMQ_REGION_NO_HUGETLB)) ||
	    (flags & SHMQ_REGION_REQUIRE_HUGETLB && flags & SHMQ_REGION_NO_HUGETLB)) {
		errno = EINVAL;
		return NULL;
	}
	if (size < SHMQ_REGION_HDR_SIZE)
		size = SHMQ_REGION_HDR_SIZE;
	if (huge) {
		sz = round_up(size, HUGE_2M);
		fd = make_memfd(sz, 1);
		if (fd >= 0) {
			base = map_fd(fd, sz);
			if (!base) {
				close(fd);
				fd = -1;
			}
		}
		if (fd < 0) {
			if (flags & SHMQ_REGION_REQUIRE_HUGETLB) {
				errno = ENOMEM;
				return NULL;
			}
			say(log, log_arg, SHMQ_LOG_WARN,
			    "shmq: no 2 MiB hugepages available, using a normal memfd");
			huge = 0;
		}
	}
	if (!huge) {
		sz = round_up(size, (size_t)sysconf(_SC_PAGESIZE));
		fd = make_memfd(sz, 0);
		if (fd < 0) {
			errno = -fd;
			return NULL;
		}
		base = map_fd(fd, sz);
		if (!base) {
			int e = errno;

			close(fd);
			errno = e;
			return NULL;
		}
	}
	r = region_new(fd, base, sz, huge);
	if (!r) {
		munmap(base, sz);
		close(fd);
		errno = ENOMEM;
		return NULL;
	}
	/* A peer that could shrink the file would make our accesses SIGBUS. */
	r->sealed = fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) == 0;
	if (!r->sealed)
		say(log, log_arg, SHMQ_LOG_WARN, "shmq: cannot seal the region size");
	header_init((struct shmq_abi_region *)base, sz, huge);
	if (atomic_load(&r->faulted)) {
		/* The page could not be had (a hugetlb cgroup at its limit):
		 * contained by the caller's SIGBUS handler. */
		shmq_region_close(r);
		errno = ENOMEM;
		return NULL;
	}
	if (log) {
		char msg[96];

		snprintf(msg, sizeof(msg), "shmq: region of %zu bytes on %s", sz,
			 huge ? "2 MiB hugepages" : "normal pages");
		say(log, log_arg, SHMQ_LOG_INFO, msg);
	}
	return r;
}

struct shmq_region *shmq_region_map(int fd)
{
	struct shmq_abi_region h;
	struct shmq_region *r;
	struct stat st;
	uint8_t *base;
	int seals, dfd;

	if (fd < 0) {
		errno = EBADF;
		return NULL;
	}
	if (fstat(fd, &st) < 0)
		return NULL;
	if (st.st_size < (off_t)SHMQ_REGION_HDR_SIZE) {
		errno = EPROTO;
		return NULL;
	}
	/* At or above @fd: a caller that keeps its fds out of the low range
	 * (an LD_PRELOAD layer) gets the copy there too. */
	dfd = fcntl(fd, F_DUPFD_CLOEXEC, fd);
	if (dfd < 0)
		return NULL;
	base = map_fd(dfd, (size_t)st.st_size);
	if (!base) {
		int e = errno;

		close(dfd);
		errno = e;
		return NULL;
	}
	r = region_new(dfd, base, (size_t)st.st_size, 0);
	if (!r) {
		munmap(base, (size_t)st.st_size);
		close(dfd);
		errno = ENOMEM;
		return NULL;
	}
	memcpy(&h, base, sizeof(h));
	if (h.magic != SHMQ_REGION_MAGIC ||
	    (h.major != SHMQ_ABI_MAJOR && h.major != SHMQ_ABI_POOL_MAJOR) ||
	    h.size != (uint64_t)st.st_size) {
		shmq_region_close(r);
		errno = EPROTO;
		return NULL;
	}
	r->hugetlb = !!(h.flags & SHMQ_REGION_F_HUGETLB);
	seals = fcntl(dfd, F_GET_SEALS);
	r->sealed = seals >= 0 && (seals & F_SEAL_SHRINK);
	return r;
}

void shmq_region_close(struct shmq_region *r)
{
	if (!r)
		return;
	shmq__fault_unregister(r->fault_slot);
	munmap(r->base, r->size);
	close(r->fd);
	free(r);
}

int shmq_region_fd(const struct shmq_region *r)
{
	return r->fd;
}

int shmq_region_faulted(const struct shmq_region *r)
{
	return atomic_load(&((struct shmq_region *)r)->faulted);
}

int shmq_region_discard(struct shmq_region *r)
{
	if (fallocate(r->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, (off_t)r->size) < 0)
		return -errno;
	return 0;
}

size_t shmq_region_size(const struct shmq_region *r)
{
	return r->size;
}

int shmq_region_is_hugetlb(const struct shmq_region *r)
{
	return r->hugetlb;
}

int shmq_region_is_sealed(const struct shmq_region *r)
{
	return r->sealed;
}

static uint64_t pair_stride(uint32_t capacity)
{
	return round_up(shmq_pair_bytes(capacity), 4096);
}

size_t shmq_region_bytes(uint32_t n_pairs, uint32_t capacity)
{
	uint64_t stride = pair_stride(capacity);

	if (!shmq_pair_bytes(capacity) || n_pairs == 0 ||
	    n_pairs > (UINT64_MAX - SHMQ_REGION_HDR_SIZE) / stride)
		return 0;
	return (size_t)(SHMQ_REGION_HDR_SIZE + n_pairs * stride);
}

int shmq_region_layout(struct shmq_region *r, uint32_t n_pairs, uint32_t capacity)
{
	struct shmq_abi_region *h = (struct shmq_abi_region *)r->base;
	size_t need = shmq_region_bytes(n_pairs, capacity);

	if (!need)
		return -EINVAL;
	if (need > r->size)
		return -ENOSPC;
	h->major = SHMQ_ABI_MAJOR;
	h->minor = SHMQ_ABI_MINOR;
	h->n_pairs = n_pairs;
	h->ring_capacity = capacity;
	h->pair_off = SHMQ_REGION_HDR_SIZE;
	h->pair_stride = pair_stride(capacity);
	return 0;
}

/* Read the layout from the (shared, untrusted) header once and check that
 * pair @idx lies inside our mapping. */
static int pair_locate(struct shmq_region *r, uint32_t idx, uint8_t **mem, size_t *len)
{
	struct shmq_abi_region h;

	memcpy(&h, r->base, offsetof(struct shmq_abi_region, pad_pool));
	if (h.magic != SHMQ_REGION_MAGIC ||
	    (h.major != SHMQ_ABI_MAJOR && h.major != SHMQ_ABI_POOL_MAJOR))
		return -EPROTO;
	if (idx >= h.n_pairs)
		return -ENOENT;
	if (!shmq_pair_bytes(h.ring_capacity) || h.pair_stride < shmq_pair_bytes(h.ring_capacity) ||
	    h.pair_off < SHMQ_REGION_HDR_SIZE || (h.pair_off & (SHMQ_BLOCK - 1)) ||
	    (h.pair_stride & (SHMQ_BLOCK - 1)) || h.pair_off > r->size ||
	    h.n_pairs > (r->size - h.pair_off) / h.pair_stride)
		return -EPROTO;
	*mem = r->base + h.pair_off + (uint64_t)idx * h.pair_stride;
	*len = shmq_pair_bytes(h.ring_capacity);
	return 0;
}

void *shmq_region_tail(struct shmq_region *r, size_t len)
{
	struct shmq_abi_region h;
	uint8_t *mem;
	size_t plen;
	int rc;

	if (!len || len > r->size) {
		errno = EINVAL;
		return NULL;
	}
	memcpy(&h, r->base, sizeof(h));
	if (h.major == SHMQ_ABI_POOL_MAJOR) {
		struct shmq_pool pl;

		/* The pool runs to where its chunks end: no tail past it. */
		rc = shmq__pool_get(r, &pl);
		if (rc || (size_t)(pl.base - r->base) + 2 * pl.n_side * pl.chunk > r->size - len) {
			errno = rc ? -rc : ENOSPC;
			return NULL;
		}
	}
	if (h.n_pairs) {
		rc = pair_locate(r, h.n_pairs - 1, &mem, &plen);
		if (rc) {
			errno = -rc;
			return NULL;
		}
		if ((size_t)(mem - r->base) + plen > r->size - len) {
			errno = ENOSPC;
			return NULL;
		}
	} else if (SHMQ_REGION_HDR_SIZE > r->size - len) {
		errno = ENOSPC;
		return NULL;
	}
	return r->base + r->size - len;
}

int shmq_region_pairs(struct shmq_region *r)
{
	struct shmq_abi_region h;
	uint8_t *mem;
	size_t len;
	int rc;

	memcpy(&h, r->base, sizeof(h));
	if (h.n_pairs == 0)
		return 0;
	rc = pair_locate(r, 0, &mem, &len);
	return rc ? rc : (int)h.n_pairs;
}

int shmq_pair_init(struct shmq_region *r, uint32_t idx, enum shmq_mode mode)
{
	struct shmq_pool pl;
	uint8_t *mem;
	size_t len;
	int rc = pair_locate(r, idx, &mem, &len);

	if (rc)
		return rc;
	if (mode != SHMQ_MODE_MSG && mode != SHMQ_MODE_STREAM)
		return -EINVAL;
	rc = shmq__pool_get(r, &pl);
	if (rc)
		return rc;
	/* A slot used before gives back the pool areas its rings still
	 * name (ring 0 is side 0's, ring 1 side 1's). */
	shmq__ring_reclaim(&pl, 0, (struct shmq_abi_ring *)mem);
	shmq__ring_reclaim(&pl, 1, (struct shmq_abi_ring *)(mem + len / 2));
	return shmq__pair_format(mem, len, (uint32_t)(len / 2 - SHMQ_RING_HDR_SIZE), mode,
				 pl.base != NULL);
}

int shmq_pair_closed(struct shmq_region *r, uint32_t idx)
{
	const struct shmq_abi_ring *r0, *r1;
	uint8_t *mem;
	size_t len;
	int rc = pair_locate(r, idx, &mem, &len), m = 0;

	if (rc)
		return rc;
	/* Closing an endpoint marks its receive ring consumer-closed (and
	 * only that does): side 0 receives on the second ring. */
	r0 = (const struct shmq_abi_ring *)mem;
	r1 = (const struct shmq_abi_ring *)(mem + len / 2);
	if (atomic_load_explicit(&r1->cons_closed, memory_order_acquire))
		m |= 1;
	if (atomic_load_explicit(&r0->cons_closed, memory_order_acquire))
		m |= 2;
	return m;
}

struct shmq_ep *shmq_ep_attach(struct shmq_region *r, uint32_t idx, unsigned side)
{
	struct shmq_pool pl;
	uint8_t *mem;
	size_t len;
	int rc = pair_locate(r, idx, &mem, &len);

	if (!rc)
		rc = shmq__pool_get(r, &pl);
	if (rc) {
		errno = -rc;
		return NULL;
	}
	return shmq__ep_open(mem, len, side, &pl);
}

/* ---- Pool regions (layout 2.0) ------------------------------------------ */

int shmq_region_layout_pool(struct shmq_region *r, uint32_t n_pairs, uint32_t capacity,
			    uint32_t chunk_size, uint32_t grow_max)
{
	struct shmq_abi_region *h = (struct shmq_abi_region *)r->base;
	size_t need = shmq_region_bytes(n_pairs, capacity);
	uint64_t off, n;

	if (!need || chunk_size < SHMQ_RING_MIN || chunk_size > (1u << 20) ||
	    (chunk_size & (chunk_size - 1)) || grow_max < chunk_size ||
	    grow_max > 64ull * chunk_size || (grow_max & (grow_max - 1)))
		return -EINVAL;
	if (need > r->size)
		return -ENOSPC;
	off = round_up(need, 4096);
	n = off < r->size ? (r->size - off) / chunk_size : 0;
	if (n > 2 * SHMQ_POOL_SIDE_MAX)
		n = 2 * SHMQ_POOL_SIDE_MAX;
	n &= ~(uint64_t)1;
	h->major = SHMQ_ABI_POOL_MAJOR;
	h->minor = SHMQ_ABI_POOL_MINOR;
	h->n_pairs = n_pairs;
	h->ring_capacity = capacity;
	h->pair_off = SHMQ_REGION_HDR_SIZE;
	h->pair_stride = pair_stride(capacity);
	h->chunk_off = off;
	h->chunk_size = chunk_size;
	h->n_chunks = (uint32_t)n;
	h->grow_max = grow_max;
	for (unsigned s = 0; s < 2; s++)
		for (unsigned i = 0; i < SHMQ_POOL_MAP_WORDS; i++)
			atomic_store_explicit(&h->map[s][i], 0, memory_order_relaxed);
	return 0;
}

int shmq__pool_get(struct shmq_region *r, struct shmq_pool *pl)
{
	struct shmq_abi_region *sh = (struct shmq_abi_region *)r->base;
	struct shmq_abi_region h;

	memset(pl, 0, sizeof(*pl));
	memcpy(&h, r->base, offsetof(struct shmq_abi_region, pad_pool));
	if (h.major != SHMQ_ABI_POOL_MAJOR)
		return 0;
	/* Read once, checked against our own mapping: every area resolved
	 * later lies in [chunk_off, chunk_off + n_chunks * chunk_size). */
	if (h.chunk_size < SHMQ_RING_MIN || h.chunk_size > (1u << 20) ||
	    (h.chunk_size & (h.chunk_size - 1)) || h.grow_max < h.chunk_size ||
	    h.grow_max > 64ull * h.chunk_size || (h.grow_max & (h.grow_max - 1)) ||
	    (h.n_chunks & 1) || h.n_chunks > 2 * SHMQ_POOL_SIDE_MAX ||
	    (h.chunk_off & (SHMQ_BLOCK - 1)) || h.chunk_off > r->size ||
	    (uint64_t)h.n_chunks * h.chunk_size > r->size - h.chunk_off)
		return -EPROTO;
	pl->base = r->base + h.chunk_off;
	pl->map[0] = sh->map[0];
	pl->map[1] = sh->map[1];
	pl->chunk = h.chunk_size;
	pl->n_side = h.n_chunks / 2;
	pl->grow_max = h.grow_max;
	return 0;
}

int shmq_region_pool_free(struct shmq_region *r, unsigned side)
{
	struct shmq_pool pl;
	int rc = shmq__pool_get(r, &pl), n = 0;

	if (rc)
		return rc;
	if (!pl.base || side > 1)
		return -EINVAL;
	for (uint32_t k = 0; k < pl.n_side; k++)
		if (!(atomic_load_explicit(&pl.map[side][k / 64], memory_order_relaxed) &
		      (UINT64_C(1) << (k % 64))))
			n++;
	return n;
}
