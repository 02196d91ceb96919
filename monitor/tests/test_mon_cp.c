/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The monitor programs the engine's tables (monitor/src/cp.c, cp_want.c):
 * a real monitor on a loop in this process, pods in network namespaces of
 * their own, and the software engine (and the device model) read back
 * through fpgactl_tw_read() after every change of a stream: pods added,
 * their addresses changed, pods removed; Service maps set and replaced;
 * NetworkPolicy enforced, changed, turned off. After each step the
 * engine's tables say what the monitor's own view says: every address its
 * pod's id, no address of a pod gone; every Service port its ready
 * endpoints; for every ordered pair of pods and a set of ports, the
 * engine's admission verdict is mon_admit_ports()'s.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <arpa/inet.h>
#include <unistd.h>

#include "fctl_model_proc.h"
#include "fpgactl.h"
#include "hl_check.h"
#include "hl_loop.h"
#include "hl_policy.h"
#include "mon_private.h"
#include "monitor.h"

#define NPODS 4

static struct hl_loop *loop;
static struct hl_monitor *mon;
static struct fpgactl *eng;   /* the monitor's; read here on its thread */
static int host_ns = -1, ns[NPODS];
static struct fctl_model_proc mp = { .pid = -1 };

/* What the test did: each pod's key and addresses (NULL: not added). */
static struct {
	struct hl_mon_pod *ep;
	const char *ips[2];
	size_t n;
} pods[NPODS];
static const char *const names[NPODS] = { "t/a", "t/b", "t/c", "t/d" };

static int ns_new(void)
{
	int fd;

	ck_assert_int_eq(unshare(CLONE_NEWNET), 0);
	fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(setns(host_ns, CLONE_NEWNET), 0);
	return fd;
}

static void addr16(uint8_t out[16], const char *ip)
{
	uint8_t a[16];

	if (inet_pton(AF_INET, ip, a) == 1) {
		uint32_t be;

		memcpy(&be, a, 4);
		fpgactl_addr_v4(out, be);
		return;
	}
	ck_assert_int_eq(inet_pton(AF_INET6, ip, out), 1);
}

/* The engine's pod id of @ip, or -1 (no entry). */
static int eng_pod(const char *ip)
{
	struct fpgactl_req w, got;
	uint8_t a[16];
	int rc;

	addr16(a, ip);
	fpgactl_tw_pod(&w, 0, a, 0, false);
	rc = fpgactl_tw_read(eng, &w, &got);
	if (rc == -ENOENT)
		return -1;
	ck_assert_int_eq(rc, 0);
	return got.pod;
}

static unsigned eng_flags(unsigned pod)
{
	struct fpgactl_req w, got;

	fpgactl_tw_pod_flags(&w, 0, pod, 0);
	ck_assert_int_eq(fpgactl_tw_read(eng, &w, &got), 0);
	return got.val2;
}

/* The engine's verdict for @s connecting to @d on @port, as engine.c's
 * pipeline decides it from its tables. */
static bool eng_admits(unsigned s, unsigned d, uint16_t port)
{
	struct fpgactl_req w, got;
	unsigned df = eng_flags(d), sf = eng_flags(s);

	if (!(df & FPGACTL_POD_POL_IN) && !(sf & FPGACTL_POD_POL_OUT))
		return true;
	fpgactl_tw_pol(&w, 0, s, d, port, 0, false);
	if (fpgactl_tw_read(eng, &w, &got)) {
		fpgactl_tw_pol(&w, 0, s, d, 0, 0, false);
		if (fpgactl_tw_read(eng, &w, &got))
			return false;
	}
	return got.val2 == FPGACTL_POL_ALLOW;
}

static void stats(struct hl_mon_cp_stats *st)
{
	hl_mon_cp_get_stats(mon, st);
	ck_assert(st->on);
	ck_assert_uint_eq(st->mismatches, 0);
	ck_assert_uint_eq(st->write_errors, 0);
}

/* Every address of every pod the test has: its pod's id, one id per pod,
 * distinct pods distinct ids; @gone: addresses that must have no entry. */
