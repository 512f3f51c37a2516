package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/oci-rt/oci-rt/tests/bundle"
)

// e2eCtrd is a containerd daemon of this test run: its own config, root,
// state and sockets under e2eTmp, without the CRI plugin.
type e2eCtrd struct {
	Dir  string
	Sock string
	NS   string // containerd namespace of every container
	ctr  string // path of ctr
	e2eDaemon

	specMu sync.Mutex
	spec   string // `ctr oci spec`, once asked (OCISpec)
}

var e2eCtrdShared e2eShared[*e2eCtrd]

// e2eContainerd returns the running daemon, starting it (and importing the
// image) the first time. The test is skipped when containerd or ctr is not
// installed.
func e2eContainerd(t *testing.T) *e2eCtrd {
	t.Helper()
	return e2eCtrdShared.Get(t, func() (*e2eCtrd, string, error) {
		daemon, ctr := e2eLookPath("containerd"), e2eLookPath("ctr")
		shim := e2eLookPath("containerd-shim-runc-v2")
		if daemon == "" || ctr == "" || shim == "" {
			return nil, "containerd, ctr or containerd-shim-runc-v2 not installed: apt-get install -y containerd", nil
		}
		c, err := e2eStartContainerd(daemon, ctr)
		return c, "", err
	})
}

func e2eStartContainerd(daemon, ctr string) (*e2eCtrd, error) {
	dir := filepath.Join(e2eTmp, "containerd")
	if err := os.MkdirAll(dir, 0o711); err != nil {
		return nil, err
	}
	c := &e2eCtrd{
		Dir:       dir,
		Sock:      filepath.Join(dir, "containerd.sock"),
		NS:        fmt.Sprintf("oci-rt-e2e-%d", os.Getpid()),
		ctr:       ctr,
		e2eDaemon: e2eDaemon{log: filepath.Join(dir, "containerd.log")},
	}
	config := fmt.Sprintf(`version = 2
root = %q
state = %q
disabled_plugins = ["io.containerd.grpc.v1.cri"]

[grpc]
  address = %q

[ttrpc]
  address = %q

[debug]
  address = ""
  level = "debug"

[plugins."io.containerd.internal.v1.opt"]
  path = %q
`, filepath.Join(dir, "root"), filepath.Join(dir, "state"), c.Sock, c.Sock+".ttrpc", filepath.Join(dir, "opt"))
	cfg := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(cfg, []byte(config), 0o644); err != nil {
		return nil, err
	}
	ready := func() bool { return exec.Command(ctr, "-a", c.Sock, "version").Run() == nil }
	if err := c.start(daemon, cfg, "containerd", ready); err != nil {
		return nil, err
	}
	e2eAtExit(c.stop)
	out, err := exec.Command(ctr, "-a", c.Sock, "-n", c.NS, "images", "import", e2eImageArchive).CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("ctr images import: %v\n%s", err, out)
	}
	return c, nil
}

// stop removes every container left in the namespace, stops the daemon and
// removes the namespace's cgroups.
func (c *e2eCtrd) stop() {
	ctr := func(args ...string) ([]byte, error) {
		return exec.Command(c.ctr, c.argv(args...)...).CombinedOutput()
	}
	if out, err := ctr("containers", "ls", "-q"); err == nil {
		for _, id := range e2eLines(string(out)) {
			ctr("tasks", "kill", "-s", "SIGKILL", id)
			ctr("tasks", "delete", "-f", id)
			ctr("containers", "delete", id)
		}
	}
	c.halt()
	e2eRemoveCgroupTree("/" + c.NS)
}

// e2eDaemon is a containerd process of the test run, its output in log.
type e2eDaemon struct {
	cmd    *exec.Cmd
	log    string
	exited chan struct{} // closed once it has exited
}

