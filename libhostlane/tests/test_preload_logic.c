/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the LD_PRELOAD layer's pure logic (no interposition): the fd
 * table, the cross-fork holder slots, sockaddr conversions, the epoll
 * bookkeeping (level/edge-triggered, one-shot) and local ports.
 */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hl_check.h"
#include "pl_private.h"

/* pl_fdtab.c reads /proc through these when they are set; tests use libc. */
struct pl_libc pl_real;
atomic_int pl_off;
pid_t pl_pid(void)
{
	return getpid();
}

/* pl_fork.c is not linked: no vfork here. */
__thread int pl_vforked;
bool pl_vfork_child_slow(void)
{
	return false;
}

int64_t pl_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

START_TEST(fdtab_set_get_clear)
{
	struct pl_sock a, b;
	unsigned n0 = pl_fd_count();

	ck_assert_ptr_null(pl_fd_get(5));
	ck_assert_int_eq(pl_fd_set(5, &a), 0);
	ck_assert_int_eq(pl_fd_set(5000, &b), 0);  /* another chunk */
	ck_assert_ptr_eq(pl_fd_get(5), &a);
	ck_assert_ptr_eq(pl_fd_get(5000), &b);
	ck_assert_uint_eq(pl_fd_count(), n0 + 2);
	ck_assert_int_eq(pl_fd_set(5, &b), 0);      /* replace: same count */
	ck_assert_uint_eq(pl_fd_count(), n0 + 2);
	ck_assert_int_eq(pl_fd_set(5, NULL), 0);
	ck_assert_int_eq(pl_fd_set(5000, NULL), 0);
	ck_assert_ptr_null(pl_fd_get(5));
	ck_assert_uint_eq(pl_fd_count(), n0);
	ck_assert_int_eq(pl_fd_set(-1, &a), -EBADF);
	ck_assert_int_eq(pl_fd_set(PL_FD_MAX, &a), -EBADF);
	ck_assert_ptr_null(pl_fd_get(-3));
	ck_assert_ptr_null(pl_fd_get(PL_FD_MAX + 7));
	ck_assert_int_eq(pl_fd_set(77777, NULL), 0);  /* clearing an empty chunk */
}
END_TEST

/* A close clears its entry only if the number still names its socket: a
 * new socket tracked there meanwhile stays. */
START_TEST(fdtab_clear_only_own)
{
	struct pl_sock a, b;
	unsigned n0 = pl_fd_count();

	ck_assert_int_eq(pl_fd_set(7, &b), 0);
	ck_assert(!pl_fd_clear(7, &a));
	ck_assert_ptr_eq(pl_fd_get(7), &b);
	ck_assert_uint_eq(pl_fd_count(), n0 + 1);
	ck_assert(pl_fd_clear(7, &b));
	ck_assert_ptr_null(pl_fd_get(7));
	ck_assert_uint_eq(pl_fd_count(), n0);
	ck_assert(!pl_fd_clear(7, &b));
	ck_assert(!pl_fd_clear(99999, &b));  /* no chunk there */
	ck_assert(!pl_fd_clear(-1, &b));
}
END_TEST

START_TEST(epset_table)
{
	struct pl_epset *e = pl_epset_new();

	ck_assert_ptr_null(pl_ep_get(9));
	ck_assert_int_eq(pl_ep_set(9, e), 0);
	ck_assert_ptr_eq(pl_ep_get(9), e);
	ck_assert_int_eq(pl_ep_set(9, NULL), 0);
	ck_assert_ptr_null(pl_ep_get(9));
	pl_epset_free(e);
}
END_TEST

START_TEST(shref_last_holder)
{
	int slot = pl_shref_alloc();

	ck_assert_int_ge(slot, 0);
	ck_assert_int_eq(pl_shref_leave(slot), 0);  /* only us */
	pl_shref_free(slot);
}
END_TEST

/* fork(): the token held before the fork is resolved once, by the parent
 * or the child; a child that already resolved it and left is not made a
 * holder again by the parent's late resolve. */
