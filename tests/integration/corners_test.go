package integration

// Lifecycle and CLI corners where clients and scripts expect runc's
// behaviour (issue 15): delete of a created container, kill --all after
// exit, signal 0, exec into a created container, ps of a stopped one,
// flags after the id, --pidfd-socket, exec --cgroup, OOM events, the
// console size and owner, a frozen cgroup, a seccomp listenerPath without
// SCMP_ACT_NOTIFY, the rules startContainer hooks run under.

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// ---- helpers (prefix cn: corners) ----

func cnID(name string) string { return uniqueID("cn", name) }

// ---- delete, kill, exec, ps ----

// TestCornerDeleteCreated: delete (no --force) of a created container
// kills its process and removes it, as runc does; the payload never ran.
func TestCornerDeleteCreated(t *testing.T) {
	t.Parallel()
	e := NewEnv(t)
	b := e.Bundle([]string{"sh", "-c", "touch /ran; sleep 1000"}, nil)
	id := cnID("delcreated")
	lcMustRun(t, e, "create", "-b", b, id)
	pid := e.Pid(id)
	if !lcAlive(pid) || e.Status(id) != "created" {
		t.Fatalf("created container: pid %d alive %v, status %s", pid, lcAlive(pid), e.Status(id))
	}
	e.MustRun("delete", id)
	lcAssertRemoved(t, e, id, b, pid)
	if _, err := os.Stat(filepath.Join(b, "rootfs", "ran")); err == nil {
		t.Errorf("the payload of a created container ran at delete")
	}
	// a running one is still refused without --force
	id2 := cnID("delrunning")
	lcMustRun(t, e, "create", "-b", b, id2)
	e.MustRun("start", id2)
	lcOneLine(t, "delete of a running container", e.Run("delete", id2), id2, "running")
	if !lcAlive(e.Pid(id2)) {
		t.Errorf("a refused delete killed the running container")
	}
}

// TestCornerKillAllStopped: kill --all on a stopped container signals
// what is left in its cgroup (a container without a pid namespace whose
// init died) and succeeds, also when nothing is left; kill without --all
// still says the container is not running.
func TestCornerKillAllStopped(t *testing.T) {
	t.Parallel()
	e := NewEnv(t)
	b := e.Bundle([]string{"sh", "-c", "sleep 1000 & echo ready; wait"}, lcNoPidNs)
	id := cnID("killall")
	_, out := lcMustRun(t, e, "create", "-b", b, id)
	e.MustRun("start", id)
	lcWaitOutput(t, out, "ready")
	pid := e.Pid(id)
	var left []int
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		left = nil
		for _, p := range lcCgroupProcs(t, id) {
			if p != pid && lcCmdline(p) == lcArgv([]string{"sleep", "1000"}) {
				left = append(left, p)
			}
		}
		if len(left) == 1 {
			break
		}
	}
	if len(left) != 1 {
		t.Fatalf("want one sleep beside the shell in the cgroup, got %v", left)
	}
	// the init dies alone (from the host): its child stays in the cgroup
	syscall.Kill(pid, syscall.SIGKILL)
	lcWaitGone(t, pid)
	e.WaitStatus(id, "stopped")
	if !lcAlive(left[0]) {
		t.Fatalf("the leftover sleep %d died with the init", left[0])
	}
	lcOneLine(t, "kill without --all of a stopped container", e.Run("kill", id, "TERM"), "container not running")
	if !lcAlive(left[0]) {
		t.Fatalf("kill without --all reached the leftover %d", left[0])
	}
	e.MustRun("kill", "--all", id, "TERM")
	lcWaitGone(t, left[0])
	if p := lcCgroupProcs(t, id); len(p) != 0 {
		t.Errorf("cgroup.procs after kill --all: %v", p)
	}
	// nothing left: still a success (containerd's shim calls it after exit)
	e.MustRun("kill", "-a", id, "KILL")
	e.MustRun("delete", id)
	lcAssertRemoved(t, e, id, b)

	// a container with its own pid namespace, stopped
	b2 := e.Bundle([]string{"true"}, nil)
	id2 := cnID("killall-pidns")
	lcMustRun(t, e, "run", "-d", "-b", b2, id2)
	e.WaitStatus(id2, "stopped")
	e.MustRun("kill", "--all", id2, "KILL")
	if st := e.Status(id2); st != "stopped" {
		t.Errorf("status %s after kill --all", st)
	}
}