static void check_pods(const char *const *gone, size_t n_gone)
{
	struct hl_mon_cp_stats st;
	int ids[NPODS];
	uint64_t n_ips = 0;

	for (unsigned p = 0; p < NPODS; p++) {
		ids[p] = -1;
		for (size_t i = 0; pods[p].ep && i < pods[p].n; i++) {
			int id = eng_pod(pods[p].ips[i]);

			ck_assert_msg(id > 0, "%s of %s: no engine entry", pods[p].ips[i], names[p]);
			if (i)
				ck_assert_int_eq(id, ids[p]);
			ids[p] = id;
			n_ips++;
		}
		for (unsigned q = 0; q < p; q++)
			ck_assert(ids[p] < 0 || ids[q] != ids[p]);
	}
	for (size_t i = 0; i < n_gone; i++)
		ck_assert_msg(eng_pod(gone[i]) < 0, "%s still in the engine", gone[i]);
	stats(&st);
	ck_assert_uint_eq(st.entries[HL_MON_CP_PODS], n_ips);
}

static void add(unsigned p, const char *ip0, const char *ip1)
{
	pods[p].ips[0] = ip0;
	pods[p].ips[1] = ip1;
	pods[p].n = ip1 ? 2 : 1;
	pods[p].ep = hl_mon_pod_add(mon, names[p], ns[p], pods[p].ips, pods[p].n, 16u << 20);
	ck_assert_ptr_nonnull(pods[p].ep);
}

static void open_monitor(const char *device)
{
	struct hl_mon_opts o = { .pool_bytes = 64u << 20 };
	struct fpgactl_opts fo = { .device = device };

	o.loop = loop = hl_loop_new();
	ck_assert_ptr_nonnull(loop);
	mon = hl_mon_new(&o);
	ck_assert_ptr_nonnull(mon);
	eng = fpgactl_open(&fo);
	ck_assert_ptr_nonnull(eng);
	ck_assert_int_eq(hl_mon_set_backend(mon, eng, device ? device : "software"), 0);
}

static void setup(void)
{
	host_ns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	ck_assert_int_ge(host_ns, 0);
	for (unsigned i = 0; i < NPODS; i++)
		ns[i] = ns_new();
	memset(pods, 0, sizeof(pods));
}

static void stop_model(void);

static void teardown(void)
{
	hl_mon_free(mon);
	stop_model();
	hl_loop_free(loop);
	mon = NULL;
	loop = NULL;
	for (unsigned i = 0; i < NPODS; i++)
		close(ns[i]);
	close(host_ns);
}

START_TEST(test_pods)
{
	static const char *const gone1[] = { "10.251.0.3" };
	static const char *const gone2[] = { "10.251.0.3", "10.251.0.1" };
	const char *ips_b[] = { "10.251.0.2", "fd00:251::2" };

	open_monitor(NULL);
	add(0, "10.251.0.1", NULL);
	check_pods(NULL, 0);
	add(1, "10.251.0.2", "10.251.0.3");
	add(2, "fd00:251::3", NULL);
	check_pods(NULL, 0);
	/* b's second address changes: the old one leaves the engine */
	ck_assert_int_eq(hl_mon_pod_set_ips(pods[1].ep, ips_b, 2), 0);
	pods[1].ips[1] = ips_b[1];
	check_pods(gone1, 1);
	/* a goes; d comes (it may take a's id: a's entries are gone) */
	hl_mon_pod_del(pods[0].ep);
	pods[0].ep = NULL;
	add(3, "10.251.0.4", NULL);
	check_pods(gone2, 2);
	/* no netfilter rules in these namespaces, no policy enforced: no flags */
	for (unsigned p = 1; p < NPODS; p++)
		ck_assert_uint_eq(eng_flags((unsigned)eng_pod(pods[p].ips[0])), 0);
}
END_TEST

