package integration

// Escape classes 3 (/dev/console) and 4 (masking), and a read-only /dev
// (issue 15); see escape_test.go for how each was checked to fail before.

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// ---- class 3: /dev/console with a terminal ----

// TestEscConsole: with process.terminal, /dev/console inside is the
// container's own pty slave (char 136:N, the process's tty), bound from
// devpts; a /dev/console the image planted as a symlink to a host file (no
// /dev mount: the image's /dev is used) is replaced, never followed. Without
// the defence (40ca2a3) there was no /dev/console at all.
func TestEscConsole(t *testing.T) {
	t.Parallel()
	for _, planted := range []bool{false, true} {
		planted := planted
		t.Run(map[bool]string{false: "default-dev", true: "planted-symlink"}[planted], func(t *testing.T) {
			t.Parallel()
			e := NewEnv(t)
			canary, same := escCanary(t, e.Dir, "console-canary")
			defer same()
			sock := filepath.Join(e.Dir, "console.sock")
			masters := rpConsoleListener(t, sock)
			b := e.Bundle([]string{"sh"}, func(s *specs.Spec) {
				s.Process.Terminal = true
				if planted {
					escNoDev(s)
					s.Mounts = append(s.Mounts, specs.Mount{Destination: "/dev/pts", Type: "devpts", Source: "devpts",
						Options: []string{"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"}})
				}
			})
			if planted {
				dev := rpMkdir(t, filepath.Join(b, "rootfs", "dev"))
				if err := os.Symlink(canary, filepath.Join(dev, "console")); err != nil {
					t.Fatal(err)
				}
			}
			id := escID("console")
			c := rpCreate(t, e, b, id, "--console-socket", sock)
			master := cnReceive(t, masters, "the pty master on the console socket")
			ptn, err := unix.IoctlGetInt(int(master.Fd()), unix.TIOCGPTN)
			if err != nil {
				t.Fatal(err)
			}
			// from the host: /dev/console in the container's mount table is
			// a bind from its devpts, the pty's own number
			var console *rpMount
			for _, m := range rpMountinfoOf(t, c.Pid) {
				if m.Point == "/dev/console" {
					mm := m
					console = &mm
				}
			}
			if console == nil || console.FSType != "devpts" || console.Root != fmt.Sprintf("/%d", ptn) {
				t.Errorf("host: /dev/console of the container is %+v, want a bind of devpts /%d", console, ptn)
			}
			c.Start()
			if _, err := master.Write([]byte("stat -c 'console=%F %t:%T' /dev/console; stat -L -c 'tty=%t:%T' $(tty); readlink /dev/console || echo nolink; exit\n")); err != nil {
				t.Fatal(err)
			}
			out, err := rpReadAll(master, 10*time.Second)
			if err != nil {
				t.Fatalf("reading the pty: %v (%q)", err, out)
			}
			want := fmt.Sprintf("88:%x", ptn) // major 136
			if !rpHasLine(out, "console=character special file "+want) || !rpHasLine(out, "tty="+want) || !rpHasLine(out, "nolink") {
				t.Errorf("inside: %q; want /dev/console a character device %s (the tty), not a link", out, want)
			}
			e.WaitStatus(id, "stopped")
		})
	}
}

