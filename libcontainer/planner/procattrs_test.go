package planner

import (
	"slices"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/oci-rt/oci-rt/libcontainer/plan"
)

func TestParseList(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		in   string
		want []uint64
		err  string
	}{
		{"", nil, ""},
		{"0", []uint64{1}, ""},
		{"0-3,7", []uint64{0x8f}, ""},
		{" 1 , 3-4 ,", []uint64{0x1a}, ""},
		{"64", []uint64{0, 1}, ""},
		{"3-1", nil, `range "3-1": ends before it starts`},
		{"x", nil, `"x": not a number`},
		{"1024", nil, "1024: above the highest this runtime takes (1023)"},
	} {
		got, err := ParseList(c.in, 1024)
		if c.err != "" {
			if err == nil || err.Error() != c.err {
				t.Errorf("ParseList(%q): %v, want %q", c.in, err, c.err)
			}
			continue
		}
		if err != nil || !slices.Equal(got, c.want) {
			t.Errorf("ParseList(%q) = %x %v, want %x", c.in, got, err, c.want)
		}
	}
}

func TestProcessAttrsRefused(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	for _, c := range []struct {
		edit func(*specs.Process)
		want string
	}{
		{func(p *specs.Process) { p.Scheduler = &specs.Scheduler{Policy: "SCHED_X"} }, `process.scheduler.policy "SCHED_X": unknown policy`},
		{func(p *specs.Process) {
			p.Scheduler = &specs.Scheduler{Policy: specs.SchedOther, Flags: []specs.LinuxSchedulerFlag{"SCHED_FLAG_X"}}
		}, `process.scheduler.flags[0] "SCHED_FLAG_X": unknown flag`},
		{func(p *specs.Process) { p.Scheduler = &specs.Scheduler{Policy: specs.SchedBatch, Nice: -21} }, "process.scheduler.nice -21: out of range"},
		{func(p *specs.Process) { p.Scheduler = &specs.Scheduler{Policy: specs.SchedOther, Priority: 5} }, "process.scheduler.priority 5: only SCHED_FIFO and SCHED_RR"},
		{func(p *specs.Process) { p.Scheduler = &specs.Scheduler{Policy: specs.SchedRR} }, "process.scheduler.priority 0: SCHED_RR needs 1 to 99"},
		{func(p *specs.Process) {
			p.Scheduler = &specs.Scheduler{Policy: specs.SchedFIFO, Priority: 1, Period: 5}
		}, "process.scheduler.runtime/deadline/period: only SCHED_DEADLINE"},
		{func(p *specs.Process) { p.IOPriority = &specs.LinuxIOPriority{Class: "IOPRIO_CLASS_X"} }, `process.ioPriority.class "IOPRIO_CLASS_X"`},
		{func(p *specs.Process) {
			p.IOPriority = &specs.LinuxIOPriority{Class: specs.IOPRIO_CLASS_BE, Priority: -1}
		}, "process.ioPriority.priority -1"},
		{func(p *specs.Process) { p.ExecCPUAffinity = &specs.CPUAffinity{Initial: "a"} }, `process.execCPUAffinity.initial "a": "a": not a number`},
		{func(p *specs.Process) { p.ExecCPUAffinity = &specs.CPUAffinity{Final: ","} }, `process.execCPUAffinity.final ",": no CPU`},
		// exec's --process goes through ResolveProcess only
		{func(p *specs.Process) { p.User.Username = "app" }, `process.user.username "app": a Windows field`},
		{func(p *specs.Process) { p.CommandLine = "cmd.exe" }, "process.commandLine: a Windows field"},
	} {
		p := processTestSpec()
		c.edit(p)
		_, err := ResolveProcess(p, root)
		if err == nil || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("ResolveProcess: %v, want %q", err, c.want)
		}
	}
}

func TestLinuxAttrsRefused(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		l    specs.Linux
		want string
	}{
		{specs.Linux{MemoryPolicy: &specs.LinuxMemoryPolicy{Mode: "MPOL_X"}}, `linux.memoryPolicy.mode "MPOL_X": unknown mode`},
		{specs.Linux{MemoryPolicy: &specs.LinuxMemoryPolicy{Mode: specs.MpolBind}}, "linux.memoryPolicy.nodes: MPOL_BIND needs at least one node"},
		{specs.Linux{MemoryPolicy: &specs.LinuxMemoryPolicy{Mode: specs.MpolLocal, Nodes: "0"}}, `linux.memoryPolicy.nodes "0": MPOL_LOCAL takes no nodes`},
		{specs.Linux{MemoryPolicy: &specs.LinuxMemoryPolicy{Mode: specs.MpolBind, Nodes: "0", Flags: []specs.MemoryPolicyFlagType{"MPOL_F_X"}}}, `linux.memoryPolicy.flags[0] "MPOL_F_X": unknown flag`},
		{specs.Linux{Personality: &specs.LinuxPersonality{Domain: "LINUX64"}}, `linux.personality.domain "LINUX64": unknown domain`},
		{specs.Linux{Personality: &specs.LinuxPersonality{Domain: specs.PerLinux, Flags: []specs.LinuxPersonalityFlag{"X"}}}, `linux.personality.flags[0] "X": the runtime-spec defines no personality flags`},
	} {
		if err := checkLinuxAttrs(&c.l); err == nil || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("checkLinuxAttrs: %v, want %q", err, c.want)
		}
	}
}

