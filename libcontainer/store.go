package libcontainer

import (
	"os"
	"path/filepath"

	"github.com/oci-rt/oci-rt/libcontainer/launch"
	"github.com/oci-rt/oci-rt/libcontainer/state"
)

// Store is where containers are created, loaded and listed: the state
// root (--root), one directory per container.
type Store struct{ Root string }

// Create creates a container whose process waits for start (see
// launch.Create).
func (st Store) Create(o launch.CreateOpts) (*Container, error) {
	s, m, err := launch.Create(st.states(), o)
	if err != nil {
		return nil, err
	}
	return &Container{id: o.ID, states: st.states(), s: s, m: m}, nil
}

// Load names an existing container; its operations find out whether it
// exists (ErrNotExist), each under its lock.
func (st Store) Load(id string) (*Container, error) {
	if err := state.CheckID(id); err != nil {
		return nil, err
	}
	return &Container{id: id, states: st.states()}, nil
}

// states is the on-disk store under the root.
func (st Store) states() state.Store { return state.Store{Root: st.Root} }

// List returns the states of every container under the root, sorted by id.
func (st Store) List() ([]*state.State, error) {
	ents, err := os.ReadDir(st.Root)
	if err != nil {
		// a root that does not exist is the caller's to judge (runc 1.5:
		// an error for --root, nothing to list for the default)
		return nil, err
	}
	states := make([]*state.State, len(ents))
	load := func(lo, hi int) {
		var r state.Reader
		for i := lo; i < hi; i++ {
			if ents[i].IsDir() {
				// an error: being created or deleted
				states[i], _ = r.Load(filepath.Join(st.Root, ents[i].Name()))
			}
		}
	}
	// most of the time is the kernel's (opening the files, making
	// /proc/<pid>/stat): with many containers, half of them on another CPU
	if half := len(ents) / 2; half >= listSplit {
		launch.UseCallerCPUs()
		done := make(chan struct{})
		go func() { load(half, len(ents)); close(done) }()
		load(0, half)
		<-done
	} else {
		load(0, len(ents))
	}
	var out []*state.State
	for _, s := range states {
		if s != nil {
			out = append(out, s)
		}
	}
	return out, nil
}

// listSplit is how many containers make reading them in two halves pay.
var listSplit = 16

// State is a container's state, as the state directory keeps it.
type State = state.State
