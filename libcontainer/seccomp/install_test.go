package seccomp

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"unsafe"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// These tests install compiled filters for real. A filter cannot be removed
// once loaded, so each one runs in a child: the test binary re-executed with
// childEnv set, which installs the program the parent compiled (passed
// as-is, like the executor receives it), runs probes and prints
// "probe=errno" lines for the parent to check.

const (
	childEnv  = "OCIRT_SECCOMP_TEST_CHILD"
	progEnv   = "OCIRT_SECCOMP_TEST_PROG"
	flagsEnv  = "OCIRT_SECCOMP_TEST_FLAGS"
	probesEnv = "OCIRT_SECCOMP_TEST_PROBES"
	dirEnv    = "OCIRT_SECCOMP_TEST_DIR"
)

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		os.Exit(child())
	}
	os.Exit(m.Run())
}

// child installs the filter the way the C executor will: no_new_privs,
// then seccomp(SECCOMP_SET_MODE_FILTER). TSYNC is added so every Go thread
// gets the filter, not only this one.
func child() int {
	runtime.LockOSThread()
	prog, err := base64.StdEncoding.DecodeString(os.Getenv(progEnv))
	if err != nil || len(prog) == 0 {
		fmt.Fprintln(os.Stderr, "child: bad program:", err)
		return 2
	}
	flags, _ := strconv.ParseUint(os.Getenv(flagsEnv), 10, 64)
	probes := strings.Split(os.Getenv(probesEnv), ",")
	dir := os.Getenv(dirEnv)
	results := make([]string, 0, len(probes))

	listener, err := install(prog, uint(flags))
	if err != nil {
		fmt.Fprintln(os.Stderr, "child: installing filter:", err)
		return 3
	}
	// From here on only syscalls the test profiles permit.
	for _, p := range probes {
		results = append(results, p+"="+strconv.Itoa(int(probe(p, dir, listener))))
	}
	os.Stdout.WriteString(strings.Join(results, "\n") + "\n")
	return 0
}

func install(prog []byte, flags uint) (int, error) {
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return -1, fmt.Errorf("PR_SET_NO_NEW_PRIVS: %w", err)
	}
	flags |= unix.SECCOMP_FILTER_FLAG_TSYNC
	if flags&unix.SECCOMP_FILTER_FLAG_NEW_LISTENER != 0 {
		flags |= unix.SECCOMP_FILTER_FLAG_TSYNC_ESRCH
	}
	fprog := unix.SockFprog{
		Len:    uint16(len(prog) / sockFilterSize),
		Filter: (*unix.SockFilter)(unsafe.Pointer(&prog[0])),
	}
	r, _, errno := unix.RawSyscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, uintptr(flags), uintptr(unsafe.Pointer(&fprog)))
	runtime.KeepAlive(prog)
	if errno != 0 {
		return -1, fmt.Errorf("seccomp(flags=%#x): %w", flags, errno)
	}
	return int(r), nil
}

// probe makes one syscall and returns its errno (0 on success). Raw
// syscalls keep the Go runtime from adding its own calls in between.
func probe(p, dir string, listener int) syscall.Errno {
	name, arg, _ := strings.Cut(p, ":")
	n, _ := strconv.ParseUint(arg, 0, 64)
	switch name {
	case "mkdirat":
		return errnoOf(unix.Mkdirat(unix.AT_FDCWD, filepath.Join(dir, "d"+arg), 0o755))
	case "getcwd":
		buf := make([]byte, 4096)
		_, err := unix.Getcwd(buf)
		return errnoOf(err)
	case "umask":
		_, _, e := unix.RawSyscall(unix.SYS_UMASK, uintptr(n), 0, 0)
		return e
	case "getpriority":
		which, who, _ := strings.Cut(arg, "/")
		w1, _ := strconv.Atoi(which)
		w2, _ := strconv.Atoi(who)
		_, _, e := unix.RawSyscall(unix.SYS_GETPRIORITY, uintptr(w1), uintptr(w2), 0)
		return e
	case "nr":
		_, _, e := unix.RawSyscall6(uintptr(n), 0, 0, 0, 0, 0, 0)
		return e
	case "listener":
		// A user-notification listener fd must have come back.
		_, err := unix.FcntlInt(uintptr(listener), unix.F_GETFD, 0)
		return errnoOf(err)
	}
	return syscall.Errno(0xbad)
}

func errnoOf(err error) syscall.Errno {
	var e syscall.Errno
	if err == nil || !errors.As(err, &e) {
		return 0
	}
	return e
}

// runFiltered compiles s, runs the probes in a filtered child and returns
// probe -> errno.
func runFiltered(t *testing.T, s *specs.LinuxSeccomp, probes ...string) map[string]int {
	t.Helper()
	out, err := startChild(t, s, probes).Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("child failed: %v\nstderr: %s", err, ee.Stderr)
		}
		t.Fatal(err)
	}
	got := map[string]int{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		k, v, _ := strings.Cut(sc.Text(), "=")
		got[k], _ = strconv.Atoi(v)
	}
	return got
}

func startChild(t *testing.T, s *specs.LinuxSeccomp, probes []string) *exec.Cmd {
	t.Helper()
	requireSeccomp(t)
	f := mustCompile(t, s)
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(),
		childEnv+"=1",
		progEnv+"="+base64.StdEncoding.EncodeToString(f.Program),
		flagsEnv+"="+strconv.FormatUint(uint64(f.Flags), 10),
		probesEnv+"="+strings.Join(probes, ","),
		dirEnv+"="+t.TempDir(),
	)
	return cmd
}

func requireSeccomp(t *testing.T) {
	t.Helper()
	status, err := os.ReadFile("/proc/self/status")
	if err != nil || !bytes.Contains(status, []byte("\nSeccomp:")) {
		t.Skip("kernel without seccomp")
	}
}

