/* SPDX-License-Identifier: Apache-2.0 */
/* libhlnl against the real kernel. Check forks every test, and each test
 * unshares fresh network namespaces, so nothing outlives the test process
 * and nothing touches the host's links. */
#include "hl_check.h"
#include "hlnl.h"

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <linux/if_ether.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
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

START_TEST(test_link_modify)
{
	struct hlnl *nl = fresh();
	struct hlnl_link_mod m = HLNL_LINK_MOD_INIT;
	const uint8_t mac[6] = { 0x02, 0x68, 0x6c, 0, 0, 7 }, mcast[6] = { 0x01, 0, 0x5e, 0, 0, 1 };
	struct hlnl_link l, before;

	ck_assert_int_eq(hlnl_veth_create(nl, "tm0", "tm1", -1, 0), 0);
	ck_assert_int_eq(hlnl_link_get(nl, "tm0", 0, &before), 0);
	/* nothing asked: nothing changes */
	ck_assert_int_eq(hlnl_link_modify(nl, before.index, &m), 0);
	ck_assert_int_eq(hlnl_link_get(nl, NULL, before.index, &l), 0);
	ck_assert_str_eq(l.name, "tm0");
	ck_assert_uint_eq(l.mtu, before.mtu);
	ck_assert_mem_eq(l.mac, before.mac, 6);
	/* name, MAC, MTU and up in one request */
	m.name = "tren0";
	m.mac = mac;
	m.mtu = 1400;
	m.up = 1;
	ck_assert_int_eq(hlnl_link_modify(nl, before.index, &m), 0);
	ck_assert_int_eq(hlnl_link_get(nl, "tm0", 0, &l), -ENODEV);
	ck_assert_int_eq(hlnl_link_get(nl, NULL, before.index, &l), 0);
	ck_assert_str_eq(l.name, "tren0");
	ck_assert_mem_eq(l.mac, mac, 6);
	ck_assert_uint_eq(l.mtu, 1400);
	ck_assert(l.flags & IFF_UP);
	/* the kernel's refusals come back as its errno */
	m = (struct hlnl_link_mod)HLNL_LINK_MOD_INIT;
	m.name = "tm1";
	ck_assert_int_eq(hlnl_link_modify(nl, before.index, &m), -EEXIST);
	m.name = NULL;
	m.mac = mcast;
	ck_assert_int_eq(hlnl_link_modify(nl, before.index, &m), -EADDRNOTAVAIL);
	m.mac = NULL;
	ck_assert_int_eq(hlnl_link_modify(nl, 999999, &m), -ENODEV);
	/* and what is refused before sending */
	m.name = "a-name-much-too-long";
	ck_assert_int_eq(hlnl_link_modify(nl, before.index, &m), -EINVAL);
	m.name = "";
	ck_assert_int_eq(hlnl_link_modify(nl, before.index, &m), -EINVAL);
	m.name = NULL;
	ck_assert_int_eq(hlnl_link_modify(nl, 0, &m), -EINVAL);
	ck_assert_int_eq(hlnl_link_get(nl, NULL, before.index, &l), 0);
	ck_assert_str_eq(l.name, "tren0"); /* untouched by the refused ones */
	ck_assert_mem_eq(l.mac, mac, 6);
	hlnl_close(nl);
}
END_TEST

