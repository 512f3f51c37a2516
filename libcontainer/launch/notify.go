package launch

// sd_notify pass-through, as runc does it: when the caller has
// NOTIFY_SOCKET, the container gets a socket of ours at /run/notify/notify.sock
// (its state directory's notify/ bound read-only), and `start` relays the
// container's READY=1 to the caller's socket with MAINPID=<container pid>.

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/oci-rt/oci-rt/libcontainer/planner"
	"github.com/oci-rt/oci-rt/libcontainer/state"
)

const notifyInContainer = "/run/notify/notify.sock"

// addNotifySocket prepares the container side: the directory the socket
// will be bound in, the bind mount and NOTIFY_SOCKET in the process env.
func addNotifySocket(h *state.Dir, spec *specs.Spec, proc *planner.Process) error {
	dir := h.File("notify")
	if err := os.Mkdir(dir, 0o755); err != nil {
		return fmt.Errorf("NOTIFY_SOCKET: %w", err)
	}
	spec.Mounts = append(append([]specs.Mount(nil), spec.Mounts...), specs.Mount{
		Destination: filepath.Dir(notifyInContainer), Source: dir, Type: "bind",
		Options: []string{"bind", "nosuid", "noexec", "nodev", "ro"}})
	proc.Env = append(proc.Env, "NOTIFY_SOCKET="+notifyInContainer)
	return nil
}

// NotifyRelay is start's side: our socket, bound before the process runs.
type NotifyRelay struct {
	sock *net.UnixConn
	host string
}

// ListenNotify binds the container's notify socket when the container was
// created with one and the caller of start has NOTIFY_SOCKET.
func ListenNotify(h *state.Dir) (*NotifyRelay, error) {
	host := os.Getenv("NOTIFY_SOCKET")
	if host == "" {
		return nil, nil
	}
	if _, err := os.Stat(h.File("notify")); err != nil {
		return nil, nil // created without NOTIFY_SOCKET
	}
	// through /proc/self/fd: state paths can exceed the 108 bytes of an address
	name := h.ShortPath("notify/notify.sock")
	os.Remove(h.File("notify/notify.sock"))
	sock, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: name, Net: "unixgram"})
	if err != nil {
		return nil, fmt.Errorf("NOTIFY_SOCKET: %w", err)
	}
	// any user in the container may notify
	os.Chmod(h.File("notify/notify.sock"), 0o777)
	return &NotifyRelay{sock: sock, host: host}, nil
}

// Relay waits for READY= from the container (or its exit) and passes it
// on to the caller's socket with MAINPID.
func (n *NotifyRelay) Relay(pid int) error {
	if n == nil {
		return nil
	}
	defer n.sock.Close()
	buf := make([]byte, 4096)
	for {
		n.sock.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
		r, err := n.sock.Read(buf)
		if err != nil {
			if unix.Kill(pid, 0) != nil {
				return nil // the process exited without saying it was ready
			}
			continue
		}
		for _, line := range bytes.Split(buf[:r], []byte{'\n'}) {
			if bytes.HasPrefix(line, []byte("READY=")) {
				return n.send(line, pid)
			}
		}
	}
}

func (n *NotifyRelay) send(ready []byte, pid int) error {
	c, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: n.host, Net: "unixgram"})
	if err != nil {
		return fmt.Errorf("NOTIFY_SOCKET %q: %w", n.host, err)
	}
	defer c.Close()
	msg := append(append([]byte(nil), ready...), "\nMAINPID="+strconv.Itoa(pid)+"\n"...)
	if _, err := c.Write(msg); err != nil {
		return fmt.Errorf("NOTIFY_SOCKET %q: %w", n.host, err)
	}
	return nil
}

func (n *NotifyRelay) Close() {
	if n != nil {
		n.sock.Close()
	}
}
