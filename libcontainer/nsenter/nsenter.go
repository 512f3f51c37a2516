// Package nsenter links the plan executor (nsexec.c) into the binary. Its C
// constructor runs before the Go runtime starts, so it can join mount and
// user namespaces, which the kernel refuses to multi-threaded processes.
// Import it for its side effect from the runtime's main package.
package nsenter

/*
#cgo CFLAGS: -Wall -Wextra -Wno-unused-parameter -O2
extern long ocirt_caller_timerslack;
*/
import "C"

// CallerTimerSlack is the timer slack (ns) oci-rt was started with, before
// the constructor raised its own (see nsexec.c): the processes oci-rt
// starts get it back. -1 when the slack was left alone.
func CallerTimerSlack() int64 { return int64(C.ocirt_caller_timerslack) }
