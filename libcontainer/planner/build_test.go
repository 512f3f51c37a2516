package planner

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/oci-rt/oci-rt/libcontainer/plan"
)

// ---- helpers (prefixed buildTest) ----

// buildTestOp is an expected op; a nil Ints/Strs matches an empty one.
type buildTestOp struct {
	code  plan.Code
	field string
	ints  []int64
	strs  []string
}

func buildTestDump(p *plan.Plan) string {
	var b strings.Builder
	for i, o := range p.Ops {
		fmt.Fprintf(&b, "  %2d %-60s %s\n", i, o.Field, o)
	}
	return b.String()
}

func buildTestSame(o plan.Op, w buildTestOp) bool {
	eq := func(a, b any, n, m int) bool { return (n == 0 && m == 0) || reflect.DeepEqual(a, b) }
	return o.Code == w.code && o.Field == w.field &&
		eq(o.Ints, w.ints, len(o.Ints), len(w.ints)) && eq(o.Strs, w.strs, len(o.Strs), len(w.strs))
}

// buildTestExpect checks that p.Ops[from:] starts with want, op for op.
func buildTestExpect(t *testing.T, p *plan.Plan, from int, want []buildTestOp) {
	t.Helper()
	if from < 0 {
		t.Fatalf("start op not found in\n%s", buildTestDump(p))
	}
	for k, w := range want {
		i := from + k
		if i >= len(p.Ops) {
			t.Fatalf("plan ends at %d, want op %d: %s %q %v %q\n%s", len(p.Ops), i, plan.Op{Code: w.code}, w.field, w.ints, w.strs, buildTestDump(p))
		}
		if !buildTestSame(p.Ops[i], w) {
			t.Fatalf("op %d is %q %s\nwant %q %s\nplan:\n%s", i, p.Ops[i].Field, p.Ops[i],
				w.field, plan.Op{Code: w.code, Ints: w.ints, Strs: w.strs}, buildTestDump(p))
		}
	}
}

// buildTestFind returns the index of the first op with code (and field, if
// not empty) at or after from, or -1.
func buildTestFind(p *plan.Plan, from int, code plan.Code, field string) int {
	for i := max(from, 0); i < len(p.Ops); i++ {
		if p.Ops[i].Code == code && (field == "" || p.Ops[i].Field == field) {
			return i
		}
	}
	return -1
}

func buildTestCount(p *plan.Plan, code plan.Code) int {
	n := 0
	for _, o := range p.Ops {
		if o.Code == code {
			n++
		}
	}
	return n
}

// buildTestInput is a create of "sh" in new mount and pid namespaces with
// nothing else set; tests edit it.
func buildTestInput(t *testing.T) *Input {
	t.Helper()
	bundle := t.TempDir()
	rootfs := filepath.Join(bundle, "rootfs")
	if err := os.Mkdir(rootfs, 0o755); err != nil {
		t.Fatal(err)
	}
	return &Input{
		Spec: &specs.Spec{
			Root:    &specs.Root{Path: "rootfs"},
			Process: &specs.Process{Args: []string{"sh"}, Env: []string{"PATH=/bin"}, Cwd: "/"},
			Linux:   &specs.Linux{},
		},
		Bundle:       bundle,
		Rootfs:       rootfs,
		Ns:           Namespaces{New: unix.CLONE_NEWNS | unix.CLONE_NEWPID},
		Process:      Process{Args: []string{"sh"}, Env: []string{"PATH=/bin", "HOME=/"}, Cwd: "/", Umask: 0o022, Caps: Caps{Last: 40}},
		NoNewKeyring: true, // TestBuildKeyring covers the keyring op
		ConsoleFd:    -1,
		StartFd:      5,
		FirstCloseFd: 3,
	}
}

func buildTestBuild(t *testing.T, in *Input) *plan.Plan {
	t.Helper()
	p, err := Build(in)
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	return p
}

func buildTestDefaultSymlinks(withPtmx bool) []buildTestOp {
	links := [][2]string{{"/proc/self/fd", "/dev/fd"}, {"/proc/self/fd/0", "/dev/stdin"},
		{"/proc/self/fd/1", "/dev/stdout"}, {"/proc/self/fd/2", "/dev/stderr"}}
	if _, err := os.Stat("/proc/kcore"); err == nil {
		links = append(links, [2]string{"/proc/kcore", "/dev/core"})
	}
	if withPtmx {
		links = append(links, [2]string{"pts/ptmx", "/dev/ptmx"})
	}
	var out []buildTestOp
	for _, l := range links {
		out = append(out, buildTestOp{plan.OpSymlink, "/dev symlink " + l[1], nil, []string{l[0], l[1]}})
	}
	return out
}

func buildTestMode(m os.FileMode) *os.FileMode { return &m }
func buildTestU32(v uint32) *uint32            { return &v }

// ---- namespaces ----

func TestBuildOOMScoreFirst(t *testing.T) {
	t.Parallel()
	in := buildTestInput(t)
	adj := -500
	in.Spec.Process.OOMScoreAdj = &adj
	in.Ns.Joins = []Join{{Type: specs.NetworkNamespace, Path: "/proc/9/ns/net", Field: "net join", Fd: 7}}
	p := buildTestBuild(t, in)
	buildTestExpect(t, p, 0, []buildTestOp{
		{plan.OpWrite, "process.oomScoreAdj", nil, []string{"/proc/self/oom_score_adj", "-500"}},
		{plan.OpSetns, "net join", []int64{7, unix.CLONE_NEWNET}, nil},
	})
	if n := buildTestCount(p, plan.OpWrite); n != 1 {
		t.Errorf("%d write ops, want only the oom score", n)
	}

	in.Spec.Process.OOMScoreAdj = nil
	p = buildTestBuild(t, in)
	if i := buildTestFind(p, 0, plan.OpWrite, "process.oomScoreAdj"); i >= 0 {
		t.Errorf("oom score written without process.oomScoreAdj:\n%s", buildTestDump(p))
	}
}

func TestBuildJoinedUserns(t *testing.T) {
	t.Parallel()
	in := buildTestInput(t)
	in.Ns = Namespaces{
		New: unix.CLONE_NEWNS | unix.CLONE_NEWPID | unix.CLONE_NEWUTS,
		Joins: []Join{
			{Type: specs.IPCNamespace, Field: "ipc join (late)", Fd: 8, Late: true},
			{Type: specs.NetworkNamespace, Field: "net join", Fd: 7},
			{Type: specs.UserNamespace, Field: "user join", Fd: 9},
			{Type: specs.CgroupNamespace, Field: "cgroup join", Fd: 10},
		},
	}
	p := buildTestBuild(t, in)
	buildTestExpect(t, p, 0, []buildTestOp{
		{plan.OpSetns, "net join", []int64{7, unix.CLONE_NEWNET}, nil},
		{plan.OpSetns, "cgroup join", []int64{10, unix.CLONE_NEWCGROUP}, nil},
		{plan.OpSetns, "user join", []int64{9, unix.CLONE_NEWUSER}, nil},
		{plan.OpSetID0, "user join", nil, nil},
		{plan.OpSetns, "ipc join (late)", []int64{8, unix.CLONE_NEWIPC}, nil},
		{plan.OpUnshare, "linux.namespaces", []int64{unix.CLONE_NEWNS | unix.CLONE_NEWPID | unix.CLONE_NEWUTS}, nil},
		{plan.OpFork, "linux.namespaces (entering the pid or time namespace)", nil, nil},
		{plan.OpSetsid, "process", nil, nil},
	})
	if n := buildTestCount(p, plan.OpSync); n != 0 {
		t.Errorf("a joined user namespace needs no maps sync, got %d syncs", n)
	}
}

func TestBuildNewUsernsAndTimeOffsets(t *testing.T) {
	t.Parallel()
	in := buildTestInput(t)
	in.Spec.Linux.TimeOffsets = map[string]specs.LinuxTimeOffset{
		"boottime": {Secs: -7, Nanosecs: 3}, "monotonic": {Secs: 86400},
	}
	in.Ns = Namespaces{
		New:   unix.CLONE_NEWUSER | unix.CLONE_NEWNS | unix.CLONE_NEWTIME | unix.CLONE_NEWNET,
		Joins: []Join{{Type: specs.UTSNamespace, Field: "uts join", Fd: 11, Late: true}, {Type: specs.IPCNamespace, Field: "ipc join", Fd: 12}},
	}
	p := buildTestBuild(t, in)
	buildTestExpect(t, p, 0, []buildTestOp{
		{plan.OpSetns, "ipc join", []int64{12, unix.CLONE_NEWIPC}, nil},
		{plan.OpUnshare, "linux.namespaces user", []int64{unix.CLONE_NEWUSER}, nil},
		{plan.OpSync, "linux.uidMappings", []int64{plan.SyncMaps}, nil},
		{plan.OpSetID0, "linux.uidMappings", nil, nil},
		{plan.OpSetns, "uts join", []int64{11, unix.CLONE_NEWUTS}, nil},
		{plan.OpUnshare, "linux.namespaces", []int64{unix.CLONE_NEWNS | unix.CLONE_NEWTIME | unix.CLONE_NEWNET}, nil},
		// in a user namespace the runtime writes them (runc: its parent)
		{plan.OpSync, "linux.timeOffsets", []int64{plan.SyncTimens}, nil},
		{plan.OpFork, "linux.namespaces (entering the pid or time namespace)", nil, nil},
		{plan.OpSetsid, "process", nil, nil},
	})

	// without one the executor writes its own timens_offsets
	in.Ns = Namespaces{New: unix.CLONE_NEWNS | unix.CLONE_NEWTIME}
	p = buildTestBuild(t, in)
	buildTestExpect(t, p, 0, []buildTestOp{
		{plan.OpUnshare, "linux.namespaces", []int64{unix.CLONE_NEWNS | unix.CLONE_NEWTIME}, nil},
		{plan.OpWrite, "linux.timeOffsets", nil, []string{"/proc/self/timens_offsets", "monotonic 86400 0\nboottime -7 3\n"}},
		{plan.OpFork, "linux.namespaces (entering the pid or time namespace)", nil, nil},
	})
}