func expect(t *testing.T, got map[string]int, want map[string]syscall.Errno) {
	t.Helper()
	for p, e := range want {
		if v, ok := got[p]; !ok || v != int(e) {
			t.Errorf("%s: errno %d (%v), want %d (%v) [seen: %v]", p, v, syscall.Errno(v), int(e), e, ok)
		}
	}
}

func TestInstallErrno(t *testing.T) {
	s := &specs.LinuxSeccomp{
		DefaultAction: specs.ActAllow,
		Syscalls: []specs.LinuxSyscall{
			{Names: []string{"mkdir", "mkdirat"}, Action: specs.ActErrno, ErrnoRet: ptr(38)},
			rule(specs.ActErrno, "getcwd"), // no errnoRet: EPERM
		},
	}
	got := runFiltered(t, s, "mkdirat:1", "getcwd", "umask:0o22")
	expect(t, got, map[string]syscall.Errno{"mkdirat:1": unix.ENOSYS, "getcwd": unix.EPERM, "umask:0o22": 0})
}

func TestInstallArgs(t *testing.T) {
	s := &specs.LinuxSeccomp{
		DefaultAction: specs.ActAllow,
		Syscalls: []specs.LinuxSyscall{
			{Names: []string{"umask"}, Action: specs.ActErrno, ErrnoRet: ptr(60),
				Args: []specs.LinuxSeccompArg{{Index: 0, Op: specs.OpMaskedEqual, Value: 0o700, ValueTwo: 0o700}}},
			// Same index twice: either value matches.
			{Names: []string{"umask"}, Action: specs.ActErrno, ErrnoRet: ptr(61),
				Args: []specs.LinuxSeccompArg{{Index: 0, Op: specs.OpEqualTo, Value: 0o22}, {Index: 0, Op: specs.OpEqualTo, Value: 0o11}}},
			// Different indexes: both must match.
			{Names: []string{"getpriority"}, Action: specs.ActErrno, ErrnoRet: ptr(62),
				Args: []specs.LinuxSeccompArg{{Index: 0, Op: specs.OpEqualTo, Value: 0}, {Index: 1, Op: specs.OpGreaterEqual, Value: 4242}}},
		},
	}
	got := runFiltered(t, s, "umask:0o777", "umask:0o22", "umask:0o11", "umask:0o2",
		"getpriority:0/4242", "getpriority:0/0")
	expect(t, got, map[string]syscall.Errno{
		"umask:0o777": 60, "umask:0o22": 61, "umask:0o11": 61, "umask:0o2": 0,
		"getpriority:0/4242": 62, "getpriority:0/0": 0,
	})
}

// goRuntime is what a Go child may need once the filter is on, so a
// deny-by-default profile does not break the test harness itself.
var goRuntime = []string{
	"read", "write", "close", "futex", "nanosleep", "clock_nanosleep", "sched_yield",
	"exit", "exit_group", "rt_sigreturn", "rt_sigaction", "rt_sigprocmask", "sigaltstack",
	"tgkill", "tkill", "getpid", "gettid", "mmap", "munmap", "madvise", "mprotect",
	"clone", "clone3", "epoll_pwait", "epoll_wait", "epoll_ctl", "getrandom",
	"clock_gettime", "gettimeofday", "fcntl", "sched_getaffinity", "umask",
	// a thread the runtime starts after the filter, and its netpoller
	"set_robust_list", "rseq", "epoll_create1", "eventfd2", "pipe2", "prctl", "mincore",
	"futex_waitv", // a recent syscall, so the -ENOSYS threshold is high
}

// A deny-by-default profile: listed syscalls work, an older unlisted one
// gets defaultErrnoRet, and a syscall newer than the profile gets ENOSYS
// from the stub instead.
func TestInstallDenyByDefault(t *testing.T) {
	s := &specs.LinuxSeccomp{
		DefaultAction:   specs.ActErrno,
		DefaultErrnoRet: ptr(uint(unix.EACCES)),
		Syscalls:        []specs.LinuxSyscall{rule(specs.ActAllow, goRuntime...)},
	}
	got := runFiltered(t, s, "umask:0o22", "getcwd", "nr:1000")
	expect(t, got, map[string]syscall.Errno{"umask:0o22": 0, "getcwd": unix.EACCES, "nr:1000": unix.ENOSYS})
}

// SCMP_ACT_NOTIFY makes the kernel hand back a listener fd; the flags
// Compile chose (with TSYNC and WAIT_KILLABLE_RECV) are accepted.
func TestInstallNotify(t *testing.T) {
	s := &specs.LinuxSeccomp{
		DefaultAction: specs.ActAllow,
		Flags:         []specs.LinuxSeccompFlag{flagTsync, specs.LinuxSeccompFlagWaitKillableRecv},
		ListenerPath:  "/run/agent.sock",
		Syscalls:      []specs.LinuxSyscall{rule(specs.ActNotify, "mkdirat")},
	}
	got := runFiltered(t, s, "listener", "getcwd")
	expect(t, got, map[string]syscall.Errno{"listener": 0, "getcwd": 0})
}

func TestInstallKillProcess(t *testing.T) {
	s := &specs.LinuxSeccomp{
		DefaultAction: specs.ActAllow,
		Syscalls:      []specs.LinuxSyscall{rule(specs.ActKillProcess, "getcwd")},
	}
	err := startChild(t, s, []string{"getcwd"}).Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		t.Fatalf("child: %v, want killed by SIGSYS", err)
	}
	ws := ee.Sys().(syscall.WaitStatus)
	if !ws.Signaled() || ws.Signal() != unix.SIGSYS {
		t.Fatalf("child ended with %v, want killed by SIGSYS", ws)
	}
}
