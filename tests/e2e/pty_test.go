package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// e2ePty is a command running with a new pseudo-terminal as its controlling
// terminal and stdin/stdout/stderr, like a person's shell would start it.
type e2ePty struct {
	t      *testing.T
	master *os.File
	cmd    *exec.Cmd
	cancel context.CancelFunc

	mu   sync.Mutex
	out  bytes.Buffer
	done chan struct{} // closed when the master reads EOF/EIO
}

// e2eOpenPty opens /dev/ptmx and its slave (what openpty(3) does).
func e2eOpenPty() (master, slave *os.File, err error) {
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return nil, nil, err
	}
	if err := unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		m.Close()
		return nil, nil, fmt.Errorf("unlockpt: %w", err)
	}
	n, err := unix.IoctlGetInt(int(m.Fd()), unix.TIOCGPTN)
	if err != nil {
		m.Close()
		return nil, nil, fmt.Errorf("ptsname: %w", err)
	}
	s, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY|syscall.O_CLOEXEC, 0)
	if err != nil {
		m.Close()
		return nil, nil, err
	}
	return m, s, nil
}

// e2eStartPty starts name args on a new pty of rows x cols; the command is
// killed after timeout.
func e2eStartPty(t *testing.T, timeout time.Duration, rows, cols uint16, name string, args ...string) *e2ePty {
	t.Helper()
	return e2eStartPtySized(t, timeout, rows, cols, nil, name, args...)
}

// e2eStartPtyEnv is e2eStartPty on a 24x80 terminal with env added to the
// environment.
func e2eStartPtyEnv(t *testing.T, timeout time.Duration, env []string, name string, args ...string) *e2ePty {
	t.Helper()
	return e2eStartPtySized(t, timeout, 24, 80, env, name, args...)
}

func e2eStartPtySized(t *testing.T, timeout time.Duration, rows, cols uint16, env []string, name string, args ...string) *e2ePty {
	t.Helper()
	master, slave, err := e2eOpenPty()
	if err != nil {
		t.Fatalf("open pty: %v", err)
	}
	if err := unix.IoctlSetWinsize(int(slave.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: rows, Col: cols}); err != nil {
		t.Fatalf("set window size: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
	cmd.Env = append(os.Environ(), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := cmd.Start(); err != nil {
		cancel()
		master.Close()
		slave.Close()
		t.Fatalf("start %s: %v", name, err)
	}
	slave.Close()
	p := &e2ePty{t: t, master: master, cmd: cmd, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(p.done)
		buf := make([]byte, 4096)
		for {
			n, err := master.Read(buf)
			p.mu.Lock()
			p.out.Write(buf[:n])
			p.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	t.Cleanup(func() {
		cancel()
		master.Close()
	})
	return p
}

// Output returns what the pty printed so far.
func (p *e2ePty) Output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.String()
}

// WaitFor waits until the output contains s, or fails.
func (p *e2ePty) WaitFor(s string, timeout time.Duration) {
	p.t.Helper()
	if !e2eWait(timeout, func() bool { return strings.Contains(p.Output(), s) }) {
		p.t.Fatalf("pty: %q never printed; output so far: %q", s, p.Output())
	}
}

// Write types s on the terminal.
func (p *e2ePty) Write(s string) {
	p.t.Helper()
	if _, err := p.master.WriteString(s); err != nil {
		p.t.Fatalf("write to pty: %v", err)
	}
}

// Wait waits for the command to exit and returns its exit code and all its
// output.
func (p *e2ePty) Wait() (int, string) {
	p.t.Helper()
	err := p.cmd.Wait()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		p.t.Fatalf("wait: %v", err)
	}
	// Everything written before the last slave closed is readable now.
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
	}
	return code, p.Output()
}
