package planner

import (
	"fmt"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/oci-rt/oci-rt/libcontainer/plan"
)

// TestBuildIdmapAndHostSources: an idmapped bind asks the runtime for its
// tree (with its mount index); in a user namespace a plain bind may ask
// for its source, when the runtime can open it (root); otherwise binds
// are plain mounts.
func TestBuildIdmapAndHostSources(t *testing.T) {
	maps := []specs.LinuxIDMapping{{ContainerID: 1000, HostID: 0, Size: 1}}
	for _, tc := range []struct {
		name        string
		userns      bool
		hostSources bool
		mount       specs.Mount
		want        []int64
	}{
		{"idmap", false, true, specs.Mount{Destination: "/d", Type: "bind", Options: []string{"rbind", "idmap"}, UIDMappings: maps, GIDMappings: maps},
			[]int64{unix.MS_BIND | unix.MS_REC, plan.TargetDir, plan.MountIdmapTree, 0}},
		{"mappings alone", false, true, specs.Mount{Destination: "/d", Options: []string{"bind"}, UIDMappings: maps, GIDMappings: maps},
			[]int64{unix.MS_BIND, plan.TargetDir, plan.MountIdmapTree, 0}},
		{"ridmap of the container's", true, true, specs.Mount{Destination: "/d", Type: "bind", Options: []string{"rbind", "ridmap"}},
			[]int64{unix.MS_BIND | unix.MS_REC, plan.TargetDir, plan.MountIdmapTree, 0}},
		{"bind in a user namespace", true, true, specs.Mount{Destination: "/d", Type: "bind", Options: []string{"rbind"}},
			[]int64{unix.MS_BIND | unix.MS_REC, plan.TargetDir, plan.MountHostSource, 0}},
		{"rootless", true, false, specs.Mount{Destination: "/d", Type: "bind", Options: []string{"rbind"}},
			[]int64{unix.MS_BIND | unix.MS_REC, plan.TargetDir}},
		{"no user namespace", false, true, specs.Mount{Destination: "/d", Type: "bind", Options: []string{"rbind"}},
			[]int64{unix.MS_BIND | unix.MS_REC, plan.TargetDir}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := buildTestInput(t)
			in.HostSources = tc.hostSources
			if tc.userns {
				in.Ns.New |= unix.CLONE_NEWUSER
				in.Spec.Linux.UIDMappings = []specs.LinuxIDMapping{{HostID: 100000, Size: 65536}}
				in.Spec.Linux.GIDMappings = in.Spec.Linux.UIDMappings
			}
			tc.mount.Source = in.Bundle
			in.Spec.Mounts = []specs.Mount{tc.mount}
			p := buildTestBuild(t, in)
			field := `mounts[0] destination "/d"`
			i := buildTestFind(p, 0, plan.OpMount, field)
			buildTestExpect(t, p, i, []buildTestOp{{plan.OpMount, field, tc.want, []string{in.Bundle, "/d", "", ""}}})
		})
	}
}

// TestBuildIdmapRefused: what the spec forbids of an idmapped mount is
// refused by the mount's name and the option, before anything is made.
func TestBuildIdmapRefused(t *testing.T) {
	maps := []specs.LinuxIDMapping{{ContainerID: 0, HostID: 1000, Size: 1}}
	for _, tc := range []struct {
		mount specs.Mount
		want  string
	}{
		{specs.Mount{Destination: "/d", Type: "bind", Options: []string{"bind", "idmap"}}, `mounts[0] destination "/d": idmap: no uidMappings/gidMappings of the mount's own and no user namespace`},
		{specs.Mount{Destination: "/d", Type: "tmpfs", Source: "tmpfs", Options: []string{"ridmap"}, UIDMappings: maps, GIDMappings: maps}, `mounts[0] destination "/d": idmap: only a bind mount`},
		{specs.Mount{Destination: "/d", Type: "bind", Options: []string{"bind"}, UIDMappings: maps}, `mounts[0]: uidMappings and gidMappings go together`},
		{specs.Mount{Destination: "/d", Type: "bind", Options: []string{"bind", "idmap"}, UIDMappings: maps,
			GIDMappings: []specs.LinuxIDMapping{{HostID: 1, Size: 0}}}, `mounts[0].gidMappings[0]: size 0`},
	} {
		in := buildTestInput(t)
		if tc.mount.Source == "" {
			tc.mount.Source = in.Bundle
		}
		in.Spec.Mounts = []specs.Mount{tc.mount}
		_, err := Build(in)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want %q", tc.mount, err, tc.want)
		}
	}
}

// TestBuildNetDevicesSync: with netDevices the runtime is asked to move
// them once the namespaces are entered (after the fork into the pid
// namespace), before any mount; not by exec, nor without netDevices.
func TestBuildNetDevicesSync(t *testing.T) {
	in := buildTestInput(t)
	in.Ns.New |= unix.CLONE_NEWNET
	p := buildTestBuild(t, in)
	if buildTestFind(p, 0, plan.OpSync, "linux.netDevices") >= 0 {
		t.Fatalf("a netDevices sync without netDevices:\n%s", buildTestDump(p))
	}
	in.Spec.Linux.NetDevices = map[string]specs.LinuxNetDevice{"eth1": {Name: "eth0"}}
	p = buildTestBuild(t, in)
	i := buildTestFind(p, 0, plan.OpSync, "linux.netDevices")
	if i < 0 || p.Ops[i].Ints[0] != plan.SyncNetDevices {
		t.Fatalf("no netDevices sync:\n%s", buildTestDump(p))
	}
	if f, m := buildTestFind(p, 0, plan.OpFork, ""), buildTestFind(p, 0, plan.OpMount, ""); f > i || m < i {
		t.Errorf("netDevices sync at %d, fork at %d, first mount at %d:\n%s", i, f, m, buildTestDump(p))
	}
	in.StartFd = -1 // exec
	p = buildTestBuild(t, in)
	if buildTestFind(p, 0, plan.OpSync, "linux.netDevices") >= 0 {
		t.Errorf("exec moves netDevices:\n%s", buildTestDump(p))
	}
}

// TestValidateNetDevices: netDevices need a network namespace of the
// container's; bad names are refused by name.
func TestValidateNetDevices(t *testing.T) {
	s := &specs.Spec{Root: &specs.Root{Path: "r"}, Linux: &specs.Linux{NetDevices: map[string]specs.LinuxNetDevice{"eth1": {}}}}
	for _, tc := range []struct {
		ns   Namespaces
		devs map[string]specs.LinuxNetDevice
		want string
	}{
		{Namespaces{}, map[string]specs.LinuxNetDevice{"eth1": {}}, "linux.netDevices: needs a network namespace"},
		{Namespaces{New: unix.CLONE_NEWNET}, map[string]specs.LinuxNetDevice{"eth1": {Name: "a/b"}}, `linux.netDevices["eth1"].name "a/b"`},
		{Namespaces{New: unix.CLONE_NEWNET}, map[string]specs.LinuxNetDevice{"eth1": {Name: "eth0"}}, ""},
	} {
		s.Linux.NetDevices = tc.devs
		err := Validate(s, &tc.ns)
		if fmt.Sprint(err) == "<nil>" && tc.want == "" {
			continue
		}
		if err == nil || tc.want == "" || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v, want %q", tc.devs, err, tc.want)
		}
	}
}
