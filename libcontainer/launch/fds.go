package launch

import (
	"fmt"
	"net"
	"os"

	"golang.org/x/sys/unix"

	"github.com/oci-rt/oci-rt/libcontainer/planner"
	"github.com/oci-rt/oci-rt/libcontainer/state"
)

// prepareFds opens what the executor gets as fds (the plan pipe, the sync
// socket, namespaces to join, the console, the start socket) and notes
// their numbers in the input.
func (c *executorRun) prepareFds(in *planner.Input) error {
	for i := 0; i < c.listenFds+c.preserveFds; i++ {
		c.extra = append(c.extra, os.NewFile(uintptr(3+i), "preserved"))
	}
	planR, planW, err := os.Pipe()
	if err != nil {
		return err
	}
	c.planW = planW
	c.childFiles = append(c.childFiles, planR)
	pair, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	// ours non-blocking, so that waiting for the executor parks in Go's
	// poller: a thread blocked in recvmsg keeps sysmon polling every 20µs
	// and hands the P to other threads
	unix.SetNonblock(pair[0], true)
	c.sync = os.NewFile(uintptr(pair[0]), "sync")
	child := os.NewFile(uintptr(pair[1]), "sync-child")
	c.childFiles = append(c.childFiles, child)
	c.planFd, c.syncFd = c.add(planR), c.add(child)
	for i := range in.Ns.Joins {
		in.Ns.Joins[i].Fd = c.add(in.Ns.Joins[i].File)
	}
	in.ConsoleFd = -1
	if in.Process.Terminal {
		con, err := c.openConsole()
		if err != nil {
			return err
		}
		in.ConsoleFd = c.add(con)
		in.ConsoleRelayed = c.consoleConn != nil
	}
	if c.pidfdSocket != "" {
		f, err := dialFile("--pidfd-socket", c.pidfdSocket)
		if err != nil {
			return err
		}
		c.files = append(c.files, f)
		in.PidfdFd = c.add(f)
	}
	in.StartFd = -1
	in.FirstCloseFd = 3 + c.listenFds + c.preserveFds
	return nil
}

// add passes f to the executor and returns its fd number there.
func (c *executorRun) add(f *os.File) int {
	c.extra = append(c.extra, f)
	return 2 + len(c.extra)
}

func (c *executorRun) openConsole() (*os.File, error) {
	if c.consoleConn != nil {
		return c.consoleConn, nil
	}
	f, err := dialFile("--console-socket", c.consoleSocket)
	if err != nil {
		return nil, err
	}
	c.files = append(c.files, f)
	return f, nil
}

// dialFile connects to the unix socket a flag names, as a file to pass on.
func dialFile(flag, path string) (*os.File, error) {
	conn, err := net.Dial("unix", path)
	if err != nil {
		return nil, fmt.Errorf("%s %q: %w", flag, path, err)
	}
	f, err := conn.(*net.UnixConn).File()
	conn.Close()
	if err != nil {
		return nil, fmt.Errorf("%s %q: %w", flag, path, err)
	}
	return f, nil
}

// addStartSocket passes the executor the socket that start connects to,
// after the fds prepareFds passes.
func (c *initProcess) addStartSocket(in *planner.Input) error {
	start, err := listenStart(c.handle)
	if err != nil {
		return err
	}
	c.files = append(c.files, start)
	in.StartFd = c.add(start)
	return nil
}

// listenStart makes the socket `start` connects to. The path is bound
// through /proc/self/fd so that long state paths stay under the 108-byte
// limit of socket addresses.
func listenStart(h *state.Dir) (*os.File, error) {
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	addr := &unix.SockaddrUnix{Name: h.ShortPath("start.sock")}
	if err := unix.Bind(fd, addr); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("bind %s: %w", h.File("start.sock"), err)
	}
	if err := unix.Listen(fd, 1); err != nil {
		unix.Close(fd)
		return nil, err
	}
	return os.NewFile(uintptr(fd), "start.sock"), nil
}