START_TEST(shref_fork_token)
{
	int slot = pl_shref_alloc(), token = -123456;
	pid_t self = getpid();

	ck_assert_int_ge(slot, 0);
	pl_shref_reserve(slot, token);
	pl_shref_reserve(slot, token);            /* once only */
	ck_assert(pl_shref_resolve(slot, token, self));  /* the "child" first */
	ck_assert(!pl_shref_resolve(slot, token, 99999));  /* the parent: too late */
	/* Both entries are ours now (the creator's and the resolved one):
	 * leaving removes both. */
	ck_assert_int_eq(pl_shref_leave(slot), 0);
	ck_assert_int_eq(pl_shref_leave(slot), 1);  /* one last holder only */
	pl_shref_free(slot);
	/* A token counts as a holder until resolved (the child to come). */
	slot = pl_shref_alloc();
	ck_assert_int_ge(slot, 0);
	pl_shref_reserve(slot, token);
	ck_assert_int_eq(pl_shref_leave(slot), 1);
	ck_assert(pl_shref_resolve(slot, token, 0));  /* the fork failed */
	ck_assert_int_eq(pl_shref_leave(slot), 0);
	ck_assert(!pl_shref_resolve(slot, 7, 1));     /* not a token */
	pl_shref_free(slot);
}
END_TEST

/* A slot full of processes that exited takes a new holder. */
START_TEST(shref_full_of_dead)
{
	int slot = pl_shref_alloc(), st;

	ck_assert_int_ge(slot, 0);
	for (int i = 0; i < 8; i++) {
		pid_t pid = fork();

		ck_assert_int_ge(pid, 0);
		if (pid == 0)
			_exit(0);
		ck_assert_int_eq(waitpid(pid, &st, 0), pid);
		pl_shref_join_pid(slot, pid);  /* exited: reaped, gone */
	}
	pl_shref_join_pid(slot, getppid());      /* alive: takes a dead one's place */
	ck_assert_int_eq(pl_shref_leave(slot), 1);
	pl_shref_free(slot);
}
END_TEST

START_TEST(shref_fork)
{
	int slot = pl_shref_alloc(), p[2], q[2], st;
	pid_t pid;
	char c;

	ck_assert_int_ge(slot, 0);
	ck_assert_int_eq(pipe(p), 0);  /* child -> parent */
	ck_assert_int_eq(pipe(q), 0);  /* parent -> child */
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		pl_shref_join(slot);
		if (write(p[1], "j", 1) != 1)
			_exit(2);
		if (read(q[0], &c, 1) != 1)  /* wait for the parent's look */
			_exit(3);
		_exit(0);
	}
	ck_assert_int_eq(read(p[0], &c, 1), 1);
	/* The child holds it and runs: we are not the last. */
	ck_assert_int_eq(pl_shref_leave(slot), 1);
	pl_shref_join(slot);
	ck_assert_int_eq(write(q[1], "g", 1), 1);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	/* It exited without leaving (like _exit): it does not count. */
	ck_assert_int_eq(pl_shref_leave(slot), 0);
	pl_shref_free(slot);
	close(p[0]);
	close(p[1]);
	close(q[0]);
	close(q[1]);
}
END_TEST

