package cgroups

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	cg "github.com/opencontainers/cgroups"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestResourcesKernelTCPKeptAside(t *testing.T) {
	res := mustResources(t, &specs.LinuxResources{Memory: &specs.LinuxMemory{KernelTCP: p[int64](1 << 20)}})
	if got := extrasOf(res).kernelTCP; got != 1<<20 {
		t.Errorf("kernelTCP = %d", got)
	}
	// Each Resources has its own extras; 0 and unset leave none.
	for _, m := range []*specs.LinuxMemory{{KernelTCP: p[int64](0)}, {Limit: p[int64](1 << 20)}} {
		if e := extrasOf(mustResources(t, &specs.LinuxResources{Memory: m})); e != (extraResources{}) {
			t.Errorf("%+v: extras %+v", m, e)
		}
	}
	if _, err := Resources(&specs.LinuxResources{Memory: &specs.LinuxMemory{KernelTCP: p[int64](-2)}}); err == nil ||
		!strings.Contains(err.Error(), "memory.kernelTCP -2") {
		t.Errorf("kernelTCP -2: err = %v", err)
	}
}

// The side table does not keep a Resources alive.
func TestExtrasForgetCollectedResources(t *testing.T) {
	for range 100 {
		_ = mustResources(t, &specs.LinuxResources{Memory: &specs.LinuxMemory{KernelTCP: p[int64](4096)}})
	}
	for i := 0; i < 50; i++ {
		runtime.GC()
		extras.Lock()
		n := len(extras.m)
		extras.Unlock()
		if n < 100 {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Error("no extras entry was dropped after GC")
}

// pathManager is a manager whose memory cgroup is dir.
type pathManager struct {
	cg.Manager
	dir string
}

func (m pathManager) Set(*cg.Resources) error { return nil }
func (m pathManager) Path(string) string      { return m.dir }

// A v1 cgroup directory without the file (here the pids one) means the
// kernel has no kernel TCP limit: that is an error, not silence.
func TestKernelTCPUnsupportedIsAnError(t *testing.T) {
	requireRootV1(t)
	res := mustResources(t, &specs.LinuxResources{Memory: &specs.LinuxMemory{KernelTCP: p[int64](1 << 20)}})
	err := manager{pathManager{dir: "/sys/fs/cgroup/pids"}}.Set(res)
	if err == nil || !strings.Contains(err.Error(), "memory.kernelTCP 1048576: not supported by this kernel (no memory.kmem.tcp.limit_in_bytes)") {
		t.Errorf("err = %v", err)
	}
	err = manager{pathManager{}}.Set(res)
	if err == nil || !strings.Contains(err.Error(), "no cgroup v1 memory controller") {
		t.Errorf("no memory path: err = %v", err)
	}
	// Nothing asked, nothing written.
	if err := (manager{pathManager{}}).Set(mustResources(t, nil)); err != nil {
		t.Error(err)
	}
}

// memory.kernelTCP reaches memory.kmem.tcp.limit_in_bytes on create and
// on update, and -1 lifts it.
func TestIntegrationV1KernelTCP(t *testing.T) {
	requireRootV1(t)
	l := &specs.Linux{
		CgroupsPath: fmt.Sprintf("%s/kmemtcp-%d", testParent, os.Getpid()),
		Resources: &specs.LinuxResources{Memory: &specs.LinuxMemory{
			Limit: p[int64](64 << 20), Kernel: p[int64](32 << 20), KernelTCP: p[int64](32 << 20),
		}},
	}
	c, m := newManager(t, "", l)
	if err := m.Apply(-1); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { destroyAndCheck(t, m) })
	if _, err := os.Stat(m.Path("memory") + "/" + kmemTCPFile); err != nil {
		t.Skipf("kernel without kmem TCP accounting: %v", err)
	}
	if err := m.Set(c.Resources); err != nil {
		t.Fatal(err)
	}
	expectFile(t, m.Path("memory"), kmemTCPFile, strconv.Itoa(32<<20))
	expectFile(t, m.Path("memory"), "memory.limit_in_bytes", strconv.Itoa(64<<20))

	l.Resources.Memory.KernelTCP = p[int64](-1)
	res, err := Resources(l.Resources)
	if err != nil {
		t.Fatal(err)
	}
	m2, err := Load(c, m.GetPaths())
	if err != nil {
		t.Fatal(err)
	}
	if err := m2.Set(res); err != nil {
		t.Fatal(err)
	}
	// Unlimited reads back as the root cgroup's value.
	expectFile(t, m.Path("memory"), kmemTCPFile, readCgroupFile(t, "/sys/fs/cgroup/memory", kmemTCPFile))
}
