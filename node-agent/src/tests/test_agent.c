/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of hostlaned's pure parts: config, requests, state files,
 * fast-path selection, quantities. */
#include "agent.h"

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "hl_check.h"

/* ---- quantities (table-driven) ---- */

static const struct { const char *in; int rc; uint64_t want; } qcases[] = {
	{ "2097152", 0, 2097152 }, { "64Mi", 0, 64ull << 20 }, { "1Gi", 0, 1ull << 30 },
	{ "512Ki", 0, 512ull << 10 }, { "2Ti", 0, 2ull << 40 }, { "100M", 0, 100000000 },
	{ "1G", 0, 1000000000 }, { "3k", 0, 3000 }, { "0", 0, 0 },
	{ "", -EINVAL, 0 }, { "Mi", -EINVAL, 0 }, { "64MB", -EINVAL, 0 }, { "-1", -EINVAL, 0 },
	{ "1.5Gi", -EINVAL, 0 }, { " 64Mi", -EINVAL, 0 }, { "64Mi ", -EINVAL, 0 },
	{ "99999999999999999999", -ERANGE, 0 }, { "20000000Ti", -ERANGE, 0 },
};

START_TEST(test_quantity)
{
	uint64_t v = 12345;
	int rc = hl_quantity_parse(qcases[_i].in, &v);

	ck_assert_msg(rc == qcases[_i].rc, "%s: rc %d want %d", qcases[_i].in, rc, qcases[_i].rc);
	if (rc == 0)
		ck_assert_msg(v == qcases[_i].want, "%s: %llu", qcases[_i].in, (unsigned long long)v);
}
END_TEST

/* ---- fast-path selection ---- */

static const struct {
	const char *ann, *args, *conf;
	enum hl_fastpath def;
	int rc;
	enum hl_fastpath want;
	enum hl_fp_source src;
} scases[] = {
	{ NULL, NULL, NULL, HL_FP_NONE, 0, HL_FP_NONE, HL_SRC_DEFAULT },
	{ "", "", "", HL_FP_SHM, 0, HL_FP_SHM, HL_SRC_DEFAULT },
	{ NULL, NULL, "shm", HL_FP_NONE, 0, HL_FP_SHM, HL_SRC_CONFIG },
	{ NULL, "none", "shm", HL_FP_NONE, 0, HL_FP_NONE, HL_SRC_CNI_ARGS },
	{ "vf", "none", "shm", HL_FP_NONE, 0, HL_FP_VF, HL_SRC_ANNOTATION },
	{ "shm", "bogus", "bogus", HL_FP_NONE, 0, HL_FP_SHM, HL_SRC_ANNOTATION },
	{ NULL, "vhost-user", NULL, HL_FP_NONE, 0, HL_FP_VHOST_USER, HL_SRC_CNI_ARGS },
	{ "fast!", "shm", NULL, HL_FP_NONE, -EINVAL, HL_FP_NONE, HL_SRC_ANNOTATION },
	{ NULL, "SHM", NULL, HL_FP_NONE, -EINVAL, HL_FP_NONE, HL_SRC_CNI_ARGS },
	{ NULL, NULL, "dpdk", HL_FP_NONE, -EINVAL, HL_FP_NONE, HL_SRC_CONFIG },
};

START_TEST(test_select)
{
	enum hl_fastpath fp = HL_FP_COUNT;
	enum hl_fp_source src = HL_SRC_DEFAULT;
	char bad[64] = "";
	int rc = hl_fastpath_select(scases[_i].ann, scases[_i].args, scases[_i].conf, scases[_i].def,
				    &fp, &src, bad, sizeof(bad));

	ck_assert_int_eq(rc, scases[_i].rc);
	ck_assert_int_eq(src, scases[_i].src);
	if (rc == 0)
		ck_assert_int_eq(fp, scases[_i].want);
	else
		ck_assert_msg(strlen(bad) > 0, "the unknown value is named");
}
END_TEST

/* ---- config ---- */

