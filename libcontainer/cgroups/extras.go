package cgroups

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"sync"
	"weak"

	cg "github.com/opencontainers/cgroups"
)

// extraResources are the spec's settings that the library's Resources has
// no field for (it dropped kmem along with kernel memory). Resources and
// Config record them against the *cg.Resources they return; the managers
// New and Load return apply them after the library's Set.
type extraResources struct {
	// kernelTCP is memory.kmem.tcp.limit_in_bytes (v1 only); 0 is unset.
	kernelTCP int64
}

// extras maps a Resources to its extras without keeping it alive: an
// entry goes when its Resources is collected.
var extras = struct {
	sync.Mutex
	m map[weak.Pointer[cg.Resources]]extraResources
}{m: map[weak.Pointer[cg.Resources]]extraResources{}}

func setExtras(r *cg.Resources, e extraResources) {
	if e == (extraResources{}) {
		return
	}
	wp := weak.Make(r)
	extras.Lock()
	_, had := extras.m[wp]
	extras.m[wp] = e
	extras.Unlock()
	if !had {
		runtime.AddCleanup(r, func(wp weak.Pointer[cg.Resources]) {
			extras.Lock()
			delete(extras.m, wp)
			extras.Unlock()
		}, wp)
	}
}

func extrasOf(r *cg.Resources) extraResources {
	extras.Lock()
	defer extras.Unlock()
	return extras.m[weak.Make(r)]
}

// manager is the library's manager plus the extras.
type manager struct {
	cg.Manager
}

// Set checks that the host can apply r (available.go), sets what the
// library knows, then the extras.
func (m manager) Set(r *cg.Resources) error {
	if r == nil {
		return nil
	}
	if err := m.checkAvailable(r); err != nil {
		return err
	}
	lib, err := m.orderIdle(r)
	if err != nil {
		return err
	}
	if err := m.Manager.Set(lib); err != nil {
		return unifiedWriteErr(err, r.Unified)
	}
	return m.setKernelTCP(extrasOf(r).kernelTCP)
}

// orderIdle makes cpu.idle and the CPU shares settable together: the
// kernel refuses (EINVAL) shares or weight while a group is idle, and the
// library writes v1's cpu.shares before cpu.idle but v2's cpu.idle before
// cpu.weight. With both given, the group leaves idle first; on v2 the
// weight is written here, before the library sets idle again. It returns
// the resources left for the library.
func (m manager) orderIdle(r *cg.Resources) (*cg.Resources, error) {
	if r.CPUIdle == nil || (r.CpuShares == 0 && r.CpuWeight == 0) {
		return r, nil
	}
	paths := m.GetPaths()
	dir, v2 := paths["cpu"], false
	if dir == "" {
		dir, v2 = paths[""], true
	}
	if dir == "" {
		return r, nil
	}
	if err := cg.WriteFile(dir, "cpu.idle", "0"); err != nil {
		return nil, fmt.Errorf("linux.resources.cpu.idle: %w", err)
	}
	if !v2 || *r.CPUIdle == 0 || r.CpuWeight == 0 {
		return r, nil
	}
	if err := cg.WriteFile(dir, "cpu.weight", strconv.FormatUint(r.CpuWeight, 10)); err != nil {
		return nil, fmt.Errorf("linux.resources.cpu.shares: %w", err)
	}
	lib := *r
	lib.CpuWeight = 0
	return &lib, nil
}

const kmemTCPFile = "memory.kmem.tcp.limit_in_bytes"

// setKernelTCP writes memory.kernelTCP to the v1 memory cgroup (the kernel
// has deprecated the file since 6.12 but still honours it; the library
// and runc ignore the setting). Where there is no such file (cgroup v2, or
// a kernel without kmem accounting) the limit cannot be set, which is an
// error: the runtime "MUST generate an error" when it cannot create the
// environment config.json asks for.
func (m manager) setKernelTCP(limit int64) error {
	if limit == 0 {
		return nil
	}
	field := fmt.Sprintf("memory.kernelTCP %d", limit)
	path := m.Path("memory")
	if path == "" || cg.IsCgroup2UnifiedMode() {
		return errors.New(field + ": not supported: no cgroup v1 memory controller (cgroup v2 has no kernel TCP memory limit)")
	}
	if err := cg.WriteFile(path, kmemTCPFile, strconv.FormatInt(limit, 10)); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("%s: not supported by this kernel (no %s)", field, kmemTCPFile)
		}
		return fmt.Errorf("%s: %w", field, err)
	}
	return nil
}
