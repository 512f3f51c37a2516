package cgroups

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	cg "github.com/opencontainers/cgroups"
)

// Checks of the resources against what this host's cgroups can apply,
// run by our manager's Set before the library writes anything, so that a
// limit that cannot be applied fails with the spec field and its value
// (runtime.md: "If the runtime cannot apply a property as specified in
// the configuration, it MUST generate an error") rather than with the
// library's "cannot set hugetlb limit: container could not join or create
// cgroup" or an ENOENT on a cgroup file. The errors do not repeat
// "linux.resources": the callers of Set prefix it.

// unifiedMode is cg.IsCgroup2UnifiedMode, a variable for the tests.
var unifiedMode = cg.IsCgroup2UnifiedMode

// hugePageSizes is cg.HugePageSizes ("2MB", "1GB", ...), a variable for
// the tests.
var hugePageSizes = cg.HugePageSizes

// need is one limit asked for and the controller it needs: a v1
// subsystem name (its hierarchy must be mounted) or a v2 controller (it
// must be in the cgroup's cgroup.controllers).
type need struct {
	ctl   string
	field string
	value any
}

func (n need) String() string {
	v := n.value
	if s, ok := v.(string); ok {
		v = strconv.Quote(s)
	}
	return fmt.Sprintf("%s %v", n.field, v)
}

// needs lists the limits r sets, as the library decides what to write
// (fs for v1, fs2 for v2: v2 has no swappiness, OOM killer switch,
// realtime or leaf weight files, and the library skips them there).
func needs(r *cg.Resources, v2 bool) []need {
	var out []need
	add := func(set bool, ctl, field string, value any) {
		if set {
			out = append(out, need{ctl, field, value})
		}
	}
	add(r.Memory != 0, "memory", "memory.limit", r.Memory)
	add(r.MemoryReservation != 0, "memory", "memory.reservation", r.MemoryReservation)
	add(r.MemorySwap != 0, "memory", "memory.swap", r.MemorySwap)
	if !v2 {
		add(r.MemorySwappiness != nil && int64(deref(r.MemorySwappiness)) != -1, "memory", "memory.swappiness", deref(r.MemorySwappiness))
		add(r.OomKillDisable, "memory", "memory.disableOOMKiller", r.OomKillDisable)
	}
	add(r.CpuShares != 0 || (v2 && r.CpuWeight != 0), "cpu", "cpu.shares", r.CpuShares)
	add(r.CpuQuota != 0, "cpu", "cpu.quota", r.CpuQuota)
	add(r.CpuPeriod != 0, "cpu", "cpu.period", r.CpuPeriod)
	add(r.CpuBurst != nil, "cpu", "cpu.burst", deref(r.CpuBurst))
	add(r.CPUIdle != nil, "cpu", "cpu.idle", deref(r.CPUIdle))
	if !v2 {
		add(r.CpuRtRuntime != 0, "cpu", "cpu.realtimeRuntime", r.CpuRtRuntime)
		add(r.CpuRtPeriod != 0, "cpu", "cpu.realtimePeriod", r.CpuRtPeriod)
	}
	add(r.CpusetCpus != "", "cpuset", "cpu.cpus", r.CpusetCpus)
	add(r.CpusetMems != "", "cpuset", "cpu.mems", r.CpusetMems)
	add(r.PidsLimit != nil, "pids", "pids.limit", deref(r.PidsLimit))
	blkio := "blkio"
	if v2 {
		blkio = "io"
	}
	add(r.BlkioWeight != 0, blkio, "blockIO.weight", r.BlkioWeight)
	if !v2 {
		add(r.BlkioLeafWeight != 0, blkio, "blockIO.leafWeight", r.BlkioLeafWeight)
	}
	add(len(r.BlkioWeightDevice) > 0, blkio, "blockIO.weightDevice", len(r.BlkioWeightDevice))
	add(len(r.BlkioThrottleReadBpsDevice) > 0, blkio, "blockIO.throttleReadBpsDevice", len(r.BlkioThrottleReadBpsDevice))
	add(len(r.BlkioThrottleWriteBpsDevice) > 0, blkio, "blockIO.throttleWriteBpsDevice", len(r.BlkioThrottleWriteBpsDevice))
	add(len(r.BlkioThrottleReadIOPSDevice) > 0, blkio, "blockIO.throttleReadIOPSDevice", len(r.BlkioThrottleReadIOPSDevice))
	add(len(r.BlkioThrottleWriteIOPSDevice) > 0, blkio, "blockIO.throttleWriteIOPSDevice", len(r.BlkioThrottleWriteIOPSDevice))
	for i, h := range r.HugetlbLimit {
		add(true, "hugetlb", fmt.Sprintf("hugepageLimits[%d]", i), h.Pagesize)
	}
	add(r.NetClsClassid != 0, "net_cls", "network.classID", r.NetClsClassid)
	for i, p := range r.NetPrioIfpriomap {
		add(true, "net_prio", fmt.Sprintf("network.priorities[%d]", i), p.Interface)
	}
	add(len(r.Rdma) > 0, "rdma", "rdma", slices.Sorted(maps.Keys(r.Rdma)))
	return out
}

