package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// e2ePodmanEnv is podman with its own root, runroot, tmpdir, configuration
// (CONTAINERS_CONF, CONTAINERS_STORAGE_CONF, CONTAINERS_REGISTRIES_CONF),
// file locks and events, cgroupfs, no default network, and every container
// under its own cgroup parent.
type e2ePodmanEnv struct {
	Dir          string
	CgroupParent string
	podman       string
	env          []string
	global       []string
}

var e2ePodmanShared e2eShared[*e2ePodmanEnv]

// e2ePodman returns the podman environment, loading the image the first
// time. The test is skipped when podman or conmon is not installed.
func e2ePodman(t *testing.T) *e2ePodmanEnv {
	t.Helper()
	return e2ePodmanShared.Get(t, func() (*e2ePodmanEnv, string, error) {
		podman := e2eLookPath("podman")
		if podman == "" || e2eLookPath("conmon") == "" {
			return nil, "podman or conmon not installed: apt-get install -y podman", nil
		}
		p, err := e2eSetupPodman(podman)
		return p, "", err
	})
}

func e2eSetupPodman(podman string) (*e2ePodmanEnv, error) {
	dir := filepath.Join(e2eTmp, "podman")
	p := &e2ePodmanEnv{
		Dir:          dir,
		CgroupParent: fmt.Sprintf("/oci-rt-e2e-podman-%d", os.Getpid()),
		podman:       podman,
	}
	for _, d := range []string{"root", "runroot", "tmp", "networks", "volumes"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o711); err != nil {
			return nil, err
		}
	}
	// The sandbox has no CAP_SYS_RESOURCE: podman's default rlimits for
	// root (nofile 1048576, nproc raised) cannot be set by any runtime, so
	// ask for what conmon has: our nofile hard limit and podman's nproc cap.
	var nofile, nproc syscall.Rlimit
	syscall.Getrlimit(syscall.RLIMIT_NOFILE, &nofile)
	syscall.Getrlimit(6 /* RLIMIT_NPROC */, &nproc)
	nf, np := min(nofile.Max, 1048576), min(nproc.Max, 32768)
	conf := fmt.Sprintf(`[containers]
netns = "none"
default_ulimits = ["nofile=%d:%d", "nproc=%d:%d"]

[network]
network_config_dir = %q

[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = %q
lock_type = "file"
tmp_dir = %q
volume_path = %q
`, nf, nf, np, np, filepath.Join(dir, "networks"), filepath.Join(dir, "events.log"), filepath.Join(dir, "tmp"), filepath.Join(dir, "volumes"))
	storage := fmt.Sprintf("[storage]\ndriver = \"overlay\"\ngraphroot = %q\nrunroot = %q\n",
		filepath.Join(dir, "root"), filepath.Join(dir, "runroot"))
	files := map[string]string{"containers.conf": conf, "storage.conf": storage, "registries.conf": ""}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			return nil, err
		}
	}
	p.env = []string{
		"CONTAINERS_CONF=" + filepath.Join(dir, "containers.conf"),
		"CONTAINERS_STORAGE_CONF=" + filepath.Join(dir, "storage.conf"),
		"CONTAINERS_REGISTRIES_CONF=" + filepath.Join(dir, "registries.conf"),
	}
	p.global = []string{
		"--root", filepath.Join(dir, "root"),
		"--runroot", filepath.Join(dir, "runroot"),
		"--tmpdir", filepath.Join(dir, "tmp"),
		"--storage-driver", "overlay",
		"--cgroup-manager", "cgroupfs",
		"--events-backend", "file",
	}
	e2eAtExit(func() {
		cmd := exec.Command(podman, append(p.global, "rm", "--all", "--force", "--time", "0")...)
		cmd.Env = append(os.Environ(), p.env...)
		cmd.Run()
		e2eUnmountUnder(dir)
		// conmon (in <parent>/conmon) may still be exiting.
		e2eWait(10*time.Second, func() bool {
			b, err := os.ReadFile(filepath.Join("/sys/fs/cgroup/memory", p.CgroupParent, "conmon", "cgroup.procs"))
			return err != nil || strings.TrimSpace(string(b)) == ""
		})
		e2eRemoveCgroupTree(p.CgroupParent)
	})
	cmd := exec.Command(podman, append(p.global, "load", "-i", e2eImageArchive)...)
	cmd.Env = append(os.Environ(), p.env...)
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("podman load: %v\n%s", err, out)
	}
	return p, nil
}

