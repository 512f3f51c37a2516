/*
 * The plan: Go writes it once to a pipe and closes it; the executor reads
 * it whole and parses it into operations (plan.h gives its layout).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "plan.h"
#include "readplan.h"
#include "sync.h"

/*
 * read_plan slurps the whole plan from fd: Go writes it once and closes.
 * The plan is read into static memory when it fits (a few KiB usually) and
 * parsed into one allocation: in a VM that shadows page tables every fresh
 * page costs a fault of ~10 us, and an allocation per array (~200 for a
 * default config, with malloc's first pages) cost ~0.6 ms, on the path of
 * every create.
 */
static char plan_static[1 << 16];

char *read_plan(int fd, size_t *len)
{
	size_t cap = sizeof(plan_static), used = 0;
	char *buf = plan_static;
	for (;;) {
		ssize_t n = read(fd, buf + used, cap - used);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			fail(errno, "reading the plan");
		if (n == 0)
			break;
		used += n;
		if (used == cap) {
			char *bigger = malloc(cap * 2);
			if (!bigger)
				fail(ENOMEM, "reading the plan");
			memcpy(bigger, buf, used);
			if (buf != plan_static)
				free(buf);
			buf = bigger;
			cap *= 2;
		}
	}
	close(fd);
	*len = used;
	return buf;
}

static uint32_t take32(char **p, char *end)
{
	uint32_t v;
	if (*p + 4 > end)
		fail(EINVAL, "plan truncated");
	memcpy(&v, *p, 4);
	*p += 4;
	return v;
}

/*
 * walk_plan checks the layout of the plan's nops operations (at p) and
 * counts the ints and strings they need, spare zeros included (optional
 * ints read as 0); with ops set it also fills them, their arrays taken from
 * ints, strs and slens in turn.
 */
static void walk_plan(char *p, char *end, uint32_t nops, struct op *ops, int64_t *ints, char **strs,
		      uint32_t *slens, size_t *nint, size_t *nstr)
{
	*nint = *nstr = 0;
	for (uint32_t k = 0; k < nops; k++) {
		uint32_t code = take32(&p, end), ni = take32(&p, end), ns = take32(&p, end);
		if (p + 8 * (size_t)ni > end)
			fail(EINVAL, "plan truncated");
		struct op *o = ops ? &ops[k] : NULL;
		if (o) {
			*o = (struct op){ code, ni, ns, ints + *nint, strs + *nstr, slens + *nstr };
			memcpy(o->i, p, 8 * (size_t)ni);
		}
		p += 8 * (size_t)ni;
		for (uint32_t j = 0; j < ns; j++) {
			uint32_t n = take32(&p, end);
			if (p + n + 1 > end || p[n] != '\0')
				fail(EINVAL, "plan string truncated");
			if (o) {
				o->s[j] = p;
				o->slen[j] = n;
			}
			p += n + 1;
		}
		*nint += ni + 8;
		*nstr += ns + 8;
	}
}

/* parse_plan turns the buffer into ops whose strings point into it. */
struct op *parse_plan(char *buf, size_t len, uint32_t *nops)
{
	char *p = buf, *end = buf + len;
	if (len < 12 || memcmp(p, PLAN_MAGIC, 8) != 0)
		fail(EINVAL, "bad plan header");
	p += 8;
	*nops = take32(&p, end);
	size_t nint, nstr;
	walk_plan(p, end, *nops, NULL, NULL, NULL, NULL, &nint, &nstr);
	size_t opsz = (*nops ? *nops : 1) * sizeof(struct op);
	char *mem = calloc(1, opsz + nint * sizeof(int64_t) + nstr * (sizeof(char *) + sizeof(uint32_t)));
	if (!mem)
		fail(ENOMEM, "plan");
	struct op *ops = (struct op *)mem;
	int64_t *ints = (int64_t *)(mem + opsz);
	char **strs = (char **)(ints + nint);
	uint32_t *slens = (uint32_t *)(strs + nstr);
	walk_plan(p, end, *nops, ops, ints, strs, slens, &nint, &nstr);
	return ops;
}
