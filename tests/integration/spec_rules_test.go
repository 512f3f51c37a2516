package integration

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/oci-rt/oci-rt/libcontainer/specdefault"
)

// withoutNs drops namespace types from a spec.
func withoutNs(s *specs.Spec, types ...specs.LinuxNamespaceType) {
	var keep []specs.LinuxNamespace
	for _, n := range s.Linux.Namespaces {
		drop := false
		for _, t := range types {
			drop = drop || n.Type == t
		}
		if !drop {
			keep = append(keep, n)
		}
	}
	s.Linux.Namespaces = keep
}

// mountsUnder counts the host's mounts below dir.
func mountsUnder(t *testing.T, dir string) int {
	t.Helper()
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) > 4 && strings.HasPrefix(f[4], dir) {
			n++
		}
	}
	return n
}

// TestNoMountNamespace: a config without a mount namespace shares the
// runtime's (runtime-spec: a type left out is inherited); the container's
// mounts live under its rootfs in our namespace while it runs, the host's
// "/" is untouched, and delete removes them all.
func TestNoMountNamespace(t *testing.T) {
	t.Parallel()
	e := NewEnv(t)
	b := e.Bundle([]string{"sh", "-c", "readlink /proc/self/ns/mnt; touch /x 2>&1; exec sleep 100"}, func(s *specs.Spec) {
		withoutNs(s, specs.MountNamespace)
	})
	runDetached(t, e, b, "nomnt")
	pid := e.Pid("nomnt")
	if got, want := NsInode(t, pid, "mnt"), NsInode(t, "self", "mnt"); got != want {
		t.Errorf("container mount namespace %s, want the runtime's %s", got, want)
	}
	if n := mountsUnder(t, b); n == 0 {
		t.Errorf("no container mounts under %s while it runs", b)
	}
	root, err := os.Readlink("/proc/" + itoa(pid) + "/root")
	if err != nil || root != filepath.Join(b, "rootfs") {
		t.Errorf("container root %q (%v), want %s/rootfs", root, err, b)
	}
	e.MustRun("delete", "--force", "nomnt")
	if n := mountsUnder(t, b); n != 0 {
		t.Errorf("%d mounts left under %s after delete", n, b)
	}
}

// TestJoinMountNamespace: a mount namespace given by path is joined; the
// rootfs is set up in it (chroot, not pivot_root: the namespace's other
// processes keep their root).
func TestJoinMountNamespace(t *testing.T) {
	t.Parallel()
	e := NewEnv(t)
	holder := exec.Command("unshare", "--mount", "--propagation", "private", "--fork", "sleep", "100")
	holder.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := holder.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { syscall.Kill(-holder.Process.Pid, syscall.SIGKILL); holder.Wait() }()
	// the sleep is unshare's child, in the new namespace
	var target string
	for i := 0; i < 100 && target == ""; i++ {
		time.Sleep(10 * time.Millisecond)
		kids, _ := os.ReadFile("/proc/" + itoa(holder.Process.Pid) + "/task/" + itoa(holder.Process.Pid) + "/children")
		if f := strings.Fields(string(kids)); len(f) > 0 {
			target = f[0]
		}
	}
	if target == "" {
		t.Fatal("unshare's child never appeared")
	}
	b := e.Bundle([]string{"sleep", "100"}, func(s *specs.Spec) {
		for i, n := range s.Linux.Namespaces {
			if n.Type == specs.MountNamespace {
				s.Linux.Namespaces[i].Path = "/proc/" + target + "/ns/mnt"
			}
		}
	})
	runDetached(t, e, b, "joinmnt")
	pid := e.Pid("joinmnt")
	if got, want := NsInode(t, pid, "mnt"), NsInode(t, target, "mnt"); got != want {
		t.Errorf("container mount namespace %s, want the joined %s", got, want)
	}
	if root, _ := os.Readlink("/proc/" + target + "/root"); root != "/" {
		t.Errorf("the namespace's first process has root %q: pivot_root moved it", root)
	}
	if n := mountsUnder(t, b); n != 0 {
		t.Errorf("the container's mounts (%d) reached the runtime's namespace", n)
	}
}