START_TEST(addr_v4_v6_mapped)
{
	struct sockaddr_in in = { .sin_family = AF_INET, .sin_port = htons(6379) };
	struct sockaddr_in6 in6 = { .sin6_family = AF_INET6, .sin6_port = htons(80) };
	struct sockaddr_storage ss;
	struct hl_proto_addr a;
	uint16_t port;
	socklen_t l;

	inet_pton(AF_INET, "10.1.2.3", &in.sin_addr);
	ck_assert_int_eq(pl_addr_from_sa((struct sockaddr *)&in, sizeof(in), &a, &port), 0);
	ck_assert_uint_eq(a.family, 4);
	ck_assert_uint_eq(port, 6379);
	ck_assert_uint_eq(a.addr[3], 3);
	ck_assert_int_eq(pl_addr_from_sa((struct sockaddr *)&in, sizeof(in) - 1, &a, &port), -EINVAL);
	inet_pton(AF_INET6, "::ffff:10.1.2.4", &in6.sin6_addr);
	ck_assert_int_eq(pl_addr_from_sa((struct sockaddr *)&in6, sizeof(in6), &a, &port), 0);
	ck_assert_uint_eq(a.family, 4);  /* v4-mapped becomes 4 */
	ck_assert_uint_eq(a.addr[3], 4);
	ck_assert_uint_eq(port, 80);
	l = pl_addr_to_sa(&a, 80, AF_INET6, &ss);
	ck_assert_uint_eq(l, sizeof(struct sockaddr_in6));
	ck_assert_mem_eq(&((struct sockaddr_in6 *)&ss)->sin6_addr, &in6.sin6_addr, 16);
	l = pl_addr_to_sa(&a, 80, AF_INET, &ss);
	ck_assert_uint_eq(l, sizeof(struct sockaddr_in));
	ck_assert_uint_eq(ntohs(((struct sockaddr_in *)&ss)->sin_port), 80);
	inet_pton(AF_INET6, "fd00::5", &in6.sin6_addr);
	ck_assert_int_eq(pl_addr_from_sa((struct sockaddr *)&in6, sizeof(in6), &a, &port), 0);
	ck_assert_uint_eq(a.family, 6);
	struct sockaddr un = { .sa_family = AF_UNIX };
	ck_assert_int_eq(pl_addr_from_sa(&un, sizeof(un), &a, &port), -EAFNOSUPPORT);
}
END_TEST

START_TEST(addr_local_only)
{
	struct hl_proto_addr a = { .family = 4, .addr = { 127, 0, 0, 1 } };

	ck_assert(pl_addr_local_only(&a));
	a.addr[0] = 0;
	ck_assert(pl_addr_local_only(&a));   /* 0.0.0.0 */
	a.addr[0] = 224;
	ck_assert(pl_addr_local_only(&a));   /* multicast */
	a.addr[0] = 10;
	ck_assert(!pl_addr_local_only(&a));
	memset(&a, 0, sizeof(a));
	a.family = 6;
	a.addr[15] = 1;
	ck_assert(pl_addr_local_only(&a));   /* ::1 */
	a.addr[0] = 0xfd;
	ck_assert(!pl_addr_local_only(&a));
}
END_TEST

/* Loopback (127.0.0.0/8, ::1) is connected inside the pod; the rest of
 * the local-only addresses stay with the kernel. */
START_TEST(addr_loopback)
{
	struct hl_proto_addr a = { .family = 4, .addr = { 127, 0, 0, 1 } };

	ck_assert(pl_addr_loopback(&a));
	a.addr[3] = 9;
	ck_assert(pl_addr_loopback(&a));     /* 127.0.0.9 */
	a.addr[0] = 0;
	ck_assert(!pl_addr_loopback(&a));    /* 0.0.0.9 */
	a.addr[0] = 10;
	ck_assert(!pl_addr_loopback(&a));
	memset(&a, 0, sizeof(a));
	a.family = 6;
	a.addr[15] = 1;
	ck_assert(pl_addr_loopback(&a));     /* ::1 */
	a.addr[15] = 0;
	ck_assert(!pl_addr_loopback(&a));    /* :: */
	a.addr[0] = 0xff;
	a.addr[15] = 1;
	ck_assert(!pl_addr_loopback(&a));    /* ff00::1 */
}
END_TEST

START_TEST(addr_copy_out_truncates)
{
	struct sockaddr_storage src;
	struct sockaddr_in in = { .sin_family = AF_INET, .sin_port = htons(1) };
	char small[4] = { 0 };
	socklen_t l = sizeof(small);

	memcpy(&src, &in, sizeof(in));
	pl_addr_copy_out(&src, sizeof(in), (struct sockaddr *)small, &l);
	ck_assert_uint_eq(l, sizeof(in));    /* the full length, as the kernel */
	ck_assert_mem_eq(small, &in, sizeof(small));
}
END_TEST

