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

// TestEscDevBindConsole: with a terminal and a /dev bound from a host
// directory, the host's /dev/console node is covered by the container's
// pty in the container's mount table, never unlinked or replaced (nor
// opened). Checked to fail without the change (d34305f): the runtime
// unlinked the host directory's console device and left an empty regular
// file in its place.
func TestEscDevBindConsole(t *testing.T) {
	t.Parallel()
	e := NewEnv(t)
	host := rpMkdir(t, filepath.Join(e.Dir, "hostdev"))
	rpMkdir(t, filepath.Join(host, "pts"))
	for _, n := range []struct {
		name         string
		major, minor uint32
	}{{"null", 1, 3}, {"ptmx", 5, 2}, {"console", 5, 1}} {
		if err := unix.Mknod(filepath.Join(host, n.name), unix.S_IFCHR|0o666, int(unix.Mkdev(n.major, n.minor))); err != nil {
			t.Fatal(err)
		}
	}
	var was unix.Stat_t
	if err := unix.Lstat(filepath.Join(host, "console"), &was); err != nil {
		t.Fatal(err)
	}
	before := escDirNames(t, host)
	sock := filepath.Join(e.Dir, "console.sock")
	masters := rpConsoleListener(t, sock)
	b := e.Bundle([]string{"sh"}, func(s *specs.Spec) {
		s.Process.Terminal = true
		escNoDev(s)
		s.Mounts = append(s.Mounts,
			specs.Mount{Destination: "/dev", Type: "bind", Source: host, Options: []string{"rbind"}},
			specs.Mount{Destination: "/dev/pts", Type: "devpts", Source: "devpts",
				Options: []string{"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"}})
	})
	id := escID("devbind-console")
	c := rpCreate(t, e, b, id, "--console-socket", sock)
	master := cnReceive(t, masters, "the pty master on the console socket")
	var now unix.Stat_t
	if err := unix.Lstat(filepath.Join(host, "console"), &now); err != nil || now.Ino != was.Ino || now.Mode != was.Mode || now.Rdev != was.Rdev {
		t.Errorf("the host directory's console device was replaced: mode %o rdev %x inode %d (was %o %x %d): %v",
			now.Mode, now.Rdev, now.Ino, was.Mode, was.Rdev, was.Ino, err)
	}
	if after := escDirNames(t, host); after != before {
		t.Errorf("the host directory bound on /dev changed:\n before %s\n after  %s", before, after)
	}
	var console *rpMount
	for _, m := range rpMountinfoOf(t, c.Pid) {
		if m.Point == "/dev/console" {
			mm := m
			console = &mm
		}
	}
	if console == nil || console.FSType != "devpts" {
		t.Errorf("host: /dev/console of the container is %+v, want a bind of its devpts", console)
	}
	c.Start()
	if _, err := master.Write([]byte("exit\n")); err != nil {
		t.Fatal(err)
	}
	e.WaitStatus(id, "stopped")
	e.MustRun("delete", "--force", id)
}