// argv is podman's arguments for args: the environment's global flags and
// --runtime rt, which every podman command of a case needs, plain or on a
// pty.
func (p *e2ePodmanEnv) argv(rt e2eRuntime, args ...string) []string {
	a := append(append([]string(nil), p.global...), "--runtime", rt.Path)
	return append(a, args...)
}

// Podman runs podman with the environment's flags and --runtime rt.
func (p *e2ePodmanEnv) Podman(t *testing.T, rt e2eRuntime, args ...string) e2eResult {
	t.Helper()
	return e2eExec(t, 90*time.Second, p.env, "", p.podman, p.argv(rt, args...)...)
}

// PodmanOK runs podman and fails the test unless it exits 0.
func (p *e2ePodmanEnv) PodmanOK(t *testing.T, rt e2eRuntime, args ...string) e2eResult {
	t.Helper()
	return e2eExpect(t, p.Podman(t, rt, args...), 0)
}

// RunArgs is "run" with the container's name and cgroup parent, flags, the
// image and the payload's args.
func (p *e2ePodmanEnv) RunArgs(name string, flags []string, args ...string) []string {
	a := []string{"run", "--name", name, "--cgroup-parent", p.CgroupParent}
	a = append(a, flags...)
	a = append(a, e2eImageRef)
	return append(a, args...)
}

// Track removes the container at the end of the test.
func (p *e2ePodmanEnv) Track(t *testing.T, rt e2eRuntime, name string) {
	t.Cleanup(func() { p.Podman(t, rt, "rm", "--force", "--time", "0", name) })
}

// Inspect returns `podman inspect --format <format> name`.
func (p *e2ePodmanEnv) Inspect(t *testing.T, rt e2eRuntime, name, format string) string {
	t.Helper()
	return strings.TrimSpace(p.PodmanOK(t, rt, "inspect", "--format", format, name).Stdout)
}

// Detached starts a detached container and returns its id and host pid.
func (p *e2ePodmanEnv) Detached(t *testing.T, rt e2eRuntime, name string, flags []string, args ...string) (string, int) {
	t.Helper()
	p.Track(t, rt, name)
	id := strings.TrimSpace(p.PodmanOK(t, rt, p.RunArgs(name, append([]string{"-d"}, flags...), args...)...).Stdout)
	pid, err := strconv.Atoi(p.Inspect(t, rt, name, "{{.State.Pid}}"))
	if err != nil || pid <= 0 || !e2eAlive(pid) {
		t.Fatalf("container %s: pid %d (%v) not running; status %s", name, pid, err, p.Inspect(t, rt, name, "{{.State.Status}}"))
	}
	return id, pid
}

// Exec runs args in container name; e2eCheck* helpers take it as their
// way in.
func (p *e2ePodmanEnv) Exec(t *testing.T, rt e2eRuntime, name string) func(args ...string) e2eResult {
	return func(args ...string) e2eResult {
		t.Helper()
		return p.Podman(t, rt, append([]string{"exec", name}, args...)...)
	}
}

// MemCgroup is the memory cgroup podman gives container id.
func (p *e2ePodmanEnv) MemCgroup(id string) string {
	return filepath.Join("/sys/fs/cgroup/memory", p.CgroupParent, "libpod-"+id)
}

// e2ePodmanEach is how every podman case starts: a parallel test in the
// shared podman environment, then f as one subtest per runtime with its
// own container name (prefix, runtime, sequence).
func e2ePodmanEach(t *testing.T, prefix string, f func(t *testing.T, p *e2ePodmanEnv, rt e2eRuntime, name string)) {
	t.Helper()
	t.Parallel()
	p := e2ePodman(t)
	e2eForEachRuntime(t, func(t *testing.T, rt e2eRuntime) {
		f(t, p, rt, e2eName(prefix, rt))
	})
}

