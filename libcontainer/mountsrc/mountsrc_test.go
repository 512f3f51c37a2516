package mountsrc

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// TestUserns: the namespace made for a mount's own mappings has exactly
// them, written as the spec gives them (containerID hostID size).
func TestUserns(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	if _, err := exec.LookPath("nsenter"); err != nil {
		t.Skip("needs nsenter")
	}
	uids := []specs.LinuxIDMapping{{ContainerID: 0, HostID: 1000, Size: 10}, {ContainerID: 10, HostID: 5000, Size: 1}}
	gids := []specs.LinuxIDMapping{{ContainerID: 0, HostID: 2000, Size: 5}}
	f, err := Userns(uids, gids)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for file, want := range map[string][]string{"uid_map": {"0 1000 10", "10 5000 1"}, "gid_map": {"0 2000 5"}} {
		cmd := exec.Command("nsenter", "--user=/proc/self/fd/3", "cat", "/proc/self/"+file)
		cmd.ExtraFiles = []*os.File{f}
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s in the namespace: %v: %s", file, err, out)
		}
		var got []string
		for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			got = append(got, strings.Join(strings.Fields(l), " "))
		}
		if strings.Join(got, "|") != strings.Join(want, "|") {
			t.Errorf("%s: %q, want %q", file, got, want)
		}
	}
}
