/* SPDX-License-Identifier: Apache-2.0 */
/* The library directory the init container fills: the glibc build under
 * every $LIB name the loader may use, the musl build under the literal
 * "$LIB", relative links, an init container that runs again. */
#include "hl_check.h"
#include "inject_private.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

void libdir_tcases(Suite *s);

static void put_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

static void expect_file(const char *path, const char *text)
{
	char buf[64] = "";
	FILE *f = fopen(path, "r");

	ck_assert_msg(f, "%s opens", path);
	ck_assert_ptr_nonnull(fgets(buf, sizeof(buf), f));
	fclose(f);
	ck_assert_str_eq(buf, text);
}

START_TEST(libdir)
{
	char dir[] = "/tmp/hlinject-XXXXXX", p[PATH_MAX], g[PATH_MAX], m[PATH_MAX], lnk[64];
	static const char *const names[] = { "lib", "lib64", "lib/x86_64-linux-gnu", "lib/aarch64-linux-gnu" };
	ssize_t n;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(g, sizeof(g), "%s/g.so", dir);
	snprintf(m, sizeof(m), "%s/m.so", dir);
	put_file(g, "glibc\n");
	put_file(m, "musl\n");
	snprintf(p, sizeof(p), "%s/out", dir);
	for (int round = 0; round < 2; round++) {   /* an init container that runs again */
		ck_assert_int_eq(hl_inject_libdir(p, g, m), 0);
		for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
			snprintf(p, sizeof(p), "%s/out/%s/libhostlane.so", dir, names[i]);
			expect_file(p, "glibc\n");
		}
		snprintf(p, sizeof(p), "%s/out/$LIB/libhostlane.so", dir);
		expect_file(p, "musl\n");
		snprintf(p, sizeof(p), "%s/out/lib64/libhostlane.so", dir);
		n = readlink(p, lnk, sizeof(lnk) - 1);
		ck_assert_int_gt(n, 0);
		lnk[n] = '\0';
		ck_assert_str_eq(lnk, "../glibc/libhostlane.so");   /* relative */
		snprintf(p, sizeof(p), "%s/out", dir);
	}
	snprintf(p, sizeof(p), "%s/nope", dir);
	ck_assert_int_eq(hl_inject_libdir(p, "/nonexistent/libhostlane.so", NULL), -ENOENT);
	snprintf(p, sizeof(p), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(p), 0);
}
END_TEST

void libdir_tcases(Suite *s)
{
	TCase *t = tcase_create("libdir");

	tcase_add_test(t, libdir);
	suite_add_tcase(s, t);
}