func TestBuildForkOnlyForPidOrTime(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name string
		ns   Namespaces
		fork bool
	}{
		{"mount only", Namespaces{New: unix.CLONE_NEWNS}, false},
		{"no pid or time", Namespaces{New: unix.CLONE_NEWNS | unix.CLONE_NEWNET | unix.CLONE_NEWIPC | unix.CLONE_NEWUTS | unix.CLONE_NEWCGROUP}, false},
		{"new user", Namespaces{New: unix.CLONE_NEWNS | unix.CLONE_NEWUSER}, false},
		{"new pid", Namespaces{New: unix.CLONE_NEWNS | unix.CLONE_NEWPID}, true},
		{"new time", Namespaces{New: unix.CLONE_NEWNS | unix.CLONE_NEWTIME}, true},
		{"joined pid", Namespaces{New: unix.CLONE_NEWNS, Joins: []Join{{Type: specs.PIDNamespace, Field: "pid join", Fd: 7}}}, true},
		{"joined time", Namespaces{New: unix.CLONE_NEWNS, Joins: []Join{{Type: specs.TimeNamespace, Field: "time join", Fd: 7}}}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			in := buildTestInput(t)
			in.Ns = c.ns
			p := buildTestBuild(t, in)
			fork := buildTestFind(p, 0, plan.OpFork, "")
			if (fork >= 0) != c.fork {
				t.Fatalf("fork op at %d, want fork=%v\n%s", fork, c.fork, buildTestDump(p))
			}
			if buildTestCount(p, plan.OpFork) > 1 {
				t.Errorf("more than one fork:\n%s", buildTestDump(p))
			}
			// the fork comes after every namespace op and before setsid
			setsid := buildTestFind(p, 0, plan.OpSetsid, "")
			for i := 0; i < setsid; i++ {
				if c := p.Ops[i].Code; fork >= 0 && i > fork && (c == plan.OpSetns || c == plan.OpUnshare) {
					t.Errorf("namespace op %d after the fork:\n%s", i, buildTestDump(p))
				}
			}
			if fork >= 0 && fork != setsid-1 {
				t.Errorf("fork at %d, setsid at %d: want the fork right before setsid\n%s", fork, setsid, buildTestDump(p))
			}
		})
	}
}

func TestBuildTimeNsWithoutOffsets(t *testing.T) {
	t.Parallel()
	in := buildTestInput(t)
	in.Ns.New |= unix.CLONE_NEWTIME
	p := buildTestBuild(t, in)
	if i := buildTestFind(p, 0, plan.OpWrite, "linux.timeOffsets"); i >= 0 {
		t.Errorf("timens_offsets written without linux.timeOffsets:\n%s", buildTestDump(p))
	}
}

// TestBuildSharedMountNs: without a mount namespace of its own (none, or a
// joined one) the rootfs is bound, made private so that nothing mounted
// under it spreads, and entered with a plain chroot: no propagation change
// of "/" and no pivot_root, which would affect every process sharing it.
func TestBuildSharedMountNs(t *testing.T) {
	t.Parallel()
	for _, ns := range []Namespaces{
		{New: unix.CLONE_NEWPID},
		{New: unix.CLONE_NEWPID, Joins: []Join{{Type: specs.MountNamespace, Field: "mnt join", Fd: 7}}},
	} {
		in := buildTestInput(t)
		in.Ns = ns
		p, err := Build(in)
		if err != nil {
			t.Fatalf("Namespaces %+v: %v", ns, err)
		}
		var chroot, private, pivot, rootProp bool
		for _, op := range p.Ops {
			switch {
			case op.Code == plan.OpChroot:
				chroot = len(op.Ints) == 1 && op.Ints[0] == 0
			case op.Code == plan.OpPivot:
				pivot = true
			case op.Code == plan.OpMount && len(op.Strs) > 1 && op.Strs[1] == "/" && op.Strs[0] == "":
				rootProp = true
			case op.Code == plan.OpMount && len(op.Strs) > 1 && op.Strs[1] == in.Rootfs && op.Ints[0]&unix.MS_PRIVATE != 0:
				private = true
			}
		}
		if !chroot || pivot || rootProp || !private {
			t.Errorf("Namespaces %+v: chroot %v pivot %v propagation of / %v private rootfs %v\n%s", ns, chroot, pivot, rootProp, private, buildTestDump(p))
		}
	}
}

// With StartFd < 0 (exec into a running container) there is no rootfs
// set-up, hostname, ready or wait: namespaces, then the process.
func TestBuildExecPlan(t *testing.T) {
	t.Parallel()
	in := buildTestInput(t)
	in.StartFd = -1
	in.Spec.Hostname = "box"
	in.Spec.Mounts = []specs.Mount{{Destination: "/proc", Type: "proc", Source: "proc"}}
	in.Spec.Hooks = &specs.Hooks{StartContainer: []specs.Hook{{Path: "/bin/h"}}, Prestart: []specs.Hook{{Path: "/bin/p"}}}
	in.Ns = Namespaces{Joins: []Join{
		{Type: specs.PIDNamespace, Field: "pid", Fd: 7},
		{Type: specs.MountNamespace, Field: "mnt", Fd: 8},
	}}
	p := buildTestBuild(t, in)
	for _, c := range []plan.Code{plan.OpMount, plan.OpOpenRoot, plan.OpPivot, plan.OpChroot, plan.OpMknod, plan.OpSymlink,
		plan.OpSethostname, plan.OpReady, plan.OpWaitStart, plan.OpHook, plan.OpSync, plan.OpUnshare} {
		if i := buildTestFind(p, 0, c, ""); i >= 0 {
			t.Errorf("exec plan has op %d %s:\n%s", i, p.Ops[i], buildTestDump(p))
		}
	}
	buildTestExpect(t, p, 0, []buildTestOp{
		{plan.OpSetns, "pid", []int64{7, unix.CLONE_NEWPID}, nil},
		{plan.OpSetns, "mnt", []int64{8, unix.CLONE_NEWNS}, nil},
		{plan.OpFork, "linux.namespaces (entering the pid or time namespace)", nil, nil},
		{plan.OpSetsid, "process", nil, nil},
		{plan.OpCloseFds, "--preserve-fds", []int64{3}, nil},
	})
	if last := p.Ops[len(p.Ops)-1]; last.Code != plan.OpExec {
		t.Errorf("last op %s, want exec", last)
	}
}

// ---- rootfs ----

