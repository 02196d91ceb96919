/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Grants of direct regions (monitor/src/grant.c, pod protocol v5), against
 * a real monitor on a loop in this process and two pods in network
 * namespaces of their own (made here, gone with the process): a v5 pair's
 * first connection brings the grant to both sides; nobody can write it
 * (mmap PROT_WRITE, mprotect, write, ftruncate, more seals: all refused);
 * its bits follow the policy table on every change; a pod a policy
 * isolates gets a direct region for the ports the policy admits; a port
 * admitted at one of the listener pod's addresses only is left to the
 * monitor, in a plain slot region.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <arpa/inet.h>
#include <unistd.h>

#include "fpgactl.h"
#include "hl_check.h"
#include "hl_codec.h"
#include "hl_loop.h"
#include "hl_policy.h"
#include "hostlane_direct.h"
#include "monitor.h"

static struct hl_loop *loop;
static struct hl_monitor *mon;
static int host_ns = -1, ns_a = -1, ns_b = -1;

/* A network namespace of its own (this thread goes back to the host's). */
static int ns_new(void)
{
	int fd;

	ck_assert_int_eq(unshare(CLONE_NEWNET), 0);
	fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(setns(host_ns, CLONE_NEWNET), 0);
	return fd;
}

struct cl {
	int fd;
	uint32_t seq;
	int fds[3];   /* HELLO: stats, doorbell, liveness */
};

/* Receives one message on @c, running the monitor meanwhile; its fds. */
static int crecv(struct cl *c, struct hl_proto_msg *r, int *fds)
{
	for (int i = 0; i < 2000; i++) {
		int n;

		hl_proto_fds_reset(fds);
		n = hl_proto_recv_reply(c->fd, MSG_DONTWAIT, recvmsg, close, r, fds);
		if (n != -EAGAIN)
			return n;
		hl_loop_run_once(loop, 5);
	}
	return -ETIMEDOUT;
}

static int ccall(struct cl *c, struct hl_proto_msg *m, struct hl_proto_msg *r, int *fds)
{
	m->hdr.seq = ++c->seq;
	ck_assert_int_eq(send(c->fd, m, sizeof(*m), MSG_NOSIGNAL), (int)sizeof(*m));
	return crecv(c, r, fds);
}

/* A client of the @hostlane of netns @ns speaking version @ver at most. */
static struct cl cdial(int ns, uint16_t ver)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	socklen_t len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 +
				    strlen(HL_PROTO_ENDPOINT));
	struct cl c = { .fd = -1 };
	struct hl_proto_msg m, r;
	int fds[HL_PROTO_MAX_FDS];

	memcpy(sa.sun_path + 1, HL_PROTO_ENDPOINT, strlen(HL_PROTO_ENDPOINT));
	ck_assert_int_eq(setns(ns, CLONE_NEWNET), 0);
	c.fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	ck_assert_int_eq(connect(c.fd, (struct sockaddr *)&sa, len), 0);
	ck_assert_int_eq(setns(host_ns, CLONE_NEWNET), 0);
	hl_proto_init(&m, HL_POD_OP_HELLO, 0);
	m.u.hello_req.min_version = 1;
	m.u.hello_req.max_version = ver;
	ck_assert_int_eq(ccall(&c, &m, &r, fds), 3);
	ck_assert_int_eq(r.u.hello_rep.version, ver);
	memcpy(c.fds, fds, sizeof(c.fds));
	return c;
}

static void cclose(struct cl *c)
{
	for (int i = 0; i < 3; i++)
		close(c->fds[i]);
	close(c->fd);
}