// checkAvailable refuses, before anything is written, the first limit in
// r that this manager's cgroup has no controller for, a huge page size
// the host does not have, and unified keys that cannot be applied.
func (m manager) checkAvailable(r *cg.Resources) error {
	if err := checkPageSizes(r); err != nil {
		return err
	}
	if !unifiedMode() {
		if len(r.Unified) > 0 {
			return unifiedOnV1(r.Unified)
		}
		for _, n := range needs(r, false) {
			if m.Path(n.ctl) == "" {
				return fmt.Errorf("%s: no cgroup v1 %s hierarchy is mounted on this host", n, n.ctl)
			}
		}
		return nil
	}
	dir := m.Path("")
	data, err := os.ReadFile(filepath.Join(dir, "cgroup.controllers"))
	if err != nil {
		return nil // rootless without a cgroup of its own: the library decides
	}
	avail := strings.Fields(string(data))
	for _, n := range needs(r, true) {
		if slices.Contains(avail, n.ctl) {
			continue
		}
		if n.ctl == "net_cls" || n.ctl == "net_prio" {
			return fmt.Errorf("%s: cgroup v2 has no %s controller (it exists only in cgroup v1)", n, n.ctl)
		}
		return fmt.Errorf("%s: the %s controller is not available in cgroup %s (cgroup.controllers: %q)",
			n, n.ctl, dir, strings.Join(avail, " "))
	}
	return checkUnifiedKeys(dir, r.Unified, avail)
}

// checkPageSizes: a hugetlb limit names a page size the kernel has
// (/sys/kernel/mm/hugepages); otherwise its file does not exist.
func checkPageSizes(r *cg.Resources) error {
	if len(r.HugetlbLimit) == 0 {
		return nil
	}
	sizes := hugePageSizes()
	for i, h := range r.HugetlbLimit {
		if slices.Contains(sizes, h.Pagesize) {
			continue
		}
		field := fmt.Sprintf("hugepageLimits[%d].pageSize %q", i, h.Pagesize)
		if len(sizes) == 0 {
			return errors.New(field + ": this host has no huge pages (no /sys/kernel/mm/hugepages)")
		}
		return fmt.Errorf("%s: not a huge page size of this host (it has %s)", field, strings.Join(sizes, ", "))
	}
	return nil
}

// unifiedOnV1 refuses linux.resources.unified on a v1 host, hybrid
// included, as runc does ("invalid configuration: cannot use unified on
// cgroup v1"): the keys are cgroup v2 files, and the hybrid hierarchy has
// no controllers to give them meaning.
func unifiedOnV1(u map[string]string) error {
	return fmt.Errorf("unified %q: cgroup v2 keys cannot be applied on this cgroup v1 host%s",
		slices.Sorted(maps.Keys(u)), hybridNote())
}

func hybridNote() string {
	if cg.IsCgroup2HybridMode() {
		return " (its cgroup2 hierarchy at /sys/fs/cgroup/unified is a hybrid one, without the v1 controllers)"
	}
	return ""
}

// checkUnifiedKeys: each key must be a file of the container's cgroup;
// one that is missing is reported with the controller it needs.
func checkUnifiedKeys(dir string, u map[string]string, avail []string) error {
	for _, k := range slices.Sorted(maps.Keys(u)) {
		if _, err := os.Stat(filepath.Join(dir, k)); err == nil {
			continue
		}
		field := fmt.Sprintf("unified[%q] %q", k, u[k])
		ctl, _, ok := strings.Cut(k, ".")
		if ok && ctl != "cgroup" && !slices.Contains(avail, ctl) {
			return fmt.Errorf("%s: the %s controller is not available in cgroup %s (cgroup.controllers: %q)",
				field, ctl, dir, strings.Join(avail, " "))
		}
		return fmt.Errorf("%s: no such file in cgroup %s", field, dir)
	}
	return nil
}

// unifiedWriteErr names the key when the library fails to write one.
func unifiedWriteErr(err error, u map[string]string) error {
	var pe *os.PathError
	if len(u) == 0 || !errors.As(err, &pe) {
		return err
	}
	k := filepath.Base(pe.Path)
	v, ok := u[k]
	if !ok {
		return err
	}
	return fmt.Errorf("unified[%q] %q: write %s: %w", k, v, pe.Path, pe.Err)
}
