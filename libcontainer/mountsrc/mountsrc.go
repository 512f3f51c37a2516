// Package mountsrc opens mount sources on the runtime's side, for a
// container process that cannot (runc's mount-source fds): a bind source
// its user namespace cannot reach, and idmapped mounts, which only a
// detached mount tree can be made into. The container's process asks for
// one when it needs it and mounts what it is given.
package mountsrc

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// Source is a mount's source: a host path, or a path inside the rootfs
// (InRoot, when Rootfs is set), which is resolved there as the container
// sees it: a symlink of the image cannot lead out of it.
type Source struct {
	Path           string // absolute, as config.json gives it
	Rootfs, InRoot string
}

// open opens the source O_PATH, in the caller's mount namespace.
func (s Source) open() (*os.File, error) {
	if s.Rootfs == "" {
		fd, err := unix.Open(s.Path, unix.O_PATH|unix.O_CLOEXEC, 0)
		if err != nil {
			return nil, &os.PathError{Op: "open", Path: s.Path, Err: err}
		}
		return os.NewFile(uintptr(fd), s.Path), nil
	}
	root, err := unix.Open(s.Rootfs, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: s.Rootfs, Err: err}
	}
	defer unix.Close(root)
	rel := strings.TrimLeft(s.InRoot, "/")
	if rel == "" {
		rel = "."
	}
	how := &unix.OpenHow{Flags: unix.O_PATH | unix.O_CLOEXEC, Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS}
	fd, err := unix.Openat2(root, rel, how)
	for tries := 0; err == unix.EAGAIN && tries < 64; tries++ {
		// a rename or mount anywhere raced with the walk
		fd, err = unix.Openat2(root, rel, how)
	}
	if err != nil {
		return nil, &os.PathError{Op: "open in the rootfs", Path: s.InRoot, Err: err}
	}
	return os.NewFile(uintptr(fd), s.Path), nil
}

// OpenIn opens the source (O_PATH) as the mount namespace of process pid
// sees it, with the runtime's privileges: the container's process binds
// it from its fd (mount(2) through /proc/self/fd), in its own user
// namespace, so that the kernel still locks the flags of what it binds.
func OpenIn(pid int, src Source) (*os.File, error) {
	return inMountNs(pid, src.open)
}

// Idmapped clones the mount at the source, as the mount namespace of
// process pid has it (with the mounts under it when recursive: rbind),
// into a detached tree and idmaps it through the user namespace userns:
// its top mount, or every mount of the tree when idmapRecursive (ridmap).
// Cloned from the container's mount namespace, as runc does, the tree
// keeps the flags the kernel locked there (a user namespace cannot clear
// a read-only or nosuid that the host's mount has).
func Idmapped(pid int, src Source, recursive, idmapRecursive bool, userns *os.File) (*os.File, error) {
	return inMountNs(pid, func() (*os.File, error) {
		at, err := src.open()
		if err != nil {
			return nil, err
		}
		defer at.Close()
		flags := uint(unix.OPEN_TREE_CLONE | unix.OPEN_TREE_CLOEXEC | unix.AT_EMPTY_PATH)
		if recursive {
			flags |= unix.AT_RECURSIVE
		}
		fd, err := unix.OpenTree(int(at.Fd()), "", flags)
		if err != nil {
			return nil, &os.PathError{Op: "open_tree", Path: src.Path, Err: err}
		}
		tree := os.NewFile(uintptr(fd), src.Path)
		setFlags := uint(unix.AT_EMPTY_PATH)
		if idmapRecursive {
			setFlags |= unix.AT_RECURSIVE
		}
		attr := &unix.MountAttr{Attr_set: unix.MOUNT_ATTR_IDMAP, Userns_fd: uint64(userns.Fd())}
		if err := unix.MountSetattr(fd, "", setFlags, attr); err != nil {
			tree.Close()
			return nil, os.NewSyscallError("mount_setattr(MOUNT_ATTR_IDMAP)", err)
		}
		return tree, nil
	})
}

// inMountNs runs open on a thread of its own in the mount namespace of
// process pid; the thread dies with it.
func inMountNs(pid int, open func() (*os.File, error)) (*os.File, error) {
	type result struct {
		f   *os.File
		err error
	}
	ch := make(chan result, 1)
	go func() {
		// never unlocked: the thread, in another mount namespace, ends
		// with the goroutine
		runtime.LockOSThread()
		if err := enterMountNs(pid); err != nil {
			ch <- result{nil, err}
			return
		}
		f, err := open()
		ch <- result{f, err}
	}()
	r := <-ch
	return r.f, r.err
}

func enterMountNs(pid int) error {
	if err := unix.Unshare(unix.CLONE_FS); err != nil {
		return os.NewSyscallError("unshare(CLONE_FS)", err)
	}
	ns, err := os.Open("/proc/" + strconv.Itoa(pid) + "/ns/mnt")
	if err != nil {
		return fmt.Errorf("the container's mount namespace: %w", err)
	}
	defer ns.Close()
	if err := unix.Setns(int(ns.Fd()), unix.CLONE_NEWNS); err != nil {
		return fmt.Errorf("enter the container's mount namespace: %w", os.NewSyscallError("setns", err))
	}
	return nil
}

// Userns makes a user namespace with the given mappings and returns it
// open. Its process is a child of ours stopped at its exec (ptrace), which
// never runs: the kernel keeps the namespace as long as the file is open.
func Userns(uids, gids []specs.LinuxIDMapping) (*os.File, error) {
	exe, err := os.Executable()
	if err != nil {
		exe = "/proc/self/exe"
	}
	// the tracer is this thread: held until the child is gone
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	pid, err := syscall.ForkExec(exe, []string{"oci-rt", "idmap-userns"}, &syscall.ProcAttr{
		Env: []string{},
		Sys: &syscall.SysProcAttr{
			Cloneflags:  unix.CLONE_NEWUSER,
			UidMappings: sysMaps(uids),
			GidMappings: sysMaps(gids),
			Ptrace:      true,
			Pdeathsig:   syscall.SIGKILL,
		},
	})
	if err != nil {
		return nil, fmt.Errorf("a user namespace with the mappings: %w", err)
	}
	defer func() {
		unix.Kill(pid, unix.SIGKILL)
		// a traced child's stop at its exec is reported first: wait on
		// until it is gone, not left a zombie of a long-lived `run`
		var ws unix.WaitStatus
		for {
			_, err := unix.Wait4(pid, &ws, 0, nil)
			if err != unix.EINTR && (err != nil || ws.Exited() || ws.Signaled()) {
				break
			}
		}
	}()
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/ns/user")
	if err != nil {
		return nil, fmt.Errorf("a user namespace with the mappings: %w", err)
	}
	return f, nil
}

func sysMaps(m []specs.LinuxIDMapping) []syscall.SysProcIDMap {
	out := make([]syscall.SysProcIDMap, len(m))
	for i, r := range m {
		out[i] = syscall.SysProcIDMap{ContainerID: int(r.ContainerID), HostID: int(r.HostID), Size: int(r.Size)}
	}
	return out
}
