package launch

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"unsafe"

	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"

	"github.com/oci-rt/oci-rt/libcontainer/executor"
)

// The C constructor (libcontainer/executor/cli.c) gives oci-rt's own threads a 1 ms timer
// slack and pins them to one CPU. What oci-rt starts gets the caller's
// slack and CPUs back.

// WithCallerScheduling calls start, which forks a process, from a thread
// whose timer slack and CPU affinity are the ones oci-rt was started with,
// so that the child inherits those and not oci-rt's own.
func WithCallerScheduling(start func() error) error {
	return WithScheduling(nil, start)
}

// allCPUs is a mask of every CPU a kernel may have (runc's 8192): the
// kernel clamps it to its own and to the cpuset.
func allCPUs() []uint64 {
	m := make([]uint64, 8192/64)
	for i := range m {
		m[i] = ^uint64(0)
	}
	return m
}

// WithScheduling is WithCallerScheduling with the CPU mask cpus (64-bit
// words) instead of the caller's, when cpus is not nil. Pinned (the
// default) that costs nothing more: the thread's mask is set either way.
func WithScheduling(cpus []uint64, start func() error) error {
	slack := executor.CallerTimerSlack()
	callerCPUs, pinned := executor.CallerCPUs()
	if slack < 0 && !pinned && cpus == nil {
		return start()
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if slack >= 0 {
		if ours, err := unix.PrctlRetInt(unix.PR_GET_TIMERSLACK, 0, 0, 0, 0); err == nil {
			unix.Prctl(unix.PR_SET_TIMERSLACK, uintptr(slack), 0, 0, 0)
			defer unix.Prctl(unix.PR_SET_TIMERSLACK, uintptr(ours), 0, 0, 0)
		}
	}
	if cpus != nil {
		var ours unix.CPUSet
		err := unix.SchedGetaffinity(0, &ours)
		if err == nil {
			err = setAffinity(cpus)
		}
		if err != nil {
			return fmt.Errorf("process.execCPUAffinity.initial: sched_setaffinity: %w", err)
		}
		defer unix.SchedSetaffinity(0, &ours)
	} else if pinned {
		var ours unix.CPUSet
		err := unix.SchedGetaffinity(0, &ours)
		if err == nil {
			err = unix.SchedSetaffinity(0, &callerCPUs)
		}
		if err != nil {
			// the caller's CPUs changed since we started (hot-unplug, cpuset)
			logrus.Warnf("the process started now keeps oci-rt's one CPU: restoring the caller's CPUs: %v", err)
		} else {
			defer unix.SchedSetaffinity(0, &ours)
		}
	}
	return start()
}

// setAffinity sets this thread's CPU mask, of any size.
func setAffinity(mask []uint64) error {
	_, _, e := unix.RawSyscall(unix.SYS_SCHED_SETAFFINITY, 0, uintptr(len(mask)*8), uintptr(unsafe.Pointer(&mask[0])))
	if e != 0 {
		return e
	}
	return nil
}

// UseCallerCPUs gives every thread of the runtime the caller's CPUs back,
// and the Go scheduler as many, for work that runs in parallel (list).
func UseCallerCPUs() {
	cpus, ok := executor.CallerCPUs()
	if !ok {
		return
	}
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return
	}
	for _, t := range tasks {
		if tid, err := strconv.Atoi(t.Name()); err == nil {
			unix.SchedSetaffinity(tid, &cpus)
		}
	}
	runtime.GOMAXPROCS(cpus.Count())
}
