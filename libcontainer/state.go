package libcontainer

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/opencontainers/cgroups"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/oci-rt/oci-rt/libcontainer/jsonlite"
)

// Status values, as the runtime spec names them.
const (
	Creating = "creating"
	Created  = "created"
	Running  = "running"
	Stopped  = "stopped"
	Paused   = "paused"
)

// ErrNotExist is returned for an unknown id; its text is what the shims
// match ("container does not exist").
var ErrNotExist = errors.New("container does not exist")

// State is what oci-rt keeps on disk for a container (state.json).
type State struct {
	OCIVersion  string            `json:"ociVersion"`
	ID          string            `json:"id"`
	Status      string            `json:"status"`
	Pid         int               `json:"pid"`
	Bundle      string            `json:"bundle"`
	Annotations map[string]string `json:"annotations,omitempty"`

	Rootfs    string    `json:"rootfs"`
	Created   time.Time `json:"created"`
	StartTime uint64    `json:"startTime"` // of Pid, from /proc/<pid>/stat: guards against pid reuse
	Owner     string    `json:"owner"`
	// CgroupPaths are kept in runtime.json (a state.json written by an
	// older oci-rt may still hold them); state.json keeps only Freezer
	CgroupPaths map[string]string `json:"cgroupPaths,omitempty"`
	// Freezer is the cgroup file that says whether the container is
	// frozen (v1 freezer.state, else cgroup2's cgroup.freeze), for state
	// and list, which read state.json alone
	Freezer string `json:"freezer,omitempty"`
	// Cgroup and Hooks are kept in runtime.json, read only by the commands
	// that need them: state and list (200 containers) stay cheap
	Cgroup *cgroups.Cgroup `json:"-"`
	// cgroupRaw is Cgroup as read from runtime.json, not decoded yet
	cgroupRaw json.RawMessage
	Hooks     *specs.Hooks `json:"-"`
	NewPidNs  bool         `json:"newPidNs"`
	// HostMountNs: no mount namespace of its own; its mounts are in ours
	// and go at delete
	HostMountNs bool `json:"hostMountNs,omitempty"`
	// StartFields names the config field of each op the executor runs
	// after start, from StartBase on, to word a failed start.
	StartBase   int      `json:"startBase"`
	StartFields []string `json:"startFields,omitempty"`
}

// SpecState is the runtime-spec state document (what `state` prints and
// hooks read on stdin).
func (s *State) SpecState() specs.State {
	return specs.State{Version: specs.Version, ID: s.ID, Status: specs.ContainerState(s.Status),
		Pid: s.Pid, Bundle: s.Bundle, Annotations: s.Annotations}
}

// CheckID refuses ids that are empty or could name another path.
func CheckID(id string) error {
	if id == "" {
		return errors.New("container id: empty")
	}
	if id == "." || id == ".." || !validID(id) {
		return fmt.Errorf("container id %q: only letters, digits and _ + - . are allowed, and not . or ..", id)
	}
	return nil
}

// validID: letters, digits and _ + - . only (no regexp compiled at
// every start for this).
func validID(id string) bool {
	for _, r := range id {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("_+-.", r)
		if !ok {
			return false
		}
	}
	return true
}

// Store is the state root (--root): one directory per container.
type Store struct{ Root string }

func (st Store) dir(id string) string { return filepath.Join(st.Root, id) }

// Handle is a container's locked state directory.
type Handle struct {
	ID  string
	Dir string
	fd  int // the directory, flock'ed: serialises commands on one container
}

// fileStamp tells one version of a file from another: state.json is only
// ever replaced by a rename, so a new version is a new inode.
type fileStamp struct {
	ino   uint64
	mtime unix.Timespec
}

func stampOf(path string) (fileStamp, error) {
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		return fileStamp{}, err
	}
	return fileStamp{ino: st.Ino, mtime: st.Mtim}, nil
}

// Claim makes the state directory of a new container and locks it; it
// fails when the id is taken.
func (st Store) Claim(id string) (*Handle, error) {
	if err := CheckID(id); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(st.Root, 0o711); err != nil {
		return nil, fmt.Errorf("--root %q: %w", st.Root, err)
	}
	d := st.dir(id)
	if err := os.Mkdir(d, 0o711); err != nil {
		if errors.Is(err, os.ErrExist) {
			return nil, fmt.Errorf("container %q already exists", id)
		}
		return nil, fmt.Errorf("state directory %q: %w", d, err)
	}
	return lockDir(id, d)
}

