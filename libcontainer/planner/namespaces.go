// Package planner compiles an OCI runtime spec into a plan for the
// executor: clone flags, namespaces to join, id mappings, mounts and the
// process set-up, in the order the kernel needs them. Everything here that
// does not open a file is pure and unit-tested without root.
package planner

import (
	"errors"
	"fmt"
	"os"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// nsKind describes one namespace type.
type nsKind struct {
	flag int    // CLONE_NEW*
	proc string // its name under /proc/<pid>/ns
}

var nsKinds = map[specs.LinuxNamespaceType]nsKind{
	specs.PIDNamespace:     {unix.CLONE_NEWPID, "pid"},
	specs.NetworkNamespace: {unix.CLONE_NEWNET, "net"},
	specs.MountNamespace:   {unix.CLONE_NEWNS, "mnt"},
	specs.IPCNamespace:     {unix.CLONE_NEWIPC, "ipc"},
	specs.UTSNamespace:     {unix.CLONE_NEWUTS, "uts"},
	specs.UserNamespace:    {unix.CLONE_NEWUSER, "user"},
	specs.CgroupNamespace:  {unix.CLONE_NEWCGROUP, "cgroup"},
	specs.TimeNamespace:    {unix.CLONE_NEWTIME, "time"},
}

// NsTypes lists the namespace types oci-rt knows, for `features`.
func NsTypes() []string {
	return []string{"cgroup", "ipc", "mount", "network", "pid", "time", "user", "uts"}
}

// ProcName is the /proc/<pid>/ns entry of a namespace type.
func ProcName(t specs.LinuxNamespaceType) string { k, _ := nsKinds[t]; return k.proc }

// Join is a namespace entered with setns.
type Join struct {
	Type  specs.LinuxNamespaceType
	Path  string
	Field string   // e.g. linux.namespaces[2].path "/proc/42/ns/net"
	File  *os.File // opened by Open
	Fd    int      // its number in the executor, set by the launcher
	// Late: joined after the user namespace because the namespace belongs
	// to it (we need its privileges there, and lose the host's).
	Late bool
}

// Namespaces is the namespace part of a plan.
type Namespaces struct {
	New   int // CLONE_NEW* flags of namespaces to create
	Joins []Join
}

// Has tells whether the container gets its own namespace of type t, new or joined.
func (n *Namespaces) Has(t specs.LinuxNamespaceType) bool {
	return n.IsNew(t) || n.Join(t) != nil
}

// IsNew tells whether a namespace of type t is created.
func (n *Namespaces) IsNew(t specs.LinuxNamespaceType) bool {
	k, _ := nsKinds[t]
	return n.New&k.flag != 0
}

// Join returns the join of type t, or nil.
func (n *Namespaces) Join(t specs.LinuxNamespaceType) *Join {
	for i := range n.Joins {
		if n.Joins[i].Type == t {
			return &n.Joins[i]
		}
	}
	return nil
}

// ParseNamespaces validates linux.namespaces: known types, each at most once.
func ParseNamespaces(l *specs.Linux) (Namespaces, error) {
	var n Namespaces
	if l == nil {
		return n, nil
	}
	seen := map[specs.LinuxNamespaceType]int{}
	for i, ns := range l.Namespaces {
		k, ok := nsKinds[ns.Type]
		if !ok {
			return n, fmt.Errorf("linux.namespaces[%d].type %q: unknown namespace type", i, ns.Type)
		}
		if j, dup := seen[ns.Type]; dup {
			return n, fmt.Errorf("linux.namespaces[%d].type %q: the same type as linux.namespaces[%d]", i, ns.Type, j)
		}
		seen[ns.Type] = i
		if ns.Path == "" {
			n.New |= k.flag
			continue
		}
		field := fmt.Sprintf("linux.namespaces[%d].path %q", i, ns.Path)
		if !strings.HasPrefix(ns.Path, "/") {
			return n, fmt.Errorf("%s: not an absolute path", field)
		}
		n.Joins = append(n.Joins, Join{Type: ns.Type, Path: ns.Path, Field: field})
	}
	return n, nil
}

// Open opens every namespace to join and checks that it is one, of the
// right type. When the container gets a user namespace (new or joined) and
// joins another process's pid namespace, it joins that process's user
// namespace too (as Docker's --pid container:X does with user namespaces),
// unless that is our own. On error every opened file is closed.
func (n *Namespaces) Open() (err error) {
	defer func() {
		if err != nil {
			n.Close()
		}
	}()
	for i := range n.Joins {
		j := &n.Joins[i]
		if j.File, err = openNs(j.Path, j.Type, j.Field); err != nil {
			return err
		}
	}
	if err := n.followPidOwner(); err != nil {
		return err
	}
	return n.markLate()
}

// Close closes the opened namespace files.
func (n *Namespaces) Close() {
	for i := range n.Joins {
		if n.Joins[i].File != nil {
			n.Joins[i].File.Close()
			n.Joins[i].File = nil
		}
	}
}

func openNs(path string, t specs.LinuxNamespaceType, field string) (*os.File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", field, nsOpenError(path, err))
	}
	got, err := unix.IoctlRetInt(int(f.Fd()), unix.NS_GET_NSTYPE)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: not a namespace", field)
	}
	if k, _ := nsKinds[t]; got != k.flag {
		f.Close()
		return nil, fmt.Errorf("%s: a %s namespace, not %s", field, flagName(got), t)
	}
	return f, nil
}

