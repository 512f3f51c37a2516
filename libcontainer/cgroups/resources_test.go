package cgroups

import (
	"math"
	"reflect"
	"strings"
	"testing"

	cg "github.com/opencontainers/cgroups"
	devconfig "github.com/opencontainers/cgroups/devices/config"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func p[T any](v T) *T { return &v }

func TestResourcesNil(t *testing.T) {
	for _, in := range []*specs.LinuxResources{nil, {}} {
		res, err := Resources(in)
		if err != nil {
			t.Fatal(err)
		}
		want := &cg.Resources{Devices: defaultRules(nil)}
		if !reflect.DeepEqual(res, want) {
			t.Errorf("Resources(%v) = %+v, want only default devices", in, res)
		}
	}
}

func TestResourcesMemory(t *testing.T) {
	res := mustResources(t, &specs.LinuxResources{Memory: &specs.LinuxMemory{
		Limit: p[int64](100 << 20), Reservation: p[int64](50 << 20), Swap: p[int64](200 << 20),
		Kernel: p[int64](1 << 20), KernelTCP: p[int64](1 << 20), Swappiness: p[uint64](30),
		DisableOOMKiller: p(true), UseHierarchy: p(true), CheckBeforeUpdate: p(true),
	}})
	if res.Memory != 100<<20 || res.MemoryReservation != 50<<20 || res.MemorySwap != 200<<20 {
		t.Errorf("limits: %d %d %d", res.Memory, res.MemoryReservation, res.MemorySwap)
	}
	if res.MemorySwappiness == nil || *res.MemorySwappiness != 30 {
		t.Errorf("swappiness: %v", res.MemorySwappiness)
	}
	if !res.OomKillDisable || !res.MemoryCheckBeforeUpdate {
		t.Errorf("flags: %v %v", res.OomKillDisable, res.MemoryCheckBeforeUpdate)
	}
}

func TestResourcesMemoryUnlimited(t *testing.T) {
	res := mustResources(t, &specs.LinuxResources{Memory: &specs.LinuxMemory{
		Limit: p[int64](-1), Swap: p[int64](-1), Swappiness: p(uint64(math.MaxUint64)),
	}})
	if res.Memory != -1 || res.MemorySwap != -1 || *res.MemorySwappiness != math.MaxUint64 {
		t.Errorf("got %d %d %d", res.Memory, res.MemorySwap, *res.MemorySwappiness)
	}
	// Swap below an unlimited memory limit is fine.
	mustResources(t, &specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: p[int64](-1), Swap: p[int64](5)}})
}

func TestResourcesCPU(t *testing.T) {
	res := mustResources(t, &specs.LinuxResources{CPU: &specs.LinuxCPU{
		Shares: p[uint64](1024), Quota: p[int64](50000), Burst: p[uint64](1000), Period: p[uint64](100000),
		RealtimeRuntime: p[int64](950), RealtimePeriod: p[uint64](1000000),
		Cpus: "0-1,3", Mems: "0", Idle: p[int64](1),
	}})
	want := cg.Resources{
		CpuShares: 1024, CpuWeight: 100, CpuQuota: 50000, CpuBurst: p[uint64](1000), CpuPeriod: 100000,
		CpuRtRuntime: 950, CpuRtPeriod: 1000000, CpusetCpus: "0-1,3", CpusetMems: "0", CPUIdle: p[int64](1),
		Devices: res.Devices,
	}
	if !reflect.DeepEqual(*res, want) {
		t.Errorf("got %+v\nwant %+v", *res, want)
	}
	res = mustResources(t, &specs.LinuxResources{CPU: &specs.LinuxCPU{Quota: p[int64](-1), RealtimeRuntime: p[int64](-1)}})
	if res.CpuQuota != -1 || res.CpuRtRuntime != -1 {
		t.Errorf("unlimited: %d %d", res.CpuQuota, res.CpuRtRuntime)
	}
}

