/* SPDX-License-Identifier: Apache-2.0 */
/* libhlnl against the real kernel. Check forks every test, and each test
 * unshares fresh network namespaces, so nothing outlives the test process
 * and nothing touches the host's links. */
#include "hlnl.h"

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define VERIFY(cond, ...) ck_assert_msg(cond, __VA_ARGS__)

static int self_ns(void)
{
	int fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);

	ck_assert_int_ge(fd, 0);
	return fd;
}

static ino_t ns_ino(void)
{
	struct stat st;

	ck_assert_int_eq(stat("/proc/thread-self/ns/net", &st), 0);
	return st.st_ino;
}

static struct hlnl *fresh(void)
{
	struct hlnl *nl;

	VERIFY(unshare(CLONE_NEWNET) == 0, "unshare: %s", strerror(errno));
	nl = hlnl_open();
	ck_assert_ptr_nonnull(nl);
	return nl;
}

START_TEST(test_bridge)
{
	struct hlnl *nl = fresh();
	struct hlnl_link l;
	int idx;

	ck_assert_int_eq(hlnl_link_get(nl, "tbr0", 0, &l), -ENODEV);
	ck_assert_int_eq(hlnl_bridge_create(nl, "tbr0", 1400), 0);
	ck_assert_int_eq(hlnl_bridge_create(nl, "tbr0", 1400), -EEXIST);
	ck_assert_int_eq(hlnl_link_get(nl, "tbr0", 0, &l), 0);
	ck_assert_str_eq(l.kind, "bridge");
	ck_assert_uint_eq(l.mtu, 1400);
	ck_assert(!(l.flags & IFF_UP));
	ck_assert_int_eq(hlnl_link_set(nl, l.index, 0, 1, 0, NULL), 0);
	ck_assert_int_eq(hlnl_link_get(nl, NULL, l.index, &l), 0);
	ck_assert_str_eq(l.name, "tbr0");
	ck_assert(l.flags & IFF_UP);
	idx = l.index;
	ck_assert_int_eq(hlnl_link_del(nl, idx), 0);
	ck_assert_int_eq(hlnl_link_get(nl, "tbr0", 0, &l), -ENODEV);
	ck_assert_int_eq(hlnl_link_del(nl, idx), -ENODEV);
	hlnl_close(nl);
}
END_TEST

START_TEST(test_veth_across_ns)
{
	struct hlnl *host, *pod;
	struct hlnl_link hv, pv, br;
	int podfd;
	ino_t host_ino;

	hlnl_close(fresh()); /* becomes the "pod" netns */
	podfd = self_ns();
	host = fresh();   /* the "host" netns, where we stay */
	host_ino = ns_ino();
	ck_assert_int_eq(hlnl_veth_create(host, "thost0", "eth0", podfd, 1450), 0);
	ck_assert_int_eq(hlnl_veth_create(host, "thost0", "eth9", podfd, 0), -EEXIST);
	pod = hlnl_open_ns(podfd);
	ck_assert_ptr_nonnull(pod);
	ck_assert_uint_eq(ns_ino(), host_ino); /* back home */
	ck_assert_int_eq(hlnl_link_get(host, "thost0", 0, &hv), 0);
	ck_assert_int_eq(hlnl_link_get(host, "eth0", 0, &pv), -ENODEV);
	ck_assert_int_eq(hlnl_link_get(pod, "eth0", 0, &pv), 0);
	ck_assert_str_eq(hv.kind, "veth");
	ck_assert_str_eq(pv.kind, "veth");
	ck_assert_uint_eq(pv.mtu, 1450);
	ck_assert_uint_eq(hv.mtu, 1450);
	ck_assert(memcmp(hv.mac, pv.mac, 6) != 0);
	/* master + up + alias in one request */
	ck_assert_int_eq(hlnl_bridge_create(host, "tbr1", 0), 0);
	ck_assert_int_eq(hlnl_link_get(host, "tbr1", 0, &br), 0);
	ck_assert_int_eq(hlnl_link_set(host, hv.index, br.index, 1, 0, "hostlane:n:c:eth0"), 0);
	ck_assert_int_eq(hlnl_link_get(host, "thost0", 0, &hv), 0);
	ck_assert_int_eq(hv.master, br.index);
	ck_assert(hv.flags & IFF_UP);
	ck_assert_str_eq(hv.alias, "hostlane:n:c:eth0");
	ck_assert_int_eq(hlnl_link_set(host, hv.index, -1, -1, 1300, NULL), 0);
	ck_assert_int_eq(hlnl_link_get(host, "thost0", 0, &hv), 0);
	ck_assert_int_eq(hv.master, 0);
	ck_assert_uint_eq(hv.mtu, 1300);
	/* deleting the host end removes the pod end */
	ck_assert_int_eq(hlnl_link_del(host, hv.index), 0);
	ck_assert_int_eq(hlnl_link_get(pod, "eth0", 0, &pv), -ENODEV);
	hlnl_close(pod);
	hlnl_close(host);
	close(podfd);
}
END_TEST

