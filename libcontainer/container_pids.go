package libcontainer

import (
	"errors"

	"github.com/oci-rt/oci-rt/libcontainer/state"
)

// Pids lists the host pids of every process in the container's cgroup:
// none for a stopped container whose cgroup is gone or empty (runc lists
// what is left in it).
func (c *Container) Pids() ([]int, error) {
	s, err := c.states.LoadFull(c.id)
	if err != nil {
		return nil, err
	}
	m, err := cgroupManager(s)
	if s.Status == state.Stopped && (errors.Is(err, errNoCgroup) || err == nil && !m.Exists()) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return m.GetAllPids()
}
