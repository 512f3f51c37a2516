package integration

// Tests of oci-rt on cgroup layouts other than this host's own, and of
// the limits this host cannot apply:
//
//   - v1 hierarchies for hugetlb and net_cls,net_prio, which a typical v1
//     host mounts and this one does not: the test mounts them in a mount
//     namespace of its own as the conformance runner does
//     (tests/conformance/runner/cgroupv1), or skips saying why it cannot;
//   - a pure cgroup v2 host: in a mount namespace of its own,
//     /sys/fs/cgroup replaced by a cgroup2 mount (the host's cgroup2
//     hierarchy, where only hugetlb and the core cgroup.* files are
//     usable: the other controllers are bound to v1);
//   - linux.resources.unified and limits without a hierarchy on the hybrid
//     host as it is.
//
// A test that needs a mount namespace of its own runs again, alone, in a
// child test process started with CLONE_NEWNS (chInOwnMountNS): the
// child does the work, the parent reports its verdict.

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/oci-rt/oci-rt/tests/conformance/runner/cgroupv1"
)

// ---- helpers (prefix ch: cgroup hosts) ----

// chLayoutEnv tells the child test process which layout it is to set up.
const chLayoutEnv = "OCIRT_TEST_CGROUP_LAYOUT"

func chID(name string) string { return uniqueID("ch", name) }

// chInOwnMountNS returns true in the child test process, which runs in a
// mount namespace of its own. In the parent it runs the calling test
// again in such a child, fails or skips as the child did, and returns
// false.
func chInOwnMountNS(t *testing.T, layout string) bool {
	t.Helper()
	if os.Getenv(chLayoutEnv) == layout {
		return true
	}
	outPath := filepath.Join(t.TempDir(), "child.out")
	out, err := os.Create(outPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^"+t.Name()+"$", "-test.count=1", "-test.v", "-test.timeout=5m")
	cmd.Stdout, cmd.Stderr = out, out
	cmd.Env = append(os.Environ(), chLayoutEnv+"="+layout, "OCIRT_BINARY="+binary)
	cmd.SysProcAttr = &syscall.SysProcAttr{Unshareflags: syscall.CLONE_NEWNS}
	runErr := cmd.Run()
	out.Close()
	b, _ := os.ReadFile(outPath)
	text := string(b)
	switch {
	case runErr != nil:
		t.Fatalf("%s, run in a mount namespace of its own: %v\n%s", layout, runErr, text)
	case strings.Contains(text, "--- SKIP: "+t.Name()):
		t.Skipf("%s, run in a mount namespace of its own, skipped:\n%s", layout, text)
	case !strings.Contains(text, "--- PASS: "+t.Name()):
		t.Fatalf("%s, run in a mount namespace of its own: no PASS line\n%s", layout, text)
	}
	t.Logf("%s, run in a mount namespace of its own:\n%s", layout, text)
	return false
}

// chCreate runs `oci-rt create` with the container's stdio in files (a
// pipe would be held by a container that is created after all).
func chCreate(t *testing.T, e *Env, b, id string) Result {
	t.Helper()
	outPath, errPath := filepath.Join(e.Dir, id+".out"), filepath.Join(e.Dir, id+".err")
	out, err1 := os.Create(outPath)
	errf, err2 := os.Create(errPath)
	if err := errors.Join(err1, err2); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(binary, "--root", e.Root, "create", "-b", b, id)
	cmd.Stdout, cmd.Stderr = out, errf
	err := cmd.Run()
	out.Close()
	errf.Close()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	o, _ := os.ReadFile(outPath)
	s, _ := os.ReadFile(errPath)
	return Result{string(o), string(s), code}
}

// chNothingLeft checks that a refused create left no state and none of
// the given cgroup directories.
func chNothingLeft(t *testing.T, e *Env, id string, dirs ...string) {
	t.Helper()
	if _, err := os.Stat(filepath.Join(e.Root, id)); !os.IsNotExist(err) {
		t.Errorf("state directory of %s left behind (stat: %v)", id, err)
	}
	if r := e.Run("list", "-q"); strings.Contains(r.Stdout, id) {
		t.Errorf("list still shows %s: %q", id, r.Stdout)
	}
	for _, d := range dirs {
		if _, err := os.Stat(d); !os.IsNotExist(err) {
			t.Errorf("cgroup %s left behind (stat: %v)", d, err)
		}
	}
}

// chPageSize is a huge page size of this host, in the spec's notation.
type chPageSize struct {
	name  string // "2MB"
	bytes uint64
}

// chPageSizes lists /sys/kernel/mm/hugepages (hugepages-2048kB, ...).
func chPageSizes(t *testing.T) []chPageSize {
	t.Helper()
	entries, err := os.ReadDir("/sys/kernel/mm/hugepages")
	if err != nil || len(entries) == 0 {
		t.Skipf("this kernel has no huge pages (%v)", err)
	}
	var out []chPageSize
	for _, e := range entries {
		kb, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimPrefix(e.Name(), "hugepages-"), "kB"), 10, 64)
		if err != nil {
			t.Fatalf("/sys/kernel/mm/hugepages/%s: %v", e.Name(), err)
		}
		p := chPageSize{name: fmt.Sprintf("%dKB", kb), bytes: kb << 10}
		switch {
		case kb%(1<<20) == 0:
			p.name = fmt.Sprintf("%dGB", kb>>20)
		case kb%(1<<10) == 0:
			p.name = fmt.Sprintf("%dMB", kb>>10)
		}
		out = append(out, p)
	}
	return out
}

