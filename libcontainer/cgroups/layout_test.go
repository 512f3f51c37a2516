package cgroups

import (
	"maps"
	"os"
	"slices"
	"testing"

	cg "github.com/opencontainers/cgroups"
	libmanager "github.com/opencontainers/cgroups/manager"
	"golang.org/x/sys/unix"
)

// A Debian-like v1 host with co-mounted and named hierarchies.
const debianProcCgroup = `12:hugetlb:/
11:net_cls,net_prio:/
10:cpu,cpuacct:/user.slice
9:devices:/user.slice
8:memory:/user.slice/user-0.slice
7:pids:/user.slice/user-0.slice
6:name=systemd:/user.slice/user-0.slice/session-1.scope
5:rdma:/
4:misc:/
3:perf_event:/
2:cpuset:/
1:freezer:/
0::/user.slice/user-0.slice/session-1.scope
`

func TestConventionalLayout(t *testing.T) {
	var asked []string
	mounts, ok := conventionalLayout([]byte(debianProcCgroup), func(p string) bool {
		asked = append(asked, p)
		return true
	})
	if !ok || len(mounts) != 12 {
		t.Fatalf("ok=%v, %d mounts", ok, len(mounts))
	}
	if asked[1] != "/sys/fs/cgroup/net_cls,net_prio" || asked[6] != "/sys/fs/cgroup/systemd" {
		t.Errorf("mount points checked: %q", asked)
	}
	// as cg.GetCgroupMounts(true) lists them: named hierarchies without "name="
	if m := mounts[6]; m.Mountpoint != "/sys/fs/cgroup/systemd" || !slices.Equal(m.Subsystems, []string{"systemd"}) || m.Root != "/" {
		t.Errorf("named hierarchy: %+v", m)
	}
	if m := mounts[2]; !slices.Equal(m.Subsystems, []string{"cpu", "cpuacct"}) {
		t.Errorf("co-mounted: %+v", m)
	}

	paths := layoutPaths(mounts, "/oci-rt/c1", true)
	want := map[string]string{
		"hugetlb": "/sys/fs/cgroup/hugetlb/oci-rt/c1", "net_cls": "/sys/fs/cgroup/net_cls,net_prio/oci-rt/c1",
		"net_prio": "/sys/fs/cgroup/net_cls,net_prio/oci-rt/c1", "cpu": "/sys/fs/cgroup/cpu,cpuacct/oci-rt/c1",
		"cpuacct": "/sys/fs/cgroup/cpu,cpuacct/oci-rt/c1", "devices": "/sys/fs/cgroup/devices/oci-rt/c1",
		"memory": "/sys/fs/cgroup/memory/oci-rt/c1", "pids": "/sys/fs/cgroup/pids/oci-rt/c1",
		"name=systemd": "/sys/fs/cgroup/systemd/oci-rt/c1", "rdma": "/sys/fs/cgroup/rdma/oci-rt/c1",
		"misc": "/sys/fs/cgroup/misc/oci-rt/c1", "perf_event": "/sys/fs/cgroup/perf_event/oci-rt/c1",
		"cpuset": "/sys/fs/cgroup/cpuset/oci-rt/c1", "freezer": "/sys/fs/cgroup/freezer/oci-rt/c1",
		"": "/sys/fs/cgroup/unified/oci-rt/c1",
	}
	if !maps.Equal(paths, want) {
		t.Errorf("paths:\n got %v\nwant %v", paths, want)
	}
}

// Whatever the convention cannot vouch for goes to the library.
func TestConventionalLayoutFallsBack(t *testing.T) {
	all := func(string) bool { return true }
	for name, tc := range map[string]struct {
		proc    string
		isMount func(string) bool
	}{
		"cgroup2 only":            {"0::/user.slice\n", all},
		"not mounted there":       {"2:memory:/\n1:devices:/\n", func(p string) bool { return p != "/sys/fs/cgroup/memory" }},
		"malformed line":          {"2:memory\n", all},
		"escapes the root":        {"2:../../etc:/\n", all},
		"named, outside /sys":     {"2:name=../x:/\n", all},
		"empty /proc/self/cgroup": {"", all},
	} {
		if mounts, ok := conventionalLayout([]byte(tc.proc), tc.isMount); ok {
			t.Errorf("%s: layout %+v accepted", name, mounts)
		}
	}
	// no devices hierarchy: the library must refuse the config itself
	mounts, ok := conventionalLayout([]byte("1:memory:/\n"), all)
	if !ok {
		t.Fatal("memory only: not accepted")
	}
	if p := layoutPaths(mounts, "/x", false); p != nil {
		t.Errorf("paths without devices: %v", p)
	}
}

// Relative paths, Name/Parent and systemd need the library.
func TestFsPathsOnlyAbsolute(t *testing.T) {
	for _, c := range []*cg.Cgroup{
		{Path: "relative/x"},
		{Parent: "/p", Name: "n"},
		{Path: "/x", Systemd: true},
	} {
		if p := fsPaths(c, false); p != nil {
			t.Errorf("%+v: paths %v", c, p)
		}
	}
}

// On this host, the layout found without the mount table places the cgroup
// where the library's own discovery does, and lists the hierarchies its
// GetCgroupMounts lists.
func TestLayoutMatchesLibrary(t *testing.T) {
	if cg.IsCgroup2UnifiedMode() {
		t.Skip("cgroup v2 only: no v1 layout")
	}
	mounts, ok := v1Layout()
	if !ok {
		t.Skip("this host's v1 hierarchies are not at their conventional mount points")
	}
	lib, err := cg.GetCgroupMounts(true)
	if err != nil {
		t.Fatal(err)
	}
	key := func(m cg.Mount) string {
		return m.Mountpoint + " " + m.Root + " " + slices.Sorted(slices.Values(m.Subsystems))[0]
	}
	var got, want []string
	for _, m := range mounts {
		got = append(got, key(m))
	}
	for _, m := range lib {
		if m.Root == "/" {
			want = append(want, key(m))
		}
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("mounts:\n got %q\nwant %q", got, want)
	}

	c := &cg.Cgroup{Path: "/oci-rt-layout-test/c", Resources: &cg.Resources{}}
	ours := fsPaths(c, cg.IsCgroup2HybridMode())
	m, err := libmanager.New(c)
	if err != nil {
		t.Fatal(err)
	}
	if !maps.Equal(ours, m.GetPaths()) {
		t.Errorf("paths:\n ours    %v\nlibrary %v", ours, m.GetPaths())
	}
	if _, err := os.Stat("/sys/fs/cgroup/memory/oci-rt-layout-test"); err == nil {
		t.Error("computing paths created a cgroup")
	}
}

// isCgroupMount refuses what is not a cgroup mount: a plain directory
// in the tmpfs (such as a stray "cpu,cpuacct" left by hand), a file, or
// the tmpfs itself.
func TestIsCgroupMount(t *testing.T) {
	var root unix.Stat_t
	if err := unix.Lstat(cgroupRoot, &root); err != nil {
		t.Skip("no /sys/fs/cgroup:", err)
	}
	for _, p := range []string{t.TempDir(), "/proc/self/cgroup", cgroupRoot, "/nonexistent"} {
		if isCgroupMount(p, root.Dev) {
			t.Errorf("%s taken for a cgroup mount", p)
		}
	}
	if mounts, ok := v1Layout(); ok {
		for _, m := range mounts {
			if !isCgroupMount(m.Mountpoint, root.Dev) {
				t.Errorf("%s: not a cgroup mount", m.Mountpoint)
			}
		}
	}
}
