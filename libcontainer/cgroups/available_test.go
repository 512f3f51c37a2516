package cgroups

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	cg "github.com/opencontainers/cgroups"
)

// pathsManager is a cg.Manager that only knows its paths (all that
// checkAvailable asks).
type pathsManager struct {
	cg.Manager
	paths map[string]string
}

func (p pathsManager) Path(s string) string { return p.paths[s] }

func fakeHost(t *testing.T, v2 bool, sizes ...string) {
	t.Helper()
	savedMode, savedSizes := unifiedMode, hugePageSizes
	t.Cleanup(func() { unifiedMode, hugePageSizes = savedMode, savedSizes })
	unifiedMode = func() bool { return v2 }
	hugePageSizes = func() []string { return sizes }
}

func TestNeedsV1AndV2(t *testing.T) {
	r := &cg.Resources{Memory: 1, MemorySwappiness: ptr[uint64](10), CpuRtRuntime: 5, PidsLimit: ptr[int64](3),
		BlkioLeafWeight: 10, HugetlbLimit: []*cg.HugepageLimit{{Pagesize: "2MB", Limit: 1}}, NetClsClassid: 7}
	field := func(ns []need) string {
		var s []string
		for _, n := range ns {
			s = append(s, n.ctl+":"+n.String())
		}
		return strings.Join(s, ", ")
	}
	want1 := `memory:memory.limit 1, memory:memory.swappiness 10, cpu:cpu.realtimeRuntime 5, pids:pids.limit 3, blkio:blockIO.leafWeight 10, hugetlb:hugepageLimits[0] "2MB", net_cls:network.classID 7`
	if got := field(needs(r, false)); got != want1 {
		t.Errorf("v1:\n got %s\nwant %s", got, want1)
	}
	// v2 has no swappiness, realtime or leaf weight files: the library skips them
	want2 := `memory:memory.limit 1, pids:pids.limit 3, hugetlb:hugepageLimits[0] "2MB", net_cls:network.classID 7`
	if got := field(needs(r, true)); got != want2 {
		t.Errorf("v2:\n got %s\nwant %s", got, want2)
	}
	if n := needs(&cg.Resources{}, true); len(n) != 0 {
		t.Errorf("empty resources need %v", n)
	}
	// -1 cast to uint64 is how some engines say "unset"
	if n := needs(&cg.Resources{MemorySwappiness: ptr(^uint64(0))}, false); len(n) != 0 {
		t.Errorf("unset swappiness needs %v", n)
	}
}

func TestCheckAvailableV1(t *testing.T) {
	fakeHost(t, false, "2MB", "1GB")
	m := manager{pathsManager{paths: map[string]string{"memory": "/x/memory/c", "pids": "/x/pids/c"}}}
	for _, c := range []struct {
		r    *cg.Resources
		want string
	}{
		{&cg.Resources{Memory: 1 << 20, PidsLimit: ptr[int64](5)}, ""},
		{&cg.Resources{HugetlbLimit: []*cg.HugepageLimit{{Pagesize: "2MB", Limit: 4096}}},
			`hugepageLimits[0] "2MB": no cgroup v1 hugetlb hierarchy is mounted on this host`},
		{&cg.Resources{NetPrioIfpriomap: []*cg.IfPrioMap{{Interface: "lo", Priority: 1}}},
			`network.priorities[0] "lo": no cgroup v1 net_prio hierarchy is mounted on this host`},
		{&cg.Resources{HugetlbLimit: []*cg.HugepageLimit{{Pagesize: "3MB", Limit: 4096}}},
			`hugepageLimits[0].pageSize "3MB": not a huge page size of this host (it has 2MB, 1GB)`},
		{&cg.Resources{Unified: map[string]string{"pids.max": "4", "cgroup.max.depth": "2"}},
			`unified ["cgroup.max.depth" "pids.max"]: cgroup v2 keys cannot be applied on this cgroup v1 host`},
	} {
		err := m.checkAvailable(c.r)
		if c.want == "" {
			if err != nil {
				t.Errorf("%+v: %v", c.r, err)
			}
			continue
		}
		if err == nil || !strings.HasPrefix(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("got %v\nwant %s", err, c.want)
		}
	}
}

