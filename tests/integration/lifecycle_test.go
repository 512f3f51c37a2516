package integration

// Lifecycle and error handling: create/start/kill/delete/run state
// transitions, signals, ids, bad bundles, concurrency, list and spec.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// ---- helpers (prefixed lc) ----

func lcID(name string) string { return uniqueID("lc", name) }

// lcOut is a file that received a command's (and its container's) output.
type lcOut string

func (o lcOut) String() string {
	b, _ := os.ReadFile(string(o))
	return string(b)
}

// lcRun runs oci-rt with stdin from /dev/null and stdout/stderr sent to
// files rather than pipes: a created or detached container keeps them, and
// exec would wait for the pipes to close. It returns what the command
// wrote by the time it exited, and the stdout file, which keeps receiving
// the container's output. Safe to call from goroutines (no t.Fatal).
func lcRun(e *Env, args ...string) (Result, lcOut) {
	cmd, out, errf, err := lcStart(e, args...)
	if err == nil {
		err = cmd.Wait()
	}
	return lcResult(err, out, errf), out
}

var lcFileSeq atomic.Int64

// lcStart starts oci-rt like lcRun does and returns at once.
func lcStart(e *Env, args ...string) (*exec.Cmd, lcOut, lcOut, error) {
	n := lcFileSeq.Add(1)
	out := lcOut(filepath.Join(e.Dir, fmt.Sprintf("lc-out-%d", n)))
	errf := lcOut(filepath.Join(e.Dir, fmt.Sprintf("lc-err-%d", n)))
	cmd := exec.Command(binary, append([]string{"--root", e.Root}, args...)...)
	fo, err := os.Create(string(out))
	if err != nil {
		return nil, out, errf, err
	}
	defer fo.Close()
	fe, err := os.Create(string(errf))
	if err != nil {
		return nil, out, errf, err
	}
	defer fe.Close()
	cmd.Stdout, cmd.Stderr = fo, fe
	return cmd, out, errf, cmd.Start()
}

func lcResult(err error, out, errf lcOut) Result {
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		return Result{Stderr: "lcRun: " + err.Error(), Code: -1}
	}
	return Result{Stdout: out.String(), Stderr: errf.String(), Code: code}
}

// lcMustRun is lcRun that fails the test unless oci-rt exits 0.
func lcMustRun(t *testing.T, e *Env, args ...string) (Result, lcOut) {
	t.Helper()
	r, out := lcRun(e, args...)
	if r.Code != 0 {
		t.Fatalf("oci-rt %v: exit %d\nstdout: %s\nstderr: %s", args, r.Code, r.Stdout, r.Stderr)
	}
	return r, out
}

// lcState is the JSON `oci-rt state` prints.
type lcState struct {
	OCIVersion string    `json:"ociVersion"`
	ID         string    `json:"id"`
	Pid        int       `json:"pid"`
	Status     string    `json:"status"`
	Bundle     string    `json:"bundle"`
	Created    time.Time `json:"created"`
	Owner      string    `json:"owner"`
}

func lcGetState(t *testing.T, e *Env, id string) lcState {
	t.Helper()
	r := e.MustRun("state", id)
	var s lcState
	if err := json.Unmarshal([]byte(r.Stdout), &s); err != nil {
		t.Fatalf("state %s: %v\n%s", id, err, r.Stdout)
	}
	return s
}

