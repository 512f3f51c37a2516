package cgroups

import (
	"fmt"
	"maps"
	"strconv"
	"strings"

	cg "github.com/opencontainers/cgroups"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Resources converts the spec's linux.resources into the library's
// resources, validating what the kernel would reject with a less helpful
// message (errors name the field and its value). The spec's device rules
// are kept in order and the default allowed devices are appended after
// them, as runc does. A nil r gives just the default device rules.
func Resources(r *specs.LinuxResources) (*cg.Resources, error) {
	return resources(r, nil)
}

// converters fill one section of the resources each.
var converters = []func(*specs.LinuxResources, *cg.Resources) error{
	convertDevices,
	convertMemory,
	convertCPU,
	convertPids,
	convertBlockIO,
	convertHugepages,
	convertNetwork,
	convertRdma,
	convertUnified,
}

// resources is Resources knowing the spec's linux.devices, which replace
// the default device rules with the same path (runc's dedup).
func resources(r *specs.LinuxResources, specDevs []specs.LinuxDevice) (*cg.Resources, error) {
	res := &cg.Resources{}
	if r != nil {
		for _, convert := range converters {
			if err := convert(r, res); err != nil {
				return nil, err
			}
		}
	}
	res.Devices = append(res.Devices, defaultRules(specDevs)...)
	return res, nil
}

// fieldErr formats "linux.resources.<field> <value>: <msg>".
func fieldErr(field string, value any, msg string) error {
	if s, ok := value.(string); ok {
		value = strconv.Quote(s)
	}
	return fmt.Errorf("linux.resources.%s %v: %s", field, value, msg)
}

func convertMemory(r *specs.LinuxResources, res *cg.Resources) error {
	m := r.Memory
	if m == nil {
		return nil
	}
	for _, f := range []struct {
		name string
		src  *int64
		dst  *int64
	}{
		{"memory.limit", m.Limit, &res.Memory},
		{"memory.reservation", m.Reservation, &res.MemoryReservation},
		{"memory.swap", m.Swap, &res.MemorySwap},
	} {
		if err := setByteLimit(f.name, f.src, f.dst); err != nil {
			return err
		}
	}
	// kernelTCP has no field in the library: it is kept aside and set by
	// our manager (extras.go). kernel (kmem.limit_in_bytes) is ignored, as
	// runtime-spec 1.3.0 allows ("may be ignored by runtimes"): kernels
	// since 5.16 ignore writes to it anyway. useHierarchy is always on in
	// v2 and in recent v1, and the library has no field for it either.
	if m.KernelTCP != nil {
		var tcp int64
		if err := setByteLimit("memory.kernelTCP", m.KernelTCP, &tcp); err != nil {
			return err
		}
		setExtras(res, extraResources{kernelTCP: tcp})
	}
	if err := setSwappiness(m.Swappiness, res); err != nil {
		return err
	}
	res.OomKillDisable = deref(m.DisableOOMKiller)
	res.MemoryCheckBeforeUpdate = deref(m.CheckBeforeUpdate)
	return checkSwapAboveLimit(res)
}

// setByteLimit copies a memory limit: -1 means unlimited, 0 leaves the
// kernel default, anything below -1 is a mistake.
func setByteLimit(field string, src, dst *int64) error {
	if src == nil {
		return nil
	}
	if *src < -1 {
		return fieldErr(field, *src, "must be -1 (unlimited) or a byte count >= 0")
	}
	*dst = *src
	return nil
}

func setSwappiness(s *uint64, res *cg.Resources) error {
	if s == nil {
		return nil
	}
	// Some engines send -1 cast to uint64 for "unset"; the library skips it.
	if *s > 100 && int64(*s) != -1 {
		return fieldErr("memory.swappiness", *s, "must be between 0 and 100")
	}
	res.MemorySwappiness = ptr(*s)
	return nil
}

// checkSwapAboveLimit: swap limits memory+swap, so it cannot be below the
// memory limit (v1 returns EINVAL, v2 conversion fails).
func checkSwapAboveLimit(res *cg.Resources) error {
	if res.MemorySwap > 0 && res.Memory > 0 && res.MemorySwap < res.Memory {
		return fieldErr("memory.swap", res.MemorySwap,
			fmt.Sprintf("must be >= memory.limit %d (it limits memory+swap)", res.Memory))
	}
	return nil
}

func convertCPU(r *specs.LinuxResources, res *cg.Resources) error {
	c := r.CPU
	if c == nil {
		return nil
	}
	for _, check := range []func(*specs.LinuxCPU, *cg.Resources) error{
		cpuShares, cpuQuota, cpuPeriod, cpuRealtime, cpuIdle, cpuSets,
	} {
		if err := check(c, res); err != nil {
			return err
		}
	}
	if c.Burst != nil {
		res.CpuBurst = ptr(*c.Burst)
	}
	return nil
}

func cpuShares(c *specs.LinuxCPU, res *cg.Resources) error {
	if c.Shares == nil {
		return nil
	}
	// v1 silently clamps to [2, 262144] and the library then fails on the
	// read-back; say so up front.
	if s := *c.Shares; s != 0 && (s < 2 || s > 262144) {
		return fieldErr("cpu.shares", s, "must be between 2 and 262144")
	}
	res.CpuShares = *c.Shares
	// v2 has cpu.weight instead; the library converts like runc does.
	res.CpuWeight = cg.ConvertCPUSharesToCgroupV2Value(*c.Shares)
	return nil
}

func cpuQuota(c *specs.LinuxCPU, res *cg.Resources) error {
	if c.Quota == nil {
		return nil
	}
	// The kernel's CFS bandwidth minimum is 1ms; -1 means unlimited.
	if q := *c.Quota; q < -1 || (q > 0 && q < 1000) {
		return fieldErr("cpu.quota", q, "must be -1 (unlimited), 0 (unset) or at least 1000 (us)")
	}
	res.CpuQuota = *c.Quota
	return nil
}

func cpuPeriod(c *specs.LinuxCPU, res *cg.Resources) error {
	if c.Period == nil {
		return nil
	}
	// The kernel accepts CFS periods from 1ms to 1s.
	if p := *c.Period; p != 0 && (p < 1000 || p > 1000000) {
		return fieldErr("cpu.period", p, "must be between 1000 and 1000000 (us)")
	}
	res.CpuPeriod = *c.Period
	return nil
}

func cpuRealtime(c *specs.LinuxCPU, res *cg.Resources) error {
	if c.RealtimeRuntime != nil {
		if *c.RealtimeRuntime < -1 {
			return fieldErr("cpu.realtimeRuntime", *c.RealtimeRuntime, "must be -1 (unlimited) or >= 0 (us)")
		}
		res.CpuRtRuntime = *c.RealtimeRuntime
	}
	if c.RealtimePeriod != nil {
		res.CpuRtPeriod = *c.RealtimePeriod
	}
	return nil
}

func cpuIdle(c *specs.LinuxCPU, res *cg.Resources) error {
	if c.Idle == nil {
		return nil
	}
	if i := *c.Idle; i != 0 && i != 1 {
		return fieldErr("cpu.idle", i, "must be 0 or 1 (SCHED_IDLE)")
	}
	res.CPUIdle = ptr(*c.Idle)
	return nil
}

func cpuSets(c *specs.LinuxCPU, res *cg.Resources) error {
	if !validCPUList(c.Cpus) {
		return fieldErr("cpu.cpus", c.Cpus, `must be a list like "0-3,5"`)
	}
	if !validCPUList(c.Mems) {
		return fieldErr("cpu.mems", c.Mems, `must be a list like "0-1,3"`)
	}
	res.CpusetCpus, res.CpusetMems = c.Cpus, c.Mems
	return nil
}

// validCPUList accepts the kernel's list format ("", "3", "0-3,5", ...).
func validCPUList(s string) bool {
	if s == "" {
		return true
	}
	for _, part := range strings.Split(s, ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		a, err1 := strconv.ParseUint(lo, 10, 32)
		b, err2 := a, error(nil)
		if isRange {
			b, err2 = strconv.ParseUint(hi, 10, 32)
		}
		if err1 != nil || err2 != nil || b < a {
			return false
		}
	}
	return true
}

func convertPids(r *specs.LinuxResources, res *cg.Resources) error {
	// Every value means something: <0 is "max", 0 is mapped to 1 by the
	// library (as systemd does), nil keeps the current limit.
	if r.Pids != nil && r.Pids.Limit != nil {
		res.PidsLimit = ptr(*r.Pids.Limit)
	}
	return nil
}

func convertUnified(r *specs.LinuxResources, res *cg.Resources) error {
	if len(r.Unified) == 0 {
		return nil
	}
	// Keys are file names in the container's cgroup directory.
	for k := range r.Unified {
		if k == "" || strings.ContainsAny(k, "/\x00") || k == "." || k == ".." {
			return fieldErr("unified", k, "key must be a cgroup file name")
		}
	}
	// Only copy a non-empty map: a non-nil Unified makes v1 managers fail.
	res.Unified = maps.Clone(r.Unified)
	return nil
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// ptr returns a pointer to a copy, so that the result never aliases the spec.
func ptr[T any](v T) *T {
	return &v
}