func TestBuildRootfs(t *testing.T) {
	t.Parallel()
	in := buildTestInput(t)
	if err := os.Mkdir(filepath.Join(in.Bundle, "data"), 0o755); err != nil {
		t.Fatal(err)
	}
	resolv := filepath.Join(t.TempDir(), "resolv.conf")
	if err := os.WriteFile(resolv, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	s := in.Spec
	s.Hostname, s.Domainname = "box", "example.org"
	s.Root.Readonly = true
	s.Mounts = []specs.Mount{
		{Destination: "/proc", Type: "proc", Source: "proc"},
		{Destination: "/dev", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "strictatime", "mode=755", "size=65536k"}},
		{Destination: "/dev/pts", Type: "devpts", Source: "devpts", Options: []string{"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}},
		{Destination: "/data", Type: "bind", Source: "data", Options: []string{"rbind", "ro", "nosuid", "rprivate"}},
		{Destination: "/etc/resolv.conf", Type: "none", Source: resolv, Options: []string{"bind"}},
		{Destination: "/sys", Type: "sysfs", Source: "sysfs", Options: []string{"nosuid", "noexec", "nodev", "ro", "rslave"}},
	}
	s.Linux.Devices = []specs.LinuxDevice{
		{Path: "/dev/fuse", Type: "c", Major: 10, Minor: 229, FileMode: buildTestMode(0o620), UID: buildTestU32(1), GID: buildTestU32(2)},
		{Path: "/dev/null", Type: "c", Major: 1, Minor: 3},
		{Path: "/dev/sda", Type: "b", Major: 8, Minor: 0, FileMode: buildTestMode(0o4660 | os.ModeDevice)},
		{Path: "/dev/fifo", Type: "p"},
	}
	s.Linux.Sysctl = map[string]string{"net.ipv4.ip_forward": "1", "kernel.shmmax": "100"}
	in.Ns.New |= unix.CLONE_NEWNET | unix.CLONE_NEWIPC // the sysctls' namespaces
	s.Linux.ReadonlyPaths = []string{"/proc/sys", "/proc/sysrq-trigger"}
	s.Linux.MaskedPaths = []string{"/proc/kcore", "/sys/firmware"}
	p := buildTestBuild(t, in)

	rf := fmt.Sprintf("root.path %q", in.Rootfs)
	m := func(i int) string { return fmt.Sprintf("mounts[%d] destination %q", i, s.Mounts[i].Destination) }
	want := []buildTestOp{
		{plan.OpSetsid, "process", nil, nil},
		{plan.OpMount, "linux.rootfsPropagation", []int64{unix.MS_SLAVE | unix.MS_REC, plan.TargetPlain}, []string{"", "/", "", ""}},
		{plan.OpMount, rf, []int64{unix.MS_BIND | unix.MS_REC, plan.TargetPlain}, []string{in.Rootfs, in.Rootfs, "", ""}},
		{plan.OpOpenRoot, rf, nil, []string{in.Rootfs}},
		{plan.OpMount, m(0), []int64{0, plan.TargetDir, plan.MountNoSymlinks}, []string{"proc", "/proc", "proc", ""}},
		{plan.OpMount, m(1), []int64{unix.MS_NOSUID | unix.MS_STRICTATIME, plan.TargetDir}, []string{"tmpfs", "/dev", "tmpfs", "mode=755,size=65536k"}},
		{plan.OpMount, m(2), []int64{unix.MS_NOSUID | unix.MS_NOEXEC, plan.TargetDir}, []string{"devpts", "/dev/pts", "devpts", "newinstance,ptmxmode=0666,mode=0620,gid=5"}},
		{plan.OpMount, m(3), []int64{unix.MS_BIND | unix.MS_REC, plan.TargetDir}, []string{filepath.Join(in.Bundle, "data"), "/data", "", ""}},
		{plan.OpMount, m(3), []int64{unix.MS_BIND | unix.MS_REMOUNT | unix.MS_RDONLY | unix.MS_NOSUID, plan.TargetDir, plan.MountKeepLocked}, []string{"", "/data", "", ""}},
		{plan.OpMount, m(3), []int64{unix.MS_PRIVATE | unix.MS_REC, plan.TargetDir}, []string{"", "/data", "", ""}},
		{plan.OpMount, m(4), []int64{unix.MS_BIND, plan.TargetFile}, []string{resolv, "/etc/resolv.conf", "", ""}},
		{plan.OpMount, m(5), []int64{unix.MS_NOSUID | unix.MS_NOEXEC | unix.MS_NODEV | unix.MS_RDONLY, plan.TargetDir, plan.MountNoSymlinks}, []string{"sysfs", "/sys", "sysfs", ""}},
		{plan.OpMount, m(5), []int64{unix.MS_SLAVE | unix.MS_REC, plan.TargetDir}, []string{"", "/sys", "", ""}},
		{plan.OpMknod, `linux.devices[0] path "/dev/fuse"`, []int64{unix.S_IFCHR | 0o620, int64(unix.Mkdev(10, 229)), 1, 2}, []string{"/dev/fuse"}},
		{plan.OpMknod, `linux.devices[1] path "/dev/null"`, []int64{unix.S_IFCHR | 0o666, int64(unix.Mkdev(1, 3)), 0, 0}, []string{"/dev/null"}},
		{plan.OpMknod, `linux.devices[2] path "/dev/sda"`, []int64{unix.S_IFBLK | 0o4660, int64(unix.Mkdev(8, 0)), 0, 0}, []string{"/dev/sda"}},
		{plan.OpMknod, `linux.devices[3] path "/dev/fifo"`, []int64{unix.S_IFIFO | 0o666, 0, 0, 0}, []string{"/dev/fifo"}},
	}
	// the defaults the spec does not list (it lists /dev/null)
	for _, d := range [][3]int64{{1, 5}, {1, 7}, {5, 0}, {1, 9}, {1, 8}} {
		name := map[[2]int64]string{{1, 5}: "/dev/zero", {1, 7}: "/dev/full", {5, 0}: "/dev/tty", {1, 9}: "/dev/urandom", {1, 8}: "/dev/random"}[[2]int64{d[0], d[1]}]
		want = append(want, buildTestOp{plan.OpMknod, "default device " + name,
			[]int64{unix.S_IFCHR | 0o666, int64(unix.Mkdev(uint32(d[0]), uint32(d[1]))), 0, 0}, []string{name}})
	}
	want = append(want, buildTestDefaultSymlinks(true)...)
	want = append(want, []buildTestOp{
		{plan.OpPivot, rf + " (pivot_root)", nil, nil},
		{plan.OpWrite, `linux.sysctl "kernel.shmmax"`, nil, []string{"/proc/sys/kernel/shmmax", "100"}},
		{plan.OpWrite, `linux.sysctl "net.ipv4.ip_forward"`, nil, []string{"/proc/sys/net/ipv4/ip_forward", "1"}},
		{plan.OpReadonly, `linux.readonlyPaths[0] "/proc/sys"`, nil, []string{"/proc/sys"}},
		{plan.OpReadonly, `linux.readonlyPaths[1] "/proc/sysrq-trigger"`, nil, []string{"/proc/sysrq-trigger"}},
		{plan.OpMask, `linux.maskedPaths[0] "/proc/kcore"`, nil, []string{"/proc/kcore"}},
		{plan.OpMask, `linux.maskedPaths[1] "/sys/firmware"`, nil, []string{"/sys/firmware"}},
		{plan.OpMount, "root.readonly", []int64{unix.MS_BIND | unix.MS_REMOUNT | unix.MS_RDONLY, plan.TargetPlain, plan.MountKeepLocked}, []string{"", "/", "", ""}},
		{plan.OpSethostname, `hostname "box"`, nil, []string{"box"}},
		{plan.OpSetdomainname, `domainname "example.org"`, nil, []string{"example.org"}},
		{plan.OpCloseFds, "--preserve-fds", []int64{3}, nil},
	}...)
	buildTestExpect(t, p, buildTestFind(p, 0, plan.OpSetsid, ""), want)
}

// The defaults: no mounts, writable root, no /dev/pts (so no ptmx link).
func TestBuildRootfsMinimal(t *testing.T) {
	t.Parallel()
	in := buildTestInput(t)
	p := buildTestBuild(t, in)
	if n := buildTestCount(p, plan.OpMknod); n != len(defaultDevices) {
		t.Errorf("%d mknods, want the %d default devices", n, len(defaultDevices))
	}
	if i := buildTestFind(p, 0, plan.OpSymlink, "/dev symlink /dev/ptmx"); i >= 0 {
		t.Errorf("ptmx link without a /dev/pts mount:\n%s", buildTestDump(p))
	}
	if i := buildTestFind(p, 0, plan.OpMount, "root.readonly"); i >= 0 {
		t.Errorf("root remounted read-only without root.readonly:\n%s", buildTestDump(p))
	}
	for _, c := range []plan.Code{plan.OpSethostname, plan.OpSetdomainname, plan.OpReadonly, plan.OpMask, plan.OpHook, plan.OpSync} {
		if i := buildTestFind(p, 0, c, ""); i >= 0 {
			t.Errorf("unasked-for op %s:\n%s", p.Ops[i], buildTestDump(p))
		}
	}
	// the rootfs ops: propagation, bind, open-root, then straight to the devices
	setsid := buildTestFind(p, 0, plan.OpSetsid, "")
	buildTestExpect(t, p, setsid+1, []buildTestOp{
		{plan.OpMount, "linux.rootfsPropagation", []int64{unix.MS_SLAVE | unix.MS_REC, plan.TargetPlain}, []string{"", "/", "", ""}},
		{plan.OpMount, fmt.Sprintf("root.path %q", in.Rootfs), []int64{unix.MS_BIND | unix.MS_REC, plan.TargetPlain}, []string{in.Rootfs, in.Rootfs, "", ""}},
		{plan.OpOpenRoot, fmt.Sprintf("root.path %q", in.Rootfs), nil, []string{in.Rootfs}},
		{plan.OpMknod, "default device /dev/null", []int64{unix.S_IFCHR | 0o666, int64(unix.Mkdev(1, 3)), 0, 0}, []string{"/dev/null"}},
	})
	// a /dev/pts mount written unclean still gets the link, a ptmx device replaces it
	in.Spec.Mounts = []specs.Mount{{Destination: "/dev/pts/", Type: "devpts", Source: "devpts"}}
	p = buildTestBuild(t, in)
	if i := buildTestFind(p, 0, plan.OpSymlink, "/dev symlink /dev/ptmx"); i < 0 || p.Ops[i].Strs[0] != "pts/ptmx" {
		t.Errorf("no pts/ptmx link with a /dev/pts mount:\n%s", buildTestDump(p))
	}
	in.Spec.Linux.Devices = []specs.LinuxDevice{{Path: "/dev/ptmx", Type: "c", Major: 5, Minor: 2}}
	p = buildTestBuild(t, in)
	if i := buildTestFind(p, 0, plan.OpSymlink, "/dev symlink /dev/ptmx"); i >= 0 {
		t.Errorf("ptmx link although linux.devices has /dev/ptmx:\n%s", buildTestDump(p))
	}
}

func TestBuildRootfsPropagation(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		prop, parent string
		want         []buildTestOp
	}{
		{"rshared", "/var/lib", []buildTestOp{
			{plan.OpMount, "linux.rootfsPropagation", []int64{unix.MS_SHARED | unix.MS_REC, plan.TargetPlain}, []string{"", "/", "", ""}},
			{plan.OpMount, "linux.rootfsPropagation", []int64{unix.MS_PRIVATE, plan.TargetPlain}, []string{"", "/var/lib", "", ""}},
		}},
		{"shared", "/", []buildTestOp{
			{plan.OpMount, "linux.rootfsPropagation", []int64{unix.MS_SHARED, plan.TargetPlain}, []string{"", "/", "", ""}},
			{plan.OpMount, "linux.rootfsPropagation", []int64{unix.MS_PRIVATE, plan.TargetPlain}, []string{"", "/", "", ""}},
		}},
		{"shared", "", []buildTestOp{
			{plan.OpMount, "linux.rootfsPropagation", []int64{unix.MS_SHARED, plan.TargetPlain}, []string{"", "/", "", ""}},
		}},
		{"private", "/var/lib", []buildTestOp{
			{plan.OpMount, "linux.rootfsPropagation", []int64{unix.MS_PRIVATE, plan.TargetPlain}, []string{"", "/", "", ""}},
		}},
		// unbindable: slave while the rootfs is bound onto itself (an
		// unbindable mount cannot be), unbindable after pivot_root
		{"runbindable", "/var/lib", []buildTestOp{
			{plan.OpMount, "linux.rootfsPropagation", []int64{unix.MS_SLAVE | unix.MS_REC, plan.TargetPlain}, []string{"", "/", "", ""}},
		}},
		{"", "/var/lib", []buildTestOp{
			{plan.OpMount, "linux.rootfsPropagation", []int64{unix.MS_SLAVE | unix.MS_REC, plan.TargetPlain}, []string{"", "/", "", ""}},
		}},
	} {
		t.Run(c.prop+"@"+c.parent, func(t *testing.T) {
			in := buildTestInput(t)
			in.Spec.Linux.RootfsPropagation = c.prop
			in.RootfsParent = c.parent
			p := buildTestBuild(t, in)
			from := buildTestFind(p, 0, plan.OpSetsid, "") + 1
			buildTestExpect(t, p, from, append(c.want,
				buildTestOp{plan.OpMount, fmt.Sprintf("root.path %q", in.Rootfs), []int64{unix.MS_BIND | unix.MS_REC, plan.TargetPlain}, []string{in.Rootfs, in.Rootfs, "", ""}}))
		})
	}
	in := buildTestInput(t)
	in.Spec.Linux.RootfsPropagation = "bogus"
	if _, err := Build(in); err == nil || err.Error() != `linux.rootfsPropagation "bogus": unknown propagation` {
		t.Errorf("unknown rootfsPropagation: error %v", err)
	}
}

func TestBuildDevicesInUserns(t *testing.T) {
	t.Parallel()
	in := buildTestInput(t)
	in.Ns.New |= unix.CLONE_NEWUSER
	in.Spec.Linux.Devices = []specs.LinuxDevice{{Path: "/dev/fuse", Type: "c", Major: 10, Minor: 229}}
	p := buildTestBuild(t, in)
	if n := buildTestCount(p, plan.OpMknod); n != 0 {
		t.Errorf("%d mknods in a user namespace, want binds:\n%s", n, buildTestDump(p))
	}
	want := []buildTestOp{{plan.OpMount, `linux.devices[0] path "/dev/fuse"`, []int64{unix.MS_BIND, plan.TargetFile}, []string{"/dev/fuse", "/dev/fuse", "", ""}}}
	for _, d := range defaultDevices {
		want = append(want, buildTestOp{plan.OpMount, "default device " + d.Path, []int64{unix.MS_BIND, plan.TargetFile}, []string{d.Path, d.Path, "", ""}})
	}
	buildTestExpect(t, p, buildTestFind(p, 0, plan.OpOpenRoot, "")+1, want)

	// a joined user namespace too
	in = buildTestInput(t)
	in.Ns.Joins = []Join{{Type: specs.UserNamespace, Field: "u", Fd: 9}}
	p = buildTestBuild(t, in)
	if n := buildTestCount(p, plan.OpMknod); n != 0 {
		t.Errorf("%d mknods in a joined user namespace, want binds", n)
	}
}

func TestBuildNoPivot(t *testing.T) {
	t.Parallel()
	in := buildTestInput(t)
	in.NoPivot = true
	p := buildTestBuild(t, in)
	if i := buildTestFind(p, 0, plan.OpPivot, ""); i >= 0 {
		t.Errorf("pivot_root with NoPivot:\n%s", buildTestDump(p))
	}
	i := buildTestFind(p, 0, plan.OpChroot, fmt.Sprintf("root.path %q (--no-pivot)", in.Rootfs))
	if i < 0 {
		t.Fatalf("no chroot op with NoPivot:\n%s", buildTestDump(p))
	}
	if prev := p.Ops[i-1]; prev.Code != plan.OpSymlink {
		t.Errorf("chroot follows %s, want the /dev symlinks (chroot replaces pivot at the same place)", prev)
	}
	in.NoPivot = false
	p = buildTestBuild(t, in)
	if buildTestCount(p, plan.OpChroot) != 0 || buildTestCount(p, plan.OpPivot) != 1 {
		t.Errorf("without NoPivot want one pivot and no chroot:\n%s", buildTestDump(p))
	}
}

func TestBuildSysctlNames(t *testing.T) {
	t.Parallel()
	for _, bad := range []string{"net..ipv4", "../../etc/x", "kernel.sh max"} {
		in := buildTestInput(t)
		in.Ns.New |= unix.CLONE_NEWNET | unix.CLONE_NEWIPC
		in.Spec.Linux.Sysctl = map[string]string{"kernel.shmmax": "1", bad: "1"}
		_, err := Build(in)
		if want := fmt.Sprintf("linux.sysctl %q: not a sysctl name", bad); err == nil || err.Error() != want {
			t.Errorf("sysctl %q: error %v, want %q", bad, err, want)
		}
	}
	in := buildTestInput(t)
	in.Ns.New |= unix.CLONE_NEWNET
	in.Spec.Linux.Sysctl = map[string]string{"net/ipv4/ip_forward": "1"}
	p := buildTestBuild(t, in)
	if i := buildTestFind(p, 0, plan.OpWrite, `linux.sysctl "net/ipv4/ip_forward"`); i < 0 || p.Ops[i].Strs[0] != "/proc/sys/net/ipv4/ip_forward" {
		t.Errorf("slash-separated sysctl:\n%s", buildTestDump(p))
	}
}

// A sysctl is written from inside the container's namespaces: one its
// namespaces do not isolate would change the host (runc refuses those: "not
// allowed in host network namespace", "not in a separate kernel namespace").
// The spec is refused by Validate or Build.
func TestSysctlNeedsItsNamespace(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		key string
		ns  Namespaces
		ok  bool
	}{
		{"net.ipv4.ip_forward", Namespaces{New: unix.CLONE_NEWNS | unix.CLONE_NEWNET}, true},
		{"net.ipv4.ip_forward", Namespaces{New: unix.CLONE_NEWNS, Joins: []Join{{Type: specs.NetworkNamespace, Field: "n", Fd: 7}}}, true},
		{"kernel.shmmax", Namespaces{New: unix.CLONE_NEWNS | unix.CLONE_NEWIPC}, true},
		{"fs.mqueue.msg_max", Namespaces{New: unix.CLONE_NEWNS | unix.CLONE_NEWIPC}, true},
		{"net.ipv4.ip_forward", Namespaces{New: unix.CLONE_NEWNS | unix.CLONE_NEWPID | unix.CLONE_NEWIPC}, false},
		{"kernel.shmmax", Namespaces{New: unix.CLONE_NEWNS | unix.CLONE_NEWNET}, false},
		{"vm.stat_interval", Namespaces{New: unix.CLONE_NEWNS | unix.CLONE_NEWNET | unix.CLONE_NEWIPC | unix.CLONE_NEWUTS | unix.CLONE_NEWPID}, false},
		{"kernel.printk", Namespaces{New: unix.CLONE_NEWNS | unix.CLONE_NEWNET | unix.CLONE_NEWIPC | unix.CLONE_NEWUTS | unix.CLONE_NEWPID}, false},
	} {
		in := buildTestInput(t)
		in.Ns = c.ns
		in.Spec.Linux.Sysctl = map[string]string{c.key: "1"}
		err := Validate(in.Spec, &in.Ns)
		if err == nil {
			_, err = Build(in)
		}
		if c.ok && err != nil {
			t.Errorf("sysctl %q with New %#x joins %d: %v", c.key, c.ns.New, len(c.ns.Joins), err)
		}
		if !c.ok && err == nil {
			t.Errorf("sysctl %q with New %#x accepted: it would be written in a namespace the container shares with the host", c.key, c.ns.New)
		}
		if !c.ok && err != nil && !strings.Contains(err.Error(), c.key) {
			t.Errorf("sysctl %q refused with %q, which does not name it", c.key, err)
		}
	}
}

