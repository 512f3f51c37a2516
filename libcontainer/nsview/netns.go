package nsview

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"golang.org/x/sys/unix"
)

// NetnsDir is where iproute2 looks for named network namespaces
// (`ip netns exec NAME ...`).
const NetnsDir = "/var/run/netns"

// NetnsName is a name given to a container's network namespace: the
// bind mount NetnsDir/Name of that namespace (Dev, Ino), which the
// container's delete removes while it is still that namespace.
type NetnsName struct {
	Name string `json:"name"`
	Dev  uint64 `json:"dev"`
	Ino  uint64 `json:"ino"`
}

// CheckNetnsName refuses a name that is empty, too long or could name
// another path than a file in NetnsDir. Its errors and NameNetns's do not
// repeat the name: the caller says where it came from.
func CheckNetnsName(name string) error {
	ok := name != "" && name != "." && name != ".." && len(name) <= 255
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-' || r == '.') {
			ok = false
		}
	}
	if !ok {
		return errors.New("letters, digits and _ - . only, not . or .., at most 255 bytes")
	}
	return nil
}

// NameNetns binds the process's network namespace at NetnsDir/name, as
// `ip netns attach` does: the directory is made a shared mount (bound on
// itself first when it is not a mount point) so that the name is seen
// from the mount namespaces `ip netns exec` makes. An existing name is
// refused, never replaced.
func (p *Process) NameNetns(name string) (NetnsName, error) {
	if err := CheckNetnsName(name); err != nil {
		return NetnsName{}, err
	}
	nsfd, err := p.OpenNs("net")
	if err != nil {
		return NetnsName{}, err
	}
	defer unix.Close(nsfd)
	var st unix.Stat_t
	if err := unix.Fstat(nsfd, &st); err != nil {
		return NetnsName{}, fmt.Errorf("network namespace of pid %d: %w", p.Pid, err)
	}
	// the handle was opened for the container's process: a pid reused
	// since then would have failed above; one more check that what we
	// opened is not a zombie's leftover
	if err := p.check(); err != nil {
		return NetnsName{}, err
	}
	if err := shareNetnsDir(); err != nil {
		return NetnsName{}, err
	}
	target := filepath.Join(NetnsDir, name)
	fd, err := unix.Open(target, unix.O_RDONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		if errors.Is(err, unix.EEXIST) {
			return NetnsName{}, fmt.Errorf("%s already exists", target)
		}
		return NetnsName{}, fmt.Errorf("%s: %w", target, err)
	}
	unix.Close(fd)
	if err := unix.Mount("/proc/self/fd/"+strconv.Itoa(nsfd), target, "", unix.MS_BIND, ""); err != nil {
		unix.Unlink(target)
		return NetnsName{}, fmt.Errorf("bind %s: %w", target, err)
	}
	return NetnsName{Name: name, Dev: st.Dev, Ino: st.Ino}, nil
}

// shareNetnsDir makes NetnsDir and makes it a shared mount, as iproute2
// does before it binds a namespace there.
func shareNetnsDir() error {
	if err := os.MkdirAll(NetnsDir, 0o755); err != nil {
		return fmt.Errorf("%s: %w", NetnsDir, err)
	}
	err := unix.Mount("", NetnsDir, "none", unix.MS_SHARED|unix.MS_REC, "")
	if errors.Is(err, unix.EINVAL) { // not a mount point yet
		if err = unix.Mount(NetnsDir, NetnsDir, "none", unix.MS_BIND|unix.MS_REC, ""); err == nil {
			err = unix.Mount("", NetnsDir, "none", unix.MS_SHARED|unix.MS_REC, "")
		}
	}
	if err != nil {
		return fmt.Errorf("make %s a shared mount: %w", NetnsDir, err)
	}
	return nil
}

// Remove unbinds and removes the name, but only while it is still the
// namespace it was given to: a name deleted meanwhile (`ip netns delete`)
// and perhaps given to another namespace is left alone.
func (n NetnsName) Remove() error {
	if CheckNetnsName(n.Name) != nil {
		return nil // not one of ours
	}
	target := filepath.Join(NetnsDir, n.Name)
	var st unix.Stat_t
	if err := unix.Lstat(target, &st); err != nil {
		if errors.Is(err, unix.ENOENT) {
			return nil
		}
		return fmt.Errorf("network namespace name %s: %w", target, err)
	}
	if st.Dev != n.Dev || st.Ino != n.Ino {
		return nil
	}
	if err := unix.Unmount(target, unix.MNT_DETACH|unix.UMOUNT_NOFOLLOW); err != nil {
		return fmt.Errorf("network namespace name %s: unmount: %w", target, err)
	}
	if err := unix.Unlink(target); err != nil && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("network namespace name %s: %w", target, err)
	}
	return nil
}
