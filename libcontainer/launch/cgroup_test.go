package launch

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	cg "github.com/opencontainers/cgroups"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/oci-rt/oci-rt/libcontainer/planner"
	"github.com/oci-rt/oci-rt/libcontainer/state"
)

// fakeCgroup is a cgroup manager that makes nothing: Apply fails with
// applyErr, and what is called is noted.
type fakeCgroup struct {
	cg.Manager // the methods the tests do not expect panic
	applyErr   error
	paths      map[string]string
	calls      []string
	onApply    func() // called first by Apply
}

func (m *fakeCgroup) Apply(pid int) error {
	if m.onApply != nil {
		m.onApply()
	}
	m.calls = append(m.calls, fmt.Sprintf("apply %d", pid))
	return m.applyErr
}
func (m *fakeCgroup) Destroy() error                            { m.calls = append(m.calls, "destroy"); return nil }
func (m *fakeCgroup) GetPaths() map[string]string               { return m.paths }
func (m *fakeCgroup) GetAllPids() ([]int, error)                { m.calls = append(m.calls, "pids"); return nil, nil }
func (m *fakeCgroup) Set(r *cg.Resources) error                 { m.calls = append(m.calls, "set"); return nil }
func (m *fakeCgroup) Freeze(s cg.FreezerState) error            { return nil }
func (m *fakeCgroup) Exists() bool                              { return true }
func (m *fakeCgroup) GetFreezerState() (cg.FreezerState, error) { return cg.Thawed, nil }
func (m *fakeCgroup) GetCgroups() (*cg.Cgroup, error)           { return nil, nil }

// creating is an initProcess past its state directory and cgroup set-up,
// with the cgroup manager m.
func creating(t *testing.T, m *fakeCgroup, o CreateOpts, spec *specs.Spec) *initProcess {
	t.Helper()
	h, err := state.Store{Root: t.TempDir()}.Claim("c")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Unlock)
	c := &initProcess{opts: o, handle: h, cgm: m}
	c.spec = spec
	c.state = &state.State{ID: "c", Status: state.Creating, Cgroup: &cg.Cgroup{Resources: &cg.Resources{}}}
	c.state.SetCgroupPaths(m.paths)
	if err := h.CreateRuntime(c.state); err != nil {
		t.Fatal(err)
	}
	if err := h.Save(c.state); err != nil {
		t.Fatal(err)
	}
	return c
}

// TestMakeCgroupRootless: rootless, a cgroup we may not make is done
// without, when no limits are asked; the runtime.json says so. With limits
// asked, the failure is an error naming the field.
func TestMakeCgroupRootless(t *testing.T) {
	paths := map[string]string{"memory": "/sys/fs/cgroup/memory/c"}
	m := &fakeCgroup{applyErr: unix.EACCES, paths: paths}
	c := creating(t, m, CreateOpts{Rootless: true}, &specs.Spec{})
	if err := c.makeCgroup(); err != nil {
		t.Fatal(err)
	}
	if want := []string{"apply -1", "destroy"}; !slices.Equal(m.calls, want) {
		t.Errorf("calls %v, want %v", m.calls, want)
	}
	if c.cgm != nil || c.state.Cgroup != nil || c.state.CgroupPaths != nil {
		t.Errorf("a cgroup is left in the state: %v %v %v", c.cgm, c.state.Cgroup, c.state.CgroupPaths)
	}
	s, err := c.handle.LoadFull()
	if err != nil {
		t.Fatal(err)
	}
	if cgc, err := s.CgroupConfig(); err != nil || cgc != nil || s.CgroupPaths != nil {
		t.Errorf("runtime.json: cgroup %v paths %v (%v), want none", cgc, s.CgroupPaths, err)
	}

	limit := int64(1 << 20)
	spec := &specs.Spec{Linux: &specs.Linux{CgroupsPath: "/x", Resources: &specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: &limit}}}}
	m = &fakeCgroup{applyErr: unix.EACCES, paths: paths}
	c = creating(t, m, CreateOpts{Rootless: true}, spec)
	if err := c.makeCgroup(); err == nil || !strings.HasPrefix(err.Error(), `linux.cgroupsPath "/x": `) {
		t.Errorf("with a limit: %v, want an error naming linux.cgroupsPath", err)
	}
	if slices.Contains(m.calls, "destroy") {
		t.Error("with a limit: the cgroup was given up")
	}
}

// TestMakeCgroupSetsLimits: the cgroup is made with no process in it, then
// its limits are set; systemd, which places the executor itself, is left
// to joinCgroupLate.
func TestMakeCgroupSetsLimits(t *testing.T) {
	m := &fakeCgroup{paths: map[string]string{"": "/sys/fs/cgroup/c"}}
	c := creating(t, m, CreateOpts{}, &specs.Spec{})
	if err := c.makeCgroup(); err != nil {
		t.Fatal(err)
	}
	if want := []string{"apply -1", "set"}; !slices.Equal(m.calls, want) {
		t.Errorf("calls %v, want %v", m.calls, want)
	}
	m = &fakeCgroup{paths: m.paths}
	c = creating(t, m, CreateOpts{Systemd: true}, &specs.Spec{})
	if err := c.makeCgroup(); err != nil || len(m.calls) != 0 {
		t.Errorf("systemd: %v, calls %v; want nothing done", err, m.calls)
	}
}

