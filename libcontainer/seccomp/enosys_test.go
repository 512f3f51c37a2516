package seccomp

import (
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	libseccomp "github.com/seccomp/libseccomp-golang"
	"golang.org/x/sys/unix"
)

// multiArch is a deny-by-default profile for x86_64, i386 and x32 whose
// highest syscall is openat.
func multiArch(ret *uint) *specs.LinuxSeccomp {
	return &specs.LinuxSeccomp{
		DefaultAction:   specs.ActErrno,
		DefaultErrnoRet: ret,
		Architectures:   []specs.Arch{specs.ArchX86_64, specs.ArchX86, specs.ArchX32},
		Syscalls:        []specs.LinuxSyscall{rule(specs.ActAllow, "read", "write", "openat")},
	}
}

func TestEnosysStub(t *testing.T) {
	f := mustCompile(t, multiArch(nil))
	eperm, enosys := retErrno(uint32(unix.EPERM)), retErrno(uint32(unix.ENOSYS))
	for _, tc := range []struct {
		arch  libseccomp.ScmpArch
		audit uint32
	}{
		{libseccomp.ArchAMD64, unix.AUDIT_ARCH_X86_64},
		{libseccomp.ArchX86, unix.AUDIT_ARCH_I386},
		{libseccomp.ArchX32, unix.AUDIT_ARCH_X86_64},
	} {
		max := sysno(t, "openat", tc.arch)
		for _, c := range []struct {
			nr   int32
			want uint32
		}{
			{sysno(t, "read", tc.arch), retAllow},
			{max, retAllow},
			{sysno(t, "getpid", tc.arch), eperm}, // known, below the max: real filter
			{max + 1, enosys},                    // newer than the profile
			{max + 1000, enosys},
		} {
			if got := run(t, f.Program, call{nr: c.nr, arch: tc.audit}); got != c.want {
				t.Errorf("%v nr %#x: %#x, want %#x", tc.arch, c.nr, got, c.want)
			}
		}
	}
	// An architecture the profile does not list still gets libseccomp's
	// bad-arch action, the stub must not let it through.
	if got := run(t, f.Program, call{nr: 1000, arch: unix.AUDIT_ARCH_PPC64LE}); got != retKill {
		t.Errorf("unlisted arch: %#x, want kill", got)
	}
}

// x32 listed without x86_64 (on a non-x86 host): x32 numbers still get the
// stub even though they share AUDIT_ARCH_X86_64.
func TestEnosysStubX32Only(t *testing.T) {
	s := &specs.LinuxSeccomp{DefaultAction: specs.ActErrno, Architectures: []specs.Arch{specs.ArchX32},
		Syscalls: []specs.LinuxSyscall{rule(specs.ActAllow, "read", "openat")}}
	f := mustCompile(t, s)
	x32max := sysno(t, "openat", libseccomp.ArchX32)
	if got := run(t, f.Program, call{nr: x32max + 1, arch: unix.AUDIT_ARCH_X86_64}); got != retErrno(uint32(unix.ENOSYS)) {
		t.Errorf("x32 beyond max: %#x", got)
	}
}

// s390(x) is big-endian, so a filter for it cannot be built on most test
// hosts; check the stub section alone, followed by an "allow" filter.
func TestEnosysStubS390(t *testing.T) {
	stub, err := buildStub([]*stubArch{{audit: unix.AUDIT_ARCH_S390X, max: 300, multiplex: true}})
	if err != nil {
		t.Fatal(err)
	}
	prog := encode(append(stub, unix.SockFilter{Code: unix.BPF_RET | unix.BPF_K, K: retAllow}))
	for _, c := range []struct {
		nr   int32
		want uint32
	}{{0, retErrno(uint32(unix.ENOSYS))}, {3, retAllow}, {300, retAllow}, {301, retErrno(uint32(unix.ENOSYS))}} {
		if got := run(t, prog, call{nr: c.nr, arch: unix.AUDIT_ARCH_S390X}); got != c.want {
			t.Errorf("s390x nr %d: %#x, want %#x", c.nr, got, c.want)
		}
	}
	if got := run(t, prog, call{nr: 0, arch: unix.AUDIT_ARCH_X86_64}); got != retAllow {
		t.Errorf("other arch: %#x, want allow", got)
	}
}

// No stub when the default already reaches the kernel or already is ENOSYS:
// the program is then exactly libseccomp's.
func TestEnosysStubSkipped(t *testing.T) {
	for _, s := range []*specs.LinuxSeccomp{
		multiArch(ptr(uint(unix.ENOSYS))),
		{DefaultAction: specs.ActAllow, Syscalls: []specs.LinuxSyscall{rule(specs.ActErrno, "openat")}},
		{DefaultAction: specs.ActLog, Syscalls: []specs.LinuxSyscall{rule(specs.ActErrno, "openat")}},
	} {
		stub, err := enosysStub(s)
		if err != nil || stub != nil {
			t.Errorf("%s: stub %v, err %v; want none", s.DefaultAction, stub, err)
		}
	}
	f := mustCompile(t, multiArch(ptr(uint(unix.ENOSYS))))
	if got := run(t, f.Program, call{nr: 5000, arch: unix.AUDIT_ARCH_X86_64}); got != retErrno(uint32(unix.ENOSYS)) {
		t.Errorf("default ENOSYS: %#x", got)
	}
}

func TestAsmRejectsBackwardAndLongJumps(t *testing.T) {
	a := newAsm()
	a.mark("back")
	a.ja("back")
	if _, err := a.assemble(); err == nil {
		t.Error("backward jump assembled")
	}
	a = newAsm()
	a.jmp(unix.BPF_JEQ, 0, "far", "")
	for range 300 {
		a.ret(0)
	}
	a.mark("far")
	a.ret(0)
	if _, err := a.assemble(); err == nil {
		t.Error("conditional jump over 255 instructions assembled")
	}
}