START_TEST(test_config_ok)
{
	struct hl_config c;
	char err[256] = "";
	const char *js = "{\"nodeName\":\"n7\",\"socket\":\"/tmp/x.sock\",\"fastpath\":\"shm\","
			 "\"logFormat\":\"json\",\"logLevel\":\"debug\",\"workers\":3,"
			 "\"hugepages\":{\"pool\":\"1Gi\",\"defaultQuota\":\"32Mi\",\"overcommit\":3},"
			 "\"metricsAddr\":\"127.0.0.1:9999\",\"k8sTimeoutMs\":500,"
			 "\"unknownPolicies\":\"ignore\",\"unknownPoliciesCheckSeconds\":5}";

	hl_config_defaults(&c);
	ck_assert_int_eq(c.default_quota, 64ull << 20);
	ck_assert_uint_eq(c.overcommit, HL_OVERCOMMIT_DEFAULT);
	ck_assert_str_eq(c.socket, HLAGENT_DEFAULT_SOCKET);
	ck_assert(!c.unknown_policies_ignore);
	ck_assert_int_eq(c.unknown_policies_check_s, 30);
	ck_assert_int_eq(hl_config_parse_json(&c, js, strlen(js), err, sizeof(err)), 0);
	ck_assert(c.unknown_policies_ignore);
	ck_assert_int_eq(c.unknown_policies_check_s, 5);
	ck_assert_str_eq(c.node_name, "n7");
	ck_assert_str_eq(c.socket, "/tmp/x.sock");
	ck_assert_int_eq(c.fastpath, HL_FP_SHM);
	ck_assert_int_eq(c.log_format, HL_LOG_JSON);
	ck_assert_int_eq(c.log_level, HL_LOG_DEBUG);
	ck_assert_uint_eq(c.workers, 3);
	ck_assert_uint_eq(c.pool_bytes, 1ull << 30);
	ck_assert_uint_eq(c.default_quota, 32ull << 20);
	ck_assert_uint_eq(c.overcommit, 3);
	ck_assert_str_eq(c.metrics_addr, "127.0.0.1:9999");
	ck_assert_int_eq(c.k8s_timeout_ms, 500);
	ck_assert_str_eq(c.cp_backend, "software");  /* the default */
	js = "{\"controlPlane\":{\"backend\":\"fpga\",\"device\":\"model:/tmp/m.sock\"}}";
	ck_assert_int_eq(hl_config_parse_json(&c, js, strlen(js), err, sizeof(err)), 0);
	ck_assert_str_eq(c.cp_backend, "fpga");
	ck_assert_str_eq(c.cp_device, "model:/tmp/m.sock");
	js = "{\"controlPlane\":{\"backend\":\"software\"}}";
	ck_assert_int_eq(hl_config_parse_json(&c, js, strlen(js), err, sizeof(err)), 0);
	ck_assert_str_eq(c.cp_backend, "software");
	ck_assert_str_eq(c.cp_device, "");
}
END_TEST

static const struct { const char *js; const char *needle; } bad_configs[] = {
	{ "[]", "not a JSON object" },
	{ "{\"fastpath\":\"turbo\"}", "turbo" },
	{ "{\"workers\":0}", "workers" },
	{ "{\"workers\":2.5}", "workers" },
	{ "{\"hugepages\":{\"defaultQuota\":\"lots\"}}", "lots" },
	{ "{\"hugepages\":{\"size\":\"1Gi\"}}", "size" },
	{ "{\"hugepages\":7}", "hugepages" },
	{ "{\"hugepages\":{\"overcommit\":0}}", "overcommit" },
	{ "{\"hugepages\":{\"overcommit\":2.5}}", "overcommit" },
	{ "{\"hugepages\":{\"overcommit\":\"8\"}}", "overcommit" },
	{ "{\"logFormat\":\"xml\"}", "xml" },
	{ "{\"socket\":5}", "socket" },
	{ "{\"nosuchkey\":\"x\"}", "nosuchkey" },
	{ "{\"unknownPolicies\":\"standard\"}", "standard" },
	{ "{\"unknownPoliciesCheckSeconds\":0}", "unknownPoliciesCheckSeconds" },
	{ "{\"controlPlane\":{\"backend\":\"fpga\"}}", "needs a device" },
	{ "{\"controlPlane\":{\"backend\":\"asic\"}}", "asic" },
	{ "{\"controlPlane\":{\"device\":\"model:/x\"}}", "controlPlane.device" },
	{ "{\"controlPlane\":{\"engine\":\"x\"}}", "controlPlane.engine" },
	{ "{\"controlPlane\":\"software\"}", "controlPlane" },
};

