/*
 * process.scheduler, process.ioPriority, linux.personality,
 * linux.memoryPolicy and process.execCPUAffinity.final. glibc and musl
 * wrap none of sched_setattr, ioprio_set or set_mempolicy: raw syscalls.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "scheduling.h"
#include "sync.h"

/* struct sched_attr of sched_setattr(2) with the utilization clamps (56
 * bytes, as runc passes it): SCHED_FLAG_UTIL_CLAMP_* need that size; the
 * spec has no clamp values, so they are 0 */
struct sched_attr_v1 {
	uint32_t size, policy;
	uint64_t flags;
	int32_t nice;
	uint32_t priority;
	uint64_t runtime, deadline, period;
	uint32_t util_min, util_max;
};

/* i0 policy, i1 flags, i2 nice, i3 priority, i4 runtime, i5 deadline, i6 period */
void do_sched_attr(struct op *o)
{
	struct sched_attr_v1 a = {
		.size = sizeof(a), .policy = o->i[0], .flags = o->i[1], .nice = o->i[2],
		.priority = o->i[3], .runtime = o->i[4], .deadline = o->i[5], .period = o->i[6],
	};
	if (syscall(SYS_sched_setattr, 0, &a, 0) < 0)
		fail(errno, "sched_setattr");
}

#define IOPRIO_WHO_PROCESS 1

/* i0 class << 13 | level */
void do_ioprio(struct op *o)
{
	if (syscall(SYS_ioprio_set, IOPRIO_WHO_PROCESS, 0, (int)o->i[0]) < 0)
		fail(errno, "ioprio_set");
}

/* i0 persona */
void do_personality(struct op *o)
{
	if (personality((unsigned long)o->i[0]) < 0)
		fail(errno, "personality");
}

/* i0 mode | flags, i1 maxnode, i2.. the node mask's 64-bit words */
void do_mempolicy(struct op *o)
{
	unsigned long mask[16] = { 0 };
	uint32_t words = o->nint - 2;
	if (words > 16)
		fail(EINVAL, "set_mempolicy: node mask of %u words", words);
	for (uint32_t w = 0; w < words; w++)
		mask[w] = (unsigned long)o->i[2 + w];
	if (syscall(SYS_set_mempolicy, (int)o->i[0], words ? mask : NULL, words ? (unsigned long)o->i[1] : 0) < 0)
		fail(errno, "set_mempolicy");
}

/* i0.. the CPU mask's 64-bit words */
void do_affinity(struct op *o)
{
	uint64_t mask[128] = { 0 };
	if (o->nint > 128)
		fail(EINVAL, "sched_setaffinity: CPU mask of %u words", o->nint);
	memcpy(mask, o->i, o->nint * sizeof(uint64_t));
	if (syscall(SYS_sched_setaffinity, 0, o->nint * sizeof(uint64_t), mask) < 0)
		fail(errno, "sched_setaffinity");
}