// TestCreateWithoutProcess: process is required only by start (runtime-spec
// config.md); create succeeds and start fails clearly.
func TestCreateWithoutProcess(t *testing.T) {
	t.Parallel()
	e := NewEnv(t)
	b := e.Bundle([]string{"true"}, func(s *specs.Spec) { s.Process = nil })
	runToFile(t, e, "create", "-b", b, "noproc")
	if st := e.Status("noproc"); st != "created" {
		t.Fatalf("status %s after create", st)
	}
	r := e.Run("start", "noproc")
	if r.Code == 0 || !strings.Contains(r.Stderr, "process: missing") {
		t.Fatalf("start without process: exit %d %q", r.Code, r.Stderr)
	}
	e.WaitStatus("noproc", "stopped")
	e.MustRun("delete", "noproc")
}

// TestLSMUnavailable: an AppArmor profile or SELinux label this kernel
// cannot apply is refused at create, naming the field, nothing left.
func TestLSMUnavailable(t *testing.T) {
	t.Parallel()
	cases := map[string]func(*specs.Spec){}
	if _, err := os.Stat("/sys/kernel/security/apparmor"); err != nil {
		cases["process.apparmorProfile"] = func(s *specs.Spec) { s.Process.ApparmorProfile = "acme" }
	}
	if _, err := os.Stat("/sys/fs/selinux/enforce"); err != nil {
		cases["process.selinuxLabel"] = func(s *specs.Spec) { s.Process.SelinuxLabel = "system_u:system_r:container_t:s0" }
	}
	if len(cases) == 0 {
		t.Skip("AppArmor and SELinux are both enabled here")
	}
	for field, edit := range cases {
		e := NewEnv(t)
		b := e.Bundle([]string{"true"}, edit)
		r := e.Run("create", "-b", b, "lsm")
		if r.Code == 0 || !strings.Contains(r.Stderr, field) || !strings.Contains(r.Stderr, "not enabled") {
			t.Errorf("%s: exit %d %q", field, r.Code, r.Stderr)
		}
		if _, err := os.Stat(filepath.Join(e.Root, "lsm")); err == nil {
			t.Errorf("%s: state directory left behind", field)
		}
	}
}

// TestListenFds: socket-activation fds given to oci-rt (LISTEN_FDS) reach
// the container at fd 3 up, with LISTEN_FDS and LISTEN_PID=1 set.
func TestListenFds(t *testing.T) {
	t.Parallel()
	e := NewEnv(t)
	b := e.Bundle([]string{"sh", "-c", "echo $LISTEN_FDS $LISTEN_PID; readlink /proc/self/fd/3"}, nil)
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	out, err := os.Create(filepath.Join(e.Dir, "listen.out"))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	cmd := exec.Command(binary, "--root", e.Root, "run", "-b", b, "listen")
	cmd.ExtraFiles = []*os.File{r}
	cmd.Env = append(os.Environ(), "LISTEN_FDS=1")
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Run(); err != nil {
		data, _ := os.ReadFile(out.Name())
		t.Fatalf("run: %v: %s", err, data)
	}
	data, _ := os.ReadFile(out.Name())
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	var st syscall.Stat_t
	syscall.Fstat(int(r.Fd()), &st)
	if len(lines) != 2 || lines[0] != "1 1" || lines[1] != "pipe:["+itoa(int(st.Ino))+"]" {
		t.Fatalf("inside: %q, want \"1 1\" and our pipe pipe:[%d]", data, st.Ino)
	}
}

// notifierSource sends READY=1 to $NOTIFY_SOCKET, as sd_notify does.
const notifierSource = `#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
int main(void) {
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	const char *p = getenv("NOTIFY_SOCKET");
	int s = socket(AF_UNIX, SOCK_DGRAM, 0);
	if (!p || s < 0) return 2;
	strncpy(a.sun_path, p, sizeof(a.sun_path) - 1);
	if (sendto(s, "READY=1", 7, 0, (struct sockaddr *)&a, sizeof(a)) != 7) return 3;
	sleep(100);
	return 0;
}
`

