package integration

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// nsProcNames maps each namespace type to its /proc/<pid>/ns entry.
var nsProcNames = map[specs.LinuxNamespaceType]string{
	specs.MountNamespace:   "mnt",
	specs.UTSNamespace:     "uts",
	specs.IPCNamespace:     "ipc",
	specs.PIDNamespace:     "pid",
	specs.NetworkNamespace: "net",
	specs.UserNamespace:    "user",
	specs.CgroupNamespace:  "cgroup",
	specs.TimeNamespace:    "time",
}

// nsHostID is where uid and gid 0 of the user namespaces made here start.
const nsHostID = 100000

// nsEnd marks the end of a payload's report, before it sleeps.
const nsEnd = "__NS_END__"

// nsCreate runs `oci-rt create` with the payload's stdout and stderr in
// files (a pipe would be held open by the waiting container) and the
// bundle as working directory, so that a process left behind by a failed
// create is recognisable by its cwd. The Result's Stdout is the create
// command's own output.
func nsCreate(e *Env, bundle, id string, extra ...string) Result {
	e.t.Helper()
	out, err := os.Create(nsOutPath(e, id))
	if err != nil {
		e.t.Fatal(err)
	}
	defer out.Close()
	errf, err := os.Create(filepath.Join(e.Dir, id+".create-stderr"))
	if err != nil {
		e.t.Fatal(err)
	}
	defer errf.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	args := append([]string{"--root", e.Root, "create", "-b", bundle}, extra...)
	cmd := exec.CommandContext(ctx, binary, append(args, id)...)
	cmd.Dir = bundle
	cmd.Stdout, cmd.Stderr = out, errf
	runErr := cmd.Run()
	code := 0
	if ee, ok := runErr.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if runErr != nil {
		e.t.Fatalf("create %s: %v", id, runErr)
	}
	if ctx.Err() != nil {
		e.t.Fatalf("create %s timed out", id)
	}
	stderr, _ := os.ReadFile(errf.Name())
	stdout, _ := os.ReadFile(out.Name())
	return Result{Stdout: string(stdout), Stderr: string(stderr), Code: code}
}

func nsOutPath(e *Env, id string) string { return filepath.Join(e.Dir, id+".out") }

// nsMustCreate creates the container and returns its host pid.
func nsMustCreate(e *Env, bundle, id string) int {
	e.t.Helper()
	r := nsCreate(e, bundle, id)
	if r.Code != 0 {
		e.t.Fatalf("create %s: exit %d: %s", id, r.Code, r.Stderr)
	}
	if st := e.Status(id); st != "created" {
		e.t.Fatalf("container %s is %s after create", id, st)
	}
	pid := e.Pid(id)
	if pid <= 0 {
		e.t.Fatalf("container %s: no pid in state", id)
	}
	return pid
}

// nsOutput waits until the payload wrote nsEnd and returns what it wrote
// before it.
func nsOutput(e *Env, id string) string {
	e.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		b, _ := os.ReadFile(nsOutPath(e, id))
		if i := bytes.Index(b, []byte(nsEnd)); i >= 0 {
			return string(b[:i])
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("container %s never finished its report; output so far: %q", id, b)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// nsCreateStartReport creates and starts the container and returns its
// report (nsOutput).
func nsCreateStartReport(e *Env, bundle, id string) string {
	e.t.Helper()
	nsMustCreate(e, bundle, id)
	e.MustRun("start", id)
	return nsOutput(e, id)
}

// nsReport wraps shell commands into a payload that reports, then sleeps
// (exec, so that the container's pid stays the same process).
func nsReport(script string) []string {
	return []string{"sh", "-c", script + "\necho " + nsEnd + "\nexec sleep 100"}
}

// nsField returns the value of "key value..." lines of the payload's output.
func nsField(t *testing.T, out, key string) string {
	t.Helper()
	for _, l := range strings.Split(out, "\n") {
		if f := strings.Fields(l); len(f) > 0 && f[0] == key {
			return strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(l), key))
		}
	}
	t.Fatalf("no %q line in output:\n%s", key, out)
	return ""
}

// nsSet replaces (or adds) the namespace of type typ; path "" means new.
func nsSet(s *specs.Spec, typ specs.LinuxNamespaceType, path string) {
	for i := range s.Linux.Namespaces {
		if s.Linux.Namespaces[i].Type == typ {
			s.Linux.Namespaces[i].Path = path
			return
		}
	}
	s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: typ, Path: path})
}

// nsRemove drops the namespace of type typ.
func nsRemove(s *specs.Spec, typ specs.LinuxNamespaceType) {
	var keep []specs.LinuxNamespace
	for _, n := range s.Linux.Namespaces {
		if n.Type != typ {
			keep = append(keep, n)
		}
	}
	s.Linux.Namespaces = keep
}

// nsMappings maps 0..65535 in the container to nsHostID.. on the host.
func nsMappings() []specs.LinuxIDMapping {
	return []specs.LinuxIDMapping{{ContainerID: 0, HostID: nsHostID, Size: 65536}}
}

// nsAddUserns gives the spec a new user namespace mapping 0 to nsHostID.
func nsAddUserns(s *specs.Spec) {
	nsSet(s, specs.UserNamespace, "")
	s.Linux.UIDMappings = nsMappings()
	s.Linux.GIDMappings = nsMappings()
}

// nsPrepareUserns makes a bundle usable by a container whose root is
// nsHostID on the host: its rootfs is chowned to nsHostID, and the test's
// temporary directories (0700, root's) become traversable, since root in
// the user namespace has no privilege over the host's root-owned files.
func nsPrepareUserns(t *testing.T, e *Env, bundle string) {
	t.Helper()
	for _, d := range []string{filepath.Dir(e.Dir), e.Dir, bundle} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	err := filepath.WalkDir(filepath.Join(bundle, "rootfs"), func(p string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, nsHostID, nsHostID)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// nsStatusField returns a field of /proc/<pid>/status, e.g. "Uid".
func nsStatusField(t *testing.T, pid int, key string) []string {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, key+":") {
			return strings.Fields(strings.TrimPrefix(l, key+":"))
		}
	}
	t.Fatalf("no %s in /proc/%d/status", key, pid)
	return nil
}

// nsNetDevs lists the interface names in a /proc/net/dev text.
func nsNetDevs(text string) []string {
	var devs []string
	for _, l := range strings.Split(text, "\n") {
		if i := strings.Index(l, ":"); i > 0 && !strings.Contains(l, "|") {
			devs = append(devs, strings.TrimSpace(l[:i]))
		}
	}
	return devs
}