// TestCornerKillSignalZero: kill ID 0 checks that the container runs
// without disturbing it; on a stopped container it fails.
func TestCornerKillSignalZero(t *testing.T) {
	t.Parallel()
	e := NewEnv(t)
	b := e.Bundle([]string{"sh", "-c", "trap 'echo got-signal' USR1 TERM HUP INT; echo ready; while :; do sleep 0.05; done"}, nil)
	id := cnID("sig0")
	_, out := lcMustRun(t, e, "run", "-d", "-b", b, id)
	lcWaitOutput(t, out, "ready")
	pid := e.Pid(id)
	e.MustRun("kill", id, "0")
	time.Sleep(100 * time.Millisecond)
	if !lcAlive(pid) || e.Status(id) != "running" || strings.Contains(out.String(), "got-signal") {
		t.Errorf("after kill 0: alive %v, status %s, output %q", lcAlive(pid), e.Status(id), out.String())
	}
	e.MustRun("kill", id, "KILL")
	lcWaitGone(t, pid)
	e.WaitStatus(id, "stopped")
	lcOneLine(t, "kill 0 of a stopped container", e.Run("kill", id, "0"), "container not running")
}

// TestCornerExecCreated: exec into a created container runs in its
// namespaces and cgroup; the container stays created and starts after.
func TestCornerExecCreated(t *testing.T) {
	t.Parallel()
	e := NewEnv(t)
	b := e.Bundle([]string{"sh", "-c", "echo payload-ran"}, nil)
	id := cnID("execcreated")
	_, out := lcMustRun(t, e, "create", "-b", b, id)
	pid := e.Pid(id)
	r := e.MustRun("exec", id, "sh", "-c", "echo exec-pidns=$(readlink /proc/self/ns/pid) exec-mntns=$(readlink /proc/self/ns/mnt); cat /proc/self/cgroup")
	if want := "exec-pidns=" + NsInode(t, pid, "pid") + " exec-mntns=" + NsInode(t, pid, "mnt"); !strings.Contains(r.Stdout, want) {
		t.Errorf("exec output %q: want %q (the created container's namespaces, seen from the host)", r.Stdout, want)
	}
	if got := cnParseCgroup(r.Stdout)["memory"]; got != "/" {
		t.Errorf("exec's memory cgroup inside the container's cgroup namespace %q, want /", got)
	}
	if strings.Contains(out.String(), "payload-ran") || e.Status(id) != "created" {
		t.Fatalf("exec started the container: status %s, output %q", e.Status(id), out.String())
	}
	if procs := lcCgroupProcs(t, id); len(procs) != 1 || procs[0] != pid {
		t.Errorf("after the exec, cgroup.procs %v, want [%d]", procs, pid)
	}
	e.MustRun("start", id)
	lcWaitOutput(t, out, "payload-ran")
	e.WaitStatus(id, "stopped")
	// exec into a stopped container is still refused
	lcOneLine(t, "exec into a stopped container", e.Run("exec", id, "true"), "not running")
}

// TestCornerPsStopped: ps of a stopped container prints ps's header and
// no process (table), [] (json), exit 0, as runc does.
func TestCornerPsStopped(t *testing.T) {
	t.Parallel()
	e := NewEnv(t)
	b := e.Bundle([]string{"true"}, nil)
	id := cnID("psstopped")
	lcMustRun(t, e, "run", "-d", "-b", b, id)
	e.WaitStatus(id, "stopped")
	r := e.MustRun("ps", id)
	lines := strings.Split(strings.TrimSpace(r.Stdout), "\n")
	if len(lines) != 1 || !strings.Contains(" "+lines[0]+" ", " PID ") {
		t.Errorf("ps of a stopped container: %q, want only the header", r.Stdout)
	}
	if r := e.MustRun("ps", "--format", "json", id); strings.TrimSpace(r.Stdout) != "[]" {
		t.Errorf("ps --format json of a stopped container: %q, want []", r.Stdout)
	}
	lcOneLine(t, "ps of an unknown container", e.Run("ps", cnID("nosuch")), "does not exist")
}

// TestCornerFlagsAfterID: flags after the container id, as runc's
// argument reordering accepts them (and exec's between the id and the
// command).
func TestCornerFlagsAfterID(t *testing.T) {
	t.Parallel()
	e := NewEnv(t)
	b := e.Bundle([]string{"sleep", "1000"}, nil)
	id := cnID("flagsafter")
	lcMustRun(t, e, "run", "-d", "-b", b, id)
	pid := e.Pid(id)
	e.MustRun("update", id, "--memory", "100M")
	if got := rsRead(filepath.Join(lcMemCgroup(id), "memory.limit_in_bytes")); got != "104857600" {
		t.Errorf("memory.limit_in_bytes %q after update ID --memory 100M, want 104857600", got)
	}
	r := e.MustRun("exec", id, "--env", "CNX=one", "--env", "CNY=two,three", "--cwd", "/tmp", "sh", "-c", "echo $CNX $CNY $(pwd) \"$@\"", "sh", "--env", "kept")
	if got := strings.TrimSpace(r.Stdout); got != "one two,three /tmp --env kept" {
		t.Errorf("exec ID --env ... printed %q, want %q", got, "one two,three /tmp --env kept")
	}
	// after "--" everything is the command
	r = e.MustRun("exec", id, "--", "sh", "-c", "echo dashdash")
	if strings.TrimSpace(r.Stdout) != "dashdash" {
		t.Errorf("exec ID -- ... printed %q", r.Stdout)
	}
	e.MustRun("kill", id, "KILL", "--all")
	lcWaitGone(t, pid)
	e.WaitStatus(id, "stopped")
	e.MustRun("delete", id, "--force")
	lcAssertRemoved(t, e, id, b, pid)
}

