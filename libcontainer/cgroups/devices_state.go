package cgroups

import (
	"bufio"
	"fmt"
	"sort"
	"strconv"
	"strings"

	devconfig "github.com/opencontainers/cgroups/devices/config"
)

// devState models a v1 devices cgroup the way the kernel does: a default
// policy plus exceptions keyed by exact (type, major, minor). It plays the
// role of the library's devices emulator, which we do not import (see the
// package comment): it tells what a rule list means, and which writes turn
// the current cgroup into that without briefly denying what stays allowed.
//
// It also keeps the kernel's order of the exceptions: the kernel appends a
// new exception to its list (devices.list shows them in that order), merges
// permissions into an existing one in place, and drops one that loses all
// its permissions. seq numbers the exceptions in that order, so that the
// writes made for a rule list leave devices.list in the order the list
// gives ("The runtime MUST apply entries in the listed order").
type devState struct {
	allowAll bool // default policy: allow with deny exceptions, or the reverse
	except   map[devKey]devconfig.Permissions
	seq      map[devKey]int // position in the kernel's exception list
	next     int
}

type devKey struct {
	typ          devconfig.Type
	major, minor int64
}

// buildDevState applies rules in order to a deny-all state, which is what
// the library (and so runc) means by a rule list.
func buildDevState(rules []*devconfig.Rule) (*devState, error) {
	s := &devState{}
	for _, r := range rules {
		if err := s.apply(*r); err != nil {
			return nil, err
		}
	}
	return s, nil
}

func (s *devState) apply(r devconfig.Rule) error {
	if !r.Type.CanCgroup() {
		return fmt.Errorf("device rule %q: type %q is not a cgroup device type", r.CgroupString(), r.Type)
	}
	if r.Type == devconfig.WildcardDevice {
		*s = devState{allowAll: r.Allow}
		return nil
	}
	k := devKey{r.Type, r.Major, r.Minor}
	if r.Allow != s.allowAll {
		s.add(k, r.Permissions)
		return nil
	}
	return s.remove(k, r.Permissions, r)
}

func (s *devState) add(k devKey, p devconfig.Permissions) {
	if s.except == nil {
		s.except = map[devKey]devconfig.Permissions{}
		s.seq = map[devKey]int{}
	}
	if _, ok := s.except[k]; !ok {
		s.seq[k] = s.next
		s.next++
	}
	s.except[k] = s.except[k].Union(p)
}

// remove drops permissions from the exact exception. The kernel silently
// ignores a rule that would punch a hole in a wildcard exception; refuse
// it instead, so nobody believes a device is denied when it is not.
func (s *devState) remove(k devKey, p devconfig.Permissions, r devconfig.Rule) error {
	for _, w := range []devKey{
		{k.typ, devconfig.Wildcard, k.minor},
		{k.typ, k.major, devconfig.Wildcard},
		{k.typ, devconfig.Wildcard, devconfig.Wildcard},
	} {
		if w != k && !s.except[w].Intersection(p).IsEmpty() {
			return fmt.Errorf("device rule %q cannot be applied: it overlaps a wildcard rule for %s", r.CgroupString(), keyString(w))
		}
	}
	left := s.except[k].Difference(p)
	if left.IsEmpty() {
		delete(s.except, k)
		delete(s.seq, k)
	} else {
		s.except[k] = left
	}
	return nil
}

func keyString(k devKey) string {
	r := devconfig.Rule{Type: k.typ, Major: k.major, Minor: k.minor}
	return strings.TrimSpace(r.CgroupString())
}

// parseDevicesList reads devices.list. It only shows allow entries: "a *:*
// rwm" means default-allow, and then the deny exceptions are invisible.
func parseDevicesList(list string) (*devState, error) {
	s := &devState{}
	sc := bufio.NewScanner(strings.NewReader(list))
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "a ") {
			s.allowAll = true
			continue
		}
		r, err := parseListLine(line)
		if err != nil {
			return nil, err
		}
		s.add(devKey{r.Type, r.Major, r.Minor}, r.Permissions)
	}
	return s, sc.Err()
}

func parseListLine(line string) (*devconfig.Rule, error) {
	f := strings.FieldsFunc(line, func(r rune) bool { return r == ' ' || r == ':' })
	if len(f) != 4 || (f[0] != "b" && f[0] != "c") {
		return nil, fmt.Errorf("devices.list: malformed line %q", line)
	}
	major, err1 := parseListNumber(f[1])
	minor, err2 := parseListNumber(f[2])
	perms := devconfig.Permissions(f[3])
	if err1 != nil || err2 != nil || perms.IsEmpty() || strings.Trim(f[3], "rwm") != "" {
		return nil, fmt.Errorf("devices.list: malformed line %q", line)
	}
	return &devconfig.Rule{Type: devconfig.Type(f[0][0]), Major: major, Minor: minor, Permissions: perms, Allow: true}, nil
}

func parseListNumber(s string) (int64, error) {
	if s == "*" {
		return devconfig.Wildcard, nil
	}
	return strconv.ParseInt(s, 10, 64)
}

// transition returns the writes that take the cgroup from s to target.
// A switch of default policy needs the disruptive "a" rule, and so does a
// default-allow source, whose deny exceptions cannot be read back, and
// reset (a cgroup without processes, where nothing can be disrupted).
// Otherwise only lost permissions are revoked and new ones granted.
// Exceptions are written in target's order, so that after a reset the
// kernel's list is in that order too; without one, the exceptions kept
// keep their places and new ones follow them.
func (s *devState) transition(target *devState, reset bool) []devconfig.Rule {
	var out []devconfig.Rule
	old := s.except
	if reset || s.allowAll || s.allowAll != target.allowAll {
		out = append(out, devconfig.Rule{
			Type: devconfig.WildcardDevice, Major: devconfig.Wildcard, Minor: devconfig.Wildcard,
			Permissions: "rwm", Allow: target.allowAll,
		})
		old = nil
	} else {
		for _, k := range s.orderedKeys() {
			if lost := old[k].Difference(target.except[k]); !lost.IsEmpty() {
				out = append(out, keyRule(k, lost, target.allowAll))
			}
		}
	}
	for _, k := range target.orderedKeys() {
		if gained := target.except[k].Difference(old[k]); !gained.IsEmpty() {
			out = append(out, keyRule(k, gained, !target.allowAll))
		}
	}
	return out
}

func keyRule(k devKey, p devconfig.Permissions, allow bool) devconfig.Rule {
	return devconfig.Rule{Type: k.typ, Major: k.major, Minor: k.minor, Permissions: p, Allow: allow}
}

// orderedKeys returns the exceptions in the kernel's list order.
func (s *devState) orderedKeys() []devKey {
	keys := make([]devKey, 0, len(s.except))
	for k := range s.except {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return s.seq[keys[i]] < s.seq[keys[j]] })
	return keys
}

// equal compares policies and exceptions (normalising permission order).
func (s *devState) equal(o *devState) bool {
	if s.allowAll != o.allowAll || len(s.except) != len(o.except) {
		return false
	}
	for k, p := range s.except {
		if p.Union("") != o.except[k].Union("") {
			return false
		}
	}
	return true
}
