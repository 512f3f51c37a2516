/*
 * The container's process: args[0] found as execvpe would (the container's
 * PATH), checked at create and exec'd at start.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "exec.h"
#include "sync.h"

/* try_exec execve()s path, or with check only tells whether it could
 * (a regular file we may execute); it returns only on failure, errno set. */
static void try_exec(const char *path, char **argv, char **envp, int check)
{
	struct stat st;
	if (!check) {
		execve(path, argv, envp);
		return;
	}
	if (stat(path, &st) < 0)
		return;
	if (!S_ISREG(st.st_mode)) {
		errno = EACCES;
		return;
	}
	if (faccessat(AT_FDCWD, path, X_OK, AT_EACCESS) < 0) {
		/* glibc uses faccessat2 (Linux 5.8) for AT_EACCESS; a seccomp
		 * profile older than that answers EPERM or ENOSYS: ask
		 * faccessat (real ids, the same as the effective ones here),
		 * and if that is filtered too leave the verdict to execve */
		if (errno != EPERM && errno != ENOSYS)
			return;
		if (syscall(SYS_faccessat, AT_FDCWD, path, X_OK) < 0 && errno != EPERM && errno != ENOSYS)
			return;
	}
	errno = 0;
}

static void do_exec_check(struct op *o, int check)
{
	int argc = o->i[0];
	if (argc == 0)
		fail(0, "missing: the config has no process to start");
	char *argv[argc + 1];
	int ne = o->nstr - argc;
	char *envp[ne + 1];
	for (int k = 0; k < argc; k++)
		argv[k] = o->s[k];
	argv[argc] = NULL;
	for (int k = 0; k < ne; k++)
		envp[k] = o->s[argc + k];
	envp[ne] = NULL;
	if (strchr(argv[0], '/')) {
		try_exec(argv[0], argv, envp, check);
		if (check && errno == 0)
			return;
		fail(errno, "exec %s", argv[0]);
	}
	/* search the container's PATH, as execvpe would with its environment */
	const char *path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
	for (int k = 0; k < ne; k++)
		if (strncmp(envp[k], "PATH=", 5) == 0)
			path = envp[k] + 5;
	int saw_eacces = 0;
	char buf[PATH_MAX];
	for (const char *p = path;; p = strchr(p, ':') + 1) {
		const char *end = strchr(p, ':');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		if (snprintf(buf, sizeof(buf), "%.*s%s%s", (int)len, p, len ? "/" : "", argv[0]) < (int)sizeof(buf)) {
			try_exec(buf, argv, envp, check);
			if (check && errno == 0)
				return;
			/* as execvp: go on past what says "not here", stop at
			 * anything else (E2BIG, ELOOP, ENOEXEC...) */
			switch (errno) {
			case EACCES:
				saw_eacces = 1;
				break;
			case ENOENT:
			case ENOTDIR:
			case ESTALE:
			case ENODEV:
			case ETIMEDOUT:
				break;
			default:
				fail(errno, "exec %s", buf);
			}
		}
		if (!end)
			break;
	}
	fail(saw_eacces ? EACCES : ENOENT, "exec %s: not found in PATH %s", argv[0], path);
}

void do_exec(struct op *o)
{
	do_exec_check(o, 0);
}

/* do_check_exec finds args[0] and checks that it can be executed, so that
 * create, not start, reports a missing executable. */
void do_check_exec(struct op *o)
{
	do_exec_check(o, 1);
}
