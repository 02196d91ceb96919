/* SPDX-License-Identifier: Apache-2.0 */
/* hostlane-install's logic: install.json, the runtime's choice of config
 * file, chaining in and out, the standalone conflist, and the passes of each
 * mode over a temporary node tree (the image test runs the same binary in
 * its container). */
#include "../hli.h"
#include "hl_check.h"

#include <check.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char root[256], bin[PATH_MAX], conf[PATH_MAX], plugin[PATH_MAX];
static char run[PATH_MAX], state[PATH_MAX], cache[PATH_MAX];

static void put(const char *dir, const char *name, const char *text)
{
	char p[PATH_MAX + 256];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	f = fopen(p, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

static char *get(const char *dir, const char *name)
{
	char p[PATH_MAX + 256], *out = NULL;
	size_t len;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	return hli_read_file(p, 1 << 20, &out, &len) == 0 ? out : NULL;
}

static bool exists(const char *dir, const char *name)
{
	char p[PATH_MAX + 256];

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	return access(p, F_OK) == 0;
}

static void setup(void)
{
	snprintf(root, sizeof(root), "/tmp/hli-test.%d", (int)getpid());
	snprintf(bin, sizeof(bin), "%s/bin", root);
	snprintf(conf, sizeof(conf), "%s/net.d", root);
	snprintf(plugin, sizeof(plugin), "%s/plugin", root);
	snprintf(run, sizeof(run), "%s/run", root);
	snprintf(state, sizeof(state), "%s/state", root);
	snprintf(cache, sizeof(cache), "%s/cache", root);
	ck_assert_int_eq(mkdir(root, 0755), 0);
	ck_assert_int_eq(mkdir(bin, 0755), 0);
	ck_assert_int_eq(mkdir(conf, 0755), 0);
	put(root, "plugin", "#!/bin/true\nplugin v1\n");
}

static void teardown(void)
{
	ck_assert_int_eq(hli_remove_tree(root), 0);
}

START_TEST(test_config)
{
	struct hli_config c;
	char err[256];
	static const char *bad[] = {
		"[]",
		"{\"mode\": \"uninstall\"}",
		"{\"mode\": \"bridge\"}",
		"{\"modes\": \"chain\"}",
		"{\"chainEntry\": {\"agentSocket\": \"/x\"}}",
		"{\"standalone\": {\"fileName\": \"../x.conflist\"}}",
		"{\"standalone\": {\"fileName\": \"x.conf\"}}",
		"{\"standalone\": {\"subnet\": \"10.0.0.0/8\"}}",
		"{\"standalone\": {\"plugin\": {\"type\": \"hostlane\", \"bridge\": 7}}}",
	};

	ck_assert_int_eq(hli_config_parse(NULL, 0, &c, err, sizeof(err)), 0);
	ck_assert_int_eq(c.mode, HLI_SECONDARY);
	ck_assert_str_eq(c.file_name, "10-hostlane.conflist");
	ck_assert_str_eq(c.cni_version, "1.0.0");
	ck_assert_str_eq(c.bridge, "hostlane0");
	hli_config_free(&c);
	{
		const char *j = "{\"mode\": \"chain\", \"chainEntry\": {\"type\": \"hostlane\", \"x\": 1},"
				" \"standalone\": {\"name\": \"n1\", \"fileName\": \"05-x.conflist\","
				" \"plugin\": {\"type\": \"hostlane\", \"bridge\": \"br9\"}}}";

		ck_assert_int_eq(hli_config_parse(j, strlen(j), &c, err, sizeof(err)), 0);
		ck_assert_int_eq(c.mode, HLI_CHAIN);
		ck_assert_str_eq(c.net_name, "n1");
		ck_assert_str_eq(c.file_name, "05-x.conflist");
		ck_assert_str_eq(c.bridge, "br9");
		ck_assert_int_eq(cJSON_GetObjectItem(c.chain_entry, "x")->valueint, 1);
		hli_config_free(&c);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		ck_assert_msg(hli_config_parse(bad[i], strlen(bad[i]), &c, err, sizeof(err)) == -EINVAL,
			      "accepted %s", bad[i]);
		ck_assert_msg(err[0], "no reason for %s", bad[i]);
		hli_config_free(&c);
	}
	ck_assert_int_eq(hli_mode_parse("uninstall"), HLI_UNINSTALL);
	ck_assert_int_eq(hli_mode_parse("Chain"), -1);
}
END_TEST

START_TEST(test_primary)
{
	char name[256];

	ck_assert_int_eq(hli_primary_conf(conf, NULL, name, sizeof(name)), -ENOENT);
	put(conf, "README", "x");
	put(conf, ".10-calico.conflist.hli-tmp.1", "x");
	ck_assert_int_eq(hli_primary_conf(conf, NULL, name, sizeof(name)), -ENOENT);
	put(conf, "87-podman.json", "{}");
	put(conf, "10-flannel.conflist", "{}");
	put(conf, "10-calico.conflist", "{}");
	put(conf, "10-calico.conf", "{}");
	put(conf, "05-hostlane.conflist", "{}");
	ck_assert_int_eq(hli_primary_conf(conf, NULL, name, sizeof(name)), 0);
	ck_assert_str_eq(name, "05-hostlane.conflist");
	/* Byte order: ".conf" sorts before ".conflist" of the same stem. */
	ck_assert_int_eq(hli_primary_conf(conf, "05-hostlane.conflist", name, sizeof(name)), 0);
	ck_assert_str_eq(name, "10-calico.conf");
	/* Upper case sorts before lower case, as in Go's sort.Strings. */
	put(conf, "10-Z.conflist", "{}");
	ck_assert_int_eq(hli_primary_conf(conf, "05-hostlane.conflist", name, sizeof(name)), 0);
	ck_assert_str_eq(name, "10-Z.conflist");
}
END_TEST

static const char PRIMARY[] =
	"{\"cniVersion\": \"0.3.1\", \"name\": \"k8s-pod-network\", \"plugins\": ["
	"{\"type\": \"calico\", \"ipam\": {\"type\": \"calico-ipam\"}},"
	"{\"type\": \"portmap\", \"capabilities\": {\"portMappings\": true}}]}";

static cJSON *entry(const char *extra)
{
	char buf[256];

	snprintf(buf, sizeof(buf), "{\"type\": \"hostlane\"%s}", extra);
	return cJSON_Parse(buf);
}

START_TEST(test_chain)
{
	cJSON *e = entry(""), *e2 = entry(", \"fastpath\": \"shm\""), *r, *pl;
	char *out, *out2, *out3;

	ck_assert_int_eq(hli_chain_insert(PRIMARY, strlen(PRIMARY), e, &out), 0);
	ck_assert_ptr_nonnull(out);
	r = cJSON_Parse(out);
	pl = cJSON_GetObjectItem(r, "plugins");
	ck_assert_int_eq(cJSON_GetArraySize(pl), 3);
	ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(pl, 0), "type")->valuestring, "calico");
	ck_assert(cJSON_Compare(cJSON_GetArrayItem(pl, 2), e, 1));
	ck_assert_str_eq(cJSON_GetObjectItem(r, "name")->valuestring, "k8s-pod-network");
	cJSON_Delete(r);
	/* Idempotent: the result needs no rewrite. */
	ck_assert_int_eq(hli_chain_insert(out, strlen(out), e, &out2), 0);
	ck_assert_ptr_null(out2);
	/* A changed entry replaces the old one (still one, still last). */
	ck_assert_int_eq(hli_chain_insert(out, strlen(out), e2, &out2), 0);
	ck_assert_ptr_nonnull(out2);
	r = cJSON_Parse(out2);
	pl = cJSON_GetObjectItem(r, "plugins");
	ck_assert_int_eq(cJSON_GetArraySize(pl), 3);
	ck_assert(cJSON_Compare(cJSON_GetArrayItem(pl, 2), e2, 1));
	cJSON_Delete(r);
	/* Out again: back to the primary's own plugins. */
	ck_assert_int_eq(hli_chain_remove(out2, strlen(out2), "hostlane", &out3), 0);
	r = cJSON_Parse(out3);
	{
		cJSON *orig = cJSON_Parse(PRIMARY);

		ck_assert(cJSON_Compare(r, orig, 1));
		cJSON_Delete(orig);
	}
	cJSON_Delete(r);
	free(out2);
	ck_assert_int_eq(hli_chain_remove(out3, strlen(out3), "hostlane", &out2), 0);
	ck_assert_ptr_null(out2);
	free(out3);
	free(out);
	/* Not a network config: refused, never rewritten. */
	ck_assert_int_eq(hli_chain_insert("{\"cniVers", 9, e, &out), -EINVAL);
	ck_assert_int_eq(hli_chain_insert("{\"plugins\": {}}", 15, e, &out), -EINVAL);
	ck_assert_int_eq(hli_chain_insert("{\"name\": \"x\"}", 13, e, &out), -EINVAL);
	ck_assert_int_eq(hli_chain_remove("[1]", 3, "hostlane", &out), -EINVAL);
	/* A version the plugin does not speak: not chained (every ADD would fail). */
	{
		const char *old = "{\"cniVersion\": \"0.2.0\", \"name\": \"x\", \"type\": \"flannel\"}";
		const char *none = "{\"name\": \"x\", \"plugins\": [{\"type\": \"flannel\"}]}";

		ck_assert_int_eq(hli_chain_insert(old, strlen(old), e, &out), -ENOTSUP);
		ck_assert_int_eq(hli_chain_insert(none, strlen(none), e, &out), -ENOTSUP);
	}
	cJSON_Delete(e);
	cJSON_Delete(e2);
}
END_TEST

