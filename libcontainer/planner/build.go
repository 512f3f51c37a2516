package planner

import (
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/oci-rt/oci-rt/libcontainer/plan"
)

// Input is everything Build needs besides the spec: what the launcher has
// already opened or decided, with the fd numbers the executor will see.
type Input struct {
	Spec    *specs.Spec
	Bundle  string // absolute bundle directory (relative mount sources are in it)
	Rootfs  string // absolute path of root.path
	NoPivot bool
	// NoPivotCovers (--no-pivot with a user namespace) are directories of
	// the host's procfs and sysfs mounts to cover with a tmpfs before the
	// user namespace, so that the kernel locks the covers
	NoPivotCovers []string
	// RootfsParent is the mount point holding the rootfs: made private
	// when rootfsPropagation is shared, since pivot_root refuses a shared parent.
	RootfsParent string
	Ns           Namespaces // opened, Fd of each join set
	Process      Process    // resolved process
	Cgroup       CgroupView // how /sys/fs/cgroup mounts are made
	Seccomp      *Seccomp   // compiled filter, or nil

	ContainerID  string // names the session keyring
	NoNewKeyring bool   // keep the caller's session keyring
	ConsoleFd    int    // console socket, -1 without a terminal
	PidfdFd      int    // --pidfd-socket's connection; 0 without
	// ConsoleRelayed: the pty goes to oci-rt's own relay (run, exec in
	// the foreground), which copies it to a terminal of its own: its
	// ONLCR is cleared, as runc does (a --console-socket gets it as is)
	ConsoleRelayed bool
	// CgroupTasks are the container's cgroup v1 `tasks` files: the
	// executor opens them and moves itself there first
	CgroupTasks []string
	// CgroupField names what the cgroup joined comes from in an error
	// (default linux.cgroupsPath)
	CgroupField string
	// ResctrlTasks are the `tasks` files of the container's resctrl groups
	// (linux.intelRdt), in order: the executor moves itself there first
	ResctrlTasks []string
	// CgroupLate: the plan is sent before the cgroup is made; the
	// container's process mounts what needs no cgroup first, then waits
	// for it (SyncCgroup) and joins it before the cgroup view, the device
	// nodes and the hooks
	CgroupLate bool
	// PreludeUnshared are the namespaces the executor unshared before it
	// had the plan (its prelude): the plan leaves them out
	PreludeUnshared int
	// HostSources: the runtime can open bind sources the container's user
	// namespace cannot reach (it is root)
	HostSources  bool
	StartFd      int // listening socket `start` connects to; -1 for exec (no wait)
	FirstCloseFd int // fds from here up are closed at exec (3 + preserved fds)
}

// Seccomp is a compiled filter.
type Seccomp struct {
	Program          []byte
	Flags            uint
	ListenerPath     string // SCMP_ACT_NOTIFY: where the runtime sends the listener
	ListenerMetadata string
}

// Build compiles the create (or exec) plan.
func Build(in *Input) (*plan.Plan, error) {
	p := &plan.Plan{}
	s := in.Spec
	if len(in.ResctrlTasks) > 0 {
		// written "0" (itself) like a v1 cgroup's tasks, before any mount
		// of the config's: what it forks, the payload too, stays there
		p.Add("linux.intelRdt", plan.OpJoinCgroup, nil, in.ResctrlTasks...)
	}
	// join moves the executor into the cgroup: first, or with CgroupLate
	// where the rootfs first needs it (or before the process is set up)
	join := func() {}
	if in.CgroupLate {
		joined := false
		join = func() {
			if !joined {
				joined = true
				addCgroupJoin(p, in)
			}
		}
	} else {
		addCgroupJoin(p, in)
		addFinalAffinity(p, in)
	}
	if s.Process != nil && s.Process.OOMScoreAdj != nil {
		// first, while we still have the host's privileges
		p.Add("process.oomScoreAdj", plan.OpWrite, nil, "/proc/self/oom_score_adj", fmt.Sprint(*s.Process.OOMScoreAdj))
	}
	if err := addNamespaces(p, in); err != nil {
		return nil, err
	}
	if in.StartFd >= 0 && in.Spec.Linux != nil && len(in.Spec.Linux.NetDevices) > 0 {
		// the runtime moves them in now: before the mounts, the sysctls
		// and the hooks, which may expect them
		p.Add("linux.netDevices", plan.OpSync, []int64{plan.SyncNetDevices})
	}
	p.Add("process", plan.OpSetsid, nil)
	if !in.NoNewKeyring && in.StartFd >= 0 {
		p.Add("session keyring", plan.OpKeyring, nil, in.ContainerID)
	}
	if in.StartFd >= 0 {
		if err := addRootfs(p, in, join); err != nil {
			return nil, err
		}
	}
	join()
	if in.StartFd >= 0 {
		addHostname(p, s)
	}
	if err := addProcess(p, in); err != nil {
		return nil, err
	}
	return p, nil
}

// addCgroupJoin moves the executor into the container's cgroup: at once,
// or with CgroupLate once the runtime has made it.
func addCgroupJoin(p *plan.Plan, in *Input) {
	field := fmt.Sprintf("linux.cgroupsPath %q", CgroupsPath(in.Spec))
	if in.CgroupField != "" {
		field = in.CgroupField
	}
	if in.CgroupLate {
		p.Add(field, plan.OpSync, []int64{plan.SyncCgroup})
	}
	if len(in.CgroupTasks) > 0 {
		p.Add(field, plan.OpJoinCgroup, nil, in.CgroupTasks...)
	}
	if in.CgroupLate && in.Ns.IsNew(specs.CgroupNamespace) {
		p.Add("linux.namespaces cgroup", plan.OpUnshare, []int64{unix.CLONE_NEWCGROUP})
	}
}

