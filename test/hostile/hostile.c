/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hostile: attacks a tenant of a shm pod can mount with what the monitor
 * hands it (docs/security.md lists them and what stops each). Run inside a
 * pod's netns, ideally unprivileged in a pid namespace of its own:
 *
 *   hostile [-V MIN:MAX] COMMAND ARGS...
 *
 * Every command prints "key value" lines; the tests judge them.
 */
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

static unsigned vmin = 1, vmax = HL_PROTO_VERSION;

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void hold(unsigned ms)
{
	uint64_t end = now_ms() + ms;

	while (now_ms() < end)
		poll(NULL, 0, (int)(end - now_ms()));
}

static int open_or_die(struct hs_ep *e)
{
	int rc = hs_open(e, vmin, vmax);

	if (rc) {
		printf("hello %s\n", strerror(-rc));
		exit(2);
	}
	return 0;
}

/* CONNECT or exit 2 with the reason printed. */
static void connect_or_die(struct hs_ep *e, const char *ip, const char *port, struct hs_reply *r)
{
	int rc = hs_connect(e, ip, (uint16_t)atoi(port), r);

	if (rc || r->m.hdr.status) {
		printf("connect %s (%s)\n", strerror(rc ? -rc : -r->m.hdr.status),
		       rc ? "" : r->m.u.error.reason);
		exit(2);
	}
}

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
static int cmd_steal(int argc, char **argv)
{
	struct hs_ep e;
	struct hs_reply r;
	char kinds[512] = "", what[256] = "";
	unsigned pidfds = 0, stolen = 0;

	if (argc != 2)
		return -1;
	open_or_die(&e);
	connect_or_die(&e, argv[0], argv[1], &r);
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
static int cmd_punch(int argc, char **argv)
{
	struct hs_ep e;
	struct hs_reply r;
	unsigned ms = argc > 2 ? (unsigned)atoi(argv[2]) : 2000;
	int rc;

	if (argc < 2)
		return -1;
	open_or_die(&e);
	connect_or_die(&e, argv[0], argv[1], &r);
	rc = punch_all(r.fds[0]);
	printf("punched %s\n", rc ? strerror(-rc) : "ok");
	printf("poked %u\n", poke_all(&r));
	fflush(stdout);
	hold(ms / 2);
	poke_all(&r);
	hold(ms / 2);
	return 0;
}

/* punch-agent IP PORT IP2 PORT2: a hole in the region of a first
 * connection, a second connection (to another listener process) that takes
 * the agent's next page, then requests that make the monitor touch the
 * first region again (CONN_CLOSE of its slot, a new CONNECT). */
static int cmd_punch_agent(int argc, char **argv)
{
	struct hs_ep e;
	struct hs_reply r1, r2, r3;
	struct hl_proto_msg req;
	int rc;

	if (argc != 4)
		return -1;
	open_or_die(&e);
	connect_or_die(&e, argv[0], argv[1], &r1);
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
static int cmd_flagflip(int argc, char **argv)
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
	open_or_die(&e);
	connect_or_die(&e, argv[0], argv[1], &r);
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
	end = now_ms() + ms;
	while (now_ms() < end) {
		for (int i = 1; i < r.nfds; i++)
			if (r.fds[i] != own && !strcmp(hs_fd_kind(r.fds[i]), "eventfd")) {
				hs_poke(r.fds[i]);
				drain(r.fds[i]);
			}
		rounds++;
		poll(NULL, 0, 1);
	}
	printf("rounds %u\n", rounds);
	return 0;
}

/* ---- direct connections offered without end ------------------------------ */

/* dflood IP PORT MS: after a first (direct) connection, offers every other
 * slot of the region again and again for MS, ringing the doorbell. */
static int cmd_dflood(int argc, char **argv)
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
	open_or_die(&e);
	connect_or_die(&e, argv[0], argv[1], &r);
	if (!(r.m.u.conn.flags & HL_CONN_F_DIRECT)) {
		printf("direct no\n");
		return 0;
	}
	bell = r.fds[r.nfds - 1];
	g = shmq_region_map(r.fds[0]);
	b = g ? shmq_region_tail(g, HL_DIRECT_BLK) : NULL;
	if (!b) {
		printf("direct unmappable\n");
		return 0;
	}
	printf("direct yes\n");
	fflush(stdout);
	end = now_ms() + (unsigned)atoi(argv[2]);
	while (now_ms() < end) {
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

/* ---- quota ------------------------------------------------------------------ */

/* Hugetlb bytes this process has mapped (smaps). */
static unsigned long long hugetlb_mapped(void)
{
	FILE *f = fopen("/proc/self/smaps", "re");
	char line[256];
	unsigned long long kb, sum = 0;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Shared_Hugetlb: %llu kB", &kb) == 1 ||
		    sscanf(line, "Private_Hugetlb: %llu kB", &kb) == 1)
			sum += kb;
	fclose(f);
	return sum << 10;
}

/* alloc-loop N: REGION_ALLOC 2 MiB, map, touch, REGION_FREE, keep the
 * mapping; N times. Prints how much hugetlb memory it still has mapped. */
static int cmd_alloc_loop(int argc, char **argv)
{
	struct hs_ep e;
	unsigned n, ok = 0, refused = 0;
	uint64_t quota;

	if (argc != 1)
		return -1;
	n = (unsigned)atoi(argv[0]);
	open_or_die(&e);
	for (unsigned i = 0; i < n; i++) {
		struct hl_proto_msg req;
		struct hs_reply r;
		char *p;

		hl_proto_init(&req, HL_POD_OP_REGION_ALLOC, 0);
		req.u.region_req.size = 2u << 20;
		if (hs_call(&e, &req, &r) || r.m.hdr.status) {
			refused++;
			continue;
		}
		p = mmap(NULL, r.m.u.region_rep.size, PROT_READ | PROT_WRITE, MAP_SHARED, r.fds[0], 0);
		close(r.fds[0]);
		if (p == MAP_FAILED) {
			refused++;
			continue;
		}
		memset(p, 0x5a, r.m.u.region_rep.size);
		ok++;
		hl_proto_init(&req, HL_POD_OP_REGION_FREE, 0);
		req.u.region_free.region_id = r.m.u.region_rep.region_id;
		hs_call(&e, &req, &r);
	}
	quota = 0;
	printf("allocated %u\nrefused %u\nmapped %llu\n", ok, refused, hugetlb_mapped());
	(void)quota;
	return 0;
}

/* ---- a listener that never lets go ----------------------------------------- */

/* listen PORT MS: LISTEN, then take every accept event and keep it (its
 * fds open, its slot never closed); MS 0: until killed. */
static int cmd_listen(int argc, char **argv)
{
	struct hs_ep e;
	struct hl_proto_msg req;
	struct hs_reply r;
	uint64_t end;
	unsigned ms;

	if (argc != 2)
		return -1;
	ms = (unsigned)atoi(argv[1]);
	open_or_die(&e);
	hl_proto_init(&req, HL_POD_OP_LISTEN, 0);
	req.u.listen.port = (uint16_t)atoi(argv[0]);
	if (hs_call(&e, &req, &r) || r.m.hdr.status) {
		printf("listen %s\n", strerror(-r.m.hdr.status));
		return 0;
	}
	printf("listening %s\n", argv[0]);
	fflush(stdout);
	end = ms ? now_ms() + ms : UINT64_MAX;
	while (now_ms() < end) {
		int rc = hs_recv(&e, &r, 100);

		if (rc < 0)
			break;
		if (rc > 0 && r.m.hdr.op == HL_POD_OP_EV_ACCEPT)
			e.events++;
	}
	printf("events %u\n", e.events);
	return 0;
}

/* listen-stall PORT MS PORT2: a victim listener that is busy for MS (reads
 * nothing), then asks to LISTEN on PORT2: its reply must come. */
static int cmd_listen_stall(int argc, char **argv)
{
	struct hs_ep e;
	struct hl_proto_msg req;
	struct hs_reply r;
	int rc;

	if (argc != 3)
		return -1;
	open_or_die(&e);
	hl_proto_init(&req, HL_POD_OP_LISTEN, 0);
	req.u.listen.port = (uint16_t)atoi(argv[0]);
	if (hs_call(&e, &req, &r) || r.m.hdr.status) {
		printf("listen %s\n", strerror(-r.m.hdr.status));
		return 0;
	}
	printf("listening %s\n", argv[0]);
	fflush(stdout);
	hold((unsigned)atoi(argv[1]));
	hl_proto_init(&req, HL_POD_OP_LISTEN, 0);
	req.u.listen.port = (uint16_t)atoi(argv[2]);
	rc = hs_call(&e, &req, &r);
	printf("second %s\nevents %u\n", rc ? strerror(-rc) : r.m.hdr.status ? strerror(-r.m.hdr.status) : "ok",
	       e.events);
	return 0;
}

/* ---- requests ---------------------------------------------------------------- */

/* connect IP PORT [HOLD_MS]: one CONNECT; prints its status. */
static int cmd_connect(int argc, char **argv)
{
	struct hs_ep e;
	struct hs_reply r;
	int rc;

	if (argc < 2)
		return -1;
	open_or_die(&e);
	rc = hs_connect(&e, argv[0], (uint16_t)atoi(argv[1]), &r);
	printf("status %s\n", rc ? strerror(-rc) : r.m.hdr.status ? strerror(-r.m.hdr.status) : "ok");
	fflush(stdout);
	if (argc > 2)
		hold((unsigned)atoi(argv[2]));
	return 0;
}

/* cflood IP PORT N: N CONNECTs one after the other, none ever set up. */
static int cmd_cflood(int argc, char **argv)
{
	struct hs_ep e;
	unsigned n, ok = 0, again = 0, other = 0;
	int first = 0;

	if (argc != 3)
		return -1;
	n = (unsigned)atoi(argv[2]);
	open_or_die(&e);
	for (unsigned i = 0; i < n; i++) {
		struct hs_reply r;
		int rc = hs_connect(&e, argv[0], (uint16_t)atoi(argv[1]), &r);

		if (!rc)
			rc = r.m.hdr.status;
		if (!rc)
			ok++;
		else if (rc == -EAGAIN)
			again++;
		else
			other++;
		if (rc && rc != -EAGAIN && !first)
			first = rc;
	}
	printf("ok %u\neagain %u\nother %u\nfirst %s\n", ok, again, other,
	       first ? strerror(-first) : "-");
	return 0;
}

/* clients N HOLD_MS: N connections to the endpoint, each with its HELLO. */
static int cmd_clients(int argc, char **argv)
{
	unsigned n, ok = 0;
	int first = 0;

	if (argc != 2)
		return -1;
	n = (unsigned)atoi(argv[0]);
	for (unsigned i = 0; i < n; i++) {
		struct hs_ep e;
		int rc = hs_open(&e, vmin, vmax);

		if (rc && !first)
			first = rc;
		ok += rc == 0;
		if (rc && e.fd >= 0)
			close(e.fd);
	}
	printf("clients %u\nfirst %s\n", ok, first ? strerror(-first) : "-");
	fflush(stdout);
	hold((unsigned)atoi(argv[1]));
	return 0;
}

/* idle IP PORT N HOLD_MS: N TCP connections that never send a byte. */
static int cmd_idle(int argc, char **argv)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	unsigned n, ok = 0;

	if (argc != 4 || inet_pton(AF_INET, argv[0], &sa.sin_addr) != 1)
		return -1;
	sa.sin_port = htons((uint16_t)atoi(argv[1]));
	n = (unsigned)atoi(argv[2]);
	for (unsigned i = 0; i < n; i++) {
		int fd = socket(AF_INET, SOCK_STREAM, 0);

		if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
			ok++;
	}
	printf("idle %u\n", ok);
	fflush(stdout);
	hold((unsigned)atoi(argv[3]));
	return 0;
}

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *help;
} cmds[] = {
	{ "steal", cmd_steal, "IP PORT             fds a connection brings; pidfd_getfd through them" },
	{ "punch", cmd_punch, "IP PORT [MS]        punch the connection's region, wake the listener" },
	{ "punch-agent", cmd_punch_agent, "IP PORT IP2 PORT2  punch a region the monitor reads again" },
	{ "flagflip", cmd_flagflip, "IP PORT MS       clear O_NONBLOCK on shared fds, fill, steal wake-ups" },
	{ "dflood", cmd_dflood, "IP PORT MS         re-offer direct slots without end" },
	{ "alloc-loop", cmd_alloc_loop, "N              allocate, map, free, keep mapped" },
	{ "listen", cmd_listen, "PORT MS            a listener that keeps every connection" },
	{ "listen-stall", cmd_listen_stall, "PORT MS PORT2 busy for MS, then LISTEN PORT2" },
	{ "connect", cmd_connect, "IP PORT [MS]      one CONNECT, its status" },
	{ "cflood", cmd_cflood, "IP PORT N          N CONNECTs never set up" },
	{ "clients", cmd_clients, "N MS              N endpoint connections held" },
	{ "idle", cmd_idle, "IP PORT N MS         N idle TCP connections held" },
};

static void usage(void)
{
	fprintf(stderr, "usage: hostile [-V MIN:MAX] COMMAND ARGS...\n");
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		fprintf(stderr, "  %-12s %s\n", cmds[i].name, cmds[i].help);
}

int main(int argc, char **argv)
{
	int i = 1;

	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	/* Die with whoever started us (the test kills that one by pid):
	 * setpriv's change of uid cleared unshare's own death signal. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (argc > 2 && !strcmp(argv[1], "-V")) {
		if (sscanf(argv[2], "%u:%u", &vmin, &vmax) != 2) {
			usage();
			return 2;
		}
		i = 3;
	}
	if (i >= argc) {
		usage();
		return 2;
	}
	for (size_t k = 0; k < sizeof(cmds) / sizeof(cmds[0]); k++)
		if (!strcmp(argv[i], cmds[k].name)) {
			int rc = cmds[k].fn(argc - i - 1, argv + i + 1);

			if (rc < 0)
				usage();
			return rc < 0 ? 2 : 0;
		}
	usage();
	return 2;
}
