/* SPDX-License-Identifier: Apache-2.0 */
/* Host veth naming, ifalias tags, cached state files and the lock. */
#include "../src/cni.h"
#include "hl_check.h"

#include <check.h>
#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

/* FNV-1a 64 of "net" 0xff "ctr1" 0xff "eth0" 0xff, low 48 bits (computed independently). */
#define GOLDEN_NAME "hl712b1287fcf4"

static char root[256];

static void rm_rf(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char p[PATH_MAX + 256];

	if (!d)
		return;
	while ((de = readdir(d))) {
		struct stat st;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
		if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode))
			rm_rf(p);
		else
			unlink(p);
	}
	closedir(d);
	rmdir(dir);
}

static void setup(void)
{
	snprintf(root, sizeof(root), "/tmp/hl-test-cache.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(root));
}

static void teardown(void)
{
	rm_rf(root);
}

START_TEST(test_veth_name)
{
	char a[IF_NAMESIZE], b[IF_NAMESIZE], c[IF_NAMESIZE], d[IF_NAMESIZE];

	cni_host_veth_name("net", "ctr1", "eth0", a);
	cni_host_veth_name("net", "ctr1", "eth0", b);
	cni_host_veth_name("net", "ctr2", "eth0", c);
	/* The separator keeps field boundaries apart: ("ab","c") != ("a","bc"). */
	cni_host_veth_name("net", "ctr1e", "th0", d);
	ck_assert_str_eq(a, b);
	ck_assert_str_ne(a, c);
	ck_assert_str_ne(a, d);
	ck_assert_uint_eq(strlen(a), 14);
	ck_assert(strncmp(a, "hl", 2) == 0);
	ck_assert(strspn(a + 2, "0123456789abcdef") == 12);
	/* Fixed: DEL and GC on another boot must derive the same name. */
	ck_assert_str_eq(a, GOLDEN_NAME);
}
END_TEST

START_TEST(test_alias)
{
	char al[256], cid[256], ifn[IF_NAMESIZE];

	ck_assert_int_eq(cni_alias("net1", "ctr", "eth0", al, sizeof(al)), 0);
	ck_assert_str_eq(al, "hostlane:net1:ctr:eth0");
	ck_assert(cni_alias_split(al, "net1", cid, sizeof(cid), ifn, sizeof(ifn)));
	ck_assert_str_eq(cid, "ctr");
	ck_assert_str_eq(ifn, "eth0");
	ck_assert(!cni_alias_split(al, "net", cid, sizeof(cid), ifn, sizeof(ifn)));
	ck_assert(!cni_alias_split(al, "net12", cid, sizeof(cid), ifn, sizeof(ifn)));
	ck_assert(!cni_alias_split("hostlane:net1:ctr", "net1", cid, sizeof(cid), ifn, sizeof(ifn)));
	ck_assert(!cni_alias_split("other:net1:ctr:eth0", "net1", cid, sizeof(cid), ifn, sizeof(ifn)));
	ck_assert(!cni_alias_split("hostlane:net1::eth0", "net1", cid, sizeof(cid), ifn, sizeof(ifn)));
	ck_assert_int_eq(cni_alias("n", "c", "e", al, 5), -ENAMETOOLONG);
}
END_TEST

START_TEST(test_cache_roundtrip)
{
	struct cni_cache_entry w = { .containerid = "ctr1", .ifname = "eth0", .netns = "/run/netns/x",
				     .host_veth = "hl0123456789ab", .bridge = "br0",
				     .ipam_conf = "{\"cniVersion\":\"1.0.0\"}" };
	struct cni_cache_entry r;
	char path[PATH_MAX];
	struct stat st;

	w.ipam_result = cJSON_Parse("{\"ips\":[{\"address\":\"10.0.0.2/24\"}]}");
	ck_assert_int_eq(cni_cache_write(root, "net1", &w), 0);
	ck_assert_int_eq(cni_cache_path(root, "net1", "ctr1", "eth0", path, sizeof(path)), 0);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0600);
	ck_assert_int_eq(cni_cache_read(root, "net1", "ctr1", "eth0", &r), 0);
	ck_assert_str_eq(r.containerid, "ctr1");
	ck_assert_str_eq(r.ifname, "eth0");
	ck_assert_str_eq(r.netns, "/run/netns/x");
	ck_assert_str_eq(r.host_veth, "hl0123456789ab");
	ck_assert_str_eq(r.bridge, "br0");
	ck_assert_str_eq(r.ipam_conf, "{\"cniVersion\":\"1.0.0\"}");
	ck_assert(!r.chained);
	ck_assert(cJSON_Compare(r.ipam_result, w.ipam_result, 1));
	cni_cache_entry_free(&r);
	/* Overwrite is atomic and complete. */
	w.chained = true;
	ck_assert_int_eq(cni_cache_write(root, "net1", &w), 0);
	ck_assert_int_eq(cni_cache_read(root, "net1", "ctr1", "eth0", &r), 0);
	ck_assert(r.chained);
	cni_cache_entry_free(&r);
	ck_assert_int_eq(cni_cache_read(root, "net1", "ctr2", "eth0", &r), -ENOENT);
	ck_assert_int_eq(cni_cache_remove(root, "net1", "ctr1", "eth0"), 0);
	ck_assert_int_eq(cni_cache_remove(root, "net1", "ctr1", "eth0"), 0);
	ck_assert_int_eq(cni_cache_read(root, "net1", "ctr1", "eth0", &r), -ENOENT);
	cJSON_Delete(w.ipam_result);
}
END_TEST