// chHasLine says whether text has the line.
func chHasLine(text, line string) bool {
	return strings.Contains("\n"+strings.TrimSpace(text)+"\n", "\n"+line+"\n")
}

// chCgroupFS returns the filesystem type of /sys/fs/cgroup (a tmpfs of
// v1 hierarchies, or cgroup2).
func chCgroupFS(t *testing.T, path string) int64 {
	t.Helper()
	var st unix.Statfs_t
	if err := unix.Statfs(path, &st); err != nil {
		return 0
	}
	return st.Type
}

// ---- 1. v1 hierarchies for hugetlb and net_cls,net_prio ----

// TestCHV1HugetlbNetwork: with v1 hierarchies for hugetlb and
// net_cls,net_prio (mounted in the test's own mount namespace as the
// conformance runner mounts them), hugepageLimits and network.classID and
// priorities reach the container's cgroups (outside: the files; the
// process is in them) and the container sees them in its own cgroup
// mount (inside); delete removes the cgroups; a page size the host does
// not have is refused with a one-line error that leaves nothing behind.
func TestCHV1HugetlbNetwork(t *testing.T) {
	if !chInOwnMountNS(t, "v1") {
		return
	}
	sizes := chPageSizes(t)
	l, err := cgroupv1.Provide()
	if errors.Is(err, cgroupv1.ErrNotV1) {
		t.Skipf("not a cgroup v1 host: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		notes, err := l.Release()
		t.Logf("release of the v1 hierarchies: %q", notes)
		if err != nil {
			t.Errorf("release of the v1 hierarchies: %v", err)
		}
	})
	for _, c := range []string{"hugetlb", "net_cls", "net_prio"} {
		if !l.Has(c) {
			t.Skipf("no v1 %s hierarchy can be had here: %s", c, l.NotFree[c])
		}
	}
	t.Logf("v1 hierarchies mounted for the test: %q", l.AddedNames())

	e := NewEnv(t)
	id := chID("v1")
	const classID = 0x100010
	b := e.Bundle([]string{"sleep", "1000"}, func(s *specs.Spec) {
		for _, p := range sizes {
			s.Linux.Resources.HugepageLimits = append(s.Linux.Resources.HugepageLimits,
				specs.LinuxHugepageLimit{Pagesize: p.name, Limit: 3 * p.bytes})
		}
		s.Linux.Resources.Network = &specs.LinuxNetwork{ClassID: rpUint32(classID),
			Priorities: []specs.LinuxInterfacePriority{{Name: "lo", Priority: 7}}}
	})
	rsDetached(t, e, b, id)
	pid := e.Pid(id)

	// outside: the process is in the cgroups, which hold the limits
	hugeDir := filepath.Join("/sys/fs/cgroup/hugetlb/oci-rt", id)
	netDir := filepath.Join("/sys/fs/cgroup/net_cls,net_prio/oci-rt", id)
	own := rsProcCgroup(t, pid)
	for _, key := range []string{"hugetlb", "net_cls,net_prio"} {
		if own[key] != "/oci-rt/"+id {
			t.Errorf("/proc/%d/cgroup: %s is %q, want /oci-rt/%s", pid, key, own[key], id)
		}
	}
	for _, dir := range []string{hugeDir, netDir} {
		if procs := rsRead(filepath.Join(dir, "cgroup.procs")); !chHasLine(procs, strconv.Itoa(pid)) {
			t.Errorf("%s/cgroup.procs = %q, lacks pid %d", dir, procs, pid)
		}
	}
	for _, p := range sizes {
		want := strconv.FormatUint(3*p.bytes, 10)
		for _, f := range []string{"hugetlb." + p.name + ".limit_in_bytes", "hugetlb." + p.name + ".rsvd.limit_in_bytes"} {
			if got := rsRead(filepath.Join(hugeDir, f)); got != want {
				t.Errorf("outside %s = %q, want %s", f, got, want)
			}
		}
	}
	if got := rsRead(filepath.Join(netDir, "net_cls.classid")); got != strconv.Itoa(classID) {
		t.Errorf("outside net_cls.classid = %q, want %d", got, classID)
	}
	if got := rsRead(filepath.Join(netDir, "net_prio.ifpriomap")); !chHasLine(got, "lo 7") {
		t.Errorf("outside net_prio.ifpriomap = %q, lacks \"lo 7\"", got)
	}
	// the symlinks a v1 host has next to a co-mounted hierarchy
	if got := rsRead(filepath.Join("/sys/fs/cgroup/net_cls/oci-rt", id, "net_cls.classid")); got != strconv.Itoa(classID) {
		t.Errorf("outside, through the net_cls symlink: net_cls.classid = %q", got)
	}

	// inside: the container's own cgroups (cgroup namespace) with the limits
	p0 := sizes[0]
	in := rsExecOut(t, e, id, fmt.Sprintf(`cat /proc/self/cgroup; echo ==
echo "huge=$(cat /sys/fs/cgroup/hugetlb/hugetlb.%s.limit_in_bytes)"
echo "classid=$(cat /sys/fs/cgroup/net_cls,net_prio/net_cls.classid)"
grep '^lo ' /sys/fs/cgroup/net_cls,net_prio/net_prio.ifpriomap
echo "link-classid=$(cat /sys/fs/cgroup/net_cls/net_cls.classid)"
echo "link-prio=$(readlink /sys/fs/cgroup/net_prio)"`, p0.name))
	cgPart, rest, _ := strings.Cut(in, "==")
	for _, key := range []string{"hugetlb", "net_cls,net_prio"} {
		if !chLineEndsWith(cgPart, ":"+key+":/") {
			t.Errorf("inside, /proc/self/cgroup has no %s line at the namespace root: %q", key, cgPart)
		}
	}
	// the co-mounted controllers are also reachable by their own names
	for _, line := range []string{fmt.Sprintf("huge=%d", 3*p0.bytes), fmt.Sprintf("classid=%d", classID), "lo 7",
		fmt.Sprintf("link-classid=%d", classID), "link-prio=net_cls,net_prio"} {
		if !chHasLine(rest, line) {
			t.Errorf("inside: %q lacks the line %q", rest, line)
		}
	}

	e.MustRun("delete", "--force", id)
	for _, dir := range []string{hugeDir, netDir} {
		if rsExists(dir) {
			t.Errorf("cgroup %s left after delete", dir)
		}
	}

	// a page size this host does not have
	bad := chID("v1-3mb")
	bb := e.Bundle([]string{"true"}, func(s *specs.Spec) {
		s.Linux.Resources.HugepageLimits = []specs.LinuxHugepageLimit{{Pagesize: "3MB", Limit: 3 << 20}}
	})
	lcOneLine(t, "create with a 3MB page size", chCreate(t, e, bb, bad),
		`linux.resources: hugepageLimits[0].pageSize "3MB": not a huge page size of this host`)
	chNothingLeft(t, e, bad, filepath.Join("/sys/fs/cgroup/hugetlb/oci-rt", bad), filepath.Join("/sys/fs/cgroup/memory/oci-rt", bad))
}