// ---- exec --cgroup ----

// TestCornerExecCgroup: exec --cgroup puts the process in a sub-cgroup of
// the container's: a plain path in every hierarchy (the unified one too),
// controller:path in those controllers only; a missing or escaping
// sub-cgroup is refused in one line, with no process left.
func TestCornerExecCgroup(t *testing.T) {
	t.Parallel()
	cnExecCgroup(t)
}

// TestCornerExecCgroupV2: the same on a cgroup v2 host (/sys/fs/cgroup a
// cgroup2 mount, in a mount namespace of the test's own).
func TestCornerExecCgroupV2(t *testing.T) {
	if !chInOwnMountNS(t, "v2") {
		return
	}
	chMountCgroup2(t)
	chRestoreSubtree(t)
	cnExecCgroup(t)
}

func cnExecCgroup(t *testing.T) {
	dirs := map[string]string{}
	// after delete --force (NewEnv's clean-up, which runs first): what a
	// failed test left
	t.Cleanup(func() {
		for _, d := range dirs {
			os.Remove(filepath.Join(d, "sub"))
			os.Remove(d)
		}
	})
	e := NewEnv(t)
	b := e.Bundle([]string{"sleep", "1000"}, nil)
	id := cnID("execcg")
	lcMustRun(t, e, "run", "-d", "-b", b, id)
	pid := e.Pid(id)
	for k, p := range cnCgroupLines(t, pid) {
		if !strings.HasSuffix(p, "/oci-rt/"+id) {
			continue
		}
		mnt := "/sys/fs/cgroup"
		switch {
		case k == "" && cnCgroupFSType(t, "/sys/fs/cgroup") != unix.CGROUP2_SUPER_MAGIC:
			mnt = "/sys/fs/cgroup/unified"
		case k != "":
			mnt = "/sys/fs/cgroup/" + strings.TrimPrefix(k, "name=")
		}
		dirs[k] = mnt + p
	}
	if len(dirs) == 0 {
		t.Fatalf("no cgroup of the container in /proc/%d/cgroup", pid)
	}
	for k, d := range dirs {
		if err := os.Mkdir(filepath.Join(d, "sub"), 0o755); err != nil {
			t.Fatalf("%s: %v", k, err)
		}
		// a v1 cpuset cgroup is usable once it has CPUs and memory nodes
		for _, f := range []string{"cpuset.cpus", "cpuset.mems"} {
			if v, err := os.ReadFile(filepath.Join(d, f)); err == nil && k != "" {
				os.WriteFile(filepath.Join(d, "sub", f), v, 0o644)
			}
		}
	}
	base := cnCgroupLines(t, pid)
	check := func(what string, epid int, inSub func(k string) bool) {
		t.Helper()
		got := cnCgroupLines(t, epid)
		for k := range dirs {
			want := base[k]
			if inSub(k) {
				want += "/sub"
			}
			if got[k] != want {
				t.Errorf("%s: host /proc/%d/cgroup %q: %q, want %q", what, epid, k, got[k], want)
			}
		}
	}
	execDetached := func(flags ...string) int {
		t.Helper()
		pf := filepath.Join(e.Dir, fmt.Sprintf("exec%d.pid", testSeq.Add(1)))
		lcMustRun(t, e, append(append([]string{"exec", "-d", "--pid-file", pf}, flags...), id, "sleep", "1002")...)
		epid, _ := strconv.Atoi(strings.TrimSpace(rsRead(pf)))
		return epid
	}
	all := execDetached("--cgroup", "sub")
	check("--cgroup sub", all, func(string) bool { return true })
	// inside, the cgroup namespace's root is the container's cgroup
	r := e.MustRun("exec", "--cgroup", "sub", id, "cat", "/proc/self/cgroup")
	for k, p := range cnParseCgroup(r.Stdout) {
		if _, ok := dirs[k]; ok && p != "/sub" {
			t.Errorf("inside: --cgroup sub: %q is %q, want /sub", k, p)
		}
	}
	if _, ok := dirs["memory"]; ok {
		one := execDetached("--cgroup", "memory,pids:sub")
		check("--cgroup memory,pids:sub", one, func(k string) bool { return k == "memory" || k == "pids" })
		lcOneLine(t, "--cgroup of an unknown controller", e.Run("exec", "--cgroup", "nosuchctl:sub", id, "true"), "--cgroup", "nosuchctl")
	}
	before := len(cnProcsAll(t, dirs))
	lcOneLine(t, "--cgroup of a missing sub-cgroup", e.Run("exec", "--cgroup", "missing", id, "true"), "--cgroup", "missing")
	lcOneLine(t, "--cgroup out of the container's cgroup", e.Run("exec", "--cgroup", "../..", id, "true"), "--cgroup", "../..")
	if n := len(cnProcsAll(t, dirs)); n != before {
		t.Errorf("a refused exec left processes: %d in the container's cgroups, were %d", n, before)
	}
	e.MustRun("delete", "--force", id)
	for k, d := range dirs {
		if _, err := os.Stat(d); err == nil {
			t.Errorf("%s: cgroup %s left after delete --force", k, d)
		}
	}
}

