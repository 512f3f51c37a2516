package planner

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/oci-rt/oci-rt/libcontainer/errmsg"
	"github.com/oci-rt/oci-rt/libcontainer/intelrdt"
	"github.com/oci-rt/oci-rt/libcontainer/netdev"
)

// Validate checks what the spec says about itself, before anything is
// touched: the namespace rules of hostname and mappings, and the mappings.
func Validate(s *specs.Spec, ns *Namespaces) error {
	if s.Root == nil || s.Root.Path == "" {
		return errors.New("root.path: missing")
	}
	if v := s.Version; v != "" && !strings.HasPrefix(v, "1.") {
		return fmt.Errorf("ociVersion %q: oci-rt implements runtime-spec 1.x (up to %s)", errmsg.Value(v), specs.Version)
	}
	if err := CheckRefused(s); err != nil {
		return err
	}
	if s.Hostname != "" && !ns.Has(specs.UTSNamespace) {
		return fmt.Errorf("hostname %q: needs a new UTS namespace (linux.namespaces has none)", s.Hostname)
	}
	if s.Domainname != "" && !ns.Has(specs.UTSNamespace) {
		return fmt.Errorf("domainname %q: needs a new UTS namespace (linux.namespaces has none)", s.Domainname)
	}
	l := s.Linux
	if l == nil {
		return nil
	}
	if len(l.TimeOffsets) > 0 && !ns.IsNew(specs.TimeNamespace) {
		return errors.New("linux.timeOffsets: needs a new time namespace")
	}
	for clock := range l.TimeOffsets {
		if clock != "monotonic" && clock != "boottime" {
			return fmt.Errorf("linux.timeOffsets %q: unknown clock (monotonic or boottime)", clock)
		}
	}
	if ns.IsNew(specs.UserNamespace) {
		if len(l.UIDMappings) == 0 || len(l.GIDMappings) == 0 {
			return errors.New("linux.uidMappings, linux.gidMappings: a new user namespace needs both")
		}
	} else if ns.Join(specs.UserNamespace) == nil {
		if len(l.UIDMappings) > 0 {
			return errors.New("linux.uidMappings: given without a user namespace")
		}
		if len(l.GIDMappings) > 0 {
			return errors.New("linux.gidMappings: given without a user namespace")
		}
	}
	if l.IntelRdt != nil {
		if err := intelrdt.Validate(l.IntelRdt); err != nil {
			return err
		}
	}
	if err := checkNetDevices(l.NetDevices, ns); err != nil {
		return err
	}
	if err := checkSysctls(l.Sysctl, ns); err != nil {
		return err
	}
	if err := checkLinuxAttrs(l); err != nil {
		return err
	}
	if err := checkMappings("linux.uidMappings", l.UIDMappings); err != nil {
		return err
	}
	return checkMappings("linux.gidMappings", l.GIDMappings)
}

// checkMappings refuses empty and overlapping ranges, inside or outside.
func checkMappings(field string, m []specs.LinuxIDMapping) error {
	if len(m) > 340 {
		return fmt.Errorf("%s: %d ranges, the kernel takes at most 340", field, len(m))
	}
	for i, a := range m {
		if a.Size == 0 {
			return fmt.Errorf("%s[%d]: size 0", field, i)
		}
		for j := 0; j < i; j++ {
			b := m[j]
			if overlap(a.ContainerID, b.ContainerID, a.Size, b.Size) {
				return fmt.Errorf("%s[%d] containerID %d size %d: overlaps %s[%d] inside the container", field, i, a.ContainerID, a.Size, field, j)
			}
			if overlap(a.HostID, b.HostID, a.Size, b.Size) {
				return fmt.Errorf("%s[%d] hostID %d size %d: overlaps %s[%d] on the host", field, i, a.HostID, a.Size, field, j)
			}
		}
	}
	return nil
}

func overlap(a, b, as, bs uint32) bool {
	return uint64(a) < uint64(b)+uint64(bs) && uint64(b) < uint64(a)+uint64(as)
}

// MapsText renders mappings as /proc/<pid>/uid_map wants them.
func MapsText(m []specs.LinuxIDMapping) string {
	sorted := append([]specs.LinuxIDMapping(nil), m...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].ContainerID < sorted[j].ContainerID })
	out := ""
	for _, r := range sorted {
		out += fmt.Sprintf("%d %d %d\n", r.ContainerID, r.HostID, r.Size)
	}
	return out
}

// ipcSysctls are the sysctls of the IPC namespace.
var ipcSysctls = []string{
	"kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem",
	"kernel.shmall", "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced",
}

// SysctlNamespace is the namespace a sysctl (dots or slashes) belongs to,
// "" when it belongs to none a container may have of its own.
func SysctlNamespace(name string) specs.LinuxNamespaceType {
	name = strings.ReplaceAll(name, "/", ".")
	switch {
	case slices.Contains(ipcSysctls, name) || strings.HasPrefix(name, "fs.mqueue."):
		return specs.IPCNamespace
	case strings.HasPrefix(name, "net."):
		return specs.NetworkNamespace
	case name == "kernel.domainname":
		return specs.UTSNamespace
	case strings.HasPrefix(name, "user."):
		// the user namespace's own limits (ucounts), as runc 1.4
		return specs.UserNamespace
	}
	return ""
}

// checkSysctls allows only sysctls of namespaces the container has of its
// own: anything else would change the host (as runc refuses it).
func checkSysctls(sysctls map[string]string, ns *Namespaces) error {
	for _, k := range slices.Sorted(maps.Keys(sysctls)) {
		if strings.ReplaceAll(k, "/", ".") == "kernel.hostname" {
			return fmt.Errorf("linux.sysctl %q: use the hostname field", k)
		}
		if t := SysctlNamespace(k); t == "" || !ns.Has(t) {
			return fmt.Errorf("linux.sysctl %q: not in a namespace of the container's own", k)
		}
	}
	return nil
}

// checkNetDevices refuses device names the kernel would refuse, and
// devices for a container without a network namespace of its own.
func checkNetDevices(devs map[string]specs.LinuxNetDevice, ns *Namespaces) error {
	if len(devs) == 0 {
		return nil
	}
	if !ns.Has(specs.NetworkNamespace) {
		return errors.New("linux.netDevices: needs a network namespace of the container's (linux.namespaces has none)")
	}
	return netdev.Check(devs)
}
