package planner

import (
	"fmt"
	"math/bits"
	"sort"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/oci-rt/oci-rt/libcontainer/errmsg"
	"github.com/oci-rt/oci-rt/libcontainer/plan"
)

// The lookup tables are functions: a map literal at package level would be
// built by every command's initialisers (measured: `state` of a missing
// container, 40 interleaved: median 280 page faults with maps, 274 without,
// 273 before), these only when a config asks for the field.

// The process's scheduling, I/O priority, personality and NUMA memory
// policy: each one syscall in the executor, emitted only when the config
// asks for it, while the process is still root with every capability
// (SCHED_FIFO, IOPRIO_CLASS_RT need CAP_SYS_NICE or an rlimit).

// schedPolicies are sched_setattr's policies by their runtime-spec names.
func schedPolicies() map[specs.LinuxSchedulerPolicy]int64 {
	return map[specs.LinuxSchedulerPolicy]int64{
		specs.SchedOther: 0, specs.SchedFIFO: 1, specs.SchedRR: 2, specs.SchedBatch: 3,
		specs.SchedISO: 4, specs.SchedIdle: 5, specs.SchedDeadline: 6,
	}
}

// schedFlags are sched_attr's SCHED_FLAG_* bits.
func schedFlags() map[specs.LinuxSchedulerFlag]int64 {
	return map[specs.LinuxSchedulerFlag]int64{
		specs.SchedFlagResetOnFork: 0x01, specs.SchedFlagReclaim: 0x02, specs.SchedFlagDLOverrun: 0x04,
		specs.SchedFlagKeepPolicy: 0x08, specs.SchedFlagKeepParams: 0x10,
		specs.SchedFlagUtilClampMin: 0x20, specs.SchedFlagUtilClampMax: 0x40,
	}
}

// SchedAttr is process.scheduler as sched_setattr takes it.
type SchedAttr struct {
	Policy, Flags, Nice, Priority int64
	Runtime, Deadline, Period     uint64
	Field                         string
}

// resolveScheduler checks process.scheduler as runc does (the kernel
// would refuse the same, less clearly).
func resolveScheduler(s *specs.Scheduler) (*SchedAttr, error) {
	if s == nil {
		return nil, nil
	}
	field := fmt.Sprintf("process.scheduler.policy %q", s.Policy)
	policy, ok := schedPolicies()[s.Policy]
	if !ok {
		return nil, fmt.Errorf("%s: unknown policy (SCHED_OTHER, SCHED_FIFO, SCHED_RR, SCHED_BATCH, SCHED_ISO, SCHED_IDLE, SCHED_DEADLINE)", field)
	}
	a := &SchedAttr{Policy: policy, Nice: int64(s.Nice), Priority: int64(s.Priority),
		Runtime: s.Runtime, Deadline: s.Deadline, Period: s.Period, Field: field}
	for i, f := range s.Flags {
		bit, ok := schedFlags()[f]
		if !ok {
			return nil, fmt.Errorf("process.scheduler.flags[%d] %q: unknown flag", i, f)
		}
		a.Flags |= bit
	}
	if s.Nice < -20 || s.Nice > 19 {
		return nil, fmt.Errorf("process.scheduler.nice %d: out of range (-20 to 19)", s.Nice)
	}
	realtime := s.Policy == specs.SchedFIFO || s.Policy == specs.SchedRR
	if s.Priority != 0 && !realtime {
		return nil, fmt.Errorf("process.scheduler.priority %d: only SCHED_FIFO and SCHED_RR have one (policy %s)", s.Priority, s.Policy)
	}
	if realtime && (s.Priority < 1 || s.Priority > 99) {
		return nil, fmt.Errorf("process.scheduler.priority %d: %s needs 1 to 99", s.Priority, s.Policy)
	}
	if s.Policy != specs.SchedDeadline && (s.Runtime != 0 || s.Deadline != 0 || s.Period != 0) {
		return nil, fmt.Errorf("process.scheduler.runtime/deadline/period: only SCHED_DEADLINE has them (policy %s)", s.Policy)
	}
	return a, nil
}

// ioprioClasses are ioprio_set's classes by their runtime-spec names.
func ioprioClasses() map[specs.IOPriorityClass]int64 {
	return map[specs.IOPriorityClass]int64{
		specs.IOPRIO_CLASS_RT: 1, specs.IOPRIO_CLASS_BE: 2, specs.IOPRIO_CLASS_IDLE: 3,
	}
}

