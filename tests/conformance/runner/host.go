package main

import (
	"fmt"
	"maps"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/oci-rt/oci-rt/tests/conformance/runner/cgroupv1"
)

// hostFacts are the host facilities that decide whether some programs can
// pass at all (docs/conformance.md explains each failure by them): the
// host's cgroup v1 hierarchies (hugetlb, net_cls, net_prio: the cgroup
// programs read their v1 files) and those the runner mounted for the run
// because the host has none, whether the blkio controller has CFQ's
// weight files, the capabilities this runner holds (process_capabilities
// asks for all of them), and whether AppArmor is enabled.
type hostFacts struct {
	CgroupV1       []string `json:"cgroup_v1_hierarchies"`
	BlkioCFQ       bool     `json:"blkio_cfq_weight_files"`
	CapBnd         string   `json:"cap_bnd"`
	MissingCaps    []string `json:"caps_missing_from_bounding_set,omitempty"`
	AppArmor       string   `json:"apparmor"`
	CgroupUnmapped []string `json:"controllers_without_v1_hierarchy,omitempty"`
	// CgroupAdded are the hierarchies the runner mounted in its mount
	// namespace for the run (cgroupv1.Provide), CgroupNotFree the
	// controllers without one that it could not bind, with the reason.
	CgroupAdded   []string `json:"cgroup_v1_hierarchies_mounted_for_the_run,omitempty"`
	CgroupNotFree []string `json:"controllers_not_free_to_bind,omitempty"`
}

// capNames are the capabilities by number (include/uapi/linux/capability.h).
var capNames = []string{
	"CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "KILL", "SETGID", "SETUID",
	"SETPCAP", "LINUX_IMMUTABLE", "NET_BIND_SERVICE", "NET_BROADCAST", "NET_ADMIN", "NET_RAW",
	"IPC_LOCK", "IPC_OWNER", "SYS_MODULE", "SYS_RAWIO", "SYS_CHROOT", "SYS_PTRACE", "SYS_PACCT",
	"SYS_ADMIN", "SYS_BOOT", "SYS_NICE", "SYS_RESOURCE", "SYS_TIME", "SYS_TTY_CONFIG", "MKNOD",
	"LEASE", "AUDIT_WRITE", "AUDIT_CONTROL", "SETFCAP", "MAC_OVERRIDE", "MAC_ADMIN", "SYSLOG",
	"WAKE_ALARM", "BLOCK_SUSPEND", "AUDIT_READ", "PERFMON", "BPF", "CHECKPOINT_RESTORE",
}

// collectHostFacts reads the facts. It runs before the runner changes its
// mount namespace, so that the cgroup facts are the host's; the runner
// then adds what it mounted (addLayout).
func collectHostFacts() hostFacts {
	var h hostFacts
	if data, err := os.ReadFile("/proc/self/mountinfo"); err == nil {
		h.CgroupV1 = cgroupV1Hierarchies(string(data))
	}
	if data, err := os.ReadFile("/proc/cgroups"); err == nil {
		h.CgroupUnmapped = controllersWithoutHierarchy(string(data))
	}
	_, err := os.Stat("/sys/fs/cgroup/blkio/blkio.weight")
	h.BlkioCFQ = err == nil
	if data, err := os.ReadFile("/proc/self/status"); err == nil {
		h.CapBnd, h.MissingCaps = boundingSet(string(data))
	}
	h.AppArmor = "not in the kernel (no /sys/module/apparmor)"
	if data, err := os.ReadFile("/sys/module/apparmor/parameters/enabled"); err == nil {
		h.AppArmor = "enabled=" + strings.TrimSpace(string(data))
	}
	return h
}

// cgroupV1Hierarchies lists the mount points of cgroup (v1) filesystems
// below /sys/fs/cgroup, by their last path element.
func cgroupV1Hierarchies(mountinfo string) []string {
	seen := map[string]bool{}
	for _, l := range strings.Split(mountinfo, "\n") {
		pre, post, ok := strings.Cut(l, " - ")
		f, g := strings.Fields(pre), strings.Fields(post)
		if !ok || len(f) < 5 || len(g) < 1 || g[0] != "cgroup" {
			continue
		}
		if name, ok := strings.CutPrefix(cgroupv1.UnescapeMountinfo(f[4]), "/sys/fs/cgroup/"); ok {
			seen[name] = true
		}
	}
	out := make([]string, 0, len(seen))
	for n := range seen {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// controllersWithoutHierarchy lists the enabled controllers that
// /proc/cgroups puts in hierarchy 0: not mounted as cgroup v1.
func controllersWithoutHierarchy(procCgroups string) []string {
	var out []string
	for _, l := range strings.Split(procCgroups, "\n") {
		f := strings.Fields(l)
		if len(f) == 4 && !strings.HasPrefix(f[0], "#") && f[1] == "0" && f[3] == "1" {
			out = append(out, f[0])
		}
	}
	return out
}

// boundingSet returns CapBnd and the known capabilities missing from it.
func boundingSet(status string) (string, []string) {
	for _, l := range strings.Split(status, "\n") {
		hex, ok := strings.CutPrefix(l, "CapBnd:")
		if !ok {
			continue
		}
		hex = strings.TrimSpace(hex)
		v, err := strconv.ParseUint(hex, 16, 64)
		if err != nil {
			return hex, nil
		}
		var missing []string
		for i, n := range capNames {
			if v&(1<<uint(i)) == 0 {
				missing = append(missing, "CAP_"+n)
			}
		}
		return hex, missing
	}
	return "", nil
}

// addLayout records what cgroupv1.Provide mounted for the run.
func (h *hostFacts) addLayout(l *cgroupv1.Layout) {
	if l == nil {
		return
	}
	h.CgroupAdded = l.AddedNames()
	for _, c := range slices.Sorted(maps.Keys(l.NotFree)) {
		h.CgroupNotFree = append(h.CgroupNotFree, c+" ("+l.NotFree[c]+")")
	}
}

// String is the one-line summary the run prints.
func (h hostFacts) String() string {
	missing := "none"
	if len(h.MissingCaps) > 0 {
		missing = strings.Join(h.MissingCaps, ",")
	}
	unmapped := "none"
	if len(h.CgroupUnmapped) > 0 {
		unmapped = strings.Join(h.CgroupUnmapped, ",")
	}
	if len(h.CgroupAdded) > 0 {
		unmapped += " (mounted by the runner for the run: " + strings.Join(h.CgroupAdded, " ") + ")"
	}
	if len(h.CgroupNotFree) > 0 {
		unmapped += "; not free to bind: " + strings.Join(h.CgroupNotFree, ", ")
	}
	return fmt.Sprintf("cgroup v1 hierarchies: %s; no v1 hierarchy on the host: %s; blkio CFQ weight files: %v; caps missing from CapBnd %s: %s; AppArmor: %s",
		strings.Join(h.CgroupV1, ","), unmapped, h.BlkioCFQ, h.CapBnd, missing, h.AppArmor)
}