// start runs daemon --config cfg and waits up to 20s for ready; what names
// it in errors, which carry the end of its log.
func (d *e2eDaemon) start(daemon, cfg, what string, ready func() bool) error {
	logf, err := os.Create(d.log)
	if err != nil {
		return err
	}
	d.cmd = exec.Command(daemon, "--config", cfg)
	d.cmd.Stdout, d.cmd.Stderr = logf, logf
	d.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	err = d.cmd.Start()
	logf.Close()
	if err != nil {
		return fmt.Errorf("start %s: %w", what, err)
	}
	d.exited = make(chan struct{})
	go func() { d.cmd.Wait(); close(d.exited) }()
	up := e2eWait(20*time.Second, func() bool {
		select {
		case <-d.exited:
			return true
		default:
		}
		return ready()
	})
	select {
	case <-d.exited:
		return fmt.Errorf("%s exited at start:\n%s", what, d.logTail())
	default:
	}
	if !up {
		d.halt()
		return fmt.Errorf("%s not ready after 20s:\n%s", what, d.logTail())
	}
	return nil
}

// halt stops the daemon: SIGTERM, SIGKILL after 10s.
func (d *e2eDaemon) halt() {
	if d.exited == nil {
		return
	}
	d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-d.exited:
	case <-time.After(10 * time.Second):
		d.cmd.Process.Kill()
		<-d.exited
	}
}

