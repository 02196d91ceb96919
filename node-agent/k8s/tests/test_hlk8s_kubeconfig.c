/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests: kubeconfig and in-cluster configuration, base64, client_new errors. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hlk8s.h"
#include "hlk8s_private.h"
#include "hl_check.h"

/* "hello" and a short PEM-ish payload, base64. */
#define B64_HELLO "aGVsbG8="
#define B64_CERT  "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCg=="

static const char HEAD[] =
	"apiVersion: v1\nkind: Config\npreferences: {}\n";

static char err[512];
static struct hlk8s__config cfg;

static int parse(const char *yaml)
{
	return hlk8s__kubeconfig_parse(yaml, strlen(yaml), "/etc/kube", &cfg, err, sizeof(err));
}

static void teardown(void)
{
	hlk8s__config_clear(&cfg);
}

START_TEST(token_and_current_context)
{
	/* Two contexts; current-context picks the second. */
	const char *y =
		"apiVersion: v1\nkind: Config\n"
		"clusters:\n"
		"- name: dev\n  cluster:\n    server: https://dev.example:6443\n"
		"- name: prod\n  cluster:\n    server: https://[fd00::1]:6443/\n"
		"    certificate-authority: pki/ca.crt\n"
		"contexts:\n"
		"- name: dev-admin\n  context:\n    cluster: dev\n    user: admin\n"
		"- name: prod-agent\n  context:\n    cluster: prod\n    user: agent\n"
		"    namespace: kube-system\n"
		"current-context: prod-agent\n"
		"users:\n"
		"- name: admin\n  user:\n    token: admin-token\n"
		"- name: agent\n  user:\n    token: \"eyJhbGciOiJSUzI1NiJ9.agent\"\n";

	ck_assert_msg(parse(y) == 0, "%s", err);
	ck_assert_str_eq(cfg.server, "https://[fd00::1]:6443");
	ck_assert_str_eq(cfg.ca_file, "/etc/kube/pki/ca.crt"); /* relative to the file */
	ck_assert_str_eq(cfg.token, "eyJhbGciOiJSUzI1NiJ9.agent");
	ck_assert_ptr_null(cfg.token_file);
	ck_assert(!cfg.insecure);
}
END_TEST

START_TEST(token_file_and_flow_style)
{
	char y[1024];

	snprintf(y, sizeof(y), "%s"
		 "clusters: [{name: c, cluster: {server: 'https://10.0.0.1', "
		 "insecure-skip-tls-verify: true}}]\n"
		 "contexts: [{name: x, context: {cluster: c, user: u}}]\n"
		 "current-context: x\n"
		 "users: [{name: u, user: {tokenFile: /var/run/token, token: fallback}}]\n", HEAD);
	ck_assert_msg(parse(y) == 0, "%s", err);
	ck_assert_str_eq(cfg.server, "https://10.0.0.1");
	ck_assert_str_eq(cfg.token_file, "/var/run/token");
	ck_assert_str_eq(cfg.token, "fallback");
	ck_assert(cfg.insecure);
}
END_TEST

START_TEST(cert_key_files)
{
	const char *y =
		"clusters:\n- name: c\n  cluster:\n    server: https://k:443\n"
		"contexts:\n- name: x\n  context: {cluster: c, user: u}\n"
		"current-context: x\n"
		"users:\n- name: u\n  user:\n    client-certificate: /pki/node.crt\n"
		"    client-key: node.key\n";

	ck_assert_msg(parse(y) == 0, "%s", err);
	ck_assert_str_eq(cfg.cert_file, "/pki/node.crt");
	ck_assert_str_eq(cfg.key_file, "/etc/kube/node.key");
	ck_assert_ptr_null(cfg.token);
}
END_TEST

