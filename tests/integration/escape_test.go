package integration

// One test per runtime escape class of docs/security.md. Each mounts the
// attack against host canary files and checks the canary is untouched and
// what the container sees. How each was checked to fail without its
// defence is said above it (run against oci-rt 40ca2a3, before the
// defences, built with `make oci-rt` and pointed at with OCIRT_BINARY).

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

func escID(name string) string { return uniqueID("esc", name) }

// escCanary writes a host file with known content and returns its path and
// a check that it is unchanged.
func escCanary(t *testing.T, dir, name string) (string, func()) {
	t.Helper()
	p := filepath.Join(dir, name)
	want := fmt.Sprintf("canary %s %d\n", name, time.Now().UnixNano())
	rpWrite(t, p, want, 0o644)
	return p, func() {
		t.Helper()
		if b, err := os.ReadFile(p); err != nil || string(b) != want {
			t.Errorf("host canary %s changed: %q (err %v), want %q", p, b, err, want)
		}
	}
}

// escCanaryDir makes a host directory holding one file and returns a check
// that nothing was added, removed or mounted there.
func escCanaryDir(t *testing.T, dir string) (string, func()) {
	t.Helper()
	d := rpMkdir(t, dir)
	_, same := escCanary(t, d, "sentinel")
	return d, func() {
		t.Helper()
		same()
		ents, _ := os.ReadDir(d)
		if len(ents) != 1 {
			var names []string
			for _, e := range ents {
				names = append(names, e.Name())
			}
			t.Errorf("host directory %s changed: %v", d, names)
		}
		for _, m := range rpMountinfoOf(t, "self") {
			if m.Point == d || strings.HasPrefix(m.Point, d+"/") {
				t.Errorf("a mount reached the host directory %s: %+v", d, m)
			}
		}
	}
}

// escRefused checks a refused create: one line naming every want, and
// nothing left of the container (one wrongly created is deleted first, so
// that the failure is the create's).
func escRefused(t *testing.T, e *Env, b, id string, r Result, want ...string) {
	t.Helper()
	lcOneLine(t, "create "+id, r, want...)
	if r.Code == 0 {
		e.Run("delete", "--force", id)
	}
	lcAssertRemoved(t, e, id, b)
}

// escNoDev removes the /dev mounts of the default config: the image's /dev is used.
func escNoDev(s *specs.Spec) {
	var ms []specs.Mount
	for _, m := range s.Mounts {
		if m.Destination != "/dev" && !strings.HasPrefix(m.Destination, "/dev/") {
			ms = append(ms, m)
		}
	}
	s.Mounts = ms
}

// ---- class 1: a rootfs whose /proc or /sys is a symlink ----

// TestEscProcSysSymlink: a rootfs whose /proc or /sys is a symlink, to a
// directory inside the rootfs or to an absolute host path, is refused
// naming the mount; nothing is mounted through the link, on the host or
// in the rootfs. Without the defence (40ca2a3) create succeeded and the
// container saw `/proc -> /bad-proc` with procfs mounted on /bad-proc.
func TestEscProcSysSymlink(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ name, dest, target string }{
		{"proc-inside", "/proc", "/bad-proc"},
		{"proc-host", "/proc", ""},
		{"sys-host", "/sys", ""},
		{"proc-relative", "/proc", "bad-proc"},
	} {
		c := c
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			e := NewEnv(t)
			host, same := escCanaryDir(t, filepath.Join(e.Dir, "host"+strings.TrimPrefix(c.dest, "/")))
			defer same()
			b := e.Bundle([]string{"sh", "-c", "ls -ld /proc /sys"}, nil)
			rootfs := filepath.Join(b, "rootfs")
			target := c.target
			if target == "" {
				target = host
			}
			link := filepath.Join(rootfs, c.dest)
			if err := os.RemoveAll(link); err != nil {
				t.Fatal(err)
			}
			inside := filepath.Join(rootfs, strings.TrimPrefix(filepath.Join("/", target), "/"))
			rpMkdir(t, inside)
			if err := os.Symlink(target, link); err != nil {
				t.Fatal(err)
			}
			id := escID(c.name)
			_, r := rpCreateCmd(t, e, b, id, nil)
			escRefused(t, e, b, id, r, fmt.Sprintf("destination %q", c.dest), "symlink")
			if ents, _ := os.ReadDir(inside); len(ents) != 0 {
				t.Errorf("something was mounted or made at the link's target %s in the rootfs: %d entries", inside, len(ents))
			}
			if l, err := os.Readlink(link); err != nil || l != target {
				t.Errorf("the image's link %s was changed: %q %v", link, l, err)
			}
		})
	}
}

// ---- class 2: procfs writes the container's mounts could redirect ----

// escDomainname reads the UTS namespace's domainname of pid from the host.
func escDomainname(t *testing.T, pid int) string {
	t.Helper()
	out, err := exec.Command("nsenter", "--uts=/proc/"+fmt.Sprint(pid)+"/ns/uts", "cat", "/proc/sys/kernel/domainname").CombinedOutput()
	if err != nil {
		t.Fatalf("nsenter: %v: %s", err, out)
	}
	return strings.TrimSpace(string(out))
}

