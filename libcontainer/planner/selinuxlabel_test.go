package planner

import (
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/oci-rt/oci-rt/libcontainer/plan"
)

// process.selinuxLabel is written to /proc/self/attr/exec after the
// startContainer hooks (which must not run under it) and before the
// process's execve, where it takes effect; without a label nothing is.
func TestBuildSelinuxProcessLabel(t *testing.T) {
	t.Parallel()
	const label = "system_u:system_r:container_t:s0"
	field := `process.selinuxLabel "` + label + `"`
	in := buildTestInput(t)
	if pl := buildTestBuild(t, in); buildTestFind(pl, 0, plan.OpWrite, field) >= 0 {
		t.Fatal("a label written without process.selinuxLabel")
	}
	in = buildTestInput(t)
	in.Process.SelinuxLabel = label
	in.Spec.Hooks = &specs.Hooks{StartContainer: []specs.Hook{{Path: "/bin/true"}}}
	pl := buildTestBuild(t, in)
	i := buildTestFind(pl, 0, plan.OpWrite, field)
	if i < 0 {
		t.Fatalf("no write of %s in the plan", field)
	}
	if o := pl.Ops[i]; len(o.Strs) != 2 || o.Strs[0] != "/proc/self/attr/exec" || o.Strs[1] != label {
		t.Errorf("the label's write: %q, want /proc/self/attr/exec %q", o.Strs, label)
	}
	hook, exec := buildTestFind(pl, 0, plan.OpHook, ""), buildTestFind(pl, 0, plan.OpExec, "")
	if hook < 0 || exec < 0 || !(hook < i && i < exec) {
		t.Errorf("startContainer hook at %d, label at %d, exec at %d: want hook < label < exec", hook, i, exec)
	}
}
