/* SPDX-License-Identifier: MIT */
/*
 * shmq_abi.h — the shared-memory layout of shmq rings and regions.
 *
 * This is an ABI between two processes that do not trust each other: only
 * fixed-width fields, explicit offsets checked by _Static_assert, a magic
 * cookie and a major/minor version. Any change to the layout bumps
 * SHMQ_ABI_MAJOR (incompatible) or SHMQ_ABI_MINOR (compatible addition in
 * reserved space). See docs/shmq.md for the full description.
 *
 * Region (one memfd):
 *   [0, 4096)                      struct shmq_abi_region
 *   pair_off + i * pair_stride     ring pair i:
 *       +0                         struct shmq_abi_ring  (ring 0: side 0 -> side 1)
 *       +1024                      ring 0 data, `capacity` bytes
 *       +1024 + capacity           struct shmq_abi_ring  (ring 1: side 1 -> side 0)
 *       +2048 + capacity           ring 1 data
 *
 * Indices are free-running 64-bit byte counters; the position in the data
 * area is `index & (capacity - 1)`. Producer and consumer state live in
 * separate 128-byte blocks (two cache lines, so the adjacent-line prefetcher
 * does not couple them either), and the rarely written flags live apart from
 * the constantly written indices.
 */
#ifndef SHMQ_ABI_H
#define SHMQ_ABI_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#define SHMQ_ABI_MAJOR 1
#define SHMQ_ABI_MINOR 1  /* 1: prod_closed 2 (reset), urg_ptr, urg_done */

/*
 * Layout 2.0: pool regions and growable rings. A pool region (region
 * header major 2) holds small ring pairs whose stream rings start in the
 * data area inside their slot (the inline area) and move, on the
 * producer's word, to bigger or smaller areas cut from the region's chunk
 * pool: the move descriptor in block 1 says where the data goes on from
 * index `mv_at`. Its rings carry major 2 too, so a reader of 1.x refuses
 * them instead of reading moved data from the old place. Everything else
 * is layout 1.1.
 */
#define SHMQ_ABI_POOL_MAJOR 2
#define SHMQ_ABI_POOL_MINOR 0

/* "SMQRING1" and "SMQREGN1" read as little-endian 64-bit words. */
#define SHMQ_RING_MAGIC   UINT64_C(0x31474e4952514d53)
#define SHMQ_REGION_MAGIC UINT64_C(0x314e474552514d53)

#define SHMQ_BLOCK           128u  /* separation of independently written state */
#define SHMQ_RING_HDR_SIZE   1024u
#define SHMQ_REGION_HDR_SIZE 4096u
#define SHMQ_RING_MIN        4096u         /* smallest ring capacity (bytes) */
#define SHMQ_RING_MAX        (1u << 30)    /* largest ring capacity (bytes) */

/* prod_closed: the producer ended its direction normally (end-of-stream
 * after the data) or by a reset (an abortive close: the connection is
 * broken). A reader of minor 0 sees any non-zero value as closed. */
#define SHMQ_ABI_CLOSED_NONE  0u
#define SHMQ_ABI_CLOSED_SHUT  1u
#define SHMQ_ABI_CLOSED_RESET 2u

/* Ring modes (shmq_abi_ring.mode). */
#define SHMQ_ABI_MODE_MSG    1u  /* length-prefixed records */
#define SHMQ_ABI_MODE_STREAM 2u  /* plain bytes */

/*
 * Message-mode record header. Records start at 8-byte aligned positions and
 * never wrap: a record that does not fit before the end of the data area is
 * preceded by a PAD record that covers the rest of it.
 */
#define SHMQ_REC_DATA  0u
#define SHMQ_REC_PAD   1u
#define SHMQ_REC_ALIGN 8u
struct shmq_abi_rec {
	_Atomic uint32_t len;   /* payload bytes (DATA); ignored for PAD */
	_Atomic uint32_t kind;  /* SHMQ_REC_DATA or SHMQ_REC_PAD */
};
#define SHMQ_REC_HDR_SIZE 8u

