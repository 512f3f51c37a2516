package cgroups

import (
	"bytes"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	cg "github.com/opencontainers/cgroups"
	devconfig "github.com/opencontainers/cgroups/devices/config"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// The tests below create real cgroups: they need root, and read the v1
// files (memory.limit_in_bytes, ...), so they skip on a pure v2 host.

func requireRootV1(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	if cg.IsCgroup2UnifiedMode() {
		t.Skip("reads cgroup v1 files; this host is cgroup v2 only")
	}
}

// startSleep runs a child that the test moves into the cgroup.
func startSleep(t *testing.T) *exec.Cmd {
	t.Helper()
	cmd := exec.Command("sleep", "5")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stop(cmd) })
	return cmd
}

func stop(cmd *exec.Cmd) {
	if cmd.ProcessState == nil {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	}
}

func readCgroupFile(t *testing.T, dir, file string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, file))
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

func expectFile(t *testing.T, dir, file, want string) {
	t.Helper()
	if got := readCgroupFile(t, dir, file); got != want {
		t.Errorf("%s/%s = %q, want %q", dir, file, got, want)
	}
}

func testSpec() *specs.Linux {
	return &specs.Linux{Resources: &specs.LinuxResources{
		Memory: &specs.LinuxMemory{Limit: p[int64](64 << 20)},
		Pids:   &specs.LinuxPids{Limit: p[int64](17)},
		CPU:    &specs.LinuxCPU{Shares: p[uint64](512)},
		Devices: []specs.LinuxDeviceCgroup{
			{Allow: false, Access: "rwm"},
			{Allow: true, Type: "c", Major: p[int64](10), Minor: p[int64](229), Access: "rw"}, // fuse
		},
	}}
}

func TestIntegrationV1Lifecycle(t *testing.T) {
	requireRootV1(t)
	id := fmt.Sprintf("itest-%d", os.Getpid())
	c, m := newManager(t, id, testSpec())
	cmd := startSleep(t)
	if err := m.Apply(cmd.Process.Pid); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Destroy() })
	if err := m.Set(c.Resources); err != nil {
		t.Fatal(err)
	}
	paths := m.GetPaths()
	checkLimits(t, paths, id)
	checkMember(t, paths, cmd.Process.Pid)

	// A manager loaded from the saved paths sees and controls the same cgroup.
	m2, err := Load(c, paths)
	if err != nil {
		t.Fatal(err)
	}
	if pids, err := m2.GetPids(); err != nil || !slices.Contains(pids, cmd.Process.Pid) {
		t.Errorf("loaded manager: pids %v, %v", pids, err)
	}
	stop(cmd)
	destroyAndCheck(t, m2)
}

func checkLimits(t *testing.T, paths map[string]string, id string) {
	t.Helper()
	mem := paths["memory"]
	if want := "/sys/fs/cgroup/memory/oci-rt/" + id; mem != want {
		t.Errorf("memory path %q, want %q", mem, want)
	}
	expectFile(t, mem, "memory.limit_in_bytes", strconv.Itoa(64<<20))
	expectFile(t, paths["pids"], "pids.max", "17")
	expectFile(t, paths["cpu"], "cpu.shares", "512")
	list := readCgroupFile(t, paths["devices"], "devices.list")
	for _, want := range []string{"c 10:229 rw", "c 1:3 rwm", "c 136:* rwm", "c *:* m"} {
		if !slices.Contains(strings.Split(list, "\n"), want) {
			t.Errorf("devices.list lacks %q:\n%s", want, list)
		}
	}
	if strings.Contains(list, "a *:*") {
		t.Errorf("devices cgroup still allows everything:\n%s", list)
	}
}

func checkMember(t *testing.T, paths map[string]string, pid int) {
	t.Helper()
	for name, dir := range paths {
		procs := strings.Fields(readCgroupFile(t, dir, "cgroup.procs"))
		if !slices.Contains(procs, strconv.Itoa(pid)) {
			t.Errorf("%s: pid %d not in %s/cgroup.procs", name, pid, dir)
		}
	}
}

// testParent holds the cgroups of the tests that name a cgroupsPath, so
// that they can remove it (unlike /oci-rt, which real containers share).
const testParent = "/oci-rt-test"

// removeTestParents removes testParent from every hierarchy once empty.
func removeTestParents(paths map[string]string) {
	for _, dir := range paths {
		if parent := filepath.Dir(dir); filepath.Base(parent) == filepath.Base(testParent) {
			_ = os.Remove(parent)
		}
	}
}

func destroyAndCheck(t *testing.T, m cg.Manager) {
	t.Helper()
	// Destroy empties the manager's own map.
	paths := maps.Clone(m.GetPaths())
	if len(paths) == 0 {
		t.Fatal("no paths")
	}
	defer removeTestParents(paths)
	if err := m.Destroy(); err != nil {
		t.Fatal(err)
	}
	for name, dir := range paths {
		if _, err := os.Stat(dir); !os.IsNotExist(err) {
			t.Errorf("%s: %s still there after Destroy (%v)", name, dir, err)
		}
	}
	if m.Exists() {
		t.Error("Exists() after Destroy")
	}
}

