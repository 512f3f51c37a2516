package planner

import (
	"testing"

	"github.com/oci-rt/oci-rt/libcontainer/plan"
)

// TestBuildResctrlJoin: linux.intelRdt's group is joined by the plan's
// first op, before the cgroup and before any mount (with the cgroup joined
// late too), for exec as for create; without intelRdt there is none.
func TestBuildResctrlJoin(t *testing.T) {
	tasks := []string{"/sys/fs/resctrl/c1/tasks", "/sys/fs/resctrl/c1/mon_groups/c1/tasks"}
	for _, c := range []struct {
		name       string
		late, exec bool
	}{{"create", false, false}, {"create, cgroup late", true, false}, {"exec", false, true}} {
		in := buildTestInput(t)
		in.CgroupTasks = []string{"/sys/fs/cgroup/memory/c1/tasks"}
		in.CgroupLate = c.late
		if c.exec {
			in.StartFd = -1
		}
		if p := buildTestBuild(t, in); buildTestFind(p, 0, plan.OpJoinCgroup, "linux.intelRdt") >= 0 {
			t.Errorf("%s: a resctrl join without intelRdt", c.name)
		}
		in.ResctrlTasks = tasks
		p := buildTestBuild(t, in)
		buildTestExpect(t, p, 0, []buildTestOp{{code: plan.OpJoinCgroup, field: "linux.intelRdt", strs: tasks}})
		if n := buildTestCount(p, plan.OpJoinCgroup); n != 2 {
			t.Errorf("%s: %d joins, want the resctrl and the cgroup one\n%s", c.name, n, buildTestDump(p))
		}
	}
}
