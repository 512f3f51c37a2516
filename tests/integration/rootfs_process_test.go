package integration

// Tests of the filesystem and process set-up: mounts and propagation,
// masked and read-only paths, /dev, sysctls, the process (user, env,
// capabilities, limits), terminals, hooks, the executor's protection, fds
// and cgroups. Each checks what the payload sees and what the host sees.

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// ---- helpers (prefixed rp: rootfs/process) ----

var rpSeq atomic.Int64

// rpID makes a container id unique across concurrent test runs: default
// cgroups (/oci-rt/<id>) are shared by every --root.
func rpID(name string) string {
	return fmt.Sprintf("rp-%s-%d-%d", name, os.Getpid(), rpSeq.Add(1))
}

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
		if strings.HasPrefix(l, "==") && strings.HasSuffix(l, "==") && len(l) > 4 {
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

// rpNoLeftovers checks a failed create left no state, no cgroup and no
// process behind.
func rpNoLeftovers(t *testing.T, e *Env, id string) {
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
	if pids := rpPidsWithEnvOrArg(id); len(pids) > 0 {
		t.Errorf("processes of %s left: %v", id, pids)
	}
}

// rpPidsWithEnvOrArg lists processes whose command line mentions s.
func rpPidsWithEnvOrArg(s string) []int {
	var out []int
	ents, _ := os.ReadDir("/proc")
	for _, ent := range ents {
		pid, err := strconv.Atoi(ent.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		b, err := os.ReadFile("/proc/" + ent.Name() + "/cmdline")
		if err == nil && strings.Contains(string(b), s) {
			out = append(out, pid)
		}
	}
	return out
}

func rpUint32(v uint32) *uint32 { return &v }

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
var _ = []interface{}{bufio.NewReader, json.Marshal, io.EOF, net.Dial} // TEMP
