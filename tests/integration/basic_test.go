package integration

import (
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// TestRunShowsIsolation is the demo seen as a test: the payload is PID 1
// of its own pid namespace, with its own hostname, and exits with its code.
func TestRunShowsIsolation(t *testing.T) {
	e := NewEnv(t)
	b := e.Bundle([]string{"sh", "-c", "echo pid=$$; hostname; readlink /proc/self/ns/pid; exit 3"}, nil)
	r := e.Run("run", "-b", b, "demo")
	if r.Code != 3 {
		t.Fatalf("exit code %d, want 3 (stderr %q)", r.Code, r.Stderr)
	}
	lines := strings.Split(strings.TrimSpace(r.Stdout), "\n")
	if len(lines) != 3 || lines[0] != "pid=1" || lines[1] != "oci-rt" {
		t.Fatalf("unexpected output %q", r.Stdout)
	}
	if lines[2] == NsInode(t, "self", "pid") {
		t.Fatalf("container pid namespace %s is the host's", lines[2])
	}
}

// TestRunBigPlan: a plan larger than the executor's static buffer (64
// KiB; here a 100 KB environment variable) is read whole, and the process
// gets every byte of it.
func TestRunBigPlan(t *testing.T) {
	t.Parallel()
	e := NewEnv(t)
	big := strings.Repeat("x", 100000) + "end"
	b := e.Bundle([]string{"sh", "-c", `echo ${#BIG} ${BIG: -3}`}, func(s *specs.Spec) {
		s.Process.Env = append(s.Process.Env, "BIG="+big)
	})
	r := e.Run("run", "-b", b, "bigplan")
	if r.Code != 0 || strings.TrimSpace(r.Stdout) != "100003 end" {
		t.Fatalf("exit %d, stdout %q, stderr %q; want \"100003 end\"", r.Code, r.Stdout, r.Stderr)
	}
}
