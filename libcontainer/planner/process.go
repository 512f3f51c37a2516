package planner

import (
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"

	securejoin "github.com/cyphar/filepath-securejoin"
	"github.com/moby/sys/capability"
	"github.com/moby/sys/user"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/oci-rt/oci-rt/libcontainer/errmsg"
	"github.com/oci-rt/oci-rt/libcontainer/plan"
)

// Process is the container's process with every name resolved.
type Process struct {
	Args, Env      []string
	Cwd            string
	UID, GID       uint32
	AdditionalGids []uint32
	Umask          uint32
	Caps           Caps
	Rlimits        []Rlimit
	NoNewPrivs     bool
	Terminal       bool
	// ConsoleRows, ConsoleCols: process.consoleSize, the pty's size (0: the
	// kernel's, or the caller's terminal with oci-rt's own relay)
	ConsoleRows, ConsoleCols uint16
	Apparmor                 string     // profile to enter at exec
	SelinuxLabel             string     // label to take at exec
	Scheduler                *SchedAttr // process.scheduler, or nil
	IOPriority               *int64     // process.ioPriority as ioprio_set takes it, or nil
	// Affinity is process.execCPUAffinity (exec only): the CPU masks the
	// executor starts with and takes once in the cgroup (nil: none)
	Affinity Affinity
}

// Caps are the five capability sets as bit masks.
type Caps struct {
	Bounding, Effective, Permitted, Inheritable, Ambient uint64
	Last                                                 int    // the kernel's last capability
	AmbientDropped                                       uint64 // ambient ones neither permitted nor inheritable
	// Ignored names the capabilities left out: unknown, beyond the
	// kernel's last one, or outside oci-rt's own bounding set (they cannot
	// be granted); runtime-spec: logged as a warning, not a failure
	Ignored []string
}

// inOwnBounding tells whether oci-rt's bounding set has capability bit.
func inOwnBounding(bit int) bool {
	r, err := unix.PrctlRetInt(unix.PR_CAPBSET_READ, uintptr(bit), 0, 0, 0)
	return err != nil || r == 1
}

// Rlimit is one resource limit.
type Rlimit struct {
	Resource   int
	Soft, Hard uint64
	Field      string
}

var rlimits = map[string]int{
	"RLIMIT_AS": unix.RLIMIT_AS, "RLIMIT_CORE": unix.RLIMIT_CORE, "RLIMIT_CPU": unix.RLIMIT_CPU,
	"RLIMIT_DATA": unix.RLIMIT_DATA, "RLIMIT_FSIZE": unix.RLIMIT_FSIZE, "RLIMIT_LOCKS": unix.RLIMIT_LOCKS,
	"RLIMIT_MEMLOCK": unix.RLIMIT_MEMLOCK, "RLIMIT_MSGQUEUE": unix.RLIMIT_MSGQUEUE, "RLIMIT_NICE": unix.RLIMIT_NICE,
	"RLIMIT_NOFILE": unix.RLIMIT_NOFILE, "RLIMIT_NPROC": unix.RLIMIT_NPROC, "RLIMIT_RSS": unix.RLIMIT_RSS,
	"RLIMIT_RTPRIO": unix.RLIMIT_RTPRIO, "RLIMIT_RTTIME": unix.RLIMIT_RTTIME, "RLIMIT_SIGPENDING": unix.RLIMIT_SIGPENDING,
	"RLIMIT_STACK": unix.RLIMIT_STACK,
}

// capByName maps "CAP_CHOWN" to its number, for every capability the
// library knows (newer than the kernel is fine: runc ignores those too).
// (Built on first use, not at every start of the binary.)
var capByName = sync.OnceValue(func() map[string]int {
	m := map[string]int{}
	for _, c := range capability.ListKnown() {
		m["CAP_"+strings.ToUpper(c.String())] = int(c)
	}
	return m
})

