/*
 * Mounts: the config's mounts (with tmpcopyup and the flags a user
 * namespace locks), recursive mount attributes, and the masked and
 * read-only paths.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <linux/magic.h>
#include <sys/syscall.h>
#include <linux/openat2.h>

#include "mounts.h"
#include "paths.h"
#include "plan.h"
#include "sync.h"

/* locked_flags returns the flags of the mount at path that a remount inside a
 * user namespace must keep (the kernel locks them). */
static unsigned long locked_flags(const char *path)
{
	struct statvfs sv;
	unsigned long f = 0;
	if (statvfs(path, &sv) < 0)
		return 0;
	if (sv.f_flag & ST_NOSUID)
		f |= MS_NOSUID;
	if (sv.f_flag & ST_NODEV)
		f |= MS_NODEV;
	if (sv.f_flag & ST_NOEXEC)
		f |= MS_NOEXEC;
	if (sv.f_flag & ST_RDONLY)
		f |= MS_RDONLY;
	if (sv.f_flag & ST_NOATIME)
		f |= MS_NOATIME;
	if (sv.f_flag & ST_NODIRATIME)
		f |= MS_NODIRATIME;
	if (sv.f_flag & ST_RELATIME)
		f |= MS_RELATIME;
	return f;
}

/* copy_tree copies the directory from (an fd) into the directory to, like
 * cp -a: files, directories, symlinks, devices and fifos with their modes,
 * owners and times. */
