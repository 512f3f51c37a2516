package cgroups

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	cg "github.com/opencontainers/cgroups"
	"github.com/opencontainers/cgroups/systemd"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

const (
	// defaultParent holds containers whose spec names no cgroupsPath.
	defaultParent = "/oci-rt"
	// defaultSlice and defaultScopePrefix are the systemd equivalents:
	// "system.slice:oci-rt:<id>" gives the unit oci-rt-<id>.scope.
	defaultSlice       = "system.slice"
	defaultScopePrefix = "oci-rt"
)

// Config turns the spec's linux.cgroupsPath and linux.resources into the
// library's cgroup config. id is the container id; it names the cgroup when
// cgroupsPath is empty ("/oci-rt/<id>", or "system.slice:oci-rt:<id>" with
// systemd). Other paths are treated as runc does: cgroupfs paths are
// cleaned, absolute ones are taken from the hierarchy roots and relative
// ones from this process's own cgroups; systemd paths must be
// "slice:prefix:name". l may be nil.
func Config(id string, l *specs.Linux, useSystemd bool) (*cg.Cgroup, error) {
	if l == nil {
		l = &specs.Linux{}
	}
	c := &cg.Cgroup{Systemd: useSystemd}
	if err := setPath(c, id, l.CgroupsPath); err != nil {
		return nil, err
	}
	res, err := resources(l.Resources, l.Devices)
	if err != nil {
		return nil, err
	}
	c.Resources = res
	return c, nil
}

func setPath(c *cg.Cgroup, id, p string) error {
	if p == "" {
		return setDefaultPath(c, id)
	}
	if c.Systemd {
		return setSystemdPath(c, p)
	}
	return setFsPath(c, p)
}

func setDefaultPath(c *cg.Cgroup, id string) error {
	// The id becomes a path component or a unit name: it must not be able
	// to climb out of the parent or be shared by every container.
	if id == "" || id == "." || id == ".." || strings.ContainsAny(id, "/\x00") {
		return fmt.Errorf("container id %q: cannot name a default cgroup (linux.cgroupsPath is empty)", id)
	}
	if c.Systemd {
		c.Parent, c.ScopePrefix, c.Name = defaultSlice, defaultScopePrefix, id
		return nil
	}
	c.Path = defaultParent + "/" + id
	return nil
}

func setFsPath(c *cg.Cgroup, p string) error {
	clean := cleanPath(p)
	// "/" is the hierarchy root and "." our own cgroup: neither is the
	// container's to limit, nor to remove on Destroy.
	if clean == "/" || clean == "." {
		return pathErr(p, "names the root cgroup or the runtime's own cgroup")
	}
	c.Path = clean
	return nil
}

func setSystemdPath(c *cg.Cgroup, p string) error {
	parts := strings.Split(p, ":")
	if len(parts) != 3 {
		return pathErr(p, `expected "slice:prefix:name" for the systemd cgroup driver`)
	}
	slice, prefix, name := parts[0], parts[1], parts[2]
	if name == "" {
		return pathErr(p, "the name part must not be empty")
	}
	if strings.Contains(prefix+name, "/") {
		return pathErr(p, "prefix and name must not contain '/'")
	}
	// An empty slice lets the driver pick its default (system.slice).
	if slice != "" {
		if _, err := systemd.ExpandSlice(slice); err != nil {
			return pathErr(p, err.Error())
		}
	}
	c.Parent, c.ScopePrefix, c.Name = slice, prefix, name
	return nil
}

func pathErr(p, msg string) error {
	return fmt.Errorf("linux.cgroupsPath %q: %s", p, msg)
}

// cleanPath is runc's utils.CleanPath: absolute paths are cleaned, and
// relative ones are cleaned as if rooted so that "../.." cannot escape the
// directory they are later joined to.
func cleanPath(p string) string {
	if filepath.IsAbs(p) {
		return filepath.Clean(p)
	}
	rooted := filepath.Clean(string(os.PathSeparator) + p)
	// Rel cannot fail: every cleaned rooted path is below "/".
	rel, _ := filepath.Rel(string(os.PathSeparator), rooted)
	return rel
}
