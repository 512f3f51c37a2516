package launch

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// ViewDir holds the read-only views of oci-rt binaries, one per binary
// (device and inode), shared by every --root.
var ViewDir = "/run/oci-rt-exe"

// ExecutorPath returns a read-only view of the running binary to start the
// executor from: a bind mount of /proc/self/exe, remounted read-only. A
// container process that reaches our binary through /proc/<pid>/exe (the
// CVE-2019-5736 class: a payload whose interpreter is #!/proc/self/exe)
// then gets EROFS on any attempt to write it. The view is made once per
// binary and checked on every use (one stat and statfs): unlike a memfd
// copy, it costs no memory per container.
func ExecutorPath() (string, error) {
	var self, cur unix.Stat_t
	if err := unix.Stat("/proc/self/exe", &self); err != nil {
		return "", fmt.Errorf("stat /proc/self/exe: %w", err)
	}
	view := filepath.Join(ViewDir, fmt.Sprintf("%d-%d", self.Dev, self.Ino))
	if isReadonlyView(view, &self, &cur) {
		return view, nil
	}
	err := makeView(view, &self)
	if errors.Is(err, os.ErrPermission) {
		// unprivileged: no mounts; a sealed copy instead (memory per
		// container, which is why it is only the fallback)
		return sealedCopy()
	}
	return view, err
}

// sealedCopy copies our binary into a memfd sealed against writes and
// returns its /proc/self/fd path (an ELF executable is opened by execve
// before close-on-exec fds close, so the child can run it).
func sealedCopy() (string, error) {
	fd, err := unix.MemfdCreate("oci-rt", unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING)
	if err != nil {
		return "", fmt.Errorf("sealed copy of the runtime: %w", err)
	}
	dst := os.NewFile(uintptr(fd), "oci-rt-memfd")
	src, err := os.Open("/proc/self/exe")
	if err != nil {
		dst.Close()
		return "", err
	}
	defer src.Close()
	if _, err := io.Copy(dst, src); err != nil {
		dst.Close()
		return "", fmt.Errorf("sealed copy of the runtime: %w", err)
	}
	seals := unix.F_SEAL_SEAL | unix.F_SEAL_SHRINK | unix.F_SEAL_GROW | unix.F_SEAL_WRITE
	if _, err := unix.FcntlInt(uintptr(fd), unix.F_ADD_SEALS, seals); err != nil {
		dst.Close()
		return "", fmt.Errorf("seal the copy of the runtime: %w", err)
	}
	sealedFiles = append(sealedFiles, dst) // open until we exit
	return fmt.Sprintf("/proc/self/fd/%d", fd), nil
}

var sealedFiles []*os.File

func isReadonlyView(view string, self, cur *unix.Stat_t) bool {
	if unix.Stat(view, cur) != nil || cur.Dev != self.Dev || cur.Ino != self.Ino {
		return false
	}
	var fs unix.Statfs_t
	return unix.Statfs(view, &fs) == nil && fs.Flags&unix.ST_RDONLY != 0
}

// makeView creates the view under a lock, and drops views of binaries that
// are gone (replaced by an upgrade, or a deleted test build).
func makeView(view string, self *unix.Stat_t) error {
	if err := os.MkdirAll(ViewDir, 0o711); err != nil {
		return fmt.Errorf("executor view directory %q: %w", ViewDir, err)
	}
	lock, err := os.OpenFile(filepath.Join(ViewDir, ".lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return err
	}
	defer lock.Close()
	if err := unix.Flock(int(lock.Fd()), unix.LOCK_EX); err != nil {
		return err
	}
	var cur unix.Stat_t
	if isReadonlyView(view, self, &cur) {
		return nil // another oci-rt made it while we waited
	}
	dropStaleViews()
	for unix.Unmount(view, unix.MNT_DETACH) == nil {
	}
	f, err := os.OpenFile(view, os.O_CREATE|os.O_RDONLY, 0o500)
	if err != nil {
		return fmt.Errorf("executor view %s: %w", view, err)
	}
	f.Close()
	if err := unix.Mount("/proc/self/exe", view, "", unix.MS_BIND, ""); err != nil {
		return fmt.Errorf("bind our binary onto %s: %w", view, err)
	}
	if err := unix.Mount("", view, "", unix.MS_BIND|unix.MS_REMOUNT|unix.MS_RDONLY|unix.MS_NOSUID|unix.MS_NODEV, ""); err != nil {
		unix.Unmount(view, unix.MNT_DETACH)
		return fmt.Errorf("make %s read-only: %w", view, err)
	}
	return nil
}

// dropStaleViews unmounts and removes views whose binary has no name left.
func dropStaleViews() {
	ents, _ := os.ReadDir(ViewDir)
	for _, e := range ents {
		p := filepath.Join(ViewDir, e.Name())
		var st unix.Stat_t
		if e.Name() == ".lock" || unix.Stat(p, &st) != nil || st.Nlink != 0 {
			continue
		}
		unix.Unmount(p, unix.MNT_DETACH)
		os.Remove(p)
	}
}
