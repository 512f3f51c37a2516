/*
 * The container process's own set-up: /proc/self writes (oom_score_adj,
 * LSM labels), rlimits, prctls, the bounding, effective... capability sets,
 * uid, gid and groups, umask, cwd, the console, seccomp, fds, the session
 * and its keyring.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/openat2.h>
#include <linux/seccomp.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>

#include "plan.h"
#include "process.h"
#include "procfs.h"
#include "mounts.h"
#include "paths.h"
#include "sync.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif
#ifndef TIOCGPTPEER
#define TIOCGPTPEER _IO('T', 0x41)
#endif

/* do_write writes a procfs file, through our own procfs handle (procfs.c) */
void do_write(struct op *o)
{
	int fd = proc_open(o->s[0], O_WRONLY);
	if (fd < 0)
		fail(errno, "open %s", o->s[0]);
	if (write(fd, o->s[1], o->slen[1]) != (ssize_t)o->slen[1])
		fail(errno, "write %s", o->s[0]);
	close(fd);
	proc_write_done();
}

void do_rlimit(struct op *o)
{
	struct rlimit rl = { (rlim_t)o->i[1], (rlim_t)o->i[2] };
	if (setrlimit(o->i[0], &rl) < 0)
		fail(errno, "setrlimit");
}

void do_prctl(struct op *o)
{
	if (prctl(o->i[0], o->i[1], 0, 0, 0) < 0)
		fail(errno, "prctl %lld", (long long)o->i[0]);
}

void do_umask(struct op *o)
{
	umask(o->i[0]);
}

/*
 * enter_cwd enters path as the process's root resolves it, never through a
 * magic link: a cwd swapped for /proc/self/fd/N after it was made would
 * otherwise leave the process in an fd we hold, outside its root (our
 * procfs handle, of the host's pid namespace: CVE-2024-21626's class).
 */
static int enter_cwd(const char *path)
{
	int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root < 0)
		return -1;
	int fd = openat2_at(root, path, O_PATH | O_DIRECTORY, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
	int r = fd < 0 ? -1 : fchdir(fd);
	int e = errno;
	if (fd >= 0)
		close(fd);
	close(root);
	errno = e;
	return r;
}

/* set when process.cwd could not be entered with the runtime's privileges */
static int cwd_pending;

/*
 * do_chdir enters process.cwd. CHDIR_FIRST runs while we still have the
 * privileges to reach it (a cwd under a directory only root may enter); if
 * they do not suffice (root squashed on a network filesystem), CHDIR_RETRY
 * tries again as the process's user, as runc does.
 */
void do_chdir(struct op *o)
{
	int mode = o->nint > 0 ? o->i[0] : 0;
	if (mode == CHDIR_RETRY && !cwd_pending)
		return;
	if (enter_cwd(o->s[0]) == 0) {
		cwd_pending = 0;
		return;
	}
	if (mode == CHDIR_FIRST && (errno == EACCES || errno == EPERM)) {
		cwd_pending = 1;
		return;
	}
	fail(errno, "chdir %s", o->s[0]);
}

void do_close_fds(struct op *o)
{
	if (syscall(SYS_close_range, (unsigned)o->i[0], ~0U, CLOSE_RANGE_CLOEXEC) < 0)
		fail(errno, "close_range");
}

void do_setsid(struct op *o)
{
	if (setsid() < 0)
		fail(errno, "setsid");
}

/* do_keyring joins a session keyring of its own, so that the container
 * cannot see the host's session keys; kernels without keys are fine. */
void do_keyring(struct op *o)
{
	if (syscall(SYS_keyctl, 1 /* KEYCTL_JOIN_SESSION_KEYRING */, o->s[0]) < 0 && errno != ENOSYS)
		fail(errno, "join a new session keyring");
}

void do_capbset(struct op *o)
{
	uint64_t keep = o->i[0];
	for (int c = 0; c <= o->i[1]; c++) {
		if (keep & (1ULL << c))
			continue;
		if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno != EINVAL)
			fail(errno, "drop capability %d from the bounding set", c);
	}
}

void do_capset(struct op *o)
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

