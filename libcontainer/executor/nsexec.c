/*
 * The plan executor. It runs as an ELF constructor, before the Go runtime
 * starts its threads: the kernel refuses setns() into a mount or user
 * namespace from a multi-threaded process. When the runtime starts us with
 * _OCIRT_PLAN_FD set, we read the plan Go compiled from config.json and apply
 * its operations in order, stopping at the first failure and reporting its
 * index so that Go can name the config field. Every decision is Go's; this
 * file only performs syscalls. The process never returns to Go: it ends in
 * execve() of the container's process (or exits on error).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <dirent.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/capability.h>
#include <linux/openat2.h>
#include <linux/seccomp.h>
#include <linux/filter.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>

#include "plan.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif
#ifndef TIOCGPTPEER
#define TIOCGPTPEER _IO('T', 0x41)
#endif

struct op {
	uint32_t code, nint, nstr;
	int64_t *i;
	char **s;
	uint32_t *slen;
};

static int sync_fd = -1;  /* to the runtime during create */
static int err_fd = -1;   /* where errors go: sync_fd, then the `start` connection */
static int root_fd = -1;  /* the container's rootfs, for *_IN_ROOT paths */
static int op_index = -1; /* the op being applied, for error reports */
static char *state_json = NULL;
static size_t state_len = 0;

static void send_msg(int fd, uint32_t type, int32_t a, int32_t b, const char *data, size_t len)
{
	struct msg m = { type, a, b };
	struct iovec iov[2] = { { &m, sizeof(m) }, { (void *)data, len } };
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = data ? 2 : 1 };
	if (fd >= 0)
		while (sendmsg(fd, &mh, MSG_NOSIGNAL) < 0 && errno == EINTR)
			;
}

/* fail reports the current op, the errno and a short text, then exits. */
static void __attribute__((noreturn, format(printf, 2, 3))) fail(int err, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	if (n >= (int)sizeof(buf))
		n = sizeof(buf) - 1;
	if (err_fd >= 0)
		send_msg(err_fd, MSG_ERROR, op_index, err, buf, n);
	else
		fprintf(stderr, "oci-rt init: %s: %s\n", buf, strerror(err));
	_exit(1);
}

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

/*
 * read_plan slurps the whole plan from fd: Go writes it once and closes.
 * The plan is read into static memory when it fits (a few KiB usually) and
 * parsed into one allocation: in a VM that shadows page tables every fresh
 * page costs a fault of ~10 us, and an allocation per array (~200 for a
 * default config, with malloc's first pages) cost ~0.6 ms, on the path of
 * every create.
 */
static char plan_static[1 << 16];

static char *read_plan(int fd, size_t *len)
{
	size_t cap = sizeof(plan_static), used = 0;
	char *buf = plan_static;
	for (;;) {
		ssize_t n = read(fd, buf + used, cap - used);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			fail(errno, "reading the plan");
		if (n == 0)
			break;
		used += n;
		if (used == cap) {
			char *bigger = malloc(cap * 2);
			if (!bigger)
				fail(ENOMEM, "reading the plan");
			memcpy(bigger, buf, used);
			if (buf != plan_static)
				free(buf);
			buf = bigger;
			cap *= 2;
		}
	}
	close(fd);
	*len = used;
	return buf;
}

static uint32_t take32(char **p, char *end)
{
	uint32_t v;
	if (*p + 4 > end)
		fail(EINVAL, "plan truncated");
	memcpy(&v, *p, 4);
	*p += 4;
	return v;
}

/*
 * walk_plan checks the layout of the plan's nops operations (at p) and
 * counts the ints and strings they need, spare zeros included (optional
 * ints read as 0); with ops set it also fills them, their arrays taken from
 * ints, strs and slens in turn.
 */