// chLineEndsWith says whether some line of text ends with suffix.
func chLineEndsWith(text, suffix string) bool {
	for _, l := range strings.Split(text, "\n") {
		if strings.HasSuffix(strings.TrimSpace(l), suffix) {
			return true
		}
	}
	return false
}

// ---- 2. a pure cgroup v2 host ----

// chMountCgroup2 replaces /sys/fs/cgroup, in the test's own mount
// namespace, by the host's cgroup2 hierarchy, and returns its
// cgroup.controllers.
func chMountCgroup2(t *testing.T) []string {
	t.Helper()
	if chCgroupFS(t, "/sys/fs/cgroup") != unix.CGROUP2_SUPER_MAGIC {
		if err := unix.Unmount("/sys/fs/cgroup", unix.MNT_DETACH); err != nil {
			t.Fatalf("umount /sys/fs/cgroup: %v", err)
		}
		if err := unix.Mount("cgroup2", "/sys/fs/cgroup", "cgroup2", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC|unix.MS_RELATIME, ""); err != nil {
			t.Fatalf("mount cgroup2 on /sys/fs/cgroup: %v", err)
		}
	}
	return strings.Fields(rsRead("/sys/fs/cgroup/cgroup.controllers"))
}

// chRestoreSubtree puts cgroup.subtree_control of the root and of /oci-rt
// (the parent of the default cgroups) back as the root's was: creating a
// cgroup, the library enables every available controller in the root and
// the parents it makes (as runc does), and a controller left enabled there
// (hugetlb, on this host) can no longer be bound to a v1 hierarchy (the
// conformance runner's). The tests that use it are serialized, across the
// processes that run them too, by a lock file: two of them at once would
// each take the other's controllers for the host's.
func chRestoreSubtree(t *testing.T) {
	t.Helper()
	lock, err := os.OpenFile("/run/oci-rt-test-cgroup2.lock", os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.Flock(int(lock.Fd()), unix.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	const root = "/sys/fs/cgroup/cgroup.subtree_control"
	before := " " + rsRead(root) + " "
	t.Cleanup(func() {
		defer lock.Close()
		// the child first: the kernel refuses to disable a controller in
		// a parent while a child enables it
		for _, f := range []string{"/sys/fs/cgroup/oci-rt/cgroup.subtree_control", root} {
			if _, err := os.Stat(f); err != nil {
				continue
			}
			for _, c := range strings.Fields(rsRead(f)) {
				if !strings.Contains(before, " "+c+" ") {
					if err := os.WriteFile(f, []byte("-"+c), 0o644); err != nil {
						t.Errorf("restore %s: -%s: %v", f, c, err)
					}
				}
			}
		}
		if got := " " + rsRead(root) + " "; got != before {
			t.Errorf("%s is %q, was %q", root, got, before)
		}
	})
}

// TestCHV2Host: on a pure cgroup v2 host (/sys/fs/cgroup a cgroup2 mount,
// where this host has only hugetlb and the core cgroup.* files),
// linux.resources.unified keys and a hugetlb limit are written to the
// container's cgroup (outside: the files, and the limits are in force;
// inside: the container's cgroup namespace shows them), `update` changes
// a key, absolute and relative cgroupsPaths put the container where runc
// would, delete removes the cgroup; a limit for a controller the
// hierarchy lacks (memory), net_cls, or a unified key of such a
// controller fail create with a one-line error naming the field and
// leave no cgroup or state behind.
func TestCHV2Host(t *testing.T) {
	if !chInOwnMountNS(t, "v2") {
		return
	}
	sizes := chPageSizes(t)
	release, err := cgroupv1.ExclusiveV2()
	if errors.Is(err, cgroupv1.ErrInUse) {
		t.Skipf("hugetlb is needed on the cgroup2 hierarchy: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(release)
	avail := chMountCgroup2(t)
	if !strings.Contains(" "+strings.Join(avail, " ")+" ", " hugetlb ") {
		t.Skipf("the cgroup2 hierarchy has no hugetlb controller here (cgroup.controllers %q)", avail)
	}
	chRestoreSubtree(t)
	own := rsProcCgroup(t, "self")[""]
	base := fmt.Sprintf("ch-v2-%d", os.Getpid())
	relRoot := filepath.Join("/sys/fs/cgroup", filepath.Dir(own)) // runc's relative paths: from our cgroup's parent
	t.Cleanup(func() {
		os.Remove(filepath.Join("/sys/fs/cgroup", base))
		os.Remove(filepath.Join(relRoot, base))
	})
	p0 := sizes[0]
	hugeMax := "hugetlb." + p0.name + ".max"

	t.Run("unified-absolute", func(t *testing.T) {
		e := NewEnv(t)
		id := chID("v2-abs")
		path := "/" + base + "/" + id
		dir := filepath.Join("/sys/fs/cgroup", path)
		b := e.Bundle([]string{"sleep", "1000"}, func(s *specs.Spec) {
			s.Linux.CgroupsPath = path
			s.Linux.Resources.Unified = map[string]string{
				"cgroup.max.descendants": "3",
				"cgroup.max.depth":       "2",
				hugeMax:                  strconv.FormatUint(2*p0.bytes, 10),
			}
		})
		rsDetached(t, e, b, id)
		pid := e.Pid(id)
		if got := rsProcCgroup(t, pid)[""]; got != path {
			t.Errorf("/proc/%d/cgroup: 0::%s, want 0::%s", pid, got, path)
		}
		if procs := rsRead(filepath.Join(dir, "cgroup.procs")); !chHasLine(procs, strconv.Itoa(pid)) {
			t.Errorf("%s/cgroup.procs = %q, lacks pid %d", dir, procs, pid)
		}
		want := map[string]string{"cgroup.max.descendants": "3", "cgroup.max.depth": "2", hugeMax: strconv.FormatUint(2*p0.bytes, 10)}
		for f, v := range want {
			if got := rsRead(filepath.Join(dir, f)); got != v {
				t.Errorf("outside %s = %q, want %s", f, got, v)
			}
		}
		// in force: three descendants at most, two levels at most
		for i := 1; i <= 4; i++ {
			err := os.Mkdir(filepath.Join(dir, fmt.Sprintf("d%d", i)), 0o755)
			if i <= 3 && err != nil {
				t.Errorf("mkdir descendant %d of 3 allowed: %v", i, err)
			}
			if i == 4 && !errors.Is(err, unix.EAGAIN) {
				t.Errorf("mkdir a 4th descendant with cgroup.max.descendants 3: %v, want EAGAIN", err)
			}
		}
		for i := 1; i <= 4; i++ {
			os.Remove(filepath.Join(dir, fmt.Sprintf("d%d", i)))
		}
		deep := filepath.Join(dir, "a", "b", "c")
		if err := os.MkdirAll(filepath.Dir(deep), 0o755); err != nil {
			t.Errorf("mkdir two levels with cgroup.max.depth 2: %v", err)
		}
		if err := os.Mkdir(deep, 0o755); !errors.Is(err, unix.EAGAIN) {
			t.Errorf("mkdir a third level with cgroup.max.depth 2: %v, want EAGAIN", err)
		}
		os.Remove(deep)
		os.Remove(filepath.Dir(deep))
		os.Remove(filepath.Dir(filepath.Dir(deep)))

		// inside: the container's cgroup is the root of its cgroup namespace
		in := rsExecOut(t, e, id, "cat /proc/self/cgroup; for f in cgroup.max.descendants cgroup.max.depth "+hugeMax+"; do echo \"$f=$(cat /sys/fs/cgroup/$f)\"; done")
		if !chHasLine(in, "0::/") {
			t.Errorf("inside, /proc/self/cgroup is not 0::/: %q", in)
		}
		for f, v := range want {
			if !chHasLine(in, f+"="+v) {
				t.Errorf("inside %s: want %s in %q", f, v, in)
			}
		}

		// update changes a key and keeps the others
		if r := e.RunIn(`{"unified": {"cgroup.max.depth": "1"}}`, "update", "--resources", "-", id); r.Code != 0 {
			t.Errorf("update unified: exit %d %q", r.Code, r.Stderr)
		}
		if got := rsRead(filepath.Join(dir, "cgroup.max.depth")); got != "1" {
			t.Errorf("after update cgroup.max.depth = %q, want 1", got)
		}
		if got := rsRead(filepath.Join(dir, "cgroup.max.descendants")); got != "3" {
			t.Errorf("after update cgroup.max.descendants = %q, want 3", got)
		}

		e.MustRun("delete", "--force", id)
		if rsExists(dir) {
			t.Errorf("cgroup %s left after delete", dir)
		}
	})

	t.Run("hugetlb-relative", func(t *testing.T) {
		e := NewEnv(t)
		id := chID("v2-rel")
		rel := base + "/" + id
		dir := filepath.Join(relRoot, rel)
		limit := strconv.FormatUint(3*p0.bytes, 10)
		b := e.Bundle([]string{"sleep", "1000"}, func(s *specs.Spec) {
			s.Linux.CgroupsPath = rel
			s.Linux.Resources.HugepageLimits = []specs.LinuxHugepageLimit{{Pagesize: p0.name, Limit: 3 * p0.bytes}}
		})
		rsDetached(t, e, b, id)
		pid := e.Pid(id)
		wantCg := filepath.Join(filepath.Dir(own), rel)
		if got := rsProcCgroup(t, pid)[""]; got != wantCg {
			t.Errorf("/proc/%d/cgroup: 0::%s, want 0::%s", pid, got, wantCg)
		}
		for _, f := range []string{hugeMax, "hugetlb." + p0.name + ".rsvd.max"} {
			if got := rsRead(filepath.Join(dir, f)); got != limit {
				t.Errorf("outside %s = %q, want %s", f, got, limit)
			}
		}
		if in := rsExecOut(t, e, id, "cat /sys/fs/cgroup/"+hugeMax); strings.TrimSpace(in) != limit {
			t.Errorf("inside %s = %q, want %s", hugeMax, in, limit)
		}
		e.MustRun("delete", "--force", id)
		if rsExists(dir) {
			t.Errorf("cgroup %s left after delete", dir)
		}
	})

	// without a pid namespace of its own, kill KILL reaches every process
	// of the container's cgroup (frozen by cgroup.freeze meanwhile), as on
	// v1 (TestR15KillSharedPidNs) and with runc 1.5
	t.Run("kill-shared-pidns", func(t *testing.T) {
		e := NewEnv(t)
		id := chID("v2-killall")
		dir := filepath.Join("/sys/fs/cgroup", base, id)
		b := e.Bundle([]string{"sh", "-c", "sleep 1000 & sleep 1000 & wait"}, func(s *specs.Spec) {
			s.Linux.CgroupsPath = "/" + base + "/" + id
			lcNoPidNs(s)
		})
		rsDetached(t, e, b, id)
		var procs []string
		for deadline := time.Now().Add(10 * time.Second); len(procs) < 3 && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			procs = strings.Fields(rsRead(filepath.Join(dir, "cgroup.procs")))
		}
		if len(procs) != 3 {
			t.Fatalf("%s/cgroup.procs %v, want the shell and 2 sleeps", dir, procs)
		}
		e.MustRun("kill", id, "KILL")
		for _, p := range procs {
			n, _ := strconv.Atoi(p)
			lcWaitGone(t, n)
		}
		e.WaitStatus(id, "stopped")
		e.MustRun("delete", id)
		if rsExists(dir) {
			t.Errorf("cgroup %s left after delete", dir)
		}
	})

	t.Run("refused", func(t *testing.T) {
		for _, c := range []struct {
			name string
			edit func(*specs.Spec)
			want string
			skip bool
		}{
			{"memory", func(s *specs.Spec) { s.Linux.Resources.Memory = &specs.LinuxMemory{Limit: rsI64(64 << 20)} },
				`linux.resources: memory.limit 67108864: the memory controller is not available in cgroup /sys/fs/cgroup/%s (cgroup.controllers: %q)`,
				strings.Contains(" "+strings.Join(avail, " ")+" ", " memory ")},
			{"net_cls", func(s *specs.Spec) { s.Linux.Resources.Network = &specs.LinuxNetwork{ClassID: rpUint32(0x100010)} },
				`linux.resources: network.classID 1048592: cgroup v2 has no net_cls controller`, false},
			{"unified-memory", func(s *specs.Spec) { s.Linux.Resources.Unified = map[string]string{"memory.max": "1G"} },
				`linux.resources: unified["memory.max"] "1G": the memory controller is not available in cgroup /sys/fs/cgroup/%s (cgroup.controllers: %q)`,
				strings.Contains(" "+strings.Join(avail, " ")+" ", " memory ")},
		} {
			t.Run(c.name, func(t *testing.T) {
				if c.skip {
					t.Skip("memory is available on the cgroup2 hierarchy here")
				}
				e := NewEnv(t)
				id := chID("v2-" + c.name)
				path := base + "/" + id
				b := e.Bundle([]string{"true"}, func(s *specs.Spec) {
					s.Linux.CgroupsPath = "/" + path
					c.edit(s)
				})
				want := c.want
				if strings.Contains(want, "%s") {
					want = fmt.Sprintf(want, path, strings.Join(avail, " "))
				}
				lcOneLine(t, "create", chCreate(t, e, b, id), want)
				chNothingLeft(t, e, id, filepath.Join("/sys/fs/cgroup", path))
			})
		}
	})
}

// ---- 3. the hybrid host as it is ----

// TestCHHybridUnifiedAndMissingHierarchies: on this v1 host (hybrid: a
// cgroup2 mount at /sys/fs/cgroup/unified without controllers),
// linux.resources.unified is refused at create and at update as runc
// refuses it ("cannot use unified on cgroup v1"), with a one-line error
// naming the field that leaves nothing behind; an empty unified map is no
// request; hugepageLimits and network limits without a v1 hierarchy for
// their controller are refused naming the field.
func TestCHHybridUnifiedAndMissingHierarchies(t *testing.T) {
	t.Parallel()
	if chCgroupFS(t, "/sys/fs/cgroup") == unix.CGROUP2_SUPER_MAGIC {
		t.Skip("a cgroup v2 host: unified keys apply here (TestCHV2Host)")
	}
	hybrid := chCgroupFS(t, "/sys/fs/cgroup/unified") == unix.CGROUP2_SUPER_MAGIC
	e := NewEnv(t)
	v1Dirs := func(id string) []string {
		dirs := []string{filepath.Join("/sys/fs/cgroup/memory/oci-rt", id), filepath.Join("/sys/fs/cgroup/pids/oci-rt", id)}
		if hybrid {
			dirs = append(dirs, filepath.Join("/sys/fs/cgroup/unified/oci-rt", id))
		}
		return dirs
	}

	t.Run("unified-create", func(t *testing.T) {
		id := chID("hy-unified")
		b := e.Bundle([]string{"true"}, func(s *specs.Spec) {
			s.Linux.Resources.Unified = map[string]string{"cgroup.max.descendants": "3"}
		})
		want := []string{`linux.resources.unified ["cgroup.max.descendants"]: cgroup v2 keys cannot be applied on this cgroup v1 host`}
		if hybrid {
			want = append(want, "/sys/fs/cgroup/unified is a hybrid one")
		}
		lcOneLine(t, "create with unified", chCreate(t, e, b, id), want...)
		chNothingLeft(t, e, id, v1Dirs(id)...)
		// runc refuses the same config
		runc, err := exec.LookPath("runc")
		if err != nil {
			t.Log("runc not installed: not compared")
			return
		}
		runcRoot := filepath.Join(e.Dir, "runc-root")
		cmd := exec.Command(runc, "--root", runcRoot, "run", "-b", b, id)
		out, err := cmd.CombinedOutput()
		if err == nil {
			t.Errorf("runc ran the container with unified keys: %s", out)
		} else if !strings.Contains(string(out), "cannot use unified on cgroup v1") {
			t.Errorf("runc refused it otherwise: %v %s", err, out)
		}
		exec.Command(runc, "--root", runcRoot, "delete", "--force", id).Run()
	})

	t.Run("unified-empty", func(t *testing.T) {
		id := chID("hy-empty")
		b := e.Bundle([]string{"true"}, func(s *specs.Spec) { s.Linux.Resources.Unified = map[string]string{} })
		if r := e.Run("run", "-b", b, id); r.Code != 0 {
			t.Errorf("run with an empty unified map: exit %d %q", r.Code, r.Stderr)
		}
		chNothingLeft(t, e, id, v1Dirs(id)...)
	})

	t.Run("unified-update", func(t *testing.T) {
		id := chID("hy-update")
		b := e.Bundle([]string{"sleep", "1000"}, func(s *specs.Spec) { s.Linux.Resources.Pids = &specs.LinuxPids{Limit: rsI64(40)} })
		rsDetached(t, e, b, id)
		lcOneLine(t, "update with unified", e.RunIn(`{"unified": {"pids.max": "5"}}`, "update", "--resources", "-", id),
			`linux.resources: unified ["pids.max"]: cgroup v2 keys cannot be applied on this cgroup v1 host`)
		if got := rsRead(rsV1("pids", id, "pids.max")); got != "40" {
			t.Errorf("after the refused update pids.max = %q, want 40", got)
		}
		// the refused keys were not saved: the next update works
		if r := e.Run("update", "--pids-limit", "9", id); r.Code != 0 {
			t.Errorf("update --pids-limit after a refused update: exit %d %q", r.Code, r.Stderr)
		}
		if got := rsRead(rsV1("pids", id, "pids.max")); got != "9" {
			t.Errorf("pids.max = %q, want 9", got)
		}
		e.MustRun("delete", "--force", id)
	})

	t.Run("hugetlb", func(t *testing.T) {
		if rsExists("/sys/fs/cgroup/hugetlb") {
			t.Skip("this host mounts a v1 hugetlb hierarchy")
		}
		sizes := chPageSizes(t)
		id := chID("hy-huge")
		b := e.Bundle([]string{"true"}, func(s *specs.Spec) {
			s.Linux.Resources.HugepageLimits = []specs.LinuxHugepageLimit{{Pagesize: sizes[0].name, Limit: sizes[0].bytes}}
		})
		lcOneLine(t, "create with a hugetlb limit", chCreate(t, e, b, id),
			fmt.Sprintf(`linux.resources: hugepageLimits[0] %q: no cgroup v1 hugetlb hierarchy is mounted on this host`, sizes[0].name))
		chNothingLeft(t, e, id, v1Dirs(id)...)
	})

	t.Run("network", func(t *testing.T) {
		if rsExists("/sys/fs/cgroup/net_cls") {
			t.Skip("this host mounts a v1 net_cls hierarchy")
		}
		id := chID("hy-net")
		b := e.Bundle([]string{"true"}, func(s *specs.Spec) {
			s.Linux.Resources.Network = &specs.LinuxNetwork{ClassID: rpUint32(0x100010)}
		})
		lcOneLine(t, "create with a net_cls class id", chCreate(t, e, b, id),
			`linux.resources: network.classID 1048592: no cgroup v1 net_cls hierarchy is mounted on this host`)
		chNothingLeft(t, e, id, v1Dirs(id)...)
	})
}
