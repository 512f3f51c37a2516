package integration

// The process attributes of runtime-spec 1.3 (issue 14): process.scheduler,
// process.ioPriority, linux.personality, linux.memoryPolicy, the CPU
// affinity (reset, execCPUAffinity), user.* sysctls, the recursive atime
// mount attributes, and what is refused by name (linux.intelRdt,
// linux.mountLabel without SELinux). Each is checked from inside the
// container and from the host.

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

func atID(name string) string { return fmt.Sprintf("at-%s-%d", name, os.Getpid()) }

var (
	atProbeOnce sync.Once
	atProbePath string
	atProbeErr  error
)

// atProbe builds testdata/attrprobe, a static binary that prints the
// memory policy and sched_attr of the process it runs as, then execs the
// rest of its arguments.
func atProbe(t *testing.T) string {
	t.Helper()
	atProbeOnce.Do(func() {
		dir, err := os.MkdirTemp("", "oci-rt-attrprobe")
		if err != nil {
			atProbeErr = err
			return
		}
		atProbePath = filepath.Join(dir, "attrprobe")
		cmd := exec.Command("go", "build", "-o", atProbePath, "./testdata/attrprobe")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			atProbeErr = fmt.Errorf("build attrprobe: %v\n%s", err, out)
		}
	})
	if atProbeErr != nil {
		t.Fatal(atProbeErr)
	}
	return atProbePath
}

// atBundle is a busybox bundle with the probe at /bin/attrprobe.
func atBundle(t *testing.T, e *Env, args []string, edit func(*specs.Spec)) string {
	t.Helper()
	probe := atProbe(t)
	b := e.Bundle(args, edit)
	data, err := os.ReadFile(probe)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(b, "rootfs/bin/attrprobe"), data, 0o755); err != nil {
		t.Fatal(err)
	}
	return b
}

