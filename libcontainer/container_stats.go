package libcontainer

import (
	cg "github.com/opencontainers/cgroups"
)

// Stats returns the cgroup statistics of a container.
func (c *Container) Stats() (*cg.Stats, error) {
	m, err := c.liveManager()
	if err != nil {
		return nil, err
	}
	return m.GetStats()
}