func TestResourcesPids(t *testing.T) {
	for _, v := range []int64{-1, 0, 42} {
		spec := &specs.LinuxPids{Limit: p(v)}
		res := mustResources(t, &specs.LinuxResources{Pids: spec})
		if res.PidsLimit == nil || *res.PidsLimit != v || res.PidsLimit == spec.Limit {
			t.Errorf("pids %d: got %v (must be a copy)", v, res.PidsLimit)
		}
	}
	if res := mustResources(t, &specs.LinuxResources{Pids: &specs.LinuxPids{}}); res.PidsLimit != nil {
		t.Errorf("nil limit must stay nil (keep current), got %d", *res.PidsLimit)
	}
}

func TestResourcesBlockIO(t *testing.T) {
	dev := func(maj, min int64) specs.LinuxBlockIODevice { return specs.LinuxBlockIODevice{Major: maj, Minor: min} }
	res := mustResources(t, &specs.LinuxResources{BlockIO: &specs.LinuxBlockIO{
		Weight: p[uint16](500), LeafWeight: p[uint16](300),
		WeightDevice: []specs.LinuxWeightDevice{
			{LinuxBlockIODevice: dev(8, 0), Weight: p[uint16](100), LeafWeight: p[uint16](50)},
			{LinuxBlockIODevice: dev(8, 16), Weight: p[uint16](200)},
		},
		ThrottleReadBpsDevice:   []specs.LinuxThrottleDevice{{LinuxBlockIODevice: dev(8, 0), Rate: 1}},
		ThrottleWriteBpsDevice:  []specs.LinuxThrottleDevice{{LinuxBlockIODevice: dev(8, 0), Rate: 2}},
		ThrottleReadIOPSDevice:  []specs.LinuxThrottleDevice{{LinuxBlockIODevice: dev(8, 0), Rate: 3}},
		ThrottleWriteIOPSDevice: []specs.LinuxThrottleDevice{{LinuxBlockIODevice: dev(8, 0), Rate: 4}},
	}})
	want := cg.Resources{
		BlkioWeight: 500, BlkioLeafWeight: 300,
		BlkioWeightDevice:            []*cg.WeightDevice{cg.NewWeightDevice(8, 0, 100, 50), cg.NewWeightDevice(8, 16, 200, 0)},
		BlkioThrottleReadBpsDevice:   []*cg.ThrottleDevice{cg.NewThrottleDevice(8, 0, 1)},
		BlkioThrottleWriteBpsDevice:  []*cg.ThrottleDevice{cg.NewThrottleDevice(8, 0, 2)},
		BlkioThrottleReadIOPSDevice:  []*cg.ThrottleDevice{cg.NewThrottleDevice(8, 0, 3)},
		BlkioThrottleWriteIOPSDevice: []*cg.ThrottleDevice{cg.NewThrottleDevice(8, 0, 4)},
		Devices:                      res.Devices,
	}
	if !reflect.DeepEqual(*res, want) {
		t.Errorf("got %+v\nwant %+v", *res, want)
	}
}

func TestResourcesHugepagesNetworkRdmaUnified(t *testing.T) {
	in := &specs.LinuxResources{
		HugepageLimits: []specs.LinuxHugepageLimit{{Pagesize: "2MB", Limit: 1 << 21}, {Pagesize: "1GB", Limit: 0}},
		Network: &specs.LinuxNetwork{ClassID: p[uint32](0x100001), Priorities: []specs.LinuxInterfacePriority{
			{Name: "eth0", Priority: 5}, {Name: "lo", Priority: 1},
		}},
		Rdma:    map[string]specs.LinuxRdma{"mlx5_0": {HcaHandles: p[uint32](3)}, "mlx5_1": {HcaObjects: p[uint32](9)}},
		Unified: map[string]string{"memory.high": "1G", "io.weight": "default 50"},
	}
	res := mustResources(t, in)
	want := cg.Resources{
		HugetlbLimit:     []*cg.HugepageLimit{{Pagesize: "2MB", Limit: 1 << 21}, {Pagesize: "1GB"}},
		NetClsClassid:    0x100001,
		NetPrioIfpriomap: []*cg.IfPrioMap{{Interface: "eth0", Priority: 5}, {Interface: "lo", Priority: 1}},
		Rdma:             map[string]cg.LinuxRdma{"mlx5_0": {HcaHandles: p[uint32](3)}, "mlx5_1": {HcaObjects: p[uint32](9)}},
		Unified:          map[string]string{"memory.high": "1G", "io.weight": "default 50"},
		Devices:          res.Devices,
	}
	if !reflect.DeepEqual(*res, want) {
		t.Errorf("got %+v\nwant %+v", *res, want)
	}
	// The result must not alias the spec.
	in.Unified["memory.high"] = "2G"
	*in.Rdma["mlx5_0"].HcaHandles = 7
	if res.Unified["memory.high"] != "1G" || *res.Rdma["mlx5_0"].HcaHandles != 3 {
		t.Error("result aliases the spec")
	}
}

