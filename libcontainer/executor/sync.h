/* The conversation with the runtime (Go): sync messages, errors, fds. */
#ifndef OCIRT_SYNC_H
#define OCIRT_SYNC_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "readplan.h"

extern int op_index; /* the op being applied, for error reports */

void sync_start(int fd);
void __attribute__((noreturn, format(printf, 2, 3))) fail(int err, const char *fmt, ...);
void report_pid(pid_t pid);
int send_fd(int sock, const void *data, size_t len, int fd);
void send_seccomp_listener(int fd);
const char *runtime_state(size_t *len);
void do_sync(struct op *o);
int ask_mount_source(int32_t index);
void do_wait_start(struct op *o);
void do_ready(struct op *o);

#endif
