package libcontainer

import (
	"errors"
	"fmt"
	"os"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/oci-rt/oci-rt/libcontainer/planner"
	"github.com/oci-rt/oci-rt/libcontainer/state"
)

// ExecOpts describe a process to start in a running container.
type ExecOpts struct {
	ID            string
	Process       *specs.Process
	PidFile       string
	ConsoleSocket string
	ConsoleConn   *os.File
	PreserveFds   int
	IgnorePaused  bool
}

// Spec returns the config the container was created with.
func (st Store) Spec(id string) (*specs.Spec, error) { return st.states().LoadSpec(id) }

// Exec starts a process that joins every namespace and the cgroup of a
// running container, with its seccomp filter, and returns its host pid.
func (st Store) Exec(o ExecOpts) (pid int, err error) {
	s, err := st.states().LoadFull(o.ID)
	if err != nil {
		return 0, err
	}
	switch {
	case s.Status == state.Paused && !o.IgnorePaused:
		return 0, errors.New("container is paused: resume it, or use --ignore-paused")
	case s.Status != state.Running && s.Status != state.Paused:
		return 0, errors.New("container not running")
	}
	spec, err := st.Spec(o.ID)
	if err != nil {
		return 0, err
	}
	c := &creation{exec: true, state: s, opts: CreateOpts{ID: o.ID, PidFile: o.PidFile,
		ConsoleSocket: o.ConsoleSocket, ConsoleConn: o.ConsoleConn, PreserveFds: o.PreserveFds}}
	in, err := c.prepareExec(spec, o.Process)
	if err != nil {
		return 0, err
	}
	defer func() {
		if err != nil {
			c.undo()
		}
		c.closeFiles()
	}()
	if err = c.runExec(in); err != nil {
		return 0, err
	}
	return c.pid, nil
}

// prepareExec builds the exec's input: the container's namespaces joined
// through its process, its seccomp filter, and the new process.
func (c *creation) prepareExec(spec *specs.Spec, p *specs.Process) (*planner.Input, error) {
	execSpec := *spec
	execSpec.Process = p
	execSpec.Hooks = nil
	c.spec = &execSpec
	proc, err := planner.ResolveProcess(p, c.state.Rootfs)
	if err != nil {
		return nil, err
	}
	if err := checkLSM(p); err != nil {
		return nil, err
	}
	if proc.Terminal && c.opts.ConsoleSocket == "" && c.opts.ConsoleConn == nil {
		return nil, errors.New("--tty needs --console-socket, or exec in the foreground")
	}
	in := &planner.Input{Spec: c.spec, Rootfs: c.state.Rootfs, Process: proc}
	if spec.Linux != nil {
		for _, ns := range spec.Linux.Namespaces {
			path := fmt.Sprintf("/proc/%d/ns/%s", c.state.Pid, planner.ProcName(ns.Type))
			c.ns.Joins = append(c.ns.Joins, planner.Join{Type: ns.Type, Path: path,
				Field: fmt.Sprintf("container %s namespace %q", ns.Type, path)})
		}
	}
	if err := c.compileSeccomp(in); err != nil {
		return nil, err
	}
	return in, nil
}

func (c *creation) runExec(in *planner.Input) error {
	if err := c.ns.Open(); err != nil {
		return err
	}
	in.Ns = c.ns
	var err error
	if c.cgm, err = manager(c.state); err != nil && !errors.Is(err, errNoCgroup) {
		return err
	}
	if err := c.prepareFds(in); err != nil {
		return err
	}
	tasks, unified, err := c.cgroupJoin(true)
	if err != nil {
		return err
	}
	in.CgroupTasks = tasks
	if err := c.spawn(unified); err != nil {
		return err
	}
	if err := c.compilePlan(in); err != nil {
		return err
	}
	if err := c.sendPlan(); err != nil {
		return err
	}
	if err := c.converse(); err != nil {
		return err
	}
	if c.opts.PidFile != "" {
		return state.WriteFileAtomic(c.opts.PidFile, fmt.Appendf(nil, "%d", c.pid), 0o644)
	}
	return nil
}
