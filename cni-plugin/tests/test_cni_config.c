/* SPDX-License-Identifier: Apache-2.0 */
/* Network configuration parsing, version negotiation and the IPAM stdin. */
#include "../src/cni.h"
#include "hl_check.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#define VERIFY(cond, ...) ck_assert_msg(cond, __VA_ARGS__)

struct conf_case {
	const char *what;
	enum cni_cmd cmd;
	const char *json;
	int code;          /* 0: accepted */
	const char *names; /* substring of details */
};

#define BASE "\"name\":\"n1\",\"type\":\"hostlane\""
#define IPAM ",\"ipam\":{\"type\":\"host-local\",\"subnet\":\"10.1.0.0/24\"}"

static const struct conf_case cases[] = {
	{ "minimal 1.0.0", CNI_CMD_ADD, "{\"cniVersion\":\"1.0.0\"," BASE IPAM "}", 0, NULL },
	{ "0.3.0", CNI_CMD_ADD, "{\"cniVersion\":\"0.3.0\"," BASE "}", 0, NULL },
	{ "0.3.1", CNI_CMD_DEL, "{\"cniVersion\":\"0.3.1\"," BASE "}", 0, NULL },
	{ "unknown keys are fine", CNI_CMD_ADD,
	  "{\"cniVersion\":\"1.1.0\"," BASE ",\"whatever\":[1,2],\"args\":{}}", 0, NULL },
	{ "not JSON", CNI_CMD_ADD, "{\"cniVersion\":", CNI_ERR_DECODE, "JSON" },
	{ "array, not object", CNI_CMD_ADD, "[1]", CNI_ERR_DECODE, "JSON" },
	{ "no cniVersion", CNI_CMD_ADD, "{" BASE "}", CNI_ERR_INCOMPAT, "cniVersion" },
	{ "cniVersion 0.2.0", CNI_CMD_ADD, "{\"cniVersion\":\"0.2.0\"," BASE "}", CNI_ERR_INCOMPAT,
	  "0.2.0" },
	{ "cniVersion 2.0.0", CNI_CMD_ADD, "{\"cniVersion\":\"2.0.0\"," BASE "}", CNI_ERR_INCOMPAT,
	  "2.0.0" },
	{ "cniVersion garbage", CNI_CMD_ADD, "{\"cniVersion\":\"1.x\"," BASE "}", CNI_ERR_INCOMPAT,
	  "1.x" },
	{ "CHECK needs 0.4.0", CNI_CMD_CHECK, "{\"cniVersion\":\"0.3.1\"," BASE "}", CNI_ERR_INCOMPAT,
	  "CHECK" },
	{ "STATUS needs 1.1.0", CNI_CMD_STATUS, "{\"cniVersion\":\"1.0.0\"," BASE "}",
	  CNI_ERR_INCOMPAT, "STATUS" },
	{ "GC needs 1.1.0", CNI_CMD_GC, "{\"cniVersion\":\"1.0.0\"," BASE "}", CNI_ERR_INCOMPAT, "GC" },
	{ "no name", CNI_CMD_ADD, "{\"cniVersion\":\"1.0.0\",\"type\":\"x\"}", CNI_ERR_CONFIG, "name" },
	{ "bad name", CNI_CMD_ADD, "{\"cniVersion\":\"1.0.0\",\"name\":\"a/b\",\"type\":\"x\"}",
	  CNI_ERR_CONFIG, "name" },
	{ "name not a string", CNI_CMD_ADD, "{\"cniVersion\":\"1.0.0\",\"name\":3,\"type\":\"x\"}",
	  CNI_ERR_CONFIG, "name" },
	{ "no type", CNI_CMD_ADD, "{\"cniVersion\":\"1.0.0\",\"name\":\"n\"}", CNI_ERR_CONFIG, "type" },
	{ "bridge too long", CNI_CMD_ADD,
	  "{\"cniVersion\":\"1.0.0\"," BASE ",\"bridge\":\"abcdefghijklmnopq\"}", CNI_ERR_CONFIG,
	  "bridge" },
	{ "mtu a string", CNI_CMD_ADD, "{\"cniVersion\":\"1.0.0\"," BASE ",\"mtu\":\"1500\"}",
	  CNI_ERR_CONFIG, "mtu" },
	{ "mtu too small", CNI_CMD_ADD, "{\"cniVersion\":\"1.0.0\"," BASE ",\"mtu\":10}",
	  CNI_ERR_CONFIG, "mtu" },
	{ "isGateway not bool", CNI_CMD_ADD, "{\"cniVersion\":\"1.0.0\"," BASE ",\"isGateway\":1}",
	  CNI_ERR_CONFIG, "isGateway" },
	{ "ipMasq true unsupported", CNI_CMD_ADD,
	  "{\"cniVersion\":\"1.0.0\"," BASE ",\"ipMasq\":true}", CNI_ERR_UNSUPPORTED_FIELD, "ipMasq" },
	{ "ipMasq false fine", CNI_CMD_ADD, "{\"cniVersion\":\"1.0.0\"," BASE ",\"ipMasq\":false}", 0,
	  NULL },
	{ "fastpath unknown", CNI_CMD_ADD, "{\"cniVersion\":\"1.0.0\"," BASE ",\"fastpath\":\"warp\"}",
	  CNI_ERR_CONFIG, "warp" },
	{ "logLevel unknown", CNI_CMD_ADD, "{\"cniVersion\":\"1.0.0\"," BASE ",\"logLevel\":\"loud\"}",
	  CNI_ERR_CONFIG, "logLevel" },
	{ "ipam not object", CNI_CMD_ADD, "{\"cniVersion\":\"1.0.0\"," BASE ",\"ipam\":\"x\"}",
	  CNI_ERR_CONFIG, "ipam" },
	{ "ipam type with slash", CNI_CMD_ADD,
	  "{\"cniVersion\":\"1.0.0\"," BASE ",\"ipam\":{\"type\":\"../bin/sh\"}}", CNI_ERR_CONFIG,
	  "ipam.type" },
	{ "prevResult bad ips", CNI_CMD_ADD,
	  "{\"cniVersion\":\"1.0.0\"," BASE ",\"prevResult\":{\"ips\":[{\"address\":\"10.0.0.1\"}]}}",
	  CNI_ERR_DECODE, "address" },
	{ "prevResult garbage ignored on DEL", CNI_CMD_DEL,
	  "{\"cniVersion\":\"1.0.0\"," BASE ",\"prevResult\":{\"ips\":7}}", 0, NULL },
	{ "GC without valid-attachments", CNI_CMD_GC, "{\"cniVersion\":\"1.1.0\"," BASE "}",
	  CNI_ERR_CONFIG, "valid-attachments" },
	{ "GC bad attachment", CNI_CMD_GC,
	  "{\"cniVersion\":\"1.1.0\"," BASE ",\"cni.dev/valid-attachments\":[{\"containerID\":1}]}",
	  CNI_ERR_CONFIG, "valid-attachments" },
};

