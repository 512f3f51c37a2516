package launch

import (
	"fmt"
	"path/filepath"
	"strings"
	"sync"

	cg "github.com/opencontainers/cgroups"
	"golang.org/x/sys/unix"

	"github.com/oci-rt/oci-rt/libcontainer/cgroups"
	"github.com/oci-rt/oci-rt/libcontainer/planner"
)

// cgroupView describes the host's hierarchies for a "cgroup" mount in the
// container, with the container's own cgroup in each. The v1 hierarchies
// are the ones the cgroup manager was placed in (cgroups.V1Mounts: the
// conventional layout, or the mount table the library read and cached).
func cgroupView(m cg.Manager) planner.CgroupView {
	if m == nil {
		return planner.CgroupView{} // rootless without a cgroup: an empty tmpfs
	}
	paths := m.GetPaths()
	if cg.IsCgroup2UnifiedMode() {
		return planner.CgroupView{Unified: true, Hierarchies: []planner.CgroupHierarchy{
			{FsType: "cgroup2", HostPath: paths[""]}}}
	}
	mounts, err := cgroups.V1Mounts()
	if err != nil {
		return planner.CgroupView{}
	}
	v := planner.CgroupView{SetattrTree: haveMountSetattr()}
	for _, mnt := range mounts {
		if filepath.Dir(mnt.Mountpoint) != "/sys/fs/cgroup" {
			continue
		}
		h := planner.CgroupHierarchy{Name: filepath.Base(mnt.Mountpoint), FsType: "cgroup"}
		h.Options, h.HostPath = subsystems(mnt.Subsystems, paths)
		if h.HostPath != "" {
			v.Hierarchies = append(v.Hierarchies, h)
		}
	}
	if p := paths[""]; p != "" && cg.IsCgroup2HybridMode() {
		v.Hierarchies = append(v.Hierarchies, planner.CgroupHierarchy{Name: "unified", FsType: "cgroup2", HostPath: p})
	}
	return v
}

// haveMountSetattr: mount_setattr(2) came with Linux 5.12.
var haveMountSetattr = sync.OnceValue(func() bool { return kernelAtLeast(5, 12) })

func kernelAtLeast(major, minor int) bool {
	var u unix.Utsname
	if unix.Uname(&u) != nil {
		return false
	}
	var ma, mi int
	if n, _ := fmt.Sscanf(unix.ByteSliceToString(u.Release[:]), "%d.%d", &ma, &mi); n != 2 {
		return false
	}
	return ma > major || ma == major && mi >= minor
}

// subsystems gives a v1 hierarchy's mount options (its controllers; a
// named hierarchy, which the library lists without "name=", as
// "name=<name>") and the container's cgroup in it.
func subsystems(ss []string, paths map[string]string) (opts, hostPath string) {
	keep := make([]string, 0, len(ss))
	for _, s := range ss {
		if _, ok := paths[s]; !ok {
			if _, named := paths["name="+s]; named {
				s = "name=" + s
			}
		}
		keep = append(keep, s)
		if p, ok := paths[s]; ok && hostPath == "" {
			hostPath = p
		}
	}
	return strings.Join(keep, ","), hostPath
}
