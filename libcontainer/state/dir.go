package state

import (
	"os"
	"path/filepath"
	"strconv"

	"golang.org/x/sys/unix"
)

// Dir is a container's state directory, held under its lock.
type Dir struct {
	ID   string
	Path string
	fd   int // the directory, flock'ed: serialises commands on one container
}

// Unlock releases the lock.
func (h *Dir) Unlock() {
	if h.fd >= 0 {
		unix.Close(h.fd)
		h.fd = -1
	}
}

// Remove deletes the state directory and releases the lock.
func (h *Dir) Remove() error {
	err := h.removeFiles()
	if err == nil {
		err = unix.Rmdir(h.Path)
	}
	if err != nil {
		err = os.RemoveAll(h.Path) // whatever the fast way left
	}
	h.Unlock()
	return err
}

// removeFiles unlinks the files of the (flat) state directory through the
// fd we hold, without os.RemoveAll's opens and retries.
func (h *Dir) removeFiles() error {
	if h.fd < 0 {
		return unix.EBADF
	}
	if _, err := unix.Seek(h.fd, 0, 0); err != nil {
		return err
	}
	buf := make([]byte, 4096)
	var names []string
	for {
		n, err := unix.Getdents(h.fd, buf)
		if err != nil {
			return err
		}
		if n <= 0 {
			break
		}
		_, _, names = unix.ParseDirent(buf[:n], -1, names)
	}
	for _, name := range names {
		if err := unix.Unlinkat(h.fd, name, 0); err != nil && err != unix.ENOENT {
			return err
		}
	}
	return nil
}

// File is the path of a file inside the state directory.
func (h *Dir) File(name string) string { return filepath.Join(h.Path, name) }

// ShortPath names a file of the directory through the fd we hold on it:
// state paths can exceed the 108 bytes of a socket address.
func (h *Dir) ShortPath(name string) string {
	return "/proc/self/fd/" + strconv.Itoa(h.fd) + "/" + name
}
