/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fork() and vfork() of a process holding hostlane sockets
 * (docs/preload.md, "fork").
 *
 * fork(): the kernel counts the child as a holder of every socket the
 * moment fork() returns, so a parent that closes its copy at once (a
 * fork-per-connection server) does not end the connection for the peer.
 * The layer's holder lists are in shared memory; the child would add
 * itself when it first runs, which may be after the parent's close. So the
 * wrapper registers the child in the parent, before fork() returns, with
 * closes held off meanwhile (pl_sock_fork_begin()/_end()). The pthread_atfork
 * handlers (pl_libc.c) do the rest, also for forks that do not come here.
 *
 * vfork(): the child runs in the parent's memory until it execs or exits,
 * so nothing the layer does there may touch the layer's state (a close()
 * in the child would free the parent's socket). The wrapper marks the
 * calling thread (pl_vforked, thread-local: the child runs on the parent
 * thread's memory) and jumps to the real vfork() without a frame of its
 * own, as vfork() requires; a call into the layer that finds the mark looks
 * at the real pid: in the child every call goes straight to libc, in the
 * parent (after the child exec'd or exited) the mark is cleared. glibc's
 * posix_spawn(), system() and popen() use an internal clone and exec the
 * layer never sees: nothing of the layer runs in their children.
 */
#include <dlfcn.h>
#include <errno.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "pl_private.h"

#define PL_STR_(x) #x
#define PL_STR(x) PL_STR_(x)

__thread int pl_vforked __attribute__((tls_model("initial-exec")));
/* The real vfork, for the stub below (resolved in pl_libc_init()). */
pid_t (*pl_real_vfork)(void);
static pid_t (*real_fork)(void);

void pl_fork_resolve(void)
{
	*(void **)&real_fork = dlsym(RTLD_NEXT, "fork");
	*(void **)&pl_real_vfork = dlsym(RTLD_NEXT, "vfork");
}

bool pl_vfork_child_slow(void)
{
	/* The system call, not a cached value: the child has its own pid. */
	if ((pid_t)syscall(SYS_getpid) != pl_pid())
		return true;
	pl_vforked = 0;  /* the parent again: the child exec'd or exited */
	return false;
}

PL_EXPORT pid_t fork(void)
{
	pid_t pid;

	pl_libc_init();
	if (!real_fork) {
		errno = ENOSYS;
		return -1;
	}
	if (pl_vfork_child())
		return real_fork();
	pl_sock_fork_begin();
	pid = real_fork();
	if (pid != 0)
		pl_sock_fork_end(pid);
	return pid;
}

#if defined(__x86_64__)
/*
 * vfork: mark the thread, then jump to the real vfork (its return lands in
 * the caller's frame, in both processes). Without a resolved real vfork,
 * the system call itself, as glibc's vfork does it: the return address is
 * kept in a register, since the child's use of the stack overwrites it.
 */
static __attribute__((used)) int pl_vfork_fail(int err);

__asm__(
	".pushsection .text\n"
	".globl vfork\n"
	".type vfork,@function\n"
	"vfork:\n"
	"	endbr64\n"
	"	movq pl_vforked@gottpoff(%rip), %rax\n"
	"	movl $1, %fs:(%rax)\n"
	"	movq pl_real_vfork(%rip), %rax\n"
	"	testq %rax, %rax\n"
	"	jz 1f\n"
	"	jmp *%rax\n"
	"1:	popq %rdi\n"
	"	movl $" PL_STR(SYS_vfork) ", %eax\n"
	"	syscall\n"
	"	pushq %rdi\n"
	"	cmpq $-4095, %rax\n"
	"	jae 2f\n"
	"	ret\n"
	"2:	negl %eax\n"
	"	movl %eax, %edi\n"
	"	jmp pl_vfork_fail\n"
	".size vfork, .-vfork\n"
	".popsection\n");

/* The raw vfork system call failed with @err: errno, -1. */
static int pl_vfork_fail(int err)
{
	errno = err;
	return -1;
}
#endif
