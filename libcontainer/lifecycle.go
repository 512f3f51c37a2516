package libcontainer

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"time"

	cg "github.com/opencontainers/cgroups"
	"golang.org/x/sys/unix"

	"github.com/oci-rt/oci-rt/libcontainer/cgroups"
	"github.com/oci-rt/oci-rt/libcontainer/jsonlite"
	"github.com/oci-rt/oci-rt/libcontainer/plan"
	"github.com/oci-rt/oci-rt/libcontainer/state"
)

// State returns a container's current state.
func (st Store) State(id string) (*state.State, error) { return st.states().Load(id) }

// Start lets a created container's process run: it connects to the socket
// the process waits on, hands it the state for the startContainer hooks,
// and reads back an error, or EOF once execve closed the connection.
func (st Store) Start(id string) error {
	h, s, err := st.states().OpenFull(id)
	if err != nil {
		return err
	}
	defer h.Unlock()
	return start(h, s)
}

// start runs the start operation on a locked container.
func start(h *state.Dir, s *state.State) error {
	switch s.Status {
	case state.Created:
	case state.Stopped:
		return errors.New("cannot start a container that has stopped")
	default:
		return fmt.Errorf("cannot start an already %s container", s.Status)
	}
	notify, err := listenNotify(h)
	if err != nil {
		return err
	}
	if err := release(h, s); err != nil {
		notify.close()
		return err
	}
	// running from now on: what tells a started container from a created
	// one is that start.sock is gone (LoadState), as runc's exec.fifo;
	// state.json is not rewritten
	if err := os.Remove(h.File("start.sock")); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("start: %w", err)
	}
	s.Status = state.Running
	if s.Hooks != nil {
		st, _ := jsonlite.Marshal(s.SpecState())
		// runtime-spec 1.3.0: a failed poststart hook is an error, and the
		// container is stopped
		if err := RunHooks("hooks.poststart", s.Hooks.Poststart, st); err != nil {
			unix.Kill(s.Pid, unix.SIGKILL)
			notify.close()
			return err
		}
	}
	return notify.relay(s.Pid)
}

func release(h *state.Dir, s *state.State) error {
	conn, err := net.Dial("unix", h.ShortPath("start.sock"))
	if err != nil {
		return fmt.Errorf("container init %d is not waiting for start: %w", s.Pid, err)
	}
	defer conn.Close()
	// startContainer hooks run before the program (step 7 < step 8): the
	// container is still "created"
	st, _ := jsonlite.Marshal(s.SpecState())
	if _, err := conn.Write(st); err != nil {
		return fmt.Errorf("start: %w", err)
	}
	b, err := io.ReadAll(conn)
	if err != nil && !errors.Is(err, unix.ECONNRESET) {
		return fmt.Errorf("start: %w", err)
	}
	if len(b) < plan.MsgHeaderLen {
		return nil // execve closed the connection: the process runs
	}
	// the executor exits right after its report: let start return only
	// once the container is stopped
	waitGone(s.Pid)
	idx := int(int32(binary.NativeEndian.Uint32(b[4:])))
	errno := unix.Errno(binary.NativeEndian.Uint32(b[8:]))
	field := ""
	if k := idx - s.StartBase; k >= 0 && k < len(s.StartFields) {
		field = s.StartFields[k]
	}
	return StepError(field, string(b[plan.MsgHeaderLen:]), errno)
}

// Kill signals the container's process, or with all every process in its
// cgroup.
func (st Store) Kill(id string, sig unix.Signal, all bool) error {
	h, s, err := st.states().OpenFull(id)
	if err != nil {
		return err
	}
	defer h.Unlock()
	if s.Status == state.Stopped {
		return errors.New("container not running")
	}
	if all {
		m, err := manager(s)
		if err != nil {
			return err
		}
		pids, err := m.GetAllPids()
		if err != nil {
			return err
		}
		for _, p := range pids {
			unix.Kill(p, sig)
		}
		return nil
	}
	if err := unix.Kill(s.Pid, sig); err != nil {
		return fmt.Errorf("kill %d: %w", s.Pid, err)
	}
	return nil
}

// Delete removes a stopped container; force kills a created or running
// one first. Its cgroup goes, then poststop hooks run.
func (st Store) Delete(id string, force bool) error {
	h, err := st.states().Open(id)
	if errors.Is(err, state.ErrNotExist) {
		st.states().RemoveAborted(id)
		if force {
			return nil
		}
	}
	if err != nil {
		return err
	}
	defer h.Unlock()
	s, err := h.LoadFull()
	if err != nil {
		return err
	}
	return deleteLocked(h, s, nil, force)
}

// delete runs the delete operation on a locked container; m is its cgroup
// manager when the caller has one already.
func deleteLocked(h *state.Dir, s *state.State, m cg.Manager, force bool) error {
	// runtime.md: deleting a container that is not stopped MUST fail and
	// leave it alone (runc deletes created ones; --force does here)
	if (s.Status == state.Running || s.Status == state.Paused || s.Status == state.Created) && !force {
		return fmt.Errorf("cannot delete container %s that is not stopped: %s", h.ID, s.Status)
	}
	if s.Status == state.Creating {
		// we hold the lock, which create keeps until it is done: that
		// create died; whatever it started is in the cgroup
		return removeAbortedCreate(h, s)
	}
	if m == nil {
		var err error
		m, err = manager(s)
		if errors.Is(err, errNoCgroup) {
			m, err = nil, nil
		}
		if err != nil {
			return err
		}
	}
	if s.Status != state.Stopped {
		if s.Status == state.Paused && m != nil {
			m.Freeze("THAWED")
		}
		unix.Kill(s.Pid, unix.SIGKILL)
		waitGone(s.Pid)
	}
	if s.HostMountNs {
		detachRootfs(s.Rootfs)
	}
	if m != nil {
		// processes outside the container's own pid namespace may be left
		if !s.NewPidNs {
			killCgroup(m)
		}
		if err := m.Destroy(); err != nil {
			// still busy: with --force, whatever is left in it goes too
			// (e.g. a container init whose recorded pid is stale)
			if force {
				killCgroup(m)
			}
			if err := destroyCgroup(m); err != nil {
				return fmt.Errorf("remove cgroup: %w", err)
			}
		}
	}
	if s.Hooks != nil {
		s.Status = state.Stopped
		st, _ := jsonlite.Marshal(s.SpecState())
		RunHooksWarn("hooks.poststop", s.Hooks.Poststop, st)
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

// waitGone waits (up to 10s) for a process that need not be our child to exit.
func waitGone(pid int) {
	fd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		return
	}
	defer unix.Close(fd)
	unix.Poll([]unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}, 10000)
}

func killPid(pid int) { unix.Kill(pid, unix.SIGKILL) }

// removeAbortedCreate kills what a dead create started and removes its
// cgroup and state.
func removeAbortedCreate(h *state.Dir, s *state.State) error {
	if s.HostMountNs {
		detachRootfs(s.Rootfs)
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
		killCgroup(m)
		if err := destroyCgroup(m); err != nil {
			return fmt.Errorf("remove cgroup: %w", err)
		}
	}
	return h.Remove()
}
