// Package intelrdt applies linux.intelRdt through the resctrl filesystem:
// the container's processes go into a resctrl control group (a class of
// service, whose `schemata` file holds its cache and memory bandwidth
// allocations) and, with enableMonitoring, into a monitoring group of
// their own under its mon_groups. Nothing here runs unless a config asks
// for intelRdt. Every function takes the resctrl root, so that the tests
// run against a fake tree in a temporary directory.
//
// The runtime only makes and removes directories and writes `schemata`;
// the executor moves itself into the group (writing "0", itself, to each
// `tasks` file Tasks lists) before any other step, so that the container's
// process, and anything it forks, is in it before its payload runs.
package intelrdt

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/moby/sys/mountinfo"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Group is a container's place in resctrl, as runtime.json records it for
// exec (which joins it too) and delete (which removes what was made).
type Group struct {
	// Dir is the control group's directory: closID's, the container id's,
	// or the resctrl root for closID "/"
	Dir string `json:"dir"`
	// Made: this create made Dir
	Made bool `json:"made,omitempty"`
	// Keep: closID named Dir, which delete leaves alone even when it was
	// made for the container (runtime-spec: others may share it); only a
	// failed create removes it, if no task is in it
	Keep bool `json:"keep,omitempty"`
	// MonDir is the container's monitoring group (enableMonitoring),
	// made for it and removed at delete
	MonDir string `json:"monDir,omitempty"`

	root string // the resctrl root (Make's error details)
}

// mkdirGroup makes a resctrl group, whose files the kernel makes with it,
// and rmdirGroup removes one with them (the tests' fake tree does it
// itself).
var (
	mkdirGroup = func(dir string) error { return os.Mkdir(dir, 0o755) }
	rmdirGroup = os.Remove
)

// Root finds where resctrl is mounted, from /proc/self/mountinfo: read only
// when a config has intelRdt.
func Root() (string, error) {
	ms, err := mountinfo.GetMounts(func(m *mountinfo.Info) (skip, stop bool) {
		return m.FSType != "resctrl", m.FSType == "resctrl"
	})
	if err != nil {
		return "", fmt.Errorf("linux.intelRdt: the mount table: %w", err)
	}
	if len(ms) == 0 {
		return "", errors.New("linux.intelRdt: no resctrl filesystem is mounted on this host (none in /proc/self/mountinfo; mount -t resctrl resctrl /sys/fs/resctrl, on a CPU with RDT)")
	}
	return ms[0].Mountpoint, nil
}

// Open plans the container's group under the resctrl root: what exists
// already is checked now, before anything is made (Make makes it).
func Open(root, id string, r *specs.LinuxIntelRdt) (*Group, error) {
	if err := Validate(r); err != nil {
		return nil, err
	}
	g := &Group{Dir: filepath.Join(root, id), Keep: r.ClosID != "", root: root}
	switch {
	case r.ClosID == "/":
		g.Dir = root
	case r.ClosID != "":
		g.Dir = filepath.Join(root, r.ClosID)
	}
	if r.EnableMonitoring {
		g.MonDir = filepath.Join(g.Dir, "mon_groups", id)
	}
	if err := checkResources(root, r); err != nil {
		return nil, err
	}
	if r.ClosID != "" && !hasSchemata(r) {
		// the group must have been made by whoever manages it
		if _, err := os.Stat(filepath.Join(g.Dir, "tasks")); err != nil {
			return nil, fmt.Errorf("linux.intelRdt.closID %q: no such resctrl group (%s: %w): without a schemata to write, the group must exist", r.ClosID, g.Dir, unwrapPath(err))
		}
	}
	if r.EnableMonitoring {
		if _, err := os.Stat(filepath.Join(root, "info", "L3_MON")); err != nil {
			return nil, errors.New("linux.intelRdt.enableMonitoring: this host's resctrl has no monitoring (no info/L3_MON)")
		}
	}
	return g, nil
}

// checkResources refuses a schemata line for a resource this host's resctrl
// does not have (each has a directory in info/: L3, L3CODE, MB, L2, ...).
func checkResources(root string, r *specs.LinuxIntelRdt) error {
	for _, l := range lines(r) {
		if _, err := os.Stat(filepath.Join(root, "info", l.resource)); err != nil {
			return fmt.Errorf("%s %q: this host's resctrl has no %s resource (no info/%s)", l.field, l.text, l.resource, l.resource)
		}
	}
	return nil
}

