/* What the plan makes in the rootfs, and entering it. */
#ifndef OCIRT_ROOTFS_H
#define OCIRT_ROOTFS_H

#include "readplan.h"

void do_mknod(struct op *o);
void do_symlink(struct op *o);
void do_mkdir(struct op *o);
void do_pivot(struct op *o);
void do_chroot(struct op *o);

#endif
