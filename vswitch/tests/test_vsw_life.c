/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of the switch's life as its supervisor sees it: restart
 * back-off, the pid file and process identity (a process is signalled only
 * under its own start time), a failing start waiting out the back-off. */
#include <check.h>
#include <errno.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vsw_backoff.h"
#include "vsw_pidfile.h"
#include "vsw_sup.h"
#include "hl_check.h"

extern char **environ;

/* ---- restart back-off ----------------------------------------------------- */

static const struct backoff_case {
	const char *what;
	uint32_t base, cap, healthy;
	uint64_t ran[8];      /* how long each run lasted before the exit */
	uint32_t want[8];     /* the delay before the next start; 0 ends */
} backoff_cases[] = {
	{ "defaults: 1 s doubling to 30 s", 0, 0, 0,
	  { 0, 0, 0, 0, 0, 0, 0 }, { 1000, 2000, 4000, 8000, 16000, 30000, 30000 } },
	{ "a healthy run resets to the base", 0, 0, 0,
	  { 0, 0, 0, 30000, 0, 29999, 0 }, { 1000, 2000, 4000, 1000, 2000, 4000, 8000 } },
	{ "cap not a power of two of the base", 300, 1000, 5000,
	  { 0, 0, 0, 0, 0 }, { 300, 600, 1000, 1000, 1000 } },
	{ "cap below the base is the base", 500, 100, 1000,
	  { 0, 0, 5000, 0 }, { 500, 500, 500, 500 } },
	{ "reset even from the cap", 1000, 4000, 10000,
	  { 0, 0, 0, 0, 10000, 0 }, { 1000, 2000, 4000, 4000, 1000, 2000 } },
	{ "near UINT32_MAX the cap holds", 0x80000000u, 0xffffffffu, 0xffffffffu,
	  { 0, 0, 0 }, { 0x80000000u, 0xffffffffu, 0xffffffffu } },
};

START_TEST(backoff_sequences)
{
	const struct backoff_case *c = &backoff_cases[_i];
	struct vsw_backoff b;

	vsw_backoff_init(&b, c->base, c->cap, c->healthy);
	for (int k = 0; k < 8 && c->want[k]; k++) {
		uint32_t d = vsw_backoff_next(&b, c->ran[k]);
		ck_assert_msg(d == c->want[k], "%s: step %d: %u ms, want %u", c->what, k, d,
			      c->want[k]);
	}
}
END_TEST

/* ---- pid file and process identity ---------------------------------------- */

START_TEST(stat_parse)
{
	uint64_t t = 0;
	char st = 0;
	/* The command name is the process's to choose: ") x (" included. */
	const char *l = "77 (a) R 1 (b) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 12345 19 20\n";

	ck_assert_int_eq(vsw_stat_parse(l, strlen(l), &st, &t), 0);
	ck_assert_int_eq(st, 'S');
	ck_assert_uint_eq(t, 12345);
	ck_assert_int_eq(vsw_stat_parse("1 (x) S 1 2", 11, &st, &t), -EINVAL);
	ck_assert_int_eq(vsw_stat_parse("1 x S", 5, &st, &t), -EINVAL);
	ck_assert_int_eq(vsw_stat_parse("1 (x) SS 1", 10, &st, &t), -EINVAL);
	ck_assert_int_eq(vsw_proc_start(getpid(), &t), 0);
	ck_assert_int_eq(vsw_proc_is(getpid(), t), 1);
	ck_assert_int_eq(vsw_proc_is(getpid(), t + 1), 0);
}
END_TEST

START_TEST(pidfile_claim)
{
	char path[] = "/tmp/hl-vsw-pid-XXXXXX", file[64];
	pid_t pid;
	uint64_t start, mine;
	int fd;

	ck_assert_ptr_nonnull(mkdtemp(path));
	snprintf(file, sizeof(file), "%s/vswitch.pid", path);
	ck_assert_int_eq(vsw_pidfile_read(file, &pid, &start), -ENOENT);
	fd = vsw_pidfile_claim(file);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(vsw_pidfile_read(file, &pid, &start), 0);
	ck_assert_int_eq(pid, getpid());
	ck_assert_int_eq(vsw_proc_start(getpid(), &mine), 0);
	ck_assert_uint_eq(start, mine);
	/* The lock is per open file: a second claim fails while we hold it. */
	ck_assert_int_eq(vsw_pidfile_claim(file), -EBUSY);
	vsw_pidfile_release(file, fd);
	ck_assert_int_eq(access(file, F_OK), -1);
	fd = vsw_pidfile_claim(file);
	ck_assert_int_ge(fd, 0);
	vsw_pidfile_release(file, fd);
	ck_assert_int_eq(vsw_pidfile_parse("12 34\n", 6, &pid, &start), 0);
	ck_assert_int_eq(pid, 12);
	ck_assert_uint_eq(start, 34);
	ck_assert_int_eq(vsw_pidfile_parse("12 34", 5, &pid, &start), -EINVAL);
	ck_assert_int_eq(vsw_pidfile_parse("0 34\n", 5, &pid, &start), -EINVAL);
	ck_assert_int_eq(vsw_pidfile_parse("-1 34\n", 6, &pid, &start), -EINVAL);
	ck_assert_int_eq(vsw_pidfile_parse("12 34\nx", 7, &pid, &start), -EINVAL);
	ck_assert_int_eq(rmdir(path), 0);
}
END_TEST

