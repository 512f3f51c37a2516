package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"github.com/oci-rt/oci-rt/tests/conformance/runner/cgroupv1"
)

// The cgroup paths the runtime-tools programs give their containers
// (runtime-tools cgroups/cgroups.go: AbsCgroupPath, RelCgroupPath). A
// runtime removes the container's own cgroup on delete but not the
// parents it made for it (runc and crun do not either), which would stay
// on the host after the run.
const (
	programAbsCgroup = "/cgrouptest"
	programRelCgroup = "testdir/cgrouptest/container"
)

// removeProgramCgroups removes, in every hierarchy mounted under
// /sys/fs/cgroup, the directories of the programs' cgroup paths that are
// left empty: /cgrouptest, and testdir/cgrouptest/container with its
// parents below the runner's own cgroup (relative paths are taken from
// the runtime's cgroup, which is ours). Only rmdir is used: a cgroup with
// processes or children stays.
func removeProgramCgroups() {
	mi, err1 := os.ReadFile("/proc/self/mountinfo")
	own, err2 := os.ReadFile("/proc/self/cgroup")
	if err1 != nil || err2 != nil {
		return
	}
	for _, d := range programCgroupDirs(string(mi), string(own)) {
		syscall.Rmdir(d)
	}
}

// programCgroupDirs lists the directories to try, children before their
// parents.
func programCgroupDirs(mountinfo, procSelfCgroup string) []string {
	var dirs []string
	for _, l := range strings.Split(mountinfo, "\n") {
		pre, post, ok := strings.Cut(l, " - ")
		f, g := strings.Fields(pre), strings.Fields(post)
		if !ok || len(f) < 5 || len(g) < 3 || (g[0] != "cgroup" && g[0] != "cgroup2") {
			continue
		}
		point := cgroupv1.UnescapeMountinfo(f[4])
		if filepath.Dir(point) != "/sys/fs/cgroup" && point != "/sys/fs/cgroup" {
			continue
		}
		own, ok := ownCgroup(procSelfCgroup, g[0], strings.Split(g[2], ","))
		if !ok {
			continue
		}
		base := filepath.Join(point, own)
		rel := programRelCgroup
		for rel != "." {
			dirs = append(dirs, filepath.Join(base, rel))
			rel = filepath.Dir(rel)
		}
		dirs = append(dirs, filepath.Join(point, programAbsCgroup))
	}
	return dirs
}

// ownCgroup finds our cgroup in the hierarchy of a mount: the
// /proc/self/cgroup line whose controllers (or name=) are among the
// mount's super options, or the "0::" line for cgroup2.
func ownCgroup(procSelfCgroup, fstype string, super []string) (string, bool) {
	for _, l := range strings.Split(procSelfCgroup, "\n") {
		parts := strings.SplitN(l, ":", 3)
		if len(parts) != 3 {
			continue
		}
		if fstype == "cgroup2" {
			if parts[0] == "0" && parts[1] == "" {
				return parts[2], true
			}
			continue
		}
		for _, c := range strings.Split(parts[1], ",") {
			if c != "" && slices.Contains(super, c) {
				return parts[2], true
			}
		}
	}
	return "", false
}
