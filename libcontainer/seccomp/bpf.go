package seccomp

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"

	libseccomp "github.com/seccomp/libseccomp-golang"
	"golang.org/x/sys/unix"
)

// sockFilterSize is sizeof(struct sock_filter).
const sockFilterSize = 8

// exportBPF returns libseccomp's program as raw sock_filter bytes (host
// endian, exactly what seccomp_export_bpf writes).
func exportBPF(sf *libseccomp.ScmpFilter) ([]byte, error) {
	prog, err := sf.ExportBPFMem()
	if err != nil {
		// seccomp_export_bpf_mem only exists since libseccomp 2.6.
		prog, err = exportBPFFile(sf)
	}
	if err != nil {
		return nil, err
	}
	if len(prog) == 0 || len(prog)%sockFilterSize != 0 {
		return nil, fmt.Errorf("libseccomp exported %d bytes, not a sock_filter array", len(prog))
	}
	return prog, nil
}

// exportBPFFile exports through an anonymous memfd: unlike a pipe it never
// blocks the C writer on a large program, and it leaves nothing on disk.
func exportBPFFile(sf *libseccomp.ScmpFilter) ([]byte, error) {
	fd, err := unix.MemfdCreate("seccomp-bpf", unix.MFD_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("memfd_create: %w", err)
	}
	f := os.NewFile(uintptr(fd), "seccomp-bpf")
	defer f.Close()
	if err := sf.ExportBPF(f); err != nil {
		return nil, err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	return io.ReadAll(f)
}

// encode lays instructions out as struct sock_filter in host byte order,
// the layout the kernel reads through sock_fprog.
func encode(insns []unix.SockFilter) []byte {
	out := make([]byte, 0, len(insns)*sockFilterSize)
	for _, in := range insns {
		out = binary.NativeEndian.AppendUint16(out, in.Code)
		out = append(out, in.Jt, in.Jf)
		out = binary.NativeEndian.AppendUint32(out, in.K)
	}
	return out
}

// asm is a tiny forward-only cBPF assembler: jumps name labels, resolved
// into relative offsets once the whole layout is known.
type asm struct {
	insns  []asmInsn
	labels map[string]int
}

type asmInsn struct {
	unix.SockFilter
	jt, jf string // conditional jump targets, "" = next instruction
	ja     string // BPF_JA target
}

func newAsm() *asm { return &asm{labels: map[string]int{}} }

func (a *asm) mark(label string) { a.labels[label] = len(a.insns) }

// ldAbs loads the 32-bit word at off in struct seccomp_data.
func (a *asm) ldAbs(off uint32) {
	a.insns = append(a.insns, asmInsn{SockFilter: unix.SockFilter{Code: unix.BPF_LD | unix.BPF_W | unix.BPF_ABS, K: off}})
}

func (a *asm) jmp(op uint16, k uint32, jt, jf string) {
	code := unix.BPF_JMP | op | unix.BPF_K
	a.insns = append(a.insns, asmInsn{SockFilter: unix.SockFilter{Code: uint16(code), K: k}, jt: jt, jf: jf})
}

func (a *asm) ja(label string) {
	a.insns = append(a.insns, asmInsn{SockFilter: unix.SockFilter{Code: unix.BPF_JMP | unix.BPF_JA}, ja: label})
}

func (a *asm) ret(k uint32) {
	a.insns = append(a.insns, asmInsn{SockFilter: unix.SockFilter{Code: unix.BPF_RET | unix.BPF_K, K: k}})
}

// assemble resolves the labels. BPF only jumps forward, and conditional
// jumps only 255 instructions; callers keep those short by construction.
func (a *asm) assemble() ([]unix.SockFilter, error) {
	out := make([]unix.SockFilter, len(a.insns))
	for i, in := range a.insns {
		out[i] = in.SockFilter
		if in.Code == unix.BPF_JMP|unix.BPF_JA {
			off, err := a.offset(i, in.ja, 1<<32-1)
			out[i].K = off
			if err != nil {
				return nil, err
			}
			continue
		}
		jt, err1 := a.offset(i, in.jt, 255)
		jf, err2 := a.offset(i, in.jf, 255)
		if err := errors.Join(err1, err2); err != nil {
			return nil, err
		}
		out[i].Jt, out[i].Jf = uint8(jt), uint8(jf)
	}
	return out, nil
}

func (a *asm) offset(from int, label string, limit uint64) (uint32, error) {
	if label == "" {
		return 0, nil
	}
	to, ok := a.labels[label]
	if !ok || to <= from || uint64(to-from-1) > limit {
		return 0, fmt.Errorf("bpf: cannot jump from %d to label %q (at %d)", from, label, to)
	}
	return uint32(to - from - 1), nil
}