START_TEST(test_addr_route)
{
	struct hlnl *nl = fresh();
	struct hlnl_link l;
	struct hlnl_addr a[8];
	uint8_t ip4[16] = { 0 }, ip6[16] = { 0 }, gw[16] = { 0 };
	struct hlnl_route rt = { .family = AF_INET, .has_gw = true, .mtu = -1, .advmss = -1,
				 .priority = -1, .table = -1, .scope = -1 };
	int n;

	ck_assert_int_eq(hlnl_veth_create(nl, "ta0", "tb0", -1, 0), 0);
	ck_assert_int_eq(hlnl_link_get(nl, "ta0", 0, &l), 0);
	ck_assert_int_eq(hlnl_link_set(nl, l.index, 0, 1, 0, NULL), 0);
	inet_pton(AF_INET, "10.77.0.2", ip4);
	inet_pton(AF_INET6, "fd77::2", ip6);
	inet_pton(AF_INET, "10.77.0.1", gw);
	ck_assert_int_eq(hlnl_addr_add(nl, l.index, AF_INET, ip4, 24), 0);
	ck_assert_int_eq(hlnl_addr_add(nl, l.index, AF_INET, ip4, 24), -EEXIST);
	ck_assert_int_eq(hlnl_addr_add(nl, l.index, AF_INET6, ip6, 64), 0);
	n = hlnl_addr_list(nl, l.index, AF_INET, a, 8);
	ck_assert_int_eq(n, 1);
	ck_assert_int_eq(a[0].prefix, 24);
	ck_assert(memcmp(a[0].addr, ip4, 4) == 0);
	n = hlnl_addr_list(nl, l.index, AF_UNSPEC, a, 8);
	ck_assert_int_ge(n, 2); /* v4, v6 (+ link-local once up) */
	memcpy(rt.gw, gw, 4);
	rt.oif = l.index;
	ck_assert_int_eq(hlnl_route_add(nl, &rt), 0);
	ck_assert_int_eq(hlnl_route_add(nl, &rt), -EEXIST);
	rt.prefix = 16;
	inet_pton(AF_INET, "10.99.0.0", rt.dst);
	rt.mtu = 1200;
	ck_assert_int_eq(hlnl_route_add(nl, &rt), 0);
	ck_assert_int_eq(hlnl_addr_del(nl, l.index, AF_INET, ip4, 24), 0);
	ck_assert_int_eq(hlnl_addr_list(nl, l.index, AF_INET, a, 8), 0);
	ck_assert_int_eq(hlnl_addr_del(nl, l.index, AF_INET, ip4, 24), -EADDRNOTAVAIL);
	ck_assert_int_eq(hlnl_addr_add(nl, l.index, AF_INET, ip4, 33), -EINVAL);
	hlnl_close(nl);
}
END_TEST

struct count { int n; int seen_lo; };

static int count_cb(const struct hlnl_link *l, void *arg)
{
	struct count *c = arg;

	c->n++;
	if (strcmp(l->name, "lo") == 0)
		c->seen_lo = 1;
	return 0;
}

static int stop_cb(const struct hlnl_link *l, void *arg)
{
	(void)l;
	(void)arg;
	return 42;
}

START_TEST(test_link_list)
{
	struct hlnl *nl = fresh();
	struct count c = { 0, 0 };
	char name[IF_NAMESIZE];

	/* Enough links that the dump spans several messages. */
	for (int i = 0; i < 40; i++) {
		snprintf(name, sizeof(name), "tl%d", i);
		ck_assert_int_eq(hlnl_bridge_create(nl, name, 0), 0);
	}
	ck_assert_int_eq(hlnl_link_list(nl, count_cb, &c), 0);
	ck_assert_int_eq(c.n, 41);
	ck_assert(c.seen_lo);
	ck_assert_int_eq(hlnl_link_list(nl, stop_cb, NULL), 42);
	hlnl_close(nl);
}
END_TEST

START_TEST(test_ns_errors)
{
	int fd;

	ck_assert_int_eq(hlnl_ns_open("/nonexistent/netns"), -ENOENT);
	fd = open("/proc/self/stat", O_RDONLY);
	ck_assert_int_ge(fd, 0);
	ck_assert_ptr_null(hlnl_open_ns(fd)); /* not a netns */
	ck_assert_int_eq(errno, EINVAL);
	close(fd);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("hlnl");
	TCase *tc = tcase_create("netlink");
	SRunner *sr;
	int failed;

	if (geteuid() != 0) {
		const char *tap = getenv("CK_TAP_LOG_FILE_NAME");
		FILE *f = tap ? fopen(tap, "w") : NULL;

		printf("ok 1 - test_hlnl # SKIP needs root (network namespaces)\n");
		if (f) {
			fprintf(f, "ok 1 - test_hlnl # SKIP needs root (network namespaces)\n1..1\n");
			fclose(f);
		}
		return 0;
	}
	tcase_add_test(tc, test_bridge);
	tcase_add_test(tc, test_veth_across_ns);
	tcase_add_test(tc, test_addr_route);
	tcase_add_test(tc, test_link_list);
	tcase_add_test(tc, test_ns_errors);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