static void check_svc(const char *vip, uint16_t port, const char *const *want, const uint16_t *wport,
		      const bool *local, size_t n)
{
	struct fpgactl_req w, got, e, eg;
	uint8_t a[16];
	bool seen[8] = { 0 };

	addr16(a, vip);
	fpgactl_tw_svc(&w, 0, a, port, 0, 0, false, false);
	if (n == (size_t)-1) {
		ck_assert_int_eq(fpgactl_tw_read(eng, &w, &got), -ENOENT);
		return;
	}
	ck_assert_int_eq(fpgactl_tw_read(eng, &w, &got), 0);
	ck_assert_uint_eq(got.val, n);
	for (unsigned i = 0; i < got.val; i++) {
		size_t j;

		fpgactl_tw_ep(&e, 0, got.aux + i, a, 0, false);
		ck_assert_int_eq(fpgactl_tw_read(eng, &e, &eg), 0);
		for (j = 0; j < n; j++) {
			addr16(a, want[j]);
			if (!memcmp(a, eg.addr, 16) && eg.port == wport[j])
				break;
		}
		ck_assert_msg(j < n, "endpoint %u of %s:%u is none of the ready ones", i, vip, port);
		ck_assert(!seen[j]);
		seen[j] = true;
		ck_assert_int_eq(!!(eg.flags & FPGACTL_EP_LOCAL), local[j]);
	}
}

START_TEST(test_services)
{
	struct hl_mon_svc_endpoint e1[] = {
		{ .addr = "10.251.0.2", .port = 8080, .ready = true, .serving = true },
		{ .addr = "10.99.0.7", .port = 8080, .ready = true, .serving = true },
		{ .addr = "10.251.0.1", .port = 8080, .ready = false },
	};
	struct hl_mon_svc_endpoint e2[] = {
		{ .addr = "10.251.0.1", .port = 9000, .ready = false },
	};
	struct hl_mon_svc s1 = { .name = "t/web:80", .vip = "10.96.0.10", .port = 80, .eps = e1, .n_eps = 3 };
	struct hl_mon_svc s2 = { .name = "t/none:90", .vip = "10.96.0.11", .port = 90, .eps = e2, .n_eps = 1 };
	static const char *const r1[] = { "10.251.0.2", "10.99.0.7" };
	static const uint16_t p1[] = { 8080, 8080 };
	static const bool l1[] = { true, false };
	struct hl_mon_svcmap *m;
	struct hl_mon_cp_stats st;

	open_monitor(NULL);
	add(0, "10.251.0.1", NULL);
	add(1, "10.251.0.2", NULL);
	m = hl_mon_svcmap_new();
	ck_assert_ptr_nonnull(m);
	ck_assert_int_eq(hl_mon_svcmap_add(m, &s1), 0);
	ck_assert_int_eq(hl_mon_svcmap_add(m, &s2), 0);
	hl_mon_set_services(mon, m);
	check_svc("10.96.0.10", 80, r1, p1, l1, 2);
	check_svc("10.96.0.11", 90, NULL, NULL, NULL, 0);  /* no ready endpoint: refused */
	stats(&st);
	ck_assert_uint_eq(st.entries[HL_MON_CP_SERVICES], 2);
	ck_assert_uint_eq(st.entries[HL_MON_CP_ENDPOINTS], 2);
	/* the endpoint at 10.251.0.1 gets ready; the second Service goes */
	e1[2].ready = e1[2].serving = true;
	m = hl_mon_svcmap_new();
	ck_assert_ptr_nonnull(m);
	ck_assert_int_eq(hl_mon_svcmap_add(m, &s1), 0);
	hl_mon_set_services(mon, m);
	{
		static const char *const r2[] = { "10.251.0.2", "10.99.0.7", "10.251.0.1" };
		static const uint16_t p2[] = { 8080, 8080, 8080 };
		static const bool l2[] = { true, false, true };

		check_svc("10.96.0.10", 80, r2, p2, l2, 3);
	}
	check_svc("10.96.0.11", 90, NULL, NULL, NULL, (size_t)-1);
	stats(&st);
	ck_assert_uint_eq(st.entries[HL_MON_CP_SERVICES], 1);
	ck_assert_uint_eq(st.entries[HL_MON_CP_ENDPOINTS], 3);
	hl_mon_set_services(mon, NULL);
	check_svc("10.96.0.10", 80, NULL, NULL, NULL, (size_t)-1);
	stats(&st);
	ck_assert_uint_eq(st.entries[HL_MON_CP_ENDPOINTS], 0);
}
END_TEST

static char *dup_s(const char *s)
{
	char *d = strdup(s);

	ck_assert_ptr_nonnull(d);
	return d;
}

