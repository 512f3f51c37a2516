package libcontainer

import (
	"errors"
	"fmt"

	cg "github.com/opencontainers/cgroups"
	"golang.org/x/sys/unix"

	"github.com/oci-rt/oci-rt/libcontainer/state"
)

// Kill signals the container's process, or with all every process in its
// cgroup. Signal 0 only checks that the process is there.
func (c *Container) Kill(sig unix.Signal, all bool) error {
	h, s, err := c.lock()
	if err != nil {
		return err
	}
	defer h.Unlock()
	if sig == unix.SIGKILL && !s.NewPidNs && s.Status != state.Creating {
		// no pid namespace of its own: the kernel takes no other process
		// with its init, so SIGKILL goes to every process of its cgroup,
		// also once the init is gone (runc 1.5)
		if killed, err := killAllFrozen(s); err != nil || killed || s.Status != state.Stopped {
			return err
		}
	}
	if all {
		return signalCgroup(s, sig)
	}
	if s.Status == state.Stopped {
		return errors.New("container not running")
	}
	if err := unix.Kill(s.Pid, sig); err != nil {
		return fmt.Errorf("kill %d: %w", s.Pid, err)
	}
	return nil
}

// signalCgroup signals every process in the container's cgroup. A stopped
// container may still have some (without a pid namespace of its own, what
// its init started outlives it): containerd's shim asks for them after
// every exit; with none, or no cgroup left, there is nothing to do.
func signalCgroup(s *state.State, sig unix.Signal) error {
	m, err := cgroupManager(s)
	if s.Status == state.Stopped && err != nil {
		return nil
	}
	if err != nil {
		return err
	}
	pids, err := m.GetAllPids()
	if err != nil {
		if s.Status == state.Stopped {
			return nil
		}
		return err
	}
	for _, p := range pids {
		unix.Kill(p, sig)
	}
	return nil
}

// killAllFrozen SIGKILLs every process in the container's cgroup, frozen
// meanwhile so that none forks past the kill (as runc's
// signalAllProcesses); it tells whether there was any.
func killAllFrozen(s *state.State) (bool, error) {
	m, err := cgroupManager(s)
	if errors.Is(err, errNoCgroup) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	frozen := m.Freeze(cg.Frozen) == nil
	pids, err := m.GetAllPids()
	for _, p := range pids {
		unix.Kill(p, unix.SIGKILL)
	}
	if frozen {
		m.Freeze(cg.Thawed)
	}
	if err != nil {
		return false, fmt.Errorf("the container's processes: %w", err)
	}
	return len(pids) > 0, nil
}
