/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of the switch's pure parts: MAC table, control protocol, socket
 * path shortening, device-info JSON, OVS command construction, supervisor
 * bookkeeping. The switch's life (back-off, pid file, identity) is in
 * test_vsw_life.c. */
#include <check.h>
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vsw_client.h"
#include "vsw_mac.h"
#include "vsw_proto.h"
#include "vsw_sup.h"
#include "hl_check.h"

static const uint8_t MAC_A[6] = { 0x02, 0, 0, 0, 0, 0x0a };
static const uint8_t MAC_B[6] = { 0x02, 0, 0, 0, 0, 0x0b };
static const uint8_t BCAST[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static const uint8_t MCAST[6] = { 0x01, 0x00, 0x5e, 0, 0, 1 };

/* ---- MAC table ---------------------------------------------------------- */

START_TEST(mac_learn_lookup)
{
	struct vsw_mac_table *t = vsw_mac_create(64, 100);

	ck_assert_ptr_nonnull(t);
	ck_assert_int_eq(vsw_mac_lookup(t, MAC_A, 0), VSW_MAC_FLOOD);
	vsw_mac_learn(t, MAC_A, 3, 10);
	vsw_mac_learn(t, MAC_B, 5, 10);
	ck_assert_int_eq(vsw_mac_lookup(t, MAC_A, 20), 3);
	ck_assert_int_eq(vsw_mac_lookup(t, MAC_B, 20), 5);
	/* A station that moves is learned on its new port. */
	vsw_mac_learn(t, MAC_A, 7, 30);
	ck_assert_int_eq(vsw_mac_lookup(t, MAC_A, 31), 7);
	vsw_mac_free(t);
}
END_TEST

START_TEST(mac_aging)
{
	struct vsw_mac_table *t = vsw_mac_create(64, 100);

	vsw_mac_learn(t, MAC_A, 1, 1000);
	ck_assert_int_eq(vsw_mac_lookup(t, MAC_A, 1099), 1);
	ck_assert_int_eq(vsw_mac_lookup(t, MAC_A, 1100), VSW_MAC_FLOOD);
	/* Traffic refreshes the entry. */
	vsw_mac_learn(t, MAC_A, 1, 1090);
	ck_assert_int_eq(vsw_mac_lookup(t, MAC_A, 1150), 1);
	vsw_mac_free(t);
}
END_TEST

START_TEST(mac_flood_decisions)
{
	struct vsw_mac_table *t = vsw_mac_create(64, 100);

	vsw_mac_learn(t, MAC_A, 1, 0);
	ck_assert_int_eq(vsw_mac_lookup(t, BCAST, 1), VSW_MAC_FLOOD);
	ck_assert_int_eq(vsw_mac_lookup(t, MCAST, 1), VSW_MAC_FLOOD);
	ck_assert_int_eq(vsw_mac_lookup(t, MAC_B, 1), VSW_MAC_FLOOD);
	/* Group and zero sources are never learned. */
	vsw_mac_learn(t, BCAST, 2, 0);
	vsw_mac_learn(t, MCAST, 2, 0);
	ck_assert_int_eq(vsw_mac_lookup(t, MCAST, 1), VSW_MAC_FLOOD);
	{
		uint8_t zero[6] = { 0 };
		vsw_mac_learn(t, zero, 2, 0);
		ck_assert_int_eq(vsw_mac_lookup(t, zero, 1), VSW_MAC_FLOOD);
	}
	vsw_mac_free(t);
}
END_TEST

START_TEST(mac_flush_port)
{
	struct vsw_mac_table *t = vsw_mac_create(64, 100);

	vsw_mac_learn(t, MAC_A, 1, 0);
	vsw_mac_learn(t, MAC_B, 2, 0);
	vsw_mac_flush_port(t, 1);
	ck_assert_int_eq(vsw_mac_lookup(t, MAC_A, 1), VSW_MAC_FLOOD);
	ck_assert_int_eq(vsw_mac_lookup(t, MAC_B, 1), 2);
	vsw_mac_free(t);
}
END_TEST

static int count_cb(void *arg, uint64_t mac, int port, uint64_t seen)
{
	(void)mac; (void)port; (void)seen;
	++*(int *)arg;
	return 0;
}

START_TEST(mac_full_bucket_evicts_oldest)
{
	/* One bucket: the fifth station evicts the least recently seen. */
	struct vsw_mac_table *t = vsw_mac_create(1, 1000);
	uint8_t m[6] = { 0x02, 0, 0, 0, 0, 0 };
	int n = 0;

	for (int i = 0; i < 5; i++) {
		m[5] = (uint8_t)(i + 1);
		vsw_mac_learn(t, m, i, (uint64_t)(10 + i));
	}
	m[5] = 1;
	ck_assert_int_eq(vsw_mac_lookup(t, m, 20), VSW_MAC_FLOOD);
	for (int i = 2; i <= 5; i++) {
		m[5] = (uint8_t)i;
		ck_assert_int_eq(vsw_mac_lookup(t, m, 20), i - 1);
	}
	vsw_mac_walk(t, 20, count_cb, &n);
	ck_assert_int_eq(n, 4);
	vsw_mac_free(t);
}
END_TEST

START_TEST(mac_many_stations)
{
	struct vsw_mac_table *t = vsw_mac_create(1024, 1000);
	uint8_t m[6] = { 0x02, 0x42, 0, 0, 0, 0 };
	int found = 0;

	for (int i = 0; i < 2000; i++) {
		m[4] = (uint8_t)(i >> 8);
		m[5] = (uint8_t)i;
		vsw_mac_learn(t, m, i % 64, 1);
	}
	for (int i = 0; i < 2000; i++) {
		m[4] = (uint8_t)(i >> 8);
		m[5] = (uint8_t)i;
		int p = vsw_mac_lookup(t, m, 2);
		ck_assert(p == VSW_MAC_FLOOD || p == i % 64);
		found += p == i % 64;
	}
	/* 2000 stations in 4096 slots: nearly all must fit. */
	ck_assert_int_ge(found, 1900);
	ck_assert_ptr_null(vsw_mac_create(0, 1));
	ck_assert_int_eq(errno, EINVAL);
	vsw_mac_free(t);
}
END_TEST

/* ---- control protocol --------------------------------------------------- */

struct req_case {
	const char *line;
	int rc;
	enum vsw_op op;
	const char *name, *path;
	enum hl_vsw_mode mode;
};

static const struct req_case req_cases[] = {
	{ "ping", 0, VSW_OP_PING, "", "", 0 },
	{ "ping\n", 0, VSW_OP_PING, "", "", 0 },
	{ "  list  ", 0, VSW_OP_LIST, "", "", 0 },
	{ "macs", 0, VSW_OP_MACS, "", "", 0 },
	{ "add-port p1 /run/x.sock", 0, VSW_OP_ADD, "p1", "/run/x.sock", HL_VSW_SWITCH_CLIENT },
	{ "add-port p1 /run/x.sock server", 0, VSW_OP_ADD, "p1", "/run/x.sock", HL_VSW_SWITCH_SERVER },
	{ "add-port p1 /run/x.sock client", 0, VSW_OP_ADD, "p1", "/run/x.sock", HL_VSW_SWITCH_CLIENT },
	{ "del-port a.b-c_d", 0, VSW_OP_DEL, "a.b-c_d", "", 0 },
	{ "info", 0, VSW_OP_INFO, "", "", 0 },
	{ "info x", -EINVAL, 0, 0, 0, 0 },
	{ "", -EINVAL, 0, 0, 0, 0 },
	{ "pong", -EINVAL, 0, 0, 0, 0 },
	{ "ping extra", -EINVAL, 0, 0, 0, 0 },
	{ "add-port p1", -EINVAL, 0, 0, 0, 0 },
	{ "add-port p1 relative.sock", -EINVAL, 0, 0, 0, 0 },
	{ "add-port p1 /x.sock sideways", -EINVAL, 0, 0, 0, 0 },
	{ "add-port p/1 /x.sock", -EINVAL, 0, 0, 0, 0 },
	{ "add-port 0123456789012345678901234567890123 /x.sock", -EINVAL, 0, 0, 0, 0 },
	{ "del-port", -EINVAL, 0, 0, 0, 0 },
	{ "del-port a b", -EINVAL, 0, 0, 0, 0 },
	{ "ping\tx", -EINVAL, 0, 0, 0, 0 },
};

START_TEST(proto_requests)
{
	struct vsw_req r;
	const struct req_case *c = &req_cases[_i];
	int rc = vsw_proto_parse_req(c->line, strlen(c->line), &r);

	ck_assert_msg(rc == c->rc, "'%s': rc %d, want %d", c->line, rc, c->rc);
	if (rc)
		return;
	ck_assert_int_eq(r.op, c->op);
	ck_assert_str_eq(r.name, c->name);
	ck_assert_str_eq(r.path, c->path);
	ck_assert_int_eq(r.mode, c->mode);
}
END_TEST

START_TEST(proto_long_path_and_nul)
{
	char line[300];
	struct vsw_req r;

	/* Path of 108 bytes does not fit sun_path with its NUL. */
	memset(line, 0, sizeof(line));
	strcpy(line, "add-port p /");
	memset(line + strlen(line), 'a', 107);
	ck_assert_int_eq(vsw_proto_parse_req(line, strlen(line), &r), -EINVAL);
	/* An embedded NUL is not accepted as the end of a token. */
	ck_assert_int_eq(vsw_proto_parse_req("ping\0x", 6, &r), -EINVAL);
}
END_TEST

START_TEST(proto_format_roundtrip)
{
	struct vsw_req in = { .op = VSW_OP_ADD, .mode = HL_VSW_SWITCH_SERVER }, out;
	char buf[VSW_LINE_MAX];
	int n;

	strcpy(in.name, "pod1");
	strcpy(in.path, "/run/hostlane/pods/ns_a/net1.sock");
	n = vsw_proto_format_req(&in, buf, sizeof(buf));
	ck_assert_int_gt(n, 0);
	ck_assert_int_eq(buf[n - 1], '\n');
	ck_assert_int_eq(vsw_proto_parse_req(buf, (size_t)n, &out), 0);
	ck_assert_int_eq(out.op, VSW_OP_ADD);
	ck_assert_str_eq(out.name, in.name);
	ck_assert_str_eq(out.path, in.path);
	ck_assert_int_eq(out.mode, HL_VSW_SWITCH_SERVER);
	ck_assert_int_eq(vsw_proto_format_req(&in, buf, 10), -ENOBUFS);
	strcpy(in.name, "bad name");
	ck_assert_int_eq(vsw_proto_format_req(&in, buf, sizeof(buf)), -EINVAL);
}
END_TEST

START_TEST(proto_replies)
{
	struct hl_vsw_port_stats p = { .mode = HL_VSW_SWITCH_CLIENT, .up = 1,
				       .rx_packets = 1, .rx_bytes = 2,
				       .tx_packets = 3, .tx_bytes = 4,
				       .rx_drops = 5, .tx_drops = 18446744073709551615ULL };
	struct hl_vsw_port_stats q;
	struct hl_vsw_mac m = { .addr = { 2, 0, 0, 0xab, 0xcd, 0xef }, .age_ms = 42 }, m2;
	char buf[VSW_LINE_MAX];
	int n, err;

	strcpy(p.name, "pa");
	strcpy(p.path, "/tmp/a.sock");
	n = vsw_proto_format_port(&p, buf, sizeof(buf));
	ck_assert_int_gt(n, 0);
	ck_assert_int_eq(vsw_proto_parse_status(buf, (size_t)n, &err), 0);
	ck_assert_int_eq(vsw_proto_parse_port(buf, (size_t)n, &q), 0);
	ck_assert_mem_eq(&p, &q, sizeof(p));

	strcpy(m.port, "pa");
	n = vsw_proto_format_mac(&m, buf, sizeof(buf));
	ck_assert_int_eq(vsw_proto_parse_mac(buf, (size_t)n, &m2), 0);
	ck_assert_mem_eq(&m, &m2, sizeof(m));

	ck_assert_int_eq(vsw_proto_parse_status("ok", 2, &err), 1);
	ck_assert_int_eq(err, 0);
	ck_assert_int_eq(vsw_proto_parse_status("err 17 File exists", 18, &err), 1);
	ck_assert_int_eq(err, -EEXIST);
	ck_assert_int_eq(vsw_proto_parse_status("err", 3, &err), -EPROTO);
	ck_assert_int_eq(vsw_proto_parse_status("err -3 x", 8, &err), -EPROTO);
	ck_assert_int_eq(vsw_proto_parse_status("err 99999 x", 11, &err), -EPROTO);
	ck_assert_int_eq(vsw_proto_parse_port("port rx_packets=1", 17, &q), -EPROTO);
	ck_assert_int_eq(vsw_proto_parse_port("port name=a rx_packets=x", 24, &q), -EPROTO);
	ck_assert_int_eq(vsw_proto_parse_port("port name=a state=sideways", 26, &q), -EPROTO);
	ck_assert_int_eq(vsw_proto_parse_mac("mac 02:00:00:00:00 port=a", 25, &m2), -EPROTO);
	ck_assert_int_eq(vsw_proto_parse_mac("mac 02:00:00:00:00:0g port=a", 28, &m2), -EPROTO);
}
END_TEST

START_TEST(proto_info)
{
	struct hl_vsw_info in = { .pid = 4242, .start_time = 18446744073709551615ULL }, out;
	char buf[VSW_LINE_MAX];
	int n, err;

	strcpy(in.ctl, "/run/hostlane/vswitch.sock");
	n = vsw_proto_format_info(&in, buf, sizeof(buf));
	ck_assert_int_gt(n, 0);
	ck_assert_str_eq(buf, "info pid=4242 start=18446744073709551615 ctl=/run/hostlane/vswitch.sock\n");
	ck_assert_int_eq(vsw_proto_parse_status(buf, (size_t)n, &err), 0);
	ck_assert_int_eq(vsw_proto_parse_info(buf, (size_t)n, &out), 0);
	ck_assert_mem_eq(&in, &out, sizeof(in));  /* peer_pid 0 on both sides */
	ck_assert_int_eq(vsw_proto_parse_info("info start=1 ctl=/x", 19, &out), -EPROTO);
	ck_assert_int_eq(vsw_proto_parse_info("info pid=0 ctl=/x", 17, &out), -EPROTO);
	ck_assert_int_eq(vsw_proto_parse_info("info pid=2147483648 ctl=/x", 26, &out), -EPROTO);
	ck_assert_int_eq(vsw_proto_parse_info("info pid=7 start=-1 ctl=/x", 26, &out), -EPROTO);
	ck_assert_int_eq(vsw_proto_parse_info("info pid=7 start=1", 18, &out), -EPROTO);
	ck_assert_int_eq(vsw_proto_parse_info("port pid=7 ctl=/x", 17, &out), -EPROTO);
	ck_assert_int_eq(vsw_proto_parse_info("info pid=7 ctl=/x new=1", 23, &out), 0);
	ck_assert_int_eq(vsw_proto_parse_info("info pid=7 ctl=/xy ctl=/x", 25, &out), -EPROTO);
	ck_assert_int_eq(vsw_proto_parse_info("info pid=7 pid=8 ctl=/x", 23, &out), -EPROTO);
	in.pid = 0;
	ck_assert_int_eq(vsw_proto_format_info(&in, buf, sizeof(buf)), -EINVAL);
}
END_TEST

/* ---- naming ------------------------------------------------------------- */

START_TEST(path_short_names_kept)
{
	char p[HL_VSW_PATH_MAX], d[HL_VSW_PATH_MAX];

	ck_assert_int_eq(hl_vsw_sock_path(p, sizeof(p), NULL, "default", "web-1", "net1"), 0);
	ck_assert_str_eq(p, "/run/hostlane/pods/default_web-1/net1.sock");
	ck_assert_int_eq(hl_vsw_pod_dir(d, sizeof(d), "/tmp/x", "ns", "pod"), 0);
	ck_assert_str_eq(d, "/tmp/x/ns_pod");
}
END_TEST

START_TEST(path_long_names_shortened)
{
	char ns[64], name[254], name2[254];
	char p1[HL_VSW_PATH_MAX], p2[HL_VSW_PATH_MAX], p3[HL_VSW_PATH_MAX];
	char d1[HL_VSW_PATH_MAX];

	memset(ns, 'n', 63); ns[63] = 0;           /* k8s namespace max */
	memset(name, 'p', 253); name[253] = 0;     /* k8s pod name max */
	strcpy(name2, name);
	name2[252] = 'q';                          /* differs only at the end */
	ck_assert_int_eq(hl_vsw_sock_path(p1, sizeof(p1), NULL, ns, name, "net1xxxxxxxxxxx"), 0);
	ck_assert_int_lt(strlen(p1), HL_VSW_PATH_MAX);
	ck_assert_int_eq(hl_vsw_sock_path(p2, sizeof(p2), NULL, ns, name2, "net1xxxxxxxxxxx"), 0);
	ck_assert_str_ne(p1, p2);                  /* the hash tells them apart */
	ck_assert_int_eq(hl_vsw_sock_path(p3, sizeof(p3), NULL, ns, name, "net1xxxxxxxxxxx"), 0);
	ck_assert_str_eq(p1, p3);                  /* deterministic */
	ck_assert_int_eq(strncmp(p1, "/run/hostlane/pods/nnnn", 23), 0);
	/* Same directory for every interface of the pod. */
	ck_assert_int_eq(hl_vsw_pod_dir(d1, sizeof(d1), NULL, ns, name), 0);
	ck_assert_int_eq(strncmp(p1, d1, strlen(d1)), 0);
	ck_assert_int_eq(p1[strlen(d1)], '/');
}
END_TEST

START_TEST(path_errors)
{
	char p[HL_VSW_PATH_MAX], base[100];

	ck_assert_int_eq(hl_vsw_sock_path(p, sizeof(p), NULL, "", "a", "n"), -EINVAL);
	ck_assert_int_eq(hl_vsw_sock_path(p, sizeof(p), NULL, "a/b", "a", "n"), -EINVAL);
	ck_assert_int_eq(hl_vsw_sock_path(p, sizeof(p), NULL, "..", "a", "n"), -EINVAL);
	ck_assert_int_eq(hl_vsw_sock_path(p, sizeof(p), NULL, "a", "b", "0123456789abcdef"), -EINVAL);
	ck_assert_int_eq(hl_vsw_sock_path(p, sizeof(p), "rel", "a", "b", "n"), -EINVAL);
	memset(base, 'b', 99); base[0] = '/'; base[99] = 0;
	ck_assert_int_eq(hl_vsw_sock_path(p, sizeof(p), base, "a", "b", "n"), -ENAMETOOLONG);
	ck_assert_int_eq(hl_vsw_sock_path(p, 10, NULL, "a", "b", "n"), -ENAMETOOLONG);
}
END_TEST

START_TEST(port_names)
{
	char a[HL_VSW_NAME_MAX], b[HL_VSW_NAME_MAX], c[HL_VSW_NAME_MAX];

	ck_assert_int_eq(hl_vsw_port_name(a, sizeof(a), "ns", "pod", "net1"), 0);
	ck_assert_int_eq(hl_vsw_port_name(b, sizeof(b), "ns", "pod", "net2"), 0);
	ck_assert_int_eq(hl_vsw_port_name(c, sizeof(c), "nsp", "od", "net1"), 0);
	ck_assert_int_eq(strlen(a), 17);
	ck_assert_str_ne(a, b);
	ck_assert_str_ne(a, c);
	ck_assert(vsw_name_ok(a));
	ck_assert_int_eq(hl_vsw_port_name(a, 17, "ns", "pod", "net1"), -ENAMETOOLONG);
}
END_TEST

START_TEST(devinfo_json)
{
	char *s = hl_vsw_devinfo_json("/run/hostlane/pods/ns_p/net1.sock", HL_VSW_SWITCH_CLIENT);
	cJSON *j, *vu;

	ck_assert_ptr_nonnull(s);
	j = cJSON_Parse(s);
	ck_assert_ptr_nonnull(j);
	ck_assert_str_eq(cJSON_GetObjectItem(j, "type")->valuestring, "vhost-user");
	ck_assert_str_eq(cJSON_GetObjectItem(j, "version")->valuestring, "1.1.0");
	vu = cJSON_GetObjectItem(j, "vhost-user");
	ck_assert_ptr_nonnull(vu);
	/* Switch connects as client => the pod is the socket's server. */
	ck_assert_str_eq(cJSON_GetObjectItem(vu, "mode")->valuestring, "server");
	ck_assert_str_eq(cJSON_GetObjectItem(vu, "path")->valuestring,
			 "/run/hostlane/pods/ns_p/net1.sock");
	cJSON_Delete(j);
	free(s);
	s = hl_vsw_devinfo_json("/a\"b", HL_VSW_SWITCH_SERVER);
	j = cJSON_Parse(s);
	ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "vhost-user"), "mode")->valuestring, "client");
	ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "vhost-user"), "path")->valuestring, "/a\"b");
	cJSON_Delete(j);
	free(s);
	ck_assert_ptr_null(hl_vsw_devinfo_json(NULL, HL_VSW_SWITCH_CLIENT));
	ck_assert_int_eq(errno, EINVAL);
}
END_TEST