START_TEST(test_config_bad)
{
	struct hl_config c;
	char err[256] = "";

	hl_config_defaults(&c);
	ck_assert_int_eq(hl_config_parse_json(&c, bad_configs[_i].js, strlen(bad_configs[_i].js), err,
					      sizeof(err)), -EINVAL);
	ck_assert_msg(strstr(err, bad_configs[_i].needle), "error '%s' names '%s'", err, bad_configs[_i].needle);
}
END_TEST

START_TEST(test_config_flags_over_file)
{
	char path[] = "/tmp/hl-test-config-XXXXXX", err[256] = "";
	const char *js = "{\"nodeName\":\"fromfile\",\"stateDir\":\"/tmp/sf\",\"fastpath\":\"shm\"}";
	int fd = mkstemp(path);
	struct hl_config c;
	char *argv[] = { "hostlaned", "--config", path, "--node-name", "fromflag", "--socket", "/tmp/s",
			 NULL };

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, js, strlen(js)), (ssize_t)strlen(js));
	close(fd);
	ck_assert_int_eq(hl_config_build(&c, 7, argv, err, sizeof(err)), 0);
	unlink(path);
	ck_assert_str_eq(c.node_name, "fromflag");
	ck_assert_str_eq(c.state_dir, "/tmp/sf");
	ck_assert_str_eq(c.socket, "/tmp/s");
	ck_assert_int_eq(c.fastpath, HL_FP_SHM);
}
END_TEST

START_TEST(test_config_bad_flag)
{
	struct hl_config c;
	char err[256] = "";
	char *argv[] = { "hostlaned", "--bogus", NULL };
	char *argv2[] = { "hostlaned", "--config", "/nonexistent/hl.json", NULL };

	ck_assert_int_eq(hl_config_build(&c, 2, argv, err, sizeof(err)), -EINVAL);
	ck_assert_int_eq(hl_config_build(&c, 3, argv2, err, sizeof(err)), -ENOENT);
	ck_assert_ptr_nonnull(strstr(err, "/nonexistent/hl.json"));
}
END_TEST

/* ---- requests ---- */

#define ADD_OK "{\"hostlane\":1,\"op\":\"ADD\",\"network\":\"net1\",\"containerID\":\"abc123\"," \
	       "\"ifname\":\"eth0\",\"netns\":\"/var/run/netns/p1\",\"pod\":{\"namespace\":\"default\"," \
	       "\"name\":\"web-1\",\"uid\":\"0b7e-11\"},\"ips\":[\"10.1.2.3/24\",\"fd00::5/64\"]," \
	       "\"fastpath\":{\"cniArgs\":\"shm\",\"config\":\"none\"}}"

START_TEST(test_request_add)
{
	struct hl_request r;
	char err[256] = "", key[600];

	ck_assert_int_eq(hl_request_parse(ADD_OK, strlen(ADD_OK), &r, err, sizeof(err)), 0);
	ck_assert_int_eq(r.op, HL_AGENT_OP_ADD);
	ck_assert_str_eq(r.network, "net1");
	ck_assert_str_eq(r.container_id, "abc123");
	ck_assert_str_eq(r.netns, "/var/run/netns/p1");
	ck_assert_str_eq(r.pod_ns, "default");
	ck_assert_str_eq(r.pod_name, "web-1");
	ck_assert_uint_eq(r.n_ips, 2);
	ck_assert_str_eq(r.ips[1], "fd00::5/64");
	ck_assert_str_eq(r.fp_args, "shm");
	ck_assert_str_eq(r.fp_config, "none");
	hl_request_key(&r, key, sizeof(key));
	ck_assert_str_eq(key, "net1/abc123/eth0");
	hl_request_free(&r);
}
END_TEST

