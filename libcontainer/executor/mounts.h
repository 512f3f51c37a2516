/* Mounts: the config's mounts, mount attributes, masked and read-only paths. */
#ifndef OCIRT_MOUNTS_H
#define OCIRT_MOUNTS_H

#include "readplan.h"

void do_mount(struct op *o);
void do_setattr(struct op *o);
void do_mask(struct op *o);
int bind_fd(int fd, int target);
int fs_detached(const char *fstype, char *data, unsigned int attr);
void do_readonly(struct op *o);

#endif
