package libcontainer

import (
	"errors"
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/oci-rt/oci-rt/libcontainer/nsview"
	"github.com/oci-rt/oci-rt/libcontainer/state"
)

// Namespaces reports the container's namespaces as the kernel sees them
// (nsview), told apart by the config it was created with and compared with
// those of the other containers under the same root.
func (c *Container) Namespaces() (*nsview.Report, error) {
	s, err := c.State()
	if err != nil {
		return nil, err
	}
	if err := hasNamespaces(s); err != nil {
		return nil, err
	}
	// the config kept at create tells new from joined; a container made by
	// an oci-rt that did not keep it gets "unknown" where /proc cannot tell
	var asked map[string]nsview.Asked
	spec, err := c.states.LoadSpec(c.id)
	switch {
	case err == nil:
		asked = askedNamespaces(spec)
	case !errors.Is(err, state.ErrNotExist):
		return nil, fmt.Errorf("the config of container %s: %w", c.id, err)
	}
	others, err := Store{Root: c.states.Root}.List()
	if err != nil {
		return nil, err
	}
	var peers []nsview.Peer
	for _, o := range others {
		if o.ID != c.id && hasNamespaces(o) == nil {
			peers = append(peers, nsview.Peer{ID: o.ID, Pid: o.Pid, StartTime: o.StartTime})
		}
	}
	return nsview.Inspect(c.id, s.Pid, s.StartTime, asked, peers)
}

// NameNetns gives the container's network namespace a name for ip netns
// (a bind mount in nsview.NetnsDir), recorded in its state so that delete
// removes it.
func (c *Container) NameNetns(name string) error {
	if err := nsview.CheckNetnsName(name); err != nil {
		return err
	}
	h, s, err := c.lock()
	if err != nil {
		return err
	}
	defer h.Unlock()
	if err := hasNamespaces(s); err != nil {
		return err
	}
	proc, err := nsview.OpenProcess(s.Pid, s.StartTime)
	if err != nil {
		return err
	}
	defer proc.Close()
	n, err := proc.NameNetns(name)
	if err != nil {
		return err
	}
	s.NetnsNames = append(s.NetnsNames, n)
	// a new state.json: a run that holds the container reads it back and
	// so removes the name at its delete
	if err := h.Save(s); err != nil {
		s.NetnsNames = s.NetnsNames[:len(s.NetnsNames)-1]
		n.Remove()
		return err
	}
	return nil
}

// hasNamespaces fails unless the container's process holds its namespaces.
func hasNamespaces(s *state.State) error {
	switch s.Status {
	case state.Stopped:
		return fmt.Errorf("container %s is stopped: its namespaces are gone", s.ID)
	case state.Creating:
		return fmt.Errorf("container %s is being created", s.ID)
	}
	if s.Pid <= 0 {
		return errors.New("container " + s.ID + " has no process")
	}
	return nil
}

// askedNamespaces is linux.namespaces by the names /proc/<pid>/ns uses.
func askedNamespaces(spec *specs.Spec) map[string]nsview.Asked {
	asked := map[string]nsview.Asked{}
	if spec.Linux == nil {
		return asked
	}
	for _, n := range spec.Linux.Namespaces {
		kind := string(n.Type)
		switch n.Type {
		case specs.NetworkNamespace:
			kind = "net"
		case specs.MountNamespace:
			kind = "mnt"
		}
		asked[kind] = nsview.Asked{Listed: true, Path: n.Path}
	}
	return asked
}
