/* SPDX-License-Identifier: MIT */
/* Helpers shared by the shmq Check tests (white-box: may see private state). */
#ifndef SHMQ_TESTLIB_H
#define SHMQ_TESTLIB_H

#include <check.h>
#include <stddef.h>
#include <stdint.h>

#include "shmq.h"

/* Fails the test with file, line, the condition and the ring state of @ep. */
#define VERIFY(ep, cond, ...)                                                   \
	do {                                                                    \
		if (!(cond)) {                                                  \
			char st_[512];                                          \
			char why_[256];                                         \
			snprintf(why_, sizeof(why_), __VA_ARGS__);              \
			t_state((ep), st_, sizeof(st_));                        \
			ck_abort_msg("%s:%d: %s: %s [%s]", __FILE__, __LINE__,  \
				     #cond, why_, st_);                         \
		}                                                               \
	} while (0)

/* Human-readable private + shared state of an endpoint (for failures). */
void t_state(const struct shmq_ep *ep, char *buf, size_t len);

/* A region with one ring pair and both sides attached in this process. */
struct t_pair {
	struct shmq_region *r;
	struct shmq_ep *a;  /* side 0 */
	struct shmq_ep *b;  /* side 1 */
	int efd_a, efd_b;   /* eventfds a and b sleep on */
};
/* @region_flags: SHMQ_REGION_* (tests run with and without hugepages). */
void t_pair_open(struct t_pair *p, uint32_t cap, enum shmq_mode mode, unsigned region_flags);
void t_pair_reset(struct t_pair *p, enum shmq_mode mode);  /* re-init + re-attach */
void t_pair_close(struct t_pair *p);

/* SCM_RIGHTS: send/receive @n fds (with a 4-byte tag) over a unix socket. */
int t_send_fds(int sock, const int *fds, int n, uint32_t tag);
int t_recv_fds(int sock, int *fds, int n, uint32_t *tag);

/* Deterministic PRNG (xorshift64*), the same in both processes. */
static inline uint64_t t_rand(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * UINT64_C(2685821657736338717);
}

/* FNV-1a 64 over @len bytes, continuing from @h. */
uint64_t t_hash(uint64_t h, const void *buf, size_t len);
#define T_HASH_INIT UINT64_C(0xcbf29ce484222325)

/* HugePages_Free from /proc/meminfo (-1 if unknown). */
long t_hugepages_free(void);

/* Region flags to test with: hugetlb (if any are free) and the fallback. */
extern const unsigned t_region_flags[2];

/* Blocking helpers: loop on shmq_wait until done; fail the test on error. */
void t_write_all(struct shmq_ep *ep, const void *buf, size_t len);
void t_read_all(struct shmq_ep *ep, void *buf, size_t len);

#endif

/* ---- Two processes ---------------------------------------------------- */

/* In a child process: report and _exit(1) on failure (no Check there). */
#define CHILD_CHECK(cond, ...)                                                   \
	do {                                                                     \
		if (!(cond)) {                                                   \
			fprintf(stderr, "child %s:%d: %s: ", __FILE__, __LINE__, #cond); \
			fprintf(stderr, __VA_ARGS__);                            \
			fputc('\n', stderr);                                     \
			_exit(1);                                                \
		}                                                                \
	} while (0)

/* The parent side of a two-process pair: the region fd and both eventfds
 * went to the child over a unix socket with SCM_RIGHTS; the child mapped the
 * region and attached side 1. */
struct t_remote {
	struct shmq_region *r;
	struct shmq_ep *ep;  /* side 0 */
	int efd_self, efd_peer;
	int sock;            /* to the child */
	int pidfd;
	pid_t pid;
};
typedef int (*t_child_fn)(struct shmq_ep *ep, int sock, void *arg);

/* Fork a child running @fn on side 1 (its liveness fd: the socket). The
 * parent's endpoint watches the child's pidfd (@live_kind PIDFD) or the
 * socket (SOCKET). */
void t_spawn(struct t_remote *rm, uint32_t cap, enum shmq_mode mode, t_child_fn fn, void *arg,
	     int live_kind);
/* Wait for the child; returns its exit status (or 128+signal). */
int t_reap(struct t_remote *rm);
/* Close everything of the parent side (after t_reap). */
void t_remote_close(struct t_remote *rm);
