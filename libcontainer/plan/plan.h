/*
 * The wire format shared by plan.go beside it and the C executor
 * (libcontainer/executor, which includes this file). Go compiles the spec
 * into an ordered list of operations; the executor applies them one by one
 * before the Go runtime could ever start, and reports the index of the first
 * one that fails. Keep the numbers in sync with plan.go (a Go test compares
 * them).
 */
#ifndef OCIRT_PLAN_H
#define OCIRT_PLAN_H

#include <stdint.h>

#define PLAN_MAGIC "OCRTPLN1"

/* operations */
#define OP_SETNS 1          /* i0 fd, i1 nstype */
#define OP_UNSHARE 2        /* i0 clone flags */
#define OP_SYNC 3           /* i0 kind: ask the runtime, wait for its answer (payload: state JSON) */
#define OP_SETID0 4         /* become uid/gid 0 in a new or joined user namespace */
#define OP_FORK 5           /* parent reports the child's pid and exits; child goes on */
#define OP_WRITE 6          /* s0 path, s1 data */
#define OP_MOUNT 7          /* s0 src, s1 target, s2 fstype, s3 data; i0 flags, i1 target kind, i2 mount flags */
#define OP_OPEN_ROOT 8      /* s0 rootfs path: the root every *_IN_ROOT path resolves in */
#define OP_MKNOD 9          /* s0 path in root, i0 mode, i1 dev, i2 uid, i3 gid */
#define OP_SYMLINK 10       /* s0 target, s1 link path in root */
#define OP_PIVOT 11         /* pivot_root into the root */
#define OP_CHROOT 12        /* move the root onto / and chroot (--no-pivot) */
#define OP_MASK 13          /* s0 path: hide it (tmpfs for a directory, /dev/null for a file); s1 the tmpfs's extra data */
#define OP_READONLY 14      /* s0 path: bind it read-only onto itself */
#define OP_SETHOSTNAME 15   /* s0 */
#define OP_SETDOMAINNAME 16 /* s0 */
#define OP_RLIMIT 17        /* i0 resource, i1 soft, i2 hard */
#define OP_PRCTL 18         /* i0 option, i1 arg2 */
#define OP_CAPBSET 19       /* i0 mask of bounding caps to keep, i1 last cap number */
#define OP_CAPSET 20        /* i0 effective, i1 permitted, i2 inheritable, i3 ambient, i4 last cap */
#define OP_USER 21          /* i0 uid, i1 gid, i2.. additional gids */
#define OP_UMASK 22         /* i0 */
#define OP_CHDIR 23         /* s0; i0 (optional): CHDIR_FIRST or CHDIR_RETRY */
#define OP_CONSOLE 24       /* i0 console socket fd; i1: clear ONLCR (our own relay); i2 rows, i3 columns (0: leave), i4 the process's uid (owns the pty); i5: bind it onto /dev/console (create) */
#define OP_SECCOMP 25       /* s0 BPF program, i0 flags, i1 listener socket wanted (s1 path, s2 state) */
#define OP_CLOSE_FDS 26     /* i0 first fd to mark close-on-exec */
#define OP_WAIT_START 27    /* i0 listening socket: block until `start` connects */
#define OP_HOOK 28          /* i0 timeout s, i1 argc; s0 path, s1..argc args, rest env */
#define OP_EXEC 29          /* i0 argc; s0..argc-1 args, rest env */
#define OP_SETSID 30
#define OP_READY 31         /* tell the runtime that create is done */
#define OP_MKDIR 32         /* s0 path in root, i0 mode */
#define OP_MOUNT_SETATTR 34 /* s0 path in root; i0 attr_set, i1 attr_clr (recursive; i2 1: the top mount only) */
#define OP_KEYRING 35       /* s0 name: join a new session keyring */
#define OP_CHECK_EXEC 37    /* as OP_EXEC, but only finds args[0] and checks it is executable */
#define OP_JOIN_CGROUP 36   /* s0.. v1 `tasks` files: write "0" (move this thread) */
#define OP_SCHED_ATTR 50    /* i0 policy, i1 flags, i2 nice, i3 priority, i4 runtime, i5 deadline, i6 period */
#define OP_IOPRIO 51        /* i0 class << 13 | level */
#define OP_PERSONALITY 52   /* i0 persona */
#define OP_MEMPOLICY 53     /* i0 mode | flags, i1 maxnode, i2.. the node mask's 64-bit words */
#define OP_AFFINITY 54      /* i0.. the CPU mask's 64-bit words */
#define OP_PIDFD 60         /* i0 socket fd (--pidfd-socket); s0 the message: send it a pidfd of this process */

/* OP_MOUNT target kinds */
#define TARGET_PLAIN 0      /* s1 is used as it is */
#define TARGET_DIR 1        /* s1 resolved in the root, directories made as needed */
#define TARGET_FILE 2       /* s1 resolved in the root, an empty file made if missing */

/* OP_MOUNT i2 bits */
#define MNT_COPY_UP 2       /* tmpcopyup: copy what the target held into the new mount */
#define MNT_KEEP_LOCKED 1   /* on EPERM, retry with the flags the kernel locked (user namespaces); i3: flags the config cleared */
#define MNT_HOST_SOURCE 4   /* bind: a source we cannot reach (EACCES) is opened by the runtime (SYNC_MOUNT_SOURCE, i3 mount index) */
#define MNT_IDMAP_TREE 8    /* the source is a detached idmapped tree the runtime makes (SYNC_MOUNT_SOURCE, i3 mount index) */
#define MNT_SRC_IN_ROOT 16  /* s0 is a path in the root, resolved now; the target is made a dir or file as it is */
#define MNT_TMPFS_MODE 32   /* no mode= given: take the mode of the existing target directory */
#define MNT_NO_SYMLINKS 64  /* procfs, sysfs: refuse a target reached through a symlink */

/* OP_CHDIR i0 */
#define CHDIR_FIRST 1       /* with the runtime's privileges; refused for want of them: retried */
#define CHDIR_RETRY 2       /* as the process's user, if CHDIR_FIRST was refused */


/* OP_SYNC kinds */
#define SYNC_MAPS 1         /* write my uid/gid maps */
#define SYNC_HOOKS 2        /* run createRuntime (and prestart) hooks now */
#define SYNC_CGROUP 3       /* wait until the container's cgroup is made */
#define SYNC_NETDEV 4       /* move linux.netDevices into my network namespace */
#define SYNC_MOUNT_SOURCE 5 /* payload: int32 mount index; the answer carries the source's fd */
#define SYNC_TIMENS 6       /* write my timens_offsets (a new user namespace: we cannot) */

/* messages from the executor (SOCK_SEQPACKET, struct msg + payload) */
struct msg {
	uint32_t type;
	int32_t a, b;
};

#define MSG_SYNC 1          /* a: kind, b: my pid */
#define MSG_PID 2           /* a: the container init's pid */
#define MSG_ERROR 3         /* a: op index, b: errno; payload: what failed */
#define MSG_READY 4         /* a: pid */
#define MSG_SECCOMP 5       /* the seccomp listener fd (SCM_RIGHTS), for the runtime to pass on */

/* op indexes of the prelude: what the executor does before it has its plan,
 * from its environment (_OCIRT_PRELUDE_JOIN: a v1 `tasks` file to write "0"
 * to; _OCIRT_PRELUDE_UNSHARE: namespace flags to unshare) */
#define PRELUDE_JOIN -2
#define PRELUDE_UNSHARE -3

#endif