START_TEST(test_conf_table)
{
	const struct conf_case *c = &cases[_i];
	struct cni_conf conf;
	struct cni_err e = { 0 };
	int rc = cni_conf_parse(c->json, strlen(c->json), c->cmd, &conf, &e);

	if (c->code == 0) {
		VERIFY(rc == 0, "%s: rejected: %d %s", c->what, e.code, e.details);
	} else {
		VERIFY(rc < 0, "%s: accepted", c->what);
		VERIFY(e.code == c->code, "%s: code %d, want %d (%s)", c->what, e.code, c->code,
		       e.details);
		VERIFY(strstr(e.details, c->names), "%s: details '%s' do not name %s", c->what,
		       e.details, c->names);
	}
	cni_conf_free(&conf);
}
END_TEST

START_TEST(test_conf_values)
{
	const char *j = "{\"cniVersion\":\"1.1.0\"," BASE ",\"bridge\":\"br9\",\"mtu\":1400,"
			"\"isGateway\":true,\"fastpath\":\"shm\",\"logLevel\":\"debug\","
			"\"agentSocket\":\"/tmp/a.sock\"" IPAM ","
			"\"prevResult\":{\"cniVersion\":\"1.1.0\",\"interfaces\":[{\"name\":\"eth0\",\"sandbox\":\"/n\"}],"
			"\"ips\":[{\"address\":\"10.1.0.5/24\",\"gateway\":\"10.1.0.1\",\"interface\":0}]},"
			"\"cni.dev/valid-attachments\":[{\"containerID\":\"c1\",\"ifname\":\"eth0\"}]}";
	struct cni_conf c;
	struct cni_err e;

	ck_assert_int_eq(cni_conf_parse(j, strlen(j), CNI_CMD_GC, &c, &e), 0);
	ck_assert_int_eq(c.version, CNI_V110);
	ck_assert_str_eq(c.name, "n1");
	ck_assert_str_eq(c.bridge, "br9");
	ck_assert_uint_eq(c.mtu, 1400);
	ck_assert(c.is_gateway);
	ck_assert_int_eq(c.fastpath, CNI_FP_SHM);
	ck_assert_int_eq(c.log_level, CNI_LOG_DEBUG);
	ck_assert_str_eq(c.agent_socket, "/tmp/a.sock");
	ck_assert_str_eq(c.ipam_type, "host-local");
	ck_assert(c.has_prev);
	ck_assert_int_eq(c.prev.n_ips, 1);
	ck_assert_int_eq(c.prev.ips[0].iface, 0);
	ck_assert(cni_attachment_valid(&c, "c1", "eth0"));
	ck_assert(!cni_attachment_valid(&c, "c1", "eth1"));
	ck_assert(!cni_attachment_valid(&c, "c2", "eth0"));
	cni_conf_free(&c);
}
END_TEST