// TestNotifySocket: with NOTIFY_SOCKET, the container's READY=1 reaches
// the caller's socket through start, with MAINPID the container's pid.
func TestNotifySocket(t *testing.T) {
	t.Parallel()
	e := NewEnv(t)
	src := filepath.Join(e.Dir, "notifier.c")
	os.WriteFile(src, []byte(notifierSource), 0o644)
	b := e.Bundle([]string{"/notifier"}, nil)
	if out, err := exec.Command("gcc", "-static", "-O2", "-o", filepath.Join(b, "rootfs", "notifier"), src).CombinedOutput(); err != nil {
		t.Fatalf("gcc: %v: %s", err, out)
	}
	host := filepath.Join(e.Dir, "host-notify.sock")
	l, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: host, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	out, _ := os.Create(filepath.Join(e.Dir, "notify.out"))
	defer out.Close()
	cmd := exec.Command(binary, "--root", e.Root, "run", "-d", "-b", b, "sdnotify")
	cmd.Env = append(os.Environ(), "NOTIFY_SOCKET="+host)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Run(); err != nil {
		data, _ := os.ReadFile(out.Name())
		t.Fatalf("run -d: %v: %s", err, data)
	}
	l.SetReadDeadline(time.Now().Add(10 * time.Second))
	buf := make([]byte, 4096)
	n, err := l.Read(buf)
	if err != nil {
		t.Fatalf("no notification on the caller's socket: %v", err)
	}
	want := "READY=1\nMAINPID=" + itoa(e.Pid("sdnotify")) + "\n"
	if string(buf[:n]) != want {
		t.Errorf("notification %q, want %q", buf[:n], want)
	}
}

const nobody = 65534

// rootlessRun runs a busybox bundle (edited by edit, after the rootless
// conversion) as the unprivileged user nobody, and returns its output,
// state root and error.
func rootlessRun(t *testing.T, args []string, edit func(*specs.Spec)) (out []byte, root string, err error) {
	t.Helper()
	e := NewEnv(t)
	dir := t.TempDir()
	os.Chmod(dir, 0o755)
	os.Chmod(filepath.Dir(dir), 0o755) // the test's own temp root, 0700
	bin := filepath.Join(dir, "oci-rt")
	if data, err := os.ReadFile(binary); err != nil || os.WriteFile(bin, data, 0o755) != nil {
		t.Fatalf("copy the binary: %v", err)
	}
	b := e.Bundle(args, func(s *specs.Spec) {
		specdefault.ToRootless(s)
		s.Linux.UIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: nobody, Size: 1}}
		s.Linux.GIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: nobody, Size: 1}}
		if edit != nil {
			edit(s)
		}
	})
	for _, d := range []string{e.Dir, b} {
		os.Chmod(d, 0o755)
	}
	root = filepath.Join(dir, "state")
	os.Mkdir(root, 0o700)
	filepath.Walk(b, func(p string, _ os.FileInfo, _ error) error { return os.Lchown(p, nobody, nobody) })
	os.Chown(root, nobody, nobody)
	// a hang fails the test instead of leaving nobody's processes behind
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--root", root, "run", "-b", b, "rootless")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nobody, Gid: nobody}, Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	out, err = cmd.CombinedOutput()
	if ctx.Err() != nil {
		t.Errorf("rootless run did not finish within a minute (killed): %s", out)
	}
	return out, root, err
}

// TestRootless: an unprivileged user runs a container in a user namespace
// of its own (uid 0 inside is that user outside), without a cgroup since it
// may not make one (--rootless auto), and deletes it without leftovers.
func TestRootless(t *testing.T) {
	t.Parallel()
	out, root, err := rootlessRun(t, []string{"sh", "-c", "id -u; cat /proc/self/uid_map"}, nil)
	if err != nil {
		t.Fatalf("rootless run: %v: %s", err, out)
	}
	lines := strings.Fields(string(out))
	if len(lines) != 4 || lines[0] != "0" || lines[1] != "0" || lines[2] != itoa(nobody) || lines[3] != "1" {
		t.Errorf("inside: %q, want uid 0 mapped to %d", out, nobody)
	}
	if ents, _ := os.ReadDir(root); len(ents) != 0 {
		t.Errorf("state left behind: %v", ents)
	}
}