// Open locks an existing container's state directory.
func (st Store) Open(id string) (*Handle, error) {
	if err := CheckID(id); err != nil {
		return nil, err
	}
	h, err := lockDir(id, st.dir(id))
	if err != nil {
		return nil, err
	}
	// a create that failed may have removed the directory while we waited
	if _, err := os.Stat(filepath.Join(h.Dir, "state.json")); err != nil {
		h.Unlock()
		return nil, ErrNotExist
	}
	return h, nil
}

func lockDir(id, d string) (*Handle, error) {
	fd, err := unix.Open(d, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		if errors.Is(err, unix.ENOENT) {
			return nil, ErrNotExist
		}
		return nil, fmt.Errorf("state directory %q: %w", d, err)
	}
	if err := unix.Flock(fd, unix.LOCK_EX); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("lock %q: %w", d, err)
	}
	return &Handle{ID: id, Dir: d, fd: fd}, nil
}

// Unlock releases the lock.
func (h *Handle) Unlock() {
	if h.fd >= 0 {
		unix.Close(h.fd)
		h.fd = -1
	}
}

// Remove deletes the state directory and releases the lock.
func (h *Handle) Remove() error {
	err := h.removeFiles()
	if err == nil {
		err = unix.Rmdir(h.Dir)
	}
	if err != nil {
		err = os.RemoveAll(h.Dir) // whatever the fast way left
	}
	h.Unlock()
	return err
}

// removeFiles unlinks the files of the (flat) state directory through the
// fd we hold, without os.RemoveAll's opens and retries.
func (h *Handle) removeFiles() error {
	if h.fd < 0 {
		return unix.EBADF
	}
	if _, err := unix.Seek(h.fd, 0, 0); err != nil {
		return err
	}
	buf := make([]byte, 4096)
	var names []string
	for {
		n, err := unix.Getdents(h.fd, buf)
		if err != nil {
			return err
		}
		if n <= 0 {
			break
		}
		_, _, names = unix.ParseDirent(buf[:n], -1, names)
	}
	for _, name := range names {
		if err := unix.Unlinkat(h.fd, name, 0); err != nil && err != unix.ENOENT {
			return err
		}
	}
	return nil
}

// Path is a file inside the state directory.
func (h *Handle) Path(name string) string { return filepath.Join(h.Dir, name) }

// Save writes state.json atomically (a temporary file renamed over it),
// without the cgroup paths: those are in runtime.json, and state.json stays
// small for list, which decodes one per container.
func (h *Handle) Save(s *State) error {
	paths := s.CgroupPaths
	s.CgroupPaths = nil
	b, err := jsonlite.Marshal(s)
	s.CgroupPaths = paths
	if err != nil {
		return err
	}
	return WriteFileAtomic(h.Path("state.json"), b, 0o600)
}

// setCgroupPaths records the cgroup's directories (one a hierarchy, "" the
// cgroup2 one) and the file that tells whether it is frozen.
func (s *State) setCgroupPaths(paths map[string]string) {
	s.CgroupPaths, s.Freezer = maps.Clone(paths), ""
	if p, ok := paths["freezer"]; ok {
		s.Freezer = filepath.Join(p, "freezer.state")
	} else if p, ok := paths[""]; ok {
		s.Freezer = filepath.Join(p, "cgroup.freeze")
	}
}

// runtimeFile is what commands acting on a container need besides its
// state: the cgroup config and paths, and the hooks.
type runtimeFile struct {
	Cgroup      *cgroups.Cgroup   `json:"cgroup,omitempty"`
	CgroupPaths map[string]string `json:"cgroupPaths,omitempty"`
	Hooks       *specs.Hooks      `json:"hooks,omitempty"`
}

func (s *State) runtimeFile() runtimeFile {
	return runtimeFile{Cgroup: s.Cgroup, CgroupPaths: s.CgroupPaths, Hooks: s.Hooks}
}

// LoadFull reads state.json and runtime.json.
func (h *Handle) LoadFull() (*State, error) { return loadFull(h.Dir) }

func loadFull(dir string) (*State, error) {
	s, err := LoadState(dir)
	if err != nil {
		return nil, err
	}
	b, err := readFile(filepath.Join(dir, "runtime.json"))
	if err != nil {
		return nil, err
	}
	// the cgroup configuration (a large type to decode) is decoded only by
	// the commands that use it (cgroupConfig): start and kill do not
	var r struct {
		Cgroup      json.RawMessage   `json:"cgroup"`
		CgroupPaths map[string]string `json:"cgroupPaths"`
		Hooks       *specs.Hooks      `json:"hooks"`
	}
	if err := jsonlite.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, "runtime.json"), err)
	}
	if len(r.Cgroup) > 0 && string(r.Cgroup) != "null" {
		s.cgroupRaw = r.Cgroup
	}
	if len(r.CgroupPaths) > 0 {
		s.CgroupPaths = r.CgroupPaths
	}
	s.Hooks = r.Hooks
	return s, nil
}

