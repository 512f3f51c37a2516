package launch

import (
	"encoding/binary"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"

	cg "github.com/opencontainers/cgroups"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/oci-rt/oci-rt/libcontainer/plan"
	"github.com/oci-rt/oci-rt/libcontainer/specdefault"
	"github.com/oci-rt/oci-rt/libcontainer/state"
)

// fakeHost stands in for the executor and the cgroup: the executor's
// first half is a `true`, its second a goroutine that reads the plan and
// then says what report says, on behalf of a container process that is a
// `sleep` of the test's own.
type fakeHost struct {
	cgroup *fakeCgroup
	report func(sync *os.File, pid int)
	plan   []byte
	done   chan struct{}
	sleep  *exec.Cmd
	sync   *os.File
	// resctrl is the root of a fake resctrl tree; "": none mounted
	resctrl string
}

func (h *fakeHost) newCgroup(*cg.Cgroup) (cg.Manager, error) { return h.cgroup, nil }

func (h *fakeHost) resctrlRoot() (string, error) {
	if h.resctrl == "" {
		return "", errors.New("linux.intelRdt: no resctrl filesystem is mounted (fake host)")
	}
	return h.resctrl, nil
}

func (h *fakeHost) startExecutor(attr *syscall.ProcAttr, cpus []uint64) (int, error) {
	env := map[string]int{}
	for _, kv := range attr.Env {
		if k, v, ok := strings.Cut(kv, "="); ok {
			env[k], _ = strconv.Atoi(v)
		}
	}
	// the launch closes its copies of the executor's ends once it started
	dup := func(name string) *os.File {
		fd, err := unix.FcntlInt(attr.Files[env[name]], unix.F_DUPFD_CLOEXEC, 0)
		if err != nil {
			panic(err)
		}
		return os.NewFile(uintptr(fd), name)
	}
	planR, sync := dup("_OCIRT_PLAN_FD"), dup("_OCIRT_SYNC_FD")
	first := exec.Command("true")
	h.sleep = exec.Command("sleep", "60")
	if err := first.Start(); err != nil {
		return 0, err
	}
	if err := h.sleep.Start(); err != nil {
		return 0, err
	}
	h.done = make(chan struct{})
	go func() {
		defer close(h.done)
		h.plan, _ = io.ReadAll(planR)
		planR.Close()
		// the socket stays open: closed with our answers unread, it
		// would reset the connection before the runtime read the report
		h.sync = sync
		h.report(sync, h.sleep.Process.Pid)
	}()
	return first.Process.Pid, nil // reaped by the launch
}

// message is one message of the executor.
func message(typ uint32, a, b int32, payload string) []byte {
	m := make([]byte, plan.MsgHeaderLen, plan.MsgHeaderLen+len(payload))
	binary.NativeEndian.PutUint32(m, typ)
	binary.NativeEndian.PutUint32(m[4:], uint32(a))
	binary.NativeEndian.PutUint32(m[8:], uint32(b))
	return append(m, payload...)
}

// createWith runs create with the default spec (no terminal, edited) in a
// bundle of its own and h standing in for the host.
func createWith(t *testing.T, h *fakeHost, st state.Store, edits ...func(*specs.Spec)) (CreateOpts, error) {
	t.Helper()
	bundle := t.TempDir()
	if err := os.Mkdir(filepath.Join(bundle, "rootfs"), 0o755); err != nil {
		t.Fatal(err)
	}
	spec := specdefault.Example()
	spec.Process.Terminal = false
	for _, e := range edits {
		e(spec)
	}
	o := CreateOpts{ID: "c", Bundle: bundle, PidFile: filepath.Join(bundle, "pid"),
		Loaded: &Bundle{Spec: spec, Raw: []byte(`{"ociVersion":"1.2.0"}`)}}
	t.Cleanup(func() {
		if h.sync != nil {
			h.sync.Close()
		}
		if h.sleep != nil && h.sleep.ProcessState == nil {
			h.sleep.Process.Kill()
			h.sleep.Wait()
		}
	})
	_, _, err := create(st, o, h)
	if h.done != nil {
		<-h.done
	}
	return o, err
}