// addNamespaces enters the namespaces: joins the container's privileges
// allow now, the user namespace (with its id maps), the remaining joins,
// then the new namespaces; a fork puts the process in a new or joined pid
// or new time namespace.
func addNamespaces(p *plan.Plan, in *Input) error {
	ns := &in.Ns
	for _, j := range ns.Joins {
		if j.Type != specs.UserNamespace && !j.Late {
			p.Add(j.Field, plan.OpSetns, []int64{int64(j.Fd), int64(nsFlag(j.Type))})
		}
	}
	addNoPivotCovers(p, in)
	if u := ns.Join(specs.UserNamespace); u != nil {
		p.Add(u.Field, plan.OpSetns, []int64{int64(u.Fd), unix.CLONE_NEWUSER})
		p.Add(u.Field, plan.OpSetID0, nil)
	} else if ns.IsNew(specs.UserNamespace) {
		if in.PreludeUnshared&unix.CLONE_NEWUSER == 0 {
			p.Add("linux.namespaces user", plan.OpUnshare, []int64{unix.CLONE_NEWUSER})
		}
		p.Add("linux.uidMappings", plan.OpSync, []int64{plan.SyncMaps})
		p.Add("linux.uidMappings", plan.OpSetID0, nil)
	}
	for _, j := range ns.Joins {
		if j.Type != specs.UserNamespace && j.Late {
			p.Add(j.Field, plan.OpSetns, []int64{int64(j.Fd), int64(nsFlag(j.Type))})
		}
	}
	rest := ns.New &^ unix.CLONE_NEWUSER &^ in.PreludeUnshared
	if in.CgroupLate {
		// the cgroup namespace's root is the cgroup at unshare time:
		// unshared once the process is in the container's (addCgroupJoin)
		rest &^= unix.CLONE_NEWCGROUP
	}
	if rest != 0 {
		p.Add("linux.namespaces", plan.OpUnshare, []int64{int64(rest)})
	}
	if ns.IsNew(specs.TimeNamespace) && in.Spec.Linux != nil && len(in.Spec.Linux.TimeOffsets) > 0 {
		if ns.Has(specs.UserNamespace) {
			// our /proc/self is not ours to write in a user namespace
			// (we are not dumpable): the runtime writes it, as runc's
			// parent does
			p.Add("linux.timeOffsets", plan.OpSync, []int64{plan.SyncTimens})
		} else {
			p.Add("linux.timeOffsets", plan.OpWrite, nil, "/proc/self/timens_offsets", timeOffsets(in.Spec.Linux.TimeOffsets))
		}
	}
	if ns.Has(specs.PIDNamespace) || ns.IsNew(specs.TimeNamespace) {
		p.Add("linux.namespaces (entering the pid or time namespace)", plan.OpFork, nil)
	}
	return nil
}

// TimeOffsets is what linux.timeOffsets writes to timens_offsets.
func TimeOffsets(offs map[string]specs.LinuxTimeOffset) string { return timeOffsets(offs) }

// addNoPivotCovers hides part of each full procfs and sysfs mount of the
// host (--no-pivot leaves them in the container's mount namespace) under a
// tmpfs, in a mount namespace of the host's user namespace: the container's,
// made from it in its user namespace, gets the covers locked, and the
// kernel then refuses the container a procfs or sysfs mount of its own
// where it could not see one whole (runc 1.5 detaches them; a locked mount
// cannot be detached).
func addNoPivotCovers(p *plan.Plan, in *Input) {
	if len(in.NoPivotCovers) == 0 {
		return
	}
	field := "--no-pivot (the host's procfs and sysfs)"
	p.Add(field, plan.OpUnshare, []int64{unix.CLONE_NEWNS})
	p.Add(field, plan.OpMount, []int64{unix.MS_SLAVE | unix.MS_REC, plan.TargetPlain}, "", "/", "", "")
	for _, c := range in.NoPivotCovers {
		p.Add(field, plan.OpMount, []int64{unix.MS_RDONLY | unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC, plan.TargetPlain},
			"tmpfs", c, "tmpfs", "size=0,nr_inodes=1,mode=0")
	}
}

func timeOffsets(offs map[string]specs.LinuxTimeOffset) string {
	var out string
	for _, clock := range []string{"monotonic", "boottime"} {
		if o, ok := offs[clock]; ok {
			out += fmt.Sprintf("%s %d %d\n", clock, o.Secs, o.Nanosecs)
		}
	}
	return out
}

func addHostname(p *plan.Plan, s *specs.Spec) {
	if s.Hostname != "" {
		p.Add(fmt.Sprintf("hostname %q", s.Hostname), plan.OpSethostname, nil, s.Hostname)
	}
	if s.Domainname != "" {
		p.Add(fmt.Sprintf("domainname %q", s.Domainname), plan.OpSetdomainname, nil, s.Domainname)
	}
}

// CgroupsPath is linux.cgroupsPath, or "" without a linux section.
func CgroupsPath(s *specs.Spec) string {
	if s.Linux == nil {
		return ""
	}
	return s.Linux.CgroupsPath
}

// nsFlag is a namespace type's CLONE_NEW* flag.
func nsFlag(t specs.LinuxNamespaceType) int {
	return nsKinds[t].flag
}