// e2eRuntimeStatePath is where podman (which passes no --root) makes the
// runtime keep the state of container id: under the runtime's default
// root; "" for a runtime whose default is not known here.
func e2eRuntimeStatePath(rt e2eRuntime, id string) string {
	switch rt.Name {
	case "oci-rt":
		return filepath.Join("/run/oci-rt", id)
	case "runc", "crun":
		return filepath.Join("/run", rt.Name, id)
	}
	return ""
}

// TestPodmanRunRm: `podman run --rm` of a payload writing to stdout and
// stderr and exiting 7: output and exit code relayed, pid 1 in its own pid
// namespace; afterwards podman, the runtime's state and the cgroup hold
// nothing of the container.
func TestPodmanRunRm(t *testing.T) {
	e2ePodmanEach(t, "rm", func(t *testing.T, p *e2ePodmanEnv, rt e2eRuntime, name string) {
		p.Track(t, rt, name)
		cidFile := filepath.Join(t.TempDir(), "cid")
		r := e2eExpect(t, p.Podman(t, rt, p.RunArgs(name, []string{"--rm", "--cidfile", cidFile}, "sh", "-c",
			`echo out; echo err >&2; echo "pid=$$"; exit 7`)...), 7)
		if got := strings.Join(e2eLines(r.Stdout), "|"); got != "out|pid=1" {
			t.Errorf("stdout %q, want out, pid=1", r.Stdout)
		}
		if !strings.Contains(r.Stderr, "err") {
			t.Errorf("stderr %q lacks the payload's \"err\"", r.Stderr)
		}
		b, err := os.ReadFile(cidFile)
		if err != nil {
			t.Fatal(err)
		}
		id := strings.TrimSpace(string(b))
		if out := p.PodmanOK(t, rt, "ps", "--all", "--quiet", "--no-trunc", "--filter", "id="+id).Stdout; strings.TrimSpace(out) != "" {
			t.Errorf("--rm left the container: %q", out)
		}
		e2eAssertGone(t, "runtime state", e2eRuntimeStatePath(rt, id))
		e2eAssertGone(t, "cgroup", p.MemCgroup(id))
	})
}

// TestPodmanDetachedLifecycle: `run -d`, then `exec` (exit code relayed,
// sees pid 1), `top`, `stop` (SIGTERM, trapped: exit 42) and `rm`, each
// checked from inside and from the host.
func TestPodmanDetachedLifecycle(t *testing.T) {
	e2ePodmanEach(t, "life", func(t *testing.T, p *e2ePodmanEnv, rt e2eRuntime, name string) {
		id, pid := p.Detached(t, rt, name, nil, "sh", "-c", `trap "exit 42" TERM; sleep 1000 & wait`)
		if e2eNs(pid, "pid") == e2eNs("self", "pid") {
			t.Errorf("container shares the host pid namespace")
		}
		memcg := e2eCgroupDir(t, pid, "memory")
		if want := p.MemCgroup(id); memcg != want {
			t.Errorf("container in memory cgroup %s, want %s", memcg, want)
		}
		state := e2eRuntimeStatePath(rt, id)
		if state != "" {
			if _, err := os.Stat(state); err != nil {
				t.Errorf("no runtime state: %v", err)
			}
		}

		e2eCheckExecSeesInit(t, `sh -c trap "exit 42" TERM; sleep 1000 & wait`, p.Exec(t, rt, name))

		r := p.PodmanOK(t, rt, "top", name, "pid", "hpid", "args")
		hpids := e2eColumn(r.Stdout, 1)
		want := strings.Fields(e2eReadTrim(t, filepath.Join(memcg, "cgroup.procs")))
		if e2eSortedJoin(hpids) != e2eSortedJoin(want) || !strings.Contains(r.Stdout, "sleep 1000") ||
			!e2eContains(hpids, strconv.Itoa(pid)) {
			t.Errorf("top: host pids %v, cgroup.procs %v (init %d):\n%s", hpids, want, pid, r.Stdout)
		}

		p.PodmanOK(t, rt, "stop", "--time", "10", name)
		if st, code := p.Inspect(t, rt, name, "{{.State.Status}} {{.State.ExitCode}}"), "exited 42"; st != code {
			t.Errorf("after stop: %q, want %q (the payload trapped SIGTERM)", st, code)
		}
		if !e2eWait(5*time.Second, func() bool { return !e2eAlive(pid) }) {
			t.Errorf("pid %d alive after stop", pid)
		}
		p.PodmanOK(t, rt, "rm", name)
		if r := p.Podman(t, rt, "inspect", name); r.Code == 0 {
			t.Errorf("container still inspectable after rm")
		}
		e2eAssertGone(t, "runtime state", state)
		e2eAssertGone(t, "cgroup", memcg)
	})
}

