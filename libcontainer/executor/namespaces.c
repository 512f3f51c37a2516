/*
 * Where the container's process lives: its cgroup (joined through v1
 * `tasks` files), the namespaces it joins or makes, the clone that puts it
 * in a new pid or time namespace, and its host and domain names.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <unistd.h>
#include <sys/mman.h>

#include "apply.h"
#include "namespaces.h"
#include "sync.h"

/* a time namespace entered or made is only for children, and only for
 * those with memory of their own (the kernel keeps a CLONE_VM child in its
 * parent's: the time offsets live in the process's vDSO data) */
static int time_ns_for_children;

static int forked(void *from)
{
	run_ops((uint32_t)(uintptr_t)from);
}

/*
 * do_fork goes on with the rest of the plan in a new process (the
 * container's init, pid 1 of a new pid namespace), reports its pid and
 * exits. The child shares our memory (CLONE_VM) rather than getting a copy
 * of it (fork): in a VM that shadows page tables, fork's copy and then the
 * child's copy-on-write faults cost 1-2 ms, measured, which every create
 * waits for; this costs ~50 us. The child runs on a stack of its own; we
 * only send one message and exit, touching nothing it uses (the kernel then
 * clears our thread id in the shared libc thread structure: the child must
 * not rely on it, and does not: no raise(), no threads). A new time
 * namespace needs a child with memory of its own: fork then.
 */
void do_fork(struct op *o)
{
	if (time_ns_for_children) {
		pid_t pid = fork();
		if (pid < 0)
			fail(errno, "fork");
		if (pid == 0)
			return;
		report_pid(pid);
		_exit(0);
	}
	size_t size = 1 << 20;
	char *stack = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK | MAP_NORESERVE, -1, 0);
	if (stack == MAP_FAILED)
		fail(errno, "a stack for the container's process");
	pid_t pid = clone(forked, stack + size, CLONE_VM | SIGCHLD, (void *)(uintptr_t)(op_index + 1));
	if (pid < 0)
		fail(errno, "clone");
	report_pid(pid);
	_exit(0);
}

/* join_cgroup moves the current (single) thread into a v1 cgroup through
 * its `tasks` file: that skips the kernel's global threadgroup lock, whose
 * RCU grace period makes a write of a pid to cgroup.procs cost
 * milliseconds. */
void join_cgroup(const char *tasks)
{
	int fd = open(tasks, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, "0", 1) != 1)
		fail(errno, "join the cgroup (%s)", tasks);
	close(fd);
}

void do_join_cgroup(struct op *o)
{
	for (uint32_t k = 0; k < o->nstr; k++)
		join_cgroup(o->s[k]);
}

void do_setns(struct op *o)
{
	if (setns(o->i[0], o->i[1]) < 0)
		fail(errno, "setns");
	close(o->i[0]);
	if (o->i[1] == CLONE_NEWTIME)
		time_ns_for_children = 1;
}

void do_unshare(struct op *o)
{
	if (unshare(o->i[0]) < 0)
		fail(errno, "unshare");
	if (o->i[0] & CLONE_NEWTIME)
		time_ns_for_children = 1;
}

/* do_setid0 becomes uid/gid 0 in a new or joined user namespace. */
void do_setid0(struct op *o)
{
	if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)
		fail(errno, "become root in the user namespace");
}

void do_sethostname(struct op *o)
{
	if (sethostname(o->s[0], o->slen[0]) < 0)
		fail(errno, "sethostname");
}

void do_setdomainname(struct op *o)
{
	if (setdomainname(o->s[0], o->slen[0]) < 0)
		fail(errno, "setdomainname");
}