START_TEST(test_link_move)
{
	struct hlnl *host, *pod;
	struct hlnl_link_mod m = HLNL_LINK_MOD_INIT;
	struct hlnl_link l;
	int podfd, hostfd;

	hlnl_close(fresh());
	podfd = self_ns();
	host = fresh();
	hostfd = self_ns();
	pod = hlnl_open_ns(podfd);
	ck_assert_ptr_nonnull(pod);
	ck_assert_int_eq(hlnl_veth_create(host, "tmv0", "tmv0p", -1, 0), 0);
	ck_assert_int_eq(hlnl_link_get(host, "tmv0", 0, &l), 0);
	/* into the pod, renamed on the way */
	m.nsfd = podfd;
	m.name = "eth5";
	ck_assert_int_eq(hlnl_link_modify(host, l.index, &m), 0);
	ck_assert_int_eq(hlnl_link_get(host, "tmv0", 0, &l), -ENODEV);
	ck_assert_int_eq(hlnl_link_get(host, "eth5", 0, &l), -ENODEV);
	ck_assert_int_eq(hlnl_link_get(pod, "eth5", 0, &l), 0);
	ck_assert_str_eq(l.kind, "veth");
	/* back is refused while its name is taken in the host */
	ck_assert_int_eq(hlnl_bridge_create(host, "eth5", 0), 0);
	m = (struct hlnl_link_mod)HLNL_LINK_MOD_INIT;
	m.nsfd = hostfd;
	ck_assert_int_eq(hlnl_link_modify(pod, l.index, &m), -EEXIST);
	ck_assert_int_eq(hlnl_link_get(pod, "eth5", 0, &l), 0); /* still in the pod */
	m.name = "tmv0";
	ck_assert_int_eq(hlnl_link_modify(pod, l.index, &m), 0);
	ck_assert_int_eq(hlnl_link_get(pod, "eth5", 0, &l), -ENODEV);
	ck_assert_int_eq(hlnl_link_get(host, "tmv0", 0, &l), 0);
	hlnl_close(pod);
	hlnl_close(host);
	close(podfd);
	close(hostfd);
}
END_TEST

START_TEST(test_vf_not_a_pf)
{
	struct hlnl *nl = fresh();
	struct hlnl_vf v = { .vf = 0 }, got;
	static const unsigned int groups[] = { HLNL_VF_MAC, HLNL_VF_VLAN, HLNL_VF_SPOOFCHK,
					       HLNL_VF_TRUST, HLNL_VF_LINK_STATE, HLNL_VF_RATE };
	struct hlnl_link l;

	ck_assert_int_eq(hlnl_veth_create(nl, "tpf0", "tpf1", -1, 0), 0);
	ck_assert_int_eq(hlnl_link_get(nl, "tpf0", 0, &l), 0);
	/* the kernel answers the VF read, without a VF list for a veth */
	ck_assert_int_eq(hlnl_vf_get(nl, l.index, 0, &got), -ENOENT);
	ck_assert_int_eq(hlnl_vf_get(nl, 1, 0, &got), -ENOENT); /* lo */
	ck_assert_int_eq(hlnl_vf_get(nl, 999999, 0, &got), -ENODEV);
	ck_assert_int_eq(hlnl_vf_get(nl, 0, 0, &got), -EINVAL);
	/* each setting passes the kernel's checks of the request and reaches
	 * the driver, which has no VF operation (malformed would be -ERANGE or
	 * -EINVAL) */
	for (size_t i = 0; i < sizeof(groups) / sizeof(groups[0]); i++) {
		v = (struct hlnl_vf){ .vf = 2, .has = groups[i], .mac = { 2, 0, 0, 0, 0, 1 },
				      .vlan = 10, .proto = ETH_P_8021Q, .max_tx_rate = 100 };
		VERIFY(hlnl_vf_set(nl, l.index, &v) == -EOPNOTSUPP, "group %#x", groups[i]);
	}
	v = (struct hlnl_vf){ .vf = 2, .has = HLNL_VF_VLAN, .vlan = 10, .proto = ETH_P_8021AD };
	ck_assert_int_eq(hlnl_vf_set(nl, l.index, &v), -EOPNOTSUPP);
	v.has = HLNL_VF_ALL;
	ck_assert_int_eq(hlnl_vf_set(nl, l.index, &v), -EOPNOTSUPP);
	ck_assert_int_eq(hlnl_vf_set(nl, 999999, &v), -ENODEV);
	v.vlan = 4096;
	ck_assert_int_eq(hlnl_vf_set(nl, l.index, &v), -EINVAL);
	/* the handle is still in step after all those errors */
	ck_assert_int_eq(hlnl_link_get(nl, "tpf1", 0, &l), 0);
	hlnl_close(nl);
}
END_TEST

