package libcontainer

import (
	"errors"
	"path/filepath"

	cg "github.com/opencontainers/cgroups"
	"golang.org/x/sys/unix"

	"github.com/oci-rt/oci-rt/libcontainer/cgroups"
	"github.com/oci-rt/oci-rt/libcontainer/state"
)

// Container is one container under a Store: its operations lock its state
// directory (serialising commands on it) and read its state, or use the
// state in memory when this process created the container and holds it
// (run).
type Container struct {
	id     string
	states state.Store
	// s and m are the state and cgroup manager this process last saw
	s *state.State
	m cg.Manager
	// held: this process wrote state.json, whose version saved is; while
	// it is still that version (anyone else changing the container writes
	// a new one) operations use s and m instead of reading them back
	held  bool
	saved state.Stamp
}

// ID is the container's id.
func (c *Container) ID() string { return c.id }

// Hold keeps the created container's state in memory for its later
// operations in this process (run: start, delete), as long as state.json
// is still the version create wrote; it costs one stat, which create alone
// does not need. Between operations the container is unlocked, as after
// create.
func (c *Container) Hold() {
	// start does not rewrite state.json (start.sock's absence says the
	// container runs); without a stamp the first lock reads it back
	c.saved, _ = state.StampOf(filepath.Join(c.states.DirOf(c.id), "state.json"))
	c.held = true
}

// State is the container's state: as this process holds it, else read now.
func (c *Container) State() (*state.State, error) {
	if c.held {
		return c.s, nil
	}
	return c.states.Load(c.id)
}

// Exited records that the caller has reaped the container's process: its
// pid may now be anyone's, and delete must not signal it.
func (c *Container) Exited() {
	if c.s != nil {
		c.s.Status, c.s.Pid = state.Stopped, 0
	}
}

// lock locks the container and returns its state: the one held in memory
// while state.json is the version this process wrote, else read (and the
// manager in memory forgotten). The caller unlocks.
func (c *Container) lock() (*state.Dir, *state.State, error) {
	h, err := c.states.Open(c.id)
	if err != nil {
		return nil, nil, err
	}
	if c.held {
		if st, err := state.StampOf(h.File("state.json")); err == nil && st == c.saved {
			return h, c.s, nil
		}
	}
	s, err := h.LoadFull()
	if err != nil {
		h.Unlock()
		return nil, nil, err
	}
	c.s, c.m = s, nil
	return h, s, nil
}

// running opens a container and checks that its process is alive.
func (c *Container) running() (*state.Dir, *state.State, error) {
	h, s, err := c.lock()
	if err == nil && s.Status == state.Stopped {
		h.Unlock()
		return nil, nil, errors.New("container not running")
	}
	return h, s, err
}

// liveManager is the cgroup manager of a container whose process runs
// (read without the lock: these commands only read the cgroup).
func (c *Container) liveManager() (cg.Manager, error) {
	s, err := c.states.LoadFull(c.id)
	if err != nil {
		return nil, err
	}
	if s.Status == state.Stopped {
		return nil, errors.New("container not running")
	}
	return cgroupManager(s)
}

// errNoCgroup: a rootless container made without a cgroup.
var errNoCgroup = errors.New("the container has no cgroup (created rootless without one)")

// cgroupManager loads the container's cgroup manager from its state.
func cgroupManager(s *state.State) (cg.Manager, error) {
	c, err := s.CgroupConfig()
	if err != nil {
		return nil, err
	}
	if c == nil {
		return nil, errNoCgroup
	}
	return cgroups.Load(c, s.CgroupPaths)
}

// waitGone waits (up to 10s) for a process that need not be our child to exit.
func waitGone(pid int) {
	fd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		return
	}
	defer unix.Close(fd)
	unix.Poll([]unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}, 10000)
}
