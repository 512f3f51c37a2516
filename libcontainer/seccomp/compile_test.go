package seccomp

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	libseccomp "github.com/seccomp/libseccomp-golang"
	"golang.org/x/sys/unix"
)

func ptr(u uint) *uint { return &u }

func rule(action specs.LinuxSeccompAction, names ...string) specs.LinuxSyscall {
	return specs.LinuxSyscall{Names: names, Action: action}
}

func mustCompile(t *testing.T, s *specs.LinuxSeccomp) *Filter {
	t.Helper()
	f, err := Compile(s)
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	if len(f.Program) == 0 || len(f.Program)%sockFilterSize != 0 || f.Len() != len(f.Program)/8 {
		t.Fatalf("bad program size %d", len(f.Program))
	}
	return f
}

func TestCompileNil(t *testing.T) {
	f, err := Compile(nil)
	if f != nil || err != nil {
		t.Fatalf("Compile(nil) = %v, %v; want nil, nil", f, err)
	}
}

func TestCompileErrorsNameTheField(t *testing.T) {
	allow := specs.ActAllow
	cases := []struct {
		name string
		s    specs.LinuxSeccomp
		want string
	}{
		{"default action", specs.LinuxSeccomp{DefaultAction: "SCMP_ACT_FOO"},
			`linux.seccomp.defaultAction "SCMP_ACT_FOO": unknown action`},
		{"default notify", specs.LinuxSeccomp{DefaultAction: specs.ActNotify},
			`linux.seccomp.defaultAction "SCMP_ACT_NOTIFY": not allowed`},
		{"default errno with allow", specs.LinuxSeccomp{DefaultAction: allow, DefaultErrnoRet: ptr(1)},
			`linux.seccomp.defaultErrnoRet 1: only allowed with SCMP_ACT_ERRNO or SCMP_ACT_TRACE`},
		{"default errno range", specs.LinuxSeccomp{DefaultAction: specs.ActErrno, DefaultErrnoRet: ptr(70000)},
			`linux.seccomp.defaultErrnoRet 70000: out of range`},
		{"arch", specs.LinuxSeccomp{DefaultAction: allow, Architectures: []specs.Arch{specs.ArchX86_64, "SCMP_ARCH_FOO"}},
			`linux.seccomp.architectures[1] "SCMP_ARCH_FOO": unknown architecture`},
		{"flag", specs.LinuxSeccomp{DefaultAction: allow, Flags: []specs.LinuxSeccompFlag{specs.LinuxSeccompFlagLog, "SECCOMP_FILTER_FLAG_FOO"}},
			`linux.seccomp.flags[1] "SECCOMP_FILTER_FLAG_FOO": unknown flag`},
		{"syscall action", specs.LinuxSeccomp{DefaultAction: allow, Syscalls: []specs.LinuxSyscall{
			rule(specs.ActErrno, "read"), rule(specs.ActErrno, "write"), rule(specs.ActLog, "open"), rule("SCMP_ACT_FOO", "close"),
		}}, `linux.seccomp.syscalls[3].action "SCMP_ACT_FOO": unknown action`},
		{"syscall errnoRet with kill", specs.LinuxSeccomp{DefaultAction: allow, Syscalls: []specs.LinuxSyscall{
			{Names: []string{"read"}, Action: specs.ActKill, ErrnoRet: ptr(5)},
		}}, `linux.seccomp.syscalls[0].errnoRet 5: only allowed with SCMP_ACT_ERRNO or SCMP_ACT_TRACE, not SCMP_ACT_KILL`},
		{"op", specs.LinuxSeccomp{DefaultAction: allow, Syscalls: []specs.LinuxSyscall{
			{Names: []string{"read"}, Action: specs.ActErrno, Args: []specs.LinuxSeccompArg{
				{Index: 0, Op: specs.OpEqualTo}, {Index: 1, Op: "SCMP_CMP_FOO"},
			}},
		}}, `linux.seccomp.syscalls[0].args[1].op "SCMP_CMP_FOO": unknown operator`},
		{"arg index", specs.LinuxSeccomp{DefaultAction: allow, Syscalls: []specs.LinuxSyscall{
			{Names: []string{"read"}, Action: specs.ActErrno, Args: []specs.LinuxSeccompArg{{Index: 6, Op: specs.OpEqualTo}}},
		}}, `linux.seccomp.syscalls[0].args[0].index 6: syscalls have at most 6 arguments`},
		{"no names", specs.LinuxSeccomp{DefaultAction: allow, Syscalls: []specs.LinuxSyscall{rule(specs.ActErrno)}},
			`linux.seccomp.syscalls[0].names: must list at least one syscall`},
		{"empty name", specs.LinuxSeccomp{DefaultAction: allow, Syscalls: []specs.LinuxSyscall{rule(specs.ActErrno, "read", "")}},
			`linux.seccomp.syscalls[0].names[1]: empty syscall name`},
		{"notify without listener", specs.LinuxSeccomp{DefaultAction: allow, Syscalls: []specs.LinuxSyscall{rule(specs.ActNotify, "mkdir")}},
			`linux.seccomp.listenerPath: must be set when SCMP_ACT_NOTIFY is used`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f, err := Compile(&tc.s)
			if err == nil {
				t.Fatalf("Compile succeeded (%d bytes), want error %q", len(f.Program), tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q\ndoes not contain %q", err, tc.want)
			}
		})
	}
}