// Set on a running container changes limits in place, and device updates
// keep the devices the container still has.
func TestIntegrationV1Update(t *testing.T) {
	requireRootV1(t)
	c, m := newManager(t, "", &specs.Linux{CgroupsPath: fmt.Sprintf("%s/upd-%d", testParent, os.Getpid()), Resources: testSpec().Resources})
	cmd := startSleep(t)
	if err := m.Apply(cmd.Process.Pid); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stop(cmd); destroyAndCheck(t, m) })
	if err := m.Set(c.Resources); err != nil {
		t.Fatal(err)
	}
	spec := testSpec().Resources
	spec.Memory.Limit = p[int64](32 << 20)
	spec.Devices[1].Access = "r" // fuse: drop "w"
	res, err := Resources(spec)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Set(res); err != nil {
		t.Fatal(err)
	}
	expectFile(t, m.Path("memory"), "memory.limit_in_bytes", strconv.Itoa(32<<20))
	list := strings.Split(readCgroupFile(t, m.Path("devices"), "devices.list"), "\n")
	if !slices.Contains(list, "c 10:229 r") || !slices.Contains(list, "c 1:3 rwm") {
		t.Errorf("devices.list after update: %q", list)
	}
}

// A relative cgroupsPath lands below this process's own cgroups.
func TestIntegrationV1RelativePath(t *testing.T) {
	requireRootV1(t)
	rel := fmt.Sprintf("oci-rt-rel-%d", os.Getpid())
	_, m := newManager(t, "x", &specs.Linux{CgroupsPath: rel})
	if err := m.Apply(-1); err != nil {
		t.Fatal(err)
	}
	own, err := cg.GetOwnCgroupPath("memory")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := m.Path("memory"), filepath.Join(own, rel); got != want {
		t.Errorf("memory path %q, want %q", got, want)
	}
	destroyAndCheck(t, m)
}

// runJoined starts `sh -c script`, lets join put it in a cgroup, then lets
// it run; it returns the script's error and stderr.
func runJoined(t *testing.T, script string, join func(pid int) error) (string, error) {
	t.Helper()
	cmd := exec.Command("sh", "-c", "read _; "+script)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer stop(cmd)
	if err := join(cmd.Process.Pid); err != nil {
		t.Fatal(err)
	}
	_, _ = in.Write([]byte("go\n"))
	err = cmd.Wait()
	return stderr.String(), err
}

// A spec that lists /dev/full in linux.devices loses its default rule, so
// with a deny-all rule list the container cannot open it (runc's rules).
func deviceSpec() *specs.Linux {
	return &specs.Linux{
		Devices:   []specs.LinuxDevice{{Path: "/dev/full", Type: "c", Major: 1, Minor: 7}},
		Resources: &specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{{Allow: false, Access: "rwm"}}},
	}
}

const openNullThenFull = ": </dev/null && : </dev/full"

func TestIntegrationV1DeviceRuleEnforced(t *testing.T) {
	requireRootV1(t)
	l := deviceSpec()
	l.CgroupsPath = fmt.Sprintf("%s/dev-%d", testParent, os.Getpid())
	c, m := newManager(t, "", l)
	t.Cleanup(func() { _ = m.Destroy() })
	stderr, err := runJoined(t, openNullThenFull, func(pid int) error {
		if err := m.Apply(pid); err != nil {
			return err
		}
		return m.Set(c.Resources)
	})
	if err == nil || !strings.Contains(stderr, "/dev/full") || !strings.Contains(stderr, "not permitted") {
		t.Errorf("opening /dev/full: err %v, stderr %q", err, stderr)
	}
	destroyAndCheck(t, m)
}

// unifiedMount returns the cgroup2 mount point (pure v2 or hybrid).
func unifiedMount(t *testing.T) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	switch {
	case cg.IsCgroup2UnifiedMode():
		return "/sys/fs/cgroup"
	case cg.IsCgroup2HybridMode():
		return "/sys/fs/cgroup/unified"
	}
	t.Skip("no cgroup2 hierarchy")
	return ""
}

