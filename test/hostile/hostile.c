/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hostile: attacks a tenant of a shm pod can mount with what the monitor
 * hands it (docs/security.md lists them and what stops each). Run inside a
 * pod's netns, ideally unprivileged in a pid namespace of its own:
 *
 *   hostile [-V MIN:MAX] COMMAND ARGS...
 *
 * Every command prints "key value" lines; the tests judge them. The attacks
 * through fds and shared memory are in hostile_mem.c, the endpoint session
 * and the common steps in hostile_ep.c.
 */
#include "hostile.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "hl_codec.h"
#include "hostlane_direct.h"
#include "shmq.h"

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
	hs_open_or_die(&e);
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
	hs_open_or_die(&e);
	hl_proto_init(&req, HL_POD_OP_LISTEN, 0);
	req.u.listen.port = (uint16_t)atoi(argv[0]);
	if (hs_call(&e, &req, &r) || r.m.hdr.status) {
		printf("listen %s\n", strerror(-r.m.hdr.status));
		return 0;
	}
	printf("listening %s\n", argv[0]);
	fflush(stdout);
	end = ms ? hs_now_ms() + ms : UINT64_MAX;
	while (hs_now_ms() < end) {
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
	hs_open_or_die(&e);
	hl_proto_init(&req, HL_POD_OP_LISTEN, 0);
	req.u.listen.port = (uint16_t)atoi(argv[0]);
	if (hs_call(&e, &req, &r) || r.m.hdr.status) {
		printf("listen %s\n", strerror(-r.m.hdr.status));
		return 0;
	}
	printf("listening %s\n", argv[0]);
	fflush(stdout);
	hs_hold((unsigned)atoi(argv[1]));
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
	hs_open_or_die(&e);
	rc = hs_connect(&e, argv[0], (uint16_t)atoi(argv[1]), &r);
	printf("status %s\n", rc ? strerror(-rc) : r.m.hdr.status ? strerror(-r.m.hdr.status) : "ok");
	fflush(stdout);
	if (argc > 2)
		hs_hold((unsigned)atoi(argv[2]));
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
	hs_open_or_die(&e);
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
		int rc = hs_open(&e, hs_vmin, hs_vmax);

		if (rc && !first)
			first = rc;
		ok += rc == 0;
		if (rc && e.fd >= 0)
			close(e.fd);
	}
	printf("clients %u\nfirst %s\n", ok, first ? strerror(-first) : "-");
	fflush(stdout);
	hs_hold((unsigned)atoi(argv[1]));
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
	hs_hold((unsigned)atoi(argv[3]));
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
	{ "dsteal", cmd_dsteal, "IP PORT WAIT MS PORT...  announce after a policy denied it" },
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
		if (sscanf(argv[2], "%u:%u", &hs_vmin, &hs_vmax) != 2) {
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