// lcAlive says whether pid is a live (not zombie) process.
func lcAlive(pid int) bool {
	if pid <= 0 {
		return false
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 || i+2 >= len(b) {
		return false
	}
	return b[i+2] != 'Z' && b[i+2] != 'X'
}

func lcWaitGone(t *testing.T, pid int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for lcAlive(pid) {
		if time.Now().After(deadline) {
			t.Fatalf("process %d still alive (cmdline %q)", pid, lcCmdline(pid))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func lcCmdline(pid int) string {
	b, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	return string(b)
}

// lcArgv is what /proc/<pid>/cmdline holds for args.
func lcArgv(args []string) string { return strings.Join(args, "\x00") + "\x00" }

// lcWaitOutput polls an output (a file, a terminal) until it contains s.
func lcWaitOutput(t *testing.T, o fmt.Stringer, s string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(o.String(), s) {
		if time.Now().After(deadline) {
			t.Fatalf("output never contained %q: %q", s, o.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// lcCgroupDirs are the container's cgroup directories, in every hierarchy.
func lcCgroupDirs(id string) []string {
	m, _ := filepath.Glob("/sys/fs/cgroup/*/oci-rt/" + id)
	return m
}

func lcMemCgroup(id string) string { return "/sys/fs/cgroup/memory/oci-rt/" + id }

// lcCgroupProcs reads the pids in the container's memory cgroup.
func lcCgroupProcs(t *testing.T, id string) []int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(lcMemCgroup(id), "cgroup.procs"))
	if err != nil {
		t.Fatalf("cgroup.procs: %v", err)
	}
	var pids []int
	for _, f := range strings.Fields(string(b)) {
		p, _ := strconv.Atoi(f)
		pids = append(pids, p)
	}
	return pids
}

// lcStrays lists live host processes in the container's cgroup (the
// executor joins it before doing anything, so everything the container
// started is there).
func lcStrays(id string) []string {
	var out []string
	ents, _ := os.ReadDir("/proc")
	for _, ent := range ents {
		pid, err := strconv.Atoi(ent.Name())
		if err != nil {
			continue
		}
		cg, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
		if strings.Contains(string(cg)+"\n", "/oci-rt/"+id+"\n") && lcAlive(pid) {
			out = append(out, fmt.Sprintf("%d %q", pid, lcCmdline(pid)))
		}
	}
	return out
}

// lcAssertRemoved checks that the container is gone everywhere: state
// says it does not exist, no state directory, no cgroup, no process (the
// given pids, and none in its cgroup); nothing is left in the bundle's
// rootfs mounts either.
func lcAssertRemoved(t *testing.T, e *Env, id, bundleDir string, pids ...int) {
	t.Helper()
	r := e.Run("state", id)
	if r.Code == 0 || !strings.Contains(r.Stderr, "container does not exist") {
		t.Errorf("state %s after removal: exit %d, stderr %q; want non-zero and \"container does not exist\"", id, r.Code, r.Stderr)
	}
	if _, err := os.Lstat(filepath.Join(e.Root, id)); err == nil {
		t.Errorf("state directory %s left behind", filepath.Join(e.Root, id))
	}
	if d := lcCgroupDirs(id); len(d) > 0 {
		t.Errorf("cgroup directories left behind: %v", d)
	}
	for _, p := range pids {
		if lcAlive(p) {
			t.Errorf("process %d (%q) still alive", p, lcCmdline(p))
		}
	}
	if s := lcStrays(id); len(s) > 0 {
		t.Errorf("stray processes of %s: %v", id, s)
	}
	mi, _ := os.ReadFile("/proc/self/mountinfo")
	for _, l := range strings.Split(string(mi), "\n") {
		if f := strings.Fields(l); len(f) > 4 && strings.HasPrefix(f[4], bundleDir+"/") {
			t.Errorf("mount left on the host: %s", l)
		}
	}
}

// lcOneLine checks that stderr is one line holding every want.
func lcOneLine(t *testing.T, what string, r Result, want ...string) {
	t.Helper()
	if r.Code == 0 {
		t.Errorf("%s: exit 0, want failure (stdout %q)", what, r.Stdout)
		return
	}
	msg := strings.TrimSpace(r.Stderr)
	if msg == "" || strings.Contains(msg, "\n") {
		t.Errorf("%s: want one error line, got %q", what, r.Stderr)
	}
	for _, w := range want {
		if !strings.Contains(msg, w) {
			t.Errorf("%s: error %q does not mention %q", what, msg, w)
		}
	}
}

func lcNoPidNs(s *specs.Spec) {
	var ns []specs.LinuxNamespace
	for _, n := range s.Linux.Namespaces {
		if n.Type != specs.PIDNamespace {
			ns = append(ns, n)
		}
	}
	s.Linux.Namespaces = ns
}

// lcWaitCmd waits for a started command, killing it after 15s.
func lcWaitCmd(t *testing.T, cmd *exec.Cmd) int {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if ee, ok := err.(*exec.ExitError); ok {
			return ee.ExitCode()
		} else if err != nil {
			t.Fatalf("wait: %v", err)
		}
		return 0
	case <-time.After(15 * time.Second):
		cmd.Process.Kill()
		<-done
		t.Fatalf("oci-rt %v did not exit", cmd.Args)
		return -1
	}
}

// ---- 1. state transitions ----

func TestLifecycleTransitions(t *testing.T) {
	t.Parallel()
	e := NewEnv(t)
	args := []string{"sh", "-c", "echo started; while [ ! -e /go ]; do sleep 0.05; done; echo bye"}
	b := e.Bundle(args, nil)
	id := lcID("trans")

	r, out := lcRun(e, "create", "-b", b, id)
	if r.Code != 0 {
		t.Fatalf("create: exit %d: %s", r.Code, r.Stderr)
	}
	// oci-rt create has exited: the container must still be there
	time.Sleep(50 * time.Millisecond)
	raw := e.MustRun("state", id).Stdout
	var m map[string]interface{}
	if err := json.Unmarshal([]byte(raw), &m); err != nil {
		t.Fatalf("state is not JSON: %v\n%s", err, raw)
	}
	for _, k := range []string{"ociVersion", "id", "pid", "bundle", "status"} {
		if _, ok := m[k]; !ok {
			t.Errorf("state lacks %q: %s", k, raw)
		}
	}
	s := lcGetState(t, e, id)
	if s.OCIVersion == "" || s.ID != id || s.Pid <= 0 || s.Bundle != b || s.Status != "created" {
		t.Fatalf("state after create: %+v (want id %s, bundle %s, status created, pid > 0)", s, id, b)
	}
	pid := s.Pid
	if !lcAlive(pid) {
		t.Fatalf("created container's process %d is not alive after oci-rt create exited", pid)
	}
	if got := lcCmdline(pid); got == lcArgv(args) {
		t.Fatalf("created container already runs its payload: cmdline %q", got)
	}
	if strings.Contains(out.String(), "started") {
		t.Fatalf("payload ran before start: %q", out.String())
	}
	procs := lcCgroupProcs(t, id)
	if len(procs) != 1 || procs[0] != pid {
		t.Errorf("memory cgroup.procs %v, want [%d]", procs, pid)
	}

	e.MustRun("start", id)
	lcWaitOutput(t, out, "started")
	if s := lcGetState(t, e, id); s.Status != "running" || s.Pid != pid {
		t.Fatalf("state after start: %+v, want running with pid %d", s, pid)
	}
	if got := lcCmdline(pid); got != lcArgv(args) {
		t.Errorf("running cmdline %q, want %q", got, lcArgv(args))
	}
	r = e.Run("start", id)
	lcOneLine(t, "second start", r, "running")
	if s := lcGetState(t, e, id); s.Status != "running" {
		t.Errorf("second start changed the status to %s", s.Status)
	}

	// let the payload exit
	if err := os.WriteFile(filepath.Join(b, "rootfs", "go"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	e.WaitStatus(id, "stopped")
	lcWaitOutput(t, out, "bye")
	if s := lcGetState(t, e, id); s.Pid != 0 {
		t.Errorf("stopped container has pid %d, want 0", s.Pid)
	}
	lcWaitGone(t, pid)

	lcOneLine(t, "start of a stopped container", e.Run("start", id), "stopped")
	lcOneLine(t, "kill of a stopped container", e.Run("kill", id, "KILL"), "container not running")
	if st := e.Status(id); st != "stopped" {
		t.Errorf("status %s after failed start/kill, want stopped", st)
	}

	e.MustRun("delete", id)
	lcAssertRemoved(t, e, id, b, pid)
}

func TestLifecycleHostKillShowsStopped(t *testing.T) {
	t.Parallel()
	e := NewEnv(t)
	for _, started := range []bool{false, true} {
		b := e.Bundle([]string{"sleep", "1000"}, nil)
		id := lcID("hostkill")
		lcMustRun(t, e, "create", "-b", b, id)
		want := "created"
		if started {
			e.MustRun("start", id)
			want = "running"
		}
		pid := e.Pid(id)
		if st := e.Status(id); st != want {
			t.Fatalf("status %s, want %s", st, want)
		}
		if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		lcWaitGone(t, pid)
		e.WaitStatus(id, "stopped")
		if s := lcGetState(t, e, id); s.Pid != 0 {
			t.Errorf("pid %d after the process died, want 0", s.Pid)
		}
		e.MustRun("delete", id)
		lcAssertRemoved(t, e, id, b)
	}
}

// ---- 2. kill ----

// TestLifecycleKillSpellings: sleep is PID 1 of its pid namespace and has
// no handlers, so only SIGKILL (not TERM or anything else) can end it.
func TestLifecycleKillSpellings(t *testing.T) {
	t.Parallel()
	for _, sig := range []string{"KILL", "SIGKILL", "9", "kill"} {
		sig := sig
		t.Run(sig, func(t *testing.T) {
			t.Parallel()
			e := NewEnv(t)
			b := e.Bundle([]string{"sleep", "1000"}, nil)
			id := lcID("kill")
			lcMustRun(t, e, "create", "-b", b, id)
			e.MustRun("start", id)
			pid := e.Pid(id)
			if !lcAlive(pid) {
				t.Fatalf("payload %d not alive", pid)
			}
			e.MustRun("kill", id, sig)
			lcWaitGone(t, pid)
			e.WaitStatus(id, "stopped")
			lcOneLine(t, "kill after stop", e.Run("kill", id, sig), "container not running")
		})
	}
}

func TestLifecycleKillDefaultTerm(t *testing.T) {
	t.Parallel()
	e := NewEnv(t)
	b := e.Bundle([]string{"sh", "-c", `trap 'echo got-TERM; exit 0' TERM; echo ready; while :; do sleep 0.05; done`}, nil)
	id := lcID("term")
	_, out := lcMustRun(t, e, "create", "-b", b, id)
	e.MustRun("start", id)
	lcWaitOutput(t, out, "ready")
	pid := e.Pid(id)
	e.MustRun("kill", id)
	lcWaitOutput(t, out, "got-TERM")
	e.WaitStatus(id, "stopped")
	lcWaitGone(t, pid)
}

// TestLifecycleKillAll: without a pid namespace the payload's children do
// not die with it; kill -a/--all must reach each of them.
func TestLifecycleKillAll(t *testing.T) {
	t.Parallel()
	for _, flag := range []string{"-a", "--all"} {
		flag := flag
		t.Run(flag, func(t *testing.T) {
			t.Parallel()
			e := NewEnv(t)
			b := e.Bundle([]string{"sh", "-c", "sleep 1000 & sleep 1000 & sleep 1000 & echo ready; wait"}, lcNoPidNs)
			id := lcID("killall")
			_, out := lcMustRun(t, e, "create", "-b", b, id)
			e.MustRun("start", id)
			lcWaitOutput(t, out, "ready")
			pid := e.Pid(id)
			// the forked children may not have exec'd sleep yet
			var procs []int
			sleeps, hasInit := 0, false
			for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
				procs = lcCgroupProcs(t, id)
				sleeps, hasInit = 0, false
				for _, p := range procs {
					if lcCmdline(p) == lcArgv([]string{"sleep", "1000"}) {
						sleeps++
					}
					hasInit = hasInit || p == pid
				}
				if sleeps == 3 {
					break
				}
			}
			if len(procs) != 4 || sleeps != 3 || !hasInit {
				t.Fatalf("cgroup.procs %v: %d sleeps, container pid %d; want it and 3 sleeps", procs, sleeps, pid)
			}
			e.MustRun("kill", flag, id, "KILL")
			for _, p := range procs {
				lcWaitGone(t, p)
			}
			deadline := time.Now().Add(5 * time.Second)
			for len(lcCgroupProcs(t, id)) != 0 && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
			}
			if p := lcCgroupProcs(t, id); len(p) != 0 {
				t.Fatalf("cgroup.procs after kill %s: %v", flag, p)
			}
			e.WaitStatus(id, "stopped")
			e.MustRun("delete", id)
			lcAssertRemoved(t, e, id, b, procs...)
		})
	}
}

// TestLifecycleDeleteForceSharedPidNs: killing only the payload of a
// container without a pid namespace leaves its children; delete --force
// must kill them and remove the cgroup.
func TestLifecycleDeleteForceSharedPidNs(t *testing.T) {
	t.Parallel()
	e := NewEnv(t)
	b := e.Bundle([]string{"sh", "-c", "sleep 1000 & sleep 1000 & echo ready; wait"}, lcNoPidNs)
	id := lcID("orphans")
	_, out := lcMustRun(t, e, "create", "-b", b, id)
	e.MustRun("start", id)
	lcWaitOutput(t, out, "ready")
	pid := e.Pid(id)
	procs := lcCgroupProcs(t, id)
	if len(procs) != 3 {
		t.Fatalf("cgroup.procs %v, want the shell and 2 sleeps", procs)
	}
	// a stopped container's processes left in its cgroup (its init
	// killed from the host) go with delete --force
	syscall.Kill(pid, syscall.SIGKILL)
	lcWaitGone(t, pid)
	e.WaitStatus(id, "stopped")
	if p := lcCgroupProcs(t, id); len(p) != 2 {
		t.Fatalf("after killing only the shell, cgroup.procs %v, want its 2 sleeps", p)
	}
	e.MustRun("delete", "--force", id)
	lcAssertRemoved(t, e, id, b, procs...)
}

func TestLifecycleKillErrors(t *testing.T) {
	t.Parallel()
	e := NewEnv(t)
	b := e.Bundle([]string{"sleep", "1000"}, nil)
	id := lcID("killerr")
	lcMustRun(t, e, "create", "-b", b, id)
	e.MustRun("start", id)
	pid := e.Pid(id)
	for _, sig := range []string{"FOO", "SIGFOO", "65"} {
		lcOneLine(t, "kill "+sig, e.Run("kill", id, sig), sig)
	}
	lcOneLine(t, "kill FOO", e.Run("kill", id, "FOO"), "unknown")
	if st := e.Status(id); st != "running" || !lcAlive(pid) {
		t.Errorf("after bad kills: status %s, alive %v", st, lcAlive(pid))
	}
	lcOneLine(t, "kill of an unknown id", e.Run("kill", lcID("nosuch"), "KILL"), "container does not exist")
	lcOneLine(t, "kill without id", e.Run("kill"), "kill")
}

// ---- 3. delete ----

func TestLifecycleDelete(t *testing.T) {
	t.Parallel()
	e := NewEnv(t)

	t.Run("running", func(t *testing.T) {
		b := e.Bundle([]string{"sleep", "1000"}, nil)
		id := lcID("delrun")
		lcMustRun(t, e, "create", "-b", b, id)
		e.MustRun("start", id)
		pid := e.Pid(id)
		lcOneLine(t, "delete of a running container", e.Run("delete", id), id, "running")
		if st := e.Status(id); st != "running" || !lcAlive(pid) {
			t.Fatalf("failed delete: status %s, process alive %v", st, lcAlive(pid))
		}
		if _, err := os.Stat(lcMemCgroup(id)); err != nil {
			t.Fatalf("failed delete removed the cgroup: %v", err)
		}
		if got := lcCmdline(pid); got != lcArgv([]string{"sleep", "1000"}) {
			t.Fatalf("payload cmdline %q", got)
		}
		e.MustRun("delete", "--force", id)
		lcAssertRemoved(t, e, id, b, pid)
	})

	t.Run("force-short", func(t *testing.T) {
		b := e.Bundle([]string{"sleep", "1000"}, nil)
		id := lcID("delf")
		lcMustRun(t, e, "create", "-b", b, id)
		e.MustRun("start", id)
		pid := e.Pid(id)
		e.MustRun("delete", "-f", id)
		lcAssertRemoved(t, e, id, b, pid)
	})

	t.Run("created", func(t *testing.T) {
		b := e.Bundle([]string{"sleep", "1000"}, nil)
		id := lcID("delcreated")
		lcMustRun(t, e, "create", "-b", b, id)
		pid := e.Pid(id)
		if !lcAlive(pid) {
			t.Fatal("created process not alive")
		}
		// --force kills it (without, as runc: TestCornerDeleteCreated)
		e.MustRun("delete", "--force", id)
		lcAssertRemoved(t, e, id, b, pid)
	})

	t.Run("unknown", func(t *testing.T) {
		id := lcID("nosuch")
		e.MustRun("delete", "--force", id)
		lcOneLine(t, "delete of an unknown id", e.Run("delete", id), "container does not exist")
	})
}

// TestLifecycleDeleteAfterAbortedCreate: oci-rt create killed while it
// runs a createRuntime hook leaves <root>/<id> without state.json. As with
// runc, delete --force must clear it so that the id can be used again.
func TestLifecycleDeleteAfterAbortedCreate(t *testing.T) {
	t.Parallel()
	e := NewEnv(t)
	hookPid := filepath.Join(e.Dir, "hook.pid")
	b := e.Bundle([]string{"sleep", "1000"}, func(s *specs.Spec) {
		s.Hooks = &specs.Hooks{CreateRuntime: []specs.Hook{{Path: "/bin/sh",
			Args: []string{"sh", "-c", "echo $$ > " + hookPid + "; exec sleep 10"}}}}
	})
	id := lcID("aborted")
	t.Cleanup(func() {
		// what the aborted create left: its hook, processes in its
		// cgroup, the (then empty) cgroup directories
		if data, err := os.ReadFile(hookPid); err == nil {
			if p, _ := strconv.Atoi(strings.TrimSpace(string(data))); p > 0 && strings.HasPrefix(lcCmdline(p), "sleep") {
				syscall.Kill(p, syscall.SIGKILL)
			}
		}
		if data, err := os.ReadFile(filepath.Join(lcMemCgroup(id), "cgroup.procs")); err == nil {
			for _, f := range strings.Fields(string(data)) {
				p, _ := strconv.Atoi(f)
				syscall.Kill(p, syscall.SIGKILL)
			}
			time.Sleep(50 * time.Millisecond)
		}
		for _, d := range lcCgroupDirs(id) {
			os.Remove(d)
		}
	})
	cmd, _, _, err := lcStart(e, "create", "-b", b, id)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		if data, _ := os.ReadFile(hookPid); len(data) > 0 {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatal("the createRuntime hook never ran")
		}
		time.Sleep(10 * time.Millisecond)
	}
	cmd.Process.Kill()
	cmd.Wait()
	if _, err := os.Stat(filepath.Join(e.Root, id)); err != nil {
		t.Fatalf("expected the aborted create to leave its state directory: %v", err)
	}
	// the create saved a "creating" state before it went on
	if s := lcGetState(t, e, id); s.Status != "creating" {
		t.Errorf("state of an aborted create: %+v, want status creating", s)
	}
	if _, err := os.Stat("/sys/fs/cgroup/memory/oci-rt/" + id); err != nil {
		t.Fatalf("the aborted create made no cgroup: %v", err)
	}
	e.MustRun("delete", "--force", id)
	if _, err := os.Lstat(filepath.Join(e.Root, id)); err == nil {
		t.Errorf("delete --force succeeded but left %s", filepath.Join(e.Root, id))
	}
	if _, err := os.Stat("/sys/fs/cgroup/memory/oci-rt/" + id); err == nil {
		t.Errorf("delete --force left the aborted create's cgroup")
	}
	// the id is usable again
	b2 := e.Bundle([]string{"sleep", "1000"}, nil)
	r, _ := lcRun(e, "create", "-b", b2, id)
	if r.Code != 0 {
		t.Fatalf("create after the cleanup: exit %d %q", r.Code, r.Stderr)
	}
	if s := lcGetState(t, e, id); s.Status != "created" || !lcAlive(s.Pid) {
		t.Errorf("recreated container: %+v", s)
	}
}

// ---- 4. run ----

func TestLifecycleRun(t *testing.T) {
	t.Parallel()

	t.Run("exit-code", func(t *testing.T) {
		t.Parallel()
		e := NewEnv(t)
		b := e.Bundle([]string{"sh", "-c", "exit 42"}, nil)
		id := lcID("run42")
		if r := e.Run("run", "-b", b, id); r.Code != 42 {
			t.Fatalf("exit %d, want 42 (stderr %q)", r.Code, r.Stderr)
		}
		lcAssertRemoved(t, e, id, b)
	})

	t.Run("self-kill", func(t *testing.T) {
		t.Parallel()
		e := NewEnv(t)
		// without a pid namespace the shell is not an init, so SIGKILL
		// to itself works
		b := e.Bundle([]string{"sh", "-c", "echo before; kill -9 $$; echo after"}, lcNoPidNs)
		id := lcID("run137")
		r := e.Run("run", "-b", b, id)
		if r.Code != 137 || r.Stdout != "before\n" {
			t.Fatalf("exit %d stdout %q, want 137 and \"before\\n\" (stderr %q)", r.Code, r.Stdout, r.Stderr)
		}
		lcAssertRemoved(t, e, id, b)
	})

	t.Run("killed-from-outside", func(t *testing.T) {
		t.Parallel()
		e := NewEnv(t)
		b := e.Bundle([]string{"sh", "-c", "echo ready; exec sleep 1000"}, nil)
		id := lcID("runkill")
		cmd, out, _, err := lcStart(e, "run", "-b", b, id)
		if err != nil {
			t.Fatal(err)
		}
		lcWaitOutput(t, out, "ready")
		pid := e.Pid(id)
		e.MustRun("kill", id, "KILL")
		if code := lcWaitCmd(t, cmd); code != 137 {
			t.Fatalf("run exit %d, want 137", code)
		}
		lcAssertRemoved(t, e, id, b, pid)
	})

	t.Run("stdio", func(t *testing.T) {
		t.Parallel()
		e := NewEnv(t)
		b := e.Bundle([]string{"sh", "-c", "echo to-out; echo to-err >&2"}, nil)
		id := lcID("runio")
		r := e.Run("run", "-b", b, id)
		if r.Code != 0 || r.Stdout != "to-out\n" || !strings.Contains(r.Stderr, "to-err") || strings.Contains(r.Stdout, "to-err") {
			t.Fatalf("exit %d stdout %q stderr %q", r.Code, r.Stdout, r.Stderr)
		}
		lcAssertRemoved(t, e, id, b)
	})

	t.Run("stdin", func(t *testing.T) {
		t.Parallel()
		e := NewEnv(t)
		b := e.Bundle([]string{"cat"}, nil)
		id := lcID("runin")
		r := e.RunIn("hello\n", "run", "-b", b, id)
		if r.Code != 0 || r.Stdout != "hello\n" {
			t.Fatalf("exit %d stdout %q stderr %q", r.Code, r.Stdout, r.Stderr)
		}
		lcAssertRemoved(t, e, id, b)
	})

	t.Run("detach", func(t *testing.T) {
		t.Parallel()
		e := NewEnv(t)
		args := []string{"sh", "-c", "echo up; exec sleep 1000"}
		b := e.Bundle(args, nil)
		id := lcID("rund")
		pidFile := filepath.Join(e.Dir, "run.pid")
		start := time.Now()
		_, out := lcMustRun(t, e, "run", "-d", "--pid-file", pidFile, "-b", b, id)
		if d := time.Since(start); d > 5*time.Second {
			t.Fatalf("run -d took %v", d)
		}
		lcWaitOutput(t, out, "up")
		s := lcGetState(t, e, id)
		if s.Status != "running" || !lcAlive(s.Pid) {
			t.Fatalf("after run -d: %+v, alive %v", s, lcAlive(s.Pid))
		}
		if got := lcCmdline(s.Pid); got != lcArgv([]string{"sleep", "1000"}) {
			t.Errorf("payload cmdline %q", got)
		}
		b2, err := os.ReadFile(pidFile)
		if err != nil || strings.TrimSpace(string(b2)) != strconv.Itoa(s.Pid) {
			t.Errorf("--pid-file holds %q (%v), want %d", b2, err, s.Pid)
		}
		e.MustRun("delete", "-f", id)
		lcAssertRemoved(t, e, id, b, s.Pid)
	})

	// run keeps the created state in memory (Container.Hold): a state
	// rewritten by another command is read back, a container deleted by
	// another command is not an error, and nothing is left either way
	t.Run("changed-under-run", func(t *testing.T) {
		t.Parallel()
		e := NewEnv(t)
		b := e.Bundle([]string{"sh", "-c", "echo ready; exec sleep 100"}, nil)
		for _, other := range [][]string{{"update", "--pids-limit", "50"}, {"delete", "--force"}} {
			id := lcID("runheld-" + other[0])
			cmd, out, errf, err := lcStart(e, "run", "-b", b, id)
			if err != nil {
				t.Fatal(err)
			}
			lcWaitOutput(t, out, "ready")
			pid := e.Pid(id)
			e.MustRun(append(other, id)...)
			if other[0] == "update" {
				e.MustRun("kill", id, "KILL")
			}
			code := lcWaitCmd(t, cmd)
			if code != 137 {
				t.Errorf("%s: run exit %d, want 137 (killed); stderr %q", other[0], code, errf.String())
			}
			if strings.TrimSpace(errf.String()) != "" {
				t.Errorf("%s: run complained: %q", other[0], errf.String())
			}
			lcAssertRemoved(t, e, id, b, pid)
		}
	})

	t.Run("signal-forwarding", func(t *testing.T) {
		t.Parallel()
		e := NewEnv(t)
		b := e.Bundle([]string{"sh", "-c", `trap 'echo got-USR1' USR1; trap 'echo got-RT37' 37; trap 'echo got-RT34' 34; trap 'echo got-TERM; exit 7' TERM; echo ready; while :; do sleep 0.05; done`}, nil)
		id := lcID("runsig")
		cmd, out, _, err := lcStart(e, "run", "-b", b, id)
		if err != nil {
			t.Fatal(err)
		}
		lcWaitOutput(t, out, "ready")
		pid := e.Pid(id)
		// a usual signal and real-time ones: SIGRTMIN+3 (systemd's halt),
		// and 34, glibc's SIGRTMIN, which musl reserves for itself
		for _, sig := range []syscall.Signal{syscall.SIGUSR1, syscall.Signal(37), syscall.Signal(34)} {
			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			lcWaitOutput(t, out, map[syscall.Signal]string{syscall.SIGUSR1: "got-USR1", 37: "got-RT37", 34: "got-RT34"}[sig])
		}
		if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		if code := lcWaitCmd(t, cmd); code != 7 {
			t.Fatalf("run exit %d, want 7 (output %q)", code, out.String())
		}
		if !strings.Contains(out.String(), "got-TERM") {
			t.Errorf("payload did not see TERM: %q", out.String())
		}
		lcAssertRemoved(t, e, id, b, pid)
	})
}

func TestLifecyclePidFileCreate(t *testing.T) {
	t.Parallel()
	e := NewEnv(t)
	b := e.Bundle([]string{"sleep", "1000"}, nil)
	id := lcID("pidfile")
	pidFile := filepath.Join(e.Dir, "sub", "create.pid")
	os.MkdirAll(filepath.Dir(pidFile), 0o755)
	lcMustRun(t, e, "create", "--pid-file", pidFile, "-b", b, id)
	got, err := os.ReadFile(pidFile)
	pid := e.Pid(id)
	if err != nil || strings.TrimSpace(string(got)) != strconv.Itoa(pid) || !lcAlive(pid) {
		t.Fatalf("--pid-file holds %q (%v), state pid %d (alive %v)", got, err, pid, lcAlive(pid))
	}
	// the pid is the container's process, in its cgroup
	if procs := lcCgroupProcs(t, id); len(procs) != 1 || procs[0] != pid {
		t.Errorf("cgroup.procs %v, pid file %d", procs, pid)
	}
}

// ---- 5. ids ----

func TestLifecycleBadIDs(t *testing.T) {
	t.Parallel()
	e := NewEnv(t)
	b := e.Bundle([]string{"sleep", "1000"}, nil)
	id := lcID("existing")
	lcMustRun(t, e, "create", "-b", b, id)
	e.MustRun("start", id)
	before := lcGetState(t, e, id)
	stateBefore, _ := os.ReadFile(filepath.Join(e.Root, id, "state.json"))

	other := e.Bundle([]string{"sh", "-c", "echo intruder"}, nil)
	for _, bad := range []string{"", "a/b", "..", "../x", ".", "/abs", "x/../y"} {
		r, _ := lcRun(e, "create", "-b", other, bad)
		lcOneLine(t, fmt.Sprintf("create %q", bad), r, "container id")
	}
	r, out := lcRun(e, "create", "-b", other, id)
	lcOneLine(t, "create of an existing id", r, id, "already exists")
	r, out2 := lcRun(e, "run", "-b", other, id)
	lcOneLine(t, "run of an existing id", r, id, "already exists")
	time.Sleep(50 * time.Millisecond)
	if strings.Contains(out.String()+out2.String(), "intruder") {
		t.Errorf("the second container ran")
	}
	// nothing appeared beside the root or in it
	ents, _ := os.ReadDir(e.Root)
	if len(ents) != 1 || ents[0].Name() != id {
		var names []string
		for _, x := range ents {
			names = append(names, x.Name())
		}
		t.Errorf("root holds %v, want only %s", names, id)
	}
	for _, p := range []string{filepath.Join(e.Dir, "x"), filepath.Join(e.Dir, "state.json"), filepath.Join(e.Root, "state.json"), filepath.Join(e.Root, "a")} {
		if _, err := os.Lstat(p); err == nil {
			t.Errorf("%s created by a bad id", p)
		}
	}
	after := lcGetState(t, e, id)
	stateAfter, _ := os.ReadFile(filepath.Join(e.Root, id, "state.json"))
	if after != before || !bytes.Equal(stateBefore, stateAfter) || !lcAlive(after.Pid) {
		t.Errorf("existing container changed: %+v -> %+v (alive %v)", before, after, lcAlive(after.Pid))
	}
	// other commands refuse bad ids and touch nothing (delete -f .. must
	// not remove the root)
	for _, bad := range []string{"..", "../x", "a/b", "."} {
		for _, cmd := range [][]string{{"state", bad}, {"start", bad}, {"kill", bad, "KILL"}, {"delete", bad}, {"delete", "-f", bad}} {
			lcOneLine(t, fmt.Sprint(cmd), e.Run(cmd...), "container id")
		}
	}
	if _, err := os.Stat(filepath.Join(e.Root, id, "state.json")); err != nil {
		t.Fatalf("existing container's state went: %v", err)
	}
	if st := e.Status(id); st != "running" {
		t.Errorf("existing container now %s", st)
	}
}

// ---- 6. bad bundles ----

func TestLifecycleBadBundles(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		edit  func(*specs.Spec)
		after func(t *testing.T, dir string) // changes files after the bundle is built
		want  func(s *specs.Spec) []string
	}{
		{name: "malformed-config", after: func(t *testing.T, dir string) {
			os.WriteFile(filepath.Join(dir, "config.json"), []byte(`{"ociVersion": "1.0.2", "process": {`), 0o644)
		}, want: func(*specs.Spec) []string { return []string{"config.json", "malformed"} }},
		{name: "missing-config", after: func(t *testing.T, dir string) {
			os.Remove(filepath.Join(dir, "config.json"))
		}, want: func(*specs.Spec) []string { return []string{"config.json", "no such file"} }},
		{name: "missing-rootfs", after: func(t *testing.T, dir string) {
			os.RemoveAll(filepath.Join(dir, "rootfs"))
		}, want: func(*specs.Spec) []string { return []string{"root.path", "rootfs", "no such file"} }},
		{name: "empty-args", edit: func(s *specs.Spec) { s.Process.Args = []string{} },
			want: func(*specs.Spec) []string { return []string{"process.args"} }},
		{name: "unknown-rlimit", edit: func(s *specs.Spec) {
			s.Process.Rlimits = append(s.Process.Rlimits, specs.POSIXRlimit{Type: "RLIMIT_NOPE", Hard: 1, Soft: 1})
		}, want: func(s *specs.Spec) []string {
			return []string{fmt.Sprintf("process.rlimits[%d]", len(s.Process.Rlimits)-1), "RLIMIT_NOPE"}
		}},
		{name: "missing-bind-source", edit: func(s *specs.Spec) {
			s.Mounts = append(s.Mounts, specs.Mount{Destination: "/mnt", Type: "bind", Source: "/nonexistent-lc-src", Options: []string{"bind"}})
		}, want: func(s *specs.Spec) []string {
			return []string{fmt.Sprintf("mounts[%d].source", len(s.Mounts)-1), "/nonexistent-lc-src"}
		}},
		{name: "env-beyond-execve", edit: func(s *specs.Spec) {
			s.Process.Env = append(s.Process.Env, "BIG="+strings.Repeat("x", 32*os.Getpagesize()))
		}, want: func(s *specs.Spec) []string {
			return []string{fmt.Sprintf("process.env[%d]", len(s.Process.Env)-1), "longer than execve takes"}
		}},
		{name: "relative-cwd", edit: func(s *specs.Spec) { s.Process.Cwd = "tmp" },
			want: func(*specs.Spec) []string { return []string{"process.cwd", "tmp"} }},
		// refused by the kernel in the executor, while the runtime makes
		// the cgroup (the plan went first)
		{name: "unknown-fstype", edit: func(s *specs.Spec) {
			s.Mounts = append(s.Mounts, specs.Mount{Destination: "/mnt", Type: "nosuchfs", Source: "none"})
		}, want: func(s *specs.Spec) []string {
			return []string{fmt.Sprintf("mounts[%d] destination \"/mnt\"", len(s.Mounts)-1), "no such device"}
		}},
		// refused by the kernel when the cgroup is made, after the plan
		// went to the executor (whose process is making its mounts then)
		{name: "cpuset-beyond-cpus", edit: func(s *specs.Spec) {
			s.Linux.Resources.CPU = &specs.LinuxCPU{Cpus: "1000"}
		}, want: func(*specs.Spec) []string { return []string{`linux.resources.cpu.cpus "1000"`} }},
	}
	for _, c := range cases {
		c := c
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			e := NewEnv(t)
			var spec *specs.Spec
			b := e.Bundle([]string{"sh", "-c", "echo payload-ran"}, func(s *specs.Spec) {
				if c.edit != nil {
					c.edit(s)
				}
				spec = s
			})
			if c.after != nil {
				c.after(t, b)
			}
			id := lcID(c.name)
			pidFile := filepath.Join(e.Dir, "bad.pid")
			for _, cmd := range []string{"create", "run"} {
				r, out := lcRun(e, cmd, "--pid-file", pidFile, "-b", b, id)
				lcOneLine(t, cmd, r, c.want(spec)...)
				if strings.Contains(out.String(), "payload-ran") {
					t.Errorf("%s: payload ran", cmd)
				}
				if _, err := os.Stat(pidFile); err == nil {
					t.Errorf("%s: --pid-file written by a failed create", cmd)
				}
				lcAssertRemoved(t, e, id, b)
				if ents, _ := os.ReadDir(e.Root); len(ents) != 0 {
					t.Errorf("%s: root not empty: %v", cmd, ents)
				}
			}
		})
	}
}

// TestLifecycleMissingExecutable: args[0] is not in the rootfs. runc (and
// oci-rt) create the container and fail at start; the error must name
// process.args[0], and the container must be left stopped with nothing
// running.
func TestLifecycleMissingExecutable(t *testing.T) {
	t.Parallel()
	for name, arg := range map[string]string{"absolute": "/nonexistent-lc", "path-lookup": "nonexistent-lc"} {
		arg := arg
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e := NewEnv(t)
			b := e.Bundle([]string{arg}, nil)
			id := lcID("noexe")
			r, _ := lcRun(e, "create", "-b", b, id)
			if r.Code != 0 {
				// failing at create is fine too, if clear and clean
				lcOneLine(t, "create", r, "process.args[0]", arg)
				lcAssertRemoved(t, e, id, b)
				return
			}
			pid := e.Pid(id)
			lcOneLine(t, "start", e.Run("start", id), "process.args[0]", arg)
			lcWaitGone(t, pid)
			e.WaitStatus(id, "stopped")
			deadline := time.Now().Add(5 * time.Second)
			for len(lcCgroupProcs(t, id)) != 0 && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
			}
			if p := lcCgroupProcs(t, id); len(p) != 0 {
				t.Errorf("processes left in the cgroup: %v", p)
			}
			e.MustRun("delete", id)
			lcAssertRemoved(t, e, id, b, pid)

			// run reports the same error and leaves nothing
			r, _ = lcRun(e, "run", "-b", b, id)
			lcOneLine(t, "run", r, "process.args[0]", arg)
			lcAssertRemoved(t, e, id, b)
		})
	}
}