// cnProcsAll counts the processes in the container's cgroups and their
// sub-cgroups.
func cnProcsAll(t *testing.T, dirs map[string]string) []string {
	var out []string
	for k, d := range dirs {
		filepath.WalkDir(d, func(p string, de os.DirEntry, err error) error {
			if err == nil && !de.IsDir() && de.Name() == "cgroup.procs" {
				for _, f := range strings.Fields(rsRead(p)) {
					out = append(out, k+":"+f)
				}
			}
			return nil
		})
	}
	return out
}

func cnCgroupFSType(t *testing.T, path string) int64 {
	var st unix.Statfs_t
	if err := unix.Statfs(path, &st); err != nil {
		t.Fatal(err)
	}
	return st.Type
}

// ---- events, cgroup, seccomp, hooks ----

// TestCornerEventsOOM: events prints stats every --interval and an
// {"type":"oom"} event when the container's memory cgroup OOM-kills a
// process (go-runc's Events reads both); it ends once the container is
// deleted.
func TestCornerEventsOOM(t *testing.T) {
	t.Parallel()
	e := NewEnv(t)
	b := e.Bundle([]string{"sh", "-c", "echo ready; while [ ! -e /go ]; do sleep 0.05; done; tail /dev/zero; echo survived; sleep 1000"}, func(s *specs.Spec) {
		s.Linux.Resources.Memory = &specs.LinuxMemory{Limit: rsI64(16 << 20), Swap: rsI64(16 << 20)}
	})
	id := cnID("oom")
	_, out := lcMustRun(t, e, "run", "-d", "-b", b, id)
	lcWaitOutput(t, out, "ready")
	cmd, evOut, _, err := lcStart(e, "events", "--interval", "300ms", id)
	if err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	type event struct {
		Type string          `json:"type"`
		ID   string          `json:"id"`
		Data json.RawMessage `json:"data"`
	}
	events := func() []event {
		var evs []event
		sc := bufio.NewScanner(strings.NewReader(evOut.String()))
		for sc.Scan() {
			var ev event
			if err := json.Unmarshal(sc.Bytes(), &ev); err == nil {
				evs = append(evs, ev)
			}
		}
		return evs
	}
	count := func(typ string) int {
		n := 0
		for _, ev := range events() {
			if ev.Type == typ && ev.ID == id {
				n++
			}
		}
		return n
	}
	for deadline := time.Now().Add(10 * time.Second); count("stats") == 0 && time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
	}
	if count("stats") == 0 || count("oom") != 0 {
		t.Fatalf("before the OOM: %d stats, %d oom events, want stats and no oom", count("stats"), count("oom"))
	}
	os.WriteFile(filepath.Join(b, "rootfs", "go"), nil, 0o644)
	lcWaitOutput(t, out, "survived")
	if oc := rsRead(filepath.Join(lcMemCgroup(id), "memory.oom_control")); !strings.Contains(oc, "oom_kill 1") {
		t.Errorf("host: memory.oom_control %q, want oom_kill 1", oc)
	}
	for deadline := time.Now().Add(10 * time.Second); count("oom") == 0 && time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
	}
	if n := count("oom"); n != 1 {
		t.Errorf("%d oom events, want 1 (and %d stats)", n, count("stats"))
	}
	n := count("stats")
	time.Sleep(700 * time.Millisecond)
	if count("stats") <= n {
		t.Errorf("no stats after the OOM (%d before, %d now)", n, count("stats"))
	}
	e.MustRun("delete", "--force", id)
	if code := lcWaitCmd(t, cmd); code != 0 {
		t.Errorf("events exited %d once the container was deleted, want 0", code)
	}
}

