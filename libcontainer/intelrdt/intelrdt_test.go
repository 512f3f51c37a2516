package intelrdt

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

const rootSchemata = "    L3:0=7ff;1=7ff\n    MB:0=100;1=100\n"

// fakeResctrl is a resctrl tree in a temporary directory: info/ with the
// given resources, the default group's files, and a mkdir that makes a
// group's files as the kernel does (a monitoring group gets only tasks).
func fakeResctrl(t *testing.T, resources ...string) string {
	t.Helper()
	root := t.TempDir()
	for _, r := range resources {
		must(t, os.MkdirAll(filepath.Join(root, "info", r), 0o755))
	}
	write(t, filepath.Join(root, "info", "last_cmd_status"), "ok\n")
	write(t, filepath.Join(root, "schemata"), rootSchemata)
	write(t, filepath.Join(root, "tasks"), "1\n")
	must(t, os.Mkdir(filepath.Join(root, "mon_groups"), 0o755))
	old, oldRm := mkdirGroup, rmdirGroup
	rmdirGroup = func(dir string) error {
		if !exists(dir) {
			return os.Remove(dir)
		}
		return os.RemoveAll(dir)
	}
	mkdirGroup = func(dir string) error {
		if err := os.Mkdir(dir, 0o755); err != nil {
			return err
		}
		write(t, filepath.Join(dir, "tasks"), "")
		if filepath.Base(filepath.Dir(dir)) == "mon_groups" {
			return nil
		}
		write(t, filepath.Join(dir, "schemata"), "")
		return os.Mkdir(filepath.Join(dir, "mon_groups"), 0o755)
	}
	t.Cleanup(func() { mkdirGroup, rmdirGroup = old, oldRm })
	return root
}

// existingGroup makes a group as an administrator would, with its schemata.
func existingGroup(t *testing.T, root, name, schemata string) string {
	t.Helper()
	dir := filepath.Join(root, name)
	must(t, mkdirGroup(dir))
	write(t, filepath.Join(dir, "schemata"), schemata)
	return dir
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func write(t *testing.T, path, s string) {
	t.Helper()
	must(t, os.WriteFile(path, []byte(s), 0o644))
}

func read(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	must(t, err)
	return string(b)
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// apply is Open then Make, as create does.
func apply(root, id string, r *specs.LinuxIntelRdt) (*Group, error) {
	g, err := Open(root, id, r)
	if err != nil {
		return nil, err
	}
	return g, g.Make(id, r)
}

func wantErr(t *testing.T, err error, want ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("accepted, want an error saying %q", want)
	}
	if strings.Contains(err.Error(), "\n") {
		t.Errorf("error of more than one line: %q", err)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not say %q", err, w)
		}
	}
}

func TestValidate(t *testing.T) {
	for _, c := range []struct {
		r    specs.LinuxIntelRdt
		want string
	}{
		{specs.LinuxIntelRdt{ClosID: "."}, `linux.intelRdt.closID "."`},
		{specs.LinuxIntelRdt{ClosID: ".."}, `linux.intelRdt.closID ".."`},
		{specs.LinuxIntelRdt{ClosID: "../escape"}, `linux.intelRdt.closID "../escape"`},
		{specs.LinuxIntelRdt{ClosID: "a/b"}, `linux.intelRdt.closID "a/b"`},
		{specs.LinuxIntelRdt{ClosID: "info"}, `linux.intelRdt.closID "info": names a file of resctrl's own`},
		{specs.LinuxIntelRdt{ClosID: "mon_groups"}, `linux.intelRdt.closID "mon_groups"`},
		{specs.LinuxIntelRdt{MemBwSchema: "L3:0=f"}, `linux.intelRdt.memBwSchema "L3:0=f": must be one line starting with MB:`},
		{specs.LinuxIntelRdt{MemBwSchema: "MB:0=20\nMB:1=30"}, `linux.intelRdt.memBwSchema "MB:0=20\nMB:1=30"`},
		{specs.LinuxIntelRdt{MemBwSchema: "MB:0=x y"}, `linux.intelRdt.memBwSchema "MB:0=x y": not a schemata line`},
		{specs.LinuxIntelRdt{Schemata: []string{"L2:0=f", "L3:0=f\nMB:0=20"}}, `linux.intelRdt.schemata[1] "L3:0=f\nMB:0=20": must not contain a newline`},
		{specs.LinuxIntelRdt{Schemata: []string{"L2:0=f", "garbage"}}, `linux.intelRdt.schemata[1] "garbage": not a schemata line`},
		{specs.LinuxIntelRdt{Schemata: []string{"L2:"}}, `linux.intelRdt.schemata[0] "L2:"`},
		{specs.LinuxIntelRdt{Schemata: []string{"L2:a=f"}}, `linux.intelRdt.schemata[0] "L2:a=f"`},
		{specs.LinuxIntelRdt{L3CacheSchema: "L3 0=ff"}, `linux.intelRdt.l3CacheSchema "L3 0=ff"`},
		{specs.LinuxIntelRdt{L3CacheSchema: "L3CODE:0=f\nL3DATA 0=f"}, `linux.intelRdt.l3CacheSchema "L3DATA 0=f"`},
	} {
		wantErr(t, Validate(&c.r), c.want)
	}
	for _, r := range []specs.LinuxIntelRdt{
		{},
		{ClosID: "/"},
		{ClosID: "guaranteed_group", Schemata: []string{"L3:0=7f0;1=1f", "L2:0=f;1=f;2=f;3=f", "MB:0=20;1=70"}},
		{L3CacheSchema: "L3CODE:0=f;1=f\nL3DATA:0=f0;1=f0", MemBwSchema: "MB: 0=20 ; 1=70", EnableMonitoring: true},
	} {
		if err := Validate(&r); err != nil {
			t.Errorf("%+v: %v", r, err)
		}
	}
}

