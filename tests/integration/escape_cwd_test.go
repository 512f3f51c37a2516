package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// escDirFd finds a directory fd that pid holds: a procfs root (the
// executor's handle for its procfs writes) first, else any, -1 if none.
func escDirFd(t *testing.T, pid int) int {
	t.Helper()
	if n := escProcFd(t, pid); n >= 0 {
		return n
	}
	ents, _ := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	for _, ent := range ents {
		if st, err := os.Stat(fmt.Sprintf("/proc/%d/fd/%s", pid, ent.Name())); err == nil && st.IsDir() {
			var n int
			fmt.Sscan(ent.Name(), &n)
			return n
		}
	}
	return -1
}

// escProcFd finds the fd of a procfs root that pid holds (the executor's
// handle for its procfs writes), -1 if none.
func escProcFd(t *testing.T, pid int) int {
	t.Helper()
	dir := fmt.Sprintf("/proc/%d/fd", pid)
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, ent := range ents {
		var sf unix.Statfs_t
		var st unix.Stat_t
		p := filepath.Join(dir, ent.Name())
		if unix.Statfs(p, &sf) == nil && sf.Type == unix.PROC_SUPER_MAGIC && unix.Stat(p, &st) == nil && st.Ino == 1 {
			var n int
			fmt.Sscan(ent.Name(), &n)
			return n
		}
	}
	return -1
}

// TestEscCwdMagicLink: process.cwd is entered without following a magic
// link, as the container would resolve it: a cwd that becomes a link to
// /proc/self/fd/N between the check that makes it and the chdir (a
// createContainer hook stands in for another container sharing the volume
// and swapping it) must not leave the process in an fd the executor holds
// (CVE-2024-21626's class). The fd here is the executor's procfs handle (a
// plan with process.oomScoreAdj, as Kubernetes sends, takes one): a procfs
// of the host's pid namespace, unmasked and writable, while the plan has a
// procfs write still to make (an LSM label, written last); once the last
// write is made the handle is closed (TestEscProcHandleClosed) and the
// link aims at another directory fd the executor holds. Checked to fail
// without the defence (5caac94): the process started in that procfs, saw
// the host's pids (the test's own) and could write sys/kernel/core_pattern;
// with the handle closed (and no defence) it started in the fd's directory.
func TestEscCwdMagicLink(t *testing.T) {
	t.Parallel()
	e := NewEnv(t)
	adj := 100
	payload := fmt.Sprintf("test -d ./%d && echo HOSTPROC; test -w sys/kernel/core_pattern && echo WRITABLE; echo END", os.Getpid())
	spec := func(s *specs.Spec) {
		s.Process.Cwd = "/work"
		s.Process.OOMScoreAdj = &adj
	}
	// the same plan without the swap: which fd is the handle
	probe := e.Bundle([]string{"sh", "-c", "echo END"}, spec)
	pid := escID("cwd-probe")
	c, r := rpCreateCmd(t, e, probe, pid, nil)
	if r.Code != 0 {
		t.Fatalf("create: %+v", r)
	}
	n := escDirFd(t, e.Pid(pid))
	c.Start()
	c.WaitOutput("END")
	e.MustRun("delete", "--force", pid)
	if n < 0 {
		t.Fatal("the waiting process holds no directory fd to aim the link at")
	}
	hook := filepath.Join(e.Dir, "swap.sh")
	rpWrite(t, hook, "#!/bin/sh\nb=$(sed -n 's/.*\"bundle\":\"\\([^\"]*\\)\".*/\\1/p')\n"+
		fmt.Sprintf("rm -rf \"$b/rootfs/work\" && ln -s /proc/self/fd/%d \"$b/rootfs/work\"\n", n), 0o755)
	b := e.Bundle([]string{"sh", "-c", payload}, func(s *specs.Spec) {
		spec(s)
		s.Hooks = &specs.Hooks{CreateContainer: []specs.Hook{{Path: hook}}}
	})
	id := escID("cwd")
	c, r = rpCreateCmd(t, e, b, id, nil)
	if r.Code == 0 {
		c.Start()
		out := c.WaitOutput("END")
		e.MustRun("delete", "--force", id)
		if strings.Contains(out, "HOSTPROC") {
			t.Fatalf("the process started in the executor's procfs of the host's pid namespace (fd %d): %q", n, out)
		}
		t.Fatalf("create with process.cwd a link to /proc/self/fd/%d succeeded: %q", n, out)
	}
	escRefused(t, e, b, id, r, `process.cwd "/work"`)
}

// TestEscProcHandleClosed: the executor's procfs handle (a whole procfs of
// the host's pid namespace) is closed after the plan's last procfs write,
// not held while the process waits for start and looks up args[0], which
// a PATH entry of the image could lead through /proc/self/fd/N. Seen from
// the host: no fd of the waiting process is a procfs root. Checked to fail
// without the change (6297ecf): fd 6 was one.
func TestEscProcHandleClosed(t *testing.T) {
	t.Parallel()
	e := NewEnv(t)
	adj := 100
	b := e.Bundle([]string{"sh", "-c", "cat /proc/self/oom_score_adj; echo END"}, func(s *specs.Spec) {
		s.Process.OOMScoreAdj = &adj
		s.Linux.Sysctl = map[string]string{"kernel.domainname": "handle"}
	})
	id := escID("handle")
	c, r := rpCreateCmd(t, e, b, id, nil)
	if r.Code != 0 {
		t.Fatalf("create: %+v", r)
	}
	if n := escProcFd(t, e.Pid(id)); n >= 0 {
		t.Errorf("the waiting process holds a procfs root at fd %d", n)
	}
	c.Start()
	if out := c.WaitOutput("END"); !strings.HasPrefix(out, "100\n") {
		t.Errorf("inside: oom_score_adj %q, want 100 (written through the handle)", out)
	}
	e.MustRun("delete", "--force", id)
}