static struct pl_epmember *add(struct pl_epset *e, int fd, uint32_t events, uint64_t data)
{
	struct epoll_event ev = { .events = events, .data.u64 = data };

	ck_assert_int_eq(pl_epset_add(e, fd, NULL, &ev), 0);
	return pl_epset_find(e, fd);
}

START_TEST(epset_add_mod_del)
{
	struct pl_epset *e = pl_epset_new();
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = 1 };

	for (int fd = 0; fd < 20; fd++)  /* grows past the first allocation */
		add(e, fd, EPOLLIN, (uint64_t)fd + 100);
	ck_assert_int_eq(pl_epset_add(e, 3, NULL, &ev), -EEXIST);
	ck_assert_uint_eq(pl_epset_find(e, 19)->data.u64, 119);
	ev.events = EPOLLOUT;
	ev.data.u64 = 7;
	ck_assert_int_eq(pl_epset_mod(e, 4, &ev), 0);
	ck_assert_uint_eq(pl_epset_find(e, 4)->events, EPOLLOUT);
	ck_assert_uint_eq(pl_epset_find(e, 4)->data.u64, 7);
	ck_assert_int_eq(pl_epset_mod(e, 99, &ev), -ENOENT);
	ck_assert_int_eq(pl_epset_del(e, 4), 0);
	ck_assert_ptr_null(pl_epset_find(e, 4));
	ck_assert_int_eq(pl_epset_del(e, 4), -ENOENT);
	ck_assert_uint_eq(e->n, 19);
	ck_assert_uint_eq(pl_epset_find(e, 19)->data.u64, 119);
	pl_epset_free(e);
}
END_TEST

/* Liveness fds are counted per set: the kernel registration is made by the
 * first member watching one and dropped by the last, so 1,000 connections
 * to one peer process cost one registration, not 1,000 (and no dups). */
START_TEST(epset_live_refs)
{
	struct pl_epset *e = pl_epset_new();
	struct pl_epmember *m;

	ck_assert_ptr_nonnull(e);
	m = add(e, 3, EPOLLIN, 0);
	ck_assert_int_eq(m->live, -1);  /* a new member watches nothing yet */
	ck_assert_int_eq(pl_epset_live_ref(e, 40), 1);
	for (int i = 0; i < 999; i++)
		ck_assert_int_eq(pl_epset_live_ref(e, 40), 0);
	ck_assert_int_eq(pl_epset_live_ref(e, 41), 1);  /* another peer process */
	ck_assert_uint_eq(e->n_live, 2);
	for (int i = 0; i < 999; i++)
		ck_assert_int_eq(pl_epset_live_unref(e, 40), 0);
	ck_assert_int_eq(pl_epset_live_unref(e, 40), 1);
	ck_assert_int_eq(pl_epset_live_unref(e, 40), -ENOENT);
	ck_assert_uint_eq(e->n_live, 1);
	ck_assert_int_eq(pl_epset_live_unref(e, 41), 1);
	ck_assert_uint_eq(e->n_live, 0);
	ck_assert_int_eq(pl_epset_live_ref(e, 40), 1);  /* first again */
	pl_epset_free(e);
}
END_TEST

START_TEST(epset_level_triggered)
{
	struct pl_epset *e = pl_epset_new();
	struct pl_epmember *m = add(e, 1, EPOLLIN | EPOLLRDHUP, 0);

	ck_assert_uint_eq(pl_epset_report(m, 0, 0), 0);
	ck_assert_uint_eq(pl_epset_report(m, EPOLLIN | EPOLLOUT, 5), EPOLLIN);  /* OUT not asked */
	ck_assert_uint_eq(pl_epset_report(m, EPOLLIN, 5), EPOLLIN);             /* again: level */
	ck_assert_uint_eq(pl_epset_report(m, EPOLLIN | EPOLLRDHUP, 5), EPOLLIN | EPOLLRDHUP);
	ck_assert_uint_eq(pl_epset_report(m, EPOLLHUP | EPOLLERR, 5), EPOLLHUP | EPOLLERR);  /* always */
	pl_epset_free(e);
}
END_TEST

