package libcontainer

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"

	"github.com/oci-rt/oci-rt/libcontainer/state"
)

// Kill signals the container's process, or with all every process in its
// cgroup. Signal 0 only checks that the process is there.
func (c *Container) Kill(sig unix.Signal, all bool) error {
	h, s, err := c.lock()
	if err != nil {
		return err
	}
	defer h.Unlock()
	if all {
		return signalCgroup(s, sig)
	}
	if s.Status == state.Stopped {
		return errors.New("container not running")
	}
	if err := unix.Kill(s.Pid, sig); err != nil {
		return fmt.Errorf("kill %d: %w", s.Pid, err)
	}
	return nil
}

// signalCgroup signals every process in the container's cgroup. A stopped
// container may still have some (without a pid namespace of its own, what
// its init started outlives it): containerd's shim asks for them after
// every exit; with none, or no cgroup left, there is nothing to do.
func signalCgroup(s *state.State, sig unix.Signal) error {
	m, err := cgroupManager(s)
	if s.Status == state.Stopped && err != nil {
		return nil
	}
	if err != nil {
		return err
	}
	pids, err := m.GetAllPids()
	if err != nil {
		if s.Status == state.Stopped {
			return nil
		}
		return err
	}
	for _, p := range pids {
		unix.Kill(p, sig)
	}
	return nil
}