// TestCornerEventsErrors: events of an unknown container, of a stopped
// one (as runc), and with an --interval that is not positive is refused
// in one line.
func TestCornerEventsErrors(t *testing.T) {
	t.Parallel()
	e := NewEnv(t)
	lcOneLine(t, "events of an unknown container", e.Run("events", cnID("nosuch")), "does not exist")
	lcOneLine(t, "events --stats of an unknown container", e.Run("events", "--stats", cnID("nosuch")), "does not exist")
	id := cnID("evstopped")
	lcMustRun(t, e, "run", "-d", "-b", e.Bundle([]string{"sleep", "1000"}, nil), id)
	for _, iv := range []string{"0", "-1s"} {
		lcOneLine(t, "events --interval "+iv, e.Run("events", "--interval", iv, id), "--interval")
	}
	e.MustRun("kill", id, "KILL")
	e.WaitStatus(id, "stopped")
	lcOneLine(t, "events of a stopped container", e.Run("events", "--interval", "100ms", id), "not running")
}

// TestCornerFrozenCgroup: a cgroup at cgroupsPath that is already frozen
// is refused at once with one line (the executor would join it and hang
// in D state); the cgroup, not ours, is left as it was, and no state.
func TestCornerFrozenCgroup(t *testing.T) {
	t.Parallel()
	e := NewEnv(t)
	id := cnID("frozen")
	rel := "/oci-rt/" + id
	var made []string
	hier, _ := filepath.Glob("/sys/fs/cgroup/*/cgroup.procs")
	for _, h := range hier {
		d := filepath.Join(filepath.Dir(h), rel)
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		made = append(made, d)
	}
	freezer := filepath.Join("/sys/fs/cgroup/freezer", rel)
	t.Cleanup(func() {
		for _, d := range made {
			os.Remove(d)
		}
	})
	if err := os.WriteFile(filepath.Join(freezer, "freezer.state"), []byte("FROZEN"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.WriteFile(filepath.Join(freezer, "freezer.state"), []byte("THAWED"), 0o644) })
	cnRefusedFrozen(t, e, id, "run -d into a frozen cgroup")
	if st := strings.TrimSpace(rsRead(filepath.Join(freezer, "freezer.state"))); st != "FROZEN" {
		t.Errorf("freezer.state %q after the refusal: the cgroup was not ours to change", st)
	}
	for _, d := range made {
		if _, err := os.Stat(d); err != nil {
			t.Errorf("the pre-existing cgroup %s was removed", d)
		}
		if p := strings.TrimSpace(rsRead(filepath.Join(d, "cgroup.procs"))); p != "" {
			t.Errorf("processes left in %s: %s", d, p)
		}
	}
}

// TestCornerSeccompListenerWithoutNotify: a listenerPath with no
// SCMP_ACT_NOTIFY rule: no listener fd reaches the agent (runc sends
// none), the filter still applies, and run with a terminal returns when
// the process exits.
func TestCornerSeccompListenerWithoutNotify(t *testing.T) {
	t.Parallel()
	e := NewEnv(t)
	sock := filepath.Join(e.Dir, "agent.sock")
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: sock, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var conns atomic.Int64
	go func() {
		for {
			c, err := l.AcceptUnix()
			if err != nil {
				return
			}
			conns.Add(1)
			// an agent keeps what it is sent
			t.Cleanup(func() { c.Close() })
			buf, oob := make([]byte, 8192), make([]byte, unix.CmsgSpace(4))
			c.ReadMsgUnix(buf, oob)
		}
	}()
	for _, terminal := range []bool{true, false} {
		b := e.Bundle([]string{"sh", "-c", "mkdir /tmp/x 2>/dev/null || echo refused; exit 3"}, func(s *specs.Spec) {
			s.Process.Terminal = terminal
			s.Linux.Seccomp = &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, ListenerPath: sock,
				Syscalls: []specs.LinuxSyscall{{Names: []string{"mkdir", "mkdirat"}, Action: specs.ActErrno}}}
		})
		cmd, out, errf, err := lcStart(e, "run", "-b", b, cnID("nonotify"))
		if err != nil {
			t.Fatal(err)
		}
		code := lcWaitCmd(t, cmd)
		if code != 3 || !strings.Contains(out.String(), "refused") {
			t.Errorf("terminal %v: run exit %d (want 3), output %q, stderr %q", terminal, code, out.String(), errf.String())
		}
	}
	if n := conns.Load(); n != 0 {
		t.Errorf("the agent at listenerPath was connected to %d times, want none", n)
	}
}

// TestCornerSeccompListenerNoAgent: SCMP_ACT_NOTIFY with no agent at
// listenerPath (nothing there, or a socket no one listens on): create is
// refused in one line naming the field, and nothing is left.
func TestCornerSeccompListenerNoAgent(t *testing.T) {
	t.Parallel()
	e := NewEnv(t)
	dead := filepath.Join(e.Dir, "dead.sock")
	l, err := net.Listen("unix", dead)
	if err != nil {
		t.Fatal(err)
	}
	l.(*net.UnixListener).SetUnlinkOnClose(false)
	l.Close()
	for _, sock := range []string{filepath.Join(e.Dir, "nobody.sock"), dead} {
		b := e.Bundle([]string{"true"}, func(s *specs.Spec) {
			s.Linux.Seccomp = &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, ListenerPath: sock,
				Syscalls: []specs.LinuxSyscall{{Names: []string{"mkdir", "mkdirat"}, Action: specs.ActNotify}}}
		})
		id := cnID("noagent")
		r, _ := lcRun(e, "create", "-b", b, id)
		lcOneLine(t, "create with no agent at "+filepath.Base(sock), r, "linux.seccomp.listenerPath", filepath.Base(sock))
		lcAssertRemoved(t, e, id, b)
	}
}

