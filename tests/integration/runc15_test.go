package integration

// Where a user can tell oci-rt from runc 1.5 (issue 16, and issue 15's
// cwd): terminal output, mounts, environment, processes, signals, update and
// list. Each test looks from inside the container and from the host.

import (
	"bytes"
	"encoding/json"
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
)

func r15ID(name string) string { return uniqueID("r15", name) }

// ---- terminal ----

// r15Pty opens a pty pair of the test's own: the "other pty" a user's
// terminal (or script(1), expect, a CI runner) puts around oci-rt.
func r15Pty(t *testing.T) (master, slave *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetInt(int(m.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	s, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close(); s.Close() })
	return m, s
}

// r15PtyReader collects what the pty master gives, in the background.
type r15PtyReader struct {
	mu   chan struct{}
	buf  bytes.Buffer
	done chan struct{}
}

func r15Read(m *os.File) *r15PtyReader {
	r := &r15PtyReader{mu: make(chan struct{}, 1), done: make(chan struct{})}
	go func() {
		defer close(r.done)
		b := make([]byte, 4096)
		for {
			n, err := m.Read(b)
			r.mu <- struct{}{}
			r.buf.Write(b[:n])
			<-r.mu
			if err != nil {
				return
			}
		}
	}()
	return r
}

func (r *r15PtyReader) String() string {
	r.mu <- struct{}{}
	defer func() { <-r.mu }()
	return r.buf.String()
}

func (r *r15PtyReader) waitFor(t *testing.T, s string) string {
	t.Helper()
	lcWaitOutput(t, r, s)
	return r.String()
}

