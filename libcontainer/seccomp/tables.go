package seccomp

import (
	"slices"
	"sync"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	libseccomp "github.com/seccomp/libseccomp-golang"
	"golang.org/x/sys/unix"

	"github.com/oci-rt/oci-rt/libcontainer/internal/table"
)

// actions maps the OCI action names onto libseccomp actions. ERRNO and TRACE
// get their return code attached later (see actionFor).
var actions = table.Table[specs.LinuxSeccompAction, libseccomp.ScmpAction]{
	{Key: specs.ActKill, Val: libseccomp.ActKillThread}, // SCMP_ACT_KILL historically means "kill the thread"
	{Key: specs.ActKillThread, Val: libseccomp.ActKillThread},
	{Key: specs.ActKillProcess, Val: libseccomp.ActKillProcess},
	{Key: specs.ActTrap, Val: libseccomp.ActTrap},
	{Key: specs.ActErrno, Val: libseccomp.ActErrno},
	{Key: specs.ActTrace, Val: libseccomp.ActTrace},
	{Key: specs.ActAllow, Val: libseccomp.ActAllow},
	{Key: specs.ActLog, Val: libseccomp.ActLog},
	{Key: specs.ActNotify, Val: libseccomp.ActNotify},
}

var operators = table.Table[specs.LinuxSeccompOperator, libseccomp.ScmpCompareOp]{
	{Key: specs.OpNotEqual, Val: libseccomp.CompareNotEqual},
	{Key: specs.OpLessThan, Val: libseccomp.CompareLess},
	{Key: specs.OpLessEqual, Val: libseccomp.CompareLessOrEqual},
	{Key: specs.OpEqualTo, Val: libseccomp.CompareEqual},
	{Key: specs.OpGreaterEqual, Val: libseccomp.CompareGreaterEqual},
	{Key: specs.OpGreaterThan, Val: libseccomp.CompareGreater},
	{Key: specs.OpMaskedEqual, Val: libseccomp.CompareMaskedEqual},
}

// archInfo ties an OCI architecture name to libseccomp's token and to the
// AUDIT_ARCH_* value the kernel puts in seccomp_data.arch, which the -ENOSYS
// stub has to compare against (libseccomp's tokens are not kernel values).
type archInfo struct {
	scmp  libseccomp.ScmpArch
	audit uint32
	x32   bool // x32 shares AUDIT_ARCH_X86_64; its syscalls carry bit 30
}