static int copy_tree(int from, int to)
{
	DIR *d = fdopendir(dup(from));
	if (!d)
		return -1;
	struct dirent *e;
	int ret = 0;
	while (ret == 0 && (errno = 0, e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		struct stat st;
		if (fstatat(from, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			ret = -1;
			break;
		}
		if (S_ISDIR(st.st_mode)) {
			int sd = -1, dd = -1;
			if (mkdirat(to, e->d_name, st.st_mode & 07777) < 0 ||
			    (sd = openat(from, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0 ||
			    (dd = openat(to, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0 ||
			    copy_tree(sd, dd) < 0 || fchmod(dd, st.st_mode & 07777) < 0)
				ret = -1;
			if (sd >= 0)
				close(sd);
			if (dd >= 0)
				close(dd);
		} else if (S_ISREG(st.st_mode)) {
			int sf = openat(from, e->d_name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
			int df = sf < 0 ? -1 : openat(to, e->d_name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, st.st_mode & 07777);
			char buf[65536];
			ssize_t n = 0;
			while (df >= 0 && (n = read(sf, buf, sizeof(buf))) > 0)
				if (write(df, buf, n) != n) {
					n = -1;
					break;
				}
			if (sf < 0 || df < 0 || n < 0 || fchmod(df, st.st_mode & 07777) < 0)
				ret = -1;
			if (sf >= 0)
				close(sf);
			if (df >= 0)
				close(df);
		} else if (S_ISLNK(st.st_mode)) {
			char target[PATH_MAX];
			ssize_t n = readlinkat(from, e->d_name, target, sizeof(target) - 1);
			if (n < 0)
				ret = -1;
			else {
				target[n] = '\0';
				if (symlinkat(target, to, e->d_name) < 0)
					ret = -1;
			}
		} else if (mknodat(to, e->d_name, st.st_mode, st.st_rdev) < 0) {
			ret = -1;
		}
		if (ret == 0 && fchownat(to, e->d_name, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) < 0)
			ret = -1;
		if (ret == 0) {
			struct timespec ts[2] = { st.st_atim, st.st_mtim };
			utimensat(to, e->d_name, ts, AT_SYMLINK_NOFOLLOW);
		}
	}
	if (ret == 0 && errno != 0)
		ret = -1;
	int saved = errno;
	closedir(d);
	errno = saved;
	return ret;
}

#ifndef MOVE_MOUNT_F_EMPTY_PATH
#define MOVE_MOUNT_F_EMPTY_PATH 0x00000004
#endif
#ifndef MOVE_MOUNT_T_EMPTY_PATH
#define MOVE_MOUNT_T_EMPTY_PATH 0x00000040
#endif

/* move_onto moves the mount tree (detached, or a clone) onto target, both
 * fds: no path is resolved. */
static int move_onto(int tree, int target)
{
	return syscall(SYS_move_mount, tree, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH);
}

/* move_tree puts the detached (idmapped) tree the runtime made for this
 * mount onto the target fd. */
static void move_tree(struct op *o, int target)
{
	int tree = ask_mount_source(o->i[3]);
	if (move_onto(tree, target) < 0)
		fail(errno, "move the idmapped tree of %s onto %s", o->s[0], o->s[1]);
	close(tree);
}

/* bind_host_source binds the source the runtime opened for us, as our
 * mount namespace has it: our user namespace could not reach it. */
static int bind_host_source(struct op *o, const char *t, unsigned long flags)
{
	char sp[64];
	int sfd = ask_mount_source(o->i[3]);
	fd_path(sp, sizeof(sp), sfd);
	int r = mount(sp, t, NULL, flags, NULL);
	int e = errno;
	close(sfd);
	errno = e;
	return r;
}

/*
 * source_in_root opens a bind source inside the rootfs once the mounts before
 * it are made (one of them makes or covers it), resolved as the container
 * would see it; *kind becomes a directory or a file target as the source is.
 */
static int source_in_root(const char *path, int *kind, char *buf, size_t len)
{
	int fd = openat2_in_root(path, O_PATH);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0)
		fail(errno, "resolving the source %s in the rootfs", path);
	*kind = S_ISDIR(st.st_mode) ? TARGET_DIR : TARGET_FILE;
	fd_path(buf, len, fd);
	return fd;
}

/*
 * tmpfs_mode gives a tmpfs without mode= the mode of the directory it is
 * mounted on, when that exists (as runc): data becomes "mode=0NNN[,data]".
 */
static const char *tmpfs_mode(const char *path, const char *data, char *buf, size_t len)
{
	int fd = openat2_in_root(path, O_PATH);
	struct stat st;
	if (fd < 0)
		return data;
	int r = fstat(fd, &st);
	close(fd);
	if (r < 0 || !S_ISDIR(st.st_mode))
		return data;
	if (snprintf(buf, len, "mode=%04o%s%s", st.st_mode & 07777, data ? "," : "", data ? data : "") >= (int)len)
		fail(ENAMETOOLONG, "tmpfs options of %s", path);
	return buf;
}

/*
 * open_no_symlinks opens the mount point of a procfs or sysfs: a directory
 * reached from the root without any symlink (made when missing). A link is
 * refused, never followed: the container would see /proc through it, and
 * the runtime's own use of /proc could be redirected.
 */
static int open_no_symlinks(const char *path)
{
	const uint64_t resolve = RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
	int fd = openat2_at(root_fd, path, O_PATH | O_DIRECTORY, resolve);
	if (fd < 0 && errno == ENOENT) {
		int made = open_in_root(path, TARGET_DIR);
		if (made >= 0)
			close(made);
		fd = openat2_at(root_fd, path, O_PATH | O_DIRECTORY, resolve);
	}
	if (fd < 0 && errno == ELOOP)
		fail(ELOOP, "%s is a symlink in the rootfs (or lies behind one): procfs and sysfs are mounted on a directory", path);
	if (fd < 0)
		fail(errno, "resolving %s in the rootfs", path);
	return fd;
}

/* names_proc tells whether the config's path is /proc or under it, as
 * written (a ".." anywhere counts as not). */
static int names_proc(const char *p)
{
	while (*p == '/')
		p++;
	return strncmp(p, "proc", 4) == 0 && (p[4] == '\0' || p[4] == '/') && !strstr(p, "..");
}

/*
 * refuse_landing_in_proc refuses a mount whose destination or source in the
 * rootfs the image's symlinks led onto the container's procfs though the
 * config named no path under /proc (CVE-2019-19921's class): a tmpfs for
 * /dev with /dev -> /proc would hide procfs and so skip its masks, a bind
 * of /etc/x -> /proc/sys would give a writable /proc/sys beside the
 * read-only one.
 */
static void refuse_landing_in_proc(int fd, const char *path, const char *what)
{
	struct statfs sf;
	if (names_proc(path) || fstatfs(fd, &sf) < 0 || sf.f_type != PROC_SUPER_MAGIC)
		return;
	fail(EPERM, "the %s %s leads into procfs through a symlink in the rootfs: only a path under /proc may", what, path);
}

#define LOCKABLE_ATIME (MS_NOATIME | MS_RELATIME | MS_STRICTATIME | MS_NODIRATIME)
#define LOCKABLE (MS_RDONLY | MS_NODEV | MS_NOEXEC | MS_NOSUID | LOCKABLE_ATIME)

/* lockable_names writes the names of the lockable flags in f, as mount(8) spells them. */
static const char *lockable_names(unsigned long f, char *buf, size_t len)
{
	static const struct {
		unsigned long flag;
		const char *name;
	} names[] = { { MS_RDONLY, "ro" },	   { MS_NOSUID, "nosuid" },	    { MS_NODEV, "nodev" },
		      { MS_NOEXEC, "noexec" },	   { MS_NOATIME, "noatime" },	    { MS_RELATIME, "relatime" },
		      { MS_STRICTATIME, "strictatime" }, { MS_NODIRATIME, "nodiratime" } };
	size_t n = 0;
	buf[0] = 0;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]) && n < len; i++)
		if (f & names[i].flag)
			n += snprintf(buf + n, len - n, "%s%s", n ? "," : "", names[i].name);
	return buf;
}

/*
 * remount_keep_locked retries a remount refused with EPERM in a user
 * namespace, keeping the flags the kernel locked on the mount, unless the
 * config asked to clear one of them (cleared) or for other atime flags:
 * then the mount would not be what was asked, and that is the error.
 */
static int remount_keep_locked(const char *src, const char *t, const char *fstype, const char *name, unsigned long flags,
			       unsigned long cleared, const char *data)
{
	unsigned long lf = locked_flags(t);
	if (!(lf & (MS_NOATIME | MS_RELATIME)))
		lf |= MS_STRICTATIME;
	char names[96];
	if (lf & cleared & LOCKABLE)
		fail(EPERM, "remount %s: cannot clear flags the kernel locked on it (%s)", name,
		     lockable_names(lf & cleared & LOCKABLE, names, sizeof(names)));
	if ((flags & LOCKABLE_ATIME) && (flags & LOCKABLE_ATIME) != (lf & LOCKABLE_ATIME))
		fail(EPERM, "remount %s: cannot change the atime flags the kernel locked on it (%s)", name,
		     lockable_names(lf & LOCKABLE_ATIME, names, sizeof(names)));
	return mount(src, t, fstype, flags | (lf & LOCKABLE & ~MS_STRICTATIME), data);
}

void do_mount(struct op *o)
{
	const char *src = o->slen[0] ? o->s[0] : NULL;
	const char *fstype = o->slen[2] ? o->s[2] : NULL;
	const char *data = o->slen[3] ? o->s[3] : NULL;
	unsigned long flags = o->i[0];
	char target[64], source[64], tmpfs_data[4096];
	const char *t = o->s[1];
	int fd = -1, sfd = -1, kind = o->i[1];
	int extra = o->nint > 2 ? o->i[2] : 0;

	if (extra & MNT_SRC_IN_ROOT) {
		sfd = source_in_root(o->s[0], &kind, source, sizeof(source));
		src = source;
	}
	if (extra & MNT_TMPFS_MODE)
		data = tmpfs_mode(o->s[1], data, tmpfs_data, sizeof(tmpfs_data));
	if (extra & MNT_NO_SYMLINKS) {
		fd = open_no_symlinks(o->s[1]);
		fd_path(target, sizeof(target), fd);
		t = target;
	} else if (kind != TARGET_PLAIN) {
		fd = open_in_root(o->s[1], kind);
		if (fd < 0)
			fail(errno, "resolving %s in the rootfs", o->s[1]);
		fd_path(target, sizeof(target), fd);
		t = target;
	}
	/* a remount or a propagation change makes no new mount */
	int makes = !(flags & (MS_REMOUNT | MS_SHARED | MS_PRIVATE | MS_SLAVE | MS_UNBINDABLE));
	if (fd >= 0 && makes)
		refuse_landing_in_proc(fd, o->s[1], "destination");
	if (sfd >= 0)
		refuse_landing_in_proc(sfd, o->s[0], "source");
	if (extra & MNT_IDMAP_TREE) {
		move_tree(o, fd);
		close(fd);
		return;
	}
	int under = -1;
	if (extra & MNT_COPY_UP) {
		/* a directory fd opened now still reads the directory once it is
		 * mounted over */
		under = open(t, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (under < 0)
			fail(errno, "open %s for tmpcopyup", o->s[1]);
	}
	int r = mount(src, t, fstype, flags, data);
	if (r < 0 && errno == EACCES && (extra & MNT_HOST_SOURCE))
		r = bind_host_source(o, t, flags);
	if (r == 0 && under >= 0) {
		int top = open_in_root(o->s[1], TARGET_PLAIN);
		struct stat st;
		char p[64];
		int td = -1;
		if (top >= 0) {
			fd_path(p, sizeof(p), top);
			td = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			close(top);
		}
		if (td < 0 || copy_tree(under, td) < 0 || fstat(under, &st) < 0 ||
		    fchmod(td, st.st_mode & 07777) < 0 || fchown(td, st.st_uid, st.st_gid) < 0)
			fail(errno, "tmpcopyup of %s", o->s[1]);
		close(td);
		close(under);
	}
	if (r < 0 && errno == EPERM && (extra & MNT_KEEP_LOCKED) && (flags & MS_REMOUNT))
		r = remount_keep_locked(src, t, fstype, o->s[1], flags, o->nint > 3 ? o->i[3] : 0, data);
	if (r < 0 && data && *data) /* the filesystem's options: what the kernel most often refuses */
		fail(errno, "mount %s on %s with data \"%.200s\"", src ? src : "none", o->s[1], data);
	if (r < 0)
		fail(errno, "mount %s on %s", src ? src : "none", o->s[1]);
	if (fd >= 0)
		close(fd);
	if (sfd >= 0)
		close(sfd);
}

#ifndef MOUNT_ATTR_SIZE_VER0
struct mount_attr {
	uint64_t attr_set, attr_clr, propagation, userns_fd;
};
#endif
#ifndef AT_RECURSIVE
#define AT_RECURSIVE 0x8000
#endif

/* do_setattr changes the attributes of a whole mount tree (rro, rnosuid...). */
void do_setattr(struct op *o)
{
	int fd = open_in_root(o->s[0], TARGET_PLAIN);
	if (fd < 0)
		fail(errno, "resolving %s in the rootfs", o->s[0]);
	struct mount_attr a = { .attr_set = o->i[0], .attr_clr = o->i[1] };
	int rec = o->nint > 2 && o->i[2] ? 0 : AT_RECURSIVE;
	if (syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH | rec, &a, sizeof(a)) < 0)
		fail(errno, "mount_setattr %s", o->s[0]);
	close(fd);
}

#ifndef OPEN_TREE_CLONE
#define OPEN_TREE_CLONE 1
#endif
#ifndef FSOPEN_CLOEXEC
#define FSOPEN_CLOEXEC 0x00000001
#define FSCONFIG_SET_FLAG 0
#define FSCONFIG_SET_STRING 1
#define FSCONFIG_CMD_CREATE 6
#define FSMOUNT_CLOEXEC 0x00000001
#define MOUNT_ATTR_RDONLY 0x00000001
#endif

/* bind_fd binds what fd is (a file or directory of an attached mount) onto
 * target, both by fd: no path is resolved again. */
int bind_fd(int fd, int target)
{
	int tree = syscall(SYS_open_tree, fd, "", OPEN_TREE_CLONE | AT_EMPTY_PATH | O_CLOEXEC);
	if (tree < 0)
		return -1;
	int r = move_onto(tree, target);
	int e = errno;
	close(tree);
	errno = e;
	return r;
}

/* fs_options sets a mount's options (a,b=c,d="e,f") on an fsopen context. */
static int fs_options(int fs, char *data)
{
	while (data && *data) {
		char *end = data, *eq = NULL;
		int quoted = 0;
		for (; *end && (quoted || *end != ','); end++) {
			if (*end == '"')
				quoted = !quoted;
			else if (*end == '=' && !eq)
				eq = end;
		}
		char next = *end;
		*end = '\0';
		int r;
		if (eq) {
			*eq = '\0';
			char *v = eq + 1;
			size_t n = strlen(v);
			if (n >= 2 && v[0] == '"' && v[n - 1] == '"') {
				v[n - 1] = '\0';
				v++;
			}
			r = syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, data, v, 0);
		} else {
			r = syscall(SYS_fsconfig, fs, FSCONFIG_SET_FLAG, data, NULL, 0);
		}
		if (r < 0)
			return -1;
		data = next ? end + 1 : end;
	}
	return 0;
}

/* fs_detached makes a new filesystem of fstype with the options in data
 * (may be NULL) as a detached mount with the attributes attr: no one else
 * can see or cover it. */
int fs_detached(const char *fstype, char *data, unsigned int attr)
{
	int fs = syscall(SYS_fsopen, fstype, FSOPEN_CLOEXEC);
	if (fs < 0)
		return -1;
	int m = -1;
	if (fs_options(fs, data) == 0 && syscall(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) == 0)
		m = syscall(SYS_fsmount, fs, FSMOUNT_CLOEXEC, attr);
	int e = errno;
	close(fs);
	errno = e;
	return m;
}

/*
 * Masks (CVE-2025-31133). Files are covered with the null device, opened
 * once without following a symlink and checked to be 1:3: a /dev/null that
 * another container sharing this /dev swapped for a link must not bind what
 * it points to over a masked path. Directories share one read-only tmpfs
 * (the first is made, the others are binds of it): Kubernetes masks a path
 * per CPU, and a superblock per path is costly.
 */
static int devnull_fd = -1, mask_tmpfs_fd = -1;

static void open_devnull(void)
{
	struct stat st;
	devnull_fd = open("/dev/null", O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (devnull_fd < 0 || fstat(devnull_fd, &st) < 0)
		fail(errno, "open /dev/null to mask with");
	if (!S_ISCHR(st.st_mode) || st.st_rdev != makedev(1, 3))
		fail(EINVAL, "/dev/null is not the null device (a symlink or another file): it cannot mask linux.maskedPaths");
}

static int mask_tmpfs(struct op *o, int target)
{
	if (mask_tmpfs_fd >= 0)
		return bind_fd(mask_tmpfs_fd, target);
	char data[4096];
	snprintf(data, sizeof(data), "size=0k,nr_inodes=1%s%s", o->nstr > 1 ? "," : "", o->nstr > 1 ? o->s[1] : "");
	int m = fs_detached("tmpfs", data, MOUNT_ATTR_RDONLY);
	if (m < 0 || move_onto(m, target) < 0) {
		int e = errno;
		if (m >= 0)
			close(m);
		errno = e;
		return -1;
	}
	mask_tmpfs_fd = m; /* attached now: the next masked directories bind it */
	return 0;
}

void do_mask(struct op *o)
{
	struct stat st;
	int t = open(o->s[0], O_PATH | O_CLOEXEC);
	if (t < 0 && errno == ENOENT)
		return;
	if (t < 0 || fstat(t, &st) < 0)
		fail(errno, "open %s", o->s[0]);
	int r;
	if (S_ISDIR(st.st_mode)) {
		r = mask_tmpfs(o, t);
	} else {
		if (devnull_fd < 0)
			open_devnull();
		r = bind_fd(devnull_fd, t);
	}
	if (r < 0)
		fail(errno, "mask %s", o->s[0]);
	close(t);
}

/*
 * do_readonly binds a path read-only onto itself, from fd to fd: the tree
 * at the path is cloned (with what is mounted under it), its top made
 * read-only (the flags a user namespace locked are kept as they are), and
 * moved back onto the same place; the path is resolved once.
 */
void do_readonly(struct op *o)
{
	int t = open(o->s[0], O_PATH | O_CLOEXEC);
	if (t < 0 && errno == ENOENT)
		return;
	if (t < 0)
		fail(errno, "open %s", o->s[0]);
	int tree = syscall(SYS_open_tree, t, "", OPEN_TREE_CLONE | AT_RECURSIVE | AT_EMPTY_PATH | O_CLOEXEC);
	if (tree < 0)
		fail(errno, "bind %s", o->s[0]);
	struct mount_attr a = { .attr_set = MOUNT_ATTR_RDONLY };
	if (syscall(SYS_mount_setattr, tree, "", AT_EMPTY_PATH, &a, sizeof(a)) < 0)
		fail(errno, "make %s read-only", o->s[0]);
	if (move_onto(tree, t) < 0)
		fail(errno, "bind %s read-only onto itself", o->s[0]);
	close(tree);
	close(t);
}