// Make makes the group and its schemata, or checks a closID group that
// exists against the config; then the monitoring group. What it made is in
// g, for Remove, when it fails too.
func (g *Group) Make(id string, r *specs.LinuxIntelRdt) error {
	if err := g.makeControl(id, r); err != nil {
		return err
	}
	if g.MonDir == "" {
		return nil
	}
	mon := g.MonDir
	g.MonDir = ""
	if err := mkdirGroup(mon); err != nil {
		if errors.Is(err, os.ErrExist) {
			return fmt.Errorf("linux.intelRdt.enableMonitoring: the monitoring group %s exists already (not made for this container)", mon)
		}
		return fmt.Errorf("linux.intelRdt.enableMonitoring: make the monitoring group %s: %w%s", mon, unwrapPath(err), lastStatus(g.root))
	}
	g.MonDir = mon
	return nil
}

// makeControl makes the control group, or uses the one closID names.
func (g *Group) makeControl(id string, r *specs.LinuxIntelRdt) error {
	err := mkdirGroup(g.Dir)
	switch {
	case err == nil:
		g.Made = true
		return g.writeSchemata(r)
	case !errors.Is(err, os.ErrExist):
		return fmt.Errorf("linux.intelRdt: make the resctrl group %s: %w%s", g.Dir, unwrapPath(err), lastStatus(g.root))
	case r.ClosID == "":
		// named after the container, yet someone else's (or left by a
		// create that was killed before it recorded it): not touched
		return fmt.Errorf("linux.intelRdt: the resctrl group %s (named after container %q) exists already and was not made for it: remove it, or name it in closID", g.Dir, id)
	}
	return g.compareSchemata(r)
}

// writeSchemata writes each line to the new group's schemata, in the
// spec's order (l3CacheSchema, memBwSchema, then schemata): one write a
// line, which the kernel takes on its own, so that a refusal names its
// field.
func (g *Group) writeSchemata(r *specs.LinuxIntelRdt) error {
	ls := lines(r)
	if len(ls) == 0 {
		return nil
	}
	f, err := os.OpenFile(filepath.Join(g.Dir, "schemata"), os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("linux.intelRdt: %w", err)
	}
	defer f.Close()
	for _, l := range ls {
		if _, err := f.WriteString(l.text + "\n"); err != nil {
			return fmt.Errorf("%s %q: resctrl refused it: %w%s", l.field, l.text, unwrapPath(err), lastStatus(g.root))
		}
	}
	return nil
}

// compareSchemata checks that a closID group that exists already has the
// allocations the config gives it (runtime-spec: an error if not).
func (g *Group) compareSchemata(r *specs.LinuxIntelRdt) error {
	ls := lines(r)
	if len(ls) == 0 {
		return nil
	}
	b, err := os.ReadFile(filepath.Join(g.Dir, "schemata"))
	if err != nil {
		return fmt.Errorf("linux.intelRdt.closID %q: %w", r.ClosID, err)
	}
	have := parseSchemata(string(b))
	for _, l := range ls {
		if d := differs(l, have); d != "" {
			return fmt.Errorf("%s %q: the existing group of closID %q differs: %s", l.field, l.text, r.ClosID, d)
		}
	}
	return nil
}

// Tasks are the `tasks` files a process joining the container writes
// itself to, in order: the control group, then the monitoring group (the
// kernel moves a task into a monitoring group of its control group only).
func (g *Group) Tasks() []string {
	if g == nil {
		return nil
	}
	t := []string{filepath.Join(g.Dir, "tasks")}
	if g.MonDir != "" {
		t = append(t, filepath.Join(g.MonDir, "tasks"))
	}
	return t
}

// Remove removes what was made for the container once its processes are
// gone: its monitoring group, and the control group made for it. A group
// closID named is kept, unless the create that made it failed (aborted)
// and no other container's task has joined it since. What is gone
// already is no error.
func Remove(g *Group, aborted bool) error {
	if g == nil {
		return nil
	}
	if g.MonDir != "" {
		if err := rmdirGroup(g.MonDir); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("linux.intelRdt: remove the monitoring group: %w", err)
		}
	}
	if !g.Made || (g.Keep && (!aborted || !noTasks(g.Dir))) {
		return nil
	}
	if err := rmdirGroup(g.Dir); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("linux.intelRdt: remove the resctrl group: %w", err)
	}
	return nil
}

// noTasks: the group's tasks file lists none.
func noTasks(dir string) bool {
	b, err := os.ReadFile(filepath.Join(dir, "tasks"))
	return err == nil && strings.TrimSpace(string(b)) == ""
}

// lastStatus is the kernel's own word on the last resctrl command that
// failed (info/last_cmd_status), when it has one.
func lastStatus(root string) string {
	b, err := os.ReadFile(filepath.Join(root, "info", "last_cmd_status"))
	if s := strings.TrimSpace(string(b)); err == nil && s != "" && s != "ok" {
		return " (resctrl: " + strings.ReplaceAll(s, "\n", "; ") + ")"
	}
	return ""
}

// unwrapPath keeps an error's reason without the path a PathError repeats.
func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
