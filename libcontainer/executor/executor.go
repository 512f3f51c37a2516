// Package executor links the plan executor (its .c files) into the binary. Its C
// constructor runs before the Go runtime starts, so it can join mount and
// user namespaces, which the kernel refuses to multi-threaded processes.
// Import it for its side effect from the runtime's main package.
package executor

/*
#cgo CFLAGS: -Wall -Wextra -Wno-unused-parameter -O2 -I${SRCDIR}/../plan
#define _GNU_SOURCE
#include <sched.h>
extern long ocirt_caller_timerslack;
extern cpu_set_t ocirt_caller_cpus;
extern int ocirt_caller_cpus_saved;
extern int ocirt_forward_signals(int fd, const int *sigs, int n);
*/
import "C"

import (
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"

	// plan.h, which the C includes, is part of that package's build: this
	// import rebuilds the C when plan.h changes (see plan.header).
	_ "github.com/oci-rt/oci-rt/libcontainer/plan"
)

// ForwardSignals has each of sigs write its number (one byte) to w, a
// non-blocking pipe, instead of reaching Go's handler. For run and exec,
// which pass signals on to the container: Go's os/signal enables each
// caught signal through a hand-off to a thread of its own (~1 ms of CPU
// for ten). The handler is reset to the default in every child by exec.
func ForwardSignals(w int, sigs []syscall.Signal) error {
	cs := make([]C.int, len(sigs))
	for i, s := range sigs {
		cs[i] = C.int(s)
	}
	if len(cs) == 0 {
		return nil
	}
	if r := C.ocirt_forward_signals(C.int(w), &cs[0], C.int(len(cs))); r < 0 {
		return syscall.Errno(-r)
	}
	return nil
}

// CallerTimerSlack is the timer slack (ns) oci-rt was started with, before
// the constructor raised its own (see cli.c): the processes oci-rt
// starts get it back. -1 when the slack was left alone.
func CallerTimerSlack() int64 { return int64(C.ocirt_caller_timerslack) }

// CallerCPUs is the CPU affinity oci-rt was started with, when the
// constructor pinned the runtime to one CPU (see cli.c): the processes
// oci-rt starts get it back.
func CallerCPUs() (unix.CPUSet, bool) {
	if C.ocirt_caller_cpus_saved == 0 {
		return unix.CPUSet{}, false
	}
	return *(*unix.CPUSet)(unsafe.Pointer(&C.ocirt_caller_cpus)), true
}
