// Package nsview shows a container's namespaces as the kernel sees them:
// each namespace's inode, whether the container made it, shares the
// runtime's (the host's) or joined one, which other containers are in it,
// the user namespace that owns it and the id maps. It reads /proc only
// through a directory handle of the process, checked against the start
// time the runtime recorded, so a reused pid cannot be mistaken for the
// container.
package nsview

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/oci-rt/oci-rt/libcontainer/procstat"
)

// Kinds are the namespace kinds of a process, in the order they are shown
// (the owner first). A kernel without time namespaces has no ns/time: it
// is left out.
var Kinds = []string{"user", "mnt", "pid", "net", "ipc", "uts", "cgroup", "time"}

// Origins of a namespace.
const (
	New       = "new"       // made for the container
	Host      = "host"      // the same as the runtime's (the caller's)
	Joined    = "joined"    // a path in linux.namespaces
	Inherited = "inherited" // not in linux.namespaces, yet not the caller's: created from elsewhere
	Unknown   = "unknown"   // the config's request was not recorded
)

// Asked is what linux.namespaces asked for one kind.
type Asked struct {
	Listed bool   // the kind is in linux.namespaces
	Path   string // the namespace joined; "" asks for a new one
}

// Namespace is one of the container's namespaces.
type Namespace struct {
	Type   string `json:"type"`
	Inode  uint64 `json:"inode"`
	Origin string `json:"origin"`
	// Path is the namespace the config joined
	Path string `json:"path,omitempty"`
	// SharedWith lists the other containers in this namespace
	SharedWith []string `json:"sharedWith,omitempty"`
	// Userns is the inode of the user namespace that owns this one (for
	// a user namespace, its parent); 0 when the kernel does not tell us
	// (the owner is outside the caller's user namespace)
	Userns uint64 `json:"userns,omitempty"`
	// UsernsOf names that owner: "container" (the container's own user
	// namespace), "host" (the caller's) or the id of another container
	UsernsOf string `json:"usernsOf,omitempty"`
}

// IDMap is one line of /proc/<pid>/uid_map or gid_map.
type IDMap struct {
	ContainerID uint32 `json:"containerID"`
	HostID      uint32 `json:"hostID"`
	Size        uint32 `json:"size"`
}

// Report is what Inspect finds.
type Report struct {
	ID          string      `json:"id"`
	Pid         int         `json:"pid"`
	Namespaces  []Namespace `json:"namespaces"`
	UIDMappings []IDMap     `json:"uidMappings"`
	GIDMappings []IDMap     `json:"gidMappings"`
}

// Peer is another container whose namespaces may be shared.
type Peer struct {
	ID        string
	Pid       int
	StartTime uint64 // of Pid, field 22 of /proc/<pid>/stat; 0: not checked
}

// nsID tells one namespace from another (nsfs has one device, but compare
// both as the kernel's ioctl_ns(2) advises).
type nsID struct{ dev, ino uint64 }

// Inspect reports the namespaces of container id, whose process is pid
// (started at startTime, 0 to not check). asked holds linux.namespaces by
// kind (nil: not recorded); peers are the other containers, those whose
// process is gone are skipped.
func Inspect(id string, pid int, startTime uint64, asked map[string]Asked, peers []Peer) (*Report, error) {
	proc, err := OpenProcess(pid, startTime)
	if err != nil {
		return nil, err
	}
	defer proc.Close()
	self, err := OpenProcess(unix.Getpid(), 0)
	if err != nil {
		return nil, err
	}
	defer self.Close()
	others := openPeers(peers)
	defer func() {
		for _, o := range others {
			o.proc.Close()
		}
	}()

	r := &Report{ID: id, Pid: pid}
	userns, _ := proc.nsID("user")
	hostUserns, _ := self.nsID("user")
	for _, kind := range Kinds {
		ns, err := proc.nsID(kind)
		if errors.Is(err, unix.ENOENT) {
			continue // a kernel without this kind
		}
		if err != nil {
			return nil, fmt.Errorf("namespace %s of pid %d: %w", kind, pid, err)
		}
		n := Namespace{Type: kind, Inode: ns.ino}
		host, _ := self.nsID(kind)
		n.Origin, n.Path = origin(ns == host, asked, kind)
		for _, o := range others {
			if theirs, err := o.proc.nsID(kind); err == nil && theirs == ns {
				n.SharedWith = append(n.SharedWith, o.id)
			}
		}
		if owner, err := proc.owner(kind); err == nil {
			n.Userns = owner.ino
			n.UsernsOf = ownerName(owner, userns, hostUserns, kind, others)
		}
		r.Namespaces = append(r.Namespaces, n)
	}
	if r.UIDMappings, err = proc.idMap("uid_map"); err != nil {
		return nil, err
	}
	if r.GIDMappings, err = proc.idMap("gid_map"); err != nil {
		return nil, err
	}
	// the process may have exited while we read: then some of what was
	// read may come from nothing (ESRCH) and the report is refused
	if err := proc.check(); err != nil {
		return nil, err
	}
	return r, nil
}

// origin says where a namespace comes from: the caller's is the host's
// whatever the config said; else the config's request tells.
func origin(isHost bool, asked map[string]Asked, kind string) (string, string) {
	a, recorded := asked[kind]
	switch {
	case isHost:
		return Host, a.Path
	case asked == nil:
		return Unknown, ""
	case recorded && a.Listed && a.Path != "":
		return Joined, a.Path
	case recorded && a.Listed:
		return New, ""
	default:
		return Inherited, ""
	}
}

