package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// The bench is a child subreaper: processes a runtime leaves behind (the
// container init after `create` exits, for instance) become its children.
// One goroutine reaps every child with wait4(-1); the runtime commands the
// bench starts itself register their pid under the same lock that reaping
// holds, so their exit status is never lost.
var reap struct {
	mu      sync.Mutex
	waiting map[int]chan syscall.WaitStatus
}

func startReaper() error {
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("PR_SET_CHILD_SUBREAPER: %w", err)
	}
	reap.waiting = map[int]chan syscall.WaitStatus{}
	sigc := make(chan os.Signal, 16)
	signal.Notify(sigc, syscall.SIGCHLD)
	go func() {
		for range sigc {
			reapAll()
		}
	}()
	// A safety net for a SIGCHLD lost to coalescing.
	go func() {
		for range time.Tick(500 * time.Millisecond) {
			reapAll()
		}
	}()
	return nil
}

func reapAll() {
	reap.mu.Lock()
	defer reap.mu.Unlock()
	for {
		var ws syscall.WaitStatus
		pid, err := syscall.Wait4(-1, &ws, syscall.WNOHANG, nil)
		if err == syscall.EINTR {
			continue
		}
		if pid <= 0 || err != nil {
			return
		}
		if ch, ok := reap.waiting[pid]; ok {
			ch <- ws
			delete(reap.waiting, pid)
		}
	}
}

// result is what one runtime command did.
type result struct {
	Dur    time.Duration
	Code   int
	Stdout string
	Stderr string
	Err    error // could not run, or killed by a signal, or timed out
}

func (r result) ok() bool { return r.Err == nil && r.Code == 0 }

// failure words a failed command for the notes.
func (r result) failure() string {
	if r.Err != nil {
		return r.Err.Error()
	}
	msg := strings.TrimSpace(r.Stderr)
	if len(msg) > 300 {
		msg = msg[:300] + "..."
	}
	return fmt.Sprintf("exit %d: %s", r.Code, msg)
}

var devNull *os.File

// cmdTimeout bounds every runtime command.
const cmdTimeout = 60 * time.Second

// runCmd runs argv with stdin on /dev/null. Without capture, stdout and
// stderr go to /dev/null too (the timed path: no pipes to drain); with
// capture they are collected. The duration is from just before the fork to
// the reaping of the process.
func runCmd(capture bool, argv ...string) result {
	if devNull == nil {
		f, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
		if err != nil {
			return result{Err: err}
		}
		devNull = f
	}
	files := []*os.File{devNull, devNull, devNull}
	var outR, errR, outW, errW *os.File
	if capture {
		var err error
		if outR, outW, err = os.Pipe(); err != nil {
			return result{Err: err}
		}
		if errR, errW, err = os.Pipe(); err != nil {
			outR.Close()
			outW.Close()
			return result{Err: err}
		}
		files = []*os.File{devNull, outW, errW}
	}
	ch := make(chan syscall.WaitStatus, 1)
	reap.mu.Lock()
	t0 := time.Now()
	p, err := os.StartProcess(argv[0], argv, &os.ProcAttr{Files: files})
	if err == nil {
		reap.waiting[p.Pid] = ch
	}
	reap.mu.Unlock()
	if capture {
		outW.Close()
		errW.Close()
	}
	if err != nil {
		if capture {
			outR.Close()
			errR.Close()
		}
		return result{Err: err}
	}
	pid := p.Pid
	p.Release()
	var outB, errB bytes.Buffer
	var wg sync.WaitGroup
	if capture {
		wg.Add(2)
		go func() { io.Copy(&outB, outR); outR.Close(); wg.Done() }()
		go func() { io.Copy(&errB, errR); errR.Close(); wg.Done() }()
	}
	var ws syscall.WaitStatus
	timedOut := false
	select {
	case ws = <-ch:
	case <-time.After(cmdTimeout):
		timedOut = true
		syscall.Kill(pid, syscall.SIGKILL)
		ws = <-ch
	}
	r := result{Dur: time.Since(t0)}
	if capture {
		// A container started by this command may hold the write ends
		// (create of a payload that has not run yet): read what is
		// there, without waiting for EOF.
		dl := time.Now().Add(100 * time.Millisecond)
		outR.SetReadDeadline(dl)
		errR.SetReadDeadline(dl)
	}
	wg.Wait()
	r.Stdout, r.Stderr = outB.String(), errB.String()
	switch {
	case timedOut:
		r.Err = fmt.Errorf("timed out after %s", cmdTimeout)
		r.Code = -1
	case ws.Signaled():
		r.Err = fmt.Errorf("killed by signal %v", ws.Signal())
		r.Code = -1
	default:
		r.Code = ws.ExitStatus()
	}
	return r
}