/* One direction of a ring pair. */
struct shmq_abi_ring {
	/* Block 0: configuration, written once by the creator before the fd is
	 * handed out; each side copies and validates it at attach time and
	 * never reads it again. */
	uint64_t magic;
	uint16_t major;
	uint16_t minor;
	uint32_t mode;
	uint32_t capacity;    /* data bytes, power of two */
	uint32_t max_record;  /* largest message payload (MSG mode) */
	uint32_t data_off;    /* from the start of this struct */
	uint32_t cfg_reserved[25];

	/* Block 1: written by the producer only. The move descriptor (2.0)
	 * shares the line of `prod`: the consumer loads that line anyway. */
	_Atomic uint64_t prod;          /* bytes ever produced */
	_Atomic uint32_t mv_seq;        /* 2.0: moves so far (0: inline) */
	uint32_t mv_pad;
	_Atomic uint64_t mv_at;         /* 2.0: first index in the mv_cur area */
	_Atomic uint64_t mv_prev;       /* 2.0: area of the indices below mv_at */
	_Atomic uint64_t mv_cur;        /* 2.0: area from mv_at on */
	uint8_t pad1[SHMQ_BLOCK - 40];

	/* Block 2: producer flags, written by the producer only, rarely. */
	_Atomic uint32_t prod_closed;   /* SHMQ_ABI_CLOSED_*: no more data */
	_Atomic uint32_t prod_waiting;  /* producer sleeps, waiting for space */
	_Atomic uint64_t urg_ptr;       /* STREAM: `prod` just past the latest
					 * urgent byte (0: none); minor 1 */
	uint8_t pad2[SHMQ_BLOCK - 16];

	/* Block 3: written by the consumer only. */
	_Atomic uint64_t cons;          /* bytes ever consumed */
	uint8_t pad3[SHMQ_BLOCK - 8];

	/* Block 4: consumer flags, written by the consumer only, rarely. */
	_Atomic uint32_t cons_closed;   /* consumer gone (writes are pointless) */
	_Atomic uint32_t cons_waiting;  /* consumer sleeps, waiting for data */
	_Atomic uint64_t urg_done;      /* STREAM: the urg_ptr whose byte the
					 * consumer took out of band; minor 1 */
	uint8_t pad4[SHMQ_BLOCK - 16];

	uint8_t reserved[SHMQ_RING_HDR_SIZE - 5 * SHMQ_BLOCK];
};

/*
 * An area word (mv_prev, mv_cur): chunk index << 32 | capacity. The chunk
 * is the first of `capacity / chunk_size` chunks of the producer's half of
 * the pool, aligned to that count; SHMQ_AREA_INLINE is the ring's own data
 * area in its slot (capacity = the ring's configured capacity).
 */
#define SHMQ_AREA_INLINE 0xffffffffu
#define SHMQ_AREA(chunk, cap) (((uint64_t)(chunk) << 32) | (uint32_t)(cap))
#define SHMQ_AREA_CHUNK(w)    ((uint32_t)((w) >> 32))
#define SHMQ_AREA_CAP(w)      ((uint32_t)(w))

/* Chunks per side of a pool: one bit each in the side's map. */
#define SHMQ_POOL_MAP_WORDS 16u
#define SHMQ_POOL_SIDE_MAX  (SHMQ_POOL_MAP_WORDS * 64u)