// TestPodmanShareNamespaces: --pid=container:A and --ipc=container:A join
// A's namespaces (and nothing else), --uts=host and --pid=host join the
// host's.
func TestPodmanShareNamespaces(t *testing.T) {
	e2ePodmanEach(t, "nsa", func(t *testing.T, p *e2ePodmanEnv, rt e2eRuntime, a string) {
		_, pidA := p.Detached(t, rt, a, nil, "sleep", "1000")
		b := e2eName("nsb", rt)
		_, pidB := p.Detached(t, rt, b, []string{"--pid=container:" + a, "--ipc=container:" + a}, "sleep", "999")
		for _, ns := range []string{"pid", "ipc"} {
			if e2eNs(pidB, ns) != e2eNs(pidA, ns) {
				t.Errorf("%s namespace of B %s, of A %s: want shared", ns, e2eNs(pidB, ns), e2eNs(pidA, ns))
			}
			if e2eNs(pidB, ns) == e2eNs("self", ns) {
				t.Errorf("B is in the host %s namespace", ns)
			}
		}
		for _, ns := range []string{"mnt", "uts", "net"} {
			if e2eNs(pidB, ns) == e2eNs(pidA, ns) {
				t.Errorf("B shares A's %s namespace, which it did not ask for", ns)
			}
		}
		// Inside B: pid 1 is A's sleep, and B's sleep is another pid.
		r := p.PodmanOK(t, rt, "exec", b, "sh", "-c", `tr '\0' ' ' < /proc/1/cmdline; echo; ps -o pid,args`)
		if l := e2eLines(r.Stdout); len(l) == 0 || l[0] != "sleep 1000" || !strings.Contains(r.Stdout, "sleep 999") {
			t.Errorf("inside B: want pid 1 = A's sleep 1000 and B's sleep 999 listed, got %s", r)
		}

		h := e2eName("nsh", rt)
		_, pidH := p.Detached(t, rt, h, []string{"--uts=host", "--pid=host"}, "sleep", "1000")
		for _, ns := range []string{"uts", "pid"} {
			if e2eNs(pidH, ns) != e2eNs("self", ns) {
				t.Errorf("--%s=host: container in %s, host in %s", ns, e2eNs(pidH, ns), e2eNs("self", ns))
			}
		}
		if e2eNs(pidH, "mnt") == e2eNs("self", "mnt") {
			t.Errorf("--pid=host container shares the host mount namespace")
		}
		host, _ := os.Hostname()
		r = p.PodmanOK(t, rt, "exec", h, "sh", "-c", fmt.Sprintf(`hostname; echo "self=$$"; test -d /proc/%d && echo sees-test`, os.Getpid()))
		l := e2eLines(r.Stdout)
		if len(l) != 3 || l[0] != host || l[1] == "self=1" || l[2] != "sees-test" {
			t.Errorf("inside --uts=host --pid=host: want hostname %q, a host pid, the test's pid %d visible; got %s", host, os.Getpid(), r)
		}
	})
}