func TestCheckAvailableNoHugePages(t *testing.T) {
	fakeHost(t, false)
	m := manager{pathsManager{paths: map[string]string{"hugetlb": "/x"}}}
	err := m.checkAvailable(&cg.Resources{HugetlbLimit: []*cg.HugepageLimit{{Pagesize: "2MB"}}})
	if err == nil || err.Error() != `hugepageLimits[0].pageSize "2MB": this host has no huge pages (no /sys/kernel/mm/hugepages)` {
		t.Errorf("err = %v", err)
	}
}

func TestCheckAvailableV2(t *testing.T) {
	fakeHost(t, true, "2MB")
	dir := t.TempDir()
	for f, data := range map[string]string{"cgroup.controllers": "hugetlb pids\n", "cgroup.max.depth": "max\n", "hugetlb.2MB.max": "max\n", "pids.max": "max\n"} {
		if err := os.WriteFile(filepath.Join(dir, f), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	m := manager{pathsManager{paths: map[string]string{"": dir}}}
	for _, c := range []struct {
		r    *cg.Resources
		want string
	}{
		{&cg.Resources{PidsLimit: ptr[int64](5), HugetlbLimit: []*cg.HugepageLimit{{Pagesize: "2MB", Limit: 1}},
			Unified: map[string]string{"cgroup.max.depth": "1", "hugetlb.2MB.max": "0"}}, ""},
		// swappiness and the OOM killer switch have no v2 files: the library skips them
		{&cg.Resources{MemorySwappiness: ptr[uint64](5), OomKillDisable: true}, ""},
		{&cg.Resources{Memory: 1 << 20},
			`memory.limit 1048576: the memory controller is not available in cgroup ` + dir + ` (cgroup.controllers: "hugetlb pids")`},
		{&cg.Resources{CpuWeight: 100}, `cpu.shares 0: the cpu controller is not available`},
		{&cg.Resources{NetClsClassid: 1}, `network.classID 1: cgroup v2 has no net_cls controller (it exists only in cgroup v1)`},
		{&cg.Resources{Unified: map[string]string{"memory.max": "1G"}},
			`unified["memory.max"] "1G": the memory controller is not available in cgroup ` + dir},
		{&cg.Resources{Unified: map[string]string{"cgroup.nonsense": "1"}},
			`unified["cgroup.nonsense"] "1": no such file in cgroup ` + dir},
		{&cg.Resources{Unified: map[string]string{"hugetlb.3MB.max": "1"}},
			`unified["hugetlb.3MB.max"] "1": no such file in cgroup ` + dir},
	} {
		err := m.checkAvailable(c.r)
		if c.want == "" {
			if err != nil {
				t.Errorf("%+v: %v", c.r, err)
			}
			continue
		}
		if err == nil || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("got %v\nwant %s", err, c.want)
		}
	}
}

func TestNewRefusesUnifiedOnV1(t *testing.T) {
	fakeHost(t, false)
	_, err := New(&cg.Cgroup{Path: "/x", Resources: &cg.Resources{Unified: map[string]string{"cgroup.max.depth": "1"}}})
	if err == nil || !strings.HasPrefix(err.Error(), `linux.resources.unified ["cgroup.max.depth"]: cgroup v2 keys cannot be applied on this cgroup v1 host`) {
		t.Errorf("err = %v", err)
	}
}

func TestUnifiedWriteErrNamesTheKey(t *testing.T) {
	u := map[string]string{"cgroup.max.depth": "abc"}
	err := unifiedWriteErr(&os.PathError{Op: "write", Path: "/sys/fs/cgroup/x/cgroup.max.depth", Err: syscall.EINVAL}, u)
	if err.Error() != `unified["cgroup.max.depth"] "abc": write /sys/fs/cgroup/x/cgroup.max.depth: invalid argument` || !errors.Is(err, syscall.EINVAL) {
		t.Errorf("err = %v", err)
	}
	other := errors.New("x")
	if unifiedWriteErr(other, u) != other {
		t.Error("an error that is not about a key was changed")
	}
}
