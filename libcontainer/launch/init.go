package launch

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	cg "github.com/opencontainers/cgroups"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/oci-rt/oci-rt/libcontainer/intelrdt"
	"github.com/oci-rt/oci-rt/libcontainer/jsonlite"
	"github.com/oci-rt/oci-rt/libcontainer/plan"
	"github.com/oci-rt/oci-rt/libcontainer/planner"
	"github.com/oci-rt/oci-rt/libcontainer/state"
)

// initProcess creates a container: its first process, started by the
// executor, waits for `start` on the state directory's start.sock.
type initProcess struct {
	executorRun
	opts   CreateOpts
	bundle *Bundle
	handle *state.Dir
	cgm    cg.Manager
	// recorded: recordProcess has run
	recorded bool
	// idmapNs: the user namespaces idmapped mounts map through, by mappings
	idmapNs map[string]*os.File
	// rdt: the resctrl group linux.intelRdt asks for (resctrl.go)
	rdt *intelrdt.Group
}

// Create sets up a container up to the point where its process waits for
// start, and returns its state and cgroup manager (nil: no cgroup). On
// error nothing is left behind: no state directory, cgroup, process or
// mount (mounts live in the container's own mount namespace).
func Create(st state.Store, o CreateOpts) (*state.State, cg.Manager, error) {
	return create(st, o, realHost{})
}

func create(st state.Store, o CreateOpts, sys host) (*state.State, cg.Manager, error) {
	c := &initProcess{opts: o, executorRun: executorRun{status: specs.StateCreating, host: sys,
		listenFds: o.ListenFds, preserveFds: o.PreserveFds, consoleSocket: o.ConsoleSocket, consoleConn: o.ConsoleConn,
		pidfdSocket: o.PidfdSocket}}
	var err error
	if c.opts.Bundle, err = filepath.Abs(o.Bundle); err != nil {
		return nil, nil, err
	}
	if err := state.CheckID(o.ID); err != nil {
		return nil, nil, err
	}
	if c.bundle = o.Loaded; c.bundle == nil {
		if c.bundle, err = LoadBundle(c.opts.Bundle); err != nil {
			return nil, nil, err
		}
	}
	c.spec = c.bundle.Spec
	in, err := c.prepare()
	if err != nil {
		return nil, nil, err
	}
	if c.handle, err = st.Claim(o.ID); err != nil {
		return nil, nil, err
	}
	defer c.handle.Unlock()
	if err := run(c, in); err != nil {
		return nil, nil, err
	}
	return c.state, c.cgm, nil
}

// start claims resources in the order they can be undone; the executor
// starts as early as it can, so that its exec and its first namespaces
// overlap our work on the cgroup.
func (c *initProcess) start(in *planner.Input) error {
	c.state = c.newState(in)
	if err := c.openFds(in); err != nil {
		return err
	}
	if err := c.newCgroup(); err != nil {
		return err
	}
	// "creating" on disk, with the cgroup's paths, before any cgroup
	// directory is made (the executor's prelude joins the memory one): a
	// create killed from here on is found and cleaned by delete --force
	if err := c.saveCreating(); err != nil {
		return err
	}
	spawned, err := c.spawnEarly(in)
	if err != nil {
		return err
	}
	if err := c.makeResctrl(in); err != nil {
		return err
	}
	// With the plan sent now, the container's process makes its mounts
	// while we make the cgroup; it waits for it before it needs it.
	late := spawned && c.cgroupLate(in)
	if late {
		in.CgroupTasks, in.CgroupLate = tasksFiles(c.cgm.GetPaths()), true
		if err := c.compilePlan(in); err != nil {
			return err
		}
		if err := c.sendPlan(); err != nil {
			return err
		}
	}
	if err := c.makeCgroup(); err != nil {
		return err
	}
	if late {
		// the answer to the container process's SyncCgroup, sent before
		// it asks: it goes on without waiting for us to read messages. A
		// write that fails finds an executor that failed meanwhile, whose
		// report answerUntilReady reads.
		c.reply(0, nil)
	} else if err := c.joinAndSend(in, spawned); err != nil {
		return err
	}
	if err := c.answerUntilReady(c); err != nil {
		return err
	}
	return c.finish()
}

// newState is the state of the container being created.
func (c *initProcess) newState(in *planner.Input) *state.State {
	s := c.spec
	return &state.State{OCIVersion: specs.Version, ID: c.opts.ID, Status: state.Creating, Bundle: c.opts.Bundle,
		Annotations: s.Annotations, Rootfs: in.Rootfs, Created: time.Now().UTC(), Owner: owner(), Hooks: s.Hooks}
}

// openFds opens what the executor is given: the notify socket's
// directory, the namespaces to join, its fds and the start socket.
func (c *initProcess) openFds(in *planner.Input) error {
	if c.opts.NotifySocket != "" {
		if err := addNotifySocket(c.handle, c.spec, &in.Process); err != nil {
			return err
		}
	}
	if err := c.ns.Open(); err != nil {
		return err
	}
	in.Ns = c.ns
	c.state.NewPidNs = c.ns.IsNew(specs.PIDNamespace)
	c.state.HostMountNs = !c.ns.Has(specs.MountNamespace)
	if err := c.prepareFds(in); err != nil {
		return err
	}
	return c.addStartSocket(in)
}