START_TEST(epset_edge_triggered)
{
	struct pl_epset *e = pl_epset_new();
	struct pl_epmember *m = add(e, 1, EPOLLIN | EPOLLOUT | EPOLLET, 0);

	ck_assert_uint_eq(pl_epset_report(m, EPOLLOUT, 0), EPOLLOUT);            /* edge */
	ck_assert_uint_eq(pl_epset_report(m, EPOLLOUT, 0), 0);                   /* no new edge */
	ck_assert_uint_eq(pl_epset_report(m, EPOLLIN | EPOLLOUT, 10), EPOLLIN | EPOLLOUT);
	ck_assert_uint_eq(pl_epset_report(m, EPOLLIN | EPOLLOUT, 10), 0);        /* same data */
	/* More data arrived while still readable: a new edge (as the kernel). */
	ck_assert_uint_eq(pl_epset_report(m, EPOLLIN | EPOLLOUT, 15), EPOLLIN | EPOLLOUT);
	/* Drained (bytes count total arrivals, so it never goes down)... */
	ck_assert_uint_eq(pl_epset_report(m, EPOLLOUT, 15), 0);
	/* ...then new data: an edge. */
	ck_assert_uint_eq(pl_epset_report(m, EPOLLIN | EPOLLOUT, 16), EPOLLIN | EPOLLOUT);
	/* A write found the ring full and the reader emptied it before the
	 * next look: writable again is a new edge though no look saw it
	 * unwritable (a writer waiting for it would sleep forever). */
	pl_epset_write_blocked(m, 0);
	ck_assert_uint_eq(pl_epset_report(m, EPOLLOUT, 16), 0);
	pl_epset_write_blocked(m, 1);
	ck_assert_uint_eq(pl_epset_report(m, EPOLLOUT, 16), EPOLLOUT);
	pl_epset_write_blocked(m, 1);
	ck_assert_uint_eq(pl_epset_report(m, EPOLLOUT, 16), 0);
	pl_epset_free(e);
}
END_TEST

START_TEST(epset_oneshot)
{
	struct pl_epset *e = pl_epset_new();
	struct pl_epmember *m = add(e, 1, EPOLLIN | EPOLLONESHOT, 0);
	struct epoll_event ev = { .events = EPOLLIN | EPOLLONESHOT };

	ck_assert_uint_eq(pl_epset_report(m, EPOLLIN, 1), EPOLLIN);
	ck_assert_uint_eq(pl_epset_report(m, EPOLLIN, 2), 0);  /* disabled */
	ck_assert_int_eq(pl_epset_mod(e, 1, &ev), 0);          /* re-armed */
	ck_assert_uint_eq(pl_epset_report(m, EPOLLIN, 2), EPOLLIN);
	pl_epset_free(e);
}
END_TEST

START_TEST(tags)
{
	uint64_t t = pl_tag(PL_TAG_LIVE, 1234);

	ck_assert(pl_is_tag(t));
	ck_assert_int_eq((int)(uint32_t)t, 1234);
	ck_assert_uint_eq((unsigned)(t >> 32) & ~PL_TAG_MASK, PL_TAG_LIVE);
	ck_assert(!pl_is_tag(0));
	ck_assert(!pl_is_tag((uint64_t)(uintptr_t)&t));  /* a pointer */
	ck_assert(!pl_is_tag(UINT64_MAX));
}
END_TEST

