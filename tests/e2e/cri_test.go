package e2e

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The CRI case drives the runtimes as Kubernetes does: containerd's CRI
// plugin with each runtime as a RuntimeClass handler (the runc shim v2
// with BinaryName), spoken to by crictl from sigs.k8s.io/cri-tools. The
// pod network is a CNI bridge of the test's own from Debian's
// containernetworking-plugins; the sandbox image is a pause built here.

// e2eCrictlVersion is the cri-tools release scripts/deps.sh builds.
const e2eCrictlVersion = "v1.34.0"

// e2ePauseRef is the sandbox image the CRI plugin is told to use.
const e2ePauseRef = "localhost/oci-rt-e2e/pause:latest"

// e2eCRI is a containerd daemon of this test run with its CRI plugin: its
// own config, root, state, sockets and CNI network under e2eTmp.
type e2eCRI struct {
	Dir          string
	Sock         string
	CgroupParent string // every pod's cgroup is under it
	crictl       string
	crictlConfig string
	e2eDaemon
	bridge string
}

var e2eCRIShared e2eShared[*e2eCRI]

// e2eCrictl finds crictl: $CRICTL, the build scripts/deps.sh caches, or
// $PATH; "" if none.
func e2eCrictl() string {
	for _, p := range []string{os.Getenv("CRICTL"), "/var/cache/oci-rt/crictl-" + e2eCrictlVersion + "/crictl"} {
		if p != "" {
			if _, err := os.Stat(p); err == nil {
				return p
			}
		}
	}
	return e2eLookPath("crictl")
}

// e2eCRIDaemon returns the running daemon, starting it the first time. The
// test is skipped when containerd, crictl, the CNI plugins or a C compiler
// for the pause are missing.
func e2eCRIDaemon(t *testing.T) *e2eCRI {
	t.Helper()
	return e2eCRIShared.Get(t, func() (*e2eCRI, string, error) {
		daemon, ctr := e2eLookPath("containerd"), e2eLookPath("ctr")
		if daemon == "" || ctr == "" || e2eLookPath("containerd-shim-runc-v2") == "" {
			return nil, "containerd not installed: apt-get install -y containerd", nil
		}
		crictl := e2eCrictl()
		if crictl == "" {
			return nil, "crictl not found: scripts/deps.sh builds it into /var/cache/oci-rt (or set $CRICTL)", nil
		}
		if _, err := os.Stat("/usr/lib/cni/bridge"); err != nil {
			return nil, "CNI plugins not installed: apt-get install -y containernetworking-plugins", nil
		}
		cc := e2eLookPath("musl-gcc")
		if cc == "" {
			cc = e2eLookPath("cc")
		}
		if cc == "" {
			return nil, "no C compiler for the pause image: apt-get install -y build-essential", nil
		}
		c, err := e2eStartCRI(t, daemon, ctr, crictl, cc)
		return c, "", err
	})
}

