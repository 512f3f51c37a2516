package planner

import (
	"fmt"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/oci-rt/oci-rt/libcontainer/plan"
)

// CgroupView says how a "cgroup" mount is made for this container.
type CgroupView struct {
	Unified     bool // cgroup v2 only: one hierarchy at the mount's destination
	Hierarchies []CgroupHierarchy
	// SetattrTree: the kernel has mount_setattr (5.12), so a v1 view's
	// flags are set on the whole tree at once
	SetattrTree bool
}

// CgroupHierarchy is one host hierarchy as the container sees it.
type CgroupHierarchy struct {
	Name     string // directory under the mount, e.g. "memory", "systemd", "unified"
	FsType   string // cgroup or cgroup2
	Options  string // e.g. "memory", "name=systemd"
	HostPath string // the container's cgroup in it, bound when there is no cgroup namespace
}

func addRootfs(p *plan.Plan, in *Input, joinCgroup func()) error {
	s := in.Spec
	newNs := in.Ns.IsNew(specs.MountNamespace)
	rootField := fmt.Sprintf("root.path %q", in.Rootfs)
	var finalProp uintptr // applied to the new / after pivot_root
	if newNs {
		var err error
		if finalProp, err = addRootPropagation(p, in); err != nil {
			return err
		}
	}
	p.Add(rootField, plan.OpMount, []int64{unix.MS_BIND | unix.MS_REC, plan.TargetPlain}, in.Rootfs, in.Rootfs, "", "")
	if !newNs {
		// the host's (or a joined) mount namespace: what we mount under
		// the rootfs must not spread to other namespaces
		p.Add(rootField, plan.OpMount, []int64{unix.MS_PRIVATE | unix.MS_REC, plan.TargetPlain}, "", in.Rootfs, "", "")
	}
	p.Add(rootField, plan.OpOpenRoot, nil, in.Rootfs)
	for i, m := range s.Mounts {
		if m.Type == "cgroup" || m.Type == "cgroup2" {
			joinCgroup() // its view binds the container's cgroup
		}
		if err := addMount(p, in, i, m); err != nil {
			return err
		}
	}
	joinCgroup() // device nodes are made under the container's device rules
	addDevices(p, in)
	if cwd := in.Process.Cwd; cwd != "/" && cwd != "" {
		// runc makes a missing cwd; made here, inside the rootfs, as root
		p.Add(fmt.Sprintf("process.cwd %q", cwd), plan.OpMkdir, nil, cwd)
	}
	addCreateHooks(p, in)
	switch {
	case !newNs:
		// pivot_root would change the root of every process sharing the
		// namespace: chroot, as runc does without a mount namespace
		p.Add(rootField+" (chroot: no mount namespace of its own)", plan.OpChroot, []int64{0})
	case in.NoPivot:
		p.Add(rootField+" (--no-pivot)", plan.OpChroot, []int64{1})
	default:
		p.Add(rootField+" (pivot_root)", plan.OpPivot, nil)
	}
	if finalProp != 0 {
		p.Add("linux.rootfsPropagation", plan.OpMount, []int64{int64(finalProp), plan.TargetPlain}, "", "/", "", "")
	}
	return addAfterPivot(p, in)
}

// addRootPropagation makes every mount of a new mount namespace a slave
// (or what rootfsPropagation asks), so that our mounts do not reach the
// host, and the rootfs's parent private when needed (pivot_root refuses a
// shared parent). It returns the propagation to give the new / at the end.
func addRootPropagation(p *plan.Plan, in *Input) (uintptr, error) {
	s := in.Spec
	rootProp := uintptr(unix.MS_SLAVE | unix.MS_REC)
	var finalProp uintptr
	if s.Linux != nil && s.Linux.RootfsPropagation != "" {
		f, ok := propagationFlags[s.Linux.RootfsPropagation]
		if !ok {
			return 0, fmt.Errorf("linux.rootfsPropagation %q: unknown propagation", s.Linux.RootfsPropagation)
		}
		rootProp = f
		switch {
		case f&unix.MS_UNBINDABLE != 0:
			// the rootfs must still be bound onto itself: keep the
			// host's mounts away (slave) and make / unbindable once
			// pivot_root is done
			rootProp, finalProp = unix.MS_SLAVE|unix.MS_REC, f
		case f&unix.MS_SHARED != 0:
			// the new / is a bind mount under a private parent: share
			// it again after pivot_root
			finalProp = f
		}
	}
	p.Add("linux.rootfsPropagation", plan.OpMount, []int64{int64(rootProp), plan.TargetPlain}, "", "/", "", "")
	if in.RootfsParent != "" && rootProp&(unix.MS_SHARED) != 0 {
		p.Add("linux.rootfsPropagation", plan.OpMount, []int64{unix.MS_PRIVATE, plan.TargetPlain}, "", in.RootfsParent, "", "")
	}
	return finalProp, nil
}