// TestEscSysctlRedirect: linux.sysctl is written through a procfs of the
// runtime's own, not the container's /proc: a config mount that binds a
// host file over /proc/sys/kernel/domainname (directly, through a symlink
// in the rootfs, or over the whole /proc/sys/kernel) does not catch the
// write. The host file is untouched, the container still sees the bind,
// and the UTS namespace has the new domainname. Without the defence
// (40ca2a3) the host file held "escaped" and the namespace kept "(none)".
func TestEscSysctlRedirect(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name string
		dest string // mount destination; "link" binds through /lnk -> /proc/sys/kernel
		dir  bool   // bind a host directory over /proc/sys/kernel
	}{
		{name: "file", dest: "/proc/sys/kernel/domainname"},
		{name: "through-link", dest: "/lnk/domainname"},
		{name: "directory", dest: "/proc/sys/kernel", dir: true},
	} {
		c := c
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			e := NewEnv(t)
			canary, same := escCanary(t, e.Dir, "domainname")
			src := canary
			if c.dir {
				src = rpMkdir(t, filepath.Join(e.Dir, "kernel"))
				rpWrite(t, filepath.Join(src, "domainname"), "dircanary\n", 0o644)
				canary = filepath.Join(src, "domainname")
				_, same = escCanary(t, src, "domainname")
			}
			defer same()
			val := fmt.Sprintf("esc%d", time.Now().UnixNano()%1e6)
			b := e.Bundle([]string{"sh", "-c", "cat /proc/sys/kernel/domainname; echo END"}, func(s *specs.Spec) {
				s.Mounts = append(s.Mounts, specs.Mount{Destination: c.dest, Type: "bind", Source: src, Options: []string{"bind"}})
				s.Linux.Sysctl = map[string]string{"kernel.domainname": val}
			})
			if c.name == "through-link" {
				if err := os.Symlink("/proc/sys/kernel", filepath.Join(b, "rootfs", "lnk")); err != nil {
					t.Fatal(err)
				}
			}
			id := escID("sysctl-" + c.name)
			ctr, r := rpCreateCmd(t, e, b, id, nil)
			if c.name == "through-link" {
				// a mount the image's link leads into procfs is refused
				// (TestEscMountIntoProc), naming the mount
				escRefused(t, e, b, id, r, `destination "/lnk/domainname"`, "procfs")
				return
			}
			if r.Code != 0 {
				// refusing is a defence too, if it is one line naming the field
				escRefused(t, e, b, id, r, "kernel.domainname")
				return
			}
			ctr.Pid = e.Pid(id)
			if got := escDomainname(t, ctr.Pid); got != val {
				t.Errorf("domainname of the container's UTS namespace: %q, want %q (the write went elsewhere)", got, val)
			}
			want, _ := os.ReadFile(canary)
			ctr.Start()
			out := ctr.WaitOutput("END")
			if !strings.HasPrefix(out, string(want)) {
				t.Errorf("inside: /proc/sys/kernel/domainname reads %q, want the bound file %q", out, want)
			}
			e.MustRun("delete", "--force", id)
		})
	}
}

// ---- class 4: masking ----

// escMountinfo is mountinfo with the device (major:minor) of each mount.
type escMountinfo struct{ Dev, Point, FSType, Opts string }

func escMounts(t *testing.T, pid int) []escMountinfo {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/mountinfo", pid))
	if err != nil {
		t.Fatal(err)
	}
	var out []escMountinfo
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		for i := 6; i+1 < len(f); i++ {
			if f[i] == "-" {
				out = append(out, escMountinfo{Dev: f[2], Point: rpUnescape(f[4]), FSType: f[i+1], Opts: f[5]})
				break
			}
		}
	}
	return out
}

// ---- class 5: /dev symlinks and mount-destination races ----

// TestEscDevSymlink: an image whose /dev is a symlink to a host directory
// (absolute) gets its device nodes and links inside the rootfs, where the
// link leads there, never in the host directory; with the default /dev
// tmpfs the mount lands there too. Checked to fail with the executor's
// openat2_in_root built without RESOLVE_IN_ROOT: the device nodes and
// links were made in the host directory.
func TestEscDevSymlink(t *testing.T) {
	t.Parallel()
	for _, tmpfs := range []bool{false, true} {
		tmpfs := tmpfs
		t.Run(map[bool]string{false: "image-dev", true: "dev-tmpfs"}[tmpfs], func(t *testing.T) {
			t.Parallel()
			e := NewEnv(t)
			host, same := escCanaryDir(t, filepath.Join(e.Dir, "hostdev"))
			defer same()
			b := e.Bundle([]string{"sh", "-c", "ls /dev/ | sort | tr '\\n' ' '; echo; ls " + host + " | tr '\\n' ' '; echo; echo END"}, func(s *specs.Spec) {
				if !tmpfs {
					escNoDev(s)
				}
			})
			rootfs := filepath.Join(b, "rootfs")
			os.RemoveAll(filepath.Join(rootfs, "dev"))
			if err := os.Symlink(host, filepath.Join(rootfs, "dev")); err != nil {
				t.Fatal(err)
			}
			id := escID("devlink")
			c, r := rpCreateCmd(t, e, b, id, nil)
			if r.Code != 0 {
				escRefused(t, e, b, id, r, "/dev")
				return
			}
			c.Pid = e.Pid(id)
			c.Start()
			out := c.WaitOutput("END")
			lines := strings.Split(out, "\n")
			if !strings.Contains(lines[0], "null") || !strings.Contains(lines[0], "fd") || strings.Contains(lines[0], "sentinel") {
				t.Errorf("inside: /dev lists %q, want the devices made in the rootfs", lines[0])
			}
			if inside, _ := os.ReadDir(filepath.Join(rootfs, host)); !tmpfs && len(inside) == 0 {
				t.Errorf("the device nodes are not where the link leads inside the rootfs")
			}
		})
	}
}

