/* Namespaces and the cgroup: joining, making, cloning into them. */
#ifndef OCIRT_NAMESPACES_H
#define OCIRT_NAMESPACES_H

#include "readplan.h"

void join_cgroup(const char *tasks);
void do_join_cgroup(struct op *o);
void do_setns(struct op *o);
void do_unshare(struct op *o);
void do_setid0(struct op *o);
void do_fork(struct op *o);
void do_sethostname(struct op *o);
void do_setdomainname(struct op *o);

#endif