// TestRootlessLimitsRefused: limits an unprivileged user cannot enforce
// (no cgroup of its own) fail create clearly instead of being dropped.
func TestRootlessLimitsRefused(t *testing.T) {
	t.Parallel()
	limit := int64(64 << 20)
	out, root, err := rootlessRun(t, []string{"true"}, func(s *specs.Spec) {
		s.Linux.Resources = &specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: &limit}}
	})
	if err == nil || !strings.Contains(string(out), "linux.cgroupsPath") || !strings.Contains(string(out), "permission denied") {
		t.Fatalf("rootless run with a memory limit: %v %q, want a permission error naming linux.cgroupsPath", err, out)
	}
	if ents, _ := os.ReadDir(root); len(ents) != 0 {
		t.Errorf("state left behind: %v", ents)
	}
}

// TestRootlessFlag: --rootless takes true, false or auto only.
func TestRootlessFlag(t *testing.T) {
	t.Parallel()
	e := NewEnv(t)
	r := e.Run("--rootless", "maybe", "run", "-b", e.Dir, "x")
	if r.Code == 0 || !strings.Contains(r.Stderr, `--rootless "maybe"`) {
		t.Fatalf("exit %d %q", r.Code, r.Stderr)
	}
}

// TestCallerSchedulingNotInherited: oci-rt gives its own threads a 1 ms
// timer slack (Go's sysmon wakes less) and pins them to one CPU (the Go
// runtime then runs one P); the container's process, a process exec'd into
// it, a startContainer hook (run by the executor) and host hooks (run by
// the CLI) get the caller's slack back, here this test's; the CLI's hooks
// get its CPUs, the container's processes every CPU their cgroup allows
// (here the same: TestAttrsCPUAffinityNotInherited has a caller on one).
func TestCallerSchedulingNotInherited(t *testing.T) {
	t.Parallel()
	mine, err := os.ReadFile("/proc/self/timerslack_ns")
	if err != nil {
		t.Skip("no /proc/self/timerslack_ns:", err)
	}
	myCPUs := cpusAllowed(t, "self")
	want := strings.TrimSpace(string(mine)) + "," + myCPUs
	e := NewEnv(t)
	out := filepath.Join(e.Dir, "hooks")
	report := func(name string) string {
		return "echo " + name + "=$(cat /proc/self/timerslack_ns),$(grep Cpus_allowed_list /proc/self/status | cut -f2)"
	}
	hook := func(name string) specs.Hook {
		return specs.Hook{Path: "/bin/sh", Args: []string{"sh", "-c", report(name) + " >> " + out}}
	}
	b := e.Bundle([]string{"sh", "-c", report("process") + "; sleep 1"}, func(s *specs.Spec) {
		s.Hooks = &specs.Hooks{CreateRuntime: []specs.Hook{hook("createRuntime")}, Poststop: []specs.Hook{hook("poststop")},
			// runs in the container: it writes into the rootfs
			StartContainer: []specs.Hook{{Path: "/bin/sh", Args: []string{"sh", "-c", report("startContainer") + " > /sc.out"}}}}
		s.Root.Readonly = false
	})
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(binary, "--root", e.Root, "run", "-b", b, "slack")
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond) // the container sleeps a second
	cli, _ := os.ReadFile(fmt.Sprintf("/proc/%d/timerslack_ns", cmd.Process.Pid))
	cliCPUs := cpusAllowed(t, strconv.Itoa(cmd.Process.Pid))
	ex := e.Run("exec", "slack", "sh", "-c", report("exec"))
	if err := cmd.Wait(); err != nil {
		t.Fatalf("run: %v: %s", err, stderr.String())
	}
	// what this test checks is only meaningful while oci-rt's differs
	if got := strings.TrimSpace(string(cli)); got != "1000000" {
		t.Errorf("oci-rt run's own timer slack %q, want 1000000", got)
	}
	if runtime.NumCPU() > 1 && (cliCPUs == myCPUs || strings.ContainsAny(cliCPUs, ",-")) {
		t.Errorf("oci-rt run's own CPUs %q, want one of %q", cliCPUs, myCPUs)
	}
	hooks, _ := os.ReadFile(out)
	sc, _ := os.ReadFile(filepath.Join(b, "rootfs", "sc.out"))
	all := stdout.String() + ex.Stdout + string(hooks) + string(sc)
	for _, who := range []string{"process", "exec", "startContainer", "createRuntime", "poststop"} {
		if !strings.Contains(all, who+"="+want+"\n") {
			t.Errorf("%s: timer slack and CPUs not %s (the caller's): %q", who, want, all)
		}
	}
}

