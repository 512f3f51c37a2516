// Package e2e drives oci-rt through real container engines: containerd 1.6
// (ctr, the io.containerd.runc.v2 shim, and its CRI plugin through crictl)
// and podman 4.3 (conmon). Every case
// runs once per runtime named in $E2E_RUNTIMES (default "oci-rt runc"), as
// subtests, so a case that passes with runc and fails with oci-rt points at
// oci-rt, and a case that fails with both points at the test.
//
// The engines run with their own temporary root, state and socket: the
// machine's containerd and podman storage are never used. The image is a
// docker-archive built here from Debian's static busybox (tests/bundle), so
// no registry is needed.
//
// Debian packages needed: containerd podman runc busybox-static (and conmon,
// catatonit, which podman pulls in), containernetworking-plugins for the CRI
// case, which also needs crictl (scripts/crictl.sh builds it). Without an
// engine the corresponding tests are skipped with a message.
package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/moby/sys/mountinfo"
	"github.com/oci-rt/oci-rt/tests/bundle"
)

// e2eOciRt is the oci-rt binary under test: $OCIRT_BINARY, or built by
// TestMain.
var e2eOciRt string

// e2eTmp is the package's scratch directory, removed by TestMain.
var e2eTmp string

// e2eImageArchive is the docker-archive tarball of the busybox image.
var e2eImageArchive string

// e2eImageRef is the name the image is loaded under in both engines.
const e2eImageRef = "localhost/oci-rt-e2e/busybox:latest"

// e2eCleanups run at the end of TestMain, last registered first (the engines
// are stopped there).
var (
	e2eCleanupMu sync.Mutex
	e2eCleanups  []func()
)

func e2eAtExit(f func()) {
	e2eCleanupMu.Lock()
	e2eCleanups = append(e2eCleanups, f)
	e2eCleanupMu.Unlock()
}

func TestMain(m *testing.M) {
	if os.Geteuid() != 0 {
		fmt.Println("e2e tests need root: skipped")
		os.Exit(0)
	}
	if err := bundle.CheckBusybox(); err != nil {
		fmt.Println("e2e tests need busybox-static:", err)
		os.Exit(1)
	}
	var err error
	e2eTmp, err = os.MkdirTemp("", "oci-rt-e2e-")
	if err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	// conmon, the shim and the runtimes must be able to traverse it.
	os.Chmod(e2eTmp, 0o755)
	code := e2eMain(m)
	e2eCleanupMu.Lock()
	for i := len(e2eCleanups) - 1; i >= 0; i-- {
		e2eCleanups[i]()
	}
	e2eCleanupMu.Unlock()
	e2eUnmountUnder(e2eTmp)
	os.RemoveAll(e2eTmp)
	os.Exit(code)
}

func e2eMain(m *testing.M) int {
	e2eOciRt = os.Getenv("OCIRT_BINARY")
	if e2eOciRt == "" {
		e2eOciRt = filepath.Join(e2eTmp, "oci-rt")
		out, err := exec.Command("go", "build", "-o", e2eOciRt, "../..").CombinedOutput()
		if err != nil {
			fmt.Printf("build oci-rt: %v\n%s", err, out)
			return 1
		}
	} else if abs, err := filepath.Abs(e2eOciRt); err == nil {
		e2eOciRt = abs
	}
	var err error
	e2eImageArchive, err = e2eBuildImageArchive(filepath.Join(e2eTmp, "image"))
	if err != nil {
		fmt.Println("build busybox image:", err)
		return 1
	}
	return m.Run()
}

// e2eShared is an engine started at most once per run and shared by every
// case: the first case to ask starts it, later ones get the same one, and
// all of them skip (engine not installed) or fail (it did not start) alike.
type e2eShared[T any] struct {
	once sync.Once
	v    T
	skip string
	err  error
}

// Get returns the engine, calling start the first time; start returns a
// reason to skip when the engine is not installed.
func (s *e2eShared[T]) Get(t *testing.T, start func() (T, string, error)) T {
	t.Helper()
	s.once.Do(func() { s.v, s.skip, s.err = start() })
	if s.skip != "" {
		t.Skip(s.skip)
	}
	if s.err != nil {
		t.Fatal(s.err)
	}
	return s.v
}

// e2eRuntime is one OCI runtime the cases run with.
type e2eRuntime struct {
	Name string // as in $E2E_RUNTIMES: "oci-rt", "runc", "crun"
	Path string // absolute path of the binary
}

// e2eRuntimeList resolves $E2E_RUNTIMES (default "oci-rt runc"): "oci-rt"
// is the binary under test, any other name is looked up in $PATH (and
// /usr/sbin, /usr/bin).
func e2eRuntimeList(t *testing.T) []e2eRuntime {
	t.Helper()
	names := strings.Fields(os.Getenv("E2E_RUNTIMES"))
	if len(names) == 0 {
		names = []string{"oci-rt", "runc"}
	}
	var rts []e2eRuntime
	for _, n := range names {
		if n == "oci-rt" {
			rts = append(rts, e2eRuntime{n, e2eOciRt})
			continue
		}
		p := e2eLookPath(n)
		if p == "" {
			t.Fatalf("E2E_RUNTIMES names %q, which is not installed (apt-get install %s)", n, n)
		}
		rts = append(rts, e2eRuntime{n, p})
	}
	return rts
}

