package launch

import (
	"fmt"
	"os"
	"strconv"
	"syscall"

	cg "github.com/opencontainers/cgroups"
	"golang.org/x/sys/unix"

	"github.com/oci-rt/oci-rt/libcontainer/cgroups"
	"github.com/oci-rt/oci-rt/libcontainer/intelrdt"
)

// spawn starts the read-only view of our own binary as the plan executor,
// with the prepared fds; with unified, into that cgroup2 directory.
func (c *executorRun) spawn(unified *os.File, extraEnv ...string) error {
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
	pid, err := c.host.startExecutor(attr, cpus)
	if err != nil {
		return err
	}
	c.executor, c.pid = pid, pid
	for _, f := range c.childFiles {
		f.Close()
	}
	c.childFiles = nil
	return nil
}

// host is what a launch asks of the system beyond files and sockets:
// starting the executor, managing a cgroup, finding resctrl. Unit tests
// stand in for it.
type host interface {
	startExecutor(attr *syscall.ProcAttr, cpus []uint64) (pid int, err error)
	newCgroup(c *cg.Cgroup) (cg.Manager, error)
	resctrlRoot() (string, error)
}

// realHost is the system itself.
type realHost struct{}

// startExecutor forks the read-only view of our own binary as the
// executor, on the given CPUs.
func (realHost) startExecutor(attr *syscall.ProcAttr, cpus []uint64) (int, error) {
	exe, err := ExecutorPath()
	if err != nil {
		return 0, err
	}
	var pid int
	err = WithScheduling(cpus, func() (err error) {
		pid, err = syscall.ForkExec(exe, []string{"oci-rt", "init"}, attr)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("start the executor %s: %w", exe, err)
	}
	return pid, nil
}

func (realHost) newCgroup(c *cg.Cgroup) (cg.Manager, error) { return cgroups.New(c) }

func (realHost) resctrlRoot() (string, error) { return intelrdt.Root() }
