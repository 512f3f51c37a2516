package integration

import (
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// TestSeccompErrno: a filter making mkdir fail with a chosen errno is in
// force for the payload (inside: the errno; outside: Seccomp: 2 in status).
func TestSeccompErrno(t *testing.T) {
	t.Parallel()
	e := NewEnv(t)
	ret := uint(1) // EPERM
	b := e.Bundle([]string{"sh", "-c", "mkdir /tmp/x 2>&1; grep Seccomp: /proc/self/status"}, func(s *specs.Spec) {
		s.Linux.Seccomp = &specs.LinuxSeccomp{DefaultAction: specs.ActAllow,
			Syscalls: []specs.LinuxSyscall{{Names: []string{"mkdir", "mkdirat"}, Action: specs.ActErrno, ErrnoRet: &ret}}}
		s.Mounts = append(s.Mounts, specs.Mount{Destination: "/tmp", Type: "tmpfs", Source: "tmpfs"})
	})
	r := e.Run("run", "-b", b, "sc1")
	if !strings.Contains(r.Stdout, "Operation not permitted") || !strings.Contains(r.Stdout, "Seccomp:\t2") {
		t.Fatalf("mkdir not refused by the filter: exit %d stdout %q stderr %q", r.Code, r.Stdout, r.Stderr)
	}
}

// TestSeccompBadAction: an unknown action is a one-line error naming the field.
func TestSeccompBadAction(t *testing.T) {
	t.Parallel()
	e := NewEnv(t)
	b := e.Bundle([]string{"true"}, func(s *specs.Spec) {
		s.Linux.Seccomp = &specs.LinuxSeccomp{DefaultAction: "SCMP_ACT_NOPE"}
	})
	r := e.Run("run", "-b", b, "sc2")
	if r.Code == 0 || !strings.Contains(r.Stderr, "linux.seccomp.defaultAction") || strings.Count(strings.TrimSpace(r.Stderr), "\n") != 0 {
		t.Fatalf("exit %d stderr %q", r.Code, r.Stderr)
	}
	if _, err := os.Stat(filepath.Join(e.Root, "sc2")); err == nil {
		t.Fatal("state directory left behind")
	}
}

// TestExecJoinsEverything: an exec'd process is in every namespace and the
// cgroup of the container, sees its pid 1, and gets its own exit code.
func TestExecJoinsEverything(t *testing.T) {
	t.Parallel()
	e := NewEnv(t)
	b := e.Bundle([]string{"sleep", "1000"}, nil)
	runDetached(t, e, b, "ex1")
	pid := e.Pid("ex1")
	pidFile := filepath.Join(e.Dir, "exec.pid")
	r := e.Run("exec", "--pid-file", pidFile, "ex1", "sh", "-c",
		"for n in pid net ipc uts mnt cgroup; do readlink /proc/self/ns/$n; done; ps -o pid,comm | grep -c sleep; exit 9")
	if r.Code != 9 {
		t.Fatalf("exec exit %d, want 9; stderr %q", r.Code, r.Stderr)
	}
	lines := strings.Split(strings.TrimSpace(r.Stdout), "\n")
	for i, n := range []string{"pid", "net", "ipc", "uts", "mnt", "cgroup"} {
		if lines[i] != NsInode(t, pid, n) {
			t.Errorf("exec's %s namespace %s, container's %s", n, lines[i], NsInode(t, pid, n))
		}
	}
	if lines[6] != "1" {
		t.Errorf("exec does not see the container's sleep: %q", lines[6])
	}
	if b, err := os.ReadFile(pidFile); err != nil || len(b) == 0 {
		t.Errorf("exec --pid-file not written: %v", err)
	}
	// user and env flags, and the cgroup from outside
	r = e.MustRun("exec", "-u", "1000:1000", "-e", "FOO=bar", "ex1", "sh", "-c", "id -u; echo $FOO; cat /proc/self/cgroup | grep memory")
	out := strings.Split(strings.TrimSpace(r.Stdout), "\n")
	if out[0] != "1000" || out[1] != "bar" || !strings.HasSuffix(out[2], ":/") {
		t.Errorf("exec -u -e: %q", r.Stdout)
	}
	// a detached exec runs in the container's cgroup
	runToFile(t, e, "exec", "-d", "--pid-file", pidFile, "ex1", "sleep", "999")
	data, _ := os.ReadFile(pidFile)
	procs, _ := os.ReadFile("/sys/fs/cgroup/memory/oci-rt/ex1/cgroup.procs")
	if !strings.Contains(string(procs), strings.TrimSpace(string(data))) {
		t.Errorf("detached exec pid %s not in the container's cgroup %q", data, procs)
	}
	// exec in a stopped container fails clearly
	e.MustRun("kill", "ex1", "KILL")
	e.WaitStatus("ex1", "stopped")
	if r := e.Run("exec", "ex1", "true"); r.Code == 0 || !strings.Contains(r.Stderr, "container not running") {
		t.Errorf("exec in a stopped container: exit %d %q", r.Code, r.Stderr)
	}
}

// TestPsPauseUpdate: ps lists the container's host pids; pause freezes
// it (state paused, freezer FROZEN); update changes the cgroup's limits.
func TestPsPauseUpdate(t *testing.T) {
	t.Parallel()
	e := NewEnv(t)
	b := e.Bundle([]string{"sleep", "1000"}, nil)
	runDetached(t, e, b, "pp1")
	pid := e.Pid("pp1")
	r := e.MustRun("ps", "--format", "json", "pp1")
	if strings.TrimSpace(r.Stdout) != "["+itoa(pid)+"]" {
		t.Errorf("ps json %q, want [%d]", r.Stdout, pid)
	}
	e.MustRun("pause", "pp1")
	if e.Status("pp1") != "paused" {
		t.Errorf("status after pause: %s", e.Status("pp1"))
	}
	if st, _ := os.ReadFile("/sys/fs/cgroup/freezer/oci-rt/pp1/freezer.state"); strings.TrimSpace(string(st)) != "FROZEN" {
		t.Errorf("freezer state %q", st)
	}
	if r := e.Run("exec", "pp1", "true"); r.Code == 0 || !strings.Contains(r.Stderr, "paused") {
		t.Errorf("exec into a paused container: exit %d %q, want a refusal naming --ignore-paused", r.Code, r.Stderr)
	}
	e.MustRun("resume", "pp1")
	if e.Status("pp1") != "running" {
		t.Errorf("status after resume: %s", e.Status("pp1"))
	}
	e.MustRun("update", "--memory", "64m", "--pids-limit", "42", "pp1")
	mem, _ := os.ReadFile("/sys/fs/cgroup/memory/oci-rt/pp1/memory.limit_in_bytes")
	pids, _ := os.ReadFile("/sys/fs/cgroup/pids/oci-rt/pp1/pids.max")
	if strings.TrimSpace(string(mem)) != "67108864" || strings.TrimSpace(string(pids)) != "42" {
		t.Errorf("after update: memory %q pids %q", mem, pids)
	}
	r = e.MustRun("events", "--stats", "pp1")
	if !strings.Contains(r.Stdout, `"type":"stats"`) || !strings.Contains(r.Stdout, `"limit":67108864`) {
		t.Errorf("events --stats: %q", r.Stdout)
	}
}

// runToFile runs an oci-rt command whose stdio goes to a file: a detached
// process inherits it, and would hold a pipe open.
func runToFile(t *testing.T, e *Env, args ...string) {
	t.Helper()
	out, err := os.CreateTemp(e.Dir, "out")
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	cmd := exec.Command(binary, append([]string{"--root", e.Root}, args...)...)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Run(); err != nil {
		b, _ := os.ReadFile(out.Name())
		t.Fatalf("oci-rt %v: %v: %s", args, err, b)
	}
}

// runDetached starts a container with run -d and waits until it runs.
func runDetached(t *testing.T, e *Env, bundle, id string) {
	t.Helper()
	runToFile(t, e, "run", "-d", "-b", bundle, id)
	deadline := time.Now().Add(5 * time.Second)
	for e.Status(id) != "running" && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// TestSeccompNotifyListener: with SCMP_ACT_NOTIFY the listener fd reaches
// the agent at listenerPath during create, with the container process
// state (pid, metadata, fd names); once the agent closes it, the notified
// syscall fails (ENOSYS) in the container.
func TestSeccompNotifyListener(t *testing.T) {
	t.Parallel()
	e := NewEnv(t)
	sockPath := filepath.Join(e.Dir, "agent.sock")
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: sockPath, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	type got struct {
		state  specs.ContainerProcessState
		fdLink string
		err    error
	}
	gotc := make(chan got, 1)
	go func() {
		var g got
		defer func() { gotc <- g }()
		c, err := l.AcceptUnix()
		if err != nil {
			g.err = err
			return
		}
		defer c.Close()
		buf, oob := make([]byte, 8192), make([]byte, unix.CmsgSpace(4))
		n, oobn, _, _, err := c.ReadMsgUnix(buf, oob)
		if err != nil {
			g.err = err
			return
		}
		g.err = json.Unmarshal(buf[:n], &g.state)
		msgs, _ := unix.ParseSocketControlMessage(oob[:oobn])
		if len(msgs) == 1 {
			if fds, err := unix.ParseUnixRights(&msgs[0]); err == nil && len(fds) == 1 {
				g.fdLink, _ = os.Readlink("/proc/self/fd/" + strconv.Itoa(fds[0]))
				unix.Close(fds[0]) // no agent: notified syscalls now fail
			}
		}
	}()
	b := e.Bundle([]string{"sh", "-c", "mkdir /tmp/x 2>&1; echo done"}, func(s *specs.Spec) {
		s.Linux.Seccomp = &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, ListenerPath: sockPath, ListenerMetadata: "hello",
			Syscalls: []specs.LinuxSyscall{{Names: []string{"mkdir", "mkdirat"}, Action: specs.ActNotify}}}
		s.Mounts = append(s.Mounts, specs.Mount{Destination: "/tmp", Type: "tmpfs", Source: "tmpfs"})
	})
	runToFile(t, e, "create", "-b", b, "notify")
	pid := e.Pid("notify")
	g := <-gotc
	if g.err != nil {
		t.Fatalf("agent: %v", g.err)
	}
	if g.state.Pid != pid || g.state.Metadata != "hello" || len(g.state.Fds) != 1 || g.state.Fds[0] != specs.SeccompFdName || g.state.State.ID != "notify" {
		t.Errorf("container process state %+v, want pid %d, metadata hello, fds [seccompFd]", g.state, pid)
	}
	if !strings.Contains(g.fdLink, "seccomp") {
		t.Errorf("the fd received is %q, not a seccomp listener", g.fdLink)
	}
	out := filepath.Join(e.Dir, "notify.out")
	f, _ := os.Create(out)
	cmd := exec.Command(binary, "--root", e.Root, "start", "notify")
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Run(); err != nil {
		t.Fatalf("start: %v", err)
	}
	f.Close()
	e.WaitStatus("notify", "stopped")
	// the payload's output went to the create's stdio
	data, _ := os.ReadDir(e.Dir)
	var all string
	for _, d := range data {
		if b, err := os.ReadFile(filepath.Join(e.Dir, d.Name())); err == nil && !d.IsDir() {
			all += string(b)
		}
	}
	if !strings.Contains(all, "Function not implemented") || !strings.Contains(all, "done") {
		t.Errorf("mkdir under a closed listener: want ENOSYS in the payload's output, got %q", all)
	}
}
