package libcontainer

import (
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/oci-rt/oci-rt/libcontainer/cgroups"
)

// Update applies new resources to a container's cgroup and records them
// in its saved config, so that later updates start from them.
func (c *Container) Update(apply func(*specs.LinuxResources) error) error {
	h, s, err := c.running()
	if err != nil {
		return err
	}
	defer h.Unlock()
	spec, err := c.Spec()
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
	m, err := cgroupManager(s)
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
