package main

import (
	"fmt"
	"io"
	"os"

	"github.com/containerd/console"
	"github.com/oci-rt/oci-rt/libcontainer/launch"
	"golang.org/x/sys/unix"
)

// ptyRelay is run's own console socket when process.terminal is true and
// no --console-socket was given: it receives the pty master and relays it
// to our stdio, as runc run does.
type ptyRelay struct {
	ours, theirs *os.File
	master       console.Console
	current      console.Console
	done         chan struct{}
}

// wantsTerminal reads process.terminal; a bad config is create's to report.
func wantsTerminal(b *launch.Bundle) bool {
	return b != nil && b.Spec.Process != nil && b.Spec.Process.Terminal
}

func newPtyRelay() (*ptyRelay, error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	return &ptyRelay{ours: os.NewFile(uintptr(fds[0]), "console"), theirs: os.NewFile(uintptr(fds[1]), "console-peer")}, nil
}

func (p *ptyRelay) receive() error {
	if p == nil {
		return nil
	}
	p.theirs.Close()
	f, err := launch.RecvFd(p.ours)
	if err != nil {
		return fmt.Errorf("receive the pty: %w", err)
	}
	if p.master, err = console.ConsoleFromFile(f); err != nil {
		return err
	}
	if cur, err := console.ConsoleFromFile(os.Stdin); err == nil {
		p.current = cur
		p.current.SetRaw()
		p.resize()
	}
	p.done = make(chan struct{})
	go io.Copy(p.master, os.Stdin)
	go func() { io.Copy(os.Stdout, p.master); close(p.done) }()
	return nil
}

func (p *ptyRelay) resize() {
	if p != nil && p.current != nil && p.master != nil {
		p.master.ResizeFrom(p.current)
	}
}

// drain waits for the output the process left in the pty.
func (p *ptyRelay) drain() {
	if p != nil && p.done != nil {
		<-p.done
	}
}

func (p *ptyRelay) close() {
	if p == nil {
		return
	}
	if p.current != nil {
		p.current.Reset()
	}
	p.ours.Close()
}
