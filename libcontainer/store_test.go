package libcontainer

import (
	"fmt"
	"testing"

	"github.com/oci-rt/oci-rt/libcontainer/state"
)

// TestList: every container with a state, in directory order, whether
// read in one pass or in two halves; a directory without state (being
// created) is left out.
func TestList(t *testing.T) {
	for _, n := range []int{3, 40} {
		st := Store{Root: t.TempDir()}
		for i := 0; i < n; i++ {
			h, err := st.states().Claim(fmt.Sprintf("c%03d", i))
			if err != nil {
				t.Fatal(err)
			}
			if i != 1 {
				if err := h.Save(&state.State{ID: h.ID, Status: state.Stopped}); err != nil {
					t.Fatal(err)
				}
			}
			h.Unlock()
		}
		got, err := st.List()
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != n-1 {
			t.Fatalf("%d containers: List gave %d, want %d", n, len(got), n-1)
		}
		for i, s := range got {
			want := i
			if i >= 1 {
				want = i + 1
			}
			if s.ID != fmt.Sprintf("c%03d", want) || s.Status != state.Stopped {
				t.Errorf("%d containers: entry %d is %s (%s), want c%03d", n, i, s.ID, s.Status, want)
			}
		}
	}
}
