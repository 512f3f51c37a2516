package integration

import (
	"fmt"
	"os"
	"testing"
)

// TestNsNetnsNameRefusesFormat: --netns-name prints nothing, so a --format
// beside it would be taken and ignored: it is refused in one line, and no
// name is made.
func TestNsNetnsNameRefusesFormat(t *testing.T) {
	t.Parallel()
	e := NewEnv(t)
	name := fmt.Sprintf("ocirt-nsflags-%d", os.Getpid())
	r := e.Run("ns", "--netns-name", name, "--format", "json", "nsflags-nosuch")
	lcOneLine(t, "ns --netns-name --format", r, "--format", "--netns-name")
	if _, err := os.Lstat("/var/run/netns/" + name); !os.IsNotExist(err) {
		t.Errorf("/var/run/netns/%s: %v, want none", name, err)
	}
}