// TestAbortRemovesAll: a failed create kills what is in the cgroup,
// removes it and the state directory.
func TestAbortRemovesAll(t *testing.T) {
	m := &fakeCgroup{paths: map[string]string{"": t.TempDir()}}
	c := creating(t, m, CreateOpts{}, &specs.Spec{})
	dir := c.handle.Path
	c.abort()
	if want := []string{"pids", "destroy"}; !slices.Equal(m.calls, want) {
		t.Errorf("calls %v, want %v", m.calls, want)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("state directory %s: %v, want it removed", dir, err)
	}
}

// TestCgroupLate: the plan goes before the cgroup is made only when the
// executor started early and ran its prelude, in a mount namespace of its
// own, with no user namespace and nothing to join, nor a request to the
// runtime while it mounts (network devices, idmapped mounts) that would
// take the early answer for its own.
func TestCgroupLate(t *testing.T) {
	usual := []specs.LinuxNamespaceType{specs.MountNamespace, specs.NetworkNamespace}
	for _, tc := range []struct {
		name    string
		o       CreateOpts
		new     []specs.LinuxNamespaceType
		joins   bool
		prelude int
		want    bool
		edit    func(*specs.Spec)
	}{
		{"usual", CreateOpts{}, []specs.LinuxNamespaceType{specs.MountNamespace, specs.PIDNamespace}, false, unix.CLONE_NEWNS, true, nil},
		{"no prelude", CreateOpts{}, []specs.LinuxNamespaceType{specs.MountNamespace}, false, 0, false, nil},
		{"systemd", CreateOpts{Systemd: true}, []specs.LinuxNamespaceType{specs.MountNamespace}, false, unix.CLONE_NEWNS, false, nil},
		{"rootless", CreateOpts{Rootless: true}, []specs.LinuxNamespaceType{specs.MountNamespace}, false, unix.CLONE_NEWNS, false, nil},
		{"host mounts", CreateOpts{}, []specs.LinuxNamespaceType{specs.PIDNamespace}, false, unix.CLONE_NEWPID, false, nil},
		{"user namespace", CreateOpts{}, []specs.LinuxNamespaceType{specs.MountNamespace, specs.UserNamespace}, false, unix.CLONE_NEWNS, false, nil},
		{"a join", CreateOpts{}, []specs.LinuxNamespaceType{specs.MountNamespace}, true, unix.CLONE_NEWNS, false, nil},
		{"bind mounts", CreateOpts{}, usual, false, unix.CLONE_NEWNS, true, func(s *specs.Spec) {
			s.Mounts = []specs.Mount{{Destination: "/d", Type: "bind", Source: "/tmp", Options: []string{"rbind", "ro"}}}
		}},
		{"net devices", CreateOpts{}, usual, false, unix.CLONE_NEWNS, false, func(s *specs.Spec) {
			s.Linux.NetDevices = map[string]specs.LinuxNetDevice{"eth1": {}}
		}},
		{"idmap", CreateOpts{}, usual, false, unix.CLONE_NEWNS, false, func(s *specs.Spec) {
			s.Mounts = []specs.Mount{{Destination: "/d", Type: "bind", Source: "/tmp", Options: []string{"rbind", "idmap"}}}
		}},
		{"mappings of a mount", CreateOpts{}, usual, false, unix.CLONE_NEWNS, false, func(s *specs.Spec) {
			m := []specs.LinuxIDMapping{{ContainerID: 0, HostID: 1000, Size: 1}}
			s.Mounts = []specs.Mount{{Destination: "/d", Type: "bind", Source: "/tmp", UIDMappings: m, GIDMappings: m}}
		}},
	} {
		l := &specs.Linux{}
		for _, typ := range tc.new {
			l.Namespaces = append(l.Namespaces, specs.LinuxNamespace{Type: typ})
		}
		if tc.joins {
			l.Namespaces = append(l.Namespaces, specs.LinuxNamespace{Type: specs.NetworkNamespace, Path: "/proc/1/ns/net"})
		}
		ns, err := planner.ParseNamespaces(l)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		c := &initProcess{opts: tc.o}
		c.ns, c.spec = ns, &specs.Spec{Linux: l}
		if tc.edit != nil {
			tc.edit(c.spec)
		}
		if got := c.cgroupLate(&planner.Input{PreludeUnshared: tc.prelude}); got != tc.want {
			t.Errorf("%s: cgroupLate %v, want %v", tc.name, got, tc.want)
		}
	}
}