// The attributes are set after the rlimits (RLIMIT_RTPRIO may be what
// allows SCHED_FIFO) and before the capabilities and uid change.
func TestBuildProcessAttrs(t *testing.T) {
	t.Parallel()
	in := buildTestInput(t)
	in.Process.Rlimits = []Rlimit{{Resource: unix.RLIMIT_RTPRIO, Soft: 10, Hard: 10, Field: "process.rlimits[0]"}}
	p := processTestSpec()
	p.Scheduler = &specs.Scheduler{Policy: specs.SchedFIFO, Priority: 10, Flags: []specs.LinuxSchedulerFlag{specs.SchedFlagResetOnFork}}
	p.IOPriority = &specs.LinuxIOPriority{Class: specs.IOPRIO_CLASS_BE, Priority: 6}
	pr, err := ResolveProcess(p, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	in.Process.Scheduler, in.Process.IOPriority = pr.Scheduler, pr.IOPriority
	in.Spec.Linux.Personality = &specs.LinuxPersonality{Domain: specs.PerLinux32}
	in.Spec.Linux.MemoryPolicy = &specs.LinuxMemoryPolicy{Mode: specs.MpolInterleave, Nodes: "0,65", Flags: []specs.MemoryPolicyFlagType{specs.MpolFStaticNodes}}
	pl := buildTestBuild(t, in)
	i := buildTestFind(pl, 0, plan.OpRlimit, "")
	buildTestExpect(t, pl, i, []buildTestOp{
		{plan.OpRlimit, "process.rlimits[0]", []int64{unix.RLIMIT_RTPRIO, 10, 10}, nil},
		{plan.OpSchedAttr, `process.scheduler.policy "SCHED_FIFO"`, []int64{1, 1, 0, 10, 0, 0, 0}, nil},
		{plan.OpIOPrio, "process.ioPriority", []int64{2<<13 | 6}, nil},
		{plan.OpPersonality, `linux.personality.domain "LINUX32"`, []int64{8}, nil},
		{plan.OpMempolicy, `linux.memoryPolicy mode "MPOL_INTERLEAVE" nodes "0,65"`, []int64{unix.MPOL_INTERLEAVE | unix.MPOL_F_STATIC_NODES, 129, 1, 2}, nil},
	})
	if c := buildTestFind(pl, 0, plan.OpCapBset, ""); c < i {
		t.Errorf("the bounding set is dropped at %d, before the attributes at %d", c, i)
	}
	if buildTestCount(pl, plan.OpAffinity) != 0 {
		t.Error("create has an affinity op: execCPUAffinity is exec's")
	}

	// without them, none of their ops
	pl = buildTestBuild(t, buildTestInput(t))
	for _, c := range []plan.Code{plan.OpSchedAttr, plan.OpIOPrio, plan.OpPersonality, plan.OpMempolicy, plan.OpAffinity} {
		if n := buildTestCount(pl, c); n != 0 {
			t.Errorf("a plain config has %d %s ops", n, plan.Op{Code: c})
		}
	}
}

// exec: execCPUAffinity.final once the process is in the cgroup.
func TestBuildExecFinalAffinity(t *testing.T) {
	t.Parallel()
	in := buildTestInput(t)
	in.StartFd = -1
	in.CgroupTasks = []string{"/sys/fs/cgroup/cpu/x/tasks"}
	in.Spec.Process.ExecCPUAffinity = &specs.CPUAffinity{Initial: "0", Final: "1,64"}
	var err error
	if in.Process.Affinity, err = resolveAffinity(in.Spec.Process.ExecCPUAffinity); err != nil {
		t.Fatal(err)
	}
	pl := buildTestBuild(t, in)
	buildTestExpect(t, pl, buildTestFind(pl, 0, plan.OpJoinCgroup, ""), []buildTestOp{
		{plan.OpJoinCgroup, `linux.cgroupsPath ""`, nil, []string{"/sys/fs/cgroup/cpu/x/tasks"}},
		{plan.OpAffinity, `process.execCPUAffinity.final "1,64"`, []int64{2, 1}, nil},
	})
}

func TestRecursiveAtime(t *testing.T) {
	t.Parallel()
	const atime = unix.MOUNT_ATTR__ATIME
	for _, c := range []struct {
		opts     []string
		set, clr uint64
	}{
		{[]string{"rnoatime"}, unix.MOUNT_ATTR_NOATIME, atime},
		{[]string{"rstrictatime"}, unix.MOUNT_ATTR_STRICTATIME, atime},
		{[]string{"rrelatime"}, unix.MOUNT_ATTR_RELATIME, atime},
		{[]string{"rnoatime", "rstrictatime"}, unix.MOUNT_ATTR_STRICTATIME, atime},
		{[]string{"rnoatime", "ratime"}, unix.MOUNT_ATTR_RELATIME, atime},
		{[]string{"rro", "rnostrictatime"}, unix.MOUNT_ATTR_RDONLY, atime},
		{[]string{"rnosymfollow", "rsymfollow"}, 0, unix.MOUNT_ATTR_NOSYMFOLLOW},
	} {
		p := parseMountOptions(c.opts)
		if p.attrSet != c.set || p.attrClr != c.clr || len(p.data) != 0 {
			t.Errorf("%v: set %#x clr %#x data %v, want %#x %#x", c.opts, p.attrSet, p.attrClr, p.data, c.set, c.clr)
		}
	}
	if p := parseMountOptions([]string{"nosymfollow", "symfollow"}); p.flags&unix.MS_NOSYMFOLLOW != 0 {
		t.Error("symfollow does not clear nosymfollow")
	}
}

// Recursive attributes reach a mount that is not a bind; linux.mountLabel
// is SELinux's context= on a tmpfs, not on proc.
func TestBuildMountAttrsAndLabel(t *testing.T) {
	t.Parallel()
	in := buildTestInput(t)
	in.Spec.Linux.MountLabel = "system_u:object_r:container_file_t:s0"
	in.Spec.Mounts = []specs.Mount{
		{Destination: "/proc", Type: "proc", Source: "proc"},
		{Destination: "/tm", Type: "tmpfs", Source: "tmpfs", Options: []string{"size=1k", "rro", "rnoatime"}},
	}
	in.Spec.Linux.MaskedPaths = []string{"/proc/acpi"}
	pl := buildTestBuild(t, in)
	i := buildTestFind(pl, 0, plan.OpMount, `mounts[1] destination "/tm"`)
	buildTestExpect(t, pl, i, []buildTestOp{
		{plan.OpMount, `mounts[1] destination "/tm"`, []int64{0, plan.TargetDir, plan.MountTmpfsMode}, []string{"tmpfs", "/tm", "tmpfs", `size=1k,context="system_u:object_r:container_file_t:s0"`}},
		{plan.OpMountSetattr, `mounts[1] destination "/tm"`, []int64{unix.MOUNT_ATTR_RDONLY | unix.MOUNT_ATTR_NOATIME, unix.MOUNT_ATTR__ATIME}, []string{"/tm"}},
	})
	if j := buildTestFind(pl, 0, plan.OpMount, `mounts[0] destination "/proc"`); pl.Ops[j].Strs[3] != "" {
		t.Errorf("proc got data %q", pl.Ops[j].Strs[3])
	}
	buildTestExpect(t, pl, buildTestFind(pl, 0, plan.OpMask, ""), []buildTestOp{
		{plan.OpMask, `linux.maskedPaths[0] "/proc/acpi"`, nil, []string{"/proc/acpi", `context="system_u:object_r:container_file_t:s0"`}},
	})
}

func TestUserSysctls(t *testing.T) {
	t.Parallel()
	sysctl := map[string]string{"user.max_user_namespaces": "7"}
	if err := checkSysctls(sysctl, &Namespaces{New: unix.CLONE_NEWUSER}); err != nil {
		t.Errorf("with a user namespace: %v", err)
	}
	if err := checkSysctls(sysctl, &Namespaces{Joins: []Join{{Type: specs.UserNamespace}}}); err != nil {
		t.Errorf("with a joined user namespace: %v", err)
	}
	if err := checkSysctls(sysctl, &Namespaces{New: unix.CLONE_NEWNET}); err == nil || !strings.Contains(err.Error(), `linux.sysctl "user.max_user_namespaces"`) {
		t.Errorf("without a user namespace: %v", err)
	}
}

func TestOCIVersion(t *testing.T) {
	t.Parallel()
	s := &specs.Spec{Version: "2.0.0", Root: &specs.Root{Path: "rootfs"}}
	if err := Validate(s, &Namespaces{}); err == nil || !strings.HasPrefix(err.Error(), `ociVersion "2.0.0": oci-rt implements runtime-spec 1.x`) {
		t.Errorf("ociVersion 2.0.0: %v", err)
	}
	s.Version = "1.0.2-dev"
	if err := Validate(s, &Namespaces{}); err != nil {
		t.Errorf("ociVersion 1.0.2-dev: %v", err)
	}
}