// pidfd is an open handle on a process that is not necessarily a child.
type pidfd int

func openPidfd(pid int) (pidfd, error) {
	fd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		return -1, fmt.Errorf("pidfd_open %d: %w", pid, err)
	}
	return pidfd(fd), nil
}

// wait blocks until the process has exited (a zombie counts) or timeout
// passes; it reports whether it exited.
func (p pidfd) wait(timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for {
		ms := int(time.Until(deadline) / time.Millisecond)
		if ms < 0 {
			return false
		}
		fds := []unix.PollFd{{Fd: int32(p), Events: unix.POLLIN}}
		n, err := unix.Poll(fds, ms)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return false
		}
		if n > 0 {
			return true
		}
	}
}

func (p pidfd) close() { unix.Close(int(p)) }

// procInfo is one line of /proc/<pid>/stat.
type procInfo struct {
	Pid, PPid int
	State     byte
	Comm      string
}

func readProc(pid int) (procInfo, bool) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return procInfo{}, false
	}
	s := string(data)
	lp, rp := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
	if lp < 0 || rp < lp {
		return procInfo{}, false
	}
	f := strings.Fields(s[rp+1:])
	if len(f) < 2 {
		return procInfo{}, false
	}
	ppid, _ := strconv.Atoi(f[1])
	return procInfo{Pid: pid, PPid: ppid, State: f[0][0], Comm: s[lp+1 : rp]}, true
}

// descendants returns the live (not zombie) processes below the bench
// process, by pid.
func descendants() map[int]procInfo {
	self := os.Getpid()
	ents, _ := os.ReadDir("/proc")
	all := map[int]procInfo{}
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if pi, ok := readProc(pid); ok {
			all[pid] = pi
		}
	}
	out := map[int]procInfo{}
	for pid, pi := range all {
		if pi.State == 'Z' || pi.State == 'X' {
			continue
		}
		seen := 0
		for p := pi.PPid; p > 1 && seen < 64; seen++ {
			if p == self {
				out[pid] = pi
				break
			}
			pp, ok := all[p]
			if !ok {
				break
			}
			p = pp.PPid
		}
	}
	return out
}

// memOf returns the Pss and Rss (bytes) of a process from smaps_rollup.
func memOf(pid int) (pss, rss int64, err error) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/smaps_rollup")
	if err != nil {
		return 0, 0, err
	}
	for _, l := range strings.Split(string(data), "\n") {
		f := strings.Fields(l)
		if len(f) < 2 {
			continue
		}
		v, _ := strconv.ParseInt(f[1], 10, 64)
		switch f[0] {
		case "Pss:":
			pss = v * 1024
		case "Rss:":
			rss = v * 1024
		}
	}
	return pss, rss, nil
}

// cgroupProcs returns the pids in the cgroup of pid (the pids controller on
// cgroup v1, the unified hierarchy on v2) and the cgroup path.
func cgroupProcs(pid int) ([]int, string, error) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cgroup")
	if err != nil {
		return nil, "", err
	}
	var dir, path string
	for _, l := range strings.Split(string(data), "\n") {
		f := strings.SplitN(l, ":", 3)
		if len(f) != 3 {
			continue
		}
		for _, c := range strings.Split(f[1], ",") {
			if c == "pids" {
				dir, path = "/sys/fs/cgroup/pids"+f[2], f[2]
			}
		}
		if f[0] == "0" && f[1] == "" && dir == "" {
			if _, err := os.Stat("/sys/fs/cgroup/cgroup.controllers"); err == nil {
				dir, path = "/sys/fs/cgroup"+f[2], f[2]
			}
		}
	}
	if dir == "" {
		return nil, "", fmt.Errorf("no pids cgroup for %d", pid)
	}
	procs, err := os.ReadFile(dir + "/cgroup.procs")
	if err != nil {
		return nil, path, err
	}
	var pids []int
	for _, s := range strings.Fields(string(procs)) {
		if p, err := strconv.Atoi(s); err == nil {
			pids = append(pids, p)
		}
	}
	return pids, path, nil
}

func readFileString(path string) string {
	data, _ := os.ReadFile(path)
	return string(data)
}

func readLink(path string) string {
	s, _ := os.Readlink(path)
	return s
}

// statusField returns the fields of a line of /proc/<pid>/status.
func statusField(pid int, key string) []string {
	for _, l := range strings.Split(readFileString("/proc/"+strconv.Itoa(pid)+"/status"), "\n") {
		if rest, ok := strings.CutPrefix(l, key); ok {
			return strings.Fields(rest)
		}
	}
	return nil
}

// childCPU is the CPU time (user+sys) of every descendant reaped so far,
// including those reaped by the bench as subreaper.
func childCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_CHILDREN, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
