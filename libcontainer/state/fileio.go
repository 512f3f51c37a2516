package state

import (
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// Reader reads the small files of container states into one buffer,
// so that list does not allocate (and fault in) a buffer per file; what
// read returns is valid until its next read.
type Reader struct{ buf []byte }

// read reads a small file with plain syscalls (os.ReadFile adds an fstat,
// a poller registration attempt and a finalizer: half of what `list`
// spends per container). A read that returns less than it was offered is
// taken as the end: the files it reads are regular files (which give what
// they have) or procfs and cgroupfs files (which give their whole content
// in one read when it fits), so that the usual small file costs one read,
// not two.
func (r *Reader) read(path string) ([]byte, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	defer unix.Close(fd)
	if r.buf == nil {
		r.buf = make([]byte, 0, 2048)
	}
	b := r.buf[:0]
	for {
		n, err := unix.Read(fd, b[len(b):cap(b)])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, &os.PathError{Op: "read", Path: path, Err: err}
		}
		short := n < cap(b)-len(b)
		b = b[:len(b)+n]
		if short {
			r.buf = b
			return b, nil
		}
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
	}
}

// ReadFile reads a small file into a buffer of its own.
func ReadFile(path string) ([]byte, error) { return new(Reader).read(path) }

// WriteNewFile creates a file that must not exist yet and writes it.
func WriteNewFile(path string, data []byte) error {
	return WriteFile(path, unix.O_CREAT|unix.O_EXCL, 0o600, data)
}

// WriteFile opens (with extra open flags, O_CREAT among them or not) and
// writes a file with plain syscalls.
func WriteFile(path string, flags int, perm uint32, data []byte) error {
	fd, err := unix.Open(path, unix.O_WRONLY|unix.O_CLOEXEC|flags, perm)
	if err != nil {
		return &os.PathError{Op: "open", Path: path, Err: err}
	}
	for b := data; len(b) > 0 && err == nil; {
		var n int
		if n, err = unix.Write(fd, b); err == nil {
			b = b[n:]
		}
	}
	if cerr := unix.Close(fd); err == nil {
		err = cerr
	}
	if err != nil {
		return &os.PathError{Op: "write", Path: path, Err: err}
	}
	return nil
}

// WriteFileAtomic writes a file so that readers see it whole or not at all.
// Plain syscalls: an os.File costs a poller registration attempt, an fstat
// and a finalizer, for a file written once on every create and start.
func WriteFileAtomic(path string, data []byte, mode os.FileMode) error {
	tmp := path + ".tmp" + strconv.Itoa(os.Getpid())
	err := WriteFile(tmp, unix.O_CREAT|unix.O_TRUNC, uint32(mode.Perm()), data)
	if err == nil {
		if err = unix.Rename(tmp, path); err != nil {
			err = &os.PathError{Op: "rename", Path: path, Err: err}
		}
	}
	if err != nil {
		unix.Unlink(tmp)
	}
	return err
}

// Stamp tells one version of a file from another: state.json is only
// ever replaced by a rename, so a new version is a new inode.
type Stamp struct {
	ino   uint64
	mtime unix.Timespec
}

func StampOf(path string) (Stamp, error) {
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		return Stamp{}, err
	}
	return Stamp{ino: st.Ino, mtime: st.Mtim}, nil
}
