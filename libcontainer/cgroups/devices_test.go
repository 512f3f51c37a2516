package cgroups

import (
	"strings"
	"testing"

	devconfig "github.com/opencontainers/cgroups/devices/config"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// The default rules are runc's AllowedDevices, in runc's order.
func TestDefaultRules(t *testing.T) {
	want := []string{
		"c *:* m", "b *:* m", "c 1:3 rwm", "c 1:8 rwm", "c 1:7 rwm", "c 5:0 rwm",
		"c 1:5 rwm", "c 1:9 rwm", "c 136:* rwm", "c 5:2 rwm", "c 10:200 rwm",
	}
	rules := defaultRules(nil)
	if len(rules) != len(want) {
		t.Fatalf("got %s", rulesString(rules))
	}
	for i, r := range rules {
		if r.CgroupString() != want[i] || !r.Allow {
			t.Errorf("rule %d: got %q allow=%v, want allow %q", i, r.CgroupString(), r.Allow, want[i])
		}
	}
}

func TestAllowedDevicesIsACopy(t *testing.T) {
	devs := AllowedDevices()
	paths := map[string]bool{}
	for _, d := range devs {
		if d.Path != "" {
			paths[d.Path] = true
			if d.FileMode != 0o666 || d.Type != devconfig.CharDevice {
				t.Errorf("%s: mode %o type %c", d.Path, d.FileMode, d.Type)
			}
		}
	}
	for _, p := range []string{"/dev/null", "/dev/zero", "/dev/full", "/dev/tty", "/dev/random", "/dev/urandom"} {
		if !paths[p] {
			t.Errorf("%s missing", p)
		}
	}
	devs[2].Major = 99
	devs[2].Path = "/dev/changed"
	if AllowedDevices()[2].Major != 1 || defaultRules(nil)[2].Major != 1 {
		t.Error("AllowedDevices result aliases the defaults")
	}
}

func TestDefaultRulesDedupByPath(t *testing.T) {
	rules := defaultRules([]specs.LinuxDevice{{Path: "/dev/null"}, {Path: "/dev/tty"}, {Path: "/dev/pts/0"}})
	got := rulesString(rules)
	if strings.Contains(got, "c 1:3 ") || strings.Contains(got, "c 5:0 ") {
		t.Errorf("spec devices not dropped: %s", got)
	}
	if len(rules) != len(allowedDevices)-2 {
		t.Errorf("got %d rules: %s", len(rules), got)
	}
}

func rule(allow bool, s string) *devconfig.Rule {
	r, err := parseListLine(s)
	if err != nil {
		if s == "a" {
			return &devconfig.Rule{Type: 'a', Major: -1, Minor: -1, Permissions: "rwm", Allow: allow}
		}
		panic(err)
	}
	r.Allow = allow
	return r
}

func TestDevStateWhitelist(t *testing.T) {
	s, err := buildDevState([]*devconfig.Rule{
		rule(false, "a"), rule(true, "c 1:3 rw"), rule(true, "c 1:3 m"),
		rule(true, "c 1:5 rwm"), rule(false, "c 1:5 w"), rule(true, "c 1:9 r"), rule(false, "c 1:9 r"),
	})
	if err != nil {
		t.Fatal(err)
	}
	if s.allowAll || len(s.except) != 2 || s.except[devKey{'c', 1, 3}] != "rwm" || s.except[devKey{'c', 1, 5}] != "rm" {
		t.Errorf("got %+v", s)
	}
}

// Rules start from deny-all even without an explicit "a" rule.
func TestDevStateDefaultsToDenyAll(t *testing.T) {
	s, err := buildDevState([]*devconfig.Rule{rule(true, "c 1:3 rwm")})
	if err != nil || s.allowAll || len(s.except) != 1 {
		t.Errorf("got %+v, %v", s, err)
	}
}

func TestDevStateBlacklist(t *testing.T) {
	s, err := buildDevState([]*devconfig.Rule{rule(true, "a"), rule(false, "b 8:* rwm"), rule(false, "c 1:3 w")})
	if err != nil {
		t.Fatal(err)
	}
	if !s.allowAll || len(s.except) != 2 || s.except[devKey{'b', 8, -1}] != "rwm" {
		t.Errorf("got %+v", s)
	}
}

// Denying part of a wildcard allow is silently ignored by the kernel, so it
// is an error rather than a false sense of security.
func TestDevStateRefusesWildcardHoles(t *testing.T) {
	_, err := buildDevState([]*devconfig.Rule{rule(true, "c *:* m"), rule(false, "c 1:3 m")})
	if err == nil || !strings.Contains(err.Error(), "c *:*") {
		t.Errorf("err = %v", err)
	}
	// Removing permissions the wildcard does not hold is fine.
	if _, err := buildDevState([]*devconfig.Rule{rule(true, "c *:* m"), rule(false, "c 1:3 r")}); err != nil {
		t.Error(err)
	}
}

func TestParseDevicesList(t *testing.T) {
	s, err := parseDevicesList("a *:* rwm\n")
	if err != nil || !s.allowAll || len(s.except) != 0 {
		t.Errorf("allow-all: %+v %v", s, err)
	}
	s, err = parseDevicesList("c 1:3 rwm\nc *:* m\nb 8:0 r\n")
	if err != nil || s.allowAll || len(s.except) != 3 || s.except[devKey{'c', -1, -1}] != "m" {
		t.Errorf("list: %+v %v", s, err)
	}
	for _, bad := range []string{"x 1:3 rwm", "c 1:3", "c a:3 rwm", "c 1:3 rwx", "c 1:3 "} {
		if _, err := parseDevicesList(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestDevStateTransition(t *testing.T) {
	cur, _ := parseDevicesList("c 1:3 rwm\nc 1:5 rwm\nc 1:7 r\n")
	target, _ := buildDevState([]*devconfig.Rule{rule(true, "c 1:3 rwm"), rule(true, "c 1:5 r"), rule(true, "c 1:9 rw")})
	got := rulesString(ruleptrs(cur.transition(target, false)))
	// Kept permissions are never touched: no "a" rule, no write for 1:3.
	want := "deny c 1:5 wm; deny c 1:7 r; allow c 1:9 rw"
	if got != want {
		t.Errorf("got %s\nwant %s", got, want)
	}
}

func TestDevStateTransitionFromAllowAll(t *testing.T) {
	cur, _ := parseDevicesList("a *:* rwm\n")
	target, _ := buildDevState([]*devconfig.Rule{rule(true, "c 1:3 rwm")})
	if got := rulesString(ruleptrs(cur.transition(target, false))); got != "deny a *:* rwm; allow c 1:3 rwm" {
		t.Errorf("got %s", got)
	}
	// A default-allow target from a default-allow cgroup still resets,
	// since the current deny exceptions cannot be read.
	target, _ = buildDevState([]*devconfig.Rule{rule(true, "a"), rule(false, "c 1:3 w")})
	if got := rulesString(ruleptrs(cur.transition(target, false))); got != "allow a *:* rwm; deny c 1:3 w" {
		t.Errorf("got %s", got)
	}
}

func ruleptrs(rules []devconfig.Rule) []*devconfig.Rule {
	out := make([]*devconfig.Rule, len(rules))
	for i := range rules {
		out[i] = &rules[i]
	}
	return out
}

func TestDevFilterJumps(t *testing.T) {
	s, _ := buildDevState([]*devconfig.Rule{rule(true, "c 1:3 r"), rule(true, "b 8:* rwm")})
	prog, err := devFilter(s)
	if err != nil {
		t.Fatal(err)
	}
	// Every jump must land on the first instruction of the next block
	// (a type test) or on the final default verdict.
	for i, in := range prog {
		if in.code&0x07 != 0x05 || in.code == opExit {
			continue
		}
		dst := i + 1 + int(in.off)
		typeTest := dst < len(prog) && prog[dst].code == opJneImm && prog[dst].dst == 2
		if !typeTest && dst != len(prog)-2 {
			t.Errorf("insn %d jumps to %d", i, dst)
		}
	}
	last := prog[len(prog)-2]
	if last.code != opMovImm32 || last.imm != 0 || prog[len(prog)-1].code != opExit {
		t.Error("default verdict must be deny")
	}
	if got := len(encode(prog)); got != 8*len(prog) {
		t.Errorf("encoded %d bytes", got)
	}
}

// The writes for a rule list follow its order, so that devices.list (the
// kernel appends new exceptions) shows the spec's rules first, in order,
// then the defaults: what runtime-tools' linux_cgroups_devices checks.
func TestDevStateTransitionKeepsListedOrder(t *testing.T) {
	spec := []*devconfig.Rule{rule(false, "a"), rule(true, "c 10:229 rwm"), rule(true, "b 8:20 rw"), rule(true, "b 10:200 r")}
	target, err := buildDevState(append(spec, defaultRules(nil)...))
	if err != nil {
		t.Fatal(err)
	}
	cur, _ := parseDevicesList("a *:* rwm\n")
	got := rulesString(ruleptrs(cur.transition(target, false)))
	want := "deny a *:* rwm; allow c 10:229 rwm; allow b 8:20 rw; allow b 10:200 r; allow c *:* m; allow b *:* m; " +
		"allow c 1:3 rwm; allow c 1:8 rwm; allow c 1:7 rwm; allow c 5:0 rwm; allow c 1:5 rwm; allow c 1:9 rwm; " +
		"allow c 136:* rwm; allow c 5:2 rwm; allow c 10:200 rwm"
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

// The order modelled is the kernel's: a merge keeps an exception's place,
// and one removed and added again moves to the end.
func TestDevStateOrderIsTheKernels(t *testing.T) {
	s, err := buildDevState([]*devconfig.Rule{
		rule(true, "c 1:3 r"), rule(true, "c 1:5 r"), rule(true, "c 1:9 r"),
		rule(true, "c 1:3 w"), rule(false, "c 1:5 r"), rule(true, "c 1:5 m"),
	})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, k := range s.orderedKeys() {
		got = append(got, keyString(k)+" "+string(s.except[k]))
	}
	if want := "c 1:3 rw, c 1:9 r, c 1:5 m"; strings.Join(got, ", ") != want {
		t.Errorf("got %q, want %q", strings.Join(got, ", "), want)
	}
	// devices.list is read back in its own order.
	cur, _ := parseDevicesList("c 1:9 r\nc 1:3 rwm\n")
	if ks := cur.orderedKeys(); len(ks) != 2 || ks[0] != (devKey{'c', 1, 9}) {
		t.Errorf("parsed order %v", ks)
	}
}

// A cgroup without processes is rewritten from scratch (reset), so that
// what it inherited does not decide the order; one with processes only
// gets the difference, new exceptions after the kept ones.
func TestDevStateTransitionReset(t *testing.T) {
	cur, _ := parseDevicesList("c 1:3 rwm\nc 1:5 rwm\n")
	target, _ := buildDevState([]*devconfig.Rule{rule(true, "c 1:9 r"), rule(true, "c 1:5 rwm")})
	if got := rulesString(ruleptrs(cur.transition(target, true))); got != "deny a *:* rwm; allow c 1:9 r; allow c 1:5 rwm" {
		t.Errorf("reset: got %s", got)
	}
	if got := rulesString(ruleptrs(cur.transition(target, false))); got != "deny c 1:3 rwm; allow c 1:9 r" {
		t.Errorf("update: got %s", got)
	}
}
