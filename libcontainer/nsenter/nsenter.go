// Package nsenter links the plan executor (nsexec.c) into the binary. Its C
// constructor runs before the Go runtime starts, so it can join mount and
// user namespaces, which the kernel refuses to multi-threaded processes.
// Import it for its side effect from the runtime's main package.
package nsenter

/*
#cgo CFLAGS: -Wall -Wextra -Wno-unused-parameter -O2
*/
import "C"