// nsOpenError says "no such process" for a /proc/<pid>/ns path of a dead pid.
func nsOpenError(path string, err error) error {
	var pid int
	var rest string
	if errors.Is(err, os.ErrNotExist) {
		if _, e := fmt.Sscanf(path, "/proc/%d/ns/%s", &pid, &rest); e == nil {
			if _, e := os.Stat(fmt.Sprintf("/proc/%d", pid)); e != nil {
				return errors.New("no such process")
			}
		}
		return errors.New("no such file or directory")
	}
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

func flagName(flag int) string {
	for typ, k := range nsKinds {
		if k.flag == flag {
			return string(typ)
		}
	}
	return fmt.Sprintf("0x%x", flag)
}

// followPidOwner adds (or redirects) the user-namespace join to the owner of
// a joined pid namespace when the container has a user namespace of its own.
func (n *Namespaces) followPidOwner() error {
	pid := n.Join(specs.PIDNamespace)
	if pid == nil || !n.Has(specs.UserNamespace) {
		return nil
	}
	owner, err := ownerUserns(pid.File)
	if err != nil {
		return fmt.Errorf("%s: its user namespace: %w", pid.Field, err)
	}
	if same, err := sameNs(owner, "/proc/self/ns/user"); err != nil || same {
		owner.Close()
		return err
	}
	field := pid.Field + " (its user namespace)"
	if u := n.Join(specs.UserNamespace); u != nil {
		// an explicit path is kept, and must be the pid namespace's owner
		same, err := sameNs(owner, fmt.Sprintf("/proc/self/fd/%d", u.File.Fd()))
		owner.Close()
		if err != nil {
			return err
		}
		if !same {
			return fmt.Errorf("%s: not the user namespace that owns %s", u.Field, pid.Field)
		}
		return nil
	}
	n.New &^= unix.CLONE_NEWUSER
	n.Joins = append(n.Joins, Join{Type: specs.UserNamespace, Path: pid.Path, Field: field, File: owner})
	return nil
}

func ownerUserns(f *os.File) (*os.File, error) {
	fd, err := unix.IoctlRetInt(int(f.Fd()), unix.NS_GET_USERNS)
	if err != nil {
		return nil, err
	}
	return os.NewFile(uintptr(fd), "userns"), nil
}

func sameNs(f *os.File, path string) (bool, error) {
	var a, b unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &a); err != nil {
		return false, err
	}
	if err := unix.Stat(path, &b); err != nil {
		return false, err
	}
	return a.Dev == b.Dev && a.Ino == b.Ino, nil
}

// markLate decides which joins wait until the user namespace is entered:
// those owned by a user namespace that is not ours need its privileges;
// those owned by ours need ours, which we lose on entering the new one.
func (n *Namespaces) markLate() error {
	if !n.Has(specs.UserNamespace) {
		return nil
	}
	for i := range n.Joins {
		j := &n.Joins[i]
		if j.Type == specs.UserNamespace {
			continue
		}
		owner, err := ownerUserns(j.File)
		if err != nil {
			return fmt.Errorf("%s: its user namespace: %w", j.Field, err)
		}
		same, err := sameNs(owner, "/proc/self/ns/user")
		owner.Close()
		if err != nil {
			return err
		}
		j.Late = !same
	}
	return nil
}
