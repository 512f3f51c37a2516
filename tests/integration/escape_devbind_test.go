package integration

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// escDirNames lists a directory's entries with their kinds.
func escDirNames(t *testing.T, d string) string {
	t.Helper()
	ents, err := os.ReadDir(d)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name()+":"+e.Type().String())
	}
	sort.Strings(names)
	return strings.Join(names, " ")
}

// TestEscDevBindHostDir: a /dev that the config binds from a host
// directory (`-v /dev:/dev` of a privileged container) is the host's: the
// runtime makes no device node or link in it and replaces nothing there,
// as runc (needsSetupDev) does; the container sees the directory as it is.
// The directory stands for the host's /dev: a null device node and a
// "console" file. With a planted null (a regular file) create is refused
// naming /dev/null (it cannot mask), and the file keeps its content.
// Checked to fail without the change (40ed7d9): the runtime unlinked the
// host's null (the planted file too, so that the masks passed) and made
// its own nodes and links (zero, full, tty, random, urandom, fd, stdin...)
// in the host directory.
func TestEscDevBindHostDir(t *testing.T) {
	t.Parallel()
	for _, planted := range []bool{false, true} {
		planted := planted
		t.Run(map[bool]string{false: "null-device", true: "planted-null"}[planted], func(t *testing.T) {
			t.Parallel()
			e := NewEnv(t)
			host := rpMkdir(t, filepath.Join(e.Dir, "hostdev"))
			_, sameConsole := escCanary(t, host, "console")
			defer sameConsole()
			var ino uint64
			if planted {
				_, sameNull := escCanary(t, host, "null")
				defer sameNull()
			} else {
				if err := unix.Mknod(filepath.Join(host, "null"), unix.S_IFCHR|0o666, int(unix.Mkdev(1, 3))); err != nil {
					t.Fatal(err)
				}
				var st unix.Stat_t
				if err := unix.Stat(filepath.Join(host, "null"), &st); err != nil {
					t.Fatal(err)
				}
				ino = st.Ino
			}
			before := escDirNames(t, host)
			b := e.Bundle([]string{"sh", "-c", "echo x > /dev/null && ls /dev; echo END"}, func(s *specs.Spec) {
				escNoDev(s)
				s.Mounts = append(s.Mounts, specs.Mount{Destination: "/dev", Type: "bind", Source: host, Options: []string{"rbind"}})
			})
			id := escID("devbind")
			c, r := rpCreateCmd(t, e, b, id, nil)
			if after := escDirNames(t, host); after != before {
				t.Errorf("the host directory bound on /dev changed at create:\n before %s\n after  %s", before, after)
			}
			if planted {
				if r.Code == 0 {
					e.Run("delete", "--force", id)
				}
				escRefused(t, e, b, id, r, "/dev/null")
				return
			}
			if r.Code != 0 {
				t.Fatalf("create: %+v", r)
			}
			c.Start()
			if out := c.WaitOutput("END"); strings.Fields(out) == nil || strings.Join(strings.Fields(out), " ") != "console null END" {
				t.Errorf("inside, /dev lists %q, want the host directory's console and null", out)
			}
			e.MustRun("delete", "--force", id)
			var st unix.Stat_t
			if err := unix.Stat(filepath.Join(host, "null"), &st); err != nil || st.Ino != ino {
				t.Errorf("the host directory's null was replaced (inode %d, was %d): %v", st.Ino, ino, err)
			}
			if after := escDirNames(t, host); after != before {
				t.Errorf("the host directory bound on /dev changed:\n before %s\n after  %s", before, after)
			}
		})
	}
}
