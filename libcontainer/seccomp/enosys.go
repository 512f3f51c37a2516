package seccomp

import (
	"cmp"
	"fmt"
	"slices"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	libseccomp "github.com/seccomp/libseccomp-golang"
	"golang.org/x/sys/unix"
)

// The -ENOSYS stub (the idea of runc's patchbpf, written anew here).
//
// With a deny-by-default profile, a syscall newer than the profile gets the
// default action, typically EPERM. Programs probing for new syscalls (glibc
// trying clone3, faccessat2, ...) only fall back on ENOSYS, so EPERM breaks
// them. The stub runs before libseccomp's filter: for each architecture,
// any syscall number above the highest one the profile mentions returns
// ENOSYS, as an older kernel would. Numbers at or below it reach the real
// filter unchanged. Holes in the syscall table below that maximum still get
// the default action; this is the same trade-off runc makes.

// Offsets in struct seccomp_data.
const (
	dataNr   = 0
	dataArch = 4
)

// x32Bit marks x32 syscall numbers, which share AUDIT_ARCH_X86_64.
const x32Bit = 0x40000000

const retENOSYS = unix.SECCOMP_RET_ERRNO | uint32(unix.ENOSYS)

// stubArch is one kernel architecture (AUDIT_ARCH_*) covered by the stub.
type stubArch struct {
	audit     uint32
	max       uint32 // highest syscall number named, 0 = none
	x32Max    uint32 // same for x32 (bit 30 included), on x86_64 only
	multiplex bool   // s390(x): unknown syscalls past 255 arrive as nr 0
}

// enosysStub returns the instructions to put in front of libseccomp's
// program, or nil when the default action already lets unknown syscalls
// reach the kernel (which answers ENOSYS itself) or already is ENOSYS.
func enosysStub(s *specs.LinuxSeccomp) ([]unix.SockFilter, error) {
	switch s.DefaultAction {
	case specs.ActAllow, specs.ActLog, specs.ActTrace:
		// TRACE counts as allowing: a tracer should handle new
		// syscalls itself, like runc assumes.
		return nil, nil
	case specs.ActErrno:
		if s.DefaultErrnoRet != nil && *s.DefaultErrnoRet == uint(unix.ENOSYS) {
			return nil, nil
		}
	}
	arches, err := collectArchs(s)
	if err != nil || len(arches) == 0 {
		return nil, err
	}
	return buildStub(arches)
}

// collectArchs finds the highest syscall number per kernel architecture,
// for the native one (libseccomp always includes it) and the listed ones.
func collectArchs(s *specs.LinuxSeccomp) ([]*stubArch, error) {
	native, err := libseccomp.GetNativeArch()
	if err != nil {
		return nil, fmt.Errorf("native architecture: %w", err)
	}
	infos := []archInfo{}
	for _, info := range archs { // one entry a libseccomp architecture
		if info.scmp == native {
			infos = append(infos, info)
		}
	}
	for _, a := range s.Architectures {
		info, _ := archs[a] // validated by configure
		infos = append(infos, info)
	}
	byAudit := map[uint32]*stubArch{}
	for _, info := range infos {
		highest := highestSyscall(info.scmp, s.Syscalls)
		if highest == 0 {
			continue
		}
		sa := byAudit[info.audit]
		if sa == nil {
			sa = &stubArch{audit: info.audit}
			byAudit[info.audit] = sa
		}
		if info.x32 {
			sa.x32Max = highest
		} else {
			sa.max = highest
		}
		sa.multiplex = info.scmp == libseccomp.ArchS390 || info.scmp == libseccomp.ArchS390X
	}
	out := make([]*stubArch, 0, len(byAudit))
	for _, sa := range byAudit {
		out = append(out, sa)
	}
	// Map order is random; keep the program reproducible.
	slices.SortFunc(out, func(a, b *stubArch) int { return cmp.Compare(a.audit, b.audit) })
	return out, nil
}

// highestSyscall is the largest number, on arch, among the named syscalls
// libseccomp knows there. Negative numbers are libseccomp pseudo-syscalls
// (e.g. socketcall on x86_64), not real ones.
func highestSyscall(arch libseccomp.ScmpArch, rules []specs.LinuxSyscall) uint32 {
	var highest uint32
	for _, r := range rules {
		for _, name := range r.Names {
			nr, err := libseccomp.GetSyscallFromNameByArch(name, arch)
			if err == nil && nr > 0 && uint32(nr) > highest {
				highest = uint32(nr)
			}
		}
	}
	return highest
}

// buildStub lays the stub out as: load arch; dispatch to one section per
// architecture; unknown architectures go straight to libseccomp's filter
// (which applies its bad-arch action). Dispatch uses jeq + ja so that the
// 8-bit conditional offsets never have to span the sections.
func buildStub(arches []*stubArch) ([]unix.SockFilter, error) {
	a := newAsm()
	a.ldAbs(dataArch)
	for i, sa := range arches {
		next := fmt.Sprintf("next%d", i)
		a.jmp(unix.BPF_JEQ, sa.audit, "", next)
		a.ja(fmt.Sprintf("arch%d", i))
		a.mark(next)
	}
	a.ja("filter")
	for i, sa := range arches {
		a.section(i, sa)
	}
	a.mark("filter")
	return a.assemble()
}

// section emits the checks of one architecture; every conditional jump in
// it stays within a handful of instructions.
func (a *asm) section(i int, sa *stubArch) {
	enosys, pass := fmt.Sprintf("enosys%d", i), fmt.Sprintf("pass%d", i)
	a.mark(fmt.Sprintf("arch%d", i))
	a.ldAbs(dataNr)
	if sa.multiplex {
		// On s390 a syscall number the kernel does not know is left
		// as 0 (the long-gone setup(2)), so 0 means "unknown".
		a.jmp(unix.BPF_JEQ, 0, enosys, "")
	}
	if sa.audit == unix.AUDIT_ARCH_X86_64 {
		// x86_64 and x32 share the audit arch; bit 30 tells them apart.
		x32 := fmt.Sprintf("x32_%d", i)
		a.jmp(unix.BPF_JSET, x32Bit, x32, "")
		a.checkMax(sa.max, enosys, pass)
		a.mark(x32)
		a.checkMax(sa.x32Max, enosys, pass)
	} else {
		a.checkMax(sa.max, enosys, pass)
	}
	a.mark(enosys)
	a.ret(retENOSYS)
	a.mark(pass)
	a.ja("filter")
}

// checkMax sends numbers above highest to enosys and the rest to pass; with
// no known maximum (an ABI the profile does not list) everything passes.
func (a *asm) checkMax(highest uint32, enosys, pass string) {
	if highest == 0 {
		a.ja(pass)
		return
	}
	a.jmp(unix.BPF_JGT, highest, enosys, pass)
}