START_TEST(data_blobs)
{
	const char *y =
		"clusters:\n- name: c\n  cluster:\n    server: https://k:443\n"
		"    certificate-authority-data: " B64_CERT "\n"
		"contexts:\n- name: x\n  context: {cluster: c, user: u}\n"
		"current-context: x\n"
		"users:\n- name: u\n  user:\n    client-certificate-data: " B64_HELLO "\n"
		"    client-key-data: |\n      " B64_HELLO "\n";

	ck_assert_msg(parse(y) == 0, "%s", err);
	ck_assert_uint_eq(cfg.ca.len, 28);
	ck_assert(!memcmp(cfg.ca.data, "-----BEGIN CERTIFICATE-----\n", 28));
	ck_assert_uint_eq(cfg.cert.len, 5);
	ck_assert(!memcmp(cfg.cert.data, "hello", 5));
	ck_assert_uint_eq(cfg.key.len, 5);
	ck_assert(!memcmp(cfg.key.data, "hello", 5));
}
END_TEST

/* Table: configurations that must be refused, and a word the error must contain. */
static const struct {
	const char *yaml, *word;
} bad[] = {
	{ "current-context: x\ncontexts: []\n", "context \"x\" not found" },
	{ "clusters: []\ncontexts: [{name: x, context: {cluster: c, user: u}}]\n",
	  "current-context is not set" },
	{ "current-context: x\ncontexts: [{name: x, context: {cluster: c}}]\nclusters: []\n",
	  "cluster \"c\" not found" },
	{ "current-context: x\ncontexts: [{name: x, context: {cluster: c, user: u}}]\n"
	  "clusters: [{name: c, cluster: {server: 'https://a'}}]\nusers: []\n",
	  "user \"u\" not found" },
	{ "current-context: x\ncontexts: [{name: x, context: {cluster: c}}]\n"
	  "clusters: [{name: c, cluster: {server: 'ftp://a'}}]\n", "server" },
	{ "current-context: x\ncontexts: [{name: x, context: {cluster: c, user: u}}]\n"
	  "clusters: [{name: c, cluster: {server: 'https://a'}}]\n"
	  "users:\n- name: u\n  user:\n    exec:\n      apiVersion: client.authentication.k8s.io/v1\n"
	  "      command: aws\n      args: [eks, get-token]\n", "exec credential plugin" },
	{ "current-context: x\ncontexts: [{name: x, context: {cluster: c, user: u}}]\n"
	  "clusters: [{name: c, cluster: {server: 'https://a'}}]\n"
	  "users: [{name: u, user: {auth-provider: {name: gcp}}}]\n", "auth-provider" },
	{ "current-context: x\ncontexts: [{name: x, context: {cluster: c, user: u}}]\n"
	  "clusters: [{name: c, cluster: {server: 'https://a'}}]\n"
	  "users: [{name: u, user: {client-certificate: /a.crt}}]\n", "without a key" },
	{ "current-context: x\ncontexts: [{name: x, context: {cluster: c}}]\n"
	  "clusters: [{name: c, cluster: {server: 'https://a', "
	  "certificate-authority-data: 'not base64!'}}]\n", "base64" },
	{ "- just\n- a list\n", "not a YAML mapping" },
	{ "key: [unclosed\n", "YAML error" },
	{ "", "not a YAML mapping" },
};

START_TEST(bad_configs)
{
	int r = parse(bad[_i].yaml);

	ck_assert_msg(r == -EINVAL, "case %d accepted (%d)", _i, r);
	ck_assert_msg(strstr(err, bad[_i].word), "case %d: error \"%s\" lacks \"%s\"", _i, err,
		      bad[_i].word);
	ck_assert_ptr_null(cfg.server); /* nothing leaks out of a failed parse */
}
END_TEST

START_TEST(alias_loop)
{
	/* A self-referencing anchor must not make the walk loop. */
	const char *y = "current-context: &a x\ncontexts: &l [{name: x, context: *l}]\n";

	ck_assert_int_eq(parse(y), -EINVAL);
}
END_TEST

static const struct {
	const char *in, *out;
	int ret;
} b64[] = {
	{ "aGVsbG8=", "hello", 0 }, { "aGVsbG8", "hello", 0 }, { "aGVs\nbG8=", "hello", 0 },
	{ "YQ==", "a", 0 },         { "YWI=", "ab", 0 },       { "YWJj", "abc", 0 },
	{ "YR==", NULL, -EINVAL },  /* non-zero padding bits */
	{ "a===", NULL, -EINVAL },  { "aGV*", NULL, -EINVAL }, { "", NULL, -EINVAL },
	{ "YQ==YQ==", NULL, -EINVAL },
};