// Options the runtime does not act on must not be dropped from a bind
// mount: "rro" (recursive read-only, which runc supports) compiled to the
// same plan as no option leaves the mount writable.
func TestBuildBindRecursiveOptionsNotDropped(t *testing.T) {
	t.Parallel()
	for _, opt := range []string{"rro", "rnosuid", "rnodev", "rnoexec"} {
		in := buildTestInput(t)
		in.Spec.Mounts = []specs.Mount{{Destination: "/data", Type: "bind", Source: in.Rootfs, Options: []string{"rbind"}}}
		plain := buildTestBuild(t, in)
		in.Spec.Mounts[0].Options = []string{"rbind", opt}
		p, err := Build(in)
		if err != nil {
			if !strings.Contains(err.Error(), "mounts[0]") {
				t.Errorf("%q refused with %q, which does not name mounts[0]", opt, err)
			}
			continue
		}
		if reflect.DeepEqual(p.Ops, plain.Ops) {
			var ops []string
			for _, o := range p.Ops {
				if strings.HasPrefix(o.Field, "mounts[0]") {
					ops = append(ops, o.String())
				}
			}
			t.Errorf("bind mount option %q silently dropped: the plan is the same as without it (mounts[0] ops: %s)", opt, strings.Join(ops, "; "))
		}
	}
}

func TestBuildMountErrors(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name   string
		mounts []specs.Mount
		want   string
	}{
		{"bind source missing", []specs.Mount{
			{Destination: "/proc", Type: "proc", Source: "proc"},
			{Destination: "/tmp", Type: "tmpfs", Source: "tmpfs"},
			{Destination: "/data", Type: "bind", Source: "nope", Options: []string{"rbind"}},
		}, `mounts[2].source "nope": no such file or directory`},
		{"bind option source missing", []specs.Mount{
			{Destination: "/data", Type: "none", Source: "/nonexistent/oci-rt-test", Options: []string{"bind", "ro"}},
		}, `mounts[0].source "/nonexistent/oci-rt-test": no such file or directory`},
		{"bind without source", []specs.Mount{
			{Destination: "/proc", Type: "proc", Source: "proc"},
			{Destination: "/data", Type: "bind"},
		}, `mounts[1].source: a bind mount needs a source`},
		{"relative destination", []specs.Mount{
			{Destination: "/proc", Type: "proc", Source: "proc"},
			{Destination: "sys", Type: "sysfs", Source: "sysfs"},
		}, `mounts[1] destination "sys": not an absolute path`},
	} {
		t.Run(c.name, func(t *testing.T) {
			in := buildTestInput(t)
			in.Spec.Mounts = c.mounts
			_, err := Build(in)
			if err == nil || err.Error() != c.want {
				t.Errorf("error %v, want %q", err, c.want)
			}
		})
	}
}