// An architecture the runtime-spec knows but that cannot go into a filter on
// this host (libseccomp 2.5 lacks LoongArch, m68k, SuperH; no libseccomp
// mixes endiannesses) must fail clearly, not be silently ignored.
func TestCompileUnsupportedArch(t *testing.T) {
	known := KnownArchs()
	for name := range archs {
		if slices.Contains(known, string(name)) {
			continue
		}
		s := &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Architectures: []specs.Arch{name}}
		_, err := Compile(s)
		if err == nil || !strings.Contains(err.Error(), `linux.seccomp.architectures[0] "`+string(name)+`": cannot be used on this host`) {
			t.Errorf("%s: got %v", name, err)
		}
	}
}

func TestKnownLists(t *testing.T) {
	if got := KnownActions(); len(got) != 9 || !slices.IsSorted(got) || !slices.Contains(got, "SCMP_ACT_KILL_PROCESS") {
		t.Errorf("KnownActions() = %v", got)
	}
	if got := KnownOperators(); len(got) != 7 || !slices.Contains(got, "SCMP_CMP_MASKED_EQ") {
		t.Errorf("KnownOperators() = %v", got)
	}
	wantFlags := []string{"SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW", "SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"}
	if got := KnownFlags(); !slices.Equal(got, wantFlags) {
		t.Errorf("KnownFlags() = %v, want %v", got, wantFlags)
	}
	got := KnownArchs()
	native, _ := nativeArch(t)
	for name, info := range archs {
		// A filter can always be built for the host itself.
		if info.scmp == native && !slices.Contains(got, string(name)) {
			t.Errorf("KnownArchs() = %v, missing native %s", got, name)
		}
	}
	if native == libseccomp.ArchAMD64 && !(slices.Contains(got, "SCMP_ARCH_X86") && slices.Contains(got, "SCMP_ARCH_X32")) {
		t.Errorf("KnownArchs() = %v, want the x86 and x32 compat ABIs on x86_64", got)
	}
}

func TestCompileFlags(t *testing.T) {
	notify := []specs.LinuxSyscall{rule(specs.ActNotify, "mkdir", "mkdirat")}
	cases := []struct {
		name     string
		flags    []specs.LinuxSeccompFlag
		syscalls []specs.LinuxSyscall
		want     uint
	}{
		{"none", nil, nil, 0},
		{"log+spec", []specs.LinuxSeccompFlag{specs.LinuxSeccompFlagLog, specs.LinuxSeccompFlagSpecAllow}, nil,
			unix.SECCOMP_FILTER_FLAG_LOG | unix.SECCOMP_FILTER_FLAG_SPEC_ALLOW},
		{"tsync", []specs.LinuxSeccompFlag{flagTsync}, nil, unix.SECCOMP_FILTER_FLAG_TSYNC},
		// Meaningless (and EINVAL for the kernel) without a listener.
		{"wait killable alone", []specs.LinuxSeccompFlag{specs.LinuxSeccompFlagWaitKillableRecv}, nil, 0},
		{"notify", nil, notify, unix.SECCOMP_FILTER_FLAG_NEW_LISTENER},
		{"notify wait killable", []specs.LinuxSeccompFlag{specs.LinuxSeccompFlagWaitKillableRecv}, notify,
			unix.SECCOMP_FILTER_FLAG_NEW_LISTENER | unix.SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV},
		{"notify tsync", []specs.LinuxSeccompFlag{flagTsync}, notify,
			unix.SECCOMP_FILTER_FLAG_NEW_LISTENER | unix.SECCOMP_FILTER_FLAG_TSYNC | unix.SECCOMP_FILTER_FLAG_TSYNC_ESRCH},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := mustCompile(t, &specs.LinuxSeccomp{
				DefaultAction: specs.ActAllow, Flags: tc.flags, Syscalls: tc.syscalls,
				ListenerPath: "/run/agent.sock", ListenerMetadata: "meta",
			})
			if f.Flags != tc.want {
				t.Errorf("Flags = %#x, want %#x", f.Flags, tc.want)
			}
			if f.Notify != (tc.syscalls != nil) {
				t.Errorf("Notify = %v", f.Notify)
			}
			if f.ListenerPath != "/run/agent.sock" || f.ListenerMetadata != "meta" {
				t.Errorf("listener = %q %q", f.ListenerPath, f.ListenerMetadata)
			}
		})
	}
}

