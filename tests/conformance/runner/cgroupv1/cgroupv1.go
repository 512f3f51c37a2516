// Package cgroupv1 gives a private mount namespace the cgroup v1
// hierarchies a typical v1 host mounts and this host may not: a controller
// that /proc/cgroups puts in hierarchy 0 (bound to the cgroup2 hierarchy,
// or to none) and that no cgroup2 subtree_control enables can be bound to
// a v1 hierarchy of its own. systemd on a v1 host mounts "net_cls,net_prio"
// (with net_cls and net_prio symlinks), "hugetlb", "perf_event", and
// "cpu,cpuacct" when neither is mounted.
//
// Provide does it without touching the host's mount tree: the caller must
// already be in a mount namespace of its own whose /sys/fs/cgroup is not
// shared with the host. /sys/fs/cgroup (on a v1 host, a tmpfs the host
// shares: a directory made there would be seen by the host) is detached
// in that namespace and replaced by a fresh tmpfs, on which the
// namespace's v1 hierarchies are mounted again (mounting "-t cgroup" with
// a hierarchy's exact controllers attaches to that hierarchy) next to the
// new ones, with the same symlinks. The cgroup2 mount of a hybrid host is
// not mounted again.
//
// Binding a controller to a v1 hierarchy is seen host-wide while it lasts
// (/proc/cgroups, and the controller leaves the cgroup2 hierarchy's
// cgroup.controllers). Release undoes it: it removes the cgroups left in
// the new hierarchies, unmounts them, and waits until /proc/cgroups puts
// the controllers back in hierarchy 0. (A v1 hierarchy outlives its last
// mount while it has child cgroups, also ones whose removal is still
// pending: unmounting too early would leave it bound, so Release waits
// for them and, if it happens anyway, mounts it once more to let it go.)
//
// Several users on one host (conformance runs, integration tests) share
// the new hierarchies: the files under LockDir record them and serialise
// setting up and releasing; the last user to release cleans up.
package cgroupv1

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Root is where the hierarchies are mounted.
const Root = "/sys/fs/cgroup"

// LockDir holds the lock files and the record of the hierarchies bound by
// the users of this package on this host.
const LockDir = "/run/oci-rt-cgroupv1"

// ErrNotV1 is returned when Root is not a tmpfs of v1 hierarchies (a pure
// cgroup v2 host, or no cgroups at all).
var ErrNotV1 = errors.New(Root + " is not a cgroup v1 layout (a tmpfs of v1 hierarchies)")

// ErrInUse is returned by ExclusiveV2 while a user of Provide holds v1
// hierarchies.
var ErrInUse = errors.New("cgroup v1 hierarchies provided by a conformance run or test are in use")

// Hierarchy is one v1 hierarchy mounted at Root/Dir.
type Hierarchy struct {
	Dir         string   `json:"dir"`                   // e.g. "hugetlb", "net_cls,net_prio", "systemd"
	Controllers []string `json:"controllers,omitempty"` // the subsystems bound to it
	Options     string   `json:"options"`               // the mount data, e.g. "net_cls,net_prio", "name=systemd"
	Links       []string `json:"links,omitempty"`       // symlinks to Dir made next to it, e.g. "net_cls"
	flags       uintptr
	dev         string // major:minor of the original mount (kept hierarchies)
}

// Layout is what Provide set up.
type Layout struct {
	// Kept are the namespace's own v1 hierarchies, mounted again.
	Kept []Hierarchy `json:"kept"`
	// Added are the hierarchies made for controllers that had none.
	Added []Hierarchy `json:"added"`
	// NotFree are the controllers without a v1 hierarchy that were left
	// so, with the reason.
	NotFree map[string]string `json:"not_free,omitempty"`

	mu           sync.Mutex // Release may be called from a signal handler too
	mutex, users *os.File
}

// AddedNames lists the Dir of each added hierarchy.
func (l *Layout) AddedNames() []string {
	if l == nil {
		return nil
	}
	var out []string
	for _, h := range l.Added {
		out = append(out, h.Dir)
	}
	return out
}

// Has says whether a controller has a v1 hierarchy in the layout.
func (l *Layout) Has(controller string) bool {
	if l == nil {
		return false
	}
	for _, h := range append(slices.Clone(l.Kept), l.Added...) {
		if slices.Contains(h.Controllers, controller) {
			return true
		}
	}
	return false
}