static void pol_pod(struct hl_pol_table *t, unsigned p)
{
	struct hl_pol_pod pp = { .ns = dup_s("t"), .name = dup_s(names[p] + 2), .n_labels = 1 };

	pp.labels = calloc(1, sizeof(*pp.labels));
	ck_assert_ptr_nonnull(pp.labels);
	pp.labels[0].key = dup_s("app");
	pp.labels[0].val = dup_s(names[p] + 2);
	for (size_t i = 0; i < pods[p].n; i++) {
		pp.ips[i].family = strchr(pods[p].ips[i], ':') ? 6 : 4;
		ck_assert_int_eq(inet_pton(pp.ips[i].family == 4 ? AF_INET : AF_INET6, pods[p].ips[i],
					   pp.ips[i].a), 1);
	}
	pp.n_ips = pods[p].n;
	ck_assert_int_eq(hl_pol_table_add_pod(t, &pp), 0);
}

/* Pods a, b, c known; b isolated for ingress, admitting app=a on ports
 * @lo..@hi (one port when equal). */
static struct hl_pol_table *table(uint16_t lo, uint16_t hi)
{
	struct hl_pol_table *t = hl_pol_table_new();
	struct hl_pol_policy *p = calloc(1, sizeof(*p));

	ck_assert_ptr_nonnull(t);
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(hl_pol_table_add_ns(t, dup_s("t"), NULL, 0), 0);
	for (unsigned i = 0; i < 3; i++)
		pol_pod(t, i);
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
	p->in[0].peers = calloc(1, sizeof(*p->in[0].peers));
	ck_assert_ptr_nonnull(p->in[0].peers);
	p->in[0].n_peers = 1;
	p->in[0].peers[0].what = HL_POL_PEER_PODS;
	p->in[0].peers[0].pods.req = calloc(1, sizeof(struct hl_pol_req));
	ck_assert_ptr_nonnull(p->in[0].peers[0].pods.req);
	p->in[0].peers[0].pods.n_req = 1;
	p->in[0].peers[0].pods.req[0].key = dup_s("app");
	p->in[0].peers[0].pods.req[0].op = HL_POL_OP_IN;
	p->in[0].peers[0].pods.req[0].vals = calloc(1, sizeof(char *));
	ck_assert_ptr_nonnull(p->in[0].peers[0].pods.req[0].vals);
	p->in[0].peers[0].pods.req[0].vals[0] = dup_s("a");
	p->in[0].peers[0].pods.req[0].n_vals = 1;
	p->in[0].ports = calloc(1, sizeof(*p->in[0].ports));
	ck_assert_ptr_nonnull(p->in[0].ports);
	p->in[0].n_ports = 1;
	p->in[0].ports[0].proto = HL_POL_TCP;
	p->in[0].ports[0].port = lo;
	p->in[0].ports[0].end_port = hi > lo ? hi : 0;
	ck_assert_int_eq(hl_pol_table_add_policy(t, p), 0);
	ck_assert_int_eq(hl_pol_table_compile(t), 0);
	return t;
}

/* For every ordered pair of pods the test has and a set of ports: the
 * engine's verdict is the monitor's. */
static void check_policy(void)
{
	static const uint16_t ports[] = { 1, 79, 80, 81, 443, 4999, 5000, 5001, 5100, 5101, 65535 };
	uint64_t bits[HL_GRANT_WORDS];

	for (unsigned s = 0; s < NPODS; s++)
		for (unsigned d = 0; pods[s].ep && d < NPODS; d++) {
			unsigned si, di;

			if (!pods[d].ep)
				continue;
			si = (unsigned)eng_pod(pods[s].ips[0]);
			di = (unsigned)eng_pod(pods[d].ips[0]);
			mon_admit_ports(mon, pods[s].ep, pods[d].ep, bits);
			for (size_t i = 0; i < sizeof(ports) / sizeof(ports[0]); i++) {
				uint16_t p = ports[i];
				bool m = (bits[p / 64] >> (p % 64)) & 1;

				ck_assert_msg(eng_admits(si, di, p) == m, "%s -> %s port %u: engine %d, monitor %d",
					      names[s], names[d], p, !m, m);
			}
		}
}

