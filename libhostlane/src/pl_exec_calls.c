/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The exec family as the application calls it: execve, execv, execvpe,
 * execvp, fexecve and the execl variants, each turned into one
 * pl_exec_do() call (pl_exec.c does the handover; docs/preload.md, "exec").
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>

#include "pl_private.h"

extern char **environ;

PL_EXPORT int execve(const char *path, char *const argv[], char *const envp[])
{
	return pl_exec_do(PL_EXEC_VE, -1, path, argv, envp);
}

PL_EXPORT int execv(const char *path, char *const argv[])
{
	return pl_exec_do(PL_EXEC_VE, -1, path, argv, environ);
}

PL_EXPORT int execvpe(const char *file, char *const argv[], char *const envp[])
{
	return pl_exec_do(PL_EXEC_VPE, -1, file, argv, envp);
}

PL_EXPORT int execvp(const char *file, char *const argv[])
{
	return pl_exec_do(PL_EXEC_VPE, -1, file, argv, environ);
}

PL_EXPORT int fexecve(int fd, char *const argv[], char *const envp[])
{
	return pl_exec_do(PL_EXEC_FVE, fd, NULL, argv, envp);
}

/* argv of an execl*: @arg0 and the arguments up to the NULL. *@envp: the
 * pointer after the NULL when @with_env. */
static char **va_argv(const char *arg0, va_list ap, bool with_env, char *const **envp)
{
	va_list cp;
	size_t n = 1;
	char **argv;

	va_copy(cp, ap);
	while (va_arg(cp, char *))
		n++;
	va_end(cp);
	argv = calloc(n + 1, sizeof(*argv));
	if (!argv)
		return NULL;
	argv[0] = (char *)arg0;
	for (size_t i = 1; i <= n; i++)
		argv[i] = va_arg(ap, char *);  /* the last one is the NULL */
	if (with_env)
		*envp = va_arg(ap, char *const *);
	return argv;
}

static int execl_common(enum pl_exec_how how, const char *path, const char *arg0, va_list ap,
			bool with_env)
{
	char *const *envp = environ;
	char **argv = va_argv(arg0, ap, with_env, &envp);
	int rc, err;

	if (!argv) {
		errno = ENOMEM;
		return -1;
	}
	rc = pl_exec_do(how, -1, path, argv, envp);
	err = errno;
	free(argv);
	errno = err;
	return rc;
}

PL_EXPORT int execl(const char *path, const char *arg, ...)
{
	va_list ap;
	int rc;

	va_start(ap, arg);
	rc = execl_common(PL_EXEC_VE, path, arg, ap, false);
	va_end(ap);
	return rc;
}

PL_EXPORT int execlp(const char *file, const char *arg, ...)
{
	va_list ap;
	int rc;

	va_start(ap, arg);
	rc = execl_common(PL_EXEC_VPE, file, arg, ap, false);
	va_end(ap);
	return rc;
}

PL_EXPORT int execle(const char *path, const char *arg, ...)
{
	va_list ap;
	int rc;

	va_start(ap, arg);
	rc = execl_common(PL_EXEC_VE, path, arg, ap, true);
	va_end(ap);
	return rc;
}
