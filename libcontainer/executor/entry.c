/*
 * The plan executor. It runs as an ELF constructor, before the Go runtime
 * starts its threads: the kernel refuses setns() into a mount or user
 * namespace from a multi-threaded process. When the runtime starts us with
 * _OCIRT_PLAN_FD set, we read the plan Go compiled from config.json and apply
 * its operations in order, stopping at the first failure and reporting its
 * index so that Go can name the config field. Every decision is Go's; the
 * executor only performs syscalls. The process never returns to Go: it ends in
 * execve() of the container's process (or exits on error).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/prctl.h>

#include "apply.h"
#include "procfs.h"
#include "cli.h"
#include "namespaces.h"
#include "plan.h"
#include "readplan.h"
#include "sync.h"

static int env_fd(const char *name)
{
	const char *v = getenv(name);
	return v ? atoi(v) : -1;
}

/* prelude does, before the plan has come, what the runtime handed over in
 * the environment so that it overlaps the runtime making the cgroup: move
 * into the memory cgroup (so that what follows is charged to the
 * container), then unshare the new namespaces (a network namespace takes
 * about a millisecond). The plan then leaves those namespaces out. */
static void prelude(void)
{
	const char *join = getenv("_OCIRT_PRELUDE_JOIN");
	if (join) {
		op_index = PRELUDE_JOIN;
		join_cgroup(join);
	}
	const char *flags = getenv("_OCIRT_PRELUDE_UNSHARE");
	if (flags) {
		op_index = PRELUDE_UNSHARE;
		if (unshare((int)strtoul(flags, NULL, 10)) < 0)
			fail(errno, "unshare");
	}
	op_index = -1;
}

/* before_go_runtime runs before main() in every oci-rt process; it does nothing unless
 * the runtime started this process as a plan executor (but tune the CLI). */
void __attribute__((constructor)) before_go_runtime(void)
{
	int plan_fd = env_fd("_OCIRT_PLAN_FD");
	if (plan_fd < 0) {
		cli_timerslack();
		cli_one_cpu();
		return;
	}
	sync_start(env_fd("_OCIRT_SYNC_FD"));
	/* nothing in the container may open our exe through /proc/<pid>/exe;
	 * an unprivileged runtime must still write our id maps, which a
	 * non-dumpable process's /proc files forbid: it waits for them */
	if (geteuid() == 0 && prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		fail(errno, "prctl(PR_SET_DUMPABLE)");
	/* `ps` shows what this process is (its file is a view named by inode) */
	prctl(PR_SET_NAME, "oci-rt:init", 0, 0, 0);
	prelude();
	size_t len;
	char *buf = read_plan(plan_fd, &len);
	if (len == 0)
		_exit(1); /* the runtime gave up before sending a plan */
	uint32_t nops;
	struct op *ops = parse_plan(buf, len, &nops);
	proc_handle_for(ops, nops);
	run_plan(ops, nops);
}