// TestCornerStartContainerHookRules: startContainer hooks run as runc
// runs them: as the process's user with its capabilities, under its
// seccomp filter (also with noNewPrivileges), with the process's
// environment when the hook has none.
func TestCornerStartContainerHookRules(t *testing.T) {
	t.Parallel()
	e := NewEnv(t)
	logDir := filepath.Join(e.Dir, "hooklog")
	os.Mkdir(logDir, 0o777)
	os.Chmod(logDir, 0o777)
	report := func(who string) string {
		return fmt.Sprintf(`echo "%s uid=$(id -u) var=$CNVAR $(grep -E '^(Seccomp|CapEff):' /proc/self/status | tr -s '\t\n' '  ')" >> /hooklog/log`, who)
	}
	b := e.Bundle([]string{"sh", "-c", report("process")}, func(s *specs.Spec) {
		s.Process.User = specs.User{UID: 1000, GID: 1000}
		s.Process.Env = append(s.Process.Env, "CNVAR=fromprocess")
		s.Process.NoNewPrivileges = true
		s.Mounts = append(s.Mounts, specs.Mount{Destination: "/hooklog", Type: "bind", Source: logDir, Options: []string{"bind"}})
		s.Linux.Seccomp = &specs.LinuxSeccomp{DefaultAction: specs.ActAllow,
			Syscalls: []specs.LinuxSyscall{{Names: []string{"mkdir", "mkdirat"}, Action: specs.ActErrno}}}
		s.Hooks = &specs.Hooks{StartContainer: []specs.Hook{{Path: "/bin/sh", Args: []string{"sh", "-c", report("hook")}}}}
	})
	id := cnID("hookrules")
	lcMustRun(t, e, "create", "-b", b, id)
	e.MustRun("start", id)
	e.WaitStatus(id, "stopped")
	log := rsRead(filepath.Join(logDir, "log"))
	var hook, proc string
	for _, l := range strings.Split(log, "\n") {
		if v, ok := strings.CutPrefix(l, "hook "); ok {
			hook = v
		} else if v, ok := strings.CutPrefix(l, "process "); ok {
			proc = v
		}
	}
	if proc == "" || hook == "" {
		t.Fatalf("log %q: want a hook and a process line", log)
	}
	if !strings.Contains(proc, "uid=1000") || !strings.Contains(proc, "Seccomp: 2") || !strings.Contains(proc, "var=fromprocess") {
		t.Fatalf("process line %q", proc)
	}
	if strings.TrimSpace(hook) != strings.TrimSpace(proc) {
		t.Errorf("the startContainer hook ran as %q, the process as %q: want the same user, environment, filter and capabilities", hook, proc)
	}
}

// cnRefusedFrozen runs `run -d` of a sleep as id, whose cgroup is frozen:
// it must return (the executor would hang in D state) refused in one
// line naming linux.cgroupsPath, and leave no state directory.
func cnRefusedFrozen(t *testing.T, e *Env, id, what string) {
	t.Helper()
	b := e.Bundle([]string{"sleep", "1000"}, nil)
	cmd, out, errf, err := lcStart(e, "run", "-d", "-b", b, id)
	if err != nil {
		t.Fatal(err)
	}
	code := lcWaitCmd(t, cmd)
	r := lcResult(nil, out, errf)
	r.Code = code
	lcOneLine(t, what, r, "linux.cgroupsPath", "frozen")
	if _, err := os.Stat(filepath.Join(e.Root, id)); err == nil {
		t.Errorf("%s: state directory left behind", what)
	}
}

// cnParseCgroup maps each hierarchy of a /proc/<pid>/cgroup text (its
// controllers, "" for the unified one) to the path in it.
func cnParseCgroup(text string) map[string]string {
	m := map[string]string{}
	for _, l := range strings.Split(strings.TrimSpace(text), "\n") {
		f := strings.SplitN(l, ":", 3)
		if len(f) == 3 {
			m[f[1]] = f[2]
		}
	}
	return m
}

// cnCgroupLines is /proc/<pid>/cgroup as hierarchy -> path ("" for cgroup2).
func cnCgroupLines(t *testing.T, pid interface{}) map[string]string {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%v/cgroup", pid))
	if err != nil {
		t.Fatal(err)
	}
	return cnParseCgroup(string(b))
}