// An empty unified map must stay nil: v1 managers reject any non-nil map.
func TestResourcesEmptyUnifiedStaysNil(t *testing.T) {
	res := mustResources(t, &specs.LinuxResources{Unified: map[string]string{}})
	if res.Unified != nil {
		t.Error("empty unified map became non-nil")
	}
}

func TestResourcesDevices(t *testing.T) {
	res := mustResources(t, &specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{
		{Allow: false, Access: "rwm"},
		{Allow: true, Type: "c", Major: p[int64](10), Minor: p[int64](229), Access: "rw"},
		{Allow: true, Type: "b", Major: p[int64](8), Access: "r"},
		{Allow: false, Type: "a", Minor: p[int64](1), Access: "m"},
	}})
	want := []*devconfig.Rule{
		{Type: 'a', Major: -1, Minor: -1, Permissions: "rwm", Allow: false},
		{Type: 'c', Major: 10, Minor: 229, Permissions: "rw", Allow: true},
		{Type: 'b', Major: 8, Minor: -1, Permissions: "r", Allow: true},
		{Type: 'a', Major: -1, Minor: 1, Permissions: "m", Allow: false},
	}
	want = append(want, defaultRules(nil)...)
	if !reflect.DeepEqual(res.Devices, want) {
		t.Errorf("got %s\nwant %s", rulesString(res.Devices), rulesString(want))
	}
}

