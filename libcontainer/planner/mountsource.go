package planner

import (
	"errors"
	"fmt"
	"path/filepath"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

const recBind = unix.MS_BIND | unix.MS_REC

// MountSource is what the runtime opens for the container's process when
// it asks for the source of mounts[i] (plan.SyncMountSource).
type MountSource struct {
	Field  string // mounts[i] destination "..."
	Source string // absolute
	// InRoot: the source is inside the rootfs (Rootfs), at InRoot there:
	// resolved in it, as the container sees it
	Rootfs, InRoot string
	Recursive      bool // rbind
	// Idmap: a detached tree idmapped through a user namespace with
	// UIDMappings/GIDMappings, or (none given) the container's own
	Idmap, IdmapRecursive    bool
	UIDMappings, GIDMappings []specs.LinuxIDMapping
}

// MountSourceOf describes the source of mounts[i].
func MountSourceOf(s *specs.Spec, bundle string, i int) (MountSource, error) {
	if i < 0 || i >= len(s.Mounts) {
		return MountSource{}, fmt.Errorf("mounts[%d]: no such mount", i)
	}
	m := s.Mounts[i]
	opts := parseMountOptions(m.Options)
	src := m.Source
	if !filepath.IsAbs(src) {
		src = filepath.Join(bundle, src)
	}
	rootfs := ""
	if s.Root != nil {
		rootfs = s.Root.Path
		if !filepath.IsAbs(rootfs) {
			rootfs = filepath.Join(bundle, rootfs)
		}
	}
	inRoot, ok := InRootfs(rootfs, src)
	if !ok || rootfs == "" {
		rootfs, inRoot = "", ""
	}
	return MountSource{
		Field:  fmt.Sprintf("mounts[%d] destination %q", i, m.Destination),
		Source: src,
		Rootfs: rootfs, InRoot: inRoot,
		Recursive: opts.flags&recBind == recBind,
		Idmap:     isIdmapped(m, opts), IdmapRecursive: opts.idmapRec,
		UIDMappings: m.UIDMappings, GIDMappings: m.GIDMappings,
	}, nil
}

// isIdmapped: the idmap or ridmap option, or mappings of the mount's own
// (runc idmaps those without the option too).
func isIdmapped(m specs.Mount, opts parsedMount) bool {
	return opts.idmap || len(m.UIDMappings) > 0 || len(m.GIDMappings) > 0
}

// checkIdmap refuses an idmapped mount the spec forbids: not a bind, one
// of uidMappings and gidMappings without the other, overlapping ranges,
// or no mappings of its own and no user namespace to take them from.
func checkIdmap(in *Input, field string, i int, m specs.Mount, opts parsedMount) error {
	if (len(m.UIDMappings) > 0) != (len(m.GIDMappings) > 0) {
		return fmt.Errorf("mounts[%d]: uidMappings and gidMappings go together", i)
	}
	if opts.flags&unix.MS_BIND == 0 {
		return fmt.Errorf("%s: idmap: only a bind mount can be idmapped", field)
	}
	if len(m.UIDMappings) == 0 && !in.Ns.Has(specs.UserNamespace) {
		return errors.New(field + ": idmap: no uidMappings/gidMappings of the mount's own and no user namespace to take them from")
	}
	if err := checkMappings(fmt.Sprintf("mounts[%d].uidMappings", i), m.UIDMappings); err != nil {
		return err
	}
	return checkMappings(fmt.Sprintf("mounts[%d].gidMappings", i), m.GIDMappings)
}

// AsksHost tells whether the container's process asks the runtime for
// something while it mounts (network devices, idmapped trees).
func AsksHost(s *specs.Spec) bool {
	if s.Linux != nil && len(s.Linux.NetDevices) > 0 {
		return true
	}
	for _, m := range s.Mounts {
		if isIdmapped(m, parseMountOptions(m.Options)) {
			return true
		}
	}
	return false
}
