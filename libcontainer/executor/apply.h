/* Applying the plan: one operation after another. */
#ifndef OCIRT_APPLY_H
#define OCIRT_APPLY_H

#include <stdint.h>

#include "readplan.h"

void __attribute__((noreturn)) run_plan(struct op *ops, uint32_t nops);
void __attribute__((noreturn)) run_ops(uint32_t from);

#endif
