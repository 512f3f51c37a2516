package libcontainer

import (
	"runtime"
	"strconv"

	"golang.org/x/sys/unix"

	"github.com/oci-rt/oci-rt/libcontainer/nsenter"
)

// WithCallerTimerSlack calls start, which forks a process, from a thread
// whose timer slack is the one oci-rt was started with, so that the child
// inherits that and not the 1 ms oci-rt gives its own threads.
func WithCallerTimerSlack(start func() error) error {
	slack := nsenter.CallerTimerSlack()
	if slack < 0 {
		return start()
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	ours, err := unix.PrctlRetInt(unix.PR_GET_TIMERSLACK, 0, 0, 0, 0)
	if err != nil {
		return start()
	}
	unix.Prctl(unix.PR_SET_TIMERSLACK, uintptr(slack), 0, 0, 0)
	defer unix.Prctl(unix.PR_SET_TIMERSLACK, uintptr(ours), 0, 0, 0)
	return start()
}

// timerSlackEnv hands the caller's timer slack to the executor, which
// restores it before anything else (its fork inherits ours).
func timerSlackEnv() []string {
	if slack := nsenter.CallerTimerSlack(); slack >= 0 {
		return []string{"_OCIRT_TIMERSLACK=" + strconv.FormatInt(slack, 10)}
	}
	return nil
}