// cnReceive waits for one fd on a listener made by rpConsoleListener.
func cnReceive(t *testing.T, ch <-chan *os.File, what string) *os.File {
	t.Helper()
	select {
	case f := <-ch:
		if f == nil {
			t.Fatalf("%s: nothing received", what)
		}
		t.Cleanup(func() { f.Close() })
		return f
	case <-time.After(10 * time.Second):
		t.Fatalf("%s: no fd received within 10s", what)
	}
	return nil
}

// ---- terminals ----

// TestCornerConsoleSizeAndOwner: process.consoleSize sizes the pty of
// create and of exec -t (with --console-socket, and exec's own relay),
// and the pty belongs to the process's uid (its gid is devpts' gid=5),
// seen inside and from the host.
func TestCornerConsoleSizeAndOwner(t *testing.T) {
	t.Parallel()
	e := NewEnv(t)
	script := "stty size; stat -c 'owner=%u:%g' $(tty); sleep 1000"
	b := e.Bundle([]string{"sh", "-c", script}, func(s *specs.Spec) {
		s.Process.Terminal = true
		s.Process.ConsoleSize = &specs.Box{Height: 33, Width: 101}
		s.Process.User = specs.User{UID: 1000, GID: 1000}
	})
	sock := filepath.Join(e.Dir, "console.sock")
	masters := rpConsoleListener(t, sock)
	id := cnID("consize")
	c := rpCreate(t, e, b, id, "--console-socket", sock)
	master := cnReceive(t, masters, "create --console-socket")
	var st unix.Stat_t
	if err := unix.Stat(fmt.Sprintf("/proc/%d/fd/0", c.Pid), &st); err != nil || st.Uid != 1000 {
		t.Errorf("host: the container's pty is owned by uid %d (%v), want 1000", st.Uid, err)
	}
	c.Start()
	got := cnReadUntil(master, "owner=")
	if !rpHasLine(got, "33 101") || !strings.Contains(got, "owner=1000:5") {
		t.Errorf("create: pty output %q, want lines \"33 101\" and owner=1000:5", got)
	}

	// exec -t with a process.json asking for another size, as uid 1001
	proc := specs.Process{Terminal: true, ConsoleSize: &specs.Box{Height: 21, Width: 77}, Cwd: "/",
		User: specs.User{UID: 1001, GID: 1001}, Args: []string{"sh", "-c", "stty size; stat -c 'owner=%u:%g' $(tty)"},
		Env: []string{"PATH=/bin:/usr/bin"}}
	pj, _ := json.Marshal(proc)
	pf := filepath.Join(e.Dir, "process.json")
	os.WriteFile(pf, pj, 0o644)
	esock := filepath.Join(e.Dir, "exec-console.sock")
	emasters := rpConsoleListener(t, esock)
	lcMustRun(t, e, "exec", "-d", "--console-socket", esock, "--process", pf, id)
	emaster := cnReceive(t, emasters, "exec --console-socket")
	got = cnReadUntil(emaster, "owner=")
	if !rpHasLine(got, "21 77") || !strings.Contains(got, "owner=1001:5") {
		t.Errorf("exec -d --console-socket: pty output %q, want lines \"21 77\" and owner=1001:5", got)
	}
	// exec -t in the foreground: its own relay, stdin not a terminal
	r := e.MustRun("exec", "--process", pf, id)
	if !rpHasLine(r.Stdout, "21 77") || !strings.Contains(r.Stdout, "owner=1001:5") {
		t.Errorf("exec --process (terminal) output %q, want lines \"21 77\" and owner=1001:5", r.Stdout)
	}
	r = e.MustRun("exec", "-t", "--user", "1002:1002", id, "sh", "-c", "stat -c 'owner=%u:%g' $(tty)")
	if !strings.Contains(r.Stdout, "owner=1002:5") {
		t.Errorf("exec -t --user 1002:1002 output %q, want owner=1002:5", r.Stdout)
	}
}

// cnReadUntil reads a pty master until its output holds want and a line
// after it, or 10s pass.
func cnReadUntil(f *os.File, want string) string {
	f.SetReadDeadline(time.Now().Add(10 * time.Second))
	var out []byte
	buf := make([]byte, 4096)
	for {
		n, err := f.Read(buf)
		out = append(out, buf[:n]...)
		if i := strings.Index(string(out), want); i >= 0 && strings.Contains(string(out[i:]), "\n") || err != nil {
			return string(out)
		}
	}
}

// ---- cgroup, seccomp, hooks ----

// cnPidOfFd reads the "Pid:" line of a pidfd's fdinfo (-1 when it has none).
func cnPidOfFd(t *testing.T, f *os.File) int {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/self/fdinfo/%d", f.Fd()))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "Pid:"); ok {
			n, _ := strconv.Atoi(strings.TrimSpace(v))
			return n
		}
	}
	return -1
}

// ---- --pidfd-socket ----

