package launch

import (
	"errors"
	"fmt"

	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"

	"github.com/oci-rt/oci-rt/libcontainer/planner"
	"github.com/oci-rt/oci-rt/libcontainer/seccomp"
)

// compilePlan builds the plan the executor runs.
func (c *executorRun) compilePlan(in *planner.Input) error {
	var err error
	if c.plan, err = planner.Build(in); err != nil {
		return err
	}
	if logrus.IsLevelEnabled(logrus.DebugLevel) {
		for i, op := range c.plan.Ops {
			logrus.Debugf("plan %d: %s (%s)", i, op, op.Field)
		}
	}
	return nil
}

func (c *executorRun) sendPlan() error {
	w := c.planW
	c.planW = nil
	b := c.plan.Encode()
	if len(b) < 60000 {
		// fits in the pipe: no goroutine, no thread hand-off
		_, err := w.Write(b)
		w.Close()
		if err != nil && !errors.Is(err, unix.EPIPE) {
			return fmt.Errorf("send the plan: %w", err)
		}
		// EPIPE: the executor is gone (its prelude failed): its report
		// is read next
		return nil
	}
	// a plan larger than the pipe is read while we go on
	go func() { w.Write(b); w.Close() }()
	return nil
}

func (c *executorRun) compileSeccomp(in *planner.Input) error {
	s := c.spec
	if s.Linux == nil || s.Linux.Seccomp == nil {
		return nil
	}
	f, err := seccomp.Compile(s.Linux.Seccomp)
	if err != nil || f == nil {
		return err
	}
	in.Seccomp = &planner.Seccomp{Program: f.Program, Flags: f.Flags}
	if f.Notify {
		// without an SCMP_ACT_NOTIFY rule the kernel makes no listener
		// and the agent gets nothing, as with runc
		in.Seccomp.ListenerPath, in.Seccomp.ListenerMetadata = f.ListenerPath, f.ListenerMetadata
	}
	c.seccomp = in.Seccomp
	return nil
}
