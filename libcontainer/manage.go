package libcontainer

import (
	"errors"
	"fmt"

	cg "github.com/opencontainers/cgroups"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/oci-rt/oci-rt/libcontainer/cgroups"
	"github.com/oci-rt/oci-rt/libcontainer/state"
)

// errNoCgroup: a rootless container made without a cgroup.
var errNoCgroup = errors.New("the container has no cgroup (created rootless without one)")

// manager loads the container's cgroup manager from its state.
func manager(s *state.State) (cg.Manager, error) {
	c, err := s.CgroupConfig()
	if err != nil {
		return nil, err
	}
	if c == nil {
		return nil, errNoCgroup
	}
	return cgroups.Load(c, s.CgroupPaths)
}

// running opens a container and checks that its process is alive.
func (st Store) running(id string) (*state.Dir, *state.State, error) {
	h, s, err := st.states().OpenFull(id)
	if err == nil && s.Status == state.Stopped {
		h.Unlock()
		return nil, nil, errors.New("container not running")
	}
	return h, s, err
}

// Pause freezes every process of the container (freezer cgroup).
func (st Store) Pause(id string) error {
	h, s, err := st.running(id)
	if err != nil {
		return err
	}
	defer h.Unlock()
	if s.Status != state.Running {
		return fmt.Errorf("container not running: %s", s.Status)
	}
	m, err := manager(s)
	if err != nil {
		return err
	}
	return m.Freeze(cg.Frozen)
}

// Resume thaws a paused container.
func (st Store) Resume(id string) error {
	h, s, err := st.running(id)
	if err != nil {
		return err
	}
	defer h.Unlock()
	if s.Status != state.Paused {
		return errors.New("container not paused")
	}
	m, err := manager(s)
	if err != nil {
		return err
	}
	return m.Freeze(cg.Thawed)
}

// Pids lists the host pids of every process in the container's cgroup.
func (st Store) Pids(id string) ([]int, error) {
	m, err := st.liveManager(id)
	if err != nil {
		return nil, err
	}
	return m.GetAllPids()
}

// Stats returns the cgroup statistics of a container.
func (st Store) Stats(id string) (*cg.Stats, error) {
	m, err := st.liveManager(id)
	if err != nil {
		return nil, err
	}
	return m.GetStats()
}

// liveManager is the cgroup manager of a container whose process runs
// (read without the lock: these commands only read the cgroup).
func (st Store) liveManager(id string) (cg.Manager, error) {
	s, err := st.states().LoadFull(id)
	if err != nil {
		return nil, err
	}
	if s.Status == state.Stopped {
		return nil, errors.New("container not running")
	}
	return manager(s)
}

// Update applies new resources to a container's cgroup and records them
// in its saved config, so that later updates start from them.
func (st Store) Update(id string, apply func(*specs.LinuxResources) error) error {
	h, s, err := st.running(id)
	if err != nil {
		return err
	}
	defer h.Unlock()
	spec, err := st.Spec(id)
	if err != nil {
		return err
	}
	if spec.Linux == nil {
		spec.Linux = &specs.Linux{}
	}
	if spec.Linux.Resources == nil {
		spec.Linux.Resources = &specs.LinuxResources{}
	}
	if err := apply(spec.Linux.Resources); err != nil {
		return err
	}
	res, err := cgroups.Resources(spec.Linux.Resources)
	if err != nil {
		return err
	}
	m, err := manager(s)
	if err != nil {
		return err
	}
	if err := m.Set(res); err != nil {
		return fmt.Errorf("linux.resources: %w", err)
	}
	s.Cgroup.Resources = res
	if err := h.SaveSpec(spec); err != nil {
		return err
	}
	if err := h.SaveRuntime(s); err != nil {
		return err
	}
	return h.Save(s)
}
