package state

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/oci-rt/oci-rt/libcontainer/jsonlite"
)

// Store is the state root (--root): one directory per container.
type Store struct{ Root string }

// DirOf is the path of a container's state directory.
func (st Store) DirOf(id string) string { return filepath.Join(st.Root, id) }

// CheckID refuses ids that are empty or could name another path.
func CheckID(id string) error {
	if id == "" {
		return errors.New("container id: empty")
	}
	if id == "." || id == ".." || !validID(id) {
		return fmt.Errorf("container id %q: only letters, digits and _ + - . are allowed, and not . or ..", id)
	}
	return nil
}

// validID: letters, digits and _ + - . only (no regexp compiled at
// every start for this).
func validID(id string) bool {
	for _, r := range id {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("_+-.", r)
		if !ok {
			return false
		}
	}
	return true
}

// Claim makes the state directory of a new container and locks it; it
// fails when the id is taken.
func (st Store) Claim(id string) (*Dir, error) {
	if err := CheckID(id); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(st.Root, 0o711); err != nil {
		return nil, fmt.Errorf("--root %q: %w", st.Root, err)
	}
	d := st.DirOf(id)
	if err := os.Mkdir(d, 0o711); err != nil {
		if errors.Is(err, os.ErrExist) {
			return nil, fmt.Errorf("container %q already exists", id)
		}
		return nil, fmt.Errorf("state directory %q: %w", d, err)
	}
	return lockDir(id, d)
}

// Open locks an existing container's state directory.
func (st Store) Open(id string) (*Dir, error) {
	if err := CheckID(id); err != nil {
		return nil, err
	}
	h, err := lockDir(id, st.DirOf(id))
	if err != nil {
		return nil, err
	}
	// a create that failed may have removed the directory while we waited
	if _, err := os.Stat(h.File("state.json")); err != nil {
		h.Unlock()
		return nil, ErrNotExist
	}
	return h, nil
}

func lockDir(id, d string) (*Dir, error) {
	fd, err := unix.Open(d, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		if errors.Is(err, unix.ENOENT) {
			return nil, ErrNotExist
		}
		return nil, fmt.Errorf("state directory %q: %w", d, err)
	}
	if err := unix.Flock(fd, unix.LOCK_EX); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("lock %q: %w", d, err)
	}
	return &Dir{ID: id, Path: d, fd: fd}, nil
}

// Load returns a container's current state.
func (st Store) Load(id string) (*State, error) {
	if err := CheckID(id); err != nil {
		return nil, err
	}
	return Load(st.DirOf(id))
}

// LoadFull reads a container's state and runtime.json without the lock.
func (st Store) LoadFull(id string) (*State, error) {
	if err := CheckID(id); err != nil {
		return nil, err
	}
	return loadFull(st.DirOf(id))
}

// LoadSpec returns the config the container was created with (saved in its
// state directory, so that later edits of the bundle do not matter).
func (st Store) LoadSpec(id string) (*specs.Spec, error) {
	if err := CheckID(id); err != nil {
		return nil, err
	}
	b, err := os.ReadFile(st.DirOf(id) + "/config.json")
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, ErrNotExist
		}
		return nil, err
	}
	var s specs.Spec
	return &s, jsonlite.Unmarshal(b, &s)
}

// RemoveAborted removes a state directory that a create left before it
// wrote any state (it was killed): once we hold its lock, no create works there.
func (st Store) RemoveAborted(id string) {
	if CheckID(id) != nil {
		return
	}
	h, err := lockDir(id, st.DirOf(id))
	if err != nil {
		return
	}
	if _, err := os.Stat(h.File("state.json")); errors.Is(err, os.ErrNotExist) {
		h.Remove()
		return
	}
	h.Unlock()
}
