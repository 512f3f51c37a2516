// Package launch starts processes through the executor: a container's
// first process (create: initProcess) and a process joining a running
// container (exec: execProcess). Both start the executor with its fds,
// send it the plan and answer it until the process is ready (executorRun);
// what differs between them is behind the process interface.
package launch

import (
	"os"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/oci-rt/oci-rt/libcontainer/plan"
	"github.com/oci-rt/oci-rt/libcontainer/planner"
	"github.com/oci-rt/oci-rt/libcontainer/state"
)

// process is one launch: what differs between creating and exec'ing.
type process interface {
	// start runs the launch's steps, up to a process that waits for start
	// (create) or runs (exec)
	start(in *planner.Input) error
	// abort kills what start started and removes what it made
	abort()
	// closeFiles closes what the launch opened, whether it failed or not
	closeFiles()
	// pidKnown is told once the executor has reported the container
	// process's pid
	pidKnown() error
	// answer answers a request of the executor (plan.Sync*), with what
	// it sent besides (a mount index for SyncMountSource)
	answer(kind, pid int, payload string) error
	// hungUp says what the executor's closing its socket before it said
	// ready means
	hungUp() error
}

// run starts p and, when that fails, undoes what it made.
func run(p process, in *planner.Input) error {
	err := p.start(in)
	if err != nil {
		p.abort()
	}
	p.closeFiles()
	return err
}

// executorRun is one run of the executor: its process, the fds it is
// given, the plan it is sent and the conversation with it.
type executorRun struct {
	spec  *specs.Spec
	state *state.State
	ns    planner.Namespaces
	plan  *plan.Plan
	// executor: the pid of the executor's first half, until it is reaped
	executor int
	sync     *os.File // our end of the executor's socket pair (in Go's poller)
	planW    *os.File // the plan pipe's end we write
	// extra are the executor's fds from 3 up; childFiles those of them
	// we close once it started
	extra          []*os.File
	childFiles     []*os.File
	planFd, syncFd int
	files          []*os.File
	pid            int // the container's process
	seccomp        *planner.Seccomp
	// status is the container's, as the seccomp agent is told it
	status specs.ContainerState
	// cpus is the CPU mask the executor starts with: every CPU (nil), or
	// exec's process.execCPUAffinity.initial
	cpus []uint64
	host host

	// what the caller passes on: socket-activation and preserved fds
	// (from 3 up), and the console
	listenFds, preserveFds int
	consoleSocket          string
	consoleConn            *os.File
	pidfdSocket            string
}

func (c *executorRun) closeFiles() {
	for _, f := range append(c.files, c.childFiles...) {
		f.Close()
	}
	if c.planW != nil {
		c.planW.Close()
	}
	if c.sync != nil {
		c.sync.Close()
	}
	c.ns.Close()
}

// kill kills the executor and the container's process, if started.
func (c *executorRun) kill() {
	if c.pid > 0 {
		unix.Kill(c.pid, unix.SIGKILL)
	}
	if c.executor > 0 {
		unix.Kill(c.executor, unix.SIGKILL)
		c.reapExecutor()
	}
}
