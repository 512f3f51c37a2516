/* Paths inside the container's rootfs, resolved without leaving it. */
#ifndef OCIRT_PATHS_H
#define OCIRT_PATHS_H

#include <stddef.h>
#include <stdint.h>

#include "readplan.h"

extern int root_fd; /* the container's rootfs, for *_IN_ROOT paths */

void do_open_root(struct op *o);
int openat2_at(int dir, const char *path, int flags, uint64_t resolve);
int openat2_in_root(const char *path, int flags);
int open_in_root(const char *path, int kind);
void fd_path(char *buf, size_t len, int fd);

#endif