START_TEST(ovs_commands)
{
	char *argv[16], buf[512];
	const char *want_add[] = { "ovs-vsctl", "--timeout=5", "add-port", "br0", "p1",
				   "--", "set", "Interface", "p1",
				   "type=dpdkvhostuserclient",
				   "options:vhost-server-path=/run/x/net1.sock", NULL };
	const char *want_del[] = { "ovs-vsctl", "--timeout=5", "--if-exists", "del-port",
				   "br0", "p1", NULL };

	ck_assert_int_eq(hl_vsw_ovs_argv(argv, 16, buf, sizeof(buf), 1, "br0", "p1",
					 "/run/x/net1.sock"), 0);
	for (int i = 0; want_add[i]; i++)
		ck_assert_str_eq(argv[i], want_add[i]);
	ck_assert_ptr_null(argv[11]);
	ck_assert_int_eq(hl_vsw_ovs_argv(argv, 16, buf, sizeof(buf), 0, "br0", "p1", NULL), 0);
	for (int i = 0; want_del[i]; i++)
		ck_assert_str_eq(argv[i], want_del[i]);
	ck_assert_ptr_null(argv[6]);
	/* Nothing that ovs-vsctl could read as an option or a second command. */
	ck_assert_int_eq(hl_vsw_ovs_argv(argv, 16, buf, sizeof(buf), 1, "br0", "--x", "/s"), -EINVAL);
	ck_assert_int_eq(hl_vsw_ovs_argv(argv, 16, buf, sizeof(buf), 1, "br0", "a b", "/s"), -EINVAL);
	ck_assert_int_eq(hl_vsw_ovs_argv(argv, 16, buf, sizeof(buf), 1, "br0", "p1", "rel"), -EINVAL);
	ck_assert_int_eq(hl_vsw_ovs_argv(argv, 16, buf, 20, 1, "br0", "p1", "/s"), -ENOBUFS);
	ck_assert_int_eq(hl_vsw_ovs_argv(argv, 5, buf, sizeof(buf), 1, "br0", "p1", "/s"), -ENOBUFS);
}
END_TEST

