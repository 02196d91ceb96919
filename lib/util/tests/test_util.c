/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of lib/util's file-system helpers. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hl_check.h"
#include "hl_util.h"

static char dir[PATH_MAX];

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/hl-util-%d-XXXXXX", (int)getpid());
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void teardown(void)
{
	char cmd[PATH_MAX + 16];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

static char *slurp(const char *path)
{
	static char buf[256];
	int fd = open(path, O_RDONLY);
	ssize_t n;

	ck_assert_int_ge(fd, 0);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	ck_assert_int_ge(n, 0);
	buf[n] = '\0';
	return buf;
}

START_TEST(mkdir_p_creates_parents_with_modes)
{
	char p[PATH_MAX + 16];
	struct stat st;

	snprintf(p, sizeof(p), "%s/a/b/c/", dir);
	ck_assert_int_eq(hl_mkdir_p(p, 0700), 0);
	ck_assert_int_eq(hl_mkdir_p(p, 0700), 0);  /* exists: fine */
	snprintf(p, sizeof(p), "%s/a/b/c", dir);
	ck_assert_int_eq(stat(p, &st), 0);
	ck_assert_int_eq(st.st_mode & 0077, 0);  /* 0700 asked */
	snprintf(p, sizeof(p), "%s/a", dir);
	ck_assert_int_eq(stat(p, &st), 0);
	ck_assert(S_ISDIR(st.st_mode));
	ck_assert_int_eq(hl_mkdir_p("", 0700), -EINVAL);
}
END_TEST

START_TEST(mkdir_p_refuses_a_file_in_the_way)
{
	char f[PATH_MAX + 16], p[PATH_MAX + 32];

	snprintf(f, sizeof(f), "%s/file", dir);
	ck_assert_int_eq(hl_write_atomic(f, "x", 1, 0600, NULL), 0);
	ck_assert_int_eq(hl_mkdir_p(f, 0700), -ENOTDIR);
	snprintf(p, sizeof(p), "%s/sub", f);
	ck_assert_int_eq(hl_mkdir_p(p, 0700), -ENOTDIR);
	snprintf(p, sizeof(p), "%s/x/y/f.json", dir);
	ck_assert_int_eq(hl_mkdir_parent(p), 0);
	snprintf(p, sizeof(p), "%s/x/y", dir);
	ck_assert_int_eq(access(p, F_OK), 0);
}
END_TEST

static int calls;
static char probe_path[PATH_MAX + 16];
static void before_rename(void)
{
	/* The old content is still there when the hook runs. */
	ck_assert_str_eq(slurp(probe_path), "old");
	calls++;
}

START_TEST(write_atomic_replaces_whole_file)
{
	struct stat st;
	char names[4096];
	FILE *ls;
	char cmd[PATH_MAX + 32];

	snprintf(probe_path, sizeof(probe_path), "%s/f.conf", dir);
	ck_assert_int_eq(hl_write_atomic(probe_path, "old", 3, 0644, NULL), 0);
	ck_assert_int_eq(hl_write_atomic(probe_path, "new-content", 11, 0600, before_rename), 0);
	ck_assert_int_eq(calls, 1);
	ck_assert_str_eq(slurp(probe_path), "new-content");
	ck_assert_int_eq(stat(probe_path, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0600);
	/* No temporary file is left next to it. */
	snprintf(cmd, sizeof(cmd), "ls -A '%s'", dir);
	ls = popen(cmd, "r");
	ck_assert_ptr_nonnull(ls);
	names[fread(names, 1, sizeof(names) - 1, ls)] = '\0';
	pclose(ls);
	ck_assert_str_eq(names, "f.conf\n");
}
END_TEST

START_TEST(write_atomic_fails_cleanly)
{
	char p[PATH_MAX + 16];

	snprintf(p, sizeof(p), "%s/missing/f", dir);
	ck_assert_int_eq(hl_write_atomic(p, "x", 1, 0600, NULL), -ENOENT);
}
END_TEST

START_TEST(write_all_writes_everything)
{
	int fds[2];
	char buf[70000], out[70000];
	size_t got = 0;

	memset(buf, 'q', sizeof(buf));
	ck_assert_int_eq(pipe(fds), 0);
	if (fork() == 0) {
		close(fds[0]);
		_exit(hl_write_all(fds[1], buf, sizeof(buf)) == 0 ? 0 : 1);
	}
	close(fds[1]);
	for (ssize_t n; (n = read(fds[0], out + got, sizeof(out) - got)) > 0;)
		got += (size_t)n;
	close(fds[0]);
	ck_assert_uint_eq(got, sizeof(buf));
	ck_assert_int_eq(memcmp(buf, out, sizeof(buf)), 0);
	{
		int st;

		ck_assert_int_gt(wait(&st), 0);
		ck_assert_int_eq(WEXITSTATUS(st), 0);
	}
}
END_TEST

START_TEST(lock_path_excludes_another_holder)
{
	char p[PATH_MAX + 16];
	int fd, other;

	snprintf(p, sizeof(p), "%s/x.lock", dir);
	fd = hl_lock_path(p);
	ck_assert_int_ge(fd, 0);
	other = open(p, O_RDWR);
	ck_assert_int_ge(other, 0);
	ck_assert_int_eq(flock(other, LOCK_EX | LOCK_NB), -1);
	ck_assert_int_eq(errno, EWOULDBLOCK);
	close(fd);
	ck_assert_int_eq(flock(other, LOCK_EX | LOCK_NB), 0);
	close(other);
	/* A directory is its own lock. */
	fd = hl_lock_path(dir);
	ck_assert_int_ge(fd, 0);
	close(fd);
}
END_TEST

/* The buffer grows past its first allocation, stays NUL-terminated, and a
 * ceiling refuses an append whole. */
START_TEST(buf_grows_and_keeps_its_ceiling)
{
	struct hl_buf b = { .max = 10000 };
	char chunk[1000];

	memset(chunk, 'x', sizeof(chunk));
	ck_assert_int_eq(hl_buf_append(&b, NULL, 0), 0);
	ck_assert_ptr_nonnull(b.p);
	ck_assert_str_eq(b.p, "");
	for (int i = 0; i < 10; i++)
		ck_assert_int_eq(hl_buf_append(&b, chunk, sizeof(chunk)), 0);
	ck_assert_uint_eq(b.len, 10000);
	ck_assert_uint_ge(b.cap, 10001);
	ck_assert_int_eq(b.p[10000], '\0');
	ck_assert_int_eq(hl_buf_append(&b, "y", 1), -EFBIG);
	ck_assert_uint_eq(b.len, 10000);
	hl_buf_free(&b);
	ck_assert_ptr_null(b.p);
	ck_assert_uint_eq(b.len, 0);
	b.max = 0;     /* no ceiling */
	for (int i = 0; i < 20; i++)
		ck_assert_int_eq(hl_buf_append(&b, chunk, sizeof(chunk)), 0);
	ck_assert_uint_eq(b.len, 20000);
	ck_assert_uint_eq(strspn(b.p, "x"), 20000);
	hl_buf_free(&b);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("util");
	TCase *t = tcase_create("fs");

	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, mkdir_p_creates_parents_with_modes);
	tcase_add_test(t, mkdir_p_refuses_a_file_in_the_way);
	tcase_add_test(t, write_atomic_replaces_whole_file);
	tcase_add_test(t, write_atomic_fails_cleanly);
	tcase_add_test(t, write_all_writes_everything);
	tcase_add_test(t, lock_path_excludes_another_holder);
	tcase_add_test(t, buf_grows_and_keeps_its_ceiling);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	return hl_check_run(suite());
}