// TestCallerGOMAXPROCSKeepsCPUs: a caller who sets GOMAXPROCS chose how
// the Go runtime runs: oci-rt then keeps the caller's CPUs itself.
func TestCallerGOMAXPROCSKeepsCPUs(t *testing.T) {
	t.Parallel()
	if runtime.NumCPU() < 2 {
		t.Skip("one CPU: oci-rt never pins itself")
	}
	e := NewEnv(t)
	b := e.Bundle([]string{"sleep", "1"}, nil)
	cmd := exec.Command(binary, "--root", e.Root, "run", "-b", b, "gomaxprocs")
	cmd.Env = append(os.Environ(), "GOMAXPROCS=2")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	got := cpusAllowed(t, strconv.Itoa(cmd.Process.Pid))
	if err := cmd.Wait(); err != nil {
		t.Fatalf("run: %v: %s", err, stderr.String())
	}
	if want := cpusAllowed(t, "self"); got != want {
		t.Errorf("oci-rt run with GOMAXPROCS set runs on CPUs %q, want the caller's %q", got, want)
	}
}

// cpusAllowed is Cpus_allowed_list of /proc/<pid>/status.
func cpusAllowed(t *testing.T, pid string) string {
	t.Helper()
	b, err := os.ReadFile("/proc/" + pid + "/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "Cpus_allowed_list:"); ok {
			return strings.TrimSpace(v)
		}
	}
	t.Fatalf("no Cpus_allowed_list in /proc/%s/status", pid)
	return ""
}

// TestCapsBeyondOwnBounding: a capability the runtime itself lacks (this
// sandbox withholds CAP_SYS_RESOURCE) cannot be granted: it is left out with
// a one-line warning naming it (runtime-spec config.md), and the container
// runs; nothing is left after run.
func TestCapsBeyondOwnBounding(t *testing.T) {
	t.Parallel()
	status, _ := os.ReadFile("/proc/self/status")
	var bnd uint64
	for _, l := range strings.Split(string(status), "\n") {
		if v, ok := strings.CutPrefix(l, "CapBnd:"); ok {
			fmt.Sscanf(strings.TrimSpace(v), "%x", &bnd)
		}
	}
	const capSysResource = 24
	if bnd&(1<<capSysResource) != 0 {
		t.Skip("this host grants CAP_SYS_RESOURCE: nothing to refuse")
	}
	e := NewEnv(t)
	b := e.Bundle([]string{"true"}, func(s *specs.Spec) {
		c := s.Process.Capabilities
		c.Bounding = append(c.Bounding, "CAP_SYS_RESOURCE")
		c.Permitted = append(c.Permitted, "CAP_SYS_RESOURCE")
		c.Effective = append(c.Effective, "CAP_SYS_RESOURCE")
	})
	r := e.Run("run", "-b", b, "capbeyond")
	if r.Code != 0 || !strings.Contains(r.Stderr, "warning") || !strings.Contains(r.Stderr, "process.capabilities") ||
		!strings.Contains(r.Stderr, "CAP_SYS_RESOURCE") || strings.Count(strings.TrimSpace(r.Stderr), "\n") != 0 {
		t.Fatalf("exit %d, stderr %q: want it to run, with one warning naming process.capabilities and CAP_SYS_RESOURCE", r.Code, r.Stderr)
	}
	if ents, _ := os.ReadDir(e.Root); len(ents) != 0 {
		t.Errorf("state left behind: %v", ents)
	}
}