// atStart runs the bundle detached (output to a file), waits for READY in
// its output and returns the output so far and the container's pid.
func atStart(t *testing.T, e *Env, b, id string, wrap ...string) (string, int) {
	t.Helper()
	args := append(append([]string{}, wrap...), binary, "--root", e.Root, "run", "-d", "-b", b, id)
	out := filepath.Join(e.Dir, id+".out")
	f, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Run(); err != nil {
		data, _ := os.ReadFile(out)
		t.Fatalf("%v: %v\n%s", args, err, data)
	}
	t.Cleanup(func() { e.Run("delete", "--force", id) })
	deadline := time.Now().Add(10 * time.Second)
	for {
		data, _ := os.ReadFile(out)
		if strings.Contains(string(data), "READY") {
			return string(data), e.Pid(id)
		}
		if time.Now().After(deadline) {
			t.Fatalf("no READY from %s: %q", id, data)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// atStatField is field n (1-based, as proc(5) counts) of /proc/<pid>/stat.
func atStatField(t *testing.T, stat string, n int) string {
	t.Helper()
	i := strings.LastIndex(stat, ")")
	if i < 0 {
		t.Fatalf("no comm in %q", stat)
	}
	f := strings.Fields(stat[i+1:])
	if len(f) < n-2 {
		t.Fatalf("short stat %q", stat)
	}
	return f[n-3]
}

func atRead(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

func atLine(t *testing.T, out, prefix string) string {
	t.Helper()
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, prefix) {
			return strings.TrimSpace(l)
		}
	}
	t.Fatalf("no line %q in:\n%s", prefix, out)
	return ""
}

// atRefused checks a create that must fail with one line naming want, and
// leave nothing behind.
func atRefused(t *testing.T, e *Env, b, id string, want ...string) {
	t.Helper()
	r, _ := lcRun(e, "create", "-b", b, id)
	escRefused(t, e, b, id, r, want...)
	// a cgroup at the root (atRealtimeBudget) too, in every hierarchy
	if left, _ := filepath.Glob("/sys/fs/cgroup/*/" + id); len(left) > 0 {
		t.Errorf("create %s: cgroups %v left behind", id, left)
	}
}

const atShow = `ionice; uname -m; cat /proc/self/personality; echo "STAT $(cat /proc/$$/stat)"; grep Cpus_allowed_list /proc/self/status; echo READY; exec sleep 100`

func TestAttrsSchedulerIOPriorityPersonalityMemoryPolicy(t *testing.T) {
	e := NewEnv(t)
	id := atID("all")
	b := atBundle(t, e, []string{"/bin/attrprobe", "/bin/sh", "-c", atShow}, func(s *specs.Spec) {
		s.Process.Scheduler = &specs.Scheduler{Policy: specs.SchedBatch, Nice: 7, Flags: []specs.LinuxSchedulerFlag{specs.SchedFlagResetOnFork}}
		s.Process.IOPriority = &specs.LinuxIOPriority{Class: specs.IOPRIO_CLASS_BE, Priority: 6}
		s.Linux.Personality = &specs.LinuxPersonality{Domain: specs.PerLinux32}
		s.Linux.MemoryPolicy = &specs.LinuxMemoryPolicy{Mode: specs.MpolBind, Nodes: "0", Flags: []specs.MemoryPolicyFlagType{specs.MpolFStaticNodes}}
	})
	out, pid := atStart(t, e, b, id)
	// inside: the container's own process (the probe, before it execs sh)
	if got, want := atLine(t, out, "mempolicy"), fmt.Sprintf("mempolicy mode=%d nodes=1", 2|1<<15); got != want {
		t.Errorf("inside: %q, want %q (MPOL_BIND|MPOL_F_STATIC_NODES on node 0)", got, want)
	}
	if got := atLine(t, out, "schedattr"); !strings.HasPrefix(got, "schedattr policy=3 flags=1 nice=7 priority=0") {
		t.Errorf("inside: %q, want SCHED_BATCH (3), SCHED_FLAG_RESET_ON_FORK, nice 7", got)
	}
	if got := atLine(t, out, "best-effort"); got != "best-effort: prio 6" {
		t.Errorf("inside ionice: %q", got)
	}
	if got := atLine(t, out, "i686"); got != "i686" {
		t.Errorf("inside uname -m: %q, want i686 (LINUX32)", got)
	}
	if got := atLine(t, out, "0000000"); got != "00000008" {
		t.Errorf("inside /proc/self/personality: %q", got)
	}
	stat := strings.TrimPrefix(atLine(t, out, "STAT "), "STAT ")
	if p, n := atStatField(t, stat, 41), atStatField(t, stat, 19); p != "3" || n != "7" {
		t.Errorf("inside /proc/$$/stat: policy %s nice %s, want 3 and 7", p, n)
	}
	// from the host
	hstat := atRead(t, fmt.Sprintf("/proc/%d/stat", pid))
	if p, n := atStatField(t, hstat, 41), atStatField(t, hstat, 19); p != "3" || n != "7" {
		t.Errorf("host /proc/%d/stat: policy %s nice %s, want 3 and 7", pid, p, n)
	}
	if got := atRead(t, fmt.Sprintf("/proc/%d/personality", pid)); got != "00000008" {
		t.Errorf("host /proc/%d/personality: %q", pid, got)
	}
	io, err := exec.Command("ionice", "-p", fmt.Sprint(pid)).CombinedOutput()
	if err != nil || strings.TrimSpace(string(io)) != "best-effort: prio 6" {
		t.Errorf("host ionice -p %d: %q %v", pid, io, err)
	}
}

func TestAttrsRealtimeScheduling(t *testing.T) {
	e := NewEnv(t)
	id := atID("fifo")
	b := atBundle(t, e, []string{"/bin/attrprobe", "/bin/sh", "-c", atShow}, func(s *specs.Spec) {
		s.Process.Scheduler = &specs.Scheduler{Policy: specs.SchedFIFO, Priority: 10}
		s.Process.IOPriority = &specs.LinuxIOPriority{Class: specs.IOPRIO_CLASS_RT, Priority: 2}
		atRealtimeBudget(s, id)
	})
	out, pid := atStart(t, e, b, id)
	if got := atLine(t, out, "schedattr"); !strings.HasPrefix(got, "schedattr policy=1 flags=0 nice=0 priority=10") {
		t.Errorf("inside: %q, want SCHED_FIFO (1) priority 10", got)
	}
	if got := atLine(t, out, "realtime"); got != "realtime: prio 2" {
		t.Errorf("inside ionice: %q", got)
	}
	hstat := atRead(t, fmt.Sprintf("/proc/%d/stat", pid))
	if p, rt := atStatField(t, hstat, 41), atStatField(t, hstat, 40); p != "1" || rt != "10" {
		t.Errorf("host /proc/%d/stat: policy %s rt_priority %s, want 1 and 10", pid, p, rt)
	}

	// SCHED_DEADLINE: a task of its own that may not fork (sh forks cat:
	// reset-on-fork lets its children be SCHED_OTHER)
	id = atID("deadline")
	b = atBundle(t, e, []string{"/bin/sh", "-c", atShow}, func(s *specs.Spec) {
		s.Process.Scheduler = &specs.Scheduler{Policy: specs.SchedDeadline, Runtime: 10_000_000, Deadline: 100_000_000, Period: 100_000_000,
			Flags: []specs.LinuxSchedulerFlag{specs.SchedFlagResetOnFork}}
	})
	out, pid = atStart(t, e, b, id)
	stat := strings.TrimPrefix(atLine(t, out, "STAT "), "STAT ")
	if p := atStatField(t, stat, 41); p != "6" {
		t.Errorf("inside /proc/$$/stat: policy %s, want SCHED_DEADLINE (6)", p)
	}
	sched := atRead(t, fmt.Sprintf("/proc/%d/sched", pid))
	if !strings.Contains(sched, "dl.runtime") || atStatField(t, atRead(t, fmt.Sprintf("/proc/%d/stat", pid)), 41) != "6" {
		t.Errorf("host /proc/%d: not SCHED_DEADLINE:\n%s", pid, sched)
	}
}

// atRealtimeBudget gives the container's cgroup v1 cpu controller some
// real-time runtime: a cgroup without any refuses SCHED_FIFO (EPERM). Its
// parent must have some too: the cgroup is made at the root, not under
// /oci-rt (which has none).
func atRealtimeBudget(s *specs.Spec, id string) {
	s.Linux.CgroupsPath = "/" + id
	rt, period := int64(10000), uint64(1000000)
	if s.Linux.Resources == nil {
		s.Linux.Resources = &specs.LinuxResources{}
	}
	s.Linux.Resources.CPU = &specs.LinuxCPU{RealtimeRuntime: &rt, RealtimePeriod: &period}
}

// In a user namespace CAP_SYS_NICE is not the host's: SCHED_FIFO needs
// RLIMIT_RTPRIO, which the plan sets first. Without it the kernel refuses,
// and the error names the field.
func TestAttrsRealtimeInUserNamespace(t *testing.T) {
	e := NewEnv(t)
	userns := func(id string) func(s *specs.Spec) {
		return func(s *specs.Spec) {
			nsAddUserns(s)
			s.Process.Scheduler = &specs.Scheduler{Policy: specs.SchedFIFO, Priority: 10}
			atRealtimeBudget(s, id)
		}
	}
	id := atID("rt-userns-no")
	b := atBundle(t, e, []string{"/bin/sh", "-c", atShow}, userns(id))
	nsPrepareUserns(t, e, b)
	atRefused(t, e, b, id, `process.scheduler.policy "SCHED_FIFO"`, "sched_setattr", "not permitted", "RLIMIT_RTPRIO")

	// the real-time I/O class needs the host's CAP_SYS_ADMIN or CAP_SYS_NICE
	id = atID("ioprio-userns-no")
	b = atBundle(t, e, []string{"/bin/sh", "-c", atShow}, func(s *specs.Spec) {
		nsAddUserns(s)
		s.Process.IOPriority = &specs.LinuxIOPriority{Class: specs.IOPRIO_CLASS_RT, Priority: 1}
	})
	nsPrepareUserns(t, e, b)
	atRefused(t, e, b, id, "process.ioPriority: ioprio_set: operation not permitted", "IOPRIO_CLASS_RT needs")

	// raising RLIMIT_RTPRIO's hard limit needs CAP_SYS_RESOURCE on the
	// host, which this sandbox withholds: only a caller whose hard limit
	// is already 10 can show the rlimit path
	var rl unix.Rlimit
	if unix.Getrlimit(unix.RLIMIT_RTPRIO, &rl); rl.Max < 10 {
		t.Logf("RLIMIT_RTPRIO hard limit %d here: SCHED_FIFO through the rlimit in a user namespace not tried", rl.Max)
		return
	}
	id = atID("rt-userns")
	b = atBundle(t, e, []string{"/bin/sh", "-c", atShow}, func(s *specs.Spec) {
		userns(id)(s)
		s.Process.Rlimits = append(s.Process.Rlimits, specs.POSIXRlimit{Type: "RLIMIT_RTPRIO", Soft: 10, Hard: 10})
	})
	nsPrepareUserns(t, e, b)
	out, pid := atStart(t, e, b, id)
	stat := strings.TrimPrefix(atLine(t, out, "STAT "), "STAT ")
	if p, rt := atStatField(t, stat, 41), atStatField(t, stat, 40); p != "1" || rt != "10" {
		t.Errorf("inside: policy %s rt_priority %s, want 1 and 10", p, rt)
	}
	hstat := atRead(t, fmt.Sprintf("/proc/%d/stat", pid))
	if p, rt := atStatField(t, hstat, 41), atStatField(t, hstat, 40); p != "1" || rt != "10" {
		t.Errorf("host: policy %s rt_priority %s, want 1 and 10", p, rt)
	}
}

// The container does not inherit the caller's CPU mask (a containerd
// started with systemd's CPUAffinity= would pin every container): it gets
// every CPU its cgroup allows, as runc 1.4 does.
func TestAttrsCPUAffinityNotInherited(t *testing.T) {
	all := atRead(t, "/sys/fs/cgroup/cpuset/cpuset.effective_cpus")
	if all == "0" {
		t.Skip("one CPU: nothing to tell apart")
	}
	e := NewEnv(t)
	id := atID("affinity")
	b := atBundle(t, e, []string{"/bin/sh", "-c", atShow}, nil)
	out, pid := atStart(t, e, b, id, "taskset", "-c", "0")
	if got := atLine(t, out, "Cpus_allowed_list"); got != "Cpus_allowed_list:\t"+all {
		t.Errorf("inside: %q, want %s (the caller was on CPU 0 only)", got, all)
	}
	if got := atLine(t, atRead(t, fmt.Sprintf("/proc/%d/status", pid)), "Cpus_allowed_list"); got != "Cpus_allowed_list:\t"+all {
		t.Errorf("host /proc/%d/status: %q, want %s", pid, got, all)
	}

	// exec: from a caller on CPU 0 it gets every CPU too; with
	// execCPUAffinity.final it gets that, after the cgroup join
	r := exec.Command("taskset", "-c", "0", binary, "--root", e.Root, "exec", id, "grep", "Cpus_allowed_list", "/proc/self/status")
	got, err := r.CombinedOutput()
	if err != nil || strings.TrimSpace(string(got)) != "Cpus_allowed_list:\t"+all {
		t.Errorf("exec from CPU 0: %q %v, want %s", got, err, all)
	}
	p := specs.Process{Args: []string{"grep", "Cpus_allowed_list", "/proc/self/status"}, Cwd: "/", Env: []string{"PATH=/bin"},
		ExecCPUAffinity: &specs.CPUAffinity{Initial: "0", Final: "1"}}
	pj, _ := json.Marshal(p)
	pf := filepath.Join(e.Dir, "process.json")
	os.WriteFile(pf, pj, 0o644)
	r = exec.Command(binary, "--root", e.Root, "exec", "--process", pf, id)
	got, err = r.CombinedOutput()
	if err != nil || strings.TrimSpace(string(got)) != "Cpus_allowed_list:\t1" {
		t.Errorf("exec with execCPUAffinity final 1: %q %v", got, err)
	}
	// the exec'd process seen from the host, while it runs
	p.Args = []string{"sh", "-c", "grep Cpus_allowed_list /proc/self/status; sleep 100"}
	pj, _ = json.Marshal(p)
	os.WriteFile(pf, pj, 0o644)
	pidFile := filepath.Join(e.Dir, "exec.pid")
	r = exec.Command(binary, "--root", e.Root, "exec", "-d", "--pid-file", pidFile, "--process", pf, id)
	r.Stdout, r.Stderr = nil, nil
	if err := r.Run(); err != nil {
		t.Fatalf("exec -d: %v", err)
	}
	epid := atRead(t, pidFile)
	if got := atLine(t, atRead(t, "/proc/"+epid+"/status"), "Cpus_allowed_list"); got != "Cpus_allowed_list:\t1" {
		t.Errorf("host /proc/%s/status of the exec'd process: %q, want 1", epid, got)
	}
	exec.Command("kill", "-9", epid).Run()

	// initial is seen only by the runtime's side: the thread that forks
	// the executor takes it (strace), the executor takes final after the
	// cgroup join
	if _, err := exec.LookPath("strace"); err == nil {
		p.Args = []string{"true"}
		pj, _ = json.Marshal(p)
		os.WriteFile(pf, pj, 0o644)
		trace := filepath.Join(e.Dir, "strace")
		out, err := exec.Command("strace", "-f", "-o", trace, "-e", "trace=sched_setaffinity,execve",
			binary, "--root", e.Root, "exec", "--process", pf, id).CombinedOutput()
		if err != nil {
			t.Fatalf("exec under strace: %v %s", err, out)
		}
		lines := strings.Split(atRead(t, trace), "\n")
		initial, executor, final := -1, -1, -1
		for i, l := range lines {
			switch {
			case strings.Contains(l, "sched_setaffinity(0, 8, [0])") && executor < 0:
				initial = i
			case strings.Contains(l, `"oci-rt", "init"`):
				executor = i
			case strings.Contains(l, "sched_setaffinity(0, 8, [1])"):
				final = i
			}
		}
		if initial < 0 || executor < initial || final < executor {
			t.Errorf("exec with execCPUAffinity initial 0, final 1: want the forking thread on CPU 0, then the executor, then CPU 1 (lines %d %d %d):\n%s",
				initial, executor, final, strings.Join(lines, "\n"))
		}
	}

	p.Args = []string{"true"}
	p.ExecCPUAffinity = &specs.CPUAffinity{Final: "0-x"}
	pj, _ = json.Marshal(p)
	os.WriteFile(pf, pj, 0o644)
	res := e.Run("exec", "--process", pf, id)
	if res.Code == 0 || !strings.Contains(res.Stderr, `process.execCPUAffinity.final "0-x"`) {
		t.Errorf("exec with a bad final list: exit %d %q", res.Code, res.Stderr)
	}
}

func TestAttrsRefusedByName(t *testing.T) {
	e := NewEnv(t)
	for _, c := range []struct {
		name string
		edit func(*specs.Spec)
		want []string
	}{
		{"intelrdt", func(s *specs.Spec) { s.Linux.IntelRdt = &specs.LinuxIntelRdt{ClosID: "c1"} }, []string{"linux.intelRdt", "resctrl"}},
		// (a host with SELinux applies it: the test host has none)
		{"mountlabel", func(s *specs.Spec) { s.Linux.MountLabel = "system_u:object_r:container_file_t:s0" }, []string{`linux.mountLabel "system_u:object_r:container_file_t:s0"`, "SELinux"}},
		{"persflags", func(s *specs.Spec) {
			s.Linux.Personality = &specs.LinuxPersonality{Domain: specs.PerLinux, Flags: []specs.LinuxPersonalityFlag{"ADDR_NO_RANDOMIZE"}}
		}, []string{`linux.personality.flags[0] "ADDR_NO_RANDOMIZE"`}},
		{"persdomain", func(s *specs.Spec) { s.Linux.Personality = &specs.LinuxPersonality{Domain: "LINUX64"} }, []string{`linux.personality.domain "LINUX64"`}},
		{"sched", func(s *specs.Spec) { s.Process.Scheduler = &specs.Scheduler{Policy: "SCHED_FAST"} }, []string{`process.scheduler.policy "SCHED_FAST"`}},
		// under /oci-rt, whose cpu cgroup has no real-time runtime: the
		// kernel refuses, the error says what is needed
		{"fifo", func(s *specs.Spec) { s.Process.Scheduler = &specs.Scheduler{Policy: specs.SchedFIFO, Priority: 5} },
			[]string{`process.scheduler.policy "SCHED_FIFO": sched_setattr: operation not permitted`, "realtimeRuntime"}},
		{"nice", func(s *specs.Spec) { s.Process.Scheduler = &specs.Scheduler{Policy: specs.SchedOther, Nice: 40} }, []string{"process.scheduler.nice 40"}},
		{"ioprio", func(s *specs.Spec) {
			s.Process.IOPriority = &specs.LinuxIOPriority{Class: specs.IOPRIO_CLASS_BE, Priority: 9}
		}, []string{"process.ioPriority.priority 9"}},
		{"mpolmode", func(s *specs.Spec) { s.Linux.MemoryPolicy = &specs.LinuxMemoryPolicy{Mode: "MPOL_FAST"} }, []string{`linux.memoryPolicy.mode "MPOL_FAST"`}},
		{"mpolnodes", func(s *specs.Spec) {
			s.Linux.MemoryPolicy = &specs.LinuxMemoryPolicy{Mode: specs.MpolBind, Nodes: "3-1"}
		}, []string{`linux.memoryPolicy.nodes "3-1"`}},
		// node 7 does not exist here: the kernel refuses, the field is named
		{"mpolkernel", func(s *specs.Spec) { s.Linux.MemoryPolicy = &specs.LinuxMemoryPolicy{Mode: specs.MpolBind, Nodes: "7"} }, []string{`linux.memoryPolicy mode "MPOL_BIND" nodes "7"`, "set_mempolicy", "/sys/devices/system/node"}},
		{"usersysctl", func(s *specs.Spec) { s.Linux.Sysctl = map[string]string{"user.max_user_namespaces": "7"} }, []string{`linux.sysctl "user.max_user_namespaces"`}},
	} {
		b := atBundle(t, e, []string{"true"}, c.edit)
		atRefused(t, e, b, atID("refused-"+c.name), c.want...)
	}
}

// user.* sysctls are the container's own in a user namespace of its own
// (runc 1.4): set inside, seen from the host in that namespace only.
func TestAttrsUserSysctlInUserNamespace(t *testing.T) {
	e := NewEnv(t)
	host := atRead(t, "/proc/sys/user/max_user_namespaces")
	b := atBundle(t, e, []string{"/bin/sh", "-c", "echo MAXNS $(cat /proc/sys/user/max_user_namespaces); echo READY; exec sleep 100"}, func(s *specs.Spec) {
		nsAddUserns(s)
		s.Linux.Sysctl = map[string]string{"user.max_user_namespaces": "7"}
	})
	nsPrepareUserns(t, e, b)
	out, pid := atStart(t, e, b, atID("usersysctl"))
	if got := atLine(t, out, "MAXNS"); got != "MAXNS 7" {
		t.Errorf("inside: %q, want 7", got)
	}
	seen, err := exec.Command("nsenter", "-t", fmt.Sprint(pid), "-U", "cat", "/proc/sys/user/max_user_namespaces").CombinedOutput()
	if err != nil || strings.TrimSpace(string(seen)) != "7" {
		t.Errorf("host, in the container's user namespace: %q %v", seen, err)
	}
	if got := atRead(t, "/proc/sys/user/max_user_namespaces"); got != host {
		t.Errorf("host's own value changed: %s -> %s", host, got)
	}
}

// rnoatime, rstrictatime, rrelatime reach every mount of a bind tree, and
// recursive attributes apply to a mount that is not a bind too.
func TestAttrsRecursiveAtime(t *testing.T) {
	e := NewEnv(t)
	src := filepath.Join(e.Dir, "tree")
	os.MkdirAll(filepath.Join(src, "sub"), 0o755)
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "strictatime", "attrs-sub", filepath.Join(src, "sub")).CombinedOutput(); err != nil {
		t.Fatalf("mount: %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", "-l", filepath.Join(src, "sub")).Run() })
	b := atBundle(t, e, []string{"/bin/sh", "-c", "grep -E ' /(na|sa|ra|tm)' /proc/self/mountinfo; echo READY; exec sleep 100"}, func(s *specs.Spec) {
		s.Mounts = append(s.Mounts,
			specs.Mount{Destination: "/na", Type: "bind", Source: src, Options: []string{"rbind", "rnoatime"}},
			specs.Mount{Destination: "/sa", Type: "bind", Source: src, Options: []string{"rbind", "rnoatime", "rstrictatime"}},
			specs.Mount{Destination: "/ra", Type: "bind", Source: src, Options: []string{"rbind", "rrelatime"}},
			specs.Mount{Destination: "/tm", Type: "tmpfs", Source: "tmpfs", Options: []string{"rro", "rnoatime"}})
	})
	out, pid := atStart(t, e, b, atID("ratime"))
	host := atRead(t, fmt.Sprintf("/proc/%d/mountinfo", pid))
	for _, view := range []struct{ who, text string }{{"inside", out}, {"host", host}} {
		for _, c := range []struct {
			dest, want, not string
		}{
			{"/na", "noatime", "strictatime"}, {"/na/sub", "noatime", "strictatime"},
			{"/sa", "", "noatime"}, {"/sa/sub", "", "noatime"}, {"/sa", "", "relatime"}, {"/sa/sub", "", "relatime"},
			{"/ra", "relatime", "noatime"}, {"/ra/sub", "relatime", "strictatime"},
			{"/tm", "ro,", "rw,"}, {"/tm", "noatime", "relatime"},
		} {
			opts := atMountOpts(view.text, c.dest)
			if opts == "" {
				t.Errorf("%s: no mount at %s in\n%s", view.who, c.dest, view.text)
				continue
			}
			if (c.want != "" && !strings.Contains(opts+",", c.want)) || strings.Contains(opts+",", c.not+",") {
				t.Errorf("%s: %s has %q, want %q and not %q", view.who, c.dest, opts, c.want, c.not)
			}
		}
	}
}

// atMountOpts is the per-mount options of dest in a mountinfo text.
func atMountOpts(mountinfo, dest string) string {
	for _, l := range strings.Split(mountinfo, "\n") {
		f := strings.Fields(l)
		if len(f) > 5 && f[4] == dest {
			return f[5]
		}
	}
	return ""
}