// TestEscMountRace: a directory of the rootfs is swapped with a symlink to
// a host directory, again and again, while containers are created with a
// mount there (CVE-2021-30465's race): whatever the timing, nothing lands
// in the host directory. Checked to fail with the executor's
// openat2_in_root built without RESOLVE_IN_ROOT: the mount point was made
// in the host directory within the first rounds.
func TestEscMountRace(t *testing.T) {
	t.Parallel()
	e := NewEnv(t)
	host, same := escCanaryDir(t, filepath.Join(e.Dir, "victim"))
	defer same()
	tag := fmt.Sprintf("escrace%d", time.Now().UnixNano())
	b := e.Bundle([]string{"true"}, func(s *specs.Spec) {
		s.Mounts = append(s.Mounts, specs.Mount{Destination: "/race/sub", Type: "tmpfs", Source: tag, Options: []string{"size=1m"}})
	})
	rootfs := filepath.Join(b, "rootfs")
	race := filepath.Join(rootfs, "race")
	rpMkdir(t, filepath.Join(race, "sub"))
	var stop atomic.Bool
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		dirTmp, linkTmp := filepath.Join(rootfs, "race.d"), filepath.Join(rootfs, "race.l")
		os.Symlink(host, linkTmp)
		rpMkdir(t, filepath.Join(dirTmp, "sub"))
		for !stop.Load() {
			// swap race (a dir) and race.l (the link) atomically, both ways
			unix.Renameat2(unix.AT_FDCWD, linkTmp, unix.AT_FDCWD, race, unix.RENAME_EXCHANGE)
			unix.Renameat2(unix.AT_FDCWD, linkTmp, unix.AT_FDCWD, race, unix.RENAME_EXCHANGE)
		}
	}()
	n := 15
	for i := 0; i < n; i++ {
		id := escID("race")
		_, r := rpCreateCmd(t, e, b, id, nil)
		if r.Code == 0 {
			e.MustRun("delete", "--force", id)
		}
		for _, m := range rpMountinfoOf(t, "self") {
			if m.Source == tag {
				t.Errorf("round %d: the container's tmpfs reached the host mount table: %+v", i, m)
			}
		}
	}
	stop.Store(true)
	wg.Wait()
}

// ---- class 6: error lines cut values ----

// TestEscErrorCut: a 1 MB value in config.json comes back cut to ~200
// bytes in a one-line error naming the field; nothing is left. Without the
// cut (40ca2a3) each of these errors was a 1 MB line.
func TestEscErrorCut(t *testing.T) {
	t.Parallel()
	big := strings.Repeat("/x", 500000)
	for _, c := range []struct {
		name, field string
		edit        func(s *specs.Spec)
	}{
		{"mount-destination", "mounts[", func(s *specs.Spec) {
			s.Mounts = append(s.Mounts, specs.Mount{Destination: big, Type: "tmpfs", Source: "tmpfs"})
		}},
		{"hostname", "hostname", func(s *specs.Spec) { s.Hostname = strings.Repeat("h", 1<<20) }},
		{"sysctl", "linux.sysctl", func(s *specs.Spec) { s.Linux.Sysctl = map[string]string{"net." + strings.Repeat("a", 1<<20): "1"} }},
		{"cwd", "process.cwd", func(s *specs.Spec) { s.Process.Cwd = big }},
		{"masked", "linux.maskedPaths", func(s *specs.Spec) { s.Linux.MaskedPaths = []string{big} }},
		{"bind-source", "mounts[", func(s *specs.Spec) {
			s.Mounts = append(s.Mounts, specs.Mount{Destination: "/b", Type: "bind", Source: "/nonexistent" + big, Options: []string{"bind"}})
		}},
	} {
		c := c
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			e := NewEnv(t)
			b := e.Bundle([]string{"true"}, c.edit)
			id := escID("cut")
			_, r := rpCreateCmd(t, e, b, id, nil)
			escRefused(t, e, b, id, r, c.field)
			if len(r.Stderr) > 1024 {
				t.Errorf("error line of %d bytes, want at most ~200 of the value: %.300q...", len(r.Stderr), r.Stderr)
			}
		})
	}
}
