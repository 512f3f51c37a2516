// Package seccomp compiles the OCI linux.seccomp section into a raw classic
// BPF program.
//
// The runtime never starts the Go runtime inside the container: a small C
// executor applies a precomputed plan right before execve. So seccomp is
// compiled here, with libseccomp, and only the resulting sock_filter array
// and the seccomp(2) flags are handed over; the executor installs them with
// seccomp(SECCOMP_SET_MODE_FILTER, Flags, &prog).
package seccomp

import (
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	libseccomp "github.com/seccomp/libseccomp-golang"
	"golang.org/x/sys/unix"
)

// Filter is a compiled filter ready for seccomp(2).
type Filter struct {
	// Program is the sock_filter array exactly as struct sock_fprog.filter
	// expects it: 8 bytes per instruction, native endian.
	Program []byte
	// Flags are the SECCOMP_FILTER_FLAG_* bits for seccomp(2): those from
	// linux.seccomp.flags plus SECCOMP_FILTER_FLAG_NEW_LISTENER when a
	// rule uses SCMP_ACT_NOTIFY (see filterFlags for the adjustments the
	// kernel requires).
	Flags uint
	// Notify is set when some rule uses SCMP_ACT_NOTIFY: the executor must
	// send the listener fd returned by seccomp(2) to ListenerPath.
	Notify           bool
	ListenerPath     string
	ListenerMetadata string
}

// Len is the number of BPF instructions, i.e. sock_fprog.len.
func (f *Filter) Len() int { return len(f.Program) / sockFilterSize }

// defaultRet is what SCMP_ACT_ERRNO and SCMP_ACT_TRACE return when no
// errnoRet is given; EPERM matches runc and crun.
const defaultRet = uint(unix.EPERM)

// maxRet bounds errnoRet: the value travels in the 16-bit SECCOMP_RET_DATA,
// and libseccomp-golang takes it as an int16.
const maxRet = 1<<15 - 1

// optimizeThreshold is the rule count above which libseccomp is asked for a
// binary-tree filter (like runc): a linear filter gets slow for large
// profiles, and libseccomp <= 2.5.4 misbehaves with a tree and no rules.
const optimizeThreshold = 32

// Compile builds the filter described by s; a nil s gives a nil Filter.
// Syscall names libseccomp does not know are skipped (they are most likely
// newer than the library, as runc does); any other unknown or invalid value
// is an error naming the offending field.
func Compile(s *specs.LinuxSeccomp) (*Filter, error) {
	if s == nil {
		return nil, nil
	}
	def, err := defaultAction(s)
	if err != nil {
		return nil, err
	}
	sf, err := libseccomp.NewFilter(def)
	if err != nil {
		return nil, fmt.Errorf("linux.seccomp.defaultAction %q: %w", s.DefaultAction, err)
	}
	defer sf.Release()
	if err := configure(sf, s); err != nil {
		return nil, err
	}
	notify := false
	for i, sc := range s.Syscalls {
		if err := addSyscall(sf, i, sc, def); err != nil {
			return nil, err
		}
		notify = notify || sc.Action == specs.ActNotify
	}
	return finish(sf, s, notify)
}

// defaultAction validates defaultAction/defaultErrnoRet.
func defaultAction(s *specs.LinuxSeccomp) (libseccomp.ScmpAction, error) {
	const field = "linux.seccomp.defaultAction"
	if s.DefaultAction == specs.ActNotify {
		// Every syscall would wait for an agent, including the ones the
		// executor needs to pass the listener fd to that agent.
		return libseccomp.ActInvalid, fieldErr(field, string(s.DefaultAction), "not allowed as the default action")
	}
	return actionFor(field, s.DefaultAction, "linux.seccomp.defaultErrnoRet", s.DefaultErrnoRet)
}