// nsUptime reads the first number of /proc/uptime.
func nsUptime(t *testing.T, text string) float64 {
	t.Helper()
	f := strings.Fields(text)
	if len(f) == 0 {
		t.Fatalf("bad uptime %q", text)
	}
	v, err := strconv.ParseFloat(f[0], 64)
	if err != nil {
		t.Fatalf("bad uptime %q: %v", text, err)
	}
	return v
}

// nsHostUptime reads the test process's /proc/uptime.
func nsHostUptime(t *testing.T) float64 {
	t.Helper()
	b, err := os.ReadFile("/proc/uptime")
	if err != nil {
		t.Fatal(err)
	}
	return nsUptime(t, string(b))
}

// nsSameFile tells whether two stat results name the same inode.
func nsSameFile(a, b *unix.Stat_t) bool { return a.Dev == b.Dev && a.Ino == b.Ino }

// nsAssertNothingLeft checks what a failed create must not leave: the
// container in `list -q` (when alone must be true: nothing at all), its
// state directory, its cgroup, and any process whose cwd or root is the
// bundle or its rootfs.
func nsAssertNothingLeft(t *testing.T, e *Env, id, bundle string, alone bool) {
	t.Helper()
	r := e.MustRun("list", "-q")
	ids := strings.Fields(r.Stdout)
	if alone && len(ids) != 0 {
		t.Errorf("list -q after a failed create: %q, want nothing", r.Stdout)
	}
	for _, x := range ids {
		if x == id {
			t.Errorf("list -q still shows %s", id)
		}
	}
	if _, err := os.Lstat(filepath.Join(e.Root, id)); err == nil {
		t.Errorf("state directory %s left behind", filepath.Join(e.Root, id))
	}
	for _, c := range []string{"memory", "pids", "devices", "unified"} {
		d := filepath.Join("/sys/fs/cgroup", c, "oci-rt", id)
		if _, err := os.Lstat(d); err == nil {
			t.Errorf("cgroup %s left behind", d)
		}
	}
	var marks []unix.Stat_t
	for _, p := range []string{bundle, filepath.Join(bundle, "rootfs")} {
		var st unix.Stat_t
		if err := unix.Stat(p, &st); err != nil {
			t.Fatal(err)
		}
		marks = append(marks, st)
	}
	procs, _ := filepath.Glob("/proc/[0-9]*")
	for _, p := range procs {
		for _, link := range []string{"cwd", "root"} {
			var st unix.Stat_t
			if unix.Stat(filepath.Join(p, link), &st) != nil {
				continue
			}
			for _, m := range marks {
				if nsSameFile(&st, &m) {
					cmdline, _ := os.ReadFile(filepath.Join(p, "cmdline"))
					t.Errorf("process %s (%q) left behind with %s in the bundle",
						filepath.Base(p), bytes.ReplaceAll(cmdline, []byte{0}, []byte{' '}), link)
				}
			}
		}
	}
}

// nsInsideScript prints, for every namespace, "ns-<name> <readlink>".
const nsInsideScript = `for n in mnt uts ipc pid net user cgroup time; do echo ns-$n $(readlink /proc/self/ns/$n); done
echo pid $$
echo hostname $(hostname)
echo uidmap $(cat /proc/self/uid_map)
echo cgroup $(grep ':memory:' /proc/self/cgroup)
echo netdev $(cat /proc/net/dev | sed -n '3,$p' | cut -d: -f1)
echo shm $(cat /proc/sysvipc/shm | sed -n '2,$p' | awk '{print $1}')
echo uptime $(cat /proc/uptime)`

// TestNamespacesNewOrHost creates a container with each namespace type new
// and left out, and compares its namespaces with the test's own, from the
// host (/proc/<pid>/ns) and from inside (readlink, and what the namespace
// isolates).
func TestNamespacesNewOrHost(t *testing.T) {
	t.Parallel()
	hostHostname, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	hostNetDev, err := os.ReadFile("/proc/net/dev")
	if err != nil {
		t.Fatal(err)
	}
	hostDevs := nsNetDevs(string(hostNetDev))
	// a SysV shared memory segment of the host's ipc namespace, to look
	// for from inside
	shmKey := 0x4e530000 | (os.Getpid() & 0xffff)
	shmID, err := unix.SysvShmGet(shmKey, 4096, unix.IPC_CREAT|unix.IPC_EXCL|0o600)
	if err != nil {
		t.Fatalf("shmget: %v", err)
	}
	t.Cleanup(func() { unix.SysvShmCtl(shmID, unix.IPC_RMID, nil) })
	shmIDText := strconv.Itoa(shmKey)

	for typ, name := range nsProcNames {
		for _, isNew := range []bool{true, false} {
			typ, name, isNew := typ, name, isNew
			mode := "host"
			if isNew {
				mode = "new"
			}
			t.Run(name+"-"+mode, func(t *testing.T) {
				t.Parallel()
				e := NewEnv(t)
				id := "ns-" + name + "-" + mode
				b := e.Bundle(nsReport(nsInsideScript), func(s *specs.Spec) {
					s.Hostname = "ns-inside"
					if isNew {
						if typ == specs.UserNamespace {
							nsAddUserns(s)
						} else {
							nsSet(s, typ, "")
						}
						return
					}
					nsRemove(s, typ)
					if typ == specs.UTSNamespace {
						s.Hostname = ""
					}
				})
				if isNew && typ == specs.UserNamespace {
					nsPrepareUserns(t, e, b)
				}
				pid := nsMustCreate(e, b, id)
				outside := NsInode(t, pid, name)
				self := NsInode(t, "self", name)
				if isNew && outside == self {
					t.Errorf("new %s namespace: container's %s is the host's", typ, outside)
				}
				if !isNew && outside != self {
					t.Errorf("no %s namespace asked: container's %s, host's %s", typ, outside, self)
				}
				e.MustRun("start", id)
				out := nsOutput(e, id)
				if inside := nsField(t, out, "ns-"+name); inside != outside {
					t.Errorf("inside readlink /proc/self/ns/%s = %q, from the host %q", name, inside, outside)
				}
				if NsInode(t, pid, name) != outside {
					t.Errorf("the %s namespace changed between create and start", name)
				}
				nsCheckIsolation(t, e, id, pid, typ, isNew, out, nsIsolationHost{
					hostname: hostHostname, devs: hostDevs, shm: shmIDText})
			})
		}
	}
}

// nsIsolationHost is what the host looks like, for nsCheckIsolation.
type nsIsolationHost struct {
	hostname string
	devs     []string
	shm      string
}

