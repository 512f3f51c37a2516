/* The hooks the executor runs itself (createContainer, startContainer). */
#ifndef OCIRT_HOOKS_H
#define OCIRT_HOOKS_H

#include "readplan.h"

void do_hook(struct op *o);

#endif
