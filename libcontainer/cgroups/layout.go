package cgroups

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	cg "github.com/opencontainers/cgroups"
	"golang.org/x/sys/unix"
)

// The v1 layout is found without reading /proc/self/mountinfo: here that
// file costs ~0.1 ms of kernel time to read (the Go runtime already reads
// it once at start), and the library reads and parses it again whenever
// its own default-path probe fails. /proc/self/cgroup names every v1
// hierarchy the kernel has; each is taken at its conventional mount point,
// /sys/fs/cgroup/<controllers> (or <name> for a named one), once that is
// checked to be a cgroup mount. That is stricter than the library's own
// fast path (tryDefaultPath: "a mount point at /sys/fs/cgroup/<subsystem>"),
// which runc relies on. Anything else (a hierarchy mounted elsewhere or not
// at all, cgroup2 only, no cgroup fs at /sys/fs/cgroup) leaves the work to
// the library, which reads the mount table.

const cgroupRoot = "/sys/fs/cgroup"

// knownSubsystems are the v1 path keys of the library's cgroupfs manager
// (fs/fs.go: subsystems); the hybrid unified hierarchy is "".
var knownSubsystems = []string{
	"cpuset", "devices", "memory", "cpu", "cpuacct", "pids", "blkio", "hugetlb", "net_cls",
	"net_prio", "perf_event", "freezer", "rdma", "name=systemd", "misc",
}

// v1Layout is the host's v1 hierarchies as cg.GetCgroupMounts(true) would
// list them (Subsystems without "name="), or ok=false.
var v1Layout = sync.OnceValues(func() ([]cg.Mount, bool) {
	b, err := os.ReadFile("/proc/self/cgroup")
	var root unix.Stat_t
	if err != nil || unix.Lstat(cgroupRoot, &root) != nil {
		return nil, false
	}
	return conventionalLayout(b, func(p string) bool { return isCgroupMount(p, root.Dev) })
})

// conventionalLayout reads /proc/self/cgroup's lines ("id:controllers:path")
// and places each v1 hierarchy at /sys/fs/cgroup/<dir>, which isMount must
// confirm.
func conventionalLayout(procCgroup []byte, isMount func(string) bool) ([]cg.Mount, bool) {
	var mounts []cg.Mount
	for line := range bytes.Lines(procCgroup) {
		parts := strings.SplitN(strings.TrimSuffix(string(line), "\n"), ":", 3)
		if len(parts) != 3 {
			return nil, false
		}
		if parts[1] == "" {
			continue // "0::/path": cgroup2
		}
		ctrls := strings.Split(parts[1], ",")
		dir := parts[1]
		if len(ctrls) == 1 && strings.HasPrefix(dir, cg.CgroupNamePrefix) {
			dir = strings.TrimPrefix(dir, cg.CgroupNamePrefix)
		}
		mnt := filepath.Join(cgroupRoot, dir)
		if filepath.Dir(mnt) != cgroupRoot || !isMount(mnt) {
			return nil, false
		}
		for i, c := range ctrls {
			ctrls[i] = strings.TrimPrefix(c, cg.CgroupNamePrefix)
		}
		mounts = append(mounts, cg.Mount{Mountpoint: mnt, Root: "/", Subsystems: ctrls})
	}
	return mounts, len(mounts) > 0
}

// isCgroupMount: a v1 cgroup filesystem mounted right at p, a directory
// in /sys/fs/cgroup (whose device is rootDev).
func isCgroupMount(p string, rootDev uint64) bool {
	var fs unix.Statfs_t
	if unix.Statfs(p, &fs) != nil || fs.Type != unix.CGROUP_SUPER_MAGIC {
		return false
	}
	var st unix.Stat_t
	return unix.Lstat(p, &st) == nil && st.Mode&unix.S_IFMT == unix.S_IFDIR && st.Dev != rootDev
}

// fsPaths gives the cgroupfs manager's paths for c (what the library's
// initPaths computes) from the conventional layout, or nil to let the
// library look. Only absolute cgroup paths: a relative one is placed under
// our own cgroup, which needs each mount's root from the mount table.
func fsPaths(c *cg.Cgroup, hybrid bool) map[string]string {
	if c.Systemd || c.Name != "" || c.Parent != "" || !filepath.IsAbs(c.Path) || unifiedMode() {
		return nil
	}
	mounts, ok := v1Layout()
	if !ok {
		return nil
	}
	return layoutPaths(mounts, c.Path, hybrid)
}

func layoutPaths(mounts []cg.Mount, inner string, hybrid bool) map[string]string {
	paths := make(map[string]string, 16)
	for _, m := range mounts {
		for _, s := range m.Subsystems {
			if !slices.Contains(knownSubsystems, s) {
				s = cg.CgroupNamePrefix + s // "systemd" is listed without its prefix
			}
			if slices.Contains(knownSubsystems, s) {
				paths[s] = filepath.Join(m.Mountpoint, inner)
			}
		}
	}
	// without the devices controller the library refuses the config
	// (unless SkipDevices): let it say so
	if _, ok := paths["devices"]; !ok {
		return nil
	}
	if hybrid {
		paths[""] = filepath.Join(cgroupRoot, "unified", inner)
	}
	return paths
}

// V1Mounts lists the v1 hierarchies (cg.GetCgroupMounts(true)), from the
// conventional layout when it holds.
func V1Mounts() ([]cg.Mount, error) {
	if mounts, ok := v1Layout(); ok {
		return mounts, nil
	}
	return cg.GetCgroupMounts(true)
}