func TestBuildCgroupMounts(t *testing.T) {
	t.Parallel()
	hier := []CgroupHierarchy{
		{Name: "memory", FsType: "cgroup", Options: "memory", HostPath: "/sys/fs/cgroup/memory/oci-rt/x"},
		{Name: "unified", FsType: "cgroup2", Options: "", HostPath: "/sys/fs/cgroup/unified/oci-rt/x"},
	}
	mount := specs.Mount{Destination: "/sys/fs/cgroup", Type: "cgroup", Source: "cgroup", Options: []string{"nosuid", "noexec", "nodev", "relatime", "ro"}}
	base := int64(unix.MS_NOSUID | unix.MS_NOEXEC | unix.MS_NODEV)
	f := `mounts[0] destination "/sys/fs/cgroup"`
	for _, c := range []struct {
		name   string
		view   CgroupView
		cgns   bool
		expect []buildTestOp
	}{
		{"v1 without cgroupns", CgroupView{Hierarchies: hier}, false, []buildTestOp{
			{plan.OpMount, f, []int64{base, plan.TargetDir}, []string{"tmpfs", "/sys/fs/cgroup", "tmpfs", "mode=755"}},
			{plan.OpMount, f, []int64{unix.MS_BIND | unix.MS_REC, plan.TargetDir}, []string{hier[0].HostPath, "/sys/fs/cgroup/memory", "", ""}},
			{plan.OpMount, f, []int64{unix.MS_BIND | unix.MS_REMOUNT | base | unix.MS_RDONLY, plan.TargetDir, plan.MountKeepLocked}, []string{"", "/sys/fs/cgroup/memory", "", ""}},
			{plan.OpMount, f, []int64{unix.MS_BIND | unix.MS_REC, plan.TargetDir}, []string{hier[1].HostPath, "/sys/fs/cgroup/unified", "", ""}},
			{plan.OpMount, f, []int64{unix.MS_BIND | unix.MS_REMOUNT | base | unix.MS_RDONLY, plan.TargetDir, plan.MountKeepLocked}, []string{"", "/sys/fs/cgroup/unified", "", ""}},
			{plan.OpMount, f, []int64{unix.MS_REMOUNT | unix.MS_RDONLY | base, plan.TargetDir}, []string{"tmpfs", "/sys/fs/cgroup", "tmpfs", "mode=755"}},
		}},
		{"v1 with cgroupns", CgroupView{Hierarchies: hier}, true, []buildTestOp{
			{plan.OpMount, f, []int64{base, plan.TargetDir}, []string{"tmpfs", "/sys/fs/cgroup", "tmpfs", "mode=755"}},
			{plan.OpMount, f, []int64{base | unix.MS_RDONLY, plan.TargetDir}, []string{"cgroup", "/sys/fs/cgroup/memory", "cgroup", "memory"}},
			{plan.OpMount, f, []int64{base | unix.MS_RDONLY, plan.TargetDir}, []string{"cgroup2", "/sys/fs/cgroup/unified", "cgroup2", ""}},
			{plan.OpMount, f, []int64{unix.MS_REMOUNT | unix.MS_RDONLY | base, plan.TargetDir}, []string{"tmpfs", "/sys/fs/cgroup", "tmpfs", "mode=755"}},
		}},
		{"v1 co-mounted controllers get links", CgroupView{Hierarchies: []CgroupHierarchy{
			{Name: "net_cls,net_prio", FsType: "cgroup", Options: "net_cls,net_prio", HostPath: "/sys/fs/cgroup/net_cls,net_prio/x"},
			{Name: "cpu", FsType: "cgroup", Options: "cpu", HostPath: "/sys/fs/cgroup/cpu/x"},
			{Name: "cpu,cpuacct", FsType: "cgroup", Options: "cpuacct", HostPath: "/sys/fs/cgroup/cpu,cpuacct/x"},
		}}, true, []buildTestOp{
			{plan.OpMount, f, []int64{base, plan.TargetDir}, []string{"tmpfs", "/sys/fs/cgroup", "tmpfs", "mode=755"}},
			{plan.OpMount, f, []int64{base | unix.MS_RDONLY, plan.TargetDir}, []string{"cgroup", "/sys/fs/cgroup/net_cls,net_prio", "cgroup", "net_cls,net_prio"}},
			{plan.OpMount, f, []int64{base | unix.MS_RDONLY, plan.TargetDir}, []string{"cgroup", "/sys/fs/cgroup/cpu", "cgroup", "cpu"}},
			{plan.OpMount, f, []int64{base | unix.MS_RDONLY, plan.TargetDir}, []string{"cgroup", "/sys/fs/cgroup/cpu,cpuacct", "cgroup", "cpuacct"}},
			{plan.OpSymlink, f, nil, []string{"net_cls,net_prio", "/sys/fs/cgroup/net_cls"}},
			{plan.OpSymlink, f, nil, []string{"net_cls,net_prio", "/sys/fs/cgroup/net_prio"}},
			// "cpu" is a hierarchy of its own here: no link over it
			{plan.OpSymlink, f, nil, []string{"cpu,cpuacct", "/sys/fs/cgroup/cpuacct"}},
			{plan.OpMount, f, []int64{unix.MS_REMOUNT | unix.MS_RDONLY | base, plan.TargetDir}, []string{"tmpfs", "/sys/fs/cgroup", "tmpfs", "mode=755"}},
		}},
		{"v1 without cgroupns, flags set on the tree", CgroupView{Hierarchies: hier, SetattrTree: true}, false, []buildTestOp{
			{plan.OpMount, f, []int64{base, plan.TargetDir}, []string{"tmpfs", "/sys/fs/cgroup", "tmpfs", "mode=755"}},
			{plan.OpMount, f, []int64{unix.MS_BIND | unix.MS_REC, plan.TargetDir}, []string{hier[0].HostPath, "/sys/fs/cgroup/memory", "", ""}},
			{plan.OpMount, f, []int64{unix.MS_BIND | unix.MS_REC, plan.TargetDir}, []string{hier[1].HostPath, "/sys/fs/cgroup/unified", "", ""}},
			{plan.OpMountSetattr, f, []int64{unix.MOUNT_ATTR_NOSUID | unix.MOUNT_ATTR_NOEXEC | unix.MOUNT_ATTR_NODEV | unix.MOUNT_ATTR_RDONLY, 0}, []string{"/sys/fs/cgroup"}},
		}},
		{"v2 with cgroupns", CgroupView{Unified: true, Hierarchies: hier[1:]}, true, []buildTestOp{
			{plan.OpMount, f, []int64{base | unix.MS_RDONLY, plan.TargetDir}, []string{"cgroup2", "/sys/fs/cgroup", "cgroup2", ""}},
		}},
		{"v2 without cgroupns", CgroupView{Unified: true, Hierarchies: hier[1:]}, false, []buildTestOp{
			{plan.OpMount, f, []int64{unix.MS_BIND | unix.MS_REC, plan.TargetDir}, []string{hier[1].HostPath, "/sys/fs/cgroup", "", ""}},
			{plan.OpMount, f, []int64{unix.MS_BIND | unix.MS_REMOUNT | base | unix.MS_RDONLY, plan.TargetDir, plan.MountKeepLocked}, []string{"", "/sys/fs/cgroup", "", ""}},
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			in := buildTestInput(t)
			in.Cgroup = c.view
			if c.cgns {
				in.Ns.New |= unix.CLONE_NEWCGROUP
			}
			in.Spec.Mounts = []specs.Mount{mount}
			p := buildTestBuild(t, in)
			open := buildTestFind(p, 0, plan.OpOpenRoot, "")
			buildTestExpect(t, p, open+1, c.expect)
			if next := p.Ops[open+1+len(c.expect)]; next.Field == f {
				t.Errorf("extra op for the cgroup mount: %s\n%s", next, buildTestDump(p))
			}
		})
	}
}

// ---- hooks ----

func TestBuildCreateHooks(t *testing.T) {
	t.Parallel()
	timeout := 7
	for _, c := range []struct {
		name  string
		hooks *specs.Hooks
		sync  bool
	}{
		{"none", nil, false},
		{"empty", &specs.Hooks{}, false},
		{"poststart and poststop only", &specs.Hooks{Poststart: []specs.Hook{{Path: "/a"}}, Poststop: []specs.Hook{{Path: "/b"}}}, false},
		{"startContainer only", &specs.Hooks{StartContainer: []specs.Hook{{Path: "/a"}}}, false},
		{"prestart", &specs.Hooks{Prestart: []specs.Hook{{Path: "/a"}}}, true}, //nolint:staticcheck // prestart is deprecated but honoured
		{"createRuntime", &specs.Hooks{CreateRuntime: []specs.Hook{{Path: "/a"}}}, true},
		{"createContainer", &specs.Hooks{CreateContainer: []specs.Hook{
			{Path: "/bin/cc", Args: []string{"cc", "-x"}, Env: []string{"E=1"}, Timeout: &timeout},
			{Path: "/bin/cc2"},
		}}, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			in := buildTestInput(t)
			in.Spec.Hooks = c.hooks
			p := buildTestBuild(t, in)
			sync := buildTestFind(p, 0, plan.OpSync, "hooks.createRuntime")
			if (sync >= 0) != c.sync {
				t.Fatalf("hooks sync at %d, want %v:\n%s", sync, c.sync, buildTestDump(p))
			}
			if n := buildTestCount(p, plan.OpSync); n > 1 {
				t.Errorf("%d syncs, want at most one:\n%s", n, buildTestDump(p))
			}
			pivot := buildTestFind(p, 0, plan.OpPivot, "")
			if !c.sync {
				if c.hooks == nil || len(c.hooks.StartContainer) == 0 {
					if n := buildTestCount(p, plan.OpHook); n != 0 {
						t.Errorf("%d hook ops, want none:\n%s", n, buildTestDump(p))
					}
				}
				return
			}
			// after the mounts and devices (the last /dev symlink), before pivot_root
			if p.Ops[sync-1].Code != plan.OpSymlink {
				t.Errorf("hooks sync follows %s, want the rootfs fully set up:\n%s", p.Ops[sync-1], buildTestDump(p))
			}
			var want []buildTestOp
			for i, h := range c.hooks.CreateContainer {
				args := h.Args
				if len(args) == 0 {
					args = []string{h.Path}
				}
				to := int64(0)
				if h.Timeout != nil {
					to = int64(*h.Timeout)
				}
				want = append(want, buildTestOp{plan.OpHook, fmt.Sprintf("hooks.createContainer[%d] path %q", i, h.Path),
					[]int64{to, int64(len(args))}, append(append([]string{h.Path}, args...), h.Env...)})
			}
			want = append(want, buildTestOp{plan.OpPivot, fmt.Sprintf("root.path %q (pivot_root)", in.Rootfs), nil, nil})
			buildTestExpect(t, p, sync+1, want)
			if sync+1+len(c.hooks.CreateContainer) != pivot {
				t.Errorf("pivot at %d", pivot)
			}
		})
	}
}

func TestBuildCreateContainerHookEncoding(t *testing.T) {
	t.Parallel()
	in := buildTestInput(t)
	timeout := 7
	in.Spec.Hooks = &specs.Hooks{CreateContainer: []specs.Hook{
		{Path: "/bin/cc", Args: []string{"cc", "-x"}, Env: []string{"E=1", "F=2"}, Timeout: &timeout},
		{Path: "/bin/cc2"},
	}}
	p := buildTestBuild(t, in)
	buildTestExpect(t, p, buildTestFind(p, 0, plan.OpSync, "hooks.createRuntime"), []buildTestOp{
		{plan.OpSync, "hooks.createRuntime", []int64{plan.SyncHooks}, nil},
		{plan.OpHook, `hooks.createContainer[0] path "/bin/cc"`, []int64{7, 2}, []string{"/bin/cc", "cc", "-x", "E=1", "F=2"}},
		{plan.OpHook, `hooks.createContainer[1] path "/bin/cc2"`, []int64{0, 1}, []string{"/bin/cc2", "/bin/cc2"}},
	})
}

// ---- process ----