// Unknown syscall names are skipped like runc does; rules repeating the
// default action are dropped instead of upsetting libseccomp.
func TestCompileTolerated(t *testing.T) {
	mustCompile(t, &specs.LinuxSeccomp{
		DefaultAction:   specs.ActErrno,
		DefaultErrnoRet: ptr(1),
		Syscalls: []specs.LinuxSyscall{
			rule(specs.ActAllow, "read", "no_such_syscall_at_all"),
			rule(specs.ActErrno, "write"), // ERRNO(EPERM) == default
			{Names: []string{"close"}, Action: specs.ActTrace, ErrnoRet: ptr(3)},
		},
	})
}

// Every action compiles and produces its SECCOMP_RET_* value.
func TestCompileActions(t *testing.T) {
	arch, audit := nativeArch(t)
	want := map[specs.LinuxSeccompAction]uint32{
		specs.ActKill:        unix.SECCOMP_RET_KILL_THREAD,
		specs.ActKillThread:  unix.SECCOMP_RET_KILL_THREAD,
		specs.ActKillProcess: unix.SECCOMP_RET_KILL_PROCESS,
		specs.ActTrap:        unix.SECCOMP_RET_TRAP,
		specs.ActErrno:       unix.SECCOMP_RET_ERRNO | 38,
		specs.ActTrace:       unix.SECCOMP_RET_TRACE | 38,
		specs.ActLog:         unix.SECCOMP_RET_LOG,
		specs.ActNotify:      unix.SECCOMP_RET_USER_NOTIF,
	}
	for act, ret := range want {
		sc := specs.LinuxSyscall{Names: []string{"getcwd"}, Action: act}
		if act == specs.ActErrno || act == specs.ActTrace {
			sc.ErrnoRet = ptr(38)
		}
		f := mustCompile(t, &specs.LinuxSeccomp{
			DefaultAction: specs.ActAllow, Syscalls: []specs.LinuxSyscall{sc}, ListenerPath: "/x",
		})
		if got := run(t, f.Program, call{nr: sysno(t, "getcwd", arch), arch: audit}); got != ret {
			t.Errorf("%s: returned %#x, want %#x", act, got, ret)
		}
		if got := run(t, f.Program, call{nr: sysno(t, "getpid", arch), arch: audit}); got != retAllow {
			t.Errorf("%s: getpid returned %#x, want allow", act, got)
		}
	}
}

func TestCompileDefaultErrno(t *testing.T) {
	arch, audit := nativeArch(t)
	getpid := call{nr: sysno(t, "getpid", arch), arch: audit}
	for _, tc := range []struct {
		ret  *uint
		want uint32
	}{{nil, retErrno(uint32(unix.EPERM))}, {ptr(13), retErrno(13)}} {
		f := mustCompile(t, &specs.LinuxSeccomp{DefaultAction: specs.ActErrno, DefaultErrnoRet: tc.ret,
			Syscalls: []specs.LinuxSyscall{rule(specs.ActAllow, "read")}})
		if got := run(t, f.Program, getpid); got != tc.want {
			t.Errorf("defaultErrnoRet %v: %#x, want %#x", tc.ret, got, tc.want)
		}
	}
}

// Each comparison operator, including 64-bit values whose high word matters.
func TestCompileOperators(t *testing.T) {
	arch, audit := nativeArch(t)
	const hi = 1 << 32
	cases := []struct {
		op          specs.LinuxSeccompOperator
		value, two  uint64
		match, miss []uint64
	}{
		{specs.OpEqualTo, 10, 0, []uint64{10}, []uint64{11, hi + 10}},
		{specs.OpNotEqual, 10, 0, []uint64{9, hi + 10}, []uint64{10}},
		{specs.OpLessThan, 10, 0, []uint64{9, 0}, []uint64{10, hi}},
		{specs.OpLessEqual, 10, 0, []uint64{10, 9}, []uint64{11, hi + 1}},
		{specs.OpGreaterThan, 10, 0, []uint64{11, hi}, []uint64{10, 0}},
		{specs.OpGreaterEqual, 10, 0, []uint64{10, hi + 1}, []uint64{9}},
		// value is the mask, valueTwo the expected masked result.
		{specs.OpMaskedEqual, 0xf0, 0x20, []uint64{0x2f, 0x20}, []uint64{0x3f, 0x0f}},
	}
	for _, tc := range cases {
		f := mustCompile(t, &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Syscalls: []specs.LinuxSyscall{{
			Names: []string{"getpriority"}, Action: specs.ActErrno, ErrnoRet: ptr(99),
			Args: []specs.LinuxSeccompArg{{Index: 1, Op: tc.op, Value: tc.value, ValueTwo: tc.two}},
		}}})
		check := func(arg uint64, want uint32) {
			c := call{nr: sysno(t, "getpriority", arch), arch: audit, args: [6]uint64{0, arg}}
			if got := run(t, f.Program, c); got != want {
				t.Errorf("%s %#x/%#x with arg %#x: %#x, want %#x", tc.op, tc.value, tc.two, arg, got, want)
			}
		}
		for _, a := range tc.match {
			check(a, retErrno(99))
		}
		for _, a := range tc.miss {
			check(a, retAllow)
		}
	}
}

