/* SPDX-License-Identifier: MIT */
/*
 * Fault containment (shmq_fault_contain): a real SIGBUS in a region
 * mapping (the memfd cut short under it, as a peer's hole punch or a
 * hugetlb cgroup at its limit would make one) is contained by a handler
 * that calls it: the page is replaced, the region marked, the rings in it
 * broken, the process alive. A fault elsewhere is not ours; regions
 * discarded drop their memory.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hl_check.h"
#include "shmq.h"
#include "shmq_abi.h"

static volatile sig_atomic_t contained, foreign;
static sigjmp_buf foreign_jmp;

static void on_sigbus(int sig, siginfo_t *si, void *ctx)
{
	(void)sig; (void)ctx;
	if (shmq_fault_contain(si->si_addr) > 0) {
		contained++;
		return;
	}
	foreign++;
	siglongjmp(foreign_jmp, 1);
}

static void handler_on(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_sigbus;
	sa.sa_flags = SA_SIGINFO | SA_NODEFER;
	sigaction(SIGBUS, &sa, NULL);
}

/* A region on an unsealed memfd of our own (so the test can cut it short),
 * laid out with 2 pairs of 4 KiB: a copy of a created region's header. */
static int region_fd(size_t *size)
{
	struct shmq_region *src = shmq_region_create(1 << 20, SHMQ_REGION_NO_HUGETLB, NULL, NULL);
	int fd = memfd_create("fault", MFD_CLOEXEC);
	void *p;

	ck_assert_ptr_nonnull(src);
	ck_assert_int_eq(shmq_region_layout(src, 2, 4096), 0);
	*size = shmq_region_size(src);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(ftruncate(fd, (off_t)*size), 0);
	p = mmap(NULL, *size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ck_assert_ptr_ne(p, MAP_FAILED);
	ck_assert_int_eq(pread(shmq_region_fd(src), p, SHMQ_REGION_HDR_SIZE, 0), SHMQ_REGION_HDR_SIZE);
	munmap(p, *size);
	shmq_region_close(src);
	return fd;
}

START_TEST(test_real_sigbus)
{
	size_t size;
	int fd = region_fd(&size);
	struct shmq_region *r;
	struct shmq_ep *a, *b;
	char buf[64];

	handler_on();
	r = shmq_region_map(fd);
	ck_assert_ptr_nonnull(r);
	ck_assert_int_eq(shmq_pair_init(r, 1, SHMQ_MODE_STREAM), 0);
	a = shmq_ep_attach(r, 1, 0);
	b = shmq_ep_attach(r, 1, 1);
	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_nonnull(b);
	ck_assert_int_eq(shmq_write(a, "hello", 5), 5);
	ck_assert_int_eq(shmq_region_faulted(r), 0);
	/* The pages of the rings go away under the mapping: the next access
	 * is a real SIGBUS. */
	ck_assert_int_eq(ftruncate(fd, SHMQ_REGION_HDR_SIZE), 0);
	ck_assert_int_lt(shmq_read(b, buf, sizeof(buf), 0), 0);
	ck_assert_int_ge(contained, 1);
	ck_assert_int_eq(foreign, 0);
	ck_assert_int_eq(shmq_region_faulted(r), 1);
	/* Broken for good, both sides, and a slot that cannot be recycled. */
	ck_assert_int_lt(shmq_read(b, buf, sizeof(buf), 0), 0);
	ck_assert_int_ne(shmq_pair_closed(r, 1), 0);
	shmq_ep_close(a);
	shmq_ep_close(b);
	shmq_region_close(r);
	close(fd);
}
END_TEST

START_TEST(test_not_ours)
{
	int fd = memfd_create("plain", MFD_CLOEXEC);
	volatile char *p;

	handler_on();
	ck_assert_int_eq(shmq_fault_contain(&fd), 0);
	ck_assert_int_eq(ftruncate(fd, 8192), 0);
	p = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ck_assert_ptr_ne((void *)p, MAP_FAILED);
	ck_assert_int_eq(ftruncate(fd, 0), 0);
	if (!sigsetjmp(foreign_jmp, 1))
		p[100] = 1;  /* SIGBUS, not in a region: left to the handler */
	ck_assert_int_eq(foreign, 1);
	munmap((void *)p, 8192);
	close(fd);
}
END_TEST

START_TEST(test_discard)
{
	struct shmq_region *r = shmq_region_create(1 << 20, SHMQ_REGION_NO_HUGETLB, NULL, NULL);
	struct stat st;
	uint8_t *p;

	ck_assert_ptr_nonnull(r);
	p = shmq_region_tail(r, 4096);
	memset(p, 0x5a, 4096);
	ck_assert_int_eq(fstat(shmq_region_fd(r), &st), 0);
	ck_assert_int_gt(st.st_blocks, 0);
	ck_assert_int_eq(shmq_region_discard(r), 0);
	ck_assert_int_eq(fstat(shmq_region_fd(r), &st), 0);
	ck_assert_int_eq(st.st_blocks, 0);  /* no page left in the memfd */
	ck_assert_int_eq(p[0], 0);          /* what a mapping sees: fresh zeroes */
	shmq_region_close(r);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("shmq_fault");
	TCase *tc = tcase_create("fault");

	tcase_add_test(tc, test_real_sigbus);
	tcase_add_test(tc, test_not_ours);
	tcase_add_test(tc, test_discard);
	suite_add_tcase(s, tc);
	return hl_check_run(s);
}