START_TEST(test_cache_corrupt)
{
	char path[PATH_MAX], dir[PATH_MAX];
	struct cni_cache_entry r;
	FILE *f;

	snprintf(dir, sizeof(dir), "%s/net1", root);
	ck_assert_int_eq(mkdir(dir, 0700), 0);
	ck_assert_int_eq(cni_cache_path(root, "net1", "c", "eth0", path, sizeof(path)), 0);
	f = fopen(path, "w");
	fputs("{\"containerID\":\"c\"", f);
	fclose(f);
	ck_assert_int_eq(cni_cache_read(root, "net1", "c", "eth0", &r), -EBADMSG);
	f = fopen(path, "w");
	fputs("{\"containerID\":\"c\",\"ifname\":\"eth0\",\"hostVeth\":\"waytoolonganame123\",\"bridge\":\"b\"}", f);
	fclose(f);
	ck_assert_int_eq(cni_cache_read(root, "net1", "c", "eth0", &r), -EBADMSG);
}
END_TEST

START_TEST(test_lock)
{
	char path[PATH_MAX];
	int fd, other;

	snprintf(path, sizeof(path), "%s/sub/dir", root);
	fd = cni_lock(path);
	ck_assert_int_ge(fd, 0);
	other = open(path, O_RDONLY | O_DIRECTORY);
	ck_assert_int_ge(other, 0);
	/* Held: a second description cannot take it. */
	ck_assert_int_eq(flock(other, LOCK_EX | LOCK_NB), -1);
	cni_unlock(fd);
	ck_assert_int_eq(flock(other, LOCK_EX | LOCK_NB), 0);
	close(other);
	/* No lock file left behind. */
	{
		DIR *d = opendir(path);
		struct dirent *de;
		int n = 0;

		while ((de = readdir(d)))
			n += de->d_name[0] != '.';
		closedir(d);
		ck_assert_int_eq(n, 0);
	}
}
END_TEST

START_TEST(test_find_plugin)
{
	char out[PATH_MAX], bin[PATH_MAX], dir2[300];
	FILE *f;

	snprintf(dir2, sizeof(dir2), "%s/b", root);
	mkdir(dir2, 0700);
	snprintf(bin, sizeof(bin), "%s/myipam", dir2);
	f = fopen(bin, "w");
	fputs("#!/bin/sh\n", f);
	fclose(f);
	ck_assert_int_eq(cni_find_plugin(dir2, "myipam", out, sizeof(out)), -ENOENT); /* not +x */
	chmod(bin, 0755);
	snprintf(out, sizeof(out), "/nonexistent::%s", dir2);
	{
		char p[PATH_MAX];

		ck_assert_int_eq(cni_find_plugin(out, "myipam", p, sizeof(p)), 0);
		ck_assert_str_eq(p, bin);
	}
	ck_assert_int_eq(cni_find_plugin(dir2, "../b/myipam", out, sizeof(out)), -EINVAL);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("cni_cache");
	TCase *tc = tcase_create("cache");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_veth_name);
	tcase_add_test(tc, test_alias);
	tcase_add_test(tc, test_cache_roundtrip);
	tcase_add_test(tc, test_cache_corrupt);
	tcase_add_test(tc, test_lock);
	tcase_add_test(tc, test_find_plugin);
	suite_add_tcase(s, tc);
	return hl_check_run(s);
}