// TestPodmanUserns: --uidmap/--gidmap 0:100000:65536: root inside is
// 100000 outside, in a new user namespace with those maps, and a file it
// creates belongs to 100000 on the host.
func TestPodmanUserns(t *testing.T) {
	e2ePodmanEach(t, "userns", func(t *testing.T, p *e2ePodmanEnv, rt e2eRuntime, name string) {
		_, pid := p.Detached(t, rt, name, []string{"--uidmap", "0:100000:65536", "--gidmap", "0:100000:65536"}, "sleep", "1000")
		if e2eNs(pid, "user") == e2eNs("self", "user") {
			t.Errorf("container in the host user namespace")
		}
		for _, f := range []string{"uid_map", "gid_map"} {
			if m := strings.Join(strings.Fields(e2eReadTrim(t, fmt.Sprintf("/proc/%d/%s", pid, f))), " "); m != "0 100000 65536" {
				t.Errorf("host: /proc/%d/%s = %q, want 0 100000 65536", pid, f, m)
			}
		}
		var st syscall.Stat_t
		if err := syscall.Stat(fmt.Sprintf("/proc/%d", pid), &st); err != nil || st.Uid != 100000 || st.Gid != 100000 {
			t.Errorf("host: pid %d owned by %d:%d (%v), want 100000:100000", pid, st.Uid, st.Gid, err)
		}
		r := p.PodmanOK(t, rt, "exec", name, "sh", "-c", `id -u; id -g; cat /proc/self/uid_map; touch /tmp/mine`)
		if l := e2eLines(r.Stdout); len(l) != 3 || l[0] != "0" || l[1] != "0" || strings.Join(strings.Fields(l[2]), " ") != "0 100000 65536" {
			t.Errorf("inside: want uid 0, gid 0 and map 0 100000 65536, got %s", r)
		}
		if err := syscall.Stat(fmt.Sprintf("/proc/%d/root/tmp/mine", pid), &st); err != nil || st.Uid != 100000 {
			t.Errorf("host: /tmp/mine owned by %d (%v), want 100000", st.Uid, err)
		}
	})
}

// TestPodmanNetworkNone: --network=none: a new network namespace with only
// a loopback interface, seen inside and from the host.
func TestPodmanNetworkNone(t *testing.T) {
	e2ePodmanEach(t, "net", func(t *testing.T, p *e2ePodmanEnv, rt e2eRuntime, name string) {
		_, pid := p.Detached(t, rt, name, []string{"--network=none"}, "sleep", "1000")
		if e2eNs(pid, "net") == e2eNs("self", "net") {
			t.Fatalf("container in the host network namespace")
		}
		if ifs := e2eNetDevs(e2eReadTrim(t, fmt.Sprintf("/proc/%d/net/dev", pid))); ifs != "lo" {
			t.Errorf("host: the container's interfaces are %q, want lo", ifs)
		}
		r := p.PodmanOK(t, rt, "exec", name, "cat", "/proc/net/dev")
		if ifs := e2eNetDevs(r.Stdout); ifs != "lo" {
			t.Errorf("inside: interfaces %q, want lo", ifs)
		}
	})
}

// e2eNetDevs returns the interface names of a /proc/net/dev, sorted.
func e2eNetDevs(dev string) string {
	var names []string
	for _, l := range e2eLines(dev) {
		if i := strings.IndexByte(l, ':'); i > 0 && !strings.Contains(l, "|") {
			names = append(names, strings.TrimSpace(l[:i]))
		}
	}
	return e2eSortedJoin(names)
}

// TestPodmanReadOnly: --read-only: writes to / fail inside and from the
// host through /proc/<pid>/root; the tmpfs podman puts on /tmp stays
// writable.
func TestPodmanReadOnly(t *testing.T) {
	e2ePodmanEach(t, "ro", func(t *testing.T, p *e2ePodmanEnv, rt e2eRuntime, name string) {
		_, pid := p.Detached(t, rt, name, []string{"--read-only"}, "sleep", "1000")
		e2eCheckReadOnlyRoot(t, pid, "/tmp", func(script string) e2eResult {
			return p.Podman(t, rt, "exec", name, "sh", "-c", script)
		})
	})
}