START_TEST(test_conf_defaults)
{
	const char *j = "{\"cniVersion\":\"0.4.0\"," BASE "}";
	struct cni_conf c;
	struct cni_err e;

	ck_assert_int_eq(cni_conf_parse(j, strlen(j), CNI_CMD_ADD, &c, &e), 0);
	ck_assert_str_eq(c.bridge, "hostlane0");
	ck_assert_uint_eq(c.mtu, 0);
	ck_assert(!c.is_gateway && !c.has_prev);
	ck_assert_int_eq(c.fastpath, CNI_FP_UNSET);
	ck_assert_ptr_null(c.ipam_type);
	ck_assert_str_eq(c.agent_socket, "/run/hostlane/agent.sock");
	cni_conf_free(&c);
}
END_TEST

START_TEST(test_ipam_stdin)
{
	const char *j = "{\"cniVersion\":\"1.1.0\"," BASE IPAM ",\"prevResult\":{\"ips\":[]}}";
	struct cni_conf c;
	struct cni_err e;
	cJSON *o;
	char *s;

	ck_assert_int_eq(cni_conf_parse(j, strlen(j), CNI_CMD_ADD, &c, &e), 0);
	s = cni_conf_ipam_stdin(&c, CNI_V100);
	o = cJSON_Parse(s);
	ck_assert_ptr_nonnull(o);
	ck_assert_str_eq(cJSON_GetObjectItem(o, "cniVersion")->valuestring, "1.0.0");
	ck_assert_ptr_null(cJSON_GetObjectItem(o, "prevResult"));
	ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(o, "ipam"), "subnet")->valuestring,
			 "10.1.0.0/24");
	ck_assert_str_eq(cJSON_GetObjectItem(o, "name")->valuestring, "n1");
	cJSON_Delete(o);
	free(s);
	cni_conf_free(&c);
}
END_TEST

START_TEST(test_version_negotiation)
{
	cJSON *hl = cJSON_Parse("[\"0.1.0\",\"0.2.0\",\"0.3.0\",\"0.3.1\",\"0.4.0\",\"1.0.0\"]");
	cJSON *odd = cJSON_Parse("[\"0.3.1\",7,\"x\",\"1.1.0\",\"2.0.0\"]");

	ck_assert_int_eq(cni_version_parse("1.1.0"), CNI_V110);
	ck_assert_int_eq(cni_version_parse("0.4"), CNI_V040);
	ck_assert_int_eq(cni_version_parse("1..0"), -1);
	ck_assert_int_eq(cni_version_parse("1.0.0.0"), -1);
	ck_assert_int_eq(cni_version_parse(""), -1);
	ck_assert_int_eq(cni_version_parse("1.0.0-rc1"), -1);
	/* host-local (up to 1.0.0) with a 1.1.0 config: 1.0.0 */
	ck_assert_int_eq(cni_version_negotiate(CNI_V110, hl), CNI_V100);
	ck_assert_int_eq(cni_version_negotiate(CNI_V040, hl), CNI_V040);
	ck_assert_int_eq(cni_version_negotiate(CNI_V030, hl), CNI_V030);
	ck_assert_int_eq(cni_version_negotiate(CNI_V110, odd), CNI_V110);
	ck_assert_int_eq(cni_version_negotiate(CNI_V100, odd), CNI_V031);
	ck_assert_int_eq(cni_version_negotiate(CNI_V110, NULL), -1);
	ck_assert(!cni_version_supported(CNI_V(0, 2, 0)));
	cJSON_Delete(hl);
	cJSON_Delete(odd);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("cni_config");
	TCase *tc = tcase_create("config");

	tcase_add_loop_test(tc, test_conf_table, 0, (int)(sizeof(cases) / sizeof(cases[0])));
	tcase_add_test(tc, test_conf_values);
	tcase_add_test(tc, test_conf_defaults);
	tcase_add_test(tc, test_ipam_stdin);
	tcase_add_test(tc, test_version_negotiation);
	suite_add_tcase(s, tc);
	return hl_check_run(s);
}