// ownerName names the owner of a namespace of kind: the host's user
// namespace, the container's own (but a user namespace is not its own
// owner), or another container's.
func ownerName(owner, userns, host nsID, kind string, others []openPeer) string {
	switch {
	case owner == host:
		return "host"
	case owner == userns && kind != "user":
		return "container"
	}
	for _, o := range others {
		if theirs, err := o.proc.nsID("user"); err == nil && theirs == owner {
			return o.id
		}
	}
	return ""
}

type openPeer struct {
	id   string
	proc *Process
}

// openPeers opens the processes of the peers that are still running.
func openPeers(peers []Peer) []openPeer {
	var out []openPeer
	for _, p := range peers {
		if p.Pid <= 0 {
			continue
		}
		proc, err := OpenProcess(p.Pid, p.StartTime)
		if err != nil {
			continue // stopped, or its pid reused
		}
		out = append(out, openPeer{id: p.ID, proc: proc})
	}
	return out
}

// Process is a handle on /proc/<pid>: what is read through it is the
// process it was opened for, or fails with ESRCH once that one is gone.
type Process struct {
	Pid       int
	fd        int
	startTime uint64
}

// OpenProcess opens /proc/<pid> and, when startTime is not 0, checks that
// the process there started then.
func OpenProcess(pid int, startTime uint64) (*Process, error) {
	if pid <= 0 {
		return nil, fmt.Errorf("pid %d: no process", pid)
	}
	fd, err := unix.Open("/proc/"+strconv.Itoa(pid), unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("process %d: %w", pid, err)
	}
	p := &Process{Pid: pid, fd: fd, startTime: startTime}
	if err := p.check(); err != nil {
		p.Close()
		return nil, err
	}
	return p, nil
}

// Close releases the handle.
func (p *Process) Close() {
	if p.fd >= 0 {
		unix.Close(p.fd)
		p.fd = -1
	}
}

// check fails when the process has exited (a zombie has no namespaces)
// or is not the one that started at startTime.
func (p *Process) check() error {
	b, err := p.read("stat")
	if err != nil {
		return fmt.Errorf("process %d: %w", p.Pid, err)
	}
	start, state, err := procstat.Parse(b)
	if err != nil {
		return fmt.Errorf("process %d: %w", p.Pid, err)
	}
	if state == 'Z' || state == 'X' {
		return fmt.Errorf("process %d has exited", p.Pid)
	}
	if p.startTime != 0 && start != p.startTime {
		return fmt.Errorf("process %d has exited (its pid is another process's now)", p.Pid)
	}
	return nil
}

// read reads a small file under /proc/<pid>.
func (p *Process) read(name string) ([]byte, error) {
	fd, err := unix.Openat(p.fd, name, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	defer unix.Close(fd)
	buf := make([]byte, 0, 4096)
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := unix.Read(fd, buf[len(buf):cap(buf)])
		if err != nil {
			return nil, err
		}
		if n == 0 {
			return buf, nil
		}
		buf = buf[:len(buf)+n]
	}
}

// nsID identifies the process's namespace of kind.
func (p *Process) nsID(kind string) (nsID, error) {
	var st unix.Stat_t
	if err := unix.Fstatat(p.fd, "ns/"+kind, &st, 0); err != nil {
		return nsID{}, err
	}
	return nsID{dev: st.Dev, ino: st.Ino}, nil
}

// owner identifies the user namespace that owns the process's namespace of
// kind (NS_GET_USERNS; for a user namespace, its parent).
func (p *Process) owner(kind string) (nsID, error) {
	fd, err := p.OpenNs(kind)
	if err != nil {
		return nsID{}, err
	}
	defer unix.Close(fd)
	ufd, err := unix.IoctlRetInt(fd, unix.NS_GET_USERNS)
	if err != nil {
		return nsID{}, err
	}
	defer unix.Close(ufd)
	var st unix.Stat_t
	if err := unix.Fstat(ufd, &st); err != nil {
		return nsID{}, err
	}
	return nsID{dev: st.Dev, ino: st.Ino}, nil
}

// OpenNs opens the process's namespace of kind (close-on-exec).
func (p *Process) OpenNs(kind string) (int, error) {
	fd, err := unix.Openat(p.fd, "ns/"+kind, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, fmt.Errorf("namespace %s of pid %d: %w", kind, p.Pid, err)
	}
	return fd, nil
}

// idMap reads the process's uid_map or gid_map (as seen from the
// caller's user namespace).
func (p *Process) idMap(name string) ([]IDMap, error) {
	b, err := p.read(name)
	if err != nil {
		return nil, fmt.Errorf("%s of pid %d: %w", name, p.Pid, err)
	}
	return parseIDMap(string(b))
}

// parseIDMap parses the lines "inside outside count" of an id map.
func parseIDMap(s string) ([]IDMap, error) {
	var maps []IDMap
	for _, line := range strings.Split(s, "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		if len(f) != 3 {
			return nil, fmt.Errorf("id map line %q: want three numbers", line)
		}
		var n [3]uint32
		for i := range f {
			v, err := strconv.ParseUint(f[i], 10, 32)
			if err != nil {
				return nil, fmt.Errorf("id map line %q: %w", line, err)
			}
			n[i] = uint32(v)
		}
		maps = append(maps, IDMap{ContainerID: n[0], HostID: n[1], Size: n[2]})
	}
	return maps, nil
}
