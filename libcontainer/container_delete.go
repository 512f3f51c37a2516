package libcontainer

import (
	"errors"
	"fmt"
	"time"

	cg "github.com/opencontainers/cgroups"
	"golang.org/x/sys/unix"

	"github.com/oci-rt/oci-rt/libcontainer/cgroups"
	"github.com/oci-rt/oci-rt/libcontainer/intelrdt"
	"github.com/oci-rt/oci-rt/libcontainer/jsonlite"
	"github.com/oci-rt/oci-rt/libcontainer/launch"
	"github.com/oci-rt/oci-rt/libcontainer/state"
)

// Delete removes a stopped or created container (whose process is killed,
// as runc, crun and youki do); force kills a running one first. Its cgroup
// goes, then poststop hooks run.
func (c *Container) Delete(force bool) error {
	h, s, err := c.lock()
	if errors.Is(err, state.ErrNotExist) {
		// a held container was deleted by someone else; any other may be
		// a create that was killed before it wrote a state
		if !c.held {
			c.states.RemoveAborted(c.id)
		}
		if force {
			return nil
		}
	}
	if err != nil {
		return err
	}
	defer h.Unlock()
	return c.delete(h, s, force)
}

// delete deletes the locked container, with the cgroup manager in memory
// if there is one.
func (c *Container) delete(h *state.Dir, s *state.State, force bool) error {
	m := c.m
	// runtime.md: deleting a container that is not stopped MUST fail and
	// leave it alone; a created one is killed and deleted as runc does
	// (containerd's shim deletes a task whose start failed without --force)
	if (s.Status == state.Running || s.Status == state.Paused) && !force {
		return fmt.Errorf("cannot delete container %s that is not stopped: %s", h.ID, s.Status)
	}
	if s.Status == state.Creating {
		// we hold the lock, which create keeps until it is done: that
		// create died; whatever it started is in the cgroup
		return removeAbortedCreate(h, s)
	}
	if m == nil {
		var err error
		m, err = cgroupManager(s)
		if errors.Is(err, errNoCgroup) {
			m, err = nil, nil
		}
		if err != nil {
			return err
		}
	}
	if s.Status != state.Stopped {
		if s.Status == state.Paused && m != nil {
			m.Freeze(cg.Thawed)
		}
		unix.Kill(s.Pid, unix.SIGKILL)
		waitGone(s.Pid)
	}
	for _, n := range s.NetnsNames {
		if err := n.Remove(); err != nil {
			return err
		}
	}
	if s.HostMountNs {
		launch.DetachRootfs(s.Rootfs)
	}
	if m != nil {
		// processes outside the container's own pid namespace may be left
		if !s.NewPidNs {
			launch.KillCgroup(m)
		}
		if err := m.Destroy(); err != nil {
			// still busy: with --force, whatever is left in it goes too
			// (e.g. a container init whose recorded pid is stale)
			if force {
				launch.KillCgroup(m)
			}
			if err := destroyCgroup(m); err != nil {
				return fmt.Errorf("remove cgroup: %w", err)
			}
		}
	}
	if err := intelrdt.Remove(s.IntelRdt, false); err != nil {
		return err
	}
	if s.Hooks != nil {
		s.Status = state.Stopped
		st, _ := jsonlite.Marshal(s.SpecState())
		launch.RunHooksWarn("hooks.poststop", s.Hooks.Poststop, st)
	}
	return h.Remove()
}

// destroyCgroup removes the cgroup, retrying (for up to 2s) while the last
// processes exit.
func destroyCgroup(m interface{ Destroy() error }) error {
	deadline := time.Now().Add(2 * time.Second)
	for {
		err := m.Destroy()
		if err == nil || time.Now().After(deadline) {
			return err
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// removeAbortedCreate kills what a dead create started and removes its
// cgroup and state.
func removeAbortedCreate(h *state.Dir, s *state.State) error {
	if s.HostMountNs {
		launch.DetachRootfs(s.Rootfs)
	}
	c, err := s.CgroupConfig()
	if err != nil {
		return err
	}
	if c != nil {
		m, err := cgroups.New(c)
		if err != nil {
			return err
		}
		launch.KillCgroup(m)
		if err := destroyCgroup(m); err != nil {
			return fmt.Errorf("remove cgroup: %w", err)
		}
	}
	if err := intelrdt.Remove(s.IntelRdt, true); err != nil {
		return err
	}
	return h.Remove()
}