// A group of the container's own: made, its schemata written line by line
// in the spec's order (l3CacheSchema, memBwSchema, schemata), joined
// through its tasks, removed at delete.
func TestOwnGroup(t *testing.T) {
	root := fakeResctrl(t, "L3", "MB", "L2")
	r := &specs.LinuxIntelRdt{L3CacheSchema: "L3:0=7f0;1=1f", MemBwSchema: "MB:0=20;1=70", Schemata: []string{"L2:0=f", "MB:0=30"}}
	g, err := apply(root, "c1", r)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(root, "c1")
	if *g != (Group{Dir: dir, Made: true, root: root}) {
		t.Errorf("group %+v", *g)
	}
	if got, want := read(t, filepath.Join(dir, "schemata")), "L3:0=7f0;1=1f\nMB:0=20;1=70\nL2:0=f\nMB:0=30\n"; got != want {
		t.Errorf("schemata written %q, want %q", got, want)
	}
	if got := read(t, filepath.Join(root, "schemata")); got != rootSchemata {
		t.Errorf("the default group's schemata changed: %q", got)
	}
	if got, want := g.Tasks(), []string{filepath.Join(dir, "tasks")}; !slices.Equal(got, want) {
		t.Errorf("tasks %v, want %v", got, want)
	}
	must(t, Remove(g, false))
	if exists(dir) {
		t.Error("the container's group is left after delete")
	}
	must(t, Remove(g, false)) // gone already: no error
}

// With no schemata, no closID: the group is made, and nothing is written
// to any schemata file.
func TestOwnGroupNoSchemata(t *testing.T) {
	root := fakeResctrl(t, "L3")
	g, err := apply(root, "c1", &specs.LinuxIntelRdt{})
	if err != nil {
		t.Fatal(err)
	}
	if got := read(t, filepath.Join(root, "c1", "schemata")); got != "" || !g.Made {
		t.Errorf("schemata %q, made %v: want nothing written to a group made", got, g.Made)
	}
}

// A group named after the container that exists already is not the
// container's: refused, and left as it was.
func TestOwnNameExists(t *testing.T) {
	root := fakeResctrl(t, "L3")
	dir := existingGroup(t, root, "c1", "L3:0=3\n")
	_, err := apply(root, "c1", &specs.LinuxIntelRdt{L3CacheSchema: "L3:0=f"})
	wantErr(t, err, "linux.intelRdt", dir, `container "c1"`, "exists already")
	if got := read(t, filepath.Join(dir, "schemata")); got != "L3:0=3\n" {
		t.Errorf("its schemata were written: %q", got)
	}
}

