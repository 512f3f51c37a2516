package launch

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/oci-rt/oci-rt/libcontainer/intelrdt"
	"github.com/oci-rt/oci-rt/libcontainer/plan"
	"github.com/oci-rt/oci-rt/libcontainer/state"
)

// fakeResctrl is a resctrl root with L3 and monitoring, and a group
// "shared" made by its administrator (the kernel's files made by hand).
func fakeResctrl(t *testing.T) (root, shared string) {
	t.Helper()
	root = t.TempDir()
	shared = filepath.Join(root, "shared")
	for _, d := range []string{"info/L3", "info/L3_MON", "mon_groups", "shared/mon_groups"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for f, s := range map[string]string{"tasks": "", "schemata": "L3:0=7ff\n", "shared/tasks": "", "shared/schemata": "L3:0=0f0\n"} {
		if err := os.WriteFile(filepath.Join(root, f), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root, shared
}

// planStartsWith: the executor's first op is ops' first, as encoded.
func planStartsWith(got []byte, ops ...plan.Op) bool {
	want := (&plan.Plan{Ops: ops}).Encode()
	return len(got) > 12 && bytes.HasPrefix(got[12:], want[12:])
}

// A create with linux.intelRdt joining a closID group with monitoring:
// the group is checked, the monitoring group made, both recorded in
// runtime.json, and the executor's first step writes itself to their tasks.
func TestCreateResctrl(t *testing.T) {
	root, shared := fakeResctrl(t)
	m := &fakeCgroup{paths: cgroupDirs(t)}
	h := &fakeHost{cgroup: m, resctrl: root, report: func(sync *os.File, pid int) {
		sync.Write(message(plan.MsgPid, int32(pid), 0, ""))
		sync.Write(message(plan.MsgReady, int32(pid), 0, ""))
	}}
	st := state.Store{Root: t.TempDir()}
	_, err := createWith(t, h, st, func(s *specs.Spec) {
		s.Linux.IntelRdt = &specs.LinuxIntelRdt{ClosID: "shared", L3CacheSchema: "L3:0=f0", EnableMonitoring: true}
	})
	if err != nil {
		t.Fatal(err)
	}
	mon := filepath.Join(shared, "mon_groups", "c")
	if _, err := os.Stat(mon); err != nil {
		t.Errorf("monitoring group: %v", err)
	}
	s, err := st.LoadFull("c")
	if err != nil {
		t.Fatal(err)
	}
	if g := s.IntelRdt; g == nil || g.Dir != shared || g.Made || !g.Keep || g.MonDir != mon {
		t.Errorf("runtime.json records %+v, want the shared group (kept) and %s", g, mon)
	}
	tasks := []string{filepath.Join(shared, "tasks"), filepath.Join(mon, "tasks")}
	if !planStartsWith(h.plan, plan.Op{Code: plan.OpJoinCgroup, Strs: tasks}) {
		t.Errorf("the plan does not start with joining %v", tasks)
	}
	// what delete does with the record: the monitoring group goes, the
	// closID group stays
	if err := intelrdt.Remove(s.IntelRdt, false); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(mon); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("monitoring group after delete: %v", err)
	}
	if _, err := os.Stat(shared); err != nil {
		t.Errorf("the closID group after delete: %v", err)
	}
}

// A create that fails removes the group it made with the rest.
func TestCreateResctrlFailureRemovesGroup(t *testing.T) {
	root, _ := fakeResctrl(t)
	m := &fakeCgroup{paths: cgroupDirs(t)}
	h := &fakeHost{cgroup: m, resctrl: root, report: func(sync *os.File, pid int) {
		sync.Write(message(plan.MsgPid, int32(pid), 0, ""))
		sync.Write(message(plan.MsgError, 0, int32(unix.ENOENT), "join the cgroup"))
	}}
	st := state.Store{Root: t.TempDir()}
	_, err := createWith(t, h, st, func(s *specs.Spec) { s.Linux.IntelRdt = &specs.LinuxIntelRdt{} })
	if err == nil || !strings.HasPrefix(err.Error(), "linux.intelRdt: join the cgroup") {
		t.Fatalf("create: %v, want the first step's failure named linux.intelRdt", err)
	}
	if _, err := os.Stat(filepath.Join(root, "c")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the container's resctrl group after a failed create: %v", err)
	}
	if _, err := os.Stat(st.DirOf("c")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("state directory: %v", err)
	}
}

// Without resctrl the config is refused before anything is made.
func TestCreateResctrlNotMounted(t *testing.T) {
	m := &fakeCgroup{paths: cgroupDirs(t)}
	h := &fakeHost{cgroup: m}
	st := state.Store{Root: t.TempDir()}
	_, err := createWith(t, h, st, func(s *specs.Spec) { s.Linux.IntelRdt = &specs.LinuxIntelRdt{ClosID: "x"} })
	if err == nil || !strings.HasPrefix(err.Error(), "linux.intelRdt: no resctrl") {
		t.Fatalf("create: %v", err)
	}
	if len(m.calls) != 0 || h.sleep != nil {
		t.Errorf("cgroup calls %v, executor started %v: want nothing", m.calls, h.sleep != nil)
	}
	if _, err := os.Stat(st.DirOf("c")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("state directory: %v", err)
	}
}