// TestLifecycleNotAnExecutable: args[0] found in PATH but refused by
// execve (ENOEXEC) is named as such at start, not taken for "not found"
// (the search stops at it, as execvp's does), and run leaves nothing.
func TestLifecycleNotAnExecutable(t *testing.T) {
	t.Parallel()
	e := NewEnv(t)
	b := e.Bundle([]string{"garbage-lc"}, nil)
	if err := os.WriteFile(filepath.Join(b, "rootfs", "bin", "garbage-lc"), []byte("\x7fELF no"), 0o755); err != nil {
		t.Fatal(err)
	}
	id := lcID("noexec")
	r, _ := lcRun(e, "run", "-b", b, id)
	lcOneLine(t, "run", r, `process.args[0] "garbage-lc"`, "/bin/garbage-lc", "exec format error")
	lcAssertRemoved(t, e, id, b)
}

// ---- 7. concurrency ----

func TestLifecycleConcurrentOps(t *testing.T) {
	t.Parallel()
	e := NewEnv(t)
	b := e.Bundle([]string{"sleep", "1000"}, nil)
	id := lcID("conc")
	lcMustRun(t, e, "create", "-b", b, id)
	stateFile := filepath.Join(e.Root, id, "state.json")

	// a reader that checks state.json parses every time it looks
	stop := make(chan struct{})
	var readerDone sync.WaitGroup
	var reads, bad atomic.Int64
	readerDone.Add(1)
	go func() {
		defer readerDone.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			data, err := os.ReadFile(stateFile)
			var m map[string]interface{}
			if err != nil || json.Unmarshal(data, &m) != nil || m["id"] != id {
				bad.Add(1)
				t.Errorf("state.json unreadable: %v %q", err, data)
			}
			reads.Add(1)
		}
	}()

	type res struct {
		op string
		r  Result
	}
	round := func(ops []string) []res {
		results := make([]res, len(ops))
		var wg sync.WaitGroup
		for i, op := range ops {
			wg.Add(1)
			go func(i int, op string) {
				defer wg.Done()
				var r Result
				switch op {
				case "start":
					r, _ = lcRun(e, "start", id)
				case "state":
					r, _ = lcRun(e, "state", id)
				case "cont":
					r, _ = lcRun(e, "kill", id, "CONT")
				case "kill":
					r, _ = lcRun(e, "kill", id, "KILL")
				}
				results[i] = res{op, r}
			}(i, op)
		}
		wg.Wait()
		return results
	}
	checkState := func(r Result, allowed ...string) {
		var s lcState
		if r.Code != 0 || json.Unmarshal([]byte(r.Stdout), &s) != nil || s.ID != id {
			t.Errorf("state: exit %d stdout %q stderr %q", r.Code, r.Stdout, r.Stderr)
			return
		}
		for _, a := range allowed {
			if s.Status == a {
				return
			}
		}
		t.Errorf("state status %q, want one of %v", s.Status, allowed)
	}

	// round 1: 4 starts, 3 states, 3 harmless kills
	starts := 0
	for _, x := range round([]string{"start", "state", "cont", "start", "state", "cont", "start", "state", "cont", "start"}) {
		switch x.op {
		case "start":
			if x.r.Code == 0 {
				starts++
			} else if !strings.Contains(x.r.Stderr, "running") {
				t.Errorf("losing start: %q", x.r.Stderr)
			}
		case "state":
			checkState(x.r, "created", "running")
		case "cont":
			if x.r.Code != 0 {
				t.Errorf("kill CONT: exit %d %q", x.r.Code, x.r.Stderr)
			}
		}
	}
	if starts != 1 {
		t.Errorf("%d starts succeeded, want exactly 1", starts)
	}
	s := lcGetState(t, e, id)
	if s.Status != "running" || lcCmdline(s.Pid) != lcArgv([]string{"sleep", "1000"}) {
		t.Errorf("after round 1: %+v cmdline %q", s, lcCmdline(s.Pid))
	}
	pid := s.Pid

	// round 2: 5 KILLs, 5 states
	for _, x := range round([]string{"kill", "state", "kill", "state", "kill", "state", "kill", "state", "kill", "state"}) {
		switch x.op {
		case "kill":
			if x.r.Code != 0 && !strings.Contains(x.r.Stderr, "container not running") {
				t.Errorf("kill: exit %d %q", x.r.Code, x.r.Stderr)
			}
		case "state":
			checkState(x.r, "running", "stopped")
		}
	}
	lcWaitGone(t, pid)
	e.WaitStatus(id, "stopped")
	close(stop)
	readerDone.Wait()
	if reads.Load() == 0 || bad.Load() != 0 {
		t.Errorf("state.json reads %d, bad %d", reads.Load(), bad.Load())
	}
	e.MustRun("delete", id)
	lcAssertRemoved(t, e, id, b, pid)
}