// r15OnTerminal starts oci-rt with the slave as its stdio and controlling
// terminal, as a shell in a terminal would.
func r15OnTerminal(t *testing.T, e *Env, slave *os.File, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(binary, append([]string{"--root", e.Root}, args...)...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd
}

// r15ONLCR reads the output flags of the terminal at path, from the host.
func r15ONLCR(t *testing.T, path string) bool {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDONLY|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tio, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	if err != nil {
		t.Fatalf("TCGETS %s: %v", path, err)
	}
	return tio.Oflag&unix.ONLCR != 0
}

// TestR15TerminalNoONLCR: with run -t and exec -t, the container's pty does
// not turn "\n" into "\r\n": behind the user's own terminal (which does)
// every line ends "\r\n", as with runc, not "\r\r\n".
func TestR15TerminalNoONLCR(t *testing.T) {
	t.Parallel()
	e := NewEnv(t)
	script := `printf 'one\ntwo\n'; stty -a 2>/dev/null | grep -o -- '-\?onlcr' | sed 's/^/flag:/'; echo ready; read x; echo bye`
	b := e.Bundle([]string{"sh", "-c", script}, func(s *specs.Spec) { s.Process.Terminal = true })
	id := r15ID("tty")
	master, slave := r15Pty(t)
	out := r15Read(master)
	cmd := r15OnTerminal(t, e, slave, "run", "-b", b, id)
	got := out.waitFor(t, "ready")
	if !strings.Contains(got, "one\r\ntwo\r\n") || strings.Contains(got, "\r\r\n") {
		t.Errorf("run -t through a terminal: %q, want lines ending \"\\r\\n\" (not \"\\r\\r\\n\")", got)
	}
	if !strings.Contains(got, "flag:-onlcr") {
		t.Errorf("inside, stty -a does not show -onlcr: %q", got)
	}
	// from the host: the container process's terminal has ONLCR cleared
	pid := e.Pid(id)
	if r15ONLCR(t, fmt.Sprintf("/proc/%d/fd/0", pid)) {
		t.Errorf("host: the pty of pid %d has ONLCR set", pid)
	}

	// exec -t into the running container, through a terminal of its own
	m2, s2 := r15Pty(t)
	out2 := r15Read(m2)
	ex := r15OnTerminal(t, e, s2, "exec", "-t", id, "sh", "-c", `printf 'x\ny\n'; stty -a 2>/dev/null | grep -o -- '-\?onlcr' | sed 's/^/flag:/'`)
	if code := lcWaitCmd(t, ex); code != 0 {
		t.Errorf("exec -t: exit %d: %q", code, out2.String())
	}
	got2 := out2.waitFor(t, "flag:")
	time.Sleep(50 * time.Millisecond)
	got2 = out2.String()
	if !strings.Contains(got2, "x\r\ny\r\n") || strings.Contains(got2, "\r\r\n") {
		t.Errorf("exec -t through a terminal: %q, want lines ending \"\\r\\n\"", got2)
	}
	if !strings.Contains(got2, "flag:-onlcr") {
		t.Errorf("exec -t: inside, stty -a does not show -onlcr: %q", got2)
	}

	master.Write([]byte("\n"))
	if code := lcWaitCmd(t, cmd); code != 0 {
		t.Errorf("run -t: exit %d: %q", code, out.String())
	}
	if g := out.waitFor(t, "bye"); strings.Contains(g, "\r\r\n") {
		t.Errorf("run -t: %q", g)
	}
}

// ---- mounts ----

// r15RunOut runs a container to its end and returns its stdout, failing
// the test unless it exits 0.
func r15RunOut(t *testing.T, e *Env, b, id string) string {
	t.Helper()
	r, _ := lcRun(e, "run", "-b", b, id)
	if r.Code != 0 {
		t.Fatalf("run %s: exit %d\nstdout: %s\nstderr: %s", id, r.Code, r.Stdout, r.Stderr)
	}
	return r.Stdout
}

// r15Detached starts a container whose payload prints marker and then
// sleeps; it returns the container's pid once marker is out.
func r15Detached(t *testing.T, e *Env, b, id, marker string) (int, lcOut) {
	t.Helper()
	_, out := lcMustRun(t, e, "run", "-d", "-b", b, id)
	lcWaitOutput(t, out, marker)
	return e.Pid(id), out
}

// TestR15MountSourceMadeByEarlierMount: a bind source inside the rootfs
// that only exists once an earlier mount is made (a host directory bound
// under the rootfs; a tmpfs whose mount point the earlier mount makes) is
// resolved then, in order, as runc does.
func TestR15MountSourceMadeByEarlierMount(t *testing.T) {
	t.Parallel()
	e := NewEnv(t)
	host := filepath.Join(e.Dir, "hostdir")
	if err := os.MkdirAll(filepath.Join(host, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(host, "sub", "file"), []byte("from-host\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var rootfs string
	b := e.Bundle([]string{"sh", "-c", "cat /z/file; ls /w; echo ready; sleep 1000"}, func(s *specs.Spec) {
		s.Root.Readonly = false
		rootfs = s.Root.Path
		s.Mounts = append(s.Mounts,
			specs.Mount{Destination: "/mnt/a", Type: "bind", Source: host, Options: []string{"bind"}},
			// absolute, under the rootfs, inside what mounts[n-4] binds
			specs.Mount{Destination: "/z", Type: "bind", Source: "", Options: []string{"bind"}},
			specs.Mount{Destination: "/q/r", Type: "tmpfs", Source: "tmpfs"},
			// relative to the bundle: the directory /q that mounts[n-2] makes
			specs.Mount{Destination: "/w", Type: "bind", Source: "rootfs/q", Options: []string{"bind"}},
		)
	})
	abs := filepath.Join(b, "rootfs")
	if rootfs != "rootfs" {
		t.Fatalf("bundle root.path %q", rootfs)
	}
	// the absolute source names the rootfs, which the bundle dir now fixes
	s := r15Spec(t, b)
	s.Mounts[len(s.Mounts)-3].Source = filepath.Join(abs, "mnt/a/sub")
	r15WriteSpec(t, b, s)

	id := r15ID("srcorder")
	pid, out := r15Detached(t, e, b, id, "ready")
	if got := out.String(); !strings.Contains(got, "from-host\n") || !strings.Contains(got, "\nr\n") {
		t.Errorf("inside: %q, want the host file through /z and the tmpfs's mount point r under /w", got)
	}
	ms := rpMountinfoOf(t, pid)
	if m := rpFindMount(ms, "/z"); m == nil || !strings.HasSuffix(m.Root, "/hostdir/sub") {
		t.Errorf("host: /z of pid %d is %+v, want a bind of %s/sub", pid, m, host)
	}
	if m := rpFindMount(ms, "/w"); m == nil {
		t.Errorf("host: no mount at /w in pid %d", pid)
	}
	e.MustRun("delete", "--force", id)
	lcAssertRemoved(t, e, id, b, pid)

	// a source under the rootfs that no earlier mount makes is still
	// refused at once, naming it, and leaves nothing
	var idx int
	b2 := e.Bundle([]string{"true"}, func(s *specs.Spec) {
		idx = len(s.Mounts)
		s.Mounts = append(s.Mounts, specs.Mount{Destination: "/z", Type: "bind", Source: "rootfs/nowhere", Options: []string{"bind"}})
	})
	id2 := r15ID("srcmissing")
	r := e.Run("run", "-b", b2, id2)
	lcOneLine(t, "missing source", r, fmt.Sprintf("mounts[%d].source", idx), "rootfs/nowhere", "no such file")
	lcAssertRemoved(t, e, id2, b2)
}

func r15Spec(t *testing.T, b string) *specs.Spec {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(b, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	var s specs.Spec
	if err := json.Unmarshal(raw, &s); err != nil {
		t.Fatal(err)
	}
	return &s
}

func r15WriteSpec(t *testing.T, b string, s *specs.Spec) {
	t.Helper()
	raw, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(b, "config.json"), raw, 0o644); err != nil {
		t.Fatal(err)
	}
}

// r15ReadOnlyDir makes dir on the host a read-only (and, with extra,
// nosuid/nodev...) bind mount of itself, undone at the end.
func r15ReadOnlyDir(t *testing.T, dir string, flags uintptr) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mount(dir, dir, "", unix.MS_BIND, ""); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Unmount(dir, unix.MNT_DETACH) })
	if err := unix.Mount("", dir, "", unix.MS_BIND|unix.MS_REMOUNT|flags, ""); err != nil {
		t.Fatal(err)
	}
}

// TestR15BindExactFlags: a bind mount gets exactly the flags asked for, by
// a remount: "rw" of a read-only source is writable; ro, nosuid, nodev,
// noexec and atime options are applied.
func TestR15BindExactFlags(t *testing.T) {
	t.Parallel()
	e := NewEnv(t)
	ro := filepath.Join(e.Dir, "ro")
	r15ReadOnlyDir(t, ro, unix.MS_RDONLY)
	plain := filepath.Join(e.Dir, "plain")
	os.MkdirAll(plain, 0o755)
	b := e.Bundle([]string{"sh", "-c", "touch /rw/f && echo wrote; touch /ro/g 2>/dev/null || echo refused; echo ready; sleep 1000"}, func(s *specs.Spec) {
		s.Mounts = append(s.Mounts,
			specs.Mount{Destination: "/rw", Type: "bind", Source: ro, Options: []string{"bind", "rw"}},
			specs.Mount{Destination: "/ro", Type: "bind", Source: plain, Options: []string{"rbind", "ro", "nosuid", "nodev", "noexec", "noatime"}},
			specs.Mount{Destination: "/keep", Type: "bind", Source: ro, Options: []string{"bind"}},
		)
	})
	id := r15ID("bindflags")
	pid, out := r15Detached(t, e, b, id, "ready")
	if got := out.String(); !strings.Contains(got, "wrote\n") || !strings.Contains(got, "refused\n") {
		t.Errorf("inside: %q, want /rw writable and /ro not", got)
	}
	if _, err := os.Stat(filepath.Join(ro, "f")); err != nil {
		t.Errorf("host: the file written through /rw is not in %s: %v", ro, err)
	}
	ms := rpMountinfoOf(t, pid)
	if m := rpFindMount(ms, "/rw"); m == nil || !m.HasOpt("rw") {
		t.Errorf("host: /rw of pid %d is %+v, want rw", pid, m)
	}
	if m := rpFindMount(ms, "/ro"); m == nil || !m.HasOpt("ro") || !m.HasOpt("nosuid") || !m.HasOpt("nodev") || !m.HasOpt("noexec") || !m.HasOpt("noatime") {
		t.Errorf("host: /ro of pid %d is %+v, want ro,nosuid,nodev,noexec,noatime", pid, m)
	}
	// no flag asked: the source's flags are kept (runc: no remount)
	if m := rpFindMount(ms, "/keep"); m == nil || !m.HasOpt("ro") {
		t.Errorf("host: /keep of pid %d is %+v, want the source's ro", pid, m)
	}
}

// TestR15BindLockedFlagsUserns: in a user namespace the flags the kernel
// locks on a bind of a host mount are kept when the remount does not ask
// to clear them (nosuid, nodev of the source stay beside the asked ro);
// asking to clear one ("rw" of a read-only source) is refused by name, as
// runc 1.5 does, rather than giving a read-only mount silently.
func TestR15BindLockedFlagsUserns(t *testing.T) {
	t.Parallel()
	e := NewEnv(t)
	src := filepath.Join(e.Dir, "locked")
	r15ReadOnlyDir(t, src, unix.MS_NOSUID|unix.MS_NODEV)
	rosrc := filepath.Join(e.Dir, "lockedro")
	r15ReadOnlyDir(t, rosrc, unix.MS_RDONLY)
	b := e.Bundle([]string{"sh", "-c", "echo ready; sleep 1000"}, func(s *specs.Spec) {
		nsAddUserns(s)
		s.Mounts = append(s.Mounts,
			specs.Mount{Destination: "/l", Type: "bind", Source: src, Options: []string{"bind", "ro", "noexec"}})
	})
	nsPrepareUserns(t, e, b)
	os.Chmod(src, 0o755)
	id := r15ID("locked")
	pid, _ := r15Detached(t, e, b, id, "ready")
	m := rpFindMount(rpMountinfoOf(t, pid), "/l")
	if m == nil || !m.HasOpt("ro") || !m.HasOpt("noexec") || !m.HasOpt("nosuid") || !m.HasOpt("nodev") {
		t.Errorf("host: /l of pid %d is %+v, want ro,noexec and the locked nosuid,nodev", pid, m)
	}
	in := rsExecOut(t, e, id, "grep ' /l ' /proc/self/mountinfo")
	if !strings.Contains(in, "ro,nosuid,nodev,noexec") {
		t.Errorf("inside: /l is %q", in)
	}

	b2 := e.Bundle([]string{"true"}, func(s *specs.Spec) {
		nsAddUserns(s)
		s.Mounts = append(s.Mounts, specs.Mount{Destination: "/l", Type: "bind", Source: rosrc, Options: []string{"bind", "rw"}})
	})
	nsPrepareUserns(t, e, b2)
	id2 := r15ID("lockedrw")
	r := e.Run("run", "-b", b2, id2)
	lcOneLine(t, "rw of a locked read-only mount", r, "mounts[", `"/l"`, "locked")
	lcAssertRemoved(t, e, id2, b2)
}

// TestR15TmpfsMode: a tmpfs without mode= takes the mode of the directory
// it is mounted on; on a directory it makes, tmpfs's own 1777; mode=
// given wins.
func TestR15TmpfsMode(t *testing.T) {
	t.Parallel()
	e := NewEnv(t)
	b := e.Bundle([]string{"sh", "-c", "stat -c '%n %a' /t700 /tnew /t750; echo ready; sleep 1000"}, func(s *specs.Spec) {
		s.Mounts = append(s.Mounts,
			specs.Mount{Destination: "/t700", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid"}},
			specs.Mount{Destination: "/tnew", Type: "tmpfs", Source: "tmpfs"},
			specs.Mount{Destination: "/t750", Type: "tmpfs", Source: "tmpfs", Options: []string{"mode=750"}},
		)
	})
	if err := os.Mkdir(filepath.Join(b, "rootfs", "t700"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(b, "rootfs", "t750"), 0o711); err != nil {
		t.Fatal(err)
	}
	id := r15ID("tmpfsmode")
	pid, out := r15Detached(t, e, b, id, "ready")
	for _, want := range []string{"/t700 700", "/tnew 1777", "/t750 750"} {
		if !strings.Contains(out.String(), want+"\n") {
			t.Errorf("inside: %q, want %q", out.String(), want)
		}
	}
	for p, want := range map[string]os.FileMode{"t700": 0o700, "tnew": 0o777 | os.ModeSticky, "t750": 0o750} {
		st, err := os.Stat(fmt.Sprintf("/proc/%d/root/%s", pid, p))
		if err != nil {
			t.Fatal(err)
		}
		if got := st.Mode() & (os.ModePerm | os.ModeSticky); got != want {
			t.Errorf("host: /%s of pid %d has mode %v, want %v", p, pid, got, want)
		}
	}
}

// ---- process and environment ----

// r15OwnBoundingLacks returns a capability oci-rt's own bounding set lacks
// (the sandbox withholds CAP_SYS_RESOURCE), or "".
func r15OwnBoundingLacks() (string, int) {
	names := map[int]string{24: "CAP_SYS_RESOURCE", 25: "CAP_SYS_TIME", 16: "CAP_SYS_MODULE", 17: "CAP_SYS_RAWIO", 22: "CAP_SYS_BOOT"}
	for n, name := range names {
		if r, _ := unix.PrctlRetInt(unix.PR_CAPBSET_READ, uintptr(n), 0, 0, 0); r == 0 {
			return name, n
		}
	}
	return "", -1
}

func r15CapField(status, key string) uint64 {
	for _, l := range strings.Split(status, "\n") {
		if v, ok := strings.CutPrefix(l, key+":"); ok {
			n, _ := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
			return n
		}
	}
	return ^uint64(0)
}

// TestR15CapabilitiesWarn: an unknown capability, and one that cannot be
// granted (outside oci-rt's own bounding set), are logged as a warning and
// left out; the container runs with the rest (runtime-spec config.md).
func TestR15CapabilitiesWarn(t *testing.T) {
	t.Parallel()
	e := NewEnv(t)
	lack, lackBit := r15OwnBoundingLacks()
	extra := []string{"CAP_BOGUS", "CAP_CHOWN"}
	if lack != "" {
		extra = append(extra, lack)
	} else {
		t.Log("oci-rt's bounding set is full here: only the unknown capability is tried")
	}
	b := e.Bundle([]string{"sh", "-c", "grep -E '^Cap(Eff|Bnd)' /proc/self/status; echo ready; sleep 1000"}, func(s *specs.Spec) {
		c := s.Process.Capabilities
		c.Bounding = append(c.Bounding, extra...)
		c.Effective = append(c.Effective, extra...)
		c.Permitted = append(c.Permitted, extra...)
	})
	id := r15ID("caps")
	r, out := lcRun(e, "run", "-d", "-b", b, id)
	if r.Code != 0 {
		t.Fatalf("run -d: exit %d: %s", r.Code, r.Stderr)
	}
	if !strings.Contains(r.Stderr, "CAP_BOGUS") || !strings.Contains(strings.ToLower(r.Stderr), "warn") ||
		(lack != "" && !strings.Contains(r.Stderr, lack)) || strings.Contains(r.Stderr, "CAP_CHOWN") {
		t.Errorf("stderr %q: want a warning naming CAP_BOGUS and %s only", r.Stderr, lack)
	}
	lcWaitOutput(t, out, "ready")
	pid := e.Pid(id)
	st, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	eff := r15CapField(string(st), "CapEff")
	if eff&(1<<unix.CAP_CHOWN) == 0 || eff&(1<<unix.CAP_KILL) == 0 {
		t.Errorf("host: CapEff %x of pid %d lacks CAP_CHOWN or CAP_KILL", eff, pid)
	}
	if lackBit >= 0 && eff&(1<<lackBit) != 0 {
		t.Errorf("host: CapEff %x has %s", eff, lack)
	}
	if in := r15CapField(out.String(), "CapEff"); in != eff {
		t.Errorf("inside CapEff %x, host %x", in, eff)
	}
}

// TestR15Environment: a variable given twice keeps the last value (where
// the last one stands), an empty HOME is replaced by the user's home from
// the container's /etc/passwd, and a user without an entry gets "/".
// exec prepares its environment the same way.
func TestR15Environment(t *testing.T) {
	t.Parallel()
	e := NewEnv(t)
	// sleep, not sh: a shell rewrites what /proc/<pid>/environ shows
	b := e.Bundle([]string{"sleep", "1000"}, func(s *specs.Spec) {
		s.Process.User = specs.User{UID: 1000, GID: 1000}
		s.Process.Env = []string{"PATH=/bin", "A=1", "B=x", "HOME=", "A=2"}
	})
	id := r15ID("env")
	lcMustRun(t, e, "run", "-d", "-b", b, id)
	pid := e.Pid(id)
	want := "PATH=/bin\x00B=x\x00A=2\x00HOME=/home/app\x00"
	if got, _ := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pid)); string(got) != want {
		t.Errorf("host: /proc/%d/environ %q, want %q", pid, got, want)
	}
	r, _ := lcRun(e, "exec", "--env", "C=1", "--env", "C=3", "--env", "HOME=", id, "cat", "/proc/self/environ")
	if r.Code != 0 {
		t.Fatalf("exec: exit %d: %s", r.Code, r.Stderr)
	}
	if strings.Count(r.Stdout, "C=") != 1 || !strings.Contains(r.Stdout, "C=3\x00") || !strings.Contains(r.Stdout, "HOME=/home/app\x00") ||
		strings.Contains(r.Stdout, "HOME=\x00") {
		t.Errorf("exec environ %q: want C=3 once and HOME=/home/app", r.Stdout)
	}

	b2 := e.Bundle([]string{"cat", "/proc/self/environ"}, func(s *specs.Spec) {
		s.Process.User = specs.User{UID: 4242, GID: 4242}
		s.Process.Env = []string{"PATH=/bin"}
	})
	if got := r15RunOut(t, e, b2, r15ID("envnouser")); got != "PATH=/bin\x00HOME=/\x00" {
		t.Errorf("a uid without a passwd entry: environ %q, want HOME=/", got)
	}
	// no env at all: none, not even HOME (runc 1.5 prepares nothing)
	b3 := e.Bundle([]string{"cat", "/proc/self/environ"}, func(s *specs.Spec) { s.Process.Env = nil })
	if got := r15RunOut(t, e, b3, r15ID("envnone")); got != "" {
		t.Errorf("a process without env: environ %q, want it empty", got)
	}
}

// TestR15TimeNamespaceUserns: a new time namespace with a new user
// namespace gets its offsets (written with the runtime's privileges).
func TestR15TimeNamespaceUserns(t *testing.T) {
	t.Parallel()
	e := NewEnv(t)
	const boot = 100000
	b := e.Bundle([]string{"sh", "-c", "echo offsets $(cat /proc/self/timens_offsets); echo uptime $(cat /proc/uptime); echo ready; sleep 1000"}, func(s *specs.Spec) {
		nsAddUserns(s)
		nsSet(s, specs.TimeNamespace, "")
		s.Linux.TimeOffsets = map[string]specs.LinuxTimeOffset{"boottime": {Secs: boot}}
	})
	nsPrepareUserns(t, e, b)
	id := r15ID("timeuserns")
	before := nsHostUptime(t)
	pid, out := r15Detached(t, e, b, id, "ready")
	if NsInode(t, pid, "time") == NsInode(t, "self", "time") || NsInode(t, pid, "user") == NsInode(t, "self", "user") {
		t.Fatalf("pid %d does not have time and user namespaces of its own", pid)
	}
	host, err := os.ReadFile(fmt.Sprintf("/proc/%d/timens_offsets", pid))
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("monotonic 0 0 boottime %d 0", boot)
	if got := strings.Join(strings.Fields(string(host)), " "); got != want {
		t.Errorf("host: timens_offsets %q, want %q", got, want)
	}
	if got := strings.Join(strings.Fields(nsField(t, out.String(), "offsets")), " "); got != want {
		t.Errorf("inside: timens_offsets %q, want %q", got, want)
	}
	if up := nsUptime(t, nsField(t, out.String(), "uptime")); up < before+boot-1 {
		t.Errorf("inside uptime %.1f, want at least %.1f", up, before+boot-1)
	}
}

// TestR15WaitingProcessFds: between create and start the container's
// process holds none of the files oci-rt inherited from its caller (here
// a canary at fd 10, as a shell or CI runner leaves them), and the payload
// has none either; --preserve-fds passes exactly what it names.
func TestR15WaitingProcessFds(t *testing.T) {
	t.Parallel()
	e := NewEnv(t)
	canary := filepath.Join(e.Dir, "canary")
	f, err := os.Create(canary)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b := e.Bundle([]string{"sh", "-c", "ls -l /proc/self/fd/ | grep -c canary | sed 's/^/inside:/'; echo done"}, nil)
	id := r15ID("fds")
	out := filepath.Join(e.Dir, id+".out")
	o, _ := os.Create(out)
	defer o.Close()
	cmd := exec.Command(binary, "--root", e.Root, "create", "-b", b, id)
	cmd.Stdout, cmd.Stderr = o, o
	cmd.ExtraFiles = []*os.File{nil, nil, nil, nil, nil, nil, nil, f} // fd 10
	if err := cmd.Run(); err != nil {
		b, _ := os.ReadFile(out)
		t.Fatalf("create: %v: %s", err, b)
	}
	pid := e.Pid(id)
	ents, _ := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	for _, ent := range ents {
		if l, _ := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", pid, ent.Name())); l == canary {
			t.Errorf("host: the waiting process %d holds the caller's %s as fd %s", pid, canary, ent.Name())
		}
	}
	e.MustRun("start", id)
	e.WaitStatus(id, "stopped")
	if got, _ := os.ReadFile(out); !strings.Contains(string(got), "inside:0\n") {
		t.Errorf("inside: %q, want no canary fd", got)
	}

	// --preserve-fds 1: the caller's fd 3 is the payload's fd 3
	id2 := r15ID("fdsp")
	cmd = exec.Command(binary, "--root", e.Root, "run", "--preserve-fds", "1", "-b", b, id2)
	var so bytes.Buffer
	cmd.Stdout, cmd.Stderr = &so, &so
	cmd.ExtraFiles = []*os.File{f}
	if err := cmd.Run(); err != nil || !strings.Contains(so.String(), "inside:1\n") {
		t.Errorf("run --preserve-fds 1: %v %q, want the canary once", err, so.String())
	}
}