// Conditions on different arguments are ANDed; once an index repeats, all
// of the rule's conditions are ORed (runc's behaviour).
func TestCompileMultipleArgs(t *testing.T) {
	arch, audit := nativeArch(t)
	nr := sysno(t, "getpriority", arch)
	and := mustCompile(t, &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Syscalls: []specs.LinuxSyscall{{
		Names: []string{"getpriority"}, Action: specs.ActErrno, ErrnoRet: ptr(50),
		Args: []specs.LinuxSeccompArg{{Index: 0, Op: specs.OpEqualTo, Value: 1}, {Index: 1, Op: specs.OpGreaterThan, Value: 100}},
	}}})
	or := mustCompile(t, &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Syscalls: []specs.LinuxSyscall{{
		Names: []string{"getpriority"}, Action: specs.ActErrno, ErrnoRet: ptr(51),
		Args: []specs.LinuxSeccompArg{{Index: 0, Op: specs.OpEqualTo, Value: 1}, {Index: 0, Op: specs.OpEqualTo, Value: 2}},
	}}})
	for _, tc := range []struct {
		f    *Filter
		args [6]uint64
		want uint32
	}{
		{and, [6]uint64{1, 200}, retErrno(50)},
		{and, [6]uint64{1, 50}, retAllow},
		{and, [6]uint64{2, 200}, retAllow},
		{or, [6]uint64{1}, retErrno(51)},
		{or, [6]uint64{2}, retErrno(51)},
		{or, [6]uint64{3}, retAllow},
	} {
		if got := run(t, tc.f.Program, call{nr: nr, arch: audit, args: tc.args}); got != tc.want {
			t.Errorf("args %v: %#x, want %#x", tc.args[:2], got, tc.want)
		}
	}
}

func TestCompileDeterministic(t *testing.T) {
	s := &specs.LinuxSeccomp{
		DefaultAction: specs.ActErrno,
		Architectures: []specs.Arch{specs.ArchX86_64, specs.ArchX86, specs.ArchX32, specs.ArchAARCH64, specs.ArchARM, specs.ArchRISCV64},
		Syscalls:      []specs.LinuxSyscall{rule(specs.ActAllow, "read", "write", "openat", "clone3")},
	}
	a, b := mustCompile(t, s), mustCompile(t, s)
	if !bytes.Equal(a.Program, b.Program) {
		t.Fatal("two compilations of the same profile differ")
	}
}

// A large profile (tree optimisation on) still behaves.
func TestCompileLargeProfile(t *testing.T) {
	arch, audit := nativeArch(t)
	names := []string{"read", "write", "close", "openat", "getpid", "gettid", "futex", "mmap", "munmap", "brk",
		"rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "ioctl", "pread64", "pwrite64", "readv", "writev",
		"sched_yield", "mremap", "msync", "mincore", "madvise", "dup", "dup3", "nanosleep", "getitimer",
		"setitimer", "sendfile", "socket", "connect", "accept4", "sendto", "recvfrom", "exit_group"}
	f := mustCompile(t, &specs.LinuxSeccomp{DefaultAction: specs.ActErrno,
		Syscalls: []specs.LinuxSyscall{rule(specs.ActAllow, names...)}})
	for _, n := range names {
		nr, err := libseccomp.GetSyscallFromNameByArch(n, arch)
		if err != nil || nr < 0 {
			continue // not a real syscall on this architecture
		}
		if got := run(t, f.Program, call{nr: int32(nr), arch: audit}); got != retAllow {
			t.Errorf("%s: %#x, want allow", n, got)
		}
	}
	if got := run(t, f.Program, call{nr: sysno(t, "getcwd", arch), arch: audit}); got != retErrno(uint32(unix.EPERM)) {
		t.Errorf("getcwd: %#x, want EPERM", got)
	}
}
