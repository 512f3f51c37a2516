/*
 * Paths inside the container's rootfs: resolved with openat2's
 * RESOLVE_IN_ROOT, as if the rootfs were "/", so that no symlink in the
 * image leads out of it; missing mount points made on the way.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "paths.h"
#include "plan.h"
#include "sync.h"

int root_fd = -1; /* the container's rootfs, for *_IN_ROOT paths */

/* do_open_root opens the rootfs, the root every later path resolves in. */
void do_open_root(struct op *o)
{
	if (root_fd >= 0)
		close(root_fd);
	root_fd = open(o->s[0], O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root_fd < 0)
		fail(errno, "open the rootfs %s", o->s[0]);
}

/*
 * openat2_at opens path beneath dir with the resolve flags given, the path's
 * leading slashes dropped (resolution starts at dir). RESOLVE_IN_ROOT and
 * RESOLVE_BENEATH fail with EAGAIN when a rename or mount anywhere raced
 * with the walk (other containers mount all the time): tried again.
 */
int openat2_at(int dir, const char *path, int flags, uint64_t resolve)
{
	struct open_how how = {
		.flags = flags | O_CLOEXEC,
		.resolve = resolve,
	};
	while (*path == '/')
		path++;
	if (*path == '\0')
		path = ".";
	int fd, tries = 0;
	while ((fd = syscall(SYS_openat2, dir, path, &how, sizeof(how))) < 0 && errno == EAGAIN && ++tries < 64)
		;
	return fd;
}

int openat2_in_root(const char *path, int flags)
{
	return openat2_at(root_fd, path, flags, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
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
 * too, a dangling symlink in the way: EEXIST) leaves the work to that walk,
 * which makes each missing level with it.
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
int open_in_root(const char *path, int kind)
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
			if (make_in_parent(buf, last ? kind : TARGET_DIR) < 0) {
				if (errno != EEXIST)
					return -1;
				/* it exists but does not resolve: a dangling symlink */
				if (++links > 40) {
					errno = ELOOP;
					return -1;
				}
				char rest[PATH_MAX];
				snprintf(rest, sizeof(rest), "%s%s", saved ? "/" : "", saved ? c + 1 : "");
				if (follow_dangling(buf, sizeof(buf), rest) < 0)
					return -1;
				goto restart;
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

void fd_path(char *buf, size_t len, int fd)
{
	snprintf(buf, len, "/proc/self/fd/%d", fd);
}