// resolveIOPriority gives process.ioPriority as ioprio_set's value.
func resolveIOPriority(p *specs.LinuxIOPriority) (*int64, error) {
	if p == nil {
		return nil, nil
	}
	class, ok := ioprioClasses()[p.Class]
	if !ok {
		return nil, fmt.Errorf("process.ioPriority.class %q: unknown class (IOPRIO_CLASS_RT, IOPRIO_CLASS_BE, IOPRIO_CLASS_IDLE)", p.Class)
	}
	if p.Priority < 0 || p.Priority > 7 {
		return nil, fmt.Errorf("process.ioPriority.priority %d: out of range (0 to 7)", p.Priority)
	}
	v := class<<13 | int64(p.Priority)
	return &v, nil
}

// Affinity is process.execCPUAffinity as CPU masks (64-bit words).
type Affinity struct {
	Initial, Final []uint64
}

// maxCPUs bounds the CPU lists (runc's MaxCPU: the kernel clamps a mask
// to the CPUs it supports).
const maxCPUs = 8192

func resolveAffinity(a *specs.CPUAffinity) (Affinity, error) {
	var out Affinity
	if a == nil {
		return out, nil
	}
	var err error
	if out.Initial, err = ParseList(a.Initial, maxCPUs); err != nil {
		return out, fmt.Errorf("process.execCPUAffinity.initial %q: %w", errmsg.Value(a.Initial), err)
	}
	if a.Initial != "" && countBits(out.Initial) == 0 {
		return out, fmt.Errorf("process.execCPUAffinity.initial %q: no CPU", errmsg.Value(a.Initial))
	}
	if out.Final, err = ParseList(a.Final, maxCPUs); err != nil {
		return out, fmt.Errorf("process.execCPUAffinity.final %q: %w", errmsg.Value(a.Final), err)
	}
	if a.Final != "" && countBits(out.Final) == 0 {
		return out, fmt.Errorf("process.execCPUAffinity.final %q: no CPU", errmsg.Value(a.Final))
	}
	return out, nil
}

// addFinalAffinity gives an exec'd process execCPUAffinity.final once it
// is in the container's cgroup (whose cpuset would otherwise decide).
func addFinalAffinity(p *plan.Plan, in *Input) {
	if f := in.Process.Affinity.Final; len(f) > 0 && in.StartFd < 0 {
		ints := make([]int64, len(f))
		for i, w := range f {
			ints[i] = int64(w)
		}
		p.Add(fmt.Sprintf("process.execCPUAffinity.final %q", errmsg.Value(in.Spec.Process.ExecCPUAffinity.Final)), plan.OpAffinity, ints)
	}
}

// mpolModes and mpolFlags are set_mempolicy's modes and mode flags.
func mpolModes() map[specs.MemoryPolicyModeType]int64 {
	return map[specs.MemoryPolicyModeType]int64{
		specs.MpolDefault: unix.MPOL_DEFAULT, specs.MpolPreferred: unix.MPOL_PREFERRED,
		specs.MpolBind: unix.MPOL_BIND, specs.MpolInterleave: unix.MPOL_INTERLEAVE,
		specs.MpolLocal: unix.MPOL_LOCAL, specs.MpolPreferredMany: unix.MPOL_PREFERRED_MANY,
		specs.MpolWeightedInterleave: unix.MPOL_WEIGHTED_INTERLEAVE,
	}
}

func mpolFlags() map[specs.MemoryPolicyFlagType]int64 {
	return map[specs.MemoryPolicyFlagType]int64{
		specs.MpolFStaticNodes: unix.MPOL_F_STATIC_NODES, specs.MpolFRelativeNodes: unix.MPOL_F_RELATIVE_NODES,
		specs.MpolFNumaBalancing: unix.MPOL_F_NUMA_BALANCING,
	}
}

// MemoryPolicyModes and MemoryPolicyFlags list the names oci-rt takes, for `features`.
func MemoryPolicyModes() []string { return sortedNames(mpolModes()) }
func MemoryPolicyFlags() []string { return sortedNames(mpolFlags()) }

// maxNodes bounds linux.memoryPolicy.nodes (the kernel's MAX_NUMNODES is at most 1024).
const maxNodes = 1024

// memoryPolicyOp compiles linux.memoryPolicy into set_mempolicy's
// arguments: mode|flags, maxnode, then the node mask's words.
func memoryPolicyOp(m *specs.LinuxMemoryPolicy) ([]int64, error) {
	mode, ok := mpolModes()[m.Mode]
	if !ok {
		return nil, fmt.Errorf("linux.memoryPolicy.mode %q: unknown mode", m.Mode)
	}
	for i, f := range m.Flags {
		bit, ok := mpolFlags()[f]
		if !ok {
			return nil, fmt.Errorf("linux.memoryPolicy.flags[%d] %q: unknown flag", i, f)
		}
		mode |= bit
	}
	mask, err := ParseList(m.Nodes, maxNodes)
	if err != nil {
		return nil, fmt.Errorf("linux.memoryPolicy.nodes %q: %w", errmsg.Value(m.Nodes), err)
	}
	n := countBits(mask)
	switch m.Mode {
	case specs.MpolDefault, specs.MpolLocal:
		if n != 0 {
			return nil, fmt.Errorf("linux.memoryPolicy.nodes %q: %s takes no nodes", errmsg.Value(m.Nodes), m.Mode)
		}
	case specs.MpolBind, specs.MpolInterleave, specs.MpolPreferredMany, specs.MpolWeightedInterleave:
		if n == 0 {
			return nil, fmt.Errorf("linux.memoryPolicy.nodes: %s needs at least one node", m.Mode)
		}
	}
	// maxnode counts the mask's bits plus one (the kernel drops the last)
	ints := []int64{mode, int64(64*len(mask) + 1)}
	for _, w := range mask {
		ints = append(ints, int64(w))
	}
	return ints, nil
}

