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

/* (Hidden, as everything not exported by the version script.) */
void *hl_old_dlsym(void *h, const char *name);
int hl_old_pthread_once(pthread_once_t *o, void (*fn)(void));
int hl_old_pthread_mutex_trylock(pthread_mutex_t *m);
__asm__(".symver hl_old_dlsym, dlsym@" OLD_VER);
__asm__(".symver hl_old_pthread_once, pthread_once@" OLD_VER);
__asm__(".symver hl_old_pthread_mutex_trylock, pthread_mutex_trylock@" OLD_VER);

void *__wrap_dlsym(void *h, const char *name);
int __wrap_pthread_once(pthread_once_t *o, void (*fn)(void));
int __wrap_pthread_mutex_trylock(pthread_mutex_t *m);
int __wrap_memfd_create(const char *name, unsigned flags);
int __wrap_fstat(int fd, struct stat *st);

/* RTLD_NEXT is relative to the caller's object: this one is libhostlane too. */
void *__wrap_dlsym(void *h, const char *name)
{
	return hl_old_dlsym(h, name);
}

int __wrap_pthread_once(pthread_once_t *o, void (*fn)(void))
{
	return hl_old_pthread_once(o, fn);
}

int __wrap_pthread_mutex_trylock(pthread_mutex_t *m)
{
	return hl_old_pthread_mutex_trylock(m);
}

int __wrap_memfd_create(const char *name, unsigned flags)
{
	return (int)syscall(SYS_memfd_create, name, flags);
}

/* The kernel's struct stat is glibc's on x86_64 and aarch64. */
int __wrap_fstat(int fd, struct stat *st)
{
	return (int)syscall(SYS_newfstatat, fd, "", st, AT_EMPTY_PATH);
}