// TestPodmanResources: --memory 64m, --pids-limit 50 and --cpu-shares 256
// are the limits of the container's cgroups on the host (cgroup v1), and
// the memory limit is what the container reads in its own
// /sys/fs/cgroup/memory; `podman update --memory 128m --cpu-shares 512`
// (the runtime's update --resources) changes them in place.
func TestPodmanResources(t *testing.T) {
	e2ePodmanEach(t, "mem", func(t *testing.T, p *e2ePodmanEnv, rt e2eRuntime, name string) {
		id, pid := p.Detached(t, rt, name, []string{"--memory", "64m", "--pids-limit", "50", "--cpu-shares", "256"}, "sleep", "1000")
		cg := e2eCgroupDir(t, pid, "memory")
		if want := p.MemCgroup(id); cg != want {
			t.Errorf("memory cgroup %s, want %s", cg, want)
		}
		check := func(when, mem, shares string) {
			t.Helper()
			if l := e2eReadTrim(t, filepath.Join(cg, "memory.limit_in_bytes")); l != mem {
				t.Errorf("%s: host memory.limit_in_bytes %s, want %s", when, l, mem)
			}
			if l := e2eReadTrim(t, filepath.Join(e2eCgroupDir(t, pid, "cpu"), "cpu.shares")); l != shares {
				t.Errorf("%s: host cpu.shares %s, want %s", when, l, shares)
			}
			if l := e2eReadTrim(t, filepath.Join(e2eCgroupDir(t, pid, "pids"), "pids.max")); l != "50" {
				t.Errorf("%s: host pids.max %s, want 50", when, l)
			}
			r := p.PodmanOK(t, rt, "exec", name, "cat", "/sys/fs/cgroup/memory/memory.limit_in_bytes")
			if l := strings.TrimSpace(r.Stdout); l != mem {
				t.Errorf("%s: inside /sys/fs/cgroup/memory/memory.limit_in_bytes %q, want %s", when, l, mem)
			}
		}
		check("run", "67108864", "256")
		p.PodmanOK(t, rt, "update", "--memory", "128m", "--cpu-shares", "512", name)
		check("update", "134217728", "512")
	})
}

// TestPodmanPause: pause freezes the container's cgroup (status paused,
// freezer FROZEN), unpause thaws it and exec works again.
func TestPodmanPause(t *testing.T) {
	e2ePodmanEach(t, "pause", func(t *testing.T, p *e2ePodmanEnv, rt e2eRuntime, name string) {
		_, pid := p.Detached(t, rt, name, nil, "sleep", "1000")
		freezer := filepath.Join(e2eCgroupDir(t, pid, "freezer"), "freezer.state")
		p.PodmanOK(t, rt, "pause", name)
		if st := p.Inspect(t, rt, name, "{{.State.Status}}"); st != "paused" {
			t.Errorf("after pause: status %s", st)
		}
		if s := e2eReadTrim(t, freezer); s != "FROZEN" {
			t.Errorf("after pause: freezer.state %s", s)
		}
		p.PodmanOK(t, rt, "unpause", name)
		if st := p.Inspect(t, rt, name, "{{.State.Status}}"); st != "running" {
			t.Errorf("after unpause: status %s", st)
		}
		if s := e2eReadTrim(t, freezer); s != "THAWED" {
			t.Errorf("after unpause: freezer.state %s", s)
		}
		if r := p.PodmanOK(t, rt, "exec", name, "echo", "alive"); strings.TrimSpace(r.Stdout) != "alive" {
			t.Errorf("exec after unpause: %s", r)
		}
	})
}

