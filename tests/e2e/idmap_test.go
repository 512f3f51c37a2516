package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestPodmanIdmapVolume: podman's `:idmap` volume in a container with a
// user namespace (--uidmap 0:100000:65536) asks the runtime to idmap the
// bind through the container's mappings: a file owned by 1000 on the host
// is 1000 inside, and what the container's root makes there is root's on
// the host. runc 1.1.5 predates idmapped mounts (runc 1.2) and ignores the
// option: there the file is unmapped (65534), which shows that the check
// tells the two apart.
func TestPodmanIdmapVolume(t *testing.T) {
	e2ePodmanEach(t, "idmap", func(t *testing.T, p *e2ePodmanEnv, rt e2eRuntime, name string) {
		vol := filepath.Join(t.TempDir(), "vol")
		if err := os.Mkdir(vol, 0o777); err != nil {
			t.Fatal(err)
		}
		os.Chmod(vol, 0o777)
		file := filepath.Join(vol, "owned1000")
		if err := os.WriteFile(file, []byte("x\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(file, 1000, 1000); err != nil {
			t.Fatal(err)
		}
		// the test's temporary directories are root's 0700: the user
		// namespace's root must reach the volume
		for d := filepath.Dir(vol); d != "/" && d != os.TempDir(); d = filepath.Dir(d) {
			os.Chmod(d, 0o755)
		}
		p.Track(t, rt, name)
		r := p.PodmanOK(t, rt, p.RunArgs(name, []string{"--uidmap", "0:100000:65536", "--gidmap", "0:100000:65536", "-v", vol + ":/vol:idmap"},
			"sh", "-c", "stat -c %u:%g /vol/owned1000; touch /vol/made && stat -c %u:%g /vol/made")...)
		lines := e2eLines(r.Stdout)
		want := "1000:1000"
		if rt.Name == "runc" {
			want = "65534:65534"
		}
		if len(lines) < 1 || lines[0] != want {
			t.Errorf("%s: the host's 1000 inside: %q, want %s", rt.Name, strings.Join(lines, "|"), want)
		}
		if rt.Name == "oci-rt" {
			if len(lines) != 2 || lines[1] != "0:0" {
				t.Errorf("what root made, inside: %q, want 0:0", strings.Join(lines, "|"))
			}
			if got := e2eOwner(t, filepath.Join(vol, "made")); got != "0:0" {
				t.Errorf("what the container's root made through the idmapped volume is %s on the host, want 0:0", got)
			}
		}
	})
}

// e2eOwner is a file's owner on the host, "uid:gid".
func e2eOwner(t *testing.T, path string) string {
	t.Helper()
	var st syscall.Stat_t
	if err := syscall.Stat(path, &st); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%d:%d", st.Uid, st.Gid)
}