func TestLifecycleConcurrentCreateSameID(t *testing.T) {
	t.Parallel()
	e := NewEnv(t)
	const n = 6
	var bundles []string
	for i := 0; i < n; i++ {
		bundles = append(bundles, e.Bundle([]string{"sh", "-c", fmt.Sprintf("echo winner-%d; exec sleep 1000", i)}, nil))
	}
	id := lcID("samecreate")
	results := make([]Result, n)
	outs := make([]lcOut, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			results[i], outs[i] = lcRun(e, "create", "-b", bundles[i], id)
		}(i)
	}
	wg.Wait()
	winner := -1
	for i, r := range results {
		if r.Code == 0 {
			if winner >= 0 {
				t.Errorf("creates %d and %d both succeeded", winner, i)
			}
			winner = i
		} else {
			lcOneLine(t, fmt.Sprintf("create %d", i), r, "already exists")
		}
	}
	if winner < 0 {
		t.Fatalf("no create succeeded: %+v", results)
	}
	s := lcGetState(t, e, id)
	if s.Status != "created" || s.Bundle != bundles[winner] || !lcAlive(s.Pid) {
		t.Fatalf("state %+v, want created from %s", s, bundles[winner])
	}
	if procs := lcCgroupProcs(t, id); len(procs) != 1 || procs[0] != s.Pid {
		t.Errorf("cgroup.procs %v, want only %d", procs, s.Pid)
	}
	e.MustRun("start", id)
	lcWaitOutput(t, outs[winner], fmt.Sprintf("winner-%d", winner))
	for i := range outs {
		if i != winner && strings.Contains(outs[i].String(), "winner") {
			t.Errorf("loser %d ran: %q", i, outs[i].String())
		}
	}
	e.MustRun("delete", "-f", id)
	lcAssertRemoved(t, e, id, bundles[winner], s.Pid)
}

