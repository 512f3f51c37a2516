package launch

import (
	"errors"
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/oci-rt/oci-rt/libcontainer/jsonlite"
)

// passListener sends the seccomp listener the executor handed us to the
// agent at linux.seccomp.listenerPath, with the container process state
// (runtime-spec config-linux.md, "The Container Process State").
func (c *executorRun) passListener(oob []byte) error {
	fd, ok := oneFd(oob)
	if !ok {
		return errors.New("linux.seccomp.listenerPath: no fd from the executor")
	}
	defer unix.Close(fd)
	field := fmt.Sprintf("linux.seccomp.listenerPath %q", c.seccomp.ListenerPath)
	st := c.state.SpecState()
	st.Pid, st.Status = c.pid, c.status
	msg, _ := jsonlite.Marshal(specs.ContainerProcessState{Version: specs.Version, Fds: []string{specs.SeccompFdName},
		Pid: c.pid, Metadata: c.seccomp.ListenerMetadata, State: st})
	sock, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("%s: %w", field, err)
	}
	defer unix.Close(sock)
	if err := unix.Connect(sock, &unix.SockaddrUnix{Name: c.seccomp.ListenerPath}); err != nil {
		return fmt.Errorf("%s: %w", field, err)
	}
	if err := unix.Sendmsg(sock, msg, unix.UnixRights(fd), nil, 0); err != nil {
		return fmt.Errorf("%s: %w", field, err)
	}
	return nil
}
