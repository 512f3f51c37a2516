package launch

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/moby/sys/mountinfo"
	"github.com/moby/sys/user"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"

	"github.com/oci-rt/oci-rt/libcontainer/planner"
)

// prepare validates the spec and resolves everything that needs no state.
func (c *initProcess) prepare() (*planner.Input, error) {
	s := c.spec
	if s.Root == nil || s.Root.Path == "" {
		return nil, errors.New("root.path: missing")
	}
	rootfs := s.Root.Path
	if !filepath.IsAbs(rootfs) {
		rootfs = filepath.Join(c.opts.Bundle, rootfs)
	}
	if fi, err := os.Stat(rootfs); err != nil {
		return nil, fmt.Errorf("root.path %q: %w", s.Root.Path, planner.PathReason(err))
	} else if !fi.IsDir() {
		return nil, fmt.Errorf("root.path %q: not a directory", s.Root.Path)
	}
	ns, err := planner.ParseNamespaces(s.Linux)
	if err != nil {
		return nil, err
	}
	if err := planner.Validate(s, &ns); err != nil {
		return nil, err
	}
	if err := checkHostSysctls(s.Linux, &ns); err != nil {
		return nil, err
	}
	if err := checkMountLabel(s.Linux); err != nil {
		return nil, err
	}
	if err := c.openResctrl(); err != nil {
		return nil, err
	}
	if l := s.Linux; l != nil && l.Resources != nil && l.Resources.Memory != nil && l.Resources.Memory.Kernel != nil {
		// the runtime-spec lets runtimes ignore it (deprecated); runc warns too
		logrus.Warnf("linux.resources.memory.kernel: ignored: Linux no longer limits kernel memory on its own (memory.kmem.limit_in_bytes is deprecated and has no effect)")
	}
	proc := planner.NoProcess()
	if s.Process != nil {
		if proc, err = planner.ResolveProcess(s.Process, rootfs); err != nil {
			return nil, err
		}
		if err := checkLSM(s.Process); err != nil {
			return nil, err
		}
	}
	warnProcess(proc)
	if n := c.opts.ListenFds; n > 0 {
		proc.Env = append(proc.Env, fmt.Sprintf("LISTEN_FDS=%d", n), "LISTEN_PID=1")
	}
	if proc.Terminal && c.opts.ConsoleSocket == "" && c.opts.ConsoleConn == nil {
		return nil, errors.New("process.terminal: true needs --console-socket")
	}
	in := &planner.Input{Spec: s, Bundle: c.opts.Bundle, Rootfs: rootfs, NoPivot: c.opts.NoPivot, Process: proc,
		ContainerID: c.opts.ID, NoNewKeyring: c.opts.NoNewKeyring, HostSources: !c.opts.Rootless && os.Geteuid() == 0}
	// only a shared rootfsPropagation needs the parent mount (made private
	// for pivot_root): no mountinfo parse on every create
	if s.Linux != nil && strings.Contains(s.Linux.RootfsPropagation, "shared") {
		if in.RootfsParent, err = mountPointOf(rootfs); err != nil {
			return nil, err
		}
	}
	if in.NoPivot && ns.Has(specs.UserNamespace) && ns.IsNew(specs.MountNamespace) {
		if in.NoPivotCovers, err = noPivotCovers(rootfs); err != nil {
			return nil, fmt.Errorf("--no-pivot: %w", err)
		}
	}
	if err := c.compileSeccomp(in); err != nil {
		return nil, err
	}
	c.ns = ns
	return in, nil
}

// checkHostSysctls refuses a sysctl of a namespace joined by a path
// that is our own, the host's: net.* (as runc refuses them), and the UTS,
// IPC and user ones too, which would change the host's just the same. Only
// stats when a sysctl of a joined namespace is asked.
func checkHostSysctls(l *specs.Linux, ns *planner.Namespaces) error {
	if l == nil {
		return nil
	}
	for _, k := range slices.Sorted(maps.Keys(l.Sysctl)) {
		t := planner.SysctlNamespace(k) // one the planner allowed
		j := ns.Join(t)
		if j == nil {
			continue
		}
		var joined, ours unix.Stat_t
		if err := unix.Stat(j.Path, &joined); err != nil {
			return fmt.Errorf("%s: %w", j.Field, err)
		}
		if err := unix.Stat("/proc/self/ns/"+planner.ProcName(t), &ours); err != nil {
			return fmt.Errorf("linux.sysctl %q: our %s namespace: %w", k, t, err)
		}
		if joined.Dev == ours.Dev && joined.Ino == ours.Ino {
			return fmt.Errorf("linux.sysctl %q: not allowed in the host's %s namespace (%s)", k, t, j.Field)
		}
	}
	return nil
}