func cgroupDirs(t *testing.T) map[string]string {
	d := t.TempDir()
	return map[string]string{"": filepath.Join(d, "unified"), "memory": filepath.Join(d, "memory")}
}

// TestCreateRecords: a create whose executor reports ready leaves a
// created state with the process's pid, its config and cgroup, and the
// pid file; the "creating" state was on disk before the cgroup was made
// (a create that dies is cleaned up by delete); the executor got its plan.
func TestCreateRecords(t *testing.T) {
	m := &fakeCgroup{paths: cgroupDirs(t)}
	h := &fakeHost{cgroup: m, report: func(sync *os.File, pid int) {
		// the default spec has a pid namespace: the executor forks
		sync.Write(message(plan.MsgPid, int32(pid), 0, ""))
		sync.Write(message(plan.MsgReady, int32(pid), 0, ""))
	}}
	st := state.Store{Root: t.TempDir()}
	m.onApply = func() {
		s, err := st.Load("c")
		if err != nil || s.Status != state.Creating {
			t.Errorf("when the cgroup is made: state %v (%v), want creating", s, err)
		}
	}
	o, err := createWith(t, h, st)
	if err != nil {
		t.Fatal(err)
	}
	if len(h.plan) == 0 {
		t.Error("the executor got no plan")
	}
	// a cgroup that has processes is refused first
	if want := []string{"pids", "apply -1", "set"}; !slices.Equal(m.calls, want) {
		t.Errorf("cgroup calls %v, want %v", m.calls, want)
	}
	pid := h.sleep.Process.Pid
	s, err := st.LoadFull("c")
	if err != nil {
		t.Fatal(err)
	}
	if s.Status != state.Created || s.Pid != pid || s.CgroupPaths["memory"] != m.paths["memory"] {
		t.Errorf("state: %s pid %d paths %v; want created, pid %d, the cgroup's paths", s.Status, s.Pid, s.CgroupPaths, pid)
	}
	dir := st.DirOf("c")
	if b, err := os.ReadFile(filepath.Join(dir, "config.json")); err != nil || string(b) != string(o.Loaded.Raw) {
		t.Errorf("config.json: %q (%v), want the bundle's bytes", b, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "start.sock")); err != nil {
		t.Errorf("start.sock: %v", err)
	}
	if b, err := os.ReadFile(o.PidFile); err != nil || string(b) != strconv.Itoa(pid) {
		t.Errorf("pid file: %q (%v), want %d", b, err, pid)
	}
}

// TestCreateFailureLeavesNothing: a step the executor reports failed is
// named by its config field, and the create leaves nothing: its processes
// killed, its cgroup emptied and removed, no state directory.
func TestCreateFailureLeavesNothing(t *testing.T) {
	m := &fakeCgroup{paths: cgroupDirs(t)}
	h := &fakeHost{cgroup: m, report: func(sync *os.File, pid int) {
		sync.Write(message(plan.MsgPid, int32(pid), 0, ""))
		sync.Write(message(plan.MsgError, 0, int32(unix.EPERM), "the first step"))
	}}
	st := state.Store{Root: t.TempDir()}
	_, err := createWith(t, h, st)
	if err == nil || !strings.Contains(err.Error(), ": the first step: operation not permitted") {
		t.Fatalf("create: %v, want the executor's failure", err)
	}
	if i := slices.Index(m.calls, "destroy"); i < 1 || m.calls[i-1] != "pids" {
		t.Errorf("cgroup calls %v, want its processes killed, then the cgroup removed", m.calls)
	}
	if _, err := os.Stat(st.DirOf("c")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("state directory: %v, want it removed", err)
	}
	if err := h.sleep.Wait(); err == nil || !strings.Contains(err.Error(), "killed") {
		t.Errorf("the container process: %v, want it killed", err)
	}
}
