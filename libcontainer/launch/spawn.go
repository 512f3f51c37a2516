package launch

import (
	"fmt"
	"os"
	"strconv"
	"syscall"

	"golang.org/x/sys/unix"
)

// spawn starts the read-only view of our own binary as the plan executor,
// with the prepared fds; with unified, into that cgroup2 directory.
func (c *executorRun) spawn(unified *os.File, extraEnv ...string) error {
	exe, err := ExecutorPath()
	if err != nil {
		return err
	}
	// syscall.ForkExec, not os/exec: os/exec probes pidfd support with a
	// throw-away clone on its first start
	fds := []uintptr{os.Stdin.Fd(), os.Stdout.Fd(), os.Stderr.Fd()}
	for _, f := range c.extra {
		fds = append(fds, f.Fd())
	}
	// what we inherited beyond stdio stays out of the executor (runc:
	// CloseExecFrom(3)); the fds passed on are dup'd to their numbers,
	// which clears the flag again
	if err := unix.CloseRange(3, ^uint(0), unix.CLOSE_RANGE_CLOEXEC); err != nil {
		return fmt.Errorf("mark inherited fds close-on-exec: %w", err)
	}
	env := append([]string{"_OCIRT_PLAN_FD=" + strconv.Itoa(c.planFd), "_OCIRT_SYNC_FD=" + strconv.Itoa(c.syncFd)}, extraEnv...)
	attr := &syscall.ProcAttr{Files: fds, Sys: &syscall.SysProcAttr{}, Env: env}
	if unified != nil {
		attr.Sys.UseCgroupFD, attr.Sys.CgroupFD = true, int(unified.Fd())
	}
	// with every CPU (or execCPUAffinity.initial), so that its exec can
	// overlap our work on another CPU, and the container does not inherit
	// the caller's mask (runc 1.4 resets it too); the container's cpuset
	// narrows it once it joins its cgroup
	cpus := c.cpus
	if cpus == nil {
		cpus = allCPUs()
	}
	var pid int
	err = WithScheduling(cpus, func() (err error) {
		pid, err = syscall.ForkExec(exe, []string{"oci-rt", "init"}, attr)
		return err
	})
	if err != nil {
		return fmt.Errorf("start the executor %s: %w", exe, err)
	}
	c.executor, c.pid = pid, pid
	for _, f := range c.childFiles {
		f.Close()
	}
	c.childFiles = nil
	return nil
}
