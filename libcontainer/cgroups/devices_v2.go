package cgroups

import (
	"errors"
	"fmt"
	"runtime"
	"unsafe"

	"github.com/moby/sys/userns"
	cg "github.com/opencontainers/cgroups"
	"golang.org/x/sys/unix"
)

// setDevicesV2 replaces the device filter of the v2 cgroup at dirPath by
// one built from r.Devices.
func setDevicesV2(dirPath string, r *cg.Resources) error {
	if r.SkipDevices {
		return nil
	}
	target, err := buildDevState(r.Devices)
	if err != nil {
		return err
	}
	prog, err := devFilter(target)
	if err != nil {
		return err
	}
	if err := attachDevFilter(dirPath, prog); err != nil && !canSkipBPFError(r) {
		return fmt.Errorf("devices cgroup %s: %w", dirPath, err)
	}
	return nil
}

// canSkipBPFError mirrors the library (and crun): bpf(2) is unavailable in
// user namespaces, and a failure only matters if the rules would deny
// something.
func canSkipBPFError(r *cg.Resources) bool {
	if userns.RunningInUserNS() {
		return true
	}
	for _, d := range r.Devices {
		if !d.Allow || bpfAccess(d.Permissions) != allAccess {
			return false
		}
	}
	return true
}

// attachDevFilter attaches the new program before detaching the old ones,
// so that the cgroup is never left without a filter.
func attachDevFilter(dirPath string, prog []bpfInsn) error {
	dirFD, err := unix.Open(dirPath, unix.O_DIRECTORY|unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(dirFD)
	oldIDs, err := queryDevPrograms(dirFD)
	if err != nil {
		return err
	}
	progFD, err := loadDevProgram(prog)
	if err != nil {
		return err
	}
	defer unix.Close(progFD)
	if err := progAttach(unix.BPF_PROG_ATTACH, dirFD, progFD); err != nil {
		return fmt.Errorf("attach device filter: %w", err)
	}
	return detachPrograms(dirFD, oldIDs)
}

func detachPrograms(dirFD int, ids []uint32) error {
	var errs []error
	for _, id := range ids {
		fd, err := progFDByID(id)
		if err == nil {
			err = progAttach(unix.BPF_PROG_DETACH, dirFD, fd)
			unix.Close(fd)
		}
		// ENOENT: someone else already detached or unloaded it.
		if err != nil && !errors.Is(err, unix.ENOENT) {
			errs = append(errs, fmt.Errorf("detach old device filter %d: %w", id, err))
		}
	}
	return errors.Join(errs...)
}

// The bpf_attr layouts used below (see include/uapi/linux/bpf.h). The
// kernel accepts a prefix of the union as long as the rest would be zero.
type progLoadAttr struct {
	progType    uint32
	insnCnt     uint32
	insns       uint64
	license     uint64
	logLevel    uint32
	logSize     uint32
	logBuf      uint64
	kernVersion uint32
	progFlags   uint32
}

type progAttachAttr struct {
	targetFD    uint32
	attachBPFFD uint32
	attachType  uint32
	attachFlags uint32
}

type progQueryAttr struct {
	targetFD    uint32
	attachType  uint32
	queryFlags  uint32
	attachFlags uint32
	progIDs     uint64
	progCnt     uint32
	_           uint32
}

func bpf(cmd int, attr unsafe.Pointer, size uintptr) (uintptr, error) {
	r, _, errno := unix.Syscall(unix.SYS_BPF, uintptr(cmd), uintptr(attr), size)
	if errno != 0 {
		return 0, errno
	}
	return r, nil
}

// loadDevProgram loads the filter. The verifier gives up with EAGAIN when
// a signal is pending (the Go runtime's preemption signal can be), so that
// is retried; its log is asked for only to word a refusal.
func loadDevProgram(prog []bpfInsn) (int, error) {
	var fd int
	var err error
	for try := 0; try < 10; try++ {
		if fd, err = loadProgram(prog, nil); !errors.Is(err, unix.EAGAIN) {
			break
		}
	}
	if err != nil && !errors.Is(err, unix.EAGAIN) {
		log := make([]byte, 64*1024)
		if _, again := loadProgram(prog, log); again != nil {
			err = fmt.Errorf("%w: %s", again, unix.ByteSliceToString(log))
		}
	}
	if err != nil {
		return -1, fmt.Errorf("load device filter: %w", err)
	}
	return fd, nil
}

// loadProgram is one BPF_PROG_LOAD, with the verifier's log in log when
// it is not nil.
func loadProgram(prog []bpfInsn, log []byte) (int, error) {
	code := encode(prog)
	license := []byte("Apache\x00")
	attr := progLoadAttr{
		progType: unix.BPF_PROG_TYPE_CGROUP_DEVICE,
		insnCnt:  uint32(len(prog)),
		insns:    uint64(uintptr(unsafe.Pointer(&code[0]))),
		license:  uint64(uintptr(unsafe.Pointer(&license[0]))),
	}
	if len(log) > 0 {
		attr.logLevel, attr.logSize, attr.logBuf = 1, uint32(len(log)), uint64(uintptr(unsafe.Pointer(&log[0])))
	}
	fd, err := bpf(unix.BPF_PROG_LOAD, unsafe.Pointer(&attr), unsafe.Sizeof(attr))
	runtime.KeepAlive(code)
	runtime.KeepAlive(license)
	runtime.KeepAlive(log)
	return int(fd), err
}

// progAttach attaches (or detaches) with BPF_F_ALLOW_MULTI, so that the
// old and new filters can briefly coexist during an update.
func progAttach(cmd, dirFD, progFD int) error {
	attr := progAttachAttr{
		targetFD:    uint32(dirFD),
		attachBPFFD: uint32(progFD),
		attachType:  unix.BPF_CGROUP_DEVICE,
	}
	if cmd == unix.BPF_PROG_ATTACH {
		attr.attachFlags = unix.BPF_F_ALLOW_MULTI
	}
	_, err := bpf(cmd, unsafe.Pointer(&attr), unsafe.Sizeof(attr))
	return err
}

// queryDevPrograms lists the ids of the device programs attached directly
// to the cgroup (not inherited ones).
func queryDevPrograms(dirFD int) ([]uint32, error) {
	ids := make([]uint32, 64)
	attr := progQueryAttr{
		targetFD:   uint32(dirFD),
		attachType: unix.BPF_CGROUP_DEVICE,
		progIDs:    uint64(uintptr(unsafe.Pointer(&ids[0]))),
		progCnt:    uint32(len(ids)),
	}
	_, err := bpf(unix.BPF_PROG_QUERY, unsafe.Pointer(&attr), unsafe.Sizeof(attr))
	runtime.KeepAlive(ids)
	if err != nil {
		return nil, fmt.Errorf("query device filters: %w", err)
	}
	return ids[:attr.progCnt], nil
}

func progFDByID(id uint32) (int, error) {
	attr := struct{ id, nextID, openFlags uint32 }{id: id}
	fd, err := bpf(unix.BPF_PROG_GET_FD_BY_ID, unsafe.Pointer(&attr), unsafe.Sizeof(attr))
	return int(fd), err
}