// TestEscMaskDevNull: the /dev/null that masks files must be the null
// device. A createContainer hook (standing in for another container that
// shares this /dev and swaps its null between the device nodes and the
// masks) turns /dev/null into a symlink to a host file bound into the
// container: create is refused naming /dev/null, and the host file keeps
// its content. Without the defence (40ca2a3) create succeeded, the masked
// path showed the host file and the payload's write reached it.
func TestEscMaskDevNull(t *testing.T) {
	t.Parallel()
	e := NewEnv(t)
	canary, same := escCanary(t, e.Dir, "null-canary")
	defer same()
	hook := filepath.Join(e.Dir, "plant.sh")
	rpWrite(t, hook, "#!/bin/sh\nb=$(sed -n 's/.*\"bundle\":\"\\([^\"]*\\)\".*/\\1/p')\n"+
		"rm -f \"$b/rootfs/dev/null\" && ln -s /canary \"$b/rootfs/dev/null\"\n", 0o755)
	b := e.Bundle([]string{"sh", "-c", "echo pwned > /secret; cat /secret; echo END"}, func(s *specs.Spec) {
		s.Mounts = append(s.Mounts, specs.Mount{Destination: "/canary", Type: "bind", Source: canary, Options: []string{"bind"}})
		s.Linux.MaskedPaths = append(s.Linux.MaskedPaths, "/secret")
		s.Hooks = &specs.Hooks{CreateContainer: []specs.Hook{{Path: hook}}}
	})
	rpWrite(t, filepath.Join(b, "rootfs", "secret"), "secret\n", 0o644)
	id := escID("devnull")
	c, r := rpCreateCmd(t, e, b, id, nil)
	if r.Code == 0 {
		c.Start()
		out := c.WaitOutput("END")
		e.MustRun("delete", "--force", id)
		t.Fatalf("create with /dev/null a symlink at masking time succeeded; the payload saw %q", out)
	}
	escRefused(t, e, b, id, r, "/dev/null")
}

// TestEscMaskSharedTmpfs: masked directories share one read-only tmpfs
// (one superblock a container, whatever the number of masked paths: a
// Kubernetes pod masks a path per CPU); masked files are the null device.
// Without the change (40ca2a3) each directory had a tmpfs of its own.
func TestEscMaskSharedTmpfs(t *testing.T) {
	t.Parallel()
	e := NewEnv(t)
	dirs := []string{"/m/a", "/m/b", "/m/c", "/m/d", "/m/e"}
	b := e.Bundle([]string{"sh", "-c", "touch /m/a/x 2>/dev/null && echo wrote; ls -A /m/c | wc -l; cat /m/f; echo END"}, func(s *specs.Spec) {
		s.Linux.MaskedPaths = append(append(s.Linux.MaskedPaths, dirs...), "/m/f")
	})
	for _, d := range dirs {
		rpWrite(t, filepath.Join(b, "rootfs", d, "hidden"), "hidden\n", 0o644)
	}
	rpWrite(t, filepath.Join(b, "rootfs", "m", "f"), "hidden file\n", 0o644)
	id := escID("masks")
	c := rpCreate(t, e, b, id)
	devs := map[string]bool{}
	for _, m := range escMounts(t, c.Pid) {
		for _, d := range append(dirs, "/proc/acpi", "/sys/firmware", "/proc/scsi") {
			if m.Point == d {
				if m.FSType != "tmpfs" || !strings.HasPrefix(m.Opts, "ro") {
					t.Errorf("masked %s: %+v, want a read-only tmpfs", d, m)
				}
				devs[m.Dev] = true
			}
		}
		if m.Point == "/m/f" && m.FSType == "tmpfs" {
			// /dev/null of the default /dev tmpfs: checked from inside below
			devs["file"] = true
		}
	}
	if len(devs) != 2 || !devs["file"] {
		t.Errorf("masked directories are on %d superblocks (%v), want one, and /m/f masked", len(devs)-1, devs)
	}
	c.Start()
	out := c.WaitOutput("END")
	if out != "0\nEND\n" {
		t.Errorf("inside: %q, want no write, an empty directory, an empty file", out)
	}
}

// ---- issue 15: read-only /dev, --no-pivot ----

