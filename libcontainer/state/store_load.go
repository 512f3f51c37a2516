package state

import (
	"errors"
	"os"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/oci-rt/oci-rt/libcontainer/jsonlite"
)

// Load returns a container's current state.
func (st Store) Load(id string) (*State, error) {
	if err := CheckID(id); err != nil {
		return nil, err
	}
	return Load(st.DirOf(id))
}

// LoadFull reads a container's state and runtime.json without the lock.
func (st Store) LoadFull(id string) (*State, error) {
	if err := CheckID(id); err != nil {
		return nil, err
	}
	return loadFull(st.DirOf(id))
}

// OpenFull locks a container and reads all its state; the caller unlocks.
func (st Store) OpenFull(id string) (*Dir, *State, error) {
	h, err := st.Open(id)
	if err != nil {
		return nil, nil, err
	}
	s, err := h.LoadFull()
	if err != nil {
		h.Unlock()
		return nil, nil, err
	}
	return h, s, nil
}

// LoadSpec returns the config the container was created with (saved in its
// state directory, so that later edits of the bundle do not matter).
func (st Store) LoadSpec(id string) (*specs.Spec, error) {
	if err := CheckID(id); err != nil {
		return nil, err
	}
	b, err := os.ReadFile(st.DirOf(id) + "/config.json")
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, ErrNotExist
		}
		return nil, err
	}
	var s specs.Spec
	return &s, jsonlite.Unmarshal(b, &s)
}

// RemoveAborted removes a state directory that a create left before it
// wrote any state (it was killed): once we hold its lock, no create works there.
func (st Store) RemoveAborted(id string) {
	if CheckID(id) != nil {
		return
	}
	h, err := lockDir(id, st.DirOf(id))
	if err != nil {
		return
	}
	if _, err := os.Stat(h.File("state.json")); errors.Is(err, os.ErrNotExist) {
		h.Remove()
		return
	}
	h.Unlock()
}

// SaveSpec keeps the container's config in its state directory: exec and
// update start from it, whatever happens to the bundle later.
func (h *Dir) SaveSpec(s *specs.Spec) error {
	b, err := jsonlite.Marshal(s)
	if err != nil {
		return err
	}
	return WriteFileAtomic(h.File("config.json"), b, 0o600)
}
