package launch

import (
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/oci-rt/oci-rt/libcontainer/plan"
)

// TestStepErrorFields: a failed step is named by its config field, the
// executor's prelude steps (before it had the plan) included.
func TestStepErrorFields(t *testing.T) {
	c := &executorRun{spec: &specs.Spec{Linux: &specs.Linux{CgroupsPath: "/x/y"}}, plan: &plan.Plan{}}
	c.plan.Add("mounts[2] destination \"/proc\"", plan.OpMount, nil)
	for _, tc := range []struct {
		index int
		want  string
	}{
		{0, `mounts[2] destination "/proc": mount proc: no space left on device`},
		{plan.PreludeJoin, `linux.cgroupsPath "/x/y": mount proc: no space left on device`},
		{plan.PreludeUnshare, `linux.namespaces: mount proc: no space left on device`},
	} {
		err := c.stepError(tc.index, "mount proc", unix.ENOSPC)
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("step %d: %v, want %q", tc.index, err, tc.want)
		}
	}
}