// controller is one line of /proc/cgroups.
type controller struct {
	name      string
	hierarchy int
	cgroups   int
	enabled   bool
}

func readProcCgroups() (map[string]controller, []string, error) {
	data, err := os.ReadFile("/proc/cgroups")
	if err != nil {
		return nil, nil, err
	}
	return parseProcCgroups(string(data))
}

// parseProcCgroups returns the controllers by name and their names in
// /proc/cgroups order.
func parseProcCgroups(text string) (map[string]controller, []string, error) {
	m := map[string]controller{}
	var order []string
	for _, l := range strings.Split(text, "\n") {
		f := strings.Fields(l)
		if len(f) != 4 || strings.HasPrefix(f[0], "#") {
			continue
		}
		h, err1 := strconv.Atoi(f[1])
		n, err2 := strconv.Atoi(f[2])
		if err1 != nil || err2 != nil {
			return nil, nil, fmt.Errorf("/proc/cgroups: bad line %q", l)
		}
		m[f[0]] = controller{name: f[0], hierarchy: h, cgroups: n, enabled: f[3] == "1"}
		order = append(order, f[0])
	}
	return m, order, nil
}

// mountEntry is one line of /proc/self/mountinfo.
type mountEntry struct {
	dev, root, point, opts, optional, fstype, source, super string
}

func readMountinfo() ([]mountEntry, error) {
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return nil, err
	}
	return parseMountinfo(string(data)), nil
}

func parseMountinfo(text string) []mountEntry {
	var out []mountEntry
	for _, l := range strings.Split(text, "\n") {
		pre, post, ok := strings.Cut(l, " - ")
		f, g := strings.Fields(pre), strings.Fields(post)
		if !ok || len(f) < 6 || len(g) < 3 {
			continue
		}
		out = append(out, mountEntry{dev: f[2], root: UnescapeMountinfo(f[3]), point: UnescapeMountinfo(f[4]), opts: f[5],
			optional: strings.Join(f[6:], " "), fstype: g[0], source: g[1], super: g[2]})
	}
	return out
}

// UnescapeMountinfo undoes mountinfo's octal escapes (\040 for a space).
func UnescapeMountinfo(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// mountFlags turns a mount's per-mount options into mount(2) flags.
func mountFlags(opts string) uintptr {
	var fl uintptr
	for _, o := range strings.Split(opts, ",") {
		switch o {
		case "ro":
			fl |= unix.MS_RDONLY
		case "nosuid":
			fl |= unix.MS_NOSUID
		case "nodev":
			fl |= unix.MS_NODEV
		case "noexec":
			fl |= unix.MS_NOEXEC
		case "noatime":
			fl |= unix.MS_NOATIME
		case "nodiratime":
			fl |= unix.MS_NODIRATIME
		case "relatime":
			fl |= unix.MS_RELATIME
		case "strictatime":
			fl |= unix.MS_STRICTATIME
		}
	}
	return fl
}

// superControllers splits a cgroup mount's super options into its
// controllers and the mount data that attaches to the same hierarchy
// (controllers, name=, and options such as xattr; not rw/ro).
func superControllers(super string, known map[string]controller) (ctrls []string, data string) {
	var keep []string
	for _, o := range strings.Split(super, ",") {
		switch {
		case o == "rw" || o == "ro" || o == "":
			continue
		case known[o].name != "":
			ctrls = append(ctrls, o)
		}
		keep = append(keep, o)
	}
	return ctrls, strings.Join(keep, ",")
}

// groupFree groups the free controllers as systemd mounts them:
// cpu,cpuacct and net_cls,net_prio together (when both are free), the
// others alone, in /proc/cgroups order.
func groupFree(free []string) [][]string {
	pairs := [][2]string{{"cpu", "cpuacct"}, {"net_cls", "net_prio"}}
	done := map[string]bool{}
	var out [][]string
	for _, c := range free {
		if done[c] {
			continue
		}
		group := []string{c}
		for _, p := range pairs {
			other := ""
			if c == p[0] {
				other = p[1]
			} else if c == p[1] {
				other = p[0]
			}
			if other != "" && slices.Contains(free, other) {
				group = []string{p[0], p[1]}
			}
		}
		for _, g := range group {
			done[g] = true
		}
		out = append(out, group)
	}
	return out
}

// record is the state file: the hierarchies users of this package bound.
type record struct {
	Hierarchies []recorded `json:"hierarchies"`
}

type recorded struct {
	Controllers []string `json:"controllers"`
	ID          int      `json:"id"` // the hierarchy number in /proc/cgroups
}

func statePath() string { return filepath.Join(LockDir, "bound.json") }

func readRecord() record {
	var r record
	if data, err := os.ReadFile(statePath()); err == nil {
		json.Unmarshal(data, &r)
	}
	return r
}

func writeRecord(r record) error {
	if len(r.Hierarchies) == 0 {
		err := os.Remove(statePath())
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return err
	}
	data, err := json.Marshal(r)
	if err != nil {
		return err
	}
	tmp := statePath() + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, statePath())
}