// TestPodmanTmpfsCopyUp: `--tmpfs /etc` gets podman's default "tmpcopyup"
// option (a runc extension also used for the /tmp, /run and /var/tmp of
// --read-only): the new tmpfs starts with the image's /etc in it. Seen
// inside (a tmpfs on /etc holding passwd) and from the host
// (/proc/<pid>/mountinfo, /proc/<pid>/root/etc/passwd).
func TestPodmanTmpfsCopyUp(t *testing.T) {
	e2ePodmanEach(t, "copyup", func(t *testing.T, p *e2ePodmanEnv, rt e2eRuntime, name string) {
		_, pid := p.Detached(t, rt, name, []string{"--tmpfs", "/etc"}, "sleep", "1000")
		r := p.PodmanOK(t, rt, "exec", name, "sh", "-c", `grep -c '^app:' /etc/passwd; awk '$5 == "/etc" {print $9}' /proc/self/mountinfo`)
		if l := e2eLines(r.Stdout); len(l) != 2 || l[0] != "1" || l[1] != "tmpfs" {
			t.Errorf("inside: want the image's /etc/passwd on a tmpfs /etc, got %s", r)
		}
		found := false
		for _, m := range e2eMounts(t, pid) {
			if m.Mountpoint == "/etc" && m.FSType == "tmpfs" {
				found = true
			}
		}
		if !found {
			t.Errorf("host: no tmpfs on /etc in /proc/%d/mountinfo", pid)
		}
		if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/root/etc/passwd", pid)); err != nil || !strings.Contains(string(b), "app:x:1000") {
			t.Errorf("host: /proc/%d/root/etc/passwd = %q (%v), want the image's", pid, b, err)
		}
	})
}

// TestPodmanTTY: `podman run -it` from a terminal (conmon hands the
// runtime a --console-socket): the payload's stdin and stdout are the
// container's pty, what is typed reaches it, the exit code is relayed;
// `podman exec -it` gets a terminal too.
func TestPodmanTTY(t *testing.T) {
	e2ePodmanEach(t, "tty", func(t *testing.T, p *e2ePodmanEnv, rt e2eRuntime, name string) {
		p.Track(t, rt, name)
		args := p.argv(rt, p.RunArgs(name, []string{"-it"}, "sh", "-c", `echo "tty=$(tty)"; [ -t 1 ] && echo stdout-is-tty; read x; echo "got:$x"; exit 4`)...)
		cmd := e2eStartPtyEnv(t, 60*time.Second, p.env, p.podman, args...)
		cmd.WaitFor("stdout-is-tty", 30*time.Second)
		if !e2eTTYNameRe.MatchString(cmd.Output()) {
			t.Errorf("payload's stdin is not a pts: %q", cmd.Output())
		}
		pid, _ := strconv.Atoi(p.Inspect(t, rt, name, "{{.State.Pid}}"))
		if pid > 0 {
			if nr, major, _ := e2eTTYDev(t, pid); major != 136 {
				t.Errorf("host: the payload's controlling terminal tty_nr %d is not a pts", nr)
			}
		}
		cmd.Write("hello\r")
		code, out := cmd.Wait()
		if code != 4 || !strings.Contains(out, "got:hello") {
			t.Errorf("podman run -it: exit %d (want 4), output %q (want got:hello)", code, out)
		}

		ex := e2eName("ttyexec", rt)
		p.Detached(t, rt, ex, nil, "sleep", "1000")
		args = p.argv(rt, "exec", "-it", ex, "sh", "-c", `echo "tty=$(tty)"; exit 3`)
		e := e2eStartPtyEnv(t, 60*time.Second, p.env, p.podman, args...)
		code, out = e.Wait()
		if code != 3 || !e2eTTYNameRe.MatchString(out) {
			t.Errorf("podman exec -it: exit %d (want 3), output %q (want a pts)", code, out)
		}
	})
}