START_TEST(test_policy)
{
	struct hl_mon_cp_stats st;
	unsigned a, b, c;

	open_monitor(NULL);
	add(0, "10.251.0.1", NULL);
	add(1, "10.251.0.2", "10.251.0.3");
	add(2, "10.251.0.4", NULL);
	a = (unsigned)eng_pod("10.251.0.1");
	b = (unsigned)eng_pod("10.251.0.2");
	c = (unsigned)eng_pod("10.251.0.4");
	hl_mon_policy_enforce(mon, true);
	/* enforced, no table yet: nothing admitted between pods; inside
	 * one pod (loopback) everything */
	ck_assert(!eng_admits(a, b, 80) && !eng_admits(b, a, 80));
	ck_assert(eng_admits(a, a, 80));
	check_policy();
	hl_mon_policy_set(mon, table(5000, 5000));
	ck_assert_uint_eq(eng_flags(b) & (FPGACTL_POD_POL_IN | FPGACTL_POD_POL_OUT),
			  FPGACTL_POD_POL_IN | FPGACTL_POD_POL_OUT);
	ck_assert(eng_admits(a, b, 5000));
	ck_assert(!eng_admits(a, b, 5001));
	ck_assert(!eng_admits(c, b, 5000));
	ck_assert(eng_admits(b, a, 1234) && eng_admits(a, c, 80));
	check_policy();
	/* a range: the ports admitted listed; a pod added joins the table */
	hl_mon_policy_set(mon, table(5000, 5100));
	check_policy();
	add(3, "10.251.0.5", NULL);  /* not in the table: never admitted */
	ck_assert(!eng_admits((unsigned)eng_pod("10.251.0.5"), a, 80));
	check_policy();
	hl_mon_policy_enforce(mon, false);
	check_policy();
	stats(&st);
	ck_assert_uint_eq(st.entries[HL_MON_CP_POLICY], 0);
	ck_assert_uint_eq(eng_flags(b), 0);
}
END_TEST

static void start_model(void)
{
	fctl_model_start(&mp, "mon-cp-model");
}

static void stop_model(void)
{
	fctl_model_stop(&mp);
}

/* The device model: the pods table through its register window, read
 * back through it; what the device cannot hold yet is counted, not
 * written. */
START_TEST(test_model)
{
	static const char *const gone[] = { "10.251.0.1" };
	struct hl_mon_svc_endpoint e1[] = { { .addr = "10.251.0.2", .port = 80, .ready = true, .serving = true } };
	struct hl_mon_svc s1 = { .name = "t/web:80", .vip = "10.96.0.10", .port = 80, .eps = e1, .n_eps = 1 };
	struct hl_mon_svcmap *m;
	struct hl_mon_cp_stats st;

	start_model();
	open_monitor(mp.dev);
	hl_mon_cp_get_stats(mon, &st);
	ck_assert_str_eq(st.backend, "model");
	ck_assert(!st.serves);
	add(0, "10.251.0.1", NULL);
	add(1, "10.251.0.2", "fd00:251::2");
	check_pods(NULL, 0);
	m = hl_mon_svcmap_new();
	ck_assert_ptr_nonnull(m);
	ck_assert_int_eq(hl_mon_svcmap_add(m, &s1), 0);
	hl_mon_set_services(mon, m);
	stats(&st);
	ck_assert_uint_eq(st.unsupported, 2);  /* the Service and its endpoint */
	ck_assert_uint_eq(st.entries[HL_MON_CP_SERVICES], 0);
	hl_mon_pod_del(pods[0].ep);
	pods[0].ep = NULL;
	check_pods(gone, 1);
	stats(&st);
	ck_assert_uint_ge(st.verified, 4);
	hl_mon_free(mon);  /* closes the driver before the model goes */
	mon = NULL;
	stop_model();
}
END_TEST

int main(void)
{
	Suite *s = suite_create("mon_cp");
	TCase *tc = tcase_create("core");

	if (geteuid() != 0) {
		printf("ok 1 - mon_cp # SKIP needs root (network namespaces)\n");
		return 0;
	}
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_pods);
	tcase_add_test(tc, test_services);
	tcase_add_test(tc, test_policy);
	tcase_add_test(tc, test_model);
	suite_add_tcase(s, tc);
	return hl_check_run(s);
}
