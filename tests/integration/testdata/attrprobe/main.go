// Command attrprobe prints what a process can only ask the kernel about
// itself (busybox has no tool for them): its NUMA memory policy and its
// sched_attr. The attrs tests build it statically and copy it into the
// container's rootfs.
package main

import (
	"fmt"
	"os"
	"unsafe"

	"golang.org/x/sys/unix"
)

func main() {
	var mode int32
	var mask [16]uint64
	if _, _, e := unix.Syscall6(unix.SYS_GET_MEMPOLICY, uintptr(unsafe.Pointer(&mode)), uintptr(unsafe.Pointer(&mask[0])), 1024, 0, 0, 0); e != 0 {
		fmt.Println("get_mempolicy:", e)
		os.Exit(1)
	}
	// the mode flags MPOL_F_STATIC_NODES/RELATIVE_NODES come back in the mode
	fmt.Printf("mempolicy mode=%d nodes=%x\n", mode, mask[0])
	a, err := unix.SchedGetAttr(0, 0)
	if err != nil {
		fmt.Println("sched_getattr:", err)
		os.Exit(1)
	}
	fmt.Printf("schedattr policy=%d flags=%d nice=%d priority=%d runtime=%d deadline=%d period=%d\n",
		a.Policy, a.Flags, a.Nice, a.Priority, a.Runtime, a.Deadline, a.Period)
	if len(os.Args) > 1 {
		err = unix.Exec(os.Args[1], os.Args[1:], os.Environ())
		fmt.Println("exec:", err)
		os.Exit(1)
	}
}
