package libcontainer

import (
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// ExecutorPath returns a read-only view of the running binary to start the
// executor from: a bind mount of /proc/self/exe, remounted read-only, at
// <root>/oci-rt.exe. A container process that reaches our binary through
// /proc/<pid>/exe (the CVE-2019-5736 class: a payload whose interpreter is
// #!/proc/self/exe) then gets EROFS on any attempt to write it. The view
// is made once per root and checked on every use (one stat and statfs):
// unlike a memfd copy, it costs no memory per container.
func ExecutorPath(root string) (string, error) {
	view := filepath.Join(root, "oci-rt.exe")
	var self, cur unix.Stat_t
	if err := unix.Stat("/proc/self/exe", &self); err != nil {
		return "", fmt.Errorf("stat /proc/self/exe: %w", err)
	}
	if isReadonlyView(view, &self, &cur) {
		return view, nil
	}
	return view, makeView(root, view, &self)
}

func isReadonlyView(view string, self, cur *unix.Stat_t) bool {
	if unix.Stat(view, cur) != nil || cur.Dev != self.Dev || cur.Ino != self.Ino {
		return false
	}
	var fs unix.Statfs_t
	return unix.Statfs(view, &fs) == nil && fs.Flags&unix.ST_RDONLY != 0
}

// makeView (re)creates the view under a lock: a new binary (an upgrade)
// replaces a view of the old one.
func makeView(root, view string, self *unix.Stat_t) error {
	if err := os.MkdirAll(root, 0o711); err != nil {
		return fmt.Errorf("--root %q: %w", root, err)
	}
	lock, err := os.OpenFile(filepath.Join(root, "oci-rt.exe.lock"), os.O_CREATE|os.O_RDWR, 0o600)
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
