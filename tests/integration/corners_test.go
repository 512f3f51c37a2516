package integration

// Lifecycle and CLI corners where clients and scripts expect runc's
// behaviour (issue 15): delete of a created container, kill --all after
// exit, signal 0, exec into a created container, ps of a stopped one,
// flags after the id, --pidfd-socket, exec --cgroup, OOM events, the
// console size and owner, a frozen cgroup, a seccomp listenerPath without
// SCMP_ACT_NOTIFY, the rules startContainer hooks run under.

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// ---- helpers (prefix cn: corners) ----

var cnSeq atomic.Int64

func cnID(name string) string {
	return fmt.Sprintf("cn%d-%s-%d", os.Getpid(), name, cnSeq.Add(1))
}

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
	r := e.MustRun("exec", id, "--env", "CNX=one", "--env", "CNY=two", "--cwd", "/tmp", "sh", "-c", "echo $CNX $CNY $(pwd) \"$@\"", "sh", "--env", "kept")
	if got := strings.TrimSpace(r.Stdout); got != "one two /tmp --env kept" {
		t.Errorf("exec ID --env ... printed %q, want %q", got, "one two /tmp --env kept")
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