static const struct { const char *js; int rc; const char *needle; } bad_reqs[] = {
	{ "", -EPROTO, "JSON" },
	{ "{\"op\":\"ADD\"}", -EPROTO, "version" },
	{ "{\"hostlane\":2,\"op\":\"STATUS\"}", -EPROTO, "version 2" },
	{ "{\"hostlane\":\"1\",\"op\":\"STATUS\"}", -EPROTO, "version" },
	{ "{\"hostlane\":1}", -EINVAL, "op" },
	{ "{\"hostlane\":1,\"op\":\"FROB\"}", -EINVAL, "FROB" },
	{ "{\"hostlane\":1,\"op\":\"ADD\",\"containerID\":\"a\",\"ifname\":\"eth0\",\"netns\":\"/x\"}", -EINVAL, "network" },
	{ "{\"hostlane\":1,\"op\":\"ADD\",\"network\":\"n\",\"containerID\":\"a/b\",\"ifname\":\"eth0\",\"netns\":\"/x\"}", -EINVAL, "containerID" },
	{ "{\"hostlane\":1,\"op\":\"ADD\",\"network\":\"n\",\"containerID\":\"a\",\"ifname\":\"eth0/1\",\"netns\":\"/x\"}", -EINVAL, "ifname" },
	{ "{\"hostlane\":1,\"op\":\"ADD\",\"network\":\"n\",\"containerID\":\"a\",\"ifname\":\"abcdefghijklmnop\",\"netns\":\"/x\"}", -EINVAL, "ifname" },
	{ "{\"hostlane\":1,\"op\":\"ADD\",\"network\":\"n\",\"containerID\":\"a\",\"ifname\":\"eth0\"}", -EINVAL, "netns" },
	{ "{\"hostlane\":1,\"op\":\"ADD\",\"network\":\"n\",\"containerID\":\"a\",\"ifname\":\"eth0\",\"netns\":\"rel\"}", -EINVAL, "netns" },
	{ "{\"hostlane\":1,\"op\":\"ADD\",\"network\":\"n\",\"containerID\":\"a\",\"ifname\":\"eth0\",\"netns\":\"/x\",\"ips\":[\"10.1.2.300\"]}", -EINVAL, "ips" },
	{ "{\"hostlane\":1,\"op\":\"ADD\",\"network\":\"n\",\"containerID\":\"a\",\"ifname\":\"eth0\",\"netns\":\"/x\",\"ips\":[\"10.1.2.3/33\"]}", -EINVAL, "ips" },
	{ "{\"hostlane\":1,\"op\":\"ADD\",\"network\":\"n\",\"containerID\":\"a\",\"ifname\":\"eth0\",\"netns\":\"/x\",\"ips\":\"10.1.2.3\"}", -EINVAL, "ips" },
	{ "{\"hostlane\":1,\"op\":\"ADD\",\"network\":\"n\",\"containerID\":\"a\",\"ifname\":\"eth0\",\"netns\":\"/x\",\"pod\":{\"name\":\"x\"}}", -EINVAL, "namespace" },
	{ "{\"hostlane\":1,\"op\":\"ADD\",\"network\":\"n\",\"containerID\":\"a\",\"ifname\":\"eth0\",\"netns\":\"/x\",\"fastpath\":\"shm\"}", -EINVAL, "fastpath" },
	{ "{\"hostlane\":1,\"op\":\"GC\",\"network\":\"n\"}", -EINVAL, "valid" },
	{ "{\"hostlane\":1,\"op\":\"GC\",\"network\":\"n\",\"valid\":[{\"containerID\":\"a\"}]}", -EINVAL, "ifname" },
	{ "{\"hostlane\":1,\"op\":\"GET\"}", -EINVAL, "id" },
	{ "{\"hostlane\":1,\"op\":\"LIST\",\"offset\":-3}", -EINVAL, "offset" },
};

START_TEST(test_request_bad)
{
	struct hl_request r;
	char err[256] = "";
	int rc = hl_request_parse(bad_reqs[_i].js, strlen(bad_reqs[_i].js), &r, err, sizeof(err));

	ck_assert_msg(rc == bad_reqs[_i].rc, "%s: rc %d", bad_reqs[_i].js, rc);
	ck_assert_msg(strstr(err, bad_reqs[_i].needle), "error '%s' names '%s'", err, bad_reqs[_i].needle);
	hl_request_free(&r);
}
END_TEST

START_TEST(test_request_oversized)
{
	size_t n = HLAGENT_MAX_REQUEST + 10;
	char *buf = malloc(n), err[256];
	struct hl_request r;

	ck_assert_ptr_nonnull(buf);
	memset(buf, ' ', n);
	ck_assert_int_eq(hl_request_parse(buf, n, &r, err, sizeof(err)), -EMSGSIZE);
	ck_assert_ptr_nonnull(strstr(err, "too large"));
	free(buf);
}
END_TEST

