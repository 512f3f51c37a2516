package integration

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// nsviewReport is `oci-rt ns --format json`.
type nsviewReport struct {
	ID          string                                       `json:"id"`
	Pid         int                                          `json:"pid"`
	Namespaces  []nsviewNs                                   `json:"namespaces"`
	UIDMappings []struct{ ContainerID, HostID, Size uint32 } `json:"uidMappings"`
	GIDMappings []struct{ ContainerID, HostID, Size uint32 } `json:"gidMappings"`
}

// nsviewNs is one namespace of the report.
type nsviewNs struct {
	Type       string   `json:"type"`
	Inode      uint64   `json:"inode"`
	Origin     string   `json:"origin"`
	Path       string   `json:"path"`
	SharedWith []string `json:"sharedWith"`
	Userns     uint64   `json:"userns"`
	UsernsOf   string   `json:"usernsOf"`
}

// nsviewKinds are the /proc/<pid>/ns entries `ns` reports.
var nsviewKinds = []string{"user", "mnt", "pid", "net", "ipc", "uts", "cgroup", "time"}

func nsviewJSON(t *testing.T, e *Env, id string) nsviewReport {
	t.Helper()
	r := e.MustRun("ns", "--format", "json", id)
	var rep nsviewReport
	if err := json.Unmarshal([]byte(r.Stdout), &rep); err != nil {
		t.Fatalf("ns --format json %s: %v\n%s", id, err, r.Stdout)
	}
	return rep
}

// nsviewIno is the inode of readlink /proc/<pid>/ns/<kind>.
func nsviewIno(t *testing.T, pid int, kind string) uint64 {
	t.Helper()
	l := NsInode(t, pid, kind)
	ino, err := strconv.ParseUint(strings.TrimSuffix(l[strings.IndexByte(l, '[')+1:], "]"), 10, 64)
	if err != nil {
		t.Fatalf("%s: %v", l, err)
	}
	return ino
}

// nsviewCheck compares the report of the container at pid with /proc: every
// kind is listed once with /proc's inode, origin is want[kind] (else
// "host"), and the host's namespaces are exactly those of the test process.
func nsviewCheck(t *testing.T, rep nsviewReport, pid int, want map[string]string) {
	t.Helper()
	if rep.Pid != pid {
		t.Errorf("pid %d, state says %d", rep.Pid, pid)
	}
	var seen []string
	for _, n := range rep.Namespaces {
		seen = append(seen, n.Type)
		if ino := nsviewIno(t, pid, n.Type); n.Inode != ino {
			t.Errorf("%s: inode %d, /proc/%d/ns/%s says %d", n.Type, n.Inode, pid, n.Type, ino)
		}
		origin := want[n.Type]
		if origin == "" {
			origin = "host"
		}
		if n.Origin != origin {
			t.Errorf("%s: origin %q, want %q", n.Type, n.Origin, origin)
		}
		isHost := n.Inode == nsviewIno(t, os.Getpid(), n.Type)
		if isHost != (n.Origin == "host") {
			t.Errorf("%s: origin %q, but the same as the host's: %v", n.Type, n.Origin, isHost)
		}
	}
	if !slices.Equal(seen, nsviewKinds) {
		t.Errorf("kinds %v, want %v", seen, nsviewKinds)
	}
}

func nsviewFind(t *testing.T, rep nsviewReport, kind string) nsviewNs {
	t.Helper()
	for _, n := range rep.Namespaces {
		if n.Type == kind {
			return n
		}
	}
	t.Fatalf("no %s namespace in %+v", kind, rep)
	return nsviewNs{}
}