// TestEscReadonlyDev: a read-only /dev mount in config.json works: the
// device nodes, links, /dev/pts and /dev/console are set up, and /dev is
// read-only inside. Without the change (40ca2a3) create failed: the
// mount point of /dev/pts could not be made in the read-only /dev.
func TestEscReadonlyDev(t *testing.T) {
	t.Parallel()
	e := NewEnv(t)
	b := e.Bundle([]string{"sh", "-c", "touch /dev/x 2>/dev/null && echo wrote; ls /dev | tr '\\n' ' '; echo; grep ' /dev ' /proc/self/mountinfo | cut -d' ' -f6; echo hi > /dev/null && echo null-ok; echo END; sleep 1000"}, func(s *specs.Spec) {
		for i, m := range s.Mounts {
			if m.Destination == "/dev" {
				s.Mounts[i].Options = append(m.Options, "ro")
			}
		}
	})
	id := escID("rodev")
	c := rpCreate(t, e, b, id)
	c.Start()
	out := c.WaitOutput("END")
	lines := strings.Split(out, "\n")
	if len(lines) < 4 || strings.Contains(out, "wrote") || !strings.Contains(lines[0], "null") || !strings.Contains(lines[0], "pts") ||
		!strings.Contains(lines[0], "ptmx") || !strings.HasPrefix(lines[1], "ro") || lines[2] != "null-ok" {
		t.Errorf("inside: %q; want no write, the devices and links, /dev mounted ro, a working /dev/null", out)
	}
	// from the host: the container's /dev is a read-only mount, its nodes there
	var dev string
	for _, l := range strings.Split(rsRead(fmt.Sprintf("/proc/%d/mountinfo", c.Pid)), "\n") {
		if f := strings.Fields(l); len(f) > 5 && f[4] == "/dev" {
			dev = f[5]
		}
	}
	if !strings.HasPrefix(dev, "ro") {
		t.Errorf("host: /proc/%d/mountinfo: /dev mounted %q, want ro", c.Pid, dev)
	}
	if fi, err := os.Stat(fmt.Sprintf("/proc/%d/root/dev/null", c.Pid)); err != nil || fi.Mode()&os.ModeCharDevice == 0 {
		t.Errorf("host: the container's /dev/null: %v %v, want a character device", fi, err)
	}
}

// TestEscNoPivotProc (issue 15): with --no-pivot the host's full procfs
// and sysfs, left under the container's root, do not let it mount a procfs
// or sysfs of its own. The kernel lets a user namespace mount them only
// where a whole one is in its mount namespace, reachable or not
// (mount_too_revealing): a container with CAP_SYS_ADMIN in its user
// namespace and no /proc or /sys of its own must be refused both, with or
// without pivot_root. Without the change (5182d35, and runc 1.1.5) the
// --no-pivot container mounted both.
func TestEscNoPivotProc(t *testing.T) {
	t.Parallel()
	for _, noPivot := range []bool{false, true} {
		noPivot := noPivot
		t.Run(map[bool]string{false: "pivot", true: "no-pivot"}[noPivot], func(t *testing.T) {
			t.Parallel()
			e := NewEnv(t)
			script := "mkdir -p /tmp/p /tmp/s; mount -t proc proc /tmp/p 2>/dev/null && echo proc-mounted; " +
				"mount -t sysfs sysfs /tmp/s 2>/dev/null && echo sysfs-mounted; echo END"
			b := e.Bundle([]string{"sh", "-c", script}, func(s *specs.Spec) {
				nsAddUserns(s)
				s.Root.Readonly = false
				var ms []specs.Mount
				for _, m := range s.Mounts {
					if m.Destination != "/proc" && !strings.HasPrefix(m.Destination, "/sys") {
						ms = append(ms, m)
					}
				}
				s.Mounts = ms
				c := s.Process.Capabilities
				c.Bounding = append(c.Bounding, "CAP_SYS_ADMIN")
				c.Effective = append(c.Effective, "CAP_SYS_ADMIN")
				c.Permitted = append(c.Permitted, "CAP_SYS_ADMIN")
			})
			nsPrepareUserns(t, e, b)
			id := escID("nopivot")
			var flags []string
			if noPivot {
				flags = append(flags, "--no-pivot")
			}
			c := rpCreate(t, e, b, id, flags...)
			c.Start()
			if out := c.WaitOutput("END"); out != "END\n" {
				t.Errorf("inside: %q; want procfs and sysfs refused (no full one in the mount namespace)", out)
			}
		})
	}
}