// TestPodmanCommandNotFound: podman's documented exit codes for a payload
// that cannot run: 127 when the command does not exist, 126 when it cannot
// be invoked (not executable). Podman derives them from the runtime's
// create error, so the runtime must find out at create time (as runc does)
// and say "no such file or directory" / "permission denied". Afterwards no
// runtime state is left for the container.
func TestPodmanCommandNotFound(t *testing.T) {
	e2ePodmanEach(t, "notfound", func(t *testing.T, p *e2ePodmanEnv, rt e2eRuntime, base string) {
		for i, c := range []struct {
			arg  string
			code int
			why  string
		}{
			{"/nonexistent", 127, "no such file or directory"},
			{"/etc/passwd", 126, "permission denied"},
		} {
			name := fmt.Sprintf("%s-%d", base, i)
			p.Track(t, rt, name)
			cidFile := filepath.Join(t.TempDir(), "cid")
			r := p.Podman(t, rt, p.RunArgs(name, []string{"--rm", "--cidfile", cidFile}, c.arg)...)
			if r.Code != c.code || !strings.Contains(strings.ToLower(r.Stderr), c.why) {
				t.Errorf("run %s: want exit %d and %q, got %s", c.arg, c.code, c.why, r)
			}
			p.Podman(t, rt, "rm", "--force", "--time", "0", name)
			b, _ := os.ReadFile(cidFile)
			if id := strings.TrimSpace(string(b)); id != "" {
				e2eAssertGone(t, "run "+c.arg+": runtime state", e2eRuntimeStatePath(rt, id))
			}
		}
	})
}

// TestPodmanProcess: --init (catatonit bound in as /run/podman-init),
// --user 1000:1000 --group-add 2000, --workdir, --hostname, --env,
// --cap-drop all --cap-add NET_RAW, no-new-privileges and podman's default
// seccomp profile: pid 1 is podman-init running the payload, and the
// payload's identity, directory, name, environment, capabilities and
// seccomp mode are as asked, from inside and in the host's /proc.
func TestPodmanProcess(t *testing.T) {
	e2ePodmanEach(t, "proc", func(t *testing.T, p *e2ePodmanEnv, rt e2eRuntime, name string) {
		if _, err := os.Stat("/usr/libexec/podman/catatonit"); err != nil && e2eLookPath("catatonit") == "" {
			t.Fatal("podman --init needs catatonit: apt-get install -y catatonit")
		}
		_, pid := p.Detached(t, rt, name, []string{"--init", "--user", "1000:1000", "--group-add", "2000",
			"--workdir", "/home/app", "--hostname", "e2e-pod", "--env", "E2E_X=y", "--cap-drop", "all",
			"--cap-add", "NET_RAW", "--security-opt", "no-new-privileges"},
			"sh", "-c", `echo "$(id)|$(pwd)|$(hostname)|$E2E_X" > /tmp/seen; exec sleep 1000`)
		seen := e2eFirstOutput(func() string { return p.Podman(t, rt, "exec", name, "cat", "/tmp/seen").Stdout })
		if want := "uid=1000(app) gid=1000(app) groups=1000(app),2000(extra)|/home/app|e2e-pod|y"; seen != want {
			t.Errorf("payload saw %q, want %q", seen, want)
		}
		r := p.PodmanOK(t, rt, "exec", name, "sh", "-c", `tr '\0' ' ' < /proc/1/cmdline`)
		if got := strings.TrimSpace(r.Stdout); !strings.HasPrefix(got, "/run/podman-init -- sh -c") {
			t.Errorf("pid 1 is %q, want /run/podman-init -- sh -c ...", got)
		}
		// Host: pid 1 (podman-init) and the payload under it.
		status := e2eReadTrim(t, fmt.Sprintf("/proc/%d/status", pid))
		for _, want := range []string{"Uid:\t1000\t1000\t1000\t1000", "Gid:\t1000\t1000\t1000\t1000",
			"Groups:\t1000 2000", "CapEff:\t0000000000002000", "CapBnd:\t0000000000002000",
			"NoNewPrivs:\t1", "Seccomp:\t2"} {
			if !strings.Contains(status, want) {
				t.Errorf("host: /proc/%d/status lacks %q:\n%s", pid, want, status)
			}
		}
		e2eAssertUTSHostname(t, pid, "e2e-pod")
	})
}