func TestResourcesErrors(t *testing.T) {
	mem := func(m specs.LinuxMemory) *specs.LinuxResources { return &specs.LinuxResources{Memory: &m} }
	cpu := func(c specs.LinuxCPU) *specs.LinuxResources { return &specs.LinuxResources{CPU: &c} }
	blk := func(b specs.LinuxBlockIO) *specs.LinuxResources { return &specs.LinuxResources{BlockIO: &b} }
	dev := func(d specs.LinuxDeviceCgroup) *specs.LinuxResources {
		return &specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{{Access: "rwm"}, d}}
	}
	for want, in := range map[string]*specs.LinuxResources{
		"memory.limit -5: ":                             mem(specs.LinuxMemory{Limit: p[int64](-5)}),
		"memory.reservation -2: ":                       mem(specs.LinuxMemory{Reservation: p[int64](-2)}),
		"memory.swap -3: ":                              mem(specs.LinuxMemory{Swap: p[int64](-3)}),
		"memory.swap 100: must be >= memory.limit 200":  mem(specs.LinuxMemory{Limit: p[int64](200), Swap: p[int64](100)}),
		"memory.swappiness 101: ":                       mem(specs.LinuxMemory{Swappiness: p[uint64](101)}),
		"cpu.shares 1: ":                                cpu(specs.LinuxCPU{Shares: p[uint64](1)}),
		"cpu.shares 262145: ":                           cpu(specs.LinuxCPU{Shares: p[uint64](262145)}),
		"cpu.quota -2: ":                                cpu(specs.LinuxCPU{Quota: p[int64](-2)}),
		"cpu.quota 999: ":                               cpu(specs.LinuxCPU{Quota: p[int64](999)}),
		"cpu.period 999: ":                              cpu(specs.LinuxCPU{Period: p[uint64](999)}),
		"cpu.period 1000001: ":                          cpu(specs.LinuxCPU{Period: p[uint64](1000001)}),
		"cpu.realtimeRuntime -2: ":                      cpu(specs.LinuxCPU{RealtimeRuntime: p[int64](-2)}),
		"cpu.idle 2: ":                                  cpu(specs.LinuxCPU{Idle: p[int64](2)}),
		`cpu.cpus "0-": `:                               cpu(specs.LinuxCPU{Cpus: "0-"}),
		`cpu.cpus "3-1": `:                              cpu(specs.LinuxCPU{Cpus: "3-1"}),
		`cpu.mems "a": `:                                cpu(specs.LinuxCPU{Mems: "a"}),
		"blockIO.weight 1001: ":                         blk(specs.LinuxBlockIO{Weight: p[uint16](1001)}),
		"blockIO.leafWeight 2000: ":                     blk(specs.LinuxBlockIO{LeafWeight: p[uint16](2000)}),
		"blockIO.weightDevice[0].weight 1001: ":         blk(specs.LinuxBlockIO{WeightDevice: []specs.LinuxWeightDevice{{Weight: p[uint16](1001)}}}),
		"blockIO.weightDevice[0].leafWeight 1001: ":     blk(specs.LinuxBlockIO{WeightDevice: []specs.LinuxWeightDevice{{LeafWeight: p[uint16](1001)}}}),
		"blockIO.weightDevice[0].major -1: ":            blk(specs.LinuxBlockIO{WeightDevice: []specs.LinuxWeightDevice{{LinuxBlockIODevice: specs.LinuxBlockIODevice{Major: -1}}}}),
		"blockIO.throttleWriteIOPSDevice[1].minor -1: ": blk(specs.LinuxBlockIO{ThrottleWriteIOPSDevice: []specs.LinuxThrottleDevice{{}, {LinuxBlockIODevice: specs.LinuxBlockIODevice{Minor: -1}}}}),
		`hugepageLimits[0].pageSize "2M": `:             {HugepageLimits: []specs.LinuxHugepageLimit{{Pagesize: "2M"}}},
		`hugepageLimits[0].pageSize "": `:               {HugepageLimits: []specs.LinuxHugepageLimit{{}}},
		`network.priorities[0].name "": `:               {Network: &specs.LinuxNetwork{Priorities: []specs.LinuxInterfacePriority{{}}}},
		`rdma "": `:                                     {Rdma: map[string]specs.LinuxRdma{"": {}}},
		`unified "../memory.max": `:                     {Unified: map[string]string{"../memory.max": "1"}},
		`devices[1].type "u": `:                         dev(specs.LinuxDeviceCgroup{Type: "u", Access: "r"}),
		`devices[1].access "": `:                        dev(specs.LinuxDeviceCgroup{Type: "c"}),
		`devices[1].access "rx": `:                      dev(specs.LinuxDeviceCgroup{Access: "rx"}),
		"devices[1].major -2: ":                         dev(specs.LinuxDeviceCgroup{Major: p[int64](-2), Access: "r"}),
		"devices[1].minor 4294967296: ":                 dev(specs.LinuxDeviceCgroup{Minor: p[int64](1 << 32), Access: "r"}),
	} {
		_, err := Resources(in)
		if err == nil || !strings.HasPrefix(err.Error(), "linux.resources."+want) {
			t.Errorf("want %q, got %v", "linux.resources."+want, err)
		}
	}
}

func TestValidCPUList(t *testing.T) {
	for s, ok := range map[string]bool{
		"": true, "0": true, "0-3": true, "0-3,5,7-8": true, "1-1": true,
		",": false, "0,": false, "-1": false, "1 - 2": false, "0-3-4": false, "x": false,
	} {
		if validCPUList(s) != ok {
			t.Errorf("validCPUList(%q) != %v", s, ok)
		}
	}
}

func mustResources(t *testing.T, in *specs.LinuxResources) *cg.Resources {
	t.Helper()
	res, err := Resources(in)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func rulesString(rules []*devconfig.Rule) string {
	var s []string
	for _, r := range rules {
		allow := "deny "
		if r.Allow {
			allow = "allow "
		}
		s = append(s, allow+r.CgroupString())
	}
	return strings.Join(s, "; ")
}
