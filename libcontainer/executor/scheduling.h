/* The process's scheduling, I/O priority, execution domain, NUMA memory
 * policy and CPU affinity: one syscall each, only when the config asks. */
#ifndef OCIRT_SCHEDULING_H
#define OCIRT_SCHEDULING_H

#include "readplan.h"

void do_sched_attr(struct op *o);
void do_ioprio(struct op *o);
void do_personality(struct op *o);
void do_mempolicy(struct op *o);
void do_affinity(struct op *o);

#endif