// configure applies the filter-wide settings: architectures, no NNP, and
// the tree optimisation.
func configure(sf *libseccomp.ScmpFilter, s *specs.LinuxSeccomp) error {
	for i, a := range s.Architectures {
		field := fmt.Sprintf("linux.seccomp.architectures[%d]", i)
		info, ok := archs[a]
		if !ok {
			return fieldErr(field, string(a), "unknown architecture")
		}
		if err := sf.AddArch(info.scmp); err != nil {
			// libseccomp refuses architectures it predates and those of
			// the other endianness (EDOM).
			return fmt.Errorf("%s %q: cannot be used on this host (libseccomp %s, other endianness or too new): %w", field, a, libVersion(), err)
		}
	}
	// NNP is the executor's business (process.noNewPrivileges); the
	// attribute only matters for seccomp_load, which we never call, but
	// keep it false so the filter state says what we mean.
	if err := sf.SetNoNewPrivsBit(false); err != nil {
		return fmt.Errorf("seccomp: clearing no_new_privs attribute: %w", err)
	}
	if countNames(s) > optimizeThreshold {
		// Best effort: older libseccomp lacks the attribute, and a linear
		// filter is still correct.
		_ = sf.SetOptimize(2)
	}
	return nil
}

func countNames(s *specs.LinuxSeccomp) int {
	n := 0
	for _, sc := range s.Syscalls {
		n += len(sc.Names)
	}
	return n
}

// finish exports the program, prepends the -ENOSYS stub and works out the
// seccomp(2) flags.
func finish(sf *libseccomp.ScmpFilter, s *specs.LinuxSeccomp, notify bool) (*Filter, error) {
	if notify && s.ListenerPath == "" {
		// Without an agent socket nobody would ever answer the
		// notifications and the container would hang.
		return nil, fmt.Errorf("linux.seccomp.listenerPath: must be set when SCMP_ACT_NOTIFY is used")
	}
	fl, err := filterFlags(s, notify)
	if err != nil {
		return nil, err
	}
	prog, err := exportBPF(sf)
	if err != nil {
		return nil, fmt.Errorf("seccomp: exporting BPF: %w", err)
	}
	stub, err := enosysStub(s)
	if err != nil {
		return nil, fmt.Errorf("seccomp: building -ENOSYS stub: %w", err)
	}
	prog = append(encode(stub), prog...)
	if n := len(prog) / sockFilterSize; n > unix.BPF_MAXINSNS {
		return nil, fmt.Errorf("linux.seccomp: filter has %d BPF instructions, the kernel accepts at most %d", n, unix.BPF_MAXINSNS)
	}
	return &Filter{
		Program:          prog,
		Flags:            fl,
		Notify:           notify,
		ListenerPath:     s.ListenerPath,
		ListenerMetadata: s.ListenerMetadata,
	}, nil
}

// filterFlags maps linux.seccomp.flags onto SECCOMP_FILTER_FLAG_* bits and
// adds what SCMP_ACT_NOTIFY needs.
func filterFlags(s *specs.LinuxSeccomp, notify bool) (uint, error) {
	var fl uint
	for i, name := range s.Flags {
		bit, ok := flags[name]
		if !ok {
			return 0, fieldErr(fmt.Sprintf("linux.seccomp.flags[%d]", i), string(name), "unknown flag")
		}
		fl |= bit
	}
	if !notify {
		// WAIT_KILLABLE_RECV only changes how notifications wait; the
		// kernel rejects it (EINVAL) without a listener, and libseccomp
		// drops it in that case too.
		return fl &^ unix.SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV, nil
	}
	fl |= unix.SECCOMP_FILTER_FLAG_NEW_LISTENER
	if fl&unix.SECCOMP_FILTER_FLAG_TSYNC != 0 {
		// seccomp(2) returns either a listener fd or the id of a thread it
		// could not sync, so the kernel only accepts TSYNC together with
		// NEW_LISTENER when sync failures are reported as ESRCH instead.
		fl |= unix.SECCOMP_FILTER_FLAG_TSYNC_ESRCH
	}
	return fl, nil
}

// addSyscall adds the rules of linux.seccomp.syscalls[i].
func addSyscall(sf *libseccomp.ScmpFilter, i int, sc specs.LinuxSyscall, def libseccomp.ScmpAction) error {
	field := fmt.Sprintf("linux.seccomp.syscalls[%d]", i)
	act, err := actionFor(field+".action", sc.Action, field+".errnoRet", sc.ErrnoRet)
	if err != nil {
		return err
	}
	conds, err := ruleConditions(field, sc.Args)
	if err != nil {
		return err
	}
	if len(sc.Names) == 0 {
		return fmt.Errorf("%s.names: must list at least one syscall", field)
	}
	for j, name := range sc.Names {
		nfield := fmt.Sprintf("%s.names[%d]", field, j)
		if err := addName(sf, nfield, name, act, def, conds); err != nil {
			return err
		}
	}
	return nil
}