// saveCreating writes the "creating" state: it lets delete clean up
// after a create that died.
func (c *initProcess) saveCreating() error {
	if err := c.handle.CreateRuntime(c.state); err != nil {
		return err
	}
	return c.handle.Save(c.state)
}

// joinAndSend sends the plan once the cgroup is made: the executor joins
// it first (it is started now if it was not yet), or systemd puts it there.
func (c *initProcess) joinAndSend(in *planner.Input, spawned bool) error {
	var unified *os.File
	if !c.opts.Systemd { // systemd places the executor itself: joinCgroupLate
		var err error
		if in.CgroupTasks, unified, err = c.cgroupJoin(!spawned); err != nil {
			return err
		}
	}
	if !spawned {
		if err := c.spawn(unified); err != nil {
			return err
		}
	}
	if err := c.joinCgroupLate(); err != nil {
		return err
	}
	if err := c.compilePlan(in); err != nil {
		return err
	}
	return c.sendPlan()
}

// compilePlan builds the plan, with the container's cgroup for its cgroup
// mounts, and keeps what start needs to word a failure.
func (c *initProcess) compilePlan(in *planner.Input) error {
	if hasCgroupMount(c.spec) {
		in.Cgroup = cgroupView(c.cgm)
	}
	if err := c.executorRun.compilePlan(in); err != nil {
		return err
	}
	c.recordStartFields()
	return nil
}

func hasCgroupMount(s *specs.Spec) bool {
	for _, m := range s.Mounts {
		if m.Type == "cgroup" || m.Type == "cgroup2" {
			return true
		}
	}
	return false
}

// recordStartFields keeps the field names of what runs after start, so
// that start can word an error the executor reports by index.
func (c *initProcess) recordStartFields() {
	for i, op := range c.plan.Ops {
		if op.Code == plan.OpWaitStart {
			c.state.StartBase = i
			for _, o := range c.plan.Ops[i:] {
				c.state.StartFields = append(c.state.StartFields, o.Field)
			}
			return
		}
	}
}

// finish records the created container: state.json, then the pid file
// (written last and atomically: conmon takes its presence as success).
func (c *initProcess) finish() error {
	if err := c.recordProcess(); err != nil {
		return err
	}
	c.state.Status = state.Created
	if err := c.handle.Save(c.state); err != nil {
		return err
	}
	if c.opts.PidFile != "" {
		if err := state.WriteFileAtomic(c.opts.PidFile, []byte(strconv.Itoa(c.pid)), 0o644); err != nil {
			return fmt.Errorf("--pid-file %q: %w", c.opts.PidFile, err)
		}
	}
	return nil
}

// recordProcess notes the container's process (its start time guards
// against pid reuse) and keeps the config, once. With a fork in the plan it
// runs as soon as the pid is reported, while the process still sets up its
// mounts, rather than after.
func (c *initProcess) recordProcess() error {
	if c.recorded {
		return nil
	}
	t, _, err := state.ProcStat(c.pid)
	if err != nil {
		return fmt.Errorf("container init %d: %w", c.pid, err)
	}
	c.state.Pid, c.state.StartTime = c.pid, t
	// a new file, not a rename: nothing reads config.json before state.json
	// says created, and a create that dies here is removed whole
	if err := state.WriteNewFile(c.handle.File("config.json"), c.bundle.Raw); err != nil {
		return err
	}
	c.recorded = true
	return nil
}

// abort kills what was started and removes the cgroup and state directory.
func (c *initProcess) abort() {
	c.kill()
	if c.state != nil && c.state.HostMountNs {
		DetachRootfs(c.state.Rootfs)
	}
	if c.cgm != nil {
		KillCgroup(c.cgm)
		c.cgm.Destroy()
	}
	intelrdt.Remove(c.rdt, true)
	c.ns.Close()
	if c.handle != nil {
		c.handle.Remove()
	}
}

// pidKnown notes the container's process as soon as its pid is known.
func (c *initProcess) pidKnown() error { return c.recordProcess() }

// hungUp: the executor died before the container was created.
func (c *initProcess) hungUp() error { return c.executorDied() }

// answer answers the executor's requests: the hooks that run before the
// program, the network devices and the mount sources it needs from the
// host, besides what any launch answers.
func (c *initProcess) answer(kind, pid int, payload string) error {
	switch kind {
	case plan.SyncHooks:
		return c.runCreateHooks()
	case plan.SyncNetDevices:
		return c.moveNetDevices()
	case plan.SyncMountSource:
		return c.sendMountSource(payload)
	}
	return c.executorRun.answer(kind, pid, payload)
}

// runCreateHooks runs the prestart and createRuntime hooks, and answers
// with the state they were given.
func (c *initProcess) runCreateHooks() error {
	c.state.Pid = c.pid
	// lifecycle steps 3-5 come after step 2 (creating) and before the
	// program runs: runtime-spec's "created" (runtime.md, State)
	hs := c.state.SpecState()
	hs.Status = specs.StateCreated
	st, _ := jsonlite.Marshal(hs)
	h := c.spec.Hooks
	if err := RunHooks("hooks.prestart", h.Prestart, st); err != nil {
		return err
	}
	if err := RunHooks("hooks.createRuntime", h.CreateRuntime, st); err != nil {
		return err
	}
	return c.reply(0, st)
}

// DetachRootfs removes what a container without a mount namespace of its
// own mounted: the bind of its rootfs, with everything under it.
func DetachRootfs(rootfs string) {
	unix.Unmount(rootfs, unix.MNT_DETACH)
}
