package cgroups

import (
	"fmt"
	"strings"

	cg "github.com/opencontainers/cgroups"
	devconfig "github.com/opencontainers/cgroups/devices/config"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// convertDevices keeps the spec's rules in their order: they are applied
// one after another on top of a deny-all state, so order matters.
func convertDevices(r *specs.LinuxResources, res *cg.Resources) error {
	for i, d := range r.Devices {
		rule, err := deviceRule(fmt.Sprintf("devices[%d]", i), d)
		if err != nil {
			return err
		}
		res.Devices = append(res.Devices, rule)
	}
	return nil
}

func deviceRule(field string, d specs.LinuxDeviceCgroup) (*devconfig.Rule, error) {
	typ, err := deviceType(field, d.Type)
	if err != nil {
		return nil, err
	}
	if d.Access == "" || strings.Trim(d.Access, "rwm") != "" {
		return nil, fieldErr(field+".access", d.Access, `must be a non-empty combination of "r", "w" and "m"`)
	}
	major, err := deviceNumber(field+".major", d.Major)
	if err != nil {
		return nil, err
	}
	minor, err := deviceNumber(field+".minor", d.Minor)
	if err != nil {
		return nil, err
	}
	return &devconfig.Rule{
		Type:        typ,
		Major:       major,
		Minor:       minor,
		Permissions: devconfig.Permissions(d.Access),
		Allow:       d.Allow,
	}, nil
}

// deviceType maps the spec's type; empty means all devices. Only the
// types the devices cgroup knows are valid (no "u" or "p" here).
func deviceType(field, t string) (devconfig.Type, error) {
	switch t {
	case "", "a":
		return devconfig.WildcardDevice, nil
	case "b":
		return devconfig.BlockDevice, nil
	case "c":
		return devconfig.CharDevice, nil
	}
	return 0, fieldErr(field+".type", t, `must be "a", "b" or "c"`)
}

// deviceNumber maps a missing number to the wildcard (-1, "*").
func deviceNumber(field string, n *int64) (int64, error) {
	if n == nil {
		return devconfig.Wildcard, nil
	}
	if *n < devconfig.Wildcard || *n > 1<<32-1 {
		return 0, fieldErr(field, *n, "must be -1 (any) or a device number")
	}
	return *n, nil
}

// AllowedDevices returns a fresh copy of runc's default device list:
// the nodes every container gets (those with a Path) and the cgroup rules
// that are appended after the spec's rules. Other packages use it to
// create the nodes; it is a copy so nobody can change the defaults.
func AllowedDevices() []*devconfig.Device {
	out := make([]*devconfig.Device, 0, len(allowedDevices))
	for _, d := range allowedDevices {
		dd := d
		out = append(out, &dd)
	}
	return out
}

// defaultRules returns the default rules that follow the spec's own, like
// runc's CreateCgroupConfig. As in runc's createDevices, a default device
// whose path the spec lists in linux.devices is dropped: the spec's entry
// replaces it, and access to it is then up to the spec's rules.
func defaultRules(specDevs []specs.LinuxDevice) []*devconfig.Rule {
	listed := make(map[string]bool, len(specDevs))
	for _, d := range specDevs {
		listed[d.Path] = true
	}
	var rules []*devconfig.Rule
	for _, d := range allowedDevices {
		if d.Path != "" && listed[d.Path] {
			continue
		}
		rule := d.Rule
		rules = append(rules, &rule)
	}
	return rules
}

// allowedDevices mirrors runc 1.2/1.3's specconv.AllowedDevices, in its
// order, including its questionable mknod-anything and /dev/net/tun rules,
// which users (via Docker and friends) have come to rely on.
var allowedDevices = []devconfig.Device{
	// mknod of any char or block device; using it still needs r/w rules.
	{Rule: charRule(devconfig.Wildcard, devconfig.Wildcard, "m")},
	{Rule: blockRule(devconfig.Wildcard, devconfig.Wildcard, "m")},
	node("/dev/null", 1, 3),
	node("/dev/random", 1, 8),
	node("/dev/full", 1, 7),
	node("/dev/tty", 5, 0),
	node("/dev/zero", 1, 5),
	node("/dev/urandom", 1, 9),
	// /dev/pts/* and /dev/ptmx: the container's devpts, not created as nodes.
	{Rule: charRule(136, devconfig.Wildcard, "rwm")},
	{Rule: charRule(5, 2, "rwm")},
	// /dev/net/tun: dropped in runc 1.2.0-rc1, restored for compatibility.
	{Rule: charRule(10, 200, "rwm")},
}

func node(path string, major, minor int64) devconfig.Device {
	return devconfig.Device{
		Path:     path,
		FileMode: 0o666,
		Rule:     charRule(major, minor, "rwm"),
	}
}

func charRule(major, minor int64, perms devconfig.Permissions) devconfig.Rule {
	return devconfig.Rule{Type: devconfig.CharDevice, Major: major, Minor: minor, Permissions: perms, Allow: true}
}

func blockRule(major, minor int64, perms devconfig.Permissions) devconfig.Rule {
	return devconfig.Rule{Type: devconfig.BlockDevice, Major: major, Minor: minor, Permissions: perms, Allow: true}
}