/* The region header at offset 0 of a region memfd. */
#define SHMQ_REGION_F_HUGETLB 0x1u  /* backed by 2 MiB hugepages */
struct shmq_abi_region {
	uint64_t magic;
	uint16_t major;
	uint16_t minor;
	uint32_t flags;          /* SHMQ_REGION_F_* */
	uint64_t size;           /* bytes of the memfd */
	uint32_t n_pairs;        /* ring pairs laid out (0: none yet) */
	uint32_t ring_capacity;  /* data bytes per direction */
	uint64_t pair_off;       /* offset of pair 0 */
	uint64_t pair_stride;    /* bytes between pairs */
	/* 2.0 (pool regions; zero in 1.x): chunks at chunk_off, side s owns
	 * chunks [s * n_chunks / 2, (s + 1) * n_chunks / 2). */
	uint64_t chunk_off;      /* offset of chunk 0 */
	uint32_t chunk_size;     /* bytes per chunk, power of two >= 4 KiB */
	uint32_t n_chunks;       /* even, <= 2 * SHMQ_POOL_SIDE_MAX */
	uint32_t grow_max;       /* largest area a ring grows to */
	uint8_t pad_pool[SHMQ_BLOCK - 68];
	/* Chunk maps, one 128-byte block per side (written by that side's
	 * processes only, with atomic read-modify-writes): bit k of side s
	 * set = its chunk s * n_chunks / 2 + k is in use. */
	_Atomic uint64_t map[2][SHMQ_POOL_MAP_WORDS];
	uint8_t reserved[SHMQ_REGION_HDR_SIZE - 3 * SHMQ_BLOCK];
};

_Static_assert(ATOMIC_LLONG_LOCK_FREE == 2, "64-bit atomics must be lock-free");
_Static_assert(sizeof(_Atomic uint64_t) == 8, "atomic u64 size");
_Static_assert(sizeof(_Atomic uint32_t) == 4, "atomic u32 size");
_Static_assert(sizeof(struct shmq_abi_rec) == SHMQ_REC_HDR_SIZE, "record header");
_Static_assert(offsetof(struct shmq_abi_ring, cfg_reserved) == 28, "ring config");
_Static_assert(offsetof(struct shmq_abi_ring, prod) == 1 * SHMQ_BLOCK, "prod block");
_Static_assert(offsetof(struct shmq_abi_ring, prod_closed) == 2 * SHMQ_BLOCK, "prod flags");
_Static_assert(offsetof(struct shmq_abi_ring, prod_waiting) == 2 * SHMQ_BLOCK + 4, "prod flags");
_Static_assert(offsetof(struct shmq_abi_ring, urg_ptr) == 2 * SHMQ_BLOCK + 8, "prod flags");
_Static_assert(offsetof(struct shmq_abi_ring, cons) == 3 * SHMQ_BLOCK, "cons block");
_Static_assert(offsetof(struct shmq_abi_ring, urg_done) == 4 * SHMQ_BLOCK + 8, "cons flags");
_Static_assert(offsetof(struct shmq_abi_ring, cons_closed) == 4 * SHMQ_BLOCK, "cons flags");
_Static_assert(offsetof(struct shmq_abi_ring, cons_waiting) == 4 * SHMQ_BLOCK + 4, "cons flags");
_Static_assert(sizeof(struct shmq_abi_ring) == SHMQ_RING_HDR_SIZE, "ring header size");
_Static_assert(offsetof(struct shmq_abi_region, n_pairs) == 24, "region n_pairs");
_Static_assert(offsetof(struct shmq_abi_region, pair_off) == 32, "region pair_off");
_Static_assert(offsetof(struct shmq_abi_region, chunk_off) == 48, "region pool");
_Static_assert(offsetof(struct shmq_abi_region, grow_max) == 64, "region pool");
_Static_assert(offsetof(struct shmq_abi_region, map) == SHMQ_BLOCK, "region maps");
_Static_assert(offsetof(struct shmq_abi_region, map[1]) == 2 * SHMQ_BLOCK, "region maps");
_Static_assert(offsetof(struct shmq_abi_ring, mv_seq) == SHMQ_BLOCK + 8, "move descriptor");
_Static_assert(offsetof(struct shmq_abi_ring, mv_at) == SHMQ_BLOCK + 16, "move descriptor");
_Static_assert(offsetof(struct shmq_abi_ring, mv_cur) == SHMQ_BLOCK + 32, "move descriptor");
_Static_assert(sizeof(struct shmq_abi_region) == SHMQ_REGION_HDR_SIZE, "region header size");

#endif /* SHMQ_ABI_H */