static pid_t spawn_sleep(char *const argv[])
{
	pid_t pid;

	ck_assert_int_eq(posix_spawn(&pid, argv[0], NULL, NULL, argv, environ), 0);
	return pid;
}

/* A process is only ever signalled under its own start time. */
START_TEST(stop_only_the_named_process)
{
	char *args[] = { "/bin/sleep", "30", NULL };
	char *other[] = { "/bin/sleep", "31", NULL };
	char *prefix[] = { "/bin/sleep", NULL };
	char *ctl_args[] = { "/bin/true", NULL };
	struct hl_vsw_sup_opts o = { .argv = ctl_args, .ctl_path = "/nonexistent/x.sock" };
	struct hl_vsw_sup *s = hl_vsw_sup_new(&o);
	pid_t pid = spawn_sleep(args);
	uint64_t start = 0;
	int st;

	ck_assert_ptr_nonnull(s);
	/* The child runs sleep once exec is through; wait for it. */
	for (int i = 0; i < 500 && vsw_proc_cmdline_is(pid, args) != 1; i++)
		usleep(2000);
	ck_assert_int_eq(vsw_proc_cmdline_is(pid, args), 1);
	ck_assert_int_eq(vsw_proc_cmdline_is(pid, other), 0);
	ck_assert_int_eq(vsw_proc_cmdline_is(pid, prefix), 0);
	ck_assert_int_eq(vsw_proc_start(pid, &start), 0);
	vsw_sup_stop_pid(s, pid, start + 1, -1);
	ck_assert_int_eq(vsw_proc_is(pid, start), 1);
	vsw_sup_stop_pid(s, pid, start, -1);
	ck_assert_int_eq(vsw_proc_is(pid, start), 0);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM);
	ck_assert_int_eq(vsw_proc_cmdline_is(pid, args), -ESRCH);
	hl_vsw_sup_free(s);
}
END_TEST

/* A start that fails waits out the back-off: nothing is spawned before it
 * is due, and the delays double. The clock is only ever waited past. */
START_TEST(sup_backoff)
{
	char *args[] = { "/bin/true", NULL };
	struct hl_vsw_sup_opts o = { .argv = args, .ctl_path = "/nonexistent/x.sock",
				     .backoff_base_ms = 3600000 };
	struct hl_vsw_sup *s = hl_vsw_sup_new(&o);
	int next;

	ck_assert_ptr_nonnull(s);
	/* /bin/true exits at once: start notices instead of hanging. */
	ck_assert_int_eq(hl_vsw_sup_start(s, 2000), -ECHILD);
	ck_assert_int_eq(hl_vsw_sup_pid(s), 0);
	ck_assert_int_eq(hl_vsw_sup_fd(s), -1);
	next = hl_vsw_sup_next_ms(s);
	ck_assert_int_gt(next, 0);
	ck_assert_int_le(next, 3600000);
	ck_assert_int_eq(hl_vsw_sup_handle_event(s, 2000), 0);  /* not due: nothing */
	ck_assert_uint_eq(hl_vsw_sup_restarts(s), 0);
	hl_vsw_sup_free(s);

	o.backoff_base_ms = 1;
	s = hl_vsw_sup_new(&o);
	ck_assert_int_eq(hl_vsw_sup_start(s, 2000), -ECHILD);
	ck_assert_int_le(hl_vsw_sup_next_ms(s), 1);
	usleep(5000);
	ck_assert_int_eq(hl_vsw_sup_next_ms(s), 0);
	ck_assert_int_eq(hl_vsw_sup_handle_event(s, 2000), -ECHILD);
	ck_assert_uint_eq(hl_vsw_sup_restarts(s), 1);
	ck_assert_int_le(hl_vsw_sup_next_ms(s), 2);  /* doubled */
	hl_vsw_sup_free(s);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("vsw_life");
	TCase *t = tcase_create("life");

	tcase_add_loop_test(t, backoff_sequences, 0,
			    (int)(sizeof(backoff_cases) / sizeof(backoff_cases[0])));
	tcase_add_test(t, stat_parse);
	tcase_add_test(t, pidfile_claim);
	tcase_add_test(t, stop_only_the_named_process);
	tcase_add_test(t, sup_backoff);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	return hl_check_run(suite());
}