func TestLifecycleConcurrentContainers(t *testing.T) {
	t.Parallel()
	e := NewEnv(t)
	const n = 8
	var bundles, ids []string
	for i := 0; i < n; i++ {
		bundles = append(bundles, e.Bundle([]string{"sh", "-c", fmt.Sprintf("echo hello-%d; exec sleep 1000", i)}, nil))
		ids = append(ids, lcID(fmt.Sprintf("par%d", i)))
	}
	pids := make([]int, n)
	errs := make([]string, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			fail := func(f string, a ...interface{}) { errs[i] = fmt.Sprintf(f, a...) }
			r, out := lcRun(e, "create", "-b", bundles[i], ids[i])
			if r.Code != 0 {
				fail("create: %d %s", r.Code, r.Stderr)
				return
			}
			if r, _ = lcRun(e, "start", ids[i]); r.Code != 0 {
				fail("start: %d %s", r.Code, r.Stderr)
				return
			}
			deadline := time.Now().Add(10 * time.Second)
			for !strings.Contains(out.String(), fmt.Sprintf("hello-%d", i)) {
				if time.Now().After(deadline) {
					fail("no output: %q", out.String())
					return
				}
				time.Sleep(10 * time.Millisecond)
			}
			r, _ = lcRun(e, "state", ids[i])
			var s lcState
			if r.Code != 0 || json.Unmarshal([]byte(r.Stdout), &s) != nil || s.Status != "running" || s.ID != ids[i] {
				fail("state: %d %q %q", r.Code, r.Stdout, r.Stderr)
				return
			}
			pids[i] = s.Pid
			if r, _ = lcRun(e, "delete", "--force", ids[i]); r.Code != 0 {
				fail("delete: %d %s", r.Code, r.Stderr)
			}
		}(i)
	}
	wg.Wait()
	seen := map[int]bool{}
	for i := 0; i < n; i++ {
		if errs[i] != "" {
			t.Errorf("container %d: %s", i, errs[i])
			continue
		}
		if seen[pids[i]] {
			t.Errorf("pid %d used twice", pids[i])
		}
		seen[pids[i]] = true
		lcAssertRemoved(t, e, ids[i], bundles[i], pids[i])
	}
}