func (d *e2eDaemon) logTail() string {
	b, _ := os.ReadFile(d.log)
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

// argv puts the daemon's socket and namespace before args: every ctr
// command, plain or on a pty, must reach this daemon and namespace.
func (c *e2eCtrd) argv(args ...string) []string {
	return append([]string{"-a", c.Sock, "-n", c.NS}, args...)
}

// Ctr runs ctr against this daemon and namespace.
func (c *e2eCtrd) Ctr(t *testing.T, args ...string) e2eResult {
	t.Helper()
	return e2eExec(t, 60*time.Second, nil, "", c.ctr, c.argv(args...)...)
}

// CtrOK runs ctr and fails the test unless it exits 0.
func (c *e2eCtrd) CtrOK(t *testing.T, args ...string) e2eResult {
	t.Helper()
	return e2eExpect(t, c.Ctr(t, args...), 0)
}

// OCISpec returns the output of `ctr oci spec`, the same for every case,
// so asked once.
func (c *e2eCtrd) OCISpec(t *testing.T) string {
	t.Helper()
	c.specMu.Lock()
	defer c.specMu.Unlock()
	if c.spec == "" {
		c.spec = c.CtrOK(t, "oci", "spec").Stdout
	}
	return c.spec
}

// RuntimeRoot is the --runc-root given to the shim for rt; the shim keeps
// the runtime's state in <root>/<namespace>.
func (c *e2eCtrd) RuntimeRoot(rt e2eRuntime) string {
	return filepath.Join(c.Dir, "runtime-root", rt.Name)
}

// StateDir is where rt keeps the state of container id.
func (c *e2eCtrd) StateDir(rt e2eRuntime, id string) string {
	return filepath.Join(c.RuntimeRoot(rt), c.NS, id)
}

// MemCgroup is the memory cgroup the shim asks for container id (by
// default /<namespace>/<id>).
func (c *e2eCtrd) MemCgroup(id string) string {
	return filepath.Join("/sys/fs/cgroup/memory", c.NS, id)
}

// runPrefix is "run" with the FIFOs under FifoDir and the shim told to use
// rt: what runs of the image and runs of a --config spec share.
func (c *e2eCtrd) runPrefix(rt e2eRuntime) []string {
	return []string{"run", "--fifo-dir", c.FifoDir(), "--runc-binary", rt.Path, "--runc-root", c.RuntimeRoot(rt)}
}

// RunArgs is "run" with the shim told to use rt, then flags, the image, id
// and the payload's args.
func (c *e2eCtrd) RunArgs(rt e2eRuntime, id string, flags []string, args ...string) []string {
	a := append(c.runPrefix(rt), flags...)
	a = append(a, e2eImageRef, id)
	return append(a, args...)
}

// ConfigRunArgs is "run" with the shim told to use rt, then flags, and the
// spec file (e2eCtrdSpecFile) instead of the image.
func (c *e2eCtrd) ConfigRunArgs(rt e2eRuntime, id, specFile string, flags ...string) []string {
	return append(append(c.runPrefix(rt), flags...), "--config", specFile, id)
}

// Detached runs a detached task of the image (`ctr run -d` and flags) and
// returns its pid once it is RUNNING.
func (c *e2eCtrd) Detached(t *testing.T, rt e2eRuntime, id string, flags []string, args ...string) int {
	t.Helper()
	c.CtrOK(t, c.RunArgs(rt, id, append([]string{"-d"}, flags...), args...)...)
	return c.WaitStatus(t, id, "RUNNING")
}

// ExecArgs is `tasks exec` of args in task id as execID, with flags and
// the FIFOs under FifoDir.
func (c *e2eCtrd) ExecArgs(id, execID string, flags []string, args ...string) []string {
	a := append([]string{"tasks", "exec", "--fifo-dir", c.FifoDir()}, flags...)
	a = append(a, "--exec-id", execID, id)
	return append(a, args...)
}

// Exec runs args in task id as execID.
func (c *e2eCtrd) Exec(t *testing.T, id, execID string, args ...string) e2eResult {
	t.Helper()
	return c.Ctr(t, c.ExecArgs(id, execID, nil, args...)...)
}

// Seen returns what the payload of task id wrote to path (e2eFirstOutput),
// read by execs of cat.
func (c *e2eCtrd) Seen(t *testing.T, id, path string) string {
	t.Helper()
	n := 0
	return e2eFirstOutput(func() string {
		n++
		return c.Exec(t, id, fmt.Sprint("cat", n), "cat", path).Stdout
	})
}

// FifoDir is where ctr makes the stdio FIFOs of tasks and execs (instead of
// /run/containerd/fifo).
func (c *e2eCtrd) FifoDir() string { return filepath.Join(c.Dir, "fifo") }

// Bundle is where the shim keeps the container's bundle (and the runtime's
// log.json).
func (c *e2eCtrd) Bundle(id string) string {
	return filepath.Join(c.Dir, "state", "io.containerd.runtime.v2.task", c.NS, id)
}

// Track removes the container at the end of the test, and when the test
// failed logs the runtime's log.json (the shim runs the runtime with
// --log <bundle>/log.json --log-format json) and the daemon's log.
func (c *e2eCtrd) Track(t *testing.T, id string) {
	t.Helper()
	t.Cleanup(func() {
		c.Ctr(t, "tasks", "kill", "-s", "SIGKILL", id)
		c.Ctr(t, "tasks", "delete", "-f", id)
		c.Ctr(t, "containers", "delete", id)
	})
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		if b, err := os.ReadFile(filepath.Join(c.Bundle(id), "log.json")); err == nil && len(b) > 0 {
			t.Logf("runtime log.json of %s:\n%s", id, b)
		}
		if b, err := os.ReadFile(c.log); err == nil {
			var mine []string
			for _, l := range strings.Split(string(b), "\n") {
				if strings.Contains(l, id) && (strings.Contains(l, "level=error") || strings.Contains(l, "level=warn")) {
					mine = append(mine, l)
				}
			}
			if len(mine) > 0 {
				t.Logf("containerd log about %s:\n%s", id, strings.Join(mine, "\n"))
			}
		}
	})
}

// Task returns the pid and status of the task as `ctr tasks ls` shows it
// (0, "" if it is not listed).
func (c *e2eCtrd) Task(t *testing.T, id string) (int, string) {
	t.Helper()
	r := c.CtrOK(t, "tasks", "ls")
	for _, l := range e2eLines(r.Stdout) {
		f := strings.Fields(l)
		if len(f) == 3 && f[0] == id {
			pid, _ := strconv.Atoi(f[1])
			return pid, f[2]
		}
	}
	return 0, ""
}