START_TEST(test_request_gc)
{
	const char *js = "{\"hostlane\":1,\"op\":\"GC\",\"network\":\"n\",\"valid\":[{\"containerID\":\"a\","
			 "\"ifname\":\"eth0\"},{\"containerID\":\"b\",\"ifname\":\"net1\"}]}";
	struct hl_request r;
	char err[256];

	ck_assert_int_eq(hl_request_parse(js, strlen(js), &r, err, sizeof(err)), 0);
	ck_assert_uint_eq(r.n_valid, 2);
	ck_assert_str_eq(r.valid[1].container_id, "b");
	ck_assert_str_eq(r.valid[1].ifname, "net1");
	hl_request_free(&r);
}
END_TEST

/* ---- state files ---- */

START_TEST(test_state_roundtrip)
{
	char dir[] = "/tmp/hl-test-state-XXXXXX", path[512], name[32];
	struct hl_request r;
	struct hl_pod p, *loaded;
	size_t n;
	FILE *f;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	ck_assert_int_eq(hl_state_init(dir), 0);
	ck_assert_int_eq(hl_request_parse(ADD_OK, strlen(ADD_OK), &r, path, sizeof(path)), 0);
	hl_pod_from_request(&p, &r);
	p.fastpath = HL_FP_SHM;
	p.source = HL_SRC_CNI_ARGS;
	p.quota_bytes = 64ull << 20;
	ck_assert_int_eq(hl_state_save(dir, &p, NULL), 0);
	/* Leftovers of a crash: a temp file and a corrupt record. */
	snprintf(path, sizeof(path), "%s/pods/.0123456789abcdef.json.tmp", dir);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs("{", f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/pods/fedcba9876543210.json", dir);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs("{\"version\":1}", f);
	fclose(f);
	ck_assert_int_eq(hl_state_load(dir, &loaded, &n), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(loaded[0].key, p.key);
	ck_assert_str_eq(loaded[0].netns, p.netns);
	ck_assert_str_eq(loaded[0].pod_name, "web-1");
	ck_assert_int_eq(loaded[0].fastpath, HL_FP_SHM);
	ck_assert_int_eq(loaded[0].source, HL_SRC_CNI_ARGS);
	ck_assert_uint_eq(loaded[0].quota_bytes, 64ull << 20);
	ck_assert_uint_eq(loaded[0].n_ips, 2);
	ck_assert_str_eq(loaded[0].ips[0], "10.1.2.3/24");
	free(loaded);
	ck_assert_int_ne(access(path, F_OK), 0);            /* corrupt one set aside */
	snprintf(path, sizeof(path), "%s/pods/.0123456789abcdef.json.tmp", dir);
	ck_assert_int_ne(access(path, F_OK), 0);            /* temp removed */
	ck_assert_int_eq(hl_state_remove(dir, p.key), 0);
	ck_assert_int_eq(hl_state_remove(dir, p.key), 0);   /* idempotent */
	hl_state_name(p.key, name, sizeof(name));
	snprintf(path, sizeof(path), "%s/pods/%s", dir, name);
	ck_assert_int_ne(access(path, F_OK), 0);
	ck_assert_int_eq(hl_state_load(dir, &loaded, &n), 0);
	ck_assert_uint_eq(n, 0);
	free(loaded);
	snprintf(path, sizeof(path), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(path), 0);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("agent");
	TCase *t = tcase_create("core");

	tcase_add_loop_test(t, test_quantity, 0, sizeof(qcases) / sizeof(qcases[0]));
	tcase_add_loop_test(t, test_select, 0, sizeof(scases) / sizeof(scases[0]));
	tcase_add_test(t, test_config_ok);
	tcase_add_loop_test(t, test_config_bad, 0, sizeof(bad_configs) / sizeof(bad_configs[0]));
	tcase_add_test(t, test_config_flags_over_file);
	tcase_add_test(t, test_config_bad_flag);
	tcase_add_test(t, test_request_add);
	tcase_add_loop_test(t, test_request_bad, 0, sizeof(bad_reqs) / sizeof(bad_reqs[0]));
	tcase_add_test(t, test_request_oversized);
	tcase_add_test(t, test_request_gc);
	tcase_add_test(t, test_state_roundtrip);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	return hl_check_run(suite());
}