// nsCheckIsolation checks what one namespace type isolates, seen from
// inside (the report of nsInsideScript) and from the host.
func nsCheckIsolation(t *testing.T, e *Env, id string, pid int, typ specs.LinuxNamespaceType, isNew bool, out string, host nsIsolationHost) {
	t.Helper()
	switch typ {
	case specs.MountNamespace:
		// the container's /proc mount is in its mountinfo, not the host's
		own, err := os.ReadFile(fmt.Sprintf("/proc/%d/mountinfo", pid))
		if err != nil {
			t.Fatal(err)
		}
		hostMi, err := os.ReadFile("/proc/self/mountinfo")
		if err != nil {
			t.Fatal(err)
		}
		if !nsHasMountpoint(string(own), "/proc", "proc") {
			t.Errorf("container's mountinfo has no proc at /proc:\n%s", own)
		}
		// with a mount namespace of its own, none of its mounts is ours;
		// without one (the runtime's, shared), they are, under its rootfs
		// only, until delete (TestNoMountNamespace checks they go)
		for _, l := range strings.Split(string(hostMi), "\n") {
			f := strings.Fields(l)
			if len(f) > 4 && strings.HasPrefix(f[4], e.Dir) && (isNew || !strings.Contains(f[4], "/rootfs")) {
				t.Errorf("container mount visible on the host: %s", l)
			}
		}
	case specs.UTSNamespace:
		got := nsField(t, out, "hostname")
		now, _ := os.Hostname()
		if now != host.hostname {
			t.Errorf("host hostname changed from %q to %q", host.hostname, now)
		}
		if isNew && got != "ns-inside" {
			t.Errorf("hostname inside %q, want ns-inside", got)
		}
		if !isNew && got != host.hostname {
			t.Errorf("hostname inside %q, want the host's %q", got, host.hostname)
		}
	case specs.IPCNamespace:
		seen := strings.Contains(" "+nsField(t, out, "shm")+" ", " "+host.shm+" ")
		if isNew && seen {
			t.Errorf("host shm segment %s visible in a new ipc namespace: %q", host.shm, nsField(t, out, "shm"))
		}
		if !isNew && !seen {
			t.Errorf("host shm segment %s not visible with the host's ipc namespace: %q", host.shm, nsField(t, out, "shm"))
		}
	case specs.PIDNamespace:
		inside := nsField(t, out, "pid")
		nspid := nsStatusField(t, pid, "NSpid")
		if isNew {
			if inside != "1" {
				t.Errorf("pid inside a new pid namespace %s, want 1", inside)
			}
			if len(nspid) != 2 || nspid[0] != strconv.Itoa(pid) || nspid[1] != "1" {
				t.Errorf("NSpid of %d: %v, want [%d 1]", pid, nspid, pid)
			}
		} else {
			if inside != strconv.Itoa(pid) {
				t.Errorf("pid inside the host pid namespace %s, want the host pid %d", inside, pid)
			}
			if len(nspid) != 1 {
				t.Errorf("NSpid of %d: %v, want one level", pid, nspid)
			}
		}
	case specs.NetworkNamespace:
		devs := strings.Fields(nsField(t, out, "netdev"))
		if isNew && strings.Join(devs, " ") != "lo" {
			t.Errorf("interfaces in a new network namespace: %v, want only lo", devs)
		}
		if !isNew && !nsSameSet(devs, host.devs) {
			t.Errorf("interfaces with the host network namespace: %v, host has %v", devs, host.devs)
		}
	case specs.UserNamespace:
		uidmap := nsField(t, out, "uidmap")
		uid := nsStatusField(t, pid, "Uid")
		if isNew {
			if uidmap != fmt.Sprintf("0 %d 65536", nsHostID) {
				t.Errorf("uid_map inside %q, want 0 %d 65536", uidmap, nsHostID)
			}
			if uid[0] != strconv.Itoa(nsHostID) {
				t.Errorf("host sees uid %v, want %d", uid, nsHostID)
			}
		} else {
			if uidmap != "0 0 4294967295" {
				t.Errorf("uid_map inside %q, want the identity", uidmap)
			}
			if uid[0] != "0" {
				t.Errorf("host sees uid %v, want 0", uid)
			}
		}
	case specs.CgroupNamespace:
		line := nsField(t, out, "cgroup")
		path := line[strings.LastIndex(line, ":")+1:]
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), ":memory:/oci-rt/"+id+"\n") {
			t.Errorf("host sees the container's cgroups as\n%s\nwant memory in /oci-rt/%s", b, id)
		}
		if isNew && path != "/" {
			t.Errorf("memory cgroup inside a new cgroup namespace %q, want /", path)
		}
		if !isNew && path != "/oci-rt/"+id {
			t.Errorf("memory cgroup inside the host's cgroup namespace %q, want /oci-rt/%s", path, id)
		}
	case specs.TimeNamespace:
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/timens_offsets", pid))
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			if f := strings.Fields(l); len(f) != 3 || f[1] != "0" || f[2] != "0" {
				t.Errorf("timens_offsets without linux.timeOffsets: %q", b)
			}
		}
		inside := nsUptime(t, nsField(t, out, "uptime"))
		if inside > nsHostUptime(t)+1 {
			t.Errorf("uptime inside %.2f, host %.2f: offset without linux.timeOffsets", inside, nsHostUptime(t))
		}
	}
}

// nsHasMountpoint tells whether a mountinfo text has fstype at mountpoint.
func nsHasMountpoint(mi, mountpoint, fstype string) bool {
	for _, l := range strings.Split(mi, "\n") {
		f := strings.Fields(l)
		if len(f) < 7 || f[4] != mountpoint {
			continue
		}
		for i, x := range f {
			if x == "-" && i+1 < len(f) && f[i+1] == fstype {
				return true
			}
		}
	}
	return false
}

func nsSameSet(a, b []string) bool {
	m := map[string]int{}
	for _, x := range a {
		m[x]++
	}
	for _, x := range b {
		m[x]--
	}
	for _, v := range m {
		if v != 0 {
			return false
		}
	}
	return true
}

// nsStartA creates and starts container A running `sleep 100` (after
// script), and waits until it sleeps. It returns A's host pid.
func nsStartA(e *Env, id, script string, edit func(*specs.Spec)) (int, string) {
	e.t.Helper()
	args := []string{"sleep", "100"}
	if script != "" {
		args = []string{"sh", "-c", script + "\nexec sleep 100"}
	}
	b := e.Bundle(args, edit)
	return nsStartBundle(e, b, id), b
}