// WaitStatus polls `ctr tasks ls` until the task has status.
func (c *e2eCtrd) WaitStatus(t *testing.T, id, status string) int {
	t.Helper()
	var pid int
	var got string
	if !e2eWait(10*time.Second, func() bool {
		pid, got = c.Task(t, id)
		return got == status
	}) {
		t.Fatalf("task %s: status %q, want %q", id, got, status)
	}
	return pid
}

// ListedContainer reports whether `ctr containers ls -q` lists id.
func (c *e2eCtrd) ListedContainer(t *testing.T, id string) bool {
	t.Helper()
	return e2eContains(e2eLines(c.CtrOK(t, "containers", "ls", "-q").Stdout), id)
}

// AssertGone checks what every removed container must not leave: id
// listed by containerd, rt's state of it, its memory cgroup memcg.
func (c *e2eCtrd) AssertGone(t *testing.T, rt e2eRuntime, id, memcg string) {
	t.Helper()
	if c.ListedContainer(t, id) {
		t.Errorf("container %s left in containerd", id)
	}
	e2eAssertGone(t, "runtime state", c.StateDir(rt, id))
	e2eAssertGone(t, "memory cgroup", memcg)
}

// e2eCtrdEach is how every containerd case starts: a parallel test on the
// shared daemon, then f as one subtest per runtime with its own container
// id (prefix, runtime, sequence), removed when the subtest ends.
func e2eCtrdEach(t *testing.T, prefix string, f func(t *testing.T, c *e2eCtrd, rt e2eRuntime, id string)) {
	t.Helper()
	t.Parallel()
	c := e2eContainerd(t)
	e2eForEachRuntime(t, func(t *testing.T, rt e2eRuntime) {
		id := e2eName(prefix, rt)
		c.Track(t, id)
		f(t, c, rt, id)
	})
}

// e2eRemoveCgroupTree removes the (empty) cgroup rel and its descendants in
// every v1 hierarchy and the unified one.
func e2eRemoveCgroupTree(rel string) {
	// the last processes of a just-deleted container may still be exiting
	// (rmdir says EBUSY until they are gone): retry for a while
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if e2eRmdirTree(rel) || time.Now().After(deadline) {
			return
		}
	}
}

// e2eRmdirTree removes rel (depth first) in every hierarchy and tells
// whether nothing of it is left.
func e2eRmdirTree(rel string) bool {
	gone := true
	roots, _ := filepath.Glob("/sys/fs/cgroup/*")
	for _, root := range roots {
		top := filepath.Join(root, rel)
		if _, err := os.Stat(top); err != nil {
			continue
		}
		var dirs []string
		filepath.WalkDir(top, func(p string, d os.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				dirs = append(dirs, p)
			}
			return nil
		})
		for i := len(dirs) - 1; i >= 0; i-- {
			if err := syscall.Rmdir(dirs[i]); err != nil && !os.IsNotExist(err) {
				gone = false
			}
		}
	}
	return gone
}

// TestContainerdRunToExit: `ctr run --rm` of a payload that writes to
// stdout and stderr and exits 7: the output is relayed, the exit code is
// ctr's, the payload is pid 1 of its own pid namespace, and afterwards
// neither containerd, the runtime's state directory nor the cgroup keep
// anything.
func TestContainerdRunToExit(t *testing.T) {
	e2eCtrdEach(t, "run", func(t *testing.T, c *e2eCtrd, rt e2eRuntime, id string) {
		r := e2eExpect(t, c.Ctr(t, c.RunArgs(rt, id, []string{"--rm"}, "sh", "-c",
			`echo out; echo err >&2; echo "pid=$$"; echo "args=$0"; exit 7`)...), 7)
		if got := e2eLines(r.Stdout); strings.Join(got, "|") != "out|pid=1|args=sh" {
			t.Errorf("stdout %q, want out, pid=1, args=sh", r.Stdout)
		}
		if !strings.Contains(r.Stderr, "err") {
			t.Errorf("stderr %q lacks the payload's \"err\"", r.Stderr)
		}
		c.AssertGone(t, rt, id, c.MemCgroup(id))
	})
}