func e2eStartCRI(t *testing.T, daemon, ctr, crictl, cc string) (*e2eCRI, error) {
	dir := filepath.Join(e2eTmp, "cri")
	if err := os.MkdirAll(filepath.Join(dir, "cni", "conf"), 0o711); err != nil {
		return nil, err
	}
	c := &e2eCRI{
		Dir:          dir,
		Sock:         filepath.Join(dir, "containerd.sock"),
		CgroupParent: fmt.Sprintf("/oci-rt-e2e-cri-%d", os.Getpid()),
		crictl:       crictl,
		crictlConfig: filepath.Join(dir, "crictl.yaml"),
		e2eDaemon:    e2eDaemon{log: filepath.Join(dir, "containerd.log")},
		bridge:       fmt.Sprintf("ocirtcri%d", os.Getpid()%1000000),
	}
	pause, err := e2eBuildPauseArchive(filepath.Join(dir, "pause-image"), cc)
	if err != nil {
		return nil, err
	}
	subnet, err := e2eFreeSubnet()
	if err != nil {
		return nil, err
	}
	if err := c.writeCNIConfig(subnet); err != nil {
		return nil, err
	}
	cfg := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(cfg, []byte(c.config(e2eRuntimeList(t))), 0o644); err != nil {
		return nil, err
	}
	crictlCfg := fmt.Sprintf("runtime-endpoint: unix://%s\nimage-endpoint: unix://%s\ntimeout: 60\n", c.Sock, c.Sock)
	if err := os.WriteFile(c.crictlConfig, []byte(crictlCfg), 0o644); err != nil {
		return nil, err
	}
	ready := func() bool { return exec.Command(crictl, "--config", c.crictlConfig, "version").Run() == nil }
	if err := c.start(daemon, cfg, "containerd's CRI", ready); err != nil {
		return nil, err
	}
	e2eAtExit(c.stop)
	// the CRI plugin keeps its images in containerd's k8s.io namespace
	for _, archive := range []string{e2eImageArchive, pause} {
		out, err := exec.Command(ctr, "-a", c.Sock, "-n", "k8s.io", "images", "import", archive).CombinedOutput()
		if err != nil {
			return nil, fmt.Errorf("ctr images import %s: %v\n%s", archive, err, out)
		}
	}
	return c, nil
}

// config is containerd's config.toml: the CRI plugin with one RuntimeClass
// handler per runtime, named as the runtime (what the README tells users).
func (c *e2eCRI) config(rts []e2eRuntime) string {
	var b strings.Builder
	fmt.Fprintf(&b, `version = 2
root = %q
state = %q

[grpc]
  address = %q

[ttrpc]
  address = %q

[debug]
  level = "debug"

[plugins."io.containerd.internal.v1.opt"]
  path = %q

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = %q
  # this sandbox withholds CAP_SYS_RESOURCE: no oom_score_adj below ours
  restrict_oom_score_adj = true
  disable_apparmor = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  netns_mounts_under_state_dir = true
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = %q
  [plugins."io.containerd.grpc.v1.cri".containerd]
    default_runtime_name = %q
`, filepath.Join(c.Dir, "root"), filepath.Join(c.Dir, "state"), c.Sock, c.Sock+".ttrpc",
		filepath.Join(c.Dir, "opt"), e2ePauseRef, filepath.Join(c.Dir, "cni", "conf"), rts[0].Name)
	for _, rt := range rts {
		key := fmt.Sprintf(`plugins."io.containerd.grpc.v1.cri".containerd.runtimes.%q`, rt.Name)
		fmt.Fprintf(&b, `    [%s]
      runtime_type = "io.containerd.runc.v2"
      [%s.options]
        BinaryName = %q
        Root = %q
`, key, key, rt.Path, c.RuntimeRoot(rt))
	}
	return b.String()
}

// writeCNIConfig writes the pod network: a bridge of the test's own with
// host-local addresses from subnet, no masquerading (no traffic leaves).
func (c *e2eCRI) writeCNIConfig(subnet string) error {
	conf := map[string]interface{}{
		"cniVersion": "1.0.0",
		"name":       "oci-rt-e2e-cri",
		"plugins": []interface{}{map[string]interface{}{
			"type":      "bridge",
			"bridge":    c.bridge,
			"isGateway": true,
			"ipMasq":    false,
			"ipam": map[string]interface{}{
				"type":    "host-local",
				"dataDir": filepath.Join(c.Dir, "cni", "ipam"),
				"ranges":  [][]map[string]string{{{"subnet": subnet}}},
			},
		}},
	}
	b, err := json.MarshalIndent(conf, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(c.Dir, "cni", "conf", "10-oci-rt-e2e.conflist"), b, 0o644)
}

