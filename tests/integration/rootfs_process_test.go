package integration

// Tests of the filesystem and process set-up: mounts and propagation,
// masked and read-only paths, /dev, sysctls, the process (user, env,
// capabilities, limits), terminals, hooks, the executor's protection, fds
// and cgroups. Each checks what the payload sees and what the host sees.

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// ---- helpers (prefixed rp: rootfs/process) ----

func rpID(name string) string { return uniqueID("rp", name) }

// rpCtr is a container created with its stdio in files (a pipe would keep
// `create` from returning while the container holds it).
type rpCtr struct {
	t       *testing.T
	e       *Env
	ID      string
	Pid     int
	outPath string
	errPath string
}

// rpCreateCmd runs `oci-rt create` with the container's stdio going to
// files, extra files passed as fds 3...
func rpCreateCmd(t *testing.T, e *Env, b, id string, extra []*os.File, flags ...string) (*rpCtr, Result) {
	t.Helper()
	c := &rpCtr{t: t, e: e, ID: id,
		outPath: filepath.Join(e.Dir, id+".out"), errPath: filepath.Join(e.Dir, id+".err")}
	out, err := os.Create(c.outPath)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	errf, err := os.Create(c.errPath)
	if err != nil {
		t.Fatal(err)
	}
	defer errf.Close()
	args := append([]string{"--root", e.Root, "create", "-b", b}, flags...)
	cmd := exec.Command(binary, append(args, id)...)
	cmd.Stdout, cmd.Stderr, cmd.ExtraFiles = out, errf, extra
	code := 0
	if err := cmd.Run(); err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			t.Fatalf("oci-rt create: %v", err)
		}
		code = ee.ExitCode()
	}
	stderr, _ := os.ReadFile(c.errPath)
	return c, Result{Stderr: string(stderr), Code: code}
}

// rpCreate creates a container or fails the test.
func rpCreate(t *testing.T, e *Env, b, id string, flags ...string) *rpCtr {
	t.Helper()
	c, r := rpCreateCmd(t, e, b, id, nil, flags...)
	if r.Code != 0 {
		t.Fatalf("create %s: exit %d: %s", id, r.Code, r.Stderr)
	}
	c.Pid = e.Pid(id)
	if c.Pid <= 0 {
		t.Fatalf("create %s: no pid in state", id)
	}
	return c
}

func (c *rpCtr) Start() {
	c.t.Helper()
	c.e.MustRun("start", c.ID)
}

// Output is what the container wrote to stdout so far.
func (c *rpCtr) Output() string {
	b, _ := os.ReadFile(c.outPath)
	return string(b)
}

// Stderr is what create and the container wrote to stderr so far.
func (c *rpCtr) Stderr() string {
	b, _ := os.ReadFile(c.errPath)
	return string(b)
}

// WaitOutput waits until the container printed a line equal to marker.
func (c *rpCtr) WaitOutput(marker string) string {
	c.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		out := c.Output()
		for _, l := range strings.Split(out, "\n") {
			if l == marker {
				return out
			}
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("container %s never printed %q; stdout:\n%s\nstderr:\n%s", c.ID, marker, out, c.Stderr())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// rpSection returns the lines the payload printed after "==name==" up to
// the next "==...==" header.
func rpSection(out, name string) string {
	var b strings.Builder
	in := false
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "==") && strings.HasSuffix(l, "==") {
			in = l == "=="+name+"=="
			continue
		}
		if in {
			b.WriteString(l + "\n")
		}
	}
	return b.String()
}

// rpKV returns the value of a "key=value" line of out, or "" if none.
func rpKV(out, key string) string {
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, key+"=") {
			return strings.TrimPrefix(l, key+"=")
		}
	}
	return ""
}

// rpMount is one line of a mountinfo file.
type rpMount struct {
	Root, Point string
	Opts        []string // per-mount options
	Optional    []string // shared:N, master:N...
	FSType      string
	Source      string
	Super       []string
}

func (m rpMount) HasOpt(o string) bool {
	for _, x := range m.Opts {
		if x == o {
			return true
		}
	}
	return false
}

func (m rpMount) HasSuper(o string) bool {
	for _, x := range m.Super {
		if x == o {
			return true
		}
	}
	return false
}

// Tag returns the value of an optional field ("shared", "master"), or "".
func (m rpMount) Tag(name string) string {
	for _, f := range m.Optional {
		if strings.HasPrefix(f, name+":") {
			return strings.TrimPrefix(f, name+":")
		}
	}
	return ""
}

