// Package cgroups turns the runtime-spec's linux.cgroupsPath and
// linux.resources into a github.com/opencontainers/cgroups configuration,
// and builds the library's managers (cgroupfs v1, v2, hybrid, or systemd)
// for it, wrapped so that Set also applies what the library has no field
// for (extras.go: memory.kernelTCP).
//
// The library's own device-rule setters live in its devices package, whose
// initialisers (with github.com/cilium/ebpf's) cost every command ~1 ms of
// CPU (docs/performance.md, change 34), so this package installs its own
// (hooks.go: devices_v1.go writes devices.allow/deny, devices_v2.go attaches
// an eBPF filter). Without them every Set with device rules fails with
// cgroups.ErrDevicesUnsupported.
package cgroups

import (
	"errors"
	"fmt"
	"maps"
	"path/filepath"

	cg "github.com/opencontainers/cgroups"
	libmanager "github.com/opencontainers/cgroups/manager"
	"github.com/opencontainers/cgroups/systemd"
)

// ErrSystemdNotRunning is returned by New and Load when the config asks for
// the systemd driver on a host where systemd is not PID 1.
var ErrSystemdNotRunning = errors.New("systemd cgroup driver requested but systemd is not running")

// systemdRunning is a variable so that tests can pretend either way.
var systemdRunning = systemd.IsRunningSystemd

// New returns a manager for the config: cgroupfs v1 (joining the hybrid
// unified hierarchy too when there is one) or v2, or systemd's when
// c.Systemd is set. Nothing is created until Apply.
func New(c *cg.Cgroup) (cg.Manager, error) {
	if err := checkManagerConfig(c); err != nil {
		return nil, err
	}
	// The library's v1 managers refuse it with "invalid configuration:
	// cannot use unified on cgroup v1"; say which field.
	if len(c.Resources.Unified) > 0 && !unifiedMode() {
		return nil, fmt.Errorf("linux.resources.%w", unifiedOnV1(c.Resources.Unified))
	}
	var m cg.Manager
	var err error
	if paths := fsPaths(c, cg.IsCgroup2HybridMode()); paths != nil {
		m, err = libmanager.NewWithPaths(c, paths)
	} else {
		m, err = libmanager.New(c)
	}
	if err != nil {
		return nil, fmt.Errorf("cgroup manager: %w", err)
	}
	return manager{m}, nil
}

// Load rebuilds a manager for an existing container from the paths its
// manager's GetPaths returned when it was created, so that the cgroup is
// found again even if the host's own cgroup (relative paths) has changed.
func Load(c *cg.Cgroup, paths map[string]string) (cg.Manager, error) {
	if err := checkManagerConfig(c); err != nil {
		return nil, err
	}
	if err := CheckSavedPaths(paths); err != nil {
		return nil, err
	}
	// The manager keeps and edits the map it is given; don't share the
	// caller's.
	m, err := libmanager.NewWithPaths(c, maps.Clone(paths))
	if err != nil {
		return nil, fmt.Errorf("cgroup manager: %w", err)
	}
	return manager{m}, nil
}

func checkManagerConfig(c *cg.Cgroup) error {
	if c == nil {
		return errors.New("cgroup manager: nil cgroup config")
	}
	if c.Systemd && !systemdRunning() {
		return ErrSystemdNotRunning
	}
	// The v1 cpu, cpuset and devices controllers dereference Resources in
	// Apply; an empty set means "no limits".
	if c.Resources == nil {
		c.Resources = &cg.Resources{}
	}
	return nil
}

// CheckSavedPaths rejects what a corrupt or hand-edited state file could
// hold: with no paths the library would silently compute fresh ones, and
// a relative or unclean path could point the manager outside cgroupfs.
func CheckSavedPaths(paths map[string]string) error {
	if len(paths) == 0 {
		return errors.New("cgroup manager: no saved cgroup paths to load")
	}
	for k, p := range paths {
		if !filepath.IsAbs(p) || filepath.Clean(p) != p {
			return fmt.Errorf("cgroup manager: saved path %q=%q is not an absolute clean path", k, p)
		}
	}
	return nil
}
