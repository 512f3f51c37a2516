package libcontainer

import (
	"testing"

	"github.com/oci-rt/oci-rt/libcontainer/state"
)

// TestHeldState: a held container's operations use the state in memory
// while state.json is the version its creator wrote, and read it back once
// anyone else wrote a new one (forgetting the cgroup manager in memory).
func TestHeldState(t *testing.T) {
	st := Store{Root: t.TempDir()}
	h, err := st.states().Claim("c")
	if err != nil {
		t.Fatal(err)
	}
	if err := h.CreateRuntime(&state.State{}); err != nil {
		t.Fatal(err)
	}
	if err := h.Save(&state.State{ID: "c", Status: state.Stopped, Bundle: "/on-disk"}); err != nil {
		t.Fatal(err)
	}
	h.Unlock()
	mem := &state.State{ID: "c", Status: state.Stopped, Bundle: "/in-memory"}
	c := &Container{id: "c", states: st.states(), s: mem}
	c.Hold()
	lockedState := func() *state.State {
		t.Helper()
		h, s, err := c.lock()
		if err != nil {
			t.Fatal(err)
		}
		h.Unlock()
		return s
	}
	if s := lockedState(); s != mem {
		t.Errorf("held: lock gave %+v, want the state in memory", s)
	}
	// someone else writes the container's state
	h, err = st.states().Open("c")
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Save(&state.State{ID: "c", Status: state.Stopped, Bundle: "/rewritten"}); err != nil {
		t.Fatal(err)
	}
	h.Unlock()
	if s := lockedState(); s == mem || s.Bundle != "/rewritten" {
		t.Errorf("after a rewrite: lock gave bundle %q, want the state read back", s.Bundle)
	}
	// not held: always read back
	c = &Container{id: "c", states: st.states(), s: mem}
	if s := lockedState(); s == mem || s.Bundle != "/rewritten" {
		t.Errorf("not held: lock gave bundle %q, want the state read back", s.Bundle)
	}
}
