package cgroups

import (
	"os"
	"path/filepath"
	"testing"

	cg "github.com/opencontainers/cgroups"
)

// idleTestManager has only the paths orderIdle asks for.
type idleTestManager struct {
	cg.Manager
	paths map[string]string
}

func (m idleTestManager) GetPaths() map[string]string { return m.paths }

// orderIdle: with shares and idle both given, the group leaves idle first
// (the kernel refuses shares while idle); on v2, where the library writes
// cpu.idle before cpu.weight, the weight is written here and left out of
// what the library gets. (Not parallel: cgroups.TestMode is global.)
func TestOrderIdle(t *testing.T) {
	cg.TestMode = true
	defer func() { cg.TestMode = false }()
	read := func(dir, f string) string {
		b, _ := os.ReadFile(filepath.Join(dir, f))
		return string(b)
	}
	idle1, idle0 := int64(1), int64(0)
	for _, c := range []struct {
		name       string
		v2         bool
		r          cg.Resources
		idle, wght string
		libWeight  uint64
	}{
		{"v1 into idle", false, cg.Resources{CPUIdle: &idle1, CpuShares: 512}, "0", "", 0},
		{"v1 out of idle", false, cg.Resources{CPUIdle: &idle0, CpuShares: 512}, "0", "", 0},
		{"v2 into idle", true, cg.Resources{CPUIdle: &idle1, CpuWeight: 50}, "0", "50", 0},
		{"v2 out of idle", true, cg.Resources{CPUIdle: &idle0, CpuWeight: 50}, "0", "", 50},
		{"idle alone", true, cg.Resources{CPUIdle: &idle1}, "", "", 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			paths := map[string]string{"cpu": dir}
			if c.v2 {
				paths = map[string]string{"": dir}
			}
			r := c.r
			lib, err := manager{idleTestManager{paths: paths}}.orderIdle(&r)
			if err != nil {
				t.Fatal(err)
			}
			if got := read(dir, "cpu.idle"); got != c.idle {
				t.Errorf("cpu.idle written %q before the library, want %q", got, c.idle)
			}
			if got := read(dir, "cpu.weight"); got != c.wght {
				t.Errorf("cpu.weight written %q before the library, want %q", got, c.wght)
			}
			if c.v2 && lib.CpuWeight != c.libWeight {
				t.Errorf("the library gets cpu.weight %d, want %d", lib.CpuWeight, c.libWeight)
			}
			if !c.v2 && lib != &r {
				t.Errorf("v1: the library should get the resources as they are")
			}
		})
	}
}