// TestR15StartContainerHookEnv: startContainer hooks without env get the
// process's environment (runc: the container init's), hooks with env
// theirs only.
func TestR15StartContainerHookEnv(t *testing.T) {
	t.Parallel()
	e := NewEnv(t)
	b := e.Bundle([]string{"true"}, func(s *specs.Spec) {
		s.Root.Readonly = false
		s.Process.Env = []string{"PATH=/bin:/usr/bin", "X=1", "X=2"}
		s.Hooks = &specs.Hooks{StartContainer: []specs.Hook{
			// cp copies its own environ: what the hook was given
			{Path: "/bin/busybox", Args: []string{"cp", "/proc/self/environ", "/hook1"}},
			{Path: "/bin/busybox", Args: []string{"cp", "/proc/self/environ", "/hook2"}, Env: []string{"ONLY=me"}},
		}}
	})
	r15RunOut(t, e, b, r15ID("hookenv"))
	h1, _ := os.ReadFile(filepath.Join(b, "rootfs", "hook1"))
	h2, _ := os.ReadFile(filepath.Join(b, "rootfs", "hook2"))
	if string(h1) != "PATH=/bin:/usr/bin\x00X=2\x00HOME=/root\x00" {
		t.Errorf("hook without env: environ %q, want the process's", h1)
	}
	if string(h2) != "ONLY=me\x00" {
		t.Errorf("hook with env: environ %q, want ONLY=me", h2)
	}
}