// ---- 8. list and spec ----

func TestLifecycleList(t *testing.T) {
	t.Parallel()
	e := NewEnv(t)

	// nothing yet
	r := e.MustRun("list")
	if f := strings.Fields(r.Stdout); strings.Join(f, " ") != "ID PID STATUS BUNDLE CREATED OWNER" {
		t.Errorf("empty list: %q", r.Stdout)
	}
	if r := e.MustRun("list", "--format", "json"); strings.TrimSpace(r.Stdout) != "[]" {
		t.Errorf("empty list json: %q", r.Stdout)
	}
	if r := e.MustRun("list", "-q"); r.Stdout != "" {
		t.Errorf("empty list -q: %q", r.Stdout)
	}

	b1 := e.Bundle([]string{"sleep", "1000"}, nil)
	b2 := e.Bundle([]string{"sleep", "1000"}, nil)
	id1, id2 := lcID("listb"), lcID("lista")
	lcMustRun(t, e, "create", "-b", b1, id1)
	lcMustRun(t, e, "create", "-b", b2, id2)
	e.MustRun("start", id2)
	want := map[string]lcState{id1: lcGetState(t, e, id1), id2: lcGetState(t, e, id2)}
	ids := []string{id1, id2}
	sort.Strings(ids)

	r = e.MustRun("list")
	lines := strings.Split(strings.TrimRight(r.Stdout, "\n"), "\n")
	if len(lines) != 3 || strings.Join(strings.Fields(lines[0]), " ") != "ID PID STATUS BUNDLE CREATED OWNER" {
		t.Fatalf("list table:\n%s", r.Stdout)
	}
	for i, l := range lines[1:] {
		f := strings.Fields(l)
		if len(f) != 6 {
			t.Errorf("row %q", l)
			continue
		}
		s, ok := want[f[0]]
		if !ok || f[0] != ids[i] {
			t.Errorf("row %d id %s, want %s", i, f[0], ids[i])
			continue
		}
		created, err := time.Parse(time.RFC3339Nano, f[4])
		if f[1] != strconv.Itoa(s.Pid) || f[2] != s.Status || f[3] != s.Bundle || err != nil || !created.Equal(s.Created) || f[5] != s.Owner {
			t.Errorf("row %q, state %+v", l, s)
		}
	}
	if want[id1].Status != "created" || want[id2].Status != "running" {
		t.Errorf("statuses %s %s", want[id1].Status, want[id2].Status)
	}

	r = e.MustRun("list", "--format", "json")
	var arr []lcState
	if err := json.Unmarshal([]byte(r.Stdout), &arr); err != nil {
		t.Fatalf("list json: %v\n%s", err, r.Stdout)
	}
	if len(arr) != 2 {
		t.Fatalf("list json has %d entries: %s", len(arr), r.Stdout)
	}
	for i, s := range arr {
		w := want[s.ID]
		if s.ID != ids[i] || s.Pid != w.Pid || s.Status != w.Status || s.Bundle != w.Bundle {
			t.Errorf("json entry %+v, want %+v", s, w)
		}
	}
	if r := e.MustRun("list", "-f", "json"); r.Stdout == "" {
		t.Errorf("list -f json printed nothing")
	}

	r = e.MustRun("list", "-q")
	if r.Stdout != strings.Join(ids, "\n")+"\n" {
		t.Errorf("list -q: %q, want %q", r.Stdout, ids)
	}
	lcOneLine(t, "list --format yaml", e.Run("list", "--format", "yaml"), "yaml")

	// a container that died unseen is listed as stopped
	syscall.Kill(want[id2].Pid, syscall.SIGKILL)
	lcWaitGone(t, want[id2].Pid)
	r = e.MustRun("list", "--format", "json")
	arr = nil
	if err := json.Unmarshal([]byte(r.Stdout), &arr); err != nil {
		t.Fatalf("list json: %v\n%s", err, r.Stdout)
	}
	i := slices.IndexFunc(arr, func(s lcState) bool { return s.ID == id2 })
	if i < 0 || arr[i].Status != "stopped" || arr[i].Pid != 0 {
		t.Errorf("killed container %s not listed as stopped with no pid: %s", id2, r.Stdout)
	}
}