func TestBuildProcessOps(t *testing.T) {
	t.Parallel()
	in := buildTestInput(t)
	in.Process = Process{
		Args: []string{"sh", "-c", "echo hi"}, Env: []string{"PATH=/bin", "HOME=/home/app"}, Cwd: "/home/app",
		UID: 1000, GID: 1001, AdditionalGids: []uint32{2000, 2001}, Umask: 0o027,
		Caps: Caps{Bounding: 0b111, Effective: 0b1, Permitted: 0b11, Inheritable: 0b100, Ambient: 0b1, Last: 40},
		Rlimits: []Rlimit{
			{Resource: unix.RLIMIT_NOFILE, Soft: 1024, Hard: 4096, Field: "rl0"},
			{Resource: unix.RLIMIT_CORE, Soft: 0, Hard: ^uint64(0), Field: "rl1"},
		},
		NoNewPrivs: true, Terminal: true,
	}
	in.ConsoleFd, in.StartFd, in.FirstCloseFd = 4, 5, 6
	in.Seccomp = &Seccomp{Program: []byte{1, 0, 2, 3}, Flags: 8, ListenerPath: "/run/agent.sock"}
	in.Spec.Hooks = &specs.Hooks{StartContainer: []specs.Hook{{Path: "/bin/sc", Args: []string{"sc"}}}}
	p := buildTestBuild(t, in)
	want := []buildTestOp{
		{plan.OpRlimit, "rl0", []int64{unix.RLIMIT_NOFILE, 1024, 4096}, nil},
		{plan.OpRlimit, "rl1", []int64{unix.RLIMIT_CORE, 0, -1}, nil},
		{plan.OpCloseFds, "--preserve-fds", []int64{6}, nil},
		// entered with root's privileges, again as the user if refused
		{plan.OpChdir, `process.cwd "/home/app"`, []int64{plan.ChdirFirst}, []string{"/home/app"}},
		{plan.OpCapBset, "process.capabilities.bounding", []int64{0b111, 40}, nil},
		{plan.OpPrctl, "process.user", []int64{unix.PR_SET_KEEPCAPS, 1}, nil},
		{plan.OpUser, "process.user 1000:1001", []int64{1000, 1001, 2000, 2001}, nil},
		{plan.OpChdir, `process.cwd "/home/app"`, []int64{plan.ChdirRetry}, []string{"/home/app"}},
		{plan.OpPrctl, "process.user", []int64{unix.PR_SET_KEEPCAPS, 0}, nil},
		{plan.OpCapSet, "process.capabilities", []int64{0b1, 0b11, 0b100, 0b1, 40}, nil},
		{plan.OpUmask, "process.user.umask", []int64{0o027}, nil},
		{plan.OpPrctl, "process.noNewPrivileges", []int64{unix.PR_SET_NO_NEW_PRIVS, 1}, nil},
		{plan.OpCheckExec, `process.args[0] "sh"`, []int64{3}, []string{"sh", "-c", "echo hi", "PATH=/bin", "HOME=/home/app"}},
		// a notify listener is handed over during create: the filter goes
		// in before ready, not right before exec
		{plan.OpSeccomp, "linux.seccomp", []int64{8, 1}, []string{"\x01\x00\x02\x03"}},
		{plan.OpReady, "create", nil, nil},
		{plan.OpWaitStart, "start", []int64{5}, nil},
		// a hook without an environment gets the process's, as with runc
		{plan.OpHook, `hooks.startContainer[0] path "/bin/sc"`, []int64{0, 1}, []string{"/bin/sc", "sc", "PATH=/bin", "HOME=/home/app"}},
		{plan.OpExec, `process.args[0] "sh"`, []int64{3}, []string{"sh", "-c", "echo hi", "PATH=/bin", "HOME=/home/app"}},
	}
	// the container's pty is bound onto /dev/console after the pivot and
	// the masks, while /dev and the root can still be written
	console := buildTestFind(p, 0, plan.OpConsole, "")
	buildTestExpect(t, p, console, []buildTestOp{{plan.OpConsole, "process.terminal", []int64{4, 0, 0, 0, 1000, 1}, nil}})
	if pivot := buildTestFind(p, 0, plan.OpPivot, ""); pivot < 0 || console < pivot {
		t.Errorf("console op at %d, before the pivot (%d):\n%s", console, pivot, buildTestDump(p))
	}
	from := buildTestFind(p, 0, plan.OpRlimit, "")
	buildTestExpect(t, p, from, want)
	if from+len(want) != len(p.Ops) {
		t.Errorf("ops after exec:\n%s", buildTestDump(p))
	}
	// everything before the console op belongs to the namespaces and rootfs
	for i := 0; i < from; i++ {
		switch p.Ops[i].Code {
		case plan.OpRlimit, plan.OpCapBset, plan.OpCapSet, plan.OpUser, plan.OpChdir, plan.OpExec, plan.OpSeccomp, plan.OpWaitStart:
			t.Errorf("process op %d %s before the console:\n%s", i, p.Ops[i], buildTestDump(p))
		}
	}
}

// Without no_new_privs the filter goes in while CAP_SYS_ADMIN is still
// there: right after close-fds, before the bounding set is cut.
func TestBuildSeccompEarlyWithoutNNP(t *testing.T) {
	t.Parallel()
	in := buildTestInput(t)
	in.Process.NoNewPrivs = false
	in.Seccomp = &Seccomp{Program: []byte{9}, Flags: 0}
	p := buildTestBuild(t, in)
	from := buildTestFind(p, 0, plan.OpCloseFds, "")
	buildTestExpect(t, p, from, []buildTestOp{
		{plan.OpCloseFds, "--preserve-fds", []int64{3}, nil},
		{plan.OpChdir, `process.cwd "/"`, []int64{plan.ChdirFirst}, []string{"/"}},
		{plan.OpSeccomp, "linux.seccomp", []int64{0, 0}, []string{"\x09"}},
		{plan.OpCapBset, "process.capabilities.bounding", []int64{0, 40}, nil},
	})
	if n := buildTestCount(p, plan.OpSeccomp); n != 1 {
		t.Errorf("%d seccomp ops, want 1", n)
	}
	if i := buildTestFind(p, 0, plan.OpPrctl, "process.noNewPrivileges"); i >= 0 {
		t.Errorf("no_new_privs set although the process does not ask:\n%s", buildTestDump(p))
	}
}

func TestBuildSeccompLateWithNNP(t *testing.T) {
	t.Parallel()
	for _, startFd := range []int{5, -1} {
		in := buildTestInput(t)
		in.StartFd = startFd
		if startFd < 0 {
			in.Ns = Namespaces{}
		}
		in.Process.NoNewPrivs = true
		in.Seccomp = &Seccomp{Program: []byte{9}}
		p := buildTestBuild(t, in)
		if n := buildTestCount(p, plan.OpSeccomp); n != 1 {
			t.Fatalf("StartFd %d: %d seccomp ops, want 1:\n%s", startFd, n, buildTestDump(p))
		}
		i := buildTestFind(p, 0, plan.OpSeccomp, "")
		if i != len(p.Ops)-2 || p.Ops[len(p.Ops)-1].Code != plan.OpExec {
			t.Errorf("StartFd %d: seccomp at %d of %d, want right before the final exec:\n%s", startFd, i, len(p.Ops), buildTestDump(p))
		}
		if nnp := buildTestFind(p, 0, plan.OpPrctl, "process.noNewPrivileges"); nnp < 0 || nnp > i {
			t.Errorf("StartFd %d: no_new_privs at %d, want before seccomp at %d", startFd, nnp, i)
		}
	}
	in := buildTestInput(t)
	p := buildTestBuild(t, in)
	if n := buildTestCount(p, plan.OpSeccomp); n != 0 {
		t.Errorf("seccomp op without a filter:\n%s", buildTestDump(p))
	}
}

func TestBuildConsoleOnlyWithTerminalAndSocket(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		terminal bool
		fd       int
		want     bool
	}{{true, 4, true}, {true, 0, true}, {true, -1, false}, {false, 4, false}, {false, -1, false}} {
		in := buildTestInput(t)
		in.Process.Terminal, in.ConsoleFd = c.terminal, c.fd
		p := buildTestBuild(t, in)
		i := buildTestFind(p, 0, plan.OpConsole, "process.terminal")
		if (i >= 0) != c.want {
			t.Errorf("terminal %v fd %d: console op at %d, want %v", c.terminal, c.fd, i, c.want)
		}
		if i >= 0 && p.Ops[i].Ints[0] != int64(c.fd) {
			t.Errorf("console op %s, want fd %d", p.Ops[i], c.fd)
		}
	}
}

// TestBuildStartHooksUnderSeccomp: with startContainer hooks, a filter
// that would go in right before exec (no_new_privs, no listener) goes in
// before the hooks instead, as runc runs them under it; a hook's own
// environment is kept.
func TestBuildStartHooksUnderSeccomp(t *testing.T) {
	t.Parallel()
	in := buildTestInput(t)
	in.Process.NoNewPrivs = true
	in.Seccomp = &Seccomp{Program: []byte{1, 0, 2, 3}}
	in.Spec.Hooks = &specs.Hooks{StartContainer: []specs.Hook{{Path: "/bin/sc", Env: []string{"OWN=1"}}}}
	p := buildTestBuild(t, in)
	w := buildTestFind(p, 0, plan.OpWaitStart, "")
	s := buildTestFind(p, 0, plan.OpSeccomp, "")
	h := buildTestFind(p, 0, plan.OpHook, "")
	if w < 0 || s != w+1 || h != s+1 || buildTestFind(p, s+1, plan.OpSeccomp, "") >= 0 {
		t.Errorf("want wait-start, seccomp, hook (one filter): at %d, %d, %d:\n%s", w, s, h, buildTestDump(p))
	}
	if h >= 0 && strings.Join(p.Ops[h].Strs, " ") != "/bin/sc /bin/sc OWN=1" {
		t.Errorf("hook op %s: want its own environment", p.Ops[h])
	}
	// without hooks the filter stays right before exec
	in.Spec.Hooks = nil
	p = buildTestBuild(t, in)
	if s := buildTestFind(p, 0, plan.OpSeccomp, ""); s < 0 || p.Ops[s+1].Code != plan.OpExec {
		t.Errorf("without hooks, seccomp at %d, not right before exec:\n%s", s, buildTestDump(p))
	}
}

func TestBuildExecWithoutStartHasNoWait(t *testing.T) {
	t.Parallel()
	in := buildTestInput(t)
	in.StartFd = -1
	in.Ns = Namespaces{}
	in.Spec.Hooks = &specs.Hooks{StartContainer: []specs.Hook{{Path: "/bin/sc"}}}
	p := buildTestBuild(t, in)
	for _, c := range []plan.Code{plan.OpReady, plan.OpWaitStart, plan.OpHook} {
		if i := buildTestFind(p, 0, c, ""); i >= 0 {
			t.Errorf("exec plan (StartFd -1) has %s:\n%s", p.Ops[i], buildTestDump(p))
		}
	}
	// and a create has both, wait-start right after ready
	in = buildTestInput(t)
	p = buildTestBuild(t, in)
	r := buildTestFind(p, 0, plan.OpReady, "create")
	if r < 0 || r+1 >= len(p.Ops) || p.Ops[r+1].Code != plan.OpWaitStart || p.Ops[r+1].Ints[0] != 5 {
		t.Errorf("create plan: ready at %d, want wait-start on fd 5 next:\n%s", r, buildTestDump(p))
	}
}

// Every op carries a field: it is what an executor error is reported as.
func TestBuildEveryOpHasAField(t *testing.T) {
	t.Parallel()
	in := buildTestInput(t)
	adj := 1
	in.Spec.Process.OOMScoreAdj = &adj
	in.Spec.Hostname = "h"
	in.Ns.New |= unix.CLONE_NEWUSER | unix.CLONE_NEWUTS | unix.CLONE_NEWTIME
	in.Spec.Linux.TimeOffsets = map[string]specs.LinuxTimeOffset{"monotonic": {Secs: 1}}
	in.Spec.Mounts = []specs.Mount{{Destination: "/proc", Type: "proc", Source: "proc", Options: []string{"rslave"}}}
	in.Seccomp = &Seccomp{Program: []byte{1}}
	p := buildTestBuild(t, in)
	for i, o := range p.Ops {
		if o.Field == "" {
			t.Errorf("op %d %s has no field", i, o)
		}
	}
}

// ---- mount options ----