// TestR15CwdUnderRootOnlyDir (issue 15): process.cwd under a directory only
// root may enter works for a non-root process without capabilities: it is
// entered before the privileges go, as runc does.
func TestR15CwdUnderRootOnlyDir(t *testing.T) {
	t.Parallel()
	e := NewEnv(t)
	b := e.Bundle([]string{"sh", "-c", "pwd; ls; echo ready; sleep 1000"}, func(s *specs.Spec) {
		s.Process.User = specs.User{UID: 1000, GID: 1000}
		s.Process.Cwd = "/private/work"
		s.Process.Capabilities = &specs.LinuxCapabilities{}
	})
	work := filepath.Join(b, "rootfs", "private", "work")
	if err := os.MkdirAll(work, 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(work, "note"), nil, 0o644)
	os.Chown(work, 1000, 1000)
	if err := os.Chmod(filepath.Join(b, "rootfs", "private"), 0o700); err != nil {
		t.Fatal(err)
	}
	id := r15ID("cwd")
	pid, out := r15Detached(t, e, b, id, "ready")
	if got := out.String(); !strings.HasPrefix(got, "/private/work\nnote\n") {
		t.Errorf("inside: %q, want pwd /private/work and its file", got)
	}
	if l, _ := os.Readlink(fmt.Sprintf("/proc/%d/cwd", pid)); !strings.HasSuffix(l, "/private/work") {
		t.Errorf("host: cwd of pid %d is %q", pid, l)
	}
	if st := nsStatusField(t, pid, "CapEff"); len(st) != 1 || st[0] != "0000000000000000" {
		t.Errorf("host: CapEff %v, want none", st)
	}
	if st := nsStatusField(t, pid, "Uid"); len(st) == 0 || st[0] != "1000" {
		t.Errorf("host: Uid %v, want 1000", st)
	}
}

