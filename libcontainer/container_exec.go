package libcontainer

import (
	"errors"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/oci-rt/oci-rt/libcontainer/cgroups"
	"github.com/oci-rt/oci-rt/libcontainer/launch"
	"github.com/oci-rt/oci-rt/libcontainer/state"
)

// Spec returns the config the container was created with.
func (c *Container) Spec() (*specs.Spec, error) { return c.states.LoadSpec(c.id) }

// Exec starts a process that joins every namespace and the cgroup of a
// created or running container, with its seccomp filter, and returns its
// host pid. spec is the container's config as Spec returned it, which the
// caller read to build o.Process.
func (c *Container) Exec(spec *specs.Spec, o launch.ExecOpts) (pid int, err error) {
	s, err := c.states.LoadFull(c.id)
	if err != nil {
		return 0, err
	}
	switch {
	case s.Status == state.Paused && !o.IgnorePaused:
		return 0, errors.New("container is paused: resume it, or use --ignore-paused")
	case s.Status != state.Running && s.Status != state.Paused && s.Status != state.Created:
		return 0, errors.New("container not running")
	}
	// the process joins the cgroup at the paths runtime.json saved: refuse
	// what a corrupt or hand-edited one holds (the manager is not needed)
	if cfg, err := s.CgroupConfig(); err != nil {
		return 0, err
	} else if cfg != nil {
		if err := cgroups.CheckSavedPaths(s.CgroupPaths); err != nil {
			return 0, err
		}
	}
	return launch.Exec(s, spec, o)
}
