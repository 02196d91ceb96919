/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The glibc build's symbol baseline: libhostlane.so loads into the app
 * images people run, including those with an old glibc (CentOS 7's 2.17),
 * so it must need no glibc symbol version above GLIBC_2.17
 * (integration/preload-portable reads them). The build machine's glibc
 * gives new default versions to a few functions; the linker sends their
 * calls here (-Wl,--wrap=NAME: a call to NAME goes to __wrap_NAME), and
 * these call the old versions instead (.symver: dlsym and the pthread
 * functions were in libdl/libpthread until 2.34, which the .so names as
 * DT_NEEDED for old systems) or the system call (memfd_create came in
 * glibc 2.27, fstat as a symbol in 2.33). Not in the musl build.
 */
#include <dlfcn.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#if defined(__x86_64__)
#define OLD_VER "GLIBC_2.2.5"
#elif defined(__aarch64__)
#define OLD_VER "GLIBC_2.17"
#else
#error "the glibc baseline versions are known for x86_64 and aarch64"
#endif

/* (Hidden, as everything not exported by the version script.) OLD(ret,
 * name, params, args) declares hl_old_NAME bound to NAME's old version and
 * __wrap_NAME calling it. */
#define OLD(ret, name, params, args)                                        \
	ret hl_old_##name params;                                           \
	__asm__(".symver hl_old_" #name ", " #name "@" OLD_VER);            \
	ret __wrap_##name params;                                           \
	ret __wrap_##name params                                            \
	{                                                                   \
		return hl_old_##name args;                                  \
	}

/* RTLD_NEXT is relative to the caller's object: this one is libhostlane too. */
OLD(void *, dlsym, (void *h, const char *name), (h, name))
OLD(int, pthread_once, (pthread_once_t *o, void (*fn)(void)), (o, fn))
OLD(int, pthread_mutex_trylock, (pthread_mutex_t *m), (m))
OLD(int, pthread_rwlock_init, (pthread_rwlock_t *l, const pthread_rwlockattr_t *a), (l, a))
OLD(int, pthread_rwlock_rdlock, (pthread_rwlock_t *l), (l))
OLD(int, pthread_rwlock_tryrdlock, (pthread_rwlock_t *l), (l))
OLD(int, pthread_rwlock_wrlock, (pthread_rwlock_t *l), (l))
OLD(int, pthread_rwlock_unlock, (pthread_rwlock_t *l), (l))
OLD(int, pthread_key_create, (pthread_key_t *k, void (*d)(void *)), (k, d))
OLD(int, pthread_setspecific, (pthread_key_t k, const void *v), (k, v))
OLD(int, pthread_sigmask, (int how, const sigset_t *set, sigset_t *old), (how, set, old))

int __wrap_memfd_create(const char *name, unsigned flags);
int __wrap_fstat(int fd, struct stat *st);

int __wrap_memfd_create(const char *name, unsigned flags)
{
	return (int)syscall(SYS_memfd_create, name, flags);
}

/* The kernel's struct stat is glibc's on x86_64 and aarch64. */
int __wrap_fstat(int fd, struct stat *st)
{
	return (int)syscall(SYS_newfstatat, fd, "", st, AT_EMPTY_PATH);
}
