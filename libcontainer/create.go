package libcontainer

import (
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/moby/sys/mountinfo"
	"github.com/moby/sys/user"
	cg "github.com/opencontainers/cgroups"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"

	"github.com/oci-rt/oci-rt/libcontainer/cgroups"
	"github.com/oci-rt/oci-rt/libcontainer/jsonlite"
	"github.com/oci-rt/oci-rt/libcontainer/plan"
	"github.com/oci-rt/oci-rt/libcontainer/planner"
	"github.com/oci-rt/oci-rt/libcontainer/seccomp"
	"github.com/oci-rt/oci-rt/libcontainer/state"
)

// CreateOpts are the create command's inputs.
type CreateOpts struct {
	ID            string
	Bundle        string
	PidFile       string
	ConsoleSocket string
	NoPivot       bool
	PreserveFds   int
	// ListenFds are socket-activation fds (LISTEN_FDS) from 3 up, passed
	// before the preserved ones, with LISTEN_FDS and LISTEN_PID=1 set
	ListenFds    int
	Systemd      bool
	NoNewKeyring bool
	// Rootless: an unprivileged caller; a cgroup it may not create is
	// done without (unless limits are asked for), as runc --rootless does
	Rootless bool
	// NotifySocket is the caller's NOTIFY_SOCKET: the container gets a
	// socket of ours, relayed by start
	NotifySocket string
	// ConsoleConn, when set, is used instead of dialing ConsoleSocket
	// (run with a terminal makes its own socket pair).
	ConsoleConn *os.File
	// Loaded is the bundle's config when the caller has read it already.
	Loaded *Bundle
}

// Bundle is a bundle's config.json, parsed, and its bytes (kept as the
// container's saved config without encoding it again).
type Bundle struct {
	Spec *specs.Spec
	Raw  []byte
}

// LoadBundle reads and parses a bundle's config.json.
func LoadBundle(bundle string) (*Bundle, error) {
	path := filepath.Join(bundle, "config.json")
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config.json: %w", pathErr(err))
	}
	var s specs.Spec
	if err := jsonlite.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("config.json %q: malformed: %w", path, err)
	}
	return &Bundle{Spec: &s, Raw: b}, nil
}

// creation holds what create opened, so that a failure can undo it all.
type creation struct {
	opts   CreateOpts
	bundle *Bundle
	spec   *specs.Spec
	handle *state.Dir
	state  *state.State
	ns     planner.Namespaces
	cgm    cg.Manager
	plan   *plan.Plan
	// executor: the pid of the executor's first half, until it is reaped
	executor int
	sync     *os.File // our end of the executor's socket pair (in Go's poller)
	planW    *os.File // the plan pipe's end we write
	// extra are the executor's fds from 3 up; childFiles those of them
	// we close once it started
	extra          []*os.File
	childFiles     []*os.File
	planFd, syncFd int
	files          []*os.File
	recorded       bool // recordProcess has run
	pid            int  // the container's process
	// exec: a process joining a running container (no rootfs, no wait for
	// start, no state of its own)
	exec    bool
	seccomp *planner.Seccomp
}

// Create sets up a container up to the point where its process waits for
// start. On error nothing is left behind: no state directory, cgroup,
// process or mount (mounts live in the container's own mount namespace).
func (st Store) Create(o CreateOpts) (*state.State, error) {
	c, err := st.create(o)
	if err != nil {
		return nil, err
	}
	return c.state, nil
}

func (st Store) create(o CreateOpts) (_ *creation, err error) {
	c := &creation{opts: o}
	if c.opts.Bundle, err = filepath.Abs(o.Bundle); err != nil {
		return nil, err
	}
	if err := state.CheckID(o.ID); err != nil {
		return nil, err
	}
	if c.bundle = o.Loaded; c.bundle == nil {
		if c.bundle, err = LoadBundle(c.opts.Bundle); err != nil {
			return nil, err
		}
	}
	c.spec = c.bundle.Spec
	in, err := c.prepare()
	if err != nil {
		return nil, err
	}
	if c.handle, err = st.states().Claim(o.ID); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			c.undo()
		}
		c.closeFiles()
		c.handle.Unlock()
	}()
	if err = c.launch(in); err != nil {
		return nil, err
	}
	return c, nil
}

