package launch

import (
	"fmt"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/oci-rt/oci-rt/libcontainer/plan"
	"github.com/oci-rt/oci-rt/libcontainer/planner"
)

// stepError words the failure of step i; a capset refused for want of
// privilege names the capabilities oci-rt itself does not have.
func (c *executorRun) stepError(i int, what string, errno unix.Errno) error {
	field := c.plan.Field(i)
	switch i {
	case plan.PreludeJoin:
		field = fmt.Sprintf("linux.cgroupsPath %q", planner.CgroupsPath(c.spec))
	case plan.PreludeUnshare:
		field = "linux.namespaces"
	}
	err := StepError(field, what, errno)
	if i < 0 || i >= len(c.plan.Ops) {
		return err
	}
	if hint := kernelHint(c.plan.Ops[i].Code, errno); hint != "" {
		return fmt.Errorf("%w (%s)", err, hint)
	}
	if errno != unix.EPERM || c.spec.Process == nil {
		return err
	}
	switch c.plan.Ops[i].Code {
	case plan.OpCapSet, plan.OpCapBset:
		if caps := planner.CapsBeyondBounding(c.spec.Process.Capabilities); len(caps) > 0 {
			return fmt.Errorf("%w (not in oci-rt's own bounding set: %s)", err, strings.Join(caps, ", "))
		}
	case plan.OpSchedAttr:
		if s := c.spec.Process.Scheduler; s != nil && s.Policy != specs.SchedOther && s.Policy != specs.SchedBatch && s.Policy != specs.SchedIdle {
			return fmt.Errorf("%w (a real-time policy needs CAP_SYS_NICE outside a user namespace or process.rlimits RLIMIT_RTPRIO, and with cgroup v1 real-time runtime for the container's cpu cgroup and its parents: linux.resources.cpu.realtimeRuntime)", err)
		}
	}
	return err
}

// kernelHint says what the kernel wants when it refuses a process
// attribute: the errno alone does not tell a user what to change.
func kernelHint(code plan.Code, errno unix.Errno) string {
	switch {
	case code == plan.OpMempolicy && errno == unix.EINVAL:
		return "the nodes must exist (/sys/devices/system/node), be allowed by the container's cpuset.mems and suit the mode: set_mempolicy(2)"
	case code == plan.OpIOPrio && errno == unix.EPERM:
		return "IOPRIO_CLASS_RT needs CAP_SYS_ADMIN or CAP_SYS_NICE outside a user namespace"
	case code == plan.OpAffinity && errno == unix.EINVAL:
		return "no CPU of the list is in the container's cpuset"
	}
	return ""
}

// StepError words a failed plan step: the field, what failed and why
// (errno 0: the text says it all, e.g. a hook's exit status).
func StepError(field, what string, errno unix.Errno) error {
	if field == "" {
		field = "container init"
	}
	if errno == 0 {
		return fmt.Errorf("%s: %s", field, what)
	}
	return fmt.Errorf("%s: %s: %w", field, what, errno)
}
