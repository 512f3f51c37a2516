/* The container process's own set-up: ids, capabilities, limits, seccomp... */
#ifndef OCIRT_PROCESS_H
#define OCIRT_PROCESS_H

#include "readplan.h"

void do_write(struct op *o);
void do_rlimit(struct op *o);
void do_prctl(struct op *o);
void do_capbset(struct op *o);
void do_capset(struct op *o);
void do_user(struct op *o);
void do_umask(struct op *o);
void do_chdir(struct op *o);
void do_console(struct op *o);
void do_pidfd(struct op *o);
void do_seccomp(struct op *o);
void do_close_fds(struct op *o);
void do_setsid(struct op *o);
void do_keyring(struct op *o);

#endif
