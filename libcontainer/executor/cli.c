/*
 * The CLI's own start-up tuning, for every oci-rt command (not the
 * executor): a timer slack and one CPU for its Go runtime, set by the
 * constructor before the runtime starts, and the signal pipe that run and
 * exec forward signals through (Go's side: executor.go).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#include "cli.h"

/* Signal forwarding for run and exec: a handler that writes the signal's
 * number to a non-blocking pipe the Go side reads (the self-pipe trick).
 * Go's os/signal enables each caught signal through a hand-off to a
 * thread of its own, ~1 ms of CPU for ten signals; this is ten sigactions.
 * The handler runs on the thread's signal stack (Go gives every thread
 * one) and only writes; exec resets it in every child. */
static volatile int sigfwd_fd = -1;

static void sigfwd_handler(int sig)
{
	int saved = errno;
	unsigned char b = (unsigned char)sig;
	if (write(sigfwd_fd, &b, 1) < 0) {
		/* the pipe is full: the signal is dropped, as a pending
		 * standard signal would be merged */
	}
	errno = saved;
}

#if defined(__x86_64__)
/* The handler is installed with the raw syscall: musl refuses handlers for
 * the signals it reserves, 32 to 34, and 34 is glibc's SIGRTMIN, which run
 * forwards (Go's runtime, which also installs its handlers raw, had already
 * taken it over). The raw syscall needs its own return trampoline. */
__attribute__((naked, used)) static void sigfwd_restorer(void)
{
	__asm__ volatile("mov $15, %eax\n\tsyscall"); /* rt_sigreturn */
}

struct ksigaction {
	void (*handler)(int);
	unsigned long flags;
	void (*restorer)(void);
	unsigned long mask;
};
#define KSA_RESTORER 0x04000000UL

static int set_handler(int sig)
{
	struct ksigaction ka = {
		.handler = sigfwd_handler,
		.flags = SA_ONSTACK | SA_RESTART | KSA_RESTORER,
		.restorer = sigfwd_restorer,
		.mask = ~0UL,
	};
	return (int)syscall(SYS_rt_sigaction, sig, &ka, NULL, sizeof(ka.mask));
}
#else
static int set_handler(int sig)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = sigfwd_handler;
	sa.sa_flags = SA_ONSTACK | SA_RESTART;
	sigfillset(&sa.sa_mask);
	return sigaction(sig, &sa, NULL);
}
#endif

int ocirt_forward_signals(int fd, const int *sigs, int n)
{
	sigfwd_fd = fd;
	for (int i = 0; i < n; i++)
		if (set_handler(sigs[i]) < 0)
			return -errno;
	return 0;
}

/* The runtime's own threads sleep with a 1 ms timer slack: Go's sysmon
 * thread wakes every 20 µs while a command works, and in a VM each wake-up
 * is a context switch (~7% of the CPU of a `run`, perf). What we start (the
 * executor, hooks, ps) is forked from a thread that has the caller's slack
 * back (Go side). */
#define CLI_TIMERSLACK_NS 1000000L
long ocirt_caller_timerslack = -1;

void cli_timerslack(void)
{
	long cur = prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0);
	if (cur >= 0 && cur < CLI_TIMERSLACK_NS && prctl(PR_SET_TIMERSLACK, CLI_TIMERSLACK_NS, 0, 0, 0) == 0)
		ocirt_caller_timerslack = cur;
}

/* The runtime's Go side runs on one CPU: the constructor pins the process
 * to the CPU it starts on, so the Go runtime counts one CPU (GOMAXPROCS=1)
 * and starts no spinning threads for a second one. That is ~0.4 ms of CPU
 * per command on a 2-CPU VM (thread creation, their stacks' page faults,
 * hand-offs), and the work is sequential anyway; what runs in parallel is
 * the executor, another process. What we start (the executor, hooks, ps)
 * is forked from a thread that has the caller's CPUs back, so that it can
 * run on another CPU from its first instruction; list restores them for
 * its parallel reads (Go side). Left alone when the caller chose
 * GOMAXPROCS or has one CPU. */
cpu_set_t ocirt_caller_cpus;
int ocirt_caller_cpus_saved;

void cli_one_cpu(void)
{
	if (getenv("GOMAXPROCS") || sched_getaffinity(0, sizeof(ocirt_caller_cpus), &ocirt_caller_cpus) < 0 ||
	    CPU_COUNT(&ocirt_caller_cpus) < 2)
		return;
	int cpu = sched_getcpu();
	if (cpu < 0 || cpu >= CPU_SETSIZE || !CPU_ISSET(cpu, &ocirt_caller_cpus))
		return;
	cpu_set_t one;
	CPU_ZERO(&one);
	CPU_SET(cpu, &one);
	if (sched_setaffinity(0, sizeof(one), &one) == 0)
		ocirt_caller_cpus_saved = 1;
}