// e2eLookPath finds a program in $PATH or the sbin directories a non-login
// root shell may lack; "" if not found.
func e2eLookPath(name string) string {
	if filepath.IsAbs(name) {
		if _, err := os.Stat(name); err == nil {
			return name
		}
		return ""
	}
	if p, err := exec.LookPath(name); err == nil {
		if abs, err := filepath.Abs(p); err == nil {
			return abs
		}
		return p
	}
	for _, d := range []string{"/usr/sbin", "/usr/bin", "/sbin", "/bin", "/usr/local/bin", "/usr/local/sbin"} {
		p := filepath.Join(d, name)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return p
		}
	}
	return ""
}

// e2eForEachRuntime runs f as one parallel subtest per runtime.
func e2eForEachRuntime(t *testing.T, f func(t *testing.T, rt e2eRuntime)) {
	t.Helper()
	for _, rt := range e2eRuntimeList(t) {
		rt := rt
		t.Run(rt.Name, func(t *testing.T) {
			t.Parallel()
			f(t, rt)
		})
	}
}

// e2eResult is what one client command did.
type e2eResult struct {
	Cmd            string
	Stdout, Stderr string
	Code           int
}

func (r e2eResult) String() string {
	return fmt.Sprintf("%s: exit %d\nstdout: %s\nstderr: %s", r.Cmd, r.Code, r.Stdout, r.Stderr)
}

// e2eExec runs a command with env added to the environment and stdin from
// input, killed after timeout. A command that cannot start, or that times
// out, fails the test.
func e2eExec(t *testing.T, timeout time.Duration, env []string, input string, name string, args ...string) e2eResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(os.Environ(), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	cmd.Stdin = strings.NewReader(input)
	cmd.WaitDelay = 2 * time.Second
	err := cmd.Run()
	r := e2eResult{Cmd: e2eQuote(append([]string{name}, args...)), Stdout: out.String(), Stderr: errb.String()}
	var ee *exec.ExitError
	switch {
	case ctx.Err() != nil:
		t.Fatalf("timed out after %v: %s", timeout, r)
	case errors.As(err, &ee):
		r.Code = ee.ExitCode()
	case err != nil:
		t.Fatalf("%s: %v", r.Cmd, err)
	}
	return r
}

// e2eQuote renders a command line for messages.
func e2eQuote(argv []string) string {
	q := make([]string, len(argv))
	for i, a := range argv {
		if a == "" || strings.ContainsAny(a, " \t\n'\"$;&|<>()*?") {
			q[i] = strconv.Quote(a)
		} else {
			q[i] = a
		}
	}
	return strings.Join(q, " ")
}

// e2eExpect fails unless r exited with code.
func e2eExpect(t *testing.T, r e2eResult, code int) e2eResult {
	t.Helper()
	if r.Code != code {
		t.Fatalf("want exit %d, got %s", code, r)
	}
	return r
}

// e2eLines splits output into trimmed, non-empty lines (a tty adds \r).
func e2eLines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// e2eWait polls cond every 50ms for up to timeout.
func e2eWait(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// e2eNs returns readlink /proc/<pid>/ns/<name>, "" if unreadable.
func e2eNs(pid interface{}, name string) string {
	l, _ := os.Readlink(fmt.Sprintf("/proc/%v/ns/%s", pid, name))
	return l
}

// e2eAlive reports whether pid exists and is not a zombie.
func e2eAlive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || s[i+2] != 'Z'
}

// e2eCgroupDir returns the host directory of pid's cgroup in the v1
// hierarchy of controller (e.g. "memory", "freezer").
func e2eCgroupDir(t *testing.T, pid int, controller string) string {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		parts := strings.SplitN(l, ":", 3)
		if len(parts) != 3 {
			continue
		}
		for _, c := range strings.Split(parts[1], ",") {
			if c == controller {
				return filepath.Join("/sys/fs/cgroup", parts[1], parts[2])
			}
		}
	}
	t.Fatalf("pid %d has no %s cgroup:\n%s", pid, controller, b)
	return ""
}

// e2eReadTrim reads a file and trims it; a failure fails the test.
func e2eReadTrim(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

// e2eUnmountUnder lazily unmounts every mount point under dir (deepest
// first), so removing dir cannot reach through a leftover container mount.
func e2eUnmountUnder(dir string) {
	mounts, err := mountinfo.GetMounts(mountinfo.PrefixFilter(dir))
	if err != nil {
		return
	}
	for i := len(mounts) - 1; i >= 0; i-- {
		exec.Command("umount", "-l", mounts[i].Mountpoint).Run()
	}
}

// e2eSeq makes container names unique within the run.
var (
	e2eSeqMu sync.Mutex
	e2eSeqN  int
)

// e2eName returns a container name: prefix, runtime and a sequence number.
func e2eName(prefix string, rt e2eRuntime) string {
	e2eSeqMu.Lock()
	defer e2eSeqMu.Unlock()
	e2eSeqN++
	return fmt.Sprintf("e2e-%s-%s-%d", prefix, strings.ReplaceAll(rt.Name, "/", "_"), e2eSeqN)
}
