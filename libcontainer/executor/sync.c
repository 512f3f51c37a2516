/*
 * The conversation with the runtime: a SOCK_SEQPACKET socket of struct msg
 * (plan.h) during create, then the `start` connection for errors. What the
 * executor asks (id maps, hooks, the cgroup), what it reports (the
 * container's pid, ready, the first failure with its op index) and the fds
 * it hands over.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "plan.h"
#include "sync.h"

static int sync_fd = -1;        /* to the runtime during create */
static int err_fd = -1;         /* where errors go: sync_fd, then the `start` connection */
int op_index = -1;              /* the op being applied, for error reports */
static char *state_json = NULL; /* the state the runtime sent last, for hooks */
static size_t state_len = 0;

/* sync_start sets the socket to the runtime, where errors go too. */
void sync_start(int fd)
{
	sync_fd = fd;
	err_fd = fd;
}

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
void __attribute__((noreturn, format(printf, 2, 3))) fail(int err, const char *fmt, ...)
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

/* report_pid tells the runtime the pid of the container's process. */
void report_pid(pid_t pid)
{
	send_msg(sync_fd, MSG_PID, pid, 0, NULL, 0);
}

/* do_ready tells the runtime that create is done. */
void do_ready(struct op *o)
{
	send_msg(sync_fd, MSG_READY, getpid(), 0, NULL, 0);
}

/* send_fd sends data with fd attached (SCM_RIGHTS). */
int send_fd(int sock, const void *data, size_t len, int fd)
{
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { (void *)data, len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	return sendmsg(sock, &mh, MSG_NOSIGNAL);
}

/* send_seccomp_listener hands a SCMP_ACT_NOTIFY listener to the runtime. */
void send_seccomp_listener(int fd)
{
	if (sync_fd < 0)
		fail(EBADF, "no runtime to hand the seccomp listener to");
	struct msg m = { MSG_SECCOMP, 0, 0 };
	if (send_fd(sync_fd, &m, sizeof(m), fd) < 0)
		fail(errno, "send the seccomp listener to the runtime");
	close(fd);
}

/* runtime_state is the state JSON the runtime sent last (with a sync
 * answer or by `start`), which hooks read on their stdin; NULL if none. */
const char *runtime_state(size_t *len)
{
	*len = state_len;
	return state_json;
}

/* do_sync asks the runtime to act for us (write our id maps, run its hooks)
 * and waits for its answer, which carries the state JSON for our hooks. */
void do_sync(struct op *o)
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

/* ask_mount_source asks the runtime to open the source of mounts[index]
 * (SYNC_MOUNT_SOURCE) and returns the fd it sends: a bind source we cannot
 * reach, or an idmapped tree. A failure on its side it reports itself. */
int ask_mount_source(int32_t index)
{
	send_msg(sync_fd, MSG_SYNC, SYNC_MOUNT_SOURCE, getpid(), (const char *)&index, sizeof(index));
	struct msg m;
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { &m, sizeof(m) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	ssize_t n;
	while ((n = recvmsg(sync_fd, &mh, MSG_CMSG_CLOEXEC)) < 0 && errno == EINTR)
		;
	if (n < 0)
		fail(errno, "waiting for the runtime");
	if (n == 0)
		fail(EPIPE, "the runtime went away");
	if (n < (ssize_t)sizeof(m) || m.a != 0)
		_exit(1); /* the runtime failed on its side and reports it itself */
	struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
	if (!c || c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
		fail(EBADMSG, "the runtime sent no mount source");
	int fd;
	memcpy(&fd, CMSG_DATA(c), sizeof(int));
	return fd;
}

/* do_wait_start blocks until `oci-rt start` connects. From then on errors go
 * to that connection, which closes by itself (O_CLOEXEC) when execve works. */
void do_wait_start(struct op *o)
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
