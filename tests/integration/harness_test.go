// Package integration runs the oci-rt binary as root against busybox
// bundles and checks what is seen from inside and outside the container.
package integration

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/oci-rt/oci-rt/tests/bundle"
)

// binary is the oci-rt under test: $OCIRT_BINARY, or built once by TestMain.
var binary string

func TestMain(m *testing.M) {
	if os.Geteuid() != 0 {
		fmt.Println("integration tests need root: skipped")
		os.Exit(0)
	}
	if err := bundle.CheckBusybox(); err != nil {
		fmt.Println("integration tests need busybox-static:", err)
		os.Exit(1)
	}
	binary = os.Getenv("OCIRT_BINARY")
	tmp, _ := os.MkdirTemp("", "oci-rt-bin")
	if binary == "" {
		binary = filepath.Join(tmp, "oci-rt")
		out, err := exec.Command("go", "build", "-o", binary, "../..").CombinedOutput()
		if err != nil {
			fmt.Printf("build oci-rt: %v\n%s", err, out)
			os.Exit(1)
		}
	}
	code := m.Run()
	os.RemoveAll(tmp)
	os.Exit(code)
}

// Env is one test's runtime root and bundles.
type Env struct {
	t    *testing.T
	Root string
	Dir  string
}

// NewEnv gives a test its own --root; everything left there is deleted
// (force) at the end.
func NewEnv(t *testing.T) *Env {
	t.Helper()
	dir := t.TempDir()
	e := &Env{t: t, Root: filepath.Join(dir, "root"), Dir: dir}
	// as an installed runtime's root: list refuses a --root that does not
	// exist (runc 1.5)
	if err := os.Mkdir(e.Root, 0o711); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ids, _ := os.ReadDir(e.Root)
		for _, id := range ids {
			if id.IsDir() {
				exec.Command(binary, "--root", e.Root, "delete", "--force", id.Name()).Run()
			}
		}
	})
	return e
}

var bundleSeq atomic.Int64

// testSeq numbers the ids and files the tests make in this process.
var testSeq atomic.Int64

// uniqueID makes a container id unique to this test process and call: the
// default cgroup /oci-rt/<id> is shared by every --root, and test
// processes run at the same time.
func uniqueID(prefix, name string) string {
	return fmt.Sprintf("%s-%s-%d-%d", prefix, name, os.Getpid(), testSeq.Add(1))
}

// Bundle builds a busybox bundle running args, lets edit change its spec,
// and returns the bundle directory.
func (e *Env) Bundle(args []string, edit func(*specs.Spec)) string {
	e.t.Helper()
	dir := filepath.Join(e.Dir, fmt.Sprintf("bundle%d", bundleSeq.Add(1)))
	s, err := bundle.Build(dir, args)
	if err != nil {
		e.t.Fatal(err)
	}
	if edit != nil {
		edit(s)
		if err := bundle.WriteConfig(dir, s); err != nil {
			e.t.Fatal(err)
		}
	}
	return dir
}

// Result is what one oci-rt command did.
type Result struct {
	Stdout, Stderr string
	Code           int
}

// Run runs oci-rt --root <root> args... and returns its output and exit code.
func (e *Env) Run(args ...string) Result {
	e.t.Helper()
	return e.RunIn("", args...)
}

// RunIn runs oci-rt with stdin connected to input.
func (e *Env) RunIn(input string, args ...string) Result {
	e.t.Helper()
	cmd := exec.Command(binary, append([]string{"--root", e.Root}, args...)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	cmd.Stdin = strings.NewReader(input)
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		e.t.Fatalf("run oci-rt %v: %v", args, err)
	}
	return Result{out.String(), errb.String(), code}
}

// MustRun fails the test unless the command exits 0.
func (e *Env) MustRun(args ...string) Result {
	e.t.Helper()
	r := e.Run(args...)
	if r.Code != 0 {
		e.t.Fatalf("oci-rt %v: exit %d\nstdout: %s\nstderr: %s", args, r.Code, r.Stdout, r.Stderr)
	}
	return r
}

// Status returns the container's status from `oci-rt state`.
func (e *Env) Status(id string) string {
	e.t.Helper()
	r := e.MustRun("state", id)
	for _, l := range strings.Split(r.Stdout, "\n") {
		if strings.Contains(l, `"status"`) {
			return strings.Trim(strings.TrimSpace(strings.SplitN(l, ":", 2)[1]), `",`)
		}
	}
	e.t.Fatalf("no status in %s", r.Stdout)
	return ""
}

// Pid returns the container's host pid from `oci-rt state`.
func (e *Env) Pid(id string) int {
	e.t.Helper()
	r := e.MustRun("state", id)
	var pid int
	for _, l := range strings.Split(r.Stdout, "\n") {
		if strings.Contains(l, `"pid"`) {
			fmt.Sscanf(strings.TrimSpace(strings.SplitN(l, ":", 2)[1]), "%d", &pid)
		}
	}
	return pid
}

// WaitStatus polls until the container has the status, or fails.
func (e *Env) WaitStatus(id, want string) {
	e.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if e.Status(id) == want {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	e.t.Fatalf("container %s never reached status %s (now %s)", id, want, e.Status(id))
}

// NsInode returns readlink /proc/<pid>/ns/<name>, e.g. "pid:[4026531836]".
func NsInode(t *testing.T, pid interface{}, name string) string {
	t.Helper()
	l, err := os.Readlink(fmt.Sprintf("/proc/%v/ns/%s", pid, name))
	if err != nil {
		t.Fatal(err)
	}
	return l
}
