package intelrdt

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// reserved are the entries of the resctrl root that are not groups: a
// closID naming one would be taken for an existing group.
var reserved = map[string]bool{"info": true, "mon_groups": true, "mon_data": true, "tasks": true, "cpus": true,
	"cpus_list": true, "schemata": true, "mode": true, "size": true}

// Validate checks linux.intelRdt on its own, before the host is looked at.
func Validate(r *specs.LinuxIntelRdt) error {
	if c := r.ClosID; c != "" && c != "/" {
		if c == "." || c == ".." || strings.ContainsAny(c, "/\n\x00") {
			return fmt.Errorf("linux.intelRdt.closID %q: not a resctrl group name (one path component, or \"/\" for the default group)", c)
		}
		if reserved[c] {
			return fmt.Errorf("linux.intelRdt.closID %q: names a file of resctrl's own, not a group", c)
		}
	}
	if m := r.MemBwSchema; m != "" && (!strings.HasPrefix(m, "MB:") || strings.Contains(m, "\n")) {
		return fmt.Errorf("linux.intelRdt.memBwSchema %q: must be one line starting with MB:", m)
	}
	for i, s := range r.Schemata {
		if strings.Contains(s, "\n") {
			return fmt.Errorf("linux.intelRdt.schemata[%d] %q: must not contain a newline", i, s)
		}
	}
	for _, l := range lines(r) {
		if l.doms == nil {
			return fmt.Errorf("%s %q: not a schemata line (RESOURCE:ID=VALUE;ID=VALUE...)", l.field, l.text)
		}
	}
	return nil
}

// line is one line of schemata the config asks for.
type line struct {
	field, text string
	resource    string
	doms        map[string]string // domain id → value, normalised; nil: not a schemata line
}

// lines are the config's schemata lines in the order they are written:
// l3CacheSchema (which may hold several, as L3CODE and L3DATA), memBwSchema,
// then schemata.
func lines(r *specs.LinuxIntelRdt) []line {
	var ls []line
	add := func(field, text string) {
		res, doms := parseLine(text)
		ls = append(ls, line{field: field, text: text, resource: res, doms: doms})
	}
	for _, t := range strings.Split(r.L3CacheSchema, "\n") {
		if t = strings.TrimSpace(t); t != "" {
			add("linux.intelRdt.l3CacheSchema", t)
		}
	}
	if r.MemBwSchema != "" {
		add("linux.intelRdt.memBwSchema", r.MemBwSchema)
	}
	for i, s := range r.Schemata {
		add("linux.intelRdt.schemata["+strconv.Itoa(i)+"]", s)
	}
	return ls
}

func hasSchemata(r *specs.LinuxIntelRdt) bool {
	return strings.TrimSpace(r.L3CacheSchema) != "" || r.MemBwSchema != "" || len(r.Schemata) > 0
}

// parseLine splits "L3:0=7f0;1=1f" into its resource and domains; nil
// domains when it is not of that form.
func parseLine(text string) (string, map[string]string) {
	res, rest, ok := strings.Cut(strings.TrimSpace(text), ":")
	if !ok || res == "" || strings.IndexFunc(res, notWord) >= 0 {
		return res, nil
	}
	doms := map[string]string{}
	for _, d := range strings.Split(rest, ";") {
		id, v, ok := strings.Cut(d, "=")
		id, v = strings.TrimSpace(id), strings.TrimSpace(v)
		if !ok || id == "" || v == "" || strings.IndexFunc(id, notDigit) >= 0 || strings.IndexFunc(v, notWord) >= 0 {
			return res, nil
		}
		doms[id] = normal(v)
	}
	return res, doms
}

// normal writes a value as the kernel reads it back: lower case, without
// leading zeros (a cache bitmask 0x0ff reads "ff").
func normal(v string) string {
	v = strings.TrimLeft(strings.ToLower(v), "0")
	if v == "" {
		return "0"
	}
	return v
}

func notDigit(c rune) bool { return c < '0' || c > '9' }

func notWord(c rune) bool {
	return !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_')
}

// parseSchemata reads a group's schemata file (lines padded with spaces);
// what does not parse is left out.
func parseSchemata(text string) map[string]map[string]string {
	have := map[string]map[string]string{}
	for _, t := range strings.Split(text, "\n") {
		if res, doms := parseLine(t); doms != nil {
			have[res] = doms
		}
	}
	return have
}

// differs says how the existing schemata differ from the config's line
// ("" when every domain it gives has that value).
func differs(l line, have map[string]map[string]string) string {
	got, ok := have[l.resource]
	if !ok {
		return "it has no " + l.resource + " line"
	}
	for _, id := range slices.Sorted(maps.Keys(l.doms)) {
		v := l.doms[id]
		if g, ok := got[id]; !ok {
			return fmt.Sprintf("it has no %s domain %s", l.resource, id)
		} else if g != v {
			return fmt.Sprintf("it has %s:%s=%s", l.resource, id, g)
		}
	}
	return ""
}
