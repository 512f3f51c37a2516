package cgroupv1

import (
	"reflect"
	"testing"
)

const procCgroups = "#subsys_name\thierarchy\tnum_cgroups\tenabled\n" +
	"cpuset\t3\t29\t1\ncpu\t1\t29\t1\ncpuacct\t2\t29\t1\nnet_cls\t0\t116\t1\nperf_event\t0\t116\t1\n" +
	"net_prio\t0\t116\t1\nhugetlb\t0\t116\t1\nrdma\t0\t1\t0\n"

func TestParseProcCgroups(t *testing.T) {
	m, order, err := parseProcCgroups(procCgroups)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"cpuset", "cpu", "cpuacct", "net_cls", "perf_event", "net_prio", "hugetlb", "rdma"}; !reflect.DeepEqual(order, want) {
		t.Errorf("order %q", order)
	}
	if c := m["hugetlb"]; c.hierarchy != 0 || c.cgroups != 116 || !c.enabled {
		t.Errorf("hugetlb %+v", c)
	}
	if m["rdma"].enabled {
		t.Error("rdma enabled")
	}
	if _, _, err := parseProcCgroups("memory\tx\t1\t1\n"); err == nil {
		t.Error("bad line accepted")
	}
}

func TestGroupFreeAsSystemdMounts(t *testing.T) {
	got := groupFree([]string{"net_cls", "perf_event", "net_prio", "hugetlb"})
	want := [][]string{{"net_cls", "net_prio"}, {"perf_event"}, {"hugetlb"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
	// a pair member alone is mounted alone
	if got := groupFree([]string{"net_prio", "cpuacct"}); !reflect.DeepEqual(got, [][]string{{"net_prio"}, {"cpuacct"}}) {
		t.Errorf("got %q", got)
	}
}

func TestSuperControllers(t *testing.T) {
	m, _, _ := parseProcCgroups(procCgroups)
	for super, want := range map[string]struct {
		ctrls []string
		data  string
	}{
		"rw,cpu,cpuacct":        {[]string{"cpu", "cpuacct"}, "cpu,cpuacct"},
		"rw,xattr,name=systemd": {nil, "xattr,name=systemd"},
		"ro,net_cls,net_prio":   {[]string{"net_cls", "net_prio"}, "net_cls,net_prio"},
	} {
		ctrls, data := superControllers(super, m)
		if !reflect.DeepEqual(ctrls, want.ctrls) || data != want.data {
			t.Errorf("%s: got %q %q, want %q %q", super, ctrls, data, want.ctrls, want.data)
		}
	}
}

func TestParseMountinfoAndFlags(t *testing.T) {
	ms := parseMountinfo("31 23 0:28 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 - tmpfs tmpfs ro,mode=755\n" +
		"32 31 0:29 / /sys/fs/cgroup/cpu\\054cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct\n")
	if len(ms) != 2 || ms[0].optional != "shared:9" || ms[1].point != "/sys/fs/cgroup/cpu,cpuacct" || ms[1].dev != "0:29" || ms[1].super != "rw,cpu,cpuacct" {
		t.Fatalf("%+v", ms)
	}
	if err := checkPrivate(ms[:1]); err == nil {
		t.Error("a shared /sys/fs/cgroup was accepted")
	}
	const want = 0x2 | 0x4 | 0x8 | 1<<21 // nosuid nodev noexec relatime
	if fl := mountFlags(ms[0].opts); fl != want {
		t.Errorf("flags %#x, want %#x", fl, want)
	}
}

func TestLastByDir(t *testing.T) {
	hs := lastByDir([]Hierarchy{{Dir: "cpu", dev: "1"}, {Dir: "memory"}, {Dir: "cpu", dev: "2"}})
	if len(hs) != 2 || hs[0].Dir != "memory" || hs[1].dev != "2" {
		t.Errorf("%+v", hs)
	}
}

func TestRecordedGroup(t *testing.T) {
	m, _, _ := parseProcCgroups("hugetlb\t14\t3\t1\nnet_cls\t0\t1\t1\n")
	r := record{Hierarchies: []recorded{{Controllers: []string{"hugetlb"}, ID: 14}, {Controllers: []string{"net_cls", "net_prio"}, ID: 12}}}
	if g := r.recordedGroup("hugetlb", m); g == nil || g.ID != 14 {
		t.Errorf("hugetlb: %+v", g)
	}
	// net_cls went back to hierarchy 0: the record is stale
	if g := r.recordedGroup("net_cls", m); g != nil {
		t.Errorf("stale record used: %+v", g)
	}
}
