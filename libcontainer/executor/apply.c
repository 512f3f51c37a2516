/*
 * The operation switch: each op of the plan to the function that performs
 * it, in the plan's order, stopping at the first failure (fail reports its
 * index, which Go turns into the config field it serves).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>

#include "apply.h"
#include "exec.h"
#include "hooks.h"
#include "mounts.h"
#include "namespaces.h"
#include "paths.h"
#include "plan.h"
#include "process.h"
#include "rootfs.h"
#include "scheduling.h"
#include "sync.h"

static void apply(struct op *o)
{
	switch (o->code) {
	case OP_SETNS:
		do_setns(o);
		break;
	case OP_UNSHARE:
		do_unshare(o);
		break;
	case OP_SYNC:
		do_sync(o);
		break;
	case OP_SETID0:
		do_setid0(o);
		break;
	case OP_FORK:
		do_fork(o);
		break;
	case OP_WRITE:
		do_write(o);
		break;
	case OP_MOUNT:
		do_mount(o);
		break;
	case OP_OPEN_ROOT:
		do_open_root(o);
		break;
	case OP_MKNOD:
		do_mknod(o);
		break;
	case OP_SYMLINK:
		do_symlink(o);
		break;
	case OP_PIVOT:
		do_pivot(o);
		break;
	case OP_CHROOT:
		do_chroot(o);
		break;
	case OP_MASK:
		do_mask(o);
		break;
	case OP_READONLY:
		do_readonly(o);
		break;
	case OP_SETHOSTNAME:
		do_sethostname(o);
		break;
	case OP_SETDOMAINNAME:
		do_setdomainname(o);
		break;
	case OP_RLIMIT:
		do_rlimit(o);
		break;
	case OP_PRCTL:
		do_prctl(o);
		break;
	case OP_CAPBSET:
		do_capbset(o);
		break;
	case OP_CAPSET:
		do_capset(o);
		break;
	case OP_USER:
		do_user(o);
		break;
	case OP_UMASK:
		do_umask(o);
		break;
	case OP_CHDIR:
		do_chdir(o);
		break;
	case OP_CONSOLE:
		do_console(o);
		break;
	case OP_PIDFD:
		do_pidfd(o);
		break;
	case OP_SECCOMP:
		do_seccomp(o);
		break;
	case OP_CLOSE_FDS:
		do_close_fds(o);
		break;
	case OP_WAIT_START:
		do_wait_start(o);
		break;
	case OP_HOOK:
		do_hook(o);
		break;
	case OP_EXEC:
		do_exec(o);
		break;
	case OP_CHECK_EXEC:
		do_check_exec(o);
		break;
	case OP_SETSID:
		do_setsid(o);
		break;
	case OP_READY:
		do_ready(o);
		break;
	case OP_MKDIR:
		do_mkdir(o);
		break;
	case OP_KEYRING:
		do_keyring(o);
		break;
	case OP_JOIN_CGROUP:
		do_join_cgroup(o);
		break;
	case OP_SCHED_ATTR:
		do_sched_attr(o);
		break;
	case OP_IOPRIO:
		do_ioprio(o);
		break;
	case OP_PERSONALITY:
		do_personality(o);
		break;
	case OP_MEMPOLICY:
		do_mempolicy(o);
		break;
	case OP_AFFINITY:
		do_affinity(o);
		break;
	case OP_MOUNT_SETATTR:
		do_setattr(o);
		break;
	default:
		fail(EINVAL, "unknown operation %u", o->code);
	}
}

/* the plan's operations, which a forked child goes on with */
static struct op *plan_ops;
static uint32_t plan_nops;

void run_ops(uint32_t from)
{
	for (uint32_t k = from; k < plan_nops; k++) {
		op_index = k;
		apply(&plan_ops[k]);
	}
	op_index = -1;
	fail(EINVAL, "the plan ended without exec");
}

/* run_plan applies the plan from its first op; it never returns (the last
 * op execs the container's process). */
void run_plan(struct op *ops, uint32_t nops)
{
	plan_ops = ops;
	plan_nops = nops;
	run_ops(0);
}