// TestNsShowsSharing: A has namespaces of its own, B joins A's network and
// uts namespaces by path and keeps the host's ipc: `ns` tells each
// namespace's inode as /proc does, new/joined/host, the path joined and
// which other container is in it, in JSON and in the table.
func TestNsShowsSharing(t *testing.T) {
	t.Parallel()
	e := NewEnv(t)
	a, b := fmt.Sprintf("nsview-a-%d", os.Getpid()), fmt.Sprintf("nsview-b-%d", os.Getpid())
	ba := e.Bundle([]string{"sleep", "100"}, func(s *specs.Spec) {
		for _, typ := range []specs.LinuxNamespaceType{specs.PIDNamespace, specs.NetworkNamespace, specs.IPCNamespace, specs.UTSNamespace, specs.MountNamespace} {
			nsSet(s, typ, "")
		}
		nsRemove(s, specs.CgroupNamespace)
	})
	aPid := nsMustCreate(e, ba, a)
	bb := e.Bundle([]string{"sleep", "100"}, func(s *specs.Spec) {
		s.Hostname = ""
		nsSet(s, specs.NetworkNamespace, fmt.Sprintf("/proc/%d/ns/net", aPid))
		nsSet(s, specs.UTSNamespace, fmt.Sprintf("/proc/%d/ns/uts", aPid))
		nsRemove(s, specs.IPCNamespace)
		nsRemove(s, specs.CgroupNamespace)
	})
	bPid := nsMustCreate(e, bb, b)

	ra := nsviewJSON(t, e, a)
	nsviewCheck(t, ra, aPid, map[string]string{"pid": "new", "net": "new", "ipc": "new", "uts": "new", "mnt": "new"})
	rb := nsviewJSON(t, e, b)
	nsviewCheck(t, rb, bPid, map[string]string{"pid": "new", "net": "joined", "uts": "joined", "mnt": "new"})

	for _, kind := range []string{"net", "uts"} {
		if n := nsviewFind(t, ra, kind); !slices.Equal(n.SharedWith, []string{b}) {
			t.Errorf("A's %s shared with %v, want [%s]", kind, n.SharedWith, b)
		}
		n := nsviewFind(t, rb, kind)
		if !slices.Equal(n.SharedWith, []string{a}) || n.Path != fmt.Sprintf("/proc/%d/ns/%s", aPid, kind) {
			t.Errorf("B's %s: %+v, want joined from /proc/%d/ns/%s, shared with %s", kind, n, aPid, kind, a)
		}
	}
	for _, kind := range []string{"pid", "ipc", "mnt"} {
		if n := nsviewFind(t, ra, kind); len(n.SharedWith) != 0 {
			t.Errorf("A's own %s namespace shared with %v", kind, n.SharedWith)
		}
	}
	// both are in the host's user and cgroup namespaces: each sees the other there
	for _, kind := range []string{"user", "cgroup"} {
		if n := nsviewFind(t, ra, kind); !slices.Equal(n.SharedWith, []string{b}) {
			t.Errorf("A's %s (the host's) shared with %v, want [%s]", kind, n.SharedWith, b)
		}
	}
	// without a user namespace of their own, the host's owns them all
	hostUser := nsviewIno(t, os.Getpid(), "user")
	for _, n := range ra.Namespaces {
		if n.Type != "user" && (n.Userns != hostUser || n.UsernsOf != "host") {
			t.Errorf("A's %s owned by %d %q, want the host's %d", n.Type, n.Userns, n.UsernsOf, hostUser)
		}
	}

	// the table: a header, then one line a kind with its inode and origin
	table := e.MustRun("ns", b).Stdout
	lines := strings.Split(strings.TrimSpace(table), "\n")
	if len(lines) < 1+len(nsviewKinds) || !strings.HasPrefix(lines[0], "TYPE") {
		t.Fatalf("ns table:\n%s", table)
	}
	for i, kind := range nsviewKinds {
		f := strings.Fields(lines[1+i])
		n := nsviewFind(t, rb, kind)
		if len(f) < 3 || f[0] != kind || f[1] != strconv.FormatUint(n.Inode, 10) || f[2] != n.Origin {
			t.Errorf("table line %q, want %s %d %s", lines[1+i], kind, n.Inode, n.Origin)
		}
	}
	if !strings.Contains(table, a) {
		t.Errorf("the table does not name %s, whose network namespace %s shares:\n%s", a, b, table)
	}
}