// TestCornerPidfdSocket: create, run -d and exec -d send a pidfd of the
// container's (or exec's) process to --pidfd-socket; signalling through
// it reaches that process.
func TestCornerPidfdSocket(t *testing.T) {
	t.Parallel()
	e := NewEnv(t)
	b := e.Bundle([]string{"sleep", "1000"}, nil)
	for _, cmd := range []string{"create", "run"} {
		sock := filepath.Join(e.Dir, cmd+"-pidfd.sock")
		ch := rpConsoleListener(t, sock)
		id := cnID("pidfd-" + cmd)
		args := []string{cmd, "--pidfd-socket", sock, "-b", b, id}
		if cmd == "run" {
			args = []string{cmd, "-d", "--pidfd-socket", sock, "-b", b, id}
		}
		lcMustRun(t, e, args...)
		pid := e.Pid(id)
		fd := cnReceive(t, ch, cmd+" --pidfd-socket")
		if got := cnPidOfFd(t, fd); got != pid {
			t.Fatalf("%s: the pidfd is of pid %d, the container's is %d", cmd, got, pid)
		}
		if cmd == "create" {
			// exec into it, with its own pidfd
			esock := filepath.Join(e.Dir, "exec-pidfd.sock")
			ech := rpConsoleListener(t, esock)
			pf := filepath.Join(e.Dir, "exec.pid")
			lcMustRun(t, e, "exec", "-d", "--pidfd-socket", esock, "--pid-file", pf, id, "sleep", "1001")
			epid, _ := strconv.Atoi(strings.TrimSpace(rsRead(pf)))
			efd := cnReceive(t, ech, "exec --pidfd-socket")
			if got := cnPidOfFd(t, efd); got != epid || epid <= 0 {
				t.Fatalf("exec: the pidfd is of pid %d, the exec's is %d", got, epid)
			}
			if err := unix.PidfdSendSignal(int(efd.Fd()), unix.SIGKILL, nil, 0); err != nil {
				t.Fatalf("pidfd_send_signal to the exec: %v", err)
			}
			lcWaitGone(t, epid)
			if !lcAlive(pid) {
				t.Fatalf("killing the exec through its pidfd killed the container")
			}
		}
		if err := unix.PidfdSendSignal(int(fd.Fd()), unix.SIGKILL, nil, 0); err != nil {
			t.Fatalf("%s: pidfd_send_signal: %v", cmd, err)
		}
		lcWaitGone(t, pid)
		e.WaitStatus(id, "stopped")
		e.MustRun("delete", id)
		lcAssertRemoved(t, e, id, b, pid)
	}
	// a socket nobody listens on: one line naming the flag, nothing left
	id := cnID("pidfd-none")
	r, _ := lcRun(e, "create", "--pidfd-socket", filepath.Join(e.Dir, "nobody.sock"), "-b", b, id)
	lcOneLine(t, "create with a dead --pidfd-socket", r, "--pidfd-socket", "nobody.sock")
	lcAssertRemoved(t, e, id, b)
	// and exec: no process of the exec left in the container
	id = cnID("pidfd-none-exec")
	lcMustRun(t, e, "run", "-d", "-b", b, id)
	before := lcCgroupProcs(t, id)
	r, _ = lcRun(e, "exec", "-d", "--pidfd-socket", filepath.Join(e.Dir, "nobody.sock"), id, "sleep", "1002")
	lcOneLine(t, "exec with a dead --pidfd-socket", r, "--pidfd-socket", "nobody.sock")
	if after := lcCgroupProcs(t, id); len(after) != len(before) {
		t.Errorf("processes in the container's cgroup after the refused exec: %v, were %v", after, before)
	}
}

// ---- events ----

// TestCornerFrozenCgroupV2: the same on a cgroup v2 host, where the
// executor would be started frozen (CLONE_INTO_CGROUP) and never run.
func TestCornerFrozenCgroupV2(t *testing.T) {
	if !chInOwnMountNS(t, "v2") {
		return
	}
	chMountCgroup2(t)
	chRestoreSubtree(t)
	e := NewEnv(t)
	id := cnID("frozen2")
	dir := filepath.Join("/sys/fs/cgroup/oci-rt", id)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Remove(dir) })
	if err := os.WriteFile(filepath.Join(dir, "cgroup.freeze"), []byte("1"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.WriteFile(filepath.Join(dir, "cgroup.freeze"), []byte("0"), 0o644) })
	cnRefusedFrozen(t, e, id, "run -d into a frozen cgroup2")
	if st := strings.TrimSpace(rsRead(filepath.Join(dir, "cgroup.freeze"))); st != "1" {
		t.Errorf("cgroup.freeze %q after the refusal: the cgroup was not ours to change", st)
	}
	if p := strings.TrimSpace(rsRead(filepath.Join(dir, "cgroup.procs"))); p != "" {
		t.Errorf("processes left in %s: %s", dir, p)
	}
}