static void walk_plan(char *p, char *end, uint32_t nops, struct op *ops, int64_t *ints, char **strs,
		      uint32_t *slens, size_t *nint, size_t *nstr)
{
	*nint = *nstr = 0;
	for (uint32_t k = 0; k < nops; k++) {
		uint32_t code = take32(&p, end), ni = take32(&p, end), ns = take32(&p, end);
		if (p + 8 * (size_t)ni > end)
			fail(EINVAL, "plan truncated");
		struct op *o = ops ? &ops[k] : NULL;
		if (o) {
			*o = (struct op){ code, ni, ns, ints + *nint, strs + *nstr, slens + *nstr };
			memcpy(o->i, p, 8 * (size_t)ni);
		}
		p += 8 * (size_t)ni;
		for (uint32_t j = 0; j < ns; j++) {
			uint32_t n = take32(&p, end);
			if (p + n + 1 > end || p[n] != '\0')
				fail(EINVAL, "plan string truncated");
			if (o) {
				o->s[j] = p;
				o->slen[j] = n;
			}
			p += n + 1;
		}
		*nint += ni + 8;
		*nstr += ns + 8;
	}
}

/* parse_plan turns the buffer into ops whose strings point into it. */
static struct op *parse_plan(char *buf, size_t len, uint32_t *nops)
{
	char *p = buf, *end = buf + len;
	if (len < 12 || memcmp(p, PLAN_MAGIC, 8) != 0)
		fail(EINVAL, "bad plan header");
	p += 8;
	*nops = take32(&p, end);
	size_t nint, nstr;
	walk_plan(p, end, *nops, NULL, NULL, NULL, NULL, &nint, &nstr);
	size_t opsz = (*nops ? *nops : 1) * sizeof(struct op);
	char *mem = calloc(1, opsz + nint * sizeof(int64_t) + nstr * (sizeof(char *) + sizeof(uint32_t)));
	if (!mem)
		fail(ENOMEM, "plan");
	struct op *ops = (struct op *)mem;
	int64_t *ints = (int64_t *)(mem + opsz);
	char **strs = (char **)(ints + nint);
	uint32_t *slens = (uint32_t *)(strs + nstr);
	walk_plan(p, end, *nops, ops, ints, strs, slens, &nint, &nstr);
	return ops;
}

/* ---- paths inside the rootfs ---- */