func addMount(p *plan.Plan, in *Input, i int, m specs.Mount) error {
	field := fmt.Sprintf("mounts[%d] destination %q", i, m.Destination)
	if !path.IsAbs(m.Destination) {
		return fmt.Errorf("%s: not an absolute path", field)
	}
	opts := parseMountOptions(m.Options)
	if m.Type == "bind" {
		opts.flags |= unix.MS_BIND
	}
	if isIdmapped(m, opts) {
		if err := checkIdmap(in, field, i, m, opts); err != nil {
			return err
		}
	}
	if m.Type == "cgroup" || m.Type == "cgroup2" {
		if err := addCgroupMount(p, in, field, m.Destination, opts); err != nil {
			return err
		}
		if opts.attrSet|opts.attrClr != 0 {
			p.Add(field, plan.OpMountSetattr, []int64{int64(opts.attrSet), int64(opts.attrClr)}, m.Destination)
		}
		return nil
	}
	if opts.flags&unix.MS_BIND != 0 {
		return addBind(p, in, field, i, m, opts)
	}
	kind := plan.TargetDir
	if j, _, ro := devMount(in.Spec.Mounts); ro && j == i {
		opts.flags &^= unix.MS_RDONLY // made read-only at the end: addDevReadonly
	}
	ints := []int64{int64(opts.flags), int64(kind), 0}
	if opts.copyUp {
		if m.Type != "tmpfs" {
			return fmt.Errorf("%s: tmpcopyup needs a tmpfs, not %q", field, m.Type)
		}
		ints[2] |= plan.MountCopyUp
	}
	if m.Type == "tmpfs" && !opts.hasMode() {
		ints[2] |= plan.MountTmpfsMode
	}
	if m.Type == "proc" || m.Type == "sysfs" {
		ints[2] |= plan.MountNoSymlinks
	}
	if ints[2] == 0 {
		ints = ints[:2]
	}
	p.Add(field, plan.OpMount, ints, m.Source, m.Destination, m.Type, labelled(opts.dataString(), m.Type, in.Spec))
	if opts.attrSet|opts.attrClr != 0 {
		p.Add(field, plan.OpMountSetattr, []int64{int64(opts.attrSet), int64(opts.attrClr)}, m.Destination)
	}
	addPropagation(p, field, m.Destination, kind, opts)
	return nil
}

// labelled adds linux.mountLabel to a mount's data as SELinux's context=
// option, on the mounts runc gives it to: not proc, sysfs, mqueue (whose
// files are labelled instead), nor the cgroup hierarchies. (A host without
// SELinux refuses the label before: see launch's checkMountLabel.)
func labelled(data, fstype string, s *specs.Spec) string {
	if s.Linux == nil || s.Linux.MountLabel == "" {
		return data
	}
	switch fstype {
	case "proc", "sysfs", "mqueue", "cgroup", "cgroup2":
		return data
	}
	return mountLabelData(data, s.Linux.MountLabel)
}

func mountLabelData(data, label string) string {
	if data != "" {
		data += ","
	}
	return data + fmt.Sprintf("context=%q", label)
}

