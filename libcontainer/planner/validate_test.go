package planner

import (
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// validateTestNs parses types ("user", "uts", ...; "type=path" joins).
func validateTestNs(t *testing.T, types ...string) *Namespaces {
	t.Helper()
	var l specs.Linux
	mount := true // every container needs a new mount namespace; "-mount" leaves it out
	for _, s := range types {
		typ, path, _ := strings.Cut(s, "=")
		if typ == "-mount" || typ == "mount" {
			mount = false
			if typ == "-mount" {
				continue
			}
		}
		l.Namespaces = append(l.Namespaces, specs.LinuxNamespace{Type: specs.LinuxNamespaceType(typ), Path: path})
	}
	if mount {
		l.Namespaces = append(l.Namespaces, specs.LinuxNamespace{Type: specs.MountNamespace})
	}
	n, err := ParseNamespaces(&l)
	if err != nil {
		t.Fatal(err)
	}
	return &n
}

func validateTestMap(c, h, size uint32) specs.LinuxIDMapping {
	return specs.LinuxIDMapping{ContainerID: c, HostID: h, Size: size}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	ids := []specs.LinuxIDMapping{validateTestMap(0, 100000, 65536)}
	many := make([]specs.LinuxIDMapping, 341)
	for i := range many {
		many[i] = validateTestMap(uint32(i), uint32(1000+i), 1)
	}
	for _, c := range []struct {
		name string
		ns   []string
		spec specs.Spec // Root is filled in unless noRoot
		// want is the exact error, "" for none
		want   string
		noRoot bool
	}{
		{name: "minimal", ns: []string{"mount"}},
		// runtime-spec: a type left out is the runtime's; a path is joined
		{name: "no mount namespace", ns: []string{"-mount", "pid"}},
		{name: "joined mount namespace", ns: []string{"mount=/proc/1/ns/mnt"}},
		{name: "no root", noRoot: true, want: "root.path: missing"},
		{name: "hostname without uts", ns: []string{"mount"}, spec: specs.Spec{Hostname: "box"},
			want: `hostname "box": needs a new UTS namespace (linux.namespaces has none)`},
		{name: "hostname with new uts", ns: []string{"uts"}, spec: specs.Spec{Hostname: "box"}},
		{name: "hostname with joined uts", ns: []string{"uts=/proc/1/ns/uts"}, spec: specs.Spec{Hostname: "box"}},
		{name: "domainname without uts", ns: []string{"pid"}, spec: specs.Spec{Domainname: "example.org"},
			want: `domainname "example.org": needs a new UTS namespace (linux.namespaces has none)`},
		{name: "domainname with uts", ns: []string{"uts"}, spec: specs.Spec{Domainname: "example.org"}},
		{name: "uid mappings without userns", ns: []string{"mount"},
			spec: specs.Spec{Linux: &specs.Linux{UIDMappings: ids, GIDMappings: ids}},
			want: "linux.uidMappings: given without a user namespace"},
		{name: "new userns with mappings", ns: []string{"user"},
			spec: specs.Spec{Linux: &specs.Linux{UIDMappings: ids, GIDMappings: ids}}},
		{name: "joined userns with mappings", ns: []string{"user=/proc/1/ns/user"},
			spec: specs.Spec{Linux: &specs.Linux{UIDMappings: ids, GIDMappings: ids}}},
		{name: "joined userns without mappings", ns: []string{"user=/proc/1/ns/user"}, spec: specs.Spec{Linux: &specs.Linux{}}},
		{name: "new userns without uid mappings", ns: []string{"user"},
			spec: specs.Spec{Linux: &specs.Linux{GIDMappings: ids}},
			want: "linux.uidMappings, linux.gidMappings: a new user namespace needs both"},
		{name: "new userns without gid mappings", ns: []string{"user"},
			spec: specs.Spec{Linux: &specs.Linux{UIDMappings: ids}},
			want: "linux.uidMappings, linux.gidMappings: a new user namespace needs both"},
		{name: "new userns without linux", ns: []string{"user"}},
		{name: "uid overlap inside", ns: []string{"user"}, spec: specs.Spec{Linux: &specs.Linux{
			UIDMappings: []specs.LinuxIDMapping{validateTestMap(0, 1000, 10), validateTestMap(5, 2000, 10)}, GIDMappings: ids}},
			want: "linux.uidMappings[1] containerID 5 size 10: overlaps linux.uidMappings[0] inside the container"},
		{name: "uid overlap outside", ns: []string{"user"}, spec: specs.Spec{Linux: &specs.Linux{
			UIDMappings: []specs.LinuxIDMapping{validateTestMap(0, 1000, 10), validateTestMap(100, 1009, 10)}, GIDMappings: ids}},
			want: "linux.uidMappings[1] hostID 1009 size 10: overlaps linux.uidMappings[0] on the host"},
		{name: "uid overlap with the third", ns: []string{"user"}, spec: specs.Spec{Linux: &specs.Linux{
			UIDMappings: []specs.LinuxIDMapping{validateTestMap(0, 1000, 1), validateTestMap(10, 2000, 1), validateTestMap(8, 3000, 5)}, GIDMappings: ids}},
			want: "linux.uidMappings[2] containerID 8 size 5: overlaps linux.uidMappings[1] inside the container"},
		{name: "gid overlap inside", ns: []string{"user"}, spec: specs.Spec{Linux: &specs.Linux{
			UIDMappings: ids, GIDMappings: []specs.LinuxIDMapping{validateTestMap(0, 1000, 10), validateTestMap(9, 5000, 1)}}},
			want: "linux.gidMappings[1] containerID 9 size 1: overlaps linux.gidMappings[0] inside the container"},
		{name: "gid overlap outside", ns: []string{"user"}, spec: specs.Spec{Linux: &specs.Linux{
			UIDMappings: ids, GIDMappings: []specs.LinuxIDMapping{validateTestMap(10, 1000, 10), validateTestMap(0, 995, 6)}}},
			want: "linux.gidMappings[1] hostID 995 size 6: overlaps linux.gidMappings[0] on the host"},
		{name: "adjacent ranges do not overlap", ns: []string{"user"}, spec: specs.Spec{Linux: &specs.Linux{
			UIDMappings: []specs.LinuxIDMapping{validateTestMap(0, 1000, 10), validateTestMap(10, 1010, 10), validateTestMap(20, 990, 10)},
			GIDMappings: ids}}},
		{name: "ranges at the top of uint32 do not wrap", ns: []string{"user"}, spec: specs.Spec{Linux: &specs.Linux{
			UIDMappings: []specs.LinuxIDMapping{validateTestMap(4294967290, 4294967290, 5), validateTestMap(0, 0, 10)},
			GIDMappings: ids}}},
		{name: "uid size 0", ns: []string{"user"}, spec: specs.Spec{Linux: &specs.Linux{
			UIDMappings: []specs.LinuxIDMapping{validateTestMap(0, 1000, 1), validateTestMap(1, 2000, 0)}, GIDMappings: ids}},
			want: "linux.uidMappings[1]: size 0"},
		{name: "gid size 0", ns: []string{"user"}, spec: specs.Spec{Linux: &specs.Linux{
			UIDMappings: ids, GIDMappings: []specs.LinuxIDMapping{validateTestMap(0, 1000, 0)}}},
			want: "linux.gidMappings[0]: size 0"},
		{name: "too many ranges", ns: []string{"user"}, spec: specs.Spec{Linux: &specs.Linux{UIDMappings: many, GIDMappings: ids}},
			want: "linux.uidMappings: 341 ranges, the kernel takes at most 340"},
		{name: "340 ranges", ns: []string{"user"}, spec: specs.Spec{Linux: &specs.Linux{UIDMappings: many[:340], GIDMappings: ids}}},
		{name: "timeOffsets without time ns", ns: []string{"pid"}, spec: specs.Spec{Linux: &specs.Linux{
			TimeOffsets: map[string]specs.LinuxTimeOffset{"monotonic": {Secs: 10}}}},
			want: "linux.timeOffsets: needs a new time namespace"},
		{name: "timeOffsets with a joined time ns", ns: []string{"time=/proc/1/ns/time"}, spec: specs.Spec{Linux: &specs.Linux{
			TimeOffsets: map[string]specs.LinuxTimeOffset{"boottime": {Secs: 10}}}},
			want: "linux.timeOffsets: needs a new time namespace"},
		{name: "timeOffsets unknown clock", ns: []string{"time"}, spec: specs.Spec{Linux: &specs.Linux{
			TimeOffsets: map[string]specs.LinuxTimeOffset{"realtime": {Secs: 10}}}},
			want: `linux.timeOffsets "realtime": unknown clock (monotonic or boottime)`},
		{name: "timeOffsets both clocks", ns: []string{"time"}, spec: specs.Spec{Linux: &specs.Linux{
			TimeOffsets: map[string]specs.LinuxTimeOffset{"monotonic": {Secs: 1}, "boottime": {Secs: -1, Nanosecs: 5}}}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := c.spec
			if !c.noRoot {
				s.Root = &specs.Root{Path: "rootfs"}
			}
			err := Validate(&s, validateTestNs(t, c.ns...))
			switch {
			case c.want == "" && err != nil:
				t.Errorf("unexpected error: %v", err)
			case c.want != "" && err == nil:
				t.Errorf("no error, want %q", c.want)
			case c.want != "" && err.Error() != c.want:
				t.Errorf("error %q, want %q", err, c.want)
			}
		})
	}
}

// Mappings given without a user namespace: the error names the field that
// is actually set.
func TestValidateMappingsWithoutUsernsNamesTheField(t *testing.T) {
	t.Parallel()
	ids := []specs.LinuxIDMapping{validateTestMap(0, 1000, 1)}
	for _, c := range []struct {
		name  string
		l     specs.Linux
		field string
	}{
		{"uid only", specs.Linux{UIDMappings: ids}, "linux.uidMappings"},
		{"gid only", specs.Linux{GIDMappings: ids}, "linux.gidMappings"},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := specs.Spec{Root: &specs.Root{Path: "r"}, Linux: &c.l}
			err := Validate(&s, validateTestNs(t, "mount"))
			if err == nil {
				t.Fatal("mappings without a user namespace accepted")
			}
			if !strings.HasPrefix(err.Error(), c.field+":") {
				t.Errorf("error %q does not start with the field that is set, %s", err, c.field)
			}
		})
	}
}

func TestMapsText(t *testing.T) {
	t.Parallel()
	in := []specs.LinuxIDMapping{validateTestMap(1000, 2000, 1), validateTestMap(0, 100000, 1000), validateTestMap(1001, 101000, 64535)}
	orig := append([]specs.LinuxIDMapping(nil), in...)
	want := "0 100000 1000\n1000 2000 1\n1001 101000 64535\n"
	if got := MapsText(in); got != want {
		t.Errorf("MapsText = %q, want %q", got, want)
	}
	for i := range in {
		if in[i] != orig[i] {
			t.Fatalf("MapsText reordered its argument: %v, was %v", in, orig)
		}
	}
	if got := MapsText(nil); got != "" {
		t.Errorf("MapsText(nil) = %q, want \"\"", got)
	}
	if got := MapsText([]specs.LinuxIDMapping{validateTestMap(0, 4294967294, 1)}); got != "0 4294967294 1\n" {
		t.Errorf("MapsText of a large id = %q", got)
	}
}
