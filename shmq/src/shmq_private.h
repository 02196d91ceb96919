/* SPDX-License-Identifier: MIT */
/* Internals shared by the shmq sources. Not installed. */
#ifndef SHMQ_PRIVATE_H
#define SHMQ_PRIVATE_H

#include <stdatomic.h>
#include <stdint.h>

#include "shmq.h"
#include "shmq_abi.h"

/*
 * One direction as this side sees it. Everything here is private: taken
 * from the shared header once, at attach time, after validation, and never
 * re-read. `head` is this side's own index (prod for tx, cons for rx) and is
 * the truth; the shared copy is only ever written from it.
 */
struct shmq_half {
	struct shmq_abi_ring *hdr;  /* shared: only indices and flags are touched */
	uint8_t *data;              /* shared data area, `cap` bytes */
	uint64_t cap;
	uint64_t mask;
	uint64_t max_rec;           /* MSG: largest payload */
	uint64_t head;              /* own index */
	uint64_t published;         /* last value of `head` stored to shared */
	uint64_t peer;              /* last validated peer index */
	uint64_t resv;              /* zero copy: bytes reserved / peeked */
	uint64_t resv_rec;          /* MSG peek: ring bytes of that record */
};

struct shmq_ep {
	struct shmq_half tx;
	struct shmq_half rx;
	uint32_t mode;
	int broken;
	int shut;         /* tx shut down by us */
	int self_efd;
	int peer_efd;
	int live_fd;
	int live_kind;
	uint64_t spin_ns;
};

/* ring.c: readiness mask restricted to what a waiter for @events cares about. */
int shmq__ready(struct shmq_ep *ep, int events);
/* ring.c: set/clear this side's waiting flags (relaxed; caller fences). */
void shmq__set_waiting(struct shmq_ep *ep, int events, uint32_t v);
/* notify.c: wake the peer if it announced it sleeps (after a publication). */
void shmq__kick(struct shmq_ep *ep, _Atomic uint32_t *peer_waiting);
/* notify.c: unconditional wake (close/shutdown). */
void shmq__wake(struct shmq_ep *ep);

#endif /* SHMQ_PRIVATE_H */