/* The stats region as the monitor makes it (monitor/src/request.c). */
static int stats_memfd(size_t size)
{
	int fd = memfd_create("stats-test", MFD_CLOEXEC);
	struct hl_stats_hdr h = { .magic = HL_STATS_MAGIC, .version = HL_STATS_VERSION,
				  .hdr_size = HL_STATS_HDR, .rec_size = HL_STATS_REC,
				  .n_recs = HL_STATS_RECS, .pid = 1 };

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(ftruncate(fd, (off_t)size), 0);
	ck_assert_int_eq(pwrite(fd, &h, sizeof(h), 0), (ssize_t)sizeof(h));
	return fd;
}

START_TEST(stats_region)
{
	struct hl_stats_conn own, own2, *r, *seen[HL_STATS_RECS];

	pl_real.close = close;
	atomic_fetch_add(&pl_stats->fallbacks, 3);
	ck_assert_int_eq(pl_stats_attach(stats_memfd(4096), getpid()), -EPROTO);
	ck_assert_ptr_eq(pl_stats_conn_new(&own), &own);  /* no region yet */
	ck_assert_int_eq(pl_stats_attach(stats_memfd(HL_STATS_SIZE), getpid()), 0);
	ck_assert_uint_eq(atomic_load(&pl_stats->fallbacks), 3);  /* moved along */
	r = pl_stats_conn_new(&own);
	ck_assert_ptr_ne(r, &own);
	ck_assert_uint_eq(atomic_load(&r->state), 2);  /* hidden while filled in */
	pl_stats_conn_publish(r);
	ck_assert_uint_eq(atomic_load(&r->state), 1);
	pl_stats_conn_free(r);
	ck_assert_uint_eq(atomic_load(&r->state), 0);
	pl_stats_conn_free(&own);  /* a private record: nothing happens */
	/* Every record once, then the private fallback. */
	for (unsigned i = 0; i < HL_STATS_RECS; i++) {
		seen[i] = pl_stats_conn_new(&own);
		ck_assert_ptr_ne(seen[i], &own);
		for (unsigned j = 0; j < i; j++)
			ck_assert_ptr_ne(seen[i], seen[j]);
	}
	ck_assert_ptr_eq(pl_stats_conn_new(&own2), &own2);
	pl_stats_conn_free(seen[7]);
	ck_assert_ptr_eq(pl_stats_conn_new(&own2), seen[7]);
	for (unsigned i = 0; i < HL_STATS_RECS; i++)
		pl_stats_conn_free(seen[i]);
}
END_TEST

START_TEST(ports_parse)
{
	static uint64_t bits[PL_PORT_WORDS];
	uint16_t lo = 0, hi = 0;

	ck_assert_int_eq(pl_ports_parse_range("32768\t60999\n", &lo, &hi), 0);
	ck_assert_uint_eq(lo, 32768);
	ck_assert_uint_eq(hi, 60999);
	ck_assert_int_eq(pl_ports_parse_range("1024 1024", &lo, &hi), 0);
	ck_assert_uint_eq(hi, 1024);
	ck_assert_int_eq(pl_ports_parse_range("", &lo, &hi), -EINVAL);
	ck_assert_int_eq(pl_ports_parse_range("60999 32768", &lo, &hi), -EINVAL);
	ck_assert_int_eq(pl_ports_parse_range("0 100", &lo, &hi), -EINVAL);
	ck_assert_int_eq(pl_ports_parse_range("1 65536", &lo, &hi), -EINVAL);
	ck_assert_int_eq(pl_ports_parse_range("1 2 3", &lo, &hi), -EINVAL);
	ck_assert_int_eq(pl_ports_parse_reserved("\n", bits), 0);
	for (unsigned i = 0; i < PL_PORT_WORDS; i++)
		ck_assert_uint_eq(bits[i], 0);
	ck_assert_int_eq(pl_ports_parse_reserved("40000,40002-40004,65535\n", bits), 0);
	ck_assert(bits[40000 / 64] & (UINT64_C(1) << (40000 % 64)));
	ck_assert(!(bits[40001 / 64] & (UINT64_C(1) << (40001 % 64))));
	for (unsigned p = 40002; p <= 40004; p++)
		ck_assert(bits[p / 64] & (UINT64_C(1) << (p % 64)));
	ck_assert(bits[65535 / 64] & (UINT64_C(1) << (65535 % 64)));
	ck_assert_int_eq(pl_ports_parse_reserved("5-4", bits), -EINVAL);
	ck_assert_int_eq(pl_ports_parse_reserved("70000", bits), -EINVAL);
	ck_assert_int_eq(pl_ports_parse_reserved("1;2", bits), -EINVAL);
	ck_assert_int_eq(pl_ports_parse_reserved("x", bits), -EINVAL);
}
END_TEST