// TestNsUserns: a container with a user namespace of its own: the other
// new namespaces are owned by it, it is owned by the host's, and the id
// maps are those /proc shows.
func TestNsUserns(t *testing.T) {
	t.Parallel()
	e := NewEnv(t)
	id := fmt.Sprintf("nsview-user-%d", os.Getpid())
	b := e.Bundle([]string{"sleep", "100"}, func(s *specs.Spec) {
		nsAddUserns(s)
		nsRemove(s, specs.CgroupNamespace)
		s.Linux.GIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: nsHostID, Size: 1000}}
	})
	nsPrepareUserns(t, e, b)
	pid := nsMustCreate(e, b, id)
	rep := nsviewJSON(t, e, id)
	want := map[string]string{"user": "new"}
	for _, n := range rep.Namespaces {
		if n.Type != "user" && n.Inode != nsviewIno(t, os.Getpid(), n.Type) {
			want[n.Type] = "new"
		}
	}
	nsviewCheck(t, rep, pid, want)
	userns := nsviewIno(t, pid, "user")
	for _, n := range rep.Namespaces {
		owner := nsOwner(t, pid, n.Type)
		if fmt.Sprintf("user:[%d]", n.Userns) != owner {
			t.Errorf("%s: owner %d, NS_GET_USERNS says %s", n.Type, n.Userns, owner)
		}
		switch {
		case n.Type == "user" && n.UsernsOf != "host":
			t.Errorf("user: owned by %q, want the host's", n.UsernsOf)
		case n.Origin == "new" && n.Type != "user" && (n.Userns != userns || n.UsernsOf != "container"):
			t.Errorf("%s: owned by %d %q, want the container's %d", n.Type, n.Userns, n.UsernsOf, userns)
		}
	}
	for _, m := range []struct {
		file string
		got  []struct{ ContainerID, HostID, Size uint32 }
	}{{"uid_map", rep.UIDMappings}, {"gid_map", rep.GIDMappings}} {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/%s", pid, m.file))
		if err != nil {
			t.Fatal(err)
		}
		var lines []string
		for _, g := range m.got {
			lines = append(lines, fmt.Sprintf("%d %d %d", g.ContainerID, g.HostID, g.Size))
		}
		var procLines []string
		for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			procLines = append(procLines, strings.Join(strings.Fields(l), " "))
		}
		if !slices.Equal(lines, procLines) {
			t.Errorf("%s %v, /proc says %v", m.file, lines, procLines)
		}
	}
	if table := e.MustRun("ns", id).Stdout; !strings.Contains(table, fmt.Sprintf("0 %d 1000", nsHostID)) {
		t.Errorf("the table does not show the gid map 0 %d 1000:\n%s", nsHostID, table)
	}
}

