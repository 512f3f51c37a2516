/*
 * Hooks run in the container's namespaces (createContainer,
 * startContainer): forked, fed the state JSON on stdin, waited for with a
 * timeout, their output in the error when they fail.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "hooks.h"
#include "sync.h"

static void write_full(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		buf += n;
		len -= n;
	}
}

/* wait_hook waits for a hook with a timeout and gathers what it printed.
 * Without a pidfd (the container's seccomp profile, which startContainer
 * hooks run under, may refuse pidfd_open) it polls waitpid instead. */
static int wait_hook(pid_t pid, int out, int timeout, char *log, size_t loglen)
{
	int pfd = syscall(SYS_pidfd_open, pid, 0);
	size_t used = 0;
	int status = 0, out_open = 1, reaped = 0;
	long deadline_ms = timeout > 0 ? timeout * 1000L : -1;
	for (;;) {
		struct pollfd p[2] = { { pfd, POLLIN, 0 }, { out_open ? out : -1, POLLIN, 0 } };
		int r = poll(p, 2, deadline_ms > 0 || pfd < 0 ? 100 : -1);
		if (r < 0 && errno != EINTR)
			break;
		int exited = p[0].revents != 0;
		if (pfd < 0 && !reaped && waitpid(pid, &status, WNOHANG) == pid)
			reaped = 1;
		if (reaped)
			exited = 1;
		if (p[1].revents) {
			char tmp[512];
			ssize_t n = read(out, tmp, sizeof(tmp));
			if (n <= 0)
				out_open = 0;
			else if (used < loglen - 1) {
				size_t k = (size_t)n < loglen - 1 - used ? (size_t)n : loglen - 1 - used;
				memcpy(log + used, tmp, k);
				used += k;
			}
		}
		if (exited && (!out_open || !p[1].revents))
			break;
		if (deadline_ms > 0 && r == 0 && (deadline_ms -= 100) <= 0) {
			kill(pid, SIGKILL);
			if (!reaped)
				waitpid(pid, &status, 0);
			log[used] = '\0';
			if (pfd >= 0)
				close(pfd);
			return -2;
		}
	}
	log[used] = '\0';
	if (!reaped)
		waitpid(pid, &status, 0);
	if (pfd >= 0)
		close(pfd);
	return status;
}

void do_hook(struct op *o)
{
	int argc = o->i[1];
	char **argv = &o->s[1];
	char **env = &o->s[1 + argc];
	int in[2], out[2];
	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0)
		fail(errno, "pipe");
	pid_t pid = fork();
	if (pid < 0)
		fail(errno, "fork");
	if (pid == 0) {
		char *args[argc + 1], *envp[o->nstr - argc];
		for (int k = 0; k < argc; k++)
			args[k] = argv[k];
		args[argc] = NULL;
		int ne = o->nstr - 1 - argc;
		for (int k = 0; k < ne; k++)
			envp[k] = env[k];
		envp[ne] = NULL;
		dup2(in[0], 0);
		dup2(out[1], 1);
		dup2(out[1], 2);
		/* the hook gets its stdio only, as runc's: not our socket to
		 * the runtime (with which it could speak for us: another pid
		 * for the container's), the start socket, nor the fds meant
		 * for the container's process */
		if (syscall(SYS_close_range, 3U, ~0U, 0U) < 0)
			for (int fd = 3; fd < 4096; fd++)
				close(fd);
		execve(o->s[0], args, envp);
		dprintf(2, "exec %s: %s", o->s[0], strerror(errno));
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	signal(SIGPIPE, SIG_IGN);
	size_t state_len;
	const char *state = runtime_state(&state_len);
	if (state)
		write_full(in[1], state, state_len);
	close(in[1]);
	char log[512];
	int st = wait_hook(pid, out[0], o->i[0], log, sizeof(log));
	close(out[0]);
	/* the error is one line: the hook's output joins it */
	for (char *c = log; *c; c++)
		if (*c == '\n' || *c == '\r')
			*c = ' ';
	for (size_t n = strlen(log); n > 0 && log[n - 1] == ' '; n--)
		log[n - 1] = '\0';
	if (st == -2)
		fail(0, "hook %s timed out after %llds: %s", o->s[0], (long long)o->i[0], log);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		fail(0, "hook %s failed (%s %d): %s", o->s[0], WIFEXITED(st) ? "exit status" : "signal",
		     WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st), log);
}