// ---- signals and cgroups ----

// TestR15KillSharedPidNs: a container without a pid namespace of its own:
// `kill ID KILL` leaves none of its processes (found through its cgroup),
// and so does `delete --force`, as runc 1.5.
func TestR15KillSharedPidNs(t *testing.T) {
	t.Parallel()
	e := NewEnv(t)
	b := e.Bundle([]string{"sh", "-c", "sleep 1000 & sleep 1000 & echo ready; wait"}, lcNoPidNs)
	id := r15ID("killshared")
	pid, _ := r15Detached(t, e, b, id, "ready")
	procs := lcCgroupProcs(t, id)
	if len(procs) != 3 {
		t.Fatalf("cgroup.procs %v, want the shell and 2 sleeps", procs)
	}
	e.MustRun("kill", id, "KILL")
	for _, p := range procs {
		lcWaitGone(t, p)
	}
	e.WaitStatus(id, "stopped")
	if p := lcCgroupProcs(t, id); len(p) != 0 {
		t.Errorf("after kill KILL, cgroup.procs %v", p)
	}
	e.MustRun("delete", id)
	lcAssertRemoved(t, e, id, b, pid)

	// delete --force of a running one
	id2 := r15ID("delshared")
	pid2, _ := r15Detached(t, e, b, id2, "ready")
	procs2 := lcCgroupProcs(t, id2)
	e.MustRun("delete", "--force", id2)
	lcAssertRemoved(t, e, id2, b, append(procs2, pid2)...)
}