void do_user(struct op *o)
{
	size_t n = o->nint > 2 ? o->nint - 2 : 0;
	gid_t groups[n ? n : 1];
	groups[0] = 0; /* gcc cannot tell that setgroups reads none when n is 0 */
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

/* do_console makes a pty in the container's devpts, makes it our
 * controlling terminal and stdio, and sends the master to the caller. */
/* clear_onlcr stops the pty turning "\n" into "\r\n" for oci-rt's own
 * relay, which copies to a terminal that does it (runc's run and exec -t) */
static void clear_onlcr(int fd)
{
	struct termios t;
	if (tcgetattr(fd, &t) < 0)
		fail(errno, "read the pty's settings");
	t.c_oflag &= ~ONLCR;
	if (tcsetattr(fd, TCSANOW, &t) < 0)
		fail(errno, "clear ONLCR on the pty");
}

/*
 * mount_console binds the pty's slave onto /dev/console (CVE-2025-52565):
 * the peer is checked to be a pty slave (char major 136-143), and the bind
 * goes from fd to fd onto /dev/console opened without following a link.
 * An existing file or character device there is bound over as it is; a
 * link or directory the image left is replaced by an empty file, unless
 * /dev is bound from the host (keep): nothing of the host's is replaced.
 */
static void mount_console(int slave, int keep)
{
	struct stat st;
	if (fstat(slave, &st) < 0 || !S_ISCHR(st.st_mode) || major(st.st_rdev) < 136 || major(st.st_rdev) > 143)
		fail(EINVAL, "the pty peer is not a pty slave (char 136-143)");
	int dev = openat2_in_root("/dev", O_PATH | O_DIRECTORY);
	if (dev < 0)
		fail(errno, "open /dev for /dev/console");
	if (fstatat(dev, "console", &st, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISREG(st.st_mode) && !S_ISCHR(st.st_mode)) {
		if (keep)
			fail(EINVAL, "/dev/console in the /dev bound from the host is neither a file nor a device: not replaced");
		if (unlinkat(dev, "console", S_ISDIR(st.st_mode) ? AT_REMOVEDIR : 0) < 0)
			fail(errno, "remove the image's /dev/console");
	}
	/* O_EXCL: an existing device is never opened */
	int f = openat(dev, "console", O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0666);
	if (f >= 0)
		close(f);
	int t = openat(dev, "console", O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (t < 0 || fstat(t, &st) < 0 || !(S_ISREG(st.st_mode) || S_ISCHR(st.st_mode)))
		fail(t < 0 ? errno : EINVAL, "make /dev/console a file to bind the pty on");
	if (bind_fd(slave, t) < 0)
		fail(errno, "bind the pty onto /dev/console");
	close(t);
	close(dev);
}

void do_console(struct op *o)
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
	if (o->nint > 5 && o->i[5])
		mount_console(slave, o->i[5] == 2);
	if (o->nint > 1 && o->i[1])
		clear_onlcr(slave);
	if (o->nint > 3 && o->i[2] && o->i[3]) {
		/* process.consoleSize (runc sets it only with both) */
		struct winsize ws = { .ws_row = (unsigned short)o->i[2], .ws_col = (unsigned short)o->i[3] };
		if (ioctl(master, TIOCSWINSZ, &ws) < 0)
			fail(errno, "set the pty's size");
	}
	/* the process's own terminal: chown it to its uid (runc's
	 * fixStdioPermissions); a read-only /dev or an unmapped owner leaves
	 * it as it is */
	if (o->nint > 4 && o->i[4] != 0 && fchown(slave, (uid_t)o->i[4], (gid_t)-1) < 0 && errno != EPERM && errno != EROFS)
		fail(errno, "give the pty to uid %lld", (long long)o->i[4]);
	for (int k = 0; k < 3; k++)
		if (dup2(slave, k) < 0)
			fail(errno, "dup the pty to fd %d", k);
	if (slave > 2)
		close(slave);
	if (send_fd(o->i[0], "/dev/ptmx", strlen("/dev/ptmx"), master) < 0)
		fail(errno, "send the fd over the socket");
	close(master);
	close(o->i[0]);
}

/* do_pidfd sends a pidfd of this process, the container's (or exec's)
 * own, to --pidfd-socket (runc 1.2's): the caller can then signal and wait
 * for it without racing pid reuse. Opened here, by the process itself,
 * rather than by the runtime from a pid. */
void do_pidfd(struct op *o)
{
	int fd = (int)syscall(SYS_pidfd_open, getpid(), 0);
	if (fd < 0)
		fail(errno, "pidfd_open");
	if (send_fd(o->i[0], o->s[0], strlen(o->s[0]), fd) < 0)
		fail(errno, "send the pidfd over the socket");
	close(fd);
	close(o->i[0]);
}

void do_seccomp(struct op *o)
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
	send_seccomp_listener(fd);
}