// e2eFreeSubnet picks a /24 in 10.200.0.0/13 that no interface of this
// machine has an address in, starting from one derived from our pid (tests
// of other processes may run beside us).
func e2eFreeSubnet() (string, error) {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return "", err
	}
	start := os.Getpid()
	for i := 0; i < 2048; i++ {
		n := (start + i) % 2048
		_, subnet, _ := net.ParseCIDR(fmt.Sprintf("10.%d.%d.0/24", 200+n/256, n%256))
		used := false
		for _, a := range addrs {
			if ipn, ok := a.(*net.IPNet); ok && (subnet.Contains(ipn.IP) || ipn.Contains(subnet.IP)) {
				used = true
			}
		}
		if !used {
			return subnet.String(), nil
		}
	}
	return "", fmt.Errorf("no free /24 in 10.200.0.0/13 for the pod network")
}

// e2eBuildPauseArchive compiles testdata/pause.c statically with cc into a
// one-file image named e2ePauseRef and returns the archive's path.
func e2eBuildPauseArchive(dir, cc string) (string, error) {
	rootfs := filepath.Join(dir, "rootfs")
	if err := os.MkdirAll(rootfs, 0o755); err != nil {
		return "", err
	}
	src, err := filepath.Abs(filepath.Join("testdata", "pause.c"))
	if err != nil {
		return "", err
	}
	out, err := exec.Command(cc, "-static", "-Os", "-s", "-o", filepath.Join(rootfs, "pause"), src).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("%s pause.c: %v\n%s", cc, err, out)
	}
	return e2eWriteImageArchive(dir, rootfs, e2ePauseRef, []string{"/pause"})
}

// stop removes every pod left, stops the daemon, and removes the bridge
// and the pods' cgroups.
func (c *e2eCRI) stop() {
	exec.Command(c.crictl, "--config", c.crictlConfig, "rmp", "--all", "--force").Run()
	c.halt()
	exec.Command("ip", "link", "delete", c.bridge).Run()
	e2eRemoveCgroupTree(c.CgroupParent)
}

// logErrors returns containerd's error lines that name one of ids.
func (c *e2eCRI) logErrors(ids ...string) []string {
	b, _ := os.ReadFile(c.log)
	var errs []string
	for _, l := range strings.Split(string(b), "\n") {
		if !strings.Contains(l, "level=error") {
			continue
		}
		for _, id := range ids {
			if strings.Contains(l, id) {
				errs = append(errs, l)
				break
			}
		}
	}
	return errs
}

// RuntimeRoot is the runtime's --root the shim is given for rt; the shim
// keeps the state in <root>/k8s.io/<id>.
func (c *e2eCRI) RuntimeRoot(rt e2eRuntime) string {
	return filepath.Join(c.Dir, "runtime-root", rt.Name)
}

// StateDir is where rt keeps the state of the CRI's container or sandbox id.
func (c *e2eCRI) StateDir(rt e2eRuntime, id string) string {
	return filepath.Join(c.RuntimeRoot(rt), "k8s.io", id)
}

// Crictl runs crictl against this daemon.
func (c *e2eCRI) Crictl(t *testing.T, args ...string) e2eResult {
	t.Helper()
	return e2eExec(t, 90*time.Second, nil, "", c.crictl, append([]string{"--config", c.crictlConfig}, args...)...)
}

// CrictlOK runs crictl and fails the test unless it exits 0.
func (c *e2eCRI) CrictlOK(t *testing.T, args ...string) e2eResult {
	t.Helper()
	return e2eExpect(t, c.Crictl(t, args...), 0)
}

// Inspect returns `crictl inspect[p] -o json` of id, decoded.
func (c *e2eCRI) Inspect(t *testing.T, verb, id string) map[string]interface{} {
	t.Helper()
	var v map[string]interface{}
	r := c.CrictlOK(t, verb, "-o", "json", id)
	if err := json.Unmarshal([]byte(r.Stdout), &v); err != nil {
		t.Fatalf("%s: %v", r, err)
	}
	return v
}