// recordedGroup returns the recorded hierarchy holding c, if /proc/cgroups
// still has c bound to it.
func (r record) recordedGroup(c string, ctrls map[string]controller) *recorded {
	for i, h := range r.Hierarchies {
		if slices.Contains(h.Controllers, c) && ctrls[c].hierarchy == h.ID && h.ID != 0 {
			return &r.Hierarchies[i]
		}
	}
	return nil
}

func openLock(name string) (*os.File, error) {
	if err := os.MkdirAll(LockDir, 0o700); err != nil {
		return nil, err
	}
	return os.OpenFile(filepath.Join(LockDir, name), os.O_CREATE|os.O_RDWR, 0o600)
}

func flock(f *os.File, how int) error {
	for {
		err := unix.Flock(int(f.Fd()), how)
		if err != unix.EINTR {
			return err
		}
	}
}

// checkPrivate refuses to work in the mount namespace of the parent
// process (the host's, as far as we can tell) or with a shared Root.
func checkPrivate(mounts []mountEntry) error {
	self, err := os.Readlink("/proc/self/ns/mnt")
	if err != nil {
		return err
	}
	// (A parent we may not inspect, such as an init we were reparented
	// to, is not the caller that unshared.)
	if parent, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/mnt", os.Getppid())); err == nil && self == parent {
		return fmt.Errorf("cgroup v1 layout: the caller is in its parent's mount namespace (%s): unshare one first", self)
	}
	for _, m := range mounts {
		if (m.point == Root || m.point == "/sys" || m.point == "/") && strings.Contains(m.optional, "shared:") {
			return fmt.Errorf("cgroup v1 layout: %s is a shared mount (%s): make the namespace private first", m.point, m.optional)
		}
	}
	return nil
}

// Provide sets up the layout in the caller's private mount namespace and
// returns it; Release undoes what it changed outside the namespace. When
// every enabled controller already has a hierarchy, nothing is changed
// (Added is empty). ErrNotV1 says the host is not a v1 host.
func Provide() (*Layout, error) {
	mounts, err := readMountinfo()
	if err != nil {
		return nil, err
	}
	if err := checkPrivate(mounts); err != nil {
		return nil, err
	}
	l := &Layout{NotFree: map[string]string{}}
	if l.mutex, err = openLock("mutex"); err != nil {
		return nil, err
	}
	if l.users, err = openLock("users"); err != nil {
		l.mutex.Close()
		return nil, err
	}
	if err := flock(l.mutex, unix.LOCK_EX); err != nil {
		l.close()
		return nil, err
	}
	if err := flock(l.users, unix.LOCK_SH); err != nil {
		l.close()
		return nil, err
	}
	err = l.setup(mounts)
	if err != nil {
		l.releaseLocked()
		l.close()
		return nil, err
	}
	flock(l.mutex, unix.LOCK_UN)
	return l, nil
}

func (l *Layout) close() {
	l.mutex.Close() // closing drops the locks
	l.users.Close()
}