func addBind(p *plan.Plan, in *Input, field string, i int, m specs.Mount, opts parsedMount) error {
	src := m.Source
	if src == "" {
		return fmt.Errorf("mounts[%d].source: a bind mount needs a source", i)
	}
	if !filepath.IsAbs(src) {
		src = filepath.Join(in.Bundle, src)
	}
	bindFlags := int64(opts.flags & (unix.MS_BIND | unix.MS_REC))
	kind := plan.TargetDir
	inRoot, isInRoot := InRootfs(in.Rootfs, src)
	if isInRoot && !isIdmapped(m, opts) {
		// resolved in the rootfs when mounted, after the mounts before it
		// (one may make or cover it), as the container would see it: the
		// image's symlinks stay inside (the executor makes the target as
		// the source is); one that no earlier mount touches is checked now
		if !madeByEarlierMount(in, i, inRoot) {
			if _, err := statInRoot(in.Rootfs, inRoot); err != nil {
				return fmt.Errorf("mounts[%d].source %q: %w", i, m.Source, PathReason(err))
			}
		}
		p.Add(field, plan.OpMount, []int64{bindFlags, int64(kind), plan.MountSrcInRoot}, inRoot, m.Destination, "", "")
	} else {
		st, err := statSource(src, in.Rootfs, inRoot, isInRoot)
		if err != nil {
			return fmt.Errorf("mounts[%d].source %q: %w", i, m.Source, PathReason(err))
		}
		if !st.IsDir() {
			kind = plan.TargetFile
		}
		ints := []int64{bindFlags, int64(kind)}
		switch {
		case isIdmapped(m, opts):
			// the runtime makes the tree (only a detached one takes an idmap)
			ints = append(ints, plan.MountIdmapTree, int64(i))
		case in.HostSources && in.Ns.Has(specs.UserNamespace):
			// the container's root may not reach the source: the runtime
			// opens it then
			ints = append(ints, plan.MountHostSource, int64(i))
		}
		p.Add(field, plan.OpMount, ints, src, m.Destination, "", "")
	}
	// MS_BIND alone keeps the source's flags: any flag asked, set or
	// cleared ("rw" of a read-only source), is applied by a remount, as
	// runc 1.5; in a user namespace the flags the kernel locked are kept
	// unless one of them was asked to be cleared
	if opts.flags&^(unix.MS_BIND|unix.MS_REC|unix.MS_REMOUNT) != 0 || opts.cleared != 0 {
		ints := []int64{int64(unix.MS_BIND | unix.MS_REMOUNT | opts.flags&flagsAfterBind), int64(kind), plan.MountKeepLocked}
		if cleared := opts.cleared & flagsAfterBind; cleared != 0 {
			ints = append(ints, int64(cleared))
		}
		p.Add(field, plan.OpMount, ints, "", m.Destination, "", "")
	}
	if opts.attrSet|opts.attrClr != 0 {
		p.Add(field, plan.OpMountSetattr, []int64{int64(opts.attrSet), int64(opts.attrClr)}, m.Destination)
	}
	addPropagation(p, field, m.Destination, kind, opts)
	return nil
}

// madeByEarlierMount tells whether the path inRoot of the rootfs is made
// or covered by a mount before mounts[i]: it may not exist yet, or be
// another file once that mount is made.
func madeByEarlierMount(in *Input, i int, inRoot string) bool {
	for _, m := range in.Spec.Mounts[:i] {
		if d := path.Clean(m.Destination); pathUnder(inRoot, d) || pathUnder(d, inRoot) {
			return true
		}
	}
	return false
}

// statSource stats a bind source: a host path, or one inside the rootfs
// resolved there.
func statSource(src, rootfs, inRoot string, isInRoot bool) (os.FileInfo, error) {
	if isInRoot {
		return statInRoot(rootfs, inRoot)
	}
	return os.Stat(src)
}

// statInRoot stats the path inRoot of the rootfs as the container would
// see it (openat2 RESOLVE_IN_ROOT: a symlink cannot lead out).
func statInRoot(rootfs, inRoot string) (os.FileInfo, error) {
	root, err := os.Open(rootfs)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	rel := strings.TrimLeft(inRoot, "/")
	if rel == "" {
		rel = "."
	}
	how := &unix.OpenHow{Flags: unix.O_PATH | unix.O_CLOEXEC, Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS}
	fd, err := unix.Openat2(int(root.Fd()), rel, how)
	for tries := 0; err == unix.EAGAIN && tries < 64; tries++ {
		fd, err = unix.Openat2(int(root.Fd()), rel, how)
	}
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: inRoot, Err: err}
	}
	f := os.NewFile(uintptr(fd), inRoot)
	defer f.Close()
	return f.Stat()
}