// TestContainerdTaskLifecycle: a detached task, then `ctr task exec`,
// `task ps`, `task pause`/`resume`, `task kill` (SIGTERM, trapped: exit 3)
// and delete, each checked from inside and from the host.
func TestContainerdTaskLifecycle(t *testing.T) {
	e2eCtrdEach(t, "task", func(t *testing.T, c *e2eCtrd, rt e2eRuntime, id string) {
		pid := c.Detached(t, rt, id, nil, "sh", "-c", `trap "exit 3" TERM; sleep 1000 & wait`)

		// Outside: the init process is alive, in its own pid namespace,
		// in the cgroup /<namespace>/<id>, with the runtime's state.
		if !e2eAlive(pid) {
			t.Fatalf("task pid %d is not alive", pid)
		}
		if e2eNs(pid, "pid") == e2eNs("self", "pid") {
			t.Errorf("task shares the host pid namespace")
		}
		memcg := e2eCgroupDir(t, pid, "memory")
		if want := c.MemCgroup(id); memcg != want {
			t.Errorf("task in memory cgroup %s, want %s", memcg, want)
		}
		if _, err := os.Stat(c.StateDir(rt, id)); err != nil {
			t.Errorf("no runtime state for the task: %v", err)
		}

		e2eCheckExecSeesInit(t, `sh -c trap "exit 3" TERM; sleep 1000 & wait`, func(args ...string) e2eResult {
			return c.Exec(t, id, "e1", args...)
		})

		// ps: exactly the processes of the cgroup (sh and sleep).
		want := strings.Fields(e2eReadTrim(t, filepath.Join(memcg, "cgroup.procs")))
		got := e2eColumn(c.CtrOK(t, "tasks", "ps", id).Stdout, 0)
		if e2eSortedJoin(got) != e2eSortedJoin(want) || len(got) != 2 {
			t.Errorf("task ps pids %v, cgroup.procs %v (want the same 2)", got, want)
		}

		// pause / resume: status and the freezer cgroup.
		freezer := filepath.Join(e2eCgroupDir(t, pid, "freezer"), "freezer.state")
		c.CtrOK(t, "tasks", "pause", id)
		c.WaitStatus(t, id, "PAUSED")
		if s := e2eReadTrim(t, freezer); s != "FROZEN" {
			t.Errorf("paused: freezer.state %s", s)
		}
		c.CtrOK(t, "tasks", "resume", id)
		c.WaitStatus(t, id, "RUNNING")
		if s := e2eReadTrim(t, freezer); s != "THAWED" {
			t.Errorf("resumed: freezer.state %s", s)
		}
		e2eExpect(t, c.Exec(t, id, "e2", "true"), 0)

		// kill (SIGTERM by default): the trap exits 3.
		c.CtrOK(t, "tasks", "kill", id)
		c.WaitStatus(t, id, "STOPPED")
		if e2eAlive(pid) {
			t.Errorf("pid %d alive after the task stopped", pid)
		}
		r := c.CtrOK(t, "tasks", "delete", id)
		if !strings.Contains(r.Stderr, "exit code 3") {
			t.Errorf("tasks delete: want exit code 3 reported, got %s", r)
		}
		c.CtrOK(t, "containers", "delete", id)
		c.AssertGone(t, rt, id, memcg)
	})
}

var e2eTTYNameRe = regexp.MustCompile(`tty=/dev/pts/(\d+)`)