// cgroupConfig is the container's cgroup configuration (nil: no cgroup).
func (s *State) cgroupConfig() (*cgroups.Cgroup, error) {
	if s.Cgroup == nil && s.cgroupRaw != nil {
		var c cgroups.Cgroup
		if err := jsonlite.Unmarshal(s.cgroupRaw, &c); err != nil {
			return nil, fmt.Errorf("runtime.json: cgroup: %w", err)
		}
		s.Cgroup, s.cgroupRaw = &c, nil
	}
	return s.Cgroup, nil
}

// SaveRuntime writes runtime.json atomically.
func (h *Handle) SaveRuntime(s *State) error {
	if _, err := s.cgroupConfig(); err != nil {
		return err
	}
	b, err := jsonlite.Marshal(s.runtimeFile())
	if err != nil {
		return err
	}
	return WriteFileAtomic(h.Path("runtime.json"), b, 0o600)
}

// createRuntime writes the first runtime.json of a container being
// created: only commands that lock the container read it, and create holds
// the lock, so it needs no temporary file and rename.
func (h *Handle) createRuntime(s *State) error {
	b, err := jsonlite.Marshal(s.runtimeFile())
	if err != nil {
		return err
	}
	return writeNewFile(h.Path("runtime.json"), b)
}

// LoadState reads a state directory without locking (state.json is only
// ever replaced whole, so a reader sees one version or the other).
func LoadState(dir string) (*State, error) { return new(fileReader).loadState(dir) }

func (r *fileReader) loadState(dir string) (*State, error) {
	b, err := r.read(filepath.Join(dir, "state.json"))
	if err != nil {
		if errors.Is(err, unix.ENOENT) {
			return nil, ErrNotExist
		}
		return nil, err
	}
	var s State
	if err := jsonlite.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, "state.json"), err)
	}
	s.refresh(dir, r)
	return &s, nil
}

// refresh marks a container whose process is gone (or a zombie, or a new
// process that reused the pid) as stopped, and a frozen one as paused.
func (s *State) refresh(dir string, r *fileReader) {
	if s.Status == Stopped || s.Status == Creating {
		return
	}
	if s.Status == Created {
		// start removes the socket the created process waits on
		var st unix.Stat_t
		if err := unix.Stat(filepath.Join(dir, "start.sock"), &st); errors.Is(err, unix.ENOENT) {
			s.Status = Running
		}
	}
	st, state, err := r.procStat(s.Pid)
	if err != nil || st != s.StartTime || state == 'Z' || state == 'X' {
		s.Status = Stopped
		s.Pid = 0
		return
	}
	if s.Status == Running && s.isFrozen(r) {
		s.Status = Paused
	}
}

func (s *State) isFrozen(r *fileReader) bool {
	file := s.Freezer
	if file == "" && s.CgroupPaths != nil {
		// a state.json of an older oci-rt: the paths, no Freezer
		var old State
		old.setCgroupPaths(s.CgroupPaths)
		file = old.Freezer
	}
	if file == "" {
		return false
	}
	b, err := r.read(file)
	v := strings.TrimSpace(string(b))
	return err == nil && (v == "FROZEN" || v == "1") // freezer.state, cgroup.freeze
}

// procStat returns a process's start time (field 22 of /proc/<pid>/stat)
// and its state letter.
func procStat(pid int) (uint64, byte, error) { return new(fileReader).procStat(pid) }

func (r *fileReader) procStat(pid int) (uint64, byte, error) {
	if pid <= 0 {
		return 0, 0, errors.New("no pid")
	}
	b, err := r.read("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, 0, err
	}
	return parseStat(b)
}

var errBadStat = errors.New("bad /proc/<pid>/stat")

