package integration

// linux.intelRdt on this host, which has no resctrl filesystem: refused
// in one line naming it, with nothing left. Where resctrl is mounted the
// group is applied (libcontainer/intelrdt and launch's unit tests, on a
// fake resctrl tree): that kernel path cannot run here.

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestIntelRdtWithoutResctrl(t *testing.T) {
	if mi, err := os.ReadFile("/proc/self/mountinfo"); err != nil || strings.Contains(string(mi), " - resctrl ") {
		t.Skipf("resctrl is mounted here (or no mountinfo: %v): this test is for a host without it", err)
	}
	e := NewEnv(t)
	for _, c := range []struct {
		name string
		rdt  specs.LinuxIntelRdt
		want []string
	}{
		{"closid", specs.LinuxIntelRdt{ClosID: "c1"}, []string{"linux.intelRdt: no resctrl filesystem is mounted"}},
		{"schemata", specs.LinuxIntelRdt{L3CacheSchema: "L3:0=f", MemBwSchema: "MB:0=20", Schemata: []string{"L2:0=f"}, EnableMonitoring: true},
			[]string{"linux.intelRdt: no resctrl filesystem is mounted"}},
		// what is wrong in the config itself is named first, whatever the host
		{"dotdot", specs.LinuxIntelRdt{ClosID: "../c1"}, []string{`linux.intelRdt.closID "../c1"`}},
		{"membw", specs.LinuxIntelRdt{MemBwSchema: "L3:0=f"}, []string{`linux.intelRdt.memBwSchema "L3:0=f"`}},
		{"newline", specs.LinuxIntelRdt{Schemata: []string{"L3:0=f\nMB:0=20"}}, []string{`linux.intelRdt.schemata[0] "L3:0=f\nMB:0=20"`}},
	} {
		rdt := c.rdt
		b := e.Bundle([]string{"sleep", "300"}, func(s *specs.Spec) { s.Linux.IntelRdt = &rdt })
		id := atID("rdt-" + c.name)
		atRefused(t, e, b, id, c.want...)
		rootfs, _ := filepath.EvalSymlinks(filepath.Join(b, "rootfs"))
		if pids := rdtProcessesIn(rootfs); len(pids) > 0 {
			t.Errorf("%s: processes %v left with the container's rootfs as their root", id, pids)
		}
	}
}

// rdtProcessesIn lists the processes whose root directory is rootfs.
func rdtProcessesIn(rootfs string) []string {
	var pids []string
	ents, _ := os.ReadDir("/proc")
	for _, d := range ents {
		if root, err := os.Readlink(filepath.Join("/proc", d.Name(), "root")); err == nil && root == rootfs {
			pids = append(pids, d.Name())
		}
	}
	return pids
}