// closID with no schemata joins a group that must exist.
func TestClosIDOnly(t *testing.T) {
	root := fakeResctrl(t, "L3")
	_, err := apply(root, "c1", &specs.LinuxIntelRdt{ClosID: "missing"})
	wantErr(t, err, `linux.intelRdt.closID "missing": no such resctrl group`, "must exist")
	if exists(filepath.Join(root, "missing")) {
		t.Error("a group was made for a closID without schemata")
	}
	dir := existingGroup(t, root, "shared", "L3:0=3\n")
	g, err := apply(root, "c1", &specs.LinuxIntelRdt{ClosID: "shared"})
	if err != nil {
		t.Fatal(err)
	}
	if g.Made || !g.Keep || !slices.Equal(g.Tasks(), []string{filepath.Join(dir, "tasks")}) {
		t.Errorf("group %+v tasks %v", *g, g.Tasks())
	}
	must(t, Remove(g, true))
	if !exists(dir) || read(t, filepath.Join(dir, "schemata")) != "L3:0=3\n" {
		t.Error("a pre-existing group was removed or written")
	}
	// "/" is the default group, the root
	g, err = apply(root, "c1", &specs.LinuxIntelRdt{ClosID: "/"})
	if err != nil || !slices.Equal(g.Tasks(), []string{filepath.Join(root, "tasks")}) {
		t.Errorf("closID /: %v %v", g, err)
	}
	must(t, Remove(g, true))
	if !exists(filepath.Join(root, "tasks")) {
		t.Error("the root was removed")
	}
}

// A closID group that exists is compared with the config (as the kernel
// prints it: padded, without leading zeros), never written; delete keeps it.
func TestClosIDExistingCompared(t *testing.T) {
	root := fakeResctrl(t, "L3", "MB", "L2")
	const have = "    L3:0=7f0;1=01f\n    MB:0=20;1=70\n"
	dir := existingGroup(t, root, "shared", have)
	g, err := apply(root, "c1", &specs.LinuxIntelRdt{ClosID: "shared", L3CacheSchema: "L3:0=07F0", MemBwSchema: "MB:1=70;0=20"})
	if err != nil {
		t.Fatal(err)
	}
	if g.Made {
		t.Error("a pre-existing group taken as made")
	}
	for _, c := range []struct {
		r    specs.LinuxIntelRdt
		want []string
	}{
		{specs.LinuxIntelRdt{ClosID: "shared", L3CacheSchema: "L3:0=ff"}, []string{`linux.intelRdt.l3CacheSchema "L3:0=ff"`, `closID "shared" differs: it has L3:0=7f0`}},
		{specs.LinuxIntelRdt{ClosID: "shared", MemBwSchema: "MB:0=20;2=70"}, []string{`linux.intelRdt.memBwSchema "MB:0=20;2=70"`, "it has no MB domain 2"}},
		{specs.LinuxIntelRdt{ClosID: "shared", Schemata: []string{"MB:0=20", "L2:0=f"}}, []string{`linux.intelRdt.schemata[1] "L2:0=f"`, "it has no L2 line"}},
	} {
		_, err := apply(root, "c1", &c.r)
		wantErr(t, err, c.want...)
	}
	must(t, Remove(g, false))
	if got := read(t, filepath.Join(dir, "schemata")); got != have {
		t.Errorf("the existing group's schemata changed: %q", got)
	}
}

// A closID group made for the container is kept at delete (others may
// share it), and removed when the create fails, if no task joined it.
func TestClosIDMade(t *testing.T) {
	root := fakeResctrl(t, "L3")
	r := &specs.LinuxIntelRdt{ClosID: "new", L3CacheSchema: "L3:0=f"}
	g, err := apply(root, "c1", r)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(root, "new")
	if !g.Made || !g.Keep || read(t, filepath.Join(dir, "schemata")) != "L3:0=f\n" {
		t.Fatalf("group %+v", *g)
	}
	must(t, Remove(g, false))
	if !exists(dir) {
		t.Fatal("delete removed a group closID names")
	}
	write(t, filepath.Join(dir, "tasks"), "4242\n")
	must(t, Remove(g, true))
	if !exists(dir) {
		t.Fatal("a failed create removed a group another task has joined")
	}
	write(t, filepath.Join(dir, "tasks"), "")
	must(t, Remove(g, true))
	if exists(dir) {
		t.Error("a failed create left the closID group it made")
	}
}

