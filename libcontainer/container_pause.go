package libcontainer

import (
	"errors"
	"fmt"

	cg "github.com/opencontainers/cgroups"

	"github.com/oci-rt/oci-rt/libcontainer/state"
)

// Pause freezes every process of the container (freezer cgroup).
func (c *Container) Pause() error {
	h, s, err := c.running()
	if err != nil {
		return err
	}
	defer h.Unlock()
	if s.Status != state.Running {
		return fmt.Errorf("container not running: %s", s.Status)
	}
	m, err := cgroupManager(s)
	if err != nil {
		return err
	}
	return m.Freeze(cg.Frozen)
}

// Resume thaws a paused container.
func (c *Container) Resume() error {
	h, s, err := c.running()
	if err != nil {
		return err
	}
	defer h.Unlock()
	if s.Status != state.Paused {
		return errors.New("container not paused")
	}
	m, err := cgroupManager(s)
	if err != nil {
		return err
	}
	return m.Freeze(cg.Thawed)
}
