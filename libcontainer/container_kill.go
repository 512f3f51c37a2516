package libcontainer

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"

	"github.com/oci-rt/oci-rt/libcontainer/state"
)

// Kill signals the container's process, or with all every process in its
// cgroup.
func (c *Container) Kill(sig unix.Signal, all bool) error {
	h, s, err := c.lock()
	if err != nil {
		return err
	}
	defer h.Unlock()
	if s.Status == state.Stopped {
		return errors.New("container not running")
	}
	if all {
		m, err := cgroupManager(s)
		if err != nil {
			return err
		}
		pids, err := m.GetAllPids()
		if err != nil {
			return err
		}
		for _, p := range pids {
			unix.Kill(p, sig)
		}
		return nil
	}
	if err := unix.Kill(s.Pid, sig); err != nil {
		return fmt.Errorf("kill %d: %w", s.Pid, err)
	}
	return nil
}
