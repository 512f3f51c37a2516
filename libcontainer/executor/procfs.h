/* A procfs handle the container's mounts cannot redirect. */
#ifndef OCIRT_PROCFS_H
#define OCIRT_PROCFS_H

#include "readplan.h"

void proc_handle_for(struct op *ops, uint32_t nops);
void proc_write_done(void);
int proc_open(const char *path, int flags);

#endif
