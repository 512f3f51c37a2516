package specdefault

import (
	"encoding/json"
	"os"
	"reflect"
	"slices"
	"testing"

	"github.com/opencontainers/runtime-spec/specs-go"
)

func roundTrip(t *testing.T, s *specs.Spec) *specs.Spec {
	t.Helper()
	data, err := json.MarshalIndent(s, "", "\t")
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	var out specs.Spec
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatalf("unmarshal: %v", err)
	}
	return &out
}

func nsTypes(s *specs.Spec) []specs.LinuxNamespaceType {
	var types []specs.LinuxNamespaceType
	for _, ns := range s.Linux.Namespaces {
		types = append(types, ns.Type)
	}
	return types
}

func findMount(s *specs.Spec, dest string) *specs.Mount {
	for i := range s.Mounts {
		if s.Mounts[i].Destination == dest {
			return &s.Mounts[i]
		}
	}
	return nil
}

func TestExample(t *testing.T) {
	s := roundTrip(t, Example())

	if s.Version != specs.Version || s.Version != "1.3.0" {
		t.Errorf("ociVersion = %q, want %q", s.Version, specs.Version)
	}
	if s.Root == nil || s.Root.Path != "rootfs" || !s.Root.Readonly {
		t.Errorf("root = %+v", s.Root)
	}
	if s.Hostname != "oci-rt" {
		t.Errorf("hostname = %q", s.Hostname)
	}

	p := s.Process
	if p == nil {
		t.Fatal("process is nil")
	}
	if !p.Terminal || !p.NoNewPrivileges || p.Cwd != "/" {
		t.Errorf("terminal=%v noNewPrivileges=%v cwd=%q", p.Terminal, p.NoNewPrivileges, p.Cwd)
	}
	if !slices.Equal(p.Args, []string{"sh"}) {
		t.Errorf("args = %q", p.Args)
	}
	wantEnv := []string{
		"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		"TERM=xterm",
	}
	if !slices.Equal(p.Env, wantEnv) {
		t.Errorf("env = %q", p.Env)
	}
	if p.User.UID != 0 || p.User.GID != 0 {
		t.Errorf("user = %+v", p.User)
	}
	caps := []string{"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"}
	if p.Capabilities == nil ||
		!slices.Equal(p.Capabilities.Bounding, caps) ||
		!slices.Equal(p.Capabilities.Effective, caps) ||
		!slices.Equal(p.Capabilities.Permitted, caps) ||
		p.Capabilities.Inheritable != nil || p.Capabilities.Ambient != nil {
		t.Errorf("capabilities = %+v", p.Capabilities)
	}
	wantRlimits := []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Hard: 1024, Soft: 1024}}
	if !reflect.DeepEqual(p.Rlimits, wantRlimits) {
		t.Errorf("rlimits = %+v", p.Rlimits)
	}

	var dests []string
	for _, m := range s.Mounts {
		dests = append(dests, m.Destination)
	}
	wantDests := []string{"/proc", "/dev", "/dev/pts", "/dev/shm", "/dev/mqueue", "/sys", "/sys/fs/cgroup"}
	if !slices.Equal(dests, wantDests) {
		t.Errorf("mount destinations = %q", dests)
	}
	if m := findMount(s, "/dev/pts"); m == nil || m.Type != "devpts" || !slices.Contains(m.Options, "gid=5") {
		t.Errorf("/dev/pts mount = %+v", m)
	}
	if m := findMount(s, "/sys"); m == nil || m.Type != "sysfs" ||
		!slices.Equal(m.Options, []string{"nosuid", "noexec", "nodev", "ro"}) {
		t.Errorf("/sys mount = %+v", m)
	}

	wantNS := []specs.LinuxNamespaceType{
		specs.PIDNamespace, specs.NetworkNamespace, specs.IPCNamespace,
		specs.UTSNamespace, specs.MountNamespace, specs.CgroupNamespace,
	}
	if got := nsTypes(s); !slices.Equal(got, wantNS) {
		t.Errorf("namespaces = %q", got)
	}
	if len(s.Linux.MaskedPaths) != 11 || !slices.Contains(s.Linux.MaskedPaths, "/proc/kcore") {
		t.Errorf("maskedPaths = %q", s.Linux.MaskedPaths)
	}
	if !slices.Equal(s.Linux.ReadonlyPaths, []string{"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"}) {
		t.Errorf("readonlyPaths = %q", s.Linux.ReadonlyPaths)
	}
	wantDev := []specs.LinuxDeviceCgroup{{Allow: false, Access: "rwm"}}
	if s.Linux.Resources == nil || !reflect.DeepEqual(s.Linux.Resources.Devices, wantDev) {
		t.Errorf("resources = %+v", s.Linux.Resources)
	}
	if s.Linux.UIDMappings != nil || s.Linux.GIDMappings != nil {
		t.Errorf("unexpected id mappings")
	}
}