func addName(sf *libseccomp.ScmpFilter, field, name string, act, def libseccomp.ScmpAction, conds [][]libseccomp.ScmpCondition) error {
	if name == "" {
		return fmt.Errorf("%s: empty syscall name", field)
	}
	if act == def {
		// libseccomp refuses rules that repeat the default action; they
		// would change nothing anyway.
		return nil
	}
	nr, err := libseccomp.GetSyscallFromName(name)
	if err != nil {
		// Unknown to this libseccomp: most likely newer than it, so
		// the kernel is unlikely to have it either. Skip like runc.
		return nil
	}
	for _, c := range conds {
		if err := sf.AddRuleConditional(nr, act, c); err != nil {
			return fmt.Errorf("%s %q: adding rule: %w", field, name, err)
		}
	}
	return nil
}

// actionFor validates an action and its errnoRet; ERRNO and TRACE carry the
// return code, every other action must not have one (the runtime-spec says
// the runtime MUST fail then).
func actionFor(field string, name specs.LinuxSeccompAction, retField string, ret *uint) (libseccomp.ScmpAction, error) {
	act, ok := actions[name]
	if !ok {
		return libseccomp.ActInvalid, fieldErr(field, string(name), "unknown action")
	}
	if act != libseccomp.ActErrno && act != libseccomp.ActTrace {
		if ret != nil {
			return libseccomp.ActInvalid, fmt.Errorf("%s %d: only allowed with SCMP_ACT_ERRNO or SCMP_ACT_TRACE, not %s", retField, *ret, name)
		}
		return act, nil
	}
	code := defaultRet
	if ret != nil {
		if *ret > maxRet {
			return libseccomp.ActInvalid, fmt.Errorf("%s %d: out of range (at most %d)", retField, *ret, maxRet)
		}
		code = *ret
	}
	return act.SetReturnCode(int16(code)), nil
}

// ruleConditions turns a syscall's args into the condition sets to add, one
// rule each. libseccomp ANDs the conditions of one rule but refuses two on
// the same argument, so, like runc, when an index repeats every condition
// becomes a rule of its own (i.e. they are ORed).
func ruleConditions(field string, args []specs.LinuxSeccompArg) ([][]libseccomp.ScmpCondition, error) {
	if len(args) == 0 {
		return [][]libseccomp.ScmpCondition{nil}, nil
	}
	conds := make([]libseccomp.ScmpCondition, 0, len(args))
	seen := map[uint]bool{}
	repeated := false
	for k, a := range args {
		c, err := condition(fmt.Sprintf("%s.args[%d]", field, k), a)
		if err != nil {
			return nil, err
		}
		repeated = repeated || seen[a.Index]
		seen[a.Index] = true
		conds = append(conds, c)
	}
	if !repeated {
		return [][]libseccomp.ScmpCondition{conds}, nil
	}
	sets := make([][]libseccomp.ScmpCondition, len(conds))
	for k, c := range conds {
		sets[k] = []libseccomp.ScmpCondition{c}
	}
	return sets, nil
}

// condition converts one argument filter. For SCMP_CMP_MASKED_EQ, value is
// the mask and valueTwo the expected result, as in libseccomp.
func condition(field string, a specs.LinuxSeccompArg) (libseccomp.ScmpCondition, error) {
	op, ok := operators[a.Op]
	if !ok {
		return libseccomp.ScmpCondition{}, fieldErr(field+".op", string(a.Op), "unknown operator")
	}
	if a.Index > 5 {
		return libseccomp.ScmpCondition{}, fmt.Errorf("%s.index %d: syscalls have at most 6 arguments (index 0-5)", field, a.Index)
	}
	c, err := libseccomp.MakeCondition(a.Index, op, a.Value, a.ValueTwo)
	if err != nil {
		return c, fmt.Errorf("%s: %w", field, err)
	}
	return c, nil
}

func fieldErr(field, value, reason string) error {
	return fmt.Errorf("%s %q: %s", field, value, reason)
}

func libVersion() string {
	ma, mi, mc := libseccomp.GetLibraryVersion()
	return fmt.Sprintf("%d.%d.%d", ma, mi, mc)
}