// InRootfs tells whether a bind source is inside the rootfs and returns
// its path there: such a source is resolved in the rootfs when its mount
// is made (after the mounts before it, which may make or cover it, as
// runc does in order), never through a symlink of the image that leads
// out of it.
func InRootfs(rootfs, src string) (string, bool) {
	rel, err := filepath.Rel(rootfs, src)
	if err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
		return "", false
	}
	if rel == "." {
		return "/", true
	}
	return "/" + rel, true
}

// pathUnder tells whether the clean absolute path a is dir or inside it.
func pathUnder(a, dir string) bool {
	return a == dir || dir == "/" || strings.HasPrefix(a, dir+"/")
}

func addPropagation(p *plan.Plan, field, dest string, kind int, opts parsedMount) {
	for _, f := range opts.propagation {
		p.Add(field, plan.OpMount, []int64{int64(f), int64(kind)}, "", dest, "", "")
	}
}

// addCgroupMount gives the container its cgroups at dest: on v2 one
// hierarchy; on v1 (and hybrid) a tmpfs with one directory a hierarchy.
// With a cgroup namespace each is a fresh mount rooted at the container's
// cgroup; without one the container's own cgroup directory is bound.
func addCgroupMount(p *plan.Plan, in *Input, field, dest string, opts parsedMount) error {
	ro := opts.flags&unix.MS_RDONLY != 0
	base := opts.flags & (unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC)
	newNs := in.Ns.Has(specs.CgroupNamespace)
	one := func(target string, h CgroupHierarchy) {
		if newNs {
			p.Add(field, plan.OpMount, []int64{int64(base | opts.flags&unix.MS_RDONLY), plan.TargetDir}, h.FsType, target, h.FsType, h.Options)
			return
		}
		p.Add(field, plan.OpMount, []int64{unix.MS_BIND | unix.MS_REC, plan.TargetDir}, h.HostPath, target, "", "")
		f := int64(unix.MS_BIND | unix.MS_REMOUNT | base)
		if ro {
			f |= unix.MS_RDONLY
		}
		p.Add(field, plan.OpMount, []int64{f, plan.TargetDir, plan.MountKeepLocked}, "", target, "", "")
	}
	if in.Cgroup.Unified {
		if len(in.Cgroup.Hierarchies) == 1 {
			one(dest, in.Cgroup.Hierarchies[0])
		}
		addPropagation(p, field, dest, plan.TargetDir, opts)
		return nil
	}
	p.Add(field, plan.OpMount, []int64{int64(base), plan.TargetDir}, "tmpfs", dest, "tmpfs", "mode=755")
	if !newNs && in.Cgroup.SetattrTree {
		// the hierarchies bound, then the flags set on the whole tree in
		// one mount_setattr: not a remount per hierarchy
		for _, h := range in.Cgroup.Hierarchies {
			p.Add(field, plan.OpMount, []int64{unix.MS_BIND | unix.MS_REC, plan.TargetDir}, h.HostPath, path.Join(dest, h.Name), "", "")
		}
		addCoMountLinks(p, in.Cgroup.Hierarchies, field, dest)
		attrs := mountAttrs(base)
		if ro {
			attrs |= unix.MOUNT_ATTR_RDONLY
		}
		p.Add(field, plan.OpMountSetattr, []int64{int64(attrs), 0}, dest)
		addPropagation(p, field, dest, plan.TargetDir, opts)
		return nil
	}
	for _, h := range in.Cgroup.Hierarchies {
		one(path.Join(dest, h.Name), h)
	}
	addCoMountLinks(p, in.Cgroup.Hierarchies, field, dest)
	if ro {
		p.Add(field, plan.OpMount, []int64{int64(unix.MS_REMOUNT | unix.MS_RDONLY | base), plan.TargetDir}, "tmpfs", dest, "tmpfs", "mode=755")
	}
	addPropagation(p, field, dest, plan.TargetDir, opts)
	return nil
}

// mountAttrs turns MS_NOSUID/NODEV/NOEXEC into mount_setattr's attributes.
func mountAttrs(flags uintptr) uint64 {
	var a uint64
	for _, f := range []struct {
		ms   uintptr
		attr uint64
	}{{unix.MS_NOSUID, unix.MOUNT_ATTR_NOSUID}, {unix.MS_NODEV, unix.MOUNT_ATTR_NODEV}, {unix.MS_NOEXEC, unix.MOUNT_ATTR_NOEXEC}} {
		if flags&f.ms != 0 {
			a |= f.attr
		}
	}
	return a
}

