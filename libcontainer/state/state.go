// Package state is what oci-rt keeps on disk for a container: its state
// directory under --root (state.json, runtime.json, config.json), the lock
// that serialises commands on it, and the small-file I/O they use.
package state

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"time"

	cg "github.com/opencontainers/cgroups"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/oci-rt/oci-rt/libcontainer/intelrdt"
	"github.com/oci-rt/oci-rt/libcontainer/jsonlite"
	"github.com/oci-rt/oci-rt/libcontainer/nsview"
)

// Status values, as the runtime spec names them.
const (
	Creating = "creating"
	Created  = "created"
	Running  = "running"
	Stopped  = "stopped"
	Paused   = "paused"
)

// ErrNotExist is returned for an unknown id; its text is what the shims
// match ("container does not exist").
var ErrNotExist = errors.New("container does not exist")

// State is what oci-rt keeps on disk for a container (state.json).
type State struct {
	OCIVersion  string            `json:"ociVersion"`
	ID          string            `json:"id"`
	Status      string            `json:"status"`
	Pid         int               `json:"pid"`
	Bundle      string            `json:"bundle"`
	Annotations map[string]string `json:"annotations,omitempty"`

	Rootfs    string    `json:"rootfs"`
	Created   time.Time `json:"created"`
	StartTime uint64    `json:"startTime"` // of Pid, from /proc/<pid>/stat: guards against pid reuse
	Owner     string    `json:"owner"`
	// CgroupPaths are kept in runtime.json (a state.json written by an
	// older oci-rt may still hold them); state.json keeps only Freezer
	CgroupPaths map[string]string `json:"cgroupPaths,omitempty"`
	// Freezer is the cgroup file that says whether the container is
	// frozen (v1 freezer.state, else cgroup2's cgroup.freeze), for state
	// and list, which read state.json alone
	Freezer string `json:"freezer,omitempty"`
	// Cgroup and Hooks are kept in runtime.json, read only by the commands
	// that need them: state and list (200 containers) stay cheap
	Cgroup *cg.Cgroup `json:"-"`
	// cgroupRaw is Cgroup as read from runtime.json, not decoded yet
	cgroupRaw json.RawMessage
	Hooks     *specs.Hooks `json:"-"`
	NewPidNs  bool         `json:"newPidNs"`
	// HostMountNs: no mount namespace of its own; its mounts are in ours
	// and go at delete
	HostMountNs bool `json:"hostMountNs,omitempty"`
	// StartFields names the config field of each op the executor runs
	// after start, from StartBase on, to word a failed start.
	StartBase   int      `json:"startBase"`
	StartFields []string `json:"startFields,omitempty"`
	// NetnsNames are the names `ns --netns-name` gave the container's
	// network namespace for ip netns: delete removes them
	NetnsNames []nsview.NetnsName `json:"netnsNames,omitempty"`
	// IntelRdt is the container's resctrl group (linux.intelRdt), kept in
	// runtime.json: exec joins it, delete removes what was made for it
	IntelRdt *intelrdt.Group `json:"-"`
}

// SpecState is the runtime-spec state document (what `state` prints and
// hooks read on stdin).
func (s *State) SpecState() specs.State {
	return specs.State{Version: specs.Version, ID: s.ID, Status: specs.ContainerState(s.Status),
		Pid: s.Pid, Bundle: s.Bundle, Annotations: s.Annotations}
}

// SetCgroupPaths records the cgroup's directories (one a hierarchy, "" the
// cgroup2 one) and the file that tells whether it is frozen.
func (s *State) SetCgroupPaths(paths map[string]string) {
	s.CgroupPaths, s.Freezer = maps.Clone(paths), ""
	if p, ok := paths["freezer"]; ok {
		s.Freezer = filepath.Join(p, "freezer.state")
	} else if p, ok := paths[""]; ok {
		s.Freezer = filepath.Join(p, "cgroup.freeze")
	}
}

// runtimeFile is what commands acting on a container need besides its
// state: the cgroup config and paths, and the hooks.
type runtimeFile struct {
	Cgroup      *cg.Cgroup        `json:"cgroup,omitempty"`
	CgroupPaths map[string]string `json:"cgroupPaths,omitempty"`
	Hooks       *specs.Hooks      `json:"hooks,omitempty"`
	IntelRdt    *intelrdt.Group   `json:"intelRdt,omitempty"`
}

func (s *State) runtimeFile() runtimeFile {
	return runtimeFile{Cgroup: s.Cgroup, CgroupPaths: s.CgroupPaths, Hooks: s.Hooks, IntelRdt: s.IntelRdt}
}

// CgroupConfig is the container's cgroup configuration (nil: no cgroup).
func (s *State) CgroupConfig() (*cg.Cgroup, error) {
	if s.Cgroup == nil && s.cgroupRaw != nil {
		var c cg.Cgroup
		if err := jsonlite.Unmarshal(s.cgroupRaw, &c); err != nil {
			return nil, fmt.Errorf("runtime.json: cgroup: %w", err)
		}
		s.Cgroup, s.cgroupRaw = &c, nil
	}
	return s.Cgroup, nil
}
