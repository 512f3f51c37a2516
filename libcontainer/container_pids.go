package libcontainer

// Pids lists the host pids of every process in the container's cgroup.
func (c *Container) Pids() ([]int, error) {
	m, err := c.liveManager()
	if err != nil {
		return nil, err
	}
	return m.GetAllPids()
}