static void close_fds(int *fds, int n)
{
	for (int i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

static void listen_on(struct cl *l, uint16_t port)
{
	struct hl_proto_msg m, r;
	int fds[HL_PROTO_MAX_FDS];

	hl_proto_init(&m, HL_POD_OP_LISTEN, 0);
	m.u.listen.port = port;
	m.u.listen.addr.family = 4;  /* the wildcard */
	ck_assert_int_eq(ccall(l, &m, &r, fds), 0);
	ck_assert_int_eq(r.hdr.status, 0);
}

/* CONNECT @a -> 10.250.0.2:@port; the reply in @r with its fds (n in *@na),
 * the listener's event in @ev with its fds (n in *@nl). Return: status. */
static int conn(struct cl *a, struct cl *l, uint16_t port, struct hl_proto_msg *r, int *fa,
		int *na, struct hl_proto_msg *ev, int *fl, int *nl)
{
	struct hl_proto_msg m;

	hl_proto_init(&m, HL_POD_OP_CONNECT, 0);
	hl_proto_addr_parse("10.250.0.2", &m.u.connect.addr);
	m.u.connect.port = port;
	m.u.connect.local_port = 40000;
	m.u.connect.flags = HL_CONNECT_F_SLOT;
	*na = ccall(a, &m, r, fa);
	*nl = 0;
	if (*na < 0 || r->hdr.status)
		return *na < 0 ? *na : r->hdr.status;
	*nl = crecv(l, ev, fl);
	ck_assert_int_eq(ev->hdr.op, HL_POD_OP_EV_ACCEPT);
	return 0;
}

static bool bit(const struct hl_direct_grant *g, uint16_t p)
{
	return (atomic_load(&g->ports[p / 64]) >> (p % 64)) & 1;
}

static char *dup_s(const char *s)
{
	char *d = strdup(s);

	ck_assert_ptr_nonnull(d);
	return d;
}

static void add_pod(struct hl_pol_table *t, const char *name, const char *ip, const char *ip2)
{
	struct hl_pol_pod p = { .ns = dup_s("t"), .name = dup_s(name), .n_ips = 1, .n_labels = 1 };

	if (ip2) {
		p.ips[1].family = 4;
		ck_assert_int_eq(inet_pton(AF_INET, ip2, p.ips[1].a), 1);
		p.n_ips = 2;
	}
	p.labels = calloc(1, sizeof(*p.labels));
	ck_assert_ptr_nonnull(p.labels);
	p.labels[0].key = dup_s("app");
	p.labels[0].val = dup_s(name);
	p.ips[0].family = 4;
	ck_assert_int_eq(inet_pton(AF_INET, ip, p.ips[0].a), 1);
	ck_assert_int_eq(hl_pol_table_add_pod(t, &p), 0);
}

/* The table: namespace t, pods t/a and t/b (two addresses); with @port, a
 * policy isolating t/b for ingress that admits any peer on @port only;
 * @port 1: one isolating t/a for egress, to one of t/b's addresses. */
static struct hl_pol_table *table(uint16_t port)
{
	struct hl_pol_table *t = hl_pol_table_new();

	ck_assert_ptr_nonnull(t);
	ck_assert_int_eq(hl_pol_table_add_ns(t, dup_s("t"), NULL, 0), 0);
	add_pod(t, "a", "10.250.0.1", NULL);
	add_pod(t, "b", "10.250.0.2", "10.250.0.3");
	if (port == 1) {
		/* t/a's egress only to 10.250.0.2/32 (not t/b's other address) */
		struct hl_pol_policy *p = calloc(1, sizeof(*p));

		ck_assert_ptr_nonnull(p);
		p->ns = dup_s("t");
		p->name = dup_s("a-out");
		p->egress = true;
		p->out = calloc(1, sizeof(*p->out));
		ck_assert_ptr_nonnull(p->out);
		p->n_out = 1;
		p->out[0].peers = calloc(1, sizeof(*p->out[0].peers));
		ck_assert_ptr_nonnull(p->out[0].peers);
		p->out[0].n_peers = 1;
		p->out[0].peers[0].what = HL_POL_PEER_IP;
		p->out[0].peers[0].cidr.net.family = 4;
		ck_assert_int_eq(inet_pton(AF_INET, "10.250.0.2", p->out[0].peers[0].cidr.net.a), 1);
		p->out[0].peers[0].cidr.prefix = 32;
		p->pods.req = calloc(1, sizeof(*p->pods.req));
		ck_assert_ptr_nonnull(p->pods.req);
		p->pods.n_req = 1;
		p->pods.req[0].key = dup_s("app");
		p->pods.req[0].op = HL_POL_OP_IN;
		p->pods.req[0].vals = calloc(1, sizeof(char *));
		ck_assert_ptr_nonnull(p->pods.req[0].vals);
		p->pods.req[0].vals[0] = dup_s("a");
		p->pods.req[0].n_vals = 1;
		ck_assert_int_eq(hl_pol_table_add_policy(t, p), 0);
	} else if (port) {
		struct hl_pol_policy *p = calloc(1, sizeof(*p));

		ck_assert_ptr_nonnull(p);
		p->ns = dup_s("t");
		p->name = dup_s("b-in");
		p->pods.req = calloc(1, sizeof(*p->pods.req));
		ck_assert_ptr_nonnull(p->pods.req);
		p->pods.n_req = 1;
		p->pods.req[0].key = dup_s("app");
		p->pods.req[0].op = HL_POL_OP_IN;
		p->pods.req[0].vals = calloc(1, sizeof(char *));
		ck_assert_ptr_nonnull(p->pods.req[0].vals);
		p->pods.req[0].vals[0] = dup_s("b");
		p->pods.req[0].n_vals = 1;
		p->ingress = true;
		p->in = calloc(1, sizeof(*p->in));
		ck_assert_ptr_nonnull(p->in);
		p->n_in = 1;
		p->in[0].ports = calloc(1, sizeof(*p->in[0].ports));
		ck_assert_ptr_nonnull(p->in[0].ports);
		p->in[0].n_ports = 1;
		p->in[0].ports[0].proto = HL_POL_TCP;
		p->in[0].ports[0].port = port;
		ck_assert_int_eq(hl_pol_table_add_policy(t, p), 0);
	}
	ck_assert_int_eq(hl_pol_table_compile(t), 0);
	return t;
}

static void setup(void)
{
	struct hl_mon_opts o = { .pool_bytes = 64u << 20 };
	const char *ips_a[] = { "10.250.0.1" }, *ips_b[] = { "10.250.0.2", "10.250.0.3" };

	host_ns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	ck_assert_int_ge(host_ns, 0);
	ns_a = ns_new();
	ns_b = ns_new();
	o.loop = loop = hl_loop_new();
	ck_assert_ptr_nonnull(loop);
	mon = hl_mon_new(&o);
	ck_assert_ptr_nonnull(mon);
	ck_assert_ptr_nonnull(hl_mon_pod_add(mon, "t/a", ns_a, ips_a, 1, 16u << 20));
	ck_assert_ptr_nonnull(hl_mon_pod_add(mon, "t/b", ns_b, ips_b, 2, 16u << 20));
}

static void teardown(void)
{
	hl_mon_free(mon);
	hl_loop_free(loop);
	close(ns_a);
	close(ns_b);
	close(host_ns);
}

/* What nobody may do to a grant fd: write it in any way, or unseal it. */
static void sealed(int fd)
{
	struct stat st;
	void *p;
	char c = 1;

	ck_assert_int_eq(fstat(fd, &st), 0);
	ck_assert_int_eq(st.st_size, HL_GRANT_BYTES);
	ck_assert_int_eq(fcntl(fd, F_GET_SEALS),
			 F_SEAL_FUTURE_WRITE | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL);
	p = mmap(NULL, HL_GRANT_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ck_assert_msg(p == MAP_FAILED && errno == EPERM, "a writable mapping of the grant");
	p = mmap(NULL, HL_GRANT_BYTES, PROT_READ, MAP_SHARED, fd, 0);
	ck_assert_ptr_ne(p, MAP_FAILED);
	ck_assert_int_eq(mprotect(p, HL_GRANT_BYTES, PROT_READ | PROT_WRITE), -1);
	munmap(p, HL_GRANT_BYTES);
	ck_assert_int_eq(pwrite(fd, &c, 1, 100), -1);
	ck_assert_int_eq(errno, EPERM);
	ck_assert_int_eq(ftruncate(fd, 0), -1);
	ck_assert_int_eq(fcntl(fd, F_ADD_SEALS, 0), -1);
	ck_assert_int_eq(errno, EPERM);
}

START_TEST(test_grant)
{
	struct cl a, l, a4;
	struct hl_proto_msg r, ev;
	int fa[HL_PROTO_MAX_FDS], fl[HL_PROTO_MAX_FDS], na, nl;
	const uint32_t dg = HL_CONN_F_SLOT | HL_CONN_F_REGION | HL_CONN_F_DIRECT | HL_CONN_F_GRANT;
	const struct hl_direct_grant *g;
	struct stat s1, s2;
	uint64_t gen;

	a = cdial(ns_a, HL_PROTO_VERSION);
	l = cdial(ns_b, HL_PROTO_VERSION);
	listen_on(&l, 5000);
	listen_on(&l, 5001);

	/* No enforcement: a direct region whose grant admits every port. */
	ck_assert_int_eq(conn(&a, &l, 5000, &r, fa, &na, &ev, fl, &nl), 0);
	ck_assert_uint_eq(r.u.conn.flags, dg);
	ck_assert_uint_eq(ev.u.conn.flags, dg);
	ck_assert_int_eq(na, (int)(4 + 2 * r.u.conn.slots));  /* + doorbell + grant */
	ck_assert_int_eq(nl, (int)(3 + 2 * r.u.conn.slots));  /* + grant */
	ck_assert_int_eq(fstat(fa[na - 1], &s1), 0);
	ck_assert_int_eq(fstat(fl[nl - 1], &s2), 0);
	ck_assert_msg(s1.st_ino == s2.st_ino && s1.st_dev == s2.st_dev, "one grant, both sides");
	sealed(fa[na - 1]);
	sealed(fl[nl - 1]);
	g = mmap(NULL, HL_GRANT_BYTES, PROT_READ, MAP_SHARED, fl[nl - 1], 0);
	ck_assert_ptr_ne(g, MAP_FAILED);
	ck_assert_uint_eq(g->magic, HL_GRANT_MAGIC);
	ck_assert_uint_eq(g->version, HL_GRANT_VERSION);
	ck_assert(bit(g, 5000) && bit(g, 5001) && bit(g, 1) && bit(g, 65535) && !bit(g, 0));
	close_fds(fa, na);
	close_fds(fl, nl);

	/* The bits follow the table, on every change. */
	gen = atomic_load(&g->generation);
	hl_mon_policy_enforce(mon, true);
	hl_mon_policy_set(mon, table(5000));
	ck_assert_uint_gt(atomic_load(&g->generation), gen);
	ck_assert(bit(g, 5000) && !bit(g, 5001) && !bit(g, 80) && !bit(g, 1));
	hl_mon_policy_set(mon, table(5001));
	ck_assert(!bit(g, 5000) && bit(g, 5001));
	hl_mon_policy_set(mon, table(0));
	ck_assert(bit(g, 5000) && bit(g, 5001) && bit(g, 80));
	hl_mon_policy_set(mon, NULL);  /* enforced without a table: nothing */
	ck_assert(!bit(g, 5000) && !bit(g, 5001) && !bit(g, 80));

	/* An isolated pod: a direct region for the port its policy admits,
	 * the monitor's refusal for the other. */
	hl_mon_policy_set(mon, table(5001));
	ck_assert_int_eq(conn(&a, &l, 5000, &r, fa, &na, &ev, fl, &nl), -EACCES);
	ck_assert_int_eq(conn(&a, &l, 5001, &r, fa, &na, &ev, fl, &nl), 0);
	ck_assert_uint_eq(r.u.conn.flags, dg);
	close_fds(fa, na);
	close_fds(fl, nl);
	/* Admitted at one of the listener pod's addresses only (an egress
	 * ipBlock): no bit, and the monitor's exact check decides; the
	 * connection it admits comes in a plain slot region, which the next
	 * one reuses. */
	hl_mon_policy_set(mon, table(1));
	ck_assert(!bit(g, 5000) && !bit(g, 5001) && !bit(g, 80));
	ck_assert_int_eq(conn(&a, &l, 5000, &r, fa, &na, &ev, fl, &nl), 0);
	ck_assert_uint_eq(r.u.conn.flags, HL_CONN_F_SLOT | HL_CONN_F_REGION);
	ck_assert_uint_eq(ev.u.conn.flags, HL_CONN_F_SLOT | HL_CONN_F_REGION);
	ck_assert_int_eq(na, (int)(2 + 2 * r.u.conn.slots));
	close_fds(fa, na);
	close_fds(fl, nl);
	ck_assert_int_eq(conn(&a, &l, 5001, &r, fa, &na, &ev, fl, &nl), 0);
	ck_assert_uint_eq(r.u.conn.flags, HL_CONN_F_SLOT);
	ck_assert_int_eq(na, 0);
	close_fds(fa, na);
	close_fds(fl, nl);
	/* A connector that speaks v4 (no grant; its revocation would be
	 * `off`, which it could clear) with enforcement on: the connection
	 * the table admits, in a plain slot region, never a direct one. */
	hl_mon_policy_set(mon, table(0));
	a4 = cdial(ns_a, 4);
	ck_assert_int_eq(conn(&a4, &l, 5000, &r, fa, &na, &ev, fl, &nl), 0);
	ck_assert_uint_eq(r.u.conn.flags, HL_CONN_F_SLOT | HL_CONN_F_REGION);
	ck_assert_uint_eq(ev.u.conn.flags, HL_CONN_F_SLOT | HL_CONN_F_REGION);
	close_fds(fa, na);
	close_fds(fl, nl);
	cclose(&a4);
	hl_mon_policy_enforce(mon, false);
	ck_assert(bit(g, 5000) && bit(g, 5001));
	/* Without enforcement a v4 pair is direct, without a grant. */
	a4 = cdial(ns_a, 4);
	ck_assert_int_eq(conn(&a4, &l, 5000, &r, fa, &na, &ev, fl, &nl), 0);
	ck_assert_uint_eq(r.u.conn.flags, HL_CONN_F_SLOT | HL_CONN_F_REGION | HL_CONN_F_DIRECT);
	close_fds(fa, na);
	close_fds(fl, nl);
	cclose(&a4);
	munmap((void *)(uintptr_t)g, HL_GRANT_BYTES);
	cclose(&a);
	cclose(&l);
}
END_TEST

/* The monitor with an engine of one process queue (monitor/src/cp_check.c):
 * the process that has it gets its CONNECTs to pod addresses decided by
 * the engine; a process without one, or a listener whose process has
 * none, is served by the monitor's own checks, and connects all the same. */
static void setup_engine(void)
{
	struct fpgactl_opts fo = { .geom = { .nq = 2, .n_pods = 16, .n_eps = 16, .pod_log2 = 4,
					     .lsn_log2 = 4, .pair_log2 = 4, .svc_log2 = 4, .pol_log2 = 8 } };
	struct fpgactl *f;

	setup();
	f = fpgactl_open(&fo);
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(hl_mon_set_backend(mon, f, "software"), 0);
}

static uint64_t decided(void)
{
	struct hl_mon_cp_stats st;

	hl_mon_cp_get_stats(mon, &st);
	ck_assert_uint_eq(st.disagreed, 0);
	return st.decided;
}

START_TEST(test_engine_decides)
{
	struct hl_proto_msg r, ev;
	int fa[HL_PROTO_MAX_FDS], fl[HL_PROTO_MAX_FDS], na, nl;
	struct cl l = cdial(ns_b, 5), a, l2;

	/* the listener takes the one queue: the connector has none */
	listen_on(&l, 6000);
	a = cdial(ns_a, 5);
	ck_assert_int_eq(conn(&a, &l, 6000, &r, fa, &na, &ev, fl, &nl), 0);
	close_fds(fa, na);
	close_fds(fl, nl);
	ck_assert_uint_eq(decided(), 0);
	cclose(&a);
	cclose(&l);
	for (int i = 0; i < 20; i++)  /* both gone: the queue free again */
		hl_loop_run_once(loop, 5);
	/* a connector with the queue: the engine refuses a port nobody
	 * listens on */
	a = cdial(ns_a, 5);
	ck_assert_int_eq(conn(&a, NULL, 6001, &r, fa, &na, &ev, fl, &nl), -ECONNREFUSED);
	ck_assert_uint_eq(decided(), 1);
	/* a listener without a queue: the monitor's, and reached */
	l2 = cdial(ns_b, 5);
	listen_on(&l2, 6001);
	ck_assert_int_eq(conn(&a, &l2, 6001, &r, fa, &na, &ev, fl, &nl), 0);
	close_fds(fa, na);
	close_fds(fl, nl);
	ck_assert_uint_eq(decided(), 1);
	cclose(&a);
	cclose(&l2);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("mon_grant");
	TCase *tc = tcase_create("core"), *te = tcase_create("engine");

	if (geteuid() != 0) {
		printf("ok 1 - mon_grant # SKIP needs root (network namespaces)\n");
		return 0;
	}
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_grant);
	suite_add_tcase(s, tc);
	tcase_add_checked_fixture(te, setup_engine, teardown);
	tcase_add_test(te, test_engine_decides);
	suite_add_tcase(s, te);
	return hl_check_run(s);
}