START_TEST(test_chain_conf)
{
	const char *c = "{\"cniVersion\": \"0.3.1\", \"name\": \"cbr0\", \"type\": \"flannel\","
			" \"delegate\": {\"isDefaultGateway\": true}}";
	cJSON *e = entry(""), *r, *pl;
	char *out;

	ck_assert_int_eq(hli_chain_insert(c, strlen(c), e, &out), 0);
	r = cJSON_Parse(out);
	ck_assert_str_eq(cJSON_GetObjectItem(r, "name")->valuestring, "cbr0");
	ck_assert_str_eq(cJSON_GetObjectItem(r, "cniVersion")->valuestring, "0.3.1");
	pl = cJSON_GetObjectItem(r, "plugins");
	ck_assert_int_eq(cJSON_GetArraySize(pl), 2);
	ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(pl, 0), "type")->valuestring, "flannel");
	ck_assert_ptr_nonnull(cJSON_GetObjectItem(cJSON_GetArrayItem(pl, 0), "delegate"));
	cJSON_Delete(r);
	free(out);
	cJSON_Delete(e);
}
END_TEST

START_TEST(test_cidr_standalone)
{
	static const char *good[] = { "10.244.1.0/24", "10.0.0.0/8", "fd00:10:244:1::/64", "1.2.3.4/32" };
	static const char *bad[] = { "10.244.1.1/24", "10.244.1.0", "10.244.1.0/", "10.244.1.0/33",
				     "10.244.1.0/0", "10.244.1.0/24x", "x/24", "fd00::1/64", "" };
	struct hli_config c;
	char err[128], *out;
	cJSON *r, *ipam, *range;
	const char *j = "{\"standalone\": {\"plugin\": {\"type\": \"hostlane\", \"mtu\": 1400,"
			" \"ipam\": {\"type\": \"host-local\", \"subnet\": \"10.244.0.0/24\", \"dataDir\": \"/d\"}}}}";

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		ck_assert_msg(hli_cidr_valid(good[i]), "%s", good[i]);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(!hli_cidr_valid(bad[i]), "%s", bad[i]);
	ck_assert_int_eq(hli_config_parse(j, strlen(j), &c, err, sizeof(err)), 0);
	errno = 0;
	ck_assert_ptr_null(hli_standalone_conflist(&c));
	ck_assert_int_eq(errno, EINVAL);
	snprintf(c.pod_cidr, sizeof(c.pod_cidr), "10.244.7.0/24");
	out = hli_standalone_conflist(&c);
	ck_assert_ptr_nonnull(out);
	r = cJSON_Parse(out);
	ck_assert_str_eq(cJSON_GetObjectItem(r, "cniVersion")->valuestring, "1.0.0");
	ipam = cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(r, "plugins"), 0), "ipam");
	ck_assert_ptr_null(cJSON_GetObjectItem(ipam, "subnet"));
	ck_assert_str_eq(cJSON_GetObjectItem(ipam, "dataDir")->valuestring, "/d");
	range = cJSON_GetArrayItem(cJSON_GetArrayItem(cJSON_GetObjectItem(ipam, "ranges"), 0), 0);
	ck_assert_str_eq(cJSON_GetObjectItem(range, "subnet")->valuestring, "10.244.7.0/24");
	cJSON_Delete(r);
	free(out);
	hli_config_free(&c);
}
END_TEST

