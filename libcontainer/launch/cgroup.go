package launch

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"

	"github.com/oci-rt/oci-rt/libcontainer/cgroups"
	"github.com/oci-rt/oci-rt/libcontainer/planner"
	cg "github.com/opencontainers/cgroups"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"
)

// newCgroup sets up the container's cgroup manager (nothing is made yet)
// and notes its paths for the "creating" runtime.json; a cgroup that has
// processes is refused.
func (c *initProcess) newCgroup() error {
	cgc, err := cgroups.Config(c.opts.ID, c.spec.Linux, c.opts.Systemd)
	if err != nil {
		return err
	}
	if c.cgm, err = c.host.newCgroup(cgc); err != nil {
		return err
	}
	if err := checkCgroupEmpty(c.cgm, c.spec); err != nil {
		c.cgm = nil // not ours: abort must not remove it
		return err
	}
	c.state.Cgroup = cgc
	c.state.SetCgroupPaths(c.cgm.GetPaths())
	return nil
}

// makeUnifiedDir makes the container's cgroup2 directory (the rest of the
// cgroup, and its limits, come later: the executor waits for its plan) and
// opens it to start the executor in.
func (c *initProcess) makeUnifiedDir() (*os.File, error) {
	dir, ok := c.cgm.GetPaths()[""]
	if !ok {
		return nil, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("linux.cgroupsPath: %w", err)
	}
	f, err := os.Open(dir)
	if err != nil {
		return nil, fmt.Errorf("linux.cgroupsPath: %w", err)
	}
	c.files = append(c.files, f)
	return f, nil
}

// makeCgroup creates the container's cgroup and sets its limits before
// any process is in it. The executor then moves itself in (selfJoin);
// with systemd, which places processes itself, joinCgroupLate does it.
func (c *initProcess) makeCgroup() error {
	if c.opts.Systemd {
		return nil
	}
	if err := c.cgm.Apply(-1); err != nil {
		if c.opts.Rootless && errors.Is(err, os.ErrPermission) && !limitsAsked(c.spec) {
			logrus.Debugf("rootless: no cgroup (%v)", err)
			c.cgm.Destroy()
			c.cgm, c.state.Cgroup = nil, nil
			c.state.SetCgroupPaths(nil)
			return c.handle.SaveRuntime(c.state)
		}
		return fmt.Errorf("%s: %w", applyField(c.spec, err), err)
	}
	if err := c.recordCgroupPaths(); err != nil {
		return err
	}
	return c.setResources()
}

// recordCgroupPaths notes the cgroup's paths once it is made; runtime.json,
// written with the paths known before, is written again if they changed.
func (c *initProcess) recordCgroupPaths() error {
	paths := c.cgm.GetPaths()
	if maps.Equal(paths, c.state.CgroupPaths) {
		return nil
	}
	c.state.SetCgroupPaths(paths)
	return c.handle.SaveRuntime(c.state)
}

func (c *initProcess) setResources() error {
	if res := c.state.Cgroup.Resources; res != nil {
		if err := c.cgm.Set(res); err != nil {
			return fmt.Errorf("linux.resources: %w", err)
		}
	}
	return nil
}

// cgroupJoin says how the executor moves into the cgroup: the v1 `tasks`
// files it writes "0" to as its first step (no pid is written to
// cgroup.procs: that costs an RCU grace period, milliseconds here), and
// for cgroup2 (v2, or the hybrid unified hierarchy) a directory to start
// it in with CLONE_INTO_CGROUP.
func (c *executorRun) cgroupJoin(wantUnified bool) (tasks []string, unified *os.File, err error) {
	tasks = tasksFiles(c.state.CgroupPaths)
	if dir, ok := c.state.CgroupPaths[""]; ok && wantUnified {
		if unified, err = os.Open(dir); err != nil {
			return nil, nil, fmt.Errorf("linux.cgroupsPath: %w", err)
		}
		c.files = append(c.files, unified)
	}
	return tasks, unified, nil
}