func nsStartBundle(e *Env, b, id string) int {
	e.t.Helper()
	pid := nsMustCreate(e, b, id)
	e.MustRun("start", id)
	deadline := time.Now().Add(10 * time.Second)
	for {
		cmd, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if string(cmd) == "sleep\x00100\x00" {
			return pid
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("container %s (pid %d) never reached sleep 100: %q", id, pid, cmd)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestNamespacesJoinByPath joins container B to A's net, ipc, uts, pid,
// cgroup and time namespaces by /proc/<A>/ns/<x> paths.
func TestNamespacesJoinByPath(t *testing.T) {
	t.Parallel()
	e := NewEnv(t)
	const offset = 100000 // boottime offset of A's time namespace, seconds
	aPid, _ := nsStartA(e, "join-a", "touch /dev/mqueue/ns-join-queue", func(s *specs.Spec) {
		s.Hostname = "ns-join-a"
		nsSet(s, specs.TimeNamespace, "")
		s.Linux.TimeOffsets = map[string]specs.LinuxTimeOffset{"boottime": {Secs: offset}}
	})
	if _, err := os.Stat("/sys/fs/cgroup/memory/oci-rt/join-a"); err != nil {
		t.Fatalf("A's cgroup: %v", err)
	}
	joined := []specs.LinuxNamespaceType{specs.NetworkNamespace, specs.IPCNamespace, specs.UTSNamespace,
		specs.PIDNamespace, specs.CgroupNamespace, specs.TimeNamespace}
	b := e.Bundle(nsReport(nsInsideScript+"\necho ps $(ps -o pid,args | grep -v grep | grep 'sleep 100')\necho mq $(ls /dev/mqueue)"), func(s *specs.Spec) {
		s.Hostname = ""
		for _, typ := range joined {
			nsSet(s, typ, fmt.Sprintf("/proc/%d/ns/%s", aPid, nsProcNames[typ]))
		}
	})
	before := nsHostUptime(t)
	bPid := nsMustCreate(e, b, "join-b")
	for _, typ := range joined {
		name := nsProcNames[typ]
		if a, bb := NsInode(t, aPid, name), NsInode(t, bPid, name); a != bb {
			t.Errorf("%s: B is in %s, A in %s", typ, bb, a)
		}
	}
	if a, bb := NsInode(t, aPid, "mnt"), NsInode(t, bPid, "mnt"); a == bb {
		t.Errorf("B asked for a new mount namespace but shares A's %s", a)
	}
	e.MustRun("start", "join-b")
	out := nsOutput(e, "join-b")
	after := nsHostUptime(t)
	for _, typ := range joined {
		name := nsProcNames[typ]
		if inside, a := nsField(t, out, "ns-"+name), NsInode(t, aPid, name); inside != a {
			t.Errorf("B sees its %s namespace as %s, A's is %s", name, inside, a)
		}
	}
	// uts: A's hostname
	if h := nsField(t, out, "hostname"); h != "ns-join-a" {
		t.Errorf("hostname in B %q, want A's ns-join-a", h)
	}
	// pid: B is not pid 1, A's sleep is, as B's ps shows; the host agrees
	if p := nsField(t, out, "pid"); p == "1" {
		t.Errorf("B is pid 1: it did not join A's pid namespace")
	}
	if ps := strings.Fields(nsField(t, out, "ps")); len(ps) < 1 || ps[0] != "1" {
		t.Errorf("ps in B does not show A's sleep as pid 1: %q", nsField(t, out, "ps"))
	}
	if nspid := nsStatusField(t, bPid, "NSpid"); len(nspid) != 2 || nspid[1] != nsField(t, out, "pid") {
		t.Errorf("NSpid of B %v, want [%d %s]", nspid, bPid, nsField(t, out, "pid"))
	}
	// ipc: the message queue A made in its /dev/mqueue
	if mq := nsField(t, out, "mq"); !strings.Contains(mq, "ns-join-queue") {
		t.Errorf("B's /dev/mqueue %q lacks A's queue ns-join-queue", mq)
	}
	// net: only A's lo
	if d := nsField(t, out, "netdev"); d != "lo" {
		t.Errorf("B's interfaces %q, want A's lo only", d)
	}
	// cgroup: B's cgroup seen from A's cgroup namespace root /oci-rt/join-a
	if c := nsField(t, out, "cgroup"); !strings.HasSuffix(c, ":memory:/../join-b") {
		t.Errorf("B's memory cgroup inside %q, want /../join-b (relative to A's root)", c)
	}
	// time: A's boottime offset
	up := nsUptime(t, nsField(t, out, "uptime"))
	if up < before+offset-1 || up > after+offset+1 {
		t.Errorf("uptime in B %.2f, host %.2f..%.2f: want A's offset %d", up, before, after, offset)
	}
}

// TestNamespacesJoinMount checks what joining another container's mount
// namespace does: oci-rt sets the rootfs up in a new mount namespace only,
// so it must refuse, cleanly.
func TestNamespacesJoinMount(t *testing.T) {
	t.Parallel()
	e := NewEnv(t)
	aPid, _ := nsStartA(e, "mnt-a", "", nil)
	aMnt := NsInode(t, aPid, "mnt")
	b := e.Bundle([]string{"sleep", "100"}, func(s *specs.Spec) {
		nsSet(s, specs.MountNamespace, fmt.Sprintf("/proc/%d/ns/mnt", aPid))
	})
	// A's mount namespace has A's rootfs as its root (pivot_root): B's
	// bundle path does not exist there, and create says so
	r := nsCreate(e, b, "mnt-b")
	if r.Code == 0 {
		t.Fatalf("create joining A's pivoted mount namespace succeeded; its rootfs path is not in it")
	}
	if !strings.Contains(r.Stderr, "root.path") || !strings.Contains(r.Stderr, "no such file or directory") {
		t.Errorf("stderr %q: want root.path and the missing path", r.Stderr)
	}
	nsAssertNothingLeft(t, e, "mnt-b", b, false)
	if NsInode(t, aPid, "mnt") != aMnt || e.Status("mnt-a") != "running" {
		t.Errorf("A was disturbed by B's failed create")
	}
}

// TestNamespacesPidJoinFollowsUserns: B asks for a user namespace and
// joins the pid namespace of A, which has one: B ends in A's user
// namespace (as Docker's --pid container:A does).
func TestNamespacesPidJoinFollowsUserns(t *testing.T) {
	t.Parallel()
	e := NewEnv(t)
	a := e.Bundle([]string{"sleep", "100"}, func(s *specs.Spec) { nsAddUserns(s) })
	nsPrepareUserns(t, e, a)
	aPid := nsStartBundle(e, a, "fu-a")
	if NsInode(t, aPid, "user") == NsInode(t, "self", "user") {
		t.Fatalf("A has no user namespace of its own")
	}
	b := e.Bundle(nsReport(nsInsideScript+"\necho ps $(ps -o pid,args | grep -v grep | grep 'sleep 100')"), func(s *specs.Spec) {
		nsAddUserns(s)
		nsSet(s, specs.PIDNamespace, fmt.Sprintf("/proc/%d/ns/pid", aPid))
	})
	nsPrepareUserns(t, e, b)
	bPid := nsMustCreate(e, b, "fu-b")
	for _, name := range []string{"user", "pid"} {
		if x, y := NsInode(t, aPid, name), NsInode(t, bPid, name); x != y {
			t.Errorf("%s: B in %s, A in %s", name, y, x)
		}
	}
	if uid := nsStatusField(t, bPid, "Uid"); uid[0] != strconv.Itoa(nsHostID) {
		t.Errorf("B's uid on the host %v, want %d", uid, nsHostID)
	}
	e.MustRun("start", "fu-b")
	out := nsOutput(e, "fu-b")
	if u := nsField(t, out, "ns-user"); u != NsInode(t, aPid, "user") {
		t.Errorf("B sees its user namespace as %s, A's is %s", u, NsInode(t, aPid, "user"))
	}
	if m := nsField(t, out, "uidmap"); m != fmt.Sprintf("0 %d 65536", nsHostID) {
		t.Errorf("uid_map in B %q", m)
	}
	if ps := strings.Fields(nsField(t, out, "ps")); len(ps) < 1 || ps[0] != "1" {
		t.Errorf("ps in B does not show A's sleep as pid 1: %q", nsField(t, out, "ps"))
	}
	// the other new namespaces of B belong to A's user namespace
	for _, name := range []string{"net", "ipc", "uts", "mnt", "cgroup"} {
		if x, y := NsInode(t, aPid, name), NsInode(t, bPid, name); x == y {
			t.Errorf("%s: B asked for a new one but shares A's %s", name, x)
		}
	}
}

// TestNamespacesJoinUsernsByPath: B joins A's user namespace by path, and
// namespaces A's user namespace owns (net, ipc, pid), which need the
// privileges of that user namespace, not the host's.
func TestNamespacesJoinUsernsByPath(t *testing.T) {
	t.Parallel()
	e := NewEnv(t)
	a := e.Bundle([]string{"sleep", "100"}, func(s *specs.Spec) { nsAddUserns(s) })
	nsPrepareUserns(t, e, a)
	aPid := nsStartBundle(e, a, "ju-a")
	joined := []string{"user", "net", "ipc", "pid"}
	b := e.Bundle(nsReport(nsInsideScript+"\necho ps $(ps -o pid,args | grep -v grep | grep 'sleep 100')"), func(s *specs.Spec) {
		for _, name := range joined {
			for typ, n := range nsProcNames {
				if n == name {
					nsSet(s, typ, fmt.Sprintf("/proc/%d/ns/%s", aPid, name))
				}
			}
		}
	})
	nsPrepareUserns(t, e, b)
	bPid := nsMustCreate(e, b, "ju-b")
	for _, name := range joined {
		if x, y := NsInode(t, aPid, name), NsInode(t, bPid, name); x != y {
			t.Errorf("%s: B in %s, A in %s", name, y, x)
		}
	}
	for _, name := range []string{"mnt", "uts", "cgroup"} {
		if x, y := NsInode(t, aPid, name), NsInode(t, bPid, name); x == y {
			t.Errorf("%s: B asked for a new one but shares A's %s", name, x)
		}
	}
	if uid := nsStatusField(t, bPid, "Uid"); uid[0] != strconv.Itoa(nsHostID) {
		t.Errorf("B's uid on the host %v, want %d", uid, nsHostID)
	}
	e.MustRun("start", "ju-b")
	out := nsOutput(e, "ju-b")
	if m := nsField(t, out, "uidmap"); m != fmt.Sprintf("0 %d 65536", nsHostID) {
		t.Errorf("uid_map in B %q, want A's", m)
	}
	if u := nsField(t, out, "ns-user"); u != NsInode(t, aPid, "user") {
		t.Errorf("B sees its user namespace as %s, A's is %s", u, NsInode(t, aPid, "user"))
	}
	if ps := strings.Fields(nsField(t, out, "ps")); len(ps) < 1 || ps[0] != "1" {
		t.Errorf("ps in B does not show A's sleep as pid 1: %q", nsField(t, out, "ps"))
	}
	if d := nsField(t, out, "netdev"); d != "lo" {
		t.Errorf("B's interfaces %q, want A's lo only", d)
	}
}

// TestNamespacesPidJoinExplicitUserns: B names a user namespace by path
// (C's) and joins the pid namespace of A, which belongs to another user
// namespace. oci-rt may refuse (naming the field) or honour the path; it
// must not silently put B in a user namespace the config did not name.
func TestNamespacesPidJoinExplicitUserns(t *testing.T) {
	t.Parallel()
	e := NewEnv(t)
	a := e.Bundle([]string{"sleep", "100"}, func(s *specs.Spec) { nsAddUserns(s) })
	nsPrepareUserns(t, e, a)
	aPid := nsStartBundle(e, a, "xu-a")
	c := e.Bundle([]string{"sleep", "100"}, func(s *specs.Spec) { nsAddUserns(s) })
	nsPrepareUserns(t, e, c)
	cPid := nsStartBundle(e, c, "xu-c")
	if NsInode(t, aPid, "user") == NsInode(t, cPid, "user") {
		t.Fatal("A and C share a user namespace")
	}
	b := e.Bundle([]string{"sleep", "100"}, func(s *specs.Spec) {
		nsSet(s, specs.PIDNamespace, fmt.Sprintf("/proc/%d/ns/pid", aPid))
		nsSet(s, specs.UserNamespace, fmt.Sprintf("/proc/%d/ns/user", cPid))
	})
	nsPrepareUserns(t, e, b)
	r := nsCreate(e, b, "xu-b")
	if r.Code != 0 {
		if !strings.Contains(r.Stderr, "linux.namespaces[") {
			t.Errorf("refused without naming the field: %q", r.Stderr)
		}
		nsAssertNothingLeft(t, e, "xu-b", b, false)
		return
	}
	bPid := e.Pid("xu-b")
	if got, want := NsInode(t, bPid, "user"), NsInode(t, cPid, "user"); got != want {
		t.Errorf("B asked for C's user namespace %s by path, got %s (A's is %s) without an error",
			want, got, NsInode(t, aPid, "user"))
	}
}

// TestNamespacesPidJoinKeepsOwnUserns: A has no user namespace; B joins
// A's pid namespace and asks for a new user namespace, which it keeps. B
// cannot mount a proc of A's pid namespace (the host's user namespace owns
// it: the kernel refuses, runc fails the same way), so it binds the
// host's /proc; the failing default configuration is checked to fail
// cleanly.
func TestNamespacesPidJoinKeepsOwnUserns(t *testing.T) {
	t.Parallel()
	e := NewEnv(t)
	aPid, _ := nsStartA(e, "ku-a", "", nil)
	bundleB := func(hostProc bool) string {
		b := e.Bundle(nsReport(nsInsideScript), func(s *specs.Spec) {
			nsAddUserns(s)
			nsSet(s, specs.PIDNamespace, fmt.Sprintf("/proc/%d/ns/pid", aPid))
			if hostProc {
				s.Mounts[0] = specs.Mount{Destination: "/proc", Type: "bind", Source: "/proc",
					Options: []string{"rbind", "nosuid", "noexec", "nodev"}}
			}
		})
		nsPrepareUserns(t, e, b)
		return b
	}

	t.Run("proc-mount-refused", func(t *testing.T) {
		b := bundleB(false)
		r := nsCreate(e, b, "ku-b-proc")
		if r.Code == 0 {
			t.Fatalf("mounting proc for A's pid namespace from B's user namespace succeeded")
		}
		if !strings.Contains(r.Stderr, `mounts[0]`) || !strings.Contains(r.Stderr, "operation not permitted") {
			t.Errorf("stderr %q: want mounts[0] ... operation not permitted", r.Stderr)
		}
		nsAssertNothingLeft(t, e, "ku-b-proc", b, false)
	})

	b := bundleB(true)
	bPid := nsMustCreate(e, b, "ku-b")
	self := NsInode(t, "self", "user")
	if NsInode(t, aPid, "user") != self {
		t.Fatalf("A has a user namespace of its own")
	}
	if u := NsInode(t, bPid, "user"); u == self {
		t.Errorf("B asked for a new user namespace but is in the host's (%s)", u)
	}
	if x, y := NsInode(t, aPid, "pid"), NsInode(t, bPid, "pid"); x != y {
		t.Errorf("pid: B in %s, A in %s", y, x)
	}
	if uid := nsStatusField(t, bPid, "Uid"); uid[0] != strconv.Itoa(nsHostID) {
		t.Errorf("B's uid on the host %v, want %d", uid, nsHostID)
	}
	nspid := nsStatusField(t, bPid, "NSpid")
	if len(nspid) != 2 || nspid[1] == "1" {
		t.Errorf("NSpid of B %v: want two levels, not pid 1 (A's sleep is)", nspid)
	}
	e.MustRun("start", "ku-b")
	out := nsOutput(e, "ku-b")
	if u := nsField(t, out, "ns-user"); u != NsInode(t, bPid, "user") || u == self {
		t.Errorf("B sees its user namespace as %s (host's %s)", u, self)
	}
	if m := nsField(t, out, "uidmap"); m != fmt.Sprintf("0 %d 65536", nsHostID) {
		t.Errorf("uid_map in B %q", m)
	}
	if p := nsField(t, out, "ns-pid"); p != NsInode(t, aPid, "pid") {
		t.Errorf("B sees its pid namespace as %s, A's is %s", p, NsInode(t, aPid, "pid"))
	}
}

// TestNamespacesUserMapping: root in the container is nsHostID on the
// host, and cannot write a root-owned directory bound into it, even rw.
func TestNamespacesUserMapping(t *testing.T) {
	t.Parallel()
	e := NewEnv(t)
	rootDir := filepath.Join(e.Dir, "root-owned")
	mineDir := filepath.Join(e.Dir, "mapped-owned")
	for _, d := range []string{rootDir, mineDir} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(rootDir, "file"), []byte("host\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(mineDir, nsHostID, nsHostID); err != nil {
		t.Fatal(err)
	}
	b := e.Bundle(nsReport(`echo id $(id -u):$(id -g)
echo uidmap $(cat /proc/self/uid_map)
echo gidmap $(cat /proc/self/gid_map)
echo ls $(ls -ln /data/file | awk '{print $3":"$4}')
echo rw $(echo x 2>/dev/null >/data/new && echo wrote || echo refused)
echo rwfile $(echo x 2>/dev/null >>/data/file && echo wrote || echo refused)
echo ro $(touch /data-ro/new 2>/dev/null && echo wrote || echo refused)
echo mine $(echo x 2>/dev/null >/mine/made && echo wrote || echo refused)`), func(s *specs.Spec) {
		nsAddUserns(s)
		s.Mounts = append(s.Mounts,
			specs.Mount{Destination: "/data", Type: "bind", Source: rootDir, Options: []string{"rbind", "rw"}},
			specs.Mount{Destination: "/data-ro", Type: "bind", Source: rootDir, Options: []string{"rbind", "ro"}},
			specs.Mount{Destination: "/mine", Type: "bind", Source: mineDir, Options: []string{"rbind", "rw"}})
	})
	nsPrepareUserns(t, e, b)
	pid := nsMustCreate(e, b, "userns")
	e.MustRun("start", "userns")
	out := nsOutput(e, "userns")
	want := map[string]string{
		"id":     "0:0",
		"uidmap": fmt.Sprintf("0 %d 65536", nsHostID),
		"gidmap": fmt.Sprintf("0 %d 65536", nsHostID),
		"ls":     "65534:65534", // the host's root is unmapped: overflow ids
		"rw":     "refused",
		"rwfile": "refused",
		"ro":     "refused",
		"mine":   "wrote",
	}
	for k, v := range want {
		if got := nsField(t, out, k); got != v {
			t.Errorf("%s: %q, want %q", k, got, v)
		}
	}
	for _, f := range []string{"Uid", "Gid"} {
		if ids := nsStatusField(t, pid, f); len(ids) != 4 || ids[0] != strconv.Itoa(nsHostID) || ids[1] != strconv.Itoa(nsHostID) {
			t.Errorf("%s of the container on the host %v, want %d", f, ids, nsHostID)
		}
	}
	if _, err := os.Stat(filepath.Join(rootDir, "new")); err == nil {
		t.Errorf("container root created a file in the root-owned directory")
	}
	if b, _ := os.ReadFile(filepath.Join(rootDir, "file")); string(b) != "host\n" {
		t.Errorf("root-owned file changed: %q", b)
	}
	var st syscall.Stat_t
	if err := syscall.Stat(filepath.Join(mineDir, "made"), &st); err != nil {
		t.Errorf("file written by container root: %v", err)
	} else if st.Uid != nsHostID || st.Gid != nsHostID {
		t.Errorf("file written by container root is owned by %d:%d on the host, want %d:%d", st.Uid, st.Gid, nsHostID, nsHostID)
	}
}

// TestNamespacesHostname sets hostname and domainname in a new uts
// namespace, and refuses them without one.
func TestNamespacesHostname(t *testing.T) {
	t.Parallel()
	t.Run("set", func(t *testing.T) {
		t.Parallel()
		e := NewEnv(t)
		hostName, _ := os.Hostname()
		hostDomain, _ := os.ReadFile("/proc/sys/kernel/domainname")
		b := e.Bundle(nsReport(`echo hostname $(hostname)
echo domainname $(cat /proc/sys/kernel/domainname)
echo dnsdomain $(domainname 2>/dev/null || cat /proc/sys/kernel/domainname)`), func(s *specs.Spec) {
			s.Hostname = "ns-host"
			s.Domainname = "ns-domain.example"
		})
		pid := nsMustCreate(e, b, "uts")
		if NsInode(t, pid, "uts") == NsInode(t, "self", "uts") {
			t.Fatalf("the container shares the host's uts namespace")
		}
		e.MustRun("start", "uts")
		out := nsOutput(e, "uts")
		if h := nsField(t, out, "hostname"); h != "ns-host" {
			t.Errorf("hostname inside %q, want ns-host", h)
		}
		if d := nsField(t, out, "domainname"); d != "ns-domain.example" {
			t.Errorf("domainname inside %q, want ns-domain.example", d)
		}
		if h, _ := os.Hostname(); h != hostName {
			t.Errorf("host hostname changed: %q -> %q", hostName, h)
		}
		if d, _ := os.ReadFile("/proc/sys/kernel/domainname"); string(d) != string(hostDomain) {
			t.Errorf("host domainname changed: %q -> %q", hostDomain, d)
		}
	})
	for _, field := range []string{"hostname", "domainname"} {
		field := field
		t.Run(field+"-without-uts", func(t *testing.T) {
			t.Parallel()
			e := NewEnv(t)
			b := e.Bundle([]string{"sleep", "100"}, func(s *specs.Spec) {
				nsRemove(s, specs.UTSNamespace)
				s.Hostname = ""
				if field == "hostname" {
					s.Hostname = "ns-host"
				} else {
					s.Domainname = "ns-domain.example"
				}
			})
			hostName, _ := os.Hostname()
			r := nsCreate(e, b, "uts-"+field)
			stderr := strings.TrimSpace(r.Stderr)
			if r.Code == 0 {
				t.Fatalf("%s without a uts namespace accepted", field)
			}
			if !strings.Contains(stderr, field) || !strings.Contains(strings.ToLower(stderr), "uts") || strings.Contains(stderr, "\n") {
				t.Errorf("stderr %q: want one line naming %s and the uts namespace", r.Stderr, field)
			}
			if h, _ := os.Hostname(); h != hostName {
				t.Errorf("host hostname changed: %q -> %q", hostName, h)
			}
			nsAssertNothingLeft(t, e, "uts-"+field, b, true)
		})
	}
}

// TestNamespacesTimeOffsets: linux.timeOffsets shift the clocks of a new
// time namespace, seen in /proc/uptime (boottime) and timens_offsets.
func TestNamespacesTimeOffsets(t *testing.T) {
	t.Parallel()
	e := NewEnv(t)
	const boot, mono = 200000, 300000
	b := e.Bundle(nsReport(`echo uptime $(cat /proc/uptime)
echo offsets $(cat /proc/self/timens_offsets)`), func(s *specs.Spec) {
		nsSet(s, specs.TimeNamespace, "")
		s.Linux.TimeOffsets = map[string]specs.LinuxTimeOffset{
			"boottime":  {Secs: boot},
			"monotonic": {Secs: mono},
		}
	})
	pid := nsMustCreate(e, b, "time")
	if NsInode(t, pid, "time") == NsInode(t, "self", "time") {
		t.Fatalf("the container shares the host's time namespace")
	}
	hostOffs, err := os.ReadFile(fmt.Sprintf("/proc/%d/timens_offsets", pid))
	if err != nil {
		t.Fatal(err)
	}
	before := nsHostUptime(t)
	e.MustRun("start", "time")
	out := nsOutput(e, "time")
	after := nsHostUptime(t)
	up := nsUptime(t, nsField(t, out, "uptime"))
	if up < before+boot-1 || up > after+boot+1 {
		t.Errorf("uptime inside %.2f, host %.2f..%.2f: want larger by %d", up, before, after, boot)
	}
	wantOffs := fmt.Sprintf("monotonic %d 0 boottime %d 0", mono, boot)
	if got := strings.Join(strings.Fields(string(hostOffs)), " "); got != wantOffs {
		t.Errorf("/proc/%d/timens_offsets from the host %q, want %q", pid, got, wantOffs)
	}
	if got := strings.Join(strings.Fields(nsField(t, out, "offsets")), " "); got != wantOffs {
		t.Errorf("timens_offsets inside %q, want %q", got, wantOffs)
	}
}

// TestNamespacesCreateErrors: bad namespace configurations fail create
// with an error naming the field, and leave nothing behind.
func TestNamespacesCreateErrors(t *testing.T) {
	t.Parallel()
	if _, err := os.Stat("/proc/999999"); err == nil {
		t.Fatal("pid 999999 exists")
	}
	cases := []struct {
		name string
		edit func(*specs.Spec)
		want []string
	}{
		{"unknown-type", func(s *specs.Spec) {
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: "bogus"})
		}, []string{`linux.namespaces[6]`, "bogus", "unknown"}},
		{"same-type-twice", func(s *specs.Spec) {
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.NetworkNamespace})
		}, []string{`linux.namespaces[6]`, "network"}},
		{"path-not-a-namespace", func(s *specs.Spec) {
			nsSet(s, specs.IPCNamespace, "/etc/passwd")
		}, []string{`linux.namespaces[2].path`, "/etc/passwd", "not a namespace"}},
		{"path-wrong-type", func(s *specs.Spec) {
			nsSet(s, specs.IPCNamespace, "/proc/self/ns/net")
		}, []string{`linux.namespaces[2].path`, "network", "ipc"}},
		{"path-dead-pid", func(s *specs.Spec) {
			nsSet(s, specs.NetworkNamespace, "/proc/999999/ns/net")
		}, []string{`linux.namespaces[1].path`, "no such process"}},
		{"path-missing", func(s *specs.Spec) {
			nsSet(s, specs.NetworkNamespace, "/nonexistent/ns/net")
		}, []string{`linux.namespaces[1].path`, "no such file or directory"}},
		{"path-relative", func(s *specs.Spec) {
			nsSet(s, specs.NetworkNamespace, "proc/1/ns/net")
		}, []string{`linux.namespaces[1].path`, "absolute"}},
		{"mappings-without-userns", func(s *specs.Spec) {
			s.Linux.UIDMappings = nsMappings()
			s.Linux.GIDMappings = nsMappings()
		}, []string{"linux.uidMappings", "user namespace"}},
		{"userns-without-mappings", func(s *specs.Spec) {
			nsSet(s, specs.UserNamespace, "")
		}, []string{"Mappings", "user namespace"}},
		{"overlapping-uid-mappings", func(s *specs.Spec) {
			nsAddUserns(s)
			s.Linux.UIDMappings = []specs.LinuxIDMapping{
				{ContainerID: 0, HostID: nsHostID, Size: 1000},
				{ContainerID: 500, HostID: 2 * nsHostID, Size: 10},
			}
		}, []string{"linux.uidMappings[1]", "overlap"}},
		{"overlapping-gid-mappings-on-host", func(s *specs.Spec) {
			nsAddUserns(s)
			s.Linux.GIDMappings = []specs.LinuxIDMapping{
				{ContainerID: 0, HostID: nsHostID, Size: 1000},
				{ContainerID: 5000, HostID: nsHostID + 999, Size: 10},
			}
		}, []string{"linux.gidMappings[1]", "overlap"}},
		{"time-offsets-without-timens", func(s *specs.Spec) {
			s.Linux.TimeOffsets = map[string]specs.LinuxTimeOffset{"boottime": {Secs: 10}}
		}, []string{"linux.timeOffsets", "time namespace"}},
	}
	for _, c := range cases {
		c := c
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			e := NewEnv(t)
			b := e.Bundle([]string{"sleep", "100"}, c.edit)
			r := nsCreate(e, b, "bad")
			lcOneLine(t, "create", r, c.want...)
			nsAssertNothingLeft(t, e, "bad", b, true)
		})
	}
}