// TestContainerdTTY: `ctr run -t` from a terminal: the payload's stdin is a
// pty of the container's devpts (its controlling terminal, seen from the
// host in /proc/<pid>/stat), what is typed reaches it, and the exit code is
// relayed.
func TestContainerdTTY(t *testing.T) {
	e2eCtrdEach(t, "tty", func(t *testing.T, c *e2eCtrd, rt e2eRuntime, id string) {
		pidFile := filepath.Join(t.TempDir(), "pid")
		args := c.argv(c.RunArgs(rt, id, []string{"-t", "--rm", "--pid-file", pidFile},
			"sh", "-c", `echo "tty=$(tty)"; [ -t 1 ] && echo stdout-is-tty; read x; echo "got:$x"; exit 4`)...)
		p := e2eStartPty(t, 60*time.Second, 30, 100, c.ctr, args...)
		p.WaitFor("stdout-is-tty", 20*time.Second)
		m := e2eTTYNameRe.FindStringSubmatch(p.Output())
		if m == nil {
			t.Fatalf("no tty name in %q", p.Output())
		}
		// Outside: the payload's controlling terminal is that pts
		// (major 136) of the container's own devpts.
		b, err := os.ReadFile(pidFile)
		if err != nil {
			t.Fatal(err)
		}
		pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
		if ttyNr, major, minor := e2eTTYDev(t, pid); major != 136 || strconv.Itoa(minor) != m[1] {
			t.Errorf("payload tty_nr %d (major %d minor %d), want pts %s", ttyNr, major, minor, m[1])
		}
		p.Write("hello\r")
		code, out := p.Wait()
		if code != 4 {
			t.Errorf("ctr run -t exit %d, want 4; output %q", code, out)
		}
		if !strings.Contains(out, "got:hello") {
			t.Errorf("typed line not read by the payload: %q", out)
		}
	})
}

// TestContainerdExecTTY: `ctr task exec -t` from a terminal (the shim
// passes the runtime's exec a --console-socket): the exec'd process gets a
// pts of the container and its exit code is relayed.
func TestContainerdExecTTY(t *testing.T) {
	e2eCtrdEach(t, "exectty", func(t *testing.T, c *e2eCtrd, rt e2eRuntime, id string) {
		c.Detached(t, rt, id, nil, "sleep", "1000")
		p := e2eStartPty(t, 60*time.Second, 24, 80, c.ctr, c.argv(c.ExecArgs(id, "tty", []string{"-t"},
			"sh", "-c", `echo "tty=$(tty)"; read x; echo "got:$x"; exit 3`)...)...)
		p.WaitFor("tty=", 20*time.Second)
		p.Write("typed\r")
		code, out := p.Wait()
		if code != 3 || !e2eTTYNameRe.MatchString(out) || !strings.Contains(out, "got:typed") {
			t.Errorf("ctr task exec -t: exit %d (want 3), output %q (want a pts and got:typed)", code, out)
		}
	})
}

// TestContainerdCommandNotFound: a payload that does not exist: `ctr run
// --rm` fails saying so, and neither containerd, the runtime's state nor
// the cgroup keep anything.
func TestContainerdCommandNotFound(t *testing.T) {
	e2eCtrdEach(t, "notfound", func(t *testing.T, c *e2eCtrd, rt e2eRuntime, id string) {
		r := c.Ctr(t, c.RunArgs(rt, id, []string{"--rm"}, "/nonexistent")...)
		if r.Code == 0 || !strings.Contains(r.Stderr, "no such file or directory") {
			t.Errorf("want a failure saying \"no such file or directory\", got %s", r)
		}
		c.AssertGone(t, rt, id, c.MemCgroup(id))
	})
}

