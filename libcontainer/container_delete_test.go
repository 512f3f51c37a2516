package libcontainer

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/oci-rt/oci-rt/libcontainer/intelrdt"
	"github.com/oci-rt/oci-rt/libcontainer/state"
)

// deleteWithGroup records a container in status with g in runtime.json,
// then deletes it.
func deleteWithGroup(t *testing.T, status string, g *intelrdt.Group, force bool) {
	t.Helper()
	st := Store{Root: t.TempDir()}
	h, err := st.states().Claim("c")
	if err != nil {
		t.Fatal(err)
	}
	s := &state.State{ID: "c", Status: status, IntelRdt: g}
	if err := h.CreateRuntime(s); err != nil {
		t.Fatal(err)
	}
	if err := h.Save(s); err != nil {
		t.Fatal(err)
	}
	h.Unlock()
	c := &Container{id: "c", states: st.states()}
	if err := c.Delete(force); err != nil {
		t.Fatalf("delete: %v", err)
	}
	if _, err := os.Stat(st.states().DirOf("c")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("state directory: %v", err)
	}
}

// delete --force after a create that was killed removes the resctrl group
// runtime.json says it made; a delete keeps a group closID named.
func TestDeleteResctrlGroup(t *testing.T) {
	own := filepath.Join(t.TempDir(), "c")
	if err := os.Mkdir(own, 0o755); err != nil {
		t.Fatal(err)
	}
	deleteWithGroup(t, state.Creating, &intelrdt.Group{Dir: own, Made: true}, true)
	if _, err := os.Stat(own); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the group a killed create made: %v, want it removed", err)
	}

	shared := filepath.Join(t.TempDir(), "shared")
	if err := os.Mkdir(shared, 0o755); err != nil {
		t.Fatal(err)
	}
	deleteWithGroup(t, state.Stopped, &intelrdt.Group{Dir: shared, Made: true, Keep: true}, false)
	if _, err := os.Stat(shared); err != nil {
		t.Errorf("the closID group after delete: %v, want it kept", err)
	}
}