// checkLSM refuses an AppArmor profile or SELinux label that this host
// cannot apply: running the process unconfined instead would be a silent
// loss of protection.
func checkLSM(p *specs.Process) error {
	if p.ApparmorProfile != "" {
		if _, err := os.Stat("/sys/kernel/security/apparmor"); err != nil {
			return fmt.Errorf("process.apparmorProfile %q: AppArmor is not enabled on this host", p.ApparmorProfile)
		}
	}
	if p.SelinuxLabel != "" {
		if _, err := os.Stat("/sys/fs/selinux/enforce"); err != nil {
			return fmt.Errorf("process.selinuxLabel %q: SELinux is not enabled on this host", p.SelinuxLabel)
		}
	}
	return nil
}

// checkMountLabel refuses linux.mountLabel on a host without SELinux.
// runc passes it on as the context= mount option whether or not SELinux
// is on, and the kernel refuses that option without it (EINVAL at the
// first tmpfs): oci-rt says why at once.
func checkMountLabel(l *specs.Linux) error {
	if l == nil || l.MountLabel == "" {
		return nil
	}
	if _, err := os.Stat("/sys/fs/selinux/enforce"); err != nil {
		return fmt.Errorf("linux.mountLabel %q: SELinux is not enabled on this host (the label would be the context= mount option, which the kernel refuses without it)", l.MountLabel)
	}
	return nil
}

// noPivotCovers lists, for each full procfs and sysfs mount of the host
// outside the rootfs, a directory in it to cover (runc 1.5 detaches them).
// With --no-pivot they stay in the container's mount namespace, and the
// kernel lets a user namespace mount a procfs or sysfs (unmasked) where a
// full one is there, reachable or not, unless a locked mount covers part of
// it: a tmpfs made over these directories before the user namespace's
// mount namespace is, which locks it (mount_too_revealing).
func noPivotCovers(rootfs string) ([]string, error) {
	ms, err := mountinfo.GetMounts(func(m *mountinfo.Info) (bool, bool) {
		skip := m.Root != "/" || (m.FSType != "proc" && m.FSType != "sysfs") ||
			m.Mountpoint == rootfs || strings.HasPrefix(m.Mountpoint, rootfs+"/")
		return skip, false
	})
	if err != nil {
		return nil, err
	}
	var covers []string
	for _, m := range ms {
		sub := filepath.Join(m.Mountpoint, map[string]string{"proc": "sys", "sysfs": "kernel"}[m.FSType])
		if fi, err := os.Stat(sub); err == nil && fi.IsDir() {
			covers = append(covers, sub)
		}
	}
	return covers, nil
}

// mountPointOf finds the mount point holding path.
func mountPointOf(path string) (string, error) {
	mounts, err := mountinfo.GetMounts(mountinfo.ParentsFilter(path))
	if err != nil {
		return "", err
	}
	best := "/"
	for _, m := range mounts {
		if len(m.Mountpoint) > len(best) {
			best = m.Mountpoint
		}
	}
	return best, nil
}

func owner() string {
	if u, err := user.LookupUid(os.Getuid()); err == nil {
		return u.Name
	}
	return "#" + strconv.Itoa(os.Getuid())
}

// warnProcess logs what of the process is left out rather than refused:
// the runtime-spec asks for a warning, not a failure, for capabilities
// that cannot be granted.
func warnProcess(proc planner.Process) {
	if len(proc.Caps.Ignored) > 0 {
		logrus.Warnf("process.capabilities: ignoring unknown or unavailable capabilities: %s", strings.Join(proc.Caps.Ignored, ", "))
	}
	if proc.Caps.AmbientDropped != 0 {
		logrus.Warnf("process.capabilities.ambient: capabilities %#x are not both permitted and inheritable: not raised", proc.Caps.AmbientDropped)
	}
}