START_TEST(base64_table)
{
	struct hlk8s__blob b;
	int r = hlk8s__b64_decode(b64[_i].in, strlen(b64[_i].in), &b);

	ck_assert_msg(r == b64[_i].ret, "%s -> %d", b64[_i].in, r);
	if (!r) {
		ck_assert_uint_eq(b.len, strlen(b64[_i].out));
		ck_assert(!memcmp(b.data, b64[_i].out, b.len));
	}
	free(b.data);
}
END_TEST

/* ---- files, in-cluster, hlk8s_client_new ---- */

static char tmpdir[64];

static void files_setup(void)
{
	strcpy(tmpdir, "/tmp/hlk8s-kc.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void files_teardown(void)
{
	char cmd[128];

	hlk8s__config_clear(&cfg);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	ck_assert_int_eq(system(cmd), 0);
}

static const char *put(const char *name, const char *content)
{
	static char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(content, f);
	fclose(f);
	return path;
}

static char logged[1024];

static void logfn(void *arg, int level, const char *msg)
{
	(void)arg;
	if (level == HLK8S_LOG_ERR)
		snprintf(logged, sizeof(logged), "%s", msg);
}

START_TEST(load_relative_paths)
{
	const char *p = put("config", "current-context: x\n"
			    "contexts: [{name: x, context: {cluster: c, user: u}}]\n"
			    "clusters: [{name: c, cluster: {server: 'https://a', "
			    "certificate-authority: ca.pem}}]\n"
			    "users: [{name: u, user: {tokenFile: tok}}]\n");
	char want[256];

	ck_assert_msg(hlk8s__kubeconfig_load(p, &cfg, err, sizeof(err)) == 0, "%s", err);
	snprintf(want, sizeof(want), "%s/ca.pem", tmpdir);
	ck_assert_str_eq(cfg.ca_file, want);
	snprintf(want, sizeof(want), "%s/tok", tmpdir);
	ck_assert_str_eq(cfg.token_file, want);
}
END_TEST

START_TEST(incluster)
{
	const char *tok;

	unsetenv("KUBERNETES_SERVICE_HOST");
	ck_assert_int_eq(hlk8s__incluster_load(tmpdir, &cfg, err, sizeof(err)), -ENOENT);
	setenv("KUBERNETES_SERVICE_HOST", "fd00:10:96::1", 1);
	setenv("KUBERNETES_SERVICE_PORT", "443", 1);
	/* No token file yet: not an error (the client waits for it). */
	ck_assert_int_eq(hlk8s__incluster_load(tmpdir, &cfg, err, sizeof(err)), 0);
	ck_assert_ptr_nonnull(strstr(cfg.token_file, "/token"));
	hlk8s__config_clear(&cfg);
	tok = put("token", "abc\n");
	ck_assert_int_eq(hlk8s__incluster_load(tmpdir, &cfg, err, sizeof(err)), 0);
	ck_assert_str_eq(cfg.server, "https://[fd00:10:96::1]:443"); /* IPv6 in brackets */
	ck_assert_str_eq(cfg.token_file, tok);
	hlk8s__config_clear(&cfg);
	setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1", 1);
	ck_assert_int_eq(hlk8s__incluster_load(tmpdir, &cfg, err, sizeof(err)), 0);
	ck_assert_str_eq(cfg.server, "https://10.96.0.1:443");
}
END_TEST

START_TEST(client_new_errors)
{
	struct hlk8s_opts o = { .log = logfn };
	struct hlk8s_client *c;
	char path[256];

	/* Nothing configured at all. */
	unsetenv("KUBERNETES_SERVICE_HOST");
	o.sa_dir = tmpdir;
	errno = 0;
	ck_assert_ptr_null(hlk8s_client_new(&o));
	ck_assert_int_eq(errno, ENOENT);
	/* Missing kubeconfig file. */
	snprintf(path, sizeof(path), "%s/absent", tmpdir);
	o.kubeconfig = path;
	ck_assert_ptr_null(hlk8s_client_new(&o));
	ck_assert_int_eq(errno, ENOENT);
	/* exec plugin: EINVAL and a message that says so. */
	o.kubeconfig = put("exec", "current-context: x\n"
			   "contexts: [{name: x, context: {cluster: c, user: u}}]\n"
			   "clusters: [{name: c, cluster: {server: 'https://a'}}]\n"
			   "users: [{name: u, user: {exec: {command: gke-gcloud-auth-plugin}}}]\n");
	ck_assert_ptr_null(hlk8s_client_new(&o));
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_msg(strstr(logged, "exec credential plugin"), "logged: %s", logged);
	/* tokenFile that is empty: a bad config, said clearly. */
	put("empty-token", "\n");
	o.kubeconfig = put("kc-empty", "current-context: x\n"
			   "contexts: [{name: x, context: {cluster: c, user: u}}]\n"
			   "clusters: [{name: c, cluster: {server: 'https://a'}}]\n"
			   "users: [{name: u, user: {tokenFile: empty-token}}]\n");
	ck_assert_ptr_null(hlk8s_client_new(&o));
	ck_assert_int_eq(errno, EINVAL);
	/* A good one: no network contact needed to construct. */
	put("good-token", "t0k\n");
	o.kubeconfig = put("kc-good", "current-context: x\n"
			   "contexts: [{name: x, context: {cluster: c, user: u}}]\n"
			   "clusters: [{name: c, cluster: {server: 'https://127.0.0.1:1/'}}]\n"
			   "users: [{name: u, user: {tokenFile: good-token}}]\n");
	c = hlk8s_client_new(&o);
	ck_assert_ptr_nonnull(c);
	ck_assert_str_eq(hlk8s_server(c), "https://127.0.0.1:1");
	/* No node name: no watch. */
	ck_assert_int_eq(hlk8s_watch_run(c, 0), -EINVAL);
	hlk8s_client_free(c);
	o.get_timeout_ms = -1;
	ck_assert_ptr_null(hlk8s_client_new(&o));
	ck_assert_int_eq(errno, EINVAL);
}
END_TEST

/* In a pod, the projected token may come after the container starts: the
 * client is made anyway, says why it cannot authenticate yet, and reads the
 * token once it is there. */
START_TEST(incluster_token_later)
{
	struct hlk8s_opts o = { .log = logfn, .sa_dir = tmpdir, .node_name = "n1" };
	struct hlk8s_health h;
	struct hlk8s_client *c;

	setenv("KUBERNETES_SERVICE_HOST", "127.0.0.1", 1);
	setenv("KUBERNETES_SERVICE_PORT", "1", 1);
	c = hlk8s_client_new(&o);
	ck_assert_ptr_nonnull(c);
	hlk8s_get_health(c, &h);
	ck_assert_int_eq(h.state, HLK8S_STATE_STARTING);
	ck_assert_str_eq(hlk8s_state_name(h.state), "starting");
	ck_assert_msg(strstr(h.last_error, "no token"), "last error: %s", h.last_error);
	ck_assert_int_ne(h.last_error_time, 0);
	ck_assert_int_eq(h.last_sync, 0);
	hlk8s_client_free(c);
	unsetenv("KUBERNETES_SERVICE_HOST");
	unsetenv("KUBERNETES_SERVICE_PORT");
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("hlk8s_kubeconfig");
	TCase *t = tcase_create("parse");

	tcase_add_checked_fixture(t, NULL, teardown);
	tcase_add_test(t, token_and_current_context);
	tcase_add_test(t, token_file_and_flow_style);
	tcase_add_test(t, cert_key_files);
	tcase_add_test(t, data_blobs);
	tcase_add_loop_test(t, bad_configs, 0, sizeof(bad) / sizeof(bad[0]));
	tcase_add_test(t, alias_loop);
	tcase_add_loop_test(t, base64_table, 0, sizeof(b64) / sizeof(b64[0]));
	suite_add_tcase(s, t);
	t = tcase_create("files");
	tcase_add_checked_fixture(t, files_setup, files_teardown);
	tcase_add_test(t, load_relative_paths);
	tcase_add_test(t, incluster);
	tcase_add_test(t, client_new_errors);
	tcase_add_test(t, incluster_token_later);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	return hl_check_run(suite());
}