func TestParseMountOptions(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		opts  []string
		flags uintptr
		prop  []uintptr
		data  string
	}{
		{nil, 0, nil, ""},
		{[]string{"defaults"}, 0, nil, ""},
		{[]string{"ro", "nosuid", "nodev", "noexec"}, unix.MS_RDONLY | unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC, nil, ""},
		{[]string{"ro", "rw"}, 0, nil, ""},
		{[]string{"rw", "ro"}, unix.MS_RDONLY, nil, ""},
		{[]string{"nosuid", "suid", "nodev", "dev", "noexec", "exec"}, 0, nil, ""},
		{[]string{"noatime", "atime", "nodiratime", "diratime", "relatime", "norelatime", "strictatime", "nostrictatime"}, 0, nil, ""},
		{[]string{"sync", "dirsync", "mand", "silent", "iversion", "lazytime", "nosymfollow"},
			unix.MS_SYNCHRONOUS | unix.MS_DIRSYNC | unix.MS_MANDLOCK | unix.MS_SILENT | unix.MS_I_VERSION | unix.MS_LAZYTIME | unix.MS_NOSYMFOLLOW, nil, ""},
		{[]string{"sync", "async", "mand", "nomand", "silent", "loud", "iversion", "noiversion", "lazytime", "nolazytime"}, 0, nil, ""},
		{[]string{"bind"}, unix.MS_BIND, nil, ""},
		{[]string{"rbind", "remount"}, unix.MS_BIND | unix.MS_REC | unix.MS_REMOUNT, nil, ""},
		{[]string{"rprivate", "shared", "rslave", "unbindable"}, 0,
			[]uintptr{unix.MS_PRIVATE | unix.MS_REC, unix.MS_SHARED, unix.MS_SLAVE | unix.MS_REC, unix.MS_UNBINDABLE}, ""},
		{[]string{"private", "rshared", "slave", "runbindable"}, 0,
			[]uintptr{unix.MS_PRIVATE, unix.MS_SHARED | unix.MS_REC, unix.MS_SLAVE, unix.MS_UNBINDABLE | unix.MS_REC}, ""},
		{[]string{"mode=755", "ro", "size=65536k", "uid=5"}, unix.MS_RDONLY, nil, "mode=755,size=65536k,uid=5"},
		{[]string{"nosuid", "lowerdir=/a:/b", "rprivate", "upperdir=/c"}, unix.MS_NOSUID, []uintptr{unix.MS_PRIVATE | unix.MS_REC}, "lowerdir=/a:/b,upperdir=/c"},
	} {
		got := parseMountOptions(c.opts)
		if got.flags != c.flags {
			t.Errorf("%q: flags %#x, want %#x", c.opts, got.flags, c.flags)
		}
		if len(got.propagation)+len(c.prop) > 0 && !reflect.DeepEqual(got.propagation, c.prop) {
			t.Errorf("%q: propagation %#x, want %#x", c.opts, got.propagation, c.prop)
		}
		if got.dataString() != c.data {
			t.Errorf("%q: data %q, want %q", c.opts, got.dataString(), c.data)
		}
	}
}

// flagsAfterBind: what a bind mount only gets from the remount; never the
// bind or recursion bits themselves.
func TestFlagsAfterBind(t *testing.T) {
	t.Parallel()
	if flagsAfterBind&(unix.MS_BIND|unix.MS_REC|unix.MS_REMOUNT) != 0 {
		t.Errorf("flagsAfterBind %#x includes bind/rec/remount", flagsAfterBind)
	}
	for _, o := range []string{"ro", "nosuid", "nodev", "noexec", "noatime", "nodiratime", "relatime", "strictatime", "nosymfollow"} {
		if m := mountFlags[o]; flagsAfterBind&m.flag == 0 {
			t.Errorf("option %q (%#x) is lost on a bind mount: not in flagsAfterBind", o, m.flag)
		}
	}
	// a bind with no flag asked keeps its source's: no remount
	in := buildTestInput(t)
	in.Spec.Mounts = []specs.Mount{{Destination: "/x", Type: "bind", Source: in.Rootfs, Options: []string{"rbind", "rprivate"}}}
	p := buildTestBuild(t, in)
	for _, o := range p.Ops {
		if o.Field == `mounts[0] destination "/x"` && o.Ints[0]&unix.MS_REMOUNT != 0 {
			t.Errorf("remount for a bind without flags to apply: %s", o)
		}
	}
	// flags asked to be cleared (rw of a read-only source) are a remount
	// too, as runc 1.5, and the executor is told which were cleared
	in.Spec.Mounts[0].Options = []string{"rbind", "rw", "suid"}
	p = buildTestBuild(t, in)
	i := buildTestFind(p, 0, plan.OpMount, `mounts[0] destination "/x"`)
	want := []int64{unix.MS_BIND | unix.MS_REMOUNT, plan.TargetDir, plan.MountKeepLocked, unix.MS_RDONLY | unix.MS_NOSUID}
	if i < 0 || i+1 >= len(p.Ops) || !reflect.DeepEqual(p.Ops[i+1].Ints, want) {
		t.Errorf("rbind,rw,suid: want a remount %v after the bind:\n%s", want, buildTestDump(p))
	}
}

// TestBuildKeyring: a create joins a new session keyring named after the
// container right after setsid, unless --no-new-keyring; exec never does.
func TestBuildKeyring(t *testing.T) {
	in := buildTestInput(t)
	in.NoNewKeyring, in.ContainerID = false, "box"
	p, err := Build(in)
	if err != nil {
		t.Fatal(err)
	}
	var found bool
	for i, op := range p.Ops {
		if op.Code == plan.OpKeyring {
			found = true
			if p.Ops[i-1].Code != plan.OpSetsid || len(op.Strs) != 1 || op.Strs[0] != "box" {
				t.Fatalf("keyring op %d: %v after %v", i, op, p.Ops[i-1])
			}
		}
	}
	if !found {
		t.Fatal("no keyring op without --no-new-keyring")
	}
	in.StartFd = -1 // exec
	in.Ns = Namespaces{}
	if p, err = Build(in); err != nil {
		t.Fatal(err)
	}
	for _, op := range p.Ops {
		if op.Code == plan.OpKeyring {
			t.Fatal("an exec joined a new keyring")
		}
	}
}

// TestBuildJoinCgroupFirst: the executor moves itself into the cgroup
// before anything else, so that everything it does is accounted there.
func TestBuildJoinCgroupFirst(t *testing.T) {
	in := buildTestInput(t)
	in.CgroupTasks = []string{"/sys/fs/cgroup/memory/x/tasks", "/sys/fs/cgroup/pids/x/tasks"}
	p, err := Build(in)
	if err != nil {
		t.Fatal(err)
	}
	op := p.Ops[0]
	if op.Code != plan.OpJoinCgroup || len(op.Strs) != 2 || op.Strs[0] != "/sys/fs/cgroup/memory/x/tasks" ||
		op.Strs[1] != "/sys/fs/cgroup/pids/x/tasks" || !strings.HasPrefix(op.Field, "linux.cgroupsPath") {
		t.Fatalf("first op %v (%s), want join-cgroup of the two tasks files", op, op.Field)
	}
}

// TestBuildJoinCgroupLate: with a plan sent before the cgroup is made, the
// container's process waits for it (a sync) and joins it right before what
// needs it: the cgroup view of a cgroup mount, else the device nodes; the
// mounts before that come first, and the join comes once.
func TestBuildJoinCgroupLate(t *testing.T) {
	for _, withCgroupMount := range []bool{true, false} {
		in := buildTestInput(t)
		in.CgroupTasks = []string{"/sys/fs/cgroup/memory/x/tasks"}
		in.CgroupLate = true
		in.Spec.Mounts = []specs.Mount{{Destination: "/proc", Type: "proc", Source: "proc"}}
		if withCgroupMount {
			in.Spec.Mounts = append(in.Spec.Mounts, specs.Mount{Destination: "/sys/fs/cgroup", Type: "cgroup", Source: "cgroup"},
				specs.Mount{Destination: "/tmp", Type: "tmpfs", Source: "tmpfs"})
		}
		p := buildTestBuild(t, in)
		sync, join, proc, cgroupMount, tmp, mknod, syncs, joins := -1, -1, -1, -1, -1, -1, 0, 0
		for i, op := range p.Ops {
			switch {
			case op.Code == plan.OpSync && op.Ints[0] == plan.SyncCgroup:
				sync, syncs = i, syncs+1
			case op.Code == plan.OpJoinCgroup:
				join, joins = i, joins+1
			case op.Code == plan.OpMount && strings.HasPrefix(op.Field, "mounts[0]") && proc < 0:
				proc = i
			case op.Code == plan.OpMount && strings.HasPrefix(op.Field, "mounts[1]") && cgroupMount < 0:
				cgroupMount = i
			case op.Code == plan.OpMount && strings.HasPrefix(op.Field, "mounts[2]") && tmp < 0:
				tmp = i
			case op.Code == plan.OpMknod && mknod < 0:
				mknod = i
			}
		}
		if syncs != 1 || joins != 1 || join != sync+1 || proc > sync || mknod < join {
			t.Fatalf("cgroup mount %v: sync %d (x%d), join %d (x%d), /proc mount %d, first mknod %d; want /proc < sync < join < mknod, once each",
				withCgroupMount, sync, syncs, join, joins, proc, mknod)
		}
		if withCgroupMount && (cgroupMount != join+1 || tmp < cgroupMount) {
			t.Fatalf("the join (%d) does not come right before the cgroup mount (%d), or the later mount (%d) moved", join, cgroupMount, tmp)
		}
	}
}

// TestBuildCgroupNamespaceAfterLateJoin: a cgroup namespace's root is the
// cgroup of its unshare; with a late join it is unshared right after it.
func TestBuildCgroupNamespaceAfterLateJoin(t *testing.T) {
	in := buildTestInput(t)
	in.Ns.New |= unix.CLONE_NEWCGROUP | unix.CLONE_NEWNET
	in.CgroupTasks = []string{"/sys/fs/cgroup/memory/x/tasks"}
	in.CgroupLate = true
	p := buildTestBuild(t, in)
	join, cgroupNs := -1, -1
	for i, op := range p.Ops {
		switch {
		case op.Code == plan.OpJoinCgroup:
			join = i
		case op.Code == plan.OpUnshare && op.Ints[0]&unix.CLONE_NEWCGROUP != 0:
			if op.Ints[0] != unix.CLONE_NEWCGROUP || cgroupNs >= 0 {
				t.Fatalf("op %d unshares %#x: the cgroup namespace must be unshared alone, once", i, op.Ints[0])
			}
			cgroupNs = i
		}
	}
	if join < 0 || cgroupNs != join+1 {
		t.Fatalf("join at %d, cgroup namespace unshared at %d; want right after the join", join, cgroupNs)
	}
}

