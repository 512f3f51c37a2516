package nsview

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func TestParseIDMap(t *testing.T) {
	got, err := parseIDMap("         0     100000      65536\n     65536          0          1\n")
	if err != nil {
		t.Fatal(err)
	}
	want := []IDMap{{0, 100000, 65536}, {65536, 0, 1}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	for _, bad := range []string{"0 1\n", "0 1 x\n", "0 1 4294967296\n"} {
		if _, err := parseIDMap(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestOrigin(t *testing.T) {
	asked := map[string]Asked{"net": {Listed: true, Path: "/run/netns/x"}, "pid": {Listed: true}}
	for _, c := range []struct {
		host        bool
		asked       map[string]Asked
		kind        string
		origin, via string
	}{
		{false, asked, "net", Joined, "/run/netns/x"},
		{true, asked, "net", Host, "/run/netns/x"},
		{false, asked, "pid", New, ""},
		{true, asked, "ipc", Host, ""},
		{false, asked, "ipc", Inherited, ""},
		{false, nil, "ipc", Unknown, ""},
		{true, nil, "ipc", Host, ""},
	} {
		o, p := origin(c.host, c.asked, c.kind)
		if o != c.origin || p != c.via {
			t.Errorf("origin(%v, %v, %s) = %s %q, want %s %q", c.host, c.asked, c.kind, o, p, c.origin, c.via)
		}
	}
}

func TestCheckNetnsName(t *testing.T) {
	for _, ok := range []string{"a", "pod-1.net", "A_b"} {
		if err := CheckNetnsName(ok); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	for _, bad := range []string{"", ".", "..", "a/b", "../x", "a b", strings.Repeat("x", 256)} {
		if err := CheckNetnsName(bad); err == nil {
			t.Errorf("%q: accepted", bad)
		}
	}
}

// readNs is readlink /proc/<pid>/ns/<kind>'s inode.
func readNs(t *testing.T, pid int, kind string) uint64 {
	t.Helper()
	l, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/%s", pid, kind))
	if err != nil {
		t.Fatal(err)
	}
	var ino uint64
	if _, err := fmt.Sscanf(l[strings.IndexByte(l, '[')+1:], "%d]", &ino); err != nil {
		t.Fatalf("%s: %v", l, err)
	}
	return ino
}

// TestInspectSelf: a process in the caller's namespaces is all host.
func TestInspectSelf(t *testing.T) {
	r, err := Inspect("me", os.Getpid(), 0, map[string]Asked{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Namespaces) < 7 {
		t.Fatalf("%d namespaces: %+v", len(r.Namespaces), r.Namespaces)
	}
	for _, n := range r.Namespaces {
		if n.Origin != Host || n.Inode != readNs(t, os.Getpid(), n.Type) {
			t.Errorf("%+v: want host, inode as /proc/self/ns/%s", n, n.Type)
		}
	}
	if len(r.UIDMappings) == 0 || len(r.GIDMappings) == 0 {
		t.Errorf("no id maps: %+v", r)
	}
}

// TestInspectStale: a start time that is not the process's is refused.
func TestInspectStale(t *testing.T) {
	if _, err := Inspect("me", os.Getpid(), 1, nil, nil); err == nil || !strings.Contains(err.Error(), "another process") {
		t.Errorf("got %v, want a refusal naming the reused pid", err)
	}
}

// startUnshared starts `unshare args... sleep` and returns its pid once it
// is in namespaces other than ours.
func startUnshared(t *testing.T, args ...string) int {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	cmd := exec.Command("unshare", append(args, "sleep", "60")...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Skip("unshare: ", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
		}
	})
	pid := cmd.Process.Pid
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		select {
		case err := <-exited:
			t.Fatalf("unshare %v: %v: %s", args, err, stderr.String())
		default:
		}
		if b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid)); strings.TrimSpace(string(b)) == "sleep" {
			return pid
		}
	}
	t.Fatalf("unshare %v did not exec sleep: %s", args, stderr.String())
	return 0
}

// TestInspectUnshared checks a process with its own user, net and uts
// namespaces against /proc: new where it unshared, host elsewhere, the
// owner of the new ones is its user namespace, the maps are /proc's, and a
// peer in the same namespaces is named.
func TestInspectUnshared(t *testing.T) {
	pid := startUnshared(t, "--user", "--map-root-user", "--net", "--uts")
	asked := map[string]Asked{"user": {Listed: true}, "net": {Listed: true}, "uts": {Listed: true}}
	r, err := Inspect("c1", pid, 0, asked, []Peer{{ID: "twin", Pid: pid}, {ID: "gone", Pid: 0}, {ID: "self", Pid: os.Getpid()}})
	if err != nil {
		t.Fatal(err)
	}
	hostUser := readNs(t, os.Getpid(), "user")
	userns := readNs(t, pid, "user")
	for _, n := range r.Namespaces {
		if n.Inode != readNs(t, pid, n.Type) {
			t.Errorf("%s: inode %d, /proc says %d", n.Type, n.Inode, readNs(t, pid, n.Type))
		}
		switch n.Type {
		case "user", "net", "uts":
			if n.Origin != New || !reflect.DeepEqual(n.SharedWith, []string{"twin"}) {
				t.Errorf("%+v: want new, shared with twin", n)
			}
		default:
			if n.Origin != Host || !reflect.DeepEqual(n.SharedWith, []string{"twin", "self"}) {
				t.Errorf("%+v: want host, shared with twin and self", n)
			}
		}
		switch n.Type {
		case "user":
			if n.Userns != hostUser || n.UsernsOf != "host" {
				t.Errorf("%+v: want the parent user namespace %d (host)", n, hostUser)
			}
		case "net", "uts":
			if n.Userns != userns || n.UsernsOf != "container" {
				t.Errorf("%+v: want owner %d (container)", n, userns)
			}
		}
	}
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/uid_map", pid))
	want, _ := parseIDMap(string(b))
	if !reflect.DeepEqual(r.UIDMappings, want) || len(want) != 1 || want[0].ContainerID != 0 || want[0].HostID != 0 || want[0].Size != 1 {
		t.Errorf("uid map %+v, /proc says %+v, want 0 0 1", r.UIDMappings, want)
	}
}

// TestNameNetns names a process's network namespace: ip netns lists it,
// `ip netns exec` runs in it (sees the process's own interfaces, not the
// host's), an existing name is refused, and Remove unbinds it; a name
// that is someone else's by then is left alone.
func TestNameNetns(t *testing.T) {
	pid := startUnshared(t, "--net")
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("ip (iproute2) not installed")
	}
	proc, err := OpenProcess(pid, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer proc.Close()
	name := fmt.Sprintf("nsview-test-%d", os.Getpid())
	n, err := proc.NameNetns(name)
	if err != nil {
		t.Fatal(err)
	}
	target := filepath.Join(NetnsDir, name)
	t.Cleanup(func() { unix.Unmount(target, unix.MNT_DETACH); os.Remove(target) })
	if n.Ino != readNs(t, pid, "net") {
		t.Errorf("named %d, the process's net namespace is %d", n.Ino, readNs(t, pid, "net"))
	}
	out, err := exec.Command("ip", "netns", "exec", name, "readlink", "/proc/self/ns/net").CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != fmt.Sprintf("net:[%d]", n.Ino) {
		t.Errorf("ip netns exec %s readlink: %s %v, want net:[%d]", name, out, err, n.Ino)
	}
	if out, _ := exec.Command("ip", "netns", "list").CombinedOutput(); !strings.Contains(string(out), name) {
		t.Errorf("ip netns list: %s, want %s", out, name)
	}
	if _, err := proc.NameNetns(name); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("second name: %v, want already exists", err)
	}
	if err := n.Remove(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(target); !os.IsNotExist(err) {
		t.Errorf("%s left after Remove: %v", target, err)
	}
	// a file there that is not the namespace we named stays
	if err := os.WriteFile(target, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := n.Remove(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(target); err != nil {
		t.Errorf("Remove took a file that was not its namespace: %v", err)
	}
}
