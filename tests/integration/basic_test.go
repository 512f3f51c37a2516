package integration

import (
	"strings"
	"testing"
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
