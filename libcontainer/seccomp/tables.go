package seccomp

import (
	"slices"
	"sync"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	libseccomp "github.com/seccomp/libseccomp-golang"
	"golang.org/x/sys/unix"
)

// actions maps the OCI action names onto libseccomp actions. ERRNO and TRACE
// get their return code attached later (see actionFor).
var actions = map[specs.LinuxSeccompAction]libseccomp.ScmpAction{
	specs.ActKill:        libseccomp.ActKillThread, // SCMP_ACT_KILL historically means "kill the thread"
	specs.ActKillThread:  libseccomp.ActKillThread,
	specs.ActKillProcess: libseccomp.ActKillProcess,
	specs.ActTrap:        libseccomp.ActTrap,
	specs.ActErrno:       libseccomp.ActErrno,
	specs.ActTrace:       libseccomp.ActTrace,
	specs.ActAllow:       libseccomp.ActAllow,
	specs.ActLog:         libseccomp.ActLog,
	specs.ActNotify:      libseccomp.ActNotify,
}

var operators = map[specs.LinuxSeccompOperator]libseccomp.ScmpCompareOp{
	specs.OpNotEqual:     libseccomp.CompareNotEqual,
	specs.OpLessThan:     libseccomp.CompareLess,
	specs.OpLessEqual:    libseccomp.CompareLessOrEqual,
	specs.OpEqualTo:      libseccomp.CompareEqual,
	specs.OpGreaterEqual: libseccomp.CompareGreaterEqual,
	specs.OpGreaterThan:  libseccomp.CompareGreater,
	specs.OpMaskedEqual:  libseccomp.CompareMaskedEqual,
}

// archInfo ties an OCI architecture name to libseccomp's token and to the
// AUDIT_ARCH_* value the kernel puts in seccomp_data.arch, which the -ENOSYS
// stub has to compare against (libseccomp's tokens are not kernel values).
type archInfo struct {
	scmp  libseccomp.ScmpArch
	audit uint32
	x32   bool // x32 shares AUDIT_ARCH_X86_64; its syscalls carry bit 30
}

var archs = map[specs.Arch]archInfo{
	specs.ArchX86:         {libseccomp.ArchX86, unix.AUDIT_ARCH_I386, false},
	specs.ArchX86_64:      {libseccomp.ArchAMD64, unix.AUDIT_ARCH_X86_64, false},
	specs.ArchX32:         {libseccomp.ArchX32, unix.AUDIT_ARCH_X86_64, true},
	specs.ArchARM:         {libseccomp.ArchARM, unix.AUDIT_ARCH_ARM, false},
	specs.ArchAARCH64:     {libseccomp.ArchARM64, unix.AUDIT_ARCH_AARCH64, false},
	specs.ArchMIPS:        {libseccomp.ArchMIPS, unix.AUDIT_ARCH_MIPS, false},
	specs.ArchMIPS64:      {libseccomp.ArchMIPS64, unix.AUDIT_ARCH_MIPS64, false},
	specs.ArchMIPS64N32:   {libseccomp.ArchMIPS64N32, unix.AUDIT_ARCH_MIPS64N32, false},
	specs.ArchMIPSEL:      {libseccomp.ArchMIPSEL, unix.AUDIT_ARCH_MIPSEL, false},
	specs.ArchMIPSEL64:    {libseccomp.ArchMIPSEL64, unix.AUDIT_ARCH_MIPSEL64, false},
	specs.ArchMIPSEL64N32: {libseccomp.ArchMIPSEL64N32, unix.AUDIT_ARCH_MIPSEL64N32, false},
	specs.ArchPPC:         {libseccomp.ArchPPC, unix.AUDIT_ARCH_PPC, false},
	specs.ArchPPC64:       {libseccomp.ArchPPC64, unix.AUDIT_ARCH_PPC64, false},
	specs.ArchPPC64LE:     {libseccomp.ArchPPC64LE, unix.AUDIT_ARCH_PPC64LE, false},
	specs.ArchS390:        {libseccomp.ArchS390, unix.AUDIT_ARCH_S390, false},
	specs.ArchS390X:       {libseccomp.ArchS390X, unix.AUDIT_ARCH_S390X, false},
	specs.ArchPARISC:      {libseccomp.ArchPARISC, unix.AUDIT_ARCH_PARISC, false},
	specs.ArchPARISC64:    {libseccomp.ArchPARISC64, unix.AUDIT_ARCH_PARISC64, false},
	specs.ArchRISCV64:     {libseccomp.ArchRISCV64, unix.AUDIT_ARCH_RISCV64, false},
	specs.ArchLOONGARCH64: {libseccomp.ArchLOONGARCH64, unix.AUDIT_ARCH_LOONGARCH64, false},
	specs.ArchM68K:        {libseccomp.ArchM68K, unix.AUDIT_ARCH_M68K, false},
	// libseccomp's "sh" is little-endian SuperH, "sheb" the big-endian one.
	specs.ArchSH:   {libseccomp.ArchSH, unix.AUDIT_ARCH_SHEL, false},
	specs.ArchSHEB: {libseccomp.ArchSHEB, unix.AUDIT_ARCH_SH, false},
}

// flagTsync is accepted (runc does too) although the runtime-spec does not
// list it; the executor is single-threaded, so it changes nothing there.
const flagTsync specs.LinuxSeccompFlag = "SECCOMP_FILTER_FLAG_TSYNC"

var flags = map[specs.LinuxSeccompFlag]uint{
	flagTsync:                              unix.SECCOMP_FILTER_FLAG_TSYNC,
	specs.LinuxSeccompFlagLog:              unix.SECCOMP_FILTER_FLAG_LOG,
	specs.LinuxSeccompFlagSpecAllow:        unix.SECCOMP_FILTER_FLAG_SPEC_ALLOW,
	specs.LinuxSeccompFlagWaitKillableRecv: unix.SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV,
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
		if info, _ := archs[specs.Arch(name)]; archSupported(info.scmp) {
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

func sortedNames[K ~string, V any](t map[K]V) []string {
	out := make([]string, 0, len(t))
	for k := range t {
		out = append(out, string(k))
	}
	slices.Sort(out)
	return out
}