// TestContainerdReadonlyPaths: the spec ctr generates lists /proc/bus,
// /proc/fs, /proc/irq and /proc/sys in linux.readonlyPaths. Each becomes a
// read-only bind of the container's /proc that keeps the nosuid, nodev and
// noexec of that /proc mount (as runc does), seen in the host's
// /proc/<pid>/mountinfo and from inside (a write to /proc/sys fails).
func TestContainerdReadonlyPaths(t *testing.T) {
	e2eCtrdEach(t, "rop", func(t *testing.T, c *e2eCtrd, rt e2eRuntime, id string) {
		pid := c.Detached(t, rt, id, nil, "sleep", "1000")
		opts := map[string][]string{}
		for _, m := range e2eMounts(t, pid) {
			opts[m.Mountpoint] = strings.Split(m.Options, ",")
		}
		if !e2eContains(opts["/proc"], "nosuid") || !e2eContains(opts["/proc"], "noexec") {
			t.Fatalf("host: the container's /proc has options %v, want nosuid,nodev,noexec", opts["/proc"])
		}
		for _, path := range []string{"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys"} {
			o, ok := opts[path]
			if !ok {
				t.Errorf("host: no mount on %s", path)
				continue
			}
			for _, want := range []string{"ro", "nosuid", "nodev", "noexec"} {
				if !e2eContains(o, want) {
					t.Errorf("host: %s mounted %s, lacks %s (the /proc it binds has %s)", path, strings.Join(o, ","), want, strings.Join(opts["/proc"], ","))
				}
			}
		}
		r := c.Exec(t, id, "w", "sh", "-c", `echo x > /proc/sys/kernel/domainname; echo "rc=$?"`)
		if !strings.Contains(r.Stdout, "rc=1") || !strings.Contains(r.Stderr, "Read-only file system") {
			t.Errorf("inside: a write to /proc/sys succeeded or failed otherwise: %s", r)
		}
	})
}

// TestContainerdReadOnly: `ctr run --read-only`: the root filesystem
// refuses writes from inside and from the host through /proc/<pid>/root,
// while the /run tmpfs stays writable.
func TestContainerdReadOnly(t *testing.T) {
	e2eCtrdEach(t, "ro", func(t *testing.T, c *e2eCtrd, rt e2eRuntime, id string) {
		pid := c.Detached(t, rt, id, []string{"--read-only"}, "sleep", "1000")
		e2eCheckReadOnlyRoot(t, pid, "/run", func(script string) e2eResult {
			return c.Exec(t, id, "w", "sh", "-c", script)
		})
	})
}

// TestContainerdEnv: `ctr run --env`: pid 1 sees the variables (with a
// space kept), and the host sees them in /proc/<pid>/environ next to the
// image's PATH.
func TestContainerdEnv(t *testing.T) {
	e2eCtrdEach(t, "env", func(t *testing.T, c *e2eCtrd, rt e2eRuntime, id string) {
		pid := c.Detached(t, rt, id, []string{"--env", "FOO=bar", "--env", "E2E_SPACE=a b"},
			"sh", "-c", `echo "$FOO|$E2E_SPACE|$PATH" > /run/seen; exec sleep 1000`)
		seen := c.Seen(t, id, "/run/seen")
		if want := "bar|a b|/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"; seen != want {
			t.Errorf("pid 1 saw %q, want %q", seen, want)
		}
		env, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pid))
		if err != nil {
			t.Fatal(err)
		}
		vars := strings.Split(string(env), "\x00")
		if !e2eContains(vars, "FOO=bar") || !e2eContains(vars, "E2E_SPACE=a b") || !e2eHasPrefix(vars, "PATH=") {
			t.Errorf("host: /proc/%d/environ = %q", pid, vars)
		}
	})
}

// TestContainerdHostname: ctr 1.6 has no --hostname, so `ctr run --config`
// with a spec (from `ctr oci spec`) whose hostname is set and whose root is
// a busybox rootfs: the payload sees the name, the host sees a new UTS
// namespace holding it (nsenter -u) and keeps its own name.
func TestContainerdHostname(t *testing.T) {
	hostBefore, _ := os.Hostname()
	e2eCtrdEach(t, "host", func(t *testing.T, c *e2eCtrd, rt e2eRuntime, id string) {
		// `ctr oci spec` puts the container in the namespace's cgroup
		// (/<namespace>), the parent of every other container's.
		specFile := e2eCtrdSpecFile(t, c, "/"+c.NS+"/"+id, map[string]interface{}{"hostname": "e2e-ctr-host"},
			"sh", "-c", `hostname > /run/seen; exec sleep 1000`)
		c.CtrOK(t, c.ConfigRunArgs(rt, id, specFile, "-d")...)
		pid := c.WaitStatus(t, id, "RUNNING")
		if seen := c.Seen(t, id, "/run/seen"); seen != "e2e-ctr-host" {
			t.Errorf("payload's hostname %q, want e2e-ctr-host", seen)
		}
		if e2eNs(pid, "uts") == e2eNs("self", "uts") {
			t.Errorf("container shares the host UTS namespace")
		}
		e2eAssertUTSHostname(t, pid, "e2e-ctr-host")
		if h, _ := os.Hostname(); h != hostBefore {
			t.Errorf("host name changed from %q to %q", hostBefore, h)
		}
	})
}