// parseStat finds the state letter (field 3) and the start time (field
// 22) of a /proc/<pid>/stat line without splitting it (list reads one per
// container). The command name (field 2) may hold spaces and parentheses:
// fields are counted after its last ')'.
func parseStat(b []byte) (start uint64, state byte, err error) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, 0, errBadStat
	}
	field := 2
	for j := i + 1; j < len(b); {
		for j < len(b) && b[j] == ' ' {
			j++
		}
		k := j
		for k < len(b) && b[k] != ' ' && b[k] != '\n' {
			k++
		}
		if k == j {
			break
		}
		field++
		switch field {
		case 3:
			state = b[j]
		case 22:
			for _, c := range b[j:k] {
				d := uint64(c - '0')
				if c < '0' || c > '9' || start > (math.MaxUint64-d)/10 {
					return 0, 0, errBadStat
				}
				start = start*10 + d
			}
			return start, state, nil
		}
		j = k
	}
	return 0, 0, errBadStat
}

// fileReader reads the small files of container states into one buffer,
// so that list does not allocate (and fault in) a buffer per file; what
// read returns is valid until its next read.
type fileReader struct{ buf []byte }

// read reads a small file with plain syscalls (os.ReadFile adds an fstat,
// a poller registration attempt and a finalizer: half of what `list`
// spends per container). A read that returns less than it was offered is
// taken as the end: the files it reads are regular files (which give what
// they have) or procfs and cgroupfs files (which give their whole content
// in one read when it fits), so that the usual small file costs one read,
// not two.
func (r *fileReader) read(path string) ([]byte, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	defer unix.Close(fd)
	if r.buf == nil {
		r.buf = make([]byte, 0, 2048)
	}
	b := r.buf[:0]
	for {
		n, err := unix.Read(fd, b[len(b):cap(b)])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, &os.PathError{Op: "read", Path: path, Err: err}
		}
		short := n < cap(b)-len(b)
		b = b[:len(b)+n]
		if short {
			r.buf = b
			return b, nil
		}
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
	}
}

// readFile reads a small file into a buffer of its own.
func readFile(path string) ([]byte, error) { return new(fileReader).read(path) }

// writeNewFile creates a file that must not exist yet and writes it.
func writeNewFile(path string, data []byte) error {
	return writeFile(path, unix.O_CREAT|unix.O_EXCL, 0o600, data)
}

// writeFile opens (with extra open flags, O_CREAT among them or not) and
// writes a file with plain syscalls.
func writeFile(path string, flags int, perm uint32, data []byte) error {
	fd, err := unix.Open(path, unix.O_WRONLY|unix.O_CLOEXEC|flags, perm)
	if err != nil {
		return &os.PathError{Op: "open", Path: path, Err: err}
	}
	for b := data; len(b) > 0 && err == nil; {
		var n int
		if n, err = unix.Write(fd, b); err == nil {
			b = b[n:]
		}
	}
	if cerr := unix.Close(fd); err == nil {
		err = cerr
	}
	if err != nil {
		return &os.PathError{Op: "write", Path: path, Err: err}
	}
	return nil
}

// WriteFileAtomic writes a file so that readers see it whole or not at all.
// Plain syscalls: an os.File costs a poller registration attempt, an fstat
// and a finalizer, for a file written once on every create and start.
func WriteFileAtomic(path string, data []byte, mode os.FileMode) error {
	tmp := path + ".tmp" + strconv.Itoa(os.Getpid())
	err := writeFile(tmp, unix.O_CREAT|unix.O_TRUNC, uint32(mode.Perm()), data)
	if err == nil {
		if err = unix.Rename(tmp, path); err != nil {
			err = &os.PathError{Op: "rename", Path: path, Err: err}
		}
	}
	if err != nil {
		unix.Unlink(tmp)
	}
	return err
}

// List returns the states of every container under the root, sorted by id.
func (st Store) List() ([]*State, error) {
	ents, err := os.ReadDir(st.Root)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
		return nil, err
	}
	states := make([]*State, len(ents))
	load := func(lo, hi int) {
		var r fileReader
		for i := lo; i < hi; i++ {
			if ents[i].IsDir() {
				// an error: being created or deleted
				states[i], _ = r.loadState(filepath.Join(st.Root, ents[i].Name()))
			}
		}
	}
	// most of the time is the kernel's (opening the files, making
	// /proc/<pid>/stat): with many containers, half of them on another CPU
	if half := len(ents) / 2; half >= listSplit {
		UseCallerCPUs()
		done := make(chan struct{})
		go func() { load(half, len(ents)); close(done) }()
		load(0, half)
		<-done
	} else {
		load(0, len(ents))
	}
	var out []*State
	for _, s := range states {
		if s != nil {
			out = append(out, s)
		}
	}
	return out, nil
}

// listSplit is how many containers make reading them in two halves pay.
var listSplit = 16
