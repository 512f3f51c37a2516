package libcontainer

import (
	"os"
	"strings"
	"testing"

	cg "github.com/opencontainers/cgroups"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/oci-rt/oci-rt/libcontainer/launch"
	"github.com/oci-rt/oci-rt/libcontainer/state"
)

// TestExecRefusesBadSavedCgroup: exec joins the cgroup at the paths
// runtime.json saved, so a runtime.json with a cgroup and no paths, or a
// relative or unclean one, is refused before anything is started.
func TestExecRefusesBadSavedCgroup(t *testing.T) {
	start, _, err := state.ProcStat(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		paths map[string]string
		want  string
	}{
		{nil, "no saved cgroup paths"},
		{map[string]string{"": "oci-rt/c"}, `saved path ""="oci-rt/c"`},
		{map[string]string{"memory": "/sys/fs/cgroup/memory/../../../tmp"}, "not an absolute clean path"},
	} {
		st := Store{Root: t.TempDir()}
		h, err := st.states().Claim("c")
		if err != nil {
			t.Fatal(err)
		}
		// a running container: its process is this test's
		s := &state.State{ID: "c", Status: state.Running, Pid: os.Getpid(), StartTime: start,
			Cgroup: &cg.Cgroup{}, CgroupPaths: tc.paths}
		if err := h.CreateRuntime(s); err != nil {
			t.Fatal(err)
		}
		if err := h.Save(s); err != nil {
			t.Fatal(err)
		}
		h.Unlock()
		c := &Container{id: "c", states: st.states()}
		_, err = c.Exec(&specs.Spec{}, launch.ExecOpts{})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("paths %v: got %v, want an error with %q", tc.paths, err, tc.want)
		}
	}
}