// TestBuildPreludeUnshared: namespaces the executor unshared in its
// prelude are left out of the plan's unshare; the cgroup namespace, which
// the prelude never makes, stays.
func TestBuildPreludeUnshared(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name     string
		prelude  int
		want     int64 // the unshare op's flags, 0: no unshare op
		wantFork bool
	}{
		{"no prelude", 0, unix.CLONE_NEWNS | unix.CLONE_NEWPID | unix.CLONE_NEWNET | unix.CLONE_NEWCGROUP, true},
		{"prelude", unix.CLONE_NEWNS | unix.CLONE_NEWPID | unix.CLONE_NEWNET, unix.CLONE_NEWCGROUP, true},
	} {
		in := buildTestInput(t)
		in.Ns.New = unix.CLONE_NEWNS | unix.CLONE_NEWPID | unix.CLONE_NEWNET | unix.CLONE_NEWCGROUP
		in.PreludeUnshared = c.prelude
		p := buildTestBuild(t, in)
		var got int64
		fork := false
		for _, op := range p.Ops {
			switch op.Code {
			case plan.OpUnshare:
				got |= op.Ints[0]
			case plan.OpFork:
				fork = true
			}
		}
		if got != c.want || fork != c.wantFork {
			t.Errorf("%s: unshare %#x, fork %v; want %#x, %v\n%s", c.name, got, fork, c.want, c.wantFork, buildTestDump(p))
		}
	}
}

// TestBuildPreludeUserNamespace: a user namespace the prelude unshared is
// not unshared again, but the plan still has the runtime write its id maps
// before the executor takes uid 0 in it.
func TestBuildPreludeUserNamespace(t *testing.T) {
	t.Parallel()
	in := buildTestInput(t)
	in.Ns.New = unix.CLONE_NEWUSER | unix.CLONE_NEWNS | unix.CLONE_NEWNET
	in.PreludeUnshared = unix.CLONE_NEWUSER | unix.CLONE_NEWNS | unix.CLONE_NEWNET
	p := buildTestBuild(t, in)
	var order []string
	for _, op := range p.Ops {
		switch {
		case op.Code == plan.OpUnshare:
			t.Errorf("unshare %#x in the plan after the prelude made them\n%s", op.Ints[0], buildTestDump(p))
		case op.Code == plan.OpSync && op.Ints[0] == plan.SyncMaps:
			order = append(order, "maps")
		case op.Code == plan.OpSetID0:
			order = append(order, "setid0")
		}
	}
	if strings.Join(order, ",") != "maps,setid0" {
		t.Errorf("id maps and uid 0: %v, want maps then setid0\n%s", order, buildTestDump(p))
	}
}

// A bind source inside the rootfs that an earlier mount makes or covers is
// resolved in the rootfs when mounted (it need not exist yet); one that no
// earlier mount touches is still checked at once.
func TestBuildMountSourceInRoot(t *testing.T) {
	t.Parallel()
	in := buildTestInput(t)
	host := t.TempDir()
	in.Spec.Mounts = []specs.Mount{
		{Destination: "/mnt/a", Type: "bind", Source: host, Options: []string{"bind"}},
		{Destination: "/z", Type: "bind", Source: filepath.Join(in.Rootfs, "mnt/a/sub"), Options: []string{"bind", "ro"}},
		{Destination: "/q/r", Type: "tmpfs", Source: "tmpfs"},
		{Destination: "/w", Type: "bind", Source: filepath.Join(in.Rootfs, "q"), Options: []string{"bind"}},
	}
	p := buildTestBuild(t, in)
	for _, c := range []struct {
		field, src string
	}{{`mounts[1] destination "/z"`, "/mnt/a/sub"}, {`mounts[3] destination "/w"`, "/q"}} {
		i := buildTestFind(p, 0, plan.OpMount, c.field)
		if i < 0 || p.Ops[i].Strs[0] != c.src || len(p.Ops[i].Ints) < 3 || p.Ops[i].Ints[2]&plan.MountSrcInRoot == 0 {
			t.Errorf("%s: want a mount of %s resolved in the rootfs:\n%s", c.field, c.src, buildTestDump(p))
		}
	}
	// the ro of /z is still a remount after its bind
	if i := buildTestFind(p, 0, plan.OpMount, `mounts[1] destination "/z"`); i < 0 || p.Ops[i+1].Ints[0]&unix.MS_REMOUNT == 0 {
		t.Errorf("no remount for /z:\n%s", buildTestDump(p))
	}

	in.Spec.Mounts = []specs.Mount{
		{Destination: "/mnt/a", Type: "bind", Source: host, Options: []string{"bind"}},
		{Destination: "/z", Type: "bind", Source: filepath.Join(in.Rootfs, "elsewhere"), Options: []string{"bind"}},
	}
	if _, err := Build(in); err == nil || !strings.Contains(err.Error(), "mounts[1].source") {
		t.Errorf("a missing source no earlier mount makes: error %v, want mounts[1].source", err)
	}
}

// A tmpfs without mode= asks the executor for the mode of its mount point.
func TestBuildTmpfsMode(t *testing.T) {
	t.Parallel()
	in := buildTestInput(t)
	in.Spec.Mounts = []specs.Mount{
		{Destination: "/a", Type: "tmpfs", Source: "tmpfs", Options: []string{"size=1k"}},
		{Destination: "/b", Type: "tmpfs", Source: "tmpfs", Options: []string{"mode=700"}},
		{Destination: "/c", Type: "tmpfs", Source: "tmpfs", Options: []string{"tmpcopyup"}},
	}
	p := buildTestBuild(t, in)
	for dest, want := range map[string]int64{"/a": plan.MountTmpfsMode, "/b": 0, "/c": plan.MountTmpfsMode | plan.MountCopyUp} {
		i := buildTestFind(p, 0, plan.OpMount, fmt.Sprintf("mounts[%d] destination %q", dest[1]-'a', dest))
		var got int64
		if i >= 0 && len(p.Ops[i].Ints) > 2 {
			got = p.Ops[i].Ints[2]
		}
		if i < 0 || got != want {
			t.Errorf("%s: mount bits %d, want %d:\n%s", dest, got, want, buildTestDump(p))
		}
	}
}

// TestBuildPidfd: --pidfd-socket's op comes with the process's set-up,
// named "standard" for create and "setns" for exec as runc names them;
// none without the flag.
func TestBuildPidfd(t *testing.T) {
	t.Parallel()
	in := buildTestInput(t)
	if i := buildTestFind(buildTestBuild(t, in), 0, plan.OpPidfd, ""); i >= 0 {
		t.Errorf("a pidfd op without --pidfd-socket")
	}
	for start, kind := range map[int]string{5: "standard", -1: "setns"} {
		in := buildTestInput(t)
		in.PidfdFd, in.StartFd = 7, start
		p := buildTestBuild(t, in)
		i := buildTestFind(p, 0, plan.OpPidfd, "--pidfd-socket")
		if i < 0 || p.Ops[i].Ints[0] != 7 || len(p.Ops[i].Strs) != 1 || p.Ops[i].Strs[0] != kind {
			t.Errorf("start fd %d: want a pidfd op on fd 7 named %s:\n%s", start, kind, buildTestDump(p))
		}
		if u := buildTestFind(p, 0, plan.OpUser, ""); u >= 0 && u < i {
			t.Errorf("the pidfd op after the process changed its user:\n%s", buildTestDump(p))
		}
	}
}

// TestBuildNoPivotCovers: --no-pivot with a user namespace covers part of
// the host's procfs and sysfs in a mount namespace of the host's user
// namespace, before the user namespace (so that its mount namespace gets
// the covers locked); without covers nothing of it is in the plan.
func TestBuildNoPivotCovers(t *testing.T) {
	t.Parallel()
	in := buildTestInput(t)
	in.NoPivot = true
	in.Ns.New |= unix.CLONE_NEWUSER
	in.NoPivotCovers = []string{"/proc/sys", "/sys/kernel"}
	p := buildTestBuild(t, in)
	field := "--no-pivot (the host's procfs and sysfs)"
	ro := int64(unix.MS_RDONLY | unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC)
	buildTestExpect(t, p, 0, []buildTestOp{
		{plan.OpUnshare, field, []int64{unix.CLONE_NEWNS}, nil},
		{plan.OpMount, field, []int64{unix.MS_SLAVE | unix.MS_REC, plan.TargetPlain}, []string{"", "/", "", ""}},
		{plan.OpMount, field, []int64{ro, plan.TargetPlain}, []string{"tmpfs", "/proc/sys", "tmpfs", "size=0,nr_inodes=1,mode=0"}},
		{plan.OpMount, field, []int64{ro, plan.TargetPlain}, []string{"tmpfs", "/sys/kernel", "tmpfs", "size=0,nr_inodes=1,mode=0"}},
		{plan.OpUnshare, "linux.namespaces user", []int64{unix.CLONE_NEWUSER}, nil},
	})
	in.NoPivotCovers = nil
	if i := buildTestFind(buildTestBuild(t, in), 0, plan.OpUnshare, field); i >= 0 {
		t.Errorf("covers in a plan without any")
	}
}

// TestBuildReadonlyDev: a read-only /dev tmpfs is mounted read-write and
// made read-only once the nodes, links and console are made in it, by
// mount_setattr on its own mount; a read-only bind of a host directory
// on /dev is left as asked.
func TestBuildReadonlyDev(t *testing.T) {
	t.Parallel()
	in := buildTestInput(t)
	in.Spec.Mounts = []specs.Mount{
		{Destination: "/dev", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "ro", "mode=755"}},
		{Destination: "/dev/pts", Type: "devpts", Source: "devpts"},
	}
	p := buildTestBuild(t, in)
	dev := buildTestFind(p, 0, plan.OpMount, `mounts[0] destination "/dev"`)
	if dev < 0 || p.Ops[dev].Ints[0]&unix.MS_RDONLY != 0 {
		t.Fatalf("the /dev mount is not made read-write first:\n%s", buildTestDump(p))
	}
	ro := buildTestFind(p, 0, plan.OpMountSetattr, `mounts[0] destination "/dev" (read-only)`)
	last := buildTestFind(p, 0, plan.OpSymlink, "/dev symlink /dev/ptmx")
	if ro < 0 || ro < last || ro < buildTestFind(p, 0, plan.OpPivot, "") {
		t.Fatalf("read-only /dev at %d, want after the links (%d) and the pivot:\n%s", ro, last, buildTestDump(p))
	}
	buildTestExpect(t, p, ro, []buildTestOp{{plan.OpMountSetattr, `mounts[0] destination "/dev" (read-only)`, []int64{unix.MOUNT_ATTR_RDONLY, 0, 1}, []string{"/dev"}}})
	in.Spec.Mounts[0] = specs.Mount{Destination: "/dev", Type: "bind", Source: in.Rootfs, Options: []string{"rbind", "ro"}}
	if i := buildTestFind(buildTestBuild(t, in), 0, plan.OpMountSetattr, `mounts[0] destination "/dev" (read-only)`); i >= 0 {
		t.Errorf("a read-only bind on /dev made read-only again at the end")
	}
}