// enableMonitoring: a monitoring group named after the container under
// the control group, joined after it, removed at delete (its control
// group too when it was the container's own).
func TestMonitoring(t *testing.T) {
	root := fakeResctrl(t, "L3", "L3_MON")
	g, err := apply(root, "c1", &specs.LinuxIntelRdt{EnableMonitoring: true})
	if err != nil {
		t.Fatal(err)
	}
	mon := filepath.Join(root, "c1", "mon_groups", "c1")
	if want := []string{filepath.Join(root, "c1", "tasks"), filepath.Join(mon, "tasks")}; g.MonDir != mon || !slices.Equal(g.Tasks(), want) {
		t.Errorf("monitoring group %q tasks %v, want %q %v", g.MonDir, g.Tasks(), mon, want)
	}
	must(t, Remove(g, false))
	if exists(filepath.Join(root, "c1")) {
		t.Error("the container's group is left")
	}

	shared := existingGroup(t, root, "shared", "")
	g, err = apply(root, "c2", &specs.LinuxIntelRdt{ClosID: "shared", EnableMonitoring: true})
	if err != nil {
		t.Fatal(err)
	}
	if g.MonDir != filepath.Join(shared, "mon_groups", "c2") || !exists(g.MonDir) {
		t.Errorf("monitoring group %q", g.MonDir)
	}
	_, err = apply(root, "c2", &specs.LinuxIntelRdt{ClosID: "shared", EnableMonitoring: true})
	wantErr(t, err, "linux.intelRdt.enableMonitoring", "exists already")
	must(t, Remove(g, false))
	if exists(g.MonDir) || !exists(shared) {
		t.Error("delete: want the monitoring group gone, the shared group kept")
	}

	g, err = apply(root, "c3", &specs.LinuxIntelRdt{ClosID: "/", EnableMonitoring: true})
	if err != nil || g.MonDir != filepath.Join(root, "mon_groups", "c3") {
		t.Errorf("closID / with monitoring: %v %v", g, err)
	}
	must(t, Remove(g, false))
	if exists(filepath.Join(root, "mon_groups", "c3")) || !exists(filepath.Join(root, "schemata")) {
		t.Error("closID /: want the monitoring group gone and the root kept")
	}
}

// What this host's resctrl lacks is refused by field before anything is
// made.
func TestHostLacks(t *testing.T) {
	root := fakeResctrl(t, "L3")
	_, err := apply(root, "c1", &specs.LinuxIntelRdt{MemBwSchema: "MB:0=20"})
	wantErr(t, err, `linux.intelRdt.memBwSchema "MB:0=20": this host's resctrl has no MB resource`)
	_, err = apply(root, "c1", &specs.LinuxIntelRdt{EnableMonitoring: true})
	wantErr(t, err, "linux.intelRdt.enableMonitoring: this host's resctrl has no monitoring")
	if exists(filepath.Join(root, "c1")) {
		t.Error("a group was made for a refused config")
	}
}

// A line the kernel refuses names its field, with the kernel's reason
// (info/last_cmd_status); the group made stays in g for Remove.
func TestWriteRefused(t *testing.T) {
	root := fakeResctrl(t, "L3", "MB")
	old := mkdirGroup
	mkdirGroup = func(dir string) error {
		if err := old(dir); err != nil {
			return err
		}
		write(t, filepath.Join(root, "info", "last_cmd_status"), "MB value 5 out of range [10,100]\n")
		os.Remove(filepath.Join(dir, "schemata"))
		return os.Symlink("/dev/full", filepath.Join(dir, "schemata"))
	}
	g, err := apply(root, "c1", &specs.LinuxIntelRdt{MemBwSchema: "MB:0=5"})
	wantErr(t, err, `linux.intelRdt.memBwSchema "MB:0=5": resctrl refused it: no space left on device (resctrl: MB value 5 out of range [10,100])`)
	if !g.Made {
		t.Fatal("the group made is not recorded")
	}
	must(t, Remove(g, true))
	if exists(g.Dir) {
		t.Error("the group is left")
	}
}

// Root reads the mount table: on a host without resctrl it names the field.
func TestRoot(t *testing.T) {
	mi, err := os.ReadFile("/proc/self/mountinfo")
	must(t, err)
	root, err := Root()
	if strings.Contains(string(mi), " - resctrl ") {
		if err != nil || root == "" {
			t.Errorf("resctrl is mounted: %q %v", root, err)
		}
		return
	}
	wantErr(t, err, "linux.intelRdt: no resctrl filesystem is mounted")
	if root != "" {
		t.Errorf("root %q", root)
	}
}
