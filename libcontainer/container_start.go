package libcontainer

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"

	"golang.org/x/sys/unix"

	"github.com/oci-rt/oci-rt/libcontainer/jsonlite"
	"github.com/oci-rt/oci-rt/libcontainer/launch"
	"github.com/oci-rt/oci-rt/libcontainer/plan"
	"github.com/oci-rt/oci-rt/libcontainer/state"
)

// Start lets a created container's process run: it connects to the socket
// the process waits on, hands it the state for the startContainer hooks,
// and reads back an error, or EOF once execve closed the connection.
func (c *Container) Start() error {
	h, s, err := c.lock()
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
	notify, err := launch.ListenNotify(h)
	if err != nil {
		return err
	}
	if err := release(h, s); err != nil {
		notify.Close()
		return err
	}
	// running from now on: what tells a started container from a created
	// one is that start.sock is gone (state.Load), as runc's exec.fifo;
	// state.json is not rewritten
	if err := os.Remove(h.File("start.sock")); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("start: %w", err)
	}
	s.Status = state.Running
	if s.Hooks != nil {
		st, _ := jsonlite.Marshal(s.SpecState())
		// runtime-spec 1.3.0: a failed poststart hook is an error, and the
		// container is stopped
		if err := launch.RunHooks("hooks.poststart", s.Hooks.Poststart, st); err != nil {
			unix.Kill(s.Pid, unix.SIGKILL)
			notify.Close()
			return err
		}
	}
	return notify.Relay(s.Pid)
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
	return launch.StepError(field, string(b[plan.MsgHeaderLen:]), errno)
}
