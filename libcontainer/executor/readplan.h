/* Reading the plan Go sends and parsing it into operations. */
#ifndef OCIRT_READPLAN_H
#define OCIRT_READPLAN_H

#include <stddef.h>
#include <stdint.h>

/* one operation of the plan: its code and arguments, the strings pointing
 * into the buffer read_plan returned */
struct op {
	uint32_t code, nint, nstr;
	int64_t *i;
	char **s;
	uint32_t *slen;
};

char *read_plan(int fd, size_t *len);
struct op *parse_plan(char *buf, size_t len, uint32_t *nops);

#endif