// addCoMountLinks makes, for controllers mounted together (cpu,cpuacct or
// net_cls,net_prio), a link by each controller's name, as the host has and
// runc makes: programs look for /sys/fs/cgroup/cpu or .../net_cls.
func addCoMountLinks(p *plan.Plan, hier []CgroupHierarchy, field, dest string) {
	names := make(map[string]bool, len(hier))
	for _, h := range hier {
		names[h.Name] = true
	}
	for _, h := range hier {
		if !strings.Contains(h.Name, ",") {
			continue
		}
		for _, sub := range strings.Split(h.Name, ",") {
			if !names[sub] {
				names[sub] = true
				p.Add(field, plan.OpSymlink, nil, h.Name, path.Join(dest, sub))
			}
		}
	}
}

// defaultDevices are made in every container, as runc does.
var defaultDevices = []specs.LinuxDevice{
	{Path: "/dev/null", Type: "c", Major: 1, Minor: 3},
	{Path: "/dev/zero", Type: "c", Major: 1, Minor: 5},
	{Path: "/dev/full", Type: "c", Major: 1, Minor: 7},
	{Path: "/dev/tty", Type: "c", Major: 5, Minor: 0},
	{Path: "/dev/urandom", Type: "c", Major: 1, Minor: 9},
	{Path: "/dev/random", Type: "c", Major: 1, Minor: 8},
}

func addDevices(p *plan.Plan, in *Input) {
	if devBound(in.Spec.Mounts) {
		// a /dev bound from the host (`-v /dev:/dev`) is the host's: no
		// node or link is made or replaced in it, as runc does
		return
	}
	var devs []specs.LinuxDevice
	if in.Spec.Linux != nil {
		devs = in.Spec.Linux.Devices
	}
	for i, d := range devs {
		addDevice(p, in, fmt.Sprintf("linux.devices[%d] path %q", i, d.Path), d)
	}
	for _, d := range defaultDevices {
		if !hasDevice(devs, d.Path) {
			addDevice(p, in, fmt.Sprintf("default device %s", d.Path), d)
		}
	}
	links := [][2]string{{"/proc/self/fd", "/dev/fd"}, {"/proc/self/fd/0", "/dev/stdin"},
		{"/proc/self/fd/1", "/dev/stdout"}, {"/proc/self/fd/2", "/dev/stderr"}}
	if _, err := os.Stat("/proc/kcore"); err == nil {
		links = append(links, [2]string{"/proc/kcore", "/dev/core"})
	}
	if hasMountAt(in.Spec.Mounts, "/dev/pts") && !hasDevice(devs, "/dev/ptmx") {
		links = append(links, [2]string{"pts/ptmx", "/dev/ptmx"})
	}
	for _, l := range links {
		p.Add("/dev symlink "+l[1], plan.OpSymlink, nil, l[0], l[1])
	}
}

func hasDevice(devs []specs.LinuxDevice, path string) bool {
	for _, d := range devs {
		if d.Path == path {
			return true
		}
	}
	return false
}

func hasMountAt(mounts []specs.Mount, dest string) bool {
	for _, m := range mounts {
		if path.Clean(m.Destination) == dest {
			return true
		}
	}
	return false
}

// addDevice makes a node; in a user namespace, where mknod is refused, it
// binds the host's node instead (as runc does).
func addDevice(p *plan.Plan, in *Input, field string, d specs.LinuxDevice) {
	if in.Ns.Has(specs.UserNamespace) {
		p.Add(field, plan.OpMount, []int64{unix.MS_BIND, plan.TargetFile}, d.Path, d.Path, "", "")
		return
	}
	mode := uint32(0o666)
	if d.FileMode != nil {
		mode = uint32(*d.FileMode) & 0o7777
	}
	switch d.Type {
	case "b":
		mode |= unix.S_IFBLK
	case "p":
		mode |= unix.S_IFIFO
	default:
		mode |= unix.S_IFCHR
	}
	var uid, gid uint32
	if d.UID != nil {
		uid = *d.UID
	}
	if d.GID != nil {
		gid = *d.GID
	}
	dev := unix.Mkdev(uint32(d.Major), uint32(d.Minor))
	p.Add(field, plan.OpMknod, []int64{int64(mode), int64(dev), int64(uid), int64(gid)}, d.Path)
}

