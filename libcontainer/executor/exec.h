/* Finding args[0] in the container and exec'ing it. */
#ifndef OCIRT_EXEC_H
#define OCIRT_EXEC_H

#include "readplan.h"

void do_check_exec(struct op *o);
void do_exec(struct op *o);

#endif