/* Adds alternative names of 127 characters to link @index with
 * RTM_NEWLINKPROP (hlnl has no call for it: only this test needs one) until
 * the kernel refuses more: their list must stay below 64 KiB. Returns how
 * many it took. */
static int add_altnames(int index)
{
	struct mnl_socket *s = mnl_socket_open(NETLINK_ROUTE);
	char *buf = malloc(1 << 16), name[128];
	int n = 0, k, rc = MNL_CB_STOP;

	ck_assert_ptr_nonnull(s);
	ck_assert_ptr_nonnull(buf);
	ck_assert_int_eq(mnl_socket_bind(s, 0, MNL_SOCKET_AUTOPID), 0);
	while (rc == MNL_CB_STOP && n < 1000) {
		struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
		struct ifinfomsg *ifi;
		struct nlattr *list;
		ssize_t r;

		nlh->nlmsg_type = RTM_NEWLINKPROP;
		nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL;
		ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
		ifi->ifi_index = index;
		list = mnl_attr_nest_start(nlh, IFLA_PROP_LIST);
		k = snprintf(name, sizeof(name), "a%d", n);
		memset(name + k, 'x', sizeof(name) - 1 - (size_t)k);
		name[sizeof(name) - 1] = '\0';
		mnl_attr_put_strz(nlh, IFLA_ALT_IFNAME, name);
		mnl_attr_nest_end(nlh, list);
		ck_assert_int_gt(mnl_socket_sendto(s, nlh, nlh->nlmsg_len), 0);
		r = mnl_socket_recvfrom(s, buf, 1 << 16);
		ck_assert_int_gt(r, 0);
		rc = mnl_cb_run(buf, (size_t)r, 0, 0, NULL, NULL);
		if (rc == MNL_CB_STOP)
			n++;
		else
			VERIFY(errno == EINVAL, "altname %d: %s", n, strerror(errno));
	}
	free(buf);
	mnl_socket_close(s);
	return n;
}

/* A reply above the handle's 64 KiB buffer, as a PF with many VFs sends:
 * a bridge's RTM_NEWLINK is ~1.9 KB, and each alternative name of 127
 * characters adds 132 bytes, so 490 or more make it larger than 64 KiB. */
START_TEST(test_big_reply)
{
	struct hlnl *nl = fresh();
	struct hlnl_link l;
	int idx, n;

	ck_assert_int_eq(hlnl_bridge_create(nl, "tbig0", 0), 0);
	ck_assert_int_eq(hlnl_link_get(nl, "tbig0", 0, &l), 0);
	idx = l.index;
	n = add_altnames(idx);
	VERIFY(n >= 490, "only %d alternative names", n);
	memset(&l, 0, sizeof(l));
	ck_assert_int_eq(hlnl_link_get(nl, NULL, idx, &l), 0);
	ck_assert_str_eq(l.name, "tbig0");
	ck_assert_str_eq(l.kind, "bridge");
	ck_assert_int_eq(hlnl_link_get(nl, "tbig0", 0, &l), 0); /* and again */
	hlnl_close(nl);
}
END_TEST

/* A dump the caller stopped early leaves the handle usable. */
START_TEST(test_list_stop_then_reuse)
{
	struct hlnl *nl = fresh();
	struct hlnl_link l;
	char name[IF_NAMESIZE];

	for (int i = 0; i < 60; i++) {
		snprintf(name, sizeof(name), "ts%d", i);
		ck_assert_int_eq(hlnl_bridge_create(nl, name, 0), 0);
	}
	ck_assert_int_eq(hlnl_link_list(nl, stop_cb, NULL), 42);
	ck_assert_int_eq(hlnl_link_get(nl, "ts59", 0, &l), 0);
	ck_assert_str_eq(l.name, "ts59");
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
	tcase_add_test(tc, test_link_modify);
	tcase_add_test(tc, test_link_move);
	tcase_add_test(tc, test_vf_not_a_pf);
	tcase_add_test(tc, test_big_reply);
	tcase_add_test(tc, test_list_stop_then_reuse);
	suite_add_tcase(s, tc);
	return hl_check_run(s);
}