// TestNsNetnsName: --netns-name binds the container's network namespace
// where `ip netns` finds it: `ip netns exec` runs in it; a name taken or
// not a plain name is refused naming the flag; delete removes the name.
func TestNsNetnsName(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("ip (iproute2) not installed")
	}
	e := NewEnv(t)
	id := fmt.Sprintf("nsview-netns-%d", os.Getpid())
	name := fmt.Sprintf("oci-rt-test-%d", os.Getpid())
	target := filepath.Join("/var/run/netns", name)
	t.Cleanup(func() { unix.Unmount(target, unix.MNT_DETACH); os.Remove(target) })
	pid := nsMustCreate(e, e.Bundle([]string{"sleep", "100"}, nil), id)
	netns := NsInode(t, pid, "net")
	e.MustRun("ns", "--netns-name", name, id)
	out, err := exec.Command("ip", "netns", "exec", name, "readlink", "/proc/self/ns/net").CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != netns {
		t.Errorf("ip netns exec %s: %s %v, want the container's %s", name, out, err, netns)
	}
	if out, _ := exec.Command("ip", "netns", "list").CombinedOutput(); !strings.Contains(string(out), name) {
		t.Errorf("ip netns list does not show %s:\n%s", name, out)
	}
	for _, bad := range []string{name, "../escape", ""} {
		lcOneLine(t, fmt.Sprintf("ns --netns-name %q", bad), e.Run("ns", "--netns-name", bad, id), "--netns-name")
	}
	if _, err := os.Stat("/var/run/escape"); err == nil {
		t.Errorf("a name with .. made /var/run/escape")
	}
	e.MustRun("delete", "--force", id)
	if _, err := os.Lstat(target); !os.IsNotExist(err) {
		t.Errorf("%s left after delete: %v", target, err)
	}

	// a foreground run keeps its container's state in memory: the name
	// given meanwhile goes at its delete too
	runID := id + "-run"
	runOut, err := os.Create(filepath.Join(e.Dir, "run.out"))
	if err != nil {
		t.Fatal(err)
	}
	defer runOut.Close()
	run := exec.Command(binary, "--root", e.Root, "run", "-b", e.Bundle([]string{"sleep", "3"}, nil), runID)
	run.Stdout, run.Stderr = runOut, runOut
	if err := run.Start(); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(e.Run("state", runID).Stdout, `"running"`); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("run's container %s never ran", runID)
		}
	}
	e.MustRun("ns", "--netns-name", name, runID)
	if _, err := os.Lstat(target); err != nil {
		t.Fatalf("named the run's network namespace: %v", err)
	}
	if err := run.Wait(); err != nil {
		b, _ := os.ReadFile(runOut.Name())
		t.Fatalf("run: %v: %s", err, b)
	}
	if _, err := os.Lstat(target); !os.IsNotExist(err) {
		t.Errorf("%s left after run deleted its container: %v", target, err)
	}
}

// TestNsErrors: an unknown container, one that has stopped, whose
// namespaces are gone, and an unknown --format are refused in one line.
func TestNsErrors(t *testing.T) {
	t.Parallel()
	e := NewEnv(t)
	lcOneLine(t, "ns of an unknown container", e.Run("ns", "nsview-nosuch"), "does not exist")
	id := fmt.Sprintf("nsview-stopped-%d", os.Getpid())
	nsMustCreate(e, e.Bundle([]string{"true"}, nil), id)
	e.MustRun("start", id)
	e.WaitStatus(id, "stopped")
	lcOneLine(t, "ns of a stopped container", e.Run("ns", id), "stopped")
	r := e.Run("ns", "--format", "yaml", id)
	lcOneLine(t, "ns --format yaml", r, "--format", "yaml")
	if r.Stdout != "" {
		t.Errorf("ns --format yaml printed %q", r.Stdout)
	}
}

// TestNsHelp: --help lists the command, and its own help tells its flags.
func TestNsHelp(t *testing.T) {
	t.Parallel()
	e := NewEnv(t)
	if out := e.MustRun("--help").Stdout; !strings.Contains(out, "\n   ns ") {
		t.Errorf("--help does not list ns:\n%s", out)
	}
	out := e.MustRun("ns", "--help").Stdout
	for _, want := range []string{"--format", "--netns-name", "ip netns"} {
		if !strings.Contains(out, want) {
			t.Errorf("ns --help does not tell %s:\n%s", want, out)
		}
	}
}

// TestNsWithoutConfig: a container whose state directory keeps no config
// (an older oci-rt made it) is still shown: what /proc alone cannot tell
// (new or joined) is "unknown", the host's namespaces are still "host".
func TestNsWithoutConfig(t *testing.T) {
	t.Parallel()
	e := NewEnv(t)
	id := fmt.Sprintf("nsview-noconfig-%d", os.Getpid())
	pid := nsMustCreate(e, e.Bundle([]string{"sleep", "100"}, nil), id)
	if err := os.Remove(filepath.Join(e.Root, id, "config.json")); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{}
	for _, kind := range nsviewKinds {
		if nsviewIno(t, pid, kind) != nsviewIno(t, os.Getpid(), kind) {
			want[kind] = "unknown"
		}
	}
	if len(want) == 0 {
		t.Fatal("the container has no namespace of its own")
	}
	nsviewCheck(t, nsviewJSON(t, e, id), pid, want)
}
