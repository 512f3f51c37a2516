package seccomp

// musl.c holds the C shim a musl build of libseccomp.a needs; this file
// makes the package a cgo one so that it is compiled.

import "C"