// setup runs with the mutex held.
func (l *Layout) setup(mounts []mountEntry) error {
	ctrls, order, err := readProcCgroups()
	if err != nil {
		return err
	}
	var rootMount *mountEntry
	var subtree []string
	mounted := map[string]bool{}
	for i := range mounts {
		m := &mounts[i]
		switch {
		case m.point == Root:
			rootMount = m
		case filepath.Dir(m.point) != Root:
			if strings.HasPrefix(m.point, Root+"/") {
				return fmt.Errorf("cgroup v1 layout: unexpected mount %s (%s) below a hierarchy", m.point, m.fstype)
			}
		case m.fstype == "cgroup":
			cs, data := superControllers(m.super, ctrls)
			for _, c := range cs {
				mounted[c] = true
			}
			l.Kept = append(l.Kept, Hierarchy{Dir: filepath.Base(m.point), Controllers: cs, Options: data,
				flags: mountFlags(m.opts), dev: m.dev})
		case m.fstype == "cgroup2":
			if m.root == "/" {
				if b, err := os.ReadFile(filepath.Join(m.point, "cgroup.subtree_control")); err == nil {
					subtree = append(subtree, strings.Fields(string(b))...)
				}
			}
		default:
			return fmt.Errorf("cgroup v1 layout: unexpected %s mount at %s", m.fstype, m.point)
		}
	}
	if rootMount == nil || rootMount.fstype != "tmpfs" || len(l.Kept) == 0 {
		return ErrNotV1
	}
	// Later mounts on the same point hide earlier ones: keep the last.
	l.Kept = lastByDir(l.Kept)

	rec := readRecord()
	var free []string
	attach := map[int][]string{}
	for _, name := range order {
		c := ctrls[name]
		if !c.enabled || mounted[name] {
			continue
		}
		switch {
		case c.hierarchy == 0 && slices.Contains(subtree, name):
			l.NotFree[name] = "enabled in the cgroup2 root's cgroup.subtree_control"
		case c.hierarchy == 0:
			free = append(free, name)
		case rec.recordedGroup(name, ctrls) != nil:
			g := rec.recordedGroup(name, ctrls)
			attach[g.ID] = g.Controllers
		default:
			l.NotFree[name] = fmt.Sprintf("bound to v1 hierarchy %d, which is not mounted here", c.hierarchy)
		}
	}
	var groups [][]string
	for _, g := range attach {
		groups = append(groups, g)
	}
	sort.Slice(groups, func(i, j int) bool { return groups[i][0] < groups[j][0] })
	groups = append(groups, groupFree(free)...)
	if len(groups) == 0 {
		return nil // nothing to add: leave the namespace as it is
	}
	links, err := rootLinks()
	if err != nil {
		return err
	}

	// Detach the old tree (in this namespace only) and build the new one.
	if err := unix.Unmount(Root, unix.MNT_DETACH); err != nil {
		return fmt.Errorf("umount %s: %w", Root, err)
	}
	if err := unix.Mount("tmpfs", Root, "tmpfs", mountFlags(rootMount.opts), "mode=755"); err != nil {
		return fmt.Errorf("mount tmpfs on %s: %w", Root, err)
	}
	for _, h := range l.Kept {
		if err := mountHierarchy(h); err != nil {
			return err
		}
	}
	if err := checkSameHierarchies(l.Kept); err != nil {
		return err
	}
	for name, target := range links {
		if err := os.Symlink(target, filepath.Join(Root, name)); err != nil {
			return err
		}
	}
	for _, g := range groups {
		h := Hierarchy{Dir: strings.Join(g, ","), Controllers: g, Options: strings.Join(g, ","),
			flags: unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC | unix.MS_RELATIME}
		if len(g) > 1 {
			h.Links = g
		}
		if err := mountBusyRetry(h); err != nil {
			if errors.Is(err, unix.EBUSY) {
				for _, c := range g {
					l.NotFree[c] = "the kernel refused to bind it (EBUSY: in use in another hierarchy)"
				}
				os.Remove(filepath.Join(Root, h.Dir))
				continue
			}
			return err
		}
		l.Added = append(l.Added, h)
		for _, link := range h.Links {
			if err := os.Symlink(h.Dir, filepath.Join(Root, link)); err != nil {
				return err
			}
		}
	}
	return l.recordAdded()
}

// lastByDir keeps, for each Dir, the last hierarchy listed.
func lastByDir(hs []Hierarchy) []Hierarchy {
	var out []Hierarchy
	for i, h := range hs {
		later := false
		for _, o := range hs[i+1:] {
			later = later || o.Dir == h.Dir
		}
		if !later {
			out = append(out, h)
		}
	}
	return out
}

