package libcontainer

import (
	"errors"

	"github.com/oci-rt/oci-rt/libcontainer/state"
	cg "github.com/opencontainers/cgroups"
)

// Held is a created container kept by the process that created it (run):
// start and delete use the state and cgroup manager in memory instead of
// reading them back, as long as state.json is still the version this
// process wrote (anyone else changing the container writes a new one).
// Between operations the container is unlocked, as after create.
type Held struct {
	store Store
	id    string
	s     *state.State
	m     cg.Manager
	saved state.Stamp
}

// CreateHeld is Create for a caller that goes on to start and delete the
// container itself.
func (st Store) CreateHeld(o CreateOpts) (*Held, error) {
	c, err := st.create(o)
	if err != nil {
		return nil, err
	}
	// what create wrote last; start does not rewrite it (start.sock's
	// absence says the container runs)
	// (without it the first lock reads the state back)
	saved, _ := state.StampOf(c.handle.File("state.json"))
	return &Held{store: st, id: o.ID, s: c.state, m: c.cgm, saved: saved}, nil
}

// State is the container's state as last seen by this process.
func (c *Held) State() *state.State { return c.s }

// lock locks the container again and checks the state in memory is still
// current; if not, it reads the state from disk and forgets the manager.
func (c *Held) lock() (*state.Dir, error) {
	h, err := c.store.states().Open(c.id)
	if err != nil {
		return nil, err
	}
	if st, err := state.StampOf(h.File("state.json")); err != nil || st != c.saved {
		s, err := h.LoadFull()
		if err != nil {
			h.Unlock()
			return nil, err
		}
		c.s, c.m = s, nil
	}
	return h, nil
}

// Start is Store.Start on the held container.
func (c *Held) Start() error {
	h, err := c.lock()
	if err != nil {
		return err
	}
	defer h.Unlock()
	return start(h, c.s)
}

// Exited records that the caller has reaped the container's process: its
// pid may now be anyone's, and delete must not signal it.
func (c *Held) Exited() {
	c.s.Status, c.s.Pid = state.Stopped, 0
}

// Delete is Store.Delete --force on the held container.
func (c *Held) Delete() error {
	h, err := c.lock()
	if errors.Is(err, state.ErrNotExist) {
		return nil // deleted by someone else
	}
	if err != nil {
		return err
	}
	defer h.Unlock()
	return deleteLocked(h, c.s, c.m, true)
}