// Pid is the host pid of the sandbox (verb inspectp) or container (inspect).
func (c *e2eCRI) Pid(t *testing.T, verb, id string) int {
	t.Helper()
	info, _ := c.Inspect(t, verb, id)["info"].(map[string]interface{})
	pid, _ := info["pid"].(float64)
	if pid <= 0 {
		t.Fatalf("crictl %s %s: no pid in info", verb, id)
	}
	return int(pid)
}

// WriteJSON writes v to a file under dir named name and returns its path.
func e2eWriteJSON(t *testing.T, dir, name string, v interface{}) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// e2eCgroupFile reads a cgroup file of pid's cgroup: the v1 hierarchy of
// controller, or the unified one on a cgroup2-only host (file2 there).
func e2eCgroupFile(t *testing.T, pid int, controller, file1, file2 string) string {
	t.Helper()
	if _, err := os.Stat("/sys/fs/cgroup/cgroup.controllers"); err == nil {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
		if err != nil {
			t.Fatal(err)
		}
		rel := strings.TrimSpace(strings.TrimPrefix(string(b), "0::"))
		return e2eReadTrim(t, filepath.Join("/sys/fs/cgroup", rel, file2))
	}
	return e2eReadTrim(t, filepath.Join(e2eCgroupDir(t, pid, controller), file1))
}

// e2eMemoryRoot is the root of the memory controller's hierarchy: v1's,
// or the unified one on a cgroup2-only host.
func e2eMemoryRoot() string {
	if _, err := os.Stat("/sys/fs/cgroup/cgroup.controllers"); err == nil {
		return "/sys/fs/cgroup"
	}
	return "/sys/fs/cgroup/memory"
}

// e2eCgroupFileInside is the path of the same file as the container sees
// it in its /sys/fs/cgroup.
func e2eCgroupFileInside(controller, file1, file2 string) string {
	if _, err := os.Stat("/sys/fs/cgroup/cgroup.controllers"); err == nil {
		return "/sys/fs/cgroup/" + file2
	}
	return "/sys/fs/cgroup/" + controller + "/" + file1
}