START_TEST(ports_take)
{
	static struct pl_ports p;
	uint16_t got[8];

	ck_assert_uint_eq(pl_ports_take(&p), 0);  /* no range: the kernel's turn */
	p.lo = 50000;
	p.hi = 50009;
	atomic_store(&p.cursor, 7);
	ck_assert_int_eq(pl_ports_parse_reserved("50001,50004-50005", p.reserved), 0);
	/* Seven free ports, each once, none reserved, then none. */
	for (unsigned i = 0; i < 7; i++) {
		got[i] = pl_ports_take(&p);
		ck_assert_uint_ge(got[i], 50000);
		ck_assert_uint_le(got[i], 50009);
		ck_assert(got[i] != 50001 && got[i] != 50004 && got[i] != 50005);
		for (unsigned j = 0; j < i; j++)
			ck_assert_uint_ne(got[i], got[j]);
	}
	ck_assert_uint_eq(pl_ports_take(&p), 0);
	pl_ports_release(&p, got[3]);
	ck_assert_uint_eq(pl_ports_take(&p), got[3]);
	ck_assert_uint_eq(pl_ports_take(&p), 0);
}
END_TEST

/* This process's ports come from the namespace's ephemeral range. */
START_TEST(ports_process)
{
	char buf[64] = "";
	uint16_t lo, hi, a, b;
	FILE *f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "r");

	ck_assert_ptr_nonnull(f);
	ck_assert_ptr_nonnull(fgets(buf, sizeof(buf), f));
	fclose(f);
	ck_assert_int_eq(pl_ports_parse_range(buf, &lo, &hi), 0);
	pl_real.read = read;
	pl_real.close = close;
	a = pl_port_get();
	b = pl_port_get();
	ck_assert_uint_ge(a, lo);
	ck_assert_uint_le(a, hi);
	ck_assert_uint_ge(b, lo);
	ck_assert_uint_le(b, hi);
	ck_assert_uint_ne(a, b);
	pl_port_put(a);
	pl_port_put(b);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("preload_logic");
	TCase *tc = tcase_create("logic");

	tcase_add_test(tc, fdtab_set_get_clear);
	tcase_add_test(tc, fdtab_clear_only_own);
	tcase_add_test(tc, epset_table);
	tcase_add_test(tc, shref_last_holder);
	tcase_add_test(tc, shref_fork);
	tcase_add_test(tc, shref_fork_token);
	tcase_add_test(tc, shref_full_of_dead);
	tcase_add_test(tc, addr_v4_v6_mapped);
	tcase_add_test(tc, addr_local_only);
	tcase_add_test(tc, addr_loopback);
	tcase_add_test(tc, addr_copy_out_truncates);
	tcase_add_test(tc, epset_add_mod_del);
	tcase_add_test(tc, epset_live_refs);
	tcase_add_test(tc, epset_level_triggered);
	tcase_add_test(tc, epset_edge_triggered);
	tcase_add_test(tc, epset_oneshot);
	tcase_add_test(tc, tags);
	tcase_add_test(tc, stats_region);
	tcase_add_test(tc, ports_parse);
	tcase_add_test(tc, ports_take);
	tcase_add_test(tc, ports_process);
	suite_add_tcase(s, tc);
	/* The logic runs in this process (no fork per test). */
	setenv("CK_FORK", "no", 1);
	return hl_check_run(s);
}