// TestR15UpdateCPUIdleOrder: update orders its writes so that a valid
// combination succeeds: leaving SCHED_IDLE with new shares (idle first),
// entering it with shares (shares first).
func TestR15UpdateCPUIdleOrder(t *testing.T) {
	t.Parallel()
	if !rsExists("/sys/fs/cgroup/cpu/cpu.idle") {
		t.Skip("no cpu.idle")
	}
	e := NewEnv(t)
	b := e.Bundle([]string{"sh", "-c", "echo ready; sleep 1000"}, func(s *specs.Spec) {
		s.Linux.Resources.CPU = &specs.LinuxCPU{Idle: rsI64(1)}
	})
	id := r15ID("idle")
	r15Detached(t, e, b, id, "ready")
	dir := "/sys/fs/cgroup/cpu/oci-rt/" + id
	for _, step := range []struct {
		json         string
		idle, shares string
	}{
		{`{"cpu":{"idle":0,"shares":512}}`, "0", "512"},
		{`{"cpu":{"idle":1,"shares":256}}`, "1", ""},
		{`{"cpu":{"idle":0,"shares":300}}`, "0", "300"},
	} {
		r := e.RunIn(step.json, "update", "-r", "-", id)
		if r.Code != 0 {
			t.Errorf("update %s: exit %d: %s", step.json, r.Code, r.Stderr)
			continue
		}
		if got := rsRead(dir + "/cpu.idle"); got != step.idle {
			t.Errorf("after %s: host cpu.idle %q, want %s", step.json, got, step.idle)
		}
		if step.shares != "" {
			if got := rsRead(dir + "/cpu.shares"); got != step.shares {
				t.Errorf("after %s: host cpu.shares %q, want %s", step.json, got, step.shares)
			}
			if in := strings.TrimSpace(rsExecOut(t, e, id, "cat /sys/fs/cgroup/cpu/cpu.shares")); in != step.shares {
				t.Errorf("after %s: inside cpu.shares %q", step.json, in)
			}
		}
	}
}

// TestR15ListMissingRoot: `list` with a --root that does not exist fails,
// naming it, and does not make it (runc 1.5).
func TestR15ListMissingRoot(t *testing.T) {
	t.Parallel()
	root := filepath.Join(t.TempDir(), "nope")
	for _, args := range [][]string{{"list"}, {"list", "-q"}, {"list", "--format", "json"}} {
		cmd := exec.Command(binary, append([]string{"--root", root}, args...)...)
		var so, se bytes.Buffer
		cmd.Stdout, cmd.Stderr = &so, &se
		err := cmd.Run()
		r := Result{Stdout: so.String(), Stderr: se.String()}
		if ee, ok := err.(*exec.ExitError); ok {
			r.Code = ee.ExitCode()
		}
		lcOneLine(t, strings.Join(args, " "), r, root, "no such file")
		if so.Len() != 0 {
			t.Errorf("%v: stdout %q", args, so.String())
		}
		if _, err := os.Stat(root); err == nil {
			t.Errorf("%v made %s", args, root)
		}
	}
}