static int openat2_in_root(const char *path, int flags)
{
	struct open_how how = {
		.flags = flags | O_CLOEXEC,
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	while (*path == '/')
		path++;
	if (*path == '\0')
		path = ".";
	return syscall(SYS_openat2, root_fd, path, &how, sizeof(how));
}

/*
 * follow_dangling rewrites buf when its prefix up to c (a component that
 * could not be made: it exists as a dangling symlink) is such a link: the
 * link's target takes the component's place. Resolution stays inside the
 * rootfs anyway (openat2 RESOLVE_IN_ROOT); this only lets a mount target
 * behind a dangling link be made where the link points, as runc does.
 */
static int follow_dangling(char *buf, size_t size, char *c)
{
	char *slash = strrchr(buf, '/');
	char target[PATH_MAX], rest[PATH_MAX], out[PATH_MAX];
	*slash = '\0';
	int parent = openat2_in_root(*buf ? buf : "/", O_PATH | O_DIRECTORY);
	*slash = '/';
	if (parent < 0)
		return -1;
	ssize_t n = readlinkat(parent, slash + 1, target, sizeof(target) - 1);
	close(parent);
	if (n < 0)
		return -1;
	target[n] = '\0';
	snprintf(rest, sizeof(rest), "%s", c);
	*slash = '\0';
	int len = target[0] == '/' ? snprintf(out, sizeof(out), "%s%s", target, rest)
				   : snprintf(out, sizeof(out), "%s/%s%s", buf, target, rest);
	if (len < 0 || (size_t)len >= size) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(buf, out, len + 1);
	return 0;
}

/*
 * make_in_parent makes the last component of path (a directory, or an empty
 * file for TARGET_FILE) when its parent exists: the usual missing mount
 * point, made without open_in_root's walk from the top (four syscalls
 * instead of two per level of the path). Any failure (the parent missing
 * too, a dangling symlink in the way) leaves the work to that walk.
 */
static int make_in_parent(char *path, int kind)
{
	char *slash = strrchr(path, '/');
	const char *name = slash ? slash + 1 : path;
	if (*name == '\0')
		return -1;
	if (slash)
		*slash = '\0';
	int parent = openat2_in_root(slash ? path : "/", O_PATH | O_DIRECTORY);
	if (slash)
		*slash = '/';
	if (parent < 0)
		return -1;
	int r;
	if (kind == TARGET_FILE) {
		r = openat(parent, name, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
		if (r >= 0)
			close(r);
	} else {
		r = mkdirat(parent, name, 0755);
	}
	close(parent);
	return r < 0 ? -1 : 0;
}

/*
 * open_in_root resolves path inside the rootfs the way the kernel would if
 * the rootfs were "/" (symlinks cannot lead out of it), making missing
 * directories, and the last component as a directory or an empty file.
 */
static int open_in_root(const char *path, int kind)
{
	int fd = openat2_in_root(path, O_PATH);
	if (fd >= 0 || errno != ENOENT || kind == TARGET_PLAIN)
		return fd;
	char buf[PATH_MAX];
	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	size_t n = strlen(buf);
	while (n > 1 && buf[n - 1] == '/')
		buf[--n] = '\0';
	if (make_in_parent(buf, kind) == 0)
		return openat2_in_root(buf, O_PATH);
	int links = 0;
restart:
	n = strlen(buf);
	while (n > 1 && buf[n - 1] == '/')
		buf[--n] = '\0';
	/* walk from the top, making what is missing */
	for (char *c = buf + 1;; c++) {
		if (*c != '/' && *c != '\0')
			continue;
		char saved = *c;
		int last = saved == '\0';
		*c = '\0';
		int probe = openat2_in_root(buf, O_PATH);
		if (probe < 0 && errno == ENOENT) {
			char *slash = strrchr(buf, '/');
			*slash = '\0';
			int parent = openat2_in_root(*buf ? buf : "/", O_PATH | O_DIRECTORY);
			*slash = '/';
			if (parent < 0)
				return -1;
			int r;
			if (last && kind == TARGET_FILE) {
				r = openat(parent, slash + 1, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
				if (r >= 0)
					close(r);
			} else {
				r = mkdirat(parent, slash + 1, 0755);
			}
			int e = errno;
			close(parent);
			if (r < 0 && e == EEXIST) {
				/* it exists but does not resolve: a dangling symlink */
				*c = saved;
				if (++links > 40) {
					errno = ELOOP;
					return -1;
				}
				*c = '\0';
				char rest[PATH_MAX];
				snprintf(rest, sizeof(rest), "%s%s", saved ? "/" : "", saved ? c + 1 : "");
				if (follow_dangling(buf, sizeof(buf), rest) < 0)
					return -1;
				goto restart;
			}
			if (r < 0) {
				errno = e;
				return -1;
			}
		} else if (probe >= 0) {
			close(probe);
		} else {
			return -1;
		}
		*c = saved;
		if (last)
			break;
	}
	return openat2_in_root(buf, O_PATH);
}

static void fd_path(char *buf, size_t len, int fd)
{
	snprintf(buf, len, "/proc/self/fd/%d", fd);
}

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

static void do_mount(struct op *o)
{
	const char *src = o->slen[0] ? o->s[0] : NULL;
	const char *fstype = o->slen[2] ? o->s[2] : NULL;
	const char *data = o->slen[3] ? o->s[3] : NULL;
	unsigned long flags = o->i[0];
	char target[64];
	const char *t = o->s[1];
	int fd = -1;

	if (o->i[1] != TARGET_PLAIN) {
		fd = open_in_root(o->s[1], o->i[1]);
		if (fd < 0)
			fail(errno, "resolving %s in the rootfs", o->s[1]);
		fd_path(target, sizeof(target), fd);
		t = target;
	}
	int extra = o->nint > 2 ? o->i[2] : 0;
	int under = -1;
	if (extra & MNT_COPY_UP) {
		/* a directory fd opened now still reads the directory once it is
		 * mounted over */
		under = open(t, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (under < 0)
			fail(errno, "open %s for tmpcopyup", o->s[1]);
	}
	int r = mount(src, t, fstype, flags, data);
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
		r = mount(src, t, fstype, flags | locked_flags(t), data);
	if (r < 0)
		fail(errno, "mount %s on %s", src ? src : "none", o->s[1]);
	if (fd >= 0)
		close(fd);
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
static void do_setattr(struct op *o)
{
	int fd = open_in_root(o->s[0], TARGET_PLAIN);
	if (fd < 0)
		fail(errno, "resolving %s in the rootfs", o->s[0]);
	struct mount_attr a = { .attr_set = o->i[0], .attr_clr = o->i[1] };
	if (syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &a, sizeof(a)) < 0)
		fail(errno, "mount_setattr %s", o->s[0]);
	close(fd);
}

static void do_mknod(struct op *o)
{
	char *slash = strrchr(o->s[0], '/');
	if (!slash)
		fail(EINVAL, "device path %s", o->s[0]);
	*slash = '\0';
	int dir = open_in_root(*o->s[0] ? o->s[0] : "/", TARGET_DIR);
	*slash = '/';
	if (dir < 0)
		fail(errno, "resolving %s in the rootfs", o->s[0]);
	/* an existing node (from the image) is replaced: its type must be ours */
	unlinkat(dir, slash + 1, 0);
	if (mknodat(dir, slash + 1, o->i[0], o->i[1]) < 0) {
		/* the devices cgroup may refuse mknod (`m`) for a node the
		 * config lists: bind the host's node instead, as runc does */
		if (errno != EPERM)
			fail(errno, "mknod %s", o->s[0]);
		int f = openat(dir, slash + 1, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0600);
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
	if (fchownat(dir, slash + 1, o->i[2], o->i[3], AT_SYMLINK_NOFOLLOW) < 0)
		fail(errno, "chown %s", o->s[0]);
	/* mknod honours the umask; the spec's mode is exact */
	if (fchmodat(dir, slash + 1, o->i[0] & 07777, 0) < 0)
		fail(errno, "chmod %s", o->s[0]);
	close(dir);
}

static void do_symlink(struct op *o)
{
	char *slash = strrchr(o->s[1], '/');
	if (!slash)
		fail(EINVAL, "link path %s", o->s[1]);
	*slash = '\0';
	int dir = open_in_root(*o->s[1] ? o->s[1] : "/", TARGET_DIR);
	*slash = '/';
	if (dir < 0)
		fail(errno, "resolving %s in the rootfs", o->s[1]);
	if (symlinkat(o->s[0], dir, slash + 1) < 0 && errno != EEXIST)
		fail(errno, "symlink %s -> %s", o->s[1], o->s[0]);
	close(dir);
}

static void do_mkdir(struct op *o)
{
	int fd = open_in_root(o->s[0], TARGET_DIR);
	if (fd < 0)
		fail(errno, "mkdir %s", o->s[0]);
	close(fd);
}

static void do_write(struct op *o)
{
	int fd = open(o->s[0], O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		fail(errno, "open %s", o->s[0]);
	if (write(fd, o->s[1], o->slen[1]) != (ssize_t)o->slen[1])
		fail(errno, "write %s", o->s[0]);
	close(fd);
}

static void do_pivot(void)
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
static void do_chroot(struct op *o)
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

static void do_mask(struct op *o)
{
	struct stat st;
	if (stat(o->s[0], &st) < 0) {
		if (errno == ENOENT)
			return;
		fail(errno, "stat %s", o->s[0]);
	}
	int r;
	if (S_ISDIR(st.st_mode))
		r = mount("tmpfs", o->s[0], "tmpfs", MS_RDONLY, "size=0k,nr_inodes=1");
	else
		r = mount("/dev/null", o->s[0], NULL, MS_BIND, NULL);
	if (r < 0)
		fail(errno, "mask %s", o->s[0]);
}

static void do_readonly(struct op *o)
{
	if (mount(o->s[0], o->s[0], NULL, MS_BIND | MS_REC, NULL) < 0) {
		if (errno == ENOENT)
			return;
		fail(errno, "bind %s", o->s[0]);
	}
	unsigned long f = MS_BIND | MS_REMOUNT | MS_RDONLY |
			  (locked_flags(o->s[0]) & (MS_NOSUID | MS_NODEV | MS_NOEXEC));
	if (mount(NULL, o->s[0], NULL, f, NULL) < 0 &&
	    mount(NULL, o->s[0], NULL, f | locked_flags(o->s[0]), NULL) < 0)
		fail(errno, "remount %s read-only", o->s[0]);
}

static void do_capbset(struct op *o)
{
	uint64_t keep = o->i[0];
	for (int c = 0; c <= o->i[1]; c++) {
		if (keep & (1ULL << c))
			continue;
		if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno != EINVAL)
			fail(errno, "drop capability %d from the bounding set", c);
	}
}

static void do_capset(struct op *o)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];
	uint64_t e = o->i[0], p = o->i[1], in = o->i[2], amb = o->i[3];
	for (int k = 0; k < 2; k++) {
		d[k].effective = e >> (32 * k);
		d[k].permitted = p >> (32 * k);
		d[k].inheritable = in >> (32 * k);
	}
	if (syscall(SYS_capset, &h, d) < 0)
		fail(errno, "capset");
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		fail(errno, "clear ambient capabilities");
	for (int c = 0; c <= o->i[4]; c++)
		if ((amb & (1ULL << c)) && prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0) < 0)
			fail(errno, "raise ambient capability %d", c);
}

static void do_user(struct op *o)
{
	size_t n = o->nint > 2 ? o->nint - 2 : 0;
	gid_t groups[n ? n : 1];
	for (size_t k = 0; k < n; k++)
		groups[k] = o->i[2 + k];
	/* setgroups is refused in a user namespace whose setgroups file says
	 * deny; then only an empty list was asked for */
	if (setgroups(n, groups) < 0 && !(errno == EPERM && n == 0))
		fail(errno, "setgroups");
	if (setresgid(o->i[1], o->i[1], o->i[1]) < 0)
		fail(errno, "setresgid %lld", (long long)o->i[1]);
	if (setresuid(o->i[0], o->i[0], o->i[0]) < 0)
		fail(errno, "setresuid %lld", (long long)o->i[0]);
}

static void send_fd(int sock, int fd, const char *name)
{
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { (void *)name, strlen(name) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	if (sendmsg(sock, &mh, MSG_NOSIGNAL) < 0)
		fail(errno, "send the fd over the socket");
}

/* do_console makes a pty in the container's devpts, makes it our
 * controlling terminal and stdio, and sends the master to the caller. */
static void do_console(struct op *o)
{
	int master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (master < 0)
		fail(errno, "open /dev/ptmx");
	int unlock = 0;
	if (ioctl(master, TIOCSPTLCK, &unlock) < 0)
		fail(errno, "unlock the pty");
	int slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY);
	if (slave < 0)
		fail(errno, "open the pty peer");
	if (ioctl(slave, TIOCSCTTY, 0) < 0)
		fail(errno, "set the controlling terminal");
	for (int k = 0; k < 3; k++)
		if (dup2(slave, k) < 0)
			fail(errno, "dup the pty to fd %d", k);
	if (slave > 2)
		close(slave);
	send_fd(o->i[0], master, "/dev/ptmx");
	close(master);
	close(o->i[0]);
}

static void do_seccomp(struct op *o)
{
	struct sock_fprog prog = {
		.len = o->slen[0] / sizeof(struct sock_filter),
		.filter = (struct sock_filter *)o->s[0],
	};
	/* the string is only byte aligned inside the plan: copy it */
	struct sock_filter *copy = malloc(o->slen[0] ? o->slen[0] : 1);
	if (!copy)
		fail(ENOMEM, "seccomp");
	memcpy(copy, o->s[0], o->slen[0]);
	prog.filter = copy;
	long fd = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, (unsigned)o->i[0], &prog);
	if (fd < 0)
		fail(errno, "seccomp");
	if (!o->i[1])
		return;
	/* SCMP_ACT_NOTIFY: the runtime, still waiting for us, passes the
	 * listener on to the agent at listenerPath with the container state */
	if (sync_fd < 0)
		fail(EBADF, "no runtime to hand the seccomp listener to");
	struct msg m = { MSG_SECCOMP, 0, 0 };
	char cbuf[CMSG_SPACE(sizeof(int))];
	int lfd = fd;
	struct iovec iov = { &m, sizeof(m) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &lfd, sizeof(int));
	if (sendmsg(sync_fd, &mh, MSG_NOSIGNAL) < 0)
		fail(errno, "send the seccomp listener to the runtime");
	close(lfd);
}

/* do_sync asks the runtime to act for us (write our id maps, run its hooks)
 * and waits for its answer, which carries the state JSON for our hooks. */
static void do_sync(struct op *o)
{
	send_msg(sync_fd, MSG_SYNC, o->i[0], getpid(), NULL, 0);
	char buf[1 << 16];
	ssize_t n;
	while ((n = recv(sync_fd, buf, sizeof(buf), 0)) < 0 && errno == EINTR)
		;
	if (n < 0)
		fail(errno, "waiting for the runtime");
	if (n == 0)
		fail(EPIPE, "the runtime went away");
	if (n > (ssize_t)sizeof(struct msg)) {
		free(state_json);
		state_len = n - sizeof(struct msg);
		state_json = malloc(state_len);
		if (state_json)
			memcpy(state_json, buf + sizeof(struct msg), state_len);
	}
	struct msg *m = (struct msg *)buf;
	if (m->a != 0)
		_exit(1); /* the runtime failed on its side and reports it itself */
	if (o->i[0] == SYNC_MAPS && prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		fail(errno, "prctl(PR_SET_DUMPABLE)");
}

static void __attribute__((noreturn)) run_ops(uint32_t from);

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
static void do_fork(void)
{
	if (time_ns_for_children) {
		pid_t pid = fork();
		if (pid < 0)
			fail(errno, "fork");
		if (pid == 0)
			return;
		send_msg(sync_fd, MSG_PID, pid, 0, NULL, 0);
		_exit(0);
	}
	size_t size = 1 << 20;
	char *stack = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK | MAP_NORESERVE, -1, 0);
	if (stack == MAP_FAILED)
		fail(errno, "a stack for the container's process");
	pid_t pid = clone(forked, stack + size, CLONE_VM | SIGCHLD, (void *)(uintptr_t)(op_index + 1));
	if (pid < 0)
		fail(errno, "clone");
	send_msg(sync_fd, MSG_PID, pid, 0, NULL, 0);
	_exit(0);
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

static void do_hook(struct op *o)
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
		execve(o->s[0], args, envp);
		dprintf(2, "exec %s: %s", o->s[0], strerror(errno));
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	signal(SIGPIPE, SIG_IGN);
	if (state_json)
		write_full(in[1], state_json, state_len);
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

/* do_wait_start blocks until `oci-rt start` connects. From then on errors go
 * to that connection, which closes by itself (O_CLOEXEC) when execve works. */
static void do_wait_start(struct op *o)
{
	int conn;
	while ((conn = accept4(o->i[0], NULL, NULL, SOCK_CLOEXEC)) < 0 && errno == EINTR)
		;
	if (conn < 0)
		fail(errno, "waiting for start");
	close(o->i[0]);
	if (sync_fd >= 0)
		close(sync_fd);
	sync_fd = -1;
	err_fd = conn;
	/* start sends the state JSON for the startContainer hooks */
	char buf[1 << 16];
	ssize_t n;
	while ((n = recv(conn, buf, sizeof(buf), 0)) < 0 && errno == EINTR)
		;
	if (n > 0) {
		free(state_json);
		state_json = malloc(n);
		if (state_json)
			memcpy(state_json, buf, n);
		state_len = state_json ? n : 0;
	}
}

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

static void do_exec(struct op *o)
{
	do_exec_check(o, 0);
}

static void apply(struct op *o)
{
	switch (o->code) {
	case OP_SETNS:
		if (setns(o->i[0], o->i[1]) < 0)
			fail(errno, "setns");
		close(o->i[0]);
		if (o->i[1] == CLONE_NEWTIME)
			time_ns_for_children = 1;
		break;
	case OP_UNSHARE:
		if (unshare(o->i[0]) < 0)
			fail(errno, "unshare");
		if (o->i[0] & CLONE_NEWTIME)
			time_ns_for_children = 1;
		break;
	case OP_SYNC:
		do_sync(o);
		break;
	case OP_SETID0:
		if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)
			fail(errno, "become root in the user namespace");
		break;
	case OP_FORK:
		do_fork();
		break;
	case OP_WRITE:
		do_write(o);
		break;
	case OP_MOUNT:
		do_mount(o);
		break;
	case OP_OPEN_ROOT:
		if (root_fd >= 0)
			close(root_fd);
		root_fd = open(o->s[0], O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (root_fd < 0)
			fail(errno, "open the rootfs %s", o->s[0]);
		break;
	case OP_MKNOD:
		do_mknod(o);
		break;
	case OP_SYMLINK:
		do_symlink(o);
		break;
	case OP_PIVOT:
		do_pivot();
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
		if (sethostname(o->s[0], o->slen[0]) < 0)
			fail(errno, "sethostname");
		break;
	case OP_SETDOMAINNAME:
		if (setdomainname(o->s[0], o->slen[0]) < 0)
			fail(errno, "setdomainname");
		break;
	case OP_RLIMIT: {
		struct rlimit rl = { (rlim_t)o->i[1], (rlim_t)o->i[2] };
		if (setrlimit(o->i[0], &rl) < 0)
			fail(errno, "setrlimit");
		break;
	}
	case OP_PRCTL:
		if (prctl(o->i[0], o->i[1], 0, 0, 0) < 0)
			fail(errno, "prctl %lld", (long long)o->i[0]);
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
		umask(o->i[0]);
		break;
	case OP_CHDIR:
		if (chdir(o->s[0]) < 0)
			fail(errno, "chdir %s", o->s[0]);
		break;
	case OP_CONSOLE:
		do_console(o);
		break;
	case OP_SECCOMP:
		do_seccomp(o);
		break;
	case OP_CLOSE_FDS:
		if (syscall(SYS_close_range, (unsigned)o->i[0], ~0U, CLOSE_RANGE_CLOEXEC) < 0)
			fail(errno, "close_range");
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
		do_exec_check(o, 1);
		break;
	case OP_SETSID:
		if (setsid() < 0)
			fail(errno, "setsid");
		break;
	case OP_READY:
		send_msg(sync_fd, MSG_READY, getpid(), 0, NULL, 0);
		break;
	case OP_MKDIR:
		do_mkdir(o);
		break;
	case OP_KEYRING:
		/* a keyring of its own, so that the container cannot see the
		 * host's session keys; kernels without keys are fine */
		if (syscall(SYS_keyctl, 1 /* KEYCTL_JOIN_SESSION_KEYRING */, o->s[0]) < 0 && errno != ENOSYS)
			fail(errno, "join a new session keyring");
		break;
	case OP_JOIN_CGROUP:
		/* moving the current (single) thread through `tasks` skips the
		 * kernel's global threadgroup lock, whose RCU grace period makes
		 * a write of a pid to cgroup.procs cost milliseconds */
		for (uint32_t k = 0; k < o->nstr; k++) {
			int fd = open(o->s[k], O_WRONLY | O_CLOEXEC);
			if (fd < 0 || write(fd, "0", 1) != 1)
				fail(errno, "join the cgroup (%s)", o->s[k]);
			close(fd);
		}
		break;
	case OP_MOUNT_SETATTR:
		do_setattr(o);
		break;
	default:
		fail(EINVAL, "unknown operation %u", o->code);
	}
}

static int env_fd(const char *name)
{
	const char *v = getenv(name);
	return v ? atoi(v) : -1;
}

/* nsexec runs before main() in every oci-rt process; it does nothing unless
 * the runtime started this process as a plan executor. */
/* Signal forwarding for run and exec: a handler that writes the signal's
 * number to a non-blocking pipe the Go side reads (the self-pipe trick).
 * Go's os/signal enables each caught signal through a hand-off to a
 * thread of its own, ~1 ms of CPU for ten signals; this is ten sigactions.
 * The handler runs on the thread's signal stack (Go gives every thread
 * one) and only writes; exec resets it in every child. */
static volatile int sigfwd_fd = -1;

static void sigfwd_handler(int sig)
{
	int saved = errno;
	unsigned char b = (unsigned char)sig;
	if (write(sigfwd_fd, &b, 1) < 0) {
		/* the pipe is full: the signal is dropped, as a pending
		 * standard signal would be merged */
	}
	errno = saved;
}

#if defined(__x86_64__)
/* The handler is installed with the raw syscall: musl refuses handlers for
 * the signals it reserves, 32 to 34, and 34 is glibc's SIGRTMIN, which run
 * forwards (Go's runtime, which also installs its handlers raw, had already
 * taken it over). The raw syscall needs its own return trampoline. */
__attribute__((naked, used)) static void sigfwd_restorer(void)
{
	__asm__ volatile("mov $15, %eax\n\tsyscall"); /* rt_sigreturn */
}

struct ksigaction {
	void (*handler)(int);
	unsigned long flags;
	void (*restorer)(void);
	unsigned long mask;
};
#define KSA_RESTORER 0x04000000UL

static int set_handler(int sig)
{
	struct ksigaction ka = {
		.handler = sigfwd_handler,
		.flags = SA_ONSTACK | SA_RESTART | KSA_RESTORER,
		.restorer = sigfwd_restorer,
		.mask = ~0UL,
	};
	return (int)syscall(SYS_rt_sigaction, sig, &ka, NULL, sizeof(ka.mask));
}
#else
static int set_handler(int sig)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = sigfwd_handler;
	sa.sa_flags = SA_ONSTACK | SA_RESTART;
	sigfillset(&sa.sa_mask);
	return sigaction(sig, &sa, NULL);
}
#endif

int ocirt_forward_signals(int fd, const int *sigs, int n)
{
	sigfwd_fd = fd;
	for (int i = 0; i < n; i++)
		if (set_handler(sigs[i]) < 0)
			return -errno;
	return 0;
}

/* The runtime's own threads sleep with a 1 ms timer slack: Go's sysmon
 * thread wakes every 20 µs while a command works, and in a VM each wake-up
 * is a context switch (~7% of the CPU of a `run`, perf). What we start (the
 * executor, hooks, ps) is forked from a thread that has the caller's slack
 * back (Go side). */
#define CLI_TIMERSLACK_NS 1000000L
long ocirt_caller_timerslack = -1;

static void cli_timerslack(void)
{
	long cur = prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0);
	if (cur >= 0 && cur < CLI_TIMERSLACK_NS && prctl(PR_SET_TIMERSLACK, CLI_TIMERSLACK_NS, 0, 0, 0) == 0)
		ocirt_caller_timerslack = cur;
}

