package seccomp

import (
	"encoding/binary"
	"testing"

	libseccomp "github.com/seccomp/libseccomp-golang"
	"golang.org/x/sys/unix"
)

// call is one seccomp_data as the kernel would present it to a filter.
type call struct {
	nr   int32
	arch uint32
	args [6]uint64
}

func (c call) bytes() []byte {
	data := make([]byte, 64)
	binary.NativeEndian.PutUint32(data[dataNr:], uint32(c.nr))
	binary.NativeEndian.PutUint32(data[dataArch:], c.arch)
	for i, a := range c.args {
		binary.NativeEndian.PutUint64(data[16+8*i:], a)
	}
	return data
}

func decode(t *testing.T, prog []byte) []unix.SockFilter {
	t.Helper()
	if len(prog)%sockFilterSize != 0 {
		t.Fatalf("program is %d bytes, not a multiple of %d", len(prog), sockFilterSize)
	}
	out := make([]unix.SockFilter, 0, len(prog)/sockFilterSize)
	for i := 0; i < len(prog); i += sockFilterSize {
		out = append(out, unix.SockFilter{
			Code: binary.NativeEndian.Uint16(prog[i:]),
			Jt:   prog[i+2],
			Jf:   prog[i+3],
			K:    binary.NativeEndian.Uint32(prog[i+4:]),
		})
	}
	return out
}

// run interprets a classic BPF seccomp program the way the kernel does, so
// the semantics of compiled filters can be checked for any architecture
// without installing them. It covers the instructions libseccomp and the
// stub emit, and fails on anything else.
func run(t *testing.T, prog []byte, c call) uint32 {
	t.Helper()
	insns := decode(t, prog)
	data := c.bytes()
	var a, x uint32
	var mem [unix.BPF_MEMWORDS]uint32
	for pc := 0; pc < len(insns); pc++ {
		in := insns[pc]
		switch in.Code {
		case unix.BPF_LD | unix.BPF_W | unix.BPF_ABS:
			a = binary.NativeEndian.Uint32(data[in.K:])
		case unix.BPF_LD | unix.BPF_IMM:
			a = in.K
		case unix.BPF_LDX | unix.BPF_IMM:
			x = in.K
		case unix.BPF_LD | unix.BPF_MEM:
			a = mem[in.K]
		case unix.BPF_LDX | unix.BPF_MEM:
			x = mem[in.K]
		case unix.BPF_ST:
			mem[in.K] = a
		case unix.BPF_STX:
			mem[in.K] = x
		case unix.BPF_ALU | unix.BPF_AND | unix.BPF_K:
			a &= in.K
		case unix.BPF_MISC | unix.BPF_TAX:
			x = a
		case unix.BPF_MISC | unix.BPF_TXA:
			a = x
		case unix.BPF_RET | unix.BPF_K:
			return in.K
		case unix.BPF_RET | unix.BPF_A:
			return a
		case unix.BPF_JMP | unix.BPF_JA:
			pc += int(in.K)
		default:
			pc += jump(t, in, a, x)
		}
	}
	t.Fatal("program fell off its end")
	return 0
}

func jump(t *testing.T, in unix.SockFilter, a, x uint32) int {
	t.Helper()
	k := in.K
	if in.Code&unix.BPF_X != 0 {
		k = x
	}
	var taken bool
	switch in.Code &^ unix.BPF_X {
	case unix.BPF_JMP | unix.BPF_JEQ:
		taken = a == k
	case unix.BPF_JMP | unix.BPF_JGT:
		taken = a > k
	case unix.BPF_JMP | unix.BPF_JGE:
		taken = a >= k
	case unix.BPF_JMP | unix.BPF_JSET:
		taken = a&k != 0
	default:
		t.Fatalf("interpreter does not know opcode %#x", in.Code)
	}
	if taken {
		return int(in.Jt)
	}
	return int(in.Jf)
}

// sysno resolves a syscall name on arch through libseccomp, so tests do not
// hard-code syscall tables.
func sysno(t *testing.T, name string, arch libseccomp.ScmpArch) int32 {
	t.Helper()
	nr, err := libseccomp.GetSyscallFromNameByArch(name, arch)
	if err != nil {
		t.Fatalf("resolving %s: %v", name, err)
	}
	return int32(nr)
}

// nativeArch returns libseccomp's token and the kernel audit value for the
// machine running the tests.
func nativeArch(t *testing.T) (libseccomp.ScmpArch, uint32) {
	t.Helper()
	native, err := libseccomp.GetNativeArch()
	if err != nil {
		t.Fatal(err)
	}
	for _, info := range archs {
		if info.scmp == native {
			return native, info.audit
		}
	}
	t.Fatalf("native arch %v not in table", native)
	return 0, 0
}

const (
	retAllow = unix.SECCOMP_RET_ALLOW
	retKill  = unix.SECCOMP_RET_KILL_THREAD
)

func retErrno(e uint32) uint32 { return unix.SECCOMP_RET_ERRNO | e }