// e2eCtrdSpecFile writes a spec for `ctr run --config`: `ctr oci spec`
// with root at a new busybox rootfs, the cgroup path, the extra top-level
// fields, PATH (which `ctr oci spec` leaves out and runc needs to find
// args[0]) and args.
func e2eCtrdSpecFile(t *testing.T, c *e2eCtrd, cgroupsPath string, extra map[string]interface{}, args ...string) string {
	t.Helper()
	rootfs := filepath.Join(t.TempDir(), "rootfs")
	if err := bundle.BuildRootfs(rootfs); err != nil {
		t.Fatal(err)
	}
	spec := c.OCISpec(t)
	var s map[string]interface{}
	if err := json.Unmarshal([]byte(spec), &s); err != nil {
		t.Fatalf("ctr oci spec: %v\n%s", err, spec)
	}
	for k, v := range extra {
		s[k] = v
	}
	s["root"] = map[string]interface{}{"path": rootfs}
	proc := s["process"].(map[string]interface{})
	proc["args"] = args
	proc["env"] = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin"}
	s["linux"].(map[string]interface{})["cgroupsPath"] = cgroupsPath
	b, _ := json.Marshal(s)
	f := filepath.Join(t.TempDir(), "spec.json")
	if err := os.WriteFile(f, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return f
}

// TestContainerdFailedCreateSparesNeighbours: a spec from `ctr oci spec`
// puts its container in the cgroup that holds the namespace's other
// containers. Creating it fails there (the devices controller refuses
// "deny all" in a cgroup with children, EINVAL), and that failure must not
// harm the running container in the child cgroup: it stays RUNNING and its
// processes alive. Each runtime gets its own parent cgroup.
func TestContainerdFailedCreateSparesNeighbours(t *testing.T) {
	e2eCtrdEach(t, "neighbour", func(t *testing.T, c *e2eCtrd, rt e2eRuntime, nb string) {
		parent := "/" + e2eName(c.NS+"-parent", rt)
		// runs before the neighbour's own clean-up (registered earlier):
		// its task goes first, or the tree stays busy
		t.Cleanup(func() {
			c.Ctr(t, "tasks", "delete", "-f", nb)
			e2eRemoveCgroupTree(parent)
		})
		pid := c.Detached(t, rt, nb, []string{"--cgroup", parent + "/" + nb}, "sleep", "1000")
		if got, want := e2eCgroupDir(t, pid, "devices"), filepath.Join("/sys/fs/cgroup/devices", parent, nb); got != want {
			t.Fatalf("neighbour in devices cgroup %s, want %s", got, want)
		}

		id := e2eName("intruder", rt)
		c.Track(t, id)
		specFile := e2eCtrdSpecFile(t, c, parent, nil, "true")
		r := c.Ctr(t, c.ConfigRunArgs(rt, id, specFile, "--rm")...)
		if r.Code == 0 {
			t.Logf("create in the parent cgroup %s succeeded (the test expects the devices controller to refuse it): %s", parent, r)
		}
		time.Sleep(200 * time.Millisecond)
		if !e2eAlive(pid) {
			t.Errorf("the failed create of %s in cgroup %s killed the neighbour's pid %d (%s)", id, parent, pid, r)
		}
		if _, st := c.Task(t, nb); st != "RUNNING" {
			t.Errorf("neighbour task status %q after the failed create, want RUNNING", st)
		}
		if _, err := os.Stat(filepath.Join("/sys/fs/cgroup/memory", parent, nb)); err != nil {
			t.Errorf("the failed create removed the neighbour's cgroup: %v", err)
		}
	})
}