// rootLinks returns the symlinks directly in Root (e.g. cpu -> cpu,cpuacct).
func rootLinks() (map[string]string, error) {
	entries, err := os.ReadDir(Root)
	if err != nil {
		return nil, err
	}
	links := map[string]string{}
	for _, e := range entries {
		if e.Type()&fs.ModeSymlink == 0 {
			continue
		}
		t, err := os.Readlink(filepath.Join(Root, e.Name()))
		if err != nil {
			return nil, err
		}
		links[e.Name()] = t
	}
	return links, nil
}

func mountHierarchy(h Hierarchy) error {
	dir := filepath.Join(Root, h.Dir)
	if err := os.Mkdir(dir, 0o555); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	if err := unix.Mount("cgroup", dir, "cgroup", h.flags, h.Options); err != nil {
		return fmt.Errorf("mount -t cgroup -o %s cgroup %s: %w", h.Options, dir, err)
	}
	return nil
}

// mountBusyRetry mounts a new hierarchy, retrying for a while on EBUSY: a
// controller just disabled in a cgroup2 subtree_control (or a v1
// hierarchy just unmounted) is released by the kernel asynchronously, and
// cannot be bound until its cgroups there are gone. The integration tests
// that run just before it in CI enable hugetlb in the host's cgroup2 tree
// and disable it again; its dying cgroups have been seen to take longer
// than 5 s to go on a loaded machine.
func mountBusyRetry(h Hierarchy) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := mountHierarchy(h)
		if !errors.Is(err, unix.EBUSY) || time.Now().After(deadline) {
			return err
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// checkSameHierarchies: a kept hierarchy mounted again must be the same
// superblock (device number) as before, not a new hierarchy.
func checkSameHierarchies(kept []Hierarchy) error {
	mounts, err := readMountinfo()
	if err != nil {
		return err
	}
	for _, h := range kept {
		dir := filepath.Join(Root, h.Dir)
		dev := ""
		for _, m := range mounts {
			if m.point == dir {
				dev = m.dev
			}
		}
		if dev != h.dev {
			return fmt.Errorf("cgroup v1 layout: %s mounted again is device %s, was %s: not the same hierarchy", dir, dev, h.dev)
		}
	}
	return nil
}

// recordAdded notes the hierarchy numbers of the added hierarchies.
func (l *Layout) recordAdded() error {
	if len(l.Added) == 0 {
		return nil
	}
	ctrls, _, err := readProcCgroups()
	if err != nil {
		return err
	}
	rec := readRecord()
	for _, h := range l.Added {
		id := ctrls[h.Controllers[0]].hierarchy
		if id == 0 {
			return fmt.Errorf("cgroup v1 layout: %s is mounted but /proc/cgroups shows no hierarchy for it", h.Dir)
		}
		rec.Hierarchies = slices.DeleteFunc(rec.Hierarchies, func(r recorded) bool { return r.ID == id })
		rec.Hierarchies = append(rec.Hierarchies, recorded{Controllers: h.Controllers, ID: id})
	}
	return writeRecord(rec)
}

// Release unmounts the added hierarchies; the last user of them on the
// host also removes the cgroups left in them (killing any process still
// there) and waits until the kernel has let the controllers go. It
// returns notes on what it cleaned up, and an error when a controller
// stays bound to a v1 hierarchy.
func (l *Layout) Release() ([]string, error) {
	if l == nil {
		return nil, nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.mutex == nil {
		return nil, nil
	}
	if err := flock(l.mutex, unix.LOCK_EX); err != nil {
		return nil, err
	}
	notes, err := l.releaseLocked()
	l.close()
	l.mutex, l.users = nil, nil
	return notes, err
}

func (l *Layout) releaseLocked() ([]string, error) {
	if len(l.Added) == 0 {
		return nil, nil
	}
	// Converting our shared lock fails while another user holds one.
	last := unix.Flock(int(l.users.Fd()), unix.LOCK_EX|unix.LOCK_NB) == nil
	var notes []string
	var errs []error
	rec := readRecord()
	for _, h := range l.Added {
		dir := filepath.Join(Root, h.Dir)
		if !last {
			unix.Unmount(dir, unix.MNT_DETACH)
			continue
		}
		n, err := releaseHierarchy(h)
		notes = append(notes, n...)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		rec.Hierarchies = slices.DeleteFunc(rec.Hierarchies, func(r recorded) bool {
			return slices.Equal(r.Controllers, h.Controllers)
		})
	}
	if last {
		if err := writeRecord(rec); err != nil {
			errs = append(errs, err)
		}
	}
	return notes, errors.Join(errs...)
}

// releaseHierarchy empties one added hierarchy, unmounts it and waits for
// the kernel to return its controllers to hierarchy 0.
func releaseHierarchy(h Hierarchy) ([]string, error) {
	dir := filepath.Join(Root, h.Dir)
	notes := removeChildren(dir)
	waitCgroups(h.Controllers, func(c controller) bool { return c.cgroups <= 1 }, 10*time.Second)
	if err := unix.Unmount(dir, 0); err != nil {
		unix.Unmount(dir, unix.MNT_DETACH)
	}
	unbound := func(c controller) bool { return c.hierarchy == 0 }
	if waitCgroups(h.Controllers, unbound, 5*time.Second) {
		return notes, nil
	}
	// Still bound: a child went only after the unmount. Mount it once
	// more and let it go again.
	if err := mountHierarchy(h); err == nil {
		notes = append(notes, removeChildren(dir)...)
		waitCgroups(h.Controllers, func(c controller) bool { return c.cgroups <= 1 }, 10*time.Second)
		unix.Unmount(dir, unix.MNT_DETACH)
		if waitCgroups(h.Controllers, unbound, 5*time.Second) {
			return append(notes, h.Dir+": released on a second unmount"), nil
		}
	}
	ctrls, _, _ := readProcCgroups()
	return notes, fmt.Errorf("cgroup v1 layout: %s stays bound to v1 hierarchy %d (%d cgroups) after its release",
		h.Dir, ctrls[h.Controllers[0]].hierarchy, ctrls[h.Controllers[0]].cgroups)
}

// removeChildren removes every cgroup below dir, deepest first, killing
// the processes still in them, and says what it removed.
func removeChildren(dir string) []string {
	var dirs []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() && p != dir {
			dirs = append(dirs, p)
		}
		return nil
	})
	var notes []string
	for i := len(dirs) - 1; i >= 0; i-- {
		p := dirs[i]
		rel, _ := filepath.Rel(Root, p)
		if err := unix.Rmdir(p); err == nil {
			notes = append(notes, "removed left-over cgroup "+rel)
			continue
		}
		procs, _ := os.ReadFile(filepath.Join(p, "cgroup.procs"))
		pids := strings.Fields(string(procs))
		for _, s := range pids {
			if pid, err := strconv.Atoi(s); err == nil {
				syscall.Kill(pid, syscall.SIGKILL)
			}
		}
		var err error
		for t := 0; t < 100; t++ {
			if err = unix.Rmdir(p); err == nil || !errors.Is(err, unix.EBUSY) {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		if err != nil {
			notes = append(notes, fmt.Sprintf("could not remove left-over cgroup %s (pids %v): %v", rel, pids, err))
		} else {
			notes = append(notes, fmt.Sprintf("removed left-over cgroup %s, killing pids %v", rel, pids))
		}
	}
	return notes
}

// waitCgroups polls /proc/cgroups until ok holds for every controller.
func waitCgroups(names []string, ok func(controller) bool, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for {
		ctrls, _, err := readProcCgroups()
		all := err == nil
		for _, n := range names {
			all = all && ok(ctrls[n])
		}
		if all {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// ExclusiveV2 is for users that need the controllers on the cgroup2
// hierarchy (pure cgroup v2 tests): it fails with ErrInUse while a user of
// Provide holds hierarchies, and otherwise keeps them from binding any
// until release is called.
func ExclusiveV2() (release func(), err error) {
	mutex, err := openLock("mutex")
	if err != nil {
		return nil, err
	}
	defer mutex.Close()
	if err := flock(mutex, unix.LOCK_EX); err != nil {
		return nil, err
	}
	users, err := openLock("users")
	if err != nil {
		return nil, err
	}
	if err := unix.Flock(int(users.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		users.Close()
		return nil, ErrInUse
	}
	return func() { users.Close() }, nil
}
