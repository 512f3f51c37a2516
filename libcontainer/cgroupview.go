package libcontainer

import (
	"path/filepath"
	"strings"

	"github.com/moby/sys/mountinfo"
	cg "github.com/opencontainers/cgroups"

	"github.com/oci-rt/oci-rt/libcontainer/specconv"
)

// cgroupView describes the host's hierarchies for a "cgroup" mount in the
// container, with the container's own cgroup in each.
func cgroupView(m cg.Manager) specconv.CgroupView {
	if m == nil {
		return specconv.CgroupView{} // rootless without a cgroup: an empty tmpfs
	}
	paths := m.GetPaths()
	if cg.IsCgroup2UnifiedMode() {
		return specconv.CgroupView{Unified: true, Hierarchies: []specconv.CgroupHierarchy{
			{FsType: "cgroup2", HostPath: paths[""]}}}
	}
	mounts, err := mountinfo.GetMounts(mountinfo.FSTypeFilter("cgroup", "cgroup2"))
	if err != nil {
		return specconv.CgroupView{}
	}
	var v specconv.CgroupView
	for _, mnt := range mounts {
		if filepath.Dir(mnt.Mountpoint) != "/sys/fs/cgroup" {
			continue
		}
		h := specconv.CgroupHierarchy{Name: filepath.Base(mnt.Mountpoint), FsType: mnt.FSType}
		if mnt.FSType == "cgroup" {
			h.Options = subsystems(mnt.VFSOptions)
			h.HostPath = hostPath(paths, h.Options)
		} else {
			h.HostPath = paths[""]
		}
		if h.HostPath != "" {
			v.Hierarchies = append(v.Hierarchies, h)
		}
	}
	return v
}

// subsystems keeps the controller names of a cgroup mount's options.
func subsystems(opts string) string {
	var keep []string
	for _, o := range strings.Split(opts, ",") {
		switch o {
		case "rw", "ro", "":
		default:
			keep = append(keep, o)
		}
	}
	return strings.Join(keep, ",")
}

func hostPath(paths map[string]string, opts string) string {
	for _, s := range strings.Split(opts, ",") {
		if p, ok := paths[s]; ok {
			return p
		}
	}
	return ""
}

// killCgroup SIGKILLs every process left in the cgroup.
func killCgroup(m cg.Manager) {
	pids, _ := m.GetAllPids()
	for _, p := range pids {
		killPid(p)
	}
}
