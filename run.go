package main

import (
	"fmt"
	"io"
	"os"
	"syscall"

	"github.com/containerd/console"
	"github.com/sirupsen/logrus"
	"github.com/urfave/cli/v2"
	"golang.org/x/sys/unix"

	"github.com/oci-rt/oci-rt/libcontainer"
	nsenter "github.com/oci-rt/oci-rt/libcontainer/executor"
)

var runCommand = &cli.Command{
	Name:      "run",
	Usage:     "create and start a container, wait for it and delete it",
	ArgsUsage: "<container-id>",
	Flags: append(append([]cli.Flag(nil), createFlags...),
		&cli.BoolFlag{Name: "detach", Aliases: []string{"d"}, Usage: "return once the process runs"},
		&cli.BoolFlag{Name: "keep", Usage: "do not delete the container after it exits"},
	),
	Action: func(c *cli.Context) error {
		id, err := idArg(c)
		if err != nil {
			return err
		}
		return run(c, id)
	},
}

func run(c *cli.Context, id string) error {
	st := store(c)
	opts, err := createOpts(c, id)
	if err != nil {
		return err
	}
	detach := c.Bool("detach")
	sigs := forwardSignals(!detach)
	// the container's init is forked by the executor, which exits: as a
	// subreaper we get it back as our child and can wait for it
	if !detach {
		if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
			return fmt.Errorf("become a subreaper: %w", err)
		}
	}
	// read once here (run needs process.terminal) and handed to create
	if b, err := libcontainer.LoadBundle(opts.Bundle); err == nil {
		opts.Loaded = b
	}
	var pty *ptyRelay
	if !detach && opts.ConsoleSocket == "" && wantsTerminal(opts.Loaded) {
		var err error
		if pty, err = newPtyRelay(); err != nil {
			return err
		}
		opts.ConsoleConn = pty.theirs
		defer pty.close()
	}
	ctr, err := st.CreateHeld(opts)
	if err != nil {
		return err
	}
	if err := pty.receive(); err != nil {
		ctr.Delete()
		return err
	}
	if err := ctr.Start(); err != nil {
		ctr.Delete()
		return err
	}
	if detach {
		return nil
	}
	// the signals stay caught (and dropped) while we delete: restoring
	// their defaults would cost two thread hand-offs each, and a ^C now
	// should not stop the clean-up half-way
	code := waitForward(ctr.State().Pid, sigs, pty)
	ctr.Exited()
	if !c.Bool("keep") {
		if err := ctr.Delete(); err != nil {
			logrus.Warn(err)
		}
	}
	return exitCode(code)
}

// waitForward forwards signals to pid until it exits, reaping whatever
// else is reparented to us, and returns its exit code (128+signal when
// killed, as a shell would).
func waitForward(pid int, sigs chan os.Signal, pty *ptyRelay) int {
	exited := make(chan int, 1)
	go func() { exited <- waitExit(pid) }()
	for {
		select {
		case code := <-exited:
			pty.drain()
			return code
		case sig := <-sigs:
			// only forwardedSignals arrive here
			if s := sig.(unix.Signal); s == unix.SIGWINCH {
				pty.resize()
			} else {
				unix.Kill(pid, s)
			}
		}
	}
}

// waitExit waits for our child pid to exit and returns its exit code,
// then reaps whatever else was reparented to us meanwhile. The wait parks
// in Go's poller on a pidfd: a thread blocked in wait4 would keep Go's
// sysmon polling and handing the P between threads while the container runs.
func waitExit(pid int) int {
	var ws unix.WaitStatus
	var werr error
	reaped := false
	done := func() bool {
		p, err := unix.Wait4(pid, &ws, unix.WNOHANG, nil)
		if err == unix.EINTR {
			return false
		}
		werr, reaped = err, p == pid || err != nil
		return reaped
	}
	if fd, err := unix.PidfdOpen(pid, unix.PIDFD_NONBLOCK); err == nil {
		f := os.NewFile(uintptr(fd), "pidfd")
		if rc, err := f.SyscallConn(); err == nil {
			rc.Read(func(uintptr) bool { return done() })
		}
		f.Close()
	}
	for !reaped {
		// no pidfd: block in wait4
		p, err := unix.Wait4(pid, &ws, 0, nil)
		if err != unix.EINTR {
			werr, reaped = err, p == pid || err != nil
		}
	}
	for {
		if p, _ := unix.Wait4(-1, nil, unix.WNOHANG, nil); p <= 0 {
			break
		}
	}
	return exitStatus(ws, werr)
}

func exitStatus(ws unix.WaitStatus, err error) int {
	switch {
	case err != nil:
		return 255
	case ws.Signaled():
		return 128 + int(ws.Signal())
	default:
		return ws.ExitStatus()
	}
}

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
func wantsTerminal(b *libcontainer.Bundle) bool {
	return b != nil && b.Spec.Process != nil && b.Spec.Process.Terminal
}

// forwardedSignals are the signals run and exec pass on to the process:
// the usual ones and the real-time ones (SIGRTMIN+3 stops systemd, say).
// Not forwarded: those Go or glibc need (SIGURG preempts goroutines, the
// synchronous faults, SIGPIPE, SIGPROF, 32 and 33), SIGCHLD, and KILL and
// STOP, which no process can catch. Any signal reaches the container
// through `oci-rt kill`.
var forwardedSignals = func() []syscall.Signal {
	sigs := []syscall.Signal{unix.SIGHUP, unix.SIGINT, unix.SIGQUIT, unix.SIGTERM, unix.SIGUSR1,
		unix.SIGUSR2, unix.SIGWINCH, unix.SIGALRM, unix.SIGCONT, unix.SIGPWR, unix.SIGTSTP, unix.SIGTTIN,
		unix.SIGTTOU, unix.SIGVTALRM, unix.SIGXCPU, unix.SIGXFSZ, unix.SIGIO, unix.SIGSTKFLT}
	for s := 34; s <= 64; s++ {
		sigs = append(sigs, syscall.Signal(s))
	}
	return sigs
}()

// forwardSignals catches the forwarded signals from now on; those arriving
// while we create are kept for the process. They are caught by a C
// handler writing to a pipe (nsenter.ForwardSignals), read here.
func forwardSignals(on bool) chan os.Signal {
	sigs := make(chan os.Signal, 64)
	if !on {
		return sigs
	}
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC|unix.O_NONBLOCK); err != nil {
		logrus.Warnf("signals will not be forwarded: %v", err)
		return sigs
	}
	r := os.NewFile(uintptr(p[0]), "signals")
	if err := nsenter.ForwardSignals(p[1], forwardedSignals); err != nil {
		logrus.Warnf("signals will not be forwarded: %v", err)
		return sigs
	}
	go func() {
		buf := make([]byte, 64)
		for {
			n, err := r.Read(buf)
			if err != nil {
				return
			}
			for _, b := range buf[:n] {
				sigs <- syscall.Signal(b)
			}
		}
	}()
	return sigs
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
	f, err := libcontainer.RecvFd(p.ours)
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
