/*
 * Procfs writes (sysctls, oom_score_adj, LSM labels, timens offsets) go
 * through a procfs handle of our own, taken before any mount of the config is
 * made: a private procfs instance (fsopen + fsmount: a detached mount no one
 * else can see or cover), or where the kernel refuses us one (a user
 * namespace that does not own our pid namespace) the /proc we started with.
 * Each file is then opened beneath that handle without crossing a mount or
 * following a symlink, and checked to be on procfs: a config that binds a
 * file over /proc/sys/... (directly or through a link in the rootfs) cannot
 * catch the write (CVE-2025-52881).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>

#include "mounts.h"
#include "paths.h"
#include "plan.h"
#include "procfs.h"
#include "sync.h"

#ifndef MOUNT_ATTR_NOSUID
#define MOUNT_ATTR_NOSUID 0x00000002
#define MOUNT_ATTR_NODEV 0x00000004
#define MOUNT_ATTR_NOEXEC 0x00000008
#endif
#define PROC_ROOT_INO 1

static int proc_fd = -1;
static uint32_t writes_left; /* the plan's procfs writes not made yet */

/* is_proc_root tells whether fd is the root directory of a procfs. */
static int is_proc_root(int fd)
{
	struct statfs sf;
	struct stat st;
	return fstatfs(fd, &sf) == 0 && sf.f_type == PROC_SUPER_MAGIC && fstat(fd, &st) == 0 &&
	       st.st_ino == PROC_ROOT_INO;
}

/*
 * proc_handle_for takes the handle when the plan writes to procfs, before
 * its first operation: nothing of the config is mounted yet. A plan without
 * such writes (the default config) costs nothing.
 */
void proc_handle_for(struct op *ops, uint32_t nops)
{
	uint32_t k = 0;
	while (k < nops && ops[k].code != OP_WRITE)
		k++;
	if (k == nops)
		return;
	for (uint32_t j = k; j < nops; j++)
		writes_left += ops[j].code == OP_WRITE;
	proc_fd = fs_detached("proc", NULL, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);
	if (proc_fd < 0)
		proc_fd = open("/proc", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (proc_fd < 0 || !is_proc_root(proc_fd))
		fail(proc_fd < 0 ? errno : EXDEV, "a procfs handle of our own (for %s)", ops[k].s[0]);
}

/*
 * proc_open opens path ("/proc/..." as the plan names it) beneath the handle.
 * "self" is a symlink: it is read (the pid as that procfs sees us) and
 * spelled out, so that no symlink is followed.
 */
int proc_open(const char *path, int flags)
{
	char buf[PATH_MAX];
	const char *sub = path + strlen("/proc/");
	if (proc_fd < 0 || strncmp(path, "/proc/", 6) != 0) {
		errno = EXDEV;
		return -1;
	}
	if (strncmp(sub, "self/", 5) == 0) {
		char pid[32];
		ssize_t n = readlinkat(proc_fd, "self", pid, sizeof(pid) - 1);
		if (n < 0)
			return -1;
		pid[n] = '\0';
		if (snprintf(buf, sizeof(buf), "%s/%s", pid, sub + 5) >= (int)sizeof(buf)) {
			errno = ENAMETOOLONG;
			return -1;
		}
		sub = buf;
	}
	int fd = openat2_at(proc_fd, sub, flags,
			    RESOLVE_BENEATH | RESOLVE_NO_XDEV | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS);
	struct statfs sf;
	if (fd >= 0 && (fstatfs(fd, &sf) < 0 || sf.f_type != PROC_SUPER_MAGIC)) {
		close(fd);
		errno = EXDEV;
		return -1;
	}
	return fd;
}

/*
 * proc_write_done closes the handle after the plan's last procfs write: it
 * is a whole procfs of the pid namespace we started in (the host's), and
 * the paths resolved after it (args[0] on the container's PATH) must not
 * reach it through /proc/self/fd.
 */
void proc_write_done(void)
{
	if (writes_left > 0 && --writes_left == 0 && proc_fd >= 0) {
		close(proc_fd);
		proc_fd = -1;
	}
}
