package launch

import (
	"errors"
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/oci-rt/oci-rt/libcontainer/cgroups"
	"github.com/oci-rt/oci-rt/libcontainer/planner"
	"github.com/oci-rt/oci-rt/libcontainer/state"
)

// execProcess starts a process in a running container: it joins the
// container's namespaces (through its process) and cgroup.
type execProcess struct {
	executorRun
	opts ExecOpts
}

// Exec starts a process that joins every namespace and the cgroup of the
// running container whose state and config are s and spec, with its
// seccomp filter, and returns its host pid.
func Exec(s *state.State, spec *specs.Spec, o ExecOpts) (int, error) {
	c := &execProcess{opts: o, executorRun: executorRun{state: s, status: specs.StateRunning, host: realHost{},
		preserveFds: o.PreserveFds, consoleSocket: o.ConsoleSocket, consoleConn: o.ConsoleConn, pidfdSocket: o.PidfdSocket}}
	in, err := c.prepare(spec, o.Process)
	if err != nil {
		return 0, err
	}
	if err := run(c, in); err != nil {
		return 0, err
	}
	return c.pid, nil
}

// prepare builds the exec's input: the container's namespaces joined
// through its process, its seccomp filter, and the new process.
func (c *execProcess) prepare(spec *specs.Spec, p *specs.Process) (*planner.Input, error) {
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
	warnProcess(proc)
	if proc.Terminal && c.consoleSocket == "" && c.consoleConn == nil {
		return nil, errors.New("--tty needs --console-socket, or exec in the foreground")
	}
	in := &planner.Input{Spec: c.spec, Rootfs: c.state.Rootfs, Process: proc, ResctrlTasks: c.state.IntelRdt.Tasks()}
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

// start joins the container's namespaces and cgroup and runs the process.
func (c *execProcess) start(in *planner.Input) error {
	if err := c.ns.Open(); err != nil {
		return err
	}
	in.Ns = c.ns
	if err := c.enterSubCgroups(); err != nil {
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
	c.cpus = in.Process.Affinity.Initial
	if len(c.opts.SubCgroups) > 0 {
		in.CgroupField = "--cgroup"
	}
	if err := c.spawn(unified); err != nil {
		return err
	}
	if err := c.compilePlan(in); err != nil {
		return err
	}
	if err := c.sendPlan(); err != nil {
		return err
	}
	if err := c.answerUntilReady(c); err != nil {
		return err
	}
	if c.opts.PidFile != "" {
		return state.WriteFileAtomic(c.opts.PidFile, fmt.Appendf(nil, "%d", c.pid), 0o644)
	}
	return nil
}

// enterSubCgroups makes the process join the sub-cgroups of exec
// --cgroup instead of the container's cgroup itself.
func (c *execProcess) enterSubCgroups() error {
	if len(c.opts.SubCgroups) == 0 {
		return nil
	}
	if len(c.state.CgroupPaths) == 0 {
		return errors.New("--cgroup: the container has no cgroup")
	}
	paths, err := cgroups.SubCgroupPaths(c.state.CgroupPaths, c.opts.SubCgroups)
	if err != nil {
		return err
	}
	st := *c.state
	st.CgroupPaths = paths
	c.state = &st
	return nil
}

// abort kills what was started.
func (c *execProcess) abort() { c.kill() }

// pidKnown: nothing to record, the process has no state of its own.
func (c *execProcess) pidKnown() error { return nil }

// hungUp: execve closed the socket, the process runs.
func (c *execProcess) hungUp() error { return nil }