START_TEST(client_errors)
{
	ck_assert_ptr_null(hl_vsw_client_open("/nonexistent/hostlane-vsw.sock", 100));
	ck_assert_int_eq(errno, ENOENT);
	ck_assert_int_eq(hl_vsw_ping(NULL), -EINVAL);
	ck_assert_int_eq(hl_vsw_get_info(NULL, NULL), -EINVAL);
	ck_assert_ptr_null(hl_vsw_sup_new(NULL));
	ck_assert_int_eq(errno, EINVAL);
	{
		char *args[] = { "/bin/true", NULL };
		struct hl_vsw_sup_opts o = { .argv = args, .ctl_path = "/nonexistent/x.sock" };
		struct hl_vsw_sup *s;

		o.pidfile = "/nonexistent/x.pid";
		s = hl_vsw_sup_new(&o);
		ck_assert_ptr_nonnull(s);
		ck_assert_int_eq(hl_vsw_sup_next_ms(s), -1);
		ck_assert_int_eq(hl_vsw_sup_add_port(s, "p1", "/tmp/x.sock", HL_VSW_SWITCH_CLIENT), 0);
		ck_assert_int_eq(hl_vsw_sup_add_port(s, "p1", "/tmp/x.sock", HL_VSW_SWITCH_CLIENT), 0);
		ck_assert_int_eq(hl_vsw_sup_add_port(s, "p1", "/tmp/y.sock", HL_VSW_SWITCH_CLIENT), -EEXIST);
		ck_assert_int_eq(hl_vsw_sup_add_port(s, "p1", "/tmp/x.sock", HL_VSW_SWITCH_SERVER), -EEXIST);
		ck_assert_int_eq(hl_vsw_sup_add_port(s, "p2", "/tmp/x.sock", HL_VSW_SWITCH_CLIENT), -EEXIST);
		ck_assert_int_eq(hl_vsw_sup_add_port(s, "p2", "/tmp/x.sock", 7), -EINVAL);
		ck_assert_int_eq(hl_vsw_sup_reconcile(s, NULL, NULL), -ESRCH);
		ck_assert_int_eq(hl_vsw_sup_del_port(s, "p1"), 0);
		ck_assert_int_eq(hl_vsw_sup_del_port(s, "p1"), -ENOENT);
		hl_vsw_sup_free(s);
	}
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("vsw");
	TCase *t = tcase_create("mac");

	tcase_add_test(t, mac_learn_lookup);
	tcase_add_test(t, mac_aging);
	tcase_add_test(t, mac_flood_decisions);
	tcase_add_test(t, mac_flush_port);
	tcase_add_test(t, mac_full_bucket_evicts_oldest);
	tcase_add_test(t, mac_many_stations);
	suite_add_tcase(s, t);
	t = tcase_create("proto");
	tcase_add_loop_test(t, proto_requests, 0,
			    (int)(sizeof(req_cases) / sizeof(req_cases[0])));
	tcase_add_test(t, proto_long_path_and_nul);
	tcase_add_test(t, proto_format_roundtrip);
	tcase_add_test(t, proto_replies);
	tcase_add_test(t, proto_info);
	suite_add_tcase(s, t);
	t = tcase_create("names");
	tcase_add_test(t, path_short_names_kept);
	tcase_add_test(t, path_long_names_shortened);
	tcase_add_test(t, path_errors);
	tcase_add_test(t, port_names);
	tcase_add_test(t, devinfo_json);
	tcase_add_test(t, ovs_commands);
	tcase_add_test(t, client_errors);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	return hl_check_run(suite());
}