// TestCRIPod runs a Kubernetes-style pod through the CRI plugin with each
// runtime as the RuntimeClass handler: a sandbox and two containers that
// share its network, IPC and UTS namespaces and its pid namespace (pid
// POD), exec, logs, the resource limits seen in the cgroup from the host
// and inside, an update of them, then stop and removal leaving no runtime
// state, process or cgroup.
func TestCRIPod(t *testing.T) {
	t.Parallel()
	c := e2eCRIDaemon(t)
	e2eForEachRuntime(t, func(t *testing.T, rt e2eRuntime) {
		name := e2eName("cri", rt)
		podDir := filepath.Join(c.Dir, "pods", name)
		if err := os.MkdirAll(podDir, 0o755); err != nil {
			t.Fatal(err)
		}
		cgroupParent := c.CgroupParent + "/" + name
		pod := e2eWriteJSON(t, podDir, "pod.json", map[string]interface{}{
			"metadata":      map[string]interface{}{"name": name, "namespace": "default", "uid": name + "-uid"},
			"hostname":      name,
			"log_directory": podDir,
			"linux": map[string]interface{}{
				"cgroup_parent": cgroupParent,
				// 0 is POD for each: the pod's network, ipc and pid
				"security_context": map[string]interface{}{"namespace_options": map[string]int{"network": 0, "pid": 0, "ipc": 0}},
			},
		})
		const memLimit, memLimit2 = 64 << 20, 128 << 20
		one := e2eWriteJSON(t, podDir, "one.json", map[string]interface{}{
			"metadata": map[string]string{"name": "one"},
			"image":    map[string]string{"image": e2eImageRef},
			"command":  []string{"sh", "-c", "echo hello-from-one; echo warn-from-one >&2; exec sleep 1000"},
			"log_path": "one.log",
			"linux": map[string]interface{}{"resources": map[string]int{
				"memory_limit_in_bytes": memLimit, "cpu_period": 100000, "cpu_quota": 50000, "cpu_shares": 512}},
		})
		two := e2eWriteJSON(t, podDir, "two.json", map[string]interface{}{
			"metadata": map[string]string{"name": "two"},
			"image":    map[string]string{"image": e2eImageRef},
			"command":  []string{"sleep", "1000"},
			"log_path": "two.log",
		})

		podID := strings.TrimSpace(c.CrictlOK(t, "runp", "--runtime", rt.Name, pod).Stdout)
		t.Cleanup(func() {
			c.Crictl(t, "stopp", podID)
			c.Crictl(t, "rmp", "--force", podID)
		})
		if handler, _ := c.Inspect(t, "inspectp", podID)["status"].(map[string]interface{})["runtimeHandler"].(string); handler != rt.Name {
			t.Errorf("pod's runtime handler %q, want %q", handler, rt.Name)
		}
		// the handler ran the runtime we named: its state is where the
		// shim was told to keep it
		if _, err := os.Stat(c.StateDir(rt, podID)); err != nil {
			t.Fatalf("no %s state for the sandbox: %v", rt.Name, err)
		}
		oneID := strings.TrimSpace(c.CrictlOK(t, "create", podID, one, pod).Stdout)
		twoID := strings.TrimSpace(c.CrictlOK(t, "create", podID, two, pod).Stdout)
		c.CrictlOK(t, "start", oneID, twoID)
		pausePid, onePid, twoPid := c.Pid(t, "inspectp", podID), c.Pid(t, "inspect", oneID), c.Pid(t, "inspect", twoID)

		t.Run("namespaces", func(t *testing.T) {
			self := os.Getpid()
			for _, ns := range []string{"net", "ipc", "uts", "pid"} {
				pod := e2eNs(pausePid, ns)
				if pod == "" || pod == e2eNs(self, ns) {
					t.Errorf("sandbox %s namespace %q: want one of its own", ns, pod)
				}
				for _, pid := range []int{onePid, twoPid} {
					if got := e2eNs(pid, ns); got != pod {
						t.Errorf("container pid %d: %s namespace %q, the sandbox's is %q", pid, ns, got, pod)
					}
				}
			}
			// each container has its own root
			if m := e2eNs(onePid, "mnt"); m == e2eNs(twoPid, "mnt") || m == e2eNs(pausePid, "mnt") || m == e2eNs(self, "mnt") {
				t.Errorf("container one's mount namespace %q is not its own", m)
			}
		})

		t.Run("exec", func(t *testing.T) {
			// the pod's pid namespace: pause is pid 1, and one's sleep is seen from two
			r := c.CrictlOK(t, "exec", twoID, "sh", "-c", "hostname; ps -o pid,args")
			out := r.Stdout
			if l := e2eLines(out); len(l) == 0 || l[0] != name {
				t.Errorf("exec hostname: %q, want the pod's %q", out, name)
			}
			if !strings.Contains(out, "1 /pause") || strings.Count(out, "sleep 1000") != 2 {
				t.Errorf("exec ps: %q, want /pause as pid 1 and both containers' sleep", out)
			}
			// the pod's network: both see the sandbox's address on eth0
			podIP, _ := c.Inspect(t, "inspectp", podID)["status"].(map[string]interface{})["network"].(map[string]interface{})["ip"].(string)
			for _, id := range []string{oneID, twoID} {
				r := c.CrictlOK(t, "exec", id, "ip", "-4", "-o", "addr", "show", "eth0")
				if podIP == "" || !strings.Contains(r.Stdout, " "+podIP+"/") {
					t.Errorf("container %s eth0: %q, want the pod's address %q", id, r.Stdout, podIP)
				}
			}
			// crictl exits 1 and names the process's code
			if r := c.Crictl(t, "exec", oneID, "sh", "-c", "exit 3"); r.Code != 1 || !strings.Contains(r.Stderr, "exit code 3") {
				t.Errorf("exec of exit 3: %s", r)
			}
		})

		t.Run("logs", func(t *testing.T) {
			var r e2eResult
			e2eWait(10*time.Second, func() bool {
				r = c.CrictlOK(t, "logs", oneID)
				return strings.Contains(r.Stdout, "hello") && strings.Contains(r.Stderr, "warn")
			})
			if strings.TrimSpace(r.Stdout) != "hello-from-one" || strings.TrimSpace(r.Stderr) != "warn-from-one" {
				t.Errorf("crictl logs: %s\nwant hello-from-one on stdout and warn-from-one on stderr", r)
			}
			if b, err := os.ReadFile(filepath.Join(podDir, "one.log")); err != nil || !strings.Contains(string(b), " stdout F hello-from-one") {
				t.Errorf("the CRI log file: %q %v", b, err)
			}
		})

		t.Run("resources", func(t *testing.T) {
			check := func(mem, quota int) {
				t.Helper()
				memHost := e2eCgroupFile(t, onePid, "memory", "memory.limit_in_bytes", "memory.max")
				quotaHost := e2eCgroupFile(t, onePid, "cpu", "cpu.cfs_quota_us", "cpu.max")
				if memHost != strconv.Itoa(mem) {
					t.Errorf("host: memory limit %s, want %d", memHost, mem)
				}
				if quotaHost != strconv.Itoa(quota) && quotaHost != fmt.Sprintf("%d 100000", quota) {
					t.Errorf("host: cpu quota %q, want %d", quotaHost, quota)
				}
				inside := c.CrictlOK(t, "exec", oneID, "cat", e2eCgroupFileInside("memory", "memory.limit_in_bytes", "memory.max")).Stdout
				if strings.TrimSpace(inside) != memHost {
					t.Errorf("inside: memory limit %q, the host's %q", inside, memHost)
				}
			}
			check(memLimit, 50000)
			if shares := e2eCgroupFile(t, onePid, "cpu", "cpu.shares", "cpu.weight"); shares != "512" && shares != "20" {
				t.Errorf("cpu shares %s, want 512 (v1) or weight 20 (v2)", shares)
			}
			c.CrictlOK(t, "update", "--memory", strconv.Itoa(memLimit2), "--cpu-quota", "30000", oneID)
			check(memLimit2, 30000)
		})

		// stop and remove: everything goes, the sandbox last
		c.CrictlOK(t, "stop", "--timeout", "10", oneID, twoID)
		for _, id := range []string{oneID, twoID} {
			if st, _ := c.Inspect(t, "inspect", id)["status"].(map[string]interface{})["state"].(string); st != "CONTAINER_EXITED" {
				t.Errorf("container %s after stop: %q, want CONTAINER_EXITED", id, st)
			}
		}
		for _, pid := range []int{onePid, twoPid} {
			if e2eAlive(pid) {
				t.Errorf("container process %d alive after stop", pid)
			}
		}
		c.CrictlOK(t, "rm", oneID, twoID)
		c.CrictlOK(t, "stopp", podID)
		c.CrictlOK(t, "rmp", podID)
		if e2eAlive(pausePid) {
			t.Errorf("sandbox process %d alive after rmp", pausePid)
		}
		if l := c.CrictlOK(t, "pods", "-q").Stdout; strings.Contains(l, podID) {
			t.Errorf("crictl pods still lists %s", podID)
		}
		// nothing went wrong on the way, as containerd saw it: e.g. the
		// shim's kill --all of a pid=POD container's leftovers once it
		// exited ("failed to kill init's children")
		if errs := c.logErrors(podID, oneID, twoID); len(errs) > 0 {
			t.Errorf("containerd logged errors about the pod:\n%s", strings.Join(errs, "\n"))
		}
		for _, id := range []string{podID, oneID, twoID} {
			e2eAssertGone(t, "runtime state", c.StateDir(rt, id))
			e2eAssertGone(t, "cgroup", filepath.Join(e2eMemoryRoot(), cgroupParent, id))
		}
	})
}
