package libcontainer

import (
	"errors"

	cg "github.com/opencontainers/cgroups"

	"github.com/oci-rt/oci-rt/libcontainer/cgroups"
	"github.com/oci-rt/oci-rt/libcontainer/state"
)

// Stats returns the cgroup statistics of a container.
func (c *Container) Stats() (*cg.Stats, error) {
	m, err := c.liveManager()
	if err != nil {
		return nil, err
	}
	return m.GetStats()
}

// WatchOOM reports each OOM kill in the container's memory cgroup; the
// channel closes when the cgroup is removed. It is nil when there is no
// memory controller (or no cgroup) to watch.
func (c *Container) WatchOOM() (<-chan struct{}, error) {
	s, err := c.states.LoadFull(c.id)
	if err != nil {
		return nil, err
	}
	if s.Status == state.Stopped {
		return nil, errors.New("container not running")
	}
	return cgroups.WatchOOM(s.CgroupPaths)
}