var archs = table.Table[specs.Arch, archInfo]{
	{Key: specs.ArchX86, Val: archInfo{libseccomp.ArchX86, unix.AUDIT_ARCH_I386, false}},
	{Key: specs.ArchX86_64, Val: archInfo{libseccomp.ArchAMD64, unix.AUDIT_ARCH_X86_64, false}},
	{Key: specs.ArchX32, Val: archInfo{libseccomp.ArchX32, unix.AUDIT_ARCH_X86_64, true}},
	{Key: specs.ArchARM, Val: archInfo{libseccomp.ArchARM, unix.AUDIT_ARCH_ARM, false}},
	{Key: specs.ArchAARCH64, Val: archInfo{libseccomp.ArchARM64, unix.AUDIT_ARCH_AARCH64, false}},
	{Key: specs.ArchMIPS, Val: archInfo{libseccomp.ArchMIPS, unix.AUDIT_ARCH_MIPS, false}},
	{Key: specs.ArchMIPS64, Val: archInfo{libseccomp.ArchMIPS64, unix.AUDIT_ARCH_MIPS64, false}},
	{Key: specs.ArchMIPS64N32, Val: archInfo{libseccomp.ArchMIPS64N32, unix.AUDIT_ARCH_MIPS64N32, false}},
	{Key: specs.ArchMIPSEL, Val: archInfo{libseccomp.ArchMIPSEL, unix.AUDIT_ARCH_MIPSEL, false}},
	{Key: specs.ArchMIPSEL64, Val: archInfo{libseccomp.ArchMIPSEL64, unix.AUDIT_ARCH_MIPSEL64, false}},
	{Key: specs.ArchMIPSEL64N32, Val: archInfo{libseccomp.ArchMIPSEL64N32, unix.AUDIT_ARCH_MIPSEL64N32, false}},
	{Key: specs.ArchPPC, Val: archInfo{libseccomp.ArchPPC, unix.AUDIT_ARCH_PPC, false}},
	{Key: specs.ArchPPC64, Val: archInfo{libseccomp.ArchPPC64, unix.AUDIT_ARCH_PPC64, false}},
	{Key: specs.ArchPPC64LE, Val: archInfo{libseccomp.ArchPPC64LE, unix.AUDIT_ARCH_PPC64LE, false}},
	{Key: specs.ArchS390, Val: archInfo{libseccomp.ArchS390, unix.AUDIT_ARCH_S390, false}},
	{Key: specs.ArchS390X, Val: archInfo{libseccomp.ArchS390X, unix.AUDIT_ARCH_S390X, false}},
	{Key: specs.ArchPARISC, Val: archInfo{libseccomp.ArchPARISC, unix.AUDIT_ARCH_PARISC, false}},
	{Key: specs.ArchPARISC64, Val: archInfo{libseccomp.ArchPARISC64, unix.AUDIT_ARCH_PARISC64, false}},
	{Key: specs.ArchRISCV64, Val: archInfo{libseccomp.ArchRISCV64, unix.AUDIT_ARCH_RISCV64, false}},
	{Key: specs.ArchLOONGARCH64, Val: archInfo{libseccomp.ArchLOONGARCH64, unix.AUDIT_ARCH_LOONGARCH64, false}},
	{Key: specs.ArchM68K, Val: archInfo{libseccomp.ArchM68K, unix.AUDIT_ARCH_M68K, false}},
	// libseccomp's "sh" is little-endian SuperH, "sheb" the big-endian one.
	{Key: specs.ArchSH, Val: archInfo{libseccomp.ArchSH, unix.AUDIT_ARCH_SHEL, false}},
	{Key: specs.ArchSHEB, Val: archInfo{libseccomp.ArchSHEB, unix.AUDIT_ARCH_SH, false}},
}

// flagTsync is accepted (runc does too) although the runtime-spec does not
// list it; the executor is single-threaded, so it changes nothing there.
const flagTsync specs.LinuxSeccompFlag = "SECCOMP_FILTER_FLAG_TSYNC"

var flags = table.Table[specs.LinuxSeccompFlag, uint]{
	{Key: flagTsync, Val: unix.SECCOMP_FILTER_FLAG_TSYNC},
	{Key: specs.LinuxSeccompFlagLog, Val: unix.SECCOMP_FILTER_FLAG_LOG},
	{Key: specs.LinuxSeccompFlagSpecAllow, Val: unix.SECCOMP_FILTER_FLAG_SPEC_ALLOW},
	{Key: specs.LinuxSeccompFlagWaitKillableRecv, Val: unix.SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV},
}

// KnownActions lists the accepted linux.seccomp actions, for `features`.
func KnownActions() []string { return sortedNames(actions) }

// KnownOperators lists the accepted argument operators, for `features`.
func KnownOperators() []string { return sortedNames(operators) }

// KnownFlags lists the accepted linux.seccomp.flags, for `features`.
// Whether the running kernel supports each one is only known at install time.
func KnownFlags() []string { return sortedNames(flags) }

// KnownArchs lists the architectures a filter built on this host can cover,
// for `features`: libseccomp refuses the ones it predates (2.5 lacks
// SCMP_ARCH_LOONGARCH64) and those of the other endianness.
func KnownArchs() []string { return supportedArchs() }

var supportedArchs = sync.OnceValue(func() []string {
	var out []string
	for _, name := range sortedNames(archs) {
		if info, _ := archs.Get(specs.Arch(name)); archSupported(info.scmp) {
			out = append(out, name)
		}
	}
	return out
})

// archSupported asks libseccomp itself, since the Go binding knows every
// architecture token but the C library it is linked against may not.
func archSupported(a libseccomp.ScmpArch) bool {
	f, err := libseccomp.NewFilter(libseccomp.ActAllow)
	if err != nil {
		return false
	}
	defer f.Release()
	return f.AddArch(a) == nil
}

func sortedNames[K ~string, V any](t table.Table[K, V]) []string {
	out := make([]string, 0, len(t))
	for _, k := range t.Keys() {
		out = append(out, string(k))
	}
	slices.Sort(out)
	return out
}