// personalityDomains are personality(2)'s execution domains.
func personalityDomains() map[specs.LinuxPersonalityDomain]int64 {
	return map[specs.LinuxPersonalityDomain]int64{
		specs.PerLinux: 0x0000, specs.PerLinux32: 0x0008,
	}
}

func personalityOp(p *specs.LinuxPersonality) (int64, error) {
	if len(p.Flags) > 0 {
		return 0, fmt.Errorf("linux.personality.flags[0] %q: the runtime-spec defines no personality flags", p.Flags[0])
	}
	d, ok := personalityDomains()[p.Domain]
	if !ok {
		return 0, fmt.Errorf("linux.personality.domain %q: unknown domain (LINUX, LINUX32)", p.Domain)
	}
	return d, nil
}

// checkLinuxAttrs refuses a bad linux.memoryPolicy or linux.personality
// before anything is made.
func checkLinuxAttrs(l *specs.Linux) error {
	if l.MemoryPolicy != nil {
		if _, err := memoryPolicyOp(l.MemoryPolicy); err != nil {
			return err
		}
	}
	if l.Personality != nil {
		if _, err := personalityOp(l.Personality); err != nil {
			return err
		}
	}
	return nil
}

// addProcessAttrs sets process.scheduler, process.ioPriority,
// linux.personality and linux.memoryPolicy, in runc's order.
func addProcessAttrs(p *plan.Plan, in *Input) {
	pr := &in.Process
	if a := pr.Scheduler; a != nil {
		p.Add(a.Field, plan.OpSchedAttr, []int64{a.Policy, a.Flags, a.Nice, a.Priority,
			int64(a.Runtime), int64(a.Deadline), int64(a.Period)})
	}
	if pr.IOPriority != nil {
		p.Add("process.ioPriority", plan.OpIOPrio, []int64{*pr.IOPriority})
	}
	l := in.Spec.Linux
	if l == nil {
		return
	}
	if l.Personality != nil {
		d, _ := personalityOp(l.Personality) // checked by Validate
		p.Add(fmt.Sprintf("linux.personality.domain %q", l.Personality.Domain), plan.OpPersonality, []int64{d})
	}
	if l.MemoryPolicy != nil {
		ints, _ := memoryPolicyOp(l.MemoryPolicy)
		p.Add(fmt.Sprintf("linux.memoryPolicy mode %q nodes %q", l.MemoryPolicy.Mode, errmsg.Value(l.MemoryPolicy.Nodes)), plan.OpMempolicy, ints)
	}
}

// ParseList parses a CPU or node list ("0-3,7") into a bit mask of 64-bit
// words, refusing numbers from max up; "" is the empty mask.
func ParseList(s string, max int) ([]uint64, error) {
	var mask []uint64
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := listNumber(lo, max)
		if err != nil {
			return nil, err
		}
		b := a
		if isRange {
			if b, err = listNumber(hi, max); err != nil {
				return nil, err
			}
			if b < a {
				return nil, fmt.Errorf("range %q: ends before it starts", part)
			}
		}
		for n := a; n <= b; n++ {
			for len(mask) <= n/64 {
				mask = append(mask, 0)
			}
			mask[n/64] |= 1 << (n % 64)
		}
	}
	return mask, nil
}

func listNumber(s string, max int) (int, error) {
	n, err := strconv.ParseUint(strings.TrimSpace(s), 10, 32)
	if err != nil {
		return 0, fmt.Errorf("%q: not a number", s)
	}
	if n >= uint64(max) {
		return 0, fmt.Errorf("%d: above the highest this runtime takes (%d)", n, max-1)
	}
	return int(n), nil
}

func countBits(mask []uint64) int {
	n := 0
	for _, w := range mask {
		n += bits.OnesCount64(w)
	}
	return n
}

func sortedNames[K ~string, V any](t map[K]V) []string {
	out := make([]string, 0, len(t))
	for k := range t {
		out = append(out, string(k))
	}
	sort.Strings(out)
	return out
}