static struct hli_paths paths(void)
{
	return (struct hli_paths){ .bin_dir = bin, .conf_dir = conf, .plugin = plugin,
				   .run_dir = run, .state_dir = state, .cache_dir = cache };
}

static void run_mode(struct hli_config *c, enum hli_mode m, struct hli_report *r)
{
	struct hli_paths p = paths();

	c->mode = m;
	ck_assert_int_eq(hli_run(c, &p, false, r), 0);
}

START_TEST(test_modes)
{
	struct hli_config c;
	struct hli_report r;
	char err[64], *s, *plist;
	struct stat st;

	ck_assert_int_eq(hli_config_parse(NULL, 0, &c, err, sizeof(err)), 0);
	/* secondary: the binary only, 0755, and a second pass writes nothing. */
	run_mode(&c, HLI_SECONDARY, &r);
	ck_assert_int_eq(r.written, 1);
	s = get(bin, "hostlane");
	ck_assert_str_eq(s, "#!/bin/true\nplugin v1\n");
	free(s);
	ck_assert_int_eq(stat(plugin, &st), 0);
	{
		char p[PATH_MAX + 16];

		snprintf(p, sizeof(p), "%s/hostlane", bin);
		ck_assert_int_eq(stat(p, &st), 0);
		ck_assert_int_eq(st.st_mode & 07777, 0755);
	}
	run_mode(&c, HLI_SECONDARY, &r);
	ck_assert_int_eq(r.written + r.removed, 0);
	/* A new plugin version replaces the old binary. */
	put(root, "plugin", "#!/bin/true\nplugin v2\n");
	run_mode(&c, HLI_SECONDARY, &r);
	ck_assert_int_eq(r.written, 1);

	/* chain with no primary config yet: pending, nothing written. */
	run_mode(&c, HLI_CHAIN, &r);
	ck_assert(r.pending);
	ck_assert_int_eq(r.written, 0);
	put(conf, "10-calico.conflist", PRIMARY);
	put(conf, "99-other.conflist", PRIMARY);
	run_mode(&c, HLI_CHAIN, &r);
	ck_assert(!r.pending);
	ck_assert_int_eq(r.written, 1);
	run_mode(&c, HLI_CHAIN, &r);
	ck_assert_int_eq(r.written, 0);
	/* The primary CNI rewrites its file: the next pass chains again. */
	put(conf, "10-calico.conflist", PRIMARY);
	run_mode(&c, HLI_CHAIN, &r);
	ck_assert_int_eq(r.written, 1);
	plist = get(conf, "10-calico.conflist");
	ck_assert_ptr_nonnull(strstr(plist, "\"hostlane\""));
	free(plist);
	s = get(conf, "99-other.conflist");
	ck_assert_str_eq(s, PRIMARY);
	free(s);
	/* A half-written primary is left alone (and 99-other is not used). */
	put(conf, "10-calico.conflist", "{\"cniVersion\": \"0.3.1\", \"plu");
	run_mode(&c, HLI_CHAIN, &r);
	ck_assert(r.pending);
	s = get(conf, "99-other.conflist");
	ck_assert_str_eq(s, PRIMARY);
	free(s);
	put(conf, "10-calico.conflist", PRIMARY);

	/* standalone: its own file with the node's range; the chain entry out. */
	run_mode(&c, HLI_CHAIN, &r);
	snprintf(c.pod_cidr, sizeof(c.pod_cidr), "10.244.3.0/24");
	run_mode(&c, HLI_STANDALONE, &r);
	s = get(conf, "10-hostlane.conflist");
	ck_assert_ptr_nonnull(s);
	ck_assert_ptr_nonnull(strstr(s, "10.244.3.0/24"));
	free(s);
	run_mode(&c, HLI_STANDALONE, &r);
	ck_assert_int_eq(r.written, 0);

	/* uninstall with a pod attached keeps the binary; without, all goes. */
	ck_assert_int_eq(mkdir(cache, 0700), 0);
	put(cache, "hl0123", "{}");
	ck_assert_int_eq(mkdir(run, 0755), 0);
	put(run, "agent.sock", "");
	ck_assert_int_eq(mkdir(state, 0755), 0);
	put(state, "pods.json", "{}");
	run_mode(&c, HLI_UNINSTALL, &r);
	ck_assert(r.kept_bin);
	ck_assert(exists(bin, "hostlane"));
	ck_assert(!exists(conf, "10-hostlane.conflist"));
	ck_assert(!exists(root, "run"));
	ck_assert(!exists(root, "state"));
	s = get(conf, "10-calico.conflist");
	{
		cJSON *a = cJSON_Parse(s), *b = cJSON_Parse(PRIMARY);

		ck_assert(cJSON_Compare(a, b, 1));
		cJSON_Delete(a);
		cJSON_Delete(b);
	}
	free(s);
	s = get(cache, "hl0123");
	free(s);
	{
		char p[PATH_MAX + 16];

		snprintf(p, sizeof(p), "%s/hl0123", cache);
		unlink(p);
	}
	run_mode(&c, HLI_UNINSTALL, &r);
	ck_assert(!r.kept_bin);
	ck_assert(!exists(bin, "hostlane"));
	ck_assert(!exists(root, "cache"));
	/* No temporary file left anywhere. */
	ck_assert_int_eq(hli_dir_empty(bin), 1);
	hli_config_free(&c);
}
END_TEST

START_TEST(test_write_atomic)
{
	char p[PATH_MAX + 16], *s;

	snprintf(p, sizeof(p), "%s/f.conflist", conf);
	ck_assert_int_eq(hli_write_atomic(p, "one", 3, 0644), 0);
	ck_assert_int_eq(hli_write_atomic(p, "two!", 4, 0600), 0);
	s = get(conf, "f.conflist");
	ck_assert_str_eq(s, "two!");
	free(s);
	ck_assert_int_eq(hli_remove_tree(p), 0);
	ck_assert_int_eq(hli_dir_empty(conf), 1);
	snprintf(p, sizeof(p), "%s/none/f", conf);
	ck_assert_int_eq(hli_write_atomic(p, "x", 1, 0644), -ENOENT);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("install");
	TCase *tc = tcase_create("install");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_config);
	tcase_add_test(tc, test_primary);
	tcase_add_test(tc, test_chain);
	tcase_add_test(tc, test_chain_conf);
	tcase_add_test(tc, test_cidr_standalone);
	tcase_add_test(tc, test_modes);
	tcase_add_test(tc, test_write_atomic);
	suite_add_tcase(s, tc);
	return hl_check_run(s);
}