// The eBPF device filter (the v2 devices "controller") is tested on a
// plain cgroup2 directory, which works in hybrid mode too.
func TestIntegrationBPFDeviceFilter(t *testing.T) {
	dir := filepath.Join(unifiedMount(t), fmt.Sprintf("oci-rt-bpftest-%d", os.Getpid()))
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.Remove(dir) })
	c, err := Config("bpftest", deviceSpec(), false)
	if err != nil {
		t.Fatal(err)
	}
	join := func(pid int) error {
		return cg.WriteCgroupProc(dir, pid)
	}
	if err := setDevicesV2(dir, c.Resources); err != nil {
		t.Fatal(err)
	}
	stderr, err := runJoined(t, openNullThenFull, join)
	if err == nil || !strings.Contains(stderr, "not permitted") {
		t.Errorf("opening /dev/full: err %v, stderr %q", err, stderr)
	}
	// Replacing the filter leaves exactly one program, the new one.
	res, err := Resources(nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := setDevicesV2(dir, res); err != nil {
		t.Fatal(err)
	}
	if stderr, err := runJoined(t, openNullThenFull, join); err != nil {
		t.Errorf("with the default rules /dev/full must open: %v %q", err, stderr)
	}
	checkOneProgram(t, dir)
}

func checkOneProgram(t *testing.T, dir string) {
	t.Helper()
	f, err := os.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ids, err := queryDevPrograms(int(f.Fd()))
	if err != nil || len(ids) != 1 {
		t.Errorf("attached programs %v, %v; want exactly one", ids, err)
	}
}

// In default-allow mode a deny exception applies as soon as it covers part
// of the requested access, as in v1: denying "r" also stops read-write.
func TestIntegrationBPFPartialDeny(t *testing.T) {
	dir := filepath.Join(unifiedMount(t), fmt.Sprintf("oci-rt-bpftest2-%d", os.Getpid()))
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.Remove(dir) })
	res := &cg.Resources{Devices: []*devconfig.Rule{rule(true, "a"), rule(false, "c 1:7 r")}}
	if err := setDevicesV2(dir, res); err != nil {
		t.Fatal(err)
	}
	join := func(pid int) error { return cg.WriteCgroupProc(dir, pid) }
	for script, allowed := range map[string]bool{
		": >/dev/full":  true,
		": </dev/full":  false,
		": <>/dev/full": false,
		": </dev/zero":  true,
	} {
		stderr, err := runJoined(t, script, join)
		if (err == nil) != allowed {
			t.Errorf("%q: allowed=%v, want %v (%q)", script, err == nil, allowed, stderr)
		}
	}
}

// devices.list lists the spec's rules first, in the spec's order, then the
// defaults (runtime-tools' linux_cgroups_devices compares positions), even
// when the cgroup inherits exceptions from a deny-default parent.
func TestIntegrationV1DeviceListOrder(t *testing.T) {
	requireRootV1(t)
	rel := fmt.Sprintf("%s/ord-%d", testParent, os.Getpid())
	parent := filepath.Join("/sys/fs/cgroup/devices", rel)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		t.Fatal(err)
	}
	// The child starts with a copy of these (block devices first).
	for _, w := range []string{"devices.deny:a", "devices.allow:b *:* rwm", "devices.allow:c *:* rwm"} {
		file, val, _ := strings.Cut(w, ":")
		if err := os.WriteFile(filepath.Join(parent, file), []byte(val), 0); err != nil {
			t.Fatal(err)
		}
	}
	l := &specs.Linux{
		CgroupsPath: rel + "/c",
		Resources: &specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{
			{Allow: false, Access: "rwm"},
			{Allow: true, Type: "c", Major: p[int64](10), Minor: p[int64](229), Access: "rwm"},
			{Allow: true, Type: "b", Major: p[int64](8), Minor: p[int64](20), Access: "rw"},
			{Allow: true, Type: "b", Major: p[int64](10), Minor: p[int64](200), Access: "r"},
		}},
	}
	c, m := newManager(t, "", l)
	if err := m.Apply(-1); err != nil {
		t.Fatal(err)
	}
	paths := maps.Clone(m.GetPaths())
	t.Cleanup(func() {
		_ = m.Destroy()
		parents := map[string]string{}
		for name, dir := range paths {
			parents[name] = filepath.Dir(dir)
			_ = os.Remove(parents[name])
		}
		removeTestParents(parents)
	})
	if err := m.Set(c.Resources); err != nil {
		t.Fatal(err)
	}
	want := []string{"c 10:229 rwm", "b 8:20 rw", "b 10:200 r", "c *:* m", "b *:* m",
		"c 1:3 rwm", "c 1:8 rwm", "c 1:7 rwm", "c 5:0 rwm", "c 1:5 rwm", "c 1:9 rwm",
		"c 136:* rwm", "c 5:2 rwm", "c 10:200 rwm"}
	list := strings.Split(readCgroupFile(t, m.Path("devices"), "devices.list"), "\n")
	if !slices.Equal(list, want) {
		t.Errorf("devices.list = %q\nwant %q", list, want)
	}
}

// newManager builds the cgroup config of l (id names the cgroup when l has
// no cgroupsPath) and its manager.
func newManager(t *testing.T, id string, l *specs.Linux) (*cg.Cgroup, cg.Manager) {
	t.Helper()
	c, err := Config(id, l, false)
	if err != nil {
		t.Fatal(err)
	}
	m, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	return c, m
}
