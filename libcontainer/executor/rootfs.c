/*
 * The rootfs's own files (device nodes, symlinks, directories), made
 * inside it, and entering it: pivot_root, or chroot without one.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "paths.h"
#include "plan.h"
#include "rootfs.h"
#include "sync.h"

/*
 * open_parent opens the directory path's last component is made in (made
 * too when missing), resolved in the rootfs, and points *name at that
 * component; what names the path in the error.
 */
static int open_parent(char *path, const char *what, const char **name)
{
	char *slash = strrchr(path, '/');
	if (!slash)
		fail(EINVAL, "%s %s", what, path);
	*slash = '\0';
	int dir = open_in_root(*path ? path : "/", TARGET_DIR);
	*slash = '/';
	if (dir < 0)
		fail(errno, "resolving %s in the rootfs", path);
	*name = slash + 1;
	return dir;
}

void do_mknod(struct op *o)
{
	const char *name;
	int dir = open_parent(o->s[0], "device path", &name);
	/* an existing node (from the image) is replaced: its type must be ours */
	unlinkat(dir, name, 0);
	if (mknodat(dir, name, o->i[0], o->i[1]) < 0) {
		/* the devices cgroup may refuse mknod (`m`) for a node the
		 * config lists: bind the host's node instead, as runc does */
		if (errno != EPERM)
			fail(errno, "mknod %s", o->s[0]);
		int f = openat(dir, name, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (f < 0)
			fail(errno, "mknod %s: placeholder for a bind", o->s[0]);
		char target[64];
		fd_path(target, sizeof(target), f);
		if (mount(o->s[0], target, NULL, MS_BIND, NULL) < 0)
			fail(errno, "mknod %s refused: bind the host's node", o->s[0]);
		close(f);
		close(dir);
		return;
	}
	if (fchownat(dir, name, o->i[2], o->i[3], AT_SYMLINK_NOFOLLOW) < 0)
		fail(errno, "chown %s", o->s[0]);
	/* mknod honours the umask; the spec's mode is exact */
	if (fchmodat(dir, name, o->i[0] & 07777, 0) < 0)
		fail(errno, "chmod %s", o->s[0]);
	close(dir);
}

void do_symlink(struct op *o)
{
	const char *name;
	int dir = open_parent(o->s[1], "link path", &name);
	if (symlinkat(o->s[0], dir, name) < 0 && errno != EEXIST)
		fail(errno, "symlink %s -> %s", o->s[1], o->s[0]);
	close(dir);
}

void do_mkdir(struct op *o)
{
	int fd = open_in_root(o->s[0], TARGET_DIR);
	if (fd < 0)
		fail(errno, "mkdir %s", o->s[0]);
	close(fd);
}

void do_pivot(struct op *o)
{
	int oldroot = open("/", O_DIRECTORY | O_RDONLY | O_CLOEXEC);
	if (oldroot < 0)
		fail(errno, "open /");
	if (fchdir(root_fd) < 0)
		fail(errno, "chdir to the rootfs");
	/* pivot_root(".", ".") stacks the old root on top of the new one:
	 * no directory for it is needed inside the rootfs */
	if (syscall(SYS_pivot_root, ".", ".") < 0)
		fail(errno, "pivot_root");
	if (fchdir(oldroot) < 0)
		fail(errno, "chdir to the old root");
	/* keep the unmount of the old root from reaching the host */
	if (mount(NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) < 0)
		fail(errno, "make the old root a slave");
	if (umount2(".", MNT_DETACH) < 0)
		fail(errno, "unmount the old root");
	if (chdir("/") < 0)
		fail(errno, "chdir /");
	close(oldroot);
}

/* do_chroot enters the rootfs without pivot_root: in a mount namespace
 * of our own the rootfs is moved onto / first (--no-pivot); in a shared
 * one it is a plain chroot. */
void do_chroot(struct op *o)
{
	if (fchdir(root_fd) < 0)
		fail(errno, "chdir to the rootfs");
	if (o->i[0] && mount(".", "/", NULL, MS_MOVE, NULL) < 0)
		fail(errno, "move the rootfs onto /");
	if (chroot(".") < 0)
		fail(errno, "chroot");
	if (chdir("/") < 0)
		fail(errno, "chdir /");
}
