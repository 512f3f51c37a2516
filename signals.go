package main

import (
	"os"
	"syscall"

	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"

	"github.com/oci-rt/oci-rt/libcontainer/executor"
)

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
// handler writing to a pipe (executor.ForwardSignals), read here.
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
	if err := executor.ForwardSignals(p[1], forwardedSignals); err != nil {
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