func TestLifecycleSpec(t *testing.T) {
	t.Parallel()
	e := NewEnv(t)
	dir := filepath.Join(e.Dir, "specdir")
	os.MkdirAll(dir, 0o755)
	e.MustRun("spec", "-b", dir)
	path := filepath.Join(dir, "config.json")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var s specs.Spec
	if err := json.Unmarshal(data, &s); err != nil {
		t.Fatalf("config.json: %v", err)
	}
	if s.Version == "" || s.Root == nil || s.Root.Path != "rootfs" || s.Process == nil || len(s.Process.Args) == 0 || s.Linux == nil {
		t.Fatalf("spec: %s", data)
	}
	nsTypes := func(s *specs.Spec) map[specs.LinuxNamespaceType]bool {
		m := map[specs.LinuxNamespaceType]bool{}
		for _, n := range s.Linux.Namespaces {
			m[n.Type] = true
		}
		return m
	}
	if ns := nsTypes(&s); !ns[specs.PIDNamespace] || !ns[specs.MountNamespace] || !ns[specs.NetworkNamespace] || ns[specs.UserNamespace] {
		t.Errorf("default namespaces %v", ns)
	}

	// refuses to overwrite, and leaves the file alone
	os.WriteFile(path, []byte("mine\n"), 0o644)
	lcOneLine(t, "spec over an existing config.json", e.Run("spec", "-b", dir), "config.json", "exists")
	if got, _ := os.ReadFile(path); string(got) != "mine\n" {
		t.Errorf("config.json overwritten: %q", got)
	}

	// rootless
	rdir := filepath.Join(e.Dir, "rootless")
	os.MkdirAll(rdir, 0o755)
	e.MustRun("spec", "--rootless", "-b", rdir)
	data, _ = os.ReadFile(filepath.Join(rdir, "config.json"))
	var rs specs.Spec
	if err := json.Unmarshal(data, &rs); err != nil {
		t.Fatalf("rootless config.json: %v", err)
	}
	if ns := nsTypes(&rs); !ns[specs.UserNamespace] || ns[specs.NetworkNamespace] || !ns[specs.MountNamespace] {
		t.Errorf("rootless namespaces %v", ns)
	}
	if len(rs.Linux.UIDMappings) == 0 || len(rs.Linux.GIDMappings) == 0 {
		t.Errorf("rootless spec without id mappings: %+v %+v", rs.Linux.UIDMappings, rs.Linux.GIDMappings)
	}

	// the generated spec works: run it on a busybox rootfs (terminal off)
	b := e.Bundle(nil, nil)
	os.Remove(filepath.Join(b, "config.json"))
	e.MustRun("spec", "-b", b)
	var gs specs.Spec
	data, _ = os.ReadFile(filepath.Join(b, "config.json"))
	json.Unmarshal(data, &gs)
	gs.Process.Terminal = false
	gs.Process.Args = []string{"sh", "-c", "echo spec-ok"}
	data, _ = json.Marshal(&gs)
	os.WriteFile(filepath.Join(b, "config.json"), data, 0o644)
	id := lcID("spec")
	if r := e.Run("run", "-b", b, id); r.Code != 0 || r.Stdout != "spec-ok\n" {
		t.Errorf("run of the generated spec: exit %d stdout %q stderr %q", r.Code, r.Stdout, r.Stderr)
	}
	lcAssertRemoved(t, e, id, b)
}