func rpUnescape(s string) string {
	r := strings.NewReplacer(`\040`, " ", `\011`, "\t", `\012`, "\n", `\134`, `\`)
	return r.Replace(s)
}

func rpParseMountinfo(text string) []rpMount {
	var ms []rpMount
	for _, l := range strings.Split(text, "\n") {
		f := strings.Fields(l)
		if len(f) < 10 {
			continue
		}
		sep := -1
		for i := 6; i < len(f); i++ {
			if f[i] == "-" {
				sep = i
				break
			}
		}
		if sep < 0 || sep+2 >= len(f) {
			continue
		}
		m := rpMount{Root: rpUnescape(f[3]), Point: rpUnescape(f[4]), Opts: strings.Split(f[5], ","),
			Optional: f[6:sep], FSType: f[sep+1], Source: rpUnescape(f[sep+2])}
		if sep+3 < len(f) {
			m.Super = strings.Split(f[sep+3], ",")
		}
		ms = append(ms, m)
	}
	return ms
}

// rpFindMount returns the topmost mount at point, or nil.
func rpFindMount(ms []rpMount, point string) *rpMount {
	var found *rpMount
	for i := range ms {
		if ms[i].Point == point {
			found = &ms[i]
		}
	}
	return found
}

func rpMountinfoOf(t *testing.T, pid interface{}) []rpMount {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%v/mountinfo", pid))
	if err != nil {
		t.Fatal(err)
	}
	return rpParseMountinfo(string(b))
}

// rpHostShared makes dir a shared mount point on the host (a bind of itself)
// and undoes it at the end; it returns the peer group id.
func rpHostShared(t *testing.T, dir string) string {
	t.Helper()
	if err := unix.Mount(dir, dir, "", unix.MS_BIND, ""); err != nil {
		t.Fatalf("bind %s: %v", dir, err)
	}
	t.Cleanup(func() { unix.Unmount(dir, unix.MNT_DETACH) })
	if err := unix.Mount("", dir, "", unix.MS_SHARED, ""); err != nil {
		t.Fatalf("make %s shared: %v", dir, err)
	}
	m := rpFindMount(rpMountinfoOf(t, "self"), dir)
	if m == nil || m.Tag("shared") == "" {
		t.Fatalf("%s is not a shared mount on the host: %+v", dir, m)
	}
	return m.Tag("shared")
}

// rpHostTmpfs mounts a tmpfs named source on dir on the host, undone at the end.
func rpHostTmpfs(t *testing.T, source, dir string) {
	t.Helper()
	if err := unix.Mount(source, dir, "tmpfs", 0, "size=1m"); err != nil {
		t.Fatalf("mount tmpfs on %s: %v", dir, err)
	}
	t.Cleanup(func() { unix.Unmount(dir, unix.MNT_DETACH) })
}

func rpWrite(t *testing.T, path, content string, mode os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
}

func rpMkdir(t *testing.T, path string) string {
	t.Helper()
	if err := os.MkdirAll(path, 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

// rpStatus returns a field of /proc/<pid>/status.
func rpStatus(t *testing.T, pid interface{}, field string) string {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%v/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	return rpStatusField(string(b), field)
}

func rpStatusField(status, field string) string {
	for _, l := range strings.Split(status, "\n") {
		if strings.HasPrefix(l, field+":") {
			return strings.Join(strings.Fields(strings.TrimPrefix(l, field+":")), " ")
		}
	}
	return ""
}

func rpMustContain(t *testing.T, what, s string, subs ...string) {
	t.Helper()
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			t.Errorf("%s: want %q in:\n%s", what, sub, s)
		}
	}
}

// rpNoLeftovers checks a failed create left no state and no cgroup behind,
// and that the given processes (the container's, as hooks saw it) are gone.
func rpNoLeftovers(t *testing.T, e *Env, id string, pids ...int) {
	t.Helper()
	if _, err := os.Stat(filepath.Join(e.Root, id)); !os.IsNotExist(err) {
		t.Errorf("state directory of %s left behind (stat: %v)", id, err)
	}
	if r := e.Run("list", "-q"); strings.Contains(r.Stdout, id) {
		t.Errorf("list still shows %s: %q", id, r.Stdout)
	}
	for _, ctl := range []string{"memory", "pids", "devices", "freezer"} {
		if _, err := os.Stat(filepath.Join("/sys/fs/cgroup", ctl, "oci-rt", id)); !os.IsNotExist(err) {
			t.Errorf("cgroup %s/oci-rt/%s left behind (stat: %v)", ctl, id, err)
		}
	}
	for _, pid := range pids {
		if !rpGone(pid) {
			t.Errorf("process %d of %s still runs", pid, id)
		}
	}
}

func rpUint32(v uint32) *uint32 { return &v }

// rpGone says whether pid has exited (gone, or a zombie nobody reaped yet).
func rpGone(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	return len(f) > 0 && f[0] == "Z"
}

// ---- 1. mounts ----

// TestRPBindMounts: bind and rbind of host directories, a single file,
// ro, nosuid/nodev/noexec and tmpfs data options, seen from inside and in
// the process's mount table from the host; none of it on the host.
func TestRPBindMounts(t *testing.T) {
	t.Parallel()
	e := NewEnv(t)
	tag := fmt.Sprintf("rptmpfs%d", time.Now().UnixNano())
	host := rpMkdir(t, filepath.Join(e.Dir, "hostdir"))
	rpWrite(t, filepath.Join(host, "before.txt"), "before\n", 0o644)
	rdir := rpMkdir(t, filepath.Join(e.Dir, "rbinddir"))
	rpMkdir(t, filepath.Join(rdir, "sub"))
	rpHostTmpfs(t, tag+"sub", filepath.Join(rdir, "sub"))
	rpWrite(t, filepath.Join(rdir, "sub", "deep"), "deep\n", 0o644)
	single := filepath.Join(e.Dir, "single.txt")
	rpWrite(t, single, "single\n", 0o644)

	script := `echo ==files==
cat /mnt/bind/before.txt /mnt/bind/after.txt /mnt/rbind/sub/deep /etc/single.txt
echo "nrbind-sub-entries=$(ls -A /mnt/nrbind/sub | wc -l)"
echo ==errors==
touch /mnt/ro/new 2>&1
echo ==tmpmode==
stat -c %a /mnt/tmp
echo ==mountinfo==
cat /proc/self/mountinfo
echo fromctr > /mnt/bind/fromctr.txt
echo fromctr >> /etc/single.txt
echo ==
echo END`
	b := e.Bundle([]string{"sh", "-c", script}, func(s *specs.Spec) {
		s.Mounts = append(s.Mounts,
			specs.Mount{Destination: "/mnt/bind", Type: "bind", Source: host, Options: []string{"bind"}},
			specs.Mount{Destination: "/mnt/rbind", Type: "none", Source: rdir, Options: []string{"rbind"}},
			specs.Mount{Destination: "/mnt/nrbind", Type: "none", Source: rdir, Options: []string{"bind"}},
			specs.Mount{Destination: "/etc/single.txt", Type: "bind", Source: single, Options: []string{"bind"}},
			specs.Mount{Destination: "/mnt/ro", Type: "bind", Source: host, Options: []string{"bind", "ro"}},
			specs.Mount{Destination: "/mnt/opts", Type: "bind", Source: host, Options: []string{"bind", "nosuid", "nodev", "noexec"}},
			specs.Mount{Destination: "/mnt/tmp", Type: "tmpfs", Source: tag, Options: []string{"nosuid", "size=2m", "mode=1770"}},
		)
	})
	id := rpID("binds")
	c := rpCreate(t, e, b, id)

	check := func(where string, ms []rpMount) {
		t.Helper()
		if m := rpFindMount(ms, "/mnt/ro"); m == nil || !m.HasOpt("ro") {
			t.Errorf("%s: /mnt/ro not a read-only mount: %+v", where, m)
		}
		if m := rpFindMount(ms, "/mnt/opts"); m == nil || !m.HasOpt("nosuid") || !m.HasOpt("nodev") || !m.HasOpt("noexec") || m.HasOpt("ro") {
			t.Errorf("%s: /mnt/opts lacks nosuid,nodev,noexec (or is ro): %+v", where, m)
		}
		if m := rpFindMount(ms, "/mnt/bind"); m == nil || m.HasOpt("noexec") || m.HasOpt("ro") {
			t.Errorf("%s: /mnt/bind should be a plain rw bind: %+v", where, m)
		}
		if m := rpFindMount(ms, "/etc/single.txt"); m == nil || m.HasOpt("ro") {
			t.Errorf("%s: /etc/single.txt not a rw mount: %+v", where, m)
		}
		m := rpFindMount(ms, "/mnt/tmp")
		if m == nil || m.FSType != "tmpfs" || m.Source != tag || !m.HasSuper("size=2048k") || !m.HasSuper("mode=1770") || !m.HasOpt("nosuid") {
			t.Errorf("%s: /mnt/tmp not a tmpfs %s size=2048k mode=1770 nosuid: %+v", where, tag, m)
		}
		if rpFindMount(ms, "/mnt/rbind/sub") == nil {
			t.Errorf("%s: rbind did not bring the submount /mnt/rbind/sub", where)
		}
		if rpFindMount(ms, "/mnt/nrbind/sub") != nil {
			t.Errorf("%s: a plain bind brought the submount /mnt/nrbind/sub", where)
		}
	}
	// outside, while created: the container process's own mount table
	check("host view of /proc/<pid>/mountinfo", rpMountinfoOf(t, c.Pid))
	// written after create: a live bind, not a copy
	rpWrite(t, filepath.Join(host, "after.txt"), "after\n", 0o644)
	c.Start()
	out := c.WaitOutput("END")

	if got := rpSection(out, "files"); got != "before\nafter\ndeep\nsingle\nnrbind-sub-entries=0\n" {
		t.Errorf("files seen inside:\n%s", got)
	}
	rpMustContain(t, "write to the ro bind", rpSection(out, "errors"), "Read-only file system")
	if got := strings.TrimSpace(rpSection(out, "tmpmode")); got != "1770" {
		t.Errorf("mode of the tmpfs root inside: %q, want 1770", got)
	}
	check("inside", rpParseMountinfo(rpSection(out, "mountinfo")))

	// the host: writes through the binds arrived, the ro one wrote nothing,
	// and no mount of the container is in our table
	if b, _ := os.ReadFile(filepath.Join(host, "fromctr.txt")); string(b) != "fromctr\n" {
		t.Errorf("host dir after the container wrote through the bind: %q", b)
	}
	if b, _ := os.ReadFile(single); string(b) != "single\nfromctr\n" {
		t.Errorf("host file after the container appended through the file bind: %q", b)
	}
	if _, err := os.Stat(filepath.Join(host, "new")); !os.IsNotExist(err) {
		t.Errorf("touch through the ro bind reached the host: %v", err)
	}
	for _, m := range rpMountinfoOf(t, "self") {
		if m.Source == tag || strings.HasPrefix(m.Point, filepath.Join(b, "rootfs")) || m.Point == host {
			t.Errorf("a container mount is in the host's mount table: %+v", m)
		}
	}
}

// TestRPMountSymlinkEscape: mount destinations reached through symlinks in
// the rootfs that point outside it (absolute, and climbing with ..) land
// inside the rootfs, never on the host path: when the symlinks' targets
// exist inside the rootfs, and when they do not yet (runc makes them
// inside the rootfs, following the links there).
func TestRPMountSymlinkEscape(t *testing.T) {
	t.Parallel()
	for _, existing := range []bool{true, false} {
		existing := existing
		name := map[bool]string{true: "targets-in-rootfs", false: "dangling"}[existing]
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			rpSymlinkEscape(t, existing)
		})
	}
}

func rpSymlinkEscape(t *testing.T, existing bool) {
	e := NewEnv(t)
	tag := fmt.Sprintf("rpevil%d", time.Now().UnixNano())
	victim := rpMkdir(t, filepath.Join(e.Dir, "victim"))
	rpWrite(t, filepath.Join(victim, "sentinel"), "x", 0o644)
	victim2 := rpMkdir(t, filepath.Join(e.Dir, "victim2"))
	src := rpMkdir(t, filepath.Join(e.Dir, "src"))
	rpWrite(t, filepath.Join(src, "srcfile"), "src\n", 0o644)

	script := `echo pwned > /evil/pwned && echo wrote-evil
echo "evil2=$(ls /evil2/sub)"
echo "evil=$(ls /evil)"
echo ==mountinfo==
cat /proc/self/mountinfo
echo ==
echo END`
	b := e.Bundle([]string{"sh", "-c", script}, func(s *specs.Spec) {
		s.Mounts = append(s.Mounts,
			specs.Mount{Destination: "/evil", Type: "tmpfs", Source: tag, Options: []string{"size=1m"}},
			specs.Mount{Destination: "/evil2/sub", Type: "bind", Source: src, Options: []string{"bind"}},
		)
	})
	rootfs := filepath.Join(b, "rootfs")
	if err := os.Symlink(victim, filepath.Join(rootfs, "evil")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(strings.Repeat("../", 10)+strings.TrimPrefix(victim2, "/"), filepath.Join(rootfs, "evil2")); err != nil {
		t.Fatal(err)
	}
	if existing {
		rpMkdir(t, filepath.Join(rootfs, victim))
		rpMkdir(t, filepath.Join(rootfs, victim2))
	}
	id := rpID("escape")
	c, r := rpCreateCmd(t, e, b, id, nil)
	// whatever happened, the host paths are untouched
	defer func() {
		ents, _ := os.ReadDir(victim)
		if len(ents) != 1 || ents[0].Name() != "sentinel" {
			t.Errorf("host %s changed: %v", victim, ents)
		}
		if ents, _ := os.ReadDir(victim2); len(ents) != 0 {
			t.Errorf("host %s changed: %v", victim2, ents)
		}
		for _, m := range rpMountinfoOf(t, "self") {
			if m.Source == tag || strings.HasPrefix(m.Point, victim) {
				t.Errorf("a container mount reached the host's mount table: %+v", m)
			}
		}
	}()
	if r.Code != 0 {
		t.Fatalf("create with mount destinations through symlinks: exit %d: %s", r.Code, r.Stderr)
	}
	c.Pid = e.Pid(id)
	// from the host: the process's mounts are where the symlinks lead
	// inside its root, and nothing is mounted on the victims
	ms := rpMountinfoOf(t, c.Pid)
	if m := rpFindMount(ms, victim); m == nil || m.Source != tag {
		t.Errorf("tmpfs for /evil not at %s inside the container: %+v", victim, m)
	}
	if m := rpFindMount(ms, filepath.Join(victim2, "sub")); m == nil {
		t.Errorf("bind for /evil2/sub not at %s/sub inside the container", victim2)
	}
	c.Start()
	out := c.WaitOutput("END")
	rpMustContain(t, "payload", out, "wrote-evil\n", "evil2=srcfile\n", "evil=pwned\n")
	ms = rpParseMountinfo(rpSection(out, "mountinfo"))
	if m := rpFindMount(ms, victim); m == nil || m.Source != tag {
		t.Errorf("inside: tmpfs %s not mounted at %s: %+v", tag, victim, m)
	}
	// the mount points are inside the rootfs
	for _, d := range []string{victim, filepath.Join(victim2, "sub")} {
		if fi, err := os.Stat(filepath.Join(rootfs, d)); err != nil || !fi.IsDir() {
			t.Errorf("mount point %s not inside the rootfs: %v", d, err)
		}
	}
}

// TestRPMountPropagation: per-mount propagation of a bind of a shared host
// directory: rshared and rslave receive a mount the host makes afterwards,
// rprivate does not; a mount made inside never reaches the host.
func TestRPMountPropagation(t *testing.T) {
	t.Parallel()
	e := NewEnv(t)
	tag := fmt.Sprintf("rpprop%d", time.Now().UnixNano())
	shared := rpMkdir(t, filepath.Join(e.Dir, "shared"))
	rpMkdir(t, filepath.Join(shared, "sub"))
	rpMkdir(t, filepath.Join(shared, "inner"))
	group := rpHostShared(t, shared)

	script := `echo ==mountinfo==
cat /proc/self/mountinfo
echo ==inner==
mount -t tmpfs ` + tag + `inner /mnt/rshared/inner 2>&1 && echo inner-mounted
echo ==
echo READY
i=0
while [ $i -lt 100 ] && [ ! -e /mnt/rshared/sub/f ]; do sleep 0.05; i=$((i+1)); done
for d in rshared rslave rprivate; do if [ -e /mnt/$d/sub/f ]; then echo "$d=seen"; else echo "$d=unseen"; fi; done
echo END
sleep 60`
	b := e.Bundle([]string{"sh", "-c", script}, func(s *specs.Spec) {
		for _, p := range []string{"rshared", "rslave", "rprivate"} {
			s.Mounts = append(s.Mounts, specs.Mount{Destination: "/mnt/" + p, Type: "bind", Source: shared, Options: []string{"rbind", p}})
		}
		// to mount inside
		c := s.Process.Capabilities
		c.Bounding = append(c.Bounding, "CAP_SYS_ADMIN")
		c.Permitted = append(c.Permitted, "CAP_SYS_ADMIN")
		c.Effective = append(c.Effective, "CAP_SYS_ADMIN")
	})
	id := rpID("prop")
	c := rpCreate(t, e, b, id)
	c.Start()
	out := c.WaitOutput("READY")
	rpHostTmpfs(t, tag, filepath.Join(shared, "sub"))
	rpWrite(t, filepath.Join(shared, "sub", "f"), "f", 0o644)
	out = c.WaitOutput("END")

	want := map[string]string{"rshared": "seen", "rslave": "seen", "rprivate": "unseen"}
	for p, w := range want {
		if got := rpKV(out, p); got != w {
			t.Errorf("inside: host mount made after start under a %s bind: %q, want %q", p, got, w)
		}
		// and from the host, through the process's root
		_, err := os.Stat(fmt.Sprintf("/proc/%d/root/mnt/%s/sub/f", c.Pid, p))
		if (err == nil) != (w == "seen") {
			t.Errorf("host view of /proc/<pid>/root/mnt/%s/sub/f: %v, want %s", p, err, w)
		}
	}
	ms := rpParseMountinfo(rpSection(out, "mountinfo"))
	if m := rpFindMount(ms, "/mnt/rshared"); m == nil || m.Tag("shared") == "" || m.Tag("master") != group {
		t.Errorf("inside: /mnt/rshared should be shared and a slave of host group %s: %+v", group, m)
	}
	if m := rpFindMount(ms, "/mnt/rslave"); m == nil || m.Tag("shared") != "" || m.Tag("master") != group {
		t.Errorf("inside: /mnt/rslave should be only a slave of host group %s: %+v", group, m)
	}
	if m := rpFindMount(ms, "/mnt/rprivate"); m == nil || m.Tag("shared") != "" || m.Tag("master") != "" {
		t.Errorf("inside: /mnt/rprivate should be private: %+v", m)
	}
	rpMustContain(t, "mount inside the container", rpSection(out, "inner"), "inner-mounted")
	for _, m := range rpMountinfoOf(t, "self") {
		if m.Source == tag+"inner" || m.Point == filepath.Join(shared, "inner") {
			t.Errorf("a mount made inside the container appeared on the host: %+v", m)
		}
	}
}

// TestRPRootfsPropagation: linux.rootfsPropagation decides how mounts
// copied from the host (here a bind of a shared host directory, with no
// option of its own) relate to the host's.
func TestRPRootfsPropagation(t *testing.T) {
	t.Parallel()
	cases := []struct {
		prop string
		seen bool
		tag  string // "shared" (peer of the host), "master" (slave) or "" (private)
	}{
		{"", true, "master"}, // default rslave
		{"rslave", true, "master"},
		{"rshared", true, "shared"},
		{"rprivate", false, ""},
		{"slave", true, "shared"}, // only / changes: the copy of the shared dir stays a peer
		{"private", true, "shared"},
		{"shared", true, "shared"},
	}
	for _, tc := range cases {
		tc := tc
		name := tc.prop
		if name == "" {
			name = "default"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e := NewEnv(t)
			tag := fmt.Sprintf("rprootprop%d", time.Now().UnixNano())
			shared := rpMkdir(t, filepath.Join(e.Dir, "shared"))
			rpMkdir(t, filepath.Join(shared, "sub"))
			group := rpHostShared(t, shared)
			script := `echo ==mountinfo==
cat /proc/self/mountinfo
echo ==
echo READY
i=0
while [ $i -lt 20 ] && [ ! -e /mnt/s/sub/f ]; do sleep 0.05; i=$((i+1)); done
if [ -e /mnt/s/sub/f ]; then echo s=seen; else echo s=unseen; fi
echo END
sleep 60`
			b := e.Bundle([]string{"sh", "-c", script}, func(s *specs.Spec) {
				s.Linux.RootfsPropagation = tc.prop
				s.Mounts = append(s.Mounts, specs.Mount{Destination: "/mnt/s", Type: "bind", Source: shared, Options: []string{"rbind"}})
			})
			c := rpCreate(t, e, b, rpID("rootprop"))
			c.Start()
			c.WaitOutput("READY")
			rpHostTmpfs(t, tag, filepath.Join(shared, "sub"))
			rpWrite(t, filepath.Join(shared, "sub", "f"), "f", 0o644)
			out := c.WaitOutput("END")
			want := map[bool]string{true: "seen", false: "unseen"}[tc.seen]
			if got := rpKV(out, "s"); got != want {
				t.Errorf("inside: host mount made after start: %q, want %q", got, want)
			}
			_, err := os.Stat(fmt.Sprintf("/proc/%d/root/mnt/s/sub/f", c.Pid))
			if (err == nil) != tc.seen {
				t.Errorf("host view through /proc/<pid>/root: %v, want %s", err, want)
			}
			m := rpFindMount(rpParseMountinfo(rpSection(out, "mountinfo")), "/mnt/s")
			if m == nil {
				t.Fatalf("no /mnt/s inside")
			}
			switch tc.tag {
			case "shared":
				if m.Tag("shared") != group {
					t.Errorf("inside: /mnt/s should be a peer of host group %s: %+v", group, m)
				}
			case "master":
				if m.Tag("master") != group || m.Tag("shared") != "" {
					t.Errorf("inside: /mnt/s should be a slave of host group %s: %+v", group, m)
				}
			default:
				if m.Tag("master") != "" || m.Tag("shared") != "" {
					t.Errorf("inside: /mnt/s should be private: %+v", m)
				}
			}
		})
	}
	t.Run("unknown", func(t *testing.T) {
		t.Parallel()
		e := NewEnv(t)
		b := e.Bundle([]string{"true"}, func(s *specs.Spec) { s.Linux.RootfsPropagation = "sideways" })
		id := rpID("rootprop-bad")
		r := e.Run("run", "-b", b, id)
		if r.Code == 0 || !strings.Contains(r.Stderr, "rootfsPropagation") {
			t.Errorf("unknown rootfsPropagation: exit %d, stderr %q", r.Code, r.Stderr)
		}
		rpNoLeftovers(t, e, id)
	})
}

// ---- 2. masked paths, read-only paths, read-only root, --no-pivot ----

// TestRPMaskedReadonly: the default maskedPaths and readonlyPaths and the
// read-only root, with pivot_root and with --no-pivot; /tmp is writable
// only with a tmpfs there.
func TestRPMaskedReadonly(t *testing.T) {
	t.Parallel()
	hostTimers, _ := os.ReadFile("/proc/timer_list")
	hostFirmware, _ := os.ReadDir("/sys/firmware")
	hostName, _ := os.Hostname()
	for _, tc := range []struct {
		name    string
		noPivot bool
		tmpTmp  bool
	}{{"pivot", false, false}, {"pivot-tmpfs-tmp", false, true}, {"no-pivot", true, false}} {
		tc := tc
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := NewEnv(t)
			script := `echo "keys=$(wc -c < /proc/keys)"
echo "timer_list=$(wc -c < /proc/timer_list)"
echo "acpi=$(ls -A /proc/acpi | wc -l)"
echo "firmware=$(ls -A /sys/firmware | wc -l)"
echo "rootfs-hostname=$(cat /etc/hostname)"
echo ==errors==
{ touch /proc/acpi/x; } 2>&1
touch /sys/firmware/x 2>&1
echo ==sys==
{ echo hacked > /proc/sys/kernel/hostname; } 2>&1
echo "hostname=$(hostname)"
echo ==root==
touch /x 2>&1
echo ==tmp==
touch /tmp/x 2>&1 && echo tmp-writable
echo ==mountinfo==
cat /proc/self/mountinfo
echo ==
echo END
sleep 60`
			b := e.Bundle([]string{"sh", "-c", script}, func(s *specs.Spec) {
				if tc.tmpTmp {
					s.Mounts = append(s.Mounts, specs.Mount{Destination: "/tmp", Type: "tmpfs", Source: "tmpfs", Options: []string{"size=1m"}})
				}
			})
			var flags []string
			if tc.noPivot {
				flags = append(flags, "--no-pivot")
			}
			c := rpCreate(t, e, b, rpID("mask"), flags...)
			check := func(where string, ms []rpMount) {
				t.Helper()
				for _, p := range []string{"/proc/keys", "/proc/timer_list"} {
					// a bind of the container's /dev/null (on the /dev tmpfs)
					if m := rpFindMount(ms, p); m == nil || m.Root != "/null" {
						t.Errorf("%s: %s not masked by /dev/null: %+v", where, p, m)
					}
				}
				for _, p := range []string{"/proc/acpi", "/sys/firmware"} {
					if m := rpFindMount(ms, p); m == nil || m.FSType != "tmpfs" || !m.HasOpt("ro") {
						t.Errorf("%s: %s not masked by a read-only tmpfs: %+v", where, p, m)
					}
				}
				for _, p := range []string{"/proc/sys", "/proc/sysrq-trigger", "/proc/irq", "/proc/bus", "/proc/fs"} {
					if _, err := os.Stat(p); err != nil {
						continue // not on this kernel: nothing to protect
					}
					if m := rpFindMount(ms, p); m == nil || !m.HasOpt("ro") {
						t.Errorf("%s: %s not a read-only mount: %+v", where, p, m)
					}
				}
				if m := rpFindMount(ms, "/"); m == nil || !m.HasOpt("ro") || !strings.HasSuffix(m.Root, "/rootfs") {
					t.Errorf("%s: / is not the read-only rootfs: %+v", where, m)
				}
			}
			check("host view of /proc/<pid>/mountinfo", rpMountinfoOf(t, c.Pid))
			c.Start()
			out := c.WaitOutput("END")
			check("inside", rpParseMountinfo(rpSection(out, "mountinfo")))
			if got := rpKV(out, "keys"); got != "0" {
				t.Errorf("/proc/keys inside has %s bytes, want 0", got)
			}
			if len(hostTimers) > 0 && rpKV(out, "timer_list") != "0" {
				t.Errorf("/proc/timer_list inside has %s bytes, want 0 (host has %d)", rpKV(out, "timer_list"), len(hostTimers))
			}
			if rpKV(out, "acpi") != "0" {
				t.Errorf("/proc/acpi inside has %s entries, want 0", rpKV(out, "acpi"))
			}
			if len(hostFirmware) > 0 && rpKV(out, "firmware") != "0" {
				t.Errorf("/sys/firmware inside has %s entries, want 0 (host has %d)", rpKV(out, "firmware"), len(hostFirmware))
			}
			if rpKV(out, "rootfs-hostname") != "oci-rt" {
				t.Errorf("/etc/hostname inside is not the rootfs's: %q", rpKV(out, "rootfs-hostname"))
			}
			errs := rpSection(out, "errors")
			rpMustContain(t, "writes into masked directories", errs, "/proc/acpi/x: Read-only file system", "/sys/firmware/x: Read-only file system")
			sys := rpSection(out, "sys")
			rpMustContain(t, "write to /proc/sys", sys, "Read-only file system", "hostname=oci-rt")
			rpMustContain(t, "touch /x", rpSection(out, "root"), "/x: Read-only file system")
			tmp := rpSection(out, "tmp")
			if tc.tmpTmp {
				rpMustContain(t, "touch /tmp/x with a tmpfs", tmp, "tmp-writable")
			} else {
				rpMustContain(t, "touch /tmp/x without a tmpfs", tmp, "/tmp/x: Read-only file system")
			}
			if h, _ := os.Hostname(); h != hostName {
				t.Errorf("host hostname changed: %q -> %q", hostName, h)
			}
			// nothing reached the rootfs on disk
			for _, p := range []string{"x", "tmp/x"} {
				if _, err := os.Stat(filepath.Join(b, "rootfs", p)); !os.IsNotExist(err) {
					t.Errorf("rootfs/%s exists on the host: %v", p, err)
				}
			}
		})
	}
}

// ---- 3. /dev ----

// TestRPDev: the /dev tmpfs with the default devices, links and mounts,
// and a linux.devices entry made with its mode and owner.
func TestRPDev(t *testing.T) {
	t.Parallel()
	e := NewEnv(t)
	script := `echo ==devices==
for d in null zero full tty random urandom myfull; do stat -c "%n %F %t:%T" /dev/$d; done
echo ==myfull==
stat -c "%a %u %g" /dev/myfull
echo ==links==
for l in fd stdin stdout stderr ptmx; do echo "/dev/$l -> $(readlink /dev/$l)"; done
echo ==use==
echo data > /dev/null && echo null-ok
echo "zero=$(head -c 5 /dev/zero | wc -c)"
echo "urandom=$(head -c 8 /dev/urandom | wc -c)"
echo x 2>&1 > /dev/full || echo full-refused
echo ==mountinfo==
cat /proc/self/mountinfo
echo ==
echo END`
	b := e.Bundle([]string{"sh", "-c", script}, func(s *specs.Spec) {
		mode := os.FileMode(0o620)
		s.Linux.Devices = append(s.Linux.Devices, specs.LinuxDevice{Path: "/dev/myfull", Type: "c", Major: 1, Minor: 7,
			FileMode: &mode, UID: rpUint32(1000), GID: rpUint32(2000)})
	})
	c := rpCreate(t, e, b, rpID("dev"))
	// from the host, through the process's root
	want := map[string][2]uint32{"null": {1, 3}, "zero": {1, 5}, "full": {1, 7}, "tty": {5, 0}, "random": {1, 8}, "urandom": {1, 9}, "myfull": {1, 7}}
	for name, mm := range want {
		var st unix.Stat_t
		p := fmt.Sprintf("/proc/%d/root/dev/%s", c.Pid, name)
		if err := unix.Lstat(p, &st); err != nil {
			t.Errorf("host: %v", err)
			continue
		}
		if st.Mode&unix.S_IFMT != unix.S_IFCHR || unix.Major(st.Rdev) != mm[0] || unix.Minor(st.Rdev) != mm[1] {
			t.Errorf("host: %s mode %o rdev %d:%d, want char %d:%d", p, st.Mode, unix.Major(st.Rdev), unix.Minor(st.Rdev), mm[0], mm[1])
		}
		if name == "myfull" && (st.Mode&0o7777 != 0o620 || st.Uid != 1000 || st.Gid != 2000) {
			t.Errorf("host: %s mode %o uid %d gid %d, want 0620 1000 2000", p, st.Mode&0o7777, st.Uid, st.Gid)
		}
	}
	c.Start()
	out := c.WaitOutput("END")
	devs := rpSection(out, "devices")
	for name, mm := range want {
		line := fmt.Sprintf("/dev/%s character special file %x:%x\n", name, mm[0], mm[1])
		if !strings.Contains(devs, line) {
			t.Errorf("inside: want %q in\n%s", line, devs)
		}
	}
	if got := strings.TrimSpace(rpSection(out, "myfull")); got != "620 1000 2000" {
		t.Errorf("inside: /dev/myfull mode/uid/gid %q, want 620 1000 2000", got)
	}
	links := rpSection(out, "links")
	for _, l := range []string{"/dev/fd -> /proc/self/fd", "/dev/stdin -> /proc/self/fd/0", "/dev/stdout -> /proc/self/fd/1",
		"/dev/stderr -> /proc/self/fd/2", "/dev/ptmx -> pts/ptmx"} {
		if !strings.Contains(links, l+"\n") {
			t.Errorf("inside: want link %q in\n%s", l, links)
		}
	}
	rpMustContain(t, "using the devices", rpSection(out, "use"), "null-ok", "zero=5", "urandom=8", "full-refused")
	ms := rpParseMountinfo(rpSection(out, "mountinfo"))
	for p, fs := range map[string]string{"/dev": "tmpfs", "/dev/pts": "devpts", "/dev/shm": "tmpfs", "/dev/mqueue": "mqueue"} {
		if m := rpFindMount(ms, p); m == nil || m.FSType != fs {
			t.Errorf("inside: %s is not a %s mount: %+v", p, fs, m)
		}
	}
	if m := rpFindMount(ms, "/dev/pts"); m != nil && !m.HasSuper("ptmxmode=666") {
		t.Errorf("inside: /dev/pts is not a new devpts instance with ptmxmode=666: %+v", m)
	}
}

// ---- 4. sysctl ----

// TestRPSysctl: namespaced sysctls are set in the container's namespaces
// and the host's values do not change; a sysctl of a namespace the
// container shares with the host is refused (as runc does) rather than
// written to the host.
func TestRPSysctl(t *testing.T) {
	t.Parallel()
	read := func(path string) string {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimSpace(string(b))
	}
	t.Run("own-namespaces", func(t *testing.T) {
		t.Parallel()
		e := NewEnv(t)
		hostFwd, hostShm := read("/proc/sys/net/ipv4/ip_forward"), read("/proc/sys/kernel/shmmax")
		fwd := "1"
		if hostFwd == "1" {
			fwd = "0"
		}
		script := `echo "ip_forward=$(cat /proc/sys/net/ipv4/ip_forward)"
echo "shmmax=$(cat /proc/sys/kernel/shmmax)"
echo END
sleep 60`
		b := e.Bundle([]string{"sh", "-c", script}, func(s *specs.Spec) {
			s.Linux.Sysctl = map[string]string{"net.ipv4.ip_forward": fwd, "kernel.shmmax": "123456789"}
		})
		c := rpCreate(t, e, b, rpID("sysctl"))
		c.Start()
		out := c.WaitOutput("END")
		if rpKV(out, "ip_forward") != fwd || rpKV(out, "shmmax") != "123456789" {
			t.Errorf("inside: %q, want ip_forward=%s shmmax=123456789", out, fwd)
		}
		// from the host, entering only the namespace in question
		for _, x := range []struct{ ns, path, want string }{{"-n", "/proc/sys/net/ipv4/ip_forward", fwd}, {"-i", "/proc/sys/kernel/shmmax", "123456789"}} {
			got, err := exec.Command("nsenter", "-t", strconv.Itoa(c.Pid), x.ns, "cat", x.path).Output()
			if err != nil || strings.TrimSpace(string(got)) != x.want {
				t.Errorf("nsenter %s cat %s: %q %v, want %s", x.ns, x.path, got, err, x.want)
			}
		}
		if read("/proc/sys/net/ipv4/ip_forward") != hostFwd || read("/proc/sys/kernel/shmmax") != hostShm {
			t.Errorf("host values changed")
		}
	})
	t.Run("host-ipc-namespace", func(t *testing.T) {
		t.Parallel()
		e := NewEnv(t)
		const path = "/proc/sys/kernel/msgmax"
		before := read(path)
		n, _ := strconv.Atoi(before)
		val := strconv.Itoa(n - 1)
		t.Cleanup(func() {
			if read(path) != before {
				os.WriteFile(path, []byte(before), 0)
			}
		})
		b := e.Bundle([]string{"sh", "-c", "cat " + path}, func(s *specs.Spec) {
			s.Linux.Sysctl = map[string]string{"kernel.msgmax": val}
			var ns []specs.LinuxNamespace
			for _, n := range s.Linux.Namespaces {
				if n.Type != specs.IPCNamespace {
					ns = append(ns, n)
				}
			}
			s.Linux.Namespaces = ns
		})
		id := rpID("sysctl-host")
		r := e.Run("run", "-b", b, id)
		if after := read(path); after != before {
			t.Errorf("kernel.msgmax of the host (shared ipc namespace) changed: %s -> %s", before, after)
		}
		if r.Code == 0 || !strings.Contains(r.Stderr, "kernel.msgmax") {
			t.Errorf("sysctl kernel.msgmax without an ipc namespace: exit %d, stdout %q, stderr %q; want an error naming it", r.Code, r.Stdout, r.Stderr)
		}
		rpNoLeftovers(t, e, id)
	})
}

// ---- 5. the process ----

// TestRPProcessArgsEnvCwd: args (with spaces), env and cwd, inside and in
// /proc/<pid> from the host.
func TestRPProcessArgsEnvCwd(t *testing.T) {
	t.Parallel()
	e := NewEnv(t)
	script := `echo "arg0=$0"; echo "arg1=$1"; echo "foo=$FOO"; echo "pwd=$(pwd)"; echo "home=$HOME"; echo END; sleep 60; echo not-exec-last`
	b := e.Bundle([]string{"sh", "-c", script, "zero", "one two"}, func(s *specs.Spec) {
		s.Process.Env = append(s.Process.Env, "FOO=bar baz", "HOME=/custom")
		s.Process.Cwd = "/home/app"
	})
	c := rpCreate(t, e, b, rpID("args"))
	c.Start()
	out := c.WaitOutput("END")
	for k, v := range map[string]string{"arg0": "zero", "arg1": "one two", "foo": "bar baz", "pwd": "/home/app", "home": "/custom"} {
		if got := rpKV(out, k); got != v {
			t.Errorf("inside: %s=%q, want %q", k, got, v)
		}
	}
	cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", c.Pid))
	if want := "sh\x00-c\x00" + script + "\x00zero\x00one two\x00"; string(cmdline) != want {
		t.Errorf("host: cmdline %q, want %q", cmdline, want)
	}
	env, _ := os.ReadFile(fmt.Sprintf("/proc/%d/environ", c.Pid))
	vars := strings.Split(strings.TrimRight(string(env), "\x00"), "\x00")
	sort.Strings(vars)
	want := []string{"FOO=bar baz", "HOME=/custom", "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"}
	if strings.Join(vars, "|") != strings.Join(want, "|") {
		t.Errorf("host: environ %q, want exactly %q", vars, want)
	}
	if cwd, _ := os.Readlink(fmt.Sprintf("/proc/%d/cwd", c.Pid)); cwd != "/home/app" {
		t.Errorf("host: cwd %q, want /home/app", cwd)
	}
}

// TestRPProcessCwdCreated: a process.cwd missing from the rootfs is made,
// as runc does (runc 1.1.5 runs `pwd` there and prints it).
func TestRPProcessCwdCreated(t *testing.T) {
	t.Parallel()
	e := NewEnv(t)
	b := e.Bundle([]string{"pwd"}, func(s *specs.Spec) { s.Process.Cwd = "/does/not/exist" })
	r := e.Run("run", "-b", b, rpID("cwd"))
	if r.Code != 0 || r.Stdout != "/does/not/exist\n" {
		t.Errorf("missing cwd: exit %d, stdout %q, stderr %q; want it made, as runc does", r.Code, r.Stdout, r.Stderr)
	}
	if fi, err := os.Stat(filepath.Join(b, "rootfs/does/not/exist")); err != nil || !fi.IsDir() {
		t.Errorf("cwd not made in the rootfs: %v", err)
	}
}

// TestRPProcessUser: uid, gid and additional gids; HOME from the
// container's /etc/passwd when env lacks it; umask.
func TestRPProcessUser(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name       string
		uid, gid   uint32
		extra      []uint32
		home       string
		id         string
		uidL, gidL string
		groups     string
	}{
		{"app", 1000, 1000, []uint32{2000, 3000}, "/home/app", "uid=1000(app) gid=1000(app) groups=2000(extra),3000",
			"1000 1000 1000 1000", "1000 1000 1000 1000", "2000 3000"},
		{"nobody", 65534, 65534, nil, "/nonexistent", "uid=65534(nobody) gid=65534(nogroup)",
			"65534 65534 65534 65534", "65534 65534 65534 65534", ""},
		{"unknown", 4242, 4343, []uint32{2000}, "/", "uid=4242 gid=4343 groups=2000(extra)",
			"4242 4242 4242 4242", "4343 4343 4343 4343", "2000"},
		{"root", 0, 0, nil, "/root", "uid=0(root) gid=0(root)", "0 0 0 0", "0 0 0 0", ""},
	}
	for _, tc := range cases {
		tc := tc
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := NewEnv(t)
			script := `echo "id=$(id)"; echo "home=$HOME"; touch /tmp/f; echo "mode=$(stat -c %a /tmp/f)"; mkdir /tmp/d; echo "dmode=$(stat -c %a /tmp/d)"; grep Umask /proc/self/status; echo END; sleep 60`
			b := e.Bundle([]string{"sh", "-c", script}, func(s *specs.Spec) {
				s.Process.User = specs.User{UID: tc.uid, GID: tc.gid, AdditionalGids: tc.extra, Umask: rpUint32(0o077)}
				s.Mounts = append(s.Mounts, specs.Mount{Destination: "/tmp", Type: "tmpfs", Source: "tmpfs", Options: []string{"mode=1777", "size=1m"}})
			})
			c := rpCreate(t, e, b, rpID("user"))
			c.Start()
			out := c.WaitOutput("END")
			if got := rpKV(out, "id"); got != tc.id {
				t.Errorf("inside: id %q, want %q", got, tc.id)
			}
			if got := rpKV(out, "home"); got != tc.home {
				t.Errorf("inside: HOME %q, want %q (from the rootfs's /etc/passwd)", got, tc.home)
			}
			if rpKV(out, "mode") != "600" || rpKV(out, "dmode") != "700" {
				t.Errorf("inside with umask 0077: file mode %q dir mode %q, want 600 700", rpKV(out, "mode"), rpKV(out, "dmode"))
			}
			rpMustContain(t, "inside umask", out, "Umask:\t0077")
			for f, want := range map[string]string{"Uid": tc.uidL, "Gid": tc.gidL, "Groups": tc.groups, "Umask": "0077"} {
				if got := rpStatus(t, c.Pid, f); got != want {
					t.Errorf("host: /proc/<pid>/status %s %q, want %q", f, got, want)
				}
			}
		})
	}
}

// rpCapMask turns capability names into the bit mask /proc shows.
func rpCapMask(t *testing.T, names ...string) uint64 {
	t.Helper()
	bits := map[string]uint{"CAP_CHOWN": 0, "CAP_DAC_OVERRIDE": 1, "CAP_FOWNER": 3, "CAP_KILL": 5, "CAP_SETGID": 6, "CAP_SETUID": 7,
		"CAP_SETPCAP": 8, "CAP_NET_BIND_SERVICE": 10, "CAP_NET_RAW": 13, "CAP_SYS_CHROOT": 18, "CAP_SYS_ADMIN": 21, "CAP_AUDIT_WRITE": 29}
	var m uint64
	for _, n := range names {
		b, ok := bits[n]
		if !ok {
			t.Fatalf("unknown cap %s", n)
		}
		m |= 1 << b
	}
	return m
}

func rpCapsOf(t *testing.T, status string) map[string]uint64 {
	t.Helper()
	out := map[string]uint64{}
	for _, f := range []string{"CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"} {
		v, err := strconv.ParseUint(rpStatusField(status, f), 16, 64)
		if err != nil {
			t.Fatalf("%s in %q: %v", f, status, err)
		}
		out[f] = v
	}
	return out
}

// TestRPProcessCapabilities: the five sets are exactly the config's while
// the process waits for start (from the host), and after execve what the
// kernel derives from them (inside and from the host): for root with
// noNewPrivileges, permitted = effective = (bounding | inheritable) &
// permitted; for a non-root user with ambient capabilities, permitted =
// effective = ambient.
func TestRPProcessCapabilities(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name                      string
		uid                       uint32
		bnd, prm, eff, inh, amb   []string
		wantPrm, wantEff, wantAmb []string // after exec
	}{
		{name: "root", uid: 0,
			bnd: []string{"CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_SETUID", "CAP_SETGID"},
			prm: []string{"CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"},
			eff: []string{"CAP_KILL"}, inh: []string{"CAP_KILL"}, amb: []string{"CAP_KILL"},
			wantPrm: []string{"CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"}, wantEff: []string{"CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"},
			wantAmb: []string{"CAP_KILL"}},
		{name: "root-exact", uid: 0,
			bnd: []string{"CAP_CHOWN", "CAP_KILL", "CAP_SYS_CHROOT"}, prm: []string{"CAP_CHOWN", "CAP_KILL", "CAP_SYS_CHROOT"},
			eff: []string{"CAP_CHOWN", "CAP_KILL", "CAP_SYS_CHROOT"}, inh: []string{"CAP_CHOWN"}, amb: nil,
			wantPrm: []string{"CAP_CHOWN", "CAP_KILL", "CAP_SYS_CHROOT"}, wantEff: []string{"CAP_CHOWN", "CAP_KILL", "CAP_SYS_CHROOT"}},
		{name: "user-ambient", uid: 1000,
			bnd: []string{"CAP_NET_BIND_SERVICE", "CAP_KILL", "CAP_NET_RAW"},
			prm: []string{"CAP_NET_BIND_SERVICE", "CAP_NET_RAW"}, eff: []string{"CAP_NET_BIND_SERVICE", "CAP_NET_RAW"},
			inh: []string{"CAP_NET_BIND_SERVICE", "CAP_NET_RAW"}, amb: []string{"CAP_NET_BIND_SERVICE", "CAP_NET_RAW"},
			wantPrm: []string{"CAP_NET_BIND_SERVICE", "CAP_NET_RAW"}, wantEff: []string{"CAP_NET_BIND_SERVICE", "CAP_NET_RAW"},
			wantAmb: []string{"CAP_NET_BIND_SERVICE", "CAP_NET_RAW"}},
	}
	for _, tc := range cases {
		tc := tc
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := NewEnv(t)
			b := e.Bundle([]string{"sh", "-c", "grep Cap /proc/self/status; echo END; sleep 60"}, func(s *specs.Spec) {
				s.Process.User = specs.User{UID: tc.uid, GID: tc.uid}
				s.Process.Capabilities = &specs.LinuxCapabilities{Bounding: tc.bnd, Permitted: tc.prm, Effective: tc.eff,
					Inheritable: tc.inh, Ambient: tc.amb}
			})
			c := rpCreate(t, e, b, rpID("caps"))
			status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", c.Pid))
			if err != nil {
				t.Fatal(err)
			}
			configured := map[string]uint64{"CapBnd": rpCapMask(t, tc.bnd...), "CapPrm": rpCapMask(t, tc.prm...),
				"CapEff": rpCapMask(t, tc.eff...), "CapInh": rpCapMask(t, tc.inh...), "CapAmb": rpCapMask(t, tc.amb...)}
			got := rpCapsOf(t, string(status))
			for f, want := range configured {
				if got[f] != want {
					t.Errorf("host, created: %s %016x, want the config's %016x", f, got[f], want)
				}
			}
			c.Start()
			out := c.WaitOutput("END")
			afterExec := map[string]uint64{"CapBnd": rpCapMask(t, tc.bnd...), "CapPrm": rpCapMask(t, tc.wantPrm...),
				"CapEff": rpCapMask(t, tc.wantEff...), "CapInh": rpCapMask(t, tc.inh...), "CapAmb": rpCapMask(t, tc.wantAmb...)}
			inside := rpCapsOf(t, out)
			status, _ = os.ReadFile(fmt.Sprintf("/proc/%d/status", c.Pid))
			host := rpCapsOf(t, string(status))
			for f, want := range afterExec {
				if inside[f] != want {
					t.Errorf("inside: %s %016x, want %016x", f, inside[f], want)
				}
				if host[f] != want {
					t.Errorf("host, running: %s %016x, want %016x", f, host[f], want)
				}
			}
		})
	}
}

// TestRPProcessLimits: rlimits, noNewPrivileges and oomScoreAdj, inside and
// from the host.
func TestRPProcessLimits(t *testing.T) {
	t.Parallel()
	for _, nnp := range []bool{true, false} {
		nnp := nnp
		t.Run(fmt.Sprintf("noNewPrivileges=%v", nnp), func(t *testing.T) {
			t.Parallel()
			e := NewEnv(t)
			script := `echo "soft=$(ulimit -n)"; echo "hard=$(ulimit -Hn)"; grep NoNewPrivs /proc/self/status; echo "oom=$(cat /proc/self/oom_score_adj)"; echo END; sleep 60`
			b := e.Bundle([]string{"sh", "-c", script}, func(s *specs.Spec) {
				s.Process.Rlimits = []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Soft: 321, Hard: 654}}
				s.Process.NoNewPrivileges = nnp
				oom := 500
				s.Process.OOMScoreAdj = &oom
			})
			c := rpCreate(t, e, b, rpID("limits"))
			c.Start()
			out := c.WaitOutput("END")
			nnpWant := map[bool]string{true: "1", false: "0"}[nnp]
			if rpKV(out, "soft") != "321" || rpKV(out, "hard") != "654" || rpKV(out, "oom") != "500" {
				t.Errorf("inside: %q, want soft=321 hard=654 oom=500", out)
			}
			rpMustContain(t, "inside", out, "NoNewPrivs:\t"+nnpWant)
			limits, _ := os.ReadFile(fmt.Sprintf("/proc/%d/limits", c.Pid))
			found := false
			for _, l := range strings.Split(string(limits), "\n") {
				if strings.HasPrefix(l, "Max open files") {
					found = true
					if f := strings.Fields(strings.TrimPrefix(l, "Max open files")); len(f) < 2 || f[0] != "321" || f[1] != "654" {
						t.Errorf("host: /proc/<pid>/limits %q, want 321 654", l)
					}
				}
			}
			if !found {
				t.Errorf("host: no open files line in %s", limits)
			}
			if got := rpStatus(t, c.Pid, "NoNewPrivs"); got != nnpWant {
				t.Errorf("host: NoNewPrivs %q, want %s", got, nnpWant)
			}
			if b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/oom_score_adj", c.Pid)); strings.TrimSpace(string(b)) != "500" {
				t.Errorf("host: oom_score_adj %q, want 500", b)
			}
		})
	}
	t.Run("above-host-hard-limit", func(t *testing.T) {
		t.Parallel()
		e := NewEnv(t)
		var rl unix.Rlimit
		if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &rl); err != nil {
			t.Fatal(err)
		}
		if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &unix.Rlimit{Cur: rl.Cur, Max: rl.Max + 1}); err == nil {
			unix.Setrlimit(unix.RLIMIT_NOFILE, &rl)
			t.Skip("this process may raise its hard limit (CAP_SYS_RESOURCE): nothing to refuse")
		}
		b := e.Bundle([]string{"true"}, func(s *specs.Spec) {
			s.Process.Rlimits = []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Soft: rl.Max + 1, Hard: rl.Max + 1}}
		})
		id := rpID("rlimit-high")
		r := e.Run("create", "-b", b, id)
		if r.Code == 0 {
			t.Fatalf("create with RLIMIT_NOFILE above the host's hard limit %d succeeded", rl.Max)
		}
		rpMustContain(t, "create error", r.Stderr, `process.rlimits[0].type "RLIMIT_NOFILE"`, "setrlimit", "operation not permitted")
		rpNoLeftovers(t, e, id)
	})
}

// ---- 6. terminal ----

// rpConsoleListener listens on a unix socket and hands over the first fd
// received on it, with the message that came with it.
func rpConsoleListener(t *testing.T, path string) <-chan *os.File {
	t.Helper()
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.Bind(fd, &unix.SockaddrUnix{Name: path}); err != nil {
		t.Fatal(err)
	}
	if err := unix.Listen(fd, 1); err != nil {
		t.Fatal(err)
	}
	ch := make(chan *os.File, 1)
	go func() {
		defer close(ch)
		defer unix.Close(fd)
		conn, _, err := unix.Accept4(fd, unix.SOCK_CLOEXEC)
		if err != nil {
			return
		}
		defer unix.Close(conn)
		buf := make([]byte, 4096)
		oob := make([]byte, unix.CmsgSpace(4*4))
		n, oobn, _, _, err := unix.Recvmsg(conn, buf, oob, unix.MSG_CMSG_CLOEXEC)
		if err != nil {
			return
		}
		msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
		if err != nil || len(msgs) != 1 {
			return
		}
		fds, err := unix.ParseUnixRights(&msgs[0])
		if err != nil || len(fds) != 1 {
			return
		}
		unix.SetNonblock(fds[0], true) // so that reads take deadlines
		ch <- os.NewFile(uintptr(fds[0]), string(buf[:n]))
	}()
	return ch
}

// rpReadAll reads f until EOF/EIO (the pty's slave side closed) or timeout.
func rpReadAll(f *os.File, d time.Duration) (string, error) {
	f.SetReadDeadline(time.Now().Add(d))
	var out []byte
	buf := make([]byte, 4096)
	for {
		n, err := f.Read(buf)
		out = append(out, buf[:n]...)
		if err != nil {
			if errors.Is(err, unix.EIO) || errors.Is(err, io.EOF) {
				return string(out), nil
			}
			return string(out), err
		}
	}
}

func rpLines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		out = append(out, strings.TrimRight(l, "\r"))
	}
	return out
}

func rpHasLine(s, want string) bool {
	for _, l := range rpLines(s) {
		if l == want {
			return true
		}
	}
	return false
}

// TestRPConsoleSocket: create --console-socket sends the pty master over
// SCM_RIGHTS; the process has the slave as stdio and controlling terminal.
func TestRPConsoleSocket(t *testing.T) {
	t.Parallel()
	e := NewEnv(t)
	sock := filepath.Join(e.Dir, "console.sock")
	masters := rpConsoleListener(t, sock)
	b := e.Bundle([]string{"sh"}, func(s *specs.Spec) { s.Process.Terminal = true })
	id := rpID("console")
	c := rpCreate(t, e, b, id, "--console-socket", sock)
	master := cnReceive(t, masters, "the pty master on the console socket")
	var st unix.Stat_t
	if err := unix.Fstat(int(master.Fd()), &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFCHR || unix.Major(st.Rdev) != 5 || unix.Minor(st.Rdev) != 2 {
		t.Errorf("received fd is not a pty master (ptmx 5:2): mode %o rdev %d:%d err %v", st.Mode, unix.Major(st.Rdev), unix.Minor(st.Rdev), err)
	}
	ptn, err := unix.IoctlGetInt(int(master.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatalf("TIOCGPTN on the master: %v", err)
	}
	slave := fmt.Sprintf("/dev/pts/%d", ptn)
	// from the host: the process's stdio is the pty's slave, in its devpts
	for fd := 0; fd < 3; fd++ {
		if l, _ := os.Readlink(fmt.Sprintf("/proc/%d/fd/%d", c.Pid, fd)); l != slave {
			t.Errorf("host: fd %d of the container process is %q, want %s", fd, l, slave)
		}
	}
	// and it is its controlling terminal: tty_nr in stat is 136:ptn
	if stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", c.Pid)); err == nil {
		f := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+2:]))
		if nr, _ := strconv.Atoi(f[4]); nr == 0 {
			t.Errorf("host: the container process has no controlling terminal (tty_nr 0)")
		}
	}
	c.Start()
	if _, err := master.Write([]byte("echo hi; tty; exit\n")); err != nil {
		t.Fatal(err)
	}
	out, err := rpReadAll(master, 10*time.Second)
	if err != nil {
		t.Fatalf("reading the pty: %v (got %q)", err, out)
	}
	if !rpHasLine(out, "hi") || !rpHasLine(out, slave) {
		t.Errorf("pty output %q: want lines hi and %s", out, slave)
	}
	e.WaitStatus(id, "stopped")
}

// TestRPRunTerminal: run with terminal:true and no console socket relays
// the pty itself, even when its stdin is not a terminal.
func TestRPRunTerminal(t *testing.T) {
	t.Parallel()
	e := NewEnv(t)
	b := e.Bundle([]string{"sh", "-c", "tty; echo out; exit 7"}, func(s *specs.Spec) { s.Process.Terminal = true })
	r := e.RunIn("", "run", "-b", b, rpID("runtty"))
	if r.Code != 7 {
		t.Errorf("exit %d, want 7 (stderr %q)", r.Code, r.Stderr)
	}
	if !rpHasLine(r.Stdout, "/dev/pts/0") || !rpHasLine(r.Stdout, "out") {
		t.Errorf("relayed output %q: want lines /dev/pts/0 and out", r.Stdout)
	}
}

// ---- 7. hooks ----

const rpHookScript = `#!/bin/sh
state=$(cat)
status=$(printf '%s' "$state" | sed -n 's/.*"status":"\([a-z]*\)".*/\1/p')
pid=$(printf '%s' "$state" | sed -n 's/.*"pid":\([0-9]*\).*/\1/p')
id=$(printf '%s' "$state" | sed -n 's/.*"id":"\([^"]*\)".*/\1/p')
echo "$1 status=$status pid=$pid id=$id arg2=$2 env=$RPHOOKVAR mnt=$(readlink /proc/self/ns/mnt) uts=$(readlink /proc/self/ns/uts)" >> LOG
case "$1" in *fail*) echo "hook $1 says no" >&2; exit 3;; esac
exit 0
`

// rpHookEntry is one line of the hooks' log.
type rpHookEntry struct {
	Stage                 string
	Status, Pid, ID, Arg2 string
	Env, Mnt, Uts         string
}

func rpHookLog(t *testing.T, path string) []rpHookEntry {
	t.Helper()
	b, _ := os.ReadFile(path)
	var out []rpHookEntry
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		f := strings.Fields(l)
		if len(f) == 0 {
			continue
		}
		kv := map[string]string{}
		for _, x := range f[1:] {
			if k, v, ok := strings.Cut(x, "="); ok {
				kv[k] = v
			}
		}
		out = append(out, rpHookEntry{Stage: f[0], Status: kv["status"], Pid: kv["pid"], ID: kv["id"], Arg2: kv["arg2"],
			Env: kv["env"], Mnt: kv["mnt"], Uts: kv["uts"]})
	}
	return out
}

func rpStages(es []rpHookEntry) []string {
	var out []string
	for _, e := range es {
		out = append(out, e.Stage)
	}
	return out
}

// rpHooks is the hook script, on the host and in the rootfs, both logging
// to the same file (the log directory is bound into the container at the
// same path).
type rpHooks struct {
	HostScript, CtrScript, Log string
}

func rpSetupHooks(t *testing.T, e *Env, rootfs string) rpHooks {
	t.Helper()
	logDir := rpMkdir(t, filepath.Join(e.Dir, "hooklog"))
	h := rpHooks{HostScript: filepath.Join(e.Dir, "rphook.sh"), CtrScript: "/rphook.sh", Log: filepath.Join(logDir, "log")}
	script := strings.Replace(rpHookScript, "LOG", h.Log, 1)
	rpWrite(t, h.HostScript, script, 0o755)
	if rootfs != "" {
		rpWrite(t, filepath.Join(rootfs, h.CtrScript), script, 0o755)
	}
	return h
}

func (h rpHooks) hook(stage string, inContainer bool) specs.Hook {
	p := h.HostScript
	if inContainer {
		p = h.CtrScript
	}
	return specs.Hook{Path: p, Args: []string{"rphook", stage, "extra"},
		Env: []string{"RPHOOKVAR=v-" + stage, "PATH=/usr/sbin:/usr/bin:/sbin:/bin"}}
}

// rpHookBundle builds a bundle whose config has the hooks set by add, with
// the log directory bound at its own path inside; LOG in args is the log.
func rpHookBundle(t *testing.T, e *Env, args []string, add func(h rpHooks, hk *specs.Hooks)) (string, rpHooks) {
	t.Helper()
	var h rpHooks
	b := e.Bundle(args, nil)
	rootfs := filepath.Join(b, "rootfs")
	h = rpSetupHooks(t, e, rootfs)
	data, err := os.ReadFile(filepath.Join(b, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	var s specs.Spec
	if err := json.Unmarshal(data, &s); err != nil {
		t.Fatal(err)
	}
	s.Hooks = &specs.Hooks{}
	add(h, s.Hooks)
	for i, a := range s.Process.Args {
		s.Process.Args[i] = strings.ReplaceAll(a, "LOG", h.Log)
	}
	logDir := filepath.Dir(h.Log)
	s.Mounts = append(s.Mounts, specs.Mount{Destination: logDir, Type: "bind", Source: logDir, Options: []string{"bind"}})
	data, _ = json.MarshalIndent(&s, "", "\t")
	if err := os.WriteFile(filepath.Join(b, "config.json"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	return b, h
}

// TestRPHooksLifecycle: every stage runs, in order, with the state on
// stdin, its args and env, in the right namespaces; createContainer's
// path is found in the runtime's filesystem (before pivot_root, as runc
// does) and startContainer's inside the container.
func TestRPHooksLifecycle(t *testing.T) {
	t.Parallel()
	e := NewEnv(t)
	if _, err := os.Stat("/rphook.sh"); err == nil {
		t.Skip("/rphook.sh exists on the host: cannot tell where the startContainer hook is found")
	}
	b, h := rpHookBundle(t, e, []string{"sh", "-c", "echo payload >> LOG"}, func(h rpHooks, hk *specs.Hooks) {
		hk.Prestart = []specs.Hook{h.hook("prestart", false)}
		hk.CreateRuntime = []specs.Hook{h.hook("createRuntime", false)}
		hk.CreateContainer = []specs.Hook{h.hook("createContainer", false)}
		hk.StartContainer = []specs.Hook{h.hook("startContainer", true)}
		hk.Poststart = []specs.Hook{h.hook("poststart", false)}
		hk.Poststop = []specs.Hook{h.hook("poststop", false)}
	})
	if _, err := os.Stat(filepath.Join(b, "rootfs", h.HostScript)); err == nil {
		t.Fatal("the host hook script is in the rootfs too: the test could not tell")
	}
	id := rpID("hooks")
	c := rpCreate(t, e, b, id)
	ctrMnt, ctrUts := NsInode(t, c.Pid, "mnt"), NsInode(t, c.Pid, "uts")
	hostMnt, hostUts := NsInode(t, "self", "mnt"), NsInode(t, "self", "uts")
	if got := rpStages(rpHookLog(t, h.Log)); strings.Join(got, ",") != "prestart,createRuntime,createContainer" {
		t.Errorf("after create the hooks ran: %v", got)
	}
	c.Start()
	e.WaitStatus(id, "stopped")
	if r := e.Run("delete", id); r.Code != 0 {
		t.Fatalf("delete: %d %s", r.Code, r.Stderr)
	}
	log := rpHookLog(t, h.Log)
	var hooks []rpHookEntry
	payloadAt := -1
	for i, l := range log {
		if l.Stage == "payload" {
			payloadAt = i
			continue
		}
		hooks = append(hooks, l)
	}
	want := []string{"prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"}
	if strings.Join(rpStages(hooks), ",") != strings.Join(want, ",") {
		t.Fatalf("hooks ran as %v, want %v", rpStages(hooks), want)
	}
	if payloadAt < 0 || rpStages(log)[payloadAt-1] != "startContainer" && rpStages(log)[payloadAt-1] != "poststart" {
		t.Errorf("the payload did not run right after startContainer: %v", rpStages(log))
	}
	pid := strconv.Itoa(c.Pid)
	for _, l := range hooks {
		if l.ID != id {
			t.Errorf("%s: state id %q, want %q", l.Stage, l.ID, id)
		}
		if l.Arg2 != "extra" || l.Env != "v-"+l.Stage {
			t.Errorf("%s: args/env not passed: arg2=%q env=%q", l.Stage, l.Arg2, l.Env)
		}
		// runtime.md lifecycle: hooks of steps 3-5 and 7 run after create's
		// step 2 and before the program (step 8): "created"
		wantStatus := map[string]string{"prestart": "created", "createRuntime": "created", "createContainer": "created",
			"startContainer": "created", "poststart": "running", "poststop": "stopped"}[l.Stage]
		if l.Status != wantStatus {
			t.Errorf("%s: state status %q, want %q", l.Stage, l.Status, wantStatus)
		}
		if l.Stage != "poststop" && l.Pid != pid {
			t.Errorf("%s: state pid %q, want %s", l.Stage, l.Pid, pid)
		}
		inCtr := l.Stage == "createContainer" || l.Stage == "startContainer"
		if inCtr && (l.Mnt != ctrMnt || l.Uts != ctrUts) {
			t.Errorf("%s ran in mnt %s uts %s, want the container's %s %s", l.Stage, l.Mnt, l.Uts, ctrMnt, ctrUts)
		}
		if !inCtr && (l.Mnt != hostMnt || l.Uts != hostUts) {
			t.Errorf("%s ran in mnt %s uts %s, want the runtime's %s %s", l.Stage, l.Mnt, l.Uts, hostMnt, hostUts)
		}
	}
}

// rpOneLineError checks a hook failure is reported on one line and without
// an errno that did not happen (the hook's exit status is not ECHILD).
func rpOneLineError(t *testing.T, stderr string) {
	t.Helper()
	if strings.Count(strings.TrimSpace(stderr), "\n") != 0 || strings.Contains(stderr, "no child processes") {
		t.Errorf("hook failure badly worded (several lines, or a bogus ECHILD):\n%s", stderr)
	}
}

// TestRPHookFailures: a failing prestart, createRuntime or createContainer
// hook fails create with nothing left; a failing startContainer hook fails
// start before the payload runs; a failing poststart hook fails start and
// stops the container; a failing poststop hook is only a warning and the
// hooks after it still run.
func TestRPHookFailures(t *testing.T) {
	t.Parallel()
	for _, stage := range []string{"prestart", "createRuntime", "createContainer"} {
		stage := stage
		t.Run(stage, func(t *testing.T) {
			t.Parallel()
			e := NewEnv(t)
			b, h := rpHookBundle(t, e, []string{"true"}, func(h rpHooks, hk *specs.Hooks) {
				bad := []specs.Hook{h.hook(stage+"-fail", false)}
				switch stage {
				case "prestart":
					hk.Prestart = bad
				case "createRuntime":
					hk.CreateRuntime = bad
				case "createContainer":
					hk.CreateContainer = bad
				}
				hk.Poststop = []specs.Hook{h.hook("poststop", false)}
			})
			id := rpID("hookfail")
			r := e.Run("create", "-b", b, id)
			if r.Code == 0 {
				t.Fatalf("create succeeded despite a failing %s hook", stage)
			}
			rpMustContain(t, "create error", r.Stderr, "hooks."+stage+"[0]", "hook "+stage+"-fail says no")
			rpOneLineError(t, r.Stderr)
			log := rpHookLog(t, h.Log)
			if len(log) != 1 || log[0].Stage != stage+"-fail" || log[0].ID != id {
				t.Fatalf("hook log %+v, want only %s-fail", log, stage)
			}
			pid, _ := strconv.Atoi(log[0].Pid)
			if pid <= 0 {
				t.Fatalf("the hook saw no pid: %+v", log[0])
			}
			rpNoLeftovers(t, e, id, pid)
		})
	}
	t.Run("startContainer", func(t *testing.T) {
		t.Parallel()
		e := NewEnv(t)
		b, h := rpHookBundle(t, e, []string{"sh", "-c", "echo payload-ran"}, func(h rpHooks, hk *specs.Hooks) {
			hk.StartContainer = []specs.Hook{h.hook("startContainer-fail", true)}
		})
		id := rpID("hookfail-start")
		c := rpCreate(t, e, b, id)
		r := e.Run("start", id)
		if r.Code == 0 {
			t.Fatal("start succeeded despite a failing startContainer hook")
		}
		rpMustContain(t, "start error", r.Stderr, "hooks.startContainer[0]", "hook startContainer-fail says no")
		rpOneLineError(t, r.Stderr)
		if st := e.Status(id); st != "stopped" {
			t.Errorf("after a failed start the container is %s, want stopped", st)
		}
		if strings.Contains(c.Output(), "payload-ran") {
			t.Errorf("the payload ran despite the failing startContainer hook")
		}
		if !rpGone(c.Pid) {
			t.Errorf("the container process %d still runs", c.Pid)
		}
		if got := rpStages(rpHookLog(t, h.Log)); strings.Join(got, ",") != "startContainer-fail" {
			t.Errorf("hook log %v", got)
		}
	})
	t.Run("poststart-poststop", func(t *testing.T) {
		t.Parallel()
		e := NewEnv(t)
		b, h := rpHookBundle(t, e, []string{"sh", "-c", "echo payload-ran; exec sleep 100"}, func(h rpHooks, hk *specs.Hooks) {
			hk.Poststart = []specs.Hook{h.hook("poststart-fail", false), h.hook("poststart2", false)}
			hk.Poststop = []specs.Hook{h.hook("poststop-fail", false), h.hook("poststop2", false)}
		})
		id := rpID("hookfail-post")
		c := rpCreate(t, e, b, id)
		// runtime-spec 1.3.0, lifecycle step 9: "If any poststart hook
		// fails, the runtime MUST generate an error, stop the container,
		// and continue the lifecycle at step 12" (its destruction)
		r := e.Run("start", id)
		if r.Code == 0 {
			t.Fatalf("start succeeded despite a failing poststart hook")
		}
		rpMustContain(t, "start error", r.Stderr, "hooks.poststart[0]", "hook poststart-fail says no")
		c.WaitOutput("payload-ran")
		e.WaitStatus(id, "stopped")
		if !rpGone(c.Pid) {
			t.Errorf("the container process %d still runs after the failed poststart", c.Pid)
		}
		// step 13: "If any poststop hook fails, the runtime MUST log a
		// warning, but the remaining hooks and lifecycle continue"
		r = e.Run("delete", id)
		if r.Code != 0 {
			t.Fatalf("delete failed on a failing poststop hook: %s", r.Stderr)
		}
		rpMustContain(t, "delete warning", r.Stderr, "hooks.poststop[0]", "hook poststop-fail says no")
		if _, err := os.Stat(filepath.Join(e.Root, id)); !os.IsNotExist(err) {
			t.Errorf("state left after delete: %v", err)
		}
		got := strings.Join(rpStages(rpHookLog(t, h.Log)), ",")
		if got != "poststart-fail,poststop-fail,poststop2" {
			t.Errorf("hooks ran as %s, want poststart-fail,poststop-fail,poststop2", got)
		}
	})
}

// TestRPHookTimeout: a hook that outlives its timeout is killed and fails
// create, promptly, with nothing left; in the runtime (createRuntime) and
// in the container (createContainer). The hook's shell runs sleep as a
// child that keeps the hook's output open.
func TestRPHookTimeout(t *testing.T) {
	t.Parallel()
	for _, stage := range []string{"createRuntime", "createContainer"} {
		stage := stage
		t.Run(stage, func(t *testing.T) {
			t.Parallel()
			e := NewEnv(t)
			slow := filepath.Join(e.Dir, "slow.sh")
			rpWrite(t, slow, "#!/bin/sh\necho started\nsleep 5\necho done\n", 0o755)
			one := 1
			b, _ := rpHookBundle(t, e, []string{"true"}, func(h rpHooks, hk *specs.Hooks) {
				hook := []specs.Hook{{Path: slow, Timeout: &one}}
				if stage == "createRuntime" {
					hk.CreateRuntime = hook
				} else {
					hk.CreateContainer = hook
				}
			})
			id := rpID("hooktimeout")
			start := time.Now()
			r := e.Run("create", "-b", b, id)
			took := time.Since(start)
			if r.Code == 0 {
				t.Fatalf("create succeeded despite a hook over its timeout")
			}
			rpMustContain(t, "create error", r.Stderr, "hooks."+stage+"[0]", "timed out")
			if took > 3500*time.Millisecond {
				t.Errorf("create took %v to fail on a hook with a 1s timeout", took)
			}
			rpNoLeftovers(t, e, id)
		})
	}
}

// ---- 8. security: the executor's binary, fds ----

// TestRPExecutorView: while created, the container process runs a
// read-only view of oci-rt (CVE-2019-5736): /proc/<pid>/exe points into
// /run/oci-rt-exe, opening it for write fails with EROFS, and the process
// is not dumpable (its /proc/<pid>/environ belongs to root although it
// runs as uid 1000; once the payload runs it belongs to 1000).
func TestRPExecutorView(t *testing.T) {
	t.Parallel()
	e := NewEnv(t)
	b := e.Bundle([]string{"sh", "-c", "echo END; sleep 60; echo x"}, func(s *specs.Spec) {
		s.Process.User = specs.User{UID: 1000, GID: 1000}
	})
	c := rpCreate(t, e, b, rpID("exe"))
	exeLink := fmt.Sprintf("/proc/%d/exe", c.Pid)
	exe, err := os.Readlink(exeLink)
	if err != nil || !strings.HasPrefix(exe, "/run/oci-rt-exe/") {
		t.Errorf("created: %s -> %q (%v), want the read-only view under /run/oci-rt-exe/", exeLink, exe, err)
	}
	// O_TRUNC makes the kernel check the mount is writable before it
	// checks the file is being executed: EROFS from a read-only view,
	// ETXTBSY (and no truncation, the file runs) from a writable one.
	for _, p := range []string{exeLink, exe} {
		f, err := os.OpenFile(p, os.O_WRONLY|os.O_TRUNC, 0)
		if err == nil {
			f.Close()
			t.Errorf("opened %s for writing", p)
		} else if !errors.Is(err, unix.EROFS) {
			t.Errorf("open %s for writing: %v, want EROFS", p, err)
		}
	}
	var fs unix.Statfs_t
	if err := unix.Statfs(exeLink, &fs); err != nil || fs.Flags&unix.ST_RDONLY == 0 {
		t.Errorf("statfs %s: flags %#x err %v, want a read-only mount", exeLink, fs.Flags, err)
	}
	if got := rpStatus(t, c.Pid, "Uid"); got != "1000 1000 1000 1000" {
		t.Fatalf("created: Uid %q, want 1000", got)
	}
	// /proc/<pid>/environ of a non-dumpable process belongs to root
	var st unix.Stat_t
	if err := unix.Stat(fmt.Sprintf("/proc/%d/environ", c.Pid), &st); err != nil || st.Uid != 0 {
		t.Errorf("created: /proc/<pid>/environ owned by %d (%v), want 0: the executor is dumpable", st.Uid, err)
	}
	// and a process of the same uid outside cannot read its memory
	// (environ needs ptrace read access)
	readAs1000 := func() error {
		cmd := exec.Command("setpriv", "--reuid", "1000", "--regid", "1000", "--clear-groups",
			"cat", fmt.Sprintf("/proc/%d/environ", c.Pid))
		out, err := cmd.CombinedOutput()
		if err != nil {
			return fmt.Errorf("%v: %s", err, out)
		}
		return nil
	}
	_, errSetpriv := exec.LookPath("setpriv")
	if errSetpriv == nil {
		if err := readAs1000(); err == nil {
			t.Errorf("created: uid 1000 on the host read /proc/<pid>/environ of the executor")
		}
	}
	c.Start()
	c.WaitOutput("END")
	if errSetpriv == nil {
		if err := readAs1000(); err != nil {
			t.Errorf("running: uid 1000 on the host cannot read /proc/<pid>/environ of its own payload: %v", err)
		}
	}
	if exe, _ := os.Readlink(exeLink); exe != "/bin/busybox" {
		t.Errorf("running: %s -> %q, want /bin/busybox", exeLink, exe)
	}
	if err := unix.Stat(fmt.Sprintf("/proc/%d/environ", c.Pid), &st); err != nil || st.Uid != 1000 {
		t.Errorf("running: /proc/<pid>/environ owned by %d (%v), want 1000 (dumpable again after execve)", st.Uid, err)
	}
}

func rpFdsOf(t *testing.T, pid int) []string {
	t.Helper()
	ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		out = append(out, e.Name())
	}
	sort.Slice(out, func(i, j int) bool { a, _ := strconv.Atoi(out[i]); b, _ := strconv.Atoi(out[j]); return a < b })
	return out
}

// rpInsideFds parses `ls -l /proc/self/fd` run inside: the fds, without
// the one ls opened to read the directory.
func rpInsideFds(listing string) []string {
	var out []string
	for _, l := range strings.Split(listing, "\n") {
		f := strings.Fields(l)
		if len(f) < 3 || f[len(f)-2] != "->" {
			continue
		}
		if strings.HasPrefix(f[len(f)-1], "/proc/") && strings.HasSuffix(f[len(f)-1], "/fd") {
			continue // ls's own
		}
		out = append(out, f[len(f)-3])
	}
	return out
}

// TestRPFds: the payload has only 0, 1 and 2 open; with --preserve-fds 2
// the two files passed as 3 and 4 are there too, and usable.
func TestRPFds(t *testing.T) {
	t.Parallel()
	t.Run("default", func(t *testing.T) {
		t.Parallel()
		e := NewEnv(t)
		b := e.Bundle([]string{"sh", "-c", "echo ==fds==; ls -l /proc/self/fd; echo ==; echo END; sleep 60; echo x"}, nil)
		c := rpCreate(t, e, b, rpID("fds"))
		c.Start()
		out := c.WaitOutput("END")
		if got := rpInsideFds(rpSection(out, "fds")); strings.Join(got, ",") != "0,1,2" {
			t.Errorf("inside: fds %v, want 0,1,2\n%s", got, rpSection(out, "fds"))
		}
		if got := rpFdsOf(t, c.Pid); strings.Join(got, ",") != "0,1,2" {
			t.Errorf("host: /proc/<pid>/fd %v, want 0,1,2", got)
		}
	})
	t.Run("preserve-fds", func(t *testing.T) {
		t.Parallel()
		e := NewEnv(t)
		in := filepath.Join(e.Dir, "in.txt")
		rpWrite(t, in, "from-fd3\n", 0o644)
		outPath := filepath.Join(e.Dir, "out.txt")
		f3, err := os.Open(in)
		if err != nil {
			t.Fatal(err)
		}
		defer f3.Close()
		f4, err := os.Create(outPath)
		if err != nil {
			t.Fatal(err)
		}
		defer f4.Close()
		b := e.Bundle([]string{"sh", "-c", "cat <&3; echo to-fd4 >&4; echo ==fds==; ls -l /proc/self/fd; echo ==; echo END; sleep 60; echo x"}, nil)
		id := rpID("preserve")
		c, r := rpCreateCmd(t, e, b, id, []*os.File{f3, f4}, "--preserve-fds", "2")
		if r.Code != 0 {
			t.Fatalf("create --preserve-fds 2: %s", r.Stderr)
		}
		c.Pid = e.Pid(id)
		c.Start()
		out := c.WaitOutput("END")
		rpMustContain(t, "inside: read fd 3", out, "from-fd3\n")
		if got := rpInsideFds(rpSection(out, "fds")); strings.Join(got, ",") != "0,1,2,3,4" {
			t.Errorf("inside: fds %v, want 0,1,2,3,4\n%s", got, rpSection(out, "fds"))
		}
		if got := rpFdsOf(t, c.Pid); strings.Join(got, ",") != "0,1,2,3,4" {
			t.Errorf("host: /proc/<pid>/fd %v, want 0,1,2,3,4", got)
		}
		for fd, want := range map[int]string{3: in, 4: outPath} {
			if l, _ := os.Readlink(fmt.Sprintf("/proc/%d/fd/%d", c.Pid, fd)); l != want {
				t.Errorf("host: fd %d of the container is %q, want %s", fd, l, want)
			}
		}
		if b, _ := os.ReadFile(outPath); string(b) != "to-fd4\n" {
			t.Errorf("host: what the container wrote to fd 4: %q", b)
		}
	})
}

// ---- 9. cgroups ----

// rpOwnCgroup returns this process's cgroup in the v1 hierarchy with ctl.
func rpOwnCgroup(t *testing.T, ctl string) string {
	t.Helper()
	b, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		t.Fatal(err)
	}
	want := ctl // the hierarchy's key in /proc/self/cgroup
	switch ctl {
	case "systemd":
		want = "name=systemd"
	case "unified":
		want = ""
	}
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.SplitN(l, ":", 3)
		if len(f) == 3 {
			for _, c := range strings.Split(f[1], ",") {
				if c == want {
					return f[2]
				}
			}
		}
	}
	t.Errorf("no %s hierarchy in %s", ctl, b)
	return "/"
}

// TestRPCgroups: linux.resources are written to the container's cgroup
// (default, relative and absolute linux.cgroupsPath), the process is in
// it, the container sees its own cgroup as / (cgroup namespace) with its
// limits, and delete removes it.
func TestRPCgroups(t *testing.T) {
	t.Parallel()
	if _, err := os.Stat("/sys/fs/cgroup/memory/memory.limit_in_bytes"); err != nil {
		t.Skip("needs cgroup v1 with the memory controller")
	}
	for _, kind := range []string{"default", "relative", "absolute"} {
		kind := kind
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			e := NewEnv(t)
			id := rpID("cg-" + kind)
			var cgPath string
			switch kind {
			case "relative":
				cgPath = id + "-parent/ctr"
			case "absolute":
				cgPath = "/" + id + "-parent/ctr"
			}
			// where each controller's directory must be
			dirOf := func(ctl string) string {
				switch kind {
				case "default":
					return filepath.Join("/sys/fs/cgroup", ctl, "oci-rt", id)
				case "relative":
					return filepath.Join("/sys/fs/cgroup", ctl, rpOwnCgroup(t, ctl), cgPath)
				}
				return filepath.Join("/sys/fs/cgroup", ctl, cgPath)
			}
			if kind != "default" {
				t.Cleanup(func() {
					// every hierarchy the container got (the named and the
					// unified ones too)
					for _, ctl := range []string{"memory", "pids", "cpu", "cpuacct", "cpuset", "devices", "freezer", "blkio", "systemd", "unified"} {
						os.Remove(filepath.Dir(dirOf(ctl)))
					}
				})
			}
			script := `echo ==cgroup==
cat /proc/self/cgroup
echo ==
echo "mem=$(cat /sys/fs/cgroup/memory/memory.limit_in_bytes)"
echo "pids=$(cat /sys/fs/cgroup/pids/pids.max)"
echo "shares=$(cat /sys/fs/cgroup/cpu/cpu.shares)"
echo ==procs==
cat /sys/fs/cgroup/pids/cgroup.procs
echo ==
echo END
sleep 60; echo x`
			b := e.Bundle([]string{"sh", "-c", script}, func(s *specs.Spec) {
				limit, pids, shares := int64(64<<20), int64(42), uint64(512)
				s.Linux.Resources.Memory = &specs.LinuxMemory{Limit: &limit}
				s.Linux.Resources.Pids = &specs.LinuxPids{Limit: &pids}
				s.Linux.Resources.CPU = &specs.LinuxCPU{Shares: &shares}
				s.Linux.CgroupsPath = cgPath
			})
			c := rpCreate(t, e, b, id)
			files := map[string]string{"memory/memory.limit_in_bytes": "67108864", "pids/pids.max": "42", "cpu/cpu.shares": "512"}
			for f, want := range files {
				ctl, name, _ := strings.Cut(f, "/")
				got, err := os.ReadFile(filepath.Join(dirOf(ctl), name))
				if err != nil || strings.TrimSpace(string(got)) != want {
					t.Errorf("host: %s: %q %v, want %s", filepath.Join(dirOf(ctl), name), got, err, want)
				}
			}
			for _, ctl := range []string{"memory", "pids", "cpu", "freezer"} {
				procs, _ := os.ReadFile(filepath.Join(dirOf(ctl), "cgroup.procs"))
				if !rpHasLine(string(procs), strconv.Itoa(c.Pid)) {
					t.Errorf("host: %s/cgroup.procs %q lacks the container's pid %d", dirOf(ctl), procs, c.Pid)
				}
			}
			c.Start()
			out := c.WaitOutput("END")
			if !rpHasLine(rpSection(out, "procs"), "1") {
				t.Errorf("inside: the container's own pids/cgroup.procs lacks its pid 1:\n%s", rpSection(out, "procs"))
			}
			for k, v := range map[string]string{"mem": "67108864", "pids": "42", "shares": "512"} {
				if got := rpKV(out, k); got != v {
					t.Errorf("inside: %s=%q, want %q", k, got, v)
				}
			}
			for _, l := range strings.Split(strings.TrimSpace(rpSection(out, "cgroup")), "\n") {
				if !strings.HasSuffix(l, ":/") {
					t.Errorf("inside: /proc/self/cgroup line %q: the cgroup namespace should show /", l)
				}
			}
			e.MustRun("kill", c.ID, "KILL")
			e.WaitStatus(c.ID, "stopped")
			e.MustRun("delete", c.ID)
			for _, ctl := range []string{"memory", "pids", "cpu", "freezer", "devices"} {
				if _, err := os.Stat(dirOf(ctl)); !os.IsNotExist(err) {
					t.Errorf("after delete: %s still exists (%v)", dirOf(ctl), err)
				}
			}
		})
	}
}