// tasksFiles are the v1 `tasks` files of the cgroup's paths.
func tasksFiles(paths map[string]string) []string {
	var tasks []string
	for key, dir := range paths {
		if key != "" {
			tasks = append(tasks, filepath.Join(dir, "tasks"))
		}
	}
	return tasks
}

// joinCgroupLate puts the started executor in a systemd-managed cgroup.
func (c *initProcess) joinCgroupLate() error {
	if !c.opts.Systemd {
		return nil
	}
	if err := c.cgm.Apply(c.pid); err != nil {
		return fmt.Errorf("linux.cgroupsPath %q: %w", planner.CgroupsPath(c.spec), err)
	}
	if err := c.recordCgroupPaths(); err != nil {
		return err
	}
	return c.setResources()
}

// checkCgroupEmpty refuses a cgroup that already has processes (another
// container's, or one left behind): sharing it would mix their limits,
// and deleting either would kill the other.
func checkCgroupEmpty(m cg.Manager, s *specs.Spec) error {
	if !m.Exists() {
		return nil
	}
	// a frozen cgroup (only an existing one can be: no cost for a new one)
	// would freeze the executor as it joins, in D state, and create with it
	if st, err := m.GetFreezerState(); err == nil && st == cg.Frozen {
		return fmt.Errorf("linux.cgroupsPath %q: the cgroup is frozen (thaw it or choose another)", planner.CgroupsPath(s))
	}
	pids, err := m.GetAllPids()
	if err != nil || len(pids) == 0 {
		return nil
	}
	return fmt.Errorf("linux.cgroupsPath %q: the cgroup is not empty (%d processes, e.g. pid %d)", planner.CgroupsPath(s), len(pids), pids[0])
}

// limitsAsked tells whether linux.resources asks for limits (devices
// aside: without privileges device nodes are the host's, bound).
func limitsAsked(s *specs.Spec) bool {
	if s.Linux == nil || s.Linux.Resources == nil {
		return false
	}
	r := *s.Linux.Resources
	r.Devices = nil
	return !reflect.DeepEqual(r, specs.LinuxResources{})
}

// applyField names what a failed cgroup creation is about: the realtime
// cpu limits are written while the cgroup is made (before a process may
// join it), and a parent without the budget refuses them with EINVAL.
func applyField(s *specs.Spec, err error) string {
	if s.Linux != nil && s.Linux.Resources != nil && s.Linux.Resources.CPU != nil {
		cpu := s.Linux.Resources.CPU
		switch {
		case strings.Contains(err.Error(), "/cpuset.cpus"):
			// the library writes the cpuset when it makes the cgroup
			return fmt.Sprintf("linux.resources.cpu.cpus %q", cpu.Cpus)
		case strings.Contains(err.Error(), "/cpuset.mems"):
			return fmt.Sprintf("linux.resources.cpu.mems %q", cpu.Mems)
		case errors.Is(err, unix.EINVAL) && (cpu.RealtimeRuntime != nil || cpu.RealtimePeriod != nil):
			return "linux.resources.cpu.realtimeRuntime/realtimePeriod"
		}
	}
	return fmt.Sprintf("linux.cgroupsPath %q", planner.CgroupsPath(s))
}

// KillCgroup SIGKILLs every process left in the cgroup: those the manager
// lists (one hierarchy, and what is below it) and those in any other of its
// hierarchies. A failed create can leave a process that joined only some:
// the container's process moves into the v1 hierarchies itself, late when
// the plan came before the cgroup (CgroupLate), and is in the memory one
// (the executor's prelude) or the unified one from its start.
func KillCgroup(m cg.Manager) {
	pids, _ := m.GetAllPids()
	for _, dir := range m.GetPaths() {
		more, _ := cg.GetPids(dir)
		pids = append(pids, more...)
	}
	slices.Sort(pids)
	for _, p := range slices.Compact(pids) {
		unix.Kill(p, unix.SIGKILL)
	}
}
