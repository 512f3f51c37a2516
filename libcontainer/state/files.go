package state

import (
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/oci-rt/oci-rt/libcontainer/intelrdt"
	"github.com/oci-rt/oci-rt/libcontainer/jsonlite"
)

// Save writes state.json atomically (a temporary file renamed over it),
// without the cgroup paths: those are in runtime.json, and state.json stays
// small for list, which decodes one per container.
func (h *Dir) Save(s *State) error {
	paths := s.CgroupPaths
	s.CgroupPaths = nil
	b, err := jsonlite.Marshal(s)
	s.CgroupPaths = paths
	if err != nil {
		return err
	}
	return WriteFileAtomic(h.File("state.json"), b, 0o600)
}

// LoadFull reads state.json and runtime.json.
func (h *Dir) LoadFull() (*State, error) { return loadFull(h.Path) }

func loadFull(dir string) (*State, error) {
	s, err := Load(dir)
	if err != nil {
		return nil, err
	}
	b, err := ReadFile(filepath.Join(dir, "runtime.json"))
	if err != nil {
		return nil, err
	}
	// the cgroup configuration (a large type to decode) is decoded only by
	// the commands that use it (CgroupConfig): start and kill do not
	var r struct {
		Cgroup      json.RawMessage   `json:"cgroup"`
		CgroupPaths map[string]string `json:"cgroupPaths"`
		Hooks       *specs.Hooks      `json:"hooks"`
		IntelRdt    *intelrdt.Group   `json:"intelRdt"`
	}
	if err := jsonlite.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, "runtime.json"), err)
	}
	if len(r.Cgroup) > 0 && string(r.Cgroup) != "null" {
		s.cgroupRaw = r.Cgroup
	}
	if len(r.CgroupPaths) > 0 {
		s.CgroupPaths = r.CgroupPaths
	}
	s.Hooks, s.IntelRdt = r.Hooks, r.IntelRdt
	return s, nil
}

// SaveRuntime writes runtime.json atomically.
func (h *Dir) SaveRuntime(s *State) error {
	if _, err := s.CgroupConfig(); err != nil {
		return err
	}
	b, err := jsonlite.Marshal(s.runtimeFile())
	if err != nil {
		return err
	}
	return WriteFileAtomic(h.File("runtime.json"), b, 0o600)
}

// CreateRuntime writes the first runtime.json of a container being
// created: only commands that lock the container read it, and create holds
// the lock, so it needs no temporary file and rename.
func (h *Dir) CreateRuntime(s *State) error {
	b, err := jsonlite.Marshal(s.runtimeFile())
	if err != nil {
		return err
	}
	return WriteNewFile(h.File("runtime.json"), b)
}

// Load reads a state directory without locking (state.json is only
// ever replaced whole, so a reader sees one version or the other).
func Load(dir string) (*State, error) { return new(Reader).Load(dir) }

func (r *Reader) Load(dir string) (*State, error) {
	b, err := r.read(filepath.Join(dir, "state.json"))
	if err != nil {
		if errors.Is(err, unix.ENOENT) {
			return nil, ErrNotExist
		}
		return nil, err
	}
	var s State
	if err := jsonlite.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, "state.json"), err)
	}
	s.refresh(dir, r)
	return &s, nil
}

// SaveSpec keeps the container's config in its state directory: exec and
// update start from it, whatever happens to the bundle later.
func (h *Dir) SaveSpec(s *specs.Spec) error {
	b, err := jsonlite.Marshal(s)
	if err != nil {
		return err
	}
	return WriteFileAtomic(h.File("config.json"), b, 0o600)
}
