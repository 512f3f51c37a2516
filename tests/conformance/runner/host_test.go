package main

import (
	"reflect"
	"strings"
	"testing"
)

func TestCgroupV1Hierarchies(t *testing.T) {
	mi := `30 25 0:26 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:9 - tmpfs tmpfs ro,mode=755
33 30 0:29 / /sys/fs/cgroup/systemd rw,nosuid shared:11 - cgroup cgroup rw,xattr,name=systemd
36 30 0:32 / /sys/fs/cgroup/memory rw,nosuid shared:14 - cgroup cgroup rw,memory
37 30 0:33 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid shared:15 - cgroup cgroup rw,cpu,cpuacct
38 30 0:28 / /sys/fs/cgroup/unified rw,nosuid shared:10 - cgroup2 cgroup2 rw
39 30 0:32 / /mnt/elsewhere rw - cgroup cgroup rw,memory
`
	got := cgroupV1Hierarchies(mi)
	if want := []string{"cpu,cpuacct", "memory", "systemd"}; !reflect.DeepEqual(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestControllersWithoutHierarchy(t *testing.T) {
	pc := "#subsys_name\thierarchy\tnum_cgroups\tenabled\ncpuset\t3\t5\t1\nnet_cls\t0\t52\t1\nhugetlb\t0\t52\t1\nrdma\t0\t1\t0\n"
	if got := controllersWithoutHierarchy(pc); !reflect.DeepEqual(got, []string{"net_cls", "hugetlb"}) {
		t.Errorf("got %q", got)
	}
}

func TestBoundingSet(t *testing.T) {
	hex, missing := boundingSet("Name:\tx\nCapBnd:\t000001fffeffffff\nCapAmb:\t0\n")
	if hex != "000001fffeffffff" || !reflect.DeepEqual(missing, []string{"CAP_SYS_RESOURCE"}) {
		t.Errorf("got %q %q", hex, missing)
	}
	if _, missing := boundingSet("CapBnd:\t000001ffffffffff\n"); len(missing) != 0 {
		t.Errorf("full set: missing %q", missing)
	}
	h := hostFacts{CgroupV1: []string{"memory"}, CapBnd: "1", AppArmor: "enabled=Y"}
	if s := h.String(); !strings.Contains(s, "caps missing from CapBnd 1: none") || !strings.Contains(s, "AppArmor: enabled=Y") {
		t.Errorf("summary %q", s)
	}
}

func TestSteadyPassesLeavesOutRacyPrograms(t *testing.T) {
	res := []*programResult{
		{Program: "create", Runtime: "oci-rt", Pass: true},
		{Program: "poststart", Runtime: "oci-rt", Pass: true},
		{Program: "start", Runtime: "oci-rt", Pass: false},
		{Program: "create", Runtime: "runc", Pass: true},
	}
	if n := steadyPasses(res, "oci-rt"); n != 1 {
		t.Errorf("steadyPasses = %d, want 1", n)
	}
}

func TestProgramCgroupDirs(t *testing.T) {
	mi := `31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
107 31 0:49 / /sys/fs/cgroup/net_cls,net_prio rw,nosuid - cgroup cgroup rw,net_cls,net_prio
50 23 0:40 / /mnt/memory rw - cgroup cgroup rw,memory
`
	own := "12:net_cls,net_prio:/\n9:name=systemd:/\n4:memory:/process_api/abc\n0::/\n"
	got := programCgroupDirs(mi, own)
	want := []string{
		"/sys/fs/cgroup/memory/process_api/abc/testdir/cgrouptest/container",
		"/sys/fs/cgroup/memory/process_api/abc/testdir/cgrouptest",
		"/sys/fs/cgroup/memory/process_api/abc/testdir",
		"/sys/fs/cgroup/memory/cgrouptest",
		"/sys/fs/cgroup/systemd/testdir/cgrouptest/container",
		"/sys/fs/cgroup/systemd/testdir/cgrouptest",
		"/sys/fs/cgroup/systemd/testdir",
		"/sys/fs/cgroup/systemd/cgrouptest",
		"/sys/fs/cgroup/net_cls,net_prio/testdir/cgrouptest/container",
		"/sys/fs/cgroup/net_cls,net_prio/testdir/cgrouptest",
		"/sys/fs/cgroup/net_cls,net_prio/testdir",
		"/sys/fs/cgroup/net_cls,net_prio/cgrouptest",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