/* The runtime's Go side runs on one CPU: the constructor pins the process
 * to the CPU it starts on, so the Go runtime counts one CPU (GOMAXPROCS=1)
 * and starts no spinning threads for a second one. That is ~0.4 ms of CPU
 * per command on a 2-CPU VM (thread creation, their stacks' page faults,
 * hand-offs), and the work is sequential anyway; what runs in parallel is
 * the executor, another process. What we start (the executor, hooks, ps)
 * is forked from a thread that has the caller's CPUs back, so that it can
 * run on another CPU from its first instruction; list restores them for
 * its parallel reads (Go side). Left alone when the caller chose
 * GOMAXPROCS or has one CPU. */
cpu_set_t ocirt_caller_cpus;
int ocirt_caller_cpus_saved;

static void cli_one_cpu(void)
{
	if (getenv("GOMAXPROCS") || sched_getaffinity(0, sizeof(ocirt_caller_cpus), &ocirt_caller_cpus) < 0 ||
	    CPU_COUNT(&ocirt_caller_cpus) < 2)
		return;
	int cpu = sched_getcpu();
	if (cpu < 0 || cpu >= CPU_SETSIZE || !CPU_ISSET(cpu, &ocirt_caller_cpus))
		return;
	cpu_set_t one;
	CPU_ZERO(&one);
	CPU_SET(cpu, &one);
	if (sched_setaffinity(0, sizeof(one), &one) == 0)
		ocirt_caller_cpus_saved = 1;
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
		int fd = open(join, O_WRONLY | O_CLOEXEC);
		if (fd < 0 || write(fd, "0", 1) != 1)
			fail(errno, "join the cgroup (%s)", join);
		close(fd);
	}
	const char *flags = getenv("_OCIRT_PRELUDE_UNSHARE");
	if (flags) {
		op_index = PRELUDE_UNSHARE;
		if (unshare((int)strtoul(flags, NULL, 10)) < 0)
			fail(errno, "unshare");
	}
	op_index = -1;
}

/* the plan's operations, which a forked child goes on with */
static struct op *plan_ops;
static uint32_t plan_nops;

static void run_ops(uint32_t from)
{
	for (uint32_t k = from; k < plan_nops; k++) {
		op_index = k;
		apply(&plan_ops[k]);
	}
	op_index = -1;
	fail(EINVAL, "the plan ended without exec");
}

void __attribute__((constructor)) nsexec(void)
{
	int plan_fd = env_fd("_OCIRT_PLAN_FD");
	if (plan_fd < 0) {
		cli_timerslack();
		cli_one_cpu();
		return;
	}
	sync_fd = env_fd("_OCIRT_SYNC_FD");
	err_fd = sync_fd;
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
	plan_ops = parse_plan(buf, len, &plan_nops);
	run_ops(0);
}
