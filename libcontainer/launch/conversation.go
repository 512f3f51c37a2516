package launch

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"slices"
	"syscall"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/oci-rt/oci-rt/libcontainer/plan"
	"github.com/oci-rt/oci-rt/libcontainer/planner"
)

// answerUntilReady answers the executor for p until it says the process
// is ready.
// With a fork in the plan, the container's process may speak before the
// executor's first half has reported its pid: what needs the pid waits.
func (c *executorRun) answerUntilReady(p process) error {
	rc, err := c.sync.SyscallConn()
	if err != nil {
		return err
	}
	needPid := c.plan.Has(plan.OpFork)
	var waiting []execMsg
	// messages are small (the longest is an error naming a path): one
	// buffer, not 64 KiB of fresh (page-faulting) heap per message
	buf, oob := make([]byte, 16<<10), make([]byte, unix.CmsgSpace(4))
	for {
		var m execMsg
		if len(waiting) > 0 && !needPid {
			m, waiting = waiting[0], waiting[1:]
		} else if m, err = recvMsg(rc, buf, oob); err != nil || len(m.data) == 0 {
			// an executor that failed before it read our answer to its
			// SyncCgroup (sent early) leaves ECONNRESET, reported before
			// the messages still queued (its error): read on once
			if !errors.Is(err, unix.ECONNRESET) {
				return p.hungUp()
			}
			if m, err = recvMsg(rc, buf, oob); err != nil || len(m.data) == 0 {
				return p.hungUp()
			}
		}
		if len(m.data) < plan.MsgHeaderLen {
			return errors.New("executor: short message")
		}
		typ := binary.NativeEndian.Uint32(m.data)
		a := int(int32(binary.NativeEndian.Uint32(m.data[4:])))
		b := int(int32(binary.NativeEndian.Uint32(m.data[8:])))
		payload := string(m.data[plan.MsgHeaderLen:])
		switch typ {
		case plan.MsgPid:
			c.pid, needPid = a, false
			c.reapExecutor() // the executor's first half exits after the fork
			if err := p.pidKnown(); err != nil {
				return err
			}
		case plan.MsgError:
			return c.stepError(a, payload, unix.Errno(b))
		default:
			// the uid/gid maps are asked for before any fork, with the pid
			// to write them for: all else waits for the container's pid
			if needPid && !(typ == plan.MsgSync && (a == plan.SyncMaps || a == plan.SyncTimens)) {
				waiting = append(waiting, m)
				continue
			}
			switch typ {
			case plan.MsgSync:
				if err := p.answer(a, b, payload); err != nil {
					c.reply(1, nil)
					return err
				}
			case plan.MsgReady:
				return nil
			case plan.MsgSeccomp:
				if err := c.passListener(m.oob); err != nil {
					return err
				}
			}
		}
	}
}

// execMsg is one message from the executor, with its control data.
type execMsg struct{ data, oob []byte }

// recvMsg reads one message from the executor, parked in Go's poller, and
// returns a copy of it.
func recvMsg(rc syscall.RawConn, buf, oob []byte) (execMsg, error) {
	var n, oobn int
	var err error
	rerr := rc.Read(func(fd uintptr) bool {
		n, oobn, _, _, err = unix.Recvmsg(int(fd), buf, oob, unix.MSG_CMSG_CLOEXEC)
		return err != unix.EAGAIN
	})
	if err == nil {
		err = rerr
	}
	if err != nil {
		return execMsg{}, err
	}
	return execMsg{data: slices.Clone(buf[:n]), oob: slices.Clone(oob[:oobn])}, nil
}

func (c *executorRun) reply(status int32, payload []byte) error {
	msg := make([]byte, plan.MsgHeaderLen, plan.MsgHeaderLen+len(payload))
	binary.NativeEndian.PutUint32(msg, plan.MsgSync)
	binary.NativeEndian.PutUint32(msg[4:], uint32(status))
	_, err := c.sync.Write(append(msg, payload...))
	return err
}

// reapExecutor waits for the executor's first half, once.
func (c *executorRun) reapExecutor() (ws unix.WaitStatus, err error) {
	if c.executor <= 0 {
		return ws, unix.ECHILD
	}
	for {
		_, err = unix.Wait4(c.executor, &ws, 0, nil)
		if err != unix.EINTR {
			break
		}
	}
	c.executor = 0
	return ws, err
}

func (c *executorRun) executorDied() error {
	if ws, err := c.reapExecutor(); err == nil && ws.Signaled() {
		return fmt.Errorf("container init exited before it was created: %s", ws.Signal())
	} else if err == nil && ws.ExitStatus() != 0 {
		return fmt.Errorf("container init exited before it was created: exit status %d", ws.ExitStatus())
	}
	return errors.New("container init exited before it was created")
}

// answer answers the requests of the executor that any launch gets.
func (c *executorRun) answer(kind, pid int, _ string) error {
	switch kind {
	case plan.SyncMaps:
		if err := writeMaps(pid, c.spec.Linux); err != nil {
			return err
		}
		return c.reply(0, nil)
	case plan.SyncCgroup:
		return nil // answered once the cgroup was made (initProcess.start)
	case plan.SyncTimens:
		// with the host's privileges over the new user namespace that
		// owns the time namespace, before its first process is forked
		offs := planner.TimeOffsets(c.spec.Linux.TimeOffsets)
		if err := writeProc(pid, procFile{"linux.timeOffsets", "timens_offsets", []byte(offs)}); err != nil {
			return err
		}
		return c.reply(0, nil)
	}
	return fmt.Errorf("executor: unknown request %d", kind)
}

func writeMaps(pid int, l *specs.Linux) error {
	var files []procFile
	if os.Geteuid() != 0 {
		// the kernel takes an unprivileged gid_map only once setgroups is denied
		files = append(files, procFile{"linux.gidMappings: setgroups", "setgroups", []byte("deny")})
	}
	files = append(files, procFile{"linux.uidMappings", "uid_map", []byte(planner.MapsText(l.UIDMappings))},
		procFile{"linux.gidMappings", "gid_map", []byte(planner.MapsText(l.GIDMappings))})
	return writeProc(pid, files...)
}