// addCreateHooks asks the runtime to run createRuntime and prestart hooks
// (in its own namespaces), then runs createContainer hooks here, in the
// container's namespaces before pivot_root, as the spec orders.
func addCreateHooks(p *plan.Plan, in *Input) {
	h := in.Spec.Hooks
	if h == nil || len(h.Prestart)+len(h.CreateRuntime)+len(h.CreateContainer) == 0 {
		return
	}
	p.Add("hooks.createRuntime", plan.OpSync, []int64{plan.SyncHooks})
	for i, hk := range h.CreateContainer {
		addHook(p, fmt.Sprintf("hooks.createContainer[%d] path %q", i, hk.Path), hk)
	}
}

func addHook(p *plan.Plan, field string, h specs.Hook) {
	args := h.Args
	if len(args) == 0 {
		args = []string{h.Path}
	}
	timeout := 0
	if h.Timeout != nil {
		timeout = *h.Timeout
	}
	strs := append(append([]string{h.Path}, args...), h.Env...)
	p.Add(field, plan.OpHook, []int64{int64(timeout), int64(len(args))}, strs...)
}

// addAfterPivot does what needs the container's own view: sysctls,
// read-only and masked paths, and the read-only root.
// devMount finds a read-only /dev in mounts: it is mounted read-write,
// and made read-only once the device nodes, links and /dev/console are
// made in it (as runc does).
func devMount(mounts []specs.Mount) (int, parsedMount, bool) {
	for i, m := range mounts {
		if path.Clean(m.Destination) == "/dev" {
			// a bind (of a host directory) keeps its flags as asked
			opts := parseMountOptions(m.Options)
			bind := m.Type == "bind" || opts.flags&unix.MS_BIND != 0
			return i, opts, !bind && opts.flags&unix.MS_RDONLY != 0
		}
	}
	return -1, parsedMount{}, false
}

// devBound tells whether the config binds a directory onto /dev.
func devBound(mounts []specs.Mount) bool {
	i, opts, _ := devMount(mounts)
	return i >= 0 && (mounts[i].Type == "bind" || opts.flags&unix.MS_BIND != 0)
}

func addDevReadonly(p *plan.Plan, mounts []specs.Mount) {
	i, _, ro := devMount(mounts)
	if !ro {
		return
	}
	// the /dev mount alone (not /dev/pts, /dev/shm... under it), by fd
	p.Add(fmt.Sprintf("mounts[%d] destination %q (read-only)", i, mounts[i].Destination), plan.OpMountSetattr,
		[]int64{unix.MOUNT_ATTR_RDONLY, 0, 1}, "/dev")
}

func addAfterPivot(p *plan.Plan, in *Input) error {
	l := in.Spec.Linux
	if l != nil {
		for _, k := range slices.Sorted(maps.Keys(l.Sysctl)) {
			if strings.Contains(k, "..") || strings.ContainsAny(k, " ") {
				return fmt.Errorf("linux.sysctl %q: not a sysctl name", k)
			}
			p.Add(fmt.Sprintf("linux.sysctl %q", k), plan.OpWrite, nil,
				"/proc/sys/"+strings.ReplaceAll(k, ".", "/"), l.Sysctl[k])
		}
		for i, r := range l.ReadonlyPaths {
			p.Add(fmt.Sprintf("linux.readonlyPaths[%d] %q", i, r), plan.OpReadonly, nil, r)
		}
		for i, m := range l.MaskedPaths {
			field := fmt.Sprintf("linux.maskedPaths[%d] %q", i, m)
			if l.MountLabel != "" {
				p.Add(field, plan.OpMask, nil, m, mountLabelData("", l.MountLabel))
			} else {
				p.Add(field, plan.OpMask, nil, m)
			}
		}
	}
	// /dev/console and a read-only /dev are written while /dev and the
	// root still are writable
	addConsole(p, in)
	addDevReadonly(p, in.Spec.Mounts)
	if in.Spec.Root != nil && in.Spec.Root.Readonly {
		p.Add("root.readonly", plan.OpMount,
			[]int64{unix.MS_BIND | unix.MS_REMOUNT | unix.MS_RDONLY, plan.TargetPlain, plan.MountKeepLocked}, "", "/", "", "")
	}
	return nil
}