// TestNamespacesUsernsCgroupsAndOwnership: with a new user namespace the
// executor unshares it together with the other new namespaces before its
// plan comes (its prelude), then joins the cgroups from inside it. Seen
// from the host: the container's process is in its own cgroup in every v1
// hierarchy, and its network, mount, uts and ipc namespaces are owned by
// its user namespace, not the host's.
func TestNamespacesUsernsCgroupsAndOwnership(t *testing.T) {
	t.Parallel()
	e := NewEnv(t)
	b := e.Bundle([]string{"sleep", "100"}, nsAddUserns)
	nsPrepareUserns(t, e, b)
	id := "userns-cg-" + strconv.Itoa(os.Getpid())
	// the v1 hierarchies there are now and mounted where oci-rt looks: a
	// test running beside this one (TestCHV1HugetlbNetwork) binds more for
	// a while, host-wide, and the container is at their root; and a
	// hierarchy mounted only in another mount namespace (the conformance
	// runner's) is listed in /proc/self/cgroup but no runtime here uses it
	self, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		t.Fatal(err)
	}
	hierarchies := map[string]bool{}
	for _, l := range strings.Split(strings.TrimSpace(string(self)), "\n") {
		if parts := strings.SplitN(l, ":", 3); len(parts) == 3 && parts[1] != "" && nsCgroupMounted(parts[1]) {
			hierarchies[parts[1]] = true
		}
	}
	pid := nsMustCreate(e, b, id)
	t.Cleanup(func() { e.Run("delete", "-f", id) })
	userns := NsInode(t, pid, "user")
	if userns == NsInode(t, "self", "user") {
		t.Fatal("no user namespace of its own")
	}
	for _, kind := range []string{"net", "mnt", "uts", "ipc"} {
		if owner := nsOwner(t, pid, kind); owner != userns {
			t.Errorf("%s namespace owned by %s, want the container's %s", kind, owner, userns)
		}
	}
	cg, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
	if err != nil {
		t.Fatal(err)
	}
	v1 := 0
	for _, l := range strings.Split(strings.TrimSpace(string(cg)), "\n") {
		parts := strings.SplitN(l, ":", 3)
		if len(parts) != 3 || !hierarchies[parts[1]] {
			continue
		}
		v1++
		if parts[2] != "/oci-rt/"+id {
			t.Errorf("hierarchy %s: cgroup %q, want /oci-rt/%s", parts[1], parts[2], id)
		}
	}
	if v1 != len(hierarchies) {
		t.Errorf("the container is in %d of the %d v1 hierarchies: %q", v1, len(hierarchies), cg)
	}
}