// prepare validates the spec and resolves everything that needs no state.
func (c *creation) prepare() (*planner.Input, error) {
	s := c.spec
	if s.Root == nil || s.Root.Path == "" {
		return nil, errors.New("root.path: missing")
	}
	rootfs := s.Root.Path
	if !filepath.IsAbs(rootfs) {
		rootfs = filepath.Join(c.opts.Bundle, rootfs)
	}
	if fi, err := os.Stat(rootfs); err != nil {
		return nil, fmt.Errorf("root.path %q: %w", s.Root.Path, pathErr(err))
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
	proc := planner.NoProcess()
	if s.Process != nil {
		if proc, err = planner.ResolveProcess(s.Process, rootfs); err != nil {
			return nil, err
		}
		if err := checkLSM(s.Process); err != nil {
			return nil, err
		}
	}
	if proc.Caps.AmbientDropped != 0 {
		logrus.Warnf("process.capabilities.ambient: capabilities %#x are not both permitted and inheritable: not raised", proc.Caps.AmbientDropped)
	}
	if n := c.opts.ListenFds; n > 0 {
		proc.Env = append(proc.Env, fmt.Sprintf("LISTEN_FDS=%d", n), "LISTEN_PID=1")
	}
	if proc.Terminal && c.opts.ConsoleSocket == "" && c.opts.ConsoleConn == nil {
		return nil, errors.New("process.terminal: true needs --console-socket")
	}
	in := &planner.Input{Spec: s, Bundle: c.opts.Bundle, Rootfs: rootfs, NoPivot: c.opts.NoPivot, Process: proc,
		ContainerID: c.opts.ID, NoNewKeyring: c.opts.NoNewKeyring}
	// only a shared rootfsPropagation needs the parent mount (made private
	// for pivot_root): no mountinfo parse on every create
	if s.Linux != nil && strings.Contains(s.Linux.RootfsPropagation, "shared") {
		if in.RootfsParent, err = mountPointOf(rootfs); err != nil {
			return nil, err
		}
	}
	if err := c.compileSeccomp(in); err != nil {
		return nil, err
	}
	c.ns = ns
	return in, nil
}

func (c *creation) compileSeccomp(in *planner.Input) error {
	s := c.spec
	if s.Linux == nil || s.Linux.Seccomp == nil {
		return nil
	}
	f, err := seccomp.Compile(s.Linux.Seccomp)
	if err != nil || f == nil {
		return err
	}
	in.Seccomp = &planner.Seccomp{Program: f.Program, Flags: f.Flags, ListenerPath: f.ListenerPath,
		ListenerMetadata: f.ListenerMetadata}
	c.seccomp = in.Seccomp
	return nil
}

// launch claims resources in the order they can be undone.
func (c *creation) launch(in *planner.Input) error {
	s := c.spec
	c.state = &state.State{OCIVersion: specs.Version, ID: c.opts.ID, Status: state.Creating, Bundle: c.opts.Bundle,
		Annotations: s.Annotations, Rootfs: in.Rootfs, Created: time.Now().UTC(), Owner: owner(), Hooks: s.Hooks}
	if c.opts.NotifySocket != "" {
		if err := addNotifySocket(c.handle, c.spec, &in.Process); err != nil {
			return err
		}
	}
	if err := c.ns.Open(); err != nil {
		return err
	}
	in.Ns = c.ns
	c.state.NewPidNs = c.ns.IsNew(specs.PIDNamespace)
	c.state.HostMountNs = !c.ns.Has(specs.MountNamespace)
	if err := c.prepareFds(in); err != nil {
		return err
	}
	cgc, err := cgroups.Config(c.opts.ID, s.Linux, c.opts.Systemd)
	if err != nil {
		return err
	}
	if c.cgm, err = cgroups.New(cgc); err != nil {
		return err
	}
	if err := checkCgroupEmpty(c.cgm, s); err != nil {
		c.cgm = nil // not ours: undo must not remove it
		return err
	}
	c.state.Cgroup = cgc
	c.state.SetCgroupPaths(c.cgm.GetPaths()) // in the "creating" runtime.json
	// The executor is started now and waits for its plan, so that its exec
	// and the namespaces it can make at once (its prelude) overlap making
	// the cgroup and setting the limits. It is started into the cgroup2
	// directory (CLONE_INTO_CGROUP) and moves itself into the v1 ones.
	spawned := false
	if c.startsEarly() {
		unified, err := c.makeUnifiedDir()
		if err != nil {
			return err
		}
		env, err := c.prelude(in)
		if err != nil {
			return err
		}
		if err := c.spawn(unified, env...); err != nil {
			return err
		}
		spawned = true
	}
	// With the plan sent now, the container's process makes its mounts
	// while we make the cgroup; it waits for it before it needs it.
	late := spawned && c.cgroupLate(in)
	if late {
		in.CgroupTasks, in.CgroupLate = tasksFiles(c.cgm.GetPaths()), true
		if err := c.compilePlan(in); err != nil {
			return err
		}
		if err := c.sendPlan(); err != nil {
			return err
		}
	}
	// "creating" on disk lets delete clean up after a create that died
	if err := c.handle.CreateRuntime(c.state); err != nil {
		return err
	}
	if err := c.handle.Save(c.state); err != nil {
		return err
	}
	if err := c.makeCgroup(); err != nil {
		return err
	}
	if late {
		// the answer to the container process's SyncCgroup, sent before
		// it asks: it goes on without waiting for us to read messages. A
		// write that fails finds an executor that failed meanwhile, whose
		// report converse reads.
		c.reply(0, nil)
	} else if err := c.joinAndSend(in, spawned); err != nil {
		return err
	}
	if err := c.converse(); err != nil {
		return err
	}
	return c.finish()
}

// startsEarly tells whether the executor can be started before the cgroup
// is made: not when systemd places it once it runs, nor rootless, where
// only making the cgroup tells whether there is one.
func (c *creation) startsEarly() bool {
	return !c.exec && !c.opts.Systemd && !c.opts.Rootless
}

// prelude says what the executor does before it has its plan (nsexec.c's
// prelude): in the memory cgroup first, so that the namespaces are charged
// to the container, then unshare the new namespaces when nothing has to
// come before (no namespace to join). A new user namespace is unshared
// with the others (which it then owns, as when they follow it in the
// plan); the plan still has us write its id maps before the executor
// takes uid 0. The executor's kernel uid is still the caller's, so it can
// join the other v1 cgroups from inside it. The cgroup namespace waits for
// the plan: its root is the cgroup at unshare time.
func (c *creation) prelude(in *planner.Input) ([]string, error) {
	var env []string
	flags := c.ns.New &^ (unix.CLONE_NEWCGROUP | unix.CLONE_NEWTIME)
	if len(c.ns.Joins) > 0 || flags == 0 {
		return nil, nil
	}
	if !cg.IsCgroup2UnifiedMode() {
		dir, ok := c.cgm.GetPaths()["memory"]
		if !ok {
			return nil, nil // v1 without a memory hierarchy: the namespaces wait for the plan
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("linux.cgroupsPath: %w", err)
		}
		env = append(env, "_OCIRT_PRELUDE_JOIN="+filepath.Join(dir, "tasks"))
	}
	in.PreludeUnshared = flags
	return append(env, "_OCIRT_PRELUDE_UNSHARE="+strconv.Itoa(flags)), nil
}

// makeUnifiedDir makes the container's cgroup2 directory (the rest of the
// cgroup, and its limits, come later: the executor waits for its plan) and
// opens it to start the executor in.
func (c *creation) makeUnifiedDir() (*os.File, error) {
	dir, ok := c.cgm.GetPaths()[""]
	if !ok {
		return nil, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("linux.cgroupsPath: %w", err)
	}
	f, err := os.Open(dir)
	if err != nil {
		return nil, fmt.Errorf("linux.cgroupsPath: %w", err)
	}
	c.files = append(c.files, f)
	return f, nil
}

// prepareFds opens what the executor gets as fds (the plan pipe, the sync
// socket, namespaces to join, the console, the start socket) and notes
// their numbers in the input.
func (c *creation) prepareFds(in *planner.Input) error {
	for i := 0; i < c.opts.ListenFds+c.opts.PreserveFds; i++ {
		c.extra = append(c.extra, os.NewFile(uintptr(3+i), "preserved"))
	}
	planR, planW, err := os.Pipe()
	if err != nil {
		return err
	}
	c.planW = planW
	c.childFiles = append(c.childFiles, planR)
	pair, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	// ours non-blocking, so that waiting for the executor parks in Go's
	// poller: a thread blocked in recvmsg keeps sysmon polling every 20µs
	// and hands the P to other threads
	unix.SetNonblock(pair[0], true)
	c.sync = os.NewFile(uintptr(pair[0]), "sync")
	child := os.NewFile(uintptr(pair[1]), "sync-child")
	c.childFiles = append(c.childFiles, child)
	c.planFd, c.syncFd = c.add(planR), c.add(child)
	for i := range in.Ns.Joins {
		in.Ns.Joins[i].Fd = c.add(in.Ns.Joins[i].File)
	}
	in.ConsoleFd = -1
	if in.Process.Terminal {
		con, err := c.consoleConn()
		if err != nil {
			return err
		}
		in.ConsoleFd = c.add(con)
	}
	in.StartFd = -1
	if !c.exec {
		start, err := listenStart(c.handle)
		if err != nil {
			return err
		}
		c.files = append(c.files, start)
		in.StartFd = c.add(start)
	}
	in.FirstCloseFd = 3 + c.opts.ListenFds + c.opts.PreserveFds
	return nil
}

// add passes f to the executor and returns its fd number there.
func (c *creation) add(f *os.File) int {
	c.extra = append(c.extra, f)
	return 2 + len(c.extra)
}

// spawn starts the read-only view of our own binary as the plan executor,
// with the prepared fds; with unified, into that cgroup2 directory.
func (c *creation) spawn(unified *os.File, extraEnv ...string) error {
	exe, err := ExecutorPath()
	if err != nil {
		return err
	}
	// syscall.ForkExec, not os/exec: os/exec probes pidfd support with a
	// throw-away clone on its first start
	fds := []uintptr{os.Stdin.Fd(), os.Stdout.Fd(), os.Stderr.Fd()}
	for _, f := range c.extra {
		fds = append(fds, f.Fd())
	}
	env := append([]string{"_OCIRT_PLAN_FD=" + strconv.Itoa(c.planFd), "_OCIRT_SYNC_FD=" + strconv.Itoa(c.syncFd)}, extraEnv...)
	attr := &syscall.ProcAttr{Files: fds, Sys: &syscall.SysProcAttr{}, Env: env}
	if unified != nil {
		attr.Sys.UseCgroupFD, attr.Sys.CgroupFD = true, int(unified.Fd())
	}
	// with the caller's CPUs, so that its exec can overlap our work on
	// another CPU, and the container inherits them
	var pid int
	err = WithCallerScheduling(func() (err error) {
		pid, err = syscall.ForkExec(exe, []string{"oci-rt", "init"}, attr)
		return err
	})
	if err != nil {
		return fmt.Errorf("start the executor %s: %w", exe, err)
	}
	c.executor, c.pid = pid, pid
	for _, f := range c.childFiles {
		f.Close()
	}
	c.childFiles = nil
	return nil
}

// compilePlan builds the plan the executor runs.
func (c *creation) compilePlan(in *planner.Input) error {
	if !c.exec && hasCgroupMount(c.spec) {
		in.Cgroup = cgroupView(c.cgm)
	}
	var err error
	if c.plan, err = planner.Build(in); err != nil {
		return err
	}
	c.recordStartFields()
	if logrus.IsLevelEnabled(logrus.DebugLevel) {
		for i, op := range c.plan.Ops {
			logrus.Debugf("plan %d: %s (%s)", i, op, op.Field)
		}
	}
	return nil
}

func hasCgroupMount(s *specs.Spec) bool {
	for _, m := range s.Mounts {
		if m.Type == "cgroup" || m.Type == "cgroup2" {
			return true
		}
	}
	return false
}

// recordStartFields keeps the field names of what runs after start, so
// that start can word an error the executor reports by index.
func (c *creation) recordStartFields() {
	for i, op := range c.plan.Ops {
		if op.Code == plan.OpWaitStart {
			c.state.StartBase = i
			for _, o := range c.plan.Ops[i:] {
				c.state.StartFields = append(c.state.StartFields, o.Field)
			}
			return
		}
	}
}

func (c *creation) consoleConn() (*os.File, error) {
	if c.opts.ConsoleConn != nil {
		return c.opts.ConsoleConn, nil
	}
	conn, err := net.Dial("unix", c.opts.ConsoleSocket)
	if err != nil {
		return nil, fmt.Errorf("--console-socket %q: %w", c.opts.ConsoleSocket, err)
	}
	f, err := conn.(*net.UnixConn).File()
	conn.Close()
	if err != nil {
		return nil, err
	}
	c.files = append(c.files, f)
	return f, nil
}

// makeCgroup creates the container's cgroup and sets its limits before
// any process is in it. The executor then moves itself in (selfJoin);
// with systemd, which places processes itself, joinCgroupLate does it.
func (c *creation) makeCgroup() error {
	if c.opts.Systemd {
		return nil
	}
	if err := c.cgm.Apply(-1); err != nil {
		if c.opts.Rootless && errors.Is(err, os.ErrPermission) && !limitsAsked(c.spec) {
			logrus.Debugf("rootless: no cgroup (%v)", err)
			c.cgm.Destroy()
			c.cgm, c.state.Cgroup = nil, nil
			c.state.SetCgroupPaths(nil)
			return c.handle.SaveRuntime(c.state)
		}
		return fmt.Errorf("%s: %w", applyField(c.spec, err), err)
	}
	if err := c.recordCgroupPaths(); err != nil {
		return err
	}
	return c.setResources()
}

// recordCgroupPaths notes the cgroup's paths once it is made; runtime.json,
// written with the paths known before, is written again if they changed.
func (c *creation) recordCgroupPaths() error {
	paths := c.cgm.GetPaths()
	if maps.Equal(paths, c.state.CgroupPaths) {
		return nil
	}
	c.state.SetCgroupPaths(paths)
	return c.handle.SaveRuntime(c.state)
}

func (c *creation) setResources() error {
	if res := c.state.Cgroup.Resources; res != nil {
		if err := c.cgm.Set(res); err != nil {
			return fmt.Errorf("linux.resources: %w", err)
		}
	}
	return nil
}

// cgroupJoin says how the executor moves into the cgroup: the v1 `tasks`
// files it writes "0" to as its first step (no pid is written to
// cgroup.procs: that costs an RCU grace period, milliseconds here), and
// for cgroup2 (v2, or the hybrid unified hierarchy) a directory to start
// it in with CLONE_INTO_CGROUP.
func (c *creation) cgroupJoin(wantUnified bool) (tasks []string, unified *os.File, err error) {
	if c.opts.Systemd && !c.exec {
		return nil, nil, nil
	}
	tasks = tasksFiles(c.state.CgroupPaths)
	if dir, ok := c.state.CgroupPaths[""]; ok && wantUnified {
		if unified, err = os.Open(dir); err != nil {
			return nil, nil, fmt.Errorf("linux.cgroupsPath: %w", err)
		}
		c.files = append(c.files, unified)
	}
	return tasks, unified, nil
}

// tasksFiles are the v1 `tasks` files of the cgroup's paths.
func tasksFiles(paths map[string]string) []string {
	var tasks []string
	for key, dir := range paths {
		if key != "" {
			tasks = append(tasks, filepath.Join(dir, "tasks"))
		}
	}
	return tasks
}

// joinAndSend sends the plan once the cgroup is made: the executor joins
// it first (it is started now if it was not yet), or systemd puts it there.
func (c *creation) joinAndSend(in *planner.Input, spawned bool) error {
	tasks, unified, err := c.cgroupJoin(!spawned)
	if err != nil {
		return err
	}
	in.CgroupTasks = tasks
	if !spawned {
		if err := c.spawn(unified); err != nil {
			return err
		}
	}
	if err := c.joinCgroupLate(); err != nil {
		return err
	}
	if err := c.compilePlan(in); err != nil {
		return err
	}
	return c.sendPlan()
}

// cgroupLate says whether the plan may reach the executor before the
// cgroup is made (planner.Input.CgroupLate). Not when the executor must be
// in the cgroup before it changes identity or enters other mounts (a user
// namespace, namespaces to join): its first step joins the cgroup then.
// And only when its prelude ran (it is in the memory or unified cgroup
// already, where a failed create finds and kills the container's process)
// in a mount namespace of its own (whose mounts go with it).
func (c *creation) cgroupLate(in *planner.Input) bool {
	return c.startsEarly() && in.PreludeUnshared != 0 && len(c.ns.Joins) == 0 &&
		!c.ns.IsNew(specs.UserNamespace) && c.ns.IsNew(specs.MountNamespace)
}

// joinCgroupLate puts the started executor in a systemd-managed cgroup.
func (c *creation) joinCgroupLate() error {
	if !c.opts.Systemd || c.exec {
		return nil
	}
	if err := c.cgm.Apply(c.pid); err != nil {
		return fmt.Errorf("linux.cgroupsPath %q: %w", cgroupsPath(c.spec), err)
	}
	if err := c.recordCgroupPaths(); err != nil {
		return err
	}
	return c.setResources()
}

func cgroupsPath(s *specs.Spec) string {
	if s.Linux == nil {
		return ""
	}
	return s.Linux.CgroupsPath
}

func (c *creation) sendPlan() error {
	w := c.planW
	c.planW = nil
	b := c.plan.Encode()
	if len(b) < 60000 {
		// fits in the pipe: no goroutine, no thread hand-off
		_, err := w.Write(b)
		w.Close()
		if err != nil && !errors.Is(err, unix.EPIPE) {
			return fmt.Errorf("send the plan: %w", err)
		}
		// EPIPE: the executor is gone (its prelude failed): its report
		// is read next
		return nil
	}
	// a plan larger than the pipe is read while we go on
	go func() { w.Write(b); w.Close() }()
	return nil
}

// converse answers the executor until it says the container is created.
// With a fork in the plan, the container's process may speak before the
// executor's first half has reported its pid: what needs the pid waits.
func (c *creation) converse() error {
	rc, err := c.sync.SyscallConn()
	if err != nil {
		return err
	}
	needPid := c.plan.Has(plan.OpFork)
	var waiting []execMsg
	// messages are small (the longest is an error naming a path): one
	// buffer, not 64 KiB of fresh (page-faulting) heap per message
	buf, oob := make([]byte, 16<<10), make([]byte, unix.CmsgSpace(4))
	for {
		var m execMsg
		if len(waiting) > 0 && !needPid {
			m, waiting = waiting[0], waiting[1:]
		} else if m, err = recvMsg(rc, buf, oob); err != nil || len(m.data) == 0 {
			if c.exec {
				return nil // execve closed the socket: the process runs
			}
			return c.executorDied()
		}
		if len(m.data) < plan.MsgHeaderLen {
			return errors.New("executor: short message")
		}
		typ := binary.NativeEndian.Uint32(m.data)
		a := int(int32(binary.NativeEndian.Uint32(m.data[4:])))
		b := int(int32(binary.NativeEndian.Uint32(m.data[8:])))
		payload := string(m.data[plan.MsgHeaderLen:])
		switch typ {
		case plan.MsgPid:
			c.pid, needPid = a, false
			c.reapExecutor() // the executor's first half exits after the fork
			if err := c.recordProcess(); err != nil {
				return err
			}
		case plan.MsgError:
			return c.stepError(a, payload, unix.Errno(b))
		default:
			// the uid/gid maps are asked for before any fork, with the pid
			// to write them for: all else waits for the container's pid
			if needPid && !(typ == plan.MsgSync && a == plan.SyncMaps) {
				waiting = append(waiting, m)
				continue
			}
			switch typ {
			case plan.MsgSync:
				if err := c.onSync(a, b); err != nil {
					c.reply(1, nil)
					return err
				}
			case plan.MsgReady:
				return nil
			case plan.MsgSeccomp:
				if err := c.passListener(m.oob); err != nil {
					return err
				}
			}
		}
	}
}

// execMsg is one message from the executor, with its control data.
type execMsg struct{ data, oob []byte }

// recvMsg reads one message from the executor, parked in Go's poller, and
// returns a copy of it.
func recvMsg(rc syscall.RawConn, buf, oob []byte) (execMsg, error) {
	var n, oobn int
	var err error
	rerr := rc.Read(func(fd uintptr) bool {
		n, oobn, _, _, err = unix.Recvmsg(int(fd), buf, oob, unix.MSG_CMSG_CLOEXEC)
		return err != unix.EAGAIN
	})
	if err == nil {
		err = rerr
	}
	if err != nil {
		return execMsg{}, err
	}
	return execMsg{data: slices.Clone(buf[:n]), oob: slices.Clone(oob[:oobn])}, nil
}

// stepError words the failure of step i; a capset refused for want of
// privilege names the capabilities oci-rt itself does not have.
func (c *creation) stepError(i int, what string, errno unix.Errno) error {
	field := c.plan.Field(i)
	switch i {
	case plan.PreludeJoin:
		field = fmt.Sprintf("linux.cgroupsPath %q", cgroupsPath(c.spec))
	case plan.PreludeUnshare:
		field = "linux.namespaces"
	}
	err := StepError(field, what, errno)
	if i < 0 || i >= len(c.plan.Ops) || errno != unix.EPERM || c.spec.Process == nil {
		return err
	}
	if code := c.plan.Ops[i].Code; code == plan.OpCapSet || code == plan.OpCapBset {
		if caps := planner.CapsBeyondBounding(c.spec.Process.Capabilities); len(caps) > 0 {
			return fmt.Errorf("%w (not in oci-rt's own bounding set: %s)", err, strings.Join(caps, ", "))
		}
	}
	return err
}

// StepError words a failed plan step: the field, what failed and why
// (errno 0: the text says it all, e.g. a hook's exit status).
func StepError(field, what string, errno unix.Errno) error {
	if field == "" {
		field = "container init"
	}
	if errno == 0 {
		return fmt.Errorf("%s: %s", field, what)
	}
	return fmt.Errorf("%s: %s: %w", field, what, errno)
}

func (c *creation) executorDied() error {
	if ws, err := c.reapExecutor(); err == nil && ws.Signaled() {
		return fmt.Errorf("container init exited before it was created: %s", ws.Signal())
	} else if err == nil && ws.ExitStatus() != 0 {
		return fmt.Errorf("container init exited before it was created: exit status %d", ws.ExitStatus())
	}
	return errors.New("container init exited before it was created")
}

// reapExecutor waits for the executor's first half, once.
func (c *creation) reapExecutor() (ws unix.WaitStatus, err error) {
	if c.executor <= 0 {
		return ws, unix.ECHILD
	}
	for {
		_, err = unix.Wait4(c.executor, &ws, 0, nil)
		if err != unix.EINTR {
			break
		}
	}
	c.executor = 0
	return ws, err
}

func (c *creation) reply(status int32, payload []byte) error {
	msg := make([]byte, plan.MsgHeaderLen, plan.MsgHeaderLen+len(payload))
	binary.NativeEndian.PutUint32(msg, plan.MsgSync)
	binary.NativeEndian.PutUint32(msg[4:], uint32(status))
	_, err := c.sync.Write(append(msg, payload...))
	return err
}

func (c *creation) onSync(kind, pid int) error {
	switch kind {
	case plan.SyncMaps:
		if err := writeMaps(pid, c.spec.Linux); err != nil {
			return err
		}
		return c.reply(0, nil)
	case plan.SyncCgroup:
		return nil // answered once the cgroup was made (launch)
	case plan.SyncHooks:
		c.state.Pid = c.pid
		// lifecycle steps 3-5 come after step 2 (creating) and before the
		// program runs: runtime-spec's "created" (runtime.md, State)
		hs := c.state.SpecState()
		hs.Status = specs.StateCreated
		st, _ := jsonlite.Marshal(hs)
		h := c.spec.Hooks
		if err := RunHooks("hooks.prestart", h.Prestart, st); err != nil {
			return err
		}
		if err := RunHooks("hooks.createRuntime", h.CreateRuntime, st); err != nil {
			return err
		}
		return c.reply(0, st)
	}
	return fmt.Errorf("executor: unknown request %d", kind)
}

func writeMaps(pid int, l *specs.Linux) error {
	base := "/proc/" + strconv.Itoa(pid)
	if os.Geteuid() != 0 {
		// the kernel takes an unprivileged gid_map only once setgroups is denied
		if err := state.WriteFile(base+"/setgroups", 0, 0, []byte("deny")); err != nil {
			return fmt.Errorf("linux.gidMappings: setgroups: %w", pathErr(err))
		}
	}
	if err := state.WriteFile(base+"/uid_map", 0, 0, []byte(planner.MapsText(l.UIDMappings))); err != nil {
		return fmt.Errorf("linux.uidMappings: %w", pathErr(err))
	}
	if err := state.WriteFile(base+"/gid_map", 0, 0, []byte(planner.MapsText(l.GIDMappings))); err != nil {
		return fmt.Errorf("linux.gidMappings: %w", pathErr(err))
	}
	return nil
}

// finish records the created container: state.json, then the pid file
// (written last and atomically: conmon takes its presence as success).
func (c *creation) finish() error {
	if err := c.recordProcess(); err != nil {
		return err
	}
	c.state.Status = state.Created
	if err := c.handle.Save(c.state); err != nil {
		return err
	}
	if c.opts.PidFile != "" {
		if err := state.WriteFileAtomic(c.opts.PidFile, []byte(strconv.Itoa(c.pid)), 0o644); err != nil {
			return fmt.Errorf("--pid-file %q: %w", c.opts.PidFile, err)
		}
	}
	return nil
}

// recordProcess notes the container's process (its start time guards
// against pid reuse) and keeps the config, once. With a fork in the plan it
// runs as soon as the pid is reported, while the process still sets up its
// mounts, rather than after.
func (c *creation) recordProcess() error {
	if c.exec || c.recorded {
		return nil
	}
	t, _, err := state.ProcStat(c.pid)
	if err != nil {
		return fmt.Errorf("container init %d: %w", c.pid, err)
	}
	c.state.Pid, c.state.StartTime = c.pid, t
	// a new file, not a rename: nothing reads config.json before state.json
	// says created, and a create that dies here is removed whole
	if err := state.WriteNewFile(c.handle.File("config.json"), c.bundle.Raw); err != nil {
		return err
	}
	c.recorded = true
	return nil
}

// undo kills what was started and removes the cgroup and state directory.
func (c *creation) undo() {
	if c.pid > 0 {
		unix.Kill(c.pid, unix.SIGKILL)
	}
	if c.executor > 0 {
		unix.Kill(c.executor, unix.SIGKILL)
		c.reapExecutor()
	}
	if c.exec {
		return
	}
	if c.state != nil && c.state.HostMountNs {
		detachRootfs(c.state.Rootfs)
	}
	if c.cgm != nil {
		killCgroup(c.cgm)
		c.cgm.Destroy()
	}
	c.ns.Close()
	if c.handle != nil {
		c.handle.Remove()
	}
}

func (c *creation) closeFiles() {
	for _, f := range append(c.files, c.childFiles...) {
		f.Close()
	}
	if c.planW != nil {
		c.planW.Close()
	}
	if c.sync != nil {
		c.sync.Close()
	}
	c.ns.Close()
}

// listenStart makes the socket `start` connects to. The path is bound
// through /proc/self/fd so that long state paths stay under the 108-byte
// limit of socket addresses.
func listenStart(h *state.Dir) (*os.File, error) {
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	addr := &unix.SockaddrUnix{Name: h.ShortPath("start.sock")}
	if err := unix.Bind(fd, addr); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("bind %s: %w", h.File("start.sock"), err)
	}
	if err := unix.Listen(fd, 1); err != nil {
		unix.Close(fd)
		return nil, err
	}
	return os.NewFile(uintptr(fd), "start.sock"), nil
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

func pathErr(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// checkCgroupEmpty refuses a cgroup that already has processes (another
// container's, or one left behind): sharing it would mix their limits,
// and deleting either would kill the other.
func checkCgroupEmpty(m cg.Manager, s *specs.Spec) error {
	if !m.Exists() {
		return nil
	}
	pids, err := m.GetAllPids()
	if err != nil || len(pids) == 0 {
		return nil
	}
	return fmt.Errorf("linux.cgroupsPath %q: the cgroup is not empty (%d processes, e.g. pid %d)", cgroupsPath(s), len(pids), pids[0])
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

// detachRootfs removes what a container without a mount namespace of its
// own mounted: the bind of its rootfs, with everything under it.
func detachRootfs(rootfs string) {
	unix.Unmount(rootfs, unix.MNT_DETACH)
}

// passListener sends the seccomp listener the executor handed us to the
// agent at linux.seccomp.listenerPath, with the container process state
// (runtime-spec config-linux.md, "The Container Process State").
func (c *creation) passListener(oob []byte) error {
	fds, err := parseRights(oob)
	if err != nil {
		return fmt.Errorf("linux.seccomp.listenerPath: %w", err)
	}
	defer unix.Close(fds[0])
	field := fmt.Sprintf("linux.seccomp.listenerPath %q", c.seccomp.ListenerPath)
	st := c.state.SpecState()
	st.Pid, st.Status = c.pid, specs.StateCreating
	if c.exec {
		st.Status = specs.StateRunning
	}
	msg, _ := jsonlite.Marshal(specs.ContainerProcessState{Version: specs.Version, Fds: []string{specs.SeccompFdName},
		Pid: c.pid, Metadata: c.seccomp.ListenerMetadata, State: st})
	sock, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("%s: %w", field, err)
	}
	defer unix.Close(sock)
	if err := unix.Connect(sock, &unix.SockaddrUnix{Name: c.seccomp.ListenerPath}); err != nil {
		return fmt.Errorf("%s: %w", field, err)
	}
	if err := unix.Sendmsg(sock, msg, unix.UnixRights(fds[0]), nil, 0); err != nil {
		return fmt.Errorf("%s: %w", field, err)
	}
	return nil
}

func parseRights(oob []byte) ([]int, error) {
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil || len(msgs) != 1 {
		return nil, errors.New("no fd from the executor")
	}
	fds, err := unix.ParseUnixRights(&msgs[0])
	if err != nil || len(fds) != 1 {
		return nil, errors.New("no fd from the executor")
	}
	return fds, nil
}

// limitsAsked tells whether linux.resources asks for limits (devices
// aside: without privileges device nodes are the host's, bound).
func limitsAsked(s *specs.Spec) bool {
	if s.Linux == nil || s.Linux.Resources == nil {
		return false
	}
	r := *s.Linux.Resources
	r.Devices = nil
	return !reflect.DeepEqual(r, specs.LinuxResources{})
}

// applyField names what a failed cgroup creation is about: the realtime
// cpu limits are written while the cgroup is made (before a process may
// join it), and a parent without the budget refuses them with EINVAL.
func applyField(s *specs.Spec, err error) string {
	if s.Linux != nil && s.Linux.Resources != nil && s.Linux.Resources.CPU != nil {
		cpu := s.Linux.Resources.CPU
		switch {
		case strings.Contains(err.Error(), "/cpuset.cpus"):
			// the library writes the cpuset when it makes the cgroup
			return fmt.Sprintf("linux.resources.cpu.cpus %q", cpu.Cpus)
		case strings.Contains(err.Error(), "/cpuset.mems"):
			return fmt.Sprintf("linux.resources.cpu.mems %q", cpu.Mems)
		case errors.Is(err, unix.EINVAL) && (cpu.RealtimeRuntime != nil || cpu.RealtimePeriod != nil):
			return "linux.resources.cpu.realtimeRuntime/realtimePeriod"
		}
	}
	return fmt.Sprintf("linux.cgroupsPath %q", cgroupsPath(s))
}