func TestExampleIndependent(t *testing.T) {
	a, b := Example(), Example()
	a.Process.Capabilities.Bounding[0] = "CAP_SYS_ADMIN"
	a.Process.Args[0] = "true"
	if b.Process.Capabilities.Bounding[0] != "CAP_AUDIT_WRITE" || b.Process.Args[0] != "sh" {
		t.Error("Example() values share state")
	}
	if a.Process.Capabilities.Effective[0] != "CAP_AUDIT_WRITE" {
		t.Error("capability lists share backing arrays")
	}
}

func TestToRootless(t *testing.T) {
	s := Example()
	ToRootless(s)
	s = roundTrip(t, s)

	wantNS := []specs.LinuxNamespaceType{
		specs.PIDNamespace, specs.IPCNamespace, specs.UTSNamespace,
		specs.MountNamespace, specs.CgroupNamespace, specs.UserNamespace,
	}
	if got := nsTypes(s); !slices.Equal(got, wantNS) {
		t.Errorf("namespaces = %q, want %q", got, wantNS)
	}
	wantUID := []specs.LinuxIDMapping{{ContainerID: 0, HostID: uint32(os.Geteuid()), Size: 1}}
	wantGID := []specs.LinuxIDMapping{{ContainerID: 0, HostID: uint32(os.Getegid()), Size: 1}}
	if !reflect.DeepEqual(s.Linux.UIDMappings, wantUID) {
		t.Errorf("uidMappings = %+v", s.Linux.UIDMappings)
	}
	if !reflect.DeepEqual(s.Linux.GIDMappings, wantGID) {
		t.Errorf("gidMappings = %+v", s.Linux.GIDMappings)
	}
	if s.Linux.Resources != nil {
		t.Errorf("resources = %+v, want nil", s.Linux.Resources)
	}

	if len(s.Mounts) != 7 {
		t.Fatalf("got %d mounts, want 7", len(s.Mounts))
	}
	sys := findMount(s, "/sys")
	want := &specs.Mount{
		Destination: "/sys",
		Type:        "none",
		Source:      "/sys",
		Options:     []string{"rbind", "nosuid", "noexec", "nodev", "ro"},
	}
	if !reflect.DeepEqual(sys, want) {
		t.Errorf("/sys mount = %+v", sys)
	}
	pts := findMount(s, "/dev/pts")
	if pts == nil || !slices.Equal(pts.Options, []string{"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"}) {
		t.Errorf("/dev/pts mount = %+v", pts)
	}
	mq := findMount(s, "/dev/mqueue")
	if mq == nil || !slices.Equal(mq.Options, []string{"nosuid", "noexec", "nodev"}) {
		t.Errorf("/dev/mqueue mount = %+v", mq)
	}
	if m := findMount(s, "/sys/fs/cgroup"); m == nil || m.Type != "cgroup" {
		t.Errorf("/sys/fs/cgroup mount = %+v", m)
	}
}

func TestToRootlessIdempotent(t *testing.T) {
	s := Example()
	s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.UserNamespace, Path: "/proc/1/ns/user"})
	s.Mounts = append(s.Mounts, specs.Mount{Destination: "/x", Type: "tmpfs", Source: "tmpfs", Options: []string{"uid=3", "mode=700"}})
	ToRootless(s)
	ToRootless(s)
	var users int
	for _, ns := range s.Linux.Namespaces {
		if ns.Type == specs.UserNamespace {
			users++
			if ns.Path != "" {
				t.Errorf("user namespace path kept: %q", ns.Path)
			}
		}
		if ns.Type == specs.NetworkNamespace {
			t.Error("network namespace kept")
		}
	}
	if users != 1 {
		t.Errorf("got %d user namespaces, want 1", users)
	}
	if m := findMount(s, "/x"); m == nil || !slices.Equal(m.Options, []string{"mode=700"}) {
		t.Errorf("/x mount = %+v", m)
	}
}