// nsCgroupMounted says whether the v1 hierarchy of /proc/self/cgroup's
// controllers field is mounted at /sys/fs/cgroup/<controllers> (a named
// one, name=systemd, at /sys/fs/cgroup/systemd).
func nsCgroupMounted(controllers string) bool {
	var st unix.Statfs_t
	dir := "/sys/fs/cgroup/" + strings.TrimPrefix(controllers, "name=")
	return unix.Statfs(dir, &st) == nil && st.Type == unix.CGROUP_SUPER_MAGIC
}

// nsOwner is the inode (as readlink shows it) of the user namespace that
// owns the process's namespace of the given kind (NS_GET_USERNS).
func nsOwner(t *testing.T, pid int, kind string) string {
	t.Helper()
	f, err := os.Open(fmt.Sprintf("/proc/%d/ns/%s", pid, kind))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	const nsGetUserns = 0xb701 // _IO(0xb7, 0x1)
	fd, _, errno := syscall.Syscall(syscall.SYS_IOCTL, f.Fd(), nsGetUserns, 0)
	if errno != 0 {
		t.Fatalf("NS_GET_USERNS on %s: %v", kind, errno)
	}
	defer syscall.Close(int(fd))
	l, err := os.Readlink(fmt.Sprintf("/proc/self/fd/%d", fd))
	if err != nil {
		t.Fatal(err)
	}
	return l
}