// CapsBeyondBounding lists the capabilities c asks for, in any set, that
// oci-rt's own bounding set lacks: those make capset fail with EPERM (a
// sandbox that withholds CAP_SYS_RESOURCE, say), and the error says which.
func CapsBeyondBounding(c *specs.LinuxCapabilities) []string {
	if c == nil {
		return nil
	}
	own, err := capability.NewPid2(0)
	if err != nil || own.Load() != nil {
		return nil
	}
	seen := map[string]bool{}
	var out []string
	for _, set := range [][]string{c.Bounding, c.Effective, c.Permitted, c.Inheritable, c.Ambient} {
		for _, name := range set {
			n, ok := capByName()[strings.ToUpper(name)]
			if ok && !own.Get(capability.BOUNDING, capability.Cap(n)) && !seen[name] {
				seen[name] = true
				out = append(out, name)
			}
		}
	}
	return out
}

// CapNames lists the known capabilities, for `features`.
func CapNames() []string {
	var out []string
	for n := range capByName() {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// lastCap reads the kernel's last capability.
func lastCap() int {
	c, err := capability.LastCap()
	if err != nil {
		return int(capability.ListKnown()[len(capability.ListKnown())-1])
	}
	return int(c)
}

// NoProcess stands for a config without process: create may go on (the
// spec requires process only for start), and start fails.
func NoProcess() Process {
	return Process{Cwd: "/", Umask: 0o022, Caps: Caps{Last: lastCap()}}
}

// checkExecStrings refuses an argument or environment string longer than
// execve takes (MAX_ARG_STRLEN: 32 pages, its NUL included), which would
// fail only at start, as E2BIG, and one holding a NUL byte, which execve
// would cut there without a word (runc refuses both at start).
func checkExecStrings(field string, list []string) error {
	limit := 32 * unix.Getpagesize()
	for i, s := range list {
		if len(s) >= limit {
			return fmt.Errorf("%s[%d]: %d bytes, longer than execve takes (%d)", field, i, len(s), limit-1)
		}
		if strings.IndexByte(s, 0) >= 0 {
			return fmt.Errorf("%s[%d] %q: holds a NUL byte", field, i, errmsg.Value(s))
		}
	}
	return nil
}

// checkEnv refuses a variable that is not NAME=VALUE with a name, as
// runc 1.5 does (execve would pass it on, and the process would see a
// variable no shell can name).
func checkEnv(env []string) error {
	for i, kv := range env {
		if n := strings.IndexByte(kv, '='); n <= 0 {
			return fmt.Errorf("process.env[%d] %q: not NAME=VALUE", i, errmsg.Value(kv))
		}
	}
	return nil
}

// ResolveProcess validates process and resolves what it names; rootfs is
// where the container's /etc/passwd is looked up for HOME.
func ResolveProcess(p *specs.Process, rootfs string) (Process, error) {
	if p == nil {
		return Process{}, errors.New("process: missing")
	}
	if len(p.Args) == 0 || p.Args[0] == "" {
		return Process{}, errors.New("process.args: empty, nothing to run")
	}
	if !strings.HasPrefix(p.Cwd, "/") {
		return Process{}, fmt.Errorf("process.cwd %q: not an absolute path", p.Cwd)
	}
	if err := checkExecStrings("process.args", p.Args); err != nil {
		return Process{}, err
	}
	if err := checkExecStrings("process.env", p.Env); err != nil {
		return Process{}, err
	}
	if err := checkEnv(p.Env); err != nil {
		return Process{}, err
	}
	out := Process{
		Args: p.Args, Env: p.Env, Cwd: p.Cwd, UID: p.User.UID, GID: p.User.GID,
		AdditionalGids: p.User.AdditionalGids, Umask: 0o022, NoNewPrivs: p.NoNewPrivileges, Terminal: p.Terminal,
		Apparmor: p.ApparmorProfile, SelinuxLabel: p.SelinuxLabel,
	}
	if p.User.Umask != nil {
		out.Umask = *p.User.Umask
	}
	if b := p.ConsoleSize; b != nil && p.Terminal {
		if b.Height > 0xffff || b.Width > 0xffff {
			return Process{}, fmt.Errorf("process.consoleSize %dx%d: a pty is at most 65535 rows and columns", b.Height, b.Width)
		}
		out.ConsoleRows, out.ConsoleCols = uint16(b.Height), uint16(b.Width)
	}
	var err error
	if out.Caps, err = resolveCaps(p.Capabilities, inOwnBounding); err != nil {
		return Process{}, err
	}
	if out.Rlimits, err = resolveRlimits(p.Rlimits); err != nil {
		return Process{}, err
	}
	if err = checkRefusedProcess(p); err != nil {
		return Process{}, err
	}
	if out.Scheduler, err = resolveScheduler(p.Scheduler); err != nil {
		return Process{}, err
	}
	if out.IOPriority, err = resolveIOPriority(p.IOPriority); err != nil {
		return Process{}, err
	}
	if out.Affinity, err = resolveAffinity(p.ExecCPUAffinity); err != nil {
		return Process{}, err
	}
	out.Env = prepareEnv(p.Env, rootfs, int(out.UID))
	return out, nil
}

// prepareEnv gives the process its environment as runc 1.5 does: a name
// given twice keeps its last value (where that one stands), and HOME,
// when missing or empty, comes from the user's entry in the container's
// /etc/passwd, else "/". The spec's slice is not written to. A process
// without env gets none, HOME included (runc 1.5: nothing to prepare).
func prepareEnv(env []string, rootfs string, uid int) []string {
	if env == nil {
		return nil
	}
	out := make([]string, 0, len(env)+1)
	home := false
	for i, kv := range env {
		name, val, _ := strings.Cut(kv, "=")
		if lastOf(env, name) != i {
			continue
		}
		if name == "HOME" {
			if val == "" {
				continue // replaced below
			}
			home = true
		}
		out = append(out, kv)
	}
	if !home {
		out = append(out, "HOME="+homeOf(rootfs, uid))
	}
	return out
}

// lastOf is the index of the last variable named name in env; environments
// are short, and a map would cost more than this scan for the usual few.
func lastOf(env []string, name string) int {
	for i := len(env) - 1; i >= 0; i-- {
		if n, _, _ := strings.Cut(env[i], "="); n == name {
			return i
		}
	}
	return -1
}

// resolveCaps turns the capability names into masks; have tells whether a
// capability is in oci-rt's own bounding set (only asked of those named).
func resolveCaps(c *specs.LinuxCapabilities, have func(bit int) bool) (Caps, error) {
	caps := Caps{Last: lastCap()}
	if c == nil {
		return caps, nil
	}
	sets := []struct {
		name  string
		names []string
		mask  *uint64
	}{
		{"bounding", c.Bounding, &caps.Bounding}, {"effective", c.Effective, &caps.Effective},
		{"permitted", c.Permitted, &caps.Permitted}, {"inheritable", c.Inheritable, &caps.Inheritable},
		{"ambient", c.Ambient, &caps.Ambient},
	}
	var checked, grantable uint64 // bits asked of the bounding set so far
	ignored := map[string]bool{}
	for _, s := range sets {
		for _, n := range s.names {
			bit, ok := capByName()[strings.ToUpper(n)]
			if ok && bit <= caps.Last && checked&(1<<bit) == 0 {
				checked |= 1 << bit
				if have(bit) {
					grantable |= 1 << bit
				}
			}
			if !ok || bit > caps.Last || grantable&(1<<bit) == 0 {
				// unknown, missing from the kernel, or not ours to give
				if !ignored[n] {
					ignored[n] = true
					caps.Ignored = append(caps.Ignored, n)
				}
				continue
			}
			*s.mask |= 1 << bit
		}
	}
	// the kernel raises an ambient capability only if it is permitted and
	// inheritable; runc warns and goes on (configs from `runc spec` list
	// ambient ones without inheritable)
	caps.AmbientDropped = caps.Ambient &^ (caps.Permitted & caps.Inheritable)
	caps.Ambient &^= caps.AmbientDropped
	return caps, nil
}

func resolveRlimits(rl []specs.POSIXRlimit) ([]Rlimit, error) {
	var out []Rlimit
	seen := map[string]bool{}
	for i, r := range rl {
		field := fmt.Sprintf("process.rlimits[%d].type %q", i, r.Type)
		res, ok := rlimits[r.Type]
		if !ok {
			return nil, fmt.Errorf("%s: unknown resource limit", field)
		}
		if seen[r.Type] {
			return nil, fmt.Errorf("%s: given twice", field)
		}
		seen[r.Type] = true
		if r.Soft > r.Hard {
			return nil, fmt.Errorf("%s: soft limit %d above hard limit %d", field, r.Soft, r.Hard)
		}
		out = append(out, Rlimit{Resource: res, Soft: r.Soft, Hard: r.Hard, Field: field})
	}
	return out, nil
}

// homeOf finds uid's home in the container's /etc/passwd, without
// following links out of the rootfs; "/" when there is none, as runc does.
func homeOf(rootfs string, uid int) string {
	path, err := securejoin.SecureJoin(rootfs, "/etc/passwd")
	if err != nil {
		return "/"
	}
	users, err := user.ParsePasswdFileFilter(path, func(u user.User) bool { return u.Uid == uid })
	if err != nil || len(users) == 0 || users[0].Home == "" {
		return "/"
	}
	return users[0].Home
}

// addConsole gives the process a pty; a container's (not an exec's) is
// also bound onto /dev/console.
func addConsole(p *plan.Plan, in *Input) {
	pr := &in.Process
	if pr.Terminal && in.ConsoleFd >= 0 {
		// the pty is the process's (its group is devpts' gid= option), as
		// with runc, so that a non-root process can use its terminal
		p.Add("process.terminal", plan.OpConsole, []int64{int64(in.ConsoleFd), boolInt(in.ConsoleRelayed),
			int64(pr.ConsoleRows), int64(pr.ConsoleCols), int64(pr.UID), consoleMount(in)})
	}
}

// consoleMount says whether a create's /dev/console is bound (1), and
// whether /dev is the host's, where nothing may be replaced (2); exec's is
// not (0).
func consoleMount(in *Input) int64 {
	switch {
	case in.StartFd < 0:
		return 0
	case devBound(in.Spec.Mounts):
		return 2
	}
	return 1
}

// addProcess sets up the process and ends the plan: terminal, limits,
// user, capabilities, then (for create) waits for start, runs the
// startContainer hooks and execs.
func addProcess(p *plan.Plan, in *Input) error {
	pr := &in.Process
	if in.StartFd < 0 {
		addConsole(p, in) // exec: a create's comes before the root is read-only
	}
	if in.PidfdFd > 0 {
		// named as runc names it: its init's type
		kind := "setns"
		if in.StartFd >= 0 {
			kind = "standard"
		}
		p.Add("--pidfd-socket", plan.OpPidfd, []int64{int64(in.PidfdFd)}, kind)
	}
	for _, r := range pr.Rlimits {
		p.Add(r.Field, plan.OpRlimit, []int64{int64(r.Resource), int64(r.Soft), int64(r.Hard)})
	}
	// after the rlimits (RLIMIT_RTPRIO may be what allows SCHED_FIFO),
	// while the process still has every capability
	addProcessAttrs(p, in)
	p.Add("--preserve-fds", plan.OpCloseFds, []int64{int64(in.FirstCloseFd)})
	// process.cwd is entered while the privileges to reach it are still
	// ours (a directory only root may enter on the way), and again as the
	// user if they did not suffice (root squashed on NFS), as runc does
	cwdField := fmt.Sprintf("process.cwd %q", pr.Cwd)
	p.Add(cwdField, plan.OpChdir, []int64{plan.ChdirFirst}, pr.Cwd)
	seccompEarly := in.Seccomp != nil && !pr.NoNewPrivs
	if seccompEarly {
		// without no_new_privs installing a filter needs CAP_SYS_ADMIN: do
		// it before the capabilities go
		addSeccomp(p, in.Seccomp)
	}
	c := pr.Caps
	p.Add("process.capabilities.bounding", plan.OpCapBset, []int64{int64(c.Bounding), int64(c.Last)})
	p.Add("process.user", plan.OpPrctl, []int64{unix.PR_SET_KEEPCAPS, 1})
	ids := []int64{int64(pr.UID), int64(pr.GID)}
	for _, g := range pr.AdditionalGids {
		ids = append(ids, int64(g))
	}
	p.Add(fmt.Sprintf("process.user %d:%d", pr.UID, pr.GID), plan.OpUser, ids)
	p.Add(cwdField, plan.OpChdir, []int64{plan.ChdirRetry}, pr.Cwd)
	p.Add("process.user", plan.OpPrctl, []int64{unix.PR_SET_KEEPCAPS, 0})
	p.Add("process.capabilities", plan.OpCapSet,
		[]int64{int64(c.Effective), int64(c.Permitted), int64(c.Inheritable), int64(c.Ambient), int64(c.Last)})
	p.Add("process.user.umask", plan.OpUmask, []int64{int64(pr.Umask)})
	if pr.NoNewPrivs {
		p.Add("process.noNewPrivileges", plan.OpPrctl, []int64{unix.PR_SET_NO_NEW_PRIVS, 1})
	}
	if len(pr.Args) == 0 {
		// no process: the executor says so at start (argc 0)
		if in.StartFd >= 0 {
			p.Add("create", plan.OpReady, nil)
			p.Add("start", plan.OpWaitStart, []int64{int64(in.StartFd)})
		}
		p.Add("process", plan.OpExec, []int64{0})
		return nil
	}
	// a filter with a notify listener is installed while create still
	// runs, to hand the listener on (as runc does); otherwise as close to
	// execve as possible, so that few syscalls run under it
	seccompNow := in.Seccomp != nil && !seccompEarly && in.Seccomp.ListenerPath != ""
	hooks := startHooks(in.Spec)
	if in.StartFd < 0 {
		hooks = nil
	}
	// startContainer hooks run as runc runs them: as the process's user,
	// with its capabilities and under its seccomp filter
	seccompBeforeHooks := in.Seccomp != nil && !seccompEarly && !seccompNow && len(hooks) > 0
	if in.StartFd >= 0 {
		// find args[0] now, as runc does, so that create (not start)
		// reports a missing or non-executable command
		p.Add(fmt.Sprintf("process.args[0] %q", pr.Args[0]), plan.OpCheckExec, []int64{int64(len(pr.Args))},
			append(append([]string(nil), pr.Args...), pr.Env...)...)
		if seccompNow {
			addSeccomp(p, in.Seccomp)
		}
		p.Add("create", plan.OpReady, nil)
		p.Add("start", plan.OpWaitStart, []int64{int64(in.StartFd)})
		if seccompBeforeHooks {
			addSeccomp(p, in.Seccomp)
		}
		for i, h := range hooks {
			if len(h.Env) == 0 {
				// runc gives a hook without an environment the process's
				h.Env = pr.Env
			}
			addHook(p, fmt.Sprintf("hooks.startContainer[%d] path %q", i, h.Path), h)
		}
	}
	// LSM transitions take effect at the next execve: after the hooks
	if pr.Apparmor != "" {
		p.Add(fmt.Sprintf("process.apparmorProfile %q", pr.Apparmor), plan.OpWrite, nil,
			"/proc/self/attr/apparmor/exec", "exec "+pr.Apparmor)
	}
	if pr.SelinuxLabel != "" {
		p.Add(fmt.Sprintf("process.selinuxLabel %q", pr.SelinuxLabel), plan.OpWrite, nil,
			"/proc/self/attr/exec", pr.SelinuxLabel)
	}
	if in.Seccomp != nil && !seccompEarly && !(seccompNow && in.StartFd >= 0) && !seccompBeforeHooks {
		addSeccomp(p, in.Seccomp)
	}
	field := fmt.Sprintf("process.args[0] %q", pr.Args[0])
	p.Add(field, plan.OpExec, []int64{int64(len(pr.Args))}, append(append([]string(nil), pr.Args...), pr.Env...)...)
	return nil
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

func startHooks(s *specs.Spec) []specs.Hook {
	if s.Hooks == nil {
		return nil
	}
	return s.Hooks.StartContainer
}

func addSeccomp(p *plan.Plan, s *Seccomp) {
	notify := int64(0)
	if s.ListenerPath != "" {
		notify = 1
	}
	p.Add("linux.seccomp", plan.OpSeccomp, []int64{int64(s.Flags), notify}, string(s.Program))
}

// PathReason keeps the reason of a failed file operation without repeating
// its path, for errors that name the config field instead.
func PathReason(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
