package cgroups

import (
	"encoding/binary"
	"fmt"
	"math"

	devconfig "github.com/opencontainers/cgroups/devices/config"
	"golang.org/x/sys/unix"
)

// cgroup v2 has no devices files: access is decided by an eBPF program of
// type BPF_PROG_TYPE_CGROUP_DEVICE attached to the cgroup. The library
// assembles it with cilium/ebpf; this is the same program (after crun's),
// encoded by hand: importing that module costs every command (cgroups.go).

// bpfInsn is struct bpf_insn.
type bpfInsn struct {
	code     uint8
	dst, src uint8 // registers, 4 bits each
	off      int16
	imm      int32
}

// Opcodes used by the filter.
const (
	opLoadWord = unix.BPF_LDX | unix.BPF_MEM | unix.BPF_W
	opAndImm32 = unix.BPF_ALU | unix.BPF_AND | unix.BPF_K
	opRshImm32 = unix.BPF_ALU | unix.BPF_RSH | unix.BPF_K
	opMovImm32 = unix.BPF_ALU | unix.BPF_MOV | unix.BPF_K
	opMovReg32 = unix.BPF_ALU | unix.BPF_MOV | unix.BPF_X
	opJneImm   = unix.BPF_JMP | unix.BPF_JNE | unix.BPF_K
	opJneReg   = unix.BPF_JMP | unix.BPF_JNE | unix.BPF_X
	opJeqImm   = unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K
	opExit     = unix.BPF_JMP | unix.BPF_EXIT
)

const allAccess = unix.BPF_DEVCG_ACC_READ | unix.BPF_DEVCG_ACC_WRITE | unix.BPF_DEVCG_ACC_MKNOD

// devFilter returns the program for a device state: one block per
// exception, each returning the exception's verdict when the request
// matches it, and the default policy at the end.
func devFilter(s *devState) ([]bpfInsn, error) {
	// R1 points at struct bpf_cgroup_dev_ctx {u32 access_type; u32 major;
	// u32 minor}; access_type is (access << 16) | device type.
	prog := []bpfInsn{
		{code: opLoadWord, dst: 2, src: 1, off: 0},
		{code: opAndImm32, dst: 2, imm: 0xFFFF}, // R2 = type
		{code: opLoadWord, dst: 3, src: 1, off: 0},
		{code: opRshImm32, dst: 3, imm: 16},        // R3 = requested access
		{code: opLoadWord, dst: 4, src: 1, off: 4}, // R4 = major
		{code: opLoadWord, dst: 5, src: 1, off: 8}, // R5 = minor
	}
	for _, k := range s.orderedKeys() {
		block, err := ruleBlock(k, s.except[k], !s.allowAll)
		if err != nil {
			return nil, err
		}
		prog = append(prog, block...)
	}
	return append(prog, verdict(s.allowAll)...), nil
}

// ruleBlock tests one exception; every test jumps past the block (to the
// next one) on a mismatch.
func ruleBlock(k devKey, perms devconfig.Permissions, allow bool) ([]bpfInsn, error) {
	typ := int32(unix.BPF_DEVCG_DEV_CHAR)
	if k.typ == devconfig.BlockDevice {
		typ = unix.BPF_DEVCG_DEV_BLOCK
	}
	// Immediates are sign-extended to 64 bits: keep numbers below 2^31.
	if k.major > math.MaxInt32 || k.minor > math.MaxInt32 {
		return nil, fmt.Errorf("device rule %s: number too large for the eBPF filter", keyString(k))
	}
	tests := []bpfInsn{{code: opJneImm, dst: 2, imm: typ}}
	if acc := bpfAccess(perms); acc != allAccess {
		tests = append(tests, accessTest(acc, allow)...)
	}
	if k.major != devconfig.Wildcard {
		tests = append(tests, bpfInsn{code: opJneImm, dst: 4, imm: int32(k.major)})
	}
	if k.minor != devconfig.Wildcard {
		tests = append(tests, bpfInsn{code: opJneImm, dst: 5, imm: int32(k.minor)})
	}
	block := append(tests, verdict(allow)...)
	for i := range tests {
		if tests[i].code&0x07 == unix.BPF_JMP {
			block[i].off = int16(len(block) - i - 1)
		}
	}
	return block, nil
}

// accessTest skips the block when the exception does not apply to the
// requested access (R3): an allow exception must cover all of it, while a
// deny exception applies as soon as it covers any part (as in v1, where
// denying "r" also stops an open for "rw").
func accessTest(acc int32, allow bool) []bpfInsn {
	test := bpfInsn{code: opJneReg, dst: 1, src: 3} // skip if R1 != R3
	if !allow {
		test = bpfInsn{code: opJeqImm, dst: 1, imm: 0} // skip if R1 == 0
	}
	return []bpfInsn{
		{code: opMovReg32, dst: 1, src: 3},
		{code: opAndImm32, dst: 1, imm: acc}, // R1 = requested & acc
		test,
	}
}

func bpfAccess(p devconfig.Permissions) int32 {
	var acc int32
	for _, c := range p {
		switch c {
		case 'r':
			acc |= unix.BPF_DEVCG_ACC_READ
		case 'w':
			acc |= unix.BPF_DEVCG_ACC_WRITE
		case 'm':
			acc |= unix.BPF_DEVCG_ACC_MKNOD
		}
	}
	return acc
}

func verdict(allow bool) []bpfInsn {
	var v int32
	if allow {
		v = 1
	}
	return []bpfInsn{{code: opMovImm32, dst: 0, imm: v}, {code: opExit}}
}

// encode lays the program out as the kernel's struct bpf_insn array. The
// register nibbles are bitfields, whose order follows the byte order.
func encode(prog []bpfInsn) []byte {
	little := binary.NativeEndian.Uint16([]byte{1, 0}) == 1
	buf := make([]byte, 0, 8*len(prog))
	for _, in := range prog {
		regs := in.src<<4 | in.dst&0xf
		if !little {
			regs = in.dst<<4 | in.src&0xf
		}
		buf = append(buf, in.code, regs)
		buf = binary.NativeEndian.AppendUint16(buf, uint16(in.off))
		buf = binary.NativeEndian.AppendUint32(buf, uint32(in.imm))
	}
	return buf
}
