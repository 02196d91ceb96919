/* SPDX-License-Identifier: MIT */
/*
 * shmq-bench internals shared by its files: the options, a measurement's
 * result, a prepared run and a worker's side of it, and the helpers the
 * measuring loops inline. shmq_bench.c has main() and the measurement;
 * bench_util.c the plumbing, bench_setup.c the transports' set-up,
 * bench_loop.c the measuring loops.
 */
#ifndef SHMQ_BENCH_H
#define SHMQ_BENCH_H

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "shmq.h"

enum mode { STREAM, PINGPONG };
/* shmq: message mode; shmq-stream: a fixed stream ring; shmq-pool: a
 * stream ring of a pool region, starting at 4 KiB and growing. */
enum tp { T_SHMQ, T_RAW, T_SSTREAM, T_SPOOL, T_PIPE, T_UNIX, T_TCP, T_VETH, T_N };

/* Transports on an shmq endpoint; those of them that are byte streams. */
static inline int tp_shmq(int tp)
{
	return tp == T_SHMQ || tp == T_SSTREAM || tp == T_SPOOL;
}

static inline int tp_sbytes(int tp)
{
	return tp == T_SSTREAM || tp == T_SPOOL;
}

struct opts {
	enum mode mode;
	size_t msg;
	uint64_t count;     /* 0: run for `seconds` */
	double seconds;
	int tp[T_N];
	int cpu[2];
	unsigned batch;
	int json;
};

struct result {
	int ok;
	uint64_t msgs;
	uint64_t ns;
	double p50, p99;   /* ns, pingpong only */
	char err[96];
};

/* The command line (shmq_bench.c). */
extern struct opts cfg;
extern const char *const tp_name[T_N];

static inline uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Busy-wait step of the bench's own loops (raw, and shmq before it falls
 * back to shmq_wait). Deliberately no PAUSE: in a VM, tight PAUSE loops
 * trigger pause-loop exits, which would measure the hypervisor. */
static inline void relax(void)
{
	__asm__ __volatile__("" ::: "memory");
}

/* Stop condition shared by all producers/clients. */
struct clock_stop {
	uint64_t deadline;
	uint64_t count;
};

static inline int stop_now(const struct clock_stop *c, uint64_t done)
{
	if (c->count)
		return done >= c->count;
	return (done & 255) == 0 && now_ns() >= c->deadline;
}

/* ---- bench_util.c ------------------------------------------------------- */

void pin(int cpu);
__attribute__((noreturn, format(printf, 1, 2))) void die(const char *fmt, ...);
int write_full(int fd, const void *buf, size_t len);
int read_full(int fd, void *buf, size_t len);
/* The three namespaces of tcp-veth (a bridge, a server, a client): made,
 * entered (1 server, 2 client) and removed (async-signal-safe). */
int ns_setup(void);
void ns_enter(int which);
void ns_cleanup(void);

/* ---- bench_setup.c ------------------------------------------------------ */

/*
 * Every run forks two workers: side 0 (producer / ping-pong client) and
 * side 1 (consumer / echo server). Both wait on `go` so they start
 * together; the measuring side writes a struct result to `res`.
 */
struct run {
	enum tp tp;
	/* shmq */
	struct shmq_region *region;
	int efd[2];
	/* raw */
	uint8_t *raw;
	size_t raw_len;
	/* fd transports: fd[side][0] to read, fd[side][1] to write */
	int fd[2][2];
	/* tcp */
	struct sockaddr_in addr;
	int lfd;
};

/* Raw ring: bare SPSC ring of fixed slots, no checks at all. */
struct raw_ring {
	_Alignas(128) _Atomic uint64_t prod;
	_Alignas(128) _Atomic uint64_t cons;
	_Alignas(128) _Atomic uint32_t done;
	_Alignas(128) uint8_t data[];
};

/* Raw ring geometry (raw_geometry(), once): slot size and slot count. */
extern size_t g_raw_slot;
extern uint64_t g_raw_nslots;
void raw_geometry(void);

static inline size_t raw_slot(void)
{
	return g_raw_slot;
}

static inline uint64_t raw_nslots(void)
{
	return g_raw_nslots;
}

/* In a worker: turn the prepared run into this side's endpoint. */
struct side {
	int s;
	struct shmq_region *region;
	struct shmq_ep *ep;
	struct raw_ring *tx, *rx;
	int rfd, wfd;
};

/* A run of transport @tp made (-1: it cannot be), and released. */
int run_prepare(struct run *r, enum tp tp);
void run_release(struct run *r);
/* In a worker: side @s of run @r opened as @sd, and closed. */
void side_open(struct run *r, int s, struct side *sd);
void side_close(struct side *sd, enum tp tp);

/* ---- bench_loop.c: the measuring loops ----------------------------------- */

void stream_producer(struct side *sd, enum tp tp, const struct clock_stop *cs);
void stream_consumer(struct side *sd, enum tp tp, struct result *res);
void pp_client(struct side *sd, enum tp tp, const struct clock_stop *cs, struct result *res);
void pp_server(struct side *sd, enum tp tp);

#endif
